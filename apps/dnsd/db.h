/* SPDX-License-Identifier: MIT */
/*
 * db.h - usnet-dnsd's database: the zones loaded at start (db.c, with ldns
 * for the master file format, RFC 1035 §5) and, for every name, its answers
 * compiled to wire form ("canned" responses), so that answering a query
 * (answer.c) is a lookup and a copy with a few bytes patched.
 *
 * A canned response is a whole DNS message compiled for a question whose
 * name is `cq` (the node's own name, a wildcard "*.P", or a zone apex or
 * delegation point that is a suffix of the names it serves), with names
 * compressed against that question. Answering a query copies it with the
 * client's question in place of the compiled one; when the client's name is
 * longer (a wildcard match, a name under a delegation or a nonexistent
 * name), every compression pointer behind the question moves by the
 * difference, which `ptrs` lists. In a wildcard's canned response a pointer
 * to offset 12 means the query name itself (the synthesised owner) and
 * stays; every other pointer into the question points at a suffix that the
 * client's name shares, at the same distance from its end.
 */
#ifndef USNET_DNSD_DB_H
#define USNET_DNSD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

enum canned_mode {
	CANNED_EXACT,  /* for its own name only */
	CANNED_SUFFIX, /* the compiled name is a suffix of the query name */
	CANNED_WILD    /* the compiled name is "*.P", the query name x.P */
};

struct dns_cut {
	uint16_t len;     /* message length up to here */
	uint16_t arcount; /* additional records up to here */
};

struct dns_canned {
	uint8_t *wire;
	uint16_t len;
	uint16_t qname_len;  /* of the compiled question name */
	uint16_t min_len;    /* answer, authority and glue that must go: less is TC */
	uint16_t an_end;     /* where the answer section ends */
	uint8_t mode;        /* enum canned_mode */
	uint16_t nptrs;
	uint16_t *ptrs;      /* offsets of the compression pointers behind the question */
	uint16_t ncuts;
	struct dns_cut *cuts; /* after each additional RRset, in order (the last = len) */
};

/* One record's RDATA, uncompressed, with where the names in it start (for
 * compression on output and additional-section processing). */
struct dns_rr {
	uint32_t ttl; /* as the zone gives it, even if it differs in a set (as NSD) */
	uint8_t *rdata;
	uint16_t rdlen;
	uint8_t nnames;
	uint16_t name_off[4];
};

struct dns_rrset {
	uint16_t type;
	uint32_t ttl;
	uint32_t count;
	struct dns_rr *rr;
};

struct dns_typeans {
	uint16_t type;
	struct dns_canned *c;
};

#define NODE_APEX 0x1 /* a zone's top (SOA) */
#define NODE_CUT 0x2  /* NS below an apex: a delegation */
#define NODE_WILD 0x4 /* first label "*" */
#define NODE_OCCLUDED 0x8 /* at or below a delegation (glue lives here) */

struct dns_zone;

struct dns_node {
	struct dns_node *hnext;
	uint32_t hash;              /* dns_name_hash(name) */
	uint8_t name[DNS_MAX_NAME]; /* lower case, uncompressed wire form */
	uint8_t name_len;
	uint8_t nlabels;
	uint8_t flags; /* NODE_* */
	struct dns_zone *zone;
	struct dns_rrset *sets; /* in the order the zone file first gave each type */
	uint32_t nsets;
	/* compiled */
	struct dns_typeans *ans; /* sorted by type */
	uint32_t nans;
	struct dns_canned *dflt;     /* any type without an entry */
	struct dns_canned *any;      /* QTYPE ANY (RFC 8482: one RRset) */
	struct dns_canned *referral; /* a delegation: every type but DS */
	/* What answers a query for exactly this name with any QTYPE but DS,
	 * decided once the database is compiled by the same walk a query
	 * makes (dns_resolve): the node whose types answer (this one, or
	 * another zone's node of the name, or a wildcard's), or a response
	 * for every type (a referral from a delegation at or above the name,
	 * or NXDOMAIN from a zone loaded below it). The same on every node of
	 * the name, so a query for a name that exists costs one lookup. */
	const struct dns_node *exact_node;
	const struct dns_canned *exact_canned;
};

struct dns_zone {
	struct dns_node *apex;
	char *file;
	struct dns_rrset *soa;
	struct dns_rrset *ns;
	struct dns_canned *nxdomain; /* compiled for the apex, CANNED_SUFFIX */
	uint32_t nrecords;
};

struct dns_db {
	struct dns_node **bucket;
	uint32_t nbuckets, nnodes;
	struct dns_zone **zones;
	uint32_t nzones;
	uint64_t canned_bytes;
	char version[64];  /* the TXT answer to CH version.bind / version.server */
	char identity[64]; /* ... and to CH id.server / hostname.bind */
	bool no_exact;     /* tests: every query walks (exact_node unused) */
};

struct dns_db *dns_db_new(void);
void dns_db_free(struct dns_db *db);
/* Loads one zone from a master file; origin (a domain name, or NULL to take
 * the file's $ORIGIN or SOA owner) names the zone. On error returns -1 with
 * "FILE:LINE: what" in err. */
int dns_db_load(struct dns_db *db, const char *path, const char *origin, char *err, size_t errlen);
/* Compiles every name's answers once all zones are loaded; -1 and err on
 * failure (out of memory, a message that cannot be built). */
int dns_db_compile(struct dns_db *db, char *err, size_t errlen);
/* The node of a lower-case uncompressed name in zone z, or with z NULL the
 * apex of a zone of that name; NULL if none. A name can be in two zones: a
 * delegation in a parent and the apex of the child, both loaded. */
struct dns_node *dns_db_find(const struct dns_db *db, const struct dns_zone *z, const uint8_t *name, size_t len);
/* A node of that name in any zone, or NULL. */
const struct dns_node *dns_db_find_name(const struct dns_db *db, const uint8_t *name, size_t len);
/* The hash of the table (of a lower-case uncompressed name). */
uint32_t dns_name_hash(const uint8_t *name, size_t len);
/* answer.c: RFC 1034 §4.3.2 steps 2 and 3 for a lower-case name whose
 * labels start at label_off[0..nlabels] (the last: the root label), for
 * QTYPE DS (ds) or any other: the zone (the deepest apex among the name's
 * suffixes; the parent's for DS at an apex, RFC 4035 §3.1.4.1), then down
 * from its apex. Sets *ret_canned to a response for every type (a
 * referral, NXDOMAIN) or *ret_node to the node whose types answer (the
 * name's, or the wildcard's that covers it); false (both NULL) when no zone
 * here holds the name. */
bool dns_resolve(const struct dns_db *db, const uint8_t *name, size_t len, const uint8_t *label_off, int nlabels,
		 bool ds, const struct dns_node **ret_node, const struct dns_canned **ret_canned);

/* answer.c: what dns_answer() did, for the counters. */
struct dns_result {
	int rcode;      /* including extended (BADVERS = 16); -1 when dropped */
	bool truncated; /* TC set */
	bool edns;
};

/* Answers the query in pkt (len bytes) into out (cap bytes, at least 512;
 * 65535 for TCP so any answer fits): returns the response's length, or 0
 * when the packet gets no answer. udp_limit: the most a UDP response may be
 * (0 for TCP). No allocation. */
size_t dns_answer(const struct dns_db *db, const uint8_t *pkt, size_t len, size_t udp_limit, uint8_t *out,
		  size_t cap, struct dns_result *res);

#endif
