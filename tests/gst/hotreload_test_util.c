/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hotreload_test_util.c - the models and the probed pipeline of the hot-reload tests (see
 * hotreload_test_util.h). */
#include "hotreload_test_util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ens_test.h"

TestModel hr_models[N_MODELS] = {
    {NULL, 10, 64, NULL, NULL},
    {NULL, 1000, 80, NULL, NULL},
    {NULL, 10, 72, NULL, NULL},
};

/* ------------------------------------------------------------------ models */

void hr_die(const gchar *what)
{
  g_printerr("FAIL: %s\n", what);
  exit(1);
}

/* A hub directory: model.safetensors (a link to weights) + config.json naming the tag and the
 * input size, so the element (input-size unset) uses each model's own size. */
static gchar *make_hub(const gchar *weights, const TestModel *m, const gchar *dir_prefix)
{
  gchar *dir = g_strdup_printf("%s/%s-%s", ens_test_gen_dir(), dir_prefix, m->tag);
  if (g_mkdir_with_parents(dir, 0755) != 0)
    hr_die(dir);
  gchar *st = g_build_filename(dir, "model.safetensors", NULL);
  g_unlink(st);
  if (symlink(weights, st) != 0)
    hr_die(st);
  gchar *cfg =
      g_strdup_printf("{\"architecture\": \"tf_efficientnet_b0\", \"num_classes\": %d, "
                      "\"pretrained_cfg\": {\"tag\": \"%s\", \"input_size\": [3, %d, %d]}}",
                      m->num_classes, m->tag, m->size, m->size);
  gchar *cfg_path = g_build_filename(dir, "config.json", NULL);
  if (!g_file_set_contents(cfg_path, cfg, -1, NULL)) /* atomic: temp file + rename */
    hr_die(cfg_path);
  g_free(cfg_path);
  g_free(cfg);
  g_free(st);
  return dir;
}

gchar *hr_make_models(const gchar *tag_prefix, const gchar *dir_prefix)
{
  char *nc10 = ens_test_weights("b0", "--num-classes 10", "b0_nc10");
  char *nc1000 = ens_test_weights("b0", NULL, "b0");
  for (int i = 0; i < N_MODELS; i++) {
    hr_models[i].tag = g_strdup_printf("%s_%c", tag_prefix, 'a' + i);
    hr_models[i].path =
        make_hub(hr_models[i].num_classes == 10 ? nc10 : nc1000, &hr_models[i], dir_prefix);
    hr_models[i].name = g_strdup_printf("tf_efficientnet_b0.%s", hr_models[i].tag);
  }
  free(nc10);
  free(nc1000);
  gchar *corrupt_name = g_strdup_printf("%s-corrupt.safetensors", dir_prefix);
  gchar *corrupt_path = g_build_filename(ens_test_gen_dir(), corrupt_name, NULL);
  g_free(corrupt_name);
  if (!g_file_set_contents(corrupt_path, "\x20\x00\x00\x00\x00\x00\x00\x00{not json", 18, NULL))
    hr_die(corrupt_path);
  return corrupt_path;
}

ens_model *hr_load_reference(int mi)
{
  ens_options opt;
  ens_options_init(&opt);
  opt.threads = TEST_THREADS;
  ens_error err;
  ens_model *m = NULL;
  fail_unless(ens_model_load(hr_models[mi].path, &opt, &m, &err) == ENS_OK, "%s", err.message);
  const ens_model_info *info = ens_model_get_info(m);
  fail_unless_equals_string(info->name, hr_models[mi].name);
  fail_unless_equals_int(info->num_classes, hr_models[mi].num_classes);
  fail_unless_equals_int(info->input_height, hr_models[mi].size);
  return m;
}

int hr_model_named(const gchar *name)
{
  for (int i = 0; i < N_MODELS; i++)
    if (g_strcmp0(name, hr_models[i].name) == 0)
      return i;
  fail("result of an unknown model \"%s\"", name ? name : "(null)");
  return -1;
}

/* ------------------------------------------------------------------ bus messages */

gboolean hr_swap_log_message(HrSwapLog *log, GstMessage *msg, const gchar *who)
{
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error(msg, &e, NULL);
    fail("error message%s%s: %s", who ? " from " : "", who ? who : "", e->message);
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
    GError *e = NULL;
    gst_message_parse_warning(msg, &e, NULL);
    GST_INFO("warning: %s", e->message);
    g_free(log->warning);
    log->warning = g_strdup(e->message);
    log->warnings++;
    g_error_free(e);
    return TRUE;
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT) {
    const GstStructure *s = gst_message_get_structure(msg);
    if (!gst_structure_has_name(s, "ens-model-swapped"))
      return FALSE;
    log->swapped++;
    g_free(log->swapped_new);
    g_free(log->swapped_old);
    log->swapped_new = g_strdup(gst_structure_get_string(s, "new"));
    log->swapped_old = g_strdup(gst_structure_get_string(s, "old"));
    if (log->check_swapped_model)
      fail_unless(gst_structure_get_int(s, "num-classes", &log->swapped_classes));
    gdouble ms = -1;
    fail_unless(gst_structure_get_double(s, "load-ms", &ms) && ms > 0.0);
    int mi = hr_model_named(gst_structure_get_string(s, "new-name"));
    if (log->check_swapped_model) {
      fail_unless_equals_string(log->swapped_new, hr_models[mi].path);
      fail_unless_equals_int(log->swapped_classes, hr_models[mi].num_classes);
    }
    hr_model_named(gst_structure_get_string(s, "old-name"));
    return TRUE;
  }
  return FALSE;
}

void hr_swap_log_clear(HrSwapLog *log)
{
  g_free(log->swapped_new);
  g_free(log->swapped_old);
  g_free(log->warning);
  memset(log, 0, sizeof *log);
}

/* ------------------------------------------------------------------ probed pipeline */

static GstPadProbeReturn count_in(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  (void)info;
  HrProbeArg *a = data;
  g_mutex_lock(&a->pl->lock);
  a->pl->in[a->stream]++;
  g_mutex_unlock(&a->pl->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn watch_out(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  HrProbeArg *a = data;
  HrPipeline *p = a->pl;
  GstEnsClassificationMeta *m =
      gst_buffer_get_ens_classification_meta(GST_PAD_PROBE_INFO_BUFFER(info));
  int mi = -2;
  gboolean bad = FALSE;
  if (m) {
    mi = g_strcmp0(m->model_name, hr_models[MA].name) == 0   ? MA
         : g_strcmp0(m->model_name, hr_models[MB].name) == 0 ? MB
                                                             : -1;
    bad = mi < 0;
    if (p->check_entries) {
      bad = bad || m->n_entries != 5;
      for (guint i = 0; !bad && i < m->n_entries; i++)
        bad = m->entries[i].class_id < 0 || m->entries[i].class_id >= hr_models[mi].num_classes;
    }
  }
  g_mutex_lock(&p->lock);
  p->out[a->stream]++;
  if (bad)
    p->bad++;
  else if (mi >= 0) {
    if (p->last[a->stream] >= 0 && mi != p->last[a->stream])
      p->switches[a->stream]++;
    p->last[a->stream] = mi;
  }
  g_cond_broadcast(&p->cond);
  g_mutex_unlock(&p->lock);
  return GST_PAD_PROBE_OK;
}

HrPipeline *hr_pipeline_start(const gchar *desc, int n, gboolean check_entries)
{
  g_assert(n > 0 && n <= HR_MAX_STREAMS);
  HrPipeline *pl = g_new0(HrPipeline, 1);
  GError *error = NULL;
  pl->pipe = gst_parse_launch(desc, &error);
  fail_unless(pl->pipe != NULL, "%s", error ? error->message : "");
  pl->n = n;
  pl->check_entries = check_entries;
  g_mutex_init(&pl->lock);
  g_cond_init(&pl->cond);
  for (int i = 0; i < n; i++) {
    pl->last[i] = -1;
    gchar *name = g_strdup_printf("c%d", i);
    pl->c[i] = gst_bin_get_by_name(GST_BIN(pl->pipe), name);
    fail_unless(pl->c[i] != NULL, "no element %s", name);
    g_free(name);
    pl->args[i] = (HrProbeArg){pl, i};
    GstPad *sink = gst_element_get_static_pad(pl->c[i], "sink");
    GstPad *src = gst_element_get_static_pad(pl->c[i], "src");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, count_in, &pl->args[i], NULL);
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, watch_out, &pl->args[i], NULL);
    gst_object_unref(sink);
    gst_object_unref(src);
  }
  pl->bus = gst_element_get_bus(pl->pipe);
  fail_unless(gst_element_set_state(pl->pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  return pl;
}

void hr_pipeline_swap(HrPipeline *pl, guint s, int target)
{
  g_object_set(pl->c[s % pl->n], "model", hr_models[target].path, NULL);
  gint64 end = g_get_monotonic_time() + HR_WAIT_S * G_USEC_PER_SEC;
  /* a swap message from every element */
  for (;;) {
    gboolean all = TRUE;
    for (int i = 0; i < pl->n; i++)
      all &= pl->swapped[i] >= s + 1;
    if (all)
      break;
    GstMessage *msg = gst_bus_timed_pop_filtered(
        pl->bus, 100 * GST_MSECOND, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
    if (msg) {
      fail_if(GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ELEMENT, "error / warning on the bus");
      if (gst_structure_has_name(gst_message_get_structure(msg), "ens-model-swapped"))
        for (int i = 0; i < pl->n; i++)
          if (GST_MESSAGE_SRC(msg) == GST_OBJECT(pl->c[i]))
            pl->swapped[i]++;
      gst_message_unref(msg);
    }
    fail_unless(g_get_monotonic_time() < end, "swap %u: not every element swapped", s);
  }
  /* then a buffer with a result of the new model out of every element */
  g_mutex_lock(&pl->lock);
  gboolean ok = TRUE;
  for (int i = 0; i < pl->n && ok; i++) {
    while (pl->last[i] != target && g_get_monotonic_time() < end)
      g_cond_wait_until(&pl->cond, &pl->lock, end);
    ok = pl->last[i] == target;
  }
  g_mutex_unlock(&pl->lock);
  fail_unless(ok, "swap %u: not every element gave a result of %s", s, hr_models[target].tag);
}

void hr_pipeline_eos(HrPipeline *pl)
{
  gst_element_send_event(pl->pipe, gst_event_new_eos());
  GstMessage *msg = gst_bus_timed_pop_filtered(pl->bus, HR_WAIT_S * GST_SECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless(msg != NULL && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS);
  gst_message_unref(msg);
}

void hr_pipeline_stop(HrPipeline *pl)
{
  fail_unless_equals_int(gst_element_set_state(pl->pipe, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
}

void hr_pipeline_free(HrPipeline *pl)
{
  for (int i = 0; i < pl->n; i++)
    gst_object_unref(pl->c[i]);
  gst_object_unref(pl->bus);
  gst_object_unref(pl->pipe);
  g_mutex_clear(&pl->lock);
  g_cond_clear(&pl->cond);
  g_free(pl);
}
