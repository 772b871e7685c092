/* placeholder: preprocess.c (being written) */
