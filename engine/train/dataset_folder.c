/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dataset_folder.c - image-folder datasets: root/<class>/... decoded and stored at a fixed
 * size the way inference preprocesses a picture (see ens_dataset_from_folder in dataset.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dataset.h"
#include "error.h"
#include "preprocess_internal.h"
#include "rng.h"
#include "threadpool.h"

#define MAX_DEPTH 16 /* below a class folder; bounds symlink loops */

typedef struct {
  char **items;
  int n, cap;
} str_list;

static void list_free(str_list *l)
{
  for (int i = 0; i < l->n; i++)
    free(l->items[i]);
  free(l->items);
  memset(l, 0, sizeof *l);
}

static int list_push(str_list *l, char *s)
{
  if (!s)
    return 0;
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    char **p = realloc(l->items, (size_t)cap * sizeof *p);
    if (!p) {
      free(s);
      return 0;
    }
    l->items = p;
    l->cap = cap;
  }
  l->items[l->n++] = s;
  return 1;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b); /* byte order = Python's sorted() */
}

static char *join(const char *dir, const char *name)
{
  char *s = NULL;
  return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

static int is_dir(const char *path)
{
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int is_image_name(const char *name)
{
  static const char *const ext[] = {".jpg", ".jpeg", ".png", ".ppm", ".pgm"};
  size_t len = strlen(name);
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
    size_t e = strlen(ext[i]);
    if (len > e && strcasecmp(name + len - e, ext[i]) == 0)
      return 1;
  }
  return 0;
}

/* Sorted entry names of dir (without . and ..). */
static ens_status list_dir(const char *dir, str_list *out, ens_error *err)
{
  memset(out, 0, sizeof *out);
  DIR *d = opendir(dir);
  if (!d)
    return ens_fail(err, ENS_ERR_IO, "%s: cannot open folder: %m", dir);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (!list_push(out, strdup(e->d_name))) {
      closedir(d);
      list_free(out);
      return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory listing the folder", dir);
    }
  }
  closedir(d);
  qsort(out->items, (size_t)out->n, sizeof *out->items, cmp_str);
  return ENS_OK;
}

/* Image files below dir, depth-first in sorted order, appended to files. */
static ens_status collect_images(const char *dir, int depth, str_list *files, ens_error *err)
{
  if (depth > MAX_DEPTH)
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "%s: folders nested deeper than %d", dir, MAX_DEPTH);
  str_list names;
  ens_status st = list_dir(dir, &names, err);
  for (int i = 0; st == ENS_OK && i < names.n; i++) {
    char *path = join(dir, names.items[i]);
    if (!path) {
      st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", dir);
    } else if (is_dir(path)) {
      st = collect_images(path, depth + 1, files, err);
      free(path);
    } else if (is_image_name(names.items[i])) {
      if (!list_push(files, path))
        st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", dir);
    } else {
      free(path);
    }
  }
  list_free(&names);
  return st;
}

/* The class folders of root (sorted). */
static ens_status list_classes(const char *root, str_list *classes, ens_error *err)
{
  str_list names;
  ens_status st = list_dir(root, &names, err);
  if (st != ENS_OK)
    return st;
  memset(classes, 0, sizeof *classes);
  for (int i = 0; i < names.n; i++) {
    char *path = join(root, names.items[i]);
    int dir = path && is_dir(path);
    free(path);
    if (dir && !list_push(classes, strdup(names.items[i]))) {
      list_free(&names);
      list_free(classes);
      return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", root);
    }
  }
  list_free(&names);
  if (classes->n == 0)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: no class folders (want %s/<class>/<images>)", root,
                    root);
  return ENS_OK;
}

/* Pillow's RGB -> L: (19595 R + 38470 G + 7471 B + 0x8000) >> 16. */
static void rgb_to_l(const uint8_t *rgb, uint8_t *l, size_t npix)
{
  for (size_t i = 0; i < npix; i++)
    l[i] = (uint8_t)((19595u * rgb[3 * i] + 38470u * rgb[3 * i + 1] + 7471u * rgb[3 * i + 2] +
                      0x8000u) >>
                     16);
}

/* Decodes path and stores its inference-style size x size crop into dst. */
static ens_status store_image(const char *path, const ens_folder_options *o, uint8_t *dst,
                              ens_error *err)
{
  ens_rgb_image im;
  ens_status st = ens_image_load(path, &im, err);
  if (st != ENS_OK)
    return st;
  ens_preprocess_params p = {.out_height = o->size,
                             .out_width = o->size,
                             .crop_pct = o->crop_pct,
                             .interpolation = o->interpolation,
                             .mean = {0, 0, 0},
                             .std = {1, 1, 1}};
  ens_image view = ens_rgb_image_view(&im);
  uint8_t *rgb = o->channels == 3 ? dst : malloc((size_t)o->size * (size_t)o->size * 3);
  if (!rgb)
    st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
  else
    st = ens_preprocess_cropped_u8(&p, &view, NULL, rgb, err);
  if (st == ENS_OK && o->channels == 1)
    rgb_to_l(rgb, dst, (size_t)o->size * (size_t)o->size);
  if (rgb != dst)
    free(rgb);
  ens_rgb_image_free(&im);
  return st;
}

ens_status ens_folder_store_image(const char *path, const ens_folder_options *o, uint8_t *dst,
                                  uint8_t *rgb_tmp, ens_error *err)
{
  (void)rgb_tmp; /* the gray conversion allocates its own RGB crop */
  return store_image(path, o, dst, err);
}

typedef struct {
  const str_list *files;
  const ens_folder_options *o;
  ens_dataset *out;
  ens_status *status; /* per file */
} decode_job;

static void decode_range(void *ctx, int begin, int end)
{
  decode_job *j = ctx;
  for (int i = begin; i < end; i++)
    j->status[i] = store_image(j->files->items[i], j->o,
                               j->out->pixels + (size_t)i * ens_dataset_image_bytes(j->out), NULL);
}

/* Decodes every file into out (in parallel when o->threads != 1); ok[i] = file i stored.
 * Without skip_bad the first failing file (lowest index, so the message does not depend on
 * timing) is decoded again here to report its error. */
static ens_status decode_all(const str_list *files, const ens_folder_options *o, ens_dataset *out,
                             uint8_t *ok, int *bad, ens_error *err)
{
  ens_status *status = malloc(((size_t)files->n + 1) * sizeof *status);
  if (!status)
    return ens_fail(err, ENS_ERR_NOMEM, "dataset: out of memory");
  decode_job j = {files, o, out, status};
  ens_threadpool *pool = NULL;
  if (o->threads != 1 && files->n > 1) {
    ens_status pst = ens_threadpool_new(o->threads, &pool, err);
    if (pst != ENS_OK) {
      free(status);
      return pst;
    }
  }
  if (pool)
    ens_threadpool_run(pool, files->n, decode_range, &j);
  else
    decode_range(&j, 0, files->n);
  ens_threadpool_free(pool);
  ens_status st = ENS_OK;
  *bad = 0;
  for (int i = 0; i < files->n && st == ENS_OK; i++) {
    ok[i] = status[i] == ENS_OK;
    if (ok[i])
      continue;
    if (o->skip_bad && status[i] != ENS_ERR_NOMEM) {
      (*bad)++;
      continue;
    }
    st = store_image(files->items[i], o, out->pixels + (size_t)i * ens_dataset_image_bytes(out),
                     err);
    if (st == ENS_OK) /* failed in the pool only: memory was short there */
      st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory while decoding", files->items[i]);
  }
  free(status);
  return st;
}

/* One tree: classes given (names of train's folders); a class folder of root that is absent
 * is fine when allow_missing (val/), an unknown one is an error. */
static ens_status load_tree(const char *root, const str_list *classes, int allow_missing,
                            const ens_folder_options *o, ens_dataset *out, int *skipped,
                            ens_error *err)
{
  str_list files = {0};
  int *labels = NULL, nl = 0;
  ens_status st = ENS_OK;
  if (allow_missing) { /* every folder of val/ must be a known class */
    str_list present = {0};
    st = list_classes(root, &present, err);
    for (int i = 0; st == ENS_OK && i < present.n; i++)
      if (!bsearch(&present.items[i], classes->items, (size_t)classes->n, sizeof(char *), cmp_str))
        st = ens_fail(err, ENS_ERR_FORMAT, "%s/%s: class folder not present in the training set",
                      root, present.items[i]);
    list_free(&present);
    if (st != ENS_OK)
      return st;
  }
  for (int c = 0; st == ENS_OK && c < classes->n; c++) {
    char *dir = join(root, classes->items[c]);
    if (!dir) {
      st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", root);
      break;
    }
    if (allow_missing && !is_dir(dir)) {
      free(dir);
      continue;
    }
    int before = files.n;
    st = collect_images(dir, 0, &files, err);
    if (st == ENS_OK && files.n == before)
      st = ens_fail(err, ENS_ERR_FORMAT,
                    "%s: class folder has no images (.jpg .jpeg .png .ppm .pgm)", dir);
    free(dir);
    if (st == ENS_OK) {
      int *l = realloc(labels, ((size_t)files.n + 1) * sizeof *l);
      if (!l) {
        st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", root);
        break;
      }
      labels = l;
      while (nl < files.n)
        labels[nl++] = c;
    }
  }
  uint8_t *ok = NULL;
  if (st == ENS_OK)
    st = ens_dataset_alloc(out, files.n, o->size, o->size, o->channels, classes->n, err);
  if (st == ENS_OK) {
    ok = malloc((size_t)files.n + 1);
    if (!ok)
      st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", root);
  }
  int bad = 0;
  for (int i = 0; st == ENS_OK && i < files.n; i++)
    out->labels[i] = labels[i];
  if (st == ENS_OK)
    st = decode_all(&files, o, out, ok, &bad, err);
  if (st == ENS_OK && bad) { /* drop the skipped images; every class must keep one */
    int *keep = malloc((size_t)files.n * sizeof *keep),
        *count = calloc((size_t)classes->n, sizeof *count);
    int nk = 0;
    if (!keep || !count)
      st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", root);
    for (int i = 0; st == ENS_OK && i < files.n; i++)
      if (ok[i]) {
        keep[nk++] = i;
        count[labels[i]]++;
      }
    for (int c = 0; st == ENS_OK && c < classes->n; c++) {
      char *dir = join(root, classes->items[c]);
      if (!count[c] && dir && (!allow_missing || is_dir(dir)))
        st = ens_fail(err, ENS_ERR_FORMAT, "%s: no readable images in the class folder", dir);
      free(dir);
    }
    ens_dataset kept;
    if (st == ENS_OK)
      st = ens_dataset_subset(out, keep, nk, &kept, err);
    if (st == ENS_OK) {
      ens_dataset_free(out);
      *out = kept;
    }
    free(keep);
    free(count);
  }
  if (skipped)
    *skipped += bad;
  if (st == ENS_OK)
    st = ens_dataset_set_class_names(out, (const char *const *)classes->items, err);
  if (st != ENS_OK)
    ens_dataset_free(out);
  free(ok);
  free(labels);
  list_free(&files);
  return st;
}

/* Seeded stratified hold-out: per class, round(frac x count) images (>= 1 when the class has
 * two or more, and never all of them) chosen by a shuffle on the class's own stream. */
static ens_status split_val(ens_dataset *all, double frac, uint64_t seed, ens_dataset *train,
                            ens_dataset *val, ens_error *err)
{
  int n = all->n, k = all->num_classes;
  int *members = malloc(((size_t)n + 1) * sizeof *members);
  int *tr = malloc(((size_t)n + 1) * sizeof *tr), *va = malloc(((size_t)n + 1) * sizeof *va);
  uint8_t *is_val = calloc((size_t)n + 1, 1);
  ens_status st = ENS_OK;
  if (!members || !tr || !va || !is_val)
    st = ens_fail(err, ENS_ERR_NOMEM, "dataset split: out of memory");
  for (int c = 0; st == ENS_OK && c < k; c++) {
    int m = 0;
    for (int i = 0; i < n; i++)
      if (all->labels[i] == c)
        members[m++] = i;
    int nv = (int)(frac * m + 0.5);
    if (nv < 1 && m >= 2)
      nv = 1;
    if (nv > m - 1)
      nv = m - 1;
    ens_rng r;
    ens_rng_seed(&r, seed, (uint64_t)c);
    ens_rng_shuffle(&r, members, m);
    for (int j = 0; j < nv; j++)
      is_val[members[j]] = 1;
  }
  int nt = 0, nv = 0;
  for (int i = 0; st == ENS_OK && i < n; i++) {
    if (is_val[i])
      va[nv++] = i;
    else
      tr[nt++] = i;
  }
  if (st == ENS_OK)
    st = ens_dataset_subset(all, tr, nt, train, err);
  if (st == ENS_OK) {
    st = ens_dataset_subset(all, va, nv, val, err);
    if (st != ENS_OK)
      ens_dataset_free(train);
  }
  free(members);
  free(tr);
  free(va);
  free(is_val);
  return st;
}

void ens_folder_options_default(ens_folder_options *o)
{
  memset(o, 0, sizeof *o);
  o->size = 224;
  o->channels = 3;
  o->crop_pct = 1.0f;
  o->interpolation = ENS_INTERP_DEFAULT;
}

ens_status ens_dataset_from_folder(const char *root, const ens_folder_options *o,
                                   ens_dataset *train, ens_dataset *val, int *skipped,
                                   ens_error *err)
{
  if (!root || !o || !train)
    return ens_fail(err, ENS_ERR_ARG, "ens_dataset_from_folder: NULL argument");
  memset(train, 0, sizeof *train);
  if (val)
    memset(val, 0, sizeof *val);
  if (skipped)
    *skipped = 0;
  if (o->size < 1 || o->size > 4096 || (o->channels != 1 && o->channels != 3))
    return ens_fail(err, ENS_ERR_ARG, "%s: image size %d (1..4096) / channels %d (1 or 3) invalid",
                    root, o->size, o->channels);
  if (!(o->val_split >= 0.0 && o->val_split < 1.0) || (o->val_split > 0.0 && !val))
    return ens_fail(err, ENS_ERR_ARG, "%s: val split %g must be in [0, 1) and needs a val set",
                    root, o->val_split);
  if (!is_dir(root))
    return ens_fail(err, ENS_ERR_IO, "%s: dataset folder not found", root);
  char *train_dir = join(root, "train"), *val_dir = join(root, "val");
  if (!train_dir || !val_dir) {
    free(train_dir);
    free(val_dir);
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", root);
  }
  int split_tree = is_dir(train_dir) && is_dir(val_dir);
  str_list classes = {0};
  ens_status st = list_classes(split_tree ? train_dir : root, &classes, err);
  if (st == ENS_OK && split_tree) {
    st = load_tree(train_dir, &classes, 0, o, train, skipped, err);
    if (st == ENS_OK && val) {
      st = load_tree(val_dir, &classes, 1, o, val, skipped, err);
      if (st != ENS_OK)
        ens_dataset_free(train);
    }
  } else if (st == ENS_OK) {
    ens_dataset all;
    st = load_tree(root, &classes, 0, o, o->val_split > 0.0 ? &all : train, skipped, err);
    if (st == ENS_OK && o->val_split > 0.0) {
      st = split_val(&all, o->val_split, o->seed, train, val, err);
      ens_dataset_free(&all);
    } else if (st == ENS_OK && val) {
      st = ens_dataset_alloc(val, 0, o->size, o->size, o->channels, classes.n, err);
      if (st == ENS_OK)
        st = ens_dataset_set_class_names(val, (const char *const *)classes.items, err);
      if (st != ENS_OK)
        ens_dataset_free(train);
    }
  }
  list_free(&classes);
  free(train_dir);
  free(val_dir);
  return st;
}
