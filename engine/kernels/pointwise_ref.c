/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pointwise_ref.c - reference 1x1 convolution: OpenBLAS sgemm per weight panel plus a scalar
 * epilogue.
 *
 * OpenBLAS is called from the forward's own pool workers, one row range each, so it must run
 * single-threaded: ens_kernels_ref() (dispatch.c) sets OpenBLAS to 1 thread. */
#include "kernels.h"

#include <cblas.h>
#include <math.h>

void ens_pointwise_ref(const ens_pw_args *a, int begin, int end)
{
  ens_pw_assert(a, begin, end);
  assert(a->w);
  if (end <= begin)
    return;
  const int cin = a->cin, cout = a->cout, rows = end - begin;
  float *in = a->in + (size_t)begin * cin;
  float *out = a->out + (size_t)begin * cout;

  if (a->se) {
    /* Squeeze-excitation scale of the input channels, in place (allowed by the contract). */
    for (int r = begin; r < end; r++) {
      const float *s = a->se + (size_t)(r / a->rows_per_image) * cin;
      float *x = a->in + (size_t)r * cin;
      for (int c = 0; c < cin; c++)
        x[c] *= s[c];
    }
  }

  int c0, c1;
  ens_pw_cols(a, &c0, &c1);
  if (c1 <= c0)
    return;
  /* out = bias (broadcast), then out += in . w, on columns [c0, c1) */
  for (int r = 0; r < rows; r++)
    for (int c = c0; c < c1; c++)
      out[(size_t)r * cout + c] = a->bias[c];
  for (int cb = c0; cb < c1;) { /* one call per weight panel (kernels.h) */
    const int in_panel = cb % ENS_PW_PANEL,
              n = c1 - cb < ENS_PW_PANEL - in_panel ? c1 - cb : ENS_PW_PANEL - in_panel;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, cin, 1.0f, in, cin,
                a->w + ens_pw_index(cin, 0, cb), ENS_PW_PANEL, 1.0f, out + cb, cout);
    cb += n;
  }

  const float *res = a->residual ? a->residual + (size_t)begin * cout : NULL;
  for (int r = 0; r < rows; r++)
    for (int c = c0; c < c1; c++) {
      float *o = out + (size_t)r * cout + c;
      if (a->act == ENS_ACT_SILU)
        *o = ens_silu_prescaled(*o);
      else if (a->act == ENS_ACT_SIGMOID)
        *o = 1.0f / (1.0f + expf(-*o));
      if (res)
        *o += res[(size_t)r * cout + c];
    }
}
