/* SPDX-License-Identifier: MIT */
/*
 * stack.c - creating a stack and running its loop.
 *
 * The loop is run-to-completion: receive a batch of frames and process each
 * fully, run the timers that are due, send what was queued. When a pass
 * finds no work the loop sleeps in poll(2) on the device's descriptor until
 * traffic arrives or the next timer is due, so an idle stack uses no CPU.
 * In virtual time (the simulator) it never sleeps and the clock moves only
 * through usn_stack_set_time().
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"
#include "usnet/usnet.h"
#include "util.h"

#define USN_TICK_NS USN_NSEC_PER_MSEC
#define USN_RX_BATCHES_PER_PASS 4 /* bounds the time between timer runs */
#define USN_RX_PREFETCH 4          /* received frames whose headers are fetched ahead */

/* The first 128 bytes of a received frame: every header of a small one. */
static void rx_prefetch(struct usn_pool *p, uint32_t b)
{
	const uint8_t *d = usn_buf_data(p, b);
	__builtin_prefetch(d);
	__builtin_prefetch(d + 64);
}

static void stack_notify(void *upper, int sd, uint32_t events)
{
	(void)events;
	usn_sock_mark_ready(upper, sd);
}

static void stack_tcp_input(void *upper, const struct usn_ipv4_repr *ip, uint32_t chain)
{
	struct usn_stack *s = upper;
	usn_tcp_input(&s->tcp, ip, chain);
}

static void stack_tcp_icmp_error(void *upper, const struct usn_icmp_repr *icmp, const uint8_t *orig, size_t len)
{
	struct usn_stack *s = upper;
	usn_tcp_icmp_error(&s->tcp, icmp, orig, len);
}

int usn_stack_attach_dev(struct usn_stack *s, struct usn_dev *dev, const uint8_t *mac)
{
	s->dev = dev;
	s->ip.dev = dev;
	if (mac)
		memcpy(s->ip.mac, mac, sizeof(s->ip.mac));
	/* A device shared with the kernel picks out usnet's frames by its
	 * address and MAC (mode b: by address and port, usn_stack_create). */
	if (dev->ops->set_addr && !s->ip.arp_kernel) {
		int rc = dev->ops->set_addr(dev, s->ip.addr, s->ip.mac);
		if (rc < 0)
			return rc;
	}
	uint32_t mtu = dev->mtu ? dev->mtu : 1500;
	if (mtu < 68) /* RFC 791 §3.2: every host must take 68 bytes */
		mtu = 68;
	if (mtu > 65535)
		mtu = 65535;
	s->ip.mtu = (uint16_t)mtu;
	usn_arp_announce(&s->ip);
	return 0;
}

int usn_stack_create(const struct usn_config *cfg, struct usn_stack **ret, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	if (cfg->addr == 0) {
		snprintf(err, errlen, "no address: give --addr A.B.C.D/LEN");
		return -EINVAL;
	}
	struct usn_stack *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->virtual_time = cfg->virtual_time != 0;
	uint64_t seed = cfg->seed;
	if (seed == 0)
		randombytes_buf(&seed, sizeof(seed));
	usn_rand_seed(&s->rand, seed);
	/* A seeded stack is reproducible to its secret, so the simulator can
	 * replay a run; otherwise the secret comes from the OS. */
	if (cfg->seed)
		usn_rand_bytes(&s->rand, s->secret, sizeof(s->secret));
	else
		randombytes_buf(s->secret, sizeof(s->secret));
	s->now = s->virtual_time ? 0 : usn_clock_mono_ns();
	usn_wheel_init(&s->wheel, s->now, USN_TICK_NS);
	usn_log_init(&s->log, "usnet", (enum usn_log_level)cfg->log_level);
	uint32_t nbufs = cfg->nbufs ? cfg->nbufs : USN_DEFAULT_NBUFS;
	int rc = usn_pool_init(&s->pool, nbufs, USN_BUF_SIZE, USN_BUF_HEADROOM);
	if (rc < 0) {
		snprintf(err, errlen, "cannot allocate %u packet buffers: %s", nbufs, strerror(-rc));
		free(s);
		return rc;
	}
	if (cfg->pcap[0]) {
		rc = usn_pcap_open(cfg->pcap, 65535, &s->pcap, err, errlen);
		if (rc < 0) {
			usn_pool_fini(&s->pool);
			free(s);
			return rc;
		}
	}
	s->free_head = s->ready_head = s->ready_tail = -1;

	struct usn_ip *ip = &s->ip;
	ip->pool = &s->pool;
	ip->ctr = &s->ctr;
	ip->rand = &s->rand;
	ip->wheel = &s->wheel;
	ip->log = &s->log;
	ip->now = &s->now;
	ip->pcap = s->pcap;
	ip->pcap_time_offset = s->virtual_time ? 0 : (int64_t)(usn_clock_real_ns() - usn_clock_mono_ns());
	ip->upper = s;
	ip->notify = stack_notify;
	ip->addr = cfg->addr;
	ip->mask = cfg->prefix_len ? ~0u << (32 - cfg->prefix_len) : 0;
	ip->gw = cfg->gw;
	ip->mtu = 1500;
	/* A random locally administered unicast MAC (IEEE 802 U/L bit). */
	usn_rand_bytes(&s->rand, ip->mac, sizeof(ip->mac));
	ip->mac[0] = (uint8_t)((ip->mac[0] & 0xfe) | 0x02);
	if (cfg->mac_set)
		memcpy(ip->mac, cfg->mac, sizeof(ip->mac));
	ip->arp_glean = cfg->queues > 1;
	if (cfg->shared_lo) {
		ip->arp_kernel = true;
		ip->eph_lo = cfg->shared_lo;
		ip->eph_hi = cfg->shared_hi;
	}
	usn_ip_init(ip);
	ip->tcp_input = stack_tcp_input;
	ip->tcp_icmp_error = stack_tcp_icmp_error;
	rc = usn_tcp_init(&s->tcp, ip, s->secret);
	if (rc < 0) {
		snprintf(err, errlen, "no memory for the connection table");
		usn_stack_destroy(s);
		return rc;
	}

	if (cfg->dev[0]) {
		struct usn_dev *dev;
		rc = usn_dev_open_queue(cfg->dev, &s->pool, cfg->queue, cfg->queues ? cfg->queues : 1, &dev, err,
					errlen);
		if (rc < 0) {
			usn_stack_destroy(s);
			return rc;
		}
		/* Mode (b): the interface's own MAC and the kernel told. */
		if (ip->arp_kernel && (!dev->ops->share || !dev->has_hwaddr)) {
			snprintf(err, errlen,
				 "%s: a %s device cannot share the kernel's address (--shared-addr needs afxdp or "
				 "afpacket)",
				 cfg->dev, dev->ops->kind);
			usn_dev_destroy(dev);
			usn_stack_destroy(s);
			return -EOPNOTSUPP;
		}
		rc = usn_stack_attach_dev(s, dev,
					  ip->arp_kernel || (dev->use_hwaddr && !cfg->mac_set) ? dev->hwaddr : NULL);
		if (rc == 0 && ip->arp_kernel) {
			char why[200] = "";
			rc = dev->ops->share(dev, ip->addr, ip->eph_lo, ip->eph_hi, why, sizeof(why));
			if (rc < 0) {
				snprintf(err, errlen, "%s: --shared-addr: %s", cfg->dev, why[0] ? why : strerror(-rc));
				s->dev = NULL;
				s->ip.dev = NULL;
				usn_dev_destroy(dev);
				usn_stack_destroy(s);
				return rc;
			}
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s: cannot set the device's address filter: %s", cfg->dev, strerror(-rc));
			s->dev = NULL;
			s->ip.dev = NULL;
			usn_dev_destroy(dev);
			usn_stack_destroy(s);
			return rc;
		}
		usn_ip_flush(ip);
	}
	*ret = s;
	return 0;
}

void usn_stack_destroy(struct usn_stack *s)
{
	if (!s)
		return;
	usn_sock_table_fini(s);
	usn_tcp_fini(&s->tcp);
	usn_ip_fini(&s->ip);
	if (s->dev)
		usn_dev_destroy(s->dev);
	if (s->pcap)
		usn_pcap_close(s->pcap);
	usn_pool_fini(&s->pool);
	sodium_memzero(s->secret, sizeof(s->secret));
	free(s);
}

USNET_API void usn_stack_mac(const struct usn_stack *s, uint8_t ret_mac[6])
{
	memcpy(ret_mac, s->ip.mac, 6);
}

void usn_stack_set_time(struct usn_stack *s, uint64_t now)
{
	if (now > s->now)
		s->now = now;
}

uint64_t usn_stack_next_timer(const struct usn_stack *s)
{
	if (s->tcp.npending > 0)
		return s->now; /* output waits for the next pass */
	return usn_wheel_next_expiry(&s->wheel);
}

int usn_stack_run(struct usn_stack *s)
{
	if (!s->virtual_time)
		s->now = usn_clock_mono_ns();
	usn_tcp_flush(&s->tcp); /* what the application asked for since */
	int total = 0;
	if (s->dev) {
		uint32_t bufs[USN_RX_BATCH];
		for (int pass = 0; pass < USN_RX_BATCHES_PER_PASS; pass++) {
			int n = usn_dev_rx_burst(s->dev, bufs, USN_RX_BATCH, s->now);
			if (n < 0) {
				USN_CTR_INC(&s->ctr, DEV_RX_ERRORS);
				usn_log_msg(&s->log, s->now, USN_LOG_ERR, "device receive failed: %s", strerror(-n));
				break;
			}
			/* The device wrote these frames from another core (AF_XDP
			 * copy mode, veth): the first read of each is a cache
			 * miss, so the headers of the next few are fetched while
			 * one is processed. */
			for (int i = 0; i < n && i < USN_RX_PREFETCH; i++)
				rx_prefetch(&s->pool, bufs[i]);
			for (int i = 0; i < n; i++) {
				if (i + USN_RX_PREFETCH < n)
					rx_prefetch(&s->pool, bufs[i + USN_RX_PREFETCH]);
				usn_ip_eth_input(&s->ip, bufs[i]);
			}
			total += n;
			if (n < USN_RX_BATCH)
				break;
		}
	}
	usn_wheel_advance(&s->wheel, s->now);
	usn_tcp_flush_undeferred(&s->tcp); /* the rest after the user's turn */
	usn_ip_flush(&s->ip);
	return total;
}

int usn_stack_fd(const struct usn_stack *s)
{
	return s->dev ? usn_dev_wait_fd(s->dev) : -1;
}

int usn_stack_timeout_ms(const struct usn_stack *s)
{
	if (s->tcp.npending > 0)
		return 0;
	uint64_t next = usn_wheel_next_expiry(&s->wheel);
	if (next == UINT64_MAX)
		return -1;
	uint64_t now = s->virtual_time ? s->now : usn_clock_mono_ns();
	if (next <= now)
		return 0;
	uint64_t ms = (next - now + USN_NSEC_PER_MSEC - 1) / USN_NSEC_PER_MSEC;
	return ms > 3600 * 1000 ? 3600 * 1000 : (int)ms;
}

int usn_stack_poll(struct usn_stack *s, int timeout_ms)
{
	int n = usn_stack_run(s);
	if (s->nready > 0 || n > 0 || timeout_ms == 0 || s->virtual_time)
		return s->nready;
	int ms = usn_stack_timeout_ms(s);
	if (timeout_ms >= 0 && (ms < 0 || timeout_ms < ms))
		ms = timeout_ms;
	struct pollfd pfd = {.fd = usn_stack_fd(s), .events = POLLIN};
	int r = poll(&pfd, pfd.fd >= 0 ? 1 : 0, ms);
	if (r < 0 && errno == EINTR)
		return -EINTR;
	usn_stack_run(s);
	return s->nready;
}

int usn_stack_counter(const struct usn_stack *s, const char *name, uint64_t *ret)
{
	int id = usn_counter_find(name);
	if (id < 0)
		return -ENOENT;
	*ret = s->ctr.v[id];
	return 0;
}

void usn_stack_print_counters(const struct usn_stack *s, void *file, int all)
{
	usn_counters_print(&s->ctr, file, all);
	/* The device's own counts (drops it made before the stack saw a frame). */
	if (s->dev) {
		if (s->dev->ops->read_stats)
			s->dev->ops->read_stats(s->dev);
		const struct usn_dev_stats *d = &s->dev->stats;
		fprintf(file, "device %s:%s (%s):\n", s->dev->ops->kind, s->dev->name,
			(s->dev->offloads & USN_DEV_OFF_TSO) ? "checksum and segmentation offload" : "no offload");
		const struct {
			const char *name, *desc;
			uint64_t v;
		} rows[] = {
			{"DEV_RX_DROP_NOBUF", "frames lost on receive: buffer pool empty", d->rx_drop_nobuf},
			{"DEV_RX_DROP_OVERSIZE", "frames lost on receive: larger than allowed", d->rx_drop_oversize},
			{"DEV_RX_DROP_RING", "frames the kernel dropped: usnet's receive ring was full", d->rx_drop_ring},
			{"DEV_RX_DROP_KERNEL", "frames the kernel dropped: no receive buffer (fill ring empty) or unplaceable",
			 d->rx_drop_kernel},
			{"DEV_TX_DROP", "frames not sent: refused or queue full", d->tx_drop},
			{"DEV_TX_RETRIES", "sends tried again: the driver's queue was full", d->tx_retries},
			{"DEV_TX_OFFLOAD_OFF", "offloads given up: the kernel's queue would not take their frames",
			 d->tx_offload_off},
			{"DEV_RX_COPIED", "frames copied on receive from the device's memory into the pool",
			 d->rx_copied},
			{"DEV_RX_SYSERR", "receive system call errors", d->rx_errors},
			{"DEV_TX_SYSERR", "send system call errors", d->tx_errors},
		};
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			if (all || rows[i].v)
				fprintf(file, "    %llu %s  %s\n", (unsigned long long)rows[i].v, rows[i].name, rows[i].desc);
	}
	/* Gauges: what the stack holds now (a leak shows here). */
	fprintf(file, "state:\n    %u BUFFERS_IN_USE  packet buffers in use (of %u)\n    %u TCP_CONNECTIONS  TCP "
		      "connections and listeners\n",
		usn_pool_in_use(&s->pool), s->pool.count, s->tcp.nconns);
}
