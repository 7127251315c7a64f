// SPDX-License-Identifier: MIT
/*
 * fuzz-arp.c - libFuzzer target for ARP over Ethernet (src/wire/arp.c, RFC
 * 826). Each input is an ARP packet (after the Ethernet header). A packet
 * that parses is emitted again from its repr; the 28 emitted bytes must
 * equal the input's (for the one hardware/protocol pair usnet speaks the
 * format is lossless) and parse back to the same repr, or the fuzzer aborts.
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
	struct usn_arp_repr r, q;
	uint8_t out[USN_ARP_LEN];

	int ret = usn_arp_parse(data, size, &r);
	if (ret != USN_WIRE_OK) {
		CHECK(ret == USN_WIRE_TRUNCATED || ret == USN_WIRE_BAD_FIELD);
		CHECK(ret != USN_WIRE_TRUNCATED || size < USN_ARP_LEN);
		return 0;
	}
	CHECK(usn_arp_emit(&r, out, sizeof(out)) == USN_ARP_LEN);
	CHECK(memcmp(out, data, USN_ARP_LEN) == 0);
	CHECK(usn_arp_parse(out, sizeof(out), &q) == USN_WIRE_OK);
	CHECK(q.op == r.op && q.spa == r.spa && q.tpa == r.tpa);
	CHECK(memcmp(q.sha, r.sha, 6) == 0 && memcmp(q.tha, r.tha, 6) == 0);
	return 0;
}
