/* placeholder: gstensmeta.c (being written) */
