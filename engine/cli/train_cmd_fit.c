/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cmd_fit.c - `ens-train fit`: supervised training from scratch or finetuning a new head,
 * written out as a hub-layout model directory. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_args.h"
#include "hub_export.h"
#include "train_cli.h"
#include "train_cmds.h"
#include "train_data.h"
#include "train_model.h"
#include "trainer.h"

static void usage(FILE *f)
{
  fprintf(f,
          "usage: ens-train fit (--arch NAME | --width W --depth D | --init MODEL) --data DATA\n"
          "                     --out DIR [options]\n\n"
          "Trains a tf_efficientnet and writes DIR/model.safetensors + DIR/config.json (hub\n"
          "layout, loadable by ens-classify, ensclassify model=DIR and timm).\n\n"
          "model:\n"
          "  --arch NAME          b0 ... b7, l2 or nano (width 0.5, depth 0.5), from scratch\n"
          "  --width W --depth D  any channel / depth multipliers, from scratch\n"
          "  --init MODEL         finetune: every weight of MODEL (.safetensors or hub dir) but\n"
          "                       the classifier; a new head for the data's classes\n"
          "  --keep-head          with --init: keep MODEL's classifier (same class count)\n"
          "  --freeze-backbone    with --init: a linear probe; MODEL's backbone is frozen (BN on\n"
          "                       running statistics, no augmentation), its pooled features are\n"
          "                       computed once and only the classifier (new: from zero) is\n"
          "                       trained; the features are unnormalized, so --opt adamw suits\n"
          "                       it (no checkpoints, so no --resume; --ema / --drop ignored)\n");
  ens_train_cli_usage_common(f);
}

int ens_train_cmd_fit(int argc, char **argv)
{
  ens_train_cli c;
  ens_model_args m = {0};
  const char *out_dir = NULL;
  int resume = 0;
  ens_train_cli_defaults(&c);
  enum { O_ARCH = 1000, O_WIDTH, O_DEPTH, O_INIT, O_KEEP_HEAD, O_FREEZE, O_OUT, O_RESUME, O_HELP };
  struct option extra[] = {
      {"arch", required_argument, 0, O_ARCH},     {"width", required_argument, 0, O_WIDTH},
      {"depth", required_argument, 0, O_DEPTH},   {"init", required_argument, 0, O_INIT},
      {"keep-head", no_argument, 0, O_KEEP_HEAD}, {"freeze-backbone", no_argument, 0, O_FREEZE},
      {"out", required_argument, 0, O_OUT},       {"resume", no_argument, 0, O_RESUME},
      {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0}};
  struct option *opts = ens_train_cli_options(extra);
  if (!opts)
    return 1;
  int o, rc = 0;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case O_ARCH:
        m.arch = optarg;
        break;
      case O_WIDTH:
      case O_DEPTH: {
        char *end;
        double v = strtod(optarg, &end);
        if (*end || !(v > 0)) {
          fprintf(stderr, "ens-train fit: --%s needs a positive number (got '%s')\n",
                  o == O_WIDTH ? "width" : "depth", optarg);
          rc = 2;
        }
        *(o == O_WIDTH ? &m.width : &m.depth) = v;
        break;
      }
      case O_INIT:
        m.init = optarg;
        break;
      case O_KEEP_HEAD:
        m.keep_head = 1;
        break;
      case O_FREEZE:
        c.freeze_backbone = 1;
        break;
      case O_OUT:
        out_dir = optarg;
        break;
      case O_RESUME:
        resume = 1;
        break;
      case O_HELP:
        usage(stdout);
        free(opts);
        return 0;
      default:
        if (!ens_train_cli_option(&c, o, optarg, "fit"))
          rc = 2;
    }
    if (rc)
      break;
  }
  free(opts);
  if (!rc && optind < argc) {
    fprintf(stderr, "ens-train fit: unexpected argument '%s'\n", argv[optind]);
    rc = 2;
  }
  if (!rc && !out_dir) {
    fprintf(stderr, "ens-train fit: --out DIR is required\n");
    rc = 2;
  }
  if (rc) {
    usage(stderr);
    return rc;
  }
  if (c.freeze_backbone && !m.init) {
    fprintf(stderr, "ens-train fit: --freeze-backbone needs --init MODEL (a linear probe of a "
                    "trained backbone)\n");
    return 1;
  }
  if (c.freeze_backbone && resume) {
    fprintf(stderr, "ens-train fit: --freeze-backbone keeps no checkpoint: --resume does not "
                    "apply (rerun the probe instead)\n");
    return 1;
  }
  return ens_train_cli_run_fit(&c, &m, out_dir, resume);
}
