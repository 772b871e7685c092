/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_detect.c - variant detection from tensor shapes (no weights read) on the synthetic
 * timm files of the given variants; a file named after another variant is still detected by
 * its shapes. Usage: test_detect <variant>... */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ens_test.h"
#include "model_internal.h"

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    char *w = ens_test_weights(argv[i], NULL, argv[i]);
    /* a misleading name: detection must not look at it */
    char misleading[4200];
    snprintf(misleading, sizeof misleading, "%s/tf_efficientnet_b5_but_really_%s.safetensors",
             ens_test_gen_dir(), argv[i]);
    unlink(misleading);
    CHECK(symlink(w, misleading) == 0, "symlink %s", misleading);
    ens_safetensors st;
    ens_error err;
    CHECK_OK(ens_st_open(misleading, &st, &err), &err);
    const ens_variant_def *v = NULL;
    ens_variant_dims d;
    int nc = 0;
    CHECK_OK(ens_model_detect(&st, misleading, &v, &d, &nc, &err), &err);
    CHECK(strcmp(v->name, argv[i]) == 0 && nc == 1000, "%s detected as %s (%d classes)", argv[i],
          v->name, nc);
    printf("%s: stem %d head %d repeats %d %d %d %d %d %d %d -> %s\n", argv[i], d.stem_chs,
           d.head_chs, d.repeats[0], d.repeats[1], d.repeats[2], d.repeats[3], d.repeats[4],
           d.repeats[5], d.repeats[6], v->name);
    ens_st_close(&st);
    unlink(misleading);
    free(w);
  }
  return ens_test_finish("detect");
}
