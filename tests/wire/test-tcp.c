// SPDX-License-Identifier: MIT
/*
 * test-tcp.c - unit tests of src/wire/tcp.c: the TCP header and options
 * (RFC 9293 §3.1, RFC 7323, RFC 2018). The golden segments are real ones
 * written by a Linux 6.x kernel (captured from a TUN device, so checksums
 * are complete): an active-open SYN, SYN-ACKs, ACKs with SACK blocks, data,
 * FIN and RST. Not a test of the state machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "util.h"
#include "wire.h"

/* Addresses of the capture, host order: Linux was 10.0.0.1. */
#define LINUX_ADDR 0x0a000001u
#define PEER_ADDR 0x0a000002u

/* Linux active open (connect()): MSS 1460, SACK_PERM, TS, NOP, WS 10. */
static const uint8_t linux_syn[] = {
	0xab, 0x5c, 0x13, 0x88, 0x4b, 0x5c, 0xf2, 0x62, 0x00, 0x00, 0x00, 0x00,
	0xa0, 0x02, 0xfa, 0xf0, 0x74, 0xe3, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x8a, 0x18, 0x3d, 0x6a,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};
/* SYN-ACK answering a SYN with MSS, SACK_PERM, TS, WS. */
static const uint8_t linux_synack[] = {
	0x1f, 0x90, 0x9c, 0x40, 0xbe, 0x88, 0x4e, 0xcb, 0x10, 0x00, 0x00, 0x01,
	0xa0, 0x12, 0xfe, 0x88, 0xef, 0xa4, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x45, 0x7f, 0x23, 0x30,
	0x00, 0x00, 0x03, 0xe8, 0x01, 0x03, 0x03, 0x0a,
};
/* SYN-ACK answering a SYN with TS but no SACK_PERM: NOP,NOP,TS. */
static const uint8_t linux_synack_nosack[] = {
	0x1f, 0x90, 0x9c, 0x42, 0xd5, 0xe1, 0x54, 0x54, 0x30, 0x00, 0x00, 0x01,
	0xa0, 0x12, 0xfe, 0x88, 0x19, 0x03, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08, 0x0a, 0xd2, 0xc8, 0x23, 0x05,
	0x00, 0x00, 0x13, 0x88, 0x01, 0x03, 0x03, 0x0a,
};
/* SYN-ACK answering a SYN without options: MSS only. */
static const uint8_t linux_synack_mss[] = {
	0x1f, 0x90, 0x9c, 0x43, 0xcb, 0xc3, 0xb9, 0xbf, 0x40, 0x00, 0x00, 0x01,
	0x60, 0x12, 0xfa, 0xf0, 0x07, 0xcb, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4,
};
/* Duplicate ACK with one SACK block. */
static const uint8_t linux_sack1[] = {
	0x1f, 0x90, 0x9c, 0x40, 0xbe, 0x88, 0x4e, 0xcc, 0x10, 0x00, 0x00, 0x01,
	0xb0, 0x10, 0x00, 0x40, 0xc3, 0x1d, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0x45, 0x7f, 0x24, 0xc1, 0x00, 0x00, 0x03, 0xe9,
	0x01, 0x01, 0x05, 0x0a, 0x10, 0x00, 0x00, 0xc9, 0x10, 0x00, 0x01, 0x2d,
};
/* Duplicate ACK with two SACK blocks. */
static const uint8_t linux_sack2[] = {
	0x1f, 0x90, 0x9c, 0x40, 0xbe, 0x88, 0x4e, 0xcc, 0x10, 0x00, 0x00, 0x01,
	0xd0, 0x10, 0x00, 0x40, 0x7e, 0x5a, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0x45, 0x7f, 0x25, 0xee, 0x00, 0x00, 0x03, 0xe9,
	0x01, 0x01, 0x05, 0x12, 0x10, 0x00, 0x01, 0x91, 0x10, 0x00, 0x01, 0xf5,
	0x10, 0x00, 0x00, 0xc9, 0x10, 0x00, 0x01, 0x2d,
};
/* Duplicate ACK with three SACK blocks: the 40 option bytes are full. */
static const uint8_t linux_sack3[] = {
	0x1f, 0x90, 0x9c, 0x40, 0xbe, 0x88, 0x4e, 0xcc, 0x10, 0x00, 0x00, 0x01,
	0xf0, 0x10, 0x00, 0x40, 0x38, 0x08, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0x45, 0x7f, 0x27, 0x1a, 0x00, 0x00, 0x03, 0xe9,
	0x01, 0x01, 0x05, 0x1a, 0x10, 0x00, 0x02, 0x59, 0x10, 0x00, 0x02, 0xbd,
	0x10, 0x00, 0x01, 0x91, 0x10, 0x00, 0x01, 0xf5, 0x10, 0x00, 0x00, 0xc9,
	0x10, 0x00, 0x01, 0x2d,
};
/* PSH|ACK with 17 bytes of data and three SACK blocks. */
static const uint8_t linux_data_sack[] = {
	0x1f, 0x90, 0x9c, 0x40, 0xbe, 0x88, 0x4e, 0xcc, 0x10, 0x00, 0x00, 0x65,
	0xf0, 0x18, 0x00, 0x40, 0x12, 0x09, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0x45, 0x7f, 0x29, 0x73, 0x00, 0x00, 0x03, 0xed,
	0x01, 0x01, 0x05, 0x1a, 0x10, 0x00, 0x02, 0x59, 0x10, 0x00, 0x02, 0xbd,
	0x10, 0x00, 0x01, 0x91, 0x10, 0x00, 0x01, 0xf5, 0x10, 0x00, 0x00, 0xc9,
	0x10, 0x00, 0x01, 0x2d,
	'h', 'e', 'l', 'l', 'o', ' ', 'f', 'r', 'o', 'm', ' ', 'l', 'i', 'n',
	'u', 'x', '\n',
};
/* PSH|ACK with 19 bytes of data (an odd length) and timestamps. */
static const uint8_t linux_data[] = {
	0x1f, 0x90, 0x9c, 0x42, 0xd5, 0xe1, 0x54, 0x55, 0x30, 0x00, 0x00, 0x13,
	0x80, 0x18, 0x00, 0x40, 0x76, 0x5b, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0xd2, 0xc8, 0x25, 0xc3, 0x00, 0x00, 0x13, 0x8a,
	'H', 'T', 'T', 'P', '/', '1', '.', '0', ' ', '2', '0', '0', ' ', 'O',
	'K', '\r', '\n', '\r', '\n',
};
/* FIN|ACK after shutdown(SHUT_WR). */
static const uint8_t linux_fin[] = {
	0x1f, 0x90, 0x9c, 0x42, 0xd5, 0xe1, 0x54, 0x68, 0x30, 0x00, 0x00, 0x13,
	0x80, 0x11, 0x00, 0x40, 0x40, 0x34, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0xd2, 0xc8, 0x25, 0xc3, 0x00, 0x00, 0x13, 0x8a,
};
/* RST|ACK from a closed port: no options. */
static const uint8_t linux_rst[] = {
	0x27, 0x0f, 0x9c, 0x41, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x01,
	0x50, 0x14, 0x00, 0x00, 0xb8, 0x7c, 0x00, 0x00,
};

struct golden {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	size_t hlen;
};

#define GOLDEN(a, h) { #a, a, sizeof(a), h }
static const struct golden goldens[] = {
	GOLDEN(linux_syn, 40),
	GOLDEN(linux_synack, 40),
	GOLDEN(linux_synack_nosack, 40),
	GOLDEN(linux_synack_mss, 24),
	GOLDEN(linux_sack1, 44),
	GOLDEN(linux_sack2, 52),
	GOLDEN(linux_sack3, 60),
	GOLDEN(linux_data_sack, 60),
	GOLDEN(linux_data, 32),
	GOLDEN(linux_fin, 32),
	GOLDEN(linux_rst, 20),
};

/* A 20-byte header with data offset `doff` words, followed by `opts`. */
static size_t make_hdr(uint8_t *buf, unsigned doff, const uint8_t *opts, size_t optlen)
{
	memset(buf, 0, USN_TCP_MAX_HLEN);
	buf[0] = 0x12;
	buf[1] = 0x34;
	buf[2] = 0x00;
	buf[3] = 0x50;
	buf[12] = (uint8_t)(doff << 4);
	buf[13] = USN_TCP_ACK;
	if (optlen)
		memcpy(buf + USN_TCP_MIN_HLEN, opts, optlen);
	return USN_TCP_MIN_HLEN + optlen;
}

/* Parses a header whose options are exactly `opts` (a multiple of 4). */
static int parse_opts(const uint8_t *opts, size_t optlen, struct usn_tcp_repr *r)
{
	uint8_t buf[USN_TCP_MAX_HLEN];
	size_t len;

	assert_true(optlen % 4 == 0 && optlen <= 40);
	len = make_hdr(buf, (unsigned)(USN_TCP_MIN_HLEN + optlen) / 4, opts, optlen);
	return usn_tcp_parse(buf, len, r);
}

/* ---- the four STYLE.md tests ---- */

static void test_golden_syn_decoded(void **state)
{
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(usn_tcp_parse(linux_syn, sizeof(linux_syn), &r), USN_WIRE_OK);
	assert_int_equal(r.src_port, 43868);
	assert_int_equal(r.dst_port, 5000);
	assert_int_equal(r.seq, 0x4b5cf262u);
	assert_int_equal(r.ack, 0);
	assert_int_equal(r.flags, USN_TCP_SYN);
	assert_int_equal(r.hdr_len, 40);
	assert_int_equal(r.window, 64240);
	assert_int_equal(r.csum, 0x74e3);
	assert_int_equal(r.urg_ptr, 0);
	assert_int_equal(r.bad_opts, 0);
	assert_true(r.opts.has_mss);
	assert_int_equal(r.opts.mss, 1460);
	assert_true(r.opts.sack_perm);
	assert_true(r.opts.has_ts);
	assert_int_equal(r.opts.ts_val, 0x8a183d6au);
	assert_int_equal(r.opts.ts_ecr, 0);
	assert_true(r.opts.has_wscale);
	assert_int_equal(r.opts.wscale, 10);
	assert_int_equal(r.opts.nsack, 0);
}

static void test_golden_sack_decoded(void **state)
{
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(usn_tcp_parse(linux_data_sack, sizeof(linux_data_sack), &r), USN_WIRE_OK);
	assert_int_equal(r.src_port, 8080);
	assert_int_equal(r.dst_port, 40000);
	assert_int_equal(r.seq, 0xbe884eccu);
	assert_int_equal(r.ack, 0x10000065u);
	assert_int_equal(r.flags, USN_TCP_PSH | USN_TCP_ACK);
	assert_int_equal(r.hdr_len, 60);
	assert_int_equal(r.window, 64);
	assert_false(r.opts.has_mss);
	assert_false(r.opts.has_wscale);
	assert_false(r.opts.sack_perm);
	assert_true(r.opts.has_ts);
	assert_int_equal(r.opts.ts_val, 0x457f2973u);
	assert_int_equal(r.opts.ts_ecr, 1005);
	assert_int_equal(r.opts.nsack, 3);
	/* RFC 2018 §4: the most recently received block comes first. */
	assert_int_equal(r.opts.sack[0].start, 0x10000259u);
	assert_int_equal(r.opts.sack[0].end, 0x100002bdu);
	assert_int_equal(r.opts.sack[1].start, 0x10000191u);
	assert_int_equal(r.opts.sack[1].end, 0x100001f5u);
	assert_int_equal(r.opts.sack[2].start, 0x100000c9u);
	assert_int_equal(r.opts.sack[2].end, 0x1000012du);
	assert_int_equal(r.bad_opts, 0);
}

static void test_golden_rst_decoded(void **state)
{
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(usn_tcp_parse(linux_rst, sizeof(linux_rst), &r), USN_WIRE_OK);
	assert_int_equal(r.src_port, 9999);
	assert_int_equal(r.dst_port, 40001);
	assert_int_equal(r.seq, 0);
	assert_int_equal(r.ack, 0x20000001u);
	assert_int_equal(r.flags, USN_TCP_RST | USN_TCP_ACK);
	assert_int_equal(r.hdr_len, 20);
	assert_int_equal(r.window, 0);
	assert_false(r.opts.has_mss || r.opts.has_ts || r.opts.has_wscale || r.opts.sack_perm);
	assert_int_equal(r.opts.nsack, 0);
}

/* A repr built by hand, emitted, gives Linux's SYN byte for byte, checksum
 * included. */
static void test_golden_syn_emitted(void **state)
{
	struct usn_tcp_repr r;
	uint8_t out[USN_TCP_MAX_HLEN];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.src_port = 43868;
	r.dst_port = 5000;
	r.seq = 0x4b5cf262u;
	r.flags = USN_TCP_SYN;
	r.window = 64240;
	r.opts.has_mss = true;
	r.opts.mss = 1460;
	r.opts.sack_perm = true;
	r.opts.has_ts = true;
	r.opts.ts_val = 0x8a183d6au;
	r.opts.has_wscale = true;
	r.opts.wscale = 10;
	r.hdr_len = 99;  /* ignored by emit */
	r.csum = 0xdead; /* ignored by emit */
	assert_int_equal(usn_tcp_opts_len(&r.opts), 20);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(usn_tcp_emit(&r, LINUX_ADDR, PEER_ADDR, 0, 0, out, sizeof(out)), 40);
	assert_memory_equal(out, linux_syn, sizeof(linux_syn));
}

/* Every golden segment parsed and emitted again, with its payload's partial
 * sum, comes out byte for byte: option layout and checksum as Linux's. */
static void test_golden_all_reemitted(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		const struct golden *g = &goldens[i];
		struct usn_tcp_repr r;
		uint8_t out[USN_TCP_MAX_HLEN];
		uint32_t psum;
		int n;

		print_message("%s\n", g->name);
		assert_int_equal(usn_tcp_parse(g->bytes, g->len, &r), USN_WIRE_OK);
		assert_int_equal(r.hdr_len, g->hlen);
		assert_int_equal(r.bad_opts, 0);
		assert_int_equal(usn_tcp_opts_len(&r.opts), g->hlen - USN_TCP_MIN_HLEN);
		psum = usn_csum_partial(g->bytes + g->hlen, g->len - g->hlen, 0);
		n = usn_tcp_emit(&r, LINUX_ADDR, PEER_ADDR, (uint16_t)(g->len - g->hlen), psum,
				 out, sizeof(out));
		assert_int_equal(n, g->hlen);
		assert_memory_equal(out, g->bytes, g->hlen);
		assert_int_equal(usn_get_be16(out + 16), r.csum);
	}
}

static void test_truncated_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		const struct golden *g = &goldens[i];
		struct usn_tcp_repr r;

		for (size_t len = 0; len < g->hlen; len++) {
			/* An exact-size copy, so ASan sees any read past len. */
			uint8_t *copy = test_malloc(len ? len : 1);

			memcpy(copy, g->bytes, len);
			assert_int_equal(usn_tcp_parse(copy, len, &r), USN_WIRE_TRUNCATED);
			test_free(copy);
		}
		/* Header complete, payload of any length (or none): fine. */
		for (size_t len = g->hlen; len <= g->len; len++)
			assert_int_equal(usn_tcp_parse(g->bytes, len, &r), USN_WIRE_OK);
	}
}

static void test_impossible_data_offset_refused(void **state)
{
	uint8_t buf[USN_TCP_MAX_HLEN + 4];
	struct usn_tcp_repr r;

	(void)state;
	/* RFC 9293 §3.1: the data offset counts the 5 words of the fixed
	 * header, so 0..4 cannot be, whatever the buffer holds. */
	for (unsigned doff = 0; doff < 5; doff++) {
		make_hdr(buf, doff, NULL, 0);
		assert_int_equal(usn_tcp_parse(buf, sizeof(buf), &r), USN_WIRE_BAD_HDR_LEN);
	}
	/* A data offset past the end of the buffer. */
	for (unsigned doff = 6; doff <= 15; doff++) {
		make_hdr(buf, doff, NULL, 0);
		assert_int_equal(usn_tcp_parse(buf, doff * 4 - 1, &r), USN_WIRE_TRUNCATED);
		assert_int_equal(usn_tcp_parse(buf, doff * 4, &r), USN_WIRE_OK);
		assert_int_equal(r.hdr_len, doff * 4);
	}
}

/* ---- fixed header details ---- */

static void test_reserved_bits(void **state)
{
	uint8_t buf[USN_TCP_MAX_HLEN];
	uint8_t out[USN_TCP_MAX_HLEN];
	struct usn_tcp_repr r;

	(void)state;
	/* RFC 9293 §3.1: reserved bits ignored on receipt, zero when sent. */
	make_hdr(buf, 5, NULL, 0);
	buf[12] |= 0x0f;
	buf[13] = 0xff;
	assert_int_equal(usn_tcp_parse(buf, 20, &r), USN_WIRE_OK);
	assert_int_equal(r.hdr_len, 20);
	assert_int_equal(r.flags, 0xff);
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 0, 0, out, sizeof(out)), 20);
	assert_int_equal(out[12], 0x50);
	assert_int_equal(out[13], 0xff);
}

static void test_emit_enospc(void **state)
{
	struct usn_tcp_repr r;
	uint8_t out[USN_TCP_MAX_HLEN];

	(void)state;
	assert_int_equal(usn_tcp_parse(linux_syn, sizeof(linux_syn), &r), USN_WIRE_OK);
	for (size_t cap = 0; cap < 40; cap++) {
		/* Exact-size, so ASan sees a write past cap. */
		uint8_t *b = test_malloc(cap ? cap : 1);

		assert_int_equal(usn_tcp_emit(&r, 1, 2, 0, 0, b, cap), USN_WIRE_ENOSPC);
		test_free(b);
	}
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 0, 0, out, 40), 40);
}

static void test_emit_too_long(void **state)
{
	struct usn_tcp_repr r;
	uint8_t out[USN_TCP_MAX_HLEN];

	(void)state;
	memset(&r, 0, sizeof(r));
	/* The pseudo-header's TCP length is 16 bits. */
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 65535 - 20, 0, out, sizeof(out)), 20);
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 65535 - 19, 0, out, sizeof(out)),
			 USN_WIRE_BAD_LEN);
	r.opts.has_ts = true;
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 65535 - 32, 0, out, sizeof(out)), 32);
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 65535 - 31, 0, out, sizeof(out)),
			 USN_WIRE_BAD_LEN);
}

/* ---- option walk ---- */

static void test_opt_len_zero_refused(void **state)
{
	static const uint8_t o1[] = { 2, 0, 0, 0 };
	static const uint8_t o2[] = { 0xfe, 0, 1, 1 };
	static const uint8_t o3[] = { 1, 1, 5, 0 };
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o1, sizeof(o1), &r), USN_WIRE_BAD_OPTION);
	assert_int_equal(parse_opts(o2, sizeof(o2), &r), USN_WIRE_BAD_OPTION);
	assert_int_equal(parse_opts(o3, sizeof(o3), &r), USN_WIRE_BAD_OPTION);
}

static void test_opt_len_one_refused(void **state)
{
	static const uint8_t o1[] = { 3, 1, 1, 1 };
	static const uint8_t o2[] = { 1, 1, 0x99, 1 };
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o1, sizeof(o1), &r), USN_WIRE_BAD_OPTION);
	assert_int_equal(parse_opts(o2, sizeof(o2), &r), USN_WIRE_BAD_OPTION);
}

static void test_opt_len_past_header_refused(void **state)
{
	/* TS of length 10 in a 4-byte option area. */
	static const uint8_t o1[] = { 8, 10, 0, 0 };
	/* Unknown option one byte too long. */
	static const uint8_t o2[] = { 1, 0x22, 4, 0 };
	/* A kind byte as the last byte of the header: no length. */
	static const uint8_t o3[] = { 1, 1, 1, 0x22 };
	static const uint8_t o4[] = { 1, 1, 1, USN_TCPOPT_MSS };
	/* Lengths that are fine on their own but overrun together. */
	static const uint8_t o5[] = { 2, 4, 5, 0xb4, 3, 3, 7, 8, 10, 1, 2, 3 };
	/* A valid option, then one whose length runs past the header into
	 * bytes that are there (payload) but not options. */
	uint8_t buf[USN_TCP_MAX_HLEN + 16];
	static const uint8_t o6[] = { 2, 4, 5, 0xb4, 1, 1, 8, 10 };
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o1, sizeof(o1), &r), USN_WIRE_BAD_OPTION);
	assert_int_equal(parse_opts(o2, sizeof(o2), &r), USN_WIRE_BAD_OPTION);
	assert_int_equal(parse_opts(o3, sizeof(o3), &r), USN_WIRE_BAD_OPTION);
	assert_int_equal(parse_opts(o4, sizeof(o4), &r), USN_WIRE_BAD_OPTION);
	assert_int_equal(parse_opts(o5, sizeof(o5), &r), USN_WIRE_BAD_OPTION);
	memset(buf, 0, sizeof(buf));
	make_hdr(buf, 7, o6, sizeof(o6));
	assert_int_equal(usn_tcp_parse(buf, sizeof(buf), &r), USN_WIRE_BAD_OPTION);
}

static void test_opt_eol_padding(void **state)
{
	static const uint8_t o1[] = { 2, 4, 0x05, 0xb4, 0, 0, 0, 0 };
	static const uint8_t o2[] = { 0, 0, 0, 0 };
	static const uint8_t o3[] = { 1, 1, 1, 1, 3, 3, 7, 0 };
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o1, sizeof(o1), &r), USN_WIRE_OK);
	assert_true(r.opts.has_mss);
	assert_int_equal(r.opts.mss, 1460);
	assert_int_equal(parse_opts(o2, sizeof(o2), &r), USN_WIRE_OK);
	assert_false(r.opts.has_mss);
	assert_int_equal(parse_opts(o3, sizeof(o3), &r), USN_WIRE_OK);
	assert_true(r.opts.has_wscale);
	assert_int_equal(r.opts.wscale, 7);
	assert_int_equal(r.bad_opts, 0);
}

static void test_opt_garbage_after_eol_ignored(void **state)
{
	/* After EOL: what would be a zero length, a length past the header,
	 * and a well-formed MSS: all padding, none looked at. */
	static const uint8_t o1[] = { 0, 2, 0, 0 };
	static const uint8_t o2[] = { 3, 3, 2, 0, 8, 0x30, 0xff, 0xff };
	static const uint8_t o3[] = { 0, 2, 4, 1 };
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o1, sizeof(o1), &r), USN_WIRE_OK);
	assert_int_equal(parse_opts(o2, sizeof(o2), &r), USN_WIRE_OK);
	assert_true(r.opts.has_wscale);
	assert_int_equal(r.opts.wscale, 2);
	assert_false(r.opts.has_ts);
	assert_int_equal(parse_opts(o3, sizeof(o3), &r), USN_WIRE_OK);
	assert_false(r.opts.has_mss);
	assert_int_equal(r.bad_opts, 0);
}

static void test_opt_unknown_skipped(void **state)
{
	/* RFC 9293 §3.1: unknown options with a length are skipped. */
	static const uint8_t o1[] = { 0xfe, 6, 0xf9, 0x89, 0xaa, 0xbb, 2, 4, 0x23, 0x28, 0, 0 };
	static const uint8_t o2[] = { 30, 2, 1, 1, 4, 2, 0, 0 };
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o1, sizeof(o1), &r), USN_WIRE_OK);
	assert_true(r.opts.has_mss);
	assert_int_equal(r.opts.mss, 9000);
	assert_int_equal(r.bad_opts, 0);
	assert_int_equal(parse_opts(o2, sizeof(o2), &r), USN_WIRE_OK);
	assert_true(r.opts.sack_perm);
	assert_int_equal(r.bad_opts, 0);
}

static void test_opt_wrong_length_ignored(void **state)
{
	/* Each known option with a wrong length, followed by a valid MSS to
	 * show that the walk goes on past it. */
	static const uint8_t cases[][12] = {
		{ 2, 3, 5, 2, 4, 0x05, 0xb4, 0, 0, 0, 0, 0 },           /* MSS len 3 */
		{ 2, 5, 5, 0xb4, 0, 2, 4, 0x05, 0xb4, 0, 0, 0 },        /* MSS len 5 */
		{ 3, 2, 2, 4, 0x05, 0xb4, 0, 0, 0, 0, 0, 0 },           /* WS len 2 */
		{ 3, 4, 7, 0, 2, 4, 0x05, 0xb4, 0, 0, 0, 0 },           /* WS len 4 */
		{ 4, 3, 0, 2, 4, 0x05, 0xb4, 0, 0, 0, 0, 0 },           /* SACK_PERM len 3 */
		{ 4, 4, 0, 0, 2, 4, 0x05, 0xb4, 0, 0, 0, 0 },           /* SACK_PERM len 4 */
		{ 8, 8, 1, 2, 3, 4, 5, 6, 2, 4, 0x05, 0xb4 },           /* TS len 8 */
		{ 5, 2, 2, 4, 0x05, 0xb4, 0, 0, 0, 0, 0, 0 },           /* SACK, no block */
		{ 5, 6, 1, 2, 3, 4, 2, 4, 0x05, 0xb4, 0, 0 },           /* SACK len 6 */
	};
	struct usn_tcp_repr r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(parse_opts(cases[i], sizeof(cases[i]), &r), USN_WIRE_OK);
		assert_int_equal(r.bad_opts, 1);
		assert_true(r.opts.has_mss);
		assert_int_equal(r.opts.mss, 1460);
		assert_false(r.opts.has_wscale);
		assert_false(r.opts.sack_perm);
		assert_false(r.opts.has_ts);
		assert_int_equal(r.opts.nsack, 0);
	}
}

static void test_opt_wrong_length_counted(void **state)
{
	/* SACK len 11 (not 2 + 8n), TS len 11, MSS len 2, WS len 3 valid. */
	static const uint8_t o[] = {
		5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 9,
		8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 9,
		2, 2, 3, 3, 5, 0, 0, 0, 0, 0,
	};
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o, sizeof(o), &r), USN_WIRE_OK);
	assert_int_equal(r.bad_opts, 3);
	assert_false(r.opts.has_mss);
	assert_false(r.opts.has_ts);
	assert_int_equal(r.opts.nsack, 0);
	assert_true(r.opts.has_wscale);
	assert_int_equal(r.opts.wscale, 5);
}

static void test_opt_wrong_length_keeps_earlier(void **state)
{
	/* A valid MSS, then a second MSS of length 3: the first stays. */
	static const uint8_t o[] = { 2, 4, 0x05, 0xb4, 2, 3, 0x01, 0 };
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o, sizeof(o), &r), USN_WIRE_OK);
	assert_true(r.opts.has_mss);
	assert_int_equal(r.opts.mss, 1460);
	assert_int_equal(r.bad_opts, 1);
}

static void test_opt_twice_last_wins(void **state)
{
	static const uint8_t o[] = {
		2, 4, 0x05, 0xb4, 3, 3, 1, 1,
		2, 4, 0x02, 0x18, 3, 3, 9, 1,
		5, 10, 0, 0, 0, 1, 0, 0, 0, 2,
		5, 10, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0,
	};
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o, sizeof(o), &r), USN_WIRE_OK);
	assert_int_equal(r.opts.mss, 536);
	assert_int_equal(r.opts.wscale, 9);
	assert_int_equal(r.opts.nsack, 1);
	assert_int_equal(r.opts.sack[0].start, 3);
	assert_int_equal(r.opts.sack[0].end, 4);
}

static void test_opt_syn_only_reported_anywhere(void **state)
{
	/* MSS, WS and SACK_PERM on a plain ACK are reported: the state
	 * machine, not the parser, ignores them (RFC 7323 §2.2). */
	static const uint8_t o[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 14, 1, 1, 4, 2 };
	struct usn_tcp_repr r;

	(void)state;
	assert_int_equal(parse_opts(o, sizeof(o), &r), USN_WIRE_OK);
	assert_int_equal(r.flags, USN_TCP_ACK);
	assert_true(r.opts.has_mss);
	assert_true(r.opts.has_wscale);
	assert_int_equal(r.opts.wscale, 14);
	assert_true(r.opts.sack_perm);
}

/* ---- SACK ---- */

static void test_sack_1_to_4_blocks(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= 4; n++) {
		uint8_t o[40];
		size_t len = 0;
		struct usn_tcp_repr r;

		memset(o, 0, sizeof(o));
		o[len++] = 1;
		o[len++] = 1;
		o[len++] = USN_TCPOPT_SACK;
		o[len++] = (uint8_t)(2 + 8 * n);
		for (unsigned i = 0; i < n && len + 8 <= sizeof(o); i++) {
			usn_put_be32(o + len, 1000u * (i + 1));
			usn_put_be32(o + len + 4, 1000u * (i + 1) + 500);
			len += 8;
		}
		assert_int_equal(parse_opts(o, len, &r), USN_WIRE_OK);
		assert_int_equal(r.opts.nsack, n);
		assert_int_equal(r.bad_opts, 0);
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(r.opts.sack[i].start, 1000u * (i + 1));
			assert_int_equal(r.opts.sack[i].end, 1000u * (i + 1) + 500);
		}
		/* Without timestamps all n blocks go back out, NOP,NOP,SACK. */
		uint8_t out[USN_TCP_MAX_HLEN];
		int hl = usn_tcp_emit(&r, 1, 2, 0, 0, out, sizeof(out));

		assert_int_equal(hl, 20 + len);
		assert_memory_equal(out + 20, o, len);
	}
}

static void test_sack_too_many(void **state)
{
	/* 5 blocks need 42 bytes: more than a header holds. */
	uint8_t buf[USN_TCP_MAX_HLEN + 8];
	struct usn_tcp_repr r;

	(void)state;
	memset(buf, 0, sizeof(buf));
	make_hdr(buf, 15, NULL, 0);
	buf[20] = USN_TCPOPT_SACK;
	buf[21] = 42;
	assert_int_equal(usn_tcp_parse(buf, sizeof(buf), &r), USN_WIRE_BAD_OPTION);
	/* SACK 4 blocks after a NOP,NOP: 38 bytes, fits. */
	buf[20] = 1;
	buf[21] = 1;
	buf[22] = USN_TCPOPT_SACK;
	buf[23] = 34;
	assert_int_equal(usn_tcp_parse(buf, 60, &r), USN_WIRE_OK);
	assert_int_equal(r.opts.nsack, 4);
}

static void test_sack_emit_fits_40_bytes(void **state)
{
	struct usn_tcp_repr r;
	struct usn_tcp_repr back;
	uint8_t out[USN_TCP_MAX_HLEN];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.flags = USN_TCP_ACK;
	r.opts.nsack = 4;
	for (unsigned i = 0; i < 4; i++) {
		r.opts.sack[i].start = 100 * i;
		r.opts.sack[i].end = 100 * i + 50;
	}
	/* Without timestamps: 4 blocks, 36 bytes. */
	assert_int_equal(usn_tcp_opts_len(&r.opts), 36);
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 0, 0, out, sizeof(out)), 56);
	assert_int_equal(usn_tcp_parse(out, 56, &back), USN_WIRE_OK);
	assert_int_equal(back.opts.nsack, 4);

	/* With timestamps: the first 3 blocks, 40 bytes. */
	r.opts.has_ts = true;
	r.opts.ts_val = 7;
	r.opts.ts_ecr = 8;
	assert_int_equal(usn_tcp_opts_len(&r.opts), 40);
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 0, 0, out, sizeof(out)), 60);
	assert_int_equal(usn_tcp_parse(out, 60, &back), USN_WIRE_OK);
	assert_int_equal(back.opts.nsack, 3);
	assert_memory_equal(back.opts.sack, r.opts.sack, 3 * sizeof(r.opts.sack[0]));
	static const uint8_t head[] = { 1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 8, 1, 1, 5, 26 };
	assert_memory_equal(out + 20, head, sizeof(head));

	/* A SYN's full set (20 bytes) leaves room for 2. */
	r.opts.has_mss = r.opts.has_wscale = r.opts.sack_perm = true;
	assert_int_equal(usn_tcp_opts_len(&r.opts), 40);
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 0, 0, out, sizeof(out)), 60);
	assert_int_equal(usn_tcp_parse(out, 60, &back), USN_WIRE_OK);
	assert_int_equal(back.opts.nsack, 2);

	/* A count above USN_TCP_MAX_SACK is taken as the maximum. */
	memset(&r.opts, 0, sizeof(r.opts));
	r.opts.nsack = 200;
	assert_int_equal(usn_tcp_opts_len(&r.opts), 36);
	r.opts.nsack = 0;
	assert_int_equal(usn_tcp_opts_len(&r.opts), 0);
}

static void test_emit_layouts(void **state)
{
	struct usn_tcp_opts o;
	struct usn_tcp_repr r;
	uint8_t out[USN_TCP_MAX_HLEN];
	static const uint8_t sp_only[] = { 1, 1, 4, 2 };
	static const uint8_t ws_only[] = { 1, 3, 3, 14 };
	static const uint8_t mss_ws[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };

	(void)state;
	memset(&r, 0, sizeof(r));
	r.opts.sack_perm = true;
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 0, 0, out, sizeof(out)), 24);
	assert_memory_equal(out + 20, sp_only, 4);
	memset(&r.opts, 0, sizeof(r.opts));
	r.opts.has_wscale = true;
	r.opts.wscale = 14;
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 0, 0, out, sizeof(out)), 24);
	assert_memory_equal(out + 20, ws_only, 4);
	memset(&r.opts, 0, sizeof(r.opts));
	r.opts.has_mss = r.opts.has_wscale = true;
	r.opts.mss = 1460;
	r.opts.wscale = 7;
	assert_int_equal(usn_tcp_emit(&r, 1, 2, 0, 0, out, sizeof(out)), 28);
	assert_memory_equal(out + 20, mss_ws, 8);
	memset(&o, 0, sizeof(o));
	assert_int_equal(usn_tcp_opts_len(&o), 0);
}

/* ---- round trips ---- */

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static void test_round_trip_random(void **state)
{
	uint32_t seed = 0x9293u;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		struct usn_tcp_repr r, back;
		uint8_t seg[USN_TCP_MAX_HLEN + 64];
		uint32_t bits = xorshift32(&seed);
		uint32_t src = xorshift32(&seed), dst = xorshift32(&seed);
		size_t plen = xorshift32(&seed) % 64;
		unsigned want_sack;
		int hl;

		memset(&r, 0, sizeof(r));
		r.src_port = (uint16_t)xorshift32(&seed);
		r.dst_port = (uint16_t)xorshift32(&seed);
		r.seq = xorshift32(&seed);
		r.ack = xorshift32(&seed);
		r.flags = (uint8_t)xorshift32(&seed);
		r.window = (uint16_t)xorshift32(&seed);
		r.urg_ptr = (uint16_t)xorshift32(&seed);
		r.opts.has_mss = bits & 1;
		r.opts.has_wscale = bits & 2;
		r.opts.sack_perm = bits & 4;
		r.opts.has_ts = bits & 8;
		r.opts.mss = (uint16_t)xorshift32(&seed);
		r.opts.wscale = (uint8_t)xorshift32(&seed);
		r.opts.ts_val = xorshift32(&seed);
		r.opts.ts_ecr = xorshift32(&seed);
		r.opts.nsack = (uint8_t)((bits >> 4) % 5);
		for (unsigned i = 0; i < USN_TCP_MAX_SACK; i++) {
			r.opts.sack[i].start = xorshift32(&seed);
			r.opts.sack[i].end = xorshift32(&seed);
		}
		/* What fits next to the other options (see tcp.c). */
		{
			size_t base = 4 * r.opts.has_mss + 4 * r.opts.has_wscale +
				      (r.opts.has_ts ? 12 : r.opts.sack_perm ? 4 : 0);
			size_t room = base + 12 <= 40 ? (40 - base - 4) / 8 : 0;

			want_sack = r.opts.nsack < room ? r.opts.nsack : (unsigned)room;
		}

		hl = usn_tcp_emit(&r, src, dst, (uint16_t)plen, 0, seg, sizeof(seg));
		assert_true(hl >= 20 && hl <= 60 && hl % 4 == 0);
		assert_int_equal((size_t)hl, 20 + usn_tcp_opts_len(&r.opts));
		for (size_t i = 0; i < plen; i++)
			seg[hl + (int)i] = (uint8_t)xorshift32(&seed);
		/* Now fix up the checksum for the payload just written. */
		hl = usn_tcp_emit(&r, src, dst, (uint16_t)plen,
				  usn_csum_partial(seg + hl, plen, 0), seg, sizeof(seg));
		assert_true(usn_tcp_csum_ok(src, dst, (uint16_t)(hl + plen),
					    usn_csum_partial(seg, (size_t)hl + plen, 0)));

		assert_int_equal(usn_tcp_parse(seg, (size_t)hl + plen, &back), USN_WIRE_OK);
		assert_int_equal(back.hdr_len, hl);
		assert_int_equal(back.bad_opts, 0);
		assert_int_equal(back.src_port, r.src_port);
		assert_int_equal(back.dst_port, r.dst_port);
		assert_int_equal(back.seq, r.seq);
		assert_int_equal(back.ack, r.ack);
		assert_int_equal(back.flags, r.flags);
		assert_int_equal(back.window, r.window);
		assert_int_equal(back.urg_ptr, r.urg_ptr);
		assert_int_equal(back.opts.has_mss, r.opts.has_mss);
		assert_int_equal(back.opts.has_wscale, r.opts.has_wscale);
		assert_int_equal(back.opts.sack_perm, r.opts.sack_perm);
		assert_int_equal(back.opts.has_ts, r.opts.has_ts);
		if (r.opts.has_mss)
			assert_int_equal(back.opts.mss, r.opts.mss);
		if (r.opts.has_wscale)
			assert_int_equal(back.opts.wscale, r.opts.wscale);
		if (r.opts.has_ts) {
			assert_int_equal(back.opts.ts_val, r.opts.ts_val);
			assert_int_equal(back.opts.ts_ecr, r.opts.ts_ecr);
		}
		assert_int_equal(back.opts.nsack, want_sack);
		for (unsigned i = 0; i < want_sack; i++) {
			assert_int_equal(back.opts.sack[i].start, r.opts.sack[i].start);
			assert_int_equal(back.opts.sack[i].end, r.opts.sack[i].end);
		}
	}
}

/* ---- checksum ---- */

static void test_csum_real_segments(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		const struct golden *g = &goldens[i];
		uint32_t sum = usn_csum_partial(g->bytes, g->len, 0);
		uint8_t copy[128];

		assert_true(usn_tcp_csum_ok(LINUX_ADDR, PEER_ADDR, (uint16_t)g->len, sum));
		/* The pseudo-header counts: other addresses, or a wrong
		 * length, fail. */
		assert_false(usn_tcp_csum_ok(LINUX_ADDR, PEER_ADDR + 1, (uint16_t)g->len, sum));
		assert_false(usn_tcp_csum_ok(PEER_ADDR, PEER_ADDR, (uint16_t)g->len, sum));
		assert_false(usn_tcp_csum_ok(LINUX_ADDR, PEER_ADDR, (uint16_t)(g->len + 2), sum));
		/* Every single-bit flip is caught. */
		assert_true(g->len <= sizeof(copy));
		for (size_t bit = 0; bit < g->len * 8; bit++) {
			memcpy(copy, g->bytes, g->len);
			copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_false(usn_tcp_csum_ok(LINUX_ADDR, PEER_ADDR, (uint16_t)g->len,
						     usn_csum_partial(copy, g->len, 0)));
		}
	}
}

/* The payload's sum may be computed separately and handed to emit (cached
 * file-block sums): same bytes as summing it in place. */
static void test_csum_payload_sum_split(void **state)
{
	const struct golden *g = &goldens[7]; /* linux_data_sack */
	struct usn_tcp_repr r;
	uint8_t out[USN_TCP_MAX_HLEN];
	const uint8_t *pl = g->bytes + g->hlen;
	size_t plen = g->len - g->hlen;
	uint32_t psum;

	(void)state;
	assert_string_equal(g->name, "linux_data_sack");
	assert_int_equal(usn_tcp_parse(g->bytes, g->len, &r), USN_WIRE_OK);
	/* Sum the payload in two blocks, the second at an odd offset. */
	psum = usn_csum_combine(usn_csum_partial(pl, 5, 0), usn_csum_partial(pl + 5, plen - 5, 0), 5);
	assert_int_equal(usn_tcp_emit(&r, LINUX_ADDR, PEER_ADDR, (uint16_t)plen, psum, out,
				      sizeof(out)), 60);
	assert_memory_equal(out, g->bytes, 60);
}

/* RFC 792: an ICMP error quotes the first 8 bytes of the TCP header. */
static void test_parse_quoted(void **state)
{
	(void)state;
	static const uint8_t q[8] = {0x1f, 0x90, 0xc3, 0x50, 0xde, 0xad, 0xbe, 0xef};
	uint16_t sp = 0, dp = 0;
	uint32_t seq = 0;
	assert_int_equal(usn_tcp_parse_quoted(q, sizeof(q), &sp, &dp, &seq), USN_WIRE_OK);
	assert_int_equal(sp, 8080);
	assert_int_equal(dp, 50000);
	assert_int_equal(seq, 0xdeadbeefu);
	for (size_t n = 0; n < sizeof(q); n++)
		assert_int_equal(usn_tcp_parse_quoted(q, n, &sp, &dp, &seq), USN_WIRE_TRUNCATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_syn_decoded),
		cmocka_unit_test(test_golden_sack_decoded),
		cmocka_unit_test(test_golden_rst_decoded),
		cmocka_unit_test(test_golden_syn_emitted),
		cmocka_unit_test(test_golden_all_reemitted),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_impossible_data_offset_refused),
		cmocka_unit_test(test_reserved_bits),
		cmocka_unit_test(test_emit_enospc),
		cmocka_unit_test(test_emit_too_long),
		cmocka_unit_test(test_opt_len_zero_refused),
		cmocka_unit_test(test_opt_len_one_refused),
		cmocka_unit_test(test_opt_len_past_header_refused),
		cmocka_unit_test(test_opt_eol_padding),
		cmocka_unit_test(test_opt_garbage_after_eol_ignored),
		cmocka_unit_test(test_opt_unknown_skipped),
		cmocka_unit_test(test_opt_wrong_length_ignored),
		cmocka_unit_test(test_opt_wrong_length_counted),
		cmocka_unit_test(test_opt_wrong_length_keeps_earlier),
		cmocka_unit_test(test_opt_twice_last_wins),
		cmocka_unit_test(test_opt_syn_only_reported_anywhere),
		cmocka_unit_test(test_sack_1_to_4_blocks),
		cmocka_unit_test(test_sack_too_many),
		cmocka_unit_test(test_sack_emit_fits_40_bytes),
		cmocka_unit_test(test_emit_layouts),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_csum_real_segments),
		cmocka_unit_test(test_csum_payload_sum_split),
		cmocka_unit_test(test_parse_quoted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
