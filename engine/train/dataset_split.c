/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dataset_split.c - the numpy-reproducible stratified split (the Fashion-MNIST labeled
 * subset of the reference recipe) and index complements (see dataset.h). */
#include <stdlib.h>

#include "dataset.h"
#include "error.h"
#include "numpy_rng.h"

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

ens_status ens_numpy_stratified_head(const int *labels, int n, int num_classes, int per_class,
                                     uint64_t seed, int64_t *out, ens_error *err)
{
  if (!labels || !out || n < 0 || num_classes < 1 || per_class < 0)
    return ens_fail(err, ENS_ERR_ARG, "stratified split: bad argument");
  int64_t *members = malloc(((size_t)n + 1) * sizeof *members);
  if (!members)
    return ens_fail(err, ENS_ERR_NOMEM, "stratified split: cannot allocate %d indices", n);
  ens_np_pcg64 g;
  ens_np_default_rng(&g, seed);
  size_t filled = 0;
  for (int c = 0; c < num_classes; c++) {
    size_t m = 0; /* numpy.flatnonzero(labels == c): ascending */
    for (int i = 0; i < n; i++)
      if (labels[i] == c)
        members[m++] = i;
    if (m < (size_t)per_class) {
      free(members);
      return ens_fail(err, ENS_ERR_ARG, "stratified split: class %d has %zu images, %d wanted", c,
                      m, per_class);
    }
    ens_np_shuffle_i64(&g, members, m); /* Generator.permutation(array) shuffles a copy */
    for (int j = 0; j < per_class; j++)
      out[filled++] = members[j];
  }
  free(members);
  qsort(out, filled, sizeof *out, cmp_i64);
  return ENS_OK;
}

ens_status ens_fashion_mnist_labeled_split(const int *train_labels, int n, int64_t *out,
                                           ens_error *err)
{
  return ens_numpy_stratified_head(train_labels, n, 10, 600, 0, out, err);
}

int ens_index_complement(const int64_t *sorted_idx, int k, int n, int *out)
{
  int m = 0, j = 0;
  for (int i = 0; i < n; i++) {
    while (j < k && sorted_idx[j] < i)
      j++;
    if (j < k && sorted_idx[j] == i)
      continue;
    out[m++] = i;
  }
  return m;
}
