/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pseudo_label.c - pseudo-labels, threshold and class balancing (see pseudo_label.h). */
#include "pseudo_label.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef struct {
  int idx, cls;
  float conf;
} candidate;

/* Class ascending, confidence descending, index ascending: a total, deterministic order. */
static int by_class_conf(const void *a, const void *b)
{
  const candidate *x = a, *y = b;
  if (x->cls != y->cls)
    return x->cls < y->cls ? -1 : 1;
  if (x->conf != y->conf)
    return x->conf > y->conf ? -1 : 1;
  return (x->idx > y->idx) - (x->idx < y->idx);
}

ens_status ens_pseudo_label(const ens_dataset *unlabeled, const float *probs,
                            const ens_pseudo_config *c, ens_dataset *out, ens_pseudo_stats *stats,
                            ens_error *err)
{
  int n = unlabeled->n, K = unlabeled->num_classes;
  memset(stats, 0, sizeof *stats);
  memset(out, 0, sizeof *out);
  if (K < 1)
    return ens_fail(err, ENS_ERR_ARG, "pseudo-labels: the unlabeled set has no class count");
  if (c->per_class < 0 || !(c->threshold >= 0.0f && c->threshold <= 1.0f))
    return ens_fail(err, ENS_ERR_ARG,
                    "pseudo-labels: threshold must be in [0, 1] and the "
                    "per-class count >= 0");
  candidate *cand = malloc((size_t)(n ? n : 1) * sizeof *cand);
  if (!cand)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for pseudo-labels");
  int m = 0, labeled = 0, right = 0;
  double conf_sum = 0.0;
  for (int i = 0; i < n; i++) {
    const float *p = probs + (size_t)i * K;
    int best = 0;
    for (int k = 1; k < K; k++)
      if (p[k] > p[best])
        best = k;
    conf_sum += p[best];
    if (unlabeled->labels[i] >= 0) {
      labeled++;
      right += unlabeled->labels[i] == best;
    }
    if (p[best] >= c->threshold)
      cand[m++] = (candidate){i, best, p[best]};
  }
  stats->input = n;
  stats->above = m;
  stats->mean_conf = n ? conf_sum / n : 0.0;
  stats->acc_input = labeled ? 100.0 * right / labeled : -1.0;
  qsort(cand, (size_t)m, sizeof *cand, by_class_conf);

  /* The rows of the output, as indices into cand. */
  int rows_cap = c->per_class > 0 ? c->per_class * K : m;
  int *rows = malloc((size_t)(rows_cap ? rows_cap : 1) * sizeof *rows);
  if (!rows) {
    free(cand);
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for pseudo-labels");
  }
  int r = 0;
  if (c->per_class > 0) {
    for (int s = 0; s < m;) {
      int e = s;
      while (e < m && cand[e].cls == cand[s].cls)
        e++;
      for (int j = 0; j < c->per_class; j++) /* cycle through the class: duplicates */
        rows[r++] = s + j % (e - s);
      s = e;
    }
  } else {
    for (int j = 0; j < m; j++)
      rows[r++] = j;
  }

  int *idx = malloc((size_t)(r ? r : 1) * sizeof *idx);
  uint8_t *seen = calloc((size_t)(n ? n : 1), 1);
  float *soft = c->hard ? NULL : malloc((size_t)(r ? r : 1) * K * sizeof *soft);
  ens_status st = ENS_OK;
  if (!idx || !seen || (!c->hard && !soft))
    st = ens_fail(err, ENS_ERR_NOMEM, "out of memory for pseudo-labels");
  int kept_labeled = 0, kept_right = 0;
  for (int j = 0; j < r && st == ENS_OK; j++) {
    const candidate *x = &cand[rows[j]];
    idx[j] = x->idx;
    stats->unique += !seen[x->idx];
    seen[x->idx] = 1;
    if (soft)
      memcpy(soft + (size_t)j * K, probs + (size_t)x->idx * K, (size_t)K * sizeof *soft);
    if (unlabeled->labels[x->idx] >= 0) {
      kept_labeled++;
      kept_right += unlabeled->labels[x->idx] == x->cls;
    }
  }
  if (st == ENS_OK)
    st = ens_dataset_subset(unlabeled, idx, r, out, err);
  if (st == ENS_OK) {
    for (int j = 0; j < r; j++)
      out->labels[j] = cand[rows[j]].cls;
    if (soft)
      st = ens_dataset_set_soft(out, soft, NULL, err);
  }
  stats->kept = r;
  stats->acc_kept = kept_labeled ? 100.0 * kept_right / kept_labeled : -1.0;
  if (st != ENS_OK)
    ens_dataset_free(out);
  free(cand);
  free(rows);
  free(idx);
  free(seen);
  free(soft);
  return st;
}
