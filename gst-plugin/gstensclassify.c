/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensclassify.c - ensclassify: classifies video frames (or detector ROIs) with libens and
 * attaches GstEnsClassificationMeta (+ GstVideoRegionOfInterestMeta params) to buffers.
 *
 * In place and pixel-read-only. A worker thread (ensworker.c) runs the forward passes:
 *  - sync: each scheduled frame waits for its own result before it is pushed;
 *  - async: the streaming thread only copies the scheduled frame's pixels into a recycled job
 *    in the worker's single pending slot (replacing an older pending frame; ~0.2 ms for a 720p
 *    I420 frame) and never waits for preprocessing or inference, which the worker runs; every
 *    buffer carries the most recent completed result (fresh=FALSE, with its source PTS).
 *  - sync: the worker preprocesses straight from the mapped frame while the streaming thread
 *    waits.
 * At EOS, async mode waits (bounded) for the frame in flight / pending so its element message
 * is posted (with after-eos) and the stats are final; its result cannot be attached (every
 * buffer has been pushed).
 * Sync mode handles downstream QoS: a late scheduled frame skips inference and carries the last
 * result. Async mode with max-latency lets a frame wait (bounded, declared in the LATENCY query)
 * for its own result. Non-finite logits give no result (one warning message, then a count).
 *
 * With model-instance-id set, the model is the shared engine's and the worker's forward passes
 * are batched there with other streams' (gstensclassifyshared.c, ensshared.c); a hot reload on
 * any element of the id reloads it for all (gstensclassifyreloadshared.c).
 *
 * Debug: the environment variable ENS_DEBUG_INFER_DELAY_MS (read in start) makes the worker
 * sleep that many milliseconds per inference, to test async behaviour with a slow model;
 * ENS_DEBUG_INFER_FAIL_AFTER=N makes every forward pass after the first N inferences fail in
 * the engine (to test the error path: an error message on the bus, GST_FLOW_ERROR);
 * ENS_DEBUG_LOAD_DELAY_MS makes the hot-reload loader wait that long before each load (to test
 * that frames do not wait for it and that the latest request wins).
 *
 * Hot reload: setting model / labels while running is handled in gstensclassifyreload.c; the
 * model of each result travels with it (GstEnsResult.model), so nothing here uses "the" model.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstensclassify.h"
#include "gstensclassifyshared.h"

#include <stdlib.h>
#include <string.h>

#include "ensvideoformat.h"
#include "gstensharvest.h"
#include "gstensclassifyreload.h"
#include "gstensclassifyreloadshared.h"
#include "gstensmeta.h"
#include "gstensplugin.h"
#include "gstenssize.h"

GST_DEBUG_CATEGORY_STATIC(ens_classify_debug);
#define GST_CAT_DEFAULT ens_classify_debug

#define DEFAULT_INTERVAL 1
#define DEFAULT_MODE GST_ENS_CLASSIFY_MODE_AUTO
#define DEFAULT_THREADS 0
#define DEFAULT_TOP_K 5
#define DEFAULT_THRESHOLD 0.0f
#define DEFAULT_SMOOTHING GST_ENS_SMOOTHING_NONE
#define DEFAULT_SMOOTHING_ALPHA 0.3f
#define DEFAULT_REGION GST_ENS_CLASSIFY_REGION_FULL_FRAME
#define DEFAULT_ATTACH_ROI_META TRUE
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_MAX_LATENCY_MS 0
#define DEFAULT_QOS TRUE
/* EOS in async mode waits this long for the inference in flight and the pending one. */
#define EOS_DRAIN_TIMEOUT_S 30
#define FULL_FRAME_ROI_TYPE "frame"
#define LAYER_NAME "logits"

enum {
  PROP_0,
  PROP_MODEL,
  PROP_LABELS,
  PROP_INPUT_SIZE,
  PROP_INTERVAL,
  PROP_MODE,
  PROP_THREADS,
  PROP_PRECISION,
  PROP_TOP_K,
  PROP_THRESHOLD,
  PROP_SMOOTHING,
  PROP_SMOOTHING_ALPHA,
  PROP_REGION,
  PROP_OBJECT_CLASS,
  PROP_ATTACH_ROI_META,
  PROP_POST_MESSAGES,
  PROP_MAX_LATENCY,
  PROP_FRAMES_SEEN,
  PROP_FRAMES_INFERRED,
  PROP_FRAMES_SKIPPED,
  PROP_FRAMES_REPLACED,
  PROP_MEAN_LATENCY_MS,
  PROP_FRAMES_QOS_SKIPPED,
  PROP_FRAMES_NONFINITE,
  PROP_ROIS_DROPPED,
  PROP_ROIS_CLIPPED,
  PROP_EOS_RESULTS,
  PROP_EOS_LOST,
};

#define VIDEO_CAPS                                                                                 \
  GST_VIDEO_CAPS_MAKE("{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12 }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));

#define GST_TYPE_ENS_CLASSIFY_MODE (gst_ens_classify_mode_get_type())
static GType gst_ens_classify_mode_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ENS_CLASSIFY_MODE_AUTO, "async if upstream is live, else sync", "auto"},
      {GST_ENS_CLASSIFY_MODE_ASYNC,
       "never wait for inference: buffers carry the most recent completed result", "async"},
      {GST_ENS_CLASSIFY_MODE_SYNC, "every inferred frame waits for its own result", "sync"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstEnsClassifyMode", values));
  return type;
}

#define GST_TYPE_ENS_CLASSIFY_PRECISION (gst_ens_classify_precision_get_type())
static GType gst_ens_classify_precision_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {ENS_PRECISION_F32, "float32, exact to timm", "f32"},
      {ENS_PRECISION_BF16,
       "bfloat16 1x1 convolutions with float32 accumulation (AVX512_BF16 CPUs; about 1.4x faster, "
       "logits within ~1.5 % of their range)",
       "bf16"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstEnsClassifyPrecision", values));
  return type;
}

#define GST_TYPE_ENS_CLASSIFY_SMOOTHING (gst_ens_classify_smoothing_get_type())
static GType gst_ens_classify_smoothing_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ENS_SMOOTHING_NONE, "no temporal smoothing", "none"},
      {GST_ENS_SMOOTHING_EMA,
       "exponential moving average of the class probabilities over inferred frames (full-frame "
       "only)",
       "ema"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstEnsClassifySmoothing", values));
  return type;
}

#define GST_TYPE_ENS_CLASSIFY_REGION (gst_ens_classify_region_get_type())
static GType gst_ens_classify_region_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ENS_CLASSIFY_REGION_FULL_FRAME, "classify the whole frame", "full-frame"},
      {GST_ENS_CLASSIFY_REGION_ROI_LIST,
       "classify each GstVideoRegionOfInterestMeta of the frame (see object-class)", "roi-list"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstEnsClassifyRegion", values));
  return type;
}

#define gst_ens_classify_parent_class parent_class
G_DEFINE_TYPE(GstEnsClassify, gst_ens_classify, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(ensclassify, "ensclassify", GST_RANK_NONE, GST_TYPE_ENS_CLASSIFY);

/* ------------------------------------------------------------------ model loading */

static void post_engine_error(GstEnsClassify *self, const char *what, const char *path,
                              const ens_error *err)
{
  /* Map the engine status to the closest GStreamer resource error. */
  switch (err->code) {
    case ENS_ERR_IO:
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("%s \"%s\": %s", what, path, err->message),
                        ("ens status: %s", ens_status_name(err->code)));
      break;
    case ENS_ERR_FORMAT:
    case ENS_ERR_MODEL:
      GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s \"%s\": %s", what, path, err->message),
                        ("ens status: %s", ens_status_name(err->code)));
      break;
    case ENS_ERR_NOMEM:
      GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT, ("%s \"%s\": %s", what, path, err->message),
                        ("ens status: %s", ens_status_name(err->code)));
      break;
    default:
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s \"%s\": %s", what, path, err->message),
                        ("ens status: %s", ens_status_name(err->code)));
      break;
  }
}

static void on_result(const GstEnsResult *res, gpointer user_data);
static void on_nonfinite(const GstEnsResult *res, guint64 count, gpointer user_data);

static gboolean gst_ens_classify_start(GstBaseTransform *trans)
{
  GstEnsClassify *self = GST_ENS_CLASSIFY(trans);

  GST_OBJECT_LOCK(self);
  gchar *path = g_strdup(self->model_path);
  gchar *labels = g_strdup(self->labels_path);
  ens_options opt;
  gst_ens_classify_model_options(self, &opt);
  GstEnsSmoothing smoothing = self->smoothing;
  gfloat alpha = self->smoothing_alpha;
  GST_OBJECT_UNLOCK(self);

  ens_error err = {0};
  if (!path || !*path) {
    /* No model given: the embedded default (Fashion-MNIST), found by the engine's rule. */
    char def[4096];
    if (ens_default_model_path(def, sizeof def, &err) != ENS_OK) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No model set and %s", err.message),
                        ("set the \"model\" property to a .safetensors file, a hub directory or "
                         "random:b0 .. random:l2"));
      g_free(path);
      g_free(labels);
      return FALSE;
    }
    g_free(path);
    path = g_strdup(def);
    GST_INFO_OBJECT(self, "no model set: using the default model %s", path);
  }

  GstEnsModel *model = NULL;
  ens_status st;
  if (gst_ens_classify_shared_wanted(self)) {
    /* model-instance-id: the shared engine's model in use (loaded by the first element) */
    model = gst_ens_classify_shared_join(self, path, &opt, &err);
    if (!model && err.code == ENS_OK) { /* element error already posted */
      g_free(path);
      g_free(labels);
      return FALSE;
    }
    st = model ? ENS_OK : err.code;
  } else {
    st = gst_ens_model_load(path, labels, &opt, &model, &err);
  }
  if (st != ENS_OK) {
    post_engine_error(self, "Could not load model", path, &err);
    g_free(path);
    g_free(labels);
    return FALSE;
  }
  g_free(labels);

  const ens_model_info *mi = ens_model_get_info(model->model);
  GST_INFO_OBJECT(self, "loaded %s (%s): %d classes, input %dx%d, %d threads", path, mi->name,
                  mi->num_classes, mi->input_width, mi->input_height, mi->threads);
  g_free(path);
  gst_ens_classify_reload_start(self);

  guint delay_ms = 0;
  const gchar *delay_env = g_getenv("ENS_DEBUG_INFER_DELAY_MS");
  if (delay_env && *delay_env) {
    delay_ms = (guint)strtoul(delay_env, NULL, 10);
    GST_WARNING_OBJECT(self, "ENS_DEBUG_INFER_DELAY_MS: sleeping %u ms per inference", delay_ms);
  }

  gint64 fail_after = -1;
  const gchar *fail_env = g_getenv("ENS_DEBUG_INFER_FAIL_AFTER");
  if (fail_env && *fail_env) {
    fail_after = g_ascii_strtoll(fail_env, NULL, 10);
    GST_WARNING_OBJECT(self, "ENS_DEBUG_INFER_FAIL_AFTER: inferences fail after %" G_GINT64_FORMAT,
                       fail_after);
  }

  self->mode_resolved = FALSE;
  GST_OBJECT_LOCK(self);
  self->frames_seen = self->frames_skipped = 0;
  self->qos_skipped = self->rois_dropped = self->rois_clipped = 0;
  self->eos_delivered = self->eos_lost = 0;
  self->since_schedule = 0;
  self->qos_earliest = GST_CLOCK_TIME_NONE;
  self->top_k_clamped = FALSE;
  self->model_in_use = TRUE;
  self->at_eos = FALSE;
  GST_OBJECT_UNLOCK(self);

  gst_ens_result_clear(&self->carried); /* seqs restart with the worker */
  gst_ens_worker_set_smoothing(self->worker, smoothing, alpha);
  gchar *msg = NULL;
  gboolean started = gst_ens_worker_start(self->worker, model, delay_ms, fail_after, on_result,
                                          on_nonfinite, self, &msg);
  gst_ens_model_unref(model); /* the worker holds it */
  if (!started) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Could not start the inference thread"),
                      ("%s", msg));
    g_free(msg);
    gst_ens_classify_shared_leave(self);
    GST_OBJECT_LOCK(self);
    self->model_in_use = FALSE;
    GST_OBJECT_UNLOCK(self);
    return FALSE;
  }
  /* a reload of the shared model swapped in while this element joined: catch up */
  gst_ens_classify_shared_follow(self);
  return TRUE;
}

static gboolean gst_ens_classify_stop(GstBaseTransform *trans)
{
  GstEnsClassify *self = GST_ENS_CLASSIFY(trans);
  /* No reload requests from here on; a load in progress is waited for and discarded. */
  GST_OBJECT_LOCK(self);
  self->model_in_use = FALSE;
  GST_OBJECT_UNLOCK(self);
  gst_ens_classify_reload_stop(self);
  /* Joins the worker: an inference in flight finishes before its model is freed. */
  gst_ens_worker_stop(self->worker);
  gst_ens_result_clear(&self->carried);
  /* Last: the shared engine frees its model when the last element leaves, and no job or
   * result of this element refers to it any more. */
  gst_ens_classify_shared_leave(self);
  return TRUE;
}

/* ------------------------------------------------------------------ caps */

static gboolean gst_ens_classify_set_caps(GstBaseTransform *trans, GstCaps *incaps,
                                          GstCaps *outcaps)
{
  (void)outcaps;
  GstEnsClassify *self = GST_ENS_CLASSIFY(trans);
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, incaps)) {
    GST_ERROR_OBJECT(self, "invalid caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  if (!ens_video_map_format(GST_VIDEO_INFO_FORMAT(&info), &self->pixel_format)) {
    GST_ERROR_OBJECT(self, "unsupported format in %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  self->yuv_matrix = ens_video_map_matrix(&GST_VIDEO_INFO_COLORIMETRY(&info));
  self->vinfo = info;
  /* Results computed at the old size (and the smoothing history) no longer apply. */
  gst_ens_worker_reset(self->worker);
  GST_OBJECT_LOCK(self);
  self->since_schedule = 0;
  GST_OBJECT_UNLOCK(self);
  GST_DEBUG_OBJECT(self, "caps %" GST_PTR_FORMAT, incaps);
  return TRUE;
}

/* ------------------------------------------------------------------ events */

static GstFlowReturn post_worker_error(GstEnsClassify *self);

/* Async mode at EOS: every buffer has been pushed, but the frame in flight and the pending one
 * are still inferred (bounded wait), so their element messages are posted and the statistics
 * count them (eos-results); what does not finish in time is counted (eos-lost) and warned
 * about, never dropped silently. */
static void finish_at_eos(GstEnsClassify *self)
{
  GstEnsWorker *w = self->worker;
  GstEnsWorkerStats st;
  gst_ens_worker_get_stats(w, &st);
  guint64 before = st.inferred + st.nonfinite;
  guint64 outstanding = gst_ens_worker_outstanding(w);
  if (!outstanding)
    return;
  GST_OBJECT_LOCK(self);
  self->at_eos = TRUE;
  GST_OBJECT_UNLOCK(self);
  gboolean drained =
      gst_ens_worker_drain_until(w, g_get_monotonic_time() + EOS_DRAIN_TIMEOUT_S * G_USEC_PER_SEC);
  gst_ens_worker_get_stats(w, &st);
  guint64 done = st.inferred + st.nonfinite - before;
  GST_OBJECT_LOCK(self);
  self->at_eos = FALSE;
  self->eos_delivered += done;
  if (!drained)
    self->eos_lost += outstanding > done ? outstanding - done : 0;
  GST_OBJECT_UNLOCK(self);
  GST_INFO_OBJECT(self,
                  "EOS: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                  " outstanding inferences completed after the last buffer",
                  done, outstanding);
  if (!drained)
    GST_ELEMENT_WARNING(self, STREAM, FAILED,
                        ("Inference still running %d s after end of stream; its result is lost",
                         EOS_DRAIN_TIMEOUT_S),
                        ("use a smaller model or mode=sync so every frame waits for its result"));
}

/* QoS events from downstream: remember the running time before which frames are late
 * (as GstBaseTransform computes it), so late scheduled frames skip inference. The event is
 * not handed to the base class, whose QoS handling would drop late buffers instead. */
static gboolean gst_ens_classify_src_event(GstBaseTransform *trans, GstEvent *event)
{
  GstEnsClassify *self = GST_ENS_CLASSIFY(trans);
  if (GST_EVENT_TYPE(event) != GST_EVENT_QOS)
    return GST_BASE_TRANSFORM_CLASS(parent_class)->src_event(trans, event);

  GstQOSType type;
  gdouble proportion;
  GstClockTimeDiff diff;
  GstClockTime timestamp;
  gst_event_parse_qos(event, &type, &proportion, &diff, &timestamp);
  GST_OBJECT_LOCK(self);
  if (GST_CLOCK_TIME_IS_VALID(timestamp)) {
    if (diff < 0 && (GstClockTime)(-diff) > timestamp)
      self->qos_earliest = 0;
    else
      self->qos_earliest = timestamp + diff;
  }
  GST_OBJECT_UNLOCK(self);
  GST_LOG_OBJECT(self, "QoS: timestamp %" GST_TIME_FORMAT " jitter %" G_GINT64_FORMAT " ns",
                 GST_TIME_ARGS(timestamp), diff);
  return gst_pad_push_event(GST_BASE_TRANSFORM_SINK_PAD(trans), event);
}

/* The latency query adds max-latency (async and auto mode): frames may be held that long
 * waiting for their own result, so sinks schedule them that much later. */
static gboolean answer_harvest_query(GstEnsClassify *self, GstQuery *query);

static gboolean gst_ens_classify_query(GstBaseTransform *trans, GstPadDirection direction,
                                       GstQuery *query)
{
  GstEnsClassify *self = GST_ENS_CLASSIFY(trans);
  /* ensharvest's info query: the model's preprocessing; from then on the metas carry the full
   * distribution (the harvester saves it as the teacher's soft label). */
  if (direction == GST_PAD_SRC && GST_QUERY_TYPE(query) == GST_QUERY_CUSTOM &&
      answer_harvest_query(self, query))
    return TRUE;
  gboolean ret = GST_BASE_TRANSFORM_CLASS(parent_class)->query(trans, direction, query);
  if (!ret || direction != GST_PAD_SRC || GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
    return ret;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(query, &live, &min, &max);
  GST_OBJECT_LOCK(self);
  GstClockTime add =
      self->mode == GST_ENS_CLASSIFY_MODE_SYNC ? 0 : self->max_latency_ms * GST_MSECOND;
  self->upstream_latency = min;
  GST_OBJECT_UNLOCK(self);
  if (add) {
    min += add;
    if (GST_CLOCK_TIME_IS_VALID(max))
      max += add;
    gst_query_set_latency(query, live, min, max);
    GST_DEBUG_OBJECT(self, "latency: min %" GST_TIME_FORMAT " (max-latency added)",
                     GST_TIME_ARGS(min));
  }
  return ret;
}

static gboolean gst_ens_classify_sink_event(GstBaseTransform *trans, GstEvent *event)
{
  GstEnsClassify *self = GST_ENS_CLASSIFY(trans);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START:
      /* Not serialized: may arrive while a frame is in flight. The worker discards it. */
      gst_ens_worker_reset(self->worker);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_ens_worker_reset(self->worker);
      GST_OBJECT_LOCK(self);
      self->since_schedule = 0;
      self->qos_earliest = GST_CLOCK_TIME_NONE;
      GST_OBJECT_UNLOCK(self);
      break;
    case GST_EVENT_EOS:
      if (self->async) {
        finish_at_eos(self);
        /* an inference that failed after the last buffer is still an error of the stream */
        if (post_worker_error(self) != GST_FLOW_OK) {
          gst_event_unref(event);
          return FALSE;
        }
      }
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

/* ------------------------------------------------------------------ queries */

/* ensharvest's info query: answers with the model's preprocessing and, from then on, attaches
 * the full distribution to the metas (the harvester saves it as the teacher's soft label). */
static gboolean answer_harvest_query(GstEnsClassify *self, GstQuery *query)
{
  GstStructure *s = gst_query_writable_structure(query);
  if (!self->worker || !gst_structure_has_name(s, GST_ENS_HARVEST_INFO_QUERY))
    return FALSE;
  GstEnsModel *m = gst_ens_worker_get_model(self->worker);
  if (!m)
    return FALSE;
  g_atomic_int_set(&self->want_probs, 1);
  gst_structure_set(s, "model", G_TYPE_STRING, m->name, "num-classes", G_TYPE_INT, m->num_classes,
                    "input-width", G_TYPE_INT, m->pp.out_width, "input-height", G_TYPE_INT,
                    m->pp.out_height, "crop-pct", G_TYPE_DOUBLE, (gdouble)m->pp.crop_pct,
                    "interpolation", G_TYPE_INT, (gint)m->pp.interpolation, NULL);
  gst_ens_model_unref(m);
  return TRUE;
}

/* ------------------------------------------------------------------ results */

/* top-k may exceed the class count of the model of a result (the property allows any model):
 * clamp it, logging that once per start (or swap). Caller holds the object lock. */
static guint clamp_top_k(GstEnsClassify *self, const GstEnsModel *model)
{
  guint k = self->top_k, n = (guint)MAX(model ? model->num_classes : 1, 1);
  if (k <= n)
    return k;
  if (!self->top_k_clamped) {
    self->top_k_clamped = TRUE;
    GST_DEBUG_OBJECT(self, "top-k %u is more than the model's %u classes: using %u", k, n, n);
  }
  return n;
}

/* An inference whose logits were NaN or infinite (worker thread): no result is attached or
 * posted for it. The first one is a warning message on the bus; later ones are counted in
 * frames-nonfinite (and logged). */
static void on_nonfinite(const GstEnsResult *res, guint64 count, gpointer user_data)
{
  GstEnsClassify *self = user_data;
  if (count == 1)
    GST_ELEMENT_WARNING(
        self, STREAM, DECODE,
        ("Model \"%s\" produced non-finite logits (NaN or infinity) on frame %" G_GUINT64_FORMAT
         "; no result is attached to such frames",
         res->model->name, res->frame),
        ("the weights are probably corrupt or out of range (check the .safetensors file, or "
         "re-export it); further non-finite frames are only counted in the frames-nonfinite "
         "property"));
  else
    GST_WARNING_OBJECT(
        self, "non-finite logits on frame %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " so far)",
        res->frame, count);
}

/* The classes reported for region r of res (the element message and the meta alike): the top k,
 * highest first, cut at threshold. Writes them to out (room for k; labels owned by the model)
 * and returns how many. */
static guint top_classes(GstEnsClassify *self, const GstEnsResult *res, guint r, guint k,
                         gfloat threshold, ens_class_score *out)
{
  (void)self;
  gint n = res->model->num_classes;
  int got = ens_topk(res->model->model, res->probs + (gsize)r * n, n, (int)k, out);
  guint kept = 0;
  while (kept < (guint)MAX(got, 0) && out[kept].prob >= threshold)
    kept++; /* sorted: the rest are lower */
  return kept;
}

/* Posts the element message of one completed inference (worker thread). */
static void on_result(const GstEnsResult *res, gpointer user_data)
{
  GstEnsClassify *self = user_data;
  GST_OBJECT_LOCK(self);
  gboolean post = self->post_messages;
  guint k = clamp_top_k(self, res->model);
  gfloat threshold = self->threshold;
  gboolean after_eos = self->at_eos;
  GST_OBJECT_UNLOCK(self);
  if (!post)
    return;

  ens_class_score *top = g_new(ens_class_score, MAX(k, 1));
  GValue results = G_VALUE_INIT;
  gst_value_list_init(&results, res->n_regions);
  GstStructure *first = NULL;
  for (guint r = 0; r < res->n_regions; r++) {
    const GstEnsRegion *reg = &res->regions[r];
    guint got = top_classes(self, res, r, k, threshold, top);
    GValue labels = G_VALUE_INIT, scores = G_VALUE_INIT, ids = G_VALUE_INIT;
    gst_value_array_init(&labels, got);
    gst_value_array_init(&scores, got);
    gst_value_array_init(&ids, got);
    for (guint i = 0; i < got; i++) {
      GValue v = G_VALUE_INIT;
      g_value_init(&v, G_TYPE_STRING);
      g_value_set_string(&v, top[i].label);
      gst_value_array_append_and_take_value(&labels, &v);
      g_value_init(&v, G_TYPE_FLOAT);
      g_value_set_float(&v, top[i].prob);
      gst_value_array_append_and_take_value(&scores, &v);
      g_value_init(&v, G_TYPE_INT);
      g_value_set_int(&v, top[i].id);
      gst_value_array_append_and_take_value(&ids, &v);
    }
    GstStructure *s =
        gst_structure_new("region", "x", G_TYPE_INT, reg->box.x, "y", G_TYPE_INT, reg->box.y,
                          "width", G_TYPE_INT, reg->box.width, "height", G_TYPE_INT,
                          reg->box.height, "roi-id", G_TYPE_INT, reg->roi_id, NULL);
    gst_structure_take_value(s, "labels", &labels);
    gst_structure_take_value(s, "scores", &scores);
    gst_structure_take_value(s, "class-ids", &ids);
    if (!first)
      first = gst_structure_copy(s);
    GValue sv = G_VALUE_INIT;
    g_value_init(&sv, GST_TYPE_STRUCTURE);
    g_value_take_boxed(&sv, s);
    gst_value_list_append_and_take_value(&results, &sv);
  }
  g_free(top);

  GstStructure *msg = gst_structure_new(
      "ens-classification", "timestamp", G_TYPE_UINT64, res->pts, "frame", G_TYPE_UINT64,
      res->frame, "model", G_TYPE_STRING, res->model->name, "latency-ms", G_TYPE_DOUBLE,
      (double)(res->preprocess_us + res->infer_us) / 1000.0, NULL);
  /* The first region's lists at top level: the whole answer in full-frame mode. */
  if (first) {
    gst_structure_set_value(msg, "labels", gst_structure_get_value(first, "labels"));
    gst_structure_set_value(msg, "scores", gst_structure_get_value(first, "scores"));
    gst_structure_set_value(msg, "class-ids", gst_structure_get_value(first, "class-ids"));
    gst_structure_free(first);
  }
  gst_structure_take_value(msg, "regions", &results);
  /* async EOS: the frame has left without this result; the message is where it goes */
  if (after_eos)
    gst_structure_set(msg, "after-eos", G_TYPE_BOOLEAN, TRUE, NULL);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), msg));
}

static gdouble iou(const ens_rect *a, const ens_rect *b)
{
  gint x0 = MAX(a->x, b->x), y0 = MAX(a->y, b->y);
  gint x1 = MIN(a->x + a->width, b->x + b->width), y1 = MIN(a->y + a->height, b->y + b->height);
  if (x1 <= x0 || y1 <= y0)
    return 0.0;
  gdouble inter = (gdouble)(x1 - x0) * (y1 - y0);
  gdouble uni = (gdouble)a->width * a->height + (gdouble)b->width * b->height - inter;
  return uni > 0 ? inter / uni : 0.0;
}

/* Attaches the classification of one region. roi: the ROI meta of this buffer it belongs to
 * (NULL: full frame, a new ROI meta is added when attach_roi_meta). */
static void attach_region(GstEnsClassify *self, GstBuffer *buf, const GstEnsResult *res, guint r,
                          const ens_rect *box, GstVideoRegionOfInterestMeta *roi, gboolean fresh,
                          guint k, gfloat threshold, gboolean attach_roi)
{
  ens_class_score *top = g_new(ens_class_score, MAX(k, 1));
  guint kept = top_classes(self, res, r, k, threshold, top);
  GstEnsClassEntry *entries = g_new(GstEnsClassEntry, MAX(kept, 1));
  for (guint i = 0; i < kept; i++) {
    entries[i].class_id = top[i].id;
    entries[i].label = (gchar *)top[i].label;
    entries[i].score = top[i].prob;
  }

  GstEnsClassificationMeta *m =
      gst_buffer_add_ens_classification_meta(buf, res->model->name, entries, kept);
  m->source_pts = res->pts;
  m->source_frame = res->frame;
  m->fresh = fresh;
  if (g_atomic_int_get(&self->want_probs))
    gst_ens_classification_meta_set_probs(m, res->probs + (gsize)r * res->model->num_classes,
                                          (guint)res->model->num_classes);
  m->full_frame = roi == NULL;
  m->x = box->x;
  m->y = box->y;
  m->width = box->width;
  m->height = box->height;

  m->roi_id = roi ? (gint)roi->id : -1;
  /* box is roi clipped to this buffer's frame */
  m->clipped = roi != NULL && (box->x != (gint)roi->x || box->y != (gint)roi->y ||
                               box->width != (gint)roi->w || box->height != (gint)roi->h);
  if (attach_roi) {
    GstVideoRegionOfInterestMeta *target = roi;
    if (!target)
      target = gst_buffer_add_video_region_of_interest_meta(buf, FULL_FRAME_ROI_TYPE, box->x,
                                                            box->y, box->width, box->height);
    if (kept > 0) {
      GstStructure *s = gst_structure_new(
          GST_ENS_ROI_PARAM_NAME, "label", G_TYPE_STRING, entries[0].label, "label_id", G_TYPE_INT,
          entries[0].class_id, "confidence", G_TYPE_DOUBLE, (gdouble)entries[0].score, "model_name",
          G_TYPE_STRING, res->model->name, "layer_name", G_TYPE_STRING, LAYER_NAME, "fresh",
          G_TYPE_BOOLEAN, fresh, NULL);
      gst_video_region_of_interest_meta_add_param(target, s);
    }
  }
  g_free(entries);
  g_free(top);
}

/* Attaches a result to buf. fresh: buf is the frame it was computed on. Carried ROI results go
 * to this buffer's ROI of the same type that overlaps most (IoU >= 0.5). */
static void attach_result(GstEnsClassify *self, GstBuffer *buf, const GstEnsResult *res,
                          gboolean fresh, guint k, gfloat threshold, gboolean attach_roi)
{
  gint fw = GST_VIDEO_INFO_WIDTH(&self->vinfo), fh = GST_VIDEO_INFO_HEIGHT(&self->vinfo);
  for (guint r = 0; r < res->n_regions; r++) {
    const GstEnsRegion *reg = &res->regions[r];
    if (reg->full_frame) {
      ens_rect box = {0, 0, fw, fh};
      attach_region(self, buf, res, r, &box, NULL, fresh, k, threshold, attach_roi);
      continue;
    }
    GstVideoRegionOfInterestMeta *best = NULL;
    gdouble best_iou = 0.5;
    gint index = 0;
    gpointer state = NULL;
    GstMeta *meta;
    while ((meta = gst_buffer_iterate_meta_filtered(buf, &state,
                                                    GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)meta;
      index++;
      if (fresh) {
        if (index - 1 == reg->roi_index) {
          best = roi;
          break;
        }
        continue;
      }
      if (roi->roi_type != reg->roi_type)
        continue;
      ens_rect rb = {(gint)roi->x, (gint)roi->y, (gint)roi->w, (gint)roi->h};
      gdouble v = iou(&rb, &reg->box);
      if (v >= best_iou) {
        best_iou = v;
        best = roi;
      }
    }
    if (!best)
      continue;
    /* the ROI clipped to the frame, as classified */
    gint x0 = CLAMP((gint)best->x, 0, fw), y0 = CLAMP((gint)best->y, 0, fh);
    gint x1 = CLAMP((gint)(best->x + best->w), 0, fw), y1 = CLAMP((gint)(best->y + best->h), 0, fh);
    ens_rect box = {x0, y0, x1 - x0, y1 - y0};
    if (fresh)
      box = reg->box;
    attach_region(self, buf, res, r, &box, best, fresh, k, threshold, attach_roi);
  }
}

/* ------------------------------------------------------------------ streaming */

static gboolean object_class_matches(const gchar *filter, GQuark roi_type)
{
  if (!filter || !*filter)
    return TRUE;
  const gchar *name = g_quark_to_string(roi_type);
  if (!name)
    return FALSE;
  gchar **names = g_strsplit(filter, ",", -1);
  gboolean ok = FALSE;
  for (gchar **p = names; *p && !ok; p++)
    ok = strcmp(g_strstrip(*p), name) == 0;
  g_strfreev(names);
  return ok;
}

/* Regions to classify in buf (clipped to the frame) into out (reused across frames). Empty
 * or off-frame ROIs are counted in *dropped, ROIs reaching outside the frame in *clipped. */
static void collect_regions(GstEnsClassify *self, GstBuffer *buf, GstEnsClassifyRegion mode,
                            const gchar *filter, GArray *out, guint *dropped, guint *clipped)
{
  gint w = GST_VIDEO_INFO_WIDTH(&self->vinfo), h = GST_VIDEO_INFO_HEIGHT(&self->vinfo);
  g_array_set_size(out, 0);
  if (mode == GST_ENS_CLASSIFY_REGION_FULL_FRAME) {
    GstEnsRegion r = {{0, 0, w, h}, TRUE, -1, 0, 0, FALSE};
    g_array_append_val(out, r);
    return;
  }
  gint index = 0;
  gpointer state = NULL;
  GstMeta *meta;
  while ((meta = gst_buffer_iterate_meta_filtered(buf, &state,
                                                  GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)meta;
    index++;
    if (!object_class_matches(filter, roi->roi_type))
      continue;
    /* 64-bit: x + w of a hostile meta may overflow 32 bits */
    gint64 rx0 = (gint)roi->x, ry0 = (gint)roi->y;
    gint64 rx1 = rx0 + roi->w, ry1 = ry0 + roi->h;
    gint x0 = (gint)CLAMP(rx0, 0, w), y0 = (gint)CLAMP(ry0, 0, h);
    gint x1 = (gint)CLAMP(rx1, 0, w), y1 = (gint)CLAMP(ry1, 0, h);
    if (x1 <= x0 || y1 <= y0) {
      (*dropped)++;
      GST_LOG_OBJECT(self,
                     "ROI %d (%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT " %ux%u) is empty or "
                     "outside the %dx%d frame: not classified",
                     roi->id, rx0, ry0, roi->w, roi->h, w, h);
      continue;
    }
    gboolean was_clipped = x0 != rx0 || y0 != ry0 || x1 != rx1 || y1 != ry1;
    if (was_clipped)
      (*clipped)++;
    GstEnsRegion r = {
        {x0, y0, x1 - x0, y1 - y0}, FALSE, roi->id, index - 1, roi->roi_type, was_clipped};
    g_array_append_val(out, r);
  }
}

static void resolve_mode(GstEnsClassify *self)
{
  GST_OBJECT_LOCK(self);
  GstEnsClassifyMode mode = self->mode;
  GST_OBJECT_UNLOCK(self);
  if (mode == GST_ENS_CLASSIFY_MODE_AUTO) {
    gboolean live = FALSE;
    GstQuery *q = gst_query_new_latency();
    if (gst_pad_peer_query(GST_BASE_TRANSFORM_SINK_PAD(self), q))
      gst_query_parse_latency(q, &live, NULL, NULL);
    gst_query_unref(q);
    self->async = live;
    GST_INFO_OBJECT(self, "mode auto: upstream is %slive, running %s", live ? "" : "not ",
                    live ? "async" : "sync");
  } else {
    self->async = mode == GST_ENS_CLASSIFY_MODE_ASYNC;
  }
  self->mode_resolved = TRUE;
}

static GstFlowReturn post_worker_error(GstEnsClassify *self)
{
  gchar *e = gst_ens_worker_take_error(self->worker);
  if (!e)
    return GST_FLOW_OK;
  GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Inference failed: %s", e), (NULL));
  g_free(e);
  return GST_FLOW_ERROR;
}

/* The rectangle of the frame the job's regions are preprocessed from (the union of their
 * source rectangles; whole frame if one cannot be computed: preprocessing then reports why).
 * For 4:2:0 YUV it starts on even coordinates, so chroma samples stay aligned. */
static ens_rect job_window(GstEnsJob *job, gboolean yuv420)
{
  const GstEnsResult *res = gst_ens_job_result(job);
  const gint w = res->frame_width, h = res->frame_height;
  gint x0 = w, y0 = h, x1 = 0, y1 = 0;
  for (guint i = 0; i < res->n_regions; i++) {
    const GstEnsRegion *reg = &res->regions[i];
    ens_rect r;
    ens_error err;
    if (ens_preprocess_source_rect(&res->model->pp, w, h, reg->full_frame ? NULL : &reg->box, &r,
                                   &err) != ENS_OK)
      return (ens_rect){0, 0, w, h};
    x0 = MIN(x0, r.x), y0 = MIN(y0, r.y);
    x1 = MAX(x1, r.x + r.width), y1 = MAX(y1, r.y + r.height);
  }
  if (x1 <= x0 || y1 <= y0)
    return (ens_rect){0, 0, w, h};
  if (yuv420)
    x0 &= ~1, y0 &= ~1;
  return (ens_rect){x0, y0, x1 - x0, y1 - y0};
}

/* Copies the pixels of the mapped frame the job's regions need (job_window) into the job's
 * own buffer, each plane's rows tightly packed, and points img at the copy; returns where it
 * lies in the frame. Async mode keeps ~2-3 such copies per stream: b0's center crop of a
 * 1280x720 frame reads 45 % of it. The plane geometry comes from GstVideoInfo. */
static ens_rect copy_frame_to_job(const GstVideoFrame *frame, GstEnsJob *job, ens_image *img)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  const ens_rect win =
      job_window(job, img->format == ENS_PIXEL_I420 || img->format == ENS_PIXEL_NV12);
  const guint planes = MIN(GST_VIDEO_FRAME_N_PLANES(frame), 3);
  gsize row_bytes[3], rows[3], x0[3], y0[3], total = 0;
  for (guint p = 0; p < planes; p++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component(finfo, p, comp);
    const gint ws = GST_VIDEO_FORMAT_INFO_W_SUB(finfo, comp[0]);
    const gint hs = GST_VIDEO_FORMAT_INFO_H_SUB(finfo, comp[0]);
    const gsize pstride = (gsize)GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, comp[0]);
    x0[p] = (gsize)(win.x >> ws) * pstride;
    y0[p] = (gsize)(win.y >> hs);
    row_bytes[p] = (gsize)GST_VIDEO_SUB_SCALE(ws, win.x + win.width) * pstride - x0[p];
    rows[p] = (gsize)GST_VIDEO_SUB_SCALE(hs, win.y + win.height) - y0[p];
    total += row_bytes[p] * rows[p];
  }
  guint8 *dst = gst_ens_job_pixels(job, total);
  for (guint p = 0; p < planes; p++) {
    const guint8 *s = GST_VIDEO_FRAME_PLANE_DATA(frame, p);
    const gsize s_stride = (gsize)GST_VIDEO_FRAME_PLANE_STRIDE(frame, p);
    for (gsize y = 0; y < rows[p]; y++)
      memcpy(dst + y * row_bytes[p], s + (y0[p] + y) * s_stride + x0[p], row_bytes[p]);
    img->planes[p] = dst;
    img->strides[p] = (gint)row_bytes[p];
    dst += row_bytes[p] * rows[p];
  }
  img->width = win.width;
  img->height = win.height;
  return win;
}

/* Hands the scheduled frame's regions to the worker, which preprocesses and classifies them.
 * Async: the frame's pixels are copied into a recycled job (the buffer goes downstream at
 * once); sync: the job borrows the mapped frame and this waits for its result (*own_seq). */
static GstFlowReturn submit_frame(GstEnsClassify *self, GstBuffer *buf, const GstEnsRegion *regions,
                                  guint n, guint64 frame_index, guint64 *own_seq)
{
  gint64 t0 = g_get_monotonic_time();
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &self->vinfo, buf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the video frame"), (NULL));
    return GST_FLOW_ERROR;
  }
  ens_image img = {0};
  img.format = self->pixel_format;
  img.width = GST_VIDEO_FRAME_WIDTH(&frame);
  img.height = GST_VIDEO_FRAME_HEIGHT(&frame);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame) && p < 3; p++) {
    img.planes[p] = GST_VIDEO_FRAME_PLANE_DATA(&frame, p);
    img.strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
  }
  img.yuv_matrix = self->yuv_matrix;

  GstEnsJob *job = gst_ens_worker_job_acquire(self->worker, n);
  GstEnsResult *res = gst_ens_job_result(job);
  memcpy(res->regions, regions, sizeof(GstEnsRegion) * n);
  res->pts = GST_BUFFER_PTS(buf);
  res->frame = frame_index;
  res->frame_width = img.width;
  res->frame_height = img.height;

  if (self->async) {
    const ens_rect win = copy_frame_to_job(&frame, job, &img);
    gst_ens_job_set_image(job, &img, win.x, win.y);
    gst_video_frame_unmap(&frame);
    res->preprocess_us = g_get_monotonic_time() - t0; /* the copy; the worker adds its part */
    guint64 seq = 0;
    if (gst_ens_worker_submit(self->worker, job, &seq))
      GST_LOG_OBJECT(self, "replaced a pending frame");
    GST_OBJECT_LOCK(self);
    /* only with max-latency does an async frame look for its own result */
    if (self->max_latency_ms > 0)
      *own_seq = seq;
    GST_OBJECT_UNLOCK(self);
    return GST_FLOW_OK;
  }
  gst_ens_job_set_image(job, &img, 0, 0);
  *own_seq = gst_ens_worker_run(self->worker, job);
  gst_video_frame_unmap(&frame);
  return post_worker_error(self);
}

/* Sync mode: TRUE if downstream's QoS says buf is already late, so its inference is skipped
 * (the buffer carries the last result) and a QoS message is posted, as GstBaseTransform does
 * for the buffers it drops. */
static gboolean qos_late(GstEnsClassify *self, GstBuffer *buf)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM(self);
  if (!gst_base_transform_is_qos_enabled(trans) || trans->segment.format != GST_FORMAT_TIME)
    return FALSE;
  GstClockTime ts = GST_BUFFER_PTS(buf);
  GstClockTime rt = gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, ts);
  GST_OBJECT_LOCK(self);
  GstClockTime earliest = self->qos_earliest;
  gboolean late =
      GST_CLOCK_TIME_IS_VALID(rt) && GST_CLOCK_TIME_IS_VALID(earliest) && rt <= earliest;
  guint64 processed = self->frames_seen, skipped = late ? ++self->qos_skipped : self->qos_skipped;
  GST_OBJECT_UNLOCK(self);
  if (!late)
    return FALSE;
  GST_DEBUG_OBJECT(self,
                   "skipping inference: running time %" GST_TIME_FORMAT " <= %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(rt), GST_TIME_ARGS(earliest));
  GstMessage *msg = gst_message_new_qos(
      GST_OBJECT(self), FALSE, rt, gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, ts),
      ts, GST_BUFFER_DURATION(buf));
  gst_message_set_qos_values(msg, GST_CLOCK_DIFF(rt, earliest), 1.0, 1000000);
  gst_message_set_qos_stats(msg, GST_FORMAT_BUFFERS, processed - skipped, skipped);
  gst_element_post_message(GST_ELEMENT(self), msg);
  return TRUE;
}

/* Async mode with max-latency: the g_get_monotonic_time() at which buf must leave, waiting for
 * its own result. With a running clock, that is its running time + upstream latency +
 * max-latency (the schedule declared in the LATENCY query: a frame that is already late does
 * not wait); without one (not PLAYING, or no clock), max-latency from now. */
static gint64 latency_deadline(GstEnsClassify *self, GstBuffer *buf, guint max_latency_ms)
{
  gint64 now = g_get_monotonic_time();
  gint64 fallback = now + (gint64)max_latency_ms * 1000;
  GstBaseTransform *trans = GST_BASE_TRANSFORM(self);
  if (trans->segment.format != GST_FORMAT_TIME)
    return fallback;
  GstClockTime rt =
      gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  GST_OBJECT_LOCK(self);
  gboolean playing = GST_STATE(self) == GST_STATE_PLAYING;
  GstClockTime upstream =
      GST_CLOCK_TIME_IS_VALID(self->upstream_latency) ? self->upstream_latency : 0;
  GST_OBJECT_UNLOCK(self);
  GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
  if (!clock || !GST_CLOCK_TIME_IS_VALID(rt) || !playing) {
    if (clock)
      gst_object_unref(clock);
    return fallback;
  }
  GstClockTime due = gst_element_get_base_time(GST_ELEMENT(self)) + rt + upstream +
                     (GstClockTime)max_latency_ms * GST_MSECOND;
  GstClockTimeDiff left = GST_CLOCK_DIFF(gst_clock_get_time(clock), due);
  gst_object_unref(clock);
  return now + MAX(left, 0) / 1000;
}

static GstFlowReturn gst_ens_classify_transform_ip(GstBaseTransform *trans, GstBuffer *buf)
{
  GstEnsClassify *self = GST_ENS_CLASSIFY(trans);
  GstFlowReturn ret = post_worker_error(self);
  if (ret != GST_FLOW_OK)
    return ret;
  if (!self->mode_resolved)
    resolve_mode(self);

  GST_OBJECT_LOCK(self);
  guint64 frame_index = self->frames_seen++;
  gboolean scheduled = self->since_schedule % MAX(self->interval, 1) == 0;
  self->since_schedule++;
  GstEnsClassifyRegion region_mode = self->region;
  gchar *filter = scheduled ? g_strdup(self->object_class) : NULL;
  gfloat threshold = self->threshold;
  gboolean attach_roi = self->attach_roi_meta;
  guint max_latency_ms = self->max_latency_ms;
  GST_OBJECT_UNLOCK(self);

  /* sync mode only: an async frame never waits for inference, so it is never made late by it */
  gboolean qos_skip = scheduled && !self->async && qos_late(self, buf);
  guint n = 0;
  if (scheduled && !qos_skip) {
    guint dropped = 0, clipped = 0;
    collect_regions(self, buf, region_mode, filter, self->regions, &dropped, &clipped);
    n = self->regions->len;
    if (dropped || clipped) {
      GST_OBJECT_LOCK(self);
      self->rois_dropped += dropped;
      self->rois_clipped += clipped;
      GST_OBJECT_UNLOCK(self);
    }
  }
  g_free(filter);
  if (n == 0 && !qos_skip) {
    GST_OBJECT_LOCK(self);
    self->frames_skipped++;
    GST_OBJECT_UNLOCK(self);
  }

  guint64 own_seq = 0;
  if (n > 0) {
    ret = submit_frame(self, buf, (const GstEnsRegion *)self->regions->data, n, frame_index,
                       &own_seq);
    if (ret != GST_FLOW_OK)
      return ret;
    /* async + max-latency: wait (bounded) for this frame's own result */
    if (self->async && own_seq && max_latency_ms > 0 &&
        !gst_ens_worker_wait_done(self->worker, own_seq,
                                  latency_deadline(self, buf, max_latency_ms)))
      GST_LOG_OBJECT(self, "frame %" G_GUINT64_FORMAT ": own result not ready in time",
                     frame_index);
  }

  const GstEnsResult *latest =
      gst_ens_worker_copy_latest(self->worker, &self->carried) ? &self->carried : NULL;
  gboolean fresh = latest && own_seq != 0 && latest->seq == own_seq;
  /* A sync frame whose own inference published nothing (non-finite logits) gets no result
   * rather than an older one passed off as its answer. */
  gboolean own_failed = !self->async && own_seq != 0 && !fresh;
  if (latest && !own_failed) {
    GST_OBJECT_LOCK(self);
    guint k = clamp_top_k(self, latest->model); /* the class count of the model that made it */
    GST_OBJECT_UNLOCK(self);
    attach_result(self, buf, latest, fresh, k, threshold, attach_roi);
  }
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------ properties */

/* Properties the loaded model and worker were built from. Between start() and stop() a new
 * value would only be read back, not used, so it is refused. (`model` and `labels` are not:
 * changing them while running reloads the model, see gstensclassifyreload.c.) */
static gboolean fixed_while_running(guint prop_id)
{
  switch (prop_id) {
    case PROP_INPUT_SIZE:
    case PROP_MODE:
    case PROP_THREADS:
    case PROP_PRECISION:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Refuses a change of a fixed property while the model is in use; returns TRUE if refused.
 * Takes and releases the object lock. */
static gboolean refuse_while_running(GstEnsClassify *self, guint prop_id, GParamSpec *pspec)
{
  if (!fixed_while_running(prop_id))
    return FALSE;
  GST_OBJECT_LOCK(self);
  gboolean in_use = self->model_in_use;
  GstState state = GST_STATE(self);
  GST_OBJECT_UNLOCK(self);
  if (!in_use)
    return FALSE;
  GST_WARNING_OBJECT(self,
                     "property \"%s\" can only be changed in the NULL or READY state, not %s: "
                     "change ignored, the value in use is kept",
                     pspec->name, gst_element_state_get_name(state));
  g_warning("%s: property \"%s\" can only be changed in the NULL or READY state, not %s; the "
            "change is ignored and the value in use is kept (set it before starting the "
            "pipeline, or set the element to READY first)",
            GST_ELEMENT_NAME(self), pspec->name, gst_element_state_get_name(state));
  return TRUE;
}

static void gst_ens_classify_set_property(GObject *object, guint prop_id, const GValue *value,
                                          GParamSpec *pspec)
{
  GstEnsClassify *self = GST_ENS_CLASSIFY(object);
  if (gst_ens_classify_shared_set_property(self, prop_id, value, pspec))
    return;
  if (refuse_while_running(self, prop_id, pspec))
    return;
  /* running: a hot reload, the property changes when the new model is swapped in (shared: for
   * every element of the model-instance-id) */
  if ((prop_id == PROP_MODEL || prop_id == PROP_LABELS) &&
      gst_ens_classify_reload_request(self, prop_id == PROP_LABELS, g_value_get_string(value)))
    return;
  if (prop_id == PROP_INPUT_SIZE) {
    const gchar *str = g_value_get_string(value);
    guint h, w;
    if (!gst_ens_parse_input_size(str, &h, &w)) {
      g_warning("%s: invalid input-size \"%s\": expected H or HxW (1..%d), or 0 for the model's "
                "size; keeping the current value",
                GST_ELEMENT_NAME(self), str, GST_ENS_MAX_INPUT_SIDE);
      return;
    }
    GST_OBJECT_LOCK(self);
    self->input_height = h;
    self->input_width = w;
    GST_OBJECT_UNLOCK(self);
    return;
  }
  if (prop_id == PROP_MAX_LATENCY) {
    GST_OBJECT_LOCK(self);
    gboolean changed = self->max_latency_ms != g_value_get_uint(value);
    self->max_latency_ms = g_value_get_uint(value);
    GST_OBJECT_UNLOCK(self);
    /* the declared latency changes: have the pipeline query it again */
    if (changed)
      gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
    return;
  }
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_MODEL:
      g_free(self->model_path);
      self->model_path = g_value_dup_string(value);
      break;
    case PROP_LABELS:
      g_free(self->labels_path);
      self->labels_path = g_value_dup_string(value);
      break;
    case PROP_INTERVAL:
      self->interval = g_value_get_uint(value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum(value);
      break;
    case PROP_THREADS:
      self->threads = g_value_get_uint(value);
      break;
    case PROP_PRECISION:
      self->precision = g_value_get_enum(value);
      break;
    case PROP_TOP_K:
      self->top_k = g_value_get_uint(value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_float(value);
      break;
    case PROP_SMOOTHING:
      self->smoothing = g_value_get_enum(value);
      gst_ens_worker_set_smoothing(self->worker, self->smoothing, self->smoothing_alpha);
      break;
    case PROP_SMOOTHING_ALPHA:
      self->smoothing_alpha = g_value_get_float(value);
      gst_ens_worker_set_smoothing(self->worker, self->smoothing, self->smoothing_alpha);
      break;
    case PROP_REGION:
      self->region = g_value_get_enum(value);
      break;
    case PROP_OBJECT_CLASS:
      g_free(self->object_class);
      self->object_class = g_value_dup_string(value);
      break;
    case PROP_ATTACH_ROI_META:
      self->attach_roi_meta = g_value_get_boolean(value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean(value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ens_classify_get_property(GObject *object, guint prop_id, GValue *value,
                                          GParamSpec *pspec)
{
  GstEnsClassify *self = GST_ENS_CLASSIFY(object);
  GstEnsWorkerStats st;
  if (gst_ens_classify_shared_get_property(self, prop_id, value))
    return;
  switch (prop_id) {
    case PROP_FRAMES_INFERRED:
      gst_ens_worker_get_stats(self->worker, &st);
      g_value_set_uint64(value, st.inferred);
      return;
    case PROP_FRAMES_REPLACED:
      gst_ens_worker_get_stats(self->worker, &st);
      g_value_set_uint64(value, st.replaced);
      return;
    case PROP_MEAN_LATENCY_MS:
      gst_ens_worker_get_stats(self->worker, &st);
      g_value_set_double(value, st.inferred ? st.latency_sum_ms / (gdouble)st.inferred : 0.0);
      return;
    case PROP_FRAMES_NONFINITE:
      gst_ens_worker_get_stats(self->worker, &st);
      g_value_set_uint64(value, st.nonfinite);
      return;
    default:
      break;
  }
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string(value, self->model_path);
      break;
    case PROP_LABELS:
      g_value_set_string(value, self->labels_path);
      break;
    case PROP_INPUT_SIZE:
      g_value_take_string(value, gst_ens_format_input_size(self->input_height, self->input_width));
      break;
    case PROP_INTERVAL:
      g_value_set_uint(value, self->interval);
      break;
    case PROP_MODE:
      g_value_set_enum(value, self->mode);
      break;
    case PROP_THREADS:
      g_value_set_uint(value, self->threads);
      break;
    case PROP_PRECISION:
      g_value_set_enum(value, self->precision);
      break;
    case PROP_TOP_K:
      g_value_set_uint(value, self->top_k);
      break;
    case PROP_THRESHOLD:
      g_value_set_float(value, self->threshold);
      break;
    case PROP_SMOOTHING:
      g_value_set_enum(value, self->smoothing);
      break;
    case PROP_SMOOTHING_ALPHA:
      g_value_set_float(value, self->smoothing_alpha);
      break;
    case PROP_REGION:
      g_value_set_enum(value, self->region);
      break;
    case PROP_OBJECT_CLASS:
      g_value_set_string(value, self->object_class);
      break;
    case PROP_ATTACH_ROI_META:
      g_value_set_boolean(value, self->attach_roi_meta);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean(value, self->post_messages);
      break;
    case PROP_FRAMES_SEEN:
      g_value_set_uint64(value, self->frames_seen);
      break;
    case PROP_FRAMES_SKIPPED:
      g_value_set_uint64(value, self->frames_skipped);
      break;
    case PROP_MAX_LATENCY:
      g_value_set_uint(value, self->max_latency_ms);
      break;
    case PROP_FRAMES_QOS_SKIPPED:
      g_value_set_uint64(value, self->qos_skipped);
      break;
    case PROP_ROIS_DROPPED:
      g_value_set_uint64(value, self->rois_dropped);
      break;
    case PROP_ROIS_CLIPPED:
      g_value_set_uint64(value, self->rois_clipped);
      break;
    case PROP_EOS_RESULTS:
      g_value_set_uint64(value, self->eos_delivered);
      break;
    case PROP_EOS_LOST:
      g_value_set_uint64(value, self->eos_lost);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ens_classify_finalize(GObject *object)
{
  GstEnsClassify *self = GST_ENS_CLASSIFY(object);
  gst_ens_loader_free(self->loader); /* its callback swaps models into the worker */
  gst_ens_worker_free(self->worker);
  gst_ens_result_clear(&self->carried);
  g_array_unref(self->regions);
  gst_ens_classify_shared_finalize(self);
  g_free(self->model_path);
  g_free(self->labels_path);
  g_free(self->req_model_path);
  g_free(self->req_labels_path);
  g_free(self->object_class);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_ens_classify_class_init(GstEnsClassifyClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(ens_classify_debug, "ensclassify", 0, "ens EfficientNet classifier");

  gobject_class->set_property = gst_ens_classify_set_property;
  gobject_class->get_property = gst_ens_classify_get_property;
  gobject_class->finalize = gst_ens_classify_finalize;

  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw_ready = rw | GST_PARAM_MUTABLE_READY;
  const GParamFlags rw_playing = rw | GST_PARAM_MUTABLE_PLAYING;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string(
          "model", "Model",
          "timm Noisy Student EfficientNet weights: a .safetensors file or a hub directory "
          "(model.safetensors + config.json), or random:b0 .. random:b7 / random:l2 for "
          "deterministic random weights (offline demos and benchmarks; labels are meaningless). "
          "Unset: the embedded Fashion-MNIST model ($ENS_DEFAULT_MODEL, else the source tree's "
          "or the installed engine/data/models/fashion_mnist). Loaded when going READY->PAUSED. "
          "Settable while running (hot reload): the new model "
          "is loaded off the streaming thread and swapped in between frames, with an element "
          "message \"" GST_ENS_MODEL_SWAPPED_MESSAGE "\"; if it cannot be loaded, a warning "
          "and the old model keeps running. Reads back the model in use",
          NULL, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_LABELS,
      g_param_spec_string("labels", "Labels",
                          "Text file with one class name per line (overrides the labels of "
                          "config.json / the ImageNet-1k names). Setting it while running reloads "
                          "the model with these labels (as for model)",
                          NULL, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_INPUT_SIZE,
      g_param_spec_string("input-size", "Input size",
                          "Network input (crop) size in pixels: H (square) or HxW like "
                          "ens-classify --input-size; 0 = the variant's pretrained size",
                          "0", rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_INTERVAL,
      g_param_spec_uint("inference-interval", "Inference interval",
                        "Run inference on every Nth frame (frames 0, N, 2N, ... counted from the "
                        "start, a flush or a caps change); the frames in between carry the last "
                        "result with fresh=FALSE",
                        1, G_MAXUINT, DEFAULT_INTERVAL, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MODE,
      g_param_spec_enum("mode", "Mode", "Whether buffers wait for their own inference",
                        GST_TYPE_ENS_CLASSIFY_MODE, DEFAULT_MODE, rw_ready));
  g_object_class_install_property(gobject_class, PROP_THREADS,
                                  g_param_spec_uint("threads", "Threads",
                                                    "Inference threads, 0 = all online CPUs", 0,
                                                    1024, DEFAULT_THREADS, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision", "Arithmetic of the network's 1x1 convolutions",
                        GST_TYPE_ENS_CLASSIFY_PRECISION, ENS_PRECISION_F32, rw_ready));
  g_object_class_install_property(gobject_class, PROP_TOP_K,
                                  g_param_spec_uint("top-k", "Top k",
                                                    "Number of best classes attached per region "
                                                    "(at most the model's class count: larger "
                                                    "values are clamped to it)",
                                                    1, G_MAXINT, DEFAULT_TOP_K, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_THRESHOLD,
      g_param_spec_float("threshold", "Threshold",
                         "Drop classes whose probability is below this value", 0.0f, 1.0f,
                         DEFAULT_THRESHOLD, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_SMOOTHING,
      g_param_spec_enum("smoothing", "Smoothing",
                        "Temporal smoothing of the class probabilities (reset on flush and caps "
                        "change)",
                        GST_TYPE_ENS_CLASSIFY_SMOOTHING, DEFAULT_SMOOTHING, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_SMOOTHING_ALPHA,
      g_param_spec_float("smoothing-alpha", "Smoothing alpha",
                         "Weight of the newest inference in the EMA (1 = no smoothing)", 0.01f,
                         1.0f, DEFAULT_SMOOTHING_ALPHA, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_REGION,
      g_param_spec_enum("inference-region", "Inference region", "What to classify",
                        GST_TYPE_ENS_CLASSIFY_REGION, DEFAULT_REGION, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_OBJECT_CLASS,
      g_param_spec_string("object-class", "Object class",
                          "In roi-list mode, classify only ROIs of these types (comma-separated "
                          "GstVideoRegionOfInterestMeta roi_type names); empty = all",
                          NULL, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_ATTACH_ROI_META,
      g_param_spec_boolean("attach-roi-meta", "Attach ROI meta",
                           "Also add a \"" GST_ENS_ROI_PARAM_NAME "\" param (label, label_id, "
                           "confidence, model_name, layer_name) to a GstVideoRegionOfInterestMeta "
                           "(a new full-frame one of type \"" FULL_FRAME_ROI_TYPE "\", or the "
                           "classified ROI), as DL Streamer elements do",
                           DEFAULT_ATTACH_ROI_META, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an element message \"ens-classification\" (timestamp, frame, "
                           "model, labels, scores, class-ids, regions) per inferred frame",
                           DEFAULT_POST_MESSAGES, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MAX_LATENCY,
      g_param_spec_uint("max-latency", "Max latency (ms)",
                        "Async mode: a scheduled frame waits up to this long for its own result "
                        "(fresh) before it passes with the last completed one; added to the "
                        "LATENCY query so sinks show every frame that much later. 0 = never wait",
                        0, 60000, DEFAULT_MAX_LATENCY_MS, rw_playing));
  g_object_class_install_property(gobject_class, PROP_FRAMES_SEEN,
                                  g_param_spec_uint64("frames-seen", "Frames seen",
                                                      "Buffers received since start", 0,
                                                      G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_FRAMES_INFERRED,
      g_param_spec_uint64("frames-inferred", "Frames inferred",
                          "Frames whose inference completed and was published", 0, G_MAXUINT64, 0,
                          ro));
  g_object_class_install_property(
      gobject_class, PROP_FRAMES_SKIPPED,
      g_param_spec_uint64("frames-skipped", "Frames skipped",
                          "Frames not scheduled for inference (inference-interval, or no "
                          "matching ROI)",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_FRAMES_REPLACED,
      g_param_spec_uint64("frames-replaced", "Frames replaced",
                          "Async mode: scheduled frames dropped because a newer frame replaced "
                          "them before the worker was free",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_MEAN_LATENCY_MS,
      g_param_spec_double("mean-latency-ms", "Mean latency (ms)",
                          "Mean preprocessing + inference time per inferred frame", 0.0,
                          G_MAXDOUBLE, 0.0, ro));

  g_object_class_install_property(
      gobject_class, PROP_FRAMES_QOS_SKIPPED,
      g_param_spec_uint64("frames-qos-skipped", "Frames skipped for QoS",
                          "Sync mode with qos=true: scheduled frames not inferred because "
                          "downstream reported them late (they carry the last result)",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_FRAMES_NONFINITE,
      g_param_spec_uint64("frames-nonfinite", "Frames with non-finite logits",
                          "Inferences whose logits were NaN or infinite: no result attached or "
                          "posted (the first one posts a warning message)",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_ROIS_DROPPED,
      g_param_spec_uint64("rois-dropped", "ROIs dropped",
                          "roi-list: ROIs not classified because they are empty or entirely "
                          "outside the frame",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_ROIS_CLIPPED,
      g_param_spec_uint64("rois-clipped", "ROIs clipped",
                          "roi-list: ROIs reaching outside the frame, classified clipped to it "
                          "(their meta has clipped=TRUE)",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_EOS_RESULTS,
      g_param_spec_uint64("eos-results", "Results after the last buffer",
                          "Async mode: inferences completed at EOS after their frame had left "
                          "(delivered as ens-classification messages only)",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_EOS_LOST,
      g_param_spec_uint64("eos-lost", "Inferences lost at EOS",
                          "Async mode: inferences still unfinished when the bounded wait at EOS "
                          "gave up (a warning message says so)",
                          0, G_MAXUINT64, 0, ro));

  gst_ens_classify_shared_install_properties(gobject_class);

  gst_element_class_set_static_metadata(
      element_class, "EfficientNet classifier", "Filter/Analyzer/Video",
      "Classifies video frames or regions of interest with timm's Noisy Student EfficientNet "
      "(libens) and attaches GstEnsClassificationMeta and GstVideoRegionOfInterestMeta params",
      GST_ENS_AUTHOR);
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_ens_classify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_ens_classify_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_ens_classify_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_ens_classify_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR(gst_ens_classify_src_event);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_ens_classify_query);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_ens_classify_transform_ip);

  gst_type_mark_as_plugin_api(GST_TYPE_ENS_CLASSIFY_MODE, 0);
  gst_type_mark_as_plugin_api(GST_TYPE_ENS_CLASSIFY_SMOOTHING, 0);
  gst_type_mark_as_plugin_api(GST_TYPE_ENS_CLASSIFY_REGION, 0);
  gst_type_mark_as_plugin_api(GST_TYPE_ENS_CLASSIFY_PRECISION, 0);
}

static void gst_ens_classify_init(GstEnsClassify *self)
{
  self->interval = DEFAULT_INTERVAL;
  self->mode = DEFAULT_MODE;
  self->threads = DEFAULT_THREADS;
  self->top_k = DEFAULT_TOP_K;
  self->threshold = DEFAULT_THRESHOLD;
  self->smoothing = DEFAULT_SMOOTHING;
  self->smoothing_alpha = DEFAULT_SMOOTHING_ALPHA;
  self->region = DEFAULT_REGION;
  self->attach_roi_meta = DEFAULT_ATTACH_ROI_META;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->max_latency_ms = DEFAULT_MAX_LATENCY_MS;
  self->qos_earliest = GST_CLOCK_TIME_NONE;
  self->upstream_latency = GST_CLOCK_TIME_NONE;
  self->regions = g_array_new(FALSE, TRUE, sizeof(GstEnsRegion));
  self->worker = gst_ens_worker_new();
  gst_ens_classify_reload_init(self);
  gst_ens_classify_shared_init(self);
  gst_ens_worker_set_smoothing(self->worker, self->smoothing, self->smoothing_alpha);
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), FALSE);
  /* late sync frames skip inference (see qos_late); the qos property turns that off */
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), DEFAULT_QOS);
}
