/* SPDX-License-Identifier: MIT */
/*
 * test-udp.c - UDP (src/ip/udp.c), the socket table (src/stack/sock.c) and
 * the native API (include/usnet/usnet.h, src/api/api.c) seen from an
 * application and from the wire: errno values as the kernel gives them,
 * ephemeral ports (RFC 6056, Linux's range), the receive checks of RFC 768
 * and RFC 1122 §4.1.3.4 (checksum, zero checksum, length), port unreachable
 * (RFC 1122 §4.1.3.1) and its report to a connected socket (§4.1.3.3),
 * recvfrom truncation and peek, bounded receive queues, readiness events,
 * and closing sockets with queued data or pending events.
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

#define PORT 7777

static struct usn_addr peer(uint16_t port)
{
	return usn_addr_v4(RIG_PEER, port);
}

/* Kernel errno values of bind(2): -EADDRINUSE, -EADDRNOTAVAIL, -EINVAL on
 * a bound socket, -EAFNOSUPPORT for another family. */
static void test_udp_bind_errors(void **state)
{
	struct rig *r = *state;
	int a = usn_socket(r->s, USN_SOCK_DGRAM), b = usn_socket(r->s, USN_SOCK_DGRAM);
	assert_true(a >= 0 && b >= 0 && a != b);
	struct usn_addr any = usn_addr_v4(0, 5000), ours = usn_addr_v4(RIG_ADDR, 5000);
	assert_int_equal(usn_bind(r->s, a, &any), 0);
	assert_int_equal(usn_bind(r->s, b, &any), -EADDRINUSE);
	assert_int_equal(usn_bind(r->s, b, &ours), -EADDRINUSE);
	struct usn_addr other = usn_addr_v4(0x0a4d0009u, 5001);
	assert_int_equal(usn_bind(r->s, b, &other), -EADDRNOTAVAIL);
	struct usn_addr again = usn_addr_v4(0, 5002);
	assert_int_equal(usn_bind(r->s, a, &again), -EINVAL);
	struct usn_addr v6 = usn_addr_v4(0, 5003);
	v6.family = AF_INET6;
	assert_int_equal(usn_bind(r->s, b, &v6), -EAFNOSUPPORT);
	/* b is still unbound after its failures */
	struct usn_addr ours2 = usn_addr_v4(RIG_ADDR, 5004);
	assert_int_equal(usn_bind(r->s, b, &ours2), 0);
	struct usn_addr name;
	assert_int_equal(usn_getsockname(r->s, b, &name), 0);
	assert_int_equal(name.family, AF_INET);
	assert_int_equal(name.ip.v4, RIG_ADDR);
	assert_int_equal(name.port, 5004);
	/* the port of a closed socket is free again */
	assert_int_equal(usn_close(r->s, a), 0);
	int c = usn_socket(r->s, USN_SOCK_DGRAM);
	assert_int_equal(usn_bind(r->s, c, &any), 0);
	usn_close(r->s, b);
	usn_close(r->s, c);
}

/* RFC 6056 §3.3.1 over Linux's ip_local_port_range: port 0 (and an implicit
 * bind by sendto) picks distinct ports in 32768..60999. */
static void test_udp_ephemeral_port(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd[64];
	uint16_t port[64];
	for (int i = 0; i < 64; i++) {
		sd[i] = usn_socket(r->s, USN_SOCK_DGRAM);
		assert_true(sd[i] >= 0);
		struct usn_addr a = usn_addr_v4(0, 0), name;
		assert_int_equal(usn_bind(r->s, sd[i], &a), 0);
		assert_int_equal(usn_getsockname(r->s, sd[i], &name), 0);
		port[i] = name.port;
		assert_true(port[i] >= USN_EPHEMERAL_LO && port[i] <= USN_EPHEMERAL_HI);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(port[i], port[j]);
	}
	for (int i = 0; i < 64; i++)
		usn_close(r->s, sd[i]);
	int u = usn_socket(r->s, USN_SOCK_DGRAM);
	struct usn_addr to = peer(9), name;
	assert_int_equal(usn_sendto(r->s, u, "x", 1, 0, &to), 1);
	assert_int_equal(usn_getsockname(r->s, u, &name), 0);
	assert_true(name.port >= USN_EPHEMERAL_LO && name.port <= USN_EPHEMERAL_HI);
	rig_run(r);
	const uint8_t *p;
	struct usn_ipv4_repr ip;
	assert_int_equal(r->nframes, 1);
	assert_true(rig_frame_ipv4(&r->frames[0], NULL, &ip, &p));
	assert_int_equal(usn_get_be16(p), name.port);
	usn_close(r->s, u);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* sendto(2) errors: -EMSGSIZE over 65507 bytes (65535 - 20 - 8), -EACCES to a
 * broadcast without SO_BROADCAST, -ENETUNREACH off-link with no gateway,
 * -EDESTADDRREQ with no address on an unconnected socket, -EINVAL for port
 * 0, -EBADF, -EAFNOSUPPORT; usn_socket of an unknown type:
 * -EPROTONOSUPPORT. */
static void test_udp_sendto_errors(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	static uint8_t big[65508];
	struct usn_addr to = peer(9);
	assert_int_equal(usn_sendto(r->s, sd, big, 65508, 0, &to), -EMSGSIZE);
	struct usn_addr bc = usn_addr_v4(RIG_BCAST, 9), bc2 = usn_addr_v4(0xffffffffu, 9);
	assert_int_equal(usn_sendto(r->s, sd, "b", 1, 0, &bc), -EACCES);
	assert_int_equal(usn_sendto(r->s, sd, "b", 1, 0, &bc2), -EACCES);
	struct usn_addr far = usn_addr_v4(0x08080808u, 53);
	assert_int_equal(usn_sendto(r->s, sd, "f", 1, 0, &far), -ENETUNREACH);
	assert_int_equal(CTR(r, IP_DROP_NO_ROUTE), 1);
	assert_int_equal(usn_sendto(r->s, sd, "d", 1, 0, NULL), -EDESTADDRREQ);
	struct usn_addr p0 = peer(0);
	assert_int_equal(usn_sendto(r->s, sd, "p", 1, 0, &p0), -EINVAL);
	struct usn_addr v6 = peer(9);
	v6.family = AF_INET6;
	assert_int_equal(usn_sendto(r->s, sd, "6", 1, 0, &v6), -EAFNOSUPPORT);
	assert_int_equal(usn_sendto(r->s, -1, "x", 1, 0, &to), -EBADF);
	assert_int_equal(usn_sendto(r->s, 100000, "x", 1, 0, &to), -EBADF);
	assert_int_equal(usn_recvfrom(r->s, 4242, big, 10, 0, NULL), -EBADF);
	assert_int_equal(usn_bind(r->s, -7, &to), -EBADF);
	assert_int_equal(usn_connect(r->s, 4242, &to), -EBADF);
	assert_int_equal(usn_close(r->s, 4242), -EBADF);
	assert_int_equal(usn_socket_poll(r->s, 4242), -EBADF);
	assert_int_equal(usn_socket(r->s, 3), -EPROTONOSUPPORT); /* raw: not supported */
	assert_int_equal(usn_socket(r->s, 99), -EPROTONOSUPPORT);
	assert_int_equal(usn_socket(r->s, -1), -EPROTONOSUPPORT);
	rig_run(r);
	assert_int_equal(rig_count_ipv4(r, 0), 0); /* nothing went out */
	/* the largest datagram goes, in 45 fragments */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	assert_int_equal(usn_sendto(r->s, sd, big, 65507, 0, &to), 65507);
	rig_run(r);
	static uint8_t dg[65535];
	struct usn_ipv4_repr ip;
	assert_true(rig_frame_ipv4(&r->frames[0], NULL, &ip, NULL));
	uint32_t nfrags;
	assert_int_equal(rig_reassemble(r, ip.id, dg, sizeof(dg), &nfrags), 65515);
	assert_int_equal(nfrags, 45);
	assert_memory_equal(dg + 8, big, 65507);
	assert_int_equal(usn_close(r->s, sd), 0);
	assert_int_equal(usn_sendto(r->s, sd, "x", 1, 0, &to), -EBADF);
	assert_int_equal(usn_close(r->s, sd), -EBADF);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §4.1.3.4: a datagram with a non-zero, wrong checksum MUST be
 * silently discarded; a zero checksum means none was computed (RFC 768)
 * and the datagram is accepted. */
static void test_udp_rx_checksum(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t d[64];
	size_t n = rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, PORT, "checksum", 8);
	d[10] ^= 0x20;
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
	rig_send_ipv4(r, &ip, d, n);
	rig_run(r);
	assert_int_equal(CTR(r, UDP_DROP_BAD_CSUM), 1);
	char buf[64];
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), -EAGAIN);
	n = rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, PORT, "no-sum", 6);
	usn_put_be16(d + 6, 0);
	ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
	rig_send_ipv4(r, &ip, d, n);
	rig_run(r);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), 6);
	assert_memory_equal(buf, "no-sum", 6);
	assert_int_equal(CTR(r, UDP_DROP_BAD_CSUM), 1);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 768: the length field counts header and data; an IP payload longer
 * than it carries trailing bytes that are not the datagram's (trimmed); a
 * length field longer than the IP payload, or below 8, is impossible. */
static void test_udp_rx_length(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t d[64];
	/* UDP length 13 (5 bytes) inside an IP payload of 18 */
	rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, PORT, "short", 5);
	memcpy(d + 13, "TAILX", 5);
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, 18);
	rig_send_ipv4(r, &ip, d, 18);
	rig_run(r);
	char buf[64];
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), 5);
	assert_memory_equal(buf, "short", 5);
	/* UDP length 28 inside an IP payload of 18 */
	size_t n = rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, PORT, "0123456789", 10);
	usn_put_be16(d + 4, 28);
	ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
	rig_send_ipv4(r, &ip, d, n);
	/* UDP length 7 */
	n = rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, PORT, "0123456789", 10);
	usn_put_be16(d + 4, 7);
	ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
	rig_send_ipv4(r, &ip, d, n);
	/* an IP payload shorter than the UDP header */
	ip = rig_iphdr(r, USN_IPPROTO_UDP, 6);
	rig_send_ipv4(r, &ip, d, 6);
	rig_run(r);
	assert_int_equal(CTR(r, UDP_DROP_BAD_LEN), 2);
	assert_int_equal(CTR(r, UDP_DROP_TRUNCATED), 1);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), -EAGAIN);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 768 length rule on a reassembled datagram (RFC 791 §3.2): the
 * bytes past the UDP length span fragments and are cut from the chain; the
 * checksum covers an odd length. */
static void test_udp_rx_length_fragmented(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	static uint8_t data[3001], d[3100];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, PORT, data, 1501); /* UDP length 1509 */
	memcpy(d + 8 + 1501, data + 1501, 1500);                     /* trailing bytes */
	size_t n = 8 + sizeof(data);
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
	for (uint32_t off = 0; off < n; off += 1000) {
		uint32_t len = (uint32_t)USN_MIN(1000u, n - off);
		rig_send_frag(r, &ip, d, off, len, off + len < n);
	}
	rig_run(r);
	static uint8_t got[4000];
	assert_int_equal(usn_recvfrom(r->s, sd, got, sizeof(got), 0, NULL), 1501);
	assert_memory_equal(got, data, 1501);
	assert_int_equal(CTR(r, UDP_DROP_BAD_CSUM), 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
	usn_close(r->s, sd);
}

/* An empty datagram is sent (RFC 768: length 8) from a NULL buffer. */
static void test_udp_send_zero_length(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	struct usn_addr to = peer(9);
	assert_int_equal(usn_sendto(r->s, sd, NULL, 0, 0, &to), 0);
	assert_int_equal(usn_sendto(r->s, sd, NULL, 1, 0, &to), -EFAULT);
	rig_run(r);
	assert_int_equal(r->nframes, 1);
	struct usn_ipv4_repr ip;
	const uint8_t *p;
	assert_true(rig_frame_ipv4(&r->frames[0], NULL, &ip, &p));
	assert_int_equal(ip.payload_len, 8);
	assert_int_equal(usn_get_be16(p + 4), 8);
	assert_true(usn_udp_csum_ok(usn_get_be16(p + 6), RIG_ADDR, RIG_PEER, 8, usn_csum_partial(p, 8, 0)));
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* An exhausted pool is a normal condition: sendto says -ENOBUFS (usnet.h)
 * and counts it; nothing is half sent; once buffers are back it works. */
static void test_udp_sendto_enobufs(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	uint32_t *held = calloc(RIG_NBUFS, sizeof(*held));
	assert_non_null(held);
	uint32_t nheld = 0;
	/* leave 3 buffers: a 4-fragment datagram cannot go, a 1-frame one can */
	while (usn_pool_in_use(&r->s->pool) < RIG_NBUFS - 3)
		held[nheld++] = usn_buf_alloc(&r->s->pool);
	static uint8_t big[5000];
	struct usn_addr to = peer(9);
	assert_int_equal(usn_sendto(r->s, sd, big, sizeof(big), 0, &to), -ENOBUFS);
	assert_true(CTR(r, BUF_ALLOC_FAIL) >= 1);
	assert_int_equal(usn_pool_in_use(&r->s->pool), RIG_NBUFS - 3);
	rig_run(r);
	assert_int_equal(r->nframes, 0);
	assert_int_equal(usn_sendto(r->s, sd, "small", 5, 0, &to), 5);
	rig_run(r);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_UDP), 1);
	while (nheld > 0)
		usn_buf_free(&r->s->pool, held[--nheld]);
	free(held);
	assert_int_equal(usn_sendto(r->s, sd, big, sizeof(big), 0, &to), (ssize_t)sizeof(big));
	rig_run(r);
	assert_int_equal(rig_count_ipv4(r, USN_IPPROTO_UDP), 1 + 4);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* RFC 1122 §4.1.3.1: a datagram for a port with no socket is dropped
 * (counted) with an ICMP port unreachable; a socket bound to our address
 * gets datagrams for it. */
static void test_udp_closed_port(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	rig_send_udp(r, 5555, 6000, "closed", 6);
	rig_run(r);
	assert_int_equal(CTR(r, UDP_DROP_NO_PORT), 1);
	assert_int_equal(rig_count_icmp(r, USN_ICMP_DEST_UNREACH), 1);
	assert_int_equal(CTR(r, ICMP_TX_PORT_UNREACH), 1);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	struct usn_addr a = usn_addr_v4(RIG_ADDR, 6000);
	assert_int_equal(usn_bind(r->s, sd, &a), 0);
	rig_clear(r);
	rig_send_udp(r, 5555, 6000, "open", 4);
	rig_run(r);
	char buf[16];
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), 4);
	assert_int_equal(r->nframes, 0);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* A port unreachable from the peer quoting a datagram we sent
 * (RFC 792: header + 8 bytes). */
static void send_port_unreach(struct rig *r, const struct rig_frame *sent)
{
	uint8_t msg[64];
	const uint8_t *q = sent->data + USN_ETH_HLEN;
	struct usn_icmp_repr m = {
		.type = USN_ICMP_DEST_UNREACH, .code = USN_ICMP_PORT_UNREACH, .data = q, .data_len = 28,
	};
	int n = usn_icmp_emit(&m, msg, sizeof(msg));
	assert_int_equal(n, 36);
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_ICMP, (size_t)n);
	rig_send_ipv4(r, &ip, msg, (size_t)n);
}

/* RFC 1122 §4.1.3.3: UDP MUST pass ICMP errors to the application; as
 * Linux, a connected socket reports a port unreachable as -ECONNREFUSED,
 * once; an unconnected one does not. A connected socket only takes
 * datagrams from its peer. */
static void test_udp_connected_econnrefused(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	struct usn_addr to = peer(9);
	struct usn_addr far = usn_addr_v4(0x08080808u, 9);
	assert_int_equal(usn_connect(r->s, sd, &far), -ENETUNREACH);
	struct usn_addr p0 = peer(0);
	assert_int_equal(usn_connect(r->s, sd, &p0), -EINVAL);
	assert_int_equal(usn_connect(r->s, sd, &to), 0);
	assert_int_equal(usn_socket_set_udata(r->s, sd, r), 0);
	assert_int_equal(usn_sendto(r->s, sd, "ping", 4, 0, NULL), 4);
	rig_run(r);
	assert_int_equal(r->nframes, 1);
	struct usn_event ev[4];
	assert_int_equal(usn_events(r->s, ev, 4), 0);
	send_port_unreach(r, &r->frames[0]);
	rig_run(r);
	assert_int_equal(CTR(r, ICMP_RX_DEST_UNREACH), 1);
	int pe = usn_socket_poll(r->s, sd);
	assert_true(pe >= 0);
	assert_true((uint32_t)pe & USN_EV_ERR);
	assert_int_equal(usn_events(r->s, ev, 4), 1);
	assert_int_equal(ev[0].sd, sd);
	assert_true(ev[0].events & USN_EV_ERR);
	assert_ptr_equal(ev[0].udata, r);
	char buf[16];
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), -ECONNREFUSED);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), -EAGAIN);
	assert_false((uint32_t)usn_socket_poll(r->s, sd) & USN_EV_ERR);

	/* the connected socket filters: another source port is not its peer */
	struct usn_addr name;
	usn_getsockname(r->s, sd, &name);
	rig_send_udp(r, 10, name.port, "other", 5);
	rig_send_udp(r, 9, name.port, "peer", 4);
	rig_run(r);
	struct usn_addr from;
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, &from), 4);
	assert_memory_equal(buf, "peer", 4);
	assert_int_equal(from.port, 9);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), -EAGAIN);

	/* an unconnected socket gets no error */
	int u = usn_socket(r->s, USN_SOCK_DGRAM);
	rig_clear(r);
	assert_int_equal(usn_sendto(r->s, u, "ping", 4, 0, &to), 4);
	rig_run(r);
	assert_int_equal(r->nframes, 1);
	send_port_unreach(r, &r->frames[0]);
	rig_run(r);
	assert_int_equal(CTR(r, ICMP_RX_DEST_UNREACH), 2);
	assert_int_equal(usn_recvfrom(r->s, u, buf, sizeof(buf), 0, NULL), -EAGAIN);
	usn_close(r->s, sd);
	usn_close(r->s, u);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* recvfrom(2) as Linux: a short buffer gets the start of the datagram and
 * the rest is lost; USN_MSG_TRUNC returns the real length; USN_MSG_PEEK
 * leaves the datagram queued. */
static void test_udp_recv_trunc_peek(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	uint8_t data[100];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i + 1);
	rig_send_udp(r, 5555, PORT, data, sizeof(data));
	rig_send_udp(r, 5556, PORT, "second", 6);
	rig_run(r);
	uint8_t buf[128];
	struct usn_addr from;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(usn_recvfrom(r->s, sd, buf, 10, USN_MSG_PEEK, &from), 10);
	assert_memory_equal(buf, data, 10);
	assert_int_equal(buf[10], 0); /* nothing past the buffer */
	assert_int_equal(from.port, 5555);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, 10, USN_MSG_PEEK | USN_MSG_TRUNC, NULL), 100);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), USN_MSG_PEEK, NULL), 100);
	assert_memory_equal(buf, data, 100);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, 10, USN_MSG_TRUNC, NULL), 100);
	assert_memory_equal(buf, data, 10);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, 3, 0, &from), 3);
	assert_memory_equal(buf, "sec", 3);
	assert_int_equal(from.port, 5556);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), -EAGAIN);
	/* a zero-length datagram is a datagram */
	rig_send_udp(r, 5555, PORT, NULL, 0);
	rig_run(r);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), 0);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), -EAGAIN);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* A socket's queue is bounded by its receive buffer (as Linux's rmem):
 * past it datagrams are dropped and counted, and the stack's pool use stays
 * bounded; reading makes room again. */
static void test_udp_rcvbuf_overflow(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	rig_reset_max(r);
	for (int i = 0; i < 600; i++) {
		rig_send_udp(r, 5555, PORT, &i, sizeof(i));
		if (i % 50 == 49)
			rig_run(r);
	}
	rig_run(r);
	uint64_t drops = CTR(r, UDP_DROP_RCVBUF_FULL);
	assert_true(drops > 0);
	uint32_t queued = 600 - (uint32_t)drops;
	assert_true(queued >= 1);
	assert_true(queued <= USN_UDP_RXQ);
	assert_true(r->max_in_use <= r->base_in_use + queued + 50 + 2);
	assert_true(r->max_in_use < RIG_NBUFS / 2);
	/* the first ones are kept, in order */
	for (uint32_t i = 0; i < queued; i++) {
		int v = -1;
		assert_int_equal(usn_recvfrom(r->s, sd, &v, sizeof(v), 0, NULL), sizeof(v));
		assert_int_equal(v, (int)i);
	}
	assert_int_equal(usn_recvfrom(r->s, sd, NULL, 0, 0, NULL), -EAGAIN);
	assert_int_equal(rig_in_use(r), r->base_in_use);
	rig_send_udp(r, 5555, PORT, "room", 4);
	rig_run(r);
	char buf[8];
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), 4);
	assert_int_equal(CTR(r, UDP_DROP_RCVBUF_FULL), drops);
	usn_close(r->s, sd);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* usnet.h readiness: a socket is reported once when it becomes readable,
 * with its udata, and again only after it was read empty. */
static void test_udp_events_once(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	int quiet = rig_udp_socket(r, PORT + 1);
	int tag;
	assert_int_equal(usn_socket_set_udata(r->s, sd, &tag), 0);
	assert_int_equal(usn_socket_set_udata(r->s, 4242, &tag), -EBADF);
	struct usn_event ev[8];
	assert_int_equal(usn_events(r->s, ev, 8), 0);
	assert_int_equal(usn_socket_poll(r->s, sd), (int)USN_EV_OUT);
	for (int i = 0; i < 3; i++)
		rig_send_udp(r, 5555, PORT, "e", 1);
	rig_run(r);
	assert_int_equal(usn_stack_poll(r->s, 0), 1);
	assert_int_equal(usn_events(r->s, ev, 8), 1);
	assert_int_equal(ev[0].sd, sd);
	assert_int_equal(ev[0].events, USN_EV_IN | USN_EV_OUT);
	assert_ptr_equal(ev[0].udata, &tag);
	assert_int_equal(usn_events(r->s, ev, 8), 0);
	/* more data while not yet read empty: no new event */
	rig_send_udp(r, 5555, PORT, "f", 1);
	rig_run(r);
	assert_int_equal(usn_events(r->s, ev, 8), 0);
	char buf[8];
	for (int i = 0; i < 4; i++)
		assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), 1);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), -EAGAIN);
	rig_send_udp(r, 5555, PORT, "g", 1);
	rig_run(r);
	assert_int_equal(usn_events(r->s, ev, 8), 1);
	assert_int_equal(ev[0].sd, sd);
	assert_ptr_equal(ev[0].udata, &tag);
	/* max bounds what is handed out; the rest waits */
	rig_send_udp(r, 5555, PORT + 1, "h", 1);
	assert_int_equal(usn_recvfrom(r->s, sd, buf, sizeof(buf), 0, NULL), 1);
	rig_send_udp(r, 5555, PORT, "i", 1);
	rig_run(r);
	assert_int_equal(usn_events(r->s, ev, 1), 1);
	assert_int_equal(ev[0].sd, quiet);
	assert_null(ev[0].udata);
	assert_int_equal(usn_events(r->s, ev, 1), 1);
	assert_int_equal(ev[0].sd, sd);
	assert_int_equal(usn_events(r->s, ev, 8), 0);
	usn_close(r->s, sd);
	usn_close(r->s, quiet);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* Closing a socket whose readiness event is pending is safe: the event is
 * not reported, the descriptor is not handed out while the event is queued
 * and is reused once it has gone; its queued data is freed. */
static void test_udp_close_on_ready_list(void **state)
{
	struct rig *r = *state;
	rig_learn_peer(r);
	int sd = rig_udp_socket(r, PORT);
	int other = rig_udp_socket(r, PORT + 1);
	rig_send_udp(r, 5555, PORT, "r", 1);
	rig_send_udp(r, 5555, PORT + 1, "o", 1);
	rig_run(r);
	assert_int_equal(rig_in_use(r), r->base_in_use + 2);
	assert_int_equal(usn_close(r->s, sd), 0);
	assert_int_equal(rig_in_use(r), r->base_in_use + 1);
	assert_int_equal(usn_close(r->s, sd), -EBADF);
	assert_int_equal(usn_socket_poll(r->s, sd), -EBADF);
	int b = usn_socket(r->s, USN_SOCK_DGRAM);
	assert_true(b >= 0);
	assert_int_not_equal(b, sd); /* still on the ready list */
	struct usn_event ev[8];
	assert_int_equal(usn_events(r->s, ev, 8), 1);
	assert_int_equal(ev[0].sd, other);
	int c = usn_socket(r->s, USN_SOCK_DGRAM);
	assert_int_equal(c, sd); /* the descriptor is free again */
	assert_int_equal(usn_events(r->s, ev, 8), 0);
	/* the new socket on the old descriptor is a fresh one */
	char buf[8];
	assert_int_equal(usn_recvfrom(r->s, c, buf, sizeof(buf), 0, NULL), -EAGAIN);
	rig_send_udp(r, 5555, PORT, "z", 1); /* the old port is closed */
	rig_run(r);
	assert_int_equal(CTR(r, UDP_DROP_NO_PORT), 1);
	usn_close(r->s, b);
	usn_close(r->s, c);
	usn_close(r->s, other);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}

/* Closing sockets with queued datagrams, one of them reassembled from
 * fragments (a chain of buffers), returns every buffer. */
static void test_udp_close_frees_queued(void **state)
{
	struct rig *r = *state;
	int sd = rig_udp_socket(r, PORT);
	int sd2 = rig_udp_socket(r, PORT + 1);
	for (int i = 0; i < 5; i++) {
		rig_send_udp(r, 5555, PORT, "q", 1);
		rig_send_udp(r, 5555, PORT + 1, "qq", 2);
	}
	static uint8_t data[5000], d[5100];
	memset(data, 0x5a, sizeof(data));
	size_t n = rig_udp_build(d, RIG_PEER, RIG_ADDR, 5555, PORT, data, sizeof(data));
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
	for (uint32_t off = 0; off < n; off += 1480) {
		uint32_t len = (uint32_t)USN_MIN(1480u, n - off);
		rig_send_frag(r, &ip, d, off, len, off + len < n);
	}
	rig_run(r);
	assert_int_equal(CTR(r, FRAG_REASSEMBLED), 1);
	assert_int_equal(rig_in_use(r), r->base_in_use + 10 + 4);
	assert_int_equal(usn_close(r->s, sd), 0);
	assert_int_equal(rig_in_use(r), r->base_in_use + 5);
	assert_int_equal(usn_close(r->s, sd2), 0);
	assert_int_equal(rig_in_use(r), r->base_in_use);
	struct usn_event ev[4];
	assert_int_equal(usn_events(r->s, ev, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp_bind_errors, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_ephemeral_port, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_sendto_errors, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_rx_checksum, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_rx_length, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_rx_length_fragmented, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_send_zero_length, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_sendto_enobufs, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_closed_port, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_connected_econnrefused, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_recv_trunc_peek, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_rcvbuf_overflow, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_events_once, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_close_on_ready_list, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_udp_close_frees_queued, rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
