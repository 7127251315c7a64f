/* SPDX-License-Identifier: MIT */
/*
 * share.h - living beside the kernel on its own address (mode (b) of
 * shared/DESIGN.md): usnet shares the kernel's IPv4 address on an
 * interface and owns only some TCP/UDP ports. What the kernel must be told
 * or asked for that, for the devices that can share (afxdp, afpacket):
 * the ports usnet owns are held by kernel sockets of its own, so the
 * kernel's programs cannot bind them and `ss -ltun` shows them taken; the
 * range usnet's outgoing connections take ports from is added to the
 * kernel's net.ipv4.ip_local_reserved_ports, so the kernel never picks
 * them as ephemeral ports; ARP stays with the kernel and usnet reads the
 * kernel's neighbour table over rtnetlink (asking the kernel to resolve an
 * address it does not know). Not a protocol implementation: no frame is
 * built or parsed here, and no clock is read.
 */
#ifndef USN_SHARE_H
#define USN_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct usn_share;

/* For interface ifname: addr (host order) must be one of its kernel
 * addresses; eph_lo..eph_hi is reserved from the kernel's ephemeral ports
 * (written into ip_local_reserved_ports unless already there, restored on
 * close). `several`: other instances (--cores) take the same ports too, so
 * the kernel sockets holding them use SO_REUSEPORT. 0 or -errno with a
 * message in err. */
int usn_share_open(const char *ifname, uint32_t addr, uint16_t eph_lo, uint16_t eph_hi, bool several,
		   struct usn_share **ret, char *err, size_t errlen);
/* Holds port `port` of proto (6 or 17) on the shared address with a kernel
 * socket that never takes a packet (a filter drops all): 0, or
 * -EADDRINUSE when the kernel's programs have it, -EACCES for a port below
 * 1024 without CAP_NET_BIND_SERVICE. Owning a port twice is a no-op. */
int usn_share_own_port(struct usn_share *sh, uint8_t proto, uint16_t port);
/* Whether usnet owns (proto, port), by own_port or by the reserved range. */
bool usn_share_owns(const struct usn_share *sh, uint8_t proto, uint16_t port);
/* The kernel's neighbour entry for addr (host order) on the interface: 0
 * with the MAC; -EAGAIN when it has none or it is being resolved (the
 * kernel is asked to resolve it now); -EHOSTUNREACH when it failed (and
 * is asked again). A stale entry is returned and refreshed by the kernel. */
int usn_share_neigh(struct usn_share *sh, uint32_t addr, uint8_t ret_mac[6]);
/* The ports owned through own_port (for a device's own filter), in order
 * of owning; n of them. */
const uint32_t *usn_share_ports(const struct usn_share *sh, size_t *ret_n); /* proto << 16 | port */
/* For a device that shares frames with the kernel rather than taking them
 * (afpacket): the kernel is told to drop, at its ingress hook, the TCP and
 * UDP datagrams to the shared address whose ports usnet owns (an nftables
 * table of the process, through libnftables; needs CAP_NET_ADMIN, also to
 * remove it at close). Packet sockets see frames before that hook. 0 or
 * -errno with a message in err. */
int usn_share_fence(struct usn_share *sh, const char *ifname, char *err, size_t errlen);
void usn_share_range(const struct usn_share *sh, uint16_t *ret_lo, uint16_t *ret_hi);
void usn_share_close(struct usn_share *sh);

/* The interface's MAC address: 0 or -errno. */
int usn_share_hwaddr(const char *ifname, uint8_t ret_mac[6]);

#endif
