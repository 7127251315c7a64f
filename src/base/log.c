/* SPDX-License-Identifier: MIT */
/*
 * log.c - a stack's log: a level filter and a token-bucket rate limit (by
 * default a burst of 20 messages refilled at 10 a second), so that a flood
 * of bad packets costs counters, not disk. Messages refused by the limit are
 * counted and reported as "N messages suppressed" when logging resumes.
 * Each line is "prefix: level: message". It never reads a clock: the caller
 * passes the stack's time. It is not a tracing or packet-dump facility (pcap
 * writing is in io/). No RFC applies.
 */
#include <inttypes.h>
#include <stdarg.h>

#include "log.h"
#include "util.h"

#define LOG_DEFAULT_BURST 20
#define LOG_DEFAULT_RATE 10
#define LOG_LINE_MAX 512
/* Longest gap the refill computation looks at; past it the bucket is full
 * for any sane burst, and the products below cannot overflow. */
#define LOG_MAX_GAP_NS (3600 * USN_NSEC_PER_SEC)

static const char *const level_names[] = {
	[USN_LOG_ERR] = "err",
	[USN_LOG_WARN] = "warn",
	[USN_LOG_INFO] = "info",
	[USN_LOG_DEBUG] = "debug",
};

void usn_log_init(struct usn_log *l, const char *prefix, enum usn_log_level level)
{
	l->level = level;
	l->out = stderr;
	l->prefix = prefix ? prefix : "usnet";
	l->burst = LOG_DEFAULT_BURST;
	l->rate_per_sec = LOG_DEFAULT_RATE;
	l->tokens_milli = (uint64_t)LOG_DEFAULT_BURST * 1000;
	l->last_ns = 0;
	l->suppressed = 0;
}

static void refill(struct usn_log *l, uint64_t now)
{
	uint64_t full = (uint64_t)l->burst * 1000;
	uint64_t gap, add, used;

	if (now <= l->last_ns)
		return;
	if (l->tokens_milli >= full || l->rate_per_sec == 0) {
		l->tokens_milli = USN_MIN(l->tokens_milli, full);
		l->last_ns = now;
		return;
	}
	gap = USN_MIN(now - l->last_ns, LOG_MAX_GAP_NS);
	/* rate tokens per second is rate/1e6 milli-tokens per ns; split the
	 * product so that it stays within 64 bits. */
	add = gap / USN_NSEC_PER_MSEC * l->rate_per_sec +
	      gap % USN_NSEC_PER_MSEC * l->rate_per_sec / USN_NSEC_PER_MSEC;
	if (add == 0)
		return; /* keep the gap: many close calls must still refill */
	if (l->tokens_milli + add >= full) {
		l->tokens_milli = full;
		l->last_ns = now;
		return;
	}
	l->tokens_milli += add;
	/* Consume only the time that bought `add`, keeping the remainder. */
	used = (add * USN_NSEC_PER_MSEC + l->rate_per_sec - 1) / l->rate_per_sec;
	l->last_ns += USN_MIN(used, now - l->last_ns);
}

void usn_log_msg(struct usn_log *l, uint64_t now, enum usn_log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	const char *name;
	va_list ap;

	if (level > l->level)
		return;
	refill(l, now);
	if (l->tokens_milli < 1000) {
		l->suppressed++;
		return;
	}
	l->tokens_milli -= 1000;
	if (l->suppressed) {
		fprintf(l->out, "%s: warn: %" PRIu64 " messages suppressed\n", l->prefix,
			l->suppressed);
		l->suppressed = 0;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	name = (unsigned int)level < USN_ARRAY_SIZE(level_names) ? level_names[level] : "log";
	fprintf(l->out, "%s: %s: %s\n", l->prefix, name, line);
}
