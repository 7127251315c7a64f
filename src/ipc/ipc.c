/* SPDX-License-Identifier: MIT */
/*
 * ipc.c - sending, receiving and checking the messages of ipc.h.
 */
#include "ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool usn_ipc_op_has_fd(uint16_t op)
{
	switch (op) {
	case USN_IPC_BIND:
	case USN_IPC_LISTEN:
	case USN_IPC_CONNECT:
	case USN_IPC_ACCEPT:
	case USN_IPC_NAME:
	case USN_IPC_SETOPT:
	case USN_IPC_GETOPT:
	case USN_IPC_STATUS:
		return true;
	default:
		return false;
	}
}

const char *usn_ipc_op_name(uint16_t op)
{
	static const char *const names[USN_IPC_OP_MAX] = {
		[USN_IPC_HELLO] = "hello",     [USN_IPC_SOCKET] = "socket", [USN_IPC_BIND] = "bind",
		[USN_IPC_LISTEN] = "listen",   [USN_IPC_CONNECT] = "connect", [USN_IPC_ACCEPT] = "accept",
		[USN_IPC_NAME] = "name",       [USN_IPC_SETOPT] = "setsockopt", [USN_IPC_GETOPT] = "getsockopt",
		[USN_IPC_STATUS] = "status",
	};
	return op > 0 && op < USN_IPC_OP_MAX ? names[op] : "?";
}

int usn_ipc_check(const struct usn_ipc_msg *m, size_t len, int nfds, bool request, const char **why)
{
	const char *w = NULL;
	if (len != sizeof(*m))
		w = "wrong length";
	else if (m->magic != USN_IPC_MAGIC)
		w = "bad magic";
	else if (m->op == 0 || m->op >= USN_IPC_OP_MAX)
		w = "unknown operation";
	else if (m->optlen > USN_IPC_OPT_MAX)
		w = "option value too long";
	else if (m->addr.family != 0 && m->addr.family != 2 /* AF_INET */)
		w = "address family not IPv4";
	else if (request && nfds != (usn_ipc_op_has_fd(m->op) ? 1 : 0))
		w = nfds > 1 ? "more than one descriptor" : "descriptor missing or unexpected";
	else if (request && m->op == USN_IPC_GETOPT && (m->arg[2] < 0 || (uint32_t)m->arg[2] > USN_IPC_OPT_MAX))
		w = "option room out of range";
	else if (!request && m->rc > 0)
		w = "positive result";
	if (why)
		*why = w;
	if (!w)
		return 0;
	return len != sizeof(*m) || m->magic != USN_IPC_MAGIC ? -EPROTO : -EINVAL;
}

int usn_ipc_send(int sock, const struct usn_ipc_msg *m, int fd)
{
	struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof(*m)};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = sizeof(c.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n == (ssize_t)sizeof(*m))
			return 0;
		if (n >= 0)
			return -EPROTO; /* a SEQPACKET send is whole or nothing */
		if (errno != EINTR)
			return -errno;
	}
}

ssize_t usn_ipc_recv(int sock, struct usn_ipc_msg *m, int *ret_fd, int *ret_nfds, int flags)
{
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} c;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf)};
	*ret_fd = -1;
	*ret_nfds = 0;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* Every descriptor that came is taken (or closed): a process must
	 * not be able to leave descriptors in the daemon. */
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*ret_fd < 0)
				*ret_fd = fd;
			else
				close(fd);
			(*ret_nfds)++;
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		/* Descriptors lost to truncation were closed by the kernel. */
		(*ret_nfds)++;
		return n > 0 ? (ssize_t)sizeof(*m) + 1 : n; /* fails the length check */
	}
	return n;
}
