/* SPDX-License-Identifier: MIT */
/*
 * syncookie.c - initial sequence numbers and SYN cookies.
 *
 * Implements RFC 6528 §3 (ISN = M + F(4-tuple, secret), M a 4 µs clock, F a
 * keyed PRF: SipHash-2-4 through libsodium's crypto_shorthash) and the SYN
 * cookie of RFC 4987 §3.6: a listener under a SYN flood answers with a
 * SYN-ACK whose ISN encodes what it must remember of the SYN, authenticated
 * by a MAC, and keeps no state until the ACK that echoes it arrives. When
 * the SYN carried timestamps (RFC 7323 §3), window scaling and SACK-permitted
 * ride in the low bits of the TSval of the SYN-ACK and come back in the
 * TSecr of the ACK.
 *
 * It is not the listener: deciding when to use cookies, counting them, and
 * building the connection from the decoded options are the caller's. It
 * keeps no state and reads no clock: key and time are arguments.
 *
 * Layout of a cookie (the 32-bit ISN of the SYN-ACK):
 *
 *   31      27 26  24 23                                  0
 *   +---------+------+-------------------------------------+
 *   | t mod 32| mss  |   MAC24                             |
 *   +---------+------+-------------------------------------+
 *
 * t = now / 64 s; mss = index into cookie_mss[]; MAC24 = low 24 bits of
 * SipHash over laddr, lport, raddr, rport, peer ISN, t (all 64 bits of it),
 * the MSS index and an option word (0 without timestamps, else 0x200 | the 9
 * option bits of the TSval), serialised big-endian in that order (27 bytes).
 * Putting the MSS index and the option bits under the MAC (instead of
 * adding the MAC to them, as older cookie schemes do) means that no bit of
 * the cookie or of the echoed options can be changed without failing the
 * check, and the full t under the MAC means a cookie 32 periods old (whose
 * 5 bits alias the current ones) fails too.
 *
 * ISN and cookie MACs use the same key; their inputs are 12 and 27 bytes
 * long, and SipHash mixes the length into its last block, so the two uses
 * never collide.
 */
#include <errno.h>
#include <sodium.h>

#include "syncookie.h"
#include "tcp_seq.h"
#include "util.h"

/* RFC 6528 §3: "M is the 4 microsecond timer". */
#define ISN_TICK_NS (4 * USN_NSEC_PER_USEC)

#define COOKIE_T_SHIFT 27
#define COOKIE_T_MASK 0x1fU
#define COOKIE_MSS_SHIFT 24
#define COOKIE_MSS_MASK 0x7U
#define COOKIE_MAC_MASK 0xffffffU

/* Option bits in the low 9 bits of the SYN-ACK's TSval (layout also in
 * syncookie.h): the peer's shift (15 = no window scaling), our shift, SACK. */
#define TSOPT_SND_WS_SHIFT 0
#define TSOPT_RCV_WS_SHIFT 4
#define TSOPT_WS_MASK 0xfU
#define TSOPT_WS_NONE 15U
#define TSOPT_SACK (1U << 8)
/* Marks "the SYN had timestamps" in the MAC's option word. */
#define OPTWORD_TS (1U << USN_SYNCOOKIE_TS_BITS)

/* RFC 7323 §2.3: "the shift.cnt value ... MUST use 14 instead". */
#define WSCALE_MAX 14

/* MSS values seen on real paths, ascending: 536 (RFC 9293 §3.7.1
 * default), 1200/1220 (tunnels, IPv6-minimum-MTU style paths), 1360 and
 * 1400 (VPNs, GRE/IPsec), 1440 (PPPoE with options / some DSL), 1452
 * (PPPoE), 1460 (Ethernet). */
static const uint16_t cookie_mss[8] = { 536, 1200, 1220, 1360, 1400, 1440, 1452, 1460 };

static uint64_t siphash(const uint8_t key[USN_TCP_KEY_LEN], const uint8_t *in, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(out, in, len, key);
	/* libsodium stores the 64-bit result low byte first. */
	for (size_t i = 0; i < sizeof(out); i++)
		v |= (uint64_t)out[i] << (8 * i);
	return v;
}

static void put_tuple(uint8_t *p, const struct usn_tcp_4tuple *t)
{
	usn_put_be32(p, t->laddr);
	usn_put_be16(p + 4, t->lport);
	usn_put_be32(p + 6, t->raddr);
	usn_put_be16(p + 10, t->rport);
}

uint32_t usn_tcp_isn(const uint8_t key[USN_TCP_KEY_LEN], const struct usn_tcp_4tuple *t, uint64_t now_ns)
{
	uint8_t in[12];
	uint32_t m, f;

	/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
	 * secretkey); M truncated to 32 bits wraps every 2^32 * 4 µs ~ 4.8 h,
	 * which is the modular behaviour the RFC expects of a sequence space. */
	put_tuple(in, t);
	m = (uint32_t)(now_ns / ISN_TICK_NS);
	f = (uint32_t)siphash(key, in, sizeof(in));
	return m + f;
}

uint32_t usn_tcp_ts_offset(const uint8_t key[USN_TCP_KEY_LEN], uint32_t laddr, uint32_t raddr)
{
	/* A tag byte keeps this PRF's inputs apart from the ISN's. */
	uint8_t in[9] = {'T'};
	usn_put_be32(in + 1, laddr);
	usn_put_be32(in + 5, raddr);
	return (uint32_t)siphash(key, in, sizeof(in));
}

static uint32_t cookie_mac(const uint8_t key[USN_TCP_KEY_LEN], const struct usn_tcp_4tuple *t, uint32_t peer_isn,
			   uint64_t count, unsigned int mss_idx, unsigned int optword)
{
	uint8_t in[27];

	put_tuple(in, t);
	usn_put_be32(in + 12, peer_isn);
	usn_put_be32(in + 16, (uint32_t)(count >> 32));
	usn_put_be32(in + 20, (uint32_t)count);
	in[24] = (uint8_t)mss_idx;
	usn_put_be16(in + 25, (uint16_t)optword);
	return (uint32_t)siphash(key, in, sizeof(in)) & COOKIE_MAC_MASK;
}

static unsigned int mss_index(uint16_t mss)
{
	unsigned int i = USN_ARRAY_SIZE(cookie_mss) - 1;

	while (i > 0 && cookie_mss[i] > mss)
		i--;
	return i;
}

uint16_t usn_syncookie_mss(uint16_t mss)
{
	if (mss < cookie_mss[0])
		return 0;
	return cookie_mss[mss_index(mss)];
}

static unsigned int encode_opts(const struct usn_syncookie_opts *o)
{
	unsigned int bits;

	if (o->wscale_ok) {
		bits = (unsigned int)USN_MIN(o->snd_wscale, WSCALE_MAX) << TSOPT_SND_WS_SHIFT;
		bits |= (unsigned int)USN_MIN(o->rcv_wscale, WSCALE_MAX) << TSOPT_RCV_WS_SHIFT;
	} else {
		bits = TSOPT_WS_NONE << TSOPT_SND_WS_SHIFT;
	}
	if (o->sack_ok)
		bits |= TSOPT_SACK;
	return bits;
}

/* Returns false for bit patterns make never writes. */
static bool decode_opts(unsigned int bits, struct usn_syncookie_opts *ret)
{
	unsigned int snd = (bits >> TSOPT_SND_WS_SHIFT) & TSOPT_WS_MASK;
	unsigned int rcv = (bits >> TSOPT_RCV_WS_SHIFT) & TSOPT_WS_MASK;

	if (rcv > WSCALE_MAX || (snd == TSOPT_WS_NONE && rcv != 0))
		return false;
	ret->wscale_ok = snd != TSOPT_WS_NONE;
	ret->snd_wscale = ret->wscale_ok ? (uint8_t)snd : 0;
	ret->rcv_wscale = ret->wscale_ok ? (uint8_t)rcv : 0;
	ret->sack_ok = (bits & TSOPT_SACK) != 0;
	ret->ts_ok = true;
	return true;
}

uint32_t usn_syncookie_make(const uint8_t key[USN_TCP_KEY_LEN], const struct usn_tcp_4tuple *t, uint32_t peer_isn,
			    uint64_t now_ns, const struct usn_syncookie_opts *o, uint32_t tsval_base,
			    uint32_t *ret_tsval)
{
	uint64_t count = now_ns / USN_SYNCOOKIE_PERIOD_NS;
	unsigned int idx = mss_index(o->mss);
	unsigned int optword = 0;
	uint32_t tsval = tsval_base;

	/* RFC 4987 §3.6: without timestamps the cookie has room for the MSS
	 * only, so the connection goes without window scaling and SACK. */
	if (o->ts_ok) {
		unsigned int bits = encode_opts(o);

		tsval = (tsval_base & ~USN_SYNCOOKIE_TS_MASK) | bits;
		/* Never send a TSval ahead of the TS clock, or the first
		 * TSval after the handshake would go backwards, which PAWS
		 * (RFC 7323 §5) at the peer would take for an old segment. */
		if (usn_seq_gt(tsval, tsval_base))
			tsval -= USN_SYNCOOKIE_TS_MASK + 1;
		optword = OPTWORD_TS | bits;
	}
	if (ret_tsval)
		*ret_tsval = tsval;
	return (uint32_t)(count & COOKIE_T_MASK) << COOKIE_T_SHIFT | (uint32_t)idx << COOKIE_MSS_SHIFT |
	       cookie_mac(key, t, peer_isn, count, idx, optword);
}

int usn_syncookie_check(const uint8_t key[USN_TCP_KEY_LEN], const struct usn_tcp_4tuple *t, uint32_t peer_isn,
			uint32_t cookie, uint64_t now_ns, bool has_ts, uint32_t tsecr,
			struct usn_syncookie_opts *ret)
{
	uint64_t now_count = now_ns / USN_SYNCOOKIE_PERIOD_NS;
	uint32_t tc = (cookie >> COOKIE_T_SHIFT) & COOKIE_T_MASK;
	unsigned int idx = (cookie >> COOKIE_MSS_SHIFT) & COOKIE_MSS_MASK;
	uint32_t mac = cookie & COOKIE_MAC_MASK;
	struct usn_syncookie_opts o = { .mss = cookie_mss[idx] };
	uint64_t count;

	/* RFC 4987 §3.6: the counter bounds a cookie's life; the 5 bits pick
	 * the current period or the one before, nothing older or newer. */
	if (tc == (now_count & COOKIE_T_MASK))
		count = now_count;
	else if (now_count > 0 && tc == ((now_count - 1) & COOKIE_T_MASK))
		count = now_count - 1;
	else
		return -EINVAL;

	if (has_ts) {
		unsigned int bits = tsecr & USN_SYNCOOKIE_TS_MASK;

		if (cookie_mac(key, t, peer_isn, count, idx, OPTWORD_TS | bits) == mac) {
			if (!decode_opts(bits, &o))
				return -EINVAL;
			*ret = o;
			return 0;
		}
		/* Else maybe the SYN had no timestamps: RFC 7323 §3.2 "If a
		 * TSopt is received on a connection where TSopt was not
		 * negotiated in the initial three-way handshake, the TSopt
		 * MUST be ignored". This second try doubles a blind
		 * forger's odds, to 2^-23 a guess. */
	}
	/* A cookie made with timestamps fails here when the ACK lacks them,
	 * as RFC 7323 §3.2 asks: "If a non-<RST> segment is received without
	 * a TSopt, a TCP SHOULD silently drop the segment." */
	if (cookie_mac(key, t, peer_isn, count, idx, 0) != mac)
		return -EINVAL;
	*ret = o;
	return 0;
}
