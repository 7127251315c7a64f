/* SPDX-License-Identifier: MIT */
/*
 * test-syncookie.c - RFC 6528 ISNs and RFC 4987 §3.6 SYN cookies: a golden
 * ISN from the published SipHash-2-4 test vector, the 4 µs clock and its
 * wrap, independence across tuples and keys; cookies checked against a
 * reference model of the documented layout, round trips of every MSS
 * entry and of every option combination, refusal of each tampered field
 * and of every single-bit flip, the TSval encoding, and aging over the
 * 64 s counter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "rand.h"
#include "syncookie.h"
#include "tcp_seq.h"
#include "util.h"

#define SEC USN_NSEC_PER_SEC
#define PERIOD USN_SYNCOOKIE_PERIOD_NS

static const uint16_t table[8] = { 536, 1200, 1220, 1360, 1400, 1440, 1452, 1460 };

/* The key of the SipHash paper's test vectors: 00 01 .. 0f. */
static void ref_key(uint8_t key[USN_TCP_KEY_LEN])
{
	for (int i = 0; i < USN_TCP_KEY_LEN; i++)
		key[i] = (uint8_t)i;
}

/* The tuple whose big-endian serialisation is 00 01 .. 0b. */
static const struct usn_tcp_4tuple ref_tuple = {
	.laddr = 0x00010203, .lport = 0x0405, .raddr = 0x06070809, .rport = 0x0a0b,
};

static const struct usn_tcp_4tuple tup = {
	.laddr = 0xc0a80001, .lport = 80, .raddr = 0x0a000002, .rport = 40000,
};

static const uint8_t key1[USN_TCP_KEY_LEN] = { 0x5e, 0xc7, 0x11, 0x0a, 0x42, 0x99, 0x01, 0xfe,
					       0x3d, 0x7b, 0x80, 0x2c, 0x6e, 0xd4, 0x15, 0xa8 };

static uint64_t sip(const uint8_t *key, const uint8_t *in, size_t len)
{
	uint8_t out[8];
	uint64_t v = 0;

	crypto_shorthash(out, in, len, key);
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)out[i] << (8 * i);
	return v;
}

/* ---- ISN ---------------------------------------------------------------- */

/* SipHash-2-4 reference vector for the 12-byte message 00..0b under key
 * 00..0f is 0x751e8fbc860ee5fb, so F = 0x860ee5fb and at time 0 the ISN is
 * F; each 4000 ns adds one (RFC 6528 §3). */
static void test_isn_golden(void **state)
{
	uint8_t key[USN_TCP_KEY_LEN], msg[12];

	(void)state;
	ref_key(key);
	for (int i = 0; i < 12; i++)
		msg[i] = (uint8_t)i;
	assert_true(sip(key, msg, 12) == 0x751e8fbc860ee5fbULL);

	assert_int_equal(usn_tcp_isn(key, &ref_tuple, 0), 0x860ee5fbU);
	assert_int_equal(usn_tcp_isn(key, &ref_tuple, 3999), 0x860ee5fbU);
	assert_int_equal(usn_tcp_isn(key, &ref_tuple, 4000), 0x860ee5fcU);
	assert_int_equal(usn_tcp_isn(key, &ref_tuple, 5 * 4000 + 123), 0x860ee600U);
	/* one second = 250000 ticks */
	assert_int_equal(usn_tcp_isn(key, &ref_tuple, SEC), 0x860ee5fbU + 250000U);
	/* M is truncated to 32 bits: 2^32 ticks later the ISN is back. */
	assert_int_equal(usn_tcp_isn(key, &ref_tuple, (1ULL << 32) * 4000), 0x860ee5fbU);
	assert_int_equal(usn_tcp_isn(key, &ref_tuple, (1ULL << 32) * 4000 - 4000), 0x860ee5faU);
}

/* For a fixed tuple the ISN advances by exactly the number of 4 µs ticks,
 * modulo 2^32, across the wrap and from arbitrary starting points. */
static void test_isn_monotonic_in_time(void **state)
{
	struct usn_rand r;

	(void)state;
	usn_rand_seed(&r, 6528);
	for (int i = 0; i < 2000; i++) {
		uint64_t t0 = usn_rand_u64(&r) >> 8;
		uint64_t d = usn_rand_below(&r, 20 * SEC);
		uint32_t a = usn_tcp_isn(key1, &tup, t0);
		uint32_t b = usn_tcp_isn(key1, &tup, t0 + d);

		assert_int_equal((uint32_t)(b - a), (uint32_t)((t0 + d) / 4000 - t0 / 4000));
		if (d >= 4000)
			assert_true(usn_seq_gt(b, a));
		else
			assert_true(usn_seq_geq(b, a));
	}
	/* Walk through the 2^32 wrap of M tick by tick. */
	uint64_t edge = ((1ULL << 32) - 3) * 4000;
	uint32_t prev = usn_tcp_isn(key1, &tup, edge);

	for (int i = 1; i <= 6; i++) {
		uint32_t cur = usn_tcp_isn(key1, &tup, edge + (uint64_t)i * 4000);

		assert_int_equal((uint32_t)(cur - prev), 1);
		assert_true(usn_seq_gt(cur, prev));
		prev = cur;
	}
}

static uint32_t isn_offset(const uint8_t *key, const struct usn_tcp_4tuple *t)
{
	return usn_tcp_isn(key, t, 0);
}

static int popcount32(uint32_t v)
{
	return __builtin_popcount(v);
}

/* Different tuples get unrelated offsets: every single-bit change of any
 * field, and a swap of local and remote, changes F in about half its bits;
 * no collision among many random tuples. */
static void test_isn_tuples_unrelated(void **state)
{
	struct usn_tcp_4tuple t, sw = { tup.raddr, tup.laddr, tup.rport, tup.lport };
	uint32_t base = isn_offset(key1, &tup);
	long total = 0;
	int n = 0;

	(void)state;
	assert_int_not_equal(isn_offset(key1, &sw), base);
	for (int bit = 0; bit < 32; bit++) {
		uint32_t f[4];

		t = tup; t.laddr ^= 1U << bit; f[0] = isn_offset(key1, &t);
		t = tup; t.raddr ^= 1U << bit; f[1] = isn_offset(key1, &t);
		t = tup; t.lport ^= (uint16_t)(1U << (bit % 16)); f[2] = isn_offset(key1, &t);
		t = tup; t.rport ^= (uint16_t)(1U << (bit % 16)); f[3] = isn_offset(key1, &t);
		for (int k = 0; k < 4; k++) {
			int hd = popcount32(f[k] ^ base);

			assert_true(hd > 0);
			total += hd;
			n++;
		}
	}
	/* mean Hamming distance near 16 of 32 */
	assert_true(total > 14L * n && total < 18L * n);

	/* Collisions among 4096 random tuples. */
	enum { N = 4096 };
	uint32_t seen[N];
	struct usn_rand r;

	usn_rand_seed(&r, 1);
	for (int i = 0; i < N; i++) {
		t.laddr = usn_rand_u32(&r);
		t.raddr = usn_rand_u32(&r);
		t.lport = (uint16_t)usn_rand_u32(&r);
		t.rport = (uint16_t)usn_rand_u32(&r);
		seen[i] = isn_offset(key1, &t);
	}
	int dup = 0;
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			dup += seen[i] == seen[j];
	/* expected ~N^2/2^33 = 0.002 */
	assert_int_equal(dup, 0);
}

/* Different keys give different ISNs for the same tuple and time: every
 * single-bit change of the key changes F. */
static void test_isn_keys_differ(void **state)
{
	uint32_t base = usn_tcp_isn(key1, &tup, 123456789);
	long total = 0;

	(void)state;
	for (int bit = 0; bit < 8 * USN_TCP_KEY_LEN; bit++) {
		uint8_t k[USN_TCP_KEY_LEN];
		uint32_t v;

		memcpy(k, key1, sizeof(k));
		k[bit / 8] ^= (uint8_t)(1U << (bit % 8));
		v = usn_tcp_isn(k, &tup, 123456789);
		assert_int_not_equal(v, base);
		total += popcount32(v ^ base);
	}
	assert_true(total > 14L * 128 && total < 18L * 128);
}

/* The timestamp clock offset: one per pair of addresses (whatever the
 * ports, so a new connection on a TIME-WAIT's ports continues its clock),
 * unrelated between pairs and keys, and not the ISN's function. */
static void test_ts_offset_per_address_pair(void **state)
{
	(void)state;
	uint32_t a = usn_tcp_ts_offset(key1, tup.laddr, tup.raddr);
	assert_int_equal(a, usn_tcp_ts_offset(key1, tup.laddr, tup.raddr));
	long total = 0;
	for (int bit = 0; bit < 32; bit++) {
		uint32_t v = usn_tcp_ts_offset(key1, tup.laddr, tup.raddr ^ (1U << bit));
		assert_int_not_equal(v, a);
		total += popcount32(v ^ a);
	}
	assert_true(total > 12L * 32 && total < 20L * 32);
	uint8_t k[USN_TCP_KEY_LEN];
	memcpy(k, key1, sizeof(k));
	k[0] ^= 1;
	assert_int_not_equal(usn_tcp_ts_offset(k, tup.laddr, tup.raddr), a);
	/* The ports play no part; the ISN's PRF is another. */
	assert_int_not_equal(a, (uint32_t)(usn_tcp_isn(key1, &tup, 0)));
}

/* ---- cookies ------------------------------------------------------------ */

/* Reference model of the layout documented in syncookie.c. */
static uint32_t model_cookie(const uint8_t *key, const struct usn_tcp_4tuple *t, uint32_t peer_isn, uint64_t now,
			     unsigned int idx, unsigned int optword)
{
	uint8_t in[27];
	uint64_t c = now / PERIOD;

	usn_put_be32(in, t->laddr);
	usn_put_be16(in + 4, t->lport);
	usn_put_be32(in + 6, t->raddr);
	usn_put_be16(in + 10, t->rport);
	usn_put_be32(in + 12, peer_isn);
	usn_put_be32(in + 16, (uint32_t)(c >> 32));
	usn_put_be32(in + 20, (uint32_t)c);
	in[24] = (uint8_t)idx;
	usn_put_be16(in + 25, (uint16_t)optword);
	return (uint32_t)(c & 31) << 27 | idx << 24 | ((uint32_t)sip(key, in, 27) & 0xffffff);
}

static void test_cookie_layout_matches_model(void **state)
{
	uint64_t now = 1000 * PERIOD + 17 * SEC; /* counter 1000, 1000 % 32 = 8 */
	struct usn_syncookie_opts o = { .mss = 1460 };
	uint32_t tsval = 0, c;

	(void)state;
	c = usn_syncookie_make(key1, &tup, 0x12345678, now, &o, 777, &tsval);
	assert_int_equal(tsval, 777);
	assert_int_equal(c >> 27, 8);
	assert_int_equal((c >> 24) & 7, 7);
	assert_int_equal(c, model_cookie(key1, &tup, 0x12345678, now, 7, 0));

	/* with timestamps: wscale peer 7, ours 9, SACK: bits 0x100|0x90|0x7 */
	o = (struct usn_syncookie_opts){ .mss = 1400, .ts_ok = true, .wscale_ok = true, .snd_wscale = 7,
					 .rcv_wscale = 9, .sack_ok = true };
	c = usn_syncookie_make(key1, &tup, 0x12345678, now, &o, 0xabcdefff, &tsval);
	assert_int_equal(tsval, 0xabcdef97);
	assert_int_equal(c, model_cookie(key1, &tup, 0x12345678, now, 4, 0x200 | 0x197));

	/* timestamps without wscale or SACK: snd field 15 */
	o = (struct usn_syncookie_opts){ .mss = 536, .ts_ok = true };
	c = usn_syncookie_make(key1, &tup, 1, now, &o, 0x1000, &tsval);
	/* 0x1000 | 0x00f would be ahead of the clock: one 512 step back */
	assert_int_equal(tsval, 0x0e0f);
	assert_int_equal(c, model_cookie(key1, &tup, 1, now, 0, 0x20f));

	/* without timestamps the TSval pointer may be NULL */
	o = (struct usn_syncookie_opts){ .mss = 1200 };
	assert_int_equal(usn_syncookie_make(key1, &tup, 1, now, &o, 0, NULL), model_cookie(key1, &tup, 1, now, 1, 0));
}

/* The largest table entry <= the MSS, for every entry, the values just
 * around it, and the extremes. */
static void test_cookie_mss_roundtrip(void **state)
{
	uint64_t now = 77 * PERIOD + 5;

	(void)state;
	assert_int_equal(usn_syncookie_mss(0), 0);
	assert_int_equal(usn_syncookie_mss(535), 0);
	assert_int_equal(usn_syncookie_mss(65535), 1460);
	for (unsigned int i = 0; i < 8; i++) {
		uint16_t hi = i < 7 ? (uint16_t)(table[i + 1] - 1) : 9000;
		uint16_t probes[] = { table[i], (uint16_t)(table[i] + 1), hi };

		for (unsigned int p = 0; p < 3; p++) {
			for (int ts = 0; ts < 2; ts++) {
				struct usn_syncookie_opts o = { .mss = probes[p], .ts_ok = ts };
				struct usn_syncookie_opts got;
				uint32_t tsval, c;

				assert_int_equal(usn_syncookie_mss(probes[p]), table[i]);
				c = usn_syncookie_make(key1, &tup, 42 + i, now, &o, 100000, &tsval);
				assert_int_equal((c >> 24) & 7, i);
				memset(&got, 0xa5, sizeof(got));
				assert_int_equal(usn_syncookie_check(key1, &tup, 42 + i, c, now, ts, tsval, &got), 0);
				assert_int_equal(got.mss, table[i]);
				assert_int_equal(got.ts_ok, ts);
				assert_false(got.wscale_ok);
				assert_false(got.sack_ok);
			}
		}
	}
	/* Below 536 the cookie still says 536 (usn_syncookie_mss warned). */
	struct usn_syncookie_opts o = { .mss = 100 }, got;
	uint32_t c = usn_syncookie_make(key1, &tup, 9, now, &o, 0, NULL);

	assert_int_equal(usn_syncookie_check(key1, &tup, 9, c, now, false, 0, &got), 0);
	assert_int_equal(got.mss, 536);
}

/* Every combination of options round-trips through the TSval; without
 * timestamps wscale and SACK are dropped; shifts above 14 become 14. */
static void test_cookie_opts_roundtrip(void **state)
{
	uint64_t now = 3 * PERIOD + 60 * SEC;
	int n = 0;

	(void)state;
	for (unsigned int m = 0; m < 2 * 2 * 2 * 17 * 17; m++) {
		bool ts = m & 1, ws = m & 2, sack = m & 4;
		unsigned int snd = (m >> 3) % 17, rcv = (m >> 3) / 17;
		struct usn_syncookie_opts o = { .mss = 1452, .ts_ok = ts, .wscale_ok = ws, .sack_ok = sack,
						.snd_wscale = (uint8_t)snd, .rcv_wscale = (uint8_t)rcv };
		struct usn_syncookie_opts got;
		uint32_t base = 0x7000000 + 131 * m, tsval = 0xdead, c;

		c = usn_syncookie_make(key1, &tup, 0xfffffff0, now, &o, base, &tsval);
		if (ts) {
			/* RFC 7323 §5: never ahead of the TS clock, at most
			 * 511 behind, high bits from the base. */
			assert_true(usn_seq_leq(tsval, base));
			assert_true(base - tsval < 512);
		} else {
			assert_int_equal(tsval, base);
		}
		/* The echo may carry a later TSval of ours (the TS clock
		 * moved on): only the low 9 bits matter. */
		uint32_t tsecr = tsval + 512 * (snd + rcv);

		assert_int_equal(usn_syncookie_check(key1, &tup, 0xfffffff0, c, now + 30 * SEC, ts, tsecr, &got), 0);
		assert_int_equal(got.mss, 1452);
		assert_int_equal(got.ts_ok, ts);
		assert_int_equal(got.sack_ok, ts && sack);
		assert_int_equal(got.wscale_ok, ts && ws);
		if (ts && ws) {
			assert_int_equal(got.snd_wscale, snd > 14 ? 14 : snd);
			assert_int_equal(got.rcv_wscale, rcv > 14 ? 14 : rcv);
		} else {
			assert_int_equal(got.snd_wscale, 0);
			assert_int_equal(got.rcv_wscale, 0);
		}
		n++;
	}
	assert_int_equal(n, 2 * 2 * 2 * 17 * 17);
}

/* TSval near 0 wraps backwards modulo 2^32 rather than running ahead. */
static void test_cookie_tsval_wrap(void **state)
{
	struct usn_syncookie_opts o = { .mss = 1460, .ts_ok = true, .wscale_ok = true, .snd_wscale = 14,
					.rcv_wscale = 14, .sack_ok = true }, got;
	uint32_t tsval, c;

	(void)state;
	/* bits 0x100 | 0xe0 | 0xe = 0x1ee */
	c = usn_syncookie_make(key1, &tup, 5, 0, &o, 3, &tsval);
	assert_int_equal(tsval, 0xfffffe00U | 0x1ee);
	assert_int_equal(usn_syncookie_check(key1, &tup, 5, c, 0, true, tsval, &got), 0);
	assert_true(got.wscale_ok && got.sack_ok && got.ts_ok);
	/* exactly equal low bits: TSval = base */
	c = usn_syncookie_make(key1, &tup, 5, 0, &o, 0x400 | 0x1ee, &tsval);
	assert_int_equal(tsval, 0x400 | 0x1ee);
}

struct fixture {
	struct usn_syncookie_opts o;
	uint32_t peer_isn, cookie, tsval;
	uint64_t now;
};

static void fixture_make(struct fixture *f, bool ts, uint64_t now)
{
	f->o = (struct usn_syncookie_opts){ .mss = 1440, .ts_ok = ts, .wscale_ok = true, .snd_wscale = 8,
					    .rcv_wscale = 7, .sack_ok = true };
	f->peer_isn = 0x89abcdef;
	f->now = now;
	f->cookie = usn_syncookie_make(key1, &tup, f->peer_isn, now, &f->o, 0x55555555, &f->tsval);
}

static int check_f(const struct usn_tcp_4tuple *t, uint32_t peer_isn, uint32_t cookie, uint64_t now, bool has_ts,
		   uint32_t tsecr)
{
	struct usn_syncookie_opts got;

	return usn_syncookie_check(key1, t, peer_isn, cookie, now, has_ts, tsecr, &got);
}

/* Each field of what the ACK carries, altered, is refused. */
static void test_cookie_tampered_fields_refused(void **state)
{
	(void)state;
	for (int ts = 0; ts < 2; ts++) {
		struct fixture f;
		struct usn_tcp_4tuple t;
		struct usn_syncookie_opts got;
		uint8_t k[USN_TCP_KEY_LEN];

		fixture_make(&f, ts, 500 * PERIOD + 1);
		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, f.now, ts, f.tsval), 0);

		t = tup; t.laddr++;
		assert_int_equal(check_f(&t, f.peer_isn, f.cookie, f.now, ts, f.tsval), -EINVAL);
		t = tup; t.raddr ^= 0x80000000;
		assert_int_equal(check_f(&t, f.peer_isn, f.cookie, f.now, ts, f.tsval), -EINVAL);
		t = tup; t.lport++;
		assert_int_equal(check_f(&t, f.peer_isn, f.cookie, f.now, ts, f.tsval), -EINVAL);
		t = tup; t.rport--;
		assert_int_equal(check_f(&t, f.peer_isn, f.cookie, f.now, ts, f.tsval), -EINVAL);
		/* local and remote swapped */
		t = (struct usn_tcp_4tuple){ tup.raddr, tup.laddr, tup.rport, tup.lport };
		assert_int_equal(check_f(&t, f.peer_isn, f.cookie, f.now, ts, f.tsval), -EINVAL);
		assert_int_equal(check_f(&tup, f.peer_isn + 1, f.cookie, f.now, ts, f.tsval), -EINVAL);
		assert_int_equal(check_f(&tup, f.peer_isn - 1, f.cookie, f.now, ts, f.tsval), -EINVAL);
		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie + 1, f.now, ts, f.tsval), -EINVAL);
		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie - 1, f.now, ts, f.tsval), -EINVAL);
		/* another MSS index with the same MAC */
		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie ^ (3U << 24), f.now, ts, f.tsval), -EINVAL);
		/* another key */
		memcpy(k, key1, sizeof(k));
		k[15] ^= 1;
		assert_int_equal(usn_syncookie_check(k, &tup, f.peer_isn, f.cookie, f.now, ts, f.tsval, &got), -EINVAL);
	}
}

/* The option bits in the echo are under the MAC: all 511 other values of
 * the low 9 bits are refused, the bits above are free (they are the TS
 * clock's); a cookie made with timestamps needs the echo (RFC 7323 §3.2),
 * one made without accepts an ACK that has one and ignores it. */
static void test_cookie_tsecr_bits(void **state)
{
	struct fixture f;
	struct usn_syncookie_opts got;

	(void)state;
	fixture_make(&f, true, 9 * PERIOD);
	for (uint32_t v = 0; v < 512; v++) {
		uint32_t tsecr = (f.tsval & ~0x1ffU) | v;
		int want = v == (f.tsval & 0x1ff) ? 0 : -EINVAL;

		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, f.now, true, tsecr), want);
	}
	assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, f.now, true, f.tsval ^ 0xfffffe00U), 0);
	assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, f.now, false, 0), -EINVAL);
	assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, f.now, false, f.tsval), -EINVAL);

	fixture_make(&f, false, 9 * PERIOD);
	for (uint32_t v = 0; v < 512; v += 37) {
		assert_int_equal(usn_syncookie_check(key1, &tup, f.peer_isn, f.cookie, f.now, true, v, &got), 0);
		assert_false(got.ts_ok);
		assert_false(got.wscale_ok);
		assert_false(got.sack_ok);
		assert_int_equal(got.mss, 1440);
	}
}

/* RFC 4987 §3.6 counter: made at the very start of period k, valid through
 * period k + 1 (0..127.999 s old), refused from 128 s; made later in the
 * period, the window shrinks, never beyond 128 s nor below 64 s. */
static void test_cookie_aging(void **state)
{
	struct fixture f;
	uint64_t k0 = 1000 * PERIOD;
	uint64_t ages_ok[] = { 0, 1, SEC, 63 * SEC, 64 * SEC, 100 * SEC, 127 * SEC, 128 * SEC - 1 };
	uint64_t ages_bad[] = { 128 * SEC, 128 * SEC + 1, 129 * SEC, 192 * SEC, 1000 * SEC,
				32 * PERIOD, 33 * PERIOD, 32 * PERIOD + 5 * SEC };

	(void)state;
	for (int ts = 0; ts < 2; ts++) {
		fixture_make(&f, ts, k0);
		for (size_t i = 0; i < USN_ARRAY_SIZE(ages_ok); i++)
			assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, k0 + ages_ok[i], ts, f.tsval), 0);
		for (size_t i = 0; i < USN_ARRAY_SIZE(ages_bad); i++)
			assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, k0 + ages_bad[i], ts, f.tsval),
					 -EINVAL);
		/* from the future: the period before the one it was made in */
		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, k0 - 1, ts, f.tsval), -EINVAL);

		/* made 50 s into its period: good until the end of the next */
		fixture_make(&f, ts, k0 + 50 * SEC);
		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, k0 + 128 * SEC - 1, ts, f.tsval), 0);
		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, k0 + 128 * SEC, ts, f.tsval), -EINVAL);
		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, k0 + 50 * SEC - 1, ts, f.tsval), 0);
		assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, k0 - 1, ts, f.tsval), -EINVAL);
	}
	/* Period 0: the counter does not underflow; 31 is not "period -1". */
	fixture_make(&f, false, 0);
	assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, 0, false, 0), 0);
	assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, PERIOD, false, 0), 0);
	fixture_make(&f, false, 31 * PERIOD);
	assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, 0, false, 0), -EINVAL);
	/* Counter wrap of the 5 bits: made in period 31, checked in 32. */
	assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, 32 * PERIOD + 63 * SEC, false, 0), 0);
	assert_int_equal(check_f(&tup, f.peer_isn, f.cookie, 33 * PERIOD, false, 0), -EINVAL);
}

/* Every single-bit flip of the cookie is refused, for many cookies over
 * random tuples, ISNs, times, MSS values and options (a flip passes only
 * by a 24-bit MAC collision: with 64 * 32 tries, about 1e-4). */
static void test_cookie_bit_flips_refused(void **state)
{
	struct usn_rand r;

	(void)state;
	usn_rand_seed(&r, 4987);
	for (int n = 0; n < 64; n++) {
		struct usn_tcp_4tuple t = { usn_rand_u32(&r), usn_rand_u32(&r), (uint16_t)usn_rand_u32(&r),
					    (uint16_t)usn_rand_u32(&r) };
		uint64_t now = usn_rand_u64(&r) >> 4;
		bool ts = usn_rand_below(&r, 2);
		struct usn_syncookie_opts o = { .mss = (uint16_t)(500 + usn_rand_below(&r, 1100)), .ts_ok = ts,
						.wscale_ok = usn_rand_below(&r, 2), .sack_ok = usn_rand_below(&r, 2),
						.snd_wscale = (uint8_t)usn_rand_below(&r, 15),
						.rcv_wscale = (uint8_t)usn_rand_below(&r, 15) };
		uint32_t isn = usn_rand_u32(&r), tsval, c;
		uint64_t later = now + usn_rand_below(&r, PERIOD);
		struct usn_syncookie_opts got;

		c = usn_syncookie_make(key1, &t, isn, now, &o, usn_rand_u32(&r), &tsval);
		assert_int_equal(usn_syncookie_check(key1, &t, isn, c, later, ts, tsval, &got), 0);
		for (int bit = 0; bit < 32; bit++)
			assert_int_equal(usn_syncookie_check(key1, &t, isn, c ^ (1U << bit), later, ts, tsval, &got),
					 -EINVAL);
		if (ts)
			for (int bit = 0; bit < 9; bit++)
				assert_int_equal(usn_syncookie_check(key1, &t, isn, c, later, true,
								     tsval ^ (1U << bit), &got),
						 -EINVAL);
	}
}

/* Blind guessing: random cookies for one tuple are essentially never
 * accepted (expected 2/32 * 2 * 2^-24 per guess). */
static void test_cookie_random_guesses_refused(void **state)
{
	struct usn_rand r;
	struct usn_syncookie_opts got;
	int accepted = 0;

	(void)state;
	usn_rand_seed(&r, 7);
	for (int i = 0; i < 100000; i++)
		accepted += usn_syncookie_check(key1, &tup, 1234, usn_rand_u32(&r), 40 * PERIOD, true,
						usn_rand_u32(&r), &got) == 0;
	assert_int_equal(accepted, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isn_golden),
		cmocka_unit_test(test_isn_monotonic_in_time),
		cmocka_unit_test(test_isn_tuples_unrelated),
		cmocka_unit_test(test_isn_keys_differ),
		cmocka_unit_test(test_ts_offset_per_address_pair),
		cmocka_unit_test(test_cookie_layout_matches_model),
		cmocka_unit_test(test_cookie_mss_roundtrip),
		cmocka_unit_test(test_cookie_opts_roundtrip),
		cmocka_unit_test(test_cookie_tsval_wrap),
		cmocka_unit_test(test_cookie_tampered_fields_refused),
		cmocka_unit_test(test_cookie_tsecr_bits),
		cmocka_unit_test(test_cookie_aging),
		cmocka_unit_test(test_cookie_bit_flips_refused),
		cmocka_unit_test(test_cookie_random_guesses_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
