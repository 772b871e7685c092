/* placeholder: kernels/stem_ref.c (being written) */
