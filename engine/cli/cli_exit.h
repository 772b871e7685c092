/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli_exit.h - how the CLI tools end: without running OpenBLAS's exit-time destructor. */
#ifndef ENS_CLI_EXIT_H
#define ENS_CLI_EXIT_H

/* Flushes stdout and stderr and ends the process with status rc (1 if rc is 0 but standard
 * output could not be written). Call it from main() after freeing everything. */
_Noreturn void ens_cli_exit(int rc);

#endif
