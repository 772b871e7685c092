/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensoverlay.c - ensoverlay: draws the GstEnsClassificationMeta results on the frame.
 *
 * A full-frame result is drawn as a panel of its top-k "score  label" lines in one corner;
 * a region (ROI) result as a box outline with its top-1 label on a tab above it. An optional
 * banner (e.g. "RANDOM WEIGHTS - labels are meaningless") is drawn as a strip across the
 * frame on the side opposite the panel.
 *
 * Text is laid out by Pango and rendered anti-aliased by Cairo into small premultiplied
 * ARGB surfaces, which become GstVideoOverlayRectangles. The composition is blended into the
 * frame with gst_video_overlay_composition_blend(), which handles packed RGB as well as I420
 * and NV12 (it converts each rectangle to AYUV once and caches it). The composition is kept
 * while what it shows (the "scene key": texts, boxes, settings, frame size) is unchanged,
 * so a result repeated on many frames is rendered only once.
 *
 * Example:
 *   gst-launch-1.0 videotestsrc ! ensclassify model=random:b0 ! \
 *     ensoverlay banner="RANDOM WEIGHTS" position=top-right ! autovideosink
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstensoverlay.h"

#include <math.h>
#include <pango/pangocairo.h>

#include "gstensmeta.h"
#include "gstensplugin.h"

GST_DEBUG_CATEGORY_STATIC(gst_ens_overlay_debug);
#define GST_CAT_DEFAULT gst_ens_overlay_debug

#define DEFAULT_POSITION GST_ENS_OVERLAY_TOP_LEFT
#define DEFAULT_FONT_DESC "Sans 14"
#define DEFAULT_AUTO_RESIZE TRUE
#define DEFAULT_TEXT_COLOR 0xffffffffu
#define DEFAULT_BOX_COLOR 0xff00c853u
#define DEFAULT_BACKGROUND_COLOR 0xa0000000u
#define DEFAULT_BANNER_COLOR 0xd0b71c1cu
#define DEFAULT_MAX_LABELS 5
#define DEFAULT_SHOW_SCORES TRUE

/* Frame width the font size refers to when auto-resize is on (as textoverlay does). */
#define REFERENCE_WIDTH 640.0
/* auto-resize never scales text below this many pixels: smaller is not legible. */
#define MIN_AUTO_FONT_PX 9
/* The banner strip takes at most this fraction of the frame height (longer text is wrapped,
 * then ellipsized), so it never hides the picture. */
#define MAX_BANNER_FRACTION 3

enum {
  PROP_0,
  PROP_POSITION,
  PROP_FONT_DESC,
  PROP_AUTO_RESIZE,
  PROP_TEXT_COLOR,
  PROP_BOX_COLOR,
  PROP_BACKGROUND_COLOR,
  PROP_BANNER_COLOR,
  PROP_MAX_LABELS,
  PROP_SHOW_SCORES,
  PROP_BANNER,
};

/* One thing to draw, derived from one meta (or the banner). */
typedef struct {
  gboolean is_roi;
  gint x, y, w, h; /* region in frame pixels (ROI only) */
  gchar *text;     /* the lines to show */
} SceneItem;

/* A snapshot of the properties, taken once per frame under the object lock. */
typedef struct {
  GstEnsOverlayPosition position;
  gchar *font_desc;
  gboolean auto_resize;
  guint text_color, box_color, bg_color, banner_color;
  guint max_labels;
  gboolean show_scores;
  gchar *banner;
} Settings;

struct _GstEnsOverlay {
  GstVideoFilter parent;

  /* properties, under the object lock */
  Settings props;

  /* streaming thread only */
  PangoFontMap *fontmap;
  PangoContext *context;
  PangoLayout *layout;
  GString *key; /* what the cached composition shows */
  GstVideoOverlayComposition *composition;
};

G_DEFINE_TYPE(GstEnsOverlay, gst_ens_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(ensoverlay, "ensoverlay", GST_RANK_NONE, GST_TYPE_ENS_OVERLAY);

/* The formats gst_video_overlay_composition_blend() handles, same list as ensclassify. */
#define ENS_OVERLAY_CAPS                                                                           \
  GST_VIDEO_CAPS_MAKE("{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12 }")

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ENS_OVERLAY_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ENS_OVERLAY_CAPS));

GType gst_ens_overlay_position_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ENS_OVERLAY_TOP_LEFT, "Top left corner", "top-left"},
      {GST_ENS_OVERLAY_TOP_RIGHT, "Top right corner", "top-right"},
      {GST_ENS_OVERLAY_BOTTOM_LEFT, "Bottom left corner", "bottom-left"},
      {GST_ENS_OVERLAY_BOTTOM_RIGHT, "Bottom right corner", "bottom-right"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstEnsOverlayPosition", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------ scene from metas */

static void scene_item_clear(gpointer p)
{
  g_free(((SceneItem *)p)->text);
}

/* Appends the text of one result: "87.3%\tlabel" lines (or bare labels). */
static void append_result_lines(GString *s, const GstEnsClassificationMeta *meta, guint max_lines,
                                gboolean show_scores)
{
  guint n = meta->n_entries;
  if (max_lines > 0 && n > max_lines)
    n = max_lines;
  for (guint i = 0; i < n; i++) {
    const GstEnsClassEntry *e = &meta->entries[i];
    if (i > 0)
      g_string_append_c(s, '\n');
    if (show_scores)
      g_string_append_printf(s, "%.1f%%\t", 100.0 * e->score);
    if (e->label != NULL && e->label[0] != '\0')
      g_string_append(s, e->label);
    else
      g_string_append_printf(s, "class %d", e->class_id);
  }
}

/* Builds the list of things to draw and the key that identifies their look. */
static void collect_scene(GstBuffer *buf, const Settings *st, const GstVideoInfo *info,
                          GArray *items, GString *key)
{
  gpointer state = NULL;
  GstEnsClassificationMeta *meta;

  g_string_printf(key, "%dx%d|%d|%s|%d|%08x|%08x|%08x|%08x|%u|%d|%s", GST_VIDEO_INFO_WIDTH(info),
                  GST_VIDEO_INFO_HEIGHT(info), st->position, st->font_desc, st->auto_resize,
                  st->text_color, st->box_color, st->bg_color, st->banner_color, st->max_labels,
                  st->show_scores, st->banner ? st->banner : "");

  while ((meta = gst_buffer_iterate_ens_classification_meta(buf, &state)) != NULL) {
    SceneItem it = {0};
    GString *text;

    if (meta->n_entries == 0 || meta->entries == NULL)
      continue;
    text = g_string_new(NULL);
    it.is_roi = !meta->full_frame;
    if (it.is_roi) {
      it.x = meta->x;
      it.y = meta->y;
      it.w = meta->width;
      it.h = meta->height;
      append_result_lines(text, meta, 1, st->show_scores);
      /* A tab reads badly on a one-line tag. */
      g_strdelimit(text->str, "\t", ' ');
    } else {
      append_result_lines(text, meta, st->max_labels, st->show_scores);
    }
    it.text = g_string_free(text, FALSE);
    g_string_append_printf(key, "|%d,%d,%d,%d,%d:%s", it.is_roi, it.x, it.y, it.w, it.h, it.text);
    g_array_append_val(items, it);
  }
}

/* ------------------------------------------------------------------ rendering */

/* Premultiplied native-endian ARGB32 pixel of an ARGB colour (cairo's and the overlay
 * composition's layout). */
static guint32 premultiply(guint c)
{
  guint a = c >> 24, r = (c >> 16) & 255, g = (c >> 8) & 255, b = c & 255;
  return (a << 24) | ((r * a + 127) / 255) << 16 | ((g * a + 127) / 255) << 8 |
         ((b * a + 127) / 255);
}

static void cairo_set_argb(cairo_t *cr, guint c)
{
  cairo_set_source_rgba(cr, ((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0, (c & 255) / 255.0,
                        (c >> 24) / 255.0);
}

static void surface_destroy_notify(gpointer data)
{
  cairo_surface_destroy((cairo_surface_t *)data);
}

/* Wraps a rendered surface into an overlay rectangle placed at (x, y). */
static GstVideoOverlayRectangle *rectangle_from_surface(cairo_surface_t *surface, gint x, gint y)
{
  gint w = cairo_image_surface_get_width(surface), h = cairo_image_surface_get_height(surface);
  gint stride = cairo_image_surface_get_stride(surface);
  gsize offset[GST_VIDEO_MAX_PLANES] = {0};
  gint strides[GST_VIDEO_MAX_PLANES] = {stride};
  GstBuffer *buf;
  GstVideoOverlayRectangle *rect;

  cairo_surface_flush(surface);
  buf = gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, cairo_image_surface_get_data(surface),
                                    (gsize)stride * h, 0, (gsize)stride * h, surface,
                                    surface_destroy_notify);
  gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE,
                                 GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, w, h, 1, offset,
                                 strides);
  rect = gst_video_overlay_rectangle_new_raw(buf, x, y, w, h,
                                             GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  gst_buffer_unref(buf);
  return rect;
}

/* A solid w x h rectangle (box edges). */
static GstVideoOverlayRectangle *solid_rectangle(gint x, gint y, gint w, gint h, guint color)
{
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, MAX(w, 1), MAX(h, 1));
  guint32 px = premultiply(color);
  guint8 *data = cairo_image_surface_get_data(s);
  gint stride = cairo_image_surface_get_stride(s);

  for (gint j = 0; j < MAX(h, 1); j++) {
    guint32 *row = (guint32 *)(data + (gsize)j * stride);
    for (gint i = 0; i < MAX(w, 1); i++)
      row[i] = px;
  }
  cairo_surface_mark_dirty(s);
  return rectangle_from_surface(s, x, y);
}

/* Lays out text with the font; width > 0 wraps and centres it in that many pixels;
 * max_height > 0 ellipsizes the wrapped text to fit that many pixels. */
static void layout_text_full(GstEnsOverlay *self, const gchar *text,
                             const PangoFontDescription *font, gint width, gint max_height,
                             gint tab_px, PangoRectangle *logical)
{
  PangoLayout *layout = self->layout;

  pango_layout_set_font_description(layout, font);
  pango_layout_set_width(layout, width > 0 ? width * PANGO_SCALE : -1);
  /* A positive height limits the wrapped lines; -1 = one paragraph line per wrap, no limit. */
  pango_layout_set_height(layout, max_height > 0 ? max_height * PANGO_SCALE : -1);
  pango_layout_set_ellipsize(layout, max_height > 0 ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
  pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment(layout, width > 0 ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
  if (tab_px > 0) {
    PangoTabArray *tabs = pango_tab_array_new_with_positions(1, TRUE, PANGO_TAB_LEFT, tab_px);
    pango_layout_set_tabs(layout, tabs);
    pango_tab_array_free(tabs);
  } else {
    pango_layout_set_tabs(layout, NULL);
  }
  pango_layout_set_text(layout, text, -1);
  pango_layout_get_pixel_extents(layout, NULL, logical);
}

static void layout_text(GstEnsOverlay *self, const gchar *text, const PangoFontDescription *font,
                        gint width, gint tab_px, PangoRectangle *logical)
{
  layout_text_full(self, text, font, width, 0, tab_px, logical);
}

/* Renders text on a background into a new surface of exactly (w, h), text at (pad, pad). */
static cairo_surface_t *render_text(GstEnsOverlay *self, gint w, gint h, gint pad,
                                    const PangoRectangle *logical, guint fg, guint bg)
{
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create(s);

  cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
  cairo_set_argb(cr, bg);
  cairo_paint(cr);
  cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
  cairo_set_argb(cr, fg);
  cairo_move_to(cr, pad - logical->x, pad - logical->y);
  pango_cairo_update_layout(cr, self->layout);
  pango_cairo_show_layout(cr, self->layout);
  cairo_destroy(cr);
  return s;
}

static void add_rect(GstVideoOverlayComposition **comp, GstVideoOverlayRectangle *rect)
{
  if (*comp == NULL)
    *comp = gst_video_overlay_composition_new(rect);
  else
    gst_video_overlay_composition_add_rectangle(*comp, rect);
  gst_video_overlay_rectangle_unref(rect);
}

/* Width of the score column ("100.0%" plus a gap) for the panel's tab stop. */
static gint score_column_px(GstEnsOverlay *self, const PangoFontDescription *font, gint gap)
{
  PangoRectangle r;
  layout_text(self, "100.0%", font, -1, 0, &r);
  return r.width + gap;
}

static void draw_panel(GstEnsOverlay *self, const SceneItem *it, const Settings *st,
                       const PangoFontDescription *font, gint fw, gint fh, gint pad, gint margin,
                       GstVideoOverlayComposition **comp)
{
  PangoRectangle logical;
  gint tab = st->show_scores ? score_column_px(self, font, 2 * pad) : 0;
  gint w, h, x, y;
  cairo_surface_t *s;

  layout_text(self, it->text, font, -1, tab, &logical);
  w = logical.width + 2 * pad;
  h = logical.height + 2 * pad;
  x = (st->position == GST_ENS_OVERLAY_TOP_RIGHT || st->position == GST_ENS_OVERLAY_BOTTOM_RIGHT)
          ? fw - w - margin
          : margin;
  y = (st->position == GST_ENS_OVERLAY_BOTTOM_LEFT || st->position == GST_ENS_OVERLAY_BOTTOM_RIGHT)
          ? fh - h - margin
          : margin;
  s = render_text(self, w, h, pad, &logical, st->text_color, st->bg_color);
  add_rect(comp, rectangle_from_surface(s, MAX(x, 0), MAX(y, 0)));
}

static void draw_roi(GstEnsOverlay *self, const SceneItem *it, const Settings *st,
                     const PangoFontDescription *font, gint fw, gint fh, gint pad, gint line,
                     GstVideoOverlayComposition **comp)
{
  /* Clip the box to the frame; keep at least one pixel. */
  gint x0 = CLAMP(it->x, 0, fw - 1), y0 = CLAMP(it->y, 0, fh - 1);
  gint x1 = CLAMP(it->x + it->w, x0 + 1, fw), y1 = CLAMP(it->y + it->h, y0 + 1, fh);
  gint bw = x1 - x0, bh = y1 - y0, t = MIN(line, MIN(bw, bh));
  PangoRectangle logical;
  gint tw, th, tx, ty;
  cairo_surface_t *s;

  add_rect(comp, solid_rectangle(x0, y0, bw, t, st->box_color));
  add_rect(comp, solid_rectangle(x0, y1 - t, bw, t, st->box_color));
  add_rect(comp, solid_rectangle(x0, y0, t, bh, st->box_color));
  add_rect(comp, solid_rectangle(x1 - t, y0, t, bh, st->box_color));

  layout_text(self, it->text, font, -1, 0, &logical);
  tw = logical.width + 2 * pad;
  th = logical.height + 2 * pad;
  tx = CLAMP(x0, 0, MAX(fw - tw, 0));
  /* The tag sits on the box's top edge, outside it when there is room. */
  ty = y0 - th >= 0 ? y0 - th : y0;
  s = render_text(self, tw, th, pad, &logical, st->text_color, st->box_color);
  add_rect(comp, rectangle_from_surface(s, tx, ty));
}

/* A strip across the frame with the banner text centred (wrapped, then ellipsized if too long:
 * at most 1 / MAX_BANNER_FRACTION of the frame height). */
static void draw_banner(GstEnsOverlay *self, const Settings *st, const PangoFontDescription *base,
                        gint fw, gint fh, gint pad, GstVideoOverlayComposition **comp)
{
  PangoFontDescription *font = pango_font_description_copy(base);
  PangoRectangle logical;
  gint h, y;
  cairo_surface_t *s;
  gboolean panel_at_top =
      st->position == GST_ENS_OVERLAY_TOP_LEFT || st->position == GST_ENS_OVERLAY_TOP_RIGHT;

  pango_font_description_set_weight(font, PANGO_WEIGHT_BOLD);
  pango_font_description_set_size(font, pango_font_description_get_size(base) * 5 / 4);
  gint max_h = MAX(fh / MAX_BANNER_FRACTION, 1);
  layout_text_full(self, st->banner, font, MAX(fw - 2 * pad, 1), MAX(max_h - 2 * pad, 1), 0,
                   &logical);
  /* even one line may be taller than the cap on a tiny frame: the strip is cut, not grown */
  h = MIN(logical.height + 2 * pad, max_h);
  y = panel_at_top ? fh - h : 0;
  /* Pango centres each line inside the wrap width itself. */
  logical.x = 0;
  s = render_text(self, fw, h, pad, &logical, st->text_color, st->banner_color);
  add_rect(comp, rectangle_from_surface(s, 0, y));
  pango_font_description_free(font);
}

static GstVideoOverlayComposition *build_composition(GstEnsOverlay *self, const Settings *st,
                                                     const GstVideoInfo *info, GArray *items)
{
  gint fw = GST_VIDEO_INFO_WIDTH(info), fh = GST_VIDEO_INFO_HEIGHT(info);
  PangoFontDescription *font = pango_font_description_from_string(st->font_desc);
  GstVideoOverlayComposition *comp = NULL;
  gint size_px, pad, margin, line;

  if (pango_font_description_get_size(font) <= 0)
    pango_font_description_set_size(font, 14 * PANGO_SCALE);
  if (st->auto_resize) {
    double scale = fw / REFERENCE_WIDTH;
    gint size = pango_font_description_get_size(font);
    gint scaled = (gint)lround(size * scale);
    gboolean absolute = pango_font_description_get_size_is_absolute(font);
    /* the legibility floor, in the description's unit (pixels, or points at 96 dpi) */
    gint min_size =
        absolute ? MIN_AUTO_FONT_PX * PANGO_SCALE : MIN_AUTO_FONT_PX * PANGO_SCALE * 72 / 96;
    if (scaled < min_size)
      GST_LOG_OBJECT(self, "auto-resize: font held at the %d px minimum", MIN_AUTO_FONT_PX);
    if (absolute)
      pango_font_description_set_absolute_size(font, MAX(scaled, min_size));
    else
      pango_font_description_set_size(font, MAX(scaled, min_size));
  }
  /* Spacing follows the font size (points at 96 dpi, as Pango's cairo font map uses). */
  size_px = pango_font_description_get_size(font) / PANGO_SCALE;
  if (!pango_font_description_get_size_is_absolute(font))
    size_px = size_px * 96 / 72;
  pad = MAX(size_px / 4, 2);
  margin = MAX(size_px / 2, 2);
  line = MAX(size_px / 6, 2);

  for (guint i = 0; i < items->len; i++) {
    const SceneItem *it = &g_array_index(items, SceneItem, i);
    if (it->is_roi)
      draw_roi(self, it, st, font, fw, fh, pad, line, &comp);
    else
      draw_panel(self, it, st, font, fw, fh, pad, margin, &comp);
  }
  if (st->banner != NULL && st->banner[0] != '\0')
    draw_banner(self, st, font, fw, fh, pad, &comp);
  pango_font_description_free(font);
  return comp;
}

/* ------------------------------------------------------------------ element */

static void settings_copy(const Settings *from, Settings *to)
{
  *to = *from;
  to->font_desc = g_strdup(from->font_desc);
  to->banner = g_strdup(from->banner);
}

static void settings_clear(Settings *s)
{
  g_clear_pointer(&s->font_desc, g_free);
  g_clear_pointer(&s->banner, g_free);
}

static GstFlowReturn gst_ens_overlay_transform_frame_ip(GstVideoFilter *filter,
                                                        GstVideoFrame *frame)
{
  GstEnsOverlay *self = GST_ENS_OVERLAY(filter);
  Settings st;
  GArray *items = g_array_new(FALSE, TRUE, sizeof(SceneItem));
  GString *key = g_string_new(NULL);

  g_array_set_clear_func(items, scene_item_clear);
  GST_OBJECT_LOCK(self);
  settings_copy(&self->props, &st);
  GST_OBJECT_UNLOCK(self);

  collect_scene(frame->buffer, &st, &frame->info, items, key);
  if (items->len == 0 && (st.banner == NULL || st.banner[0] == '\0')) {
    /* Nothing to draw on this frame; the cache stays for the next result. */
  } else {
    if (self->composition == NULL || !g_string_equal(key, self->key)) {
      g_clear_pointer(&self->composition, gst_video_overlay_composition_unref);
      self->composition = build_composition(self, &st, &frame->info, items);
      g_string_assign(self->key, key->str);
      GST_LOG_OBJECT(self, "rendered new overlay: %s", key->str);
    }
    if (self->composition != NULL && !gst_video_overlay_composition_blend(self->composition, frame))
      GST_WARNING_OBJECT(self, "could not blend the overlay into the frame");
  }

  g_string_free(key, TRUE);
  g_array_free(items, TRUE);
  settings_clear(&st);
  return GST_FLOW_OK;
}

static gboolean gst_ens_overlay_start(GstBaseTransform *trans)
{
  GstEnsOverlay *self = GST_ENS_OVERLAY(trans);
  self->fontmap = pango_cairo_font_map_new();
  self->context = pango_font_map_create_context(self->fontmap);
  self->layout = pango_layout_new(self->context);
  g_string_truncate(self->key, 0);
  return TRUE;
}

static gboolean gst_ens_overlay_stop(GstBaseTransform *trans)
{
  GstEnsOverlay *self = GST_ENS_OVERLAY(trans);
  g_clear_pointer(&self->composition, gst_video_overlay_composition_unref);
  g_clear_object(&self->layout);
  g_clear_object(&self->context);
  g_clear_object(&self->fontmap);
  return TRUE;
}

static void gst_ens_overlay_set_property(GObject *object, guint prop_id, const GValue *value,
                                         GParamSpec *pspec)
{
  GstEnsOverlay *self = GST_ENS_OVERLAY(object);
  Settings *p = &self->props;

  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_POSITION:
      p->position = g_value_get_enum(value);
      break;
    case PROP_FONT_DESC:
      g_free(p->font_desc);
      p->font_desc = g_value_dup_string(value);
      if (p->font_desc == NULL)
        p->font_desc = g_strdup(DEFAULT_FONT_DESC);
      break;
    case PROP_AUTO_RESIZE:
      p->auto_resize = g_value_get_boolean(value);
      break;
    case PROP_TEXT_COLOR:
      p->text_color = g_value_get_uint(value);
      break;
    case PROP_BOX_COLOR:
      p->box_color = g_value_get_uint(value);
      break;
    case PROP_BACKGROUND_COLOR:
      p->bg_color = g_value_get_uint(value);
      break;
    case PROP_BANNER_COLOR:
      p->banner_color = g_value_get_uint(value);
      break;
    case PROP_MAX_LABELS:
      p->max_labels = g_value_get_uint(value);
      break;
    case PROP_SHOW_SCORES:
      p->show_scores = g_value_get_boolean(value);
      break;
    case PROP_BANNER:
      g_free(p->banner);
      p->banner = g_value_dup_string(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ens_overlay_get_property(GObject *object, guint prop_id, GValue *value,
                                         GParamSpec *pspec)
{
  GstEnsOverlay *self = GST_ENS_OVERLAY(object);
  Settings *p = &self->props;

  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_POSITION:
      g_value_set_enum(value, p->position);
      break;
    case PROP_FONT_DESC:
      g_value_set_string(value, p->font_desc);
      break;
    case PROP_AUTO_RESIZE:
      g_value_set_boolean(value, p->auto_resize);
      break;
    case PROP_TEXT_COLOR:
      g_value_set_uint(value, p->text_color);
      break;
    case PROP_BOX_COLOR:
      g_value_set_uint(value, p->box_color);
      break;
    case PROP_BACKGROUND_COLOR:
      g_value_set_uint(value, p->bg_color);
      break;
    case PROP_BANNER_COLOR:
      g_value_set_uint(value, p->banner_color);
      break;
    case PROP_MAX_LABELS:
      g_value_set_uint(value, p->max_labels);
      break;
    case PROP_SHOW_SCORES:
      g_value_set_boolean(value, p->show_scores);
      break;
    case PROP_BANNER:
      g_value_set_string(value, p->banner);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ens_overlay_finalize(GObject *object)
{
  GstEnsOverlay *self = GST_ENS_OVERLAY(object);
  settings_clear(&self->props);
  g_string_free(self->key, TRUE);
  G_OBJECT_CLASS(gst_ens_overlay_parent_class)->finalize(object);
}

static void gst_ens_overlay_class_init(GstEnsOverlayClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS(klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT(gst_ens_overlay_debug, "ensoverlay", 0, "ens result overlay");

  gobject_class->set_property = gst_ens_overlay_set_property;
  gobject_class->get_property = gst_ens_overlay_get_property;
  gobject_class->finalize = gst_ens_overlay_finalize;

  g_object_class_install_property(
      gobject_class, PROP_POSITION,
      g_param_spec_enum("position", "Position", "Corner of the full-frame results panel",
                        GST_TYPE_ENS_OVERLAY_POSITION, DEFAULT_POSITION, rw));
  g_object_class_install_property(
      gobject_class, PROP_FONT_DESC,
      g_param_spec_string("font-desc", "Font description",
                          "Pango font description of the text, e.g. \"Sans 14\"", DEFAULT_FONT_DESC,
                          rw));
  g_object_class_install_property(
      gobject_class, PROP_AUTO_RESIZE,
      g_param_spec_boolean("auto-resize", "Auto resize",
                           "Scale the font with the frame width (the size is for 640 pixels), "
                           "never below " G_STRINGIFY(MIN_AUTO_FONT_PX) " pixels",
                           DEFAULT_AUTO_RESIZE, rw));
  g_object_class_install_property(gobject_class, PROP_TEXT_COLOR,
                                  g_param_spec_uint("text-color", "Text colour",
                                                    "Colour of the text, big-endian ARGB", 0,
                                                    G_MAXUINT32, DEFAULT_TEXT_COLOR, rw));
  g_object_class_install_property(
      gobject_class, PROP_BOX_COLOR,
      g_param_spec_uint("box-color", "Box colour",
                        "Colour of region boxes and their label tags, big-endian ARGB", 0,
                        G_MAXUINT32, DEFAULT_BOX_COLOR, rw));
  g_object_class_install_property(
      gobject_class, PROP_BACKGROUND_COLOR,
      g_param_spec_uint("background-color", "Background colour",
                        "Colour behind the results panel, big-endian ARGB", 0, G_MAXUINT32,
                        DEFAULT_BACKGROUND_COLOR, rw));
  g_object_class_install_property(gobject_class, PROP_BANNER_COLOR,
                                  g_param_spec_uint("banner-color", "Banner colour",
                                                    "Colour of the banner strip, big-endian ARGB",
                                                    0, G_MAXUINT32, DEFAULT_BANNER_COLOR, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_LABELS,
      g_param_spec_uint("max-labels", "Max labels",
                        "Most labels shown for a full-frame result (0 = all in the meta)", 0, 1000,
                        DEFAULT_MAX_LABELS, rw));
  g_object_class_install_property(gobject_class, PROP_SHOW_SCORES,
                                  g_param_spec_boolean("show-scores", "Show scores",
                                                       "Show each label's score in percent",
                                                       DEFAULT_SHOW_SCORES, rw));
  g_object_class_install_property(
      gobject_class, PROP_BANNER,
      g_param_spec_string("banner", "Banner",
                          "Text drawn in a strip across the frame (e.g. a warning); empty = none. "
                          "Long text is wrapped, then ellipsized: the strip takes at most a third "
                          "of the frame height",
                          NULL, rw));

  gst_element_class_set_static_metadata(
      element_class, "ens result overlay", "Filter/Effect/Video",
      "Draws ens classification results (top-k labels, region boxes) on the video", GST_ENS_AUTHOR);
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_ens_overlay_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_ens_overlay_stop);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_ens_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api(GST_TYPE_ENS_OVERLAY_POSITION, 0);
}

static void gst_ens_overlay_init(GstEnsOverlay *self)
{
  self->props.position = DEFAULT_POSITION;
  self->props.font_desc = g_strdup(DEFAULT_FONT_DESC);
  self->props.auto_resize = DEFAULT_AUTO_RESIZE;
  self->props.text_color = DEFAULT_TEXT_COLOR;
  self->props.box_color = DEFAULT_BOX_COLOR;
  self->props.bg_color = DEFAULT_BACKGROUND_COLOR;
  self->props.banner_color = DEFAULT_BANNER_COLOR;
  self->props.max_labels = DEFAULT_MAX_LABELS;
  self->props.show_scores = DEFAULT_SHOW_SCORES;
  self->props.banner = NULL;
  self->key = g_string_new(NULL);
}
