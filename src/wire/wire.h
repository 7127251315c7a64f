/* SPDX-License-Identifier: MIT */
/*
 * wire.h - pure parse and emit of every header usnet speaks.
 *
 * Conventions for every protocol P:
 *  - struct usn_P_repr is the decoded, host-order value of a header.
 *  - int usn_P_parse(const uint8_t *buf, size_t len, struct usn_P_repr *ret)
 *    checks every length before it reads and returns a USN_WIRE_* code:
 *    USN_WIRE_OK (0) or a negative reason; *ret is only valid on OK.
 *  - int usn_P_emit(const struct usn_P_repr *r, uint8_t *buf, size_t cap)
 *    writes the header and returns the bytes written, or USN_WIRE_ENOSPC.
 * No allocation, no clock, no state, no logging. Multi-byte fields on the
 * wire are big-endian; repr fields are host order, addresses included.
 */
#ifndef USN_WIRE_H
#define USN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum usn_wire_err {
	USN_WIRE_OK = 0,
	USN_WIRE_TRUNCATED = -1,   /* buffer shorter than the header says */
	USN_WIRE_BAD_VERSION = -2,
	USN_WIRE_BAD_HDR_LEN = -3, /* header length field impossible */
	USN_WIRE_BAD_LEN = -4,     /* total/payload length field impossible */
	USN_WIRE_BAD_CSUM = -5,
	USN_WIRE_BAD_OPTION = -6,  /* malformed option list */
	USN_WIRE_BAD_FIELD = -7,   /* other field with an impossible value */
	USN_WIRE_ENOSPC = -8,      /* emit: output buffer too small */
};
const char *usn_wire_strerror(int err);

#include "wire_csum.h"
#include "wire_eth.h"
#include "wire_arp.h"
#include "wire_ipv4.h"
#include "wire_icmp.h"
#include "wire_udp.h"
#include "wire_tcp.h"

#endif
