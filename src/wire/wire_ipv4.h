/* SPDX-License-Identifier: MIT */
/*
 * wire_ipv4.h - IPv4 header (RFC 791). Options are skipped, never
 * interpreted: parse only checks that IHL stays inside the buffer. Parse
 * verifies version, IHL >= 5, total length >= header length and <= the
 * buffer (trailing link padding is allowed and excluded from the payload),
 * the header checksum unless USN_IPV4_PARSE_NO_CSUM, and that a fragment's
 * offset plus length stays within 65535.
 */
#ifndef USN_WIRE_IPV4_H
#define USN_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USN_IPV4_MIN_HLEN 20
#define USN_IPV4_MAX_HLEN 60
#define USN_IPV4_MAX_LEN 65535
#define USN_IPPROTO_ICMP 1
#define USN_IPPROTO_TCP 6
#define USN_IPPROTO_UDP 17

#define USN_IPV4_PARSE_NO_CSUM 0x1 /* device verified the header checksum */
/* The header quoted in an ICMP error (RFC 792): the total length may exceed
 * the bytes present (payload_len is then what is present), and the
 * fragment-offset bound is not checked. Version, IHL and checksum are. */
#define USN_IPV4_PARSE_QUOTED 0x2

struct usn_ipv4_repr {
	uint32_t src;       /* host order */
	uint32_t dst;       /* host order */
	uint8_t proto;
	uint8_t ttl;
	uint8_t tos;        /* DSCP and ECN byte */
	bool df;
	bool mf;
	uint16_t id;
	uint16_t frag_off;  /* in bytes (field * 8) */
	uint16_t hdr_len;   /* parse: bytes incl. options; emit: ignored, 20 */
	uint16_t payload_len;
};

int usn_ipv4_parse(const uint8_t *buf, size_t len, struct usn_ipv4_repr *ret, unsigned flags);
/* The same for a packet that is not contiguous (a chain of buffers, as a
 * large receive from a device with segmentation offload): only the first
 * `avail` bytes are read (the header must be in them) and the lengths are
 * checked against `len`, the packet's real length. */
int usn_ipv4_parse_hdr(const uint8_t *buf, size_t avail, size_t len, struct usn_ipv4_repr *ret, unsigned flags);
/* Emits a 20-byte header with total length hdr+payload_len and a computed
 * checksum. */
int usn_ipv4_emit(const struct usn_ipv4_repr *r, uint8_t *buf, size_t cap);

/* Address classes (host order). */
static inline bool usn_ipv4_is_multicast(uint32_t a) { return (a >> 28) == 0xe; }
static inline bool usn_ipv4_is_loopback(uint32_t a) { return (a >> 24) == 127; }
static inline bool usn_ipv4_is_broadcast(uint32_t a) { return a == 0xffffffffu; }
/* A source no host may send from (RFC 1122 §3.2.1.3, RFC 1812 §5.3.7):
 * 0.0.0.0/8, 127/8, 224/4 (multicast), 240/4 (reserved, incl. broadcast). */
bool usn_ipv4_is_martian_src(uint32_t a);

#endif
