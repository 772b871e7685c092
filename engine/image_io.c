/* placeholder: image_io.c (being written) */
