/* SPDX-License-Identifier: MIT */
/*
 * dev_dpdk.h - the DPDK backend (`--dev dpdk:EAL-ARGS`), for NICs that DPDK
 * owns (and, in tests, DPDK's virtual devices net_af_packet and net_ring).
 * Built only when meson finds libdpdk (-Ddpdk=auto|enabled).
 *
 * EAL-ARGS are DPDK's own EAL arguments, split on spaces (no quoting), for
 * example `dpdk:--no-pci --no-huge -m 64 --vdev=net_af_packet0,iface=eth1`.
 * Words of the form NAME=VALUE that DPDK never takes alone are usnet's own
 * and are removed before the EAL sees the rest:
 *   port=N       the ethdev port to use (default: the first one there is)
 *   tx=ref|copy  send by lending usnet's buffers to mbufs (ref) or by copying
 *                into mbufs (copy); the default is ref on virtual devices
 *                whose driver copies or frees at once, copy elsewhere
 *                (dev_dpdk.c says why)
 *   rx=pool|copy receive into mbufs whose data buffers are slots of usnet's
 *                pool, handed to the stack without a copy (pool), or into
 *                mbufs of DPDK's memory copied into the pool (copy); the
 *                default is pool where the frames fit a slot (net_af_packet
 *                needs framesz=1952 or less) and the pool can spare the
 *                slots, copy elsewhere (dev_dpdk.c says why)
 *   mtu=N        the port's MTU, set when the port is started (default: the
 *                port's own, 1500 on most)
 *   idle-us=N    the longest sleep between receive polls when idle (default
 *                1000; 0 polls without sleeping, as DPDK applications do)
 * The EAL runs once per process: every device of a process must give the
 * same EAL arguments (several instances with --cores do).
 */
#ifndef USN_DEV_DPDK_H
#define USN_DEV_DPDK_H

#include <stddef.h>

#include "dev.h"

/* Instance `queue` of `queues` on the port: the port is configured with
 * `queues` receive and transmit queue pairs by whichever instance opens it
 * first. 0 or -errno with a message in err[errlen]. */
int usn_dev_dpdk_open(const char *eal_args, struct usn_pool *pool, unsigned queue, unsigned queues,
		      struct usn_dev **ret, char *err, size_t errlen);

#endif
