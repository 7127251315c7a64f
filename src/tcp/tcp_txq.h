/* SPDX-License-Identifier: MIT */
/*
 * tcp_txq.h - the send queue of a TCP connection: a sequence of extents,
 * each either bytes copied into the connection's byte ring (send()) or a
 * reference to memory lent by the application (usn_send_ref()) or mapped
 * from a file (usn_sendfile()), so that file data goes from the page cache
 * to the device without an intermediate copy in the stack.
 *
 * Offsets are from the first unacknowledged byte (the queue's start);
 * segments are built by asking for the iovecs that cover a range, which may
 * cross extents; acknowledged bytes are consumed from the start, which
 * drops finished extents and unmaps a file mapping when its last extent
 * goes. Capacity (cap) bounds the total queued, copied or mapped, as the
 * socket's send buffer. Knows nothing of TCP sequence numbers.
 */
#ifndef USN_TCP_TXQ_H
#define USN_TCP_TXQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "bytering.h"
#include "usnet/usnet.h" /* struct usn_memref */

struct usn_txq_ext {
	struct usn_memref *ref; /* NULL: the bytes are in the ring */
	const uint8_t *base;    /* lent extents: the first byte */
	uint32_t len;
};

#define USN_TXQ_MAX_IOV 8

struct usn_txq {
	uint32_t len;        /* bytes queued in all extents */
	uint32_t cap;        /* bound on len; 0 until init */
	struct usn_bytering ring;
	struct usn_txq_ext *ext; /* NULL while empty: an idle connection holds none */
	uint32_t ext_cap, ext_head, ext_count;
};

int usn_txq_init(struct usn_txq *q, uint32_t cap);
void usn_txq_fini(struct usn_txq *q);
static inline bool usn_txq_ready(const struct usn_txq *q)
{
	return q->cap != 0;
}
static inline uint32_t usn_txq_space(const struct usn_txq *q)
{
	return q->cap > q->len ? q->cap - q->len : 0;
}
/* Copies up to n bytes in; returns the number taken. */
uint32_t usn_txq_append(struct usn_txq *q, const void *src, uint32_t n);
/* Queues up to count bytes of fd from *offset by mapping them; advances
 * *offset. Returns the bytes queued, 0 when there is no room, or -errno
 * (-EINVAL for a bad range, -ENOMEM, the mmap error). Reads past the end
 * of the file are cut to it (0 at end of file). */
ssize_t usn_txq_append_file(struct usn_txq *q, int fd, off_t *offset, size_t count);
/* Queues up to n bytes of memory held by ref (one reference taken).
 * Returns the bytes queued (0: no room). */
uint32_t usn_txq_append_ref(struct usn_txq *q, const void *base, uint32_t n, struct usn_memref *ref);
/* Up to USN_TXQ_MAX_IOV iovecs covering n bytes from offset off; returns
 * how many were filled (they cover fewer bytes only past the end). */
int usn_txq_peek_iov(const struct usn_txq *q, uint32_t off, uint32_t n, struct iovec *iov, int max);
/* The same, also giving for each iovec the reference that holds its memory
 * (NULL for bytes in the ring, which the caller must copy). */
int usn_txq_peek_iov_ref(const struct usn_txq *q, uint32_t off, uint32_t n, struct iovec *iov,
			 struct usn_memref **ret_refs, int max);
/* Drops n bytes from the start. */
void usn_txq_consume(struct usn_txq *q, uint32_t n);

#endif
