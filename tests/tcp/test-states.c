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
	s = tr_only(r);
	assert_true(s.h.flags & USN_TCP_RST);
	assert_int_equal(s.h.dst_port, 40021);
	assert_int_equal(usn_abort(r->s, sd), 0);
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
	struct tr_seg d;
	assert_true(tr_next(r, 0, &d) >= 0);
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
 * the segment." The connection stays in SYN-SENT. */
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
		s = tr_only(r);
		assert_int_equal(s.h.flags, USN_TCP_RST);
		assert_int_equal(s.h.seq, bad[i]);
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
		T(test_synsent_rst),
		T(test_synsent_synack),
		T(test_synsent_simultaneous_open),
		T(test_synsent_timeout),
		T(test_synsent_icmp_unreach),
		T(test_synrcvd_syn_retransmit),
		T(test_synrcvd_ack),
		T(test_synrcvd_rst),
		T(test_synrcvd_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
