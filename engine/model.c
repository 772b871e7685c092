/* placeholder: model.c (being written) */
