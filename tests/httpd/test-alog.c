// SPDX-License-Identifier: MIT
/*
 * test-alog.c - usnet-httpd's access log writer (apps/httpd/alog.c): every
 * line reaches the file in order once the log is closed; a writer stuck on
 * a full pipe never makes alog_line() or alog_flush() wait, and the lines
 * it could not take are counted as dropped, exactly: what the reader gets
 * plus what was dropped is what was logged; reopen follows a rename.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include "alog.h"

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*ret_len = (size_t)n;
	return p;
}

static void test_lines_in_order(void **state)
{
	(void)state;
	char dir[] = "/tmp/usnet-alog-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/access.log", dir);
	struct alog *a = alog_open(path);
	assert_non_null(a);
	/* 300 KB: several buffers, yet fewer than the ring holds, so none
	 * is dropped however slow the writer starts. */
	const int N = 10000;
	for (int i = 0; i < N; i++) {
		char line[64];
		int n = snprintf(line, sizeof(line), "line %06d of the access log\n", i);
		alog_line(a, line, (size_t)n);
		if (i % 5000 == 0)
			alog_flush(a);
	}
	struct alog_stats st = alog_stats(a);
	assert_int_equal(st.lines, N);
	st = alog_close(a);
	assert_int_equal(st.lines_dropped, 0);
	assert_int_equal(st.write_errors, 0);
	size_t len;
	char *text = slurp(path, &len);
	assert_int_equal(len, (size_t)N * 30);
	char *p = text;
	for (int i = 0; i < N; i++) {
		char want[64];
		snprintf(want, sizeof(want), "line %06d of the access log\n", i);
		assert_memory_equal(p, want, 30);
		p += 30;
	}
	free(text);
	/* reopen after a rename (log rotation): new lines go to a new file */
	a = alog_open(path);
	assert_non_null(a);
	char rotated[300];
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(rename(path, rotated), 0);
	alog_reopen(a);
	for (int i = 0; i < 100 && access(path, F_OK) != 0; i++)
		usleep(10000);
	alog_line(a, "after rotation\n", 15);
	alog_close(a);
	text = slurp(path, &len);
	assert_int_equal(len, 15);
	assert_memory_equal(text, "after rotation\n", 15);
	free(text);
	unlink(path);
	unlink(rotated);
	rmdir(dir);
}

struct drain {
	int fd;
	uint64_t got;
};

static void *drain_pipe(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	ssize_t r;
	while ((r = read(d->fd, buf, sizeof(buf))) > 0)
		d->got += (uint64_t)r;
	return NULL;
}

/* The log is a pipe nobody reads: the writer blocks in write(2) once the
 * pipe is full, the loop side keeps going and drops whole buffers of lines;
 * once a reader drains the pipe, what it gets is exactly the lines not
 * counted as dropped. */
static void test_stuck_writer_drops(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	struct alog *a = alog_open(path);
	assert_non_null(a);
	close(p[1]); /* the log has its own descriptor of the pipe */
	const int N = 100000; /* 6.4 MB of lines: far more than pipe and buffers */
	char line[64];
	memset(line, 'x', sizeof(line));
	line[63] = '\n';
	for (int i = 0; i < N; i++) {
		alog_line(a, line, sizeof(line));
		if (i % 1000 == 0)
			alog_flush(a);
	}
	/* Reaching this line at all shows the loop side never waited: the
	 * writer has been stuck since the pipe filled. */
	struct alog_stats st = alog_stats(a);
	assert_int_equal(st.lines, N);
	assert_true(st.lines_dropped > 0);
	assert_true(st.lines_dropped < (uint64_t)N);
	struct drain d = {.fd = p[0]};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, drain_pipe, &d), 0);
	st = alog_close(a); /* closes the last write end: the reader sees EOF */
	pthread_join(t, NULL);
	close(p[0]);
	assert_int_equal(st.write_errors, 0);
	assert_int_equal(st.bytes_written, d.got);
	assert_int_equal(d.got, (N - st.lines_dropped) * sizeof(line));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_in_order),
		cmocka_unit_test(test_stuck_writer_drops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
