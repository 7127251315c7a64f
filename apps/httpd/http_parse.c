// SPDX-License-Identifier: MIT
/*
 * http_parse.c - the HTTP/1.x request parser of usnet-httpd: request line,
 * header fields, request-target forms, percent-decoding and path
 * normalisation, and the Range header with its resolution against a file
 * size.
 *
 * Implements RFC 9112 §2.2 (message parsing, leading empty lines, bare CR,
 * bare LF), §2.3 (HTTP-version), §3 (request line), §3.2 (request-target
 * forms and Host), §5.1 and §5.2 (field syntax, obs-fold), §6.1 and §6.3
 * (Transfer-Encoding, Content-Length framing), §9.3 (persistence); RFC 9110
 * §5.6 (tokens and lists), §7.6.1 (Connection), §8.6 (Content-Length),
 * §14.1 and §14.2 (byte ranges).
 *
 * It is not a general HTTP parser: it takes requests only, no bodies (a
 * Transfer-Encoding is refused, a Content-Length is reported for the caller
 * to skip), no trailers, no HTTP/0.9, no HTTP/2. It keeps no state between
 * calls: each call rescans the buffer from its start, which costs at most
 * max_header_bytes per call and lets the limits be checked on every call,
 * so a client trickling an endless header is refused as soon as it crosses
 * a limit. No allocation, no I/O, no clock.
 */
#include <errno.h>
#include <string.h>

#include "http.h"

#define HTTP_DEFAULT_MAX_HEADER 16384
#define HTTP_DEFAULT_MAX_TARGET 8192
#define HTTP_DEFAULT_MAX_FIELDS 100
#define HTTP_DEFAULT_MAX_BODY 0

/* What a scanning step can say besides an offset: more bytes needed. */
#define NEED_MORE 0

/* RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
#define T_(c) [(unsigned char)(c)] = true
static const bool tchar_table[256] = {
	T_('!'), T_('#'), T_('$'), T_('%'), T_('&'), T_('\''), T_('*'), T_('+'), T_('-'), T_('.'), T_('^'),
	T_('_'), T_('`'), T_('|'), T_('~'),
	T_('0'), T_('1'), T_('2'), T_('3'), T_('4'), T_('5'), T_('6'), T_('7'), T_('8'), T_('9'),
	T_('a'), T_('b'), T_('c'), T_('d'), T_('e'), T_('f'), T_('g'), T_('h'), T_('i'), T_('j'), T_('k'),
	T_('l'), T_('m'), T_('n'), T_('o'), T_('p'), T_('q'), T_('r'), T_('s'), T_('t'), T_('u'), T_('v'),
	T_('w'), T_('x'), T_('y'), T_('z'),
	T_('A'), T_('B'), T_('C'), T_('D'), T_('E'), T_('F'), T_('G'), T_('H'), T_('I'), T_('J'), T_('K'),
	T_('L'), T_('M'), T_('N'), T_('O'), T_('P'), T_('Q'), T_('R'), T_('S'), T_('T'), T_('U'), T_('V'),
	T_('W'), T_('X'), T_('Y'), T_('Z'),
};
#undef T_

static inline bool is_tchar(unsigned char c)
{
	return tchar_table[c];
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 'a' - 'A') : c;
}

static bool ci_equal(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

static bool is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 1*DIGIT into *ret, saturating at UINT64_MAX; false on no digits. */
static bool parse_u64_sat(const char *s, size_t len, size_t *pos, uint64_t *ret)
{
	size_t i = *pos;
	uint64_t v = 0;

	if (i >= len || !is_digit((unsigned char)s[i]))
		return false;
	for (; i < len && is_digit((unsigned char)s[i]); i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + d;
	}
	*pos = i;
	*ret = v;
	return true;
}

/*
 * Path normalisation: decode each segment into out, then drop "." and
 * resolve ".." on the decoded segment, so "%2e%2e" is a ".." like any
 * other (RFC 3986 §5.2.4 remove_dot_segments on the decoded path; this is
 * safe only because an encoded "/" is refused, so decoding cannot create a
 * segment boundary the client did not write).
 */
int http_normalize_path(const char *raw, size_t len, char *out, size_t cap)
{
	size_t o = 1, i = 1;

	if (len == 0 || raw[0] != '/')
		return -400;
	if (cap < 2)
		return -414;
	out[0] = '/';
	while (i <= len) {
		size_t seg = o; /* out[seg - 1] == '/' */
		bool last;

		while (i < len && raw[i] != '/') {
			unsigned char c = (unsigned char)raw[i];

			if (c == '%') {
				int hi, lo;

				if (len - i < 3)
					return -400;
				hi = hex_val((unsigned char)raw[i + 1]);
				lo = hex_val((unsigned char)raw[i + 2]);
				if (hi < 0 || lo < 0)
					return -400;
				c = (unsigned char)(hi << 4 | lo);
				/* an encoded NUL would cut the path short at the
				 * file system; an encoded slash would make a
				 * segment boundary the normalisation cannot see */
				if (c == 0 || c == '/')
					return -400;
				i += 3;
			} else {
				if (c == 0)
					return -400;
				i++;
			}
			if (o + 1 >= cap)
				return -414;
			out[o++] = (char)c;
		}
		last = i >= len;
		i++; /* past the '/' (or past the end) */
		if (o == seg) {
			/* empty segment: "//" collapses, a trailing "/" stays */
			continue;
		}
		if (o - seg == 1 && out[seg] == '.') {
			o = seg;
			continue;
		}
		if (o - seg == 2 && out[seg] == '.' && out[seg + 1] == '.') {
			if (seg == 1)
				return -400; /* above the root */
			o = seg - 1;
			while (out[o - 1] != '/')
				o--;
			continue;
		}
		if (!last) {
			if (o + 1 >= cap)
				return -414;
			out[o++] = '/';
		}
	}
	out[o] = '\0';
	return 0;
}

/*
 * Range: RFC 9110 §14.1.1
 *   ranges-specifier = range-unit "=" range-set
 *   range-set        = 1#range-spec
 *   int-range        = first-pos "-" [ last-pos ]
 *   suffix-range     = "-" suffix-length
 * Numbers too large for 64 bits saturate: a first-pos that large is past
 * any file (416), a last-pos or suffix-length that large means "to the
 * end", which is what the RFC makes of them.
 */
int http_range_parse(const char *s, size_t len, struct http_range *ret)
{
	size_t i = 6;
	unsigned n = 0;

	memset(ret, 0, sizeof(*ret));
	/* RFC 9110 §14.1: range units are compared case-insensitively; an
	 * unknown unit is ignored (RFC 9110 §14.2). */
	if (len < 6 || !ci_equal(s, 5, "bytes") || s[5] != '=')
		return -1;
	ret->present = true;
	for (;;) {
		uint64_t a = 0, b = 0;
		bool suffix = false, open_end = false;

		/* RFC 9110 §5.6.1: empty list elements are accepted */
		while (i < len && (is_ows((unsigned char)s[i]) || s[i] == ','))
			i++;
		if (i >= len)
			break;
		if (s[i] == '-') {
			i++;
			if (!parse_u64_sat(s, len, &i, &b))
				goto invalid;
			suffix = true;
		} else {
			if (!parse_u64_sat(s, len, &i, &a))
				goto invalid;
			if (i >= len || s[i] != '-')
				goto invalid;
			i++;
			if (i < len && is_digit((unsigned char)s[i])) {
				parse_u64_sat(s, len, &i, &b);
				/* RFC 9110 §14.1.1: "if the last-pos value is
				 * present, it must be greater than or equal to
				 * the first-pos in that range-spec" */
				if (b < a)
					goto invalid;
			} else {
				open_end = true;
			}
		}
		while (i < len && is_ows((unsigned char)s[i]))
			i++;
		if (i < len && s[i] != ',')
			goto invalid;
		if (n++ == 0) {
			ret->suffix = suffix;
			ret->open_end = open_end;
			if (suffix) {
				ret->suffix_len = b;
			} else {
				ret->first = a;
				ret->last = b;
			}
		} else {
			ret->multiple = true;
		}
	}
	if (n == 0)
		goto invalid;
	return 0;
invalid:
	ret->invalid = true;
	return -1;
}

int http_range_resolve(const struct http_range *r, uint64_t size, uint64_t *ret_first, uint64_t *ret_last)
{
	/* RFC 9110 §14.2: a server MAY ignore Range; usnet-httpd ignores an
	 * invalid one (it must) and a multi-range one (it may: it does not
	 * generate multipart/byteranges). */
	if (!r->present || r->invalid || r->multiple)
		return 0;
	if (r->suffix) {
		/* RFC 9110 §14.1.1: a suffix-range with suffix-length 0 is
		 * not satisfiable; nor is any range of an empty file */
		if (r->suffix_len == 0 || size == 0)
			return -416;
		/* RFC 9110 §14.1.2: "If the selected representation is
		 * shorter than the specified suffix-length, the entire
		 * representation is used." */
		*ret_first = r->suffix_len >= size ? 0 : size - r->suffix_len;
		*ret_last = size - 1;
		return 1;
	}
	/* RFC 9110 §14.1.1: satisfiable only if first-pos is less than the
	 * current length */
	if (r->first >= size)
		return -416;
	*ret_first = r->first;
	/* RFC 9110 §14.1.2: "If the last-pos value is absent, or if the
	 * value is greater than or equal to the current length of the
	 * representation data, the byte range is interpreted as the
	 * remainder of the representation" */
	*ret_last = (r->open_end || r->last >= size) ? size - 1 : r->last;
	return 1;
}

/* RFC 9112 §3.2 host = uri-host [ ":" port ] (RFC 3986 §3.2.2):
 * IP-literal in brackets, or reg-name / IPv4address characters. An empty
 * host is valid in a Host field (RFC 9112 §3.2) but not in a target
 * (RFC 9110 §4.2.1). need_port: authority-form, where the port is
 * required (RFC 9112 §3.2.3). */
static bool valid_authority(const char *s, size_t len, bool allow_empty, bool need_port)
{
	size_t i = 0;

	if (len > 0 && s[0] == '[') {
		for (i = 1; i < len && s[i] != ']'; i++) {
			unsigned char c = (unsigned char)s[i];
			if (hex_val(c) < 0 && c != ':' && c != '.' && c != 'v' && c != 'V')
				return false;
		}
		if (i >= len || i == 1)
			return false;
		i++;
	} else {
		for (; i < len && s[i] != ':'; i++) {
			unsigned char c = (unsigned char)s[i];
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
				continue;
			if (c == '%') {
				if (i + 2 >= len || hex_val((unsigned char)s[i + 1]) < 0 ||
				    hex_val((unsigned char)s[i + 2]) < 0)
					return false;
				continue;
			}
			/* unreserved and sub-delims (RFC 3986 §2.2, §2.3) */
			if (!strchr("-._~!$&'()*+,;=", c))
				return false;
		}
		if (i == 0 && !allow_empty)
			return false;
	}
	if (i == len)
		return !need_port;
	if (s[i] != ':')
		return false;
	/* port = *DIGIT (RFC 3986 §3.2.3) */
	for (i++; i < len; i++)
		if (!is_digit((unsigned char)s[i]))
			return false;
	return true;
}

/* The request-target after the request line is complete (RFC 9112 §3.2). */
static int parse_target(struct http_request *r)
{
	const char *t = r->target;
	size_t len = r->target_len;
	size_t path_start, path_end;

	if (t[0] == '*') {
		/* RFC 9112 §3.2.4: asterisk-form "is only used for a
		 * server-wide OPTIONS request" */
		if (len != 1 || strcmp(r->method_str, "OPTIONS") != 0)
			return -400;
		strcpy(r->path, "*");
		return 0;
	}
	if (strcmp(r->method_str, "CONNECT") == 0) {
		/* RFC 9112 §3.2.3: authority-form "is only used for CONNECT
		 * requests", and CONNECT uses only it */
		if (!valid_authority(t, len, false, true))
			return -400;
		strcpy(r->path, "*");
		return 0;
	}
	if (t[0] == '/') {
		path_start = 0;
	} else {
		/* RFC 9112 §3.2.2: "A server MUST accept the absolute-form in
		 * requests"; only the http and https schemes name a resource
		 * of this server. */
		size_t i = 0, auth;

		while (i < len && t[i] != ':')
			i++;
		if (i == len || !(ci_equal(t, i, "http") || ci_equal(t, i, "https")))
			return -400;
		if (len - i < 3 || t[i + 1] != '/' || t[i + 2] != '/')
			return -400;
		auth = i + 3;
		for (i = auth; i < len && t[i] != '/' && t[i] != '?'; i++)
			/* RFC 9110 §4.2.4: userinfo in an http(s) URI is
			 * treated as an error */
			if (t[i] == '@')
				return -400;
		/* RFC 9110 §4.2.1: an empty host "MUST" be rejected */
		if (!valid_authority(t + auth, i - auth, false, false))
			return -400;
		path_start = i;
	}
	path_end = path_start;
	while (path_end < len && t[path_end] != '?')
		path_end++;
	r->has_query = path_end < len;
	if (path_end == path_start) {
		/* "http://host" or "http://host?q": RFC 9112 §3.2.1 makes an
		 * empty path "/" */
		strcpy(r->path, "/");
		return 0;
	}
	return http_normalize_path(t + path_start, path_end - path_start, r->path, sizeof(r->path));
}

/* Copies a value into a fixed field; too long sets it empty and returns
 * false, so a truncated tag can never be matched. */
static bool copy_value(char *dst, size_t cap, const char *v, size_t vlen)
{
	if (vlen >= cap) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return true;
}

/* Per-call scratch kept out of struct http_request. */
struct parse_state {
	int cl_count;
	bool range_seen, range_dup;
	bool ims_seen, ims_dup;
	bool inm_overflow;
	bool bad_host;
};

/* RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9110 §5.6.1 lets a list of
 * identical values ("42, 42") stand, from one field or several, and RFC
 * 9112 §6.3 makes differing values an unrecoverable framing error. */
static int field_content_length(struct http_request *r, struct parse_state *st, const char *v, size_t vlen)
{
	size_t i = 0;

	for (;;) {
		uint64_t x;
		size_t start = i;

		if (!parse_u64_sat(v, vlen, &i, &x))
			return -400;
		/* 20 digits and more may not fit: refuse rather than wrap */
		if (i - start > 19)
			return -400;
		if (st->cl_count++ > 0 && x != r->content_length)
			return -400;
		r->content_length = x;
		r->has_content_length = true;
		while (i < vlen && is_ows((unsigned char)v[i]))
			i++;
		if (i == vlen)
			return 0;
		if (v[i] != ',')
			return -400;
		i++;
		while (i < vlen && is_ows((unsigned char)v[i]))
			i++;
	}
}

/* RFC 9110 §7.6.1: Connection = #connection-option, case-insensitive
 * tokens; "close" and "keep-alive" matter here, others are ignored. */
static int field_connection(struct http_request *r, const char *v, size_t vlen)
{
	size_t i = 0;

	for (;;) {
		size_t start;

		/* RFC 9110 §5.6.1: empty elements and OWS around commas */
		while (i < vlen && (v[i] == ',' || is_ows((unsigned char)v[i])))
			i++;
		if (i == vlen)
			return 0;
		start = i;
		while (i < vlen && is_tchar((unsigned char)v[i]))
			i++;
		if (i == start)
			return -400;
		/* "close" wins over "keep-alive" whatever their order */
		if (ci_equal(v + start, i - start, "close"))
			r->conn = HTTP_CONN_CLOSE;
		else if (ci_equal(v + start, i - start, "keep-alive") && r->conn != HTTP_CONN_CLOSE)
			r->conn = HTTP_CONN_KEEP_ALIVE;
		while (i < vlen && is_ows((unsigned char)v[i]))
			i++;
		if (i < vlen && v[i] != ',')
			return -400;
	}
}

/* RFC 9112 §6.1: Transfer-Encoding = #transfer-coding; te_chunked_only
 * when the codings seen, over all fields, are exactly one "chunked". */
static void field_transfer_encoding(struct http_request *r, const char *v, size_t vlen)
{
	bool first = !r->has_transfer_encoding;

	r->has_transfer_encoding = true;
	r->te_chunked_only = first && ci_equal(v, vlen, "chunked");
}

static int field(struct http_request *r, struct parse_state *st, const char *name, size_t nlen, const char *v,
		 size_t vlen)
{
	switch (lower((unsigned char)name[0])) {
	case 'c':
		if (ci_equal(name, nlen, "content-length"))
			return field_content_length(r, st, v, vlen);
		if (ci_equal(name, nlen, "connection"))
			return field_connection(r, v, vlen);
		break;
	case 'h':
		if (ci_equal(name, nlen, "host")) {
			r->host_count++;
			r->host_present = true;
			/* RFC 9112 §3.2: a Host field with an invalid value
			 * gets 400 */
			if (!valid_authority(v, vlen, true, false))
				st->bad_host = true;
		}
		break;
	case 't':
		if (ci_equal(name, nlen, "transfer-encoding"))
			field_transfer_encoding(r, v, vlen);
		break;
	case 'i':
		if (ci_equal(name, nlen, "if-none-match")) {
			/* RFC 9110 §5.3: several fields are one list joined
			 * by commas.
			 * DEVIATION(RFC 9110 §13.1.2): a list too long for
			 * if_none_match[] is dropped whole rather than
			 * evaluated, because struct http_request holds fixed
			 * buffers; for GET and HEAD, the only methods served,
			 * that turns a possible 304 into a full 200, which is
			 * still a correct response. */
			size_t cur = strlen(r->if_none_match);

			if (st->inm_overflow)
				break;
			if (cur > 0 && cur + 2 + vlen < sizeof(r->if_none_match)) {
				memcpy(r->if_none_match + cur, ", ", 2);
				copy_value(r->if_none_match + cur + 2, sizeof(r->if_none_match) - cur - 2, v, vlen);
			} else if (cur > 0 || !copy_value(r->if_none_match, sizeof(r->if_none_match), v, vlen)) {
				r->if_none_match[0] = '\0';
				st->inm_overflow = true;
			}
		} else if (ci_equal(name, nlen, "if-modified-since")) {
			/* RFC 9110 §13.1.3: an invalid date, or a list of
			 * them, is ignored */
			if (st->ims_seen) {
				st->ims_dup = true;
				break;
			}
			st->ims_seen = true;
			r->has_if_modified_since = http_date_parse(v, vlen, &r->if_modified_since) == 0;
		} else if (ci_equal(name, nlen, "if-range")) {
			/* a duplicate or an overlong value is left empty,
			 * which matches nothing: the Range is then ignored */
			if (r->has_if_range)
				r->if_range[0] = '\0';
			else
				copy_value(r->if_range, sizeof(r->if_range), v, vlen);
			r->has_if_range = true;
		}
		break;
	case 'r':
		if (ci_equal(name, nlen, "range")) {
			if (st->range_seen)
				st->range_dup = true;
			else
				http_range_parse(v, vlen, &r->range);
			st->range_seen = true;
		} else if (ci_equal(name, nlen, "referer")) {
			size_t n = vlen < sizeof(r->referer) ? vlen : sizeof(r->referer) - 1;
			copy_value(r->referer, sizeof(r->referer), v, n);
		}
		break;
	case 'u':
		if (ci_equal(name, nlen, "user-agent")) {
			size_t n = vlen < sizeof(r->user_agent) ? vlen : sizeof(r->user_agent) - 1;
			copy_value(r->user_agent, sizeof(r->user_agent), v, n);
		}
		break;
	default:
		break;
	}
	return 0;
}

/* The checks that need the whole header block. */
static int finish(struct http_request *r, struct parse_state *st, const struct http_limits *lim)
{
	/* RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request)
	 * status code to any HTTP/1.1 request message that lacks a Host
	 * header field and to any request message that contains more than
	 * one Host header field line or a Host header field with an invalid
	 * field value." */
	if (st->bad_host || r->host_count > 1 || (r->version_minor == 1 && r->host_count == 0))
		return -400;
	/* RFC 9112 §6.1: a request with both "ought to be handled as an
	 * error"; §6.3: a server MAY reject it, and must then close. */
	if (r->has_transfer_encoding && r->has_content_length)
		return -400;
	/* RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty
	 * framing; "A server that receives a request message with a transfer
	 * coding it does not understand SHOULD respond with 501". Chunked
	 * alone is understood (RFC 9112 §7.1: MUST be able to parse it): the
	 * server reads and discards the body. */
	if (r->has_transfer_encoding && r->version_minor == 0)
		return -400;
	if (r->has_transfer_encoding && !r->te_chunked_only)
		return -501;
	if (r->has_content_length && r->content_length > lim->max_body_bytes)
		return -413;
	if (st->range_dup) {
		memset(&r->range, 0, sizeof(r->range));
		r->range.present = true;
		r->range.invalid = true;
	}
	if (st->ims_dup)
		r->has_if_modified_since = false;
	if (!r->has_if_modified_since)
		r->if_modified_since = 0;
	/* RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only
	 * with "keep-alive" (RFC 9112 §C.2.2) and never with "close". */
	if (r->conn == HTTP_CONN_CLOSE)
		r->keep_alive = false;
	else if (r->version_minor >= 1)
		r->keep_alive = true;
	else
		r->keep_alive = r->conn == HTTP_CONN_KEEP_ALIVE;
	return 0;
}

/* Where the scan was when it ran out of bytes: which limit it crossed. */
enum stage {
	STAGE_EMPTY_LINES,
	STAGE_REQUEST_LINE,
	STAGE_FIELDS,
};

/*
 * Line endings: RFC 9112 §2.2 "a recipient MAY recognize a single LF as a
 * line terminator and ignore any preceding CR". usnet-httpd does, in every
 * place a CRLF is due (request line, each field, the final empty line),
 * so "\n\n" ends a block like "\r\n\r\n". A CR not followed by LF is
 * refused (RFC 9112 §2.2: a bare CR MUST be treated as invalid or replaced
 * by SP; usnet-httpd refuses).
 */
static int scan(const char *buf, size_t n, const struct http_limits *lim, struct http_request *r,
		struct parse_state *st, enum stage *stage)
{
	size_t p = 0, start, mlen, ver;
	unsigned fields = 0;
	int ret;

	/* RFC 9112 §2.2: "a server that is expecting to receive and parse a
	 * request-line SHOULD ignore at least one empty line (CRLF) received
	 * prior to the request-line". Any number is skipped, but they count
	 * against max_header_bytes. */
	*stage = STAGE_EMPTY_LINES;
	for (;;) {
		if (p >= n)
			return NEED_MORE;
		if (buf[p] == '\n') {
			p++;
		} else if (buf[p] == '\r') {
			if (p + 1 >= n)
				return NEED_MORE;
			if (buf[p + 1] != '\n')
				return -400;
			p += 2;
		} else {
			break;
		}
	}

	/* RFC 9112 §3: request-line = method SP request-target SP
	 * HTTP-version; exactly one SP each (no lenient whitespace). */
	*stage = STAGE_REQUEST_LINE;
	start = p;
	for (;; p++) {
		if (p >= n)
			return NEED_MORE;
		if (buf[p] == ' ')
			break;
		if (!is_tchar((unsigned char)buf[p]))
			return -400;
		/* RFC 9112 §3: "A server that receives a method longer than
		 * any that it implements SHOULD respond with a 501" */
		if (p - start >= sizeof(r->method_str) - 1)
			return -501;
	}
	mlen = p - start;
	if (mlen == 0)
		return -400;
	memcpy(r->method_str, buf + start, mlen);
	r->method_str[mlen] = '\0';
	/* RFC 9110 §9.1: "The method token is case-sensitive" */
	if (strcmp(r->method_str, "GET") == 0)
		r->method = HTTP_GET;
	else if (strcmp(r->method_str, "HEAD") == 0)
		r->method = HTTP_HEAD;
	else
		r->method = HTTP_OTHER;
	p++;

	/* request-target: visible ASCII only. No fragment (RFC 9112 §3.2
	 * has none). A backslash is an ordinary character of a segment. */
	start = p;
	for (;; p++) {
		unsigned char c;

		if (p >= n)
			return NEED_MORE;
		c = (unsigned char)buf[p];
		if (c == ' ')
			break;
		if (c < 0x21 || c > 0x7e || c == '#')
			return -400;
		if (p - start >= lim->max_target_bytes)
			return -414;
	}
	if (p == start)
		return -400;
	r->target = buf + start;
	r->target_len = p - start;
	p++;

	/* RFC 9112 §2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT,
	 * case-sensitive */
	ver = p;
	for (size_t k = 0; k < 8; k++, p++) {
		unsigned char c;

		if (p >= n)
			return NEED_MORE;
		c = (unsigned char)buf[p];
		if (k == 5 || k == 7) {
			if (!is_digit(c))
				return -400;
		} else if (c != (unsigned char)"HTTP/x.x"[k]) {
			return -400;
		}
	}
	if (p >= n)
		return NEED_MORE;
	if (buf[p] == '\r') {
		if (p + 1 >= n)
			return NEED_MORE;
		if (buf[p + 1] != '\n')
			return -400;
		p++;
	} else if (buf[p] != '\n') {
		return -400;
	}
	p++;
	/* RFC 9110 §2.5: a 1.x with a minor above ours is processed as the
	 * highest minor we implement; any other major gets 505 (which is
	 * also how the HTTP/2 preface "PRI * HTTP/2.0" ends). */
	if (buf[ver + 5] != '1')
		return -505;
	r->version_minor = buf[ver + 7] == '0' ? 0 : 1;
	ret = parse_target(r);
	if (ret < 0)
		return ret;

	*stage = STAGE_FIELDS;
	for (;;) {
		size_t name, nlen, vstart, vend;

		if (p >= n)
			return NEED_MORE;
		if (buf[p] == '\r') {
			if (p + 1 >= n)
				return NEED_MORE;
			if (buf[p + 1] != '\n')
				return -400;
			p += 2;
			break;
		}
		if (buf[p] == '\n') {
			p++;
			break;
		}
		/* RFC 9112 §5.2: obs-fold in a request gets 400; RFC 9112
		 * §2.2: whitespace between the start-line and the first field
		 * is refused for the same reason. */
		if (is_ows((unsigned char)buf[p]))
			return -400;
		if (++fields > lim->max_fields)
			return -431;
		/* RFC 9112 §5.1: field-line = field-name ":" OWS field-value
		 * OWS; "No whitespace is allowed between the field name and
		 * colon"; a server MUST reject it with 400. */
		name = p;
		while (p < n && is_tchar((unsigned char)buf[p]))
			p++;
		if (p >= n)
			return NEED_MORE;
		if (buf[p] != ':' || p == name)
			return -400;
		nlen = p - name;
		p++;
		while (p < n && is_ows((unsigned char)buf[p]))
			p++;
		vstart = p;
		/* RFC 9110 §5.5: field-value chars are VCHAR, obs-text, SP,
		 * HTAB; NUL and the other CTLs are refused */
		for (;; p++) {
			unsigned char c;

			if (p >= n)
				return NEED_MORE;
			c = (unsigned char)buf[p];
			if (c == '\r' || c == '\n')
				break;
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return -400;
		}
		vend = p;
		while (vend > vstart && is_ows((unsigned char)buf[vend - 1]))
			vend--;
		if (buf[p] == '\r') {
			if (p + 1 >= n)
				return NEED_MORE;
			if (buf[p + 1] != '\n')
				return -400;
			p++;
		}
		p++;
		ret = field(r, st, buf + name, nlen, buf + vstart, vend - vstart);
		if (ret < 0)
			return ret;
	}
	ret = finish(r, st, lim);
	if (ret < 0)
		return ret;
	return (int)p;
}

int http_parse_request(const char *buf, size_t len, const struct http_limits *lim, struct http_request *ret)
{
	static const struct http_limits defaults = {
		.max_header_bytes = HTTP_DEFAULT_MAX_HEADER,
		.max_target_bytes = HTTP_DEFAULT_MAX_TARGET,
		.max_fields = HTTP_DEFAULT_MAX_FIELDS,
		.max_body_bytes = HTTP_DEFAULT_MAX_BODY,
	};
	struct parse_state st = { 0 };
	enum stage stage;
	size_t n;
	int r;

	if (!lim)
		lim = &defaults;
	memset(ret, 0, sizeof(*ret));
	/* Only the first max_header_bytes can belong to a valid block: scan
	 * those, so a block that is not done within them is refused at
	 * once, however much more the client has sent or will send. The
	 * return is an int: cap the scan there too. */
	n = len < lim->max_header_bytes ? len : lim->max_header_bytes;
	if (n > INT32_MAX)
		n = INT32_MAX;
	r = scan(buf, n, lim, ret, &st, &stage);
	if (r != NEED_MORE)
		return r;
	if (len > n)
		return stage == STAGE_REQUEST_LINE ? -414 : -431;
	return 0;
}
