/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dataset.h - in-memory uint8 image datasets for training (internal).
 *
 * A dataset holds n images of one size (height x width x channels, channels 1 or 3, packed
 * HWC uint8, the layout the augmentation works on), an int label per image (-1 = unlabeled)
 * and optionally soft targets [n, num_classes] for the rows flagged in soft_rows (the
 * pseudo-labels of Noisy Student). Loaders: IDX (MNIST-format) image + label files, and an
 * image-folder tree root/<class>/... (see ens_dataset_from_folder). */
#ifndef ENS_DATASET_H
#define ENS_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "ens.h"

typedef struct {
  int n;                       /* images */
  int height, width, channels; /* channels 1 (gray) or 3 (RGB) */
  uint8_t *pixels;             /* n x height x width x channels */
  int *labels;                 /* n; -1 = unlabeled (or label unknown) */
  int num_classes;             /* K */
  float *soft;                 /* NULL, or n x K soft targets */
  uint8_t *soft_rows;          /* with soft: 1 = train sample i on its soft row */
  char **class_names;          /* NULL, or K names */
} ens_dataset;

/* Fashion-MNIST's ten class names, in label order. */
extern const char *const ens_fashion_mnist_classes[10];

static inline size_t ens_dataset_image_bytes(const ens_dataset *d)
{
  return (size_t)d->height * (size_t)d->width * (size_t)d->channels;
}

static inline const uint8_t *ens_dataset_image(const ens_dataset *d, int i)
{
  return d->pixels + (size_t)i * ens_dataset_image_bytes(d);
}

/* An empty dataset of n images of the given shape (pixels zeroed, labels -1, no soft
 * targets, no class names). n may be 0. */
ens_status ens_dataset_alloc(ens_dataset *d, int n, int height, int width, int channels,
                             int num_classes, ens_error *err);

/* Images from an IDX images file (count x rows x cols, channels 1) and labels from an IDX
 * labels file (labels_path NULL: all -1). Plain or .gz. num_classes 0: max label + 1; a
 * label >= num_classes is an error naming the file. */
ens_status ens_dataset_from_idx(const char *images_path, const char *labels_path, int num_classes,
                                ens_dataset *out, ens_error *err);

/* Fashion-MNIST from a directory holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
 * (Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist): the 60,000 training
 * images (train 1) or the 10,000 test images (train 0), 10 classes with their names. */
ens_status ens_dataset_fashion_mnist(const char *dir, int train, ens_dataset *out, ens_error *err);

/* Copies of class names (names[0..num_classes)) into d->class_names. */
ens_status ens_dataset_set_class_names(ens_dataset *d, const char *const *names, ens_error *err);

/* Copies soft targets soft[n x d->num_classes] and flags every row as soft (rows = NULL) or
 * the rows with rows[i] != 0. */
ens_status ens_dataset_set_soft(ens_dataset *d, const float *soft, const uint8_t *rows,
                                ens_error *err);

/* out = src[idx[0]], ..., src[idx[n-1]] (a copy; indices may repeat, e.g. to balance
 * classes). */
ens_status ens_dataset_subset(const ens_dataset *src, const int *idx, int n, ens_dataset *out,
                              ens_error *err);

/* out = a followed by b: same image shape and class count. Soft targets are kept for the
 * rows that have them (a row of a dataset without soft targets is not soft). Class names
 * come from a (or b). */
ens_status ens_dataset_concat(const ens_dataset *a, const ens_dataset *b, ens_dataset *out,
                              ens_error *err);

void ens_dataset_free(ens_dataset *d);

/* ---------------------------------------------------------------- image folders */

typedef struct {
  int size;                 /* stored images are size x size */
  int channels;             /* 3 (RGB) or 1 (Pillow's "L" conversion of the RGB crop) */
  float crop_pct;           /* timm's eval transform, like inference: 1.0 = no margin */
  ens_interp interpolation; /* DEFAULT = bicubic for a square crop, as inference */
  double val_split;         /* without train/ + val/ subtrees: fraction held out per class */
  uint64_t seed;            /* of the stratified split */
  int skip_bad;             /* 1: skip unreadable / corrupt images (counted), 0: fail */
  int threads;              /* decoding threads: 1 = this thread, <= 0 = all CPUs */
} ens_folder_options;

/* size 224, channels 3, crop_pct 1.0, DEFAULT interpolation, val_split 0, seed 0,
 * skip_bad 0, threads 0. */
void ens_folder_options_default(ens_folder_options *o);

/* Loads an image-folder tree. Classes are the sorted sub-folder names of root (or of
 * root/train when root has train/ and val/ sub-folders; val/ may then hold only some of the
 * classes, named like train's). Images are the files below a class folder (recursively, in
 * sorted order) ending in .jpg .jpeg .png .ppm .pgm (any case); other files are ignored.
 *
 * Each image is decoded to RGB and stored as inference would preprocess it
 * (ens_preprocess with the same size, crop_pct and interpolation, up to the uint8 crop):
 * shorter side resized to floor(size / crop_pct) with Pillow's resampler, then the center
 * size x size crop; channels 1 converts that crop with Pillow's "L" weights
 * (R 0.299, G 0.587, B 0.114 in 16-bit fixed point). So a model trained on these images
 * sees the pixels ens_classify / the GStreamer element feed it for the same picture when
 * they use the same size / crop_pct / interpolation.
 *
 * Without train/ + val/, val_split > 0 holds out round(val_split x count) images of each
 * class (at least one when the class has two or more), chosen with a seeded shuffle; val
 * keeps the original order. val may be NULL (val/ ignored, val_split must be 0). *skipped
 * (may be NULL) receives the number of images skipped with skip_bad. Errors name the
 * folder or file: missing root, no class folders, a class folder without images, an
 * unreadable or corrupt image (without skip_bad; the first one in file order, whatever the
 * thread count). */
ens_status ens_dataset_from_folder(const char *root, const ens_folder_options *o,
                                   ens_dataset *train, ens_dataset *val, int *skipped,
                                   ens_error *err);

/* One picture of a folder dataset: decodes path and stores its inference-style o->size crop
 * (o->channels) into dst; rgb_tmp holds size x size x 3 bytes (used for channels 1). */
ens_status ens_folder_store_image(const char *path, const ens_folder_options *o, uint8_t *dst,
                                  uint8_t *rgb_tmp, ens_error *err);

/* ---------------------------------------------------------------- splits */

/* numpy's stratified head: for class c = 0..num_classes-1 in order, the first per_class of
 * default_rng(seed).permutation(flatnonzero(labels == c)) (one generator for all classes),
 * concatenated and sorted ascending. out: num_classes x per_class entries. A class with
 * fewer than per_class images is an error. */
ens_status ens_numpy_stratified_head(const int *labels, int n, int num_classes, int per_class,
                                     uint64_t seed, int64_t *out, ens_error *err);

/* The Fashion-MNIST labeled subset of the reference recipe: 600 per class, seed 0 (6,000
 * sorted indices into the 60,000 training images). */
ens_status ens_fashion_mnist_labeled_split(const int *train_labels, int n, int64_t *out,
                                           ens_error *err);

/* Indices of [0, n) not in sorted_idx (sorted, distinct), ascending; returns their count.
 * out has room for n entries. */
int ens_index_complement(const int64_t *sorted_idx, int k, int n, int *out);

#endif
