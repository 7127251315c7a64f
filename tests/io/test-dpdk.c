/* SPDX-License-Identifier: MIT */
/*
 * test-dpdk.c - the DPDK backend (dev_dpdk.c) over DPDK's net_ring driver,
 * in one process and one thread, without huge pages, PCI or root: a
 * loopback port (--vdev=net_ring0: what it sends comes back) and a crossed
 * pair of ports made from two rings (rte_eth_from_rings), one side lending
 * its buffers to the mbufs (tx=ref), the other copying (tx=copy). Frames
 * must arrive byte for byte: single buffers, chains of pool and lent (EXT)
 * buffers, frames larger than one mbuf, bursts larger than the device's;
 * every buffer must come back to its pool (a lent one when the receiver
 * frees the mbuf), and the lent memory's reference be released. Also the
 * wait descriptor (readable when it is time to poll again) and the
 * messages for a port that does not exist and for other EAL arguments.
 * Registered only when the build has DPDK.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include "dev.h"
#include "dev_dpdk.h"
#include "pool.h"
#include "usnet/usnet.h"

#define EAL "--no-huge --no-pci -m 64 --no-shconf --no-telemetry --log-level=lib.eal:warning --vdev=net_ring0"

struct fixture {
	struct usn_pool pl, pa, pb;
	struct usn_dev *loop; /* port 0, loopback, tx=ref */
	struct usn_dev *a;    /* crossed pair: a sends, b receives, and back */
	struct usn_dev *b;
};

static struct fixture fx;
static char run_parent[256];

/* At exit, after dev_dpdk.c's own exit handler (registered later, so run
 * earlier) cleaned the EAL up and removed its run directory: the parent
 * (/var/run/dpdk, or /tmp/dpdk unprivileged) too, when empty. */
static void remove_run_parent(void)
{
	if (run_parent[0])
		rmdir(run_parent);
}

static int open_dev(const char *words, struct usn_pool *p, struct usn_dev **ret)
{
	char spec[512], err[256] = "";
	snprintf(spec, sizeof(spec), "%s %s", EAL, words);
	int rc = usn_dev_dpdk_open(spec, p, 0, 1, ret, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "open '%s': %s\n", words, err);
	return rc;
}

static int group_setup(void **state)
{
	(void)state;
	if (usn_pool_init(&fx.pl, 1024, 2048, 128) || usn_pool_init(&fx.pa, 1024, 2048, 128) ||
	    usn_pool_init(&fx.pb, 1024, 2048, 128))
		return -1;
	/* The first open starts the EAL, which the crossed pair needs. */
	atexit(remove_run_parent);
	if (open_dev("port=0 tx=ref", &fx.pl, &fx.loop) < 0)
		return -1;
	snprintf(run_parent, sizeof(run_parent), "%s", rte_eal_get_runtime_dir());
	char *slash = strrchr(run_parent, '/');
	if (slash)
		*slash = '\0';
	struct rte_ring *r1 = rte_ring_create("usn_t1", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *r2 = rte_ring_create("usn_t2", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!r1 || !r2)
		return -1;
	int pa = rte_eth_from_rings("usn_ra", &r1, 1, &r2, 1, SOCKET_ID_ANY);
	int pb = rte_eth_from_rings("usn_rb", &r2, 1, &r1, 1, SOCKET_ID_ANY);
	if (pa < 0 || pb < 0)
		return -1;
	char wa[64], wb[64];
	snprintf(wa, sizeof(wa), "port=%d tx=ref idle-us=2000 mtu=9000", pa);
	snprintf(wb, sizeof(wb), "port=%d tx=copy mtu=9000", pb);
	if (open_dev(wa, &fx.pa, &fx.a) < 0 || open_dev(wb, &fx.pb, &fx.b) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	usn_dev_destroy(fx.loop);
	usn_dev_destroy(fx.a);
	usn_dev_destroy(fx.b);
	usn_pool_fini(&fx.pl);
	usn_pool_fini(&fx.pa);
	usn_pool_fini(&fx.pb);
	return 0;
}

static uint8_t pattern(uint32_t tag, size_t i)
{
	return (uint8_t)(tag * 131u + i * 7u + (i >> 8));
}

/* A frame of len bytes in `nbuf` pool buffers (the last one takes the
 * rest), its bytes a pattern of tag. */
static uint32_t make_frame(struct usn_pool *p, uint32_t tag, size_t len, unsigned nbuf)
{
	uint32_t head = USN_BUF_NONE, tail = USN_BUF_NONE;
	size_t done = 0;
	for (unsigned k = 0; k < nbuf; k++) {
		size_t n = k + 1 == nbuf ? len - done : len / nbuf;
		uint32_t b = usn_buf_alloc(p);
		assert_int_not_equal(b, USN_BUF_NONE);
		uint8_t *d = usn_buf_put(p, b, (uint32_t)n);
		assert_non_null(d);
		for (size_t i = 0; i < n; i++)
			d[i] = pattern(tag, done + i);
		done += n;
		if (head == USN_BUF_NONE)
			head = b;
		else
			usn_buf_meta(p, tail)->next = b;
		tail = b;
	}
	return head;
}

static void check_frame(struct usn_pool *p, uint32_t head, uint32_t tag, size_t len)
{
	assert_int_equal(usn_buf_chain_len(p, head), len);
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(usn_buf_chain_copy(p, head, 0, buf, len), len);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(tag, i))
			fail_msg("tag %u: byte %zu of %zu is %u, want %u", tag, i, len, buf[i], pattern(tag, i));
	free(buf);
}

/* Receives up to want frames (polling a little while); returns how many. */
static int receive(struct usn_dev *d, uint32_t *bufs, int want)
{
	int got = 0;
	for (int tries = 0; got < want && tries < 1000; tries++) {
		int n = usn_dev_rx_burst(d, bufs + got, want - got, 0);
		assert_true(n >= 0);
		got += n;
	}
	return got;
}

static void test_loopback_one_frame(void **state)
{
	(void)state;
	struct usn_pool *p = &fx.pl;
	uint32_t f = make_frame(p, 1, 60, 1);
	assert_int_equal(usn_dev_tx_burst(fx.loop, &f, 1, 0), 1);
	uint32_t got[4];
	assert_int_equal(receive(fx.loop, got, 1), 1);
	check_frame(p, got[0], 1, 60);
	usn_buf_free_chain(p, got[0]);
	/* The lent buffer came back when the receive side freed the mbuf. */
	assert_int_equal(usn_pool_in_use(p), 0);
	assert_int_equal(fx.loop->stats.tx_frames, 1);
	assert_int_equal(fx.loop->stats.rx_frames, 1);
	assert_int_equal(fx.loop->stats.rx_bytes, 60);
}

struct ref {
	struct usn_memref r;
	int released;
};

static void ref_release(struct usn_memref *r)
{
	((struct ref *)(void *)r)->released++;
}

/* a -> b with tx=ref: a chain of two pool buffers and one lent buffer. */
static void test_pair_ref_chain_with_ext(void **state)
{
	(void)state;
	static uint8_t lent[3000];
	struct ref rf = {.r = {.refs = 1, .release = ref_release}};
	uint32_t head = make_frame(&fx.pa, 7, 200, 2);
	for (size_t i = 0; i < sizeof(lent); i++)
		lent[i] = pattern(7, 200 + i);
	uint32_t e = usn_buf_alloc_ext(&fx.pa, lent, sizeof(lent), &rf.r);
	assert_int_not_equal(e, USN_BUF_NONE);
	usn_buf_meta(&fx.pa, usn_buf_meta(&fx.pa, head)->next)->next = e;
	rf.r.refs--; /* the buffer holds the only reference now */
	assert_true(fx.a->offloads & USN_DEV_OFF_SG);
	assert_int_equal(usn_dev_tx_burst(fx.a, &head, 1, 0), 1);
	/* Lent until b reads the ring. */
	assert_int_equal(usn_pool_in_use(&fx.pa), 3);
	assert_int_equal(rf.released, 0);
	uint32_t got;
	assert_int_equal(receive(fx.b, &got, 1), 1);
	check_frame(&fx.pb, got, 7, 3200);
	usn_buf_free_chain(&fx.pb, got);
	assert_int_equal(usn_pool_in_use(&fx.pa), 0);
	assert_int_equal(usn_pool_in_use(&fx.pb), 0);
	assert_int_equal(rf.released, 1);
}

/* b -> a with tx=copy: a 9000-byte frame in five buffers becomes a chain of
 * mbufs (net_ring takes multi-segment frames) and arrives whole. */
static void test_pair_copy_big_chain(void **state)
{
	(void)state;
	uint32_t head = make_frame(&fx.pb, 9, 9000, 5);
	assert_int_equal(usn_dev_tx_burst(fx.b, &head, 1, 0), 1);
	assert_int_equal(usn_pool_in_use(&fx.pb), 0); /* copied: freed at once */
	uint32_t got;
	assert_int_equal(receive(fx.a, &got, 1), 1);
	check_frame(&fx.pa, got, 9, 9000);
	usn_buf_free_chain(&fx.pa, got);
	assert_int_equal(usn_pool_in_use(&fx.pa), 0);
}

/* 300 frames each way, more than one burst of the device (64): all arrive
 * in order, and both pools end empty. */
static void test_pair_bursts(void **state)
{
	(void)state;
	enum { N = 300 };
	uint32_t out[N], in[N];
	for (int dir = 0; dir < 2; dir++) {
		struct usn_dev *tx = dir ? fx.b : fx.a, *rx = dir ? fx.a : fx.b;
		struct usn_pool *tp = dir ? &fx.pb : &fx.pa, *rp = dir ? &fx.pa : &fx.pb;
		uint64_t frames0 = rx->stats.rx_frames;
		for (int i = 0; i < N; i++)
			out[i] = make_frame(tp, 100u + (uint32_t)i, 60 + (size_t)i * 4, 1 + (unsigned)i % 3);
		assert_int_equal(usn_dev_tx_burst(tx, out, N, 0), N);
		assert_int_equal(receive(rx, in, N), N);
		for (int i = 0; i < N; i++) {
			check_frame(rp, in[i], 100u + (uint32_t)i, 60 + (size_t)i * 4);
			usn_buf_free_chain(rp, in[i]);
		}
		assert_int_equal(rx->stats.rx_frames - frames0, N);
		assert_int_equal(usn_pool_in_use(&fx.pa), 0);
		assert_int_equal(usn_pool_in_use(&fx.pb), 0);
	}
	/* Nothing more. */
	assert_int_equal(usn_dev_rx_burst(fx.a, in, N, 0), 0);
	assert_int_equal(usn_dev_rx_burst(fx.b, in, N, 0), 0);
}

/* A frame the pool has no room for is counted, and the mbuf still freed. */
static void test_rx_pool_empty_counted(void **state)
{
	(void)state;
	struct usn_pool small;
	assert_int_equal(usn_pool_init(&small, 2, 2048, 128), 0);
	uint32_t f = make_frame(&fx.pb, 3, 3000, 2);
	assert_int_equal(usn_dev_tx_burst(fx.b, &f, 1, 0), 1);
	/* Receive into a pool that holds one 2 KB buffer: the frame needs two. */
	uint32_t hold = usn_buf_alloc(&small);
	struct usn_pool *saved = fx.a->pool;
	fx.a->pool = &small;
	uint64_t nobuf0 = fx.a->stats.rx_drop_nobuf;
	uint32_t got;
	int n = 0;
	for (int i = 0; i < 100 && fx.a->stats.rx_drop_nobuf == nobuf0; i++)
		n += usn_dev_rx_burst(fx.a, &got, 1, 0);
	fx.a->pool = saved;
	assert_int_equal(n, 0);
	assert_int_equal(fx.a->stats.rx_drop_nobuf, nobuf0 + 1);
	assert_int_equal(usn_pool_in_use(&small), 1);
	usn_buf_free(&small, hold);
	usn_pool_fini(&small);
}

/* The wait descriptor: readable at once while polls keep finding frames
 * or have just stopped (spinning), and, after a run of empty polls,
 * readable again within the longest sleep (idle-us=2000 on a). */
static void test_wait_fd(void **state)
{
	(void)state;
	int fd = usn_dev_wait_fd(fx.a);
	assert_true(fd >= 0);
	uint32_t b;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(usn_dev_rx_burst(fx.a, &b, 1, 0), 0);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 0), 0); /* sleeping now */
	assert_int_equal(poll(&pfd, 1, 100), 1);  /* but not longer than 2 ms */
	assert_int_equal(usn_dev_rx_burst(fx.a, &b, 1, 0), 0);
}

static void test_open_errors(void **state)
{
	(void)state;
	char err[256] = "";
	struct usn_dev *d = NULL;
	struct usn_pool *p = &fx.pl;
	assert_int_equal(usn_dev_dpdk_open(EAL " port=9", p, 0, 1, &d, err, sizeof(err)), -ENODEV);
	assert_null(d);
	assert_non_null(strstr(err, "no port 9"));
	assert_int_equal(usn_dev_dpdk_open("--no-huge -m 32", p, 0, 1, &d, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "already runs in this process with other arguments"));
	assert_int_equal(usn_dev_dpdk_open(EAL " port=0", p, 0, 1, &d, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "already open"));
	assert_int_equal(usn_dev_dpdk_open(EAL " port=x", p, 0, 1, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected port=N"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_one_frame),
		cmocka_unit_test(test_pair_ref_chain_with_ext),
		cmocka_unit_test(test_pair_copy_big_chain),
		cmocka_unit_test(test_pair_bursts),
		cmocka_unit_test(test_rx_pool_empty_counted),
		cmocka_unit_test(test_wait_fd),
		cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
