/* SPDX-License-Identifier: MIT */
/*
 * dev_dpdk.c - the DPDK backend (`--dev dpdk:EAL-ARGS`, dev_dpdk.h): one
 * receive and transmit queue pair of an ethdev port per usnet instance,
 * driven by rte_eth_rx_burst and rte_eth_tx_burst on the stack's own thread.
 * It is not a protocol implementation, never reads a clock (the stack's time
 * comes in), and knows nothing of DPDK's lcores: instance threads are the
 * application's own, which DPDK's burst calls and mempools allow.
 *
 * Receive (rx=pool, the default where it fits): each instance's receive
 * queue fills mbufs from a mempool of its own whose data buffers are slots
 * of usnet's pool (rte_pktmbuf_pool_create_extbuf over the pool's highest
 * slots, lent to the device for as long as it lives: usn_pool_dev_take).
 * A mempool binds each mbuf to one data buffer for good (pinned external
 * buffers), so the mbuf of a received frame names its usnet slot by
 * address: the slot is handed to the stack as it is (usn_pool_dev_deliver,
 * no copy), and when the stack frees it the pool gives it back here
 * (rx_give_back), which frees the mbuf into its mempool for the port to
 * fill again. Slots the port holds (ring descriptors, the mempool's free
 * mbufs) are not the stack's: they count neither as in use nor as free.
 * mbufs of 2 KB slots hold frames up to 1920 bytes (the slot less DPDK's
 * 128-byte headroom, which is also usnet's): the port's MTU must fit, and
 * net_af_packet, which copies each frame from its ring into an mbuf and
 * refuses mbufs smaller than its ring frames less 32 bytes, must be given
 * framesz=1952 or less (it then drops the rest of a larger frame). Where
 * it does not fit (a larger MTU or framesz), where the pool cannot spare
 * the slots (it must keep at least half of them), on net_ring (which hands
 * over the sender's own mbufs) and with rx=copy, the port fills mbufs from
 * a mempool of DPDK's memory instead, and each frame is copied once into
 * a chain of pool buffers, the mbuf freed at once (counted in
 * DEV_RX_COPIED); so is any frame of a foreign mbuf or of several
 * segments. net_af_packet copies each frame once before, from the
 * kernel's ring into the mbuf; its socket is in a fanout group that has
 * the kernel reassemble IP fragments first (PACKET_FANOUT_FLAG_DEFRAG,
 * always on in DPDK 22.11), so a fragmented datagram arrives as one frame
 * larger than the MTU, whole only if it fits the driver's ring frames
 * (framesz): with rx=copy received frames are taken up to 64 KB, and mbufs
 * are made as large as those frames (rx_data_room); with rx=pool a
 * datagram larger than 1920 bytes cannot arrive whole (use rx=copy and a
 * larger framesz where they matter).
 * Transmit: with tx=ref each buffer of a frame's chain (pool slots and lent
 * EXT buffers alike) is attached to an mbuf of the mempool as an external
 * buffer (rte_pktmbuf_attach_extbuf), the mbufs chained as segments when the
 * port takes RTE_ETH_TX_OFFLOAD_MULTI_SEGS: no copy in usnet. The shared
 * info of each attachment lives in that mbuf's private area; its free
 * callback returns the one buffer to usnet's pool when the mbuf's last
 * reference goes, which is inside rte_eth_tx_burst for drivers that copy
 * (net_af_packet copies into its TX ring and frees; net_tap, net_af_xdp
 * and net_pcap do the same) and at a later tx_burst of the same queue for a
 * NIC reclaiming its descriptors: in every case on the thread that owns the
 * queue and the pool. net_ring passes the mbuf itself to whoever reads the
 * ring, possibly another thread: there and on any port not on the vdev bus
 * the default is tx=copy, every frame copied into mbufs (one mbuf, or a
 * segment chain) and freed to usnet's pool at once.
 * DEVIATION(DMA mapping): with tx=ref the mbufs point into usnet's region by
 * virtual address (IOVA as VA). Virtual devices never DMA, so nothing more
 * is needed; a real NIC would also need the region registered
 * (rte_extmem_register) and mapped for the device (rte_dev_dma_map), and
 * lent EXT buffers (file mappings) either mapped per use or copied. This
 * backend does not do that, which is why tx=copy is the default off the
 * vdev bus.
 * Offloads: where the port has them, RX IPv4/TCP/UDP checksum (a frame the
 * port found good is marked USN_BUF_F_CSUM_OK), TX TCP/UDP checksum
 * (USN_BUF_F_TX_CSUM: the pseudo-header sum is in the field, as for
 * virtio-net NEEDS_CSUM, which is also what DPDK expects) and TSO
 * (USN_BUF_F_TSO, which also needs TX IPv4 checksum and multi-segment
 * frames; DPDK wants the pseudo-header sum without the length there, and
 * rte_eth_tx_prepare fixes what a driver wants more). USNET_OFFLOAD=0
 * turns the TX ones off. net_af_packet and net_ring have none of them.
 * Waiting: DPDK is poll mode and these ports have no receive interrupt, so
 * wait_fd is a timerfd the device arms itself after every empty poll: at
 * once for the first IDLE_SPIN empty polls, then after 16 us, doubling up
 * to idle-us (1 ms by default). An idle usnet on DPDK therefore wakes up to
 * 1000 times a second (about 1 % of a core) and answers the first frame
 * after a pause up to 1 ms late; a busy one polls without sleeping.
 * idle-us=0 is DPDK's busy polling: a core at 100 %. Receive interrupts
 * (rte_eth_dev_rx_intr_enable) are not used: no port here has them to test.
 * Several instances (--cores N): the first to open the port configures it
 * with N queue pairs (RSS on IPv4, TCP and UDP when the port has it and
 * N > 1); each instance sets up its own receive queue `queue` (with the
 * mempool over its own pool) and the last of the N to open starts the
 * port, so the instances are all opened before any runs (usnet's programs
 * make every instance first); the last to close stops it. A queue closed
 * while the others keep the port running can be opened again only with
 * rx=copy (its receive mempool named the old pool). Ports and mempools are released, and the EAL cleaned up, at
 * process exit when no device is open any more.
 * DEVIATION(no global state): DPDK's EAL is process-wide and may be
 * initialised only once per process (rte_eal_init cannot be called again,
 * even after rte_eal_cleanup), and a port is shared by the instances whose
 * queues it carries: so this file keeps one process-wide record (the EAL's
 * arguments, state and open devices, and per port its queues, users and
 * mempools) behind a mutex, and one flag (drop_eal_thread_caps). Nothing
 * on the data path touches them but that flag, once per device.
 * Privileges: the EAL with --no-huge needs none of its own (huge pages need
 * write access to hugetlbfs, a NIC its vfio device); net_af_packet needs
 * CAP_NET_RAW for its packet socket, made during rte_eal_init, and nothing
 * once it is open. The EAL starts threads of its own, which capabilities
 * dropped later by the program (per thread) would miss: its interrupt
 * thread, always, drops every capability at the first receive poll, when
 * the program has dropped its own (an alarm callback runs there; a later
 * setuid in the program would fail in that thread, and glibc abort); the
 * multi-process and telemetry threads, which --no-shconf and
 * --no-telemetry avoid, keep what the process had
 * unless --user changes its uid (glibc applies that to every thread).
 */
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* rte_pktmbuf_pool_create_extbuf (rx=pool) is still marked experimental
 * in DPDK 22.11, though unchanged since 20.05. */
#define ALLOW_EXPERIMENTAL_API 1
/* DPDK's headers are included as system headers (meson include_type :
 * 'system'), so the project's warnings apply to this file only. */
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_alarm.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dev_dpdk.h"
#include "util.h"

#define DPDK_BURST 64
#define DPDK_MAX_QUEUES 64      /* instances on one port */
#define DPDK_NB_DESC 1024       /* receive and transmit descriptors, as adjusted by the port */
#define DPDK_MAX_ARGS 64
#define DPDK_ETH_HLEN 14u
#define DPDK_IDLE_SPIN 64u      /* empty polls before the first sleep */
#define DPDK_IDLE_FIRST_NS 16000u
#define DPDK_STATS_NS 1000000000ull /* the port's own counters, read at most this often */

/* The private area of every mbuf of our mempools: the shared info of a
 * usnet buffer attached to it (tx=ref) and what its free callback needs. */
struct dpdk_txref {
	struct rte_mbuf_ext_shared_info si;
	struct usn_dev_dpdk *d;
	uint32_t idx;
};
#define DPDK_PRIV_SIZE RTE_ALIGN(sizeof(struct dpdk_txref), RTE_MBUF_PRIV_ALIGN)

struct dpdk_port {
	bool configured; /* configured once at least: closed at exit */
	bool pending;    /* configured for a start, receive queues being set up */
	bool started;
	unsigned queues;
	unsigned mtu; /* given with mtu=N, else 0: the port's own */
	unsigned users;
	uint64_t queue_open; /* bit per queue in use */
	struct rte_mempool *rx_mp, *tx_mp; /* rx_mp: for queues with rx=copy */
	unsigned rx_size, tx_size;
	uint16_t nrx, ntx;   /* descriptors per queue, as the port adjusted them */
	uint64_t rxq_ready;  /* bit per receive queue set up for this start */
	uint64_t rxq_pool;   /* bit per receive queue filled from its instance's pool */
	struct rte_mempool *zc_mp[DPDK_MAX_QUEUES]; /* those queues' mempools */
	struct rte_mempool *old_mp[2]; /* replaced rx, tx mempools: freed at the next start */
	atomic_bool running; /* started: read by the instances' receive polls */
	uint64_t rx_off, tx_off; /* offloads enabled */
};

static struct {
	pthread_mutex_t lock;
	int state; /* 0 not started, 1 running, -1 failed (cannot be retried) */
	char args[512];
	char failure[160];
	unsigned devs;
	unsigned serial; /* mempool names */
	bool atexit_set;
	struct dpdk_port port[RTE_MAX_ETHPORTS];
} eal = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct usn_dev_dpdk {
	struct usn_dev dev;
	uint16_t port, queue;
	struct rte_mempool *mp; /* for sending */
	int tfd;
	uint32_t idle;       /* empty polls since the last frame */
	uint64_t idle_max_ns;
	uint64_t armed_ns;   /* what the timerfd was last armed for */
	bool tx_ref;
	bool multiseg;
	bool dead;           /* destroyed with buffers still lent (see dpdk_destroy) */
	bool caps_asked;     /* drop_eal_thread_caps called */
	uint16_t max_segs;
	uint32_t max_rx_frame, max_tx_frame;
	uint64_t rx_off, tx_off;
	uint64_t lent;       /* usnet buffers attached to mbufs, not yet returned */
	/* rx=pool: the mempool over the pool's slots [zc_first, zc_first +
	 * zc_count), and per slot the mbuf the stack holds it with. */
	struct rte_mempool *zc_mp;
	uint32_t zc_first, zc_count;
	struct rte_mbuf **zc_mbuf;
	atomic_bool *running;
	char driver[32];
	uint64_t own_rx_nobuf, own_rx_errors;
	uint64_t stats_at;
};

static struct usn_dev_dpdk *dpdk_of(struct usn_dev *d)
{
	return USN_CONTAINER_OF(d, struct usn_dev_dpdk, dev);
}

/* ---- receive ---- */

/* Runs in the EAL's interrupt thread (an alarm): that thread gives up
 * every capability (file comment). */
static void drop_caps_here(void *arg)
{
	(void)arg;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
	memset(none, 0, sizeof(none));
	syscall(SYS_capset, &h, none);
}

/* Asked once per process, from the first receive poll: by then the
 * program has dropped its own privileges, and changed its uid with
 * --user, which glibc applies to every thread and which a thread
 * without CAP_SETUID would make fail (glibc aborts then). */
static atomic_flag caps_asked = ATOMIC_FLAG_INIT;

static void drop_eal_thread_caps(void)
{
	if (!atomic_flag_test_and_set(&caps_asked))
		rte_eal_alarm_set(1, drop_caps_here, NULL);
}


/* Copies an mbuf chain into a chain of pool buffers. */
static uint32_t copy_in(struct usn_pool *p, const struct rte_mbuf *m)
{
	uint32_t head = USN_BUF_NONE, tail = USN_BUF_NONE;
	size_t room = 0;
	for (; m; m = m->next) {
		const uint8_t *src = rte_pktmbuf_mtod(m, const uint8_t *);
		size_t left = m->data_len;
		while (left > 0) {
			if (room == 0) {
				uint32_t b = usn_buf_alloc(p);
				if (b == USN_BUF_NONE) {
					if (head != USN_BUF_NONE)
						usn_buf_free_chain(p, head);
					return USN_BUF_NONE;
				}
				if (head == USN_BUF_NONE)
					head = b;
				else
					usn_buf_meta(p, tail)->next = b;
				tail = b;
				room = usn_buf_tailroom(p, b);
			}
			size_t k = USN_MIN(room, left);
			memcpy(usn_buf_put(p, tail, (uint32_t)k), src, k);
			src += k;
			left -= k;
			room -= k;
		}
	}
	return head;
}

/* rx=pool: the stack freed slot idx, which the mbuf zc_mbuf[...] holds:
 * back to its mempool (pool.c calls this from usn_buf_free). */
static void rx_give_back(void *ctx, uint32_t idx)
{
	struct usn_dev_dpdk *x = ctx;
	struct rte_mbuf **slot = &x->zc_mbuf[idx - x->zc_first];
	struct rte_mbuf *m = *slot;
	*slot = NULL;
	if (m)
		rte_pktmbuf_free(m);
}

/* rx=pool: the slot of usnet's pool that an mbuf of our mempool holds its
 * frame in, handed to the stack; USN_BUF_NONE when the mbuf is not ours
 * (net_ring passes the sender's), is a chain, or its data is not where a
 * slot's would be: then the frame is copied. */
static uint32_t take_in(struct usn_dev_dpdk *x, struct rte_mbuf *m)
{
	struct usn_pool *p = x->dev.pool;
	if (!x->zc_mp || m->pool != x->zc_mp || m->nb_segs != 1 || m->next)
		return USN_BUF_NONE;
	uintptr_t a = (uintptr_t)m->buf_addr, base = (uintptr_t)usn_buf_slot(p, x->zc_first);
	if (a < base || (a - base) % p->buf_size != 0 || (a - base) / p->buf_size >= x->zc_count)
		return USN_BUF_NONE;
	uint32_t idx = x->zc_first + (uint32_t)((a - base) / p->buf_size);
	if (usn_pool_dev_deliver(p, idx, m->data_off, m->data_len) != 0)
		return USN_BUF_NONE;
	x->zc_mbuf[idx - x->zc_first] = m;
	return idx;
}

/* The port's own counters, at most once a second, by the first queue's
 * instance only (they count for the whole port). */
static void read_port_stats(struct usn_dev_dpdk *x, uint64_t now)
{
	if (x->queue != 0 || (x->stats_at && now - x->stats_at < DPDK_STATS_NS))
		return;
	x->stats_at = now ? now : 1;
	struct rte_eth_stats st;
	if (rte_eth_stats_get(x->port, &st) != 0)
		return;
	/* rx_nombuf: the port found DPDK's mempool empty; imissed and
	 * ierrors: frames the port dropped or found broken. */
	x->dev.stats.rx_drop_nobuf = x->own_rx_nobuf + st.rx_nombuf;
	x->dev.stats.rx_errors = x->own_rx_errors + st.imissed + st.ierrors;
}

/* Arms the wait timerfd for the next poll: the sleep grows with the run of
 * empty polls (file comment). */
static void arm_wait(struct usn_dev_dpdk *x)
{
	uint64_t ns;
	if (x->idle < DPDK_IDLE_SPIN || x->idle_max_ns == 0) {
		ns = 1; /* readable at once: poll again */
	} else {
		uint32_t sh = USN_MIN(x->idle - DPDK_IDLE_SPIN, 20u);
		ns = (uint64_t)DPDK_IDLE_FIRST_NS << sh;
		if (ns > x->idle_max_ns)
			ns = x->idle_max_ns;
	}
	if (ns == 1 && x->armed_ns == 1)
		return; /* fired at once and stays readable until re-armed */
	struct itimerspec its = {.it_value = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)}};
	if (timerfd_settime(x->tfd, 0, &its, NULL) == 0)
		x->armed_ns = ns;
}

static int dpdk_rx_burst(struct usn_dev *d, uint32_t *ret_bufs, int max, uint64_t now)
{
	struct usn_dev_dpdk *x = dpdk_of(d);
	struct usn_pool *p = d->pool;
	struct rte_mbuf *pkts[DPDK_BURST];
	int got = 0;
	if (!x->caps_asked) {
		x->caps_asked = true;
		drop_eal_thread_caps();
	}
	if (!atomic_load_explicit(x->running, memory_order_acquire)) {
		/* The port starts when its last instance has opened. */
		if (x->idle < UINT32_MAX)
			x->idle++;
		arm_wait(x);
		return 0;
	}
	while (got < max) {
		uint16_t want = (uint16_t)USN_MIN(max - got, DPDK_BURST);
		uint16_t n = rte_eth_rx_burst(x->port, x->queue, pkts, want);
		uint16_t nfree = 0;
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			if (m->pkt_len > x->max_rx_frame) {
				d->stats.rx_drop_oversize++;
				pkts[nfree++] = m;
				continue;
			}
			uint32_t b = take_in(x, m);
			if (b == USN_BUF_NONE) {
				pkts[nfree++] = m; /* copied, or dropped: freed below */
				b = copy_in(p, m);
				if (b == USN_BUF_NONE) {
					x->own_rx_nobuf++;
					d->stats.rx_drop_nobuf++;
					continue;
				}
				d->stats.rx_copied++;
			}
			/* GOOD: the port checked it; NONE: the sender left it
			 * to an offload that never ran (as virtio-net
			 * NEEDS_CSUM). UNKNOWN and BAD: the stack checks. */
			uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
			if ((x->rx_off & (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM)) &&
			    (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE))
				usn_buf_meta(p, b)->flags |= USN_BUF_F_CSUM_OK;
			d->stats.rx_frames++;
			d->stats.rx_bytes += m->pkt_len;
			ret_bufs[got++] = b;
		}
		if (nfree > 0)
			rte_pktmbuf_free_bulk(pkts, nfree);
		if (n < want)
			break;
	}
	if (got > 0)
		x->idle = 0;
	else if (x->idle < UINT32_MAX)
		x->idle++;
	arm_wait(x);
	read_port_stats(x, now);
	return got;
}

/* ---- transmit ---- */

/* The free callback of an attached usnet buffer: the mbuf's last reference
 * went (inside rte_eth_tx_burst, or when the port reclaims it). */
static void txref_free(void *addr, void *opaque)
{
	struct dpdk_txref *r = opaque;
	struct usn_dev_dpdk *x = r->d;
	(void)addr;
	x->lent--;
	if (x->dead) {
		/* The device (and its pool) went away while this buffer
		 * was out: the last one back frees the device. */
		if (x->lent == 0)
			free(x);
		return;
	}
	usn_buf_free(x->dev.pool, r->idx);
}

static rte_iova_t iova_of(const void *va)
{
	/* IOVA as VA (file comment, DEVIATION(DMA mapping)). */
	return (rte_iova_t)(uintptr_t)va;
}

/* A frame as mbufs attached to its buffers; NULL when an mbuf is missing
 * (the buffers not yet attached are then freed here, the others by the
 * callbacks). */
static struct rte_mbuf *frame_ref(struct usn_dev_dpdk *x, uint32_t head)
{
	struct usn_pool *p = x->dev.pool;
	struct rte_mbuf *first = NULL, *last = NULL;
	uint32_t b = head;
	uint32_t total = 0;
	uint16_t segs = 0;
	while (b != USN_BUF_NONE) {
		uint32_t next = usn_buf_meta(p, b)->next;
		struct rte_mbuf *m = rte_pktmbuf_alloc(x->mp);
		if (!m) {
			usn_buf_free_chain(p, b);
			if (first)
				rte_pktmbuf_free(first);
			return NULL;
		}
		usn_buf_meta(p, b)->next = USN_BUF_NONE; /* each returns alone */
		struct dpdk_txref *r = rte_mbuf_to_priv(m);
		r->si.free_cb = txref_free;
		r->si.fcb_opaque = r;
		rte_mbuf_ext_refcnt_set(&r->si, 1);
		r->d = x;
		r->idx = b;
		uint8_t *data = usn_buf_data(p, b);
		uint16_t len = (uint16_t)usn_buf_len(p, b);
		rte_pktmbuf_attach_extbuf(m, data, iova_of(data), len, &r->si);
		m->data_len = len;
		x->lent++;
		total += len;
		segs++;
		if (!first) {
			first = m;
		} else {
			last->next = m;
		}
		last = m;
		b = next;
	}
	first->nb_segs = segs;
	first->pkt_len = total;
	return first;
}

/* A frame copied into mbufs (one when it fits, else a segment chain); the
 * chain is freed here either way. NULL when mbufs are missing. */
static struct rte_mbuf *frame_copy(struct usn_dev_dpdk *x, uint32_t head, uint32_t total)
{
	struct usn_pool *p = x->dev.pool;
	struct rte_mbuf *first = rte_pktmbuf_alloc(x->mp), *m = first;
	uint32_t off = 0;
	if (!first)
		goto out;
	while (off < total) {
		uint16_t room = rte_pktmbuf_tailroom(m);
		if (room == 0) {
			struct rte_mbuf *n = rte_pktmbuf_alloc(x->mp);
			if (!n || rte_pktmbuf_chain(first, n) != 0) {
				rte_pktmbuf_free(n);
				rte_pktmbuf_free(first);
				first = NULL;
				goto out;
			}
			m = n;
			continue;
		}
		uint16_t k = (uint16_t)USN_MIN((uint32_t)room, total - off);
		usn_buf_chain_copy(p, head, off, rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), k);
		m->data_len = (uint16_t)(m->data_len + k);
		first->pkt_len += k;
		off += k;
	}
out:
	usn_buf_free_chain(p, head);
	return first;
}

/* The head mbuf's offload request, from the head buffer's (aux: csum_start
 * | csum_offset << 16 | gso_size << 32, from the frame's start). False when
 * the request cannot be met (the frame is dropped). */
static bool tx_offload(struct usn_dev_dpdk *x, const struct usn_buf_meta *hm, struct rte_mbuf *m)
{
	if (!(hm->flags & USN_BUF_F_TX_CSUM))
		return true;
	uint32_t start = (uint32_t)(hm->aux & 0xffff), off = (uint32_t)((hm->aux >> 16) & 0xffff);
	bool tcp = off == 16, udp = off == 6;
	if (start < DPDK_ETH_HLEN + 20 || !(tcp || udp) || m->data_len < start + (tcp ? 20u : 8u))
		return false;
	m->l2_len = DPDK_ETH_HLEN;
	m->l3_len = start - DPDK_ETH_HLEN;
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | (tcp ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM);
	if (!(hm->flags & USN_BUF_F_TSO))
		return (x->tx_off & (tcp ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM : RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) != 0;
	if (!tcp || !(x->tx_off & RTE_ETH_TX_OFFLOAD_TCP_TSO))
		return false;
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, DPDK_ETH_HLEN);
	m->l4_len = (uint64_t)(l3[m->l3_len + 12] >> 4) * 4u;
	if (m->data_len < start + m->l4_len)
		return false; /* the headers must all be in the first segment */
	m->tso_segsz = (uint16_t)((hm->aux >> 32) & 0xffff);
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IP_CKSUM;
	/* DPDK's convention for TSO: the IPv4 header sum left to the port,
	 * the TCP field the pseudo-header sum without the length. */
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(void *)l3;
	ip->hdr_checksum = 0;
	uint16_t ph = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	memcpy(l3 + m->l3_len + 16, &ph, sizeof(ph));
	return true;
}

static int dpdk_tx_burst(struct usn_dev *d, const uint32_t *bufs, int n, uint64_t now)
{
	struct usn_dev_dpdk *x = dpdk_of(d);
	struct usn_pool *p = d->pool;
	int sent = 0;
	(void)now;
	for (int base = 0; base < n; base += DPDK_BURST) {
		int k = USN_MIN(n - base, DPDK_BURST);
		struct rte_mbuf *pkts[DPDK_BURST];
		uint16_t m = 0;
		bool prepare = false;
		for (int i = 0; i < k; i++) {
			uint32_t head = bufs[base + i];
			struct usn_buf_meta hm = *usn_buf_meta(p, head);
			size_t total = 0;
			unsigned segs = 0;
			bool fits16 = true;
			for (uint32_t b = head; b != USN_BUF_NONE; b = usn_buf_meta(p, b)->next) {
				total += usn_buf_len(p, b);
				fits16 = fits16 && usn_buf_len(p, b) <= UINT16_MAX;
				segs++;
			}
			uint32_t limit = (hm.flags & USN_BUF_F_TSO) ? 65535u + DPDK_ETH_HLEN : x->max_tx_frame;
			if (total < DPDK_ETH_HLEN || total > limit) {
				d->stats.tx_drop++;
				usn_buf_free_chain(p, head);
				continue;
			}
			struct rte_mbuf *mb;
			if (x->tx_ref && fits16 && (segs == 1 || (x->multiseg && segs <= x->max_segs)))
				mb = frame_ref(x, head);
			else if (total <= (size_t)rte_pktmbuf_data_room_size(x->mp) - RTE_PKTMBUF_HEADROOM || x->multiseg)
				mb = frame_copy(x, head, (uint32_t)total);
			else
				mb = (usn_buf_free_chain(p, head), NULL);
			if (!mb) {
				d->stats.tx_drop++;
				continue;
			}
			if (!tx_offload(x, &hm, mb)) {
				d->stats.tx_drop++;
				rte_pktmbuf_free(mb);
				continue;
			}
			prepare = prepare || (mb->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG));
			pkts[m++] = mb;
		}
		if (m == 0)
			continue;
		if (prepare) {
			/* What the driver wants more of the headers; a frame
			 * it refuses is dropped, the rest still go. */
			uint16_t w = 0, i = 0;
			while (i < m) {
				uint16_t ok = rte_eth_tx_prepare(x->port, x->queue, pkts + i, (uint16_t)(m - i));
				memmove(pkts + w, pkts + i, ok * sizeof(*pkts));
				w = (uint16_t)(w + ok);
				i = (uint16_t)(i + ok);
				if (i < m) {
					d->stats.tx_drop++;
					rte_pktmbuf_free(pkts[i++]);
				}
			}
			m = w;
		}
		uint32_t len[DPDK_BURST]; /* an mbuf sent may be gone at once */
		for (uint16_t i = 0; i < m; i++)
			len[i] = pkts[i]->pkt_len;
		uint16_t done = rte_eth_tx_burst(x->port, x->queue, pkts, m);
		if (done < m) /* a full queue: once more, then the rest is dropped */
			done = (uint16_t)(done + rte_eth_tx_burst(x->port, x->queue, pkts + done, (uint16_t)(m - done)));
		for (uint16_t i = 0; i < done; i++) {
			d->stats.tx_frames++;
			d->stats.tx_bytes += len[i];
		}
		sent += done;
		for (uint16_t i = done; i < m; i++) {
			d->stats.tx_drop++;
			rte_pktmbuf_free(pkts[i]);
		}
	}
	return sent;
}

static int dpdk_wait_fd(struct usn_dev *d)
{
	return dpdk_of(d)->tfd;
}

/* ---- the process-wide EAL and ports ---- */

/* At process exit, once no device is open: ports closed, mempools freed,
 * the EAL's files removed (rte_eal_cleanup). */
static void eal_at_exit(void)
{
	pthread_mutex_lock(&eal.lock);
	if (eal.state == 1 && eal.devs == 0) {
		for (uint16_t i = 0; i < RTE_MAX_ETHPORTS; i++) {
			struct dpdk_port *pt = &eal.port[i];
			if (!pt->configured)
				continue;
			if (rte_eth_dev_is_valid_port(i))
				rte_eth_dev_close(i);
			rte_mempool_free(pt->rx_mp);
			rte_mempool_free(pt->tx_mp);
			for (int k = 0; k < 2; k++)
				rte_mempool_free(pt->old_mp[k]);
			for (unsigned q = 0; q < DPDK_MAX_QUEUES; q++)
				rte_mempool_free(pt->zc_mp[q]);
			memset(pt, 0, sizeof(*pt));
		}
		/* The run directory the EAL made stays behind, empty with
		 * --no-shconf and --no-telemetry: removed unless another
		 * process with the same --file-prefix still has files there. */
		char dir[256];
		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		if (dir[0])
			rmdir(dir);
		eal.state = -1;
		snprintf(eal.failure, sizeof(eal.failure), "the EAL was cleaned up at exit");
	}
	pthread_mutex_unlock(&eal.lock);
}

static bool is_core_option(const char *a)
{
	return strncmp(a, "-l", 2) == 0 || strncmp(a, "-c", 2) == 0 || strncmp(a, "--lcores", 8) == 0;
}

/* Starts the EAL once per process. Called with eal.lock held. */
static int eal_start(char **argv, int argc, const char *joined, char *err, size_t errlen)
{
	if (eal.state == 1) {
		if (strcmp(eal.args, joined) != 0) {
			snprintf(err, errlen,
				 "dpdk: the EAL already runs in this process with other arguments ('%s'); every dpdk "
				 "device of a process must give the same ones",
				 eal.args);
			return -EBUSY;
		}
		return 0;
	}
	if (eal.state < 0) {
		snprintf(err, errlen, "dpdk: the EAL cannot start again in this process (%s)", eal.failure);
		return -EALREADY;
	}
	/* The EAL pins the calling thread to its main lcore; usnet's
	 * programs place their own threads (--cores), so the thread's mask
	 * is put back afterwards. Without a core option, the EAL would take
	 * every CPU as an lcore and start an idle thread on each: one lcore,
	 * the first this thread may run on, is enough. */
	cpu_set_t mask;
	bool have_mask = pthread_getaffinity_np(pthread_self(), sizeof(mask), &mask) == 0;
	char *av[DPDK_MAX_ARGS + 4];
	char lcore[16];
	int ac = 0;
	av[ac++] = (char *)"usnet";
	bool cores = false;
	for (int i = 0; i < argc; i++) {
		cores = cores || is_core_option(argv[i]);
		av[ac++] = argv[i];
	}
	if (!cores) {
		int cpu = 0;
		while (have_mask && cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &mask))
			cpu++;
		snprintf(lcore, sizeof(lcore), "%d", cpu);
		av[ac++] = (char *)"-l";
		av[ac++] = lcore;
	}
	av[ac] = NULL;
	int rc = rte_eal_init(ac, av);
	if (have_mask)
		pthread_setaffinity_np(pthread_self(), sizeof(mask), &mask);
	if (rc < 0) {
		int e = rte_errno ? rte_errno : EINVAL;
		eal.state = -1;
		snprintf(eal.failure, sizeof(eal.failure), "rte_eal_init failed: %s", rte_strerror(e));
		snprintf(err, errlen, "dpdk: EAL initialisation with '%s' failed: %s (the EAL's own messages above say why%s)",
			 joined, rte_strerror(e),
			 e == EACCES || e == EPERM ? "; without huge pages give --no-huge" : "");
		return -e;
	}
	eal.state = 1;
	snprintf(eal.args, sizeof(eal.args), "%s", joined);

	if (!eal.atexit_set && atexit(eal_at_exit) == 0)
		eal.atexit_set = true;
	return 0;
}

/* The data room of receive mbufs: DPDK's default (2 KB and headroom), or
 * for net_af_packet as much as its ring frames hold (devargs framesz):
 * that driver copies a frame into one mbuf and refuses mbufs smaller than
 * its frames, and the kernel hands its fanout group IP datagrams already
 * reassembled (PACKET_FANOUT_FLAG_DEFRAG), so a fragmented datagram comes
 * as one frame of up to framesz bytes. */
/* A number among the port's devargs (KEY "framesz="), or def. */
static unsigned long devarg_ul(const struct rte_eth_dev_info *di, const char *key, unsigned long def)
{
	const struct rte_devargs *da = di->device ? rte_dev_devargs(di->device) : NULL;
	const char *f = da && da->args ? strstr(da->args, key) : NULL;
	return f ? strtoul(f + strlen(key), NULL, 10) : def;
}

static uint16_t rx_data_room(const struct rte_eth_dev_info *di)
{
	unsigned long room = RTE_MBUF_DEFAULT_BUF_SIZE;
	if (strcmp(di->driver_name, "net_af_packet") == 0 && di->device) {
		unsigned long fs = devarg_ul(di, "framesz=", 0);
		if (fs + RTE_PKTMBUF_HEADROOM > room)
			room = fs + RTE_PKTMBUF_HEADROOM;
	}
	return (uint16_t)USN_MIN(room, (unsigned long)UINT16_MAX);
}

static struct rte_mempool *make_mempool(uint16_t port, const char *what, unsigned n, uint16_t priv, uint16_t room,
					char *err, size_t errlen)
{
	char mpname[RTE_MEMPOOL_NAMESIZE];
	snprintf(mpname, sizeof(mpname), "usn_%s%u_%u", what, port, n);
	int sock = rte_eth_dev_socket_id(port);
	struct rte_mempool *mp = rte_pktmbuf_pool_create(mpname, n, 0, priv, room, sock < 0 ? SOCKET_ID_ANY : sock);
	if (!mp)
		snprintf(err, errlen,
			 "dpdk: port %u: cannot make a %s mempool of %u mbufs of %u bytes: %s (give the EAL more "
			 "memory, -m)",
			 port, what, n, room, rte_strerror(rte_errno));
	return mp;
}

/* Configures the port with `queues` queue pairs and sets up its transmit
 * queues; each instance then sets up its receive queue (rxq_setup) and the
 * last starts the port (port_go). Called with eal.lock held. */
static int port_configure(uint16_t port, unsigned queues, unsigned mtu, char *err, size_t errlen)
{
	struct dpdk_port *pt = &eal.port[port];
	struct rte_eth_dev_info di;
	char name[RTE_ETH_NAME_MAX_LEN] = "?";
	rte_eth_dev_get_name_by_port(port, name);
	int rc = rte_eth_dev_info_get(port, &di);
	if (rc != 0) {
		snprintf(err, errlen, "dpdk: port %u (%s): no device information: %s", port, name, rte_strerror(-rc));
		return rc;
	}
	if (queues > di.max_rx_queues || queues > di.max_tx_queues) {
		snprintf(err, errlen,
			 "dpdk: port %u (%s, driver %s) has %u receive and %u transmit queues: it cannot carry %u "
			 "instances (--cores %u)%s",
			 port, name, di.driver_name, di.max_rx_queues, di.max_tx_queues, queues, queues,
			 strcmp(di.driver_name, "net_af_packet") == 0 ? "; net_af_packet takes qpairs=N" : "");
		return -EINVAL;
	}
	if (strcmp(di.driver_name, "net_af_packet") == 0) {
		/* The driver reads its ring's frames as if they were
		 * contiguous, which they are only when they tile each block:
		 * otherwise it stops receiving after the first block. */
		unsigned long fs = devarg_ul(&di, "framesz=", 2048), bs = devarg_ul(&di, "blocksz=", 4096);
		if (fs == 0 || bs % fs != 0) {
			snprintf(err, errlen,
				 "dpdk: port %u (%s): net_af_packet's blocksz=%lu is not a multiple of its framesz=%lu "
				 "(the driver then loses frames; for example framesz=1920,blocksz=61440)",
				 port, name, bs, fs);
			return -EINVAL;
		}
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	uint64_t want_rss = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
	if (queues > 1 && (di.flow_type_rss_offloads & want_rss)) {
		/* Flows spread by the port's hash; without it, the driver's
		 * own spreading (net_af_packet: the kernel's fanout hash). */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = di.flow_type_rss_offloads & want_rss;
	}
	const char *off = getenv("USNET_OFFLOAD");
	bool tx_off_ok = !(off && strcmp(off, "0") == 0);
	conf.rxmode.offloads = di.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
						    RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	conf.txmode.offloads = di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (tx_off_ok)
		conf.txmode.offloads |= di.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
							     RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO);
	/* TSO needs the IPv4 sum, the TCP sum and frames as chains. */
	uint64_t tso_needs = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if ((conf.txmode.offloads & tso_needs) != tso_needs)
		conf.txmode.offloads &= ~RTE_ETH_TX_OFFLOAD_TCP_TSO;
	/* A restart (all instances closed, then a new one): stop and
	 * reconfigure; queue setup releases the old queues. */
	rc = rte_eth_dev_configure(port, (uint16_t)queues, (uint16_t)queues, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "dpdk: port %u (%s): rte_eth_dev_configure with %u queue pairs: %s", port, name,
			 queues, rte_strerror(-rc));
		return rc;
	}
	uint16_t nrx = DPDK_NB_DESC, ntx = DPDK_NB_DESC;
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	/* A restart with more queues makes a bigger transmit mempool (and
	 * rxq_setup a bigger copy-mode receive one): the old ones are freed
	 * when the port starts again, every queue set up anew by then. */
	unsigned tx_need = queues * (ntx + 2u * DPDK_BURST) + 256u;
	if (!pt->tx_mp || pt->tx_size < tx_need) {
		struct rte_mempool *mp = make_mempool(port, "tx", tx_need, (uint16_t)DPDK_PRIV_SIZE,
						      RTE_MBUF_DEFAULT_BUF_SIZE, err, errlen);
		if (!mp)
			return -ENOMEM;
		rte_mempool_free(pt->old_mp[1]);
		pt->old_mp[1] = pt->tx_mp;
		pt->tx_mp = mp;
		pt->tx_size = tx_need;
	}
	pt->configured = true;
	int sock = rte_eth_dev_socket_id(port);
	unsigned s = sock < 0 ? (unsigned)SOCKET_ID_ANY : (unsigned)sock;
	for (unsigned q = 0; q < queues; q++) {
		rc = rte_eth_tx_queue_setup(port, (uint16_t)q, ntx, s, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "dpdk: port %u (%s): transmit queue %u setup: %s%s", port, name, q,
				 rte_strerror(-rc),
				 strcmp(di.driver_name, "net_af_packet") == 0 ? " (see the EAL's message above)" : "");
			return rc;
		}
	}
	pt->pending = true;
	pt->rxq_ready = 0;
	pt->nrx = nrx;
	pt->ntx = ntx;
	pt->mtu = mtu;
	pt->queues = queues;
	pt->rx_off = conf.rxmode.offloads;
	pt->tx_off = conf.txmode.offloads;
	return 0;
}

/* How many slots of its pool an instance lends to its receive mempool
 * (rx=pool): the port's ring and two bursts, and room for frames the stack
 * keeps a while (datagrams queued to a socket, fragments, an ARP wait). */
static uint32_t zc_slots(const struct dpdk_port *pt)
{
	return pt->nrx + 2u * DPDK_BURST + 512u;
}

/* Why receiving into the instance's pool cannot work on this port (NULL
 * when it can): written to why[]. */
static const char *pool_rx_unfit(uint16_t port, const struct dpdk_port *pt, const struct usn_pool *p, char *why,
				 size_t whylen)
{
	struct rte_eth_dev_info di;
	if (rte_eth_dev_info_get(port, &di) != 0)
		return snprintf(why, whylen, "no device information"), why;
	if (strcmp(di.driver_name, "net_ring") == 0)
		return snprintf(why, whylen, "net_ring hands over the sender's own mbufs"), why;
	if (p->buf_size > UINT16_MAX || p->buf_size <= RTE_PKTMBUF_HEADROOM)
		return snprintf(why, whylen, "the pool's %u-byte slots cannot be mbufs", p->buf_size), why;
	unsigned room = p->buf_size - RTE_PKTMBUF_HEADROOM, need;
	if (strcmp(di.driver_name, "net_af_packet") == 0) {
		/* It refuses mbufs smaller than its ring frames less 32 bytes
		 * (framesz, 2048 unless given). */
		unsigned long fs = devarg_ul(&di, "framesz=", 2048);
		need = fs > 32 ? (unsigned)USN_MIN(fs - 32, (unsigned long)UINT16_MAX) : 0;
		if (need > room)
			return snprintf(why, whylen,
					"net_af_packet's ring frames (framesz=%lu) need mbufs of %u bytes, a slot holds %u "
					"(give framesz=%u,blocksz=%u)",
					fs, need, room, room, room * 32), why;
	} else {
		uint16_t mtu = 1500;
		if (pt->mtu)
			mtu = (uint16_t)pt->mtu;
		else if (rte_eth_dev_get_mtu(port, &mtu) != 0 || mtu == 0)
			mtu = 1500;
		need = mtu + DPDK_ETH_HLEN + 8u; /* a VLAN tag and the FCS */
		if (need > room)
			return snprintf(why, whylen, "frames of MTU %u need %u bytes, a slot holds %u", mtu, need, room),
			       why;
	}
	uint32_t n = zc_slots(pt);
	if (p->dev_count)
		return snprintf(why, whylen, "the pool already lends slots to a device"), why;
	if (n > p->count / 2)
		return snprintf(why, whylen, "the pool's %u buffers cannot spare %u (half at most)", p->count, n), why;
	return NULL;
}

/* Sets up receive queue x->queue: from a mempool over the instance's pool
 * (rx=pool) or from the port's copy-mode mempool. want: 1 rx=pool, 0
 * rx=copy, -1 pool where it fits. Called with eal.lock held. */
static int rxq_setup(struct usn_dev_dpdk *x, int want, char *err, size_t errlen)
{
	struct dpdk_port *pt = &eal.port[x->port];
	struct usn_pool *p = x->dev.pool;
	char why[200];
	const char *unfit = want == 0 ? "rx=copy" : pool_rx_unfit(x->port, pt, p, why, sizeof(why));
	if (unfit && want == 1) {
		snprintf(err, errlen, "dpdk: port %u: rx=pool: %s", x->port, unfit);
		return -EINVAL;
	}
	int sock = rte_eth_dev_socket_id(x->port);
	unsigned s = sock < 0 ? (unsigned)SOCKET_ID_ANY : (unsigned)sock;
	struct rte_mempool *mp;
	if (!unfit) {
		uint32_t n = zc_slots(pt), first;
		int rc = usn_pool_dev_take(p, n, rx_give_back, x, &first);
		if (rc < 0) {
			snprintf(err, errlen, "dpdk: port %u: rx=pool: the pool cannot lend %u slots: %s", x->port, n,
				 strerror(-rc));
			return rc;
		}
		x->zc_mbuf = calloc(n, sizeof(*x->zc_mbuf));
		struct rte_pktmbuf_extmem em = {
			.buf_ptr = usn_buf_slot(p, first),
			.buf_iova = iova_of(usn_buf_slot(p, first)),
			.buf_len = (size_t)n * p->buf_size,
			.elt_size = (uint16_t)p->buf_size,
		};
		char mpname[RTE_MEMPOOL_NAMESIZE];
		snprintf(mpname, sizeof(mpname), "usn_zc%u_%u_%u", x->port, x->queue, ++eal.serial);
		mp = x->zc_mbuf ? rte_pktmbuf_pool_create_extbuf(mpname, n, 0, 0, (uint16_t)p->buf_size,
								 sock < 0 ? SOCKET_ID_ANY : sock, &em, 1)
				: NULL;
		if (!mp) {
			snprintf(err, errlen,
				 "dpdk: port %u: rx=pool: cannot make a mempool of %u mbufs over the pool: %s (give the "
				 "EAL more memory, -m)",
				 x->port, n, x->zc_mbuf ? rte_strerror(rte_errno) : "out of memory");
			usn_pool_dev_release(p);
			free(x->zc_mbuf);
			x->zc_mbuf = NULL;
			return -ENOMEM;
		}
		x->zc_mp = mp;
		x->zc_first = first;
		x->zc_count = n;
	} else {
		struct rte_eth_dev_info di;
		rte_eth_dev_info_get(x->port, &di);
		unsigned need = pt->queues * (pt->nrx + 2u * DPDK_BURST) + 256u;
		if (!pt->rx_mp || pt->rx_size < need) {
			mp = make_mempool(x->port, "rx", need, 0, rx_data_room(&di), err, errlen);
			if (!mp)
				return -ENOMEM;
			/* Queues of the last start may still name the old
			 * one: freed when the port starts again. */
			rte_mempool_free(pt->old_mp[0]);
			pt->old_mp[0] = pt->rx_mp;
			pt->rx_mp = mp;
			pt->rx_size = need;
		}
		mp = pt->rx_mp;
	}
	int rc = rte_eth_rx_queue_setup(x->port, x->queue, pt->nrx, s, NULL, mp);
	if (rc != 0) {
		snprintf(err, errlen, "dpdk: port %u: receive queue %u setup: %s", x->port, x->queue, rte_strerror(-rc));
		if (x->zc_mp) {
			rte_mempool_free(x->zc_mp);
			x->zc_mp = NULL;
			usn_pool_dev_release(p);
			free(x->zc_mbuf);
			x->zc_mbuf = NULL;
		}
		return rc;
	}
	pt->rxq_ready |= 1ull << x->queue;
	if (x->zc_mp) {
		rte_mempool_free(pt->zc_mp[x->queue]); /* a queue of an earlier start */
		pt->zc_mp[x->queue] = x->zc_mp;
		pt->rxq_pool |= 1ull << x->queue;
	} else {
		pt->rxq_pool &= ~(1ull << x->queue);
	}
	return 0;
}

/* Every receive queue is set up: the MTU, then start. Called with
 * eal.lock held. */
static int port_go(uint16_t port, char *err, size_t errlen)
{
	struct dpdk_port *pt = &eal.port[port];
	char name[RTE_ETH_NAME_MAX_LEN] = "?";
	rte_eth_dev_get_name_by_port(port, name);
	struct rte_eth_dev_info di;
	rte_eth_dev_info_get(port, &di);
	/* A driver without an MTU of its own (net_ring: -ENOTSUP) carries
	 * whatever it is given up to its max_mtu: usnet's limit is then
	 * mtu alone. */
	int rc;
	unsigned mtu = pt->mtu;
	if (mtu && (rc = rte_eth_dev_set_mtu(port, (uint16_t)mtu)) != 0 && !(rc == -ENOTSUP && mtu <= di.max_mtu)) {
		snprintf(err, errlen, "dpdk: port %u (%s): MTU %u: %s (the port takes %u..%u)", port, name, mtu,
			 rte_strerror(-rc), di.min_mtu, di.max_mtu);
		return rc;
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		snprintf(err, errlen, "dpdk: port %u (%s): rte_eth_dev_start: %s", port, name, rte_strerror(-rc));
		return rc;
	}
	for (int i = 0; i < 2; i++) {
		rte_mempool_free(pt->old_mp[i]);
		pt->old_mp[i] = NULL;
	}
	pt->started = true;
	pt->pending = false;
	atomic_store_explicit(&pt->running, true, memory_order_release);
	return 0;
}

static void dpdk_destroy(struct usn_dev *d)
{
	struct usn_dev_dpdk *x = dpdk_of(d);
	pthread_mutex_lock(&eal.lock);
	struct dpdk_port *pt = &eal.port[x->port];
	/* Buffers a NIC still holds for sending come back now, where the
	 * driver can say so. */
	if (x->lent)
		rte_eth_tx_done_cleanup(x->port, x->queue, 0);
	pt->queue_open &= ~(1ull << x->queue);
	bool quiet = false; /* nothing fills this queue's mbufs any more */
	if (pt->users > 0 && --pt->users == 0) {
		if (pt->started)
			rte_eth_dev_stop(x->port); /* the driver frees what its queues hold */
		pt->started = false;
		pt->pending = false; /* the next open configures it afresh */
		atomic_store_explicit(&pt->running, false, memory_order_release);
		/* The receive mempools over the instances' pools go now,
		 * before the pools do. */
		for (unsigned q = 0; q < DPDK_MAX_QUEUES; q++) {
			rte_mempool_free(pt->zc_mp[q]);
			pt->zc_mp[q] = NULL;
		}
		pt->rxq_pool = 0;
		quiet = true;
	} else if (x->zc_mp) {
		/* The others keep the port running: this queue is stopped
		 * where the driver can (its mempool is freed when the port
		 * stops); where it cannot (net_af_packet: nothing fills a
		 * queue nobody polls, but a NIC would), the slots stay lent. */
		quiet = !pt->started || rte_eth_dev_rx_queue_stop(x->port, x->queue) == 0 ||
			strcmp(x->driver, "net_af_packet") == 0;
	}
	eal.devs--;
	pthread_mutex_unlock(&eal.lock);
	if (x->zc_mp && quiet)
		usn_pool_dev_release(x->dev.pool); /* the slots it holds, back to the pool */
	free(x->zc_mbuf);
	x->zc_mbuf = NULL;
	x->zc_mp = NULL;
	if (x->tfd >= 0)
		close(x->tfd);
	x->tfd = -1;
	if (x->lent) {
		/* Still lent (net_ring: frames in the ring nobody read): the
		 * callbacks must not touch the pool, which goes next; the
		 * last one frees the device. */
		x->dead = true;
		return;
	}
	free(x);
}

static const struct usn_dev_ops dpdk_ops = {
	.kind = "dpdk",
	.rx_burst = dpdk_rx_burst,
	.tx_burst = dpdk_tx_burst,
	.wait_fd = dpdk_wait_fd,
	.next_rx_time = NULL,
	.set_addr = NULL,
	.destroy = dpdk_destroy,
};

/* usnet's own words in the spec (dev_dpdk.h). 1: taken, 0: not ours,
 * negative: ours but bad. */
static int own_word(const char *w, long *port, int *tx_ref, int *rx_want, long *idle_us, long *mtu)
{
	const char *v;
	long *dst = NULL;
	if (strncmp(w, "port=", 5) == 0) {
		v = w + 5;
		dst = port;
	} else if (strncmp(w, "mtu=", 4) == 0) {
		v = w + 4;
		dst = mtu;
	} else if (strncmp(w, "idle-us=", 8) == 0) {
		v = w + 8;
		dst = idle_us;
	} else if (strcmp(w, "tx=ref") == 0) {
		*tx_ref = 1;
		return 1;
	} else if (strcmp(w, "tx=copy") == 0) {
		*tx_ref = 0;
		return 1;
	} else if (strcmp(w, "rx=pool") == 0) {
		*rx_want = 1;
		return 1;
	} else if (strcmp(w, "rx=copy") == 0) {
		*rx_want = 0;
		return 1;
	} else if (strncmp(w, "rx=", 3) == 0 || strncmp(w, "tx=", 3) == 0) {
		return -EINVAL; /* never the EAL's */
	} else {
		return 0;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno || n < 0 || n > 1000000)
		return -EINVAL;
	*dst = n;
	return 1;
}

int usn_dev_dpdk_open(const char *eal_args, struct usn_pool *pool, unsigned queue, unsigned queues,
		      struct usn_dev **ret, char *err, size_t errlen)
{
	*ret = NULL;
	char buf[1024], joined[512];
	if (strlen(eal_args) >= sizeof(buf)) {
		snprintf(err, errlen, "dpdk: the EAL arguments are longer than %zu bytes", sizeof(buf) - 1);
		return -E2BIG;
	}
	if (queues == 0 || queues > DPDK_MAX_QUEUES || queue >= queues) {
		snprintf(err, errlen, "dpdk: instance %u of %u: at most %d instances per port", queue, queues,
			 DPDK_MAX_QUEUES);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", eal_args);
	char *argv[DPDK_MAX_ARGS];
	int argc = 0;
	long port_want = -1, idle_us = 1000, mtu = 0;
	int tx_ref = -1, rx_want = -1;
	size_t jl = 0;
	joined[0] = '\0';
	for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		int o = own_word(w, &port_want, &tx_ref, &rx_want, &idle_us, &mtu);
		if (o < 0 || (strncmp(w, "mtu=", 4) == 0 && (mtu < 68 || mtu > 65535))) {
			snprintf(err, errlen,
				 "dpdk: '%s': expected port=N, mtu=N (68..65535), idle-us=N (0..1000000), tx=ref, "
				 "tx=copy, rx=pool or rx=copy",
				 w);
			return -EINVAL;
		}
		if (o > 0)
			continue;
		if (argc == DPDK_MAX_ARGS) {
			snprintf(err, errlen, "dpdk: more than %d EAL arguments", DPDK_MAX_ARGS);
			return -E2BIG;
		}
		argv[argc++] = w;
		int k = snprintf(joined + jl, sizeof(joined) - jl, "%s%s", jl ? " " : "", w);
		if (k < 0 || (size_t)k >= sizeof(joined) - jl) {
			snprintf(err, errlen, "dpdk: the EAL arguments are too long");
			return -E2BIG;
		}
		jl += (size_t)k;
	}

	pthread_mutex_lock(&eal.lock);
	int rc = eal_start(argv, argc, joined, err, errlen);
	if (rc < 0)
		goto unlock;
	uint16_t port = 0;
	if (port_want >= 0) {
		if (port_want >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port((uint16_t)port_want)) {
			snprintf(err, errlen, "dpdk: no port %ld (%u port%s: EAL arguments '%s')", port_want,
				 rte_eth_dev_count_avail(), rte_eth_dev_count_avail() == 1 ? "" : "s", joined);
			rc = -ENODEV;
			goto unlock;
		}
		port = (uint16_t)port_want;
	} else {
		bool found = false;
		uint16_t p;
		RTE_ETH_FOREACH_DEV(p)
		{
			if (!found) {
				port = p;
				found = true;
			}
		}
		if (!found) {
			snprintf(err, errlen,
				 "dpdk: no port: the EAL found no device with '%s' (a NIC bound to a DPDK driver, or "
				 "--vdev=net_af_packet0,iface=IFNAME)",
				 joined);
			rc = -ENODEV;
			goto unlock;
		}
	}
	struct dpdk_port *pt = &eal.port[port];
	if ((pt->started || pt->pending) && pt->queues != queues) {
		snprintf(err, errlen, "dpdk: port %u already runs %u queue pairs in this process, not %u", port,
			 pt->queues, queues);
		rc = -EBUSY;
		goto unlock;
	}
	if (pt->queue_open & (1ull << queue)) {
		snprintf(err, errlen, "dpdk: port %u queue %u is already open in this process", port, queue);
		rc = -EBUSY;
		goto unlock;
	}
	if (pt->started && ((pt->rxq_pool & (1ull << queue)) || rx_want == 1)) {
		/* Reopened while the other instances run: the queue cannot
		 * be set up again on a running port. */
		snprintf(err, errlen,
			 "dpdk: port %u queue %u: cannot be opened again with rx=pool while the port's other queues "
			 "run (its receive mempool was over the pool of the instance that closed)",
			 port, queue);
		rc = -EBUSY;
		goto unlock;
	}
	if (!pt->started && !pt->pending && (rc = port_configure(port, queues, (unsigned)mtu, err, errlen)) < 0)
		goto unlock;

	struct usn_dev_dpdk *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "dpdk: out of memory");
		rc = -ENOMEM;
		goto unlock;
	}
	x->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (x->tfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "dpdk: timerfd_create: %s", strerror(errno));
		free(x);
		goto unlock;
	}
	struct rte_eth_dev_info di;
	rte_eth_dev_info_get(port, &di);
	const char *bus = di.device ? rte_bus_name(rte_dev_bus(di.device)) : "?";
	bool vdev = bus && strcmp(bus, "vdev") == 0;
	x->dev.ops = &dpdk_ops;
	x->dev.pool = pool;
	x->port = port;
	x->queue = (uint16_t)queue;
	x->running = &pt->running;
	snprintf(x->driver, sizeof(x->driver), "%s", di.driver_name ? di.driver_name : "?");
	if (!pt->started) {
		rc = rxq_setup(x, rx_want, err, errlen);
		if (rc == 0 && pt->rxq_ready == (queues >= 64 ? ~0ull : (1ull << queues) - 1))
			rc = port_go(port, err, errlen);
		if (rc < 0) {
			if (x->zc_mp) {
				pt->zc_mp[queue] = NULL;
				pt->rxq_pool &= ~(1ull << queue);
				rte_mempool_free(x->zc_mp);
				usn_pool_dev_release(pool);
				free(x->zc_mbuf);
			}
			pt->rxq_ready &= ~(1ull << queue);
			close(x->tfd);
			free(x);
			goto unlock;
		}
	}
	x->mp = pt->tx_mp;
	x->idle_max_ns = (uint64_t)idle_us * 1000u;
	x->rx_off = pt->rx_off;
	x->tx_off = pt->tx_off;
	x->multiseg = (pt->tx_off & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	x->max_segs = di.tx_desc_lim.nb_seg_max ? di.tx_desc_lim.nb_seg_max : 1;
	if (di.tx_desc_lim.nb_mtu_seg_max && di.tx_desc_lim.nb_mtu_seg_max < x->max_segs)
		x->max_segs = di.tx_desc_lim.nb_mtu_seg_max;
	x->tx_ref = tx_ref >= 0 ? tx_ref == 1 : vdev && strcmp(di.driver_name, "net_ring") != 0;
	char pname[RTE_ETH_NAME_MAX_LEN];
	if (rte_eth_dev_get_name_by_port(port, pname) == 0)
		snprintf(x->dev.name, sizeof(x->dev.name), "%.*s", (int)sizeof(x->dev.name) - 1, pname);
	uint16_t port_mtu = 1500;
	if (pt->mtu)
		port_mtu = (uint16_t)pt->mtu;
	else if (rte_eth_dev_get_mtu(port, &port_mtu) != 0 || port_mtu == 0)
		port_mtu = 1500;
	/* The largest frame to send: the port's limit, and what one mbuf
	 * holds unless frames may be chains. */
	uint32_t room = rte_pktmbuf_data_room_size(pt->tx_mp) - RTE_PKTMBUF_HEADROOM;
	uint32_t max_frame = port_mtu + DPDK_ETH_HLEN;
	if (di.max_rx_pktlen && di.max_rx_pktlen - 4u < max_frame)
		max_frame = di.max_rx_pktlen - 4u; /* without the FCS */
	if (!x->multiseg && max_frame > room)
		max_frame = room;
	x->max_tx_frame = max_frame;
	/* Received frames are taken up to an IPv4 datagram's limit, not the
	 * MTU: net_af_packet hands up datagrams the kernel reassembled (see
	 * rx_data_room), and the stack takes a datagram in one frame. */
	x->max_rx_frame = 65535u + DPDK_ETH_HLEN + 4u;
	x->dev.mtu = max_frame - DPDK_ETH_HLEN;
	x->dev.offloads = USN_DEV_OFF_SG; /* chains are taken, lent or copied */
	if (x->rx_off & (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM))
		x->dev.offloads |= USN_DEV_OFF_RX_CSUM;
	if ((x->tx_off & (RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) ==
	    (RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM))
		x->dev.offloads |= USN_DEV_OFF_TX_CSUM;
	if ((x->dev.offloads & USN_DEV_OFF_TX_CSUM) && (x->tx_off & RTE_ETH_TX_OFFLOAD_TCP_TSO))
		x->dev.offloads |= USN_DEV_OFF_TSO;
	/* The port's own MAC is the one its filters take: usnet uses it
	 * (dev.h, use_hwaddr). A port without one (net_ring, or net_af_packet
	 * on an interface with none) leaves the stack its random MAC, and
	 * the port must then take every frame. */
	struct rte_ether_addr ea;
	if (rte_eth_macaddr_get(port, &ea) == 0 && rte_is_valid_assigned_ether_addr(&ea)) {
		memcpy(x->dev.hwaddr, ea.addr_bytes, 6);
		x->dev.has_hwaddr = true;
		x->dev.use_hwaddr = true;
	} else {
		rte_eth_promiscuous_enable(port); /* -ENOTSUP: it takes every frame anyway */
	}
	pt->queue_open |= 1ull << queue;
	pt->users++;
	eal.devs++;
	arm_wait(x);
	*ret = &x->dev;
	rc = 0;
unlock:
	pthread_mutex_unlock(&eal.lock);
	return rc;
}
