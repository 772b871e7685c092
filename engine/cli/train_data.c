/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_data.c - loading the training / validation data named on an ens-train command line
 * (see train_data.h). */
#include "train_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset_harvest.h"
#include "error.h"

static int is_dir(const char *p)
{
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* "<dir>/train-labels-idx1-ubyte.gz" for "<dir>/train-images-idx3-ubyte.gz" (the MNIST file
 * naming); NULL when the name does not follow it. */
static char *derive_labels_path(const char *images)
{
  const char *hit = strstr(images, "images-idx3-ubyte");
  if (!hit)
    return NULL;
  size_t n = strlen(images);
  char *out = malloc(n + 1);
  if (!out)
    return NULL;
  memcpy(out, images, n + 1);
  memcpy(out + (hit - images), "labels-idx1-ubyte", 17);
  return out;
}

static ens_status load_idx(const char *images, const char *labels, ens_dataset *d, ens_error *err)
{
  char *derived = NULL;
  if (!labels) {
    derived = derive_labels_path(images);
    if (!derived)
      return ens_fail(err, ENS_ERR_ARG,
                      "'%s': give the IDX labels file with --labels (it is not named "
                      "*-images-idx3-ubyte*, so its labels file cannot be guessed)",
                      images);
    labels = derived;
  }
  ens_status st = ens_dataset_from_idx(images, labels, 0, d, err);
  free(derived);
  return st;
}

/* Mean and std of all pixels / 255 of a gray dataset, rounded to 4 decimals as the usual
 * published constants are (Fashion-MNIST: 0.2860, 0.3530). */
static void gray_stats(const ens_dataset *d, float *mean, float *std)
{
  size_t n = (size_t)d->n * ens_dataset_image_bytes(d);
  double s = 0.0, s2 = 0.0;
  for (size_t i = 0; i < n; i++) {
    double v = d->pixels[i] / 255.0;
    s += v;
    s2 += v * v;
  }
  double m = n ? s / (double)n : 0.0;
  double var = n ? s2 / (double)n - m * m : 1.0;
  *mean = (float)(round(m * 1e4) / 1e4);
  *std = (float)(round(sqrt(var > 0 ? var : 1.0) * 1e4) / 1e4);
}

static ens_status take_subset(ens_dataset *d, const char *subset, ens_error *err)
{
  if (!subset)
    return ENS_OK;
  int labeled = !strcmp(subset, "labeled");
  if (!labeled && strcmp(subset, "unlabeled"))
    return ens_fail(err, ENS_ERR_ARG, "--subset must be 'labeled' or 'unlabeled' (got '%s')",
                    subset);
  if (d->n != 60000 || d->num_classes != 10)
    return ens_fail(err, ENS_ERR_ARG,
                    "--subset needs the 60,000 Fashion-MNIST training images (got %d images of "
                    "%d classes)",
                    d->n, d->num_classes);
  int64_t split[6000];
  ens_status st = ens_fashion_mnist_labeled_split(d->labels, d->n, split, err);
  if (st != ENS_OK)
    return st;
  int *idx = malloc((size_t)d->n * sizeof *idx);
  if (!idx)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for the Fashion-MNIST split");
  int k;
  if (labeled) {
    for (k = 0; k < 6000; k++)
      idx[k] = (int)split[k];
  } else {
    k = ens_index_complement(split, 6000, d->n, idx);
  }
  ens_dataset sub;
  st = ens_dataset_subset(d, idx, k, &sub, err);
  free(idx);
  if (st != ENS_OK)
    return st;
  ens_dataset_free(d);
  *d = sub;
  return ENS_OK;
}

static ens_status load_fashion_mnist(const ens_data_args *a, ens_data *d, ens_error *err)
{
  const char *dir = a->data[13] == ':' ? a->data + 14 : ENS_FASHION_MNIST_DIR;
  char img[4096], lab[4096];
  if (!is_dir(dir))
    return ens_fail(err, ENS_ERR_IO,
                    "Fashion-MNIST folder '%s' not found (Debian: apt-get install "
                    "dataset-fashion-mnist, or give fashion-mnist:DIR)",
                    dir);
  snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
  snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir);
  ens_status st = ens_dataset_from_idx(img, lab, 10, &d->train, err);
  if (st == ENS_OK)
    st = ens_dataset_set_class_names(&d->train, ens_fashion_mnist_classes, err);
  if (st == ENS_OK)
    st = take_subset(&d->train, a->subset, err);
  if (st == ENS_OK && !a->no_val && !a->val_data) {
    snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte.gz", dir);
    st = ens_dataset_from_idx(img, lab, 10, &d->val, err);
    d->has_val = st == ENS_OK;
  }
  return st;
}

static void set_idx_batches(ens_data *d, int fashion)
{
  int size = d->input_size;
  ens_batch_config_fashion_mnist(&d->train_b);
  d->train_b.size = size;
  d->train_b.border = (size - d->train.width) / 2;
  if (!fashion) {
    float m, s;
    gray_stats(&d->train, &m, &s);
    for (int c = 0; c < 3; c++) {
      d->train_b.mean[c] = m;
      d->train_b.std[c] = s;
    }
  }
  d->eval_b = d->train_b;
  d->eval_b.train = 0;
  d->crop_pct = (float)size / (float)d->train.width;
  d->interp = ENS_INTERP_BICUBIC;
}

/* The first n images of d (n <= 0 or >= d->n: all). */
static ens_status truncate_to(ens_dataset *d, int n, ens_error *err)
{
  if (n <= 0 || n >= d->n)
    return ENS_OK;
  int *idx = malloc((size_t)n * sizeof *idx);
  if (!idx)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory");
  for (int i = 0; i < n; i++)
    idx[i] = i;
  ens_dataset sub;
  ens_status st = ens_dataset_subset(d, idx, n, &sub, err);
  free(idx);
  if (st == ENS_OK) {
    ens_dataset_free(d);
    *d = sub;
  }
  return st;
}

static ens_status load_any(const ens_data_args *a, ens_data *d, ens_error *err);

ens_status ens_data_load(const ens_data_args *a, ens_data *d, ens_error *err)
{
  ens_status st = load_any(a, d, err);
  if (st == ENS_OK)
    st = truncate_to(&d->train, a->limit, err);
  if (st == ENS_OK && d->has_val)
    st = truncate_to(&d->val, a->val_limit, err);
  if (st != ENS_OK)
    ens_data_free(d);
  return st;
}

static ens_status load_any(const ens_data_args *a, ens_data *d, ens_error *err)
{
  memset(d, 0, sizeof *d);
  if (!a->data)
    return ens_fail(err, ENS_ERR_ARG, "no training data: give --data DIR|IMAGES.idx|fashion-mnist");
  int fashion = !strncmp(a->data, "fashion-mnist", 13) && (!a->data[13] || a->data[13] == ':');
  ens_status st;
  if (!fashion && ens_harvest_dir_detect(a->data))
    return ens_fail(err, ENS_ERR_ARG,
                    "'%s' is a harvest folder (unlabeled samples saved by ensharvest): give it to "
                    "noisy-student as --unlabeled",
                    a->data);
  if (fashion || !is_dir(a->data)) {
    st = fashion ? load_fashion_mnist(a, d, err) : load_idx(a->data, a->labels, &d->train, err);
    if (st == ENS_OK && !fashion && a->subset)
      st = take_subset(&d->train, a->subset, err);
    if (st == ENS_OK && a->val_data && !a->no_val) {
      st = load_idx(a->val_data, a->val_labels, &d->val, err);
      d->has_val = st == ENS_OK;
    }
    if (st != ENS_OK) {
      ens_data_free(d);
      return st;
    }
    d->input_size = a->input_size ? a->input_size : (d->train.width + 31) / 32 * 32;
    if (d->train.height != d->train.width || d->input_size < d->train.width ||
        (d->input_size - d->train.width) % 2) {
      ens_data_free(d);
      return ens_fail(err, ENS_ERR_ARG,
                      "IDX images are %dx%d: --input-size must be at least %d and differ from it "
                      "by an even number (a zero border on each side)",
                      d->train.height, d->train.width, d->train.width);
    }
    if (d->has_val && (d->val.width != d->train.width || d->val.height != d->train.height ||
                       d->val.num_classes > d->train.num_classes)) {
      ens_data_free(d);
      return ens_fail(err, ENS_ERR_ARG,
                      "validation images (%dx%d, %d classes) do not match the "
                      "training images (%dx%d, %d classes)",
                      d->val.width, d->val.height, d->val.num_classes, d->train.width,
                      d->train.height, d->train.num_classes);
    }
    if (d->has_val)
      d->val.num_classes = d->train.num_classes;
    set_idx_batches(d, fashion);
    snprintf(d->tag, sizeof d->tag, "%s", fashion ? "fashion_mnist" : "idx");
    return ENS_OK;
  }

  ens_folder_options fo;
  ens_folder_options_default(&fo);
  fo.size = a->input_size ? a->input_size : 224;
  if (a->crop_pct > 0)
    fo.crop_pct = a->crop_pct;
  fo.val_split = a->val_split;
  fo.seed = a->seed;
  fo.skip_bad = a->skip_bad;
  int skipped = 0;
  st = ens_dataset_from_folder(a->data, &fo, &d->train, a->no_val ? NULL : &d->val, &skipped, err);
  if (st != ENS_OK) {
    ens_data_free(d);
    return st;
  }
  if (skipped)
    fprintf(stderr, "ens-train: skipped %d unreadable image%s (--skip-bad)\n", skipped,
            skipped == 1 ? "" : "s");
  d->has_val = !a->no_val && d->val.n > 0;
  d->input_size = fo.size;
  ens_batch_config_imagenet(&d->train_b, fo.size);
  d->eval_b = d->train_b;
  d->eval_b.train = 0;
  d->crop_pct = fo.crop_pct;
  d->interp = fo.interpolation == ENS_INTERP_DEFAULT ? ENS_INTERP_BICUBIC : fo.interpolation;
  snprintf(d->tag, sizeof d->tag, "image_folder");
  return ENS_OK;
}

ens_status ens_data_load_harvest(const char *dir, const ens_data *like, int limit, ens_dataset *out,
                                 ens_error *err)
{
  ens_harvest_options o;
  ens_harvest_options_default(&o);
  o.size = like->train.width;
  o.channels = like->train.channels;
  /* stored image -> network input: a resize for folders (like->input_size == width), a zero
   * border for IDX; a model-size sample is a network input, taken back by the inverse crop */
  double stored_per_input = (double)like->train.width / like->input_size;
  o.model_crop_pct = (float)stored_per_input;
  /* IDX: (input / width) x (width / input) = 1 exactly, not 1 + 1 ulp (floor(28 / ...) = 27) */
  o.crop_pct = (float)(round(like->crop_pct * stored_per_input * 1e6) / 1e6);
  o.interpolation = like->interp;
  int skipped = 0;
  ens_status st = ens_dataset_from_harvest(dir, &o, out, &skipped, err);
  if (st == ENS_OK)
    st = truncate_to(out, limit, err);
  if (st != ENS_OK)
    return st;
  int soft = 0;
  for (int i = 0; out->soft && i < out->n; i++)
    soft += out->soft_rows[i];
  fprintf(stderr,
          "ens-train: %s: %d harvested samples (%d skipped: no PNG or unreadable), %d with the "
          "harvesting model's full distribution\n",
          dir, out->n, skipped, soft);
  return ENS_OK;
}

void ens_data_free(ens_data *d)
{
  ens_dataset_free(&d->train);
  ens_dataset_free(&d->val);
  memset(d, 0, sizeof *d);
}
