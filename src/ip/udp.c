/* SPDX-License-Identifier: MIT */
/*
 * udp.c - UDP (RFC 768): demultiplexing to sockets, receive queues, send.
 *
 * Implements RFC 768 (header, checksum with the pseudo-header, zero checksum
 * meaning none), RFC 1122 §4.1.3.1 (ports), §4.1.3.3 (ICMP port unreachable
 * for a datagram to no socket), §4.1.3.4 (checksum: MUST verify when
 * present, sent by default) and §4.1.3.5 (the source address of a reply).
 * A socket's queue holds whole datagrams as buffer chains (data = payload)
 * and is bounded by buffer memory (rcvbuf) as Linux bounds it by truesize.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ip.h"
#include "util.h"

#define USN_UDP_RCVBUF_DEFAULT 212992 /* Linux net.core.rmem_default */

static unsigned port_hash(uint16_t port)
{
	return port % USN_UDP_HASH;
}

static struct usn_udp_pcb *pcb_lookup(struct usn_ip *ip, uint32_t dst, uint16_t dport, uint32_t src, uint16_t sport)
{
	struct usn_udp_pcb *best = NULL;
	int best_score = -1;
	for (struct usn_udp_pcb *p = ip->udp.bucket[port_hash(dport)]; p; p = p->hnext) {
		if (p->lport != dport)
			continue;
		int score = 0;
		if (p->laddr != 0) {
			if (p->laddr != dst)
				continue;
			score += 1;
		}
		if (p->connected) {
			if (p->raddr != src || p->rport != sport)
				continue;
			score += 2;
		}
		if (score > best_score) {
			best = p;
			best_score = score;
		}
	}
	return best;
}

static bool port_in_use(struct usn_ip *ip, uint32_t addr, uint16_t port, const struct usn_udp_pcb *self)
{
	for (struct usn_udp_pcb *p = ip->udp.bucket[port_hash(port)]; p; p = p->hnext)
		if (p != self && p->lport == port && (p->laddr == 0 || addr == 0 || p->laddr == addr))
			return true;
	return false;
}

static void pcb_hash_insert(struct usn_ip *ip, struct usn_udp_pcb *pcb)
{
	unsigned h = port_hash(pcb->lport);
	pcb->hnext = ip->udp.bucket[h];
	ip->udp.bucket[h] = pcb;
}

static void pcb_hash_remove(struct usn_ip *ip, struct usn_udp_pcb *pcb)
{
	struct usn_udp_pcb **pp = &ip->udp.bucket[port_hash(pcb->lport)];
	while (*pp && *pp != pcb)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = pcb->hnext;
}

struct usn_udp_pcb *usn_udp_pcb_new(struct usn_ip *ip, int sd)
{
	(void)ip;
	struct usn_udp_pcb *pcb = calloc(1, sizeof(*pcb));
	if (!pcb)
		return NULL;
	pcb->sd = sd;
	pcb->rcvbuf = USN_UDP_RCVBUF_DEFAULT;
	return pcb;
}

void usn_udp_pcb_free(struct usn_ip *ip, struct usn_udp_pcb *pcb)
{
	if (pcb->bound)
		pcb_hash_remove(ip, pcb);
	while (pcb->rx_count > 0) {
		usn_buf_free_chain(ip->pool, pcb->rxq[pcb->rx_head].chain);
		pcb->rx_head = (pcb->rx_head + 1) % USN_UDP_RXQ;
		pcb->rx_count--;
	}
	free(pcb);
}

int usn_udp_bind(struct usn_ip *ip, struct usn_udp_pcb *pcb, uint32_t addr, uint16_t port)
{
	if (pcb->bound)
		return -EINVAL;
	if (addr != 0 && addr != ip->addr)
		return -EADDRNOTAVAIL;
	if (port == 0) {
		/* RFC 6056 §3.3.1 (simple random selection) over Linux's range. */
		uint32_t range = (uint32_t)ip->eph_hi - ip->eph_lo + 1;
		uint32_t start = (uint32_t)usn_rand_below(ip->rand, range);
		for (uint32_t i = 0; i < range; i++) {
			uint16_t p = (uint16_t)(ip->eph_lo + (start + i) % range);
			if (!port_in_use(ip, addr, p, pcb)) {
				port = p;
				break;
			}
		}
		if (port == 0)
			return -EADDRINUSE;
	} else if (port_in_use(ip, addr, port, pcb)) {
		return -EADDRINUSE;
	}
	pcb->laddr = addr;
	pcb->lport = port;
	pcb->bound = true;
	pcb_hash_insert(ip, pcb);
	return 0;
}

int usn_udp_connect(struct usn_ip *ip, struct usn_udp_pcb *pcb, uint32_t addr, uint16_t port)
{
	uint32_t hop;
	if (addr == 0 || port == 0)
		return -EINVAL;
	if (!usn_ip_is_bcast(ip, addr) && usn_ip_route(ip, addr, &hop) < 0)
		return -ENETUNREACH;
	if (!pcb->bound) {
		int rc = usn_udp_bind(ip, pcb, 0, 0);
		if (rc < 0)
			return rc;
	}
	pcb->raddr = addr;
	pcb->rport = port;
	pcb->connected = true;
	return 0;
}

int usn_udp_sendto(struct usn_ip *ip, struct usn_udp_pcb *pcb, const void *buf, size_t len, uint32_t dst,
		   uint16_t dport)
{
	if (len > USN_UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (dst == 0) {
		if (!pcb->connected)
			return -EDESTADDRREQ;
		dst = pcb->raddr;
		dport = pcb->rport;
	} else if (pcb->connected && (dst != pcb->raddr || dport != pcb->rport)) {
		/* Linux allows sendto() on a connected UDP socket to another
		 * address; so do we. */
	}
	if (dport == 0)
		return -EINVAL;
	/* Linux refuses broadcasts without SO_BROADCAST, which usnet does not
	 * have yet. */
	if (usn_ip_is_bcast(ip, dst))
		return -EACCES;
	if (!pcb->bound) {
		int rc = usn_udp_bind(ip, pcb, 0, 0);
		if (rc < 0)
			return rc;
	}
	uint32_t src = pcb->laddr ? pcb->laddr : ip->addr;
	uint8_t hdr[USN_UDP_HLEN];
	struct usn_udp_repr u = {
		.src_port = pcb->lport, .dst_port = dport, .len = (uint16_t)(USN_UDP_HLEN + len),
	};
	/* RFC 1122 §4.1.3.4: the checksum is sent by default. */
	usn_udp_emit(&u, src, dst, usn_csum_partial64(buf, len, 0), hdr, sizeof(hdr));
	struct usn_ip_payload pl = {
		.hdr = hdr, .hdr_len = USN_UDP_HLEN, .data = buf, .data_len = (uint32_t)len, .chain = USN_BUF_NONE,
	};
	int rc = usn_ip_output(ip, src, dst, USN_IPPROTO_UDP, 0, false, &pl);
	if (rc < 0)
		return rc;
	USN_CTR_INC(ip->ctr, UDP_TX_DATAGRAMS);
	return (int)len;
}

static uint32_t chain_nbufs(struct usn_pool *pool, uint32_t chain)
{
	uint32_t n = 0;
	for (uint32_t b = chain; b != USN_BUF_NONE; b = usn_buf_meta(pool, b)->next)
		n++;
	return n;
}

/* The partial sum of a datagram's len bytes: most are one buffer. */
static uint32_t dgram_sum(struct usn_pool *pool, uint32_t chain, uint32_t len)
{
	if (usn_buf_meta(pool, chain)->next == USN_BUF_NONE)
		return usn_csum_partial64(usn_buf_data(pool, chain), USN_MIN(len, usn_buf_len(pool, chain)), 0);
	return usn_ip_chain_csum(pool, chain, 0, len);
}

void usn_udp_input(struct usn_ip *ip, const struct usn_ipv4_repr *r, uint32_t chain, uint32_t len)
{
	struct usn_pool *pool = ip->pool;
	USN_CTR_INC(ip->ctr, UDP_RX_DATAGRAMS);
	struct usn_udp_repr u;
	/* The header is in the first buffer: a datagram's first fragment holds
	 * at least 8 bytes (RFC 791 §3.2, 8-byte units). */
	int rc = usn_udp_parse_hdr(usn_buf_data(pool, chain), usn_buf_len(pool, chain), len, &u);
	if (rc == USN_WIRE_TRUNCATED) {
		USN_DROP(ip->ctr, UDP_DROP_TRUNCATED);
		goto drop;
	}
	if (rc != USN_WIRE_OK) {
		USN_DROP(ip->ctr, UDP_DROP_BAD_LEN);
		goto drop;
	}
	/* RFC 768: the length field may be shorter than the IP payload. */
	if (u.len < len) {
		usn_buf_chain_trim(pool, chain, u.len);
		len = u.len;
	}
	/* RFC 1122 §4.1.3.4: verify the checksum when one was sent. */
	if (u.csum != 0 && !(usn_buf_meta(pool, chain)->flags & USN_BUF_F_CSUM_OK) &&
	    !usn_udp_csum_ok(u.csum, r->src, r->dst, u.len, dgram_sum(pool, chain, len))) {
		USN_DROP(ip->ctr, UDP_DROP_BAD_CSUM);
		goto drop;
	}
	struct usn_udp_pcb *pcb = pcb_lookup(ip, r->dst, u.dst_port, r->src, u.src_port);
	if (!pcb) {
		USN_DROP(ip->ctr, UDP_DROP_NO_PORT);
		/* RFC 1122 §4.1.3.1: port unreachable, never for a broadcast. */
		if (!usn_ip_is_bcast(ip, r->dst))
			usn_icmp_send_error(ip, USN_ICMP_DEST_UNREACH, USN_ICMP_PORT_UNREACH, 0, r, chain, len);
		goto drop;
	}
	uint32_t truesize = chain_nbufs(pool, chain) * pool->buf_size;
	if (pcb->rx_count == USN_UDP_RXQ || pcb->rx_bytes + truesize > pcb->rcvbuf) {
		USN_DROP(ip->ctr, UDP_DROP_RCVBUF_FULL);
		goto drop;
	}
	usn_buf_pull(pool, chain, USN_UDP_HLEN);
	struct usn_udp_dgram *d = &pcb->rxq[(pcb->rx_head + pcb->rx_count) % USN_UDP_RXQ];
	d->chain = chain;
	d->src = r->src;
	d->sport = u.src_port;
	d->len = (uint16_t)(len - USN_UDP_HLEN);
	pcb->rx_bytes += truesize;
	pcb->rx_count++;
	if (pcb->rx_count == 1 && ip->notify)
		ip->notify(ip->upper, pcb->sd, usn_udp_poll(pcb));
	return;
drop:
	usn_buf_free_chain(pool, chain);
}

int usn_udp_recvfrom(struct usn_ip *ip, struct usn_udp_pcb *pcb, void *buf, size_t len, bool peek,
		     uint32_t *ret_src, uint16_t *ret_sport)
{
	if (pcb->so_error) {
		int e = pcb->so_error;
		pcb->so_error = 0;
		return -e;
	}
	if (pcb->rx_count == 0)
		return -EAGAIN;
	struct usn_udp_dgram *d = &pcb->rxq[pcb->rx_head];
	if (usn_buf_meta(ip->pool, d->chain)->next == USN_BUF_NONE)
		memcpy(buf, usn_buf_data(ip->pool, d->chain), USN_MIN(len, (size_t)d->len));
	else
		usn_buf_chain_copy(ip->pool, d->chain, 0, buf, USN_MIN(len, (size_t)d->len));
	int n = d->len;
	if (ret_src)
		*ret_src = d->src;
	if (ret_sport)
		*ret_sport = d->sport;
	if (!peek) {
		pcb->rx_bytes -= chain_nbufs(ip->pool, d->chain) * ip->pool->buf_size;
		usn_buf_free_chain(ip->pool, d->chain);
		pcb->rx_head = (pcb->rx_head + 1) % USN_UDP_RXQ;
		pcb->rx_count--;
	}
	return n;
}

uint32_t usn_udp_poll(const struct usn_udp_pcb *pcb)
{
	uint32_t ev = 0x004u; /* USN_EV_OUT: datagrams never wait for room */
	if (pcb->rx_count > 0 || pcb->so_error)
		ev |= 0x001u; /* USN_EV_IN */
	if (pcb->so_error)
		ev |= 0x008u; /* USN_EV_ERR */
	return ev;
}

void usn_udp_icmp_error(struct usn_ip *ip, const struct usn_icmp_repr *icmp, const uint8_t *orig, size_t orig_len)
{
	struct usn_ipv4_repr q;
	struct usn_udp_repr u;
	if (usn_ipv4_parse(orig, orig_len, &q, USN_IPV4_PARSE_QUOTED) != USN_WIRE_OK)
		return;
	if (orig_len < (size_t)q.hdr_len + USN_UDP_HLEN ||
	    usn_udp_parse_hdr(orig + q.hdr_len, orig_len - q.hdr_len, USN_UDP_MAX_PAYLOAD + USN_UDP_HLEN, &u) !=
		    USN_WIRE_OK)
		return;
	/* RFC 1122 §4.1.3.3: pass ICMP errors to the application; Linux does
	 * so only for connected sockets (others would need IP_RECVERR). */
	struct usn_udp_pcb *pcb = pcb_lookup(ip, q.src, u.src_port, q.dst, u.dst_port);
	if (!pcb || !pcb->connected)
		return;
	int err;
	if (icmp->type != USN_ICMP_DEST_UNREACH)
		return;
	switch (icmp->code) {
	case USN_ICMP_PORT_UNREACH:
		err = ECONNREFUSED;
		break;
	case USN_ICMP_NET_UNREACH:
		err = ENETUNREACH;
		break;
	case USN_ICMP_PROTO_UNREACH:
		err = ENOPROTOOPT;
		break;
	case USN_ICMP_FRAG_NEEDED:
		err = EMSGSIZE;
		break;
	default:
		err = EHOSTUNREACH;
		break;
	}
	pcb->so_error = err;
	if (ip->notify)
		ip->notify(ip->upper, pcb->sd, usn_udp_poll(pcb));
}
