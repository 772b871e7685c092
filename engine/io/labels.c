/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* labels.c - class-name lists: a text file, the built-in ImageNet names, or given strings. */
#include "labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "read_file.h"

/* Generated from data/imagenet_classes.txt by data/embed_labels.py. */
extern const int ens_imagenet_label_count;
extern const char *const ens_imagenet_labels[];

#define LABELS_MAX_BYTES (64u << 20)

void ens_labels_free(ens_labels *l)
{
  if (!l)
    return;
  for (int i = 0; l->names && i < l->count; i++)
    free(l->names[i]);
  free(l->names);
  l->names = NULL;
  l->count = 0;
}

ens_status ens_labels_from_strings(const char *const *names, int n, ens_labels *out, ens_error *err)
{
  out->names = NULL;
  out->count = 0;
  if (n < 0 || (n > 0 && !names))
    return ens_fail(err, ENS_ERR_ARG, "labels: invalid list (%d names)", n);
  out->names = calloc((size_t)n + 1, sizeof(char *));
  if (!out->names)
    return ens_fail(err, ENS_ERR_NOMEM, "labels: out of memory");
  for (int i = 0; i < n; i++) {
    out->names[i] = strdup(names[i] ? names[i] : "");
    out->count = i + 1;
    if (!out->names[i]) {
      ens_labels_free(out);
      return ens_fail(err, ENS_ERR_NOMEM, "labels: out of memory");
    }
  }
  out->count = n;
  return ENS_OK;
}

ens_status ens_labels_imagenet(ens_labels *out, ens_error *err)
{
  if (ens_imagenet_label_count != 1000)
    return ens_fail(err, ENS_ERR_MODEL, "built-in ImageNet labels: %d names, expected 1000",
                    ens_imagenet_label_count);
  return ens_labels_from_strings(ens_imagenet_labels, ens_imagenet_label_count, out, err);
}

/* Labels end up in JSON and overlays, so a file that is not UTF-8 text is rejected. */
static int valid_utf8(const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    int len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      if (c == 0)
        return 0;
      i++;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF)
      len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
    } else
      return 0;
    if (n - i < (size_t)len || s[i + 1] < lo || s[i + 1] > hi)
      return 0;
    for (int k = 2; k < len; k++)
      if (s[i + (size_t)k] < 0x80 || s[i + (size_t)k] > 0xBF)
        return 0;
    i += (size_t)len;
  }
  return 1;
}

ens_status ens_labels_load_file(const char *path, ens_labels *out, ens_error *err)
{
  out->names = NULL;
  out->count = 0;
  if (!path)
    return ens_fail(err, ENS_ERR_ARG, "labels path is NULL");
  char *buf = NULL;
  size_t len = 0;
  ens_status s =
      ens_read_file(path, LABELS_MAX_BYTES, ENS_ERR_FORMAT, "labels file", &buf, &len, err);
  if (s != ENS_OK)
    return s;
  /* Line count: a final newline ends the last line rather than starting an empty one. */
  size_t lines = 0;
  for (size_t i = 0; i < len; i++)
    lines += buf[i] == '\n';
  if (len > 0 && buf[len - 1] != '\n')
    lines++;
  if (lines > (size_t)1 << 24) {
    free(buf);
    return ens_fail(err, ENS_ERR_FORMAT, "labels file '%s': too many lines (%zu)", path, lines);
  }
  out->names = calloc(lines + 1, sizeof(char *));
  if (!out->names) {
    free(buf);
    return ens_fail(err, ENS_ERR_NOMEM, "labels file '%s': out of memory", path);
  }
  size_t start = 0;
  for (size_t line = 0; line < lines; line++) {
    size_t end = start;
    while (end < len && buf[end] != '\n')
      end++;
    size_t stop = end;
    while (stop > start && buf[stop - 1] == '\r')
      stop--;
    if (!valid_utf8((const unsigned char *)buf + start, stop - start)) {
      free(buf);
      ens_labels_free(out);
      return ens_fail(err, ENS_ERR_FORMAT, "labels file '%s': line %zu is not valid UTF-8 text",
                      path, line + 1);
    }
    char *name = malloc(stop - start + 1);
    if (!name) {
      free(buf);
      ens_labels_free(out);
      return ens_fail(err, ENS_ERR_NOMEM, "labels file '%s': out of memory", path);
    }
    memcpy(name, buf + start, stop - start);
    name[stop - start] = '\0';
    out->names[line] = name;
    out->count = (int)line + 1;
    start = end + 1;
  }
  free(buf);
  return ENS_OK;
}
