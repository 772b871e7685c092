/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model.c - the ens_model object: options, resolved config, labels, and the default session
 * behind the ens_model_forward() convenience. */
#include "model_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "net_bf16.h"
#include "session_internal.h"
#include "threadpool.h"

#define MAX_INPUT_SIDE 8192

void ens_options_init(ens_options *o)
{
  memset(o, 0, sizeof *o);
  o->interpolation = ENS_INTERP_DEFAULT;
  o->precision = ENS_PRECISION_F32;
}

static ens_status check_options(const ens_options *o, ens_error *err)
{
  if (o->threads < 0)
    return ens_fail(err, ENS_ERR_ARG, "options: threads must be >= 0 (got %d)", o->threads);
  if (o->threads > 1024)
    return ens_fail(err, ENS_ERR_ARG, "threads: %d is too many (max 1024)", o->threads);
  if (o->input_height < 0 || o->input_width < 0 || o->input_height > MAX_INPUT_SIDE ||
      o->input_width > MAX_INPUT_SIDE)
    return ens_fail(err, ENS_ERR_ARG, "options: input size %dx%d out of range (1..%d, 0 = default)",
                    o->input_width, o->input_height, MAX_INPUT_SIDE);
  if ((o->input_height == 0) != (o->input_width == 0))
    return ens_fail(err, ENS_ERR_ARG,
                    "options: give both input_height and input_width or neither (got %dx%d)",
                    o->input_width, o->input_height);
  if (!(o->crop_pct >= 0.0f && o->crop_pct <= 10.0f))
    return ens_fail(err, ENS_ERR_ARG, "options: crop_pct %g out of range (0 = default, else > 0)",
                    (double)o->crop_pct);
  if (o->interpolation < ENS_INTERP_DEFAULT || o->interpolation > ENS_INTERP_BILINEAR)
    return ens_fail(err, ENS_ERR_ARG, "options: unknown interpolation %d", (int)o->interpolation);
  if (o->override_mean_std)
    for (int c = 0; c < 3; c++)
      if (!isfinite(o->mean[c]) || !isfinite(o->std[c]) || !(o->std[c] > 0.0f))
        return ens_fail(err, ENS_ERR_ARG,
                        "options: mean/std[%d] = %g/%g: need finite values and std > 0", c,
                        (double)o->mean[c], (double)o->std[c]);
  if (o->max_batch < 0 || o->max_batch > ENS_MAX_BATCH)
    return ens_fail(err, ENS_ERR_ARG, "options: max_batch %d out of range (0..%d)", o->max_batch,
                    ENS_MAX_BATCH);
  if (o->precision != ENS_PRECISION_F32 && o->precision != ENS_PRECISION_BF16)
    return ens_fail(err, ENS_ERR_ARG, "options: unknown precision %d", (int)o->precision);
  return ENS_OK;
}

static ens_status make_labels(ens_model *m, const ens_options *o, const ens_hub_config *cfg,
                              const char *cfg_path, ens_error *err)
{
  const int nc = m->info.num_classes;
  ens_status st;
  if (o->labels_path) {
    if ((st = ens_labels_load_file(o->labels_path, &m->labels, err)))
      return st;
    if (m->labels.count != nc)
      return ens_fail(err, ENS_ERR_ARG,
                      "labels file '%s' has %d labels, but the model has %d classes",
                      o->labels_path, m->labels.count, nc);
    return ENS_OK;
  }
  /* A list of the wrong length is an error, as for --labels (config_json.c already checks it
   * against num_classes when the config has one). */
  if (cfg && cfg->has_label_names && cfg->label_count != nc)
    return ens_fail(err, ENS_ERR_ARG,
                    "config '%s': label_names has %d labels, but the model has %d classes",
                    cfg_path, cfg->label_count, nc);
  if (cfg && cfg->has_label_names)
    return ens_labels_from_strings((const char *const *)cfg->label_names, nc, &m->labels, err);
  if (nc == 1000)
    return ens_labels_imagenet(&m->labels, err);
  char **names = calloc((size_t)nc, sizeof(char *));
  if (!names)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for %d labels", nc);
  st = ENS_OK;
  for (int i = 0; i < nc && st == ENS_OK; i++) {
    names[i] = malloc(24);
    if (!names[i])
      st = ens_fail(err, ENS_ERR_NOMEM, "out of memory for %d labels", nc);
    else
      snprintf(names[i], 24, "class_%d", i);
  }
  if (st == ENS_OK)
    st = ens_labels_from_strings((const char *const *)names, nc, &m->labels, err);
  for (int i = 0; i < nc; i++)
    free(names[i]);
  free(names);
  return st;
}

/* Pretrained cfg < config.json < options. */
static ens_status resolve_info(ens_model *m, const ens_options *o, const ens_hub_config *cfg,
                               const char *cp, ens_error *err)
{
  ens_model_info *in = &m->info;
  /* A custom width / depth (variant NULL): model_load.c made sure the config or the options
   * give the input size and mean/std; crop_pct and interpolation default to timm's _cfg. */
  static const ens_variant_def custom = {"custom", 0, 0, 0, 0.875f, "custom"};
  const ens_variant_def *v = m->net.variant ? m->net.variant : &custom;
  const int is_custom = v == &custom;
  const int have_mult = cfg && cfg->has_channel_multiplier && cfg->has_depth_multiplier;
  char mult_name[48] = "";
  if (is_custom && have_mult) /* the multipliers range over (0, 16] (config_json.c) */
    snprintf(mult_name, sizeof mult_name, "w%.4g d%.4g", cfg->channel_multiplier,
             cfg->depth_multiplier);
  snprintf(in->variant, sizeof in->variant, "%.15s", mult_name[0] ? mult_name : v->name);
  in->num_classes = m->net.num_classes;
  in->num_features = m->net.head_chs;
  in->input_height = in->input_width = v->input_size;
  in->crop_pct = v->crop_pct;
  in->interpolation = ENS_INTERP_BICUBIC;
  memcpy(in->mean, ens_imagenet_mean, sizeof in->mean);
  memcpy(in->std, ens_imagenet_std, sizeof in->std);
  const char *tag = v->tag;
  int crop_given = 0;

  if (cfg) {
    if (cfg->has_num_classes && cfg->num_classes != in->num_classes)
      return ens_fail(err, ENS_ERR_MODEL,
                      "%s: num_classes %d, but classifier.weight has %d classes", cp,
                      cfg->num_classes, in->num_classes);
    if (cfg->has_num_features && cfg->num_features != in->num_features)
      return ens_fail(err, ENS_ERR_MODEL, "%s: num_features %d, but conv_head has %d channels", cp,
                      cfg->num_features, in->num_features);
    if (cfg->has_architecture && strncmp(cfg->architecture, "tf_efficientnet_", 16) == 0 &&
        ens_variant_find(cfg->architecture + 16) && strcmp(cfg->architecture + 16, v->name) != 0)
      return ens_fail(err, ENS_ERR_MODEL,
                      "%s: architecture %s, but the tensor shapes are those of %s", cp,
                      cfg->architecture, v->name);
    if (cfg->has_input_size) {
      if (cfg->input_size[1] < 1 || cfg->input_size[2] < 1 || cfg->input_size[1] > MAX_INPUT_SIDE ||
          cfg->input_size[2] > MAX_INPUT_SIDE)
        return ens_fail(err, ENS_ERR_MODEL, "%s: input_size %dx%d out of range", cp,
                        cfg->input_size[2], cfg->input_size[1]);
      in->input_height = cfg->input_size[1];
      in->input_width = cfg->input_size[2];
    }
    if (cfg->has_crop_pct) {
      in->crop_pct = cfg->crop_pct;
      crop_given = 1;
    }
    if (cfg->has_interpolation)
      in->interpolation = cfg->interpolation;
    if (cfg->has_mean)
      memcpy(in->mean, cfg->mean, sizeof in->mean);
    if (cfg->has_std)
      memcpy(in->std, cfg->std, sizeof in->std);
    if (cfg->has_tag)
      tag = cfg->tag;
  }
  if (o->input_height > 0) {
    in->input_height = o->input_height;
    in->input_width = o->input_width;
  }
  /* l2 has a second NS config at 475 (ns_jft_in1k_475, crop_pct 0.936) for the same weights. */
  if (!cfg && !is_custom && strcmp(v->name, "l2") == 0 && in->input_height == 475 &&
      in->input_width == 475) {
    tag = "ns_jft_in1k_475";
    if (!crop_given)
      in->crop_pct = 0.936f;
  }
  if (o->crop_pct > 0.0f)
    in->crop_pct = o->crop_pct;
  if (o->interpolation != ENS_INTERP_DEFAULT)
    in->interpolation = o->interpolation;
  else if (in->input_height != in->input_width)
    /* timm resizes non-square targets with ResizeKeepRatio, which it builds without the
     * config's interpolation: always bilinear. */
    in->interpolation = ENS_INTERP_BILINEAR;
  if (o->override_mean_std) {
    memcpy(in->mean, o->mean, sizeof in->mean);
    memcpy(in->std, o->std, sizeof in->std);
  }
  if (m->is_random)
    snprintf(in->name, sizeof in->name, "tf_efficientnet_%s (random weights)", v->name);
  else if (cfg && cfg->has_architecture)
    snprintf(in->name, sizeof in->name, "%.40s%s%.22s", cfg->architecture, cfg->has_tag ? "." : "",
             cfg->has_tag ? cfg->tag : "");
  else if (is_custom && have_mult)
    snprintf(in->name, sizeof in->name, "tf_efficientnet w%.6g d%.6g", cfg->channel_multiplier,
             cfg->depth_multiplier);
  else if (is_custom)
    snprintf(in->name, sizeof in->name, "tf_efficientnet (custom, %d blocks)", m->net.num_blocks);
  else if (cfg && cfg->has_tag)
    snprintf(in->name, sizeof in->name, "tf_efficientnet_%.4s.%.40s", v->name, tag);
  else if (in->num_classes == 1000)
    snprintf(in->name, sizeof in->name, "tf_efficientnet_%.4s.%.40s", v->name, tag);
  else /* a finetuned head: not the pretrained ns_jft_in1k weights, whatever the body is */
    snprintf(in->name, sizeof in->name, "tf_efficientnet_%.4s (%d classes)", v->name,
             in->num_classes);
  in->gflops = ens_net_gflops(&m->net, in->input_height, in->input_width);
  return ENS_OK;
}

ens_status ens_model_create(ens_net *net, const ens_options *opt, const ens_hub_config *cfg,
                            const char *cfg_path, size_t weight_bytes, int is_random,
                            ens_model **out, ens_error *err)
{
  *out = NULL;
  ens_options defaults;
  if (!opt) {
    ens_options_init(&defaults);
    opt = &defaults;
  }
  ens_status st = check_options(opt, err);
  if (st) {
    ens_net_free(net);
    return st;
  }
  ens_model *m = calloc(1, sizeof *m);
  if (!m) {
    ens_net_free(net);
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for the model");
  }
  m->net = *net;
  memset(net, 0, sizeof *net);
  m->is_random = is_random;
  m->info.weight_bytes = weight_bytes;
  m->default_threads = opt->threads;
  m->default_max_batch = opt->max_batch;
  if ((opt->precision == ENS_PRECISION_BF16 && (st = ens_net_bf16_new(&m->net, &m->bf16, err))) ||
      (st = resolve_info(m, opt, cfg, cfg_path ? cfg_path : "config.json", err)) ||
      (st = make_labels(m, opt, cfg, cfg_path ? cfg_path : "config.json", err))) {
    ens_model_free(m);
    return st;
  }
  m->info.threads = ens_threadpool_resolve_threads(opt->threads);
  *out = m;
  return ENS_OK;
}

void ens_model_free(ens_model *m)
{
  if (!m)
    return;
  ens_session_free(m->session);
  ens_net_bf16_free(m->bf16);
  ens_labels_free(&m->labels);
  ens_net_free(&m->net);
  free(m);
}

const ens_model_info *ens_model_get_info(const ens_model *m)
{
  return m ? &m->info : NULL;
}

const char *ens_model_label(const ens_model *m, int class_id)
{
  if (!m || class_id < 0 || class_id >= m->info.num_classes || class_id >= m->labels.count)
    return NULL;
  return m->labels.names[class_id];
}

int ens_model_is_random(const ens_model *m)
{
  return m ? m->is_random : 0;
}

ens_status ens_model_forward(ens_model *m, const float *input, int batch, float *logits,
                             float *features, ens_error *err)
{
  if (!m)
    return ens_fail(err, ENS_ERR_ARG, "ens_model_forward: NULL model");
  if (!input)
    return ens_fail(err, ENS_ERR_ARG, "ens_model_forward: NULL input");
  if (!m->session) {
    ens_session_options o;
    ens_session_options_init(&o);
    o.threads = m->default_threads;
    o.max_batch = m->default_max_batch;
    ens_status st = ens_session_new(m, &o, &m->session, err);
    if (st)
      return st;
    ens_session_set_debug_hook(m->session, m->hook, m->hook_user);
  }
  return ens_session_forward(m->session, input, batch, logits, features, err);
}

void ens_model_preprocess_params(const ens_model *m, ens_preprocess_params *p)
{
  memset(p, 0, sizeof *p);
  if (!m)
    return;
  p->out_height = m->info.input_height;
  p->out_width = m->info.input_width;
  p->crop_pct = m->info.crop_pct;
  p->interpolation = m->info.interpolation;
  memcpy(p->mean, m->info.mean, sizeof p->mean);
  memcpy(p->std, m->info.std, sizeof p->std);
}

void ens_model_set_debug_hook(ens_model *m, ens_net_hook hook, void *user)
{
  m->hook = hook;
  m->hook_user = user;
  if (m->session)
    ens_session_set_debug_hook(m->session, hook, user);
}

const ens_net *ens_model_net(const ens_model *m)
{
  return &m->net;
}
