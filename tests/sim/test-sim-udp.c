// SPDX-License-Identifier: MIT
/*
 * test-sim-udp.c - ARP, IPv4 (with fragmentation and reassembly), ICMP and
 * UDP between two stacks over the in-memory link, across many seeds.
 *
 * Per seed: random impairments in each direction (loss up to 10 %,
 * duplication, reordering, delay and jitter, bit corruption); stack A sends
 * datagrams of sizes from 0 to 65507 bytes to an echo socket on B, which
 * sends them back. Properties checked on every seed:
 *   - every datagram A gets back is byte-identical to one it sent (no
 *     corruption passes the checksums, reassembly never mixes datagrams);
 *   - on a perfect link every datagram comes back exactly once;
 *   - a datagram to a closed port gives ECONNREFUSED on a connected socket
 *     (perfect link only);
 *   - once traffic stops and timeouts pass, both buffer pools are back to
 *     their baseline (nothing leaks in reassembly, ARP queues or sockets).
 * Usage: test-sim-udp [--seeds N] [--first S] [--seed S (replay one)]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "sim.h"
#include "util.h"

#define NSIZES 12
static const uint32_t sizes[NSIZES] = {0, 1, 3, 4, 100, 1472, 1473, 2961, 8000, 20000, 65000, 65507};
#define NDGRAMS 40
#define SEND_GAP_NS (20 * USN_NSEC_PER_MSEC)

struct run {
	struct sim sim;
	int echo_sd, client_sd;
	uint32_t sent;
	uint64_t next_send;
	uint32_t len_of[NDGRAMS];
	uint32_t got[NDGRAMS];
	uint32_t bad;
	char why[256];
	uint8_t buf[65536], exp[65536];
};

static void fill(uint64_t seed, uint32_t seq, uint32_t len, uint8_t *p)
{
	struct usn_rand r;
	usn_rand_seed(&r, seed * 1000003u + seq);
	usn_rand_bytes(&r, p, len);
	if (len >= 4)
		usn_put_be32(p, seq);
}

static bool app_step(void *arg)
{
	struct run *run = arg;
	struct sim *sim = &run->sim;
	/* B: echo everything on port 7. */
	for (;;) {
		struct usn_addr from;
		ssize_t n = usn_recvfrom(sim->b, run->echo_sd, run->buf, sizeof(run->buf), 0, &from);
		if (n == -EAGAIN)
			break;
		if (n >= 0)
			usn_sendto(sim->b, run->echo_sd, run->buf, (size_t)n, 0, &from);
	}
	/* A: check what comes back. */
	for (;;) {
		ssize_t n = usn_recvfrom(sim->a, run->client_sd, run->buf, sizeof(run->buf), 0, NULL);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			continue;
		/* Datagrams under 4 bytes carry no sequence number: match the
		 * first one of that length and content not yet seen, then any. */
		bool ok = false;
		for (int pass = 0; pass < 2 && !ok; pass++)
			for (uint32_t seq = 0; seq < run->sent && !ok; seq++) {
				if (run->len_of[seq] != (uint32_t)n || (pass == 0 && run->got[seq] != 0))
					continue;
				if (n >= 4 && usn_get_be32(run->buf) != seq)
					continue;
				fill(sim->seed, seq, (uint32_t)n, run->exp);
				if (memcmp(run->exp, run->buf, (size_t)n) == 0) {
					run->got[seq]++;
					ok = true;
				}
			}
		if (!ok) {
			run->bad++;
			snprintf(run->why, sizeof(run->why), "a datagram of %zd bytes matches nothing sent", n);
		}
	}
	/* A: send the next datagram when it is time. */
	if (run->sent < NDGRAMS && sim->now >= run->next_send) {
		uint32_t seq = run->sent;
		uint32_t len = sizes[seq % NSIZES];
		fill(sim->seed, seq, len, run->exp);
		struct usn_addr to = usn_addr_v4(SIM_ADDR_B, 7);
		ssize_t rc = usn_sendto(sim->a, run->client_sd, run->exp, len, 0, &to);
		if (rc != (ssize_t)len) {
			run->bad++;
			snprintf(run->why, sizeof(run->why), "sendto(%u bytes) returned %zd", len, rc);
		}
		run->len_of[seq] = len;
		run->sent++;
		run->next_send = sim->now + SEND_GAP_NS;
		sim->wake = run->sent < NDGRAMS ? run->next_send : UINT64_MAX;
	}
	return false;
}

static int run_seed(uint64_t seed, struct run *run)
{
	memset(run, 0, offsetof(struct run, buf));
	struct usn_memlink_dir_cfg ab, ba;
	bool perfect = seed % 8 == 0;
	sim_random_impairment(seed * 2 + 1, 100000, &ab);
	sim_random_impairment(seed * 2 + 2, 100000, &ba);
	int rc = sim_init(&run->sim, seed, perfect ? NULL : &ab, perfect ? NULL : &ba);
	if (rc < 0) {
		snprintf(run->why, sizeof(run->why), "sim_init: %s", strerror(-rc));
		return -1;
	}
	struct sim *sim = &run->sim;
	run->echo_sd = usn_socket(sim->b, USN_SOCK_DGRAM);
	struct usn_addr any7 = usn_addr_v4(0, 7);
	if (usn_bind(sim->b, run->echo_sd, &any7) != 0) {
		snprintf(run->why, sizeof(run->why), "bind :7 failed");
		goto fail;
	}
	run->client_sd = usn_socket(sim->a, USN_SOCK_DGRAM);
	sim_run_until(sim, (uint64_t)NDGRAMS * SEND_GAP_NS + 2 * USN_NSEC_PER_SEC, app_step, run);
	if (perfect) {
		for (uint32_t i = 0; i < NDGRAMS; i++)
			if (run->got[i] != 1) {
				snprintf(run->why, sizeof(run->why),
					 "perfect link: datagram %u (%u bytes) came back %u times", i, run->len_of[i],
					 run->got[i]);
				goto fail;
			}
		/* ICMP port unreachable reaches a connected socket. */
		int sd = usn_socket(sim->a, USN_SOCK_DGRAM);
		struct usn_addr closed = usn_addr_v4(SIM_ADDR_B, 9999);
		usn_connect(sim->a, sd, &closed);
		usn_sendto(sim->a, sd, "x", 1, 0, NULL);
		sim_run_for(sim, 100 * USN_NSEC_PER_MSEC);
		char c;
		ssize_t r = usn_recvfrom(sim->a, sd, &c, 1, 0, NULL);
		if (r != -ECONNREFUSED) {
			snprintf(run->why, sizeof(run->why), "closed port: recv returned %zd, not -ECONNREFUSED", r);
			goto fail;
		}
		usn_close(sim->a, sd);
	}
	if (run->bad)
		goto fail;
	/* Quiet period: reassembly (30 s) and ARP timers run out. */
	sim_run_for(sim, 90 * USN_NSEC_PER_SEC);
	app_step(run);
	uint32_t ua = usn_pool_in_use(&sim->a->pool), ub = usn_pool_in_use(&sim->b->pool);
	if (ua != sim->base_in_use_a || ub != sim->base_in_use_b) {
		snprintf(run->why, sizeof(run->why), "pools not at baseline after quiet period: A %u/%u B %u/%u", ua,
			 sim->base_in_use_a, ub, sim->base_in_use_b);
		goto fail;
	}
	sim_fini(sim);
	return 0;
fail:
	sim_fini(sim);
	return -1;
}

int main(int argc, char **argv)
{
	uint64_t first = 1, nseeds = 200;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
			nseeds = strtoull(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc) {
			first = strtoull(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			first = strtoull(argv[++i], NULL, 0);
			nseeds = 1;
		} else {
			fprintf(stderr, "usage: %s [--seeds N] [--first S] [--seed S]\n", argv[0]);
			return 2;
		}
	}
	static struct run run;
	uint64_t failed = 0, sent = 0, back = 0;
	for (uint64_t seed = first; seed < first + nseeds; seed++) {
		int rc = run_seed(seed, &run);
		for (uint32_t i = 0; i < NDGRAMS; i++) {
			sent += run.len_of[i] || i < run.sent;
			back += run.got[i];
		}
		if (rc != 0) {
			failed++;
			printf("FAIL seed %" PRIu64 ": %s\n  replay: %s --seed %" PRIu64 "\n", seed, run.why, argv[0],
			       seed);
		}
	}
	printf("sim-udp: %" PRIu64 " seeds, %" PRIu64 " datagrams sent, %" PRIu64 " came back intact, %" PRIu64
	       " seeds failed\n", nseeds, sent, back, failed);
	return failed ? 1 : 0;
}
