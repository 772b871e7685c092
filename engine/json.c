/* placeholder: json.c (being written) */
