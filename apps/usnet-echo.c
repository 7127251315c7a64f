// SPDX-License-Identifier: MIT
/*
 * usnet-echo - the echo service (RFC 862) on usnet: answers ping and echoes
 * every UDP datagram sent to port 7 back to its sender. The first program
 * a user runs to see usnet working on a TAP device:
 *
 *   usnet-echo --dev tap:usnt0 --addr 10.77.0.2/24
 *
 * Prints its counters on SIGUSR1 and at exit. Uses only the public API.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <usnet/usnet.h>

#define ECHO_PORT 7

/* Set by signal handlers: the only state a handler may touch. */
static volatile sig_atomic_t want_stats, want_quit;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		want_quit = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usnet-echo --dev tap:NAME --addr A.B.C.D/LEN [options]\n"
		"Answers ping and echoes UDP datagrams sent to port 7 (RFC 862).\n"
		"SIGUSR1 prints the stack's counters; SIGINT or SIGTERM stops it.\n\n%s"
		"  --port N            UDP port to echo on (default 7)\n"
		"  -h, --help          this text\n"
		"  -V, --version       the version\n",
		usn_config_usage());
}

static void print_stats(struct usn_stack *s)
{
	printf("usnet-echo: counters\n");
	usn_stack_print_counters(s, stdout, 0);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dev", required_argument, NULL, 'd'},      {"addr", required_argument, NULL, 'a'},
		{"gw", required_argument, NULL, 'g'},       {"pcap", required_argument, NULL, 'p'},
		{"seed", required_argument, NULL, 's'},     {"nbufs", required_argument, NULL, 'n'},
		{"log-level", required_argument, NULL, 'l'}, {"port", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct usn_config cfg;
	usn_config_init(&cfg);
	char err[256];
	int port = ECHO_PORT;
	int c, idx;
	while ((c = getopt_long(argc, argv, "hV", opts, &idx)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("usnet-echo (usnet) %s\n", USNET_VERSION);
			return 0;
		case 'P': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 65535) {
				fprintf(stderr, "usnet-echo: --port: expected 1..65535, got '%s'\n", optarg);
				return 2;
			}
			port = (int)v;
			break;
		}
		case '?':
			fprintf(stderr, "usnet-echo: try --help\n");
			return 2;
		default:
			if (usn_config_set(&cfg, opts[idx].name, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "usnet-echo: %s\n", err);
				return 2;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usnet-echo: unexpected argument '%s'; try --help\n", argv[optind]);
		return 2;
	}
	if (!cfg.dev[0] || !cfg.addr) {
		fprintf(stderr, "usnet-echo: --dev and --addr are required; try --help\n");
		return 2;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: the loop's sleep returns */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct usn_stack *s;
	int rc = usn_stack_create(&cfg, &s, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "usnet-echo: %s\n", err[0] ? err : strerror(-rc));
		return 1;
	}
	int sd = usn_socket(s, USN_SOCK_DGRAM);
	struct usn_addr any = usn_addr_v4(0, (uint16_t)port);
	if (sd < 0 || (rc = usn_bind(s, sd, &any)) < 0) {
		fprintf(stderr, "usnet-echo: cannot bind UDP port %d: %s\n", port, strerror(sd < 0 ? -sd : -rc));
		usn_stack_destroy(s);
		return 1;
	}
	char abuf[32];
	struct usn_addr me = usn_addr_v4(cfg.addr, 0);
	fprintf(stderr, "usnet-echo: ready on %s %s/%u\n", cfg.dev, usn_addr_format(&me, abuf, sizeof(abuf)),
		cfg.prefix_len);

	static unsigned char buf[65536];
	while (!want_quit) {
		if (want_stats) {
			want_stats = 0;
			print_stats(s);
		}
		/* A bounded sleep also closes the window between checking the
		 * flags and sleeping. */
		int n = usn_stack_poll(s, 1000);
		if (n <= 0)
			continue;
		struct usn_event ev[16];
		int k = usn_events(s, ev, 16);
		for (int i = 0; i < k; i++) {
			if (ev[i].sd != sd || !(ev[i].events & USN_EV_IN))
				continue;
			for (;;) {
				struct usn_addr from;
				ssize_t len = usn_recvfrom(s, sd, buf, sizeof(buf), 0, &from);
				if (len == -EAGAIN)
					break;
				if (len < 0)
					continue; /* a reported ICMP error: nothing to echo */
				usn_sendto(s, sd, buf, (size_t)len, 0, &from);
			}
		}
	}
	print_stats(s);
	usn_close(s, sd);
	usn_stack_destroy(s);
	return 0;
}
