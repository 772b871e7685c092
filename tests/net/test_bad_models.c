/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_bad_models.c - loading problems give a clear error (status + message naming the file /
 * tensor / option), never a crash or a leak (the ASan pass runs this): missing, garbage,
 * empty and truncated files, wrong shapes, missing / extra tensors, integer weights, a file of
 * no known variant, bad options, hub directories. Also: num_batches_tracked may be absent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ens_test.h"
#include "model_internal.h"
#include "st_write.h"

static char gen[4096];
static const char *weights_b0;
static float *input_b0;

static const char *gen_path(const char *name)
{
  static char p[8][4200];
  static int i;
  i = (i + 1) % 8;
  snprintf(p[i], sizeof p[i], "%s/%s", gen, name);
  return p[i];
}

/* Load must fail with `code` and a message containing every non-NULL needle. */
static void expect_fail(const char *path, const ens_options *opt, ens_status code, const char *n1,
                        const char *n2)
{
  ens_error err;
  ens_model *m = (ens_model *)&err; /* must be reset to NULL */
  ens_status st = ens_model_load(path, opt, &m, &err);
  CHECK(st == code, "%s: status %d (%s), expected %d: %s", path, st, ens_status_name(st), code,
        err.message);
  CHECK(m == NULL, "%s: model not NULL on failure", path);
  CHECK(!n1 || strstr(err.message, n1), "%s: message lacks '%s': %s", path, n1, err.message);
  CHECK(!n2 || strstr(err.message, n2), "%s: message lacks '%s': %s", path, n2, err.message);
  if (st == code)
    printf("ok: %s\n", err.message);
  if (st == ENS_OK)
    ens_model_free(m);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(data, 1, n, f) == n, "write %s", path);
  if (f)
    fclose(f);
}

static void files_that_are_not_models(void)
{
  expect_fail(gen_path("does_not_exist.safetensors"), NULL, ENS_ERR_IO, "cannot open model '",
              "does_not_exist.safetensors': No such file or directory");
  write_bytes(gen_path("empty.safetensors"), "", 0);
  expect_fail(gen_path("empty.safetensors"), NULL, ENS_ERR_FORMAT, "empty.safetensors", NULL);
  unsigned char junk[4096];
  uint64_t s = 12345;
  for (size_t i = 0; i < sizeof junk; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    junk[i] = (unsigned char)(s >> 56);
  }
  write_bytes(gen_path("garbage.safetensors"), junk, sizeof junk);
  expect_fail(gen_path("garbage.safetensors"), NULL, ENS_ERR_FORMAT, "garbage.safetensors", NULL);

  /* a b0 file cut in half, and one cut inside its JSON header */
  size_t size;
  char *all = ens_test_read_file(weights_b0, &size);
  write_bytes(gen_path("truncated.safetensors"), all, (size_t)size / 2);
  expect_fail(gen_path("truncated.safetensors"), NULL, ENS_ERR_FORMAT, "truncated.safetensors",
              NULL);
  write_bytes(gen_path("truncated_header.safetensors"), all, 100);
  expect_fail(gen_path("truncated_header.safetensors"), NULL, ENS_ERR_FORMAT,
              "truncated_header.safetensors", NULL);
  free(all);
}

/* Rewrites b0 through `edit` (which may change the entry list) into gen/name. */
typedef int (*edit_fn)(st_entry *e, int n);

static const char *rewrite(const char *name, edit_fn edit)
{
  ens_safetensors st;
  ens_error err;
  CHECK_OK(ens_st_open(weights_b0, &st, &err), &err);
  st_entry *e = st_entries_of(&st);
  e = realloc(e, sizeof *e * ((size_t)st.count + 4));
  int n = edit(e, st.count);
  const char *path = gen_path(name);
  CHECK(st_write_file(path, e, n) == 0, "write %s", path);
  free(e);
  ens_st_close(&st);
  return path;
}

static int find(st_entry *e, int n, const char *name)
{
  for (int i = 0; i < n; i++)
    if (strcmp(e[i].name, name) == 0)
      return i;
  fprintf(stderr, "FAIL: no %s in b0\n", name);
  exit(1);
}

static int edit_wrong_shape(st_entry *e, int n)
{
  int i = find(e, n, "blocks.1.0.conv_pw.weight"); /* [96, 16, 1, 1] */
  e[i].shape[0] = 16;
  e[i].shape[1] = 96;
  return n;
}

static int edit_missing(st_entry *e, int n)
{
  int i = find(e, n, "blocks.2.1.se.conv_reduce.bias");
  memmove(&e[i], &e[i + 1], sizeof *e * (size_t)(n - i - 1));
  return n - 1;
}

static int edit_extra(st_entry *e, int n)
{
  static const float v[4] = {1, 2, 3, 4};
  e[n] = e[0];
  snprintf(e[n].name, sizeof e[n].name, "extra.weight");
  e[n].dtype = "F32";
  e[n].ndim = 1;
  e[n].shape[0] = 4;
  e[n].data = v;
  e[n].nbytes = sizeof v;
  return n + 1;
}

static int edit_no_batches_tracked(st_entry *e, int n)
{
  int k = 0;
  for (int i = 0; i < n; i++)
    if (!strstr(e[i].name, "num_batches_tracked"))
      e[k++] = e[i];
  return k;
}

static int edit_int_weights(st_entry *e, int n)
{
  static int64_t v[32];
  int i = find(e, n, "bn1.running_var"); /* [32] */
  e[i].dtype = "I64";
  e[i].data = v;
  e[i].nbytes = sizeof v;
  return n;
}

static int edit_drop_stage6(st_entry *e, int n)
{
  int k = 0;
  for (int i = 0; i < n; i++)
    if (strncmp(e[i].name, "blocks.6.", 9) != 0)
      e[k++] = e[i];
  return k;
}

static int edit_stem_3d(st_entry *e, int n)
{
  int i = find(e, n, "conv_stem.weight"); /* [32, 3, 3, 3] */
  e[i].ndim = 3;
  e[i].shape[2] = 9;
  return n;
}

static int edit_classifier_in(st_entry *e, int n)
{
  int i = find(e, n, "classifier.weight"); /* [1000, 1280] */
  e[i].shape[0] = 1280;
  e[i].shape[1] = 1000;
  return n;
}

/* One weight element set to `v` (a copy of the F32 tensor: the entries point into a read-only
 * mapping). */
static int set_element(st_entry *e, int n, const char *name, size_t at, float v)
{
  static float buf[4][4096];
  static int used;
  int i = find(e, n, name);
  float *copy = buf[used++ % 4];
  if (strcmp(e[i].dtype, "F32") != 0 || e[i].nbytes > sizeof buf[0] ||
      at >= e[i].nbytes / sizeof(float)) {
    fprintf(stderr, "FAIL: %s is not a small F32 tensor\n", name);
    exit(1);
  }
  memcpy(copy, e[i].data, e[i].nbytes);
  copy[at] = v;
  e[i].data = copy;
  return n;
}

static int edit_nan_dw(st_entry *e, int n)
{
  return set_element(e, n, "blocks.3.0.conv_dw.weight", 17, NAN); /* [240, 1, 3, 3] */
}

static int edit_inf_bias(st_entry *e, int n)
{
  return set_element(e, n, "classifier.bias", 5, -INFINITY);
}

static int edit_empty_classifier(st_entry *e, int n)
{
  int w = find(e, n, "classifier.weight"), b = find(e, n, "classifier.bias");
  e[w].shape[0] = e[b].shape[0] = 0;
  e[w].nbytes = e[b].nbytes = 0;
  return n;
}

static void broken_tensors(void)
{
  /* issue 10: NaN / Inf weights are refused by tensor name; an empty head names its shape */
  expect_fail(rewrite("nan_dw.safetensors", edit_nan_dw), NULL, ENS_ERR_MODEL,
              "tensor blocks.3.0.conv_dw.weight has 1 non-finite value", "element 17");
  expect_fail(rewrite("inf_bias.safetensors", edit_inf_bias), NULL, ENS_ERR_MODEL,
              "tensor classifier.bias has 1 non-finite value", "= -inf");
  expect_fail(rewrite("empty_classifier.safetensors", edit_empty_classifier), NULL, ENS_ERR_MODEL,
              "classifier.weight has shape [0, 1280]", "expected [K, 1280] with 1 <= K");

  expect_fail(rewrite("wrong_shape.safetensors", edit_wrong_shape), NULL, ENS_ERR_MODEL,
              "blocks.1.0.conv_pw.weight", "expected [96, 16, 1, 1]");
  expect_fail(rewrite("missing.safetensors", edit_missing), NULL, ENS_ERR_MODEL,
              "missing tensor blocks.2.1.se.conv_reduce.bias", NULL);
  expect_fail(rewrite("extra.safetensors", edit_extra), NULL, ENS_ERR_MODEL,
              "unexpected tensor extra.weight", NULL);
  expect_fail(rewrite("int_weights.safetensors", edit_int_weights), NULL, ENS_ERR_MODEL,
              "bn1.running_var", "I64");
  expect_fail(rewrite("no_stage6.safetensors", edit_drop_stage6), NULL, ENS_ERR_MODEL,
              "no tf_efficientnet variant", "6 stages of [1 2 2 3 3 4]");
  expect_fail(rewrite("stem_3d.safetensors", edit_stem_3d), NULL, ENS_ERR_MODEL, "conv_stem.weight",
              NULL);
  expect_fail(rewrite("classifier_in.safetensors", edit_classifier_in), NULL, ENS_ERR_MODEL,
              "classifier.weight", "expected [num_classes, 1280]");

  /* without num_batches_tracked: the same model, bit for bit */
  const char *p = rewrite("no_nbt.safetensors", edit_no_batches_tracked);
  ens_error err;
  ens_model *a = NULL, *b = NULL;
  CHECK_OK(ens_model_load(p, NULL, &a, &err), &err);
  CHECK_OK(ens_model_load(weights_b0, NULL, &b, &err), &err);
  float la[1000], lb[1000];
  CHECK_OK(ens_model_forward(a, input_b0, 1, la, NULL, &err), &err);
  CHECK_OK(ens_model_forward(b, input_b0, 1, lb, NULL, &err), &err);
  CHECK(memcmp(la, lb, sizeof la) == 0, "logits differ without num_batches_tracked");
  ens_model_free(a);
  ens_model_free(b);
}

static void bad_options(void)
{
  ens_options o;
  ens_options_init(&o);
  o.threads = -1;
  expect_fail(weights_b0, &o, ENS_ERR_ARG, "threads", NULL);
  ens_options_init(&o);
  o.input_height = 300;
  expect_fail(weights_b0, &o, ENS_ERR_ARG, "input_width", NULL);
  ens_options_init(&o);
  o.override_mean_std = 1;
  o.std[1] = 0;
  expect_fail(weights_b0, &o, ENS_ERR_ARG, "std", NULL);
  ens_options_init(&o);
  o.crop_pct = -0.5f;
  expect_fail(weights_b0, &o, ENS_ERR_ARG, "crop_pct", NULL);
  ens_options_init(&o);
  o.labels_path = gen_path("three_labels.txt");
  write_bytes(o.labels_path, "a\nb\nc\n", 6);
  expect_fail(weights_b0, &o, ENS_ERR_ARG, "labels file",
              "has 3 labels, but the model has 1000 classes");
  o.labels_path = gen_path("no_such_labels.txt");
  expect_fail(weights_b0, &o, ENS_ERR_IO, "cannot open labels file '", "': No such file");

  ens_error err;
  ens_model *m = (ens_model *)&err;
  CHECK(ens_model_new_random("b9", 1000, 1, NULL, &m, &err) == ENS_ERR_ARG && m == NULL &&
            strstr(err.message, "b9"),
        "random b9: %s", err.message);
  CHECK(ens_model_new_random("b0", 0, 1, NULL, &m, &err) == ENS_ERR_ARG, "random 0 classes");
  CHECK(ens_model_load(NULL, NULL, &m, &err) == ENS_ERR_ARG && m == NULL, "NULL path");

  ens_model *ok = NULL;
  CHECK_OK(ens_model_load(weights_b0, NULL, &ok, &err), &err);
  float l[1000];
  CHECK(ens_model_forward(ok, NULL, 1, l, NULL, &err) == ENS_ERR_ARG, "NULL input");
  CHECK(ens_model_forward(ok, input_b0, 0, l, NULL, &err) == ENS_ERR_ARG, "batch 0");
  ens_model_free(ok);
}

static void hub_directories(void)
{
  char *nc10 = ens_test_weights("b0", "--num-classes 10", "b0_nc10");
  const char *dir = gen_path("hub_b0_nc10");
  mkdir(dir, 0755);
  char p[4300], q[4300];
  snprintf(p, sizeof p, "%s/model.safetensors", dir);
  unlink(p);
  CHECK(symlink(nc10, p) == 0, "symlink %s", p);
  snprintf(q, sizeof q, "%s/config.json", dir);
  const char *cfg =
      "{\"architecture\": \"tf_efficientnet_b0\", \"num_classes\": 10, \"num_features\": 1280,"
      " \"label_names\": [\"zero\", \"one\", \"two\", \"three\", \"four\", \"five\", \"six\","
      " \"seven\", \"eight\", \"nine\"], \"pretrained_cfg\": {\"tag\": \"ns_jft_in1k\","
      " \"input_size\": [3, 256, 192], \"interpolation\": \"bilinear\", \"crop_pct\": 0.9,"
      " \"mean\": [0.5, 0.5, 0.5], \"std\": [0.25, 0.25, 0.25], \"num_classes\": 10}}";
  write_bytes(q, cfg, strlen(cfg));
  ens_error err;
  ens_model *m = NULL;
  CHECK_OK(ens_model_load(dir, NULL, &m, &err), &err);
  const ens_model_info *in = ens_model_get_info(m);
  CHECK(strcmp(in->name, "tf_efficientnet_b0.ns_jft_in1k") == 0, "name %s", in->name);
  CHECK(in->num_classes == 10 && strcmp(ens_model_label(m, 7), "seven") == 0, "labels");
  CHECK(in->input_height == 256 && in->input_width == 192, "input %dx%d", in->input_width,
        in->input_height);
  CHECK(in->interpolation == ENS_INTERP_BILINEAR && in->crop_pct == 0.9f && in->mean[0] == 0.5f &&
            in->std[2] == 0.25f,
        "pretrained cfg not applied");
  ens_preprocess_params pp;
  ens_model_preprocess_params(m, &pp);
  CHECK(pp.out_height == 256 && pp.out_width == 192 && pp.crop_pct == 0.9f &&
            pp.interpolation == ENS_INTERP_BILINEAR && pp.mean[1] == 0.5f,
        "preprocess params");
  ens_model_free(m);

  /* options override the config */
  ens_options o;
  ens_options_init(&o);
  o.input_height = o.input_width = 224;
  o.interpolation = ENS_INTERP_BICUBIC;
  CHECK_OK(ens_model_load(dir, &o, &m, &err), &err);
  in = ens_model_get_info(m);
  CHECK(in->input_height == 224 && in->interpolation == ENS_INTERP_BICUBIC, "override");
  ens_model_free(m);

  /* config disagreeing with the tensors */
  const char *bad = "{\"architecture\": \"tf_efficientnet_b3\", \"num_classes\": 10}";
  write_bytes(q, bad, strlen(bad));
  expect_fail(dir, NULL, ENS_ERR_MODEL, "config.json: architecture tf_efficientnet_b3", "b0");
  const char *bad2 = "{\"num_classes\": 1000}";
  write_bytes(q, bad2, strlen(bad2));
  expect_fail(dir, NULL, ENS_ERR_MODEL, "config.json: num_classes 1000", "10 classes");
  write_bytes(q, "{\"num_classes\": ", 16);
  expect_fail(dir, NULL, ENS_ERR_FORMAT, "config.json", NULL);
  /* label_names of the wrong length is an error even without num_classes (issue 10 item 6) */
  const char *bad3 = "{\"label_names\": [\"a\", \"b\", \"c\"]}";
  write_bytes(q, bad3, strlen(bad3));
  expect_fail(dir, NULL, ENS_ERR_ARG, "config.json': label_names has 3 labels",
              "but the model has 10 classes");
  unlink(q);
  CHECK_OK(ens_model_load(dir, NULL, &m, &err), &err); /* config.json is optional */
  CHECK(strcmp(ens_model_label(m, 7), "class_7") == 0, "label %s", ens_model_label(m, 7));
  /* a bare 10-class head is not the pretrained ns_jft_in1k model: named for what it is */
  CHECK(strcmp(ens_model_get_info(m)->name, "tf_efficientnet_b0 (10 classes)") == 0,
        "bare 10-class name %s", ens_model_get_info(m)->name);
  ens_model_free(m);
  unlink(p);
  expect_fail(dir, NULL, ENS_ERR_IO, "cannot open model '", "model.safetensors': No such file");
  rmdir(dir);
  free(nc10);
}

/* The rewritten b0 copies are ~20 MB each: remove what this test wrote. */
static void cleanup(void)
{
  static const char *names[] = {"empty.safetensors",         "garbage.safetensors",
                                "truncated.safetensors",     "truncated_header.safetensors",
                                "wrong_shape.safetensors",   "missing.safetensors",
                                "extra.safetensors",         "int_weights.safetensors",
                                "no_stage6.safetensors",     "stem_3d.safetensors",
                                "classifier_in.safetensors", "no_nbt.safetensors",
                                "three_labels.txt",          "nan_dw.safetensors",
                                "inf_bias.safetensors",      "empty_classifier.safetensors"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    unlink(gen_path(names[i]));
  rmdir(gen);
}

int main(void)
{
  /* a directory of our own: other tests write into the generated dir too */
  snprintf(gen, sizeof gen, "%s/net_bad_models", ens_test_gen_dir());
  mkdir(gen, 0755);
  char *w = ens_test_weights("b0", NULL, "b0");
  weights_b0 = w;
  size_t n;
  input_b0 = ens_test_load_f32(ens_test_shared_path("goldens/b0.safetensors"), "input", &n, NULL);
  files_that_are_not_models();
  broken_tensors();
  bad_options();
  hub_directories();
  cleanup();
  free(input_b0);
  free(w);
  return ens_test_finish("bad_models");
}
