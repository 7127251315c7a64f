// SPDX-License-Identifier: MIT
/*
 * usnet-echo - the echo service (RFC 862) on usnet: answers ping, echoes
 * every UDP datagram sent to port 7 back to its sender, and echoes the
 * bytes of every TCP connection to port 7 back on it. The first program a
 * user runs to see usnet working on a TAP device:
 *
 *   usnet-echo --dev tap:usnt0 --addr 10.77.0.2/24
 *
 * Prints its counters on SIGUSR1 and at exit. Uses only the public API.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "common.h"

#define ECHO_PORT 7
#define CONN_BUF 65536

/* Set by signal handlers: the only state a handler may touch. */
static volatile sig_atomic_t want_stats, want_quit;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		want_quit = 1;
}

struct echo_conn {
	struct echo_conn *prev, *next; /* all open connections, freed at exit */
	int sd;
	size_t len, off; /* bytes received and not yet sent back: buf[off..len) */
	bool peer_done;  /* the peer shut its sending side */
	unsigned char buf[CONN_BUF];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usnet-echo --dev tap:NAME --addr A.B.C.D/LEN [options]\n"
		"Answers ping and echoes UDP datagrams and TCP streams sent to port 7 (RFC 862).\n"
		"SIGUSR1 prints the stack's counters; SIGINT or SIGTERM stops it.\n\n%s"
		"  --port N            port to echo on, UDP and TCP (default 7)\n"
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

static struct echo_conn *conns;

static void conn_close(struct usn_stack *s, struct echo_conn *c)
{
	usn_close(s, c->sd);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

/* Moves bytes from the connection back to it; false when it is finished. */
static bool conn_run(struct usn_stack *s, struct echo_conn *c)
{
	for (;;) {
		while (c->off < c->len) {
			ssize_t n = usn_send(s, c->sd, c->buf + c->off, c->len - c->off, 0);
			if (n == -EAGAIN)
				return true; /* wait until writable */
			if (n < 0)
				return false;
			c->off += (size_t)n;
		}
		c->off = c->len = 0;
		if (c->peer_done)
			break;
		ssize_t n = usn_recv(s, c->sd, c->buf, sizeof(c->buf), 0);
		if (n == -EAGAIN)
			return true;
		if (n < 0)
			return false;
		if (n == 0) {
			c->peer_done = true;
			break;
		}
		c->len = (size_t)n;
	}
	/* The peer is done and everything went back: close our side. */
	return false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		USN_APP_DEVICE_OPTIONS,
		{"port", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct usn_config cfg;
	usn_config_init(&cfg);
	char err[256];
	int port = ECHO_PORT;
	int c, idx, rc;
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
		case 0x100:
			if ((rc = usn_app_device_option("usnet-echo", &cfg, &opts[idx], optarg)) != 0)
				return rc;
			break;
		default:
			fprintf(stderr, "usnet-echo: try --help\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usnet-echo: unexpected argument '%s'; try --help\n", argv[optind]);
		return 2;
	}
	if ((rc = usn_app_require_device("usnet-echo", &cfg)) != 0)
		return rc;
	if ((rc = usn_app_one_instance("usnet-echo", &cfg)) != 0)
		return rc;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: the loop's sleep returns */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct usn_stack *s;
	rc = usn_stack_create(&cfg, &s, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "usnet-echo: %s\n", err[0] ? err : strerror(-rc));
		return 1;
	}
	struct usn_addr any = usn_addr_v4(0, (uint16_t)port);
	int usd = usn_socket(s, USN_SOCK_DGRAM);
	int tsd = usn_socket(s, USN_SOCK_STREAM);
	if (usd < 0 || tsd < 0 || (rc = usn_bind(s, usd, &any)) < 0 || (rc = usn_bind(s, tsd, &any)) < 0 ||
	    (rc = usn_listen(s, tsd, 128)) < 0) {
		fprintf(stderr, "usnet-echo: cannot open port %d: %s\n", port, strerror(usd < 0 ? -usd : -rc));
		usn_stack_destroy(s);
		return 1;
	}
	/* After binding: on an address shared with the kernel a port below
	 * 1024 is held by a kernel socket too, which needs the privilege. */
	if (usn_app_drop_privileges("usnet-echo", &cfg) != 0) {
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
		struct usn_event ev[64];
		int k = usn_events(s, ev, 64);
		for (int i = 0; i < k; i++) {
			if (ev[i].sd == usd) {
				for (;;) {
					struct usn_addr from;
					ssize_t len = usn_recvfrom(s, usd, buf, sizeof(buf), 0, &from);
					if (len == -EAGAIN)
						break;
					if (len >= 0)
						usn_sendto(s, usd, buf, (size_t)len, 0, &from);
				}
			} else if (ev[i].sd == tsd) {
				int nsd;
				while ((nsd = usn_accept(s, tsd, NULL)) >= 0) {
					struct echo_conn *ec = calloc(1, sizeof(*ec));
					if (!ec) {
						usn_abort(s, nsd);
						continue;
					}
					ec->sd = nsd;
					ec->next = conns;
					if (conns)
						conns->prev = ec;
					conns = ec;
					usn_socket_set_udata(s, nsd, ec);
					if (!conn_run(s, ec))
						conn_close(s, ec);
				}
			} else if (ev[i].udata) {
				struct echo_conn *ec = ev[i].udata;
				if (!conn_run(s, ec))
					conn_close(s, ec);
			}
		}
	}
	print_stats(s);
	while (conns)
		conn_close(s, conns);
	usn_stack_destroy(s);
	return 0;
}
