/* placeholder: yuv.c (being written) */
