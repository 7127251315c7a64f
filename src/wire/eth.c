/* SPDX-License-Identifier: MIT */
/*
 * eth.c - parse and emit of the Ethernet II header: destination, source,
 * type (IEEE 802.3 §3.2, "Ethernet II" framing as used by RFC 894 for IPv4).
 *
 * It is not a link layer: it does not decide which frames are ours, strip
 * VLAN tags (a tagged frame reports ethertype 0x8100), pad short frames or
 * handle the FCS (devices strip it). Pure functions, no state.
 */
#include <string.h>

#include "util.h"
#include "wire.h"

int usn_eth_parse(const uint8_t *buf, size_t len, struct usn_eth_repr *ret)
{
	if (len < USN_ETH_HLEN)
		return USN_WIRE_TRUNCATED;
	memcpy(ret->dst, buf, USN_ETH_ALEN);
	memcpy(ret->src, buf + USN_ETH_ALEN, USN_ETH_ALEN);
	ret->ethertype = usn_get_be16(buf + 2 * USN_ETH_ALEN);
	return USN_WIRE_OK;
}

int usn_eth_emit(const struct usn_eth_repr *r, uint8_t *buf, size_t cap)
{
	if (cap < USN_ETH_HLEN)
		return USN_WIRE_ENOSPC;
	memcpy(buf, r->dst, USN_ETH_ALEN);
	memcpy(buf + USN_ETH_ALEN, r->src, USN_ETH_ALEN);
	usn_put_be16(buf + 2 * USN_ETH_ALEN, r->ethertype);
	return USN_ETH_HLEN;
}
