// SPDX-License-Identifier: MIT
/*
 * test-arp.c - unit tests of ARP for IPv4 over Ethernet (wire/arp.c, RFC
 * 826): a request and a reply decoded from golden bytes and emitted back to
 * them, every truncation refused, and a wrong hardware type, protocol type
 * or address length refused as USN_WIRE_BAD_FIELD.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "wire.h"

/* who-has 10.0.2.2 tell 10.0.2.15 (after the 14-byte Ethernet header) */
static const uint8_t arp_req[USN_ARP_LEN] = {
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0xfc, 0x00, 0x00,
	0x00, 0x01, 0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x0a, 0x00, 0x02, 0x02,
};
/* 10.0.2.2 is-at 52:55:0a:00:02:02 */
static const uint8_t arp_rep[USN_ARP_LEN] = {
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x52, 0x55, 0x0a, 0x00,
	0x02, 0x02, 0x0a, 0x00, 0x02, 0x02, 0x02, 0xfc, 0x00, 0x00, 0x00, 0x01,
	0x0a, 0x00, 0x02, 0x0f,
};

static const uint8_t mac_a[6] = { 0x02, 0xfc, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t mac_zero[6] = { 0 };

static void test_golden_decode(void **state)
{
	struct usn_arp_repr r;

	assert_int_equal(usn_arp_parse(arp_req, sizeof(arp_req), &r), USN_WIRE_OK);
	assert_int_equal(r.op, USN_ARP_OP_REQUEST);
	assert_memory_equal(r.sha, mac_a, 6);
	assert_int_equal(r.spa, 0x0a00020f);
	assert_memory_equal(r.tha, mac_zero, 6);
	assert_int_equal(r.tpa, 0x0a000202);

	assert_int_equal(usn_arp_parse(arp_rep, sizeof(arp_rep), &r), USN_WIRE_OK);
	assert_int_equal(r.op, USN_ARP_OP_REPLY);
	assert_memory_equal(r.sha, mac_b, 6);
	assert_int_equal(r.spa, 0x0a000202);
	assert_memory_equal(r.tha, mac_a, 6);
	assert_int_equal(r.tpa, 0x0a00020f);

	/* Ethernet padding after the 28 bytes is ignored */
	uint8_t padded[46] = { 0 };
	memcpy(padded, arp_rep, sizeof(arp_rep));
	assert_int_equal(usn_arp_parse(padded, sizeof(padded), &r), USN_WIRE_OK);
	assert_int_equal(r.tpa, 0x0a00020f);
}

static void test_golden_emit(void **state)
{
	struct usn_arp_repr r = { .op = USN_ARP_OP_REQUEST, .spa = 0x0a00020f, .tpa = 0x0a000202 };
	uint8_t out[USN_ARP_LEN + 1];

	memcpy(r.sha, mac_a, 6);
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(usn_arp_emit(&r, out, sizeof(out)), USN_ARP_LEN);
	assert_memory_equal(out, arp_req, USN_ARP_LEN);
	assert_int_equal(out[USN_ARP_LEN], 0xaa);

	struct usn_arp_repr p;
	assert_int_equal(usn_arp_parse(arp_rep, sizeof(arp_rep), &p), USN_WIRE_OK);
	assert_int_equal(usn_arp_emit(&p, out, USN_ARP_LEN), USN_ARP_LEN);
	assert_memory_equal(out, arp_rep, USN_ARP_LEN);
}

static void test_truncated(void **state)
{
	struct usn_arp_repr r = { 0 };
	uint8_t out[USN_ARP_LEN];

	for (size_t len = 0; len < USN_ARP_LEN; len++)
		assert_int_equal(usn_arp_parse(arp_req, len, &r), USN_WIRE_TRUNCATED);
	for (size_t cap = 0; cap < USN_ARP_LEN; cap++)
		assert_int_equal(usn_arp_emit(&r, out, cap), USN_WIRE_ENOSPC);
}

/* RFC 826: only Ethernet (1) / IPv4 (0x0800) with lengths 6 and 4. */
static void test_bad_fields(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{ 1, 6 },    /* htype 6 (IEEE 802) */
		{ 0, 1 },    /* htype 0x0101 */
		{ 2, 0x86 }, /* ptype 0x8600 */
		{ 3, 0xdd }, /* ptype 0x08dd */
		{ 4, 8 },    /* hlen 8 */
		{ 4, 0 },    /* hlen 0 */
		{ 5, 16 },   /* plen 16 (IPv6) */
		{ 5, 0 },    /* plen 0 */
	};
	struct usn_arp_repr r;
	uint8_t b[USN_ARP_LEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(b, arp_req, sizeof(b));
		b[bad[i].off] = bad[i].val;
		assert_int_equal(usn_arp_parse(b, sizeof(b), &r), USN_WIRE_BAD_FIELD);
	}
	/* a length check comes before the field check */
	assert_int_equal(usn_arp_parse(b, USN_ARP_LEN - 1, &r), USN_WIRE_TRUNCATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_decode),
		cmocka_unit_test(test_golden_emit),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
