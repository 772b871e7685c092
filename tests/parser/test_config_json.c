/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_config_json.c - timm hub config.json: the real layout, label lists and dicts, the legacy
 * single-dict layout, and wrong types named by key. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_json.h"
#include "ens_test.h"

/* As timm's save_config_for_hf writes it for tf_efficientnet_b0.ns_jft_in1k (json.dump,
 * indent=2), trimmed to 3 classes so label_names stays short. */
static const char *sample =
    "{\n"
    "  \"architecture\": \"tf_efficientnet_b0\",\n"
    "  \"num_classes\": 3,\n"
    "  \"num_features\": 1280,\n"
    "  \"global_pool\": \"avg\",\n"
    "  \"label_names\": [\n    \"tench\",\n    \"caf\\u00e9\",\n    \"great white shark\"\n  ],\n"
    "  \"pretrained_cfg\": {\n"
    "    \"tag\": \"ns_jft_in1k\",\n"
    "    \"custom_load\": false,\n"
    "    \"input_size\": [\n      3,\n      224,\n      224\n    ],\n"
    "    \"fixed_input_size\": false,\n"
    "    \"interpolation\": \"bicubic\",\n"
    "    \"crop_pct\": 0.875,\n"
    "    \"crop_mode\": \"center\",\n"
    "    \"mean\": [\n      0.485,\n      0.456,\n      0.406\n    ],\n"
    "    \"std\": [\n      0.229,\n      0.224,\n      0.225\n    ],\n"
    "    \"num_classes\": 1000,\n"
    "    \"pool_size\": [\n      7,\n      7\n    ],\n"
    "    \"first_conv\": \"conv_stem\",\n"
    "    \"classifier\": \"classifier\"\n"
    "  }\n"
    "}\n";

static char *write_file(const char *name, const char *text)
{
  char *path = malloc(4400);
  snprintf(path, 4400, "%s/%s_%d.json", ens_test_gen_dir(), name, (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(text, 1, strlen(text), f) != strlen(text)) {
    fprintf(stderr, "FAIL: cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
  return path;
}

static void test_sample(void)
{
  char *path = write_file("config", sample);
  ens_hub_config c;
  ens_error err;
  CHECK_OK(ens_hub_config_load(path, &c, &err), &err);
  CHECK(c.has_architecture && strcmp(c.architecture, "tf_efficientnet_b0") == 0, "arch");
  CHECK(c.has_tag && strcmp(c.tag, "ns_jft_in1k") == 0, "tag");
  CHECK(c.has_num_classes && c.num_classes == 3, "top-level num_classes wins: %d", c.num_classes);
  CHECK(c.has_num_features && c.num_features == 1280, "num_features");
  CHECK(c.has_input_size && c.input_size[0] == 3 && c.input_size[1] == 224 &&
            c.input_size[2] == 224,
        "input_size");
  CHECK(c.has_crop_pct && c.crop_pct == 0.875f, "crop_pct");
  CHECK(c.has_interpolation && c.interpolation == ENS_INTERP_BICUBIC, "interpolation");
  CHECK(c.has_crop_mode && strcmp(c.crop_mode, "center") == 0, "crop_mode");
  CHECK(c.has_mean && c.mean[0] == 0.485f && c.mean[1] == 0.456f && c.mean[2] == 0.406f, "mean");
  CHECK(c.has_std && c.std[0] == 0.229f && c.std[1] == 0.224f && c.std[2] == 0.225f, "std");
  CHECK(c.has_label_names && c.label_count == 3, "labels %d", c.label_count);
  if (c.label_count == 3)
    CHECK(strcmp(c.label_names[0], "tench") == 0 && strcmp(c.label_names[1], "caf\xc3\xa9") == 0 &&
              strcmp(c.label_names[2], "great white shark") == 0,
          "label values");
  ens_hub_config_free(&c);
  ens_hub_config_free(&c);
  unlink(path);
  free(path);

  /* Missing file. */
  ens_status s = ens_hub_config_load("/nonexistent/config.json", &c, &err);
  CHECK(s == ENS_ERR_IO && strstr(err.message, "/nonexistent/config.json"), "missing: %s",
        err.message);
}

static void test_variants(void)
{
  ens_hub_config c;
  ens_error err;
  /* Minimal: everything optional. */
  CHECK_OK(ens_hub_config_parse("{}", 2, "c.json", &c, &err), &err);
  CHECK(!c.has_architecture && !c.has_num_classes && !c.has_input_size && !c.has_label_names &&
            !c.has_mean && !c.has_interpolation,
        "empty config has nothing");
  ens_hub_config_free(&c);

  /* Label dict with a gap, padded to num_classes; bilinear. */
  const char *dict = "{\"num_classes\": 4, \"label_names\": {\"0\": \"a\", \"2\": \"c\"},"
                     " \"pretrained_cfg\": {\"interpolation\": \"bilinear\", \"unknown\": [1]}}";
  CHECK_OK(ens_hub_config_parse(dict, strlen(dict), "c.json", &c, &err), &err);
  CHECK(c.label_count == 4 && strcmp(c.label_names[0], "a") == 0 &&
            strcmp(c.label_names[1], "class_1") == 0 && strcmp(c.label_names[2], "c") == 0 &&
            strcmp(c.label_names[3], "class_3") == 0,
        "dict labels (%d)", c.label_count);
  CHECK(c.interpolation == ENS_INTERP_BILINEAR, "bilinear");
  ens_hub_config_free(&c);

  /* label_names inside pretrained_cfg (timm moves it there on load). */
  const char *inner = "{\"pretrained_cfg\": {\"num_classes\": 2, \"label_names\": [\"x\", \"y\"]}}";
  CHECK_OK(ens_hub_config_parse(inner, strlen(inner), "c.json", &c, &err), &err);
  CHECK(c.num_classes == 2 && c.label_count == 2 && strcmp(c.label_names[1], "y") == 0,
        "pretrained_cfg.label_names");
  ens_hub_config_free(&c);

  /* Legacy single-dict layout with "labels". */
  const char *legacy = "{\"architecture\": \"tf_efficientnet_b3\", \"num_classes\": 2,"
                       " \"input_size\": [3, 300, 300], \"crop_pct\": 0.904,"
                       " \"labels\": [\"p\", \"q\"]}";
  CHECK_OK(ens_hub_config_parse(legacy, strlen(legacy), "c.json", &c, &err), &err);
  CHECK(strcmp(c.architecture, "tf_efficientnet_b3") == 0 && c.input_size[1] == 300 &&
            c.crop_pct == 0.904f && c.label_count == 2 && strcmp(c.label_names[0], "p") == 0,
        "legacy layout");
  ens_hub_config_free(&c);
}

static void bad(const char *text, ens_status want, const char *n1, const char *n2)
{
  ens_hub_config c;
  ens_error err = {0};
  ens_status s = ens_hub_config_parse(text, strlen(text), "bad.json", &c, &err);
  CHECK(s == want, "'%s': status %d want %d (%s)", text, s, want, err.message);
  CHECK(strstr(err.message, "bad.json") != NULL, "no file in '%s'", err.message);
  CHECK(!n1 || strstr(err.message, n1), "'%s' not in '%s'", n1, err.message);
  CHECK(!n2 || strstr(err.message, n2), "'%s' not in '%s'", n2, err.message);
  CHECK(!c.label_names && !c.has_architecture, "output not empty after failure");
  printf("  %s\n", err.message);
}

static void test_bad(void)
{
  /* A malformed file, through the loader. */
  char *path =
      write_file("config_bad", "{\"architecture\": \"tf_efficientnet_b0\",\n \"x\": [1,}\n");
  ens_hub_config c;
  ens_error err;
  ens_status s = ens_hub_config_load(path, &c, &err);
  CHECK(s == ENS_ERR_FORMAT && strstr(err.message, path) && strstr(err.message, "at byte 48"),
        "malformed: %s", err.message);
  unlink(path);
  free(path);

  bad("[1]", ENS_ERR_FORMAT, "not an object", NULL);
  bad("{\"architecture\": 5}", ENS_ERR_FORMAT, "'architecture'", "string");
  bad("{\"num_classes\": \"1000\"}", ENS_ERR_FORMAT, "'num_classes'", "integer");
  bad("{\"num_classes\": 10.5}", ENS_ERR_FORMAT, "'num_classes'", "integer");
  bad("{\"num_classes\": -1}", ENS_ERR_FORMAT, "'num_classes'", "out of range");
  bad("{\"num_features\": 0}", ENS_ERR_FORMAT, "'num_features'", "out of range");
  bad("{\"pretrained_cfg\": []}", ENS_ERR_FORMAT, "'pretrained_cfg'", "object");
  bad("{\"pretrained_cfg\": {\"input_size\": [3, 224]}}", ENS_ERR_FORMAT,
      "'pretrained_cfg.input_size'", "[C, H, W]");
  bad("{\"pretrained_cfg\": {\"input_size\": [3, 224, 0]}}", ENS_ERR_FORMAT,
      "'pretrained_cfg.input_size'", NULL);
  bad("{\"pretrained_cfg\": {\"input_size\": \"224\"}}", ENS_ERR_FORMAT,
      "'pretrained_cfg.input_size'", NULL);
  bad("{\"pretrained_cfg\": {\"crop_pct\": \"0.875\"}}", ENS_ERR_FORMAT,
      "'pretrained_cfg.crop_pct'", "number");
  bad("{\"pretrained_cfg\": {\"crop_pct\": 0}}", ENS_ERR_FORMAT, "'pretrained_cfg.crop_pct'", NULL);
  bad("{\"pretrained_cfg\": {\"interpolation\": 2}}", ENS_ERR_FORMAT,
      "'pretrained_cfg.interpolation'", "string");
  bad("{\"pretrained_cfg\": {\"interpolation\": \"nearest\"}}", ENS_ERR_UNSUPPORTED,
      "'pretrained_cfg.interpolation'", "nearest");
  bad("{\"pretrained_cfg\": {\"mean\": [0.5, 0.5]}}", ENS_ERR_FORMAT, "'pretrained_cfg.mean'",
      "3 entries");
  bad("{\"pretrained_cfg\": {\"mean\": [0.5, \"a\", 0.5]}}", ENS_ERR_FORMAT,
      "'pretrained_cfg.mean'", NULL);
  bad("{\"pretrained_cfg\": {\"std\": [0.5, 0, 0.5]}}", ENS_ERR_FORMAT, "'pretrained_cfg.std'",
      "positive");
  bad("{\"pretrained_cfg\": {\"crop_mode\": null}}", ENS_ERR_FORMAT, "'pretrained_cfg.crop_mode'",
      NULL);
  bad("{\"label_names\": \"tench\"}", ENS_ERR_FORMAT, "'label_names'", NULL);
  bad("{\"label_names\": [\"a\", 7]}", ENS_ERR_FORMAT, "'label_names[1]'", "string");
  bad("{\"label_names\": {\"x\": \"a\"}}", ENS_ERR_FORMAT, "label_names[\"x\"]", "class id");
  bad("{\"label_names\": {\"-1\": \"a\"}}", ENS_ERR_FORMAT, "class id", NULL);
  bad("{\"label_names\": {\"0\": 1}}", ENS_ERR_FORMAT, "label_names[\"0\"]", "string");
  bad("{\"num_classes\": 3, \"label_names\": [\"a\", \"b\"]}", ENS_ERR_FORMAT, "'label_names'",
      "num_classes is 3");
  bad("{\"pretrained_cfg\": {\"label_names\": [1]}}", ENS_ERR_FORMAT,
      "'pretrained_cfg.label_names[0]'", NULL);
}

int main(void)
{
  test_sample();
  test_variants();
  test_bad();
  return ens_test_finish("test_config_json");
}
