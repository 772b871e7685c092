/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_graph_internal.h - the layout of ens_train_graph, shared by its source files. */
#ifndef ENS_TRAIN_GRAPH_INTERNAL_H
#define ENS_TRAIN_GRAPH_INTERNAL_H

#include "train_graph.h"
#include "train_ops.h"

typedef struct {
  char name[48]; /* "blocks.1.0.bn2" */
  int C;
  float *w, *dw, *b, *db, *rm, *rv; /* params, grads, running buffers */
  float *mean, *invstd, *var;       /* batch statistics of the last train forward */
} tg_bn;

typedef struct {
  const ens_train_block *def;
  int H, W, OH, OW; /* block input / output spatial size */
  ens_dw_shape dws;
  float *exp_w, *exp_dw;   /* IR conv_pw [mid, in] */
  float *dw_w, *dw_dw;     /* conv_dw tap-major [k*k, mid] */
  float *proj_w, *proj_dw; /* IR conv_pwl / DS conv_pw [out, mid] */
  float *ser_w, *ser_dw, *ser_b, *ser_db, *see_w, *see_dw, *see_b, *see_db;
  tg_bn bn_exp, bn_dw, bn_proj;
  /* activations: expansion at the input resolution (IR only), depthwise at the output */
  float *x_exp, *y_exp, *a_exp; /* [P_in, mid] */
  float *x_dw, *y_dw, *a_dw;    /* [P_out, mid] */
  ens_se_saved se;
  float *se_out;   /* [P_out, mid] */
  float *x_proj;   /* [P_out, out] */
  float *y_proj;   /* [P_out, out] */
  float *out;      /* [P_out, out]; == y_proj without skip */
  float *dp_mask;  /* [N] or NULL (no identity skip) */
  float drop_path; /* rate of this block */
} tg_block;

struct ens_train_graph {
  ens_train_arch arch;
  int N, H, W;
  ens_threadpool *pool;
  float *arena;
  size_t arena_floats;
  ens_param *params;
  int nparams, params_cap;
  int64_t num_batches_tracked;
  /* stem */
  int SH, SW, spt, spl;
  float *stem_w, *stem_dw;
  tg_bn bn_stem;
  float *x_in, *col, *x_stem, *y_stem, *a_stem;
  tg_block blocks[ENS_TRAIN_MAX_BLOCKS];
  /* head */
  int HH, HW;
  float *head_w, *head_dw;
  tg_bn bn_head;
  float *x_head, *y_head, *a_head, *pooled, *dropped, *drop_mask;
  float *cls_w, *cls_dw, *cls_b, *cls_db;
  float *logits, *dlogits, *dfeat;
  float *gbuf[3]; /* gradient scratch, gmax floats each */
  size_t gmax;
  ens_pw_scratch pw; /* packing scratch of the 1x1 convolutions (pwmax floats, zmax zeros) */
  size_t pwmax, zmax;
  float drop_rate, drop_path_rate;
  int masks_active; /* 0: masks are all ones */
  int last_train;
  float loss;
};

#endif
