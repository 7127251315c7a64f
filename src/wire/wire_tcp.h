/* SPDX-License-Identifier: MIT */
/*
 * wire_tcp.h - TCP header and options (RFC 9293 §3.1, RFC 7323 window scale
 * and timestamps, RFC 2018 SACK, RFC 6691 MSS). The state machine never sees
 * these bytes: it gets a struct usn_tcp_repr.
 *
 * Parse checks: len >= 20, data offset >= 5 and within len, the option list
 * well formed (RFC 9293 §3.1: every option but EOL/NOP has a length >= 2 that
 * stays inside the header; MUST handle illegal lengths without crashing).
 * A known option with the wrong length (e.g. MSS of length 3) is ignored,
 * as Linux does, and counted in repr.bad_opts; a length that runs past the
 * header or is < 2 makes the whole parse fail with USN_WIRE_BAD_OPTION.
 * Unknown options are skipped. At most USN_TCP_MAX_SACK blocks are kept.
 * The checksum needs the pseudo-header: see usn_tcp_csum_ok().
 */
#ifndef USN_WIRE_TCP_H
#define USN_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USN_TCP_MIN_HLEN 20
#define USN_TCP_MAX_HLEN 60
#define USN_TCP_MAX_SACK 4

#define USN_TCP_FIN 0x01
#define USN_TCP_SYN 0x02
#define USN_TCP_RST 0x04
#define USN_TCP_PSH 0x08
#define USN_TCP_ACK 0x10
#define USN_TCP_URG 0x20
#define USN_TCP_ECE 0x40
#define USN_TCP_CWR 0x80

#define USN_TCPOPT_EOL 0
#define USN_TCPOPT_NOP 1
#define USN_TCPOPT_MSS 2
#define USN_TCPOPT_WSCALE 3
#define USN_TCPOPT_SACK_PERM 4
#define USN_TCPOPT_SACK 5
#define USN_TCPOPT_TIMESTAMP 8

struct usn_tcp_sack_block {
	uint32_t start;
	uint32_t end;
};

struct usn_tcp_opts {
	bool has_mss;
	bool has_wscale;
	bool sack_perm;
	bool has_ts;
	uint16_t mss;
	uint8_t wscale;   /* as received; the caller clamps to 14 (RFC 7323 §2.3) */
	uint8_t nsack;    /* number of valid entries in sack[] */
	uint32_t ts_val;
	uint32_t ts_ecr;
	struct usn_tcp_sack_block sack[USN_TCP_MAX_SACK];
};

struct usn_tcp_repr {
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;      /* USN_TCP_* */
	uint8_t hdr_len;    /* parse: data offset in bytes; emit: ignored */
	uint16_t window;    /* raw field, unscaled */
	uint16_t csum;      /* parse: as received */
	uint16_t urg_ptr;
	uint8_t bad_opts;   /* parse: known options ignored for a wrong length */
	struct usn_tcp_opts opts;
};

int usn_tcp_parse(const uint8_t *buf, size_t len, struct usn_tcp_repr *ret);
/* Bytes the options of r take once emitted, padded to a multiple of 4. */
size_t usn_tcp_opts_len(const struct usn_tcp_opts *o);
/* Writes header and options (MSS, window scale, SACK-permitted, timestamps,
 * SACK blocks, laid out with NOPs for alignment as Linux does) and the
 * checksum over pseudo-header, header and `payload_sum` (the partial sum of
 * payload_len bytes of payload that follow). Returns the header length. */
int usn_tcp_emit(const struct usn_tcp_repr *r, uint32_t src, uint32_t dst, uint16_t payload_len,
		 uint32_t payload_sum, uint8_t *buf, size_t cap);
/* For checksum offload (the device finishes the sum, virtio-net
 * NEEDS_CSUM): writes into the checksum field of an emitted header the
 * folded, not inverted, pseudo-header sum of a segment of seg_len bytes,
 * which is what the device expects to find there. */
void usn_tcp_set_csum_partial(uint8_t *hdr, uint32_t src, uint32_t dst, uint16_t seg_len);
/* The part of a TCP header quoted in an ICMP error (RFC 792: the first 8
 * bytes of the datagram after its IP header): ports and sequence number.
 * USN_WIRE_TRUNCATED when len < 8. */
int usn_tcp_parse_quoted(const uint8_t *buf, size_t len, uint16_t *ret_sport, uint16_t *ret_dport,
			 uint32_t *ret_seq);
/* Whether a segment whose header+payload partial sum is seg_sum checks out. */
bool usn_tcp_csum_ok(uint32_t src, uint32_t dst, uint16_t seg_len, uint32_t seg_sum);

#endif
