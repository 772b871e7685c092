/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_safetensors.c - libFuzzer target: ens_st_parse on arbitrary bytes must either fail with
 * a message or give tensors that lie inside the buffer and can be read. libFuzzer passes an
 * exactly sized heap copy, so ASan catches any read past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ens_safetensors st;
  ens_error err;
  if (ens_st_parse(data, size, "fuzz", &st, &err) == ENS_OK) {
    for (int i = 0; i < st.count; i++) {
      const ens_st_tensor *t = &st.tensors[i];
      if (t->data < data || t->data + t->nbytes > data + size)
        abort(); /* a tensor outside the buffer is a bug */
      if (ens_st_find(&st, t->name) != t)
        abort();
      if (t->numel <= (1 << 20)) {
        float *out = malloc((size_t)t->numel * sizeof(float) + 1);
        if (out) {
          ens_st_read_f32(&st, t, out, &err);
          free(out);
        }
      }
    }
    for (int i = 0; i < st.meta_count; i++)
      ens_st_meta(&st, st.meta_keys[i]);
  } else if (!err.message[0])
    abort(); /* every failure carries a message */
  ens_st_close(&st);
  return 0;
}
