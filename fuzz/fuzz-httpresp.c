// SPDX-License-Identifier: MIT
/*
 * fuzz-httpresp.c - libFuzzer target for usnet-load's incremental HTTP/1.x
 * response parser (apps/load/http_resp.h; RFC 9112 §4-§7).
 *
 * Input: one byte that picks how the stream is cut, then the bytes a
 * server sends on one connection (zero or more responses back to back).
 * The stream is fed the way usnet-load's conn_read() does (feed, and on
 * HR_DONE take the response, http_resp_init() and feed the rest; stop at
 * HR_ERROR; http_resp_eof() at the end), three times: in one piece, byte
 * by byte, and in pieces whose sizes come from the first byte. (usnet-load
 * only sends GET, and the parser has no HEAD mode: a body is framed by
 * the response alone.) Checked, with abort() on failure:
 *  - after every call: it used at most what it was given, and all of it
 *    unless it stopped at HR_DONE or HR_ERROR; r->bytes grew by exactly
 *    what it used and r->body_bytes by at most that (byte by byte: by one
 *    exactly when the byte was fed in a body state, and a complete
 *    response's body bytes are the sum of the chunk sizes or the
 *    Content-Length it announced on the way); a finished or failed
 *    response takes nothing more; the state only moves forward (status
 *    line, header, one kind of body, trailer, done), but for the header
 *    of an interim 1xx going back to a status line and the chunk loop;
 *    a Content-Length body's remaining plus its body bytes is the length;
 *    the header stays within HTTP_RESP_HEAD_MAX;
 *  - a complete response has a final status (200..999), no body for 204
 *    and 304, exactly Content-Length body bytes when that framed it, and
 *    at least a status line and an empty line beside its body;
 *  - http_resp_eof() completes exactly a body read until the close;
 *  - how the stream is cut changes nothing: the same responses (status,
 *    body bytes, bytes, close, chunked), then the same end (error and
 *    its reason, or the same bytes used);
 *  - a stream that ends between responses, fed twice back to back, gives
 *    its responses twice (http_resp_init() forgets everything).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
	do { \
		if (!(c)) \
			abort(); \
	} while (0)

#define MAX_RESP 256

struct resp_rec {
	int status;
	bool close, chunked;
	uint64_t body_bytes, bytes;
};

struct run {
	struct resp_rec resp[MAX_RESP];
	size_t nresp;          /* responses complete (all of them, even past MAX_RESP) */
	enum http_resp_state end; /* state at the end, before and after EOF */
	enum http_resp_state end_eof;
	const char *error;
	size_t used;           /* stream bytes used in all */
	uint64_t pending;      /* r->bytes of the unfinished response at the end */
	bool eof_done;         /* http_resp_eof() completed a response */
};

static bool is_body(enum http_resp_state s)
{
	return s == HR_BODY_LEN || s == HR_BODY_EOF || s == HR_CHUNK_DATA;
}

static bool is_chunk(enum http_resp_state s)
{
	return s == HR_CHUNK_SIZE || s == HR_CHUNK_DATA || s == HR_CHUNK_CRLF || s == HR_TRAILER;
}

/* May the parser go from a to b within one call? */
static bool may_move(enum http_resp_state a, enum http_resp_state b)
{
	if (b == HR_ERROR || a == b)
		return true;
	switch (a) {
	case HR_STATUS:
	case HR_HEADER: /* back to HR_STATUS after an interim 1xx */
		return true;
	case HR_BODY_LEN:
		return b == HR_DONE;
	case HR_BODY_EOF:
		return false; /* only http_resp_eof() ends it */
	case HR_CHUNK_SIZE:
	case HR_CHUNK_DATA:
	case HR_CHUNK_CRLF:
	case HR_TRAILER:
		return is_chunk(b) || b == HR_DONE;
	case HR_DONE:
	case HR_ERROR:
		return false;
	}
	return false;
}

/* What is always true of a parser at rest between calls. */
static void check_state(const struct http_resp *r)
{
	CHECK(r->state >= HR_STATUS && r->state <= HR_ERROR);
	CHECK((r->state == HR_ERROR) == (r->error != NULL));
	CHECK(r->body_bytes <= r->bytes);
	CHECK(r->version_minor >= 0 && r->version_minor <= 9);
	if (r->state != HR_ERROR)
		CHECK(r->head_bytes <= HTTP_RESP_HEAD_MAX);
	if (r->state == HR_STATUS || r->state == HR_HEADER)
		CHECK(r->body_bytes == 0);
	if (r->state == HR_HEADER)
		CHECK(r->status >= 100 && r->status <= 999);
	if (is_body(r->state) || is_chunk(r->state) || r->state == HR_DONE) {
		/* past a final response's header */
		CHECK(r->status >= 200 && r->status <= 999);
		CHECK(r->bytes >= r->body_bytes + 14); /* "HTTP/1.1 200\n\n" */
	}
	if (r->state == HR_BODY_LEN) {
		CHECK(r->have_len && !r->chunked && r->remaining > 0);
		CHECK(r->body_bytes + r->remaining == r->content_length);
	}
	if (r->state == HR_CHUNK_DATA)
		CHECK(r->remaining > 0);
	if (is_chunk(r->state))
		CHECK(r->chunked);
	if (r->state == HR_BODY_EOF)
		CHECK(r->close);
	if (r->state == HR_DONE && (r->status == 204 || r->status == 304))
		CHECK(r->body_bytes == 0);
}

/* Fed byte by byte, the sizes the parser announces as it enters each
 * chunk or Content-Length body, summed for the response. */
static uint64_t announced;
static bool bytewise;

/* One call, checked against the parser before it. */
static size_t feed_checked(struct http_resp *r, const uint8_t *p, size_t n)
{
	struct http_resp before;
	memcpy(&before, r, sizeof(before)); /* padding too, for the memcmp below */
	size_t used = http_resp_feed(r, p, n);
	CHECK(used <= n);
	CHECK(used == n || r->state == HR_DONE || r->state == HR_ERROR);
	CHECK(r->bytes == before.bytes + used);
	CHECK(r->body_bytes >= before.body_bytes);
	CHECK(r->body_bytes - before.body_bytes <= used);
	if (before.state == HR_DONE || before.state == HR_ERROR) {
		CHECK(used == 0 && r->state == before.state);
		CHECK(memcmp(r, &before, sizeof(*r)) == 0);
	}
	if (before.state == HR_BODY_EOF)
		CHECK(used == n && r->body_bytes - before.body_bytes == n && r->state == HR_BODY_EOF);
	CHECK(may_move(before.state, r->state));
	if (n == 1 && used == 1)
		CHECK(r->body_bytes - before.body_bytes == (is_body(before.state) ? 1u : 0u));
	if (bytewise && used == 1) {
		if (before.state != HR_CHUNK_DATA && r->state == HR_CHUNK_DATA)
			announced += r->remaining;
		if (before.state != HR_BODY_LEN && r->state == HR_BODY_LEN) {
			CHECK(r->remaining == r->content_length);
			announced += r->remaining;
		}
		/* the body is what was announced, no more, no less */
		if (r->state == HR_DONE && before.state != HR_DONE)
			CHECK(r->body_bytes == announced);
		if (r->state == HR_STATUS && before.state != HR_STATUS)
			CHECK(announced == 0); /* after an interim 1xx */
	}
	/* a response completed by the bytes (not by the close) and framed by
	 * Content-Length has exactly that many */
	if (r->state == HR_DONE && before.state != HR_DONE && !r->chunked && r->status != 204 &&
	    r->status != 304)
		CHECK(r->have_len && r->body_bytes == r->content_length);
	check_state(r);
	return used;
}

static void take(struct run *run, const struct http_resp *r)
{
	if (run->nresp < MAX_RESP)
		run->resp[run->nresp] = (struct resp_rec){
			.status = r->status,
			.close = r->close,
			.chunked = r->chunked,
			.body_bytes = r->body_bytes,
			.bytes = r->bytes,
		};
	run->nresp++;
}

/* The stream fed as usnet-load's conn_read() does, cut in pieces of
 * 1 + (next % maxp) bytes (maxp 0: one piece). */
static void run_stream(const uint8_t *s, size_t size, uint32_t seed, uint32_t maxp, struct run *run)
{
	struct http_resp r;
	size_t off = 0;
	uint64_t resp_start = 0;
	memset(run, 0, sizeof(*run));
	announced = 0;
	bytewise = maxp == 1;
	http_resp_init(&r);
	check_state(&r);
	CHECK(http_resp_idle(&r));
	while (off < size && r.state != HR_ERROR) {
		size_t piece = size - off;
		if (maxp) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			if (piece > 1 + seed % maxp)
				piece = 1 + seed % maxp;
		}
		const uint8_t *p = s + off;
		size_t len = piece;
		while (len > 0) {
			size_t used = feed_checked(&r, p, len);
			p += used;
			len -= used;
			if (r.state == HR_DONE) {
				announced = 0;
				CHECK(resp_start + r.bytes == off + piece - len);
				resp_start += r.bytes;
				take(run, &r);
				http_resp_init(&r);
				CHECK(http_resp_idle(&r));
			} else if (r.state == HR_ERROR) {
				break;
			}
		}
		off += piece - len;
		if (r.state == HR_ERROR)
			break;
	}
	run->used = off;
	run->end = r.state;
	run->error = r.error;
	run->pending = r.bytes;
	CHECK(r.state == HR_ERROR || off == size);
	if (r.state != HR_ERROR)
		CHECK(resp_start + r.bytes == size);
	/* the connection closes */
	bool idle = http_resp_idle(&r);
	enum http_resp_state was = r.state;
	bool done = http_resp_eof(&r);
	CHECK(done == (was == HR_BODY_EOF || was == HR_DONE));
	if (done) {
		CHECK(r.state == HR_DONE);
		CHECK(r.status >= 200 && r.body_bytes <= r.bytes);
	} else {
		CHECK(r.state == was);
		CHECK(idle == (r.bytes == 0 && was == HR_STATUS));
	}
	/* a second EOF says the same */
	CHECK(http_resp_eof(&r) == done);
	run->eof_done = done;
	run->end_eof = r.state;
}

static bool same_resp(const struct resp_rec *x, const struct resp_rec *y)
{
	return x->status == y->status && x->close == y->close && x->chunked == y->chunked &&
	       x->body_bytes == y->body_bytes && x->bytes == y->bytes;
}

static void same_run(const struct run *a, const struct run *b)
{
	CHECK(a->nresp == b->nresp);
	size_t n = a->nresp < MAX_RESP ? a->nresp : MAX_RESP;
	for (size_t i = 0; i < n; i++)
		CHECK(same_resp(&a->resp[i], &b->resp[i]));
	CHECK(a->end == b->end && a->end_eof == b->end_eof && a->eof_done == b->eof_done);
	if (a->end == HR_ERROR) {
		CHECK(b->error && strcmp(a->error, b->error) == 0);
	} else {
		CHECK(a->used == b->used && a->pending == b->pending);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t maxps[8] = { 1, 2, 3, 5, 8, 17, 64, 300 };
	static struct run whole, onebyone, cut, twice;

	if (size < 1 || size > 256 * 1024)
		return 0;
	const uint8_t *s = data + 1;
	size_t n = size - 1;

	run_stream(s, n, 0, 0, &whole);
	run_stream(s, n, 1, 1, &onebyone);
	run_stream(s, n, 0x9e3779b9u ^ data[0], maxps[data[0] & 7], &cut);
	same_run(&whole, &onebyone);
	same_run(&whole, &cut);

	/* ended between responses: the same stream again right after */
	if (whole.end == HR_STATUS && whole.pending == 0 && whole.nresp > 0 && whole.nresp <= MAX_RESP / 2) {
		uint8_t *dbl = malloc(2 * n);
		CHECK(dbl != NULL);
		memcpy(dbl, s, n);
		memcpy(dbl + n, s, n);
		run_stream(dbl, 2 * n, 7, maxps[(data[0] >> 3) & 7], &twice);
		CHECK(twice.nresp == 2 * whole.nresp && twice.end == HR_STATUS && twice.pending == 0);
		for (size_t i = 0; i < whole.nresp; i++) {
			CHECK(same_resp(&twice.resp[i], &whole.resp[i]));
			CHECK(same_resp(&twice.resp[whole.nresp + i], &whole.resp[i]));
		}
		free(dbl);
	}
	return 0;
}
