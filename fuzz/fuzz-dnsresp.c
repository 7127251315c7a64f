// SPDX-License-Identifier: MIT
/*
 * fuzz-dnsresp.c - libFuzzer target for usnet-load's DNS side without the
 * network (apps/load/dnsq.h): the matching of a response to the query in
 * flight (RFC 1035 §4.1, RFC 5452 §9.1) and the dnsperf-format query file
 * reader.
 *
 * At the first call a small query file embedded below is loaded (through
 * a memfd, as usnet-load reads its file) and an in-flight table of two
 * sockets is made. Each input is then used twice:
 *
 * As a response. Every query is put in flight on socket 0 (IDs from
 * 0x0100) and on socket 1 (IDs from 0xbee0), and one more on socket 0 with
 * the input's own ID, as a timed-out query's ID could be reused; the input
 * is matched on socket 0, 1 and 2 (which does not exist). Checked, with
 * abort() on failure:
 *  - a match is a slot in flight on that socket with the message's ID;
 *    rcode, TC and ancount are the header's; UNKNOWN exactly when no
 *    query on that socket has the ID; too short or a query (QR=0) is
 *    MALFORMED; a third socket is MALFORMED;
 *  - when the question name is not compressed, a second reading (below)
 *    agrees with the verdict: MATCHED exactly when the question is the
 *    query's, name without regard to case;
 *  - the table stays consistent: in-flight count, list links, ID map;
 *    expiry hands the slots back oldest first and leaves it empty.
 *
 * As a query file. Each line (up to a LF) goes to dnsq_parse_line(): it
 * returns -1 (with a message), 0, or a query of 17..DNSQ_WIRE_MAX bytes
 * that dnsd's own query parser reads back as one question, ID 0, RD only,
 * whose name prints as the line's first word. Then the whole text goes to
 * dnsq_file_load(): it fails exactly when a line fails ("FILE:LINE: ..."
 * naming the first such line) or no line is a query, and otherwise holds
 * every line's query in order, byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dns.h"
#include "dnsq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
	do { \
		if (!(c)) \
			abort(); \
	} while (0)

static const char query_text[] = "# the queries in flight\n"
				 "www.example.com A\n"
				 "example.com. AAAA\n"
				 "mail.example.com MX ; a comment\n"
				 "\n"
				 ". NS\n"
				 "_sip._tcp.example.com SRV\n"
				 "Case.Example.COM TXT\n"
				 "x.y TYPE65534\n"
				 "\t  # indented comment\n"
				 "a.very.long.name.with.many.labels.example.org CAA\n";

#define NSOCK 2
#define PER_SOCK 16

static struct dnsq_file qf;
static struct dnsq_table tab;
static int text_fd = -1;
static char text_path[64];

static void init(void)
{
	char err[256], path[64];
	int fd = memfd_create("fuzz-dnsresp-queries", 0);
	CHECK(fd >= 0);
	CHECK(write(fd, query_text, sizeof(query_text) - 1) == (ssize_t)(sizeof(query_text) - 1));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (dnsq_file_load(path, &qf, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz-dnsresp: %s\n", err);
		abort();
	}
	close(fd);
	CHECK(qf.count == 8 && qf.count < PER_SOCK);
	CHECK(dnsq_table_init(&tab, 2 * PER_SOCK, NSOCK) == 0);
	text_fd = memfd_create("fuzz-dnsresp-text", 0);
	CHECK(text_fd >= 0);
	snprintf(text_path, sizeof(text_path), "/proc/self/fd/%d", text_fd);
}

/* The table's own bookkeeping agrees with itself. */
static void check_table(void)
{
	uint32_t used = 0, n = 0, prev = DNSQ_NONE;
	for (uint32_t i = 0; i < tab.cap; i++) {
		const struct dnsq_slot *s = &tab.slot[i];
		if (!s->used)
			continue;
		used++;
		CHECK(s->sock < tab.nsock && s->query < qf.count);
		CHECK(tab.idmap[(size_t)s->sock * 65536 + s->id] == i + 1);
	}
	CHECK(used == tab.inflight);
	for (uint32_t i = tab.head; i != DNSQ_NONE; i = tab.slot[i].next) {
		CHECK(i < tab.cap && tab.slot[i].used && tab.slot[i].prev == prev);
		if (prev != DNSQ_NONE)
			CHECK(tab.slot[prev].sent_ns <= tab.slot[i].sent_ns);
		prev = i;
		CHECK(++n <= tab.inflight);
	}
	CHECK(n == tab.inflight && tab.tail == prev);
}

/* The slot in flight on sock with id, by a walk of the slots. */
static uint32_t find(uint32_t sock, uint16_t id)
{
	for (uint32_t i = 0; i < tab.cap; i++)
		if (tab.slot[i].used && tab.slot[i].sock == sock && tab.slot[i].id == id)
			return i;
	return DNSQ_NONE;
}

/* A second reading of the question, for an uncompressed name only:
 * 1 MATCHED, 0 MISMATCH, -1 MALFORMED, -2 cannot tell (a pointer). */
static int ref_question(const uint8_t *msg, size_t len, uint32_t query)
{
	const uint8_t *qw = qf.wire + qf.off[query];
	size_t qlen = qf.len[query];
	size_t p = DNS_HDR_LEN, total = 0;
	for (;;) {
		if (p >= len)
			return -1;
		uint8_t l = msg[p];
		if ((l & 0xc0) == 0xc0)
			return -2;
		if (l & 0xc0)
			return -1;
		total += 1 + (size_t)l;
		if (total > DNS_MAX_NAME || p + 1 + l > len)
			return -1;
		p += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	if (p + 4 > len)
		return -1;
	size_t qn = p - DNS_HDR_LEN + 4; /* name, type, class */
	if (qlen != DNS_HDR_LEN + qn)
		return 0;
	for (size_t i = 0; i < qn; i++)
		if (dns_lower(msg[DNS_HDR_LEN + i]) != dns_lower(qw[DNS_HDR_LEN + i]))
			return 0;
	/* type and class exactly (letters compared alike above: recheck) */
	return memcmp(msg + p, qw + DNS_HDR_LEN + qn - 4, 4) == 0;
}

static void match_one(uint32_t sock, const uint8_t *msg, size_t len)
{
	struct dnsq_answer a;
	memset(&a, 0xa5, sizeof(a));
	enum dnsq_match m = dnsq_table_match(&tab, &qf, sock, msg, len, &a);
	CHECK(m == DNSQ_MATCHED || m == DNSQ_MALFORMED || m == DNSQ_UNKNOWN || m == DNSQ_MISMATCH);
	if (sock >= tab.nsock || len < DNS_HDR_LEN || !(dns_get16(msg + 2) & DNS_QR)) {
		CHECK(m == DNSQ_MALFORMED);
		return;
	}
	uint16_t id = dns_get16(msg);
	uint32_t slot = find(sock, id);
	CHECK((m == DNSQ_UNKNOWN) == (slot == DNSQ_NONE));
	if (m == DNSQ_MATCHED) {
		CHECK(a.slot == slot);
		CHECK(a.rcode == (dns_get16(msg + 2) & 0xf));
		CHECK(a.tc == ((dns_get16(msg + 2) & DNS_TC) != 0));
		CHECK(a.ancount == dns_get16(msg + 6));
		CHECK(dns_get16(msg + 4) == 1);
	}
	if (slot == DNSQ_NONE)
		return;
	uint16_t qd = dns_get16(msg + 4);
	if (qd == 0) {
		CHECK(m == DNSQ_MISMATCH);
		return;
	}
	if (qd != 1) {
		CHECK(m == DNSQ_MALFORMED);
		return;
	}
	int ref = ref_question(msg, len, tab.slot[slot].query);
	if (ref == 1)
		CHECK(m == DNSQ_MATCHED);
	else if (ref == 0)
		CHECK(m == DNSQ_MISMATCH);
	else if (ref == -1)
		CHECK(m == DNSQ_MALFORMED);
}

static void fuzz_response(const uint8_t *data, size_t size)
{
	uint64_t now = 1000;
	uint16_t id;
	for (uint32_t sock = 0; sock < NSOCK; sock++)
		for (uint32_t q = 0; q < qf.count; q++) {
			uint16_t want = (uint16_t)((sock ? 0xbee0 : 0x0100) + q);
			uint32_t s = dnsq_table_add(&tab, sock, q, now++, want, &id);
			CHECK(s != DNSQ_NONE && id == want);
		}
	if (size >= 2) {
		/* the input's ID, taken or not: the table finds a free one */
		uint16_t want = dns_get16(data);
		uint32_t q = (uint32_t)(size % qf.count);
		uint32_t s = dnsq_table_add(&tab, 0, q, now++, want, &id);
		CHECK(s != DNSQ_NONE && tab.slot[s].query == q && tab.slot[s].id == id);
		CHECK(find(0, want) != DNSQ_NONE);
	}
	/* a socket that does not exist takes nothing */
	CHECK(dnsq_table_add(&tab, NSOCK, 0, now, 1, &id) == DNSQ_NONE);
	check_table();

	for (uint32_t sock = 0; sock <= NSOCK; sock++)
		match_one(sock, data, size);
	check_table();

	/* every slot back, oldest first, some released out of order first */
	struct dnsq_answer a;
	if (dnsq_table_match(&tab, &qf, 0, data, size, &a) == DNSQ_MATCHED) {
		dnsq_table_release(&tab, a.slot);
		dnsq_table_release(&tab, a.slot); /* twice: nothing */
		check_table();
		CHECK(dnsq_table_match(&tab, &qf, 0, data, size, &a) == DNSQ_UNKNOWN);
	}
	CHECK(dnsq_table_expired(&tab, 999) == DNSQ_NONE);
	uint64_t last = 0;
	uint32_t s;
	while ((s = dnsq_table_expired(&tab, now)) != DNSQ_NONE) {
		CHECK(tab.slot[s].sent_ns >= last);
		last = tab.slot[s].sent_ns;
		dnsq_table_release(&tab, s);
	}
	CHECK(tab.inflight == 0 && tab.head == DNSQ_NONE && tab.tail == DNSQ_NONE);
	check_table();
}

/* The wire name at *p as text, "." for the root; its length. */
static size_t name_text(const uint8_t *w, char *out)
{
	size_t p = 0, o = 0;
	if (w[0] == 0) {
		out[0] = '.';
		return 1;
	}
	while (w[p]) {
		if (o)
			out[o++] = '.';
		memcpy(out + o, w + p + 1, w[p]);
		o += w[p];
		p += 1 + (size_t)w[p];
	}
	return o;
}

/* One line (NUL-terminated, maybe with its LF); its query in out. */
static int check_line(const char *line, uint8_t *out)
{
	char err[64];
	err[0] = '\0';
	memset(out, 0xa5, DNSQ_WIRE_MAX);
	int n = dnsq_parse_line(line, out, err, sizeof(err));
	CHECK(n >= -1 && n <= DNSQ_WIRE_MAX);
	if (n < 0) {
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		return n;
	}
	if (n == 0)
		return 0;
	CHECK(n >= DNS_HDR_LEN + 1 + 4);
	struct dns_query q;
	CHECK(dns_parse_query(out, (size_t)n, &q) == DNS_PARSE_OK);
	CHECK(q.id == 0 && q.flags == DNS_RD && q.qdcount == 1 && q.ancount == 0 && q.nscount == 0 &&
	      q.arcount == 0);
	CHECK(q.question_len == (size_t)n - DNS_HDR_LEN && q.qclass == DNS_C_IN && !q.edns);
	/* the name is the line's first word, but for a trailing dot */
	const char *w = line;
	while (*w && strchr(" \t\n\r\v\f", *w))
		w++;
	size_t wl = strcspn(w, " \t\n\r\v\f");
	if (wl > 1 && w[wl - 1] == '.')
		wl--;
	char text[DNS_MAX_NAME + 1];
	size_t tl = name_text(out + DNS_HDR_LEN, text);
	CHECK(tl == wl && memcmp(text, w, wl) == 0);
	return n;
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	static uint8_t want[1 << 19]; /* 65535 bytes of ". A\n" lines */
	size_t used = 0;
	uint32_t count = 0, bad_line = 0, lineno = 0;
	char *line = malloc(size + 1);
	uint8_t q[DNSQ_WIRE_MAX];
	CHECK(line != NULL);
	for (size_t p = 0; p < size;) {
		const uint8_t *lf = memchr(data + p, '\n', size - p);
		size_t l = lf ? (size_t)(lf - (data + p)) + 1 : size - p;
		memcpy(line, data + p, l);
		line[l] = '\0';
		p += l;
		lineno++;
		int n = check_line(line, q);
		if (n < 0 && !bad_line)
			bad_line = lineno;
		if (n > 0 && !bad_line) {
			CHECK(used + (size_t)n <= sizeof(want));
			memcpy(want + used, q, (size_t)n);
			used += (size_t)n;
			count++;
		}
	}
	free(line);

	/* the same text as a file */
	CHECK(ftruncate(text_fd, 0) == 0);
	CHECK(pwrite(text_fd, data, size, 0) == (ssize_t)size);
	struct dnsq_file f;
	char err[512];
	err[0] = '\0';
	int rc = dnsq_file_load(text_path, &f, err, sizeof(err));
	if (bad_line) {
		char prefix[96];
		snprintf(prefix, sizeof(prefix), "%s:%u: ", text_path, bad_line);
		CHECK(rc == -1 && strncmp(err, prefix, strlen(prefix)) == 0);
	} else if (count == 0) {
		CHECK(rc == -1 && err[0] != '\0');
	} else {
		CHECK(rc == 0 && f.count == count);
		size_t off = 0;
		for (uint32_t i = 0; i < f.count; i++) {
			CHECK(f.off[i] == off);
			CHECK(memcmp(f.wire + f.off[i], want + off, f.len[i]) == 0);
			off += f.len[i];
		}
		CHECK(off == used);
	}
	if (rc == 0)
		dnsq_file_free(&f);
	else
		CHECK(f.wire == NULL && f.off == NULL && f.len == NULL && f.count == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (text_fd < 0)
		init();
	if (size > 65535)
		return 0;
	fuzz_response(data, size);
	fuzz_file(data, size);
	return 0;
}
