/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cmd_eval.c - `ens-train eval`: top-1 / top-5 and the confusion matrix of a trained
 * model on a labeled data set, preprocessed as the model's config.json says. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_args.h"
#include "config_json.h"
#include "train_cmds.h"
#include "train_data.h"
#include "train_model.h"
#include "trainer.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: ens-train eval --model DIR --data DATA [--labels FILE] [--batch B]\n"
             "                      [--threads T] [--json]\n\n"
             "Top-1 / top-5 accuracy and the confusion matrix (rows: true class, columns:\n"
             "predicted) of a model trained by ens-train (a hub directory: config.json gives the\n"
             "input size, crop and normalisation) on DATA (as for fit; fashion-mnist means its\n"
             "10,000-image test set).\n");
}

/* The test split of fashion-mnist[:DIR] is what eval measures; other data is used whole. */
static void eval_data_args(const char *data, const char *labels, ens_data_args *a, char *buf,
                           size_t len)
{
  memset(a, 0, sizeof *a);
  a->no_val = 1;
  a->labels = labels;
  a->data = data;
  if (!strncmp(data, "fashion-mnist", 13) && (!data[13] || data[13] == ':')) {
    snprintf(buf, len, "%s/t10k-images-idx3-ubyte.gz",
             data[13] == ':' ? data + 14 : ENS_FASHION_MNIST_DIR);
    a->data = buf;
  }
}

static void print_confusion(const long long *cm, int k, char **names)
{
  printf("confusion matrix (rows: true, columns: predicted)\n%14s", "");
  for (int j = 0; j < k; j++)
    printf(" %6d", j);
  printf("\n");
  for (int i = 0; i < k; i++) {
    printf("%3d %-10.10s", i, names ? names[i] : "");
    for (int j = 0; j < k; j++)
      printf(" %6lld", cm[(size_t)i * k + j]);
    printf("\n");
  }
}

int ens_train_cmd_eval(int argc, char **argv)
{
  const char *model = NULL, *data = NULL, *labels = NULL;
  int batch = 100, threads = 0, json = 0;
  static const struct option opts[] = {
      {"model", required_argument, 0, 'm'},   {"data", required_argument, 0, 'd'},
      {"labels", required_argument, 0, 'l'},  {"batch", required_argument, 0, 'b'},
      {"threads", required_argument, 0, 't'}, {"json", no_argument, 0, 'j'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'm':
        model = optarg;
        break;
      case 'd':
        data = optarg;
        break;
      case 'l':
        labels = optarg;
        break;
      case 'b':
      case 't':
        if (!ens_cli_parse_int(optarg, o == 'b' ? 1 : 0, o == 'b' ? 4096 : 256,
                               o == 'b' ? &batch : &threads)) {
          fprintf(stderr, "ens-train eval: bad --%s '%s'\n", o == 'b' ? "batch" : "threads",
                  optarg);
          return 2;
        }
        break;
      case 'j':
        json = 1;
        break;
      case 'h':
        usage(stdout);
        return 0;
      default:
        usage(stderr);
        return 2;
    }
  }
  if (!model || !data || optind < argc) {
    fprintf(stderr, "ens-train eval: --model and --data are required\n");
    usage(stderr);
    return 2;
  }
  ens_error err = {0};
  char cfg_path[4096], buf[4096];
  struct stat sb;
  ens_hub_config cfg;
  memset(&cfg, 0, sizeof cfg);
  snprintf(cfg_path, sizeof cfg_path, "%s/config.json", model);
  if (stat(model, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
      ens_hub_config_load(cfg_path, &cfg, &err) != ENS_OK) {
    fprintf(stderr, "ens-train eval: %s\n",
            err.message[0] ? err.message
                           : "--model must be a directory with model.safetensors and config.json");
    return 1;
  }
  ens_data_args a;
  eval_data_args(data, labels, &a, buf, sizeof buf);
  a.input_size = cfg.has_input_size ? cfg.input_size[1] : 0;
  a.crop_pct = cfg.has_crop_pct ? cfg.crop_pct : 0;
  ens_data d;
  ens_train_graph *g = NULL;
  int rc = 1;
  if (ens_data_load(&a, &d, &err) != ENS_OK) {
    fprintf(stderr, "ens-train eval: %s\n", err.message);
    ens_hub_config_free(&cfg);
    return 1;
  }
  if (cfg.has_mean && cfg.has_std) {
    memcpy(d.eval_b.mean, cfg.mean, sizeof cfg.mean);
    memcpy(d.eval_b.std, cfg.std, sizeof cfg.std);
  }
  long long *cm = NULL;
  if (ens_model_load_trained(model, batch, d.input_size, threads, &g, &err) != ENS_OK)
    goto fail;
  int k = ens_tg_arch(g)->num_classes;
  if (d.train.num_classes > k) {
    snprintf(err.message, sizeof err.message, "the data has %d classes, the model only %d",
             d.train.num_classes, k);
    goto fail;
  }
  d.train.num_classes = k;
  cm = calloc((size_t)k * k, sizeof *cm);
  double top1, top5;
  if (!cm || ens_train_evaluate(g, &d.eval_b, &d.train, ens_tg_pool(g), &top1, &top5, cm, NULL,
                                &err) != ENS_OK)
    goto fail;
  if (json) {
    printf("{\"model\":\"%s\",\"images\":%d,\"top1\":%.2f,\"top5\":%.2f}\n", model, d.train.n, top1,
           top5);
  } else {
    printf("%s on %d images: top-1 %.2f %%, top-5 %.2f %%\n", model, d.train.n, top1, top5);
    print_confusion(cm, k, cfg.label_count == k ? cfg.label_names : NULL);
  }
  rc = 0;
  goto out;
fail:
  fprintf(stderr, "ens-train eval: %s\n", err.message);
out:
  free(cm);
  ens_tg_free(g);
  ens_data_free(&d);
  ens_hub_config_free(&cfg);
  return rc;
}
