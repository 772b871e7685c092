/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* out_file.h - an output file of the CLI tools that never destroys what was there.
 *
 * ens_out_file_open() checks the target up front, before any work is done: "-" (or
 * "/dev/stdout") means standard output; anything else must be a regular file or not exist yet,
 * in a directory where a file can be created. The check creates the temporary file
 * (".NAME.XXXXXX" beside the target) that the data goes to, so a writable directory is proven,
 * not guessed. ens_out_file_commit() flushes, syncs and renames the temporary over the target;
 * ens_out_file_abort() (and a failed commit) removes only the temporary. A character device, a
 * fifo or a directory given as the target is refused and left as it was.
 */
#ifndef ENS_CLI_OUT_FILE_H
#define ENS_CLI_OUT_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
  const char *what;   /* "--save-logits", for messages */
  const char *target; /* as given */
  char *final_path;   /* where the rename goes (a symlink's destination), malloc'd */
  char *tmp_path;     /* the temporary, malloc'd; NULL for stdout */
  FILE *f;            /* open stream: the temporary, or stdout */
  int is_stdout;
} ens_out_file;

/* Nonzero if path names standard output ("-" or "/dev/stdout"). */
int ens_out_file_is_stdout(const char *path);

/* Checks path and creates the temporary. Returns 0, or -1 with one line in msg naming what
 * and path (nothing is created then). */
int ens_out_file_open(ens_out_file *o, const char *what, const char *path, char *msg,
                      size_t msglen);

/* Closes the stream and renames the temporary over the target. Returns 0, or -1 with one line
 * in msg; the temporary is removed and the target is untouched. */
int ens_out_file_commit(ens_out_file *o, char *msg, size_t msglen);

/* Removes the temporary (if any) and frees o. Safe on a zeroed or committed o. */
void ens_out_file_abort(ens_out_file *o);

#endif
