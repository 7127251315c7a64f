/* SPDX-License-Identifier: MIT */
/*
 * test-counters.c - the counter tables generated from counters.def: names,
 * groups and descriptions line up, lookup by name, and the netstat -s style
 * printout (golden text, zero counters skipped unless asked for).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"

static void test_tables(void **state)
{
	assert_string_equal(usn_counter_name(USN_C_IP_DROP_BAD_CSUM), "IP_DROP_BAD_CSUM");
	assert_string_equal(usn_counter_group(USN_C_IP_DROP_BAD_CSUM), "ip");
	assert_string_equal(usn_counter_desc(USN_C_IP_RX_PACKETS), "IPv4 packets received");
	assert_string_equal(usn_counter_name(USN_C_DEV_RX_FRAMES), "DEV_RX_FRAMES");
	assert_string_equal(usn_counter_group(USN_C_DEV_RX_FRAMES), "dev");
	assert_null(usn_counter_name(USN_C__COUNT));
	assert_null(usn_counter_group((enum usn_counter_id)-1));
	assert_null(usn_counter_desc(USN_C__COUNT));
	for (int i = 0; i < USN_C__COUNT; i++) {
		assert_non_null(usn_counter_name((enum usn_counter_id)i));
		assert_true(strlen(usn_counter_desc((enum usn_counter_id)i)) > 0);
		/* names are unique: find gives back the same id */
		assert_int_equal(usn_counter_find(usn_counter_name((enum usn_counter_id)i)), i);
	}
}

static void test_find(void **state)
{
	assert_int_equal(usn_counter_find("UDP_DROP_NO_PORT"), USN_C_UDP_DROP_NO_PORT);
	assert_int_equal(usn_counter_find("udp_drop_no_port"), -1);
	assert_int_equal(usn_counter_find("UDP_DROP_NO_POR"), -1);
	assert_int_equal(usn_counter_find(""), -1);
	assert_int_equal(usn_counter_find(NULL), -1);
}

static void test_macros(void **state)
{
	struct usn_counters c = { 0 };

	USN_CTR_INC(&c, IP_RX_PACKETS);
	USN_CTR_ADD(&c, IP_RX_PACKETS, 11);
	USN_DROP(&c, UDP_DROP_BAD_CSUM);
	assert_int_equal(USN_CTR_GET(&c, IP_RX_PACKETS), 12);
	assert_int_equal(c.v[USN_C_UDP_DROP_BAD_CSUM], 1);
}

static char out_buf[32768];

/* Prints into a static buffer (the output is a few kilobytes at most). */
static char *print_to_string(const struct usn_counters *c, int all)
{
	FILE *f;

	out_buf[0] = '\0';
	f = fmemopen(out_buf, sizeof(out_buf), "w");

	assert_non_null(f);
	usn_counters_print(c, f, all);
	assert_false(ferror(f));
	assert_true(ftell(f) < (long)sizeof(out_buf) - 1);
	fclose(f);
	return out_buf;
}

static void test_print_nonzero(void **state)
{
	struct usn_counters c = { 0 };
	char *s;

	USN_CTR_ADD(&c, IP_RX_PACKETS, 12);
	USN_CTR_ADD(&c, IP_DROP_BAD_CSUM, 3);
	USN_CTR_ADD(&c, DEV_RX_FRAMES, 18446744073709551615ULL);
	USN_CTR_ADD(&c, UDP_DROP_NO_PORT, 1);
	s = print_to_string(&c, 0);
	assert_string_equal(s,
		"dev:\n"
		"    18446744073709551615 DEV_RX_FRAMES  frames received from the device\n"
		"ip:\n"
		"    12 IP_RX_PACKETS  IPv4 packets received\n"
		"    3 IP_DROP_BAD_CSUM  IPv4 packets dropped: bad header checksum\n"
		"udp:\n"
		"    1 UDP_DROP_NO_PORT  UDP datagrams dropped: no socket on the port\n");

	memset(&c, 0, sizeof(c));
	s = print_to_string(&c, 0);
	assert_string_equal(s, "");
}

static void test_print_all(void **state)
{
	struct usn_counters c = { 0 };
	char *s, *p;
	const char *ip;
	int lines = 0, headers = 0;

	USN_CTR_INC(&c, ARP_CONFLICT);
	s = print_to_string(&c, 1);
	for (p = s; *p; p++)
		lines += *p == '\n';
	for (p = s; (p = strstr(p, ":\n")) != NULL; p++)
		headers++;
	/* one line per counter plus one header per group */
	assert_int_equal(lines - headers, USN_C__COUNT);
	assert_non_null(strstr(s, "    0 IP_RX_PACKETS  IPv4 packets received\n"));
	assert_non_null(strstr(s, "    1 ARP_CONFLICT  "));
	assert_true(strncmp(s, "dev:\n    0 DEV_RX_FRAMES  ", 25) == 0);
	/* each group appears once */
	ip = strstr(s, "\nip:\n");
	assert_non_null(ip);
	assert_null(strstr(ip + 1, "\nip:\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_print_nonzero),
		cmocka_unit_test(test_print_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
