// SPDX-License-Identifier: MIT
/*
 * load_dns.c - usnet-load's DNS engine: the queries of a dnsperf-format
 * file, in order and round again, over UDP from a few connected sockets
 * (connected, so an ICMP port unreachable comes back as ECONNREFUSED),
 * each with a random ID; responses matched by socket, ID and question
 * (dnsq.c). Closed loop: OUTSTANDING queries in flight, a new one sent for
 * each answered or lost. Open loop (-Q): queries sent on a schedule of
 * RATE a second, whatever comes back, with at most OUTSTANDING in flight
 * (when that is reached, the schedule waits and the wait is counted as a
 * stall). A query unanswered after the timeout is lost; its late answer,
 * if any, is counted as unknown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dns.h"
#include "dnsq.h"
#include "load.h"

#define NS_PER_MS 1000000u
#define SEND_BURST 512 /* queries sent before the next receive pass */

struct dload {
	const struct load_opts *o;
	struct usn_stack *s;
	struct load_stats *st;
	struct dnsq_file qf;
	struct dnsq_table t;
	int sd[255];
	int sock_tag[255];
	uint32_t nsock, next_sock, next_query;
	uint64_t issued, done;
	uint64_t measure_from;
	uint64_t rng;
	uint8_t buf[65536];
};

/* xorshift64*: IDs need to be unpredictable to nobody here, only spread. */
static uint16_t rand16(struct dload *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return (uint16_t)((d->rng * UINT64_C(2685821657736338717)) >> 48);
}

static bool budget(const struct dload *d)
{
	return d->o->count == 0 || d->issued < d->o->count;
}

/* Sends one query; false when it could not go (table full or the stack
 * refused it). */
static bool send_one(struct dload *d, uint64_t now)
{
	uint32_t q = d->next_query;
	uint32_t sock = d->next_sock;
	uint16_t id;
	uint32_t slot = dnsq_table_add(&d->t, sock, q, now, rand16(d), &id);
	if (slot == DNSQ_NONE)
		return false;
	uint8_t pkt[DNSQ_WIRE_MAX];
	size_t len = d->qf.len[q];
	memcpy(pkt, d->qf.wire + d->qf.off[q], len);
	dns_put16(pkt, id);
	ssize_t rc = usn_sendto(d->s, d->sd[sock], pkt, len, 0, NULL);
	if (rc < 0) {
		dnsq_table_release(&d->t, slot);
		if (rc == -ECONNREFUSED) /* a pending ICMP error, reported here */
			d->st->icmp_refused++;
		else
			d->st->send_errors++;
		return false;
	}
	d->next_query = (q + 1) % d->qf.count;
	d->next_sock = (sock + 1) % d->nsock;
	d->issued++;
	if (now >= d->measure_from)
		d->st->sent++;
	return true;
}

static void recv_all(struct dload *d, uint32_t sock)
{
	struct load_stats *st = d->st;
	for (;;) {
		ssize_t n = usn_recvfrom(d->s, d->sd[sock], d->buf, sizeof(d->buf), 0, NULL);
		if (n == -EAGAIN)
			return;
		uint64_t now = load_now_ns();
		if (n < 0) {
			if (n == -ECONNREFUSED)
				st->icmp_refused++;
			else
				st->send_errors++;
			continue;
		}
		struct dnsq_answer a;
		switch (dnsq_table_match(&d->t, &d->qf, sock, d->buf, (size_t)n, &a)) {
		case DNSQ_MATCHED: {
			uint64_t t0 = d->t.slot[a.slot].sent_ns;
			if (t0 >= d->measure_from) {
				hist_record(&st->hist, now - t0);
				st->requests++;
				st->bytes += (uint64_t)n;
				st->rcode[a.rcode & (LOAD_RCODES - 1)]++;
				if (a.tc)
					st->truncated++;
			}
			dnsq_table_release(&d->t, a.slot);
			d->done++;
			break;
		}
		case DNSQ_MALFORMED:
			st->malformed++;
			break;
		case DNSQ_UNKNOWN:
			st->unknown_id++;
			break;
		case DNSQ_MISMATCH:
			st->mismatch++;
			break;
		}
	}
}

static void expire(struct dload *d, uint64_t now)
{
	uint64_t tmo = (uint64_t)d->o->timeout_ms * NS_PER_MS;
	if (now < tmo)
		return;
	uint32_t slot;
	while ((slot = dnsq_table_expired(&d->t, now - tmo)) != DNSQ_NONE) {
		if (d->t.slot[slot].sent_ns >= d->measure_from)
			d->st->lost++;
		dnsq_table_release(&d->t, slot);
		d->done++;
	}
}

int load_dns_run(struct usn_stack *s, const struct load_opts *o, struct load_stats *st)
{
	struct dload *d = calloc(1, sizeof(*d));
	if (!d) {
		fprintf(stderr, "usnet-load: out of memory\n");
		return -1;
	}
	d->o = o;
	d->s = s;
	d->st = st;
	int rc = -1;
	char err[512];
	if (dnsq_file_load(o->qfile, &d->qf, err, sizeof(err)) < 0) {
		fprintf(stderr, "usnet-load: %s\n", err);
		free(d);
		return -1;
	}
	d->nsock = o->sockets;
	if (dnsq_table_init(&d->t, o->conns, d->nsock) < 0) {
		fprintf(stderr, "usnet-load: out of memory\n");
		goto out;
	}
	if (getrandom(&d->rng, sizeof(d->rng), 0) != sizeof(d->rng) || d->rng == 0)
		d->rng = load_now_ns() | 1;
	for (uint32_t i = 0; i < d->nsock; i++)
		d->sd[i] = -1;
	for (uint32_t i = 0; i < d->nsock; i++) {
		int sd = usn_socket(s, USN_SOCK_DGRAM);
		int r = sd < 0 ? sd : usn_connect(s, sd, &o->server);
		if (sd >= 0)
			d->sd[i] = sd;
		if (r < 0) {
			fprintf(stderr, "usnet-load: UDP socket %u: %s\n", i, strerror(-r));
			goto out;
		}
		d->sock_tag[i] = (int)i;
		usn_socket_set_udata(s, sd, &d->sock_tag[i]);
	}
	hist_init(&st->hist);
	uint64_t start = load_now_ns();
	uint64_t warm_end = start + (uint64_t)(o->warmup_s * 1e9);
	d->measure_from = o->warmup_s > 0 ? warm_end : start;
	uint64_t end = o->count ? UINT64_MAX : d->measure_from + (uint64_t)(o->duration_s * 1e9);
	uint64_t last = start, sched = 0; /* open loop: queries due since start */
	bool warm = o->warmup_s > 0;
	int poll_ms = 0;
	while (!load_quit) {
		int n = usn_stack_poll(s, o->rate > 0 ? poll_ms : 1);
		if (n < 0 && n != -EINTR)
			break;
		struct usn_event ev[64];
		while (usn_events(s, ev, 64) > 0)
			; /* every socket is read below: a few of them */
		for (uint32_t i = 0; i < d->nsock; i++)
			recv_all(d, i);
		uint64_t now = load_now_ns();
		last = now;
		if (warm && now >= warm_end) {
			warm = false;
			memset(st, 0, sizeof(*st));
			hist_init(&st->hist);
		}
		expire(d, now);
		if (now >= end || (o->count && d->done >= o->count))
			break;
		int burst = 0;
		if (o->rate > 0) {
			uint64_t due = (uint64_t)((double)(now - start) / 1e9 * o->rate) + 1;
			while (sched < due && budget(d) && burst < SEND_BURST) {
				if (d->t.inflight == d->t.cap) {
					st->stalls++; /* the schedule waits for an answer or a loss */
					break;
				}
				if (!send_one(d, now))
					break;
				sched++;
				burst++;
			}
			/* Sleep (1 ms at most) only when the next query is not due
			 * sooner. */
			uint64_t next = start + (uint64_t)((double)sched / o->rate * 1e9);
			poll_ms = next > now + NS_PER_MS ? 1 : 0;
		} else {
			/* One query first, alone: it finds the server's MAC (the
			 * stack queues only 8 frames per neighbour waiting for
			 * ARP); the others follow its answer (or loss). */
			uint32_t cap = d->done > 0 || st->icmp_refused > 0 ? d->t.cap : 1;
			while (d->t.inflight < cap && budget(d) && burst < SEND_BURST) {
				if (!send_one(d, now))
					break;
				burst++;
			}
		}
	}
	st->duration_s = (double)(last - d->measure_from) / 1e9;
	if (st->duration_s <= 0)
		st->duration_s = 1e-9;
	rc = 0;
out:
	for (uint32_t i = 0; i < d->nsock; i++)
		if (d->sd[i] >= 0)
			usn_close(s, d->sd[i]);
	dnsq_table_free(&d->t);
	dnsq_file_free(&d->qf);
	free(d);
	return rc;
}
