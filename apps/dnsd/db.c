// SPDX-License-Identifier: MIT
/*
 * db.c - loading zones (RFC 1035 §5 master files, read with ldns) into
 * usnet-dnsd's database, and compiling every name's answers to wire form
 * (see db.h for what a canned response is).
 *
 * Loading: records are read one at a time with ldns_rr_new_frm_fp_l(),
 * which handles $ORIGIN, $TTL, relative names, '@', parentheses, comments
 * and RFC 3597 unknown types; $INCLUDE (which ldns reports but does not
 * follow) is done here, RFC 1035 §5.1: the named file, relative to the
 * including file's directory, read with the given origin or the current
 * one, and the origin restored afterwards. Without $TTL, a record without a
 * TTL takes the last one stated (RFC 1035 §5.1; RFC 2308 §4 with $TTL).
 * Checked per record, with file and line: class IN, inside the zone, one
 * SOA at the apex, CNAME alone at its name (RFC 1034 §3.6.2, RFC 2181
 * §10.1). Every ancestor of a name down from the apex exists as a node (an
 * empty non-terminal if it has no data), so a lookup that walks down the
 * labels of a query name stops exactly at the closest encloser (RFC 4592
 * §3.3.1).
 *
 * Compiling, per node, the responses NSD 4 gives with its default
 * configuration (the reference the tests compare with):
 *   positive   the RRset; the apex NS in authority (unless that is the
 *              answer); A then AAAA of the NS, MX and SRV targets in
 *              additional (RFC 1034 §4.3.2 step 6, RFC 2782);
 *   CNAME      the chain followed inside the zone (RFC 1034 §4.3.2 step
 *              3a), through wildcards, stopping at a loop, a name outside
 *              the zone or a delegation, ending positive, NODATA or
 *              NXDOMAIN (RFC 6604 §2.1: the rcode of the last name);
 *   NODATA     NOERROR, SOA in authority with TTL min(SOA TTL, MINIMUM)
 *              (RFC 2308 §3, §5);
 *   NXDOMAIN   the same with rcode 3, per zone;
 *   referral   no AA, the delegation's NS in authority, glue A then AAAA in
 *              additional (RFC 1034 §4.3.2 step 3b); glue under the
 *              delegation must fit or the response is truncated (RFC 9471);
 *   DS         at a delegation, from the parent side (RFC 4035 §3.1.4.1);
 *   ANY        the first RRset of the name only (RFC 8482 §4.2).
 */
#include "db.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_CHAIN 64 /* CNAMEs followed in one answer */
#define NO_ORIGIN "no-origin.usnet.invalid." /* RFC 6761 §6.4: never a real name */

/* ---- names ---- */

/* The table's hash: 8 bytes a step (a multiply and a shift), the last
 * few bytes one at a time. The table is built once from zone data and
 * never grows from queries, so a client cannot aim names at one chain: a
 * weak hash only costs what a zone's own names collide. */
uint32_t dns_name_hash(const uint8_t *n, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15u;
	uint64_t h = k ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, n + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	uint64_t t = 0;
	for (; i < len; i++)
		t = t << 8 | n[i];
	h = (h ^ t) * k;
	h ^= h >> 32;
	return (uint32_t)h;
}

static void name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = dns_lower(src[i]);
}

static int name_labels(const uint8_t *n)
{
	int k = 0;
	while (*n) {
		n += *n + 1;
		k++;
	}
	return k;
}

/* Whether sub equals or is below parent (both lower case). */
static bool name_under(const uint8_t *sub, size_t sublen, const uint8_t *parent, size_t plen)
{
	if (plen > sublen)
		return false;
	const uint8_t *p = sub;
	while ((size_t)(p - sub) < sublen - plen)
		p += *p + 1;
	return (size_t)(p - sub) == sublen - plen && memcmp(p, parent, plen) == 0;
}

static void name_str(const uint8_t *n, char *out, size_t cap)
{
	size_t o = 0;
	if (!*n) {
		snprintf(out, cap, ".");
		return;
	}
	while (*n && o + 2 < cap) {
		for (uint8_t i = 1; i <= *n && o + 2 < cap; i++)
			out[o++] = (char)n[i];
		out[o++] = '.';
		n += *n + 1;
	}
	out[o] = '\0';
}

struct dns_node *dns_db_find(const struct dns_db *db, const struct dns_zone *z, const uint8_t *name, size_t len)
{
	if (!db->nbuckets)
		return NULL;
	uint32_t h = dns_name_hash(name, len);
	for (struct dns_node *n = db->bucket[h & (db->nbuckets - 1)]; n; n = n->hnext)
		if (n->hash == h && n->name_len == len && (z ? n->zone == z : (n->flags & NODE_APEX) != 0) &&
		    memcmp(n->name, name, len) == 0)
			return n;
	return NULL;
}

const struct dns_node *dns_db_find_name(const struct dns_db *db, const uint8_t *name, size_t len)
{
	if (!db->nbuckets)
		return NULL;
	uint32_t h = dns_name_hash(name, len);
	for (const struct dns_node *n = db->bucket[h & (db->nbuckets - 1)]; n; n = n->hnext)
		if (n->hash == h && n->name_len == len && memcmp(n->name, name, len) == 0)
			return n;
	return NULL;
}

static int db_grow(struct dns_db *db)
{
	uint32_t nb = db->nbuckets ? db->nbuckets * 2 : 1024;
	struct dns_node **b = calloc(nb, sizeof(*b));
	if (!b)
		return -1;
	for (uint32_t i = 0; i < db->nbuckets; i++) {
		struct dns_node *n = db->bucket[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			uint32_t h = n->hash & (nb - 1);
			n->hnext = b[h];
			b[h] = n;
		}
	}
	free(db->bucket);
	db->bucket = b;
	db->nbuckets = nb;
	return 0;
}

/* The node of a lower-case name, made with its ancestors down from the
 * zone's apex when missing. */
static struct dns_node *node_get(struct dns_db *db, struct dns_zone *z, const uint8_t *name, size_t len)
{
	struct dns_node *n = dns_db_find(db, z, name, len);
	if (n)
		return n;
	if (db->nnodes >= db->nbuckets && db_grow(db) < 0)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	memcpy(n->name, name, len);
	n->name_len = (uint8_t)len;
	n->nlabels = (uint8_t)name_labels(name);
	n->zone = z;
	if (name[0] == 1 && name[1] == '*')
		n->flags |= NODE_WILD;
	n->hash = dns_name_hash(name, len);
	uint32_t h = n->hash & (db->nbuckets - 1);
	n->hnext = db->bucket[h];
	db->bucket[h] = n;
	db->nnodes++;
	if (z->apex && len > z->apex->name_len) {
		/* the parent, so that the walk down never skips a level */
		size_t skip = (size_t)name[0] + 1;
		if (!node_get(db, z, name + skip, len - skip))
			return NULL;
	}
	return n;
}

static struct dns_rrset *node_set(const struct dns_node *n, uint16_t type)
{
	for (uint32_t i = 0; i < n->nsets; i++)
		if (n->sets[i].type == type)
			return &n->sets[i];
	return NULL;
}

/* ---- loading ---- */

struct loader {
	struct dns_db *db;
	struct dns_zone *z;
	char *err;
	size_t errlen;
	int depth;
	bool ttl_seen; /* a $TTL was given */
	const char *origin_name; /* --zone NAME=FILE */
};

static int fail(struct loader *L, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct loader *L, const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(L->err, L->errlen, "%s:%d: %s", file, line, msg);
	else
		snprintf(L->err, L->errlen, "%s: %s", file, msg);
	return -1;
}

/* The RDATA of rr in wire form, with the offsets of its names. */
static int rdata_of(const ldns_rr *rr, struct dns_rr *out)
{
	ldns_buffer *b = ldns_buffer_new(256);
	if (!b)
		return -1;
	out->nnames = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME && out->nnames < 4)
			out->name_off[out->nnames++] = (uint16_t)ldns_buffer_position(b);
		size_t at = ldns_buffer_position(b);
		if (ldns_rdf2buffer_wire(b, f) != LDNS_STATUS_OK) {
			ldns_buffer_free(b);
			return -1;
		}
		/* Names in data are kept in lower case, as NSD serves them
		 * (case-insensitive by RFC 4343 anyway). */
		if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME)
			name_lower(ldns_buffer_at(b, at), ldns_buffer_at(b, at), ldns_buffer_position(b) - at);
	}
	size_t n = ldns_buffer_position(b);
	if (n > 65535) {
		ldns_buffer_free(b);
		return -1;
	}
	out->rdata = malloc(n ? n : 1);
	if (!out->rdata) {
		ldns_buffer_free(b);
		return -1;
	}
	memcpy(out->rdata, ldns_buffer_begin(b), n);
	out->rdlen = (uint16_t)n;
	ldns_buffer_free(b);
	return 0;
}

static int add_rr(struct loader *L, const ldns_rr *rr, const char *file, int line)
{
	struct dns_zone *z = L->z;
	const ldns_rdf *owner = ldns_rr_owner(rr);
	size_t olen = ldns_rdf_size(owner);
	uint8_t name[DNS_MAX_NAME];
	char s[DNS_MAX_NAME * 4 + 4];
	if (olen > DNS_MAX_NAME)
		return fail(L, file, line, "owner name too long");
	name_lower(name, ldns_rdf_data(owner), olen);
	static const uint8_t no_origin[] = "\011no-origin\005usnet\007invalid";
	if (name_under(name, olen, no_origin, sizeof(no_origin)))
		return fail(L, file, line,
			    "a relative name before any $ORIGIN: name the zone with --zone NAME=FILE or add $ORIGIN");
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		return fail(L, file, line, "class %d: only IN is served", (int)ldns_rr_get_class(rr));
	if (type == DNS_T_OPT || type == DNS_T_TSIG || type == DNS_T_TKEY || type == DNS_T_ANY ||
	    type == DNS_T_AXFR || type == DNS_T_IXFR)
		return fail(L, file, line, "type %u cannot be zone data", type);
	if (!z->apex) {
		/* The first record must be the SOA: it names the zone. */
		if (type != DNS_T_SOA)
			return fail(L, file, line, "the first record must be the zone's SOA");
		if (L->origin_name) {
			ldns_rdf *o = NULL;
			if (ldns_str2rdf_dname(&o, L->origin_name) != LDNS_STATUS_OK)
				return fail(L, file, 0, "bad zone name %s", L->origin_name);
			uint8_t on[DNS_MAX_NAME];
			size_t onl = ldns_rdf_size(o);
			name_lower(on, ldns_rdf_data(o), onl);
			ldns_rdf_deep_free(o);
			if (onl != olen || memcmp(on, name, olen) != 0) {
				name_str(name, s, sizeof(s));
				return fail(L, file, line, "the SOA is for %s, not the zone %s", s, L->origin_name);
			}
		}
		for (uint32_t i = 0; i < L->db->nzones; i++)
			if (L->db->zones[i]->apex->name_len == olen && memcmp(L->db->zones[i]->apex->name, name, olen) == 0) {
				name_str(name, s, sizeof(s));
				return fail(L, file, line, "zone %s is loaded twice", s);
			}
		z->apex = node_get(L->db, z, name, olen);
		if (!z->apex)
			return fail(L, file, line, "out of memory");
		z->apex->flags |= NODE_APEX;
	}
	if (!name_under(name, olen, z->apex->name, z->apex->name_len)) {
		name_str(name, s, sizeof(s));
		return fail(L, file, line, "%s is outside the zone", s);
	}
	struct dns_node *n = node_get(L->db, z, name, olen);
	if (!n)
		return fail(L, file, line, "out of memory");
	if (type == DNS_T_SOA && n != z->apex)
		return fail(L, file, line, "SOA below the zone's apex");
	if (type == DNS_T_SOA && node_set(n, DNS_T_SOA))
		return fail(L, file, line, "a second SOA");
	if ((type == DNS_T_CNAME && n->nsets && !node_set(n, DNS_T_CNAME)) ||
	    (type != DNS_T_CNAME && node_set(n, DNS_T_CNAME))) {
		name_str(name, s, sizeof(s));
		return fail(L, file, line, "CNAME and other data at %s (RFC 1034 §3.6.2)", s);
	}
	if (type == DNS_T_CNAME && n == z->apex)
		return fail(L, file, line, "CNAME at the zone's apex");
	struct dns_rr r;
	r.ttl = ldns_rr_ttl(rr);
	if (rdata_of(rr, &r) < 0)
		return fail(L, file, line, "cannot convert the record's data");
	struct dns_rrset *set = node_set(n, type);
	if (!set) {
		struct dns_rrset *ns = realloc(n->sets, (n->nsets + 1) * sizeof(*ns));
		if (!ns) {
			free(r.rdata);
			return fail(L, file, line, "out of memory");
		}
		n->sets = ns;
		set = &n->sets[n->nsets++];
		memset(set, 0, sizeof(*set));
		set->type = type;
		set->ttl = ldns_rr_ttl(rr);
	} else {
		for (uint32_t i = 0; i < set->count; i++)
			if (set->rr[i].rdlen == r.rdlen && memcmp(set->rr[i].rdata, r.rdata, r.rdlen) == 0) {
				free(r.rdata); /* RFC 2181 §5: a set has no duplicates */
				return 0;
			}
		if (type == DNS_T_CNAME) {
			free(r.rdata);
			name_str(name, s, sizeof(s));
			return fail(L, file, line, "a second CNAME at %s", s);
		}
		/* DEVIATION(RFC 2181 §5.2): records of one set with other
		 * TTLs keep them, as NSD serves them; a client takes the
		 * lowest (ibid.). */
	}
	if (set->count >= 65535) {
		free(r.rdata);
		return fail(L, file, line, "too many records in one set");
	}
	struct dns_rr *nr = realloc(set->rr, (set->count + 1) * sizeof(*nr));
	if (!nr) {
		free(r.rdata);
		return fail(L, file, line, "out of memory");
	}
	set->rr = nr;
	set->rr[set->count++] = r;
	z->nrecords++;
	return 0;
}

static int load_file(struct loader *L, const char *path, ldns_rdf **origin, uint32_t *ttl);

/* ---- the text of one record, as ldns read it ----
 * ldns does not say on which line a record starts (it does not count
 * comment-only lines) nor hand back what it read, and it is lenient with a
 * few values NSD refuses. So the loader reads the same bytes again (pread,
 * leaving the stream alone) and checks them itself. */

struct rtext {
	char *p;
	size_t n, cap;
};

/* The bytes [from, to) of fd into t. */
static bool rtext_read(struct rtext *t, int fd, long from, long to)
{
	size_t n = to > from ? (size_t)(to - from) : 0;
	if (n + 1 > t->cap) {
		char *q = realloc(t->p, n + 1);
		if (!q)
			return false;
		t->p = q;
		t->cap = n + 1;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, t->p + got, n - got, from + (off_t)got);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	t->p[n] = '\0';
	t->n = n;
	return true;
}

/* Lines before the first that holds more than blanks and a comment; *text
 * is set to that line. */
static int skip_blank_lines(const char *p, const char **text)
{
	int lines = 0;
	const char *line = p;
	for (;;) {
		const char *q = line;
		while (*q == ' ' || *q == '\t' || *q == '\r')
			q++;
		if (*q == ';')
			while (*q && *q != '\n')
				q++;
		if (*q != '\n') {
			*text = line;
			return lines;
		}
		lines++;
		line = q + 1;
	}
}

static int count_lines(const char *p, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* RFC 1035 §5.1 and BIND's units (RFC 2308 §4): digits, or numbers each
 * followed by w, d, h, m or s; at most 2^32 - 1. */
static bool ttl_valid(const char *tok, size_t n)
{
	uint64_t total = 0, v = 0;
	bool digits = false, units = false;
	for (size_t i = 0; i < n; i++) {
		char c = tok[i];
		if (c >= '0' && c <= '9') {
			v = v * 10 + (uint64_t)(c - '0');
			digits = true;
			if (v > 0xffffffffu)
				return false;
			continue;
		}
		uint64_t mul;
		switch (c | 0x20) {
		case 'w': mul = 604800; break;
		case 'd': mul = 86400; break;
		case 'h': mul = 3600; break;
		case 'm': mul = 60; break;
		case 's': mul = 1; break;
		default: return false;
		}
		if (!digits)
			return false;
		total += v * mul;
		v = 0;
		digits = false;
		units = true;
	}
	if (digits)
		total += v;
	else if (!units)
		return false;
	return total <= 0xffffffffu;
}

static bool is_class(const char *tok, size_t n)
{
	static const char *cls[] = {"IN", "CH", "CS", "HS"};
	for (size_t i = 0; i < 4; i++)
		if (n == 2 && strncasecmp(tok, cls[i], 2) == 0)
			return true;
	return n > 5 && strncasecmp(tok, "CLASS", 5) == 0;
}

/* Checks what ldns lets through in a record's text: a TTL that is not a
 * number ("1x"), a quoted string left open. The text starts at the
 * record's first line. Returns NULL or what is wrong. */
static const char *check_record(const char *p, uint16_t type, char *why, size_t whylen)
{
	const char *tok[8];
	size_t len[8];
	int ntok = 0;
	bool owner = *p != ' ' && *p != '\t';
	bool in_q = false;
	int depth = 0;
	for (const char *q = p; *q; q++) {
		if (in_q) {
			if (*q == '\\' && q[1])
				q++;
			else if (*q == '"')
				in_q = false;
			else if (*q == '\n' && depth == 0)
				break;
			continue;
		}
		if (*q == '"') {
			in_q = true;
			continue;
		}
		if (*q == ';') {
			while (q[1] && q[1] != '\n')
				q++;
			continue;
		}
		if (*q == '(')
			depth++;
		else if (*q == ')')
			depth--;
		else if (*q == '\n' && depth <= 0)
			break;
		if (ntok < 8 && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r' && *q != '(' && *q != ')' &&
		    (q == p || strchr(" \t\n\r()", q[-1]))) {
			tok[ntok] = q;
			len[ntok] = strcspn(q, " \t\n\r();");
			ntok++;
		}
	}
	if (in_q)
		return "a quoted string is not closed";
	/* owner? [ttl] [class] or [class] [ttl], then the type */
	char tname[32];
	const char *ts = NULL;
	ldns_buffer *b = ldns_buffer_new(32);
	if (b && ldns_rr_type2buffer_str(b, (ldns_rr_type)type) == LDNS_STATUS_OK) {
		size_t k = ldns_buffer_position(b) < sizeof(tname) - 1 ? ldns_buffer_position(b) : sizeof(tname) - 1;
		memcpy(tname, ldns_buffer_begin(b), k);
		tname[k] = '\0';
		ts = tname;
	}
	ldns_buffer_free(b);
	for (int i = owner ? 1 : 0; i < ntok && i < (owner ? 3 : 2) + 1; i++) {
		if (ts && len[i] == strlen(ts) && strncasecmp(tok[i], ts, len[i]) == 0)
			break;
		if (is_class(tok[i], len[i]))
			continue;
		if (!ttl_valid(tok[i], len[i])) {
			snprintf(why, whylen, "bad TTL '%.*s'", (int)(len[i] < 32 ? len[i] : 32), tok[i]);
			return why;
		}
	}
	return NULL;
}

static int load_file(struct loader *L, const char *path, ldns_rdf **origin, uint32_t *ttl);

/* $INCLUDE <file> [<origin>] (RFC 1035 §5.1) in text (the line). */
static int do_include(struct loader *L, const char *text, const char *path, int line, ldns_rdf **origin,
		      uint32_t *ttl)
{
	char file[4096], org[1024];
	const char *p = text;
	while (*p == ' ' || *p == '\t')
		p++;
	org[0] = '\0';
	int nf = strncmp(p, "$INCLUDE", 8) == 0 ? sscanf(p + 8, " %4095s %1023s", file, org) : 0;
	if (nf < 1 || file[0] == ';')
		return fail(L, path, line, "$INCLUDE without a file name");
	if (nf == 2 && org[0] == ';')
		org[0] = '\0'; /* a comment, not an origin */
	char full[8192];
	if (file[0] == '/') {
		snprintf(full, sizeof(full), "%s", file);
	} else {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s", path);
		snprintf(full, sizeof(full), "%s/%s", dirname(tmp), file);
	}
	if (L->depth >= 8)
		return fail(L, path, line, "$INCLUDE nested too deep");
	FILE *probe = fopen(full, "r");
	if (!probe)
		return fail(L, path, line, "$INCLUDE %s: %s", full, strerror(errno));
	fclose(probe);
	/* The included file starts with the given origin (or the current
	 * one) and leaves the including file's origin as it was. */
	ldns_rdf *sub = NULL;
	if (org[0]) {
		if (ldns_str2rdf_dname(&sub, org) != LDNS_STATUS_OK)
			return fail(L, path, line, "$INCLUDE: bad origin %s", org);
		if (!ldns_dname_str_absolute(org) && *origin) {
			ldns_rdf *abs = ldns_dname_cat_clone(sub, *origin);
			ldns_rdf_deep_free(sub);
			sub = abs;
		}
	} else if (*origin) {
		sub = ldns_rdf_clone(*origin);
	}
	L->depth++;
	int rc = load_file(L, full, &sub, ttl);
	L->depth--;
	if (sub)
		ldns_rdf_deep_free(sub);
	return rc;
}

static int load_file(struct loader *L, const char *path, ldns_rdf **origin, uint32_t *ttl)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return fail(L, path, 0, "%s", strerror(errno));
	int ldns_line = 1, line = 1; /* ldns's count, and ours (the true one) */
	ldns_rdf *prev = *origin ? ldns_rdf_clone(*origin) : NULL;
	struct rtext t = {0};
	int rc = 0;
	char why[96];
	for (;;) {
		long at = ftell(fp);
		ldns_rr *rr = NULL;
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, fp, ttl, origin, &prev, &ldns_line);
		long end = ftell(fp);
		if (at < 0 || end < 0 || !rtext_read(&t, fileno(fp), at, end)) {
			ldns_rr_free(rr);
			rc = fail(L, path, line, "cannot read the file again");
			break;
		}
		const char *text = t.p;
		int rec_line = line + skip_blank_lines(t.p, &text);
		line += count_lines(t.p, t.n);
		bool content = *text != '\0';
		if (st == LDNS_STATUS_OK) {
			const char *bad = check_record(text, (uint16_t)ldns_rr_get_type(rr), why, sizeof(why));
			rc = bad ? fail(L, path, rec_line, "%s", bad) : add_rr(L, rr, path, rec_line);
			if (!L->ttl_seen)
				*ttl = ldns_rr_ttl(rr); /* the last TTL stated */
			ldns_rr_free(rr);
			if (rc < 0)
				break;
		} else if (st == LDNS_STATUS_SYNTAX_TTL) {
			const char *v = text;
			while (*v == ' ' || *v == '\t')
				v++;
			v += 4; /* "$TTL" */
			while (*v == ' ' || *v == '\t')
				v++;
			if (!ttl_valid(v, strcspn(v, " \t\r\n;"))) {
				rc = fail(L, path, rec_line, "bad $TTL '%.*s'", (int)strcspn(v, "\r\n;"), v);
				break;
			}
			L->ttl_seen = true;
		} else if (st == LDNS_STATUS_SYNTAX_INCLUDE) {
			rc = do_include(L, text, path, rec_line, origin, ttl);
			if (rc < 0)
				break;
		} else if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_ORIGIN) {
			/* nothing */
		} else if (feof(fp) && !content) {
			break; /* only blanks and comments were left (ldns reports an error) */
		} else {
			rc = fail(L, path, rec_line, "%s", ldns_get_errorstr_by_id(st));
			break;
		}
		if (feof(fp))
			break;
	}
	free(t.p);
	if (prev)
		ldns_rdf_deep_free(prev);
	fclose(fp);
	return rc;
}

struct dns_db *dns_db_new(void)
{
	struct dns_db *db = calloc(1, sizeof(*db));
	if (db)
		snprintf(db->version, sizeof(db->version), "usnet-dnsd");
	return db;
}

int dns_db_load(struct dns_db *db, const char *path, const char *origin, char *err, size_t errlen)
{
	struct dns_zone *z = calloc(1, sizeof(*z));
	struct dns_zone **zs = realloc(db->zones, (db->nzones + 1) * sizeof(*zs));
	if (!z || !zs) {
		free(z);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	db->zones = zs;
	z->file = strdup(path);
	struct loader L = {.db = db, .z = z, .err = err, .errlen = errlen, .origin_name = origin};
	ldns_rdf *org = NULL;
	if (origin && ldns_str2rdf_dname(&org, origin) != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s: bad zone name %s", path, origin);
		free(z->file);
		free(z);
		return -1;
	}
	/* Without a name for the zone, relative names before any $ORIGIN end
	 * up under this name, which add_rr() refuses with a hint. */
	if (!org && ldns_str2rdf_dname(&org, NO_ORIGIN) != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(z->file);
		free(z);
		return -1;
	}
	uint32_t ttl = 3600; /* only if the file states none before use */
	int rc = load_file(&L, path, &org, &ttl);
	if (org)
		ldns_rdf_deep_free(org);
	/* Pointers into the apex's sets only now that they stop growing. */
	if (rc == 0 && !(z->apex && (z->soa = node_set(z->apex, DNS_T_SOA))))
		rc = fail(&L, path, 0, "no SOA record");
	/* The zone is added even when it failed: its nodes are in the table
	 * and dns_db_free() finds them through it. */
	db->zones[db->nzones++] = z;
	if (rc < 0)
		return -1;
	z->ns = node_set(z->apex, DNS_T_NS);
	if (!z->ns)
		return fail(&L, path, 0, "no NS records at the apex");
	return 0;
}

/* ---- compiling ---- */

/* A message being built, with its compression dictionary: the offsets of
 * the names (and their suffixes) written so far that pointers may target. */
struct mb {
	uint8_t buf[65535];
	size_t len;
	bool overflow;
	uint16_t counts[3];
	uint16_t dict[2048];
	uint32_t ndict;
	uint16_t ptrs[4096];
	uint32_t nptrs;
	bool wild; /* offset 12 is "*.P": never a compression target */
	uint16_t qname_len;
	size_t an_end; /* where the answer section ends (0: not yet) */
};

enum { SEC_AN, SEC_NS, SEC_AR };

static void mb_put(struct mb *m, const void *p, size_t n)
{
	if (m->len + n > sizeof(m->buf)) {
		m->overflow = true;
		return;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

/* The name at off in the message, uncompressed, lower case. */
static size_t mb_name_at(const struct mb *m, size_t off, uint8_t *out)
{
	size_t pos = off;
	int n = dns_read_name(m->buf, m->len, &pos, out);
	return n < 0 ? 0 : (size_t)n;
}

static void mb_dict_add(struct mb *m, size_t off)
{
	if (off < 0x3f00 && m->ndict < sizeof(m->dict) / sizeof(m->dict[0]))
		m->dict[m->ndict++] = (uint16_t)off;
}

/* Writes name (uncompressed wire, any case); compress: may end in a pointer
 * to an earlier name, and becomes a target itself. */
static void mb_name(struct mb *m, const uint8_t *name, bool compress)
{
	uint8_t lc[DNS_MAX_NAME], other[DNS_MAX_NAME];
	size_t len = dns_name_len(name);
	name_lower(lc, name, len);
	size_t i = 0;
	while (name[i]) {
		if (compress) {
			for (uint32_t d = 0; d < m->ndict; d++) {
				size_t ol = mb_name_at(m, m->dict[d], other);
				if (ol == len - i && memcmp(other, lc + i, ol) == 0) {
					uint8_t ptr[2] = {(uint8_t)(0xc0 | m->dict[d] >> 8), (uint8_t)m->dict[d]};
					if (m->nptrs < sizeof(m->ptrs) / sizeof(m->ptrs[0]))
						m->ptrs[m->nptrs++] = (uint16_t)m->len;
					else
						m->overflow = true;
					mb_put(m, ptr, 2);
					return;
				}
			}
			mb_dict_add(m, m->len);
		}
		mb_put(m, name + i, (size_t)name[i] + 1);
		i += (size_t)name[i] + 1;
	}
	mb_put(m, "", 1);
}

/* A pointer to the question's name: the query name itself. */
static void mb_qname_ptr(struct mb *m)
{
	if (m->nptrs < sizeof(m->ptrs) / sizeof(m->ptrs[0]))
		m->ptrs[m->nptrs++] = (uint16_t)m->len;
	mb_put(m, "\xc0\x0c", 2);
}

static void mb_start(struct mb *m, const uint8_t *qname, uint16_t flags, bool wild)
{
	m->len = 0;
	m->overflow = false;
	m->ndict = m->nptrs = 0;
	memset(m->counts, 0, sizeof(m->counts));
	m->wild = wild;
	m->an_end = 0;
	uint8_t h[DNS_HDR_LEN] = {0};
	dns_put16(h + 2, flags);
	dns_put16(h + 4, 1);
	mb_put(m, h, sizeof(h));
	size_t qlen = dns_name_len(qname);
	m->qname_len = (uint16_t)qlen;
	/* Every suffix of the question's name may be pointed at. */
	for (size_t i = 0; qname[i]; i += (size_t)qname[i] + 1)
		if (!(wild && i == 0))
			mb_dict_add(m, DNS_HDR_LEN + i);
	mb_put(m, qname, qlen);
	uint8_t tc[4] = {0, 0, 0, DNS_C_IN};
	mb_put(m, tc, 4);
}

static bool type_compresses(uint16_t t)
{
	/* RFC 3597 §4: only the RFC 1035 types' names may be compressed. */
	switch (t) {
	case DNS_T_NS: case DNS_T_MD: case DNS_T_MF: case DNS_T_CNAME: case DNS_T_SOA: case DNS_T_MB:
	case DNS_T_MG: case DNS_T_MR: case DNS_T_PTR: case DNS_T_MINFO: case DNS_T_MX:
		return true;
	default:
		return false;
	}
}

/* owner NULL: the query name (a pointer to offset 12). */
#define OWN_TTL UINT32_MAX /* each record's own TTL */

static void mb_rrset(struct mb *m, int sec, const uint8_t *owner, const struct dns_rrset *set, uint32_t ttl)
{
	bool comp = type_compresses(set->type);
	if (sec != SEC_AN && !m->an_end)
		m->an_end = m->len;
	for (uint32_t i = 0; i < set->count; i++) {
		const struct dns_rr *r = &set->rr[i];
		if (owner)
			mb_name(m, owner, true);
		else
			mb_qname_ptr(m);
		uint8_t f[10];
		dns_put16(f, set->type);
		dns_put16(f + 2, DNS_C_IN);
		dns_put32(f + 4, ttl == OWN_TTL ? r->ttl : ttl);
		size_t rdlen_at = m->len + 8;
		mb_put(m, f, 10);
		size_t start = m->len;
		size_t pos = 0;
		for (uint8_t k = 0; k < r->nnames; k++) {
			mb_put(m, r->rdata + pos, r->name_off[k] - pos);
			mb_name(m, r->rdata + r->name_off[k], comp);
			pos = r->name_off[k] + dns_name_len(r->rdata + r->name_off[k]);
		}
		mb_put(m, r->rdata + pos, r->rdlen - pos);
		if (!m->overflow)
			dns_put16(m->buf + rdlen_at, (uint16_t)(m->len - start));
		m->counts[sec]++;
	}
}

static struct dns_canned *mb_finish(struct mb *m, struct dns_db *db, enum canned_mode mode, size_t min_len,
				    const struct dns_cut *cuts, uint32_t ncuts)
{
	if (m->overflow)
		return NULL;
	for (int s = 0; s < 3; s++)
		dns_put16(m->buf + 6 + 2 * s, m->counts[s]);
	struct dns_canned *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->wire = malloc(m->len);
	c->ptrs = malloc((m->nptrs ? m->nptrs : 1) * sizeof(*c->ptrs));
	c->cuts = malloc((ncuts ? ncuts : 1) * sizeof(*c->cuts));
	if (!c->wire || !c->ptrs || !c->cuts) {
		free(c->wire);
		free(c->ptrs);
		free(c->cuts);
		free(c);
		return NULL;
	}
	memcpy(c->wire, m->buf, m->len);
	c->len = (uint16_t)m->len;
	c->qname_len = m->qname_len;
	c->min_len = (uint16_t)min_len;
	c->an_end = (uint16_t)(m->an_end ? m->an_end : m->len);
	c->mode = (uint8_t)mode;
	memcpy(c->ptrs, m->ptrs, m->nptrs * sizeof(*c->ptrs));
	c->nptrs = (uint16_t)m->nptrs;
	if (ncuts)
		memcpy(c->cuts, cuts, ncuts * sizeof(*cuts));
	c->ncuts = (uint16_t)ncuts;
	db->canned_bytes += sizeof(*c) + m->len + m->nptrs * 2 + ncuts * sizeof(*cuts);
	return c;
}

static void canned_free(struct dns_canned *c)
{
	if (!c)
		return;
	free(c->wire);
	free(c->ptrs);
	free(c->cuts);
	free(c);
}

/* The name of each target to give addresses for, collected in order, and
 * whether glue (data at or below a delegation) may answer for it: for NS
 * targets only, as NSD does (MX and SRV targets get authoritative data). */
struct targets {
	const uint8_t *name[256];
	bool glue[256];
	uint32_t n;
};

static void targets_add_set(struct targets *t, const struct dns_rrset *set)
{
	if (set->type != DNS_T_NS && set->type != DNS_T_MX && set->type != DNS_T_SRV)
		return;
	for (uint32_t i = 0; i < set->count && t->n < 256; i++) {
		const struct dns_rr *r = &set->rr[i];
		/* NS: the name; MX: the exchange; SRV: the target (the one
		 * name in each). */
		if (r->nnames < 1)
			continue;
		const uint8_t *nm = r->rdata + r->name_off[0];
		bool dup = false;
		for (uint32_t k = 0; k < t->n && !dup; k++)
			dup = dns_name_eq(t->name[k], nm);
		if (!dup) {
			t->glue[t->n] = set->type == DNS_T_NS;
			t->name[t->n++] = nm;
		}
	}
}

/* Records already in the answer section (name, type), not repeated. */
struct seen {
	const uint8_t *name[MAX_CHAIN + 2];
	uint16_t type[MAX_CHAIN + 2];
	uint32_t n;
};

static bool seen_has(const struct seen *s, const uint8_t *lc, uint16_t type)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->type[i] == type && dns_name_eq(s->name[i], lc))
			return true;
	return false;
}

static void seen_add(struct seen *s, const uint8_t *name, uint16_t type)
{
	if (s->n < MAX_CHAIN + 2) {
		s->name[s->n] = name;
		s->type[s->n++] = type;
	}
}

/* The additional section: A then AAAA of each target found in zone z;
 * glue under `cut` (when not NULL) is required (min_len moves past it,
 * RFC 9471). Records each RRset end as a cut point. */
static void add_addresses(struct dns_db *db, struct mb *m, const struct dns_zone *z, const struct targets *t,
			  const struct seen *seen, const struct dns_node *cut, size_t *min_len,
			  struct dns_cut *cuts, uint32_t *ncuts)
{
	static const uint16_t types[2] = {DNS_T_A, DNS_T_AAAA};
	for (int k = 0; k < 2; k++)
		for (uint32_t i = 0; i < t->n; i++) {
			uint8_t lc[DNS_MAX_NAME];
			size_t len = dns_name_len(t->name[i]);
			name_lower(lc, t->name[i], len);
			struct dns_node *n = dns_db_find(db, z, lc, len);
			if (!n || seen_has(seen, lc, types[k]))
				continue;
			if ((n->flags & (NODE_OCCLUDED | NODE_CUT)) && !t->glue[i])
				continue;
			const struct dns_rrset *set = node_set(n, types[k]);
			if (!set)
				continue;
			mb_rrset(m, SEC_AR, t->name[i], set, OWN_TTL);
			if (cut && name_under(lc, len, cut->name, cut->name_len))
				*min_len = m->len; /* in-bailiwick glue must fit */
			if (*ncuts < 512) {
				cuts[*ncuts].len = (uint16_t)m->len;
				cuts[*ncuts].arcount = m->counts[SEC_AR];
				(*ncuts)++;
			}
		}
}

static uint32_t neg_ttl(const struct dns_zone *z)
{
	/* RFC 2308 §5: the SOA's TTL, or its MINIMUM if lower. */
	const struct dns_rr *r = &z->soa->rr[0];
	uint32_t min = r->rdlen >= 4 ? dns_get32(r->rdata + r->rdlen - 4) : 0;
	return r->ttl < min ? r->ttl : min;
}

/* The loaded zone a name is in: the deepest apex above it, or NULL. */
static const struct dns_zone *zone_of(const struct dns_db *db, const uint8_t *lc, size_t len)
{
	for (const uint8_t *p = lc;; p += *p + 1) {
		struct dns_node *a = dns_db_find(db, NULL, p, len - (size_t)(p - lc));
		if (a)
			return a->zone;
		if (!*p)
			return NULL;
	}
}

/* Where a name leads inside zone z: the node holding its data (exact or a
 * wildcard's), or why there is none (*ret: the delegation for LEAD_CUT). */
enum lead { LEAD_NODE, LEAD_WILD, LEAD_NXDOMAIN, LEAD_OUT, LEAD_CUT };

static enum lead resolve(const struct dns_db *db, const struct dns_zone *z, const uint8_t *lc, size_t len,
			 struct dns_node **ret)
{
	*ret = NULL;
	if (!z || !name_under(lc, len, z->apex->name, z->apex->name_len))
		return LEAD_OUT;
	/* walk down from the apex: a delegation on the way ends it */
	int labels = name_labels(lc), below = labels - z->apex->nlabels;
	struct dns_node *ce = z->apex;
	for (int d = below - 1; d >= 0; d--) {
		const uint8_t *p = lc;
		for (int k = 0; k < d; k++)
			p += *p + 1;
		struct dns_node *n = dns_db_find(db, z, p, len - (size_t)(p - lc));
		if (!n)
			break;
		if (n->flags & NODE_CUT) {
			*ret = n;
			return LEAD_CUT;
		}
		ce = n;
		if (d == 0) {
			*ret = n;
			return LEAD_NODE;
		}
	}
	if (below == 0) {
		*ret = z->apex;
		return LEAD_NODE;
	}
	/* RFC 4592 §3.3.1: the source of synthesis is "*." + closest encloser */
	uint8_t w[DNS_MAX_NAME + 2];
	if (ce->name_len + 2 > DNS_MAX_NAME)
		return LEAD_NXDOMAIN;
	w[0] = 1;
	w[1] = '*';
	memcpy(w + 2, ce->name, ce->name_len);
	struct dns_node *wn = dns_db_find(db, z, w, (size_t)ce->name_len + 2);
	if (wn) {
		*ret = wn;
		return LEAD_WILD;
	}
	return LEAD_NXDOMAIN;
}

/* Compiles the answer of node n (its own name or, wild, any name it is the
 * wildcard for) to QTYPE qtype (0: a type it has not). A CNAME is followed
 * (RFC 1034 §4.3.2 step 3a) into any loaded zone, as NSD does: the last
 * name's zone gives the authority section, a delegation on the way gives a
 * referral after the CNAMEs (AA still set: the CNAMEs are ours). */
static struct dns_canned *compile_answer(struct dns_db *db, struct mb *m, struct dns_node *n, uint16_t qtype)
{
	bool wild = (n->flags & NODE_WILD) != 0;
	enum canned_mode mode = wild ? CANNED_WILD : CANNED_EXACT;
	struct dns_cut cuts[512];
	uint32_t ncuts = 0;
	struct seen seen = {.n = 0};
	struct targets t = {.n = 0};
	int rcode = DNS_R_NOERROR;
	/* DS and DNSKEY answers go without the apex NS (NSD: they are
	 * large enough). */
	bool want_ns = qtype != DNS_T_DS && qtype != 48 /* DNSKEY */;
	bool authority_ns = false, authority_soa = false;
	const struct dns_node *referral = NULL;

	/* First, to know the rcode for the header: follow the chain. */
	const struct dns_zone *cz = n->zone;
	const struct dns_node *cur = n;
	const uint8_t *cur_name = NULL; /* NULL: the query name */
	const struct dns_node *chain[MAX_CHAIN + 1];
	const uint8_t *chain_names[MAX_CHAIN + 1];
	uint32_t nchain = 0;
	const struct dns_rrset *final = NULL;
	for (;;) {
		const struct dns_rrset *cn = node_set(cur, DNS_T_CNAME);
		if (cn && qtype != DNS_T_CNAME) {
			chain[nchain] = cur;
			chain_names[nchain] = cur_name;
			nchain++;
			const uint8_t *target = cn->rr[0].rdata + cn->rr[0].name_off[0];
			uint8_t lc[DNS_MAX_NAME];
			size_t tl = dns_name_len(target);
			name_lower(lc, target, tl);
			const struct dns_zone *tz = zone_of(db, lc, tl);
			struct dns_node *next = NULL;
			enum lead ld = resolve(db, tz, lc, tl, &next);
			if (ld == LEAD_OUT)
				break; /* the resolver takes it from there */
			if (ld == LEAD_NXDOMAIN) {
				rcode = DNS_R_NXDOMAIN;
				authority_soa = true;
				cz = tz;
				break;
			}
			if (ld == LEAD_CUT) {
				referral = next;
				cz = tz;
				break;
			}
			bool loop = false;
			for (uint32_t i = 0; i < nchain; i++)
				loop = loop || chain[i] == next;
			if (loop || nchain >= MAX_CHAIN)
				break;
			cur = next;
			cur_name = target;
			cz = tz;
			continue;
		}
		final = node_set(cur, qtype);
		if (final)
			authority_ns = want_ns && !(qtype == DNS_T_NS && (cur->flags & NODE_APEX));
		else
			authority_soa = true; /* NODATA */
		break;
	}
	mb_start(m, n->name, DNS_QR | DNS_AA | (uint16_t)rcode, wild);
	for (uint32_t i = 0; i < nchain; i++) {
		const struct dns_rrset *cn = node_set(chain[i], DNS_T_CNAME);
		mb_rrset(m, SEC_AN, chain_names[i], cn, OWN_TTL);
		seen_add(&seen, chain_names[i] ? chain_names[i] : n->name, DNS_T_CNAME);
	}
	if (final) {
		mb_rrset(m, SEC_AN, cur_name, final, OWN_TTL);
		targets_add_set(&t, final);
		seen_add(&seen, cur_name ? cur_name : n->name, qtype);
	}
	if (referral) {
		const struct dns_rrset *ns = node_set(referral, DNS_T_NS);
		mb_rrset(m, SEC_NS, referral->name, ns, OWN_TTL);
		targets_add_set(&t, ns);
	}
	if (authority_ns) {
		mb_rrset(m, SEC_NS, cz->apex->name, cz->ns, OWN_TTL);
		targets_add_set(&t, cz->ns);
	}
	if (authority_soa)
		mb_rrset(m, SEC_NS, cz->apex->name, cz->soa, neg_ttl(cz));
	size_t min_len = m->len;
	add_addresses(db, m, cz, &t, &seen, referral, &min_len, cuts, &ncuts);
	return mb_finish(m, db, mode, min_len, cuts, ncuts);
}

/* ANY (RFC 8482 §4.2): one RRset and its additional data. Which one is NSD 4's
 * choice, so that the two agree: the first of type A, AAAA, MX, PTR or SOA
 * in zone file order, else the last. */
static struct dns_canned *compile_any(struct dns_db *db, struct mb *m, struct dns_node *n)
{
	if (n->nsets == 0)
		return compile_answer(db, m, n, 0);
	const struct dns_rrset *pick = &n->sets[n->nsets - 1];
	for (uint32_t i = 0; i < n->nsets; i++) {
		uint16_t ty = n->sets[i].type;
		if (ty == DNS_T_A || ty == DNS_T_AAAA || ty == DNS_T_MX || ty == DNS_T_PTR || ty == DNS_T_SOA) {
			pick = &n->sets[i];
			break;
		}
	}
	bool wild = (n->flags & NODE_WILD) != 0;
	struct dns_cut cuts[512];
	uint32_t ncuts = 0;
	struct seen seen = {.n = 0};
	struct targets t = {.n = 0};
	mb_start(m, n->name, DNS_QR | DNS_AA, wild);
	mb_rrset(m, SEC_AN, NULL, pick, OWN_TTL);
	seen_add(&seen, n->name, pick->type);
	targets_add_set(&t, pick); /* an MX or SRV still brings its addresses */
	size_t min_len = m->len;
	add_addresses(db, m, n->zone, &t, &seen, NULL, &min_len, cuts, &ncuts);
	return mb_finish(m, db, wild ? CANNED_WILD : CANNED_EXACT, min_len, cuts, ncuts);
}

static struct dns_canned *compile_referral(struct dns_db *db, struct mb *m, struct dns_node *cut)
{
	const struct dns_rrset *ns = node_set(cut, DNS_T_NS);
	struct dns_cut cuts[512];
	uint32_t ncuts = 0;
	struct seen seen = {.n = 0};
	struct targets t = {.n = 0};
	mb_start(m, cut->name, DNS_QR, false);
	mb_rrset(m, SEC_NS, NULL, ns, OWN_TTL);
	targets_add_set(&t, ns);
	size_t min_len = m->len;
	add_addresses(db, m, cut->zone, &t, &seen, cut, &min_len, cuts, &ncuts);
	return mb_finish(m, db, CANNED_SUFFIX, min_len, cuts, ncuts);
}

static struct dns_canned *compile_nxdomain(struct dns_db *db, struct mb *m, struct dns_zone *z)
{
	mb_start(m, z->apex->name, DNS_QR | DNS_AA | DNS_R_NXDOMAIN, false);
	mb_rrset(m, SEC_NS, z->apex->name, z->soa, neg_ttl(z));
	return mb_finish(m, db, CANNED_SUFFIX, m->len, NULL, 0);
}

static int add_typeans(struct dns_node *n, uint16_t type, struct dns_canned *c)
{
	for (uint32_t i = 0; i < n->nans; i++)
		if (n->ans[i].type == type) {
			canned_free(c);
			return 0;
		}
	struct dns_typeans *a = realloc(n->ans, (n->nans + 1) * sizeof(*a));
	if (!a)
		return -1;
	n->ans = a;
	uint32_t i = n->nans++;
	while (i > 0 && a[i - 1].type > type) {
		a[i] = a[i - 1];
		i--;
	}
	a[i].type = type;
	a[i].c = c;
	return 0;
}

static int compile_node(struct dns_db *db, struct mb *m, struct dns_node *n)
{
	if (n->flags & NODE_OCCLUDED)
		return 0; /* answered by the referral of the delegation above */
	if (n->flags & NODE_CUT) {
		n->referral = compile_referral(db, m, n);
		struct dns_canned *ds = compile_answer(db, m, n, DNS_T_DS);
		if (!n->referral || !ds || add_typeans(n, DNS_T_DS, ds) < 0)
			return -1;
		return 0;
	}
	/* A CNAME's answers depend on the types at the chain's end. */
	const struct dns_node *end = n;
	for (int hops = 0; hops < MAX_CHAIN; hops++) {
		const struct dns_rrset *cn = node_set(end, DNS_T_CNAME);
		if (!cn)
			break;
		uint8_t lc[DNS_MAX_NAME];
		size_t tl = dns_name_len(cn->rr[0].rdata + cn->rr[0].name_off[0]);
		name_lower(lc, cn->rr[0].rdata + cn->rr[0].name_off[0], tl);
		struct dns_node *next = NULL;
		enum lead ld = resolve(db, zone_of(db, lc, tl), lc, tl, &next);
		if (ld != LEAD_NODE && ld != LEAD_WILD)
			break;
		if (next == n)
			break;
		end = next;
	}
	for (uint32_t i = 0; i < n->nsets; i++) {
		struct dns_canned *c = compile_answer(db, m, n, n->sets[i].type);
		if (!c || add_typeans(n, n->sets[i].type, c) < 0)
			return -1;
	}
	if (end != n)
		for (uint32_t i = 0; i < end->nsets; i++) {
			struct dns_canned *c = compile_answer(db, m, n, end->sets[i].type);
			if (!c || add_typeans(n, end->sets[i].type, c) < 0)
				return -1;
		}
	n->dflt = compile_answer(db, m, n, 0);
	n->any = compile_any(db, m, n);
	return n->dflt && n->any ? 0 : -1;
}

int dns_db_compile(struct dns_db *db, char *err, size_t errlen)
{
	/* Delegations first: every node under one is occluded. */
	for (uint32_t b = 0; b < db->nbuckets; b++)
		for (struct dns_node *n = db->bucket[b]; n; n = n->hnext)
			/* RFC 4592 §4.2: NS at a wildcard is not a delegation */
			if (!(n->flags & (NODE_APEX | NODE_WILD)) && node_set(n, DNS_T_NS))
				n->flags |= NODE_CUT;
	for (uint32_t b = 0; b < db->nbuckets; b++)
		for (struct dns_node *n = db->bucket[b]; n; n = n->hnext) {
			if (n->flags & NODE_CUT)
				continue;
			const uint8_t *p = n->name;
			while (*p && (size_t)(p - n->name) < (size_t)(n->name_len - n->zone->apex->name_len)) {
				p += *p + 1;
				struct dns_node *a = dns_db_find(db, n->zone, p, n->name_len - (size_t)(p - n->name));
				if (a && (a->flags & NODE_CUT)) {
					n->flags |= NODE_OCCLUDED;
					break;
				}
			}
		}
	struct mb *m = malloc(sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < db->nzones; i++) {
		db->zones[i]->nxdomain = compile_nxdomain(db, m, db->zones[i]);
		if (!db->zones[i]->nxdomain) {
			snprintf(err, errlen, "%s: cannot compile the NXDOMAIN answer", db->zones[i]->file);
			free(m);
			return -1;
		}
	}
	for (uint32_t b = 0; b < db->nbuckets; b++)
		for (struct dns_node *n = db->bucket[b]; n; n = n->hnext)
			if (compile_node(db, m, n) < 0) {
				char s[DNS_MAX_NAME * 4 + 4];
				name_str(n->name, s, sizeof(s));
				snprintf(err, errlen, "%s: cannot compile the answers for %s (too large?)", n->zone->file, s);
				free(m);
				return -1;
			}
	free(m);
	/* Every name's own answer, decided now by the walk dns_answer()
	 * would make (db.h: exact_node, exact_canned). */
	for (uint32_t b = 0; b < db->nbuckets; b++)
		for (struct dns_node *n = db->bucket[b]; n; n = n->hnext) {
			uint8_t off[DNS_MAX_LABELS + 1];
			int nl = 0;
			for (size_t o = 0; nl <= DNS_MAX_LABELS; o += (size_t)n->name[o] + 1) {
				off[nl] = (uint8_t)o;
				if (!n->name[o])
					break;
				nl++;
			}
			dns_resolve(db, n->name, n->name_len, off, nl, false, &n->exact_node, &n->exact_canned);
		}
	return 0;
}

void dns_db_free(struct dns_db *db)
{
	if (!db)
		return;
	for (uint32_t b = 0; b < db->nbuckets; b++) {
		struct dns_node *n = db->bucket[b], *next;
		for (; n; n = next) {
			next = n->hnext;
			for (uint32_t i = 0; i < n->nsets; i++) {
				for (uint32_t k = 0; k < n->sets[i].count; k++)
					free(n->sets[i].rr[k].rdata);
				free(n->sets[i].rr);
			}
			free(n->sets);
			for (uint32_t i = 0; i < n->nans; i++)
				canned_free(n->ans[i].c);
			free(n->ans);
			canned_free(n->dflt);
			canned_free(n->any);
			canned_free(n->referral);
			free(n);
		}
	}
	free(db->bucket);
	for (uint32_t i = 0; i < db->nzones; i++) {
		canned_free(db->zones[i]->nxdomain);
		free(db->zones[i]->file);
		free(db->zones[i]);
	}
	free(db->zones);
	free(db);
}
