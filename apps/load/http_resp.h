/* SPDX-License-Identifier: MIT */
/*
 * http_resp.h - an incremental HTTP/1.x response parser for usnet-load
 * (RFC 9112): fed bytes as they arrive, split anywhere, it finds where
 * each response ends. Status line, header fields (Content-Length,
 * Transfer-Encoding, Connection), and the message body framed as RFC 9112
 * §6.3 orders it: no body for 1xx, 204 and 304; chunked when the last
 * transfer coding is chunked (chunk extensions skipped, trailer fields
 * read and ignored); else Content-Length; else until the connection
 * closes. Interim 1xx responses (other than 101) are skipped. Bare LF is
 * accepted as a line end (RFC 9112 §2.2). Only what framing needs is
 * kept: the body is counted, never stored. No allocation, no I/O, no
 * usnet; not a validator of everything a server may send.
 */
#ifndef USNET_LOAD_HTTP_RESP_H
#define USNET_LOAD_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_RESP_LINE_MAX 512       /* a status line or a field we read */
#define HTTP_RESP_HEAD_MAX (64 * 1024) /* all header lines of one response */

enum http_resp_state {
	HR_STATUS,      /* before or in the status line */
	HR_HEADER,      /* in the header fields */
	HR_BODY_LEN,    /* Content-Length bytes to go */
	HR_BODY_EOF,    /* body until the connection closes */
	HR_CHUNK_SIZE,  /* chunk-size [; ext] CRLF */
	HR_CHUNK_DATA,  /* chunk data to go */
	HR_CHUNK_CRLF,  /* the CRLF after chunk data */
	HR_TRAILER,     /* trailer fields, up to the empty line */
	HR_DONE,        /* one response complete: the caller takes it */
	HR_ERROR,       /* malformed: the connection's framing is lost */
};

struct http_resp {
	enum http_resp_state state;
	int status;           /* 100..999 */
	int version_minor;    /* HTTP/1.x */
	bool close;           /* the server closes after this response */
	bool chunked;
	bool have_len;
	uint64_t content_length;
	uint64_t remaining;   /* of a body or chunk */
	uint64_t body_bytes;  /* payload bytes of this response */
	uint64_t bytes;       /* every byte of this response, header included */
	size_t head_bytes;    /* header bytes so far (against HTTP_RESP_HEAD_MAX) */
	const char *error;    /* why HR_ERROR, for a message */
	/* The line being read: only its first HTTP_RESP_LINE_MAX bytes are
	 * kept; line_len counts all of it. */
	size_t line_len;
	bool line_cr;
	char line[HTTP_RESP_LINE_MAX];
};

/* Ready for a response (state HR_STATUS). */
void http_resp_init(struct http_resp *r);

/* Parses up to n bytes; returns how many it used. It stops after the last
 * byte of a response with state HR_DONE (the rest belongs to the next
 * response: http_resp_init() and feed it again) or at a malformed byte
 * with HR_ERROR. */
size_t http_resp_feed(struct http_resp *r, const uint8_t *p, size_t n);

/* The connection ended (EOF). Returns true when that completes the
 * response (a body read until close: state becomes HR_DONE); false when a
 * response was cut short, or when none had begun (then r->bytes == 0). */
bool http_resp_eof(struct http_resp *r);

/* True before the first byte of a response. */
static inline bool http_resp_idle(const struct http_resp *r)
{
	return r->state == HR_STATUS && r->bytes == 0;
}

#endif
