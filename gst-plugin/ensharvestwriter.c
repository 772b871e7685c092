/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensharvestwriter.c - see ensharvestwriter.h. */
#include "ensharvestwriter.h"

#include <string.h>

#include "ensvideoformat.h"

GST_DEBUG_CATEGORY_EXTERN(ens_harvest_debug);
#define GST_CAT_DEFAULT ens_harvest_debug

void ens_harvest_item_free(EnsHarvestItem *item)
{
  if (!item)
    return;
  for (guint r = 0; r < item->n_regions; r++) {
    EnsHarvestRegion *reg = &item->regions[r];
    for (guint i = 0; i < reg->n_top; i++)
      g_free((gchar *)reg->top[i].label);
    g_free(reg->top);
    g_free(reg->probs);
    g_free(reg->roi_type);
  }
  g_free(item->regions);
  g_free(item->model);
  gst_clear_buffer(&item->buffer);
  g_free(item);
}

const gchar *ens_harvest_state_name(EnsHarvestState s)
{
  switch (s) {
    case ENS_HARVEST_DONE_MAX_COUNT:
      return "max-count";
    case ENS_HARVEST_DONE_MAX_BYTES:
      return "max-bytes";
    case ENS_HARVEST_DONE_ERROR:
      return "error";
    default:
      return NULL;
  }
}

void ens_harvest_writer_init(EnsHarvestWriter *w)
{
  memset(w, 0, sizeof *w);
  g_mutex_init(&w->lock);
  g_cond_init(&w->cond);
  g_queue_init(&w->queue);
}

void ens_harvest_writer_clear(EnsHarvestWriter *w)
{
  ens_harvest_writer_stop(w);
  g_free(w->dir);
  g_free(w->session);
  g_mutex_clear(&w->lock);
  g_cond_clear(&w->cond);
}

/* Caller holds the lock. Marks harvesting ended; TRUE if this call ended it (the caller then
 * runs on_done without the lock). The frames still queued are dropped. */
static gboolean finish_locked(EnsHarvestWriter *w, EnsHarvestState why)
{
  if (w->stats.state != ENS_HARVEST_RUNNING)
    return FALSE;
  w->stats.state = why;
  EnsHarvestItem *item;
  while ((item = g_queue_pop_head(&w->queue))) {
    w->stats.dropped += item->n_regions;
    ens_harvest_item_free(item);
  }
  w->stats.queued = 0;
  g_cond_broadcast(&w->cond);
  return TRUE;
}

static void notify_done(EnsHarvestWriter *w, EnsHarvestState why, const gchar *message)
{
  EnsHarvestStats st;
  ens_harvest_writer_get_stats(w, &st);
  if (w->on_done)
    w->on_done(why, message, &st, w->user_data);
}

/* ------------------------------------------------------------------ the thread */

/* The picture of one region: the model's input crop or the region as it is. *rgb is
 * g_malloc'd or malloc'd: freed with free() by the caller either way (both are malloc). */
static ens_status region_picture(const EnsHarvestItem *item, const ens_image *img,
                                 const EnsHarvestRegion *reg, uint8_t **rgb, int *w, int *h,
                                 ens_error *err)
{
  const ens_rect *roi = reg->full_frame ? NULL : &reg->box;
  if (item->save_size == ENS_HARVEST_SIZE_MODEL && item->have_pp) {
    *w = item->pp.out_width;
    *h = item->pp.out_height;
    *rgb = malloc((size_t)*w * (size_t)*h * 3);
    if (!*rgb) {
      err->code = ENS_ERR_NOMEM;
      g_strlcpy(err->message, "out of memory for the crop", sizeof err->message);
      return ENS_ERR_NOMEM;
    }
    return ens_preprocess_crop_u8(&item->pp, img, roi, *rgb, err);
  }
  return ens_image_region_rgb(img, roi, rgb, w, h, err);
}

static void fill_sample(const EnsHarvestItem *item, const EnsHarvestRegion *reg, const uint8_t *rgb,
                        int w, int h, ens_harvest_sample *s)
{
  memset(s, 0, sizeof *s);
  s->rgb = rgb;
  s->width = w;
  s->height = h;
  s->save_size = item->save_size == ENS_HARVEST_SIZE_MODEL && item->have_pp
                     ? ENS_HARVEST_SIZE_MODEL
                     : ENS_HARVEST_SIZE_ORIGINAL;
  s->model = item->model;
  if (item->have_pp) {
    s->input_width = item->pp.out_width;
    s->input_height = item->pp.out_height;
    s->crop_pct = item->pp.crop_pct;
    s->interpolation = item->pp.interpolation;
  }
  s->pts = GST_CLOCK_TIME_IS_VALID(reg->source_pts) ? (int64_t)reg->source_pts : -1;
  s->frame = reg->source_frame;
  s->fresh = reg->fresh;
  s->buffer_pts = GST_CLOCK_TIME_IS_VALID(item->buffer_pts) ? (int64_t)item->buffer_pts : -1;
  s->buffer_frame = item->buffer_frame;
  s->frame_width = GST_VIDEO_INFO_WIDTH(&item->info);
  s->frame_height = GST_VIDEO_INFO_HEIGHT(&item->info);
  s->full_frame = reg->full_frame;
  s->roi_id = reg->roi_id;
  s->roi_type = reg->roi_type;
  s->box = reg->box;
  s->n_top = (int)reg->n_top;
  s->top = reg->top;
  s->num_classes = (int)reg->n_probs;
  s->probs = reg->probs;
}

/* Encodes and stores one region. Returns FALSE when harvesting has ended. */
static gboolean write_region(EnsHarvestWriter *w, const EnsHarvestItem *item, const ens_image *img,
                             const EnsHarvestRegion *reg)
{
  ens_error err = {0};
  uint8_t *rgb = NULL;
  int pw = 0, ph = 0;
  ens_harvest_blob blob = {0};
  g_mutex_lock(&w->lock);
  gchar *stem = g_strdup_printf("%s-%08" G_GUINT64_FORMAT, w->session, w->seq++);
  g_mutex_unlock(&w->lock);

  ens_status st = region_picture(item, img, reg, &rgb, &pw, &ph, &err);
  if (st == ENS_OK) {
    ens_harvest_sample s;
    fill_sample(item, reg, rgb, pw, ph, &s);
    st = ens_harvest_encode(&s, stem, &blob, &err);
  }
  free(rgb);
  if (st != ENS_OK) { /* not the disk: count it and go on */
    GST_WARNING("sample %s not saved: %s", stem, err.message);
    g_mutex_lock(&w->lock);
    w->stats.errors++;
    gboolean running = w->stats.state == ENS_HARVEST_RUNNING;
    g_mutex_unlock(&w->lock);
    g_free(stem);
    return running;
  }

  guint64 size = blob.png_size + blob.json_size;
  g_mutex_lock(&w->lock);
  gboolean running = w->stats.state == ENS_HARVEST_RUNNING, ended = FALSE;
  if (!running) {
    w->stats.dropped++;
  } else if (w->max_bytes && w->stats.bytes + size > w->max_bytes) {
    w->stats.dropped++; /* it would not fit: nothing more is written */
    ended = finish_locked(w, ENS_HARVEST_DONE_MAX_BYTES);
    running = FALSE;
  }
  g_mutex_unlock(&w->lock);
  if (ended)
    notify_done(w, ENS_HARVEST_DONE_MAX_BYTES, NULL);
  if (!running) {
    ens_harvest_blob_free(&blob);
    g_free(stem);
    return FALSE;
  }

  int sys_errno = 0;
  st = ens_harvest_store(w->dir, stem, &blob, &sys_errno, &err);
  ens_harvest_blob_free(&blob);
  EnsHarvestState why = ENS_HARVEST_RUNNING;
  g_mutex_lock(&w->lock);
  if (st == ENS_OK) {
    w->stats.saved++;
    w->stats.bytes += size;
    if (w->max_count && w->stats.saved >= w->max_count &&
        finish_locked(w, ENS_HARVEST_DONE_MAX_COUNT))
      why = ENS_HARVEST_DONE_MAX_COUNT;
    else if (w->max_bytes && w->stats.bytes >= w->max_bytes &&
             finish_locked(w, ENS_HARVEST_DONE_MAX_BYTES))
      why = ENS_HARVEST_DONE_MAX_BYTES;
  } else {
    w->stats.errors++;
    if (finish_locked(w, ENS_HARVEST_DONE_ERROR))
      why = ENS_HARVEST_DONE_ERROR;
  }
  running = w->stats.state == ENS_HARVEST_RUNNING;
  g_mutex_unlock(&w->lock);
  GST_LOG("sample %s: %s", stem, st == ENS_OK ? "saved" : err.message);
  if (why != ENS_HARVEST_RUNNING)
    notify_done(w, why, st == ENS_OK ? NULL : err.message);
  g_free(stem);
  return running;
}

static void write_item(EnsHarvestWriter *w, EnsHarvestItem *item)
{
  if (w->delay_ms)
    g_usleep((gulong)w->delay_ms * 1000);
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &item->info, item->buffer, GST_MAP_READ)) {
    g_mutex_lock(&w->lock);
    w->stats.errors += item->n_regions;
    g_mutex_unlock(&w->lock);
    GST_WARNING("could not map a queued frame");
    return;
  }
  ens_image img;
  ens_video_frame_image(&frame, item->format, item->matrix, &img);
  for (guint r = 0; r < item->n_regions; r++) {
    if (!write_region(w, item, &img, &item->regions[r])) {
      g_mutex_lock(&w->lock);
      w->stats.dropped += item->n_regions - r - 1; /* the rest of this frame */
      g_mutex_unlock(&w->lock);
      break;
    }
  }
  gst_video_frame_unmap(&frame);
}

static gpointer writer_main(gpointer data)
{
  EnsHarvestWriter *w = data;
  g_mutex_lock(&w->lock);
  for (;;) {
    while (!w->quit && g_queue_is_empty(&w->queue))
      g_cond_wait(&w->cond, &w->lock);
    if (w->quit)
      break;
    EnsHarvestItem *item = g_queue_pop_head(&w->queue);
    w->stats.queued = g_queue_get_length(&w->queue);
    w->busy = TRUE;
    g_mutex_unlock(&w->lock);
    write_item(w, item);
    ens_harvest_item_free(item);
    g_mutex_lock(&w->lock);
    w->busy = FALSE;
    g_cond_broadcast(&w->cond);
  }
  g_mutex_unlock(&w->lock);
  return NULL;
}

/* ------------------------------------------------------------------ control */

gboolean ens_harvest_writer_start(EnsHarvestWriter *w, const gchar *dir, guint64 max_count,
                                  guint64 max_bytes, guint max_queue, guint delay_ms,
                                  EnsHarvestDoneFunc on_done, gpointer user_data, gchar **error)
{
  ens_harvest_writer_stop(w);
  g_free(w->dir);
  g_free(w->session);
  w->dir = g_strdup(dir);
  GDateTime *now = g_date_time_new_now_utc();
  gchar *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
  g_date_time_unref(now);
  w->session = g_strdup_printf("%s-%06x", stamp, g_random_int() & 0xffffff);
  g_free(stamp);
  w->seq = 0;
  w->max_count = max_count;
  w->max_bytes = max_bytes;
  w->max_queue = MAX(max_queue, 1);
  w->accepted = 0;
  w->delay_ms = delay_ms;
  memset(&w->stats, 0, sizeof w->stats);
  w->on_done = on_done;
  w->user_data = user_data;
  w->quit = FALSE;
  w->busy = FALSE;
  GError *gerr = NULL;
  w->thread = g_thread_try_new("ens-harvest", writer_main, w, &gerr);
  if (!w->thread) {
    *error = g_strdup(gerr->message);
    g_error_free(gerr);
    return FALSE;
  }
  return TRUE;
}

void ens_harvest_writer_stop(EnsHarvestWriter *w)
{
  g_mutex_lock(&w->lock);
  w->quit = TRUE;
  g_cond_broadcast(&w->cond);
  g_mutex_unlock(&w->lock);
  if (w->thread) {
    g_thread_join(w->thread);
    w->thread = NULL;
  }
  g_mutex_lock(&w->lock);
  EnsHarvestItem *item;
  while ((item = g_queue_pop_head(&w->queue))) {
    w->stats.dropped += item->n_regions;
    ens_harvest_item_free(item);
  }
  w->stats.queued = 0;
  g_cond_broadcast(&w->cond);
  g_mutex_unlock(&w->lock);
}

void ens_harvest_writer_fail(EnsHarvestWriter *w, const gchar *message)
{
  g_mutex_lock(&w->lock);
  w->stats.errors++;
  gboolean ended = finish_locked(w, ENS_HARVEST_DONE_ERROR);
  g_mutex_unlock(&w->lock);
  if (ended)
    notify_done(w, ENS_HARVEST_DONE_ERROR, message);
}

void ens_harvest_writer_count(EnsHarvestWriter *w, guint64 results, guint64 skipped)
{
  g_mutex_lock(&w->lock);
  w->stats.results += results;
  w->stats.skipped += skipped;
  g_mutex_unlock(&w->lock);
}

guint ens_harvest_writer_accept(EnsHarvestWriter *w, guint n)
{
  g_mutex_lock(&w->lock);
  guint ok = 0;
  if (w->stats.state == ENS_HARVEST_RUNNING && w->thread) {
    if (g_queue_get_length(&w->queue) >= w->max_queue) {
      w->stats.dropped += n; /* the disk is slower than the schedule: never wait for it */
    } else {
      ok = n;
      if (w->max_count && w->accepted + n > w->max_count)
        ok = (guint)(w->max_count - MIN(w->accepted, w->max_count));
      w->accepted += ok;
    }
  }
  g_mutex_unlock(&w->lock);
  return ok;
}

void ens_harvest_writer_push(EnsHarvestWriter *w, EnsHarvestItem *item)
{
  g_mutex_lock(&w->lock);
  if (w->stats.state != ENS_HARVEST_RUNNING || !w->thread) {
    w->stats.dropped += item->n_regions;
    g_mutex_unlock(&w->lock);
    ens_harvest_item_free(item);
    return;
  }
  g_queue_push_tail(&w->queue, item);
  w->stats.queued = g_queue_get_length(&w->queue);
  g_cond_broadcast(&w->cond);
  g_mutex_unlock(&w->lock);
}

gboolean ens_harvest_writer_done(EnsHarvestWriter *w)
{
  g_mutex_lock(&w->lock);
  gboolean done = w->stats.state != ENS_HARVEST_RUNNING;
  g_mutex_unlock(&w->lock);
  return done;
}

void ens_harvest_writer_drain(EnsHarvestWriter *w)
{
  g_mutex_lock(&w->lock);
  while (w->thread && !w->quit && (!g_queue_is_empty(&w->queue) || w->busy))
    g_cond_wait(&w->cond, &w->lock);
  g_mutex_unlock(&w->lock);
}

void ens_harvest_writer_get_stats(EnsHarvestWriter *w, EnsHarvestStats *out)
{
  g_mutex_lock(&w->lock);
  *out = w->stats;
  out->queued = g_queue_get_length(&w->queue);
  g_mutex_unlock(&w->lock);
}
