/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cmd_plot.c - `ens-train plot`: the validation top-1 of every epoch of every phase in a
 * JSON-lines training log (fit or noisy-student), as an SVG line chart: one line per phase
 * (teacher, baseline, student-r1, ...) and the pseudo-label accuracy of each round. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "read_file.h"
#include "train_cmds.h"

#define MAX_SERIES 32
#define MAX_POINTS 4096

typedef struct {
  char name[32];
  int n;
  double x[MAX_POINTS], y[MAX_POINTS];
} series;

typedef struct {
  series s[MAX_SERIES];
  int ns;
  double pl_acc[MAX_SERIES]; /* pseudo-label accuracy of round i + 1, or -1 */
  int rounds;
} chart;

static series *series_for(chart *c, const char *name)
{
  for (int i = 0; i < c->ns; i++)
    if (!strcmp(c->s[i].name, name))
      return &c->s[i];
  if (c->ns == MAX_SERIES)
    return NULL;
  series *s = &c->s[c->ns++];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  return s;
}

/* One log line into the chart; lines without the fields a chart needs are skipped. */
static void add_line(chart *c, const ens_json *v)
{
  const ens_json *phase = ens_json_get(v, "phase");
  if (!phase || phase->type != ENS_JSON_STRING)
    return;
  if (!strcmp(phase->str, "pseudo-labels")) {
    const ens_json *r = ens_json_get(v, "round"), *acc = ens_json_get(v, "label_accuracy");
    if (r && acc && r->type == ENS_JSON_NUMBER && acc->type == ENS_JSON_NUMBER && r->number >= 1 &&
        r->number <= MAX_SERIES) {
      int i = (int)r->number - 1;
      c->pl_acc[i] = acc->number;
      c->rounds = i + 1 > c->rounds ? i + 1 : c->rounds;
    }
    return;
  }
  const ens_json *e = ens_json_get(v, "epoch"), *t = ens_json_get(v, "val_top1");
  if (!e || !t || e->type != ENS_JSON_NUMBER || t->type != ENS_JSON_NUMBER)
    return;
  series *s = series_for(c, phase->str);
  if (!s)
    return;
  /* a resumed run repeats nothing, but a rerun of the same phase restarts its epochs */
  if (s->n && e->number <= s->x[s->n - 1])
    s->n = 0;
  if (s->n < MAX_POINTS) {
    s->x[s->n] = e->number;
    s->y[s->n] = t->number;
    s->n++;
  }
}

static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                               "#9467bd", "#8c564b", "#e377c2", "#17becf"};

static void svg(FILE *f, const chart *c, const char *title)
{
  const double W = 820, H = 500, L = 70, R = 170, T = 50, B = 60;
  double xmax = 1, ymin = 100, ymax = 0;
  for (int i = 0; i < c->ns; i++)
    for (int j = 0; j < c->s[i].n; j++) {
      xmax = c->s[i].x[j] > xmax ? c->s[i].x[j] : xmax;
      ymin = c->s[i].y[j] < ymin ? c->s[i].y[j] : ymin;
      ymax = c->s[i].y[j] > ymax ? c->s[i].y[j] : ymax;
    }
  for (int r = 0; r < c->rounds; r++)
    if (c->pl_acc[r] >= 0) {
      ymin = c->pl_acc[r] < ymin ? c->pl_acc[r] : ymin;
      ymax = c->pl_acc[r] > ymax ? c->pl_acc[r] : ymax;
    }
  ymin = ymin > ymax ? 0 : (double)((int)(ymin / 5) * 5);
  ymax = ymax < ymin + 5 ? ymin + 5 : (double)((int)(ymax / 5 + 1) * 5);
  if (ymax > 100)
    ymax = 100;
#define PX(x) (L + ((x)-1) / (xmax > 1 ? xmax - 1 : 1) * (W - L - R))
#define PY(y) (H - B - ((y)-ymin) / (ymax - ymin) * (H - T - B))
  fprintf(f,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
          "font-family=\"DejaVu Sans, sans-serif\" font-size=\"13\">\n"
          "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
          "<text x=\"%g\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">%s</text>\n",
          W, H, (L + W - R) / 2, title);
  for (double y = ymin; y <= ymax + 1e-9; y += (ymax - ymin) > 30 ? 10 : 5)
    fprintf(f,
            "<line x1=\"%g\" x2=\"%g\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
            "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
            L, W - R, PY(y), PY(y), L - 6, PY(y) + 4, y);
  int xstep = xmax > 40 ? 10 : xmax > 10 ? 5 : 1;
  for (int x = 1; x <= (int)xmax; x += (x == 1 && xstep > 1) ? xstep - 1 : xstep)
    fprintf(f, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%d</text>\n", PX(x), H - B + 18,
            x);
  fprintf(f,
          "<line x1=\"%g\" x2=\"%g\" y1=\"%g\" y2=\"%g\" stroke=\"black\"/>"
          "<line x1=\"%g\" x2=\"%g\" y1=\"%g\" y2=\"%g\" stroke=\"black\"/>\n"
          "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">epoch</text>\n"
          "<text transform=\"translate(20 %g) rotate(-90)\" text-anchor=\"middle\">"
          "validation top-1 (%%)</text>\n",
          L, W - R, H - B, H - B, L, L, T, H - B, (L + W - R) / 2, H - 15, (T + H - B) / 2);
  int ly = (int)T + 10;
  for (int i = 0; i < c->ns; i++) {
    const series *s = &c->s[i];
    const char *col = colors[i % 8];
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
    for (int j = 0; j < s->n; j++)
      fprintf(f, "%.1f,%.1f ", PX(s->x[j]), PY(s->y[j]));
    fprintf(f, "\"/>\n");
    for (int j = 0; j < s->n; j++)
      fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", PX(s->x[j]),
              PY(s->y[j]), col);
    if (s->n)
      fprintf(f,
              "<line x1=\"%g\" x2=\"%g\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
              "<text x=\"%g\" y=\"%d\">%s %.2f</text>\n",
              W - R + 10, W - R + 30, ly, ly, col, W - R + 36, ly + 4, s->name, s->y[s->n - 1]);
    ly += 20;
  }
  for (int r = 0; r < c->rounds; r++) {
    if (c->pl_acc[r] < 0)
      continue;
    fprintf(f,
            "<line x1=\"%g\" x2=\"%g\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
            "stroke-dasharray=\"6 4\"/>"
            "<line x1=\"%g\" x2=\"%g\" y1=\"%d\" y2=\"%d\" stroke=\"#555\" "
            "stroke-dasharray=\"6 4\"/><text x=\"%g\" y=\"%d\">labels r%d %.2f</text>\n",
            L, W - R, PY(c->pl_acc[r]), PY(c->pl_acc[r]), W - R + 10, W - R + 30, ly, ly,
            W - R + 36, ly + 4, r + 1, c->pl_acc[r]);
    ly += 20;
  }
  fprintf(f, "</svg>\n");
#undef PX
#undef PY
}

int ens_train_cmd_plot(int argc, char **argv)
{
  const char *log = NULL, *out = NULL, *title = "ens-train: validation accuracy";
  static const struct option opts[] = {{"log", required_argument, 0, 'l'},
                                       {"out", required_argument, 0, 'o'},
                                       {"title", required_argument, 0, 't'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (o == 'l')
      log = optarg;
    else if (o == 'o')
      out = optarg;
    else if (o == 't')
      title = optarg;
    else {
      fprintf(o == 'h' ? stdout : stderr,
              "usage: ens-train plot --log LOG.jsonl --out PLOT.svg [--title TEXT]\n"
              "Validation top-1 per epoch of each phase of an ens-train log, as SVG.\n");
      return o == 'h' ? 0 : 2;
    }
  }
  if (!log || !out || optind < argc) {
    fprintf(stderr, "ens-train plot: --log and --out are required\n");
    return 2;
  }
  for (const char *p = title; *p; p++)
    if (*p == '<' || *p == '&') {
      fprintf(stderr, "ens-train plot: --title may not contain '<' or '&'\n");
      return 2;
    }
  ens_error err;
  char *text;
  size_t len;
  if (ens_read_file(log, 64u << 20, ENS_ERR_IO, "training log", &text, &len, &err) != ENS_OK) {
    fprintf(stderr, "ens-train plot: %s\n", err.message);
    return 1;
  }
  chart *c = calloc(1, sizeof *c);
  if (!c) {
    free(text);
    fprintf(stderr, "ens-train plot: out of memory\n");
    return 1;
  }
  for (int i = 0; i < MAX_SERIES; i++)
    c->pl_acc[i] = -1;
  int lines = 0, bad = 0;
  for (size_t s = 0; s < len;) {
    size_t e = s;
    while (e < len && text[e] != '\n')
      e++;
    if (e > s) {
      ens_json v;
      if (ens_json_parse(text + s, e - s, log, &v, &err) == ENS_OK) {
        add_line(c, &v);
        ens_json_free(&v);
        lines++;
      } else {
        bad++;
      }
    }
    s = e + 1;
  }
  free(text);
  int rc = 1;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
  FILE *f = c->ns ? fopen(tmp, "w") : NULL;
  if (!c->ns) {
    fprintf(stderr,
            "ens-train plot: '%s' has no epoch lines with val_top1 (%d lines, %d not JSON)\n", log,
            lines, bad);
  } else if (!f) {
    fprintf(stderr, "ens-train plot: cannot create '%s': %s\n", tmp, strerror(errno));
  } else {
    svg(f, c, title);
    int failed = ferror(f) | (fclose(f) != 0);
    if (failed || rename(tmp, out) != 0) {
      fprintf(stderr, "ens-train plot: cannot write '%s': %s\n", out, strerror(errno));
      unlink(tmp);
    } else {
      rc = 0;
    }
  }
  free(c);
  return rc;
}
