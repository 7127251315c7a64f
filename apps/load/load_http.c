// SPDX-License-Identifier: MIT
/*
 * load_http.c - usnet-load's HTTP/1.1 engine. N connections, each keeping
 * up to DEPTH requests in flight (pipelining); with --close one request
 * per connection ("Connection: close"), N connections at a time. The
 * requests are built once: DEPTH copies side by side, so one usn_send()
 * queues as many as a connection has room for. Responses are parsed as
 * they arrive, from the receive buffer itself (usn_recv_zc), by
 * http_resp.c; a request's latency runs from the usn_send() that took its
 * last byte to the event that brought its response's last byte.
 *
 * Counting: every request handed to a connection is either answered
 * (counted, whatever its status), failed (counted under one error kind),
 * or given back unanswered when the server closed a keep-alive connection
 * (after a "Connection: close" response or an idle close), and then sent
 * again on the next connection, as wrk does. So with -n N exactly N
 * requests are answered or failed. A failed connection attempt counts as
 * one failed request, so -n ends even against a closed port.
 *
 * Open loop (-R RATE): requests are issued on a schedule of RATE a second,
 * each handed to a connection that has room (round robin), whatever the
 * responses do; a request that finds no connection with room waits (counted
 * as a stall) and keeps its scheduled time, and its latency runs from that
 * time, not from when it was written: so a server that falls behind is
 * charged for the queue it causes (no "coordinated omission").
 *
 * Who closes: the client waits for the server's FIN before it closes
 * (closing second: LAST-ACK, no TIME-WAIT on our side), so --close at high
 * rates does not run through the 28232 ephemeral ports (32768-60999) that
 * TIME-WAIT (60 s in src/tcp) would hold; a connection whose server does
 * not close within the timeout is reset (counted in drain_aborted). When
 * no port is free, usn_connect() fails and the attempt counts as a
 * "ports" error.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "http_resp.h"
#include "load.h"

#define NS_PER_MS 1000000u
#define RECV_MAX (1u << 20)
#define TICK_NS (5 * NS_PER_MS) /* timeout checks */
/* The stack's ephemeral range (src/ip/ip.h), as Linux's ip_local_port_range. */
#define EPHEMERAL_LO 32768u
#define EPHEMERAL_HI 60999u

enum hstate { H_IDLE, H_CONNECTING, H_OPEN };

struct hconn {
	int sd;
	enum hstate st;
	uint32_t inflight;    /* written, waiting for a response */
	uint32_t pending;     /* handed to the connection, not wholly written */
	size_t out_rem;       /* bytes of the pending requests still to write */
	uint32_t ts_head;     /* the send times of the requests in flight: a ring of depth */
	uint64_t *ts;
	uint64_t t_start;     /* connection attempt */
	uint64_t retry_at;    /* H_IDLE: when to connect again */
	uint32_t responses;   /* on this connection */
	bool closing;         /* the last response said close */
	struct http_resp resp;
};

struct drain {
	int sd;               /* -1: free */
	uint64_t deadline;
};

struct hload {
	const struct load_opts *o;
	struct usn_stack *s;
	struct load_stats *st;
	struct hconn *c;
	uint64_t *ts_all;
	char *req;            /* depth copies of the request */
	size_t reqlen;
	uint32_t depth;
	uint64_t issued;      /* requests handed to connections (-n) */
	uint64_t done;        /* answered or failed (-n) */
	uint64_t measure_from;
	bool stopping;
	bool primed;          /* the first connection attempt has ended */
	uint32_t connecting;  /* connections in H_CONNECTING */
	uint32_t next_port;   /* the next local port to try */
	struct drain *drain;
	uint32_t ndrain, drain_cap, drain_used;
	/* open loop (-R) */
	uint64_t sched;       /* requests the schedule has issued */
	uint64_t sched_start;
	uint32_t cursor;      /* the next connection to try */
	bool room;            /* a connection may have room */
};

uint64_t load_http_errors(const struct load_stats *st)
{
	return st->err_connect + st->err_reset + st->err_timeout + st->err_parse + st->err_short + st->err_ports +
	       st->status_class[1] + st->status_class[4] + st->status_class[5];
}

static bool budget(struct hload *h)
{
	if (h->stopping)
		return false;
	return h->o->count == 0 || h->issued < h->o->count;
}

/* A request failed (one error counted by the caller). */
static void failed(struct hload *h, uint64_t n)
{
	h->done += n;
}

static bool measuring(const struct hload *h, uint64_t t)
{
	return t >= h->measure_from;
}

/* ---- the drain: connections whose last response is in, waiting for
 * the server's FIN ---- */

static void *drain_tag(uint32_t i)
{
	return (void *)(((uintptr_t)i << 1) | 1);
}

static void drain_free(struct hload *h, uint32_t i)
{
	h->drain[i].sd = -1;
	h->drain_used--;
}

static void drain_add(struct hload *h, int sd, uint64_t now)
{
	uint32_t i;
	if (h->drain_used == h->drain_cap) {
		/* Full: the server is slow to close; reset the oldest. */
		uint32_t old = 0;
		for (i = 1; i < h->drain_cap; i++)
			if (h->drain[i].deadline < h->drain[old].deadline)
				old = i;
		usn_abort(h->s, h->drain[old].sd);
		h->st->drain_aborted++;
		drain_free(h, old);
	}
	for (i = 0; i < h->drain_cap && h->drain[i].sd >= 0; i++)
		;
	/* i < drain_cap: one was free or freed above. */
	h->drain[i].sd = sd;
	h->drain[i].deadline = now + (uint64_t)h->o->timeout_ms * NS_PER_MS;
	h->drain_used++;
	usn_socket_set_udata(h->s, sd, drain_tag(i));
}

static void drain_run(struct hload *h, uint32_t i)
{
	int sd = h->drain[i].sd;
	if (sd < 0)
		return;
	for (;;) {
		struct iovec iov[2];
		int cnt;
		ssize_t n = usn_recv_zc(h->s, sd, iov, &cnt, RECV_MAX);
		if (n == -EAGAIN)
			return;
		if (n > 0) { /* after the last response: not ours to read */
			usn_recv_done(h->s, sd, (size_t)n);
			continue;
		}
		break; /* 0: their FIN; < 0: reset */
	}
	usn_close(h->s, sd);
	drain_free(h, i);
}

/* ---- connections ---- */

static void set_state(struct hload *h, struct hconn *c, enum hstate st)
{
	if (c->st == H_CONNECTING)
		h->connecting--;
	if (st == H_CONNECTING)
		h->connecting++;
	c->st = st;
}

static void conn_reset_state(struct hload *h, struct hconn *c)
{
	c->sd = -1;
	set_state(h, c, H_IDLE);
	c->inflight = c->pending = 0;
	c->out_rem = 0;
	c->ts_head = 0;
	c->responses = 0;
	c->closing = false;
	http_resp_init(&c->resp);
}

/* Requests handed to c that will not be answered there go back to the
 * pool, to be sent on another connection. */
static void give_back(struct hload *h, struct hconn *c, uint32_t n)
{
	h->issued -= n;
}

static void conn_connect(struct hload *h, struct hconn *c, uint64_t now);

/* Ends c's connection: reset (abort) or close after the server's FIN;
 * requests still on it are given back; a new one starts. */
static void conn_end(struct hload *h, struct hconn *c, bool abort, uint64_t now)
{
	give_back(h, c, c->inflight + c->pending);
	if (c->sd >= 0) {
		if (abort)
			usn_abort(h->s, c->sd);
		else
			usn_close(h->s, c->sd);
	}
	conn_reset_state(h, c);
	c->retry_at = now;
	conn_connect(h, c, now);
}

/* The connection failed: with parse, its current response could not be
 * read (framing lost: that request fails, the others are sent again);
 * else every request in flight fails with err (reset or timeout). */
static void conn_fail(struct hload *h, struct hconn *c, int err, bool parse, uint64_t now)
{
	struct load_stats *st = h->st;
	uint32_t n = parse ? (c->inflight > 0 ? 1 : 0) : c->inflight;
	bool m = measuring(h, c->inflight > 0 ? c->ts[c->ts_head] : now);
	if (m) {
		if (parse)
			st->err_parse++; /* also bytes with no request in flight */
		else if (err == -ETIMEDOUT)
			st->err_timeout += n;
		else
			st->err_reset += n;
	}
	failed(h, n);
	c->inflight -= n;
	conn_end(h, c, true, now);
}

/* A connection attempt failed: counted as one failed request. */
static void connect_failed(struct hload *h, struct hconn *c, int err, uint64_t now)
{
	struct load_stats *st = h->st;
	if (measuring(h, c->t_start)) {
		if (err == -EADDRINUSE || err == -EMFILE || err == -EADDRNOTAVAIL || err == -ENOBUFS) {
			st->err_ports++;
		} else {
			st->err_connect++;
			if (err == -ECONNREFUSED)
				st->err_connect_refused++;
			else if (err == -ETIMEDOUT)
				st->err_connect_timeout++;
			else
				st->err_connect_unreach++;
		}
	}
	if (budget(h)) {
		h->issued++;
		failed(h, 1);
	}
	if (c->sd >= 0)
		usn_abort(h->s, c->sd);
	conn_reset_state(h, c);
	/* No port free: wait a little for one (LAST-ACKs end in one RTT). */
	c->retry_at = now + (err == -EADDRINUSE || err == -EMFILE ? NS_PER_MS : 0);
}

static void conn_connect(struct hload *h, struct hconn *c, uint64_t now)
{
	if (!budget(h) || now < c->retry_at)
		return;
	/* At most --max-connecting attempts at once; the others wait for
	 * the next tick (5 ms). All of 10 000 at once, the SYN-ACKs came back
	 * faster than one core takes them, the kernel dropped most on the
	 * full receive ring, and the retransmissions, all timed from the same
	 * start, came back as the same burst. */
	if (h->connecting >= h->o->max_connecting)
		return;
	c->t_start = now;
	int sd = usn_socket(h->s, USN_SOCK_STREAM);
	if (sd < 0) {
		connect_failed(h, c, sd, now);
		return;
	}
	c->sd = sd;
	/* Local ports in turn through the ephemeral range, not at random
	 * (as the stack picks them): a port comes back only after all the
	 * others, so a new connection rarely meets the server's TIME-WAIT of
	 * an earlier one with the same ports, which the server may answer
	 * with an ACK instead of a SYN-ACK (its PAWS check against our
	 * per-connection timestamp offset), costing a SYN retransmission. */
	int rc = -EADDRINUSE;
	for (int tries = 0; tries < 64 && rc == -EADDRINUSE; tries++) {
		struct usn_addr local = usn_addr_v4(0, (uint16_t)h->next_port);
		h->next_port = h->next_port == EPHEMERAL_HI ? EPHEMERAL_LO : h->next_port + 1;
		rc = usn_bind(h->s, sd, &local);
	}
	if (rc < 0) {
		connect_failed(h, c, rc, now);
		return;
	}
	int one = 1;
	usn_setsockopt(h->s, sd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	usn_socket_set_udata(h->s, sd, c);
	rc = usn_connect(h->s, sd, &h->o->server);
	if (rc < 0 && rc != -EINPROGRESS) {
		connect_failed(h, c, rc, now);
		return;
	}
	set_state(h, c, H_CONNECTING);
	if (measuring(h, now))
		h->st->conns++;
}

/* Writes what is pending; false when c failed (and was restarted). */
static bool conn_write(struct hload *h, struct hconn *c, uint64_t now)
{
	while (c->out_rem > 0) {
		size_t total = h->reqlen * h->depth;
		size_t pos = (h->reqlen - c->out_rem % h->reqlen) % h->reqlen;
		size_t len = total - pos < c->out_rem ? total - pos : c->out_rem;
		ssize_t w = usn_send(h->s, c->sd, h->req + pos, len, 0);
		if (w == -EAGAIN)
			return true;
		if (w < 0) {
			conn_fail(h, c, (int)w, false, now);
			return false;
		}
		/* Requests whose last byte went with this send. */
		size_t before = (c->out_rem + h->reqlen - 1) / h->reqlen;
		c->out_rem -= (size_t)w;
		size_t after = (c->out_rem + h->reqlen - 1) / h->reqlen;
		for (size_t k = before; k > after; k--) {
			/* Open loop: the slot already holds the scheduled time. */
			if (h->o->rate <= 0)
				c->ts[(c->ts_head + c->inflight) % h->depth] = now;
			c->inflight++;
			c->pending--;
			if (measuring(h, now))
				h->st->sent++;
		}
	}
	return true;
}

/* Whether c can take one more request now. */
static bool conn_has_room(const struct hload *h, const struct hconn *c)
{
	if (c->st != H_OPEN || c->closing)
		return false;
	if (h->o->close)
		return c->responses == 0 && c->inflight + c->pending == 0;
	return c->inflight + c->pending < h->depth;
}

/* Hands c as many requests as it has room for and writes them (closed
 * loop); in the open loop only writes what the schedule handed it. */
static bool conn_fill(struct hload *h, struct hconn *c, uint64_t now)
{
	if (h->o->rate > 0) {
		h->room = true;
		return c->st != H_OPEN || conn_write(h, c, now);
	}
	if (c->st != H_OPEN || c->closing)
		return true;
	if (h->o->close && (c->responses > 0 || c->inflight + c->pending > 0))
		return true;
	uint32_t room = h->depth - c->inflight - c->pending;
	while (room > 0 && budget(h)) {
		c->pending++;
		c->out_rem += h->reqlen;
		h->issued++;
		room--;
		if (h->o->close)
			break;
	}
	return conn_write(h, c, now);
}

/* One response is complete on c. */
static void response_done(struct hload *h, struct hconn *c, uint64_t now)
{
	struct load_stats *st = h->st;
	uint64_t t0 = c->ts[c->ts_head];
	c->ts_head = (c->ts_head + 1) % h->depth;
	c->inflight--;
	c->responses++;
	h->done++;
	if (measuring(h, t0)) {
		hist_record(&st->hist, now - t0);
		st->requests++;
		st->bytes += c->resp.bytes;
		st->body_bytes += c->resp.body_bytes;
		int cls = c->resp.status / 100;
		if (cls >= 1 && cls <= 5)
			st->status_class[cls]++;
	}
	if (c->resp.close || h->o->close)
		c->closing = true;
}

/* The server ended the stream (FIN). */
static void conn_eof(struct hload *h, struct hconn *c, uint64_t now)
{
	struct load_stats *st = h->st;
	if (c->inflight > 0) {
		if (http_resp_eof(&c->resp)) {
			response_done(h, c, now);
		} else if (!http_resp_idle(&c->resp) || c->responses == 0) {
			/* Cut mid-response, or a connection that answered
			 * nothing (counted, so that -n makes progress). */
			if (measuring(h, c->ts[c->ts_head]))
				st->err_short++;
			c->ts_head = (c->ts_head + 1) % h->depth;
			c->inflight--;
			failed(h, 1);
		}
	}
	/* The rest were not answered on this connection: given back. We
	 * close second, so no TIME-WAIT here. */
	conn_end(h, c, false, now);
}

/* Reads and parses what has arrived; false when c was restarted. */
static bool conn_read(struct hload *h, struct hconn *c, uint64_t now)
{
	for (;;) {
		struct iovec iov[2];
		int cnt;
		ssize_t n = usn_recv_zc(h->s, c->sd, iov, &cnt, RECV_MAX);
		if (n == -EAGAIN)
			break;
		if (n == 0) {
			conn_eof(h, c, now);
			return false;
		}
		if (n < 0) {
			conn_fail(h, c, (int)n, false, now);
			return false;
		}
		for (int k = 0; k < cnt; k++) {
			const uint8_t *p = iov[k].iov_base;
			size_t len = iov[k].iov_len;
			while (len > 0) {
				if (c->inflight == 0 || c->closing) {
					/* Bytes nobody asked for. */
					if (c->closing)
						break;
					conn_fail(h, c, 0, true, now);
					return false;
				}
				size_t used = http_resp_feed(&c->resp, p, len);
				p += used;
				len -= used;
				if (c->resp.state == HR_DONE) {
					response_done(h, c, now);
					http_resp_init(&c->resp);
				} else if (c->resp.state == HR_ERROR) {
					conn_fail(h, c, 0, true, now);
					return false;
				}
			}
		}
		usn_recv_done(h->s, c->sd, (size_t)n);
	}
	if (c->closing) {
		/* Close second: wait for the server's FIN elsewhere and start
		 * the next connection now. */
		give_back(h, c, c->inflight + c->pending);
		drain_add(h, c->sd, now);
		conn_reset_state(h, c);
		c->retry_at = now;
		conn_connect(h, c, now);
		return false;
	}
	return true;
}

static void conn_event(struct hload *h, struct hconn *c, uint64_t now)
{
	if (c->st == H_CONNECTING) {
		int e = usn_sock_error(h->s, c->sd);
		if (e < 0) {
			connect_failed(h, c, e, now);
			conn_connect(h, c, now);
			return;
		}
		if (!(usn_socket_poll(h->s, c->sd) & USN_EV_OUT))
			return;
		set_state(h, c, H_OPEN);
	}
	if (c->st != H_OPEN)
		return;
	if (c->out_rem > 0 && !conn_write(h, c, now))
		return;
	if (!conn_read(h, c, now))
		return;
	conn_fill(h, c, now);
}

/* Open loop: issues the requests due by now, each with its scheduled
 * time, to connections with room, in turn. */
static void schedule(struct hload *h, uint64_t now)
{
	const double rate = h->o->rate;
	uint64_t due = (uint64_t)((double)(now - h->sched_start) / 1e9 * rate) + 1;
	while (h->sched < due && budget(h)) {
		/* Every connection was busy: nothing is scanned again until
		 * one may have room (an event or a tick on a connection). */
		if (!h->room)
			return;
		struct hconn *c = NULL;
		for (uint32_t k = 0; k < h->o->conns; k++) {
			struct hconn *x = &h->c[h->cursor];
			h->cursor = h->cursor + 1 == h->o->conns ? 0 : h->cursor + 1;
			if (conn_has_room(h, x)) {
				c = x;
				break;
			}
		}
		if (!c) {
			/* The request waits, its time keeps running: one
			 * stall, however long it lasts. */
			h->room = false;
			if (measuring(h, now))
				h->st->stalls++;
			return;
		}
		c->ts[(c->ts_head + c->inflight + c->pending) % h->depth] =
			h->sched_start + (uint64_t)((double)h->sched / rate * 1e9);
		c->pending++;
		c->out_rem += h->reqlen;
		h->issued++;
		h->sched++;
		conn_write(h, c, now);
	}
}

/* The first connection found the server's MAC: the others can go (all at
 * once, they would overflow the stack's queue of frames waiting for ARP,
 * 8 per neighbour, and wait for a SYN retransmission). */
static void prime(struct hload *h, uint64_t now)
{
	/* Not longer than 100 ms: a first SYN lost must not hold the others
	 * for its retransmission. */
	if (h->primed || (h->c[0].st == H_CONNECTING && now - h->c[0].t_start < 100 * NS_PER_MS))
		return;
	h->primed = true;
	for (uint32_t i = 1; i < h->o->conns; i++) {
		h->c[i].retry_at = now;
		conn_connect(h, &h->c[i], now);
	}
}

/* Timeouts, retries, drains: every TICK_NS. */
static void tick(struct hload *h, uint64_t now)
{
	uint64_t tmo = (uint64_t)h->o->timeout_ms * NS_PER_MS;
	for (uint32_t i = 0; i < h->o->conns; i++) {
		struct hconn *c = &h->c[i];
		switch (c->st) {
		case H_IDLE:
			conn_connect(h, c, now);
			break;
		case H_CONNECTING:
			if (now - c->t_start >= tmo) {
				connect_failed(h, c, -ETIMEDOUT, now);
				conn_connect(h, c, now);
			}
			break;
		case H_OPEN:
			if (c->inflight > 0 && now - c->ts[c->ts_head] >= tmo)
				conn_fail(h, c, -ETIMEDOUT, false, now);
			else
				conn_fill(h, c, now);
			break;
		}
	}
	for (uint32_t i = 0; i < h->drain_cap; i++)
		if (h->drain[i].sd >= 0 && now >= h->drain[i].deadline) {
			usn_abort(h->s, h->drain[i].sd);
			h->st->drain_aborted++;
			drain_free(h, i);
		}
}

static int build_request(struct hload *h)
{
	const struct load_opts *o = h->o;
	char one[4096];
	int n = snprintf(one, sizeof(one), "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: usnet-load\r\n%s\r\n", o->path,
			 o->host, o->close ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(one)) {
		fprintf(stderr, "usnet-load: the request is too long\n");
		return -1;
	}
	h->reqlen = (size_t)n;
	h->req = malloc(h->reqlen * h->depth);
	if (!h->req)
		return -1;
	for (uint32_t i = 0; i < h->depth; i++)
		memcpy(h->req + i * h->reqlen, one, h->reqlen);
	return 0;
}

int load_http_run(struct usn_stack *s, const struct load_opts *o, struct load_stats *st)
{
	struct hload h = {.o = o, .s = s, .st = st};
	h.depth = o->close ? 1 : o->depth;
	h.c = calloc(o->conns, sizeof(*h.c));
	h.ts_all = calloc((size_t)o->conns * h.depth, sizeof(*h.ts_all));
	h.drain_cap = o->conns * 4 + 64;
	h.drain = calloc(h.drain_cap, sizeof(*h.drain));
	int rc = -1;
	if (!h.c || !h.ts_all || !h.drain || build_request(&h) < 0) {
		fprintf(stderr, "usnet-load: out of memory\n");
		goto out;
	}
	for (uint32_t i = 0; i < h.drain_cap; i++)
		h.drain[i].sd = -1;
	hist_init(&st->hist);

	uint64_t start = load_now_ns();
	uint64_t warm_end = start + (uint64_t)(o->warmup_s * 1e9);
	h.measure_from = o->warmup_s > 0 ? warm_end : start;
	uint64_t end = o->count ? UINT64_MAX : h.measure_from + (uint64_t)(o->duration_s * 1e9);
	uint32_t r;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)start;
	h.next_port = EPHEMERAL_LO + r % (EPHEMERAL_HI - EPHEMERAL_LO + 1);
	for (uint32_t i = 0; i < o->conns; i++) {
		h.c[i].st = H_IDLE;
		conn_reset_state(&h, &h.c[i]);
		h.c[i].ts = h.ts_all + (size_t)i * h.depth;
		h.c[i].retry_at = i == 0 ? start : UINT64_MAX;
	}
	conn_connect(&h, &h.c[0], start);
	uint64_t next_tick = start + TICK_NS, last = start;
	bool warm = o->warmup_s > 0;
	int poll_ms = 1;
	h.sched_start = UINT64_MAX; /* open loop: from the first connection */
	while (!load_quit) {
		int n = usn_stack_poll(s, poll_ms);
		if (n < 0 && n != -EINTR)
			break;
		struct usn_event ev[256];
		int k;
		while ((k = usn_events(s, ev, 256)) > 0) {
			uint64_t now = load_now_ns();
			for (int i = 0; i < k; i++) {
				uintptr_t u = (uintptr_t)ev[i].udata;
				/* An event may be stale: its descriptor closed and
				 * reused while this batch was handled. */
				if (u & 1) {
					if (h.drain[u >> 1].sd == ev[i].sd)
						drain_run(&h, (uint32_t)(u >> 1));
				} else if (u && ((struct hconn *)ev[i].udata)->sd == ev[i].sd) {
					conn_event(&h, (struct hconn *)ev[i].udata, now);
				}
			}
		}
		uint64_t now = load_now_ns();
		last = now;
		prime(&h, now);
		if (warm && now >= warm_end) {
			/* Figures start now; requests sent before are not counted. */
			warm = false;
			memset(st, 0, sizeof(*st));
			hist_init(&st->hist);
		}
		if (now >= next_tick) {
			next_tick = now + TICK_NS;
			tick(&h, now);
		}
		if (o->rate > 0) {
			/* The schedule starts when the first connection is up
			 * (ARP and its handshake are not the server's delay). */
			if (h.sched_start == UINT64_MAX && h.c[0].st == H_OPEN)
				h.sched_start = now;
			if (h.sched_start != UINT64_MAX) {
				schedule(&h, now);
				uint64_t next = h.sched_start + (uint64_t)((double)h.sched / o->rate * 1e9);
				/* Sleep (1 ms at most) only when the next request
				 * is not due sooner. */
				poll_ms = next > now + NS_PER_MS ? 1 : 0;
			}
		}
		if (now >= end)
			break;
		if (o->count && h.done >= o->count)
			break;
	}
	st->duration_s = (double)(last - h.measure_from) / 1e9;
	if (st->duration_s <= 0)
		st->duration_s = 1e-9;
	/* Stop: close what is open (answered or not) and let the FINs out. */
	h.stopping = true;
	for (uint32_t i = 0; i < o->conns; i++)
		if (h.c[i].sd >= 0)
			usn_close(s, h.c[i].sd);
	for (uint32_t i = 0; i < h.drain_cap; i++)
		if (h.drain[i].sd >= 0)
			usn_close(s, h.drain[i].sd);
	uint64_t stop = load_now_ns();
	while (load_now_ns() - stop < 50 * NS_PER_MS) {
		usn_stack_poll(s, 5);
		struct usn_event ev[256];
		while (usn_events(s, ev, 256) > 0)
			;
	}
	rc = 0;
out:
	free(h.c);
	free(h.ts_all);
	free(h.drain);
	free(h.req);
	return rc;
}
