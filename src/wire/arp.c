/* SPDX-License-Identifier: MIT */
/*
 * arp.c - parse and emit of ARP packets for IPv4 over Ethernet (RFC 826,
 * "Packet format"): hardware type 1, protocol type 0x0800, address lengths
 * 6 and 4. Every other combination is refused with USN_WIRE_BAD_FIELD.
 *
 * It is not the ARP protocol: the opcode is reported as received (requests,
 * replies, and anything else for the caller to drop), and the neighbour
 * cache and the "merge flag" algorithm of RFC 826 live in ip/. Pure
 * functions, no state.
 */
#include <string.h>

#include "util.h"
#include "wire.h"

#define ARP_HTYPE_ETHER 1

int usn_arp_parse(const uint8_t *buf, size_t len, struct usn_arp_repr *ret)
{
	if (len < USN_ARP_LEN)
		return USN_WIRE_TRUNCATED;
	/* RFC 826 "Packet Reception": a packet whose ar$hrd, ar$pro (and
	 * their lengths) we do not speak is discarded. */
	if (usn_get_be16(buf) != ARP_HTYPE_ETHER || usn_get_be16(buf + 2) != USN_ETHERTYPE_IPV4 ||
	    buf[4] != USN_ETH_ALEN || buf[5] != 4)
		return USN_WIRE_BAD_FIELD;
	ret->op = usn_get_be16(buf + 6);
	memcpy(ret->sha, buf + 8, 6);
	ret->spa = usn_get_be32(buf + 14);
	memcpy(ret->tha, buf + 18, 6);
	ret->tpa = usn_get_be32(buf + 24);
	return USN_WIRE_OK;
}

int usn_arp_emit(const struct usn_arp_repr *r, uint8_t *buf, size_t cap)
{
	if (cap < USN_ARP_LEN)
		return USN_WIRE_ENOSPC;
	usn_put_be16(buf, ARP_HTYPE_ETHER);
	usn_put_be16(buf + 2, USN_ETHERTYPE_IPV4);
	buf[4] = USN_ETH_ALEN;
	buf[5] = 4;
	usn_put_be16(buf + 6, r->op);
	memcpy(buf + 8, r->sha, 6);
	usn_put_be32(buf + 14, r->spa);
	memcpy(buf + 18, r->tha, 6);
	usn_put_be32(buf + 24, r->tpa);
	return USN_ARP_LEN;
}
