/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_dataset_harvest.c - harvest folders: samples written through ens_harvest_encode /
 * ens_harvest_store (sidecar fields, atomic store, nothing left after a failed store), read
 * back by ens_dataset_from_harvest in name order: model-size samples stored unchanged at
 * their size and taken back to 28x28 gray the way an IDX dataset stores images (the inverse of
 * the zero border), original-size samples stored as image-folder pictures, soft rows where the
 * sidecar has the full distribution, orphans / corrupt PNGs / temporary files skipped and
 * counted; ens_harvest_dir_detect. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset_harvest.h"
#include "ens_harvest.h"
#include "ens_test.h"

static char dir[4096];

static void path_of(char *out, size_t n, const char *name)
{
  snprintf(out, n, "%s/%s", dir, name);
}

static void write_text(const char *name, const char *text)
{
  char p[8192];
  path_of(p, sizeof p, name);
  FILE *f = fopen(p, "wb");
  CHECK(f && fputs(text, f) >= 0, "write %s", p);
  if (f)
    fclose(f);
}

/* A w x h RGB picture whose pixels depend on x, y and seed. */
static uint8_t *picture(int w, int h, int seed)
{
  uint8_t *p = malloc((size_t)w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *q = p + ((size_t)y * w + x) * 3;
      q[0] = (uint8_t)(seed * 40 + 7 * x);
      q[1] = (uint8_t)(seed * 10 + 5 * y);
      q[2] = (uint8_t)(3 * x + 2 * y + seed);
    }
  return p;
}

static void store(const char *stem, const uint8_t *rgb, int w, int h, ens_harvest_size size,
                  const float *probs, int k)
{
  ens_class_score top[2] = {{1, 0.7f, "dog"}, {0, 0.2f, "ca\"t\xff"}}; /* quote, bad UTF-8 */
  ens_harvest_sample s = {.rgb = rgb,
                          .width = w,
                          .height = h,
                          .save_size = size,
                          .model = "tiny",
                          .input_width = 32,
                          .input_height = 32,
                          .crop_pct = 1.0f,
                          .interpolation = ENS_INTERP_BICUBIC,
                          .pts = 40000000,
                          .frame = 1,
                          .fresh = 1,
                          .buffer_pts = -1,
                          .frame_width = 64,
                          .frame_height = 48,
                          .full_frame = 1,
                          .roi_id = -1,
                          .box = {0, 0, 64, 48},
                          .n_top = 2,
                          .top = top,
                          .num_classes = k,
                          .probs = probs};
  ens_harvest_blob b;
  ens_error err;
  CHECK_OK(ens_harvest_encode(&s, stem, &b, &err), &err);
  int e = -1;
  CHECK_OK(ens_harvest_store(dir, stem, &b, &e, &err), &err);
  CHECK(e == 0, "sys_errno %d after a good store", e);
  ens_harvest_blob_free(&b);
}

static void test_store_failure(void)
{
  uint8_t px[3] = {1, 2, 3};
  ens_harvest_sample s = {.rgb = px, .width = 1, .height = 1, .roi_id = -1};
  ens_harvest_blob b;
  ens_error err;
  CHECK_OK(ens_harvest_encode(&s, "x", &b, &err), &err);
  char missing[8192];
  path_of(missing, sizeof missing, "no/such/folder");
  int e = 0;
  CHECK(ens_harvest_store(missing, "x", &b, &e, &err) == ENS_ERR_IO && e == ENOENT,
        "store into a missing folder: %d, errno %d", (int)err.code, e);
  CHECK(strstr(err.message, "no/such/folder/x.json") != NULL, "message names the file: %s",
        err.message);
  CHECK(ens_harvest_store(dir, "a/b", &b, &e, &err) == ENS_ERR_ARG, "stem with a slash");
  ens_harvest_blob_free(&b);
}

int main(void)
{
  snprintf(dir, sizeof dir, "%s/harvest_ds", ens_test_gen_dir());
  char cmd[8300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "clean %s", dir);
  CHECK(mkdir(dir, 0755) == 0, "mkdir %s", dir);
  ens_error err;

  /* s0: the model's 32x32 input crop with a 4-class distribution; s1: a 40x30 region at its
   * own size, top-k only; s2: a sidecar whose PNG never arrived; s3: a corrupt PNG; plus a
   * temporary file and an unrelated file */
  uint8_t *crop = picture(32, 32, 1), *region = picture(40, 30, 2);
  const float probs[4] = {0.1f, 0.7f, 0.15f, 0.05f};
  store("s0", crop, 32, 32, ENS_HARVEST_SIZE_MODEL, probs, 4);
  store("s1", region, 40, 30, ENS_HARVEST_SIZE_ORIGINAL, NULL, 0);
  store("s2", crop, 32, 32, ENS_HARVEST_SIZE_MODEL, probs, 4);
  char p[8192];
  path_of(p, sizeof p, "s2.png");
  CHECK(unlink(p) == 0, "unlink %s", p);
  store("s3", crop, 32, 32, ENS_HARVEST_SIZE_MODEL, probs, 4);
  write_text("s3.png", "not a png");
  write_text("s4.png.tmp.abcdef", "half a PNG");
  write_text("notes.txt", "ignored");

  /* the sidecar: strict JSON (the bad byte became U+FFFD), fields as given */
  size_t len = 0;
  path_of(p, sizeof p, "s0.json");
  char *text = ens_test_read_file(p, &len);
  CHECK(strstr(text, "\"format\":\"ens-harvest-1\",\"image\":\"s0.png\",\"save_size\":\"model\"") !=
            NULL,
        "sidecar head: %s", text);
  CHECK(strstr(text, "\"label\":\"ca\\\"t\xef\xbf\xbd\"") != NULL, "label escaped: %s", text);
  CHECK(strstr(text, "\"pts\":40000000") && strstr(text, "\"buffer_pts\":null"), "pts: %s", text);
  CHECK(strstr(text, "\"num_classes\":4,\"probs\":[0.100000001,0.699999988,0.150000006,"
                     "0.0500000007]}") != NULL,
        "probs: %s", text);
  free(text);

  CHECK(ens_harvest_dir_detect(dir), "detected as a harvest folder");
  char sub[8192];
  path_of(sub, sizeof sub, "tree");
  CHECK(mkdir(sub, 0755) == 0, "mkdir");
  CHECK(!ens_harvest_dir_detect(sub), "an empty folder is not a harvest folder");

  /* stored at 32x32 RGB like an image folder of 32 px inputs */
  ens_harvest_options o;
  ens_harvest_options_default(&o);
  o.size = 32;
  ens_dataset d;
  int skipped = -1;
  CHECK_OK(ens_dataset_from_harvest(dir, &o, &d, &skipped, &err), &err);
  CHECK(d.n == 2 && skipped == 2, "2 samples, 2 skipped (got %d, %d)", d.n, skipped);
  CHECK(d.labels[0] == -1 && d.labels[1] == -1, "unlabeled");
  CHECK(memcmp(ens_dataset_image(&d, 0), crop, 32 * 32 * 3) == 0, "model crop stored unchanged");
  ens_preprocess_params pp = {
      .out_height = 32, .out_width = 32, .crop_pct = 1.0f, .std = {1, 1, 1}};
  ens_rgb_image im = {40, 30, region};
  ens_image view = ens_rgb_image_view(&im);
  uint8_t want[32 * 32 * 3];
  CHECK_OK(ens_preprocess_crop_u8(&pp, &view, NULL, want, &err), &err);
  CHECK(memcmp(ens_dataset_image(&d, 1), want, sizeof want) == 0,
        "original region stored as a folder picture");
  CHECK(d.num_classes == 4 && d.soft && d.soft_rows[0] && !d.soft_rows[1], "soft rows");
  CHECK(d.soft[1] == 0.7f && d.soft[3] == 0.05f, "soft targets read back exactly");
  ens_dataset_free(&d);

  /* like Fashion-MNIST: 28x28 gray, model inputs have a 2-pixel zero border */
  o.size = 28;
  o.channels = 1;
  o.model_crop_pct = 28.0f / 32.0f;
  CHECK_OK(ens_dataset_from_harvest(dir, &o, &d, &skipped, &err), &err);
  int bad = 0;
  for (int y = 0; y < 28; y++)
    for (int x = 0; x < 28; x++) {
      const uint8_t *c = crop + ((size_t)(y + 2) * 32 + x + 2) * 3;
      int l = (19595 * c[0] + 38470 * c[1] + 7471 * c[2] + 0x8000) >> 16;
      bad += ens_dataset_image(&d, 0)[y * 28 + x] != l;
    }
  CHECK(bad == 0, "IDX-like storage: the centre 28x28 of the crop, in gray (%d differ)", bad);
  ens_dataset_free(&d);

  test_store_failure();
  path_of(sub, sizeof sub, "empty");
  CHECK(mkdir(sub, 0755) == 0, "mkdir");
  CHECK(ens_dataset_from_harvest(sub, &o, &d, &skipped, &err) == ENS_ERR_FORMAT,
        "a folder without samples is an error");
  free(crop);
  free(region);
  return ens_test_finish("dataset_harvest");
}
