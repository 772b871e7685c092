/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* huge_alloc.h - zeroed allocations for the large, long-lived buffers (weights, activation
 * arena), backed by 2 MiB pages where the kernel allows (internal). */
#ifndef ENS_HUGE_ALLOC_H
#define ENS_HUGE_ALLOC_H

#include <stddef.h>

/* bytes of zeroed memory, 64-byte aligned (2 MiB when large), or NULL. */
void *ens_huge_alloc(size_t bytes);

/* Frees p from ens_huge_alloc(bytes) (the same byte count); p may be NULL. */
void ens_huge_free(void *p, size_t bytes);

#endif
