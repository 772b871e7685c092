/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_threadpool.c - the pool runs every item of every job exactly once, whatever the thread
 * count, job size and timing; a thread that is held up has its share done by the others
 * (chunk stealing) instead of being waited for; results reach the caller before
 * ens_threadpool_run() returns. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ens_test.h"
#include "threadpool.h"

#define MAX_ITEMS 5000

typedef struct {
  atomic_int hits[MAX_ITEMS];
  int plain[MAX_ITEMS]; /* non-atomic writes: must be visible when run() returns */
  unsigned stamp;
  int slow_workers; /* items run by a worker take 1 ms: the caller must wait for them */
  pthread_t caller;
} counting_job;

static _Atomic unsigned sink; /* keeps the busy work */

static void count_items(void *ctx, int begin, int end)
{
  counting_job *j = ctx;
  CHECK(begin >= 0 && begin < end && end <= MAX_ITEMS, "bad range [%d, %d)", begin, end);
  if (j->slow_workers && !pthread_equal(pthread_self(), j->caller)) {
    const struct timespec t = {0, 1000 * 1000};
    nanosleep(&t, NULL);
  }
  for (int i = begin; i < end; i++) {
    /* ~0.1-1 us of work per item, so that every thread gets to run some */
    unsigned spin = 0;
    for (int k = 0; k < 300; k++)
      spin = spin * 31 + (unsigned)k;
    sink += spin;
    atomic_fetch_add(&j->hits[i], 1);
    j->plain[i] = (int)j->stamp;
  }
}

static void exactly_once(int threads)
{
  ens_threadpool *p;
  ens_error err;
  CHECK_OK(ens_threadpool_new(threads, &p, &err), &err);
  CHECK(ens_threadpool_threads(p) == threads, "threads %d", ens_threadpool_threads(p));
  counting_job *j = calloc(1, sizeof *j);
  ens_test_seed(7 + (uint64_t)threads);
  /* Many short jobs back to back: workers often look at a job late, after the caller has
   * finished it and posted the next. */
  for (int job = 0; job < 3000; job++) {
    const int n = job % 30 == 0 ? ens_test_irand(1, MAX_ITEMS) : ens_test_irand(1, 200);
    for (int i = 0; i < n; i++)
      atomic_store(&j->hits[i], 0);
    j->stamp = (unsigned)job + 1;
    j->slow_workers = job % 50 == 0;
    j->caller = pthread_self();
    ens_threadpool_run(p, n, count_items, j);
    int bad = 0;
    for (int i = 0; i < n; i++)
      bad += atomic_load(&j->hits[i]) != 1 || j->plain[i] != (int)j->stamp;
    CHECK(bad == 0, "threads %d job %d (n = %d): %d items not run exactly once", threads, job, n,
          bad);
    if (bad)
      break;
  }
  ens_threadpool_run(p, 0, count_items, j); /* n = 0: nothing to do */
  free(j);
  ens_threadpool_free(p);
}

/* Items record which thread ran them; the thread that runs item 0 (the caller's first chunk)
 * is held up, so the others must take the rest of its share. */
typedef struct {
  pthread_t ran_by[64];
  atomic_int delayed;
} stealing_job;

static void record_thread(void *ctx, int begin, int end)
{
  stealing_job *j = ctx;
  if (begin == 0 && !atomic_exchange(&j->delayed, 1)) {
    const struct timespec t = {0, 50 * 1000 * 1000};
    nanosleep(&t, NULL);
  }
  for (int i = begin; i < end; i++)
    j->ran_by[i] = pthread_self();
}

static void stalled_thread_is_not_waited_for(void)
{
  ens_threadpool *p;
  ens_error err;
  CHECK_OK(ens_threadpool_new(2, &p, &err), &err);
  stealing_job j;
  memset(&j, 0, sizeof j);
  ens_threadpool_run(p, 64, record_thread, &j);
  /* The caller owns items [0, 32): it ran item 0's chunk and slept, the worker must have run
   * part of the caller's half meanwhile. */
  const pthread_t caller = pthread_self();
  int by_worker = 0;
  for (int i = 1; i < 32; i++)
    by_worker += !pthread_equal(j.ran_by[i], caller);
  CHECK(by_worker > 0, "the worker took none of the held-up caller's items");
  ens_threadpool_free(p);
}

int main(void)
{
  for (int threads = 1; threads <= 4; threads++)
    exactly_once(threads);
  exactly_once(7);
  stalled_thread_is_not_waited_for();
  return ens_test_finish("threadpool");
}
