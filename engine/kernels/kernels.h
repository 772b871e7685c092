/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernels.h - the compute kernels of the forward pass (internal).
 *
 * Every kernel works on one contiguous range of independent work items [begin, end) so the
 * forward can split a call over its thread pool; a kernel never allocates, never spawns
 * threads and never touches state other than its arguments. All activations are NHWC
 * float32 (channels contiguous). Weights are packed once at load time in the layouts below
 * (see net.h); the BatchNorm is already folded into weight + bias.
 *
 * The reference versions (portable C, *_ref.c) define the semantics. CPU-specific versions
 * fill an ens_kernels table with the same signatures; ens_kernels_get() picks one at run
 * time from the CPU's features.
 */
#ifndef ENS_KERNELS_H
#define ENS_KERNELS_H

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Activations. ENS_ACT_SILU takes its input pre-scaled: every convolution followed by a SiLU
 * has its (BN-folded) weights and bias multiplied by ENS_SILU_PRESCALE = -log2(e) at load, so
 * the kernel's accumulator is v = -x log2(e) for the true pre-activation x, and
 *
 *   out = silu(x) = x / (1 + e^-x) = (v * -ln 2) / (1 + 2^v)
 *
 * 2^v needs no multiply and no Cody-Waite steps (v - round(v) is exact), which takes three of
 * the eight FMA-unit operations out of the vector SiLU (silu_avx512.h). */
#define ENS_SILU_PRESCALE (-1.44269504088896340736)
#define ENS_SILU_UNSCALE (-0.693147180559945309f) /* 1 / ENS_SILU_PRESCALE = -ln 2 */

typedef enum {
  ENS_ACT_NONE = 0,
  ENS_ACT_SILU = 1,    /* silu(x) of the pre-scaled v above */
  ENS_ACT_SIGMOID = 2, /* 1 / (1 + exp(-x)): the squeeze-excitation gate (pointwise only) */
} ens_act;

/* ENS_ACT_SILU in portable C: silu(x) for v = x * ENS_SILU_PRESCALE. */
static inline float ens_silu_prescaled(float v)
{
  return v * ENS_SILU_UNSCALE / (1.0f + exp2f(v));
}

/* Pointwise (1x1) convolution = GEMM over NHWC rows, with a fused epilogue:
 *
 *   x[r, ci]   = in[r * cin + ci] * (se ? se[(r / rows_per_image) * cin + ci] : 1)
 *   v          = bias[co] + sum_ci x[r, ci] * w[ci * cout + co]
 *   v          = act(v)
 *   out[r, co] = v + (residual ? residual[r * cout + co] : 0)
 *
 * Work items are rows (0 <= begin <= end <= rows). rows_per_image is only used with se.
 * Only output columns [col_begin, col_end) are computed (col_end == 0 means cout): the forward
 * splits layers with few rows (late blocks, the classifier) by columns so that each thread
 * streams only its share of the weights. col_begin is a multiple of 16.
 * When se != NULL the kernel MAY overwrite in[begin*cin .. end*cin) (the reference scales
 * the rows in place and then calls sgemm); the forward never reads that buffer again, and
 * never gives se to calls that split one row range by columns (they would scale it twice).
 * out must not alias in or residual. Also used for the classifier (rows = batch). */
#define ENS_PW_PREFETCH 3

typedef struct {
  float *in;             /* [rows, cin] */
  const float *w;        /* [cin, cout] in column panels (ENS_PW_PANEL below) */
  const float *bias;     /* [cout] */
  const float *se;       /* NULL or [rows / rows_per_image, cin] per-image channel scales */
  const float *residual; /* NULL or [rows, cout] */
  float *out;            /* [rows, cout] */
  int rows, cin, cout;
  int rows_per_image;
  int col_begin, col_end;
  ens_act act;
  /* Up to ENS_PW_PREFETCH byte ranges (NULL / 0 when unused) this call pulls into cache
   * while it computes, spread over its micro-tiles: a hint, for weights the next steps would
   * otherwise read from memory. A call prefetches all of them; the forward gives each part of
   * a split call its own share. */
  const void *prefetch[ENS_PW_PREFETCH];
  size_t prefetch_bytes[ENS_PW_PREFETCH];
} ens_pw_args;

/* 1x1 convolution weights W [cin, cout] (the GEMM's B operand) are stored in column panels:
 * panel p holds output channels [48 p, 48 p + 48) as a row-major [cin, 48] matrix, the last
 * panel zero-padded. A micro-tile of up to 48 output channels then reads its weights as one
 * contiguous stream, which the hardware prefetcher follows (from a row-major [cin, cout] it
 * would read 192-byte pieces at a cout stride), and needs no masked weight loads. */
#define ENS_PW_PANEL 48

static inline size_t ens_pw_packed_floats(int cin, int cout)
{
  return (size_t)((cout + ENS_PW_PANEL - 1) / ENS_PW_PANEL) * ENS_PW_PANEL * cin;
}

/* Where W[k, c] lives in the packed weights. */
static inline size_t ens_pw_index(int cin, int k, int c)
{
  return ((size_t)(c / ENS_PW_PANEL) * cin + k) * ENS_PW_PANEL + c % ENS_PW_PANEL;
}

/* Packs a row-major W [cin, cout] into dst (ens_pw_packed_floats(cin, cout) floats). */
void ens_pw_pack(const float *w, int cin, int cout, float *dst);

/* The output column range [*c0, *c1) of a (col_end == 0: all of cout). */
static inline void ens_pw_cols(const ens_pw_args *a, int *c0, int *c1)
{
  *c0 = a->col_begin;
  *c1 = a->col_end > 0 ? a->col_end : a->cout;
}

/* Depthwise k x k convolution, stride s, zero padding given explicitly (pad_top, pad_left;
 * bottom/right padding is implied by oh/ow), fused bias + activation:
 *
 *   out[n, oy, ox, c] = act(bias[c] + sum_{ky,kx} in[n, oy*s+ky-pad_top, ox*s+kx-pad_left, c]
 *                                                 * w[(ky * k + kx) * c_total + c])
 *
 * (out-of-range input taps read 0). Work items are output rows: item i = (n = i / oh,
 * oy = i % oh), 0 <= begin <= end <= n * oh. When row_sums != NULL the kernel also writes
 * row_sums[i * c + ch] = sum_ox out[n, oy, ox, ch] (after the activation) for its items: the
 * forward reduces those per image in a fixed order for squeeze-excitation, so the result does
 * not depend on how items were split across threads. Only channels [c_begin, c_end) are
 * computed (c_end == 0 means c; c_begin a multiple of 16): blocks with few rows (7x7) are
 * split across threads by channels. */
typedef struct {
  const float *in; /* [n, ih, iw, c] */
  const float *w;  /* [k * k, c] tap-major */
  const float *bias;
  float *out;      /* [n, oh, ow, c] */
  float *row_sums; /* NULL or [n * oh, c] */
  int n, ih, iw, c;
  int oh, ow;
  int k, stride, pad_top, pad_left;
  int c_begin, c_end;
  ens_act act;
} ens_dw_args;

/* The channel range [*c0, *c1) of a (c_end == 0: all of c). */
static inline void ens_dw_chans(const ens_dw_args *a, int *c0, int *c1)
{
  *c0 = a->c_begin;
  *c1 = a->c_end > 0 ? a->c_end : a->c;
}

/* The stem: 3x3 stride-s convolution from the NCHW 3-channel network input to NHWC, with
 * fused bias + activation:
 *
 *   out[n, oy, ox, co] = act(bias[co] + sum_{ky,kx,ci} in[n, ci, oy*s+ky-pad_top,
 *                              ox*s+kx-pad_left] * w[((ky * k + kx) * cin + ci) * cout + co])
 *
 * Work items are output rows as in the depthwise kernel. */
typedef struct {
  const float *in; /* NCHW [n, cin, ih, iw] */
  const float *w;  /* [k, k, cin, cout] */
  const float *bias;
  float *out; /* [n, oh, ow, cout] */
  int n, cin, ih, iw, cout;
  int oh, ow;
  int k, stride, pad_top, pad_left;
  ens_act act;
} ens_stem_args;

/* bf16 1x1 convolution (ENS_PRECISION_BF16): the pointwise contract above with the weights
 * as bf16 pairs instead of a->w (not read): wb->w[(kk * np + co) * 2 + p] = bf16(W[2 kk + p, co])
 * for kk < kp = ceil(cin / 2), co < np = cout rounded up to 16, zero padding; one 64-byte
 * load then holds the (k, k + 1) pairs of 16 output channels, the operand vdpbf16ps wants.
 * The input rows (times se) are rounded to bf16 (nearest even), each output starts at its
 * bias and adds, pair by pair in k order, the odd channel's product and then the even one's
 * in float32 (products of bf16 values are exact in float32), as vdpbf16ps does; the epilogue
 * is the float32 one. `in` is never written. cin <= ENS_BF16_MAX_CIN. */
typedef struct {
  const uint16_t *w;
  int cin, cout, kp, np;
} ens_bf16_mat;

/* Widest cin the bf16 kernels take (the AVX-512 one converts a row panel on its stack);
 * EfficientNet's widest 1x1 inputs (l2's last-stage projections) are under 10k channels. */
#define ENS_BF16_MAX_CIN 32768

/* float32 -> bf16, round to nearest even (NaN stays NaN), as vcvtne2ps2bf16 does. */
uint16_t ens_f32_to_bf16(float x);

/* Packs W [cin, cout] (float32 column panels, above) into dst (ens_bf16_packed_size(cin, cout)
 * uint16) and fills *m. */
size_t ens_bf16_packed_size(int cin, int cout);
void ens_bf16_pack(const float *W, int cin, int cout, uint16_t *dst, ens_bf16_mat *m);

/* Channel scaling in place: x[r * stride + c] *= s[c] for rows [0, rows) and channels
 * [c0, c1) (the squeeze-excitation gate applied to a depthwise output). */
typedef void (*ens_scale_channels_fn)(float *x, size_t stride, int rows, const float *s, int c0,
                                      int c1);

typedef void (*ens_pointwise_fn)(const ens_pw_args *a, int begin, int end);
typedef void (*ens_depthwise_fn)(const ens_dw_args *a, int begin, int end);
typedef void (*ens_stem_fn)(const ens_stem_args *a, int begin, int end);
typedef void (*ens_pointwise_bf16_fn)(const ens_pw_args *a, const ens_bf16_mat *wb, int begin,
                                      int end);

typedef struct {
  const char *name; /* "ref", "avx512", ... */
  /* Nonzero when every output of pointwise() is computed the same way whatever [begin, end)
   * and column range it is called with, so the thread pool may cut jobs anywhere (each row's
   * sum runs over the input channels in one fixed order). The reference kernel's OpenBLAS
   * sgemm picks its micro-kernels by the call's shape, so there the forward keeps one fixed
   * range per thread to stay deterministic. */
  int pointwise_split_invariant;
  ens_pointwise_fn pointwise;
  ens_depthwise_fn depthwise;
  ens_stem_fn stem;
  ens_scale_channels_fn scale_channels;
  ens_pointwise_bf16_fn pointwise_bf16; /* NULL when this table has no bf16 kernel */
} ens_kernels;

/* Debug builds (no NDEBUG) check the preconditions stated above at every kernel's entry. */
static inline void ens_pw_assert(const ens_pw_args *a, int begin, int end)
{
  (void)a, (void)begin, (void)end;
  assert(a && a->in && a->bias && a->out && a->cin > 0 && a->cout > 0);
  assert(0 <= begin && begin <= end && end <= a->rows);
  assert(a->col_begin >= 0 && a->col_begin % 16 == 0);
  assert(a->col_end == 0 || (a->col_begin <= a->col_end && a->col_end <= a->cout));
  assert(!a->se || a->rows_per_image > 0);
  /* se scales rows in place: a column split of one row range would scale them twice */
  assert(!a->se || (a->col_begin == 0 && (a->col_end == 0 || a->col_end == a->cout)));
  assert(a->out != a->in && a->out != a->residual);
}

static inline void ens_dw_assert(const ens_dw_args *a, int begin, int end)
{
  (void)a, (void)begin, (void)end;
  assert(a && a->in && a->w && a->bias && a->out && a->out != a->in);
  assert(0 <= begin && begin <= end && end <= a->n * a->oh);
  assert(a->k >= 1 && a->stride >= 1 && a->pad_top >= 0 && a->pad_left >= 0);
  assert(a->c_begin >= 0 && a->c_begin % 16 == 0);
  assert(a->c_end == 0 || (a->c_begin <= a->c_end && a->c_end <= a->c));
}

static inline void ens_stem_assert(const ens_stem_args *a, int begin, int end)
{
  (void)a, (void)begin, (void)end;
  assert(a && a->in && a->w && a->bias && a->out);
  assert(0 <= begin && begin <= end && end <= a->n * a->oh);
  assert(a->k >= 1 && a->stride >= 1 && a->pad_top >= 0 && a->pad_left >= 0);
}

/* Portable reference kernels. */
void ens_pointwise_ref(const ens_pw_args *a, int begin, int end);
void ens_depthwise_ref(const ens_dw_args *a, int begin, int end);
void ens_stem_ref(const ens_stem_args *a, int begin, int end);
void ens_scale_channels_ref(float *x, size_t stride, int rows, const float *s, int c0, int c1);
void ens_pointwise_bf16_ref(const ens_pw_args *a, const ens_bf16_mat *wb, int begin, int end);

/* The best kernel table for this CPU (never NULL; the reference one at worst). Environment
 * variable ENS_KERNELS=ref forces the reference kernels, bf16 included (for tests).
 * Choosing the reference table sets OpenBLAS (its pointwise kernel's sgemm runs inside the
 * engine's pool threads, one row range each) to one thread, process-wide: OpenBLAS 0.3.21 has
 * no per-call control, and its own threads inside every call would oversubscribe the cores.
 * The fast tables never touch it. */
const ens_kernels *ens_kernels_get(void);

/* The reference table. */
const ens_kernels *ens_kernels_ref(void);

#endif
