/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_latency.c - latency quantiles of ens-bench-stream and ens-bench-multistream. */
#include "bench_latency.h"

static gint cmp_i64(gconstpointer x, gconstpointer y)
{
  gint64 a = *(const gint64 *)x, b = *(const gint64 *)y;
  return (a > b) - (a < b);
}

void bench_latency_sort(GArray *us)
{
  g_array_sort(us, cmp_i64);
}

double bench_latency_quantile_ms(const GArray *sorted_us, double q)
{
  if (!sorted_us->len)
    return 0;
  return g_array_index(sorted_us, gint64, (guint)(q * (sorted_us->len - 1) + 0.5)) / 1000.0;
}
