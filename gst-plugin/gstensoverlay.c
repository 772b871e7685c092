/* placeholder: gstensoverlay.c (being written) */
