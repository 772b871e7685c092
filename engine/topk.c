/* placeholder: topk.c (being written) */
