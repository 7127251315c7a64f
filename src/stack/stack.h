/* SPDX-License-Identifier: MIT */
/*
 * stack.h - struct usn_stack: one instance of the stack, the only place where
 * the layers meet. It owns the clock reading, the random source, the timer
 * wheel, the counters, the buffer pool, the device and the network layer,
 * and the table of sockets with the list of sockets whose readiness changed.
 * Driven by one thread; nothing in it is shared with another stack.
 */
#ifndef USN_STACK_H
#define USN_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "counters.h"
#include "dev.h"
#include "ip.h"
#include "tcp.h"
#include "log.h"
#include "pcap_writer.h"
#include "pool.h"
#include "rand.h"
#include "timer.h"

#define USN_RX_BATCH 64
#define USN_MAX_SOCKETS (1 << 20) /* as struct usn_tcp max_conns: the table grows by doubling */
#define USN_DEFAULT_NBUFS 16384
#define USN_BUF_SIZE 2048
#define USN_BUF_HEADROOM 128

enum usn_sock_type {
	USN_SOCK_FREE = 0,
	USN_SOCK_TCP = 1,
	USN_SOCK_UDP = 2,
};

/* 24 bytes: one per open socket. A slot is on at most one of the two
 * lists at a time (a socket freed while on the ready list joins the free
 * list only when popped), so they share one link. */
struct usn_sock {
	uint8_t type;      /* enum usn_sock_type */
	bool on_ready;     /* queued on the ready list */
	bool closed;       /* freed while on the ready list: reused once popped */
	union {
		int next_free;  /* free list link (type FREE, not on_ready) */
		int next_ready; /* ready list link (on_ready) */
	};
	void *pcb;
	void *udata;
};

struct usn_stack {
	uint64_t now;               /* the stack's clock: ns, monotonic */
	bool virtual_time;
	struct usn_rand rand;
	struct usn_wheel wheel;
	struct usn_counters ctr;
	struct usn_log log;
	struct usn_pool pool;
	struct usn_dev *dev;
	struct usn_pcap_writer *pcap;
	uint8_t secret[32];         /* per-stack key (ISNs, cookies): libsodium */
	struct usn_ip ip;
	struct usn_tcp tcp;

	struct usn_sock *socks;
	int nsocks;                 /* slots allocated */
	int nsocks_used;            /* slots ever handed out: [0, nsocks_used) are
				     * initialised, the rest untouched memory */
	int free_head;              /* freed sockets (LIFO), -1 */
	int ready_head, ready_tail; /* sockets to report, -1 */
	int nready;
};

/* sock.c: the socket table. Descriptors are indices; a freed descriptor
 * is reused (lowest first is not promised). */
/* A new socket of `type` owning pcb; returns its descriptor or -EMFILE. */
int usn_sock_alloc(struct usn_stack *s, enum usn_sock_type type, void *pcb);
/* The socket sd if it is open (and of `type` unless type is FREE), or NULL. */
struct usn_sock *usn_sock_get(struct usn_stack *s, int sd, enum usn_sock_type type);
/* Frees the socket's protocol state and its descriptor. */
void usn_sock_free(struct usn_stack *s, int sd);
/* Frees only the descriptor (the protocol state is gone already). */
void usn_sock_release(struct usn_stack *s, int sd);
/* Current USN_EV_* mask of an open socket. */
uint32_t usn_sock_poll(struct usn_stack *s, int sd);
/* Puts sd on the ready list (once). */
void usn_sock_mark_ready(struct usn_stack *s, int sd);
/* Takes the next socket off the ready list; -1 when empty. */
int usn_sock_ready_pop(struct usn_stack *s);
void usn_sock_table_fini(struct usn_stack *s);

/* Attaches a device (the simulator's in-memory link) to a stack made with
 * an empty cfg->dev; announces the address with gratuitous ARP. */
int usn_stack_attach_dev(struct usn_stack *s, struct usn_dev *dev, const uint8_t *mac);
/* Virtual time: sets the clock (must not go backwards). */
void usn_stack_set_time(struct usn_stack *s, uint64_t now);
/* One pass without sleeping: receive, timers, transmit. Returns frames
 * received. */
int usn_stack_run(struct usn_stack *s);
/* The time of the next timer, or UINT64_MAX. */
uint64_t usn_stack_next_timer(const struct usn_stack *s);

#endif
