/* SPDX-License-Identifier: MIT */
/*
 * test-ipv4.c - IPv4 input and output of a stack (src/ip/ip.c) seen from
 * the wire: the header checks of RFC 791 §3.1 and RFC 1122 §3.2.1 (version,
 * checksum, IHL, total length), addressing (RFC 1122 §3.2.1.3: not for us,
 * martian sources; §3.3.6: unicast in a link-layer broadcast), link padding
 * (RFC 894), options skipped, protocol unreachable (RFC 1122 §3.2.2.1),
 * routing through the gateway (RFC 1122 §3.3.1.1) and the header of what
 * the stack sends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "rig.h"

#define PORT 7777

/* A UDP datagram from the peer to PORT in a frame; returns its length. */
static size_t udp_frame(struct rig *r, uint8_t *f, struct usn_ipv4_repr *ip, const char *msg)
{
	uint8_t d[256];
	size_t n = rig_udp_build(d, ip->src, ip->dst, 5555, PORT, msg, strlen(msg));
	(void)r;
	return rig_ipv4_frame(f, rig_stack_mac, ip, d, n);
}

/* Fixes the header checksum after a test changed a header byte. */
static void ip_recsum(uint8_t *iph)
{
	size_t hlen = (size_t)(iph[0] & 0x0f) * 4;
	usn_put_be16(iph + 10, 0);
	usn_put_be16(iph + 10, usn_csum_finish(usn_csum_partial(iph, hlen, 0)));
}

static int pending(struct rig *r, int sd)
{
	int n = 0;
	uint8_t buf[2048];
	while (usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL) >= 0)
		n++;
	return n;
}

/* A good datagram is delivered: the baseline the drop tests differ from. */
static void test_ipv4_good_delivered(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t f[256];
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	rig_send(r, f, udp_frame(r, f, &ip, "good"));
	rig_run(r);
	char buf[16];
	struct usn_addr from;
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, &from), 4);
	assert_memory_equal(buf, "good", 4);
	assert_int_equal(from.family, AF_INET);
	assert_int_equal(from.ip.v4, RIG_PEER);
	assert_int_equal(from.port, 5555);
	assert_int_equal(CTR(r, IP_RX_PACKETS), 1);
	assert_int_equal(CTR(r, IP_RX_DELIVERED), 1);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.2.1.2: a datagram with a bad header checksum MUST be silently
 * discarded. */
static void test_ipv4_bad_csum(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t f[256];
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	size_t n = udp_frame(r, f, &ip, "bad");
	f[USN_ETH_HLEN + 10] ^= 0x01;
	rig_send(r, f, n);
	/* a changed field with the old checksum */
	ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	n = udp_frame(r, f, &ip, "bad");
	f[USN_ETH_HLEN + 8] = 63;
	rig_send(r, f, n);
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_BAD_CSUM), 2);
	assert_int_equal(CTR(r, UDP_RX_DATAGRAMS), 0);
	assert_int_equal(pending(r, sd), 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.2.1.1: a datagram whose version is not 4 MUST be silently
 * discarded. */
static void test_ipv4_bad_version(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t f[256];
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	size_t n = udp_frame(r, f, &ip, "v6");
	f[USN_ETH_HLEN] = 0x65;
	ip_recsum(f + USN_ETH_HLEN);
	rig_send(r, f, n);
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_BAD_VERSION), 1);
	assert_int_equal(pending(r, sd), 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 791 §3.1: "the minimum value for a correct header is 5" (IHL). */
static void test_ipv4_bad_ihl(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t f[256];
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
		size_t n = udp_frame(r, f, &ip, "ihl");
		f[USN_ETH_HLEN] = (uint8_t)(0x40 | ihl);
		usn_put_be16(f + USN_ETH_HLEN + 10, 0);
		usn_put_be16(f + USN_ETH_HLEN + 10, usn_csum_finish(usn_csum_partial(f + USN_ETH_HLEN, 20, 0)));
		rig_send(r, f, n);
	}
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_BAD_HDR_LEN), 5);
	assert_int_equal(pending(r, sd), 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 791 §3.1 / RFC 1122 §3.2.1: a total length beyond the frame is a
 * truncated datagram; one below the header length is impossible. */
static void test_ipv4_total_len_over_frame(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t f[256];
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	size_t n = udp_frame(r, f, &ip, "long");
	usn_put_be16(f + USN_ETH_HLEN + 2, (uint16_t)(n - USN_ETH_HLEN + 1));
	ip_recsum(f + USN_ETH_HLEN);
	rig_send(r, f, n);
	ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	n = udp_frame(r, f, &ip, "short");
	usn_put_be16(f + USN_ETH_HLEN + 2, 19);
	ip_recsum(f + USN_ETH_HLEN);
	rig_send(r, f, n);
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_TRUNCATED), 1);
	assert_int_equal(CTR(r, IP_DROP_BAD_LEN), 1);
	assert_int_equal(CTR(r, UDP_RX_DATAGRAMS), 0);
	assert_int_equal(pending(r, sd), 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* A frame too short for the IPv4 header, or for Ethernet's. */
static void test_ipv4_truncated(void **state)
{
	struct rig *r = *state;
	uint8_t f[256];
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	udp_frame(r, f, &ip, "x");
	rig_send(r, f, USN_ETH_HLEN + 19);
	rig_send(r, f, USN_ETH_HLEN);
	rig_send(r, f, 13);
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_TRUNCATED), 2);
	assert_int_equal(CTR(r, ETH_DROP_TRUNCATED), 1);
	assert_int_equal(CTR(r, IP_RX_DELIVERED), 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.3.4.2 / §3.2.1.3: a host is not a router; a datagram for
 * another address is silently discarded (no ICMP), as is a frame for
 * another MAC. */
static void test_ipv4_not_for_us(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = rig_udp_socket(r, PORT);
	uint8_t f[256];
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	ip.dst = 0x0a4d0003u;
	rig_send(r, f, udp_frame(r, f, &ip, "other"));
	ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	ip.dst = 0x08080808u;
	rig_send(r, f, udp_frame(r, f, &ip, "other"));
	ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	size_t n = udp_frame(r, f, &ip, "mac");
	f[5] = 0x77; /* another host's MAC */
	rig_send(r, f, n);
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_NOT_FOR_US), 2);
	assert_int_equal(CTR(r, ETH_DROP_NOT_FOR_US), 1);
	assert_int_equal(pending(r, sd), 0);
	assert_int_equal(r->nframes, 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.2.1.3 / RFC 1812 §5.3.7: a datagram from {0, x}, loopback,
 * multicast, class E, the limited or subnet broadcast, or from our own
 * address is discarded, without an ICMP error (§3.2.2). Sent to a closed
 * port, so an error would show. */
static void test_ipv4_martian_src(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	static const uint32_t bad[] = {
		0x00000000u, 0x00010203u, 0x7f000001u, 0xe0000001u, 0xefffffffu,
		0xf0000001u, 0xffffffffu, RIG_ADDR, RIG_BCAST,
	};
	uint8_t f[256];
	for (size_t i = 0; i < USN_ARRAY_SIZE(bad); i++) {
		struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
		ip.src = bad[i];
		rig_send(r, f, udp_frame(r, f, &ip, "martian"));
	}
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_MARTIAN_SRC), USN_ARRAY_SIZE(bad));
	assert_int_equal(CTR(r, UDP_RX_DATAGRAMS), 0);
	assert_int_equal(CTR(r, ICMP_TX_PORT_UNREACH), 0);
	assert_int_equal(r->nframes, 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.3.6: a unicast datagram that arrived in a link-layer
 * broadcast SHOULD be discarded; a broadcast one is accepted
 * (RFC 1122 §3.2.1.3) and delivered to a socket bound to 0.0.0.0. */
static void test_ipv4_unicast_in_l2_broadcast(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t f[256];
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	size_t n = udp_frame(r, f, &ip, "uni");
	memcpy(f, rig_bcast_mac, 6);
	rig_send(r, f, n);
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_NOT_FOR_US), 1);
	assert_int_equal(pending(r, sd), 0);
	static const uint32_t bc[] = {RIG_BCAST, 0xffffffffu};
	for (size_t i = 0; i < 2; i++) {
		ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
		ip.dst = bc[i];
		n = udp_frame(r, f, &ip, "bcast");
		memcpy(f, rig_bcast_mac, 6);
		rig_send(r, f, n);
	}
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_NOT_FOR_US), 1);
	assert_int_equal(pending(r, sd), 2);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 894: short frames are padded to 60 bytes; the padding after the IPv4
 * total length is not payload (the UDP checksum would fail on it). */
static void test_ipv4_eth_padding_ignored(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t f[256];
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 0);
	size_t n = udp_frame(r, f, &ip, "p");
	assert_int_equal(n, 14 + 20 + 8 + 1);
	memset(f + n, 0xa5, USN_ETH_MIN_FRAME - n);
	rig_send(r, f, USN_ETH_MIN_FRAME);
	rig_run(r);
	char buf[64];
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), 1);
	assert_int_equal(buf[0], 'p');
	assert_int_equal(CTR(r, UDP_DROP_BAD_CSUM), 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 791 §3.1 (options) / RFC 1122 §3.2.1.8: options are skipped (IHL
 * says where the payload starts) and the datagram is delivered. */
static void test_ipv4_options_skipped(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	static const uint8_t opts[][12] = {
		{0x94, 0x04, 0x00, 0x00},                         /* router alert */
		{0x01, 0x01, 0x01, 0x00},                         /* NOP NOP NOP EOL */
		{0x44, 0x0c, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}, /* timestamp */
	};
	static const size_t olen[] = {4, 4, 12};
	for (size_t i = 0; i < 3; i++) {
		uint8_t d[64], f[256];
		char msg[8] = "opt-0";
		msg[4] = (char)('0' + i);
		size_t dl = rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, PORT, msg, 5);
		size_t n = rig_eth(f, rig_stack_mac, rig_peer_mac, USN_ETHERTYPE_IPV4);
		struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, dl + olen[i]);
		usn_ipv4_emit(&ip, f + n, 20); /* total length counts the options */
		f[n] = (uint8_t)(0x40 | ((20 + olen[i]) / 4));
		memcpy(f + n + 20, opts[i], olen[i]);
		ip_recsum(f + n);
		memcpy(f + n + 20 + olen[i], d, dl);
		rig_send(r, f, n + 20 + olen[i] + dl);
	}
	rig_run(r);
	for (size_t i = 0; i < 3; i++) {
		char buf[64];
		struct usn_addr from;
		assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, &from), 5);
		assert_memory_equal(buf, "opt-", 4);
		assert_int_equal(buf[4], '0' + (int)i);
		assert_int_equal(from.ip.v4, RIG_PEER);
		assert_int_equal(from.port, 5555);
	}
	assert_int_equal(CTR(r, IP_RX_DELIVERED), 3);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.2.2.1: a datagram for a protocol we do not have gets a
 * protocol unreachable (type 3 code 2) quoting its header and the start of
 * its data (RFC 792); never for a broadcast (RFC 1122 §3.2.2). */
static void test_ipv4_unknown_proto(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	uint8_t pl[40], f[256];
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 3 + 1);
	struct usn_ipv4_repr ip = rig_iphdr(r, 253, sizeof(pl));
	size_t n = rig_ipv4_frame(f, rig_stack_mac, &ip, pl, sizeof(pl));
	rig_send(r, f, n);
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_UNKNOWN_PROTO), 1);
	int i = rig_find_icmp(r, USN_ICMP_DEST_UNREACH, 0);
	assert_true(i >= 0);
	struct usn_ipv4_repr eip;
	const uint8_t *p;
	rig_frame_ipv4(&r->frames[i], NULL, &eip, &p);
	assert_int_equal(eip.src, RIG_ADDR);
	assert_int_equal(eip.dst, RIG_PEER);
	struct usn_icmp_repr m;
	assert_int_equal(usn_icmp_parse(p, eip.payload_len, &m, 0), USN_WIRE_OK);
	assert_int_equal(m.code, USN_ICMP_PROTO_UNREACH);
	assert_int_equal(m.rest, 0);
	assert_true(m.data_len >= 20 + 8);
	assert_memory_equal(m.data, f + USN_ETH_HLEN, USN_MIN(m.data_len, 20 + sizeof(pl)));
	/* to a broadcast: dropped, no error */
	rig_clear(r);
	ip = rig_iphdr(r, 253, sizeof(pl));
	ip.dst = RIG_BCAST;
	n = rig_ipv4_frame(f, rig_bcast_mac, &ip, pl, sizeof(pl));
	rig_send(r, f, n);
	rig_run(r);
	assert_int_equal(CTR(r, IP_DROP_UNKNOWN_PROTO), 2);
	assert_int_equal(r->nframes, 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* What the stack sends: RFC 791 §3.1 header with version 4, IHL 5, TTL 64
 * (RFC 1122 §3.2.1.7: a fixed default), DF clear, a valid checksum, our
 * address as source (RFC 1122 §4.1.3.5), distinct ids (RFC 791 §3.2), and
 * a UDP header with a valid checksum (RFC 1122 §4.1.3.4). */
static void test_ipv4_udp_output_header(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = rig_udp_socket(r, 4000);
	uint8_t data[100];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xc0 ^ i);
	struct usn_addr to = usn_addr_v4(RIG_PEER, 53);
	assert_int_equal(usn_sendto(r->s, sd, data, sizeof(data), 0, &to), (ssize_t)sizeof(data));
	assert_int_equal(usn_sendto(r->s, sd, data, sizeof(data), 0, &to), (ssize_t)sizeof(data));
	rig_run(r);
	assert_int_equal(r->nframes, 2);
	const uint8_t *h = r->frames[0].data + USN_ETH_HLEN;
	assert_int_equal(r->frames[0].len, USN_ETH_HLEN + 20 + 8 + sizeof(data));
	assert_int_equal(h[0], 0x45);
	assert_int_equal(h[1], 0);
	assert_int_equal(usn_get_be16(h + 2), 20 + 8 + sizeof(data));
	assert_int_equal(usn_get_be16(h + 6), 0x0000); /* DF, MF clear, offset 0 */
	assert_int_equal(h[8], 64);
	assert_int_equal(h[9], USN_IPPROTO_UDP);
	assert_int_equal(usn_csum_fold(usn_csum_partial(h, 20, 0)), 0xffff);
	assert_int_equal(usn_get_be32(h + 12), RIG_ADDR);
	assert_int_equal(usn_get_be32(h + 16), RIG_PEER);
	const uint8_t *u = h + 20;
	struct usn_udp_repr ur;
	assert_int_equal(usn_udp_parse(u, 8 + sizeof(data), &ur), USN_WIRE_OK);
	assert_int_equal(ur.src_port, 4000);
	assert_int_equal(ur.dst_port, 53);
	assert_int_equal(ur.len, 8 + sizeof(data));
	assert_true(ur.csum != 0);
	assert_true(usn_udp_csum_ok(ur.csum, RIG_ADDR, RIG_PEER, ur.len, usn_csum_partial(u, ur.len, 0)));
	assert_memory_equal(u + 8, data, sizeof(data));
	const uint8_t *h2 = r->frames[1].data + USN_ETH_HLEN;
	assert_int_not_equal(usn_get_be16(h + 4), usn_get_be16(h2 + 4));
	assert_int_equal(CTR(r, IP_TX_PACKETS), 2);
	assert_int_equal(CTR(r, UDP_TX_DATAGRAMS), 2);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §3.3.1.1: an off-link destination goes to the gateway's MAC
 * (resolved by ARP), the IP destination unchanged. */
static void test_ipv4_route_via_gateway(void **state)
{
	struct rig *r = *state;
	r->s->ip.gw = RIG_PEER;
	rig_learn_peer(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	struct usn_addr to = usn_addr_v4(0x08080808u, 53);
	assert_int_equal(usn_sendto(r->s, sd, "q", 1, 0, &to), 1);
	rig_run(r);
	assert_int_equal(r->nframes, 1);
	struct usn_eth_repr eth;
	struct usn_ipv4_repr ip;
	assert_true(rig_frame_ipv4(&r->frames[0], &eth, &ip, NULL));
	assert_memory_equal(eth.dst, rig_peer_mac, 6);
	assert_int_equal(ip.dst, 0x08080808u);
	assert_int_equal(ip.src, RIG_ADDR);
	/* no loopback through the wire: our own address has no route */
	to = usn_addr_v4(RIG_ADDR, 53);
	assert_int_equal(usn_sendto(r->s, sd, "q", 1, 0, &to), -ENETUNREACH);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ipv4_good_delivered, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_bad_csum, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_bad_version, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_bad_ihl, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_total_len_over_frame, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_truncated, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_not_for_us, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_martian_src, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_unicast_in_l2_broadcast, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_eth_padding_ignored, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_options_skipped, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_unknown_proto, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_udp_output_header, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_route_via_gateway, rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
