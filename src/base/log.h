/* SPDX-License-Identifier: MIT */
/*
 * log.h - per-stack logging with levels and a rate limit, so that a flood of
 * bad packets cannot flood the log. No global state: each stack owns a
 * struct usn_log. Time for the rate limit is passed in by the caller.
 */
#ifndef USN_LOG_H
#define USN_LOG_H

#include <stdint.h>
#include <stdio.h>

enum usn_log_level {
	USN_LOG_ERR = 0,
	USN_LOG_WARN = 1,
	USN_LOG_INFO = 2,
	USN_LOG_DEBUG = 3,
};

struct usn_log {
	enum usn_log_level level;
	FILE *out;               /* stderr by default */
	const char *prefix;      /* e.g. "usnet" */
	/* token bucket: at most burst messages, refilled at rate_per_sec */
	uint32_t burst;
	uint32_t rate_per_sec;
	uint64_t tokens_milli;   /* tokens * 1000 */
	uint64_t last_ns;
	uint64_t suppressed;
};

void usn_log_init(struct usn_log *l, const char *prefix, enum usn_log_level level);
/* Logs unless above the level or rate-limited; `now` is the stack's time. */
void usn_log_msg(struct usn_log *l, uint64_t now, enum usn_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
