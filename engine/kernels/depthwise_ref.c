/* placeholder: kernels/depthwise_ref.c (being written) */
