/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pw_problem.h - a random 1x1-convolution problem shared by the pointwise kernel tests: input,
 * weights (row-major and packed in panels), bias, SE scales for images of rpi rows (the last one
 * partial) and a residual, and the ens_pw_args describing them (in / out left to the test). */
#ifndef ENS_TEST_PW_PROBLEM_H
#define ENS_TEST_PW_PROBLEM_H

#include <math.h>
#include <stdlib.h>

#include "ens_test.h"
#include "kernels/kernels.h"

typedef struct {
  int rows, cin, cout, rpi;
  float *in, *plain, *w, *bias, *se, *res;
  ens_pw_args args;
} pw_problem;

static inline void pw_problem_init(pw_problem *p, int rows, int cin, int cout, int use_se,
                                   int use_res, ens_act act)
{
  const int rpi = rows > 3 ? rows / 3 + 1 : 1;
  const int nimg = (rows + rpi - 1) / rpi;
  *p = (pw_problem){.rows = rows, .cin = cin, .cout = cout, .rpi = rpi};
  p->in = ens_test_randv((size_t)rows * cin, 2.0f);
  p->plain = ens_test_randv((size_t)cin * cout, 1.0f / sqrtf((float)cin));
  p->w = malloc(sizeof(float) * ens_pw_packed_floats(cin, cout));
  ens_pw_pack(p->plain, cin, cout, p->w);
  p->bias = ens_test_randv(cout, 0.5f);
  p->se = ens_test_randv((size_t)nimg * cin, 1.0f);
  p->res = ens_test_randv((size_t)rows * cout, 1.0f);
  p->args = (ens_pw_args){.w = p->w,
                          .bias = p->bias,
                          .se = use_se ? p->se : NULL,
                          .residual = use_res ? p->res : NULL,
                          .rows = rows,
                          .cin = cin,
                          .cout = cout,
                          .rows_per_image = rpi,
                          .act = act};
}

static inline void pw_problem_free(pw_problem *p)
{
  free(p->in), free(p->plain), free(p->w), free(p->bias), free(p->se), free(p->res);
}

#endif
