/* SPDX-License-Identifier: MIT */
/* wire_eth.h - Ethernet II header (IEEE 802.3 type field). VLAN tags are not
 * parsed: a tagged frame reports ethertype 0x8100 and is dropped above. */
#ifndef USN_WIRE_ETH_H
#define USN_WIRE_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USN_ETH_ALEN 6
#define USN_ETH_HLEN 14
#define USN_ETH_MIN_FRAME 60 /* without FCS; shorter frames are padded */
#define USN_ETHERTYPE_IPV4 0x0800
#define USN_ETHERTYPE_ARP 0x0806
#define USN_ETHERTYPE_VLAN 0x8100
#define USN_ETHERTYPE_IPV6 0x86dd

struct usn_eth_repr {
	uint8_t dst[USN_ETH_ALEN];
	uint8_t src[USN_ETH_ALEN];
	uint16_t ethertype;
};

int usn_eth_parse(const uint8_t *buf, size_t len, struct usn_eth_repr *ret);
int usn_eth_emit(const struct usn_eth_repr *r, uint8_t *buf, size_t cap);
static inline bool usn_eth_is_broadcast(const uint8_t *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}
static inline bool usn_eth_is_multicast(const uint8_t *mac)
{
	return (mac[0] & 1) != 0; /* broadcast included */
}
static inline bool usn_eth_is_zero(const uint8_t *mac)
{
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

#endif
