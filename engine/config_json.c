/* placeholder: config_json.c (being written) */
