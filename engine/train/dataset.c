/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dataset.c - the in-memory dataset: allocation, IDX loading, subsets, concatenation, soft
 * targets and class names (see dataset.h). */
#include "dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "idx.h"

const char *const ens_fashion_mnist_classes[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

#define MAX_CLASSES 100000

ens_status ens_dataset_alloc(ens_dataset *d, int n, int height, int width, int channels,
                             int num_classes, ens_error *err)
{
  if (!d)
    return ens_fail(err, ENS_ERR_ARG, "dataset: NULL output");
  memset(d, 0, sizeof *d);
  if (n < 0 || height < 1 || width < 1 || (channels != 1 && channels != 3) || num_classes < 0 ||
      num_classes > MAX_CLASSES)
    return ens_fail(err, ENS_ERR_ARG,
                    "dataset: bad shape: %d images of %dx%dx%d, %d classes (channels 1 or 3)", n,
                    height, width, channels, num_classes);
  d->n = n;
  d->height = height;
  d->width = width;
  d->channels = channels;
  d->num_classes = num_classes;
  size_t img = ens_dataset_image_bytes(d);
  d->pixels = calloc((size_t)n * img + 1, 1);
  d->labels = malloc(((size_t)n + 1) * sizeof *d->labels);
  if (!d->pixels || !d->labels) {
    ens_dataset_free(d);
    return ens_fail(err, ENS_ERR_NOMEM, "dataset: cannot allocate %d images of %dx%dx%d", n, height,
                    width, channels);
  }
  for (int i = 0; i < n; i++)
    d->labels[i] = -1;
  return ENS_OK;
}

ens_status ens_dataset_from_idx(const char *images_path, const char *labels_path, int num_classes,
                                ens_dataset *out, ens_error *err)
{
  if (!out || !images_path)
    return ens_fail(err, ENS_ERR_ARG, "ens_dataset_from_idx: NULL argument");
  memset(out, 0, sizeof *out);
  ens_idx_array im, lab;
  ens_status st = ens_idx_load_pair(images_path, labels_path, &im, &lab, err);
  if (st != ENS_OK)
    return st;
  int n = im.dims[0], k = num_classes;
  if (labels_path && k == 0)
    for (int i = 0; i < n; i++)
      if (lab.data[i] + 1 > k)
        k = lab.data[i] + 1;
  for (int i = 0; labels_path && i < n; i++)
    if (lab.data[i] >= k) {
      st = ens_fail(err, ENS_ERR_FORMAT, "%s: label %d of image %d is not below %d classes",
                    labels_path, lab.data[i], i, k);
      goto done;
    }
  if (im.dims[1] < 1 || im.dims[2] < 1) {
    st = ens_fail(err, ENS_ERR_FORMAT, "%s: images of %dx%d pixels", images_path, im.dims[1],
                  im.dims[2]);
    goto done;
  }
  st = ens_dataset_alloc(out, n, im.dims[1], im.dims[2], 1, k, err);
  if (st != ENS_OK)
    goto done;
  memcpy(out->pixels, im.data, (size_t)n * ens_dataset_image_bytes(out));
  for (int i = 0; labels_path && i < n; i++)
    out->labels[i] = lab.data[i];
done:
  ens_idx_free(&im);
  ens_idx_free(&lab);
  return st;
}

/* dir/name, or dir/name.gz when only that exists. */
static char *idx_path(const char *dir, const char *name)
{
  char *p = NULL;
  if (asprintf(&p, "%s/%s", dir, name) < 0)
    return NULL;
  if (access(p, F_OK) == 0)
    return p;
  free(p);
  return asprintf(&p, "%s/%s.gz", dir, name) < 0 ? NULL : p;
}

ens_status ens_dataset_fashion_mnist(const char *dir, int train, ens_dataset *out, ens_error *err)
{
  if (!dir || !out)
    return ens_fail(err, ENS_ERR_ARG, "ens_dataset_fashion_mnist: NULL argument");
  memset(out, 0, sizeof *out);
  const char *set = train ? "train" : "t10k";
  char images[32], labels[32];
  snprintf(images, sizeof images, "%s-images-idx3-ubyte", set);
  snprintf(labels, sizeof labels, "%s-labels-idx1-ubyte", set);
  char *ip = idx_path(dir, images), *lp = idx_path(dir, labels);
  ens_status st = ip && lp ? ens_dataset_from_idx(ip, lp, 10, out, err)
                           : ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", dir);
  if (st == ENS_OK && (out->height != 28 || out->width != 28))
    st = ens_fail(err, ENS_ERR_FORMAT, "%s: Fashion-MNIST images are 28x28, not %dx%d", ip,
                  out->height, out->width);
  if (st == ENS_OK)
    st = ens_dataset_set_class_names(out, ens_fashion_mnist_classes, err);
  if (st != ENS_OK)
    ens_dataset_free(out);
  free(ip);
  free(lp);
  return st;
}

static char **copy_names(const char *const *names, int k)
{
  char **c = calloc((size_t)k + 1, sizeof *c);
  for (int i = 0; c && i < k; i++) {
    c[i] = strdup(names[i] ? names[i] : "");
    if (!c[i]) {
      for (int j = 0; j < i; j++)
        free(c[j]);
      free(c);
      return NULL;
    }
  }
  return c;
}

static void free_names(char **names, int k)
{
  for (int i = 0; names && i < k; i++)
    free(names[i]);
  free(names);
}

ens_status ens_dataset_set_class_names(ens_dataset *d, const char *const *names, ens_error *err)
{
  if (!d || !names)
    return ens_fail(err, ENS_ERR_ARG, "dataset: NULL class names");
  char **c = copy_names(names, d->num_classes);
  if (!c)
    return ens_fail(err, ENS_ERR_NOMEM, "dataset: cannot copy %d class names", d->num_classes);
  free_names(d->class_names, d->num_classes);
  d->class_names = c;
  return ENS_OK;
}

ens_status ens_dataset_set_soft(ens_dataset *d, const float *soft, const uint8_t *rows,
                                ens_error *err)
{
  if (!d || !soft || d->num_classes < 1)
    return ens_fail(err, ENS_ERR_ARG, "dataset: soft targets need a class count and values");
  size_t nk = (size_t)d->n * (size_t)d->num_classes;
  float *s = malloc(nk * sizeof *s + 1);
  uint8_t *r = malloc((size_t)d->n + 1);
  if (!s || !r) {
    free(s);
    free(r);
    return ens_fail(err, ENS_ERR_NOMEM, "dataset: cannot allocate %d x %d soft targets", d->n,
                    d->num_classes);
  }
  memcpy(s, soft, nk * sizeof *s);
  for (int i = 0; i < d->n; i++)
    r[i] = rows ? rows[i] != 0 : 1;
  free(d->soft);
  free(d->soft_rows);
  d->soft = s;
  d->soft_rows = r;
  return ENS_OK;
}

/* Copies sample si of src into row di of dst (same shape; dst->soft present if src's is). */
static void copy_sample(ens_dataset *dst, int di, const ens_dataset *src, int si)
{
  size_t img = ens_dataset_image_bytes(src);
  memcpy(dst->pixels + (size_t)di * img, src->pixels + (size_t)si * img, img);
  dst->labels[di] = src->labels[si];
  if (dst->soft) {
    size_t k = (size_t)dst->num_classes;
    if (src->soft) {
      memcpy(dst->soft + (size_t)di * k, src->soft + (size_t)si * k, k * sizeof *dst->soft);
      dst->soft_rows[di] = src->soft_rows[si];
    } else {
      memset(dst->soft + (size_t)di * k, 0, k * sizeof *dst->soft);
      dst->soft_rows[di] = 0;
    }
  }
}

static ens_status alloc_like(const ens_dataset *like, int n, int with_soft, ens_dataset *out,
                             ens_error *err)
{
  ens_status st =
      ens_dataset_alloc(out, n, like->height, like->width, like->channels, like->num_classes, err);
  if (st != ENS_OK)
    return st;
  if (with_soft) {
    size_t nk = (size_t)n * (size_t)like->num_classes;
    out->soft = calloc(nk + 1, sizeof *out->soft);
    out->soft_rows = calloc((size_t)n + 1, 1);
    if (!out->soft || !out->soft_rows) {
      ens_dataset_free(out);
      return ens_fail(err, ENS_ERR_NOMEM, "dataset: cannot allocate %d soft target rows", n);
    }
  }
  if (like->class_names) {
    out->class_names = copy_names((const char *const *)like->class_names, like->num_classes);
    if (!out->class_names) {
      ens_dataset_free(out);
      return ens_fail(err, ENS_ERR_NOMEM, "dataset: cannot copy class names");
    }
  }
  return ENS_OK;
}

ens_status ens_dataset_subset(const ens_dataset *src, const int *idx, int n, ens_dataset *out,
                              ens_error *err)
{
  if (!src || !out || (n > 0 && !idx) || n < 0)
    return ens_fail(err, ENS_ERR_ARG, "dataset subset: bad argument");
  memset(out, 0, sizeof *out);
  for (int i = 0; i < n; i++)
    if (idx[i] < 0 || idx[i] >= src->n)
      return ens_fail(err, ENS_ERR_ARG, "dataset subset: index %d (entry %d) is outside 0..%d",
                      idx[i], i, src->n - 1);
  ens_status st = alloc_like(src, n, src->soft != NULL, out, err);
  if (st != ENS_OK)
    return st;
  for (int i = 0; i < n; i++)
    copy_sample(out, i, src, idx[i]);
  return ENS_OK;
}

ens_status ens_dataset_concat(const ens_dataset *a, const ens_dataset *b, ens_dataset *out,
                              ens_error *err)
{
  if (!a || !b || !out)
    return ens_fail(err, ENS_ERR_ARG, "dataset concat: NULL argument");
  memset(out, 0, sizeof *out);
  if (a->height != b->height || a->width != b->width || a->channels != b->channels ||
      a->num_classes != b->num_classes)
    return ens_fail(err, ENS_ERR_ARG,
                    "dataset concat: %dx%dx%d images / %d classes vs %dx%dx%d / %d", a->height,
                    a->width, a->channels, a->num_classes, b->height, b->width, b->channels,
                    b->num_classes);
  if ((int64_t)a->n + b->n > INT32_MAX)
    return ens_fail(err, ENS_ERR_ARG, "dataset concat: too many images");
  ens_status st = alloc_like(a->class_names ? a : b, a->n + b->n, a->soft || b->soft, out, err);
  if (st != ENS_OK)
    return st;
  for (int i = 0; i < a->n; i++)
    copy_sample(out, i, a, i);
  for (int i = 0; i < b->n; i++)
    copy_sample(out, a->n + i, b, i);
  return ENS_OK;
}

void ens_dataset_free(ens_dataset *d)
{
  if (!d)
    return;
  free(d->pixels);
  free(d->labels);
  free(d->soft);
  free(d->soft_rows);
  free_names(d->class_names, d->num_classes);
  memset(d, 0, sizeof *d);
}
