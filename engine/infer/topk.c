/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* topk.c - softmax and top-k of class scores. */
#include <math.h>

#include "ens.h"
#include "error.h"

void ens_softmax(const float *logits, int n, float *probs)
{
  if (n <= 0)
    return;
  float max = -INFINITY;
  for (int i = 0; i < n; i++)
    if (logits[i] > max)
      max = logits[i];
  if (max == -INFINITY || max == INFINITY) {
    /* All -inf (uniform) or some +inf (they share the mass): the limit of the softmax. */
    int hits = 0;
    for (int i = 0; i < n; i++)
      hits += max == INFINITY ? logits[i] == INFINITY : 1;
    for (int i = 0; i < n; i++)
      probs[i] = (max == INFINITY ? logits[i] == INFINITY : 1) ? 1.0f / (float)hits : 0.0f;
    return;
  }
  /* exp(x - max) <= 1: no overflow. Subtraction, exp and sum in double, so each probability
   * is rounded to float once; the second pass recomputes exp rather than keeping float
   * intermediates. Reading logits[i] before writing probs[i] makes aliasing safe. */
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += exp((double)logits[i] - (double)max);
  double inv = 1.0 / sum;
  for (int i = 0; i < n; i++)
    probs[i] = (float)(exp((double)logits[i] - (double)max) * inv);
}

ens_status ens_softmax_checked(const float *logits, int n, float *probs, ens_error *err)
{
  if (!logits || !probs || n < 1)
    return ens_fail(err, ENS_ERR_ARG, "ens_softmax_checked: %s", n < 1 ? "no logits" : "NULL");
  int bad = 0, first = -1;
  for (int i = 0; i < n; i++)
    if (!isfinite(logits[i])) {
      bad++;
      if (first < 0)
        first = i;
    }
  if (bad)
    return ens_fail(err, ENS_ERR_MODEL,
                    "non-finite logits: %d of %d are NaN or infinite (first: class %d = %g); the "
                    "model's weights or activations are broken, no probabilities given",
                    bad, n, first, (double)logits[first]);
  ens_softmax(logits, n, probs);
  return ENS_OK;
}

/* a ranks before b: higher score, then lower id; NaN ranks last. */
static int ranks_before(float pa, int ia, float pb, int ib)
{
  if (isnan(pb))
    return !isnan(pa) || ia < ib;
  if (isnan(pa))
    return 0;
  return pa > pb || (pa == pb && ia < ib);
}

int ens_topk(const ens_model *m, const float *probs, int n, int k, ens_class_score *out)
{
  if (n <= 0 || k <= 0 || !probs || !out)
    return 0;
  if (k > n)
    k = n;
  /* Insertion into a sorted list of k: O(n k), fine for k << n class counts. */
  int have = 0;
  for (int i = 0; i < n; i++) {
    float p = probs[i];
    if (have == k && !ranks_before(p, i, out[k - 1].prob, out[k - 1].id))
      continue;
    int j = have < k ? have++ : k - 1;
    while (j > 0 && ranks_before(p, i, out[j - 1].prob, out[j - 1].id)) {
      out[j] = out[j - 1];
      j--;
    }
    out[j].id = i;
    out[j].prob = p;
    out[j].label = NULL;
  }
  for (int j = 0; j < k; j++)
    out[j].label = m ? ens_model_label(m, out[j].id) : NULL;
  return k;
}
