/* pointwise_ref.c - reference 1x1 convolution: OpenBLAS sgemm plus a scalar epilogue.
 *
 * OpenBLAS is called from the forward's own pool workers, one row range each, so it must run
 * single-threaded (see threadpool.c: the model sets OpenBLAS to 1 thread). */
#include "kernels.h"

#include <cblas.h>
#include <math.h>

void ens_pointwise_ref(const ens_pw_args *a, int begin, int end)
{
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

  /* out = bias (broadcast), then out += in . w */
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cout; c++)
      out[(size_t)r * cout + c] = a->bias[c];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, cout, cin, 1.0f, in, cin, a->w, cout,
              1.0f, out, cout);

  if (a->act == ENS_ACT_SILU) {
    size_t n = (size_t)rows * cout;
    for (size_t i = 0; i < n; i++)
      out[i] = out[i] / (1.0f + expf(-out[i]));
  }
  if (a->residual) {
    const float *res = a->residual + (size_t)begin * cout;
    size_t n = (size_t)rows * cout;
    for (size_t i = 0; i < n; i++)
      out[i] += res[i];
  }
}
