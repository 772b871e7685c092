/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_st_write.c - the safetensors writer round-trips through the engine's strict reader:
 * F32 / F16 / BF16 / I64 / scalar / empty tensors, metadata with characters JSON must escape,
 * half-precision conversion (rounding, subnormals, inf), and its errors (duplicate names, a
 * missing directory) leave no file behind and an existing file untouched. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ens_test.h"
#include "safetensors_write.h"

static int count_tmp_files(const char *dir, const char *prefix)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c '^%s.tmp' || true", dir, prefix);
  FILE *p = popen(cmd, "r");
  int n = 0;
  if (p) {
    if (fscanf(p, "%d", &n) != 1)
      n = -1;
    pclose(p);
  }
  return n;
}

int main(void)
{
  ens_error err;
  char path[512];
  const char *dir = ens_test_gen_dir();
  snprintf(path, sizeof path, "%s/st_write_test.safetensors", dir);
  unlink(path);

  float f32[6] = {1.0f, -2.5f, 3.25f, 1e-8f, -0.0f, 65504.0f};
  uint16_t f16[6], bf16[6];
  for (int i = 0; i < 6; i++) {
    f16[i] = ens_st_f32_to_f16(f32[i]);
    bf16[i] = ens_st_f32_to_bf16(f32[i]);
  }
  int64_t i64 = 1234567890123LL, scalar_nbt = 7;
  ens_st_entry e[] = {
      {"a.weight", ENS_DT_F32, 2, {2, 3}, f32},
      {"half", ENS_DT_F16, 1, {6}, f16},
      {"brain \"quoted\" \\ name", ENS_DT_BF16, 3, {1, 2, 3}, bf16},
      {"count", ENS_DT_I64, 1, {1}, &i64},
      {"bn.num_batches_tracked", ENS_DT_I64, 0, {0}, &scalar_nbt},
      {"empty", ENS_DT_F32, 2, {0, 4}, f32},
  };
  const char *mk[] = {"format", "note"};
  const char *mv[] = {"pt", "line\nbreak \"and\" tab\t"};
  CHECK_OK(ens_st_write(path, e, 6, mk, mv, 2, &err), &err);

  ens_safetensors st;
  CHECK_OK(ens_st_open(path, &st, &err), &err);
  CHECK(st.count == 6, "%d tensors read back", st.count);
  CHECK(ens_st_meta(&st, "note") && !strcmp(ens_st_meta(&st, "note"), mv[1]), "metadata");
  const ens_st_tensor *t = ens_st_find(&st, "a.weight");
  float back[6];
  CHECK(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3, "a.weight shape");
  CHECK_OK(ens_st_read_f32(&st, t, back, &err), &err);
  CHECK(!memcmp(back, f32, sizeof back), "F32 bytes");
  t = ens_st_find(&st, "half");
  CHECK_OK(ens_st_read_f32(&st, t, back, &err), &err);
  /* exact in f16: 1, -2.5, 3.25, -0, 65504; 1e-8 -> nearest subnormal 2^-24 * 0 (rounds to 0) */
  CHECK(back[0] == 1.0f && back[1] == -2.5f && back[2] == 3.25f && back[5] == 65504.0f &&
            back[3] == 0.0f && signbit(back[4]),
        "F16 values %g %g %g %g %g %g", back[0], back[1], back[2], back[3], back[4], back[5]);
  t = ens_st_find(&st, "brain \"quoted\" \\ name");
  CHECK(t && t->dtype == ENS_DT_BF16 && t->ndim == 3, "escaped name");
  if (t) {
    CHECK_OK(ens_st_read_f32(&st, t, back, &err), &err);
    CHECK(back[0] == 1.0f && back[1] == -2.5f && back[2] == 3.25f &&
              fabsf(back[3] - 1e-8f) < 1e-10f,
          "BF16 values");
  }
  t = ens_st_find(&st, "bn.num_batches_tracked");
  CHECK(t && t->dtype == ENS_DT_I64 && t->ndim == 0 && t->numel == 1 && t->data[0] == 7,
        "I64 scalar");
  t = ens_st_find(&st, "count");
  CHECK(t && !memcmp(t->data, &i64, 8), "I64 value");
  t = ens_st_find(&st, "empty");
  CHECK(t && t->numel == 0, "empty tensor");
  ens_st_close(&st);

  /* half conversions: ties to even, overflow, subnormals */
  CHECK(ens_st_f32_to_f16(1.0f + 1.0f / 2048) == 0x3C00, "f16 tie to even (down)");
  CHECK(ens_st_f32_to_f16(1.0f + 3.0f / 2048) == 0x3C02, "f16 tie to even (up)");
  CHECK(ens_st_f32_to_f16(70000.0f) == 0x7C00 && ens_st_f32_to_f16(-INFINITY) == 0xFC00, "inf");
  CHECK(ens_st_f32_to_f16(5.9604645e-8f) == 0x0001, "smallest f16 subnormal");
  CHECK(ens_st_f32_to_bf16(1.0f + 1.0f / 256) == 0x3F80, "bf16 tie to even");
  CHECK(ens_st_f32_to_bf16(1.0f + 3.0f / 256) == 0x3F82, "bf16 tie to even (up)");

  /* errors: the existing file is untouched, no temp file is left */
  size_t len0, len1;
  char *before = ens_test_read_file(path, &len0);
  ens_st_entry dup[] = {{"x", ENS_DT_F32, 1, {1}, f32}, {"x", ENS_DT_F32, 1, {1}, f32}};
  CHECK(ens_st_write(path, dup, 2, NULL, NULL, 0, &err) == ENS_ERR_ARG &&
            strstr(err.message, "'x' given twice"),
        "duplicate names: %s", err.message);
  char *after = ens_test_read_file(path, &len1);
  CHECK(len0 == len1 && !memcmp(before, after, len0), "existing file changed by a failed write");
  CHECK(ens_st_write("/nonexistent-ens-dir/a.safetensors", e, 1, NULL, NULL, 0, &err) ==
                ENS_ERR_IO &&
            strstr(err.message, "/nonexistent-ens-dir/a.safetensors"),
        "missing directory: %s", err.message);
  CHECK(count_tmp_files(dir, "st_write_test.safetensors") == 0, "temporary file left behind");
  free(before);
  free(after);
  unlink(path);
  return ens_test_finish("st_write");
}
