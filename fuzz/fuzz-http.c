// SPDX-License-Identifier: MIT
/*
 * fuzz-http.c - libFuzzer target for usnet-httpd's HTTP/1.x pieces
 * (apps/httpd/http.h; RFC 9112 §2-§6, RFC 9110 §5.6.7, §8.8.3, §14.1).
 * Each input is read as a request header block, with small limits so they
 * are crossed, and as a raw path, a Range value, a date, an If-None-Match
 * list and a file name. Checked, with abort() on failure:
 *  - the parse returns at most len, a block ending in LF, a target inside
 *    it; the path starts with '/' (or is "*" for OPTIONS and CONNECT) and
 *    holds no "//", "/./", "/../", no trailing "/." or "/..", no NUL;
 *    Content-Length, Host, Transfer-Encoding and keep-alive agree with
 *    what a successful parse promises;
 *  - a prefix of the input parses to 0 or to the whole input's answer
 *    (more bytes never change a verdict already given, and a complete
 *    block is found at the same length);
 *  - a normalised path has the same properties and is a fixed point;
 *  - a resolved range lies inside the file; a parsed date formats back to
 *    the same instant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
	do { \
		if (!(c)) \
			abort(); \
	} while (0)

static const struct http_limits lim = {
	.max_header_bytes = 2048,
	.max_target_bytes = 512,
	.max_fields = 16,
	.max_body_bytes = 1 << 20,
};

/* The properties of every normalised path (len bytes, then a NUL). */
static void check_path(const char *p, size_t len)
{
	CHECK(len > 0 && p[0] == '/');
	CHECK(memchr(p, '\0', len) == NULL && p[len] == '\0');
	CHECK(strstr(p, "//") == NULL);
	CHECK(strstr(p, "/./") == NULL);
	CHECK(strstr(p, "/../") == NULL);
	CHECK(!(len >= 2 && memcmp(p + len - 2, "/.", 2) == 0));
	CHECK(!(len >= 3 && memcmp(p + len - 3, "/..", 3) == 0));
}

static void check_request(const char *buf, size_t len, int r, const struct http_request *q)
{
	size_t pl;

	CHECK(r <= (int)len);
	if (r == 0)
		return;
	if (r < 0) {
		CHECK(r == -400 || r == -413 || r == -414 || r == -431 || r == -501 || r == -505);
		return;
	}
	CHECK(buf[r - 1] == '\n');
	CHECK(q->target >= buf && q->target_len > 0 && q->target + q->target_len <= buf + r);
	CHECK(q->version_minor == 0 || q->version_minor == 1);
	CHECK(q->method_str[0] != '\0' && strlen(q->method_str) < sizeof(q->method_str));
	CHECK((q->method == HTTP_GET) == (strcmp(q->method_str, "GET") == 0));
	CHECK((q->method == HTTP_HEAD) == (strcmp(q->method_str, "HEAD") == 0));
	pl = strnlen(q->path, sizeof(q->path));
	CHECK(pl < sizeof(q->path));
	if (q->path[0] == '*') {
		CHECK(pl == 1 && q->method == HTTP_OTHER);
		CHECK(strcmp(q->method_str, "OPTIONS") == 0 || strcmp(q->method_str, "CONNECT") == 0);
	} else {
		check_path(q->path, pl);
	}
	CHECK(q->has_content_length || q->content_length == 0);
	CHECK(q->content_length <= lim.max_body_bytes);
	/* Only "chunked" alone passes, in 1.1, never with Content-Length. */
	if (q->has_transfer_encoding)
		CHECK(q->te_chunked_only && !q->has_content_length && q->version_minor == 1);
	CHECK(q->host_count <= 1 && q->host_present == (q->host_count == 1));
	CHECK(q->version_minor == 0 || q->host_count == 1);
	if (q->conn == HTTP_CONN_CLOSE)
		CHECK(!q->keep_alive);
	else if (q->version_minor == 1)
		CHECK(q->keep_alive);
	else
		CHECK(q->keep_alive == (q->conn == HTTP_CONN_KEEP_ALIVE));
	CHECK(q->has_if_modified_since || q->if_modified_since == 0);
	CHECK(strlen(q->if_none_match) < sizeof(q->if_none_match));
}

static void fuzz_request(const char *buf, size_t size, struct http_request *q)
{
	int r = http_parse_request(buf, size, &lim, q);

	check_request(buf, size, r, q);
	/* prefixes: at the split points the input picks, and right around
	 * a complete block's end */
	size_t cuts[4] = { 0, 0, 0, 0 };
	if (size > 0) {
		cuts[0] = (unsigned char)buf[0] * size / 256;
		cuts[1] = (unsigned char)buf[size - 1] * size / 256;
	}
	if (r > 0) {
		cuts[2] = (size_t)r - 1;
		cuts[3] = (size_t)r;
	}
	for (int i = 0; i < 4; i++) {
		size_t k = cuts[i];
		int rk = http_parse_request(buf, k, &lim, q);
		check_request(buf, k, rk, q);
		if (r > 0)
			CHECK(k < (size_t)r ? rk == 0 : rk == r);
		else
			CHECK(rk == 0 || rk == r);
	}
	/* the defaults never crash either */
	r = http_parse_request(buf, size, NULL, q);
	CHECK(r <= (int)size);
}

static void fuzz_path(const char *buf, size_t size)
{
	char out[256], again[256];
	int r = http_normalize_path(buf, size, out, sizeof(out));

	CHECK(r == 0 || r == -400 || r == -414);
	if (r != 0)
		return;
	size_t n = strlen(out);
	check_path(out, n);
	/* without '%' left to decode, normalising is a fixed point */
	if (!memchr(out, '%', n)) {
		CHECK(http_normalize_path(out, n, again, sizeof(again)) == 0);
		CHECK(strcmp(out, again) == 0);
	}
	/* a raw path with no dot, percent or doubled slash only loses
	 * nothing */
	if (!memchr(buf, '.', size) && !memchr(buf, '%', size)) {
		bool dbl = false;
		for (size_t i = 1; i < size; i++)
			dbl |= buf[i] == '/' && buf[i - 1] == '/';
		if (!dbl)
			CHECK(n == size && memcmp(out, buf, size) == 0);
	}
}

static void fuzz_range(const char *buf, size_t size)
{
	static const uint64_t sizes[] = { 0, 1, 2, 500, 10000, UINT64_MAX - 1, UINT64_MAX };
	struct http_range r;
	int pr = http_range_parse(buf, size, &r);

	CHECK(pr == 0 || pr == -1);
	CHECK(pr == 0 || !r.present || r.invalid);
	CHECK(!(r.invalid && !r.present));
	CHECK(!(r.suffix && r.open_end));
	if (pr == 0 && !r.suffix && !r.open_end)
		CHECK(r.first <= r.last);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t f = 0, l = 0;
		int ret = http_range_resolve(&r, sizes[i], &f, &l);
		CHECK(ret == 1 || ret == 0 || ret == -416);
		if (ret == 1)
			CHECK(f <= l && l < sizes[i]);
		if (pr != 0 || r.multiple)
			CHECK(ret == 0);
		if (sizes[i] == 0)
			CHECK(ret != 1);
	}
}

static void fuzz_date(const char *buf, size_t size)
{
	time_t t, u;
	char out[30];

	if (http_date_parse(buf, size, &t) != 0)
		return;
	http_date_format(t, out, sizeof(out));
	CHECK(strlen(out) == 29);
	CHECK(http_date_parse(out, 29, &u) == 0);
	CHECK(t == u);
	/* a well-formed IMF-fixdate with a real weekday formats to itself */
	if (size == 29 && memcmp(buf, out, 3) == 0 && buf[23] != '6')
		CHECK(memcmp(buf, out, 29) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request *q;
	char *s;

	if (size > 65536)
		return 0;
	q = malloc(sizeof(*q));
	/* a NUL-terminated copy for the string functions; the parsers get
	 * the exact bytes */
	s = malloc(size + 1);
	if (!q || !s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	fuzz_request((const char *)data, size, q);
	fuzz_path((const char *)data, size);
	fuzz_range((const char *)data, size);
	fuzz_date((const char *)data, size);

	char etag[40];
	http_etag_format(size, (int64_t)size << 20, etag, sizeof(etag));
	(void)http_etag_match_list(s, etag);
	(void)http_etag_match_list(s, s);
	CHECK(http_mime_lookup(NULL, s) != NULL);

	free(s);
	free(q);
	return 0;
}
