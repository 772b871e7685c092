/* placeholder: gstensclassify.c (being written) */
