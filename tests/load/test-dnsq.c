// SPDX-License-Identifier: MIT
/*
 * test-dnsq.c - unit tests of usnet-load's DNS pieces (apps/load/dnsq.h):
 * query lines into wire form (golden bytes; comments, blank lines, TYPEnnn,
 * bad names and types refused), a query file with its line numbers in
 * errors (lines of any length), and the in-flight table: responses matched by socket, ID and
 * question (case-insensitively), stale, foreign and mismatched ones
 * refused, truncated and hostile responses refused without reading past
 * their end, IDs unique per socket, timeouts oldest first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsq.h"

static void test_line_golden(void **state)
{
	(void)state;
	uint8_t q[DNSQ_WIRE_MAX];
	char err[128];
	static const uint8_t want[] = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 7, 'e', 'x',
				       'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 28, 0, 1};
	assert_int_equal(dnsq_parse_line("www.example.com AAAA\n", q, err, sizeof(err)), sizeof(want));
	assert_memory_equal(q, want, sizeof(want));
	/* A trailing dot, lower-case type and TYPEnnn. */
	assert_int_equal(dnsq_parse_line("  www.example.com.\taaaa", q, err, sizeof(err)), sizeof(want));
	assert_memory_equal(q, want, sizeof(want));
	assert_int_equal(dnsq_parse_line("www.example.com TYPE28", q, err, sizeof(err)), sizeof(want));
	assert_memory_equal(q, want, sizeof(want));
	/* The root. */
	assert_int_equal(dnsq_parse_line(". NS", q, err, sizeof(err)), 12 + 1 + 4);
	assert_int_equal(q[12], 0);
	assert_int_equal(q[14], 2);
}

static void test_line_skipped_and_refused(void **state)
{
	(void)state;
	uint8_t q[DNSQ_WIRE_MAX];
	char err[128];
	assert_int_equal(dnsq_parse_line("# a comment", q, err, sizeof(err)), 0);
	assert_int_equal(dnsq_parse_line("   \n", q, err, sizeof(err)), 0);
	assert_int_equal(dnsq_parse_line("", q, err, sizeof(err)), 0);
	assert_int_equal(dnsq_parse_line("example.com", q, err, sizeof(err)), -1);
	assert_int_equal(dnsq_parse_line("example.com BOGUS", q, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "BOGUS"));
	assert_int_equal(dnsq_parse_line("example.com A extra", q, err, sizeof(err)), -1);
	assert_int_equal(dnsq_parse_line("a..b A", q, err, sizeof(err)), -1);
	assert_int_equal(dnsq_parse_line("a\\.b A", q, err, sizeof(err)), -1);
	char line[300];
	memset(line, 'a', 64);
	strcpy(line + 64, ".com A");
	assert_int_equal(dnsq_parse_line(line, q, err, sizeof(err)), -1); /* a 64-byte label */
	/* 4 labels of 63 = 256 bytes of wire name: too long. */
	for (int i = 0; i < 4; i++) {
		memset(line + i * 64, 'b', 63);
		line[i * 64 + 63] = '.';
	}
	strcpy(line + 4 * 64 - 1, " A");
	assert_int_equal(dnsq_parse_line(line, q, err, sizeof(err)), -1);
	/* 3 labels of 63 and one of 61: 255 bytes, the limit. */
	line[3 * 64 + 61] = '\0';
	strcat(line, " A");
	assert_int_equal(dnsq_parse_line(line, q, err, sizeof(err)), 12 + 255 + 4);
}

static void test_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test-dnsq.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# queries\nwww.example.com A\n\nexample.com MX\n", f);
	fclose(f);
	struct dnsq_file qf;
	char err[256];
	assert_int_equal(dnsq_file_load(path, &qf, err, sizeof(err)), 0);
	assert_int_equal(qf.count, 2);
	assert_int_equal(qf.len[0], 12 + 17 + 4);
	assert_int_equal(qf.off[1], qf.len[0]);
	dnsq_file_free(&qf);
	f = fopen(path, "w");
	fputs("www.example.com A\nexample.com NOPE\n", f);
	fclose(f);
	assert_int_equal(dnsq_file_load(path, &qf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: unknown type"));
	f = fopen(path, "w");
	fputs("# nothing\n", f);
	fclose(f);
	assert_int_equal(dnsq_file_load(path, &qf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no queries"));
	unlink(path);
}

/* Lines longer than any buffer are whole lines: a long comment is one
 * comment (its tail was read as a line of its own, and refused, when the
 * file was read in 1024-byte pieces: fuzz-dnsresp), and line numbers in
 * errors count real lines. */
static void test_file_long_lines(void **state)
{
	(void)state;
	char path[] = "/tmp/test-dnsq.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputc('#', f);
	for (int i = 0; i < 1100; i++)
		fputc('c', f);
	fputs("\nwww.example.com A\n", f);
	/* a comment whose tail past 1023 bytes looked like a query */
	fputc(';', f);
	for (int i = 0; i < 1022; i++)
		fputc(' ', f);
	fputs("example.com MX\n", f);
	fclose(f);
	struct dnsq_file qf;
	char err[256];
	assert_int_equal(dnsq_file_load(path, &qf, err, sizeof(err)), 0);
	assert_int_equal(qf.count, 1);
	assert_int_equal(qf.len[0], 12 + 17 + 4);
	dnsq_file_free(&qf);
	f = fopen(path, "w");
	for (int i = 0; i < 2000; i++)
		fputc(' ', f);
	fputs("\nwww.example.com A\nbad..name A\n", f);
	fclose(f);
	assert_int_equal(dnsq_file_load(path, &qf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: bad name"));
	assert_null(qf.wire);
	unlink(path);
}

/* The response to query q with id: its question copied, QR set, rcode. */
static size_t response(const struct dnsq_file *qf, uint32_t q, uint16_t id, unsigned rcode, uint8_t *out)
{
	size_t len = qf->len[q];
	memcpy(out, qf->wire + qf->off[q], len);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = 0x85; /* QR, AA, RD */
	out[3] = (uint8_t)rcode;
	return len;
}

static struct dnsq_file qf;
static struct dnsq_table t;

static int setup(void **state)
{
	(void)state;
	char path[] = "/tmp/test-dnsq.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	fputs("www.example.com A\nnothere.example.com A\nexample.com MX\n", f);
	fclose(f);
	char err[256];
	int rc = dnsq_file_load(path, &qf, err, sizeof(err));
	unlink(path);
	if (rc < 0)
		return -1;
	return dnsq_table_init(&t, 8, 2);
}

static int teardown(void **state)
{
	(void)state;
	dnsq_table_free(&t);
	dnsq_file_free(&qf);
	return 0;
}

static void test_match(void **state)
{
	(void)state;
	uint8_t m[512];
	struct dnsq_answer a;
	uint16_t id0, id1;
	uint32_t s0 = dnsq_table_add(&t, 0, 0, 100, 0x1234, &id0);
	uint32_t s1 = dnsq_table_add(&t, 1, 1, 200, 0x1234, &id1);
	assert_int_not_equal(s0, DNSQ_NONE);
	assert_int_not_equal(s1, DNSQ_NONE);
	assert_int_equal(id0, 0x1234);
	assert_int_equal(id1, 0x1234); /* the same ID on another socket */
	assert_int_equal(t.inflight, 2);

	/* The answer to the query on socket 1, its name in other case. */
	size_t n = response(&qf, 1, id1, 3, m);
	m[13] = 'N';
	assert_int_equal(dnsq_table_match(&t, &qf, 1, m, n, &a), DNSQ_MATCHED);
	assert_int_equal(a.slot, s1);
	assert_int_equal(a.rcode, 3);
	/* The same bytes on socket 0: the ID is in flight there for another
	 * question. */
	assert_int_equal(dnsq_table_match(&t, &qf, 0, m, n, &a), DNSQ_MISMATCH);
	dnsq_table_release(&t, s1);
	/* Now stale. */
	assert_int_equal(dnsq_table_match(&t, &qf, 1, m, n, &a), DNSQ_UNKNOWN);

	/* Type differs: mismatch. */
	n = response(&qf, 0, id0, 0, m);
	m[n - 3] = 28;
	assert_int_equal(dnsq_table_match(&t, &qf, 0, m, n, &a), DNSQ_MISMATCH);
	m[n - 3] = 1;
	/* Not a response (QR clear), truncated, hostile. */
	m[2] = 0x01;
	assert_int_equal(dnsq_table_match(&t, &qf, 0, m, n, &a), DNSQ_MALFORMED);
	m[2] = 0x85;
	assert_int_equal(dnsq_table_match(&t, &qf, 0, m, 11, &a), DNSQ_MALFORMED);
	for (size_t cut = 12; cut < n; cut++)
		assert_int_equal(dnsq_table_match(&t, &qf, 0, m, cut, &a), DNSQ_MALFORMED);
	uint8_t loop[64];
	memcpy(loop, m, 12);
	loop[12] = 0xc0; /* a pointer to itself */
	loop[13] = 12;
	assert_int_equal(dnsq_table_match(&t, &qf, 0, loop, 18, &a), DNSQ_MALFORMED);
	loop[12] = 63; /* a label running past the end */
	assert_int_equal(dnsq_table_match(&t, &qf, 0, loop, 20, &a), DNSQ_MALFORMED);
	/* No question (some error responses): cannot be told from stale. */
	m[5] = 0;
	assert_int_equal(dnsq_table_match(&t, &qf, 0, m, 12, &a), DNSQ_MISMATCH);
	m[5] = 1;
	/* A TC answer. */
	m[2] |= 0x02;
	assert_int_equal(dnsq_table_match(&t, &qf, 0, m, n, &a), DNSQ_MATCHED);
	assert_true(a.tc);
	dnsq_table_release(&t, s0);
	assert_int_equal(t.inflight, 0);
}

/* IDs are unique per socket; the table refuses past its size; the oldest
 * times out first. */
static void test_ids_and_expiry(void **state)
{
	(void)state;
	uint32_t slot[8];
	uint16_t id[8];
	for (int i = 0; i < 8; i++) {
		slot[i] = dnsq_table_add(&t, 0, (uint32_t)i % 3, 1000 + (uint64_t)i, 7, &id[i]);
		assert_int_not_equal(slot[i], DNSQ_NONE);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(id[i], id[j]);
	}
	uint16_t x;
	assert_int_equal(dnsq_table_add(&t, 1, 0, 2000, 7, &x), DNSQ_NONE); /* full */
	assert_int_equal(dnsq_table_expired(&t, 999), DNSQ_NONE);
	assert_int_equal(dnsq_table_expired(&t, 1000), slot[0]);
	/* Answer the third: the oldest is still the first. */
	dnsq_table_release(&t, slot[2]);
	dnsq_table_release(&t, slot[0]);
	assert_int_equal(dnsq_table_expired(&t, 5000), slot[1]);
	dnsq_table_release(&t, slot[1]);
	assert_int_equal(dnsq_table_expired(&t, 5000), slot[3]);
	for (int i = 3; i < 8; i++)
		dnsq_table_release(&t, slot[i]);
	assert_int_equal(t.inflight, 0);
	assert_int_equal(dnsq_table_expired(&t, UINT64_MAX), DNSQ_NONE);
	/* Freed slots and IDs are taken again. */
	assert_int_not_equal(dnsq_table_add(&t, 0, 0, 1, 7, &x), DNSQ_NONE);
	assert_int_equal(x, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_golden),
		cmocka_unit_test(test_line_skipped_and_refused),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_long_lines),
		cmocka_unit_test_setup_teardown(test_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_and_expiry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
