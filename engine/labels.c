/* placeholder: labels.c (being written) */
