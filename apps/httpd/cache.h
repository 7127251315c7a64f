/* SPDX-License-Identifier: MIT */
/*
 * cache.h - usnet-httpd's cache of open files under the document root.
 *
 * A path is resolved once below the root with openat2(RESOLVE_BENEATH), so
 * "..", absolute symlinks and symlinks leading outside the root are refused
 * by the kernel itself; the file is mapped once, and the descriptor, size,
 * modification time, entity tag and media type are kept and revalidated
 * (stat) at most once a second. An entry is reference-counted through its
 * usn_memref: the cache, each response using it and each piece of it in a
 * connection's send queue (usn_send_ref) hold one, so an entry replaced
 * while in use stays mapped until the stack has sent and had acknowledged
 * the last byte of it.
 * DEVIATION: a file truncated in place while mapped makes the process
 * fault (SIGBUS) when the stack reads past its new end; deploy sites by
 * renaming new files into place, as with any server that maps files.
 * DEVIATION: likewise a file rewritten in place while a response is being
 * sent from it goes out with the block checksum sums kept for its old
 * bytes (usn_memref_sums()) on devices without checksum offload, so the
 * client drops those segments and that transfer stalls until it gives up;
 * new requests get a fresh entry within a second.
 * Not thread-safe: one cache per server loop.
 */
#ifndef USNET_HTTPD_CACHE_H
#define USNET_HTTPD_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <usnet/usnet.h>

#include "http.h"

struct fentry {
	char path[HTTP_PATH_MAX]; /* request path ("/a/b.html") */
	int fd;
	bool is_dir;
	uint64_t size;
	int64_t mtime_ns;
	time_t mtime;
	dev_t dev;
	ino_t ino;
	char etag[48];
	char last_modified[32];
	const char *mime;
	/* The fields of a 200 response for the whole file, formatted once
	 * (Content-Type .. Accept-Ranges, each with its CRLF); 0: too long,
	 * the server formats them per response. */
	char fields200[320];
	size_t fields200_len;
	uint64_t checked_ms;      /* when last validated */
	const uint8_t *map;       /* the whole file, read-only; NULL if empty */
	size_t map_len;
	struct usn_memref mref;   /* the entry's reference count (see above) */
	bool in_table;
	struct fentry *hnext;
};

struct fcache_stats {
	uint64_t hits, misses, revalidations, evictions;
};

struct fcache;

/* root_fd: an O_PATH or O_DIRECTORY descriptor of the document root. */
struct fcache *fcache_new(int root_fd, const struct http_mime_table *mime, unsigned max_entries);
void fcache_free(struct fcache *c);
/* The entry for a normalised path, taking a reference; NULL with errno set
 * (ENOENT, EACCES, ELOOP/EXDEV for an escape, ...). now_ms: monotonic. */
struct fentry *fcache_get(struct fcache *c, const char *path, uint64_t now_ms);
void fcache_put(struct fcache *c, struct fentry *e);
/* Drops every entry (SIGHUP reload); entries in use close when released. */
void fcache_flush(struct fcache *c);
const struct fcache_stats *fcache_stats(const struct fcache *c);

/* Opens rel (a normalized path relative to root_fd, no leading '/') the
 * way the cache does without openat2 (Linux before 5.6, valgrind): a
 * component at a time, following no symbolic link, refusing "..". The fd,
 * or -1 with errno (ELOOP for a symbolic link, ENOTDIR for one where a
 * directory must be, EACCES for ".."). For
 * tests; the cache calls it itself. */
int fcache_open_walk(int root_fd, const char *rel);

#endif
