// SPDX-License-Identifier: MIT
/*
 * sim-loss-table.c - the throughput-under-loss table: goodput of one bulk
 * TCP transfer from A to B in the simulator, for random loss of 0, 1, 2, 5
 * and 10 % (both directions) and one-way delays of 1, 10 and 50 ms, on a
 * 100 Mbit/s link with a 256 KB bottleneck queue. Each cell is the median
 * of three seeds, so the table is exact and repeatable: a change that
 * hurts recovery shows up in the diff of the committed table.
 *
 *   build/tests/sim/sim-loss-table > bench/LOSS-TABLE.md
 *
 * Not a test: it prints a markdown table and exits 0 (1 if a transfer
 * failed to complete, which is a bug).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

#define PORT 5001
#define BYTES (32u * 1024 * 1024)
#define RATE_BPS 100000000ULL

struct xfer {
	struct sim sim;
	int lsd, csd, ssd;
	uint64_t sent, received;
	bool shut, done, failed;
	uint8_t buf[65536];
};

static bool step(void *arg)
{
	struct xfer *x = arg;
	struct sim *sim = &x->sim;
	struct usn_event ev[16];
	while (usn_events(sim->a, ev, 16) > 0 || usn_events(sim->b, ev, 16) > 0)
		;
	if (x->ssd < 0)
		x->ssd = usn_accept(sim->b, x->lsd, NULL);
	struct usn_tcp_info ti;
	if (usn_tcp_info(sim->a, x->csd, &ti) == 0 && ti.state >= 4) {
		while (x->sent < BYTES) {
			uint64_t n = USN_MIN((uint64_t)sizeof(x->buf), BYTES - x->sent);
			ssize_t w = usn_send(sim->a, x->csd, x->buf, (size_t)n, 0);
			if (w <= 0)
				break;
			x->sent += (uint64_t)w;
		}
		if (x->sent == BYTES && !x->shut) {
			usn_shutdown(sim->a, x->csd, USN_SHUT_WR);
			x->shut = true;
		}
	}
	if (usn_sock_error(sim->a, x->csd) < 0) {
		x->failed = true;
		return true;
	}
	if (x->ssd >= 0) {
		for (;;) {
			ssize_t n = usn_recv(sim->b, x->ssd, x->buf, sizeof(x->buf), 0);
			if (n <= 0) {
				if (n == 0)
					x->done = true;
				else if (n != -EAGAIN)
					x->failed = true;
				break;
			}
			x->received += (uint64_t)n;
		}
	}
	return x->done || x->failed;
}

static bool verbose;

/* Goodput in Mbit/s of one transfer, or -1. With -v, the sender's loss
 * recovery on stderr: how much of the time went to timeouts. */
static double run(uint64_t seed, uint32_t loss_ppm, uint64_t delay_ns)
{
	static struct xfer x;
	memset(&x, 0, offsetof(struct xfer, buf));
	struct usn_memlink_dir_cfg c = {
		.loss_ppm = loss_ppm, .delay_ns = delay_ns, .rate_bps = RATE_BPS, .queue_bytes = 256 * 1024,
	};
	if (sim_init(&x.sim, seed, &c, &c) < 0)
		return -1;
	struct sim *sim = &x.sim;
	x.ssd = -1;
	x.lsd = usn_socket(sim->b, USN_SOCK_STREAM);
	struct usn_addr any = usn_addr_v4(0, PORT), to = usn_addr_v4(SIM_ADDR_B, PORT);
	int rcv = 4 << 20;
	usn_setsockopt(sim->b, x.lsd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	usn_bind(sim->b, x.lsd, &any);
	usn_listen(sim->b, x.lsd, 4);
	x.csd = usn_socket(sim->a, USN_SOCK_STREAM);
	usn_setsockopt(sim->a, x.csd, SOL_SOCKET, SO_SNDBUF, &rcv, sizeof(rcv));
	usn_connect(sim->a, x.csd, &to);
	uint64_t t0 = sim->now;
	sim_run_until(sim, 3600 * USN_NSEC_PER_SEC, step, &x);
	double secs = (double)(sim->now - t0) / 1e9;
	bool ok = x.done && !x.failed && x.received == BYTES;
	if (verbose) {
		uint64_t fr = 0, rto = 0, rs = 0, segs = 0, tlp = 0;
		usn_stack_counter(sim->a, "TCP_FAST_RETRANS", &fr);
		usn_stack_counter(sim->a, "TCP_RTO_EXPIRED", &rto);
		usn_stack_counter(sim->a, "TCP_RETRANS_SEGS", &rs);
		usn_stack_counter(sim->a, "TCP_OUT_SEGS", &segs);
		usn_stack_counter(sim->a, "TCP_TLP_PROBES", &tlp);
		uint64_t dack = 0, ofo = 0, ofo_drop = 0;
		usn_stack_counter(sim->b, "TCP_DELAYED_ACKS", &dack);
		usn_stack_counter(sim->b, "TCP_OFO_QUEUED", &ofo);
		usn_stack_counter(sim->b, "TCP_DROP_OFO_LIMIT", &ofo_drop);
		fprintf(stderr,
			"seed %llu loss %.1f %% delay %llu ms: %.2f s, segments %llu, retransmitted %llu, fast "
			"retransmits %llu, RTOs %llu, TLPs %llu; receiver: delayed ACKs %llu, out of order kept %llu, "
			"dropped (too many holes) %llu\n",
			(unsigned long long)seed, loss_ppm / 1e4, (unsigned long long)(delay_ns / USN_NSEC_PER_MSEC), secs,
			(unsigned long long)segs, (unsigned long long)rs, (unsigned long long)fr, (unsigned long long)rto,
			(unsigned long long)tlp, (unsigned long long)dack, (unsigned long long)ofo,
			(unsigned long long)ofo_drop);
	}
	sim_fini(sim);
	return ok ? (double)BYTES * 8 / secs / 1e6 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	/* -v LOSS_PERCENT DELAY_MS SEED: that one run (with USN_SIM_PCAP set,
	 * its captures). */
	if (verbose && argc == 5) {
		double g = run(strtoull(argv[4], NULL, 10), (uint32_t)(atof(argv[2]) * 10000),
			       strtoull(argv[3], NULL, 10) * USN_NSEC_PER_MSEC);
		printf("%.1f Mbit/s\n", g);
		return g < 0;
	}
	static const uint32_t losses[] = {0, 10000, 20000, 50000, 100000};
	static const uint64_t delays_ms[] = {1, 10, 50};
	int bad = 0;
	printf("# usnet TCP goodput under loss (simulator)\n\n");
	printf("One bulk transfer of %u MiB from A to B over the in-memory link: %llu Mbit/s each way, a %u KiB\n"
	       "drop-tail queue, random loss on both directions, the given one-way delay (RTT is twice it).\n"
	       "CUBIC, SACK, timestamps, 4 MiB buffers. Goodput in Mbit/s, median of seeds 1-3.\n"
	       "Regenerate with `build/tests/sim/sim-loss-table > bench/LOSS-TABLE.md`; the simulator is\n"
	       "deterministic, so any change in this table comes from a change in usnet.\n\n",
	       BYTES >> 20, (unsigned long long)(RATE_BPS / 1000000), 256);
	printf("| loss |");
	for (size_t d = 0; d < USN_ARRAY_SIZE(delays_ms); d++)
		printf(" %llu ms |", (unsigned long long)delays_ms[d]);
	printf("\n|---|");
	for (size_t d = 0; d < USN_ARRAY_SIZE(delays_ms); d++)
		printf("---:|");
	printf("\n");
	for (size_t l = 0; l < USN_ARRAY_SIZE(losses); l++) {
		printf("| %u %% |", losses[l] / 10000);
		for (size_t d = 0; d < USN_ARRAY_SIZE(delays_ms); d++) {
			double g[3];
			for (int sd = 0; sd < 3; sd++)
				g[sd] = run((uint64_t)sd + 1, losses[l], delays_ms[d] * USN_NSEC_PER_MSEC);
			qsort(g, 3, sizeof(g[0]), cmp_double);
			if (g[0] < 0) {
				bad = 1;
				printf(" failed |");
			} else {
				printf(" %.1f |", g[1]);
			}
			fflush(stdout);
		}
		printf("\n");
	}
	return bad;
}
