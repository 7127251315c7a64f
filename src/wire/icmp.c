/* SPDX-License-Identifier: MIT */
/*
 * icmp.c - parse and emit of ICMPv4 messages (RFC 792): the 8-byte header,
 * the checksum over the whole message (RFC 792 "Echo or Echo Reply
 * Message", RFC 1122 §3.2.2), the identifier and sequence number of echo
 * messages, and the next-hop MTU of "fragmentation needed" (RFC 1191 §4).
 *
 * It is not ICMP: which messages are answered, rate limits, and the use of
 * the original header quoted in an error (RFC 1122 §3.2.2) live in ip/; the
 * embedded header is handed over as `data` for the caller to parse with
 * usn_ipv4_parse(). Pure functions, no state.
 */
#include <string.h>

#include "util.h"
#include "wire.h"

static bool is_echo(uint8_t type)
{
	return type == USN_ICMP_ECHO_REQUEST || type == USN_ICMP_ECHO_REPLY;
}

static bool is_frag_needed(uint8_t type, uint8_t code)
{
	return type == USN_ICMP_DEST_UNREACH && code == USN_ICMP_FRAG_NEEDED;
}

int usn_icmp_parse(const uint8_t *buf, size_t len, struct usn_icmp_repr *ret, unsigned flags)
{
	if (len < USN_ICMP_HLEN)
		return USN_WIRE_TRUNCATED;
	/* RFC 792: "The checksum is the 16-bit ones's complement of the one's
	 * complement sum of the ICMP message starting with the ICMP Type."
	 * A message that sums to anything but -0 is corrupt. */
	if (!(flags & USN_ICMP_PARSE_NO_CSUM) && usn_csum_fold(usn_csum_partial(buf, len, 0)) != 0xffff)
		return USN_WIRE_BAD_CSUM;

	ret->type = buf[0];
	ret->code = buf[1];
	ret->rest = usn_get_be32(buf + 4);
	ret->id = 0;
	ret->seq = 0;
	ret->mtu = 0;
	if (is_echo(ret->type)) {
		ret->id = usn_get_be16(buf + 4);
		ret->seq = usn_get_be16(buf + 6);
	} else if (is_frag_needed(ret->type, ret->code)) {
		/* RFC 1191 §4: next-hop MTU in the low-order 16 bits of the
		 * second word; zero from routers that predate it. */
		ret->mtu = usn_get_be16(buf + 6);
	}
	ret->data = buf + USN_ICMP_HLEN;
	ret->data_len = len - USN_ICMP_HLEN;
	return USN_WIRE_OK;
}

/* Bytes 0..7 with a zero checksum field. Echo takes id/seq; "fragmentation
 * needed" takes mtu in the low half (the high half from rest, 0 for a repr
 * built by hand, so a parsed repr emits back unchanged); others take rest. */
static void put_hdr(const struct usn_icmp_repr *r, uint8_t *buf)
{
	buf[0] = r->type;
	buf[1] = r->code;
	usn_put_be16(buf + 2, 0);
	if (is_echo(r->type)) {
		usn_put_be16(buf + 4, r->id);
		usn_put_be16(buf + 6, r->seq);
	} else if (is_frag_needed(r->type, r->code)) {
		usn_put_be16(buf + 4, (uint16_t)(r->rest >> 16));
		usn_put_be16(buf + 6, r->mtu);
	} else {
		usn_put_be32(buf + 4, r->rest);
	}
}

int usn_icmp_emit(const struct usn_icmp_repr *r, uint8_t *buf, size_t cap)
{
	/* The message has to fit one IPv4 datagram with a minimal header. */
	if (r->data_len > USN_IPV4_MAX_LEN - USN_IPV4_MIN_HLEN - USN_ICMP_HLEN)
		return USN_WIRE_BAD_LEN;
	if (r->data_len && !r->data)
		return USN_WIRE_BAD_FIELD;
	if (cap < USN_ICMP_HLEN || cap - USN_ICMP_HLEN < r->data_len)
		return USN_WIRE_ENOSPC;
	/* Data already in place is not copied; data elsewhere in the same
	 * buffer (an error quoting the packet it answers) may overlap. */
	if (r->data_len && r->data != buf + USN_ICMP_HLEN)
		memmove(buf + USN_ICMP_HLEN, r->data, r->data_len);
	put_hdr(r, buf);
	size_t len = USN_ICMP_HLEN + r->data_len;
	usn_put_be16(buf + 2, usn_csum_finish(usn_csum_partial(buf, len, 0)));
	return (int)len;
}

int usn_icmp_emit_hdr(const struct usn_icmp_repr *r, uint32_t payload_sum, uint8_t *buf, size_t cap)
{
	if (cap < USN_ICMP_HLEN)
		return USN_WIRE_ENOSPC;
	put_hdr(r, buf);
	/* The data starts at offset 8, an even offset: no byte swap. */
	uint32_t sum = usn_csum_combine(usn_csum_partial(buf, USN_ICMP_HLEN, 0), payload_sum, USN_ICMP_HLEN);
	usn_put_be16(buf + 2, usn_csum_finish(sum));
	return USN_ICMP_HLEN;
}
