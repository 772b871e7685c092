/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens_test.c - see ens_test.h. */
#include "ens_test.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"

int ens_test_failures = 0;

void ens_test_skip(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "SKIP: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(77);
}

const char *ens_test_shared(void)
{
  static char path[4096];
  if (path[0])
    return path;
  const char *env = getenv("ENS_SHARED_DIR");
  snprintf(path, sizeof path, "%s", env && *env ? env : ENS_SOURCE_ROOT "/../shared");
  struct stat sb;
  if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
      fprintf(stderr, "FAIL: %s not found; CI must provide ../shared beside the project\n", path);
      exit(1);
    }
    ens_test_skip("%s not found: parity data (../shared beside the project root) is absent", path);
  }
  return path;
}

const char *ens_test_shared_path(const char *rel)
{
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", ens_test_shared(), rel);
  return path;
}

const char *ens_test_gen_dir(void)
{
  static char path[4096];
  if (!path[0]) {
    snprintf(path, sizeof path, "%s/tests/generated", ENS_BUILD_ROOT);
    char parent[4096];
    snprintf(parent, sizeof parent, "%s/tests", ENS_BUILD_ROOT);
    mkdir(parent, 0755);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "FAIL: cannot create %s: %s\n", path, strerror(errno));
      exit(1);
    }
  }
  return path;
}

/* Run cmd under an exclusive lock unless out already exists; cmd writes to out.tmp. */
static char *generate_once(const char *name, const char *cmd_fmt_args)
{
  const char *dir = ens_test_gen_dir();
  char *out = malloc(4096);
  snprintf(out, 4096, "%s/%s", dir, name);
  char lock_path[4200];
  snprintf(lock_path, sizeof lock_path, "%s/.lock", dir);
  int fd = open(lock_path, O_CREAT | O_RDWR, 0644);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    fprintf(stderr, "FAIL: cannot lock %s\n", lock_path);
    exit(1);
  }
  if (access(out, R_OK) != 0) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s --out '%s.tmp' > /dev/null && mv '%s.tmp' '%s'", cmd_fmt_args,
             out, out, out);
    fprintf(stderr, "generating %s\n", out);
    if (system(cmd) != 0) {
      fprintf(stderr, "FAIL: command failed: %s\n", cmd);
      exit(1);
    }
  }
  flock(fd, LOCK_UN);
  close(fd);
  return out;
}

char *ens_test_weights(const char *variant, const char *extra_args, const char *tag)
{
  char name[256], cmd[4096];
  snprintf(name, sizeof name, "%s.safetensors", tag);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tools/ens_synth_weights.py' --variant %s %s",
           ens_test_shared(), variant, extra_args ? extra_args : "");
  return generate_once(name, cmd);
}

char *ens_test_input(const char *variant)
{
  char name[256], cmd[4096];
  snprintf(name, sizeof name, "input_%s.safetensors", variant);
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 '%s/tools/ens_make_input.py' --format safetensors --variant %s",
           ens_test_shared(), variant);
  return generate_once(name, cmd);
}

double ens_test_std(const float *v, size_t n, int *all_finite)
{
  double sum = 0, sum2 = 0;
  int finite = 1;
  for (size_t i = 0; i < n; i++) {
    finite &= isfinite(v[i]) != 0;
    sum += v[i];
    sum2 += (double)v[i] * v[i];
  }
  if (all_finite)
    *all_finite = finite;
  return sqrt(sum2 / n - (sum / n) * (sum / n));
}

char *ens_test_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "FAIL: cannot open %s\n", path);
    exit(1);
  }
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0)
    n = ftell(f);
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!buf || fseek(f, 0, SEEK_SET) != 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "FAIL: cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  buf[n] = 0;
  *len = (size_t)n;
  return buf;
}

static const ens_st_tensor *open_tensor(const char *path, const char *key, ens_safetensors *st)
{
  ens_error err;
  if (ens_st_open(path, st, &err) != ENS_OK) {
    fprintf(stderr, "FAIL: %s\n", err.message);
    exit(1);
  }
  const ens_st_tensor *t = ens_st_find(st, key);
  if (!t) {
    fprintf(stderr, "FAIL: %s has no tensor '%s'\n", path, key);
    exit(1);
  }
  return t;
}

static void copy_shape(const ens_st_tensor *t, size_t *numel, int64_t *shape)
{
  if (numel)
    *numel = (size_t)t->numel;
  if (shape)
    for (int i = 0; i < 4; i++)
      shape[i] = i < t->ndim ? t->shape[i] : 1;
}

float *ens_test_load_f32(const char *path, const char *key, size_t *numel, int64_t *shape)
{
  ens_safetensors st;
  const ens_st_tensor *t = open_tensor(path, key, &st);
  float *v = malloc((size_t)t->numel * sizeof(float) + 1);
  ens_error err;
  if (ens_st_read_f32(&st, t, v, &err) != ENS_OK) {
    fprintf(stderr, "FAIL: %s\n", err.message);
    exit(1);
  }
  copy_shape(t, numel, shape);
  ens_st_close(&st);
  return v;
}

uint8_t *ens_test_load_u8(const char *path, const char *key, size_t *numel, int64_t *shape)
{
  ens_safetensors st;
  const ens_st_tensor *t = open_tensor(path, key, &st);
  if (t->dtype != ENS_DT_U8) {
    fprintf(stderr, "FAIL: %s:%s is not U8\n", path, key);
    exit(1);
  }
  uint8_t *v = malloc(t->nbytes + 1);
  memcpy(v, t->data, t->nbytes);
  copy_shape(t, numel, shape);
  ens_st_close(&st);
  return v;
}

double ens_test_max_abs_diff(const float *got, const float *want, size_t n)
{
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)want[i]);
    if (!(d <= m)) /* NaN counts as infinitely wrong */
      m = isnan(d) ? INFINITY : d;
  }
  return m;
}

int ens_test_close(const char *what, const float *got, const float *want, size_t n, double atol,
                   double rtol)
{
  double worst = 0, maxd = 0, maxw = 0;
  size_t at = 0, bad = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)want[i]);
    double lim = atol + rtol * fabs((double)want[i]);
    if (isnan(d))
      d = INFINITY;
    if (d > maxd)
      maxd = d;
    if (fabs(want[i]) > maxw)
      maxw = fabs(want[i]);
    if (d > lim) {
      bad++;
      if (d - lim > worst) {
        worst = d - lim;
        at = i;
      }
    }
  }
  printf("%s: n=%zu max|d|=%.3g max|want|=%.3g rel=%.3g %s", what, n, maxd, maxw, maxd / (1 + maxw),
         bad ? "FAIL" : "ok");
  if (bad)
    printf(" (%zu beyond atol %.g rtol %.g; worst at %zu: got %.7g want %.7g)", bad, atol, rtol, at,
           got[at], want[at]);
  printf("\n");
  if (bad)
    ens_test_failures++;
  return bad == 0;
}

void ens_test_topk_ids(const float *v, int n, int k, int *ids)
{
  for (int j = 0; j < k; j++) {
    int best = -1;
    for (int i = 0; i < n; i++) {
      int used = 0;
      for (int q = 0; q < j; q++)
        used |= ids[q] == i;
      if (!used && (best < 0 || v[i] > v[best]))
        best = i;
    }
    ids[j] = best;
  }
}

int ens_test_finish(const char *name)
{
  if (ens_test_failures) {
    printf("FAIL %s: %d check(s) failed\n", name, ens_test_failures);
    return 1;
  }
  printf("PASS %s\n", name);
  return 0;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

void ens_test_seed(uint64_t seed)
{
  rng_state = seed ? seed : 0x9E3779B97F4A7C15ull; /* xorshift must not start at 0 */
}

float ens_test_frand(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((rng_state >> 40) * (1.0 / (1 << 23)) - 1.0);
}

int ens_test_irand(int lo, int hi)
{
  return lo + (int)((ens_test_frand() + 1.0f) * 0.5f * (hi - lo + 1)) % (hi - lo + 1);
}

float *ens_test_randv(size_t n, float scale)
{
  float *v = malloc(sizeof(float) * (n ? n : 1));
  for (size_t i = 0; i < n; i++)
    v[i] = ens_test_frand() * scale;
  return v;
}
