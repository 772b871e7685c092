/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* png_encode.h - 8-bit grey or RGB pictures encoded as PNG in memory (libpng; internal). */
#ifndef ENS_PNG_ENCODE_H
#define ENS_PNG_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "ens.h"

/* pixels: packed rows of w * c bytes, c = 1 (grey) or 3 (RGB). *out is malloc'd (free() it),
 * *size bytes: a complete PNG file (default compression, no interlacing). name is used in
 * messages. */
ens_status ens_png_encode(const uint8_t *pixels, int w, int h, int c, const char *name,
                          uint8_t **out, size_t *size, ens_error *err);

#endif
