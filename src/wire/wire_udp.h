/* SPDX-License-Identifier: MIT */
/*
 * wire_udp.h - UDP header (RFC 768). Parse checks the 8-byte header and that
 * the length field is >= 8 and <= len (the payload is trimmed to it). The
 * checksum needs the pseudo-header and possibly a chain, so it is verified
 * by the caller with usn_udp_csum_ok() or the csum helpers.
 */
#ifndef USN_WIRE_UDP_H
#define USN_WIRE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USN_UDP_HLEN 8

struct usn_udp_repr {
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t len;      /* header + payload, from the header */
	uint16_t csum;     /* as received, 0 = none (RFC 768) */
};

int usn_udp_parse(const uint8_t *buf, size_t len, struct usn_udp_repr *ret);
/* The header of a datagram that is not in one contiguous buffer (a chain
 * after reassembly, or quoted in an ICMP error): reads 8 bytes from hdr
 * (hdr_avail must be >= 8, else USN_WIRE_TRUNCATED) and checks the length
 * field against dgram_len, the datagram's real length (>= 8, else
 * USN_WIRE_TRUNCATED; field < 8 or > dgram_len: USN_WIRE_BAD_LEN). */
int usn_udp_parse_hdr(const uint8_t *hdr, size_t hdr_avail, size_t dgram_len, struct usn_udp_repr *ret);
/* Writes the header. The checksum is computed over the pseudo-header, the
 * header and `payload_sum` (partial sum of the payload, wherever it is); a
 * computed 0 is sent as 0xffff (RFC 768). */
int usn_udp_emit(const struct usn_udp_repr *r, uint32_t src, uint32_t dst, uint32_t payload_sum,
		 uint8_t *buf, size_t cap);
/* Whether a UDP datagram whose header+payload partial sum is `dgram_sum`
 * checks out; a zero checksum field means "not computed" and is accepted. */
bool usn_udp_csum_ok(uint16_t csum_field, uint32_t src, uint32_t dst, uint16_t udp_len, uint32_t dgram_sum);

#endif
