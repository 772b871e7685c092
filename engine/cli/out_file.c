/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* out_file.c - checked, atomic output files of the CLI tools; see out_file.h. */
#include "out_file.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ens_out_file_is_stdout(const char *path)
{
  return strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0;
}

static const char *kind_of(mode_t m)
{
  return S_ISDIR(m)    ? "a directory"
         : S_ISCHR(m)  ? "a character device"
         : S_ISBLK(m)  ? "a block device"
         : S_ISFIFO(m) ? "a fifo"
         : S_ISSOCK(m) ? "a socket"
                       : "not a regular file";
}

/* Directory part of path ("." when it has none), malloc'd. */
static char *dir_of(const char *path)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    return strdup(".");
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, path, n);
    d[n] = '\0';
  }
  return d;
}

static int fail(ens_out_file *o, char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Message "...<what> '<target>'..." into msg, nothing left behind; returns -1. */
static int fail(ens_out_file *o, char *msg, size_t msglen, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, msglen, fmt, ap);
  va_end(ap);
  ens_out_file_abort(o);
  return -1;
}

int ens_out_file_open(ens_out_file *o, const char *what, const char *path, char *msg, size_t msglen)
{
  memset(o, 0, sizeof *o);
  o->what = what;
  o->target = path;
  if (ens_out_file_is_stdout(path)) {
    o->is_stdout = 1;
    o->f = stdout;
    return 0;
  }
  if (!*path)
    return fail(o, msg, msglen, "cannot write %s '%s': empty path", o->what, o->target);

  /* Through a symlink to a regular file, the file is replaced and the link kept. */
  struct stat sb;
  if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
    o->final_path = realpath(path, NULL);
    if (!o->final_path)
      return fail(o, msg, msglen, "cannot write %s '%s': symbolic link to nothing usable: %s",
                  o->what, o->target, strerror(errno));
  } else {
    o->final_path = strdup(path);
  }
  char *dir = o->final_path ? dir_of(o->final_path) : NULL;
  if (!dir)
    return fail(o, msg, msglen, "cannot write %s '%s': %s", o->what, o->target, strerror(ENOMEM));

  int exists = stat(o->final_path, &sb) == 0;
  if (!exists && errno != ENOENT) {
    int e = errno;
    free(dir);
    return fail(o, msg, msglen, "cannot write %s '%s': %s", o->what, o->target, strerror(e));
  }
  if (exists && !S_ISREG(sb.st_mode)) {
    free(dir);
    return fail(o, msg, msglen,
                "refusing to write %s '%s': it is %s, not a regular file (give a file path, or - "
                "for standard output)",
                o->what, o->target, kind_of(sb.st_mode));
  }
  /* rename() could replace a file we may not write; a plain write would have been refused */
  if (exists && access(o->final_path, W_OK) != 0) {
    int e = errno;
    free(dir);
    return fail(o, msg, msglen, "cannot write %s '%s': %s", o->what, o->target, strerror(e));
  }
  mode_t mode;
  if (exists) {
    mode = sb.st_mode & 07777;
  } else {
    mode_t mask = umask(0);
    umask(mask);
    mode = 0666 & ~mask;
  }

  struct stat db;
  if (stat(dir, &db) != 0 || !S_ISDIR(db.st_mode)) {
    const char *why = stat(dir, &db) != 0 ? strerror(errno) : "not a directory";
    int r = fail(o, msg, msglen, "cannot write %s '%s': directory '%s': %s", o->what, o->target,
                 dir, why);
    free(dir);
    return r;
  }
  const char *slash = strrchr(o->final_path, '/');
  const char *base = slash ? slash + 1 : o->final_path;
  size_t n = strlen(dir) + strlen(base) + 16;
  o->tmp_path = malloc(n);
  if (!o->tmp_path) {
    free(dir);
    return fail(o, msg, msglen, "cannot write %s '%s': %s", o->what, o->target, strerror(ENOMEM));
  }
  snprintf(o->tmp_path, n, "%s/.%s.XXXXXX", dir, base);
  int fd = mkstemp(o->tmp_path);
  if (fd < 0) {
    int e = errno;
    free(o->tmp_path);
    o->tmp_path = NULL; /* nothing of ours to remove */
    int r = fail(o, msg, msglen, "cannot write %s '%s': cannot create a file in directory '%s': %s",
                 o->what, o->target, dir, strerror(e));
    free(dir);
    return r;
  }
  free(dir);
  if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "wb"))) {
    int e = errno;
    close(fd);
    return fail(o, msg, msglen, "cannot write %s '%s': %s", o->what, o->target, strerror(e));
  }
  return 0;
}

int ens_out_file_commit(ens_out_file *o, char *msg, size_t msglen)
{
  if (o->is_stdout) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
      snprintf(msg, msglen, "cannot write %s to standard output: %s", o->what, strerror(errno));
      return -1;
    }
    return 0;
  }
  int ok = fflush(o->f) == 0 && !ferror(o->f);
  int e = errno;
  if (ok && fsync(fileno(o->f)) != 0 && errno != EINVAL) {
    ok = 0;
    e = errno;
  }
  if (fclose(o->f) != 0 && ok) {
    ok = 0;
    e = errno;
  }
  o->f = NULL;
  if (ok && rename(o->tmp_path, o->final_path) != 0) {
    ok = 0;
    e = errno;
  }
  if (!ok) {
    snprintf(msg, msglen, "cannot write %s '%s': %s", o->what, o->target, strerror(e));
    ens_out_file_abort(o);
    return -1;
  }
  free(o->tmp_path);
  o->tmp_path = NULL;
  ens_out_file_abort(o);
  return 0;
}

void ens_out_file_abort(ens_out_file *o)
{
  if (o->f && !o->is_stdout)
    fclose(o->f);
  if (o->tmp_path)
    unlink(o->tmp_path);
  free(o->tmp_path);
  free(o->final_path);
  o->f = NULL;
  o->tmp_path = NULL;
  o->final_path = NULL;
}
