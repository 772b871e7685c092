/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* session.c - ens_session: one caller's way to run a read-only model: its kernel table,
 * precision, thread pool (own or shared), plan and arena. Nothing here writes the model, so
 * sessions on one model run at once without locks. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "forward.h"
#include "model_internal.h"
#include "session_internal.h"

struct ens_session {
  const ens_model *model;
  const ens_kernels *kernels;
  const ens_net_bf16 *bf16; /* the model's bf16 weights when this session runs in bf16 */
  ens_threadpool *pool;
  int owns_pool;
  ens_plan plan; /* of the batch last run */
  ens_arena arena;
  ens_net_hook hook;
  void *hook_user;
};

#define MAX_BATCH 4096

void ens_session_options_init(ens_session_options *o)
{
  memset(o, 0, sizeof *o);
  o->precision = ENS_PRECISION_MODEL;
}

static ens_status check_options(const ens_session_options *o, ens_error *err)
{
  if (!o->pool && (o->threads < 0 || o->threads > 1024))
    return ens_fail(err, ENS_ERR_ARG, "session: threads %d out of range (0..1024)", o->threads);
  if (o->max_batch < 0 || o->max_batch > MAX_BATCH)
    return ens_fail(err, ENS_ERR_ARG, "session: max_batch %d out of range (0..%d)", o->max_batch,
                    MAX_BATCH);
  if (o->precision < ENS_PRECISION_F32 || o->precision > ENS_PRECISION_MODEL)
    return ens_fail(err, ENS_ERR_ARG, "session: unknown precision %d", (int)o->precision);
  return ENS_OK;
}

/* The bf16 weights a session of precision p runs with (NULL: float32). */
static ens_status pick_precision(ens_session *s, ens_precision p, ens_error *err)
{
  const ens_model *m = s->model;
  if (p == ENS_PRECISION_MODEL)
    p = m->bf16 ? ENS_PRECISION_BF16 : ENS_PRECISION_F32;
  if (p == ENS_PRECISION_F32)
    return ENS_OK;
  if (!m->bf16)
    return ens_fail(err, ENS_ERR_ARG,
                    "session: bf16 precision needs a model loaded with precision bf16 (its 1x1 "
                    "weights are packed once, at load)");
  if (!s->kernels->pointwise_bf16)
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "session: the %s kernels have no bf16 kernel",
                    s->kernels->name);
  s->bf16 = m->bf16;
  return ENS_OK;
}

static ens_status plan_batch(ens_session *s, int batch, ens_error *err)
{
  const ens_model_info *in = &s->model->info;
  ens_status st = ens_plan_make(&s->plan, &s->model->net, batch, in->input_height, in->input_width,
                                ens_threadpool_threads(s->pool), s->bf16 != NULL, err);
  return st ? st : ens_arena_reserve(&s->arena, &s->plan, err);
}

ens_status ens_session_new(const ens_model *m, const ens_session_options *opt, ens_session **out,
                           ens_error *err)
{
  if (!out)
    return ens_fail(err, ENS_ERR_ARG, "ens_session_new: NULL out");
  *out = NULL;
  if (!m)
    return ens_fail(err, ENS_ERR_ARG, "ens_session_new: NULL model");
  ens_session_options defaults;
  if (!opt) {
    ens_session_options_init(&defaults);
    opt = &defaults;
  }
  ens_status st = check_options(opt, err);
  if (st)
    return st;
  ens_session *s = calloc(1, sizeof *s);
  if (!s)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for a session");
  s->model = m;
  s->kernels = ens_kernels_get();
  s->pool = opt->pool;
  if (!s->pool) {
    s->owns_pool = 1;
    st = ens_threadpool_new(opt->threads, &s->pool, err);
  }
  if (st || (st = pick_precision(s, opt->precision, err)) ||
      (st = plan_batch(s, opt->max_batch > 0 ? opt->max_batch : 1, err))) {
    ens_session_free(s);
    return st;
  }
  *out = s;
  return ENS_OK;
}

void ens_session_free(ens_session *s)
{
  if (!s)
    return;
  if (s->owns_pool)
    ens_threadpool_free(s->pool);
  ens_arena_free(&s->arena);
  ens_plan_free(&s->plan);
  free(s);
}

int ens_session_threads(const ens_session *s)
{
  return s ? ens_threadpool_threads(s->pool) : 0;
}

ens_status ens_session_map_info(const ens_session *s, int i, ens_map_info *out, ens_error *err)
{
  if (!s || !out || i < 0 || i > ENS_FEATURE_MAPS)
    return ens_fail(err, ENS_ERR_ARG, "ens_session_map_info: map %d out of range (0..%d)", i,
                    ENS_FEATURE_MAPS);
  const ens_plan *p = &s->plan;
  const ens_net *net = &s->model->net;
  memset(out, 0, sizeof *out);
  if (i == ENS_FEATURE_MAPS) {
    *out = (ens_map_info){.channels = net->head_chs, .height = p->head_h, .width = p->head_w};
    snprintf(out->name, sizeof out->name, "head");
    out->stride = p->num_blocks ? p->blocks[p->num_blocks - 1].stride : 2;
    return ENS_OK;
  }
  const int b = p->map_block[i];
  if (b < 0)
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "ens_session_map_info: this network has no map %d",
                    i);
  const ens_block_plan *bp = &p->blocks[b];
  *out = (ens_map_info){
      .channels = net->blocks[b].out_chs, .height = bp->oh, .width = bp->ow, .stride = bp->stride};
  snprintf(out->name, sizeof out->name, "blocks.%d", net->blocks[b].stage);
  return ENS_OK;
}

ens_status ens_session_run(ens_session *s, const float *input, int batch, const ens_outputs *out,
                           ens_error *err)
{
  if (!s || !input)
    return ens_fail(err, ENS_ERR_ARG, "forward: NULL %s", s ? "input" : "session");
  if (batch < 1 || batch > MAX_BATCH)
    return ens_fail(err, ENS_ERR_ARG, "forward: batch %d out of range (1..%d)", batch, MAX_BATCH);
  const ens_model_info *in = &s->model->info;
  /* kernels index rows with int: batch x the stem's output pixels must fit */
  const long long stem_pixels = (long long)((in->input_height + 1) / 2) *
                                ((in->input_width + 1) / 2) * s->model->net.stem_chs;
  if ((long long)batch * stem_pixels > INT_MAX)
    return ens_fail(err, ENS_ERR_ARG, "forward: batch %d of %dx%d images is too large for one call",
                    batch, in->input_width, in->input_height);
  if (batch != s->plan.batch) {
    ens_status st = plan_batch(s, batch, err);
    if (st)
      return st;
  }
  const ens_exec x = {.net = &s->model->net,
                      .kernels = s->kernels,
                      .bf16 = s->bf16,
                      .pool = s->pool,
                      .arena = &s->arena,
                      .plan = &s->plan,
                      .hook = s->hook,
                      .hook_user = s->hook_user};
  ens_net_forward(&x, input, out);
  return ENS_OK;
}

ens_status ens_session_forward(ens_session *s, const float *input, int batch, float *logits,
                               float *features, ens_error *err)
{
  const ens_outputs out = {.logits = logits, .features = features};
  return ens_session_run(s, input, batch, &out, err);
}

void ens_session_set_debug_hook(ens_session *s, ens_net_hook hook, void *user)
{
  s->hook = hook;
  s->hook_user = user;
}

size_t ens_session_arena_bytes(const ens_session *s)
{
  return sizeof(float) * s->arena.floats;
}

void ens_session_front(const ens_session *s, int *blocks, int *chunk)
{
  *blocks = s->plan.front_blocks;
  *chunk = s->plan.front_chunk;
}
