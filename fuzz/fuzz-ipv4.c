// SPDX-License-Identifier: MIT
/*
 * fuzz-ipv4.c - libFuzzer target for the IPv4 header (src/wire/ipv4.c, RFC
 * 791 §3.1). Each input is an IP datagram. It is parsed with and without
 * the header checksum check (which must agree when both succeed); a
 * datagram that parses is emitted again from its repr with its payload
 * behind it, and must parse back, checksum included, to the same fields
 * (options are dropped by emit, so only hdr_len may change, to 20). A
 * header without options must come back byte for byte but for the
 * checksum's ±0 and the reserved flag bit. The same input parsed as a
 * quoted header (USN_IPV4_PARSE_QUOTED) must stay inside the buffer and
 * agree with the full parse when both succeed. Any mismatch aborts.
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

static void check_same(const struct usn_ipv4_repr *a, const struct usn_ipv4_repr *b)
{
	CHECK(a->src == b->src && a->dst == b->dst);
	CHECK(a->proto == b->proto && a->ttl == b->ttl && a->tos == b->tos);
	CHECK(a->df == b->df && a->mf == b->mf);
	CHECK(a->id == b->id && a->frag_off == b->frag_off);
	CHECK(a->payload_len == b->payload_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usn_ipv4_repr r, c, q;
	uint8_t out[USN_IPV4_MAX_LEN];

	int ret = usn_ipv4_parse(data, size, &r, USN_IPV4_PARSE_NO_CSUM);
	int ret_c = usn_ipv4_parse(data, size, &c, 0);
	/* As a header quoted in an ICMP error: only the header must be
	 * present, and the payload is what is there. */
	int ret_q = usn_ipv4_parse(data, size, &q, USN_IPV4_PARSE_QUOTED | USN_IPV4_PARSE_NO_CSUM);
	if (ret_q == USN_WIRE_OK) {
		CHECK(q.hdr_len >= USN_IPV4_MIN_HLEN && q.hdr_len <= size);
		CHECK((size_t)q.hdr_len + q.payload_len <= size);
		CHECK(q.hdr_len + q.payload_len <= (data[2] << 8 | data[3]));
	} else {
		CHECK(ret_q == USN_WIRE_TRUNCATED || ret_q == USN_WIRE_BAD_VERSION ||
		      ret_q == USN_WIRE_BAD_HDR_LEN || ret_q == USN_WIRE_BAD_LEN);
	}
	if (ret != USN_WIRE_OK) {
		/* the checksum is looked at last */
		CHECK(ret_c == ret);
		CHECK(ret != USN_WIRE_BAD_CSUM);
		return 0;
	}
	CHECK(ret_c == USN_WIRE_OK || ret_c == USN_WIRE_BAD_CSUM);
	if (ret_c == USN_WIRE_OK) {
		check_same(&r, &c);
		CHECK(r.hdr_len == c.hdr_len);
	}
	CHECK(r.hdr_len >= USN_IPV4_MIN_HLEN && r.hdr_len <= USN_IPV4_MAX_HLEN);
	CHECK((size_t)r.hdr_len + r.payload_len <= size);
	CHECK((uint32_t)r.frag_off + r.payload_len <= USN_IPV4_MAX_LEN);

	/* Emit: a plain header, then the payload. A payload that with a
	 * 20-byte header would still fit always does (hdr_len >= 20). */
	ret = usn_ipv4_emit(&r, out, sizeof(out));
	CHECK(ret == USN_IPV4_MIN_HLEN);
	memcpy(out + USN_IPV4_MIN_HLEN, data + r.hdr_len, r.payload_len);
	size_t len = USN_IPV4_MIN_HLEN + (size_t)r.payload_len;
	CHECK(usn_ipv4_parse(out, len, &q, 0) == USN_WIRE_OK);
	check_same(&r, &q);
	CHECK(q.hdr_len == USN_IPV4_MIN_HLEN);
	if (r.hdr_len == USN_IPV4_MIN_HLEN) {
		CHECK(memcmp(out, data, 6) == 0);
		CHECK(out[6] == (data[6] & 0x7f)); /* reserved bit not kept */
		CHECK(memcmp(out + 7, data + 7, 3) == 0);
		CHECK(memcmp(out + 12, data + 12, 8) == 0);
		if (ret_c == USN_WIRE_OK && !(data[6] & 0x80)) {
			/* a header that sums to -0 without its checksum has
			 * both 0x0000 and 0xffff as valid fields; emit writes
			 * 0x0000 (~fold of a non-zero sum) */
			uint16_t co = (uint16_t)(out[10] << 8 | out[11]);
			uint16_t ci = (uint16_t)(data[10] << 8 | data[11]);
			CHECK(co == ci || (co == 0 && ci == 0xffff));
		}
	}
	/* a header that parses whole parses the same as a quote */
	CHECK(usn_ipv4_parse(data, size, &q, USN_IPV4_PARSE_QUOTED | USN_IPV4_PARSE_NO_CSUM) == USN_WIRE_OK);
	check_same(&r, &q);
	CHECK(q.hdr_len == r.hdr_len);
	/* a buffer one byte short of the header fails cleanly */
	CHECK(usn_ipv4_emit(&r, out, USN_IPV4_MIN_HLEN - 1) == USN_WIRE_ENOSPC);
	/* every IPv4 parse result is a valid wire error with a name */
	CHECK(usn_wire_strerror(ret_c) != NULL);
	return 0;
}
