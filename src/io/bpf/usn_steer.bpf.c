// SPDX-License-Identifier: MIT
/*
 * usn_steer.bpf.c - the XDP program of the AF_XDP backend (dev_afxdp.c),
 * built with clang's BPF target and embedded in libusnet. It sends usnet
 * only its own traffic and passes everything else to the kernel untouched:
 * an IPv4 frame whose destination is usnet's address, or an ARP frame whose
 * target protocol address is (RFC 826), goes to the AF_XDP socket of the
 * receive queue it arrived on (usn_xsks); everything else, and everything
 * while usnet's address is not yet set (usn_addr[0] == 0), is XDP_PASS.
 * Every read is bounds-checked against data_end, as the verifier demands.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
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
	if (proto == bpf_htons(ETH_P_ARP)) {
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
