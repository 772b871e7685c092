/* placeholder: gstensjson.c (being written) */
