/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_png.h - PNG decoding through libpng to packed 8-bit RGB (internal; image_io.c calls it
 * for data starting with the PNG signature). */
#ifndef ENS_IMAGE_PNG_H
#define ENS_IMAGE_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "ens.h"

/* Decodes a whole PNG held in memory. Errors name `name`: ENS_ERR_FORMAT for malformed or
 * truncated data (libpng's message), ENS_ERR_UNSUPPORTED above the pixel limit,
 * ENS_ERR_NOMEM. */
ens_status ens_decode_png(const uint8_t *data, size_t len, const char *name, uint64_t max_pixels,
                          ens_rgb_image *out, ens_error *err);

#endif
