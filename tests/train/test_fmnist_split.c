/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_fmnist_split.c - the Fashion-MNIST labeled subset computed in C from the real training
 * labels (numpy's default_rng(0) reproduced) against the sha256 of the reference recipe
 * (shared/reference/noisy_student_fashion_mnist.md), and its complement; then the recipe's
 * datasets built from the real images (labeled 6,000 + unlabeled 54,000 with soft targets) and
 * one batch of each kind. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
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

  /* the recipe's datasets from the real training images */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ens_dataset train, labeled, unlabeled, both;
  char images_path[4096];
  snprintf(images_path, sizeof images_path, "%s", fmnist_file("train-images-idx3-ubyte.gz"));
  CHECK_OK(ens_dataset_from_idx(images_path, fmnist_file("train-labels-idx1-ubyte.gz"), 10, &train,
                                &err),
           &err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  CHECK_OK(ens_dataset_set_class_names(&train, ens_fashion_mnist_classes, &err), &err);
  int *lab_idx = malloc(6000 * sizeof *lab_idx);
  for (int i = 0; i < 6000; i++)
    lab_idx[i] = (int)split[i];
  CHECK_OK(ens_dataset_subset(&train, lab_idx, 6000, &labeled, &err), &err);
  CHECK_OK(ens_dataset_subset(&train, rest, m, &unlabeled, &err), &err);
  CHECK(labeled.n == 6000 && unlabeled.n == 54000 && labeled.labels[0] == labels[split[0]] &&
            !memcmp(ens_dataset_image(&labeled, 5999), ens_dataset_image(&train, (int)split[5999]),
                    784),
        "labeled / unlabeled datasets");
  /* pseudo-labels stand-in: uniform soft rows on the unlabeled part */
  float *soft = malloc((size_t)m * 10 * sizeof *soft);
  for (size_t i = 0; i < (size_t)m * 10; i++)
    soft[i] = 0.1f;
  CHECK_OK(ens_dataset_set_soft(&unlabeled, soft, NULL, &err), &err);
  CHECK_OK(ens_dataset_concat(&labeled, &unlabeled, &both, &err), &err);
  CHECK(both.n == 60000 && !both.soft_rows[0] && both.soft_rows[6000] &&
            !strcmp(both.class_names[9], "Ankle boot"),
        "labeled + pseudo-labeled dataset");
  ens_batch_config c;
  ens_batch_config_fashion_mnist(&c);
  int order[60000];
  ens_epoch_order(both.n, 1, 0, 1, order);
  float *x = malloc((size_t)128 * 3 * 32 * 32 * sizeof *x), *y = malloc(128 * 10 * sizeof *y);
  CHECK_OK(ens_batch_fill(&c, &both, order, 128, 0, NULL, x, y, &err), &err);
  int soft_rows = 0;
  for (int b = 0; b < 128; b++)
    soft_rows += y[b * 10] == 0.1f && y[b * 10 + 1] == 0.1f;
  printf("  train set loaded in %.2f s; batch of 128 from 6,000 + 54,000: %d soft rows\n",
         (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), soft_rows);
  CHECK(soft_rows > 90 && soft_rows < 128, "%d of 128 samples on soft rows (90 %% expected)",
        soft_rows);
  free(x);
  free(y);
  free(soft);
  free(lab_idx);
  ens_dataset_free(&train);
  ens_dataset_free(&labeled);
  ens_dataset_free(&unlabeled);
  ens_dataset_free(&both);
  free(rest);
  free(labels);
  ens_idx_free(&lab);
  return ens_test_finish("fmnist_split");
}
