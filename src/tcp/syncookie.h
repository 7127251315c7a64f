/* SPDX-License-Identifier: MIT */
/*
 * syncookie.h - initial sequence numbers (RFC 6528) and SYN cookies
 * (RFC 4987 §3.6), both keyed with SipHash-2-4 (libsodium's
 * crypto_shorthash) under the stack's secret. Pure functions of their
 * arguments: time is passed in. They count nothing: the caller bumps
 * TCP_SYNCOOKIES_SENT / _RECV / _FAILED.
 */
#ifndef USN_SYNCOOKIE_H
#define USN_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#define USN_TCP_KEY_LEN 16 /* crypto_shorthash_KEYBYTES */

/* The cookie's counter ticks every 64 s; a cookie made in period t is
 * accepted while the current period is t or t + 1. */
#define USN_SYNCOOKIE_PERIOD_NS (64ULL * 1000000000ULL)
/* Low bits of the SYN-ACK's TSval that carry the options (see below). */
#define USN_SYNCOOKIE_TS_BITS 9
#define USN_SYNCOOKIE_TS_MASK ((1U << USN_SYNCOOKIE_TS_BITS) - 1)

struct usn_tcp_4tuple {
	uint32_t laddr, raddr; /* host order */
	uint16_t lport, rport;
};

/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a timer that ticks every 4 microseconds (now_ns / 4000,
 * truncated to 32 bits), F the low 32 bits of SipHash-2-4 over
 * laddr, lport, raddr, rport, each big-endian (12 bytes). For a fixed
 * tuple and key the ISN grows by exactly one per 4 µs, modulo 2^32. */
uint32_t usn_tcp_isn(const uint8_t key[USN_TCP_KEY_LEN], const struct usn_tcp_4tuple *t, uint64_t now_ns);
/* RFC 7323 §7.1 (a random offset for the timestamp clock), chosen per pair
 * of addresses as Linux does: the offset of a connection's
 * timestamp clock, F(localip, remoteip, secretkey) with SipHash-2-4, so
 * that it is random to an observer but the same for every connection
 * between two hosts. A new connection's timestamps then follow those of
 * an old one on the same ports, and a peer holding that old one in
 * TIME-WAIT accepts its SYN (RFC 6191) instead of dropping it as an old
 * duplicate (PAWS, RFC 7323 §5). */
uint32_t usn_tcp_ts_offset(const uint8_t key[USN_TCP_KEY_LEN], uint32_t laddr, uint32_t raddr);

/* What a SYN cookie remembers of the SYN. */
struct usn_syncookie_opts {
	uint16_t mss;     /* one of the table's values, <= the peer's */
	bool wscale_ok;   /* window scaling negotiated (needs timestamps) */
	uint8_t snd_wscale; /* the peer's shift */
	uint8_t rcv_wscale; /* ours */
	bool sack_ok;     /* SACK-permitted (needs timestamps) */
	bool ts_ok;       /* timestamps negotiated */
};

/* The MSS a cookie would carry for a peer's (already clamped) MSS: the
 * largest of 536, 1200, 1220, 1360, 1400, 1440, 1452, 1460 that is <= mss,
 * or 0 when mss < 536 (no entry fits: the caller should drop that SYN rather
 * than answer with a cookie, since usn_syncookie_make would encode 536). */
uint16_t usn_syncookie_mss(uint16_t mss);

/* The ISN of a SYN-ACK that carries the connection's state as a cookie:
 * 5 bits of a 64 s counter, 3 bits of MSS index, 24 bits of MAC over the
 * 4-tuple, the peer's ISN and the counter. When the SYN had timestamps,
 * window scale and SACK are encoded in the low bits of the TSval we send,
 * returned in *ret_tsval (its other bits from `tsval_base`), as Linux does;
 * without timestamps the connection gets neither (RFC 4987 §3.6: the
 * cookie cannot hold them).
 *
 * On input, o->mss is the MSS to honour (the peer's, clamped by the caller;
 * 536 when the SYN had none) and is rounded down to a table entry; the
 * window shifts are clamped to 14 (RFC 7323 §2.3); wscale_ok and sack_ok
 * are ignored unless ts_ok. The MAC also covers the MSS index and, when
 * ts_ok, the 9 option bits, so none of them can be altered.
 *
 * *ret_tsval is (tsval_base with its low 9 bits replaced by the options),
 * moved back by 512 if that would be after tsval_base, so the TS clock never
 * runs backwards afterwards. Layout of those 9 bits:
 *   bits 0-3  the peer's shift 0..14, or 15 when no window scaling
 *   bits 4-7  our shift 0..14 (0 when no window scaling)
 *   bit  8    SACK permitted
 * When !o->ts_ok, *ret_tsval is tsval_base and ret_tsval may be NULL. */
uint32_t usn_syncookie_make(const uint8_t key[USN_TCP_KEY_LEN], const struct usn_tcp_4tuple *t, uint32_t peer_isn,
			    uint64_t now_ns, const struct usn_syncookie_opts *o, uint32_t tsval_base,
			    uint32_t *ret_tsval);
/* Checks the ACK completing a cookie handshake: `cookie` = its ack - 1,
 * peer_isn = its seq - 1, tsecr = its timestamp echo (when has_ts). Valid
 * for cookies up to 2 counter periods (128 s) old: a cookie made in period t
 * is accepted during periods t and t + 1, so between 64 s and 128 s after it
 * was made depending on where in its period that was; one from a later
 * period is refused. 0 and the options (*ret written only then), or -EINVAL.
 *
 * A cookie made for a SYN with timestamps needs the echo (RFC 7323 §3.2: a
 * segment without TSopt on a connection that negotiated it is dropped); an
 * ACK with a TSopt whose SYN had none is accepted without timestamps
 * (RFC 7323 §3.2: the option is then ignored). */
int usn_syncookie_check(const uint8_t key[USN_TCP_KEY_LEN], const struct usn_tcp_4tuple *t, uint32_t peer_isn,
			uint32_t cookie, uint64_t now_ns, bool has_ts, uint32_t tsecr,
			struct usn_syncookie_opts *ret);

#endif
