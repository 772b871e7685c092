/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* read_file.h - reading a whole file of bounded size into memory (internal). */
#ifndef ENS_READ_FILE_H
#define ENS_READ_FILE_H

#include <stddef.h>

#include "ens.h"

/* Reads all of path into a malloc'd *data (with one spare byte after the *len data bytes, so a
 * caller may NUL-terminate it). Errors name kind (what the file is: "image", "labels file")
 * and path in one style: ENS_ERR_IO ("cannot open <kind> '<path>': <strerror>", cannot read),
 * ENS_ERR_NOMEM, and too_big when the file has more than max_bytes. */
ens_status ens_read_file(const char *path, size_t max_bytes, ens_status too_big, const char *kind,
                         char **data, size_t *len, ens_error *err);

#endif
