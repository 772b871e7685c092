/* placeholder: random_weights.c (being written) */
