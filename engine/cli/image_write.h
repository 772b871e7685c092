/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_write.h - writing 8-bit grey or RGB pictures for people to look at: PNG (libpng) or
 * binary PGM / PPM, atomically (a temporary file in the same directory, then rename). */
#ifndef ENS_IMAGE_WRITE_H
#define ENS_IMAGE_WRITE_H

#include <stdint.h>

#include "ens.h"

typedef enum { ENS_WRITE_PNG = 0, ENS_WRITE_PNM } ens_write_format;

/* pixels: packed rows of w * c bytes, c = 1 (grey) or 3 (RGB). PNM writes P5 for grey and P6
 * for RGB. On failure nothing is left at path (an existing file there is not touched). */
ens_status ens_image_write(const char *path, ens_write_format fmt, const uint8_t *pixels, int w,
                           int h, int c, ens_error *err);

#endif
