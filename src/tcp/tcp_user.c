/* SPDX-License-Identifier: MIT */
/*
 * tcp_user.c - the user calls of RFC 9293 §3.10.1 to §3.10.6 (OPEN, SEND,
 * RECEIVE, CLOSE, ABORT) and the listen/accept queue, with the errno values
 * Linux returns for the same situations. api/ calls these after checking
 * descriptors.
 */
#include <errno.h>
#include <string.h>

#include "tcp.h"
#include "util.h"

static uint64_t now_of(const struct usn_tcp_conn *c)
{
	return *c->tcp->ip->now;
}

static void port_ref(struct usn_tcp_conn *c)
{
	if (!c->port_ref) {
		c->tcp->port_refs[c->t.lport]++;
		c->port_ref = true;
	}
}

void usn_tcp_port_unref(struct usn_tcp_conn *c)
{
	if (c->port_ref) {
		c->tcp->port_refs[c->t.lport]--;
		c->port_ref = false;
	}
}

int usn_tcp_bind(struct usn_tcp *tcp, struct usn_tcp_conn *c, uint32_t addr, uint16_t port)
{
	if (c->flags & USN_TCPF_BOUND || c->state != USN_TCP_CLOSED)
		return -EINVAL;
	if (addr != 0 && addr != tcp->ip->addr)
		return -EADDRNOTAVAIL;
	if (port == 0) {
		uint32_t range = (uint32_t)tcp->ip->eph_hi - tcp->ip->eph_lo + 1;
		uint32_t start = (uint32_t)usn_rand_below(tcp->ip->rand, range);
		for (uint32_t i = 0; i < range; i++) {
			uint16_t p = (uint16_t)(tcp->ip->eph_lo + (start + i) % range);
			if (tcp->port_refs[p] == 0) {
				port = p;
				break;
			}
		}
		if (port == 0)
			return -EADDRINUSE;
	} else if (tcp->port_refs[port] != 0) {
		/* DEVIATION(Linux SO_REUSEADDR): a port held by any socket,
		 * TIME-WAIT included, cannot be bound again yet. */
		return -EADDRINUSE;
	}
	c->t.laddr = addr;
	c->t.lport = port;
	c->flags |= USN_TCPF_BOUND;
	port_ref(c);
	return 0;
}

int usn_tcp_listen(struct usn_tcp_conn *c, uint32_t backlog)
{
	if (c->state == USN_TCP_LISTEN) {
		c->backlog = backlog ? backlog : 1; /* Linux lets listen() resize it */
		return 0;
	}
	if (c->state != USN_TCP_CLOSED)
		return -EINVAL;
	if (!(c->flags & USN_TCPF_BOUND)) {
		int rc = usn_tcp_bind(c->tcp, c, 0, 0);
		if (rc < 0)
			return rc;
	}
	/* The queues share storage with cc_priv (tcp.h), which a connection
	 * that was tried before may have filled. */
	memset(c->cc_priv, 0, sizeof(c->cc_priv));
	c->backlog = backlog ? USN_MIN(backlog, 65535u) : 1;
	usn_tcp_set_state(c, USN_TCP_LISTEN);
	usn_tcp_hash_insert(c);
	return 0;
}

int usn_tcp_connect(struct usn_tcp_conn *c, uint32_t addr, uint16_t port)
{
	struct usn_tcp *tcp = c->tcp;
	switch (c->state) {
	case USN_TCP_CLOSED:
		break;
	case USN_TCP_SYN_SENT:
		return -EALREADY;
	case USN_TCP_LISTEN:
		return -EINVAL;
	default:
		return -EISCONN;
	}
	if (c->so_error)
		return -EISCONN; /* a finished connection cannot be reused */
	if (addr == 0 || port == 0)
		return -EINVAL;
	if (usn_ip_is_bcast(tcp->ip, addr) || usn_ipv4_is_multicast(addr))
		return -ENETUNREACH;
	uint32_t hop;
	if (usn_ip_route(tcp->ip, addr, &hop) < 0)
		return -ENETUNREACH;
	if (!(c->flags & USN_TCPF_BOUND)) {
		int rc = usn_tcp_bind(tcp, c, 0, 0);
		if (rc < 0)
			return rc;
	}
	c->t.laddr = tcp->ip->addr;
	c->t.raddr = addr;
	c->t.rport = port;
	if (usn_tcp_lookup(tcp, c->t.laddr, c->t.lport, addr, port))
		return -EADDRNOTAVAIL;
	int rc = usn_tcp_conn_setup(c);
	if (rc < 0)
		return rc;
	/* RFC 9293 §3.10.1: select an ISS, send a SYN, enter SYN-SENT. */
	c->iss = usn_tcp_isn(tcp->key, &c->t, now_of(c));
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->tx_seq = c->iss + 1;
	c->recover = c->iss;
	usn_tcp_set_state(c, USN_TCP_SYN_SENT);
	usn_tcp_hash_insert(c);
	usn_rtxq_push(&c->rtxq, c->iss, c->iss + 1, USN_RTX_SYN, now_of(c));
	USN_CTR_INC(tcp->ip->ctr, TCP_ACTIVE_OPENS);
	usn_tcp_send_syn(c);
	usn_tcp_arm_rto(c);
	return -EINPROGRESS;
}

struct usn_tcp_conn *usn_tcp_accept(struct usn_tcp_conn *l)
{
	struct usn_tcp_conn *c = l->accept_head;
	if (!c)
		return NULL;
	l->accept_head = c->qnext;
	if (!l->accept_head)
		l->accept_tail = NULL;
	l->accept_len--;
	c->qnext = NULL;
	c->listener = NULL;
	c->flags |= USN_TCPF_ACCEPTED;
	return c;
}

int usn_tcp_send(struct usn_tcp_conn *c, const void *buf, size_t len, bool more)
{
	switch (c->state) {
	case USN_TCP_ESTABLISHED:
	case USN_TCP_CLOSE_WAIT:
		break;
	case USN_TCP_SYN_SENT:
	case USN_TCP_SYN_RECEIVED:
		return -EAGAIN; /* Linux blocks (or EAGAIN) until established */
	case USN_TCP_CLOSED:
		if (c->so_error) {
			int e = c->so_error;
			c->so_error = 0;
			return -e;
		}
		return usn_txq_ready(&c->tx) ? -EPIPE : -ENOTCONN;
	case USN_TCP_LISTEN:
		return -ENOTCONN;
	default:
		return -EPIPE; /* our side is closed */
	}
	if (c->flags & USN_TCPF_FIN_QUEUED)
		return -EPIPE;
	if (len == 0 || !buf)
		return 0;
	uint32_t want = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	uint32_t n = usn_txq_append(&c->tx, buf, want);
	if (n == 0)
		return -EAGAIN;
	if (more)
		c->flags |= USN_TCPF_MORE;
	else
		c->flags &= ~USN_TCPF_MORE;
	usn_tcp_output_later(c);
	return (int)n;
}

int usn_tcp_send_ref(struct usn_tcp_conn *c, const void *base, size_t len, struct usn_memref *ref)
{
	int rc = usn_tcp_send(c, NULL, 0, false); /* the state checks of send */
	if (rc < 0)
		return rc;
	if (len == 0)
		return 0;
	uint32_t n = usn_txq_append_ref(&c->tx, base, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len, ref);
	if (n == 0)
		return -EAGAIN;
	c->flags &= ~USN_TCPF_MORE;
	usn_tcp_output_later(c);
	return (int)n;
}

int usn_tcp_sendfile(struct usn_tcp_conn *c, int fd, off_t *offset, size_t count)
{
	int rc = usn_tcp_send(c, NULL, 0, false); /* the state checks of send */
	if (rc < 0)
		return rc;
	if (count == 0)
		return 0;
	ssize_t n = usn_txq_append_file(&c->tx, fd, offset, count);
	if (n == 0 && usn_txq_space(&c->tx) == 0)
		return -EAGAIN;
	if (n > 0) {
		c->flags &= ~USN_TCPF_MORE;
		usn_tcp_output_later(c);
	}
	return (int)n;
}

/* After the user took n bytes: the window may have opened enough to say
 * so (RFC 9293 §3.8.6.2.2: by a full segment or half the buffer). That is
 * decided at the flush (usn_tcp_flush()), after the rest of what the
 * application does in this pass: a segment it sends meanwhile (the
 * answer to what it read) carries the window, and no ACK of its own goes. */
static void rcv_consumed(struct usn_tcp_conn *c)
{
	if (c->state == USN_TCP_ESTABLISHED || c->state == USN_TCP_FIN_WAIT_1 || c->state == USN_TCP_FIN_WAIT_2) {
		c->flags |= USN_TCPF_WND_UPDATE;
		usn_tcp_output_later(c);
	}
}

int usn_tcp_recv_zc(struct usn_tcp_conn *c, struct iovec iov[2], int *ret_iovcnt, size_t max)
{
	*ret_iovcnt = 0;
	if (c->rx.len == 0)
		return usn_tcp_recv(c, NULL, 0, true);
	uint32_t want = max > UINT32_MAX ? UINT32_MAX : (uint32_t)max;
	uint32_t n = USN_MIN(want, c->rx.len);
	*ret_iovcnt = usn_bytering_peek_iov(&c->rx, 0, n, iov);
	/* The storage must outlive those pointers until recv_done(). */
	usn_bytering_pin(&c->rx);
	return (int)n;
}

int usn_tcp_recv_done(struct usn_tcp_conn *c, size_t n)
{
	if (n > c->rx.len)
		return -EINVAL;
	usn_bytering_consume(&c->rx, (uint32_t)n);
	usn_bytering_unpin(&c->rx);
	rcv_consumed(c);
	return 0;
}

int usn_tcp_recv(struct usn_tcp_conn *c, void *buf, size_t len, bool peek)
{
	if (c->state == USN_TCP_LISTEN)
		return -ENOTCONN;
	if (c->rx.len == 0) {
		if (c->so_error) {
			int e = c->so_error;
			c->so_error = 0;
			return -e;
		}
		if ((c->flags & (USN_TCPF_FIN_RCVD | USN_TCPF_RD_SHUT)) || c->state == USN_TCP_CLOSED)
			return c->rx.cap || c->state != USN_TCP_CLOSED ? 0 : -ENOTCONN;
		if (c->state == USN_TCP_SYN_SENT || c->state == USN_TCP_SYN_RECEIVED)
			return -EAGAIN;
		return -EAGAIN;
	}
	uint32_t want = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	uint32_t n = usn_bytering_peek(&c->rx, 0, buf, USN_MIN(want, c->rx.len));
	if (peek)
		return (int)n;
	usn_bytering_consume(&c->rx, n);
	rcv_consumed(c);
	return (int)n;
}

/* Our side stops sending: queue the FIN (RFC 9293 §3.10.4 CLOSE). */
static void queue_fin(struct usn_tcp_conn *c)
{
	if (c->flags & USN_TCPF_FIN_QUEUED)
		return;
	c->flags |= USN_TCPF_FIN_QUEUED;
	c->flags &= ~USN_TCPF_MORE;
	switch (c->state) {
	case USN_TCP_ESTABLISHED:
		usn_tcp_set_state(c, USN_TCP_FIN_WAIT_1);
		break;
	case USN_TCP_CLOSE_WAIT:
		usn_tcp_set_state(c, USN_TCP_LAST_ACK);
		break;
	default:
		/* RFC 9293 §3.10.4, SYN-RECEIVED: the FIN waits for
		 * ESTABLISHED (tcp_input.c moves to FIN-WAIT-1 then). */
		return;
	}
	usn_tcp_output_later(c); /* with the data queued before it */
}

int usn_tcp_shutdown(struct usn_tcp_conn *c, bool rd, bool wr)
{
	switch (c->state) {
	case USN_TCP_CLOSED:
	case USN_TCP_LISTEN:
	case USN_TCP_SYN_SENT:
		return -ENOTCONN;
	default:
		break;
	}
	if (rd)
		c->flags |= USN_TCPF_RD_SHUT;
	if (wr)
		queue_fin(c);
	usn_tcp_notify(c);
	return 0;
}

static void close_listener(struct usn_tcp_conn *l)
{
	/* Children not accepted yet are reset (Linux does the same). */
	while (l->accept_head) {
		struct usn_tcp_conn *c = usn_tcp_accept(l);
		usn_tcp_send_rst(c);
		c->sd = -1;
		usn_tcp_conn_done(c, 0);
	}
	while (l->syn_head) {
		struct usn_tcp_conn *c = l->syn_head;
		usn_tcp_send_rst(c);
		usn_tcp_conn_done(c, 0); /* unlinks it from syn_head */
	}
	usn_tcp_hash_remove(l);
	usn_tcp_set_state(l, USN_TCP_CLOSED);
}

void usn_tcp_abort(struct usn_tcp_conn *c)
{
	/* RFC 9293 §3.10.5 ABORT: a reset in the synchronized states. */
	switch (c->state) {
	case USN_TCP_SYN_RECEIVED:
	case USN_TCP_ESTABLISHED:
	case USN_TCP_FIN_WAIT_1:
	case USN_TCP_FIN_WAIT_2:
	case USN_TCP_CLOSE_WAIT:
		usn_tcp_send_rst(c);
		break;
	default:
		break;
	}
	c->sd = -1;
	if (c->state == USN_TCP_LISTEN)
		close_listener(c);
	usn_tcp_port_unref(c);
	if (c->state == USN_TCP_CLOSED) {
		usn_tcp_conn_free(c);
		return;
	}
	usn_tcp_conn_done(c, 0);
}

void usn_tcp_close(struct usn_tcp_conn *c)
{
	switch (c->state) {
	case USN_TCP_LISTEN:
		close_listener(c);
		/* fallthrough */
	case USN_TCP_CLOSED:
	case USN_TCP_SYN_SENT:
		usn_tcp_timers_stop(c);
		usn_tcp_hash_remove(c);
		usn_tcp_port_unref(c);
		usn_tcp_conn_free(c);
		return;
	default:
		break;
	}
	/* RFC 9293 §3.10.4 and RFC 2525 §2.17: closing with unread data
	 * resets the connection instead of losing it silently. */
	if (c->rx.len > 0) {
		usn_tcp_abort(c);
		return;
	}
	c->sd = -1;
	c->flags |= USN_TCPF_ORPHAN;
	queue_fin(c);
	if (c->state == USN_TCP_FIN_WAIT_2)
		usn_tcp_arm_finwait2(c);
}
