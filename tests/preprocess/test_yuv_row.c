/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_yuv_row.c - the vectorised 4:2:0 YUV row (ens_yuv_row) gives the scalar reference's
 * bytes: every matrix and range, I420 and NV12 chroma steps, even and odd first columns, widths
 * 1..300 (partial chunks), random and extreme samples; then a timing of both on 720p-sized rows
 * (printed, not judged). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ens_test.h"
#include "yuv_row.h"

#define MAX_W 1300

static unsigned rng = 99;

static uint8_t next_byte(void)
{
  rng = rng * 1103515245u + 12345u;
  return (uint8_t)(rng >> 16);
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void)
{
  static uint8_t y[MAX_W], uv[2 * MAX_W], want[3 * MAX_W], got[3 * MAX_W];
  static const ens_yuv_matrix matrices[] = {ENS_YUV_BT601, ENS_YUV_BT709, ENS_YUV_BT601_FULL,
                                            ENS_YUV_BT709_FULL};
  int cases = 0, bad = 0;
  for (int m = 0; m < 4; m++) {
    ens_yuv_coeffs c;
    ens_yuv_coeffs_init(matrices[m], &c);
    for (int extreme = 0; extreme < 3; extreme++)
      for (int cstep = 1; cstep <= 2; cstep++)
        for (int x0 = 0; x0 < 3; x0++)
          for (int w = 1; w <= 300; w += w < 70 ? 1 : 23) {
            for (int i = 0; i < MAX_W; i++) /* 0: random; 1, 2: the range's corners */
              y[i] = extreme == 0 ? next_byte() : extreme == 1 ? (i & 1 ? 255 : 0) : 255 - (i & 3);
            for (int i = 0; i < 2 * MAX_W; i++)
              uv[i] = extreme == 0 ? next_byte() : (uint8_t)((i * 37 + extreme) % 3 == 0 ? 0 : 255);
            const uint8_t *u = uv, *v = cstep == 1 ? uv + MAX_W : uv + 1;
            memset(want, 1, sizeof want);
            memset(got, 2, sizeof got);
            ens_yuv_row_ref(&c, y, u, v, cstep, x0, w, want);
            ens_yuv_row(&c, y, u, v, cstep, x0, w, got);
            cases++;
            if (memcmp(want, got, 3 * (size_t)w) != 0 || got[3 * w] != 2) {
              if (bad++ < 5)
                CHECK(0, "matrix %d cstep %d x0 %d w %d extreme %d: rows differ", m, cstep, x0, w,
                      extreme);
            }
          }
  }
  CHECK(bad == 0, "%d of %d rows differ from the reference", bad, cases);
  printf("%d rows equal to the reference\n", cases);

  /* 642 pixels: the source rectangle of b0's crop of a 720p frame */
  ens_yuv_coeffs c;
  ens_yuv_coeffs_init(ENS_YUV_BT709, &c);
  double t_ref = 1e9, t_fast = 1e9;
  for (int round = 0; round < 5; round++) {
    double t0 = now_s();
    for (int r = 0; r < 642; r++)
      ens_yuv_row_ref(&c, y, uv, uv + MAX_W, 1, 318, 642, want);
    double t1 = now_s();
    for (int r = 0; r < 642; r++)
      ens_yuv_row(&c, y, uv, uv + MAX_W, 1, 318, 642, got);
    double t2 = now_s();
    t_ref = t1 - t0 < t_ref ? t1 - t0 : t_ref;
    t_fast = t2 - t1 < t_fast ? t2 - t1 : t_fast;
  }
  printf("642x642 pixels: reference %.3f ms, vectorised %.3f ms (best of 5)\n", t_ref * 1e3,
         t_fast * 1e3);
  return ens_test_finish("yuv_row");
}
