/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_variant.c - the variant table, timm's rounding rules and TF "SAME" padding, checked
 * against shared/goldens/variants.json (every variant's stem / head / stages / blocks and the
 * Conv2dSame pads at the native input size), plus hand-computed pads. */
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "json.h"
#include "net.h"

static void pad_cases(void)
{
  /* {in, k, s, before, after, out} */
  static const int cases[][6] = {
      {224, 3, 2, 0, 1, 112}, {224, 5, 2, 1, 2, 112}, {225, 3, 2, 1, 1, 113}, {65, 5, 2, 2, 2, 33},
      {475, 3, 2, 1, 1, 238}, {56, 5, 2, 1, 2, 28},   {7, 5, 1, 2, 2, 7},     {7, 3, 1, 1, 1, 7},
      {1, 3, 2, 1, 1, 1},     {1, 5, 2, 2, 2, 1},     {2, 5, 2, 1, 2, 1},     {113, 3, 2, 1, 1, 57},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const int *c = cases[i];
    int b = -1, a = -1;
    int out = ens_same_pad(c[0], c[1], c[2], &b, &a);
    CHECK(b == c[3] && a == c[4] && out == c[5], "same_pad(in %d, k %d, s %d) = (%d, %d) -> %d",
          c[0], c[1], c[2], b, a, out);
  }
}

static int jint(const ens_json *o, const char *key)
{
  const ens_json *v = ens_json_get(o, key);
  if (!v || v->type != ENS_JSON_NUMBER) {
    fprintf(stderr, "FAIL: variants.json: no number '%s'\n", key);
    exit(1);
  }
  return (int)v->number;
}

static int pads_checked;

static void check_variant(const char *name, const ens_json *vj)
{
  const ens_variant_def *v = ens_variant_find(name);
  CHECK(v != NULL, "variant %s unknown", name);
  if (!v)
    return;
  ens_variant_dims d;
  ens_variant_dims_of(v, &d);
  const ens_json *stem = ens_json_get(ens_json_get(vj, "stem"), "conv");
  CHECK(d.stem_chs == jint(stem, "out_chs"), "%s stem %d vs %d", name, d.stem_chs,
        jint(stem, "out_chs"));
  CHECK(d.head_chs == jint(vj, "num_features"), "%s head %d", name, d.head_chs);
  const ens_json *stages = ens_json_get(vj, "stages");
  CHECK(stages && stages->count == ENS_NUM_STAGES, "%s: stages", name);
  for (int s = 0; stages && s < (int)stages->count && s < ENS_NUM_STAGES; s++) {
    const ens_json *sj = &stages->items[s];
    CHECK(d.repeats[s] == jint(sj, "repeats") && d.out_chs[s] == jint(sj, "out") &&
              ens_stage_kernel[s] == jint(sj, "k") && ens_stage_stride[s] == jint(sj, "s"),
          "%s stage %d: repeats %d out %d", name, s, d.repeats[s], d.out_chs[s]);
  }

  /* Build the real block structure (weights from a zero source) and compare block by block. */
  const ens_json *pcfg = ens_json_get(ens_json_get(vj, "pretrained_cfgs"), "ns_jft_in1k");
  const ens_json *isz = ens_json_get(pcfg, "input_size");
  CHECK(isz && isz->count == 3 && (int)isz->items[2].number == v->input_size, "%s input size",
        name);
  const ens_json *crop = ens_json_get(pcfg, "crop_pct");
  CHECK(crop && (float)crop->number == v->crop_pct, "%s crop_pct %g", name, (double)v->crop_pct);
  CHECK(v->width_mult == ens_json_get(vj, "channel_multiplier")->number &&
            v->depth_mult == ens_json_get(vj, "depth_multiplier")->number,
        "%s multipliers", name);

  const ens_json *blocks = ens_json_get(vj, "blocks");
  int total = 0;
  for (int s = 0; s < ENS_NUM_STAGES; s++)
    total += d.repeats[s];
  CHECK(blocks && (int)blocks->count == total, "%s: %d blocks", name, total);
  int in = d.stem_chs, bi = 0;
  for (int s = 0; blocks && s < ENS_NUM_STAGES; s++)
    for (int j = 0; j < d.repeats[s] && bi < (int)blocks->count; j++, bi++) {
      const ens_json *b = &blocks->items[bi];
      const int mid = in * ens_stage_exp[s], out = d.out_chs[s];
      const int stride = j == 0 ? ens_stage_stride[s] : 1;
      const int skip = stride == 1 && in == out;
      const ens_json *sk = ens_json_get(b, "skip");
      CHECK(jint(b, "in") == in && jint(b, "mid") == mid && jint(b, "out") == out &&
                jint(b, "se_rd") == in / 4 && jint(b, "s") == stride && sk && sk->boolean == skip,
            "%s block %d.%d", name, s, j);
      in = out;
    }

  /* SAME pads of the Conv2dSame layers at the native input size */
  const ens_json *pads = ens_json_get(vj, "same_pad_at_input_size");
  for (size_t i = 0; pads && i < pads->count; i++) {
    const ens_json *list = &pads->members[i].value;
    for (size_t k = 0; k < list->count; k++) {
      const ens_json *p = &list->items[k];
      const ens_json *hw = ens_json_get(p, "in_hw"), *lrtb = ens_json_get(p, "pad_lrtb"),
                     *ohw = ens_json_get(p, "out_hw");
      int b0, a0, b1, a1;
      int oh = ens_same_pad((int)hw->items[0].number, jint(p, "k"), jint(p, "s"), &b0, &a0);
      int ow = ens_same_pad((int)hw->items[1].number, jint(p, "k"), jint(p, "s"), &b1, &a1);
      CHECK(b1 == (int)lrtb->items[0].number && a1 == (int)lrtb->items[1].number &&
                b0 == (int)lrtb->items[2].number && a0 == (int)lrtb->items[3].number &&
                oh == (int)ohw->items[0].number && ow == (int)ohw->items[1].number,
            "%s %s @%s: pads", name, ens_json_get(p, "layer")->str, pads->members[i].key);
      pads_checked++;
    }
  }
}

int main(void)
{
  pad_cases();
  CHECK(ens_round_channels(32, 4.3) == 136 && ens_round_channels(1280, 4.3) == 5504, "l2 rounding");
  CHECK(ens_round_repeats(3, 1.1) == 4 && ens_round_repeats(1, 1.0) == 1, "repeats rounding");

  const char *path = ens_test_shared_path("goldens/variants.json");
  size_t size;
  char *text = ens_test_read_file(path, &size);
  ens_json root;
  ens_error err;
  CHECK_OK(ens_json_parse(text, size, path, &root, &err), &err);
  const ens_json *vs = ens_json_get(&root, "variants");
  int checked = 0;
  for (size_t i = 0; vs && i < vs->count; i++, checked++)
    check_variant(vs->members[i].key, &vs->members[i].value);
  CHECK(checked == 9 && ens_variant_count() == 9, "%d variants in variants.json", checked);
  CHECK(pads_checked >= 9 * 5, "only %d SAME pads checked", pads_checked);
  printf("%d variants, %d SAME pads checked\n", checked, pads_checked);
  ens_json_free(&root);
  free(text);
  return ens_test_finish("variant");
}
