/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_labels_topk.c - label lists (file, built-in ImageNet, strings), softmax and top-k. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ens_test.h"
#include "labels.h"

static char *write_file(const char *name, const char *data, size_t len)
{
  char *path = malloc(4400);
  snprintf(path, 4400, "%s/%s_%d.txt", ens_test_gen_dir(), name, (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len) {
    fprintf(stderr, "FAIL: cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
  return path;
}

static void test_label_files(void)
{
  ens_labels l;
  ens_error err;
  const char text[] = "cat\r\ndog\n\nbird \xc3\xa9\nlast";
  char *path = write_file("labels", text, sizeof text - 1);
  CHECK_OK(ens_labels_load_file(path, &l, &err), &err);
  CHECK(l.count == 5, "count %d", l.count);
  if (l.count == 5)
    CHECK(strcmp(l.names[0], "cat") == 0 && strcmp(l.names[1], "dog") == 0 &&
              strcmp(l.names[2], "") == 0 && strcmp(l.names[3], "bird \xc3\xa9") == 0 &&
              strcmp(l.names[4], "last") == 0,
          "values");
  ens_labels_free(&l);
  ens_labels_free(&l);
  unlink(path);
  free(path);

  path = write_file("labels2", "a\nb\n", 4); /* final newline ends the last line */
  CHECK_OK(ens_labels_load_file(path, &l, &err), &err);
  CHECK(l.count == 2, "final newline: %d", l.count);
  ens_labels_free(&l);
  unlink(path);
  free(path);

  path = write_file("labels3", "", 0);
  CHECK_OK(ens_labels_load_file(path, &l, &err), &err);
  CHECK(l.count == 0, "empty file: %d", l.count);
  ens_labels_free(&l);
  unlink(path);
  free(path);

  path = write_file("labels4", "ok\nbad\xff\n", 8);
  ens_status s = ens_labels_load_file(path, &l, &err);
  CHECK(s == ENS_ERR_FORMAT && strstr(err.message, "labels file '") && strstr(err.message, path) &&
            strstr(err.message, "line 2"),
        "bad UTF-8: %s", err.message);
  CHECK(l.count == 0 && l.names == NULL, "left empty");
  unlink(path);
  free(path);

  path = write_file("labels5", "a\0b\n", 4);
  s = ens_labels_load_file(path, &l, &err);
  CHECK(s == ENS_ERR_FORMAT && strstr(err.message, "line 1"), "NUL byte: %s", err.message);
  unlink(path);
  free(path);

  s = ens_labels_load_file("/nonexistent/labels.txt", &l, &err);
  CHECK(s == ENS_ERR_IO &&
            strstr(err.message, "cannot open labels file '/nonexistent/labels.txt': No such file"),
        "missing: %s", err.message);

  const char *names[] = {"x", "", "z"};
  CHECK_OK(ens_labels_from_strings(names, 3, &l, &err), &err);
  CHECK(l.count == 3 && strcmp(l.names[2], "z") == 0 && l.names[0] != names[0], "from strings");
  ens_labels_free(&l);
}

static void test_imagenet(void)
{
  ens_labels in, file;
  ens_error err;
  CHECK_OK(ens_labels_imagenet(&in, &err), &err);
  CHECK(in.count == 1000, "imagenet count %d", in.count);
  CHECK(strcmp(in.names[0], "tench") == 0, "0 %s", in.names[0]);
  CHECK(strcmp(in.names[134], "crane bird") == 0, "134 (torchvision's name) %s", in.names[134]);
  CHECK(strcmp(in.names[517], "crane") == 0, "517 %s", in.names[517]);
  CHECK(strcmp(in.names[639], "maillot tank suit") == 0, "639 %s", in.names[639]);
  CHECK(strcmp(in.names[999], "toilet tissue") == 0, "999 %s", in.names[999]);
  /* The embedded copy equals the source text file. */
  CHECK_OK(ens_labels_load_file(ENS_SOURCE_ROOT "/engine/data/imagenet_classes.txt", &file, &err),
           &err);
  CHECK(file.count == in.count, "file %d vs embedded %d", file.count, in.count);
  for (int i = 0; i < file.count && i < in.count; i++)
    CHECK(strcmp(file.names[i], in.names[i]) == 0, "label %d", i);
  ens_labels_free(&file);
  ens_labels_free(&in);
}

static void test_softmax(void)
{
  float p[4];
  const float a[3] = {0.0f, logf(2.0f), logf(3.0f)};
  ens_softmax(a, 3, p);
  CHECK(fabsf(p[0] - 1.0f / 6) < 1e-7f && fabsf(p[1] - 2.0f / 6) < 1e-7f &&
            fabsf(p[2] - 3.0f / 6) < 1e-7f,
        "1:2:3 -> %g %g %g", p[0], p[1], p[2]);
  const float big[2] = {1000.0f, 1000.0f};
  ens_softmax(big, 2, p);
  CHECK(p[0] == 0.5f && p[1] == 0.5f, "no overflow: %g %g", p[0], p[1]);
  const float spread[2] = {-1000.0f, 0.0f};
  ens_softmax(spread, 2, p);
  CHECK(p[0] == 0.0f && p[1] == 1.0f, "underflow: %g %g", p[0], p[1]);
  const float ninf[3] = {-INFINITY, 1.0f, 1.0f};
  ens_softmax(ninf, 3, p);
  CHECK(p[0] == 0.0f && p[1] == 0.5f && p[2] == 0.5f, "-inf entry: %g %g %g", p[0], p[1], p[2]);
  const float all_ninf[2] = {-INFINITY, -INFINITY};
  ens_softmax(all_ninf, 2, p);
  CHECK(p[0] == 0.5f && p[1] == 0.5f, "all -inf: %g %g", p[0], p[1]);
  const float pinf[3] = {INFINITY, 1.0f, INFINITY};
  ens_softmax(pinf, 3, p);
  CHECK(p[0] == 0.5f && p[1] == 0.0f && p[2] == 0.5f, "+inf: %g %g %g", p[0], p[1], p[2]);

  /* 1000 logits against a double reference, in place (aliasing). */
  int n = 1000;
  float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
  double *ref = malloc(n * sizeof(double));
  srand(7);
  double mx = -1e30, sum = 0;
  for (int i = 0; i < n; i++) {
    x[i] = y[i] = (float)(rand() % 20001 - 10000) / 500.0f; /* [-20, 20] */
    if (x[i] > mx)
      mx = x[i];
  }
  for (int i = 0; i < n; i++)
    sum += ref[i] = exp((double)x[i] - mx);
  ens_softmax(y, n, y);
  double worst = 0, total = 0;
  for (int i = 0; i < n; i++) {
    double r = ref[i] / sum;
    double rel = fabs(y[i] - r) / r;
    if (rel > worst)
      worst = rel;
    total += y[i];
  }
  printf("softmax: max rel err %.3g, sum-1 %.3g\n", worst, total - 1);
  CHECK(worst < 4e-7, "softmax rel err %g", worst);
  CHECK(fabs(total - 1) < 1e-5, "sum %g", total);
  free(x);
  free(y);
  free(ref);
}

/* ens_softmax_checked: finite logits give exactly ens_softmax; NaN / Inf are an error that
 * names the first one and leaves probs alone (issue 10 item 5). */
static void test_softmax_checked(void)
{
  ens_error err;
  float p[4] = {-1, -1, -1, -1}, q[4];
  const float ok[3] = {0.5f, -2.0f, 3.0f};
  CHECK_OK(ens_softmax_checked(ok, 3, p, &err), &err);
  ens_softmax(ok, 3, q);
  CHECK(memcmp(p, q, 3 * sizeof(float)) == 0, "checked == plain softmax for finite logits");
  const float bad[4][4] = {{0.0f, NAN, 1.0f, 2.0f},
                           {0.0f, 1.0f, INFINITY, 2.0f},
                           {-INFINITY, 1.0f, 2.0f, 3.0f},
                           {NAN, NAN, NAN, NAN}};
  const int first[4] = {1, 2, 0, 0}, count[4] = {1, 1, 1, 4};
  for (int c = 0; c < 4; c++) {
    for (int i = 0; i < 4; i++)
      p[i] = -1;
    ens_status st = ens_softmax_checked(bad[c], 4, p, &err);
    char want[64];
    snprintf(want, sizeof want, "%d of 4 are NaN or infinite (first: class %d", count[c], first[c]);
    CHECK(st == ENS_ERR_MODEL && strstr(err.message, want), "case %d: status %d, %s", c, st,
          err.message);
    CHECK(p[0] == -1 && p[1] == -1 && p[2] == -1 && p[3] == -1, "case %d: probs untouched", c);
  }
  CHECK(ens_softmax_checked(ok, 0, p, &err) == ENS_ERR_ARG, "n = 0 is an argument error");
  CHECK(ens_softmax_checked(NULL, 3, p, &err) == ENS_ERR_ARG, "NULL logits");
}

static void test_topk(void)
{
  ens_class_score out[8];
  const float p[6] = {0.1f, 0.5f, 0.5f, 0.2f, 0.5f, 0.05f};
  int n = ens_topk(NULL, p, 6, 3, out);
  CHECK(n == 3 && out[0].id == 1 && out[1].id == 2 && out[2].id == 4, "ties: %d %d %d", out[0].id,
        out[1].id, out[2].id);
  CHECK(out[0].prob == 0.5f && out[0].label == NULL, "prob/label");
  n = ens_topk(NULL, p, 6, 8, out);
  CHECK(n == 6 && out[3].id == 3 && out[4].id == 0 && out[5].id == 5, "k > n: %d", n);
  CHECK(ens_topk(NULL, p, 6, 0, out) == 0 && ens_topk(NULL, p, 0, 3, out) == 0, "empty");
  const float withnan[4] = {NAN, 0.3f, NAN, 0.1f};
  n = ens_topk(NULL, withnan, 4, 4, out);
  CHECK(n == 4 && out[0].id == 1 && out[1].id == 3 && out[2].id == 0 && out[3].id == 2,
        "NaN last: %d %d %d %d", out[0].id, out[1].id, out[2].id, out[3].id);

  /* Random scores with many ties against the test helper's selection. */
  int m = 1000;
  float *v = malloc(m * sizeof(float));
  srand(3);
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < m; i++)
      v[i] = (float)(rand() % 40);
    int k = 1 + round % 8, want[8];
    ens_test_topk_ids(v, m, k, want);
    n = ens_topk(NULL, v, m, k, out);
    CHECK(n == k, "n");
    for (int j = 0; j < k; j++)
      CHECK(out[j].id == want[j] && out[j].prob == v[want[j]], "round %d rank %d: %d want %d",
            round, j, out[j].id, want[j]);
  }
  free(v);
}

/* With a model, labels come from ens_model_label. */
static void test_topk_model_labels(void)
{
  ens_model *model;
  ens_error err;
  CHECK_OK(ens_model_new_random("b0", 10, 1, NULL, &model, &err), &err);
  float p[10] = {0.1f, 0.3f, 0.05f, 0.2f, 0.0f, 0.1f, 0.1f, 0.05f, 0.05f, 0.05f};
  ens_class_score out[3];
  int n = ens_topk(model, p, 10, 3, out);
  CHECK(n == 3 && out[0].id == 1 && out[1].id == 3 && out[2].id == 0, "ids");
  for (int j = 0; j < n; j++)
    CHECK(out[j].label && out[j].label == ens_model_label(model, out[j].id),
          "label of %d from the model", out[j].id);
  ens_model_free(model);
}

int main(void)
{
  test_label_files();
  test_imagenet();
  test_softmax();
  test_softmax_checked();
  test_topk();
  test_topk_model_labels();
  return ens_test_finish("test_labels_topk");
}
