/* placeholder: model_load.c (being written) */
