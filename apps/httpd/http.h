/* SPDX-License-Identifier: MIT */
/*
 * http.h - HTTP/1.1 and 1.0 request parsing and the small pieces of HTTP a
 * static file server needs (RFC 9110, RFC 9112): request line and header
 * fields with strict framing, target percent-decoding and path
 * normalisation, single byte ranges, HTTP dates, entity tags, media types.
 *
 * Pure functions over caller buffers: no allocation, no I/O, no clock (the
 * caller passes times in). Used by usnet-httpd; knows nothing of usnet.
 */
#ifndef USNET_HTTP_H
#define USNET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER, /* a syntactically valid method usnet-httpd does not allow (405) */
};

struct http_limits {
	size_t max_header_bytes;  /* request line + fields, incl. CRLFs (431 beyond; 414 if the line alone) */
	size_t max_target_bytes;  /* request-target length (414 beyond) */
	unsigned max_fields;      /* header field lines (431 beyond) */
	uint64_t max_body_bytes;  /* Content-Length allowed on GET/HEAD (413 beyond) */
};

#define HTTP_PATH_MAX 4096

enum http_conn_opt {
	HTTP_CONN_DEFAULT = 0,
	HTTP_CONN_CLOSE = 1,      /* "Connection: close" */
	HTTP_CONN_KEEP_ALIVE = 2, /* "Connection: keep-alive" */
};

struct http_range {
	bool present;       /* a Range header with the "bytes" unit */
	bool multiple;      /* more than one range asked: served as 200 (RFC 9110 §14.2 allows ignoring) */
	bool suffix;        /* "-N": the last N bytes */
	bool open_end;      /* "N-": from N to the end */
	uint64_t first, last; /* as given (last valid unless open_end; first unused for suffix) */
	uint64_t suffix_len;
	bool invalid;       /* syntactically bad: the header is ignored (RFC 9110 §14.2) */
};

struct http_request {
	enum http_method method;
	char method_str[16];      /* as sent (for logs and 405) */
	int version_minor;        /* 0 or 1 (HTTP/1.x only) */
	const char *target;       /* raw request-target, in the caller's buffer */
	size_t target_len;
	char path[HTTP_PATH_MAX]; /* decoded, normalised absolute path ("/a/b/"), NUL-terminated; "*" for OPTIONS * and CONNECT */
	bool has_query;
	bool host_present;
	int host_count;           /* Host fields seen (RFC 9112 §3.2: exactly one in 1.1) */
	enum http_conn_opt conn;
	bool keep_alive;          /* the connection persists after this response */
	bool has_content_length;
	uint64_t content_length;  /* body bytes that follow the header block */
	bool has_transfer_encoding;
	bool te_chunked_only;     /* Transfer-Encoding is exactly "chunked" */
	char if_none_match[256];  /* raw value, "" if absent */
	bool has_if_modified_since;
	time_t if_modified_since; /* parsed; ignored if unparseable (RFC 9110 §13.1.3) */
	struct http_range range;
	bool has_if_range;        /* If-Range present: usnet-httpd ignores Range unless it matches */
	char if_range[256];
	char user_agent[256];     /* for the access log, "" if absent */
	char referer[256];
};

/* Parses one request's header block from buf[0..len).
 * Returns the header block length (> 0, through the final CRLFCRLF) when it
 * is complete and valid; 0 when more bytes are needed (and none of the
 * limits is exceeded yet); or the negative HTTP status to answer with:
 *   -400  malformed request line or field, bad or missing Host in 1.1,
 *         conflicting or invalid Content-Length, both Content-Length and
 *         Transfer-Encoding, a field with whitespace before the colon,
 *         obs-fold, bare CR, NUL anywhere, a target that is not origin-form
 *         (absolute-form with a host is accepted and reduced to its path),
 *         bad percent-encoding, an encoded NUL or slash ("%00", "%2F")
 *         in the path, a path escaping the root with "..";
 *   -413  Content-Length above max_body_bytes;
 *   -414  request-target longer than max_target_bytes;
 *   -431  header block or field count above the limits;
 *   -501  a Transfer-Encoding other than exactly "chunked" (a chunked body
 *         is framed by the caller: te_chunked_only);
 *   -505  an HTTP version other than 1.0 or 1.1 (HTTP/2 preface included).
 * Empty lines before the request line are skipped (RFC 9112 §2.2). Method
 * tokens are case-sensitive (RFC 9110 §9.1). Field names are
 * case-insensitive; values are trimmed of optional whitespace.
 * Clarifications:
 *  - lim may be NULL: 16384 header bytes, 8192 target bytes, 100 fields,
 *    no body (max_body_bytes 0).
 *  - A bare LF is accepted wherever a CRLF is due, "\n\n" ending a block
 *    as "\r\n\r\n" does (RFC 9112 §2.2 MAY); a CR not followed by LF is
 *    400. Skipped empty lines count against max_header_bytes.
 *  - The limits are checked on the bytes at hand: once len exceeds
 *    max_header_bytes without a complete block the answer is -431 (-414
 *    while still in the request line), whatever follows; the same for a
 *    target longer than max_target_bytes or the (max_fields + 1)th field.
 *    A request exactly max_header_bytes long is accepted.
 *  - -501 also for a method longer than 15 bytes (RFC 9112 §3).
 *  - "HTTP/1.2" to "HTTP/1.9" are processed as 1.1 (RFC 9110 §2.5);
 *    version_minor is then 1. Other versions get -505.
 *  - asterisk-form ("OPTIONS *") and CONNECT's authority-form give method
 *    HTTP_OTHER and path "*"; "*" with another method, authority-form
 *    without CONNECT, or CONNECT with another form are 400. Absolute-form
 *    takes the http and https schemes; its host must be valid and carry
 *    no userinfo. Host is still required in 1.1 with absolute-form.
 *  - A '#' or a byte outside 0x21-0x7e in the target is 400; a backslash
 *    is an ordinary path character.
 *  - Content-Length may be a list of equal values ("5, 5"), in one field
 *    or several; differing values are 400 (RFC 9112 §6.3).
 *  - conn is HTTP_CONN_CLOSE if any Connection field lists "close",
 *    else HTTP_CONN_KEEP_ALIVE if one lists "keep-alive"; a Connection
 *    value that is not a token list is 400.
 *  - Repeated If-None-Match fields are joined with ", "; a value that does
 *    not fit is dropped whole (""). A repeated or overlong If-Range leaves
 *    has_if_range set and if_range "" (matches nothing). A repeated Range
 *    is invalid; a repeated If-Modified-Since is ignored. User-Agent and
 *    Referer are truncated to fit.
 *  - On an error, the fields of *ret are unspecified. */
int http_parse_request(const char *buf, size_t len, const struct http_limits *lim, struct http_request *ret);

/* Decodes %XX and normalises an origin-form path (removing "." segments,
 * resolving ".." without going above "/", collapsing "//"), writing at most
 * cap bytes including the NUL. Returns 0 or -400 (bad encoding, %00, %2F,
 * escape above the root, not starting with "/"), -414 (too long). */
int http_normalize_path(const char *raw, size_t len, char *out, size_t cap);

/* Parses a Range field value (RFC 9110 §14.1.1) into *ret, as
 * http_parse_request() does: present only for the "bytes" unit (compared
 * case-insensitively); multiple when more than one range-spec; invalid
 * (and ignored) when the range-set is malformed or a last-pos is below
 * its first-pos. Numbers beyond 64 bits saturate at UINT64_MAX. Returns 0
 * for a usable range set, -1 otherwise (unit not bytes, or invalid). */
int http_range_parse(const char *s, size_t len, struct http_range *ret);

/* Resolves a parsed range against a representation of `size` bytes
 * (RFC 9110 §14.1.2): 1 and [*ret_first, *ret_last] when satisfiable,
 * 0 when the whole representation should be sent (no or ignored range),
 * -416 when unsatisfiable. */
int http_range_resolve(const struct http_range *r, uint64_t size, uint64_t *ret_first, uint64_t *ret_last);

/* IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7);
 * buf must hold 30 bytes. Returns buf. */
const char *http_date_format(time_t t, char *buf, size_t cap);
/* Parses the three formats of RFC 9110 §5.6.7 (IMF-fixdate, RFC 850,
 * asctime); 0 and *ret, or -1. Exact: no surrounding whitespace, case
 * sensitive. RFC 850 two-digit years 70-99 are 19xx, 00-69 20xx (no clock
 * here to apply the RFC's 50-year rule). */
int http_date_parse(const char *s, size_t len, time_t *ret);

/* A strong entity tag for a file: "\"<size hex>-<mtime ns hex>\""
 * (RFC 9110 §8.8.3), lower-case hex without leading zeros; at most 36
 * bytes with the NUL ("" if cap is too small). */
const char *http_etag_format(uint64_t size, int64_t mtime_ns, char *buf, size_t cap);
/* RFC 9110 §13.1.2: does If-None-Match `value` match `etag` ("*" matches
 * any; weak comparison). A malformed list matches nothing from the first
 * malformed element on. */
bool http_etag_match_list(const char *value, const char *etag);

/* Media types from a mime.types file (the media-types package's
 * /etc/mime.types): a fixed table filled at start; lookups by extension. */
struct http_mime_table;
/* Loads the file; NULL if it cannot be read (the built-in defaults serve). */
struct http_mime_table *http_mime_load(const char *path);
void http_mime_free(struct http_mime_table *t);
/* The type for a file name ("index.html" -> "text/html"), by its last
 * extension, case-insensitively; "application/octet-stream" when unknown.
 * t may be NULL: a small built-in table then (html, css, js, json, png,
 * jpg, gif, svg, txt, ico, wasm, pdf, xml), which also answers for an
 * extension a loaded file lacks. A dot file (".htaccess") has no
 * extension. When a file lists an extension twice, the first wins. */
const char *http_mime_lookup(const struct http_mime_table *t, const char *name);

#endif
