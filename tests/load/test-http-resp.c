// SPDX-License-Identifier: MIT
/*
 * test-http-resp.c - unit tests of usnet-load's HTTP/1.x response parser
 * (apps/load/http_resp.h): Content-Length, chunked (with extensions and
 * trailers), body until close, no body for 204 and 304, interim 100
 * skipped, keep-alive and close by version and Connection, pipelined
 * responses back to back, every split point of a response fed in two
 * pieces (and byte by byte), bare LF line ends, and malformed responses
 * refused (status line, Content-Length, chunk sizes, chunk data overrun,
 * folded lines, oversized headers); EOF mid-response versus between them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http_resp.h"

static struct http_resp r;

/* Feeds all of s; returns the bytes used (stops at DONE or ERROR). */
static size_t feed(const char *s, size_t n)
{
	return http_resp_feed(&r, (const uint8_t *)s, n);
}

static size_t feed_str(const char *s)
{
	http_resp_init(&r);
	return feed(s, strlen(s));
}

static void test_content_length(void **state)
{
	(void)state;
	const char *s = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello";
	assert_int_equal(feed_str(s), strlen(s));
	assert_int_equal(r.state, HR_DONE);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.version_minor, 1);
	assert_false(r.close);
	assert_int_equal(r.body_bytes, 5);
	assert_int_equal(r.bytes, strlen(s));
}

static void test_chunked(void **state)
{
	(void)state;
	const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
			"5;name=value\r\nhello\r\n"
			"1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
			"0\r\nX-Trailer: 1\r\n\r\n";
	assert_int_equal(feed_str(s), strlen(s));
	assert_int_equal(r.state, HR_DONE);
	assert_true(r.chunked);
	assert_int_equal(r.body_bytes, 5 + 26);
}

/* RFC 9112 §6.3: Transfer-Encoding overrides Content-Length. */
static void test_chunked_over_length(void **state)
{
	(void)state;
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
	assert_int_equal(feed_str(s), strlen(s));
	assert_int_equal(r.state, HR_DONE);
	assert_int_equal(r.body_bytes, 3);
}

static void test_until_close(void **state)
{
	(void)state;
	const char *s = "HTTP/1.0 200 OK\r\n\r\nsome body";
	assert_int_equal(feed_str(s), strlen(s));
	assert_int_equal(r.state, HR_BODY_EOF);
	assert_true(r.close);
	assert_true(http_resp_eof(&r));
	assert_int_equal(r.state, HR_DONE);
	assert_int_equal(r.body_bytes, 9);
}

static void test_no_body(void **state)
{
	(void)state;
	const char *s = "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n";
	assert_int_equal(feed_str(s), strlen(s));
	assert_int_equal(r.state, HR_DONE);
	assert_int_equal(r.body_bytes, 0);
	s = "HTTP/1.1 204 No Content\r\n\r\n";
	assert_int_equal(feed_str(s), strlen(s));
	assert_int_equal(r.state, HR_DONE);
}

static void test_interim_100(void **state)
{
	(void)state;
	const char *s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
	assert_int_equal(feed_str(s), strlen(s));
	assert_int_equal(r.state, HR_DONE);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.bytes, strlen(s));
}

static void test_connection(void **state)
{
	(void)state;
	feed_str("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(r.state, HR_DONE);
	assert_true(r.close);
	feed_str("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_true(r.close);
	feed_str("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
	assert_false(r.close);
}

/* Three responses back to back in one buffer: each stops at its end. */
static void test_pipelined(void **state)
{
	(void)state;
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
			"HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nf";
	size_t off = 0, n = strlen(s);
	int done = 0, status[3];
	uint64_t body = 0;
	http_resp_init(&r);
	while (off < n) {
		off += feed(s + off, n - off);
		assert_int_equal(r.state, HR_DONE);
		status[done++] = r.status;
		body += r.body_bytes;
		http_resp_init(&r);
	}
	assert_int_equal(done, 3);
	assert_int_equal(status[0], 200);
	assert_int_equal(status[2], 404);
	assert_int_equal(body, 6);
	assert_true(http_resp_idle(&r));
}

/* Every split into two pieces, and byte by byte, gives the same result. */
static void test_splits(void **state)
{
	(void)state;
	const char *s = "HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nTransfer-Encoding: chunked\r\n\r\n"
			"a\r\n0123456789\r\n3;e=\"x\"\r\nabc\r\n0\r\nT: v\r\n\r\n";
	size_t n = strlen(s);
	for (size_t cut = 0; cut <= n; cut++) {
		http_resp_init(&r);
		size_t a = feed(s, cut);
		assert_int_equal(a, cut);
		size_t b = feed(s + cut, n - cut);
		assert_int_equal(a + b, n);
		assert_int_equal(r.state, HR_DONE);
		assert_int_equal(r.body_bytes, 13);
		assert_int_equal(r.bytes, n);
	}
	http_resp_init(&r);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(feed(s + i, 1), 1);
	assert_int_equal(r.state, HR_DONE);
	assert_int_equal(r.body_bytes, 13);
}

/* RFC 9112 §2.2: a bare LF ends a line too. */
static void test_bare_lf(void **state)
{
	(void)state;
	const char *s = "HTTP/1.1 200 OK\nContent-Length: 2\n\nok";
	assert_int_equal(feed_str(s), strlen(s));
	assert_int_equal(r.state, HR_DONE);
	assert_int_equal(r.body_bytes, 2);
}

static void refused(const char *s, const char *why_part)
{
	http_resp_init(&r);
	feed(s, strlen(s));
	assert_int_equal(r.state, HR_ERROR);
	assert_non_null(r.error);
	assert_non_null(strstr(r.error, why_part));
}

static void test_malformed(void **state)
{
	(void)state;
	refused("HTTP/2 200 OK\r\n\r\n", "status line");
	refused("HTTP/1.1 20 OK\r\n\r\n", "status line");
	refused("HTTP/1.1 200OK\r\n\r\n", "status line");
	refused("ICY 200 OK\r\n\r\n", "status line");
	refused("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", "Content-Length");
	refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length");
	refused("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "Content-Length");
	refused("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "Content-Length");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n", "chunk size");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "chunk data");
	refused("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "folded");
	refused("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "name");
	refused("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "name");
	refused("HTTP/1.1 101 Switching Protocols\r\n\r\n", "101");
	/* A header larger than 64 KB. */
	size_t n = 70 * 1024;
	char *big = malloc(n + 64);
	assert_non_null(big);
	strcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ");
	size_t at = strlen(big);
	memset(big + at, 'a', n);
	strcpy(big + at + n, "\r\n\r\n");
	refused(big, "64 KB");
	/* A long field we do not read is fine; a long one we read is not. */
	at = strlen("HTTP/1.1 200 OK\r\nX-Big: ");
	memset(big + at, 'a', 2000);
	strcpy(big + at + 2000, "\r\nContent-Length: 0\r\n\r\n");
	http_resp_init(&r);
	feed(big, strlen(big));
	assert_int_equal(r.state, HR_DONE);
	strcpy(big, "HTTP/1.1 200 OK\r\nConnection: ");
	at = strlen(big);
	memset(big + at, 'a', 2000);
	strcpy(big + at + 2000, "\r\n\r\n");
	refused(big, "too long");
	free(big);
}

static void test_eof(void **state)
{
	(void)state;
	http_resp_init(&r);
	assert_false(http_resp_eof(&r)); /* nothing begun */
	assert_int_equal(r.bytes, 0);
	feed_str("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
	assert_int_equal(r.state, HR_BODY_LEN);
	assert_false(http_resp_eof(&r)); /* cut mid-body */
	assert_true(r.bytes > 0);
	feed_str("HTTP/1.1 200 OK\r\nContent-");
	assert_false(http_resp_eof(&r)); /* cut mid-header */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length), cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_over_length), cmocka_unit_test(test_until_close),
		cmocka_unit_test(test_no_body),        cmocka_unit_test(test_interim_100),
		cmocka_unit_test(test_connection),     cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_splits),         cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_malformed),      cmocka_unit_test(test_eof),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
