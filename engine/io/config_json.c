/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config_json.c - read timm's hub config.json; see config_json.h. */
#include "config_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "read_file.h"

#define CONFIG_MAX_BYTES (64u << 20) /* label lists are big, but not this big */
#define CONFIG_MAX_LABELS (1 << 20)

typedef struct {
  const char *name;   /* file name for messages */
  const char *prefix; /* "" or "pretrained_cfg." */
  ens_error *err;
} ctx;

static ens_status wrong_type(const ctx *c, const char *key, const char *want, const ens_json *v)
{
  return ens_fail(c->err, ENS_ERR_FORMAT, "%s: '%s%s' must be %s, not %s", c->name, c->prefix, key,
                  want, ens_json_a_type(v->type));
}

static ens_status bad_value(const ctx *c, const char *key, const char *why)
{
  return ens_fail(c->err, ENS_ERR_FORMAT, "%s: '%s%s' %s", c->name, c->prefix, key, why);
}

static ens_status get_string(const ctx *c, const ens_json *obj, const char *key, char *dst,
                             size_t cap, int *has)
{
  const ens_json *v = ens_json_get(obj, key);
  if (!v)
    return ENS_OK;
  if (v->type != ENS_JSON_STRING)
    return wrong_type(c, key, "a string", v);
  if (v->len >= cap || strlen(v->str) != v->len)
    return bad_value(c, key, "is too long or holds a NUL character");
  memcpy(dst, v->str, v->len + 1);
  *has = 1;
  return ENS_OK;
}

static ens_status get_int(const ctx *c, const ens_json *obj, const char *key, int min, int max,
                          int *dst, int *has)
{
  const ens_json *v = ens_json_get(obj, key);
  if (!v)
    return ENS_OK;
  if (v->type != ENS_JSON_NUMBER || !v->is_int)
    return wrong_type(c, key, "an integer", v);
  if (v->integer < min || v->integer > max) {
    char why[96];
    snprintf(why, sizeof why, "= %lld is out of range [%d, %d]", (long long)v->integer, min, max);
    return bad_value(c, key, why);
  }
  *dst = (int)v->integer;
  *has = 1;
  return ENS_OK;
}

/* An array of exactly n numbers. */
static ens_status get_floats(const ctx *c, const ens_json *obj, const char *key, int n, float *dst,
                             int *has)
{
  const ens_json *v = ens_json_get(obj, key);
  if (!v)
    return ENS_OK;
  if (v->type != ENS_JSON_ARRAY)
    return wrong_type(c, key, "an array of numbers", v);
  if (v->count != (size_t)n) {
    char why[64];
    snprintf(why, sizeof why, "must have %d entries, not %zu", n, v->count);
    return bad_value(c, key, why);
  }
  for (int i = 0; i < n; i++) {
    if (v->items[i].type != ENS_JSON_NUMBER)
      return wrong_type(c, key, "an array of numbers", &v->items[i]);
    dst[i] = (float)v->items[i].number;
  }
  *has = 1;
  return ENS_OK;
}

/* A number in (0, max]: the width / depth multipliers ens-train writes for custom shapes. */
static ens_status get_multiplier(const ctx *c, const ens_json *obj, const char *key, double max,
                                 double *dst, int *has)
{
  const ens_json *v = ens_json_get(obj, key);
  if (!v)
    return ENS_OK;
  if (v->type != ENS_JSON_NUMBER)
    return wrong_type(c, key, "a number", v);
  if (!(v->number > 0 && v->number <= max)) {
    char why[64];
    snprintf(why, sizeof why, "= %g is out of range (0, %g]", v->number, max);
    return bad_value(c, key, why);
  }
  *dst = v->number;
  *has = 1;
  return ENS_OK;
}

static ens_status read_pretrained(const ctx *c, const ens_json *pc, ens_hub_config *out)
{
  ens_status s;
  if ((s = get_string(c, pc, "tag", out->tag, sizeof out->tag, &out->has_tag)) != ENS_OK)
    return s;
  if (!out->has_num_classes && (s = get_int(c, pc, "num_classes", 0, 1 << 24, &out->num_classes,
                                            &out->has_num_classes)) != ENS_OK)
    return s;

  const ens_json *v = ens_json_get(pc, "input_size");
  if (v) {
    if (v->type != ENS_JSON_ARRAY)
      return wrong_type(c, "input_size", "an array [C, H, W]", v);
    if (v->count != 3)
      return bad_value(c, "input_size", "must be [C, H, W]");
    for (int i = 0; i < 3; i++) {
      const ens_json *d = &v->items[i];
      if (d->type != ENS_JSON_NUMBER || !d->is_int)
        return wrong_type(c, "input_size", "an array of integers", d);
      if (d->integer < 1 || d->integer > 65536)
        return bad_value(c, "input_size", "has a size outside [1, 65536]");
      out->input_size[i] = (int)d->integer;
    }
    out->has_input_size = 1;
  }

  v = ens_json_get(pc, "crop_pct");
  if (v) {
    if (v->type != ENS_JSON_NUMBER)
      return wrong_type(c, "crop_pct", "a number", v);
    if (!(v->number > 0 && v->number <= 4))
      return bad_value(c, "crop_pct", "must be in (0, 4]");
    out->crop_pct = (float)v->number;
    out->has_crop_pct = 1;
  }

  char interp[32];
  int has_interp = 0;
  if ((s = get_string(c, pc, "interpolation", interp, sizeof interp, &has_interp)) != ENS_OK)
    return s;
  if (has_interp) {
    if (strcmp(interp, "bicubic") == 0)
      out->interpolation = ENS_INTERP_BICUBIC;
    else if (strcmp(interp, "bilinear") == 0)
      out->interpolation = ENS_INTERP_BILINEAR;
    else
      return ens_fail(c->err, ENS_ERR_UNSUPPORTED,
                      "%s: '%sinterpolation' is '%s'; only bicubic and bilinear are supported",
                      c->name, c->prefix, interp);
    out->has_interpolation = 1;
  }

  if ((s = get_string(c, pc, "crop_mode", out->crop_mode, sizeof out->crop_mode,
                      &out->has_crop_mode)) != ENS_OK)
    return s;
  if ((s = get_floats(c, pc, "mean", 3, out->mean, &out->has_mean)) != ENS_OK)
    return s;
  if ((s = get_floats(c, pc, "std", 3, out->std, &out->has_std)) != ENS_OK)
    return s;
  for (int i = 0; out->has_std && i < 3; i++)
    if (!(out->std[i] > 0))
      return bad_value(c, "std", "must be positive");
  return ENS_OK;
}

static ens_status set_label(const ctx *c, ens_hub_config *out, int id, const char *s)
{
  if (!(out->label_names[id] = strdup(s)))
    return ens_fail(c->err, ENS_ERR_NOMEM, "%s: out of memory", c->name);
  return ENS_OK;
}

/* A list of names, or a dict "<id>": name (ids may have gaps). */
static ens_status read_labels(const ctx *c, const char *key, const ens_json *v, ens_hub_config *out)
{
  char where[96];
  if (v->type == ENS_JSON_ARRAY) {
    if (v->count > CONFIG_MAX_LABELS)
      return bad_value(c, key, "has too many entries");
    out->label_names = calloc(v->count + 1, sizeof(char *));
    if (!out->label_names)
      return ens_fail(c->err, ENS_ERR_NOMEM, "%s: out of memory", c->name);
    out->label_count = (int)v->count;
    for (size_t i = 0; i < v->count; i++) {
      if (v->items[i].type != ENS_JSON_STRING) {
        snprintf(where, sizeof where, "%s[%zu]", key, i);
        return wrong_type(c, where, "a string", &v->items[i]);
      }
      ens_status s = set_label(c, out, (int)i, v->items[i].str);
      if (s != ENS_OK)
        return s;
    }
  } else if (v->type == ENS_JSON_OBJECT) {
    long max_id = -1;
    for (size_t i = 0; i < v->count; i++) {
      const ens_json_member *m = &v->members[i];
      char *end;
      errno = 0;
      long id = strtol(m->key, &end, 10);
      snprintf(where, sizeof where, "%s[\"%.40s\"]", key, m->key);
      int digits = m->key_len > 0 && m->key_len <= 9;
      for (size_t k = 0; digits && k < m->key_len; k++)
        digits = m->key[k] >= '0' && m->key[k] <= '9';
      if (!digits || *end || errno || id < 0 || id >= CONFIG_MAX_LABELS)
        return bad_value(c, where, "is not keyed by a class id");
      if (m->value.type != ENS_JSON_STRING)
        return wrong_type(c, where, "a string", &m->value);
      if (id > max_id)
        max_id = id;
    }
    out->label_count = (int)(max_id + 1);
    out->label_names = calloc((size_t)out->label_count + 1, sizeof(char *));
    if (!out->label_names)
      return ens_fail(c->err, ENS_ERR_NOMEM, "%s: out of memory", c->name);
    for (size_t i = 0; i < v->count; i++) {
      int id = (int)strtol(v->members[i].key, NULL, 10);
      free(out->label_names[id]); /* a repeated id: the last wins, as in Python */
      ens_status s = set_label(c, out, id, v->members[i].value.str);
      if (s != ENS_OK)
        return s;
    }
    for (int id = 0; id < out->label_count; id++)
      if (!out->label_names[id]) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "class_%d", id);
        ens_status s = set_label(c, out, id, fallback);
        if (s != ENS_OK)
          return s;
      }
  } else
    return wrong_type(c, key, "a list of strings or an object of id: string", v);
  out->has_label_names = 1;
  return ENS_OK;
}

static ens_status read_config(const ctx *c0, const ens_json *root, ens_hub_config *out)
{
  ctx c = *c0;
  ens_status s;
  if (root->type != ENS_JSON_OBJECT)
    return ens_fail(c.err, ENS_ERR_FORMAT, "%s: config is %s, not an object", c.name,
                    ens_json_a_type(root->type));
  if ((s = get_string(&c, root, "architecture", out->architecture, sizeof out->architecture,
                      &out->has_architecture)) != ENS_OK)
    return s;
  if ((s = get_int(&c, root, "num_classes", 0, 1 << 24, &out->num_classes,
                   &out->has_num_classes)) != ENS_OK)
    return s;
  if ((s = get_int(&c, root, "num_features", 1, 1 << 24, &out->num_features,
                   &out->has_num_features)) != ENS_OK)
    return s;
  if ((s = get_multiplier(&c, root, "channel_multiplier", 16, &out->channel_multiplier,
                          &out->has_channel_multiplier)) != ENS_OK ||
      (s = get_multiplier(&c, root, "depth_multiplier", 16, &out->depth_multiplier,
                          &out->has_depth_multiplier)) != ENS_OK)
    return s;

  const ens_json *pc = ens_json_get(root, "pretrained_cfg");
  const ens_json *labels = ens_json_get(root, "label_names");
  const char *labels_key = "label_names";
  if (pc) {
    if (pc->type != ENS_JSON_OBJECT)
      return wrong_type(&c, "pretrained_cfg", "an object", pc);
    c.prefix = "pretrained_cfg.";
    if ((s = read_pretrained(&c, pc, out)) != ENS_OK)
      return s;
    if (!labels) { /* timm moves top-level label_names into pretrained_cfg on load */
      labels = ens_json_get(pc, "label_names");
    } else
      c.prefix = "";
  } else {
    /* Legacy single-dict layout. */
    if ((s = read_pretrained(&c, root, out)) != ENS_OK)
      return s;
    if (!labels && (labels = ens_json_get(root, "labels")))
      labels_key = "labels";
  }
  if (labels && (s = read_labels(&c, labels_key, labels, out)) != ENS_OK)
    return s;
  c.prefix = "";
  if (out->has_label_names && out->has_num_classes && out->label_count != out->num_classes) {
    /* A dict with gaps may stop short of the last class: pad it. */
    if (labels->type == ENS_JSON_OBJECT && out->label_count < out->num_classes) {
      char **grown = realloc(out->label_names, ((size_t)out->num_classes + 1) * sizeof(char *));
      if (!grown)
        return ens_fail(c.err, ENS_ERR_NOMEM, "%s: out of memory", c.name);
      out->label_names = grown;
      for (int id = out->label_count; id < out->num_classes; id++) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "class_%d", id);
        out->label_names[id] = NULL;
        out->label_count = id + 1;
        if ((s = set_label(&c, out, id, fallback)) != ENS_OK)
          return s;
      }
    } else
      return ens_fail(c.err, ENS_ERR_FORMAT, "%s: '%s' has %d names but num_classes is %d", c.name,
                      labels_key, out->label_count, out->num_classes);
  }
  return ENS_OK;
}

void ens_hub_config_free(ens_hub_config *c)
{
  if (!c)
    return;
  for (int i = 0; c->label_names && i < c->label_count; i++)
    free(c->label_names[i]);
  free(c->label_names);
  memset(c, 0, sizeof *c);
}

ens_status ens_hub_config_parse(const char *text, size_t len, const char *name_for_errors,
                                ens_hub_config *out, ens_error *err)
{
  memset(out, 0, sizeof *out);
  const char *name = name_for_errors ? name_for_errors : "config.json";
  ens_json root;
  ens_status s = ens_json_parse(text, len, name, &root, err);
  if (s != ENS_OK)
    return s;
  ctx c = {name, "", err};
  s = read_config(&c, &root, out);
  ens_json_free(&root);
  if (s != ENS_OK)
    ens_hub_config_free(out);
  return s;
}

ens_status ens_hub_config_load(const char *path, ens_hub_config *out, ens_error *err)
{
  memset(out, 0, sizeof *out);
  if (!path)
    return ens_fail(err, ENS_ERR_ARG, "config path is NULL");
  char *buf = NULL;
  size_t len = 0;
  ens_status s = ens_read_file(path, CONFIG_MAX_BYTES, ENS_ERR_FORMAT, "config", &buf, &len, err);
  if (s == ENS_OK)
    s = ens_hub_config_parse(buf, len, path, out, err);
  free(buf);
  return s;
}
