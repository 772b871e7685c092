/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_idx.c - the IDX reader.
 *   test_idx unit     files written here: plain and gzip'd, truncated, wrong magic / type /
 *                     rank, trailing bytes, broken gzip, image / label count mismatch
 *   test_idx fmnist   the real Fashion-MNIST test set (10,000 x 28x28, 1,000 per class) */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "dataset.h"
#include "ens_test.h"
#include "fmnist_path.h"
#include "idx.h"

static char *gen_path(const char *name)
{
  static char buf[8][4096];
  static int next;
  char *p = buf[next++ % 8];
  snprintf(p, 4096, "%s/idx_%s", ens_test_gen_dir(), name);
  return p;
}

static void write_file(const char *path, const uint8_t *data, size_t len, int gz)
{
  if (gz) {
    gzFile f = gzopen(path, "wb");
    CHECK(f && gzwrite(f, data, (unsigned)len) == (int)len, "gzwrite %s", path);
    gzclose(f);
  } else {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len, "write %s", path);
    fclose(f);
  }
}

/* An IDX images file: n x rows x cols, pixel i = i * 7 mod 256. Returns its size. */
static size_t make_images(uint8_t *buf, int n, int rows, int cols)
{
  uint8_t head[16] = {0,
                      0,
                      8,
                      3,
                      0,
                      0,
                      (uint8_t)(n >> 8),
                      (uint8_t)n,
                      0,
                      0,
                      0,
                      (uint8_t)rows,
                      0,
                      0,
                      0,
                      (uint8_t)cols};
  memcpy(buf, head, 16);
  size_t total = (size_t)n * rows * cols;
  for (size_t i = 0; i < total; i++)
    buf[16 + i] = (uint8_t)(i * 7);
  return 16 + total;
}

static size_t make_labels(uint8_t *buf, int n)
{
  uint8_t head[8] = {0, 0, 8, 1, 0, 0, (uint8_t)(n >> 8), (uint8_t)n};
  memcpy(buf, head, 8);
  for (int i = 0; i < n; i++)
    buf[8 + i] = (uint8_t)(i % 3);
  return 8 + (size_t)n;
}

static void expect_fail(const char *path, int ndim, ens_status want, const char *needle)
{
  ens_idx_array a;
  ens_error err = {0};
  ens_status st = ens_idx_load(path, ndim, &a, &err);
  CHECK(st == want, "%s: status %s (%s), want %s", path, ens_status_name(st), err.message,
        ens_status_name(want));
  CHECK(a.data == NULL, "%s: data left after failure", path);
  CHECK(strstr(err.message, path) != NULL, "%s: message '%s' does not name the file", path,
        err.message);
  CHECK(strstr(err.message, needle) != NULL, "%s: message '%s' lacks '%s'", path, err.message,
        needle);
  CHECK(strchr(err.message, '\n') == NULL, "%s: message is not one line", path);
  printf("  %-22s -> %s\n", strrchr(path, '/') + 1, err.message);
}

static void unit(void)
{
  static uint8_t img[16 + 5 * 4 * 3], lab[8 + 5];
  size_t ni = make_images(img, 5, 4, 3), nl = make_labels(lab, 5);
  ens_error err = {0};

  for (int gz = 0; gz < 2; gz++) {
    const char *ip = gen_path(gz ? "img.gz" : "img"), *lp = gen_path(gz ? "lab.gz" : "lab");
    write_file(ip, img, ni, gz);
    write_file(lp, lab, nl, gz);
    ens_idx_array a, l;
    CHECK_OK(ens_idx_load_pair(ip, lp, &a, &l, &err), &err);
    CHECK(a.ndim == 3 && a.dims[0] == 5 && a.dims[1] == 4 && a.dims[2] == 3, "%s dims", ip);
    CHECK(memcmp(a.data, img + 16, 60) == 0, "%s pixels differ", ip);
    CHECK(l.ndim == 1 && l.dims[0] == 5 && memcmp(l.data, lab + 8, 5) == 0, "%s labels", lp);
    ens_idx_free(&a);
    ens_idx_free(&l);

    ens_dataset d;
    CHECK_OK(ens_dataset_from_idx(ip, lp, 0, &d, &err), &err);
    CHECK(d.n == 5 && d.height == 4 && d.width == 3 && d.channels == 1 && d.num_classes == 3,
          "dataset shape %d %dx%dx%d k %d", d.n, d.height, d.width, d.channels, d.num_classes);
    CHECK(d.labels[4] == 1 && ens_dataset_image(&d, 2)[0] == (uint8_t)(24 * 7), "dataset content");
    ens_dataset_free(&d);
    CHECK(ens_dataset_from_idx(ip, lp, 2, &d, &err) == ENS_ERR_FORMAT &&
              strstr(err.message, "label 2"),
          "label >= num_classes accepted: %s", err.message);
    CHECK_OK(ens_dataset_from_idx(ip, NULL, 10, &d, &err), &err);
    CHECK(d.labels[0] == -1 && d.num_classes == 10, "unlabeled dataset");
    ens_dataset_free(&d);

    /* truncated data, truncated header */
    const char *t = gen_path(gz ? "trunc.gz" : "trunc");
    write_file(t, img, ni - 1, gz);
    expect_fail(t, 3, ENS_ERR_FORMAT, "truncated IDX file");
    write_file(t, img, 10, gz);
    expect_fail(t, 3, ENS_ERR_FORMAT, "truncated IDX header");
    write_file(t, img, 0, gz);
    expect_fail(t, 3, ENS_ERR_FORMAT, "not an IDX file");
  }
  const char *p = gen_path("bad");
  /* labels file where images are expected */
  write_file(p, lab, nl, 0);
  expect_fail(p, 3, ENS_ERR_FORMAT, "0x00000801 has 1 dimensions, want 3");
  /* wrong magic / type */
  img[0] = 0x1f;
  write_file(p, img, ni, 0);
  expect_fail(p, 3, ENS_ERR_FORMAT, "not an IDX file");
  img[0] = 0;
  img[2] = 0x0d; /* float32 */
  write_file(p, img, ni, 0);
  expect_fail(p, 3, ENS_ERR_FORMAT, "data type 0x0d");
  img[2] = 8;
  /* a byte too many */
  static uint8_t longer[sizeof img + 1];
  memcpy(longer, img, ni);
  write_file(p, longer, ni + 1, 0);
  expect_fail(p, 3, ENS_ERR_FORMAT, "beyond");
  /* gzip header followed by garbage */
  static const uint8_t bad_gz[] = {0x1f, 0x8b, 8,    0,    0,    0,    0,    0,    0,    3,
                                   0xff, 0xff, 0xff, 0xff, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef};
  write_file(p, bad_gz, sizeof bad_gz, 0);
  expect_fail(p, 3, ENS_ERR_FORMAT, "gzip");
  /* missing file */
  expect_fail(gen_path("absent"), 1, ENS_ERR_IO, "cannot open");

  /* count mismatch between the two files: one line naming the labels file and the images */
  const char *ip = gen_path("img"), *lp = gen_path("lab4");
  static uint8_t lab4[8 + 4];
  write_file(lp, lab4, make_labels(lab4, 4), 0);
  ens_idx_array a, l;
  ens_status st = ens_idx_load_pair(ip, lp, &a, &l, &err);
  CHECK(st == ENS_ERR_FORMAT && strstr(err.message, lp) &&
            strstr(err.message, "4 labels for the 5 images"),
        "count mismatch: %s", err.message);
  CHECK(a.data == NULL && l.data == NULL, "pair not freed on mismatch");
  printf("  %-22s -> %s\n", "count mismatch", err.message);
}

static void fmnist(void)
{
  char images[4096], labels[4096];
  snprintf(images, sizeof images, "%s", fmnist_file("t10k-images-idx3-ubyte.gz"));
  snprintf(labels, sizeof labels, "%s", fmnist_file("t10k-labels-idx1-ubyte.gz"));
  ens_error err = {0};
  ens_dataset d;
  CHECK_OK(ens_dataset_from_idx(images, labels, 10, &d, &err), &err);
  CHECK(d.n == 10000 && d.height == 28 && d.width == 28 && d.channels == 1, "test set %d x %dx%d",
        d.n, d.height, d.width);
  int hist[10] = {0};
  for (int i = 0; i < d.n; i++)
    hist[d.labels[i]]++;
  for (int c = 0; c < 10; c++)
    CHECK(hist[c] == 1000, "class %d has %d test images", c, hist[c]);
  double mean = 0;
  for (size_t i = 0; i < (size_t)d.n * 784; i++)
    mean += d.pixels[i];
  mean /= (double)d.n * 784 * 255;
  printf("  Fashion-MNIST test: %d images %dx%d, 1000 per class, mean pixel %.4f\n", d.n, d.height,
         d.width, mean);
  CHECK(mean > 0.27 && mean < 0.30, "mean pixel %.4f far from the recipe's 0.2860", mean);

  /* the directory loader finds the .gz files and names the classes */
  ens_dataset t;
  char *dir = strdup(images);
  *strrchr(dir, '/') = 0;
  CHECK_OK(ens_dataset_fashion_mnist(dir, 0, &t, &err), &err);
  CHECK(t.n == d.n && !memcmp(t.pixels, d.pixels, (size_t)d.n * 784) &&
            !memcmp(t.labels, d.labels, (size_t)d.n * sizeof *d.labels) &&
            !strcmp(t.class_names[0], "T-shirt/top"),
        "ens_dataset_fashion_mnist differs from the IDX files");
  ens_dataset_free(&t);
  CHECK(ens_dataset_fashion_mnist(ens_test_gen_dir(), 0, &t, &err) == ENS_ERR_IO &&
            strstr(err.message, "t10k-images-idx3-ubyte.gz"),
        "missing Fashion-MNIST: %s", err.message);
  printf("  no data: %s\n", err.message);
  free(dir);
  ens_dataset_free(&d);
}

int main(int argc, char **argv)
{
  const char *mode = argc > 1 ? argv[1] : "unit";
  if (!strcmp(mode, "fmnist"))
    fmnist();
  else
    unit();
  return ens_test_finish(mode);
}
