/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_latency.h - the streaming benchmarks' latency samples (GArray of gint64 microseconds):
 * sort once, then read quantiles in milliseconds. */
#ifndef ENS_BENCH_LATENCY_H
#define ENS_BENCH_LATENCY_H

#include <glib.h>

/* Sorts the samples ascending. */
void bench_latency_sort(GArray *us);

/* Quantile q (0..1, nearest rank) of sorted samples in ms; 0 when there are none. */
double bench_latency_quantile_ms(const GArray *sorted_us, double q);

#endif
