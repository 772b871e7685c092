/* threadpool.c - persistent workers woken per parallel-for by a generation counter.
 *
 * A forward is ~50-300 short parallel-fors, and waking workers through a condition variable
 * costs tens of microseconds each. Workers and the caller can first spin on atomics (bounded:
 * `spin` polls with a pause, from the environment variable ENS_POOL_SPIN, default 0), then
 * sleep on the condition variables, so an idle model costs no CPU. Every hand-off is also done
 * under the mutex, so the sleep path cannot lose a wake-up. The default is no spinning: on a
 * loaded 2-core machine spinning measured slower (b0, 2 threads, load average 8: median
 * 25 ms without, 31 ms with 1000 polls, 120+ ms with 20000), since a spinning thread steals
 * the core the thread it waits for needs.
 *
 * OpenBLAS: the reference pointwise kernel calls cblas_sgemm from inside these workers, each
 * on its own row range. OpenBLAS's pthread build would otherwise start its own threads inside
 * each call and oversubscribe the cores, so ens_threadpool_new() sets OpenBLAS to one thread.
 * That setting is process-wide (OpenBLAS 0.3.21 has no per-call control); we accept it because
 * the engine is the heavy CPU user of its process and it makes the thread count a property of
 * the model (options.threads) alone. */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"

extern void openblas_set_num_threads(int num_threads);

struct ens_threadpool {
  int threads;
  int spin; /* polls before sleeping */
  pthread_t *workers;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  atomic_ulong generation; /* bumped (under mu) when a job is posted */
  atomic_int pending;      /* workers still busy with the current job */
  atomic_int quit;
  /* the current job: written under mu before generation is bumped */
  ens_range_fn fn;
  void *ctx;
  int n;
};

typedef struct {
  ens_threadpool *p;
  int index;
} worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void range_of(int n, int threads, int index, int *begin, int *end)
{
  *begin = (int)((long long)n * index / threads);
  *end = (int)((long long)n * (index + 1) / threads);
}

static void *worker_main(void *arg)
{
  ens_threadpool *p = ((worker_arg *)arg)->p;
  const int index = ((worker_arg *)arg)->index;
  free(arg);
  unsigned long seen = 0;
  for (;;) {
    for (int i = 0; i < p->spin && atomic_load(&p->generation) == seen && !atomic_load(&p->quit);
         i++)
      cpu_relax();
    pthread_mutex_lock(&p->mu);
    while (!atomic_load(&p->quit) && atomic_load(&p->generation) == seen)
      pthread_cond_wait(&p->wake, &p->mu);
    if (atomic_load(&p->quit)) {
      pthread_mutex_unlock(&p->mu);
      break;
    }
    seen = atomic_load(&p->generation);
    ens_range_fn fn = p->fn;
    void *ctx = p->ctx;
    const int n = p->n;
    pthread_mutex_unlock(&p->mu);

    int b, e;
    range_of(n, p->threads, index, &b, &e);
    if (e > b)
      fn(ctx, b, e);

    if (atomic_fetch_sub(&p->pending, 1) == 1) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->mu);
    }
  }
  return NULL;
}

ens_status ens_threadpool_new(int threads, ens_threadpool **out, ens_error *err)
{
  *out = NULL;
  if (threads <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (int)n : 1;
  }
  if (threads > 1024)
    return ens_fail(err, ENS_ERR_ARG, "threads: %d is too many (max 1024)", threads);
  ens_threadpool *p = calloc(1, sizeof *p);
  if (!p)
    return ens_fail(err, ENS_ERR_NOMEM, "thread pool: out of memory");
  p->threads = threads;
  const char *spin = getenv("ENS_POOL_SPIN");
  p->spin = spin ? atoi(spin) : 0;
  if (p->spin < 0 || p->spin > 10000000)
    p->spin = 0;
  atomic_init(&p->generation, 0);
  atomic_init(&p->pending, 0);
  atomic_init(&p->quit, 0);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  openblas_set_num_threads(1);
  if (threads > 1) {
    p->workers = calloc((size_t)threads - 1, sizeof(pthread_t));
    if (!p->workers) {
      ens_threadpool_free(p);
      return ens_fail(err, ENS_ERR_NOMEM, "thread pool: out of memory");
    }
    for (int i = 1; i < threads; i++) {
      worker_arg *a = malloc(sizeof *a);
      if (a) {
        a->p = p;
        a->index = i;
      }
      if (!a || pthread_create(&p->workers[i - 1], NULL, worker_main, a) != 0) {
        free(a);
        ens_threadpool_free(p);
        return ens_fail(err, ENS_ERR_NOMEM, "thread pool: cannot start thread %d of %d", i,
                        threads);
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
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->quit, 1);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->started; i++)
    pthread_join(p->workers[i], NULL);
  free(p->workers);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  free(p);
}

int ens_threadpool_threads(const ens_threadpool *p)
{
  return p->threads;
}

void ens_threadpool_run(ens_threadpool *p, int n, ens_range_fn fn, void *ctx)
{
  if (n <= 0)
    return;
  if (p->started == 0 || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->ctx = ctx;
  p->n = n;
  atomic_store(&p->pending, p->started);
  atomic_fetch_add(&p->generation, 1);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);

  int b, e;
  range_of(n, p->threads, 0, &b, &e);
  if (e > b)
    fn(ctx, b, e);

  for (int i = 0; i < p->spin && atomic_load(&p->pending) > 0; i++)
    cpu_relax();
  if (atomic_load(&p->pending) > 0) {
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->pending) > 0)
      pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
  }
}
