/* SPDX-License-Identifier: MIT */
/*
 * dev_tap.c - the Linux TAP backend: one non-blocking file descriptor on
 * /dev/net/tun attached to a TAP interface (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR). Each read(2) returns one Ethernet frame without FCS behind
 * a virtio-net header, and each write(2) sends one. With the offloads on
 * (TUNSETOFFLOAD: TUN_F_CSUM | TUN_F_TSO4, as a virtio NIC would ask) the
 * kernel hands up TCP frames of up to 64 KB whose checksum it never
 * computed (NEEDS_CSUM: nothing on this path needs it) and takes frames of
 * up to 64 KB from us with only the pseudo-header sum filled in, which it
 * cuts into segments itself: a large frame is read into, or written from, a
 * chain of pool buffers with one readv(2)/writev(2). The interface is created if it
 * does not exist (needs CAP_NET_ADMIN) and is then non-persistent: the kernel
 * deletes it when the descriptor is closed. An existing TAP (made with
 * `ip tuntap add NAME mode tap user USER`) is attached to and left in place.
 * It is not a protocol implementation and never reads a clock; it implements
 * no RFC.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dev_tap.h"
#include "vnet.h"
#include "util.h"

#define TAP_ETH_HLEN 14u
#define TAP_VLAN_HLEN 4u
/* A chained frame is written with writev(2); longer chains are dropped. */
#define TAP_MAX_SEGS 64
/* The largest frame with offloads: a 64 KB IP packet, Ethernet, one tag. */
#define TAP_MAX_GSO_FRAME (65535u + TAP_ETH_HLEN + TAP_VLAN_HLEN)

struct usn_dev_tap {
	struct usn_dev dev;
	int fd;
	/* Largest frame accepted either way: MTU + Ethernet + one VLAN tag,
	 * or TAP_MAX_GSO_FRAME with offloads. */
	uint32_t max_frame;
	bool offload;       /* TUNSETOFFLOAD took TUN_F_CSUM | TUN_F_TSO4 */
	uint32_t rx_bufs;   /* buffers offered to one read */
	/* Buffers allocated for the next read and kept across reads and
	 * calls (a read takes only what its frame fills): without them each
	 * read, the last empty one included, would allocate and free rx_bufs
	 * buffers. They count as in use. */
	uint32_t stash[TAP_MAX_SEGS];
	uint32_t nstash;
};

static struct usn_dev_tap *tap_of(struct usn_dev *d)
{
	return USN_CONTAINER_OF(d, struct usn_dev_tap, dev);
}

/* Errors after which the descriptor is useless: the interface was deleted. */
static int tap_errno_is_gone(int e)
{
	return e == EBADFD || e == EBADF || e == ENODEV || e == ENXIO;
}

/* A frame is waiting but the pool is empty: read it into a small scratch
 * buffer, which makes the kernel discard the rest of it, so that it is
 * counted here rather than left to keep the descriptor readable forever.
 * Returns 1 when a frame was dropped, 0 when none was pending. */
static int tap_discard_one(struct usn_dev_tap *t)
{
	uint8_t scratch[64];
	ssize_t n;

	do {
		n = read(t->fd, scratch, sizeof(scratch));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			t->dev.stats.rx_errors++;
		return 0;
	}
	t->dev.stats.rx_drop_nobuf++;
	return 1;
}

static int tap_rx_burst(struct usn_dev *d, uint32_t *ret_bufs, int max, uint64_t now)
{
	struct usn_dev_tap *t = tap_of(d);
	struct usn_pool *p = d->pool;
	int got = 0;

	(void)now;
	/* At most max reads, so a stream of oversize frames cannot keep the
	 * loop here. */
	for (int reads = 0; reads < max; reads++) {
		struct virtio_net_hdr vh;
		struct iovec iov[TAP_MAX_SEGS + 1];
		uint32_t bufs[TAP_MAX_SEGS];
		uint32_t nb = 0;
		size_t cap = 0;
		ssize_t n;

		iov[0].iov_base = &vh;
		iov[0].iov_len = sizeof(vh);
		while (t->nstash < t->rx_bufs) {
			uint32_t idx = usn_buf_alloc(p);
			if (idx == USN_BUF_NONE)
				break;
			t->stash[t->nstash++] = idx;
		}
		if (t->nstash < t->rx_bufs) {
			/* Pool too empty for the largest frame: give the stash
			 * back, drop at most one pending frame per call (as a
			 * NIC drops at an empty ring) and stop. */
			for (uint32_t i = 0; i < t->nstash; i++)
				usn_buf_free(p, t->stash[i]);
			t->nstash = 0;
			tap_discard_one(t);
			break;
		}
		for (; nb < t->nstash; nb++) {
			uint32_t idx = t->stash[nb];
			bufs[nb] = idx;
			iov[nb + 1].iov_base = usn_buf_data(p, idx);
			iov[nb + 1].iov_len = usn_buf_tailroom(p, idx);
			cap += iov[nb + 1].iov_len;
		}
		do {
			n = readv(t->fd, iov, (int)nb + 1);
		} while (n < 0 && errno == EINTR);
		if (n <= 0) {
			int e = errno;

			/* The stash stays for the next read. */
			if (n == 0 || e == EAGAIN || e == EWOULDBLOCK)
				break;
			d->stats.rx_errors++;
			if (tap_errno_is_gone(e) && got == 0)
				return -e;
			break;
		}
		/* With IFF_NO_PI the kernel returns the whole frame's length even
		 * when it copied only part of it, so n > what we offered means
		 * the frame was truncated; max_frame <= cap, so one test catches
		 * both a frame too big and a truncated one. */
		size_t flen = (size_t)n > sizeof(vh) ? (size_t)n - sizeof(vh) : 0;
		if ((size_t)n < sizeof(vh) || flen > t->max_frame || flen > cap) {
			d->stats.rx_drop_oversize++; /* its buffers stay stashed */
			continue;
		}
		/* The buffers the frame filled leave the stash, chained; the
		 * rest stay for the next read. */
		size_t left = flen;
		uint32_t used = 0;
		for (uint32_t i = 0; i < nb; i++) {
			if (left == 0 && i > 0)
				break;
			size_t k = left < iov[i + 1].iov_len ? left : iov[i + 1].iov_len;
			usn_buf_meta(p, bufs[i])->len = (uint32_t)k;
			if (i > 0)
				usn_buf_meta(p, bufs[i - 1])->next = bufs[i];
			left -= k;
			used = i + 1;
		}
		t->nstash -= used;
		memmove(t->stash, t->stash + used, t->nstash * sizeof(t->stash[0]));
		if (usn_vnet_rx_csum_ok(&vh))
			usn_buf_meta(p, bufs[0])->flags |= USN_BUF_F_CSUM_OK;
		d->stats.rx_frames++;
		d->stats.rx_bytes += flen;
		ret_bufs[got++] = bufs[0];
	}
	return got;
}

static int tap_tx_burst(struct usn_dev *d, const uint32_t *bufs, int n, uint64_t now)
{
	struct usn_dev_tap *t = tap_of(d);
	struct usn_pool *p = d->pool;
	int sent = 0;

	(void)now;
	for (int i = 0; i < n; i++) {
		struct iovec iov[TAP_MAX_SEGS + 1];
		struct virtio_net_hdr vh;
		int niov = 1;
		size_t total = 0;
		ssize_t w;
		const struct usn_buf_meta *hm = usn_buf_meta(p, bufs[i]);

		/* The offload request of the frame (USN_BUF_F_TX_CSUM/TSO). */
		if (t->offload)
			usn_vnet_tx_hdr(hm, &vh);
		else
			memset(&vh, 0, sizeof(vh));
		iov[0].iov_base = &vh;
		iov[0].iov_len = sizeof(vh);
		for (uint32_t b = bufs[i]; b != USN_BUF_NONE; b = usn_buf_meta(p, b)->next) {
			if (niov == TAP_MAX_SEGS + 1) {
				niov = -1;
				break;
			}
			iov[niov].iov_base = usn_buf_data(p, b);
			iov[niov].iov_len = usn_buf_len(p, b);
			total += iov[niov].iov_len;
			niov++;
		}
		/* The kernel refuses a TAP frame shorter than an Ethernet header
		 * with EINVAL; a frame over the MTU would only be dropped further
		 * on. Both are the caller's mistake: count them, do not send. */
		if (niov < 0 || total < TAP_ETH_HLEN || total > t->max_frame) {
			d->stats.tx_drop++;
			goto next;
		}
		do {
			w = writev(t->fd, iov, niov);
		} while (w < 0 && errno == EINTR);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				d->stats.tx_drop++;
			else
				d->stats.tx_errors++;
			goto next;
		}
		if ((size_t)w != total + sizeof(vh)) {
			d->stats.tx_errors++;
			goto next;
		}
		d->stats.tx_frames++;
		d->stats.tx_bytes += total;
		sent++;
next:
		usn_buf_free_chain(p, bufs[i]);
	}
	return sent;
}

static int tap_wait_fd(struct usn_dev *d)
{
	return tap_of(d)->fd;
}

static void tap_destroy(struct usn_dev *d)
{
	struct usn_dev_tap *t = tap_of(d);

	for (uint32_t i = 0; i < t->nstash; i++)
		usn_buf_free(d->pool, t->stash[i]);
	/* A TAP we created is not persistent: closing its last descriptor
	 * deletes the interface. One that existed stays. */
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

static const struct usn_dev_ops tap_ops = {
	.kind = "tap",
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.wait_fd = tap_wait_fd,
	.next_rx_time = NULL,
	.destroy = tap_destroy,
};

/* Writes the TUNSETIFF failure with what to do about it. */
static void tap_setiff_error(int e, const char *name, bool multi, char *err, size_t errlen)
{
	if (e == EINVAL && multi) {
		snprintf(err, errlen,
			 "TUNSETIFF %s: %s (several instances need a multi-queue TAP: remove %s, or make it with "
			 "`ip tuntap add %s mode tap multi_queue vnet_hdr`)",
			 name, strerror(e), name, name);
		return;
	}
	switch (e) {
	case EPERM:
	case EACCES:
		snprintf(err, errlen,
			 "TUNSETIFF %s: %s (need CAP_NET_ADMIN or a TAP made with `ip tuntap add %s mode tap user $USER`)",
			 name, strerror(e), name);
		break;
	case EBUSY:
		snprintf(err, errlen, "TUNSETIFF %s: %s (the TAP is attached to another process)", name, strerror(e));
		break;
	case EINVAL:
		snprintf(err, errlen, "TUNSETIFF %s: %s (an interface of that name exists and is not a TAP)", name,
			 strerror(e));
		break;
	default:
		snprintf(err, errlen, "TUNSETIFF %s: %s", name, strerror(e));
		break;
	}
}

/* Brings the interface up if it is down and reads its MTU. `created` says
 * whether this process made it: then it must come up, else a refusal to
 * bring it up (EPERM: not ours to change) is left to the administrator. */
static int tap_configure(struct usn_dev_tap *t, int created, char *err, size_t errlen)
{
	struct ifreq ifr;
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket(AF_INET) to configure %s: %s", t->dev.name, strerror(errno));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->dev.name, strlen(t->dev.name));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
		snprintf(err, errlen, "SIOCGIFFLAGS %s: %s", t->dev.name, strerror(errno));
		goto out;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0 && (created || (errno != EPERM && errno != EACCES))) {
			ret = -errno;
			snprintf(err, errlen, "bringing %s up (SIOCSIFFLAGS): %s", t->dev.name, strerror(errno));
			goto out;
		}
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->dev.name, strlen(t->dev.name));
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0) {
		ret = -errno;
		snprintf(err, errlen, "SIOCGIFMTU %s: %s", t->dev.name, strerror(errno));
		goto out;
	}
	if (ifr.ifr_mtu <= 0) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s reports MTU %d", t->dev.name, ifr.ifr_mtu);
		goto out;
	}
	t->dev.mtu = (uint32_t)ifr.ifr_mtu;
out:
	close(s);
	return ret;
}

int usn_dev_tap_open(const char *name, struct usn_pool *pool, bool multi, struct usn_dev **ret, char *err,
		     size_t errlen)
{
	struct usn_dev_tap *t;
	struct ifreq ifr;
	size_t name_len;
	uint32_t cap;
	int created, ret_err;

	if (!err)
		errlen = 0; /* snprintf(NULL, 0, ...) writes nothing */
	else if (errlen)
		err[0] = '\0';
	*ret = NULL;
	name_len = name ? strlen(name) : 0;
	if (name_len == 0 || name_len >= IFNAMSIZ) {
		snprintf(err, errlen, "tap name '%s' is %s (1 to %d characters)", name ? name : "",
			 name_len ? "too long" : "empty", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (strchr(name, '/') || strchr(name, '%') || strchr(name, ':')) {
		snprintf(err, errlen, "tap name '%s' may not contain '/', '%%' or ':'", name);
		return -EINVAL;
	}
	if (!pool || pool->buf_size <= pool->headroom) {
		snprintf(err, errlen, "tap %s: no usable buffer pool", name);
		return -EINVAL;
	}

	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "tap %s: out of memory", name);
		return -ENOMEM;
	}
	t->dev.ops = &tap_ops;
	t->dev.pool = pool;
	t->dev.mtu = 1500;
	memcpy(t->dev.name, name, name_len + 1);

	created = if_nametoindex(name) == 0;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		ret_err = -errno;
		snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, name_len);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi ? IFF_MULTI_QUEUE : 0);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		ret_err = -errno;
		tap_setiff_error(errno, name, multi, err, errlen);
		goto fail;
	}

	int hsz = (int)sizeof(struct virtio_net_hdr);
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hsz) < 0) {
		ret_err = -errno;
		snprintf(err, errlen, "TUNSETVNETHDRSZ %s: %s", name, strerror(errno));
		goto fail;
	}
	ret_err = tap_configure(t, created, err, errlen);
	if (ret_err < 0)
		goto fail;

	/* Frames larger than a buffer must be impossible rather than silently
	 * truncated: refuse a link whose MTU does not fit the pool. */
	t->max_frame = t->dev.mtu + TAP_ETH_HLEN + TAP_VLAN_HLEN;
	cap = pool->buf_size - pool->headroom;
	if (cap < t->max_frame) {
		ret_err = -EINVAL;
		snprintf(err, errlen,
			 "tap %s: MTU %u needs %u-byte frames but pool buffers hold %u bytes after headroom",
			 name, t->dev.mtu, t->max_frame, cap);
		goto fail;
	}
	t->rx_bufs = 1;
	/* Offloads: USNET_OFFLOAD=0 (or USNET_TAP_OFFLOAD=0) turns them off
	 * (to compare, or for a kernel that refuses them). */
	const char *off_env = getenv("USNET_TAP_OFFLOAD");
	const char *off_all = getenv("USNET_OFFLOAD");
	bool off_wanted = !(off_env && strcmp(off_env, "0") == 0) && !(off_all && strcmp(off_all, "0") == 0);
	unsigned offl = TUN_F_CSUM | TUN_F_TSO4;
	if (off_wanted && ioctl(t->fd, TUNSETOFFLOAD, offl) == 0) {
		t->offload = true;
		t->max_frame = TAP_MAX_GSO_FRAME;
		t->rx_bufs = (t->max_frame + cap - 1) / cap;
		if (t->rx_bufs > TAP_MAX_SEGS)
			t->rx_bufs = TAP_MAX_SEGS;
		t->dev.offloads = USN_DEV_OFF_RX_CSUM | USN_DEV_OFF_TX_CSUM | USN_DEV_OFF_TSO | USN_DEV_OFF_SG;
	} else {
		ioctl(t->fd, TUNSETOFFLOAD, 0);
		t->dev.offloads = USN_DEV_OFF_SG; /* writev(2) gathers any chain */
	}
	*ret = &t->dev;
	return 0;
fail:
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return ret_err;
}
