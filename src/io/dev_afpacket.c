/* SPDX-License-Identifier: MIT */
/*
 * dev_afpacket.c - the AF_PACKET backend: a packet socket bound to one
 * interface that the kernel keeps using for its own traffic.
 *
 * Receive: a TPACKET_V3 ring mapped into the process (blocks of 256 KB that
 * the kernel fills and hands over whole, or after 1 ms), each frame copied
 * once into pool buffers (the ring is the kernel's memory, not usnet's
 * region). A classic BPF filter, set when the stack tells the device its
 * address (set_addr), lets through only IPv4 frames to usnet's address and
 * ARP frames about it, so the kernel's own traffic is never copied up; the
 * kernel in turn ignores those frames (another host's address and MAC:
 * usnet answers ARP with its own MAC, which the interface is asked to
 * accept, PACKET_MR_UNICAST). Frames the kernel itself sends on the
 * interface are not seen (PACKET_IGNORE_OUTGOING).
 * Mode (b), sharing the kernel's address (share()): the filter lets
 * through only TCP and UDP to the shared address whose destination port
 * usnet owns (own_port(), or its range for outgoing connections), and as
 * a packet socket only gets copies, the kernel is told to drop those same
 * datagrams at its ingress hook (share.c, nftables) so it neither answers
 * them with resets nor sees them twice. ARP stays the kernel's.
 * Transmit: batched sendmmsg(2) with PACKET_QDISC_BYPASS (straight to the
 * driver, as a NIC's own queue), gathering chains of pool and lent (EXT)
 * buffers: no copy in usnet.
 * Offloads: with PACKET_VNET_HDR each frame carries a virtio-net header
 * both ways, as on the TAP: the kernel hands up TCP frames of up to 64 KB
 * (a veth peer's TSO) and takes them from usnet with only the pseudo-header
 * sum, segmenting and summing as its driver can.
 * It is not a protocol implementation and never reads a clock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dev_afpacket.h"
#include "share.h"
#include "vnet.h"
#include "util.h"

#define AFP_BLOCK_SIZE (1u << 18) /* holds the largest GSO frame */
#define AFP_BLOCK_NR 32u          /* 8 MB of ring */
#define AFP_FRAME_SIZE 2048u      /* only a sanity value for TPACKET_V3 */
#define AFP_RETIRE_MS 1u          /* a partly filled block is handed over after this */
#define AFP_ETH_HLEN 14u
#define AFP_MAX_GSO_FRAME (65535u + AFP_ETH_HLEN + 4u)
#define AFP_TX_BATCH 64
#define AFP_MAX_SEGS 64
#define AFP_TX_RETRIES 16

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct usn_dev_afp {
	struct usn_dev dev;
	int fd;
	int ifindex;
	uint8_t *ring;
	size_t ring_len;
	uint32_t cur_block; /* the block being read */
	uint32_t pkt_left;  /* frames left in it; 0: not started */
	uint8_t *pkt;       /* the next frame in it */
	uint8_t mac[6];
	bool mac_added;     /* PACKET_MR_UNICAST taken */
	uint32_t max_frame;
	bool fanout;
	uint32_t shared_addr;  /* mode (b): the kernel's address, host order */
	struct usn_share *share;
};

static struct usn_dev_afp *afp_of(struct usn_dev *d)
{
	return USN_CONTAINER_OF(d, struct usn_dev_afp, dev);
}

static struct tpacket_block_desc *block_at(struct usn_dev_afp *a, uint32_t i)
{
	return (struct tpacket_block_desc *)(void *)(a->ring + (size_t)i * AFP_BLOCK_SIZE);
}

/* Gives the current block back to the kernel and moves to the next. */
static void release_block(struct usn_dev_afp *a)
{
	struct tpacket_block_desc *bd = block_at(a, a->cur_block);
	/* The frames must be read before the kernel may overwrite them. */
	atomic_thread_fence(memory_order_release);
	bd->hdr.bh1.block_status = TP_STATUS_KERNEL;
	a->cur_block = (a->cur_block + 1) % AFP_BLOCK_NR;
	a->pkt_left = 0;
	a->pkt = NULL;
}

/* Copies one frame out of the ring into a chain of pool buffers. */
static uint32_t copy_frame(struct usn_dev_afp *a, const uint8_t *f, size_t len)
{
	struct usn_pool *p = a->dev.pool;
	uint32_t head = USN_BUF_NONE, tail = USN_BUF_NONE;
	size_t done = 0;
	while (done < len) {
		uint32_t b = usn_buf_alloc(p);
		if (b == USN_BUF_NONE) {
			if (head != USN_BUF_NONE)
				usn_buf_free_chain(p, head);
			return USN_BUF_NONE;
		}
		size_t k = usn_buf_tailroom(p, b);
		if (k > len - done)
			k = len - done;
		memcpy(usn_buf_put(p, b, (uint32_t)k), f + done, k);
		done += k;
		if (head == USN_BUF_NONE)
			head = b;
		else
			usn_buf_meta(p, tail)->next = b;
		tail = b;
	}
	return head;
}

static int afp_rx_burst(struct usn_dev *d, uint32_t *ret_bufs, int max, uint64_t now)
{
	struct usn_dev_afp *a = afp_of(d);
	int got = 0;
	(void)now;
	while (got < max) {
		struct tpacket_block_desc *bd = block_at(a, a->cur_block);
		if (a->pkt_left == 0) {
			if (!(bd->hdr.bh1.block_status & TP_STATUS_USER))
				break;
			atomic_thread_fence(memory_order_acquire);
			a->pkt_left = bd->hdr.bh1.num_pkts;
			a->pkt = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
			if (a->pkt_left == 0) {
				release_block(a);
				continue;
			}
		}
		struct tpacket3_hdr *h = (struct tpacket3_hdr *)(void *)a->pkt;
		/* Every offset comes from the kernel, but is checked against
		 * the block anyway: a bad one would read outside the ring. */
		size_t in_block = (size_t)(a->pkt - (uint8_t *)bd);
		if (in_block + sizeof(*h) > AFP_BLOCK_SIZE || h->tp_mac < sizeof(struct virtio_net_hdr) ||
		    in_block + h->tp_mac + h->tp_snaplen > AFP_BLOCK_SIZE) {
			d->stats.rx_errors++;
			release_block(a);
			continue;
		}
		const uint8_t *frame = a->pkt + h->tp_mac;
		struct virtio_net_hdr vh;
		memcpy(&vh, frame - sizeof(vh), sizeof(vh));
		if (h->tp_snaplen < h->tp_len || h->tp_len > a->max_frame) {
			d->stats.rx_drop_oversize++;
		} else {
			uint32_t b = copy_frame(a, frame, h->tp_snaplen);
			if (b == USN_BUF_NONE) {
				d->stats.rx_drop_nobuf++;
			} else {
				if (usn_vnet_rx_csum_ok(&vh))
					usn_buf_meta(d->pool, b)->flags |= USN_BUF_F_CSUM_OK;
				d->stats.rx_frames++;
				d->stats.rx_copied++;
				d->stats.rx_bytes += h->tp_snaplen;
				ret_bufs[got++] = b;
			}
		}
		if (--a->pkt_left == 0)
			release_block(a);
		else
			a->pkt += h->tp_next_offset;
	}
	return got;
}

int usn_afpacket_send(int fd, struct usn_dev *d, const uint32_t *bufs, int n, size_t max_frame)
{
	struct usn_pool *p = d->pool;
	int sent = 0;
	for (int base = 0; base < n; base += AFP_TX_BATCH) {
		int k = n - base < AFP_TX_BATCH ? n - base : AFP_TX_BATCH;
		struct mmsghdr msgs[AFP_TX_BATCH];
		struct iovec iov[AFP_TX_BATCH][AFP_MAX_SEGS + 1];
		struct virtio_net_hdr vh[AFP_TX_BATCH];
		size_t total[AFP_TX_BATCH];
		int m = 0;
		for (int i = 0; i < k; i++) {
			uint32_t head = bufs[base + i];
			int niov = 1;
			size_t t = 0;
			usn_vnet_tx_hdr(usn_buf_meta(p, head), &vh[m]);
			iov[m][0].iov_base = &vh[m];
			iov[m][0].iov_len = sizeof(vh[m]);
			for (uint32_t b = head; b != USN_BUF_NONE; b = usn_buf_meta(p, b)->next) {
				if (niov == AFP_MAX_SEGS + 1) {
					niov = -1;
					break;
				}
				iov[m][niov].iov_base = usn_buf_data(p, b);
				iov[m][niov].iov_len = usn_buf_len(p, b);
				t += usn_buf_len(p, b);
				niov++;
			}
			if (niov < 0 || t < AFP_ETH_HLEN || t > max_frame) {
				d->stats.tx_drop++;
				continue;
			}
			memset(&msgs[m], 0, sizeof(msgs[m]));
			msgs[m].msg_hdr.msg_iov = iov[m];
			msgs[m].msg_hdr.msg_iovlen = (size_t)niov;
			total[m] = t;
			m++;
		}
		int done = 0, tries = 0;
		while (done < m) {
			int r = sendmmsg(fd, msgs + done, (unsigned)(m - done), MSG_DONTWAIT);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				/* A full queue (the driver's: with the qdisc
				 * bypassed nothing waits, and a veth whose peer
				 * runs XDP holds 256 frames) empties when the
				 * kernel runs its softirq, at the latest on the
				 * way out of this call: the frame is tried again,
				 * a few times, then dropped (TCP recovers). */
				if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) &&
				    tries++ < AFP_TX_RETRIES) {
					d->stats.tx_retries++;
					continue;
				}
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
					d->stats.tx_drop++;
				else
					d->stats.tx_errors++;
				done++;
				tries = 0;
				continue;
			}
			tries = 0;
			for (int j = done; j < done + r; j++) {
				d->stats.tx_frames++;
				d->stats.tx_bytes += total[j];
				sent++;
			}
			done += r;
		}
		for (int i = 0; i < k; i++)
			usn_buf_free_chain(p, bufs[base + i]);
	}
	return sent;
}

int usn_afpacket_tx_socket(int ifindex)
{
	int one = 1;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = 0, .sll_ifindex = ifindex};
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int afp_tx_burst(struct usn_dev *d, const uint32_t *bufs, int n, uint64_t now)
{
	(void)now;
	return usn_afpacket_send(afp_of(d)->fd, d, bufs, n, afp_of(d)->max_frame);
}

static int afp_wait_fd(struct usn_dev *d)
{
	return afp_of(d)->fd;
}

/* The kernel filter (classic BPF, linux/filter.h): IPv4 to addr, and ARP
 * whose target protocol address is addr; everything else stays with the
 * kernel. Offsets are the Ethernet frame's (RFC 826 for ARP: the target
 * protocol address at 24 of the ARP packet; RFC 791: the destination at
 * 16 of the IPv4 header). */
static int afp_set_addr(struct usn_dev *d, uint32_t addr, const uint8_t mac[6])
{
	struct usn_dev_afp *a = afp_of(d);
	struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 2),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, AFP_ETH_HLEN + 24),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, addr, 3, 4),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 3),
		/* 5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, AFP_ETH_HLEN + 16),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, addr, 0, 1),
		/* 7 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
		/* 8 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = USN_ARRAY_SIZE(code), .filter = code};
	if (setsockopt(a->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	/* usnet's own MAC, as a second unicast address of the interface
	 * (needed on a real NIC; a veth delivers every frame anyway). */
	struct packet_mreq mr = {.mr_ifindex = a->ifindex, .mr_type = PACKET_MR_UNICAST, .mr_alen = 6};
	memcpy(mr.mr_address, mac, 6);
	if (a->mac_added) {
		struct packet_mreq old = mr;
		memcpy(old.mr_address, a->mac, 6);
		setsockopt(a->fd, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &old, sizeof(old));
		a->mac_added = false;
	}
	if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) == 0)
		a->mac_added = true;
	memcpy(a->mac, mac, 6);
	return 0;
}

/* Mode (b)'s filter: IPv4 to the shared address, not a fragment, TCP or
 * UDP (RFC 791 protocol numbers 6 and 17) whose destination port (2 bytes
 * into either header, behind IHL words of IPv4 header) is in the range or
 * the list of owned ports. */
static int afp_share_filter(struct usn_dev_afp *a)
{
	size_t n;
	const uint32_t *ports = usn_share_ports(a->share, &n);
	uint16_t tp[200], up[200];
	uint32_t nt = 0, nu = 0;
	for (size_t i = 0; i < n; i++) {
		if (nt + nu == 200)
			return -ENOSPC; /* the filter's jumps reach 255 instructions */
		if (ports[i] >> 16 == IPPROTO_TCP)
			tp[nt++] = (uint16_t)ports[i];
		else
			up[nu++] = (uint16_t)ports[i];
	}
	uint16_t lo, hi;
	usn_share_range(a->share, &lo, &hi);
	struct sock_filter code[240];
	uint32_t udp_start = 13 + nt, accept = udp_start + 5 + nu, drop = accept + 1, k = 0;
#define J(i) ((uint8_t)((i) - (k + 1)))
	code[k] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), k++;
	code[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, J(drop)), k++;
	code[k] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, AFP_ETH_HLEN + 16), k++;
	code[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, a->shared_addr, 0, J(drop)), k++;
	code[k] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, AFP_ETH_HLEN + 6), k++;
	code[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, J(drop), 0), k++;
	code[k] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, AFP_ETH_HLEN), k++;
	code[k] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, AFP_ETH_HLEN + 9), k++;
	code[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, J(udp_start)), k++;
	for (int pass = 0; pass < 2; pass++) {
		const uint16_t *list = pass ? up : tp;
		uint32_t cnt = pass ? nu : nt;
		if (pass)
			code[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, J(drop)), k++;
		code[k] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_IND, AFP_ETH_HLEN + 2), k++;
		code[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 1), k++;
		code[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, hi, 0, J(accept)), k++;
		for (uint32_t i = 0; i < cnt; i++)
			code[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, list[i], J(accept), 0), k++;
		code[k] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, drop - (k + 1)), k++;
	}
#undef J
	code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0x40000);
	code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	if (k != drop + 1)
		return -EINVAL; /* the layout above is wrong: never attach it */
	struct sock_fprog prog = {.len = (unsigned short)k, .filter = code};
	return setsockopt(a->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}

static int afp_share(struct usn_dev *d, uint32_t addr, uint16_t eph_lo, uint16_t eph_hi, char *err, size_t errlen)
{
	struct usn_dev_afp *a = afp_of(d);
	int rc = usn_share_open(d->name, addr, eph_lo, eph_hi, a->fanout, &a->share, err, errlen);
	if (rc < 0)
		return rc;
	rc = usn_share_fence(a->share, d->name, err, errlen);
	if (rc < 0)
		return rc;
	a->shared_addr = addr;
	rc = afp_share_filter(a);
	if (rc < 0)
		snprintf(err, errlen, "cannot set the packet filter: %s", strerror(-rc));
	return rc;
}

static int afp_own_port(struct usn_dev *d, uint8_t proto, uint16_t port)
{
	struct usn_dev_afp *a = afp_of(d);
	if (!a->share)
		return -EINVAL;
	int rc = usn_share_own_port(a->share, proto, port);
	return rc < 0 ? rc : afp_share_filter(a);
}

static int afp_neigh_lookup(struct usn_dev *d, uint32_t addr, uint8_t ret_mac[6])
{
	struct usn_dev_afp *a = afp_of(d);
	return a->share ? usn_share_neigh(a->share, addr, ret_mac) : -EINVAL;
}

static void afp_destroy(struct usn_dev *d)
{
	struct usn_dev_afp *a = afp_of(d);
	usn_share_close(a->share);
	if (a->ring && a->ring != MAP_FAILED)
		munmap(a->ring, a->ring_len);
	if (a->fd >= 0)
		close(a->fd); /* memberships and the filter go with it */
	free(a);
}

/* The ring's drops since the last read (the kernel resets its count on
 * each read, so they are added up here). */
static void afp_read_stats(struct usn_dev *d)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);
	memset(&st, 0, sizeof(st));
	if (getsockopt(afp_of(d)->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return;
	d->stats.rx_drop_ring += st.tp_drops;
}

static const struct usn_dev_ops afp_ops = {
	.kind = "afpacket",
	.rx_burst = afp_rx_burst,
	.tx_burst = afp_tx_burst,
	.wait_fd = afp_wait_fd,
	.next_rx_time = NULL,
	.set_addr = afp_set_addr,
	.share = afp_share,
	.own_port = afp_own_port,
	.neigh_lookup = afp_neigh_lookup,
	.read_stats = afp_read_stats,
	.destroy = afp_destroy,
};

int usn_dev_afpacket_open(const char *ifname, struct usn_pool *pool, bool fanout, struct usn_dev **ret, char *err,
			  size_t errlen)
{
	*ret = NULL;
	if (strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "afpacket:%s: interface name too long", ifname);
		return -EINVAL;
	}
	struct usn_dev_afp *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "afpacket:%s: out of memory", ifname);
		return -ENOMEM;
	}
	a->fd = -1;
	a->dev.ops = &afp_ops;
	a->dev.pool = pool;
	snprintf(a->dev.name, sizeof(a->dev.name), "%s", ifname);
	const char *step = "socket(AF_PACKET)";
	int e = 0, one = 1, ver = TPACKET_V3;
	a->ifindex = (int)if_nametoindex(ifname);
	if (a->ifindex == 0) {
		e = errno;
		snprintf(err, errlen, "afpacket:%s: no such interface (%s)", ifname, strerror(e));
		free(a);
		return -ENODEV;
	}
	/* Protocol 0 until the ring and the filter are in place: nothing is
	 * queued before (bind below starts the flow). */
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		goto fail;
	struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	struct sock_fprog drop = {.len = 1, .filter = drop_all};
	step = "SO_ATTACH_FILTER";
	if (setsockopt(a->fd, SOL_SOCKET, SO_ATTACH_FILTER, &drop, sizeof(drop)) < 0)
		goto fail;
	step = "PACKET_VERSION TPACKET_V3";
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0)
		goto fail;
	step = "PACKET_VNET_HDR";
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		goto fail;
	struct tpacket_req3 req = {
		.tp_block_size = AFP_BLOCK_SIZE,
		.tp_block_nr = AFP_BLOCK_NR,
		.tp_frame_size = AFP_FRAME_SIZE,
		.tp_frame_nr = AFP_BLOCK_SIZE / AFP_FRAME_SIZE * AFP_BLOCK_NR,
		.tp_retire_blk_tov = AFP_RETIRE_MS,
		.tp_sizeof_priv = 0,
		.tp_feature_req_word = 0,
	};
	step = "PACKET_RX_RING";
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		goto fail;
	a->ring_len = (size_t)AFP_BLOCK_SIZE * AFP_BLOCK_NR;
	step = "mmap of the ring";
	a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, a->fd, 0);
	if (a->ring == MAP_FAILED) {
		a->ring = NULL;
		goto fail;
	}
	step = "PACKET_QDISC_BYPASS";
	if (setsockopt(a->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		goto fail;
	/* The kernel's own transmissions on the interface are not ours. */
	step = "PACKET_IGNORE_OUTGOING";
	if (setsockopt(a->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		goto fail;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = a->ifindex};
	step = "bind";
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	/* Several instances: one fanout group per process and interface,
	 * frames spread by flow hash (fragments first reassembled by the
	 * kernel, so a datagram's pieces meet in one instance). */
	uint32_t grp = ((uint32_t)getpid() ^ (uint32_t)a->ifindex << 8) & 0xffffu;
	grp |= (uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;
	step = "PACKET_FANOUT";
	if (fanout && setsockopt(a->fd, SOL_PACKET, PACKET_FANOUT, &grp, sizeof(grp)) < 0)
		goto fail;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	a->dev.mtu = ioctl(a->fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0 ? (uint32_t)ifr.ifr_mtu : 1500;
	a->max_frame = AFP_MAX_GSO_FRAME;
	a->fanout = fanout;
	a->dev.has_hwaddr = usn_share_hwaddr(ifname, a->dev.hwaddr) == 0;
	/* USNET_OFFLOAD=0: the stack sums and segments everything it sends
	 * itself (receive keeps the header: a veth peer's 64 KB frames
	 * cannot be read without it). */
	const char *off = getenv("USNET_OFFLOAD");
	a->dev.offloads = USN_DEV_OFF_RX_CSUM | USN_DEV_OFF_SG;
	if (!(off && strcmp(off, "0") == 0))
		a->dev.offloads |= USN_DEV_OFF_TX_CSUM | USN_DEV_OFF_TSO;
	*ret = &a->dev;
	return 0;
fail:
	e = errno;
	if (e == EPERM || e == EACCES)
		snprintf(err, errlen, "afpacket:%s: %s: %s (needs CAP_NET_RAW)", ifname, step, strerror(e));
	else
		snprintf(err, errlen, "afpacket:%s: %s: %s", ifname, step, strerror(e));
	afp_destroy(&a->dev);
	return -e;
}
