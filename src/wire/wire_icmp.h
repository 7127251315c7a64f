/* SPDX-License-Identifier: MIT */
/*
 * wire_icmp.h - ICMPv4 (RFC 792, RFC 1191 for "fragmentation needed").
 * Parse checks the 8-byte header and the checksum over the whole message.
 * For errors (destination unreachable, time exceeded, parameter problem,
 * source quench) `data` is the embedded original IP header and the start of
 * its payload.
 */
#ifndef USN_WIRE_ICMP_H
#define USN_WIRE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#define USN_ICMP_HLEN 8
#define USN_ICMP_ECHO_REPLY 0
#define USN_ICMP_DEST_UNREACH 3
#define USN_ICMP_SOURCE_QUENCH 4
#define USN_ICMP_REDIRECT 5
#define USN_ICMP_ECHO_REQUEST 8
#define USN_ICMP_TIME_EXCEEDED 11
#define USN_ICMP_PARAM_PROBLEM 12
/* destination unreachable codes */
#define USN_ICMP_NET_UNREACH 0
#define USN_ICMP_HOST_UNREACH 1
#define USN_ICMP_PROTO_UNREACH 2
#define USN_ICMP_PORT_UNREACH 3
#define USN_ICMP_FRAG_NEEDED 4

struct usn_icmp_repr {
	uint8_t type;
	uint8_t code;
	uint16_t id;        /* echo: identifier */
	uint16_t seq;       /* echo: sequence number */
	uint16_t mtu;       /* dest unreach / frag needed: next-hop MTU */
	uint32_t rest;      /* bytes 4..7 of the header, raw, host order */
	const uint8_t *data; /* parse: points into buf after the header */
	size_t data_len;
};

/* Parse; the checksum is checked unless flags has USN_ICMP_PARSE_NO_CSUM
 * (used when the message is in a chain and the caller checked the sum). */
#define USN_ICMP_PARSE_NO_CSUM 0x1
int usn_icmp_parse(const uint8_t *buf, size_t len, struct usn_icmp_repr *ret, unsigned flags);
/* Writes the 8-byte header, then data_len bytes from r->data (unless
 * r->data == buf + 8, already in place), and the checksum over both. Echo
 * types take id/seq, DEST_UNREACH/FRAG_NEEDED takes mtu, others take rest.
 * Returns 8 + data_len. */
int usn_icmp_emit(const struct usn_icmp_repr *r, uint8_t *buf, size_t cap);
/* Header only, with checksum field set from `payload_sum`, the partial sum of
 * data that follows elsewhere (a chain). Returns 8. */
int usn_icmp_emit_hdr(const struct usn_icmp_repr *r, uint32_t payload_sum, uint8_t *buf, size_t cap);

#endif
