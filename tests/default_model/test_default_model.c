/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_default_model.c - ens_default_model_path(): $ENS_DEFAULT_MODEL wins and is refused when
 * it does not exist; without it, the source tree's engine/data/models/fashion_mnist when it holds
 * a model (then it loads and has the 10 Fashion-MNIST classes in label order), else the clear
 * error naming both places. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ens.h"

static int failures;

static void check(int ok, const char *what)
{
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  failures += !ok;
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: test_default_model SOURCE_ROOT\n");
    return 2;
  }
  char buf[4096], src_model[4096];
  ens_error err;
  snprintf(src_model, sizeof src_model, "%s/engine/data/models/fashion_mnist", argv[1]);

  setenv("ENS_DEFAULT_MODEL", "/nonexistent/ens-model", 1);
  ens_status st = ens_default_model_path(buf, sizeof buf, &err);
  check(st == ENS_ERR_IO && strstr(err.message, "ENS_DEFAULT_MODEL='/nonexistent/ens-model'"),
        "a missing $ENS_DEFAULT_MODEL is an error naming it (no silent fall-back)");
  setenv("ENS_DEFAULT_MODEL", argv[1], 1);
  st = ens_default_model_path(buf, sizeof buf, &err);
  check(st == ENS_OK && !strcmp(buf, argv[1]), "$ENS_DEFAULT_MODEL is used as given");
  st = ens_default_model_path(buf, 4, &err);
  check(st == ENS_ERR_ARG, "a buffer too small is an error, not a cut path");
  unsetenv("ENS_DEFAULT_MODEL");

  char file[4200];
  struct stat sb;
  snprintf(file, sizeof file, "%s/model.safetensors", src_model);
  st = ens_default_model_path(buf, sizeof buf, &err);
  if (stat(file, &sb) != 0) {
    /* The installed copy may exist on this machine; if not, the error names both places. */
    check(st == ENS_OK || (st == ENS_ERR_IO && strstr(err.message, src_model) &&
                           strstr(err.message, "ens/models/fashion_mnist")),
          "no model in the tree: the installed one, or an error naming both places");
    if (st != ENS_OK)
      printf("(%s)\nSKIP: the default model checks need %s\n", err.message, file);
    return failures ? 1 : 77;
  }
  check(st == ENS_OK && !strcmp(buf, src_model), "the source tree's model comes first");
  ens_model *m = NULL;
  ens_options opt;
  ens_options_init(&opt);
  opt.threads = 1;
  st = ens_model_load(buf, &opt, &m, &err);
  check(st == ENS_OK, st == ENS_OK ? "the default model loads" : err.message);
  if (m) {
    const ens_model_info *mi = ens_model_get_info(m);
    check(mi->num_classes == 10, "10 classes");
    check(!strcmp(ens_model_label(m, 0), "T-shirt/top") &&
              !strcmp(ens_model_label(m, 9), "Ankle boot"),
          "label names in the dataset's order (0 T-shirt/top .. 9 Ankle boot)");
    check(mi->input_height == 32 && mi->input_width == 32, "input 32x32");
    check(mi->weight_bytes <= 8u << 20, "model.safetensors is at most 8 MB");
    ens_model_free(m);
  }
  return failures ? 1 : 0;
}
