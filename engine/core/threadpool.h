/* threadpool.h - one persistent pthread pool per model (internal). No global state. */
#ifndef ENS_THREADPOOL_H
#define ENS_THREADPOOL_H

#include "ens.h"

typedef struct ens_threadpool ens_threadpool;

/* fn(ctx, begin, end) processes items [begin, end). */
typedef void (*ens_range_fn)(void *ctx, int begin, int end);

/* threads <= 0: number of online CPUs. The calling thread is one of the threads, so
 * threads - 1 workers are started. */
ens_status ens_threadpool_new(int threads, ens_threadpool **out, ens_error *err);
void ens_threadpool_free(ens_threadpool *p);
int ens_threadpool_threads(const ens_threadpool *p);

/* Runs fn over [0, n) in ranges spread over the threads and waits until all are done. The
 * ranges (and which thread runs them) depend on timing: a thread that is held up has its
 * work taken by the others, so fn must compute each item the same way whatever range it is
 * part of. Not re-entrant: one caller at a time. */
void ens_threadpool_run(ens_threadpool *p, int n, ens_range_fn fn, void *ctx);

/* The same with one fixed range per thread (the split depends only on n and the thread
 * count; a thread may still run another's whole range), for fn whose results depend on the
 * range. */
void ens_threadpool_run_fixed(ens_threadpool *p, int n, ens_range_fn fn, void *ctx);

#endif
