/* SPDX-License-Identifier: MIT */
/*
 * alog.h - usnet-httpd's access log writer: the server loop appends lines
 * to a buffer of its own and hands full buffers (or, once a second, the
 * partly filled one) to a writer thread, which does the write(2) calls. The
 * loop never waits for the disk: when the writer is so far behind that all
 * buffers are queued, the lines of the buffer being handed over are dropped
 * and counted instead (a log must not slow down or stop the server).
 * Not thread-safe on the loop side: one loop per log.
 */
#ifndef USNET_HTTPD_ALOG_H
#define USNET_HTTPD_ALOG_H

#include <stddef.h>
#include <stdint.h>

struct alog;

struct alog_stats {
	uint64_t lines, lines_dropped, bytes_written, write_errors;
};

/* Opens (appending, creating with mode 0644) and starts the writer; NULL
 * with errno set on failure. */
struct alog *alog_open(const char *path);
/* Appends one line (n bytes, ending with '\n'). */
void alog_line(struct alog *a, const char *line, size_t n);
/* Hands the partly filled buffer to the writer (call about once a second). */
void alog_flush(struct alog *a);
/* Asks the writer to reopen the file by its path before its next write
 * (after log rotation renamed it). */
void alog_reopen(struct alog *a);
/* Counters; lines_dropped and the writer's figures as of the last call. */
struct alog_stats alog_stats(struct alog *a);
/* Hands over what is left (waiting for room if need be), waits for the
 * writer to write it, closes; returns the final counters. */
struct alog_stats alog_close(struct alog *a);

#endif
