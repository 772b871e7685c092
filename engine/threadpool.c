/* placeholder: threadpool.c (being written) */
