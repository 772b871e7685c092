/* placeholder: cli/npy.c (being written) */
