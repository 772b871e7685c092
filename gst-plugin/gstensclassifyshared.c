/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensclassifyshared.c - ensclassify's model-instance-id sharing and cross-stream batching:
 * properties, statistics, join / leave. See gstensclassifyshared.h and ensshared.h. */
#include "gstensclassifyshared.h"

#include "ensshared.h"
#include "gstensclassifyreloadshared.h"

GST_DEBUG_CATEGORY_STATIC(ens_classify_shared_debug);
#define GST_CAT_DEFAULT ens_classify_shared_debug

#define DEFAULT_BATCH_SIZE 1
/* 0: a batch is whatever is queued when the engine is free (it fills while the engine is busy),
 * so an idle engine never waits; as Triton's dynamic batcher's default queue delay. */
#define DEFAULT_BATCH_TIMEOUT_MS 0
#define MAX_BATCH_SIZE 64

enum {
  PROP_INSTANCE_ID = GST_ENS_CLASSIFY_SHARED_PROP_BASE,
  PROP_BATCH_SIZE,
  PROP_BATCH_TIMEOUT,
  PROP_SHARED_LOADS,
  PROP_SHARED_USERS,
  PROP_SHARED_BATCHES,
  PROP_SHARED_FRAMES,
  PROP_SHARED_MEAN_BATCH,
  PROP_SHARED_MAX_BATCH,
  PROP_SHARED_TIMEOUTS,
  PROP_SHARED_QUEUE_WAIT,
  PROP_SHARED_FORWARD,
};

void gst_ens_classify_shared_install_properties(GObjectClass *klass)
{
  GST_DEBUG_CATEGORY_INIT(ens_classify_shared_debug, "ensclassifyshared", 0,
                          "ensclassify model sharing and batching");
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  g_object_class_install_property(
      klass, PROP_INSTANCE_ID,
      g_param_spec_string("model-instance-id", "Model instance id",
                          "Elements of this process with the same id share one loaded model, one "
                          "thread pool and one batching thread (model, labels, precision, "
                          "input-size and threads must agree; setting model or labels on one "
                          "reloads it for all); empty = a model of its own",
                          NULL, rw));
  g_object_class_install_property(
      klass, PROP_BATCH_SIZE,
      g_param_spec_uint("batch-size", "Batch size",
                        "With model-instance-id: frames of all streams run in one forward pass "
                        "(the first element to start the shared model sets it)",
                        1, MAX_BATCH_SIZE, DEFAULT_BATCH_SIZE, rw));
  g_object_class_install_property(
      klass, PROP_BATCH_TIMEOUT,
      g_param_spec_uint("batch-timeout", "Batch timeout (ms)",
                        "With model-instance-id: a partial batch runs this long after its oldest "
                        "frame was queued; 0 = run what is queued at once, batches fill while "
                        "the engine is busy (the first element to start the shared model sets it)",
                        0, 10000, DEFAULT_BATCH_TIMEOUT_MS, rw));
  g_object_class_install_property(
      klass, PROP_SHARED_LOADS,
      g_param_spec_uint64("shared-loads", "Shared model loads",
                          "Models loaded for model-instance-ids in this process so far", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(klass, PROP_SHARED_USERS,
                                  g_param_spec_uint("shared-users", "Shared model users",
                                                    "Elements using this element's shared model", 0,
                                                    G_MAXUINT, 0, ro));
  g_object_class_install_property(
      klass, PROP_SHARED_BATCHES,
      g_param_spec_uint64("shared-batches", "Shared batches",
                          "Forward passes run by the shared model (all its streams)", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      klass, PROP_SHARED_FRAMES,
      g_param_spec_uint64("shared-frames", "Shared frames",
                          "Frames run by the shared model (all its streams)", 0, G_MAXUINT64, 0,
                          ro));
  g_object_class_install_property(
      klass, PROP_SHARED_MEAN_BATCH,
      g_param_spec_double("shared-mean-batch", "Shared mean batch",
                          "Mean frames per forward pass of the shared model", 0.0, G_MAXDOUBLE, 0.0,
                          ro));
  g_object_class_install_property(
      klass, PROP_SHARED_MAX_BATCH,
      g_param_spec_uint("shared-max-batch", "Shared largest batch",
                        "Most frames in one forward pass of the shared model", 0, G_MAXUINT, 0,
                        ro));
  g_object_class_install_property(
      klass, PROP_SHARED_TIMEOUTS,
      g_param_spec_uint64("shared-timeouts", "Shared partial batches",
                          "Batches run partial because batch-timeout passed", 0, G_MAXUINT64, 0,
                          ro));
  g_object_class_install_property(
      klass, PROP_SHARED_QUEUE_WAIT,
      g_param_spec_double("shared-mean-queue-wait-ms", "Shared mean queue wait (ms)",
                          "Mean time a frame waited for its batch to start", 0.0, G_MAXDOUBLE, 0.0,
                          ro));
  g_object_class_install_property(
      klass, PROP_SHARED_FORWARD,
      g_param_spec_double("shared-mean-forward-ms", "Shared mean forward (ms)",
                          "Mean time of one batched forward pass", 0.0, G_MAXDOUBLE, 0.0, ro));
}

void gst_ens_classify_shared_init(GstEnsClassify *self)
{
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->batch_timeout_ms = DEFAULT_BATCH_TIMEOUT_MS;
}

void gst_ens_classify_shared_finalize(GstEnsClassify *self)
{
  gst_ens_classify_shared_leave(self);
  g_free(self->instance_id);
}

gboolean gst_ens_classify_shared_set_property(GstEnsClassify *self, guint prop_id,
                                              const GValue *value, GParamSpec *pspec)
{
  if (prop_id < PROP_INSTANCE_ID || prop_id > PROP_BATCH_TIMEOUT)
    return prop_id >= PROP_INSTANCE_ID; /* read-only ones: GObject never calls set */
  GST_OBJECT_LOCK(self);
  if (self->model_in_use) {
    GST_OBJECT_UNLOCK(self);
    g_warning("%s: property \"%s\" can only be changed in the NULL or READY state; the change is "
              "ignored and the value in use is kept",
              GST_ELEMENT_NAME(self), pspec->name);
    return TRUE;
  }
  switch (prop_id) {
    case PROP_INSTANCE_ID:
      g_free(self->instance_id);
      self->instance_id = g_value_dup_string(value);
      break;
    case PROP_BATCH_SIZE:
      self->batch_size = g_value_get_uint(value);
      break;
    default:
      self->batch_timeout_ms = g_value_get_uint(value);
      break;
  }
  GST_OBJECT_UNLOCK(self);
  return TRUE;
}

gboolean gst_ens_classify_shared_get_property(GstEnsClassify *self, guint prop_id, GValue *value)
{
  if (prop_id < PROP_INSTANCE_ID)
    return FALSE;
  if (prop_id == PROP_SHARED_LOADS) {
    g_value_set_uint64(value, gst_ens_shared_loads_total());
    return TRUE;
  }
  GstEnsSharedStats st = {0};
  GST_OBJECT_LOCK(self);
  /* under the object lock: leave() clears the pointer under it before releasing */
  if (self->shared)
    gst_ens_shared_get_stats(self->shared, &st);
  switch (prop_id) {
    case PROP_INSTANCE_ID:
      g_value_set_string(value, self->instance_id);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint(value, self->batch_size);
      break;
    case PROP_BATCH_TIMEOUT:
      g_value_set_uint(value, self->batch_timeout_ms);
      break;
    case PROP_SHARED_USERS:
      g_value_set_uint(value, st.users);
      break;
    case PROP_SHARED_BATCHES:
      g_value_set_uint64(value, st.batches);
      break;
    case PROP_SHARED_FRAMES:
      g_value_set_uint64(value, st.frames);
      break;
    case PROP_SHARED_MEAN_BATCH:
      g_value_set_double(value, st.batches ? (gdouble)st.frames / (gdouble)st.batches : 0.0);
      break;
    case PROP_SHARED_MAX_BATCH:
      g_value_set_uint(value, st.max_batch);
      break;
    case PROP_SHARED_TIMEOUTS:
      g_value_set_uint64(value, st.timeouts);
      break;
    case PROP_SHARED_QUEUE_WAIT:
      g_value_set_double(value, st.frames ? st.queue_wait_ms / (gdouble)st.frames : 0.0);
      break;
    case PROP_SHARED_FORWARD:
      g_value_set_double(value, st.batches ? st.forward_ms / (gdouble)st.batches : 0.0);
      break;
    default:
      break;
  }
  GST_OBJECT_UNLOCK(self);
  return TRUE;
}

gboolean gst_ens_classify_shared_wanted(GstEnsClassify *self)
{
  GST_OBJECT_LOCK(self);
  gboolean wanted = self->instance_id && *self->instance_id;
  GST_OBJECT_UNLOCK(self);
  return wanted;
}

GstEnsModel *gst_ens_classify_shared_join(GstEnsClassify *self, const gchar *path,
                                          const ens_options *opt, ens_error *err)
{
  GST_OBJECT_LOCK(self);
  gchar *id = g_strdup(self->instance_id);
  GstEnsSharedConfig cfg = {
      .model_path = path,
      .labels_path = opt->labels_path,
      .precision = opt->precision,
      .input_height = (guint)opt->input_height,
      .input_width = (guint)opt->input_width,
      .threads = (guint)opt->threads,
      .batch_size = self->batch_size,
      .batch_timeout_ms = self->batch_timeout_ms,
  };
  GST_OBJECT_UNLOCK(self);

  GstEnsSharedStatus status;
  gchar *msg = NULL;
  GstEnsShared *shared = gst_ens_shared_acquire(
      id, &cfg, G_OBJECT(self), gst_ens_classify_shared_follow_cb, &status, &msg, err);
  if (!shared) {
    if (status == GST_ENS_SHARED_MISMATCH)
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", msg),
                        ("every ensclassify with one model-instance-id must load the same model: "
                         "give this one another id or the same properties"));
    else if (status == GST_ENS_SHARED_RESOURCES)
      GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Could not start the shared model"), ("%s", msg));
    if (status != GST_ENS_SHARED_LOAD)
      err->code = ENS_OK;
    g_free(msg);
    g_free(id);
    return NULL;
  }
  GstEnsSharedStats st;
  gst_ens_shared_get_stats(shared, &st);
  if (st.batch_size != MAX(cfg.batch_size, 1) || st.batch_timeout_ms != cfg.batch_timeout_ms)
    GST_WARNING_OBJECT(self,
                       "model-instance-id \"%s\" batches %u frames / %u ms (set by the first "
                       "element), not this element's %u / %u",
                       id, st.batch_size, st.batch_timeout_ms, cfg.batch_size,
                       cfg.batch_timeout_ms);
  GST_INFO_OBJECT(self, "joined shared model \"%s\" (%u users)", id, st.users);
  g_free(id);
  GST_OBJECT_LOCK(self);
  self->shared = shared;
  GST_OBJECT_UNLOCK(self);
  gst_ens_worker_set_forward(self->worker, gst_ens_shared_forward, shared);
  return gst_ens_shared_current(shared, NULL);
}

void gst_ens_classify_shared_leave(GstEnsClassify *self)
{
  GST_OBJECT_LOCK(self);
  GstEnsShared *shared = self->shared;
  self->shared = NULL;
  GST_OBJECT_UNLOCK(self);
  if (!shared)
    return; /* also at finalize, where the worker is already freed */
  gst_ens_worker_set_forward(self->worker, NULL, NULL);
  gst_ens_shared_release(shared, G_OBJECT(self));
}
