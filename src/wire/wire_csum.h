/* SPDX-License-Identifier: MIT */
/*
 * wire_csum.h - the Internet checksum (RFC 1071), incremental update
 * (RFC 1624) and block combination, so that the sum of a payload can be
 * computed once per block and reused (checksum of a chain of buffers, cached
 * sums of file blocks).
 *
 * A "partial sum" is a 32-bit ones'-complement accumulator that has not been
 * folded or inverted. Sums are of the bytes as they are on the wire (big-
 * endian 16-bit words), returned in host order.
 */
#ifndef USN_WIRE_CSUM_H
#define USN_WIRE_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Partial sum of buf[0..len), added to `sum`. The block is taken to start at
 * an even offset of the message. */
uint32_t usn_csum_partial(const void *buf, size_t len, uint32_t sum);
/* The same partial sum, in fewer instructions (64-bit words in host byte
 * order, swapped once): once folded, equal to usn_csum_partial's. */
uint32_t usn_csum_partial64(const void *buf, size_t len, uint32_t sum);
/* Folds a partial sum to 16 bits (not inverted). */
uint16_t usn_csum_fold(uint32_t sum);
/* The checksum field value: ~fold(sum). */
uint16_t usn_csum_finish(uint32_t sum);
/* Combines the partial sum of a block that starts at byte `offset` of a
 * message into the message's running sum (a block at an odd offset has its
 * bytes swapped). */
uint32_t usn_csum_combine(uint32_t sum, uint32_t block_sum, size_t offset);
/* Partial sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768). */
uint32_t usn_csum_pseudo_v4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* RFC 1624 eqn. 3: new checksum field after a 16-bit word changes from
 * old_word to new_word. All values host order. */
uint16_t usn_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);
uint16_t usn_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

/* Sums of lent memory kept per block (a cached file's mapping), so that a
 * segment built from it is checksummed with one addition per 64 bytes and
 * a pass over at most the 126 bytes at its two ragged ends, not over its
 * whole payload. Blocks are summed a chunk (4 KB) at a time the first time
 * a range needs them, so memory never sent, or only sent through a device
 * with checksum offload, is never read for this. The memory must not change
 * while the cache lives. */
#define USN_CSUM_CACHE_BLOCK 64u
#define USN_CSUM_CACHE_CHUNK 4096u
struct usn_csum_cache;
/* NULL when out of memory. Costs 2 bytes per block, taken on first use. */
struct usn_csum_cache *usn_csum_cache_new(const void *base, size_t len);
void usn_csum_cache_free(struct usn_csum_cache *c);
/* The partial sum of len bytes at p, which must lie inside the cached
 * memory (otherwise they are summed directly): the same value, once
 * folded, as usn_csum_fold(usn_csum_partial(p, len, 0)). If not NULL,
 * *ret_read is set to the bytes actually read (the ragged ends plus any
 * chunk summed now for the first time) and *ret_cached to the bytes of the
 * range whose sum came from stored block sums. */
uint32_t usn_csum_cache_sum(struct usn_csum_cache *c, const void *p, size_t len, size_t *ret_read,
			    size_t *ret_cached);

#endif
