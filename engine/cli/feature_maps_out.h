/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* feature_maps_out.h - ens-classify --save-feature-maps: timm's features_only maps and the
 * forward_features (head) map of every image, gathered batch by batch and saved as one
 * safetensors file, NCHW, keys named after timm's modules ("blocks.0" .. "blocks.6", "head"). */
#ifndef ENS_CLI_FEATURE_MAPS_OUT_H
#define ENS_CLI_FEATURE_MAPS_OUT_H

#include <stddef.h>

#include "ens.h"

typedef struct {
  ens_map_info info[ENS_FEATURE_MAPS + 1]; /* the head map last */
  float *all[ENS_FEATURE_MAPS + 1];        /* [images, C, H, W] each */
  int images;
} ens_fmaps;

/* Sizes and allocates the maps of `images` images of session s. 0, or -1 with a message. */
int ens_fmaps_init(ens_fmaps *f, const ens_session *s, int images, char *errbuf, size_t errlen);

/* Points out's maps at images [first, first + n) of the gathered maps. */
void ens_fmaps_target(ens_fmaps *f, int first, ens_outputs *out);

int ens_fmaps_save(const ens_fmaps *f, const char *path, char *errbuf, size_t errlen);
void ens_fmaps_free(ens_fmaps *f);

#endif
