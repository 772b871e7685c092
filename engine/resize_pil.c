/* placeholder: resize_pil.c (being written) */
