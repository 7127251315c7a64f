/* SPDX-License-Identifier: MIT */
/*
 * tcp_conn.c - TCP connections: creation and release, the demultiplexing
 * tables, state changes, readiness for the user, and the invariant check of
 * the state diagram in tcp.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"
#include "util.h"

static const char *const state_names[] = {
	[USN_TCP_CLOSED] = "CLOSED",           [USN_TCP_LISTEN] = "LISTEN",
	[USN_TCP_SYN_SENT] = "SYN-SENT",       [USN_TCP_SYN_RECEIVED] = "SYN-RECEIVED",
	[USN_TCP_ESTABLISHED] = "ESTABLISHED", [USN_TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[USN_TCP_FIN_WAIT_2] = "FIN-WAIT-2",   [USN_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[USN_TCP_CLOSING] = "CLOSING",         [USN_TCP_LAST_ACK] = "LAST-ACK",
	[USN_TCP_TIME_WAIT] = "TIME-WAIT",
};

const char *usn_tcp_state_name(enum usn_tcp_state st)
{
	return (unsigned)st < USN_ARRAY_SIZE(state_names) ? state_names[st] : "?";
}

int usn_tcp_init(struct usn_tcp *tcp, struct usn_ip *ip, const uint8_t key[USN_TCP_KEY_LEN])
{
	memset(tcp, 0, sizeof(*tcp));
	tcp->ip = ip;
	memcpy(tcp->key, key, USN_TCP_KEY_LEN);
	tcp->max_conns = 1u << 20;
	tcp->syn_backlog = 256;
	tcp->challenge_tokens = 1000;
	tcp->challenge_last = *ip->now;
	tcp->default_cc = usn_cc_default();
	tcp->ring_cache.max = 1024; /* 4 MB of spare 4 KB blocks at most */
	tcp->rtx_cache.max = 4096;  /* 1 MB of spare 8-record arrays at most */
	tcp->max_timewait = USN_TCP_MAX_TIMEWAIT;
	tcp->hash = calloc(USN_TCP_HASH_MIN, sizeof(*tcp->hash));
	if (!tcp->hash)
		return -ENOMEM;
	tcp->hash_mask = USN_TCP_HASH_MIN - 1;
	return 0;
}

void usn_tcp_fini(struct usn_tcp *tcp)
{
	for (uint32_t i = 0; tcp->hash && i <= tcp->hash_mask; i++)
		while (tcp->hash[i]) {
			struct usn_tcp_conn *c = tcp->hash[i];
			usn_tcp_timers_stop(c);
			usn_tcp_set_state(c, USN_TCP_CLOSED);
			c->sd = -1;
			usn_tcp_conn_free(c);
		}
	free(tcp->hash);
	tcp->hash = NULL;
	free(tcp->pending);
	tcp->pending = NULL;
	tcp->npending = tcp->pending_cap = 0;
	usn_bytering_cache_fini(&tcp->ring_cache);
	usn_rtx_cache_fini(&tcp->rtx_cache);
}

/* All 32 bits: the table takes as many low ones as it has buckets. */
static uint32_t conn_hash(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint32_t h = raddr * 2654435761u ^ ((uint32_t)rport << 16 | lport) * 2246822519u ^ laddr;
	h ^= h >> 15;
	return h;
}

static struct usn_tcp_conn **conn_bucket(struct usn_tcp *tcp, const struct usn_tcp_conn *c)
{
	return &tcp->hash[conn_hash(c->t.laddr, c->t.lport, c->t.raddr, c->t.rport) & tcp->hash_mask];
}

/* Doubles the connection table, moving every connection once: about
 * 10 ns each, at most log2(USN_TCP_HASH_MAX / USN_TCP_HASH_MIN) = 6 times
 * in a stack's life (it does not shrink: 8 MB at most). Without memory
 * the table stays as it is, its chains longer. */
static void hash_grow(struct usn_tcp *tcp)
{
	uint32_t n = (tcp->hash_mask + 1) * 2;
	struct usn_tcp_conn **t = calloc(n, sizeof(*t));
	if (!t) {
		USN_CTR_INC(tcp->ip->ctr, TCP_HASH_GROW_FAIL);
		return;
	}
	for (uint32_t i = 0; i <= tcp->hash_mask; i++)
		for (struct usn_tcp_conn *c = tcp->hash[i], *next; c; c = next) {
			next = c->hnext;
			struct usn_tcp_conn **b = &t[conn_hash(c->t.laddr, c->t.lport, c->t.raddr, c->t.rport) & (n - 1)];
			c->hnext = *b;
			*b = c;
		}
	free(tcp->hash);
	tcp->hash = t;
	tcp->hash_mask = n - 1;
}

struct usn_tcp_conn *usn_tcp_lookup(struct usn_tcp *tcp, uint32_t laddr, uint16_t lport, uint32_t raddr,
				    uint16_t rport)
{
	for (struct usn_tcp_conn *c = tcp->hash[conn_hash(laddr, lport, raddr, rport) & tcp->hash_mask]; c; c = c->hnext)
		if (c->t.lport == lport && c->t.rport == rport && c->t.raddr == raddr && c->t.laddr == laddr)
			return c;
	return NULL;
}

struct usn_tcp_conn *usn_tcp_lookup_listener(struct usn_tcp *tcp, uint32_t laddr, uint16_t lport)
{
	struct usn_tcp_conn *wild = NULL;
	for (struct usn_tcp_conn *c = tcp->listeners[lport % USN_TCP_LISTEN_BUCKETS]; c; c = c->hnext) {
		if (c->t.lport != lport)
			continue;
		if (c->t.laddr == laddr)
			return c;
		if (c->t.laddr == 0)
			wild = c;
	}
	return wild;
}

static struct usn_tcp_conn **bucket_of(struct usn_tcp_conn *c)
{
	if (c->state == USN_TCP_LISTEN)
		return &c->tcp->listeners[c->t.lport % USN_TCP_LISTEN_BUCKETS];
	return conn_bucket(c->tcp, c);
}

void usn_tcp_hash_insert(struct usn_tcp_conn *c)
{
	struct usn_tcp *tcp = c->tcp;
	if (c->state != USN_TCP_LISTEN && tcp->nconns > tcp->hash_mask + 1 && tcp->hash_mask + 1 < USN_TCP_HASH_MAX)
		hash_grow(tcp);
	struct usn_tcp_conn **b = bucket_of(c);
	c->hnext = *b;
	*b = c;
}

void usn_tcp_hash_remove(struct usn_tcp_conn *c)
{
	/* A connection is in exactly one table, chosen by its state when it
	 * was inserted; look in both to be safe across state changes. */
	struct usn_tcp_conn **tables[2] = {
		&c->tcp->listeners[c->t.lport % USN_TCP_LISTEN_BUCKETS],
		conn_bucket(c->tcp, c),
	};
	for (int i = 0; i < 2; i++)
		for (struct usn_tcp_conn **pp = tables[i]; *pp; pp = &(*pp)->hnext)
			if (*pp == c) {
				*pp = c->hnext;
				c->hnext = NULL;
				return;
			}
}

struct usn_tcp_conn *usn_tcp_conn_new(struct usn_tcp *tcp, int sd)
{
	if (tcp->nconns >= tcp->max_conns) {
		USN_CTR_INC(tcp->ip->ctr, TCP_CONN_ALLOC_FAIL);
		return NULL;
	}
	struct usn_tcp_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		USN_CTR_INC(tcp->ip->ctr, TCP_CONN_ALLOC_FAIL);
		return NULL;
	}
	c->tcp = tcp;
	c->sd = sd;
	c->state = USN_TCP_CLOSED;
	c->rcvbuf = USN_TCP_DEFAULT_BUF;
	c->sndbuf = USN_TCP_DEFAULT_BUF;
	c->cc = tcp->default_cc;
	c->keep_idle_s = 7200; /* RFC 1122 §4.2.3.6: no less than two hours */
	c->keep_intvl_s = 75;
	c->keep_cnt = 9;
	usn_tcp_timers_init(c);
	tcp->nconns++;
	return c;
}

static void conn_release_buffers(struct usn_tcp_conn *c)
{
	usn_bytering_fini(&c->rx);
	usn_txq_fini(&c->tx);
	usn_rtxq_fini(&c->rtxq);
}

void usn_tcp_conn_free(struct usn_tcp_conn *c)
{
	if (c->flags & USN_TCPF_PENDING) {
		struct usn_tcp *tcp = c->tcp;
		for (uint32_t i = 0; i < tcp->npending; i++)
			if (tcp->pending[i] == c)
				tcp->pending[i] = NULL;
	}
	usn_tcp_set_state(c, USN_TCP_CLOSED); /* TIME-WAIT counted out */
	usn_tcp_timers_stop(c);
	usn_tcp_hash_remove(c);
	usn_tcp_port_unref(c);
	conn_release_buffers(c);
	c->tcp->nconns--;
	free(c);
}

void usn_tcp_set_state(struct usn_tcp_conn *c, enum usn_tcp_state st)
{
	if (c->state == USN_TCP_TIME_WAIT && st != USN_TCP_TIME_WAIT)
		c->tcp->ntimewait--;
	else if (st == USN_TCP_TIME_WAIT && c->state != USN_TCP_TIME_WAIT)
		c->tcp->ntimewait++;
	c->state = st;
}

void usn_tcp_notify(struct usn_tcp_conn *c)
{
	struct usn_ip *ip = c->tcp->ip;
	if (c->sd >= 0 && ip->notify)
		ip->notify(ip->upper, c->sd, usn_tcp_poll(c));
}

/* Unlinks an unaccepted connection from its listener's queues. */
static void unlink_from_listener(struct usn_tcp_conn *c)
{
	struct usn_tcp_conn *l = c->listener;
	if (!l)
		return;
	struct usn_tcp_conn **pp = &l->accept_head;
	struct usn_tcp_conn *prev = NULL;
	for (; *pp; prev = *pp, pp = &(*pp)->qnext)
		if (*pp == c) {
			*pp = c->qnext;
			if (l->accept_tail == c)
				l->accept_tail = prev;
			l->accept_len--;
			break;
		}
	for (pp = &l->syn_head; *pp; pp = &(*pp)->qnext)
		if (*pp == c) {
			*pp = c->qnext;
			l->syn_len--;
			break;
		}
	c->listener = NULL;
	c->qnext = NULL;
}

void usn_tcp_conn_done(struct usn_tcp_conn *c, int err)
{
	usn_tcp_timers_stop(c);
	unlink_from_listener(c);
	usn_tcp_hash_remove(c);
	usn_tcp_set_state(c, USN_TCP_CLOSED);
	if (err > 0 && !c->so_error)
		c->so_error = err;
	if (c->sd >= 0) {
		usn_tcp_notify(c);
		return; /* the user still holds it: freed at usn_tcp_close */
	}
	usn_tcp_conn_free(c);
}

uint32_t usn_tcp_poll(const struct usn_tcp_conn *c)
{
	uint32_t ev = 0;
	switch (c->state) {
	case USN_TCP_LISTEN:
		if (c->accept_head)
			ev |= 0x001u; /* IN */
		return ev;
	case USN_TCP_SYN_SENT:
	case USN_TCP_SYN_RECEIVED:
		return 0;
	case USN_TCP_CLOSED:
		/* Reset or never connected: readable (the error or EOF) and
		 * writable (the error), as Linux reports a failed connect. */
		ev = 0x001u | 0x004u | 0x010u;
		if (c->so_error)
			ev |= 0x008u;
		return ev;
	default:
		break;
	}
	if (c->rx.len > 0 || (c->flags & USN_TCPF_FIN_RCVD) || c->so_error)
		ev |= 0x001u;
	/* Writable when at least a third of the send buffer is free (Linux's
	 * sk_stream_wspace >= min_wspace rule is similar), and not shut. */
	if (!(c->flags & USN_TCPF_FIN_QUEUED) && usn_txq_space(&c->tx) >= c->tx.cap / 3)
		ev |= 0x004u;
	if (c->so_error)
		ev |= 0x008u;
	if ((c->flags & USN_TCPF_FIN_RCVD) && (c->flags & USN_TCPF_FIN_QUEUED))
		ev |= 0x010u;
	return ev;
}

int usn_tcp_conn_check(const struct usn_tcp_conn *c)
{
	if (c->state == USN_TCP_CLOSED || c->state == USN_TCP_LISTEN)
		return 0;
	if (usn_seq_gt(c->snd_una, c->snd_nxt))
		return -1;
	if (usn_rtxq_check(&c->rtxq) != 0)
		return -2;
	if (!usn_rtxq_empty(&c->rtxq)) {
		struct usn_rtx_rec *first = usn_rtxq_at((struct usn_rtxq *)&c->rtxq, 0);
		struct usn_rtx_rec *last = usn_rtxq_at((struct usn_rtxq *)&c->rtxq, c->rtxq.count - 1);
		if (first->start != c->snd_una || last->end != c->snd_nxt)
			return -3;
	} else if (c->snd_una != c->snd_nxt) {
		return -4;
	}
	switch (c->state) {
	case USN_TCP_SYN_SENT:
		if (c->snd_nxt != c->iss + 1)
			return -5;
		break;
	case USN_TCP_FIN_WAIT_1:
	case USN_TCP_CLOSING:
	case USN_TCP_LAST_ACK:
		if (!(c->flags & USN_TCPF_FIN_QUEUED))
			return -6;
		break;
	case USN_TCP_FIN_WAIT_2:
	case USN_TCP_TIME_WAIT:
		if (c->snd_una != c->snd_nxt || !(c->flags & USN_TCPF_FIN_SENT))
			return -7;
		break;
	default:
		break;
	}
	if ((c->state == USN_TCP_CLOSE_WAIT || c->state == USN_TCP_CLOSING || c->state == USN_TCP_LAST_ACK ||
	     c->state == USN_TCP_TIME_WAIT) &&
	    !(c->flags & USN_TCPF_FIN_RCVD))
		return -8;
	/* The send ring starts at tx_seq and SND.UNA never passes its end
	 * (+1 for the FIN). */
	if (c->state != USN_TCP_SYN_SENT && c->state != USN_TCP_SYN_RECEIVED) {
		if (usn_seq_gt(c->tx_seq, c->snd_una) && c->tx_seq != c->iss + 1)
			return -9;
	}
	return 0;
}
