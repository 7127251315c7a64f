/* SPDX-License-Identifier: MIT */
/*
 * test-clock.c - the OS clock wrappers: monotonic time never goes back and
 * moves at the speed of real time; real time is a plausible date. Not a
 * precision test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <time.h>

#include "clock.h"
#include "util.h"

static void test_mono_monotonic_and_advancing(void **state)
{
	uint64_t a = usn_clock_mono_ns(), b;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 2000000 };

	for (int i = 0; i < 1000; i++) {
		b = usn_clock_mono_ns();
		assert_true(b >= a);
		a = b;
	}
	nanosleep(&ts, NULL);
	b = usn_clock_mono_ns();
	assert_true(b - a >= 2 * USN_NSEC_PER_MSEC);
	assert_true(b - a < 10 * USN_NSEC_PER_SEC);
}

static void test_real_is_plausible(void **state)
{
	uint64_t r = usn_clock_real_ns();
	time_t t = time(NULL);

	/* After 2020-01-01 and within a few seconds of time(). */
	assert_true(r > 1577836800ULL * USN_NSEC_PER_SEC);
	assert_true(r / USN_NSEC_PER_SEC + 5 >= (uint64_t)t);
	assert_true(r / USN_NSEC_PER_SEC <= (uint64_t)t + 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mono_monotonic_and_advancing),
		cmocka_unit_test(test_real_is_plausible),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
