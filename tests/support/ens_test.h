/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens_test.h - tiny helpers shared by the C tests: shared/ data, generated weights, goldens,
 * numeric comparison, checks. Exit code 77 = skipped (meson's convention). */
#ifndef ENS_TEST_H
#define ENS_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ens.h"

/* ../shared beside the project root; if absent, skips the test (exit 77) with a message,
 * or fails it (exit 1) when CI=true, because CI always has shared/. */
const char *ens_test_shared(void);

/* Path under shared/ (static buffer, valid until the next call of any ens_test_*path). */
const char *ens_test_shared_path(const char *rel);

/* Directory for generated test files (build/tests/generated), created on demand. */
const char *ens_test_gen_dir(void);

/* Synthetic timm weights written by shared/tools/ens_synth_weights.py, generated once
 * (file lock, so parallel tests share the work). tag names the file; extra_args are passed
 * to the tool after --variant (e.g. "--dtype f16", "--num-classes 10"), may be NULL.
 * Returns a malloc'd path. */
char *ens_test_weights(const char *variant, const char *extra_args, const char *tag);

/* Golden input of a variant from shared/tools/ens_make_input.py (--variant v), generated
 * once. Returns a malloc'd path to a safetensors file with key "input". */
char *ens_test_input(const char *variant);

/* Load one tensor of a safetensors file as float32 (malloc'd); *numel receives its size
 * and shape[0..3] (if not NULL) its leading dims. Fails the test if absent. */
float *ens_test_load_f32(const char *path, const char *key, size_t *numel, int64_t *shape);

/* Load one U8 tensor (malloc'd). */
uint8_t *ens_test_load_u8(const char *path, const char *key, size_t *numel, int64_t *shape);

/* The whole file (malloc'd, NUL-terminated); *len receives its size. Fails the test if it
 * cannot be read. */
char *ens_test_read_file(const char *path, size_t *len);

/* |got - want| <= atol + rtol * |want| elementwise. Prints "what: max|d|=.. (at i) ..." and
 * returns 1 on success, 0 on failure (counted in ens_test_failures). */
int ens_test_close(const char *what, const float *got, const float *want, size_t n, double atol,
                   double rtol);

/* Max |got - want|. */
double ens_test_max_abs_diff(const float *got, const float *want, size_t n);

/* Population standard deviation of v[0..n); *all_finite (if not NULL) = no inf / NaN in v. */
double ens_test_std(const float *v, size_t n, int *all_finite);

/* Indices of the k largest values, descending (k <= 64). */
void ens_test_topk_ids(const float *v, int n, int k, int *ids);

/* Deterministic xorshift random numbers for kernel tests (one stream per process). */
void ens_test_seed(uint64_t seed);
float ens_test_frand(void);                   /* uniform in [-1, 1) */
int ens_test_irand(int lo, int hi);           /* uniform in [lo, hi] */
float *ens_test_randv(size_t n, float scale); /* malloc'd, n values frand() * scale */

extern int ens_test_failures;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                     \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fprintf(stderr, "\n");                                                                       \
      ens_test_failures++;                                                                         \
    }                                                                                              \
  } while (0)

/* Fatal if status is not ENS_OK. */
#define CHECK_OK(expr, errp)                                                                       \
  do {                                                                                             \
    ens_status st_ = (expr);                                                                       \
    if (st_ != ENS_OK) {                                                                           \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, (errp)->message);       \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

/* Print "PASS"/"FAIL" summary and return the process exit code. */
int ens_test_finish(const char *name);

/* Skip the test (exit 77) with a reason. */
void ens_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
