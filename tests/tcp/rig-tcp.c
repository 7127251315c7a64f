/* SPDX-License-Identifier: MIT */
/*
 * rig-tcp.c - the peer's side of TCP for the state-machine tests (see
 * rig-tcp.h). Not a test by itself, and not a TCP implementation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "rig-tcp.h"

int tr_setup(void **state)
{
	int rc = rig_setup(state);
	if (rc != 0)
		return rc;
	rig_learn_peer(*state);
	/* start at 1 s: a monotonic clock is never at 0 */
	tr_advance(*state, SEC);
	rig_clear(*state);
	return 0;
}

uint64_t tr_ctr(struct rig *r, const char *name)
{
	uint64_t v = 0;
	assert_int_equal(usn_stack_counter(r->s, name, &v), 0);
	return v;
}

/* Answers the ARP requests for the peer among frames [*scanned, nframes). */
static bool answer_arp(struct rig *r, uint32_t *scanned)
{
	bool sent = false;
	if (*scanned > r->nframes)
		*scanned = 0;
	for (; *scanned < r->nframes; (*scanned)++) {
		struct usn_arp_repr a;
		if (rig_frame_arp(&r->frames[*scanned], NULL, &a) && a.op == USN_ARP_OP_REQUEST && a.tpa == RIG_PEER) {
			rig_send_arp(r, USN_ARP_OP_REPLY, rig_stack_mac, rig_peer_mac, RIG_PEER, rig_stack_mac,
				     RIG_ADDR);
			sent = true;
		}
	}
	return sent;
}

void tr_advance_to(struct rig *r, uint64_t t)
{
	uint32_t scanned = r->nframes;
	for (;;) {
		rig_run(r);
		if (answer_arp(r, &scanned))
			rig_run(r);
		uint64_t next = USN_MIN(usn_stack_next_timer(r->s), usn_memlink_next_arrival(r->link));
		if (next <= r->now)
			next = r->now + 1;
		if (next > t) {
			r->now = t;
			rig_run(r);
			if (answer_arp(r, &scanned))
				rig_run(r);
			return;
		}
		r->now = next;
	}
}

void tr_advance(struct rig *r, uint64_t ns)
{
	tr_advance_to(r, r->now + ns);
}

static void send_tcp(struct rig *r, const uint8_t *tcp, uint32_t len)
{
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_TCP, len);
	rig_send_ipv4(r, &ip, tcp, len);
}

void tr_emit(struct rig *r, const struct usn_tcp_repr *h, const void *data, uint32_t len)
{
	uint8_t seg[RIG_FRAME_MAX];
	size_t olen = usn_tcp_opts_len(&h->opts);
	assert_true(USN_TCP_MIN_HLEN + olen + len + USN_IPV4_MIN_HLEN <= 1500);
	uint32_t sum = len ? usn_csum_partial(data, len, 0) : 0;
	int hl = usn_tcp_emit(h, RIG_PEER, RIG_ADDR, (uint16_t)len, sum, seg, sizeof(seg));
	assert_true(hl >= USN_TCP_MIN_HLEN);
	if (len)
		memcpy(seg + hl, data, len);
	send_tcp(r, seg, (uint32_t)hl + len);
}

void tr_emit_raw(struct rig *r, uint8_t *tcp, uint32_t len, bool bad_csum)
{
	tcp[16] = 0;
	tcp[17] = 0;
	uint32_t sum = usn_csum_partial(tcp, len, usn_csum_pseudo_v4(RIG_PEER, RIG_ADDR, USN_IPPROTO_TCP,
								     (uint16_t)len));
	uint16_t c = usn_csum_finish(sum);
	if (bad_csum)
		c ^= 0x0101;
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	send_tcp(r, tcp, len);
}

struct usn_tcp_repr tr_repr(struct tr_peer *p, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct usn_tcp_repr h;
	memset(&h, 0, sizeof(h));
	h.src_port = p->pport;
	h.dst_port = p->uport;
	h.seq = seq;
	h.ack = (flags & USN_TCP_ACK) ? ack : 0;
	h.flags = flags;
	h.window = p->win;
	if (p->ts && !(flags & USN_TCP_RST)) {
		h.opts.has_ts = true;
		h.opts.ts_val = p->tsval++;
		h.opts.ts_ecr = p->ts_recent;
	}
	if (p->nsack) {
		h.opts.nsack = p->nsack;
		memcpy(h.opts.sack, p->sack_blk, sizeof(h.opts.sack));
		p->nsack = 0;
	}
	return h;
}

void tr_seg(struct rig *r, struct tr_peer *p, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
	    uint32_t len)
{
	struct usn_tcp_repr h = tr_repr(p, flags, seq, ack);
	tr_emit(r, &h, data, len);
	rig_run(r);
}

void tr_data(struct rig *r, struct tr_peer *p, const void *data, uint32_t len)
{
	tr_seg(r, p, USN_TCP_ACK | USN_TCP_PSH, p->nxt, p->rcv, data, len);
	p->nxt += len;
}

void tr_ack(struct rig *r, struct tr_peer *p)
{
	tr_seg(r, p, USN_TCP_ACK, p->nxt, p->rcv, NULL, 0);
}

int tr_next(const struct rig *r, int from, struct tr_seg *ret)
{
	for (int i = rig_find_ipv4(r, USN_IPPROTO_TCP, from); i >= 0; i = rig_find_ipv4(r, USN_IPPROTO_TCP, i + 1)) {
		struct usn_ipv4_repr ip;
		const uint8_t *pl;
		assert_true(rig_frame_ipv4(&r->frames[i], NULL, &ip, &pl));
		assert_int_equal(ip.src, RIG_ADDR);
		assert_int_equal(ip.dst, RIG_PEER);
		/* every segment checks out: checksum and header */
		assert_true(usn_tcp_csum_ok(ip.src, ip.dst, ip.payload_len, usn_csum_partial(pl, ip.payload_len, 0)));
		struct tr_seg s;
		memset(&s, 0, sizeof(s));
		assert_int_equal(usn_tcp_parse(pl, ip.payload_len, &s.h), USN_WIRE_OK);
		assert_int_equal(s.h.bad_opts, 0);
		s.len = ip.payload_len - s.h.hdr_len;
		s.data = pl + s.h.hdr_len;
		s.t = r->frames[i].t;
		s.idx = i;
		if (ret)
			*ret = s;
		return i;
	}
	return -1;
}

void tr_dump(const struct rig *r)
{
	struct tr_seg s;
	for (int i = tr_next(r, 0, &s); i >= 0; i = tr_next(r, i + 1, &s))
		print_message("  t=%.6f %u->%u flags=%02x seq=%u ack=%u win=%u len=%u\n", (double)s.t / 1e9,
			      s.h.src_port, s.h.dst_port, s.h.flags, s.h.seq, s.h.ack, s.h.window, s.len);
}

uint32_t tr_count(const struct rig *r)
{
	uint32_t n = 0;
	for (int i = tr_next(r, 0, NULL); i >= 0; i = tr_next(r, i + 1, NULL))
		n++;
	return n;
}

struct tr_seg tr_only(const struct rig *r)
{
	struct tr_seg s;
	if (tr_count(r) != 1)
		tr_dump(r);
	assert_int_equal(tr_count(r), 1);
	assert_true(tr_next(r, 0, &s) >= 0);
	return s;
}

void tr_note(struct tr_peer *p, const struct tr_seg *s)
{
	if (s->h.opts.has_ts)
		p->ts_recent = s->h.opts.ts_val;
	if (s->h.seq == p->rcv && !(s->h.flags & USN_TCP_RST))
		p->rcv += s->len + ((s->h.flags & USN_TCP_SYN) ? 1 : 0) + ((s->h.flags & USN_TCP_FIN) ? 1 : 0);
}

struct usn_tcp_conn *tr_conn(struct rig *r, int sd)
{
	assert_true(sd >= 0 && sd < r->s->nsocks);
	assert_int_equal(r->s->socks[sd].type, USN_SOCK_TCP);
	struct usn_tcp_conn *c = r->s->socks[sd].pcb;
	assert_non_null(c);
	return c;
}

void tr_check(struct rig *r, int sd)
{
	assert_int_equal(usn_tcp_conn_check(tr_conn(r, sd)), 0);
}

int tr_state(struct rig *r, int sd)
{
	struct usn_tcp_info ti;
	assert_int_equal(usn_tcp_info(r->s, sd, &ti), 0);
	return ti.state;
}

void tr_peer_init(struct tr_peer *p, uint16_t pport, uint16_t uport, uint32_t opts)
{
	memset(p, 0, sizeof(*p));
	p->pport = pport;
	p->uport = uport;
	p->opts = opts;
	p->iss = 0x10000000u + (uint32_t)pport * 977u;
	p->nxt = p->iss;
	p->tsval = 5000;
	p->win = (opts & TR_WS) ? 1024 : 65535; /* 128 KiB or 64 KiB */
}

/* The peer's SYN (or SYN-ACK) options. */
void tr_syn_opts(struct tr_peer *p, struct usn_tcp_repr *h, uint32_t ecr)
{
	if (p->opts & TR_MSS) {
		h->opts.has_mss = true;
		h->opts.mss = TR_PEER_MSS;
	}
	if (p->opts & TR_WS) {
		h->opts.has_wscale = true;
		h->opts.wscale = TR_PEER_WS;
	}
	h->opts.sack_perm = (p->opts & TR_SACK) != 0;
	if (p->opts & TR_TS) {
		h->opts.has_ts = true;
		h->opts.ts_val = p->tsval++;
		h->opts.ts_ecr = ecr;
	}
}

/* Takes usnet's SYN or SYN-ACK options into p. */
static void take_synopts(struct tr_peer *p, const struct tr_seg *s)
{
	p->uiss = s->h.seq;
	p->rcv = s->h.seq + 1;
	p->ts = (p->opts & TR_TS) && s->h.opts.has_ts;
	p->sack = (p->opts & TR_SACK) && s->h.opts.sack_perm;
	p->uws = ((p->opts & TR_WS) && s->h.opts.has_wscale) ? s->h.opts.wscale : 0;
	if (s->h.opts.has_ts)
		p->ts_recent = s->h.opts.ts_val;
}

int tr_listen(struct rig *r, uint16_t port, int backlog)
{
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	assert_true(sd >= 0);
	struct usn_addr a = usn_addr_v4(0, port);
	assert_int_equal(usn_bind(r->s, sd, &a), 0);
	assert_int_equal(usn_listen(r->s, sd, backlog), 0);
	return sd;
}

int tr_open_passive(struct rig *r, int lsd, struct tr_peer *p)
{
	rig_run(r);
	rig_clear(r);
	struct usn_tcp_repr h;
	memset(&h, 0, sizeof(h));
	h.src_port = p->pport;
	h.dst_port = p->uport;
	h.seq = p->iss;
	h.flags = USN_TCP_SYN;
	h.window = 65535;
	tr_syn_opts(p, &h, 0);
	tr_emit(r, &h, NULL, 0);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(s.h.ack, p->iss + 1);
	take_synopts(p, &s);
	p->nxt = p->iss + 1;
	/* a 10 ms round trip, so the RTT estimate is not zero */
	tr_advance(r, 10 * MSEC);
	rig_clear(r);
	tr_ack(r, p);
	assert_int_equal(tr_count(r), 0);
	int sd = usn_accept(r->s, lsd, NULL);
	assert_true(sd >= 0);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	tr_check(r, sd);
	rig_clear(r);
	return sd;
}

int tr_connect_synack(struct rig *r, struct tr_peer *p)
{
	rig_run(r);
	rig_clear(r);
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	assert_true(sd >= 0);
	struct usn_addr a = usn_addr_v4(RIG_PEER, p->pport);
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_SYN);
	p->uport = s.h.src_port;
	take_synopts(p, &s);
	tr_advance(r, 10 * MSEC);
	rig_clear(r);
	struct usn_tcp_repr h;
	memset(&h, 0, sizeof(h));
	h.src_port = p->pport;
	h.dst_port = p->uport;
	h.seq = p->iss;
	h.ack = p->uiss + 1;
	h.flags = USN_TCP_SYN | USN_TCP_ACK;
	h.window = 65535;
	tr_syn_opts(p, &h, p->ts_recent);
	/* what the SYN-ACK answers decides the options */
	p->ts = (p->opts & TR_TS) != 0;
	p->sack = (p->opts & TR_SACK) != 0;
	if (!(p->opts & TR_WS))
		p->uws = 0;
	tr_emit(r, &h, NULL, 0);
	p->nxt = p->iss + 1;
	return sd;
}

int tr_open_active(struct rig *r, struct tr_peer *p)
{
	int sd = tr_connect_synack(r, p);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.seq, p->uiss + 1);
	assert_int_equal(s.h.ack, p->iss + 1);
	tr_note(p, &s);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	tr_check(r, sd);
	rig_clear(r);
	return sd;
}

void tr_done(struct rig *r)
{
	for (int i = 0; i < 200 && r->s->tcp.nconns > 0; i++) {
		tr_advance(r, 10 * SEC);
		rig_clear(r);
	}
	assert_int_equal(r->s->tcp.nconns, 0);
	/* let the last frames and ARP settle */
	tr_advance(r, 1 * SEC);
	assert_int_equal(rig_in_use(r), r->base_in_use);
}
