// SPDX-License-Identifier: MIT
/*
 * test-eth.c - unit tests of the Ethernet II header (wire/eth.c): golden
 * bytes of a real ARP broadcast frame decoded, the repr emitted back to the
 * same bytes, every truncation refused, a VLAN tag reported as 0x8100, and
 * the address class helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "wire.h"

/* who-has 10.0.2.2 tell 10.0.2.15, from 02:fc:00:00:00:01 */
static const uint8_t arp_frame[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0xfc, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0xfc,
	0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0a, 0x00, 0x02, 0x02,
};

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac1[6] = { 0x02, 0xfc, 0x00, 0x00, 0x00, 0x01 };

static void test_golden_decode(void **state)
{
	struct usn_eth_repr r;

	assert_int_equal(usn_eth_parse(arp_frame, sizeof(arp_frame), &r), USN_WIRE_OK);
	assert_memory_equal(r.dst, bcast, 6);
	assert_memory_equal(r.src, mac1, 6);
	assert_int_equal(r.ethertype, USN_ETHERTYPE_ARP);
	/* exactly a header and nothing else is fine too */
	assert_int_equal(usn_eth_parse(arp_frame, USN_ETH_HLEN, &r), USN_WIRE_OK);
}

static void test_golden_emit(void **state)
{
	struct usn_eth_repr r = { .ethertype = USN_ETHERTYPE_ARP };
	uint8_t out[USN_ETH_HLEN + 2];

	memcpy(r.dst, bcast, 6);
	memcpy(r.src, mac1, 6);
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(usn_eth_emit(&r, out, sizeof(out)), USN_ETH_HLEN);
	assert_memory_equal(out, arp_frame, USN_ETH_HLEN);
	assert_int_equal(out[USN_ETH_HLEN], 0xaa); /* nothing written past the header */
	assert_int_equal(usn_eth_emit(&r, out, USN_ETH_HLEN), USN_ETH_HLEN);
}

static void test_truncated(void **state)
{
	struct usn_eth_repr r;
	uint8_t out[USN_ETH_HLEN];

	for (size_t len = 0; len < USN_ETH_HLEN; len++)
		assert_int_equal(usn_eth_parse(arp_frame, len, &r), USN_WIRE_TRUNCATED);
	assert_int_equal(usn_eth_parse(arp_frame, USN_ETH_HLEN, &r), USN_WIRE_OK);
	for (size_t cap = 0; cap < USN_ETH_HLEN; cap++)
		assert_int_equal(usn_eth_emit(&r, out, cap), USN_WIRE_ENOSPC);
}

/* Ethernet has no length field: the only impossible length is one shorter
 * than the header; a VLAN tag is not parsed but reported as its TPID. */
static void test_vlan_reported(void **state)
{
	uint8_t f[18];
	struct usn_eth_repr r;

	memcpy(f, arp_frame, 12);
	f[12] = 0x81;
	f[13] = 0x00;
	f[14] = 0x00;
	f[15] = 0x05;
	f[16] = 0x08;
	f[17] = 0x00;
	assert_int_equal(usn_eth_parse(f, sizeof(f), &r), USN_WIRE_OK);
	assert_int_equal(r.ethertype, USN_ETHERTYPE_VLAN);
}

static void test_mac_classes(void **state)
{
	static const uint8_t zero[6] = { 0 };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

	assert_true(usn_eth_is_broadcast(bcast));
	assert_true(usn_eth_is_multicast(bcast));
	assert_false(usn_eth_is_broadcast(mcast));
	assert_true(usn_eth_is_multicast(mcast));
	assert_false(usn_eth_is_multicast(mac1));
	assert_false(usn_eth_is_broadcast(mac1));
	assert_true(usn_eth_is_zero(zero));
	assert_false(usn_eth_is_zero(mac1));
}

static void test_strerror(void **state)
{
	assert_string_equal(usn_wire_strerror(USN_WIRE_OK), "ok");
	for (int e = USN_WIRE_ENOSPC; e < 0; e++)
		assert_string_not_equal(usn_wire_strerror(e), usn_wire_strerror(-100));
	assert_string_equal(usn_wire_strerror(5), usn_wire_strerror(-100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_decode),
		cmocka_unit_test(test_golden_emit),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_vlan_reported),
		cmocka_unit_test(test_mac_classes),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
