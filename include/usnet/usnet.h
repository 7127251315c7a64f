/* SPDX-License-Identifier: MIT */
/*
 * usnet.h - the native API of usnet, a user-space TCP/IP stack.
 *
 * A struct usn_stack is one instance of the stack: one device, one address,
 * driven by one thread that calls usn_stack_poll() in its loop. Sockets are
 * small integers ("socket descriptors") private to a stack; they are not
 * kernel file descriptors. Every call returns 0 or a positive value on
 * success and a negative errno value on failure, as the kernel's system calls
 * do (-EAGAIN, -EADDRINUSE, ...). Nothing here is thread-safe: one stack, one
 * thread.
 *
 * Readiness: usn_stack_poll() processes traffic and timers and returns the
 * number of sockets whose readiness changed; usn_events() hands them out.
 * Readiness is edge-like: a socket is reported when it becomes readable or
 * writable; the application reads (or writes) until -EAGAIN.
 */
#ifndef USNET_USNET_H
#define USNET_USNET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define USNET_API __attribute__((visibility("default")))

struct usn_stack;

/* An address with its family, so IPv6 fits later without a new signature.
 * Fields are host order. */
struct usn_addr {
	sa_family_t family; /* AF_INET */
	uint16_t port;
	union {
		uint32_t v4;
		uint8_t v6[16];
	} ip;
};

/* "A.B.C.D" or "A.B.C.D:PORT" into *ret (port 0 when absent); -EINVAL. */
USNET_API int usn_addr_parse(const char *s, struct usn_addr *ret);
/* "A.B.C.D:PORT" (or without ":PORT" when port is 0) into buf. */
USNET_API const char *usn_addr_format(const struct usn_addr *a, char *buf, size_t len);
static inline struct usn_addr usn_addr_v4(uint32_t ip, uint16_t port)
{
	struct usn_addr a = {0};
	a.family = AF_INET;
	a.port = port;
	a.ip.v4 = ip;
	return a;
}

/* ---- the stack ---- */

struct usn_config {
	char dev[128];        /* "tap:NAME"; empty: no device (attached later) */
	uint32_t addr;        /* our IPv4 address, host order */
	uint8_t prefix_len;   /* on-link prefix */
	uint32_t gw;          /* default gateway, 0 for none */
	char pcap[256];       /* write a pcap of all traffic here; "" for none */
	uint64_t seed;        /* random seed; 0 draws one from the OS */
	uint32_t nbufs;       /* packet buffers; 0 for the default (16384) */
	int log_level;        /* 0 err, 1 warn (default), 2 info, 3 debug */
	int virtual_time;     /* simulator: time moves only by usn_stack_set_time */
	char user[64];        /* programs: the user to run as once the device is open ("" none) */
	/* Several instances on one interface (--cores N): this stack is
	 * instance `queue` of `queues` (device queue or fanout member); all
	 * share one MAC (mac, when mac_set). */
	uint16_t queue, queues;
	uint8_t mac[6];
	int mac_set;
	/* Mode (b): addr is the kernel's own address on the interface, shared;
	 * usnet owns the ports it binds and shared_lo..shared_hi for its own
	 * connections (reserved from the kernel). 0: an address of its own. */
	uint16_t shared_lo, shared_hi;
};

USNET_API void usn_config_init(struct usn_config *cfg);
/* Sets one option by name, as the command line (--NAME VALUE) or a config
 * file would: "dev", "addr" (A.B.C.D/LEN), "gw", "pcap", "seed", "nbufs",
 * "log-level", "user" (an existing user name; the library only records it:
 * the program drops its privileges), "cores", "shared-addr" (LO-HI). Returns 0, -ENOENT for an unknown
 * name, or -EINVAL with a message in err. */
USNET_API int usn_config_set(struct usn_config *cfg, const char *name, const char *value, char *err,
			     size_t errlen);
/* The stack's MAC address (for the other instances of --cores). */
USNET_API void usn_stack_mac(const struct usn_stack *s, uint8_t ret_mac[6]);
/* The usage text for the common options, for --help. */
USNET_API const char *usn_config_usage(void);

/* Creates a stack and opens its device. Returns 0 or -errno with a message
 * in err (e.g. why the TAP could not be opened). */
USNET_API int usn_stack_create(const struct usn_config *cfg, struct usn_stack **ret, char *err,
			       size_t errlen);
USNET_API void usn_stack_destroy(struct usn_stack *s);

/* Receives and processes frames, runs due timers and sends what is queued.
 * When there is nothing to do it sleeps on the device for at most timeout_ms
 * (-1: until traffic or the next timer), so an idle stack uses no CPU.
 * Returns the number of readiness events waiting for usn_events(), or
 * -EINTR when a signal interrupted the sleep. */
USNET_API int usn_stack_poll(struct usn_stack *s, int timeout_ms);
/* The descriptor the stack sleeps on (-1 when none), and the time in ms until
 * its next timer (-1 when none), for applications with their own loop.
 * The timeout is 0 while output waits for the next usn_stack_poll(): the
 * ACKs of segments that woke the user go after the user's turn, with
 * what it sends or closes then. */
USNET_API int usn_stack_fd(const struct usn_stack *s);
USNET_API int usn_stack_timeout_ms(const struct usn_stack *s);

/* Counters, like netstat -s. usn_stack_counter() looks one up by name
 * ("IP_DROP_BAD_CSUM"); -ENOENT when there is no such counter. */
USNET_API int usn_stack_counter(const struct usn_stack *s, const char *name, uint64_t *ret);
/* Prints all counters grouped by protocol (only non-zero ones unless all). */
USNET_API void usn_stack_print_counters(const struct usn_stack *s, void *file, int all);

/* ---- readiness ---- */

#define USN_EV_IN 0x001u
#define USN_EV_OUT 0x004u
#define USN_EV_ERR 0x008u
#define USN_EV_HUP 0x010u

struct usn_event {
	int sd;
	uint32_t events; /* USN_EV_* as of now */
	void *udata;
};

/* Up to max sockets whose readiness changed since they were last reported;
 * returns how many were stored. */
USNET_API int usn_events(struct usn_stack *s, struct usn_event *ret_ev, int max);
/* Current readiness of one socket (USN_EV_*), or -EBADF. */
USNET_API int usn_socket_poll(struct usn_stack *s, int sd);
USNET_API int usn_socket_set_udata(struct usn_stack *s, int sd, void *udata);

/* ---- sockets ---- */

#define USN_SOCK_STREAM 1 /* TCP */
#define USN_SOCK_DGRAM 2  /* UDP */

#define USN_MSG_PEEK 0x02
#define USN_MSG_TRUNC 0x20    /* recv: return the datagram's real length */
#define USN_MSG_MORE 0x8000   /* send: more data follows (cork, as Linux's MSG_MORE) */

#define USN_SHUT_RD 0
#define USN_SHUT_WR 1
#define USN_SHUT_RDWR 2

/* A new socket of `type`; returns its descriptor or -errno
 * (-EPROTONOSUPPORT for a type this build does not have, -EMFILE). */
USNET_API int usn_socket(struct usn_stack *s, int type);
/* Binds to a local address (ours or 0.0.0.0) and port (0: an ephemeral one).
 * -EADDRNOTAVAIL, -EADDRINUSE, -EINVAL (already bound), -EAFNOSUPPORT. */
USNET_API int usn_bind(struct usn_stack *s, int sd, const struct usn_addr *local);
/* UDP: sets the default destination and filters received datagrams to it. */
USNET_API int usn_connect(struct usn_stack *s, int sd, const struct usn_addr *remote);
/* Sends one datagram (binding an ephemeral port first if needed); returns
 * len. -EMSGSIZE over 65507 bytes, -EDESTADDRREQ, -ENETUNREACH, -ENOBUFS. */
USNET_API ssize_t usn_sendto(struct usn_stack *s, int sd, const void *buf, size_t len, int flags,
			     const struct usn_addr *to);
/* Receives one datagram; returns its length (truncated to len, or its full
 * length with USN_MSG_TRUNC) or -EAGAIN when none is queued. */
USNET_API ssize_t usn_recvfrom(struct usn_stack *s, int sd, void *buf, size_t len, int flags,
			       struct usn_addr *ret_from);
USNET_API int usn_getsockname(struct usn_stack *s, int sd, struct usn_addr *ret);
USNET_API int usn_getpeername(struct usn_stack *s, int sd, struct usn_addr *ret);
/* Closes the descriptor. A TCP connection is closed gracefully (FIN) and
 * finishes in the background; with unread received data it is reset, as
 * the kernel does. */
USNET_API int usn_close(struct usn_stack *s, int sd);

/* ---- TCP ---- */

/* Passive open. -EINVAL if connected, -EADDRINUSE if the port is taken. */
USNET_API int usn_listen(struct usn_stack *s, int sd, int backlog);
/* A new connection's descriptor, or -EAGAIN when none is waiting. */
USNET_API int usn_accept(struct usn_stack *s, int sd, struct usn_addr *ret_peer);
/* usn_connect() on a stream socket starts the handshake and returns
 * -EINPROGRESS; the socket becomes writable (USN_EV_OUT) when it completes,
 * or reports USN_EV_ERR with the error in usn_sock_error() (-ECONNREFUSED,
 * -ETIMEDOUT). */
/* Queues data; returns the bytes taken (possibly fewer than len), -EAGAIN
 * when the send buffer is full, -EPIPE after shutdown or close by us,
 * -ECONNRESET, -ENOTCONN. */
USNET_API ssize_t usn_send(struct usn_stack *s, int sd, const void *buf, size_t len, int flags);
/* Returns the bytes read, 0 at end of stream, -EAGAIN when none, or the
 * connection's error (-ECONNRESET, -ETIMEDOUT). */
USNET_API ssize_t usn_recv(struct usn_stack *s, int sd, void *buf, size_t len, int flags);
/* Zero-copy receive: fills at most two iovecs pointing into the socket's
 * receive buffer with up to max bytes and returns their total (0 at end of
 * stream, -EAGAIN when none, or the connection's error); the memory stays
 * valid until usn_recv_done(), which releases n of those bytes. */
USNET_API ssize_t usn_recv_zc(struct usn_stack *s, int sd, struct iovec ret_iov[2], int *ret_iovcnt, size_t max);
USNET_API int usn_recv_done(struct usn_stack *s, int sd, size_t n);
/* Sends count bytes of the regular file fd starting at *offset (advanced
 * by what was queued), as sendfile(2) does, without copying the file data:
 * the range is mapped and segments are built from the mapping. Returns the
 * bytes queued, -EAGAIN when the send buffer is full, 0 at end of file. */
USNET_API ssize_t usn_sendfile(struct usn_stack *s, int sd, int fd, off_t *offset, size_t count);

/* Memory the application lends to the stack, counted: usn_send_ref() adds
 * one to refs for the data it queues and the stack takes it off when that
 * data is acknowledged (or the connection ends); release() is called when
 * refs reaches 0, so an object that embeds a usn_memref as its own
 * reference count (a file cache entry with its mapping) lives exactly as
 * long as someone, the application or the stack, uses it. Single-threaded
 * like the rest of the API. */
struct usn_csum_cache;
struct usn_memref {
	uint32_t refs;
	void (*release)(struct usn_memref *ref);
	/* Optional (NULL: none), set by usn_memref_sums(): the Internet
	 * checksum sums of the lent memory, per 64-byte block. */
	struct usn_csum_cache *sums;
};
/* For devices without checksum offload: keeps the ones'-complement sums of
 * the memory [base, base + len) that ref lends, so that every segment sent
 * from it, first transmission or retransmission, is checksummed with one
 * addition per 64 bytes instead of a pass over its payload. Blocks are
 * summed on first use, a 4 KB chunk at a time, so a device with checksum
 * offload never causes a read. The memory must not change while ref has
 * its sums (sums of changed bytes would make every segment's checksum
 * wrong). Costs 2 bytes per 64. Returns 0 or -ENOMEM; the release callback
 * (or the owner, once refs is 0) frees them with usn_memref_sums_free(). */
USNET_API int usn_memref_sums(struct usn_memref *ref, const void *base, size_t len);
USNET_API void usn_memref_sums_free(struct usn_memref *ref);
/* Queues up to len bytes at base, held by ref, without copying them: the
 * segments are built from that memory, which must not change until it is
 * released. Returns the bytes queued (fewer when the send buffer is nearly
 * full), -EAGAIN when it is full, or the errors of usn_send(). */
USNET_API ssize_t usn_send_ref(struct usn_stack *s, int sd, const void *base, size_t len, struct usn_memref *ref);
USNET_API int usn_shutdown(struct usn_stack *s, int sd, int how);
/* Resets the connection (RST) and frees the descriptor. */
USNET_API int usn_abort(struct usn_stack *s, int sd);
/* The pending error of a socket as a negative errno (0 if none), cleared
 * by reading it, as getsockopt(SO_ERROR). */
USNET_API int usn_sock_error(struct usn_stack *s, int sd);

/* Options, by name as the kernel's: level SOL_SOCKET (SO_RCVBUF, SO_SNDBUF,
 * SO_KEEPALIVE, SO_ERROR) or IPPROTO_TCP (TCP_NODELAY, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT, TCP_CONGESTION, TCP_MAXSEG). -ENOPROTOOPT for
 * others. */
USNET_API int usn_setsockopt(struct usn_stack *s, int sd, int level, int name, const void *val, size_t len);
USNET_API int usn_getsockopt(struct usn_stack *s, int sd, int level, int name, void *val, size_t *len);

/* A connection's TCP state, like Linux's tcp_info. */
struct usn_tcp_info {
	uint8_t state;          /* RFC 9293 state, see usn_tcp_state_str() */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t options;        /* 1 timestamps, 2 SACK, 4 window scaling */
	uint32_t mss;
	uint32_t cwnd;          /* bytes */
	uint32_t ssthresh;      /* bytes */
	uint64_t srtt_us, rttvar_us, rto_us, min_rtt_us;
	uint32_t snd_wnd, rcv_wnd;
	uint32_t unacked;       /* bytes sent and not acknowledged */
	uint32_t sacked, lost, retrans; /* bytes, from the scoreboard */
	uint32_t total_retrans; /* segments */
	uint64_t bytes_acked, bytes_received;
	uint64_t segs_in, segs_out;
	uint32_t send_queue, recv_queue; /* bytes waiting */
	char cc[16];
};
USNET_API int usn_tcp_info(struct usn_stack *s, int sd, struct usn_tcp_info *ret);
USNET_API const char *usn_tcp_state_str(int state);

#ifdef __cplusplus
}
#endif

#endif
