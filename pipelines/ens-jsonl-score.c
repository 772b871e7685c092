/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens-jsonl-score - top-1 accuracy of a pipeline's ensjson output against true labels: the
 * clip shows image i on frames i*F .. i*F+F-1 and the pipeline infers every F-th frame, so
 * image i is scored by the first result of frame i*F (which must be fresh). Labels: one class
 * id per line. Prints "top-1 P % (C/N)" (P with one decimal). Built here, not installed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "json.h"
#include "read_file.h"

#define PROG "ens-jsonl-score"

static int read_labels(const char *path, int **out, int *n)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, PROG ": cannot open labels '%s'\n", path);
    return 1;
  }
  int cap = 0, v;
  *n = 0;
  *out = NULL;
  while (fscanf(f, "%d", &v) == 1) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 256;
      int *p = realloc(*out, sizeof(int) * (size_t)cap);
      if (!p) {
        fclose(f);
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
      }
      *out = p;
    }
    (*out)[(*n)++] = v;
  }
  int bad = !feof(f);
  fclose(f);
  if (bad || *n == 0) {
    fprintf(stderr, PROG ": labels '%s': %s\n", path, bad ? "not a list of integers" : "empty");
    return 1;
  }
  return 0;
}

/* The top-1 class id of one JSON line's first result, or -1 with a message. */
static int top1(const ens_json *line, long lineno)
{
  const ens_json *fresh = ens_json_get(line, "fresh");
  const ens_json *results = ens_json_get(line, "results");
  if (!fresh || fresh->type != ENS_JSON_BOOL || !fresh->boolean) {
    fprintf(stderr, PROG ": line %ld: the image's first frame has no fresh result\n", lineno);
    return -1;
  }
  if (!results || results->type != ENS_JSON_ARRAY || !results->count) {
    fprintf(stderr, PROG ": line %ld: no results\n", lineno);
    return -1;
  }
  const ens_json *classes = ens_json_get(&results->items[0], "classes");
  const ens_json *id = classes && classes->type == ENS_JSON_ARRAY && classes->count
                           ? ens_json_get(&classes->items[0], "id")
                           : NULL;
  if (!id || id->type != ENS_JSON_NUMBER || !id->is_int || id->integer < 0) {
    fprintf(stderr, PROG ": line %ld: no top-1 class id\n", lineno);
    return -1;
  }
  return (int)id->integer;
}

/* Scores every line of text; fills *correct. Returns 0, or 1 after a message. */
static int score(char *text, const char *path, const int *labels, int n, int every, int *correct)
{
  int scored = 0;
  long lineno = 0;
  *correct = 0;
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    lineno++;
    ens_json v;
    ens_error err;
    if (ens_json_parse(line, strlen(line), path, &v, &err) != ENS_OK) {
      fprintf(stderr, PROG ": line %ld: %s\n", lineno, err.message);
      return 1;
    }
    const ens_json *frame = ens_json_get(&v, "frame");
    int rc = 0;
    if (!frame || frame->type != ENS_JSON_NUMBER || !frame->is_int || frame->integer < 0) {
      fprintf(stderr, PROG ": line %ld: no frame number\n", lineno);
      rc = 1;
    } else if (frame->integer % every == 0 && frame->integer / every < n) {
      int image = (int)(frame->integer / every), got = top1(&v, lineno);
      if (got < 0 || image != scored) {
        if (got >= 0)
          fprintf(stderr, PROG ": line %ld: frame %lld out of order\n", lineno,
                  (long long)frame->integer);
        rc = 1;
      } else {
        *correct += got == labels[image];
        scored++;
      }
    }
    ens_json_free(&v);
    if (rc)
      return 1;
  }
  if (scored != n) {
    fprintf(stderr, PROG ": %s has results for %d of the %d images\n", path, scored, n);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  const char *labels_path = NULL;
  int every = 1;
  static const struct option opts[] = {{"labels", required_argument, 0, 'l'},
                                       {"frames-per-image", required_argument, 0, 'f'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (o == 'l')
      labels_path = optarg;
    else if (o == 'f') {
      if (!ens_cli_parse_int(optarg, 1, 10000, &every)) {
        fprintf(stderr, PROG ": invalid --frames-per-image '%s'\n", optarg);
        return 2;
      }
    } else {
      fprintf(o == 'h' ? stdout : stderr,
              "usage: " PROG " --labels LABELS.txt [--frames-per-image F] RESULTS.jsonl\n"
              "Top-1 accuracy of ensjson results: image i is frame i*F's first result.\n");
      return o == 'h' ? 0 : 2;
    }
  }
  if (!labels_path || optind != argc - 1) {
    fprintf(stderr, PROG ": give --labels LABELS.txt and one RESULTS.jsonl\n");
    return 2;
  }
  int *labels, n;
  if (read_labels(labels_path, &labels, &n))
    return 1;
  char *text;
  size_t len;
  ens_error err;
  if (ens_read_file(argv[optind], 1u << 30, ENS_ERR_IO, "results", &text, &len, &err) != ENS_OK) {
    fprintf(stderr, PROG ": %s\n", err.message);
    free(labels);
    return 1;
  }
  char *z = realloc(text, len + 1);
  int correct = 0, rc = 1;
  if (z) {
    z[len] = '\0';
    text = z;
    rc = score(text, argv[optind], labels, n, every, &correct);
  }
  if (!rc)
    printf("top-1 %.1f %% (%d/%d)\n", 100.0 * correct / n, correct, n);
  free(text);
  free(labels);
  return rc;
}
