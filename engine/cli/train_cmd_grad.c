/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cmd_grad.c - `ens-train grad`: one train-mode forward + backward (no dropout, no
 * drop-path) of a timm tf_efficientnet .safetensors on an .npy batch and soft targets; writes
 * the loss, logits and every gradient under timm's names, for checking against PyTorch. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "npy_read.h"
#include "safetensors_write.h"
#include "train_cmds.h"
#include "train_graph.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: ens-train grad --model M.safetensors --input X.npy --target T.npy --out "
             "G.safetensors\n"
             "                      [--smoothing 0.1] [--threads N]\n\n"
             "One train-mode forward + backward (batch-statistics BatchNorm, no dropout or "
             "drop-path).\n"
             "  --model      timm tf_efficientnet state_dict (any width / depth / classes)\n"
             "  --input      float32 NCHW [B,3,H,W] .npy, already preprocessed\n"
             "  --target     float32 [B,K] .npy of class probabilities (one-hot for hard labels)\n"
             "  --smoothing  label smoothing eps: targets become (1-eps)*t + eps/K (default 0.1)\n"
             "  --threads    worker threads (default: all CPUs)\n"
             "  --out        output .safetensors: loss [1], logits [B,K], input.grad, "
             "<param>.grad,\n"
             "               <bn>.running_mean.after, <bn>.running_var.after\n");
}

typedef struct {
  const char *model, *input, *target, *out;
  float smoothing;
  int threads;
} grad_args;

static int parse(int argc, char **argv, grad_args *a)
{
  static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                       {"input", required_argument, NULL, 'i'},
                                       {"target", required_argument, NULL, 't'},
                                       {"out", required_argument, NULL, 'o'},
                                       {"smoothing", required_argument, NULL, 's'},
                                       {"threads", required_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  a->smoothing = 0.1f;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    char *end;
    switch (c) {
      case 'm':
        a->model = optarg;
        break;
      case 'i':
        a->input = optarg;
        break;
      case 't':
        a->target = optarg;
        break;
      case 'o':
        a->out = optarg;
        break;
      case 's':
        a->smoothing = strtof(optarg, &end);
        if (*end || end == optarg || !(a->smoothing >= 0.0f && a->smoothing < 1.0f)) {
          fprintf(stderr, "ens-train grad: --smoothing '%s' must be a number in [0, 1)\n", optarg);
          return 2;
        }
        break;
      case 'j':
        if (!ens_cli_parse_int(optarg, 1, 1024, &a->threads)) {
          fprintf(stderr, "ens-train grad: --threads '%s' must be an integer 1..1024\n", optarg);
          return 2;
        }
        break;
      case 'h':
        usage(stdout);
        return -1;
      case ':':
        fprintf(stderr, "ens-train grad: option '%s' needs an argument\n", argv[optind - 1]);
        return 2;
      default:
        fprintf(stderr, "ens-train grad: unknown option '%s'\n", argv[optind - 1]);
        usage(stderr);
        return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ens-train grad: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  if (!a->model || !a->input || !a->target || !a->out) {
    fprintf(stderr, "ens-train grad: --model, --input, --target and --out are required\n");
    usage(stderr);
    return 2;
  }
  return 0;
}

/* Appends one float32 tensor entry (data owned by the caller). */
static void entry(ens_st_entry *e, int *n, const char *name, const float *data, int ndim,
                  const long long *shape)
{
  ens_st_entry *x = &e[(*n)++];
  x->name = name;
  x->dtype = ENS_DT_F32;
  x->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    x->shape[i] = shape[i];
  x->data = data;
}

static int write_result(ens_train_graph *g, const grad_args *a, float loss, const float *input_grad,
                        const ens_npy_array *in)
{
  int np;
  ens_param *p = ens_tg_params(g, &np);
  const ens_train_arch *arch = ens_tg_arch(g);
  int B = ens_tg_batch(g), rc = 1;
  size_t total = 0;
  for (int i = 0; i < np; i++)
    total += p[i].numel;
  ens_st_entry *e = calloc((size_t)np + 3, sizeof *e);
  char(*names)[ENS_PARAM_NAME_MAX + 16] = calloc((size_t)np, sizeof *names);
  float *buf = malloc(total * sizeof *buf);
  if (!e || !names || !buf) {
    fprintf(stderr, "ens-train grad: out of memory\n");
    goto out;
  }
  int n = 0;
  long long one = 1, lshape[2] = {B, arch->num_classes};
  long long ishape[4] = {in->shape[0], in->shape[1], in->shape[2], in->shape[3]};
  entry(e, &n, "loss", &loss, 1, &one);
  entry(e, &n, "logits", ens_tg_logits(g), 2, lshape);
  entry(e, &n, "input.grad", input_grad, 4, ishape);
  size_t off = 0;
  for (int i = 0; i < np; i++) {
    /* gradients for parameters, the updated running stats for buffers */
    snprintf(names[i], sizeof names[i], "%s.%s", p[i].name, p[i].is_buffer ? "after" : "grad");
    ens_tg_param_to_timm(&p[i], p[i].is_buffer ? p[i].data : p[i].grad, buf + off);
    entry(e, &n, names[i], buf + off, p[i].ndim, p[i].shape);
    off += p[i].numel;
  }
  char loss_text[32], smooth_text[32];
  snprintf(loss_text, sizeof loss_text, "%.9g", loss);
  snprintf(smooth_text, sizeof smooth_text, "%g", a->smoothing);
  const char *mk[] = {"producer", "model", "loss", "smoothing"};
  const char *mv[] = {"ens-train grad", a->model, loss_text, smooth_text};
  ens_error err;
  if (ens_st_write(a->out, e, n, mk, mv, 4, &err) != ENS_OK)
    fprintf(stderr, "ens-train grad: %s\n", err.message);
  else
    rc = 0;
out:
  free(e);
  free(names);
  free(buf);
  return rc;
}

int ens_train_cmd_grad(int argc, char **argv)
{
  grad_args a;
  int rc = parse(argc, argv, &a);
  if (rc)
    return rc < 0 ? 0 : rc;
  char eb[512];
  ens_npy_array in = {0}, tg = {0};
  ens_safetensors st;
  ens_error err;
  ens_train_graph *g = NULL;
  float *input_grad = NULL;
  rc = 1;
  memset(&st, 0, sizeof st);
  if (ens_npy_read_f32(a.input, &in, eb, sizeof eb) ||
      ens_npy_read_f32(a.target, &tg, eb, sizeof eb)) {
    fprintf(stderr, "ens-train grad: %s\n", eb);
    goto out;
  }
  if (ens_st_open(a.model, &st, &err) != ENS_OK) {
    fprintf(stderr, "ens-train grad: %s\n", err.message);
    goto out;
  }
  ens_train_arch arch;
  if (ens_train_arch_from_st(&st, &arch, &err) != ENS_OK) {
    fprintf(stderr, "ens-train grad: %s\n", err.message);
    goto out;
  }
  if (in.ndim != 4 || in.shape[1] != 3 || in.shape[0] < 1) {
    fprintf(stderr, "ens-train grad: %s: input must be float32 NCHW [B,3,H,W]\n", a.input);
    goto out;
  }
  if (tg.ndim != 2 || tg.shape[0] != in.shape[0] || tg.shape[1] != arch.num_classes) {
    fprintf(stderr, "ens-train grad: %s: target must be [%lld,%d] (batch x classes of the model)\n",
            a.target, (long long)in.shape[0], arch.num_classes);
    goto out;
  }
  for (size_t i = 0; i < tg.numel; i++)
    if (!isfinite(tg.data[i])) {
      fprintf(stderr, "ens-train grad: %s: non-finite target value at %zu\n", a.target, i);
      goto out;
    }
  if (ens_tg_new(&arch, (int)in.shape[0], (int)in.shape[2], (int)in.shape[3], a.threads, &g,
                 &err) != ENS_OK ||
      ens_tg_load(g, &st, &err) != ENS_OK) {
    fprintf(stderr, "ens-train grad: %s\n", err.message);
    goto out;
  }
  input_grad = malloc(in.numel * sizeof *input_grad);
  if (!input_grad) {
    fprintf(stderr, "ens-train grad: out of memory\n");
    goto out;
  }
  float loss = ens_tg_forward(g, in.data, tg.data, a.smoothing, 1);
  ens_tg_backward(g, input_grad);
  rc = write_result(g, &a, loss, input_grad, &in);
  if (!rc)
    printf("loss %.7f -> %s\n", loss, a.out);
out:
  ens_tg_free(g);
  ens_st_close(&st);
  ens_npy_free(&in);
  ens_npy_free(&tg);
  free(input_grad);
  return rc;
}
