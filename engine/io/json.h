/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.h - a small strict JSON (RFC 8259) parser into plain structs (internal).
 *
 * Strict: UTF-8 only (no BOM), no trailing commas, no comments, no NaN/Infinity, no lone
 * surrogates, no control characters in strings, nothing after the top value. Nesting is
 * limited to ENS_JSON_MAX_DEPTH, so hostile input cannot exhaust the stack.
 */
#ifndef ENS_JSON_H
#define ENS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "ens.h"

#define ENS_JSON_MAX_DEPTH 64

typedef enum {
  ENS_JSON_NULL = 0,
  ENS_JSON_BOOL,
  ENS_JSON_NUMBER,
  ENS_JSON_STRING,
  ENS_JSON_ARRAY,
  ENS_JSON_OBJECT,
} ens_json_type;

typedef struct ens_json ens_json;
typedef struct ens_json_member ens_json_member;

struct ens_json {
  ens_json_type type;
  size_t offset; /* byte offset of the value in the source text */
  int boolean;
  double number;   /* every NUMBER */
  int is_int;      /* NUMBER written without fraction/exponent that fits int64 */
  int64_t integer; /* its exact value when is_int */
  char *str;       /* STRING, NUL-terminated UTF-8 (may hold NULs from \u0000) */
  size_t len;      /* string length in bytes */
  size_t count;    /* ARRAY items / OBJECT members */
  ens_json *items;
  ens_json_member *members; /* in source order; duplicate keys are kept */
};

struct ens_json_member {
  char *key;
  size_t key_len;
  ens_json value;
};

/* Parse text[0..len). On error returns ENS_ERR_FORMAT with
 * "<name>: invalid JSON at byte <offset>: <problem>" (or ENS_ERR_NOMEM) and leaves *out empty.
 * *out must be released with ens_json_free on success. */
ens_status ens_json_parse(const char *text, size_t len, const char *name_for_errors, ens_json *out,
                          ens_error *err);

void ens_json_free(ens_json *v);

/* Member of an object by key (the last one if repeated, like Python's json); NULL if absent or
 * v is not an object. */
const ens_json *ens_json_get(const ens_json *v, const char *key);

/* "null", "boolean", "number", "string", "array", "object". */
const char *ens_json_type_name(ens_json_type t);

/* The same with an article, for messages: "null", "a boolean", ..., "an array", "an object". */
const char *ens_json_a_type(ens_json_type t);

#endif
