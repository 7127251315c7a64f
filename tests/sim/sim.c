// SPDX-License-Identifier: MIT
/*
 * sim.c - the simulator's driver (see sim.h). Not a test by itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "sim.h"
#include "util.h"

static int make_stack(struct sim *sim, uint32_t addr, uint64_t seed, struct usn_stack **ret)
{
	struct usn_config cfg;
	usn_config_init(&cfg);
	cfg.addr = addr;
	cfg.prefix_len = 24;
	cfg.seed = seed;
	cfg.nbufs = 4096;
	cfg.virtual_time = 1;
	cfg.log_level = 0;
	/* USN_SIM_PCAP=PREFIX writes PREFIX-a.pcap and PREFIX-b.pcap (replay a
	 * seed with it and read them with tcpdump). */
	const char *pcap = getenv("USN_SIM_PCAP");
	if (pcap)
		snprintf(cfg.pcap, sizeof(cfg.pcap), "%s-%c.pcap", pcap, addr == SIM_ADDR_A ? 'a' : 'b');
	char err[256];
	(void)sim;
	return usn_stack_create(&cfg, ret, err, sizeof(err));
}

int sim_init(struct sim *sim, uint64_t seed, const struct usn_memlink_dir_cfg *ab,
	     const struct usn_memlink_dir_cfg *ba)
{
	memset(sim, 0, sizeof(*sim));
	sim->seed = seed;
	sim->wake = UINT64_MAX;
	int rc = make_stack(sim, SIM_ADDR_A, seed * 3 + 1, &sim->a);
	if (rc < 0)
		return rc;
	rc = make_stack(sim, SIM_ADDR_B, seed * 3 + 2, &sim->b);
	if (rc < 0)
		return rc;
	struct usn_dev *da, *db;
	rc = usn_memlink_create(&sim->a->pool, &sim->b->pool, seed * 3 + 3, &sim->link, &da, &db);
	if (rc < 0)
		return rc;
	if (ab)
		usn_memlink_set_cfg(sim->link, 0, ab);
	if (ba)
		usn_memlink_set_cfg(sim->link, 1, ba);
	sim->base_in_use_a = usn_pool_in_use(&sim->a->pool);
	sim->base_in_use_b = usn_pool_in_use(&sim->b->pool);
	usn_stack_attach_dev(sim->a, da, NULL);
	usn_stack_attach_dev(sim->b, db, NULL);
	return 0;
}

void sim_fini(struct sim *sim)
{
	/* The link's devices belong to the stacks; detach them first so the
	 * link frees its frames in flight into live pools. */
	sim->a->dev = NULL;
	sim->a->ip.dev = NULL;
	sim->b->dev = NULL;
	sim->b->ip.dev = NULL;
	usn_memlink_destroy(sim->link);
	usn_stack_destroy(sim->a);
	usn_stack_destroy(sim->b);
}

bool sim_run_until(struct sim *sim, uint64_t until, bool (*until_fn)(void *arg), void *arg)
{
	for (;;) {
		usn_stack_set_time(sim->a, sim->now);
		usn_stack_set_time(sim->b, sim->now);
		usn_stack_run(sim->a);
		usn_stack_run(sim->b);
		if (until_fn && until_fn(arg))
			return false;
		uint64_t next = usn_memlink_next_arrival(sim->link);
		next = USN_MIN(next, usn_stack_next_timer(sim->a));
		next = USN_MIN(next, usn_stack_next_timer(sim->b));
		if (sim->wake > sim->now) /* a deadline already passed is not an event */
			next = USN_MIN(next, sim->wake);
		if (next <= sim->now)
			next = sim->now + 1; /* a timer due now already ran */
		if (next > until) {
			sim->now = until;
			usn_stack_set_time(sim->a, sim->now);
			usn_stack_set_time(sim->b, sim->now);
			usn_stack_run(sim->a);
			usn_stack_run(sim->b);
			return true;
		}
		sim->now = next;
	}
}

void sim_run_for(struct sim *sim, uint64_t ns)
{
	sim_run_until(sim, sim->now + ns, NULL, NULL);
}

void sim_random_impairment(uint64_t seed, uint32_t max_loss_ppm, struct usn_memlink_dir_cfg *ret)
{
	struct usn_rand r;
	usn_rand_seed(&r, seed);
	memset(ret, 0, sizeof(*ret));
	ret->loss_ppm = (uint32_t)usn_rand_below(&r, max_loss_ppm + 1);
	ret->dup_ppm = (uint32_t)usn_rand_below(&r, 20000);
	ret->reorder_ppm = (uint32_t)usn_rand_below(&r, 50000);
	ret->corrupt_ppm = (uint32_t)usn_rand_below(&r, 10000);
	ret->delay_ns = usn_rand_below(&r, 50 * USN_NSEC_PER_MSEC);
	ret->jitter_ns = usn_rand_below(&r, 5 * USN_NSEC_PER_MSEC);
	ret->reorder_ns = 1 * USN_NSEC_PER_MSEC + usn_rand_below(&r, 10 * USN_NSEC_PER_MSEC);
	/* One run in three has a bottleneck: 1 to 100 Mbit/s with a drop-tail
	 * queue of 16 KB to 1 MB (congestion losses on top of random ones). */
	if (usn_rand_below(&r, 3) == 0) {
		ret->rate_bps = 1000000ULL * (1 + usn_rand_below(&r, 100));
		ret->queue_bytes = (uint32_t)(16384 + usn_rand_below(&r, 1 << 20));
	}
}
