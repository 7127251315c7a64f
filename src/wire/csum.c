/* SPDX-License-Identifier: MIT */
/*
 * csum.c - the Internet checksum: partial sums over big-endian 16-bit words
 * (RFC 1071 §1, §4.1), folding, combination of blocks summed separately
 * (RFC 1071 §2(A) associativity, §2(B) byte-order independence for blocks
 * at odd offsets), the IPv4 pseudo-header (RFC 793 §3.1, RFC 768) and
 * incremental update (RFC 1624 §3 eqn. 3).
 *
 * It is not a place for protocol knowledge: which bytes a checksum covers is
 * decided by the callers in ipv4.c, icmp.c, udp.c and tcp.c. Pure functions,
 * no state, except the block-sum cache at the end, which keeps the sums of
 * memory its owner lends (a cached file) so they are computed once.
 */
#include "wire_csum.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Folds a 64-bit accumulator to 32 bits with end-around carry. Because
 * 2^16 - 1 divides 2^32 - 1 and 2^64 - 1, a ones'-complement sum taken
 * modulo any of them folds to the same 16-bit value (RFC 1071 §2(C)). */
static uint32_t fold64(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

/* RFC 1071 §4.1: add 16-bit words, an odd last byte taken as the high byte
 * of a word padded with zero. Here 32-bit big-endian words go into a 64-bit
 * accumulator, which is the same sum modulo 2^16 - 1 (RFC 1071 §2(C),
 * "parallel summation"). */
uint32_t usn_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;

	while (len >= 32) {
		/* At most 8 additions of < 2^32 per pass, and the fold
		 * below keeps acc < 2^33: no overflow however long buf is. */
		uint64_t a = (uint64_t)usn_get_be32(p) + usn_get_be32(p + 4) +
			     usn_get_be32(p + 8) + usn_get_be32(p + 12);
		uint64_t b = (uint64_t)usn_get_be32(p + 16) + usn_get_be32(p + 20) +
			     usn_get_be32(p + 24) + usn_get_be32(p + 28);
		acc += a + b;
		acc = (acc & 0xffffffffu) + (acc >> 32);
		p += 32;
		len -= 32;
	}
	while (len >= 4) {
		acc += usn_get_be32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		acc += usn_get_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	return fold64(acc);
}

uint16_t usn_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t usn_csum_finish(uint32_t sum)
{
	return (uint16_t)~usn_csum_fold(sum);
}

/* Ones'-complement addition of two 32-bit partial sums. */
static uint32_t add32(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	return s + (s < b);
}

/* The same sum, 64-bit words at a time in the host's byte order with an
 * end-around carry on each addition (RFC 1071 §2(B): the sum of the
 * byte-swapped words is the byte-swapped sum, so one swap at the end
 * gives the big-endian value on a little-endian host; RFC 1071 §2(C): a
 * 64-bit ones'-complement sum folds to the 16-bit one). Byte k of an
 * 8-byte word sits in the lane of its parity, in the tail as in the body,
 * so an odd last byte is the high byte of a zero-padded word. */
static uint64_t add64(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

static unsigned tail_shift(size_t k)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (unsigned)(8 * k);
#else
	return (unsigned)(8 * (7 - k));
#endif
}

uint32_t usn_csum_partial64(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = 0, w0, w1, w2, w3;

	while (len >= 32) {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		memcpy(&w2, p + 16, 8);
		memcpy(&w3, p + 24, 8);
		acc = add64(add64(add64(add64(acc, w0), w1), w2), w3);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w0, p, 8);
		acc = add64(acc, w0);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t t = 0;
		size_t k = 0;
		if (len & 4) {
			uint32_t v;
			memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			t = v;
#else
			t = (uint64_t)v << 32;
#endif
			k = 4;
		}
		for (; k < len; k++)
			t |= (uint64_t)p[k] << tail_shift(k);
		acc = add64(acc, t);
	}
	uint32_t s = fold64(acc);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (s & 0xff) << 8 | s >> 8;
#endif
	return add32(sum, s);
}

/* RFC 1071 §2(B): a block summed as if it started at an even offset, but
 * that sits at an odd offset of the message, has its bytes in the other
 * lane of every word; swapping the bytes of its folded sum moves them back. */
uint32_t usn_csum_combine(uint32_t sum, uint32_t block_sum, size_t offset)
{
	if (offset & 1) {
		uint16_t f = usn_csum_fold(block_sum);

		block_sum = (uint32_t)((f & 0xff) << 8 | f >> 8);
	}
	return add32(sum, block_sum);
}

/* RFC 793 §3.1 and RFC 768: source address, destination address, zero,
 * protocol, and the TCP or UDP length (header plus data). */
uint32_t usn_csum_pseudo_v4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

/* RFC 1624 §3 eqn. 3: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never turns
 * a checksum into +0 (0x0000) when the sum is -0, matching what a full
 * recomputation with usn_csum_finish() gives for any non-zero data. */
uint16_t usn_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~old_word + new_word;

	return (uint16_t)~usn_csum_fold(s);
}

uint16_t usn_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
	uint32_t s = (uint32_t)(uint16_t)~csum +
		     (uint16_t)~(old_val >> 16) + (uint16_t)~old_val +
		     (new_val >> 16) + (new_val & 0xffff);

	return (uint16_t)~usn_csum_fold(s);
}

/* The block-sum cache. sums[k] is the folded sum of block k (the last one
 * may be short); filled has one bit per chunk of blocks already summed.
 * Every block starts at an even offset of the memory, so a run of whole
 * blocks sums to the value the run would have as one block, and
 * usn_csum_combine() places it at its offset in the segment. */
struct usn_csum_cache {
	const uint8_t *base;
	size_t len;
	size_t nblocks;
	uint16_t *sums;
	uint64_t *filled;
};

#define BLOCKS_PER_CHUNK (USN_CSUM_CACHE_CHUNK / USN_CSUM_CACHE_BLOCK)

struct usn_csum_cache *usn_csum_cache_new(const void *base, size_t len)
{
	struct usn_csum_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->base = base;
	c->len = len;
	c->nblocks = (len + USN_CSUM_CACHE_BLOCK - 1) / USN_CSUM_CACHE_BLOCK;
	size_t nchunks = (c->nblocks + BLOCKS_PER_CHUNK - 1) / BLOCKS_PER_CHUNK;
	/* calloc: the pages of the table are only made resident as chunks
	 * are filled. */
	c->sums = calloc(c->nblocks ? c->nblocks : 1, sizeof(*c->sums));
	c->filled = calloc((nchunks + 63) / 64 ? (nchunks + 63) / 64 : 1, sizeof(*c->filled));
	if (!c->sums || !c->filled) {
		usn_csum_cache_free(c);
		return NULL;
	}
	return c;
}

void usn_csum_cache_free(struct usn_csum_cache *c)
{
	if (!c)
		return;
	free(c->sums);
	free(c->filled);
	free(c);
}

/* Sums the blocks of chunk k; returns the bytes read. */
static size_t fill_chunk(struct usn_csum_cache *c, size_t k)
{
	size_t b0 = k * BLOCKS_PER_CHUNK;
	size_t b1 = b0 + BLOCKS_PER_CHUNK < c->nblocks ? b0 + BLOCKS_PER_CHUNK : c->nblocks;
	size_t read = 0;

	for (size_t b = b0; b < b1; b++) {
		size_t off = b * USN_CSUM_CACHE_BLOCK;
		size_t n = c->len - off < USN_CSUM_CACHE_BLOCK ? c->len - off : USN_CSUM_CACHE_BLOCK;
		c->sums[b] = usn_csum_fold(usn_csum_partial(c->base + off, n, 0));
		read += n;
	}
	c->filled[k / 64] |= (uint64_t)1 << (k % 64);
	return read;
}

uint32_t usn_csum_cache_sum(struct usn_csum_cache *c, const void *p, size_t len, size_t *ret_read,
			    size_t *ret_cached)
{
	const uint8_t *q = p;
	size_t read = 0;
	uint32_t sum;

	if (!c || q < c->base || (size_t)(q - c->base) > c->len || len > c->len - (size_t)(q - c->base)) {
		if (ret_read)
			*ret_read = len;
		if (ret_cached)
			*ret_cached = 0;
		return usn_csum_partial(p, len, 0);
	}
	size_t off = (size_t)(q - c->base);
	size_t end = off + len;
	/* Whole blocks in [off, end): from the first boundary at or after
	 * off to the last block that ends by `end` (the short last block
	 * counts when the range reaches the end of the memory). */
	size_t b0 = (off + USN_CSUM_CACHE_BLOCK - 1) / USN_CSUM_CACHE_BLOCK;
	size_t b1 = end == c->len ? c->nblocks : end / USN_CSUM_CACHE_BLOCK;
	if (b0 >= b1) {
		if (ret_read)
			*ret_read = len;
		if (ret_cached)
			*ret_cached = 0;
		return usn_csum_partial(p, len, 0);
	}
	size_t head = b0 * USN_CSUM_CACHE_BLOCK - off;
	size_t filled = 0;
	size_t mid_end = b1 == c->nblocks ? c->len : b1 * USN_CSUM_CACHE_BLOCK;
	sum = usn_csum_partial(q, head, 0);
	read += head;
	uint64_t acc = 0;
	for (size_t b = b0; b < b1; b++) {
		size_t k = b / BLOCKS_PER_CHUNK;
		if (!(c->filled[k / 64] & ((uint64_t)1 << (k % 64))))
			filled += fill_chunk(c, k);
		acc += c->sums[b];
	}
	sum = usn_csum_combine(sum, fold64(acc), head);
	sum = usn_csum_combine(sum, usn_csum_partial(c->base + mid_end, end - mid_end, 0), mid_end - off);
	read += end - mid_end;
	if (ret_cached)
		*ret_cached = len - read;
	if (ret_read)
		*ret_read = read + filled;
	return sum;
}
