/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cli.c - the shared command-line options and the fit-and-export routine of ens-train
 * (see train_cli.h). */
#include "train_cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_args.h"
#include "hub_export.h"
#include "train_augment.h"

volatile sig_atomic_t ens_train_cli_interrupted = 0;

static void on_signal(int sig)
{
  (void)sig;
  ens_train_cli_interrupted = 1;
}

void ens_train_cli_catch_signals(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

enum {
  O_DATA = 1,
  O_LABELS,
  O_VAL_DATA,
  O_VAL_LABELS,
  O_VAL_SPLIT,
  O_SUBSET,
  O_INPUT_SIZE,
  O_SKIP_BAD,
  O_EPOCHS,
  O_BATCH,
  O_OPT,
  O_LR,
  O_WD,
  O_MOMENTUM,
  O_WARMUP_EPOCHS,
  O_WARMUP_LR,
  O_MIN_LR,
  O_SMOOTHING,
  O_HFLIP,
  O_CROP_PADDING,
  O_RANDAUGMENT,
  O_DROP,
  O_DROP_PATH,
  O_EMA,
  O_EVAL_EMA,
  O_SEED,
  O_THREADS,
  O_LOG,
  O_NO_PROGRESS,
  O_LIMIT,
  O_VAL_LIMIT,
};

static const struct option common[] = {
    {"data", required_argument, 0, O_DATA},
    {"labels", required_argument, 0, O_LABELS},
    {"val-data", required_argument, 0, O_VAL_DATA},
    {"val-labels", required_argument, 0, O_VAL_LABELS},
    {"val-split", required_argument, 0, O_VAL_SPLIT},
    {"subset", required_argument, 0, O_SUBSET},
    {"input-size", required_argument, 0, O_INPUT_SIZE},
    {"skip-bad", no_argument, 0, O_SKIP_BAD},
    {"epochs", required_argument, 0, O_EPOCHS},
    {"batch", required_argument, 0, O_BATCH},
    {"opt", required_argument, 0, O_OPT},
    {"lr", required_argument, 0, O_LR},
    {"wd", required_argument, 0, O_WD},
    {"momentum", required_argument, 0, O_MOMENTUM},
    {"warmup-epochs", required_argument, 0, O_WARMUP_EPOCHS},
    {"warmup-lr", required_argument, 0, O_WARMUP_LR},
    {"min-lr", required_argument, 0, O_MIN_LR},
    {"smoothing", required_argument, 0, O_SMOOTHING},
    {"hflip", required_argument, 0, O_HFLIP},
    {"crop-padding", required_argument, 0, O_CROP_PADDING},
    {"randaugment", required_argument, 0, O_RANDAUGMENT},
    {"drop", required_argument, 0, O_DROP},
    {"drop-path", required_argument, 0, O_DROP_PATH},
    {"ema", required_argument, 0, O_EMA},
    {"eval-ema", no_argument, 0, O_EVAL_EMA},
    {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},
    {"log", required_argument, 0, O_LOG},
    {"no-progress", no_argument, 0, O_NO_PROGRESS},
    {"limit", required_argument, 0, O_LIMIT},
    {"val-limit", required_argument, 0, O_VAL_LIMIT},
};

void ens_train_cli_defaults(ens_train_cli *c)
{
  memset(c, 0, sizeof *c);
  ens_train_recipe_default(&c->recipe);
  c->batch = 128;
  c->hflip = 0.5f;
  c->progress = -1;
}

struct option *ens_train_cli_options(const struct option *extra)
{
  size_t nc = sizeof common / sizeof common[0], ne = 0;
  while (extra && extra[ne].name)
    ne++;
  struct option *o = calloc(nc + ne + 1, sizeof *o);
  if (!o) {
    fprintf(stderr, "ens-train: out of memory\n");
    return NULL;
  }
  memcpy(o, common, sizeof common);
  if (ne)
    memcpy(o + nc, extra, ne * sizeof *o);
  return o;
}

/* A number in [lo, hi]; 0 after a message. */
static int parse_double(const char *cmd, const char *name, const char *arg, double lo, double hi,
                        double *out)
{
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (!*arg || *end || errno || !(v >= lo && v <= hi)) {
    fprintf(stderr, "ens-train %s: --%s must be a number in [%g, %g] (got '%s')\n", cmd, name, lo,
            hi, arg);
    return 0;
  }
  *out = v;
  return 1;
}

static int parse_int(const char *cmd, const char *name, const char *arg, int lo, int hi, int *out)
{
  if (ens_cli_parse_int(arg, lo, hi, out))
    return 1;
  fprintf(stderr, "ens-train %s: --%s must be a whole number in [%d, %d] (got '%s')\n", cmd, name,
          lo, hi, arg);
  return 0;
}

static int parse_float(const char *cmd, const char *name, const char *arg, double lo, double hi,
                       float *out)
{
  double v;
  if (!parse_double(cmd, name, arg, lo, hi, &v))
    return 0;
  *out = (float)v;
  return 1;
}

int ens_train_cli_option(ens_train_cli *c, int opt, const char *arg, const char *cmd)
{
  ens_train_recipe *r = &c->recipe;
  int i;
  double d;
  switch (opt) {
    case O_DATA:
      c->data.data = arg;
      return 1;
    case O_LABELS:
      c->data.labels = arg;
      return 1;
    case O_VAL_DATA:
      c->data.val_data = arg;
      return 1;
    case O_VAL_LABELS:
      c->data.val_labels = arg;
      return 1;
    case O_VAL_SPLIT:
      return parse_double(cmd, "val-split", arg, 0.0, 0.9, &c->data.val_split);
    case O_SUBSET:
      c->data.subset = arg;
      return 1;
    case O_INPUT_SIZE:
      return parse_int(cmd, "input-size", arg, 8, 1024, &c->data.input_size);
    case O_SKIP_BAD:
      c->data.skip_bad = 1;
      return 1;
    case O_EPOCHS:
      return parse_int(cmd, "epochs", arg, 1, 100000, &r->epochs);
    case O_BATCH:
      return parse_int(cmd, "batch", arg, 1, 4096, &c->batch);
    case O_OPT: {
      ens_optim_kind k;
      if (!strcmp(arg, "rmsproptf"))
        k = ENS_OPTIM_RMSPROP_TF;
      else if (!strcmp(arg, "sgd"))
        k = ENS_OPTIM_SGD;
      else if (!strcmp(arg, "adamw"))
        k = ENS_OPTIM_ADAMW;
      else {
        fprintf(stderr, "ens-train %s: --opt must be rmsproptf, sgd or adamw (got '%s')\n", cmd,
                arg);
        return 0;
      }
      /* the optimizer's own defaults, keeping the lr / wd already chosen */
      double lr = r->optim.lr, wd = r->optim.weight_decay;
      r->optim = ens_optim_config_default(k);
      r->optim.lr = lr;
      r->optim.weight_decay = wd;
      r->optim.exclude_no_weight_decay = 1;
      if (k == ENS_OPTIM_RMSPROP_TF) {
        r->optim.alpha = 0.9;
        r->optim.eps = 1e-3;
        r->optim.momentum = 0.9;
      } else if (k == ENS_OPTIM_SGD) {
        r->optim.momentum = 0.9;
        r->optim.nesterov = 1;
      }
      return 1;
    }
    case O_LR:
      return parse_double(cmd, "lr", arg, 0.0, 10.0, &r->optim.lr);
    case O_WD:
      return parse_double(cmd, "wd", arg, 0.0, 1.0, &r->optim.weight_decay);
    case O_MOMENTUM:
      return parse_double(cmd, "momentum", arg, 0.0, 0.999, &r->optim.momentum);
    case O_WARMUP_EPOCHS:
      return parse_double(cmd, "warmup-epochs", arg, 0.0, 1000.0, &r->warmup_epochs);
    case O_WARMUP_LR:
      return parse_double(cmd, "warmup-lr", arg, 0.0, 10.0, &r->warmup_lr);
    case O_MIN_LR:
      return parse_double(cmd, "min-lr", arg, 0.0, 10.0, &r->min_lr);
    case O_SMOOTHING:
      return parse_float(cmd, "smoothing", arg, 0.0, 0.99, &r->smoothing);
    case O_HFLIP:
      return parse_float(cmd, "hflip", arg, 0.0, 1.0, &c->hflip);
    case O_CROP_PADDING:
      return parse_int(cmd, "crop-padding", arg, 0, 256, &c->crop_padding);
    case O_RANDAUGMENT:
      c->randaugment = arg;
      return 1;
    case O_DROP:
      return parse_float(cmd, "drop", arg, 0.0, 0.95, &r->drop_rate);
    case O_DROP_PATH:
      return parse_float(cmd, "drop-path", arg, 0.0, 0.95, &r->drop_path_rate);
    case O_EMA:
      return parse_double(cmd, "ema", arg, 0.0, 0.999999, &r->ema_decay);
    case O_EVAL_EMA:
      r->eval_ema = 1;
      return 1;
    case O_SEED:
      if (!parse_double(cmd, "seed", arg, 0, 9007199254740991.0, &d))
        return 0;
      r->seed = (uint64_t)d;
      c->data.seed = r->seed;
      return 1;
    case O_THREADS:
      if (!parse_int(cmd, "threads", arg, 0, 256, &i))
        return 0;
      c->threads = i;
      return 1;
    case O_LOG:
      c->log_path = arg;
      return 1;
    case O_NO_PROGRESS:
      c->progress = 0;
      return 1;
    case O_LIMIT:
      return parse_int(cmd, "limit", arg, 1, 1 << 30, &c->data.limit);
    case O_VAL_LIMIT:
      return parse_int(cmd, "val-limit", arg, 1, 1 << 30, &c->data.val_limit);
    default:
      fprintf(stderr, "ens-train %s: unknown option (see --help)\n", cmd);
      return 0;
  }
}

void ens_train_cli_usage_common(FILE *f)
{
  fprintf(
      f,
      "\ndata:\n"
      "  --data DATA          an image-folder tree (DIR/<class>/*.jpg|png|ppm, or DIR/train +\n"
      "                       DIR/val), an IDX images file (MNIST format, .gz ok), or\n"
      "                       fashion-mnist[:DIR] (Debian's dataset-fashion-mnist; its test set\n"
      "                       is the validation set)\n"
      "  --labels FILE        IDX labels file (default: from the images file's name)\n"
      "  --val-data DATA, --val-labels FILE   validation set (IDX)\n"
      "  --val-split F        folder trees without val/: hold out F of each class\n"
      "  --subset labeled|unlabeled  Fashion-MNIST's 6,000-label split of the reference recipe\n"
      "  --input-size S       network input (default 32 for 28x28 IDX images, 224 for folders)\n"
      "  --skip-bad           skip unreadable images (counted) instead of failing\n"
      "  --limit N, --val-limit N   only the first N training / validation images\n"
      "recipe (defaults: timm's EfficientNet recipe at batch 128):\n"
      "  --epochs N (20)  --batch B (128)  --opt rmsproptf|sgd|adamw (rmsproptf: alpha 0.9,\n"
      "  eps 1e-3, momentum 0.9)  --lr LR (0.016)  --wd WD (1e-5, not on 1-D tensors)\n"
      "  --momentum M  --warmup-epochs E (1)  --warmup-lr LR (1e-5)  --min-lr LR (0)\n"
      "  --smoothing EPS (0.1)  --hflip P (0.5)  --crop-padding PX (0)\n"
      "  --randaugment POLICY (timm's, e.g. rand-m9-n2-mstd0.5)  --drop P  --drop-path P\n"
      "  --ema DECAY (weight EMA, off)  --eval-ema (evaluate and export the EMA weights)\n"
      "run:\n"
      "  --seed S (0)  --threads T (all CPUs)  --log FILE (DIR/log.jsonl)  --no-progress\n"
      "\nSame seed and thread count give bit-identical weights. Ctrl-C saves a checkpoint;\n"
      "--resume continues from it exactly.\n");
}

int ens_train_cli_prepare_dir(const char *dir)
{
  struct stat sb;
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "ens-train: cannot create output directory '%s': %s\n", dir, strerror(errno));
    return 0;
  }
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    fprintf(stderr, "ens-train: output '%s' is not a directory\n", dir);
    return 0;
  }
  if (access(dir, W_OK) != 0) {
    fprintf(stderr, "ens-train: output directory '%s' is not writable: %s\n", dir, strerror(errno));
    return 0;
  }
  return 1;
}

ens_status ens_train_cli_recipe(const ens_train_cli *c, const ens_data *d, ens_train_recipe *r,
                                ens_train_augment **aug, ens_error *err)
{
  *r = c->recipe;
  *aug = NULL;
  r->train_b = d->train_b;
  r->train_b.hflip_prob = c->hflip;
  r->train_b.crop_padding = c->crop_padding;
  r->train_b.label_smoothing = r->smoothing;
  r->train_b.seed = r->seed;
  r->eval_b = d->eval_b;
  if (!c->randaugment)
    return ENS_OK;
  ens_status st = ens_train_augment_new(c->randaugment, d->train.channels, aug, err);
  if (st == ENS_OK)
    ens_train_augment_hook(*aug, &r->train_b);
  return st;
}

FILE *ens_train_cli_open_log(const ens_train_cli *c, const char *default_path, int resume)
{
  const char *path = c->log_path ? c->log_path : default_path;
  FILE *f = fopen(path, resume ? "a" : "w");
  if (!f)
    fprintf(stderr, "ens-train: cannot open log '%s': %s\n", path, strerror(errno));
  return f;
}

int ens_train_cli_fit_export(const ens_train_cli *c, ens_train_graph *g, const ens_train_recipe *r,
                             const ens_data *d, const ens_dataset *train, const char *out_dir,
                             const char *phase, int resume, FILE *log, double width, double depth,
                             ens_train_result *res)
{
  ens_error err = {0};
  char ckpt[4096];
  if (!ens_train_cli_prepare_dir(out_dir))
    return 1;
  snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", out_dir);
  ens_train_io io = {.log = log,
                     .phase = phase,
                     .progress = c->progress < 0 ? isatty(2) : c->progress,
                     .checkpoint = ckpt,
                     .interrupt = &ens_train_cli_interrupted};
  /* Test hook: behave as if Ctrl-C came after N steps (tests of --resume). */
  const char *stop = getenv("ENS_TRAIN_STOP_AFTER_STEPS");
  if (stop)
    io.stop_after_steps = atoll(stop);
  const ens_dataset *val = d->has_val ? &d->val : NULL;
  ens_status st = c->freeze_backbone ? ens_train_linear_probe(g, r, train, val, &io, res, &err)
                                     : ens_train_fit(g, r, train, val, &io, resume, res, &err);
  if (st != ENS_OK) {
    fprintf(stderr, "ens-train %s: %s\n", phase, err.message);
    return 1;
  }
  if (res->interrupted && c->freeze_backbone) {
    fprintf(stderr, "ens-train %s: interrupted (a linear probe keeps no checkpoint)\n", phase);
    return 130;
  }
  if (res->interrupted) {
    fprintf(stderr, "ens-train %s: interrupted; checkpoint saved to %s (rerun with --resume)\n",
            phase, ckpt);
    return 130;
  }
  ens_hub_export_info h = {.width = width,
                           .depth = depth,
                           .class_names = (const char *const *)train->class_names,
                           .tag = d->tag,
                           .input_size = d->input_size,
                           .crop_pct = d->crop_pct,
                           .interpolation = d->interp};
  memcpy(h.mean, r->eval_b.mean, sizeof h.mean);
  memcpy(h.std, r->eval_b.std, sizeof h.std);
  if (ens_hub_export(out_dir, g, &h, &err) != ENS_OK) {
    fprintf(stderr, "ens-train %s: %s\n", phase, err.message);
    return 1;
  }
  printf("{\"phase\":\"%s\",\"model\":\"%s\",\"epochs\":%d,\"train_loss\":%.6f,", phase, out_dir,
         res->epochs_done, res->train_loss);
  if (res->top1 >= 0)
    printf("\"val_top1\":%.2f,\"val_top5\":%.2f,", res->top1, res->top5);
  printf("\"seconds\":%.1f,\"images_per_s\":%.1f}\n", res->seconds, res->images_per_s);
  fflush(stdout);
  return 0;
}

int ens_train_cli_run_fit(const ens_train_cli *c, const ens_model_args *m, const char *out_dir,
                          int resume)
{
  ens_error err = {0};
  ens_data data;
  ens_train_graph *g = NULL;
  ens_train_augment *aug = NULL;
  ens_train_recipe r;
  FILE *log = NULL;
  int rc = 1;
  double width = 0, depth = 0;
  if (!ens_train_cli_prepare_dir(out_dir))
    return 1;
  ens_train_cli_catch_signals();
  if (ens_data_load(&c->data, &data, &err) != ENS_OK) {
    fprintf(stderr, "ens-train fit: %s\n", err.message);
    return 1;
  }
  if (ens_train_cli_recipe(c, &data, &r, &aug, &err) != ENS_OK ||
      ens_model_args_build(m, data.train.num_classes, c->batch, data.input_size, c->threads, r.seed,
                           &g, &width, &depth, &err) != ENS_OK) {
    fprintf(stderr, "ens-train fit: %s\n", err.message);
    goto out;
  }
  if (c->freeze_backbone && !m->keep_head) {
    /* A probe's new head starts at zero (loss log K): timm's init of a Linear with few
     * outputs gives logits far larger than the frozen features can be fitted from. */
    int np;
    ens_param *p = ens_tg_params(g, &np);
    for (int i = 0; i < np; i++)
      if (!strncmp(p[i].name, "classifier.", 11))
        memset(p[i].data, 0, p[i].numel * sizeof *p[i].data);
  }
  char logp[4096];
  snprintf(logp, sizeof logp, "%s/log.jsonl", out_dir);
  if (!(log = ens_train_cli_open_log(c, logp, resume)))
    goto out;
  ens_train_result res;
  rc = ens_train_cli_fit_export(c, g, &r, &data, &data.train, out_dir, "fit", resume, log, width,
                                depth, &res);
out:
  if (log)
    fclose(log);
  ens_tg_free(g);
  ens_train_augment_free(aug);
  ens_data_free(&data);
  return rc;
}
