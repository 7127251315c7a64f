// SPDX-License-Identifier: MIT
/*
 * answer.c - answering one query from the compiled database (db.h), with no
 * allocation: parse (dns_parse.c), find the zone and the name (a name that
 * exists takes one lookup: where its walk ends was decided when the
 * database was compiled), copy the canned response with the client's
 * question in it, move the compression pointers behind the question when
 * the client's name is longer than the compiled one, patch ID and flags,
 * cut to the size the transport allows and add the OPT record.
 *
 * RFC 1034 §4.3.2 (the lookup), RFC 1035 §4.1.1 (header: ID copied, RD
 * copied, AA for authoritative data), RFC 4035 §3.1.4.1 (DS answered by the
 * parent), RFC 6891 §6.1.1 and §6.2.3-6.2.5 (OPT in the response, payload
 * size, BADVERS for a version other than 0), RFC 7766 §6.2 and RFC 2181
 * §9 (TC only when required data is cut; additional data may be left out),
 * RFC 8914 (extended errors on REFUSED). The UDP payload is at most
 * min(client's EDNS size, 1232) bytes, 512 without EDNS.
 */
#include <string.h>

#include "db.h"

/* EDE info codes (RFC 8914 §4) */
#define EDE_NOT_SUPPORTED 21
#define EDE_NOT_AUTHORITATIVE 20

/* An OPT record (RFC 6891 §6.1.2) at p: returns its length. */
static size_t put_opt(uint8_t *p, uint8_t ext_rcode, uint16_t flags, int ede)
{
	p[0] = 0; /* root */
	dns_put16(p + 1, DNS_T_OPT);
	dns_put16(p + 3, DNS_UDP_MAX);
	p[5] = ext_rcode;
	p[6] = 0; /* version */
	dns_put16(p + 7, flags);
	if (ede < 0) {
		dns_put16(p + 9, 0);
		return 11;
	}
	dns_put16(p + 9, 6);
	dns_put16(p + 11, DNS_EDNS_EDE);
	dns_put16(p + 13, 2);
	dns_put16(p + 15, (uint16_t)ede);
	return 17;
}

#define OPT_MAX 17

/* A response with no records: the header, the question if with_q, the OPT
 * if the query had one (and with_q or with_opt). */
static size_t bare2(const struct dns_query *q, bool with_q, bool with_opt, int rcode, uint16_t extra_flags, int ede,
		    uint8_t *out, size_t cap, struct dns_result *res)
{
	size_t need = DNS_HDR_LEN + (with_q ? q->question_len : 0) + OPT_MAX;
	if (cap < need)
		return 0;
	memset(out, 0, DNS_HDR_LEN);
	dns_put16(out, q->id);
	uint16_t f = DNS_QR | (uint16_t)(q->opcode << 11) | (q->flags & DNS_RD) | extra_flags |
		     (uint16_t)(rcode & 0xf);
	dns_put16(out + 2, f);
	size_t len = DNS_HDR_LEN;
	if (with_q) {
		dns_put16(out + 4, 1);
		memcpy(out + len, q->question, q->question_len);
		len += q->question_len;
	}
	if ((with_q || with_opt) && q->edns) {
		dns_put16(out + 10, 1);
		len += put_opt(out + len, (uint8_t)(rcode >> 4), q->edns_flags & DNS_EDNS_DO, ede);
	}
	res->rcode = rcode;
	res->truncated = (extra_flags & DNS_TC) != 0;
	return len;
}

static size_t bare(const struct dns_query *q, bool with_q, int rcode, uint16_t extra_flags, int ede, uint8_t *out,
		   size_t cap, struct dns_result *res)
{
	return bare2(q, with_q, with_q, rcode, extra_flags, ede, out, cap, res);
}

/* Copies canned response c with the client's question, cut to fit limit.
 * For QCLASS ANY an authoritative answer keeps its answer section only and
 * loses AA (the data is IN, not every class), as NSD answers. */
static size_t emit(const struct dns_query *q, const struct dns_canned *c, size_t limit, uint8_t *out, size_t cap,
		   struct dns_result *res)
{
	size_t delta = q->qname_len - c->qname_len; /* >= 0: see db.h */
	size_t opt = q->edns ? 11 : 0;
	size_t body_at = DNS_HDR_LEN + c->qname_len + 4; /* in the canned message */
	size_t len = c->len;
	uint16_t arcount = dns_get16(c->wire + 10);
	uint16_t nscount = dns_get16(c->wire + 8);
	uint16_t f = dns_get16(c->wire + 2);
	if (limit > cap)
		limit = cap;
	if (q->qclass == DNS_C_ANY && (f & DNS_AA)) {
		f &= (uint16_t)~DNS_AA;
		len = c->an_end;
		nscount = arcount = 0;
		if (len + delta + opt > limit)
			return bare(q, true, DNS_RCODE(f), DNS_TC, -1, out, cap, res);
	} else if (len + delta + opt > limit) {
		/* Leave out additional RRsets from the end (RFC 2181 §9);
		 * below min_len, required data would go: TC. */
		if ((size_t)c->min_len + delta + opt > limit)
			return bare(q, true, DNS_RCODE(dns_get16(c->wire + 2)), DNS_TC |
				    (dns_get16(c->wire + 2) & DNS_AA), -1, out, cap, res);
		len = c->min_len;
		arcount = 0;
		for (uint16_t i = 0; i < c->ncuts; i++)
			if ((size_t)c->cuts[i].len + delta + opt <= limit && c->cuts[i].len >= len) {
				len = c->cuts[i].len;
				arcount = c->cuts[i].arcount;
			}
		/* glue that had to go in (min_len) is counted in arcount */
		for (uint16_t i = 0; i < c->ncuts; i++)
			if (c->cuts[i].len <= c->min_len && c->cuts[i].arcount > arcount)
				arcount = c->cuts[i].arcount;
	}
	memcpy(out, c->wire, DNS_HDR_LEN);
	dns_put16(out, q->id);
	/* Only RD is copied: no DNSSEC here, so CD and AD are not ours to
	 * echo (RFC 4035 §3.1.6 binds security-aware servers; NSD clears
	 * CD too). */
	f |= q->flags & DNS_RD;
	dns_put16(out + 2, f);
	dns_put16(out + 8, nscount);
	memcpy(out + DNS_HDR_LEN, q->question, q->question_len);
	memcpy(out + DNS_HDR_LEN + q->question_len, c->wire + body_at, len - body_at);
	if (delta) {
		bool wild = c->mode == CANNED_WILD;
		for (uint16_t i = 0; i < c->nptrs; i++) {
			size_t at = c->ptrs[i];
			if (at >= len)
				break; /* in what was cut off (ptrs are in order) */
			uint16_t t = (uint16_t)(dns_get16(c->wire + at) & 0x3fff);
			if (wild && t == DNS_HDR_LEN)
				continue; /* the query name itself */
			dns_put16(out + at + delta, (uint16_t)(0xc000 | (t + delta)));
		}
	}
	len += delta;
	dns_put16(out + 10, (uint16_t)(arcount + (q->edns ? 1 : 0)));
	if (q->edns)
		len += put_opt(out + len, 0, q->edns_flags & DNS_EDNS_DO, -1);
	res->rcode = DNS_RCODE(f);
	res->truncated = false;
	return len;
}

/* CH TXT version.bind and version.server (a convention of BIND's that NSD
 * follows). */
static size_t chaos(const struct dns_db *db, const struct dns_query *q, size_t limit, uint8_t *out, size_t cap,
		    struct dns_result *res)
{
	static const uint8_t vb[] = "\7version\4bind";
	static const uint8_t vs[] = "\7version\6server";
	static const uint8_t hb[] = "\10hostname\4bind";
	static const uint8_t is[] = "\2id\6server";
#define IS(n) (q->qname_len == sizeof(n) && memcmp(q->qname_lc, n, sizeof(n)) == 0)
	const char *text = IS(vb) || IS(vs) ? db->version : IS(hb) || IS(is) ? db->identity : NULL;
#undef IS
	if (!text || (q->qtype != DNS_T_TXT && q->qtype != DNS_T_ANY))
		return bare(q, true, DNS_R_REFUSED, 0, EDE_NOT_SUPPORTED, out, cap, res);
	size_t vl = strnlen(text, 255);
	size_t need = DNS_HDR_LEN + q->question_len + 2 + 10 + 1 + vl + OPT_MAX;
	if (need > cap || need > limit)
		return bare(q, true, DNS_R_NOERROR, DNS_TC, -1, out, cap, res);
	size_t len = bare(q, true, DNS_R_NOERROR, 0, -1, out, cap, res);
	if (q->edns)
		len -= q->edns ? 11 : 0; /* the OPT goes after the answer */
	uint8_t *p = out + len;
	p[0] = 0xc0;
	p[1] = DNS_HDR_LEN;
	dns_put16(p + 2, DNS_T_TXT);
	dns_put16(p + 4, DNS_C_CH);
	dns_put32(p + 6, 0);
	dns_put16(p + 10, (uint16_t)(vl + 1));
	p[12] = (uint8_t)vl;
	memcpy(p + 13, text, vl);
	len += 13 + vl;
	dns_put16(out + 6, 1);
	if (q->edns)
		len += put_opt(out + len, 0, q->edns_flags & DNS_EDNS_DO, -1);
	return len;
}

/* Opcodes other than QUERY: the header alone, with the query's flags, as
 * NSD answers. NOTIFY (RFC 1996) is known but accepted from no one (NSD
 * without allow-notify): REFUSED for a zone served here, NXDOMAIN for
 * another; the rest is not implemented. */
static size_t not_query(const struct dns_db *db, const struct dns_query *q, const uint8_t *pkt, size_t len,
			uint8_t *out, size_t cap, struct dns_result *res)
{
	int rcode = DNS_R_NOTIMP;
	if (q->opcode == DNS_OP_NOTIFY) {
		uint8_t name[DNS_MAX_NAME];
		size_t pos = DNS_HDR_LEN;
		int nl = q->qdcount ? dns_read_name(pkt, len, &pos, name) : -1;
		rcode = DNS_R_NXDOMAIN;
		for (int o = 0; nl > 0 && rcode == DNS_R_NXDOMAIN; o += name[o] + 1) {
			if (dns_db_find(db, NULL, name + o, (size_t)(nl - o)))
				rcode = DNS_R_REFUSED;
			if (!name[o])
				break;
		}
	}
	uint16_t keep = q->flags & (DNS_AA | DNS_TC | DNS_RD | DNS_RA | DNS_CD);
	size_t n = bare(q, false, rcode, keep, -1, out, cap, res);
	res->truncated = false;
	return n;
}

bool dns_resolve(const struct dns_db *db, const uint8_t *name, size_t len, const uint8_t *label_off, int nlabels,
		 bool ds, const struct dns_node **ret_node, const struct dns_canned **ret_canned)
{
	*ret_node = NULL;
	*ret_canned = NULL;
	/* The zone: the deepest apex among the name's suffixes; for DS at an
	 * apex, the parent's (RFC 4035 §3.1.4.1) when it is loaded. */
	const struct dns_node *apex = NULL;
	for (int k = 0; k <= nlabels && !apex; k++) {
		const struct dns_node *n = dns_db_find(db, NULL, name + label_off[k], len - label_off[k]);
		if (n && !(k == 0 && ds && nlabels > 0))
			apex = n;
	}
	if (!apex && ds)
		apex = dns_db_find(db, NULL, name, len); /* no parent here */
	if (!apex)
		return false;
	const struct dns_zone *z = apex->zone;

	/* Down from the apex, label by label (RFC 1034 §4.3.2 step 3). */
	int below = nlabels - apex->nlabels;
	const struct dns_node *ce = apex, *node = below == 0 ? apex : NULL;
	for (int d = below - 1; d >= 0; d--) {
		const struct dns_node *n = dns_db_find(db, z, name + label_off[d], len - label_off[d]);
		if (!n)
			break;
		if ((n->flags & NODE_CUT) && !(d == 0 && ds)) {
			*ret_canned = n->referral;
			return true;
		}
		ce = n;
		if (d == 0)
			node = n;
	}
	if (!node) {
		/* RFC 4592 §3.3.1: the wildcard at the closest encloser */
		uint8_t w[DNS_MAX_NAME + 2];
		if (ce->name_len + 2 <= DNS_MAX_NAME) {
			w[0] = 1;
			w[1] = '*';
			memcpy(w + 2, ce->name, ce->name_len);
			node = dns_db_find(db, z, w, (size_t)ce->name_len + 2);
		}
		if (!node) {
			*ret_canned = z->nxdomain;
			return true;
		}
	}
	*ret_node = node;
	return true;
}

size_t dns_answer(const struct dns_db *db, const uint8_t *pkt, size_t len, size_t udp_limit, uint8_t *out,
		  size_t cap, struct dns_result *res)
{
	struct dns_query q;
	res->rcode = -1;
	res->truncated = false;
	res->edns = false;
	switch (dns_parse_query(pkt, len, &q)) {
	case DNS_PARSE_DROP:
		return 0;
	case DNS_PARSE_FORMERR:
		return bare(&q, false, DNS_R_FORMERR, 0, -1, out, cap, res);
	case DNS_PARSE_NOTQUERY:
		return not_query(db, &q, pkt, len, out, cap, res);
	case DNS_PARSE_OK:
		break;
	}
	res->edns = q.edns;
	size_t limit = udp_limit ? DNS_UDP_MIN : 65535;
	if (udp_limit && q.edns)
		limit = q.edns_udp < DNS_UDP_MAX ? q.edns_udp : DNS_UDP_MAX;
	if (udp_limit && limit > udp_limit)
		limit = udp_limit;
	if (q.edns && q.edns_version != 0)
		return bare(&q, true, DNS_R_BADVERS, 0, -1, out, cap, res); /* RFC 6891 §6.1.3 */
	if (q.qclass == DNS_C_CH)
		return chaos(db, &q, limit, out, cap, res);
	if (q.qclass != DNS_C_IN && q.qclass != DNS_C_ANY)
		return bare2(&q, false, true, DNS_R_REFUSED, 0, EDE_NOT_SUPPORTED, out, cap, res);
	/* DEVIATION: no zone transfers. AXFR over UDP is not a thing
	 * (RFC 5936 §4.2: TCP only): NOTIMP; otherwise REFUSED, as NSD
	 * without provide-xfr. */
	if (q.qtype == DNS_T_AXFR && udp_limit)
		return bare(&q, true, DNS_R_NOTIMP, 0, -1, out, cap, res);
	if (q.qtype == DNS_T_AXFR || q.qtype == DNS_T_IXFR)
		return bare(&q, true, DNS_R_REFUSED, 0, -1, out, cap, res);

	/* A name that exists was walked when the database was compiled
	 * (db.h); DS and the rest walk now. */
	const struct dns_node *node = NULL, *n;
	const struct dns_canned *c = NULL;
	if (q.qtype != DNS_T_DS && !db->no_exact && (n = dns_db_find_name(db, q.qname_lc, q.qname_len))) {
		node = n->exact_node;
		c = n->exact_canned;
	} else {
		dns_resolve(db, q.qname_lc, q.qname_len, q.label_off, q.nlabels, q.qtype == DNS_T_DS, &node, &c);
	}
	if (c)
		return emit(&q, c, limit, out, cap, res);
	if (!node)
		return bare(&q, true, DNS_R_REFUSED, 0, q.edns ? EDE_NOT_AUTHORITATIVE : -1, out, cap, res);
	c = node->dflt;
	if (q.qtype == DNS_T_ANY)
		c = node->any;
	else
		for (uint32_t i = 0; i < node->nans; i++)
			if (node->ans[i].type == q.qtype) {
				c = node->ans[i].c;
				break;
			}
	if (!c)
		return bare(&q, true, DNS_R_SERVFAIL, 0, -1, out, cap, res);
	return emit(&q, c, limit, out, cap, res);
}
