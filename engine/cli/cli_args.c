/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli_args.c - see cli_args.h. */
#include "cli_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIDE 8192

int ens_cli_parse_int(const char *s, int lo, int hi, int *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return 0;
  *out = (int)v;
  return 1;
}

int ens_cli_parse_size(const char *s, int *h, int *w)
{
  char buf[64];
  if (strlen(s) >= sizeof buf)
    return 0;
  strcpy(buf, s);
  char *x = strpbrk(buf, "xX");
  if (x)
    *x = '\0';
  if (!ens_cli_parse_int(buf, 1, MAX_SIDE, h))
    return 0;
  if (!x) {
    *w = *h;
    return 1;
  }
  return ens_cli_parse_int(x + 1, 1, MAX_SIDE, w);
}
