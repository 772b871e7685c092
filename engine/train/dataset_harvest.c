/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dataset_harvest.c - harvest directories as unlabeled datasets (see dataset_harvest.h). */
#include "dataset_harvest.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ens_harvest.h"
#include "error.h"
#include "json.h"
#include "read_file.h"

#define MAX_SIDECAR_BYTES (16u << 20) /* 1000 classes take ~15 kB */

void ens_harvest_options_default(ens_harvest_options *o)
{
  memset(o, 0, sizeof *o);
  o->size = 224;
  o->channels = 3;
  o->crop_pct = 1.0f;
  o->model_crop_pct = 1.0f;
  o->interpolation = ENS_INTERP_DEFAULT;
}

static int is_sidecar_name(const struct dirent *e)
{
  size_t n = strlen(e->d_name);
  return n > 5 && !strcmp(e->d_name + n - 5, ".json");
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name); /* byte order, whatever the locale */
}

/* The *.json names of dir in byte order; returns the count, -1 if dir cannot be read. */
static int list_sidecars(const char *dir, struct dirent ***names)
{
  return scandir(dir, names, is_sidecar_name, by_name);
}

static void free_names(struct dirent **names, int n)
{
  for (int i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* One parsed sidecar: what loading needs. */
typedef struct {
  int model_size; /* save_size "model" */
  int num_classes;
  float *probs; /* NULL or num_classes values */
} sidecar;

static ens_status read_sidecar(const char *path, sidecar *sc, ens_error *err)
{
  memset(sc, 0, sizeof *sc);
  char *text = NULL;
  size_t len = 0;
  ens_status st =
      ens_read_file(path, MAX_SIDECAR_BYTES, ENS_ERR_FORMAT, "a harvest sidecar", &text, &len, err);
  if (st != ENS_OK)
    return st;
  ens_json root;
  st = ens_json_parse(text, len, path, &root, err);
  free(text);
  if (st != ENS_OK)
    return st;
  const ens_json *format = ens_json_get(&root, "format");
  const ens_json *size = ens_json_get(&root, "save_size");
  const ens_json *probs = ens_json_get(&root, "probs");
  if (!format || format->type != ENS_JSON_STRING || strcmp(format->str, ENS_HARVEST_FORMAT)) {
    st = ens_fail(err, ENS_ERR_FORMAT, "%s: not an %s sidecar (\"format\")", path,
                  ENS_HARVEST_FORMAT);
  } else if (!size || size->type != ENS_JSON_STRING ||
             (strcmp(size->str, "model") && strcmp(size->str, "original"))) {
    st = ens_fail(err, ENS_ERR_FORMAT, "%s: \"save_size\" must be \"model\" or \"original\"", path);
  } else {
    sc->model_size = !strcmp(size->str, "model");
    if (probs && probs->type == ENS_JSON_ARRAY && probs->count > 0 && probs->count <= 100000) {
      sc->probs = malloc(probs->count * sizeof *sc->probs);
      if (!sc->probs)
        st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
      for (size_t i = 0; st == ENS_OK && i < probs->count; i++) {
        if (probs->items[i].type != ENS_JSON_NUMBER)
          st = ens_fail(err, ENS_ERR_FORMAT, "%s: probs[%zu] is not a number", path, i);
        else
          sc->probs[i] = (float)probs->items[i].number;
      }
      sc->num_classes = (int)probs->count;
    } else if (probs && probs->type != ENS_JSON_NULL) {
      st = ens_fail(err, ENS_ERR_FORMAT, "%s: \"probs\" must be a non-empty array or null", path);
    }
  }
  ens_json_free(&root);
  if (st != ENS_OK) {
    free(sc->probs);
    memset(sc, 0, sizeof *sc);
  }
  return st;
}

static char *join(const char *dir, const char *name, size_t name_len, const char *ext)
{
  char *s = NULL;
  return asprintf(&s, "%s/%.*s%s", dir, (int)name_len, name, ext) < 0 ? NULL : s;
}

int ens_harvest_dir_detect(const char *dir)
{
  struct stat sb;
  if (!dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return 0;
  struct dirent **names = NULL;
  int n = list_sidecars(dir, &names);
  int yes = 0;
  if (n > 0) {
    char *path = join(dir, names[0]->d_name, strlen(names[0]->d_name), "");
    sidecar sc;
    ens_error err;
    yes = path && read_sidecar(path, &sc, &err) == ENS_OK;
    if (yes)
      free(sc.probs);
    free(path);
  }
  if (n >= 0)
    free_names(names, n);
  return yes;
}

static ens_status check_options(const char *dir, const ens_harvest_options *o, ens_error *err)
{
  if (o->size < 1 || o->size > 4096 || (o->channels != 1 && o->channels != 3))
    return ens_fail(err, ENS_ERR_ARG, "%s: image size %d (1..4096) / channels %d (1 or 3) invalid",
                    dir, o->size, o->channels);
  if (!(o->crop_pct > 0.0f && o->crop_pct <= 4.0f) ||
      !(o->model_crop_pct > 0.0f && o->model_crop_pct <= 4.0f))
    return ens_fail(err, ENS_ERR_ARG, "%s: crop_pct %g / model crop_pct %g must be in (0, 4]", dir,
                    (double)o->crop_pct, (double)o->model_crop_pct);
  return ENS_OK;
}

ens_status ens_dataset_from_harvest(const char *dir, const ens_harvest_options *o, ens_dataset *out,
                                    int *skipped, ens_error *err)
{
  if (!dir || !o || !out)
    return ens_fail(err, ENS_ERR_ARG, "ens_dataset_from_harvest: NULL argument");
  memset(out, 0, sizeof *out);
  if (skipped)
    *skipped = 0;
  ens_status st = check_options(dir, o, err);
  if (st != ENS_OK)
    return st;
  struct dirent **names = NULL;
  int n = list_sidecars(dir, &names);
  if (n < 0)
    return ens_fail(err, ENS_ERR_IO, "%s: cannot read the harvest folder: %m", dir);

  size_t img_bytes = (size_t)o->size * (size_t)o->size * (size_t)o->channels;
  sidecar *sc = calloc((size_t)n + 1, sizeof *sc);
  uint8_t *rgb_tmp = malloc((size_t)o->size * (size_t)o->size * 3);
  if (!sc || !rgb_tmp)
    st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", dir);
  if (st == ENS_OK)
    st = ens_dataset_alloc(out, n, o->size, o->size, o->channels, 0, err);

  int kept = 0, bad = 0, num_classes = 0;
  for (int i = 0; st == ENS_OK && i < n; i++) {
    const char *name = names[i]->d_name;
    size_t stem_len = strlen(name) - 5;
    char *json_path = join(dir, name, stem_len, ".json"),
         *png_path = join(dir, name, stem_len, ".png");
    ens_error one;
    struct stat sb;
    if (!json_path || !png_path) {
      st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", dir);
    } else if (stat(png_path, &sb) != 0 || read_sidecar(json_path, &sc[kept], &one) != ENS_OK) {
      bad++; /* no PNG (yet), or not a sidecar */
    } else {
      ens_folder_options fo;
      ens_folder_options_default(&fo);
      fo.size = o->size;
      fo.channels = o->channels;
      fo.crop_pct = sc[kept].model_size ? o->model_crop_pct : o->crop_pct;
      fo.interpolation = o->interpolation;
      ens_status s = ens_folder_store_image(png_path, &fo, out->pixels + (size_t)kept * img_bytes,
                                            rgb_tmp, &one);
      if (s == ENS_ERR_NOMEM) {
        st = ens_fail(err, s, "%s", one.message);
      } else if (s != ENS_OK) {
        free(sc[kept].probs);
        memset(&sc[kept], 0, sizeof sc[kept]);
        bad++;
      } else {
        if (!num_classes && sc[kept].num_classes)
          num_classes = sc[kept].num_classes;
        kept++;
      }
    }
    free(json_path);
    free(png_path);
  }
  if (st == ENS_OK && kept == 0)
    st = ens_fail(err, ENS_ERR_FORMAT,
                  "%s: no harvest samples (<stem>.json %s sidecar + <stem>.png)%s", dir,
                  ENS_HARVEST_FORMAT, bad ? ", every one was unreadable" : "");
  if (st == ENS_OK)
    out->n = kept; /* the stored images are the first `kept` rows; the rest is unused room */
  if (st == ENS_OK && num_classes) {
    out->num_classes = num_classes;
    float *soft = calloc((size_t)kept * (size_t)num_classes, sizeof *soft);
    uint8_t *rows = calloc((size_t)kept, 1);
    if (!soft || !rows)
      st = ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory for %d soft targets", dir, kept);
    for (int i = 0; st == ENS_OK && i < kept; i++)
      if (sc[i].num_classes == num_classes) {
        memcpy(soft + (size_t)i * num_classes, sc[i].probs, (size_t)num_classes * sizeof *soft);
        rows[i] = 1;
      }
    if (st == ENS_OK)
      st = ens_dataset_set_soft(out, soft, rows, err);
    free(soft);
    free(rows);
  }
  if (skipped)
    *skipped = bad;
  if (st != ENS_OK)
    ens_dataset_free(out);
  for (int i = 0; sc && i < n; i++)
    free(sc[i].probs);
  free(sc);
  free(rgb_tmp);
  free_names(names, n);
  return st;
}
