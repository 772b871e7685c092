/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_train_regularization.c - dropout and drop-path in the training graph, and determinism:
 * - masks drawn from (seed, step, sample) streams: reproducible, independent of the batch
 *   size, values 0 or 1/keep, mean keep (timm's linear drop-path schedule per block);
 * - injected dropout mask: logits and classifier gradient equal the formula on the features;
 * - injected drop-path mask k on a skip block equals scaling that block's last BN by k
 *   (forward and every gradient), and k = 0 gives the branch exactly zero gradients;
 * - same thread count: bit-identical gradients; 1 vs 2 threads: within 1e-5 of the scale. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "train_check.h"

#define B 4
#define S 32

static ens_train_arch arch;
static float *input, *target;

static ens_train_graph *make(int batch, int threads)
{
  ens_error err;
  ens_train_graph *g;
  CHECK_OK(ens_tg_new(&arch, batch, S, S, threads, &g, &err), &err);
  ens_tg_init(g, 42);
  return g;
}

static float **grads_copy(ens_train_graph *g)
{
  int n;
  ens_param *p = ens_tg_params(g, &n);
  float **c = calloc((size_t)n, sizeof *c);
  for (int i = 0; i < n; i++)
    if (p[i].grad) {
      c[i] = malloc(p[i].numel * sizeof(float));
      memcpy(c[i], p[i].grad, p[i].numel * sizeof(float));
    }
  return c;
}

static void grads_free(ens_train_graph *g, float **c)
{
  int n;
  ens_tg_params(g, &n);
  for (int i = 0; i < n; i++)
    free(c[i]);
  free(c);
}

static void test_mask_draws(void)
{
  ens_train_graph *g = make(B, 2), *g2 = make(2, 1);
  ens_tg_set_regularization(g, 0.3f, 0.2f);
  ens_tg_set_regularization(g2, 0.3f, 0.2f);
  int F = arch.head_chs;
  ens_tg_draw_masks(g, 5, 3);
  float *d1 = malloc((size_t)B * F * sizeof(float));
  memcpy(d1, ens_tg_dropout_mask(g), (size_t)B * F * sizeof(float));
  ens_tg_draw_masks(g, 5, 3);
  CHECK(!memcmp(d1, ens_tg_dropout_mask(g), (size_t)B * F * sizeof(float)), "redraw differs");
  ens_tg_draw_masks(g2, 5, 3);
  CHECK(!memcmp(d1, ens_tg_dropout_mask(g2), (size_t)2 * F * sizeof(float)),
        "masks depend on the batch size");
  int nzero = 0, bad = 0;
  for (int i = 0; i < B * F; i++) {
    nzero += d1[i] == 0.0f;
    bad += d1[i] != 0.0f && d1[i] != 1.0f / 0.7f;
  }
  double keep = 1.0 - (double)nzero / (B * F), sd = sqrt(0.21 / (B * F));
  printf("dropout 0.3: kept %.4f (want 0.7 +- %.3f)\n", keep, 3 * sd);
  CHECK(!bad && fabs(keep - 0.7) < 4 * sd, "dropout mask values / rate");
  ens_tg_draw_masks(g, 5, 4);
  CHECK(memcmp(d1, ens_tg_dropout_mask(g), (size_t)B * F * sizeof(float)), "step ignored");

  /* drop-path: block i keeps with 1 - 0.2 * i / n over many steps */
  int n = arch.nblocks;
  double kept[ENS_TRAIN_MAX_BLOCKS] = {0};
  int steps = 600;
  for (int s = 0; s < steps; s++) {
    ens_tg_draw_masks(g, 9, (uint64_t)s);
    for (int i = 0; i < n; i++) {
      float *m = ens_tg_droppath_mask(g, i);
      if (!m)
        continue;
      float k = 1.0f - 0.2f * i / n;
      for (int b = 0; b < B; b++) {
        kept[i] += m[b] != 0.0f;
        bad += m[b] != 0.0f && m[b] != 1.0f / k;
      }
    }
  }
  for (int i = 0; i < n; i++) {
    if (!ens_tg_droppath_mask(g, i))
      continue;
    double k = 1.0 - 0.2 * i / n, got = kept[i] / (steps * B),
           sd2 = sqrt(k * (1 - k) / (steps * B));
    printf("drop-path block %d: kept %.4f (want %.4f +- %.4f)\n", i, got, k, 3 * sd2);
    CHECK(fabs(got - k) < 4 * sd2 + 1e-9, "drop-path rate of block %d", i);
  }
  CHECK(!bad, "drop-path mask values not 0 or 1/keep");
  free(d1);
  ens_tg_free(g);
  ens_tg_free(g2);
}

static void test_dropout_exact(void)
{
  ens_train_graph *g = make(B, 2);
  int F = arch.head_chs, K = arch.num_classes;
  float *mask = ens_tg_dropout_mask(g);
  for (int i = 0; i < B * F; i++)
    mask[i] = (i * 7) % 5 == 0 ? 0.0f : 1.0f / 0.8f;
  float loss = ens_tg_forward(g, input, target, 0.1f, 1);
  ens_tg_backward(g, NULL);
  const float *feat = ens_tg_features(g);
  ens_param *w = train_find_param(g, "classifier.weight"),
            *bias = train_find_param(g, "classifier.bias");
  float *logits = malloc((size_t)B * K * sizeof(float)), *dw = calloc((size_t)K * F, sizeof(float));
  double want_loss = 0;
  for (int b = 0; b < B; b++) {
    double mx = -1e30, se = 0, z[64];
    for (int k = 0; k < K; k++) {
      double s = bias->data[k];
      for (int f = 0; f < F; f++)
        s += (double)feat[b * F + f] * mask[b * F + f] * w->data[k * F + f];
      z[k] = s;
      logits[b * K + k] = (float)s;
      mx = s > mx ? s : mx;
    }
    for (int k = 0; k < K; k++)
      se += exp(z[k] - mx);
    for (int k = 0; k < K; k++) {
      double ts = 0.9 * target[b * K + k] + 0.1 / K, p = exp(z[k] - mx) / se;
      want_loss -= ts * (z[k] - mx - log(se)) / B;
      for (int f = 0; f < F; f++)
        dw[k * F + f] += (float)((p - ts) / B * feat[b * F + f] * mask[b * F + f]);
    }
  }
  ens_test_close("dropout: logits vs formula", ens_tg_logits(g), logits, (size_t)B * K, 1e-5, 1e-5);
  CHECK(fabs(loss - want_loss) < 1e-5, "dropout loss %.7g vs %.7g", loss, want_loss);
  train_check_scaled("dropout: classifier.weight.grad", w->grad, dw, (size_t)K * F, 1e-5, 1e-7, 1);
  free(logits);
  free(dw);
  ens_tg_free(g);
}

static void test_droppath_exact(void)
{
  int blk = -1;
  for (int i = arch.nblocks - 1; i >= 0 && blk < 0; i--)
    if (arch.blocks[i].skip)
      blk = i;
  char bn[64], key[96];
  snprintf(bn, sizeof bn, "blocks.%d.%d.bn3", arch.blocks[blk].stage, arch.blocks[blk].index);
  const float k = 1.25f;
  ens_train_graph *a = make(B, 2), *b = make(B, 2);
  float *m = ens_tg_droppath_mask(a, blk);
  for (int i = 0; i < B; i++)
    m[i] = k;
  /* b: no masks, the block's last BN scaled by k instead */
  snprintf(key, sizeof key, "%s.weight", bn);
  ens_param *gw = train_find_param(b, key);
  snprintf(key, sizeof key, "%s.bias", bn);
  ens_param *gb = train_find_param(b, key);
  for (size_t i = 0; i < gw->numel; i++) {
    gw->data[i] *= k;
    gb->data[i] = 0.05f * (float)i; /* non-zero bias so its scaling matters */
  }
  ens_param *ab = train_find_param(a, key);
  for (size_t i = 0; i < ab->numel; i++)
    ab->data[i] = gb->data[i] / k;
  float la = ens_tg_forward(a, input, target, 0.1f, 1);
  ens_tg_backward(a, NULL);
  float lb = ens_tg_forward(b, input, target, 0.1f, 1);
  ens_tg_backward(b, NULL);
  printf("drop-path k=%.2f on %s: loss %.7f vs scaled-BN %.7f\n", k, bn, la, lb);
  CHECK(fabs(la - lb) < 1e-5, "drop-path loss");
  ens_test_close("drop-path logits vs scaled BN", ens_tg_logits(a), ens_tg_logits(b),
                 (size_t)B * arch.num_classes, 1e-5, 1e-5);
  int n;
  ens_param *pa = ens_tg_params(a, &n), *pb = ens_tg_params(b, &n);
  double worst = 0;
  for (int i = 0; i < n; i++) {
    if (!pa[i].grad)
      continue;
    float *want = malloc(pa[i].numel * sizeof(float));
    int is_bn = !strncmp(pa[i].name, bn, strlen(bn)) && pa[i].name[strlen(bn)] == '.';
    for (size_t j = 0; j < pa[i].numel; j++)
      want[j] = is_bn ? pb[i].grad[j] * k : pb[i].grad[j]; /* d/d(gamma/k) = k * d/dgamma */
    if (train_is_zero_grad_bias(pa[i].name)) {
      /* analytically zero in both: float noise only, absolute bound */
      train_check_scaled(pa[i].name, pa[i].grad, want, pa[i].numel, 0.0, 1e-4, 0);
    } else {
      double r = train_check_scaled(pa[i].name, pa[i].grad, want, pa[i].numel, 1e-4, 1e-7, 0);
      worst = r > worst ? r : worst;
    }
    free(want);
  }
  printf("drop-path: all gradients vs scaled BN, worst ratio %.3g\n", worst);

  /* k = 0: the branch contributes nothing, its parameters get exactly zero gradient */
  for (int i = 0; i < B; i++)
    m[i] = 0.0f;
  ens_tg_forward(a, input, target, 0.1f, 1);
  ens_tg_backward(a, NULL);
  char pre[32];
  snprintf(pre, sizeof pre, "blocks.%d.%d.", arch.blocks[blk].stage, arch.blocks[blk].index);
  int nzero = 0;
  for (int i = 0; i < n; i++)
    if (pa[i].grad && !strncmp(pa[i].name, pre, strlen(pre))) {
      for (size_t j = 0; j < pa[i].numel; j++)
        CHECK(pa[i].grad[j] == 0.0f, "%s grad %g with the branch dropped", pa[i].name,
              pa[i].grad[j]);
      nzero++;
    }
  CHECK(nzero == 13, "%d branch tensors checked (IR block: 13)", nzero);
  ens_tg_free(a);
  ens_tg_free(b);
}

static void test_determinism(void)
{
  ens_train_graph *g = make(B, 2), *g1 = make(B, 1);
  ens_tg_set_regularization(g, 0.2f, 0.2f);
  ens_tg_set_regularization(g1, 0.2f, 0.2f);
  ens_tg_draw_masks(g, 77, 1);
  ens_tg_draw_masks(g1, 77, 1);
  float l0 = ens_tg_forward(g, input, target, 0.1f, 1);
  ens_tg_backward(g, NULL);
  float **first = grads_copy(g);
  float l1 = ens_tg_forward(g, input, target, 0.1f, 1);
  ens_tg_backward(g, NULL);
  int n;
  ens_param *p = ens_tg_params(g, &n);
  int same = l0 == l1;
  for (int i = 0; i < n; i++)
    if (p[i].grad)
      same &= !memcmp(first[i], p[i].grad, p[i].numel * sizeof(float));
  CHECK(same, "2 threads, same seed: not bit-identical");
  float lt = ens_tg_forward(g1, input, target, 0.1f, 1);
  ens_tg_backward(g1, NULL);
  ens_param *p1 = ens_tg_params(g1, &n);
  double worst = 0;
  int identical = lt == l0;
  for (int i = 0; i < n; i++)
    if (p[i].grad) {
      identical &= !memcmp(p1[i].grad, p[i].grad, p[i].numel * sizeof(float));
      double r = train_check_scaled(p[i].name, p1[i].grad, p[i].grad, p[i].numel, 1e-5, 1e-9, 0);
      worst = r > worst ? r : worst;
    }
  printf("1 vs 2 threads: loss %.8f vs %.8f, gradients %s, worst ratio %.3g\n", lt, l0,
         identical ? "bit-identical" : "differ", worst);
  grads_free(g, first);
  ens_tg_free(g);
  ens_tg_free(g1);
}

int main(void)
{
  ens_error err;
  CHECK_OK(ens_train_arch_from_mult(0.5, 0.5, 10, &arch, &err), &err);
  ens_test_seed(21);
  input = ens_test_randv((size_t)B * 3 * S * S, 1.5f);
  target = malloc((size_t)B * 10 * sizeof(float));
  for (int b = 0; b < B; b++)
    for (int k = 0; k < 10; k++)
      target[b * 10 + k] = (float)((3 * b + 7 * k) % 10 + 1) / 55.0f;
  test_mask_draws();
  test_dropout_exact();
  test_droppath_exact();
  test_determinism();
  free(input);
  free(target);
  return ens_test_finish("train_regularization");
}
