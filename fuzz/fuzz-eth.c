// SPDX-License-Identifier: MIT
/*
 * fuzz-eth.c - libFuzzer target for the Ethernet II header (src/wire/eth.c).
 * Each input is a frame. A frame that parses is emitted again from its
 * repr; the emitted header must equal the input's first 14 bytes (the header
 * is lossless) and parse back to the same repr, or the fuzzer aborts. Not a
 * link layer test: which frames are accepted is ip/'s business.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
	do { \
		if (!(c)) \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usn_eth_repr r, q;
	uint8_t out[USN_ETH_HLEN];

	int ret = usn_eth_parse(data, size, &r);
	if (ret != USN_WIRE_OK) {
		CHECK(ret == USN_WIRE_TRUNCATED && size < USN_ETH_HLEN);
		return 0;
	}
	CHECK(size >= USN_ETH_HLEN);
	CHECK(usn_eth_emit(&r, out, sizeof(out)) == USN_ETH_HLEN);
	CHECK(memcmp(out, data, USN_ETH_HLEN) == 0);
	CHECK(usn_eth_parse(out, sizeof(out), &q) == USN_WIRE_OK);
	CHECK(memcmp(q.dst, r.dst, USN_ETH_ALEN) == 0);
	CHECK(memcmp(q.src, r.src, USN_ETH_ALEN) == 0);
	CHECK(q.ethertype == r.ethertype);
	CHECK(usn_eth_emit(&r, out, USN_ETH_HLEN - 1) == USN_WIRE_ENOSPC);
	return 0;
}
