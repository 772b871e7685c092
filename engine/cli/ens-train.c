/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens-train - training on the box: one binary, one subcommand per job (train_cmds.h). */
#include <stdio.h>
#include <string.h>

#include "cli_exit.h"
#include "train_cmds.h"

/* Subcommands register here: one line each, in the order --help lists them. */
const ens_train_cmd ens_train_cmds[] = {
    {"grad", "one forward + backward: loss, logits and gradients (timm names)", ens_train_cmd_grad},
    {"augment", "write what RandAugment does to images", ens_train_cmd_augment},
    {"fit", "train from scratch or finetune a new head; writes a hub model directory",
     ens_train_cmd_fit},
    {"eval", "top-1 / top-5 and the confusion matrix of a trained model", ens_train_cmd_eval},
    {"noisy-student", "teacher -> pseudo-labels -> noised student, iterated",
     ens_train_cmd_noisy_student},
    {"export", "a model directory with its float tensors in F16 or BF16", ens_train_cmd_export},
    {"plot", "an SVG of validation accuracy per epoch and phase from a training log",
     ens_train_cmd_plot},
    {"bench", "time full train steps (forward + backward + RMSpropTF)", ens_train_cmd_bench},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
  fprintf(f, "usage: ens-train COMMAND [OPTIONS]\n\ncommands:\n");
  for (const ens_train_cmd *c = ens_train_cmds; c->name; c++)
    fprintf(f, "  %-14s %s\n", c->name, c->summary);
  fprintf(f, "\n`ens-train COMMAND --help` describes a command's options.\n");
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("ens-train %s\n", ENS_VERSION);
    return 0;
  }
  for (const ens_train_cmd *c = ens_train_cmds; c->name; c++)
    if (!strcmp(argv[1], c->name))
      ens_cli_exit(c->run(argc - 1, argv + 1)); /* not return: see cli_exit.c */
  fprintf(stderr, "ens-train: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
