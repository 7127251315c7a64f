/* SPDX-License-Identifier: MIT */
/*
 * sim.h - the simulator: whole stacks joined by the in-memory link, driven in
 * virtual time from one seed, so that any run replays exactly. Time jumps
 * straight to the next event (a timer of either stack or a frame arriving),
 * which makes an hour of simulated time cost only the events in it.
 */
#ifndef USN_SIM_H
#define USN_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "dev_mem.h"
#include "stack.h"
#include "usnet/usnet.h"

#define SIM_ADDR_A 0x0a4d0001u /* 10.77.0.1 */
#define SIM_ADDR_B 0x0a4d0002u /* 10.77.0.2 */

struct sim {
	uint64_t seed;
	uint64_t now;
	struct usn_stack *a, *b;
	struct usn_memlink *link;
	uint32_t base_in_use_a, base_in_use_b; /* pool baseline after start */
	uint64_t wake; /* the application's next deadline (UINT64_MAX: none) */
};

/* Two stacks, A (10.77.0.1/24) and B (10.77.0.2/24), on one link; ab and ba
 * are the impairments of each direction (NULL: a perfect wire). */
int sim_init(struct sim *sim, uint64_t seed, const struct usn_memlink_dir_cfg *ab,
	     const struct usn_memlink_dir_cfg *ba);
void sim_fini(struct sim *sim);
/* Runs both stacks until virtual time `until` (absolute ns); returns false if
 * `until_fn` became true first (then sim->now is the time it did). */
bool sim_run_until(struct sim *sim, uint64_t until, bool (*until_fn)(void *arg), void *arg);
/* Runs for `ns` more nanoseconds. */
void sim_run_for(struct sim *sim, uint64_t ns);
/* A seeded impairment mix: loss up to max_loss_ppm, duplication,
 * reordering, delay and jitter, corruption, and in one run of three a rate
 * limit with a bounded queue. */
void sim_random_impairment(uint64_t seed, uint32_t max_loss_ppm, struct usn_memlink_dir_cfg *ret);

#endif
