/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_config_json.c - libFuzzer target: the hub config.json reader (and the JSON parser under
 * it) on arbitrary bytes must either fail with a message or give a config whose fields are
 * within their documented ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ens_hub_config cfg;
  ens_error err;
  if (ens_hub_config_parse((const char *)data, size, "fuzz", &cfg, &err) == ENS_OK) {
    if (cfg.has_label_names) {
      if (cfg.label_count < 0 || (cfg.label_count > 0 && !cfg.label_names))
        abort();
      for (int i = 0; i < cfg.label_count; i++)
        if (!cfg.label_names[i] || strlen(cfg.label_names[i]) > size)
          abort(); /* every label is a string built from the input */
    }
    if (cfg.has_interpolation && cfg.interpolation != ENS_INTERP_BICUBIC &&
        cfg.interpolation != ENS_INTERP_BILINEAR)
      abort();
    ens_hub_config_free(&cfg);
  } else if (!err.message[0])
    abort(); /* every failure carries a message */
  return 0;
}
