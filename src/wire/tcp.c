/* SPDX-License-Identifier: MIT */
/*
 * tcp.c - parse and emit of the TCP header and its options: the fixed header
 * of RFC 9293 §3.1, the option list rules of RFC 9293 §3.1 and §3.2, MSS
 * (RFC 9293 §3.7.1, RFC 6691), window scale and timestamps (RFC 7323 §2.2,
 * §3.2), SACK-permitted and SACK blocks (RFC 2018 §2, §3), and the checksum
 * over the IPv4 pseudo-header (RFC 9293 §3.1).
 *
 * It is not the state machine: it decides nothing about which options a
 * segment may carry, whether a timestamp is acceptable, or how a window is
 * scaled. It reports what is on the wire and writes what it is given. Pure
 * functions over byte ranges: no allocation, no state, no clock.
 */
#include "wire.h"

#include <assert.h>
#include <string.h>

#include "util.h"

#define TCP_PROTO 6

#define TCPOLEN_MSS 4
#define TCPOLEN_WSCALE 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_SACK_BASE 2
#define TCPOLEN_SACK_BLOCK 8
#define TCP_MAX_OPTLEN (USN_TCP_MAX_HLEN - USN_TCP_MIN_HLEN)

/* Bytes each option takes once emitted, NOP padding included, so that every
 * 32-bit value stays 4-byte aligned as Linux lays them out. */
#define EMIT_MSS_LEN 4      /* MSS(4) */
#define EMIT_TS_LEN 12      /* SACK_PERM(2) TS(10), or NOP NOP TS(10) */
#define EMIT_SACKPERM_LEN 4 /* NOP NOP SACK_PERM(2), when there is no TS */
#define EMIT_WSCALE_LEN 4   /* NOP WS(3) */
#define EMIT_SACK_LEN(n) (4 + TCPOLEN_SACK_BLOCK * (n)) /* NOP NOP SACK(2+8n) */

/* Parses one option whose kind and length byte have been checked to lie
 * inside the header (olen >= 2, opt + olen <= end of header). A known
 * option with a length other than its own is ignored and counted, as Linux
 * does (tcp_parse_options() skips it); the walk goes on past it.
 *
 * SYN-only options (MSS, window scale, SACK-permitted) are reported whenever
 * they are present, on any segment: the state machine decides what they
 * mean. RFC 7323 §2.2 has a window scale option on a segment without SYN
 * ignored, and RFC 9293 §3.2 allows MSS only on a SYN; both ignorings are
 * the caller's, which knows the flags and the connection's state. */
static void parse_one(const uint8_t *opt, uint8_t olen, struct usn_tcp_repr *r)
{
	struct usn_tcp_opts *o = &r->opts;

	switch (opt[0]) {
	case USN_TCPOPT_MSS:
		if (olen != TCPOLEN_MSS)
			goto bad;
		o->has_mss = true;
		o->mss = usn_get_be16(opt + 2);
		return;
	case USN_TCPOPT_WSCALE:
		if (olen != TCPOLEN_WSCALE)
			goto bad;
		/* RFC 7323 §2.3: a shift above 14 is clamped by the caller,
		 * which also logs it; the raw value is reported here. */
		o->has_wscale = true;
		o->wscale = opt[2];
		return;
	case USN_TCPOPT_SACK_PERM:
		if (olen != TCPOLEN_SACK_PERM)
			goto bad;
		o->sack_perm = true;
		return;
	case USN_TCPOPT_TIMESTAMP:
		if (olen != TCPOLEN_TIMESTAMP)
			goto bad;
		o->has_ts = true;
		o->ts_val = usn_get_be32(opt + 2);
		o->ts_ecr = usn_get_be32(opt + 6);
		return;
	case USN_TCPOPT_SACK: {
		/* RFC 2018 §3: "Length: Variable", 2 + 8 * n bytes for n
		 * blocks. n = 0 carries nothing and is malformed. */
		unsigned n;

		if (olen < TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK ||
		    (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_BLOCK != 0)
			goto bad;
		n = (unsigned)(olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_BLOCK;
		/* 40 option bytes hold at most 4 blocks, so this never cuts
		 * anything from a real header; it keeps sack[] in bounds
		 * whatever the constants become. */
		if (n > USN_TCP_MAX_SACK)
			n = USN_TCP_MAX_SACK;
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *b = opt + TCPOLEN_SACK_BASE + i * TCPOLEN_SACK_BLOCK;

			o->sack[i].start = usn_get_be32(b);
			o->sack[i].end = usn_get_be32(b + 4);
		}
		o->nsack = (uint8_t)n;
		return;
	}
	default:
		/* RFC 9293 §3.1: an option that is not implemented is
		 * ignored without error (it has a length field, checked). */
		return;
	}
bad:
	/* At most 20 options fit in 40 bytes: the counter cannot wrap. */
	r->bad_opts++;
}

int usn_tcp_parse(const uint8_t *buf, size_t len, struct usn_tcp_repr *ret)
{
	size_t hlen, i;

	if (len < USN_TCP_MIN_HLEN)
		return USN_WIRE_TRUNCATED;

	memset(ret, 0, sizeof(*ret));
	/* RFC 9293 §3.1: "Data Offset (DOffset): 4 bits. The number of
	 * 32-bit words in the TCP header." The header is at least 5 words. */
	hlen = (size_t)(buf[12] >> 4) * 4;
	if (hlen < USN_TCP_MIN_HLEN)
		return USN_WIRE_BAD_HDR_LEN;
	if (hlen > len)
		return USN_WIRE_TRUNCATED;

	ret->src_port = usn_get_be16(buf);
	ret->dst_port = usn_get_be16(buf + 2);
	ret->seq = usn_get_be32(buf + 4);
	ret->ack = usn_get_be32(buf + 8);
	/* RFC 9293 §3.1: the 4 reserved bits "must be ignored in received
	 * segments"; they are dropped here. */
	ret->flags = buf[13];
	ret->hdr_len = (uint8_t)hlen;
	ret->window = usn_get_be16(buf + 14);
	ret->csum = usn_get_be16(buf + 16);
	ret->urg_ptr = usn_get_be16(buf + 18);

	/* RFC 9293 §3.1: an option is a single kind byte (EOL, NOP), or a
	 * kind, a length counting kind and length bytes, and data. Options
	 * may come in any segment, and an implementation "MUST be prepared to
	 * handle an illegal option length (e.g., zero)"; the suggested
	 * procedure is to reset and log. Here the segment is refused, which
	 * the caller counts as a drop. */
	i = USN_TCP_MIN_HLEN;
	while (i < hlen) {
		uint8_t kind = buf[i];
		uint8_t olen;

		/* RFC 9293 §3.2: End of Option List marks the end of all
		 * options: what follows is padding, not looked at. */
		if (kind == USN_TCPOPT_EOL)
			break;
		if (kind == USN_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (hlen - i < 2)
			return USN_WIRE_BAD_OPTION; /* no room for the length */
		olen = buf[i + 1];
		if (olen < 2 || olen > hlen - i)
			return USN_WIRE_BAD_OPTION;
		parse_one(buf + i, olen, ret);
		i += olen;
	}
	return USN_WIRE_OK;
}

/* How many SACK blocks emit writes after `base` bytes of other options: as
 * many of o->nsack as fit in the 40 option bytes, and 0 (no SACK option at
 * all) when not even one does. */
static unsigned sack_fit(const struct usn_tcp_opts *o, size_t base)
{
	unsigned n = USN_MIN(o->nsack, USN_TCP_MAX_SACK);
	size_t room;

	if (n == 0 || base + EMIT_SACK_LEN(1) > TCP_MAX_OPTLEN)
		return 0;
	room = (TCP_MAX_OPTLEN - base - EMIT_SACK_LEN(0)) / TCPOLEN_SACK_BLOCK;
	return (unsigned)USN_MIN((size_t)n, room);
}

/* Bytes of everything but the SACK blocks. */
static size_t base_len(const struct usn_tcp_opts *o)
{
	size_t n = 0;

	if (o->has_mss)
		n += EMIT_MSS_LEN;
	if (o->has_ts)
		n += EMIT_TS_LEN;
	else if (o->sack_perm)
		n += EMIT_SACKPERM_LEN;
	if (o->has_wscale)
		n += EMIT_WSCALE_LEN;
	return n;
}

size_t usn_tcp_opts_len(const struct usn_tcp_opts *o)
{
	size_t base = base_len(o);
	unsigned nsack = sack_fit(o, base);

	/* Every piece is a multiple of 4 bytes: no trailing padding. */
	return base + (nsack ? EMIT_SACK_LEN(nsack) : 0);
}

/* Option layout, the one Linux uses (so captures look familiar, and the
 * 32-bit values of the timestamps and SACK blocks are 4-byte aligned):
 *
 *   MSS(4)
 *   SACK_PERM(2) TS(10)       with timestamps and SACK-permitted
 *   NOP NOP TS(10)            with timestamps alone
 *   NOP NOP SACK_PERM(2)      with SACK-permitted alone
 *   NOP WS(3)
 *   NOP NOP SACK(2 + 8n)
 *
 * Emit writes what o holds and nothing else: the caller sets MSS, window
 * scale and SACK-permitted only on a SYN (RFC 7323 §2.2, RFC 2018 §2, RFC
 * 9293 §3.7.1), and SACK blocks only on other segments, which gives Linux's
 * SYN layout MSS,SACK_PERM,TS,NOP,WS and its ACK layout NOP,NOP,TS,NOP,NOP,
 * SACK.
 *
 * The options must fit in 40 bytes. With timestamps (12 bytes) at most 3
 * SACK blocks fit (4 + 24), without them 4 (4 + 32); RFC 2018 §3 notes the
 * same limit. SACK blocks that do not fit are left out, the first ones (the
 * most recent, RFC 2018 §4) kept; when not even one fits the SACK option is
 * not written. nsack above USN_TCP_MAX_SACK is taken as USN_TCP_MAX_SACK. */
static uint8_t *emit_opts(const struct usn_tcp_opts *o, uint8_t *p)
{
	unsigned nsack = sack_fit(o, base_len(o));

	if (o->has_mss) {
		*p++ = USN_TCPOPT_MSS;
		*p++ = TCPOLEN_MSS;
		usn_put_be16(p, o->mss);
		p += 2;
	}
	if (o->has_ts) {
		if (o->sack_perm) {
			*p++ = USN_TCPOPT_SACK_PERM;
			*p++ = TCPOLEN_SACK_PERM;
		} else {
			*p++ = USN_TCPOPT_NOP;
			*p++ = USN_TCPOPT_NOP;
		}
		*p++ = USN_TCPOPT_TIMESTAMP;
		*p++ = TCPOLEN_TIMESTAMP;
		usn_put_be32(p, o->ts_val);
		usn_put_be32(p + 4, o->ts_ecr);
		p += 8;
	} else if (o->sack_perm) {
		*p++ = USN_TCPOPT_NOP;
		*p++ = USN_TCPOPT_NOP;
		*p++ = USN_TCPOPT_SACK_PERM;
		*p++ = TCPOLEN_SACK_PERM;
	}
	if (o->has_wscale) {
		*p++ = USN_TCPOPT_NOP;
		*p++ = USN_TCPOPT_WSCALE;
		*p++ = TCPOLEN_WSCALE;
		*p++ = o->wscale;
	}
	if (nsack) {
		*p++ = USN_TCPOPT_NOP;
		*p++ = USN_TCPOPT_NOP;
		*p++ = USN_TCPOPT_SACK;
		*p++ = (uint8_t)(TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK * nsack);
		for (unsigned i = 0; i < nsack; i++) {
			usn_put_be32(p, o->sack[i].start);
			usn_put_be32(p + 4, o->sack[i].end);
			p += TCPOLEN_SACK_BLOCK;
		}
	}
	return p;
}

int usn_tcp_emit(const struct usn_tcp_repr *r, uint32_t src, uint32_t dst, uint16_t payload_len,
		 uint32_t payload_sum, uint8_t *buf, size_t cap)
{
	size_t hlen = USN_TCP_MIN_HLEN + usn_tcp_opts_len(&r->opts);
	uint8_t *end;
	uint32_t sum;

	if (cap < hlen)
		return USN_WIRE_ENOSPC;
	/* The pseudo-header carries the TCP length in 16 bits (RFC 9293
	 * §3.1, "TCP Length"): a segment longer than that cannot be summed. */
	if (hlen + payload_len > UINT16_MAX)
		return USN_WIRE_BAD_LEN;

	usn_put_be16(buf, r->src_port);
	usn_put_be16(buf + 2, r->dst_port);
	usn_put_be32(buf + 4, r->seq);
	usn_put_be32(buf + 8, r->ack);
	/* RFC 9293 §3.1: reserved bits "Must be zero in generated segments". */
	buf[12] = (uint8_t)((hlen / 4) << 4);
	buf[13] = r->flags;
	usn_put_be16(buf + 14, r->window);
	usn_put_be16(buf + 16, 0);
	usn_put_be16(buf + 18, r->urg_ptr);
	end = emit_opts(&r->opts, buf + USN_TCP_MIN_HLEN);
	/* opts_len() and emit_opts() share base_len() and sack_fit(). */
	assert(end == buf + hlen);
	(void)end;

	/* RFC 9293 §3.1: "The checksum field is the 16-bit ones' complement of
	 * the ones' complement sum of all 16-bit words in the header and
	 * text", with the pseudo-header in front. The header is a multiple of
	 * 4 bytes long, so the payload starts at an even offset. */
	sum = usn_csum_pseudo_v4(src, dst, TCP_PROTO, (uint16_t)(hlen + payload_len));
	sum = usn_csum_partial(buf, hlen, sum);
	sum = usn_csum_combine(sum, payload_sum, hlen);
	usn_put_be16(buf + 16, usn_csum_finish(sum));
	return (int)hlen;
}

bool usn_tcp_csum_ok(uint32_t src, uint32_t dst, uint16_t seg_len, uint32_t seg_sum)
{
	uint32_t sum = usn_csum_pseudo_v4(src, dst, TCP_PROTO, seg_len);

	/* A segment that includes its own checksum sums to all ones. */
	return usn_csum_fold(usn_csum_combine(sum, seg_sum, 0)) == 0xffff;
}

void usn_tcp_set_csum_partial(uint8_t *hdr, uint32_t src, uint32_t dst, uint16_t seg_len)
{
	usn_put_be16(hdr + 16, usn_csum_fold(usn_csum_pseudo_v4(src, dst, USN_IPPROTO_TCP, seg_len)));
}

int usn_tcp_parse_quoted(const uint8_t *buf, size_t len, uint16_t *ret_sport, uint16_t *ret_dport,
			 uint32_t *ret_seq)
{
	if (len < 8)
		return USN_WIRE_TRUNCATED;
	*ret_sport = usn_get_be16(buf);
	*ret_dport = usn_get_be16(buf + 2);
	*ret_seq = usn_get_be32(buf + 4);
	return USN_WIRE_OK;
}
