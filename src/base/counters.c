/* SPDX-License-Identifier: MIT */
/*
 * counters.c - the names, groups and descriptions of a stack's counters,
 * generated from counters.def, and their netstat -s style printout. It holds
 * no counter values: those live in each stack's struct usn_counters. Each
 * line shows the counter's NAME next to its description so that an operator
 * can grep for the name that code and documentation use. No RFC applies.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "counters.h"

static const char *const counter_names[USN_C__COUNT] = {
#define USN_COUNTER(name, group, desc) #name,
#include "counters.def"
#undef USN_COUNTER
};

static const char *const counter_groups[USN_C__COUNT] = {
#define USN_COUNTER(name, group, desc) #group,
#include "counters.def"
#undef USN_COUNTER
};

static const char *const counter_descs[USN_C__COUNT] = {
#define USN_COUNTER(name, group, desc) desc,
#include "counters.def"
#undef USN_COUNTER
};

static bool id_valid(enum usn_counter_id id)
{
	return (unsigned int)id < (unsigned int)USN_C__COUNT;
}

const char *usn_counter_name(enum usn_counter_id id)
{
	return id_valid(id) ? counter_names[id] : NULL;
}

const char *usn_counter_group(enum usn_counter_id id)
{
	return id_valid(id) ? counter_groups[id] : NULL;
}

const char *usn_counter_desc(enum usn_counter_id id)
{
	return id_valid(id) ? counter_descs[id] : NULL;
}

int usn_counter_find(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < USN_C__COUNT; i++)
		if (strcmp(counter_names[i], name) == 0)
			return i;
	return -1;
}

void usn_counters_print(const struct usn_counters *c, FILE *out, int all)
{
	/* Groups come out in the order they first appear in counters.def,
	 * each once, even if the file ever interleaves them. */
	for (int g = 0; g < USN_C__COUNT; g++) {
		const char *group = counter_groups[g];
		bool first_of_group = true, header = false;

		for (int j = 0; j < g; j++)
			if (strcmp(counter_groups[j], group) == 0)
				first_of_group = false;
		if (!first_of_group)
			continue;
		for (int i = g; i < USN_C__COUNT; i++) {
			if (strcmp(counter_groups[i], group) != 0)
				continue;
			if (!all && c->v[i] == 0)
				continue;
			if (!header) {
				fprintf(out, "%s:\n", group);
				header = true;
			}
			fprintf(out, "    %" PRIu64 " %s  %s\n", c->v[i], counter_names[i],
				counter_descs[i]);
		}
	}
}
