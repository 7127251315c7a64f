// SPDX-License-Identifier: MIT
/*
 * test-http.c - unit tests of usnet-httpd's HTTP/1.x pieces
 * (apps/httpd/http.h): every status the request parser can answer with,
 * on real requests; pipelining; every split point of valid requests; CR
 * and LF edge cases; path traversal attempts; the header limits exactly
 * at and one over, and crossed by a request still arriving; HTTP dates in
 * the three formats of RFC 9110 §5.6.7; byte ranges against RFC 9110
 * §14.1.2's examples; entity tags (RFC 9110 §8.8.3, §13.1.2); media types
 * from a temporary mime.types file and from the built-in table.
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

#include "http.h"

static const struct http_limits lim = {
	.max_header_bytes = 4096,
	.max_target_bytes = 1024,
	.max_fields = 32,
	.max_body_bytes = 1000,
};

static struct http_request req; /* 5 KB: kept off the test's stack */

static int parse_lim(const char *s, const struct http_limits *l)
{
	return http_parse_request(s, strlen(s), l, &req);
}

static int parse(const char *s)
{
	return parse_lim(s, &lim);
}

#define H11 " HTTP/1.1\r\nHost: example.com\r\n"

/* ---- request line ---- */

static void test_golden_get(void **state)
{
	const char *s = "GET /index.html?x=1&y=%2F HTTP/1.1\r\n"
			"Host: example.com\r\n"
			"User-Agent: curl/8.1.2\r\n"
			"Accept: */*\r\n"
			"Referer:   http://example.com/start   \r\n"
			"\r\n";

	assert_int_equal(parse(s), (int)strlen(s));
	assert_int_equal(req.method, HTTP_GET);
	assert_string_equal(req.method_str, "GET");
	assert_int_equal(req.version_minor, 1);
	assert_int_equal(req.target_len, strlen("/index.html?x=1&y=%2F"));
	assert_memory_equal(req.target, "/index.html?x=1&y=%2F", req.target_len);
	assert_ptr_equal(req.target, s + 4);
	/* the query is split off before decoding: its %2F is no concern */
	assert_string_equal(req.path, "/index.html");
	assert_true(req.has_query);
	assert_true(req.host_present);
	assert_int_equal(req.host_count, 1);
	assert_int_equal(req.conn, HTTP_CONN_DEFAULT);
	assert_true(req.keep_alive);
	assert_false(req.has_content_length);
	assert_int_equal(req.content_length, 0);
	assert_false(req.has_transfer_encoding);
	assert_string_equal(req.user_agent, "curl/8.1.2");
	assert_string_equal(req.referer, "http://example.com/start");
	assert_string_equal(req.if_none_match, "");
	assert_false(req.has_if_modified_since);
	assert_false(req.range.present);
	assert_false(req.has_if_range);
}

static void test_methods(void **state)
{
	assert_true(parse("HEAD /" H11 "\r\n") > 0);
	assert_int_equal(req.method, HTTP_HEAD);
	assert_true(parse("POST /form" H11 "\r\n") > 0);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_string_equal(req.method_str, "POST");
	/* RFC 9110 §9.1: case-sensitive */
	assert_true(parse("get /" H11 "\r\n") > 0);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_string_equal(req.method_str, "get");
	/* any token is a method; 15 bytes fit, 16 get 501 */
	assert_true(parse("X-MY_METHOD.~!1 /" H11 "\r\n") > 0);
	assert_string_equal(req.method_str, "X-MY_METHOD.~!1");
	assert_int_equal(parse("ABCDEFGHIJKLMNOP /" H11 "\r\n"), -501);
	/* 501 as soon as the 16th byte is seen */
	assert_int_equal(parse("ABCDEFGHIJKLMNOP"), -501);
	assert_int_equal(parse("ABCDEFGHIJKLMNO"), 0);
}

static void test_request_line_malformed(void **state)
{
	static const char *const bad[] = {
		"GET  /" H11 "\r\n",                  /* two SP */
		"GET /  HTTP/1.1\r\nHost: a\r\n\r\n",  /* two SP after target */
		"GET\t/" H11 "\r\n",                  /* HTAB */
		" GET /" H11 "\r\n",                  /* leading SP */
		"G@T /" H11 "\r\n",                   /* not a tchar */
		"GET /\r\nHost: a\r\n\r\n",            /* HTTP/0.9 style */
		"GET / \r\nHost: a\r\n\r\n",           /* no version */
		"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",  /* trailing SP */
		"GET / http/1.1\r\nHost: a\r\n\r\n",   /* version is case-sensitive */
		"GET / HTTP/1.10\r\nHost: a\r\n\r\n",  /* one digit each */
		"GET / HTTP/11\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.\r\nHost: a\r\n\r\n",
		"GET / HTTP/1,1\r\nHost: a\r\n\r\n",
		"GET / HTTPS/1.1\r\nHost: a\r\n\r\n",
		"GET /a\x01" H11 "\r\n",              /* CTL in target */
		"GET /a\x80" H11 "\r\n",              /* non-ASCII in target */
		"GET /a#frag" H11 "\r\n",             /* fragment */
		"GET /a\0b" H11 "\r\n",               /* NUL (strlen stops: partial) */
		"\0GET /" H11 "\r\n",
		"GET / HTTP/1.1\rHost: a\r\n\r\n",     /* bare CR */
		"GET / HTTP/1.1\r\r\nHost: a\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the NUL cases: feed the whole literal */
		size_t n = strlen(bad[i]);
		if (i == 17 || i == 18)
			n = strlen(bad[i] + n + 1) + n + 1;
		int r = http_parse_request(bad[i], n, &lim, &req);
		if (r != -400)
			fail_msg("case %zu: %d", i, r);
	}
}

static void test_versions(void **state)
{
	assert_true(parse("GET / HTTP/1.0\r\n\r\n") > 0);
	assert_int_equal(req.version_minor, 0);
	assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), -505);
	assert_int_equal(parse("GET / HTTP/0.9\r\n\r\n"), -505);
	assert_int_equal(parse("GET / HTTP/3.1\r\n\r\n"), -505);
	/* 505 at the end of the request line, before the fields arrive */
	assert_int_equal(parse("GET / HTTP/2.0\r\n"), -505);
	/* the HTTP/2 connection preface (RFC 9113 §3.4) */
	assert_int_equal(parse("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), -505);
	/* RFC 9110 §2.5: a higher 1.x minor is processed as 1.1 */
	assert_true(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n") > 0);
	assert_int_equal(req.version_minor, 1);
	assert_int_equal(parse("GET / HTTP/1.9\r\n\r\n"), -400); /* as 1.1: Host */
}

/* ---- fields ---- */

static void test_fields_malformed(void **state)
{
	static const char *const bad[] = {
		"GET /" H11 "Accept : */*\r\n\r\n",    /* SP before colon */
		"GET /" H11 "Accept\t: */*\r\n\r\n",   /* HTAB before colon */
		"GET /" H11 "X-A: 1\r\n 2\r\n\r\n",     /* obs-fold */
		"GET /" H11 "X-A: 1\r\n\t2\r\n\r\n",
		"GET / HTTP/1.1\r\n Host: a\r\n\r\n",   /* SP after the start line */
		"GET /" H11 ": empty\r\n\r\n",          /* empty name */
		"GET /" H11 "X A: 1\r\n\r\n",           /* SP in name */
		"GET /" H11 "X(A): 1\r\n\r\n",          /* delimiter in name */
		"GET /" H11 "NoColon\r\n\r\n",
		"GET /" H11 "X-A: a\x01z\r\n\r\n",      /* CTL in value */
		"GET /" H11 "X-A: a\x7fz\r\n\r\n",      /* DEL in value */
		"GET /" H11 "X-A: a\rz\r\n\r\n",        /* bare CR in value */
		"GET /" H11 "X-A: a\r\r\n\r\n",
		"GET /" H11 "\rX\r\n",                  /* bare CR on the empty line */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i]);
		if (r != -400)
			fail_msg("case %zu: %d", i, r);
	}
	/* NUL in a value */
	static const char nul[] = "GET /" H11 "X-A: a\0b\r\n\r\n";
	assert_int_equal(http_parse_request(nul, sizeof(nul) - 1, &lim, &req), -400);
}

static void test_fields_ows_and_obs_text(void **state)
{
	assert_true(parse("GET / HTTP/1.1\r\nhOsT:\t example.com \t\r\n"
			  "User-Agent:\xc3\xa9t\xc3\xa9  \r\nX-Empty:\r\nX-Sp:   \r\n\r\n") > 0);
	assert_int_equal(req.host_count, 1);
	/* obs-text is allowed in a value and kept as is */
	assert_string_equal(req.user_agent, "\xc3\xa9t\xc3\xa9");
}

static void test_content_length(void **state)
{
	assert_true(parse("GET /" H11 "Content-Length: 42\r\n\r\n") > 0);
	assert_true(req.has_content_length);
	assert_int_equal(req.content_length, 42);
	/* RFC 9112 §6.3: repeated equal values are one value */
	assert_true(parse("GET /" H11 "Content-Length: 42\r\nContent-Length: 42\r\n\r\n") > 0);
	assert_int_equal(req.content_length, 42);
	assert_true(parse("GET /" H11 "Content-Length: 42 , 42,42\r\n\r\n") > 0);
	assert_int_equal(req.content_length, 42);
	assert_true(parse("GET /" H11 "Content-Length: 007\r\ncontent-length: 7\r\n\r\n") > 0);
	assert_int_equal(req.content_length, 7);
	assert_true(parse("GET /" H11 "Content-Length: 1000\r\n\r\n") > 0);
	assert_true(parse("GET /" H11 "Content-Length: 0\r\n\r\n") > 0);
	assert_true(req.has_content_length);
	assert_int_equal(req.content_length, 0);

	static const char *const bad[] = {
		"Content-Length: 42\r\nContent-Length: 43\r\n",
		"Content-Length: 42, 43\r\n",
		"Content-Length: 42,\r\n",
		"Content-Length: \r\n",
		"Content-Length: -1\r\n",
		"Content-Length: +1\r\n",
		"Content-Length: 0x10\r\n",
		"Content-Length: 1 2\r\n",
		"Content-Length: 12345678901234567890\r\n", /* 20 digits */
		"Content-Length: 99999999999999999999999999\r\n",
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
	};
	char buf[512];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "POST /" H11 "%s\r\n", bad[i]);
		int r = parse(buf);
		if (r != -400)
			fail_msg("case %zu: %d", i, r);
	}
	/* RFC 9112 §7.1: chunked alone is understood (the caller frames the
	 * body); RFC 9112 §6.1: other codings 501, any coding in 1.0 is 400 */
	assert_true(parse("POST /" H11 "Transfer-Encoding: chunked\r\n\r\n") > 0);
	assert_int_equal(parse("POST /" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n"), -501);
	assert_int_equal(parse("POST /" H11 "Transfer-Encoding: gzip\r\n\r\n"), -501);
	assert_int_equal(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), -400);
	/* above max_body_bytes */
	assert_int_equal(parse("POST /" H11 "Content-Length: 1001\r\n\r\n"), -413);
	assert_int_equal(parse("POST /" H11 "Content-Length: 1234567890123456789\r\n\r\n"), -413);
}

static void test_host(void **state)
{
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n"), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), -400);
	assert_int_equal(parse("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), -400);
	assert_true(parse("GET / HTTP/1.0\r\n\r\n") > 0);
	assert_false(req.host_present);
	assert_int_equal(req.host_count, 0);

	static const char *const good[] = {
		"example.com", "example.com:8080", "127.0.0.1", "[::1]", "[::1]:80",
		"[2001:db8::1]:443", "xn--bcher-kva.example", "a_b-c~d", "h:", "%41b",
		"", /* RFC 9112 §3.2: empty when the target has no authority */
	};
	static const char *const bad[] = {
		"exa mple.com", "a/b", "user@host", "host:8a", "[::1", "[]", "[::1]x",
		"a:1:2", "a\"b", "%4", "%zz", "a<b",
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
		if (parse(buf) <= 0)
			fail_msg("good %s", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		if (parse(buf) != -400)
			fail_msg("bad %s", bad[i]);
		snprintf(buf, sizeof(buf), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", bad[i]);
		if (parse(buf) != -400)
			fail_msg("bad 1.0 %s", bad[i]);
	}
}

static void test_connection(void **state)
{
	static const struct {
		const char *req;
		enum http_conn_opt conn;
		bool keep_alive;
	} t[] = {
		{ "GET /" H11 "\r\n", HTTP_CONN_DEFAULT, true },
		{ "GET /" H11 "Connection: close\r\n\r\n", HTTP_CONN_CLOSE, false },
		{ "GET /" H11 "Connection: CLOSE\r\n\r\n", HTTP_CONN_CLOSE, false },
		{ "GET /" H11 "Connection: keep-alive\r\n\r\n", HTTP_CONN_KEEP_ALIVE, true },
		{ "GET /" H11 "Connection: Upgrade, HTTP2-Settings\r\n\r\n", HTTP_CONN_DEFAULT, true },
		{ "GET /" H11 "Connection: keep-alive, close\r\n\r\n", HTTP_CONN_CLOSE, false },
		{ "GET /" H11 "Connection: close\r\nConnection: keep-alive\r\n\r\n", HTTP_CONN_CLOSE, false },
		{ "GET /" H11 "Connection: , ,close ,\r\n\r\n", HTTP_CONN_CLOSE, false },
		{ "GET /" H11 "Connection: closed\r\n\r\n", HTTP_CONN_DEFAULT, true },
		{ "GET / HTTP/1.0\r\n\r\n", HTTP_CONN_DEFAULT, false },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", HTTP_CONN_KEEP_ALIVE, true },
		{ "GET / HTTP/1.0\r\nConnection: te, keep-alive\r\n\r\n", HTTP_CONN_KEEP_ALIVE, true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive,close\r\n\r\n", HTTP_CONN_CLOSE, false },
		{ "GET / HTTP/1.0\r\nConnection: close\r\n\r\n", HTTP_CONN_CLOSE, false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (parse(t[i].req) <= 0)
			fail_msg("case %zu refused", i);
		if (req.conn != t[i].conn || req.keep_alive != t[i].keep_alive)
			fail_msg("case %zu: conn %d keep %d", i, req.conn, req.keep_alive);
	}
	/* not a token list */
	assert_int_equal(parse("GET /" H11 "Connection: close keep-alive\r\n\r\n"), -400);
	assert_int_equal(parse("GET /" H11 "Connection: \"close\"\r\n\r\n"), -400);
}

/* ---- request-target ---- */

static void test_target_forms(void **state)
{
	assert_true(parse("GET http://example.com/a/b?q=1" H11 "\r\n") > 0);
	assert_string_equal(req.path, "/a/b");
	assert_true(req.has_query);
	assert_true(parse("GET HTTP://EXAMPLE.COM" H11 "\r\n") > 0);
	assert_string_equal(req.path, "/");
	assert_false(req.has_query);
	assert_true(parse("GET http://example.com?x" H11 "\r\n") > 0);
	assert_string_equal(req.path, "/");
	assert_true(req.has_query);
	assert_true(parse("GET https://example.com:8443/x/../y/" H11 "\r\n") > 0);
	assert_string_equal(req.path, "/y/");
	assert_true(parse("GET http://[::1]:80/z" H11 "\r\n") > 0);
	assert_string_equal(req.path, "/z");
	/* 1.1 still needs Host with absolute-form */
	assert_int_equal(parse("GET http://example.com/ HTTP/1.1\r\n\r\n"), -400);

	assert_true(parse("OPTIONS *" H11 "\r\n") > 0);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_string_equal(req.path, "*");
	assert_true(parse("CONNECT example.com:443" H11 "\r\n") > 0);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_string_equal(req.path, "*");

	static const char *const bad[] = {
		"GET *" H11 "\r\n",                   /* asterisk-form is OPTIONS only */
		"OPTIONS *x" H11 "\r\n",
		"CONNECT /" H11 "\r\n",               /* CONNECT is authority-form only */
		"CONNECT example.com" H11 "\r\n",     /* port required */
		"CONNECT http://example.com:443/" H11 "\r\n",
		"GET example.com:443" H11 "\r\n",     /* authority-form is CONNECT only */
		"GET a/b" H11 "\r\n",
		"GET ftp://example.com/" H11 "\r\n",
		"GET http:/example.com/" H11 "\r\n",
		"GET http:///x" H11 "\r\n",           /* empty host */
		"GET http://user:pw@example.com/" H11 "\r\n",
		"GET http://exa%mple.com/" H11 "\r\n",
		"GET http://example.com:8x/" H11 "\r\n",
		"GET ?x" H11 "\r\n",
		"GET http://example.com/../x" H11 "\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i]);
		if (r != -400)
			fail_msg("case %zu: %d", i, r);
	}
}

static void test_traversal(void **state)
{
	static const char *const bad[] = {
		"/../etc/passwd", "/a/%2e%2e/%2e%2e/x", "/a/%2E%2E/%2e%2E/x", "/..", "/a/../..",
		"/%2F", "/a%2fb", "/a%2Fb", "/%00", "/a%00.html", "/%zz", "/%4", "/%", "/a%g0",
		"/.%2e/x", "/%2e./x", "/./../x",
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "GET %s" H11 "\r\n", bad[i]);
		if (parse(buf) != -400)
			fail_msg("parser let %s through", bad[i]);
	}
	/* decoded and normalised, staying under the root */
	static const char *const ok[][2] = {
		{ "//etc", "/etc" },
		{ "//etc//passwd", "/etc/passwd" },
		{ "/a/%2E%2E/x", "/x" },
		{ "/a/./b/../c", "/a/c" },
		{ "/a/b/..", "/a/" },
		{ "/a/b/../", "/a/" },
		{ "/a/.", "/a/" },
		{ "/.", "/" },
		{ "/%2e", "/" },
		{ "/a/..", "/" },
		{ "/...", "/..." },
		{ "/..a/.b", "/..a/.b" },
		{ "/.hidden", "/.hidden" },
		{ "/a\\..\\b", "/a\\..\\b" }, /* a backslash is an ordinary character */
		{ "/%41%62c", "/Abc" },
		{ "/sp%20ace", "/sp ace" },
		{ "/a/b/", "/a/b/" },
		{ "/", "/" },
		{ "///", "/" },
		{ "/%e2%82%ac", "/\xe2\x82\xac" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(buf, sizeof(buf), "GET %s" H11 "\r\n", ok[i][0]);
		if (parse(buf) <= 0)
			fail_msg("parser refused %s", ok[i][0]);
		if (strcmp(req.path, ok[i][1]) != 0)
			fail_msg("%s -> %s, not %s", ok[i][0], req.path, ok[i][1]);
	}
}

static void test_normalize_direct(void **state)
{
	char out[16];

	assert_int_equal(http_normalize_path("/a/b", 4, out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
	/* only len bytes are read */
	assert_int_equal(http_normalize_path("/a/../etc", 4, out, sizeof(out)), 0);
	assert_string_equal(out, "/a/");
	assert_int_equal(http_normalize_path("/a/../etc", 5, out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(http_normalize_path("", 0, out, sizeof(out)), -400);
	assert_int_equal(http_normalize_path("a/b", 3, out, sizeof(out)), -400);
	assert_int_equal(http_normalize_path("%2Fa", 4, out, sizeof(out)), -400);
	assert_int_equal(http_normalize_path("/a\0b", 4, out, sizeof(out)), -400);
	/* 15 bytes and the NUL fit in 16; 16 do not */
	assert_int_equal(http_normalize_path("/abcdefghijklmn", 15, out, sizeof(out)), 0);
	assert_string_equal(out, "/abcdefghijklmn");
	assert_int_equal(http_normalize_path("/abcdefghijklmno", 16, out, sizeof(out)), -414);
	assert_int_equal(http_normalize_path("/abcdefghijklm/", 15, out, sizeof(out)), 0);
	assert_int_equal(http_normalize_path("/abcdefghijklmn/", 16, out, sizeof(out)), -414);
	assert_int_equal(http_normalize_path("/", 1, out, 1), -414);
	assert_int_equal(http_normalize_path("/", 1, out, 2), 0);
	assert_string_equal(out, "/");
}

/* ---- limits ---- */

/* A request exactly n bytes long: "GET / HTTP/1.1\r\nHost: a\r\nX: aaa...\r\n\r\n" */
static size_t make_sized(char *buf, size_t n)
{
	const char *head = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	size_t h = strlen(head), pad = n - h - 4;

	memcpy(buf, head, h);
	memset(buf + h, 'a', pad);
	memcpy(buf + h + pad, "\r\n\r\n", 4);
	buf[n] = '\0';
	return n;
}

static void test_limit_header_bytes(void **state)
{
	static char buf[8192];
	struct http_limits l = lim;
	size_t n = make_sized(buf, 1000);

	l.max_header_bytes = 1000;
	assert_int_equal(http_parse_request(buf, n, &l, &req), 1000);
	l.max_header_bytes = 999;
	assert_int_equal(http_parse_request(buf, n, &l, &req), -431);
	/* the limit is on the block, not on the bytes after it */
	l.max_header_bytes = 1000;
	memcpy(buf + n, "GET /next", 9);
	assert_int_equal(http_parse_request(buf, n + 9, &l, &req), 1000);

	/* slowloris: an endless field is refused once it crosses the
	 * limit, with no end of block in sight */
	make_sized(buf, 4000);
	l.max_header_bytes = 1000;
	assert_int_equal(http_parse_request(buf, 1000, &l, &req), 0);
	assert_int_equal(http_parse_request(buf, 1001, &l, &req), -431);
	assert_int_equal(http_parse_request(buf, 3000, &l, &req), -431);
	/* leading empty lines count */
	memset(buf, '\n', 1001);
	assert_int_equal(http_parse_request(buf, 1000, &l, &req), 0);
	assert_int_equal(http_parse_request(buf, 1001, &l, &req), -431);
	/* a request line that alone crosses the limit is 414 */
	l.max_target_bytes = 4000;
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', 2000);
	assert_int_equal(http_parse_request(buf, 1000, &l, &req), 0);
	assert_int_equal(http_parse_request(buf, 1001, &l, &req), -414);
}

static void test_limit_target(void **state)
{
	static char buf[4096];
	struct http_limits l = lim;
	int n;

	l.max_target_bytes = 100;
	/* a target of exactly 100 bytes */
	n = snprintf(buf, sizeof(buf), "GET /%099d" H11 "\r\n", 0);
	assert_int_equal(http_parse_request(buf, (size_t)n, &l, &req), n);
	assert_int_equal(req.target_len, 100);
	n = snprintf(buf, sizeof(buf), "GET /%0100d" H11 "\r\n", 0);
	assert_int_equal(http_parse_request(buf, (size_t)n, &l, &req), -414);
	/* at the 101st byte, before the line ends */
	assert_int_equal(http_parse_request(buf, 4 + 100, &l, &req), 0);
	assert_int_equal(http_parse_request(buf, 4 + 101, &l, &req), -414);
}

static void test_limit_fields(void **state)
{
	static char buf[4096];
	struct http_limits l = lim;
	size_t n;

	l.max_fields = 5; /* Host and four more */
	n = (size_t)snprintf(buf, sizeof(buf), "GET /" H11 "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
	assert_int_equal(http_parse_request(buf, n, &l, &req), (int)n);
	n = (size_t)snprintf(buf, sizeof(buf), "GET /" H11 "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE");
	/* the sixth field's first byte is enough */
	assert_int_equal(http_parse_request(buf, n, &l, &req), -431);
	assert_int_equal(http_parse_request(buf, n - 1, &l, &req), 0);
}

/* ---- framing ---- */

static void test_pipelined(void **state)
{
	const char *s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
			"HEAD /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
			"GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
			"GET /d HTTP/1.1\r\n";
	size_t len = strlen(s), off = 0;
	int r;

	r = http_parse_request(s, len, &lim, &req);
	assert_int_equal(r, (int)strlen("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"));
	assert_string_equal(req.path, "/a");
	off += (size_t)r;
	r = http_parse_request(s + off, len - off, &lim, &req);
	assert_true(r > 0);
	assert_int_equal(req.method, HTTP_HEAD);
	assert_string_equal(req.path, "/b");
	assert_int_equal(req.content_length, 5);
	assert_memory_equal(s + off + (size_t)r, "hello", 5);
	off += (size_t)r + 5;
	r = http_parse_request(s + off, len - off, &lim, &req);
	assert_true(r > 0);
	assert_string_equal(req.path, "/c");
	assert_false(req.keep_alive);
	off += (size_t)r;
	assert_int_equal(http_parse_request(s + off, len - off, &lim, &req), 0);
}

static void test_every_split(void **state)
{
	static const char *const reqs[] = {
		("GET /index.html HTTP/1.1\r\nHost: example.com\r\nRange: bytes=0-9\r\n"
		 "If-None-Match: \"a\"\r\nConnection: keep-alive\r\n\r\n"),
		"\r\n\r\nHEAD /x%20y HTTP/1.0\r\nContent-Length: 10\r\n\r\n",
		"GET /lf HTTP/1.1\nHost: a\nX: y\n\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"\nGET http://a/b?c HTTP/1.1\r\nHost: a\n\r\n",
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		char buf[512];
		size_t n = strlen(reqs[i]);

		memcpy(buf, reqs[i], n);
		memcpy(buf + n, "GET / HTTP/1.1\r\n", 16); /* the next one */
		for (size_t k = 0; k < n; k++) {
			int r = http_parse_request(buf, k, &lim, &req);
			if (r != 0)
				fail_msg("request %zu, split %zu: %d", i, k, r);
		}
		assert_int_equal(http_parse_request(buf, n, &lim, &req), (int)n);
		assert_int_equal(http_parse_request(buf, n + 16, &lim, &req), (int)n);
	}
}

static void test_crlf_edges(void **state)
{
	/* RFC 9112 §2.2: bare LF accepted wherever CRLF is due */
	assert_int_equal(parse("GET / HTTP/1.1\nHost: a\n\n"), 24);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\n\r\n"), 26);
	assert_int_equal(parse("GET / HTTP/1.1\nHost: a\r\n\n"), 25);
	/* empty lines before the request line are skipped */
	assert_int_equal(parse("\r\n\r\n\nGET / HTTP/1.0\r\n\r\n"), 23);
	assert_int_equal(parse("\r\n\r\n"), 0);
	assert_int_equal(parse("\r"), 0);
	assert_int_equal(parse("\rX"), -400);
	/* a CR at the end of the bytes at hand waits for its LF */
	assert_int_equal(parse("GET / HTTP/1.1\r"), 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r"), 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n\r"), 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n\rx"), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"), -400);
	assert_int_equal(parse("GET / HTTP/1.1\n\rHost: a\r\n\r\n"), -400);
	/* a field ending in LF CR LF is a field then the empty line */
	assert_int_equal(parse("GET / HTTP/1.0\r\nX: 1\n\r\n"), 23);
	/* a value holding an LF ends there: the next line is a field */
	assert_int_equal(parse("GET / HTTP/1.0\r\nX: 1\n2\r\n\r\n"), -400);
}

/* ---- headers kept for the server ---- */

static void test_conditional_fields(void **state)
{
	assert_true(parse("GET /" H11 "If-None-Match: \"a\", W/\"b\"\r\nIf-None-Match: \"c\"\r\n"
			  "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
			  "If-Range: \"xyz\"\r\nRange: bytes=100-\r\n\r\n") > 0);
	assert_string_equal(req.if_none_match, "\"a\", W/\"b\", \"c\"");
	assert_true(http_etag_match_list(req.if_none_match, "\"c\""));
	assert_true(req.has_if_modified_since);
	assert_int_equal(req.if_modified_since, 784111777);
	assert_true(req.has_if_range);
	assert_string_equal(req.if_range, "\"xyz\"");
	assert_true(req.range.present);
	assert_true(req.range.open_end);
	assert_int_equal(req.range.first, 100);

	/* RFC 9110 §13.1.3: an invalid date is ignored */
	assert_true(parse("GET /" H11 "If-Modified-Since: yesterday\r\n\r\n") > 0);
	assert_false(req.has_if_modified_since);
	assert_true(parse("GET /" H11 "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
			  "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n") > 0);
	assert_false(req.has_if_modified_since);
	/* a repeated Range is invalid, ignored */
	assert_true(parse("GET /" H11 "Range: bytes=0-1\r\nRange: bytes=0-1\r\n\r\n") > 0);
	assert_true(req.range.invalid);
	assert_true(parse("GET /" H11 "Range: bytes=0-1, 5-6\r\n\r\n") > 0);
	assert_true(req.range.multiple);
	/* a repeated If-Range matches nothing */
	assert_true(parse("GET /" H11 "If-Range: \"a\"\r\nIf-Range: \"a\"\r\n\r\n") > 0);
	assert_true(req.has_if_range);
	assert_string_equal(req.if_range, "");

	/* too long for the buffers: If-None-Match dropped whole, User-Agent
	 * truncated */
	static char buf[2048];
	char big[400];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(buf, sizeof(buf), "GET /" H11 "If-None-Match: \"%s\"\r\nUser-Agent: %s\r\n\r\n", big, big);
	assert_true(parse(buf) > 0);
	assert_string_equal(req.if_none_match, "");
	assert_int_equal(strlen(req.user_agent), sizeof(req.user_agent) - 1);
	snprintf(buf, sizeof(buf), "GET /" H11 "If-None-Match: \"a\"\r\nIf-None-Match: \"%.250s\"\r\n\r\n", big);
	assert_true(parse(buf) > 0);
	assert_string_equal(req.if_none_match, "");
}

/* ---- dates ---- */

static void test_dates_rfc_examples(void **state)
{
	/* RFC 9110 §5.6.7's three forms of one instant */
	static const char *const d[] = {
		"Sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994",
	};
	char buf[30];
	time_t t;

	for (size_t i = 0; i < 3; i++) {
		t = 0;
		assert_int_equal(http_date_parse(d[i], strlen(d[i]), &t), 0);
		assert_int_equal(t, 784111777);
	}
	assert_string_equal(http_date_format(784111777, buf, sizeof(buf)), d[0]);
	assert_ptr_equal(http_date_format(0, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
	/* asctime with a two-digit day */
	assert_int_equal(http_date_parse("Thu Nov 16 08:49:37 1994", 24, &t), 0);
	assert_int_equal(t, 784111777 + 10 * 86400);
}

static void test_dates_round_trip(void **state)
{
	static const int64_t ts[] = {
		0, 1, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800, 1700000000,
		2147483647, 2147483648, 4102444800 /* 2100-01-01 */, -1, -86400,
		-2208988800 /* 1900-01-01 */, 253402300799 /* 9999-12-31 23:59:59 */,
		-62167219200 /* 0000-01-01 */,
	};
	char buf[32];
	time_t t;

	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		http_date_format((time_t)ts[i], buf, sizeof(buf));
		assert_int_equal(strlen(buf), 29);
		assert_int_equal(http_date_parse(buf, 29, &t), 0);
		if ((int64_t)t != ts[i])
			fail_msg("%lld -> %s -> %lld", (long long)ts[i], buf, (long long)t);
	}
	for (int64_t x = -5000000000; x < 5000000000; x += 86400 * 37 + 3607) {
		http_date_format((time_t)x, buf, sizeof(buf));
		assert_int_equal(http_date_parse(buf, 29, &t), 0);
		assert_int_equal((int64_t)t, x);
	}
	http_date_format(951782400, buf, sizeof(buf));
	assert_string_equal(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
	/* outside 4-digit years: clamped */
	http_date_format((time_t)300000000000, buf, sizeof(buf));
	assert_string_equal(buf, "Fri, 31 Dec 9999 23:59:59 GMT");
	/* too small a buffer */
	buf[0] = 'x';
	assert_string_equal(http_date_format(0, buf, 29), "");
}

static void test_dates_invalid(void **state)
{
	static const char *const bad[] = {
		"", "Sun, 06 Nov 1994 08:49:37 GM", "Sun, 06 Nov 1994 08:49:37 GMT ",
		" Sun, 06 Nov 1994 08:49:37 GMT", "sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 23:60:00 GMT",
		"Sun, 06 Nov 1994 23:59:61 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 29 Feb 1900 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 +0000",
		"Sun,06 Nov 1994 08:49:37 GMT", "Sun 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-1994 08:49:37 GMT", "Sunday, 06 Nov 94 08:49:37 GMT",
		"Sun, 06-Nov-94 08:49:37 GMT", "Funday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Sun Nov  6 08:49:37 1994 ",
		"Sun Nov 06 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z",
	};
	time_t t = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (http_date_parse(bad[i], strlen(bad[i]), &t) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(t, 42);
	/* a leap second runs into the next minute; 29 Feb of a leap year */
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 08:49:60 GMT", 29, &t), 0);
	assert_int_equal(t, 784111800);
	assert_int_equal(http_date_parse("Tue, 29 Feb 2000 00:00:00 GMT", 29, &t), 0);
	/* RFC 850 years: the pivot of the DEVIATION in http_date.c */
	const char *d69 = "Thursday, 01-Jan-69 00:00:00 GMT", *d70 = "Thursday, 01-Jan-70 00:00:00 GMT";
	assert_int_equal(http_date_parse(d69, strlen(d69), &t), 0);
	assert_int_equal(t, 3124224000);
	assert_int_equal(http_date_parse(d70, strlen(d70), &t), 0);
	assert_int_equal(t, 0);
	/* only len bytes are read */
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMTxyz", 29, &t), 0);
}

/* ---- ranges ---- */

static void test_ranges_rfc_examples(void **state)
{
	/* RFC 9110 §14.1.2, for a representation of 10000 bytes */
	static const struct {
		const char *v;
		int ret;
		uint64_t first, last;
	} t[] = {
		{ "bytes=0-499", 1, 0, 499 },         /* the first 500 bytes */
		{ "bytes=500-999", 1, 500, 999 },     /* the second 500 bytes */
		{ "bytes=-500", 1, 9500, 9999 },      /* the final 500 bytes */
		{ "bytes=9500-", 1, 9500, 9999 },
		{ "bytes=0-0,-1", 0, 0, 0 },          /* first and last: multiple */
		{ "bytes= 0-999, 4500-5499, -1000", 0, 0, 0 },
		{ "bytes=500-600,601-999", 0, 0, 0 },
		{ "bytes=500-700,601-999", 0, 0, 0 },
		{ "bytes=0-", 1, 0, 9999 },
		{ "bytes=0-0", 1, 0, 0 },
		{ "bytes=9999-", 1, 9999, 9999 },
		{ "bytes=9999-20000", 1, 9999, 9999 }, /* last-pos clamped */
		{ "bytes=0-18446744073709551615", 1, 0, 9999 },
		{ "bytes=0-99999999999999999999999", 1, 0, 9999 }, /* saturates */
		{ "bytes=-10000", 1, 0, 9999 },
		{ "bytes=-20000", 1, 0, 9999 },       /* suffix longer than the file */
		{ "bytes=-99999999999999999999999", 1, 0, 9999 },
		{ "BYTES=1-2", 1, 1, 2 },             /* RFC 9110 §14.1: unit case-insensitive */
		{ "bytes=, ,1-2, ", 1, 1, 2 },        /* empty elements */
		{ "bytes=10000-", -416, 0, 0 },       /* first-pos at the length */
		{ "bytes=10000-10001", -416, 0, 0 },
		{ "bytes=99999999999999999999999-", -416, 0, 0 },
		{ "bytes=-0", -416, 0, 0 },           /* suffix-length 0 */
		/* invalid: the header is ignored */
		{ "bytes=500-499", 0, 0, 0 },
		{ "bytes=", 0, 0, 0 },
		{ "bytes=,", 0, 0, 0 },
		{ "bytes=-", 0, 0, 0 },
		{ "bytes=a-b", 0, 0, 0 },
		{ "bytes=1-2-3", 0, 0, 0 },
		{ "bytes=1 -2", 0, 0, 0 },
		{ "bytes=1- 2", 0, 0, 0 },
		{ "bytes=--1", 0, 0, 0 },
		{ "bytes=1-2;x", 0, 0, 0 },
		{ "bytes=0-1,x", 0, 0, 0 },
		{ "bytes 0-1", 0, 0, 0 },             /* not the ranges-specifier */
		{ "items=0-1", 0, 0, 0 },             /* another unit */
		{ "bytes", 0, 0, 0 },
		{ "", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct http_range r;
		uint64_t f = 77, l = 77;

		http_range_parse(t[i].v, strlen(t[i].v), &r);
		int ret = http_range_resolve(&r, 10000, &f, &l);
		if (ret != t[i].ret)
			fail_msg("%s: %d", t[i].v, ret);
		if (ret == 1 && (f != t[i].first || l != t[i].last))
			fail_msg("%s: %llu-%llu", t[i].v, (unsigned long long)f, (unsigned long long)l);
	}
}

static void test_ranges_parse_fields(void **state)
{
	struct http_range r;
	uint64_t f, l;

	assert_int_equal(http_range_parse("bytes=5-9", 9, &r), 0);
	assert_true(r.present && !r.multiple && !r.suffix && !r.open_end && !r.invalid);
	assert_int_equal(r.first, 5);
	assert_int_equal(r.last, 9);
	assert_int_equal(http_range_parse("bytes=-7", 8, &r), 0);
	assert_true(r.present && r.suffix && !r.open_end);
	assert_int_equal(r.suffix_len, 7);
	assert_int_equal(http_range_parse("bytes=3-", 8, &r), 0);
	assert_true(r.present && r.open_end && !r.suffix);
	assert_int_equal(r.first, 3);
	assert_int_equal(http_range_parse("bytes=1-2,3-4", 13, &r), 0);
	assert_true(r.present && r.multiple);
	assert_int_equal(r.first, 1);
	assert_int_equal(http_range_parse("bytes=2-1", 9, &r), -1);
	assert_true(r.present && r.invalid);
	assert_int_equal(http_range_parse("pages=1-2", 9, &r), -1);
	assert_false(r.present);
	assert_false(r.invalid);
	/* only len bytes are read */
	assert_int_equal(http_range_parse("bytes=1-2x", 9, &r), 0);
	assert_int_equal(r.last, 2);

	/* an empty file: nothing is satisfiable */
	http_range_parse("bytes=0-", 8, &r);
	assert_int_equal(http_range_resolve(&r, 0, &f, &l), -416);
	http_range_parse("bytes=-5", 8, &r);
	assert_int_equal(http_range_resolve(&r, 0, &f, &l), -416);
	http_range_parse("bytes=0-0", 9, &r);
	assert_int_equal(http_range_resolve(&r, 0, &f, &l), -416);
	assert_int_equal(http_range_resolve(&r, 1, &f, &l), 1);
	assert_int_equal(f, 0);
	assert_int_equal(l, 0);
	/* no Range */
	memset(&r, 0, sizeof(r));
	assert_int_equal(http_range_resolve(&r, 100, &f, &l), 0);
}

/* ---- entity tags ---- */

static void test_etags(void **state)
{
	char buf[40];

	assert_string_equal(http_etag_format(1234, 0x5f00, buf, sizeof(buf)), "\"4d2-5f00\"");
	assert_string_equal(http_etag_format(0, 0, buf, sizeof(buf)), "\"0-0\"");
	assert_string_equal(http_etag_format(UINT64_MAX, -1, buf, sizeof(buf)),
			    "\"ffffffffffffffff-ffffffffffffffff\"");
	assert_int_equal(strlen(buf), 35);
	assert_string_equal(http_etag_format(UINT64_MAX, -1, buf, 35), "");
	assert_string_equal(http_etag_format(0, 0, buf, 6), "\"0-0\"");
	assert_string_equal(http_etag_format(0, 0, buf, 5), "");

	const char *e = "\"4d2-5f00\"";
	assert_true(http_etag_match_list("\"4d2-5f00\"", e));
	assert_true(http_etag_match_list("*", e));
	assert_true(http_etag_match_list("  *  ", e));
	/* RFC 9110 §8.8.3.2: weak comparison, either side */
	assert_true(http_etag_match_list("W/\"4d2-5f00\"", e));
	assert_true(http_etag_match_list("\"4d2-5f00\"", "W/\"4d2-5f00\""));
	assert_true(http_etag_match_list("\"x\", W/\"y\" ,\"4d2-5f00\"", e));
	assert_true(http_etag_match_list(",,\"4d2-5f00\",", e));
	assert_false(http_etag_match_list("\"4d2-5f01\"", e));
	assert_false(http_etag_match_list("\"4D2-5F00\"", e));   /* opaque: case matters */
	assert_false(http_etag_match_list("4d2-5f00", e));       /* unquoted */
	assert_false(http_etag_match_list("w/\"4d2-5f00\"", e)); /* "W/" is case-sensitive */
	assert_false(http_etag_match_list("\"4d2-5f00", e));
	assert_false(http_etag_match_list("", e));
	assert_false(http_etag_match_list("\"a\", *", e));
	assert_false(http_etag_match_list("\"a\" \"4d2-5f00\"", e)); /* no comma */
	assert_false(http_etag_match_list("\"a b\", \"4d2-5f00\"", e));
	assert_false(http_etag_match_list(NULL, e));
	assert_false(http_etag_match_list("*", "bogus"));
}

/* ---- media types ---- */

static void test_mime_builtin(void **state)
{
	assert_string_equal(http_mime_lookup(NULL, "index.html"), "text/html");
	assert_string_equal(http_mime_lookup(NULL, "/a.b/INDEX.HTM"), "text/html");
	assert_string_equal(http_mime_lookup(NULL, "s.css"), "text/css");
	assert_string_equal(http_mime_lookup(NULL, "app.js"), "text/javascript");
	assert_string_equal(http_mime_lookup(NULL, "d.json"), "application/json");
	assert_string_equal(http_mime_lookup(NULL, "i.PNG"), "image/png");
	assert_string_equal(http_mime_lookup(NULL, "i.jpg"), "image/jpeg");
	assert_string_equal(http_mime_lookup(NULL, "i.gif"), "image/gif");
	assert_string_equal(http_mime_lookup(NULL, "i.svg"), "image/svg+xml");
	assert_string_equal(http_mime_lookup(NULL, "r.txt"), "text/plain");
	assert_string_equal(http_mime_lookup(NULL, "favicon.ico"), "image/vnd.microsoft.icon");
	assert_string_equal(http_mime_lookup(NULL, "m.wasm"), "application/wasm");
	assert_string_equal(http_mime_lookup(NULL, "d.pdf"), "application/pdf");
	assert_string_equal(http_mime_lookup(NULL, "f.xml"), "application/xml");
	assert_string_equal(http_mime_lookup(NULL, "a.tar.gz"), "application/octet-stream");
	assert_string_equal(http_mime_lookup(NULL, "Makefile"), "application/octet-stream");
	assert_string_equal(http_mime_lookup(NULL, ".htaccess"), "application/octet-stream");
	assert_string_equal(http_mime_lookup(NULL, "/x/.html"), "application/octet-stream");
	assert_string_equal(http_mime_lookup(NULL, "dot."), "application/octet-stream");
	assert_string_equal(http_mime_lookup(NULL, "/a.html/noext"), "application/octet-stream");
	assert_string_equal(http_mime_lookup(NULL, ""), "application/octet-stream");
	assert_null(http_mime_load("/nonexistent/mime.types"));
	assert_null(http_mime_load(NULL));
	http_mime_free(NULL);
}

static void test_mime_file(void **state)
{
	char path[] = "/tmp/test-http-mime-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] =
		"# a comment line: text/fake fake\n"
		"\n"
		"text/html\t\t\t\thtml htm shtml\n"
		"application/gzip gz   # a trailing comment xyz\n"
		"Application/X-Mixed MiXeD\r\n"
		"text/x-first dup\n"
		"text/x-second dup other\n"
		"notatype foo\n"
		"text/x-long aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa short\n"
		"image/only-type\n"
		"   text/indented   ind\n"
		"text/no-newline last";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	struct http_mime_table *t = http_mime_load(path);
	unlink(path);
	assert_non_null(t);

	assert_string_equal(http_mime_lookup(t, "index.html"), "text/html");
	assert_string_equal(http_mime_lookup(t, "INDEX.SHTML"), "text/html");
	assert_string_equal(http_mime_lookup(t, "a.tar.gz"), "application/gzip");
	assert_string_equal(http_mime_lookup(t, "x.xyz"), "application/octet-stream");
	assert_string_equal(http_mime_lookup(t, "x.fake"), "application/octet-stream");
	assert_string_equal(http_mime_lookup(t, "x.mixed"), "application/x-mixed");
	assert_string_equal(http_mime_lookup(t, "x.dup"), "text/x-first");
	assert_string_equal(http_mime_lookup(t, "x.other"), "text/x-second");
	assert_string_equal(http_mime_lookup(t, "x.foo"), "application/octet-stream");
	assert_string_equal(http_mime_lookup(t, "x.short"), "text/x-long");
	assert_string_equal(http_mime_lookup(t, "x.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
			    "application/octet-stream");
	assert_string_equal(http_mime_lookup(t, "x.ind"), "text/indented");
	assert_string_equal(http_mime_lookup(t, "x.last"), "text/no-newline");
	/* not in the file: the built-in table answers */
	assert_string_equal(http_mime_lookup(t, "x.png"), "image/png");
	assert_string_equal(http_mime_lookup(t, "x.unknown"), "application/octet-stream");
	http_mime_free(t);

	/* an empty file loads as an empty table */
	strcpy(path, "/tmp/test-http-mime-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	t = http_mime_load(path);
	unlink(path);
	assert_non_null(t);
	assert_string_equal(http_mime_lookup(t, "x.css"), "text/css");
	http_mime_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_get),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_request_line_malformed),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_fields_malformed),
		cmocka_unit_test(test_fields_ows_and_obs_text),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_connection),
		cmocka_unit_test(test_target_forms),
		cmocka_unit_test(test_traversal),
		cmocka_unit_test(test_normalize_direct),
		cmocka_unit_test(test_limit_header_bytes),
		cmocka_unit_test(test_limit_target),
		cmocka_unit_test(test_limit_fields),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_crlf_edges),
		cmocka_unit_test(test_conditional_fields),
		cmocka_unit_test(test_dates_rfc_examples),
		cmocka_unit_test(test_dates_round_trip),
		cmocka_unit_test(test_dates_invalid),
		cmocka_unit_test(test_ranges_rfc_examples),
		cmocka_unit_test(test_ranges_parse_fields),
		cmocka_unit_test(test_etags),
		cmocka_unit_test(test_mime_builtin),
		cmocka_unit_test(test_mime_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
