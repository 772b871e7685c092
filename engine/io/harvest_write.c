/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* harvest_write.c - one harvested sample: its sidecar JSON and PNG encoded in memory, then
 * stored atomically (see ens_harvest.h for the format). The temporary files are created with
 * O_EXCL and mode 0666 (the process umask applies), never through umask() calls, which would
 * race with other threads of a GStreamer application creating files. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ens_harvest.h"
#include "error.h"
#include "png_encode.h"

/* ---------------------------------------------------------------- the sidecar */

/* Length of the valid UTF-8 sequence at p (1..4), 0 if it is not one. */
static int utf8_len(const unsigned char *p)
{
  unsigned char c = p[0];
  int len = c >= 0xc2 && c <= 0xdf   ? 2
            : c >= 0xe0 && c <= 0xef ? 3
            : c >= 0xf0 && c <= 0xf4 ? 4
                                     : 0;
  if (!len)
    return 0;
  for (int i = 1; i < len; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  /* overlongs, surrogates and code points above U+10FFFF */
  if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
      (c == 0xf4 && p[1] > 0x8f))
    return 0;
  return len;
}

/* A JSON string literal of s; bytes that are not UTF-8 (a labels file need not be) become
 * U+FFFD, so the strict reader accepts every sidecar. NULL is written as null. */
static void json_string(FILE *f, const char *s)
{
  if (!s) {
    fputs("null", f);
    return;
  }
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    if (*p == '"' || *p == '\\') {
      fprintf(f, "\\%c", *p++);
    } else if (*p < 0x20) {
      fprintf(f, "\\u%04x", *p++);
    } else if (*p < 0x80) {
      fputc(*p++, f);
    } else {
      int n = utf8_len(p);
      if (n) {
        fwrite(p, 1, (size_t)n, f);
        p += n;
      } else {
        fputs("\xef\xbf\xbd", f);
        p++;
      }
    }
  }
  fputc('"', f);
}

static void json_i64_or_null(FILE *f, int64_t v)
{
  if (v < 0)
    fputs("null", f);
  else
    fprintf(f, "%lld", (long long)v);
}

/* Floats with 9 significant digits: they read back as the same float. */
static void write_sidecar(FILE *f, const ens_harvest_sample *s, const char *stem)
{
  fprintf(f, "{\"format\":\"%s\",\"image\":", ENS_HARVEST_FORMAT);
  char *image = NULL;
  if (asprintf(&image, "%s.png", stem) >= 0) {
    json_string(f, image);
    free(image);
  } else {
    fputs("null", f); /* out of memory: caught by ferror / the size check */
  }
  fprintf(f, ",\"save_size\":\"%s\",\"width\":%d,\"height\":%d,\"model\":",
          s->save_size == ENS_HARVEST_SIZE_MODEL ? "model" : "original", s->width, s->height);
  json_string(f, s->model);
  fprintf(f, ",\"input_width\":%d,\"input_height\":%d,\"crop_pct\":%.9g,\"interpolation\":\"%s\"",
          s->input_width, s->input_height, (double)s->crop_pct,
          s->interpolation == ENS_INTERP_BILINEAR ? "bilinear" : "bicubic");
  fputs(",\"pts\":", f);
  json_i64_or_null(f, s->pts);
  fprintf(f, ",\"frame\":%llu,\"fresh\":%s,\"buffer_pts\":", (unsigned long long)s->frame,
          s->fresh ? "true" : "false");
  json_i64_or_null(f, s->buffer_pts);
  fprintf(f, ",\"buffer_frame\":%llu,\"frame_width\":%d,\"frame_height\":%d,\"full_frame\":%s",
          (unsigned long long)s->buffer_frame, s->frame_width, s->frame_height,
          s->full_frame ? "true" : "false");
  fprintf(f, ",\"roi_id\":%d,\"roi_type\":", s->roi_id);
  json_string(f, s->roi_type);
  fprintf(f, ",\"box\":{\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d},\"top\":[", s->box.x,
          s->box.y, s->box.width, s->box.height);
  for (int i = 0; i < s->n_top; i++) {
    fprintf(f, "%s{\"id\":%d,\"label\":", i ? "," : "", s->top[i].id);
    json_string(f, s->top[i].label);
    fprintf(f, ",\"prob\":%.9g}", (double)s->top[i].prob);
  }
  fputs("],\"num_classes\":", f);
  if (s->probs && s->num_classes > 0) {
    fprintf(f, "%d,\"probs\":[", s->num_classes);
    for (int i = 0; i < s->num_classes; i++)
      fprintf(f, "%s%.9g", i ? "," : "", (double)s->probs[i]);
    fputs("]}\n", f);
  } else {
    fputs("null,\"probs\":null}\n", f);
  }
}

static ens_status check_sample(const ens_harvest_sample *s, const char *stem, ens_error *err)
{
  if (!s || !stem || !*stem || strchr(stem, '/'))
    return ens_fail(err, ENS_ERR_ARG, "harvest sample: missing sample or bad stem '%s'",
                    stem ? stem : "(null)");
  if (!s->rgb || s->width < 1 || s->height < 1)
    return ens_fail(err, ENS_ERR_ARG, "harvest sample %s: no picture (%dx%d)", stem, s->width,
                    s->height);
  if (s->n_top < 0 || (s->n_top > 0 && !s->top))
    return ens_fail(err, ENS_ERR_ARG, "harvest sample %s: top-k count %d without entries", stem,
                    s->n_top);
  return ENS_OK;
}

ens_status ens_harvest_encode(const ens_harvest_sample *s, const char *stem, ens_harvest_blob *out,
                              ens_error *err)
{
  if (!out)
    return ens_fail(err, ENS_ERR_ARG, "harvest sample: output is NULL");
  memset(out, 0, sizeof *out);
  ens_status st = check_sample(s, stem, err);
  if (st != ENS_OK)
    return st;

  /* "C" numbers whatever the application's LC_NUMERIC (a decimal comma is not JSON) */
  locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  if (!c_locale)
    return ens_fail(err, ENS_ERR_NOMEM, "harvest sample %s: cannot create the C locale", stem);
  locale_t old = uselocale(c_locale);
  char *json = NULL;
  size_t json_size = 0;
  FILE *f = open_memstream(&json, &json_size);
  int failed = !f;
  if (f) {
    write_sidecar(f, s, stem);
    failed = ferror(f) != 0;
    failed |= fclose(f) != 0;
  }
  uselocale(old);
  freelocale(c_locale);
  if (failed) {
    free(json);
    return ens_fail(err, ENS_ERR_NOMEM, "harvest sample %s: out of memory for the sidecar", stem);
  }

  st = ens_png_encode(s->rgb, s->width, s->height, 3, stem, &out->png, &out->png_size, err);
  if (st != ENS_OK) {
    free(json);
    return st;
  }
  out->json = json;
  out->json_size = json_size;
  return ENS_OK;
}

void ens_harvest_blob_free(ens_harvest_blob *b)
{
  if (!b)
    return;
  free(b->png);
  free(b->json);
  memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------- atomic files */

/* Creates a new temporary file next to path (O_EXCL, mode 0666 & ~umask); its name goes to
 * tmp (tmp_len bytes). Returns the fd or -1 with errno set. */
static int create_temp(const char *path, char *tmp, size_t tmp_len)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 30) ^
                         ((unsigned long long)getpid() << 16) ^ (unsigned long long)(uintptr_t)tmp;
  for (int attempt = 0; attempt < 100; attempt++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull; /* a new name on each collision */
    if ((size_t)snprintf(tmp, tmp_len, "%s.tmp.%06llx", path, (x >> 40) & 0xffffff) >= tmp_len) {
      errno = ENAMETOOLONG;
      return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  errno = EEXIST;
  return -1;
}

/* Writes len bytes to path through a temporary file renamed into place. On failure the
 * temporary file is removed and *sys_errno set. */
static ens_status write_atomic(const char *path, const void *data, size_t len, int *sys_errno,
                               ens_error *err)
{
  size_t tmp_len = strlen(path) + 32;
  char *tmp = malloc(tmp_len);
  if (!tmp) {
    *sys_errno = ENOMEM;
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
  }
  const char *what = "cannot create a temporary file";
  int fd = create_temp(path, tmp, tmp_len), e = 0;
  if (fd < 0) {
    e = errno;
  } else {
    const uint8_t *p = data;
    size_t left = len;
    what = "cannot write";
    while (left > 0 && !e) {
      ssize_t n = write(fd, p, left);
      if (n < 0 && errno != EINTR)
        e = errno;
      else if (n > 0)
        p += n, left -= (size_t)n;
    }
    /* close can report a deferred write error (network file systems, quotas) */
    if (close(fd) != 0 && !e && errno != EINTR)
      e = errno;
    if (!e && rename(tmp, path) != 0) {
      e = errno;
      what = "cannot rename the temporary file into place";
    }
    if (e)
      unlink(tmp);
  }
  free(tmp);
  if (!e)
    return ENS_OK;
  *sys_errno = e;
  return ens_fail(err, ENS_ERR_IO, "%s: %s: %s", path, what, strerror(e));
}

ens_status ens_harvest_store(const char *dir, const char *stem, const ens_harvest_blob *b,
                             int *sys_errno, ens_error *err)
{
  int e_local = 0;
  if (!sys_errno)
    sys_errno = &e_local;
  *sys_errno = 0;
  if (!dir || !stem || !*stem || strchr(stem, '/') || !b || !b->png || !b->json)
    return ens_fail(err, ENS_ERR_ARG, "harvest store: missing directory, stem or data");
  char *json_path = NULL, *png_path = NULL;
  if (asprintf(&json_path, "%s/%s.json", dir, stem) < 0)
    json_path = NULL;
  if (asprintf(&png_path, "%s/%s.png", dir, stem) < 0)
    png_path = NULL;
  ens_status st;
  if (!json_path || !png_path) {
    *sys_errno = ENOMEM;
    st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", dir);
  } else {
    /* sidecar first: a PNG in place always has its sidecar */
    st = write_atomic(json_path, b->json, b->json_size, sys_errno, err);
    if (st == ENS_OK) {
      st = write_atomic(png_path, b->png, b->png_size, sys_errno, err);
      if (st != ENS_OK)
        unlink(json_path);
    }
  }
  free(json_path);
  free(png_path);
  return st;
}
