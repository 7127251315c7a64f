/* SPDX-License-Identifier: MIT */
/*
 * tcp_txq.c - the send queue of a TCP connection (see tcp_txq.h): extents
 * of copied bytes (in a byte ring) and of mapped files. Not the TCP
 * sender: tcp_output.c decides what to send and asks for iovecs here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcp_txq.h"
#include "util.h"

/* Extents allocated at first: a response's header (in the ring) and its
 * body (a file or a lent buffer) take two. The array comes with the first
 * extent and goes when the queue empties, so an idle connection holds
 * none (it is the largest thing a connection would otherwise keep). */
#define USN_TXQ_EXT_INITIAL 4

int usn_txq_init(struct usn_txq *q, uint32_t cap)
{
	memset(q, 0, sizeof(*q));
	if (cap == 0)
		return -EINVAL;
	int rc = usn_bytering_init(&q->ring, cap);
	if (rc < 0)
		return rc;
	q->cap = q->ring.cap;
	return 0;
}

static struct usn_txq_ext *ext_at(const struct usn_txq *q, uint32_t i)
{
	return &q->ext[(q->ext_head + i) % q->ext_cap];
}

static void ref_put(struct usn_memref *r)
{
	if (--r->refs == 0 && r->release)
		r->release(r);
}

/* A mapping made by usn_txq_append_file(), released when its extent goes. */
struct txq_map {
	struct usn_memref ref;
	void *addr;
	size_t len;
};

static void map_release(struct usn_memref *r)
{
	struct txq_map *m = USN_CONTAINER_OF(r, struct txq_map, ref);
	munmap(m->addr, m->len);
	free(m);
}

void usn_txq_fini(struct usn_txq *q)
{
	if (!q->cap)
		return;
	for (uint32_t i = 0; i < q->ext_count; i++)
		if (ext_at(q, i)->ref)
			ref_put(ext_at(q, i)->ref);
	free(q->ext);
	usn_bytering_fini(&q->ring);
	memset(q, 0, sizeof(*q));
}

/* Room for one more extent (the array made or doubled); false when
 * memory runs out. */
static bool ext_reserve(struct usn_txq *q)
{
	if (q->ext_count < q->ext_cap)
		return true;
	uint32_t ncap = q->ext_cap ? q->ext_cap * 2 : USN_TXQ_EXT_INITIAL;
	struct usn_txq_ext *n = calloc(ncap, sizeof(*n));
	if (!n)
		return false;
	for (uint32_t i = 0; i < q->ext_count; i++)
		n[i] = *ext_at(q, i);
	free(q->ext);
	q->ext = n;
	q->ext_cap = ncap;
	q->ext_head = 0;
	return true;
}

uint32_t usn_txq_append(struct usn_txq *q, const void *src, uint32_t n)
{
	n = USN_MIN(n, usn_txq_space(q));
	if (n == 0)
		return 0;
	struct usn_txq_ext *last = q->ext_count ? ext_at(q, q->ext_count - 1) : NULL;
	if (!last || last->ref) {
		if (!ext_reserve(q))
			return 0;
		last = ext_at(q, q->ext_count++);
		*last = (struct usn_txq_ext){0};
	}
	uint32_t k = usn_bytering_append(&q->ring, src, n);
	last->len += k;
	q->len += k;
	return k;
}

ssize_t usn_txq_append_file(struct usn_txq *q, int fd, off_t *offset, size_t count)
{
	struct stat st;
	if (!offset || *offset < 0)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (*offset >= st.st_size || count == 0)
		return 0;
	size_t n = USN_MIN(count, (size_t)(st.st_size - *offset));
	n = USN_MIN(n, (size_t)usn_txq_space(q));
	if (n == 0)
		return 0;
	if (!ext_reserve(q))
		return -ENOMEM;
	long page = sysconf(_SC_PAGESIZE);
	off_t start = *offset & ~(off_t)(page - 1);
	size_t skip = (size_t)(*offset - start);
	struct txq_map *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->len = skip + n;
	m->addr = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, start);
	if (m->addr == MAP_FAILED) {
		int e = errno;
		free(m);
		return -e;
	}
	m->ref.refs = 1;
	m->ref.release = map_release;
	struct usn_txq_ext *e = ext_at(q, q->ext_count++);
	e->ref = &m->ref;
	e->base = (const uint8_t *)m->addr + skip;
	e->len = (uint32_t)n;
	q->len += (uint32_t)n;
	*offset += (off_t)n;
	return (ssize_t)n;
}

uint32_t usn_txq_append_ref(struct usn_txq *q, const void *base, uint32_t n, struct usn_memref *ref)
{
	n = USN_MIN(n, usn_txq_space(q));
	if (n == 0 || !ext_reserve(q))
		return 0;
	struct usn_txq_ext *e = ext_at(q, q->ext_count++);
	e->ref = ref;
	e->base = base;
	e->len = n;
	ref->refs++;
	q->len += n;
	return n;
}

int usn_txq_peek_iov(const struct usn_txq *q, uint32_t off, uint32_t n, struct iovec *iov, int max)
{
	return usn_txq_peek_iov_ref(q, off, n, iov, NULL, max);
}

int usn_txq_peek_iov_ref(const struct usn_txq *q, uint32_t off, uint32_t n, struct iovec *iov,
			 struct usn_memref **ret_refs, int max)
{
	int k = 0;
	uint32_t ring_off = 0; /* ring bytes before the current extent */
	for (uint32_t i = 0; i < q->ext_count && n > 0 && k < max; i++) {
		const struct usn_txq_ext *e = ext_at(q, i);
		if (off >= e->len) {
			off -= e->len;
			if (!e->ref)
				ring_off += e->len;
			continue;
		}
		uint32_t take = USN_MIN(e->len - off, n);
		if (e->ref) {
			iov[k].iov_base = (void *)(uintptr_t)(e->base + off);
			iov[k].iov_len = take;
			if (ret_refs)
				ret_refs[k] = e->ref;
			k++;
		} else {
			struct iovec r[2];
			int nr = usn_bytering_peek_iov(&q->ring, ring_off + off, take, r);
			for (int j = 0; j < nr && k < max; j++) {
				if (ret_refs)
					ret_refs[k] = NULL;
				iov[k++] = r[j];
			}
			ring_off += e->len;
		}
		n -= take;
		off = 0;
	}
	return k;
}

void usn_txq_consume(struct usn_txq *q, uint32_t n)
{
	n = USN_MIN(n, q->len);
	q->len -= n;
	while (n > 0 && q->ext_count > 0) {
		struct usn_txq_ext *e = ext_at(q, 0);
		uint32_t take = USN_MIN(n, e->len);
		if (e->ref)
			e->base += take;
		else
			usn_bytering_consume(&q->ring, take);
		e->len -= take;
		n -= take;
		if (e->len == 0) {
			if (e->ref)
				ref_put(e->ref);
			q->ext_head = (q->ext_head + 1) % q->ext_cap;
			q->ext_count--;
		}
	}
	if (q->ext_count == 0 && q->ext) {
		free(q->ext);
		q->ext = NULL;
		q->ext_cap = 0;
		q->ext_head = 0;
	}
}
