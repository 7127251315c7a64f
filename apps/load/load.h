/* SPDX-License-Identifier: MIT */
/*
 * load.h - what usnet-load's parts share: the options of a run, the
 * figures it collects, and the two engines (load_http.c, load_dns.c),
 * each driving one usnet stack in a run-to-completion loop: poll the
 * stack, handle every event, and let the next poll send what they queued.
 */
#ifndef USNET_LOAD_LOAD_H
#define USNET_LOAD_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <usnet/usnet.h>

#include "hist.h"

enum load_mode { LOAD_HTTP, LOAD_DNS };

struct load_opts {
	enum load_mode mode;
	struct usn_addr server;
	char target[300];      /* as given, for the report */
	uint32_t conns;        /* HTTP connections; DNS queries in flight */
	bool conns_set;
	double duration_s;     /* 0 with count */
	uint64_t count;        /* -n; 0 with duration */
	uint32_t timeout_ms;
	double warmup_s;
	bool json;
	/* HTTP */
	char host[300];        /* the Host field */
	char path[2048];
	uint32_t depth;        /* requests in flight per connection */
	bool close;            /* one request per connection */
	uint32_t max_connecting; /* connection attempts in progress at once */
	/* DNS */
	const char *qfile;
	double rate;           /* queries a second, 0: closed loop */
	uint32_t sockets;
};

#define LOAD_RCODES 16

struct load_stats {
	struct hist hist;
	double duration_s;
	uint64_t requests;     /* responses (HTTP), answers (DNS) */
	uint64_t sent;         /* requests written, queries sent */
	uint64_t bytes;        /* received: every byte of the responses */
	uint64_t body_bytes;   /* HTTP: payload */
	uint64_t conns;        /* HTTP: connections opened */
	/* HTTP errors, each a request that got no valid response (a failed
	 * connection attempt counts as one) */
	uint64_t err_connect, err_connect_refused, err_connect_timeout, err_connect_unreach;
	uint64_t err_reset, err_timeout, err_parse, err_short, err_ports;
	uint64_t status_class[6]; /* [1]..[5]: 1xx..5xx responses */
	uint64_t drain_aborted;   /* --close: the server did not close in time */
	/* DNS */
	uint64_t lost;          /* no answer within the timeout */
	uint64_t icmp_refused;  /* ICMP port unreachable reports */
	uint64_t malformed, unknown_id, mismatch, truncated, send_errors, stalls;
	uint64_t rcode[LOAD_RCODES];
};

extern volatile sig_atomic_t load_quit;

static inline uint64_t load_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Each runs the whole test on stack s and fills *st; 0, or -1 with a
 * message printed (setup failed). */
int load_http_run(struct usn_stack *s, const struct load_opts *o, struct load_stats *st);
int load_dns_run(struct usn_stack *s, const struct load_opts *o, struct load_stats *st);

uint64_t load_http_errors(const struct load_stats *st);

#endif
