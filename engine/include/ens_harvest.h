/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens_harvest.h - public API of libens for harvesting unlabeled training samples: the uint8
 * picture a model sees (before normalisation) or the original region, and one sample of a
 * harvest directory (<stem>.png + <stem>.json sidecar holding the teacher's probabilities),
 * written atomically. The GStreamer element ensharvest writes such directories;
 * `ens-train noisy-student --unlabeled DIR` reads them (engine/train/dataset_harvest.h).
 *
 * The sidecar is one JSON object (format "ens-harvest-1"):
 *   {"format":"ens-harvest-1","image":"<stem>.png","save_size":"model"|"original",
 *    "width":W,"height":H,"model":"...","input_width":IW,"input_height":IH,"crop_pct":C,
 *    "interpolation":"bicubic"|"bilinear","pts":NS|null,"frame":N,"fresh":true|false,
 *    "buffer_pts":NS|null,"buffer_frame":N,"frame_width":FW,"frame_height":FH,
 *    "full_frame":true|false,"roi_id":ID,"roi_type":"..."|null,
 *    "box":{"x":X,"y":Y,"width":BW,"height":BH},
 *    "top":[{"id":I,"label":"...","prob":P},...],"num_classes":K|null,"probs":[K floats]|null}
 * pts / frame: the frame the model classified; buffer_pts / buffer_frame: the frame whose
 * pixels were saved (the same one unless a carried result was harvested); box: the region in
 * that frame's pixels; top: the top-k the pipeline attached (best first); probs: the full
 * softmax when the classifier provided it, else null (then num_classes is null too). */
#ifndef ENS_HARVEST_H
#define ENS_HARVEST_H

#include <stddef.h>
#include <stdint.h>

#include "ens.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ENS_HARVEST_FORMAT "ens-harvest-1"

/* The uint8 RGB picture ens_preprocess() normalises: img (restricted to roi when not NULL)
 * resized and center-cropped as p says. out: p->out_height x p->out_width x 3, packed. */
ens_status ens_preprocess_crop_u8(const ens_preprocess_params *p, const ens_image *img,
                                  const ens_rect *roi, uint8_t *out, ens_error *err);

/* roi of img (clipped to it; NULL = the whole image) converted to packed RGB at its own size
 * (YUV converted as ens_preprocess does). *out is malloc'd (free() it), *width x *height x 3. */
ens_status ens_image_region_rgb(const ens_image *img, const ens_rect *roi, uint8_t **out,
                                int *width, int *height, ens_error *err);

typedef enum {
  ENS_HARVEST_SIZE_MODEL = 0, /* the model's input crop (ens_preprocess_crop_u8) */
  ENS_HARVEST_SIZE_ORIGINAL,  /* the region at its size in the frame */
} ens_harvest_size;

/* What one sample records. Pointers are borrowed. */
typedef struct {
  const uint8_t *rgb; /* the picture, packed RGB, width x height */
  int width, height;
  ens_harvest_size save_size;
  const char *model;             /* model name */
  int input_width, input_height; /* the model's preprocessing */
  float crop_pct;                /* (recorded so a loader can undo or repeat it) */
  ens_interp interpolation;      /* BICUBIC or BILINEAR */
  int64_t pts;                   /* ns of the classified frame, < 0 = unknown */
  uint64_t frame;                /* index of the classified frame */
  int fresh;                     /* the saved pixels are the classified frame's */
  int64_t buffer_pts;            /* ns of the frame whose pixels are saved, < 0 unknown */
  uint64_t buffer_frame;         /* its index (counted by the harvester) */
  int frame_width, frame_height; /* of that frame */
  int full_frame, roi_id;        /* region: the frame, or ROI roi_id */
  const char *roi_type;          /* ROI type, NULL for the full frame */
  ens_rect box;                  /* the region in frame pixels */
  int n_top;                     /* top-k, best first (labels may be NULL) */
  const ens_class_score *top;
  int num_classes; /* the full softmax when probs is not NULL */
  const float *probs;
} ens_harvest_sample;

/* A sample encoded in memory: the PNG file and the sidecar text, ready to be stored. */
typedef struct {
  uint8_t *png;
  size_t png_size;
  char *json;
  size_t json_size;
} ens_harvest_blob;

/* Encodes s (PNG through libpng, default compression; the sidecar above, naming
 * "<stem>.png"). On failure *out is empty. */
ens_status ens_harvest_encode(const ens_harvest_sample *s, const char *stem, ens_harvest_blob *out,
                              ens_error *err);

void ens_harvest_blob_free(ens_harvest_blob *b);

/* Writes dir/<stem>.json, then dir/<stem>.png, each through a temporary file in dir renamed
 * into place, so a reader never sees a partial file and a PNG always has its sidecar (readers
 * take only stems with both). On failure nothing of the sample is left behind (the temporary
 * files and an already renamed sidecar are removed) and *sys_errno (may be NULL) receives the
 * errno of the failed call (ENOSPC for a full disk, EACCES / EROFS for an unwritable
 * directory); err names the file. */
ens_status ens_harvest_store(const char *dir, const char *stem, const ens_harvest_blob *b,
                             int *sys_errno, ens_error *err);

#ifdef __cplusplus
}
#endif

#endif /* ENS_HARVEST_H */
