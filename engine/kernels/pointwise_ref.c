/* placeholder: kernels/pointwise_ref.c (being written) */
