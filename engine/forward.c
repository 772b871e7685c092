/* placeholder: forward.c (being written) */
