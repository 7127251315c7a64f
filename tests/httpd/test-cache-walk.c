/* SPDX-License-Identifier: MIT */
/*
 * test-cache-walk.c - usnet-httpd's file cache opening a path without
 * openat2 (fcache_open_walk): files and directories beneath the root open;
 * a symbolic link anywhere on the path, inside the root or out of it, and
 * ".." are refused; a missing file is ENOENT.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"

static char root[64];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/usnet-walk-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	char p[128];
	snprintf(p, sizeof(p), "%s/a.txt", root);
	FILE *f = fopen(p, "w");
	if (!f)
		return -1;
	fputs("a\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/sub", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub/b.txt", root);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs("b\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/out", root);
	if (symlink("/etc/hostname", p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/in", root);
	if (symlink("a.txt", p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/dirlink", root);
	if (symlink("sub", p) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void expect_open(int rfd, const char *rel, const char *content)
{
	int fd = fcache_open_walk(rfd, rel);
	assert_true(fd >= 0);
	if (content) {
		char buf[16] = {0};
		assert_int_equal(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(content));
		assert_string_equal(buf, content);
	}
	close(fd);
}

static void expect_refused(int rfd, const char *rel, int err)
{
	errno = 0;
	assert_int_equal(fcache_open_walk(rfd, rel), -1);
	assert_int_equal(errno, err);
}

static void test_walk(void **state)
{
	(void)state;
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(rfd >= 0);
	expect_open(rfd, "a.txt", "a\n");
	expect_open(rfd, "sub/b.txt", "b\n");
	expect_open(rfd, "sub", NULL);
	expect_open(rfd, "sub/", NULL);
	expect_refused(rfd, "out", ELOOP);          /* a link out of the root */
	expect_refused(rfd, "in", ELOOP);           /* even one that stays inside */
	expect_refused(rfd, "dirlink/b.txt", ENOTDIR); /* a link as a directory: not one */
	expect_refused(rfd, "sub/../a.txt", EACCES);
	expect_refused(rfd, "..", EACCES);
	expect_refused(rfd, "missing.txt", ENOENT);
	expect_refused(rfd, "sub/missing/x", ENOENT);
	expect_refused(rfd, "a.txt/x", ENOTDIR);
	close(rfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
