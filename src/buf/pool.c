/* SPDX-License-Identifier: MIT */
/*
 * pool.c - the packet-buffer pool: one anonymous mapping cut into `count`
 * slots of `buf_size` bytes (on 2 MiB huge pages when the region is at least
 * that large and the system has them, else on normal pages), a metadata
 * array and a LIFO stack of free indices, so that the most recently freed,
 * cache-warm buffer is handed out next. Buffers are named by 32-bit index.
 * It is not thread-safe and does not grow: an empty pool is an ordinary
 * condition that the caller counts (BUF_ALLOC_FAIL). A device may borrow
 * its highest slots for as long as it lives (usn_pool_dev_take: DPDK's
 * receive mempool over them), and a slot it delivers goes back to it, not
 * to the free stack, when freed. No RFC applies.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pool.h"
#include "usnet/usnet.h" /* struct usn_memref */
#include "util.h"

#define POOL_ALIGN 64u
#define POOL_HUGE_SIZE (2u << 20)
#define POOL_PAGE_SIZE 4096u

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

static bool round_up(size_t v, size_t to, size_t *ret)
{
	size_t r = v % to;

	if (r == 0) {
		*ret = v;
		return true;
	}
	if (v > SIZE_MAX - (to - r))
		return false;
	*ret = v + (to - r);
	return true;
}

/* Maps the region, on huge pages when worth trying; sets base, region_len
 * and huge. */
static int map_region(struct usn_pool *p, size_t len)
{
	size_t huge_len, page_len;
	void *m;

	if (len >= POOL_HUGE_SIZE && round_up(len, POOL_HUGE_SIZE, &huge_len)) {
		m = mmap(NULL, huge_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
		if (m != MAP_FAILED) {
			p->base = m;
			p->region_len = huge_len;
			p->huge = true;
			return 0;
		}
		/* No huge pages reserved (the common case without
		 * vm.nr_hugepages): normal pages serve, only with more TLB
		 * misses. */
	}
	if (!round_up(len, POOL_PAGE_SIZE, &page_len))
		return -EINVAL;
	m = mmap(NULL, page_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	p->base = m;
	p->region_len = page_len;
	p->huge = false;
	return 0;
}

int usn_pool_init(struct usn_pool *p, uint32_t count, uint32_t buf_size, uint32_t headroom)
{
	size_t len;
	int ret;

	memset(p, 0, sizeof(*p));
	/* USN_BUF_NONE must never name a real buffer, hence count < 2^32 - 1
	 * is implied by the type and count == UINT32_MAX is refused. */
	if (count == 0 || count == USN_BUF_NONE)
		return -EINVAL;
	if (buf_size % POOL_ALIGN != 0 || headroom > buf_size ||
	    buf_size - headroom < POOL_ALIGN)
		return -EINVAL;
	if ((size_t)count > SIZE_MAX / buf_size)
		return -EINVAL;
	len = (size_t)count * buf_size;

	p->meta = calloc(count, sizeof(*p->meta));
	p->free_stack = calloc(count, sizeof(*p->free_stack));
	if (!p->meta || !p->free_stack) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = map_region(p, len);
	if (ret < 0)
		goto fail;
	p->count = count;
	p->buf_size = buf_size;
	p->headroom = headroom;
	/* Stacked so that the first allocations hand out 0, 1, 2, ... */
	for (uint32_t i = 0; i < count; i++) {
		p->free_stack[i] = count - 1 - i;
		p->meta[i].next = USN_BUF_NONE;
	}
	p->nfree = count;
	return 0;
fail:
	free(p->meta);
	free(p->free_stack);
	free(p->ext_ref);
	memset(p, 0, sizeof(*p));
	return ret;
}

void usn_pool_fini(struct usn_pool *p)
{
	if (p->base)
		munmap(p->base, p->region_len);
	free(p->meta);
	free(p->free_stack);
	free(p->ext_ref);
	memset(p, 0, sizeof(*p));
}

bool usn_buf_valid(const struct usn_pool *p, uint32_t idx)
{
	return idx < p->count && (p->meta[idx].flags & USN_BUF_F_ALLOCATED);
}

uint32_t usn_buf_alloc(struct usn_pool *p)
{
	struct usn_buf_meta *m;
	uint32_t idx;

	if (p->nfree == 0)
		return USN_BUF_NONE;
	idx = p->free_stack[--p->nfree];
	m = &p->meta[idx];
	assert(!(m->flags & USN_BUF_F_ALLOCATED));
	m->next = USN_BUF_NONE;
	m->qnext = USN_BUF_NONE;
	m->off = p->headroom;
	m->len = 0;
	m->flags = USN_BUF_F_ALLOCATED;
	m->aux = 0;
	return idx;
}

uint32_t usn_buf_alloc_ext(struct usn_pool *p, const void *data, uint32_t len, struct usn_memref *ref)
{
	if (!p->ext_ref) {
		p->ext_ref = calloc(p->count, sizeof(*p->ext_ref));
		if (!p->ext_ref)
			return USN_BUF_NONE;
	}
	uint32_t idx = usn_buf_alloc(p);
	if (idx == USN_BUF_NONE)
		return idx;
	struct usn_buf_meta *m = &p->meta[idx];
	m->flags |= USN_BUF_F_EXT;
	m->aux = (uint64_t)(uintptr_t)data;
	m->off = 0;
	m->len = len;
	p->ext_ref[idx] = ref;
	ref->refs++;
	return idx;
}

void usn_buf_free(struct usn_pool *p, uint32_t idx)
{
	/* A double free or a stray index is a bug in the caller, never input
	 * from the wire: assert in debug builds; in release builds refuse it
	 * rather than corrupt the free stack. */
	assert(usn_buf_valid(p, idx));
	if (!usn_buf_valid(p, idx))
		return;
	assert(p->nfree < p->count);
	if (p->meta[idx].flags & USN_BUF_F_DEV) {
		/* Back to the device that delivered it (its mempool). */
		p->meta[idx].flags = USN_BUF_F_DEV;
		p->meta[idx].next = USN_BUF_NONE;
		p->dev_held--;
		p->dev_give_back(p->dev_ctx, idx);
		return;
	}
	if (p->meta[idx].flags & USN_BUF_F_EXT) {
		struct usn_memref *r = p->ext_ref[idx];
		p->ext_ref[idx] = NULL;
		if (--r->refs == 0 && r->release)
			r->release(r);
	}
	p->meta[idx].flags = 0;
	p->meta[idx].next = USN_BUF_NONE;
	p->free_stack[p->nfree++] = idx;
}

int usn_pool_dev_take(struct usn_pool *p, uint32_t n, void (*give_back)(void *ctx, uint32_t idx), void *ctx,
		      uint32_t *first)
{
	if (p->dev_count)
		return -EBUSY;
	if (n == 0 || n >= p->count || !give_back)
		return -EINVAL;
	uint32_t lo = p->count - n;
	for (uint32_t i = lo; i < p->count; i++)
		if (p->meta[i].flags != 0)
			return -ENOSPC;
	/* Out of the free stack, keeping the order of the others. */
	uint32_t w = 0;
	for (uint32_t r = 0; r < p->nfree; r++)
		if (p->free_stack[r] < lo)
			p->free_stack[w++] = p->free_stack[r];
	assert(w + n == p->nfree);
	p->nfree = w;
	for (uint32_t i = lo; i < p->count; i++) {
		p->meta[i].flags = USN_BUF_F_DEV;
		p->meta[i].next = USN_BUF_NONE;
	}
	p->dev_give_back = give_back;
	p->dev_ctx = ctx;
	p->dev_first = lo;
	p->dev_count = n;
	p->dev_held = 0;
	*first = lo;
	return 0;
}

int usn_pool_dev_deliver(struct usn_pool *p, uint32_t idx, uint32_t off, uint32_t len)
{
	if (idx - p->dev_first >= p->dev_count || p->meta[idx].flags != USN_BUF_F_DEV || off > p->buf_size ||
	    len > p->buf_size - off)
		return -EINVAL;
	struct usn_buf_meta *m = &p->meta[idx];
	m->next = USN_BUF_NONE;
	m->qnext = USN_BUF_NONE;
	m->off = off;
	m->len = len;
	m->aux = 0;
	m->flags = USN_BUF_F_ALLOCATED | USN_BUF_F_DEV;
	p->dev_held++;
	return 0;
}

void usn_pool_dev_release(struct usn_pool *p)
{
	for (uint32_t i = p->dev_first; i < p->dev_first + p->dev_count; i++) {
		struct usn_buf_meta *m = &p->meta[i];
		if (m->flags & USN_BUF_F_ALLOCATED) {
			m->flags &= ~USN_BUF_F_DEV; /* freed to the pool later */
		} else {
			m->flags = 0;
			m->next = USN_BUF_NONE;
			p->free_stack[p->nfree++] = i;
		}
	}
	p->dev_give_back = NULL;
	p->dev_ctx = NULL;
	p->dev_first = p->dev_count = p->dev_held = 0;
}

void usn_buf_free_chain(struct usn_pool *p, uint32_t head)
{
	while (head != USN_BUF_NONE) {
		uint32_t next;

		assert(usn_buf_valid(p, head));
		/* A bad link (or a cycle, which meets a freed buffer) ends the
		 * walk instead of looping or corrupting the pool. */
		if (!usn_buf_valid(p, head))
			return;
		next = p->meta[head].next;
		usn_buf_free(p, head);
		head = next;
	}
}

uint8_t *usn_buf_push(struct usn_pool *p, uint32_t idx, uint32_t n)
{
	struct usn_buf_meta *m = &p->meta[idx];

	assert(usn_buf_valid(p, idx));
	if (n > m->off)
		return NULL;
	if (m->flags & USN_BUF_F_EXT)
		return NULL; /* lent memory has no headroom */
	m->off -= n;
	m->len += n;
	return usn_buf_data(p, idx);
}

uint8_t *usn_buf_pull(struct usn_pool *p, uint32_t idx, uint32_t n)
{
	struct usn_buf_meta *m = &p->meta[idx];

	assert(usn_buf_valid(p, idx));
	if (n > m->len)
		return NULL;
	if (m->flags & USN_BUF_F_EXT)
		m->aux += n;
	else
		m->off += n;
	m->len -= n;
	return usn_buf_data(p, idx);
}

uint8_t *usn_buf_put(struct usn_pool *p, uint32_t idx, uint32_t n)
{
	struct usn_buf_meta *m = &p->meta[idx];
	uint8_t *tail;

	assert(usn_buf_valid(p, idx));
	if (n > usn_buf_tailroom(p, idx))
		return NULL;
	tail = usn_buf_data(p, idx) + m->len;
	m->len += n;
	return tail;
}

int usn_buf_trim(struct usn_pool *p, uint32_t idx, uint32_t len)
{
	assert(usn_buf_valid(p, idx));
	if (len > p->meta[idx].len)
		return -EINVAL;
	p->meta[idx].len = len;
	return 0;
}

size_t usn_buf_chain_len(const struct usn_pool *p, uint32_t head)
{
	size_t total = 0;

	/* At most count links: a corrupted chain cannot loop forever. */
	for (uint32_t steps = 0; head != USN_BUF_NONE && steps < p->count; steps++) {
		assert(usn_buf_valid(p, head));
		if (head >= p->count)
			break;
		total += p->meta[head].len;
		head = p->meta[head].next;
	}
	return total;
}

size_t usn_buf_chain_copy(struct usn_pool *p, uint32_t head, size_t off, void *dst, size_t len)
{
	uint8_t *out = dst;
	size_t copied = 0;

	for (uint32_t steps = 0; head != USN_BUF_NONE && steps < p->count && copied < len;
	     steps++) {
		const struct usn_buf_meta *m;
		size_t n;

		assert(usn_buf_valid(p, head));
		if (head >= p->count)
			break;
		m = &p->meta[head];
		if (off >= m->len) {
			off -= m->len;
		} else {
			n = USN_MIN((size_t)m->len - off, len - copied);
			memcpy(out + copied, usn_buf_data(p, head) + off, n);
			copied += n;
			off = 0;
		}
		head = m->next;
	}
	return copied;
}

void usn_buf_chain_trim(struct usn_pool *p, uint32_t head, size_t len)
{
	uint32_t b = head, prev = USN_BUF_NONE;
	while (b != USN_BUF_NONE && len >= p->meta[b].len) {
		len -= p->meta[b].len;
		prev = b;
		b = p->meta[b].next;
	}
	if (b == USN_BUF_NONE)
		return;
	if (len > 0 || prev == USN_BUF_NONE) {
		p->meta[b].len = (uint32_t)len;
		prev = b;
		b = p->meta[b].next;
	}
	p->meta[prev].next = USN_BUF_NONE;
	usn_buf_free_chain(p, b);
}
