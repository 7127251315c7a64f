// SPDX-License-Identifier: MIT
/*
 * test-ipv4.c - unit tests of the IPv4 header (wire/ipv4.c, RFC 791 §3.1,
 * RFC 1122 §3.2.1): golden bytes of a real ping captured on Linux decoded
 * and emitted back, every truncation refused, impossible IHL and total
 * lengths refused, options (IHL 6..15) skipped, bad checksums detected and
 * the NO_CSUM flag honoured, oversized fragments refused, link padding kept
 * out of the payload, headers quoted in ICMP errors (USN_IPV4_PARSE_QUOTED),
 * and the martian source table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "wire.h"

/* ping -s 24 127.0.0.1, echo request, as captured (IPv4 header + ICMP) */
static const uint8_t ping_ip[] = {
	0x45, 0x00, 0x00, 0x34, 0x22, 0x8a, 0x40, 0x00, 0x40, 0x01,
	0x1a, 0x3d, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x5e, 0xf4, 0x1c, 0x51, 0x00, 0x01, 0x55, 0xe3, 0x0e, 0x6b, 0x00, 0x00,
	0x00, 0x00, 0xc5, 0x1a, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11,
	0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
};

/* 192.0.2.1 -> 198.51.100.7 UDP 5000 -> 53 "abcd" with a Router Alert
 * option (RFC 2113): IHL 6 */
static const uint8_t ra_udp[] = {
	0x46, 0x00, 0x00, 0x24, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe7, 0x54,
	0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x07, 0x94, 0x04, 0x00, 0x00,
	0x13, 0x88, 0x00, 0x35, 0x00, 0x0c, 0x3b, 0x16, 0x61, 0x62, 0x63, 0x64,
};

/* A real UDP frame (127.0.0.1:37438 -> :9, "hello usnet", 53 bytes) padded
 * by the link to the 60-byte Ethernet minimum. */
static const uint8_t udp_frame_padded[USN_ETH_MIN_FRAME] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x27, 0x5f, 0x18, 0x40, 0x00, 0x40, 0x11,
	0xdd, 0xab, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x92, 0x3e,
	0x00, 0x09, 0x00, 0x13, 0xfe, 0x26, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20,
	0x75, 0x73, 0x6e, 0x65, 0x74, 0, 0, 0, 0, 0, 0, 0,
};

static void fix_csum(uint8_t *h)
{
	size_t hlen = (size_t)(h[0] & 0xf) * 4;

	h[10] = h[11] = 0;
	uint16_t c = usn_csum_finish(usn_csum_partial(h, hlen, 0));
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
}

static void assert_repr_equal(const struct usn_ipv4_repr *a, const struct usn_ipv4_repr *b)
{
	assert_int_equal(a->src, b->src);
	assert_int_equal(a->dst, b->dst);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->tos, b->tos);
	assert_int_equal(a->df, b->df);
	assert_int_equal(a->mf, b->mf);
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->frag_off, b->frag_off);
	assert_int_equal(a->hdr_len, b->hdr_len);
	assert_int_equal(a->payload_len, b->payload_len);
}

static void test_golden_decode(void **state)
{
	struct usn_ipv4_repr r;

	assert_int_equal(usn_ipv4_parse(ping_ip, sizeof(ping_ip), &r, 0), USN_WIRE_OK);
	assert_int_equal(r.src, 0x7f000001);
	assert_int_equal(r.dst, 0x7f000001);
	assert_int_equal(r.proto, USN_IPPROTO_ICMP);
	assert_int_equal(r.ttl, 64);
	assert_int_equal(r.tos, 0);
	assert_true(r.df);
	assert_false(r.mf);
	assert_int_equal(r.id, 0x228a);
	assert_int_equal(r.frag_off, 0);
	assert_int_equal(r.hdr_len, 20);
	assert_int_equal(r.payload_len, 32);

	assert_int_equal(usn_ipv4_parse(ra_udp, sizeof(ra_udp), &r, 0), USN_WIRE_OK);
	assert_int_equal(r.src, 0xc0000201);
	assert_int_equal(r.dst, 0xc6336407);
	assert_int_equal(r.proto, USN_IPPROTO_UDP);
	assert_false(r.df);
	assert_int_equal(r.id, 0x1234);
	assert_int_equal(r.hdr_len, 24);
	assert_int_equal(r.payload_len, 12);
	/* the payload starts after the option: the UDP source port 5000 */
	assert_int_equal(ra_udp[r.hdr_len], 0x13);
	assert_int_equal(ra_udp[r.hdr_len + 1], 0x88);
}

static void test_golden_emit(void **state)
{
	struct usn_ipv4_repr r = {
		.src = 0x7f000001, .dst = 0x7f000001, .proto = USN_IPPROTO_ICMP, .ttl = 64,
		.df = true, .id = 0x228a, .payload_len = 32, .hdr_len = 99, /* ignored */
	};
	uint8_t out[USN_IPV4_MIN_HLEN + 1];

	memset(out, 0xaa, sizeof(out));
	assert_int_equal(usn_ipv4_emit(&r, out, sizeof(out)), USN_IPV4_MIN_HLEN);
	assert_memory_equal(out, ping_ip, USN_IPV4_MIN_HLEN);
	assert_int_equal(out[USN_IPV4_MIN_HLEN], 0xaa);

	/* a parsed repr with options emits a plain 20-byte header that
	 * parses back to the same fields */
	struct usn_ipv4_repr p, q;
	uint8_t pkt[64];
	assert_int_equal(usn_ipv4_parse(ra_udp, sizeof(ra_udp), &p, 0), USN_WIRE_OK);
	assert_int_equal(usn_ipv4_emit(&p, pkt, sizeof(pkt)), 20);
	memcpy(pkt + 20, ra_udp + 24, 12);
	assert_int_equal(usn_ipv4_parse(pkt, 32, &q, 0), USN_WIRE_OK);
	assert_int_equal(q.hdr_len, 20);
	p.hdr_len = 20;
	assert_repr_equal(&p, &q);

	/* a fragment: MF and offset */
	r.df = false;
	r.mf = true;
	r.frag_off = 1480;
	assert_int_equal(usn_ipv4_emit(&r, out, sizeof(out)), 20);
	assert_int_equal(out[6], 0x20 | (185 >> 8));
	assert_int_equal(out[7], 185 & 0xff);
	assert_int_equal(usn_csum_fold(usn_csum_partial(out, 20, 0)), 0xffff);
}

static void test_emit_refused(void **state)
{
	struct usn_ipv4_repr r = { .ttl = 64, .payload_len = 100 };
	uint8_t out[20];

	for (size_t cap = 0; cap < 20; cap++)
		assert_int_equal(usn_ipv4_emit(&r, out, cap), USN_WIRE_ENOSPC);
	r.frag_off = 3; /* not a multiple of 8 */
	assert_int_equal(usn_ipv4_emit(&r, out, sizeof(out)), USN_WIRE_BAD_FIELD);
	r.frag_off = 0;
	r.payload_len = USN_IPV4_MAX_LEN - 20;
	assert_int_equal(usn_ipv4_emit(&r, out, sizeof(out)), 20);
	r.payload_len++;
	assert_int_equal(usn_ipv4_emit(&r, out, sizeof(out)), USN_WIRE_BAD_LEN);
	r.payload_len = 16;
	r.frag_off = 65528;
	assert_int_equal(usn_ipv4_emit(&r, out, sizeof(out)), USN_WIRE_BAD_LEN);
}

static void test_truncated(void **state)
{
	struct usn_ipv4_repr r;

	for (size_t len = 0; len < sizeof(ping_ip); len++)
		assert_int_equal(usn_ipv4_parse(ping_ip, len, &r, 0), USN_WIRE_TRUNCATED);
	for (size_t len = 0; len < sizeof(ra_udp); len++)
		assert_int_equal(usn_ipv4_parse(ra_udp, len, &r, USN_IPV4_PARSE_NO_CSUM),
				 USN_WIRE_TRUNCATED);
}

static void test_bad_lengths(void **state)
{
	struct usn_ipv4_repr r;
	uint8_t b[sizeof(ping_ip)];

	/* RFC 791 §3.1: IHL below 5 */
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		memcpy(b, ping_ip, sizeof(b));
		b[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_NO_CSUM),
				 USN_WIRE_BAD_HDR_LEN);
	}
	/* total length below the header length */
	for (uint16_t tot = 0; tot < 20; tot++) {
		memcpy(b, ping_ip, sizeof(b));
		b[2] = 0;
		b[3] = (uint8_t)tot;
		fix_csum(b);
		assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_BAD_LEN);
	}
	memcpy(b, ping_ip, sizeof(b));
	b[0] = 0x4f; /* 60-byte header */
	b[3] = 40;
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_NO_CSUM), USN_WIRE_BAD_LEN);
	/* IHL*4 beyond the buffer */
	b[3] = 60;
	assert_int_equal(usn_ipv4_parse(b, 40, &r, USN_IPV4_PARSE_NO_CSUM), USN_WIRE_TRUNCATED);
	/* total length beyond the buffer */
	memcpy(b, ping_ip, sizeof(b));
	b[3] = (uint8_t)(sizeof(ping_ip) + 1);
	fix_csum(b);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_TRUNCATED);
	b[2] = 0xff;
	b[3] = 0xff;
	fix_csum(b);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_TRUNCATED);
	/* version */
	memcpy(b, ping_ip, sizeof(b));
	b[0] = 0x65;
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_NO_CSUM), USN_WIRE_BAD_VERSION);
	b[0] = 0x05;
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_NO_CSUM), USN_WIRE_BAD_VERSION);
}

/* Options are skipped whatever they hold; the payload starts at IHL*4. */
static void test_options_skipped(void **state)
{
	uint8_t b[60 + 8];
	struct usn_ipv4_repr r;

	for (uint8_t ihl = 5; ihl <= 15; ihl++) {
		size_t hlen = (size_t)ihl * 4;
		memset(b, 0x01, sizeof(b)); /* NOP options */
		memcpy(b, ping_ip, 20);
		b[0] = (uint8_t)(0x40 | ihl);
		if (hlen > 20)
			b[hlen - 1] = 0; /* End of Option List */
		b[3] = (uint8_t)(hlen + 8);
		memcpy(b + hlen, "PAYLOAD!", 8);
		fix_csum(b);
		assert_int_equal(usn_ipv4_parse(b, hlen + 8, &r, 0), USN_WIRE_OK);
		assert_int_equal(r.hdr_len, hlen);
		assert_int_equal(r.payload_len, 8);
		assert_memory_equal(b + r.hdr_len, "PAYLOAD!", 8);
		/* the options are covered by the checksum */
		if (hlen > 20) {
			b[20] ^= 0x40;
			assert_int_equal(usn_ipv4_parse(b, hlen + 8, &r, 0), USN_WIRE_BAD_CSUM);
			assert_int_equal(usn_ipv4_parse(b, hlen + 8, &r, USN_IPV4_PARSE_NO_CSUM),
					 USN_WIRE_OK);
		}
	}
}

/* RFC 1122 §3.2.1.2: a bad header checksum is refused, unless the device
 * said it checked it; the payload is not covered. */
static void test_bad_csum(void **state)
{
	uint8_t b[sizeof(ping_ip)];
	struct usn_ipv4_repr r;

	for (size_t i = 1; i < 20; i++) {
		if (i == 2) /* total length 0x0434: truncated, tested elsewhere */
			continue;
		memcpy(b, ping_ip, sizeof(b));
		b[i] ^= 0x04;
		assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_BAD_CSUM);
		assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_NO_CSUM), USN_WIRE_OK);
	}
	memcpy(b, ping_ip, sizeof(b));
	b[30] ^= 0xff;
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_OK);
}

/* RFC 791 §3.1: a fragment may not end past 65535 (the "ping of death"). */
static void test_frag_overflow(void **state)
{
	uint8_t b[20 + 16];
	struct usn_ipv4_repr r;

	memset(b, 0, sizeof(b));
	memcpy(b, ping_ip, 20);
	b[6] = 0x1f; /* offset 8191 * 8 = 65528 */
	b[7] = 0xff;
	b[3] = 20 + 7;
	fix_csum(b);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_OK);
	assert_int_equal(r.frag_off, 65528);
	assert_int_equal(r.payload_len, 7);
	assert_false(r.mf);
	b[3] = 20 + 8;
	fix_csum(b);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_BAD_LEN);
	b[6] = 0x3f; /* MF too */
	b[3] = 20 + 16;
	fix_csum(b);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_BAD_LEN);
	b[6] = 0x20 | 0x10; /* MF, offset 4096 * 8 = 32768 */
	b[7] = 0x00;
	fix_csum(b);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_OK);
	assert_true(r.mf);
	assert_false(r.df);
	assert_int_equal(r.frag_off, 32768);
}

/* Short frames are padded by the link: the bytes after the total length
 * are not payload. */
static void test_eth_padding_excluded(void **state)
{
	struct usn_eth_repr e;
	struct usn_ipv4_repr r;
	struct usn_udp_repr u;

	assert_int_equal(usn_eth_parse(udp_frame_padded, sizeof(udp_frame_padded), &e), USN_WIRE_OK);
	assert_int_equal(e.ethertype, USN_ETHERTYPE_IPV4);
	const uint8_t *ip = udp_frame_padded + USN_ETH_HLEN;
	size_t ip_len = sizeof(udp_frame_padded) - USN_ETH_HLEN;
	assert_int_equal(usn_ipv4_parse(ip, ip_len, &r, 0), USN_WIRE_OK);
	assert_int_equal(r.payload_len, 19);
	assert_int_equal(usn_udp_parse(ip + r.hdr_len, r.payload_len, &u), USN_WIRE_OK);
	assert_int_equal(u.len, 19);
	assert_int_equal(u.dst_port, 9);
}

/* RFC 792: an ICMP error quotes the header and the first 8 data bytes of
 * the original, whose total length then exceeds what is present. */
static void test_quoted(void **state)
{
	/* the datagram quoted by a real port unreachable, cut to 28 bytes */
	const uint8_t *orig = udp_frame_padded + USN_ETH_HLEN;
	struct usn_ipv4_repr r;
	uint8_t b[28];

	assert_int_equal(usn_ipv4_parse(orig, 28, &r, 0), USN_WIRE_TRUNCATED);
	assert_int_equal(usn_ipv4_parse(orig, 28, &r, USN_IPV4_PARSE_QUOTED), USN_WIRE_OK);
	assert_int_equal(r.hdr_len, 20);
	assert_int_equal(r.payload_len, 8);
	assert_int_equal(r.proto, USN_IPPROTO_UDP);
	assert_int_equal(r.id, 0x5f18);
	/* whole, and with padding: the same as a normal parse */
	assert_int_equal(usn_ipv4_parse(orig, 46, &r, USN_IPV4_PARSE_QUOTED), USN_WIRE_OK);
	assert_int_equal(r.payload_len, 19);
	/* the header itself must be there, and check out */
	for (size_t len = 0; len < 20; len++)
		assert_int_equal(usn_ipv4_parse(orig, len, &r, USN_IPV4_PARSE_QUOTED), USN_WIRE_TRUNCATED);
	memcpy(b, orig, sizeof(b));
	b[8] = 1; /* TTL 1 without fixing the checksum */
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_QUOTED), USN_WIRE_BAD_CSUM);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_QUOTED | USN_IPV4_PARSE_NO_CSUM),
			 USN_WIRE_OK);
	memcpy(b, orig, sizeof(b));
	b[0] = 0x46; /* options claimed, 24 bytes: still fits */
	fix_csum(b);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_QUOTED), USN_WIRE_OK);
	assert_int_equal(r.payload_len, 4);
	b[0] = 0x48; /* 32 bytes of header in 28 */
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_QUOTED | USN_IPV4_PARSE_NO_CSUM),
			 USN_WIRE_TRUNCATED);
	b[0] = 0x44;
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_QUOTED | USN_IPV4_PARSE_NO_CSUM),
			 USN_WIRE_BAD_HDR_LEN);
	b[0] = 0x45;
	b[2] = 0;
	b[3] = 19; /* total length below the header */
	fix_csum(b);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_QUOTED), USN_WIRE_BAD_LEN);
	/* the fragment bound is not applied to a quote */
	memcpy(b, orig, sizeof(b));
	b[2] = 0x05;
	b[3] = 0xdc;
	b[6] = 0x1f;
	b[7] = 0xff;
	fix_csum(b);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, 0), USN_WIRE_TRUNCATED);
	assert_int_equal(usn_ipv4_parse(b, sizeof(b), &r, USN_IPV4_PARSE_QUOTED), USN_WIRE_OK);
	assert_int_equal(r.frag_off, 65528);
	assert_int_equal(r.payload_len, 8);
}

static void test_martian_src(void **state)
{
	static const struct {
		uint32_t a;
		bool martian;
	} t[] = {
		{ 0x00000000, true },  /* 0.0.0.0 */
		{ 0x00ffffff, true },  /* 0.255.255.255 */
		{ 0x01000000, false }, /* 1.0.0.0 */
		{ 0x0a000001, false }, /* 10.0.0.1 */
		{ 0x7effffff, false }, /* 126.255.255.255 */
		{ 0x7f000000, true },  /* 127.0.0.0 */
		{ 0x7f000001, true },  /* 127.0.0.1 */
		{ 0x7fffffff, true },  /* 127.255.255.255 */
		{ 0x80000000, false }, /* 128.0.0.0 */
		{ 0xc0a80001, false }, /* 192.168.0.1 */
		{ 0xdfffffff, false }, /* 223.255.255.255 */
		{ 0xe0000000, true },  /* 224.0.0.0 */
		{ 0xe0000001, true },  /* 224.0.0.1 */
		{ 0xefffffff, true },  /* 239.255.255.255 */
		{ 0xf0000000, true },  /* 240.0.0.0 */
		{ 0xfffffffe, true },  /* 255.255.255.254 */
		{ 0xffffffff, true },  /* limited broadcast */
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(usn_ipv4_is_martian_src(t[i].a), t[i].martian);
	assert_true(usn_ipv4_is_multicast(0xe0000001));
	assert_false(usn_ipv4_is_multicast(0xf0000001));
	assert_true(usn_ipv4_is_loopback(0x7f000001));
	assert_true(usn_ipv4_is_broadcast(0xffffffff));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_decode),
		cmocka_unit_test(test_golden_emit),
		cmocka_unit_test(test_emit_refused),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_options_skipped),
		cmocka_unit_test(test_bad_csum),
		cmocka_unit_test(test_frag_overflow),
		cmocka_unit_test(test_eth_padding_excluded),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_martian_src),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
