// SPDX-License-Identifier: MIT
/*
 * http_resp.c - the incremental HTTP/1.x response parser of http_resp.h
 * (RFC 9112 §4 status line, §5 fields, §6.3 message body length, §7.1
 * chunked transfer coding). Lines are gathered into a small buffer (only
 * the first HTTP_RESP_LINE_MAX bytes are kept; a longer line is an error
 * only when it is one whose value framing needs); bodies are skipped in
 * bulk.
 */
#include "http_resp.h"

#include <string.h>

void http_resp_init(struct http_resp *r)
{
	r->state = HR_STATUS;
	r->status = 0;
	r->version_minor = 1;
	r->close = false;
	r->chunked = false;
	r->have_len = false;
	r->content_length = 0;
	r->remaining = 0;
	r->body_bytes = 0;
	r->bytes = 0;
	r->head_bytes = 0;
	r->error = NULL;
	r->line_len = 0;
	r->line_cr = false;
}

static void fail(struct http_resp *r, const char *why)
{
	r->state = HR_ERROR;
	r->error = why;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	size_t n = strlen(want);
	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(name[i]) != want[i])
			return false;
	return true;
}

/* RFC 9110 §5.6.2 tchar */
static bool is_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The next comma-separated element of [*p, end), trimmed; false at the end. */
static bool next_elem(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char *s = *p;
	while (s < end && (is_ows(*s) || *s == ','))
		s++;
	if (s == end)
		return false;
	const char *e = s;
	while (e < end && *e != ',')
		e++;
	*p = e;
	while (e > s && is_ows(e[-1]))
		e--;
	*ret = s;
	*ret_len = (size_t)(e - s);
	return true;
}

/* RFC 9112 §4: HTTP-version SP status-code SP [ reason-phrase ]. */
static void status_line(struct http_resp *r, const char *s, size_t len)
{
	if (len < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ' ||
	    s[9] < '1' || s[9] > '9' || s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9' ||
	    (len > 12 && s[12] != ' ')) {
		fail(r, "bad status line");
		return;
	}
	r->version_minor = s[7] - '0';
	r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	/* RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 closes unless
	 * "keep-alive". */
	r->close = r->version_minor == 0;
	r->state = HR_HEADER;
}

/* RFC 9110 §8.6: digits; a list of identical values is one value. */
static void content_length(struct http_resp *r, const char *v, size_t len)
{
	const char *p = v, *end = v + len, *e;
	size_t elen;
	bool any = false;
	while (next_elem(&p, end, &e, &elen)) {
		uint64_t x = 0;
		if (elen == 0 || elen > 18) {
			fail(r, "bad Content-Length");
			return;
		}
		for (size_t i = 0; i < elen; i++) {
			if (e[i] < '0' || e[i] > '9') {
				fail(r, "bad Content-Length");
				return;
			}
			x = x * 10 + (uint64_t)(e[i] - '0');
		}
		if (r->have_len && x != r->content_length) {
			fail(r, "conflicting Content-Length");
			return;
		}
		r->have_len = true;
		r->content_length = x;
		any = true;
	}
	if (!any)
		fail(r, "empty Content-Length");
}

static void header_line(struct http_resp *r, const char *s, size_t len, bool truncated)
{
	/* RFC 9112 §5.2: obsolete line folding may be rejected. */
	if (is_ows(s[0])) {
		fail(r, "folded header line");
		return;
	}
	const char *colon = memchr(s, ':', len);
	if (!colon || colon == s) {
		fail(r, "header line without a name");
		return;
	}
	size_t nlen = (size_t)(colon - s);
	for (size_t i = 0; i < nlen; i++)
		if (!is_tchar(s[i])) {
			fail(r, "bad header name");
			return;
		}
	const char *v = colon + 1, *end = s + len;
	while (v < end && is_ows(*v))
		v++;
	while (end > v && is_ows(end[-1]))
		end--;
	bool cl = name_is(s, nlen, "content-length"), te = name_is(s, nlen, "transfer-encoding"),
	     conn = name_is(s, nlen, "connection");
	if (!cl && !te && !conn)
		return;
	if (truncated) {
		fail(r, "header line too long");
		return;
	}
	if (cl) {
		content_length(r, v, (size_t)(end - v));
	} else if (te) {
		/* RFC 9112 §6.1: chunked is the last coding, or the body runs
		 * to the close. */
		const char *p = v, *e;
		size_t elen;
		r->chunked = false;
		while (next_elem(&p, end, &e, &elen)) {
			const char *semi = memchr(e, ';', elen);
			size_t tlen = semi ? (size_t)(semi - e) : elen;
			while (tlen > 0 && is_ows(e[tlen - 1]))
				tlen--;
			r->chunked = name_is(e, tlen, "chunked");
		}
		r->remaining = 1; /* marks "Transfer-Encoding seen" until the body starts */
	} else {
		const char *p = v, *e;
		size_t elen;
		while (next_elem(&p, end, &e, &elen)) {
			if (name_is(e, elen, "close"))
				r->close = true;
			else if (name_is(e, elen, "keep-alive") && r->version_minor == 0)
				r->close = false;
		}
	}
}

static void end_of_header(struct http_resp *r)
{
	bool te = r->remaining != 0;
	r->remaining = 0;
	if (r->status < 200) {
		if (r->status == 101) {
			fail(r, "101 Switching Protocols, not asked for");
			return;
		}
		/* RFC 9110 §15.2: an interim response; the final one follows. */
		r->state = HR_STATUS;
		r->chunked = r->have_len = false;
		r->content_length = 0;
		return;
	}
	/* RFC 9112 §6.3 in its order. */
	if (r->status == 204 || r->status == 304) {
		r->state = HR_DONE;
	} else if (te) {
		if (r->chunked) {
			r->state = HR_CHUNK_SIZE;
		} else {
			r->state = HR_BODY_EOF;
			r->close = true;
		}
	} else if (r->have_len) {
		r->remaining = r->content_length;
		r->state = r->remaining ? HR_BODY_LEN : HR_DONE;
	} else {
		r->state = HR_BODY_EOF;
		r->close = true;
	}
}

/* RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF. */
static void chunk_size_line(struct http_resp *r, const char *s, size_t len, bool truncated)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < len && i < 16; i++) {
		char c = lower(s[i]);
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			break;
		v = v << 4 | (uint64_t)d;
	}
	if (i == 0 || i == 16 || (i < len && s[i] != ';' && !is_ows(s[i])) || (truncated && i == len)) {
		fail(r, "bad chunk size");
		return;
	}
	if (v == 0) {
		r->state = HR_TRAILER;
	} else {
		r->remaining = v;
		r->state = HR_CHUNK_DATA;
	}
}

/* One line is complete in r->line. */
static void line_done(struct http_resp *r)
{
	size_t len = r->line_len;
	bool truncated = len > HTTP_RESP_LINE_MAX;
	if (truncated)
		len = HTTP_RESP_LINE_MAX;
	const char *s = r->line;
	r->line_len = 0;
	r->line_cr = false;
	switch (r->state) {
	case HR_STATUS:
		if (len == 0 && !truncated && r->bytes <= 2 * 4) /* stray line ends before it: skipped */
			return;
		if (truncated) {
			fail(r, "status line too long");
			return;
		}
		status_line(r, s, len);
		return;
	case HR_HEADER:
		if (len == 0)
			end_of_header(r);
		else
			header_line(r, s, len, truncated);
		return;
	case HR_CHUNK_SIZE:
		chunk_size_line(r, s, len, truncated);
		return;
	case HR_CHUNK_CRLF:
		if (len != 0) {
			fail(r, "chunk data longer than its size");
			return;
		}
		r->state = HR_CHUNK_SIZE;
		return;
	case HR_TRAILER:
		if (len == 0)
			r->state = HR_DONE;
		return;
	default:
		return;
	}
}

size_t http_resp_feed(struct http_resp *r, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		switch (r->state) {
		case HR_DONE:
		case HR_ERROR:
			return i;
		case HR_BODY_LEN:
		case HR_CHUNK_DATA: {
			uint64_t take = n - i < r->remaining ? n - i : r->remaining;
			r->remaining -= take;
			r->body_bytes += take;
			r->bytes += take;
			i += (size_t)take;
			if (r->remaining == 0)
				r->state = r->state == HR_BODY_LEN ? HR_DONE : HR_CHUNK_CRLF;
			break;
		}
		case HR_BODY_EOF:
			r->body_bytes += n - i;
			r->bytes += n - i;
			i = n;
			break;
		default: {
			/* A line: up to LF, with CR LF or a bare LF ending it. */
			const uint8_t *lf = memchr(p + i, '\n', n - i);
			size_t take = lf ? (size_t)(lf - (p + i)) + 1 : n - i;
			size_t content = lf ? take - 1 : take;
			const uint8_t *c = p + i;
			/* A CR is part of the line end only right before the LF. */
			if (r->line_cr && content > 0) {
				if (r->line_len < HTTP_RESP_LINE_MAX)
					r->line[r->line_len] = '\r';
				r->line_len++;
				r->line_cr = false;
			}
			if (content > 0 && c[content - 1] == '\r') {
				content--;
				r->line_cr = !lf; /* held back: it may be the line end */
			}
			if (r->line_len < HTTP_RESP_LINE_MAX) {
				size_t room = HTTP_RESP_LINE_MAX - r->line_len;
				memcpy(r->line + r->line_len, c, content < room ? content : room);
			}
			r->line_len += content;
			r->bytes += take;
			i += take;
			if (r->state == HR_STATUS || r->state == HR_HEADER || r->state == HR_TRAILER) {
				r->head_bytes += take;
				if (r->head_bytes > HTTP_RESP_HEAD_MAX) {
					fail(r, "header larger than 64 KB");
					return i;
				}
			} else if (r->line_len > 4096) {
				fail(r, "chunk size line too long");
				return i;
			}
			if (lf) {
				/* A CR held back from the previous piece ended this line. */
				r->line_cr = false;
				line_done(r);
			}
			break;
		}
		}
	}
	return i;
}

bool http_resp_eof(struct http_resp *r)
{
	if (r->state == HR_BODY_EOF) {
		r->state = HR_DONE;
		return true;
	}
	return r->state == HR_DONE;
}
