// SPDX-License-Identifier: MIT
/*
 * dnsq.c - dnsperf-format query files into wire form, and the in-flight
 * table that matches responses (dnsq.h). A response is matched only when
 * its ID is in flight on the socket it came in on and its question (RFC
 * 1035 §4.1.2, read with apps/dnsd's bounds-checked dns_read_name) equals
 * the query's, name compared without regard to case (RFC 4343).
 */
#include "dnsq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
	{"A", DNS_T_A},       {"NS", DNS_T_NS},     {"CNAME", DNS_T_CNAME}, {"SOA", DNS_T_SOA},
	{"PTR", DNS_T_PTR},   {"MX", DNS_T_MX},     {"TXT", DNS_T_TXT},     {"AAAA", DNS_T_AAAA},
	{"SRV", DNS_T_SRV},   {"DS", DNS_T_DS},     {"RRSIG", DNS_T_RRSIG}, {"ANY", DNS_T_ANY},
	{"CAA", DNS_T_CAA},   {"NAPTR", 35},        {"DNSKEY", 48},         {"NSEC", 47},
	{"SVCB", 64},         {"HTTPS", 65},        {"AXFR", DNS_T_AXFR},   {"HINFO", 13},
};

static int parse_type(const char *s, uint16_t *ret)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0) {
			*ret = types[i].type;
			return 0;
		}
	if (strncasecmp(s, "TYPE", 4) == 0 && s[4]) {
		char *end;
		unsigned long v = strtoul(s + 4, &end, 10);
		if (!*end && v <= 65535) {
			*ret = (uint16_t)v;
			return 0;
		}
	}
	return -1;
}

int dnsq_parse_line(const char *line, uint8_t *out, char *err, size_t errlen)
{
	char name[300], type[32], extra[2];
	const char *s = line;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '\n' || *s == '\r' || *s == '#' || *s == ';')
		return 0;
	int n = sscanf(s, "%299s %31s %1s", name, type, extra);
	if (n < 2) {
		snprintf(err, errlen, "expected \"NAME TYPE\"");
		return -1;
	}
	if (n == 3 && extra[0] != '#' && extra[0] != ';') {
		snprintf(err, errlen, "expected \"NAME TYPE\", got more");
		return -1;
	}
	uint16_t qtype;
	if (parse_type(type, &qtype) < 0) {
		snprintf(err, errlen, "unknown type '%s'", type);
		return -1;
	}
	memset(out, 0, DNS_HDR_LEN);
	dns_put16(out + 2, DNS_RD);
	dns_put16(out + 4, 1);
	size_t pos = DNS_HDR_LEN;
	size_t nlen = strlen(name);
	if (!(nlen == 1 && name[0] == '.')) {
		if (nlen > 0 && name[nlen - 1] == '.')
			nlen--;
		size_t start = 0;
		while (start <= nlen) {
			const char *dot = memchr(name + start, '.', nlen - start);
			size_t end = dot ? (size_t)(dot - name) : nlen;
			size_t llen = end - start;
			if (llen == 0 || llen > DNS_MAX_LABEL) {
				snprintf(err, errlen, "bad name '%s': a label of %zu bytes", name, llen);
				return -1;
			}
			if (memchr(name + start, '\\', llen)) {
				snprintf(err, errlen, "name '%s': escapes are not supported", name);
				return -1;
			}
			if (pos - DNS_HDR_LEN + 1 + llen + 1 > DNS_MAX_NAME) {
				snprintf(err, errlen, "name '%s' longer than 255 bytes", name);
				return -1;
			}
			out[pos++] = (uint8_t)llen;
			memcpy(out + pos, name + start, llen);
			pos += llen;
			start = end + 1;
		}
	}
	out[pos++] = 0;
	dns_put16(out + pos, qtype);
	dns_put16(out + pos + 2, DNS_C_IN);
	return (int)(pos + 4);
}

int dnsq_file_load(const char *path, struct dnsq_file *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof(*ret));
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	/* Whole lines, however long: a fixed buffer would cut a long one
	 * (a comment, say) and read its tail as a line of its own. */
	char *line = NULL, why[200];
	size_t linecap = 0, cap = 0, used = 0;
	uint32_t qcap = 0;
	unsigned lineno = 0;
	uint8_t q[DNSQ_WIRE_MAX];
	while (getline(&line, &linecap, f) >= 0) {
		lineno++;
		int n = dnsq_parse_line(line, q, why, sizeof(why));
		if (n < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto fail;
		}
		if (n == 0)
			continue;
		if (used + (size_t)n > UINT32_MAX || ret->count == UINT32_MAX) {
			snprintf(err, errlen, "%s:%u: too many queries", path, lineno);
			goto fail;
		}
		if (used + (size_t)n > cap) {
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			uint8_t *w = realloc(ret->wire, ncap);
			if (!w)
				goto oom;
			ret->wire = w;
			cap = ncap;
		}
		if (ret->count == qcap) {
			uint32_t nq = qcap ? qcap * 2 : 1024;
			uint32_t *o = realloc(ret->off, nq * sizeof(*o));
			if (!o)
				goto oom;
			ret->off = o;
			uint16_t *l = realloc(ret->len, nq * sizeof(*l));
			if (!l)
				goto oom;
			ret->len = l;
			qcap = nq;
		}
		memcpy(ret->wire + used, q, (size_t)n);
		ret->off[ret->count] = (uint32_t)used;
		ret->len[ret->count] = (uint16_t)n;
		ret->count++;
		used += (size_t)n;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s:%u: read error", path, lineno + 1);
		goto fail;
	}
	free(line);
	fclose(f);
	if (ret->count == 0) {
		snprintf(err, errlen, "%s: no queries in it", path);
		dnsq_file_free(ret);
		return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	free(line);
	fclose(f);
	dnsq_file_free(ret);
	return -1;
}

void dnsq_file_free(struct dnsq_file *f)
{
	free(f->wire);
	free(f->off);
	free(f->len);
	memset(f, 0, sizeof(*f));
}

int dnsq_table_init(struct dnsq_table *t, uint32_t cap, uint32_t nsock)
{
	memset(t, 0, sizeof(*t));
	if (nsock < 1)
		nsock = 1;
	if (nsock > 255)
		nsock = 255;
	if (cap < 1)
		cap = 1;
	if (cap > nsock * DNSQ_IDS_PER_SOCKET)
		cap = nsock * DNSQ_IDS_PER_SOCKET;
	t->cap = cap;
	t->nsock = nsock;
	t->slot = calloc(cap, sizeof(*t->slot));
	t->idmap = calloc((size_t)nsock * 65536, sizeof(*t->idmap));
	if (!t->slot || !t->idmap) {
		dnsq_table_free(t);
		return -1;
	}
	for (uint32_t i = 0; i < cap; i++)
		t->slot[i].next = i + 1 < cap ? i + 1 : DNSQ_NONE;
	t->free_head = 0;
	t->head = t->tail = DNSQ_NONE;
	return 0;
}

void dnsq_table_free(struct dnsq_table *t)
{
	free(t->slot);
	free(t->idmap);
	memset(t, 0, sizeof(*t));
}

uint32_t dnsq_table_add(struct dnsq_table *t, uint32_t sock, uint32_t q, uint64_t now, uint16_t want_id,
			uint16_t *ret_id)
{
	if (t->free_head == DNSQ_NONE || sock >= t->nsock)
		return DNSQ_NONE;
	uint32_t *map = t->idmap + (size_t)sock * 65536;
	/* At most DNSQ_IDS_PER_SOCKET of 65536 are taken per socket when
	 * the table is full on one socket; the walk is short on average. */
	uint16_t id = want_id;
	for (uint32_t tries = 0; map[id] != 0; tries++, id++)
		if (tries == 65536)
			return DNSQ_NONE;
	uint32_t i = t->free_head;
	struct dnsq_slot *s = &t->slot[i];
	t->free_head = s->next;
	s->used = true;
	s->sent_ns = now;
	s->query = q;
	s->id = id;
	s->sock = (uint8_t)sock;
	s->next = DNSQ_NONE;
	s->prev = t->tail;
	if (t->tail != DNSQ_NONE)
		t->slot[t->tail].next = i;
	else
		t->head = i;
	t->tail = i;
	map[id] = i + 1;
	t->inflight++;
	*ret_id = id;
	return i;
}

void dnsq_table_release(struct dnsq_table *t, uint32_t i)
{
	struct dnsq_slot *s = &t->slot[i];
	if (!s->used)
		return;
	t->idmap[(size_t)s->sock * 65536 + s->id] = 0;
	if (s->prev != DNSQ_NONE)
		t->slot[s->prev].next = s->next;
	else
		t->head = s->next;
	if (s->next != DNSQ_NONE)
		t->slot[s->next].prev = s->prev;
	else
		t->tail = s->prev;
	s->used = false;
	s->next = t->free_head;
	t->free_head = i;
	t->inflight--;
}

uint32_t dnsq_table_expired(const struct dnsq_table *t, uint64_t before)
{
	if (t->head != DNSQ_NONE && t->slot[t->head].sent_ns <= before)
		return t->head;
	return DNSQ_NONE;
}

enum dnsq_match dnsq_table_match(const struct dnsq_table *t, const struct dnsq_file *f, uint32_t sock,
				 const uint8_t *msg, size_t len, struct dnsq_answer *ret)
{
	if (len < DNS_HDR_LEN || sock >= t->nsock)
		return DNSQ_MALFORMED;
	uint16_t flags = dns_get16(msg + 2);
	if (!(flags & DNS_QR))
		return DNSQ_MALFORMED;
	uint32_t m = t->idmap[(size_t)sock * 65536 + dns_get16(msg)];
	if (m == 0)
		return DNSQ_UNKNOWN;
	const struct dnsq_slot *s = &t->slot[m - 1];
	/* The question as the query asked it (lower-cased for comparison). */
	const uint8_t *qw = f->wire + f->off[s->query];
	size_t qlen = f->len[s->query];
	uint8_t want[DNS_MAX_NAME], got[DNS_MAX_NAME];
	size_t qpos = DNS_HDR_LEN, rpos = DNS_HDR_LEN;
	if (dns_read_name(qw, qlen, &qpos, want) < 0)
		return DNSQ_MALFORMED; /* cannot happen: we built it */
	/* RFC 1035 §4.1.1: a response may carry no question (some errors
	 * do); then the ID alone cannot tell it from a stale one. */
	if (dns_get16(msg + 4) != 1)
		return dns_get16(msg + 4) == 0 ? DNSQ_MISMATCH : DNSQ_MALFORMED;
	if (dns_read_name(msg, len, &rpos, got) < 0 || rpos + 4 > len)
		return DNSQ_MALFORMED;
	if (!dns_name_eq(want, got) || memcmp(qw + qpos, msg + rpos, 4) != 0)
		return DNSQ_MISMATCH;
	ret->slot = m - 1;
	ret->rcode = DNS_RCODE(flags);
	ret->tc = (flags & DNS_TC) != 0;
	ret->ancount = dns_get16(msg + 6);
	return DNSQ_MATCHED;
}

const char *dnsq_rcode_name(unsigned rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
					    "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
	return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : NULL;
}
