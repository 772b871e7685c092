/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* resize_pil.c - Pillow 9.4's uint8 resampler (Resample.c), restated for interleaved RGB.
 *
 * The arithmetic is Pillow's, step by step: the double-precision filter evaluation and
 * normalisation of precompute_coeffs(), the rounding of normalize_coeffs_8bpc(), int32
 * accumulators starting at 1 << (PRECISION_BITS - 1) and clip8(). Only the loop order
 * differs (16 rows at a time through a transposed block in the horizontal pass, whole rows in
 * the vertical one), which cannot change integer sums. Written for -ffp-contract=off
 * semantics (GCC's default with -std=c11): a fused multiply-add in the filter polynomials
 * would move coefficients by an ulp and break bit-exactness.
 */
#include "resize_pil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* clang contracts a * b + c by default when FMA is available */
#endif

#define PRECISION_BITS (32 - 8 - 2)

static double bicubic_filter(double x)
{
  const double a = -0.5;
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

static double bilinear_filter(double x)
{
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return 1.0 - x;
  return 0.0;
}

/* One axis: geometry shared by the size computation and the coefficient builder. */
typedef struct {
  int in_size, out_size;
  double scale, filterscale, support;
  int ksize; /* max taps per output, as Pillow sizes its buffer */
  double (*filter)(double);
} axis_geom;

static int axis_geom_init(axis_geom *g, int in_size, int out_size, ens_pil_filter f)
{
  g->in_size = in_size;
  g->out_size = out_size;
  /* Pillow: scale = (double)(in1 - in0) / outSize with float box bounds 0 .. in_size */
  g->scale = (double)((float)in_size - 0.0f) / out_size;
  g->filterscale = g->scale < 1.0 ? 1.0 : g->scale;
  g->filter = f == ENS_PIL_BICUBIC ? bicubic_filter : bilinear_filter;
  g->support = (f == ENS_PIL_BICUBIC ? 2.0 : 1.0) * g->filterscale;
  double ks = ceil(g->support) * 2 + 1;
  if (ks > (double)(1 << 28))
    return 0;
  g->ksize = (int)ks;
  return 1;
}

/* Source range [*lo, *hi) of output index i (Pillow's xmin / xmax, with (int) truncation). */
static void axis_bounds(const axis_geom *g, int i, int *lo, int *hi)
{
  double center = 0.0 + (i + 0.5) * g->scale;
  int xmin = (int)(center - g->support + 0.5);
  if (xmin < 0)
    xmin = 0;
  int xmax = (int)(center + g->support + 0.5);
  if (xmax > g->in_size)
    xmax = g->in_size;
  *lo = xmin;
  *hi = xmax;
}

/* Coefficients of outputs [o0, o0 + n): lo[j], taps[j], k[j * ksize + t] in fixed point.
 * tmp: ksize doubles. */
static void axis_coeffs(const axis_geom *g, int o0, int n, int *lo, int *taps, int32_t *k,
                        double *tmp)
{
  double ss = 1.0 / g->filterscale;
  for (int j = 0; j < n; j++) {
    int xx = o0 + j;
    double center = 0.0 + (xx + 0.5) * g->scale;
    int xmin, xmax;
    axis_bounds(g, xx, &xmin, &xmax);
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; x++) {
      double w = g->filter((x + xmin - center + 0.5) * ss);
      tmp[x] = w;
      ww += w;
    }
    int32_t *kk = k + (size_t)j * g->ksize;
    for (int x = 0; x < xmax; x++) {
      double w = tmp[x];
      if (ww != 0.0)
        w /= ww;
      kk[x] = w < 0 ? (int32_t)(-0.5 + w * (1 << PRECISION_BITS))
                    : (int32_t)(0.5 + w * (1 << PRECISION_BITS));
    }
    lo[j] = xmin;
    taps[j] = xmax;
  }
}

static inline uint8_t clip8(int32_t v)
{
  if (v < 0)
    return 0;
  v >>= PRECISION_BITS;
  return v > 255 ? 255 : (uint8_t)v;
}

/* Integer sums are exact in any order, so the loops below may be vectorised freely; on x86-64
 * an AVX2 clone is picked at load time (GCC / clang ifunc). */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(ENS_NO_VECTOR_CLONES)
#define ENS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ENS_VECTOR_CLONES
#endif

/* Rows handled together by the horizontal pass: their pixels are transposed so that one
 * column of the block (ROWS x 3 bytes) is contiguous and every tap is one vector
 * multiply-add over ROWS * 3 lanes. */
#define ROWS 16
#define LANES (ROWS * 3)

/* block: cols x LANES bytes (column x of row r, channel c at x * LANES + r * 3 + c);
 * lo[] relative to the block's first column. out_rows[r] receives row r's n pixels. */
ENS_VECTOR_CLONES
static void horizontal_block(const uint8_t *block, int n, const int *lo, const int *taps,
                             const int32_t *k, int ksize, uint8_t *const *out_rows, int rows)
{
  for (int j = 0; j < n; j++) {
    const int32_t *kk = k + (size_t)j * ksize;
    int32_t acc[LANES];
    for (int l = 0; l < LANES; l++)
      acc[l] = 1 << (PRECISION_BITS - 1);
    for (int t = 0; t < taps[j]; t++) {
      const uint8_t *p = block + (size_t)(lo[j] + t) * LANES;
      const int32_t w = kk[t];
      for (int l = 0; l < LANES; l++)
        acc[l] += p[l] * w;
    }
    for (int r = 0; r < rows; r++) {
      out_rows[r][3 * j + 0] = clip8(acc[3 * r + 0]);
      out_rows[r][3 * j + 1] = clip8(acc[3 * r + 1]);
      out_rows[r][3 * j + 2] = clip8(acc[3 * r + 2]);
    }
  }
}

/* Horizontal pass over rows source rows: src points at column col0 of the first row, lo[]
 * are relative to col0, cols columns are read. block: cols * LANES bytes of scratch. */
static void pass_horizontal(const uint8_t *src, size_t src_stride, int rows, int cols, int n,
                            const int *lo, const int *taps, const int32_t *k, int ksize,
                            uint8_t *block, uint8_t *dst, size_t dst_stride)
{
  for (int y0 = 0; y0 < rows; y0 += ROWS) {
    int nr = rows - y0 < ROWS ? rows - y0 : ROWS;
    uint8_t *out_rows[ROWS];
    for (int r = 0; r < nr; r++) {
      const uint8_t *s = src + (size_t)(y0 + r) * src_stride;
      uint8_t *b = block + 3 * r;
      for (int x = 0; x < cols; x++) {
        b[(size_t)x * LANES + 0] = s[3 * x + 0];
        b[(size_t)x * LANES + 1] = s[3 * x + 1];
        b[(size_t)x * LANES + 2] = s[3 * x + 2];
      }
      out_rows[r] = dst + (size_t)(y0 + r) * dst_stride;
    }
    if (nr < ROWS) /* a short last block: unused lanes are computed on zeros, then dropped */
      for (int x = 0; x < cols; x++)
        memset(block + (size_t)x * LANES + 3 * nr, 0, (size_t)(LANES - 3 * nr));
    horizontal_block(block, n, lo, taps, k, ksize, out_rows, nr);
  }
}

/* src points at the first byte of the window's columns; rows are addressed by lo[]. */
ENS_VECTOR_CLONES
static void pass_vertical(const uint8_t *src, size_t src_stride, int row_bytes, int n,
                          const int *lo, const int *taps, const int32_t *k, int ksize, int32_t *acc,
                          uint8_t *dst, size_t dst_stride)
{
  for (int j = 0; j < n; j++) {
    const int32_t *kk = k + (size_t)j * ksize;
    for (int x = 0; x < row_bytes; x++)
      acc[x] = 1 << (PRECISION_BITS - 1);
    for (int t = 0; t < taps[j]; t++) {
      const uint8_t *s = src + (size_t)(lo[j] + t) * src_stride;
      int32_t w = kk[t];
      for (int x = 0; x < row_bytes; x++)
        acc[x] += s[x] * w;
    }
    uint8_t *d = dst + (size_t)j * dst_stride;
    for (int x = 0; x < row_bytes; x++)
      d[x] = clip8(acc[x]);
  }
}

/* Scratch layout, each part 64-byte aligned. */
typedef struct {
  size_t h_lo, h_taps, h_k, v_lo, v_taps, v_k, tmp, mid, acc, block, total;
  int need_h, need_v;
  int rows_first, rows_count; /* source rows the vertical pass reads */
  int cols_first, cols_count; /* source columns the horizontal pass reads */
  ens_rect src_rect;          /* everything read from the source */
} layout;

static int add_part(size_t *off, size_t *part, size_t count, size_t elem)
{
  if (elem && count > (SIZE_MAX / 2) / elem)
    return 0;
  *part = *off;
  size_t bytes = (count * elem + 63) & ~(size_t)63;
  if (*off > SIZE_MAX / 2 - bytes)
    return 0;
  *off += bytes;
  return 1;
}

static int plan(int in_w, int in_h, int out_w, int out_h, const ens_rect *win,
                ens_pil_filter filter, axis_geom *gh, axis_geom *gv, layout *L)
{
  if (in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1 || !win || win->width < 1 || win->height < 1 ||
      win->x < 0 || win->y < 0 || win->x > out_w - win->width || win->y > out_h - win->height)
    return 0;
  if (!axis_geom_init(gh, in_w, out_w, filter) || !axis_geom_init(gv, in_h, out_h, filter))
    return 0;
  memset(L, 0, sizeof *L);
  L->need_h = out_w != in_w;
  L->need_v = out_h != in_h;
  int lo, hi, lo2, hi2;
  axis_bounds(gv, win->y, &lo, &hi);
  axis_bounds(gv, win->y + win->height - 1, &lo2, &hi2);
  L->rows_first = lo;
  L->rows_count = hi2 - lo;
  axis_bounds(gh, win->x, &lo, &hi);
  axis_bounds(gh, win->x + win->width - 1, &lo2, &hi2);
  L->cols_first = lo;
  L->cols_count = hi2 - lo;
  L->src_rect.x = L->need_h ? L->cols_first : win->x;
  L->src_rect.width = L->need_h ? L->cols_count : win->width;
  L->src_rect.y = L->need_v ? L->rows_first : win->y;
  L->src_rect.height = L->need_v ? L->rows_count : win->height;
  size_t off = 0, nw = (size_t)win->width, nh = (size_t)win->height;
  size_t maxk = (size_t)(gh->ksize > gv->ksize ? gh->ksize : gv->ksize);
  int ok = 1;
  if (L->need_h) {
    ok &= add_part(&off, &L->h_lo, nw, sizeof(int));
    ok &= add_part(&off, &L->h_taps, nw, sizeof(int));
    ok &= nw <= SIZE_MAX / 8 / (size_t)gh->ksize;
    ok = ok && add_part(&off, &L->h_k, nw * (size_t)gh->ksize, sizeof(int32_t));
    ok = ok && add_part(&off, &L->block, (size_t)L->cols_count, LANES);
  }
  if (L->need_v) {
    ok &= add_part(&off, &L->v_lo, nh, sizeof(int));
    ok &= add_part(&off, &L->v_taps, nh, sizeof(int));
    ok &= nh <= SIZE_MAX / 8 / (size_t)gv->ksize;
    ok = ok && add_part(&off, &L->v_k, nh * (size_t)gv->ksize, sizeof(int32_t));
    ok = ok && add_part(&off, &L->acc, nw * 3, sizeof(int32_t));
  }
  ok = ok && add_part(&off, &L->tmp, maxk, sizeof(double));
  if (L->need_h && L->need_v) {
    ok &= nw * 3 <= SIZE_MAX / 4 / (size_t)L->rows_count;
    ok = ok && add_part(&off, &L->mid, nw * 3 * (size_t)L->rows_count, 1);
  }
  L->total = off ? off : 64;
  return ok;
}

size_t ens_pil_resize_scratch_size(int in_w, int in_h, int out_w, int out_h, const ens_rect *win,
                                   ens_pil_filter filter)
{
  ens_rect all = {0, 0, out_w, out_h};
  axis_geom gh, gv;
  layout L;
  if (!plan(in_w, in_h, out_w, out_h, win ? win : &all, filter, &gh, &gv, &L))
    return 0;
  return L.total;
}

int ens_pil_resize_source_rect(int in_w, int in_h, int out_w, int out_h, const ens_rect *win,
                               ens_pil_filter filter, ens_rect *src_rect)
{
  ens_rect all = {0, 0, out_w, out_h};
  axis_geom gh, gv;
  layout L;
  if (!plan(in_w, in_h, out_w, out_h, win ? win : &all, filter, &gh, &gv, &L))
    return 0;
  *src_rect = L.src_rect;
  return 1;
}

void ens_pil_resize(const uint8_t *src, int in_w, int in_h, size_t src_stride, int out_w, int out_h,
                    const ens_rect *win, ens_pil_filter filter, uint8_t *dst, size_t dst_stride,
                    void *scratch)
{
  ens_pil_resize_from(src, 0, 0, in_w, in_h, src_stride, out_w, out_h, win, filter, dst, dst_stride,
                      scratch);
}

void ens_pil_resize_from(const uint8_t *src, int x0, int y0, int in_w, int in_h, size_t src_stride,
                         int out_w, int out_h, const ens_rect *win, ens_pil_filter filter,
                         uint8_t *dst, size_t dst_stride, void *scratch)
{
  ens_rect all = {0, 0, out_w, out_h};
  axis_geom gh, gv;
  layout L;
  if (!win)
    win = &all;
  if (!plan(in_w, in_h, out_w, out_h, win, filter, &gh, &gv, &L) || x0 < 0 || y0 < 0 ||
      x0 > L.src_rect.x || y0 > L.src_rect.y)
    return;
  uint8_t *base = scratch;
  double *tmp = (double *)(base + L.tmp);
  int nw = win->width, nh = win->height;
  int *h_lo = NULL, *h_taps = NULL, *v_lo = NULL, *v_taps = NULL;
  int32_t *h_k = NULL, *v_k = NULL;
  if (L.need_h) {
    h_lo = (int *)(base + L.h_lo);
    h_taps = (int *)(base + L.h_taps);
    h_k = (int32_t *)(base + L.h_k);
    axis_coeffs(&gh, win->x, nw, h_lo, h_taps, h_k, tmp);
    for (int j = 0; j < nw; j++)
      h_lo[j] -= L.cols_first;
  }
  if (L.need_v) {
    v_lo = (int *)(base + L.v_lo);
    v_taps = (int *)(base + L.v_taps);
    v_k = (int32_t *)(base + L.v_k);
    axis_coeffs(&gv, win->y, nh, v_lo, v_taps, v_k, tmp);
  }

  if (L.need_h && L.need_v) {
    /* horizontal over the source rows the window needs, then vertical from that band */
    uint8_t *mid = base + L.mid;
    size_t mid_stride = (size_t)nw * 3;
    pass_horizontal(src + (size_t)(L.rows_first - y0) * src_stride +
                        (size_t)(L.cols_first - x0) * 3,
                    src_stride, L.rows_count, L.cols_count, nw, h_lo, h_taps, h_k, gh.ksize,
                    base + L.block, mid, mid_stride);
    for (int j = 0; j < nh; j++)
      v_lo[j] -= L.rows_first;
    pass_vertical(mid, mid_stride, nw * 3, nh, v_lo, v_taps, v_k, gv.ksize,
                  (int32_t *)(base + L.acc), dst, dst_stride);
  } else if (L.need_h) {
    /* height unchanged: Pillow skips the vertical pass, output row y = source row y */
    pass_horizontal(src + (size_t)(win->y - y0) * src_stride + (size_t)(L.cols_first - x0) * 3,
                    src_stride, nh, L.cols_count, nw, h_lo, h_taps, h_k, gh.ksize, base + L.block,
                    dst, dst_stride);
  } else if (L.need_v) {
    /* width unchanged: vertical pass straight from the source columns */
    for (int j = 0; j < nh; j++)
      v_lo[j] -= y0;
    pass_vertical(src + (size_t)(win->x - x0) * 3, src_stride, nw * 3, nh, v_lo, v_taps, v_k,
                  gv.ksize, (int32_t *)(base + L.acc), dst, dst_stride);
  } else {
    for (int y = 0; y < nh; y++)
      memcpy(dst + (size_t)y * dst_stride,
             src + (size_t)(win->y - y0 + y) * src_stride + (size_t)(win->x - x0) * 3,
             (size_t)nw * 3);
  }
}

ens_status ens_pil_resize_alloc(const uint8_t *src, int in_w, int in_h, size_t src_stride,
                                int out_w, int out_h, const ens_rect *win, ens_pil_filter filter,
                                uint8_t *dst, size_t dst_stride, ens_error *err)
{
  size_t need = ens_pil_resize_scratch_size(in_w, in_h, out_w, out_h, win, filter);
  if (!need)
    return ens_fail(err, ENS_ERR_ARG, "resize %dx%d -> %dx%d: invalid sizes or window", in_w, in_h,
                    out_w, out_h);
  void *scratch = malloc(need);
  if (!scratch)
    return ens_fail(err, ENS_ERR_NOMEM, "resize %dx%d -> %dx%d: cannot allocate %zu bytes", in_w,
                    in_h, out_w, out_h, need);
  ens_pil_resize(src, in_w, in_h, src_stride, out_w, out_h, win, filter, dst, dst_stride, scratch);
  free(scratch);
  return ENS_OK;
}
