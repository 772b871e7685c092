/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_dataset.c - image-folder datasets (trees made here: PPM, PGM and PNG files, nested
 * folders, ignored files), the inference-style storage geometry, gray conversion, train/ +
 * val/ trees, the seeded stratified val split, errors (missing root, no classes, empty class,
 * corrupt image, unknown val class) and skip_bad; subsets with repeats, concatenation with
 * soft targets. */
#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "ens_test.h"

static char root_buf[4096];

/* rel under the current tree root (rotating static buffers). */
static const char *path_in(const char *rel)
{
  static char buf[4][8192];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s", root_buf, rel);
  return p;
}

static void mkdirs(const char *path)
{
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      mkdir(tmp, 0755);
      *p = '/';
    }
  CHECK(mkdir(tmp, 0755) == 0 || errno == EEXIST, "mkdir %s", tmp);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(data, 1, n, f) == n, "write %s", path);
  if (f)
    fclose(f);
}

/* w x h RGB PPM whose pixel (x, y) is (base + x, base + 10 y, base + x + y). */
static void write_ppm(const char *path, int w, int h, int base)
{
  char head[64];
  int n = snprintf(head, sizeof head, "P6 %d %d 255\n", w, h);
  size_t len = (size_t)n + (size_t)w * h * 3;
  uint8_t *b = malloc(len);
  memcpy(b, head, (size_t)n);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *p = b + n + ((size_t)y * w + x) * 3;
      p[0] = (uint8_t)(base + x), p[1] = (uint8_t)(base + 10 * y), p[2] = (uint8_t)(base + x + y);
    }
  write_bytes(path, b, len);
  free(b);
}

static void write_png_gray(const char *path, int w, int h, int value)
{
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  im.width = (png_uint_32)w;
  im.height = (png_uint_32)h;
  im.format = PNG_FORMAT_GRAY;
  uint8_t *px = malloc((size_t)w * h);
  memset(px, value, (size_t)w * h);
  CHECK(png_image_write_to_file(&im, path, 0, px, w, NULL), "png write %s", path);
  free(px);
}

static void rm_tree(const char *path)
{
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  CHECK(system(cmd) == 0, "%s", cmd);
}

static ens_status load(const ens_folder_options *o, ens_dataset *tr, ens_dataset *va, int *skipped,
                       ens_error *err)
{
  return ens_dataset_from_folder(root_buf, o, tr, va, skipped, err);
}

static void expect_error(const ens_folder_options *o, ens_status want, const char *needle)
{
  ens_dataset tr, va;
  ens_error err = {0};
  ens_status st = load(o, &tr, &va, NULL, &err);
  CHECK(st == want, "status %s (%s), want %s", ens_status_name(st), err.message,
        ens_status_name(want));
  CHECK(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'", err.message, needle);
  CHECK(tr.pixels == NULL && va.pixels == NULL, "outputs not cleared on error");
  printf("  error: %s\n", err.message);
}

static void test_tree(void)
{
  ens_error err = {0};
  snprintf(root_buf, sizeof root_buf, "%s/folder_ds", ens_test_gen_dir());
  rm_tree(root_buf);
  /* classes "bird" (3 PPMs, 8x4 / 4x4), "cat" (PNG + nested PGM), "ant" (1 PPM) */
  mkdirs(path_in("bird"));
  mkdirs(path_in("cat/inner"));
  mkdirs(path_in("ant"));
  write_ppm(path_in("bird/b1.ppm"), 8, 4, 10);
  write_ppm(path_in("bird/b0.PPM"), 4, 4, 50);
  write_ppm(path_in("bird/b2.ppm"), 4, 4, 90);
  write_bytes(path_in("bird/notes.txt"), "x", 1);
  write_png_gray(path_in("cat/c0.png"), 4, 4, 200);
  write_bytes(path_in("cat/inner/c1.pgm"), "P5 4 4 255\n0123456789abcdef", 27);
  write_ppm(path_in("ant/a0.ppm"), 4, 4, 1);
  write_bytes(path_in("README"), "not a class", 11);

  ens_folder_options o;
  ens_folder_options_default(&o);
  o.size = 4;
  ens_dataset tr, va;
  CHECK_OK(load(&o, &tr, &va, NULL, &err), &err);
  CHECK(tr.n == 6 && va.n == 0 && tr.num_classes == 3 && tr.height == 4 && tr.channels == 3,
        "tree: %d train %d val, %d classes", tr.n, va.n, tr.num_classes);
  CHECK(!strcmp(tr.class_names[0], "ant") && !strcmp(tr.class_names[1], "bird") &&
            !strcmp(tr.class_names[2], "cat"),
        "class names not sorted");
  /* order: class, then sorted paths: ant/a0, bird/b0.PPM, bird/b1, bird/b2, cat/c0, cat/inner/c1 */
  static const int want_labels[6] = {0, 1, 1, 1, 2, 2};
  for (int i = 0; i < 6; i++)
    CHECK(tr.labels[i] == want_labels[i], "label %d = %d", i, tr.labels[i]);
  /* b0 is 4x4: stored unchanged */
  const uint8_t *b0 = ens_dataset_image(&tr, 1);
  CHECK(b0[0] == 50 && b0[(1 * 4 + 2) * 3 + 1] == 60 && b0[(3 * 4 + 3) * 3 + 2] == 56,
        "4x4 image changed: %d %d %d", b0[0], b0[(1 * 4 + 2) * 3 + 1], b0[(3 * 4 + 3) * 3 + 2]);
  /* b1 is 8x4: shorter side already 4, so no resampling; center crop x = round((8-4)/2) = 2 */
  const uint8_t *b1 = ens_dataset_image(&tr, 2);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      CHECK(b1[(y * 4 + x) * 3] == 10 + x + 2 && b1[(y * 4 + x) * 3 + 1] == 10 + 10 * y,
            "8x4 crop at (%d, %d): %d", x, y, b1[(y * 4 + x) * 3]);
  CHECK(ens_dataset_image(&tr, 4)[5] == 200, "gray PNG");
  CHECK(ens_dataset_image(&tr, 5)[3 * 5] == '5', "nested PGM");
  ens_dataset_free(&tr);
  ens_dataset_free(&va);

  /* channels 1: Pillow's L of the crop; (90, 100, 91) -> 96 (Pillow 9.4 gives 96) */
  o.channels = 1;
  CHECK_OK(load(&o, &tr, NULL, NULL, &err), &err);
  uint8_t l = ens_dataset_image(&tr, 3)[4]; /* b2, pixel (0, 1) = (90, 100, 91) */
  CHECK(l == (uint8_t)((19595u * 90 + 38470u * 100 + 7471u * 91 + 0x8000u) >> 16) && l == 96,
        "gray value %d", l);
  ens_dataset_free(&tr);
  o.channels = 3;

  /* resize path: size 2 -> every image resampled (PIL-exact resampler, tested elsewhere);
   * here only shapes and that the stored pixels are the inference crop */
  o.size = 2;
  CHECK_OK(load(&o, &tr, NULL, NULL, &err), &err);
  CHECK(tr.n == 6 && tr.height == 2 && tr.width == 2, "size 2");
  ens_rgb_image im;
  CHECK_OK(ens_image_load(path_in("bird/b1.ppm"), &im, &err), &err);
  ens_preprocess_params p = {2, 2, 1.0f, ENS_INTERP_DEFAULT, {0, 0, 0}, {1, 1, 1}};
  ens_image v = ens_rgb_image_view(&im);
  float ref[12];
  CHECK_OK(ens_preprocess(&p, &v, NULL, ref, &err), &err);
  const uint8_t *s = ens_dataset_image(&tr, 2);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 4; i++)
      CHECK((float)s[i * 3 + c] / 255.0f == ref[c * 4 + i], "stored pixel differs from inference");
  ens_rgb_image_free(&im);
  ens_dataset_free(&tr);
  o.size = 4;

  /* stratified split: bird 3 -> 1 val (round 0.6 = 1), ant 1 -> 0, cat 2 -> 1 (at least one) */
  o.val_split = 0.2;
  o.seed = 5;
  CHECK_OK(load(&o, &tr, &va, NULL, &err), &err);
  int vh[3] = {0};
  for (int i = 0; i < va.n; i++)
    vh[va.labels[i]]++;
  CHECK(tr.n == 4 && va.n == 2 && vh[0] == 0 && vh[1] == 1 && vh[2] == 1, "split %d/%d (%d %d %d)",
        tr.n, va.n, vh[0], vh[1], vh[2]);
  CHECK(va.class_names && !strcmp(va.class_names[2], "cat"), "val class names");
  ens_dataset tr2, va2;
  CHECK_OK(load(&o, &tr2, &va2, NULL, &err), &err);
  CHECK(va2.n == va.n && !memcmp(va.pixels, va2.pixels, (size_t)va.n * 48),
        "split not deterministic for a seed");
  ens_dataset_free(&tr);
  ens_dataset_free(&va);
  ens_dataset_free(&tr2);
  ens_dataset_free(&va2);
  o.val_split = 0;

  /* one thread and three decode the same bytes */
  ens_dataset t1, t3;
  o.threads = 1;
  CHECK_OK(load(&o, &t1, NULL, NULL, &err), &err);
  o.threads = 3;
  CHECK_OK(load(&o, &t3, NULL, NULL, &err), &err);
  CHECK(t1.n == t3.n && !memcmp(t1.pixels, t3.pixels, (size_t)t1.n * 48),
        "1 and 3 decoding threads differ");
  ens_dataset_free(&t1);
  ens_dataset_free(&t3);

  /* errors: the first bad file in file order is reported, whatever the thread count */
  write_bytes(path_in("bird/broken.jpg"), "\xff\xd8\xff\xe0garbage", 12);
  write_bytes(path_in("cat/zz.png"), "\x89PNG\r\n\x1a\n", 8);
  for (int threads = 1; threads <= 3; threads += 2) {
    o.threads = threads;
    expect_error(&o, ENS_ERR_FORMAT, "bird/broken.jpg: corrupt or truncated JPEG");
  }
  o.skip_bad = 1;
  int skipped = 0;
  CHECK_OK(load(&o, &tr, NULL, &skipped, &err), &err);
  CHECK(skipped == 2 && tr.n == 6 && tr.labels[5] == 2, "skip_bad: %d skipped, %d kept", skipped,
        tr.n);
  ens_dataset_free(&tr);
  o.skip_bad = 0;
  unlink(path_in("bird/broken.jpg"));
  unlink(path_in("cat/zz.png"));
  mkdirs(path_in("empty"));
  write_bytes(path_in("empty/x.txt"), "x", 1);
  expect_error(&o, ENS_ERR_FORMAT, "empty: class folder has no images");
  rm_tree(path_in("empty"));

  /* train/ + val/ tree: classes from train/, val/ may miss some */
  snprintf(root_buf, sizeof root_buf, "%s/split_ds", ens_test_gen_dir());
  rm_tree(root_buf);
  mkdirs(path_in("train/dog"));
  mkdirs(path_in("train/cow"));
  mkdirs(path_in("val/dog"));
  write_ppm(path_in("train/dog/1.ppm"), 4, 4, 0);
  write_ppm(path_in("train/cow/1.ppm"), 4, 4, 0);
  write_ppm(path_in("train/cow/2.ppm"), 4, 4, 0);
  write_ppm(path_in("val/dog/1.ppm"), 4, 4, 7);
  CHECK_OK(load(&o, &tr, &va, NULL, &err), &err);
  CHECK(tr.n == 3 && va.n == 1 && va.labels[0] == 1 && va.num_classes == 2 &&
            !strcmp(va.class_names[0], "cow") && ens_dataset_image(&va, 0)[0] == 7,
        "train/val tree: %d + %d", tr.n, va.n);
  ens_dataset_free(&tr);
  ens_dataset_free(&va);
  mkdirs(path_in("val/horse"));
  expect_error(&o, ENS_ERR_FORMAT, "horse: class folder not present in the training set");

  snprintf(root_buf, sizeof root_buf, "%s/no_such_folder", ens_test_gen_dir());
  expect_error(&o, ENS_ERR_IO, "no_such_folder: dataset folder not found");
  snprintf(root_buf, sizeof root_buf, "%s/flat_ds", ens_test_gen_dir());
  rm_tree(root_buf);
  mkdirs(root_buf);
  write_ppm(path_in("lonely.ppm"), 4, 4, 0);
  expect_error(&o, ENS_ERR_FORMAT, "no class folders");
}

static void test_subset_concat(void)
{
  ens_error err = {0};
  ens_dataset a, b, s, c;
  CHECK_OK(ens_dataset_alloc(&a, 3, 2, 2, 1, 4, &err), &err);
  CHECK_OK(ens_dataset_alloc(&b, 2, 2, 2, 1, 4, &err), &err);
  for (int i = 0; i < 3; i++) {
    memset(a.pixels + 4 * i, 10 + i, 4);
    a.labels[i] = i;
  }
  for (int i = 0; i < 2; i++)
    memset(b.pixels + 4 * i, 20 + i, 4);
  float soft[8] = {0.25f, 0.25f, 0.25f, 0.25f, 0.1f, 0.2f, 0.3f, 0.4f};
  CHECK_OK(ens_dataset_set_soft(&b, soft, NULL, &err), &err);
  CHECK_OK(ens_dataset_set_class_names(&a, ens_fashion_mnist_classes, &err), &err);

  int idx[4] = {2, 0, 2, 1};
  CHECK_OK(ens_dataset_subset(&a, idx, 4, &s, &err), &err);
  CHECK(s.n == 4 && s.pixels[0] == 12 && s.pixels[4] == 10 && s.pixels[8] == 12 &&
            s.labels[3] == 1 && !strcmp(s.class_names[3], "Dress"),
        "subset with repeats");
  int bad = 3;
  CHECK(ens_dataset_subset(&a, &bad, 1, &c, &err) == ENS_ERR_ARG, "out-of-range subset");

  CHECK_OK(ens_dataset_concat(&a, &b, &c, &err), &err);
  CHECK(c.n == 5 && c.pixels[4 * 3] == 20 && c.labels[3] == -1 && c.soft && c.soft_rows, "concat");
  CHECK(!c.soft_rows[0] && c.soft_rows[3] && c.soft_rows[4] && c.soft[4 * 4 + 3] == 0.4f,
        "concat soft rows");
  ens_dataset_free(&c);
  ens_dataset_free(&s);
  ens_dataset d3;
  CHECK_OK(ens_dataset_alloc(&d3, 1, 2, 2, 3, 4, &err), &err);
  CHECK(ens_dataset_concat(&a, &d3, &c, &err) == ENS_ERR_ARG, "concat of different shapes");
  ens_dataset_free(&d3);
  ens_dataset_free(&a);
  ens_dataset_free(&b);
}

int main(void)
{
  test_tree();
  test_subset_concat();
  return ens_test_finish("dataset");
}
