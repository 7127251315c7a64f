/* SPDX-License-Identifier: MIT */
/*
 * dev_afxdp.c - the AF_XDP backend (`--dev afxdp:IFNAME[@QUEUE]`), on
 * libxdp's xsk API. The UMEM is usnet's own buffer region: every pool slot
 * is one UMEM frame, so a received frame is processed in the buffer the
 * kernel wrote it to (named by its index, addr / slot size) and a frame is
 * sent from the buffer the stack filled. The fill ring is kept stocked with
 * free pool buffers, in batches; sent buffers return to the pool when the
 * completion ring gives them back. The rings use XDP_USE_NEED_WAKEUP, so
 * an idle stack sleeps in poll(2) on the socket and a busy one makes no
 * system call for frames already in the rings.
 *
 * The XDP program (bpf/usn_steer.bpf.c, compiled by clang and embedded)
 * steers only usnet's traffic to the socket: IPv4 to usnet's address and
 * ARP about it, once set_addr() writes that address into its map; the
 * kernel keeps everything else. It is attached through libxdp in native
 * mode where the driver has it (veth does), in generic (skb) mode
 * otherwise, or as USNET_XDP_MODE=native|skb says. The socket is bound in
 * zero-copy mode where the driver supports it (the NIC's DMA into usnet's
 * buffers), else in copy mode (veth; generic mode always copies), or as
 * USNET_XDP_BIND=zerocopy|copy says.
 *
 * Mode (b), sharing the kernel's address (share()): the program steers to
 * usnet only TCP and UDP to the ports usnet owns (own_port(), a map the
 * program reads) and to its range for outgoing connections; ARP, ICMP and
 * every other port stay the kernel's, and usnet takes neighbours' MACs
 * from the kernel's table (share.c).
 * Several instances (--cores N): instance i has queue QUEUE + i, one
 * socket each, all in the one program's socket map (keyed by the receive
 * queue); instance 0 attaches the program, the others find it on the
 * interface (which needs CAP_SYS_ADMIN, held at start) and only add their
 * socket. Flows are spread by the NIC's receive queues (on veth: the
 * peer's transmit queue choice).
 *
 * Receive: one frame per buffer, no offloads: a frame larger than a slot
 * cannot be received (the MTU must leave room: 1500 fits 2 KB slots).
 * Transmit: AF_XDP has no segmentation or checksum offload and takes one
 * buffer per frame (no multi-buffer in copy mode), so every TCP segment
 * would go out at most an MSS long, summed by the stack, and a chain (a
 * header and lent file pages) copied into one slot first. So the device
 * also opens a packet socket for sending only (usn_afpacket_tx_socket:
 * protocol 0, PACKET_VNET_HDR, PACKET_QDISC_BYPASS) and says it has
 * checksum and segmentation offload and takes chains: every TCP and UDP
 * frame (the stack leaves their sums to the device then) and every chain
 * goes out through it, gathered from the buffers (no copy in usnet), TCP
 * frames up to 64 KB segmented by the kernel (as a NIC would: GSO, or a
 * veth peer takes them whole); the AF_XDP ring sends the rest (ARP, ICMP).
 * Frames go out in the stack's order: each run of frames for one path is
 * sent before the next run starts. USNET_XDP_TX=xdp, or a packet socket
 * that cannot be made, leaves everything to the ring (no offloads,
 * chains copied); so does the first frame the kernel refuses even when
 * tried again (DEV_TX_OFFLOAD_OFF): with the qdisc bypassed nothing
 * queues the socket's frames, and a veth whose peer runs XDP holds only
 * 256 (a 64 KB frame is 44), where the ring keeps frames until the
 * kernel takes them.
 * libxdp needs a bpffs (LIBXDP_BPFFS when /sys/fs/bpf is not one, as
 * inside `ip netns exec`); the UMEM is locked memory (RLIMIT_MEMLOCK or
 * CAP_IPC_LOCK); attaching and detaching the program need CAP_NET_ADMIN
 * and CAP_BPF (or CAP_SYS_ADMIN), which a program keeps to detach it at
 * exit. It is not a protocol implementation and never reads a clock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "dev_afpacket.h"
#include "dev_afxdp.h"
#include "share.h"
#include "util.h"

/* Descriptors per ring: half the pool (8192 with the default 16384
 * buffers), up to 16384. A client or server with thousands of
 * connections gets bursts of thousands of frames (every connection's
 * answer to one burst of requests or SYNs): with 2048, usnet-load -c
 * 10000 saw the kernel drop 38 000 frames in 6 s on its full receive
 * ring (DEV_RX_DROP_RING), most of a burst of SYN-ACKs among them, and
 * 15 000 connection attempts time out; with 8192 and usnet-load's
 * --max-connecting, none time out (35 000 drops, recovered by TLP); with
 * --nbufs 65536 (16384 descriptors) 1900 drops, all while connecting. */
#define XDP_RING_MAX 16384
#define XDP_RING_MIN 64
#define XDP_FILL_BATCH 64

extern const unsigned char usn_steer_obj[];
extern const unsigned long usn_steer_obj_len;

struct usn_dev_xdp {
	struct usn_dev dev;
	int ifindex;
	uint32_t queue;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xdp_program *prog;
	struct bpf_object *obj; /* ours: a program made from it does not own it */
	enum xdp_attach_mode mode;
	bool attached;      /* this instance attached the program (and detaches it) */
	bool several;       /* one of several instances */
	bool zerocopy;      /* bound in zero-copy mode */
	int addr_map_fd;
	int share_map_fd, ports_map_fd;
	int xsks_fd;
	int found_fds[8];   /* fds of a program found on the interface, and its maps */
	int nfound;
	struct usn_share *share;
	uint32_t in_kernel; /* buffers lent to the fill ring or in flight on tx */
	uint32_t ring;      /* descriptors per ring (a power of two) */
	int pfd;            /* the packet socket for TCP, UDP and chains, or -1 */
};

static struct usn_dev_xdp *xdp_of(struct usn_dev *d)
{
	return USN_CONTAINER_OF(d, struct usn_dev_xdp, dev);
}

static uint64_t buf_addr(const struct usn_pool *p, uint32_t idx)
{
	return (uint64_t)idx * p->buf_size;
}

/* Keeps the fill ring full of free pool buffers for receiving (so the
 * buffers lent to the kernel are a constant share of the pool, not a
 * number that drifts with traffic), leaving the stack at least 3/4 of the
 * pool. */
static void refill(struct usn_dev_xdp *x)
{
	struct usn_pool *p = x->dev.pool;
	uint32_t want = xsk_prod_nb_free(&x->fill, x->ring);
	if (p->nfree < want + p->count / 4)
		want = p->nfree > p->count / 4 ? p->nfree - p->count / 4 : 0;
	if (want == 0)
		return;
	uint32_t pos;
	uint32_t n = xsk_ring_prod__reserve(&x->fill, want, &pos);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t b = usn_buf_alloc(p);
		if (b == USN_BUF_NONE) {
			/* cannot happen (nfree checked), but never give the
			 * kernel garbage: point it at nothing new */
			n = i;
			break;
		}
		*xsk_ring_prod__fill_addr(&x->fill, pos + i) = buf_addr(p, b);
		x->in_kernel++;
	}
	xsk_ring_prod__submit(&x->fill, n);
	if (xsk_ring_prod__needs_wakeup(&x->fill))
		recvfrom(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* Buffers the kernel has sent go back to the pool. */
static void complete(struct usn_dev_xdp *x)
{
	struct usn_pool *p = x->dev.pool;
	uint32_t pos;
	uint32_t n = xsk_ring_cons__peek(&x->comp, x->ring, &pos);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = *xsk_ring_cons__comp_addr(&x->comp, pos + i);
		usn_buf_free(p, (uint32_t)(a / p->buf_size));
		x->in_kernel--;
	}
	xsk_ring_cons__release(&x->comp, n);
}

static int xdp_rx_burst(struct usn_dev *d, uint32_t *ret_bufs, int max, uint64_t now)
{
	struct usn_dev_xdp *x = xdp_of(d);
	struct usn_pool *p = d->pool;
	(void)now;
	complete(x);
	uint32_t pos;
	uint32_t n = xsk_ring_cons__peek(&x->rx, (uint32_t)max, &pos);
	int got = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&x->rx, pos + i);
		uint64_t a = xsk_umem__extract_addr(desc->addr);
		uint64_t off = xsk_umem__extract_offset(desc->addr) + (a % p->buf_size);
		uint32_t b = (uint32_t)(a / p->buf_size);
		x->in_kernel--;
		if (b >= p->count || off + desc->len > p->buf_size) {
			d->stats.rx_errors++; /* the kernel's word, but checked */
			if (b < p->count)
				usn_buf_free(p, b);
			continue;
		}
		struct usn_buf_meta *m = usn_buf_meta(p, b);
		m->off = (uint32_t)off;
		m->len = desc->len;
		d->stats.rx_frames++;
		d->stats.rx_bytes += desc->len;
		ret_bufs[got++] = b;
	}
	xsk_ring_cons__release(&x->rx, n);
	refill(x);
	return got;
}

/* A chain as one buffer (AF_XDP without multi-buffer takes one). */
static uint32_t linearize(struct usn_pool *p, uint32_t head)
{
	if (usn_buf_meta(p, head)->next == USN_BUF_NONE && !(usn_buf_meta(p, head)->flags & USN_BUF_F_EXT))
		return head;
	size_t len = usn_buf_chain_len(p, head);
	uint32_t b = usn_buf_alloc(p);
	if (b == USN_BUF_NONE)
		return USN_BUF_NONE;
	if (len > usn_buf_tailroom(p, b)) {
		usn_buf_free(p, b);
		return USN_BUF_NONE;
	}
	usn_buf_chain_copy(p, head, 0, usn_buf_put(p, b, (uint32_t)len), len);
	usn_buf_free_chain(p, head);
	return b;
}

/* Makes the kernel send what the TX ring holds. In copy mode one sendto()
 * sends at most the socket's TX budget (32 frames by default, then
 * EAGAIN), and nothing else sends the rest until the next kick: the frames
 * of a larger burst would wait in the ring for later traffic, or for a
 * poll() that in copy mode sends another 32 when it is called (a second
 * later when idle). So it is kicked again while frames remain and the
 * kernel takes some (a full completion ring also gives EAGAIN). */
static void kick_tx(struct usn_dev_xdp *x)
{
	int fd = xsk_socket__fd(x->xsk);
	for (uint32_t i = 0; i < x->ring / 32 + 1; i++) {
		uint32_t left = x->ring - xsk_prod_nb_free(&x->tx, x->ring);
		if (i > 0 && left == 0)
			return;
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return;
		if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS) {
			x->dev.stats.tx_errors++;
			return;
		}
		if (x->ring - xsk_prod_nb_free(&x->tx, x->ring) == left && i > 0)
			return; /* no progress: completions first */
	}
}

/* Sends frames on the AF_XDP ring. */
static int ring_send(struct usn_dev_xdp *x, const uint32_t *bufs, int n)
{
	struct usn_dev *d = &x->dev;
	struct usn_pool *p = d->pool;
	int sent = 0;
	for (int base = 0; base < n; base += XDP_FILL_BATCH) {
		uint32_t ready[XDP_FILL_BATCH];
		uint32_t k = 0;
		for (int i = base; i < n && i < base + XDP_FILL_BATCH; i++) {
			uint32_t b = linearize(p, bufs[i]);
			if (b == USN_BUF_NONE) {
				d->stats.tx_drop++;
				usn_buf_free_chain(p, bufs[i]);
				continue;
			}
			ready[k++] = b;
		}
		uint32_t pos;
		uint32_t room = xsk_ring_prod__reserve(&x->tx, k, &pos);
		for (uint32_t i = 0; i < k; i++) {
			if (i >= room) {
				d->stats.tx_drop++; /* the ring is full, as a NIC's */
				usn_buf_free(p, ready[i]);
				continue;
			}
			struct xdp_desc *desc = xsk_ring_prod__tx_desc(&x->tx, pos + i);
			desc->addr = buf_addr(p, ready[i]) + usn_buf_meta(p, ready[i])->off;
			desc->len = usn_buf_len(p, ready[i]);
			desc->options = 0;
			d->stats.tx_frames++;
			d->stats.tx_bytes += desc->len;
			x->in_kernel++;
			sent++;
		}
		xsk_ring_prod__submit(&x->tx, room);
	}
	if (sent && xsk_ring_prod__needs_wakeup(&x->tx))
		kick_tx(x);
	return sent;
}

/* Whether a frame goes through the packet socket (file comment). */
static bool via_packet(const struct usn_pool *p, uint32_t head)
{
	const struct usn_buf_meta *m = &p->meta[head];
	return (m->flags & (USN_BUF_F_TX_CSUM | USN_BUF_F_TSO | USN_BUF_F_EXT)) || m->next != USN_BUF_NONE;
}

static int xdp_tx_burst(struct usn_dev *d, const uint32_t *bufs, int n, uint64_t now)
{
	struct usn_dev_xdp *x = xdp_of(d);
	struct usn_pool *p = d->pool;
	(void)now;
	complete(x);
	if (x->pfd < 0)
		return ring_send(x, bufs, n);
	/* Runs of frames for one path, in order. */
	int sent = 0;
	uint64_t drops = d->stats.tx_drop;
	for (int i = 0; i < n;) {
		bool pk = via_packet(p, bufs[i]);
		int j = i + 1;
		while (j < n && via_packet(p, bufs[j]) == pk)
			j++;
		sent += pk ? usn_afpacket_send(x->pfd, d, bufs + i, j - i, USN_AFPACKET_MAX_FRAME)
			   : ring_send(x, bufs + i, j - i);
		i = j;
	}
	if (d->stats.tx_drop != drops && d->offloads) {
		/* The kernel would not take the packet socket's frames even
		 * when tried again (nothing queues them with the qdisc
		 * bypassed: a veth whose peer runs XDP holds 256 frames, and
		 * a 64 KB frame is 44 of them): from now on the offloads are
		 * off and everything goes through the ring, which keeps
		 * frames until the kernel takes them. Frames the stack built
		 * for the offloads still go through the socket. */
		d->offloads = 0;
		d->stats.tx_offload_off++;
	}
	return sent;
}

static int xdp_wait_fd(struct usn_dev *d)
{
	return xsk_socket__fd(xdp_of(d)->xsk);
}

static int xdp_set_addr(struct usn_dev *d, uint32_t addr, const uint8_t mac[6])
{
	struct usn_dev_xdp *x = xdp_of(d);
	(void)mac; /* frames are chosen by address; veth and NICs in XDP see every MAC */
	uint32_t key = 0, val = htonl(addr);
	if (bpf_map_update_elem(x->addr_map_fd, &key, &val, BPF_ANY) < 0)
		return -errno;
	return 0;
}

/* Mode (b): see share.h and the program's comment. */
struct usn_share_cfg {
	uint16_t eph_lo, eph_hi;
	uint32_t on;
};

static int xdp_share(struct usn_dev *d, uint32_t addr, uint16_t eph_lo, uint16_t eph_hi, char *err, size_t errlen)
{
	struct usn_dev_xdp *x = xdp_of(d);
	int rc = usn_share_open(d->name, addr, eph_lo, eph_hi, x->several, &x->share, err, errlen);
	if (rc < 0)
		return rc;
	uint32_t key = 0, val = htonl(addr);
	struct usn_share_cfg sc = {.eph_lo = eph_lo, .eph_hi = eph_hi, .on = 1};
	/* The mode first, then the address that turns steering on. */
	if (bpf_map_update_elem(x->share_map_fd, &key, &sc, BPF_ANY) < 0 ||
	    bpf_map_update_elem(x->addr_map_fd, &key, &val, BPF_ANY) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot write the XDP program's maps: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static int xdp_own_port(struct usn_dev *d, uint8_t proto, uint16_t port)
{
	struct usn_dev_xdp *x = xdp_of(d);
	if (!x->share)
		return -EINVAL;
	int rc = usn_share_own_port(x->share, proto, port);
	if (rc < 0)
		return rc;
	uint32_t key = port;
	uint8_t bits = 0;
	bpf_map_lookup_elem(x->ports_map_fd, &key, &bits);
	bits |= proto == 6 ? 1 : 2;
	return bpf_map_update_elem(x->ports_map_fd, &key, &bits, BPF_ANY) < 0 ? -errno : 0;
}

static int xdp_neigh_lookup(struct usn_dev *d, uint32_t addr, uint8_t ret_mac[6])
{
	struct usn_dev_xdp *x = xdp_of(d);
	return x->share ? usn_share_neigh(x->share, addr, ret_mac) : -EINVAL;
}

static void xdp_destroy(struct usn_dev *d)
{
	struct usn_dev_xdp *x = xdp_of(d);
	if (x->share) {
		/* Stop steering to this socket before it goes: the kernel
		 * gets those frames again (the other instances keep theirs). */
		uint32_t q = x->queue;
		if (x->xsks_fd >= 0)
			bpf_map_delete_elem(x->xsks_fd, &q);
		usn_share_close(x->share);
	}
	for (int i = 0; i < x->nfound; i++)
		close(x->found_fds[i]);
	if (x->pfd >= 0)
		close(x->pfd);
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->prog) {
		/* Detached through libbpf with the program's own fd (only if
		 * it is still ours): that needs CAP_NET_ADMIN alone, which a
		 * program keeps for this (libxdp's detach would look the
		 * program up by id, which needs CAP_SYS_ADMIN). */
		if (x->attached) {
			struct bpf_xdp_attach_opts o;
			memset(&o, 0, sizeof(o));
			o.sz = sizeof(o);
			o.old_prog_fd = xdp_program__fd(x->prog);
			uint32_t fl = x->mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
			bpf_xdp_detach(x->ifindex, fl, &o);
		}
		xdp_program__close(x->prog);
	}
	if (x->obj)
		bpf_object__close(x->obj);
	free(x);
}

/* The kernel's own counts for the socket (cumulative, not reset on read). */
static void xdp_read_stats(struct usn_dev *d)
{
	struct usn_dev_xdp *x = xdp_of(d);
	struct xdp_statistics st;
	socklen_t len = sizeof(st);
	memset(&st, 0, sizeof(st));
	if (getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
		return;
	d->stats.rx_drop_ring = st.rx_ring_full;
	d->stats.rx_drop_kernel = st.rx_dropped; /* no buffer on the fill ring, mostly */
}

static const struct usn_dev_ops xdp_ops = {
	.kind = "afxdp",
	.rx_burst = xdp_rx_burst,
	.tx_burst = xdp_tx_burst,
	.wait_fd = xdp_wait_fd,
	.next_rx_time = NULL,
	.set_addr = xdp_set_addr,
	.share = xdp_share,
	.own_port = xdp_own_port,
	.neigh_lookup = xdp_neigh_lookup,
	.read_stats = xdp_read_stats,
	.destroy = xdp_destroy,
};

/* libbpf and libxdp narrate their fallbacks (no dispatcher here, see the
 * file comment) on stderr; the outcome is reported by the caller, so they
 * speak only with USNET_XDP_DEBUG set. */
__attribute__((format(printf, 2, 0))) static int quiet_libbpf(enum libbpf_print_level level, const char *fmt,
								 va_list ap)
{
	(void)level;
	return getenv("USNET_XDP_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

__attribute__((format(printf, 2, 0))) static int quiet_libxdp(enum libxdp_print_level level, const char *fmt,
								 va_list ap)
{
	(void)level;
	return getenv("USNET_XDP_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

/* For an instance after the first: the program the first attached, found
 * on the interface, and its maps (by name). 0 or -errno. */
static int find_program(struct usn_dev_xdp *x)
{
	struct bpf_xdp_query_opts q;
	memset(&q, 0, sizeof(q));
	q.sz = sizeof(q);
	if (bpf_xdp_query(x->ifindex, 0, &q) < 0)
		return -errno;
	uint32_t id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	x->mode = q.drv_prog_id ? XDP_MODE_NATIVE : XDP_MODE_SKB;
	if (!id)
		return -ENOENT;
	int pfd = bpf_prog_get_fd_by_id(id);
	if (pfd < 0)
		return -errno;
	x->found_fds[x->nfound++] = pfd;
	uint32_t map_ids[6];
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 6;
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(pfd, &info, &len) < 0)
		return -errno;
	if (strcmp(info.name, "usn_steer") != 0)
		return -EBUSY; /* another program has the interface */
	for (uint32_t i = 0; i < info.nr_map_ids && i < 6 && x->nfound < 8; i++) {
		int mfd = bpf_map_get_fd_by_id(map_ids[i]);
		if (mfd < 0)
			return -errno;
		x->found_fds[x->nfound++] = mfd;
		struct bpf_map_info mi;
		memset(&mi, 0, sizeof(mi));
		uint32_t mlen = sizeof(mi);
		if (bpf_obj_get_info_by_fd(mfd, &mi, &mlen) < 0)
			return -errno;
		if (strcmp(mi.name, "usn_xsks") == 0)
			x->xsks_fd = mfd;
		else if (strcmp(mi.name, "usn_addr") == 0)
			x->addr_map_fd = mfd;
		else if (strcmp(mi.name, "usn_share") == 0)
			x->share_map_fd = mfd;
		else if (strcmp(mi.name, "usn_ports") == 0)
			x->ports_map_fd = mfd;
	}
	return 0;
}

int usn_dev_afxdp_open(const char *spec, struct usn_pool *pool, unsigned instance, unsigned instances,
		       struct usn_dev **ret, char *err, size_t errlen)
{
	libbpf_set_print(quiet_libbpf);
	libxdp_set_print(quiet_libxdp);
	*ret = NULL;
	char ifname[IFNAMSIZ];
	const char *at = strchr(spec, '@');
	size_t nl = at ? (size_t)(at - spec) : strlen(spec);
	uint32_t queue = 0;
	if (nl == 0 || nl >= sizeof(ifname)) {
		snprintf(err, errlen, "afxdp:%s: expected IFNAME or IFNAME@QUEUE", spec);
		return -EINVAL;
	}
	memcpy(ifname, spec, nl);
	ifname[nl] = '\0';
	if (at) {
		char *end;
		unsigned long q = strtoul(at + 1, &end, 10);
		if (!at[1] || *end || q > 63) {
			snprintf(err, errlen, "afxdp:%s: the queue must be 0..63", spec);
			return -EINVAL;
		}
		queue = (uint32_t)q;
	}
	if (queue + instance > 63) {
		snprintf(err, errlen, "afxdp:%s: instance %u would need queue %u (0..63)", spec, instance, queue + instance);
		return -EINVAL;
	}
	if (pool->buf_size < 2048 || (pool->buf_size & (pool->buf_size - 1)) || ((uintptr_t)pool->base & 4095)) {
		snprintf(err, errlen, "afxdp:%s: the buffer pool cannot be a UMEM (slots of %u bytes)", spec,
			 pool->buf_size);
		return -EINVAL;
	}
	struct usn_dev_xdp *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "afxdp:%s: out of memory", spec);
		return -ENOMEM;
	}
	x->dev.ops = &xdp_ops;
	x->dev.pool = pool;
	x->queue = queue + instance;
	x->several = instances > 1;
	x->addr_map_fd = x->share_map_fd = x->ports_map_fd = x->xsks_fd = x->pfd = -1;
	snprintf(x->dev.name, sizeof(x->dev.name), "%s", ifname);
	x->ifindex = (int)if_nametoindex(ifname);
	int rc = 0;
	const char *step = "";
	if (x->ifindex == 0) {
		snprintf(err, errlen, "afxdp:%s: no such interface", spec);
		free(x);
		return -ENODEV;
	}

	if (instance > 0) {
		step = "finding the XDP program instance 0 attached (needs CAP_SYS_ADMIN)";
		rc = find_program(x);
		if (rc < 0)
			goto fail;
		goto maps_found;
	}
	/* The steering program, from the object embedded at build time. */
	step = "loading the XDP program";
	struct bpf_object_open_opts oopts;
	memset(&oopts, 0, sizeof(oopts));
	oopts.sz = sizeof(oopts);
	oopts.object_name = "usn_steer";
	x->obj = bpf_object__open_mem(usn_steer_obj, usn_steer_obj_len, &oopts);
	if (!x->obj) {
		rc = -errno;
		goto fail;
	}
	x->prog = xdp_program__from_bpf_obj(x->obj, "xdp");
	if (libxdp_get_error(x->prog)) {
		rc = (int)libxdp_get_error(x->prog);
		x->prog = NULL;
		goto fail;
	}
	const char *mode_env = getenv("USNET_XDP_MODE");
	enum xdp_attach_mode modes[2] = {XDP_MODE_NATIVE, XDP_MODE_SKB};
	int nmodes = 2;
	if (mode_env && strcmp(mode_env, "skb") == 0) {
		modes[0] = XDP_MODE_SKB;
		nmodes = 1;
	} else if (mode_env && strcmp(mode_env, "native") == 0) {
		nmodes = 1;
	}
	step = "attaching the XDP program (libxdp; needs CAP_NET_ADMIN, CAP_BPF and a bpffs, see LIBXDP_BPFFS)";
	for (int i = 0; i < nmodes; i++) {
		rc = xdp_program__attach(x->prog, x->ifindex, modes[i], 0);
		if (rc == 0) {
			x->mode = modes[i];
			x->attached = true;
			break;
		}
	}
	if (!x->attached)
		goto fail;
	struct bpf_object *lobj = xdp_program__bpf_obj(x->prog);
	x->xsks_fd = bpf_object__find_map_fd_by_name(lobj, "usn_xsks");
	x->addr_map_fd = bpf_object__find_map_fd_by_name(lobj, "usn_addr");
	x->share_map_fd = bpf_object__find_map_fd_by_name(lobj, "usn_share");
	x->ports_map_fd = bpf_object__find_map_fd_by_name(lobj, "usn_ports");
maps_found:
	step = "finding the program's maps";
	if (x->xsks_fd < 0 || x->addr_map_fd < 0 || x->share_map_fd < 0 || x->ports_map_fd < 0) {
		rc = -ENOENT;
		goto fail;
	}

	/* The UMEM: the pool's whole region, one frame per slot. */
	x->ring = XDP_RING_MAX;
	while (x->ring > XDP_RING_MIN && x->ring > pool->count / 2)
		x->ring /= 2;
	struct xsk_umem_config ucfg = {
		.fill_size = x->ring,
		.comp_size = x->ring,
		.frame_size = pool->buf_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	/* Zero copy where the driver has it (the NIC writes into usnet's
	 * buffers; veth has not), else copy mode; USNET_XDP_BIND=copy or
	 * zerocopy forces one. A failed zero-copy bind leaves the UMEM's
	 * rings set up on its socket, so copy mode starts from a new UMEM. */
	const char *bind_env = getenv("USNET_XDP_BIND");
	bool try_zc = !(bind_env && strcmp(bind_env, "copy") == 0);
	bool need_zc = bind_env && strcmp(bind_env, "zerocopy") == 0;
	for (int attempt = 0; attempt < 2 && !x->xsk; attempt++) {
		bool zc = try_zc && attempt == 0;
		if (attempt == 1 && (need_zc || !try_zc))
			break;
		step = "registering the buffer pool as UMEM (locked memory: raise RLIMIT_MEMLOCK or hold CAP_IPC_LOCK)";
		rc = xsk_umem__create(&x->umem, pool->base, (uint64_t)pool->count * pool->buf_size, &x->fill, &x->comp,
				      &ucfg);
		if (rc)
			goto fail;
		struct xsk_socket_config scfg = {
			.rx_size = x->ring,
			.tx_size = x->ring,
			.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
			.xdp_flags = 0,
			.bind_flags = (uint16_t)(XDP_USE_NEED_WAKEUP | (zc ? XDP_ZEROCOPY : XDP_COPY)),
		};
		step = zc ? "creating the AF_XDP socket in zero-copy mode (the driver must support it)"
			  : "creating the AF_XDP socket (needs CAP_NET_RAW; for a queue above 0, ethtool -L first)";
		rc = xsk_socket__create(&x->xsk, ifname, x->queue, x->umem, &x->rx, &x->tx, &scfg);
		if (rc == 0) {
			x->zerocopy = zc;
			break;
		}
		x->xsk = NULL;
		xsk_umem__delete(x->umem);
		x->umem = NULL;
	}
	if (!x->xsk)
		goto fail;
	step = "adding the socket to the program's map";
	rc = xsk_socket__update_xskmap(x->xsk, x->xsks_fd);
	if (rc)
		goto fail;
	refill(x);
	/* A frame must fit a slot behind the kernel's XDP headroom. */
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int mfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t ifmtu = mfd >= 0 && ioctl(mfd, SIOCGIFMTU, &ifr) == 0 ? (uint32_t)ifr.ifr_mtu : 1500;
	if (mfd >= 0)
		close(mfd);
	uint32_t fit = pool->buf_size - XDP_PACKET_HEADROOM - 18;
	x->dev.mtu = ifmtu < fit ? ifmtu : fit;
	/* Offloads and chains through the packet socket (file comment);
	 * without it none: one buffer per frame, every checksum the
	 * stack's. */
	x->dev.offloads = 0;
	const char *txw = getenv("USNET_XDP_TX");
	const char *off = getenv("USNET_OFFLOAD");
	if (!(txw && strcmp(txw, "xdp") == 0)) {
		x->pfd = usn_afpacket_tx_socket(x->ifindex);
		if (x->pfd >= 0) {
			x->dev.offloads = USN_DEV_OFF_SG;
			if (!(off && strcmp(off, "0") == 0))
				x->dev.offloads |= USN_DEV_OFF_TX_CSUM | USN_DEV_OFF_TSO;
		}
	}
	x->dev.has_hwaddr = usn_share_hwaddr(ifname, x->dev.hwaddr) == 0;
	*ret = &x->dev;
	return 0;
fail:
	if (rc > 0)
		rc = -rc;
	if (rc == 0)
		rc = -EINVAL;
	snprintf(err, errlen, "afxdp:%s: %s: %s", spec, step, strerror(-rc));
	xdp_destroy(&x->dev);
	return rc;
}
