/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli_exit.c - see cli_exit.h.
 *
 * Why not return from main(): libopenblas (pthread build, 0.3.21) starts ncpu-1 server threads
 * in its load-time constructor, before main(), and each one first maps a 128 MiB work buffer.
 * When that mmap fails (a `ulimit -v`, a cgroup limit, a full machine) blas_memory_alloc()
 * retries forever, and OpenBLAS's destructor (gotoblas_quit -> blas_thread_shutdown_) joins
 * that thread at exit: the tool printed "out of memory ..." (or even its results) and then
 * never ended. ens never uses those threads (the model sets OpenBLAS to one thread in
 * threadpool.c), and OPENBLAS_NUM_THREADS cannot be set from the program early enough (the
 * constructor has run before main, and libc resets the environment after .preinit_array).
 * So the tools leave with _exit() once everything is freed and flushed: no library destructor
 * runs, the kernel ends the stuck thread. Under AddressSanitizer (which cannot run under a
 * `ulimit -v` anyway) the normal exit is kept so that LeakSanitizer still checks at exit. */
#include "cli_exit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define ENS_CLI_NORMAL_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ENS_CLI_NORMAL_EXIT 1
#endif
#endif

_Noreturn void ens_cli_exit(int rc)
{
  int out_failed = fflush(stdout) != 0 || ferror(stdout);
  if (rc == 0 && out_failed) {
    fprintf(stderr, "error writing standard output\n");
    rc = 1;
  }
  fflush(stderr);
#ifdef ENS_CLI_NORMAL_EXIT
  exit(rc);
#else
  _exit(rc);
#endif
}
