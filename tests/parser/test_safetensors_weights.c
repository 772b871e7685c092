/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_safetensors_weights.c - real synthetic timm files: the b0 file matches the variants.json
 * manifest (names in order, shapes, dtypes), and its f16 / bf16 versions widen to exactly the
 * F32 values rounded to nearest-even, which is what makes f16/bf16 logits reproducible. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "json.h"
#include "safetensors.h"

/* Reference rounding done in double, independently of the reader: scale to the target's
 * quantum at x's exponent, round half-to-even with nearbyint, scale back. */
static float round_to_format(float x, int mant_bits, int min_exp, double max_finite)
{
  if (x == 0 || !isfinite(x))
    return x;
  int e;
  frexp(x, &e);
  e -= 1; /* x = m * 2^e, 1 <= |m| < 2 */
  if (e < min_exp)
    e = min_exp; /* subnormal range: fixed quantum */
  double q = ldexp(1.0, e - mant_bits);
  double r = nearbyint((double)x / q) * q;
  if (fabs(r) > max_finite)
    return copysignf(INFINITY, x);
  return (float)r;
}

static float round_f16(float x)
{
  return round_to_format(x, 10, -14, 65504.0);
}

static float round_bf16(float x)
{
  return round_to_format(x, 7, -126, 3.38953138925153547590470800371487866880e38);
}

static uint32_t bits(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static void check_manifest(const ens_safetensors *st, const ens_json *manifest, const char *label)
{
  CHECK(manifest && manifest->type == ENS_JSON_ARRAY, "manifest array");
  if (!manifest || manifest->type != ENS_JSON_ARRAY)
    return;
  CHECK((size_t)st->count == manifest->count, "%s: %d tensors, manifest %zu", label, st->count,
        manifest->count);
  int bad = 0;
  for (size_t i = 0; i < manifest->count && i < (size_t)st->count; i++) {
    const ens_json *e = &manifest->items[i];
    if (e->type != ENS_JSON_ARRAY || e->count != 3 || e->items[0].type != ENS_JSON_STRING ||
        e->items[1].type != ENS_JSON_ARRAY || e->items[2].type != ENS_JSON_STRING) {
      CHECK(0, "manifest entry %zu is not [key, shape, dtype]", i);
      continue;
    }
    const char *key = e->items[0].str;
    const ens_json *shape = &e->items[1];
    const char *dtype = e->items[2].str;
    const ens_st_tensor *t = &st->tensors[i];
    int ok = strcmp(t->name, key) == 0 && t->ndim == (int)shape->count && ens_st_find(st, key) == t;
    for (int d = 0; ok && d < t->ndim; d++)
      ok = t->shape[d] == shape->items[d].integer;
    /* f16/bf16 files keep I64 as I64 and store every F32 in the narrow type. */
    const char *want_dt = dtype;
    if (strcmp(dtype, "F32") == 0 && strstr(label, "f16"))
      want_dt = strstr(label, "bf16") ? "BF16" : "F16";
    ok = ok && strcmp(ens_dtype_name(t->dtype), want_dt) == 0;
    if (!ok && bad++ < 5)
      fprintf(stderr, "%s: entry %zu: file has %s %s ndim %d, manifest %s %s\n", label, i, t->name,
              ens_dtype_name(t->dtype), t->ndim, key, want_dt);
  }
  CHECK(bad == 0, "%s: %d entries differ from the manifest", label, bad);
}

static void check_narrow(const ens_safetensors *f32, const char *path, const char *label,
                         float (*round_fn)(float))
{
  ens_safetensors st;
  ens_error err;
  CHECK_OK(ens_st_open(path, &st, &err), &err);
  CHECK(st.count == f32->count, "%s count", label);
  size_t values = 0, moved = 0, mismatches = 0;
  for (int i = 0; i < st.count && i < f32->count; i++) {
    const ens_st_tensor *a = &f32->tensors[i], *b = &st.tensors[i];
    CHECK(strcmp(a->name, b->name) == 0 && a->numel == b->numel, "%s: tensor %d", label, i);
    if (a->dtype == ENS_DT_I64) {
      CHECK(b->dtype == ENS_DT_I64 && a->nbytes == b->nbytes &&
                memcmp(a->data, b->data, a->nbytes) == 0,
            "%s: %s I64 kept", label, a->name);
      continue;
    }
    size_t n = (size_t)a->numel;
    float *wa = malloc(n * sizeof(float) + 1), *wb = malloc(n * sizeof(float) + 1);
    CHECK_OK(ens_st_read_f32(f32, a, wa, &err), &err);
    CHECK_OK(ens_st_read_f32(&st, b, wb, &err), &err);
    for (size_t k = 0; k < n; k++) {
      float want = round_fn(wa[k]);
      if (bits(wb[k]) != bits(want) && mismatches++ < 5)
        fprintf(stderr, "%s: %s[%zu]: f32 %a widened %a, want %a\n", label, a->name, k, wa[k],
                wb[k], want);
      moved += wa[k] != wb[k];
    }
    values += n;
    free(wa);
    free(wb);
  }
  printf("%s: %zu values, %zu changed by rounding, %zu mismatches\n", label, values, moved,
         mismatches);
  CHECK(mismatches == 0, "%s: %zu values differ from round-to-nearest-even", label, mismatches);
  CHECK(values > 5000000 && moved > values / 2, "%s: rounding happened (%zu of %zu)", label, moved,
        values);
  ens_st_close(&st);
}

static void test_rounding_reference(void)
{
  /* The oracle itself, on values with known answers. */
  CHECK(round_f16(1.0f + ldexpf(1, -11)) == 1.0f, "f16 tie to even (down)");
  CHECK(round_f16(1.0f + 3 * ldexpf(1, -11)) == 1.0f + ldexpf(1, -9), "f16 tie to even (up)");
  CHECK(round_f16(65519.0f) == 65504.0f && isinf(round_f16(65520.0f)), "f16 overflow edge");
  CHECK(round_f16(ldexpf(1, -25)) == 0.0f && round_f16(ldexpf(1.5f, -25)) == ldexpf(1, -24),
        "f16 subnormal rounding");
  CHECK(round_bf16(1.0f + ldexpf(1, -8)) == 1.0f && round_bf16(1.0f + ldexpf(3, -8)) == 1.015625f,
        "bf16 ties");
  CHECK(round_bf16(3.14159265f) == 3.140625f, "bf16 pi");
}

int main(void)
{
  test_rounding_reference();
  size_t len;
  char *text = ens_test_read_file(ens_test_shared_path("goldens/variants.json"), &len);
  ens_json root;
  ens_error err;
  CHECK_OK(ens_json_parse(text, len, "variants.json", &root, &err), &err);
  const ens_json *manifest =
      ens_json_get(ens_json_get(ens_json_get(&root, "variants"), "b0"), "manifest");

  char *p32 = ens_test_weights("b0", NULL, "b0");
  char *p16 = ens_test_weights("b0", "--dtype f16", "b0_f16");
  char *pb16 = ens_test_weights("b0", "--dtype bf16", "b0_bf16");
  ens_safetensors st;
  CHECK_OK(ens_st_open(p32, &st, &err), &err);
  check_manifest(&st, manifest, "b0");
  CHECK(ens_st_meta(&st, "format") && strcmp(ens_st_meta(&st, "format"), "pt") == 0, "format");
  CHECK(ens_st_meta(&st, "variant") && strcmp(ens_st_meta(&st, "variant"), "b0") == 0, "variant");
  const ens_st_tensor *nbt = ens_st_find(&st, "bn1.num_batches_tracked");
  CHECK(nbt && nbt->ndim == 0 && nbt->numel == 1 && nbt->dtype == ENS_DT_I64, "scalar I64");
  const ens_st_tensor *cls = ens_st_find(&st, "classifier.weight");
  CHECK(cls && cls->shape[0] == 1000 && cls->shape[1] == 1280, "classifier shape");

  ens_safetensors s16;
  CHECK_OK(ens_st_open(p16, &s16, &err), &err);
  check_manifest(&s16, manifest, "b0_f16");
  ens_st_close(&s16);
  CHECK_OK(ens_st_open(pb16, &s16, &err), &err);
  check_manifest(&s16, manifest, "b0_bf16");
  ens_st_close(&s16);

  check_narrow(&st, p16, "b0_f16", round_f16);
  check_narrow(&st, pb16, "b0_bf16", round_bf16);

  ens_st_close(&st);
  ens_json_free(&root);
  free(text);
  free(p32);
  free(p16);
  free(pb16);
  return ens_test_finish("test_safetensors_weights");
}
