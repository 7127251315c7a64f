/* SPDX-License-Identifier: MIT */
/*
 * test-pool.c - the packet-buffer pool: refused sizes, exhaustion and
 * refill, LIFO reuse, in-use accounting, fresh metadata on alloc, distinct
 * and non-overlapping data regions, head and tail room limits, chains
 * (length, copy at any offset, free), validity checks, and (in debug
 * builds) the assertion on a double free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool.h"
#include "usnet/usnet.h"

static void test_init_refuses_bad_params(void **state)
{
	struct usn_pool p;

	assert_int_equal(usn_pool_init(&p, 0, 2048, 128), -EINVAL);       /* no buffers */
	assert_int_equal(usn_pool_init(&p, 16, 2000, 128), -EINVAL);      /* not 64-aligned */
	assert_int_equal(usn_pool_init(&p, 16, 0, 0), -EINVAL);           /* empty */
	assert_int_equal(usn_pool_init(&p, 16, 192, 192), -EINVAL);       /* no data room */
	assert_int_equal(usn_pool_init(&p, 16, 192, 129), -EINVAL);       /* < 64 after headroom */
	assert_int_equal(usn_pool_init(&p, 16, 128, 256), -EINVAL);       /* headroom > size */
	assert_int_equal(usn_pool_init(&p, UINT32_MAX, 64, 0), -EINVAL);  /* index NONE */
	assert_null(p.base);
	assert_null(p.meta);
	/* The smallest legal shapes. */
	assert_int_equal(usn_pool_init(&p, 1, 64, 0), 0);
	assert_int_equal(p.count, 1);
	usn_pool_fini(&p);
	assert_int_equal(usn_pool_init(&p, 1, 192, 128), 0);
	usn_pool_fini(&p);
}

static void test_huge_region_maps(void **state)
{
	struct usn_pool p;
	uint32_t idx;

	/* 4 MiB: huge pages tried; works either way. */
	assert_int_equal(usn_pool_init(&p, 2048, 2048, 128), 0);
	assert_true(p.region_len >= (size_t)2048 * 2048);
	if (p.huge)
		assert_int_equal(p.region_len % (2u << 20), 0);
	idx = usn_buf_alloc(&p);
	/* the last byte of the last slot is writable */
	usn_buf_slot(&p, 2047)[2047] = 0x5a;
	assert_int_equal(usn_buf_slot(&p, 2047)[2047], 0x5a);
	usn_buf_free(&p, idx);
	usn_pool_fini(&p);
	assert_null(p.base);
	usn_pool_fini(&p); /* twice is harmless */
}

static void test_exhaust_and_refill(void **state)
{
	enum { N = 37 };
	struct usn_pool p;
	uint32_t idx[N];
	uint8_t seen[N] = { 0 };

	assert_int_equal(usn_pool_init(&p, N, 256, 64), 0);
	assert_int_equal(usn_pool_in_use(&p), 0);
	for (int i = 0; i < N; i++) {
		idx[i] = usn_buf_alloc(&p);
		assert_true(idx[i] < N);
		assert_int_equal(seen[idx[i]], 0);
		seen[idx[i]] = 1;
		assert_true(usn_buf_valid(&p, idx[i]));
		assert_int_equal(usn_pool_in_use(&p), i + 1);
	}
	assert_int_equal(usn_buf_alloc(&p), USN_BUF_NONE);
	assert_int_equal(usn_buf_alloc(&p), USN_BUF_NONE);
	assert_int_equal(usn_pool_in_use(&p), N);
	for (int i = 0; i < N; i++) {
		usn_buf_free(&p, idx[i]);
		assert_false(usn_buf_valid(&p, idx[i]));
		assert_int_equal(usn_pool_in_use(&p), N - 1 - i);
	}
	/* Every buffer can be had again. */
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < N; i++) {
		uint32_t b = usn_buf_alloc(&p);

		assert_true(b < N);
		assert_int_equal(seen[b], 0);
		seen[b] = 1;
	}
	assert_int_equal(usn_buf_alloc(&p), USN_BUF_NONE);
	usn_pool_fini(&p);
}

static void test_lifo_and_fresh_meta(void **state)
{
	struct usn_pool p;
	uint32_t a, b, c;
	struct usn_buf_meta *m;

	assert_int_equal(usn_pool_init(&p, 8, 512, 128), 0);
	a = usn_buf_alloc(&p);
	b = usn_buf_alloc(&p);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	m = usn_buf_meta(&p, b);
	m->len = 77;
	m->off = 3;
	m->next = a;
	m->aux = 0xdeadbeef;
	usn_buf_free(&p, b);
	/* The buffer freed last comes back first, reset. */
	c = usn_buf_alloc(&p);
	assert_int_equal(c, b);
	m = usn_buf_meta(&p, c);
	assert_int_equal(m->off, 128);
	assert_int_equal(m->len, 0);
	assert_int_equal(m->next, USN_BUF_NONE);
	assert_int_equal(m->aux, 0);
	assert_int_equal(m->flags, USN_BUF_F_ALLOCATED);
	assert_ptr_equal(usn_buf_data(&p, c), usn_buf_slot(&p, c) + 128);
	assert_int_equal(usn_buf_tailroom(&p, c), 512 - 128);
	usn_pool_fini(&p);
}

static void test_regions_distinct(void **state)
{
	enum { N = 64, SZ = 320 };
	struct usn_pool p;
	uint32_t idx[N];

	assert_int_equal(usn_pool_init(&p, N, SZ, 64), 0);
	for (int i = 0; i < N; i++) {
		idx[i] = usn_buf_alloc(&p);
		/* slots are 64-byte aligned and inside the region */
		assert_int_equal((uintptr_t)usn_buf_slot(&p, idx[i]) % 64, 0);
		assert_true(usn_buf_slot(&p, idx[i]) >= p.base);
		assert_true(usn_buf_slot(&p, idx[i]) + SZ <= p.base + p.region_len);
		memset(usn_buf_slot(&p, idx[i]), i, SZ);
	}
	/* Fill each whole slot with its own byte: none overwrote another. */
	for (int i = 0; i < N; i++) {
		uint8_t *s = usn_buf_slot(&p, idx[i]);

		for (int j = 0; j < SZ; j++)
			assert_int_equal(s[j], i);
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			assert_int_not_equal(idx[i], idx[j]);
	usn_pool_fini(&p);
}

static void test_push_pull_put_trim(void **state)
{
	struct usn_pool p;
	uint32_t b;
	uint8_t *d, *t;

	assert_int_equal(usn_pool_init(&p, 4, 256, 64), 0);
	b = usn_buf_alloc(&p);
	/* put: payload at the end */
	t = usn_buf_put(&p, b, 100);
	assert_ptr_equal(t, usn_buf_slot(&p, b) + 64);
	memset(t, 0xaa, 100);
	assert_int_equal(usn_buf_len(&p, b), 100);
	assert_int_equal(usn_buf_tailroom(&p, b), 256 - 64 - 100);
	/* put beyond the tailroom is refused and changes nothing */
	assert_null(usn_buf_put(&p, b, 93));
	assert_int_equal(usn_buf_len(&p, b), 100);
	t = usn_buf_put(&p, b, 92);
	assert_non_null(t);
	assert_int_equal(usn_buf_tailroom(&p, b), 0);
	assert_null(usn_buf_put(&p, b, 1));
	assert_non_null(usn_buf_put(&p, b, 0));

	/* push: headers in front */
	d = usn_buf_push(&p, b, 20);
	assert_ptr_equal(d, usn_buf_slot(&p, b) + 44);
	assert_int_equal(usn_buf_len(&p, b), 212);
	assert_null(usn_buf_push(&p, b, 45)); /* only 44 left */
	assert_int_equal(usn_buf_meta(&p, b)->off, 44);
	d = usn_buf_push(&p, b, 44);
	assert_ptr_equal(d, usn_buf_slot(&p, b));
	assert_null(usn_buf_push(&p, b, 1));
	assert_int_equal(usn_buf_len(&p, b), 256);

	/* pull: strip headers */
	d = usn_buf_pull(&p, b, 64);
	assert_ptr_equal(d, usn_buf_slot(&p, b) + 64);
	assert_int_equal(d[0], 0xaa);
	assert_int_equal(usn_buf_len(&p, b), 192);
	assert_null(usn_buf_pull(&p, b, 193));
	assert_int_equal(usn_buf_len(&p, b), 192);

	/* trim: shorten only */
	assert_int_equal(usn_buf_trim(&p, b, 193), -EINVAL);
	assert_int_equal(usn_buf_trim(&p, b, 50), 0);
	assert_int_equal(usn_buf_len(&p, b), 50);
	assert_int_equal(usn_buf_trim(&p, b, 50), 0);
	assert_int_equal(usn_buf_trim(&p, b, 0), 0);
	assert_int_equal(usn_buf_len(&p, b), 0);
	d = usn_buf_pull(&p, b, 0);
	assert_non_null(d);
	usn_pool_fini(&p);
}

/* Three buffers holding 0..249 in pieces of 100, 50 and 100 bytes. */
static uint32_t make_chain(struct usn_pool *p)
{
	static const uint32_t lens[] = { 100, 50, 100 };
	uint32_t head = USN_BUF_NONE, prev = USN_BUF_NONE;
	uint8_t v = 0;

	for (int i = 0; i < 3; i++) {
		uint32_t b = usn_buf_alloc(p);
		uint8_t *d = usn_buf_put(p, b, lens[i]);

		for (uint32_t j = 0; j < lens[i]; j++)
			d[j] = v++;
		if (prev == USN_BUF_NONE)
			head = b;
		else
			usn_buf_meta(p, prev)->next = b;
		prev = b;
	}
	return head;
}

static void test_chain_ops(void **state)
{
	struct usn_pool p;
	uint8_t out[300];
	uint32_t head, other;
	size_t n;

	assert_int_equal(usn_pool_init(&p, 8, 256, 64), 0);
	other = usn_buf_alloc(&p);
	head = make_chain(&p);
	assert_int_equal(usn_pool_in_use(&p), 4);
	assert_int_equal(usn_buf_chain_len(&p, head), 250);
	assert_int_equal(usn_buf_chain_len(&p, USN_BUF_NONE), 0);
	assert_int_equal(usn_buf_chain_len(&p, other), 0);

	/* whole chain */
	memset(out, 0xff, sizeof(out));
	n = usn_buf_chain_copy(&p, head, 0, out, sizeof(out));
	assert_int_equal(n, 250);
	for (int i = 0; i < 250; i++)
		assert_int_equal(out[i], i);
	assert_int_equal(out[250], 0xff);
	/* offsets on and across buffer boundaries */
	static const size_t offs[] = { 0, 1, 99, 100, 101, 149, 150, 151, 249 };
	for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		memset(out, 0xff, sizeof(out));
		n = usn_buf_chain_copy(&p, head, offs[k], out, 60);
		assert_int_equal(n, offs[k] + 60 <= 250 ? 60 : 250 - offs[k]);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(out[i], offs[k] + i);
		assert_int_equal(out[n], 0xff);
	}
	assert_int_equal(usn_buf_chain_copy(&p, head, 250, out, 10), 0);
	assert_int_equal(usn_buf_chain_copy(&p, head, 1000, out, 10), 0);
	assert_int_equal(usn_buf_chain_copy(&p, head, 10, out, 0), 0);
	assert_int_equal(usn_buf_chain_copy(&p, USN_BUF_NONE, 0, out, 10), 0);

	usn_buf_free_chain(&p, head);
	assert_int_equal(usn_pool_in_use(&p), 1);
	assert_true(usn_buf_valid(&p, other));
	usn_buf_free_chain(&p, USN_BUF_NONE);
	usn_buf_free_chain(&p, other);
	assert_int_equal(usn_pool_in_use(&p), 0);
	usn_pool_fini(&p);
}

static struct {
	uint32_t idx[16];
	int n;
} given_back;

static void give_back(void *ctx, uint32_t idx)
{
	assert_ptr_equal(ctx, &given_back);
	given_back.idx[given_back.n++] = idx;
}

/* Slots lent to a device for good (usn_pool_dev_take): out of the free
 * stack, handed to the stack holding a frame (deliver), back to the device
 * when freed; and at release, the ones the device held go back to the pool
 * and the ones the stack held become ordinary buffers. */
static void test_dev_slots(void **state)
{
	(void)state;
	struct usn_pool p;
	uint32_t first, b;
	assert_int_equal(usn_pool_init(&p, 16, 256, 64), 0);
	uint32_t early = usn_buf_alloc(&p); /* slot 0 */
	assert_int_equal(usn_pool_dev_take(&p, 0, give_back, &given_back, &first), -EINVAL);
	assert_int_equal(usn_pool_dev_take(&p, 16, give_back, &given_back, &first), -EINVAL);
	assert_int_equal(usn_pool_dev_take(&p, 3, NULL, &given_back, &first), -EINVAL);
	/* Slot 0 is allocated: the highest 15 are free and can be lent. */
	assert_int_equal(usn_pool_dev_take(&p, 15, give_back, &given_back, &first), 0);
	assert_int_equal(first, 1);
	usn_pool_dev_release(&p);
	assert_int_equal(p.nfree, 15);
	assert_int_equal(usn_pool_dev_take(&p, 6, give_back, &given_back, &first), 0);
	assert_int_equal(first, 10);
	assert_int_equal(usn_pool_dev_take(&p, 1, give_back, &given_back, &first), -EBUSY);
	assert_int_equal(p.nfree, 9);
	assert_int_equal(usn_pool_in_use(&p), 1); /* lent slots are not in use */
	/* No allocation hands a lent slot out. */
	uint32_t got[9];
	for (int i = 0; i < 9; i++) {
		got[i] = usn_buf_alloc(&p);
		assert_true(got[i] < 10);
	}
	assert_int_equal(usn_buf_alloc(&p), USN_BUF_NONE);
	for (int i = 0; i < 9; i++)
		usn_buf_free(&p, got[i]);
	/* Delivered: a frame in the slot, ALLOCATED and DEV. */
	assert_int_equal(usn_pool_dev_deliver(&p, 9, 64, 10), -EINVAL);   /* not lent */
	assert_int_equal(usn_pool_dev_deliver(&p, 12, 200, 57), -EINVAL); /* past the slot */
	assert_int_equal(usn_pool_dev_deliver(&p, 12, 64, 100), 0);
	assert_int_equal(usn_pool_dev_deliver(&p, 12, 64, 100), -EINVAL); /* twice */
	assert_true(usn_buf_valid(&p, 12));
	assert_ptr_equal(usn_buf_data(&p, 12), usn_buf_slot(&p, 12) + 64);
	assert_int_equal(usn_buf_len(&p, 12), 100);
	assert_int_equal(usn_pool_in_use(&p), 2);
	assert_non_null(usn_buf_push(&p, 12, 14)); /* it has its headroom */
	usn_buf_free(&p, 12);
	assert_int_equal(given_back.n, 1);
	assert_int_equal(given_back.idx[0], 12);
	assert_false(usn_buf_valid(&p, 12));
	assert_int_equal(usn_pool_in_use(&p), 1);
	assert_int_equal(p.nfree, 9); /* not to the pool */
	/* Delivered again, then the device goes while the stack holds it. */
	assert_int_equal(usn_pool_dev_deliver(&p, 12, 64, 5), 0);
	assert_int_equal(usn_pool_dev_deliver(&p, 15, 64, 5), 0);
	usn_pool_dev_release(&p);
	assert_int_equal(p.nfree, 9 + 4);
	assert_int_equal(usn_pool_in_use(&p), 3);
	usn_buf_free(&p, 12);
	usn_buf_free(&p, 15);
	assert_int_equal(given_back.n, 1); /* ordinary buffers now */
	usn_buf_free(&p, early);
	assert_int_equal(p.nfree, 16);
	assert_int_equal(usn_pool_in_use(&p), 0);
	for (int i = 0; i < 16; i++)
		assert_int_not_equal((b = usn_buf_alloc(&p)), USN_BUF_NONE);
	usn_pool_fini(&p);
}

static void test_valid(void **state)
{
	struct usn_pool p;
	uint32_t b;

	assert_int_equal(usn_pool_init(&p, 4, 128, 0), 0);
	assert_false(usn_buf_valid(&p, 0));
	b = usn_buf_alloc(&p);
	assert_true(usn_buf_valid(&p, b));
	assert_false(usn_buf_valid(&p, 4));
	assert_false(usn_buf_valid(&p, USN_BUF_NONE));
	usn_buf_free(&p, b);
	assert_false(usn_buf_valid(&p, b));
	usn_pool_fini(&p);
}

#ifndef NDEBUG
/* A double free or a stray index is an internal bug: the debug build
 * aborts on it. Run in a child so the test process survives. */
static void expect_abort(void (*fn)(struct usn_pool *p))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct usn_pool p;

		/* keep the expected abort quiet */
		if (!freopen("/dev/null", "w", stderr))
			_exit(3);
		if (usn_pool_init(&p, 4, 128, 0) != 0)
			_exit(2);
		fn(&p);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void do_double_free(struct usn_pool *p)
{
	uint32_t b = usn_buf_alloc(p);

	usn_buf_free(p, b);
	usn_buf_free(p, b);
}

static void do_free_out_of_range(struct usn_pool *p)
{
	usn_buf_free(p, 4);
}

static void do_free_never_allocated(struct usn_pool *p)
{
	usn_buf_free(p, 2);
}

static void test_bad_free_asserts(void **state)
{
	expect_abort(do_double_free);
	expect_abort(do_free_out_of_range);
	expect_abort(do_free_never_allocated);
}
#endif

/* Lent memory (USN_BUF_F_EXT): the buffer names the caller's bytes, holds
 * one reference on them, and gives it back when freed. */
static unsigned ext_released;
static void ext_release(struct usn_memref *r)
{
	(void)r;
	ext_released++;
}

static void test_ext_buffer(void **state)
{
	(void)state;
	struct usn_pool p;
	static const uint8_t lent[100] = {1, 2, 3, 4, 5};
	struct usn_memref ref = {.refs = 1, .release = ext_release};
	assert_int_equal(usn_pool_init(&p, 8, 2048, 128), 0);
	uint32_t b = usn_buf_alloc_ext(&p, lent, sizeof(lent), &ref);
	assert_int_not_equal(b, USN_BUF_NONE);
	assert_int_equal(ref.refs, 2);
	assert_ptr_equal(usn_buf_data(&p, b), lent);
	assert_int_equal(usn_buf_len(&p, b), 100);
	assert_int_equal(usn_buf_tailroom(&p, b), 0);
	assert_null(usn_buf_put(&p, b, 1));
	assert_null(usn_buf_push(&p, b, 1));
	assert_ptr_equal(usn_buf_pull(&p, b, 2), lent + 2);
	assert_int_equal(usn_buf_len(&p, b), 98);
	uint8_t out[4];
	assert_int_equal(usn_buf_chain_copy(&p, b, 0, out, 3), 3);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[2], 5);
	usn_buf_free(&p, b);
	assert_int_equal(ref.refs, 1);
	assert_int_equal(ext_released, 0);
	/* the last reference going calls release */
	b = usn_buf_alloc_ext(&p, lent, 10, &ref);
	ref.refs--; /* the owner lets go while the buffer still holds it */
	usn_buf_free(&p, b);
	assert_int_equal(ref.refs, 0);
	assert_int_equal(ext_released, 1);
	/* a reused buffer is an ordinary one again */
	b = usn_buf_alloc(&p);
	assert_int_equal(usn_buf_meta(&p, b)->flags & USN_BUF_F_EXT, 0);
	assert_true(usn_buf_tailroom(&p, b) > 0);
	usn_buf_free(&p, b);
	assert_int_equal(usn_pool_in_use(&p), 0);
	usn_pool_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_refuses_bad_params),
		cmocka_unit_test(test_huge_region_maps),
		cmocka_unit_test(test_exhaust_and_refill),
		cmocka_unit_test(test_lifo_and_fresh_meta),
		cmocka_unit_test(test_regions_distinct),
		cmocka_unit_test(test_push_pull_put_trim),
		cmocka_unit_test(test_chain_ops),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_dev_slots),
		cmocka_unit_test(test_ext_buffer),
#ifndef NDEBUG
		cmocka_unit_test(test_bad_free_asserts),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
