// SPDX-License-Identifier: MIT
/*
 * test-ipc.c - the command messages between usnetd and the shim
 * (src/ipc/ipc.h): what usn_ipc_check() refuses and why, and messages with
 * a descriptor through a real SOCK_SEQPACKET pair (the descriptor that
 * arrives is the same socket, a second one is closed, not leaked).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc.h"

static struct usn_ipc_msg good(uint16_t op)
{
	struct usn_ipc_msg m;
	memset(&m, 0, sizeof(m));
	m.magic = USN_IPC_MAGIC;
	m.op = op;
	return m;
}

static void test_check(void **state)
{
	(void)state;
	const char *why;
	struct usn_ipc_msg m = good(USN_IPC_HELLO);
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 0, true, &why), 0);
	assert_null(why);
	assert_int_equal(usn_ipc_check(&m, sizeof(m) - 1, 0, true, &why), -EPROTO);
	assert_string_equal(why, "wrong length");
	m.magic = 0;
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 0, true, &why), -EPROTO);
	assert_string_equal(why, "bad magic");
	m = good(0);
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 0, true, &why), -EINVAL);
	assert_string_equal(why, "unknown operation");
	m = good(USN_IPC_OP_MAX);
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 0, true, &why), -EINVAL);
	m = good(USN_IPC_SETOPT);
	m.optlen = USN_IPC_OPT_MAX + 1;
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 1, true, &why), -EINVAL);
	assert_string_equal(why, "option value too long");
	m = good(USN_IPC_BIND);
	m.addr.family = 10; /* AF_INET6 */
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 1, true, &why), -EINVAL);
	/* A request names its socket by exactly one descriptor, or none. */
	m = good(USN_IPC_BIND);
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 0, true, &why), -EINVAL);
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 2, true, &why), -EINVAL);
	assert_string_equal(why, "more than one descriptor");
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 1, true, &why), 0);
	m = good(USN_IPC_SOCKET);
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 1, true, &why), -EINVAL);
	m = good(USN_IPC_GETOPT);
	m.arg[2] = -1;
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 1, true, &why), -EINVAL);
	m.arg[2] = USN_IPC_OPT_MAX + 1;
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 1, true, &why), -EINVAL);
	m.arg[2] = USN_IPC_OPT_MAX;
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 1, true, &why), 0);
	/* Answers: a result is 0 or -errno. */
	m = good(USN_IPC_CONNECT);
	m.rc = -ECONNREFUSED;
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 0, false, &why), 0);
	m.rc = 5;
	assert_int_equal(usn_ipc_check(&m, sizeof(m), 0, false, &why), -EINVAL);
	assert_string_equal(usn_ipc_op_name(USN_IPC_ACCEPT), "accept");
	assert_string_equal(usn_ipc_op_name(999), "?");
}

static ino_t ino_of(int fd)
{
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void test_roundtrip(void **state)
{
	(void)state;
	int sv[2], pair[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	struct usn_ipc_msg m = good(USN_IPC_STATUS), r;
	m.seq = 7;
	assert_int_equal(usn_ipc_send(sv[0], &m, pair[0]), 0);
	int fd, nfds;
	assert_int_equal(usn_ipc_recv(sv[1], &r, &fd, &nfds, 0), (ssize_t)sizeof(r));
	assert_int_equal(nfds, 1);
	assert_true(fd >= 0);
	assert_int_equal(ino_of(fd), ino_of(pair[0]));
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(r.seq, 7);
	assert_int_equal(usn_ipc_check(&r, sizeof(r), nfds, true, NULL), 0);
	close(fd);
	/* No descriptor. */
	assert_int_equal(usn_ipc_send(sv[0], &m, -1), 0);
	assert_int_equal(usn_ipc_recv(sv[1], &r, &fd, &nfds, 0), (ssize_t)sizeof(r));
	assert_int_equal(nfds, 0);
	assert_int_equal(fd, -1);
	/* Three descriptors from a hostile sender: one kept, two closed. */
	int before = open_fds();
	int fds[3] = {pair[0], pair[1], sv[0]};
	char cbuf[CMSG_SPACE(sizeof(fds))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	assert_int_equal(sendmsg(sv[0], &mh, 0), (ssize_t)sizeof(m));
	assert_int_equal(usn_ipc_recv(sv[1], &r, &fd, &nfds, 0), (ssize_t)sizeof(r));
	assert_int_equal(nfds, 3);
	assert_int_equal(open_fds(), before + 1);
	assert_int_not_equal(usn_ipc_check(&r, sizeof(r), nfds, true, NULL), 0);
	close(fd);
	/* A longer datagram is cut and fails the length check. */
	char big[sizeof(m) + 10];
	memset(big, 0, sizeof(big));
	memcpy(big, &m, sizeof(m));
	assert_int_equal(send(sv[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
	ssize_t n = usn_ipc_recv(sv[1], &r, &fd, &nfds, 0);
	assert_int_equal(usn_ipc_check(&r, (size_t)n, nfds, true, NULL), -EPROTO);
	/* End of file. */
	close(sv[0]);
	assert_int_equal(usn_ipc_recv(sv[1], &r, &fd, &nfds, 0), 0);
	close(sv[1]);
	close(pair[0]);
	close(pair[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
