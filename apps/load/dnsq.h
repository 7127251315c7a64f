/* SPDX-License-Identifier: MIT */
/*
 * dnsq.h - usnet-load's DNS side without the network: queries read from a
 * file in dnsperf's format ("NAME TYPE" a line, '#' comments, blank lines
 * skipped) and built once in wire form (RFC 1035 §4.1, RD set as dnsperf
 * does, no EDNS), and the table of queries in flight that matches each
 * response to its query by socket, ID and question (RFC 5452 §9.1: name,
 * type and class), read with bounds checks (apps/dnsd's dns_read_name).
 * The table keeps its entries in the order they were sent, so the oldest
 * is the first to time out. No allocation after setup, no I/O, no usnet.
 */
#ifndef USNET_LOAD_DNSQ_H
#define USNET_LOAD_DNSQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSQ_WIRE_MAX (12 + 255 + 4)
#define DNSQ_IDS_PER_SOCKET 60000 /* of 65536: a free ID is always near */

struct dnsq_file {
	uint8_t *wire;     /* every query, one after the other */
	uint32_t *off;     /* where query i starts in wire */
	uint16_t *len;     /* its length */
	uint32_t count;
};

/* One line into a query's wire form (ID 0) in out (DNSQ_WIRE_MAX bytes).
 * Returns its length, 0 for a blank or comment line, -1 with a message in
 * err for a malformed one. TYPE is a mnemonic (A, AAAA, MX, ...) or
 * TYPEnnn (RFC 3597); class IN. */
int dnsq_parse_line(const char *line, uint8_t *out, char *err, size_t errlen);
/* Reads a query file; -1 with "FILE:LINE: why" in err. */
int dnsq_file_load(const char *path, struct dnsq_file *ret, char *err, size_t errlen);
void dnsq_file_free(struct dnsq_file *f);

#define DNSQ_NONE UINT32_MAX

struct dnsq_slot {
	uint64_t sent_ns;
	uint32_t query;  /* index in the dnsq_file */
	uint32_t prev, next; /* in-flight list, oldest first */
	uint16_t id;
	uint8_t sock;
	bool used;
};

struct dnsq_table {
	uint32_t cap, inflight, nsock;
	struct dnsq_slot *slot;
	uint32_t free_head;        /* free slots linked through next */
	uint32_t head, tail;       /* in flight, oldest first */
	uint32_t *idmap;           /* [sock][65536]: slot + 1, 0 when free */
};

/* cap entries in flight at most over nsock sockets (1..255); cap is
 * lowered to nsock * DNSQ_IDS_PER_SOCKET. -1 when out of memory. */
int dnsq_table_init(struct dnsq_table *t, uint32_t cap, uint32_t nsock);
void dnsq_table_free(struct dnsq_table *t);

/* Takes a slot for query q sent now on sock, with an unused ID near
 * want_id (random); returns the slot and its ID in *ret_id, or DNSQ_NONE
 * when the table or the socket's IDs are full. */
uint32_t dnsq_table_add(struct dnsq_table *t, uint32_t sock, uint32_t q, uint64_t now, uint16_t want_id,
			uint16_t *ret_id);
void dnsq_table_release(struct dnsq_table *t, uint32_t slot);
/* The oldest slot in flight if it was sent at or before `before`, else
 * DNSQ_NONE (the caller counts it lost and releases it). */
uint32_t dnsq_table_expired(const struct dnsq_table *t, uint64_t before);

enum dnsq_match {
	DNSQ_MATCHED,   /* *ret_slot is the query; rcode and tc set */
	DNSQ_MALFORMED, /* too short, not a response, bad question */
	DNSQ_UNKNOWN,   /* no query in flight with that ID (late, after a timeout) */
	DNSQ_MISMATCH,  /* the ID's query asked another question */
};

struct dnsq_answer {
	uint32_t slot;
	uint16_t rcode;  /* header RCODE (4 bits) */
	bool tc;
	uint16_t ancount;
};

enum dnsq_match dnsq_table_match(const struct dnsq_table *t, const struct dnsq_file *f, uint32_t sock,
				 const uint8_t *msg, size_t len, struct dnsq_answer *ret);

/* "NOERROR", "NXDOMAIN", ... or NULL for an RCODE without a name here. */
const char *dnsq_rcode_name(unsigned rcode);

#endif
