// SPDX-License-Identifier: MIT
/*
 * test-dnsd.c - unit tests of usnet-dnsd's DNS pieces (apps/dnsd/dns.h,
 * db.h), with NSD 4.6 in its default configuration as the reference for
 * what an answer holds (tests/dnsd/example.com.zone gets the same answers
 * from both, section by section, for every name and 15 types).
 *
 *  - The query parser (RFC 1035 §4.1, RFC 6891 §6.1): a well-formed query
 *    and its EDNS fields (size below 512 read as 512, version, DO); what is
 *    dropped (short, QR=1), what is not a query (and the AA bit NSD echoes
 *    for those), and every FORMERR case: question counts, compression or
 *    reserved label types in the question, names over 255 bytes, short
 *    type/class, counts beyond the packet, records in the answer section
 *    (or the authority section but for IXFR), records other than OPT in
 *    the additional section, two OPTs, an OPT not owned by the root,
 *    options overrunning the OPT's RDLEN, an rcode in a query.
 *    dns_read_name() on backward pointers, loops, forward and self
 *    pointers, pointers past the end, the 255-byte limit reached through
 *    pointers, and a valid 255-byte name with a pointer in it.
 *  - Zone loading (zone files written to a temporary directory): errors
 *    name "FILE:LINE:" (after comment lines too, in the last record too),
 *    $INCLUDE (missing file, origin argument, relative names, directory of
 *    the including file, origin restored after it), CNAME beside other data
 *    (and the same CNAME twice, which NSD loads), records outside the zone,
 *    no SOA, two SOAs, one zone loaded twice, the TTL of records without
 *    one with and without $TTL, values NSD refuses ($TTL abc, a TTL of
 *    "1x", an unterminated string).
 *  - Answers on tests/dnsd/example.com.zone and child.example.com.zone,
 *    decoded with ldns so that every compression pointer is followed by an
 *    independent reader: rcode, AA/TC, counts, owners, TTLs and RDATA of
 *    the apex's data, CNAME chains (in zone, through a wildcard, to a name
 *    that is not there, loops, out of zone, into a delegation, into the
 *    loaded child zone), wildcards (long query names: pointers moved;
 *    CNAME, MX; a wildcard owning NS), empty non-terminals, NXDOMAIN for
 *    long names, referrals from deep below a delegation, DS from the parent
 *    side, SRV, ANY, truncation (TC without EDNS, whole with EDNS, the
 *    additional section cut before TC, every size from 512 to 1232), TCP,
 *    the OPT record (present iff asked, size 1232, DO, BADVERS), REFUSED
 *    with EDE, QCLASS ANY and unknown classes, AXFR/IXFR, CH TXT
 *    version.bind and id.server.
 *  - A property sweep over every name of the zones and some that are not
 *    there, 20 QTYPEs, 3 spellings, with and without EDNS, UDP and TCP:
 *    the response parses, has the query's ID, QR, the question byte for
 *    byte, fits the transport (and the client's EDNS size), its answer
 *    section holds only the query name and the targets of its CNAME chain,
 *    its authority only names above those, its additional only addresses;
 *    over UDP it is TC with empty sections or has TCP's answer and
 *    authority sections.
 *  - The answer for a name that exists, decided when compiling (db.h:
 *    exact_node), is the walk's byte for byte over the same sweep; the
 *    parser lowers every byte value at every position as dns_lower().
 *
 * The directory of the zone files is the first argument (meson passes
 * tests/dnsd).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "dns.h"

static const char *zone_dir = "tests/dnsd";
static struct dns_db *db; /* example.com and child.example.com, compiled */
static uint8_t out[65535];

/* ---- building queries ---- */

struct qopt {
	uint16_t id;
	uint16_t flags;
	uint16_t qclass;
	bool edns;
	uint16_t udp;
	uint8_t version;
	uint16_t eflags; /* DO and the rest */
};

#define QOPT_PLAIN {.id = 0x1234, .flags = DNS_RD, .qclass = DNS_C_IN}
#define QOPT_EDNS {.id = 0x1234, .flags = DNS_RD, .qclass = DNS_C_IN, .edns = true, .udp = 4096}

/* A dotted name (case kept, "" or "." the root) in wire form. */
static size_t wire_name(uint8_t *p, const char *name)
{
	size_t o = 0;
	const char *s = name;
	while (*s && strcmp(s, ".") != 0) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		assert_true(l > 0 && l <= 63);
		p[o++] = (uint8_t)l;
		memcpy(p + o, s, l);
		o += l;
		s += l;
		if (*s == '.')
			s++;
	}
	p[o++] = 0;
	return o;
}

static size_t put_opt_rr(uint8_t *p, uint16_t udp, uint8_t version, uint16_t eflags, const uint8_t *rdata,
			 uint16_t rdlen)
{
	p[0] = 0;
	dns_put16(p + 1, DNS_T_OPT);
	dns_put16(p + 3, udp);
	p[5] = 0;
	p[6] = version;
	dns_put16(p + 7, eflags);
	dns_put16(p + 9, rdlen);
	if (rdlen)
		memcpy(p + 11, rdata, rdlen);
	return 11 + (size_t)rdlen;
}

static size_t mkq(uint8_t *buf, const char *name, uint16_t qtype, const struct qopt *o)
{
	memset(buf, 0, DNS_HDR_LEN);
	dns_put16(buf, o->id);
	dns_put16(buf + 2, o->flags);
	dns_put16(buf + 4, 1);
	size_t len = DNS_HDR_LEN + wire_name(buf + DNS_HDR_LEN, name);
	dns_put16(buf + len, qtype);
	dns_put16(buf + len + 2, o->qclass);
	len += 4;
	if (o->edns) {
		dns_put16(buf + 10, 1);
		len += put_opt_rr(buf + len, o->udp, o->version, o->eflags, NULL, 0);
	}
	return len;
}

/* ---- reading responses ---- */

static ldns_pkt *decode(size_t len)
{
	ldns_pkt *p = NULL;
	ldns_status st = ldns_wire2pkt(&p, out, len);
	if (st != LDNS_STATUS_OK)
		fail_msg("ldns_wire2pkt: %s (%zu bytes)", ldns_get_errorstr_by_id(st), len);
	return p;
}

/* The response to query q (udp: the UDP limit, 0 for TCP), decoded. */
static ldns_pkt *ask_raw(const uint8_t *q, size_t qlen, size_t udp, size_t *rlen, struct dns_result *res)
{
	struct dns_result r;
	size_t len = dns_answer(db, q, qlen, udp, out, sizeof(out), res ? res : &r);
	if (rlen)
		*rlen = len;
	assert_true(len > 0);
	if (udp)
		assert_true(len <= udp);
	return decode(len);
}

static ldns_pkt *ask(const char *name, uint16_t qtype, const struct qopt *o, size_t udp, size_t *rlen)
{
	uint8_t q[512], w[300];
	size_t qlen = mkq(q, name, qtype, o);
	ldns_pkt *p = ask_raw(q, qlen, udp, rlen, NULL);
	/* always: the ID, QR, the question byte for byte */
	assert_int_equal(ldns_pkt_id(p), o->id);
	assert_true(ldns_pkt_qr(p));
	assert_int_equal(dns_get16(out + 4), 1);
	size_t ql = wire_name(w, name) + 4;
	assert_memory_equal(out + DNS_HDR_LEN, q + DNS_HDR_LEN, ql);
	return p;
}

static ldns_pkt *ask_udp(const char *name, uint16_t qtype)
{
	struct qopt o = QOPT_PLAIN;
	return ask(name, qtype, &o, DNS_UDP_MAX, NULL);
}

/* One record as ldns prints it, without the newline. Names are compared
 * without regard to case: a name compressed against the question takes
 * the question's spelling (owners are checked apart where it matters). */
static char *rr_text(const ldns_rr_list *l, size_t i)
{
	assert_true(i < ldns_rr_list_rr_count(l));
	char *s = ldns_rr2str(ldns_rr_list_rr(l, i));
	assert_non_null(s);
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	/* ldns separates fields with tabs; the expectations use spaces */
	for (char *c = s; *c; c++)
		if (*c == '\t')
			*c = ' ';
	return s;
}

static void expect_rr(const ldns_rr_list *l, size_t i, const char *want)
{
	char *s = rr_text(l, i);
	if (strcasecmp(s, want) != 0)
		fail_msg("record %zu:\n  got  %s\n  want %s", i, s, want);
	free(s);
}

/* The owner of record i, spelt exactly so. */
static void expect_owner(const ldns_rr_list *l, size_t i, const char *want)
{
	assert_true(i < ldns_rr_list_rr_count(l));
	char *s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(l, i)));
	assert_non_null(s);
	if (strcmp(s, want) != 0)
		fail_msg("owner of record %zu: %s, not %s", i, s, want);
	free(s);
}

#define AN(p) ldns_pkt_answer(p)
#define NS(p) ldns_pkt_authority(p)
#define AR(p) ldns_pkt_additional(p)

/* Header counts as on the wire (the OPT included in arcount). */
static void expect_counts(int qd, int an, int ns, int ar)
{
	assert_int_equal(dns_get16(out + 4), qd);
	assert_int_equal(dns_get16(out + 6), an);
	assert_int_equal(dns_get16(out + 8), ns);
	assert_int_equal(dns_get16(out + 10), ar);
}

static void expect_flags(int rcode, bool aa, bool tc)
{
	uint16_t f = dns_get16(out + 2);
	assert_true(f & DNS_QR);
	assert_int_equal(DNS_RCODE(f), rcode);
	assert_int_equal((f & DNS_AA) != 0, aa);
	assert_int_equal((f & DNS_TC) != 0, tc);
}

/* An independent walk over the wire sections: finds the OPT records. */
struct opt_info {
	int count;     /* OPT records anywhere */
	bool last;     /* the (one) OPT is the last record */
	bool root;     /* owned by the root */
	uint16_t udp;
	uint8_t ext_rcode, version;
	uint16_t flags;
	uint16_t rdlen;
	size_t rdata;
};

static bool skip_name(const uint8_t *m, size_t len, size_t *pos, bool *root)
{
	size_t p = *pos;
	*root = p < len && m[p] == 0;
	for (;;) {
		if (p >= len)
			return false;
		if ((m[p] & 0xc0) == 0xc0) {
			*pos = p + 2;
			return p + 2 <= len;
		}
		if (m[p] & 0xc0)
			return false;
		if (m[p] == 0) {
			*pos = p + 1;
			return true;
		}
		p += 1 + (size_t)m[p];
	}
}

static struct opt_info opt_of(const uint8_t *m, size_t len)
{
	struct opt_info o = {0};
	size_t pos = DNS_HDR_LEN;
	bool root;
	for (int i = 0; i < dns_get16(m + 4); i++) {
		assert_true(skip_name(m, len, &pos, &root));
		pos += 4;
	}
	int total = dns_get16(m + 6) + dns_get16(m + 8) + dns_get16(m + 10);
	for (int i = 0; i < total; i++) {
		assert_true(skip_name(m, len, &pos, &root));
		assert_true(pos + 10 <= len);
		uint16_t type = dns_get16(m + pos), rdlen = dns_get16(m + pos + 8);
		if (type == DNS_T_OPT) {
			o.count++;
			o.last = i == total - 1;
			o.root = root;
			o.udp = dns_get16(m + pos + 2);
			o.ext_rcode = m[pos + 4];
			o.version = m[pos + 5];
			o.flags = dns_get16(m + pos + 6);
			o.rdlen = rdlen;
			o.rdata = pos + 10;
		}
		pos += 10 + (size_t)rdlen;
		assert_true(pos <= len);
	}
	assert_int_equal(pos, len); /* nothing after the counted records */
	return o;
}

static void expect_opt(size_t len, bool present, uint8_t ext_rcode, uint16_t flags)
{
	struct opt_info o = opt_of(out, len);
	if (!present) {
		assert_int_equal(o.count, 0);
		return;
	}
	assert_int_equal(o.count, 1);
	assert_true(o.last && o.root);
	assert_int_equal(o.udp, DNS_UDP_MAX);
	assert_int_equal(o.version, 0);
	assert_int_equal(o.ext_rcode, ext_rcode);
	assert_int_equal(o.flags, flags);
}

/* ---- the parser ---- */

static struct dns_query pq;

static void test_parse_wellformed(void **state)
{
	uint8_t q[512];
	struct qopt o = QOPT_PLAIN;
	o.id = 0xbeef;
	o.flags = DNS_RD | DNS_CD;
	size_t n = mkq(q, "www.ExAmple.COM", DNS_T_AAAA, &o);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	assert_int_equal(pq.id, 0xbeef);
	assert_int_equal(pq.flags, DNS_RD | DNS_CD);
	assert_int_equal(pq.opcode, 0);
	assert_int_equal(pq.qdcount, 1);
	assert_int_equal(pq.ancount + pq.nscount + pq.arcount, 0);
	assert_ptr_equal(pq.question, q + DNS_HDR_LEN);
	assert_int_equal(pq.qname_len, 17);
	assert_int_equal(pq.question_len, 21);
	assert_int_equal(pq.qtype, DNS_T_AAAA);
	assert_int_equal(pq.qclass, DNS_C_IN);
	assert_int_equal(pq.nlabels, 3);
	assert_memory_equal(pq.qname_lc, "\3www\7example\3com", 17);
	assert_int_equal(pq.label_off[0], 0);
	assert_int_equal(pq.label_off[1], 4);
	assert_int_equal(pq.label_off[2], 12);
	assert_int_equal(pq.label_off[3], 16);
	assert_false(pq.edns);
	/* the root */
	n = mkq(q, ".", DNS_T_NS, &o);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	assert_int_equal(pq.nlabels, 0);
	assert_int_equal(pq.qname_len, 1);
	assert_int_equal(pq.label_off[0], 0);
	/* bytes after the counted records are ignored */
	n = mkq(q, "a.b", DNS_T_A, &o);
	memcpy(q + n, "junk", 4);
	assert_int_equal(dns_parse_query(q, n + 4, &pq), DNS_PARSE_OK);
	/* an IXFR query carries the client's SOA in its authority section
	 * (RFC 1995 §3) */
	n = mkq(q, "a.b", DNS_T_IXFR, &o);
	dns_put16(q + 8, 1);
	static const uint8_t soa[] = {0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 60, 0, 22, 1, 'a', 0, 1, 'b', 0,
				      0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5};
	memcpy(q + n, soa, sizeof(soa));
	assert_int_equal(dns_parse_query(q, n + sizeof(soa), &pq), DNS_PARSE_OK);
	assert_int_equal(pq.nscount, 1);
	assert_int_equal(pq.qtype, DNS_T_IXFR);
	/* header flags a client may set: AA, RD, RA, AD, CD, Z */
	o.flags = DNS_AA | DNS_RD | DNS_RA | DNS_AD | DNS_CD | 0x40;
	n = mkq(q, "a.b", DNS_T_A, &o);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
}

static void test_parse_edns(void **state)
{
	uint8_t q[512];
	struct qopt o = QOPT_EDNS;
	size_t n = mkq(q, "example.com", DNS_T_A, &o);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	assert_true(pq.edns);
	assert_int_equal(pq.edns_udp, 4096);
	assert_int_equal(pq.edns_version, 0);
	assert_int_equal(pq.edns_flags, 0);
	/* RFC 6891 §6.2.5: below 512 is 512 */
	static const uint16_t small[] = {0, 1, 100, 511};
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		o.udp = small[i];
		n = mkq(q, "example.com", DNS_T_A, &o);
		assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
		assert_int_equal(pq.edns_udp, 512);
	}
	o.udp = 512;
	n = mkq(q, "example.com", DNS_T_A, &o);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	assert_int_equal(pq.edns_udp, 512);
	o.udp = 65535;
	o.version = 1;
	o.eflags = DNS_EDNS_DO;
	n = mkq(q, "example.com", DNS_T_A, &o);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	assert_int_equal(pq.edns_udp, 65535);
	assert_int_equal(pq.edns_version, 1);
	assert_int_equal(pq.edns_flags, DNS_EDNS_DO);
	o.version = 255;
	o.eflags = 0x7fff;
	n = mkq(q, "example.com", DNS_T_A, &o);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	assert_int_equal(pq.edns_version, 255);
	assert_int_equal(pq.edns_flags, 0x7fff);
	/* options within RDLEN: a cookie and an empty option */
	o = (struct qopt)QOPT_EDNS;
	n = mkq(q, "example.com", DNS_T_A, &o) - 11;
	static const uint8_t opts[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 12, 0, 0};
	n += put_opt_rr(q + n, 1232, 0, DNS_EDNS_DO, opts, sizeof(opts));
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	assert_true(pq.edns);
	assert_int_equal(pq.edns_flags, DNS_EDNS_DO);
}

static void test_parse_drop(void **state)
{
	uint8_t q[512];
	struct qopt o = QOPT_PLAIN;
	size_t n = mkq(q, "www.example.com", DNS_T_A, &o);
	for (size_t l = 0; l < DNS_HDR_LEN; l++)
		assert_int_equal(dns_parse_query(q, l, &pq), DNS_PARSE_DROP);
	/* a response, however well-formed, and with any opcode */
	for (int op = 0; op < 16; op++) {
		dns_put16(q + 2, (uint16_t)(DNS_QR | op << 11));
		assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_DROP);
		assert_int_equal(dns_answer(db, q, n, DNS_UDP_MAX, out, sizeof(out), &(struct dns_result){0}), 0);
	}
	/* a header alone is answered (FORMERR), not dropped */
	dns_put16(q + 2, 0);
	assert_int_equal(dns_parse_query(q, DNS_HDR_LEN, &pq), DNS_PARSE_FORMERR);
}

static void test_parse_notquery(void **state)
{
	static const int ops[] = {DNS_OP_IQUERY, DNS_OP_STATUS, DNS_OP_NOTIFY, DNS_OP_UPDATE, 3, 6, 15};
	uint8_t q[512];
	struct qopt o = QOPT_PLAIN;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		o.flags = (uint16_t)(ops[i] << 11 | DNS_RD);
		o.id = (uint16_t)(100 + i);
		size_t n = mkq(q, "example.com", DNS_T_SOA, &o);
		assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_NOTQUERY);
		assert_int_equal(pq.opcode, ops[i]);
		assert_int_equal(pq.id, 100 + i);
		/* even a header alone */
		assert_int_equal(dns_parse_query(q, DNS_HDR_LEN, &pq), DNS_PARSE_NOTQUERY);
		/* the answer: NOTIFY refused (no allow-notify), the rest not
		 * implemented; the opcode echoed, no question */
		struct dns_result r;
		size_t len = dns_answer(db, q, n, DNS_UDP_MAX, out, sizeof(out), &r);
		assert_true(len >= DNS_HDR_LEN);
		ldns_pkt *p = decode(len);
		assert_int_equal(ldns_pkt_id(p), 100 + i);
		assert_int_equal(DNS_OPCODE(dns_get16(out + 2)), ops[i]);
		uint16_t f = dns_get16(out + 2);
		assert_int_equal(DNS_RCODE(f), ops[i] == DNS_OP_NOTIFY ? DNS_R_REFUSED : DNS_R_NOTIMP);
		assert_false(f & DNS_TC);
		assert_true(dns_get16(out + 2) & DNS_RD);
		expect_counts(0, 0, 0, 0);
		ldns_pkt_free(p);
	}
}

/* NSD 4 answers other opcodes than QUERY with the query's AA bit as it
 * came (a NOTIFY has AA set, RFC 1996 §3.7; an UPDATE or STATUS has not). */
static void test_answer_notquery_aa(void **state)
{
	static const int ops[] = {DNS_OP_NOTIFY, DNS_OP_STATUS, DNS_OP_UPDATE, 6};
	uint8_t q[512];
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		for (int aa = 0; aa < 2; aa++) {
			struct qopt o = QOPT_PLAIN;
			o.flags = (uint16_t)(ops[i] << 11 | (aa ? DNS_AA : 0));
			size_t n = mkq(q, "example.com", DNS_T_SOA, &o);
			struct dns_result r;
			size_t len = dns_answer(db, q, n, DNS_UDP_MAX, out, sizeof(out), &r);
			assert_int_equal(len, DNS_HDR_LEN);
			uint16_t f = dns_get16(out + 2);
			assert_int_equal(DNS_RCODE(f), ops[i] == DNS_OP_NOTIFY ? DNS_R_REFUSED : DNS_R_NOTIMP);
			if (((f & DNS_AA) != 0) != aa)
				fail_msg("opcode %d, AA %d in the query: AA %d in the answer", ops[i], aa, !aa);
		}
}

/* A query to break: header (QDCOUNT 1) then the bytes given. */
static size_t raw_q(uint8_t *q, const void *body, size_t n)
{
	memset(q, 0, DNS_HDR_LEN);
	dns_put16(q, 0x4242);
	dns_put16(q + 4, 1);
	memcpy(q + DNS_HDR_LEN, body, n);
	return DNS_HDR_LEN + n;
}

static void expect_formerr(const uint8_t *q, size_t n, const char *what)
{
	enum dns_parse_rc rc = dns_parse_query(q, n, &pq);
	if (rc != DNS_PARSE_FORMERR)
		fail_msg("%s: parse gives %d, not FORMERR", what, rc);
	struct dns_result r;
	size_t len = dns_answer(db, q, n, DNS_UDP_MAX, out, sizeof(out), &r);
	assert_int_equal(len, DNS_HDR_LEN);
	assert_int_equal(r.rcode, DNS_R_FORMERR);
	ldns_pkt *p = decode(len);
	assert_int_equal(ldns_pkt_id(p), dns_get16(q));
	expect_flags(DNS_R_FORMERR, false, false);
	expect_counts(0, 0, 0, 0);
	ldns_pkt_free(p);
}

static void test_parse_formerr(void **state)
{
	uint8_t q[1024], b[1024];
	struct qopt o = QOPT_PLAIN;
	size_t n = mkq(q, "www.example.com", DNS_T_A, &o);

	/* QDCOUNT 0 and 2 */
	dns_put16(q + 4, 0);
	expect_formerr(q, n, "qdcount 0");
	dns_put16(q + 4, 2);
	expect_formerr(q, n, "qdcount 2 with one question");
	memcpy(q + n, q + DNS_HDR_LEN, n - DNS_HDR_LEN);
	expect_formerr(q, n + n - DNS_HDR_LEN, "qdcount 2 with two questions");
	dns_put16(q + 4, 0xffff);
	expect_formerr(q, n, "qdcount 65535");

	/* a compression pointer in the question (to the name itself, to
	 * the header, after a label) */
	n = raw_q(q, "\xc0\x0c\0\1\0\1", 6);
	expect_formerr(q, n, "pointer to itself in the question");
	n = raw_q(q, "\xc0\x02\0\1\0\1", 6);
	expect_formerr(q, n, "pointer to the header");
	n = raw_q(q, "\3www\xc0\x0c\0\1\0\1", 10);
	expect_formerr(q, n, "pointer after a label");
	/* label types 0x40 and 0x80 (RFC 6891 §5: no extended labels) */
	n = raw_q(q, "\x41" "a\0\0\1\0\1", 7);
	expect_formerr(q, n, "label type 0x40");
	n = raw_q(q, "\x81" "a\0\0\1\0\1", 7);
	expect_formerr(q, n, "label type 0x80");
	n = raw_q(q, "\3www\x3f" "a\0\0\1\0\1", 11);
	expect_formerr(q, n, "a label of 63 past the end");

	/* names: 255 bytes is the most; 256 and 257 are too long */
	size_t l = 0;
	for (int i = 0; i < 3; i++) {
		b[l++] = 63;
		memset(b + l, 'a' + i, 63);
		l += 63;
	}
	b[l++] = 61; /* 3*64 + 62 + 1 = 255 */
	memset(b + l, 'd', 61);
	l += 61;
	b[l++] = 0;
	assert_int_equal(l, 255);
	memcpy(b + l, "\0\1\0\1", 4);
	n = raw_q(q, b, l + 4);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	assert_int_equal(pq.qname_len, 255);
	assert_int_equal(pq.nlabels, 4);
	b[192] = 62; /* the last label one longer: 256 */
	b[254] = 'd';
	b[255] = 0;
	memcpy(b + 256, "\0\1\0\1", 4);
	n = raw_q(q, b, 260);
	expect_formerr(q, n, "a name of 256 bytes");
	/* 127 one-byte labels (255 bytes) pass, 128 (257) do not */
	l = 0;
	for (int i = 0; i < 127; i++) {
		b[l++] = 1;
		b[l++] = 'x';
	}
	b[l++] = 0;
	memcpy(b + l, "\0\1\0\1", 4);
	n = raw_q(q, b, l + 4);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	assert_int_equal(pq.nlabels, 127);
	assert_int_equal(pq.label_off[127], 254);
	memmove(b + 2, b, l + 4);
	b[0] = 1;
	b[1] = 'y';
	n = raw_q(q, b, l + 6);
	expect_formerr(q, n, "128 labels");

	/* the question cut short: in the name, in type, in class */
	n = mkq(q, "www.example.com", DNS_T_A, &o);
	for (size_t cut = DNS_HDR_LEN; cut < n; cut++)
		expect_formerr(q, cut, "a question cut short");

	/* counts larger than the packet */
	static const int cnt_at[] = {6, 8, 10};
	for (int i = 0; i < 3; i++) {
		n = mkq(q, "www.example.com", DNS_T_A, &o);
		dns_put16(q + cnt_at[i], 1);
		expect_formerr(q, n, "a count beyond the packet");
		dns_put16(q + cnt_at[i], 0xffff);
		expect_formerr(q, n, "a count of 65535");
	}
	/* a record whose RDLEN runs past the end, or cut in its fixed part */
	n = mkq(q, "www.example.com", DNS_T_A, &o);
	dns_put16(q + 10, 1);
	static const uint8_t rr[] = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 6, 4, 't', 'e', 's', 't'}; /* OPT */
	memcpy(q + n, rr, sizeof(rr));
	expect_formerr(q, n + sizeof(rr), "RDLEN past the end");
	expect_formerr(q, n + 5, "a record cut in its fixed part");
	/* a query with records in its answer section, or in its authority
	 * section for another type than IXFR, as NSD */
	static const uint8_t arr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
	for (int at = 6; at <= 8; at += 2) {
		o = (struct qopt)QOPT_PLAIN;
		n = mkq(q, "www.example.com", DNS_T_A, &o);
		dns_put16(q + at, 1);
		memcpy(q + n, arr, sizeof(arr));
		expect_formerr(q, n + sizeof(arr), "a record in the answer or authority section");
	}
	/* another record than OPT in the additional section (a TSIG: not
	 * supported), alone or before an OPT */
	static const uint8_t tsig[] = {1, 'k', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 2, 0xaa, 0xbb};
	n = mkq(q, "www.example.com", DNS_T_A, &o);
	dns_put16(q + 10, 1);
	memcpy(q + n, tsig, sizeof(tsig));
	expect_formerr(q, n + sizeof(tsig), "a TSIG");
	dns_put16(q + 10, 2);
	n += sizeof(tsig);
	n += put_opt_rr(q + n, 1400, 0, 0, NULL, 0);
	expect_formerr(q, n, "a TSIG before an OPT");
	/* an rcode in a query (a TC bit is ignored, as by NSD) */
	o.flags = DNS_RD | DNS_TC;
	n = mkq(q, "www.example.com", DNS_T_A, &o);
	assert_int_equal(dns_parse_query(q, n, &pq), DNS_PARSE_OK);
	o.flags = DNS_RD | DNS_R_NXDOMAIN;
	n = mkq(q, "www.example.com", DNS_T_A, &o);
	expect_formerr(q, n, "an rcode in a query");
	/* ARCOUNT 2 with one OPT */
	o = (struct qopt)QOPT_EDNS;
	n = mkq(q, "www.example.com", DNS_T_A, &o);
	dns_put16(q + 10, 2);
	expect_formerr(q, n, "ARCOUNT 2, one record");

	/* two OPTs */
	dns_put16(q + 10, 2);
	n += put_opt_rr(q + n, 1232, 0, 0, NULL, 0);
	expect_formerr(q, n, "two OPTs");
	/* an OPT owned by another name than the root */
	o = (struct qopt)QOPT_PLAIN;
	n = mkq(q, "www.example.com", DNS_T_A, &o);
	dns_put16(q + 10, 1);
	q[n++] = 1;
	q[n++] = 'a';
	n += put_opt_rr(q + n, 1232, 0, 0, NULL, 0);
	expect_formerr(q, n, "OPT owned by a.");
	n = mkq(q, "www.example.com", DNS_T_A, &o);
	dns_put16(q + 10, 1);
	q[n] = 0xc0; /* the OPT's owner byte (root) becomes a pointer's second */
	n += 1 + put_opt_rr(q + n + 1, 1232, 0, 0, NULL, 0);
	q[n - 11] = 12;
	assert_int_equal(dns_get16(q + n - 10), DNS_T_OPT);
	expect_formerr(q, n, "OPT owned by the query name (pointer)");
	/* options overrunning the RDLEN: an option's length, a partial
	 * option header */
	static const uint8_t over[] = {0, 10, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t half[] = {0, 10, 0, 0, 0, 12};
	static const uint8_t two_over[] = {0, 12, 0, 0, 0, 10, 0, 1};
	const struct {
		const uint8_t *p;
		uint16_t n;
	} bad[] = {{over, sizeof(over)}, {half, sizeof(half)}, {two_over, sizeof(two_over)}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = (struct qopt)QOPT_PLAIN;
		n = mkq(q, "www.example.com", DNS_T_A, &o);
		dns_put16(q + 10, 1);
		n += put_opt_rr(q + n, 1232, 0, 0, bad[i].p, bad[i].n);
		expect_formerr(q, n, "OPT options overrunning RDLEN");
		/* the same bytes with a bigger RDLEN but within the packet:
		 * still FORMERR as the packet ends at the RDATA's end */
	}
	/* an OPT whose RDLEN overruns the packet */
	n = mkq(q, "www.example.com", DNS_T_A, &o);
	dns_put16(q + 10, 1);
	n += put_opt_rr(q + n, 1232, 0, 0, over, sizeof(over));
	dns_put16(q + n - sizeof(over) - 2, sizeof(over) + 1);
	expect_formerr(q, n, "OPT RDLEN past the end");
}

static void test_read_name(void **state)
{
	uint8_t m[600], nm[DNS_MAX_NAME];
	memset(m, 0, sizeof(m));
	/* 12: www.Example.com */
	memcpy(m + 12, "\3www\7Example\3com\0", 17);
	size_t pos = 12;
	assert_int_equal(dns_read_name(m, 29, &pos, nm), 17);
	assert_int_equal(pos, 29);
	assert_memory_equal(nm, "\3www\7example\3com\0", 17);
	/* 29: mail + pointer to example.com (16) */
	memcpy(m + 29, "\4MAIL\xc0\x10", 7);
	pos = 29;
	assert_int_equal(dns_read_name(m, 36, &pos, nm), 18);
	assert_int_equal(pos, 36);
	assert_memory_equal(nm, "\4mail\7example\3com\0", 18);
	/* out NULL: only the length and the position */
	pos = 29;
	assert_int_equal(dns_read_name(m, 36, &pos, NULL), 18);
	assert_int_equal(pos, 36);
	/* 36: a pointer to a pointer (to 29): a chain, all backward */
	memcpy(m + 36, "\1x\xc0\x1d", 4);
	memcpy(m + 40, "\xc0\x24", 2);
	pos = 40;
	assert_int_equal(dns_read_name(m, 42, &pos, nm), 20);
	assert_int_equal(pos, 42);
	assert_memory_equal(nm, "\1x\4mail\7example\3com\0", 20);
	/* a pointer to the root label */
	m[42] = 0;
	memcpy(m + 43, "\xc0\x2a", 2);
	pos = 43;
	assert_int_equal(dns_read_name(m, 45, &pos, nm), 1);
	assert_int_equal(pos, 45);

	/* a loop: 50 is "b" + pointer to 60, 60 points back to 50 */
	memcpy(m + 50, "\1b\xc0\x3c", 4);
	memcpy(m + 60, "\xc0\x32", 2);
	pos = 60;
	assert_int_equal(dns_read_name(m, 62, &pos, nm), -1);
	pos = 50;
	assert_int_equal(dns_read_name(m, 62, &pos, nm), -1); /* forward */
	/* a pointer to itself, to its own name's start */
	memcpy(m + 70, "\xc0\x46", 2);
	pos = 70;
	assert_int_equal(dns_read_name(m, 72, &pos, nm), -1);
	memcpy(m + 72, "\1c\xc0\x48", 4);
	pos = 72;
	assert_int_equal(dns_read_name(m, 76, &pos, nm), -1);
	/* a forward pointer, to a well-formed name */
	memcpy(m + 80, "\xc0\x5a", 2);
	memcpy(m + 90, "\1d\0", 3);
	pos = 80;
	assert_int_equal(dns_read_name(m, 93, &pos, nm), -1);
	/* pointers past the end of the message */
	memcpy(m + 100, "\xc0\xff", 2);
	pos = 100;
	assert_int_equal(dns_read_name(m, 102, &pos, nm), -1);
	memcpy(m + 100, "\xff\xff", 2);
	pos = 100;
	assert_int_equal(dns_read_name(m, 102, &pos, nm), -1);
	/* a pointer cut in half, a label past the end, no root label */
	m[110] = 0xc0;
	pos = 110;
	assert_int_equal(dns_read_name(m, 111, &pos, nm), -1);
	memcpy(m + 112, "\5ab", 3);
	pos = 112;
	assert_int_equal(dns_read_name(m, 115, &pos, nm), -1);
	memcpy(m + 112, "\2ab", 3);
	pos = 112;
	assert_int_equal(dns_read_name(m, 115, &pos, nm), -1);
	pos = 600;
	assert_int_equal(dns_read_name(m, 600, &pos, nm), -1);
	/* label types 0x40 and 0x80 */
	memcpy(m + 120, "\x41x\0", 3);
	pos = 120;
	assert_int_equal(dns_read_name(m, 123, &pos, nm), -1);
	m[120] = 0x81;
	pos = 120;
	assert_int_equal(dns_read_name(m, 123, &pos, nm), -1);

	/* the 255-byte limit on the uncompressed form, through pointers:
	 * 200: a 250-byte name; 450: "\4abcd" + pointer to it = 255, fits;
	 * 460: "\5abcde" + pointer = 256, does not */
	size_t l = 200;
	for (int i = 0; i < 3; i++) {
		m[l++] = 63;
		memset(m + l, 'a', 63);
		l += 63;
	}
	m[l++] = 56;
	memset(m + l, 'b', 56);
	l += 56;
	m[l++] = 0;
	assert_int_equal(l - 200, 250);
	memcpy(m + 450, "\4abcd\xc0\xc8", 7);
	pos = 450;
	assert_int_equal(dns_read_name(m, 480, &pos, nm), 255);
	assert_int_equal(pos, 457);
	memcpy(m + 460, "\5abcde\xc0\xc8", 8);
	pos = 460;
	assert_int_equal(dns_read_name(m, 480, &pos, nm), -1);

	/* dns_name_eq */
	assert_true(dns_name_eq((const uint8_t *)"\3WwW\1a\0", (const uint8_t *)"\3www\1A\0"));
	assert_false(dns_name_eq((const uint8_t *)"\3www\1a\0", (const uint8_t *)"\3www\0"));
	assert_false(dns_name_eq((const uint8_t *)"\3www\0", (const uint8_t *)"\3wwx\0"));
	assert_true(dns_name_eq((const uint8_t *)"\0", (const uint8_t *)"\0"));
	assert_int_equal(dns_name_len((const uint8_t *)"\3www\1a\0"), 7);
}

/* A valid name of 255 bytes whose last labels are reached through a
 * pointer: 126 labels, then a pointer to "\1a\0" (127 labels, 255 bytes).
 * RFC 1035 §4.1.4 puts no limit on pointers; the only limit is 255 bytes. */
static void test_read_name_long_compressed(void **state)
{
	uint8_t m[400], nm[DNS_MAX_NAME];
	memset(m, 0, sizeof(m));
	memcpy(m + 12, "\1a\0", 3);
	size_t l = 20;
	for (int i = 0; i < 126; i++) {
		m[l++] = 1;
		m[l++] = 'x';
	}
	m[l++] = 0xc0;
	m[l++] = 12;
	size_t pos = 20;
	assert_int_equal(dns_read_name(m, l, &pos, nm), 255);
	assert_int_equal(pos, l);
	/* and one label fewer, through a chain of two pointers */
	memcpy(m + 15, "\xc0\x0c", 2);
	l = 20;
	for (int i = 0; i < 125; i++) {
		m[l++] = 1;
		m[l++] = 'x';
	}
	m[l++] = 0xc0;
	m[l++] = 15;
	pos = 20;
	assert_int_equal(dns_read_name(m, l, &pos, nm), 253);
}

/* ---- zone loading ---- */

static const struct dns_rrset *find_set(struct dns_db *d, const char *name, uint16_t type)
{
	uint8_t w[DNS_MAX_NAME + 1];
	size_t l = wire_name(w, name);
	for (size_t i = 0; i < l; i++)
		w[i] = dns_lower(w[i]);
	for (uint32_t z = 0; z < d->nzones; z++) {
		struct dns_node *n = dns_db_find(d, d->zones[z], w, l);
		if (!n)
			continue;
		for (uint32_t i = 0; i < n->nsets; i++)
			if (n->sets[i].type == type)
				return &n->sets[i];
	}
	return NULL;
}

static char tmpdir[64];
static char *tmpfiles[32];
static int ntmpfiles;

static const char *tmp_file(const char *name, const char *text)
{
	size_t cap = strlen(tmpdir) + strlen(name) + 2;
	char *path = malloc(cap);
	if (!path)
		abort();
	snprintf(path, cap, "%s/%s", tmpdir, name);
	char *slash = strrchr(path, '/');
	if (slash > path + strlen(tmpdir)) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	for (int i = 0; i < ntmpfiles; i++)
		if (strcmp(tmpfiles[i], path) == 0) {
			free(path);
			return tmpfiles[i];
		}
	assert_true(ntmpfiles < 32);
	tmpfiles[ntmpfiles++] = path;
	return path;
}

static int setup_tmp(void **state)
{
	strcpy(tmpdir, "/tmp/test-dnsd-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	for (int i = ntmpfiles - 1; i >= 0; i--) {
		unlink(tmpfiles[i]);
		char *slash = strrchr(tmpfiles[i], '/');
		*slash = '\0';
		if (strcmp(tmpfiles[i], tmpdir) != 0)
			rmdir(tmpfiles[i]);
		free(tmpfiles[i]);
	}
	ntmpfiles = 0;
	return rmdir(tmpdir);
}

static char err[1024];

/* Loads text as a zone file; returns the loader's result (err has the
 * message) and the database in *dbp (to free). */
static int load_text(const char *name, const char *text, const char *origin, struct dns_db **dbp)
{
	const char *path = tmp_file(name, text);
	struct dns_db *d = dns_db_new();
	assert_non_null(d);
	err[0] = '\0';
	int rc = dns_db_load(d, path, origin, err, sizeof(err));
	if (dbp)
		*dbp = d;
	else
		dns_db_free(d);
	return rc;
}

/* The load fails with "PATH:LINE: ..." (line 0: "PATH: ..."), the message
 * holding what. */
static void expect_load_error(const char *name, const char *text, int line, const char *what)
{
	int rc = load_text(name, text, NULL, NULL);
	if (rc != -1)
		fail_msg("%s: loaded (rc %d)", name, rc);
	char prefix[512];
	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s/%s:%d: ", tmpdir, name, line);
	else
		snprintf(prefix, sizeof(prefix), "%s/%s", tmpdir, name);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("%s: error \"%s\", not starting with \"%s\"", name, err, prefix);
	if (what && !strstr(err, what))
		fail_msg("%s: error \"%s\" without \"%s\"", name, err, what);
}

#define SOA_HEAD "$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 900 604800 60\n  IN NS ns1\n"

static void test_load_syntax_errors(void **state)
{
	/* line 6: an address with an octet over 255 */
	expect_load_error("bad-a.zone", SOA_HEAD "ns1 IN A 192.0.2.1\nwww IN A 192.0.2.300\nx IN A 192.0.2.2\n", 6,
			  NULL);
	/* the same on the last line, without a newline at the end */
	expect_load_error("bad-a-last.zone", SOA_HEAD "ns1 IN A 192.0.2.1\nwww IN A 192.0.2.300", 6, NULL);
	/* line 7: an unknown type, after blank lines */
	expect_load_error("bad-type.zone", SOA_HEAD "\n\nns1 IN NOSUCHTYPE 192.0.2.1\n", 7, NULL);
	/* after a multi-line SOA (lines 3-8): line 10 */
	expect_load_error("bad-multi.zone",
			  "$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns1 hostmaster (\n 1\n 3600\n 900\n"
			  " 604800\n 60 )\n  IN NS ns1\nns1 IN AAAA 2001:db8::zz\n",
			  10, NULL);
	/* a class other than IN */
	expect_load_error("bad-class.zone", SOA_HEAD "ns1 CH A 192.0.2.1\n", 5, NULL);
	/* a file that does not exist */
	struct dns_db *d = dns_db_new();
	char path[256];
	snprintf(path, sizeof(path), "%s/no-such.zone", tmpdir);
	assert_int_equal(dns_db_load(d, path, NULL, err, sizeof(err)), -1);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	dns_db_free(d);
}

/* Lines holding only a comment count like any other (NSD 4 names the
 * line of the error whatever precedes it). */
static void test_load_line_after_comments(void **state)
{
	expect_load_error("comment-type.zone", SOA_HEAD "; a comment\nns1 IN NOSUCHTYPE 192.0.2.1\n", 6, NULL);
	expect_load_error("comment-blank.zone", SOA_HEAD "; a comment\n\nns1 IN A 192.0.2.300\n", 7, NULL);
	expect_load_error("comment-top.zone", "; zone file\n; of example.com\n" SOA_HEAD "ns1 IN A 192.0.2.300\n", 7,
			  NULL);
	expect_load_error("comment-cname.zone", SOA_HEAD "; a comment\nwww IN A 192.0.2.1\nwww IN CNAME ns1\n", 7,
			  "CNAME");
	/* comments inside a multi-line SOA, lines 3-9: line 11 */
	expect_load_error("bad-multi-comments.zone",
			  "$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns1 hostmaster ( ; the SOA\n 1 ; serial\n"
			  " 3600 ; refresh\n 900 ; retry\n 604800 ; expire\n 60 ; minimum\n )\n  IN NS ns1\n"
			  "ns1 IN A 192.0.2.1.2\n",
			  11, NULL);
}

/* The last record of a file is loaded or refused like any other, never
 * dropped without a word. */
static void test_load_error_in_last_record(void **state)
{
	/* an empty label: refused in the middle of a file, and at its end
	 * (NSD: "last-label.zone:6: syntax error") */
	expect_load_error("mid-label.zone", SOA_HEAD "a..b IN A 192.0.2.1\nns1 IN A 192.0.2.1\n", 5, NULL);
	expect_load_error("last-label.zone", SOA_HEAD "ns1 IN A 192.0.2.1\na..b IN A 192.0.2.1\n", 6, NULL);
	/* a parenthesis left open at the end of the file: NSD loads the
	 * record; an error would do too, but not its silent loss */
	static const char *const open_paren[][2] = {
		{"last-paren-txt.zone", SOA_HEAD "ns1 IN A 192.0.2.1\nwww IN TXT ( \"a\"\n"},
		{"last-paren-a.zone", SOA_HEAD "ns1 IN A 192.0.2.1\nwww IN A ( 192.0.2.1\n"},
	};
	for (size_t i = 0; i < 2; i++) {
		struct dns_db *d;
		int rc = load_text(open_paren[i][0], open_paren[i][1], NULL, &d);
		bool found = rc == 0 &&
			     (find_set(d, "www.example.com", DNS_T_TXT) || find_set(d, "www.example.com", DNS_T_A));
		dns_db_free(d);
		if (rc == 0 && !found)
			fail_msg("%s: loaded without its last record", open_paren[i][0]);
	}
}

/* Values NSD 4 refuses, which must not load with a TTL or text made up
 * of them. */
static void test_load_bad_values(void **state)
{
	expect_load_error("bad-ttl.zone", "$ORIGIN example.com.\n$TTL abc\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n"
					  " IN NS ns1\nns1 IN A 192.0.2.1\n",
			  2, NULL);
	expect_load_error("bad-rr-ttl.zone", SOA_HEAD "ns1 IN A 192.0.2.1\nwww 1x IN A 192.0.2.1\n", 6, NULL);
	expect_load_error("bad-quote.zone", SOA_HEAD "www IN TXT \"unterminated\nns1 IN A 192.0.2.1\n", -1, NULL);
}

static void test_load_include_missing(void **state)
{
	expect_load_error("inc-missing.zone", SOA_HEAD "$INCLUDE no-such-file.inc\nns1 IN A 192.0.2.1\n", -1,
			  "no-such-file.inc");
	/* an error inside an included file names that file and its line */
	tmp_file("inc-bad.inc", "www IN A 192.0.2.1\nwww IN A 192.0.2.999\n");
	assert_int_equal(load_text("inc-bad.zone", SOA_HEAD "$INCLUDE inc-bad.inc\nns1 IN A 192.0.2.1\n", NULL, NULL),
			 -1);
	char prefix[256];
	snprintf(prefix, sizeof(prefix), "%s/inc-bad.inc:2: ", tmpdir);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\", not starting with \"%s\"", err, prefix);
	/* $INCLUDE without a file */
	expect_load_error("inc-nofile.zone", SOA_HEAD "$INCLUDE\nns1 IN A 192.0.2.1\n", -1, NULL);
}

static void test_load_cname_and_other(void **state)
{
	expect_load_error("cname-after.zone", SOA_HEAD "www IN A 192.0.2.1\nwww IN CNAME ns1\n", 6, "CNAME");
	expect_load_error("cname-before.zone", SOA_HEAD "www IN CNAME ns1\nwww IN TXT \"x\"\n", 6, "CNAME");
	expect_load_error("cname-two.zone", SOA_HEAD "www IN CNAME ns1\nwww IN CNAME ns2\n", 6, "CNAME");
	expect_load_error("cname-apex.zone", SOA_HEAD "@ IN CNAME www\n", 5, "CNAME");
}

/* The same CNAME twice is one record (RFC 2181 §5), as for any other type:
 * NSD 4 loads such a zone. */
static void test_load_duplicate_cname(void **state)
{
	struct dns_db *d;
	int rc = load_text("cname-dup.zone", SOA_HEAD "www IN CNAME ns1\nwww IN CNAME NS1\nns1 A 192.0.2.1\n", NULL,
			   &d);
	if (rc != 0) {
		dns_db_free(d);
		fail_msg("%s", err);
	}
	assert_int_equal(find_set(d, "www.example.com", DNS_T_CNAME)->count, 1);
	dns_db_free(d);
}

static void test_load_outside(void **state)
{
	expect_load_error("outside.zone", SOA_HEAD "ns1 IN A 192.0.2.1\nwww.example.org. IN A 192.0.2.1\n", 6,
			  "outside");
	expect_load_error("outside-parent.zone", SOA_HEAD "com. IN NS a.gtld-servers.net.\n", 5, "outside");
	/* "example.com" is not a suffix of "notexample.com" */
	expect_load_error("outside-label.zone", SOA_HEAD "notexample.com. IN A 192.0.2.1\n", 5, "outside");
	/* an SOA below the apex */
	expect_load_error("soa-below.zone", SOA_HEAD "sub IN SOA ns1 hostmaster 1 2 3 4 5\n", 5, "SOA");
}

static void test_load_soa(void **state)
{
	/* no SOA at all: an empty file, only comments */
	expect_load_error("empty.zone", "", 0, "SOA");
	expect_load_error("comments.zone", "; nothing\n$ORIGIN example.com.\n$TTL 60\n", 0, "SOA");
	/* records, but not starting with the SOA */
	expect_load_error("no-soa.zone", "$ORIGIN example.com.\n$TTL 60\n@ IN NS ns1\nns1 IN A 192.0.2.1\n", 3, "SOA");
	/* two SOAs (different or the same) */
	expect_load_error("two-soa.zone", SOA_HEAD "@ IN SOA ns2 hostmaster 2 3600 900 604800 60\n", 5, "SOA");
	expect_load_error("two-soa-same.zone", SOA_HEAD "@ IN SOA ns1 hostmaster 1 3600 900 604800 60\n", 5, "SOA");
	/* no NS at the apex */
	expect_load_error("no-ns.zone", "$ORIGIN example.com.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n", 0, "NS");
	/* a zone name given and not matching the SOA */
	int rc = load_text("named.zone", SOA_HEAD "ns1 IN A 192.0.2.1\n", "example.net", NULL);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "named.zone"));
	struct dns_db *d;
	assert_int_equal(load_text("named.zone", SOA_HEAD "ns1 IN A 192.0.2.1\n", "Example.COM.", &d), 0);
	dns_db_free(d);
	/* the zone name gives the origin of a file without $ORIGIN */
	assert_int_equal(load_text("noorigin.zone", "$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n IN NS ns1\n"
				   "ns1 IN A 192.0.2.1\n", "example.com", &d), 0);
	assert_non_null(dns_db_find(d, NULL, (const uint8_t *)"\7example\3com", 13));
	assert_non_null(dns_db_find(d, d->zones[0], (const uint8_t *)"\3ns1\7example\3com", 17));
	dns_db_free(d);
}

static void test_load_twice(void **state)
{
	const char *path = tmp_file("twice.zone", SOA_HEAD "ns1 IN A 192.0.2.1\n");
	struct dns_db *d = dns_db_new();
	assert_int_equal(dns_db_load(d, path, NULL, err, sizeof(err)), 0);
	assert_int_equal(dns_db_load(d, path, NULL, err, sizeof(err)), -1);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, "twice"));
	dns_db_free(d);
	/* another file with the same zone, spelt differently */
	const char *p2 = tmp_file("twice2.zone",
				  "$TTL 60\nEXAMPLE.Com. IN SOA ns1.example.com. h.example.com. 1 2 3 4 5\n"
						 " IN NS ns1.example.com.\n");
	d = dns_db_new();
	assert_int_equal(dns_db_load(d, path, NULL, err, sizeof(err)), 0);
	assert_int_equal(dns_db_load(d, p2, NULL, err, sizeof(err)), -1);
	assert_true(strncmp(err, p2, strlen(p2)) == 0);
	dns_db_free(d);
}

static void test_load_include_origin(void **state)
{
	tmp_file("incdir/hosts.inc", "; relative to the origin given: deep.example.com.\n"
				     "@ IN A 192.0.2.100\n"
				     "h1 IN A 192.0.2.101\n"
				     "h2.x IN TXT \"two\"\n"
				     "abs.example.com. IN A 192.0.2.102\n"
				     "$INCLUDE more.inc\n" /* relative to incdir/ */
				     "$ORIGIN other.example.com.\n"
				     "h3 IN A 192.0.2.103\n");
	tmp_file("incdir/more.inc", "m1 IN A 192.0.2.104\n");
	tmp_file("plain.inc", "p1 IN A 192.0.2.105\n");
	struct dns_db *d;
	int rc = load_text("include.zone",
			   SOA_HEAD "ns1 IN A 192.0.2.1\n"
				    "$INCLUDE incdir/hosts.inc deep\n"
				    "after IN A 192.0.2.2\n"  /* the origin is example.com again */
				    "$INCLUDE plain.inc\n"     /* the current origin */
				    "$INCLUDE incdir/more.inc rel.example.com. ; a comment\n"
				    "@ IN TXT \"apex\"\n",
			   NULL, &d);
	if (rc != 0)
		fail_msg("%s", err);
	assert_non_null(find_set(d, "deep.example.com", DNS_T_A));
	assert_non_null(find_set(d, "h1.deep.example.com", DNS_T_A));
	assert_non_null(find_set(d, "h2.x.deep.example.com", DNS_T_TXT));
	assert_non_null(find_set(d, "abs.example.com", DNS_T_A));
	assert_non_null(find_set(d, "m1.deep.example.com", DNS_T_A));
	assert_non_null(find_set(d, "h3.other.example.com", DNS_T_A));
	assert_non_null(find_set(d, "after.example.com", DNS_T_A));
	assert_null(find_set(d, "after.deep.example.com", DNS_T_A));
	assert_null(find_set(d, "after.other.example.com", DNS_T_A));
	assert_non_null(find_set(d, "p1.example.com", DNS_T_A));
	assert_non_null(find_set(d, "m1.rel.example.com", DNS_T_A));
	const struct dns_rrset *apex = find_set(d, "example.com", DNS_T_TXT);
	assert_non_null(apex);
	assert_int_equal(apex->count, 1);
	assert_memory_equal(apex->rr[0].rdata, "\4apex", 5);
	/* the ancestors exist (empty non-terminals) */
	assert_non_null(dns_db_find(d, d->zones[0], (const uint8_t *)"\1x\4deep\7example\3com", 20));
	dns_db_free(d);
	/* the zone's own tests/dnsd file: lab.inc with the origin lab.example.com. */
	assert_non_null(find_set(db, "lab.example.com", DNS_T_A));
	assert_non_null(find_set(db, "srv1.lab.example.com", DNS_T_TXT));
	assert_non_null(find_set(db, "srv2.lab.example.com", DNS_T_CNAME));
	assert_non_null(find_set(db, "after-include.example.com", DNS_T_TXT));
}

static void test_load_ttl(void **state)
{
	/* without $TTL: a record without TTL takes the last one stated */
	struct dns_db *d;
	int rc = load_text("nottl.zone",
			   "$ORIGIN example.com.\n"
			   "@ 100 IN SOA ns1 hostmaster 1 3600 900 604800 60\n"
			   "  IN NS ns1\n"
			   "ns1 200 IN A 192.0.2.1\n"
			   "    IN AAAA 2001:db8::1\n"
			   "www IN A 192.0.2.2\n"
			   "x 50 IN TXT \"x\"\n"
			   "y IN TXT \"y\"\n",
			   NULL, &d);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(find_set(d, "example.com", DNS_T_SOA)->ttl, 100);
	assert_int_equal(find_set(d, "example.com", DNS_T_NS)->ttl, 100);
	assert_int_equal(find_set(d, "ns1.example.com", DNS_T_A)->ttl, 200);
	assert_int_equal(find_set(d, "ns1.example.com", DNS_T_AAAA)->ttl, 200);
	assert_int_equal(find_set(d, "www.example.com", DNS_T_A)->ttl, 200);
	assert_int_equal(find_set(d, "x.example.com", DNS_T_TXT)->ttl, 50);
	assert_int_equal(find_set(d, "y.example.com", DNS_T_TXT)->ttl, 50);
	dns_db_free(d);
	/* with $TTL: records without TTL take it, not the previous one */
	rc = load_text("withttl.zone",
		       "$ORIGIN example.com.\n$TTL 300\n"
		       "@ 100 IN SOA ns1 hostmaster 1 3600 900 604800 60\n"
		       "  IN NS ns1\n"
		       "ns1 200 IN A 192.0.2.1\n"
		       "    IN AAAA 2001:db8::1\n"
		       "$TTL 400\n"
		       "www IN A 192.0.2.2\n",
		       NULL, &d);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(find_set(d, "example.com", DNS_T_SOA)->ttl, 100);
	assert_int_equal(find_set(d, "example.com", DNS_T_NS)->ttl, 300);
	assert_int_equal(find_set(d, "ns1.example.com", DNS_T_AAAA)->ttl, 300);
	assert_int_equal(find_set(d, "www.example.com", DNS_T_A)->ttl, 400);
	dns_db_free(d);
	/* records of one set with different TTLs keep them, as NSD serves
	 * them (a deviation from RFC 2181 §5.2 documented in db.c) */
	rc = load_text("setttl.zone", SOA_HEAD "ns1 IN A 192.0.2.1\nw 500 IN A 192.0.2.1\nw 100 IN A 192.0.2.2\n"
					      "w IN A 192.0.2.3\n",
		       NULL, &d);
	assert_int_equal(rc, 0);
	const struct dns_rrset *w = find_set(d, "w.example.com", DNS_T_A);
	assert_int_equal(w->count, 3);
	assert_int_equal(w->rr[0].ttl, 500);
	assert_int_equal(w->rr[1].ttl, 100);
	assert_int_equal(w->rr[2].ttl, 300); /* $TTL */
	dns_db_free(d);
}

/* ---- answers ---- */

static int setup_db(void **state)
{
	static const char *const files[] = {"example.com.zone", "child.example.com.zone"};
	db = dns_db_new();
	if (!db)
		return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[1024], e[512];
		snprintf(path, sizeof(path), "%s/%s", zone_dir, files[i]);
		if (dns_db_load(db, path, NULL, e, sizeof(e)) < 0) {
			fprintf(stderr, "%s\n", e);
			return -1;
		}
	}
	char e[512];
	if (dns_db_compile(db, e, sizeof(e)) < 0) {
		fprintf(stderr, "%s\n", e);
		return -1;
	}
	return 0;
}

static int teardown_db(void **state)
{
	dns_db_free(db);
	db = NULL;
	return 0;
}

#define NS_ADDRS_3 \
	"ns1.example.com. 3600 IN A 192.0.2.53", "ns2.example.com. 300 IN A 192.0.2.54", \
		"ns1.example.com. 3600 IN AAAA 2001:db8::53"

static void expect_section(const ldns_rr_list *l, const char *const *want, size_t n)
{
	if (ldns_rr_list_rr_count(l) != n) {
		char *s = ldns_rr_list2str(l);
		fail_msg("%zu records, not %zu:\n%s", ldns_rr_list_rr_count(l), n, s);
	}
	for (size_t i = 0; i < n; i++)
		expect_rr(l, i, want[i]);
}

#define SECTION(l, ...) \
	do { \
		const char *const w_[] = {__VA_ARGS__}; \
		expect_section(l, w_, sizeof(w_) / sizeof(w_[0])); \
	} while (0)
#define EMPTY(l) assert_int_equal(ldns_rr_list_rr_count(l), 0)
#define SUB_NS "sub.example.com. 3600 IN NS ns1.sub.example.com.", "sub.example.com. 3600 IN NS ns.example.net."

static void test_answer_apex(void **state)
{
	ldns_pkt *p = ask_udp("example.com", DNS_T_SOA);
	expect_flags(0, true, false);
	expect_counts(1, 1, 2, 3);
	SECTION(AN(p), "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 "
		       "1209600 300");
	SECTION(NS(p), "example.com. 3600 IN NS ns1.example.com.", "example.com. 3600 IN NS ns2.example.com.");
	SECTION(AR(p), NS_ADDRS_3);
	assert_true(ldns_pkt_rd(p));
	ldns_pkt_free(p);

	p = ask_udp("example.com", DNS_T_NS);
	expect_flags(0, true, false);
	expect_counts(1, 2, 0, 3);
	SECTION(AN(p), "example.com. 3600 IN NS ns1.example.com.", "example.com. 3600 IN NS ns2.example.com.");
	SECTION(AR(p), NS_ADDRS_3);
	ldns_pkt_free(p);

	/* MX: the exchange's addresses, then the name servers' (A then AAAA) */
	p = ask_udp("example.com", DNS_T_MX);
	expect_flags(0, true, false);
	expect_counts(1, 1, 2, 5);
	SECTION(AN(p), "example.com. 3600 IN MX 10 mail.example.com.");
	SECTION(AR(p), "mail.example.com. 3600 IN A 192.0.2.25", "ns1.example.com. 3600 IN A 192.0.2.53",
		"ns2.example.com. 300 IN A 192.0.2.54", "mail.example.com. 3600 IN AAAA 2001:db8::25",
		"ns1.example.com. 3600 IN AAAA 2001:db8::53");
	ldns_pkt_free(p);

	p = ask_udp("example.com", DNS_T_A);
	expect_counts(1, 1, 2, 3);
	SECTION(AN(p), "example.com. 3600 IN A 192.0.2.1");
	ldns_pkt_free(p);
	p = ask_udp("example.com", DNS_T_AAAA);
	expect_counts(1, 1, 2, 3);
	SECTION(AN(p), "example.com. 3600 IN AAAA 2001:db8::1");
	ldns_pkt_free(p);
	/* ANY: one RRset (RFC 8482), the first of the name */
	p = ask_udp("example.com", DNS_T_ANY);
	expect_flags(0, true, false);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(AN(p), 0)), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(p);
	/* a name and its answers */
	p = ask_udp("www.example.com", DNS_T_A);
	expect_flags(0, true, false);
	SECTION(AN(p), "www.example.com. 3600 IN A 192.0.2.80", "www.example.com. 3600 IN A 192.0.2.81");
	ldns_pkt_free(p);
	/* ns2's own TTL */
	p = ask_udp("ns2.example.com", DNS_T_A);
	SECTION(AN(p), "ns2.example.com. 300 IN A 192.0.2.54");
	/* no repeat in additional of what is in the answer */
	SECTION(AR(p), "ns1.example.com. 3600 IN A 192.0.2.53", "ns1.example.com. 3600 IN AAAA 2001:db8::53");
	ldns_pkt_free(p);
}

static void test_answer_nodata_nxdomain(void **state)
{
	/* NODATA: SOA with TTL min(3600, 300) */
	ldns_pkt *p = ask_udp("www.example.com", DNS_T_MX);
	expect_flags(0, true, false);
	expect_counts(1, 0, 1, 0);
	SECTION(NS(p), "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 "
		       "1209600 300");
	ldns_pkt_free(p);
	/* NXDOMAIN, short and long names, with the SOA decoded right */
	static const char *const nx[] = {
		"nope.example.com",
		"a.b.c.d.e.f.g.h.i.j.nope.example.com",
		("a-very-long-label-of-sixty-three-bytes-xxxxxxxxxxxxxxxxxxxxxxxx.another-long-label-xxxxxxxxxxxxxxxxxx"
		 ".and-a-third.one.x.example.com"),
		"NoPe.ExAmPlE.CoM",
		"x.ent.example.com",
		"x.exists.wild.example.com",
		"x.www.example.com",
	};
	for (size_t i = 0; i < sizeof(nx) / sizeof(nx[0]); i++) {
		p = ask_udp(nx[i], DNS_T_A);
		expect_flags(DNS_R_NXDOMAIN, true, false);
		expect_counts(1, 0, 1, 0);
		assert_int_equal(ldns_rr_list_rr_count(NS(p)), 1);
		char *s = rr_text(NS(p), 0);
		/* the owner as in the question's spelling, its suffix */
		const char *want = "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 "
				   "3600 1209600 300";
		if (strcasecmp(s, want) != 0)
			fail_msg("%s: %s", nx[i], s);
		free(s);
		ldns_pkt_free(p);
	}
	/* a 255-byte name under the zone */
	char longname[300];
	strcpy(longname, "");
	for (int i = 0; i < 3; i++)
		strcat(longname, "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0.");
	strcat(longname, "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm.example.com");
	uint8_t w[300];
	assert_int_equal(wire_name(w, longname), 255);
	p = ask_udp(longname, DNS_T_TXT);
	expect_flags(DNS_R_NXDOMAIN, true, false);
	expect_rr(NS(p), 0, "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 "
			    "1209600 300");
	ldns_pkt_free(p);
}

static void test_answer_case(void **state)
{
	/* the question's spelling is kept, and the answer's owner is the
	 * question's name (a pointer to it) */
	ldns_pkt *p = ask_udp("WwW.ExAmPlE.cOm", DNS_T_A);
	expect_flags(0, true, false);
	SECTION(AN(p), "WwW.ExAmPlE.cOm. 3600 IN A 192.0.2.80", "WwW.ExAmPlE.cOm. 3600 IN A 192.0.2.81");
	expect_owner(AN(p), 0, "WwW.ExAmPlE.cOm.");
	expect_owner(AN(p), 1, "WwW.ExAmPlE.cOm.");
	expect_rr(NS(p), 0, "example.com. 3600 IN NS ns1.example.com.");
	ldns_pkt_free(p);
	/* an owner spelt with capitals in the zone */
	p = ask_udp("case-owner.example.com", DNS_T_A);
	SECTION(AN(p), "case-owner.example.com. 3600 IN A 192.0.2.77");
	expect_owner(AN(p), 0, "case-owner.example.com.");
	ldns_pkt_free(p);
	p = ask_udp("CASE-OWNER.EXAMPLE.COM", DNS_T_A);
	SECTION(AN(p), "CASE-OWNER.EXAMPLE.COM. 3600 IN A 192.0.2.77");
	expect_owner(AN(p), 0, "CASE-OWNER.EXAMPLE.COM.");
	ldns_pkt_free(p);
}

static void test_answer_cname(void **state)
{
	/* in zone, two links */
	ldns_pkt *p = ask_udp("alias.example.com", DNS_T_A);
	expect_flags(0, true, false);
	SECTION(AN(p), "alias.example.com. 3600 IN CNAME www2.example.com.",
		"www2.example.com. 3600 IN CNAME www.example.com.", "www.example.com. 3600 IN A 192.0.2.80",
		"www.example.com. 3600 IN A 192.0.2.81");
	assert_int_equal(ldns_pkt_nscount(p), 2);
	ldns_pkt_free(p);
	/* the chain ending in NODATA: SOA */
	p = ask_udp("ALIAS.example.com", DNS_T_MX);
	expect_flags(0, true, false);
	SECTION(AN(p), "ALIAS.example.com. 3600 IN CNAME www2.example.com.",
		"www2.example.com. 3600 IN CNAME www.example.com.");
	SECTION(NS(p), "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 "
		       "1209600 300");
	ldns_pkt_free(p);
	/* QTYPE CNAME: the CNAME alone */
	p = ask_udp("alias.example.com", DNS_T_CNAME);
	expect_flags(0, true, false);
	SECTION(AN(p), "alias.example.com. 3600 IN CNAME www2.example.com.");
	ldns_pkt_free(p);
	/* through a wildcard */
	p = ask_udp("towild.example.com", DNS_T_TXT);
	expect_flags(0, true, false);
	SECTION(AN(p), "towild.example.com. 3600 IN CNAME x.y.wild.example.com.",
		"x.y.wild.example.com. 3600 IN TXT \"wildcard txt\"");
	ldns_pkt_free(p);
	/* to a name that does not exist: NXDOMAIN (RFC 6604 §2.1) */
	p = ask_udp("dangling.example.com", DNS_T_A);
	expect_flags(DNS_R_NXDOMAIN, true, false);
	SECTION(AN(p), "dangling.example.com. 3600 IN CNAME nothing.example.com.");
	SECTION(NS(p), "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 "
		       "1209600 300");
	ldns_pkt_free(p);
	/* loops: each CNAME once */
	p = ask_udp("loop1.example.com", DNS_T_A);
	expect_flags(0, true, false);
	SECTION(AN(p), "loop1.example.com. 3600 IN CNAME loop2.example.com.",
		"loop2.example.com. 3600 IN CNAME loop1.example.com.");
	ldns_pkt_free(p);
	p = ask_udp("self.example.com", DNS_T_A);
	expect_flags(0, true, false);
	SECTION(AN(p), "self.example.com. 3600 IN CNAME self.example.com.");
	ldns_pkt_free(p);
	/* out of zone: the CNAME alone, for the resolver to follow */
	p = ask_udp("outside.example.com", DNS_T_A);
	expect_flags(0, true, false);
	SECTION(AN(p), "outside.example.com. 3600 IN CNAME www.example.org.");
	EMPTY(NS(p));
	ldns_pkt_free(p);
	/* into a delegation: the CNAME, then the referral (AA: the CNAME
	 * is ours), as NSD */
	p = ask_udp("tosub.example.com", DNS_T_A);
	expect_flags(0, true, false);
	SECTION(AN(p), "tosub.example.com. 3600 IN CNAME www.sub.example.com.");
	SECTION(NS(p), SUB_NS);
	SECTION(AR(p), "ns1.sub.example.com. 3600 IN A 192.0.2.200", "ns1.sub.example.com. 3600 IN AAAA 2001:db8::200");
	ldns_pkt_free(p);
	/* into another loaded zone (the child): followed there, its NS in
	 * authority, or its SOA for a name that is not there */
	p = ask_udp("tochild.example.com", DNS_T_A);
	expect_flags(0, true, false);
	SECTION(AN(p), "tochild.example.com. 3600 IN CNAME www.child.example.com.",
		"www.child.example.com. 600 IN A 192.0.2.212");
	SECTION(NS(p), "child.example.com. 600 IN NS ns1.child.example.com.");
	SECTION(AR(p), "ns1.child.example.com. 600 IN A 192.0.2.210");
	ldns_pkt_free(p);
	p = ask_udp("tochildnx.example.com", DNS_T_A);
	expect_flags(DNS_R_NXDOMAIN, true, false);
	SECTION(AN(p), "tochildnx.example.com. 3600 IN CNAME nope.child.example.com.");
	SECTION(NS(p), "child.example.com. 60 IN SOA ns1.child.example.com. hostmaster.child.example.com. 7 3600 900 "
		       "604800 60");
	ldns_pkt_free(p);
	/* in an included file */
	p = ask_udp("srv2.lab.example.com", DNS_T_TXT);
	SECTION(AN(p), "srv2.lab.example.com. 3600 IN CNAME srv1.lab.example.com.",
		"srv1.lab.example.com. 3600 IN TXT \"in the lab\"");
	ldns_pkt_free(p);
}

static void test_answer_wildcard(void **state)
{
	static const char *const names[] = {
		"foo.wild.example.com",
		"a.b.c.d.e.wild.example.com",
		"A.B.C.D.E.WILD.example.COM",
		"a-much-longer-label-than-the-star-of-the-wildcard.b.wild.example.com",
		"x.wild.example.com",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char want[512];
		ldns_pkt *p = ask_udp(names[i], DNS_T_TXT);
		expect_flags(0, true, false);
		snprintf(want, sizeof(want), "%s. 3600 IN TXT \"wildcard txt\"", names[i]);
		SECTION(AN(p), want);
		snprintf(want, sizeof(want), "%s.", names[i]);
		expect_owner(AN(p), 0, want);
		assert_int_equal(ldns_pkt_nscount(p), 2);
		char *s = rr_text(NS(p), 1);
		assert_true(strcasecmp(s, "example.com. 3600 IN NS ns2.example.com.") == 0);
		free(s);
		assert_int_equal(ldns_pkt_arcount(p), 3);
		ldns_pkt_free(p);
		p = ask_udp(names[i], DNS_T_A);
		snprintf(want, sizeof(want), "%s. 3600 IN A 192.0.2.42", names[i]);
		SECTION(AN(p), want);
		ldns_pkt_free(p);
		/* NODATA at a wildcard: the SOA */
		p = ask_udp(names[i], DNS_T_MX);
		expect_flags(0, true, false);
		expect_counts(1, 0, 1, 0);
		s = rr_text(NS(p), 0);
		assert_true(strncasecmp(s, "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com.",
					64) == 0);
		free(s);
		ldns_pkt_free(p);
		/* ANY: one RRset (RFC 8482 §4.2), owned by the query name */
		p = ask_udp(names[i], DNS_T_ANY);
		expect_flags(0, true, false);
		assert_true(ldns_pkt_ancount(p) >= 1);
		snprintf(want, sizeof(want), "%s.", names[i]);
		for (size_t k = 0; k < ldns_pkt_ancount(p); k++) {
			expect_owner(AN(p), k, want);
			ldns_rr_type t = ldns_rr_get_type(ldns_rr_list_rr(AN(p), k));
			/* NSD's choice: the first A, AAAA, MX, PTR or SOA */
			assert_int_equal(t, LDNS_RR_TYPE_A);
		}
		ldns_pkt_free(p);
	}
	/* ANY at a name with MX or SRV: their targets' addresses in
	 * additional, as NSD */
	ldns_pkt *pa = ask_udp("z.wmx.example.com", DNS_T_ANY);
	SECTION(AN(pa), "z.wmx.example.com. 3600 IN MX 5 mail.example.com.");
	EMPTY(NS(pa));
	SECTION(AR(pa), "mail.example.com. 3600 IN A 192.0.2.25", "mail.example.com. 3600 IN AAAA 2001:db8::25");
	ldns_pkt_free(pa);
	pa = ask_udp("_sip._tcp.example.com", DNS_T_ANY);
	assert_int_equal(ldns_pkt_ancount(pa), 2);
	SECTION(AR(pa), "sipserver.example.com. 3600 IN A 192.0.2.60");
	ldns_pkt_free(pa);
	/* a name with data of its own is not wildcard-matched */
	ldns_pkt *p = ask_udp("exists.wild.example.com", DNS_T_A);
	SECTION(AN(p), "exists.wild.example.com. 3600 IN A 192.0.2.43");
	ldns_pkt_free(p);
	p = ask_udp("exists.wild.example.com", DNS_T_TXT);
	expect_flags(0, true, false);
	expect_counts(1, 0, 1, 0);
	ldns_pkt_free(p);
	/* the wildcard's parent is an empty non-terminal */
	p = ask_udp("wild.example.com", DNS_T_TXT);
	expect_flags(0, true, false);
	expect_counts(1, 0, 1, 0);
	ldns_pkt_free(p);

	/* wildcard CNAME, then the target's data */
	static const char *const wc[] = {"foo.wc.example.com", "a.b.c.d.e.f.wc.example.com", "X.Y.WC.EXAMPLE.COM"};
	for (size_t i = 0; i < sizeof(wc) / sizeof(wc[0]); i++) {
		char want[512];
		p = ask_udp(wc[i], DNS_T_A);
		expect_flags(0, true, false);
		snprintf(want, sizeof(want), "%s. 3600 IN CNAME www.example.com.", wc[i]);
		SECTION(AN(p), want, "www.example.com. 3600 IN A 192.0.2.80", "www.example.com. 3600 IN A 192.0.2.81");
		char own[300];
		snprintf(own, sizeof(own), "%s.", wc[i]);
		expect_owner(AN(p), 0, own);
		ldns_pkt_free(p);
		p = ask_udp(wc[i], DNS_T_CNAME);
		SECTION(AN(p), want);
		ldns_pkt_free(p);
	}
	/* wildcard MX: the exchange's addresses in additional */
	static const char *const wm[] = {"a.wmx.example.com", "a.b.c.d.e.f.g.wmx.example.com"};
	for (size_t i = 0; i < sizeof(wm) / sizeof(wm[0]); i++) {
		char want[512];
		p = ask_udp(wm[i], DNS_T_MX);
		snprintf(want, sizeof(want), "%s. 3600 IN MX 5 mail.example.com.", wm[i]);
		SECTION(AN(p), want);
		SECTION(AR(p), "mail.example.com. 3600 IN A 192.0.2.25", "ns1.example.com. 3600 IN A 192.0.2.53",
			"ns2.example.com. 300 IN A 192.0.2.54", "mail.example.com. 3600 IN AAAA 2001:db8::25",
			"ns1.example.com. 3600 IN AAAA 2001:db8::53");
		ldns_pkt_free(p);
	}
	/* the wildcard's own name, asked for */
	p = ask_udp("*.wild.example.com", DNS_T_TXT);
	SECTION(AN(p), "*.wild.example.com. 3600 IN TXT \"wildcard txt\"");
	ldns_pkt_free(p);
}

static void test_answer_ent(void **state)
{
	static const char *const ents[] = {"ent.example.com", "c.ent.example.com", "b.c.ent.example.com",
					   "B.C.Ent.Example.Com"};
	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		ldns_pkt *p = ask_udp(ents[i], DNS_T_A);
		expect_flags(0, true, false);
		expect_counts(1, 0, 1, 0);
		assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(NS(p), 0)), LDNS_RR_TYPE_SOA);
		ldns_pkt_free(p);
	}
	ldns_pkt *p = ask_udp("a.b.c.ent.example.com", DNS_T_A);
	SECTION(AN(p), "a.b.c.ent.example.com. 3600 IN A 192.0.2.7");
	ldns_pkt_free(p);
	p = ask_udp("z.b.c.ent.example.com", DNS_T_A);
	expect_flags(DNS_R_NXDOMAIN, true, false);
	ldns_pkt_free(p);
}

static void test_answer_delegation(void **state)
{
	static const char *const names[] = {
		"sub.example.com", "www.sub.example.com", "a.b.c.d.e.f.g.h.sub.example.com",
		"ns1.sub.example.com", /* the glue itself: a referral too */
		"a-long-label-to-move-every-pointer-by-many-bytes-xxxxxxxxxxxxxx.x.sub.example.com",
		"nonexistent.deep.below.sub.example.com",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		static const uint16_t types[] = {DNS_T_A, DNS_T_NS, DNS_T_SOA, DNS_T_AAAA, DNS_T_ANY, DNS_T_MX};
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			ldns_pkt *p = ask_udp(names[i], types[t]);
			expect_flags(0, false, false);
			expect_counts(1, 0, 2, 2);
			SECTION(NS(p), SUB_NS);
			SECTION(AR(p), "ns1.sub.example.com. 3600 IN A 192.0.2.200",
				"ns1.sub.example.com. 3600 IN AAAA 2001:db8::200");
			ldns_pkt_free(p);
		}
	}
	/* the case of the question is kept in the delegation's owner */
	ldns_pkt *p = ask_udp("X.Y.SUB.EXAMPLE.COM", DNS_T_A);
	assert_int_equal(ldns_rr_list_rr_count(NS(p)), 2);
	for (size_t i = 0; i < 2; i++) {
		char *s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(NS(p), i)));
		assert_string_equal(s, "SUB.EXAMPLE.COM.");
		free(s);
	}
	ldns_pkt_free(p);
	/* DS at the delegation: from this side, authoritative */
	p = ask_udp("sub.example.com", DNS_T_DS);
	expect_flags(0, true, false);
	expect_counts(1, 1, 0, 0); /* no NS in authority for DS, as NSD */
	char *s = rr_text(AN(p), 0);
	assert_true(strncmp(s, "sub.example.com. 3600 IN DS 12345 13 2 3b8b8f5e", 46) == 0);
	free(s);
	ldns_pkt_free(p);
	/* DS below the delegation: a referral */
	p = ask_udp("x.sub.example.com", DNS_T_DS);
	expect_flags(0, false, false);
	SECTION(NS(p), SUB_NS);
	ldns_pkt_free(p);
	/* a delegation to a zone loaded too: DS from the parent (NODATA
	 * there), the rest from the child */
	p = ask_udp("child.example.com", DNS_T_DS);
	expect_flags(0, true, false);
	expect_counts(1, 0, 1, 0);
	s = rr_text(NS(p), 0);
	assert_true(strncmp(s, "example.com. 300 IN SOA", 23) == 0);
	free(s);
	ldns_pkt_free(p);
	p = ask_udp("child.example.com", DNS_T_SOA);
	expect_flags(0, true, false);
	SECTION(AN(p), "child.example.com. 600 IN SOA ns1.child.example.com. hostmaster.child.example.com. 7 3600 "
		       "900 604800 60");
	ldns_pkt_free(p);
	p = ask_udp("www.child.example.com", DNS_T_A);
	expect_flags(0, true, false);
	SECTION(AN(p), "www.child.example.com. 600 IN A 192.0.2.212");
	SECTION(NS(p), "child.example.com. 600 IN NS ns1.child.example.com.");
	SECTION(AR(p), "ns1.child.example.com. 600 IN A 192.0.2.210");
	ldns_pkt_free(p);
	p = ask_udp("nope.child.example.com", DNS_T_A);
	expect_flags(DNS_R_NXDOMAIN, true, false);
	s = rr_text(NS(p), 0);
	assert_true(strncmp(s, "child.example.com. 60 IN SOA", 28) == 0);
	free(s);
	ldns_pkt_free(p);
}

static void test_answer_srv(void **state)
{
	ldns_pkt *p = ask_udp("_sip._tcp.example.com", DNS_T_SRV);
	expect_flags(0, true, false);
	SECTION(AN(p), "_sip._tcp.example.com. 3600 IN SRV 10 60 5060 sipserver.example.com.",
		"_sip._tcp.example.com. 3600 IN SRV 20 0 5060 sip.example.net.");
	SECTION(AR(p), "sipserver.example.com. 3600 IN A 192.0.2.60", "ns1.example.com. 3600 IN A 192.0.2.53",
		"ns2.example.com. 300 IN A 192.0.2.54", "ns1.example.com. 3600 IN AAAA 2001:db8::53");
	ldns_pkt_free(p);
	/* _tcp is an empty non-terminal */
	p = ask_udp("_tcp.example.com", DNS_T_SRV);
	expect_flags(0, true, false);
	expect_counts(1, 0, 1, 0);
	ldns_pkt_free(p);
}

static void test_answer_truncation(void **state)
{
	struct qopt plain = QOPT_PLAIN, edns = QOPT_EDNS;
	size_t len;
	struct dns_result r;
	uint8_t q[512];

	/* big: over 512, under 1232 */
	ldns_pkt *p = ask("big.example.com", DNS_T_TXT, &plain, DNS_UDP_MAX, &len);
	expect_flags(0, true, true);
	expect_counts(1, 0, 0, 0);
	assert_true(len <= 512);
	ldns_pkt_free(p);
	p = ask("big.example.com", DNS_T_TXT, &edns, DNS_UDP_MAX, &len);
	expect_flags(0, true, false);
	expect_counts(1, 1, 2, 4);
	assert_true(len > 512 && len <= 1232);
	assert_int_equal(ldns_rr_rd_count(ldns_rr_list_rr(AN(p), 0)), 3);
	expect_opt(len, true, 0, 0);
	ldns_pkt_free(p);
	size_t whole = len;
	/* EDNS 512 and 600: TC (600 is smaller than the answer) */
	edns.udp = 512;
	p = ask("big.example.com", DNS_T_TXT, &edns, DNS_UDP_MAX, &len);
	expect_flags(0, true, true);
	expect_counts(1, 0, 0, 1);
	expect_opt(len, true, 0, 0);
	ldns_pkt_free(p);
	/* a size that leaves out the additional section only */
	edns.udp = (uint16_t)(whole - 1);
	p = ask("big.example.com", DNS_T_TXT, &edns, DNS_UDP_MAX, &len);
	expect_flags(0, true, false);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_pkt_nscount(p), 2);
	assert_true(ldns_pkt_arcount(p) < 3);
	assert_true(len <= whole - 1);
	expect_opt(len, true, 0, 0);
	ldns_pkt_free(p);
	/* the server's own limit below the client's */
	edns.udp = 4096;
	size_t qlen = mkq(q, "big.example.com", DNS_T_TXT, &edns);
	len = dns_answer(db, q, qlen, 512, out, sizeof(out), &r);
	assert_true(len <= 512);
	assert_true(r.truncated);
	expect_flags(0, true, true);
	/* TCP: whole, with or without EDNS */
	p = ask("big.example.com", DNS_T_TXT, &plain, 0, &len);
	expect_flags(0, true, false);
	expect_counts(1, 1, 2, 3);
	expect_opt(len, false, 0, 0);
	ldns_pkt_free(p);
	p = ask("big.example.com", DNS_T_TXT, &edns, 0, &len);
	expect_flags(0, true, false);
	expect_counts(1, 1, 2, 4);
	assert_int_equal(len, whole);
	ldns_pkt_free(p);

	/* huge: over 1232 */
	p = ask("huge.example.com", DNS_T_TXT, &edns, DNS_UDP_MAX, &len);
	expect_flags(0, true, true);
	expect_counts(1, 0, 0, 1);
	ldns_pkt_free(p);
	p = ask("huge.example.com", DNS_T_TXT, &plain, DNS_UDP_MAX, &len);
	expect_flags(0, true, true);
	expect_counts(1, 0, 0, 0);
	ldns_pkt_free(p);
	p = ask("huge.example.com", DNS_T_TXT, &plain, 0, &len);
	expect_flags(0, true, false);
	expect_counts(1, 1, 2, 3);
	assert_true(len > 1232);
	assert_int_equal(ldns_rr_rd_count(ldns_rr_list_rr(AN(p), 0)), 6);
	ldns_pkt_free(p);
	p = ask("HUGE.example.com", DNS_T_TXT, &edns, 0, &len);
	expect_flags(0, true, false);
	expect_counts(1, 1, 2, 4);
	ldns_pkt_free(p);

	/* mx: the answer fits 512, the additional section does not: some
	 * of it left out, no TC */
	p = ask("mx.example.com", DNS_T_MX, &plain, DNS_UDP_MAX, &len);
	expect_flags(0, true, false);
	assert_true(len <= 512);
	assert_int_equal(ldns_pkt_ancount(p), 10);
	assert_int_equal(ldns_pkt_nscount(p), 2);
	size_t ar = ldns_pkt_arcount(p);
	assert_true(ar > 0 && ar < 23);
	/* A records first, in the order of the MX */
	expect_rr(AR(p), 0, "mx0.example.com. 3600 IN A 192.0.2.160");
	ldns_pkt_free(p);
	/* the same with EDNS: all of it */
	edns.udp = 4096;
	p = ask("mx.example.com", DNS_T_MX, &edns, DNS_UDP_MAX, &len);
	expect_flags(0, true, false);
	expect_counts(1, 10, 2, 24);
	assert_true(len <= 1232);
	expect_rr(AR(p), 22, "ns1.example.com. 3600 IN AAAA 2001:db8::53");
	ldns_pkt_free(p);
	/* every size from 512 up: never TC, more additional with more room,
	 * the answer always whole */
	size_t prev_ar = 0;
	for (unsigned u = 512; u <= 1232; u += 7) {
		edns.udp = (uint16_t)u;
		p = ask("mx.example.com", DNS_T_MX, &edns, DNS_UDP_MAX, &len);
		expect_flags(0, true, false);
		assert_true(len <= u);
		assert_int_equal(ldns_pkt_ancount(p), 10);
		assert_int_equal(ldns_pkt_nscount(p), 2);
		assert_true(ldns_pkt_arcount(p) >= prev_ar);
		prev_ar = ldns_pkt_arcount(p);
		expect_opt(len, true, 0, 0);
		ldns_pkt_free(p);
	}
	assert_int_equal(prev_ar, 23);
	/* a long query name moves the limits: still fits, still whole */
	p = ask("MX.example.com", DNS_T_MX, &plain, 0, &len);
	expect_counts(1, 10, 2, 23);
	ldns_pkt_free(p);
}

static void test_answer_edns(void **state)
{
	struct qopt plain = QOPT_PLAIN, edns = QOPT_EDNS;
	size_t len;
	static const char *const names[] = {"www.example.com", "nope.example.com", "x.sub.example.com",
					    "www.example.org", "ent.example.com", "foo.wild.example.com"};
	static const int rcodes[] = {0, 3, 0, 5, 0, 0};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (int with = 0; with < 2; with++)
			for (size_t udp = 0; udp <= DNS_UDP_MAX; udp += DNS_UDP_MAX) {
				ldns_pkt *p = ask(names[i], DNS_T_A, with ? &edns : &plain, udp, &len);
				assert_int_equal(DNS_RCODE(dns_get16(out + 2)), rcodes[i]);
				struct opt_info o = opt_of(out, len);
				assert_int_equal(o.count, with);
				if (with) {
					assert_true(o.last && o.root);
					assert_int_equal(o.udp, 1232);
					assert_int_equal(o.version, 0);
					assert_int_equal(o.ext_rcode, 0);
					assert_int_equal(o.flags, 0);
				}
				ldns_pkt_free(p);
			}
	}
	/* DO is echoed, the other flags are not */
	edns.eflags = DNS_EDNS_DO | 0x1234;
	ldns_pkt *p = ask("www.example.com", DNS_T_A, &edns, DNS_UDP_MAX, &len);
	expect_opt(len, true, 0, DNS_EDNS_DO);
	ldns_pkt_free(p);
	/* RD copied, the others not (no DNSSEC here: CD and AD are not
	 * echoed, as NSD) */
	edns.eflags = 0;
	edns.flags = DNS_CD | DNS_AD | DNS_AA | DNS_RA | 0x40;
	p = ask("www.example.com", DNS_T_A, &edns, DNS_UDP_MAX, &len);
	uint16_t f = dns_get16(out + 2);
	assert_false(f & (DNS_RD | DNS_RA | DNS_AD | DNS_TC | DNS_CD | 0x40));
	assert_true(f & DNS_AA);
	ldns_pkt_free(p);
	edns.flags = DNS_RD | DNS_CD;
	p = ask("www.example.com", DNS_T_A, &edns, DNS_UDP_MAX, &len);
	f = dns_get16(out + 2);
	assert_true(f & DNS_RD);
	assert_false(f & DNS_CD);
	ldns_pkt_free(p);

	/* BADVERS: version 1 gets extended rcode 16: 0 in the header, 1 in
	 * the OPT, no records */
	edns = (struct qopt)QOPT_EDNS;
	for (int v = 1; v < 256; v += 127) {
		edns.version = (uint8_t)v;
		edns.eflags = DNS_EDNS_DO;
		struct dns_result r;
		uint8_t q[512];
		size_t qlen = mkq(q, "www.example.com", DNS_T_A, &edns);
		p = ask_raw(q, qlen, DNS_UDP_MAX, &len, &r);
		assert_int_equal(r.rcode, DNS_R_BADVERS);
		expect_flags(0, false, false);
		expect_counts(1, 0, 0, 1);
		expect_opt(len, true, 1, DNS_EDNS_DO);
		assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1);
		assert_memory_equal(out + DNS_HDR_LEN, q + DNS_HDR_LEN, 21);
		ldns_pkt_free(p);
	}
}

static void test_answer_refused_and_others(void **state)
{
	struct qopt plain = QOPT_PLAIN, edns = QOPT_EDNS;
	size_t len;
	static const char *const out_of_zone[] = {"www.example.org", "com", ".", "example.net", "xexample.com",
						  "example.com.org"};
	for (size_t i = 0; i < sizeof(out_of_zone) / sizeof(out_of_zone[0]); i++) {
		ldns_pkt *p = ask(out_of_zone[i], DNS_T_A, &plain, DNS_UDP_MAX, &len);
		expect_flags(DNS_R_REFUSED, false, false);
		expect_counts(1, 0, 0, 0);
		ldns_pkt_free(p);
		p = ask(out_of_zone[i], DNS_T_A, &edns, DNS_UDP_MAX, &len);
		expect_flags(DNS_R_REFUSED, false, false);
		expect_counts(1, 0, 0, 1);
		struct opt_info o = opt_of(out, len);
		assert_int_equal(o.count, 1);
		/* RFC 8914: EDE 20, not authoritative */
		assert_int_equal(o.rdlen, 6);
		assert_int_equal(dns_get16(out + o.rdata), DNS_EDNS_EDE);
		assert_int_equal(dns_get16(out + o.rdata + 2), 2);
		assert_int_equal(dns_get16(out + o.rdata + 4), 20);
		ldns_pkt_free(p);
	}
	/* QCLASS ANY: the answer section only, without AA (the data is IN's,
	 * not every class's), as NSD */
	plain.qclass = DNS_C_ANY;
	ldns_pkt *p = ask("www.example.com", DNS_T_A, &plain, DNS_UDP_MAX, &len);
	expect_flags(0, false, false);
	expect_counts(1, 2, 0, 0);
	SECTION(AN(p), "www.example.com. 3600 IN A 192.0.2.80", "www.example.com. 3600 IN A 192.0.2.81");
	ldns_pkt_free(p);
	p = ask("alias.example.com", DNS_T_A, &plain, 0, &len);
	expect_flags(0, false, false);
	expect_counts(1, 4, 0, 0);
	ldns_pkt_free(p);
	/* other classes: REFUSED without the question (as NSD), the OPT
	 * kept */
	static const uint16_t classes[] = {2, 4, DNS_C_NONE, 1000};
	for (size_t i = 0; i < 4; i++)
		for (int with = 0; with < 2; with++) {
			struct qopt o = with ? (struct qopt)QOPT_EDNS : (struct qopt)QOPT_PLAIN;
			o.qclass = classes[i];
			uint8_t q[512];
			size_t qlen = mkq(q, "www.example.com", DNS_T_A, &o);
			p = ask_raw(q, qlen, DNS_UDP_MAX, &len, NULL);
			assert_int_equal(ldns_pkt_id(p), o.id);
			expect_flags(DNS_R_REFUSED, false, false);
			expect_counts(0, 0, 0, with);
			struct opt_info oi = opt_of(out, len);
			assert_int_equal(oi.count, with);
			ldns_pkt_free(p);
		}
	plain.qclass = DNS_C_IN;
	/* zone transfers: REFUSED over TCP (as NSD without provide-xfr),
	 * NOTIMP for AXFR over UDP (RFC 5936 §4.2) */
	p = ask("example.com", DNS_T_AXFR, &plain, 0, &len);
	expect_flags(DNS_R_REFUSED, false, false);
	expect_counts(1, 0, 0, 0);
	ldns_pkt_free(p);
	p = ask("example.com", DNS_T_AXFR, &plain, DNS_UDP_MAX, &len);
	expect_flags(DNS_R_NOTIMP, false, false);
	expect_counts(1, 0, 0, 0);
	ldns_pkt_free(p);
	for (int tcp = 0; tcp < 2; tcp++) {
		p = ask("example.com", DNS_T_IXFR, &plain, tcp ? 0 : DNS_UDP_MAX, &len);
		expect_flags(DNS_R_REFUSED, false, false);
		ldns_pkt_free(p);
	}
	/* the meta types MAILA, MAILB, TSIG, TKEY and OPT as QTYPE: no data
	 * (NODATA), as NSD */
	static const uint16_t meta[] = {DNS_T_MAILA, DNS_T_MAILB, DNS_T_TSIG, DNS_T_TKEY, DNS_T_OPT};
	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		p = ask("www.example.com", meta[i], &plain, DNS_UDP_MAX, &len);
		expect_flags(0, true, false);
		expect_counts(1, 0, 1, 0);
		ldns_pkt_free(p);
	}

	/* CH TXT version.bind and version.server */
	plain.qclass = DNS_C_CH;
	static const char *const vn[] = {"version.bind", "VERSION.BIND", "version.server"};
	for (size_t i = 0; i < 3; i++) {
		for (int with = 0; with < 2; with++) {
			struct qopt *o = with ? &edns : &plain;
			edns.qclass = DNS_C_CH;
			p = ask(vn[i], DNS_T_TXT, o, DNS_UDP_MAX, &len);
			expect_flags(0, false, false);
			expect_counts(1, 1, 0, with);
			char want[128];
			snprintf(want, sizeof(want), "%s. 0 CH TXT \"%s\"", vn[i], db->version);
			SECTION(AN(p), want);
			expect_opt(len, with, 0, 0);
			ldns_pkt_free(p);
		}
	}
	edns.qclass = DNS_C_IN;
	p = ask("version.bind", DNS_T_A, &plain, DNS_UDP_MAX, &len);
	expect_flags(DNS_R_REFUSED, false, false);
	ldns_pkt_free(p);
	p = ask("foo.bind", DNS_T_TXT, &plain, DNS_UDP_MAX, &len);
	expect_flags(DNS_R_REFUSED, false, false);
	ldns_pkt_free(p);
	/* CH TXT hostname.bind and id.server: the identity */
	static const char *const idn[] = {"hostname.bind", "id.server", "ID.Server"};
	for (size_t i = 0; i < 3; i++) {
		p = ask(idn[i], DNS_T_TXT, &plain, DNS_UDP_MAX, &len);
		expect_flags(0, false, false);
		char want[128];
		snprintf(want, sizeof(want), "%s. 0 CH TXT \"%s\"", idn[i], db->identity);
		SECTION(AN(p), want);
		ldns_pkt_free(p);
	}
}

/* A wildcard owning NS records (RFC 4592 §4.2 leaves it ill-defined):
 * NSD 4 answers a name it matches as data, not as a delegation (NOERROR,
 * AA; the NS for QTYPE NS, NODATA with the SOA for the rest), never
 * SERVFAIL; a name with data beside it normally. */
static void test_answer_wildcard_ns(void **state)
{
	struct dns_db *d;
	int rc = load_text("wild-ns.zone", SOA_HEAD "ns1 IN A 192.0.2.1\n*.dw IN NS ns1.example.com.\n"
						   "x.dw IN A 192.0.2.2\n",
			   NULL, &d);
	assert_int_equal(rc, 0);
	assert_int_equal(dns_db_compile(d, err, sizeof(err)), 0);
	struct dns_db *saved = db;
	db = d;
	ldns_pkt *p = ask_udp("x.dw.example.com", DNS_T_A);
	SECTION(AN(p), "x.dw.example.com. 300 IN A 192.0.2.2");
	ldns_pkt_free(p);
	static const uint16_t types[] = {DNS_T_A, DNS_T_NS, DNS_T_TXT};
	for (size_t i = 0; i < 3; i++) {
		uint8_t q[512];
		struct qopt o = QOPT_PLAIN;
		size_t qlen = mkq(q, "y.dw.example.com", types[i], &o);
		struct dns_result r;
		size_t len = dns_answer(db, q, qlen, DNS_UDP_MAX, out, sizeof(out), &r);
		db = saved;
		if (DNS_RCODE(dns_get16(out + 2)) != DNS_R_NOERROR) {
			dns_db_free(d);
			fail_msg("y.dw.example.com type %u: rcode %d (%zu bytes), not NOERROR", types[i],
				 DNS_RCODE(dns_get16(out + 2)), len);
		}
		db = d;
		expect_flags(0, true, false);
		if (types[i] == DNS_T_NS) {
			ldns_pkt *pn = decode(len);
			SECTION(AN(pn), "y.dw.example.com. 300 IN NS ns1.example.com.");
			ldns_pkt_free(pn);
		} else {
			expect_counts(1, 0, 1, 0);
		}
	}
	db = saved;
	dns_db_free(d);
}

/* ---- the property sweep ---- */

static void name_to_str(const uint8_t *n, char *s)
{
	size_t o = 0;
	while (*n) {
		memcpy(s + o, n + 1, *n);
		o += *n;
		s[o++] = '.';
		n += *n + 1;
	}
	if (o == 0)
		s[o++] = '.';
	s[o] = '\0';
}

static bool dname_eq_str(const ldns_rdf *a, const ldns_rdf *b)
{
	return ldns_dname_compare(a, b) == 0;
}

static void check_sweep(const uint8_t *q, size_t qlen, size_t udp, size_t len, const char *what)
{
	struct dns_query qq;
	assert_int_equal(dns_parse_query(q, qlen, &qq), DNS_PARSE_OK);
	if (len == 0)
		fail_msg("%s: no answer", what);
	size_t limit = udp ? (qq.edns ? 1232 : 512) : 65535;
	if (len > limit)
		fail_msg("%s: %zu bytes, more than %zu", what, len, limit);
	ldns_pkt *p = NULL;
	ldns_status st = ldns_wire2pkt(&p, out, len);
	if (st != LDNS_STATUS_OK)
		fail_msg("%s: ldns_wire2pkt: %s", what, ldns_get_errorstr_by_id(st));
	assert_int_equal(ldns_pkt_id(p), qq.id);
	assert_true(ldns_pkt_qr(p));
	assert_int_equal(dns_get16(out + 4), 1);
	if (memcmp(out + DNS_HDR_LEN, q + DNS_HDR_LEN, qq.question_len) != 0)
		fail_msg("%s: the question is not echoed", what);
	struct opt_info o = opt_of(out, len);
	assert_int_equal(o.count, qq.edns ? 1 : 0);
	int rcode = DNS_RCODE(dns_get16(out + 2));
	if (rcode != 0 && rcode != 3 && rcode != 5 && rcode != 4)
		fail_msg("%s: rcode %d", what, rcode);
	bool tc = ldns_pkt_tc(p);
	if (tc) {
		assert_true(udp != 0);
		assert_int_equal(ldns_pkt_ancount(p) + ldns_pkt_nscount(p) + ldns_pkt_arcount(p), 0);
		ldns_pkt_free(p);
		return;
	}
	/* the answer section: the query name, then CNAME targets */
	ldns_rdf *allowed[32];
	size_t nallowed = 0;
	allowed[nallowed++] = ldns_rdf_clone(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
	for (size_t i = 0; i < ldns_rr_list_rr_count(AN(p)); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(AN(p), i);
		bool ok = false;
		for (size_t k = 0; k < nallowed && !ok; k++)
			ok = dname_eq_str(ldns_rr_owner(rr), allowed[k]);
		if (!ok) {
			char *s = ldns_rr2str(rr);
			fail_msg("%s: answer record %zu not for the query name or its CNAME chain: %s", what, i, s);
		}
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && nallowed < 32)
			allowed[nallowed++] = ldns_rdf_clone(ldns_rr_rdf(rr, 0));
		else if (qq.qtype != DNS_T_ANY)
			assert_int_equal(ldns_rr_get_type(rr), qq.qtype);
		/* the class is the question's */
		assert_int_equal(ldns_rr_get_class(rr), qq.qclass);
	}
	/* the authority: the apex of a zone or a delegation above the query
	 * name or a name of its CNAME chain */
	for (size_t i = 0; i < ldns_rr_list_rr_count(NS(p)); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(NS(p), i);
		bool above = false;
		for (size_t k = 0; k < nallowed && !above; k++)
			above = dname_eq_str(ldns_rr_owner(rr), allowed[k]) ||
				ldns_dname_is_subdomain(allowed[k], ldns_rr_owner(rr));
		if (!above) {
			char *s = ldns_rr2str(rr);
			fail_msg("%s: authority record %zu not above the query name: %s", what, i, s);
		}
		ldns_rr_type t = ldns_rr_get_type(rr);
		assert_true(t == LDNS_RR_TYPE_NS || t == LDNS_RR_TYPE_SOA);
	}
	/* a response without AA and NOERROR is a referral */
	if (rcode == 0 && qq.qclass == DNS_C_IN && !ldns_pkt_aa(p)) {
		assert_int_equal(ldns_pkt_ancount(p), 0);
		assert_true(ldns_pkt_nscount(p) > 0);
		assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(NS(p), 0)), LDNS_RR_TYPE_NS);
	}
	/* the additional section: addresses only */
	for (size_t i = 0; i < ldns_rr_list_rr_count(AR(p)); i++) {
		ldns_rr_type t = ldns_rr_get_type(ldns_rr_list_rr(AR(p), i));
		assert_true(t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA);
	}
	for (size_t k = 0; k < nallowed; k++)
		ldns_rdf_deep_free(allowed[k]);
	ldns_pkt_free(p);
}

static void spell(char *dst, const char *src, int variant)
{
	size_t i = 0;
	for (; src[i]; i++) {
		char c = src[i];
		if (variant == 1)
			c = (char)toupper((unsigned char)c);
		else if (variant == 2 && i % 2)
			c = (char)toupper((unsigned char)c);
		dst[i] = c;
	}
	dst[i] = '\0';
}

static const uint16_t sweep_types[20] = {
	DNS_T_A,   DNS_T_NS,  DNS_T_CNAME, DNS_T_SOA, DNS_T_PTR,   DNS_T_MX, DNS_T_TXT, DNS_T_AAAA, DNS_T_SRV, DNS_T_DS,
	DNS_T_ANY, DNS_T_CAA, 13,          35,        DNS_T_RRSIG, 47,       48,        0,          65534,     DNS_T_AXFR,
};
static const char *const sweep_extra[] = {
	"nope.example.com", "a.b.nope.example.com", "x.ent.example.com", "deep.x.y.z.sub.example.com",
	"foo.wild.example.com", "a.b.c.d.e.f.g.h.i.wild.example.com", "q.wc.example.com",
	"a.b.c.d.wc.example.com", "z.wmx.example.com", "x.child.example.com", "www.example.org", "org",
	"example.com.example.com", "x.srv2.lab.example.com", "x.y.z.ns1.child.example.com",
	"a-sixty-three-byte-label-to-move-pointers-by-far-xxxxxxxxxxxxxx.wild.example.com",
	"a-sixty-three-byte-label-to-move-pointers-by-far-xxxxxxxxxxxxxx.sub.example.com",
	"a-sixty-three-byte-label-to-move-pointers-by-far-xxxxxxxxxxxxxx.nope.example.com",
};

/* Every name of the database, then the extra ones: the names of the
 * sweeps (the caller frees them). */
static char (*sweep_names(size_t *ret_n))[DNS_MAX_NAME * 2]
{
	char (*names)[DNS_MAX_NAME * 2] = calloc(db->nnodes + 32, sizeof(*names));
	assert_non_null(names);
	size_t nnames = 0;
	for (uint32_t b = 0; b < db->nbuckets; b++)
		for (struct dns_node *n = db->bucket[b]; n; n = n->hnext)
			name_to_str(n->name, names[nnames++]);
	assert_int_equal(nnames, db->nnodes);
	assert_true(nnames > 50);
	for (size_t i = 0; i < sizeof(sweep_extra) / sizeof(sweep_extra[0]); i++)
		strcpy(names[nnames++], sweep_extra[i]);
	*ret_n = nnames;
	return names;
}

static void test_property_sweep(void **state)
{
	size_t nnames;
	char (*names)[DNS_MAX_NAME * 2] = sweep_names(&nnames);

	unsigned answers = 0;
	uint16_t id = 1;
	for (size_t i = 0; i < nnames; i++)
		for (int v = 0; v < 3; v++) {
			char name[DNS_MAX_NAME * 2];
			spell(name, names[i], v);
			for (size_t t = 0; t < 20; t++)
				for (int with = 0; with < 2; with++) {
					uint16_t tcp_an = 0, tcp_ns = 0, tcp_ar = 0;
					for (int tcp = 1; tcp >= 0; tcp--) {
						struct qopt o = QOPT_PLAIN;
						o.id = id++;
						o.flags = (id & 1) ? DNS_RD : 0;
						o.edns = with;
						o.udp = (uint16_t)(with ? 512 + (id * 37) % 4000 : 0);
						o.eflags = (id & 2) ? DNS_EDNS_DO : 0;
						uint8_t q[512];
						size_t qlen = mkq(q, name, sweep_types[t], &o);
						size_t udp = tcp ? 0 : DNS_UDP_MAX;
						struct dns_result r;
						size_t len = dns_answer(db, q, qlen, udp, out, sizeof(out), &r);
						char what[600];
						snprintf(what, sizeof(what), "%s type %u%s%s", name, sweep_types[t],
							 with ? " EDNS" : "", tcp ? " TCP" : " UDP");
						check_sweep(q, qlen, udp, len, what);
						if (o.edns && !tcp && len > o.udp)
							fail_msg("%s: %zu bytes over the client's %u", what, len, o.udp);
						/* UDP: the TCP answer, or TC, or only
						 * additional records left out */
						if (tcp) {
							tcp_an = dns_get16(out + 6);
							tcp_ns = dns_get16(out + 8);
							tcp_ar = dns_get16(out + 10);
						} else if (!(dns_get16(out + 2) & DNS_TC)) {
							if (dns_get16(out + 6) != tcp_an || dns_get16(out + 8) != tcp_ns ||
							    dns_get16(out + 10) > tcp_ar)
								fail_msg("%s: sections differ from TCP's", what);
						}
						answers++;
					}
				}
		}
	free(names);
	printf("property sweep: %u answers\n", answers);
}


/* A query for a name that exists is answered from what dns_db_compile()
 * decided for it (db.h: exact_node); the walk dns_resolve() makes for any
 * other name must give the same bytes, for every name of the zones and
 * some that are not there, every QTYPE of the sweep, three spellings, with
 * and without EDNS. */
static void test_exact_equals_walk(void **state)
{
	(void)state;
	static uint8_t walked[65535];
	size_t nnames;
	char (*names)[DNS_MAX_NAME * 2] = sweep_names(&nnames);
	unsigned compared = 0;
	for (size_t i = 0; i < nnames; i++)
		for (int v = 0; v < 3; v++) {
			char name[DNS_MAX_NAME * 2];
			spell(name, names[i], v);
			for (size_t t = 0; t < 20; t++)
				for (int with = 0; with < 2; with++) {
					struct qopt o = QOPT_PLAIN;
					o.edns = with;
					o.udp = 1232;
					uint8_t q[512];
					size_t qlen = mkq(q, name, sweep_types[t], &o);
					struct dns_result r1, r2;
					db->no_exact = true;
					size_t l1 = dns_answer(db, q, qlen, DNS_UDP_MAX, walked, sizeof(walked), &r1);
					db->no_exact = false;
					size_t l2 = dns_answer(db, q, qlen, DNS_UDP_MAX, out, sizeof(out), &r2);
					if (l1 != l2 || memcmp(walked, out, l1) != 0 || r1.rcode != r2.rcode ||
					    r1.truncated != r2.truncated)
						fail_msg("%s type %u%s: %zu bytes walked, %zu from the compiled lookup", name,
							 sweep_types[t], with ? " EDNS" : "", l1, l2);
					compared++;
				}
		}
	free(names);
	printf("exact lookup against the walk: %u answers\n", compared);
}

/* The name is lowered eight bytes at a time: every byte value, at every
 * position of a word and in the tail, comes out as dns_lower() makes it. */
static void test_parse_lowers_every_byte(void **state)
{
	(void)state;
	for (int shift = 0; shift < 18; shift++) {
		int from = shift % 2 ? 128 : 0; /* half of the values a name */
		uint8_t q[DNS_HDR_LEN + 300];
		memset(q, 0, DNS_HDR_LEN);
		dns_put16(q + 4, 1);
		size_t o = DNS_HDR_LEN;
		/* a first label of `shift` bytes moves the rest across lanes */
		if (shift / 2) {
			q[o++] = (uint8_t)(shift / 2);
			memset(q + o, 'Q', (size_t)(shift / 2));
			o += (size_t)(shift / 2);
		}
		for (int v = from; v < from + 128; v += 63) {
			int l = v + 63 <= from + 128 ? 63 : from + 128 - v;
			q[o++] = (uint8_t)l;
			for (int k = 0; k < l; k++)
				q[o++] = (uint8_t)(v + k);
		}
		q[o++] = 0;
		size_t nlen = o - DNS_HDR_LEN;
		dns_put16(q + o, DNS_T_A);
		dns_put16(q + o + 2, DNS_C_IN);
		o += 4;
		assert_int_equal(dns_parse_query(q, o, &pq), DNS_PARSE_OK);
		assert_int_equal(pq.qname_len, nlen);
		for (size_t k = 0; k < nlen; k++)
			assert_int_equal(pq.qname_lc[k], dns_lower(q[DNS_HDR_LEN + k]));
	}
	/* short names: the bytewise path */
	for (int l = 1; l <= 6; l++) {
		uint8_t q[64];
		memset(q, 0, DNS_HDR_LEN);
		dns_put16(q + 4, 1);
		q[DNS_HDR_LEN] = (uint8_t)l;
		for (int k = 0; k < l; k++)
			q[DNS_HDR_LEN + 1 + k] = (uint8_t)("AZaz@[`{"[k]);
		q[DNS_HDR_LEN + 1 + l] = 0;
		size_t o = DNS_HDR_LEN + 2 + (size_t)l;
		dns_put16(q + o, DNS_T_A);
		dns_put16(q + o + 2, DNS_C_IN);
		assert_int_equal(dns_parse_query(q, o + 4, &pq), DNS_PARSE_OK);
		for (int k = 0; k <= l + 1; k++)
			assert_int_equal(pq.qname_lc[k], dns_lower(q[DNS_HDR_LEN + k]));
	}
}

int main(int argc, char **argv)
{
	if (argc > 1)
		zone_dir = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_wellformed),
		cmocka_unit_test(test_parse_edns),
		cmocka_unit_test(test_parse_drop),
		cmocka_unit_test(test_parse_notquery),
		cmocka_unit_test(test_answer_notquery_aa),
		cmocka_unit_test(test_parse_formerr),
		cmocka_unit_test(test_read_name),
		cmocka_unit_test(test_read_name_long_compressed),
		cmocka_unit_test_setup_teardown(test_load_syntax_errors, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_line_after_comments, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_error_in_last_record, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_bad_values, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_include_missing, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_cname_and_other, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_duplicate_cname, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_outside, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_soa, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_twice, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_include_origin, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_ttl, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_answer_apex),
		cmocka_unit_test(test_answer_nodata_nxdomain),
		cmocka_unit_test(test_answer_case),
		cmocka_unit_test(test_answer_cname),
		cmocka_unit_test(test_answer_wildcard),
		cmocka_unit_test(test_answer_ent),
		cmocka_unit_test(test_answer_delegation),
		cmocka_unit_test(test_answer_srv),
		cmocka_unit_test(test_answer_truncation),
		cmocka_unit_test(test_answer_edns),
		cmocka_unit_test(test_answer_refused_and_others),
		cmocka_unit_test_setup_teardown(test_answer_wildcard_ns, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_property_sweep),
		cmocka_unit_test(test_exact_equals_walk),
		cmocka_unit_test(test_parse_lowers_every_byte),
	};
	return cmocka_run_group_tests(tests, setup_db, teardown_db);
}
