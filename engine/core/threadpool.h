/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* threadpool.h - the persistent pthread pool behind the public ens_pool (internal names).
 * No global state. Several callers may share one pool: their jobs run one at a time
 * (threadpool.c says why). */
#ifndef ENS_THREADPOOL_H
#define ENS_THREADPOOL_H

#include "ens.h"

typedef ens_pool ens_threadpool;

/* fn(ctx, begin, end) processes items [begin, end). */
typedef void (*ens_range_fn)(void *ctx, int begin, int end);

/* The thread count a pool made with `threads` has: threads <= 0 means the online CPUs. */
int ens_threadpool_resolve_threads(int threads);

/* threads <= 0: number of online CPUs. The calling thread is one of the threads, so
 * threads - 1 workers are started. */
ens_status ens_threadpool_new(int threads, ens_threadpool **out, ens_error *err);
void ens_threadpool_free(ens_threadpool *p);
int ens_threadpool_threads(const ens_threadpool *p);

/* Runs fn over [0, n) in ranges spread over the threads and waits until all are done. The
 * ranges (and which thread runs them) depend on timing: a thread that is held up has its
 * work taken by the others, so fn must compute each item the same way whatever range it is
 * part of. Callers on several threads take turns job by job; fn must not submit to the same
 * pool (it would wait for itself). */
void ens_threadpool_run(ens_threadpool *p, int n, ens_range_fn fn, void *ctx);

/* The same with one fixed range per thread (the split depends only on n and the thread
 * count; a thread may still run another's whole range), for fn whose results depend on the
 * range. */
void ens_threadpool_run_fixed(ens_threadpool *p, int n, ens_range_fn fn, void *ctx);

#endif
