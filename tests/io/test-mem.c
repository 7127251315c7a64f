/* SPDX-License-Identifier: MIT */
/*
 * test-mem.c - the in-memory link (dev_mem.c) against the model in
 * dev_mem.h: delivery and delay, loss, duplication, reordering, corruption,
 * rate limit, MTU, the drop-tail queue, pool exhaustion, determinism under a
 * seed, and that destroying a link returns every buffer. Virtual time only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "dev_mem.h"
#include "pool.h"

#define MS 1000000ull
#define US 1000ull

struct fixture {
	struct usn_pool pa, pb;
	struct usn_memlink *link;
	struct usn_dev *a, *b;
};

static struct fixture *fx_new(uint32_t count_a, uint32_t count_b, uint64_t seed)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(usn_pool_init(&f->pa, count_a, 2048, 128), 0);
	assert_int_equal(usn_pool_init(&f->pb, count_b, 2048, 128), 0);
	assert_int_equal(usn_memlink_create(&f->pa, &f->pb, seed, &f->link, &f->a, &f->b), 0);
	assert_non_null(f->link);
	return f;
}

static void fx_free(struct fixture *f)
{
	usn_memlink_destroy(f->link);
	assert_int_equal(usn_pool_in_use(&f->pa), 0);
	assert_int_equal(usn_pool_in_use(&f->pb), 0);
	usn_pool_fini(&f->pa);
	usn_pool_fini(&f->pb);
	free(f);
}

/* A frame of len bytes: a 4-byte big-endian tag, then a pattern of it. */
static void fill(uint8_t *p, uint32_t len, uint32_t tag)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = i < 4 ? (uint8_t)(tag >> (24 - 8 * i)) : (uint8_t)(tag * 7u + i);
}

static uint32_t tag_of(struct usn_pool *p, uint32_t idx)
{
	const uint8_t *d = usn_buf_data(p, idx);

	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

/* Sends one frame; returns what tx_burst returned. */
static int send_frame(struct usn_dev *d, uint32_t len, uint32_t tag, uint64_t now)
{
	uint32_t idx = usn_buf_alloc(d->pool);

	assert_int_not_equal(idx, USN_BUF_NONE);
	fill(usn_buf_put(d->pool, idx, len), len, tag);
	return usn_dev_tx_burst(d, &idx, 1, now);
}

static int frame_matches(struct usn_pool *p, uint32_t idx, uint32_t len, uint32_t tag)
{
	uint8_t want[2048];

	fill(want, len, tag);
	return usn_buf_len(p, idx) == len && memcmp(usn_buf_data(p, idx), want, len) == 0;
}

static void free_all(struct usn_pool *p, const uint32_t *bufs, int n)
{
	for (int i = 0; i < n; i++)
		usn_buf_free(p, bufs[i]);
}

static void assert_conserved(const struct usn_memlink *l, int dir)
{
	const struct usn_memlink_dir_stats *s = usn_memlink_stats(l, dir);

	assert_int_equal(s->sent + s->duplicated, s->delivered + usn_memlink_in_flight(l, dir) + s->drop_loss +
							  s->drop_queue + s->drop_mtu + s->drop_nobuf);
}

static void test_delivery_exact_after_delay(void **state)
{
	struct fixture *f = fx_new(64, 64, 1);
	struct usn_memlink_dir_cfg cfg = { .delay_ns = 5 * MS };
	uint32_t got[16];

	(void)state;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	assert_int_equal(usn_dev_wait_fd(f->a), -1);
	assert_int_equal(usn_dev_next_rx_time(f->b), UINT64_MAX);
	assert_int_equal(usn_memlink_next_arrival(f->link), UINT64_MAX);

	/* three frames at the same time: same arrival, sending order kept */
	assert_int_equal(send_frame(f->a, 60, 10, 0), 1);
	assert_int_equal(send_frame(f->a, 1514, 11, 0), 1);
	assert_int_equal(send_frame(f->a, 14, 12, 0), 1);
	assert_int_equal(usn_pool_in_use(&f->pa), 0); /* sender's buffers freed */
	assert_int_equal(usn_pool_in_use(&f->pb), 3); /* copies held by the link */
	assert_int_equal(usn_memlink_in_flight(f->link, 0), 3);
	assert_int_equal(usn_memlink_in_flight(f->link, 1), 0);
	assert_int_equal(usn_dev_next_rx_time(f->b), 5 * MS);
	assert_int_equal(usn_dev_next_rx_time(f->a), UINT64_MAX);
	assert_int_equal(usn_memlink_next_arrival(f->link), 5 * MS);

	assert_int_equal(usn_dev_rx_burst(f->b, got, 16, 5 * MS - 1), 0);
	assert_int_equal(usn_dev_rx_burst(f->a, got, 16, 10 * MS), 0); /* wrong direction */
	/* max is honoured */
	assert_int_equal(usn_dev_rx_burst(f->b, got, 2, 5 * MS), 2);
	assert_true(frame_matches(&f->pb, got[0], 60, 10));
	assert_true(frame_matches(&f->pb, got[1], 1514, 11));
	free_all(&f->pb, got, 2);
	assert_int_equal(usn_dev_rx_burst(f->b, got, 16, 5 * MS), 1);
	assert_true(frame_matches(&f->pb, got[0], 14, 12));
	free_all(&f->pb, got, 1);
	assert_int_equal(usn_dev_next_rx_time(f->b), UINT64_MAX);

	assert_int_equal(f->a->stats.tx_frames, 3);
	assert_int_equal(f->a->stats.tx_bytes, 60 + 1514 + 14);
	assert_int_equal(f->b->stats.rx_frames, 3);
	assert_int_equal(f->b->stats.rx_bytes, 60 + 1514 + 14);
	assert_int_equal(usn_memlink_stats(f->link, 0)->delivered, 3);

	/* the other direction has no delay configured: it arrives at once */
	assert_int_equal(send_frame(f->b, 100, 20, 7 * MS), 1);
	assert_int_equal(usn_dev_next_rx_time(f->a), 7 * MS);
	assert_int_equal(usn_dev_rx_burst(f->a, got, 16, 7 * MS), 1);
	assert_true(frame_matches(&f->pa, got[0], 100, 20));
	free_all(&f->pa, got, 1);
	assert_conserved(f->link, 0);
	assert_conserved(f->link, 1);

	/* the devices belong to the link: destroying one is harmless */
	usn_dev_destroy(f->a);
	fx_free(f);
}

static void test_chain_is_flattened(void **state)
{
	struct fixture *f = fx_new(8, 8, 2);
	uint32_t h = usn_buf_alloc(&f->pa), t = usn_buf_alloc(&f->pa), bufs[2] = { 0 }, got[2];
	uint8_t want[300];

	(void)state;
	fill(want, sizeof(want), 99);
	memcpy(usn_buf_put(&f->pa, h, 100), want, 100);
	memcpy(usn_buf_put(&f->pa, t, 200), want + 100, 200);
	usn_buf_meta(&f->pa, h)->next = t;
	bufs[0] = h;
	assert_int_equal(usn_dev_tx_burst(f->a, bufs, 1, 0), 1);
	assert_int_equal(usn_pool_in_use(&f->pa), 0);
	assert_int_equal(usn_dev_rx_burst(f->b, got, 2, 0), 1);
	assert_int_equal(usn_buf_len(&f->pb, got[0]), 300);
	assert_memory_equal(usn_buf_data(&f->pb, got[0]), want, 300);
	free_all(&f->pb, got, 1);
	fx_free(f);
}

static void test_loss_all_and_none(void **state)
{
	struct fixture *f = fx_new(8, 2048, 3);
	struct usn_memlink_dir_cfg cfg = { .loss_ppm = 1000000 };
	uint32_t got[64];
	int n, total = 0;

	(void)state;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(send_frame(f->a, 64, i, 0), 1); /* transmitted, then lost */
	assert_int_equal(usn_dev_rx_burst(f->b, got, 64, UINT64_MAX), 0);
	assert_int_equal(usn_memlink_stats(f->link, 0)->drop_loss, 1000);
	assert_int_equal(f->a->stats.tx_frames, 1000);
	assert_int_equal(usn_pool_in_use(&f->pb), 0);

	cfg.loss_ppm = 0;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	for (uint32_t i = 0; i < 1000; i++)
		send_frame(f->a, 64, i, 1);
	while ((n = usn_dev_rx_burst(f->b, got, 64, 1)) > 0) {
		for (int k = 0; k < n; k++)
			assert_true(frame_matches(&f->pb, got[k], 64, (uint32_t)(total + k)));
		total += n;
		free_all(&f->pb, got, n);
	}
	assert_int_equal(total, 1000);
	assert_int_equal(usn_memlink_stats(f->link, 0)->drop_loss, 1000);
	assert_conserved(f->link, 0);
	fx_free(f);
}

static void test_loss_five_percent(void **state)
{
	struct fixture *f = fx_new(8, 64, 4);
	struct usn_memlink_dir_cfg cfg = { .loss_ppm = 50000 };
	const uint64_t frames = 100000;
	uint64_t delivered = 0, lost;
	uint32_t got[8];

	(void)state;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	for (uint64_t i = 0; i < frames; i++) {
		int n;

		send_frame(f->a, 60, (uint32_t)i, i);
		n = usn_dev_rx_burst(f->b, got, 8, i);
		delivered += (uint64_t)n;
		free_all(&f->pb, got, n);
	}
	lost = usn_memlink_stats(f->link, 0)->drop_loss;
	assert_int_equal(lost + delivered, frames);
	/* binomial(100000, 0.05): mean 5000, sd 69; allow 5 sd */
	assert_in_range(lost, 5000 - 345, 5000 + 345);
	fx_free(f);
}

static void test_duplication(void **state)
{
	struct fixture *f = fx_new(8, 512, 5);
	struct usn_memlink_dir_cfg cfg = { .dup_ppm = 1000000, .delay_ns = 1 * MS };
	uint32_t got[512];
	int n;

	(void)state;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	for (uint32_t i = 0; i < 100; i++)
		send_frame(f->a, 200, i, 0);
	assert_int_equal(usn_memlink_in_flight(f->link, 0), 200);
	n = usn_dev_rx_burst(f->b, got, 512, 1 * MS);
	assert_int_equal(n, 200);
	/* no jitter: both copies arrive together, original then copy */
	for (int k = 0; k < n; k++)
		assert_true(frame_matches(&f->pb, got[k], 200, (uint32_t)k / 2));
	free_all(&f->pb, got, n);
	assert_int_equal(usn_memlink_stats(f->link, 0)->duplicated, 100);
	assert_int_equal(usn_memlink_stats(f->link, 0)->delivered, 200);
	assert_conserved(f->link, 0);

	/* 30 % duplication */
	cfg.dup_ppm = 300000;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	for (uint32_t i = 0; i < 100; i++)
		send_frame(f->a, 60, i, 2 * MS);
	n = usn_dev_rx_burst(f->b, got, 512, 3 * MS);
	assert_int_equal((uint64_t)n, 100 + usn_memlink_stats(f->link, 0)->duplicated - 100);
	assert_in_range(n, 110, 160);
	free_all(&f->pb, got, n);
	fx_free(f);
}

static void test_reordering(void **state)
{
	struct fixture *f = fx_new(8, 1024, 6);
	struct usn_memlink_dir_cfg cfg = { .reorder_ppm = 200000, .delay_ns = 100 * US };
	uint8_t seen[1000] = { 0 };
	uint32_t got[64], last = 0;
	int total = 0, inversions = 0;
	uint64_t now;

	(void)state;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	for (now = 0; now < 1000 * 10 * US + 10 * MS; now += 10 * US) {
		int n;

		if (now < 1000 * 10 * US)
			send_frame(f->a, 64, (uint32_t)(now / (10 * US)), now);
		n = usn_dev_rx_burst(f->b, got, 64, now);
		for (int k = 0; k < n; k++) {
			uint32_t tag = tag_of(&f->pb, got[k]);

			assert_true(frame_matches(&f->pb, got[k], 64, tag));
			assert_true(tag < 1000);
			assert_false(seen[tag]);
			seen[tag] = 1;
			if (total && tag < last)
				inversions++;
			last = tag;
			total++;
		}
		free_all(&f->pb, got, n);
	}
	assert_int_equal(total, 1000);
	assert_int_equal(usn_memlink_in_flight(f->link, 0), 0);
	/* about 200 frames held back by 1 ms (100 sending slots) */
	assert_in_range(usn_memlink_stats(f->link, 0)->reordered, 140, 260);
	assert_true(inversions > 100);
	fx_free(f);
}

static void test_corruption_flips_one_bit(void **state)
{
	struct fixture *f = fx_new(8, 256, 7);
	struct usn_memlink_dir_cfg cfg = { .corrupt_ppm = 1000000 };
	uint32_t got[256];
	uint8_t want[1000];
	int n;

	(void)state;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	for (uint32_t i = 0; i < 200; i++)
		send_frame(f->a, 1000, i, 0);
	n = usn_dev_rx_burst(f->b, got, 256, 0);
	assert_int_equal(n, 200);
	for (int k = 0; k < n; k++) {
		const uint8_t *d = usn_buf_data(&f->pb, got[k]);
		int bits = 0;

		/* the tag itself may be the corrupted part: compare against
		 * the frame that was sent k-th */
		fill(want, 1000, (uint32_t)k);
		assert_int_equal(usn_buf_len(&f->pb, got[k]), 1000);
		for (int j = 0; j < 1000; j++)
			bits += __builtin_popcount((unsigned)(d[j] ^ want[j]));
		assert_int_equal(bits, 1);
	}
	free_all(&f->pb, got, n);
	assert_int_equal(usn_memlink_stats(f->link, 0)->corrupted, 200);
	fx_free(f);
}

static void test_rate_limit_spacing(void **state)
{
	struct fixture *f = fx_new(16, 64, 8);
	struct usn_memlink_dir_cfg cfg = { .rate_bps = 12000000, .delay_ns = 2 * MS };
	uint32_t got[16];

	(void)state;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	/* 1500 bytes at 12 Mbit/s take 1 ms each on the wire */
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(send_frame(f->a, 1500, i, 0), 1);
	for (uint32_t i = 0; i < 10; i++) {
		uint64_t at = (i + 1) * MS + 2 * MS;

		assert_int_equal(usn_dev_next_rx_time(f->b), at);
		assert_int_equal(usn_dev_rx_burst(f->b, got, 16, at - 1), 0);
		assert_int_equal(usn_dev_rx_burst(f->b, got, 16, at), 1);
		assert_true(frame_matches(&f->pb, got[0], 1500, i));
		free_all(&f->pb, got, 1);
	}
	/* an idle link starts serialising at `now` */
	send_frame(f->a, 1500, 50, 100 * MS);
	assert_int_equal(usn_dev_next_rx_time(f->b), 103 * MS);
	/* a 64-byte frame: ceil(512 bits / 12 Mbit/s) = 42667 ns, behind it */
	send_frame(f->a, 64, 51, 100 * MS);
	assert_int_equal(usn_dev_rx_burst(f->b, got, 16, 103 * MS), 1);
	free_all(&f->pb, got, 1);
	assert_int_equal(usn_dev_next_rx_time(f->b), 103 * MS + 42667);
	fx_free(f);
}

static void test_mtu_drop(void **state)
{
	struct fixture *f = fx_new(8, 8, 9);
	struct usn_memlink_dir_cfg cfg = { .mtu = 1000 };
	uint32_t got[8];

	(void)state;
	assert_int_equal(f->a->mtu, 1500);
	assert_int_equal(send_frame(f->a, 1514, 1, 0), 1);
	assert_int_equal(send_frame(f->a, 1515, 2, 0), 0);
	assert_int_equal(usn_memlink_stats(f->link, 0)->drop_mtu, 1);
	assert_int_equal(f->a->stats.tx_drop, 1);

	usn_memlink_set_cfg(f->link, 0, &cfg);
	assert_int_equal(f->a->mtu, 1000);
	assert_int_equal(f->b->mtu, 1500);
	assert_int_equal(send_frame(f->a, 1014, 3, 0), 1);
	assert_int_equal(send_frame(f->a, 1015, 4, 0), 0);
	assert_int_equal(usn_memlink_stats(f->link, 0)->drop_mtu, 2);
	assert_int_equal(f->a->stats.tx_drop, 2);
	assert_int_equal(usn_dev_rx_burst(f->b, got, 8, 0), 2);
	assert_true(frame_matches(&f->pb, got[0], 1514, 1));
	assert_true(frame_matches(&f->pb, got[1], 1014, 3));
	free_all(&f->pb, got, 2);

	/* a frame within the MTU but larger than the receiver's buffers
	 * (2048 - 128) goes out and is lost at the receiver */
	cfg.mtu = 9000;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	assert_int_equal(send_frame(f->a, 1920, 5, 0), 1);
	assert_int_equal(usn_dev_rx_burst(f->b, got, 8, 0), 1);
	free_all(&f->pb, got, 1);
	{
		/* 1921 bytes need a chain on the sending side */
		uint32_t h = usn_buf_alloc(&f->pa), t = usn_buf_alloc(&f->pa);

		usn_buf_put(&f->pa, h, 1000);
		usn_buf_put(&f->pa, t, 921);
		usn_buf_meta(&f->pa, h)->next = t;
		assert_int_equal(usn_dev_tx_burst(f->a, &h, 1, 0), 1);
	}
	assert_int_equal(usn_dev_rx_burst(f->b, got, 8, 0), 0);
	assert_int_equal(f->b->stats.rx_drop_oversize, 1);
	assert_int_equal(usn_memlink_stats(f->link, 0)->drop_mtu, 3);
	assert_conserved(f->link, 0);
	fx_free(f);
}

static void test_queue_bytes_drop_tail(void **state)
{
	struct fixture *f = fx_new(16, 64, 10);
	struct usn_memlink_dir_cfg cfg = { .rate_bps = 12000000, .queue_bytes = 3000 };
	uint32_t got[16];

	(void)state;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	/* backlog 0, then 1500: both fit; 3000 + 1500 > 3000 does not */
	assert_int_equal(send_frame(f->a, 1500, 0, 0), 1);
	assert_int_equal(send_frame(f->a, 1500, 1, 0), 1);
	assert_int_equal(send_frame(f->a, 1500, 2, 0), 0);
	assert_int_equal(send_frame(f->a, 1500, 3, 0), 0);
	/* a small frame still fits nowhere: the backlog is full */
	assert_int_equal(send_frame(f->a, 1, 4, 0), 0);
	assert_int_equal(usn_memlink_stats(f->link, 0)->drop_queue, 3);
	assert_int_equal(f->a->stats.tx_drop, 3);
	/* just before the first frame's last bit leaves, still full */
	assert_int_equal(send_frame(f->a, 1500, 5, 1 * MS - 1), 0);
	/* at 1 ms it has departed: room for one more */
	assert_int_equal(send_frame(f->a, 1500, 6, 1 * MS), 1);
	assert_int_equal(send_frame(f->a, 1500, 7, 1 * MS), 0);
	assert_int_equal(usn_memlink_stats(f->link, 0)->drop_queue, 5);

	assert_int_equal(usn_dev_rx_burst(f->b, got, 16, 1 * MS), 1);
	assert_true(frame_matches(&f->pb, got[0], 1500, 0));
	free_all(&f->pb, got, 1);
	assert_int_equal(usn_dev_rx_burst(f->b, got, 16, 2 * MS), 1);
	assert_true(frame_matches(&f->pb, got[0], 1500, 1));
	free_all(&f->pb, got, 1);
	assert_int_equal(usn_dev_next_rx_time(f->b), 3 * MS);
	assert_int_equal(usn_dev_rx_burst(f->b, got, 16, 3 * MS), 1);
	assert_true(frame_matches(&f->pb, got[0], 1500, 6));
	free_all(&f->pb, got, 1);
	assert_conserved(f->link, 0);

	/* without a rate limit nothing waits: only a frame larger than the
	 * bound is refused */
	cfg.rate_bps = 0;
	cfg.queue_bytes = 1000;
	usn_memlink_set_cfg(f->link, 0, &cfg);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(send_frame(f->a, 1000, i, 10 * MS), 1);
	assert_int_equal(send_frame(f->a, 1001, 99, 10 * MS), 0);
	assert_int_equal(usn_dev_rx_burst(f->b, got, 16, 10 * MS), 10);
	free_all(&f->pb, got, 10);
	fx_free(f);
}

static void test_receiver_pool_empty(void **state)
{
	struct fixture *f = fx_new(8, 4, 11);
	uint32_t got[8];

	(void)state;
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(send_frame(f->a, 100, i, 0), 1);
	assert_int_equal(usn_memlink_in_flight(f->link, 0), 4);
	assert_int_equal(usn_memlink_stats(f->link, 0)->drop_nobuf, 6);
	assert_int_equal(f->b->stats.rx_drop_nobuf, 6);
	assert_int_equal(usn_dev_rx_burst(f->b, got, 8, 0), 4);
	for (int k = 0; k < 4; k++)
		assert_true(frame_matches(&f->pb, got[k], 100, (uint32_t)k));
	free_all(&f->pb, got, 4);
	assert_conserved(f->link, 0);
	fx_free(f);
}

/* Runs a fixed scenario with every impairment and returns a digest of the
 * delivery sequence (arrival order, times, contents). */
static uint64_t run_scenario(uint64_t seed, uint64_t *ret_delivered)
{
	struct fixture *f = fx_new(4096, 4096, seed);
	struct usn_memlink_dir_cfg cfg = {
		.loss_ppm = 50000, .dup_ppm = 50000, .reorder_ppm = 50000, .corrupt_ppm = 50000,
		.delay_ns = 3 * MS, .jitter_ns = 500 * US, .rate_bps = 100000000, .queue_bytes = 60000,
	};
	uint64_t h = 1469598103934665603ull, delivered = 0;
	uint32_t got[64];

	usn_memlink_set_cfg(f->link, 0, &cfg);
	usn_memlink_set_cfg(f->link, 1, &cfg);
	for (uint64_t now = 0; now < 200 * MS; now += 50 * US) {
		struct usn_dev *devs[2] = { f->a, f->b };

		if (now < 150 * MS) {
			send_frame(f->a, 60 + (uint32_t)(now / (50 * US)) % 1400, (uint32_t)(now / US), now);
			send_frame(f->b, 80, (uint32_t)(now / US) + 7, now);
		}
		for (int d = 0; d < 2; d++) {
			int n = usn_dev_rx_burst(devs[d], got, 64, now);

			for (int k = 0; k < n; k++) {
				const uint8_t *p = usn_buf_data(devs[d]->pool, got[k]);

				h = (h ^ now ^ (uint64_t)d << 63) * 1099511628211ull;
				for (uint32_t j = 0; j < usn_buf_len(devs[d]->pool, got[k]); j++)
					h = (h ^ p[j]) * 1099511628211ull;
			}
			delivered += (uint64_t)n;
			free_all(devs[d]->pool, got, n);
		}
	}
	assert_int_equal(usn_memlink_in_flight(f->link, 0) + usn_memlink_in_flight(f->link, 1), 0);
	assert_conserved(f->link, 0);
	assert_conserved(f->link, 1);
	for (int d = 0; d < 2; d++) {
		const struct usn_memlink_dir_stats *s = usn_memlink_stats(f->link, d);

		assert_true(s->drop_loss > 0 && s->duplicated > 0 && s->reordered > 0 && s->corrupted > 0);
	}
	*ret_delivered = delivered;
	fx_free(f);
	return h;
}

static void test_same_seed_same_run(void **state)
{
	uint64_t d1, d2, d3;
	uint64_t h1 = run_scenario(42, &d1);
	uint64_t h2 = run_scenario(42, &d2);
	uint64_t h3 = run_scenario(43, &d3);

	(void)state;
	assert_true(d1 > 5000);
	assert_int_equal(h1, h2);
	assert_int_equal(d1, d2);
	assert_int_not_equal(h1, h3);
}

static void test_destroy_with_frames_in_flight(void **state)
{
	struct usn_pool pa, pb;
	struct usn_memlink *l;
	struct usn_dev *a, *b;
	struct usn_memlink_dir_cfg cfg = { .delay_ns = 1000 * MS, .dup_ppm = 500000 };
	uint32_t pa_base, pb_base;

	(void)state;
	assert_int_equal(usn_pool_init(&pa, 256, 2048, 128), 0);
	assert_int_equal(usn_pool_init(&pb, 256, 2048, 128), 0);
	pa_base = usn_pool_in_use(&pa);
	pb_base = usn_pool_in_use(&pb);
	assert_int_equal(usn_memlink_create(&pa, &pb, 12, &l, &a, &b), 0);
	usn_memlink_set_cfg(l, 0, &cfg);
	usn_memlink_set_cfg(l, 1, &cfg);
	for (uint32_t i = 0; i < 50; i++) {
		send_frame(a, 300, i, 0);
		send_frame(b, 300, i, 0);
	}
	assert_true(usn_memlink_in_flight(l, 0) >= 50);
	assert_true(usn_memlink_in_flight(l, 1) >= 50);
	assert_int_equal(usn_pool_in_use(&pb), usn_memlink_in_flight(l, 0));
	assert_int_equal(usn_memlink_next_arrival(l), 1000 * MS);
	usn_memlink_destroy(l);
	assert_int_equal(usn_pool_in_use(&pa), pa_base);
	assert_int_equal(usn_pool_in_use(&pb), pb_base);

	/* one pool shared by both ends */
	assert_int_equal(usn_memlink_create(&pa, &pa, 13, &l, &a, &b), 0);
	for (uint32_t i = 0; i < 20; i++)
		send_frame(a, 300, i, 0);
	assert_int_equal(usn_pool_in_use(&pa), 20);
	usn_memlink_destroy(l);
	assert_int_equal(usn_pool_in_use(&pa), pa_base);
	usn_pool_fini(&pa);
	usn_pool_fini(&pb);
}

static void test_create_refuses_no_pool(void **state)
{
	struct usn_pool p;
	struct usn_memlink *l = (void *)1;
	struct usn_dev *a, *b;

	(void)state;
	assert_int_equal(usn_pool_init(&p, 4, 2048, 128), 0);
	assert_int_equal(usn_memlink_create(&p, NULL, 1, &l, &a, &b), -EINVAL);
	assert_null(l);
	assert_null(usn_memlink_stats(NULL, 2));
	usn_pool_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery_exact_after_delay),
		cmocka_unit_test(test_chain_is_flattened),
		cmocka_unit_test(test_loss_all_and_none),
		cmocka_unit_test(test_loss_five_percent),
		cmocka_unit_test(test_duplication),
		cmocka_unit_test(test_reordering),
		cmocka_unit_test(test_corruption_flips_one_bit),
		cmocka_unit_test(test_rate_limit_spacing),
		cmocka_unit_test(test_mtu_drop),
		cmocka_unit_test(test_queue_bytes_drop_tail),
		cmocka_unit_test(test_receiver_pool_empty),
		cmocka_unit_test(test_same_seed_same_run),
		cmocka_unit_test(test_destroy_with_frames_in_flight),
		cmocka_unit_test(test_create_refuses_no_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
