/* SPDX-License-Identifier: MIT */
/*
 * udp.c - parse and emit of the UDP header (RFC 768): ports, length and the
 * checksum over the pseudo-header, header and data, with the RFC 768 rules
 * for a zero checksum (not computed; a computed zero is sent as all ones)
 * and the receive checks of RFC 1122 §4.1.3.4.
 *
 * It is not UDP: demultiplexing to sockets, ICMP port unreachable and the
 * data path live in ip/ and api/. Parse does not check the checksum, since
 * the payload may be in a chain: the caller sums it and asks
 * usn_udp_csum_ok(). Pure functions, no state.
 */
#include "util.h"
#include "wire.h"

int usn_udp_parse(const uint8_t *buf, size_t len, struct usn_udp_repr *ret)
{
	if (len < USN_UDP_HLEN)
		return USN_WIRE_TRUNCATED;
	/* RFC 768: "Length is the length in octets of this user datagram
	 * including this header and the data. (This means the minimum value
	 * of the length is eight.)" */
	uint16_t ulen = usn_get_be16(buf + 4);
	if (ulen < USN_UDP_HLEN)
		return USN_WIRE_BAD_LEN;
	if (ulen > len)
		return USN_WIRE_TRUNCATED;
	ret->src_port = usn_get_be16(buf);
	ret->dst_port = usn_get_be16(buf + 2);
	ret->len = ulen;
	ret->csum = usn_get_be16(buf + 6);
	return USN_WIRE_OK;
}

/* The same checks for a header whose datagram is not in one buffer: the
 * length field is held against the datagram's real length instead. */
int usn_udp_parse_hdr(const uint8_t *hdr, size_t hdr_avail, size_t dgram_len, struct usn_udp_repr *ret)
{
	if (hdr_avail < USN_UDP_HLEN || dgram_len < USN_UDP_HLEN)
		return USN_WIRE_TRUNCATED;
	/* RFC 768: the length field covers header and data, so it is at
	 * least 8 and cannot exceed the datagram IP delivered. */
	uint16_t ulen = usn_get_be16(hdr + 4);
	if (ulen < USN_UDP_HLEN || ulen > dgram_len)
		return USN_WIRE_BAD_LEN;
	ret->src_port = usn_get_be16(hdr);
	ret->dst_port = usn_get_be16(hdr + 2);
	ret->len = ulen;
	ret->csum = usn_get_be16(hdr + 6);
	return USN_WIRE_OK;
}

int usn_udp_emit(const struct usn_udp_repr *r, uint32_t src, uint32_t dst, uint32_t payload_sum,
		 uint8_t *buf, size_t cap)
{
	if (cap < USN_UDP_HLEN)
		return USN_WIRE_ENOSPC;
	if (r->len < USN_UDP_HLEN)
		return USN_WIRE_BAD_LEN;
	usn_put_be16(buf, r->src_port);
	usn_put_be16(buf + 2, r->dst_port);
	usn_put_be16(buf + 4, r->len);
	usn_put_be16(buf + 6, 0);
	/* The header's words: the ports and the length (its checksum field
	 * counts as zero). */
	uint32_t sum = usn_csum_pseudo_v4(src, dst, USN_IPPROTO_UDP, r->len);
	sum += (uint32_t)r->src_port + r->dst_port + r->len;
	sum = usn_csum_combine(sum, payload_sum, USN_UDP_HLEN);
	uint16_t csum = usn_csum_finish(sum);
	/* RFC 768: "If the computed checksum is zero, it is transmitted as
	 * all ones (the equivalent in one's complement arithmetic)." Zero on
	 * the wire means "no checksum". */
	if (csum == 0)
		csum = 0xffff;
	usn_put_be16(buf + 6, csum);
	return USN_UDP_HLEN;
}

/* RFC 1122 §4.1.3.4: "If a UDP datagram is received with a checksum that is
 * non-zero and invalid, UDP MUST silently discard the datagram." A zero
 * field means the sender computed none (RFC 768) and is accepted here; a
 * policy that refuses those belongs to the caller. */
bool usn_udp_csum_ok(uint16_t csum_field, uint32_t src, uint32_t dst, uint16_t udp_len, uint32_t dgram_sum)
{
	if (csum_field == 0)
		return true;
	uint32_t sum = usn_csum_combine(usn_csum_pseudo_v4(src, dst, USN_IPPROTO_UDP, udp_len), dgram_sum, 0);
	return usn_csum_fold(sum) == 0xffff;
}
