/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensmeta.c - GstEnsClassificationMeta API type, info, and transform (copy / scale). */
#include "gstensmeta.h"

#include <string.h>

GType gst_ens_classification_meta_api_get_type(void)
{
  static GType type = 0;
  /* Same tags as GstVideoRegionOfInterestMeta: the region is in pixel coordinates, so
   * elements that change size or orientation must transform (scale) or drop it. */
  static const gchar *tags[] = {GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_ORIENTATION_STR,
                                GST_META_TAG_VIDEO_SIZE_STR, NULL};
  if (g_once_init_enter(&type)) {
    GType t = gst_meta_api_type_register("GstEnsClassificationMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return type;
}

static gboolean meta_init(GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  (void)params;
  (void)buffer;
  GstEnsClassificationMeta *m = (GstEnsClassificationMeta *)meta;
  m->model_name = NULL;
  m->source_pts = GST_CLOCK_TIME_NONE;
  m->source_frame = 0;
  m->fresh = FALSE;
  m->full_frame = TRUE;
  m->roi_id = -1;
  m->x = m->y = m->width = m->height = 0;
  m->n_entries = 0;
  m->entries = NULL;
  m->clipped = FALSE;
  m->n_probs = 0;
  m->probs = NULL;
  return TRUE;
}

static void meta_free(GstMeta *meta, GstBuffer *buffer)
{
  (void)buffer;
  GstEnsClassificationMeta *m = (GstEnsClassificationMeta *)meta;
  for (guint i = 0; i < m->n_entries; i++)
    g_free(m->entries[i].label);
  g_free(m->entries);
  g_free(m->model_name);
  g_free(m->probs);
  m->probs = NULL;
  m->n_probs = 0;
  m->entries = NULL;
  m->n_entries = 0;
  m->model_name = NULL;
}

static void copy_fields(GstEnsClassificationMeta *dst, const GstEnsClassificationMeta *src)
{
  dst->source_pts = src->source_pts;
  dst->source_frame = src->source_frame;
  dst->fresh = src->fresh;
  dst->full_frame = src->full_frame;
  dst->roi_id = src->roi_id;
  dst->x = src->x;
  dst->y = src->y;
  dst->width = src->width;
  dst->height = src->height;
  dst->clipped = src->clipped;
  gst_ens_classification_meta_set_probs(dst, src->probs, src->n_probs);
}

/* A copy of src (entries and fields) added to dest, or NULL. */
static GstEnsClassificationMeta *add_copy(GstBuffer *dest, const GstEnsClassificationMeta *src)
{
  GstEnsClassificationMeta *d =
      gst_buffer_add_ens_classification_meta(dest, src->model_name, src->entries, src->n_entries);
  if (d)
    copy_fields(d, src);
  return d;
}

static gboolean meta_transform(GstBuffer *dest, GstMeta *meta, GstBuffer *buffer, GQuark type,
                               gpointer data)
{
  (void)buffer;
  GstEnsClassificationMeta *src = (GstEnsClassificationMeta *)meta;

  if (GST_META_TRANSFORM_IS_COPY(type))
    return add_copy(dest, src) != NULL;

  if (GST_VIDEO_META_TRANSFORM_IS_SCALE(type)) {
    GstVideoMetaTransform *t = data;
    gint iw = GST_VIDEO_INFO_WIDTH(t->in_info), ih = GST_VIDEO_INFO_HEIGHT(t->in_info);
    gint ow = GST_VIDEO_INFO_WIDTH(t->out_info), oh = GST_VIDEO_INFO_HEIGHT(t->out_info);
    if (iw <= 0 || ih <= 0)
      return FALSE;
    GstEnsClassificationMeta *d = add_copy(dest, src);
    if (!d)
      return FALSE;
    /* Scale the box edges (not x and width separately) so adjacent boxes stay adjacent. */
    gint x0 = (gint)((gint64)src->x * ow / iw), y0 = (gint)((gint64)src->y * oh / ih);
    gint x1 = (gint)((gint64)(src->x + src->width) * ow / iw);
    gint y1 = (gint)((gint64)(src->y + src->height) * oh / ih);
    d->x = x0;
    d->y = y0;
    d->width = x1 - x0;
    d->height = y1 - y0;
    /* roi_id names a meta of the source buffer; the scaled ROI meta may get another id. */
    d->roi_id = src->full_frame ? -1 : src->roi_id;
    return TRUE;
  }

  /* Other transforms (e.g. rotation) would need a region mapping we do not have: drop. */
  return FALSE;
}

const GstMetaInfo *gst_ens_classification_meta_get_info(void)
{
  static const GstMetaInfo *info = NULL;
  if (g_once_init_enter((GstMetaInfo **)&info)) {
    const GstMetaInfo *mi =
        gst_meta_register(GST_ENS_CLASSIFICATION_META_API_TYPE, "GstEnsClassificationMeta",
                          sizeof(GstEnsClassificationMeta), meta_init, meta_free, meta_transform);
    g_once_init_leave((GstMetaInfo **)&info, (GstMetaInfo *)mi);
  }
  return info;
}

GstEnsClassificationMeta *gst_buffer_add_ens_classification_meta(GstBuffer *buffer,
                                                                 const gchar *model_name,
                                                                 const GstEnsClassEntry *entries,
                                                                 guint n_entries)
{
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(n_entries == 0 || entries != NULL, NULL);

  GstEnsClassificationMeta *m = (GstEnsClassificationMeta *)gst_buffer_add_meta(
      buffer, GST_ENS_CLASSIFICATION_META_INFO, NULL);
  if (!m)
    return NULL;
  m->model_name = g_strdup(model_name);
  m->n_entries = n_entries;
  m->entries = n_entries ? g_new0(GstEnsClassEntry, n_entries) : NULL;
  for (guint i = 0; i < n_entries; i++) {
    m->entries[i].class_id = entries[i].class_id;
    m->entries[i].label = g_strdup(entries[i].label);
    m->entries[i].score = entries[i].score;
  }
  return m;
}

void gst_ens_classification_meta_set_probs(GstEnsClassificationMeta *meta, const gfloat *probs,
                                           guint n)
{
  g_return_if_fail(meta != NULL);
  g_return_if_fail(n == 0 || probs != NULL);
  g_free(meta->probs);
  meta->probs = n ? g_memdup2(probs, (gsize)n * sizeof *probs) : NULL;
  meta->n_probs = n;
}

GstEnsClassificationMeta *gst_buffer_get_ens_classification_meta(GstBuffer *buffer)
{
  return (GstEnsClassificationMeta *)gst_buffer_get_meta(buffer,
                                                         GST_ENS_CLASSIFICATION_META_API_TYPE);
}

GstEnsClassificationMeta *gst_buffer_iterate_ens_classification_meta(GstBuffer *buffer,
                                                                     gpointer *state)
{
  return (GstEnsClassificationMeta *)gst_buffer_iterate_meta_filtered(
      buffer, state, GST_ENS_CLASSIFICATION_META_API_TYPE);
}

guint gst_buffer_get_n_ens_classification_meta(GstBuffer *buffer)
{
  return gst_buffer_get_n_meta(buffer, GST_ENS_CLASSIFICATION_META_API_TYPE);
}
