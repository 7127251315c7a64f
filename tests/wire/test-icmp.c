// SPDX-License-Identifier: MIT
/*
 * test-icmp.c - unit tests of ICMPv4 (wire/icmp.c, RFC 792, RFC 1191): a
 * real echo request and reply (ping on Linux) decoded and emitted back,
 * emission with the data already in place and with the header alone over a
 * chained payload sum, a real port unreachable with its embedded header,
 * "fragmentation needed" with its MTU, every truncation refused, bad
 * checksums detected and the NO_CSUM flag honoured.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "wire.h"

/* ping -s 24 127.0.0.1: echo request id 0x1c51 seq 1, 32 bytes of data
 * (a timeval, then 0x10..0x17) */
static const uint8_t echo_req[] = {
	0x08, 0x00, 0x5e, 0xf4, 0x1c, 0x51, 0x00, 0x01, 0x55, 0xe3, 0x0e, 0x6b,
	0x00, 0x00, 0x00, 0x00, 0xc5, 0x1a, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
};
/* and the kernel's reply */
static const uint8_t echo_rep[] = {
	0x00, 0x00, 0x66, 0xf4, 0x1c, 0x51, 0x00, 0x01, 0x55, 0xe3, 0x0e, 0x6b,
	0x00, 0x00, 0x00, 0x00, 0xc5, 0x1a, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
};
/* Linux answering a UDP datagram to 127.0.0.1:9 (nothing listening): port
 * unreachable quoting the whole original datagram. The quoted UDP checksum
 * 0xfe26 is a loopback offload partial sum, quoted as it was. */
static const uint8_t port_unreach[] = {
	0x03, 0x03, 0xd0, 0xaf, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x27,
	0x5f, 0x18, 0x40, 0x00, 0x40, 0x11, 0xdd, 0xab, 0x7f, 0x00, 0x00, 0x01,
	0x7f, 0x00, 0x00, 0x01, 0x92, 0x3e, 0x00, 0x09, 0x00, 0x13, 0xfe, 0x26,
	0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x75, 0x73, 0x6e, 0x65, 0x74,
};

static void test_golden_echo_decode(void **state)
{
	struct usn_icmp_repr r;

	assert_int_equal(usn_icmp_parse(echo_req, sizeof(echo_req), &r, 0), USN_WIRE_OK);
	assert_int_equal(r.type, USN_ICMP_ECHO_REQUEST);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.id, 0x1c51);
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.rest, 0x1c510001);
	assert_int_equal(r.mtu, 0);
	assert_ptr_equal(r.data, echo_req + 8);
	assert_int_equal(r.data_len, 24);

	assert_int_equal(usn_icmp_parse(echo_rep, sizeof(echo_rep), &r, 0), USN_WIRE_OK);
	assert_int_equal(r.type, USN_ICMP_ECHO_REPLY);
	assert_int_equal(r.id, 0x1c51);
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.data_len, 24);
}

static void test_golden_echo_emit(void **state)
{
	struct usn_icmp_repr r = {
		.type = USN_ICMP_ECHO_REQUEST, .id = 0x1c51, .seq = 1,
		.data = echo_req + 8, .data_len = sizeof(echo_req) - 8,
	};
	uint8_t out[sizeof(echo_req) + 1];

	memset(out, 0xaa, sizeof(out));
	assert_int_equal(usn_icmp_emit(&r, out, sizeof(out)), sizeof(echo_req));
	assert_memory_equal(out, echo_req, sizeof(echo_req));
	assert_int_equal(out[sizeof(echo_req)], 0xaa);

	/* an echo reply built in place over the request, as ip/ answers a
	 * ping: the data is already at buf + 8 and is not copied onto itself
	 * (ASan would flag an overlapping memcpy) */
	uint8_t buf[sizeof(echo_req)];
	struct usn_icmp_repr q;
	memcpy(buf, echo_req, sizeof(buf));
	assert_int_equal(usn_icmp_parse(buf, sizeof(buf), &q, 0), USN_WIRE_OK);
	q.type = USN_ICMP_ECHO_REPLY;
	assert_ptr_equal(q.data, buf + 8);
	assert_int_equal(usn_icmp_emit(&q, buf, sizeof(buf)), sizeof(echo_rep));
	assert_memory_equal(buf, echo_rep, sizeof(echo_rep));
}

static void test_emit_hdr_chained(void **state)
{
	struct usn_icmp_repr r = { .type = USN_ICMP_ECHO_REPLY, .id = 0x1c51, .seq = 1 };
	uint8_t hdr[8];

	/* the payload summed in two pieces that live elsewhere, the second
	 * at an odd offset */
	uint32_t sum = usn_csum_partial(echo_rep + 8, 11, 0);
	sum = usn_csum_combine(sum, usn_csum_partial(echo_rep + 19, sizeof(echo_rep) - 19, 0), 11);
	assert_int_equal(usn_icmp_emit_hdr(&r, sum, hdr, sizeof(hdr)), 8);
	assert_memory_equal(hdr, echo_rep, 8);
	for (size_t cap = 0; cap < 8; cap++)
		assert_int_equal(usn_icmp_emit_hdr(&r, sum, hdr, cap), USN_WIRE_ENOSPC);
}

static void test_golden_port_unreach(void **state)
{
	struct usn_icmp_repr r;
	struct usn_ipv4_repr ip;
	struct usn_udp_repr udp;

	assert_int_equal(usn_icmp_parse(port_unreach, sizeof(port_unreach), &r, 0), USN_WIRE_OK);
	assert_int_equal(r.type, USN_ICMP_DEST_UNREACH);
	assert_int_equal(r.code, USN_ICMP_PORT_UNREACH);
	assert_int_equal(r.rest, 0);
	assert_int_equal(r.mtu, 0);
	assert_int_equal(r.data_len, 39);
	/* the embedded header is the original datagram's */
	assert_int_equal(usn_ipv4_parse(r.data, r.data_len, &ip, 0), USN_WIRE_OK);
	assert_int_equal(ip.proto, USN_IPPROTO_UDP);
	assert_int_equal(ip.src, 0x7f000001);
	assert_int_equal(ip.id, 0x5f18);
	assert_int_equal(usn_udp_parse(r.data + ip.hdr_len, ip.payload_len, &udp), USN_WIRE_OK);
	assert_int_equal(udp.src_port, 37438);
	assert_int_equal(udp.dst_port, 9);

	/* and emitted back from the repr */
	uint8_t out[sizeof(port_unreach)];
	assert_int_equal(usn_icmp_emit(&r, out, sizeof(out)), sizeof(port_unreach));
	assert_memory_equal(out, port_unreach, sizeof(port_unreach));
}

/* An error built in the buffer of the datagram it answers: the quoted bytes
 * overlap their destination. */
static void test_emit_overlapping_quote(void **state)
{
	uint8_t buf[64];
	struct usn_icmp_repr r = { .type = USN_ICMP_DEST_UNREACH, .code = USN_ICMP_PORT_UNREACH };

	memset(buf, 0, sizeof(buf));
	memcpy(buf + 12, port_unreach + 8, 39); /* the original datagram at +12 */
	r.data = buf + 12;
	r.data_len = 39;
	assert_int_equal(usn_icmp_emit(&r, buf, sizeof(buf)), sizeof(port_unreach));
	assert_memory_equal(buf, port_unreach, sizeof(port_unreach));
}

/* RFC 1191 §4: the next-hop MTU in the low half of the second word. */
static void test_frag_needed(void **state)
{
	static const uint8_t quote[28] = { 0x45, 0, 0x05, 0xdc };
	struct usn_icmp_repr r = {
		.type = USN_ICMP_DEST_UNREACH, .code = USN_ICMP_FRAG_NEEDED, .mtu = 1400,
		.data = quote, .data_len = sizeof(quote),
	};
	uint8_t out[8 + sizeof(quote)];
	struct usn_icmp_repr p;

	assert_int_equal(usn_icmp_emit(&r, out, sizeof(out)), sizeof(out));
	assert_int_equal(out[4], 0);
	assert_int_equal(out[5], 0);
	assert_int_equal(out[6], 1400 >> 8);
	assert_int_equal(out[7], 1400 & 0xff);
	assert_int_equal(usn_icmp_parse(out, sizeof(out), &p, 0), USN_WIRE_OK);
	assert_int_equal(p.mtu, 1400);
	assert_int_equal(p.rest, 1400);
	assert_int_equal(p.id, 0);
	assert_memory_equal(p.data, quote, sizeof(quote));

	/* other types carry `rest` */
	r.type = USN_ICMP_PARAM_PROBLEM;
	r.code = 0;
	r.rest = 0x0c000000; /* pointer 12 */
	assert_int_equal(usn_icmp_emit(&r, out, sizeof(out)), sizeof(out));
	assert_int_equal(out[4], 12);
	assert_int_equal(usn_icmp_parse(out, sizeof(out), &p, 0), USN_WIRE_OK);
	assert_int_equal(p.rest, 0x0c000000);
	assert_int_equal(p.mtu, 0);
}

static void test_truncated(void **state)
{
	struct usn_icmp_repr r;

	for (size_t len = 0; len < USN_ICMP_HLEN; len++) {
		assert_int_equal(usn_icmp_parse(echo_req, len, &r, 0), USN_WIRE_TRUNCATED);
		assert_int_equal(usn_icmp_parse(echo_req, len, &r, USN_ICMP_PARSE_NO_CSUM),
				 USN_WIRE_TRUNCATED);
	}
	/* a message cut short no longer sums to -0 */
	for (size_t len = USN_ICMP_HLEN; len < sizeof(echo_req); len++)
		assert_int_equal(usn_icmp_parse(echo_req, len, &r, 0), USN_WIRE_BAD_CSUM);
	for (size_t len = USN_ICMP_HLEN; len < sizeof(port_unreach); len++)
		assert_int_equal(usn_icmp_parse(port_unreach, len, &r, 0), USN_WIRE_BAD_CSUM);
}

static void test_emit_refused(void **state)
{
	struct usn_icmp_repr r = { .type = USN_ICMP_ECHO_REQUEST, .data = echo_req, .data_len = 10 };
	uint8_t out[32];

	for (size_t cap = 0; cap < 18; cap++)
		assert_int_equal(usn_icmp_emit(&r, out, cap), USN_WIRE_ENOSPC);
	assert_int_equal(usn_icmp_emit(&r, out, 18), 18);
	r.data = NULL;
	assert_int_equal(usn_icmp_emit(&r, out, sizeof(out)), USN_WIRE_BAD_FIELD);
	r.data_len = 0;
	assert_int_equal(usn_icmp_emit(&r, out, sizeof(out)), 8);
	r.data = echo_req;
	r.data_len = 70000;
	assert_int_equal(usn_icmp_emit(&r, out, sizeof(out)), USN_WIRE_BAD_LEN);
}

static void test_bad_csum(void **state)
{
	uint8_t b[sizeof(echo_req)];
	struct usn_icmp_repr r;

	for (size_t i = 0; i < sizeof(b); i++) {
		memcpy(b, echo_req, sizeof(b));
		b[i] ^= 0x10;
		assert_int_equal(usn_icmp_parse(b, sizeof(b), &r, 0), USN_WIRE_BAD_CSUM);
		assert_int_equal(usn_icmp_parse(b, sizeof(b), &r, USN_ICMP_PARSE_NO_CSUM), USN_WIRE_OK);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_echo_decode),
		cmocka_unit_test(test_golden_echo_emit),
		cmocka_unit_test(test_emit_hdr_chained),
		cmocka_unit_test(test_golden_port_unreach),
		cmocka_unit_test(test_emit_overlapping_quote),
		cmocka_unit_test(test_frag_needed),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_emit_refused),
		cmocka_unit_test(test_bad_csum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
