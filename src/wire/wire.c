/* SPDX-License-Identifier: MIT */
/*
 * wire.c - names of the USN_WIRE_* parse and emit results, for logs and
 * tools. It is not a parser and holds no protocol knowledge; the codes
 * themselves are defined in wire.h.
 */
#include "wire.h"

const char *usn_wire_strerror(int err)
{
	switch (err) {
	case USN_WIRE_OK:
		return "ok";
	case USN_WIRE_TRUNCATED:
		return "truncated: buffer shorter than the header says";
	case USN_WIRE_BAD_VERSION:
		return "bad version";
	case USN_WIRE_BAD_HDR_LEN:
		return "impossible header length";
	case USN_WIRE_BAD_LEN:
		return "impossible total or payload length";
	case USN_WIRE_BAD_CSUM:
		return "bad checksum";
	case USN_WIRE_BAD_OPTION:
		return "malformed option list";
	case USN_WIRE_BAD_FIELD:
		return "field with an impossible value";
	case USN_WIRE_ENOSPC:
		return "output buffer too small";
	default:
		return "unknown wire error";
	}
}
