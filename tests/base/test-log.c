/* SPDX-License-Identifier: MIT */
/*
 * test-log.c - per-stack logging: line format, level filter, the token
 * bucket (burst, refill at the configured rate in the caller's time, no
 * refill when time stands still or goes back) and the "N messages
 * suppressed" report when logging resumes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct capture {
	char *buf;
	size_t len;
};

static void cap_open(struct usn_log *l, struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	l->out = open_memstream(&c->buf, &c->len);
	assert_non_null(l->out);
}

/* Returns what was written since the last call and restarts capture. */
static char *cap_take(struct usn_log *l, struct capture *c)
{
	char *s;

	fclose(l->out);
	s = c->buf;
	cap_open(l, c);
	return s;
}

static void cap_close(struct usn_log *l, struct capture *c)
{
	fclose(l->out);
	free(c->buf);
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_init_defaults(void **state)
{
	struct usn_log l;

	usn_log_init(&l, "usnet", USN_LOG_INFO);
	assert_ptr_equal(l.out, stderr);
	assert_string_equal(l.prefix, "usnet");
	assert_int_equal(l.level, USN_LOG_INFO);
	assert_int_equal(l.burst, 20);
	assert_int_equal(l.rate_per_sec, 10);
	assert_int_equal(l.suppressed, 0);
	usn_log_init(&l, NULL, USN_LOG_ERR);
	assert_string_equal(l.prefix, "usnet");
}

static void test_format_and_levels(void **state)
{
	struct usn_log l;
	struct capture c;
	char *s;

	usn_log_init(&l, "stk0", USN_LOG_INFO);
	cap_open(&l, &c);
	usn_log_msg(&l, 0, USN_LOG_ERR, "bad %s %d", "thing", 42);
	usn_log_msg(&l, 0, USN_LOG_WARN, "careful");
	usn_log_msg(&l, 0, USN_LOG_INFO, "hello");
	usn_log_msg(&l, 0, USN_LOG_DEBUG, "hidden");
	s = cap_take(&l, &c);
	assert_string_equal(s, "stk0: err: bad thing 42\nstk0: warn: careful\nstk0: info: hello\n");
	free(s);
	/* Filtered messages are neither printed nor counted as suppressed,
	 * and do not use tokens. */
	assert_int_equal(l.suppressed, 0);
	assert_int_equal(l.tokens_milli, 17000);
	l.level = USN_LOG_DEBUG;
	usn_log_msg(&l, 0, USN_LOG_DEBUG, "shown");
	s = cap_take(&l, &c);
	assert_string_equal(s, "stk0: debug: shown\n");
	free(s);
	cap_close(&l, &c);
}

static void test_long_message_truncated(void **state)
{
	struct usn_log l;
	struct capture c;
	char big[2000];
	char *s;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	usn_log_init(&l, "p", USN_LOG_INFO);
	cap_open(&l, &c);
	usn_log_msg(&l, 0, USN_LOG_INFO, "%s", big);
	s = cap_take(&l, &c);
	assert_true(strncmp(s, "p: info: xxxx", 13) == 0);
	assert_true(strlen(s) < sizeof(big));
	assert_int_equal(s[strlen(s) - 1], '\n');
	free(s);
	cap_close(&l, &c);
}

static void test_rate_limit_burst_and_refill(void **state)
{
	const uint64_t t0 = 1000 * USN_NSEC_PER_SEC;
	struct usn_log l;
	struct capture c;
	char *s;

	usn_log_init(&l, "u", USN_LOG_INFO);
	cap_open(&l, &c);
	/* A flood at one instant: the burst of 20 gets through. */
	for (int i = 0; i < 100; i++)
		usn_log_msg(&l, t0, USN_LOG_WARN, "flood %d", i);
	s = cap_take(&l, &c);
	assert_int_equal(count_lines(s, "\n"), 20);
	assert_non_null(strstr(s, "u: warn: flood 19\n"));
	assert_null(strstr(s, "flood 20\n"));
	free(s);
	assert_int_equal(l.suppressed, 80);

	/* 50 ms later: half a token, still suppressed. */
	usn_log_msg(&l, t0 + 50 * USN_NSEC_PER_MSEC, USN_LOG_WARN, "x");
	assert_int_equal(l.suppressed, 81);
	/* 100 ms after t0: one token. The report comes first. */
	usn_log_msg(&l, t0 + 100 * USN_NSEC_PER_MSEC, USN_LOG_WARN, "back");
	s = cap_take(&l, &c);
	assert_string_equal(s, "u: warn: 81 messages suppressed\nu: warn: back\n");
	free(s);
	assert_int_equal(l.suppressed, 0);

	/* One second more refills 10 tokens, not more. */
	for (int i = 0; i < 30; i++)
		usn_log_msg(&l, t0 + 1100 * USN_NSEC_PER_MSEC, USN_LOG_ERR, "e%d", i);
	s = cap_take(&l, &c);
	assert_int_equal(count_lines(s, "u: err: e"), 10);
	free(s);
	assert_int_equal(l.suppressed, 20);

	/* A long pause fills the bucket to the burst only. */
	for (int i = 0; i < 50; i++)
		usn_log_msg(&l, t0 + 3600 * USN_NSEC_PER_SEC, USN_LOG_ERR, "f%d", i);
	s = cap_take(&l, &c);
	assert_int_equal(count_lines(s, "u: err: f"), 20);
	assert_non_null(strstr(s, "u: warn: 20 messages suppressed\n"));
	free(s);
	cap_close(&l, &c);
}

/* Calls closer together than the time of one milli-token must still add
 * up: 10 msgs/s over 2 s of 20 us steps refills 20 tokens. */
static void test_refill_from_many_close_calls(void **state)
{
	const uint64_t t0 = 5 * USN_NSEC_PER_SEC;
	struct usn_log l;
	struct capture c;
	uint64_t t;
	int printed;
	char *s;

	usn_log_init(&l, "u", USN_LOG_INFO);
	cap_open(&l, &c);
	for (int i = 0; i < 20; i++)
		usn_log_msg(&l, t0, USN_LOG_INFO, "drain");
	free(cap_take(&l, &c));
	for (t = t0 + 20000; t <= t0 + 2 * USN_NSEC_PER_SEC; t += 20000)
		usn_log_msg(&l, t, USN_LOG_INFO, "m");
	s = cap_take(&l, &c);
	printed = count_lines(s, "u: info: m\n");
	assert_true(printed >= 19 && printed <= 20);
	free(s);
	cap_close(&l, &c);
}

static void test_time_backwards_no_refill(void **state)
{
	struct usn_log l;
	struct capture c;
	char *s;

	usn_log_init(&l, "u", USN_LOG_INFO);
	cap_open(&l, &c);
	for (int i = 0; i < 20; i++)
		usn_log_msg(&l, 10 * USN_NSEC_PER_SEC, USN_LOG_INFO, "a");
	usn_log_msg(&l, 1 * USN_NSEC_PER_SEC, USN_LOG_INFO, "b");
	usn_log_msg(&l, 10 * USN_NSEC_PER_SEC, USN_LOG_INFO, "c");
	s = cap_take(&l, &c);
	assert_int_equal(count_lines(s, "\n"), 20);
	free(s);
	assert_int_equal(l.suppressed, 2);
	cap_close(&l, &c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_defaults),
		cmocka_unit_test(test_format_and_levels),
		cmocka_unit_test(test_long_message_truncated),
		cmocka_unit_test(test_rate_limit_burst_and_refill),
		cmocka_unit_test(test_refill_from_many_close_calls),
		cmocka_unit_test(test_time_backwards_no_refill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
