/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cmds.h - the subcommands of ens-train, one file each (train_cmd_<name>.c).
 * Each takes the arguments after its name (argv[0] is the subcommand name) and returns the
 * process exit code: 0 success, 1 failure (message on stderr), 2 usage error. */
#ifndef ENS_TRAIN_CMDS_H
#define ENS_TRAIN_CMDS_H

typedef int (*ens_train_cmd_fn)(int argc, char **argv);

typedef struct {
  const char *name;
  const char *summary; /* one line for `ens-train --help` */
  ens_train_cmd_fn run;
} ens_train_cmd;

/* train_cmd_grad.c: one forward + backward, gradients to .safetensors */
int ens_train_cmd_grad(int argc, char **argv);
/* The subcommands (train_cmd_<name>.c). */
int ens_train_cmd_augment(int argc, char **argv);
int ens_train_cmd_fit(int argc, char **argv);
int ens_train_cmd_eval(int argc, char **argv);
int ens_train_cmd_noisy_student(int argc, char **argv);
int ens_train_cmd_plot(int argc, char **argv);
int ens_train_cmd_bench(int argc, char **argv);
int ens_train_cmd_export(int argc, char **argv);

/* Defined in ens-train.c: the table, terminated by {NULL}. */
extern const ens_train_cmd ens_train_cmds[];

#endif
