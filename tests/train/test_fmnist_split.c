/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_fmnist_split.c - the Fashion-MNIST labeled subset computed in C from the real training
 * labels (numpy's default_rng(0) reproduced) against the sha256 of the reference recipe
 * (shared/reference/noisy_student_fashion_mnist.md), and its complement. */
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "ens_test.h"
#include "fmnist_path.h"
#include "idx.h"
#include "sha256_test.h"

#define WANT_SHA256 "de9d71db4af8e49b997caea8f7c042339f837a98f22518c112320cd652378c17"

int main(void)
{
  ens_error err = {0};
  ens_idx_array lab;
  CHECK_OK(ens_idx_load(fmnist_file("train-labels-idx1-ubyte.gz"), 1, &lab, &err), &err);
  int n = lab.dims[0];
  CHECK(n == 60000, "%d training labels", n);
  int *labels = malloc((size_t)n * sizeof *labels);
  for (int i = 0; i < n; i++)
    labels[i] = lab.data[i];
  int64_t split[6000];
  CHECK_OK(ens_fashion_mnist_labeled_split(labels, n, split, &err), &err);

  /* the digest is over little-endian int64 */
  uint8_t le[6000 * 8];
  for (int i = 0; i < 6000; i++)
    for (int b = 0; b < 8; b++)
      le[8 * i + b] = (uint8_t)((uint64_t)split[i] >> (8 * b));
  char hex[65];
  sha256_hex(le, sizeof le, hex);
  printf("  labeled split: %lld %lld %lld ... %lld, sha256 %s\n", (long long)split[0],
         (long long)split[1], (long long)split[2], (long long)split[5999], hex);
  CHECK(!strcmp(hex, WANT_SHA256), "sha256 %s, reference %s", hex, WANT_SHA256);

  int hist[10] = {0};
  for (int i = 0; i < 6000; i++) {
    hist[labels[split[i]]]++;
    CHECK(i == 0 || split[i] > split[i - 1], "not sorted / distinct at %d", i);
  }
  for (int c = 0; c < 10; c++)
    CHECK(hist[c] == 600, "class %d: %d labeled images", c, hist[c]);

  int *rest = malloc((size_t)n * sizeof *rest);
  int m = ens_index_complement(split, 6000, n, rest);
  CHECK(m == 54000, "complement has %d indices", m);
  for (int i = 0, j = 0; i < m; i++) { /* disjoint from the split, ascending */
    while (j < 6000 && split[j] < rest[i])
      j++;
    CHECK(j == 6000 || split[j] != rest[i], "index %d in both sets", rest[i]);
    CHECK(i == 0 || rest[i] > rest[i - 1], "complement not ascending at %d", i);
  }
  /* a class too small for the request is an error, not a short split */
  CHECK(ens_numpy_stratified_head(labels, 100, 10, 600, 0, split, &err) == ENS_ERR_ARG,
        "short class accepted");
  free(rest);
  free(labels);
  ens_idx_free(&lab);
  return ens_test_finish("fmnist_split");
}
