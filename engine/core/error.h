/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* error.h - filling ens_error (internal). */
#ifndef ENS_ERROR_H
#define ENS_ERROR_H

#include "ens.h"

/* Sets err (if not NULL) to code + printf-style message; returns code, so callers can write
 * `return ens_fail(err, ENS_ERR_FORMAT, "%s: ...", path);`. */
ens_status ens_fail(ens_error *err, ens_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears err to ENS_OK / "". */
void ens_error_clear(ens_error *err);

#endif
