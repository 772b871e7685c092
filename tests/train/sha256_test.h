/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sha256_test.h - a small SHA-256 (FIPS 180-4) for tests that check data against a known
 * digest. Not for security. */
#ifndef ENS_SHA256_TEST_H
#define ENS_SHA256_TEST_H

#include <stddef.h>

/* Lower-case hex digest of data[0..len) into hex (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
