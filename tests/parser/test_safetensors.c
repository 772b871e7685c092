/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_safetensors.c - the reader on files built here: every dtype (F16/BF16 widening against
 * known bit patterns), metadata, mmap, and every validation failure with its message. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ens_test.h"
#include "safetensors.h"

typedef struct {
  uint8_t *buf;
  size_t len;
} blob;

/* u64 LE header length, header text, data bytes (zeros when data is NULL). */
static blob make_blob(const char *header, const void *data, size_t dlen)
{
  size_t hlen = strlen(header);
  blob b = {malloc(8 + hlen + dlen + 1), 8 + hlen + dlen};
  for (int i = 0; i < 8; i++)
    b.buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
  memcpy(b.buf + 8, header, hlen);
  if (data)
    memcpy(b.buf + 8 + hlen, data, dlen);
  else
    memset(b.buf + 8 + hlen, 0, dlen);
  return b;
}

static uint32_t bits_of(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static void put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

/* parse(header + zeros) must fail with want; message must name the file and every needle. */
static void expect_fail_blob(const char *what, blob b, ens_status want, const char *n1,
                             const char *n2)
{
  ens_safetensors st;
  ens_error err = {0};
  ens_status s = ens_st_parse(b.buf, b.len, "bad.safetensors", &st, &err);
  CHECK(s == want, "%s: status %d (%s), want %d: %s", what, s, ens_status_name(s), want,
        err.message);
  CHECK(strstr(err.message, "bad.safetensors") != NULL, "%s: no file name in '%s'", what,
        err.message);
  if (n1)
    CHECK(strstr(err.message, n1) != NULL, "%s: '%s' not in '%s'", what, n1, err.message);
  if (n2)
    CHECK(strstr(err.message, n2) != NULL, "%s: '%s' not in '%s'", what, n2, err.message);
  CHECK(st.count == 0 && st.tensors == NULL && st.meta_count == 0, "%s: st not left empty", what);
  printf("  %-28s -> %s\n", what, err.message);
  if (s == ENS_OK)
    ens_st_close(&st);
  free(b.buf);
}

static void expect_fail(const char *what, const char *header, size_t dlen, const char *n1,
                        const char *n2)
{
  expect_fail_blob(what, make_blob(header, NULL, dlen), ENS_ERR_FORMAT, n1, n2);
}

/* Data block layout of the valid file (offsets chosen so F32 "f32u" is not 4-aligned). */
#define OFF_U8 0    /* U8 [2] */
#define OFF_F32U 2  /* F32 [2] at an odd address */
#define OFF_F16 10  /* F16 [11] */
#define OFF_BF16 32 /* BF16 [7] */
#define OFF_F64 46  /* F64 [4] */
#define OFF_I64 78  /* I64 [] */
#define OFF_F32 86  /* F32 [2,3] */
#define DATA_LEN 110

static const char *valid_header =
    "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"caf\\u00e9\"},"
    "\"u8\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
    "\"f32u\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[2,10]},"
    "\"f16\":{\"dtype\":\"F16\",\"shape\":[11],\"data_offsets\":[10,32]},"
    "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[7],\"data_offsets\":[32,46]},"
    "\"f64\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":[46,78]},"
    "\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[78,86]},"
    "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[86,110]},"
    "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[86,86]},"
    "\"i32\":{\"dtype\":\"I32\",\"shape\":[0],\"data_offsets\":[110,110]},"
    "\"i16\":{\"dtype\":\"I16\",\"shape\":[0],\"data_offsets\":[0,0]},"
    "\"i8\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[0,0]},"
    "\"b\":{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[0,0]}}   ";

static const uint16_t f16_bits[11] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400,
                                      0x7C00, 0xFC00, 0x7E00, 0x8000, 0x3555};
static const uint16_t bf16_bits[7] = {0x3F80, 0x4049, 0x0001, 0x7F80, 0x7FC1, 0xFF7F, 0x8000};

static void fill_valid_data(uint8_t *d)
{
  memset(d, 0, DATA_LEN);
  d[0] = 7;
  d[1] = 250;
  float u[2] = {1.5f, -0.0f};
  memcpy(d + OFF_F32U, u, 8);
  for (int i = 0; i < 11; i++)
    put16(d + OFF_F16 + 2 * i, f16_bits[i]);
  for (int i = 0; i < 7; i++)
    put16(d + OFF_BF16 + 2 * i, bf16_bits[i]);
  double f64[4] = {0.1, 1e300, 1e-310, -3.25};
  memcpy(d + OFF_F64, f64, 32);
  int64_t nbt = 12345;
  memcpy(d + OFF_I64, &nbt, 8);
  float w[6] = {1, 2, 3, 4, 5, 6};
  memcpy(d + OFF_F32, w, 24);
}

static void check_valid(const ens_safetensors *st, const char *label)
{
  ens_error err;
  CHECK(st->count == 12, "%s: %d tensors", label, st->count);
  CHECK(st->meta_count == 2, "%s: %d metadata", label, st->meta_count);
  CHECK(ens_st_meta(st, "format") && strcmp(ens_st_meta(st, "format"), "pt") == 0, "format");
  CHECK(ens_st_meta(st, "note") && strcmp(ens_st_meta(st, "note"), "caf\xc3\xa9") == 0, "note");
  CHECK(ens_st_meta(st, "nope") == NULL, "absent meta");
  CHECK(ens_st_find(st, "__metadata__") == NULL, "metadata is not a tensor");
  CHECK(ens_st_find(st, "missing") == NULL, "absent tensor");
  /* Header order is kept. */
  const char *order[] = {"u8", "f32u",  "f16", "bf16", "f64", "bn.num_batches_tracked",
                         "w",  "empty", "i32", "i16",  "i8",  "b"};
  for (int i = 0; i < 12 && i < st->count; i++) {
    CHECK(strcmp(st->tensors[i].name, order[i]) == 0, "order %d: %s", i, st->tensors[i].name);
    CHECK(ens_st_find(st, order[i]) == &st->tensors[i], "find %s", order[i]);
  }

  const ens_st_tensor *t = ens_st_find(st, "u8");
  CHECK(t && t->dtype == ENS_DT_U8 && t->numel == 2 && t->nbytes == 2 && t->data[1] == 250, "u8");

  float out[16];
  t = ens_st_find(st, "f32u");
  CHECK_OK(ens_st_read_f32(st, t, out, &err), &err);
  CHECK(out[0] == 1.5f && bits_of(out[1]) == 0x80000000u, "unaligned F32");

  t = ens_st_find(st, "w");
  CHECK(t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->numel == 6, "w shape");
  CHECK_OK(ens_st_read_f32(st, t, out, &err), &err);
  for (int i = 0; i < 6; i++)
    CHECK(out[i] == (float)(i + 1), "w[%d] = %g", i, out[i]);

  /* F16 -> F32, bit-exact expectations. */
  const uint32_t f16_want[11] = {
      0x3F800000u, /* 1 */
      0xC0000000u, /* -2 */
      0x477FE000u, /* 65504 */
      0x33800000u, /* 2^-24, smallest subnormal */
      0x387FC000u, /* 1023 * 2^-24, largest subnormal */
      0x38800000u, /* 2^-14, smallest normal */
      0x7F800000u, /* +inf */
      0xFF800000u, /* -inf */
      0x7FC00000u, /* quiet NaN */
      0x80000000u, /* -0 */
      0x3EAAA000u, /* 0.333251953125 */
  };
  t = ens_st_find(st, "f16");
  CHECK(t->dtype == ENS_DT_F16 && t->nbytes == 22, "f16 meta");
  CHECK_OK(ens_st_read_f32(st, t, out, &err), &err);
  for (int i = 0; i < 11; i++)
    CHECK(bits_of(out[i]) == f16_want[i], "f16 0x%04x -> 0x%08x want 0x%08x", f16_bits[i],
          bits_of(out[i]), f16_want[i]);
  CHECK(out[3] == ldexpf(1, -24) && out[4] == 1023 * ldexpf(1, -24) && out[10] == 0.333251953125f,
        "f16 values");

  /* BF16 -> F32 is the top half of the bits. */
  t = ens_st_find(st, "bf16");
  CHECK_OK(ens_st_read_f32(st, t, out, &err), &err);
  for (int i = 0; i < 7; i++)
    CHECK(bits_of(out[i]) == (uint32_t)bf16_bits[i] << 16, "bf16 0x%04x -> 0x%08x", bf16_bits[i],
          bits_of(out[i]));
  CHECK(out[1] == 3.140625f && isnan(out[4]) && isinf(out[3]), "bf16 values");

  t = ens_st_find(st, "f64");
  CHECK(t->numel == 4, "f64 numel");
  CHECK_OK(ens_st_read_f32(st, t, out, &err), &err);
  CHECK(out[0] == (float)0.1 && isinf(out[1]) && out[1] > 0 && out[2] == 0.0f && out[3] == -3.25f,
        "f64 narrowing: %a %a %a %a", out[0], out[1], out[2], out[3]);

  t = ens_st_find(st, "bn.num_batches_tracked");
  CHECK(t->ndim == 0 && t->numel == 1 && t->nbytes == 8 && t->dtype == ENS_DT_I64, "I64 scalar");
  int64_t nbt;
  memcpy(&nbt, t->data, 8);
  CHECK(nbt == 12345, "scalar value");
  ens_status s = ens_st_read_f32(st, t, out, &err);
  CHECK(s == ENS_ERR_MODEL && strstr(err.message, "bn.num_batches_tracked") &&
            strstr(err.message, "I64"),
        "I64 read_f32: %d %s", s, err.message);
  const char *ints[] = {"i32", "i16", "i8", "b", "u8"};
  for (int i = 0; i < 5; i++) {
    s = ens_st_read_f32(st, ens_st_find(st, ints[i]), out, &err);
    CHECK(s == ENS_ERR_MODEL && strstr(err.message, ints[i]), "%s read_f32: %s", ints[i],
          err.message);
  }

  t = ens_st_find(st, "empty");
  CHECK(t->numel == 0 && t->nbytes == 0 && t->ndim == 2, "empty tensor");
  CHECK_OK(ens_st_read_f32(st, t, out, &err), &err);
}

static void test_valid(void)
{
  uint8_t data[DATA_LEN];
  fill_valid_data(data);
  blob b = make_blob(valid_header, data, DATA_LEN);
  ens_safetensors st;
  ens_error err;
  CHECK_OK(ens_st_parse(b.buf, b.len, "mem", &st, &err), &err);
  CHECK(st.map == NULL && strcmp(st.path, "mem") == 0, "buffer parse has no mapping");
  check_valid(&st, "buffer");
  ens_st_close(&st);
  ens_st_close(&st); /* closing twice is harmless */

  /* Same bytes through a file and mmap. */
  char path[4300];
  snprintf(path, sizeof path, "%s/st_valid_%d.safetensors", ens_test_gen_dir(), (int)getpid());
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(b.buf, 1, b.len, f) == b.len, "write %s", path);
  fclose(f);
  CHECK_OK(ens_st_open(path, &st, &err), &err);
  CHECK(st.map != NULL && st.map_len == b.len, "mapped");
  check_valid(&st, "file");
  ens_st_close(&st);

  /* File errors name the file. */
  ens_status s;
  snprintf(path + strlen(path), 16, ".nope");
  s = ens_st_open(path, &st, &err);
  CHECK(s == ENS_ERR_IO && strstr(err.message, path), "missing file: %s", err.message);
  s = ens_st_open(ens_test_gen_dir(), &st, &err);
  CHECK(s == ENS_ERR_IO && strstr(err.message, "not a regular file"), "directory: %s", err.message);
  path[strlen(path) - 5] = 0;
  /* A truncated copy of the file on disk. */
  f = fopen(path, "wb");
  fwrite(b.buf, 1, 5, f);
  fclose(f);
  s = ens_st_open(path, &st, &err);
  CHECK(s == ENS_ERR_FORMAT && strstr(err.message, path) && strstr(err.message, "shorter"),
        "5-byte file: %s", err.message);
  f = fopen(path, "wb");
  fclose(f);
  s = ens_st_open(path, &st, &err);
  CHECK(s == ENS_ERR_FORMAT && strstr(err.message, path), "empty file: %s", err.message);
  CHECK(st.count == 0 && st.map == NULL, "empty file leaves st empty");
  ens_st_close(&st);
  unlink(path);
  free(b.buf);
}

#define E(name, dt, shape, offs)                                                                   \
  "\"" name "\":{\"dtype\":" dt ",\"shape\":" shape ",\"data_offsets\":" offs "}"

static void test_invalid(void)
{
  /* Sizes. */
  uint8_t tiny[7] = {0};
  expect_fail_blob("empty buffer", (blob){calloc(1, 1), 0}, ENS_ERR_FORMAT, "shorter", NULL);
  blob b7 = {malloc(7), 7};
  memcpy(b7.buf, tiny, 7);
  expect_fail_blob("7 bytes", b7, ENS_ERR_FORMAT, "shorter", NULL);
  blob b = make_blob("{}", NULL, 0);
  b.buf[0] = 200; /* header length 200 in a 10-byte file */
  expect_fail_blob("header beyond file", b, ENS_ERR_FORMAT, "beyond the end", NULL);
  b = make_blob("{}", NULL, 0);
  memset(b.buf, 0xff, 8);
  expect_fail_blob("absurd header length", b, ENS_ERR_FORMAT, "absurd", NULL);
  b = make_blob("{}", NULL, 0);
  b.buf[3] = 0x10; /* 256 MB > the 100 MB cap, file is small anyway */
  expect_fail_blob("header over 100MB", b, ENS_ERR_FORMAT, "absurd", NULL);

  /* Headers (with dlen zero data bytes) that must fail with ENS_ERR_FORMAT, naming n1 and n2. */
  static const struct {
    const char *what, *header;
    size_t dlen;
    const char *n1, *n2;
  } cases[] = {
      /* The header text. */
      {"bad UTF-8", "{\"w\xff\":{}}", 0, "UTF-8", "byte 3"},
      {"bad JSON", "{\"w\":{\"dtype\":\"F32\",}}", 0, "invalid JSON", "byte 20"},
      {"header is array", "[1,2]", 0, "not an object", NULL},
      {"header is number", "7", 0, "not an object", NULL},
      {"empty header", "", 0, "invalid JSON", NULL},
      /* Entries. */
      {"entry not object", "{\"w\":5}", 0, "'w'", "not an object"},
      {"missing dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'w'",
       "missing 'dtype'"},
      {"missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "'w'",
       "missing 'shape'"},
      {"missing data_offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "'w'",
       "missing 'data_offsets'"},
      {"dtype not string", "{" E("w", "4", "[1]", "[0,4]") "}", 4, "'w'", "dtype"},
      {"unknown dtype", "{" E("w", "\"Q4\"", "[1]", "[0,4]") "}", 4, "'w'", "unknown dtype 'Q4'"},
      {"lowercase dtype", "{" E("w", "\"f32\"", "[1]", "[0,4]") "}", 4, "'w'", "unknown dtype"},
      {"shape not array", "{" E("w", "\"F32\"", "\"1\"", "[0,4]") "}", 4, "'w'", "shape"},
      {"shape float", "{" E("w", "\"F32\"", "[1.0]", "[0,4]") "}", 4, "'w'", "not an integer"},
      {"shape string", "{" E("w", "\"F32\"", "[\"1\"]", "[0,4]") "}", 4, "'w'", "not an integer"},
      {"ndim 9", "{" E("w", "\"F32\"", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4, "'w'",
       "9 dimensions"},
      {"negative dim", "{" E("w", "\"F32\"", "[2,-1]", "[0,4]") "}", 4, "'w'",
       "negative dimension"},
      {"numel overflow", "{" E("w", "\"U8\"", "[4294967296,4294967296]", "[0,4]") "}", 4, "'w'",
       "overflows"},
      {"nbytes overflow", "{" E("w", "\"F64\"", "[2305843009213693952]", "[0,4]") "}", 4, "'w'",
       "overflows"},
      {"huge dim", "{" E("w", "\"F32\"", "[99999999999999999999]", "[0,4]") "}", 4, "'w'",
       "not an integer"},
      {"offsets not array", "{" E("w", "\"F32\"", "[1]", "{}") "}", 4, "'w'", "data_offsets"},
      {"offsets length 3", "{" E("w", "\"F32\"", "[1]", "[0,4,8]") "}", 8, "'w'", "[begin, end]"},
      {"offsets length 1", "{" E("w", "\"F32\"", "[1]", "[4]") "}", 8, "'w'", "[begin, end]"},
      {"offsets negative", "{" E("w", "\"F32\"", "[1]", "[-4,0]") "}", 8, "'w'", "non-negative"},
      {"offsets float", "{" E("w", "\"F32\"", "[1]", "[0,4.0]") "}", 8, "'w'",
       "non-negative integers"},
      {"begin > end", "{" E("w", "\"F32\"", "[1]", "[8,4]") "}", 8, "'w'", "begin 8 > end 4"},
      {"end beyond data", "{" E("w", "\"F32\"", "[2]", "[0,8]") "}", 7, "'w'",
       "beyond the data block"},
      {"nbytes mismatch", "{" E("w", "\"F32\"", "[2]", "[0,4]") "}", 8, "'w'", "need 8"},
      {"f16 nbytes mismatch", "{" E("h", "\"F16\"", "[3]", "[0,8]") "}", 8, "'h'", "need 6"},
      {"overlap", "{" E("a", "\"F32\"", "[2]", "[0,8]") "," E("b", "\"F32\"", "[2]", "[4,12]") "}",
       12, "'b'", "overlaps tensor 'a'"},
      {"overlap (reverse order)",
       "{" E("b", "\"F32\"", "[2]", "[4,12]") "," E("a", "\"U8\"", "[8]", "[0,8]") "}", 12, "'b'",
       "'a'"},
      {"same span", "{" E("a", "\"F32\"", "[1]", "[0,4]") "," E("c", "\"F32\"", "[1]", "[0,4]") "}",
       4, "overlaps", NULL},
      {"contained",
       "{" E("a", "\"F32\"", "[4]", "[0,16]") "," E("c", "\"F32\"", "[1]", "[4,8]") "}", 16,
       "overlaps", NULL},
      {"duplicate name",
       "{" E("w", "\"F32\"", "[1]", "[0,4]") "," E("w", "\"F32\"", "[1]", "[4,8]") "}", 8, "'w'",
       "duplicate"},
      {"metadata not object", "{\"__metadata__\":[\"a\"]}", 0, "__metadata__", "not an object"},
      {"metadata value number", "{\"__metadata__\":{\"k\":1}}", 0, "'k'", "not a string"},
      {"metadata value null", "{\"__metadata__\":{\"k\":null}}", 0, "'k'", "not a string"},
      {"name with NUL", "{" E("a\\u0000b", "\"F32\"", "[1]", "[0,4]") "}", 4, "NUL", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_fail(cases[i].what, cases[i].header, cases[i].dlen, cases[i].n1, cases[i].n2);

  /* Adjacent tensors and empty tensors inside another's span are fine. */
  ens_safetensors st;
  ens_error err;
  b = make_blob("{" E("a", "\"F32\"", "[1]", "[0,4]") "," E("b", "\"F32\"", "[1]", "[4,8]") "," E(
                    "e", "\"F32\"", "[0]", "[2,2]") "}",
                NULL, 12); /* a trailing unused gap is allowed */
  CHECK_OK(ens_st_parse(b.buf, b.len, "ok", &st, &err), &err);
  CHECK(st.count == 3, "adjacent: %d", st.count);
  ens_st_close(&st);
  free(b.buf);
}

int main(void)
{
  test_valid();
  test_invalid();
  return ens_test_finish("test_safetensors");
}
