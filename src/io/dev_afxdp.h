/* SPDX-License-Identifier: MIT */
/*
 * dev_afxdp.h - the AF_XDP backend (`--dev afxdp:IFNAME[@QUEUE]`, see
 * dev_afxdp.c), built when libxdp and libbpf are found (meson option
 * afxdp). spec: "IFNAME" or "IFNAME@QUEUE". Instance `instance` of
 * `instances` (--cores) takes queue QUEUE + instance; the first attaches
 * the XDP program, the others add their sockets to its map.
 */
#ifndef USN_DEV_AFXDP_H
#define USN_DEV_AFXDP_H

#include <stddef.h>

#include "dev.h"

int usn_dev_afxdp_open(const char *spec, struct usn_pool *pool, unsigned instance, unsigned instances,
		       struct usn_dev **ret, char *err, size_t errlen);

#endif
