// SPDX-License-Identifier: MIT
/*
 * fuzz-tcp.c - libFuzzer target for the TCP header and option parser
 * (src/wire/tcp.c, RFC 9293 §3.1). Each input is a TCP segment. It is
 * parsed; a segment that parses is emitted again from its repr and parsed a
 * second time, and the fuzzer aborts if any semantic field differs: ports,
 * sequence and acknowledgment numbers, flags, window, urgent pointer, the
 * options that were valid, and the SACK blocks that fit next to them. Not a
 * test of the checksum arithmetic itself (fuzz-csum.c is), though the
 * re-emitted segment must check out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
	do { \
		if (!(c)) \
			abort(); \
	} while (0)

/* SACK blocks that emit writes beside the other options: the layout of
 * tcp.c (MSS 4, TS 12 or SACK_PERM 4, WS 4, then 4 + 8n), counted here
 * independently of it. */
static unsigned sack_expected(const struct usn_tcp_opts *o)
{
	size_t base = 0;
	size_t room;

	if (o->has_mss)
		base += 4;
	if (o->has_ts)
		base += 12;
	else if (o->sack_perm)
		base += 4;
	if (o->has_wscale)
		base += 4;
	if (base + 12 > 40)
		return 0;
	room = (40 - base - 4) / 8;
	return o->nsack < room ? o->nsack : (unsigned)room;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usn_tcp_repr r, back;
	uint8_t out[USN_TCP_MAX_HLEN];
	const uint32_t src = 0xc0a80001u, dst = 0xc0a80002u;
	unsigned nsack;
	int hl;

	/* The quoted form reads 8 bytes at most and agrees with a full parse. */
	uint16_t qs, qd;
	uint32_t qseq;
	int qrc = usn_tcp_parse_quoted(data, size, &qs, &qd, &qseq);
	CHECK((qrc == USN_WIRE_OK) == (size >= 8));
	if (usn_tcp_parse(data, size, &r) != USN_WIRE_OK)
		return 0;
	CHECK(qrc == USN_WIRE_OK && qs == r.src_port && qd == r.dst_port && qseq == r.seq);
	CHECK(r.hdr_len >= USN_TCP_MIN_HLEN && r.hdr_len <= USN_TCP_MAX_HLEN);
	CHECK(r.hdr_len <= size && r.hdr_len % 4 == 0);
	CHECK(r.opts.nsack <= USN_TCP_MAX_SACK);

	hl = usn_tcp_emit(&r, src, dst, 0, 0, out, sizeof(out));
	CHECK(hl >= USN_TCP_MIN_HLEN && hl <= USN_TCP_MAX_HLEN);
	CHECK((size_t)hl == USN_TCP_MIN_HLEN + usn_tcp_opts_len(&r.opts));
	CHECK(usn_tcp_csum_ok(src, dst, (uint16_t)hl, usn_csum_partial(out, (size_t)hl, 0)));
	CHECK(usn_tcp_emit(&r, src, dst, 0, 0, out, (size_t)hl - 1) == USN_WIRE_ENOSPC);
	hl = usn_tcp_emit(&r, src, dst, 0, 0, out, (size_t)hl);

	CHECK(usn_tcp_parse(out, (size_t)hl, &back) == USN_WIRE_OK);
	CHECK(back.hdr_len == hl);
	CHECK(back.bad_opts == 0);
	CHECK(back.src_port == r.src_port);
	CHECK(back.dst_port == r.dst_port);
	CHECK(back.seq == r.seq);
	CHECK(back.ack == r.ack);
	CHECK(back.flags == r.flags);
	CHECK(back.window == r.window);
	CHECK(back.urg_ptr == r.urg_ptr);
	CHECK(back.opts.has_mss == r.opts.has_mss);
	CHECK(!r.opts.has_mss || back.opts.mss == r.opts.mss);
	CHECK(back.opts.has_wscale == r.opts.has_wscale);
	CHECK(!r.opts.has_wscale || back.opts.wscale == r.opts.wscale);
	CHECK(back.opts.sack_perm == r.opts.sack_perm);
	CHECK(back.opts.has_ts == r.opts.has_ts);
	CHECK(!r.opts.has_ts ||
	      (back.opts.ts_val == r.opts.ts_val && back.opts.ts_ecr == r.opts.ts_ecr));
	nsack = sack_expected(&r.opts);
	CHECK(back.opts.nsack == nsack);
	for (unsigned i = 0; i < nsack; i++) {
		CHECK(back.opts.sack[i].start == r.opts.sack[i].start);
		CHECK(back.opts.sack[i].end == r.opts.sack[i].end);
	}
	return 0;
}
