// SPDX-License-Identifier: MIT
/*
 * usnet-nc - netcat on usnet: one TCP connection between stdin/stdout and a
 * peer. `usnet-nc [device options] -l PORT` accepts one connection;
 * `usnet-nc [device options] HOST PORT` connects. Bytes from stdin are sent,
 * bytes received are written to stdout. End of stdin half-closes (FIN); the
 * program exits when both directions are finished, with status 0 only if
 * the connection ended cleanly (both FINs, everything acknowledged), 1 on a
 * reset, timeout or refusal, 2 for bad options. Uses only the public API.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define IO_BUF (256 * 1024)

static volatile sig_atomic_t want_quit;

static void on_signal(int sig)
{
	(void)sig;
	want_quit = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usnet-nc [device options] -l PORT\n"
		"       usnet-nc [device options] HOST PORT\n"
		"One TCP connection on usnet between stdin/stdout and a peer. End of input\n"
		"half-closes; exits 0 when both directions finished cleanly.\n\n%s"
		"  -l, --listen PORT   accept one connection on PORT\n"
		"  -q, --quiet         no progress messages on stderr\n"
		"  -s, --stats         print the connection's TCP state and the counters at exit\n"
		"  -h, --help          this text\n"
		"  -V, --version       the version\n",
		usn_config_usage());
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return (*s && !*end && v >= 1 && v <= 65535) ? (int)v : -1;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		USN_APP_DEVICE_OPTIONS,
		{"listen", required_argument, NULL, 'l'},
		{"quiet", no_argument, NULL, 'q'},
		{"stats", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct usn_config cfg;
	usn_config_init(&cfg);
	int listen_port = -1, c, idx, rc;
	bool quiet = false, stats = false;
	while ((c = getopt_long(argc, argv, "l:qshV", opts, &idx)) != -1) {
		switch (c) {
		case 'l':
			if ((listen_port = parse_port(optarg)) < 0) {
				fprintf(stderr, "usnet-nc: -l: expected a port 1..65535, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 's':
			stats = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("usnet-nc (usnet) %s\n", USNET_VERSION);
			return 0;
		case 0x100:
			if ((rc = usn_app_device_option("usnet-nc", &cfg, &opts[idx], optarg)) != 0)
				return rc;
			break;
		default:
			fprintf(stderr, "usnet-nc: try --help\n");
			return 2;
		}
	}
	struct usn_addr peer = {0};
	if (listen_port < 0) {
		if (argc - optind != 2) {
			fprintf(stderr, "usnet-nc: give HOST PORT, or -l PORT; try --help\n");
			return 2;
		}
		int p = parse_port(argv[optind + 1]);
		if (usn_addr_parse(argv[optind], &peer) < 0 || p < 0) {
			fprintf(stderr, "usnet-nc: expected an IPv4 address and a port, got '%s %s'\n", argv[optind],
				argv[optind + 1]);
			return 2;
		}
		peer.port = (uint16_t)p;
	} else if (optind != argc) {
		fprintf(stderr, "usnet-nc: unexpected argument '%s' with -l\n", argv[optind]);
		return 2;
	}
	if ((rc = usn_app_require_device("usnet-nc", &cfg)) != 0)
		return rc;
	if ((rc = usn_app_one_instance("usnet-nc", &cfg)) != 0)
		return rc;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char err[256];
	struct usn_stack *s;
	rc = usn_stack_create(&cfg, &s, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "usnet-nc: %s\n", err[0] ? err : strerror(-rc));
		return 1;
	}
	int sd = usn_socket(s, USN_SOCK_STREAM), lsd = -1;
	if (sd < 0) {
		fprintf(stderr, "usnet-nc: socket: %s\n", strerror(-sd));
		usn_stack_destroy(s);
		return 1;
	}
	if (listen_port >= 0) {
		lsd = sd;
		struct usn_addr any = usn_addr_v4(0, (uint16_t)listen_port);
		if ((rc = usn_bind(s, lsd, &any)) < 0 || (rc = usn_listen(s, lsd, 1)) < 0) {
			fprintf(stderr, "usnet-nc: listen on port %d: %s\n", listen_port, strerror(-rc));
			usn_stack_destroy(s);
			return 1;
		}
		sd = -1;
	} else {
		rc = usn_connect(s, sd, &peer);
		if (rc < 0 && rc != -EINPROGRESS) {
			fprintf(stderr, "usnet-nc: connect: %s\n", strerror(-rc));
			usn_stack_destroy(s);
			return 1;
		}
	}
	/* After binding (a port below 1024 on an address shared with the
	 * kernel is held by a kernel socket too, which needs the privilege). */
	if (usn_app_drop_privileges("usnet-nc", &cfg) != 0) {
		usn_stack_destroy(s);
		return 1;
	}
	if (listen_port >= 0 && !quiet)
		fprintf(stderr, "usnet-nc: listening on port %d\n", listen_port);

	unsigned char *out = malloc(IO_BUF), *in = malloc(IO_BUF);
	size_t out_len = 0, out_off = 0;
	bool connected = false, stdin_eof = false, shut_wr = false, peer_eof = false;
	int status = 0;
	int stdin_fd = STDIN_FILENO;
	fcntl(stdin_fd, F_SETFL, fcntl(stdin_fd, F_GETFL) | O_NONBLOCK);
	while (!want_quit) {
		usn_stack_poll(s, 0);
		struct usn_event ev[8];
		while (usn_events(s, ev, 8) > 0)
			; /* this loop checks every socket each pass */
		if (lsd >= 0 && sd < 0) {
			struct usn_addr from;
			sd = usn_accept(s, lsd, &from);
			if (sd >= 0) {
				char a[32];
				if (!quiet)
					fprintf(stderr, "usnet-nc: connection from %s\n",
						usn_addr_format(&from, a, sizeof(a)));
				usn_close(s, lsd);
				lsd = -1;
			} else {
				sd = -1;
			}
		}
		if (sd >= 0 && !connected) {
			struct usn_tcp_info ti;
			usn_tcp_info(s, sd, &ti);
			int e = usn_sock_error(s, sd);
			if (e < 0) {
				fprintf(stderr, "usnet-nc: connect: %s\n", strerror(-e));
				status = 1;
				break;
			}
			if (ti.state >= 4 /* ESTABLISHED or later */)
				connected = true;
		}
		if (connected) {
			/* stdin -> connection */
			for (;;) {
				while (out_off < out_len) {
					ssize_t n = usn_send(s, sd, out + out_off, out_len - out_off, 0);
					if (n == -EAGAIN)
						break;
					if (n < 0) {
						fprintf(stderr, "usnet-nc: send: %s\n", strerror((int)-n));
						status = 1;
						goto done;
					}
					out_off += (size_t)n;
				}
				if (out_off < out_len || stdin_eof)
					break;
				ssize_t r = read(stdin_fd, out, IO_BUF);
				if (r > 0) {
					out_len = (size_t)r;
					out_off = 0;
					continue;
				}
				if (r == 0)
					stdin_eof = true;
				else if (errno != EAGAIN && errno != EINTR)
					stdin_eof = true;
				break;
			}
			if (stdin_eof && out_off == out_len && !shut_wr) {
				usn_shutdown(s, sd, USN_SHUT_WR);
				shut_wr = true;
			}
			/* connection -> stdout */
			while (!peer_eof) {
				ssize_t n = usn_recv(s, sd, in, IO_BUF, 0);
				if (n == -EAGAIN)
					break;
				if (n < 0) {
					fprintf(stderr, "usnet-nc: receive: %s\n", strerror((int)-n));
					status = 1;
					goto done;
				}
				if (n == 0) {
					peer_eof = true;
					break;
				}
				if (write_all(STDOUT_FILENO, in, (size_t)n) < 0) {
					fprintf(stderr, "usnet-nc: write to stdout: %s\n", strerror(errno));
					status = 1;
					goto done;
				}
			}
			if (shut_wr && peer_eof) {
				/* Both FINs: done once ours is acknowledged. */
				struct usn_tcp_info ti;
				usn_tcp_info(s, sd, &ti);
				int e = usn_sock_error(s, sd);
				if (e < 0) {
					fprintf(stderr, "usnet-nc: %s\n", strerror(-e));
					status = 1;
					break;
				}
				if (ti.unacked == 0 && ti.send_queue == 0)
					break;
			}
		}
		/* Sleep until the stack or stdin has something. */
		struct pollfd pfd[2];
		int nfd = 0;
		int sfd = usn_stack_fd(s);
		if (sfd >= 0)
			pfd[nfd++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		bool want_stdin = connected && !stdin_eof && out_off == out_len;
		if (want_stdin)
			pfd[nfd++] = (struct pollfd){.fd = stdin_fd, .events = POLLIN};
		int tmo = usn_stack_timeout_ms(s);
		if (tmo < 0 || tmo > 1000)
			tmo = 1000;
		/* Data queued in the stack waiting for window space moves with
		 * ACKs, which wake the device fd. */
		if (usn_stack_poll(s, 0) > 0)
			continue;
		poll(pfd, (nfds_t)nfd, tmo);
	}
done:
	if (want_quit)
		status = 1;
	if (stats && sd >= 0) {
		struct usn_tcp_info ti;
		if (usn_tcp_info(s, sd, &ti) == 0)
			fprintf(stderr,
				"usnet-nc: %s cc %s mss %u cwnd %u ssthresh %u srtt %lluus rto %lluus retrans %u "
				"acked %llu received %llu segs in %llu out %llu\n",
				usn_tcp_state_str(ti.state), ti.cc, ti.mss, ti.cwnd, ti.ssthresh,
				(unsigned long long)ti.srtt_us, (unsigned long long)ti.rto_us, ti.total_retrans,
				(unsigned long long)ti.bytes_acked, (unsigned long long)ti.bytes_received,
				(unsigned long long)ti.segs_in, (unsigned long long)ti.segs_out);
	}
	if (stats)
		usn_stack_print_counters(s, stderr, 0);
	if (sd >= 0) {
		if (status != 0)
			usn_abort(s, sd);
		else
			usn_close(s, sd);
	}
	/* Let the last ACK go out. */
	usn_stack_poll(s, 0);
	free(out);
	free(in);
	usn_stack_destroy(s);
	return status;
}
