/* SPDX-License-Identifier: MIT */
/*
 * bytering.h - a byte ring for one direction of a TCP connection.
 *
 * Receive side: bytes are written at an offset from the end of the in-order
 * data, so out-of-order segments are placed where they belong; the ring
 * remembers which ranges past the in-order end it holds (at most
 * USN_BYTERING_MAX_RANGES, most recently changed first, which is the order
 * RFC 2018 §4 wants SACK blocks in) and advances the in-order end over them
 * as the holes fill. Send side: bytes are appended, read at any offset from
 * the start (to build or rebuild segments) and consumed from the start when
 * acknowledged.
 *
 * Offsets and lengths are relative to the ring's start (the first unread or
 * unacknowledged byte), never absolute sequence numbers: the TCP layer maps
 * sequence numbers to offsets. Capacity (the most bytes held: the window)
 * is a power of two. Storage is allocated when bytes first come, grows by
 * doubling as more are held (up to the capacity), and is given back when
 * the ring empties, so an idle connection holds none; a reader of
 * zero-copy pointers pins it (usn_bytering_pin) so that they stay valid.
 * Not thread-safe. Knows nothing of TCP.
 */
#ifndef USN_BYTERING_H
#define USN_BYTERING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define USN_BYTERING_MAX_RANGES 32

struct usn_byterange {
	uint32_t start; /* offset from the ring's start */
	uint32_t end;   /* exclusive */
};

#define USN_BYTERING_RETIRED 2
#define USN_BYTERING_FIRST 4096u /* the first storage a ring takes */

/* Spare first-size storage blocks of one stack, so that a ring that
 * empties and fills again with every request reuses a block instead of
 * asking the allocator each time. */
struct usn_bytering_cache {
	void *free; /* blocks linked through their first bytes */
	uint32_t n, max;
};
void usn_bytering_cache_fini(struct usn_bytering_cache *c);

struct usn_bytering {
	uint8_t *buf;     /* storage, NULL while empty */
	/* Out-of-order ranges beyond len (receive side), sorted by recency:
	 * ranges[0] is the one most recently added to or created. They never
	 * overlap or touch each other or the in-order data. Allocated (room
	 * for USN_BYTERING_MAX_RANGES) with the first one and freed when the
	 * last is absorbed: in-order traffic holds none. */
	struct usn_byterange *ranges;
	/* Pinned: zero-copy pointers into the storage are out; storage that
	 * grew meanwhile is retired (kept) until unpin, and an emptied ring
	 * keeps its storage. */
	uint8_t *retired[USN_BYTERING_RETIRED];
	struct usn_bytering_cache *cache; /* optional, set by the owner after init */
	uint32_t cap;     /* capacity, power of two: the most bytes held */
	uint32_t size;    /* bytes of storage, power of two <= cap (0: none) */
	uint32_t head;    /* free-running index of the first byte */
	uint32_t len;     /* in-order bytes from head */
	uint32_t ooo_bytes; /* bytes held in ranges */
	uint8_t nranges;
	bool pinned;
	uint8_t nretired;
};

/* cap is rounded up to a power of two (at least 4096). No storage yet.
 * 0, or -ENOMEM for cap > 2^30 (the largest TCP window, and the growth
 * that write_at returns must fit an int). */
int usn_bytering_init(struct usn_bytering *r, uint32_t cap);
void usn_bytering_fini(struct usn_bytering *r);
/* Empties the ring (its storage goes unless pinned). */
void usn_bytering_reset(struct usn_bytering *r);
/* Zero-copy pointers from peek_iov are out: the storage they point into
 * stays until unpin (storage replaced meanwhile is kept aside). */
void usn_bytering_pin(struct usn_bytering *r);
void usn_bytering_unpin(struct usn_bytering *r);

/* Bytes that can still be placed: cap - len (out-of-order bytes occupy
 * space beyond len that is counted here as free, since the window is
 * measured from the in-order end). */
static inline uint32_t usn_bytering_space(const struct usn_bytering *r)
{
	return r->cap - r->len;
}

/* ---- receive side ---- */

/* Writes len bytes at offset `off` past the in-order end (off 0: in order).
 * Bytes beyond the capacity (off + len > space) are not written. Data
 * overlapping what is already held is written again (identical bytes in a
 * correct peer; the ring keeps the newer copy). Returns how many bytes the
 * in-order data grew by (0 for a purely out-of-order write, or one wholly
 * past the capacity), or -ENOBUFS when the write would need more than
 * USN_BYTERING_MAX_RANGES ranges or storage cannot grow (out of memory,
 * or too many retired while pinned): nothing is written then. An
 * out-of-order write merges every range it overlaps or touches and the
 * result becomes ranges[0], even when it only repeats bytes already held
 * (RFC 2018 §4: the first block holds the segment that triggered the ACK);
 * the other ranges keep their order. */
int usn_bytering_write_at(struct usn_bytering *r, uint32_t off, const void *data, uint32_t len);
/* As write_at, from a gather list. */
int usn_bytering_writev_at(struct usn_bytering *r, uint32_t off, const struct iovec *iov, int iovcnt);

/* ---- both sides ---- */

/* Copies up to n in-order bytes starting `off` bytes after the start;
 * returns the number copied. Does not consume. */
uint32_t usn_bytering_peek(const struct usn_bytering *r, uint32_t off, void *dst, uint32_t n);
/* Up to two iovecs covering up to n in-order bytes from offset off
 * (zero-copy read); returns how many iovecs were filled. */
int usn_bytering_peek_iov(const struct usn_bytering *r, uint32_t off, uint32_t n, struct iovec iov[2]);
/* Drops n bytes from the start (n <= len; asserted, clamped to len in
 * release builds). Range offsets move with the start. */
void usn_bytering_consume(struct usn_bytering *r, uint32_t n);

/* ---- send side ---- */

/* Appends up to n bytes at the in-order end; returns the number taken
 * (limited by space, 0 also when storage cannot grow). Must not be mixed
 * with out-of-order writes. */
uint32_t usn_bytering_append(struct usn_bytering *r, const void *src, uint32_t n);
/* Room to append into directly: up to two iovecs covering up to n free
 * bytes after the end (storage grown to hold them; 0 iovecs when it cannot
 * grow); then usn_bytering_commit(r, k) adds k of them (k no more than
 * reserved). */
int usn_bytering_reserve_iov(struct usn_bytering *r, uint32_t n, struct iovec iov[2]);
void usn_bytering_commit(struct usn_bytering *r, uint32_t n);

#endif
