/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.c - strict recursive-descent JSON parser; see json.h. Recursion is bounded by
 * ENS_JSON_MAX_DEPTH, the input need not be NUL-terminated, and every byte is validated. */
#include "json.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef struct {
  const unsigned char *s;
  size_t len, pos;
  const char *name;
  ens_error *err;
  int depth;
  locale_t c_locale; /* created on the first fractional number: strtod must not see "," */
  ens_status status;
} parser;

static ens_status fail_at(parser *p, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ens_status fail_at(parser *p, size_t offset, const char *fmt, ...)
{
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  p->status = ENS_ERR_FORMAT;
  return ens_fail(p->err, ENS_ERR_FORMAT, "%s: invalid JSON at byte %zu: %s", p->name, offset,
                  what);
}

static ens_status fail_nomem(parser *p)
{
  p->status = ENS_ERR_NOMEM;
  return ens_fail(p->err, ENS_ERR_NOMEM, "%s: out of memory while parsing JSON", p->name);
}

const char *ens_json_type_name(ens_json_type t)
{
  switch (t) {
    case ENS_JSON_NULL:
      return "null";
    case ENS_JSON_BOOL:
      return "boolean";
    case ENS_JSON_NUMBER:
      return "number";
    case ENS_JSON_STRING:
      return "string";
    case ENS_JSON_ARRAY:
      return "array";
    case ENS_JSON_OBJECT:
      return "object";
  }
  return "?";
}

const char *ens_json_a_type(ens_json_type t)
{
  switch (t) {
    case ENS_JSON_NULL:
      return "null";
    case ENS_JSON_BOOL:
      return "a boolean";
    case ENS_JSON_NUMBER:
      return "a number";
    case ENS_JSON_STRING:
      return "a string";
    case ENS_JSON_ARRAY:
      return "an array";
    case ENS_JSON_OBJECT:
      return "an object";
  }
  return "?";
}

void ens_json_free(ens_json *v)
{
  if (!v)
    return;
  free(v->str);
  for (size_t i = 0; v->items && i < v->count; i++)
    ens_json_free(&v->items[i]);
  free(v->items);
  for (size_t i = 0; v->members && i < v->count; i++) {
    free(v->members[i].key);
    ens_json_free(&v->members[i].value);
  }
  free(v->members);
  memset(v, 0, sizeof *v);
}

const ens_json *ens_json_get(const ens_json *v, const char *key)
{
  if (!v || v->type != ENS_JSON_OBJECT)
    return NULL;
  size_t klen = strlen(key);
  for (size_t i = v->count; i-- > 0;)
    if (v->members[i].key_len == klen && memcmp(v->members[i].key, key, klen) == 0)
      return &v->members[i].value;
  return NULL;
}

static void skip_ws(parser *p)
{
  while (p->pos < p->len) {
    unsigned char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    p->pos++;
  }
}

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), 0 if invalid (overlong forms,
 * surrogates and code points above U+10FFFF are invalid). */
static int utf8_seq_len(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  if (c < 0x80)
    return 1;
  int len;
  unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else
    return 0;
  if (n < (size_t)len || s[1] < lo || s[1] > hi)
    return 0;
  for (int i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return len;
}

static size_t put_utf8(char *out, uint32_t cp)
{
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Four hex digits at p->pos; -1 if malformed. */
static long read_hex4(parser *p)
{
  if (p->len - p->pos < 4)
    return -1;
  long v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned char c = p->s[p->pos + (size_t)i];
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return -1;
    v = v * 16 + d;
  }
  p->pos += 4;
  return v;
}

/* p->pos is at the opening quote. The decoded string is never longer than its source, so one
 * allocation of the source length suffices. */
static ens_status parse_string(parser *p, char **out, size_t *out_len)
{
  size_t start = p->pos++;
  size_t end = p->pos;
  while (end < p->len && p->s[end] != '"')
    end += p->s[end] == '\\' ? 2 : 1;
  if (end >= p->len)
    return fail_at(p, start, "unterminated string");
  char *buf = malloc(end - start);
  if (!buf)
    return fail_nomem(p);
  size_t n = 0;
  while (p->pos < end) {
    unsigned char c = p->s[p->pos];
    if (c < 0x20) {
      free(buf);
      return fail_at(p, p->pos, "control character 0x%02x in string", c);
    }
    if (c != '\\') {
      int k = utf8_seq_len(p->s + p->pos, end - p->pos);
      if (!k) {
        free(buf);
        return fail_at(p, p->pos, "invalid UTF-8 in string");
      }
      memcpy(buf + n, p->s + p->pos, (size_t)k);
      n += (size_t)k;
      p->pos += (size_t)k;
      continue;
    }
    size_t esc = p->pos;
    p->pos++;
    char e = (char)p->s[p->pos++];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        buf[n++] = e;
        break;
      case 'b':
        buf[n++] = '\b';
        break;
      case 'f':
        buf[n++] = '\f';
        break;
      case 'n':
        buf[n++] = '\n';
        break;
      case 'r':
        buf[n++] = '\r';
        break;
      case 't':
        buf[n++] = '\t';
        break;
      case 'u': {
        long hi = read_hex4(p);
        if (hi < 0) {
          free(buf);
          return fail_at(p, esc, "bad \\u escape (need 4 hex digits)");
        }
        uint32_t cp = (uint32_t)hi;
        if (hi >= 0xDC00 && hi <= 0xDFFF) {
          free(buf);
          return fail_at(p, esc, "lone low surrogate \\u%04lX", hi);
        }
        if (hi >= 0xD800 && hi <= 0xDBFF) {
          long lo = -1;
          if (p->pos + 2 <= end && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
            p->pos += 2;
            lo = read_hex4(p);
          }
          if (lo < 0xDC00 || lo > 0xDFFF) {
            free(buf);
            return fail_at(p, esc, "high surrogate \\u%04lX not followed by a low surrogate", hi);
          }
          cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
        }
        n += put_utf8(buf + n, cp);
        break;
      }
      default:
        free(buf);
        return fail_at(p, esc, "invalid escape");
    }
  }
  p->pos = end + 1;
  buf[n] = '\0';
  *out = buf;
  *out_len = n;
  return ENS_OK;
}

static int is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

static ens_status parse_number(parser *p, ens_json *v)
{
  size_t start = p->pos, i = p->pos;
  const unsigned char *s = p->s;
  int integral = 1;
  if (i < p->len && s[i] == '-')
    i++;
  if (i >= p->len || !is_digit(s[i]))
    return fail_at(p, start, "invalid number");
  if (s[i] == '0') {
    i++;
    if (i < p->len && is_digit(s[i]))
      return fail_at(p, start, "number with a leading zero");
  } else
    while (i < p->len && is_digit(s[i]))
      i++;
  if (i < p->len && s[i] == '.') {
    integral = 0;
    i++;
    if (i >= p->len || !is_digit(s[i]))
      return fail_at(p, start, "invalid number (digit expected after '.')");
    while (i < p->len && is_digit(s[i]))
      i++;
  }
  if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
    integral = 0;
    i++;
    if (i < p->len && (s[i] == '+' || s[i] == '-'))
      i++;
    if (i >= p->len || !is_digit(s[i]))
      return fail_at(p, start, "invalid number (digit expected in exponent)");
    while (i < p->len && is_digit(s[i]))
      i++;
  }
  size_t n = i - start;
  v->type = ENS_JSON_NUMBER;
  if (integral) {
    /* Exact int64 when it fits (tensor offsets and shapes need every bit). */
    int neg = s[start] == '-';
    uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int fits = 1;
    for (size_t k = start + (size_t)neg; k < i; k++) {
      uint64_t d = (uint64_t)(s[k] - '0');
      if (mag > (limit - d) / 10) {
        fits = 0;
        break;
      }
      mag = mag * 10 + d;
    }
    if (fits) {
      v->is_int = 1;
      v->integer =
          neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
      v->number = (double)v->integer;
      p->pos = i;
      return ENS_OK;
    }
  }
  /* strtod needs a NUL-terminated copy (the source buffer may end right here) and the "C"
   * locale (a program may have set a locale with a decimal comma). */
  char small[64];
  char *tmp = n < sizeof small ? small : malloc(n + 1);
  if (!tmp)
    return fail_nomem(p);
  memcpy(tmp, s + start, n);
  tmp[n] = '\0';
  if (!p->c_locale) {
    p->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!p->c_locale) {
      if (tmp != small)
        free(tmp);
      return fail_nomem(p);
    }
  }
  v->number = strtod_l(tmp, NULL, p->c_locale);
  if (tmp != small)
    free(tmp);
  if (!isfinite(v->number))
    return fail_at(p, start, "number out of range");
  p->pos = i;
  return ENS_OK;
}

static ens_status parse_value(parser *p, ens_json *v);

static ens_status parse_array(parser *p, ens_json *v)
{
  size_t cap = 0;
  v->type = ENS_JSON_ARRAY;
  p->pos++;
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == ']') {
    p->pos++;
    return ENS_OK;
  }
  for (;;) {
    if (v->count == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      ens_json *ni = realloc(v->items, ncap * sizeof *ni);
      if (!ni)
        return fail_nomem(p);
      v->items = ni;
      cap = ncap;
    }
    ens_json *item = &v->items[v->count];
    memset(item, 0, sizeof *item);
    v->count++; /* counted before parsing so a partial item is freed on error */
    if (parse_value(p, item) != ENS_OK)
      return p->status;
    skip_ws(p);
    if (p->pos >= p->len)
      return fail_at(p, p->pos, "unterminated array");
    unsigned char c = p->s[p->pos++];
    if (c == ']')
      return ENS_OK;
    if (c != ',')
      return fail_at(p, p->pos - 1, "expected ',' or ']' in array");
  }
}

static ens_status parse_object(parser *p, ens_json *v)
{
  size_t cap = 0;
  v->type = ENS_JSON_OBJECT;
  p->pos++;
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == '}') {
    p->pos++;
    return ENS_OK;
  }
  for (;;) {
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '"')
      return fail_at(p, p->pos, "expected a string key in object");
    if (v->count == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      ens_json_member *nm = realloc(v->members, ncap * sizeof *nm);
      if (!nm)
        return fail_nomem(p);
      v->members = nm;
      cap = ncap;
    }
    ens_json_member *m = &v->members[v->count];
    memset(m, 0, sizeof *m);
    v->count++;
    if (parse_string(p, &m->key, &m->key_len) != ENS_OK)
      return p->status;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':')
      return fail_at(p, p->pos, "expected ':' after object key");
    p->pos++;
    if (parse_value(p, &m->value) != ENS_OK)
      return p->status;
    skip_ws(p);
    if (p->pos >= p->len)
      return fail_at(p, p->pos, "unterminated object");
    unsigned char c = p->s[p->pos++];
    if (c == '}')
      return ENS_OK;
    if (c != ',')
      return fail_at(p, p->pos - 1, "expected ',' or '}' in object");
  }
}

static int match_word(parser *p, const char *w)
{
  size_t n = strlen(w);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
    return 0;
  p->pos += n;
  return 1;
}

static ens_status parse_value(parser *p, ens_json *v)
{
  skip_ws(p);
  v->offset = p->pos;
  if (p->pos >= p->len)
    return fail_at(p, p->pos, "unexpected end of input (value expected)");
  unsigned char c = p->s[p->pos];
  switch (c) {
    case '{':
    case '[': {
      if (p->depth >= ENS_JSON_MAX_DEPTH)
        return fail_at(p, p->pos, "nesting deeper than %d", ENS_JSON_MAX_DEPTH);
      p->depth++;
      ens_status st = c == '{' ? parse_object(p, v) : parse_array(p, v);
      p->depth--;
      return st;
    }
    case '"':
      v->type = ENS_JSON_STRING;
      return parse_string(p, &v->str, &v->len);
    case 't':
    case 'f':
    case 'n':
      if (match_word(p, "true") || match_word(p, "false")) {
        v->type = ENS_JSON_BOOL;
        v->boolean = c == 't';
        return ENS_OK;
      }
      if (match_word(p, "null")) {
        v->type = ENS_JSON_NULL;
        return ENS_OK;
      }
      return fail_at(p, p->pos, "invalid literal");
    default:
      if (c == '-' || is_digit(c))
        return parse_number(p, v);
      if (c >= 0x20 && c < 0x7F)
        return fail_at(p, p->pos, "unexpected character '%c'", c);
      return fail_at(p, p->pos, "unexpected byte 0x%02x", c);
  }
}

ens_status ens_json_parse(const char *text, size_t len, const char *name_for_errors, ens_json *out,
                          ens_error *err)
{
  parser p = {(const unsigned char *)text,
              len,
              0,
              name_for_errors ? name_for_errors : "JSON",
              err,
              0,
              (locale_t)0,
              ENS_OK};
  memset(out, 0, sizeof *out);
  if (!text && len)
    return ens_fail(err, ENS_ERR_ARG, "%s: NULL JSON text", p.name);
  ens_status st = parse_value(&p, out);
  if (st == ENS_OK) {
    skip_ws(&p);
    if (p.pos != p.len)
      st = fail_at(&p, p.pos, "unexpected data after the top-level value");
  }
  if (p.c_locale)
    freelocale(p.c_locale);
  if (st != ENS_OK)
    ens_json_free(out);
  return st;
}
