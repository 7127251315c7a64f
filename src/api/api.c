/* SPDX-License-Identifier: MIT */
/*
 * api.c - the native socket API of include/usnet/usnet.h: argument checks and
 * errno values as the kernel gives them, then the protocol underneath.
 * UDP only for now; TCP arrives with its own layer.
 */
#include <errno.h>

#include "stack.h"
#include "usnet/usnet.h"

USNET_API int usn_socket(struct usn_stack *s, int type)
{
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
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_UDP);
	if (!so)
		return -EBADF;
	int rc = check_addr(local);
	if (rc < 0)
		return rc;
	return usn_udp_bind(&s->ip, so->pcb, local->ip.v4, local->port);
}

USNET_API int usn_connect(struct usn_stack *s, int sd, const struct usn_addr *remote)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_UDP);
	if (!so)
		return -EBADF;
	int rc = check_addr(remote);
	if (rc < 0)
		return rc;
	return usn_udp_connect(&s->ip, so->pcb, remote->ip.v4, remote->port);
}

USNET_API ssize_t usn_sendto(struct usn_stack *s, int sd, const void *buf, size_t len, int flags,
			     const struct usn_addr *to)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_UDP);
	if (!so)
		return -EBADF;
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
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_UDP);
	if (!so)
		return -EBADF;
	if (!buf && len)
		return -EFAULT;
	uint32_t src = 0;
	uint16_t sport = 0;
	int n = usn_udp_recvfrom(&s->ip, so->pcb, buf, len, (flags & USN_MSG_PEEK) != 0, &src, &sport);
	if (n < 0)
		return n;
	if (ret_from)
		*ret_from = usn_addr_v4(src, sport);
	/* As Linux: the copied length, or the real one with MSG_TRUNC. */
	if (!(flags & USN_MSG_TRUNC) && (size_t)n > len)
		return (ssize_t)len;
	return n;
}

USNET_API int usn_getsockname(struct usn_stack *s, int sd, struct usn_addr *ret)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_UDP);
	if (!so)
		return -EBADF;
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
