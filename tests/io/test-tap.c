/* SPDX-License-Identifier: MIT */
/*
 * test-tap.c - usn_dev_open's spec parsing and the TAP backend
 * (dev_tap.c). The TAP tests need root and /dev/net/tun and skip themselves
 * otherwise; they move this process into a fresh network namespace first,
 * so the host's interfaces are never touched. The kernel side of the TAP is
 * watched and fed through an AF_PACKET socket bound to it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev.h"
#include "dev_tap.h"
#include "pool.h"

#define TEST_ETHERTYPE 0x88b5 /* IEEE local experimental */

/* ---- usn_dev_open: no privileges needed ---- */

static void test_open_unknown_kind(void **state)
{
	struct usn_pool pool;
	struct usn_dev *d = (void *)1;
	char err[256];

	(void)state;
	assert_int_equal(usn_pool_init(&pool, 4, 2048, 128), 0);
	assert_int_equal(usn_dev_open("foo:bar", &pool, &d, err, sizeof(err)), -EINVAL);
	assert_null(d);
	assert_non_null(strstr(err, "unknown kind 'foo'"));
	assert_non_null(strstr(err, "tap:NAME")); /* the kinds are listed */
	assert_int_equal(usn_dev_open("eth0", &pool, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown kind 'eth0'"));
	assert_int_equal(usn_dev_open("mem:x", &pool, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "usn_memlink_create"));
	assert_int_equal(usn_dev_open("tap:", &pool, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tap:usnt0"));
	assert_int_equal(usn_dev_open("tap", &pool, &d, err, sizeof(err)), -EINVAL);
	/* a tiny error buffer is truncated, not overrun */
	assert_int_equal(usn_dev_open("foo:bar", &pool, &d, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
	usn_pool_fini(&pool);
}

static void test_open_bad_tap_name(void **state)
{
	struct usn_pool pool;
	struct usn_dev *d = (void *)1;
	char err[256];

	(void)state;
	assert_int_equal(usn_pool_init(&pool, 4, 2048, 128), 0);
	/* IFNAMSIZ is 16 with the NUL: 16 characters are one too many */
	assert_int_equal(usn_dev_open("tap:abcdefghijklmnop", &pool, &d, err, sizeof(err)), -EINVAL);
	assert_null(d);
	assert_non_null(strstr(err, "too long"));
	assert_non_null(strstr(err, "abcdefghijklmnop"));
	assert_int_equal(usn_dev_tap_open("a/b", &pool, false, &d, err, sizeof(err)), -EINVAL);
	assert_int_equal(usn_dev_tap_open("", &pool, false, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	usn_pool_fini(&pool);
}

/* ---- the TAP itself: root, in a private network namespace ---- */

struct tap_env {
	int ok;
};

static void write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0) {
			/* best effort: only keeps IPv6 chatter off the TAP */
		}
		close(fd);
	}
}

static int tap_group_setup(void **state)
{
	struct tap_env *env = calloc(1, sizeof(*env));
	int fd;

	if (!env)
		return -1;
	*state = env;
	if (geteuid() != 0)
		return 0;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	if (unshare(CLONE_NEWNET) < 0)
		return 0;
	/* no IPv6 on new interfaces: no router solicitations or MLD reports
	 * arriving on the TAP while the tests look at its traffic */
	write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	/* These tests look at plain frames; test_tap_offloads turns the
	 * virtio-net offloads back on. */
	setenv("USNET_TAP_OFFLOAD", "0", 1);
	env->ok = 1;
	return 0;
}

static int tap_group_teardown(void **state)
{
	free(*state);
	return 0;
}

static void need_tap(void **state)
{
	const struct tap_env *env = *state;

	if (!env->ok) {
		print_message("skipped: needs root, /dev/net/tun and unshare(CLONE_NEWNET)\n");
		skip();
	}
}

static int if_flags(const char *name, short *ret_flags)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	r = ioctl(s, SIOCGIFFLAGS, &ifr);
	close(s);
	*ret_flags = ifr.ifr_flags;
	return r;
}

static void set_mtu(const char *name, int mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_mtu = mtu;
	assert_int_equal(ioctl(s, SIOCSIFMTU, &ifr), 0);
	close(s);
}

static int packet_socket(const char *name)
{
	struct sockaddr_ll sll;
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	assert_true(s >= 0);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(name);
	assert_true(sll.sll_ifindex > 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return s;
}

static size_t make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	static const uint8_t dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t src[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = TEST_ETHERTYPE >> 8;
	f[13] = TEST_ETHERTYPE & 0xff;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
	return len;
}

/* Waits up to 2 s for the frame `want` on the AF_PACKET socket. */
static int packet_sees(int s, const uint8_t *want, size_t len)
{
	uint8_t buf[4096];

	for (int tries = 0; tries < 50; tries++) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 2000) <= 0)
			return 0;
		n = recv(s, buf, sizeof(buf), 0);
		if (n == (ssize_t)len && memcmp(buf, want, len) == 0)
			return 1;
	}
	return 0;
}

/* Waits up to 2 s for rx_burst to return the frame `want`; other frames
 * are freed. */
static int dev_sees(struct usn_dev *d, const uint8_t *want, size_t len)
{
	for (int tries = 0; tries < 50; tries++) {
		struct pollfd pfd = { .fd = usn_dev_wait_fd(d), .events = POLLIN };
		uint32_t bufs[8];
		int n, found = 0;

		if (poll(&pfd, 1, 2000) <= 0)
			return 0;
		n = usn_dev_rx_burst(d, bufs, 8, 0);
		assert_true(n >= 0);
		for (int k = 0; k < n; k++) {
			if (usn_buf_len(d->pool, bufs[k]) == len && memcmp(usn_buf_data(d->pool, bufs[k]), want, len) == 0)
				found = 1;
			usn_buf_free(d->pool, bufs[k]);
		}
		if (found)
			return 1;
	}
	return 0;
}

static void tap_name(char *name, size_t len, const char *tag)
{
	snprintf(name, len, "usnt%s%d", tag, (int)(getpid() % 100000));
}

static void test_tap_create_send_receive(void **state)
{
	struct usn_pool pool;
	struct usn_dev *d = NULL;
	char name[IFNAMSIZ], err[256];
	uint8_t frame[1514];
	uint32_t idx;
	short flags;
	int s, fd;

	need_tap(state);
	tap_name(name, sizeof(name), "a");
	assert_int_equal(if_nametoindex(name), 0);
	assert_int_equal(usn_pool_init(&pool, 64, 2048, 128), 0);
	{
		char spec[32];

		snprintf(spec, sizeof(spec), "tap:%s", name);
		assert_int_equal(usn_dev_open(spec, &pool, &d, err, sizeof(err)), 0);
	}
	assert_non_null(d);
	assert_string_equal(d->ops->kind, "tap");
	assert_string_equal(d->name, name);
	assert_int_equal(d->mtu, 1500);
	assert_int_equal(d->offloads, USN_DEV_OFF_SG);
	assert_int_equal(usn_dev_next_rx_time(d), UINT64_MAX);
	/* created and brought up */
	assert_true(if_nametoindex(name) > 0);
	assert_int_equal(if_flags(name, &flags), 0);
	assert_true(flags & IFF_UP);
	fd = usn_dev_wait_fd(d);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	s = packet_socket(name);

	/* usnet to the kernel */
	make_frame(frame, 100, 1);
	idx = usn_buf_alloc(&pool);
	memcpy(usn_buf_put(&pool, idx, 100), frame, 100);
	assert_int_equal(usn_dev_tx_burst(d, &idx, 1, 0), 1);
	assert_int_equal(usn_pool_in_use(&pool), 0);
	assert_int_equal(d->stats.tx_frames, 1);
	assert_int_equal(d->stats.tx_bytes, 100);
	assert_true(packet_sees(s, frame, 100));

	/* a chained frame goes out as one */
	make_frame(frame, 1514, 2);
	{
		uint32_t h = usn_buf_alloc(&pool), t = usn_buf_alloc(&pool);

		memcpy(usn_buf_put(&pool, h, 500), frame, 500);
		memcpy(usn_buf_put(&pool, t, 1014), frame + 500, 1014);
		usn_buf_meta(&pool, h)->next = t;
		assert_int_equal(usn_dev_tx_burst(d, &h, 1, 0), 1);
	}
	assert_int_equal(usn_pool_in_use(&pool), 0);
	assert_true(packet_sees(s, frame, 1514));

	/* too short and too long frames are refused and freed */
	{
		uint32_t b[2] = { usn_buf_alloc(&pool), usn_buf_alloc(&pool) };

		usn_buf_put(&pool, b[0], 13);
		usn_buf_put(&pool, b[1], 1519);
		assert_int_equal(usn_dev_tx_burst(d, b, 2, 0), 0);
		assert_int_equal(d->stats.tx_drop, 2);
		assert_int_equal(usn_pool_in_use(&pool), 0);
	}

	/* the kernel to usnet */
	make_frame(frame, 200, 3);
	assert_int_equal(send(s, frame, 200, 0), 200);
	assert_true(dev_sees(d, frame, 200));
	assert_true(d->stats.rx_frames >= 1);
	/* The device keeps the buffers of its next read (a stash), no more
	 * than one largest frame's. */
	uint32_t stashed = usn_pool_in_use(&pool);
	assert_true(stashed >= 1 && stashed <= 40);

	/* pool empty: the stash still takes one frame (as a NIC's posted
	 * descriptors do); the next is read away and counted */
	{
		uint32_t held[64], n = 0, got[4];
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		for (uint32_t b; (b = usn_buf_alloc(&pool)) != USN_BUF_NONE;)
			held[n++] = b;
		assert_int_equal(n + stashed, 64);
		make_frame(frame, 300, 4);
		assert_int_equal(send(s, frame, 300, 0), 300);
		assert_int_equal(send(s, frame, 300, 0), 300);
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		uint64_t nobuf = d->stats.rx_drop_nobuf;
		int k = usn_dev_rx_burst(d, got, 4, 0);
		assert_int_equal(k, stashed == 1 ? 1 : 0);
		for (int i = 0; i < k; i++)
			usn_buf_free(&pool, got[i]);
		assert_int_equal(d->stats.rx_drop_nobuf, nobuf + 1);
		assert_int_equal(usn_pool_in_use(&pool), n); /* the stash given back */
		for (uint32_t i = 0; i < n; i++)
			usn_buf_free(&pool, held[i]);
	}

	/* a frame longer than usnet's MTU (raised under it) is dropped, not
	 * truncated into a buffer */
	set_mtu(name, 4000);
	{
		uint8_t big[3000];
		uint64_t before = d->stats.rx_drop_oversize;

		make_frame(big, sizeof(big), 5);
		assert_int_equal(send(s, big, sizeof(big), 0), (ssize_t)sizeof(big));
		make_frame(frame, 64, 6);
		assert_int_equal(send(s, frame, 64, 0), 64);
		assert_true(dev_sees(d, frame, 64));
		assert_int_equal(d->stats.rx_drop_oversize, before + 1);
	}
	close(s);
	usn_dev_destroy(d);
	/* a TAP we created is gone with its descriptor */
	assert_int_equal(if_nametoindex(name), 0);
	assert_int_equal(usn_pool_in_use(&pool), 0);
	usn_pool_fini(&pool);
}

static void persist(const char *name, int on)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, on), 0);
	close(fd);
}

static void test_tap_existing(void **state)
{
	struct usn_pool pool;
	struct usn_dev *d = NULL, *d2 = (void *)1;
	char name[IFNAMSIZ], err[256];
	short flags;

	need_tap(state);
	tap_name(name, sizeof(name), "p");
	persist(name, 1); /* as `ip tuntap add NAME mode tap` would */
	assert_true(if_nametoindex(name) > 0);
	assert_int_equal(if_flags(name, &flags), 0);
	assert_false(flags & IFF_UP);
	assert_int_equal(usn_pool_init(&pool, 16, 2048, 128), 0);

	assert_int_equal(usn_dev_tap_open(name, &pool, false, &d, err, sizeof(err)), 0);
	assert_int_equal(if_flags(name, &flags), 0);
	assert_true(flags & IFF_UP);
	/* a second user of the same TAP is refused with the reason */
	assert_int_equal(usn_dev_tap_open(name, &pool, false, &d2, err, sizeof(err)), -EBUSY);
	assert_null(d2);
	assert_non_null(strstr(err, "TUNSETIFF"));
	assert_non_null(strstr(err, name));
	usn_dev_destroy(d);
	/* one that existed before stays */
	assert_true(if_nametoindex(name) > 0);
	persist(name, 0);
	assert_int_equal(if_nametoindex(name), 0);

	/* an interface that is not a TAP */
	assert_int_equal(usn_dev_tap_open("lo", &pool, false, &d2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "TUNSETIFF lo"));
	assert_non_null(strstr(err, "not a TAP"));
	usn_pool_fini(&pool);
}

static void test_tap_mtu_larger_than_buffers(void **state)
{
	struct usn_pool pool;
	struct usn_dev *d = (void *)1;
	char name[IFNAMSIZ], err[256];

	need_tap(state);
	/* 1024-byte buffers cannot hold 1500-byte frames */
	tap_name(name, sizeof(name), "m");
	assert_int_equal(usn_pool_init(&pool, 16, 1024, 128), 0);
	assert_int_equal(usn_dev_tap_open(name, &pool, false, &d, err, sizeof(err)), -EINVAL);
	assert_null(d);
	assert_non_null(strstr(err, "MTU 1500"));
	assert_int_equal(if_nametoindex(name), 0);
	usn_pool_fini(&pool);
}

/* With the virtio-net header and TUNSETOFFLOAD (the default), the device
 * says so, and plain frames still go both ways unchanged. */
static void test_tap_offloads(void **state)
{
	struct usn_pool pool;
	struct usn_dev *d;
	char name[IFNAMSIZ], err[256], spec[32];
	uint8_t frame[2048];

	need_tap(state);
	unsetenv("USNET_TAP_OFFLOAD");
	tap_name(name, sizeof(name), "o");
	assert_int_equal(usn_pool_init(&pool, 256, 2048, 128), 0);
	snprintf(spec, sizeof(spec), "tap:%s", name);
	assert_int_equal(usn_dev_open(spec, &pool, &d, err, sizeof(err)), 0);
	assert_int_equal(d->offloads, USN_DEV_OFF_RX_CSUM | USN_DEV_OFF_TX_CSUM | USN_DEV_OFF_TSO | USN_DEV_OFF_SG);
	int s = packet_socket(name);
	make_frame(frame, 100, 7);
	uint32_t idx = usn_buf_alloc(&pool);
	memcpy(usn_buf_put(&pool, idx, 100), frame, 100);
	assert_int_equal(usn_dev_tx_burst(d, &idx, 1, 0), 1);
	assert_true(packet_sees(s, frame, 100));
	make_frame(frame, 1514, 8);
	assert_int_equal(send(s, frame, 1514, 0), 1514);
	assert_true(dev_sees(d, frame, 1514));
	/* the read offered a whole 64 KB chain and took one buffer; the
	 * rest stay stashed for the next read until the device goes */
	assert_true(usn_pool_in_use(&pool) >= 32);
	close(s);
	usn_dev_destroy(d);
	assert_int_equal(usn_pool_in_use(&pool), 0);
	usn_pool_fini(&pool);
	setenv("USNET_TAP_OFFLOAD", "0", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_unknown_kind),
		cmocka_unit_test(test_open_bad_tap_name),
		cmocka_unit_test(test_tap_create_send_receive),
		cmocka_unit_test(test_tap_existing),
		cmocka_unit_test(test_tap_mtu_larger_than_buffers),
		cmocka_unit_test(test_tap_offloads),
	};

	return cmocka_run_group_tests(tests, tap_group_setup, tap_group_teardown);
}
