/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_custom_model.c - ensclassify model=DIR on a hub directory of a custom width /
 * depth (nano: w0.5 d0.5, 10 classes) written by the training code as ens-train fit writes
 * it: the element loads it, runs at the config's input size (40, not any variant default)
 * and attaches exactly libens's result with the config's 10 label names. */
#include <glib/gstdio.h>

#include "gst_test_util.h"
#include "hub_export.h"

#define NANO_CLASSES 10
#define NANO_INPUT 40

static const char *const nano_labels[NANO_CLASSES] = {"zero", "one", "two",   "three", "four",
                                                      "five", "six", "seven", "eight", "nine"};
static gchar *hub_dir;

/* nano with timm's initialisation and non-trivial BN statistics, exported as a hub dir. */
static void make_hub_dir(void)
{
  ens_error err = {0};
  ens_train_arch arch;
  fail_unless(ens_train_arch_from_mult(0.5, 0.5, NANO_CLASSES, &arch, &err) == ENS_OK, "%s",
              err.message);
  ens_train_graph *g = NULL;
  fail_unless(ens_tg_new(&arch, 1, 32, 32, 1, &g, &err) == ENS_OK, "%s", err.message);
  ens_tg_init(g, 9);
  int count = 0;
  ens_param *p = ens_tg_params(g, &count);
  for (int i = 0; i < count; i++)
    if (g_str_has_suffix(p[i].name, ".running_mean"))
      for (size_t j = 0; j < p[i].numel; j++)
        p[i].data[j] = 0.01f * (float)((j * 7) % 13) - 0.06f;
  hub_dir = g_dir_make_tmp("ens_custom_hub_XXXXXX", NULL);
  fail_unless(hub_dir != NULL);
  ens_hub_export_info h = {.width = 0.5,
                           .depth = 0.5,
                           .class_names = nano_labels,
                           .tag = "gst_test",
                           .input_size = NANO_INPUT,
                           .crop_pct = 0.9f,
                           .interpolation = ENS_INTERP_BICUBIC,
                           .mean = {0.5f, 0.5f, 0.5f},
                           .std = {0.25f, 0.25f, 0.25f}};
  fail_unless(ens_hub_export(hub_dir, g, &h, &err) == ENS_OK, "%s", err.message);
  ens_tg_free(g);
}

static void remove_hub_dir(void)
{
  gchar *f = g_build_filename(hub_dir, "model.safetensors", NULL);
  g_unlink(f);
  g_free(f);
  f = g_build_filename(hub_dir, "config.json", NULL);
  g_unlink(f);
  g_free(f);
  g_rmdir(hub_dir);
  g_free(hub_dir);
  hub_dir = NULL;
}

GST_START_TEST(test_custom_hub_dir)
{
  make_hub_dir();
  ens_options opt;
  ens_options_init(&opt);
  opt.threads = 1;
  ens_model *ref = NULL;
  ens_error err = {0};
  fail_unless(ens_model_load(hub_dir, &opt, &ref, &err) == ENS_OK, "%s", err.message);
  const ens_model_info *info = ens_model_get_info(ref);
  fail_unless_equals_int(info->num_classes, NANO_CLASSES);
  fail_unless_equals_int(info->input_height, NANO_INPUT);
  fail_unless_equals_int(info->input_width, NANO_INPUT);
  fail_unless_equals_string(info->variant, "w0.5 d0.5");
  fail_unless_equals_string(info->name, "tf_efficientnet w0.5 d0.5.gst_test");

  GstVideoInfo vinfo;
  GstBuffer *frame = test_picture_frame(GST_VIDEO_FORMAT_RGB, 80, 60, 1, 0, &vinfo);
  gchar *desc = g_strdup_printf("ensclassify model=\"%s\" threads=1 mode=sync top-k=10", hub_dir);
  GstHarness *h = test_harness_new(desc);
  g_free(desc);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&vinfo));

  ens_class_score want[NANO_CLASSES];
  gint n = test_ref_topk(ref, frame, &vinfo, NULL, NANO_CLASSES, want);
  fail_unless_equals_int(n, NANO_CLASSES);
  fail_unless_equals_int(gst_harness_push(h, gst_buffer_ref(frame)), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(out != NULL);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m != NULL);
  /* same ids, scores and labels as libens at the config's 40x40 */
  test_assert_meta_equals(m, want, n);
  fail_unless_equals_string(m->model_name, info->name);
  gboolean seen[NANO_CLASSES] = {0};
  for (gint i = 0; i < n; i++) {
    fail_unless(want[i].id >= 0 && want[i].id < NANO_CLASSES);
    fail_unless_equals_string(want[i].label, nano_labels[want[i].id]);
    seen[want[i].id] = TRUE;
  }
  for (gint i = 0; i < NANO_CLASSES; i++)
    fail_unless(seen[i], "class %d missing from the top-10", i);

  gst_buffer_unref(out);
  gst_buffer_unref(frame);
  gst_harness_teardown(h);
  ens_model_free(ref);
  remove_hub_dir();
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {TEST_ENTRY(test_custom_hub_dir)};
  return test_run_suite("classify_custom_model", 300, tests, NULL, NULL);
}
