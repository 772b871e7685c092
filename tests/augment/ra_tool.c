/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ra_tool.c - command-line access to single RandAugment ops for test_ra_pillow.py, which
 * runs Pillow's / timm's own code on the same images and compares.
 *
 *   ra_tool op NAME ARG nearest|bilinear|bicubic FILL W H C IN.raw OUT.raw
 *       applies op NAME (timm's name) with the explicit argument ARG; FILL is one byte value
 *       or R,G,B; IN / OUT are packed rows of W x H x C bytes.
 *   ra_tool batch
 *       reads lines of the 9 `op` arguments on stdin and runs each (one process for many).
 *   ra_tool levels TRANSLATE_CONST TRANSLATE_PCT
 *       reads "NAME LEVEL NEGATE" lines on stdin, prints ens_ra_level_to_arg as %.17g.
 * Exit 0 on success, 1 with a message otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "randaugment.h"

static uint8_t *read_all(const char *path, size_t want)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  uint8_t *b = malloc(want ? want : 1);
  size_t got = b ? fread(b, 1, want, f) : 0;
  fclose(f);
  if (got != want) {
    free(b);
    return NULL;
  }
  return b;
}

static int write_all(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (!f)
    return 0;
  int ok = fwrite(data, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

static int parse_resample(const char *s, ens_ra_resample *rs)
{
  if (!strcmp(s, "nearest"))
    *rs = ENS_RA_NEAREST;
  else if (!strcmp(s, "bilinear"))
    *rs = ENS_RA_BILINEAR;
  else if (!strcmp(s, "bicubic"))
    *rs = ENS_RA_BICUBIC;
  else
    return 0;
  return 1;
}

static int run_op(char **argv)
{
  ens_ra_op op;
  ens_ra_resample rs;
  if (!ens_ra_op_from_name(argv[0], strlen(argv[0]), &op))
    return fprintf(stderr, "unknown op %s\n", argv[0]), 1;
  double arg = strtod(argv[1], NULL);
  if (!parse_resample(argv[2], &rs))
    return fprintf(stderr, "bad resample %s\n", argv[2]), 1;
  unsigned f0, f1, f2;
  int nf = sscanf(argv[3], "%u,%u,%u", &f0, &f1, &f2);
  uint8_t fill[3];
  fill[0] = (uint8_t)f0;
  fill[1] = (uint8_t)(nf == 3 ? f1 : f0);
  fill[2] = (uint8_t)(nf == 3 ? f2 : f0);
  int w = atoi(argv[4]), h = atoi(argv[5]), c = atoi(argv[6]);
  size_t n = (size_t)w * h * c;
  uint8_t *img = read_all(argv[7], n), *scratch = malloc(n ? n : 1);
  if (!img || !scratch)
    return fprintf(stderr, "cannot read %s\n", argv[7]), 1;
  ens_error err = {0};
  if (ens_ra_apply_op(op, arg, rs, fill, img, w, h, c, scratch, &err) != ENS_OK)
    return fprintf(stderr, "%s\n", err.message), 1;
  int ok = write_all(argv[8], img, n);
  free(img);
  free(scratch);
  return ok ? 0 : (fprintf(stderr, "cannot write %s\n", argv[8]), 1);
}

static int run_batch(void)
{
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    char *args[9];
    int n = 0;
    for (char *tok = strtok(line, " \n"); tok && n < 9; tok = strtok(NULL, " \n"))
      args[n++] = tok;
    if (n != 9)
      return fprintf(stderr, "batch: need 9 fields per line\n"), 1;
    if (run_op(args))
      return 1;
  }
  return 0;
}

static int run_levels(char **argv)
{
  ens_ra_hparams hp;
  ens_ra_hparams_default(&hp);
  hp.translate_const = strtod(argv[0], NULL);
  hp.translate_pct = strtod(argv[1], NULL);
  char name[64];
  double level;
  int neg;
  while (scanf("%63s %lf %d", name, &level, &neg) == 3) {
    ens_ra_op op;
    if (!ens_ra_op_from_name(name, strlen(name), &op))
      return fprintf(stderr, "unknown op %s\n", name), 1;
    printf("%.17g\n", ens_ra_level_to_arg(op, level, neg, &hp));
  }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc == 11 && !strcmp(argv[1], "op"))
    return run_op(argv + 2);
  if (argc == 2 && !strcmp(argv[1], "batch"))
    return run_batch();
  if (argc == 4 && !strcmp(argv[1], "levels"))
    return run_levels(argv + 2);
  fprintf(stderr, "usage: ra_tool op NAME ARG RESAMPLE FILL W H C IN OUT\n"
                  "       ra_tool batch < lines of the op arguments\n"
                  "       ra_tool levels TRANSLATE_CONST TRANSLATE_PCT < lines\n");
  return 1;
}
