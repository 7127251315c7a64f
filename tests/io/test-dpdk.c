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
 * Receiving into usnet's own pool (rx=pool) over DPDK's net_pcap driver,
 * which reads a pcap file made here into mbufs of the queue's mempool:
 * frames arrive in the pool's lent slots without a copy, more of them
 * than the mempool has mbufs (so slots freed by the stack are filled
 * again), and a frame the stack still holds when the device goes is an
 * ordinary buffer afterwards.
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

#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include "dev.h"
#include "dev_dpdk.h"
#include "pool.h"
#include "usnet/usnet.h"

/* The EAL's arguments, with net_pcap reading pcap_in (made first). */
static char EAL[400];
static char pcap_in[64];
#define PCAP_FRAMES 3000

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
	if (pcap_in[0])
		unlink(pcap_in);
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

static uint8_t pattern(uint32_t tag, size_t i);

/* Frame i of the pcap file: 60 to 1514 bytes of pattern(5000 + i). */
static size_t pcap_frame_len(unsigned i)
{
	return 60 + (i * 97u) % 1455u;
}

static int write_pcap(void)
{
	snprintf(pcap_in, sizeof(pcap_in), "/tmp/usn-test-dpdk-%d.pcap", (int)getpid());
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *w = pd ? pcap_dump_open(pd, pcap_in) : NULL;
	if (!w)
		return -1;
	static uint8_t f[1514];
	for (unsigned i = 0; i < PCAP_FRAMES; i++) {
		size_t len = pcap_frame_len(i);
		for (size_t k = 0; k < len; k++)
			f[k] = pattern(5000 + i, k);
		struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
		pcap_dump((u_char *)w, &h, f);
	}
	pcap_dump_close(w);
	pcap_close(pd);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (write_pcap() < 0)
		return -1;
	snprintf(EAL, sizeof(EAL),
		 "--no-huge --no-pci -m 64 --no-shconf --no-telemetry --log-level=lib.eal:warning --vdev=net_ring0 "
		 "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=/dev/null",
		 pcap_in);
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
	char spec[600];
	snprintf(spec, sizeof(spec), "%s port=9", EAL);
	assert_int_equal(usn_dev_dpdk_open(spec, p, 0, 1, &d, err, sizeof(err)), -ENODEV);
	assert_null(d);
	assert_non_null(strstr(err, "no port 9"));
	assert_int_equal(usn_dev_dpdk_open("--no-huge -m 32", p, 0, 1, &d, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "already runs in this process with other arguments"));
	snprintf(spec, sizeof(spec), "%s port=0", EAL);
	assert_int_equal(usn_dev_dpdk_open(spec, p, 0, 1, &d, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "already open"));
	snprintf(spec, sizeof(spec), "%s port=x", EAL);
	assert_int_equal(usn_dev_dpdk_open(spec, p, 0, 1, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected port=N"));
	snprintf(spec, sizeof(spec), "%s rx=zerocopy", EAL);
	assert_int_equal(usn_dev_dpdk_open(spec, p, 0, 1, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rx=pool or rx=copy"));
}

/* rx=pool is refused where it cannot work, with the reason: on net_ring
 * (the sender's mbufs arrive), and with a pool too small to lend. */
static void test_rx_pool_refused(void **state)
{
	(void)state;
	char err[256] = "", spec[600];
	struct usn_dev *d = NULL;
	struct usn_pool p;
	assert_int_equal(usn_pool_init(&p, 64, 2048, 128), 0);
	struct rte_ring *r = rte_ring_create("usn_t3", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(r);
	int pr = rte_eth_from_rings("usn_rc", &r, 1, &r, 1, SOCKET_ID_ANY);
	assert_true(pr >= 0);
	snprintf(spec, sizeof(spec), "%s port=%d rx=pool", EAL, pr);
	assert_int_equal(usn_dev_dpdk_open(spec, &p, 0, 1, &d, err, sizeof(err)), -EINVAL);
	assert_null(d);
	assert_non_null(strstr(err, "net_ring hands over the sender's own mbufs"));
	uint16_t pp;
	assert_int_equal(rte_eth_dev_get_port_by_name("net_pcap0", &pp), 0);
	snprintf(spec, sizeof(spec), "%s port=%u rx=pool", EAL, pp);
	assert_int_equal(usn_dev_dpdk_open(spec, &p, 0, 1, &d, err, sizeof(err)), -EINVAL);
	assert_null(d);
	assert_non_null(strstr(err, "cannot spare"));
	assert_int_equal(p.nfree, 64); /* nothing taken */
	usn_pool_fini(&p);
}

/* rx=pool over net_pcap: every frame of the file arrives byte for byte in
 * a slot the pool lent to the device, none copied; the mempool has fewer
 * mbufs than the file has frames, so the slots the stack frees are
 * filled again. A frame still held when the device goes stays valid and
 * is an ordinary buffer afterwards; every slot is the pool's again. */
static void test_rx_pool_net_pcap(void **state)
{
	(void)state;
	struct usn_pool p;
	assert_int_equal(usn_pool_init(&p, 4096, 2048, 128), 0);
	uint16_t pp;
	assert_int_equal(rte_eth_dev_get_port_by_name("net_pcap0", &pp), 0);
	char w[32];
	snprintf(w, sizeof(w), "port=%u rx=pool", pp);
	struct usn_dev *d = NULL;
	assert_int_equal(open_dev(w, &p, &d), 0);
	assert_true(p.dev_count > 0 && p.dev_count < PCAP_FRAMES);
	assert_int_equal(p.dev_first + p.dev_count, p.count);
	assert_int_equal(usn_pool_in_use(&p), 0);
	unsigned seen = 0;
	uint32_t held[8];
	unsigned nheld = 0;
	for (int tries = 0; seen < PCAP_FRAMES && tries < 100000; tries++) {
		uint32_t bufs[64];
		int n = usn_dev_rx_burst(d, bufs, 64, 0);
		assert_true(n >= 0);
		for (int i = 0; i < n; i++, seen++) {
			uint32_t b = bufs[i];
			struct usn_buf_meta *m = usn_buf_meta(&p, b);
			assert_true(b >= p.dev_first);
			assert_true(m->flags & USN_BUF_F_DEV);
			assert_int_equal(m->next, USN_BUF_NONE);
			assert_int_equal(m->off, 128);
			assert_ptr_equal(usn_buf_data(&p, b), usn_buf_slot(&p, b) + 128);
			check_frame(&p, b, 5000 + seen, pcap_frame_len(seen));
			if (seen % 500 == 0 && nheld < 8)
				held[nheld++] = b; /* kept a while */
			else
				usn_buf_free(&p, b);
		}
	}
	assert_int_equal(seen, PCAP_FRAMES);
	assert_int_equal(d->stats.rx_frames, PCAP_FRAMES);
	assert_int_equal(d->stats.rx_copied, 0);
	assert_int_equal(usn_pool_in_use(&p), nheld);
	/* One given back while the device lives, the others after it went. */
	usn_buf_free(&p, held[--nheld]);
	assert_int_equal(usn_pool_in_use(&p), nheld);
	usn_dev_destroy(d);
	assert_int_equal(p.dev_count, 0);
	assert_int_equal(p.nfree, p.count - nheld);
	for (unsigned i = 0; i < nheld; i++) {
		assert_int_equal(usn_buf_meta(&p, held[i])->flags & USN_BUF_F_DEV, 0);
		check_frame(&p, held[i], 5000 + i * 500, pcap_frame_len(i * 500));
		usn_buf_free(&p, held[i]);
	}
	assert_int_equal(p.nfree, p.count);
	assert_int_equal(usn_pool_in_use(&p), 0);
	/* The slots are ordinary again: all can be allocated. */
	for (uint32_t i = 0; i < p.count; i++)
		assert_int_not_equal(usn_buf_alloc(&p), USN_BUF_NONE);
	usn_pool_fini(&p);
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
		cmocka_unit_test(test_rx_pool_refused),
		cmocka_unit_test(test_rx_pool_net_pcap),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
