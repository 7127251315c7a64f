/* SPDX-License-Identifier: MIT */
/*
 * ipv4.c - parse and emit of the IPv4 header (RFC 791 §3.1), with the
 * receive checks of RFC 1122 §3.2.1.1 (version), §3.2.1.2 (header checksum)
 * and the length rules of RFC 791 §3.1 (IHL, total length, fragment offset),
 * and the martian source table of RFC 1122 §3.2.1.3 / RFC 1812 §5.3.7.
 *
 * It is not IP input or output: options are skipped, never interpreted
 * (parse only checks that the header length stays inside the buffer), emit
 * writes a plain 20-byte header, and routing, fragmentation, reassembly and
 * address ownership live in ip/. Pure functions, no state.
 *
 * Result codes: a buffer shorter than what the header claims (the header
 * itself, IHL*4 or the total length) is USN_WIRE_TRUNCATED, so any prefix
 * of a good packet is refused as truncated; IHL < 5 is BAD_HDR_LEN; a total
 * length below the header length, or a fragment reaching past 65535, is
 * BAD_LEN. The checksum is checked after every length, so a datagram with
 * an impossible length reports the length whatever its checksum. With
 * USN_IPV4_PARSE_QUOTED (the header inside an ICMP error) only the header
 * itself has to be present; payload_len is then the bytes present.
 */
#include "util.h"
#include "wire.h"

#define IPV4_FLAG_RESERVED 0x8000
#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAG_MASK 0x1fff

int usn_ipv4_parse(const uint8_t *buf, size_t len, struct usn_ipv4_repr *ret, unsigned flags)
{
	return usn_ipv4_parse_hdr(buf, len, len, ret, flags);
}

int usn_ipv4_parse_hdr(const uint8_t *buf, size_t avail, size_t len, struct usn_ipv4_repr *ret, unsigned flags)
{
	if (avail > len)
		avail = len;
	if (avail < USN_IPV4_MIN_HLEN)
		return USN_WIRE_TRUNCATED;
	/* RFC 1122 §3.2.1.1: "A datagram whose version number is not 4
	 * MUST be silently discarded." */
	if (buf[0] >> 4 != 4)
		return USN_WIRE_BAD_VERSION;
	/* RFC 791 §3.1: IHL is the header length in 32-bit words; "the
	 * minimum value for a correct header is 5". */
	size_t hlen = (size_t)(buf[0] & 0x0f) * 4;
	if (hlen < USN_IPV4_MIN_HLEN)
		return USN_WIRE_BAD_HDR_LEN;
	/* RFC 791 §3.1: total length is header and data; it cannot be less
	 * than the header. */
	size_t tot = usn_get_be16(buf + 2);
	if (tot < hlen)
		return USN_WIRE_BAD_LEN;
	/* The header itself, options included, must be readable here. */
	if (hlen > avail)
		return USN_WIRE_TRUNCATED;
	if (flags & USN_IPV4_PARSE_QUOTED) {
		/* RFC 792: an error quotes "the internet header plus the
		 * first 64 bits of the original datagram's data" (RFC 1812
		 * §4.3.2.3: up to 576 bytes), so the total length describes
		 * the original, not what is here. The header itself must be. */
		if (hlen > len)
			return USN_WIRE_TRUNCATED;
		if (tot > len)
			tot = len;
	} else if (tot > len) {
		/* tot >= hlen, so this also keeps the options inside buf.
		 * Bytes after tot are link padding (short Ethernet frames)
		 * and are not payload. */
		return USN_WIRE_TRUNCATED;
	}
	uint16_t frag = usn_get_be16(buf + 6);
	uint16_t payload_len = (uint16_t)(tot - hlen);
	uint32_t frag_off = (uint32_t)(frag & IPV4_FRAG_MASK) * 8;
	/* RFC 791 §3.1: a datagram is at most 65535 octets; a fragment whose
	 * data would end past that can never be reassembled (the "ping of
	 * death"). A quoted header is only read, never reassembled. */
	if (!(flags & USN_IPV4_PARSE_QUOTED) && frag_off + payload_len > USN_IPV4_MAX_LEN)
		return USN_WIRE_BAD_LEN;
	/* RFC 1122 §3.2.1.2: "A host MUST verify the IP header checksum on
	 * every received datagram and silently discard every datagram that
	 * has a bad checksum." A device that verified it says so in flags. */
	if (!(flags & USN_IPV4_PARSE_NO_CSUM) && usn_csum_fold(usn_csum_partial(buf, hlen, 0)) != 0xffff)
		return USN_WIRE_BAD_CSUM;
	/* DEVIATION(RFC 791 §3.1): the reserved flag bit ("must be zero")
	 * is not checked on receive because Linux ignores it too and refusing
	 * it would only break interoperation (RFC 1122 §1.2.2); emit sends 0. */

	ret->tos = buf[1];
	ret->id = usn_get_be16(buf + 4);
	ret->df = (frag & IPV4_FLAG_DF) != 0;
	ret->mf = (frag & IPV4_FLAG_MF) != 0;
	ret->frag_off = (uint16_t)frag_off;
	ret->ttl = buf[8];
	ret->proto = buf[9];
	ret->src = usn_get_be32(buf + 12);
	ret->dst = usn_get_be32(buf + 16);
	ret->hdr_len = (uint16_t)hlen;
	ret->payload_len = payload_len;
	return USN_WIRE_OK;
}

int usn_ipv4_emit(const struct usn_ipv4_repr *r, uint8_t *buf, size_t cap)
{
	if (cap < USN_IPV4_MIN_HLEN)
		return USN_WIRE_ENOSPC;
	/* RFC 791 §3.1: total length and fragment offset must be
	 * representable; the offset counts 8-octet units. */
	if ((uint32_t)r->payload_len + USN_IPV4_MIN_HLEN > USN_IPV4_MAX_LEN ||
	    (uint32_t)r->frag_off + r->payload_len > USN_IPV4_MAX_LEN)
		return USN_WIRE_BAD_LEN;
	if (r->frag_off % 8)
		return USN_WIRE_BAD_FIELD;

	uint16_t frag = (uint16_t)(r->frag_off / 8);
	if (r->df)
		frag |= IPV4_FLAG_DF;
	if (r->mf)
		frag |= IPV4_FLAG_MF;
	buf[0] = 0x45;
	buf[1] = r->tos;
	usn_put_be16(buf + 2, (uint16_t)(USN_IPV4_MIN_HLEN + r->payload_len));
	usn_put_be16(buf + 4, r->id);
	usn_put_be16(buf + 6, frag);
	buf[8] = r->ttl;
	buf[9] = r->proto;
	usn_put_be16(buf + 10, 0);
	usn_put_be32(buf + 12, r->src);
	usn_put_be32(buf + 16, r->dst);
	usn_put_be16(buf + 10, usn_csum_finish(usn_csum_partial(buf, USN_IPV4_MIN_HLEN, 0)));
	return USN_IPV4_MIN_HLEN;
}

/* RFC 1122 §3.2.1.3 and RFC 1812 §5.3.7: { 0, <Host-number> } (this
 * network), { 127, <any> } (loopback), class D (multicast) and class E
 * (reserved, which holds the limited broadcast 255.255.255.255) are never a
 * valid source on the wire. */
bool usn_ipv4_is_martian_src(uint32_t a)
{
	uint32_t top = a >> 24;

	return top == 0 || top == 127 || (a >> 28) >= 0xe;
}
