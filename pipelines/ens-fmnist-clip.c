/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens-fmnist-clip - the demo's input: Fashion-MNIST images (an IDX images file and its labels
 * file, gzip'd or not) as raw RGB video frames (28x28, gray copied to R, G and B, each image
 * repeated --frames-per-image times) plus a labels file (one true class id per line, in image
 * order), for `rawvideoparse` and ens-jsonl-score. Built here, not installed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "idx.h"

#define PROG "ens-fmnist-clip"

static int usage(FILE *f, int code)
{
  fprintf(f, "usage: " PROG " --images IMAGES.idx[.gz] --labels LABELS.idx[.gz] --count N\n"
             "       [--first K] [--frames-per-image F] --out CLIP.rgb --labels-out LABELS.txt\n"
             "Writes images K .. K+N-1 as raw RGB frames (each F times, default 1) and their\n"
             "class ids, one per line. Prints \"WIDTHxHEIGHT N\" on success.\n");
  return code;
}

static int write_clip(const ens_idx_array *im, const ens_idx_array *lab, int first, int count,
                      int repeat, const char *clip_path, const char *labels_path)
{
  const int h = im->dims[1], w = im->dims[2];
  FILE *clip = fopen(clip_path, "wb"), *labels = fopen(labels_path, "w");
  unsigned char *rgb = malloc((size_t)w * h * 3);
  int bad = !clip || !labels || !rgb;
  for (int i = first; !bad && i < first + count; i++) {
    const unsigned char *gray = im->data + (size_t)i * w * h;
    for (int p = 0; p < w * h; p++)
      rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = gray[p];
    for (int r = 0; r < repeat && !bad; r++)
      bad = fwrite(rgb, 1, (size_t)w * h * 3, clip) != (size_t)w * h * 3;
    bad |= fprintf(labels, "%d\n", lab->data[i]) < 0;
  }
  free(rgb);
  if (clip)
    bad |= fclose(clip) != 0;
  if (labels)
    bad |= fclose(labels) != 0;
  if (bad)
    fprintf(stderr, PROG ": cannot write %s or %s\n", clip_path, labels_path);
  else
    printf("%dx%d %d\n", w, h, count);
  return bad;
}

int main(int argc, char **argv)
{
  const char *images = NULL, *labels = NULL, *out = NULL, *labels_out = NULL;
  int count = -1, first = 0, repeat = 1;
  static const struct option opts[] = {{"images", required_argument, 0, 'i'},
                                       {"labels", required_argument, 0, 'l'},
                                       {"count", required_argument, 0, 'n'},
                                       {"first", required_argument, 0, 'k'},
                                       {"frames-per-image", required_argument, 0, 'f'},
                                       {"out", required_argument, 0, 'o'},
                                       {"labels-out", required_argument, 0, 'L'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    int ok = 1;
    switch (o) {
      case 'i':
        images = optarg;
        break;
      case 'l':
        labels = optarg;
        break;
      case 'o':
        out = optarg;
        break;
      case 'L':
        labels_out = optarg;
        break;
      case 'n':
        ok = ens_cli_parse_int(optarg, 1, 1 << 30, &count);
        break;
      case 'k':
        ok = ens_cli_parse_int(optarg, 0, 1 << 30, &first);
        break;
      case 'f':
        ok = ens_cli_parse_int(optarg, 1, 10000, &repeat);
        break;
      case 'h':
        return usage(stdout, 0);
      default:
        return usage(stderr, 2);
    }
    if (!ok) {
      fprintf(stderr, PROG ": invalid value '%s'\n", optarg);
      return 2;
    }
  }
  if (!images || !labels || !out || !labels_out || count < 0 || optind < argc)
    return usage(stderr, 2);
  ens_idx_array im = {0}, lab = {0};
  ens_error err;
  if (ens_idx_load_pair(images, labels, &im, &lab, &err) != ENS_OK) {
    fprintf(stderr, PROG ": %s\n", err.message);
    return 1;
  }
  int rc = 1;
  if ((long)first + count > im.dims[0])
    fprintf(stderr, PROG ": %s has %d images, asked for %d from %d\n", images, im.dims[0], count,
            first);
  else
    rc = write_clip(&im, &lab, first, count, repeat, out, labels_out);
  ens_idx_free(&im);
  ens_idx_free(&lab);
  return rc;
}
