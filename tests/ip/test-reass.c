/* SPDX-License-Identifier: MIT */
/*
 * test-reass.c - fragmentation on output and reassembly on input
 * (src/ip/ip.c, src/ip/reass.c) seen from the wire: RFC 791 §3.2
 * (fragments of 8-octet units, MF, one identification, reassembly by
 * src/dst/proto/id in any order), RFC 1122 §3.3.2 (reassembly timeout,
 * ICMP time exceeded code 1 only when the first fragment came), the rule of
 * RFC 5722 §4 applied to IPv4 (an overlap discards the whole datagram and
 * its later fragments), duplicates, the 65535-byte bound of RFC 791 §3.1,
 * and bounded memory under a flood of incomplete datagrams.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "rig.h"

#define PORT 7777

static void pattern(uint8_t *p, size_t n, uint32_t seed)
{
	struct usn_rand rnd;
	usn_rand_seed(&rnd, seed);
	usn_rand_bytes(&rnd, p, n);
}

/* A UDP datagram of dlen data bytes from the peer to PORT, built whole into
 * dg (8 + dlen bytes) with its IPv4 header template in *ip. */
static size_t udp_dgram(struct rig *r, uint8_t *dg, size_t dlen, uint32_t seed, struct usn_ipv4_repr *ip)
{
	uint8_t *data = malloc(dlen + 1);
	assert_non_null(data);
	pattern(data, dlen, seed);
	size_t n = rig_udp_build(dg, RIG_PEER, RIG_ADDR, 5555, PORT, data, dlen);
	free(data);
	*ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
	return n;
}

/* Sends the fragments of pl (fragsize bytes each, a multiple of 8) in the
 * order given by idx (NULL: forward). Returns the number of fragments. */
static uint32_t send_frags(struct rig *r, const struct usn_ipv4_repr *ip, const uint8_t *pl, size_t plen,
			   uint32_t fragsize, const uint32_t *idx)
{
	uint32_t n = (uint32_t)((plen + fragsize - 1) / fragsize);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = idx ? idx[k] : k;
		uint32_t off = i * fragsize;
		uint32_t len = (uint32_t)USN_MIN(fragsize, plen - off);
		rig_send_frag(r, ip, pl, off, len, off + len < plen);
	}
	return n;
}

/* RFC 791 §3.2: an 8000-byte datagram goes out in fragments that fit the
 * MTU, with offsets in 8-octet units, MF on all but the last, one
 * identification and DF clear; our own reassembly gives it back exactly. */
static void test_frag_output_8000(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = rig_udp_socket(r, 4000);
	static uint8_t data[8000], dg[9000];
	pattern(data, sizeof(data), 8000);
	struct usn_addr to = usn_addr_v4(RIG_PEER, 9999);
	assert_int_equal(usn_sendto(r->s, sd, data, sizeof(data), 0, &to), 8000);
	rig_run(r);
	assert_int_equal(r->lost_frames, 0);
	struct usn_ipv4_repr ip0;
	assert_true(rig_frame_ipv4(&r->frames[0], NULL, &ip0, NULL));
	for (uint32_t i = 0; i < r->nframes; i++) {
		struct usn_ipv4_repr ip;
		assert_true(rig_frame_ipv4(&r->frames[i], NULL, &ip, NULL));
		assert_int_equal(ip.id, ip0.id);
		assert_false(ip.df);
		assert_int_equal(ip.ttl, 64);
	}
	uint32_t nfrags;
	size_t n = rig_reassemble(r, ip0.id, dg, sizeof(dg), &nfrags);
	assert_int_equal(n, 8008);
	assert_int_equal(nfrags, r->nframes);
	assert_int_equal(nfrags, 6); /* 5 x 1480 + 608 */
	struct usn_udp_repr u;
	assert_int_equal(usn_udp_parse(dg, n, &u), USN_WIRE_OK);
	assert_int_equal(u.len, 8008);
	assert_int_equal(u.src_port, 4000);
	assert_int_equal(u.dst_port, 9999);
	assert_true(usn_udp_csum_ok(u.csum, RIG_ADDR, RIG_PEER, u.len, usn_csum_partial(dg, n, 0)));
	assert_memory_equal(dg + 8, data, sizeof(data));
	assert_int_equal(CTR(r, FRAG_TX_FRAGMENTED), 1);
	assert_int_equal(CTR(r, FRAG_TX_FRAGMENTS), 6);
	assert_int_equal(CTR(r, IP_TX_PACKETS), 6);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 791 §3.2: fragments may arrive in any order; forward, reverse and
 * shuffled orders all reassemble to the exact datagram, with an odd final
 * length too (checksum over a chain with an odd tail). */
static void test_frag_input_any_order(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	static const size_t dlen[] = {5000, 4999, 1473, 3001};
	static const uint32_t fsz[] = {512, 1480, 1000, 64};
	static uint8_t dg[6000], data[6000], got[6000];
	struct usn_rand rnd;
	usn_rand_seed(&rnd, 42);
	uint32_t expect_frags = 0;
	for (size_t t = 0; t < 4; t++) {
		for (int order = 0; order < 3; order++) {
			struct usn_ipv4_repr ip;
			uint32_t seed = (uint32_t)(t * 10 + (size_t)order);
			size_t n = udp_dgram(r, dg, dlen[t], seed, &ip);
			uint32_t nf = (uint32_t)((n + fsz[t] - 1) / fsz[t]);
			uint32_t *idx = calloc(nf, sizeof(*idx));
			assert_non_null(idx);
			for (uint32_t k = 0; k < nf; k++)
				idx[k] = order == 1 ? nf - 1 - k : k;
			if (order == 2)
				for (uint32_t k = nf - 1; k > 0; k--) {
					uint32_t j = (uint32_t)usn_rand_below(&rnd, k + 1);
					uint32_t x = idx[k];
					idx[k] = idx[j];
					idx[j] = x;
				}
			/* send in slices so the stack's pool is never swamped */
			for (uint32_t k = 0; k < nf; k += 128) {
				uint32_t m = USN_MIN(128u, nf - k);
				for (uint32_t j = 0; j < m; j++) {
					uint32_t i = idx[k + j];
					uint32_t off = i * fsz[t];
					uint32_t len = (uint32_t)USN_MIN(fsz[t], n - off);
					rig_send_frag(r, &ip, dg, off, len, off + len < n);
				}
				rig_run(r);
			}
			free(idx);
			expect_frags += nf;
			pattern(data, dlen[t], seed);
			struct usn_addr from;
			assert_int_equal(usn_recvfrom(r->s, sd, got, sizeof(got), 0, &from), (ssize_t)dlen[t]);
			assert_memory_equal(got, data, dlen[t]);
			assert_int_equal(from.ip.v4, RIG_PEER);
			assert_int_equal(usn_recvfrom(r->s, sd, got, sizeof(got), 0, NULL), -EAGAIN);
		}
	}
	assert_int_equal(CTR(r, FRAG_REASSEMBLED), 12);
	assert_int_equal(CTR(r, FRAG_RX_FRAGMENTS), expect_frags);
	assert_int_equal(CTR(r, UDP_DROP_BAD_CSUM), 0);
	assert_int_equal(r->s->ip.reass.nbufs, 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 5722 §4 (applied to IPv4): a fragment overlapping another discards
 * the whole datagram and every fragment of it that arrives later; no ICMP
 * time exceeded is sent for it at the timeout, and the identification can
 * be used again afterwards. */
static void test_frag_overlap_kills_datagram(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = rig_udp_socket(r, PORT);
	static uint8_t dg[4000];
	struct usn_ipv4_repr ip;
	size_t n = udp_dgram(r, dg, 3000, 1, &ip);
	rig_send_frag(r, &ip, dg, 0, 1024, true);
	rig_run(r);
	assert_int_equal(rig_in_use(r), r->base_in_use + 1);
	rig_send_frag(r, &ip, dg, 1016, 1024, true); /* overlaps by 8 */
	rig_run(r);
	assert_int_equal(CTR(r, FRAG_DROP_OVERLAP), 1);
	assert_int_equal(rig_in_use(r), r->base_in_use); /* the held one freed */
	rig_send_frag(r, &ip, dg, 1024, 1024, true);
	rig_send_frag(r, &ip, dg, 2048, (uint32_t)n - 2048, false);
	rig_send_frag(r, &ip, dg, 0, 1024, true);
	rig_run(r);
	assert_int_equal(CTR(r, FRAG_DROP_DEAD), 3);
	assert_int_equal(CTR(r, FRAG_REASSEMBLED), 0);
	assert_int_equal(usn_recvfrom(r->s, sd, dg + 3500, 100, 0, NULL), -EAGAIN);
	assert_int_equal(rig_in_use(r), r->base_in_use);

	/* Inconsistent ends: a second last fragment with another end, and a
	 * fragment past the end the last one fixed. */
	struct usn_ipv4_repr ip2;
	n = udp_dgram(r, dg, 3000, 2, &ip2);
	rig_send_frag(r, &ip2, dg, 2048, (uint32_t)n - 2048, false);
	rig_send_frag(r, &ip2, dg, 2048, 512, false);
	struct usn_ipv4_repr ip3;
	n = udp_dgram(r, dg, 3000, 3, &ip3);
	rig_send_frag(r, &ip3, dg, 1024, 1000, false);
	rig_send_frag(r, &ip3, dg, 2048, 512, true);
	rig_run(r);
	assert_int_equal(CTR(r, FRAG_DROP_OVERLAP), 3);
	assert_int_equal(rig_in_use(r), r->base_in_use);

	/* After the timeout: no time exceeded (RFC 1122 §3.3.2 speaks of
	 * datagrams timed out, this one was discarded), and the id is free. */
	rig_clear(r);
	rig_advance(r, 31 * SEC);
	assert_int_equal(rig_count_icmp(r, USN_ICMP_TIME_EXCEEDED), 0);
	n = 8 + 3000;
	pattern(dg + 8, 3000, 1);
	rig_udp_build(dg, RIG_PEER, RIG_ADDR, 5555, PORT, dg + 8, 3000);
	send_frags(r, &ip, dg, n, 1024, NULL);
	rig_run(r);
	uint8_t got[3000], want[3000];
	pattern(want, sizeof(want), 1);
	assert_int_equal(usn_recvfrom(r->s, sd, got, sizeof(got), 0, NULL), 3000);
	assert_memory_equal(got, want, sizeof(want));
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 8200 §4.5 spirit, as reass.c documents: an exact duplicate (same
 * offset and length, as a duplicating network makes) is dropped alone and
 * the datagram still completes. */
static void test_frag_duplicate_dropped(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = rig_udp_socket(r, PORT);
	static uint8_t dg[3000];
	struct usn_ipv4_repr ip;
	size_t n = udp_dgram(r, dg, 2000, 5, &ip);
	rig_send_frag(r, &ip, dg, 0, 1480, true);
	rig_send_frag(r, &ip, dg, 0, 1480, true);
	rig_send_frag(r, &ip, dg, 1480, (uint32_t)n - 1480, false);
	rig_run(r);
	assert_int_equal(CTR(r, FRAG_DROP_DUPLICATE), 1);
	assert_int_equal(CTR(r, FRAG_DROP_OVERLAP), 0);
	assert_int_equal(CTR(r, FRAG_REASSEMBLED), 1);
	uint8_t got[2100], want[2000];
	pattern(want, sizeof(want), 5);
	assert_int_equal(usn_recvfrom(r->s, sd, got, sizeof(got), 0, NULL), 2000);
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(usn_recvfrom(r->s, sd, got, sizeof(got), 0, NULL), -EAGAIN);
	/* A late copy of the last fragment starts a new datagram that never
	 * completes: it times out without an ICMP error (not the first). */
	rig_clear(r);
	rig_send_frag(r, &ip, dg, 1480, (uint32_t)n - 1480, false);
	rig_run(r);
	assert_int_equal(rig_in_use(r), r->base_in_use + 1);
	rig_advance(r, 31 * SEC);
	assert_int_equal(CTR(r, FRAG_DROP_TIMEOUT), 1);
	assert_int_equal(rig_count_icmp(r, USN_ICMP_TIME_EXCEEDED), 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 791 §3.2: every fragment but the last carries a non-zero multiple of
 * 8 octets; RFC 791 §3.1: a datagram is at most 65535 octets (a fragment
 * reaching past it, the "ping of death", is dropped). */
static void test_frag_bad_fragment(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	static uint8_t dg[2000];
	struct usn_ipv4_repr ip;
	udp_dgram(r, dg, 1500, 6, &ip);
	rig_send_frag(r, &ip, dg, 0, 100, true);
	rig_send_frag(r, &ip, dg, 0, 0, true);
	rig_send_frag(r, &ip, dg, 8, 1001, true);
	rig_run(r);
	assert_int_equal(CTR(r, FRAG_DROP_BAD_FRAGMENT), 3);
	assert_int_equal(r->s->ip.reass.nbufs, 0);
	/* offset 65512 + 8 bytes fits the 16-bit field, not the datagram */
	struct usn_ipv4_repr pod = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	pod.frag_off = 65512;
	pod.mf = false;
	uint8_t f[128];
	size_t fl = rig_ipv4_frame(f, rig_stack_mac, &pod, dg, 8);
	rig_send(r, f, fl);
	rig_run(r);
	assert_int_equal(CTR(r, FRAG_DROP_TOO_BIG), 1);
	assert_int_equal(r->s->ip.reass.nbufs, 0);
	assert_int_equal(usn_recvfrom(r->s, sd, dg, sizeof(dg), 0, NULL), -EAGAIN);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.3.2: an incomplete datagram is discarded after the
 * reassembly timeout (30 s here, a documented DEVIATION); if its first
 * fragment arrived, an ICMP time exceeded with code 1 is sent (RFC 792),
 * quoting the original header and the first 8 bytes of its data. */
static void test_frag_timeout_first_held(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = rig_udp_socket(r, PORT);
	static uint8_t dg[3000];
	struct usn_ipv4_repr ip;
	udp_dgram(r, dg, 2000, 7, &ip);
	r->now = 1 * SEC;
	ip.tos = 0x10;
	ip.ttl = 57;
	uint8_t sent[USN_ETH_HLEN + 20 + 1480];
	struct usn_ipv4_repr first = ip;
	first.mf = true;
	rig_ipv4_frame(sent, rig_stack_mac, &first, dg, 1480);
	rig_send_frag(r, &ip, dg, 0, 1480, true);
	rig_run(r);
	rig_clear(r);
	rig_advance_to(r, 31 * SEC - 1);
	assert_int_equal(CTR(r, FRAG_DROP_TIMEOUT), 0);
	assert_int_equal(rig_count_icmp(r, USN_ICMP_TIME_EXCEEDED), 0);
	rig_advance_to(r, 31 * SEC);
	assert_int_equal(CTR(r, FRAG_DROP_TIMEOUT), 1);
	assert_int_equal(rig_count_icmp(r, USN_ICMP_TIME_EXCEEDED), 1);
	int i = rig_find_icmp(r, USN_ICMP_TIME_EXCEEDED, 0);
	struct usn_ipv4_repr eip;
	const uint8_t *p;
	rig_frame_ipv4(&r->frames[i], NULL, &eip, &p);
	assert_int_equal(eip.src, RIG_ADDR);
	assert_int_equal(eip.dst, RIG_PEER);
	struct usn_icmp_repr m;
	assert_int_equal(usn_icmp_parse(p, eip.payload_len, &m, 0), USN_WIRE_OK);
	assert_int_equal(m.type, USN_ICMP_TIME_EXCEEDED);
	assert_int_equal(m.code, 1); /* fragment reassembly time exceeded */
	assert_true(m.data_len >= 28);
	struct usn_ipv4_repr q;
	assert_int_equal(usn_ipv4_parse(m.data, m.data_len, &q, USN_IPV4_PARSE_QUOTED), USN_WIRE_OK);
	assert_int_equal(q.src, RIG_PEER);
	assert_int_equal(q.dst, RIG_ADDR);
	assert_int_equal(q.proto, USN_IPPROTO_UDP);
	assert_int_equal(q.id, ip.id);
	assert_memory_equal(m.data + q.hdr_len, dg, 8); /* the UDP header */
	/* RFC 792: "the internet header ... of the original datagram": the
	 * header as it arrived (TTL, TOS, flags included), byte for byte. */
	assert_int_equal(q.ttl, 57);
	assert_int_equal(q.tos, 0x10);
	assert_true(q.mf);
	assert_memory_equal(m.data, sent + USN_ETH_HLEN, 20);
	assert_int_equal(usn_recvfrom(r->s, sd, dg, sizeof(dg), 0, NULL), -EAGAIN);
	usn_close(r->s, sd);
	assert_int_equal(r->s->ip.reass.nbufs, 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.3.2 / §3.2.2: without the first fragment the timeout sends
 * no ICMP error (an error may not be about a non-first fragment). */
static void test_frag_timeout_first_missing(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = rig_udp_socket(r, PORT);
	static uint8_t dg[5000];
	struct usn_ipv4_repr ip;
	size_t n = udp_dgram(r, dg, 4000, 8, &ip);
	rig_send_frag(r, &ip, dg, 1480, 1480, true);
	rig_send_frag(r, &ip, dg, 2960, (uint32_t)n - 2960, false);
	rig_run(r);
	assert_int_equal(rig_in_use(r), r->base_in_use + 2);
	rig_clear(r);
	rig_advance(r, 31 * SEC);
	assert_int_equal(CTR(r, FRAG_DROP_TIMEOUT), 1);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_ICMP), 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* Bounded memory (reass.c bounds; RFC 791 §3.2 leaves it to the host): a
 * flood of incomplete datagrams, first with many datagrams, then with many
 * fragments each, never holds more than the slots and the buffer bound; the
 * evictions are counted, a fresh datagram still reassembles, and once
 * everything has timed out the pool is back to its baseline. */
static void test_frag_flood_bounded(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = rig_udp_socket(r, PORT);
	static uint8_t dg[2000];
	pattern(dg, sizeof(dg), 9);
	rig_reset_max(r);
	/* 1000 datagrams with only their first fragment */
	for (uint32_t i = 0; i < 1000; i++) {
		struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
		rig_send_frag(r, &ip, dg, 0, 1480, true);
		if (i % 50 == 49)
			rig_run(r);
	}
	rig_run(r);
	assert_int_equal(CTR(r, FRAG_RX_FRAGMENTS), 1000);
	assert_int_equal(CTR(r, FRAG_DROP_NO_MEMORY), 1000 - USN_REASS_SLOTS);
	assert_true(r->max_in_use <= r->base_in_use + USN_REASS_SLOTS + 50);
	assert_int_equal(r->s->ip.reass.nbufs, USN_REASS_SLOTS);
	/* 200 datagrams of 8 small middle fragments each */
	uint32_t bound = r->s->ip.reass.max_bufs;
	assert_true(bound < RIG_NBUFS / 2);
	rig_reset_max(r);
	for (uint32_t i = 0; i < 200; i++) {
		struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
		for (uint32_t k = 1; k <= 8; k++)
			rig_send_frag(r, &ip, dg, k * 8, 8, true);
		if (i % 8 == 7)
			rig_run(r);
	}
	rig_run(r);
	assert_true(r->s->ip.reass.nbufs <= bound);
	assert_true(r->max_in_use <= r->base_in_use + bound + 64);
	assert_true(CTR(r, FRAG_DROP_NO_MEMORY) > 1000 - USN_REASS_SLOTS);
	/* a fresh datagram still gets through */
	struct usn_ipv4_repr ip;
	size_t n = udp_dgram(r, dg, 1600, 10, &ip);
	send_frags(r, &ip, dg, n, 1480, NULL);
	rig_run(r);
	uint8_t got[1700], want[1600];
	pattern(want, sizeof(want), 10);
	assert_int_equal(usn_recvfrom(r->s, sd, got, sizeof(got), 0, NULL), 1600);
	assert_memory_equal(got, want, sizeof(want));
	/* everything times out */
	rig_advance(r, 31 * SEC);
	assert_int_equal(r->s->ip.reass.nbufs, 0);
	usn_close(r->s, sd);
	rig_advance(r, 5 * SEC);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frag_output_8000, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_frag_input_any_order, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_frag_overlap_kills_datagram, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_frag_duplicate_dropped, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_frag_bad_fragment, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_frag_timeout_first_held, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_frag_timeout_first_missing, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_frag_flood_bounded, rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
