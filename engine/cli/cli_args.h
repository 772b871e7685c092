/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli_args.h - strict parsing of numeric command-line arguments, shared by the CLI tools. */
#ifndef ENS_CLI_ARGS_H
#define ENS_CLI_ARGS_H

/* Whole-string decimal integer in [lo, hi]; returns 1 and sets *out, else 0. */
int ens_cli_parse_int(const char *s, int lo, int hi, int *out);

/* "H" (square) or "HxW" (also "HXW") with 1 <= H, W <= 8192; returns 1 on success. */
int ens_cli_parse_size(const char *s, int *h, int *w);

#endif
