/* SPDX-License-Identifier: MIT */
/*
 * usnetd - the usnet stack for other processes (shared/DESIGN.md, "The
 * daemon and the shim"). Processes attach over a UNIX socket (default
 * /run/usnet/usnetd.sock, or USNET_SOCKET, or --socket) and send the
 * commands of src/ipc/ipc.h; each usnet socket they get is one end of a
 * socketpair whose other end this daemon holds and relays to and from the
 * TCP connection (ipc.h says how). Public API only.
 *
 * One thread runs everything: the stack, the control connections and the
 * pairs, all in one epoll set, sleeping when there is nothing to do.
 * Nothing a process sends is trusted: every message is checked
 * (usn_ipc_check), a socket is named only by a descriptor the process
 * holds (found by its inode), and a port below the kernel's unprivileged
 * start (1024) needs CAP_NET_BIND_SERVICE in the asking process, as the
 * kernel asks (the process is the one that connected, SO_PEERCRED: the
 * shim opens a connection per process and thread).
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "../common.h"
#include "ipc.h"

#define MAX_EVENTS 256
#define SCRATCH (64 * 1024)
#define TOKEN_SNDBUF (8 * 1024 * 1024) /* room for a listener's tokens (one skb each) */

enum kind { K_UNIX_LISTEN = 1, K_CLIENT, K_PAIR, K_STACK };

struct client {
	int kind; /* K_CLIENT */
	int fd;
	pid_t pid; /* from SO_PEERCRED at attach */
	uid_t uid;
	struct client *next;
};

/* A usnet socket served to processes: the usnet descriptor and the
 * daemon's end of the pair. */
struct dsock {
	int kind; /* K_PAIR */
	int sd;
	int dfd;
	dev_t dev;
	ino_t ino;       /* the application's end */
	int family;      /* as the application made it (AF_INET or AF_INET6) */
	uint32_t flags;
	int err;         /* the error that ended the connection (negative), kept for STATUS */
	uint32_t ev;     /* epoll events asked on dfd */
	/* bytes the application wrote that the send buffer could not take yet */
	uint8_t *pend;
	uint32_t pend_off, pend_len;
	/* listener: connections accepted from the stack, waiting for ACCEPT */
	int *q;
	uint32_t qhead, qlen, qcap;
	uint32_t tokens_owed; /* bytes of the pair still to write, one per connection */
	/* a CONNECT waiting for the handshake (USN_IPC_F_WAIT) */
	struct client *waiter;
	uint32_t wait_seq;
	struct dsock *hnext; /* inode hash chain; the dead list once freed */
	struct usn_addr name; /* DS_DONE: the local address it had */
};

#define DS_LISTENER 0x01
#define DS_CONNECTING 0x02
#define DS_CONNECTED 0x04
#define DS_APP_EOF 0x08  /* the application shut its writing down */
#define DS_NET_EOF 0x10  /* the peer's FIN (or an error) passed on to the pair */
#define DS_LINGER0 0x20  /* SO_LINGER 0: close is a reset */
#define DS_CLOSING 0x40  /* the application closed; pend still to send */
#define DS_BOUND 0x80
#define DS_APP_GONE 0x100 /* every holder closed the application's end */
#define DS_HASHED 0x200
#define DS_DONE 0x400     /* both directions ended, the application may still hold its end */

struct daemon {
	struct usn_stack *s;
	int ep;
	int lfd;
	int unpriv_port; /* net.ipv4.ip_unprivileged_port_start */
	struct usn_addr addr;
	int prefix;
	uint32_t gw;
	struct client *clients;
	struct dsock **hash;
	uint32_t hmask, nsocks;
	struct dsock *dead; /* freed after the batch of events that may name them */
	struct dsock **done; /* DS_DONE sockets, checked once a second for their end's release */
	uint32_t ndone, done_cap;
	time_t done_checked;
	uint32_t serial;
	uint8_t *scratch;
	uint64_t bad_msgs; /* for the rate-limited log */
	time_t bad_log_at;
};

static volatile sig_atomic_t quit;
static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usnetd [device options] [--socket PATH]\n"
		"The usnet stack for other processes: programs run with usnet-run (the\n"
		"LD_PRELOAD shim) reach usnet through it.\n\n%s"
		"usnetd options:\n"
		"  --socket PATH       the UNIX socket processes attach to (default: $USNET_SOCKET,\n"
		"                      else " USN_IPC_DEFAULT_SOCKET ")\n"
		"  -h, --help          this text\n"
		"  -V, --version       the version\n",
		usn_config_usage());
}

/* ---- the socket table, by the inode of the application's end ---- */

static uint32_t ino_hash(const struct daemon *d, dev_t dev, ino_t ino)
{
	uint64_t x = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;
	return (uint32_t)(x >> 32) & d->hmask;
}

static int hash_grow(struct daemon *d)
{
	uint32_t n = d->hmask ? (d->hmask + 1) * 2 : 1024;
	struct dsock **h = calloc(n, sizeof(*h));
	if (!h)
		return -ENOMEM;
	struct dsock **old = d->hash;
	uint32_t oldn = d->hmask ? d->hmask + 1 : 0;
	d->hash = h;
	d->hmask = n - 1;
	for (uint32_t i = 0; i < oldn; i++)
		for (struct dsock *x = old[i], *nx; x; x = nx) {
			nx = x->hnext;
			uint32_t b = ino_hash(d, x->dev, x->ino);
			x->hnext = h[b];
			h[b] = x;
		}
	free(old);
	return 0;
}

static struct dsock *find_by_fd(struct daemon *d, int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return NULL;
	for (struct dsock *x = d->hash[ino_hash(d, st.st_dev, st.st_ino)]; x; x = x->hnext)
		if (x->ino == st.st_ino && x->dev == st.st_dev)
			return x;
	return NULL;
}

static void set_events(struct daemon *d, struct dsock *ds, uint32_t ev)
{
	if (ds->dfd < 0 || ds->ev == ev)
		return;
	struct epoll_event e = {.events = ev, .data.ptr = ds};
	epoll_ctl(d->ep, EPOLL_CTL_MOD, ds->dfd, &e);
	ds->ev = ev;
}

/* Makes the pair for usnet socket sd: *ret_app is the application's end
 * (to send, then close). */
static struct dsock *dsock_new(struct daemon *d, int sd, int family, int *ret_app)
{
	if (d->nsocks + 1 > (d->hmask + 1) / 2 && hash_grow(d) < 0)
		return NULL;
	struct dsock *ds = calloc(1, sizeof(*ds));
	if (!ds)
		return NULL;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(ds);
		return NULL;
	}
	/* The application's end carries its name: a process that holds it
	 * (after exec, or passed with SCM_RIGHTS) knows it from
	 * getsockname() alone, with no table. */
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	int nl = snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "usnet:%d:%u", (int)getpid(), ++d->serial);
	struct stat st;
	if (bind(sv[0], (struct sockaddr *)&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)nl)) <
		    0 ||
	    fstat(sv[0], &st) < 0 || fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0) {
		close(sv[0]);
		close(sv[1]);
		free(ds);
		return NULL;
	}
	ds->kind = K_PAIR;
	ds->sd = sd;
	ds->dfd = sv[1];
	ds->dev = st.st_dev;
	ds->ino = st.st_ino;
	ds->family = family;
	struct epoll_event e = {.events = 0, .data.ptr = ds};
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, ds->dfd, &e) < 0) {
		close(sv[0]);
		close(sv[1]);
		free(ds);
		return NULL;
	}
	uint32_t b = ino_hash(d, ds->dev, ds->ino);
	ds->hnext = d->hash[b];
	d->hash[b] = ds;
	ds->flags |= DS_HASHED;
	d->nsocks++;
	usn_socket_set_udata(d->s, sd, ds);
	*ret_app = sv[0];
	return ds;
}

static void answer(struct client *c, struct usn_ipc_msg *m, int rc, int fd);

/* Out of the table: the inode may be a new socket's from now on. */
static void unhash(struct daemon *d, struct dsock *ds)
{
	if (!(ds->flags & DS_HASHED))
		return;
	struct dsock **pp = &d->hash[ino_hash(d, ds->dev, ds->ino)];
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == ds) {
			*pp = ds->hnext;
			break;
		}
	ds->flags &= ~DS_HASHED;
	d->nsocks--;
}

static void close_pair(struct dsock *ds)
{
	if (ds->dfd >= 0) {
		close(ds->dfd); /* also leaves the epoll set */
		ds->dfd = -1;
	}
}

/* Ends ds; its memory goes after the current batch of events (kind 0
 * marks it dead for the events still to be handled). */
static void dsock_free(struct daemon *d, struct dsock *ds)
{
	unhash(d, ds);
	close_pair(ds);
	for (uint32_t i = 0; i < ds->qlen; i++)
		usn_abort(d->s, ds->q[(ds->qhead + i) % ds->qcap]);
	ds->qlen = 0;
	if (ds->sd >= 0)
		usn_socket_set_udata(d->s, ds->sd, NULL);
	ds->kind = 0;
	ds->hnext = d->dead;
	d->dead = ds;
}

static void free_dead(struct daemon *d)
{
	while (d->dead) {
		struct dsock *ds = d->dead;
		d->dead = ds->hnext;
		free(ds->q);
		free(ds->pend);
		free(ds);
	}
}

/* The application's end is closed by every holder: the connection closes
 * as the kernel's would. */
static void app_closed(struct daemon *d, struct dsock *ds, bool reset)
{
	unhash(d, ds);
	close_pair(ds);
	if (ds->sd >= 0) {
		if (reset || (ds->flags & DS_LINGER0)) {
			usn_socket_set_udata(d->s, ds->sd, NULL);
			usn_abort(d->s, ds->sd);
			ds->sd = -1;
		} else if (ds->pend_len > 0 && !(ds->flags & DS_NET_EOF)) {
			/* What it wrote goes first: the close waits for room. */
			ds->flags |= DS_CLOSING;
			return;
		} else {
			usn_socket_set_udata(d->s, ds->sd, NULL);
			usn_close(d->s, ds->sd);
			ds->sd = -1;
		}
	}
	if (ds->waiter) {
		struct usn_ipc_msg m = {.seq = ds->wait_seq, .op = USN_IPC_CONNECT};
		answer(ds->waiter, &m, -ECONNABORTED, -1);
		ds->waiter = NULL;
	}
	dsock_free(d, ds);
}

/* ---- relaying ---- */

/* Sends what is pending; true when nothing is left. */
static bool flush_pend(struct daemon *d, struct dsock *ds)
{
	while (ds->pend_len > 0) {
		ssize_t w = usn_send(d->s, ds->sd, ds->pend + ds->pend_off, ds->pend_len, 0);
		if (w == -EAGAIN)
			return false;
		if (w < 0) {
			ds->pend_len = 0; /* the connection is gone: the bytes with it */
			break;
		}
		ds->pend_off += (uint32_t)w;
		ds->pend_len -= (uint32_t)w;
	}
	free(ds->pend);
	ds->pend = NULL;
	ds->pend_off = 0;
	return true;
}

static void update_events(struct daemon *d, struct dsock *ds);

/* Both directions of ds ended while the application may still hold its
 * end: the connection closes (as the kernel's would be, past its FINs),
 * and the record stays findable (getsockname, SO_ERROR) until the end is
 * released, which only /proc/net/unix shows (its inode leaves the list). */
static void done_later(struct daemon *d, struct dsock *ds)
{
	if (ds->flags & DS_DONE)
		return;
	if (d->ndone == d->done_cap) {
		uint32_t n = d->done_cap ? d->done_cap * 2 : 64;
		struct dsock **p = realloc(d->done, n * sizeof(*p));
		if (!p) {
			app_closed(d, ds, false);
			return;
		}
		d->done = p;
		d->done_cap = n;
	}
	ds->flags |= DS_DONE;
	epoll_ctl(d->ep, EPOLL_CTL_DEL, ds->dfd, NULL);
	ds->ev = 0;
	if (ds->sd >= 0) {
		usn_getsockname(d->s, ds->sd, &ds->name);
		usn_socket_set_udata(d->s, ds->sd, NULL);
		usn_close(d->s, ds->sd);
		ds->sd = -1;
	}
	d->done[d->ndone++] = ds;
}

static int cmp_ino(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

/* Frees the DS_DONE records whose application end is gone. */
static void check_done(struct daemon *d)
{
	time_t now = time(NULL);
	if (d->ndone == 0 || now == d->done_checked)
		return;
	d->done_checked = now;
	FILE *f = fopen("/proc/net/unix", "re");
	if (!f)
		return;
	unsigned long *inos = NULL;
	size_t n = 0, cap = 0;
	char line[512];
	if (!fgets(line, sizeof(line), f)) { /* the header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long ino;
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu", &ino) != 1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			unsigned long *p = realloc(inos, cap * sizeof(*p));
			if (!p)
				break;
			inos = p;
		}
		inos[n++] = ino;
	}
	fclose(f);
	if (n == 0 || !inos) {
		free(inos);
		return;
	}
	qsort(inos, n, sizeof(*inos), cmp_ino);
	for (uint32_t i = 0; i < d->ndone;) {
		unsigned long ino = (unsigned long)d->done[i]->ino;
		if (bsearch(&ino, inos, n, sizeof(*inos), cmp_ino)) {
			i++;
			continue;
		}
		struct dsock *ds = d->done[i];
		d->done[i] = d->done[--d->ndone];
		dsock_free(d, ds);
	}
	free(inos);
}

/* The application wrote (or closed): to the connection. Also called with
 * revents 0 when the connection has room again. */
static void from_app(struct daemon *d, struct dsock *ds, uint32_t revents)
{
	if (ds->flags & DS_LISTENER) {
		/* Bytes written to a listener's pair mean nothing: dropped. */
		while (recv(ds->dfd, d->scratch, SCRATCH, MSG_DONTWAIT) > 0)
			;
		if (revents & (EPOLLHUP | EPOLLERR)) {
			app_closed(d, ds, false);
			return;
		}
		while (ds->tokens_owed > 0 && send(ds->dfd, "c", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
			ds->tokens_owed--;
		update_events(d, ds);
		return;
	}
	if (revents & (EPOLLHUP | EPOLLERR)) {
		/* Every holder closed it. Received bytes left unread make the
		 * kernel report ECONNRESET here: a reset, as the kernel sends.
		 * Otherwise the bytes still in the pair (written before the
		 * close) go first, as the connection takes them. */
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(ds->dfd, SOL_SOCKET, SO_ERROR, &err, &el);
		if ((ds->flags & DS_APP_EOF) && (ds->flags & DS_NET_EOF) && err != ECONNRESET) {
			/* Both directions shut (the application's
			 * shutdown(SHUT_WR) and the peer's FIN) give EPOLLHUP
			 * too: the application may still hold its end. */
			done_later(d, ds);
			return;
		}
		if (err == ECONNRESET || !(ds->flags & DS_CONNECTED) || (ds->flags & DS_APP_EOF)) {
			app_closed(d, ds, err == ECONNRESET);
			return;
		}
		ds->flags |= DS_APP_GONE;
		epoll_ctl(d->ep, EPOLL_CTL_DEL, ds->dfd, NULL); /* HUP would fire on and on */
		ds->ev = 0;
	}
	if (!(ds->flags & DS_CONNECTED) || (ds->flags & DS_APP_EOF))
		goto out;
	while (flush_pend(d, ds)) {
		ssize_t n = recv(ds->dfd, d->scratch, SCRATCH, MSG_DONTWAIT);
		if (n > 0) {
			ssize_t w = usn_send(d->s, ds->sd, d->scratch, (size_t)n, 0);
			if (w == n)
				continue;
			if (w == -EAGAIN)
				w = 0;
			if (w < 0)
				break; /* reset: the bytes are lost with the connection */
			ds->pend = malloc((size_t)(n - w));
			if (!ds->pend)
				break;
			memcpy(ds->pend, d->scratch + w, (size_t)(n - w));
			ds->pend_len = (uint32_t)(n - w);
			break;
		}
		if (n == 0) {
			ds->flags |= DS_APP_EOF;
			if (ds->flags & DS_APP_GONE) {
				app_closed(d, ds, false);
				return;
			}
			usn_shutdown(d->s, ds->sd, USN_SHUT_WR); /* half-close: FIN */
			break;
		}
		if (errno == ECONNRESET) {
			app_closed(d, ds, true);
			return;
		}
		break; /* EAGAIN */
	}
out:
	update_events(d, ds);
}

/* The connection received (or ended): to the application. */
static void to_app(struct daemon *d, struct dsock *ds)
{
	if (!(ds->flags & DS_CONNECTED) || (ds->flags & DS_NET_EOF) || ds->dfd < 0)
		return;
	for (;;) {
		struct iovec iov[2];
		int cnt = 0;
		ssize_t n = usn_recv_zc(d->s, ds->sd, iov, &cnt, SCRATCH * 4);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			/* FIN (0) or the connection's error: the application
			 * reads end of file; an error stays for STATUS. */
			/* Only the writing side: with both shut the kernel
			 * reports EPOLLHUP on the daemon's end as if the
			 * application had closed it. */
			if (n < 0)
				ds->err = (int)n;
			shutdown(ds->dfd, SHUT_WR);
			ds->flags |= DS_NET_EOF;
			break;
		}
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
		ssize_t w = sendmsg(ds->dfd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			usn_recv_done(d->s, ds->sd, (size_t)w);
		if (w < n)
			break; /* full (EAGAIN) or the application shut reading down */
	}
	update_events(d, ds);
}

/* EPOLLIN on the pair while bytes can go to the connection; EPOLLOUT
 * while bytes (or tokens) wait for room in the pair. */
static void update_events(struct daemon *d, struct dsock *ds)
{
	if (ds->dfd < 0 || (ds->flags & DS_APP_GONE))
		return;
	uint32_t ev = 0;
	if (ds->flags & DS_LISTENER) {
		if (ds->tokens_owed > 0)
			ev |= EPOLLOUT;
	} else if (ds->flags & DS_CONNECTED) {
		if (!(ds->flags & DS_APP_EOF) && ds->pend_len == 0)
			ev |= EPOLLIN | EPOLLRDHUP;
		if (!(ds->flags & DS_NET_EOF) && ds->sd >= 0 && (usn_socket_poll(d->s, ds->sd) & USN_EV_IN))
			ev |= EPOLLOUT;
	}
	set_events(d, ds, ev);
}

static void push_queue(struct daemon *d, struct dsock *l, int sd)
{
	if (l->qlen == l->qcap) {
		uint32_t n = l->qcap ? l->qcap * 2 : 16;
		int *q = malloc(n * sizeof(*q));
		if (!q) {
			usn_abort(d->s, sd);
			return;
		}
		for (uint32_t i = 0; i < l->qlen; i++)
			q[i] = l->q[(l->qhead + i) % l->qcap];
		free(l->q);
		l->q = q;
		l->qhead = 0;
		l->qcap = n;
	}
	l->q[(l->qhead + l->qlen) % l->qcap] = sd;
	l->qlen++;
	if (l->tokens_owed > 0 || send(l->dfd, "c", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
		l->tokens_owed++;
}

/* A usnet socket's readiness changed. */
static void net_event(struct daemon *d, struct dsock *ds, uint32_t ev)
{
	if (ds->flags & DS_LISTENER) {
		int sd;
		struct usn_addr peer;
		while ((sd = usn_accept(d->s, ds->sd, &peer)) >= 0)
			push_queue(d, ds, sd);
		update_events(d, ds);
		return;
	}
	if (ds->flags & DS_CONNECTING) {
		int err = usn_sock_error(d->s, ds->sd);
		if (err == 0 && !(ev & USN_EV_OUT))
			return;
		ds->flags &= ~DS_CONNECTING;
		if (err == 0) {
			ds->flags |= DS_CONNECTED;
		} else {
			ds->err = err;
			ds->flags |= DS_NET_EOF;
			if (ds->dfd >= 0)
				shutdown(ds->dfd, SHUT_WR);
		}
		if (ds->waiter) {
			struct usn_ipc_msg m = {.seq = ds->wait_seq, .op = USN_IPC_CONNECT};
			answer(ds->waiter, &m, err, -1);
			ds->waiter = NULL;
		}
	}
	if (ds->flags & DS_CLOSING) {
		if (flush_pend(d, ds)) {
			ds->flags &= ~DS_CLOSING;
			app_closed(d, ds, false);
		}
		return;
	}
	if ((ev & USN_EV_OUT) && (ds->pend_len > 0 || (ds->flags & DS_APP_GONE)) && flush_pend(d, ds)) {
		from_app(d, ds, 0); /* room again: more from the application */
		if (ds->kind != K_PAIR)
			return;
	}
	to_app(d, ds);
}

/* ---- control connections ---- */

static void answer(struct client *c, struct usn_ipc_msg *m, int rc, int fd)
{
	if (!c)
		return;
	m->magic = USN_IPC_MAGIC;
	m->rc = rc;
	usn_ipc_send(c->fd, m, fd); /* a client gone is noticed on its socket */
}

static void to_ipc_addr(const struct usn_addr *a, struct usn_ipc_addr *r)
{
	memset(r, 0, sizeof(*r));
	r->family = AF_INET;
	r->port = a->port;
	r->v4 = a->ip.v4;
}

/* Whether process pid holds CAP_NET_BIND_SERVICE (bit 10), from
 * /proc/PID/status: the kernel's own rule for ports below
 * ip_unprivileged_port_start. */
static bool may_bind_low(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = false;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "CapEff:", 7) == 0) {
			unsigned long long v = strtoull(line + 7, NULL, 16);
			ok = (v >> 10) & 1;
			break;
		}
	fclose(f);
	return ok;
}

static int do_request(struct daemon *d, struct client *c, struct usn_ipc_msg *m, struct dsock *ds, pid_t pid,
		      int *ret_fd)
{
	struct usn_stack *s = d->s;
	switch (m->op) {
	case USN_IPC_HELLO:
		to_ipc_addr(&d->addr, &m->addr);
		m->arg[0] = d->prefix;
		m->arg[1] = (int32_t)d->gw;
		m->arg[2] = (int32_t)getpid();
		return 0;
	case USN_IPC_SOCKET: {
		if (m->arg[0] != SOCK_STREAM)
			return -EPROTONOSUPPORT;
		if (m->arg[1] != 0 && m->arg[1] != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		int family = m->arg[2] == AF_INET6 ? AF_INET6 : AF_INET;
		int sd = usn_socket(s, USN_SOCK_STREAM);
		if (sd < 0)
			return sd;
		int app;
		struct dsock *n = dsock_new(d, sd, family, &app);
		if (!n) {
			usn_close(s, sd);
			return -ENOMEM;
		}
		*ret_fd = app;
		return 0;
	}
	default:
		break;
	}
	if (!ds)
		return -ENOTSOCK;
	if (ds->flags & DS_DONE) {
		/* Closed both ways: what a kernel socket past its FINs says. */
		switch (m->op) {
		case USN_IPC_NAME:
			if (m->arg[0])
				return -ENOTCONN;
			to_ipc_addr(&ds->name, &m->addr);
			m->arg[0] = ds->family;
			return 0;
		case USN_IPC_GETOPT:
			if (m->arg[0] == SOL_SOCKET && m->arg[1] == SO_ERROR && m->arg[2] >= (int)sizeof(int)) {
				int e = -ds->err;
				ds->err = 0;
				memcpy(m->opt, &e, sizeof(e));
				m->optlen = sizeof(e);
				return 0;
			}
			return -ENOTCONN;
		case USN_IPC_STATUS:
			m->arg[0] = 0;
			m->arg[1] = ds->err;
			m->arg[2] = ds->err ? USN_IPC_ST_RESET : 0;
			return 0;
		case USN_IPC_CONNECT:
			return -EISCONN;
		default:
			return -EINVAL;
		}
	}
	switch (m->op) {
	case USN_IPC_BIND: {
		if (m->addr.family != AF_INET)
			return -EAFNOSUPPORT;
		if (m->addr.v4 != 0 && m->addr.v4 != d->addr.ip.v4)
			return -EADDRNOTAVAIL;
		if (m->addr.port != 0 && m->addr.port < d->unpriv_port && !may_bind_low(pid))
			return -EACCES;
		struct usn_addr a = usn_addr_v4(m->addr.v4, m->addr.port);
		int rc = usn_bind(s, ds->sd, &a);
		if (rc == 0)
			ds->flags |= DS_BOUND;
		return rc;
	}
	case USN_IPC_LISTEN: {
		int rc = usn_listen(s, ds->sd, m->arg[0] > 0 ? m->arg[0] : 128);
		if (rc < 0)
			return rc;
		if (!(ds->flags & DS_LISTENER)) {
			ds->flags |= DS_LISTENER;
			/* One byte per waiting connection: room for a backlog of
			 * thousands (each is an skb of its own). */
			int sz = TOKEN_SNDBUF;
			if (setsockopt(ds->dfd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
				setsockopt(ds->dfd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		}
		return 0;
	}
	case USN_IPC_CONNECT: {
		if (ds->flags & DS_LISTENER)
			return -EINVAL;
		if (ds->flags & DS_CONNECTED)
			return -EISCONN;
		if (ds->flags & DS_CONNECTING)
			return -EALREADY;
		if (m->addr.family != AF_INET)
			return -EAFNOSUPPORT;
		struct usn_addr a = usn_addr_v4(m->addr.v4, m->addr.port);
		int rc = usn_connect(s, ds->sd, &a);
		if (rc == 0) {
			ds->flags |= DS_CONNECTED;
			update_events(d, ds);
			return 0;
		}
		if (rc != -EINPROGRESS)
			return rc;
		ds->flags |= DS_CONNECTING;
		if (m->flags & USN_IPC_F_WAIT) {
			ds->waiter = c;
			ds->wait_seq = m->seq;
			return 1; /* answered when it completes */
		}
		return -EINPROGRESS;
	}
	case USN_IPC_ACCEPT: {
		if (!(ds->flags & DS_LISTENER))
			return -EINVAL;
		if (ds->qlen == 0)
			return -EAGAIN;
		int sd = ds->q[ds->qhead];
		ds->qhead = (ds->qhead + 1) % ds->qcap;
		ds->qlen--;
		int app;
		struct dsock *n = dsock_new(d, sd, ds->family, &app);
		if (!n) {
			usn_abort(s, sd);
			return -ENOMEM;
		}
		n->flags |= DS_CONNECTED | DS_BOUND;
		struct usn_addr peer;
		if (usn_getpeername(s, sd, &peer) == 0)
			to_ipc_addr(&peer, &m->addr);
		m->arg[0] = n->family;
		to_app(d, n);
		update_events(d, n);
		*ret_fd = app;
		return 0;
	}
	case USN_IPC_NAME: {
		struct usn_addr a;
		int rc = m->arg[0] ? usn_getpeername(s, ds->sd, &a) : usn_getsockname(s, ds->sd, &a);
		if (rc < 0)
			return rc;
		to_ipc_addr(&a, &m->addr);
		m->arg[0] = ds->family;
		return 0;
	}
	case USN_IPC_SETOPT: {
		int level = m->arg[0], name = m->arg[1];
		if (level == SOL_SOCKET && name == SO_LINGER) {
			struct linger lg;
			if (m->optlen < sizeof(lg))
				return -EINVAL;
			memcpy(&lg, m->opt, sizeof(lg));
			if (lg.l_onoff && lg.l_linger == 0)
				ds->flags |= DS_LINGER0;
			else
				ds->flags &= ~DS_LINGER0;
			return 0;
		}
		int rc = usn_setsockopt(s, ds->sd, level, name, m->opt, m->optlen);
		/* Options usnet has no use for are taken, as a kernel without
		 * the feature would ignore them (SO_REUSEADDR: usnet lets a
		 * port be bound again while TIME-WAIT holds it). */
		if (rc == -ENOPROTOOPT && level == SOL_SOCKET &&
		    (name == SO_REUSEADDR || name == SO_REUSEPORT || name == SO_OOBINLINE || name == SO_PRIORITY))
			return 0;
		return rc;
	}
	case USN_IPC_GETOPT: {
		size_t len = (size_t)m->arg[2];
		int level = m->arg[0], name = m->arg[1];
		if (level == SOL_SOCKET && name == SO_ERROR) {
			int e = ds->err ? -ds->err : -usn_sock_error(s, ds->sd);
			if (ds->flags & DS_CONNECTING)
				e = 0;
			ds->err = 0;
			if (len < sizeof(int))
				return -EINVAL;
			memcpy(m->opt, &e, sizeof(e));
			m->optlen = sizeof(e);
			return 0;
		}
		int rc = usn_getsockopt(s, ds->sd, level, name, m->opt, &len);
		if (rc == 0)
			m->optlen = (uint32_t)len;
		return rc;
	}
	case USN_IPC_STATUS: {
		m->arg[0] = 0;
		m->arg[1] = ds->err;
		uint32_t f = 0;
		if (ds->flags & DS_LISTENER)
			f |= USN_IPC_ST_LISTENING;
		if (ds->flags & DS_CONNECTING)
			f |= USN_IPC_ST_CONNECTING;
		if (ds->flags & DS_CONNECTED)
			f |= USN_IPC_ST_CONNECTED;
		if (ds->err)
			f |= USN_IPC_ST_RESET;
		m->arg[2] = (int32_t)f;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

static void client_free(struct daemon *d, struct client *c)
{
	struct client **pp = &d->clients;
	for (; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	/* Waits of its CONNECTs are no one's now. */
	for (uint32_t i = 0; i <= d->hmask; i++)
		for (struct dsock *x = d->hash[i]; x; x = x->hnext)
			if (x->waiter == c)
				x->waiter = NULL;
	close(c->fd);
	free(c);
}

static void bad_message(struct daemon *d, struct client *c, const char *why)
{
	d->bad_msgs++;
	time_t now = time(NULL);
	if (now != d->bad_log_at) { /* one line a second at most */
		d->bad_log_at = now;
		fprintf(stderr, "usnetd: process %d sent a bad message (%s; %llu so far)\n", (int)c->pid, why,
			(unsigned long long)d->bad_msgs);
	}
}

static void client_input(struct daemon *d, struct client *c)
{
	for (int k = 0; k < 64; k++) {
		struct usn_ipc_msg m;
		int fd, nfds;
		ssize_t n = usn_ipc_recv(c->fd, &m, &fd, &nfds, MSG_DONTWAIT);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			client_free(d, c);
			return;
		}
		const char *why;
		int rc = usn_ipc_check(&m, (size_t)n, nfds, true, &why);
		if (rc == -EPROTO) {
			bad_message(d, c, why);
			if (fd >= 0)
				close(fd);
			client_free(d, c); /* not speaking the protocol */
			return;
		}
		int out_fd = -1;
		if (rc == 0) {
			struct dsock *ds = fd >= 0 ? find_by_fd(d, fd) : NULL;
			/* The asking process: the one that connected
			 * (SO_PEERCRED); the shim connects again in every new
			 * process (it compares getpid()), so that is the caller. */
			rc = do_request(d, c, &m, ds, c->pid, &out_fd);
		} else {
			bad_message(d, c, why);
		}
		if (fd >= 0)
			close(fd);
		if (rc == 1)
			continue; /* answered later */
		m.optlen = m.optlen > USN_IPC_OPT_MAX ? 0 : m.optlen;
		answer(c, &m, rc, out_fd);
		if (out_fd >= 0)
			close(out_fd);
	}
}

static void accept_clients(struct daemon *d)
{
	for (;;) {
		int fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct ucred cr;
		socklen_t cl = sizeof(cr);
		struct client *c = calloc(1, sizeof(*c));
		if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0) {
			free(c);
			close(fd);
			continue;
		}
		c->kind = K_CLIENT;
		c->fd = fd;
		c->pid = cr.pid;
		c->uid = cr.uid;
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
	}
}

static int open_socket(struct daemon *d, const char *path)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(un.sun_path)) {
		fprintf(stderr, "usnetd: --socket: path too long: %s\n", path);
		return -1;
	}
	strcpy(un.sun_path, path);
	/* The directory of the default path is made (as a unit's
	 * RuntimeDirectory would). */
	char dir[sizeof(un.sun_path)];
	strcpy(dir, path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	d->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->lfd < 0) {
		fprintf(stderr, "usnetd: socket: %s\n", strerror(errno));
		return -1;
	}
	/* A path left by a daemon that died is taken over; one that a
	 * running daemon answers on is not. */
	int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&un, sizeof(un)) == 0) {
		fprintf(stderr, "usnetd: %s: another usnetd is running there\n", path);
		close(probe);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	if (bind(d->lfd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(d->lfd, 128) < 0) {
		fprintf(stderr, "usnetd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* Every local process may attach: what it may do is checked per
	 * request (ports below 1024 as the kernel checks them). */
	chmod(path, 0666);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		USN_APP_DEVICE_OPTIONS,
		{"socket", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct usn_config cfg;
	usn_config_init(&cfg);
	const char *path = getenv("USNET_SOCKET");
	if (!path || !*path)
		path = USN_IPC_DEFAULT_SOCKET;
	int c, idx, rc;
	while ((c = getopt_long(argc, argv, "hV", opts, &idx)) != -1) {
		switch (c) {
		case 'S':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("usnetd (usnet) %s\n", USNET_VERSION);
			return 0;
		case 0x100:
			if ((rc = usn_app_device_option("usnetd", &cfg, &opts[idx], optarg)) != 0)
				return rc;
			break;
		default:
			fprintf(stderr, "usnetd: try --help\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usnetd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if ((rc = usn_app_require_device("usnetd", &cfg)) != 0)
		return rc;
	if ((rc = usn_app_one_instance("usnetd", &cfg)) != 0)
		return rc;

	static struct daemon d;
	d.unpriv_port = 1024;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	if (f) {
		if (fscanf(f, "%d", &d.unpriv_port) != 1)
			d.unpriv_port = 1024;
		fclose(f);
	}
	d.scratch = malloc(SCRATCH);
	if (!d.scratch || hash_grow(&d) < 0) {
		fprintf(stderr, "usnetd: out of memory\n");
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char err[256];
	rc = usn_stack_create(&cfg, &d.s, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "usnetd: %s\n", err[0] ? err : strerror(-rc));
		return 1;
	}
	/* The address and route the shim decides by. */
	d.addr = usn_addr_v4(cfg.addr, 0);
	d.prefix = cfg.prefix_len;
	d.gw = cfg.gw;
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	if (d.ep < 0 || open_socket(&d, path) < 0) {
		usn_stack_destroy(d.s);
		return 1;
	}
	static int k_listen = K_UNIX_LISTEN, k_stack = K_STACK;
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = &k_listen};
	epoll_ctl(d.ep, EPOLL_CTL_ADD, d.lfd, &e);
	if (usn_stack_fd(d.s) >= 0) {
		e.data.ptr = &k_stack;
		epoll_ctl(d.ep, EPOLL_CTL_ADD, usn_stack_fd(d.s), &e);
	}
	if (usn_app_drop_privileges("usnetd", &cfg) != 0) {
		unlink(path);
		usn_stack_destroy(d.s);
		return 1;
	}
	char ab[32];
	fprintf(stderr, "usnetd: ready on %s %s/%d, socket %s\n", cfg.dev, usn_addr_format(&d.addr, ab, sizeof(ab)),
		d.prefix, path);

	while (!quit) {
		struct epoll_event ev[MAX_EVENTS];
		int tmo = usn_stack_timeout_ms(d.s);
		if (d.ndone > 0 && (tmo < 0 || tmo > 1000))
			tmo = 1000;
		int n = epoll_wait(d.ep, ev, MAX_EVENTS, tmo);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			int kind = *(int *)ev[i].data.ptr;
			if (kind == K_UNIX_LISTEN)
				accept_clients(&d);
			else if (kind == K_CLIENT)
				client_input(&d, ev[i].data.ptr);
			else if (kind == K_PAIR) {
				struct dsock *ds = ev[i].data.ptr;
				if (ds->kind != K_PAIR)
					continue; /* ended by an earlier event of this batch */
				uint32_t re = ev[i].events;
				if ((re & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) || (ds->flags & DS_LISTENER))
					from_app(&d, ds, re);
				if ((re & EPOLLOUT) && ds->kind == K_PAIR && !(ds->flags & DS_LISTENER))
					to_app(&d, ds);
			}
		}
		usn_stack_poll(d.s, 0);
		struct usn_event uev[MAX_EVENTS];
		int k;
		while ((k = usn_events(d.s, uev, MAX_EVENTS)) > 0)
			for (int i = 0; i < k; i++) {
				struct dsock *ds = uev[i].udata;
				if (ds && ds->kind == K_PAIR && ds->sd == uev[i].sd)
					net_event(&d, ds, uev[i].events);
			}
		check_done(&d);
		free_dead(&d);
	}
	fprintf(stderr, "usnetd: stopping\n");
	unlink(path);
	usn_stack_destroy(d.s);
	return 0;
}
