/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_custom_shape_errors.c - the inference loader refuses a custom-shape state dict whose
 * blocks are not what the tf_efficientnet arch_def gives (another depthwise kernel, expansion,
 * squeeze-excite width, a stage of mixed widths), naming the block. Each model is nano (w0.5
 * d0.5) with one block edited, built and saved by the training code, whose shape parser takes
 * any such network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ens_test.h"
#include "train_graph.h"

typedef void (*arch_edit)(ens_train_arch *a);

static ens_train_block *find_block(ens_train_arch *a, int stage, int index)
{
  for (int i = 0; i < a->nblocks; i++)
    if (a->blocks[i].stage == stage && a->blocks[i].index == index)
      return &a->blocks[i];
  return NULL;
}

static void kernel_3_in_stage_2(ens_train_arch *a)
{
  find_block(a, 2, 0)->k = 3; /* stage 2 is 5x5 */
}

static void expansion_4(ens_train_arch *a)
{
  ens_train_block *b = find_block(a, 3, 1);
  b->mid = b->in * 4;
  b->se_rd = b->in / 4;
}

static void se_width(ens_train_arch *a)
{
  find_block(a, 4, 0)->se_rd += 2;
}

/* blocks.5.1 narrower than blocks.5.0 (and blocks.6.0 takes its width) */
static void mixed_stage(ens_train_arch *a)
{
  ens_train_block *b = find_block(a, 5, 1), *next = find_block(a, 6, 0);
  b->out -= 8;
  b->skip = 0;
  next->in = b->out;
  next->mid = next->in * 6;
  next->se_rd = next->in / 4;
}

static void expect_refused(const char *what, arch_edit edit, const char *want1, const char *want2)
{
  ens_error err;
  ens_train_arch a;
  CHECK_OK(ens_train_arch_from_mult(0.5, 0.5, 10, &a, &err), &err);
  edit(&a);
  ens_train_graph *g;
  CHECK_OK(ens_tg_new(&a, 1, 32, 32, 1, &g, &err), &err);
  ens_tg_init(g, 1);
  char path[4200];
  snprintf(path, sizeof path, "%s/custom_shape_%s_%ld.safetensors", ens_test_gen_dir(), what,
           (long)getpid());
  CHECK_OK(ens_tg_save(g, path, &err), &err);
  ens_tg_free(g);
  ens_options opt;
  ens_options_init(&opt);
  opt.threads = 1;
  opt.input_height = opt.input_width = 32;
  opt.override_mean_std = 1;
  for (int c = 0; c < 3; c++)
    opt.mean[c] = 0.5f, opt.std[c] = 0.25f;
  ens_model *m = NULL;
  ens_status s = ens_model_load(path, &opt, &m, &err);
  CHECK(s == ENS_ERR_MODEL && m == NULL && strstr(err.message, want1) &&
            (!want2 || strstr(err.message, want2)),
        "%s: status %d, message '%s' (want '%s' and '%s')", what, (int)s,
        s ? err.message : "(none)", want1, want2 ? want2 : "");
  printf("%s: %s\n", what, s ? err.message : "(loaded)");
  ens_model_free(m);
  unlink(path);
}

int main(void)
{
  expect_refused("kernel", kernel_3_in_stage_2, "blocks.2.0.conv_dw.weight has a 3x3 kernel",
                 "stage 2 has 5x5");
  expect_refused("expansion", expansion_4, "blocks.3.1 expands", "x6");
  expect_refused("se", se_width, "blocks.4.0.se.conv_reduce.weight has", NULL);
  expect_refused("mixed_stage", mixed_stage, "blocks.5.1 has", "same width");
  return ens_test_finish("custom_shape_errors");
}
