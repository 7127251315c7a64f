/* SPDX-License-Identifier: MIT */
/*
 * icmp.c - ICMPv4 input (echo, errors handed to the transport) and error
 * output with the RFC 1122 restrictions and a rate limit.
 *
 * Implements RFC 792 (echo and echo reply, destination unreachable, time
 * exceeded), RFC 1122 §3.2.2 (when an error must not be sent), §3.2.2.6
 * (echo: reply with the same data; broadcast requests may be ignored),
 * RFC 1812 §4.3.2.3 (quote as much of the datagram as fits in 576 bytes)
 * and §4.3.2.8 (rate limiting). Echo requests are answered with their data
 * as received, fragmented if they came fragmented.
 */
#include <string.h>

#include "ip.h"
#include "util.h"

/* Linux's net.ipv4.icmp_msgs_per_sec and icmp_msgs_burst. */
#define USN_ICMP_RATE_PER_SEC 1000
#define USN_ICMP_BURST 50
#define USN_ICMP_ERR_MAX 576 /* RFC 1812 §4.3.2.3 */

static bool icmp_is_error_type(uint8_t t)
{
	return t == USN_ICMP_DEST_UNREACH || t == USN_ICMP_SOURCE_QUENCH || t == USN_ICMP_REDIRECT ||
	       t == USN_ICMP_TIME_EXCEEDED || t == USN_ICMP_PARAM_PROBLEM;
}

static bool icmp_rate_ok(struct usn_ip *ip)
{
	uint64_t now = *ip->now;
	uint64_t el = USN_MIN(now - ip->icmp_last, 10 * USN_NSEC_PER_SEC);
	ip->icmp_last = now;
	uint64_t add = el / 1000 * USN_ICMP_RATE_PER_SEC / 1000; /* milli-tokens */
	uint64_t t = ip->icmp_tokens_milli + add;
	if (t > USN_ICMP_BURST * 1000)
		t = USN_ICMP_BURST * 1000;
	if (t < 1000) {
		ip->icmp_tokens_milli = (uint32_t)t;
		return false;
	}
	ip->icmp_tokens_milli = (uint32_t)(t - 1000);
	return true;
}

void usn_icmp_send_error(struct usn_ip *ip, uint8_t type, uint8_t code, uint16_t mtu,
			 const struct usn_ipv4_repr *orig, uint32_t chain, uint32_t len)
{
	/* RFC 1122 §3.2.2: an ICMP error MUST NOT be sent about an ICMP error,
	 * a datagram to a broadcast or multicast address, a non-initial
	 * fragment, or one whose source is not a single host. */
	if (orig->frag_off != 0)
		return;
	if (usn_ip_is_bcast(ip, orig->dst) || usn_ipv4_is_multicast(orig->dst))
		return;
	if (usn_ipv4_is_martian_src(orig->src) || usn_ip_is_bcast(ip, orig->src))
		return;
	if (orig->proto == USN_IPPROTO_ICMP) {
		uint8_t t;
		if (len < 1 || usn_buf_chain_copy(ip->pool, chain, 0, &t, 1) != 1 || icmp_is_error_type(t))
			return;
	}
	if (!icmp_rate_ok(ip)) {
		USN_CTR_INC(ip->ctr, ICMP_RATELIMITED);
		return;
	}
	uint8_t msg[USN_ICMP_ERR_MAX - USN_IPV4_MIN_HLEN];
	uint8_t *quote = msg + USN_ICMP_HLEN;
	/* The quoted header is rebuilt from the parsed one.
	 * DEVIATION(RFC 792): options of the original header are not quoted,
	 * because received options are skipped, never kept. */
	struct usn_ipv4_repr q = *orig;
	q.payload_len = orig->payload_len;
	usn_ipv4_emit(&q, quote, USN_IPV4_MIN_HLEN);
	uint32_t room = sizeof(msg) - USN_ICMP_HLEN - USN_IPV4_MIN_HLEN;
	uint32_t n = (uint32_t)usn_buf_chain_copy(ip->pool, chain, 0, quote + USN_IPV4_MIN_HLEN, USN_MIN(len, room));
	struct usn_icmp_repr r = {
		.type = type, .code = code, .mtu = mtu, .data = quote, .data_len = USN_IPV4_MIN_HLEN + n,
	};
	int mlen = usn_icmp_emit(&r, msg, sizeof(msg));
	if (mlen < 0)
		return;
	struct usn_ip_payload pl = {.hdr = msg, .hdr_len = (uint32_t)mlen, .chain = USN_BUF_NONE};
	if (usn_ip_output(ip, ip->addr, orig->src, USN_IPPROTO_ICMP, 0, false, &pl) == 0 &&
	    type == USN_ICMP_DEST_UNREACH && code == USN_ICMP_PORT_UNREACH)
		USN_CTR_INC(ip->ctr, ICMP_TX_PORT_UNREACH);
}

static void icmp_echo(struct usn_ip *ip, const struct usn_ipv4_repr *r, const struct usn_icmp_repr *req,
		      uint32_t chain, uint32_t len)
{
	/* RFC 1122 §3.2.2.6: a request to a broadcast address MAY be silently
	 * discarded; usnet does (smurf amplification). */
	if (usn_ip_is_bcast(ip, r->dst)) {
		USN_DROP(ip->ctr, ICMP_DROP_BROADCAST);
		return;
	}
	uint8_t hdr[USN_ICMP_HLEN];
	struct usn_icmp_repr rep = {.type = USN_ICMP_ECHO_REPLY, .code = 0, .id = req->id, .seq = req->seq};
	uint32_t data_sum = usn_ip_chain_csum(ip->pool, chain, USN_ICMP_HLEN, len - USN_ICMP_HLEN);
	usn_icmp_emit_hdr(&rep, data_sum, hdr, sizeof(hdr));
	struct usn_ip_payload pl = {
		.hdr = hdr, .hdr_len = USN_ICMP_HLEN,
		.chain = chain, .chain_off = USN_ICMP_HLEN, .chain_len = len - USN_ICMP_HLEN,
	};
	/* RFC 1122 §3.2.2.6: the reply's source is the request's destination. */
	if (usn_ip_output(ip, r->dst, r->src, USN_IPPROTO_ICMP, r->tos, false, &pl) == 0)
		USN_CTR_INC(ip->ctr, ICMP_TX_ECHO_REPLIES);
}

void usn_icmp_input(struct usn_ip *ip, const struct usn_ipv4_repr *r, uint32_t chain, uint32_t len)
{
	struct usn_pool *pool = ip->pool;
	USN_CTR_INC(ip->ctr, ICMP_RX_MESSAGES);
	struct usn_icmp_repr m;
	if (len < USN_ICMP_HLEN || usn_buf_len(pool, chain) < USN_ICMP_HLEN ||
	    usn_icmp_parse(usn_buf_data(pool, chain), usn_buf_len(pool, chain), &m, USN_ICMP_PARSE_NO_CSUM) !=
		    USN_WIRE_OK) {
		USN_DROP(ip->ctr, ICMP_DROP_TRUNCATED);
		goto out;
	}
	/* RFC 792: the checksum covers the whole message. */
	if (usn_csum_fold(usn_ip_chain_csum(pool, chain, 0, len)) != 0xffff) {
		USN_DROP(ip->ctr, ICMP_DROP_BAD_CSUM);
		goto out;
	}
	switch (m.type) {
	case USN_ICMP_ECHO_REQUEST:
		USN_CTR_INC(ip->ctr, ICMP_RX_ECHO_REQUESTS);
		icmp_echo(ip, r, &m, chain, len);
		break;
	case USN_ICMP_DEST_UNREACH: {
		USN_CTR_INC(ip->ctr, ICMP_RX_DEST_UNREACH);
		/* The quoted datagram is in the first buffer when it is a
		 * plain (unfragmented) error message, as errors are small. */
		struct usn_ipv4_repr q;
		if (usn_ipv4_parse(m.data, m.data_len, &q, USN_IPV4_PARSE_QUOTED) != USN_WIRE_OK)
			break;
		if (q.proto == USN_IPPROTO_UDP && q.src == ip->addr)
			usn_udp_icmp_error(ip, &m, m.data, m.data_len);
		else if (q.proto == USN_IPPROTO_TCP && q.src == ip->addr && ip->tcp_icmp_error)
			ip->tcp_icmp_error(ip->upper, &m, m.data, m.data_len);
		break;
	}
	default:
		USN_CTR_INC(ip->ctr, ICMP_RX_OTHER);
		break;
	}
out:
	usn_buf_free_chain(pool, chain);
}
