/* SPDX-License-Identifier: MIT */
/*
 * reass.c - IPv4 reassembly with bounded memory.
 *
 * Implements RFC 791 §3.2 (reassembly by source, destination, protocol and
 * identification; fragments of 8-byte units), RFC 1122 §3.3.2 (a
 * reassembly timeout, and ICMP time exceeded when it expires with the first
 * fragment held), and the rule of RFC 5722 §4 carried over to IPv4: a
 * datagram with overlapping fragments is discarded whole, together with the
 * fragments of it that arrive later (until its timeout). Exact duplicates
 * (same offset and length, as a duplicating network makes) are dropped
 * alone, as RFC 8200 §4.5 allows.
 *
 * Bounds: USN_REASS_SLOTS datagrams at once and max_bufs buffers in all; when
 * either is reached the oldest datagram is evicted (counted as
 * FRAG_DROP_NO_MEMORY), so a flood of incomplete datagrams costs a bounded
 * amount of memory and cannot lock out new ones.
 *
 * Held fragments are buffers whose data is their payload, sorted by offset
 * and linked by meta.next; meta.aux is the fragment's offset in bytes.
 */
#include <string.h>

#include "ip.h"
#include "util.h"

/* RFC 1122 §3.3.2: a timeout between 60 s and 120 s is recommended;
 * DEVIATION(RFC 1122 §3.3.2): 30 s as Linux's ipfrag_time, because holding
 * memory for minutes helps an attacker more than a slow peer. */
#define USN_REASS_TIMEOUT_NS (30 * USN_NSEC_PER_SEC)

static void entry_release(struct usn_ip *ip, struct usn_reass_entry *e)
{
	usn_buf_free_chain(ip->pool, e->head);
	ip->reass.nbufs -= e->nbufs;
	e->head = USN_BUF_NONE;
	e->nbufs = 0;
	e->have = 0;
}

static void entry_free(struct usn_ip *ip, struct usn_reass_entry *e)
{
	entry_release(ip, e);
	usn_timer_cancel(ip->wheel, &e->timer);
	e->used = false;
	e->dead = false;
}

/* Overlap: discard everything held and every later fragment. */
static void entry_kill(struct usn_ip *ip, struct usn_reass_entry *e)
{
	entry_release(ip, e);
	e->dead = true;
	USN_DROP(ip->ctr, FRAG_DROP_OVERLAP);
}

static void reass_timer(struct usn_timer *t, uint64_t now)
{
	struct usn_reass_entry *e = USN_CONTAINER_OF(t, struct usn_reass_entry, timer);
	struct usn_ip *ip = e->ip_ctx;
	(void)now;
	if (!e->dead) {
		USN_DROP(ip->ctr, FRAG_DROP_TIMEOUT);
		/* RFC 1122 §3.3.2 / RFC 792: time exceeded, code 1, only if the
		 * first fragment (offset 0) arrived. */
		if (e->head != USN_BUF_NONE && usn_buf_meta(ip->pool, e->head)->aux == 0) {
			struct usn_ipv4_repr orig = {
				.src = e->src, .dst = e->dst, .proto = e->proto, .ttl = e->ttl, .tos = e->tos,
				.df = e->df, .id = e->id, .mf = true, .hdr_len = USN_IPV4_MIN_HLEN,
				.payload_len = (uint16_t)usn_buf_len(ip->pool, e->head),
			};
			usn_icmp_send_error(ip, USN_ICMP_TIME_EXCEEDED, 1, 0, &orig, e->head,
					    usn_buf_len(ip->pool, e->head));
		}
	}
	entry_free(ip, e);
}

static struct usn_reass_entry *oldest(struct usn_reass *ra, const struct usn_reass_entry *except)
{
	struct usn_reass_entry *o = NULL;
	for (unsigned i = 0; i < USN_REASS_SLOTS; i++) {
		struct usn_reass_entry *e = &ra->e[i];
		if (e->used && e != except && (!o || e->created < o->created))
			o = e;
	}
	return o;
}

static struct usn_reass_entry *entry_get(struct usn_ip *ip, const struct usn_ipv4_repr *r)
{
	struct usn_reass *ra = &ip->reass;
	struct usn_reass_entry *free_e = NULL;
	for (unsigned i = 0; i < USN_REASS_SLOTS; i++) {
		struct usn_reass_entry *e = &ra->e[i];
		if (!e->used) {
			if (!free_e)
				free_e = e;
			continue;
		}
		if (e->id == r->id && e->src == r->src && e->dst == r->dst && e->proto == r->proto)
			return e;
	}
	if (!free_e) {
		free_e = oldest(ra, NULL);
		if (!free_e->dead)
			USN_DROP(ip->ctr, FRAG_DROP_NO_MEMORY);
		entry_free(ip, free_e);
	}
	struct usn_reass_entry *e = free_e;
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->src = r->src;
	e->dst = r->dst;
	e->id = r->id;
	e->proto = r->proto;
	e->head = USN_BUF_NONE;
	e->created = *ip->now;
	e->ip_ctx = ip;
	usn_timer_init(&e->timer, reass_timer);
	usn_timer_arm(ip->wheel, &e->timer, *ip->now + USN_REASS_TIMEOUT_NS);
	return e;
}

uint32_t usn_reass_input(struct usn_ip *ip, const struct usn_ipv4_repr *r, uint32_t buf, uint32_t *ret_len)
{
	struct usn_pool *pool = ip->pool;
	uint32_t off = r->frag_off;
	uint32_t len = usn_buf_len(pool, buf);
	USN_CTR_INC(ip->ctr, FRAG_RX_FRAGMENTS);
	/* RFC 791 §3.2: all but the last fragment carry a non-zero multiple of
	 * 8 bytes. */
	if (r->mf && (len == 0 || (len & 7) != 0)) {
		USN_DROP(ip->ctr, FRAG_DROP_BAD_FRAGMENT);
		goto drop;
	}
	if (off + len + r->hdr_len > USN_IPV4_MAX_LEN) {
		USN_DROP(ip->ctr, FRAG_DROP_TOO_BIG);
		goto drop;
	}
	struct usn_reass_entry *e = entry_get(ip, r);
	if (e->dead) {
		USN_DROP(ip->ctr, FRAG_DROP_DEAD);
		goto drop;
	}
	uint32_t end = off + len;
	if (!r->mf) {
		/* The last fragment fixes the length; a second, different one or
		 * data held beyond it makes the datagram inconsistent. */
		if (e->total != 0 && e->total != end) {
			entry_kill(ip, e);
			goto drop;
		}
		for (uint32_t b = e->head; b != USN_BUF_NONE; b = usn_buf_meta(pool, b)->next)
			if (usn_buf_meta(pool, b)->aux + usn_buf_len(pool, b) > end) {
				entry_kill(ip, e);
				goto drop;
			}
		e->total = end;
	} else if (e->total != 0 && end > e->total) {
		entry_kill(ip, e);
		goto drop;
	}
	/* Find the place: prev is the last fragment starting before us. */
	uint32_t prev = USN_BUF_NONE, next = e->head;
	while (next != USN_BUF_NONE && usn_buf_meta(pool, next)->aux < off) {
		prev = next;
		next = usn_buf_meta(pool, next)->next;
	}
	if (next != USN_BUF_NONE && usn_buf_meta(pool, next)->aux == off && usn_buf_len(pool, next) == len) {
		USN_DROP(ip->ctr, FRAG_DROP_DUPLICATE);
		goto drop;
	}
	if ((prev != USN_BUF_NONE && usn_buf_meta(pool, prev)->aux + usn_buf_len(pool, prev) > off) ||
	    (next != USN_BUF_NONE && end > usn_buf_meta(pool, next)->aux)) {
		entry_kill(ip, e);
		goto drop;
	}
	/* Memory bound: evict the oldest other datagrams. */
	while (ip->reass.nbufs + 1 > ip->reass.max_bufs) {
		struct usn_reass_entry *o = oldest(&ip->reass, e);
		if (!o) {
			USN_DROP(ip->ctr, FRAG_DROP_NO_MEMORY);
			goto drop;
		}
		if (!o->dead)
			USN_DROP(ip->ctr, FRAG_DROP_NO_MEMORY);
		entry_free(ip, o);
	}
	if (off == 0) {
		e->ttl = r->ttl;
		e->tos = r->tos;
		e->df = r->df;
	}
	usn_buf_meta(pool, buf)->aux = off;
	usn_buf_meta(pool, buf)->next = next;
	if (prev == USN_BUF_NONE)
		e->head = buf;
	else
		usn_buf_meta(pool, prev)->next = buf;
	e->have += len;
	e->nbufs++;
	ip->reass.nbufs++;
	if (e->total == 0 || e->have != e->total)
		return USN_BUF_NONE;
	/* No overlaps and have == total: the fragments tile [0, total). */
	uint32_t head = e->head;
	for (uint32_t b = head; b != USN_BUF_NONE; b = usn_buf_meta(pool, b)->next) {
		usn_buf_meta(pool, b)->aux = 0;
		/* A device's checksum verdict was about one fragment. */
		usn_buf_meta(pool, b)->flags &= ~USN_BUF_F_CSUM_OK;
	}
	ip->reass.nbufs -= e->nbufs;
	e->head = USN_BUF_NONE;
	e->nbufs = 0;
	*ret_len = e->total;
	entry_free(ip, e);
	USN_CTR_INC(ip->ctr, FRAG_REASSEMBLED);
	return head;
drop:
	usn_buf_free(pool, buf);
	return USN_BUF_NONE;
}

void usn_reass_init(struct usn_ip *ip, uint32_t max_bufs)
{
	memset(&ip->reass, 0, sizeof(ip->reass));
	ip->reass.max_bufs = max_bufs ? max_bufs : 1;
	for (unsigned i = 0; i < USN_REASS_SLOTS; i++)
		ip->reass.e[i].head = USN_BUF_NONE;
}

void usn_reass_fini(struct usn_ip *ip)
{
	for (unsigned i = 0; i < USN_REASS_SLOTS; i++)
		if (ip->reass.e[i].used)
			entry_free(ip, &ip->reass.e[i]);
}
