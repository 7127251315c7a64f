// SPDX-License-Identifier: MIT
/*
 * fuzz-icmp.c - libFuzzer target for ICMPv4 (src/wire/icmp.c, RFC 792, RFC
 * 1191). Each input is an ICMP message. It is parsed with and without the
 * checksum check (which must agree when both succeed); a message that
 * parses is emitted again from its repr three ways (data copied, data
 * already in place, header alone over the data's partial sum), and all
 * three must give the same bytes, equal to the input's but for the
 * checksum, and parse back, checksum included, to the same repr. Any
 * mismatch aborts.
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

static void check_same(const struct usn_icmp_repr *a, const struct usn_icmp_repr *b)
{
	CHECK(a->type == b->type && a->code == b->code);
	CHECK(a->id == b->id && a->seq == b->seq && a->mtu == b->mtu && a->rest == b->rest);
	CHECK(a->data_len == b->data_len);
	CHECK(a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usn_icmp_repr r, c, q;
	uint8_t out[USN_IPV4_MAX_LEN];
	uint8_t inplace[USN_IPV4_MAX_LEN];
	uint8_t hdr[USN_ICMP_HLEN];

	/* one IPv4 datagram's worth at most, as ip/ would hand over */
	if (size > USN_IPV4_MAX_LEN - USN_IPV4_MIN_HLEN)
		return 0;
	int ret = usn_icmp_parse(data, size, &r, USN_ICMP_PARSE_NO_CSUM);
	int ret_c = usn_icmp_parse(data, size, &c, 0);
	if (ret != USN_WIRE_OK) {
		CHECK(ret == USN_WIRE_TRUNCATED && ret_c == ret && size < USN_ICMP_HLEN);
		return 0;
	}
	CHECK(ret_c == USN_WIRE_OK || ret_c == USN_WIRE_BAD_CSUM);
	if (ret_c == USN_WIRE_OK)
		check_same(&r, &c);
	CHECK(r.data == data + USN_ICMP_HLEN && r.data_len == size - USN_ICMP_HLEN);

	/* copied */
	ret = usn_icmp_emit(&r, out, sizeof(out));
	CHECK(ret >= 0 && (size_t)ret == size);
	CHECK(memcmp(out, data, 2) == 0);
	CHECK(memcmp(out + 4, data + 4, size - 4) == 0);
	CHECK(usn_icmp_parse(out, size, &q, 0) == USN_WIRE_OK);
	check_same(&r, &q);

	/* in place: data at buf + 8 is not copied onto itself */
	memcpy(inplace, data, size);
	struct usn_icmp_repr p = r;
	p.data = inplace + USN_ICMP_HLEN;
	CHECK(usn_icmp_emit(&p, inplace, size) == (int)size);
	CHECK(memcmp(inplace, out, size) == 0);

	/* header alone over the data's sum, the data split at a point the
	 * input chooses, summed as two chained blocks */
	size_t dl = r.data_len;
	size_t cut = dl ? data[0] % (dl + 1) : 0;
	uint32_t sum = usn_csum_partial(r.data, cut, 0);
	sum = usn_csum_combine(sum, usn_csum_partial(r.data + cut, dl - cut, 0), cut);
	CHECK(usn_icmp_emit_hdr(&r, sum, hdr, sizeof(hdr)) == USN_ICMP_HLEN);
	CHECK(memcmp(hdr, out, USN_ICMP_HLEN) == 0);

	CHECK(usn_icmp_emit(&r, out, size - 1) == USN_WIRE_ENOSPC);
	return 0;
}
