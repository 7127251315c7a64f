/* SPDX-License-Identifier: MIT */
/*
 * test-icmp.c - ICMP of a stack (src/ip/icmp.c) seen from the wire: echo
 * (RFC 792, RFC 1122 §3.2.2.6), including a fragmented one; broadcast echo
 * ignored; checksum (RFC 792); the cases where no error may be sent
 * (RFC 1122 §3.2.2: about an ICMP error, a broadcast, a non-first
 * fragment); the rate limit (RFC 1812 §4.3.2.8) and the content of a port
 * unreachable (RFC 792, RFC 1812 §4.3.2.3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rig.h"

#define CLOSED 4444

/* An ICMP message into buf; returns its length. */
static size_t icmp_msg(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
		       const uint8_t *data, size_t len)
{
	struct usn_icmp_repr m = {.type = type, .code = code, .id = id, .seq = seq, .data = data, .data_len = len};
	int n = usn_icmp_emit(&m, buf, cap);
	assert_int_equal(n, (int)(USN_ICMP_HLEN + len));
	return (size_t)n;
}

static void fill(uint8_t *p, size_t n, uint8_t k)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + k);
}

/* The one ICMP message captured at index i: its IPv4 header and repr
 * (checksum verified). */
static void icmp_at(const struct rig *r, int i, struct usn_ipv4_repr *ip, struct usn_icmp_repr *m)
{
	const uint8_t *p;
	assert_true(i >= 0);
	assert_true(rig_frame_ipv4(&r->frames[i], NULL, ip, &p));
	assert_int_equal(ip->proto, USN_IPPROTO_ICMP);
	assert_int_equal(usn_icmp_parse(p, ip->payload_len, m, 0), USN_WIRE_OK);
}

/* RFC 792 echo / RFC 1122 §3.2.2.6: the reply carries the request's
 * identifier, sequence number and data, from the address the request was
 * sent to. */
static void test_icmp_echo_reply(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	uint8_t data[57], msg[128];
	fill(data, sizeof(data), 3);
	for (size_t len = 56; len <= 57; len++) {
		rig_clear(r);
		size_t n = icmp_msg(msg, sizeof(msg), USN_ICMP_ECHO_REQUEST, 0, 0x1234, (uint16_t)(7 + len), data, len);
		struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_ICMP, n);
		rig_send_ipv4(r, &ip, msg, n);
		rig_run(r);
		assert_int_equal(r->nframes, 1);
		struct usn_ipv4_repr rip;
		struct usn_icmp_repr m;
		icmp_at(r, 0, &rip, &m);
		assert_int_equal(rip.src, RIG_ADDR);
		assert_int_equal(rip.dst, RIG_PEER);
		assert_int_equal(m.type, USN_ICMP_ECHO_REPLY);
		assert_int_equal(m.code, 0);
		assert_int_equal(m.id, 0x1234);
		assert_int_equal(m.seq, 7 + len);
		assert_int_equal(m.data_len, len);
		assert_memory_equal(m.data, data, len);
	}
	assert_int_equal(CTR(r, ICMP_RX_ECHO_REQUESTS), 2);
	assert_int_equal(CTR(r, ICMP_TX_ECHO_REPLIES), 2);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.2.2.6 / RFC 791 §3.2: an 8000-byte echo request in fragments
 * is reassembled and answered; the reply is fragmented in turn and
 * reassembles to the same data. */
static void test_icmp_echo_fragmented(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	static uint8_t data[8000], msg[8100], back[8100];
	fill(data, sizeof(data), 11);
	size_t n = icmp_msg(msg, sizeof(msg), USN_ICMP_ECHO_REQUEST, 0, 0xbeef, 1, data, sizeof(data));
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_ICMP, n);
	for (uint32_t off = 0; off < n; off += 1480) {
		uint32_t len = (uint32_t)USN_MIN(1480u, n - off);
		rig_send_frag(r, &ip, msg, off, len, off + len < n);
	}
	rig_run(r);
	assert_int_equal(CTR(r, FRAG_REASSEMBLED), 1);
	assert_int_equal(CTR(r, ICMP_TX_ECHO_REPLIES), 1);
	assert_true(r->nframes > 1);
	struct usn_ipv4_repr rip;
	assert_true(rig_frame_ipv4(&r->frames[0], NULL, &rip, NULL));
	uint32_t nfrags;
	size_t m = rig_reassemble(r, rip.id, back, sizeof(back), &nfrags);
	assert_int_equal(m, n);
	assert_int_equal(nfrags, r->nframes);
	assert_int_equal(rip.src, RIG_ADDR);
	assert_int_equal(rip.dst, RIG_PEER);
	struct usn_icmp_repr rep;
	assert_int_equal(usn_icmp_parse(back, m, &rep, 0), USN_WIRE_OK); /* checksum over all 8008 */
	assert_int_equal(rep.type, USN_ICMP_ECHO_REPLY);
	assert_int_equal(rep.id, 0xbeef);
	assert_int_equal(rep.seq, 1);
	assert_int_equal(rep.data_len, sizeof(data));
	assert_memory_equal(rep.data, data, sizeof(data));
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.2.2.6: an echo request to a broadcast address MAY be
 * silently discarded; usnet does (no smurf amplifier). */
static void test_icmp_echo_broadcast_ignored(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	uint8_t data[16] = {0}, msg[64], f[128];
	size_t n = icmp_msg(msg, sizeof(msg), USN_ICMP_ECHO_REQUEST, 0, 1, 1, data, sizeof(data));
	static const uint32_t bc[] = {RIG_BCAST, 0xffffffffu};
	for (size_t i = 0; i < 2; i++) {
		struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_ICMP, n);
		ip.dst = bc[i];
		rig_send(r, f, rig_ipv4_frame(f, rig_bcast_mac, &ip, msg, n));
	}
	rig_run(r);
	assert_int_equal(CTR(r, ICMP_DROP_BROADCAST), 2);
	assert_int_equal(CTR(r, ICMP_TX_ECHO_REPLIES), 0);
	assert_int_equal(r->nframes, 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 792: the checksum covers the whole message; a bad one is dropped,
 * as is a message shorter than the ICMP header. */
static void test_icmp_bad_csum(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	uint8_t data[32], msg[64];
	fill(data, sizeof(data), 1);
	size_t n = icmp_msg(msg, sizeof(msg), USN_ICMP_ECHO_REQUEST, 0, 9, 9, data, sizeof(data));
	msg[n - 1] ^= 0x40; /* a data byte changed */
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_ICMP, n);
	rig_send_ipv4(r, &ip, msg, n);
	ip = rig_iphdr(r, USN_IPPROTO_ICMP, 4);
	rig_send_ipv4(r, &ip, msg, 4);
	rig_run(r);
	assert_int_equal(CTR(r, ICMP_DROP_BAD_CSUM), 1);
	assert_int_equal(CTR(r, ICMP_DROP_TRUNCATED), 1);
	assert_int_equal(CTR(r, ICMP_RX_ECHO_REQUESTS), 0);
	assert_int_equal(r->nframes, 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result of
 * receiving ... an ICMP error message". The first fragment of an ICMP
 * error that never completes gets no time exceeded; the first fragment of
 * an echo request (not an error) does. */
static void test_icmp_no_error_about_icmp_error(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	static uint8_t data[3000], msg[3100];
	fill(data, sizeof(data), 5);
	size_t n = icmp_msg(msg, sizeof(msg), USN_ICMP_DEST_UNREACH, USN_ICMP_HOST_UNREACH, 0, 0, data, sizeof(data));
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_ICMP, n);
	rig_send_frag(r, &ip, msg, 0, 1480, true);
	rig_run(r);
	rig_advance(r, 31 * SEC);
	assert_int_equal(CTR(r, FRAG_DROP_TIMEOUT), 1);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_ICMP), 0);

	rig_learn_peer(r); /* the entry has aged out meanwhile */
	n = icmp_msg(msg, sizeof(msg), USN_ICMP_ECHO_REQUEST, 0, 1, 2, data, sizeof(data));
	ip = rig_iphdr(r, USN_IPPROTO_ICMP, n);
	rig_send_frag(r, &ip, msg, 0, 1480, true);
	rig_run(r);
	rig_advance(r, 31 * SEC);
	assert_int_equal(CTR(r, FRAG_DROP_TIMEOUT), 2);
	assert_int_equal(rig_count_icmp(r, USN_ICMP_TIME_EXCEEDED), 1);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.2.2 / §4.1.3.1: no ICMP error about a datagram sent to a
 * broadcast address (closed port, unknown protocol, reassembly timeout). */
static void test_icmp_no_error_about_broadcast(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	uint8_t d[64], f[128];
	static const uint32_t bc[] = {RIG_BCAST, 0xffffffffu};
	for (size_t i = 0; i < 2; i++) {
		size_t n = rig_udp_build(d, RIG_PEER, bc[i], 5555, CLOSED, "bc", 2);
		struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
		ip.dst = bc[i];
		rig_send(r, f, rig_ipv4_frame(f, rig_bcast_mac, &ip, d, n));
		ip = rig_iphdr(r, 253, 8);
		ip.dst = bc[i];
		rig_send(r, f, rig_ipv4_frame(f, rig_bcast_mac, &ip, d, 8));
		ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
		ip.dst = bc[i];
		ip.mf = true;
		rig_send(r, f, rig_ipv4_frame(f, rig_bcast_mac, &ip, d, 16));
	}
	rig_run(r);
	assert_int_equal(CTR(r, UDP_DROP_NO_PORT), 2);
	assert_int_equal(CTR(r, IP_DROP_UNKNOWN_PROTO), 2);
	rig_advance(r, 31 * SEC);
	assert_int_equal(CTR(r, FRAG_DROP_TIMEOUT), 2);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_ICMP), 0);
	assert_int_equal(CTR(r, ICMP_RATELIMITED), 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.2.2: no ICMP error about "a datagram ... which is not the
 * first fragment": a datagram of which only later fragments came times
 * out silently; a reassembled datagram to a closed port is one datagram
 * and gets its port unreachable. */
static void test_icmp_no_error_about_non_first_fragment(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	static uint8_t d[4000];
	fill(d, sizeof(d), 2);
	struct usn_ipv4_repr ip = rig_iphdr(r, 253, 0);
	rig_send_frag(r, &ip, d, 1480, 1480, true);
	rig_send_frag(r, &ip, d, 2960, 100, false);
	rig_run(r);
	rig_advance(r, 31 * SEC);
	assert_int_equal(CTR(r, FRAG_DROP_TIMEOUT), 1);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_ICMP), 0);
	assert_int_equal(CTR(r, IP_DROP_UNKNOWN_PROTO), 0);

	rig_clear(r);
	static uint8_t data[2000];
	fill(data, sizeof(data), 4);
	size_t n = rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, CLOSED, data, sizeof(data));
	ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
	rig_send_frag(r, &ip, d, 0, 1480, true);
	rig_send_frag(r, &ip, d, 1480, (uint32_t)n - 1480, false);
	rig_run(r);
	assert_int_equal(CTR(r, UDP_DROP_NO_PORT), 1);
	assert_int_equal(rig_count_icmp(r, USN_ICMP_DEST_UNREACH), 1);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1812 §4.3.2.8 (as Linux: burst 50, 1000/s): 200 datagrams to a closed
 * port at once get at most 50 port unreachables, the rest counted as rate
 * limited; a second later the bucket has refilled. */
static void test_icmp_port_unreach_ratelimit(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	for (int i = 0; i < 200; i++) {
		rig_send_udp(r, 5555, CLOSED, "x", 1);
		if (i % 50 == 49)
			rig_run(r);
	}
	rig_run(r);
	uint32_t n1 = rig_count_icmp(r, USN_ICMP_DEST_UNREACH);
	assert_true(n1 >= 1 && n1 <= 50);
	assert_int_equal(CTR(r, UDP_DROP_NO_PORT), 200);
	assert_int_equal(CTR(r, ICMP_TX_PORT_UNREACH), n1);
	assert_int_equal(CTR(r, ICMP_RATELIMITED), 200 - n1);
	rig_clear(r);
	rig_advance(r, 1 * SEC);
	for (int i = 0; i < 200; i++) {
		rig_send_udp(r, 5555, CLOSED, "y", 1);
		if (i % 50 == 49)
			rig_run(r);
	}
	rig_run(r);
	uint32_t n2 = rig_count_icmp(r, USN_ICMP_DEST_UNREACH);
	assert_true(n2 >= 1 && n2 <= 50);
	assert_int_equal(CTR(r, ICMP_RATELIMITED), 400 - n1 - n2);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 792 destination unreachable: the unused word is zero and the data is
 * the original IP header plus at least 8 bytes of its data; RFC 1812
 * §4.3.2.3: as much as fits in 576 bytes. */
static void test_icmp_port_unreach_quote(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	static const size_t sizes[] = {100, 1400};
	for (size_t k = 0; k < 2; k++) {
		rig_clear(r);
		uint8_t data[1400], f[1600];
		fill(data, sizes[k], (uint8_t)k);
		uint8_t d[1500];
		size_t n = rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, CLOSED, data, sizes[k]);
		struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
		ip.tos = 0x28;
		size_t fl = rig_ipv4_frame(f, rig_stack_mac, &ip, d, n);
		rig_send(r, f, fl);
		rig_run(r);
		assert_int_equal(r->nframes, 1);
		struct usn_ipv4_repr eip;
		struct usn_icmp_repr m;
		icmp_at(r, 0, &eip, &m);
		assert_int_equal(eip.src, RIG_ADDR);
		assert_int_equal(eip.dst, RIG_PEER);
		assert_true(eip.hdr_len + eip.payload_len <= 576);
		assert_int_equal(m.type, USN_ICMP_DEST_UNREACH);
		assert_int_equal(m.code, USN_ICMP_PORT_UNREACH);
		assert_int_equal(m.rest, 0);
		size_t want = USN_MIN(20 + n, 576 - 20 - 8);
		assert_int_equal(m.data_len, want);
		assert_memory_equal(m.data, f + USN_ETH_HLEN, want); /* header + datagram, byte for byte */
	}
	assert_int_equal(CTR(r, ICMP_TX_PORT_UNREACH), 2);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* ICMP messages we do not answer are counted by type: destination
 * unreachable (for UDP sockets: see test-udp), echo reply. */
static void test_icmp_input_counted(void **state)
{
	struct rig *r = *state;
	rig_clear(r);
	uint8_t q[28], msg[64];
	struct usn_ipv4_repr orig = {
		.src = RIG_ADDR, .dst = RIG_PEER, .proto = 253, .ttl = 64, .payload_len = 8,
	};
	usn_ipv4_emit(&orig, q, 20);
	memset(q + 20, 0, 8);
	size_t n = icmp_msg(msg, sizeof(msg), USN_ICMP_DEST_UNREACH, USN_ICMP_HOST_UNREACH, 0, 0, q, sizeof(q));
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_ICMP, n);
	rig_send_ipv4(r, &ip, msg, n);
	n = icmp_msg(msg, sizeof(msg), USN_ICMP_ECHO_REPLY, 0, 1, 1, q, 8);
	ip = rig_iphdr(r, USN_IPPROTO_ICMP, n);
	rig_send_ipv4(r, &ip, msg, n);
	rig_run(r);
	assert_int_equal(CTR(r, ICMP_RX_MESSAGES), 2);
	assert_int_equal(CTR(r, ICMP_RX_DEST_UNREACH), 1);
	assert_int_equal(CTR(r, ICMP_RX_OTHER), 1);
	assert_int_equal(r->nframes, 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_icmp_echo_reply, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_echo_fragmented, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_echo_broadcast_ignored, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_bad_csum, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_no_error_about_icmp_error, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_no_error_about_broadcast, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_no_error_about_non_first_fragment, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_port_unreach_ratelimit, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_port_unreach_quote, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_input_counted, rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
