/* SPDX-License-Identifier: MIT */
/*
 * test-pcap.c - the pcap writer (pcap_writer.c): frames written to a
 * temporary file are read back with libpcap's own reader, byte for byte and
 * with their timestamps; snaplen truncation; errors for unwritable paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap_writer.h"

static void temp_path(char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, len, "%s/usnet-test-pcap-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 31u);
}

static void test_roundtrip(void **state)
{
	static const size_t lens[] = { 60, 1514, 14, 9018 };
	static const uint64_t ts[] = { 0, 1500000000123456789ull, 999999, 2000000001000ull };
	char path[256], err[256], errbuf[PCAP_ERRBUF_SIZE];
	struct usn_pcap_writer *w = NULL;
	uint8_t frame[9018];
	pcap_t *p;

	(void)state;
	temp_path(path, sizeof(path));
	assert_int_equal(usn_pcap_open(path, 0, &w, err, sizeof(err)), 0);
	assert_non_null(w);
	for (size_t i = 0; i < 4; i++) {
		fill(frame, lens[i], (uint8_t)i);
		usn_pcap_write(w, frame, lens[i], ts[i]);
	}
	usn_pcap_flush(w);
	usn_pcap_close(w);

	p = pcap_open_offline(path, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	for (size_t i = 0; i < 4; i++) {
		struct pcap_pkthdr *h;
		const u_char *data;

		assert_int_equal(pcap_next_ex(p, &h, &data), 1);
		assert_int_equal(h->len, lens[i]);
		assert_int_equal(h->caplen, lens[i]);
		assert_int_equal(h->ts.tv_sec, ts[i] / 1000000000ull);
		assert_int_equal(h->ts.tv_usec, (ts[i] % 1000000000ull) / 1000u);
		fill(frame, lens[i], (uint8_t)i);
		assert_memory_equal(data, frame, lens[i]);
	}
	{
		struct pcap_pkthdr *h;
		const u_char *data;

		assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK); /* end of file */
	}
	pcap_close(p);
	unlink(path);
}

static void test_snaplen_truncates(void **state)
{
	char path[256], err[256], errbuf[PCAP_ERRBUF_SIZE];
	struct usn_pcap_writer *w = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t frame[1514];
	pcap_t *p;

	(void)state;
	temp_path(path, sizeof(path));
	assert_int_equal(usn_pcap_open(path, 96, &w, err, sizeof(err)), 0);
	fill(frame, sizeof(frame), 7);
	usn_pcap_write(w, frame, sizeof(frame), 5000);
	usn_pcap_write(w, frame, 60, 6000);
	usn_pcap_close(w);

	p = pcap_open_offline(path, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_snapshot(p), 96);
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->len, 1514);
	assert_int_equal(h->caplen, 96);
	assert_memory_equal(data, frame, 96);
	assert_int_equal(h->ts.tv_usec, 5);
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->len, 60);
	assert_int_equal(h->caplen, 60);
	assert_int_equal(h->ts.tv_usec, 6);
	pcap_close(p);
	unlink(path);
}

static void test_open_errors(void **state)
{
	char err[256];
	struct usn_pcap_writer *w = (void *)1;

	(void)state;
	assert_int_equal(usn_pcap_open("/nonexistent-dir/x.pcap", 0, &w, err, sizeof(err)), -ENOENT);
	assert_null(w);
	assert_non_null(strstr(err, "/nonexistent-dir/x.pcap"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_int_equal(usn_pcap_open("", 0, &w, err, sizeof(err)), -EINVAL);
	/* NULL is accepted by the other calls */
	usn_pcap_write(NULL, NULL, 0, 0);
	usn_pcap_flush(NULL);
	usn_pcap_close(NULL);
}

static void test_stdout_stays_open(void **state)
{
	char path[256], err[256], errbuf[PCAP_ERRBUF_SIZE];
	struct usn_pcap_writer *w = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t frame[64];
	int saved, fd;
	pcap_t *p;

	(void)state;
	/* point fd 1 at a file, write through "-", and check both that the
	 * capture is there and that stdout still works after close */
	temp_path(path, sizeof(path));
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);
	assert_int_equal(usn_pcap_open("-", 0, &w, err, sizeof(err)), 0);
	fill(frame, sizeof(frame), 3);
	usn_pcap_write(w, frame, sizeof(frame), 1000000000ull);
	usn_pcap_close(w);
	assert_true(fcntl(STDOUT_FILENO, F_GETFD) >= 0);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);

	p = pcap_open_offline(path, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->ts.tv_sec, 1);
	assert_memory_equal(data, frame, sizeof(frame));
	pcap_close(p);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_snaplen_truncates),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_stdout_stays_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
