// SPDX-License-Identifier: MIT
/*
 * dns_parse.c - reading DNS queries from the wire (RFC 1035 §4.1, RFC 6891
 * §6.1). Every count and length in the packet is checked against its end
 * before use; names are read label by label with RFC 1035 §4.1.4 pointers
 * allowed only backward (so a loop is impossible) and the 255-byte limit of
 * §2.3.4 enforced on the uncompressed form.
 */
#include "dns.h"

#include <string.h>

size_t dns_name_len(const uint8_t *n)
{
	size_t i = 0;
	while (n[i])
		i += (size_t)n[i] + 1;
	return i + 1;
}

bool dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		uint8_t n = *a;
		if (n == 0)
			return true;
		for (uint8_t i = 1; i <= n; i++)
			if (dns_lower(a[i]) != dns_lower(b[i]))
				return false;
		a += n + 1;
		b += n + 1;
	}
}

int dns_read_name(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out)
{
	size_t p = *pos, end_pos = 0, olen = 0;
	size_t floor = *pos; /* a pointer must point before the name using it */
	bool jumped = false;
	/* Ends: each turn adds a label to at most 255 bytes of output or
	 * follows a pointer to strictly before the last one. */
	for (;;) {
		if (p >= len)
			return -1;
		uint8_t l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return -1;
			size_t target = (size_t)(l & 0x3f) << 8 | msg[p + 1];
			if (target >= floor)
				return -1; /* forward or self: could loop */
			if (!jumped)
				end_pos = p + 2;
			jumped = true;
			floor = target;
			p = target;
			continue;
		}
		if (l & 0xc0)
			return -1; /* 0x40 and 0x80: no such label types (RFC 6891 §5) */
		if (olen + 1 + l > DNS_MAX_NAME)
			return -1;
		if (p + 1 + l > len)
			return -1;
		if (out) {
			out[olen] = l;
			for (uint8_t i = 1; i <= l; i++)
				out[olen + i] = dns_lower(msg[p + i]);
		}
		olen += 1 + (size_t)l;
		p += 1 + (size_t)l;
		if (l == 0) {
			*pos = jumped ? end_pos : p;
			return (int)olen;
		}
	}
}

/* Skips one resource record at *pos (RFC 1035 §4.1.3); its type, class,
 * TTL and RDATA position and length are returned. */
static bool read_rr(const uint8_t *pkt, size_t len, size_t *pos, uint8_t *owner, uint16_t *type, uint16_t *cls,
		    uint32_t *ttl, size_t *rdata, uint16_t *rdlen)
{
	if (dns_read_name(pkt, len, pos, owner) < 0)
		return false;
	if (*pos + 10 > len)
		return false;
	*type = dns_get16(pkt + *pos);
	*cls = dns_get16(pkt + *pos + 2);
	*ttl = dns_get32(pkt + *pos + 4);
	*rdlen = dns_get16(pkt + *pos + 8);
	*pos += 10;
	if (*pos + *rdlen > len)
		return false;
	*rdata = *pos;
	*pos += *rdlen;
	return true;
}

/* Eight bytes lowered at once: a byte gets 0x20 where it is 'A'..'Z'
 * (bit 7 of each lane says, with no carry between lanes: a lane's low seven
 * bits plus at most 0x3f stay below 0x100). */
static inline uint64_t lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
	uint64_t low = w & ~high;
	uint64_t ge_a = low + ones * (0x80 - 'A');
	uint64_t gt_z = low + ones * (0x80 - 'Z' - 1);
	return w | ((ge_a & ~gt_z & ~w & high) >> 2);
}

/* dst = src lowered (dns_lower on each byte), n bytes. Length bytes (at
 * most 63) are not letters, so a whole wire name can go through. */
static void lower_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	uint64_t w;
	if (n < 8) {
		for (size_t i = 0; i < n; i++)
			dst[i] = dns_lower(src[i]);
		return;
	}
	for (size_t i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, src + i, 8);
		w = lower8(w);
		memcpy(dst + i, &w, 8);
	}
	/* the last eight again, overlapping: lowering twice changes nothing */
	memcpy(&w, src + n - 8, 8);
	w = lower8(w);
	memcpy(dst + n - 8, &w, 8);
}

enum dns_parse_rc dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	memset(q, 0, offsetof(struct dns_query, qname_lc));
	if (len < DNS_HDR_LEN)
		return DNS_PARSE_DROP;
	q->id = dns_get16(pkt);
	q->flags = dns_get16(pkt + 2);
	q->opcode = (uint8_t)DNS_OPCODE(q->flags);
	q->qdcount = dns_get16(pkt + 4);
	q->ancount = dns_get16(pkt + 6);
	q->nscount = dns_get16(pkt + 8);
	q->arcount = dns_get16(pkt + 10);
	/* Never answer a response: two servers must not bounce errors. */
	if (q->flags & DNS_QR)
		return DNS_PARSE_DROP;
	if (q->opcode != DNS_OP_QUERY)
		return DNS_PARSE_NOTQUERY;
	/* RFC 1035 §4.1.2 allows more, but no server answers more than one
	 * question (RFC 9619): anything else is FORMERR. A query does not
	 * carry an rcode nor answer records (as NSD, which the tests compare
	 * with, rules; a TC bit in a query is ignored, as there). */
	if (q->qdcount != 1 || DNS_RCODE(q->flags) != 0 || q->ancount != 0)
		return DNS_PARSE_FORMERR;

	/* The question: an uncompressed name (a pointer here could only
	 * point into the header). Its labels first, then the whole name
	 * lowered in one pass. */
	size_t pos = DNS_HDR_LEN;
	size_t olen = 0;
	uint8_t nl = 0;
	for (;;) {
		if (pos >= len)
			return DNS_PARSE_FORMERR;
		uint8_t l = pkt[pos];
		if (l & 0xc0)
			return DNS_PARSE_FORMERR;
		if (olen + 1 + l > DNS_MAX_NAME || pos + 1 + l > len)
			return DNS_PARSE_FORMERR;
		q->label_off[nl] = (uint8_t)olen;
		olen += 1 + (size_t)l;
		pos += 1 + (size_t)l;
		if (l == 0)
			break;
		if (++nl > DNS_MAX_LABELS)
			return DNS_PARSE_FORMERR;
	}
	q->nlabels = nl;
	lower_copy(q->qname_lc, pkt + DNS_HDR_LEN, olen);
	if (pos + 4 > len)
		return DNS_PARSE_FORMERR;
	q->question = pkt + DNS_HDR_LEN;
	q->qname_len = (uint16_t)olen;
	q->question_len = (uint16_t)(olen + 4);
	q->qtype = dns_get16(pkt + pos);
	q->qclass = dns_get16(pkt + pos + 2);
	pos += 4;

	/* Authority records only in an IXFR query (RFC 1995 §3: the
	 * client's SOA), each whole. */
	uint8_t owner[DNS_MAX_NAME];
	uint16_t type, cls, rdlen;
	uint32_t ttl;
	size_t rdata;
	if (q->nscount && q->qtype != DNS_T_IXFR)
		return DNS_PARSE_FORMERR;
	for (uint32_t i = 0; i < q->nscount; i++)
		if (!read_rr(pkt, len, &pos, owner, &type, &cls, &ttl, &rdata, &rdlen))
			return DNS_PARSE_FORMERR;
	/* Additional: at most one OPT, owned by the root (RFC 6891 §6.1.1),
	 * its options each within its RDATA. DEVIATION(RFC 8945): no TSIG;
	 * any other record is FORMERR. */
	for (uint16_t i = 0; i < q->arcount; i++) {
		if (!read_rr(pkt, len, &pos, owner, &type, &cls, &ttl, &rdata, &rdlen))
			return DNS_PARSE_FORMERR;
		if (type != DNS_T_OPT)
			return DNS_PARSE_FORMERR;
		if (q->edns || owner[0] != 0)
			return DNS_PARSE_FORMERR;
		q->edns = true;
		/* RFC 6891 §6.2.5: values below 512 are treated as 512. */
		q->edns_udp = cls < DNS_UDP_MIN ? DNS_UDP_MIN : cls;
		q->edns_version = (uint8_t)(ttl >> 16);
		q->edns_flags = (uint16_t)ttl;
		for (size_t o = rdata; o < rdata + rdlen;) {
			if (o + 4 > rdata + rdlen || o + 4 + dns_get16(pkt + o + 2) > rdata + rdlen)
				return DNS_PARSE_FORMERR;
			o += 4 + (size_t)dns_get16(pkt + o + 2);
		}
	}
	/* Bytes after the counted records are ignored. */
	return DNS_PARSE_OK;
}
