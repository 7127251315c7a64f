// SPDX-License-Identifier: MIT
/*
 * test-udp.c - unit tests of the UDP header (wire/udp.c, RFC 768, RFC 1122
 * §4.1.3.4): a real datagram decoded and emitted back, every truncation
 * refused, impossible length fields refused, the checksum verified over the
 * pseudo-header, a computed zero sent as 0xffff, a zero field accepted,
 * and the header of a datagram held elsewhere (usn_udp_parse_hdr).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "wire.h"

#define LO 0x7f000001u

/* 127.0.0.1:37438 -> 127.0.0.1:9 "hello usnet", captured on Linux. The
 * loopback capture held an offload partial sum (0xfe26) in the checksum
 * field; this is the datagram with its full checksum 0xd3b2. */
static const uint8_t dgram[] = {
	0x92, 0x3e, 0x00, 0x09, 0x00, 0x13, 0xd3, 0xb2, 0x68, 0x65, 0x6c, 0x6c,
	0x6f, 0x20, 0x75, 0x73, 0x6e, 0x65, 0x74,
};

static void test_golden_decode(void **state)
{
	struct usn_udp_repr r;

	assert_int_equal(usn_udp_parse(dgram, sizeof(dgram), &r), USN_WIRE_OK);
	assert_int_equal(r.src_port, 37438);
	assert_int_equal(r.dst_port, 9);
	assert_int_equal(r.len, 19);
	assert_int_equal(r.csum, 0xd3b2);
	assert_true(usn_udp_csum_ok(r.csum, LO, LO, r.len, usn_csum_partial(dgram, sizeof(dgram), 0)));
	/* a wrong pseudo-header fails */
	assert_false(usn_udp_csum_ok(r.csum, LO, LO + 1, r.len, usn_csum_partial(dgram, sizeof(dgram), 0)));

	/* bytes past the length field (IP payload longer) are not UDP's */
	uint8_t longer[sizeof(dgram) + 5];
	memset(longer, 0x77, sizeof(longer));
	memcpy(longer, dgram, sizeof(dgram));
	assert_int_equal(usn_udp_parse(longer, sizeof(longer), &r), USN_WIRE_OK);
	assert_int_equal(r.len, 19);
}

static void test_golden_emit(void **state)
{
	struct usn_udp_repr r = { .src_port = 37438, .dst_port = 9, .len = 19, .csum = 0x1234 /* ignored */ };
	uint8_t out[9];
	uint32_t psum = usn_csum_partial(dgram + 8, sizeof(dgram) - 8, 0);

	memset(out, 0xaa, sizeof(out));
	assert_int_equal(usn_udp_emit(&r, LO, LO, psum, out, sizeof(out)), 8);
	assert_memory_equal(out, dgram, 8);
	assert_int_equal(out[8], 0xaa);
	/* the payload summed in pieces, one at an odd offset, gives the same */
	uint32_t s = usn_csum_partial(dgram + 8, 3, 0);
	s = usn_csum_combine(s, usn_csum_partial(dgram + 11, sizeof(dgram) - 11, 0), 3);
	assert_int_equal(usn_udp_emit(&r, LO, LO, s, out, 8), 8);
	assert_memory_equal(out, dgram, 8);
}

static void test_truncated(void **state)
{
	struct usn_udp_repr r = { .len = 8 };
	uint8_t out[8];

	for (size_t len = 0; len < sizeof(dgram); len++)
		assert_int_equal(usn_udp_parse(dgram, len, &r), USN_WIRE_TRUNCATED);
	for (size_t cap = 0; cap < 8; cap++)
		assert_int_equal(usn_udp_emit(&r, LO, LO, 0, out, cap), USN_WIRE_ENOSPC);
}

static void test_bad_lengths(void **state)
{
	uint8_t b[sizeof(dgram)];
	struct usn_udp_repr r;

	memcpy(b, dgram, sizeof(b));
	for (uint8_t l = 0; l < 8; l++) {
		b[5] = l;
		assert_int_equal(usn_udp_parse(b, sizeof(b), &r), USN_WIRE_BAD_LEN);
	}
	b[5] = 8; /* header only: fine */
	assert_int_equal(usn_udp_parse(b, sizeof(b), &r), USN_WIRE_OK);
	assert_int_equal(r.len, 8);
	b[5] = (uint8_t)(sizeof(b) + 1);
	assert_int_equal(usn_udp_parse(b, sizeof(b), &r), USN_WIRE_TRUNCATED);
	b[4] = 0xff;
	b[5] = 0xff;
	assert_int_equal(usn_udp_parse(b, sizeof(b), &r), USN_WIRE_TRUNCATED);

	struct usn_udp_repr e = { .len = 7 };
	uint8_t out[8];
	assert_int_equal(usn_udp_emit(&e, LO, LO, 0, out, sizeof(out)), USN_WIRE_BAD_LEN);
}

static void test_bad_csum(void **state)
{
	uint8_t b[sizeof(dgram)];

	for (size_t i = 0; i < sizeof(b); i++) {
		memcpy(b, dgram, sizeof(b));
		b[i] ^= 0x01;
		uint16_t field = (uint16_t)(b[6] << 8 | b[7]);
		assert_false(usn_udp_csum_ok(field, LO, LO, 19, usn_csum_partial(b, sizeof(b), 0)));
	}
}

/* RFC 768: a computed zero is sent as all ones, and a zero field means
 * "no checksum" and is accepted. */
static void test_zero_csum(void **state)
{
	uint8_t b[12] = { 0x13, 0x88, 0x00, 0x35, 0x00, 12, 0, 0, 0, 0, 0, 0 };
	struct usn_udp_repr r = { .src_port = 5000, .dst_port = 53, .len = 12 };
	uint32_t src = 0xc0000201, dst = 0xc6336407;

	/* choose the last payload word so that the sum is -0 */
	assert_int_equal(usn_udp_emit(&r, src, dst, 0, b, sizeof(b)), 8);
	uint16_t c = (uint16_t)(b[6] << 8 | b[7]);
	b[10] = (uint8_t)(c >> 8);
	b[11] = (uint8_t)c;
	assert_int_equal(usn_udp_emit(&r, src, dst, usn_csum_partial(b + 8, 4, 0), b, sizeof(b)), 8);
	assert_int_equal(b[6], 0xff);
	assert_int_equal(b[7], 0xff);
	assert_true(usn_udp_csum_ok(0xffff, src, dst, 12, usn_csum_partial(b, sizeof(b), 0)));

	/* field 0: accepted whatever the data */
	b[6] = b[7] = 0;
	b[9] ^= 0x55;
	assert_true(usn_udp_csum_ok(0, src, dst, 12, usn_csum_partial(b, sizeof(b), 0)));
	assert_true(usn_udp_csum_ok(0, 0, 0, 0, 0));
}

/* A header read apart from its datagram: a chain, or a quote in an ICMP
 * error. Lengths are held against the datagram's real length. */
static void test_parse_hdr(void **state)
{
	struct usn_udp_repr r;
	uint8_t b[8];

	assert_int_equal(usn_udp_parse_hdr(dgram, 8, sizeof(dgram), &r), USN_WIRE_OK);
	assert_int_equal(r.src_port, 37438);
	assert_int_equal(r.dst_port, 9);
	assert_int_equal(r.len, 19);
	assert_int_equal(r.csum, 0xd3b2);
	assert_int_equal(usn_udp_parse_hdr(dgram, 8, 65535, &r), USN_WIRE_OK);
	for (size_t avail = 0; avail < 8; avail++)
		assert_int_equal(usn_udp_parse_hdr(dgram, avail, sizeof(dgram), &r), USN_WIRE_TRUNCATED);
	for (size_t dl = 0; dl < 8; dl++)
		assert_int_equal(usn_udp_parse_hdr(dgram, 8, dl, &r), USN_WIRE_TRUNCATED);
	for (size_t dl = 8; dl < sizeof(dgram); dl++)
		assert_int_equal(usn_udp_parse_hdr(dgram, 8, dl, &r), USN_WIRE_BAD_LEN);
	memcpy(b, dgram, 8);
	for (uint8_t l = 0; l < 8; l++) {
		b[5] = l;
		assert_int_equal(usn_udp_parse_hdr(b, 8, 100, &r), USN_WIRE_BAD_LEN);
	}
	b[5] = 8;
	assert_int_equal(usn_udp_parse_hdr(b, 8, 8, &r), USN_WIRE_OK);
	assert_int_equal(r.len, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_decode),
		cmocka_unit_test(test_golden_emit),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_bad_csum),
		cmocka_unit_test(test_zero_csum),
		cmocka_unit_test(test_parse_hdr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
