/* SPDX-License-Identifier: MIT */
/* wire_arp.h - ARP for IPv4 over Ethernet (RFC 826). Only htype 1 / ptype
 * 0x0800 / hlen 6 / plen 4 parse; anything else is USN_WIRE_BAD_FIELD. */
#ifndef USN_WIRE_ARP_H
#define USN_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#define USN_ARP_LEN 28
#define USN_ARP_OP_REQUEST 1
#define USN_ARP_OP_REPLY 2

struct usn_arp_repr {
	uint16_t op;
	uint8_t sha[6];
	uint32_t spa; /* host order */
	uint8_t tha[6];
	uint32_t tpa; /* host order */
};

int usn_arp_parse(const uint8_t *buf, size_t len, struct usn_arp_repr *ret);
int usn_arp_emit(const struct usn_arp_repr *r, uint8_t *buf, size_t cap);

#endif
