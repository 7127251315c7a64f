// SPDX-License-Identifier: MIT
/*
 * usnet-httpd - a static web server on usnet (library OS mode): the server
 * links the stack and runs it in its own loop.
 *
 *   usnet-httpd [device options] --root DIR [--port 80] [--access-log FILE]
 *
 * HTTP/1.1 and 1.0 (RFC 9110, RFC 9112): GET and HEAD, persistent
 * connections and pipelining, conditional requests (If-None-Match,
 * If-Modified-Since), single byte ranges, index.html and the redirect to the
 * slash-terminated directory path, errors with a small body. File bodies go
 * out through usn_sendfile(), so the payload is never copied into a buffer
 * of the server's. Limits on header size and count, target length,
 * connections, requests per second per connection, and idle, header and
 * send timeouts keep slow or hostile clients from holding the server.
 * Uses only the public API of libusnet.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"
#include "alog.h"
#include "cache.h"
#include "http.h"

#define IN_BUF 16384            /* request header bytes held per connection */
#define HDR_BUF 1024
#define MAX_CONNS_DEFAULT 10000
#define IDLE_TIMEOUT_MS 60000   /* keep-alive idle: close silently */
#define HEADER_TIMEOUT_MS 10000 /* a started request must be complete by then: 408 */
#define SEND_TIMEOUT_MS 60000   /* a response that makes no progress: abort */
#define LINGER_MS 2000          /* reading and discarding after our FIN */
#define REQ_RATE_PER_SEC 20000  /* requests per connection per second (token bucket) */
#define REQ_BURST 40000
#define REQS_PER_TURN 32        /* pipelined requests answered before others get a turn */

/* Set by signals, read by every instance's loop: each SIGUSR1 or SIGHUP
 * bumps a generation, and each instance acts once per new value. */
static volatile sig_atomic_t stats_gen, reload_gen, want_quit;
static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		stats_gen++;
	else if (sig == SIGHUP)
		reload_gen++;
	else
		want_quit = 1;
}

enum cstate { C_READING, C_SENDING, C_LINGER };

/* Held by every open connection, idle ones included (168 bytes): fields
 * grouped by size so that there are no holes, lengths of the work area's
 * buffers in 32 or 16 bits, the peer kept as an address and formatted only
 * for the access log. */
struct hconn {
	struct hconn *prev, *next;
	struct hwork *w;          /* while active (conn_work), else NULL */
	const char *mem;          /* a small in-memory body (error pages) */
	struct fentry *fe;        /* file body */
	off_t file_off, file_end;
	uint64_t body_skip;       /* request body bytes still to discard */
	uint64_t ch_left;         /* bytes left in the current chunk */
	uint64_t ch_total;        /* body bytes so far (limit) */
	uint64_t last_ms;         /* last progress either way */
	uint64_t req_start_ms;    /* first byte of the request being read, 0 none */
	double tokens;
	uint64_t tokens_ms;
	uint64_t body_bytes;      /* for the access log (with status, peer and w's fields) */
	uint32_t in_len;          /* bytes in w->in (IN_BUF at most) */
	uint32_t mem_len, mem_off;
	uint16_t hdr_len, hdr_off; /* w->hdr (HDR_BUF at most) */
	int sd;
	struct usn_addr peer;     /* port 0: formatted as the address alone */
	uint16_t status;          /* of the response, for the access log */
	uint8_t st;               /* enum cstate */
	bool chunked;             /* the body being discarded is chunked */
	uint8_t ch_state;         /* CH_* */
	bool keep_alive_10;       /* HTTP/1.0 client asked for keep-alive */
	bool paused;              /* has more to do, waits for its turn */
	bool close_after;
};

/* What a connection needs only while it reads or answers a request: the
 * request bytes, the response header, the access log's fields. An idle
 * keep-alive connection gives it back (conn_rest) to its server's free
 * list, so thousands of idle connections hold none of it. */
struct hwork {
	struct hwork *next_free;
	char in[IN_BUF];
	char hdr[HDR_BUF];
	char reqline[256];
	char referer[128], agent[128];
};
#define WORK_FREE_MAX 256 /* work areas a server keeps for reuse */

struct server {
	int index, ninst; /* instance of --cores */
	sig_atomic_t stats_seen, reload_seen;
	struct usn_stack *s;
	int lsd;
	int root_fd;
	struct fcache *cache;
	struct http_mime_table *mime;
	struct http_limits lim;
	struct hconn *conns;
	unsigned nconns, max_conns;
	struct hwork *work_free; /* reusable work areas, WORK_FREE_MAX at most */
	unsigned nwork_free;
	unsigned npaused;
	struct alog *log;
	time_t log_sec;       /* the second log_when was formatted for */
	char log_when[40];
	char date[32];
	time_t date_t;
	/* "HTTP/1.1 200 OK", Server and Date, for the second date_t. */
	char pre200[96];
	size_t pre200_len;
	time_t pre200_t;
	/* counters */
	uint64_t req_by_class[6]; /* 1xx..5xx */
	uint64_t bytes_sent, conns_total, conns_refused, timeouts;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *date_now(struct server *sv)
{
	time_t t = time(NULL);
	if (t != sv->date_t) {
		sv->date_t = t;
		http_date_format(t, sv->date, sizeof(sv->date));
	}
	return sv->date;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* ---- access log: combined format, written by alog.c's thread ---- */

static void log_request(struct server *sv, struct hconn *c)
{
	if (!sv->log)
		return;
	time_t t = time(NULL);
	if (t != sv->log_sec) {
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(sv->log_when, sizeof(sv->log_when), "%d/%b/%Y:%H:%M:%S %z", &tm);
		sv->log_sec = t;
	}
	char line[1024];
	const struct hwork *w = c->w; /* held while a request is answered */
	const char *rl = w ? w->reqline : "-", *ref = w && w->referer[0] ? w->referer : "-",
		   *ag = w && w->agent[0] ? w->agent : "-";
	char peer[48];
	usn_addr_format(&c->peer, peer, sizeof(peer));
	int n = snprintf(line, sizeof(line), "%s - - [%s] \"%s\" %d %llu \"%s\" \"%s\"\n", peer, sv->log_when, rl,
			 c->status, (unsigned long long)c->body_bytes, ref, ag);
	if (n <= 0)
		return;
	if ((size_t)n > sizeof(line) - 1) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	alog_line(sv->log, line, (size_t)n);
}

/* Copies a field for the log, replacing quotes and control bytes. */
static void log_field(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[i] = (ch < 0x20 || ch == '"' || ch == '\\' || ch >= 0x7f) ? '?' : (char)ch;
	}
	dst[n] = '\0';
}

/* ---- connections ---- */

/* The connection's work area, from the free list or the heap; false when
 * memory runs out. */
static bool conn_work(struct server *sv, struct hconn *c)
{
	if (c->w)
		return true;
	struct hwork *w = sv->work_free;
	if (w) {
		sv->work_free = w->next_free;
		sv->nwork_free--;
	} else if (!(w = malloc(sizeof(*w)))) {
		return false;
	}
	w->reqline[0] = w->referer[0] = w->agent[0] = '\0';
	c->w = w;
	return true;
}

/* An idle connection (no request bytes held, nothing being answered)
 * gives its work area back. */
static void conn_rest(struct server *sv, struct hconn *c)
{
	struct hwork *w = c->w;
	if (!w || c->in_len > 0 || c->st != C_READING)
		return;
	c->w = NULL;
	if (sv->nwork_free < WORK_FREE_MAX) {
		w->next_free = sv->work_free;
		sv->work_free = w;
		sv->nwork_free++;
	} else {
		free(w);
	}
}

static void conn_free(struct server *sv, struct hconn *c, bool abort)
{
	if (c->paused)
		sv->npaused--;
	if (c->fe)
		fcache_put(sv->cache, c->fe);
	if (abort)
		usn_abort(sv->s, c->sd);
	else
		usn_close(sv->s, c->sd);
	if (c->prev)
		c->prev->next = c->next;
	else
		sv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sv->nconns--;
	if (c->w) {
		c->in_len = 0;
		c->st = C_READING;
		conn_rest(sv, c);
	}
	free(c);
}

static void response_begin(struct server *sv, struct hconn *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void response_started(struct server *sv, struct hconn *c, int status, size_t len);

/* A 200 for a whole file whose fields the cache formatted once: the
 * header is three copies (the status line, Server and Date made once a
 * second; the entry's fields; the connection's), no formatting. */
static bool response_begin_200(struct server *sv, struct hconn *c, const struct fentry *fe)
{
	time_t t = time(NULL);
	if (t != sv->pre200_t || !sv->pre200_len) {
		int m = snprintf(sv->pre200, sizeof(sv->pre200), "HTTP/1.1 200 OK\r\nServer: usnet-httpd\r\nDate: %s\r\n",
				 date_now(sv));
		sv->pre200_len = m > 0 && (size_t)m < sizeof(sv->pre200) ? (size_t)m : 0;
		sv->pre200_t = t;
	}
	const char *conn = c->close_after ? "Connection: close\r\n\r\n"
			   : c->keep_alive_10 ? "Connection: keep-alive\r\n\r\n"
					      : "\r\n";
	size_t cl = strlen(conn);
	char *h = c->w->hdr;
	if (!sv->pre200_len || sv->pre200_len + fe->fields200_len + cl > sizeof(c->w->hdr))
		return false; /* cannot be (96 + 320 + 26 bytes at most): formatted instead */
	memcpy(h, sv->pre200, sv->pre200_len);
	memcpy(h + sv->pre200_len, fe->fields200, fe->fields200_len);
	memcpy(h + sv->pre200_len + fe->fields200_len, conn, cl);
	response_started(sv, c, 200, sv->pre200_len + fe->fields200_len + cl);
	return true;
}

/* Starts a response: status line, common fields, then the caller's fields
 * (fmt), then the blank line. */
static void response_begin(struct server *sv, struct hconn *c, int status, const char *fmt, ...)
{
	int n = snprintf(c->w->hdr, sizeof(c->w->hdr), "HTTP/1.1 %d %s\r\nServer: usnet-httpd\r\nDate: %s\r\n", status,
			 reason(status), date_now(sv));
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(c->w->hdr + n, sizeof(c->w->hdr) - (size_t)n, fmt, ap);
	va_end(ap);
	/* RFC 9112 §9.6 and Appendix C.2.2: say "close" when closing; an
	 * HTTP/1.0 client keeps the connection only if told keep-alive. */
	n += snprintf(c->w->hdr + n, sizeof(c->w->hdr) - (size_t)n, "%s\r\n",
		      c->close_after    ? "Connection: close\r\n"
		      : c->keep_alive_10 ? "Connection: keep-alive\r\n"
					 : "");
	if ((size_t)n >= sizeof(c->w->hdr))
		n = sizeof(c->w->hdr) - 1;
	response_started(sv, c, status, (size_t)n);
}

/* The header is in c->w->hdr (len bytes): send it. */
static void response_started(struct server *sv, struct hconn *c, int status, size_t len)
{
	c->hdr_len = len;
	c->hdr_off = 0;
	c->status = status;
	c->st = C_SENDING;
	c->body_bytes = 0;
	if (status >= 100 && status < 600)
		sv->req_by_class[status / 100]++;
}

static const char *error_body(int status, size_t *ret_len)
{
	static char bodies[600][160]; /* filled lazily, read-only afterwards */
	static size_t lens[600];
	if (status < 0 || status >= 600)
		status = 500;
	if (!lens[status])
		lens[status] = (size_t)snprintf(bodies[status], sizeof(bodies[status]),
						"<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>\n",
						status, reason(status), status, reason(status));
	*ret_len = lens[status];
	return bodies[status];
}

static void send_error(struct server *sv, struct hconn *c, int status, bool head, bool close)
{
	size_t blen;
	const char *body = error_body(status, &blen);
	c->close_after = c->close_after || close;
	if (status == 405)
		response_begin(sv, c, status, "Allow: GET, HEAD\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n",
			       blen);
	else
		response_begin(sv, c, status, "Content-Type: text/html\r\nContent-Length: %zu\r\n", blen);
	if (!head) {
		c->mem = body;
		c->mem_len = blen;
		c->mem_off = 0;
	}
}

/* Percent-encodes a decoded path for a Location field (RFC 3986 §2.1 and
 * §3.3: pchar and "/" stay, everything else, controls, space, "%", "?",
 * "#" and non-ASCII included, becomes %XX), so no byte of a file name can
 * end the field or start another (response splitting). */
static void encode_path(const char *path, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < cap; p++) {
		unsigned char ch = *p;
		bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			    strchr("-._~/!$&'()*+,;=:@", ch) != NULL;
		if (keep) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

static void handle_request(struct server *sv, struct hconn *c, const struct http_request *rq, uint64_t now)
{
	bool head = rq->method == HTTP_HEAD;
	if (rq->method == HTTP_OTHER) {
		send_error(sv, c, 405, false, false);
		return;
	}
	struct fentry *fe = fcache_get(sv->cache, rq->path, now);
	if (!fe) {
		int st = (errno == ENOENT || errno == ENOTDIR) ? 404 : 403;
		send_error(sv, c, st, head, false);
		return;
	}
	if (fe->is_dir) {
		size_t pl = strlen(rq->path);
		if (pl == 0 || rq->path[pl - 1] != '/') {
			/* A directory without its slash: 301 to it. */
			fcache_put(sv->cache, fe);
			size_t blen;
			const char *body = error_body(301, &blen);
			char loc[3 * 256 + 8];
			encode_path(rq->path, loc, sizeof(loc));
			if (strlen(rq->path) > 255) {
				/* A Location that long would not fit the header
				 * buffer: answer 414 rather than cut it. */
				send_error(sv, c, 414, head, false);
				return;
			}
			response_begin(sv, c, 301, "Location: %s/\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n",
				       loc, blen);
			if (!head) {
				c->mem = body;
				c->mem_len = blen;
				c->mem_off = 0;
			}
			return;
		}
		char idx[HTTP_PATH_MAX + 16];
		snprintf(idx, sizeof(idx), "%sindex.html", rq->path);
		fcache_put(sv->cache, fe);
		fe = fcache_get(sv->cache, idx, now);
		if (!fe || fe->is_dir) {
			int st = (!fe && errno == ENOENT) ? 404 : 403;
			if (fe)
				fcache_put(sv->cache, fe);
			send_error(sv, c, st, head, false);
			return;
		}
	}
	/* RFC 9110 §13.2.2: If-None-Match first, then If-Modified-Since only
	 * without it. */
	bool not_modified = false;
	if (rq->if_none_match[0])
		not_modified = http_etag_match_list(rq->if_none_match, fe->etag);
	else if (rq->has_if_modified_since)
		not_modified = fe->mtime <= rq->if_modified_since;
	if (not_modified) {
		response_begin(sv, c, 304, "ETag: %s\r\nLast-Modified: %s\r\n", fe->etag, fe->last_modified);
		fcache_put(sv->cache, fe);
		return;
	}
	uint64_t first = 0, last = fe->size ? fe->size - 1 : 0;
	int rr = 0;
	bool range_ok = rq->range.present;
	/* RFC 9110 §13.1.5: If-Range with a different validator: ignore Range. */
	if (range_ok && rq->has_if_range && strcmp(rq->if_range, fe->etag) != 0 &&
	    strcmp(rq->if_range, fe->last_modified) != 0)
		range_ok = false;
	if (range_ok)
		rr = http_range_resolve(&rq->range, fe->size, &first, &last);
	if (rr < 0) {
		size_t blen;
		const char *body = error_body(416, &blen);
		response_begin(sv, c, 416,
			       "Content-Range: bytes */%llu\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n",
			       (unsigned long long)fe->size, blen);
		fcache_put(sv->cache, fe);
		if (!head) {
			c->mem = body;
			c->mem_len = blen;
			c->mem_off = 0;
		}
		return;
	}
	uint64_t len = fe->size == 0 ? 0 : last - first + 1;
	if (rr == 1)
		response_begin(sv, c, 206,
			       "Content-Type: %s\r\nContent-Length: %llu\r\nContent-Range: bytes %llu-%llu/%llu\r\n"
			       "Last-Modified: %s\r\nETag: %s\r\nAccept-Ranges: bytes\r\n",
			       fe->mime, (unsigned long long)len, (unsigned long long)first, (unsigned long long)last,
			       (unsigned long long)fe->size, fe->last_modified, fe->etag);
	else if (!(fe->fields200_len && len == fe->size && response_begin_200(sv, c, fe)))
		response_begin(sv, c, 200,
			       "Content-Type: %s\r\nContent-Length: %llu\r\nLast-Modified: %s\r\nETag: %s\r\n"
			       "Accept-Ranges: bytes\r\n",
			       fe->mime, (unsigned long long)len, fe->last_modified, fe->etag);
	if (head || len == 0) {
		fcache_put(sv->cache, fe);
		return;
	}
	c->fe = fe;
	c->file_off = (off_t)first;
	c->file_end = (off_t)(first + len);
}

/* Sends what can be sent of the current response; true when it is done. */
static bool push_response(struct server *sv, struct hconn *c, uint64_t now)
{
	while (c->hdr_off < c->hdr_len) {
		ssize_t n = usn_send(sv->s, c->sd, c->w->hdr + c->hdr_off, c->hdr_len - c->hdr_off,
				     (c->mem || c->fe) ? USN_MSG_MORE : 0);
		if (n == -EAGAIN)
			return false;
		if (n < 0) {
			c->close_after = true;
			return true;
		}
		c->hdr_off += (size_t)n;
		sv->bytes_sent += (uint64_t)n;
		c->last_ms = now;
	}
	while (c->mem && c->mem_off < c->mem_len) {
		ssize_t n = usn_send(sv->s, c->sd, c->mem + c->mem_off, c->mem_len - c->mem_off, 0);
		if (n == -EAGAIN)
			return false;
		if (n < 0) {
			c->close_after = true;
			return true;
		}
		c->mem_off += (size_t)n;
		c->body_bytes += (uint64_t)n;
		sv->bytes_sent += (uint64_t)n;
		c->last_ms = now;
	}
	while (c->fe && c->file_off < c->file_end) {
		/* From the cache's mapping, without a copy into the stack:
		 * the queued pieces hold the entry until acknowledged. */
		ssize_t n = usn_send_ref(sv->s, c->sd, c->fe->map + c->file_off,
					 (size_t)(c->file_end - c->file_off), &c->fe->mref);
		if (n == -EAGAIN)
			return false;
		if (n <= 0) {
			c->close_after = true;
			return true;
		}
		c->body_bytes += (uint64_t)n;
		sv->bytes_sent += (uint64_t)n;
		c->file_off += n;
		c->last_ms = now;
	}
	return true;
}

static void response_done(struct server *sv, struct hconn *c)
{
	log_request(sv, c);
	if (c->fe) {
		fcache_put(sv->cache, c->fe);
		c->fe = NULL;
	}
	c->mem = NULL;
	c->hdr_len = c->hdr_off = 0;
	c->st = C_READING;
}

/* Lingering close (RFC 9112 §9.6): our FIN first, then read and discard
 * what the client still sends, so unread data does not turn our response
 * into a reset. */
static void start_linger(struct server *sv, struct hconn *c, uint64_t now)
{
	usn_shutdown(sv->s, c->sd, USN_SHUT_WR);
	c->st = C_LINGER;
	c->last_ms = now;
}

enum { CH_SIZE, CH_DATA, CH_DATA_CRLF, CH_TRAILER };

/* Consumes a chunked request body (RFC 9112 §7.1) from the input buffer:
 * 1 when it ended, 0 when more is needed, -400 malformed, -413 too big.
 * Chunk extensions and trailer fields are read and ignored (§7.1.1, §7.1.2). */
static int chunked_skip(struct hconn *c, uint64_t limit)
{
	size_t pos = 0;
	int rc = 0;
	while (rc == 0 && pos < c->in_len) {
		if (c->ch_state == CH_DATA) {
			size_t k = c->ch_left < c->in_len - pos ? (size_t)c->ch_left : c->in_len - pos;
			pos += k;
			c->ch_left -= k;
			if (c->ch_left == 0)
				c->ch_state = CH_DATA_CRLF;
			continue;
		}
		/* The other states read whole lines. */
		const char *nl = memchr(c->w->in + pos, '\n', c->in_len - pos);
		if (!nl) {
			if (c->in_len - pos > 4096)
				rc = -400; /* a size line or trailer field that never ends */
			break;
		}
		size_t ll = (size_t)(nl - (c->w->in + pos));
		const char *line = c->w->in + pos;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		pos = (size_t)(nl - c->w->in) + 1;
		if (c->ch_state == CH_DATA_CRLF) {
			if (ll != 0)
				rc = -400;
			c->ch_state = CH_SIZE;
		} else if (c->ch_state == CH_SIZE) {
			uint64_t size = 0;
			size_t i = 0;
			for (; i < ll; i++) {
				char ch = line[i];
				int d = ch >= '0' && ch <= '9' ? ch - '0'
					: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
					: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
								 : -1;
				if (d < 0)
					break;
				if (size > (UINT64_MAX >> 4)) {
					rc = -413;
					break;
				}
				size = size * 16 + (uint64_t)d;
			}
			if (rc)
				break;
			if (i == 0 || (i < ll && line[i] != ';' && line[i] != ' ' && line[i] != '\t')) {
				rc = -400;
				break;
			}
			c->ch_total += size;
			if (c->ch_total > limit) {
				rc = -413;
				break;
			}
			c->ch_left = size;
			c->ch_state = size ? CH_DATA : CH_TRAILER;
		} else { /* CH_TRAILER: fields until an empty line */
			if (ll == 0)
				rc = 1;
		}
	}
	memmove(c->w->in, c->w->in + pos, c->in_len - pos);
	c->in_len -= pos;
	if (rc != 0)
		c->chunked = false;
	return rc;
}

/* Reads and answers requests until blocked; false when the connection is
 * finished and was freed. */
static bool conn_run(struct server *sv, struct hconn *c, uint64_t now)
{
	unsigned turn = 0;
	if (c->paused) {
		c->paused = false;
		sv->npaused--;
	}
	for (;;) {
		if (c->st == C_LINGER) {
			char junk[4096];
			ssize_t n;
			while ((n = usn_recv(sv->s, c->sd, junk, sizeof(junk), 0)) > 0)
				;
			if (n == -EAGAIN)
				return true;
			conn_free(sv, c, false);
			return false;
		}
		if (c->st == C_SENDING) {
			if (!push_response(sv, c, now))
				return true;
			bool close = c->close_after;
			response_done(sv, c);
			if (close) {
				start_linger(sv, c, now);
				continue;
			}
		}
		/* C_READING: discard a request body, then parse what we have. */
		if (c->chunked && c->in_len > 0) {
			int ch = chunked_skip(c, sv->lim.max_body_bytes);
			if (ch < 0) {
				c->in_len = 0;
				send_error(sv, c, -ch, false, true);
				continue;
			}
		}
		if (c->body_skip > 0 && c->in_len > 0) {
			size_t k = c->body_skip < c->in_len ? (size_t)c->body_skip : c->in_len;
			memmove(c->w->in, c->w->in + k, c->in_len - k);
			c->in_len -= k;
			c->body_skip -= k;
		}
		if (c->body_skip == 0 && !c->chunked && c->in_len > 0) {
			if (++turn > REQS_PER_TURN) {
				/* Fairness: others get a turn before the rest of
				 * this pipeline. */
				c->paused = true;
				sv->npaused++;
				return true;
			}
			struct http_request rq;
			int rc = http_parse_request(c->w->in, c->in_len, &sv->lim, &rq);
			if (rc > 0) {
				/* RFC 9112 §9.3: requests are answered in order;
				 * a token bucket bounds the rate per connection. */
				double elapsed = (double)(now - c->tokens_ms) / 1000.0;
				c->tokens_ms = now;
				c->tokens += elapsed * REQ_RATE_PER_SEC;
				if (c->tokens > REQ_BURST)
					c->tokens = REQ_BURST;
				if (c->tokens < 1.0) {
					c->paused = true; /* resumed from the loop */
					sv->npaused++;
					return true;
				}
				c->tokens -= 1.0;
				if (sv->log) { /* the access log's fields, only when it is on */
					const char *eol = memchr(c->w->in, '\n', (size_t)rc);
					size_t ll = eol ? (size_t)(eol - c->w->in) : 0;
					while (ll > 0 && (c->w->in[ll - 1] == '\r'))
						ll--;
					log_field(c->w->reqline, sizeof(c->w->reqline), c->w->in, ll);
					log_field(c->w->referer, sizeof(c->w->referer), rq.referer, strlen(rq.referer));
					log_field(c->w->agent, sizeof(c->w->agent), rq.user_agent, strlen(rq.user_agent));
				}
				c->close_after = !rq.keep_alive;
				c->keep_alive_10 = rq.keep_alive && rq.version_minor == 0;
				c->body_skip = rq.has_content_length ? rq.content_length : 0;
				if (rq.has_transfer_encoding) {
					c->chunked = true;
					c->ch_state = CH_SIZE;
					c->ch_left = c->ch_total = 0;
				}
				memmove(c->w->in, c->w->in + rc, c->in_len - (size_t)rc);
				c->in_len -= (size_t)rc;
				c->req_start_ms = c->in_len > 0 ? now : 0;
				handle_request(sv, c, &rq, now);
				continue;
			}
			if (rc < 0) {
				size_t ll = strcspn(c->w->in, "\r\n");
				log_field(c->w->reqline, sizeof(c->w->reqline), c->w->in, ll < c->in_len ? ll : c->in_len);
				c->w->referer[0] = c->w->agent[0] = '\0';
				c->in_len = 0;
				send_error(sv, c, -rc, false, true);
				continue;
			}
			if (c->in_len == sizeof(c->w->in)) {
				log_field(c->w->reqline, sizeof(c->w->reqline), c->w->in, strcspn(c->w->in, "\r\n"));
				c->in_len = 0;
				send_error(sv, c, 431, false, true);
				continue;
			}
		}
		/* Need more bytes. */
		if (!conn_work(sv, c)) {
			conn_free(sv, c, true); /* out of memory */
			return false;
		}
		ssize_t n = usn_recv(sv->s, c->sd, c->w->in + c->in_len, sizeof(c->w->in) - c->in_len, 0);
		if (n == -EAGAIN) {
			conn_rest(sv, c);
			return true;
		}
		if (n <= 0) {
			conn_free(sv, c, n < 0);
			return false;
		}
		if (c->in_len == 0 && c->body_skip == 0)
			c->req_start_ms = now;
		c->in_len += (size_t)n;
		c->last_ms = now;
	}
}

static void accept_all(struct server *sv, uint64_t now)
{
	for (;;) {
		struct usn_addr peer;
		int sd = usn_accept(sv->s, sv->lsd, &peer);
		if (sd < 0)
			return;
		if (sv->nconns >= sv->max_conns) {
			sv->conns_refused++;
			usn_abort(sv->s, sd);
			continue;
		}
		struct hconn *c = calloc(1, sizeof(*c));
		if (!c) {
			usn_abort(sv->s, sd);
			continue;
		}
		c->sd = sd;
		c->st = C_READING;
		c->last_ms = now;
		c->tokens = REQ_BURST;
		c->tokens_ms = now;
		c->peer = peer;
		c->peer.port = 0; /* the log shows the address alone */
		c->next = sv->conns;
		if (sv->conns)
			sv->conns->prev = c;
		sv->conns = c;
		sv->nconns++;
		sv->conns_total++;
		usn_socket_set_udata(sv->s, sd, c);
		conn_run(sv, c, now);
	}
}

/* Once a second: timeouts and connections paused by the rate limit. */
static void sweep(struct server *sv, uint64_t now)
{
	struct hconn *next;
	for (struct hconn *c = sv->conns; c; c = next) {
		next = c->next;
		uint64_t idle = now - c->last_ms;
		if (c->st == C_LINGER && idle >= LINGER_MS) {
			conn_free(sv, c, false);
			continue;
		}
		if (c->st == C_SENDING && idle >= SEND_TIMEOUT_MS) {
			sv->timeouts++;
			conn_free(sv, c, true);
			continue;
		}
		if (c->st == C_READING && c->req_start_ms && now - c->req_start_ms >= HEADER_TIMEOUT_MS) {
			/* RFC 9110 §15.5.9: 408, then close. (A body being
			 * discarded may have left no bytes, and no work area.) */
			sv->timeouts++;
			if (!conn_work(sv, c)) {
				conn_free(sv, c, true);
				continue;
			}
			snprintf(c->w->reqline, sizeof(c->w->reqline), "-");
			c->in_len = 0;
			c->body_skip = 0;
			c->req_start_ms = 0;
			send_error(sv, c, 408, false, true);
			conn_run(sv, c, now);
			continue;
		}
		if (c->st == C_READING && !c->req_start_ms && idle >= IDLE_TIMEOUT_MS) {
			conn_free(sv, c, false);
			continue;
		}
		if (c->paused)
			conn_run(sv, c, now); /* a rate-limited pipeline */
	}
}

static void print_stats(struct server *sv)
{
	const struct fcache_stats *fs = fcache_stats(sv->cache);
	pthread_mutex_lock(&print_mu);
	if (sv->ninst > 1)
		printf("usnet-httpd[%d]: ", sv->index);
	else
		printf("usnet-httpd: ");
	printf("requests 1xx %llu 2xx %llu 3xx %llu 4xx %llu 5xx %llu; bytes sent %llu; connections "
	       "open %u total %llu refused %llu timed out %llu; cache hits %llu misses %llu revalidations %llu "
	       "evictions %llu\n",
	       (unsigned long long)sv->req_by_class[1], (unsigned long long)sv->req_by_class[2],
	       (unsigned long long)sv->req_by_class[3], (unsigned long long)sv->req_by_class[4],
	       (unsigned long long)sv->req_by_class[5], (unsigned long long)sv->bytes_sent, sv->nconns,
	       (unsigned long long)sv->conns_total, (unsigned long long)sv->conns_refused,
	       (unsigned long long)sv->timeouts, (unsigned long long)fs->hits, (unsigned long long)fs->misses,
	       (unsigned long long)fs->revalidations, (unsigned long long)fs->evictions);
	if (sv->log) {
		struct alog_stats ls = alog_stats(sv->log);
		if (sv->ninst > 1)
			printf("usnet-httpd[%d]: ", sv->index);
		else
			printf("usnet-httpd: ");
		printf("access log lines %llu dropped %llu; bytes written %llu; write errors %llu\n",
		       (unsigned long long)ls.lines, (unsigned long long)ls.lines_dropped,
		       (unsigned long long)ls.bytes_written, (unsigned long long)ls.write_errors);
	}
	usn_stack_print_counters(sv->s, stdout, 0);
	fflush(stdout);
	pthread_mutex_unlock(&print_mu);
}

/* One instance's loop, until SIGINT or SIGTERM. */
static void *serve(void *arg)
{
	struct server *sv = arg;
	uint64_t last_sweep = now_ms();
	while (!want_quit) {
		if (sv->stats_seen != stats_gen) {
			sv->stats_seen = stats_gen;
			print_stats(sv);
		}
		if (sv->reload_seen != reload_gen) {
			sv->reload_seen = reload_gen;
			fcache_flush(sv->cache);
			if (sv->log)
				alog_reopen(sv->log); /* after log rotation */
		}
		/* Paused pipelines need the loop to come back at once. */
		int n = usn_stack_poll(sv->s, sv->npaused ? 0 : 1000);
		uint64_t now = now_ms();
		if (n > 0) {
			struct usn_event ev[256];
			int k;
			while ((k = usn_events(sv->s, ev, 256)) > 0) {
				for (int i = 0; i < k; i++) {
					if (ev[i].sd == sv->lsd)
						accept_all(sv, now);
					else if (ev[i].udata)
						conn_run(sv, ev[i].udata, now);
				}
			}
		}
		if (sv->npaused) {
			struct hconn *next;
			for (struct hconn *hc = sv->conns; hc; hc = next) {
				next = hc->next;
				if (hc->paused)
					conn_run(sv, hc, now);
			}
		}
		if (now - last_sweep >= 1000) {
			last_sweep = now;
			sweep(sv, now);
			if (sv->log)
				alog_flush(sv->log);
		}
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usnet-httpd [device options] --root DIR [--port 80] [--access-log FILE]\n"
		"A static web server on usnet: serves DIR over HTTP/1.1 and 1.0.\n"
		"SIGUSR1 prints counters, SIGHUP empties the file cache and reopens the access log,\n"
		"SIGINT/SIGTERM stop it.\n\n%s"
		"  --root DIR          the document root (required)\n"
		"  --port N            TCP port (default 80)\n"
		"  --access-log FILE   combined log format, off by default\n"
		"  --max-conns N       open connections at most (default %d)\n"
		"  -h, --help          this text\n"
		"  -V, --version       the version\n",
		usn_config_usage(), MAX_CONNS_DEFAULT);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		USN_APP_DEVICE_OPTIONS,
		{"root", required_argument, NULL, 'r'},
		{"port", required_argument, NULL, 'P'},
		{"access-log", required_argument, NULL, 'L'},
		{"max-conns", required_argument, NULL, 'M'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	unsigned max_conns = MAX_CONNS_DEFAULT;
	struct usn_config cfg;
	usn_config_init(&cfg);
	const char *root = NULL, *logpath = NULL;
	long port = 80;
	int c, idx, rc;
	while ((c = getopt_long(argc, argv, "hV", opts, &idx)) != -1) {
		char *end;
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'P':
			port = strtol(optarg, &end, 10);
			if (*end || port < 1 || port > 65535) {
				fprintf(stderr, "usnet-httpd: --port: expected 1..65535, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'L':
			logpath = optarg;
			break;
		case 'M': {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1000000) {
				fprintf(stderr, "usnet-httpd: --max-conns: expected 1..1000000, got '%s'\n", optarg);
				return 2;
			}
			max_conns = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("usnet-httpd (usnet) %s\n", USNET_VERSION);
			return 0;
		case 0x100:
			if ((rc = usn_app_device_option("usnet-httpd", &cfg, &opts[idx], optarg)) != 0)
				return rc;
			break;
		default:
			fprintf(stderr, "usnet-httpd: try --help\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usnet-httpd: unexpected argument '%s'; try --help\n", argv[optind]);
		return 2;
	}
	if (!root) {
		fprintf(stderr, "usnet-httpd: --root DIR is required; try --help\n");
		return 2;
	}
	if ((rc = usn_app_require_device("usnet-httpd", &cfg)) != 0)
		return rc;
	int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		fprintf(stderr, "usnet-httpd: --root %s: %s\n", root, strerror(errno));
		return 2;
	}
	struct http_mime_table *mime = http_mime_load("/etc/mime.types");

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The instances (--cores): each its own stack on its own queue of
	 * the device, file cache and access log writer, all with the first
	 * one's MAC; the root and the media types are shared (only read).
	 * Devices are opened while privileges last. */
	int ninst = cfg.queues ? cfg.queues : 1, made = 0;
	struct server **inst = calloc((size_t)ninst, sizeof(*inst));
	char err[256];
	if (!inst) {
		fprintf(stderr, "usnet-httpd: out of memory\n");
		return 1;
	}
	struct usn_addr any = usn_addr_v4(0, (uint16_t)port);
	for (; made < ninst; made++) {
		struct server *x = calloc(1, sizeof(*x));
		if (!x) {
			fprintf(stderr, "usnet-httpd: out of memory\n");
			goto fail;
		}
		inst[made] = x;
		x->index = made;
		x->ninst = ninst;
		x->max_conns = max_conns;
		x->root_fd = root_fd;
		x->mime = mime;
		x->cache = fcache_new(root_fd, mime, 4096);
		x->lim = (struct http_limits){
			.max_header_bytes = 8192, .max_target_bytes = 4096, .max_fields = 100,
			.max_body_bytes = 1 << 20,
		};
		if (logpath) {
			x->log = alog_open(logpath);
			if (!x->log) {
				fprintf(stderr, "usnet-httpd: --access-log %s: %s\n", logpath, strerror(errno));
				rc = 2;
				goto fail_rc;
			}
		}
		struct usn_config ci = cfg;
		ci.queue = (uint16_t)made;
		if (made > 0) {
			usn_stack_mac(inst[0]->s, ci.mac);
			ci.mac_set = 1;
		}
		rc = usn_stack_create(&ci, &x->s, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "usnet-httpd: %s\n", err[0] ? err : strerror(-rc));
			goto fail;
		}
		x->lsd = usn_socket(x->s, USN_SOCK_STREAM);
		if (x->lsd < 0 || (rc = usn_bind(x->s, x->lsd, &any)) < 0 || (rc = usn_listen(x->s, x->lsd, 4096)) < 0) {
			fprintf(stderr, "usnet-httpd: cannot listen on port %ld: %s\n", port,
				strerror(x->lsd < 0 ? -x->lsd : -rc));
			goto fail;
		}
	}
	/* Before any thread exists: capabilities are per thread. */
	if (usn_app_drop_privileges("usnet-httpd", &cfg) != 0)
		goto fail;
	char abuf[32];
	struct usn_addr me = usn_addr_v4(cfg.addr, 0);
	fprintf(stderr, "usnet-httpd: ready on %s %s/%u port %ld, root %s%s\n", cfg.dev,
		usn_addr_format(&me, abuf, sizeof(abuf)), cfg.prefix_len, port, root,
		ninst > 1 ? ", several instances" : "");
	usn_app_run_instances("usnet-httpd", (void *const *)inst, ninst, serve, &want_quit);
	rc = 0;
	goto out;
fail:
	rc = 1;
fail_rc:
out:
	for (int i = 0; i < ninst; i++) {
		struct server *x = inst[i];
		if (!x)
			continue;
		if (x->s && rc == 0)
			print_stats(x);
		while (x->conns)
			conn_free(x, x->conns, false);
		alog_close(x->log);
		if (x->s)
			usn_stack_destroy(x->s);
		fcache_free(x->cache);
		while (x->work_free) {
			struct hwork *w = x->work_free;
			x->work_free = w->next_free;
			free(w);
		}
		free(x);
	}
	free(inst);
	http_mime_free(mime);
	close(root_fd);
	return rc;
}
