/* SPDX-License-Identifier: MIT */
/*
 * api.c - the native socket API of include/usnet/usnet.h: argument checks and
 * errno values as the kernel gives them, then the protocol underneath.
 * UDP only for now; TCP arrives with its own layer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "stack.h"
#include "usnet/usnet.h"
#include "util.h"
#include "wire_csum.h"

static int tcp_socket(struct usn_stack *s)
{
	struct usn_tcp_conn *c = usn_tcp_conn_new(&s->tcp, -1);
	if (!c)
		return -ENOMEM;
	int sd = usn_sock_alloc(s, USN_SOCK_TCP, c);
	if (sd < 0) {
		usn_tcp_conn_free(c);
		return sd;
	}
	c->sd = sd;
	return sd;
}

USNET_API int usn_socket(struct usn_stack *s, int type)
{
	if (type == USN_SOCK_STREAM)
		return tcp_socket(s);
	if (type != USN_SOCK_DGRAM)
		return -EPROTONOSUPPORT;
	struct usn_udp_pcb *pcb = usn_udp_pcb_new(&s->ip, -1);
	if (!pcb)
		return -ENOMEM;
	int sd = usn_sock_alloc(s, USN_SOCK_UDP, pcb);
	if (sd < 0) {
		usn_udp_pcb_free(&s->ip, pcb);
		return sd;
	}
	pcb->sd = sd;
	return sd;
}

static int check_addr(const struct usn_addr *a)
{
	if (!a)
		return -EFAULT;
	if (a->family != AF_INET)
		return -EAFNOSUPPORT;
	return 0;
}

USNET_API int usn_bind(struct usn_stack *s, int sd, const struct usn_addr *local)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	int rc = check_addr(local);
	if (rc < 0)
		return rc;
	/* Mode (b): a port outside usnet's own range is taken from the kernel
	 * first (-EADDRINUSE when one of its programs has it).
	 * DEVIATION(mode b): a port once owned stays usnet's until the stack
	 * ends, even when its socket closes. */
	if (s->ip.arp_kernel && local->port != 0 && s->dev && s->dev->ops->own_port &&
	    (local->port < s->ip.eph_lo || local->port > s->ip.eph_hi)) {
		rc = s->dev->ops->own_port(s->dev, so->type == USN_SOCK_TCP ? 6 : 17, local->port);
		if (rc < 0)
			return rc;
	}
	if (so->type == USN_SOCK_TCP)
		return usn_tcp_bind(&s->tcp, so->pcb, local->ip.v4, local->port);
	return usn_udp_bind(&s->ip, so->pcb, local->ip.v4, local->port);
}

USNET_API int usn_connect(struct usn_stack *s, int sd, const struct usn_addr *remote)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	int rc = check_addr(remote);
	if (rc < 0)
		return rc;
	if (so->type == USN_SOCK_TCP)
		return usn_tcp_connect(so->pcb, remote->ip.v4, remote->port);
	return usn_udp_connect(&s->ip, so->pcb, remote->ip.v4, remote->port);
}

USNET_API int usn_listen(struct usn_stack *s, int sd, int backlog)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type != USN_SOCK_TCP)
		return -EOPNOTSUPP;
	/* As Linux: a negative or huge backlog is clamped (somaxconn 4096). */
	uint32_t b = backlog < 0 ? 4096u : USN_MIN((uint32_t)backlog, 4096u);
	return usn_tcp_listen(so->pcb, b);
}

USNET_API int usn_accept(struct usn_stack *s, int sd, struct usn_addr *ret_peer)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type != USN_SOCK_TCP)
		return -EOPNOTSUPP;
	struct usn_tcp_conn *l = so->pcb;
	if (l->state != USN_TCP_LISTEN)
		return -EINVAL;
	if (!l->accept_head)
		return -EAGAIN;
	/* Take a descriptor first so a full table leaves the queue intact. */
	int nsd = usn_sock_alloc(s, USN_SOCK_TCP, NULL);
	if (nsd < 0)
		return nsd;
	struct usn_tcp_conn *c = usn_tcp_accept(l);
	s->socks[nsd].pcb = c;
	c->sd = nsd;
	if (ret_peer)
		*ret_peer = usn_addr_v4(c->t.raddr, c->t.rport);
	/* Whatever arrived before accept() is reported now. */
	if (usn_tcp_poll(c) & (USN_EV_IN | USN_EV_ERR))
		usn_sock_mark_ready(s, nsd);
	return nsd;
}

USNET_API ssize_t usn_send(struct usn_stack *s, int sd, const void *buf, size_t len, int flags)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (!buf && len)
		return -EFAULT;
	if (so->type == USN_SOCK_UDP)
		return usn_udp_sendto(&s->ip, so->pcb, buf, len, 0, 0);
	return usn_tcp_send(so->pcb, buf, len, (flags & USN_MSG_MORE) != 0);
}

USNET_API ssize_t usn_recv(struct usn_stack *s, int sd, void *buf, size_t len, int flags)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (!buf && len)
		return -EFAULT;
	if (so->type == USN_SOCK_UDP)
		return usn_recvfrom(s, sd, buf, len, flags, NULL);
	return usn_tcp_recv(so->pcb, buf, len, (flags & USN_MSG_PEEK) != 0);
}

USNET_API ssize_t usn_recv_zc(struct usn_stack *s, int sd, struct iovec ret_iov[2], int *ret_iovcnt, size_t max)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type != USN_SOCK_TCP || !ret_iov || !ret_iovcnt)
		return -EOPNOTSUPP;
	return usn_tcp_recv_zc(so->pcb, ret_iov, ret_iovcnt, max);
}

USNET_API int usn_recv_done(struct usn_stack *s, int sd, size_t n)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type != USN_SOCK_TCP)
		return -EOPNOTSUPP;
	return usn_tcp_recv_done(so->pcb, n);
}

USNET_API ssize_t usn_send_ref(struct usn_stack *s, int sd, const void *base, size_t len, struct usn_memref *ref)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type != USN_SOCK_TCP)
		return -EOPNOTSUPP;
	if (!ref || (!base && len))
		return -EFAULT;
	return usn_tcp_send_ref(so->pcb, base, len, ref);
}

USNET_API int usn_memref_sums(struct usn_memref *ref, const void *base, size_t len)
{
	if (!ref || (!base && len))
		return -EFAULT;
	struct usn_csum_cache *c = usn_csum_cache_new(base, len);
	if (!c)
		return -ENOMEM;
	usn_csum_cache_free(ref->sums);
	ref->sums = c;
	return 0;
}

USNET_API void usn_memref_sums_free(struct usn_memref *ref)
{
	if (!ref)
		return;
	usn_csum_cache_free(ref->sums);
	ref->sums = NULL;
}

USNET_API ssize_t usn_sendfile(struct usn_stack *s, int sd, int fd, off_t *offset, size_t count)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type != USN_SOCK_TCP)
		return -EINVAL; /* as sendfile(2) to a datagram socket */
	return usn_tcp_sendfile(so->pcb, fd, offset, count);
}

USNET_API int usn_shutdown(struct usn_stack *s, int sd, int how)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (how < USN_SHUT_RD || how > USN_SHUT_RDWR)
		return -EINVAL;
	if (so->type != USN_SOCK_TCP)
		return -ENOTCONN;
	return usn_tcp_shutdown(so->pcb, how != USN_SHUT_WR, how != USN_SHUT_RD);
}

USNET_API int usn_abort(struct usn_stack *s, int sd)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type == USN_SOCK_TCP) {
		usn_tcp_abort(so->pcb); /* frees the connection */
		usn_sock_release(s, sd);
		return 0;
	}
	return usn_close(s, sd);
}

USNET_API int usn_sock_error(struct usn_stack *s, int sd)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	int *err = so->type == USN_SOCK_TCP ? &((struct usn_tcp_conn *)so->pcb)->so_error
					    : &((struct usn_udp_pcb *)so->pcb)->so_error;
	int e = *err;
	*err = 0;
	return -e;
}

USNET_API int usn_getpeername(struct usn_stack *s, int sd, struct usn_addr *ret)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type == USN_SOCK_TCP) {
		struct usn_tcp_conn *c = so->pcb;
		if (c->state == USN_TCP_CLOSED || c->state == USN_TCP_LISTEN || c->t.rport == 0)
			return -ENOTCONN;
		*ret = usn_addr_v4(c->t.raddr, c->t.rport);
		return 0;
	}
	struct usn_udp_pcb *pcb = so->pcb;
	if (!pcb->connected)
		return -ENOTCONN;
	*ret = usn_addr_v4(pcb->raddr, pcb->rport);
	return 0;
}

USNET_API ssize_t usn_sendto(struct usn_stack *s, int sd, const void *buf, size_t len, int flags,
			     const struct usn_addr *to)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type == USN_SOCK_TCP) /* the address is ignored, as Linux does once connected */
		return usn_send(s, sd, buf, len, flags);
	(void)flags; /* no send flag changes UDP's behaviour yet */
	if (!buf && len)
		return -EFAULT;
	uint32_t dst = 0;
	uint16_t port = 0;
	if (to) {
		int rc = check_addr(to);
		if (rc < 0)
			return rc;
		dst = to->ip.v4;
		port = to->port;
		if (dst == 0)
			return -EINVAL;
	}
	return usn_udp_sendto(&s->ip, so->pcb, buf, len, dst, port);
}

USNET_API ssize_t usn_recvfrom(struct usn_stack *s, int sd, void *buf, size_t len, int flags,
			       struct usn_addr *ret_from)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type == USN_SOCK_TCP) {
		ssize_t n = usn_recv(s, sd, buf, len, flags);
		if (n >= 0 && ret_from)
			usn_getpeername(s, sd, ret_from);
		return n;
	}
	if (!buf && len)
		return -EFAULT;
	uint32_t src = 0;
	uint16_t sport = 0;
	int n = usn_udp_recvfrom(&s->ip, so->pcb, buf, len, (flags & USN_MSG_PEEK) != 0, &src, &sport);
	if (n < 0)
		return n;
	if (ret_from) {
		/* Field by field: usn_addr_v4()'s value, built on the stack
		 * with narrow stores and copied whole, made a load that waits
		 * for store forwarding at every datagram (perf: 1 % of a DNS
		 * server's time on that one instruction). */
		memset(ret_from, 0, sizeof(*ret_from));
		ret_from->family = AF_INET;
		ret_from->port = sport;
		ret_from->ip.v4 = src;
	}
	/* As Linux: the copied length, or the real one with MSG_TRUNC. */
	if (!(flags & USN_MSG_TRUNC) && (size_t)n > len)
		return (ssize_t)len;
	return n;
}

USNET_API int usn_getsockname(struct usn_stack *s, int sd, struct usn_addr *ret)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type == USN_SOCK_TCP) {
		struct usn_tcp_conn *c = so->pcb;
		*ret = usn_addr_v4(c->t.laddr, c->t.lport);
		return 0;
	}
	struct usn_udp_pcb *pcb = so->pcb;
	*ret = usn_addr_v4(pcb->laddr, pcb->lport);
	return 0;
}

USNET_API int usn_close(struct usn_stack *s, int sd)
{
	if (!usn_sock_get(s, sd, USN_SOCK_FREE))
		return -EBADF;
	usn_sock_free(s, sd);
	return 0;
}

USNET_API int usn_socket_poll(struct usn_stack *s, int sd)
{
	if (!usn_sock_get(s, sd, USN_SOCK_FREE))
		return -EBADF;
	return (int)usn_sock_poll(s, sd);
}

USNET_API int usn_socket_set_udata(struct usn_stack *s, int sd, void *udata)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	so->udata = udata;
	return 0;
}

USNET_API int usn_events(struct usn_stack *s, struct usn_event *ret_ev, int max)
{
	int n = 0;
	while (n < max) {
		int sd = usn_sock_ready_pop(s);
		if (sd < 0)
			break;
		uint32_t ev = usn_sock_poll(s, sd);
		if (ev == 0)
			continue;
		ret_ev[n].sd = sd;
		ret_ev[n].events = ev;
		ret_ev[n].udata = s->socks[sd].udata;
		n++;
	}
	return n;
}

/* ---- options ---- */

static int get_int(const void *val, size_t len, int *ret)
{
	if (!val || len < sizeof(int))
		return -EINVAL;
	memcpy(ret, val, sizeof(int));
	return 0;
}

USNET_API int usn_setsockopt(struct usn_stack *s, int sd, int level, int name, const void *val, size_t len)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	int v = 0;
	if (so->type == USN_SOCK_UDP) {
		struct usn_udp_pcb *pcb = so->pcb;
		if (level == SOL_SOCKET && name == SO_RCVBUF) {
			if (get_int(val, len, &v) < 0)
				return -EINVAL;
			/* Linux doubles the value for bookkeeping overhead. */
			pcb->rcvbuf = (uint32_t)USN_MAX(2 * USN_MIN(v, 1 << 28), 4608);
			return 0;
		}
		return -ENOPROTOOPT;
	}
	struct usn_tcp_conn *c = so->pcb;
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		char nm[USN_CC_NAME_MAX];
		size_t n = USN_MIN(len, sizeof(nm) - 1);
		if (!val)
			return -EFAULT;
		memcpy(nm, val, n);
		nm[n] = '\0';
		const struct usn_cc_ops *cc = usn_cc_find(nm);
		if (!cc)
			return -ENOENT;
		if (c->state != USN_TCP_CLOSED && c->state != USN_TCP_LISTEN && c->cc != cc) {
			/* Switching an open connection: start the new one from
			 * the current window. */
			struct usn_cc_view vw = {.now = *s->ip.now, .mss = c->mss, .cwnd = c->cwnd,
						 .ssthresh = c->ssthresh, .srtt = c->srtt, .min_rtt = c->min_rtt};
			memset(c->cc_priv, 0, sizeof(c->cc_priv));
			cc->init(c->cc_priv, &vw);
			c->cwnd = vw.cwnd;
			c->ssthresh = vw.ssthresh;
		}
		c->cc = cc;
		return 0;
	}
	if (get_int(val, len, &v) < 0)
		return -EINVAL;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_KEEPALIVE:
			if (v)
				c->flags |= USN_TCPF_KEEPALIVE;
			else
				c->flags &= ~USN_TCPF_KEEPALIVE;
			if (c->state >= USN_TCP_ESTABLISHED)
				usn_tcp_arm_keepalive(c);
			return 0;
		case SO_RCVBUF:
		case SO_SNDBUF:
			/* Buffers are sized when the connection starts. */
			if (c->rx.buf)
				return 0;
			v = USN_MAX(USN_MIN(v, 1 << 28), 2048);
			if (name == SO_RCVBUF)
				c->rcvbuf = (uint32_t)v * 2;
			else
				c->sndbuf = (uint32_t)v * 2;
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			if (v)
				c->flags |= USN_TCPF_NODELAY;
			else
				c->flags &= ~USN_TCPF_NODELAY;
			if (v && usn_txq_ready(&c->tx))
				usn_tcp_output(c);
			return 0;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
			if (v < 1 || v > 32767)
				return -EINVAL;
			if (name == TCP_KEEPIDLE)
				c->keep_idle_s = (uint16_t)v;
			else
				c->keep_intvl_s = (uint16_t)v;
			/* As Linux: a running keep-alive timer follows. */
			if ((c->flags & USN_TCPF_KEEPALIVE) && c->state >= USN_TCP_ESTABLISHED)
				usn_tcp_arm_keepalive(c);
			return 0;
		case TCP_KEEPCNT:
			if (v < 1 || v > 127)
				return -EINVAL;
			c->keep_cnt = (uint8_t)v;
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	return -ENOPROTOOPT;
}

USNET_API int usn_getsockopt(struct usn_stack *s, int sd, int level, int name, void *val, size_t *len)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (!val || !len || *len < sizeof(int))
		return -EINVAL;
	int v;
	if (level == SOL_SOCKET && name == SO_ERROR) {
		v = -usn_sock_error(s, sd);
	} else if (so->type == USN_SOCK_TCP) {
		struct usn_tcp_conn *c = so->pcb;
		if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
			size_t n = USN_MIN(*len, strlen(c->cc->name) + 1);
			memcpy(val, c->cc->name, n);
			*len = n;
			return 0;
		}
		if (level == SOL_SOCKET && name == SO_KEEPALIVE)
			v = (c->flags & USN_TCPF_KEEPALIVE) != 0;
		else if (level == SOL_SOCKET && name == SO_RCVBUF)
			v = (int)(c->rx.buf ? c->rx.cap : c->rcvbuf);
		else if (level == SOL_SOCKET && name == SO_SNDBUF)
			v = (int)(usn_txq_ready(&c->tx) ? c->tx.cap : c->sndbuf);
		else if (level == IPPROTO_TCP && name == TCP_NODELAY)
			v = (c->flags & USN_TCPF_NODELAY) != 0;
		else if (level == IPPROTO_TCP && name == TCP_MAXSEG)
			v = c->mss ? c->mss : 536;
		else if (level == IPPROTO_TCP && name == TCP_KEEPIDLE)
			v = (int)c->keep_idle_s;
		else if (level == IPPROTO_TCP && name == TCP_KEEPINTVL)
			v = (int)c->keep_intvl_s;
		else if (level == IPPROTO_TCP && name == TCP_KEEPCNT)
			v = (int)c->keep_cnt;
		else
			return -ENOPROTOOPT;
	} else if (level == SOL_SOCKET && name == SO_RCVBUF) {
		v = (int)((struct usn_udp_pcb *)so->pcb)->rcvbuf;
	} else {
		return -ENOPROTOOPT;
	}
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

USNET_API int usn_tcp_info(struct usn_stack *s, int sd, struct usn_tcp_info *ret)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return -EBADF;
	if (so->type != USN_SOCK_TCP)
		return -EOPNOTSUPP;
	const struct usn_tcp_conn *c = so->pcb;
	memset(ret, 0, sizeof(*ret));
	ret->state = (uint8_t)c->state;
	ret->snd_wscale = c->snd_wscale;
	ret->rcv_wscale = c->rcv_wscale;
	ret->options = (uint8_t)(((c->flags & USN_TCPF_TS) ? 1 : 0) | ((c->flags & USN_TCPF_SACK) ? 2 : 0) |
				 ((c->flags & USN_TCPF_WSCALE) ? 4 : 0));
	ret->mss = c->mss;
	ret->cwnd = c->cwnd;
	ret->ssthresh = c->ssthresh;
	ret->srtt_us = c->srtt / 1000;
	ret->rttvar_us = c->rttvar / 1000;
	ret->rto_us = c->rto / 1000;
	ret->min_rtt_us = c->min_rtt / 1000;
	ret->snd_wnd = c->snd_wnd;
	ret->rcv_wnd = usn_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	ret->unacked = c->snd_nxt - c->snd_una;
	ret->sacked = c->rtxq.sacked_bytes;
	ret->lost = c->rtxq.lost_bytes;
	ret->retrans = c->rtxq.retrans_bytes;
	ret->total_retrans = c->total_retrans;
	ret->bytes_acked = c->bytes_acked;
	ret->bytes_received = c->bytes_received;
	ret->segs_in = c->segs_in;
	ret->segs_out = c->segs_out;
	ret->send_queue = c->tx.len;
	ret->recv_queue = c->rx.len;
	snprintf(ret->cc, sizeof(ret->cc), "%s", c->cc->name);
	return 0;
}

USNET_API const char *usn_tcp_state_str(int state)
{
	return usn_tcp_state_name((enum usn_tcp_state)state);
}
