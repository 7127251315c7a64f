// SPDX-License-Identifier: MIT
/*
 * fuzz-ipc.c - libFuzzer target for the check of usnetd's command
 * messages (src/ipc/ipc.h), the first thing the daemon does with what a
 * process sends. The first byte of an input is the number of descriptors
 * that came with it (0..3) and whether it is read as a request or an
 * answer; the rest is the message as received, of any length. Checked,
 * with abort() on failure: a message that passes has the exact size, the
 * magic, a known operation, an option length within its buffer, the
 * family 0 or AF_INET, the descriptor count its operation needs (a
 * request) and a result that is not positive (an answer); one that fails
 * says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
	do { \
		if (!(c)) \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int nfds = data[0] & 3;
	bool request = (data[0] & 4) == 0;
	data++;
	size--;
	/* As the daemon receives it: into a message-sized buffer, the rest
	 * of a longer datagram cut off (its length still reported). */
	struct usn_ipc_msg m;
	memset(&m, 0, sizeof(m));
	memcpy(&m, data, size < sizeof(m) ? size : sizeof(m));
	const char *why = NULL;
	int rc = usn_ipc_check(&m, size, nfds, request, &why);
	if (rc == 0) {
		CHECK(why == NULL);
		CHECK(size == sizeof(m));
		CHECK(m.magic == USN_IPC_MAGIC);
		CHECK(m.op > 0 && m.op < USN_IPC_OP_MAX);
		CHECK(strcmp(usn_ipc_op_name(m.op), "?") != 0);
		CHECK(m.optlen <= USN_IPC_OPT_MAX);
		CHECK(m.addr.family == 0 || m.addr.family == 2);
		if (request) {
			CHECK(nfds == (usn_ipc_op_has_fd(m.op) ? 1 : 0));
			if (m.op == USN_IPC_GETOPT)
				CHECK(m.arg[2] >= 0 && m.arg[2] <= (int32_t)USN_IPC_OPT_MAX);
		} else {
			CHECK(m.rc <= 0);
		}
	} else {
		CHECK(rc == -22 /* EINVAL */ || rc == -71 /* EPROTO */);
		CHECK(why != NULL && why[0] != 0);
	}
	return 0;
}
