/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_json.c - the strict JSON parser: values, escapes, numbers, and every rejection rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "json.h"

static int parse(const char *text, ens_json *v, ens_error *err)
{
  return ens_json_parse(text, strlen(text), "t.json", v, err);
}

/* text must be rejected with a message naming t.json and (if at >= 0) the byte offset. */
static void expect_invalid(const char *text, size_t len, long at, const char *what)
{
  ens_json v;
  ens_error err = {0};
  ens_status s = ens_json_parse(text, len, "t.json", &v, &err);
  CHECK(s == ENS_ERR_FORMAT, "%s: status %d (want format error)", what, s);
  CHECK(strstr(err.message, "t.json") != NULL, "%s: message '%s' lacks file name", what,
        err.message);
  if (at >= 0) {
    char needle[64];
    snprintf(needle, sizeof needle, "at byte %ld:", at);
    CHECK(strstr(err.message, needle) != NULL, "%s: message '%s' lacks '%s'", what, err.message,
          needle);
  }
  CHECK(v.type == ENS_JSON_NULL && v.count == 0 && !v.str, "%s: output not left empty", what);
  if (s == ENS_OK)
    ens_json_free(&v);
}

static void bad(const char *text, long at)
{
  expect_invalid(text, strlen(text), at, text);
}

static void test_values(void)
{
  ens_json v;
  ens_error err;
  const char *doc = " {\"a\": [1, -2, 3.5, true, false, null, \"x\"],\n\t\"b\": {}, \"c\": [],"
                    " \"a\": \"last\"} \r\n";
  CHECK_OK(parse(doc, &v, &err), &err);
  CHECK(v.type == ENS_JSON_OBJECT && v.count == 4, "object of 4 members (dups kept)");
  CHECK(v.offset == 1, "offset of the root %zu", v.offset);
  const ens_json *a = &v.members[0].value;
  CHECK(a->type == ENS_JSON_ARRAY && a->count == 7, "array a");
  CHECK(a->items[0].is_int && a->items[0].integer == 1 && a->items[0].number == 1.0, "1");
  CHECK(a->items[1].is_int && a->items[1].integer == -2, "-2");
  CHECK(!a->items[2].is_int && a->items[2].number == 3.5, "3.5");
  CHECK(a->items[3].type == ENS_JSON_BOOL && a->items[3].boolean == 1, "true");
  CHECK(a->items[4].type == ENS_JSON_BOOL && a->items[4].boolean == 0, "false");
  CHECK(a->items[5].type == ENS_JSON_NULL, "null");
  CHECK(a->items[6].type == ENS_JSON_STRING && strcmp(a->items[6].str, "x") == 0, "x");
  CHECK(a->items[6].offset == 39, "offset of \"x\" is %zu", a->items[6].offset);
  const ens_json *last = ens_json_get(&v, "a");
  CHECK(last && last->type == ENS_JSON_STRING && strcmp(last->str, "last") == 0,
        "get returns the last duplicate");
  CHECK(ens_json_get(&v, "b")->type == ENS_JSON_OBJECT, "b");
  CHECK(ens_json_get(&v, "c")->count == 0, "c");
  CHECK(ens_json_get(&v, "zz") == NULL, "absent key");
  CHECK(ens_json_get(a, "a") == NULL, "get on an array");
  ens_json_free(&v);

  /* Scalars at top level. */
  CHECK_OK(parse("  \"s\"  ", &v, &err), &err);
  CHECK(v.type == ENS_JSON_STRING && v.len == 1, "top-level string");
  ens_json_free(&v);
  CHECK_OK(parse("0", &v, &err), &err);
  CHECK(v.is_int && v.integer == 0, "0");
  ens_json_free(&v);
}

static void test_numbers(void)
{
  struct {
    const char *text;
    int is_int;
    int64_t integer;
    double number;
  } cases[] = {
      {"9223372036854775807", 1, INT64_MAX, 9223372036854775807.0},
      {"-9223372036854775808", 1, INT64_MIN, -9223372036854775808.0},
      {"9223372036854775808", 0, 0, 9223372036854775808.0},
      {"-0", 1, 0, 0.0},
      {"1e2", 0, 0, 100.0},
      {"1E+2", 0, 0, 100.0},
      {"-2.5e-3", 0, 0, -0.0025},
      {"0.1", 0, 0, 0.1},
      {"123456789012", 1, 123456789012LL, 123456789012.0},
      {"1.7976931348623157e308", 0, 0, 1.7976931348623157e308},
      {"4.9e-324", 0, 0, 4.9e-324},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ens_json v;
    ens_error err;
    CHECK_OK(parse(cases[i].text, &v, &err), &err);
    CHECK(v.type == ENS_JSON_NUMBER, "%s type", cases[i].text);
    CHECK(v.is_int == cases[i].is_int, "%s is_int %d", cases[i].text, v.is_int);
    if (cases[i].is_int)
      CHECK(v.integer == cases[i].integer, "%s integer %lld", cases[i].text, (long long)v.integer);
    CHECK(v.number == cases[i].number, "%s number %.17g", cases[i].text, v.number);
    ens_json_free(&v);
  }
  /* A number ending exactly at the end of a non-NUL-terminated buffer. */
  char buf[8] = {'[', '1', '.', '2', '5', ']', 'x', 'x'};
  ens_json v;
  ens_error err;
  CHECK_OK(ens_json_parse(buf, 6, "t.json", &v, &err), &err);
  CHECK(v.items[0].number == 1.25, "1.25 %g", v.items[0].number);
  ens_json_free(&v);
  CHECK_OK(ens_json_parse(buf + 1, 4, "t.json", &v, &err), &err);
  CHECK(v.number == 1.25, "bare 1.25 without terminator: %g", v.number);
  ens_json_free(&v);
}

static void test_strings(void)
{
  ens_json v;
  ens_error err;
  CHECK_OK(parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", &v, &err), &err);
  CHECK(strcmp(v.str, "a\"b\\c/d\b\f\n\r\t") == 0, "simple escapes: '%s'", v.str);
  ens_json_free(&v);
  /* \u escapes: 1, 2, 3 and 4 (surrogate pair) byte UTF-8. */
  CHECK_OK(parse("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", &v, &err), &err);
  const char *want = "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  CHECK(v.len == strlen(want) && memcmp(v.str, want, v.len) == 0, "unicode escapes (len %zu)",
        v.len);
  ens_json_free(&v);
  /* \u0000 is kept, with the true length. */
  CHECK_OK(parse("\"a\\u0000b\"", &v, &err), &err);
  CHECK(v.len == 3 && v.str[1] == 0 && v.str[2] == 'b', "embedded NUL");
  ens_json_free(&v);
  /* Raw UTF-8 passes through: 2, 3, 4 byte sequences. */
  CHECK_OK(parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", &v, &err), &err);
  CHECK(v.len == 9, "raw UTF-8 len %zu", v.len);
  ens_json_free(&v);
  CHECK_OK(parse("\"\"", &v, &err), &err);
  CHECK(v.len == 0 && v.str && v.str[0] == 0, "empty string");
  ens_json_free(&v);
}

static void test_depth(void)
{
  char deep[2 * ENS_JSON_MAX_DEPTH + 8];
  int n = ENS_JSON_MAX_DEPTH;
  memset(deep, '[', (size_t)n);
  memset(deep + n, ']', (size_t)n);
  deep[2 * n] = 0;
  ens_json v;
  ens_error err;
  CHECK_OK(parse(deep, &v, &err), &err); /* exactly the limit is fine */
  ens_json_free(&v);
  memset(deep, '[', (size_t)n + 1);
  memset(deep + n + 1, ']', (size_t)n + 1);
  deep[2 * n + 2] = 0;
  bad(deep, ENS_JSON_MAX_DEPTH);
  /* A hostile million-deep input is rejected without recursing that deep. */
  size_t big = 1000000;
  char *huge = malloc(big);
  memset(huge, '[', big);
  expect_invalid(huge, big, ENS_JSON_MAX_DEPTH, "1e6 x '['");
  free(huge);
}

static void test_invalid(void)
{
  bad("", 0);
  bad("   ", 3);
  bad("[1,]", 3);
  bad("{\"a\":1,}", 7);
  bad("[1 2]", 3);
  bad("{\"a\" 1}", 5);
  bad("{1:2}", 1);
  bad("{'a':1}", 1);
  bad("[01]", 1);
  bad("[1.]", 1);
  bad("[.5]", 1);
  bad("[-]", 1);
  bad("[1e]", 1);
  bad("[+1]", 1);
  bad("[NaN]", 1);
  bad("[Infinity]", 1);
  bad("[1e999]", 1);
  bad("[tru]", 1);
  bad("[nul]", 1);
  bad("{} x", 3);
  bad("[1] [2]", 4);
  bad("\"abc", 0);
  bad("\"a\\x\"", 2);
  bad("\"\\u12\"", 1);
  bad("\"\\u12G4\"", 1);
  bad("\"\\ud83d\"", 1);        /* high surrogate alone */
  bad("\"\\ud83dx\"", 1);       /* high surrogate, then not an escape */
  bad("\"\\ud83d\\u0041\"", 1); /* high surrogate + non-low */
  bad("\"\\ude00\"", 1);        /* lone low surrogate */
  bad("\"a\tb\"", 2);           /* raw control character */
  bad("\"\x01\"", 1);
  bad("\"\xc0\x80\"", 1);         /* overlong NUL */
  bad("\"\xe0\x80\xaf\"", 1);     /* overlong '/' */
  bad("\"\xed\xa0\x80\"", 1);     /* UTF-8-encoded surrogate */
  bad("\"\xf4\x90\x80\x80\"", 1); /* above U+10FFFF */
  bad("\"\xc3\"", 1);             /* truncated sequence */
  bad("\"\x80\"", 1);             /* stray continuation byte */
  bad("\"\xff\"", 1);
  bad("\xef\xbb\xbf{}", 0); /* BOM */
  bad("[1,\x01]", 3);
  bad("/* c */ {}", 0);
  /* Embedded NUL outside strings. */
  expect_invalid("[1]\0", 4, 3, "trailing NUL byte");
  expect_invalid("[\0]", 3, 1, "NUL inside array");
}

int main(void)
{
  test_values();
  test_numbers();
  test_strings();
  test_depth();
  test_invalid();
  return ens_test_finish("test_json");
}
