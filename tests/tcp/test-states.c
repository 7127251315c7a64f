/* SPDX-License-Identifier: MIT */
/*
 * test-states.c - the TCP state machine of src/tcp driven by crafted
 * segments: the stack (10.77.0.2) on one end of the in-memory link, the
 * test as its peer (10.77.0.1, rig-tcp.h) on the other, in virtual time.
 * The usnet side is used only through the public API (include/usnet/usnet.h);
 * what usnet sends is parsed from the frames (flags, seq, ack, window,
 * options). Each test is named test_<state>_<event> and cites the RFC
 * section it checks: RFC 9293 §3.10.7 (segment arrival in every state),
 * RFC 7323 (options, PAWS), RFC 2018 (SACK), RFC 5961 (blind attacks),
 * RFC 4987 (SYN cookies), RFC 1122 §4.2.3.2 (delayed ACKs), §4.2.3.6
 * (keep-alive), §4.2.3.9 (ICMP), RFC 5927, RFC 5681 / RFC 6675 (loss
 * recovery), RFC 6298 (RTO), RFC 6191 (TIME-WAIT reuse), RFC 2525 §2.17.
 * After every test all connections are closed, virtual time runs past
 * TIME-WAIT, and tcp.nconns and the buffer pool are back at zero/baseline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "rig-tcp.h"

#define LPORT 8080
#define SMSS 1448 /* 1460 less 12 bytes of timestamps (RFC 6691) */

static void fill(uint8_t *b, uint32_t n, uint32_t off)
{
	for (uint32_t i = 0; i < n; i++)
		b[i] = (uint8_t)((off + i) * 7 + 3);
}

static struct usn_tcp_conn *lookup(struct rig *r, const struct tr_peer *p)
{
	return usn_tcp_lookup(&r->s->tcp, RIG_ADDR, p->uport, RIG_PEER, p->pport);
}

/* The peer's SYN to a listener (options from p->opts). */
static void peer_syn(struct rig *r, struct tr_peer *p, const void *data, uint32_t len)
{
	struct usn_tcp_repr h;
	memset(&h, 0, sizeof(h));
	h.src_port = p->pport;
	h.dst_port = p->uport;
	h.seq = p->iss;
	h.flags = USN_TCP_SYN;
	h.window = 65535;
	tr_syn_opts(p, &h, 0);
	tr_emit(r, &h, data, len);
	rig_run(r);
}

/* Takes every segment captured into p (TSval, in-order sequence space). */
static uint32_t note_all(struct tr_peer *p, const struct rig *r)
{
	uint32_t n = 0;
	struct tr_seg s;
	for (int i = tr_next(r, 0, &s); i >= 0; i = tr_next(r, i + 1, &s)) {
		tr_note(p, &s);
		n++;
	}
	return n;
}

/* Ends an established connection cleanly from both sides: usnet closes
 * (FIN), the peer ACKs it and sends its FIN, usnet ACKs into TIME-WAIT. */
static void close_both(struct rig *r, struct tr_peer *p, int sd)
{
	rig_clear(r);
	assert_int_equal(usn_close(r->s, sd), 0);
	rig_run(r);
	note_all(p, r);
	struct tr_seg s;
	int i = tr_next(r, 0, &s);
	assert_true(i >= 0);
	rig_clear(r);
	tr_seg(r, p, USN_TCP_ACK | USN_TCP_FIN, p->nxt, p->rcv, NULL, 0);
	p->nxt++;
	s = tr_only(r);
	assert_int_equal(s.h.flags & (USN_TCP_ACK | USN_TCP_RST), USN_TCP_ACK);
	assert_int_equal(s.h.ack, p->nxt);
	struct usn_tcp_conn *c = lookup(r, p);
	assert_non_null(c);
	assert_int_equal(c->state, USN_TCP_TIME_WAIT);
	rig_clear(r);
}

static int has_event(struct rig *r, int sd, uint32_t *ret_ev)
{
	struct usn_event ev[16];
	int n, found = 0;
	while ((n = usn_events(r->s, ev, 16)) > 0)
		for (int i = 0; i < n; i++)
			if (ev[i].sd == sd) {
				found = 1;
				*ret_ev = ev[i].events;
			}
	return found;
}

/* ================= LISTEN (RFC 9293 §3.10.7.2) ================= */

/* RFC 9293 §3.7.1, RFC 7323 §1.3 and §2.2, RFC 2018 §2: the SYN-ACK carries
 * MSS, and window scale, SACK-permitted and timestamps exactly when the SYN
 * offered them; the SYN-ACK window is not scaled; TSecr echoes the SYN's
 * TSval. */
static void test_listen_syn_options(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 16);
	struct tr_peer p;

	/* everything offered: everything answered */
	tr_peer_init(&p, 40001, LPORT, TR_ALL);
	rig_clear(r);
	uint32_t tsval = p.tsval;
	peer_syn(r, &p, NULL, 0);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.iss + 1);
	assert_int_equal(s.h.window, 65535); /* 256 KiB buffer, unscaled in a SYN */
	assert_true(s.h.opts.has_mss);
	assert_int_equal(s.h.opts.mss, 1460);
	assert_true(s.h.opts.has_wscale);
	assert_int_equal(s.h.opts.wscale, 3); /* 65535 << 3 >= 256 KiB > 65535 << 2 */
	assert_true(s.h.opts.sack_perm);
	assert_true(s.h.opts.has_ts);
	assert_int_equal(s.h.opts.ts_ecr, tsval);
	assert_int_equal(s.len, 0);
	assert_non_null(lookup(r, &p));
	assert_int_equal(lookup(r, &p)->state, USN_TCP_SYN_RECEIVED);
	assert_int_equal(usn_tcp_conn_check(lookup(r, &p)), 0);
	/* complete it and look at what was agreed */
	p.uiss = s.h.seq;
	p.rcv = s.h.seq + 1;
	p.nxt = p.iss + 1;
	p.ts = p.sack = true;
	p.uws = 3;
	p.ts_recent = s.h.opts.ts_val;
	tr_ack(r, &p);
	int sd = usn_accept(r->s, l, NULL);
	assert_true(sd >= 0);
	struct usn_tcp_info ti;
	assert_int_equal(usn_tcp_info(r->s, sd, &ti), 0);
	assert_int_equal(ti.state, USN_TCP_ESTABLISHED);
	assert_int_equal(ti.options, 7);
	assert_int_equal(ti.snd_wscale, TR_PEER_WS);
	assert_int_equal(ti.rcv_wscale, 3);
	assert_int_equal(ti.mss, SMSS);
	assert_int_equal(ti.snd_wnd, 1024u << TR_PEER_WS);
	assert_int_equal(usn_abort(r->s, sd), 0);
	rig_run(r);

	/* only MSS offered: none of WS, TS, SACK-permitted back */
	tr_peer_init(&p, 40002, LPORT, TR_MSS);
	rig_clear(r);
	peer_syn(r, &p, NULL, 0);
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_true(s.h.opts.has_mss);
	assert_int_equal(s.h.opts.mss, 1460);
	assert_false(s.h.opts.has_wscale);
	assert_false(s.h.opts.sack_perm);
	assert_false(s.h.opts.has_ts);
	assert_int_equal(s.h.hdr_len, 24);
	p.uiss = s.h.seq;
	p.rcv = s.h.seq + 1;
	p.nxt = p.iss + 1;
	tr_ack(r, &p);
	sd = usn_accept(r->s, l, NULL);
	assert_true(sd >= 0);
	assert_int_equal(usn_tcp_info(r->s, sd, &ti), 0);
	assert_int_equal(ti.options, 0);
	assert_int_equal(ti.rcv_wscale, 0); /* RFC 7323 §2.2: both or neither */
	assert_int_equal(ti.snd_wscale, 0);
	assert_int_equal(ti.mss, 1460);
	assert_int_equal(ti.snd_wnd, 65535);
	assert_int_equal(usn_abort(r->s, sd), 0);
	rig_run(r);

	/* nothing offered: RFC 9293 §3.7.1, the send MSS is 536 */
	tr_peer_init(&p, 40003, LPORT, 0);
	rig_clear(r);
	peer_syn(r, &p, NULL, 0);
	s = tr_only(r);
	assert_true(s.h.opts.has_mss);
	assert_false(s.h.opts.has_wscale || s.h.opts.sack_perm || s.h.opts.has_ts);
	p.uiss = s.h.seq;
	p.rcv = s.h.seq + 1;
	p.nxt = p.iss + 1;
	tr_ack(r, &p);
	sd = usn_accept(r->s, l, NULL);
	assert_true(sd >= 0);
	assert_int_equal(usn_tcp_info(r->s, sd, &ti), 0);
	assert_int_equal(ti.mss, 536);
	assert_int_equal(usn_abort(r->s, sd), 0);
	rig_run(r);
	assert_int_equal(usn_close(r->s, l), 0);
	tr_done(r);
}

/* RFC 9293 §3.10.7.2: "An incoming RST segment could not be valid ...
 * it should be ignored." */
static void test_listen_rst(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 16);
	struct tr_peer p;
	tr_peer_init(&p, 40010, LPORT, 0);
	rig_clear(r);
	uint64_t rsts = tr_ctr(r, "TCP_OUT_RSTS");
	tr_seg(r, &p, USN_TCP_RST, 1234, 0, NULL, 0);
	tr_seg(r, &p, USN_TCP_RST | USN_TCP_ACK, 1234, 99, NULL, 0);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_ctr(r, "TCP_OUT_RSTS"), rsts);
	assert_int_equal(r->s->tcp.nconns, 1);
	assert_int_equal(usn_accept(r->s, l, NULL), -EAGAIN);
	assert_int_equal(usn_close(r->s, l), 0);
	tr_done(r);
}

/* RFC 9293 §3.10.7.2: "Any acknowledgment is bad if it arrives on a
 * connection still in the LISTEN state. An acceptable reset segment should
 * be formed for any arriving ACK-bearing segment. The RST should be
 * formatted as follows: <SEQ=SEG.ACK><CTL=RST>". */
static void test_listen_ack(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 16);
	struct tr_peer p;
	tr_peer_init(&p, 40011, LPORT, 0);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK, 777, 0xdeadbeef, "xy", 2);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_RST);
	assert_int_equal(s.h.seq, 0xdeadbeef);
	assert_int_equal(s.h.src_port, LPORT);
	assert_int_equal(s.h.dst_port, 40011);
	assert_int_equal(s.len, 0);
	assert_int_equal(r->s->tcp.nconns, 1);
	assert_int_equal(usn_close(r->s, l), 0);
	tr_done(r);
}

/* RFC 9293 §3.10.7.2 (third check): data on a SYN may be queued, but usnet
 * keeps none (no TFO), so the SYN-ACK acknowledges the SYN only
 * (ACK = SEG.SEQ + 1) and the peer sends the data again. */
static void test_listen_syn_data(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 16);
	struct tr_peer p;
	tr_peer_init(&p, 40012, LPORT, TR_ALL);
	rig_clear(r);
	peer_syn(r, &p, "early data", 10);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.iss + 1);
	p.uiss = s.h.seq;
	p.rcv = s.h.seq + 1;
	p.nxt = p.iss + 1;
	p.ts = p.sack = true;
	p.uws = 3;
	p.ts_recent = s.h.opts.ts_val;
	rig_clear(r);
	tr_ack(r, &p);
	int sd = usn_accept(r->s, l, NULL);
	assert_true(sd >= 0);
	char b[32];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), -EAGAIN);
	/* sent again, it is taken */
	tr_data(r, &p, "early data", 10);
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 10);
	assert_memory_equal(b, "early data", 10);
	assert_int_equal(usn_close(r->s, l), 0);
	close_both(r, &p, sd);
	tr_done(r);
}

/* Linux semantics of the accept queue: a SYN that arrives while the
 * accept queue is full is dropped (counted), with no SYN-ACK; the peer
 * retries later (RFC 9293 §3.10.7.2 leaves the queueing to the
 * implementation; every drop has a counter). */
static void test_listen_backlog_full(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 1);
	struct tr_peer a, b;
	tr_peer_init(&a, 40020, LPORT, TR_ALL);
	tr_peer_init(&b, 40021, LPORT, TR_ALL);
	/* a completes its handshake but is not accepted */
	rig_clear(r);
	peer_syn(r, &a, NULL, 0);
	struct tr_seg s = tr_only(r);
	a.uiss = s.h.seq;
	a.rcv = s.h.seq + 1;
	a.nxt = a.iss + 1;
	a.ts = true;
	a.ts_recent = s.h.opts.ts_val;
	tr_ack(r, &a);
	assert_int_equal(r->s->tcp.nconns, 2);
	uint64_t ov = tr_ctr(r, "TCP_LISTEN_OVERFLOWS");
	rig_clear(r);
	peer_syn(r, &b, NULL, 0);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_ctr(r, "TCP_LISTEN_OVERFLOWS"), ov + 1);
	assert_int_equal(r->s->tcp.nconns, 2);
	int sd = usn_accept(r->s, l, NULL);
	assert_true(sd >= 0);
	assert_int_equal(usn_accept(r->s, l, NULL), -EAGAIN);
	/* room again: b's retry is answered */
	rig_clear(r);
	peer_syn(r, &b, NULL, 0);
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	/* closing the listener resets the half-open b (as Linux) */
	rig_clear(r);
	assert_int_equal(usn_close(r->s, l), 0);
	rig_run(r);
	s = tr_only(r);
	assert_true(s.h.flags & USN_TCP_RST);
	assert_int_equal(s.h.dst_port, 40021);
	assert_int_equal(usn_abort(r->s, sd), 0);
	rig_run(r);
	tr_done(r);
}

/* RFC 4987 §3.6: with the SYN queue full the listener answers with a SYN
 * cookie and keeps no state; the ACK that returns the cookie creates the
 * connection, ready for accept(); an ACK with a wrong cookie creates
 * nothing. */
static void test_listen_syncookie(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 16);
	r->s->tcp.syn_backlog = 1;
	struct tr_peer a, b, c;
	tr_peer_init(&a, 40030, LPORT, TR_ALL);
	tr_peer_init(&b, 40031, LPORT, TR_ALL);
	tr_peer_init(&c, 40032, LPORT, TR_ALL);
	rig_clear(r);
	peer_syn(r, &a, NULL, 0); /* a half-open connection fills the queue */
	assert_int_equal(tr_count(r), 1);
	assert_int_equal(r->s->tcp.nconns, 2);

	uint64_t sent = tr_ctr(r, "TCP_SYNCOOKIES_SENT");
	rig_clear(r);
	uint32_t tsval = b.tsval;
	peer_syn(r, &b, NULL, 0);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(s.h.ack, b.iss + 1);
	assert_true(s.h.opts.has_mss);
	assert_true(s.h.opts.has_ts);
	assert_int_equal(s.h.opts.ts_ecr, tsval);
	assert_int_equal(tr_ctr(r, "TCP_SYNCOOKIES_SENT"), sent + 1);
	assert_int_equal(r->s->tcp.nconns, 2); /* no state kept */
	assert_null(lookup(r, &b));
	b.uiss = s.h.seq;
	b.rcv = s.h.seq + 1;
	b.nxt = b.iss + 1;
	b.ts = true;
	b.sack = s.h.opts.sack_perm;
	b.uws = s.h.opts.has_wscale ? s.h.opts.wscale : 0;
	b.ts_recent = s.h.opts.ts_val;

	/* c gets a cookie too, and answers it wrongly */
	rig_clear(r);
	peer_syn(r, &c, NULL, 0);
	s = tr_only(r);
	c.uiss = s.h.seq;
	c.rcv = s.h.seq + 2; /* wrong */
	c.nxt = c.iss + 1;
	c.ts = true;
	c.ts_recent = s.h.opts.ts_val;
	uint64_t failed = tr_ctr(r, "TCP_SYNCOOKIES_FAILED");
	rig_clear(r);
	tr_ack(r, &c);
	assert_int_equal(tr_ctr(r, "TCP_SYNCOOKIES_FAILED"), failed + 1);
	assert_int_equal(r->s->tcp.nconns, 2);
	assert_null(lookup(r, &c));
	assert_int_equal(usn_accept(r->s, l, NULL), -EAGAIN);

	/* b's right answer, with data, makes the connection */
	uint64_t recv = tr_ctr(r, "TCP_SYNCOOKIES_RECV");
	rig_clear(r);
	tr_data(r, &b, "hello", 5);
	assert_int_equal(tr_ctr(r, "TCP_SYNCOOKIES_RECV"), recv + 1);
	assert_int_equal(r->s->tcp.nconns, 3);
	struct usn_addr peer;
	int sd = usn_accept(r->s, l, &peer);
	assert_true(sd >= 0);
	assert_int_equal(peer.port, 40031);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	tr_check(r, sd);
	char buf[8];
	assert_int_equal(usn_recv(r->s, sd, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	/* the connection works both ways */
	rig_clear(r);
	assert_int_equal(usn_send(r->s, sd, "world", 5, 0), 5);
	rig_run(r);
	/* (a window update may come first: reading opened the window past
	 * the unscaled 64 KiB the cookie SYN-ACK offered) */
	struct tr_seg d;
	int di = tr_next(r, 0, &d);
	while (di >= 0 && d.len == 0)
		di = tr_next(r, di + 1, &d);
	assert_true(di >= 0);
	assert_int_equal(d.h.seq, b.rcv);
	assert_int_equal(d.len, 5);
	assert_memory_equal(d.data, "world", 5);
	note_all(&b, r);
	tr_ack(r, &b);
	assert_int_equal(usn_close(r->s, l), 0); /* resets a */
	close_both(r, &b, sd);
	tr_done(r);
}

/* ================= CLOSED (RFC 9293 §3.10.7.1) ================= */

/* "If the ACK bit is off, sequence number zero is used,
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>" - SEG.LEN counts the SYN and
 * the data. */
static void test_closed_syn(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	tr_peer_init(&p, 40040, 9, TR_ALL);
	uint64_t nosock = tr_ctr(r, "TCP_DROP_NO_SOCKET");
	rig_clear(r);
	peer_syn(r, &p, NULL, 0);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_RST | USN_TCP_ACK);
	assert_int_equal(s.h.seq, 0);
	assert_int_equal(s.h.ack, p.iss + 1);
	assert_int_equal(s.h.src_port, 9);
	assert_int_equal(s.h.dst_port, 40040);
	assert_int_equal(tr_ctr(r, "TCP_DROP_NO_SOCKET"), nosock + 1);
	rig_clear(r);
	peer_syn(r, &p, "0123456789", 10);
	s = tr_only(r);
	assert_int_equal(s.h.ack, p.iss + 11);
	/* a FIN with data counts too */
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_FIN, 5000, 0, "abc", 3);
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_RST | USN_TCP_ACK);
	assert_int_equal(s.h.ack, 5004);
	assert_int_equal(r->s->tcp.nconns, 0);
	tr_done(r);
}

/* "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>" */
static void test_closed_ack(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	tr_peer_init(&p, 40041, 9, 0);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_PSH, 100, 0x80000001u, "data", 4);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_RST);
	assert_int_equal(s.h.seq, 0x80000001u);
	assert_int_equal(s.len, 0);
	tr_done(r);
}

/* "An incoming segment containing a RST is discarded." */
static void test_closed_rst(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	tr_peer_init(&p, 40042, 9, 0);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_RST, 100, 0, NULL, 0);
	tr_seg(r, &p, USN_TCP_RST | USN_TCP_ACK, 100, 200, NULL, 0);
	assert_int_equal(tr_count(r), 0);
	tr_done(r);
}

/* ================= SYN-SENT (RFC 9293 §3.10.7.3) ================= */

/* RFC 9293 §3.10.1 OPEN: a SYN <SEQ=ISS><CTL=SYN> with MSS (§3.7.1), and
 * RFC 7323 §1.3 window scale and timestamps (TSecr 0), RFC 2018 §2
 * SACK-permitted offered. */
static void test_synsent_connect(void **state)
{
	struct rig *r = *state;
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	assert_true(sd >= 0);
	rig_clear(r);
	struct usn_addr a = usn_addr_v4(RIG_PEER, 80);
	uint64_t opens = tr_ctr(r, "TCP_ACTIVE_OPENS");
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_SYN);
	assert_int_equal(s.h.dst_port, 80);
	assert_true(s.h.src_port >= 1024);
	assert_int_equal(s.h.ack, 0);
	assert_int_equal(s.len, 0);
	assert_int_equal(s.h.window, 65535);
	assert_true(s.h.opts.has_mss);
	assert_int_equal(s.h.opts.mss, 1460);
	assert_true(s.h.opts.has_wscale);
	assert_int_equal(s.h.opts.wscale, 3);
	assert_true(s.h.opts.sack_perm);
	assert_true(s.h.opts.has_ts);
	assert_int_equal(s.h.opts.ts_ecr, 0);
	assert_int_equal(tr_ctr(r, "TCP_ACTIVE_OPENS"), opens + 1);
	assert_int_equal(tr_state(r, sd), USN_TCP_SYN_SENT);
	tr_check(r, sd);
	assert_int_equal(tr_conn(r, sd)->iss, s.h.seq);
	/* not writable or readable yet */
	assert_int_equal(usn_socket_poll(r->s, sd) & (USN_EV_OUT | USN_EV_IN), 0);
	assert_int_equal(usn_close(r->s, sd), 0);
	assert_int_equal(r->s->tcp.nconns, 0);
	tr_done(r);
}

/* RFC 9293 §3.10.7.3 first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send
 * a reset (unless the RST bit is set) <SEQ=SEG.ACK><CTL=RST> and discard
 * the segment." The connection stays in SYN-SENT. After the first such
 * reset the SYN goes out again at once (§3.5.1 Figure 9), and only after
 * the first. */
static void test_synsent_bad_ack(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	tr_peer_init(&p, 81, 0, TR_ALL);
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	struct usn_addr a = usn_addr_v4(RIG_PEER, p.pport);
	rig_clear(r);
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	p.uport = s.h.src_port;
	uint32_t iss = s.h.seq;
	uint32_t bad[] = {iss, iss - 1000, iss + 2};
	for (unsigned i = 0; i < 3; i++) {
		rig_clear(r);
		tr_seg(r, &p, USN_TCP_SYN | USN_TCP_ACK, p.iss, bad[i], NULL, 0);
		int at = tr_next(r, 0, &s);
		assert_true(at >= 0);
		assert_int_equal(s.h.flags, USN_TCP_RST);
		assert_int_equal(s.h.seq, bad[i]);
		if (i == 0) {
			assert_int_equal(tr_count(r), 2);
			assert_true(tr_next(r, at + 1, &s) >= 0);
			assert_int_equal(s.h.flags, USN_TCP_SYN);
			assert_int_equal(s.h.seq, iss);
		} else {
			assert_int_equal(tr_count(r), 1);
		}
		assert_int_equal(tr_state(r, sd), USN_TCP_SYN_SENT);
		tr_check(r, sd);
	}
	/* a bad ACK with RST: no answer */
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_RST | USN_TCP_ACK, 0, iss + 5, NULL, 0);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_state(r, sd), USN_TCP_SYN_SENT);
	assert_int_equal(usn_sock_error(r->s, sd), 0);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* The peer holds this 4-tuple in TIME-WAIT from an earlier incarnation
 * and refuses our SYN (its ISN and timestamp are not newer, RFC 6191):
 * it answers with an ACK of the old connection. RFC 9293 §3.10.7.3: the
 * ACK is unacceptable, so <SEQ=SEG.ACK><CTL=RST>, which ends the peer's
 * TIME-WAIT; then, as in §3.5.1 Figure 9, the opening goes on as a plain
 * three-way handshake. The SYN is sent again at once, right after
 * the reset, the same as the first (ISS and options), without a timeout,
 * a backoff or a retry counted; a second old ACK gets the reset only
 * (once per connection). The SYN-ACK then completes the connection one
 * round trip later, with no RTT sample from the handshake (RFC 6298 §3,
 * Karn: it may answer either SYN). */
static void test_synsent_old_ack_retry(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	tr_peer_init(&p, 86, 0, TR_ALL);
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	struct usn_addr a = usn_addr_v4(RIG_PEER, p.pport);
	rig_clear(r);
	uint64_t retry = tr_ctr(r, "TCP_SYN_RETRY_AFTER_RST");
	uint64_t rtos = tr_ctr(r, "TCP_RTO_EXPIRED");
	uint64_t rsts = tr_ctr(r, "TCP_OUT_RSTS");
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	rig_run(r);
	struct tr_seg syn = tr_only(r);
	assert_int_equal(syn.h.flags, USN_TCP_SYN);
	p.uport = syn.h.src_port;
	uint32_t iss = syn.h.seq;
	struct usn_tcp_conn *c = tr_conn(r, sd);
	uint64_t rto_at = c->rtx_timer.expires;
	assert_int_equal(c->rtx_kind, USN_TCP_TK_RTO);
	/* the old connection's ACK, with the old connection's numbers */
	tr_advance(r, 10 * MSEC);
	rig_clear(r);
	uint32_t old_rcv = iss + 0x40000000u, old_snd = p.iss - 5000;
	struct usn_tcp_repr h = tr_repr(&p, USN_TCP_ACK, old_snd, old_rcv);
	h.opts.has_ts = true;
	h.opts.ts_val = p.tsval;
	h.opts.ts_ecr = syn.h.opts.ts_val + 100000; /* newer than our SYN's */
	tr_emit(r, &h, NULL, 0);
	rig_run(r);
	assert_int_equal(tr_count(r), 2);
	struct tr_seg s;
	int at = tr_next(r, 0, &s);
	assert_int_equal(s.h.flags, USN_TCP_RST);
	assert_int_equal(s.h.seq, old_rcv);
	at = tr_next(r, at + 1, &s);
	assert_true(at >= 0);
	assert_int_equal(s.h.flags, USN_TCP_SYN);
	assert_int_equal(s.h.seq, iss);
	assert_int_equal(s.h.window, syn.h.window);
	assert_true(s.h.opts.has_mss && s.h.opts.has_wscale && s.h.opts.sack_perm && s.h.opts.has_ts);
	assert_int_equal(s.h.opts.mss, syn.h.opts.mss);
	assert_int_equal(s.h.opts.wscale, syn.h.opts.wscale);
	assert_int_equal(s.h.opts.ts_ecr, 0);
	assert_int_equal(s.t, syn.t + 10 * MSEC); /* with the reset, not at the RTO */
	assert_int_equal(tr_ctr(r, "TCP_SYN_RETRY_AFTER_RST"), retry + 1);
	assert_int_equal(tr_ctr(r, "TCP_OUT_RSTS"), rsts + 1);
	assert_int_equal(tr_ctr(r, "TCP_RTO_EXPIRED"), rtos);
	assert_int_equal(tr_state(r, sd), USN_TCP_SYN_SENT);
	/* the timer runs on as it was: no backoff, no retry counted */
	assert_int_equal(c->rtx_kind, USN_TCP_TK_RTO);
	assert_int_equal(c->rtx_timer.expires, rto_at);
	assert_int_equal(c->backoff, 0);
	assert_int_equal(c->retries, 0);
	tr_check(r, sd);
	/* a second old ACK: the reset, no SYN */
	rig_clear(r);
	h.ack = old_rcv + 1;
	tr_emit(r, &h, NULL, 0);
	rig_run(r);
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_RST);
	assert_int_equal(s.h.seq, old_rcv + 1);
	assert_int_equal(tr_ctr(r, "TCP_SYN_RETRY_AFTER_RST"), retry + 1);
	/* the peer's TIME-WAIT is gone: its SYN-ACK to the new SYN, one
	 * round trip after it */
	tr_advance(r, 10 * MSEC);
	rig_clear(r);
	p.uiss = iss;
	p.rcv = iss + 1;
	p.ts = p.sack = true;
	p.uws = syn.h.opts.wscale;
	p.ts_recent = syn.h.opts.ts_val;
	h = tr_repr(&p, USN_TCP_SYN | USN_TCP_ACK, p.iss, iss + 1);
	h.window = 65535;
	memset(&h.opts, 0, sizeof(h.opts));
	tr_syn_opts(&p, &h, p.ts_recent);
	tr_emit(r, &h, NULL, 0);
	rig_run(r);
	p.nxt = p.iss + 1;
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.seq, iss + 1);
	assert_int_equal(s.h.ack, p.iss + 1);
	tr_note(&p, &s);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	assert_int_equal(tr_ctr(r, "TCP_RTO_EXPIRED"), rtos);
	tr_check(r, sd);
	struct usn_tcp_info ti;
	assert_int_equal(usn_tcp_info(r->s, sd, &ti), 0);
	assert_int_equal(ti.srtt_us, 0); /* Karn: no sample from the handshake */
	assert_int_equal(ti.total_retrans, 1);
	/* data flows */
	rig_clear(r);
	assert_int_equal(usn_send(r->s, sd, "x", 1, 0), 1);
	rig_run(r);
	s = tr_only(r);
	assert_int_equal(s.h.seq, iss + 1);
	assert_int_equal(s.len, 1);
	note_all(&p, r);
	tr_ack(r, &p);
	close_both(r, &p, sd);
	tr_done(r);
}

/* After the SYN sent again at once, a lost SYN is still retransmitted on
 * the RTO as if nothing had happened (RFC 6298 §5.5, test_synsent_timeout):
 * 1, 2, 4, ... s from the first SYN, the same 6 retries, then ETIMEDOUT. */
static void test_synsent_old_ack_then_timeout(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	tr_peer_init(&p, 87, 0, TR_ALL);
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	struct usn_addr a = usn_addr_v4(RIG_PEER, p.pport);
	rig_clear(r);
	uint64_t t0 = r->now;
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	p.uport = s.h.src_port;
	uint32_t iss = s.h.seq;
	tr_advance(r, 10 * MSEC);
	tr_seg(r, &p, USN_TCP_ACK, p.iss, iss + 0x40000000u, NULL, 0);
	tr_advance(r, 200 * SEC);
	int at = tr_next(r, 0, &s);
	assert_int_equal(s.h.flags, USN_TCP_SYN);
	assert_int_equal(s.t, t0);
	at = tr_next(r, at + 1, &s);
	assert_int_equal(s.h.flags, USN_TCP_RST);
	at = tr_next(r, at + 1, &s);
	assert_int_equal(s.h.flags, USN_TCP_SYN);
	assert_int_equal(s.t, t0 + 10 * MSEC);
	uint64_t expect = t0 + SEC;
	uint32_t n = 0;
	for (at = tr_next(r, at + 1, &s); at >= 0; at = tr_next(r, at + 1, &s)) {
		assert_int_equal(s.h.flags, USN_TCP_SYN);
		assert_int_equal(s.h.seq, iss);
		assert_int_equal(s.t, expect);
		n++;
		expect += (1ull << n) * SEC;
	}
	assert_int_equal(n, 6);
	assert_int_equal(tr_state(r, sd), USN_TCP_CLOSED);
	assert_int_equal(usn_sock_error(r->s, sd), -ETIMEDOUT);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* RFC 9293 §3.10.7.3 second: "If the ACK was acceptable, then signal to
 * the user 'error: connection reset', drop the segment, enter CLOSED";
 * "Otherwise (no ACK), drop the segment and return." The user sees
 * ECONNREFUSED as on Linux. */
static void test_synsent_rst(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	tr_peer_init(&p, 82, 0, TR_ALL);
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	struct usn_addr a = usn_addr_v4(RIG_PEER, p.pport);
	rig_clear(r);
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	p.uport = s.h.src_port;
	uint32_t iss = s.h.seq;
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_RST, 0, 0, NULL, 0); /* no ACK: ignored */
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_state(r, sd), USN_TCP_SYN_SENT);
	uint32_t ev = 0;
	has_event(r, sd, &ev);
	uint64_t fails = tr_ctr(r, "TCP_ATTEMPT_FAILS");
	tr_seg(r, &p, USN_TCP_RST | USN_TCP_ACK, 0, iss + 1, NULL, 0);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_state(r, sd), USN_TCP_CLOSED);
	assert_true(has_event(r, sd, &ev));
	assert_true(ev & USN_EV_ERR);
	assert_int_equal(tr_ctr(r, "TCP_ATTEMPT_FAILS"), fails + 1);
	assert_int_equal(usn_sock_error(r->s, sd), -ECONNREFUSED);
	assert_int_equal(usn_sock_error(r->s, sd), 0);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* RFC 9293 §3.10.7.3 fourth: a SYN-ACK acknowledging our SYN: "enter
 * ESTABLISHED state, form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
 * and send it"; the socket becomes writable. */
static void test_synsent_synack(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	tr_peer_init(&p, 83, 0, TR_ALL);
	int sd = tr_open_active(r, &p);
	uint32_t ev = 0;
	assert_true(has_event(r, sd, &ev));
	assert_true(ev & USN_EV_OUT);
	assert_false(ev & USN_EV_ERR);
	struct usn_tcp_info ti;
	assert_int_equal(usn_tcp_info(r->s, sd, &ti), 0);
	assert_int_equal(ti.options, 7);
	assert_int_equal(ti.snd_wscale, TR_PEER_WS);
	assert_int_equal(ti.rcv_wscale, 3);
	assert_int_equal(ti.mss, SMSS);
	assert_int_equal(ti.snd_wnd, 65535); /* the SYN-ACK's window is not scaled */
	assert_true(ti.srtt_us >= 10000 && ti.srtt_us <= 11000);
	struct usn_addr pa;
	assert_int_equal(usn_getpeername(r->s, sd, &pa), 0);
	assert_int_equal(pa.port, 83);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 9293 §3.10.7.3 fourth, "Otherwise, enter SYN-RECEIVED, form a
 * SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it"
 * (simultaneous open, §3.5 figure 8); the ACK of it completes the open. */
static void test_synsent_simultaneous_open(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	tr_peer_init(&p, 84, 0, TR_ALL);
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	struct usn_addr a = usn_addr_v4(RIG_PEER, p.pport);
	rig_clear(r);
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	p.uport = s.h.src_port;
	uint32_t iss = s.h.seq;
	p.ts_recent = s.h.opts.ts_val;
	rig_clear(r);
	/* the peer's own SYN crosses ours */
	struct usn_tcp_repr h = tr_repr(&p, USN_TCP_SYN, p.iss, 0);
	h.window = 65535;
	tr_syn_opts(&p, &h, 0);
	tr_emit(r, &h, NULL, 0);
	rig_run(r);
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(s.h.seq, iss);
	assert_int_equal(s.h.ack, p.iss + 1);
	assert_int_equal(tr_state(r, sd), USN_TCP_SYN_RECEIVED);
	tr_check(r, sd);
	p.uiss = iss;
	p.rcv = iss + 1;
	p.nxt = p.iss + 1;
	p.ts = p.sack = true;
	p.uws = 3;
	p.ts_recent = s.h.opts.ts_val;
	rig_clear(r);
	tr_ack(r, &p);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	tr_check(r, sd);
	uint32_t ev = 0;
	assert_true(has_event(r, sd, &ev));
	assert_true(ev & USN_EV_OUT);
	/* data flows */
	assert_int_equal(usn_send(r->s, sd, "x", 1, 0), 1);
	rig_run(r);
	s = tr_only(r);
	assert_int_equal(s.h.seq, iss + 1);
	assert_int_equal(s.len, 1);
	note_all(&p, r);
	tr_ack(r, &p);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 6298 §5.5 and RFC 9293 §3.8.3: the SYN is retransmitted with the
 * timer doubled each time (1, 2, 4, 8, 16, 32 s from the initial 1 s of
 * RFC 6298 §2.1, Linux's 6 retries); then the connection fails with
 * ETIMEDOUT. */
static void test_synsent_timeout(void **state)
{
	struct rig *r = *state;
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	struct usn_addr a = usn_addr_v4(RIG_PEER, 85);
	rig_clear(r);
	uint64_t t0 = r->now;
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	uint32_t iss = s.h.seq;
	tr_advance(r, 200 * SEC);
	uint64_t expect = t0;
	uint32_t n = 0;
	for (int i = tr_next(r, 0, &s); i >= 0; i = tr_next(r, i + 1, &s)) {
		assert_int_equal(s.h.flags, USN_TCP_SYN);
		assert_int_equal(s.h.seq, iss);
		assert_true(s.h.opts.has_mss && s.h.opts.has_ts);
		assert_int_equal(s.t, expect);
		expect += (1ull << n) * SEC; /* next after 1, 2, 4, ... s */
		n++;
	}
	assert_int_equal(n, 7); /* the SYN and 6 retransmissions */
	assert_int_equal(tr_state(r, sd), USN_TCP_CLOSED);
	assert_int_equal(usn_sock_error(r->s, sd), -ETIMEDOUT);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* The ICMP error quoting our segment (source port, destination port,
 * sequence number) from the peer. */
static void send_icmp_unreach(struct rig *r, uint8_t code, uint16_t sport, uint16_t dport, uint32_t seq)
{
	uint8_t quote[28];
	struct usn_ipv4_repr q = {.src = RIG_ADDR, .dst = RIG_PEER, .proto = USN_IPPROTO_TCP, .ttl = 64,
				  .id = 1, .payload_len = 40};
	assert_int_equal(usn_ipv4_emit(&q, quote, 20), 20);
	usn_put_be16(quote + 20, sport);
	usn_put_be16(quote + 22, dport);
	usn_put_be32(quote + 24, seq);
	struct usn_icmp_repr m = {.type = USN_ICMP_DEST_UNREACH, .code = code, .data = quote,
				  .data_len = sizeof(quote)};
	uint8_t msg[64];
	int n = usn_icmp_emit(&m, msg, sizeof(msg));
	assert_int_equal(n, 8 + 28);
	struct usn_ipv4_repr ip = rig_iphdr(r, USN_IPPROTO_ICMP, (size_t)n);
	rig_send_ipv4(r, &ip, msg, (size_t)n);
	rig_run(r);
}

/* RFC 1122 §4.2.3.9: port unreachable is a hard error; while the
 * connection is opening usnet aborts it (as Linux) with ECONNREFUSED.
 * RFC 5927 §4.1: an error quoting a sequence number not in flight is
 * ignored. */
static void test_synsent_icmp_unreach(void **state)
{
	struct rig *r = *state;
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	struct usn_addr a = usn_addr_v4(RIG_PEER, 86);
	rig_clear(r);
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	uint64_t bad = tr_ctr(r, "TCP_ICMP_BAD_SEQ");
	send_icmp_unreach(r, USN_ICMP_PORT_UNREACH, s.h.src_port, 86, s.h.seq + 1);
	send_icmp_unreach(r, USN_ICMP_PORT_UNREACH, s.h.src_port, 86, s.h.seq - 1000);
	assert_int_equal(tr_ctr(r, "TCP_ICMP_BAD_SEQ"), bad + 2);
	assert_int_equal(tr_state(r, sd), USN_TCP_SYN_SENT);
	assert_int_equal(usn_sock_error(r->s, sd), 0);
	send_icmp_unreach(r, USN_ICMP_PORT_UNREACH, s.h.src_port, 86, s.h.seq);
	assert_int_equal(tr_state(r, sd), USN_TCP_CLOSED);
	assert_int_equal(usn_sock_error(r->s, sd), -ECONNREFUSED);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* ================= SYN-RECEIVED ================= */

/* A half-open connection from p: the SYN-ACK in *ret. */
static void half_open(struct rig *r, struct tr_peer *p, struct tr_seg *ret)
{
	rig_clear(r);
	peer_syn(r, p, NULL, 0);
	*ret = tr_only(r);
	p->uiss = ret->h.seq;
	p->rcv = ret->h.seq + 1;
	p->nxt = p->iss + 1;
	p->ts = (p->opts & TR_TS) != 0;
	p->sack = (p->opts & TR_SACK) != 0;
	p->uws = ret->h.opts.has_wscale ? ret->h.opts.wscale : 0;
	if (ret->h.opts.has_ts)
		p->ts_recent = ret->h.opts.ts_val;
}

/* Ends a handshake usnet answered (half_open()): the peer's ACK, the
 * connection accepted from listener l and established, the listener
 * closed, then the connection closed from both sides (TIME-WAIT). */
static void accept_and_close(struct rig *r, struct tr_peer *p, int l)
{
	tr_ack(r, p);
	int sd = usn_accept(r->s, l, NULL);
	assert_true(sd >= 0);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	tr_check(r, sd);
	assert_int_equal(usn_close(r->s, l), 0);
	close_both(r, p, sd);
}

/* RFC 9293 §3.10.7.4 (a retransmitted SYN, §3.5 figure 9 recovery): a
 * duplicate of the SYN in SYN-RECEIVED is answered with the same SYN-ACK. */
static void test_synrcvd_syn_retransmit(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 16);
	struct tr_peer p;
	tr_peer_init(&p, 40050, LPORT, TR_ALL);
	struct tr_seg s1;
	half_open(r, &p, &s1);
	rig_clear(r);
	peer_syn(r, &p, NULL, 0);
	struct tr_seg s2 = tr_only(r);
	assert_int_equal(s2.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(s2.h.seq, s1.h.seq);
	assert_int_equal(s2.h.ack, p.iss + 1);
	assert_int_equal(r->s->tcp.nconns, 2);
	assert_int_equal(lookup(r, &p)->state, USN_TCP_SYN_RECEIVED);
	assert_int_equal(usn_tcp_conn_check(lookup(r, &p)), 0);
	assert_int_equal(usn_close(r->s, l), 0);
	tr_done(r);
}

/* RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT,
 * then enter ESTABLISHED state"; accept() hands it out; before, accept()
 * has nothing. An unacceptable ACK gets <SEQ=SEG.ACK><CTL=RST>. */
static void test_synrcvd_ack(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 16);
	struct tr_peer p;
	tr_peer_init(&p, 40051, LPORT, TR_ALL);
	struct tr_seg s;
	half_open(r, &p, &s);
	assert_int_equal(usn_accept(r->s, l, NULL), -EAGAIN);
	/* SEG.ACK = ISS is not acceptable */
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK, p.nxt, p.uiss, NULL, 0);
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_RST);
	assert_int_equal(s.h.seq, p.uiss);
	assert_int_equal(lookup(r, &p)->state, USN_TCP_SYN_RECEIVED);
	rig_clear(r);
	tr_ack(r, &p);
	assert_int_equal(tr_count(r), 0);
	uint32_t ev = 0;
	assert_true(has_event(r, l, &ev));
	assert_true(ev & USN_EV_IN);
	struct usn_addr pa;
	int sd = usn_accept(r->s, l, &pa);
	assert_true(sd >= 0);
	assert_int_equal(pa.ip.v4, RIG_PEER);
	assert_int_equal(pa.port, 40051);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	tr_check(r, sd);
	assert_int_equal(usn_close(r->s, l), 0);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 9293 §3.10.7.4 second, SYN-RECEIVED: a reset of a passive open
 * returns to LISTEN: the child goes, silently, the listener stays.
 * RFC 5961 §3.2: only a RST with SEG.SEQ = RCV.NXT does it; another
 * in-window one gets a challenge ACK. */
static void test_synrcvd_rst(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 16);
	struct tr_peer p;
	tr_peer_init(&p, 40052, LPORT, TR_ALL);
	struct tr_seg s;
	half_open(r, &p, &s);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_RST, p.nxt + 10, 0, NULL, 0);
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK); /* challenge */
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(r->s->tcp.nconns, 2);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_RST, p.nxt, 0, NULL, 0);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(r->s->tcp.nconns, 1);
	assert_null(lookup(r, &p));
	assert_int_equal(usn_accept(r->s, l, NULL), -EAGAIN);
	assert_int_equal(r->s->tcp.listeners[LPORT % USN_TCP_LISTEN_BUCKETS]->syn_len, 0);
	/* the listener still answers */
	tr_peer_init(&p, 40053, LPORT, TR_ALL);
	half_open(r, &p, &s);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(usn_close(r->s, l), 0);
	tr_done(r);
}

/* RFC 6298 §5.5 / RFC 9293 §3.8.1: the SYN-ACK is retransmitted on
 * timeout, the interval doubling from 1 s; after Linux's 5 retries the
 * half-open connection is dropped. */
static void test_synrcvd_timeout(void **state)
{
	struct rig *r = *state;
	int l = tr_listen(r, LPORT, 16);
	struct tr_peer p;
	tr_peer_init(&p, 40054, LPORT, TR_ALL);
	struct tr_seg s;
	half_open(r, &p, &s);
	uint64_t t0 = s.t;
	uint32_t iss = s.h.seq;
	rig_clear(r);
	tr_advance(r, 100 * SEC);
	uint64_t expect = t0 + SEC;
	uint32_t n = 0;
	for (int i = tr_next(r, 0, &s); i >= 0; i = tr_next(r, i + 1, &s)) {
		if (s.h.flags & USN_TCP_RST)
			continue;
		assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
		assert_int_equal(s.h.seq, iss);
		assert_int_equal(s.h.ack, p.iss + 1);
		assert_int_equal(s.t, expect);
		n++;
		expect += (1ull << n) * SEC;
	}
	assert_int_equal(n, 5);
	assert_null(lookup(r, &p));
	assert_int_equal(r->s->tcp.nconns, 1);
	assert_int_equal(usn_close(r->s, l), 0);
	tr_done(r);
}

/* ================= ESTABLISHED (RFC 9293 §3.10.7.4) ================= */

/* An established connection accepted from peer p (options opts). */
static int estab(struct rig *r, struct tr_peer *p, uint16_t pport, uint32_t opts, int *ret_l)
{
	int l = tr_listen(r, LPORT, 16);
	tr_peer_init(p, pport, LPORT, opts);
	int sd = tr_open_passive(r, l, p);
	if (ret_l) {
		*ret_l = l;
	} else {
		assert_int_equal(usn_close(r->s, l), 0);
	}
	uint32_t ev;
	has_event(r, sd, &ev);
	return sd;
}

/* RFC 1122 §4.2.3.2 / RFC 9293 §3.8.6.3: an ACK is delayed less than
 * 0.5 s, and at least every second full-sized segment is ACKed at once. */
static void test_established_delayed_ack(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40100, TR_ALL, NULL);
	uint8_t d[2 * SMSS];
	fill(d, sizeof(d), 0);
	uint64_t t0 = r->now;
	tr_data(r, &p, d, SMSS);
	assert_int_equal(tr_count(r), 0); /* one segment: delayed */
	tr_advance(r, 500 * MSEC);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.nxt);
	assert_true(s.t - t0 <= 500 * MSEC);
	assert_true(s.t > t0);
	assert_true(tr_ctr(r, "TCP_DELAYED_ACKS") >= 1);
	tr_note(&p, &s);
	/* two full segments: the second is ACKed at once */
	rig_clear(r);
	tr_data(r, &p, d, SMSS);
	assert_int_equal(tr_count(r), 0);
	tr_data(r, &p, d + SMSS, SMSS);
	s = tr_only(r);
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(s.t, r->now);
	uint8_t b[3 * SMSS];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 3 * SMSS);
	assert_memory_equal(b + SMSS, d, 2 * SMSS);
	tr_check(r, sd);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 5681 §4.2 / RFC 9293 §3.10.7.4: out-of-order data is ACKed at once
 * with SACK blocks (RFC 2018 §4: the first block holds the most recently
 * received segment); filling the hole is ACKed at once. */
static void test_established_ooo_sack(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40101, TR_ALL, NULL);
	uint8_t d[6 * 1000];
	fill(d, sizeof(d), 0);
	uint32_t base = p.nxt;
	/* segments 1 and 3 of 0..4 (1000 bytes each) */
	tr_seg(r, &p, USN_TCP_ACK, base + 1000, p.rcv, d + 1000, 1000);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.ack, base);
	assert_int_equal(s.h.opts.nsack, 1);
	assert_int_equal(s.h.opts.sack[0].start, base + 1000);
	assert_int_equal(s.h.opts.sack[0].end, base + 2000);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK, base + 3000, p.rcv, d + 3000, 1000);
	s = tr_only(r);
	assert_int_equal(s.h.ack, base);
	assert_int_equal(s.h.opts.nsack, 2);
	assert_int_equal(s.h.opts.sack[0].start, base + 3000); /* most recent first */
	assert_int_equal(s.h.opts.sack[0].end, base + 4000);
	assert_int_equal(s.h.opts.sack[1].start, base + 1000);
	assert_int_equal(s.h.opts.sack[1].end, base + 2000);
	/* a segment adjacent to the older block: that block comes first */
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK, base + 2000, p.rcv, d + 2000, 500);
	s = tr_only(r);
	assert_int_equal(s.h.opts.nsack, 2);
	assert_int_equal(s.h.opts.sack[0].start, base + 1000);
	assert_int_equal(s.h.opts.sack[0].end, base + 2500);
	assert_int_equal(s.h.opts.sack[1].start, base + 3000);
	assert_int_equal(s.h.opts.sack[1].end, base + 4000);
	assert_int_equal(usn_recv(r->s, sd, d, 10, USN_MSG_PEEK), -EAGAIN);
	/* fill the first hole: ACK at once, up to the next hole */
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK, base, p.rcv, d, 1000);
	s = tr_only(r);
	assert_int_equal(s.h.ack, base + 2500);
	assert_int_equal(s.h.opts.nsack, 1);
	assert_int_equal(s.h.opts.sack[0].start, base + 3000);
	assert_int_equal(s.h.opts.sack[0].end, base + 4000);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK, base + 2500, p.rcv, d + 2500, 500);
	s = tr_only(r);
	assert_int_equal(s.h.ack, base + 4000);
	assert_int_equal(s.h.opts.nsack, 0);
	p.nxt = base + 4000;
	uint8_t b[6000];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 4000);
	fill(d, sizeof(d), 0);
	assert_memory_equal(b, d, 4000);
	tr_check(r, sd);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 9293 §3.10.7.4 first: an old duplicate (not acceptable) gets
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is dropped; a segment that
 * straddles RCV.NXT has only its new part taken. */
static void test_established_old_data(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40102, TR_ALL, NULL);
	uint8_t d[300];
	fill(d, sizeof(d), 0);
	uint32_t base = p.nxt;
	tr_data(r, &p, d, 100);
	tr_advance(r, 500 * MSEC);
	rig_clear(r);
	uint64_t oow = tr_ctr(r, "TCP_DROP_OUT_OF_WINDOW");
	tr_seg(r, &p, USN_TCP_ACK, base, p.rcv, d, 100); /* all old */
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, base + 100);
	assert_int_equal(s.t, r->now);
	assert_int_equal(tr_ctr(r, "TCP_DROP_OUT_OF_WINDOW"), oow + 1);
	/* straddling: 50 old and 150 new bytes */
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_PSH, base + 50, p.rcv, d + 50, 200);
	p.nxt = base + 250;
	uint8_t b[400];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 250);
	assert_memory_equal(b, d, 250);
	tr_check(r, sd);
	tr_advance(r, 500 * MSEC);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 9293 §3.10.7.4: data beyond the window is trimmed ("segments with
 * higher beginning sequence numbers ... special allowance should be made
 * to accept zero window probes"); with a zero window only a probe at
 * RCV.NXT is answered, with an ACK of window 0, and the data is not
 * taken (§3.8.6.2.2). After the application reads, the window is offered
 * again only when it opens by a full segment (receiver SWS avoidance). */
static void test_established_zero_window(void **state)
{
	struct rig *r = *state;
	int l = usn_socket(r->s, USN_SOCK_STREAM);
	int rb = 2048; /* Linux doubles it: a 4 KiB buffer */
	assert_int_equal(usn_setsockopt(r->s, l, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb)), 0);
	struct usn_addr a = usn_addr_v4(0, LPORT);
	assert_int_equal(usn_bind(r->s, l, &a), 0);
	assert_int_equal(usn_listen(r->s, l, 4), 0);
	struct tr_peer p;
	tr_peer_init(&p, 40103, LPORT, TR_ALL);
	int sd = tr_open_passive(r, l, &p);
	assert_int_equal(usn_close(r->s, l), 0);
	struct usn_tcp_conn *c = tr_conn(r, sd);
	uint32_t cap = c->rx.cap;
	assert_int_equal(cap, 4096);
	assert_int_equal(p.uws, 0);
	uint8_t d[3 * SMSS];
	fill(d, sizeof(d), 0);
	uint32_t base = p.nxt;
	tr_data(r, &p, d, SMSS);
	tr_data(r, &p, d + SMSS, SMSS);
	rig_clear(r);
	/* 1448 more: only 1200 fit */
	uint64_t full = tr_ctr(r, "TCP_DROP_RCVBUF_FULL");
	tr_seg(r, &p, USN_TCP_ACK, p.nxt, p.rcv, d + 2 * SMSS, SMSS);
	tr_advance(r, 500 * MSEC);
	struct tr_seg s;
	assert_true(tr_next(r, 0, &s) >= 0);
	assert_int_equal(s.h.ack, base + 4096);
	assert_int_equal(s.h.window, 0);
	assert_true(tr_ctr(r, "TCP_DROP_RCVBUF_FULL") > full);
	p.nxt = base + 4096;
	/* a zero-window probe (one new byte) is answered and not taken */
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK, p.nxt, p.rcv, "Z", 1);
	s = tr_only(r);
	assert_int_equal(s.h.ack, base + 4096);
	assert_int_equal(s.h.window, 0);
	assert_int_equal(s.t, r->now);
	/* the application reads less than a segment: no window update */
	uint8_t b[4096];
	rig_clear(r);
	assert_int_equal(usn_recv(r->s, sd, b, 1000, 0), 1000);
	rig_run(r);
	assert_int_equal(tr_count(r), 0);
	/* then past a full segment: the window update */
	assert_int_equal(usn_recv(r->s, sd, b + 1000, 1000, 0), 1000);
	rig_run(r);
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, base + 4096);
	assert_int_equal(s.h.window, 2000);
	assert_int_equal(usn_recv(r->s, sd, b + 2000, sizeof(b) - 2000, 0), 2096);
	assert_memory_equal(b, d, 4096);
	tr_check(r, sd);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 9293 §3.8.6.1: with the peer's window at zero and data waiting,
 * usnet probes, with the interval growing exponentially (RFC 1122
 * §4.2.2.17), and forever; data flows once the window opens. */
static void test_established_persist(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40104, TR_ALL, NULL);
	p.win = 0;
	tr_ack(r, &p);
	rig_clear(r);
	uint64_t t0 = r->now;
	assert_int_equal(usn_send(r->s, sd, "0123456789", 10, 0), 10);
	rig_run(r);
	assert_int_equal(tr_count(r), 0);
	tr_advance(r, 3 * SEC);
	uint64_t when[8] = {0};
	uint32_t n = 0;
	struct tr_seg s;
	for (int i = tr_next(r, 0, &s); i >= 0 && n < 8; i = tr_next(r, i + 1, &s)) {
		/* a probe: SND.UNA - 1 with no data, or one byte at SND.UNA */
		assert_true((s.h.seq == p.rcv - 1 && s.len == 0) || (s.h.seq == p.rcv && s.len == 1));
		when[n++] = s.t;
	}
	assert_true(n >= 3);
	assert_true(when[0] - t0 >= 200 * MSEC);
	for (uint32_t i = 1; i + 1 < n; i++) {
		uint64_t a = when[i] - when[i - 1], b = when[i + 1] - when[i];
		assert_true(b >= 2 * a - 10 * MSEC && b <= 2 * a + 10 * MSEC);
	}
	assert_true(tr_ctr(r, "TCP_WINDOW_PROBES") >= 3);
	/* the window opens: the data goes */
	rig_clear(r);
	p.win = 1024;
	tr_ack(r, &p);
	s = tr_only(r);
	assert_int_equal(s.h.seq, p.rcv);
	assert_int_equal(s.len, 10);
	assert_memory_equal(s.data, "0123456789", 10);
	note_all(&p, r);
	tr_ack(r, &p);
	tr_check(r, sd);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 5961 §3.2: a RST in the window but not at RCV.NXT gets a challenge
 * ACK and the connection goes on; one at exactly RCV.NXT resets it
 * (RFC 9293 §3.10.7.4 second: "any outstanding RECEIVEs and SEND should
 * receive 'reset' responses"). A RST outside the window is dropped. */
static void test_established_rst(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40105, TR_ALL, NULL);
	uint64_t ch = tr_ctr(r, "TCP_CHALLENGE_ACKS");
	tr_seg(r, &p, USN_TCP_RST, p.nxt + 1, 0, NULL, 0);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.seq, p.rcv);
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(tr_ctr(r, "TCP_CHALLENGE_ACKS"), ch + 1);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	rig_clear(r);
	uint64_t bad = tr_ctr(r, "TCP_DROP_RST_BAD_SEQ");
	tr_seg(r, &p, USN_TCP_RST, p.nxt + 0x40000000u, 0, NULL, 0);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_ctr(r, "TCP_DROP_RST_BAD_SEQ"), bad + 1);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	tr_seg(r, &p, USN_TCP_RST | USN_TCP_ACK, p.nxt, p.rcv, NULL, 0);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_state(r, sd), USN_TCP_CLOSED);
	uint32_t ev = 0;
	assert_true(has_event(r, sd, &ev));
	assert_true(ev & USN_EV_ERR);
	assert_int_equal(usn_sock_error(r->s, sd), -ECONNRESET);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* RFC 5961 §4.2: a SYN in a synchronized state, whatever its sequence
 * number, gets a challenge ACK; the connection is unaffected. */
static void test_established_syn(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40106, TR_ALL, NULL);
	uint32_t seqs[] = {p.nxt, p.nxt + 5000, p.iss};
	for (unsigned i = 0; i < 3; i++) {
		rig_clear(r);
		tr_seg(r, &p, USN_TCP_SYN, seqs[i], 0, NULL, 0);
		struct tr_seg s = tr_only(r);
		assert_int_equal(s.h.flags, USN_TCP_ACK);
		assert_int_equal(s.h.seq, p.rcv);
		assert_int_equal(s.h.ack, p.nxt);
		assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
		tr_check(r, sd);
	}
	tr_data(r, &p, "ok", 2);
	char b[4];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 2);
	tr_advance(r, 500 * MSEC);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 5961 §5.2: "If the ACK acknowledges something not yet sent (SEG.ACK
 * > SND.NXT) then send an ACK, drop the segment, and return"; and an ACK
 * older than SND.UNA - MAX.SND.WND the same. */
static void test_established_ack_unsent(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40107, TR_ALL, NULL);
	uint64_t un = tr_ctr(r, "TCP_DROP_ACK_UNSENT");
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_PSH, p.nxt, p.rcv + 1000, "data", 4);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.nxt); /* the data was not taken */
	assert_int_equal(tr_ctr(r, "TCP_DROP_ACK_UNSENT"), un + 1);
	char b[8];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), -EAGAIN);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_PSH, p.nxt, p.rcv - 0x20000000u, "data", 4);
	s = tr_only(r);
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), -EAGAIN);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	tr_check(r, sd);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 5961 §7: challenge ACKs are rate-limited (1000 a second per stack,
 * as Linux); the rest are counted. */
static void test_established_challenge_limit(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40108, TR_ALL, NULL);
	tr_advance(r, 2 * SEC); /* a fresh second of tokens */
	tr_ack(r, &p);
	rig_clear(r);
	uint64_t ch = tr_ctr(r, "TCP_CHALLENGE_ACKS"), lim = tr_ctr(r, "TCP_CHALLENGE_ACK_LIMITED");
	for (int k = 0; k < 1010; k++) {
		struct usn_tcp_repr h = tr_repr(&p, USN_TCP_RST, p.nxt + 1 + (uint32_t)k, 0);
		tr_emit(r, &h, NULL, 0);
		if (k % 100 == 99)
			rig_run(r);
	}
	rig_run(r);
	assert_int_equal(tr_ctr(r, "TCP_CHALLENGE_ACKS") - ch, 1000);
	assert_int_equal(tr_ctr(r, "TCP_CHALLENGE_ACK_LIMITED") - lim, 10);
	assert_int_equal(tr_count(r), 1000);
	/* a second later there are tokens again */
	tr_advance(r, SEC);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_RST, p.nxt + 1, 0, NULL, 0);
	assert_int_equal(tr_count(r), 1);
	assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 7323 §5.3: a segment whose TSval is older than TS.Recent is dropped
 * and ACKed (R1, "send an acknowledgment in reply"). */
static void test_established_paws(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40109, TR_ALL, NULL);
	uint64_t paws = tr_ctr(r, "TCP_DROP_PAWS");
	struct usn_tcp_repr h = tr_repr(&p, USN_TCP_ACK | USN_TCP_PSH, p.nxt, p.rcv);
	h.opts.ts_val -= 100;
	tr_emit(r, &h, "old", 3);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(tr_ctr(r, "TCP_DROP_PAWS"), paws + 1);
	char b[8];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), -EAGAIN);
	/* the same with a current TSval is taken */
	tr_data(r, &p, "new", 3);
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 3);
	assert_memory_equal(b, "new", 3);
	tr_advance(r, 500 * MSEC);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 9293 §3.1 / §3.10.7 and RFC 1122 §4.2.2.7: a bad checksum, a data
 * offset below 5 or past the segment, and option lengths of 0, 1 or past
 * the header ("MUST handle an illegal option length without crashing")
 * each drop the segment silently, with a counter. */
static void test_established_bad_header(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40110, TR_MSS, NULL);
	uint8_t seg[64];
	struct usn_tcp_repr h = tr_repr(&p, USN_TCP_ACK | USN_TCP_PSH, p.nxt, p.rcv);
	int hl = usn_tcp_emit(&h, RIG_PEER, RIG_ADDR, 4, 0, seg, sizeof(seg));
	assert_int_equal(hl, 20);
	memcpy(seg + 20, "abcd", 4);
	uint64_t csum = tr_ctr(r, "TCP_DROP_BAD_CSUM"), bad = tr_ctr(r, "TCP_DROP_BAD_HDR");
	uint8_t t[64];
	memcpy(t, seg, 24);
	tr_emit_raw(r, t, 24, true);
	rig_run(r);
	assert_int_equal(tr_ctr(r, "TCP_DROP_BAD_CSUM"), csum + 1);
	/* data offset 4 (16 bytes) */
	memcpy(t, seg, 24);
	t[12] = 0x40;
	tr_emit_raw(r, t, 24, false);
	/* data offset 15 (60 bytes) in a 24-byte segment */
	memcpy(t, seg, 24);
	t[12] = 0xf0;
	tr_emit_raw(r, t, 24, false);
	/* a 24-byte header whose option has length 0, 1, or runs past it */
	static const uint8_t opts[3][4] = {{30, 0, 1, 1}, {30, 1, 1, 1}, {30, 10, 1, 1}};
	for (int i = 0; i < 3; i++) {
		memcpy(t, seg, 20);
		t[12] = 0x60;
		memcpy(t + 20, opts[i], 4);
		memcpy(t + 24, "abcd", 4);
		tr_emit_raw(r, t, 28, false);
	}
	rig_run(r);
	assert_int_equal(tr_ctr(r, "TCP_DROP_BAD_HDR"), bad + 5);
	assert_int_equal(tr_count(r), 0);
	char b[8];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), -EAGAIN);
	/* the same bytes, well formed, are taken */
	memcpy(t, seg, 24);
	tr_emit_raw(r, t, 24, false);
	rig_run(r);
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 4);
	assert_memory_equal(b, "abcd", 4);
	p.nxt += 4;
	tr_advance(r, 500 * MSEC);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 9293 §3.10.7.4 sixth and RFC 6093 §5: urgent data is taken in line:
 * the application reads every byte, the urgent one included. */
static void test_established_urgent(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40111, TR_ALL, NULL);
	uint64_t urg = tr_ctr(r, "TCP_RX_URGENT");
	struct usn_tcp_repr h = tr_repr(&p, USN_TCP_ACK | USN_TCP_PSH | USN_TCP_URG, p.nxt, p.rcv);
	h.urg_ptr = 3;
	tr_emit(r, &h, "abcdef", 6);
	rig_run(r);
	p.nxt += 6;
	char b[16];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 6);
	assert_memory_equal(b, "abcdef", 6);
	assert_int_equal(tr_ctr(r, "TCP_RX_URGENT"), urg + 1);
	tr_advance(r, 500 * MSEC);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 9293 §3.7.4 (RFC 896): with unacknowledged data in flight a small
 * segment waits for the ACK; TCP_NODELAY turns that off. */
static void test_established_nagle(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40112, TR_ALL, NULL);
	assert_int_equal(usn_send(r->s, sd, "aaaa", 4, 0), 4);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.len, 4);
	tr_note(&p, &s);
	rig_clear(r);
	assert_int_equal(usn_send(r->s, sd, "bbbb", 4, 0), 4);
	rig_run(r);
	assert_int_equal(tr_count(r), 0); /* held */
	tr_advance(r, 5 * MSEC);
	assert_int_equal(tr_count(r), 0);
	tr_ack(r, &p);
	s = tr_only(r);
	assert_int_equal(s.len, 4);
	assert_int_equal(s.h.seq, p.rcv);
	assert_memory_equal(s.data, "bbbb", 4);
	tr_note(&p, &s);
	rig_clear(r);
	int one = 1;
	assert_int_equal(usn_setsockopt(r->s, sd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	/* Without Nagle, a small segment goes while another is unacknowledged. */
	assert_int_equal(usn_send(r->s, sd, "cc", 2, 0), 2);
	rig_run(r);
	assert_int_equal(tr_count(r), 1);
	note_all(&p, r);
	rig_clear(r);
	assert_int_equal(usn_send(r->s, sd, "dd", 2, 0), 2);
	rig_run(r);
	s = tr_only(r);
	assert_memory_equal(s.data, "dd", 2);
	tr_note(&p, &s);
	rig_clear(r);
	/* Sends made in one pass of the application leave together, at the
	 * end of it (usn_tcp_flush(), as Linux's autocorking). */
	assert_int_equal(usn_send(r->s, sd, "ee", 2, 0), 2);
	assert_int_equal(usn_send(r->s, sd, "ff", 2, 0), 2);
	rig_run(r);
	s = tr_only(r);
	assert_int_equal(s.len, 4);
	assert_memory_equal(s.data, "eeff", 4);
	tr_note(&p, &s);
	tr_ack(r, &p);
	tr_check(r, sd);
	close_both(r, &p, sd);
	tr_done(r);
}

/* A request read and answered in one pass of the application, which then
 * closes: the answer carries the ACK, the opened window and the FIN in one
 * segment (usn_tcp_flush()); no window update or delayed ACK of its own. */
static void test_established_answer_and_close(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40114, TR_ALL, NULL);
	uint8_t q[80], a[1000], b[sizeof(q)];
	fill(q, sizeof(q), 1);
	fill(a, sizeof(a), 2);
	tr_data(r, &p, q, sizeof(q));
	assert_int_equal(tr_count(r), 0); /* the ACK is delayed */
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), (int)sizeof(q));
	assert_memory_equal(b, q, sizeof(q));
	assert_int_equal(usn_send(r->s, sd, a, sizeof(a), 0), (int)sizeof(a));
	assert_int_equal(usn_shutdown(r->s, sd, USN_SHUT_WR), 0);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags & (USN_TCP_ACK | USN_TCP_FIN | USN_TCP_SYN | USN_TCP_RST), USN_TCP_ACK | USN_TCP_FIN);
	assert_int_equal(s.len, sizeof(a));
	assert_memory_equal(s.data, a, sizeof(a));
	assert_int_equal(s.h.ack, p.nxt);
	tr_note(&p, &s);
	/* Nothing more: the delayed ACK (40 ms) went with it; the RTO is
	 * 200 ms at least. */
	rig_clear(r);
	tr_advance(r, 150 * MSEC);
	assert_int_equal(tr_count(r), 0);
	/* The peer ACKs and closes; usnet ACKs its FIN (TIME-WAIT). */
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_FIN, p.nxt, p.rcv, NULL, 0);
	p.nxt++;
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* The ACK that a segment calls for waits for the user's turn (output
 * after input, tcp_input.c): the third segment of the handshake carries
 * the request the user writes on the connect wake-up; with nothing
 * written it goes alone at the next pass. The stack's timeout is 0 while
 * it waits. */
static void test_synsent_ack_carries_request(void **state)
{
	struct rig *r = *state;
	uint8_t q[100];
	fill(q, sizeof(q), 3);
	for (int write_first = 1; write_first >= 0; write_first--) {
		struct tr_peer p;
		tr_peer_init(&p, (uint16_t)(86 + write_first), 0, TR_ALL);
		int sd = tr_connect_synack(r, &p);
		rig_pass(r);
		assert_int_equal(tr_count(r), 0);
		assert_int_equal(usn_stack_timeout_ms(r->s), 0);
		uint32_t ev = 0;
		assert_true(has_event(r, sd, &ev));
		assert_true(ev & USN_EV_OUT);
		assert_int_equal(tr_state(r, sd), USN_TCP_ESTABLISHED);
		if (write_first)
			assert_int_equal(usn_send(r->s, sd, q, sizeof(q), 0), (int)sizeof(q));
		rig_pass(r);
		struct tr_seg s = tr_only(r);
		assert_int_equal(s.h.flags & (USN_TCP_ACK | USN_TCP_SYN | USN_TCP_FIN | USN_TCP_RST), USN_TCP_ACK);
		assert_int_equal(s.h.seq, p.uiss + 1);
		assert_int_equal(s.h.ack, p.iss + 1);
		assert_int_equal(s.len, write_first ? sizeof(q) : 0);
		if (write_first)
			assert_memory_equal(s.data, q, sizeof(q));
		tr_note(&p, &s);
		assert_int_not_equal(usn_stack_timeout_ms(r->s), 0);
		rig_clear(r);
		if (write_first) {
			tr_ack(r, &p);
			rig_clear(r);
		}
		close_both(r, &p, sd);
	}
	tr_done(r);
}

/* The same on the way out: the ACK of the peer's response and FIN
 * carries the FIN of the user's close (one segment, not two), and a read
 * that opens the window needs no segment of its own. */
static void test_closewait_ack_carries_fin(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40115, TR_ALL, NULL);
	uint8_t a[1000], b[sizeof(a) + 1];
	fill(a, sizeof(a), 4);
	struct usn_tcp_repr h = tr_repr(&p, USN_TCP_ACK | USN_TCP_PSH | USN_TCP_FIN, p.nxt, p.rcv);
	tr_emit(r, &h, a, sizeof(a));
	p.nxt += sizeof(a) + 1;
	rig_pass(r);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_state(r, sd), USN_TCP_CLOSE_WAIT);
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), (int)sizeof(a));
	assert_memory_equal(b, a, sizeof(a));
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 0);
	assert_int_equal(usn_close(r->s, sd), 0);
	rig_pass(r);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags & (USN_TCP_ACK | USN_TCP_SYN | USN_TCP_FIN | USN_TCP_RST), USN_TCP_ACK | USN_TCP_FIN);
	assert_int_equal(s.len, 0);
	assert_int_equal(s.h.ack, p.nxt);
	tr_note(&p, &s);
	rig_clear(r);
	tr_ack(r, &p); /* LAST-ACK to CLOSED */
	assert_int_equal(tr_count(r), 0);
	tr_done(r);
}

/* RFC 5681 §3.2 (without SACK): the third duplicate ACK retransmits the
 * first unacknowledged segment, and only it. */
static void test_established_fast_retransmit(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40113, TR_MSS | TR_WS | TR_TS, NULL);
	uint8_t d[5 * SMSS];
	fill(d, sizeof(d), 0);
	uint32_t una = p.rcv;
	assert_int_equal(usn_send(r->s, sd, d, sizeof(d), 0), (int)sizeof(d));
	rig_run(r);
	assert_int_equal(tr_count(r), 5);
	tr_advance(r, 10 * MSEC);
	rig_clear(r);
	uint64_t fr = tr_ctr(r, "TCP_FAST_RETRANS");
	for (int k = 0; k < 3; k++) {
		tr_seg(r, &p, USN_TCP_ACK, p.nxt, una, NULL, 0);
		if (k < 2)
			assert_int_equal(tr_count(r), 0);
	}
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.seq, una);
	assert_int_equal(s.len, SMSS);
	assert_memory_equal(s.data, d, SMSS);
	assert_int_equal(tr_ctr(r, "TCP_FAST_RETRANS"), fr + 1);
	rig_clear(r);
	p.rcv = una + sizeof(d);
	tr_ack(r, &p);
	struct usn_tcp_info ti;
	assert_int_equal(usn_tcp_info(r->s, sd, &ti), 0);
	assert_int_equal(ti.unacked, 0);
	assert_int_equal(ti.total_retrans, 1);
	tr_check(r, sd);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 6675 §5 (and RFC 2018): with SACK, loss recovery retransmits
 * exactly the holes the scoreboard shows lost, nothing that was SACKed. */
static void test_established_sack_recovery(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40114, TR_ALL, NULL);
	enum { N = 10 };
	uint8_t d[N * SMSS];
	fill(d, sizeof(d), 0);
	uint32_t u0 = p.rcv;
	assert_int_equal(usn_send(r->s, sd, d, sizeof(d), 0), (int)sizeof(d));
	rig_run(r);
	assert_int_equal(tr_count(r), N);
	bool got[N] = {true, true, false, true, true, false, true, true, true, true};
	uint32_t retx[N] = {0};
	tr_advance(r, 10 * MSEC);
	rig_clear(r);
	/* the peer's ACKs as segments 0..9 but 2 and 5 arrive */
	bool seen[N] = {false};
	for (int k = 0; k < N; k++) {
		if (!got[k])
			continue;
		seen[k] = true;
		uint32_t cum = 0;
		while (cum < N && seen[cum])
			cum++;
		/* SACK blocks: the one holding k first, then the others */
		struct usn_tcp_sack_block blk[4];
		uint8_t nb = 0;
		for (int i = (int)cum; i < N;) {
			if (!seen[i]) {
				i++;
				continue;
			}
			int j = i;
			while (j < N && seen[j])
				j++;
			struct usn_tcp_sack_block b = {u0 + (uint32_t)i * SMSS, u0 + (uint32_t)j * SMSS};
			if (k >= i && k < j) {
				memmove(blk + 1, blk, nb * sizeof(b));
				blk[0] = b;
			} else {
				blk[nb] = b;
			}
			nb++;
			i = j;
		}
		p.nsack = USN_MIN(nb, 3);
		memcpy(p.sack_blk, blk, sizeof(blk));
		tr_seg(r, &p, USN_TCP_ACK, p.nxt, u0 + cum * SMSS, NULL, 0);
	}
	/* the peer now answers every retransmission, for up to 100 ms */
	for (int step = 0; step < 20; step++) {
		struct tr_seg s;
		bool any = false;
		for (int i = tr_next(r, 0, &s); i >= 0; i = tr_next(r, i + 1, &s)) {
			if (s.len == 0)
				continue;
			assert_int_equal((s.h.seq - u0) % SMSS, 0);
			uint32_t k = (s.h.seq - u0) / SMSS;
			assert_true(k < N);
			assert_int_equal(s.len, SMSS);
			retx[k]++;
			seen[k] = true;
			any = true;
		}
		rig_clear(r);
		if (any) {
			uint32_t cum = 0;
			while (cum < N && seen[cum])
				cum++;
			struct usn_tcp_sack_block blk[4];
			uint8_t nb = 0;
			for (int i = (int)cum; i < N && nb < 3;) {
				if (!seen[i]) {
					i++;
					continue;
				}
				int j = i;
				while (j < N && seen[j])
					j++;
				blk[nb].start = u0 + (uint32_t)i * SMSS;
				blk[nb].end = u0 + (uint32_t)j * SMSS;
				nb++;
				i = j;
			}
			p.nsack = nb;
			memcpy(p.sack_blk, blk, sizeof(blk));
			tr_seg(r, &p, USN_TCP_ACK, p.nxt, u0 + cum * SMSS, NULL, 0);
		}
		tr_advance(r, 5 * MSEC);
	}
	for (int k = 0; k < N; k++)
		assert_int_equal(retx[k], got[k] ? 0 : 1);
	struct usn_tcp_info ti;
	assert_int_equal(usn_tcp_info(r->s, sd, &ti), 0);
	assert_int_equal(ti.unacked, 0);
	assert_int_equal(ti.total_retrans, 2);
	assert_true(tr_ctr(r, "TCP_FAST_RETRANS") >= 1);
	p.rcv = u0 + sizeof(d);
	tr_check(r, sd);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 6298 §5.4-§5.6: on timeout the earliest unacknowledged segment is
 * sent again and the timer doubled each time; §2.4 as Linux: RTO >= 200 ms;
 * RFC 5681 §3.1: after the timeout cwnd is one segment (the loss window),
 * so a single segment goes out. */
static void test_established_rto(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40115, TR_MSS | TR_WS | TR_TS, NULL);
	uint8_t d[3 * SMSS];
	fill(d, sizeof(d), 0);
	uint32_t u0 = p.rcv;
	uint64_t t0 = r->now;
	assert_int_equal(usn_send(r->s, sd, d, sizeof(d), 0), (int)sizeof(d));
	rig_run(r);
	assert_int_equal(tr_count(r), 3);
	rig_clear(r);
	tr_advance(r, 199 * MSEC);
	assert_int_equal(tr_count(r), 0); /* RTO at least 200 ms */
	tr_advance(r, 2 * SEC);
	uint64_t when[3] = {0};
	struct tr_seg s;
	int i = tr_next(r, 0, &s);
	for (int k = 0; k < 3; k++) {
		assert_true(i >= 0);
		assert_int_equal(s.h.seq, u0);
		assert_int_equal(s.len, SMSS);
		when[k] = s.t;
		i = tr_next(r, i + 1, &s);
	}
	assert_true(when[0] - t0 >= 200 * MSEC && when[0] - t0 <= 220 * MSEC);
	uint64_t a = when[0] - t0;
	assert_true(when[1] - when[0] >= 2 * a - 5 * MSEC && when[1] - when[0] <= 2 * a + 5 * MSEC);
	assert_true(when[2] - when[1] >= 4 * a - 10 * MSEC && when[2] - when[1] <= 4 * a + 10 * MSEC);
	struct usn_tcp_info ti;
	assert_int_equal(usn_tcp_info(r->s, sd, &ti), 0);
	assert_int_equal(ti.cwnd, SMSS);
	assert_true(ti.ssthresh >= 2 * SMSS);
	assert_true(tr_ctr(r, "TCP_RTO_EXPIRED") >= 3);
	/* the ACK of the first segment lets slow start send the rest */
	rig_clear(r);
	p.rcv = u0 + SMSS;
	tr_ack(r, &p);
	assert_true(tr_count(r) >= 1);
	assert_true(tr_next(r, 0, &s) >= 0);
	assert_int_equal(s.h.seq, u0 + SMSS);
	p.rcv = u0 + sizeof(d);
	tr_ack(r, &p);
	rig_clear(r);
	tr_check(r, sd);
	close_both(r, &p, sd);
	tr_done(r);
}

/* RFC 9293 §3.10.4 / RFC 2525 §2.17: once the user has closed, new data
 * from the peer cannot be delivered: usnet answers with a RST and the
 * connection goes (as Linux). */
static void test_finwait2_orphan_data(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40116, TR_ALL, NULL);
	assert_int_equal(usn_close(r->s, sd), 0);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_true(s.h.flags & USN_TCP_FIN);
	tr_note(&p, &s);
	tr_ack(r, &p);
	assert_int_equal(lookup(r, &p)->state, USN_TCP_FIN_WAIT_2);
	rig_clear(r);
	uint64_t ac = tr_ctr(r, "TCP_DROP_AFTER_CLOSE");
	tr_data(r, &p, "late", 4);
	s = tr_only(r);
	assert_true(s.h.flags & USN_TCP_RST);
	assert_int_equal(s.h.seq, p.rcv);
	assert_int_equal(tr_ctr(r, "TCP_DROP_AFTER_CLOSE"), ac + 1);
	assert_null(lookup(r, &p));
	assert_int_equal(r->s->tcp.nconns, 0);
	tr_done(r);
}

/* RFC 1122 §4.2.3.6 (and Linux's TCP_KEEPIDLE/INTVL/CNT): after the idle
 * time a probe <SEQ=SND.NXT-1> with no data, then one every interval;
 * after KEEPCNT unanswered probes the connection is reset with ETIMEDOUT.
 * An answered probe keeps it alive. */
static void test_established_keepalive(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40117, TR_ALL, NULL);
	int idle = 10, intvl = 5, cnt = 3, one = 1;
	assert_int_equal(usn_setsockopt(r->s, sd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)), 0);
	assert_int_equal(usn_setsockopt(r->s, sd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)), 0);
	assert_int_equal(usn_setsockopt(r->s, sd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)), 0);
	uint64_t t0 = r->now;
	assert_int_equal(usn_setsockopt(r->s, sd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
	/* the first probe, answered */
	tr_advance(r, 10 * SEC);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.seq, p.rcv - 1);
	assert_true(s.len <= 1);
	assert_int_equal(s.t, t0 + 10 * SEC);
	rig_clear(r);
	uint64_t t1 = r->now;
	tr_ack(r, &p);
	/* then silence: probes at +10, +15, +20 s, the reset at +25 s */
	tr_advance(r, 30 * SEC);
	uint32_t n = 0;
	bool rst = false;
	for (int i = tr_next(r, 0, &s); i >= 0; i = tr_next(r, i + 1, &s)) {
		if (s.h.flags & USN_TCP_RST) {
			assert_int_equal(s.t, t1 + 25 * SEC);
			rst = true;
			continue;
		}
		assert_int_equal(s.h.seq, p.rcv - 1);
		assert_int_equal(s.t, t1 + (10 + 5 * n) * SEC);
		n++;
	}
	assert_int_equal(n, 3);
	assert_true(rst);
	assert_int_equal(tr_state(r, sd), USN_TCP_CLOSED);
	assert_int_equal(usn_sock_error(r->s, sd), -ETIMEDOUT);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* ================= closing (RFC 9293 §3.10.4, §3.10.7.4, §3.6) ========= */

/* Active close: FIN-WAIT-1 -> (ACK of FIN) FIN-WAIT-2 -> (FIN) TIME-WAIT
 * -> CLOSED after 2 MSL (60 s in usnet, as Linux). */
static void test_finwait1_active_close(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40120, TR_ALL, NULL);
	assert_int_equal(usn_shutdown(r->s, sd, USN_SHUT_WR), 0);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK | USN_TCP_FIN);
	assert_int_equal(s.h.seq, p.rcv);
	tr_note(&p, &s);
	assert_int_equal(tr_state(r, sd), USN_TCP_FIN_WAIT_1);
	tr_check(r, sd);
	rig_clear(r);
	tr_ack(r, &p);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_state(r, sd), USN_TCP_FIN_WAIT_2);
	tr_check(r, sd);
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_FIN, p.nxt, p.rcv, NULL, 0);
	p.nxt++;
	s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(tr_state(r, sd), USN_TCP_TIME_WAIT);
	tr_check(r, sd);
	char b[4];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 0);
	uint64_t tw = r->now;
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_advance_to(r, tw + 59 * SEC);
	assert_non_null(lookup(r, &p));
	assert_int_equal(lookup(r, &p)->state, USN_TCP_TIME_WAIT);
	tr_advance_to(r, tw + 60 * SEC + MSEC);
	assert_null(lookup(r, &p));
	assert_int_equal(r->s->tcp.nconns, 0);
	tr_done(r);
}

/* Passive close: the peer's FIN is ACKed at once (CLOSE-WAIT, reads give
 * end of stream); our close sends FIN (LAST-ACK); its ACK ends it. */
static void test_closewait_passive_close(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40121, TR_ALL, NULL);
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_FIN, p.nxt, p.rcv, "bye", 3);
	p.nxt += 4;
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(tr_state(r, sd), USN_TCP_CLOSE_WAIT);
	tr_check(r, sd);
	uint32_t ev = 0;
	assert_true(has_event(r, sd, &ev));
	assert_true(ev & USN_EV_IN);
	char b[8];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 3);
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 0);
	/* still writable in CLOSE-WAIT */
	rig_clear(r);
	assert_int_equal(usn_send(r->s, sd, "ok", 2, 0), 2);
	rig_run(r);
	s = tr_only(r);
	tr_note(&p, &s);
	rig_clear(r);
	assert_int_equal(usn_close(r->s, sd), 0);
	rig_run(r);
	s = tr_only(r);
	assert_int_equal(s.h.flags & USN_TCP_FIN, USN_TCP_FIN);
	assert_int_equal(s.h.seq, p.rcv);
	tr_note(&p, &s);
	assert_int_equal(lookup(r, &p)->state, USN_TCP_LAST_ACK);
	assert_int_equal(usn_tcp_conn_check(lookup(r, &p)), 0);
	rig_clear(r);
	tr_ack(r, &p);
	assert_int_equal(tr_count(r), 0);
	assert_null(lookup(r, &p));
	assert_int_equal(r->s->tcp.nconns, 0);
	tr_done(r);
}

/* Simultaneous close (RFC 9293 §3.6 figure 13): FIN-WAIT-1 receiving a FIN
 * that does not ACK ours -> CLOSING; the ACK of our FIN -> TIME-WAIT. */
static void test_finwait1_simultaneous_close(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40122, TR_ALL, NULL);
	assert_int_equal(usn_shutdown(r->s, sd, USN_SHUT_WR), 0);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	uint32_t fin = s.h.seq;
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_FIN, p.nxt, fin, NULL, 0); /* crosses ours */
	p.nxt++;
	s = tr_only(r);
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(tr_state(r, sd), USN_TCP_CLOSING);
	tr_check(r, sd);
	rig_clear(r);
	p.rcv = fin + 1;
	tr_ack(r, &p);
	assert_int_equal(tr_count(r), 0);
	assert_int_equal(tr_state(r, sd), USN_TCP_TIME_WAIT);
	tr_check(r, sd);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* RFC 9293 §3.10.7.4 eighth, TIME-WAIT: "The only thing that can arrive
 * in this state is a retransmission of the remote FIN. Acknowledge it,
 * and restart the 2 MSL timeout." */
static void test_timewait_fin_retransmit(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40123, TR_ALL, NULL);
	close_both(r, &p, sd);
	uint64_t tw = r->now;
	tr_advance_to(r, tw + 30 * SEC);
	rig_clear(r);
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_FIN, p.nxt - 1, p.rcv, NULL, 0);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.nxt);
	assert_int_equal(s.h.seq, p.rcv);
	tr_advance_to(r, tw + 85 * SEC);
	assert_non_null(lookup(r, &p)); /* restarted at +30 s */
	tr_advance_to(r, tw + 91 * SEC);
	assert_null(lookup(r, &p));
	tr_done(r);
}

/* DEVIATION(TIME-WAIT overflow) in tcp_timer.c: past max_timewait
 * connections in TIME-WAIT, one entering it still ACKs the peer's FIN but
 * leaves at the next tick (Linux's tcp_max_tw_buckets); the others keep
 * their 2 MSL. */
static void test_timewait_overflow(void **state)
{
	struct rig *r = *state;
	r->s->tcp.max_timewait = 1;
	uint64_t ov = tr_ctr(r, "TCP_TIMEWAIT_OVERFLOW");
	struct tr_peer p1, p2;
	int sd1 = estab(r, &p1, 40131, TR_ALL, NULL);
	int sd2 = estab(r, &p2, 40132, TR_ALL, NULL);
	close_both(r, &p1, sd1);
	assert_int_equal(r->s->tcp.ntimewait, 1);
	assert_int_equal(tr_ctr(r, "TCP_TIMEWAIT_OVERFLOW"), ov);
	/* The second: usnet closes, the peer ACKs and sends its FIN, which
	 * usnet ACKs; then it is gone within a tick. */
	rig_clear(r);
	assert_int_equal(usn_close(r->s, sd2), 0);
	rig_run(r);
	note_all(&p2, r);
	rig_clear(r);
	tr_seg(r, &p2, USN_TCP_ACK | USN_TCP_FIN, p2.nxt, p2.rcv, NULL, 0);
	p2.nxt++;
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags & (USN_TCP_ACK | USN_TCP_RST), USN_TCP_ACK);
	assert_int_equal(s.h.ack, p2.nxt);
	assert_int_equal(tr_ctr(r, "TCP_TIMEWAIT_OVERFLOW"), ov + 1);
	tr_advance(r, 5 * MSEC);
	assert_null(lookup(r, &p2));
	assert_int_equal(r->s->tcp.ntimewait, 1);
	tr_advance(r, 50 * SEC);
	assert_non_null(lookup(r, &p1));
	tr_advance(r, 11 * SEC);
	assert_null(lookup(r, &p1));
	assert_int_equal(r->s->tcp.ntimewait, 0);
	r->s->tcp.max_timewait = USN_TCP_MAX_TIMEWAIT;
	tr_done(r);
}

/* The connection table doubles once there are more connections than
 * buckets; every connection is found afterwards and leaves cleanly. */
static void test_conn_table_grows(void **state)
{
	struct rig *r = *state;
	enum { N = USN_TCP_HASH_MIN + 64 };
	struct tr_peer *p = calloc(N, sizeof(*p));
	int *sd = calloc(N, sizeof(*sd));
	assert_non_null(p);
	assert_non_null(sd);
	assert_int_equal(r->s->tcp.hash_mask + 1, USN_TCP_HASH_MIN);
	int l = tr_listen(r, LPORT, 16);
	for (int i = 0; i < N; i++) {
		tr_peer_init(&p[i], (uint16_t)(20000 + i), LPORT, TR_ALL);
		sd[i] = tr_open_passive(r, l, &p[i]);
	}
	assert_int_equal(r->s->tcp.hash_mask + 1, 2 * USN_TCP_HASH_MIN);
	for (int i = 0; i < N; i++) {
		struct usn_tcp_conn *c = lookup(r, &p[i]);
		assert_non_null(c);
		assert_int_equal(c->sd, sd[i]);
	}
	/* The peers reset them all; each is then closed by its user. */
	for (int i = 0; i < N; i++) {
		rig_clear(r);
		tr_seg(r, &p[i], USN_TCP_RST, p[i].nxt, 0, NULL, 0);
		assert_int_equal(tr_state(r, sd[i]), USN_TCP_CLOSED);
		assert_int_equal(usn_close(r->s, sd[i]), 0);
	}
	assert_int_equal(usn_close(r->s, l), 0);
	free(p);
	free(sd);
	tr_done(r);
}

/* RFC 6191 §2 (RFC 9293 §3.10.7.4 note): a SYN for a connection in
 * TIME-WAIT whose timestamp is newer starts a new incarnation through the
 * listener. */
static void test_timewait_syn_reuse(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int l;
	int sd = estab(r, &p, 40124, TR_ALL, &l);
	close_both(r, &p, sd);
	tr_advance(r, 1 * SEC);
	uint64_t reused = tr_ctr(r, "TCP_TIMEWAIT_REUSED");
	p.iss += 100000;
	p.tsval += 1000;
	struct tr_seg s;
	half_open(r, &p, &s);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.iss + 1);
	assert_int_equal(tr_ctr(r, "TCP_TIMEWAIT_REUSED"), reused + 1);
	assert_int_equal(lookup(r, &p)->state, USN_TCP_SYN_RECEIVED);
	accept_and_close(r, &p, l);
	tr_done(r);
}

/* RFC 6191 §2: with timestamps on both incarnations, a SYN whose TSval
 * equals the last one seen opens a new incarnation only when its sequence
 * number is beyond the old RCV.NXT; otherwise the TIME-WAIT connection
 * stays and answers with an ACK (RFC 9293 §3.10.7.4). */
static void test_timewait_syn_same_ts(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int l;
	int sd = estab(r, &p, 40126, TR_ALL, &l);
	close_both(r, &p, sd);
	tr_advance(r, 1 * SEC);
	uint64_t reused = tr_ctr(r, "TCP_TIMEWAIT_REUSED");
	struct usn_tcp_conn *tw = lookup(r, &p);
	assert_non_null(tw);
	uint32_t tw_rcv = tw->rcv_nxt;
	/* equal TSval, sequence number before the old RCV.NXT: not newer */
	p.tsval = tw->ts_recent;
	p.iss = tw_rcv - 100000;
	rig_clear(r);
	peer_syn(r, &p, NULL, 0);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.ack, tw_rcv);
	assert_int_equal(tr_ctr(r, "TCP_TIMEWAIT_REUSED"), reused);
	assert_non_null(lookup(r, &p));
	assert_int_equal(lookup(r, &p)->state, USN_TCP_TIME_WAIT);
	/* equal TSval, sequence number beyond it: a new incarnation */
	p.tsval = lookup(r, &p)->ts_recent;
	p.iss = tw_rcv + 100000;
	half_open(r, &p, &s);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.iss + 1);
	assert_int_equal(tr_ctr(r, "TCP_TIMEWAIT_REUSED"), reused + 1);
	assert_int_equal(lookup(r, &p)->state, USN_TCP_SYN_RECEIVED);
	accept_and_close(r, &p, l);
	tr_done(r);
}

/* The server side of a client that reopens a 4-tuple with an older
 * timestamp (a new process with another clock offset): RFC 6191 §2 does
 * not let the SYN in; PAWS (RFC 7323 §5.3) drops it with an ACK of the old
 * connection; the client's <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.3)
 * is in window and ends TIME-WAIT; its next SYN reaches the listener. */
static void test_timewait_syn_old_then_rst(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int l;
	int sd = estab(r, &p, 40127, TR_ALL, &l);
	close_both(r, &p, sd);
	tr_advance(r, 1 * SEC);
	uint64_t reused = tr_ctr(r, "TCP_TIMEWAIT_REUSED");
	uint64_t paws = tr_ctr(r, "TCP_DROP_PAWS");
	struct usn_tcp_conn *tw = lookup(r, &p);
	uint32_t tw_rcv = tw->rcv_nxt, tw_snd = tw->snd_nxt;
	p.tsval = tw->ts_recent - 1000000;
	p.iss = tw_rcv - 100000;
	rig_clear(r);
	peer_syn(r, &p, NULL, 0);
	struct tr_seg s = tr_only(r);
	assert_int_equal(s.h.flags, USN_TCP_ACK);
	assert_int_equal(s.h.seq, tw_snd);
	assert_int_equal(s.h.ack, tw_rcv);
	assert_int_equal(tr_ctr(r, "TCP_DROP_PAWS"), paws + 1);
	assert_int_equal(tr_ctr(r, "TCP_TIMEWAIT_REUSED"), reused);
	assert_int_equal(lookup(r, &p)->state, USN_TCP_TIME_WAIT);
	/* the client's reset: no answer, TIME-WAIT ends */
	rig_clear(r);
	struct usn_tcp_repr h;
	memset(&h, 0, sizeof(h));
	h.src_port = p.pport;
	h.dst_port = p.uport;
	h.seq = s.h.ack;
	h.flags = USN_TCP_RST;
	tr_emit(r, &h, NULL, 0);
	rig_run(r);
	assert_int_equal(tr_count(r), 0);
	assert_null(lookup(r, &p));
	/* the same SYN again: a new connection from the listener */
	p.tsval -= 1;
	half_open(r, &p, &s);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_int_equal(s.h.ack, p.iss + 1);
	assert_int_equal(tr_ctr(r, "TCP_TIMEWAIT_REUSED"), reused);
	accept_and_close(r, &p, l);
	tr_done(r);
}

/* RFC 9293 §3.6.1 (MAY-2): a connection reopened from TIME-WAIT "assigns
 * its initial sequence number for the new connection to be larger than the
 * largest sequence number it used on the previous connection incarnation",
 * even when the old one sent more than the RFC 6528 clock (4 µs) moved. */
static void test_timewait_syn_reuse_iss(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int l;
	int sd = estab(r, &p, 40128, TR_ALL, &l);
	static uint8_t d[60000];
	fill(d, sizeof(d), 0);
	assert_int_equal(usn_send(r->s, sd, d, sizeof(d), 0), (int)sizeof(d));
	rig_run(r);
	uint32_t end = p.uiss + 1 + sizeof(d);
	for (int i = 0; i < 50 && p.rcv != end; i++) {
		note_all(&p, r);
		rig_clear(r);
		tr_ack(r, &p);
	}
	assert_int_equal(p.rcv, end);
	close_both(r, &p, sd);
	uint32_t old_nxt = lookup(r, &p)->snd_nxt;
	assert_int_equal(old_nxt, end + 1); /* and the FIN */
	tr_advance(r, 1 * MSEC);
	p.iss += 100000;
	p.tsval += 1000;
	struct tr_seg s;
	half_open(r, &p, &s);
	assert_int_equal(s.h.flags, USN_TCP_SYN | USN_TCP_ACK);
	assert_true(usn_seq_geq(s.h.seq, old_nxt));
	accept_and_close(r, &p, l);
	tr_done(r);
}

/* RFC 9293 §3.10.4 and RFC 2525 §2.17: closing with unread data sends a
 * RST (<SEQ=SND.NXT>) instead of a FIN, and the connection is gone. */
static void test_established_close_unread(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40125, TR_ALL, NULL);
	tr_data(r, &p, "unread", 6);
	rig_clear(r);
	assert_int_equal(usn_close(r->s, sd), 0);
	rig_run(r);
	struct tr_seg s = tr_only(r);
	assert_true(s.h.flags & USN_TCP_RST);
	assert_false(s.h.flags & USN_TCP_FIN);
	assert_int_equal(s.h.seq, p.rcv);
	assert_null(lookup(r, &p));
	assert_int_equal(r->s->tcp.nconns, 0);
	tr_done(r);
}

/* RFC 9293 §3.10.4 (CLOSE in ESTABLISHED: "... continue to receive until
 * the remote side closes") - shutdown(SHUT_WR) is a half-close: data still
 * arrives and is delivered in FIN-WAIT-2; send after it fails with EPIPE. */
static void test_finwait2_half_close(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40126, TR_ALL, NULL);
	assert_int_equal(usn_shutdown(r->s, sd, USN_SHUT_WR), 0);
	rig_run(r);
	note_all(&p, r);
	assert_int_equal(usn_send(r->s, sd, "x", 1, 0), -EPIPE);
	rig_clear(r);
	tr_ack(r, &p);
	assert_int_equal(tr_state(r, sd), USN_TCP_FIN_WAIT_2);
	tr_data(r, &p, "still here", 10);
	char b[16];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 10);
	assert_memory_equal(b, "still here", 10);
	assert_int_equal(usn_send(r->s, sd, "x", 1, 0), -EPIPE);
	tr_seg(r, &p, USN_TCP_ACK | USN_TCP_FIN, p.nxt, p.rcv, NULL, 0);
	p.nxt++;
	assert_int_equal(tr_state(r, sd), USN_TCP_TIME_WAIT);
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 0);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

/* ================= API errors, as Linux ================= */

static void test_api_connect_twice(void **state)
{
	struct rig *r = *state;
	int sd = usn_socket(r->s, USN_SOCK_STREAM);
	struct usn_addr a = usn_addr_v4(RIG_PEER, 90);
	assert_int_equal(usn_connect(r->s, sd, &a), -EINPROGRESS);
	assert_int_equal(usn_connect(r->s, sd, &a), -EALREADY);
	assert_int_equal(usn_close(r->s, sd), 0);
	struct tr_peer p;
	tr_peer_init(&p, 91, 0, TR_ALL);
	sd = tr_open_active(r, &p);
	a = usn_addr_v4(RIG_PEER, 91);
	assert_int_equal(usn_connect(r->s, sd, &a), -EISCONN);
	assert_int_equal(usn_listen(r->s, sd, 5), -EINVAL); /* listen on a connected socket */
	assert_int_equal(usn_accept(r->s, sd, NULL), -EINVAL);
	close_both(r, &p, sd);
	tr_done(r);
}

static void test_api_errors(void **state)
{
	struct rig *r = *state;
	int a = usn_socket(r->s, USN_SOCK_STREAM), b = usn_socket(r->s, USN_SOCK_STREAM);
	assert_true(a >= 0 && b >= 0);
	char buf[4];
	assert_int_equal(usn_accept(r->s, a, NULL), -EINVAL);   /* not a listener */
	assert_int_equal(usn_send(r->s, a, "x", 1, 0), -ENOTCONN);
	assert_int_equal(usn_recv(r->s, a, buf, sizeof(buf), 0), -ENOTCONN);
	assert_int_equal(usn_shutdown(r->s, a, USN_SHUT_WR), -ENOTCONN);
	struct usn_addr pa;
	assert_int_equal(usn_getpeername(r->s, a, &pa), -ENOTCONN);
	struct usn_addr any = usn_addr_v4(0, LPORT);
	assert_int_equal(usn_bind(r->s, a, &any), 0);
	assert_int_equal(usn_bind(r->s, b, &any), -EADDRINUSE);
	assert_int_equal(usn_listen(r->s, a, 4), 0);
	assert_int_equal(usn_send(r->s, a, "x", 1, 0), -ENOTCONN);
	struct usn_addr to = usn_addr_v4(RIG_PEER, 80);
	assert_int_equal(usn_connect(r->s, a, &to), -EINVAL);
	assert_int_equal(usn_close(r->s, a), 0);
	assert_int_equal(usn_close(r->s, b), 0);
	tr_done(r);
}

/* A reset connection: recv gives ECONNRESET once, then end of stream;
 * send then fails with EPIPE (Linux). */
static void test_api_recv_after_rst(void **state)
{
	struct rig *r = *state;
	struct tr_peer p;
	int sd = estab(r, &p, 40130, TR_ALL, NULL);
	tr_seg(r, &p, USN_TCP_RST, p.nxt, 0, NULL, 0);
	char b[4];
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), -ECONNRESET);
	assert_int_equal(usn_recv(r->s, sd, b, sizeof(b), 0), 0);
	assert_int_equal(usn_send(r->s, sd, "x", 1, 0), -EPIPE);
	assert_int_equal(usn_close(r->s, sd), 0);
	tr_done(r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tr_setup, rig_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_listen_syn_options),
		T(test_listen_rst),
		T(test_listen_ack),
		T(test_listen_syn_data),
		T(test_listen_backlog_full),
		T(test_listen_syncookie),
		T(test_closed_syn),
		T(test_closed_ack),
		T(test_closed_rst),
		T(test_synsent_connect),
		T(test_synsent_bad_ack),
		T(test_synsent_old_ack_retry),
		T(test_synsent_old_ack_then_timeout),
		T(test_synsent_rst),
		T(test_synsent_synack),
		T(test_synsent_simultaneous_open),
		T(test_synsent_timeout),
		T(test_synsent_icmp_unreach),
		T(test_synrcvd_syn_retransmit),
		T(test_synrcvd_ack),
		T(test_synrcvd_rst),
		T(test_synrcvd_timeout),
		T(test_established_delayed_ack),
		T(test_established_ooo_sack),
		T(test_established_old_data),
		T(test_established_zero_window),
		T(test_established_persist),
		T(test_established_rst),
		T(test_established_syn),
		T(test_established_ack_unsent),
		T(test_established_challenge_limit),
		T(test_established_paws),
		T(test_established_bad_header),
		T(test_established_urgent),
		T(test_established_nagle),
		T(test_established_answer_and_close),
		T(test_synsent_ack_carries_request),
		T(test_closewait_ack_carries_fin),
		T(test_established_fast_retransmit),
		T(test_established_sack_recovery),
		T(test_established_rto),
		T(test_finwait2_orphan_data),
		T(test_established_keepalive),
		T(test_finwait1_active_close),
		T(test_closewait_passive_close),
		T(test_finwait1_simultaneous_close),
		T(test_timewait_fin_retransmit),
		T(test_timewait_overflow),
		T(test_conn_table_grows),
		T(test_timewait_syn_reuse),
		T(test_timewait_syn_same_ts),
		T(test_timewait_syn_old_then_rst),
		T(test_timewait_syn_reuse_iss),
		T(test_established_close_unread),
		T(test_finwait2_half_close),
		T(test_api_connect_twice),
		T(test_api_errors),
		T(test_api_recv_after_rst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
