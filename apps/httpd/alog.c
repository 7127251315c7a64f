// SPDX-License-Identifier: MIT
/*
 * alog.c - the access log writer (see alog.h). Buffers go around a ring of
 * ALOG_NBUF: the loop fills the one at `fill`, the writer thread writes
 * those from `head` up to `fill`. The loop hands a buffer over by moving
 * `fill` on, unless that would catch up with `head` (every buffer queued),
 * in which case it drops the buffer's lines and refills it.
 */
#include "alog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALOG_NBUF 8
#define ALOG_BUFSZ (64 * 1024)

struct abuf {
	char data[ALOG_BUFSZ];
	size_t len;
	uint64_t lines;
};

struct alog {
	char *path;
	int fd; /* the writer's */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* writer: work queued, reopen or stop */
	pthread_cond_t room; /* close: the writer freed a buffer */
	unsigned head, fill; /* buffers [head, fill) are the writer's */
	bool stop, reopen;
	struct alog_stats st; /* lines and lines_dropped: the loop's; the rest under mu */
	struct abuf buf[ALOG_NBUF];
};

static void write_all(struct alog *a, const char *p, size_t n, uint64_t *written, uint64_t *errors)
{
	while (n > 0) {
		ssize_t w = write(a->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			(*errors)++;
			return; /* disk full, EIO: the rest of this buffer is lost */
		}
		p += w;
		n -= (size_t)w;
		*written += (uint64_t)w;
	}
}

static void *writer(void *arg)
{
	struct alog *a = arg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (a->head == a->fill && !a->stop && !a->reopen)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->reopen) {
			a->reopen = false;
			pthread_mutex_unlock(&a->mu);
			int fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
			pthread_mutex_lock(&a->mu);
			if (fd >= 0) {
				close(a->fd);
				a->fd = fd;
			} else {
				a->st.write_errors++;
			}
			continue;
		}
		if (a->head == a->fill)
			break; /* stop, and everything written */
		struct abuf *b = &a->buf[a->head % ALOG_NBUF];
		uint64_t written = 0, errors = 0;
		pthread_mutex_unlock(&a->mu);
		write_all(a, b->data, b->len, &written, &errors);
		pthread_mutex_lock(&a->mu);
		b->len = 0;
		b->lines = 0;
		a->st.bytes_written += written;
		a->st.write_errors += errors;
		a->head++;
		pthread_cond_signal(&a->room);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

struct alog *alog_open(const char *path)
{
	struct alog *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->path = strdup(path);
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (!a->path || a->fd < 0) {
		int e = a->path ? errno : ENOMEM;
		if (a->fd >= 0)
			close(a->fd);
		free(a->path);
		free(a);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	pthread_cond_init(&a->room, NULL);
	int rc = pthread_create(&a->thread, NULL, writer, a);
	if (rc != 0) {
		close(a->fd);
		free(a->path);
		free(a);
		errno = rc;
		return NULL;
	}
	return a;
}

/* Hands the buffer being filled to the writer, or drops its lines when all
 * others are still queued. Never waits. */
static void hand_over(struct alog *a)
{
	pthread_mutex_lock(&a->mu);
	struct abuf *b = &a->buf[a->fill % ALOG_NBUF];
	if (b->len == 0) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	if (a->fill + 1 - a->head < ALOG_NBUF) {
		a->fill++;
		pthread_cond_signal(&a->cv);
	} else {
		a->st.lines_dropped += b->lines;
		b->len = 0;
		b->lines = 0;
	}
	pthread_mutex_unlock(&a->mu);
}

void alog_line(struct alog *a, const char *line, size_t n)
{
	if (n > ALOG_BUFSZ)
		n = ALOG_BUFSZ;
	/* The buffer at `fill` is the loop's alone: the writer only reads
	 * buffers before it. */
	struct abuf *b = &a->buf[a->fill % ALOG_NBUF];
	if (b->len + n > ALOG_BUFSZ) {
		hand_over(a);
		b = &a->buf[a->fill % ALOG_NBUF];
	}
	memcpy(b->data + b->len, line, n);
	b->len += n;
	b->lines++;
	a->st.lines++;
}

void alog_flush(struct alog *a)
{
	hand_over(a);
}

void alog_reopen(struct alog *a)
{
	pthread_mutex_lock(&a->mu);
	a->reopen = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

struct alog_stats alog_stats(struct alog *a)
{
	pthread_mutex_lock(&a->mu);
	struct alog_stats s = a->st;
	pthread_mutex_unlock(&a->mu);
	return s;
}

struct alog_stats alog_close(struct alog *a)
{
	struct alog_stats st = {0};
	if (!a)
		return st;
	pthread_mutex_lock(&a->mu);
	/* Shutting down may wait: the last lines are kept, not dropped. */
	if (a->buf[a->fill % ALOG_NBUF].len > 0) {
		while (a->fill + 1 - a->head >= ALOG_NBUF)
			pthread_cond_wait(&a->room, &a->mu);
		a->fill++;
	}
	a->stop = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	st = a->st;
	close(a->fd);
	pthread_cond_destroy(&a->room);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a->path);
	free(a);
	return st;
}
