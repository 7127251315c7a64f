/* SPDX-License-Identifier: MIT */
/*
 * ipc.h - the command protocol between usnetd and the processes it serves
 * (the shim, libusnet-preload.so), over a UNIX SOCK_SEQPACKET connection:
 * one fixed-size message a datagram, descriptors passed with SCM_RIGHTS.
 *
 * How a usnet socket looks to the application (shared/DESIGN.md, "The
 * daemon and the shim"): its descriptor is one end of an AF_UNIX
 * SOCK_STREAM socketpair whose other end the daemon holds. The bytes of a
 * TCP connection flow through the pair, so the descriptor alone is the
 * socket: read, write, poll, select and epoll (level, edge, one-shot,
 * EPOLLRDHUP), dup, fork, exec, close, SCM_RIGHTS, O_NONBLOCK, EINTR and
 * SA_RESTART, SO_RCVTIMEO and SO_SNDTIMEO all keep the kernel's meaning,
 * also in a process that cannot reach the daemon (chrooted, another
 * network namespace, seccomp allowing read, write and poll). A message
 * that is about a socket carries that descriptor with SCM_RIGHTS: the
 * daemon finds the socket by the inode of the pair's end, so holding the
 * descriptor is the proof that a process may use it, and a process can
 * name no socket it does not hold.
 *
 * What the daemon does with the pair:
 * - bytes the application writes are sent on the connection; end of file
 *   on the pair (the application's shutdown(SHUT_WR)) is the FIN;
 * - bytes received are written into the pair as fast as the application
 *   reads them (the TCP window closes while it does not); the peer's FIN
 *   is shutdown(SHUT_WR) of the daemon's end, so the application reads
 *   end of file and sees EPOLLRDHUP;
 * - the last close of the application's end (every holder, or a process
 *   killed) is the close of the connection: FIN, or RST when the
 *   application left received bytes unread (the kernel tells the daemon's
 *   end ECONNRESET then), as the kernel does;
 * - a listening socket's pair carries one byte per connection waiting to
 *   be accepted: the shim takes a byte, then asks for the connection
 *   (USN_IPC_ACCEPT), so a blocking accept() sleeps in read() and poll()
 *   on a listener works unchanged.
 *
 * Every field of a message from a process is checked before use
 * (usn_ipc_check()): the daemon trusts nothing a process sends.
 */
#ifndef USNET_IPC_H
#define USNET_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define USN_IPC_MAGIC 0x55534e31u /* "USN1" */
#define USN_IPC_OPT_MAX 256u      /* socket option values */
#define USN_IPC_DEFAULT_SOCKET "/run/usnet/usnetd.sock"

enum usn_ipc_op {
	USN_IPC_HELLO = 1, /* -> the daemon's address, prefix, gateway, pid */
	USN_IPC_SOCKET,    /* arg0 type (SOCK_STREAM), arg1 protocol -> a descriptor */
	USN_IPC_BIND,      /* fd, addr */
	USN_IPC_LISTEN,    /* fd, arg0 backlog */
	USN_IPC_CONNECT,   /* fd, addr, arg0 USN_IPC_F_WAIT: answer when done */
	USN_IPC_ACCEPT,    /* fd (listener) -> a descriptor, addr = peer */
	USN_IPC_NAME,      /* fd, arg0 0 own / 1 peer -> addr */
	USN_IPC_SETOPT,    /* fd, arg0 level, arg1 name, opt */
	USN_IPC_GETOPT,    /* fd, arg0 level, arg1 name, arg2 room -> opt */
	USN_IPC_STATUS,    /* fd -> arg0 state, arg1 pending error (not cleared), arg2 flags */
	USN_IPC_OP_MAX
};

/* flags of USN_IPC_CONNECT */
#define USN_IPC_F_WAIT 1

/* arg2 of a USN_IPC_STATUS answer */
#define USN_IPC_ST_LISTENING 1
#define USN_IPC_ST_CONNECTING 2
#define USN_IPC_ST_CONNECTED 4
#define USN_IPC_ST_RESET 8 /* ended by an error (rc of reads: arg1) */

struct usn_ipc_addr {
	uint16_t family; /* AF_INET */
	uint16_t port;   /* host order */
	uint32_t v4;     /* host order */
	uint8_t v6[16];  /* reserved for IPv6 */
};

struct usn_ipc_msg {
	uint32_t magic;
	uint16_t op;
	uint16_t flags;
	uint32_t seq;   /* a request's number, echoed by its answer */
	int32_t rc;     /* answers: 0 or -errno */
	int32_t arg[4];
	struct usn_ipc_addr addr;
	uint32_t optlen;
	uint8_t opt[USN_IPC_OPT_MAX];
};

/* The answer to HELLO: in addr (the stack's address) and arg: arg0 the
 * prefix length, arg1 the gateway (host order, 0 none), arg2 the
 * daemon's pid. */

/* Checks a message received (len bytes): 0, or -EPROTO / -EINVAL with a
 * reason in *why. A request's descriptor count (nfds) must be what its
 * op needs. */
int usn_ipc_check(const struct usn_ipc_msg *m, size_t len, int nfds, bool request, const char **why);
/* Whether op's request carries a socket's descriptor. */
bool usn_ipc_op_has_fd(uint16_t op);
const char *usn_ipc_op_name(uint16_t op);

/* Sends m with up to one descriptor (fd < 0: none). 0 or -errno. */
int usn_ipc_send(int sock, const struct usn_ipc_msg *m, int fd);
/* Receives one message and the descriptor it carried (*ret_fd, -1 if none;
 * a second one is closed and counted in *ret_nfds). Returns the message's
 * length, 0 at end of file, or -errno. Descriptors come with
 * close-on-exec set. */
ssize_t usn_ipc_recv(int sock, struct usn_ipc_msg *m, int *ret_fd, int *ret_nfds, int flags);

#endif
