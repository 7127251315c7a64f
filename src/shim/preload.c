/* SPDX-License-Identifier: MIT */
/*
 * preload.c - libusnet-preload.so, the socket shim: an unmodified
 * dynamically linked program run with usnet-run (LD_PRELOAD) gets usnet's
 * TCP through usnetd for the sockets that belong on usnet, and the kernel's
 * for every other.
 *
 * A usnet socket is a descriptor of its own: one end of a socketpair whose
 * other end usnetd holds (src/ipc/ipc.h). So only the calls that name
 * addresses or ask about the connection are intercepted; read, write,
 * send, recv, their vector and message forms, poll, select, epoll, dup,
 * fcntl, fork, exec, close and SCM_RIGHTS act on the descriptor as they
 * do on any socket, and keep working where the daemon cannot be reached
 * (a chrooted child, another network namespace, seccomp). Whether a
 * descriptor is usnet's is read from the descriptor itself (the pair's
 * end is bound to the abstract name "usnet:PID:N"), so there is no table
 * to keep right across dup, fork, exec and descriptor passing.
 *
 * Which sockets go to usnet (decided at bind, connect or listen; a socket
 * is a kernel socket until then, and stays one for anything else):
 * - bind to usnet's address, or to the wildcard address with a port;
 * - connect to an address on usnet's link (its --addr prefix), or to any
 *   address but loopback when usnetd has a gateway (--gw);
 * - listen without a bind (the kernel would bind the wildcard address).
 * AF_INET and AF_INET6 stream sockets (IPv4 through v4-mapped addresses);
 * AF_UNIX, netlink, UDP (for now), loopback and the kernel's own
 * addresses stay the kernel's.
 *
 * The intercepted calls, all of them (INTERCEPTED below lists them):
 * bind, listen, connect, accept, accept4, getsockname, getpeername,
 * getsockopt, setsockopt.
 *
 * DEVIATION(UNIX semantics), for now: a usnet socket reads end of file
 * where the kernel's would fail with ECONNRESET once; a non-blocking
 * connect reports POLLOUT before the handshake completes (SO_ERROR is 0
 * until it fails, and bytes written meanwhile wait in the pair);
 * FIONREAD and SIOCOUTQ count the pair's bytes. Raw system calls (not
 * through libc) bypass the shim: connect(2) made by syscall() on a kernel
 * socket stays on the kernel.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"

#define SHIM_API __attribute__((visibility("default")))
#define CTL_FD_MIN 900 /* control connections sit above the descriptors programs use */

#define INTERCEPTED(X) X(bind) X(listen) X(connect) X(accept) X(accept4) X(getsockname) X(getpeername) \
	X(getsockopt) X(setsockopt)

/* The shim's state is file-scope, unlike the stack's: it lives inside
 * another program, whose calls (bind(), connect() ...) carry no context to
 * hang it on, and it is the state of that one process: the libc functions
 * it wraps (resolved once), its control connection to usnetd (one per
 * thread, so a blocking connect waits on its own) and what HELLO said
 * (behind a mutex). No stack runs here; the rule that a stack keeps no
 * global state (shared/DESIGN.md) is about usnetd's side. */
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_listen)(int, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int (*real_getpeername)(int, struct sockaddr *, socklen_t *);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);

static void resolve(void)
{
#define RESOLVE(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name);
	INTERCEPTED(RESOLVE)
#undef RESOLVE
}
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
#define REAL(name) (pthread_once(&resolve_once, resolve), real_##name)

/* ---- the daemon ---- */

/* One control connection a thread, remade in a new process (fork, or a
 * raw clone() that ran no fork handler: noticed by the pid). */
struct chan {
	int fd;
	pid_t pid;
	dev_t dev;
	ino_t ino;
	uint32_t seq;
};
static __thread struct chan ch = {.fd = -1};

/* What HELLO said: usnet's address and routes (0: not known yet). */
static struct {
	pthread_mutex_t lock;
	bool known;
	uint32_t addr, mask, gw;
} net = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *sock_path(void)
{
	const char *p = getenv("USNET_SOCKET");
	return p && *p ? p : USN_IPC_DEFAULT_SOCKET;
}

static bool chan_ok(void)
{
	if (ch.fd < 0 || ch.pid != getpid())
		return false;
	/* A program may have closed it and reused the number. */
	struct stat st;
	return fstat(ch.fd, &st) == 0 && st.st_ino == ch.ino && st.st_dev == ch.dev;
}

static int chan_open(void)
{
	if (chan_ok())
		return 0;
	if (ch.fd >= 0 && ch.pid != getpid()) {
		/* The parent's: ours is a copy, closed only if still it. */
		struct stat st;
		if (fstat(ch.fd, &st) == 0 && st.st_ino == ch.ino && st.st_dev == ch.dev)
			close(ch.fd);
	}
	ch.fd = -1;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", sock_path());
	if (REAL(connect)(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		close(fd);
		return -ENETDOWN;
	}
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, CTL_FD_MIN);
	if (hi >= 0) {
		close(fd);
		fd = hi;
	}
	struct stat st;
	fstat(fd, &st);
	ch.fd = fd;
	ch.pid = getpid();
	ch.dev = st.st_dev;
	ch.ino = st.st_ino;
	return 0;
}

/* Sends request m (with socket descriptor fd, or -1) and waits for its
 * answer, into m. Returns the answer's rc (0 or -errno), and the
 * descriptor it carried in *ret_fd. A signal interrupts only a wait that
 * may be long (CONNECT with USN_IPC_F_WAIT): -EINTR then. */
static int call(struct usn_ipc_msg *m, int fd, int *ret_fd)
{
	if (ret_fd)
		*ret_fd = -1;
	int rc = chan_open();
	if (rc < 0)
		return rc;
	m->magic = USN_IPC_MAGIC;
	m->seq = ++ch.seq;
	uint32_t seq = m->seq;
	uint16_t op = m->op;
	rc = usn_ipc_send(ch.fd, m, fd);
	if (rc < 0) {
		close(ch.fd);
		ch.fd = -1;
		return -ENETDOWN;
	}
	for (;;) {
		int afd, nfds;
		struct usn_ipc_msg a;
		ssize_t n;
		do {
			n = usn_ipc_recv(ch.fd, &a, &afd, &nfds, 0);
		} while (n == -EINTR && !(op == USN_IPC_CONNECT && (m->flags & USN_IPC_F_WAIT)));
		if (n == -EINTR)
			return -EINTR; /* the answer, later, is skipped by its seq */
		if (n <= 0 || usn_ipc_check(&a, (size_t)n, nfds, false, NULL) < 0) {
			if (afd >= 0)
				close(afd);
			close(ch.fd);
			ch.fd = -1;
			return -ENETDOWN; /* the daemon is gone */
		}
		if (a.seq != seq) {
			if (afd >= 0)
				close(afd); /* an interrupted call's answer */
			continue;
		}
		*m = a;
		if (ret_fd)
			*ret_fd = afd;
		else if (afd >= 0)
			close(afd);
		return a.rc;
	}
}

/* Learns usnet's address once (again after a failure: a daemon started
 * later is found). */
static bool net_known(void)
{
	pthread_mutex_lock(&net.lock);
	if (!net.known) {
		struct usn_ipc_msg m;
		memset(&m, 0, sizeof(m));
		m.op = USN_IPC_HELLO;
		if (call(&m, -1, NULL) == 0) {
			net.addr = m.addr.v4;
			int p = m.arg[0];
			net.mask = p <= 0 ? 0 : p >= 32 ? 0xffffffffu : ~((1u << (32 - p)) - 1);
			net.gw = (uint32_t)m.arg[1];
			net.known = true;
		}
	}
	bool k = net.known;
	pthread_mutex_unlock(&net.lock);
	return k;
}

/* ---- descriptors and addresses ---- */

static bool is_usnet(int fd)
{
	struct sockaddr_un un;
	socklen_t len = sizeof(un);
	if (REAL(getsockname)(fd, (struct sockaddr *)&un, &len) < 0 || un.sun_family != AF_UNIX)
		return false;
	static const char tag[] = "usnet:";
	return len > offsetof(struct sockaddr_un, sun_path) + sizeof(tag) && un.sun_path[0] == 0 &&
	       memcmp(un.sun_path + 1, tag, sizeof(tag) - 1) == 0;
}

/* An IPv4 address (host order) and port from addr; false for anything
 * else (an IPv6 address that is not v4-mapped). */
static bool v4_of(const struct sockaddr *addr, socklen_t len, uint32_t *ip, uint16_t *port)
{
	if (!addr)
		return false;
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
		*ip = ntohl(in->sin_addr.s_addr);
		*port = ntohs(in->sin_port);
		return true;
	}
	if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
		const uint8_t *b = in6->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		static const uint8_t any[16];
		if (memcmp(b, any, 16) == 0) {
			*ip = 0; /* "::": the wildcard, IPv4 too unless IPV6_V6ONLY */
		} else if (memcmp(b, mapped, 12) == 0) {
			*ip = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
		} else {
			return false;
		}
		*port = ntohs(in6->sin6_port);
		return true;
	}
	return false;
}

/* Writes a usnet address as the socket's family would give it. */
static void put_addr(const struct usn_ipc_addr *a, int family, struct sockaddr *addr, socklen_t *len)
{
	if (!addr || !len)
		return;
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	memset(&u, 0, sizeof(u));
	socklen_t n;
	if (family == AF_INET6) {
		u.in6.sin6_family = AF_INET6;
		u.in6.sin6_port = htons(a->port);
		if (a->v4) {
			u.in6.sin6_addr.s6_addr[10] = 0xff;
			u.in6.sin6_addr.s6_addr[11] = 0xff;
			uint32_t be = htonl(a->v4);
			memcpy(&u.in6.sin6_addr.s6_addr[12], &be, 4);
		}
		n = sizeof(u.in6);
	} else {
		u.in.sin_family = AF_INET;
		u.in.sin_port = htons(a->port);
		u.in.sin_addr.s_addr = htonl(a->v4);
		n = sizeof(u.in);
	}
	memcpy(addr, &u, *len < n ? *len : n);
	*len = n;
}

/* A kernel stream socket of AF_INET or AF_INET6, not yet bound to a
 * kernel address: its family, else 0. */
static int candidate(int fd)
{
	int type = 0, dom = 0;
	socklen_t l = sizeof(int);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_STREAM)
		return 0;
	l = sizeof(int);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) < 0 || (dom != AF_INET && dom != AF_INET6))
		return 0;
	if (dom == AF_INET6) {
		int v6only = 0;
		l = sizeof(int);
		REAL(getsockopt)(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l);
		if (v6only)
			return 0; /* no IPv4 on it: usnet has nothing to give */
	}
	return dom;
}

/* Replaces kernel socket fd (of family) with a usnet socket at the same
 * number, keeping its flags and the options a program sets before bind
 * or connect. */
static int take_over(int fd, int family)
{
	int fl = fcntl(fd, F_GETFL);
	int fdfl = fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0)
		return -errno;
	int nodelay = 0, keep = 0;
	struct timeval rto = {0}, sto = {0};
	struct linger lg = {0};
	socklen_t l = sizeof(int);
	REAL(getsockopt)(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &l);
	l = sizeof(int);
	REAL(getsockopt)(fd, SOL_SOCKET, SO_KEEPALIVE, &keep, &l);
	l = sizeof(rto);
	REAL(getsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &rto, &l);
	l = sizeof(sto);
	REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &sto, &l);
	l = sizeof(lg);
	REAL(getsockopt)(fd, SOL_SOCKET, SO_LINGER, &lg, &l);

	struct usn_ipc_msg m;
	memset(&m, 0, sizeof(m));
	m.op = USN_IPC_SOCKET;
	m.arg[0] = SOCK_STREAM;
	m.arg[1] = IPPROTO_TCP;
	m.arg[2] = family;
	int nfd;
	int rc = call(&m, -1, &nfd);
	if (rc < 0)
		return rc;
	if (nfd < 0)
		return -EPROTO;
	if (dup3(nfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		rc = -errno;
		close(nfd);
		return rc;
	}
	close(nfd);
	if (fl & O_NONBLOCK)
		fcntl(fd, F_SETFL, fl);
	/* Timeouts belong to the descriptor (the pair's end); the rest to
	 * the connection. */
	if (rto.tv_sec || rto.tv_usec)
		REAL(setsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &rto, sizeof(rto));
	if (sto.tv_sec || sto.tv_usec)
		REAL(setsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &sto, sizeof(sto));
	if (nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay));
	if (keep)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &keep, sizeof(keep));
	if (lg.l_onoff)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return 0;
}

static int fail(int rc)
{
	errno = -rc;
	return -1;
}

static int sock_call(int fd, uint16_t op, struct usn_ipc_msg *m, int *ret_fd)
{
	m->magic = USN_IPC_MAGIC;
	m->op = op;
	return call(m, fd, ret_fd);
}

/* ---- the intercepted calls ---- */

SHIM_API int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	uint32_t ip;
	uint16_t port;
	bool usnet = is_usnet(fd);
	if (!usnet) {
		int fam = candidate(fd);
		if (!fam || !v4_of(addr, len, &ip, &port) || !net_known() || !(ip == net.addr || (ip == 0 && port != 0)))
			return REAL(bind)(fd, addr, len);
		int rc = take_over(fd, fam);
		if (rc < 0)
			return fail(rc);
	} else if (!v4_of(addr, len, &ip, &port)) {
		return fail(addr && addr->sa_family == AF_INET6 ? -EADDRNOTAVAIL : -EINVAL);
	}
	struct usn_ipc_msg m;
	memset(&m, 0, sizeof(m));
	m.addr.family = AF_INET;
	m.addr.v4 = ip;
	m.addr.port = port;
	int rc = sock_call(fd, USN_IPC_BIND, &m, NULL);
	return rc < 0 ? fail(rc) : 0;
}

SHIM_API int listen(int fd, int backlog)
{
	if (!is_usnet(fd)) {
		/* Never bound, or bound to the wildcard with port 0: the
		 * kernel would listen on the wildcard address. */
		int fam = candidate(fd);
		struct sockaddr_storage ss;
		socklen_t l = sizeof(ss);
		uint32_t ip = 1;
		uint16_t port = 1;
		if (!fam || REAL(getsockname)(fd, (struct sockaddr *)&ss, &l) < 0 ||
		    !v4_of((struct sockaddr *)&ss, l, &ip, &port) || ip != 0 || port != 0 || !net_known())
			return REAL(listen)(fd, backlog);
		int rc = take_over(fd, fam);
		if (rc < 0)
			return fail(rc);
	}
	struct usn_ipc_msg m;
	memset(&m, 0, sizeof(m));
	m.arg[0] = backlog;
	int rc = sock_call(fd, USN_IPC_LISTEN, &m, NULL);
	return rc < 0 ? fail(rc) : 0;
}

static bool routed_by_usnet(uint32_t ip)
{
	if ((ip >> 24) == 127 || ip == 0)
		return false;
	return (ip & net.mask) == (net.addr & net.mask) || net.gw != 0;
}

SHIM_API int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	uint32_t ip;
	uint16_t port;
	if (!is_usnet(fd)) {
		int fam = candidate(fd);
		if (!fam || !v4_of(addr, len, &ip, &port) || !net_known() || !routed_by_usnet(ip))
			return REAL(connect)(fd, addr, len);
		/* A socket bound before (a fixed source port, as FTP's
		 * active mode binds) keeps its port on usnet; one bound to a
		 * kernel address stays the kernel's. */
		struct sockaddr_storage ss;
		socklen_t l = sizeof(ss);
		uint32_t lip = 0;
		uint16_t lport = 0;
		if (REAL(getsockname)(fd, (struct sockaddr *)&ss, &l) == 0 && v4_of((struct sockaddr *)&ss, l, &lip, &lport) &&
		    lip != 0 && lip != net.addr)
			return REAL(connect)(fd, addr, len);
		int rc = take_over(fd, fam);
		if (rc < 0)
			return fail(rc);
		if (lport != 0) {
			struct usn_ipc_msg b;
			memset(&b, 0, sizeof(b));
			b.addr.family = AF_INET;
			b.addr.port = lport;
			rc = sock_call(fd, USN_IPC_BIND, &b, NULL);
			if (rc < 0)
				return fail(rc);
		}
	} else if (!v4_of(addr, len, &ip, &port)) {
		return fail(addr && addr->sa_family == AF_INET6 ? -ENETUNREACH : -EAFNOSUPPORT);
	}
	struct usn_ipc_msg m;
	memset(&m, 0, sizeof(m));
	m.addr.family = AF_INET;
	m.addr.v4 = ip;
	m.addr.port = port;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		m.flags = USN_IPC_F_WAIT;
	int rc = sock_call(fd, USN_IPC_CONNECT, &m, NULL);
	return rc < 0 ? fail(rc) : 0;
}

static int do_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags, bool four)
{
	if (!is_usnet(fd))
		return four ? REAL(accept4)(fd, addr, len, flags) : REAL(accept)(fd, addr, len);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return fail(-EINVAL);
	for (;;) {
		/* A byte a waiting connection: sleeping here is the kernel's
		 * blocking accept (O_NONBLOCK, SO_RCVTIMEO, signals as on any
		 * read). */
		char tok;
		ssize_t n = recv(fd, &tok, 1, 0);
		if (n < 0)
			return -1; /* errno: EAGAIN, EINTR, ... */
		if (n == 0)
			return fail(-EINVAL); /* not listening (or the daemon is gone) */
		struct usn_ipc_msg m;
		memset(&m, 0, sizeof(m));
		int nfd;
		int rc = sock_call(fd, USN_IPC_ACCEPT, &m, &nfd);
		if (rc == -EAGAIN)
			continue; /* the byte's connection went: wait for the next */
		if (rc < 0)
			return fail(rc);
		if (nfd < 0)
			return fail(-EPROTO);
		if (!(flags & SOCK_CLOEXEC))
			fcntl(nfd, F_SETFD, 0);
		if (flags & SOCK_NONBLOCK)
			fcntl(nfd, F_SETFL, O_NONBLOCK);
		put_addr(&m.addr, m.arg[0], addr, len);
		return nfd;
	}
}

SHIM_API int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return do_accept(fd, addr, len, 0, false);
}

SHIM_API int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return do_accept(fd, addr, len, flags, true);
}

static int name(int fd, struct sockaddr *addr, socklen_t *len, int peer)
{
	struct usn_ipc_msg m;
	memset(&m, 0, sizeof(m));
	m.arg[0] = peer;
	int rc = sock_call(fd, USN_IPC_NAME, &m, NULL);
	if (rc < 0)
		return fail(rc);
	put_addr(&m.addr, m.arg[0], addr, len);
	return 0;
}

SHIM_API int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (!is_usnet(fd))
		return REAL(getsockname)(fd, addr, len);
	return name(fd, addr, len, 0);
}

SHIM_API int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (!is_usnet(fd))
		return REAL(getpeername)(fd, addr, len);
	return name(fd, addr, len, 1);
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len || *len < sizeof(int))
		return fail(-EINVAL);
	memcpy(val, &v, sizeof(int));
	*len = sizeof(int);
	return 0;
}

SHIM_API int getsockopt(int fd, int level, int optname, void *val, socklen_t *len)
{
	if (!is_usnet(fd))
		return REAL(getsockopt)(fd, level, optname, val, len);
	if (level == SOL_SOCKET) {
		struct usn_ipc_msg m;
		switch (optname) {
		case SO_RCVTIMEO:
		case SO_SNDTIMEO:
			return REAL(getsockopt)(fd, level, optname, val, len);
		case SO_TYPE:
			return put_int(val, len, SOCK_STREAM);
		case SO_PROTOCOL:
			return put_int(val, len, IPPROTO_TCP);
		case SO_DOMAIN: {
			memset(&m, 0, sizeof(m));
			int rc = sock_call(fd, USN_IPC_NAME, &m, NULL);
			return rc < 0 ? fail(rc) : put_int(val, len, m.arg[0]);
		}
		case SO_ACCEPTCONN: {
			memset(&m, 0, sizeof(m));
			int rc = sock_call(fd, USN_IPC_STATUS, &m, NULL);
			return rc < 0 ? fail(rc) : put_int(val, len, (m.arg[2] & USN_IPC_ST_LISTENING) != 0);
		}
		default:
			break;
		}
	}
	if (!len || *len > USN_IPC_OPT_MAX)
		return fail(-EINVAL);
	struct usn_ipc_msg m;
	memset(&m, 0, sizeof(m));
	m.arg[0] = level;
	m.arg[1] = optname;
	m.arg[2] = (int32_t)*len;
	int rc = sock_call(fd, USN_IPC_GETOPT, &m, NULL);
	if (rc < 0)
		return fail(rc);
	socklen_t n = m.optlen < *len ? m.optlen : *len;
	if (val)
		memcpy(val, m.opt, n);
	*len = n;
	return 0;
}

SHIM_API int setsockopt(int fd, int level, int optname, const void *val, socklen_t len)
{
	if (!is_usnet(fd))
		return REAL(setsockopt)(fd, level, optname, val, len);
	if (level == SOL_SOCKET && (optname == SO_RCVTIMEO || optname == SO_SNDTIMEO))
		return REAL(setsockopt)(fd, level, optname, val, len);
	if (len > USN_IPC_OPT_MAX || (len > 0 && !val))
		return fail(-EINVAL);
	struct usn_ipc_msg m;
	memset(&m, 0, sizeof(m));
	m.arg[0] = level;
	m.arg[1] = optname;
	m.optlen = len;
	if (len)
		memcpy(m.opt, val, len);
	int rc = sock_call(fd, USN_IPC_SETOPT, &m, NULL);
	return rc < 0 ? fail(rc) : 0;
}
