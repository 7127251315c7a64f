// SPDX-License-Identifier: MIT
/*
 * usn_steer.bpf.c - the XDP program of the AF_XDP backend (dev_afxdp.c),
 * built with clang's BPF target and embedded in libusnet. It sends usnet
 * only its own traffic and passes everything else to the kernel untouched:
 * an IPv4 frame whose destination is usnet's address, or an ARP frame whose
 * target protocol address is (RFC 826), goes to the AF_XDP socket of the
 * receive queue it arrived on (usn_xsks); everything else, and everything
 * while usnet's address is not yet set (usn_addr[0] == 0), is XDP_PASS.
 * Mode (b) (usn_share[0].on): the address is the kernel's too, and usnet
 * owns only some ports: a TCP or UDP datagram to it goes to usnet when
 * its destination port is one usnet owns (usn_ports, by bit: 1 TCP, 2 UDP)
 * or lies in the range usnet's own connections use; everything else to
 * that address, ARP, ICMP and fragments included, is the kernel's.
 * DEVIATION(RFC 1191, RFC 5927 in mode b): ICMP errors about usnet's own
 * connections (fragmentation needed, unreachable) go to the kernel, which
 * has no such connection and drops them, so path MTU discovery and ICMP
 * errors do not reach usnet on a shared address; and a fragmented datagram
 * to one of usnet's ports goes to the kernel, which drops it. Telling an
 * ICMP error's quoted ports apart here is possible but not done.
 * Every read is bounds-checked against data_end, as the verifier demands.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} usn_xsks SEC(".maps");

/* [0]: usnet's IPv4 address in network order; 0 until the stack sets it */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} usn_addr SEC(".maps");

struct usn_share_cfg {
	__u16 eph_lo, eph_hi; /* host order */
	__u32 on;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct usn_share_cfg);
} usn_share SEC(".maps");

/* Mode (b): per destination port (host order), 1 usnet owns it for TCP, 2 for UDP. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} usn_ports SEC(".maps");

/* Mode (b): whether the IPv4 datagram at ip (to the shared address) is one
 * of usnet's. */
static __always_inline int shared_is_ours(struct iphdr *ip, void *end, const struct usn_share_cfg *sc)
{
	__u8 bit;
	if (ip->protocol == IPPROTO_TCP)
		bit = 1;
	else if (ip->protocol == IPPROTO_UDP)
		bit = 2;
	else
		return 0;
	/* A fragment: only the first has ports; all go to the kernel. */
	if (ip->frag_off & bpf_htons(0x3fff))
		return 0;
	__u32 ihl = ip->ihl * 4u;
	if (ihl < sizeof(*ip))
		return 0;
	__u8 *l4 = (__u8 *)ip + ihl;
	if ((void *)(l4 + 4) > end)
		return 0;
	__u16 dport_n;
	__builtin_memcpy(&dport_n, l4 + 2, 2); /* TCP and UDP alike (RFC 9293 §3.1, RFC 768) */
	__u32 dport = bpf_ntohs(dport_n);
	if (dport >= sc->eph_lo && dport <= sc->eph_hi)
		return 1;
	__u8 *own = bpf_map_lookup_elem(&usn_ports, &dport);
	return own && (*own & bit);
}

SEC("xdp")
int usn_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 key = 0;
	__u32 *addr = bpf_map_lookup_elem(&usn_addr, &key);
	if (!addr || *addr == 0 || (void *)(eth + 1) > end)
		return XDP_PASS;
	__u16 proto = eth->h_proto;
	struct usn_share_cfg *sc = bpf_map_lookup_elem(&usn_share, &key);
	if (sc && sc->on) {
		struct iphdr *ip = (struct iphdr *)(eth + 1);
		if (proto != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > end || ip->daddr != *addr ||
		    !shared_is_ours(ip, end, sc))
			return XDP_PASS;
	} else if (proto == bpf_htons(ETH_P_ARP)) {
		/* Ethernet/IPv4 ARP: the target protocol address at 24 */
		__u8 *arp = (__u8 *)(eth + 1);
		if ((void *)(arp + 28) > end)
			return XDP_PASS;
		__u32 tpa;
		__builtin_memcpy(&tpa, arp + 24, 4);
		if (tpa != *addr)
			return XDP_PASS;
	} else if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (struct iphdr *)(eth + 1);
		if ((void *)(ip + 1) > end || ip->daddr != *addr)
			return XDP_PASS;
	} else {
		return XDP_PASS;
	}
	/* No socket on this queue: the kernel gets it (XDP_PASS). */
	return bpf_redirect_map(&usn_xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "Dual MIT/GPL";
