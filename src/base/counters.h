/* SPDX-License-Identifier: MIT */
/*
 * counters.h - named counters of one stack (netstat -s style). The list is
 * counters.def; each is a uint64_t incremented only by the thread that owns
 * the stack. A drop is counted with USN_DROP(ctr, NAME) and nothing else.
 */
#ifndef USN_COUNTERS_H
#define USN_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

enum usn_counter_id {
#define USN_COUNTER(name, group, desc) USN_C_##name,
#include "counters.def"
#undef USN_COUNTER
	USN_C__COUNT
};

struct usn_counters {
	uint64_t v[USN_C__COUNT];
};

#define USN_CTR_INC(ctr, name) ((ctr)->v[USN_C_##name]++)
#define USN_CTR_ADD(ctr, name, n) ((ctr)->v[USN_C_##name] += (uint64_t)(n))
#define USN_CTR_GET(ctr, name) ((ctr)->v[USN_C_##name])
/* A drop of a packet for the reason `name`. */
#define USN_DROP(ctr, name) USN_CTR_INC(ctr, name)

const char *usn_counter_name(enum usn_counter_id id);  /* "IP_DROP_BAD_CSUM" */
const char *usn_counter_group(enum usn_counter_id id); /* "ip" */
const char *usn_counter_desc(enum usn_counter_id id);
/* Looks a counter up by name; -1 when there is none. */
int usn_counter_find(const char *name);
/* Prints counters grouped like netstat -s; zero ones only if all != 0. */
void usn_counters_print(const struct usn_counters *c, FILE *out, int all);

#endif
