/* SPDX-License-Identifier: MIT */
/*
 * dev_mem.c - the in-memory link: two devices joined by a simulated wire,
 * with per-direction loss, duplication, reordering, corruption, delay,
 * jitter, a rate limit and a drop-tail queue, all drawn from a seeded
 * usn_rand so a seed replays a run exactly (dev_mem.h gives the model).
 * It never reads a clock: time is the `now` given to tx_burst and rx_burst.
 * It is not a network emulator of any real medium (no preamble, inter-frame
 * gap or FCS is modelled) and it implements no RFC: it moves opaque frames.
 *
 * Data structures of one direction:
 *  - the frames in flight, already copied into the receiving pool, in a
 *    binary min-heap keyed by (arrival time, sequence number); the sequence
 *    number grows with every frame queued, so frames with equal arrival
 *    times come out in the order they were queued;
 *  - the serialisation backlog: a FIFO of (departure time, length) of the
 *    frames that went through the rate limiter, in departure order (the
 *    link is a single server, so departures never decrease), and the sum
 *    of their lengths. A frame has "departed" once the end of its last bit
 *    has left the sender, i.e. at `departure`.
 *
 * The queue bound (step 2 of the model), exactly: when a frame of len bytes
 * is sent at `now`, the backlog entries whose departure <= now are removed;
 * the remaining sum B counts every byte of every frame that has not fully
 * left the sender, including the one being serialised at `now`. The frame is
 * dropped (drop_queue) when B + len > queue_bytes. Without a rate limit
 * frames depart at once, B is always 0, and only frames larger than
 * queue_bytes are dropped. Lost frames (step 3) never enter the backlog and
 * do not occupy the link. The serialisation time of a frame is
 * ceil(len * 8 * 10^9 / rate_bps) ns, len being the frame without FCS.
 *
 * Bounds: each direction holds at most MEM_MAX_IN_FLIGHT frames in flight
 * and as many backlog entries; a frame beyond that is counted as drop_queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev_mem.h"
#include "rand.h"
#include "wire.h"
#include "util.h"

#define MEM_ETH_HLEN 14u
#define MEM_DEFAULT_MTU 1500u
#define MEM_DEFAULT_REORDER_NS (1 * USN_NSEC_PER_MSEC)
#define MEM_MAX_IN_FLIGHT 65536u
#define MEM_MIN_CAP 64u

struct mem_flight {
	uint64_t arrival;
	uint64_t seq;
	uint32_t buf; /* in the receiving end's pool */
};

struct mem_departure {
	uint64_t departure;
	uint32_t len;
};

struct mem_dir {
	struct usn_memlink_dir_cfg cfg;
	struct usn_memlink_dir_stats stats;
	struct usn_rand rand;
	struct mem_flight *heap;
	uint32_t heap_n, heap_cap;
	struct mem_departure *fifo; /* ring; capacity a power of two */
	uint32_t fifo_head, fifo_n, fifo_cap;
	uint64_t backlog_bytes;     /* sum of the lengths in fifo */
	uint64_t link_free;         /* when the sender's last bit has left */
	uint64_t seq;
};

struct mem_end {
	struct usn_dev dev;
	struct usn_memlink *link;
	int side; /* 0: A, sends in dir 0; 1: B, sends in dir 1 */
};

struct usn_memlink {
	struct mem_end end[2];
	struct mem_dir dir[2];
};

static struct mem_end *end_of(struct usn_dev *d)
{
	return USN_CONTAINER_OF(d, struct mem_end, dev);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* 0 ppm never fires and 10^6 always does, whatever the generator does at
 * the edges, so "no loss" and "total loss" are exact. */
static int dir_chance(struct mem_dir *dr, uint32_t ppm)
{
	if (ppm == 0)
		return 0;
	if (ppm >= 1000000u)
		return 1;
	return usn_rand_chance_ppm(&dr->rand, ppm);
}

/* ---- the in-flight heap ---- */

static int flight_before(const struct mem_flight *a, const struct mem_flight *b)
{
	return a->arrival < b->arrival || (a->arrival == b->arrival && a->seq < b->seq);
}

static int heap_push(struct mem_dir *dr, uint64_t arrival, uint32_t buf)
{
	uint32_t i;

	if (dr->heap_n == dr->heap_cap) {
		uint32_t ncap = dr->heap_cap ? dr->heap_cap * 2 : MEM_MIN_CAP;
		struct mem_flight *nh;

		if (dr->heap_cap >= MEM_MAX_IN_FLIGHT)
			return -ENOBUFS;
		nh = realloc(dr->heap, (size_t)ncap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		dr->heap = nh;
		dr->heap_cap = ncap;
	}
	i = dr->heap_n++;
	dr->heap[i] = (struct mem_flight){ .arrival = arrival, .seq = dr->seq++, .buf = buf };
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		struct mem_flight tmp;

		if (!flight_before(&dr->heap[i], &dr->heap[parent]))
			break;
		tmp = dr->heap[i];
		dr->heap[i] = dr->heap[parent];
		dr->heap[parent] = tmp;
		i = parent;
	}
	return 0;
}

static uint32_t heap_pop(struct mem_dir *dr)
{
	uint32_t buf = dr->heap[0].buf;
	uint32_t i = 0;

	dr->heap[0] = dr->heap[--dr->heap_n];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		struct mem_flight tmp;

		if (l < dr->heap_n && flight_before(&dr->heap[l], &dr->heap[m]))
			m = l;
		if (r < dr->heap_n && flight_before(&dr->heap[r], &dr->heap[m]))
			m = r;
		if (m == i)
			break;
		tmp = dr->heap[i];
		dr->heap[i] = dr->heap[m];
		dr->heap[m] = tmp;
		i = m;
	}
	return buf;
}

/* ---- the serialisation backlog ---- */

static void backlog_expire(struct mem_dir *dr, uint64_t now)
{
	while (dr->fifo_n && dr->fifo[dr->fifo_head].departure <= now) {
		dr->backlog_bytes -= dr->fifo[dr->fifo_head].len;
		dr->fifo_head = (dr->fifo_head + 1) & (dr->fifo_cap - 1);
		dr->fifo_n--;
	}
}

static int backlog_full(const struct mem_dir *dr)
{
	return dr->fifo_n >= MEM_MAX_IN_FLIGHT;
}

static int backlog_push(struct mem_dir *dr, uint64_t departure, uint32_t len)
{
	if (dr->fifo_n == dr->fifo_cap) {
		uint32_t ncap = dr->fifo_cap ? dr->fifo_cap * 2 : MEM_MIN_CAP;
		struct mem_departure *nf;

		if (dr->fifo_cap >= MEM_MAX_IN_FLIGHT)
			return -ENOBUFS;
		nf = malloc((size_t)ncap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		for (uint32_t k = 0; k < dr->fifo_n; k++)
			nf[k] = dr->fifo[(dr->fifo_head + k) & (dr->fifo_cap - 1)];
		free(dr->fifo);
		dr->fifo = nf;
		dr->fifo_cap = ncap;
		dr->fifo_head = 0;
	}
	dr->fifo[(dr->fifo_head + dr->fifo_n) & (dr->fifo_cap - 1)] =
		(struct mem_departure){ .departure = departure, .len = len };
	dr->fifo_n++;
	dr->backlog_bytes += len;
	return 0;
}

/* ---- sending ---- */

static uint64_t serialisation_ns(uint64_t len, uint64_t rate_bps)
{
	uint64_t bits_ns;

	if (rate_bps == 0)
		return 0;
	/* len * 8 * 10^9 fits in 64 bits for frames below 2.3 GB; frames
	 * here are bounded by the MTU check and the buffers. */
	bits_ns = len * 8u * USN_NSEC_PER_SEC;
	return bits_ns / rate_bps + (bits_ns % rate_bps != 0);
}

/* A copy of the frame in a fresh buffer of the receiving pool, or
 * USN_BUF_NONE (counted) when that pool is empty. */
static uint32_t copy_to_receiver(struct mem_dir *dr, struct usn_dev *rx, struct usn_pool *src, uint32_t head,
				 const uint8_t *flat, uint32_t len)
{
	uint32_t idx = usn_buf_alloc(rx->pool);
	uint8_t *dst;

	if (idx == USN_BUF_NONE) {
		dr->stats.drop_nobuf++;
		rx->stats.rx_drop_nobuf++;
		return USN_BUF_NONE;
	}
	dst = usn_buf_put(rx->pool, idx, len);
	if (flat)
		memcpy(dst, flat, len);
	else
		usn_buf_chain_copy(src, head, 0, dst, len);
	return idx;
}

static void queue_or_drop(struct mem_dir *dr, struct usn_dev *rx, uint64_t arrival, uint32_t idx)
{
	if (heap_push(dr, arrival, idx) < 0) {
		usn_buf_free(rx->pool, idx);
		dr->stats.drop_queue++;
	}
}

/* RFC 1191 §4: the router's answer to a frame over the MTU with DF set,
 * queued back to the sender (in its own pool) after the reverse delay. */
static void frag_needed(struct usn_memlink *l, int d, uint32_t head, uint32_t mtu, uint64_t now)
{
	struct usn_dev *tx = &l->end[d].dev;
	struct mem_dir *back = &l->dir[1 - d];
	uint8_t orig[USN_ETH_HLEN + USN_IPV4_MAX_HLEN + 8];
	size_t n = usn_buf_chain_copy(tx->pool, head, 0, orig, sizeof(orig));
	struct usn_eth_repr eth;
	struct usn_ipv4_repr ip;
	if (usn_eth_parse(orig, n, &eth) != USN_WIRE_OK || eth.ethertype != USN_ETHERTYPE_IPV4 ||
	    usn_ipv4_parse(orig + USN_ETH_HLEN, n - USN_ETH_HLEN, &ip, USN_IPV4_PARSE_QUOTED) != USN_WIRE_OK ||
	    !ip.df)
		return;
	size_t quote = USN_MIN(n - USN_ETH_HLEN, (size_t)ip.hdr_len + 8);
	uint32_t idx = usn_buf_alloc(tx->pool);
	if (idx == USN_BUF_NONE)
		return;
	size_t icmp_len = USN_ICMP_HLEN + quote;
	uint8_t *p = usn_buf_put(tx->pool, idx, (uint32_t)(USN_ETH_HLEN + USN_IPV4_MIN_HLEN + icmp_len));
	struct usn_eth_repr e2 = {.ethertype = USN_ETHERTYPE_IPV4};
	memcpy(e2.dst, eth.src, USN_ETH_ALEN);
	memcpy(e2.src, eth.dst, USN_ETH_ALEN);
	usn_eth_emit(&e2, p, USN_ETH_HLEN);
	struct usn_ipv4_repr i2 = {
		.src = ip.dst, .dst = ip.src, .proto = USN_IPPROTO_ICMP, .ttl = 64, .payload_len = (uint16_t)icmp_len,
	};
	usn_ipv4_emit(&i2, p + USN_ETH_HLEN, USN_IPV4_MIN_HLEN);
	struct usn_icmp_repr ic = {
		.type = USN_ICMP_DEST_UNREACH, .code = USN_ICMP_FRAG_NEEDED, .mtu = (uint16_t)mtu,
		.data = orig + USN_ETH_HLEN, .data_len = quote,
	};
	usn_icmp_emit(&ic, p + USN_ETH_HLEN + USN_IPV4_MIN_HLEN, icmp_len);
	uint64_t arrival = sat_add(now, back->cfg.delay_ns);
	if (heap_push(back, arrival, idx) < 0)
		usn_buf_free(tx->pool, idx);
}

/* Puts one frame (a chain in the sender's pool, freed by the caller) on
 * direction d, following the model of dev_mem.h step by step. Returns 1 when
 * the sending device transmitted it (even if the wire then lost it), 0 when
 * it refused it. */
static int mem_send_one(struct usn_memlink *l, int d, uint32_t head, uint64_t now)
{
	struct mem_dir *dr = &l->dir[d];
	struct usn_dev *tx = &l->end[d].dev, *rx = &l->end[1 - d].dev;
	const struct usn_memlink_dir_cfg *cfg = &dr->cfg;
	uint32_t mtu = cfg->mtu ? cfg->mtu : MEM_DEFAULT_MTU;
	size_t chain_len = usn_buf_chain_len(tx->pool, head);
	uint64_t departure, arrival;
	uint32_t len, idx;

	dr->stats.sent++;
	/* 1. too big for the link: the sender refuses it */
	if (chain_len > (size_t)mtu + MEM_ETH_HLEN) {
		dr->stats.drop_mtu++;
		tx->stats.tx_drop++;
		if (cfg->icmp_frag_needed)
			frag_needed(l, d, head, mtu, now);
		return 0;
	}
	len = (uint32_t)chain_len;
	/* ... or for the receiver's buffers: it goes out and is lost there */
	if (len > rx->pool->buf_size - rx->pool->headroom) {
		dr->stats.drop_mtu++;
		tx->stats.tx_frames++;
		tx->stats.tx_bytes += len;
		rx->stats.rx_drop_oversize++;
		return 1;
	}
	/* 2. drop-tail bottleneck queue (see the model at the top) */
	backlog_expire(dr, now);
	if ((cfg->queue_bytes && dr->backlog_bytes + len > cfg->queue_bytes) || dr->heap_n >= MEM_MAX_IN_FLIGHT ||
	    backlog_full(dr)) {
		dr->stats.drop_queue++;
		tx->stats.tx_drop++;
		return 0;
	}
	tx->stats.tx_frames++;
	tx->stats.tx_bytes += len;
	/* 3. lost on the wire */
	if (dir_chance(dr, cfg->loss_ppm)) {
		dr->stats.drop_loss++;
		return 1;
	}
	/* 4. serialisation behind the frames already on the link */
	departure = sat_add(USN_MAX(now, dr->link_free), serialisation_ns(len, cfg->rate_bps));
	if (cfg->rate_bps) {
		dr->link_free = departure;
		/* Only allocation can fail here (backlog_full() was checked
		 * above); a frame the queue cannot account is dropped. */
		if (departure > now && backlog_push(dr, departure, len) < 0) {
			dr->stats.drop_queue++;
			return 1;
		}
	}
	/* The frame reaches the receiver's NIC, which needs a buffer. */
	idx = copy_to_receiver(dr, rx, tx->pool, head, NULL, len);
	if (idx == USN_BUF_NONE)
		return 1;
	/* 5. propagation delay and jitter */
	arrival = sat_add(departure, cfg->delay_ns);
	if (cfg->jitter_ns)
		arrival = sat_add(arrival, usn_rand_below(&dr->rand, sat_add(cfg->jitter_ns, 1)));
	/* 6. reordering: held back so that later frames overtake it */
	if (dir_chance(dr, cfg->reorder_ppm)) {
		arrival = sat_add(arrival, cfg->reorder_ns ? cfg->reorder_ns : MEM_DEFAULT_REORDER_NS);
		dr->stats.reordered++;
	}
	/* 7. corruption of one bit */
	if (len && dir_chance(dr, cfg->corrupt_ppm)) {
		uint64_t bit = usn_rand_below(&dr->rand, (uint64_t)len * 8u);

		usn_buf_data(rx->pool, idx)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		dr->stats.corrupted++;
	}
	queue_or_drop(dr, rx, arrival, idx);
	/* 8. duplication: a copy of what is on the wire (with any flipped
	 * bit), with its own jitter */
	if (dir_chance(dr, cfg->dup_ppm)) {
		uint64_t arrival2 = sat_add(departure, cfg->delay_ns);
		uint32_t idx2;

		dr->stats.duplicated++;
		if (cfg->jitter_ns)
			arrival2 = sat_add(arrival2, usn_rand_below(&dr->rand, sat_add(cfg->jitter_ns, 1)));
		idx2 = copy_to_receiver(dr, rx, NULL, USN_BUF_NONE, usn_buf_data(rx->pool, idx), len);
		if (idx2 != USN_BUF_NONE)
			queue_or_drop(dr, rx, arrival2, idx2);
	}
	return 1;
}

/* The offloads a NIC would do before the wire (usn_memlink_set_offloads):
 * finish a partial TCP checksum (USN_BUF_F_TX_CSUM) and cut a TSO frame
 * into segments of gso_size (USN_BUF_F_TSO), each with its own IP length,
 * ID and checksum, TCP sequence number, flags (FIN and PSH on the last
 * only) and checksum. Headers are re-emitted through wire/. Each frame made
 * goes through mem_send_one(); returns how many were sent. */
static int mem_send_offloaded(struct usn_memlink *l, int d, uint32_t head, uint64_t now)
{
	struct usn_dev *tx = &l->end[d].dev;
	struct usn_pool *p = tx->pool;
	const struct usn_buf_meta *hm = usn_buf_meta(p, head);
	size_t flen = usn_buf_chain_len(p, head);
	uint8_t *f = malloc(flen ? flen : 1);
	int sent = 0;
	if (!f) {
		tx->stats.tx_drop++;
		return 0;
	}
	usn_buf_chain_copy(p, head, 0, f, flen);
	struct usn_eth_repr eth;
	struct usn_ipv4_repr ip;
	struct usn_tcp_repr tcp;
	if (usn_eth_parse(f, flen, &eth) != USN_WIRE_OK || eth.ethertype != USN_ETHERTYPE_IPV4 ||
	    usn_ipv4_parse(f + MEM_ETH_HLEN, flen - MEM_ETH_HLEN, &ip, 0) != USN_WIRE_OK || ip.proto != USN_IPPROTO_TCP ||
	    usn_tcp_parse(f + MEM_ETH_HLEN + ip.hdr_len, ip.payload_len, &tcp) != USN_WIRE_OK) {
		tx->stats.tx_drop++; /* the stack asked an offload for what is not TCP/IPv4 */
		free(f);
		return 0;
	}
	const uint8_t *data = f + MEM_ETH_HLEN + ip.hdr_len + tcp.hdr_len;
	uint32_t dlen = ip.payload_len - tcp.hdr_len;
	uint32_t g = (hm->flags & USN_BUF_F_TSO) ? (uint32_t)((hm->aux >> 32) & 0xffff) : dlen;
	if (g == 0)
		g = dlen ? dlen : 1;
	for (uint32_t off = 0; off < dlen || (off == 0 && dlen == 0); off += g) {
		uint32_t k = USN_MIN(g, dlen - off);
		bool last = off + k >= dlen;
		struct usn_tcp_repr t = tcp;
		t.seq = tcp.seq + off;
		if (!last)
			t.flags &= (uint8_t)~(USN_TCP_FIN | USN_TCP_PSH);
		uint32_t b = usn_buf_alloc(p);
		if (b == USN_BUF_NONE) {
			tx->stats.tx_drop++;
			break;
		}
		uint8_t *o = usn_buf_put(p, b, (uint32_t)(MEM_ETH_HLEN + USN_IPV4_MIN_HLEN + tcp.hdr_len + k));
		if (!o) { /* a segment larger than a buffer: the stack's gso_size is wrong */
			usn_buf_free(p, b);
			tx->stats.tx_drop++;
			break;
		}
		usn_eth_emit(&eth, o, MEM_ETH_HLEN);
		struct usn_ipv4_repr i2 = ip;
		i2.id = (uint16_t)(ip.id + off / g);
		i2.payload_len = (uint16_t)(tcp.hdr_len + k);
		usn_ipv4_emit(&i2, o + MEM_ETH_HLEN, USN_IPV4_MIN_HLEN);
		memcpy(o + MEM_ETH_HLEN + USN_IPV4_MIN_HLEN + tcp.hdr_len, data + off, k);
		usn_tcp_emit(&t, ip.src, ip.dst, (uint16_t)k, usn_csum_partial(data + off, k, 0),
			     o + MEM_ETH_HLEN + USN_IPV4_MIN_HLEN, tcp.hdr_len);
		sent += mem_send_one(l, d, b, now);
		usn_buf_free(p, b);
		if (dlen == 0)
			break;
	}
	free(f);
	return sent;
}

static int mem_tx_burst(struct usn_dev *d, const uint32_t *bufs, int n, uint64_t now)
{
	struct mem_end *e = end_of(d);
	int sent = 0;

	for (int i = 0; i < n; i++) {
		if (usn_buf_meta(d->pool, bufs[i])->flags & (USN_BUF_F_TX_CSUM | USN_BUF_F_TSO))
			sent += mem_send_offloaded(e->link, e->side, bufs[i], now);
		else
			sent += mem_send_one(e->link, e->side, bufs[i], now);
		usn_buf_free_chain(d->pool, bufs[i]);
	}
	return sent;
}

static int mem_rx_burst(struct usn_dev *d, uint32_t *ret_bufs, int max, uint64_t now)
{
	struct mem_end *e = end_of(d);
	struct mem_dir *dr = &e->link->dir[1 - e->side];
	int got = 0;

	while (got < max && dr->heap_n && dr->heap[0].arrival <= now) {
		uint32_t idx = heap_pop(dr);

		dr->stats.delivered++;
		d->stats.rx_frames++;
		d->stats.rx_bytes += usn_buf_len(d->pool, idx);
		ret_bufs[got++] = idx;
	}
	return got;
}

static int mem_wait_fd(struct usn_dev *d)
{
	(void)d;
	return -1;
}

static uint64_t mem_next_rx_time(struct usn_dev *d)
{
	struct mem_end *e = end_of(d);
	const struct mem_dir *dr = &e->link->dir[1 - e->side];

	return dr->heap_n ? dr->heap[0].arrival : UINT64_MAX;
}

/* The devices belong to the link: usn_memlink_destroy frees them. */
static void mem_destroy(struct usn_dev *d)
{
	(void)d;
}

static const struct usn_dev_ops mem_ops = {
	.kind = "mem",
	.rx_burst = mem_rx_burst,
	.tx_burst = mem_tx_burst,
	.wait_fd = mem_wait_fd,
	.next_rx_time = mem_next_rx_time,
	.destroy = mem_destroy,
};

int usn_memlink_create(struct usn_pool *pool_a, struct usn_pool *pool_b, uint64_t seed,
		       struct usn_memlink **ret_link, struct usn_dev **ret_a, struct usn_dev **ret_b)
{
	struct usn_memlink *l;

	*ret_link = NULL;
	if (!pool_a || !pool_b)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (int s = 0; s < 2; s++) {
		struct mem_end *e = &l->end[s];

		e->dev.ops = &mem_ops;
		e->dev.pool = s == 0 ? pool_a : pool_b;
		memcpy(e->dev.name, s == 0 ? "mem:a" : "mem:b", sizeof("mem:a"));
		e->dev.mtu = MEM_DEFAULT_MTU;
		/* Frames are copied out of any chain, lent memory included,
		 * as a NIC with scatter-gather DMA would. */
		e->dev.offloads = USN_DEV_OFF_SG;
		e->link = l;
		e->side = s;
	}
	/* One stream per direction, so impairments in one direction do not
	 * change the random draws of the other. */
	usn_rand_seed(&l->dir[0].rand, seed);
	usn_rand_seed(&l->dir[1].rand, seed ^ 0x9e3779b97f4a7c15ull);
	*ret_link = l;
	if (ret_a)
		*ret_a = &l->end[0].dev;
	if (ret_b)
		*ret_b = &l->end[1].dev;
	return 0;
}

void usn_memlink_destroy(struct usn_memlink *l)
{
	if (!l)
		return;
	for (int d = 0; d < 2; d++) {
		struct mem_dir *dr = &l->dir[d];
		struct usn_pool *rxpool = l->end[1 - d].dev.pool;

		for (uint32_t k = 0; k < dr->heap_n; k++)
			usn_buf_free(rxpool, dr->heap[k].buf);
		free(dr->heap);
		free(dr->fifo);
	}
	free(l);
}

void usn_memlink_set_cfg(struct usn_memlink *l, int dir, const struct usn_memlink_dir_cfg *cfg)
{
	if (dir < 0 || dir > 1 || !cfg)
		return;
	l->dir[dir].cfg = *cfg;
	/* The sender's IP MTU is what its stack sizes datagrams by. */
	l->end[dir].dev.mtu = cfg->mtu ? cfg->mtu : MEM_DEFAULT_MTU;
}

const struct usn_memlink_dir_stats *usn_memlink_stats(const struct usn_memlink *l, int dir)
{
	if (dir < 0 || dir > 1)
		return NULL;
	return &l->dir[dir].stats;
}

uint32_t usn_memlink_in_flight(const struct usn_memlink *l, int dir)
{
	if (dir < 0 || dir > 1)
		return 0;
	return l->dir[dir].heap_n;
}

uint64_t usn_memlink_next_arrival(const struct usn_memlink *l)
{
	uint64_t t = UINT64_MAX;

	for (int d = 0; d < 2; d++)
		if (l->dir[d].heap_n && l->dir[d].heap[0].arrival < t)
			t = l->dir[d].heap[0].arrival;
	return t;
}

void usn_memlink_set_offloads(struct usn_memlink *l, uint32_t offloads)
{
	uint32_t known = USN_DEV_OFF_TX_CSUM | USN_DEV_OFF_TSO | USN_DEV_OFF_SG;
	l->end[0].dev.offloads = offloads & known;
	l->end[1].dev.offloads = offloads & known;
}
