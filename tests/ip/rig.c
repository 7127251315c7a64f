/* SPDX-License-Identifier: MIT */
/*
 * rig.c - the test rig of tests/ip (see rig.h). Not a test by itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rig.h"

const uint8_t rig_stack_mac[USN_ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const uint8_t rig_peer_mac[USN_ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t rig_bcast_mac[USN_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->frames = calloc(RIG_MAX_FRAMES, sizeof(*r->frames));
	assert_non_null(r->frames);
	struct usn_config cfg;
	usn_config_init(&cfg);
	cfg.addr = RIG_ADDR;
	cfg.prefix_len = 24;
	cfg.seed = 0x1d5eed;
	cfg.nbufs = RIG_NBUFS;
	cfg.virtual_time = 1;
	cfg.log_level = 0;
	char err[256];
	assert_int_equal(usn_stack_create(&cfg, &r->s, err, sizeof(err)), 0);
	assert_int_equal(usn_pool_init(&r->pool, RIG_PEER_NBUFS, USN_BUF_SIZE, USN_BUF_HEADROOM), 0);
	assert_int_equal(usn_memlink_create(&r->s->pool, &r->pool, 77, &r->link, &r->da, &r->db), 0);
	r->base_in_use = usn_pool_in_use(&r->s->pool);
	r->next_id = 0x4000;
	usn_stack_attach_dev(r->s, r->da, rig_stack_mac);
	rig_run(r);
	rig_reset_max(r);
	assert_int_equal(rig_in_use(r), r->base_in_use);
	*state = r;
	return 0;
}

int rig_teardown(void **state)
{
	struct rig *r = *state;
	/* As tests/sim: detach the link's device first, so the link frees the
	 * frames in flight into live pools, then the stack. */
	r->s->dev = NULL;
	r->s->ip.dev = NULL;
	usn_memlink_destroy(r->link);
	usn_stack_destroy(r->s);
	assert_int_equal(usn_pool_in_use(&r->pool), 0);
	usn_pool_fini(&r->pool);
	free(r->frames);
	free(r);
	return 0;
}

uint32_t rig_in_use(const struct rig *r)
{
	return usn_pool_in_use(&r->s->pool);
}

void rig_reset_max(struct rig *r)
{
	r->max_in_use = rig_in_use(r);
}

static void note_use(struct rig *r)
{
	uint32_t u = rig_in_use(r);
	if (u > r->max_in_use)
		r->max_in_use = u;
}

/* Takes what reached the peer by r->now into r->frames. */
static void drain(struct rig *r)
{
	uint32_t bufs[64];
	int n;
	while ((n = usn_dev_rx_burst(r->db, bufs, 64, r->now)) > 0) {
		for (int i = 0; i < n; i++) {
			uint32_t len = usn_buf_len(&r->pool, bufs[i]);
			assert_true(len <= RIG_FRAME_MAX);
			if (r->nframes < RIG_MAX_FRAMES) {
				struct rig_frame *f = &r->frames[r->nframes++];
				f->t = r->now;
				f->len = len;
				memcpy(f->data, usn_buf_data(&r->pool, bufs[i]), len);
			} else {
				r->lost_frames++;
			}
			usn_buf_free(&r->pool, bufs[i]);
		}
	}
}

void rig_pass(struct rig *r)
{
	usn_stack_set_time(r->s, r->now);
	note_use(r);
	usn_stack_run(r->s);
	note_use(r);
	drain(r);
}

void rig_run(struct rig *r)
{
	/* One pass takes a bounded batch: loop until the wire to A is empty
	 * and, as an application's loop does, while output waits for the
	 * next pass (the stack's timeout is 0 then). */
	for (int pass = 0; pass < 1000; pass++) {
		rig_pass(r);
		uint64_t next = usn_memlink_next_arrival(r->link);
		bool wire = usn_memlink_in_flight(r->link, 1) > 0 && next <= r->now;
		if (!wire && usn_stack_timeout_ms(r->s) != 0)
			break;
	}
}

void rig_advance_to(struct rig *r, uint64_t t)
{
	for (;;) {
		rig_run(r);
		uint64_t next = USN_MIN(usn_stack_next_timer(r->s), usn_memlink_next_arrival(r->link));
		if (next <= r->now)
			next = r->now + 1;
		if (next > t) {
			r->now = t;
			rig_run(r);
			return;
		}
		r->now = next;
	}
}

void rig_advance(struct rig *r, uint64_t ns)
{
	rig_advance_to(r, r->now + ns);
}

void rig_clear(struct rig *r)
{
	r->nframes = 0;
	r->lost_frames = 0;
}

void rig_send(struct rig *r, const uint8_t *frame, size_t len)
{
	uint32_t b = usn_buf_alloc(&r->pool);
	assert_true(b != USN_BUF_NONE);
	uint8_t *p = usn_buf_put(&r->pool, b, (uint32_t)len);
	assert_non_null(p);
	memcpy(p, frame, len);
	assert_int_equal(usn_dev_tx_burst(r->db, &b, 1, r->now), 1);
	note_use(r);
}

size_t rig_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	struct usn_eth_repr e = {.ethertype = type};
	memcpy(e.dst, dst, USN_ETH_ALEN);
	memcpy(e.src, src, USN_ETH_ALEN);
	assert_int_equal(usn_eth_emit(&e, f, USN_ETH_HLEN), USN_ETH_HLEN);
	return USN_ETH_HLEN;
}

struct usn_ipv4_repr rig_iphdr(struct rig *r, uint8_t proto, size_t payload_len)
{
	struct usn_ipv4_repr ip = {
		.src = RIG_PEER, .dst = RIG_ADDR, .proto = proto, .ttl = 64, .id = r->next_id++,
		.payload_len = (uint16_t)payload_len,
	};
	return ip;
}

size_t rig_ipv4_frame(uint8_t *f, const uint8_t *eth_dst, struct usn_ipv4_repr *ip, const uint8_t *pl,
		      size_t plen)
{
	size_t n = rig_eth(f, eth_dst, rig_peer_mac, USN_ETHERTYPE_IPV4);
	ip->payload_len = (uint16_t)plen;
	assert_int_equal(usn_ipv4_emit(ip, f + n, USN_IPV4_MIN_HLEN), USN_IPV4_MIN_HLEN);
	n += USN_IPV4_MIN_HLEN;
	if (plen)
		memcpy(f + n, pl, plen);
	return n + plen;
}

void rig_send_ipv4(struct rig *r, struct usn_ipv4_repr *ip, const uint8_t *pl, size_t plen)
{
	uint8_t f[RIG_FRAME_MAX];
	assert_true(plen + USN_ETH_HLEN + USN_IPV4_MIN_HLEN <= sizeof(f));
	rig_send(r, f, rig_ipv4_frame(f, rig_stack_mac, ip, pl, plen));
}

size_t rig_udp_build(uint8_t *out, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const void *data,
		     size_t len)
{
	struct usn_udp_repr u = {.src_port = sport, .dst_port = dport, .len = (uint16_t)(USN_UDP_HLEN + len)};
	if (len)
		memcpy(out + USN_UDP_HLEN, data, len);
	assert_int_equal(usn_udp_emit(&u, src, dst, usn_csum_partial(out + USN_UDP_HLEN, len, 0), out, USN_UDP_HLEN),
			 USN_UDP_HLEN);
	return USN_UDP_HLEN + len;
}

void rig_send_udp(struct rig *r, uint16_t sport, uint16_t dport, const void *data, size_t len)
{
	uint8_t d[RIG_FRAME_MAX];
	assert_true(len <= 1472);
	size_t n = rig_udp_build(d, RIG_PEER, RIG_ADDR, sport, dport, data, len);
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_UDP, n);
	rig_send_ipv4(r, &ip, d, n);
}

void rig_send_frag(struct rig *r, const struct usn_ipv4_repr *ip, const uint8_t *pl, uint32_t off, uint32_t len,
		   bool mf)
{
	struct usn_ipv4_repr h = *ip;
	h.frag_off = (uint16_t)off;
	h.mf = mf;
	rig_send_ipv4(r, &h, pl + off, len);
}

void rig_send_arp(struct rig *r, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha, uint32_t spa,
		  const uint8_t *tha, uint32_t tpa)
{
	uint8_t f[USN_ETH_MIN_FRAME] = {0};
	size_t n = rig_eth(f, eth_dst, rig_peer_mac, USN_ETHERTYPE_ARP);
	struct usn_arp_repr a = {.op = op, .spa = spa, .tpa = tpa};
	memcpy(a.sha, sha, USN_ETH_ALEN);
	memcpy(a.tha, tha, USN_ETH_ALEN);
	assert_int_equal(usn_arp_emit(&a, f + n, USN_ARP_LEN), USN_ARP_LEN);
	rig_send(r, f, sizeof(f)); /* padded to the Ethernet minimum */
}

void rig_learn_peer(struct rig *r)
{
	static const uint8_t zero[USN_ETH_ALEN];
	rig_send_arp(r, USN_ARP_OP_REQUEST, rig_bcast_mac, rig_peer_mac, RIG_PEER, zero, RIG_ADDR);
	rig_run(r);
	const struct usn_arp_entry *e = usn_arp_lookup(&r->s->ip, RIG_PEER);
	assert_non_null(e);
	assert_int_equal(e->state, USN_ARP_REACHABLE);
	assert_memory_equal(e->mac, rig_peer_mac, USN_ETH_ALEN);
	rig_clear(r);
}

bool rig_frame_ipv4(const struct rig_frame *f, struct usn_eth_repr *ret_eth, struct usn_ipv4_repr *ret_ip,
		    const uint8_t **ret_payload)
{
	struct usn_eth_repr e;
	if (usn_eth_parse(f->data, f->len, &e) != USN_WIRE_OK || e.ethertype != USN_ETHERTYPE_IPV4)
		return false;
	struct usn_ipv4_repr ip;
	if (usn_ipv4_parse(f->data + USN_ETH_HLEN, f->len - USN_ETH_HLEN, &ip, 0) != USN_WIRE_OK)
		return false;
	if (ret_eth)
		*ret_eth = e;
	if (ret_ip)
		*ret_ip = ip;
	if (ret_payload)
		*ret_payload = f->data + USN_ETH_HLEN + ip.hdr_len;
	return true;
}

bool rig_frame_arp(const struct rig_frame *f, struct usn_eth_repr *ret_eth, struct usn_arp_repr *ret_arp)
{
	struct usn_eth_repr e;
	if (usn_eth_parse(f->data, f->len, &e) != USN_WIRE_OK || e.ethertype != USN_ETHERTYPE_ARP)
		return false;
	if (usn_arp_parse(f->data + USN_ETH_HLEN, f->len - USN_ETH_HLEN, ret_arp) != USN_WIRE_OK)
		return false;
	if (ret_eth)
		*ret_eth = e;
	return true;
}

int rig_find_ipv4(const struct rig *r, uint8_t proto, int from)
{
	for (uint32_t i = from < 0 ? 0 : (uint32_t)from; i < r->nframes; i++) {
		struct usn_ipv4_repr ip;
		if (rig_frame_ipv4(&r->frames[i], NULL, &ip, NULL) && (proto == 0 || ip.proto == proto))
			return (int)i;
	}
	return -1;
}

int rig_find_icmp(const struct rig *r, uint8_t type, int from)
{
	for (int i = rig_find_ipv4(r, USN_IPPROTO_ICMP, from); i >= 0; i = rig_find_ipv4(r, USN_IPPROTO_ICMP, i + 1)) {
		struct usn_ipv4_repr ip;
		const uint8_t *p = NULL;
		memset(&ip, 0, sizeof(ip));
		rig_frame_ipv4(&r->frames[i], NULL, &ip, &p);
		if (p && ip.frag_off == 0 && ip.payload_len >= 1 && p[0] == type)
			return i;
	}
	return -1;
}

uint32_t rig_count_ipv4(const struct rig *r, uint8_t proto)
{
	uint32_t n = 0;
	for (int i = rig_find_ipv4(r, proto, 0); i >= 0; i = rig_find_ipv4(r, proto, i + 1))
		n++;
	return n;
}

uint32_t rig_count_icmp(const struct rig *r, uint8_t type)
{
	uint32_t n = 0;
	for (int i = rig_find_icmp(r, type, 0); i >= 0; i = rig_find_icmp(r, type, i + 1))
		n++;
	return n;
}

uint32_t rig_count_arp(const struct rig *r, uint16_t op)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < r->nframes; i++) {
		struct usn_arp_repr a;
		if (rig_frame_arp(&r->frames[i], NULL, &a) && a.op == op)
			n++;
	}
	return n;
}

size_t rig_reassemble(const struct rig *r, uint16_t id, uint8_t *out, size_t cap, uint32_t *ret_nfrags)
{
	/* RFC 791 §3.2: fragments share (src, dst, proto, id); the offset is
	 * in 8-octet units, and every fragment but the last has MF set and
	 * carries a multiple of 8 octets. */
	uint8_t *seen = calloc(cap, 1);
	assert_non_null(seen);
	uint32_t nfrags = 0;
	size_t total = 0;
	bool have_last = false, have_first = false;
	struct usn_ipv4_repr first = {0};
	for (uint32_t i = 0; i < r->nframes; i++) {
		struct usn_ipv4_repr ip;
		const uint8_t *p;
		if (!rig_frame_ipv4(&r->frames[i], NULL, &ip, &p) || ip.id != id)
			continue;
		if (nfrags == 0)
			first = ip;
		nfrags++;
		assert_true(r->frames[i].len <= USN_ETH_HLEN + 1500u);
		assert_true(ip.hdr_len + ip.payload_len <= 1500u);
		assert_int_equal(ip.frag_off % 8, 0);
		assert_int_equal(ip.src, first.src);
		assert_int_equal(ip.dst, first.dst);
		assert_int_equal(ip.proto, first.proto);
		if (ip.mf) {
			assert_int_equal(ip.payload_len % 8, 0);
			assert_true(ip.payload_len > 0);
		} else {
			assert_false(have_last);
			have_last = true;
			total = (size_t)ip.frag_off + ip.payload_len;
		}
		if (ip.frag_off == 0)
			have_first = true;
		assert_true((size_t)ip.frag_off + ip.payload_len <= cap);
		for (size_t k = 0; k < ip.payload_len; k++) {
			assert_int_equal(seen[ip.frag_off + k], 0); /* no overlap */
			seen[ip.frag_off + k] = 1;
		}
		memcpy(out + ip.frag_off, p, ip.payload_len);
	}
	assert_true(have_first);
	assert_true(have_last);
	for (size_t k = 0; k < total; k++)
		assert_int_equal(seen[k], 1); /* no hole */
	for (size_t k = total; k < cap; k++)
		assert_int_equal(seen[k], 0); /* nothing past the last fragment */
	free(seen);
	if (ret_nfrags)
		*ret_nfrags = nfrags;
	return total;
}

int rig_udp_socket(struct rig *r, uint16_t port)
{
	int sd = usn_socket(r->s, USN_SOCK_DGRAM);
	assert_true(sd >= 0);
	struct usn_addr a = usn_addr_v4(0, port);
	assert_int_equal(usn_bind(r->s, sd, &a), 0);
	return sd;
}
