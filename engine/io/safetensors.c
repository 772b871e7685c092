/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* safetensors.c - strict safetensors reader; see safetensors.h. */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "json.h"

/* Same cap as the reference implementation (huggingface/safetensors MAX_HEADER_SIZE). */
#define ST_MAX_HEADER 100000000ull

static const struct {
  const char *name;
  ens_dtype dt;
  size_t size;
} dtypes[] = {
    {"F32", ENS_DT_F32, 4},   {"F16", ENS_DT_F16, 2}, {"BF16", ENS_DT_BF16, 2},
    {"F64", ENS_DT_F64, 8},   {"I64", ENS_DT_I64, 8}, {"I32", ENS_DT_I32, 4},
    {"I16", ENS_DT_I16, 2},   {"I8", ENS_DT_I8, 1},   {"U8", ENS_DT_U8, 1},
    {"BOOL", ENS_DT_BOOL, 1},
};
#define N_DTYPES (sizeof dtypes / sizeof dtypes[0])

size_t ens_dtype_size(ens_dtype dt)
{
  for (size_t i = 0; i < N_DTYPES; i++)
    if (dtypes[i].dt == dt)
      return dtypes[i].size;
  return 0;
}

const char *ens_dtype_name(ens_dtype dt)
{
  for (size_t i = 0; i < N_DTYPES; i++)
    if (dtypes[i].dt == dt)
      return dtypes[i].name;
  return "?";
}

void ens_st_close(ens_safetensors *st)
{
  if (!st)
    return;
  for (int i = 0; st->tensors && i < st->count; i++)
    free(st->tensors[i].name);
  free(st->tensors);
  for (int i = 0; i < st->meta_count; i++) {
    free(st->meta_keys[i]);
    free(st->meta_values[i]);
  }
  free(st->meta_keys);
  free(st->meta_values);
  free(st->name_index);
  if (st->map)
    munmap(st->map, st->map_len);
  free(st->path);
  memset(st, 0, sizeof *st);
}

static uint64_t read_le64(const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static ens_status parse_metadata(ens_safetensors *st, const ens_json *meta, ens_error *err)
{
  if (meta->type != ENS_JSON_OBJECT)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: __metadata__ is %s, not an object", st->path,
                    ens_json_a_type(meta->type));
  if (meta->count == 0)
    return ENS_OK;
  st->meta_keys = calloc(meta->count, sizeof(char *));
  st->meta_values = calloc(meta->count, sizeof(char *));
  if (!st->meta_keys || !st->meta_values)
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", st->path);
  for (size_t i = 0; i < meta->count; i++) {
    const ens_json_member *m = &meta->members[i];
    if (m->value.type != ENS_JSON_STRING)
      return ens_fail(err, ENS_ERR_FORMAT, "%s: __metadata__ value of '%s' is %s, not a string",
                      st->path, m->key, ens_json_a_type(m->value.type));
    st->meta_keys[i] = strdup(m->key);
    st->meta_values[i] = strdup(m->value.str);
    st->meta_count++;
    if (!st->meta_keys[i] || !st->meta_values[i])
      return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", st->path);
  }
  return ENS_OK;
}

/* Non-negative exact integer (JSON integer literal), else -1. */
static int64_t json_uint(const ens_json *v)
{
  if (v->type != ENS_JSON_NUMBER || !v->is_int || v->integer < 0)
    return -1;
  return v->integer;
}

/* Fill t from one header entry; data_len is the size of the data block. */
static ens_status parse_entry(const ens_safetensors *st, const char *name, const ens_json *e,
                              const uint8_t *data, uint64_t data_len, ens_st_tensor *t,
                              uint64_t *begin_out, ens_error *err)
{
  const char *path = st->path;
  if (e->type != ENS_JSON_OBJECT)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': entry is %s, not an object", path, name,
                    ens_json_a_type(e->type));
  const ens_json *dt = ens_json_get(e, "dtype");
  const ens_json *shape = ens_json_get(e, "shape");
  const ens_json *offs = ens_json_get(e, "data_offsets");
  if (!dt || !shape || !offs)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': missing '%s'", path, name,
                    !dt      ? "dtype"
                    : !shape ? "shape"
                             : "data_offsets");
  if (dt->type != ENS_JSON_STRING)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': dtype is %s, not a string", path, name,
                    ens_json_a_type(dt->type));
  size_t esize = 0;
  for (size_t i = 0; i < N_DTYPES; i++)
    if (strcmp(dt->str, dtypes[i].name) == 0 && strlen(dt->str) == dt->len) {
      t->dtype = dtypes[i].dt;
      esize = dtypes[i].size;
    }
  if (!esize)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", path, name,
                    dt->str);

  if (shape->type != ENS_JSON_ARRAY)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': shape is %s, not an array", path, name,
                    ens_json_a_type(shape->type));
  if (shape->count > ENS_ST_MAX_DIMS)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': %zu dimensions (at most %d supported)",
                    path, name, shape->count, ENS_ST_MAX_DIMS);
  t->ndim = (int)shape->count;
  int64_t numel = 1; /* shape [] is a scalar */
  for (int d = 0; d < t->ndim; d++) {
    const ens_json *s = &shape->items[d];
    if (s->type != ENS_JSON_NUMBER || !s->is_int)
      return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not an integer", path,
                      name, d);
    if (s->integer < 0)
      return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': negative dimension shape[%d] = %lld",
                      path, name, d, (long long)s->integer);
    t->shape[d] = s->integer;
    if (__builtin_mul_overflow(numel, s->integer, &numel))
      return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': element count overflows 64 bits", path,
                      name);
  }
  int64_t nbytes;
  if (__builtin_mul_overflow(numel, (int64_t)esize, &nbytes) || (uint64_t)nbytes > SIZE_MAX)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': byte size overflows 64 bits", path,
                    name);
  t->numel = numel;

  if (offs->type != ENS_JSON_ARRAY || offs->count != 2)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': data_offsets is not [begin, end]", path,
                    name);
  int64_t b = json_uint(&offs->items[0]), e_ = json_uint(&offs->items[1]);
  if (b < 0 || e_ < 0)
    return ens_fail(err, ENS_ERR_FORMAT,
                    "%s: tensor '%s': data_offsets are not non-negative integers", path, name);
  if (b > e_)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': data_offsets begin %lld > end %lld",
                    path, name, (long long)b, (long long)e_);
  if ((uint64_t)e_ > data_len)
    return ens_fail(err, ENS_ERR_FORMAT,
                    "%s: tensor '%s': data_offsets end %lld beyond the data block (%llu bytes)",
                    path, name, (long long)e_, (unsigned long long)data_len);
  if (e_ - b != nbytes)
    return ens_fail(err, ENS_ERR_FORMAT,
                    "%s: tensor '%s': data_offsets span %lld bytes but %s %lld elements need "
                    "%lld",
                    path, name, (long long)(e_ - b), dt->str, (long long)numel, (long long)nbytes);
  t->data = data + b;
  t->nbytes = (size_t)nbytes;
  *begin_out = (uint64_t)b;
  return ENS_OK;
}

typedef struct {
  uint64_t begin, end;
  int index;
} span;

static int cmp_span(const void *a, const void *b)
{
  const span *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

static int cmp_name_idx(const void *a, const void *b, void *ctx)
{
  const ens_safetensors *st = ctx;
  return strcmp(st->tensors[*(const int *)a].name, st->tensors[*(const int *)b].name);
}

/* Overlaps (by byte span) and duplicate names; builds the name index for ens_st_find. */
static ens_status check_layout(ens_safetensors *st, const uint64_t *begins, ens_error *err)
{
  int n = st->count;
  if (n == 0)
    return ENS_OK;
  span *sp = malloc((size_t)n * sizeof *sp);
  st->name_index = malloc((size_t)n * sizeof(int));
  if (!sp || !st->name_index) {
    free(sp);
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", st->path);
  }
  for (int i = 0; i < n; i++) {
    sp[i].begin = begins[i];
    sp[i].end = begins[i] + st->tensors[i].nbytes;
    sp[i].index = i;
    st->name_index[i] = i;
  }
  qsort(sp, (size_t)n, sizeof *sp, cmp_span);
  /* Empty tensors occupy no bytes and cannot overlap anything. */
  uint64_t covered = 0;
  int last = -1;
  for (int i = 0; i < n; i++) {
    if (sp[i].begin == sp[i].end)
      continue;
    if (last >= 0 && sp[i].begin < covered) {
      ens_status s = ens_fail(
          err, ENS_ERR_FORMAT, "%s: tensor '%s' [%llu, %llu) overlaps tensor '%s' [%llu, %llu)",
          st->path, st->tensors[sp[i].index].name, (unsigned long long)sp[i].begin,
          (unsigned long long)sp[i].end, st->tensors[sp[last].index].name,
          (unsigned long long)sp[last].begin, (unsigned long long)sp[last].end);
      free(sp);
      return s;
    }
    covered = sp[i].end;
    last = i;
  }
  free(sp);
  qsort_r(st->name_index, (size_t)n, sizeof(int), cmp_name_idx, st);
  for (int i = 1; i < n; i++)
    if (strcmp(st->tensors[st->name_index[i - 1]].name, st->tensors[st->name_index[i]].name) == 0)
      return ens_fail(err, ENS_ERR_FORMAT, "%s: tensor '%s': duplicate name", st->path,
                      st->tensors[st->name_index[i]].name);
  return ENS_OK;
}

static ens_status parse_header(const uint8_t *buf, size_t len, ens_safetensors *st, ens_error *err)
{
  const char *path = st->path;
  if (len < 8)
    return ens_fail(err, ENS_ERR_FORMAT,
                    "%s: file is %zu bytes, shorter than the 8-byte safetensors header length",
                    path, len);
  uint64_t hlen = read_le64(buf);
  if (hlen > ST_MAX_HEADER)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: header length %llu is absurd (limit %llu)", path,
                    (unsigned long long)hlen, ST_MAX_HEADER);
  if (hlen > len - 8)
    return ens_fail(err, ENS_ERR_FORMAT,
                    "%s: header length %llu goes beyond the end of the file (%zu bytes)", path,
                    (unsigned long long)hlen, len);
  const uint8_t *data = buf + 8 + hlen;
  uint64_t data_len = len - 8 - hlen;

  ens_json root;
  ens_error jerr;
  ens_status s = ens_json_parse((const char *)buf + 8, (size_t)hlen, "header", &root, &jerr);
  if (s != ENS_OK)
    return ens_fail(err, s, "%s: safetensors %s", path, jerr.message);
  if (root.type != ENS_JSON_OBJECT) {
    s = ens_fail(err, ENS_ERR_FORMAT, "%s: header is %s, not an object", path,
                 ens_json_a_type(root.type));
    ens_json_free(&root);
    return s;
  }
  uint64_t *begins = NULL;
  if (root.count > 0) {
    st->tensors = calloc(root.count, sizeof *st->tensors);
    begins = calloc(root.count, sizeof *begins);
    if (!st->tensors || !begins) {
      s = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
      goto out;
    }
  }
  int seen_meta = 0;
  for (size_t i = 0; i < root.count; i++) {
    const ens_json_member *m = &root.members[i];
    if (strlen(m->key) != m->key_len) {
      s = ens_fail(err, ENS_ERR_FORMAT, "%s: tensor name with a NUL character ('%s...')", path,
                   m->key);
      goto out;
    }
    if (strcmp(m->key, "__metadata__") == 0) {
      if (seen_meta++) {
        s = ens_fail(err, ENS_ERR_FORMAT, "%s: duplicate __metadata__", path);
        goto out;
      }
      if ((s = parse_metadata(st, &m->value, err)) != ENS_OK)
        goto out;
      continue;
    }
    ens_st_tensor *t = &st->tensors[st->count];
    s = parse_entry(st, m->key, &m->value, data, data_len, t, &begins[st->count], err);
    if (s != ENS_OK)
      goto out;
    if (!(t->name = strdup(m->key))) {
      s = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
      goto out;
    }
    st->count++;
  }
  s = check_layout(st, begins, err);
out:
  free(begins);
  ens_json_free(&root);
  return s;
}

ens_status ens_st_parse(const uint8_t *buf, size_t len, const char *name_for_errors,
                        ens_safetensors *st, ens_error *err)
{
  memset(st, 0, sizeof *st);
  st->path = strdup(name_for_errors ? name_for_errors : "<buffer>");
  if (!st->path)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory");
  if (!buf && len)
    return ens_fail(err, ENS_ERR_ARG, "%s: NULL buffer", st->path);
  ens_status s = parse_header(buf, len, st, err);
  if (s != ENS_OK)
    ens_st_close(st);
  return s;
}

ens_status ens_st_open(const char *path, ens_safetensors *st, ens_error *err)
{
  memset(st, 0, sizeof *st);
  if (!path)
    return ens_fail(err, ENS_ERR_ARG, "safetensors path is NULL");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ens_fail(err, ENS_ERR_IO, "cannot open model '%s': %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return ens_fail(err, ENS_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return ens_fail(err, ENS_ERR_IO, "cannot open model '%s': not a regular file", path);
  }
  if ((uint64_t)sb.st_size > SIZE_MAX) {
    close(fd);
    return ens_fail(err, ENS_ERR_IO, "%s: file too large to map", path);
  }
  size_t len = (size_t)sb.st_size;
  void *map = NULL;
  if (len > 0) {
    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int e = errno;
      close(fd);
      return ens_fail(err, ENS_ERR_IO, "%s: cannot mmap %zu bytes: %s", path, len, strerror(e));
    }
  }
  close(fd); /* the mapping stays valid */
  ens_status s = ens_st_parse(map, len, path, st, err);
  if (s != ENS_OK) {
    if (map)
      munmap(map, len);
    return s;
  }
  st->map = map;
  st->map_len = len;
  return ENS_OK;
}

const ens_st_tensor *ens_st_find(const ens_safetensors *st, const char *name)
{
  if (!st || !name)
    return NULL;
  int lo = 0, hi = st->count - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    const ens_st_tensor *t = &st->tensors[st->name_index[mid]];
    int c = strcmp(name, t->name);
    if (c == 0)
      return t;
    if (c < 0)
      hi = mid - 1;
    else
      lo = mid + 1;
  }
  return NULL;
}

const char *ens_st_meta(const ens_safetensors *st, const char *key)
{
  if (!st || !key)
    return NULL;
  for (int i = 0; i < st->meta_count; i++)
    if (strcmp(st->meta_keys[i], key) == 0)
      return st->meta_values[i];
  return NULL;
}

/* IEEE binary16 -> binary32, exact for every input (subnormals, inf, NaN payload kept). */
static float f16_to_f32(uint16_t h)
{
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F;
  uint32_t man = h & 0x3FF;
  uint32_t bits;
  if (exp == 0x1F)
    bits = sign | 0x7F800000u | (man << 13);
  else if (exp != 0)
    bits = sign | ((exp + 112) << 23) | (man << 13);
  else if (man == 0)
    bits = sign;
  else {
    /* Subnormal: normalise the mantissa; value = man * 2^-24. */
    int e = 113;
    while (!(man & 0x400)) {
      man <<= 1;
      e--;
    }
    bits = sign | ((uint32_t)e << 23) | ((man & 0x3FF) << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

ens_status ens_st_read_f32(const ens_safetensors *st, const ens_st_tensor *t, float *dst,
                           ens_error *err)
{
  const char *path = st && st->path ? st->path : "<safetensors>";
  if (!t || (!dst && t->numel))
    return ens_fail(err, ENS_ERR_ARG, "%s: ens_st_read_f32: NULL tensor or destination", path);
  const uint8_t *src = t->data;
  size_t n = (size_t)t->numel;
  switch (t->dtype) {
    case ENS_DT_F32:
      if (n)
        memcpy(dst, src, n * 4);
      return ENS_OK;
    case ENS_DT_F16:
      for (size_t i = 0; i < n; i++)
        dst[i] = f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
      return ENS_OK;
    case ENS_DT_BF16:
      for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)src[2 * i] << 16 | (uint32_t)src[2 * i + 1] << 24;
        memcpy(&dst[i], &bits, 4);
      }
      return ENS_OK;
    case ENS_DT_F64:
      for (size_t i = 0; i < n; i++) {
        double d;
        memcpy(&d, src + 8 * i, 8);
        dst[i] = (float)d;
      }
      return ENS_OK;
    default:
      return ens_fail(err, ENS_ERR_MODEL,
                      "%s: tensor '%s' has dtype %s, expected a float type (F32, F16, BF16, "
                      "F64)",
                      path, t->name, ens_dtype_name(t->dtype));
  }
}
