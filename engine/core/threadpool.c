/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* threadpool.c - persistent workers woken per parallel-for by a generation counter.
 *
 * A forward is ~50-300 short parallel-fors (b0 batch 1: ~50 of 20-300 us each), and waking a
 * sleeping worker through a futex costs tens of microseconds, comparable to the work. So
 * waiting threads (workers between jobs, the caller at the end of a job) first spin on an
 * atomic for a bounded time and only then sleep on a condition variable, so an idle model
 * costs no CPU. The spin budget is ENS_POOL_SPIN microseconds (default 200 when the pool has
 * no more threads than online CPUs, else 0: with more threads than cores a spinning thread
 * would take the core the thread it waits for needs). While spinning a thread calls
 * sched_yield() every ~30 us, so on a loaded machine the thread it waits for still gets
 * the core soon (b0, 2 threads, batch 1 on a quiet 2-core Zen 4: ~8.6 ms with sleeping only,
 * ~6.5 ms with spinning).
 *
 * Hand-offs take the mutex only when someone sleeps: a waiter announces itself (sleepers /
 * caller_waits, sequentially consistent) before re-checking the condition under the mutex,
 * and the poster checks the announcement after publishing, so one of the two always sees the
 * other and no wake-up is lost.
 *
 * Load balancing: a job's items are cut into up to CHUNKS_PER_THREAD chunks per thread. Each
 * thread owns a contiguous run of chunks (the static split, so a thread mostly reads what it
 * wrote in the previous job) and takes them from the front, half of what is left at a time
 * (long ranges keep the kernels' tiles long); a thread out of chunks takes the others' from
 * the back, one at a time. On a quiet machine each thread runs its own; when one is slowed or
 * descheduled the other finishes its work instead of waiting, and the caller never waits for
 * a worker that has not started (b0 batch 1 at 2 threads on a busy VM: the caller waited
 * 0.3-0.65 ms per forward for the worker with one fixed range per thread, 0.11-0.15 ms so).
 * Which thread runs a chunk must not change the result: jobs compute every item the same way
 * however the range is cut, or use ens_threadpool_run_fixed() (threadpool.h).
 *
 * A worker may look at a job late, after the caller has finished it and posted the next one,
 * so every claim is validated against the job's generation: a thread's chunk run is one 64-bit
 * word (generation, next, end) changed only by compare-and-swap, which fails for a finished
 * or replaced job. Completion is counted per thread (chunks done, tagged with the generation)
 * and summed by the caller, so no cache line is shared by every chunk.
 *
 * Shared pools: several sessions (threads) may submit to one pool at once. Jobs are
 * serialised, one parallel-for at a time (the submit mutex): a caller becomes the pool's
 * thread 0 for its job while the other caller sleeps on the mutex. Partitioning the threads
 * between callers instead would halve every job's width while the other stream is idle and
 * make the split depend on what else runs; serialised, each job still uses every thread, the
 * number of busy threads never exceeds the pool's (no oversubscription), and results do not
 * depend on the interleaving (every job computes its items the same way whatever the split).
 *
 * OpenBLAS (the reference pointwise kernel's sgemm) is set to one thread where the reference
 * kernels are chosen (kernels/dispatch.c), not here. */
#include "threadpool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

#define CACHE_LINE 64

/* Chunks per thread of a job: fine enough that the end of a held-up thread's share can be
 * split. Owners claim half of what is left at a time, so kernels still see long ranges (b0 at
 * 14x14, 2 threads: 196 rows in 32 chunks of ~6; an owner's claims are 8, 4, 2, 1, 1 chunks). */
#define CHUNKS_PER_THREAD 16

/* A thread's run of chunks of the current job: claim = generation << 32 | next << 16 | end
 * (next < end: chunks left; the low 32 bits of the generation: a worker would have to stall
 * for 2^32 jobs between reading the generation and claiming to be fooled), and how many
 * chunks of which job the thread ran. */
typedef struct {
  _Alignas(CACHE_LINE) atomic_ullong claim;
  _Alignas(CACHE_LINE) atomic_ulong done_generation; /* the job done_chunks counts */
  atomic_uint done_chunks;
} thread_slot;

struct ens_pool {
  int threads;
  long spin_ns; /* how long a waiter spins before sleeping */
  pthread_t *workers;
  int started;
  thread_slot *slots; /* one per thread, the caller's first */
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  pthread_mutex_t submit; /* one job at a time when several callers share the pool */
  /* The current job: written by the caller before generation is bumped. Atomic because a
   * late worker may read them while the next job is being posted (its claims then fail). */
  _Atomic(ens_range_fn) fn;
  _Atomic(void *) ctx;
  atomic_int n, chunks;
  _Alignas(CACHE_LINE) atomic_ulong generation;
  _Alignas(CACHE_LINE) atomic_int sleepers; /* workers (about to be) asleep on wake */
  atomic_int caller_waits;                  /* the caller is (about to be) asleep on done */
  atomic_int quit;
};

typedef struct {
  ens_threadpool *p;
  int index;
  int creator_cpu; /* sched_getcpu() of the thread that made the pool, or -1 */
} worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static long now_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Spinning, not sleeping, while the machine has a core for each thread. There used to be an
 * adaptive switch that turned spinning off for a while after a few waits spun in vain (made
 * for a loaded machine, when spinning did not yield); with the yields in spin_step() it
 * measured no better beside one or two busy processes (b0, 2 threads: 11-13 ms and 14-25 ms
 * medians either way), and it misfired at start-up: a fresh process's first waits (page
 * faults, threads starting) turned spinning off for its next ~25 forwards (8-10 ms each
 * instead of 6). */
static int spin_enabled(const ens_threadpool *p)
{
  return p->spin_ns > 0;
}

/* One poll of a bounded spin: pauses, every 64 polls checks the time budget (starting it on
 * the first check) and every 1024 polls (~30 us) yields. A yield is a system call (~0.6 us in
 * a VM) during which a new job goes unnoticed: yielding every 64 polls made a worker's
 * pick-up of a job ~0.5 us slower on average, over ~80 jobs per b0 forward. Returns 0 once the
 * budget is spent. */
static int spin_step(ens_threadpool *p, unsigned i, long *deadline)
{
  cpu_relax();
  if ((i & 63) == 0) {
    const long t = now_ns();
    if (!*deadline)
      *deadline = t + p->spin_ns;
    else if (t > *deadline)
      return 0;
    if ((i & 1023) == 0)
      sched_yield();
  }
  return 1;
}

/* Spins until *v != unchanged (returns 1) or the spin budget is spent (returns 0). */
static int spin_while_ulong(ens_threadpool *p, atomic_ulong *v, unsigned long unchanged)
{
  if (!spin_enabled(p))
    return atomic_load(v) != unchanged;
  long deadline = 0;
  for (unsigned i = 1;; i++) {
    if (atomic_load_explicit(v, memory_order_acquire) != unchanged)
      return 1;
    if (!spin_step(p, i, &deadline))
      return 0;
  }
}

static void range_of(int n, int parts, int index, int *begin, int *end)
{
  *begin = (int)((long long)n * index / parts);
  *end = (int)((long long)n * (index + 1) / parts);
}

#define CLAIM(gen, next, end)                                                                      \
  ((unsigned long long)(gen) << 32 | (unsigned long long)(next) << 16 | (unsigned long long)(end))

/* Takes chunks of generation gen from slot s into [*c0, *c1): the owner (front) half of
 * what is left of its run, so its first claims are long ranges and the last ones single
 * chunks; another thread (back) its last chunk. Returns 0 when there is none. */
static int claim_chunks(thread_slot *s, unsigned gen, int front, int *c0, int *c1)
{
  unsigned long long w = atomic_load_explicit(&s->claim, memory_order_acquire);
  for (;;) {
    const unsigned next = (unsigned)(w >> 16) & 0xFFFF, end = (unsigned)w & 0xFFFF;
    if ((unsigned)(w >> 32) != gen || next >= end)
      return 0;
    const unsigned take = front ? (end - next + 1) / 2 : 1;
    const unsigned long long want =
        front ? CLAIM(gen, next + take, end) : CLAIM(gen, next, end - take);
    if (atomic_compare_exchange_weak_explicit(&s->claim, &w, want, memory_order_acq_rel,
                                              memory_order_acquire)) {
      *c0 = (int)(front ? next : end - take);
      *c1 = *c0 + (int)take;
      return 1;
    }
  }
}

/* Thread `index`'s part of job gen: its own chunks, then the others'. Returns how many it ran. */
static unsigned run_chunks(ens_threadpool *p, int index, unsigned gen)
{
  const ens_range_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
  void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
  const int n = atomic_load_explicit(&p->n, memory_order_relaxed);
  const int chunks = atomic_load_explicit(&p->chunks, memory_order_relaxed);
  unsigned ran = 0;
  for (int k = 0; k < p->threads; k++) {
    const int owner = (index + k) % p->threads;
    int c0, c1;
    /* A successful claim proves the job was not finished, so fn, ctx, n and chunks read
     * above were this generation's. */
    while (claim_chunks(&p->slots[owner], gen, k == 0, &c0, &c1)) {
      int b, e, unused;
      range_of(n, chunks, c0, &b, &unused);
      range_of(n, chunks, c1 - 1, &unused, &e);
      fn(ctx, b, e);
      ran += (unsigned)(c1 - c0);
    }
  }
  return ran;
}

/* Chunks of job gen finished by the workers (the caller counts its own). */
static unsigned workers_done(ens_threadpool *p, unsigned long gen)
{
  unsigned sum = 0;
  for (int t = 1; t < p->threads; t++)
    if (atomic_load(&p->slots[t].done_generation) == gen)
      sum += atomic_load_explicit(&p->slots[t].done_chunks, memory_order_relaxed);
  return sum;
}

static int spin_until_done(ens_threadpool *p, unsigned long gen, unsigned want)
{
  if (!spin_enabled(p))
    return workers_done(p, gen) >= want;
  long deadline = 0;
  for (unsigned i = 1;; i++) {
    if (workers_done(p, gen) >= want)
      return 1;
    if (!spin_step(p, i, &deadline))
      return 0;
  }
}

/* A new thread starts on its creator's CPU when the scheduler's load figures make the other
 * CPUs look busy (right after another process exited, say), and the load balancer took ~90 ms
 * to move it: b0's first ~8 forwards at 2 threads then ran at 1-thread speed, the caller doing
 * every chunk. So each worker moves itself once to the index-th allowed CPU after its
 * creator's and then allows its whole set again (it stays put while the load is even). Only
 * this thread's own affinity is touched, and a refusal (a restricted container) is harmless. */
static void move_off_creator_cpu(int creator_cpu, int index)
{
  cpu_set_t allowed, one;
  if (creator_cpu < 0 || sched_getaffinity(0, sizeof allowed, &allowed) != 0)
    return;
  int ids[CPU_SETSIZE], n = 0, pos = 0; /* the allowed CPUs in order; the creator's at pos */
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &allowed)) {
      if (c == creator_cpu)
        pos = n;
      ids[n++] = c;
    }
  if (n < 2)
    return;
  CPU_ZERO(&one);
  CPU_SET(ids[(pos + index) % n], &one);
  if (sched_setaffinity(0, sizeof one, &one) == 0)
    sched_setaffinity(0, sizeof allowed, &allowed);
}

static void *worker_main(void *arg)
{
  ens_threadpool *p = ((worker_arg *)arg)->p;
  const int index = ((worker_arg *)arg)->index;
  move_off_creator_cpu(((worker_arg *)arg)->creator_cpu, index);
  free(arg);
  unsigned long seen = 0;
  for (;;) {
    if (!spin_while_ulong(p, &p->generation, seen)) {
      pthread_mutex_lock(&p->mu);
      atomic_fetch_add(&p->sleepers, 1);
      while (atomic_load(&p->generation) == seen)
        pthread_cond_wait(&p->wake, &p->mu);
      atomic_fetch_sub(&p->sleepers, 1);
      pthread_mutex_unlock(&p->mu);
    }
    seen = atomic_load(&p->generation);
    if (atomic_load(&p->quit))
      break;
    const unsigned ran = run_chunks(p, index, (unsigned)seen);
    if (ran == 0)
      continue;
    /* The caller reads done_generation first: while it waits for this job it posts no other,
     * so a count it reads after a matching generation is this job's. Sequentially consistent:
     * pairs with the caller's caller_waits store and re-check. */
    atomic_store_explicit(&p->slots[index].done_chunks, ran, memory_order_relaxed);
    atomic_store(&p->slots[index].done_generation, seen);
    if (atomic_load(&p->caller_waits)) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->mu);
    }
  }
  return NULL;
}

/* Publishes a new generation (job or quit) and wakes sleeping workers. */
static void publish(ens_threadpool *p)
{
  atomic_fetch_add(&p->generation, 1);
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
  }
}

static long online_cpus(void)
{
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? online : 1;
}

int ens_threadpool_resolve_threads(int threads)
{
  return threads > 0 ? threads : (int)online_cpus();
}

ens_status ens_threadpool_new(int threads, ens_threadpool **out, ens_error *err)
{
  *out = NULL;
  const long online = online_cpus();
  threads = ens_threadpool_resolve_threads(threads);
  if (threads > 1024)
    return ens_fail(err, ENS_ERR_ARG, "threads: %d is too many (max 1024)", threads);
  ens_threadpool *p =
      aligned_alloc(CACHE_LINE, (sizeof *p + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE);
  thread_slot *slots = aligned_alloc(CACHE_LINE, sizeof(thread_slot) * (size_t)threads);
  if (!p || !slots) {
    free(p);
    free(slots);
    return ens_fail(err, ENS_ERR_NOMEM, "thread pool: out of memory");
  }
  *p = (ens_threadpool){0};
  p->threads = threads;
  p->slots = slots;
  for (int t = 0; t < threads; t++) {
    atomic_init(&slots[t].claim, CLAIM(0, 0, 0));
    atomic_init(&slots[t].done_generation, 0);
    atomic_init(&slots[t].done_chunks, 0);
  }
  long spin_us = threads <= online ? 200 : 0;
  const char *spin = getenv("ENS_POOL_SPIN");
  if (spin && *spin) {
    char *end;
    const long v = strtol(spin, &end, 10);
    if (*end == '\0' && v >= 0 && v <= 10000000)
      spin_us = v;
  }
  p->spin_ns = spin_us * 1000;
  atomic_init(&p->generation, 0);
  atomic_init(&p->fn, NULL);
  atomic_init(&p->ctx, NULL);
  atomic_init(&p->n, 0);
  atomic_init(&p->chunks, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->caller_waits, 0);
  atomic_init(&p->quit, 0);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  pthread_mutex_init(&p->submit, NULL);
  if (threads > 1) {
    p->workers = calloc((size_t)threads - 1, sizeof(pthread_t));
    if (!p->workers) {
      ens_threadpool_free(p);
      return ens_fail(err, ENS_ERR_NOMEM, "thread pool: out of memory");
    }
    const int creator_cpu = sched_getcpu();
    for (int i = 1; i < threads; i++) {
      worker_arg *a = malloc(sizeof *a);
      if (a) {
        a->p = p;
        a->index = i;
        a->creator_cpu = creator_cpu;
      }
      const int rc = a ? pthread_create(&p->workers[i - 1], NULL, worker_main, a) : ENOMEM;
      if (rc != 0) {
        free(a);
        ens_threadpool_free(p);
        /* EAGAIN: no memory for the thread's stack, or a thread limit */
        return ens_fail(err, ENS_ERR_NOMEM,
                        "thread pool: cannot start thread %d of %d: %s (out of memory or at the "
                        "thread limit; try fewer threads)",
                        i, threads, strerror(rc));
      }
      p->started++;
    }
  }
  *out = p;
  return ENS_OK;
}

void ens_threadpool_free(ens_threadpool *p)
{
  if (!p)
    return;
  atomic_store(&p->quit, 1);
  publish(p);
  for (int i = 0; i < p->started; i++)
    pthread_join(p->workers[i], NULL);
  free(p->workers);
  free(p->slots);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->submit);
  free(p);
}

int ens_threadpool_threads(const ens_threadpool *p)
{
  return p->threads;
}

static void run_job(ens_threadpool *p, int n, ens_range_fn fn, void *ctx, int chunks_per_thread)
{
  if (n <= 0)
    return;
  if (p->started == 0 || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&p->submit);
  /* The previous job is finished: its chunks are all claimed, so a late worker reading the
   * fields below fails its claims (claim_chunks). */
  const unsigned long gen = atomic_load_explicit(&p->generation, memory_order_relaxed) + 1;
  const int chunks = n < p->threads * chunks_per_thread ? n : p->threads * chunks_per_thread;
  atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
  atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
  atomic_store_explicit(&p->n, n, memory_order_relaxed);
  atomic_store_explicit(&p->chunks, chunks, memory_order_relaxed);
  for (int t = 0; t < p->threads; t++) {
    int b, e;
    range_of(chunks, p->threads, t, &b, &e);
    atomic_store_explicit(&p->slots[t].claim, CLAIM((unsigned)gen, b, e), memory_order_relaxed);
  }
  publish(p); /* sequentially consistent: the stores above are visible to whoever sees gen */

  const unsigned want = (unsigned)chunks - run_chunks(p, 0, (unsigned)gen);
  if (!spin_until_done(p, gen, want)) {
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_waits, 1);
    while (workers_done(p, gen) < want)
      pthread_cond_wait(&p->done, &p->mu);
    atomic_store(&p->caller_waits, 0);
    pthread_mutex_unlock(&p->mu);
  }
  pthread_mutex_unlock(&p->submit);
}

void ens_threadpool_run(ens_threadpool *p, int n, ens_range_fn fn, void *ctx)
{
  run_job(p, n, fn, ctx, CHUNKS_PER_THREAD);
}

void ens_threadpool_run_fixed(ens_threadpool *p, int n, ens_range_fn fn, void *ctx)
{
  run_job(p, n, fn, ctx, 1);
}

ens_status ens_pool_new(int threads, ens_pool **out, ens_error *err)
{
  if (!out)
    return ens_fail(err, ENS_ERR_ARG, "ens_pool_new: NULL out");
  return ens_threadpool_new(threads, out, err);
}

void ens_pool_free(ens_pool *pool)
{
  ens_threadpool_free(pool);
}

int ens_pool_threads(const ens_pool *pool)
{
  return pool ? ens_threadpool_threads(pool) : 0;
}
