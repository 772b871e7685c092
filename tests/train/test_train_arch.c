/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_train_arch.c - the block list from multipliers vs goldens/train/nano_variant.json and
 * b0's known table; a w0.75 d0.5 model built from (W, D, K), initialised, saved with the
 * safetensors writer and reloaded gives the same structure and values; timm init statistics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "safetensors_write.h"
#include "train_check.h"

/* Compare with nano_variant.json's "blocks" table and stem/head widths. */
static void check_nano_json(const ens_train_arch *a)
{
  size_t len;
  char *text = ens_test_read_file(ens_test_shared_path("goldens/train/nano_variant.json"), &len);
  /* The flat block table is simple enough to scan: each block is an object with "in","mid",
   * "out","k","s","se_rd","skip" fields in order. */
  const char *p = strstr(text, "\"blocks\":[");
  CHECK(p != NULL, "no blocks table in nano_variant.json");
  int i = 0;
  while (p && (p = strstr(p, "{\"type\":\"")) != NULL && i < a->nblocks) {
    const ens_train_block *b = &a->blocks[i];
    int is_ds = !strncmp(p + 9, "ds", 2);
    int in, mid, out, k, s, rd;
    const char *q = strstr(p, "\"in\":");
    CHECK(q && sscanf(q, "\"in\":%d,\"mid\":%d,\"out\":%d", &in, &mid, &out) == 3, "block %d", i);
    q = strstr(p, "\"k\":");
    CHECK(q && sscanf(q, "\"k\":%d,\"s\":%d", &k, &s) == 2, "block %d k/s", i);
    q = strstr(p, "\"se_rd\":");
    CHECK(q && sscanf(q, "\"se_rd\":%d", &rd) == 1, "block %d se_rd", i);
    int skip = strstr(p, "\"skip\":true") && strstr(p, "\"skip\":true") < strstr(p, "}");
    CHECK(is_ds == (b->type == ENS_BLOCK_DS) && in == b->in && mid == b->mid && out == b->out &&
              k == b->k && s == b->stride && rd == b->se_rd && skip == b->skip,
          "nano block %d: json %s %d/%d/%d k%d s%d rd%d skip%d", i, is_ds ? "ds" : "ir", in, mid,
          out, k, s, rd, skip);
    p++;
    i++;
  }
  CHECK(i == 10 && a->nblocks == 10, "nano: %d blocks (json %d)", a->nblocks, i);
  CHECK(a->stem_chs == 16 && a->head_chs == 640 && a->num_classes == 10, "nano stem/head");
  free(text);
}

int main(void)
{
  ens_test_shared();
  ens_error err;
  ens_train_arch a, b;
  CHECK_OK(ens_train_arch_from_mult(0.5, 0.5, 10, &a, &err), &err);
  check_nano_json(&a);

  /* b0: 16 blocks, stage widths 16 24 40 80 112 192 320, head 1280 */
  CHECK_OK(ens_train_arch_from_mult(1.0, 1.0, 1000, &a, &err), &err);
  static const int b0_out[16] = {16,  24,  24,  40,  40,  80,  80,  80,
                                 112, 112, 112, 192, 192, 192, 192, 320};
  CHECK(a.nblocks == 16 && a.stem_chs == 32 && a.head_chs == 1280, "b0 sizes");
  int skips = 0;
  for (int i = 0; i < a.nblocks && i < 16; i++) {
    CHECK(a.blocks[i].out == b0_out[i], "b0 block %d out %d", i, a.blocks[i].out);
    skips += a.blocks[i].skip;
  }
  CHECK(skips == 9, "b0 identity-skip blocks %d, expected 9", skips);
  CHECK(a.blocks[1].se_rd == 4 && a.blocks[15].se_rd == 48, "b0 se widths");

  /* w0.75 d0.5 from multipliers -> init -> save -> reload: same structure and values */
  CHECK_OK(ens_train_arch_from_mult(0.75, 0.5, 7, &a, &err), &err);
  CHECK(a.stem_chs == 24 && a.head_chs == 960, "w0.75 stem %d head %d", a.stem_chs, a.head_chs);
  ens_train_graph *g, *g2;
  CHECK_OK(ens_tg_new(&a, 2, 32, 32, 1, &g, &err), &err);
  ens_tg_init(g, 1234);
  *ens_tg_num_batches_tracked(g) = 5;
  char path[512];
  snprintf(path, sizeof path, "%s/w075_d05.safetensors", ens_test_gen_dir());
  CHECK_OK(ens_tg_save(g, path, &err), &err);
  ens_safetensors st;
  CHECK_OK(ens_st_open(path, &st, &err), &err);
  CHECK_OK(ens_train_arch_from_st(&st, &b, &err), &err);
  CHECK(ens_train_arch_equal(&a, &b), "w0.75 d0.5: arch after save/reload differs");
  int np;
  ens_param *p = ens_tg_params(g, &np);
  int nbn = 0;
  for (int i = 0; i < np; i++)
    nbn += p[i].is_buffer;
  CHECK(st.count == np + nbn / 2, "saved %d tensors, expected %d", st.count, np + nbn / 2);
  const ens_st_tensor *nbt = ens_st_find(&st, "blocks.1.0.bn3.num_batches_tracked");
  CHECK(nbt && nbt->dtype == ENS_DT_I64 && nbt->ndim == 0 && nbt->data[0] == 5, "nbt");
  CHECK_OK(ens_tg_new(&b, 2, 32, 32, 1, &g2, &err), &err);
  CHECK_OK(ens_tg_load(g2, &st, &err), &err);
  ens_st_close(&st);
  ens_param *p2 = ens_tg_params(g2, &np);
  for (int i = 0; i < np; i++)
    CHECK(!memcmp(p[i].data, p2[i].data, p[i].numel * sizeof(float)), "%s differs", p[i].name);
  CHECK(*ens_tg_num_batches_tracked(g2) == 5, "num_batches_tracked reload");

  /* timm init: conv std sqrt(2/fan_out), Linear range 1/sqrt(out), BN 1/0 */
  const ens_param *pw = train_find_param(g, "blocks.5.0.conv_pw.weight"); /* [864,144] */
  const ens_param *dw = train_find_param(g, "blocks.5.0.conv_dw.weight"); /* k5: fan_out 25 */
  const ens_param *cls = train_find_param(g, "classifier.weight");
  const ens_param *bnw = train_find_param(g, "blocks.5.0.bn2.weight");
  double sd_pw = ens_test_std(pw->data, pw->numel, NULL);
  double sd_dw = ens_test_std(dw->data, dw->numel, NULL);
  double want_pw = sqrt(2.0 / pw->shape[0]), want_dw = sqrt(2.0 / 25.0);
  printf("init std conv_pw %.4f (want %.4f), conv_dw %.4f (want %.4f)\n", sd_pw, want_pw, sd_dw,
         want_dw);
  CHECK(fabs(sd_pw / want_pw - 1) < 0.02 && fabs(sd_dw / want_dw - 1) < 0.03, "conv init std");
  double r = 1.0 / sqrt(7.0), mx = 0;
  for (size_t i = 0; i < cls->numel; i++)
    mx = fabs(cls->data[i]) > mx ? fabs(cls->data[i]) : mx;
  CHECK(mx <= r && mx > 0.95 * r, "classifier init range %.4f vs %.4f", mx, r);
  CHECK(bnw->data[0] == 1.0f && train_find_param(g, "blocks.5.0.bn2.bias")->data[3] == 0.0f &&
            train_find_param(g, "blocks.5.0.bn2.running_var")->data[1] == 1.0f,
        "BN init");

  /* loading into a different architecture: clear error naming the tensor */
  ens_train_arch other;
  CHECK_OK(ens_train_arch_from_mult(0.5, 0.5, 7, &other, &err), &err);
  ens_train_graph *g3;
  CHECK_OK(ens_tg_new(&other, 1, 32, 32, 1, &g3, &err), &err);
  CHECK_OK(ens_st_open(path, &st, &err), &err);
  CHECK(ens_tg_load(g3, &st, &err) == ENS_ERR_MODEL && strstr(err.message, "conv_stem.weight") &&
            strstr(err.message, "wrong shape"),
        "load into another arch: %s", err.message);
  ens_st_close(&st);
  ens_tg_free(g3);
  /* a state_dict without a classifier is not an EfficientNet */
  ens_st_entry one = {"conv_stem.weight", ENS_DT_F32, 4, {8, 3, 3, 3}, NULL};
  float wdata[8 * 27] = {0};
  one.data = wdata;
  char bad[512];
  snprintf(bad, sizeof bad, "%s/stem_only.safetensors", ens_test_gen_dir());
  CHECK_OK(ens_st_write(bad, &one, 1, NULL, NULL, 0, &err), &err);
  CHECK_OK(ens_st_open(bad, &st, &err), &err);
  CHECK(ens_train_arch_from_st(&st, &b, &err) == ENS_ERR_MODEL && strstr(err.message, "conv_head"),
        "arch from a stem-only file: %s", err.message);
  ens_st_close(&st);

  /* unwritable destination: clear error, no file */
  CHECK(ens_tg_save(g, "/nonexistent-dir/x.safetensors", &err) == ENS_ERR_IO &&
            strstr(err.message, "/nonexistent-dir/x.safetensors"),
        "save into a missing directory: %s", err.message);
  ens_tg_free(g);
  ens_tg_free(g2);
  return ens_test_finish("train_arch");
}
