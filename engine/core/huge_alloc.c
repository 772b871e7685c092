/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* huge_alloc.c - large buffers on transparent huge pages.
 *
 * A batch-1 forward streams every weight once (b0: 20 MB, ~5000 4 KiB pages) and walks a
 * ~10 MB activation arena: more pages than the second-level TLB maps (3072 entries on Zen 4),
 * so every new page is a page walk, whose page-table reads miss the caches as soon as other
 * work shares them. Buffers of 2 MiB and more are mapped 2 MiB-aligned and marked
 * MADV_HUGEPAGE (Debian's default THP mode is "madvise": only marked memory gets huge pages);
 * where that is refused they still work on 4 KiB pages. */
#include "huge_alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

static int is_huge(size_t bytes)
{
  return bytes >= HUGE_PAGE;
}

static size_t round_up(size_t bytes)
{
  return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

void *ens_huge_alloc(size_t bytes)
{
  if (!is_huge(bytes)) {
    const size_t size = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, size ? size : 64);
    if (p)
      memset(p, 0, size);
    return p;
  }
  const size_t size = round_up(bytes);
  /* Over-map by one huge page and trim both ends to a 2 MiB-aligned range. */
  char *raw =
      mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return NULL;
  char *p = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
  if (p > raw)
    munmap(raw, (size_t)(p - raw));
  munmap(p + size, (size_t)(raw + HUGE_PAGE - p));
#ifdef MADV_HUGEPAGE
  madvise(p, size, MADV_HUGEPAGE); /* a hint: refused (THP off), the pages stay 4 KiB */
#endif
  return p;
}

void ens_huge_free(void *p, size_t bytes)
{
  if (!p)
    return;
  if (!is_huge(bytes))
    free(p);
  else
    munmap(p, round_up(bytes));
}
