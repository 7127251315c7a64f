// SPDX-License-Identifier: MIT
/*
 * fuzz-udp.c - libFuzzer target for the UDP header (src/wire/udp.c, RFC
 * 768). Each input is a UDP datagram. A datagram that parses is emitted
 * again from its repr, with addresses taken from the input and the payload
 * summed in two blocks split at a point the input chooses; the result must
 * parse back to the same ports and length, carry a non-zero checksum, and
 * pass usn_udp_csum_ok(), which must refuse it under a changed source
 * address. usn_udp_parse_hdr() must agree with usn_udp_parse() on the same
 * bytes. Any mismatch aborts.
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
	struct usn_udp_repr r, q;
	uint8_t out[USN_IPV4_MAX_LEN];

	if (size > USN_IPV4_MAX_LEN - USN_IPV4_MIN_HLEN)
		return 0;
	int ret = usn_udp_parse(data, size, &r);
	/* the header read apart from its datagram, whose real length is
	 * the input's: the same verdict (a field past it is BAD_LEN there,
	 * TRUNCATED here) and the same repr */
	int ret_h = usn_udp_parse_hdr(data, size, size, &q);
	CHECK((ret == USN_WIRE_OK) == (ret_h == USN_WIRE_OK));
	if (ret == USN_WIRE_OK)
		CHECK(q.src_port == r.src_port && q.dst_port == r.dst_port && q.len == r.len &&
		      q.csum == r.csum);
	if (ret != USN_WIRE_OK) {
		CHECK(ret == USN_WIRE_TRUNCATED || ret == USN_WIRE_BAD_LEN);
		return 0;
	}
	CHECK(r.len >= USN_UDP_HLEN && r.len <= size);

	/* addresses from the input, so they vary with it */
	uint32_t src = 0x0a000001u ^ ((uint32_t)data[0] << 8 | data[1]);
	uint32_t dst = 0xc0a80000u ^ ((uint32_t)data[2] << 16 | data[3]);
	const uint8_t *pl = data + USN_UDP_HLEN;
	size_t pl_len = r.len - (size_t)USN_UDP_HLEN;
	size_t cut = pl_len ? data[4] % (pl_len + 1) : 0;
	uint32_t psum = usn_csum_partial(pl, cut, 0);
	psum = usn_csum_combine(psum, usn_csum_partial(pl + cut, pl_len - cut, 0), cut);

	CHECK(usn_udp_emit(&r, src, dst, psum, out, sizeof(out)) == USN_UDP_HLEN);
	memcpy(out + USN_UDP_HLEN, pl, pl_len);
	CHECK(usn_udp_parse(out, r.len, &q) == USN_WIRE_OK);
	CHECK(q.src_port == r.src_port && q.dst_port == r.dst_port && q.len == r.len);
	CHECK(q.csum != 0);
	uint32_t dsum = usn_csum_partial(out, r.len, 0);
	CHECK(usn_udp_csum_ok(q.csum, src, dst, q.len, dsum));
	/* another source address that changes the sum by a non-multiple of
	 * 0xffff must fail */
	CHECK(!usn_udp_csum_ok(q.csum, src ^ 0x100u, dst, q.len, dsum));
	CHECK(usn_udp_csum_ok(0, src ^ 0x100u, dst, q.len, dsum));
	/* the input's own field: verifying it may pass or fail, but never
	 * crash, and a zero field always passes */
	bool ok = usn_udp_csum_ok(r.csum, src, dst, r.len, usn_csum_partial(data, r.len, 0));
	CHECK(r.csum != 0 || ok);
	CHECK(usn_udp_emit(&r, src, dst, psum, out, USN_UDP_HLEN - 1) == USN_WIRE_ENOSPC);
	return 0;
}
