/* SPDX-License-Identifier: MIT */
/*
 * pool.h - packet buffers carved from one mapping and named by 32-bit index.
 *
 * A pool is a single region of `count` slots of `buf_size` bytes (huge pages
 * when the system has them, else normal pages), plus a metadata array and a
 * LIFO free stack of indices. Indices, not pointers, name buffers so that the
 * region can later be shared (daemon, AF_XDP UMEM, DPDK mempool). A buffer
 * holds one frame or fragment: data starts at meta.off (after headroom) and
 * is meta.len bytes long; buffers chain through meta.next to carry a
 * datagram larger than one buffer (reassembly, fragmentation).
 * Not thread-safe: a pool belongs to one stack.
 */
#ifndef USN_POOL_H
#define USN_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USN_BUF_NONE UINT32_MAX

struct usn_buf_meta {
	uint32_t next;  /* next buffer of the same frame (a chain), or USN_BUF_NONE */
	uint32_t off;   /* data offset inside the slot */
	uint32_t len;   /* data length */
	uint32_t flags; /* USN_BUF_F_* */
	uint32_t qnext; /* next frame in a queue (head buffers only), or USN_BUF_NONE */
	uint32_t pad;
	uint64_t aux;   /* owner-defined (fragment offset, offload request, ...) */
};

#define USN_BUF_F_ALLOCATED 0x1u /* set while allocated; catches double free */
/* Set by a device on a received frame's head: its transport checksum was
 * verified, or is partial because the sender left it to an offload that
 * never runs on this path (virtio-net DATA_VALID / NEEDS_CSUM). */
#define USN_BUF_F_CSUM_OK 0x2u
/* Set by the stack on a frame to send: the device is to finish the
 * transport checksum (aux: csum_start | csum_offset << 16, from the frame's
 * start) and, with TSO, to cut the frame into segments of gso_size
 * (aux bits 32-47) payload bytes. */
#define USN_BUF_F_TX_CSUM 0x4u
#define USN_BUF_F_TSO 0x8u
/* The buffer's data is memory outside the pool, lent by its owner (a file
 * mapping queued with usn_send_ref): aux is its address, len its length,
 * and the pool holds a reference (struct usn_memref) until the buffer is
 * freed. Only for frames being sent: nothing writes into such a buffer. */
#define USN_BUF_F_EXT 0x10u
/* The slot is lent to a device for as long as the device lives (a DPDK
 * mempool's data buffers, usn_pool_dev_take): it is in no free stack, and
 * no allocation hands it out. The device hands it to the stack holding a
 * received frame (usn_pool_dev_deliver: then also ALLOCATED), and freeing
 * it gives it back to the device (dev_give_back) instead of to the pool. */
#define USN_BUF_F_DEV 0x20u
#define USN_BUF_AUX_TX(start, offset, gso) \
	((uint64_t)(start) | (uint64_t)(offset) << 16 | (uint64_t)(gso) << 32)

struct usn_memref;

struct usn_pool {
	uint8_t *base;
	struct usn_memref **ext_ref; /* per buffer: the reference of an EXT buffer */
	size_t region_len;
	bool huge;               /* region is backed by huge pages */
	struct usn_buf_meta *meta;
	uint32_t *free_stack;
	uint32_t nfree;
	uint32_t count;
	uint32_t buf_size;
	uint32_t headroom;
	/* Slots lent to a device for good: [dev_first, dev_first + dev_count),
	 * given back one by one through dev_give_back when the stack frees a
	 * frame the device delivered. dev_held: how many the stack holds. */
	void (*dev_give_back)(void *ctx, uint32_t idx);
	void *dev_ctx;
	uint32_t dev_first, dev_count, dev_held;
};

/* 0 or -errno (-EINVAL for impossible sizes, -ENOMEM). */
int usn_pool_init(struct usn_pool *p, uint32_t count, uint32_t buf_size, uint32_t headroom);
void usn_pool_fini(struct usn_pool *p);

/* A fresh buffer: off = headroom, len = 0, next = NONE, aux = 0; or
 * USN_BUF_NONE when the pool is empty. */
uint32_t usn_buf_alloc(struct usn_pool *p);
void usn_buf_free(struct usn_pool *p, uint32_t idx);
/* A buffer naming len bytes of lent memory at data (USN_BUF_F_EXT), taking
 * one reference on ref; USN_BUF_NONE when the pool is empty. */
uint32_t usn_buf_alloc_ext(struct usn_pool *p, const void *data, uint32_t len, struct usn_memref *ref);
/* Lends n contiguous slots to a device for as long as it lives (a DPDK
 * mempool made over them): the highest n slots, which must all be free;
 * *first is the first. Freeing a delivered one calls give_back(ctx, idx).
 * One device per pool. 0, -EBUSY (a device already has slots), -ENOSPC
 * (those slots are not all free) or -EINVAL (n is 0 or too large). */
int usn_pool_dev_take(struct usn_pool *p, uint32_t n, void (*give_back)(void *ctx, uint32_t idx), void *ctx,
		      uint32_t *first);
/* The device hands slot idx to the stack: a received frame of len bytes
 * at off in the slot. 0, or -EINVAL when idx is not a slot the device
 * holds or off/len do not fit the slot (the device keeps it then). */
int usn_pool_dev_deliver(struct usn_pool *p, uint32_t idx, uint32_t off, uint32_t len);
/* The device is gone: the slots it still holds go back to the pool, and
 * those the stack holds become ordinary buffers (freed to the pool). */
void usn_pool_dev_release(struct usn_pool *p);
/* Frees every buffer of a chain linked by meta.next. */
void usn_buf_free_chain(struct usn_pool *p, uint32_t head);

/* Buffers the stack holds: not free, and not slots a device holds. */
static inline uint32_t usn_pool_in_use(const struct usn_pool *p)
{
	return p->count - p->nfree - (p->dev_count - p->dev_held);
}
static inline struct usn_buf_meta *usn_buf_meta(struct usn_pool *p, uint32_t idx)
{
	return &p->meta[idx];
}
static inline uint8_t *usn_buf_slot(struct usn_pool *p, uint32_t idx)
{
	return p->base + (size_t)idx * p->buf_size;
}
static inline uint8_t *usn_buf_data(struct usn_pool *p, uint32_t idx)
{
	const struct usn_buf_meta *m = &p->meta[idx];
	if (m->flags & USN_BUF_F_EXT)
		return (uint8_t *)(uintptr_t)m->aux;
	return usn_buf_slot(p, idx) + m->off;
}
static inline uint32_t usn_buf_len(const struct usn_pool *p, uint32_t idx)
{
	return p->meta[idx].len;
}
/* Bytes free after the data. */
static inline uint32_t usn_buf_tailroom(const struct usn_pool *p, uint32_t idx)
{
	if (p->meta[idx].flags & USN_BUF_F_EXT)
		return 0;
	return p->buf_size - p->meta[idx].off - p->meta[idx].len;
}
/* Grows the data by n bytes at the front (into headroom); returns the new
 * data start or NULL when the headroom is too small. */
uint8_t *usn_buf_push(struct usn_pool *p, uint32_t idx, uint32_t n);
/* Removes n bytes from the front; NULL when len < n. */
uint8_t *usn_buf_pull(struct usn_pool *p, uint32_t idx, uint32_t n);
/* Grows the data by n bytes at the end; returns a pointer to the new bytes,
 * NULL when the tailroom is too small. */
uint8_t *usn_buf_put(struct usn_pool *p, uint32_t idx, uint32_t n);
/* Shortens the data to len bytes; -EINVAL when len > current length. */
int usn_buf_trim(struct usn_pool *p, uint32_t idx, uint32_t len);
/* Shortens a chain to len bytes, freeing the buffers past it. */
void usn_buf_chain_trim(struct usn_pool *p, uint32_t head, size_t len);
/* Total data bytes of a chain. */
size_t usn_buf_chain_len(const struct usn_pool *p, uint32_t head);
/* Copies up to len bytes of a chain, starting `off` bytes into it, to dst;
 * returns the number copied. */
size_t usn_buf_chain_copy(struct usn_pool *p, uint32_t head, size_t off, void *dst, size_t len);
/* Whether idx names a buffer of this pool that is currently allocated. */
bool usn_buf_valid(const struct usn_pool *p, uint32_t idx);

#endif
