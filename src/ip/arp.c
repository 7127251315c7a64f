/* SPDX-License-Identifier: MIT */
/*
 * arp.c - the neighbour cache: ARP for IPv4 over Ethernet.
 *
 * Implements RFC 826 (packet reception with the merge rule, replies),
 * RFC 1122 §2.3.2.1 (cache validation: entries age and are re-confirmed,
 * requests are rate-limited to one per second per neighbour) and
 * §2.3.2.2 (a bounded queue of packets awaiting resolution), RFC 5227 §2.3
 * (gratuitous announcements at start) and §2.4 (conflict detection, counted
 * and logged; usnet keeps its address).
 *
 * Entry life: FREE -> INCOMPLETE (request sent, frames queued; up to
 * USN_ARP_MAX_TRIES requests one second apart, then the queue is dropped)
 * -> REACHABLE (MAC confirmed; after USN_ARP_REACHABLE_NS it becomes STALE)
 * -> STALE (still used; the next use sends a refresh request; an entry
 * unconfirmed for USN_ARP_GC_NS is freed). A reply or a request from the
 * neighbour moves any state to REACHABLE.
 *
 * Mode (b), an address shared with the kernel (ip->arp_kernel): ARP is the
 * kernel's. usnet sends no request, reply or announcement and takes no ARP
 * frame (the device does not pass them, and any that comes is dropped and
 * counted); a neighbour's MAC is read from the kernel's table
 * (dev->ops->neigh_lookup), which resolves it when asked. An INCOMPLETE
 * entry asks again every USN_ARP_KERNEL_POLL_NS, USN_ARP_KERNEL_TRIES times
 * at most; a STALE one is read again at its next use.
 */
#include <errno.h>
#include <string.h>

#include "ip.h"
#include "util.h"

#define USN_ARP_REACHABLE_NS (30 * USN_NSEC_PER_SEC)
#define USN_ARP_GC_NS (60 * USN_NSEC_PER_SEC)
#define USN_ARP_RETRANS_NS (1 * USN_NSEC_PER_SEC)
#define USN_ARP_MAX_TRIES 3
#define USN_ARP_ANNOUNCE_INTERVAL_NS (2 * USN_NSEC_PER_SEC) /* RFC 5227 §1.1 */
#define USN_ARP_ANNOUNCE_NUM 2
#define USN_ARP_KERNEL_POLL_NS (10 * USN_NSEC_PER_MSEC)
#define USN_ARP_KERNEL_TRIES 250 /* with the kernel's own 3 s of retries */

static const uint8_t bcast_mac[USN_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static unsigned arp_hash(uint32_t a)
{
	return (unsigned)((a * 2654435761u) >> 24) % USN_ARP_SLOTS;
}

static struct usn_arp_entry *arp_find(struct usn_arp_cache *c, uint32_t a)
{
	for (int16_t i = c->bucket[arp_hash(a)]; i >= 0; i = c->e[i].hnext)
		if (c->e[i].ip == a)
			return &c->e[i];
	return NULL;
}

const struct usn_arp_entry *usn_arp_lookup(const struct usn_ip *ip, uint32_t addr)
{
	return arp_find((struct usn_arp_cache *)&ip->arp, addr);
}

/* Pushes the Ethernet header and queues the frame for the device. */
static void eth_send(struct usn_ip *ip, uint32_t buf, const uint8_t *dst, uint16_t type)
{
	uint8_t *p = usn_buf_push(ip->pool, buf, USN_ETH_HLEN);
	if (!p) { /* cannot happen: every frame is built with headroom */
		usn_buf_free(ip->pool, buf);
		USN_CTR_INC(ip->ctr, DEV_TX_ERRORS);
		return;
	}
	struct usn_eth_repr e = {.ethertype = type};
	memcpy(e.dst, dst, USN_ETH_ALEN);
	memcpy(e.src, ip->mac, USN_ETH_ALEN);
	usn_eth_emit(&e, p, USN_ETH_HLEN);
	usn_ip_txq_push(ip, buf);
}

static void arp_send(struct usn_ip *ip, uint16_t op, const uint8_t *eth_dst, const uint8_t *tha, uint32_t tpa)
{
	uint32_t b = usn_buf_alloc(ip->pool);
	if (b == USN_BUF_NONE) {
		USN_CTR_INC(ip->ctr, BUF_ALLOC_FAIL);
		return;
	}
	struct usn_arp_repr r = {.op = op, .spa = ip->addr, .tpa = tpa};
	memcpy(r.sha, ip->mac, USN_ETH_ALEN);
	memcpy(r.tha, tha, USN_ETH_ALEN);
	usn_arp_emit(&r, usn_buf_put(ip->pool, b, USN_ARP_LEN), USN_ARP_LEN);
	eth_send(ip, b, eth_dst, USN_ETHERTYPE_ARP);
}

static void arp_request(struct usn_ip *ip, uint32_t target)
{
	static const uint8_t zero[USN_ETH_ALEN];
	arp_send(ip, USN_ARP_OP_REQUEST, bcast_mac, zero, target);
	USN_CTR_INC(ip->ctr, ARP_TX_REQUESTS);
}

static void arp_drop_queue(struct usn_ip *ip, struct usn_arp_entry *e)
{
	while (e->qhead != USN_BUF_NONE) {
		uint32_t b = e->qhead;
		e->qhead = usn_buf_meta(ip->pool, b)->qnext;
		usn_buf_free_chain(ip->pool, b);
		USN_DROP(ip->ctr, ARP_DROP_UNRESOLVED);
	}
	ip->arp.queued -= e->qlen;
	e->qlen = 0;
	e->qtail = USN_BUF_NONE;
}

static void arp_free(struct usn_ip *ip, struct usn_arp_entry *e)
{
	struct usn_arp_cache *c = &ip->arp;
	arp_drop_queue(ip, e);
	usn_timer_cancel(ip->wheel, &e->timer);
	int16_t idx = (int16_t)(e - c->e);
	int16_t *pp = &c->bucket[arp_hash(e->ip)];
	while (*pp >= 0 && *pp != idx)
		pp = &c->e[*pp].hnext;
	if (*pp == idx)
		*pp = e->hnext;
	e->state = USN_ARP_FREE;
	e->ip = 0;
	c->used--;
}

static void arp_confirm(struct usn_ip *ip, struct usn_arp_entry *e, const uint8_t *mac);

/* Mode (b): asks the kernel's table for e's MAC. 0 (e confirmed, its
 * queue sent), -EAGAIN (ask again later) or -EHOSTUNREACH. */
static int arp_kernel_query(struct usn_ip *ip, struct usn_arp_entry *e)
{
	uint8_t mac[USN_ETH_ALEN];
	if (!ip->dev || !ip->dev->ops->neigh_lookup)
		return -EHOSTUNREACH;
	int rc = ip->dev->ops->neigh_lookup(ip->dev, e->ip, mac);
	USN_CTR_INC(ip->ctr, ARP_KERNEL_QUERIES);
	if (rc == 0)
		arp_confirm(ip, e, mac);
	return rc;
}

static void arp_timer(struct usn_timer *t, uint64_t now)
{
	struct usn_arp_entry *e = USN_CONTAINER_OF(t, struct usn_arp_entry, timer);
	struct usn_ip *ip = e->ip_ctx;
	if (ip->arp_kernel && e->state == USN_ARP_INCOMPLETE) {
		int rc = arp_kernel_query(ip, e);
		if (rc == -EAGAIN && e->tries < USN_ARP_KERNEL_TRIES) {
			e->tries++;
			usn_timer_arm(ip->wheel, &e->timer, now + USN_ARP_KERNEL_POLL_NS);
		} else if (rc != 0) {
			arp_free(ip, e); /* counts the queued frames as unresolved */
		}
		return;
	}
	if (ip->arp_kernel && e->state == USN_ARP_STALE) {
		arp_free(ip, e); /* unused since it went stale */
		return;
	}
	switch (e->state) {
	case USN_ARP_INCOMPLETE:
		if (e->tries < USN_ARP_MAX_TRIES) {
			arp_request(ip, e->ip);
			e->tries++;
			usn_timer_arm(ip->wheel, &e->timer, now + USN_ARP_RETRANS_NS);
		} else {
			arp_free(ip, e); /* counts the queued frames as unresolved */
		}
		break;
	case USN_ARP_REACHABLE:
		/* RFC 1122 §2.3.2.1: unconfirmed entries must be revalidated. */
		e->state = USN_ARP_STALE;
		e->tries = 0;
		usn_timer_arm(ip->wheel, &e->timer, e->confirmed + USN_ARP_GC_NS);
		break;
	case USN_ARP_STALE:
		if (e->tries > 0 && e->tries < USN_ARP_MAX_TRIES) {
			arp_request(ip, e->ip);
			e->tries++;
			usn_timer_arm(ip->wheel, &e->timer, now + USN_ARP_RETRANS_NS);
		} else {
			arp_free(ip, e);
		}
		break;
	default:
		break;
	}
}

/* A new entry for a; evicts the least recently confirmed resolved entry
 * when the cache is full. NULL when every entry is mid-resolution. */
static struct usn_arp_entry *arp_alloc(struct usn_ip *ip, uint32_t a)
{
	struct usn_arp_cache *c = &ip->arp;
	struct usn_arp_entry *e = NULL;
	if (c->used < USN_ARP_SLOTS) {
		for (unsigned i = 0; i < USN_ARP_SLOTS; i++)
			if (c->e[i].state == USN_ARP_FREE) {
				e = &c->e[i];
				break;
			}
	} else {
		struct usn_arp_entry *old = NULL;
		for (unsigned i = 0; i < USN_ARP_SLOTS; i++)
			if (c->e[i].state != USN_ARP_INCOMPLETE && (!old || c->e[i].confirmed < old->confirmed))
				old = &c->e[i];
		if (!old) {
			USN_DROP(ip->ctr, ARP_DROP_CACHE_FULL);
			return NULL;
		}
		arp_free(ip, old);
		e = old;
	}
	if (!e) /* cannot happen: used < USN_ARP_SLOTS means a free slot */
		return NULL;
	memset(e, 0, sizeof(*e));
	e->ip = a;
	e->ip_ctx = ip;
	e->qhead = e->qtail = USN_BUF_NONE;
	usn_timer_init(&e->timer, arp_timer);
	unsigned h = arp_hash(a);
	e->hnext = c->bucket[h];
	c->bucket[h] = (int16_t)(e - c->e);
	c->used++;
	return e;
}

/* The MAC of e is (re)confirmed: send what waited for it. */
static void arp_confirm(struct usn_ip *ip, struct usn_arp_entry *e, const uint8_t *mac)
{
	memcpy(e->mac, mac, USN_ETH_ALEN);
	e->state = USN_ARP_REACHABLE;
	e->tries = 0;
	e->confirmed = *ip->now;
	usn_timer_arm(ip->wheel, &e->timer, e->confirmed + USN_ARP_REACHABLE_NS);
	uint32_t b = e->qhead;
	ip->arp.queued -= e->qlen;
	e->qhead = e->qtail = USN_BUF_NONE;
	e->qlen = 0;
	while (b != USN_BUF_NONE) {
		uint32_t next = usn_buf_meta(ip->pool, b)->qnext;
		usn_buf_meta(ip->pool, b)->qnext = USN_BUF_NONE;
		eth_send(ip, b, e->mac, USN_ETHERTYPE_IPV4);
		b = next;
	}
}

void usn_arp_resolve_send(struct usn_ip *ip, uint32_t hop, uint32_t buf)
{
	if (usn_ip_is_bcast(ip, hop)) {
		eth_send(ip, buf, bcast_mac, USN_ETHERTYPE_IPV4);
		return;
	}
	struct usn_arp_entry *e = arp_find(&ip->arp, hop);
	if (e && e->state == USN_ARP_REACHABLE) {
		eth_send(ip, buf, e->mac, USN_ETHERTYPE_IPV4);
		return;
	}
	if (e && e->state == USN_ARP_STALE && ip->arp_kernel) {
		/* Read again once (the kernel revalidates it); used meanwhile,
		 * until it is freed unconfirmed. */
		if (e->tries == 0) {
			e->tries = 1;
			arp_kernel_query(ip, e);
		}
		eth_send(ip, buf, e->mac, USN_ETHERTYPE_IPV4);
		return;
	}
	if (e && e->state == USN_ARP_STALE) {
		eth_send(ip, buf, e->mac, USN_ETHERTYPE_IPV4);
		if (e->tries == 0) {
			arp_request(ip, hop);
			e->tries = 1;
			usn_timer_arm(ip->wheel, &e->timer, *ip->now + USN_ARP_RETRANS_NS);
		}
		return;
	}
	if (!e) {
		e = arp_alloc(ip, hop);
		if (!e) {
			usn_buf_free(ip->pool, buf);
			return;
		}
		e->state = USN_ARP_INCOMPLETE;
		e->tries = 1;
		if (ip->arp_kernel) {
			int rc = arp_kernel_query(ip, e);
			if (rc == 0) {
				eth_send(ip, buf, e->mac, USN_ETHERTYPE_IPV4);
				return;
			}
			if (rc != -EAGAIN) {
				arp_free(ip, e);
				usn_buf_free_chain(ip->pool, buf);
				USN_DROP(ip->ctr, ARP_DROP_UNRESOLVED);
				return;
			}
			usn_timer_arm(ip->wheel, &e->timer, *ip->now + USN_ARP_KERNEL_POLL_NS);
		} else {
			arp_request(ip, hop);
			usn_timer_arm(ip->wheel, &e->timer, *ip->now + USN_ARP_RETRANS_NS);
		}
	}
	/* RFC 1122 §2.3.2.2: SHOULD save at least one packet; the queue is
	 * bounded per neighbour and in total, and the oldest frame goes. */
	if (e->qlen >= USN_ARP_QUEUE_PER_ENTRY || ip->arp.queued >= USN_ARP_QUEUE_TOTAL) {
		if (e->qhead == USN_BUF_NONE) {
			usn_buf_free(ip->pool, buf);
			USN_DROP(ip->ctr, ARP_DROP_QUEUE_FULL);
			return;
		}
		uint32_t old = e->qhead;
		e->qhead = usn_buf_meta(ip->pool, old)->qnext;
		if (e->qhead == USN_BUF_NONE)
			e->qtail = USN_BUF_NONE;
		usn_buf_free_chain(ip->pool, old);
		e->qlen--;
		ip->arp.queued--;
		USN_DROP(ip->ctr, ARP_DROP_QUEUE_FULL);
	}
	usn_buf_meta(ip->pool, buf)->qnext = USN_BUF_NONE;
	if (e->qtail == USN_BUF_NONE)
		e->qhead = buf;
	else
		usn_buf_meta(ip->pool, e->qtail)->qnext = buf;
	e->qtail = buf;
	e->qlen++;
	ip->arp.queued++;
}

void usn_arp_input(struct usn_ip *ip, uint32_t buf, const struct usn_eth_repr *eth)
{
	struct usn_arp_repr r;
	if (ip->arp_kernel) {
		USN_DROP(ip->ctr, ARP_DROP_KERNEL_OWNED);
		goto drop;
	}
	if (usn_arp_parse(usn_buf_data(ip->pool, buf), usn_buf_len(ip->pool, buf), &r) != USN_WIRE_OK ||
	    (r.op != USN_ARP_OP_REQUEST && r.op != USN_ARP_OP_REPLY)) {
		USN_DROP(ip->ctr, ARP_DROP_MALFORMED);
		goto drop;
	}
	if (r.op == USN_ARP_OP_REQUEST)
		USN_CTR_INC(ip->ctr, ARP_RX_REQUESTS);
	else
		USN_CTR_INC(ip->ctr, ARP_RX_REPLIES);
	(void)eth;
	/* RFC 5227 §2.4: someone else claims our address. */
	if (r.spa == ip->addr && ip->addr != 0) {
		if (memcmp(r.sha, ip->mac, USN_ETH_ALEN) != 0) {
			USN_CTR_INC(ip->ctr, ARP_CONFLICT);
			usn_log_msg(ip->log, *ip->now, USN_LOG_WARN,
				    "ARP: another host (%02x:%02x:%02x:%02x:%02x:%02x) claims our address",
				    r.sha[0], r.sha[1], r.sha[2], r.sha[3], r.sha[4], r.sha[5]);
		}
		goto drop;
	}
	if (usn_eth_is_multicast(r.sha) || usn_eth_is_zero(r.sha) ||
	    (r.spa != 0 && (usn_ipv4_is_martian_src(r.spa) || usn_ip_is_bcast(ip, r.spa)))) {
		USN_DROP(ip->ctr, ARP_DROP_BAD_SENDER);
		goto drop;
	}
	bool for_us = ip->addr != 0 && r.tpa == ip->addr;
	/* RFC 826 "Packet Reception": merge the sender into an existing entry;
	 * add it only if we are the target. spa 0 is an RFC 5227 probe: it
	 * names no address to learn. */
	if (r.spa != 0) {
		struct usn_arp_entry *e = arp_find(&ip->arp, r.spa);
		if (e)
			arp_confirm(ip, e, r.sha);
		else if (for_us && (e = arp_alloc(ip, r.spa)) != NULL)
			arp_confirm(ip, e, r.sha);
	}
	if (!for_us) {
		if (r.op == USN_ARP_OP_REQUEST)
			USN_DROP(ip->ctr, ARP_DROP_NOT_FOR_US);
		goto drop;
	}
	if (r.op == USN_ARP_OP_REQUEST) {
		/* RFC 826: answer with our hardware address, unicast. */
		arp_send(ip, USN_ARP_OP_REPLY, r.sha, r.sha, r.spa);
		USN_CTR_INC(ip->ctr, ARP_TX_REPLIES);
	}
drop:
	usn_buf_free(ip->pool, buf);
}

static void arp_announce_timer(struct usn_timer *t, uint64_t now)
{
	struct usn_arp_cache *c = USN_CONTAINER_OF(t, struct usn_arp_cache, announce_timer);
	struct usn_ip *ip = USN_CONTAINER_OF(c, struct usn_ip, arp);
	usn_arp_announce(ip);
	(void)now;
}

void usn_arp_announce(struct usn_ip *ip)
{
	/* RFC 5227 §2.3: an announcement is a request with spa = tpa = ours. */
	static const uint8_t zero[USN_ETH_ALEN];
	if (ip->addr == 0 || ip->arp.announces_left == 0 || ip->arp_kernel)
		return;
	arp_send(ip, USN_ARP_OP_REQUEST, bcast_mac, zero, ip->addr);
	USN_CTR_INC(ip->ctr, ARP_TX_GRATUITOUS);
	if (--ip->arp.announces_left > 0)
		usn_timer_arm(ip->wheel, &ip->arp.announce_timer, *ip->now + USN_ARP_ANNOUNCE_INTERVAL_NS);
}

void usn_arp_init(struct usn_ip *ip)
{
	struct usn_arp_cache *c = &ip->arp;
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < USN_ARP_SLOTS; i++) {
		c->bucket[i] = -1;
		c->e[i].qhead = c->e[i].qtail = USN_BUF_NONE;
	}
	usn_timer_init(&c->announce_timer, arp_announce_timer);
	c->announces_left = USN_ARP_ANNOUNCE_NUM;
}

void usn_arp_fini(struct usn_ip *ip)
{
	struct usn_arp_cache *c = &ip->arp;
	for (unsigned i = 0; i < USN_ARP_SLOTS; i++)
		if (c->e[i].state != USN_ARP_FREE)
			arp_free(ip, &c->e[i]);
	usn_timer_cancel(ip->wheel, &c->announce_timer);
}

/* DEVIATION(RFC 826): with several stack instances on one interface the
 * ARP reply to one instance's request may reach another (the interface
 * spreads frames by a hash), so an instance also takes the MAC of an
 * on-link sender from the frames of its datagrams, for an address it has
 * no resolved entry for; a resolved entry only changes through ARP. Off by
 * default (ip->arp_glean). */
void usn_arp_glean(struct usn_ip *ip, uint32_t src, const uint8_t *mac)
{
	if (!ip->arp_glean || ip->arp_kernel || ((src ^ ip->addr) & ip->mask) != 0 || usn_eth_is_multicast(mac) ||
	    usn_eth_is_zero(mac))
		return;
	struct usn_arp_entry *e = arp_find(&ip->arp, src);
	if (e && e->state == USN_ARP_REACHABLE)
		return;
	if (!e)
		e = arp_alloc(ip, src);
	if (e) {
		USN_CTR_INC(ip->ctr, ARP_GLEANED);
		arp_confirm(ip, e, mac);
	}
}
