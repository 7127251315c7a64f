/* SPDX-License-Identifier: MIT */
/*
 * ip.c - Ethernet input, IPv4 input and output, routes and the transmit
 * queue of one stack.
 *
 * Implements: RFC 894 (IPv4 over Ethernet); RFC 791 §3.2 (header checks,
 * fragmentation on output); RFC 1122 §3.2.1 (host checks on received
 * datagrams), §3.3.1 (routing: connected prefix and one default gateway),
 * §3.3.6 (link-layer broadcasts). Not a router: datagrams not addressed to
 * us are dropped, never forwarded. No IP options are emitted, and received
 * ones are skipped. Multicast is not supported yet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ip.h"
#include "util.h"

#define USN_IP_DEFAULT_TTL 64 /* RFC 1700 / Linux default */

void usn_ip_init(struct usn_ip *ip)
{
	ip->txq_len = 0;
	ip->next_id = (uint16_t)usn_rand_u32(ip->rand);
	ip->icmp_tokens_milli = 50 * 1000;
	ip->icmp_last = *ip->now;
	if (ip->eph_lo == 0 || ip->eph_hi < ip->eph_lo) {
		ip->eph_lo = USN_EPHEMERAL_LO;
		ip->eph_hi = USN_EPHEMERAL_HI;
	}
	usn_arp_init(ip);
	usn_reass_init(ip, ip->pool->count / 4);
	memset(&ip->udp, 0, sizeof(ip->udp));
}

void usn_ip_fini(struct usn_ip *ip)
{
	usn_reass_fini(ip);
	usn_arp_fini(ip);
	for (uint32_t i = 0; i < ip->txq_len; i++)
		usn_buf_free_chain(ip->pool, ip->txq[i]);
	ip->txq_len = 0;
	free(ip->pcap_scratch);
	ip->pcap_scratch = NULL;
}

bool usn_ip_is_local(const struct usn_ip *ip, uint32_t a)
{
	return a != 0 && a == ip->addr;
}

bool usn_ip_is_bcast(const struct usn_ip *ip, uint32_t a)
{
	if (usn_ipv4_is_broadcast(a))
		return true;
	/* RFC 1122 §3.2.1.3: the subnet-directed broadcast {net, -1}. */
	return ip->mask != 0xffffffffu && ip->mask != 0 && a == (ip->addr | ~ip->mask);
}

int usn_ip_route(const struct usn_ip *ip, uint32_t dst, uint32_t *ret_hop)
{
	/* RFC 1122 §3.3.1.1: on-link destinations go direct, others to the
	 * gateway. DEVIATION(RFC 1122 §3.3.1): one default gateway only, no
	 * route table and no redirects, because usnet owns one address on one
	 * link. */
	if (dst == ip->addr)
		return -ENETUNREACH; /* no loopback: the kernel owns 127/8 */
	if ((dst & ip->mask) == (ip->addr & ip->mask)) {
		*ret_hop = dst;
		return 0;
	}
	if (ip->gw == 0)
		return -ENETUNREACH;
	*ret_hop = ip->gw;
	return 0;
}

uint32_t usn_ip_chain_csum(struct usn_pool *pool, uint32_t chain, uint32_t off, uint32_t len)
{
	uint32_t sum = 0;
	size_t pos = 0; /* bytes summed so far: decides odd-offset combining */
	for (uint32_t b = chain; b != USN_BUF_NONE && len > 0; b = usn_buf_meta(pool, b)->next) {
		uint32_t blen = usn_buf_len(pool, b);
		if (off >= blen) {
			off -= blen;
			continue;
		}
		uint32_t n = USN_MIN(blen - off, len);
		uint32_t part = usn_csum_partial(usn_buf_data(pool, b) + off, n, 0);
		sum = usn_csum_combine(sum, part, pos);
		pos += n;
		len -= n;
		off = 0;
	}
	return sum;
}

/* Writes a frame (possibly a chain) to the capture. */
static void pcap_frame(struct usn_ip *ip, uint32_t buf)
{
	struct usn_pool *pool = ip->pool;
	uint64_t ts = (uint64_t)((int64_t)*ip->now + ip->pcap_time_offset);
	if (usn_buf_meta(pool, buf)->next == USN_BUF_NONE) {
		usn_pcap_write(ip->pcap, usn_buf_data(pool, buf), usn_buf_len(pool, buf), ts);
		return;
	}
	if (!ip->pcap_scratch && !(ip->pcap_scratch = malloc(USN_IPV4_MAX_LEN + 64)))
		return;
	size_t n = usn_buf_chain_copy(pool, buf, 0, ip->pcap_scratch, USN_IPV4_MAX_LEN + 64);
	usn_pcap_write(ip->pcap, ip->pcap_scratch, n, ts);
}

/* ---- transmit ---- */

void usn_ip_flush(struct usn_ip *ip)
{
	if (ip->txq_len == 0)
		return;
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < ip->txq_len; i++) {
		uint32_t b = ip->txq[i];
		bytes += usn_buf_chain_len(ip->pool, b);
		if (ip->pcap)
			pcap_frame(ip, b);
	}
	if (!ip->dev) {
		for (uint32_t i = 0; i < ip->txq_len; i++)
			usn_buf_free_chain(ip->pool, ip->txq[i]);
		USN_CTR_ADD(ip->ctr, DEV_TX_ERRORS, ip->txq_len);
		ip->txq_len = 0;
		return;
	}
	uint32_t n = ip->txq_len;
	ip->txq_len = 0;
	int sent = usn_dev_tx_burst(ip->dev, ip->txq, (int)n, *ip->now);
	USN_CTR_ADD(ip->ctr, DEV_TX_FRAMES, sent > 0 ? (uint32_t)sent : 0);
	USN_CTR_ADD(ip->ctr, DEV_TX_BYTES, bytes);
	if (sent < (int)n)
		USN_CTR_ADD(ip->ctr, DEV_TX_DROP_FULL, n - (uint32_t)(sent > 0 ? sent : 0));
}

void usn_ip_txq_push(struct usn_ip *ip, uint32_t buf)
{
	if (ip->txq_len == USN_IP_TXQ)
		usn_ip_flush(ip);
	ip->txq[ip->txq_len++] = buf;
}

/* Copies n bytes of the payload, starting `off` bytes into it, to dst. */
static void payload_copy(struct usn_ip *ip, const struct usn_ip_payload *pl, uint32_t off, uint8_t *dst,
			 uint32_t n)
{
	if (off < pl->hdr_len) {
		uint32_t k = USN_MIN(n, pl->hdr_len - off);
		memcpy(dst, pl->hdr + off, k);
		dst += k;
		n -= k;
		off = pl->hdr_len;
	}
	if (n == 0)
		return;
	off -= pl->hdr_len;
	if (pl->chain == USN_BUF_NONE && pl->iovcnt > 0) {
		for (uint32_t i = 0; i < pl->iovcnt && n > 0; i++) {
			uint32_t ilen = (uint32_t)pl->iov[i].iov_len;
			if (off >= ilen) {
				off -= ilen;
				continue;
			}
			uint32_t k = USN_MIN(n, ilen - off);
			memcpy(dst, (const uint8_t *)pl->iov[i].iov_base + off, k);
			dst += k;
			n -= k;
			off = 0;
		}
	} else if (pl->chain == USN_BUF_NONE) {
		memcpy(dst, pl->data + off, n);
	} else
		usn_buf_chain_copy(ip->pool, pl->chain, pl->chain_off + off, dst, n);
}

/* Below this, a piece of lent memory is copied rather than referenced: an
 * EXT buffer costs about what copying this many bytes does. */
#define ZC_MIN_BYTES 256u

/* Whether the payload can go by reference: the device takes chains of lent
 * memory and some piece of the gather list is lent and large enough. */
static bool zc_worth(const struct usn_ip *ip, const struct usn_ip_payload *pl)
{
	if (pl->chain != USN_BUF_NONE || pl->iovcnt == 0 || !pl->iov_ref || !ip->dev ||
	    !(ip->dev->offloads & USN_DEV_OFF_SG))
		return false;
	for (uint32_t i = 0; i < pl->iovcnt; i++)
		if (pl->iov_ref[i] && pl->iov[i].iov_len >= ZC_MIN_BYTES)
			return true;
	return false;
}

/* Zero copy: one datagram (r, not fragmented) as a chain whose first
 * buffer holds the IP and transport headers and the bytes without an owner
 * (the send ring), and whose other buffers are EXT buffers naming lent
 * memory. The device's own copy (writev) is the only one. tx_aux: the
 * offload metadata of the head (0 for none) and tx_flags its flags. */
static int output_zc(struct usn_ip *ip, uint32_t hop, const struct usn_ipv4_repr *r,
		     const struct usn_ip_payload *pl, uint16_t tx_flags, uint64_t tx_aux)
{
	struct usn_pool *pool = ip->pool;
	uint32_t head = usn_buf_alloc(pool);
	if (head == USN_BUF_NONE) {
		USN_CTR_INC(ip->ctr, BUF_ALLOC_FAIL);
		return -ENOBUFS;
	}
	uint32_t tail = head;
	uint64_t copied = 0, lent = 0;
	uint8_t *p = usn_buf_put(pool, head, USN_IPV4_MIN_HLEN + pl->hdr_len);
	usn_ipv4_emit(r, p, USN_IPV4_MIN_HLEN);
	memcpy(p + USN_IPV4_MIN_HLEN, pl->hdr, pl->hdr_len);
	for (uint32_t i = 0; i < pl->iovcnt; i++) {
		const uint8_t *src = pl->iov[i].iov_base;
		uint32_t left = (uint32_t)pl->iov[i].iov_len;
		uint32_t b;
		if (pl->iov_ref[i] && left >= ZC_MIN_BYTES) {
			b = usn_buf_alloc_ext(pool, src, left, pl->iov_ref[i]);
			if (b == USN_BUF_NONE)
				goto nobuf;
			usn_buf_meta(pool, tail)->next = b;
			tail = b;
			lent += left;
			continue;
		}
		copied += left;
		while (left > 0) {
			uint32_t space = usn_buf_tailroom(pool, tail);
			if (space == 0 || (usn_buf_meta(pool, tail)->flags & USN_BUF_F_EXT)) {
				b = usn_buf_alloc(pool);
				if (b == USN_BUF_NONE)
					goto nobuf;
				usn_buf_meta(pool, tail)->next = b;
				tail = b;
				space = usn_buf_tailroom(pool, tail);
			}
			uint32_t k = USN_MIN(space, left);
			memcpy(usn_buf_put(pool, tail, k), src, k);
			src += k;
			left -= k;
		}
	}
	struct usn_buf_meta *hm = usn_buf_meta(pool, head);
	hm->flags |= tx_flags;
	hm->aux = tx_aux;
	USN_CTR_INC(ip->ctr, IP_TX_PACKETS);
	USN_CTR_ADD(ip->ctr, IP_TX_COPY_BYTES, copied);
	USN_CTR_ADD(ip->ctr, IP_TX_REF_BYTES, lent);
	usn_arp_resolve_send(ip, hop, head);
	return 0;
nobuf:
	USN_CTR_INC(ip->ctr, BUF_ALLOC_FAIL);
	usn_buf_free_chain(pool, head);
	return -ENOBUFS;
}

/* One frame of up to 64 KB for a device with segmentation offload, in a
 * chain of buffers. */
static int output_tso(struct usn_ip *ip, uint32_t hop, const struct usn_ipv4_repr *r,
		      const struct usn_ip_payload *pl, uint32_t total)
{
	uint64_t aux = USN_BUF_AUX_TX(USN_ETH_HLEN + USN_IPV4_MIN_HLEN, pl->csum_offset, pl->gso_size);
	if (zc_worth(ip, pl))
		return output_zc(ip, hop, r, pl, USN_BUF_F_TX_CSUM | USN_BUF_F_TSO, aux);
	struct usn_pool *pool = ip->pool;
	uint32_t room = pool->buf_size - pool->headroom;
	uint32_t bytes = USN_IPV4_MIN_HLEN + total;
	uint32_t nb = (bytes + room - 1) / room;
	uint32_t bufs[USN_IPV4_MAX_LEN / 1024 + 2];
	if (nb > USN_ARRAY_SIZE(bufs))
		return -EMSGSIZE;
	for (uint32_t i = 0; i < nb; i++) {
		bufs[i] = usn_buf_alloc(pool);
		if (bufs[i] == USN_BUF_NONE) {
			USN_CTR_INC(ip->ctr, BUF_ALLOC_FAIL);
			for (uint32_t j = 0; j < i; j++)
				usn_buf_free(pool, bufs[j]);
			return -ENOBUFS;
		}
	}
	uint32_t done = 0; /* payload bytes placed */
	for (uint32_t i = 0; i < nb; i++) {
		uint32_t hdr = i == 0 ? USN_IPV4_MIN_HLEN : 0;
		uint32_t k = USN_MIN(room - hdr, total - done);
		uint8_t *p = usn_buf_put(pool, bufs[i], hdr + k);
		if (i == 0)
			usn_ipv4_emit(r, p, USN_IPV4_MIN_HLEN);
		payload_copy(ip, pl, done, p + hdr, k);
		done += k;
		if (i > 0)
			usn_buf_meta(pool, bufs[i - 1])->next = bufs[i];
	}
	struct usn_buf_meta *m = usn_buf_meta(pool, bufs[0]);
	m->flags |= USN_BUF_F_TX_CSUM | USN_BUF_F_TSO;
	m->aux = aux;
	USN_CTR_INC(ip->ctr, IP_TX_PACKETS);
	USN_CTR_ADD(ip->ctr, IP_TX_COPY_BYTES, total - pl->hdr_len);
	usn_arp_resolve_send(ip, hop, bufs[0]);
	return 0;
}

int usn_ip_output(struct usn_ip *ip, uint32_t src, uint32_t dst, uint8_t proto, uint8_t tos, bool df,
		  const struct usn_ip_payload *pl)
{
	uint32_t hop;
	bool bcast = usn_ip_is_bcast(ip, dst);
	if (bcast) {
		hop = 0xffffffffu;
	} else {
		int rc = usn_ip_route(ip, dst, &hop);
		if (rc < 0) {
			USN_DROP(ip->ctr, IP_DROP_NO_ROUTE);
			return rc;
		}
	}
	uint32_t body = pl->chain != USN_BUF_NONE ? pl->chain_len : pl->data_len;
	if (pl->chain == USN_BUF_NONE && pl->iovcnt > 0) {
		body = 0;
		for (uint32_t i = 0; i < pl->iovcnt; i++)
			body += (uint32_t)pl->iov[i].iov_len;
	}
	uint32_t total = pl->hdr_len + body;
	if (total > USN_IPV4_MAX_LEN - USN_IPV4_MIN_HLEN)
		return -EMSGSIZE;
	uint32_t room = ip->pool->buf_size - ip->pool->headroom;
	uint32_t mtu = USN_MIN((uint32_t)ip->mtu, room - USN_ETH_HLEN);
	uint32_t maxpay = mtu - USN_IPV4_MIN_HLEN;
	bool partial = pl->csum_partial && ip->dev && (ip->dev->offloads & USN_DEV_OFF_TX_CSUM);
	if (pl->csum_partial && !partial)
		return -EINVAL; /* the caller asked a device that cannot */
	if (partial && pl->gso_size && total > maxpay && (ip->dev->offloads & USN_DEV_OFF_TSO)) {
		struct usn_ipv4_repr r = {
			.src = src ? src : ip->addr, .dst = dst, .proto = proto, .ttl = USN_IP_DEFAULT_TTL,
			.tos = tos, .df = true, .id = ip->next_id++, .payload_len = (uint16_t)total,
		};
		return output_tso(ip, hop, &r, pl, total);
	}
	if (total > maxpay && (df || partial)) {
		USN_DROP(ip->ctr, IP_DROP_DF_TOO_BIG);
		return -EMSGSIZE;
	}
	if (total <= maxpay && zc_worth(ip, pl)) {
		struct usn_ipv4_repr r = {
			.src = src ? src : ip->addr, .dst = dst, .proto = proto, .ttl = USN_IP_DEFAULT_TTL,
			.tos = tos, .df = df, .id = ip->next_id++, .payload_len = (uint16_t)total,
		};
		uint64_t aux = partial ? USN_BUF_AUX_TX(USN_ETH_HLEN + USN_IPV4_MIN_HLEN, pl->csum_offset, 0) : 0;
		return output_zc(ip, hop, &r, pl, partial ? USN_BUF_F_TX_CSUM : 0, aux);
	}
	/* RFC 791 §3.2: every fragment but the last carries a multiple of 8
	 * bytes. All buffers are taken before any is sent, so an exhausted
	 * pool never leaves half a datagram on the wire. */
	uint32_t fragsize = total > maxpay ? (maxpay & ~7u) : total;
	uint32_t nfrags = total == 0 ? 1 : (total + fragsize - 1) / fragsize;
	/* 65515 bytes in fragments of at least 48 (the MTU floor is 68,
	 * RFC 791 §3.2) */
	uint32_t bufs[USN_IPV4_MAX_LEN / 48 + 1];
	if (nfrags > USN_ARRAY_SIZE(bufs))
		return -EMSGSIZE;
	for (uint32_t i = 0; i < nfrags; i++) {
		bufs[i] = usn_buf_alloc(ip->pool);
		if (bufs[i] == USN_BUF_NONE) {
			USN_CTR_INC(ip->ctr, BUF_ALLOC_FAIL);
			for (uint32_t j = 0; j < i; j++)
				usn_buf_free(ip->pool, bufs[j]);
			return -ENOBUFS;
		}
	}
	uint16_t id = ip->next_id++;
	for (uint32_t i = 0; i < nfrags; i++) {
		uint32_t off = i * fragsize;
		uint32_t n = USN_MIN(fragsize, total - off);
		uint8_t *p = usn_buf_put(ip->pool, bufs[i], USN_IPV4_MIN_HLEN + n);
		struct usn_ipv4_repr r = {
			.src = src ? src : ip->addr,
			.dst = dst,
			.proto = proto,
			.ttl = USN_IP_DEFAULT_TTL,
			.tos = tos,
			.df = df,
			.mf = off + n < total,
			.id = id,
			.frag_off = (uint16_t)off,
			.payload_len = (uint16_t)n,
		};
		usn_ipv4_emit(&r, p, USN_IPV4_MIN_HLEN);
		payload_copy(ip, pl, off, p + USN_IPV4_MIN_HLEN, n);
		USN_CTR_ADD(ip->ctr, IP_TX_COPY_BYTES, n - (off < pl->hdr_len ? USN_MIN(n, pl->hdr_len - off) : 0));
		if (partial) {
			usn_buf_meta(ip->pool, bufs[i])->flags |= USN_BUF_F_TX_CSUM;
			usn_buf_meta(ip->pool, bufs[i])->aux =
				USN_BUF_AUX_TX(USN_ETH_HLEN + USN_IPV4_MIN_HLEN, pl->csum_offset, 0);
		}
		USN_CTR_INC(ip->ctr, IP_TX_PACKETS);
		usn_arp_resolve_send(ip, hop, bufs[i]);
	}
	if (nfrags > 1) {
		USN_CTR_INC(ip->ctr, FRAG_TX_FRAGMENTED);
		USN_CTR_ADD(ip->ctr, FRAG_TX_FRAGMENTS, nfrags);
	}
	return 0;
}

/* ---- receive ---- */

static void ipv4_input(struct usn_ip *ip, uint32_t buf, bool l2_bcast, const uint8_t *src_mac)
{
	struct usn_pool *pool = ip->pool;
	struct usn_ipv4_repr r;
	USN_CTR_INC(ip->ctr, IP_RX_PACKETS);
	/* A large receive from an offloading device is a chain: the header is
	 * in the first buffer, the lengths count the whole chain. The IP
	 * header checksum is always verified (no device here offloads it). */
	bool chained = usn_buf_meta(pool, buf)->next != USN_BUF_NONE;
	size_t plen = chained ? usn_buf_chain_len(pool, buf) : usn_buf_len(pool, buf);
	int rc = usn_ipv4_parse_hdr(usn_buf_data(pool, buf), usn_buf_len(pool, buf), plen, &r, 0);
	switch (rc) {
	case USN_WIRE_OK:
		break;
	case USN_WIRE_TRUNCATED:
		USN_DROP(ip->ctr, IP_DROP_TRUNCATED);
		goto drop;
	case USN_WIRE_BAD_VERSION:
		USN_DROP(ip->ctr, IP_DROP_BAD_VERSION);
		goto drop;
	case USN_WIRE_BAD_HDR_LEN:
		USN_DROP(ip->ctr, IP_DROP_BAD_HDR_LEN);
		goto drop;
	case USN_WIRE_BAD_CSUM:
		USN_DROP(ip->ctr, IP_DROP_BAD_CSUM);
		goto drop;
	default:
		USN_DROP(ip->ctr, IP_DROP_BAD_LEN);
		goto drop;
	}
	/* RFC 1122 §3.2.1.3: accept our address and broadcasts; not a router,
	 * so anything else is dropped (RFC 1122 §3.3.4.2 silent discard). */
	bool to_bcast = usn_ip_is_bcast(ip, r.dst);
	if (!usn_ip_is_local(ip, r.dst) && !to_bcast) {
		USN_DROP(ip->ctr, IP_DROP_NOT_FOR_US);
		goto drop;
	}
	/* RFC 1122 §3.3.6: a unicast datagram that came as a link-layer
	 * broadcast SHOULD be discarded. */
	if (l2_bcast && !to_bcast) {
		USN_DROP(ip->ctr, IP_DROP_NOT_FOR_US);
		goto drop;
	}
	/* RFC 1122 §3.2.1.3 / RFC 1812 §5.3.7: martian sources; our own address
	 * or a broadcast as source is a spoof. */
	if (usn_ipv4_is_martian_src(r.src) || r.src == ip->addr || usn_ip_is_bcast(ip, r.src)) {
		USN_DROP(ip->ctr, IP_DROP_MARTIAN_SRC);
		goto drop;
	}
	if (ip->arp_glean && !l2_bcast)
		usn_arp_glean(ip, r.src, src_mac);
	usn_buf_pull(pool, buf, r.hdr_len);
	if (chained)
		usn_buf_chain_trim(pool, buf, r.payload_len);
	else
		usn_buf_trim(pool, buf, r.payload_len); /* link padding */
	uint32_t chain = buf;
	uint32_t len = r.payload_len;
	if ((r.mf || r.frag_off != 0) && chained) {
		/* Reassembly holds one buffer per fragment; no device makes
		 * chained fragments. */
		USN_DROP(ip->ctr, FRAG_DROP_BAD_FRAGMENT);
		goto drop_chain;
	}
	if (r.mf || r.frag_off != 0) {
		chain = usn_reass_input(ip, &r, buf, &len);
		if (chain == USN_BUF_NONE)
			return;
		r.mf = false;
		r.frag_off = 0;
		r.payload_len = (uint16_t)len;
	}
	USN_CTR_INC(ip->ctr, IP_RX_DELIVERED);
	switch (r.proto) {
	case USN_IPPROTO_ICMP:
		usn_icmp_input(ip, &r, chain, len);
		return;
	case USN_IPPROTO_UDP:
		usn_udp_input(ip, &r, chain, len);
		return;
	case USN_IPPROTO_TCP:
		if (ip->tcp_input) {
			ip->tcp_input(ip->upper, &r, chain);
			return;
		}
		break;
	default:
		break;
	}
	/* RFC 1122 §3.2.2.1: protocol unreachable SHOULD be sent. */
	USN_DROP(ip->ctr, IP_DROP_UNKNOWN_PROTO);
	if (!to_bcast)
		usn_icmp_send_error(ip, USN_ICMP_DEST_UNREACH, USN_ICMP_PROTO_UNREACH, 0, &r, chain, len);
	usn_buf_free_chain(pool, chain);
	return;
drop_chain:
drop:
	usn_buf_free_chain(pool, buf);
}

void usn_ip_eth_input(struct usn_ip *ip, uint32_t buf)
{
	struct usn_pool *pool = ip->pool;
	const uint8_t *data = usn_buf_data(pool, buf);
	uint32_t len = usn_buf_len(pool, buf);
	USN_CTR_INC(ip->ctr, DEV_RX_FRAMES);
	USN_CTR_ADD(ip->ctr, DEV_RX_BYTES,
		    usn_buf_meta(pool, buf)->next == USN_BUF_NONE ? len : usn_buf_chain_len(pool, buf));
	if (ip->pcap)
		pcap_frame(ip, buf);
	struct usn_eth_repr eth;
	if (usn_eth_parse(data, len, &eth) != USN_WIRE_OK) {
		USN_DROP(ip->ctr, ETH_DROP_TRUNCATED);
		goto drop;
	}
	bool bcast = usn_eth_is_broadcast(eth.dst);
	if (!bcast && memcmp(eth.dst, ip->mac, USN_ETH_ALEN) != 0) {
		USN_DROP(ip->ctr, ETH_DROP_NOT_FOR_US);
		goto drop;
	}
	if (usn_eth_is_multicast(eth.src)) {
		USN_DROP(ip->ctr, ETH_DROP_SRC_MULTICAST);
		goto drop;
	}
	usn_buf_pull(pool, buf, USN_ETH_HLEN);
	switch (eth.ethertype) {
	case USN_ETHERTYPE_IPV4:
		ipv4_input(ip, buf, bcast, eth.src);
		return;
	case USN_ETHERTYPE_ARP:
		usn_arp_input(ip, buf, &eth);
		return;
	default:
		USN_DROP(ip->ctr, ETH_DROP_ETHERTYPE);
		goto drop;
	}
drop:
	usn_buf_free_chain(pool, buf);
}
