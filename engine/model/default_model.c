/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* default_model.c - where the embedded default model (Fashion-MNIST, a hub directory) is
 * found: one rule for ensclassify, ens-classify and the demo (ens.h ens_default_model_path). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "ens.h"
#include "error.h"

/* Set by engine/meson.build: the source tree's copy and the installed copy. */
#ifndef ENS_SOURCE_MODEL_DIR
#error "ENS_SOURCE_MODEL_DIR must be defined by the build"
#endif
#ifndef ENS_INSTALLED_MODEL_DIR
#error "ENS_INSTALLED_MODEL_DIR must be defined by the build"
#endif

/* A hub directory counts when its weights file is there (config.json is checked by the
 * loader, which names what is wrong). */
static int has_model(const char *dir)
{
  char path[4096];
  struct stat sb;
  if (snprintf(path, sizeof path, "%s/model.safetensors", dir) >= (int)sizeof path)
    return 0;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

ens_status ens_default_model_path(char *buf, size_t size, ens_error *err)
{
  const char *env = getenv("ENS_DEFAULT_MODEL");
  if (env && *env) {
    /* An explicit choice is used as given (a file or a directory), or refused: never a
     * silent fall-back to another model. */
    struct stat sb;
    if (stat(env, &sb) != 0)
      return ens_fail(err, ENS_ERR_IO, "ENS_DEFAULT_MODEL='%s' does not exist", env);
    if ((size_t)snprintf(buf, size, "%s", env) >= size)
      return ens_fail(err, ENS_ERR_ARG, "ENS_DEFAULT_MODEL path too long: %s", env);
    return ENS_OK;
  }
  const char *dirs[] = {ENS_SOURCE_MODEL_DIR, ENS_INSTALLED_MODEL_DIR};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    if (!has_model(dirs[i]))
      continue;
    if ((size_t)snprintf(buf, size, "%s", dirs[i]) >= size)
      return ens_fail(err, ENS_ERR_ARG, "default model path too long: %s", dirs[i]);
    return ENS_OK;
  }
  return ens_fail(err, ENS_ERR_IO,
                  "no default model: neither %s/model.safetensors nor "
                  "%s/model.safetensors exists (install it with meson install, set "
                  "ENS_DEFAULT_MODEL=DIR, or give a model)",
                  ENS_SOURCE_MODEL_DIR, ENS_INSTALLED_MODEL_DIR);
}
