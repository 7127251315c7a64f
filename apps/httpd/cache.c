// SPDX-License-Identifier: MIT
/*
 * cache.c - usnet-httpd's open-file cache (see cache.h). Paths are resolved
 * with openat2(2) and RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS under the
 * root, so the kernel refuses any path that would leave it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cache.h"

#define FCACHE_BUCKETS 4096
#define REVALIDATE_MS 1000 /* issue: "revalidated at most once a second" */

struct fcache {
	int root_fd;
	const struct http_mime_table *mime;
	unsigned max_entries, nentries;
	struct fentry *bucket[FCACHE_BUCKETS];
	struct fcache_stats stats;
};

static unsigned path_hash(const char *p)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % FCACHE_BUCKETS;
}

struct fcache *fcache_new(int root_fd, const struct http_mime_table *mime, unsigned max_entries)
{
	struct fcache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->root_fd = root_fd;
	c->mime = mime;
	c->max_entries = max_entries ? max_entries : 1024;
	return c;
}

static void entry_free(struct usn_memref *r)
{
	struct fentry *e = (struct fentry *)((char *)r - offsetof(struct fentry, mref));
	usn_memref_sums_free(&e->mref);
	if (e->map)
		munmap((void *)(uintptr_t)e->map, e->map_len);
	if (e->fd >= 0)
		close(e->fd);
	free(e);
}

static void entry_release(struct fentry *e)
{
	if (--e->mref.refs == 0)
		entry_free(&e->mref);
}

static void unlink_entry(struct fcache *c, struct fentry *e)
{
	struct fentry **pp = &c->bucket[path_hash(e->path)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->in_table = false;
	c->nentries--;
	entry_release(e); /* the table's reference */
}

void fcache_flush(struct fcache *c)
{
	for (unsigned i = 0; i < FCACHE_BUCKETS; i++)
		while (c->bucket[i])
			unlink_entry(c, c->bucket[i]);
}

void fcache_free(struct fcache *c)
{
	if (!c)
		return;
	fcache_flush(c);
	free(c);
}

const struct fcache_stats *fcache_stats(const struct fcache *c)
{
	return &c->stats;
}

/* openat2 below the root; the path without its leading '/' ("." for "/"). */
/* Without openat2 (Linux before 5.6, or valgrind, which does not know it):
 * the path one component at a time, following no symbolic link at all
 * (stricter than RESOLVE_BENEATH, which follows those that stay inside).
 * The path is normalized already: no "." or ".." components. */
int fcache_open_walk(int root_fd, const char *rel)
{
	int dir = root_fd;
	const int walk_flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	const int file_flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW;
	char comp[256];
	for (;;) {
		size_t n = strcspn(rel, "/");
		if (n == 0 || n >= sizeof(comp) || (n == 2 && rel[0] == '.' && rel[1] == '.')) {
			if (dir != root_fd)
				close(dir);
			errno = n == 0 && !rel[0] ? ENOENT : EACCES;
			return -1;
		}
		memcpy(comp, rel, n);
		comp[n] = '\0';
		bool last = rel[n] == '\0' || (rel[n] == '/' && rel[n + 1] == '\0');
		int fd = openat(dir, comp, last ? file_flags : walk_flags);
		int e = errno;
		if (dir != root_fd)
			close(dir);
		if (fd < 0 || last) {
			errno = e;
			return fd;
		}
		dir = fd;
		rel += n + 1;
	}
}

static int open_beneath(int root_fd, const char *path)
{
	const char *rel = path[1] ? path + 1 : ".";
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	int fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		return strcmp(rel, ".") == 0 ? openat(root_fd, ".", how.flags | O_DIRECTORY) : fcache_open_walk(root_fd, rel);
	return fd;
}

static int fill(struct fcache *c, struct fentry *e, int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	e->fd = fd;
	e->is_dir = S_ISDIR(st.st_mode);
	if (!e->is_dir && !S_ISREG(st.st_mode)) {
		errno = EACCES; /* devices, sockets, FIFOs are not served */
		return -1;
	}
	e->size = (uint64_t)st.st_size;
	e->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	e->mtime = st.st_mtim.tv_sec;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	http_etag_format(e->size, e->mtime_ns, e->etag, sizeof(e->etag));
	http_date_format(e->mtime, e->last_modified, sizeof(e->last_modified));
	e->mime = http_mime_lookup(c->mime, e->path);
	int n = snprintf(e->fields200, sizeof(e->fields200),
			 "Content-Type: %s\r\nContent-Length: %llu\r\nLast-Modified: %s\r\nETag: %s\r\n"
			 "Accept-Ranges: bytes\r\n",
			 e->mime, (unsigned long long)e->size, e->last_modified, e->etag);
	e->fields200_len = n > 0 && (size_t)n < sizeof(e->fields200) ? (size_t)n : 0;
	/* Mapped once: responses send from the mapping (usn_send_ref). */
	if (!e->is_dir && e->size > 0) {
		void *m = mmap(NULL, (size_t)e->size, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return -1;
		e->map = m;
		e->map_len = (size_t)e->size;
		/* Block checksum sums, kept with the mapping and filled on
		 * first use: without a device's checksum offload a segment
		 * costs no pass over its payload. Without them (no memory)
		 * the stack sums the bytes itself. */
		(void)usn_memref_sums(&e->mref, m, e->map_len);
	}
	return 0;
}

static struct fentry *open_entry(struct fcache *c, const char *path, uint64_t now_ms)
{
	int fd = open_beneath(c->root_fd, path);
	if (fd < 0)
		return NULL;
	struct fentry *e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->fd = -1;
	e->mref.release = entry_free;
	if (fill(c, e, fd) < 0) {
		int err = errno;
		close(fd);
		free(e);
		errno = err;
		return NULL;
	}
	e->checked_ms = now_ms;
	e->mref.refs = 1;
	return e;
}

static void insert(struct fcache *c, struct fentry *e)
{
	if (c->nentries >= c->max_entries) {
		/* Evict the first entry found from a pseudo-random bucket:
		 * cheap, and a busy site keeps its hot files by re-opening. */
		unsigned start = path_hash(e->path);
		for (unsigned i = 0; i < FCACHE_BUCKETS; i++) {
			struct fentry *v = c->bucket[(start + i) % FCACHE_BUCKETS];
			if (v) {
				unlink_entry(c, v);
				c->stats.evictions++;
				break;
			}
		}
	}
	unsigned h = path_hash(e->path);
	e->hnext = c->bucket[h];
	c->bucket[h] = e;
	e->in_table = true;
	c->nentries++;
	e->mref.refs++; /* the table's reference */
}

struct fentry *fcache_get(struct fcache *c, const char *path, uint64_t now_ms)
{
	struct fentry *e = c->bucket[path_hash(path)];
	while (e && strcmp(e->path, path) != 0)
		e = e->hnext;
	if (e && now_ms - e->checked_ms >= REVALIDATE_MS) {
		/* Revalidate: the same file (inode), size and time? */
		c->stats.revalidations++;
		struct fentry *fresh = open_entry(c, path, now_ms);
		if (fresh && fresh->ino == e->ino && fresh->dev == e->dev && fresh->mtime_ns == e->mtime_ns &&
		    fresh->size == e->size) {
			e->checked_ms = now_ms;
			entry_release(fresh);
		} else {
			unlink_entry(c, e);
			e = NULL;
			if (fresh) {
				insert(c, fresh);
				fresh->mref.refs++; /* the caller's */
				entry_release(fresh); /* open_entry's */
				c->stats.misses++;
				return fresh;
			}
			return NULL; /* errno from open_entry */
		}
	}
	if (e) {
		c->stats.hits++;
		e->mref.refs++;
		return e;
	}
	c->stats.misses++;
	e = open_entry(c, path, now_ms);
	if (!e)
		return NULL;
	insert(c, e); /* refs: 1 (caller) + 1 (table) */
	return e;
}

void fcache_put(struct fcache *c, struct fentry *e)
{
	(void)c;
	entry_release(e);
}
