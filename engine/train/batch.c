/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* batch.c - batch assembly with training augmentation (see batch.h). */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

void ens_batch_config_fashion_mnist(ens_batch_config *c)
{
  memset(c, 0, sizeof *c);
  c->size = 32;
  c->border = 2;
  for (int i = 0; i < 3; i++) {
    c->mean[i] = 0.2860f;
    c->std[i] = 0.3530f;
  }
  c->label_smoothing = 0.1f;
  c->train = 1;
  c->hflip_prob = 0.5f;
}

void ens_batch_config_imagenet(ens_batch_config *c, int size)
{
  static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  memset(c, 0, sizeof *c);
  c->size = size;
  memcpy(c->mean, mean, sizeof mean);
  memcpy(c->std, std, sizeof std);
  c->label_smoothing = 0.1f;
  c->train = 1;
  c->hflip_prob = 0.5f;
}

static uint64_t splitmix64(uint64_t x)
{
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* The stream of dataset sample i in epoch e: the seed is hashed with (e, i) so nearby
 * samples do not get related PCG states; the stream id separates them as well. */
static void sample_rng(ens_rng *r, uint64_t seed, int epoch, int i)
{
  uint64_t key = (uint64_t)(uint32_t)epoch << 32 | (uint32_t)i;
  ens_rng_seed(r, splitmix64(seed ^ splitmix64(key)), key);
}

typedef struct {
  const ens_batch_config *c;
  const ens_dataset *d;
  const int *idx;
  int epoch;
  uint8_t *scratch; /* b images */
  float *x, *y;
} fill_job;

/* RandomCrop((h, w), padding p): window of the zero-padded image at (oy, ox) in [0, 2p]. */
static void random_crop(const uint8_t *src, uint8_t *dst, int w, int h, int ch, int pad, ens_rng *r)
{
  int oy = (int)ens_rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
  int ox = (int)ens_rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
  size_t row = (size_t)w * (size_t)ch;
  for (int y = 0; y < h; y++) {
    uint8_t *o = dst + (size_t)y * row;
    int sy = y + oy;
    if (sy < 0 || sy >= h) {
      memset(o, 0, row);
      continue;
    }
    for (int x = 0; x < w; x++) {
      int sx = x + ox;
      for (int k = 0; k < ch; k++)
        o[(size_t)x * ch + k] = sx < 0 || sx >= w ? 0 : src[(size_t)sy * row + (size_t)sx * ch + k];
    }
  }
}

static void hflip(uint8_t *img, int w, int h, int ch)
{
  for (int y = 0; y < h; y++) {
    uint8_t *row = img + (size_t)y * w * ch;
    for (int a = 0, b = w - 1; a < b; a++, b--)
      for (int k = 0; k < ch; k++) {
        uint8_t t = row[a * ch + k];
        row[a * ch + k] = row[b * ch + k];
        row[b * ch + k] = t;
      }
  }
}

/* x [3, S, S] of one sample: border, /255, normalise; 1 channel copied to all three. */
static void normalize(const ens_batch_config *c, const uint8_t *img, int w, int h, int ch, float *x)
{
  int s = c->size, b = c->border;
  size_t plane = (size_t)s * s;
  for (int oc = 0; oc < 3; oc++) {
    int ic = ch == 3 ? oc : 0;
    const float mean = c->mean[ic], std = c->std[ic];
    float *o = x + (size_t)oc * plane;
    if (ch == 1 && oc > 0) {
      memcpy(o, x, plane * sizeof *o);
      continue;
    }
    for (int y = 0; y < s; y++)
      for (int xx = 0; xx < s; xx++) {
        int sy = y - b, sx = xx - b;
        uint8_t u =
            sy < 0 || sy >= h || sx < 0 || sx >= w ? 0 : img[((size_t)sy * w + sx) * ch + ic];
        float v = (float)u / 255.0f; /* torch: to_tensor, then sub_(mean).div_(std) */
        o[(size_t)y * s + xx] = (v - mean) / std;
      }
  }
}

static void targets(const ens_batch_config *c, const ens_dataset *d, int i, float *y)
{
  int k = d->num_classes;
  if (d->soft && d->soft_rows[i]) {
    memcpy(y, d->soft + (size_t)i * k, (size_t)k * sizeof *y);
    return;
  }
  float eps = c->label_smoothing, off = eps / (float)k;
  for (int j = 0; j < k; j++)
    y[j] = off;
  y[d->labels[i]] = 1.0f - eps + off;
}

static void fill_range(void *ctx, int begin, int end)
{
  const fill_job *j = ctx;
  const ens_batch_config *c = j->c;
  const ens_dataset *d = j->d;
  int w = d->width, h = d->height, ch = d->channels;
  size_t img = ens_dataset_image_bytes(d);
  for (int s = begin; s < end; s++) {
    int i = j->idx[s];
    const uint8_t *src = ens_dataset_image(d, i);
    uint8_t *work = j->scratch + (size_t)s * img;
    if (c->train) {
      ens_rng r;
      sample_rng(&r, c->seed, j->epoch, i);
      if (c->crop_padding > 0)
        random_crop(src, work, w, h, ch, c->crop_padding, &r);
      else
        memcpy(work, src, img);
      if (c->hflip_prob > 0.0f && ens_rng_uniform(&r) < c->hflip_prob)
        hflip(work, w, h, ch);
      if (c->augment)
        c->augment(c->augment_ctx, work, w, h, ch, &r);
      src = work;
    }
    normalize(c, src, w, h, ch, j->x + (size_t)s * 3 * c->size * c->size);
    if (j->y)
      targets(c, d, i, j->y + (size_t)s * d->num_classes);
  }
}

ens_status ens_batch_fill(const ens_batch_config *c, const ens_dataset *d, const int *idx, int b,
                          int epoch, ens_threadpool *pool, float *x, float *y, ens_error *err)
{
  if (!c || !d || !x || b < 0 || (b > 0 && !idx))
    return ens_fail(err, ENS_ERR_ARG, "batch: NULL argument or negative batch size");
  if (d->height + 2 * c->border != c->size || d->width + 2 * c->border != c->size || c->border < 0)
    return ens_fail(err, ENS_ERR_ARG,
                    "batch: %dx%d images with a %d px border do not make %dx%d inputs", d->width,
                    d->height, c->border, c->size, c->size);
  if (c->crop_padding < 0 || c->crop_padding > 1 << 20)
    return ens_fail(err, ENS_ERR_ARG, "batch: crop padding %d invalid", c->crop_padding);
  for (int k = 0; k < (d->channels == 3 ? 3 : 1); k++)
    if (!(c->std[k] != 0.0f))
      return ens_fail(err, ENS_ERR_ARG, "batch: std of channel %d is zero", k);
  if (y && d->num_classes < 1)
    return ens_fail(err, ENS_ERR_ARG, "batch: targets need a dataset with classes");
  for (int s = 0; s < b; s++) {
    int i = idx[s];
    if (i < 0 || i >= d->n)
      return ens_fail(err, ENS_ERR_ARG, "batch: sample index %d outside the dataset's 0..%d", i,
                      d->n - 1);
    if (y && !(d->soft && d->soft_rows[i]) && (d->labels[i] < 0 || d->labels[i] >= d->num_classes))
      return ens_fail(err, ENS_ERR_ARG, "batch: sample %d has label %d and no soft target", i,
                      d->labels[i]);
  }
  fill_job j = {c, d, idx, epoch, NULL, x, y};
  if (c->train && b > 0) {
    j.scratch = malloc((size_t)b * ens_dataset_image_bytes(d));
    if (!j.scratch)
      return ens_fail(err, ENS_ERR_NOMEM, "batch: cannot allocate %d images of scratch", b);
  }
  if (pool && b > 1)
    ens_threadpool_run(pool, b, fill_range, &j);
  else if (b > 0)
    fill_range(&j, 0, b);
  free(j.scratch);
  return ENS_OK;
}

void ens_epoch_order(int n, uint64_t seed, int epoch, int shuffle, int *order)
{
  for (int i = 0; i < n; i++)
    order[i] = i;
  if (!shuffle)
    return;
  ens_rng r;
  ens_rng_seed(&r, splitmix64(seed ^ 0x6570636fULL), (uint64_t)(uint32_t)epoch);
  ens_rng_shuffle(&r, order, n);
}

int ens_epoch_batches(int n, int batch, int drop_last)
{
  if (batch < 1 || n < 1)
    return 0;
  return drop_last ? n / batch : (n + batch - 1) / batch;
}
