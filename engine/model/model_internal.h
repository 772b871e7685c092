/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model_internal.h - the model object shared by model.c, model_load.c, random_weights.c and
 * the tests (internal). */
#ifndef ENS_MODEL_INTERNAL_H
#define ENS_MODEL_INTERNAL_H

#include "config_json.h"
#include "labels.h"
#include "net.h"
#include "safetensors.h"

/* Read-only once created: sessions (engine/infer/session.c) only read it. The default session
 * is ens_model_forward()'s, made at its first call. */
struct ens_model {
  ens_model_info info;
  ens_net net;
  ens_labels labels;
  int is_random;
  struct ens_net_bf16 *bf16; /* loaded with ENS_PRECISION_BF16: packed 1x1 weights (net_bf16.h) */
  int default_threads, default_max_batch; /* the load options' */
  ens_session *session;                   /* ens_model_forward()'s, or NULL */
  ens_net_hook hook;
  void *hook_user;
};

/* Takes ownership of a built net: resolves options against the variant's pretrained cfg
 * (and the hub config when not NULL; cfg_path names it in errors), loads labels and packs the
 * bf16 weights when asked. On failure frees everything (including net) and returns the error. */
ens_status ens_model_create(ens_net *net, const ens_options *opt, const ens_hub_config *cfg,
                            const char *cfg_path, size_t weight_bytes, int is_random,
                            ens_model **out, ens_error *err);

/* The variant of a timm state dict from its tensor shapes alone (conv_stem and conv_head
 * widths, blocks per stage), and its class count (classifier.weight rows). Reads no weights.
 * Seven stages that match none of b0..b7, l2: *v = NULL and dims read from the shapes
 * (variant_custom.h), a custom width / depth. ENS_ERR_MODEL naming what was found when the
 * shapes are not a tf_efficientnet. */
ens_status ens_model_detect(const ens_safetensors *st, const char *path, const ens_variant_def **v,
                            ens_variant_dims *dims, int *num_classes, ens_error *err);

/* Tests: observe every intermediate of the next ens_model_forward() calls (NULL to stop). */
void ens_model_set_debug_hook(ens_model *m, ens_net_hook hook, void *user);

/* The internal network (read-only), e.g. to compare folded weights. */
const ens_net *ens_model_net(const ens_model *m);

#endif
