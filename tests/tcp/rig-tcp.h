/* SPDX-License-Identifier: MIT */
/*
 * rig-tcp.h - the TCP layer of the test rig: tests/ip/rig.h gives a stack
 * (10.77.0.2/24) on one end of an in-memory link and the test as the peer
 * (10.77.0.1) on the other; this adds the peer's side of TCP connections.
 * The test crafts every segment the peer sends (struct tr_peer keeps the
 * peer's sequence numbers, window and timestamp clock so the usual case is
 * one call) and parses every segment the stack sends (struct tr_seg).
 *
 * It is not a TCP: the peer does only what each test asks, including
 * malformed headers, old timestamps and wrong acknowledgments. It implements
 * no RFC; the tests that use it say what the RFCs require.
 */
#ifndef USN_TEST_TCP_RIG_H
#define USN_TEST_TCP_RIG_H

#include <stdbool.h>
#include <stdint.h>

#include "rig.h"
#include "tcp.h"

/* Options the peer offers in its SYN (or SYN-ACK). */
#define TR_MSS 0x01u
#define TR_WS 0x02u
#define TR_SACK 0x04u
#define TR_TS 0x08u
#define TR_ALL (TR_MSS | TR_WS | TR_SACK | TR_TS)

#define TR_PEER_MSS 1460
#define TR_PEER_WS 7

/* The peer's end of one connection. */
struct tr_peer {
	uint16_t pport;     /* the peer's port */
	uint16_t uport;     /* usnet's port */
	uint32_t opts;      /* TR_* offered */
	uint32_t iss;       /* the peer's ISN */
	uint32_t nxt;       /* the peer's SND.NXT */
	uint32_t uiss;      /* usnet's ISS, from its SYN or SYN-ACK */
	uint32_t rcv;       /* the peer's RCV.NXT: the next byte of usnet */
	uint16_t win;       /* window field the peer sends (before its scale) */
	bool ts;            /* timestamps negotiated */
	bool sack;          /* SACK negotiated */
	uint8_t uws;        /* usnet's window shift (0 without scaling) */
	uint32_t tsval;     /* the peer's timestamp clock (advanced by hand) */
	uint32_t ts_recent; /* usnet's last TSval seen (echoed) */
	uint8_t nsack;      /* SACK blocks for the next segment (then cleared) */
	struct usn_tcp_sack_block sack_blk[USN_TCP_MAX_SACK];
};

/* A segment the stack sent. */
struct tr_seg {
	struct usn_tcp_repr h;
	uint32_t len;         /* payload bytes */
	const uint8_t *data;  /* into r->frames */
	uint64_t t;           /* when it reached the peer */
	int idx;              /* frame index */
};

/* cmocka setup: rig_setup, and the stack knows the peer's MAC. */
int tr_setup(void **state);

/* A counter by name through the public API (asserts it exists). */
uint64_t tr_ctr(struct rig *r, const char *name);

/* Moves virtual time (as rig_advance) answering the stack's ARP requests
 * for the peer, so long waits do not stall on a stale neighbour entry. */
void tr_advance_to(struct rig *r, uint64_t t);
void tr_advance(struct rig *r, uint64_t ns);

/* Sends one segment from the peer (src RIG_PEER); not processed until
 * rig_run. The checksum covers the pseudo-header and data. */
void tr_emit(struct rig *r, const struct usn_tcp_repr *h, const void *data, uint32_t len);
/* Raw TCP bytes from the peer with the checksum field fixed (unless
 * bad_csum, then it is made wrong). */
void tr_emit_raw(struct rig *r, uint8_t *tcp, uint32_t len, bool bad_csum);
/* The repr the peer would send now on p: ports, window, timestamps,
 * pending SACK blocks. */
struct usn_tcp_repr tr_repr(struct tr_peer *p, uint8_t flags, uint32_t seq, uint32_t ack);
/* Sends a segment on p and runs the stack. */
void tr_seg(struct rig *r, struct tr_peer *p, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
	    uint32_t len);
/* Sends in-order data on p (seq = p->nxt, ack = p->rcv, ACK|PSH) and runs. */
void tr_data(struct rig *r, struct tr_peer *p, const void *data, uint32_t len);
/* An ACK of everything seen from usnet (seq = p->nxt, ack = p->rcv). */
void tr_ack(struct rig *r, struct tr_peer *p);

/* The next TCP segment the stack sent at or after frame `from`; -1 if
 * none. Asserts its checksum and header are valid. */
int tr_next(const struct rig *r, int from, struct tr_seg *ret);
uint32_t tr_count(const struct rig *r);
/* Prints the captured segments (for a failing test). */
void tr_dump(const struct rig *r);
/* Asserts exactly one TCP segment was captured and returns it. */
struct tr_seg tr_only(const struct rig *r);
/* Takes what a usnet segment tells the peer: TSval, and rcv advanced
 * past its data / SYN / FIN when it is in order. */
void tr_note(struct tr_peer *p, const struct tr_seg *s);

/* The connection behind a socket descriptor, and its invariant check. */
struct usn_tcp_conn *tr_conn(struct rig *r, int sd);
void tr_check(struct rig *r, int sd);
int tr_state(struct rig *r, int sd);

/* The options the peer offers (p->opts) into a SYN or SYN-ACK, with its
 * next TSval and `ecr` echoed. */
void tr_syn_opts(struct tr_peer *p, struct usn_tcp_repr *h, uint32_t ecr);
void tr_peer_init(struct tr_peer *p, uint16_t pport, uint16_t uport, uint32_t opts);
/* A listening socket on port. */
int tr_listen(struct rig *r, uint16_t port, int backlog);
/* Peer SYN (with p->opts) to a listener, check the SYN-ACK, ACK it, accept:
 * the accepted descriptor, with p in step and the captures cleared. */
int tr_open_passive(struct rig *r, int lsd, struct tr_peer *p);
/* usn_connect to the peer, answer the SYN with a SYN-ACK (p->opts), check
 * the ACK: the connected descriptor, captures cleared. */
int tr_open_active(struct rig *r, struct tr_peer *p);
/* The same up to the SYN-ACK, which is sent but not yet processed. */
int tr_connect_synack(struct rig *r, struct tr_peer *p);

/* End of every test: all descriptors closed by the test; runs virtual time
 * (past TIME-WAIT, up to 2000 s of retransmissions) until no connection is
 * left, then asserts tcp.nconns == 0 and the stack's pool at its baseline. */
void tr_done(struct rig *r);

#endif
