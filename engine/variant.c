/* placeholder: variant.c (being written) */
