/* SPDX-License-Identifier: MIT */
/*
 * util.h - small compiler and byte-order helpers shared by every layer.
 * Not a place for protocol knowledge or state.
 */
#ifndef USN_UTIL_H
#define USN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define USN_EXPORT __attribute__((visibility("default")))
#define USN_LIKELY(x) __builtin_expect(!!(x), 1)
#define USN_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define USN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define USN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define USN_MAX(a, b) ((a) > (b) ? (a) : (b))
#define USN_CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define USN_NSEC_PER_USEC 1000ULL
#define USN_NSEC_PER_MSEC 1000000ULL
#define USN_NSEC_PER_SEC 1000000000ULL

/* Unaligned big-endian loads and stores: the only way wire/ touches bytes. */
static inline uint16_t usn_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t usn_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void usn_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void usn_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
