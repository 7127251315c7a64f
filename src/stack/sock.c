/* SPDX-License-Identifier: MIT */
/*
 * sock.c - the socket table of a stack: descriptors (indices) to protocol
 * control blocks, and the FIFO list of sockets whose readiness changed.
 * Not the API: api/ validates arguments and calls in here.
 */
#include <errno.h>
#include <stdlib.h>

#include "stack.h"

#define USN_SOCK_INITIAL 256

/* The table grows by doubling; slots past nsocks_used are not written (a
 * large realloc maps fresh pages), so a table sized for 2^k sockets costs
 * memory only for the slots that were ever used. */
static int table_grow(struct usn_stack *s)
{
	if (s->nsocks >= USN_MAX_SOCKETS)
		return -EMFILE;
	int n = s->nsocks ? s->nsocks * 2 : USN_SOCK_INITIAL;
	if (n > USN_MAX_SOCKETS)
		n = USN_MAX_SOCKETS;
	struct usn_sock *t = realloc(s->socks, (size_t)n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	s->socks = t;
	s->nsocks = n;
	return 0;
}

int usn_sock_alloc(struct usn_stack *s, enum usn_sock_type type, void *pcb)
{
	int sd = s->free_head;
	if (sd >= 0) {
		s->free_head = s->socks[sd].next_free;
	} else {
		/* Freed slots first (most recent first), then never used ones
		 * in ascending order. */
		if (s->nsocks_used == s->nsocks) {
			int rc = table_grow(s);
			if (rc < 0)
				return rc;
		}
		sd = s->nsocks_used++;
	}
	s->socks[sd] = (struct usn_sock){.type = (uint8_t)type, .next_ready = -1, .pcb = pcb};
	return sd;
}

struct usn_sock *usn_sock_get(struct usn_stack *s, int sd, enum usn_sock_type type)
{
	if (sd < 0 || sd >= s->nsocks_used)
		return NULL;
	struct usn_sock *so = &s->socks[sd];
	if (so->type == USN_SOCK_FREE || (type != USN_SOCK_FREE && so->type != type))
		return NULL;
	return so;
}

void usn_sock_release(struct usn_stack *s, int sd)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return;
	so->type = USN_SOCK_FREE;
	so->pcb = NULL;
	so->udata = NULL;
	if (so->on_ready) {
		so->closed = true; /* back on the free list when popped */
		return;
	}
	so->next_free = s->free_head;
	s->free_head = sd;
}

void usn_sock_free(struct usn_stack *s, int sd)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return;
	switch (so->type) {
	case USN_SOCK_UDP:
		usn_udp_pcb_free(&s->ip, so->pcb);
		break;
	case USN_SOCK_TCP:
		usn_tcp_close(so->pcb); /* lives on as an orphan if it must */
		break;
	default:
		break;
	}
	usn_sock_release(s, sd);
}

uint32_t usn_sock_poll(struct usn_stack *s, int sd)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so)
		return 0;
	switch (so->type) {
	case USN_SOCK_UDP:
		return usn_udp_poll(so->pcb);
	case USN_SOCK_TCP:
		return usn_tcp_poll(so->pcb);
	default:
		return 0;
	}
}

void usn_sock_mark_ready(struct usn_stack *s, int sd)
{
	struct usn_sock *so = usn_sock_get(s, sd, USN_SOCK_FREE);
	if (!so || so->on_ready)
		return;
	so->on_ready = true;
	so->next_ready = -1;
	if (s->ready_tail < 0)
		s->ready_head = sd;
	else
		s->socks[s->ready_tail].next_ready = sd;
	s->ready_tail = sd;
	s->nready++;
}

int usn_sock_ready_pop(struct usn_stack *s)
{
	while (s->ready_head >= 0) {
		int sd = s->ready_head;
		struct usn_sock *so = &s->socks[sd];
		s->ready_head = so->next_ready;
		if (s->ready_head < 0)
			s->ready_tail = -1;
		so->on_ready = false;
		s->nready--;
		if (so->closed) {
			so->closed = false;
			so->next_free = s->free_head;
			s->free_head = sd;
			continue;
		}
		return sd;
	}
	return -1;
}

void usn_sock_table_fini(struct usn_stack *s)
{
	for (int i = 0; i < s->nsocks_used; i++)
		if (s->socks[i].type != USN_SOCK_FREE)
			usn_sock_free(s, i);
	free(s->socks);
	s->socks = NULL;
	s->nsocks = s->nsocks_used = 0;
}
