// SPDX-License-Identifier: MIT
/*
 * semantics.c - the socket semantics conformance program (issue 9): the
 * same cases run on the kernel's TCP and under usnet-run (the shim and
 * usnetd), each printing one line of what the calls returned (errno names,
 * poll bits, byte counts: nothing that differs between two correct
 * stacks, such as port numbers), so the two outputs are compared line by
 * line (tests/interop/test-semantics.sh).
 *
 *   semantics peer PORT          the services the cases talk to, on the
 *                                kernel at the other end of the link
 *   semantics run LOCAL PEER PORT  the cases: LOCAL is this side's address
 *                                (the kernel's, or usnet's), PEER the peer's
 *
 * The peer's services, by port: PORT echo (until end of file), PORT+1
 * reset (accepts, closes with SO_LINGER 0), PORT+2 close (accepts, closes),
 * PORT+3 send (100 000 bytes, then close), PORT+4 sink (reads until end of
 * file, then closes). PORT+9 has nothing listening.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct in_addr local_ip, peer_ip;
static int port_base;
static volatile sig_atomic_t sigpipes;

static const char *en(int e)
{
	switch (e) {
	case 0: return "0";
	case EAGAIN: return "EAGAIN";
	case EINPROGRESS: return "EINPROGRESS";
	case EALREADY: return "EALREADY";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case ENOTSOCK: return "ENOTSOCK";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINTR: return "EINTR";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: {
		static char buf[32];
		snprintf(buf, sizeof(buf), "errno%d", e);
		return buf;
	}
	}
}

/* "N" for a count, or the errno's name for -1. */
static const char *rv(ssize_t r)
{
	static char buf[4][32];
	static int k;
	k = (k + 1) % 4;
	if (r < 0)
		return en(errno);
	snprintf(buf[k], sizeof(buf[k]), "%zd", r);
	return buf[k];
}

static const char *pollbits(short r)
{
	static char buf[64];
	buf[0] = 0;
	if (r & POLLIN)
		strcat(buf, "IN|");
	if (r & POLLOUT)
		strcat(buf, "OUT|");
	if (r & POLLERR)
		strcat(buf, "ERR|");
	if (r & POLLHUP)
		strcat(buf, "HUP|");
	if (r & POLLRDHUP)
		strcat(buf, "RDHUP|");
	size_t n = strlen(buf);
	if (n)
		buf[n - 1] = 0;
	else
		strcpy(buf, "none");
	return buf;
}

static struct sockaddr_in sa(struct in_addr ip, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = ip};
	return a;
}

/* A blocking connection to the peer's service at PORT+off, or -1. */
static int dial(int off)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sa(peer_ip, port_base + off);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Reads until n bytes or end of file / error (blocking). */
static ssize_t read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return got ? (ssize_t)got : r;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static short poll1(int fd, short ev, int ms)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int r = poll(&p, 1, ms);
	return r > 0 ? p.revents : 0;
}

static void msleep(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

#define OUT(...)                          \
	do {                              \
		printf(__VA_ARGS__);      \
		printf("\n");             \
		fflush(stdout);           \
	} while (0)

/* ---- the cases ---- */

static void c_connect_block(void)
{
	int fd = dial(0);
	OUT("connect-block: %s", fd >= 0 ? "0" : en(errno));
	if (fd >= 0)
		close(fd);
}

static void c_connect_nb(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = sa(peer_ip, port_base);
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	const char *first = r == 0 ? "0" : en(errno);
	short ev = poll1(fd, POLLOUT, 5000);
	int err = -1;
	socklen_t l = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
	OUT("connect-nonblocking: %s poll=%s so_error=%s", first, pollbits(ev), en(err));
	close(fd);
}

static void c_connect_refused_block(void)
{
	int fd = dial(9);
	OUT("connect-refused-blocking: %s", fd >= 0 ? "0" : en(errno));
	if (fd >= 0)
		close(fd);
}

static void c_connect_refused_nb(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = sa(peer_ip, port_base + 9);
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	const char *first = r == 0 ? "0" : en(errno);
	msleep(200);
	short ev = poll1(fd, POLLOUT, 5000);
	int err = -1;
	socklen_t l = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
	OUT("connect-refused-nonblocking: %s poll=%s so_error=%s", first, pollbits(ev), en(err));
	close(fd);
}

static void c_eisconn(void)
{
	int fd = dial(0);
	struct sockaddr_in a = sa(peer_ip, port_base);
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	OUT("connect-again: %s", r == 0 ? "0" : en(errno));
	close(fd);
}

static void c_echo(void)
{
	int fd = dial(0);
	char out[3000], in[3000];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	ssize_t w = write(fd, out, sizeof(out));
	ssize_t r = read_n(fd, in, sizeof(in));
	OUT("echo: write=%s read=%s same=%d", rv(w), rv(r), r == (ssize_t)sizeof(in) && !memcmp(in, out, sizeof(in)));
	close(fd);
}

static void c_half_close(void)
{
	int fd = dial(0);
	char buf[64];
	ssize_t w = write(fd, "0123456789", 10);
	int s = shutdown(fd, SHUT_WR);
	ssize_t r1 = read_n(fd, buf, 10);
	ssize_t r2 = read(fd, buf, sizeof(buf));
	OUT("half-close: write=%s shutdown=%s read=%s then=%s", rv(w), s ? en(errno) : "0", rv(r1), rv(r2));
	close(fd);
}

static void c_peer_close(void)
{
	int fd = dial(2);
	char buf[16];
	short ev = poll1(fd, POLLIN | POLLRDHUP, 5000);
	ssize_t r1 = read(fd, buf, sizeof(buf));
	ssize_t r2 = read(fd, buf, sizeof(buf));
	OUT("peer-close: poll=%s read=%s again=%s", pollbits(ev), rv(r1), rv(r2));
	close(fd);
}

static void c_peer_reset(void)
{
	int fd = dial(1);
	char buf[16];
	msleep(200);
	ssize_t r1 = read(fd, buf, sizeof(buf));
	ssize_t r2 = read(fd, buf, sizeof(buf));
	OUT("peer-reset-read: read=%s again=%s", rv(r1), rv(r2));
	close(fd);
}

static void c_write_after_shutdown(void)
{
	int fd = dial(4);
	shutdown(fd, SHUT_WR);
	int before = sigpipes;
	ssize_t w = write(fd, "x", 1);
	int sig1 = sigpipes - before;
	before = sigpipes;
	ssize_t w2 = send(fd, "x", 1, MSG_NOSIGNAL);
	int sig2 = sigpipes - before;
	OUT("write-after-shutdown: write=%s sigpipe=%d send-nosignal=%s sigpipe=%d", rv(w), sig1, rv(w2), sig2);
	close(fd);
}

static void c_nonblock_read(void)
{
	int fd = dial(0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	char buf[16];
	ssize_t r = read(fd, buf, sizeof(buf));
	ssize_t r2 = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	OUT("read-nonblocking-empty: read=%s recv-dontwait=%s", rv(r), rv(r2));
	close(fd);
}

static void c_rcvtimeo(void)
{
	int fd = dial(0);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	int s = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char buf[16];
	ssize_t r = read(fd, buf, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	struct timeval got = {0};
	socklen_t l = sizeof(got);
	getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &l);
	OUT("so-rcvtimeo: set=%s read=%s waited-150ms=%d get=%ldus", s ? en(errno) : "0", rv(r), ms >= 150,
	    (long)got.tv_usec);
	close(fd);
}

static void c_dup(void)
{
	int fd = dial(0);
	int d = dup(fd);
	close(fd);
	char buf[8];
	ssize_t w = write(d, "dup", 3);
	ssize_t r = read_n(d, buf, 3);
	OUT("dup-then-close-original: write=%s read=%s", rv(w), rv(r));
	close(d);
}

static void c_fork(void)
{
	int fd = dial(0);
	pid_t p = fork();
	if (p == 0) {
		ssize_t w = write(fd, "child", 5);
		_exit(w == 5 ? 0 : 1);
	}
	int st = -1;
	waitpid(p, &st, 0);
	char buf[8];
	ssize_t r = read_n(fd, buf, 5);
	OUT("fork-child-writes: child=%d parent-read=%s same=%d", WIFEXITED(st) ? WEXITSTATUS(st) : -1, rv(r),
	    r == 5 && !memcmp(buf, "child", 5));
	close(fd);
}

static void c_names(void)
{
	int fd = dial(0);
	struct sockaddr_in a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);
	int r1 = getsockname(fd, (struct sockaddr *)&a, &la);
	int r2 = getpeername(fd, (struct sockaddr *)&b, &lb);
	OUT("names: sock=%s fam=%d local=%d port>0=%d len=%u peer=%s is-peer=%d port=%d", r1 ? en(errno) : "0",
	    a.sin_family, a.sin_addr.s_addr == local_ip.s_addr, ntohs(a.sin_port) > 0, (unsigned)la,
	    r2 ? en(errno) : "0", b.sin_addr.s_addr == peer_ip.s_addr, ntohs(b.sin_port) == port_base);
	int type = 0, dom = 0, proto = 0, acc = -1;
	socklen_t l = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l);
	l = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l);
	l = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l);
	l = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l);
	OUT("socket-options: type=%d domain=%d protocol=%d acceptconn=%d", type, dom, proto, acc);
	int one = 1, nd = -1;
	int s = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l = sizeof(int);
	getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nd, &l);
	OUT("tcp-nodelay: set=%s get=%d", s ? en(errno) : "0", nd != 0);
	close(fd);
}

static void c_unconnected(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in b;
	socklen_t lb = sizeof(b);
	int r = getpeername(fd, (struct sockaddr *)&b, &lb);
	char c;
	ssize_t w = write(fd, "x", 1);
	int e1 = errno;
	ssize_t rd = read(fd, &c, 1);
	OUT("unconnected: getpeername=%s write=%s read=%s", r ? en(errno) : "0", w < 0 ? en(e1) : "?", rv(rd));
	close(fd);
}

static void c_bind_inuse(void)
{
	int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in x = sa(local_ip, port_base + 20);
	int r1 = bind(a, (struct sockaddr *)&x, sizeof(x));
	int e1 = errno;
	int r2 = bind(b, (struct sockaddr *)&x, sizeof(x));
	int e2 = errno;
	int r3 = listen(a, 4);
	int e3 = errno;
	OUT("bind-in-use: first=%s second=%s listen=%s", r1 ? en(e1) : "0", r2 ? en(e2) : "0", r3 ? en(e3) : "0");
	close(a);
	close(b);
}

static void c_fionread(void)
{
	int fd = dial(0);
	char buf[500];
	memset(buf, 'f', sizeof(buf));
	(void)!write(fd, buf, sizeof(buf));
	int n = -1;
	for (int i = 0; i < 50; i++) {
		poll1(fd, POLLIN, 100);
		ioctl(fd, FIONREAD, &n);
		if (n >= (int)sizeof(buf))
			break;
		msleep(10);
	}
	OUT("fionread: %d", n);
	close(fd);
}

static void c_epoll(void)
{
	int fd = dial(0);
	int ep = epoll_create1(0);
	struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.fd = fd};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	struct epoll_event got[4];
	int n0 = epoll_wait(ep, got, 4, 100);
	(void)!write(fd, "0123456789", 10);
	int n1 = epoll_wait(ep, got, 4, 2000);
	uint32_t ev1 = n1 > 0 ? got[0].events : 0;
	int n2 = epoll_wait(ep, got, 4, 100); /* edge: nothing new */
	char buf[16];
	ssize_t r = read(fd, buf, sizeof(buf));
	/* One-shot: one event, then none until re-armed. */
	e.events = EPOLLIN | EPOLLONESHOT;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
	(void)!write(fd, "ab", 2);
	int n3 = epoll_wait(ep, got, 4, 2000);
	msleep(50);
	int n4 = epoll_wait(ep, got, 4, 100);
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
	int n5 = epoll_wait(ep, got, 4, 100);
	OUT("epoll: idle=%d edge=%d events=%s again=%d read=%s oneshot=%d then=%d rearmed=%d", n0, n1,
	    ev1 == EPOLLIN ? "IN" : "other", n2, rv(r), n3, n4, n5);
	/* Shutdown of the peer's side: EPOLLRDHUP. */
	e.events = EPOLLIN | EPOLLRDHUP;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
	(void)!read(fd, buf, sizeof(buf));
	shutdown(fd, SHUT_WR); /* the echo closes its side in turn */
	int n6 = 0;
	uint32_t ev6 = 0;
	for (int i = 0; i < 20 && !(ev6 & EPOLLRDHUP); i++) {
		n6 = epoll_wait(ep, got, 4, 200);
		ev6 = n6 > 0 ? got[0].events : 0;
		if (ev6 & EPOLLIN && !(ev6 & EPOLLRDHUP))
			(void)!read(fd, buf, sizeof(buf));
	}
	OUT("epoll-rdhup: %d", (ev6 & EPOLLRDHUP) != 0);
	close(ep);
	close(fd);
}

static void c_select_mixed(void)
{
	int fd = dial(0);
	int pp[2];
	(void)!pipe(pp);
	(void)!write(fd, "s", 1);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(fd, &r);
	FD_SET(pp[0], &r);
	struct timeval tv = {.tv_sec = 2};
	int n = select((fd > pp[0] ? fd : pp[0]) + 1, &r, NULL, NULL, &tv);
	OUT("select-mixed: n=%d socket=%d pipe=%d", n, FD_ISSET(fd, &r) != 0, FD_ISSET(pp[0], &r) != 0);
	close(pp[0]);
	close(pp[1]);
	close(fd);
}

static void c_download(void)
{
	int fd = dial(3);
	static char buf[65536];
	size_t total = 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)r;
	OUT("download-100000: total=%zu end=%s", total, rv(r));
	close(fd);
}

static void c_shutdown_rd(void)
{
	int fd = dial(0);
	int s = shutdown(fd, SHUT_RD);
	char buf[8];
	ssize_t r = read(fd, buf, sizeof(buf));
	OUT("shutdown-read: shutdown=%s read=%s", s ? en(errno) : "0", rv(r));
	close(fd);
}

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static int run(void)
{
	signal(SIGPIPE, on_sigpipe);
	void (*cases[])(void) = {
		c_connect_block, c_connect_nb, c_connect_refused_block, c_connect_refused_nb, c_eisconn,
		c_echo, c_half_close, c_peer_close, c_peer_reset, c_write_after_shutdown, c_nonblock_read,
		c_rcvtimeo, c_dup, c_fork, c_names, c_unconnected, c_bind_inuse, c_fionread, c_epoll,
		c_select_mixed, c_download, c_shutdown_rd,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cases[i]();
	return 0;
}

/* ---- the peer ---- */

struct svc {
	int lfd;
	int kind;
};

static void *conn_thread(void *arg)
{
	int fd = (int)(intptr_t)arg >> 4, kind = (int)(intptr_t)arg & 15;
	char local[65536];
	switch (kind) {
	case 0: { /* echo */
		ssize_t r;
		while ((r = read(fd, local, sizeof(local))) > 0)
			if (write(fd, local, (size_t)r) != r)
				break;
		break;
	}
	case 1: { /* reset */
		struct linger lg = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	}
	case 2: /* close */
		break;
	case 3: { /* send */
		memset(local, 'd', sizeof(local));
		size_t left = 100000;
		while (left > 0) {
			ssize_t w = write(fd, local, left < sizeof(local) ? left : sizeof(local));
			if (w <= 0)
				break;
			left -= (size_t)w;
		}
		break;
	}
	case 4: /* sink */
		while (read(fd, local, sizeof(local)) > 0)
			;
		break;
	}
	close(fd);
	return NULL;
}

static void *svc_thread(void *arg)
{
	struct svc *s = arg;
	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_create(&t, &at, conn_thread, (void *)(intptr_t)(fd << 4 | s->kind));
	}
	return NULL;
}

static int peer(void)
{
	signal(SIGPIPE, SIG_IGN);
	static struct svc svcs[5];
	pthread_t t[5];
	for (int k = 0; k < 5; k++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(port_base + k))};
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
			perror("semantics peer: bind/listen");
			return 1;
		}
		svcs[k].lfd = fd;
		svcs[k].kind = k;
		pthread_create(&t[k], NULL, svc_thread, &svcs[k]);
	}
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "peer") == 0) {
		port_base = atoi(argv[2]);
		return peer();
	}
	if (argc == 5 && strcmp(argv[1], "run") == 0 && inet_pton(AF_INET, argv[2], &local_ip) == 1 &&
	    inet_pton(AF_INET, argv[3], &peer_ip) == 1) {
		port_base = atoi(argv[4]);
		return run();
	}
	fprintf(stderr, "usage: semantics peer PORT | semantics run LOCAL PEER PORT\n");
	return 2;
}
