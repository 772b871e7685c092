/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* npy.h - writer of NumPy .npy files (format 1.0): little-endian float32, C order.
 *
 * The header is the one numpy.save() writes for the same array, byte for byte:
 * "\x93NUMPY" 1 0, u16 header length, "{'descr': '<f4', 'fortran_order': False, 'shape': (..), }",
 * numpy's spare room for growing axis 0, spaces up to a 64-byte boundary, '\n'.
 */
#ifndef ENS_CLI_NPY_H
#define ENS_CLI_NPY_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* Maximum number of dimensions written. */
#define ENS_NPY_MAX_DIMS 8

/* Write data (prod(shape) floats) to the stream f as an .npy array of the given shape.
 * Returns 0 on success; on failure returns -1 and puts one line naming path (the name of f in
 * messages) and the problem into errbuf. Does not close f: the caller checks the flush and
 * owns the file (out_file.h writes it atomically). */
int ens_npy_write_f32(FILE *f, const char *path, const float *data, const int64_t *shape, int ndim,
                      char *errbuf, size_t errlen);

#endif
