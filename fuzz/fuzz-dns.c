// SPDX-License-Identifier: MIT
/*
 * fuzz-dns.c - libFuzzer target for usnet-dnsd's answering engine
 * (apps/dnsd/dns.h, db.h): the query parser, the lookup and the copy of
 * canned responses with the client's question patched in (RFC 1035 §4.1,
 * RFC 6891, RFC 4592, RFC 1034 §4.3.2).
 *
 * At the first call a zone embedded below (apex data, CNAME chains, a
 * loop, wildcards, empty non-terminals, a delegation with glue and DS,
 * SRV, answers over 512 and over 1232 bytes) is loaded from a memfd and
 * compiled. Each input is then answered as a UDP query (limit 1232), as a
 * TCP one and as a UDP one into a 512-byte buffer. Checked, with abort() on
 * failure:
 *  - no answer exactly when the parser drops the packet (short, QR=1);
 *  - every answer parses with ldns_wire2pkt, carries the input's ID, QR and
 *    the input's opcode; the UDP ones fit their limit (1232, 512);
 *  - when the query parses, the question is echoed byte for byte (but
 *    for classes other than IN, CH and ANY: REFUSED without it, as NSD,
 *    unless the EDNS version is unknown: BADVERS first);
 *  - the same rcode over UDP and TCP (but for AXFR); TCP answers are never
 *    truncated; a UDP answer that is not truncated has the same answer
 *    and authority sections as the TCP one;
 *  - the UDP answer is the same, byte for byte, when every name is walked
 *    down from its zone's apex (db->no_exact) as when a name that exists
 *    is answered from what compiling decided for it.
 */
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "db.h"
#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
	do { \
		if (!(c)) \
			abort(); \
	} while (0)

static const char zone_text[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@ IN SOA ns1 hostmaster ( 2024010101 7200 3600 1209600 300 )\n"
	"  IN NS ns1\n"
	"  IN NS ns2\n"
	"  IN MX 10 mail\n"
	"  IN A 192.0.2.1\n"
	"  IN AAAA 2001:db8::1\n"
	"  IN TXT \"v=spf1 -all\"\n"
	"ns1 IN A 192.0.2.53\n"
	"    IN AAAA 2001:db8::53\n"
	"ns2 300 IN A 192.0.2.54\n"
	"mail IN A 192.0.2.25\n"
	"     IN AAAA 2001:db8::25\n"
	"www IN A 192.0.2.80\n"
	"    IN A 192.0.2.81\n"
	"    IN AAAA 2001:db8::80\n"
	"www2 IN CNAME www\n"
	"alias IN CNAME www2\n"
	"towild IN CNAME x.y.wild\n"
	"dangling IN CNAME nothing\n"
	"loop1 IN CNAME loop2\n"
	"loop2 IN CNAME loop1\n"
	"outside IN CNAME www.example.org.\n"
	"tosub IN CNAME www.sub\n"
	"*.wild IN TXT \"wildcard txt\"\n"
	"       IN A 192.0.2.42\n"
	"exists.wild IN A 192.0.2.43\n"
	"*.wc IN CNAME www\n"
	"*.wmx IN MX 5 mail\n"
	"*.wbig IN TXT \"" /* 240 bytes */
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" "
	"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n"
	"a.b.c.ent IN A 192.0.2.7\n"
	"sub IN NS ns1.sub\n"
	"    IN NS ns.example.net.\n"
	"    IN DS 12345 13 2 3b8b8f5e2e0e2a6e8f2c4b1d6a9e7f0c1d2e3f405162738495a6b7c8d9e0f1a2\n"
	"ns1.sub IN A 192.0.2.200\n"
	"        IN AAAA 2001:db8::200\n"
	"_sip._tcp IN SRV 10 60 5060 sipserver\n"
	"          IN SRV 20 0 5060 sip.example.net.\n"
	"sipserver IN A 192.0.2.60\n"
	"mx IN MX 10 mx0\n"
	"   IN MX 20 mx1\n"
	"   IN MX 30 mx2\n"
	"   IN MX 40 mx3\n"
	"   IN MX 50 mx4\n"
	"   IN MX 60 mx5\n"
	"   IN MX 70 mx6\n"
	"   IN MX 80 mx7\n"
	"mx0 IN A 192.0.2.160\n    IN AAAA 2001:db8::a0\n"
	"mx1 IN A 192.0.2.161\n    IN AAAA 2001:db8::a1\n"
	"mx2 IN A 192.0.2.162\n    IN AAAA 2001:db8::a2\n"
	"mx3 IN A 192.0.2.163\n    IN AAAA 2001:db8::a3\n"
	"mx4 IN A 192.0.2.164\n    IN AAAA 2001:db8::a4\n"
	"mx5 IN A 192.0.2.165\n    IN AAAA 2001:db8::a5\n"
	"mx6 IN A 192.0.2.166\n    IN AAAA 2001:db8::a6\n"
	"mx7 IN A 192.0.2.167\n    IN AAAA 2001:db8::a7\n"
	"big IN TXT ( \"" /* 3 x 200 bytes: over 512 */
	"big0big1big2big3big4big5big6big7big8big9big0big1big2big3big4big5big6big7big8big9"
	"big0big1big2big3big4big5big6big7big8big9big0big1big2big3big4big5big6big7big8big9"
	"big0big1big2big3big4big5big6big7big8big9\" \""
	"big0big1big2big3big4big5big6big7big8big9big0big1big2big3big4big5big6big7big8big9"
	"big0big1big2big3big4big5big6big7big8big9big0big1big2big3big4big5big6big7big8big9"
	"big0big1big2big3big4big5big6big7big8big9\" \""
	"big0big1big2big3big4big5big6big7big8big9big0big1big2big3big4big5big6big7big8big9"
	"big0big1big2big3big4big5big6big7big8big9big0big1big2big3big4big5big6big7big8big9"
	"big0big1big2big3big4big5big6big7big8big9\" )\n"
	"huge IN TXT \"h1\" \"" /* over 1232 */
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4\"\n"
	"huge IN TXT \"h2\" \""
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4\"\n"
	"huge IN TXT \"h3\" \""
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4\"\n"
	"huge IN TXT \"h4\" \""
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4\"\n"
	"huge IN TXT \"h5\" \""
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4huge5"
	"huge0huge1huge2huge3huge4huge5huge6huge7huge8huge9huge0huge1huge2huge3huge4\"\n"
	"Case-Owner IN A 192.0.2.77\n"
	"unknown IN TYPE65534 \\# 3 010203\n"
	"ptr IN PTR www\n"
	"caa IN CAA 0 issue \"letsencrypt.org\"\n";

static struct dns_db *db;
static uint8_t *out_udp, *out_tcp, *out_small, *out_walk;

static void init(void)
{
	char err[512];
	int fd = memfd_create("fuzz-dns-zone", 0);
	CHECK(fd >= 0);
	CHECK(write(fd, zone_text, sizeof(zone_text) - 1) == (ssize_t)(sizeof(zone_text) - 1));
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	db = dns_db_new();
	CHECK(db != NULL);
	if (dns_db_load(db, path, NULL, err, sizeof(err)) < 0 || dns_db_compile(db, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz-dns: %s\n", err);
		abort();
	}
	close(fd);
	/* exact sizes, so that a write past the capacity is caught */
	out_udp = malloc(65535);
	out_tcp = malloc(65535);
	out_small = malloc(512);
	out_walk = malloc(65535);
	CHECK(out_udp && out_tcp && out_small && out_walk);
}

/* The common properties of a response of len bytes to the input. */
static ldns_pkt *check_response(const uint8_t *data, const uint8_t *r, size_t len, const struct dns_query *q,
				enum dns_parse_rc rc)
{
	ldns_pkt *p = NULL;
	CHECK(len >= DNS_HDR_LEN);
	CHECK(ldns_wire2pkt(&p, r, len) == LDNS_STATUS_OK);
	CHECK(dns_get16(r) == dns_get16(data));
	uint16_t f = dns_get16(r + 2);
	CHECK(f & DNS_QR);
	CHECK(DNS_OPCODE(f) == DNS_OPCODE(dns_get16(data + 2)));
	if (rc == DNS_PARSE_OK && q->qclass != DNS_C_IN && q->qclass != DNS_C_CH && q->qclass != DNS_C_ANY &&
	    !(q->edns && q->edns_version != 0)) {
		/* an unknown class: REFUSED without the question, as NSD
		 * (BADVERS comes first) */
		CHECK(dns_get16(r + 4) == 0 && DNS_RCODE(f) == DNS_R_REFUSED);
	} else if (rc == DNS_PARSE_OK) {
		CHECK(dns_get16(r + 4) == 1);
		CHECK(len >= (size_t)DNS_HDR_LEN + q->question_len);
		CHECK(memcmp(r + DNS_HDR_LEN, data + DNS_HDR_LEN, q->question_len) == 0);
	} else {
		CHECK(dns_get16(r + 4) == 0);
	}
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db)
		init();
	if (size > 65535)
		return 0;
	struct dns_query q;
	enum dns_parse_rc rc = dns_parse_query(data, size, &q);
	struct dns_result ru, rt, rs;
	size_t lu = dns_answer(db, data, size, DNS_UDP_MAX, out_udp, 65535, &ru);
	size_t lt = dns_answer(db, data, size, 0, out_tcp, 65535, &rt);
	size_t ls = dns_answer(db, data, size, DNS_UDP_MIN, out_small, 512, &rs);
	CHECK((lu == 0) == (rc == DNS_PARSE_DROP));
	CHECK((lt == 0) == (rc == DNS_PARSE_DROP));
	CHECK((ls == 0) == (rc == DNS_PARSE_DROP));
	if (rc == DNS_PARSE_DROP)
		return 0;
	CHECK(lu <= DNS_UDP_MAX);
	CHECK(ls <= DNS_UDP_MIN);
	ldns_pkt *pu = check_response(data, out_udp, lu, &q, rc);
	ldns_pkt *pt = check_response(data, out_tcp, lt, &q, rc);
	ldns_pkt *ps = check_response(data, out_small, ls, &q, rc);
	/* TC is ours to set, but for opcodes other than QUERY, whose
	 * answer carries the query's flags back (as NSD's) */
	if (rc != DNS_PARSE_NOTQUERY) {
		CHECK(!ldns_pkt_tc(pt));
		CHECK(ru.truncated == ldns_pkt_tc(pu));
		CHECK(rt.truncated == ldns_pkt_tc(pt));
		CHECK(rs.truncated == ldns_pkt_tc(ps));
	}
	/* one outcome: the same rcode over every transport (but AXFR, which
	 * is NOTIMP over UDP, REFUSED over TCP) */
	CHECK(ru.rcode == rs.rcode);
	if (!(rc == DNS_PARSE_OK && q.qtype == DNS_T_AXFR)) {
		CHECK(ru.rcode == rt.rcode);
		CHECK(ldns_pkt_get_rcode(pu) == ldns_pkt_get_rcode(pt));
	}
	if (!ldns_pkt_tc(pu)) {
		CHECK(ldns_pkt_ancount(pu) == ldns_pkt_ancount(pt));
		CHECK(ldns_pkt_nscount(pu) == ldns_pkt_nscount(pt));
		CHECK(dns_get16(out_udp + 10) <= dns_get16(out_tcp + 10));
	}
	if (!ldns_pkt_tc(ps)) {
		CHECK(ldns_pkt_ancount(ps) == ldns_pkt_ancount(pt));
		CHECK(ldns_pkt_nscount(ps) == ldns_pkt_nscount(pt));
	}
	/* a name that exists is answered from what compiling decided for it
	 * (db.h: exact_node): the walk gives the same bytes */
	db->no_exact = true;
	struct dns_result rw;
	size_t lw = dns_answer(db, data, size, DNS_UDP_MAX, out_walk, 65535, &rw);
	db->no_exact = false;
	CHECK(lw == lu && memcmp(out_walk, out_udp, lu) == 0 && rw.rcode == ru.rcode &&
	      rw.truncated == ru.truncated);
	ldns_pkt_free(pu);
	ldns_pkt_free(pt);
	ldns_pkt_free(ps);
	return 0;
}
