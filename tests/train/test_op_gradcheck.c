/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_op_gradcheck.c - central finite differences of every training op's forward against its
 * backward, on tiny shapes. Loss L = sum(r * y) with a fixed random r, summed in double, so
 * dL/dy = r; each checked input or parameter gets max|analytic - fd| <= 1e-3 * max|fd| + 1e-5
 * (a wrong or missing backward term is off by O(1) of that scale). The ops run with a 2-thread
 * pool so the split paths are exercised too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "kernels/kernels.h"
#include "train_math.h"
#include "train_ops.h"

typedef void (*forward_fn)(void *ctx, float *y);

typedef struct {
  forward_fn fwd;
  void *ctx;
  float *y;
  const float *r;
  size_t ny;
} fd_case;

static double loss_of(const fd_case *c)
{
  c->fwd(c->ctx, c->y);
  double s = 0;
  for (size_t i = 0; i < c->ny; i++)
    s += (double)c->r[i] * c->y[i];
  return s;
}

/* Compare grad (analytic dL/dx) with central differences over x (n values; every one up to
 * 64 values, else 64 spread indices). */
static void fd_check(const char *what, const fd_case *c, float *x, size_t n, const float *grad,
                     float h)
{
  double maxd = 0, maxg = 0;
  size_t step = n <= 64 ? 1 : n / 64;
  for (size_t i = 0; i < n; i += step) {
    float keep = x[i];
    x[i] = keep + h;
    double lp = loss_of(c);
    x[i] = keep - h;
    double lm = loss_of(c);
    x[i] = keep;
    double fd = (lp - lm) / (2.0 * h);
    double d = fabs(fd - grad[i]);
    maxd = d > maxd ? d : maxd;
    maxg = fabs(fd) > maxg ? fabs(fd) : maxg;
  }
  loss_of(c); /* leave y at the unperturbed value */
  int ok = maxd <= 1e-3 * maxg + 1e-5 && maxg > 0;
  printf("%-28s n=%-5zu max|fd|=%.4g max|analytic-fd|=%.3g (%.2g) %s\n", what, n, maxg, maxd,
         maxg > 0 ? maxd / maxg : 0.0, ok ? "ok" : "FAIL");
  if (!ok)
    ens_test_failures++;
}

static ens_threadpool *pool;

/* ---------------------------------------------------------------- conv1x1 */
typedef struct {
  float *x, *w;
  int P, cin, cout;
  const ens_pw_scratch *fast;
} c1_ctx;
static void c1_fwd(void *v, float *y)
{
  c1_ctx *c = v;
  conv1x1_forward(pool, y, c->x, c->w, c->P, c->cin, c->cout, c->fast);
}
static void test_conv1x1(void)
{
  c1_ctx c = {NULL, NULL, 300, 12, 40, NULL}; /* small: one OpenBLAS call, accumulate */
  size_t nx = (size_t)c.P * c.cin, nw = (size_t)c.cout * c.cin, ny = (size_t)c.P * c.cout;
  c.x = ens_test_randv(nx, 1);
  c.w = ens_test_randv(nw, 1);
  float *y = malloc(ny * 4), *r = ens_test_randv(ny, 1), *dx = ens_test_randv(nx, 1);
  float *dw = malloc(nw * 4), *dx0 = malloc(nx * 4);
  memcpy(dx0, dx, nx * 4);
  fd_case fc = {c1_fwd, &c, y, r, ny};
  conv1x1_backward(pool, dx, dw, r, c.x, c.w, c.P, c.cin, c.cout, 1, NULL);
  for (size_t i = 0; i < nx; i++)
    dx[i] -= dx0[i]; /* accumulate mode added the gradient */
  fd_check("conv1x1 dx (accumulate)", &fc, c.x, nx, dx, 1e-2f);
  fd_check("conv1x1 dw", &fc, c.w, nw, dw, 1e-2f);
  free(c.x), free(c.w), free(y), free(r), free(dx), free(dw), free(dx0);
}

/* large enough for the pool-split GEMM path */
static void test_conv1x1_split(const ens_pw_scratch *fast, int P, int cin, int cout)
{
  c1_ctx c = {NULL, NULL, P, cin, cout, fast};
  size_t nx = (size_t)c.P * c.cin, nw = (size_t)c.cout * c.cin, ny = (size_t)c.P * c.cout;
  c.x = ens_test_randv(nx, 1);
  c.w = ens_test_randv(nw, 1);
  float *y = malloc(ny * 4), *r = ens_test_randv(ny, 1), *dx = malloc(nx * 4), *dw = malloc(nw * 4);
  fd_case fc = {c1_fwd, &c, y, r, ny};
  conv1x1_backward(pool, dx, dw, r, c.x, c.w, c.P, c.cin, c.cout, 0, fast);
  char name[64];
  snprintf(name, sizeof name, "conv1x1 %s %d->%d dx", fast ? "fast" : "split", cin, cout);
  fd_check(name, &fc, c.x, nx, dx, 1e-2f);
  snprintf(name, sizeof name, "conv1x1 %s %d->%d dw", fast ? "fast" : "split", cin, cout);
  fd_check(name, &fc, c.w, nw, dw, 1e-2f);
  free(c.x), free(c.w), free(y), free(r), free(dx), free(dw);
}

/* ---------------------------------------------------------------- stem */
typedef struct {
  float *x, *w, *col;
  int N, H, W, OH, OW, pt, pl, cout;
} st_ctx;
static void st_fwd(void *v, float *y)
{
  st_ctx *c = v;
  stem_forward(pool, y, c->col, c->x, c->w, c->N, c->H, c->W, c->OH, c->OW, c->pt, c->pl, c->cout);
}
static void test_stem(int H, int W)
{
  /* TF SAME at stride 2: out = ceil(in/2), pad = max((out-1)*2+3-in, 0), before = pad/2 */
  int OH = (H + 1) / 2, OW = (W + 1) / 2;
  int ph = (OH - 1) * 2 + 3 - H, pw = (OW - 1) * 2 + 3 - W;
  st_ctx c = {NULL, NULL, NULL, 2, H, W, OH, OW, ph / 2, pw / 2, 5};
  size_t nx = (size_t)2 * H * W * 3, nw = 5 * 27, ny = (size_t)2 * OH * OW * 5;
  c.x = ens_test_randv(nx, 1);
  c.w = ens_test_randv(nw, 1);
  c.col = malloc((size_t)2 * OH * OW * 27 * 4);
  float *y = malloc(ny * 4), *r = ens_test_randv(ny, 1), *dx = malloc(nx * 4), *dw = malloc(nw * 4);
  float *dcol = malloc((size_t)2 * OH * OW * 27 * 4);
  fd_case fc = {st_fwd, &c, y, r, ny};
  loss_of(&fc);
  stem_backward(pool, dx, dcol, dw, r, c.col, c.w, 2, H, W, OH, OW, c.pt, c.pl, 5);
  char name[64];
  snprintf(name, sizeof name, "stem %dx%d dx", H, W);
  fd_check(name, &fc, c.x, nx, dx, 1e-2f);
  snprintf(name, sizeof name, "stem %dx%d dw", H, W);
  fd_check(name, &fc, c.w, nw, dw, 1e-2f);
  free(c.x), free(c.w), free(c.col), free(y), free(r), free(dx), free(dw), free(dcol);
}

/* ---------------------------------------------------------------- depthwise */
typedef struct {
  float *x, *w;
  ens_dw_shape sh;
} dw_ctx;
static void dw_fwd(void *v, float *y)
{
  dw_ctx *c = v;
  dwconv_forward(pool, y, c->x, c->w, &c->sh);
}
static void test_dw(int k, int s, int H, int W, int C, int fast)
{
  dw_ctx c;
  int OH, OW, pt, pl;
  if (s == 1) {
    OH = H, OW = W, pt = pl = (k - 1) / 2;
  } else {
    OH = (H + s - 1) / s, OW = (W + s - 1) / s;
    int ph = (OH - 1) * s + k - H, pw = (OW - 1) * s + k - W;
    pt = ph > 0 ? ph / 2 : 0, pl = pw > 0 ? pw / 2 : 0;
  }
  /* fast: scratch given, so the CPU kernels run when the machine has them */
  float *zeros = calloc((size_t)C, 4), *wflip = malloc((size_t)k * k * C * 4);
  c.sh = (ens_dw_shape){2, H, W, C, OH, OW, k, s, pt, pl, fast ? zeros : NULL, fast ? wflip : NULL};
  size_t nx = (size_t)2 * H * W * C, nw = (size_t)k * k * C, ny = (size_t)2 * OH * OW * C;
  c.x = ens_test_randv(nx, 1);
  c.w = ens_test_randv(nw, 1);
  float *y = malloc(ny * 4), *r = ens_test_randv(ny, 1), *dx = ens_test_randv(nx, 1);
  float *dx0 = malloc(nx * 4), *dw = malloc(nw * 4);
  memcpy(dx0, dx, nx * 4);
  fd_case fc = {dw_fwd, &c, y, r, ny};
  dwconv_backward(pool, dx, dw, r, c.x, c.w, &c.sh, !fast);
  if (!fast) /* accumulate mode added the gradient */
    for (size_t i = 0; i < nx; i++)
      dx[i] -= dx0[i];
  char name[64];
  snprintf(name, sizeof name, "dw%s k%d s%d %dx%d dx", fast ? " fast" : "", k, s, H, W);
  fd_check(name, &fc, c.x, nx, dx, 1e-2f);
  snprintf(name, sizeof name, "dw%s k%d s%d %dx%d dw", fast ? " fast" : "", k, s, H, W);
  fd_check(name, &fc, c.w, nw, dw, 1e-2f);
  free(c.x), free(c.w), free(y), free(r), free(dx), free(dx0), free(dw), free(zeros), free(wflip);
}

/* ---------------------------------------------------------------- batchnorm (train) */
typedef struct {
  float *x, *g, *b, *mean, *invstd, *var;
  int P, C;
} bn_ctx;
static void bn_fwd(void *v, float *y)
{
  bn_ctx *c = v;
  batchnorm_train_forward(pool, y, c->mean, c->invstd, c->var, c->x, c->g, c->b, NULL, NULL, c->P,
                          c->C, 1e-3f, 0.1f);
}
/* h: the FD step; with P = 2 the two values of a channel can be close, and within
 * sqrt(eps) of each other BN is strongly curved, so that case takes a smaller step */
static void test_bn(int P, int C, float h)
{
  bn_ctx c = {NULL, NULL, NULL, malloc(C * 4), malloc(C * 4), malloc(C * 4), P, C};
  size_t n = (size_t)P * C;
  c.x = ens_test_randv(n, 2);
  c.g = ens_test_randv(C, 1);
  c.b = ens_test_randv(C, 1);
  float *y = malloc(n * 4), *r = ens_test_randv(n, 1), *dx = malloc(n * 4);
  float *dg = malloc(C * 4), *db = malloc(C * 4);
  fd_case fc = {bn_fwd, &c, y, r, n};
  loss_of(&fc);
  memcpy(dx, r, n * 4);
  batchnorm_backward(pool, dx, dg, db, dx, c.x, c.mean, c.invstd, c.g, P, C); /* in place */
  char name[64];
  snprintf(name, sizeof name, "batchnorm P%d C%d dx", P, C);
  fd_check(name, &fc, c.x, n, dx, h);
  fd_check("batchnorm dgamma", &fc, c.g, C, dg, h);
  fd_check("batchnorm dbeta", &fc, c.b, C, db, h);
  free(c.x), free(c.g), free(c.b), free(c.mean), free(c.invstd), free(c.var);
  free(y), free(r), free(dx), free(dg), free(db);
}

/* ---------------------------------------------------------------- silu */
typedef struct {
  float *x;
  size_t n;
} si_ctx;
static void si_fwd(void *v, float *y)
{
  si_ctx *c = v;
  silu_forward(pool, y, c->x, c->n);
}
static void test_silu(void)
{
  si_ctx c = {ens_test_randv(9000, 5), 9000};
  float *y = malloc(c.n * 4), *r = ens_test_randv(c.n, 1), *dx = malloc(c.n * 4);
  fd_case fc = {si_fwd, &c, y, r, c.n};
  silu_backward(pool, dx, r, c.x, c.n);
  fd_check("silu dx", &fc, c.x, c.n, dx, 1e-2f);
  free(c.x), free(y), free(r), free(dx);
}

/* ---------------------------------------------------------------- squeeze-excite */
typedef struct {
  float *a, *wr, *br, *we, *be;
  ens_se_saved sv;
  int N, HW, C, rd;
} se_ctx;
static void se_fwd(void *v, float *y)
{
  se_ctx *c = v;
  se_forward(pool, y, &c->sv, c->a, c->wr, c->br, c->we, c->be, c->N, c->HW, c->C, c->rd);
}
static void test_se(void)
{
  se_ctx c;
  c.N = 3, c.HW = 7, c.C = 12, c.rd = 3;
  size_t n = (size_t)c.N * c.HW * c.C, nr = (size_t)c.rd * c.C;
  c.a = ens_test_randv(n, 2);
  c.wr = ens_test_randv(nr, 1), c.br = ens_test_randv(c.rd, 1);
  c.we = ens_test_randv(nr, 1), c.be = ens_test_randv(c.C, 1);
  c.sv.m = malloc(c.N * c.C * 4), c.sv.g = malloc(c.N * c.C * 4);
  c.sv.r = malloc(c.N * c.rd * 4), c.sv.ra = malloc(c.N * c.rd * 4);
  c.sv.de = malloc(c.N * c.C * 4), c.sv.dr = malloc(c.N * c.rd * 4);
  c.sv.acc = malloc(c.N * c.C * sizeof(double));
  float *y = malloc(n * 4), *r = ens_test_randv(n, 1), *da = malloc(n * 4);
  float *dwr = malloc(nr * 4), *dbr = malloc(c.rd * 4), *dwe = malloc(nr * 4),
        *dbe = malloc(c.C * 4);
  fd_case fc = {se_fwd, &c, y, r, n};
  loss_of(&fc);
  memcpy(da, r, n * 4);
  se_backward(pool, da, dwr, dbr, dwe, dbe, da, c.a, &c.sv, c.wr, c.we, c.N, c.HW, c.C, c.rd);
  fd_check("se da (in place)", &fc, c.a, n, da, 1e-2f);
  fd_check("se conv_reduce.weight", &fc, c.wr, nr, dwr, 1e-2f);
  fd_check("se conv_reduce.bias", &fc, c.br, c.rd, dbr, 1e-2f);
  fd_check("se conv_expand.weight", &fc, c.we, nr, dwe, 1e-2f);
  fd_check("se conv_expand.bias", &fc, c.be, c.C, dbe, 1e-2f);
  free(c.a), free(c.wr), free(c.br), free(c.we), free(c.be);
  free(c.sv.m), free(c.sv.g), free(c.sv.r), free(c.sv.ra), free(c.sv.de), free(c.sv.dr);
  free(c.sv.acc);
  free(y), free(r), free(da), free(dwr), free(dbr), free(dwe), free(dbe);
}

/* ---------------------------------------------------------------- residual, pool, dropout */
typedef struct {
  float *s, *b, *mask, *x;
  int N;
  size_t per;
} misc_ctx;
static void res_fwd(void *v, float *y)
{
  misc_ctx *c = v;
  residual_forward(y, c->s, c->b, c->mask, c->N, c->per);
}
static void pool_fwd(void *v, float *y)
{
  misc_ctx *c = v;
  avgpool_forward(y, c->x, c->N, 5, (int)c->per);
}
static void drop_fwd(void *v, float *y)
{
  misc_ctx *c = v;
  dropout_forward(y, c->x, c->mask, (size_t)c->N * c->per);
}
static void test_misc(void)
{
  float mask[4] = {0.0f, 1.25f, 1.25f, 0.0f};
  misc_ctx c = {ens_test_randv(40, 1), ens_test_randv(40, 1), mask, NULL, 4, 10};
  float *y = malloc(40 * 4), *r = ens_test_randv(40, 1), *db = malloc(40 * 4);
  fd_case fc = {res_fwd, &c, y, r, 40};
  residual_backward_branch(db, r, mask, 4, 10);
  fd_check("residual drop-path branch", &fc, c.b, 40, db, 1e-2f);
  fd_check("residual shortcut", &fc, c.s, 40, r, 1e-2f); /* shortcut grad is dy */

  misc_ctx p = {NULL, NULL, NULL, ens_test_randv(3 * 5 * 6, 1), 3, 6};
  float *yp = malloc(18 * 4), *rp = ens_test_randv(18, 1), *dxp = malloc(90 * 4);
  fd_case fp = {pool_fwd, &p, yp, rp, 18};
  avgpool_backward(dxp, rp, 3, 5, 6);
  fd_check("avgpool dx", &fp, p.x, 90, dxp, 1e-2f);

  float dmask[12];
  for (int i = 0; i < 12; i++)
    dmask[i] = i % 3 ? 2.0f : 0.0f;
  misc_ctx d = {NULL, NULL, dmask, ens_test_randv(12, 1), 2, 6};
  float *yd = malloc(12 * 4), *rd = ens_test_randv(12, 1), *dxd = malloc(12 * 4);
  fd_case fdc = {drop_fwd, &d, yd, rd, 12};
  dropout_backward(dxd, rd, dmask, 12);
  fd_check("dropout dx", &fdc, d.x, 12, dxd, 1e-2f);
  free(c.s), free(c.b), free(y), free(r), free(db), free(p.x), free(yp), free(rp), free(dxp);
  free(d.x), free(yd), free(rd), free(dxd);
}

/* ---------------------------------------------------------------- linear + loss */
typedef struct {
  float *x, *w, *b;
  int N, F, K;
} li_ctx;
static void li_fwd(void *v, float *y)
{
  li_ctx *c = v;
  linear_forward(y, c->x, c->w, c->b, c->N, c->F, c->K);
}
typedef struct {
  float *z, *t;
  int N, K;
  float eps;
} xe_ctx;
static void xe_fwd(void *v, float *y)
{
  xe_ctx *c = v;
  y[0] = softmax_xent_forward_backward(NULL, c->z, c->t, c->N, c->K, c->eps);
}
static void test_linear_loss(void)
{
  li_ctx c = {ens_test_randv(4 * 9, 1), ens_test_randv(5 * 9, 1), ens_test_randv(5, 1), 4, 9, 5};
  float *y = malloc(20 * 4), *r = ens_test_randv(20, 1), *dx = malloc(36 * 4);
  float *dw = malloc(45 * 4), *db = malloc(5 * 4);
  fd_case fc = {li_fwd, &c, y, r, 20};
  linear_backward(dx, dw, db, r, c.x, c.w, 4, 9, 5);
  fd_check("linear dx", &fc, c.x, 36, dx, 1e-2f);
  fd_check("linear dw", &fc, c.w, 45, dw, 1e-2f);
  fd_check("linear db", &fc, c.b, 5, db, 1e-2f);

  /* soft targets (rows sum to 1) and a one-hot row, smoothing 0.1 */
  float t[12] = {0.1f, 0.2f, 0.3f, 0.4f, 0, 0, 1, 0, 0.25f, 0.25f, 0.25f, 0.25f};
  xe_ctx x = {ens_test_randv(12, 3), t, 3, 4, 0.1f};
  float one = 1.0f, loss, dz[12];
  fd_case fx = {xe_fwd, &x, &loss, &one, 1};
  softmax_xent_forward_backward(dz, x.z, t, 3, 4, 0.1f);
  fd_check("softmax xent (eps 0.1) dz", &fx, x.z, 12, dz, 1e-2f);
  free(c.x), free(c.w), free(c.b), free(y), free(r), free(dx), free(dw), free(db), free(x.z);
}

/* the vectorizable exp used by SiLU / sigmoid: relative error vs double exp */
static void test_expf(void)
{
  double worst = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.00137f) {
    double want = exp((double)x), got = ens_tg_expf(x);
    double rel = fabs(got - want) / want;
    worst = rel > worst ? rel : worst;
  }
  printf("ens_tg_expf on [-87, 88]: worst relative error %.3g\n", worst);
  CHECK(worst <= 2e-7, "ens_tg_expf relative error %.3g", worst);
  CHECK(ens_tg_expf(-1000.0f) > 0.0f && ens_tg_expf(-1000.0f) < 1e-37f &&
            ens_tg_expf(1000.0f) > 1e38f && ens_tg_sigmoid(-1000.0f) == ens_tg_sigmoid(-1000.0f),
        "ens_tg_expf clamping");
}

int main(void)
{
  ens_error err;
  CHECK_OK(ens_threadpool_new(2, &pool, &err), &err);
  ens_test_seed(3);
  test_expf();
  test_conv1x1();
  test_conv1x1_split(NULL, 2048, 32, 64); /* GEMMs split by rows */
  test_conv1x1_split(NULL, 4096, 64, 16); /* dw [16, 64]: split by columns */
  {
    float *pack = malloc(ens_pw_packed_floats(64, 64) * 4), *zeros = calloc(64, 4);
    ens_pw_scratch fast = {pack, zeros}; /* the pointwise kernel where the CPU has AVX-512 */
    test_conv1x1_split(&fast, 2048, 32, 64);
    free(pack);
    free(zeros);
  }
  test_stem(9, 8); /* odd / even sizes: pads (0,1) and (1,1) */
  test_stem(8, 11);
  for (int fast = 0; fast < 2; fast++) {
    test_dw(3, 1, 5, 6, 19, fast);
    test_dw(5, 1, 6, 5, 17, fast);
    test_dw(3, 2, 8, 7, 18, fast); /* SAME pads (0,1) and (1,1) */
    test_dw(5, 2, 7, 8, 20, fast); /* (2,2) and (1,2) */
  }
  test_bn(50, 70, 1e-2f); /* two channel blocks */
  test_bn(2, 3, 1e-3f);
  test_silu();
  test_se();
  test_misc();
  test_linear_loss();
  ens_threadpool_free(pool);
  return ens_test_finish("op_gradcheck");
}
