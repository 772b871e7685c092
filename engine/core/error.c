/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* error.c - status names and the one way errors are reported. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *ens_status_name(ens_status s)
{
  switch (s) {
    case ENS_OK:
      return "ok";
    case ENS_ERR_ARG:
      return "invalid argument";
    case ENS_ERR_IO:
      return "I/O error";
    case ENS_ERR_FORMAT:
      return "format error";
    case ENS_ERR_MODEL:
      return "model error";
    case ENS_ERR_NOMEM:
      return "out of memory";
    case ENS_ERR_UNSUPPORTED:
      return "unsupported";
  }
  return "unknown error";
}

ens_status ens_fail(ens_error *err, ens_status code, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

void ens_error_clear(ens_error *err)
{
  if (err) {
    err->code = ENS_OK;
    err->message[0] = '\0';
  }
}
