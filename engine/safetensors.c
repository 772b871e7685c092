/* placeholder: safetensors.c (being written) */
