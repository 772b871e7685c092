/* threadpool.c - persistent workers woken per parallel-for by a generation counter.
 *
 * OpenBLAS: the reference pointwise kernel calls cblas_sgemm from inside these workers, each
 * on its own row range. OpenBLAS's pthread build would otherwise start its own threads inside
 * each call and oversubscribe the cores, so ens_threadpool_new() sets OpenBLAS to one thread.
 * That setting is process-wide (OpenBLAS has no per-call control in 0.3.21); we accept it
 * because the engine is the heavy user of the CPU in its process and it makes the thread
 * count a property of the model (options.threads) alone. */
#include "threadpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"

extern void openblas_set_num_threads(int num_threads);

struct ens_threadpool {
  int threads;
  pthread_t *workers;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  unsigned long generation;
  int pending; /* workers still busy with the current generation */
  int quit;
  /* the current job */
  ens_range_fn fn;
  void *ctx;
  int n;
};

typedef struct {
  ens_threadpool *p;
  int index;
} worker_arg;

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
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->quit && p->generation == seen)
      pthread_cond_wait(&p->wake, &p->mu);
    if (p->quit)
      break;
    seen = p->generation;
    ens_range_fn fn = p->fn;
    void *ctx = p->ctx;
    int b, e;
    range_of(p->n, p->threads, index, &b, &e);
    pthread_mutex_unlock(&p->mu);
    if (e > b)
      fn(ctx, b, e);
    pthread_mutex_lock(&p->mu);
    if (--p->pending == 0)
      pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
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
  p->quit = 1;
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
  p->pending = p->started;
  p->generation++;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);

  int b, e;
  range_of(n, p->threads, 0, &b, &e);
  if (e > b)
    fn(ctx, b, e);

  pthread_mutex_lock(&p->mu);
  while (p->pending > 0)
    pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}
