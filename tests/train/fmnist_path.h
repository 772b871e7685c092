/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fmnist_path.h - where the tests find Debian's dataset-fashion-mnist package
 * ($ENS_FASHION_MNIST_DIR overrides); skips the test when it is absent. fmnist_file() returns a
 * static buffer: copy one path before asking for the next. */
#ifndef ENS_FMNIST_PATH_H
#define ENS_FMNIST_PATH_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ens_test.h"

static inline const char *fmnist_file(const char *name)
{
  static char path[4096];
  const char *dir = getenv("ENS_FASHION_MNIST_DIR");
  if (!dir || !*dir)
    dir = "/usr/share/datasets/fashion-mnist";
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (access(path, R_OK) != 0)
    ens_test_skip("%s not found: install Debian's dataset-fashion-mnist (.ci/install-deps does)",
                  path);
  return path;
}

#endif
