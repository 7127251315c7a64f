// SPDX-License-Identifier: MIT
/*
 * test-sim-tcp.c - TCP between two stacks over the in-memory link, across
 * many seeds, with random impairments (loss up to 10 % each way,
 * duplication, reordering, delay and jitter, bit corruption).
 *
 * Workload per seed: up to 8 flows between A and B, each of a seeded kind:
 *   bulk     one connection A->B carrying 0 to 300 KB in both directions at
 *            once; each side half-closes when it has sent everything and
 *            closes when it has also read the peer's end of stream;
 *   churn    the same with a few bytes, repeated over up to 6 successive
 *            connections (open/close churn);
 *   abort    like bulk, but A resets the connection (usn_abort) part way;
 *            B must see ECONNRESET after a correct prefix of the data;
 *   simopen  both stacks connect to each other at once (simultaneous open,
 *            RFC 9293 §3.5), then as bulk (often a simultaneous close).
 * Senders use send(), usn_sendfile() from a file holding the pattern, or
 * usn_send_ref() from a mapping of that file lent with its block checksum
 * sums kept (usn_memref_sums(), as usn-httpd's cache does); receivers use
 * recv() or the zero-copy usn_recv_zc().
 * Properties checked on every seed:
 *   - every byte arrives exactly once and in order (a position-dependent
 *     pattern is verified on receipt);
 *   - every connection finishes cleanly (no reset, no timeout) within the
 *     time bound;
 *   - usn_tcp_conn_check() holds for every connection after every step;
 *   - after the faults stop and TIME-WAIT (60 s) passes, no connection is
 *     left and both buffer pools are back to their baseline.
 * One seed in three runs with the link's send offloads (checksum, TSO);
 * of the others, one in two without scatter-gather (every frame copied),
 * one in two with it (lent memory sent by reference, checksummed by the
 * stack from kept block sums).
 * One seed in five makes every connection through SYN cookies; one in
 * seven lowers the link's MTU part way, with the link answering
 * oversized packets by ICMP "fragmentation needed" (RFC 1191), so TCP must
 * find the new path MTU and carry on.
 * Every seed also runs a fixed scenario of its own with a seeded delay:
 * a client reconnects from the same port to a server that holds the old
 * connection in TIME-WAIT, with a timestamp older or newer than the last the
 * server saw (run_timewait(): the server's RFC 6191 check, and the
 * client's reset and immediate SYN after an old ACK, RFC 9293 §3.10.7.3).
 * Usage: test-sim-tcp [--seeds N] [--first S] [--seed S] [-v]
 * A failing seed is printed with the command that replays it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rand.h"
#include "sim.h"
#include "util.h"
#include "wire_eth.h"
#include "wire_ipv4.h"
#include "wire_tcp.h"

#define MAX_FLOWS 8
#define PORT 5000
#define TIME_LIMIT (1800 * USN_NSEC_PER_SEC)

struct side {
	int sd;
	uint64_t to_send, sent, received, expect;
	bool shut, eof, closed;
	int file_fd;  /* >= 0: send with usn_sendfile() from this file */
	struct lent *lent; /* not NULL: send with usn_send_ref() from this */
	bool zc;      /* receive with usn_recv_zc() */
};

/* A mapping of a pattern file lent to the stack; the run holds one
 * reference until the end, the stack one per queued piece. */
struct lent {
	struct usn_memref ref;
	uint8_t *map;
	size_t len;
};

static void lent_release(struct usn_memref *ref)
{
	struct lent *m = USN_CONTAINER_OF(ref, struct lent, ref);
	usn_memref_sums_free(ref);
	munmap(m->map, m->len);
	free(m);
}

enum flow_kind { FLOW_BULK, FLOW_CHURN, FLOW_ABORT, FLOW_SIMOPEN };

struct flow {
	enum flow_kind kind;
	struct side a, b;   /* a: on stack A (client), b: on stack B (server) */
	uint16_t port;      /* A's local port */
	int rounds_left;    /* churn: connections still to make */
	uint64_t abort_at;  /* abort: A resets once it sent this much */
	bool aborted;
};

struct run {
	struct sim sim;
	int lsd;
	uint16_t used_ports[MAX_FLOWS * 8]; /* every client port accepted so far */
	struct usn_memlink_dir_cfg ab, ba;  /* the link's impairments */
	uint64_t mtu_change_at;             /* 0: none */
	uint32_t new_mtu;
	int nused;
	int nflows;
	struct flow f[MAX_FLOWS];
	int done;
	bool failed;
	bool verbose;
	char why[300];
	uint8_t buf[131072];
};

static uint8_t pattern(uint64_t seed, int flow, int dir, uint64_t i)
{
	uint64_t x = i ^ (i >> 11) ^ (i >> 23);
	return (uint8_t)(x * 131 + (uint64_t)flow * 17 + (uint64_t)dir * 29 + seed * 7 + (i >> 8));
}

#define fail(r, ...)                                                  \
	do {                                                          \
		if (!(r)->failed) {                                   \
			(r)->failed = true;                           \
			snprintf((r)->why, sizeof((r)->why), __VA_ARGS__); \
		}                                                     \
	} while (0)

static void check_invariants(struct run *r, struct usn_stack *s, const char *name)
{
	uint32_t tw = 0;
	for (uint32_t i = 0; i <= s->tcp.hash_mask; i++)
		for (struct usn_tcp_conn *c = s->tcp.hash[i]; c; c = c->hnext) {
			tw += c->state == USN_TCP_TIME_WAIT;
			int rc = usn_tcp_conn_check(c);
			if (rc != 0 && !r->failed) {
				r->failed = true;
				snprintf(r->why, sizeof(r->why), "stack %s: invariant %d broken in %s", name, rc,
					 usn_tcp_state_name(c->state));
			}
		}
	if (tw != s->tcp.ntimewait)
		fail(r, "stack %s: %u connections in TIME-WAIT, %u counted", name, tw, s->tcp.ntimewait);
}

/* Moves one side forward: send, receive and verify, shut, close. */
static void side_step(struct run *r, struct usn_stack *s, struct side *sd, int flow, int dir)
{
	struct flow *f = &r->f[flow];
	if (sd->sd < 0 || sd->closed)
		return;
	if (f->kind == FLOW_ABORT && dir == 0 && sd->sent >= f->abort_at && sd->received > 0) {
		usn_abort(s, sd->sd);
		sd->closed = true;
		f->aborted = true;
		r->done++;
		return;
	}
	if (f->kind == FLOW_ABORT && dir == 1) {
		int e = usn_sock_error(s, sd->sd);
		if (e == -ECONNRESET) {
			usn_close(s, sd->sd);
			sd->closed = true;
			r->done++;
			return;
		}
		if (e < 0) {
			fail(r, "flow %d: server error %d, not ECONNRESET", flow, e);
			return;
		}
	}
	while (sd->lent && sd->sent < sd->to_send) {
		ssize_t w = usn_send_ref(s, sd->sd, sd->lent->map + sd->sent, (size_t)(sd->to_send - sd->sent),
					 &sd->lent->ref);
		if (w == -EAGAIN || w == 0)
			break;
		if (w < 0) {
			if (w == -ECONNRESET && f->kind == FLOW_ABORT && dir == 1) {
				usn_close(s, sd->sd);
				sd->closed = true;
				r->done++;
				return;
			}
			fail(r, "flow %d: send_ref failed: %lld", flow, (long long)w);
			return;
		}
		sd->sent += (uint64_t)w;
	}
	while (!sd->lent && sd->file_fd >= 0 && sd->sent < sd->to_send) {
		off_t off = (off_t)sd->sent;
		ssize_t w = usn_sendfile(s, sd->sd, sd->file_fd, &off, (size_t)(sd->to_send - sd->sent));
		if (w == -EAGAIN || w == 0)
			break;
		if (w < 0) {
			if (w == -ECONNRESET && f->kind == FLOW_ABORT && dir == 1) {
				usn_close(s, sd->sd);
				sd->closed = true;
				r->done++;
				return;
			}
			fail(r, "flow %d: sendfile failed: %lld", flow, (long long)w);
			return;
		}
		if ((uint64_t)off != sd->sent + (uint64_t)w) {
			fail(r, "flow %d: sendfile offset %lld", flow, (long long)off);
			return;
		}
		sd->sent += (uint64_t)w;
	}
	while (!sd->lent && sd->file_fd < 0 && sd->sent < sd->to_send) {
		uint64_t n = USN_MIN(sd->to_send - sd->sent, (uint64_t)sizeof(r->buf));
		for (uint64_t i = 0; i < n; i++)
			r->buf[i] = pattern(r->sim.seed, flow, dir, sd->sent + i);
		ssize_t w = usn_send(s, sd->sd, r->buf, (size_t)n, 0);
		if (w == -EAGAIN)
			break;
		if (w == -ECONNRESET && f->kind == FLOW_ABORT && dir == 1) {
			/* As on Linux the error is reported once, by the call
			 * that meets it. */
			usn_close(s, sd->sd);
			sd->closed = true;
			r->done++;
			return;
		}
		if (w < 0) {
			fail(r, "flow %d: send failed: %lld", flow, (long long)w);
			return;
		}
		sd->sent += (uint64_t)w;
	}
	/* An aborting client never half-closes: it resets instead. */
	if (sd->sent == sd->to_send && !sd->shut && !(f->kind == FLOW_ABORT && dir == 0)) {
		int rc = usn_shutdown(s, sd->sd, USN_SHUT_WR);
		if (rc < 0) {
			fail(r, "flow %d: shutdown failed: %d", flow, rc);
			return;
		}
		sd->shut = true;
	}
	while (!sd->eof) {
		ssize_t n;
		if (sd->zc) {
			struct iovec iov[2];
			int cnt = 0;
			n = usn_recv_zc(s, sd->sd, iov, &cnt, 100000);
			if (n > 0) {
				size_t at = 0;
				for (int i = 0; i < cnt; i++) {
					memcpy(r->buf + at, iov[i].iov_base, USN_MIN(iov[i].iov_len, sizeof(r->buf) - at));
					at += iov[i].iov_len;
				}
				if (at != (size_t)n || at > sizeof(r->buf)) {
					fail(r, "flow %d: zero-copy iovecs cover %zu of %zd bytes", flow, at, n);
					return;
				}
				usn_recv_done(s, sd->sd, (size_t)n);
			}
		} else {
			n = usn_recv(s, sd->sd, r->buf, sizeof(r->buf), 0);
		}
		if (n == -EAGAIN)
			break;
		if (n == -ECONNRESET && f->kind == FLOW_ABORT && dir == 1) {
			usn_close(s, sd->sd);
			sd->closed = true;
			r->done++;
			return;
		}
		if (n < 0) {
			fail(r, "flow %d: recv failed: %lld", flow, (long long)n);
			return;
		}
		if (n == 0) {
			if (f->kind == FLOW_ABORT && dir == 1) {
				fail(r, "flow %d: end of stream from a client that reset", flow);
				return;
			}
			sd->eof = true;
			if (sd->received != sd->expect)
				fail(r, "flow %d: end of stream after %lld bytes", flow, (long long)sd->received);
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			if (r->buf[i] != pattern(r->sim.seed, flow, !dir, sd->received + (uint64_t)i)) {
				fail(r, "flow %d: wrong byte at offset %lld", flow, (long long)(sd->received + (uint64_t)i));
				return;
			}
		sd->received += (uint64_t)n;
		if (sd->received > sd->expect) {
			fail(r, "flow %d: %lld bytes, more than sent", flow, (long long)sd->received);
			return;
		}
	}
	if (sd->shut && sd->eof) {
		struct usn_tcp_info ti;
		/* Everything acknowledged; or the connection already ended
		 * without an error: a FIN whose ACK was lost and that was sent
		 * again after the peer's TIME-WAIT had ended meets a RST
		 * (RFC 9293 §3.10.7.4, LAST-ACK/CLOSING), as on Linux. */
		if (usn_tcp_info(s, sd->sd, &ti) == 0 &&
		    ((ti.unacked == 0 && ti.send_queue == 0) || ti.state == 0 /* CLOSED */)) {
			usn_close(s, sd->sd);
			sd->closed = true;
			r->done++;
		}
	}
}

static bool app_step(void *arg)
{
	struct run *r = arg;
	struct sim *sim = &r->sim;
	if (r->mtu_change_at && sim->now >= r->mtu_change_at) {
		r->ab.mtu = r->ba.mtu = r->new_mtu;
		r->ab.icmp_frag_needed = r->ba.icmp_frag_needed = true;
		usn_memlink_set_cfg(sim->link, 0, &r->ab);
		usn_memlink_set_cfg(sim->link, 1, &r->ba);
		r->mtu_change_at = 0;
		sim->wake = UINT64_MAX;
	}
	/* Accept on B and pair each connection with its flow by port. */
	for (;;) {
		struct usn_addr peer;
		int sd = usn_accept(sim->b, r->lsd, &peer);
		if (sd < 0)
			break;
		bool found = false;
		for (int i = 0; i < r->nflows; i++)
			if (r->f[i].kind != FLOW_SIMOPEN && r->f[i].port == peer.port && r->f[i].b.sd < 0) {
				r->f[i].b.sd = sd;
				if (r->nused < (int)USN_ARRAY_SIZE(r->used_ports))
					r->used_ports[r->nused++] = peer.port;
				if (r->f[i].kind == FLOW_ABORT) {
					int one = 1, idle = 20, intvl = 5;
					usn_setsockopt(sim->b, sd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
					usn_setsockopt(sim->b, sd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
					usn_setsockopt(sim->b, sd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
				}
				found = true;
			}
		if (!found) {
			/* With SYN cookies a delayed duplicate of a finished
			 * connection's first ACK validates again and makes a
			 * ghost connection (RFC 4987 §3.6 notes what cookies
			 * lose); it is reset. Anywhere else it is a bug. */
			bool ghost = false;
			for (int i = 0; i < r->nused; i++)
				if (r->used_ports[i] == peer.port)
					ghost = sim->b->tcp.syn_backlog == 0;
			if (ghost)
				usn_abort(sim->b, sd);
			else
				fail(r, "accepted an unknown connection from port %d", peer.port);
		}
	}
	struct usn_event ev[64];
	while (usn_events(sim->a, ev, 64) > 0 || usn_events(sim->b, ev, 64) > 0)
		;
	for (int i = 0; i < r->nflows; i++) {
		struct flow *f = &r->f[i];
		int e = f->a.closed ? 0 : usn_sock_error(sim->a, f->a.sd);
		if (e < 0) {
			fail(r, "flow %d: client error %d", i, e);
			return true;
		}
		struct usn_tcp_info ti;
		if (!f->a.closed && usn_tcp_info(sim->a, f->a.sd, &ti) == 0 && ti.state != 2 /* SYN-SENT */)
			side_step(r, sim->a, &f->a, i, 0);
		if (f->kind == FLOW_SIMOPEN && !f->b.closed) {
			int eb = usn_sock_error(sim->b, f->b.sd);
			if (eb < 0) {
				fail(r, "flow %d: simultaneous open, B error %d", i, eb);
				return true;
			}
			if (usn_tcp_info(sim->b, f->b.sd, &ti) == 0 && ti.state == 2)
				continue;
		}
		side_step(r, sim->b, &f->b, i, 1);
		if (f->kind == FLOW_CHURN && f->a.closed && f->b.closed && f->rounds_left > 0) {
			/* The next connection of this flow. */
			f->rounds_left--;
			uint64_t na = f->a.to_send, nb = f->b.to_send;
			memset(&f->a, 0, sizeof(f->a));
			memset(&f->b, 0, sizeof(f->b));
			f->a.to_send = f->b.expect = nb;
			f->b.to_send = f->a.expect = na;
			f->b.sd = -1;
			f->a.file_fd = f->b.file_fd = -1;
			f->a.sd = usn_socket(sim->a, USN_SOCK_STREAM);
			struct usn_addr to = usn_addr_v4(SIM_ADDR_B, PORT);
			int rc = usn_connect(sim->a, f->a.sd, &to);
			if (rc != -EINPROGRESS)
				fail(r, "flow %d: churn connect returned %d", i, rc);
			struct usn_addr me;
			usn_getsockname(sim->a, f->a.sd, &me);
			f->port = me.port;
			r->done -= 2;
		}
	}
	check_invariants(r, sim->a, "A");
	check_invariants(r, sim->b, "B");
	return r->failed || r->done == 2 * r->nflows;
}

static int run_seed(uint64_t seed, struct run *r)
{
	bool verbose = r->verbose;
	memset(r, 0, offsetof(struct run, buf));
	r->verbose = verbose;
	struct usn_rand rnd;
	usn_rand_seed(&rnd, seed ^ 0x9e3779b97f4a7c15ULL);
	struct usn_memlink_dir_cfg ab, ba;
	bool perfect = seed % 10 == 0;
	sim_random_impairment(seed * 2 + 1, 100000, &ab);
	sim_random_impairment(seed * 2 + 2, 100000, &ba);
	if (perfect) {
		memset(&ab, 0, sizeof(ab));
		memset(&ba, 0, sizeof(ba));
	}
	r->ab = ab;
	r->ba = ba;
	int rc = sim_init(&r->sim, seed, &ab, &ba);
	if (rc < 0) {
		snprintf(r->why, sizeof(r->why), "sim_init: %s", strerror(-rc));
		return -1;
	}
	struct sim *sim = &r->sim;
	/* One seed in five: every connection is made through SYN cookies
	 * (RFC 4987), the path a SYN flood forces. */
	if (seed % 5 == 2)
		sim->b->tcp.syn_backlog = 0;
	/* One seed in three: the link offers checksum and segmentation
	 * offload, so 64 KB segments, partial checksums and zero-copy frames
	 * (lent memory from usn_sendfile) run under the impairments. */
	if (seed % 3 == 1)
		usn_memlink_set_offloads(sim->link, USN_DEV_OFF_TX_CSUM | USN_DEV_OFF_TSO | USN_DEV_OFF_SG);
	else if (seed % 2 == 0)
		usn_memlink_set_offloads(sim->link, 0);
	/* One seed in eleven: every TIME-WAIT overflows (lasts a tick), so a
	 * lost last ACK meets no connection (tcp_timer.c's DEVIATION). */
	if (seed % 11 == 4) {
		sim->a->tcp.max_timewait = 0;
		sim->b->tcp.max_timewait = 0;
	}
	if (seed % 7 == 3) {
		r->new_mtu = 576 + (uint32_t)usn_rand_below(&rnd, 1400 - 576);
		r->mtu_change_at = (uint64_t)(50 + usn_rand_below(&rnd, 500)) * USN_NSEC_PER_MSEC;
		sim->wake = r->mtu_change_at;
	}
	r->lsd = usn_socket(sim->b, USN_SOCK_STREAM);
	struct usn_addr any = usn_addr_v4(0, PORT);
	if (usn_bind(sim->b, r->lsd, &any) < 0 || usn_listen(sim->b, r->lsd, 64) < 0) {
		snprintf(r->why, sizeof(r->why), "listen failed");
		goto out;
	}
	r->nflows = 1 + (int)usn_rand_below(&rnd, MAX_FLOWS);
	for (int i = 0; i < r->nflows; i++) {
		struct flow *f = &r->f[i];
		uint64_t k = usn_rand_below(&rnd, 8);
		f->kind = k < 4 ? FLOW_BULK : k == 4 ? FLOW_CHURN : k == 5 ? FLOW_ABORT : k == 6 ? FLOW_SIMOPEN : FLOW_BULK;
		uint64_t size = usn_rand_below(&rnd, 4);
		uint64_t max = size == 0 ? 10 : size == 1 ? 5000 : 300000;
		if (f->kind == FLOW_CHURN) {
			max = 20;
			f->rounds_left = (int)usn_rand_below(&rnd, 6);
		}
		f->a.to_send = usn_rand_below(&rnd, max + 1);
		f->b.to_send = usn_rand_below(&rnd, max + 1);
		if (f->kind == FLOW_ABORT) {
			/* B must have something to say (A resets after hearing
			 * from it); A resets before it has sent everything. */
			f->a.to_send += 2;
			f->b.to_send += 1;
			f->abort_at = usn_rand_below(&rnd, f->a.to_send - 1);
		}
		f->a.expect = f->b.to_send;
		f->b.expect = f->a.to_send;
		f->b.sd = -1;
		f->a.file_fd = f->b.file_fd = -1;
		for (int d = 0; d < 2; d++) {
			struct side *sd = d ? &f->b : &f->a;
			sd->zc = usn_rand_below(&rnd, 3) == 0;
			if (f->kind == FLOW_CHURN || usn_rand_below(&rnd, 3) != 0 || sd->to_send == 0)
				continue;
			/* The pattern in a file, for usn_sendfile(). */
			sd->file_fd = memfd_create("usnet-sim", MFD_CLOEXEC);
			for (uint64_t o = 0; o < sd->to_send; o += sizeof(r->buf)) {
				uint64_t n = USN_MIN(sd->to_send - o, (uint64_t)sizeof(r->buf));
				for (uint64_t j = 0; j < n; j++)
					r->buf[j] = pattern(seed, i, d, o + j);
				if (pwrite(sd->file_fd, r->buf, (size_t)n, (off_t)o) != (ssize_t)n) {
					snprintf(r->why, sizeof(r->why), "cannot write the sendfile source");
					r->failed = true;
					goto out;
				}
			}
			if (usn_rand_below(&rnd, 2) == 0) {
				/* Lent instead: the whole file mapped once. */
				struct lent *m = calloc(1, sizeof(*m));
				void *map = mmap(NULL, (size_t)sd->to_send, PROT_READ, MAP_SHARED, sd->file_fd, 0);
				if (!m || map == MAP_FAILED || usn_memref_sums(&m->ref, map, (size_t)sd->to_send) < 0) {
					snprintf(r->why, sizeof(r->why), "cannot lend the pattern file");
					r->failed = true;
					free(m);
					if (map != MAP_FAILED)
						munmap(map, (size_t)sd->to_send);
					goto out;
				}
				m->map = map;
				m->len = (size_t)sd->to_send;
				m->ref.refs = 1;
				m->ref.release = lent_release;
				sd->lent = m;
			}
		}
		f->a.sd = usn_socket(sim->a, USN_SOCK_STREAM);
		uint16_t bport = PORT;
		if (f->kind == FLOW_SIMOPEN) {
			struct usn_addr la = usn_addr_v4(0, (uint16_t)(20000 + i)), lb = usn_addr_v4(0, (uint16_t)(30000 + i));
			f->b.sd = usn_socket(sim->b, USN_SOCK_STREAM);
			if (usn_bind(sim->a, f->a.sd, &la) < 0 || usn_bind(sim->b, f->b.sd, &lb) < 0) {
				snprintf(r->why, sizeof(r->why), "simultaneous open: bind failed");
				goto out;
			}
			struct usn_addr toa = usn_addr_v4(SIM_ADDR_A, (uint16_t)(20000 + i));
			rc = usn_connect(sim->b, f->b.sd, &toa);
			if (rc != -EINPROGRESS) {
				snprintf(r->why, sizeof(r->why), "simultaneous open: B connect returned %d", rc);
				goto out;
			}
			bport = (uint16_t)(30000 + i);
		}
		struct usn_addr to = usn_addr_v4(SIM_ADDR_B, bport);
		rc = usn_connect(sim->a, f->a.sd, &to);
		if (rc != -EINPROGRESS) {
			snprintf(r->why, sizeof(r->why), "connect returned %d", rc);
			goto out;
		}
		struct usn_addr me;
		usn_getsockname(sim->a, f->a.sd, &me);
		f->port = me.port;
	}
	sim_run_until(sim, TIME_LIMIT, app_step, r);
	if (r->failed)
		goto out;
	if (r->done != 2 * r->nflows) {
		for (int i = 0; i < r->nflows; i++) {
			struct flow *f = &r->f[i];
			if (!f->a.closed || !f->b.closed) {
				snprintf(r->why, sizeof(r->why),
					 "flow %d not finished by %llus: A sent %llu/%llu got %llu/%llu, B sent %llu/%llu "
					 "got %llu/%llu",
					 i, (unsigned long long)(TIME_LIMIT / USN_NSEC_PER_SEC), (unsigned long long)f->a.sent,
					 (unsigned long long)f->a.to_send, (unsigned long long)f->a.received,
					 (unsigned long long)f->a.expect, (unsigned long long)f->b.sent,
					 (unsigned long long)f->b.to_send, (unsigned long long)f->b.received,
					 (unsigned long long)f->b.expect);
				break;
			}
		}
		r->failed = true;
		goto out;
	}
	usn_close(sim->b, r->lsd);
	r->lsd = -1;
	sim->wake = UINT64_MAX;
	/* Faults stop; TIME-WAIT and every other timer run out. */
	usn_memlink_set_cfg(sim->link, 0, &(struct usn_memlink_dir_cfg){0});
	usn_memlink_set_cfg(sim->link, 1, &(struct usn_memlink_dir_cfg){0});
	sim_run_for(sim, 200 * USN_NSEC_PER_SEC);
	if (sim->a->tcp.nconns != 0 || sim->b->tcp.nconns != 0) {
		snprintf(r->why, sizeof(r->why), "connections left after the quiet period: A %u B %u",
			 sim->a->tcp.nconns, sim->b->tcp.nconns);
		r->failed = true;
		goto out;
	}
	uint32_t ua = usn_pool_in_use(&sim->a->pool), ub = usn_pool_in_use(&sim->b->pool);
	if (ua != sim->base_in_use_a || ub != sim->base_in_use_b) {
		snprintf(r->why, sizeof(r->why), "pools not at baseline: A %u/%u B %u/%u", ua, sim->base_in_use_a, ub,
			 sim->base_in_use_b);
		r->failed = true;
	}
	/* Every connection is gone: the stack must have let go of all the
	 * memory it borrowed. */
	for (int i = 0; i < r->nflows && !r->failed; i++)
		for (int d = 0; d < 2; d++) {
			struct lent *m = d ? r->f[i].b.lent : r->f[i].a.lent;
			if (m && m->ref.refs != 1) {
				r->failed = true;
				snprintf(r->why, sizeof(r->why), "flow %d: lent memory still held %u times", i,
					 m->ref.refs - 1);
			}
		}
out:
	if (r->verbose && r->failed) {
		struct usn_stack *st[2] = {sim->a, sim->b};
		for (int k = 0; k < 2; k++)
			for (uint32_t i = 0; i <= st[k]->tcp.hash_mask; i++)
				for (struct usn_tcp_conn *c = st[k]->tcp.hash[i]; c; c = c->hnext)
					printf("  %c :%u->:%u %s flags %#x una %u nxt %u tx_seq %u txlen %u rcv_nxt %u "
					       "rxlen %u wnd %u cwnd %u ssth %u pipe %u lost %u rtxq %u retries %u "
					       "backoff %u kind %u pending %d\n",
					       'A' + k, c->t.lport, c->t.rport, usn_tcp_state_name(c->state), c->flags,
					       c->snd_una - c->iss, c->snd_nxt - c->iss, c->tx_seq - c->iss, c->tx.len,
					       c->rcv_nxt - c->irs, c->rx.len, c->snd_wnd, c->cwnd, c->ssthresh,
					       usn_rtxq_pipe(&c->rtxq), c->rtxq.lost_bytes, c->rtxq.count, c->retries,
					       c->backoff, c->rtx_kind, usn_timer_pending(&c->rtx_timer));
	}
	if (r->verbose && r->failed) {
		for (int i = 0; i < r->nflows; i++) {
			struct flow *f = &r->f[i];
			struct usn_tcp_info ta = {0}, tb = {0};
			if (!f->a.closed)
				usn_tcp_info(sim->a, f->a.sd, &ta);
			if (!f->b.closed && f->b.sd >= 0)
				usn_tcp_info(sim->b, f->b.sd, &tb);
			printf("  flow %d: A shut %d eof %d closed %d %s unacked %u sq %u | B shut %d eof %d closed %d %s "
			       "unacked %u sq %u\n",
			       i, f->a.shut, f->a.eof, f->a.closed, usn_tcp_state_str(ta.state), ta.unacked, ta.send_queue,
			       f->b.shut, f->b.eof, f->b.closed, usn_tcp_state_str(tb.state), tb.unacked, tb.send_queue);
		}
		printf("A counters:\n");
		usn_stack_print_counters(sim->a, stdout, 0);
		printf("B counters:\n");
		usn_stack_print_counters(sim->b, stdout, 0);
		for (int d = 0; d < 2; d++) {
			const struct usn_memlink_dir_stats *ls = usn_memlink_stats(sim->link, d);
			printf("link %d: sent %llu delivered %llu loss %llu queue %llu mtu %llu nobuf %llu dup %llu "
			       "corrupt %llu reorder %llu in flight %u\n",
			       d, (unsigned long long)ls->sent, (unsigned long long)ls->delivered,
			       (unsigned long long)ls->drop_loss, (unsigned long long)ls->drop_queue,
			       (unsigned long long)ls->drop_mtu, (unsigned long long)ls->drop_nobuf,
			       (unsigned long long)ls->duplicated, (unsigned long long)ls->corrupted,
			       (unsigned long long)ls->reordered, usn_memlink_in_flight(sim->link, d));
		}
	}
	if (r->verbose) {
		uint64_t v, ck, pa, pb;
		usn_stack_counter(sim->a, "TCP_RETRANS_SEGS", &v);
		usn_stack_counter(sim->b, "TCP_SYNCOOKIES_RECV", &ck);
		usn_stack_counter(sim->a, "TCP_PMTU_UPDATES", &pa);
		usn_stack_counter(sim->b, "TCP_PMTU_UPDATES", &pb);
		uint64_t ca = 0, cb = 0, za = 0, zb = 0;
		usn_stack_counter(sim->a, "TCP_CSUM_CACHED_BYTES", &ca);
		usn_stack_counter(sim->b, "TCP_CSUM_CACHED_BYTES", &cb);
		usn_stack_counter(sim->a, "IP_TX_REF_BYTES", &za);
		usn_stack_counter(sim->b, "IP_TX_REF_BYTES", &zb);
		uint64_t twa = 0, twb = 0;
		usn_stack_counter(sim->a, "TCP_TIMEWAIT_OVERFLOW", &twa);
		usn_stack_counter(sim->b, "TCP_TIMEWAIT_OVERFLOW", &twb);
		printf("seed %" PRIu64 ": %d flows, t=%.1fs, A retransmits %" PRIu64 ", B cookie handshakes %" PRIu64
		       ", path MTU updates A %" PRIu64 " B %" PRIu64 ", bytes by reference A %" PRIu64 " B %" PRIu64
		       ", checksummed from kept sums A %" PRIu64 " B %" PRIu64 ", TIME-WAIT overflows A %" PRIu64
		       " B %" PRIu64 "\n",
		       seed, r->nflows, (double)sim->now / 1e9, v, ck, pa, pb, za, zb, ca, cb, twa, twb);
	}
	for (int i = 0; i < r->nflows; i++) {
		if (r->f[i].a.file_fd >= 0)
			close(r->f[i].a.file_fd);
		if (r->f[i].b.file_fd >= 0)
			close(r->f[i].b.file_fd);
	}
	sim_fini(sim);
	for (int i = 0; i < r->nflows; i++)
		for (int d = 0; d < 2; d++) {
			struct lent *m = d ? r->f[i].b.lent : r->f[i].a.lent;
			if (m && --m->ref.refs == 0)
				m->ref.release(&m->ref);
		}
	return r->failed ? -1 : 0;
}

/* ---- every seed also: reconnecting to a 4-tuple the server holds in
 * TIME-WAIT ----
 * A connects to B from a fixed port; B answers and closes first, so B
 * holds the 4-tuple in TIME-WAIT. A then takes a new secret (as a new
 * process would: its ISN and timestamp offset, RFC 6528 and RFC 7323 §5.4,
 * are unrelated to the old ones) and connects again from the same port.
 * The secret is chosen so that A's SYN carries a timestamp older than the
 * last B saw (odd seeds) or newer (even seeds). Newer: B opens a new
 * incarnation (RFC 6191 §2): SYN, SYN-ACK, ACK. Older: B keeps TIME-WAIT
 * and ACKs the old connection (PAWS); A resets it (RFC 9293 §3.10.7.3) and
 * sends its SYN again at once (§3.5.1 Figure 9), so the segments are SYN,
 * ACK, RST, SYN, SYN-ACK, ACK, and no retransmission timeout runs.
 * Checked from a capture of A's frames and from both stacks' counters. */

#define TW_PORT 6000
#define TW_MAX_SEGS 64

struct tw_seg {
	bool from_a;
	uint8_t flags;
	uint32_t seq, ack;
};

/* The TCP segments of a capture (pcap of Ethernet frames), in order. */
static int tw_read_capture(const char *path, struct tw_seg *out, int max)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t gh[24], rh[16];
	static uint8_t frame[70000];
	int n = 0;
	uint32_t magic;
	if (fread(gh, sizeof(gh), 1, f) != 1) {
		fclose(f);
		return -1;
	}
	memcpy(&magic, gh, 4);
	if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) {
		fclose(f);
		return -1; /* written on this host, so in its byte order */
	}
	while (n < max && fread(rh, sizeof(rh), 1, f) == 1) {
		uint32_t incl;
		memcpy(&incl, rh + 8, 4);
		if (incl > sizeof(frame) || fread(frame, incl, 1, f) != 1)
			break;
		struct usn_eth_repr e;
		struct usn_ipv4_repr ip;
		struct usn_tcp_repr t;
		if (usn_eth_parse(frame, incl, &e) != USN_WIRE_OK || e.ethertype != USN_ETHERTYPE_IPV4 ||
		    usn_ipv4_parse(frame + USN_ETH_HLEN, incl - USN_ETH_HLEN, &ip, 0) != USN_WIRE_OK ||
		    ip.proto != USN_IPPROTO_TCP ||
		    usn_tcp_parse(frame + USN_ETH_HLEN + ip.hdr_len, ip.payload_len, &t) != USN_WIRE_OK)
			continue;
		out[n++] = (struct tw_seg){.from_a = ip.src == SIM_ADDR_A, .flags = t.flags, .seq = t.seq, .ack = t.ack};
	}
	fclose(f);
	return n;
}

struct tw_run {
	struct sim sim;
	int ca; /* A's socket */
};

static bool tw_established(void *arg)
{
	struct tw_run *t = arg;
	struct usn_tcp_info ti;
	return usn_tcp_info(t->sim.a, t->ca, &ti) == 0 && ti.state == USN_TCP_ESTABLISHED;
}

static uint64_t ctr(struct usn_stack *s, const char *name)
{
	uint64_t v = 0;
	usn_stack_counter(s, name, &v);
	return v;
}

/* A's socket from aport starts connecting to B. Returns 0, or -1 with why. */
static int tw_connect(struct tw_run *t, uint16_t aport, char *why, size_t whylen)
{
	struct sim *sim = &t->sim;
	t->ca = usn_socket(sim->a, USN_SOCK_STREAM);
	struct usn_addr me = usn_addr_v4(0, aport), to = usn_addr_v4(SIM_ADDR_B, TW_PORT);
	int rc = usn_bind(sim->a, t->ca, &me);
	if (rc == 0)
		rc = usn_connect(sim->a, t->ca, &to);
	if (rc != -EINPROGRESS) {
		snprintf(why, whylen, "bind or connect from port %u: %d", aport, rc);
		return -1;
	}
	return 0;
}

/* A opens a connection from aport to B; B sends a byte and closes first;
 * A reads it and the end of stream, and closes. Returns 0, or -1 with why. */
static int tw_exchange(struct tw_run *t, int lsd, uint16_t aport, bool connect_now, char *why, size_t whylen)
{
	struct sim *sim = &t->sim;
	if (connect_now && tw_connect(t, aport, why, whylen) < 0)
		return -1;
	sim_run_for(sim, USN_NSEC_PER_SEC);
	int cb = usn_accept(sim->b, lsd, NULL);
	if (cb < 0) {
		snprintf(why, whylen, "nothing to accept: %d", cb);
		return -1;
	}
	if (usn_send(sim->b, cb, "z", 1, 0) != 1 || usn_close(sim->b, cb) != 0) {
		snprintf(why, whylen, "server send or close failed");
		return -1;
	}
	sim_run_for(sim, USN_NSEC_PER_SEC);
	char c[8];
	ssize_t n1 = usn_recv(sim->a, t->ca, c, sizeof(c), 0), n2 = usn_recv(sim->a, t->ca, c, sizeof(c), 0);
	if (n1 != 1 || c[0] != 'z' || n2 != 0) {
		snprintf(why, whylen, "client read %zd then %zd, not 1 byte then end of stream", n1, n2);
		return -1;
	}
	usn_close(sim->a, t->ca);
	t->ca = -1;
	sim_run_for(sim, USN_NSEC_PER_SEC);
	return 0;
}

static int run_timewait(uint64_t seed, bool verbose, char *why, size_t whylen)
{
	static struct tw_run run;
	struct tw_run *t = &run;
	struct sim *sim = &t->sim;
	struct usn_rand rnd;
	usn_rand_seed(&rnd, seed ^ 0x7f4a7c159e3779b9ULL);
	struct usn_memlink_dir_cfg d = {0};
	d.delay_ns = (1 + usn_rand_below(&rnd, 50)) * USN_NSEC_PER_MSEC;
	bool older = seed % 2 == 1;
	uint16_t aport = (uint16_t)(20000 + usn_rand_below(&rnd, 20000));
	char path[] = "/tmp/usnet-sim-tw-XXXXXX";
	int pfd = -1;
	int ret = -1;
	uint32_t tw_rcv = 0, iss = 0;
	if (sim_init(sim, seed, &d, &d) < 0) {
		snprintf(why, whylen, "sim_init failed");
		return -1;
	}
	t->ca = -1;
	int lsd = usn_socket(sim->b, USN_SOCK_STREAM);
	struct usn_addr any = usn_addr_v4(0, TW_PORT);
	if (usn_bind(sim->b, lsd, &any) < 0 || usn_listen(sim->b, lsd, 16) < 0) {
		snprintf(why, whylen, "listen failed");
		goto out;
	}
	/* The first incarnation: B ends in TIME-WAIT. */
	if (tw_exchange(t, lsd, aport, true, why, whylen) < 0)
		goto out;
	struct usn_tcp_conn *tw = usn_tcp_lookup(&sim->b->tcp, SIM_ADDR_B, TW_PORT, SIM_ADDR_A, aport);
	if (sim->a->tcp.nconns != 0 || !tw || tw->state != USN_TCP_TIME_WAIT || !(tw->flags & USN_TCPF_TS)) {
		snprintf(why, whylen, "after the first connection: A holds %u, B's is %s", sim->a->tcp.nconns,
			 tw ? usn_tcp_state_name(tw->state) : "gone");
		goto out;
	}
	tw_rcv = tw->rcv_nxt;
	/* A's new secret: its first SYN's TSval older or newer than B's
	 * TS.Recent by 2^20 to 2^30 ms, and an ISS that B's old ACK does not
	 * happen to acknowledge. */
	struct usn_tcp_4tuple tup = {.laddr = SIM_ADDR_A, .raddr = SIM_ADDR_B, .lport = aport, .rport = TW_PORT};
	uint8_t key[USN_TCP_KEY_LEN];
	bool found = false;
	for (int i = 0; i < 100000 && !found; i++) {
		usn_rand_bytes(&rnd, key, sizeof(key));
		uint32_t tsval = (uint32_t)(sim->now / USN_NSEC_PER_MSEC) + usn_tcp_ts_offset(key, SIM_ADDR_A, SIM_ADDR_B);
		int32_t dts = (int32_t)(tsval - tw->ts_recent);
		iss = usn_tcp_isn(key, &tup, sim->now);
		int32_t mag = older ? -dts : dts;
		found = mag > (1 << 20) && mag < (1 << 30) && iss + 1 != tw_rcv;
	}
	if (!found) {
		snprintf(why, whylen, "no secret found");
		goto out;
	}
	memcpy(sim->a->tcp.key, key, sizeof(key));
	/* A's frames from here on, into a capture. */
	pfd = mkstemp(path);
	char err[256];
	struct usn_pcap_writer *w = NULL;
	if (pfd < 0 || usn_pcap_open(path, 128, &w, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "capture: %s", pfd < 0 ? strerror(errno) : err);
		goto out;
	}
	/* (USN_SIM_PCAP's capture of A ends here; B's has it all.) */
	if (sim->a->pcap)
		usn_pcap_close(sim->a->pcap);
	sim->a->pcap = w;
	sim->a->ip.pcap = w;
	uint64_t a_retry = ctr(sim->a, "TCP_SYN_RETRY_AFTER_RST"), a_rto = ctr(sim->a, "TCP_RTO_EXPIRED");
	uint64_t a_rst = ctr(sim->a, "TCP_OUT_RSTS"), b_reused = ctr(sim->b, "TCP_TIMEWAIT_REUSED");
	uint64_t b_rst = ctr(sim->b, "TCP_IN_RSTS"), b_paws = ctr(sim->b, "TCP_DROP_PAWS");
	/* The second incarnation. */
	uint64_t t0 = sim->now;
	if (tw_connect(t, aport, why, whylen) < 0)
		goto out;
	if (sim_run_until(sim, t0 + 30 * USN_NSEC_PER_SEC, tw_established, t)) {
		snprintf(why, whylen, "second connection not established in 30 s");
		goto out;
	}
	uint64_t took = sim->now - t0;
	uint64_t d_retry = ctr(sim->a, "TCP_SYN_RETRY_AFTER_RST") - a_retry, d_rto = ctr(sim->a, "TCP_RTO_EXPIRED") - a_rto;
	uint64_t d_arst = ctr(sim->a, "TCP_OUT_RSTS") - a_rst, d_reused = ctr(sim->b, "TCP_TIMEWAIT_REUSED") - b_reused;
	uint64_t d_brst = ctr(sim->b, "TCP_IN_RSTS") - b_rst, d_paws = ctr(sim->b, "TCP_DROP_PAWS") - b_paws;
	if (d_rto != 0 || d_retry != (older ? 1 : 0) || d_arst != (older ? 1 : 0) || d_reused != (older ? 0 : 1) ||
	    d_brst != (older ? 1 : 0) || d_paws != (older ? 1 : 0)) {
		snprintf(why, whylen,
			 "%s timestamp: counters A RTO %" PRIu64 " SYN_RETRY_AFTER_RST %" PRIu64 " OUT_RSTS %" PRIu64
			 ", B TIMEWAIT_REUSED %" PRIu64 " IN_RSTS %" PRIu64 " DROP_PAWS %" PRIu64,
			 older ? "older" : "newer", d_rto, d_retry, d_arst, d_reused, d_brst, d_paws);
		goto out;
	}
	if (tw_exchange(t, lsd, aport, false, why, whylen) < 0)
		goto out;
	usn_close(sim->b, lsd);
	lsd = -1;
	sim_run_for(sim, 200 * USN_NSEC_PER_SEC);
	if (sim->a->tcp.nconns != 0 || sim->b->tcp.nconns != 0 || usn_pool_in_use(&sim->a->pool) != sim->base_in_use_a ||
	    usn_pool_in_use(&sim->b->pool) != sim->base_in_use_b) {
		snprintf(why, whylen, "not clean at the end: connections A %u B %u", sim->a->tcp.nconns,
			 sim->b->tcp.nconns);
		goto out;
	}
	if (verbose)
		printf("seed %" PRIu64 " timewait: %s timestamp, established after %.1f ms (one-way delay %.0f ms)\n",
		       seed, older ? "older" : "newer", (double)took / 1e6, (double)d.delay_ns / 1e6);
	ret = 0;
out:
	sim_fini(sim); /* closes the capture */
	if (ret == 0) {
		/* The handshake as A saw it. */
		struct tw_seg sg[TW_MAX_SEGS];
		int n = tw_read_capture(path, sg, TW_MAX_SEGS);
		const struct tw_seg want_older[] = {
			{true, USN_TCP_SYN, iss, 0},
			{false, USN_TCP_ACK, 0, tw_rcv},
			{true, USN_TCP_RST, tw_rcv, 0},
			{true, USN_TCP_SYN, iss, 0},
			{false, USN_TCP_SYN | USN_TCP_ACK, 0, iss + 1},
			{true, USN_TCP_ACK, iss + 1, 0},
		};
		const struct tw_seg want_newer[] = {
			{true, USN_TCP_SYN, iss, 0},
			{false, USN_TCP_SYN | USN_TCP_ACK, 0, iss + 1},
			{true, USN_TCP_ACK, iss + 1, 0},
		};
		const struct tw_seg *want = older ? want_older : want_newer;
		int nwant = older ? (int)USN_ARRAY_SIZE(want_older) : (int)USN_ARRAY_SIZE(want_newer);
		if (n < nwant) {
			snprintf(why, whylen, "capture: %d segments", n);
			ret = -1;
		}
		for (int i = 0; i < nwant && ret == 0; i++) {
			const struct tw_seg *g = &sg[i], *x = &want[i];
			uint8_t fl = g->flags & (USN_TCP_SYN | USN_TCP_ACK | USN_TCP_RST | USN_TCP_FIN);
			/* seq is checked for A's segments, ack for B's */
			if (g->from_a != x->from_a || fl != x->flags || (x->from_a && g->seq != x->seq) ||
			    (!x->from_a && g->ack != x->ack)) {
				snprintf(why, whylen,
					 "%s timestamp: segment %d is %s flags %#x seq %u ack %u, not %s flags %#x "
					 "seq %u ack %u",
					 older ? "older" : "newer", i, g->from_a ? "A->B" : "B->A", fl, g->seq, g->ack,
					 x->from_a ? "A->B" : "B->A", x->flags, x->seq, x->ack);
				ret = -1;
			}
		}
	}
	if (pfd >= 0) {
		close(pfd);
		unlink(path);
	}
	return ret;
}

int main(int argc, char **argv)
{
	uint64_t first = 1, nseeds = 100;
	bool verbose = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
			nseeds = strtoull(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc) {
			first = strtoull(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			first = strtoull(argv[++i], NULL, 0);
			nseeds = 1;
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
		} else {
			fprintf(stderr, "usage: %s [--seeds N] [--first S] [--seed S] [-v]\n", argv[0]);
			return 2;
		}
	}
	static struct run run;
	uint64_t failed = 0;
	for (uint64_t seed = first; seed < first + nseeds; seed++) {
		run.verbose = verbose;
		if (run_seed(seed, &run) != 0) {
			failed++;
			printf("FAIL seed %" PRIu64 ": %s\n  replay: %s --seed %" PRIu64 "\n", seed, run.why, argv[0], seed);
			fflush(stdout);
		}
		if (run_timewait(seed, verbose, run.why, sizeof(run.why)) != 0) {
			failed++;
			printf("FAIL seed %" PRIu64 " (TIME-WAIT reconnect): %s\n  replay: %s --seed %" PRIu64 "\n", seed,
			       run.why, argv[0], seed);
			fflush(stdout);
		}
	}
	printf("sim-tcp: %" PRIu64 " seeds, %" PRIu64 " failed\n", nseeds, failed);
	return failed ? 1 : 0;
}
