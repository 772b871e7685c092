/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_batch.c - batch assembly: normalisation values (Fashion-MNIST recipe and ImageNet
 * mean/std), border, gray -> 3 channels, targets (label smoothing, soft rows), RandomCrop +
 * flip semantics on a tiny image (every output is one of the 18 crop / flip variants, all of
 * them occur about equally often), the augmentation hook, determinism across thread counts
 * and batch compositions, epoch order and batch counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "ens_test.h"

static void test_fashion_normalisation(void)
{
  ens_error err = {0};
  ens_dataset d;
  CHECK_OK(ens_dataset_alloc(&d, 2, 28, 28, 1, 10, &err), &err);
  for (int i = 0; i < 2 * 784; i++)
    d.pixels[i] = (uint8_t)(i * 37);
  d.labels[0] = 3;
  d.labels[1] = 9;
  ens_batch_config c;
  ens_batch_config_fashion_mnist(&c);
  c.train = 0;
  float *x = malloc(2 * 3 * 32 * 32 * sizeof *x), y[20];
  int idx[2] = {1, 0};
  CHECK_OK(ens_batch_fill(&c, &d, idx, 2, 0, NULL, x, y, &err), &err);
  const float border = (0.0f / 255.0f - 0.2860f) / 0.3530f;
  int bad = 0;
  for (int s = 0; s < 2; s++)
    for (int yy = 0; yy < 32; yy++)
      for (int xx = 0; xx < 32; xx++) {
        int in = yy >= 2 && yy < 30 && xx >= 2 && xx < 30;
        uint8_t u = in ? d.pixels[(size_t)idx[s] * 784 + (yy - 2) * 28 + (xx - 2)] : 0;
        float want = in ? ((float)u / 255.0f - 0.2860f) / 0.3530f : border;
        for (int ch = 0; ch < 3; ch++)
          bad += x[((size_t)s * 3 + ch) * 1024 + yy * 32 + xx] != want;
      }
  CHECK(bad == 0, "%d values differ from (x/255 - 0.2860)/0.3530 with a 2 px zero border", bad);
  printf("  fashion: border %.6f, x[0,0,2,2] = %.6f (pixel %d)\n", border, x[2 * 32 + 2],
         d.pixels[784]);
  /* smoothing 0.1 over 10 classes: 0.91 on the label, 0.01 elsewhere */
  for (int k = 0; k < 10; k++) {
    CHECK(fabsf(y[k] - (k == 9 ? 0.91f : 0.01f)) < 1e-7f, "y[0][%d] = %g", k, y[k]);
    CHECK(fabsf(y[10 + k] - (k == 3 ? 0.91f : 0.01f)) < 1e-7f, "y[1][%d] = %g", k, y[10 + k]);
  }

  /* soft rows for unlabeled samples; an unlabeled sample without one is an error */
  d.labels[1] = -1;
  CHECK(ens_batch_fill(&c, &d, idx, 2, 0, NULL, x, y, &err) == ENS_ERR_ARG,
        "unlabeled sample without soft target accepted");
  float soft[20] = {0};
  soft[10 + 4] = 0.7f;
  soft[10 + 5] = 0.3f;
  uint8_t rows[2] = {0, 1};
  CHECK_OK(ens_dataset_set_soft(&d, soft, rows, &err), &err);
  CHECK_OK(ens_batch_fill(&c, &d, idx, 2, 0, NULL, x, y, &err), &err);
  CHECK(y[4] == 0.7f && y[5] == 0.3f && y[0] == 0.0f && fabsf(y[10 + 3] - 0.91f) < 1e-7f,
        "soft / hard rows");
  /* size mismatch */
  c.border = 0;
  CHECK(ens_batch_fill(&c, &d, idx, 2, 0, NULL, x, y, &err) == ENS_ERR_ARG, "28 + 0 != 32");
  free(x);
  ens_dataset_free(&d);
}

static void test_rgb_normalisation(void)
{
  ens_error err = {0};
  ens_dataset d;
  CHECK_OK(ens_dataset_alloc(&d, 1, 4, 4, 3, 2, &err), &err);
  for (int i = 0; i < 48; i++)
    d.pixels[i] = (uint8_t)(i * 5 + 1);
  d.labels[0] = 1;
  ens_batch_config c;
  ens_batch_config_imagenet(&c, 4);
  c.train = 0;
  float x[48];
  int idx = 0;
  CHECK_OK(ens_batch_fill(&c, &d, &idx, 1, 0, NULL, x, NULL, &err), &err);
  static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  int bad = 0;
  for (int ch = 0; ch < 3; ch++)
    for (int i = 0; i < 16; i++)
      bad += x[ch * 16 + i] != ((float)d.pixels[i * 3 + ch] / 255.0f - mean[ch]) / std[ch];
  CHECK(bad == 0, "%d RGB values differ from ImageNet normalisation", bad);
  ens_dataset_free(&d);
}

/* 3x3 gray image 1..9; output decoded back to bytes */
static void decode_u8(const float *x, uint8_t *u, int n)
{
  for (int i = 0; i < n; i++)
    u[i] = (uint8_t)lrintf(x[i] * 255.0f);
}

static void test_crop_flip(void)
{
  ens_error err = {0};
  enum { N = 1800 };
  ens_dataset d;
  CHECK_OK(ens_dataset_alloc(&d, N, 3, 3, 1, 1, &err), &err);
  for (int s = 0; s < N; s++)
    for (int i = 0; i < 9; i++)
      d.pixels[s * 9 + i] = (uint8_t)(i + 1);
  /* the 18 candidates: RandomCrop((3, 3), padding=1) at offset (oy, ox) in [0, 2]^2 of the
   * padded image, then the optional mirror */
  uint8_t cand[18][9];
  for (int oy = 0; oy < 3; oy++)
    for (int ox = 0; ox < 3; ox++)
      for (int f = 0; f < 2; f++)
        for (int y = 0; y < 3; y++)
          for (int x = 0; x < 3; x++) {
            int cx = f ? 2 - x : x; /* flip after crop */
            int sy = y + oy - 1, sx = cx + ox - 1;
            cand[(oy * 3 + ox) * 2 + f][y * 3 + x] =
                sy < 0 || sy > 2 || sx < 0 || sx > 2 ? 0 : (uint8_t)(sy * 3 + sx + 1);
          }
  for (int a = 0; a < 18; a++)
    for (int b = a + 1; b < 18; b++)
      CHECK(memcmp(cand[a], cand[b], 9) != 0, "candidates %d and %d coincide", a, b);

  ens_batch_config c;
  memset(&c, 0, sizeof c);
  c.size = 3;
  c.std[0] = c.std[1] = c.std[2] = 1.0f;
  c.train = 1;
  c.crop_padding = 1;
  c.hflip_prob = 0.5f;
  c.seed = 42;
  int *idx = malloc(N * sizeof *idx);
  for (int i = 0; i < N; i++)
    idx[i] = i;
  float *x = malloc((size_t)N * 27 * sizeof *x);
  CHECK_OK(ens_batch_fill(&c, &d, idx, N, 0, NULL, x, NULL, &err), &err);
  int count[18] = {0}, unmatched = 0;
  for (int s = 0; s < N; s++) {
    uint8_t u[27];
    decode_u8(x + (size_t)s * 27, u, 27);
    CHECK(!memcmp(u, u + 9, 9) && !memcmp(u, u + 18, 9), "gray not copied to 3 channels");
    int m = -1;
    for (int k = 0; k < 18; k++)
      if (!memcmp(u, cand[k], 9))
        m = k;
    if (m < 0)
      unmatched++;
    else
      count[m]++;
  }
  CHECK(unmatched == 0, "%d outputs are no crop/flip of the input", unmatched);
  /* 100 expected per variant, binomial s.d. about 9.7 */
  int flips = 0;
  for (int k = 0; k < 18; k++) {
    CHECK(count[k] > 55 && count[k] < 145, "variant %d (offset %d,%d flip %d) seen %d times", k,
          k / 6, (k / 2) % 3, k % 2, count[k]);
    flips += k % 2 ? count[k] : 0;
  }
  printf("  crop/flip: 18 variants seen %d..%d times of %d; %d flipped\n", count[0], count[17], N,
         flips);

  /* no padding and flip probability 1: exact mirror; 0: identity (eval path too) */
  c.crop_padding = 0;
  c.hflip_prob = 1.0f;
  CHECK_OK(ens_batch_fill(&c, &d, idx, 1, 0, NULL, x, NULL, &err), &err);
  uint8_t u[9];
  decode_u8(x, u, 9);
  CHECK(!memcmp(u, cand[(1 * 3 + 1) * 2 + 1], 9), "p=1 flip is not a mirror");
  c.hflip_prob = 0.0f;
  CHECK_OK(ens_batch_fill(&c, &d, idx, 1, 0, NULL, x, NULL, &err), &err);
  decode_u8(x, u, 9);
  CHECK(!memcmp(u, d.pixels, 9), "no augmentation changed the image");
  free(idx);
  free(x);
  ens_dataset_free(&d);
}

typedef struct {
  int calls, w, h, c;
} hook_log;

/* marks the top-left pixel: shows the hook runs after the flip and before normalisation */
static void mark_hook(void *ctx, uint8_t *img, int w, int h, int c, ens_rng *rng)
{
  hook_log *log = ctx;
  log->calls++;
  log->w = w, log->h = h, log->c = c;
  (void)rng;
  img[0] = 255;
}

/* rng-dependent noise, to make determinism checks depend on the hook's stream too */
static void noise_hook(void *ctx, uint8_t *img, int w, int h, int c, ens_rng *rng)
{
  (void)ctx;
  for (int i = 0; i < w * h * c; i++)
    img[i] = (uint8_t)(img[i] + ens_rng_below(rng, 3));
}

static void test_hook(void)
{
  ens_error err = {0};
  ens_dataset d;
  CHECK_OK(ens_dataset_alloc(&d, 1, 3, 3, 1, 1, &err), &err);
  for (int i = 0; i < 9; i++)
    d.pixels[i] = (uint8_t)(i + 1);
  ens_batch_config c;
  memset(&c, 0, sizeof c);
  c.size = 3;
  c.std[0] = 1.0f;
  c.train = 1;
  c.hflip_prob = 1.0f;
  hook_log log = {0};
  c.augment = mark_hook;
  c.augment_ctx = &log;
  float x[27];
  int idx = 0;
  CHECK_OK(ens_batch_fill(&c, &d, &idx, 1, 0, NULL, x, NULL, &err), &err);
  uint8_t u[9];
  decode_u8(x, u, 9);
  static const uint8_t want[9] = {255, 2, 1, 6, 5, 4, 9, 8, 7};
  CHECK(log.calls == 1 && log.w == 3 && log.h == 3 && log.c == 1, "hook calls %d (%dx%dx%d)",
        log.calls, log.w, log.h, log.c);
  CHECK(!memcmp(u, want, 9), "hook not between flip and normalisation: %d %d %d", u[0], u[1], u[2]);
  CHECK(d.pixels[0] == 1, "augmentation wrote into the dataset");
  c.train = 0;
  CHECK_OK(ens_batch_fill(&c, &d, &idx, 1, 0, NULL, x, NULL, &err), &err);
  CHECK(log.calls == 1, "hook called in evaluation mode");
  ens_dataset_free(&d);
}

static void test_determinism(void)
{
  ens_error err = {0};
  enum { N = 96 };
  ens_dataset d;
  CHECK_OK(ens_dataset_alloc(&d, N, 28, 28, 1, 10, &err), &err);
  ens_test_seed(7);
  for (int i = 0; i < N * 784; i++)
    d.pixels[i] = (uint8_t)ens_test_irand(0, 255);
  for (int i = 0; i < N; i++)
    d.labels[i] = i % 10;
  ens_batch_config c;
  ens_batch_config_fashion_mnist(&c);
  c.crop_padding = 2;
  c.augment = noise_hook;
  c.seed = 123;
  int order[N];
  ens_epoch_order(N, c.seed, 3, 1, order);
  size_t xs = (size_t)N * 3 * 32 * 32;
  float *ref = malloc(xs * sizeof *ref), *got = malloc(xs * sizeof *got);
  float yref[N * 10], ygot[N * 10];
  CHECK_OK(ens_batch_fill(&c, &d, order, N, 3, NULL, ref, yref, &err), &err);
  for (int threads = 1; threads <= 3; threads++) {
    ens_threadpool *pool;
    CHECK_OK(ens_threadpool_new(threads, &pool, &err), &err);
    CHECK_OK(ens_batch_fill(&c, &d, order, N, 3, pool, got, ygot, &err), &err);
    CHECK(!memcmp(ref, got, xs * sizeof *ref) && !memcmp(yref, ygot, sizeof yref),
          "%d threads: batch differs from the single-thread one", threads);
    ens_threadpool_free(pool);
  }
  /* the same samples in another batch / position give the same inputs */
  int two[2] = {order[40], order[5]};
  CHECK_OK(ens_batch_fill(&c, &d, two, 2, 3, NULL, got, NULL, &err), &err);
  CHECK(!memcmp(got, ref + 40 * 3072, 3072 * sizeof *got) &&
            !memcmp(got + 3072, ref + 5 * 3072, 3072 * sizeof *got),
        "a sample's augmentation depends on its batch");
  /* another epoch or seed draws differently */
  CHECK_OK(ens_batch_fill(&c, &d, order, N, 4, NULL, got, NULL, &err), &err);
  CHECK(memcmp(ref, got, xs * sizeof *ref) != 0, "epoch 4 repeats epoch 3's augmentation");
  c.seed = 124;
  CHECK_OK(ens_batch_fill(&c, &d, order, N, 3, NULL, got, NULL, &err), &err);
  CHECK(memcmp(ref, got, xs * sizeof *ref) != 0, "seed 124 repeats seed 123's augmentation");
  free(ref);
  free(got);
  ens_dataset_free(&d);
}

static void test_epochs(void)
{
  enum { N = 1000 };
  int a[N], b[N], seen[N] = {0};
  ens_epoch_order(N, 9, 0, 1, a);
  for (int i = 0; i < N; i++)
    seen[a[i]]++;
  int dup = 0;
  for (int i = 0; i < N; i++)
    dup += seen[i] != 1;
  CHECK(dup == 0, "epoch order is not a permutation");
  ens_epoch_order(N, 9, 0, 1, b);
  CHECK(!memcmp(a, b, sizeof a), "same seed and epoch, different order");
  ens_epoch_order(N, 9, 1, 1, b);
  CHECK(memcmp(a, b, sizeof a) != 0, "epochs 0 and 1 share the order");
  ens_epoch_order(N, 9, 1, 0, b);
  CHECK(b[0] == 0 && b[N - 1] == N - 1, "shuffle 0 is not the identity");
  CHECK(ens_epoch_batches(6000, 128, 1) == 46 && ens_epoch_batches(6000, 128, 0) == 47 &&
            ens_epoch_batches(60000, 128, 1) == 468 && ens_epoch_batches(5, 128, 1) == 0,
        "batch counts");
}

int main(void)
{
  test_fashion_normalisation();
  test_rgb_normalisation();
  test_crop_flip();
  test_hook();
  test_determinism();
  test_epochs();
  return ens_test_finish("batch");
}
