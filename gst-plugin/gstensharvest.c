/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensharvest.c - ensharvest: a passthrough element placed after ensclassify that saves, on a
 * schedule, what the model saw as unlabeled training samples for Noisy Student: the frame
 * (full-frame results) or each ROI crop (roi-list results), as PNG at the model's input crop
 * (save-size=model) or at the region's own size (original), plus a JSON sidecar with the
 * teacher's probabilities (format: engine/include/ens_harvest.h).
 *
 * Schedule: every interval-th result (fresh results only by default), regions whose top-1
 * score lies in [min-confidence, max-confidence], until max-count samples or max-bytes bytes
 * (then an element message "ens-harvest-done"). The streaming thread decides and copies the
 * frame; a writer thread (ensharvestwriter.c) crops, encodes and stores atomically, behind a
 * bounded queue that drops when full. A write failure (full disk, unwritable folder) ends
 * harvesting with one GST_ELEMENT_WARNING; the stream is never stopped.
 *
 * At caps time it sends a custom upstream query (GST_ENS_HARVEST_INFO_QUERY): ensclassify
 * answers with its model's preprocessing and starts attaching the full distribution to its
 * metas. Debug: ENS_DEBUG_HARVEST_DELAY_MS makes the writer sleep per frame (tests of a slow
 * disk). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstensharvest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ensvideoformat.h"
#include "gstensmeta.h"

GST_DEBUG_CATEGORY(ens_harvest_debug);
#define GST_CAT_DEFAULT ens_harvest_debug

#define DEFAULT_INTERVAL 1
#define DEFAULT_MIN_CONFIDENCE 0.0f
#define DEFAULT_MAX_CONFIDENCE 1.0f
#define DEFAULT_MAX_COUNT 0
#define DEFAULT_MAX_BYTES 0
#define DEFAULT_FRESH_ONLY TRUE
#define DEFAULT_SAVE_SIZE ENS_HARVEST_SIZE_MODEL
#define DEFAULT_MAX_QUEUE 4
#define DONE_MESSAGE "ens-harvest-done"
#define STALE_WARNING 50 /* buffers with only carried results before a warning */

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_INTERVAL,
  PROP_MIN_CONFIDENCE,
  PROP_MAX_CONFIDENCE,
  PROP_MAX_COUNT,
  PROP_MAX_BYTES,
  PROP_FRESH_ONLY,
  PROP_SAVE_SIZE,
  PROP_MAX_QUEUE,
  PROP_STATS,
};

#define VIDEO_CAPS                                                                                 \
  GST_VIDEO_CAPS_MAKE("{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12 }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));

#define GST_TYPE_ENS_HARVEST_SAVE_SIZE (gst_ens_harvest_save_size_get_type())
static GType gst_ens_harvest_save_size_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {ENS_HARVEST_SIZE_MODEL,
       "the model's input crop, as preprocessing produces it before normalisation", "model"},
      {ENS_HARVEST_SIZE_ORIGINAL, "the frame or ROI at its own size", "original"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstEnsHarvestSaveSize", values));
  return type;
}

#define gst_ens_harvest_parent_class parent_class
G_DEFINE_TYPE(GstEnsHarvest, gst_ens_harvest, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(ensharvest, "ensharvest", GST_RANK_NONE, GST_TYPE_ENS_HARVEST);

/* ------------------------------------------------------------------ stats and the end */

static GstStructure *stats_structure(const EnsHarvestStats *st)
{
  const gchar *state = ens_harvest_state_name(st->state);
  return gst_structure_new("ens-harvest-stats", "results", G_TYPE_UINT64, st->results, "saved",
                           G_TYPE_UINT64, st->saved, "skipped", G_TYPE_UINT64, st->skipped,
                           "dropped", G_TYPE_UINT64, st->dropped, "errors", G_TYPE_UINT64,
                           st->errors, "bytes", G_TYPE_UINT64, st->bytes, "queued", G_TYPE_UINT,
                           st->queued, "done", G_TYPE_BOOLEAN, st->state != ENS_HARVEST_RUNNING,
                           "reason", G_TYPE_STRING, state ? state : "", NULL);
}

/* Harvesting ended (writer or streaming thread): one warning for a failure, and the message. */
static void on_done(EnsHarvestState why, const gchar *message, const EnsHarvestStats *st,
                    gpointer user_data)
{
  GstEnsHarvest *self = user_data;
  if (why == ENS_HARVEST_DONE_ERROR)
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("Harvesting stopped: %s", message),
                        ("%" G_GUINT64_FORMAT " samples saved; the stream goes on", st->saved));
  else
    GST_INFO_OBJECT(
        self, "harvesting done (%s): %" G_GUINT64_FORMAT " samples, %" G_GUINT64_FORMAT " bytes",
        ens_harvest_state_name(why), st->saved, st->bytes);
  GstStructure *s = stats_structure(st);
  gst_structure_set_name(s, DONE_MESSAGE);
  gst_structure_set(s, "location", G_TYPE_STRING, self->writer.dir, NULL);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

/* ------------------------------------------------------------------ start / stop */

/* Makes dir (and parents) and checks that files can be created in it; NULL or a message. */
static gchar *prepare_dir(const gchar *dir)
{
  if (g_mkdir_with_parents(dir, 0777) != 0)
    return g_strdup_printf("cannot create the folder \"%s\": %s", dir, g_strerror(errno));
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    return g_strdup_printf("\"%s\" is not a folder", dir);
  /* a probe file, not access(): root passes access() on a read-only mount or folder */
  gchar *probe = g_build_filename(dir, ".ens-harvest-probe-XXXXXX", NULL);
  gint fd = g_mkstemp(probe);
  gchar *msg = NULL;
  if (fd < 0) {
    msg = g_strdup_printf("cannot write into the folder \"%s\": %s", dir, g_strerror(errno));
  } else {
    close(fd);
    g_unlink(probe);
  }
  g_free(probe);
  return msg;
}

static gboolean gst_ens_harvest_start(GstBaseTransform *trans)
{
  GstEnsHarvest *self = GST_ENS_HARVEST(trans);
  GST_OBJECT_LOCK(self);
  gchar *location = g_strdup(self->location);
  guint64 max_count = self->max_count, max_bytes = self->max_bytes;
  guint max_queue = self->max_queue;
  GST_OBJECT_UNLOCK(self);
  if (!location || !*location) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No harvest folder set"),
                      ("set the \"location\" property to the dataset folder to fill"));
    g_free(location);
    return FALSE;
  }
  guint delay_ms = 0;
  const gchar *delay_env = g_getenv("ENS_DEBUG_HARVEST_DELAY_MS");
  if (delay_env && *delay_env) {
    delay_ms = (guint)strtoul(delay_env, NULL, 10);
    GST_WARNING_OBJECT(self, "ENS_DEBUG_HARVEST_DELAY_MS: sleeping %u ms per frame", delay_ms);
  }
  self->buffer_frame = 0;
  self->have_last = FALSE;
  self->have_model = FALSE;
  self->warned_no_model = FALSE;
  self->stale_buffers = 0;
  g_clear_pointer(&self->model_name, g_free);
  g_clear_pointer(&self->requeried_for, g_free);

  gchar *msg = NULL;
  if (!ens_harvest_writer_start(&self->writer, location, max_count, max_bytes, max_queue, delay_ms,
                                on_done, self, &msg)) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Could not start the harvest thread"), ("%s", msg));
    g_free(msg);
    g_free(location);
    return FALSE;
  }
  /* an unusable folder ends harvesting, not the stream */
  msg = prepare_dir(location);
  if (msg) {
    ens_harvest_writer_fail(&self->writer, msg);
    g_free(msg);
  }
  g_free(location);
  return TRUE;
}

static gboolean gst_ens_harvest_stop(GstBaseTransform *trans)
{
  GstEnsHarvest *self = GST_ENS_HARVEST(trans);
  ens_harvest_writer_stop(&self->writer);
  return TRUE;
}

/* ------------------------------------------------------------------ caps and the model */

/* Asks the ensclassify upstream for its model's preprocessing (and so for full distributions
 * on its metas). */
static void query_model(GstEnsHarvest *self)
{
  GstQuery *q =
      gst_query_new_custom(GST_QUERY_CUSTOM, gst_structure_new_empty(GST_ENS_HARVEST_INFO_QUERY));
  gboolean ok = gst_pad_peer_query(GST_BASE_TRANSFORM_SINK_PAD(self), q);
  const GstStructure *s = gst_query_get_structure(q);
  const gchar *model = ok ? gst_structure_get_string(s, "model") : NULL;
  gint iw = 0, ih = 0, interp = 0;
  gdouble crop_pct = 0.0;
  if (model && gst_structure_get_int(s, "input-width", &iw) &&
      gst_structure_get_int(s, "input-height", &ih) &&
      gst_structure_get_double(s, "crop-pct", &crop_pct) &&
      gst_structure_get_int(s, "interpolation", &interp) && iw > 0 && ih > 0 && crop_pct > 0.0) {
    memset(&self->pp, 0, sizeof self->pp);
    self->pp.out_width = iw;
    self->pp.out_height = ih;
    self->pp.crop_pct = (gfloat)crop_pct;
    self->pp.interpolation = (ens_interp)interp;
    for (int c = 0; c < 3; c++)
      self->pp.std[c] = 1.0f; /* the uint8 crop only: normalisation is not applied */
    self->have_model = TRUE;
    g_free(self->model_name);
    self->model_name = g_strdup(model);
    GST_INFO_OBJECT(self, "model %s: input %dx%d, crop_pct %g", model, iw, ih, crop_pct);
  }
  gst_query_unref(q);
}

static gboolean gst_ens_harvest_set_caps(GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps)
{
  (void)outcaps;
  GstEnsHarvest *self = GST_ENS_HARVEST(trans);
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, incaps) ||
      !ens_video_map_format(GST_VIDEO_INFO_FORMAT(&info), &self->pixel_format)) {
    GST_ERROR_OBJECT(self, "unsupported caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  self->yuv_matrix = ens_video_map_matrix(&GST_VIDEO_INFO_COLORIMETRY(&info));
  self->vinfo = info;
  self->have_info = TRUE;
  query_model(self);
  return TRUE;
}

static gboolean gst_ens_harvest_sink_event(GstBaseTransform *trans, GstEvent *event)
{
  GstEnsHarvest *self = GST_ENS_HARVEST(trans);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_EOS:
      /* the samples of the last frames are on disk when EOS reaches the sink */
      ens_harvest_writer_drain(&self->writer);
      break;
    case GST_EVENT_FLUSH_STOP:
      self->have_last = FALSE;
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

/* ------------------------------------------------------------------ the schedule */

static gfloat top1_score(const GstEnsClassificationMeta *m)
{
  if (m->n_entries > 0)
    return m->entries[0].score;
  gfloat best = -1.0f; /* no entries (threshold): the distribution, if any */
  for (guint i = 0; i < m->n_probs; i++)
    best = MAX(best, m->probs[i]);
  return best;
}

/* Whether buf has a meta of the harvested model (the one that answered the query, else the
 * first one seen). */
static gboolean has_own_result(GstEnsHarvest *self, GstBuffer *buf)
{
  gpointer state = NULL;
  GstEnsClassificationMeta *m;
  while ((m = gst_buffer_iterate_ens_classification_meta(buf, &state)))
    if (!self->model_name || g_strcmp0(m->model_name, self->model_name) == 0)
      return TRUE;
  return FALSE;
}

/* The metas of buf that form a result to consider: fresh ones (fresh-only), or those of a
 * result not seen before; only the harvested model's (another classifier's are ignored). */
static void collect_candidates(GstEnsHarvest *self, GstBuffer *buf, gboolean fresh_only)
{
  g_ptr_array_set_size(self->candidates, 0);
  gpointer state = NULL;
  GstEnsClassificationMeta *m;
  while ((m = gst_buffer_iterate_ens_classification_meta(buf, &state))) {
    if (!self->model_name)
      self->model_name = g_strdup(m->model_name); /* no answer: the first model seen */
    if (g_strcmp0(m->model_name, self->model_name) != 0)
      continue;
    if (fresh_only ? !m->fresh : (self->have_last && m->source_frame == self->last_source_frame))
      continue;
    g_ptr_array_add(self->candidates, m);
  }
}

/* The type of the ROI a meta classified: ids need not be unique, so the ROI with that id whose
 * box (clipped to the frame, as classified) is the meta's wins over another with the id. */
static gchar *roi_type_of(GstEnsHarvest *self, GstBuffer *buf, const GstEnsClassificationMeta *m)
{
  gint fw = GST_VIDEO_INFO_WIDTH(&self->vinfo), fh = GST_VIDEO_INFO_HEIGHT(&self->vinfo);
  GstVideoRegionOfInterestMeta *best = NULL;
  gpointer state = NULL;
  GstMeta *meta;
  while ((meta = gst_buffer_iterate_meta_filtered(buf, &state,
                                                  GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)meta;
    if (roi->id != m->roi_id)
      continue;
    gint x0 = CLAMP((gint)roi->x, 0, fw), y0 = CLAMP((gint)roi->y, 0, fh);
    gint x1 = CLAMP((gint)(roi->x + roi->w), 0, fw), y1 = CLAMP((gint)(roi->y + roi->h), 0, fh);
    gboolean same_box = x0 == m->x && y0 == m->y && x1 - x0 == m->width && y1 - y0 == m->height;
    if (!best || same_box)
      best = roi;
    if (same_box)
      break;
  }
  return best ? g_strdup(g_quark_to_string(best->roi_type)) : NULL;
}

static EnsHarvestItem *make_item(GstEnsHarvest *self, GstBuffer *buf, ens_harvest_size save_size,
                                 GstEnsClassificationMeta **metas, guint n, guint64 buffer_frame)
{
  EnsHarvestItem *item = g_new0(EnsHarvestItem, 1);
  /* a copy in plain memory: the writer may be slow, the pool's buffer must go back */
  item->buffer = gst_buffer_copy_deep(buf);
  item->info = self->vinfo;
  item->format = self->pixel_format;
  item->matrix = self->yuv_matrix;
  item->model = g_strdup(metas[0]->model_name);
  item->have_pp = self->have_model;
  item->pp = self->pp;
  item->save_size = save_size;
  item->buffer_pts = GST_BUFFER_PTS(buf);
  item->buffer_frame = buffer_frame;
  item->n_regions = n;
  item->regions = g_new0(EnsHarvestRegion, n);
  for (guint i = 0; i < n; i++) {
    const GstEnsClassificationMeta *m = metas[i];
    EnsHarvestRegion *r = &item->regions[i];
    r->box = (ens_rect){m->x, m->y, m->width, m->height};
    r->full_frame = m->full_frame;
    r->roi_id = m->roi_id;
    if (!m->full_frame)
      r->roi_type = roi_type_of(self, buf, m);
    r->source_pts = m->source_pts;
    r->source_frame = m->source_frame;
    r->fresh = m->fresh;
    r->n_top = m->n_entries;
    r->top = g_new0(ens_class_score, MAX(m->n_entries, 1));
    for (guint k = 0; k < m->n_entries; k++) {
      r->top[k].id = m->entries[k].class_id;
      r->top[k].prob = m->entries[k].score;
      r->top[k].label = g_strdup(m->entries[k].label);
    }
    if (m->n_probs) {
      r->n_probs = m->n_probs;
      r->probs = g_memdup2(m->probs, (gsize)m->n_probs * sizeof *m->probs);
    }
  }
  return item;
}

static GstFlowReturn gst_ens_harvest_transform_ip(GstBaseTransform *trans, GstBuffer *buf)
{
  GstEnsHarvest *self = GST_ENS_HARVEST(trans);
  guint64 buffer_frame = self->buffer_frame++;
  if (!self->have_info || ens_harvest_writer_done(&self->writer) ||
      gst_buffer_get_n_ens_classification_meta(buf) == 0)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK(self);
  guint interval = MAX(self->interval, 1);
  gfloat lo = self->min_confidence, hi = self->max_confidence;
  gboolean fresh_only = self->fresh_only;
  ens_harvest_size save_size = self->save_size;
  GST_OBJECT_UNLOCK(self);

  /* results, none of the model asked about: it was reloaded (ask again, once per new name) */
  if (self->have_model && !has_own_result(self, buf)) {
    const gchar *name = gst_buffer_get_ens_classification_meta(buf)->model_name;
    if (g_strcmp0(name, self->requeried_for) != 0) {
      g_free(self->requeried_for);
      self->requeried_for = g_strdup(name);
      query_model(self);
    }
  }
  if (save_size == ENS_HARVEST_SIZE_MODEL && !self->have_model && !self->warned_no_model) {
    self->warned_no_model = TRUE;
    GST_ELEMENT_WARNING(self, STREAM, FAILED,
                        ("No ensclassify upstream answered: saving the regions at their original "
                         "size, without the full distribution"),
                        ("save-size=model needs the model's preprocessing"));
  }

  collect_candidates(self, buf, fresh_only);
  guint n = self->candidates->len;
  if (n == 0) {
    /* async ensclassify never marks a buffer fresh: say so rather than harvest nothing */
    if (fresh_only && ++self->stale_buffers == STALE_WARNING && !self->have_last)
      GST_ELEMENT_WARNING(
          self, STREAM, FAILED,
          ("%u buffers with results, none fresh: nothing is harvested", STALE_WARNING),
          ("ensclassify mode=async never attaches a buffer's own result: use "
           "mode=sync, or fresh-only=false"));
    return GST_FLOW_OK;
  }
  GstEnsClassificationMeta **metas = (GstEnsClassificationMeta **)self->candidates->pdata;
  self->have_last = TRUE;
  self->last_source_frame = metas[0]->source_frame;

  EnsHarvestStats st;
  ens_harvest_writer_get_stats(&self->writer, &st);
  if (st.results % interval != 0) {
    ens_harvest_writer_count(&self->writer, 1, n);
    return GST_FLOW_OK;
  }
  guint kept = 0; /* the regions in the confidence band, packed at the front */
  for (guint i = 0; i < n; i++) {
    gfloat top1 = top1_score(metas[i]);
    if (top1 >= lo && top1 <= hi)
      metas[kept++] = metas[i];
  }
  ens_harvest_writer_count(&self->writer, 1, n - kept);
  if (kept == 0)
    return GST_FLOW_OK;
  guint accepted = ens_harvest_writer_accept(&self->writer, kept);
  if (accepted == 0)
    return GST_FLOW_OK;
  ens_harvest_writer_push(&self->writer,
                          make_item(self, buf, save_size, metas, accepted, buffer_frame));
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------ properties */

static void gst_ens_harvest_set_property(GObject *object, guint prop_id, const GValue *value,
                                         GParamSpec *pspec)
{
  GstEnsHarvest *self = GST_ENS_HARVEST(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free(self->location);
      self->location = g_value_dup_string(value);
      break;
    case PROP_INTERVAL:
      self->interval = g_value_get_uint(value);
      break;
    case PROP_MIN_CONFIDENCE:
      self->min_confidence = g_value_get_float(value);
      break;
    case PROP_MAX_CONFIDENCE:
      self->max_confidence = g_value_get_float(value);
      break;
    case PROP_MAX_COUNT:
      self->max_count = g_value_get_uint64(value);
      break;
    case PROP_MAX_BYTES:
      self->max_bytes = g_value_get_uint64(value);
      break;
    case PROP_FRESH_ONLY:
      self->fresh_only = g_value_get_boolean(value);
      break;
    case PROP_SAVE_SIZE:
      self->save_size = g_value_get_enum(value);
      break;
    case PROP_MAX_QUEUE:
      self->max_queue = g_value_get_uint(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ens_harvest_get_property(GObject *object, guint prop_id, GValue *value,
                                         GParamSpec *pspec)
{
  GstEnsHarvest *self = GST_ENS_HARVEST(object);
  if (prop_id == PROP_STATS) {
    EnsHarvestStats st;
    ens_harvest_writer_get_stats(&self->writer, &st);
    g_value_take_boxed(value, stats_structure(&st));
    return;
  }
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string(value, self->location);
      break;
    case PROP_INTERVAL:
      g_value_set_uint(value, self->interval);
      break;
    case PROP_MIN_CONFIDENCE:
      g_value_set_float(value, self->min_confidence);
      break;
    case PROP_MAX_CONFIDENCE:
      g_value_set_float(value, self->max_confidence);
      break;
    case PROP_MAX_COUNT:
      g_value_set_uint64(value, self->max_count);
      break;
    case PROP_MAX_BYTES:
      g_value_set_uint64(value, self->max_bytes);
      break;
    case PROP_FRESH_ONLY:
      g_value_set_boolean(value, self->fresh_only);
      break;
    case PROP_SAVE_SIZE:
      g_value_set_enum(value, self->save_size);
      break;
    case PROP_MAX_QUEUE:
      g_value_set_uint(value, self->max_queue);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ens_harvest_finalize(GObject *object)
{
  GstEnsHarvest *self = GST_ENS_HARVEST(object);
  ens_harvest_writer_clear(&self->writer);
  g_ptr_array_unref(self->candidates);
  g_free(self->location);
  g_free(self->model_name);
  g_free(self->requeried_for);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_ens_harvest_class_init(GstEnsHarvestClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(ens_harvest_debug, "ensharvest", 0, "ens unlabeled-sample harvester");

  gobject_class->set_property = gst_ens_harvest_set_property;
  gobject_class->get_property = gst_ens_harvest_get_property;
  gobject_class->finalize = gst_ens_harvest_finalize;

  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw_ready = rw | GST_PARAM_MUTABLE_READY;
  const GParamFlags rw_playing = rw | GST_PARAM_MUTABLE_PLAYING;

  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "Dataset folder to fill (created if needed): <stem>.png + <stem>.json "
                          "per sample, for ens-train noisy-student --unlabeled",
                          NULL, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_INTERVAL,
      g_param_spec_uint("interval", "Interval",
                        "Harvest every Nth result (counted over fresh results, or new ones with "
                        "fresh-only=false): results 0, N, 2N, ...",
                        1, G_MAXUINT, DEFAULT_INTERVAL, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MIN_CONFIDENCE,
      g_param_spec_float("min-confidence", "Minimum confidence",
                         "Save a region only if its top-1 score is at least this", 0.0f, 1.0f,
                         DEFAULT_MIN_CONFIDENCE, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MAX_CONFIDENCE,
      g_param_spec_float("max-confidence", "Maximum confidence",
                         "Save a region only if its top-1 score is at most this (e.g. 0.9 keeps "
                         "the frames the teacher is unsure about)",
                         0.0f, 1.0f, DEFAULT_MAX_CONFIDENCE, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MAX_COUNT,
      g_param_spec_uint64("max-count", "Maximum count",
                          "Stop after this many samples (0 = no limit); then an element message "
                          "\"" DONE_MESSAGE "\"",
                          0, G_MAXUINT64, DEFAULT_MAX_COUNT, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_MAX_BYTES,
      g_param_spec_uint64("max-bytes", "Maximum bytes",
                          "Stop before the PNG + JSON bytes written would exceed this (0 = no "
                          "limit); then an element message \"" DONE_MESSAGE "\"",
                          0, G_MAXUINT64, DEFAULT_MAX_BYTES, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_FRESH_ONLY,
      g_param_spec_boolean("fresh-only", "Fresh only",
                           "Only harvest results computed on the buffer's own pixels (TRUE); "
                           "FALSE also takes a carried result once, with the pixels of the first "
                           "buffer carrying it (ensclassify mode=async)",
                           DEFAULT_FRESH_ONLY, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_SAVE_SIZE,
      g_param_spec_enum("save-size", "Save size", "Size of the saved pictures",
                        GST_TYPE_ENS_HARVEST_SAVE_SIZE, DEFAULT_SAVE_SIZE, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MAX_QUEUE,
      g_param_spec_uint("max-queue", "Maximum queue",
                        "Frames waiting for the writer thread; when full, new samples are "
                        "dropped (counted in stats), the stream never waits for the disk",
                        1, 1024, DEFAULT_MAX_QUEUE, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "ens-harvest-stats: results, saved, skipped, dropped, errors, bytes "
                         "(guint64), queued (guint), done (boolean), reason (max-count, "
                         "max-bytes, error or empty)",
                         GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata(
      element_class, "ens harvester", "Filter/Analyzer/Video",
      "Passes video through and saves, on a schedule, the frames or ROI crops ensclassify "
      "classified (PNG) with the teacher's probabilities (JSON), for Noisy Student training",
      "ens developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_ens_harvest_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_ens_harvest_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_ens_harvest_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_ens_harvest_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_ens_harvest_transform_ip);

  gst_type_mark_as_plugin_api(GST_TYPE_ENS_HARVEST_SAVE_SIZE, 0);
}

static void gst_ens_harvest_init(GstEnsHarvest *self)
{
  self->interval = DEFAULT_INTERVAL;
  self->min_confidence = DEFAULT_MIN_CONFIDENCE;
  self->max_confidence = DEFAULT_MAX_CONFIDENCE;
  self->max_count = DEFAULT_MAX_COUNT;
  self->max_bytes = DEFAULT_MAX_BYTES;
  self->fresh_only = DEFAULT_FRESH_ONLY;
  self->save_size = DEFAULT_SAVE_SIZE;
  self->max_queue = DEFAULT_MAX_QUEUE;
  self->candidates = g_ptr_array_new();
  ens_harvest_writer_init(&self->writer);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}
