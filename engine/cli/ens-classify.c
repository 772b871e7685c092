/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens-classify - classify still images (JPEG, PNG, PNM) with a timm Noisy Student EfficientNet.
 *
 * Loads the model once, decodes and preprocesses the images exactly as timm's eval transform
 * does, runs them through the network in batches of at most ENS_CLI_BATCH images (bounds the
 * activation memory whatever the number of files), and prints the top-k classes per image as
 * text or JSON lines. Optionally saves all logits / pooled features as .npy arrays, and the
 * feature maps (timm's features_only maps and the forward_features map) as safetensors.
 *
 * Exit status: 0 success, 1 model / image / output error (one line on stderr), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens.h"
#include "cli_args.h"
#include "cli_exit.h"
#include "feature_maps_out.h"
#include "npy.h"
#include "out_file.h"
#include "variant.h"

#ifndef ENS_VERSION
#define ENS_VERSION "unknown"
#endif

#define PROG "ens-classify"
#define EXIT_MODEL_OR_IMAGE 1
#define EXIT_USAGE 2

/* Images per forward pass: large enough to use the batched kernels, small enough that the
 * activation arena stays modest even for l2 at 800x800. */
#define ENS_CLI_BATCH 8

/* Seed of --random-weights models: fixed so runs are reproducible. */
#define ENS_CLI_RANDOM_SEED 0

typedef struct {
  const char *model_path;
  const char *random_variant;
  const char *labels_path;
  const char *logits_out;
  const char *features_out;
  const char *maps_out;
  int topk;
  int json;
  int threads;
  int input_height, input_width;
  ens_precision precision;
  char **images;
  int n_images;
} cli_args;

enum {
  OPT_SAVE_LOGITS = 256,
  OPT_SAVE_FEATURES,
  OPT_RANDOM_WEIGHTS,
  OPT_INPUT_SIZE,
  OPT_PRECISION,
  OPT_SAVE_MAPS,
};

static void print_usage(FILE *f)
{
  fprintf(
      f,
      "Usage: " PROG " [--model PATH|DIR] [OPTION]... IMAGE...\n"
      "Classify JPEG / PNG / PNM images with a timm tf_efficientnet_*_ns model.\n"
      "\n"
      "  -m, --model PATH|DIR       timm .safetensors file, or a hub directory holding\n"
      "                             model.safetensors and config.json (default: the\n"
      "                             embedded Fashion-MNIST model; $ENS_DEFAULT_MODEL\n"
      "                             overrides where it is looked for)\n"
      "      --random-weights VAR   instead of --model: seeded random weights of variant VAR\n"
      "                             (b0..b7, l2); for demos and timing only, the labels and\n"
      "                             scores are meaningless\n"
      "  -l, --labels FILE          class names, one per line (default: config.json\n"
      "                             label_names, else the ImageNet-1k names)\n"
      "  -k, --topk K               classes printed per image (default 5)\n"
      "  -j, --json                 one JSON object per image and line:\n"
      "                             {\"file\":..,\"topk\":[{\"id\":..,\"label\":..,\"prob\":..}]}\n"
      "  -t, --threads N            worker threads (default 0 = all online CPUs)\n"
      "  -s, --input-size H[xW]     network input size (default: the model's, e.g. 224)\n"
      "      --precision f32|bf16   f32 (default) matches timm; bf16 runs the 1x1\n"
      "                             convolutions in bfloat16 (CPUs with AVX512_BF16;\n"
      "                             ~1.4x faster, logits differ by ~1 %% of their range)\n"
      "      --save-logits OUT.npy  write all logits, float32 [images, classes]\n"
      "      --save-features OUT.npy\n"
      "                             write the pooled pre-logits features, float32\n"
      "                             [images, features]\n"
      "                             (a regular file, replaced only when complete; - for\n"
      "                             standard output, the results then go to stderr)\n"
      "      --save-feature-maps OUT.safetensors\n"
      "                             write timm's feature maps, float32 NCHW [images, C, H,\n"
      "                             W]: features_only (blocks.0 .. at strides 2 to 32) and\n"
      "                             forward_features (head)\n"
      "  -h, --help                 show this help and exit\n"
      "  -V, --version              show the version and exit\n"
      "\n"
      "Images run in batches of at most %d. Text output: per image (after a 'FILE:' line\n"
      "when there are several images) one 'label probability' line per class.\n"
      "An image that fails stops the run: the results and saved rows are those of the\n"
      "images before it. Non-finite logits (NaN / Inf weights) are an error.\n"
      "Exit status: 0 ok, 1 model, image or output error, 2 usage error.\n",
      ENS_CLI_BATCH);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, exit status 2. */
static int usage_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, PROG ": ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (see " PROG " --help)\n");
  va_end(ap);
  return EXIT_USAGE;
}

/* Returns -1 to continue, else the exit code (help / version / usage error). */
static int parse_args(int argc, char **argv, cli_args *a)
{
  static const struct option longopts[] = {
      {"model", required_argument, NULL, 'm'},
      {"labels", required_argument, NULL, 'l'},
      {"topk", required_argument, NULL, 'k'},
      {"json", no_argument, NULL, 'j'},
      {"threads", required_argument, NULL, 't'},
      {"input-size", required_argument, NULL, 's'},
      {"save-logits", required_argument, NULL, OPT_SAVE_LOGITS},
      {"save-features", required_argument, NULL, OPT_SAVE_FEATURES},
      {"save-feature-maps", required_argument, NULL, OPT_SAVE_MAPS},
      {"random-weights", required_argument, NULL, OPT_RANDOM_WEIGHTS},
      {"precision", required_argument, NULL, OPT_PRECISION},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  memset(a, 0, sizeof *a);
  a->topk = 5;

  opterr = 0; /* we print our own one-line messages */
  int c;
  while ((c = getopt_long(argc, argv, ":m:l:k:jt:s:hV", longopts, NULL)) != -1) {
    switch (c) {
      case 'm':
        a->model_path = optarg;
        break;
      case 'l':
        a->labels_path = optarg;
        break;
      case 'k':
        if (!ens_cli_parse_int(optarg, 1, INT_MAX, &a->topk))
          return usage_error("invalid --topk '%s': expected a positive integer", optarg);
        break;
      case 'j':
        a->json = 1;
        break;
      case 't':
        if (!ens_cli_parse_int(optarg, 0, 1024, &a->threads))
          return usage_error("invalid --threads '%s': expected 0..1024", optarg);
        break;
      case 's':
        if (!ens_cli_parse_size(optarg, &a->input_height, &a->input_width))
          return usage_error("invalid --input-size '%s': expected H or HxW (1..8192)", optarg);
        break;
      case OPT_SAVE_LOGITS:
        a->logits_out = optarg;
        break;
      case OPT_SAVE_FEATURES:
        a->features_out = optarg;
        break;
      case OPT_SAVE_MAPS:
        a->maps_out = optarg;
        break;
      case OPT_RANDOM_WEIGHTS:
        if (!ens_variant_find(optarg))
          return usage_error("invalid --random-weights '%s': expected b0..b7 or l2", optarg);
        a->random_variant = optarg;
        break;
      case OPT_PRECISION:
        if (!strcmp(optarg, "f32"))
          a->precision = ENS_PRECISION_F32;
        else if (!strcmp(optarg, "bf16"))
          a->precision = ENS_PRECISION_BF16;
        else
          return usage_error("invalid --precision '%s': expected f32 or bf16", optarg);
        break;
      case 'h':
        print_usage(stdout);
        return 0;
      case 'V':
        printf(PROG " " ENS_VERSION "\n");
        return 0;
      case ':':
        return usage_error("option '%s' needs an argument", argv[optind - 1]);
      default:
        if (optopt)
          return usage_error("unknown option '-%c'", optopt);
        return usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (a->model_path && a->random_variant)
    return usage_error("give only one of --model and --random-weights");
  if (optind >= argc)
    return usage_error("no images given");
  if (a->logits_out && a->features_out && ens_out_file_is_stdout(a->logits_out) &&
      ens_out_file_is_stdout(a->features_out))
    return usage_error("only one of --save-logits and --save-features can go to standard output");
  a->images = argv + optind;
  a->n_images = argc - optind;
  return -1;
}

/* ---------------------------------------------------------------- output */

/* JSON string literal of s: escapes quotes, backslashes and control characters, and replaces
 * bytes that are not valid UTF-8 (file names need not be) with U+FFFD. */
static void json_string(FILE *f, const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', f);
  while (*p) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc(c, f);
      p++;
    } else if (c < 0x20) {
      switch (c) {
        case '\n':
          fputs("\\n", f);
          break;
        case '\r':
          fputs("\\r", f);
          break;
        case '\t':
          fputs("\\t", f);
          break;
        case '\b':
          fputs("\\b", f);
          break;
        case '\f':
          fputs("\\f", f);
          break;
        default:
          fprintf(f, "\\u%04x", c);
      }
      p++;
    } else if (c < 0x80) {
      fputc(c, f);
      p++;
    } else {
      /* Length and minimum code point of the sequence; overlongs, surrogates and values above
       * U+10FFFF are invalid. */
      int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? (c < 0xf0 ? 3 : 0) : c >= 0xc2 ? 2 : 0;
      uint32_t cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
      int ok = len > 0;
      for (int i = 1; ok && i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
          ok = 0;
        else
          cp = cp << 6 | (p[i] & 0x3f);
      }
      if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
                 (len == 4 && (cp < 0x10000 || cp > 0x10ffff))))
        ok = 0;
      if (ok) {
        fwrite(p, 1, (size_t)len, f);
        p += len;
      } else {
        fputs("\\ufffd", f);
        p++;
      }
    }
  }
  fputc('"', f);
}

/* Results go to f: stdout, or stderr when an .npy array goes to stdout. */
static void print_result(FILE *f, const cli_args *a, const char *file, const ens_class_score *s,
                         int n)
{
  if (a->json) {
    fputs("{\"file\":", f);
    json_string(f, file);
    fputs(",\"topk\":[", f);
    for (int i = 0; i < n; i++) {
      fprintf(f, "%s{\"id\":%d,\"label\":", i ? "," : "", s[i].id);
      json_string(f, s[i].label ? s[i].label : "");
      fprintf(f, ",\"prob\":%.6g}", (double)s[i].prob); /* finite: ens_softmax_checked */
    }
    fputs("]}\n", f);
    return;
  }
  if (a->n_images > 1)
    fprintf(f, "%s:\n", file);
  for (int i = 0; i < n; i++)
    fprintf(f, "%s %.4f\n", s[i].label ? s[i].label : "", (double)s[i].prob);
}

/* ---------------------------------------------------------------- main work */

typedef struct {
  ens_model *model;
  ens_session *session;
  ens_fmaps maps;      /* when saving them */
  float *input;        /* [ENS_CLI_BATCH, 3, H, W] */
  float *logits;       /* [ENS_CLI_BATCH, classes] */
  float *features;     /* [ENS_CLI_BATCH, features] when saving them */
  float *all_logits;   /* [images, classes] when saving them */
  float *all_features; /* [images, features] when saving them */
  float *probs;        /* [classes] */
  ens_class_score *top;
  ens_out_file logits_file, features_file; /* opened before any work */
  FILE *results;
} cli_state;

static void state_free(cli_state *s)
{
  ens_out_file_abort(&s->logits_file); /* no-op once committed */
  ens_out_file_abort(&s->features_file);
  ens_session_free(s->session);
  ens_fmaps_free(&s->maps);
  ens_model_free(s->model);
  free(s->input);
  free(s->logits);
  free(s->features);
  free(s->all_logits);
  free(s->all_features);
  free(s->probs);
  free(s->top);
}

static int fail(const char *msg)
{
  fprintf(stderr, PROG ": %s\n", msg);
  return EXIT_MODEL_OR_IMAGE;
}

/* Decode images[first .. first+n) into the batch input buffer. Returns how many were loaded;
 * fewer than n when one fails (its error in err). */
static int load_batch(const cli_args *a, const ens_preprocess_params *pp, int first, int n,
                      float *input, ens_error *err)
{
  size_t per_image = (size_t)3 * (size_t)pp->out_height * (size_t)pp->out_width;
  for (int i = 0; i < n; i++) {
    ens_rgb_image img = {0};
    if (ens_image_load(a->images[first + i], &img, err) != ENS_OK)
      return i;
    ens_image view = ens_rgb_image_view(&img);
    ens_status st = ens_preprocess(pp, &view, NULL, input + (size_t)i * per_image, err);
    ens_rgb_image_free(&img);
    if (st != ENS_OK)
      return i;
  }
  return n;
}

/* Opens the --save-* targets: every output path is checked before anything is classified. */
static int open_outputs(const cli_args *a, cli_state *s)
{
  char msg[ENS_ERROR_MAX + 64];
  if (a->logits_out &&
      ens_out_file_open(&s->logits_file, "--save-logits", a->logits_out, msg, sizeof msg))
    return fail(msg);
  if (a->features_out &&
      ens_out_file_open(&s->features_file, "--save-features", a->features_out, msg, sizeof msg))
    return fail(msg);
  return 0;
}

static int save_npy(ens_out_file *o, const float *data, int rows, int cols)
{
  char msg[ENS_ERROR_MAX + 64];
  int64_t shape[2] = {rows, cols};
  if (ens_npy_write_f32(o->f, o->target, data, shape, 2, msg, sizeof msg) != 0 ||
      ens_out_file_commit(o, msg, sizeof msg) != 0) {
    ens_out_file_abort(o);
    return fail(msg);
  }
  return 0;
}

/* Writes the rows of the first `done` images. */
static int save_outputs(const cli_args *a, cli_state *s, int done)
{
  const ens_model_info *info = ens_model_get_info(s->model);
  if (a->logits_out && save_npy(&s->logits_file, s->all_logits, done, info->num_classes))
    return EXIT_MODEL_OR_IMAGE;
  if (a->features_out && save_npy(&s->features_file, s->all_features, done, info->num_features))
    return EXIT_MODEL_OR_IMAGE;
  return 0;
}

/* An image (index `bad`) stopped the run: keep what the images before it gave, then report
 * the error on one line that says what was saved. */
static int stop_at(const cli_args *a, cli_state *s, int bad, const char *why)
{
  fflush(s->results);
  int saving = a->logits_out || a->features_out;
  if (saving && bad > 0) {
    if (save_outputs(a, s, bad)) { /* its own line said why; this one says what stopped us */
      fprintf(stderr, PROG ": %s\n", why);
      return EXIT_MODEL_OR_IMAGE;
    }
    fprintf(stderr, PROG ": %s (the %d image%s before it %s saved)\n", why, bad,
            bad == 1 ? "" : "s", bad == 1 ? "is" : "are");
  } else {
    fprintf(stderr, PROG ": %s%s\n", why,
            saving ? " (no image before it: nothing saved, outputs left as they were)" : "");
  }
  return EXIT_MODEL_OR_IMAGE;
}

/* Prints the top-k of images first .. first+n-1 from s->logits; returns the index of an image
 * whose logits are not finite (its message in err), or first + n. */
static int report_batch(const cli_args *a, cli_state *s, int first, int n, ens_error *err)
{
  const size_t classes = (size_t)ens_model_get_info(s->model)->num_classes;
  for (int i = 0; i < n; i++) {
    if (ens_softmax_checked(s->logits + (size_t)i * classes, (int)classes, s->probs, err) != ENS_OK)
      return first + i;
    int k = ens_topk(s->model, s->probs, (int)classes, a->topk, s->top);
    print_result(s->results, a, a->images[first + i], s->top, k);
  }
  return first + n;
}

static int run(const cli_args *a, cli_state *s)
{
  s->results = stdout;
  if ((a->logits_out && ens_out_file_is_stdout(a->logits_out)) ||
      (a->features_out && ens_out_file_is_stdout(a->features_out)))
    s->results = stderr;
  int rc = open_outputs(a, s);
  if (rc)
    return rc;

  ens_options opt;
  ens_options_init(&opt);
  opt.threads = a->threads;
  opt.input_height = a->input_height;
  opt.input_width = a->input_width;
  opt.labels_path = a->labels_path;
  opt.precision = a->precision;
  int batch_cap = a->n_images < ENS_CLI_BATCH ? a->n_images : ENS_CLI_BATCH;
  opt.max_batch = batch_cap;

  ens_error err = {0};
  char default_model[4096];
  const char *model_path = a->model_path;
  if (!model_path && !a->random_variant) {
    /* Neither given: the embedded default model (ens_default_model_path's rule). */
    if (ens_default_model_path(default_model, sizeof default_model, &err) != ENS_OK)
      return fail(err.message);
    model_path = default_model;
  }
  ens_status st = model_path ? ens_model_load(model_path, &opt, &s->model, &err)
                             : ens_model_new_random(a->random_variant, 1000, ENS_CLI_RANDOM_SEED,
                                                    &opt, &s->model, &err);
  ens_session_options so;
  ens_session_options_init(&so);
  so.threads = a->threads;
  so.max_batch = batch_cap;
  if (st == ENS_OK)
    st = ens_session_new(s->model, &so, &s->session, &err);
  if (st != ENS_OK)
    return fail(err.message);
  char msg[ENS_ERROR_MAX];
  if (a->maps_out && ens_fmaps_init(&s->maps, s->session, a->n_images, msg, sizeof msg))
    return fail(msg);

  const ens_model_info *info = ens_model_get_info(s->model);
  ens_preprocess_params pp;
  ens_model_preprocess_params(s->model, &pp);
  size_t classes = (size_t)info->num_classes, feats = (size_t)info->num_features;
  size_t per_image = (size_t)3 * (size_t)pp.out_height * (size_t)pp.out_width;

  s->input = malloc(per_image * (size_t)batch_cap * sizeof(float));
  s->logits = malloc(classes * (size_t)batch_cap * sizeof(float));
  s->probs = malloc(classes * sizeof(float));
  s->top = malloc((size_t)(a->topk < info->num_classes ? a->topk : info->num_classes) *
                  sizeof(ens_class_score));
  if (a->features_out) {
    s->features = malloc(feats * (size_t)batch_cap * sizeof(float));
    s->all_features = malloc(feats * (size_t)a->n_images * sizeof(float));
  }
  if (a->logits_out)
    s->all_logits = malloc(classes * (size_t)a->n_images * sizeof(float));
  if (!s->input || !s->logits || !s->probs || !s->top ||
      (a->features_out && (!s->features || !s->all_features)) || (a->logits_out && !s->all_logits))
    return fail("out of memory for the image batch and results");

  for (int first = 0; first < a->n_images; first += batch_cap) {
    int n = a->n_images - first < batch_cap ? a->n_images - first : batch_cap;
    ens_error image_err = {0};
    int loaded = load_batch(a, &pp, first, n, s->input, &image_err);
    /* The images of the batch before a bad one are still classified and kept. */
    ens_outputs out = {.logits = s->logits, .features = s->features};
    if (a->maps_out)
      ens_fmaps_target(&s->maps, first, &out);
    if (loaded > 0 && ens_session_run(s->session, s->input, loaded, &out, &err) != ENS_OK)
      return fail(err.message);
    if (s->all_logits)
      memcpy(s->all_logits + (size_t)first * classes, s->logits,
             (size_t)loaded * classes * sizeof(float));
    if (s->all_features)
      memcpy(s->all_features + (size_t)first * feats, s->features,
             (size_t)loaded * feats * sizeof(float));
    int done = report_batch(a, s, first, loaded, &err);
    if (done < first + loaded) {
      char why[ENS_ERROR_MAX + 64];
      snprintf(why, sizeof why, "%s: %s", a->images[done], err.message);
      return stop_at(a, s, done, why);
    }
    if (loaded < n)
      return stop_at(a, s, first + loaded, image_err.message);
    fflush(s->results);
  }

  if ((rc = save_outputs(a, s, a->n_images)))
    return rc;
  if (a->maps_out && ens_fmaps_save(&s->maps, a->maps_out, msg, sizeof msg))
    return fail(msg);
  if (ferror(stdout) || ferror(s->results))
    return fail("error writing standard output");
  return 0;
}

int main(int argc, char **argv)
{
  cli_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    ens_cli_exit(rc);
  cli_state s = {0};
  rc = run(&a, &s);
  state_free(&s);
  ens_cli_exit(rc); /* not return: see cli_exit.c */
}
