/* SPDX-License-Identifier: MIT */
/*
 * tcp.h - TCP (RFC 9293) of one stack: connections, the layer context, and
 * the functions the stack and the API call.
 *
 * State diagram (RFC 9293 §3.3.2), with the function behind each move:
 *
 *                              +---------+ ---------\      active OPEN
 *                              |  CLOSED |            \    usn_tcp_connect()
 *                              +---------+<---------\   \
 *        passive OPEN            |     ^             \   \   snd SYN
 *        usn_tcp_listen()        |     | CLOSE        \   \
 *                                V     |               \   \
 *                              +---------+   rcv SYN    \   V
 *                              |  LISTEN |  ------------ +---------+
 *           listen_input():    +---------+  snd SYN,ACK  |SYN SENT |
 *           rcv SYN, snd SYN,ACK  |                       +---------+
 *                                 V     syn_sent_input():     |
 *        +---------+  rcv ACK of SYN    rcv SYN,ACK, snd ACK  |
 *        |  SYN    | ---------------> +---------+ <-----------+
 *        |  RCVD   |                  |  ESTAB  |
 *        +---------+                  +---------+
 *                   CLOSE (usn_tcp_close)  |     |  rcv FIN (fin_input)
 *                   snd FIN                V     V  snd ACK
 *        +---------+                             +---------+
 *        |  FIN    |<----                   ---->|  CLOSE  |
 *        | WAIT-1  |                             |   WAIT  |
 *        +---------+                             +---------+
 *   rcv FIN |    | rcv ACK of FIN            CLOSE   | snd FIN
 *   snd ACK V    V                                   V
 *   +---------+ +---------+                    +---------+
 *   | CLOSING | |FIN WAIT-2|                   | LAST-ACK|
 *   +---------+ +---------+                    +---------+
 *     | rcv ACK     | rcv FIN, snd ACK          | rcv ACK of FIN
 *     V             V                           V
 *   +---------+ -------> after 2 MSL (tw_timer) CLOSED (conn freed)
 *   |TIME-WAIT|
 *   +---------+
 *
 * Invariants, checked by usn_tcp_conn_check() after every input:
 *  - all states: snd_una <= snd_nxt; the retransmission queue runs from
 *    snd_una to snd_nxt; the send ring holds exactly the bytes from snd_una
 *    (less the SYN) to the end of queued data; rcv_nxt == irs + 1 + bytes
 *    taken in order (+1 after a FIN).
 *  - LISTEN: no peer, no data, not in the connection hash.
 *  - SYN-SENT: snd_nxt == iss + 1, nothing received.
 *  - ESTABLISHED and later: the handshake is complete, the peer is fixed.
 *  - FIN-WAIT-1, CLOSING, LAST-ACK: our FIN is queued (sent once the data
 *    before it is) and not yet acked.
 *  - FIN-WAIT-2, TIME-WAIT: our FIN is acked (snd_una == snd_nxt).
 *  - CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer's FIN is taken.
 */
#ifndef USN_TCP_H
#define USN_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "bytering.h"
#include "cc.h"
#include "ip.h"
#include "syncookie.h"
#include "tcp_rtxq.h"
#include "tcp_seq.h"
#include "tcp_txq.h"

enum usn_tcp_state {
	USN_TCP_CLOSED = 0,
	USN_TCP_LISTEN,
	USN_TCP_SYN_SENT,
	USN_TCP_SYN_RECEIVED,
	USN_TCP_ESTABLISHED,
	USN_TCP_FIN_WAIT_1,
	USN_TCP_FIN_WAIT_2,
	USN_TCP_CLOSE_WAIT,
	USN_TCP_CLOSING,
	USN_TCP_LAST_ACK,
	USN_TCP_TIME_WAIT,
};

const char *usn_tcp_state_name(enum usn_tcp_state st);

/* Connection flags */
#define USN_TCPF_TS 0x0001u        /* timestamps negotiated (RFC 7323) */
#define USN_TCPF_SACK 0x0002u      /* SACK permitted both ways (RFC 2018) */
#define USN_TCPF_WSCALE 0x0004u    /* window scaling negotiated */
#define USN_TCPF_NODELAY 0x0008u   /* Nagle off */
#define USN_TCPF_KEEPALIVE 0x0010u
#define USN_TCPF_FIN_QUEUED 0x0020u /* the user closed its sending side */
#define USN_TCPF_FIN_SENT 0x0040u
#define USN_TCPF_FIN_RCVD 0x0080u   /* the peer's FIN was taken in order */
#define USN_TCPF_ACK_NOW 0x0100u    /* send an ACK at the end of this input */
#define USN_TCPF_ORPHAN 0x0200u     /* closed by the user, lives on to finish */
#define USN_TCPF_RD_SHUT 0x0400u    /* the user shut its receiving side */
#define USN_TCPF_ACCEPTED 0x0800u   /* handed to the application */
#define USN_TCPF_COOKIE 0x1000u     /* made from a SYN cookie */
#define USN_TCPF_IN_RECOVERY 0x2000u
#define USN_TCPF_RTO_RECOVERY 0x4000u /* retransmitting after an RTO */
#define USN_TCPF_FORCE 0x8000u      /* persist timer: send despite SWS avoidance */
#define USN_TCPF_MORE 0x10000u      /* the user has more to send (cork) */
#define USN_TCPF_BOUND 0x20000u     /* the user bound a local address */
#define USN_TCPF_SYN_RETRIED 0x40000u /* SYN-SENT: SYN resent at once after an old ACK */
#define USN_TCPF_PENDING 0x80000u    /* on tcp->pending: output at the next flush */
#define USN_TCPF_WND_UPDATE 0x100000u /* the user read: say the window at the flush unless sent */
#define USN_TCPF_DEFER 0x200000u     /* pending: input woke the user, who answers first */

#define USN_TCP_DEFAULT_BUF (256 * 1024)
#define USN_TCP_MAX_WSCALE 14 /* RFC 7323 §2.3 */

struct usn_tcp;

/*
 * One connection (or listener). Every established connection holds one of
 * these and nothing else while idle (its rings, extent array and
 * retransmission records are allocated only while they hold something), so
 * its size is the stack's memory per idle connection: fields are grouped by
 * size to leave no holes, and what only a listener needs shares storage with
 * what only a connection needs (the congestion controller's state).
 * Each is one calloc().
 */
struct usn_tcp_conn {
	enum usn_tcp_state state;
	uint32_t flags;
	struct usn_tcp_4tuple t;
	int sd;                        /* socket descriptor; -1 while not the user's */
	struct usn_tcp *tcp;
	struct usn_tcp_conn *hnext;    /* connection hash chain */
	struct usn_tcp_conn *listener; /* for a connection not yet accepted */
	struct usn_tcp_conn *qnext;    /* listener's accept or SYN queue */

	/* RFC 9293 §3.3.1 send sequence variables */
	usn_seq_t iss, snd_una, snd_nxt, snd_wl1, snd_wl2, snd_up;
	uint32_t snd_wnd;      /* bytes, scaled */
	uint32_t max_snd_wnd;  /* largest window offered (sender SWS) */
	/* receive sequence variables */
	usn_seq_t irs, rcv_nxt;
	usn_seq_t rcv_adv;     /* right edge of the window we advertised */
	uint8_t snd_wscale;    /* shift the peer applies to its windows */
	uint8_t rcv_wscale;    /* shift we apply to ours */
	uint16_t mss;          /* effective send MSS (payload bytes) */
	uint16_t peer_mss;     /* MSS option the peer sent (536 if none) */
	uint16_t adv_mss;      /* MSS we offered */
	uint16_t pmtu;         /* path MTU (RFC 1191), 0: the link's */
	uint8_t rtx_kind;      /* what rtx_timer is armed for */
	uint8_t unacked_segs;  /* full segments received since our last ACK */

	/* RFC 7323 timestamps */
	uint32_t ts_recent;
	uint32_t ts_offset;
	usn_seq_t last_ack_sent;  /* RFC 7323 §4.3 Last.ACK.sent */
	usn_seq_t tx_seq;         /* sequence number of the first byte of tx */
	uint64_t ts_recent_age;

	/* data: tx holds bytes from sequence tx_seq (SND.UNA once the SYN is
	 * acked) to the end of queued data; rx's in-order end is RCV.NXT */
	struct usn_bytering rx;
	struct usn_txq tx;
	struct usn_rtxq rtxq;
	uint32_t rcvbuf, sndbuf;

	/* RFC 6298 */
	uint64_t srtt, rttvar, rto, min_rtt;
	uint32_t backoff;        /* RTO doublings in a row */
	uint32_t retries;        /* retransmissions of the oldest data */
	usn_seq_t rtt_seq;       /* timed segment when timestamps are off */
	usn_seq_t rack_end;      /* RFC 8985 RACK.end_seq */
	uint64_t rtt_time;

	/* RFC 8985 RACK-TLP */
	uint64_t rack_xmit_ts;   /* RACK.xmit_ts: latest send time delivered */
	uint64_t rack_rtt;       /* RACK.rtt */
	usn_seq_t tlp_end;       /* TLP.end_seq of the probe in flight */

	/* congestion control */
	uint32_t cwnd, ssthresh;
	usn_seq_t recover;       /* RFC 6582 / RFC 6675 RecoveryPoint */
	uint32_t dupacks;
	bool tlp_out;            /* a probe is outstanding */
	bool port_ref;           /* holds a reference on tcp->port_refs[lport] */
	uint8_t keep_probes;
	uint8_t keep_cnt;        /* TCP_KEEPCNT: 1..127 */
	const struct usn_cc_ops *cc;
	union {
		/* A connection: the algorithm's state. */
		uint64_t cc_priv[USN_CC_PRIV_MAX / 8];
		/* A listener (state LISTEN, set up by usn_tcp_listen): its
		 * queues. A listener never runs congestion control. */
		struct {
			uint32_t backlog, accept_len, syn_len;
			struct usn_tcp_conn *accept_head, *accept_tail;
			struct usn_tcp_conn *syn_head; /* SYN-RECEIVED children, linked by qnext */
		};
	};
	uint64_t last_send;      /* for the idle restart (RFC 5681 §4.1) */
	uint64_t last_rcv;       /* for keep-alive */

	/* timers */
	struct usn_timer rtx_timer;   /* RTO, SYN retransmit, persist, TIME-WAIT, FIN-WAIT-2 */
	struct usn_timer delack_timer;
	struct usn_timer keep_timer;
	uint16_t keep_idle_s;         /* TCP_KEEPIDLE: 1..32767 */
	uint16_t keep_intvl_s;        /* TCP_KEEPINTVL: 1..32767 */

	int so_error;                 /* pending error for the user (positive errno) */
	int soft_error;               /* last ICMP soft error, reported on timeout */
	/* statistics for usn_tcp_info */
	uint32_t total_retrans;
	uint64_t bytes_acked, bytes_received, segs_in, segs_out;
};

/* The connection table starts with USN_TCP_HASH_MIN buckets and doubles
 * whenever there are more connections than buckets (TIME-WAIT included),
 * up to USN_TCP_HASH_MAX: chains stay about one long from ten connections
 * to a million. */
#define USN_TCP_HASH_MIN 16384      /* power of two */
#define USN_TCP_HASH_MAX (1u << 20) /* power of two */
/* Connections in TIME-WAIT beyond which a new one lasts one tick (Linux's
 * tcp_max_tw_buckets, whose value on a machine with 262144 hash buckets
 * this is). */
#define USN_TCP_MAX_TIMEWAIT 131072
#define USN_TCP_LISTEN_BUCKETS 256

struct usn_tcp {
	struct usn_ip *ip;
	uint8_t key[USN_TCP_KEY_LEN];
	struct usn_tcp_conn **hash;    /* hash_mask + 1 buckets */
	uint32_t hash_mask;
	uint32_t ntimewait;            /* connections in TIME-WAIT */
	uint32_t max_timewait;         /* USN_TCP_MAX_TIMEWAIT; settable */
	struct usn_tcp_conn *listeners[USN_TCP_LISTEN_BUCKETS];
	uint32_t nconns;
	uint32_t max_conns;
	uint32_t syn_backlog;          /* half-open connections per listener before cookies */
	/* RFC 5961 §7: challenge ACK rate limit (per stack) */
	uint32_t challenge_tokens;
	uint64_t challenge_last;
	const struct usn_cc_ops *default_cc;
	uint64_t last_cookie_time;     /* when a SYN cookie was last sent; 0 never */
	uint16_t port_refs[65536];     /* sockets holding each local port */
	struct usn_bytering_cache ring_cache; /* spare first ring blocks of all connections */
	struct usn_rtx_cache rtx_cache;       /* spare first retransmission arrays */
	/* Connections the user sent on, closed or read from since the last
	 * usn_tcp_flush(): their segments are made then, once, so that
	 * what one pass of the application does (a response's header and
	 * body, then the close; a read and then the answer) leaves in as
	 * few segments as it fits in. Entries of freed connections are NULL. */
	struct usn_tcp_conn **pending;
	uint32_t npending, pending_cap;
};

/* tcp_conn.c */
/* 0 or -ENOMEM (the connection table). */
int usn_tcp_init(struct usn_tcp *tcp, struct usn_ip *ip, const uint8_t key[USN_TCP_KEY_LEN]);
void usn_tcp_fini(struct usn_tcp *tcp);
struct usn_tcp_conn *usn_tcp_conn_new(struct usn_tcp *tcp, int sd);
/* Frees a connection that is CLOSED (unhashing it first). */
void usn_tcp_conn_free(struct usn_tcp_conn *c);
void usn_tcp_set_state(struct usn_tcp_conn *c, enum usn_tcp_state st);
int usn_tcp_conn_check(const struct usn_tcp_conn *c);
struct usn_tcp_conn *usn_tcp_lookup(struct usn_tcp *tcp, uint32_t laddr, uint16_t lport, uint32_t raddr,
				    uint16_t rport);
struct usn_tcp_conn *usn_tcp_lookup_listener(struct usn_tcp *tcp, uint32_t laddr, uint16_t lport);
void usn_tcp_hash_insert(struct usn_tcp_conn *c);
void usn_tcp_hash_remove(struct usn_tcp_conn *c);
/* Wakes the user: readiness of the connection's socket changed. */
void usn_tcp_notify(struct usn_tcp_conn *c);
/* The connection is finished for good: error to the user (if errno > 0),
 * state CLOSED, timers stopped; freed now if the user no longer holds it. */
void usn_tcp_conn_done(struct usn_tcp_conn *c, int err);
uint32_t usn_tcp_poll(const struct usn_tcp_conn *c);

/* tcp_input.c: takes a segment (chain with data at the TCP header). */
void usn_tcp_input(struct usn_tcp *tcp, const struct usn_ipv4_repr *ip, uint32_t chain);
/* An ICMP error about a segment we sent (RFC 5927, RFC 1191). */
void usn_tcp_icmp_error(struct usn_tcp *tcp, const struct usn_icmp_repr *icmp, const uint8_t *orig, size_t len);

/* tcp_output.c */
/* Sends what the window, cwnd, Nagle and recovery allow. */
void usn_tcp_output(struct usn_tcp_conn *c);
/* Output for c at the next usn_tcp_flush() (at once if the list cannot
 * grow). */
void usn_tcp_output_later(struct usn_tcp_conn *c);
/* Output for c, which a segment just woke the user of: at the next
 * usn_tcp_flush() that is not usn_tcp_flush_undeferred(), so that what
 * the user does about it (a request after the connection opened, a close
 * after the peer's FIN, a read) leaves in the same segment as the ACK. */
void usn_tcp_output_deferred(struct usn_tcp_conn *c);
/* Sends what the user's calls since the last flush asked for, and the
 * deferred output of input. usn_stack_run() calls it first. */
void usn_tcp_flush(struct usn_tcp *tcp);
/* The same, leaving deferred connections for the next usn_tcp_flush():
 * usn_stack_run() calls it last, before the user sees the wake-ups. */
void usn_tcp_flush_undeferred(struct usn_tcp *tcp);
void usn_tcp_send_ack(struct usn_tcp_conn *c);
/* An ACK with a chosen sequence number (window and keep-alive probes). */
void usn_tcp_send_ack_seq(struct usn_tcp_conn *c, usn_seq_t seq);
void usn_tcp_send_syn(struct usn_tcp_conn *c); /* SYN or SYN-ACK by state */
/* RFC 8985 §7.3: the tail loss probe. */
void usn_tcp_send_tlp(struct usn_tcp_conn *c);
/* A reset for a segment that has no connection (RFC 9293 §3.10.7.1). */
void usn_tcp_send_reset_for(struct usn_tcp *tcp, const struct usn_ipv4_repr *ip, const struct usn_tcp_repr *seg,
			    uint32_t seg_len);
void usn_tcp_send_rst(struct usn_tcp_conn *c);
/* The window we would advertise now (bytes, before scaling). */
uint32_t usn_tcp_rcv_window(struct usn_tcp_conn *c);
uint32_t usn_tcp_ts_now(const struct usn_tcp_conn *c);

/* tcp_timer.c */
enum usn_tcp_rtx_kind {
	USN_TCP_TK_NONE,
	USN_TCP_TK_RTO,
	USN_TCP_TK_PERSIST,
	USN_TCP_TK_TIMEWAIT,
	USN_TCP_TK_FINWAIT2,
	USN_TCP_TK_TLP, /* RFC 8985 §7 probe timeout */
	USN_TCP_TK_REO, /* RFC 8985 §6.2 reordering timer */
};
void usn_tcp_timers_init(struct usn_tcp_conn *c);
void usn_tcp_timers_stop(struct usn_tcp_conn *c);
void usn_tcp_arm_rto(struct usn_tcp_conn *c);
/* After sending or an ACK with data in flight: the TLP probe timer when
 * RFC 8985 §7.2 allows one, else the RTO. */
void usn_tcp_arm_rto_or_tlp(struct usn_tcp_conn *c);
void usn_tcp_arm_reo(struct usn_tcp_conn *c, uint64_t after);
/* RFC 8985 §6.2 step 5: marks what RACK deems lost; returns bytes marked. */
uint32_t usn_tcp_rack_detect(struct usn_tcp_conn *c);
/* Enters fast recovery (RFC 6675 §5 / RFC 6582): cwnd reduction once per
 * window of data. */
void usn_tcp_enter_recovery(struct usn_tcp_conn *c);
void usn_tcp_arm_persist(struct usn_tcp_conn *c);
void usn_tcp_arm_timewait(struct usn_tcp_conn *c);
void usn_tcp_arm_delack(struct usn_tcp_conn *c);
void usn_tcp_arm_keepalive(struct usn_tcp_conn *c);
void usn_tcp_arm_finwait2(struct usn_tcp_conn *c);
/* RFC 6298 §2: a new RTT sample. */
void usn_tcp_rtt_sample(struct usn_tcp_conn *c, uint64_t rtt);

/* tcp_user.c: user calls (RFC 9293 §3.10.1 - §3.10.6), used by api/ */
int usn_tcp_listen(struct usn_tcp_conn *c, uint32_t backlog);
int usn_tcp_bind(struct usn_tcp *tcp, struct usn_tcp_conn *c, uint32_t addr, uint16_t port);
int usn_tcp_connect(struct usn_tcp_conn *c, uint32_t addr, uint16_t port);
struct usn_tcp_conn *usn_tcp_accept(struct usn_tcp_conn *l);
int usn_tcp_send(struct usn_tcp_conn *c, const void *buf, size_t len, bool more);
int usn_tcp_recv(struct usn_tcp_conn *c, void *buf, size_t len, bool peek);
/* Zero-copy receive: up to max in-order bytes as at most two iovecs into
 * the receive ring (valid until the next call on the connection), then
 * usn_tcp_recv_done() with the bytes used. Returns the bytes, 0 at end of
 * stream, or -errno as usn_tcp_recv. */
int usn_tcp_recv_zc(struct usn_tcp_conn *c, struct iovec iov[2], int *ret_iovcnt, size_t max);
int usn_tcp_recv_done(struct usn_tcp_conn *c, size_t n);
/* Queues len bytes of memory held by ref (no copy). */
int usn_tcp_send_ref(struct usn_tcp_conn *c, const void *base, size_t len, struct usn_memref *ref);
/* Queues count bytes of fd from *offset as a file extent (no copy). */
int usn_tcp_sendfile(struct usn_tcp_conn *c, int fd, off_t *offset, size_t count);
int usn_tcp_shutdown(struct usn_tcp_conn *c, bool rd, bool wr);
/* The user lets go of the connection: graceful close (or RST when data is
 * unread, RFC 9293 §3.10.4 / RFC 2525 §2.17); it lives on as an orphan. */
void usn_tcp_close(struct usn_tcp_conn *c);
void usn_tcp_abort(struct usn_tcp_conn *c);
void usn_tcp_port_unref(struct usn_tcp_conn *c);
/* tcp_input.c: buffers, MSS and scaling once before the handshake. */
int usn_tcp_conn_setup(struct usn_tcp_conn *c);

#endif
