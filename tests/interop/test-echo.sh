#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-echo.sh - usnet-echo against the Linux kernel over a TAP: ping (small
# and 8000 bytes, so fragments are reassembled both ways), UDP echo byte for
# byte with socat (1, 1472, 8000 and 65507 bytes) and with a Python client
# (many datagrams of random sizes), the counters on SIGUSR1, the pcap it
# writes, and a clean exit on SIGTERM. Run as root; one line per case.
# On DPDK it receives through DPDK's memory (rx=copy, lib.sh), the one way
# net_af_packet hands up reassembled datagrams larger than a pool slot.
USN_DPDK_RX=${USN_DPDK_RX:-copy}
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

cases=(ping ping-8000 udp-socat-1 udp-socat-1472 udp-socat-8000 udp-socat-65507
	udp-many counters-sigusr1 sigterm-exit pcap-written)
if ! usn_setup; then
	usn_fail_all "$USN_REASON" "${cases[@]}"
	usn_finish
fi

usn_ping ping
usn_ping ping-8000 -s 8000
for n in 1 1472 8000 65507; do
	if [ "$USN_LINK" = dpdk ] && [ "$n" = 65507 ]; then
		# DPDK's net_af_packet: the kernel reassembles fragments for
		# the driver's fanout group, and the whole datagram must fit
		# one ring frame and one mbuf (at most 64 KB less headroom).
		usn_skip "udp-socat-$n" "net_af_packet receives fragmented datagrams reassembled by the kernel into one ring frame (framesz < 64 KB)"
		continue
	fi
	usn_udp_socat "udp-socat-$n" "$n"
done
usn_udp_py udp-many --random 200 --max 9000 --seed 7

# The traffic above must show in the counters.
if usn_counters "$USN_WORK/counters.txt"; then
	c=$USN_WORK/counters.txt.parsed
	why=""
	wants=("ICMP_RX_ECHO_REQUESTS 6" "ICMP_TX_ECHO_REPLIES 6" "UDP_RX_DATAGRAMS 204"
		"UDP_TX_DATAGRAMS 204" "FRAG_REASSEMBLED 3" "FRAG_TX_FRAGMENTED 3" "ARP_TX_REPLIES 1")
	# On DPDK's net_af_packet the kernel reassembles what usnet receives
	# (no FRAG_REASSEMBLED) and the 64 KB datagram was skipped.
	[ "$USN_LINK" = dpdk ] && wants=("ICMP_RX_ECHO_REQUESTS 6" "ICMP_TX_ECHO_REPLIES 6" "UDP_RX_DATAGRAMS 203"
		"UDP_TX_DATAGRAMS 203" "FRAG_TX_FRAGMENTED 3" "ARP_TX_REPLIES 1")
	# With rx=copy every frame went through DPDK's memory.
	if [ "$USN_LINK" = dpdk ] && [ "$USN_DPDK_RX" = copy ]; then
		f=$(usn_counter "$c" DEV_RX_FRAMES)
		k=$(usn_raw_counter "$USN_WORK/counters.txt" DEV_RX_COPIED)
		[ "$k" -eq "$f" ] || why="$why DEV_RX_COPIED=$k (want $f: rx=copy copies every frame)"
	fi
	for want in "${wants[@]}"; do
		read -r cname cmin <<<"$want"
		v=$(usn_counter "$c" "$cname")
		[ "$v" -ge "$cmin" ] || why="$why $cname=$v (want >= $cmin)"
	done
	if [ -z "$why" ]; then
		usn_pass counters-sigusr1
	else
		usn_fail counters-sigusr1 "counters too low:$why"
		sed 's/^/    | /' "$USN_WORK/counters.txt" | head -n 40
	fi
else
	usn_fail counters-sigusr1 "nothing printed within 3 s of SIGUSR1 (is the output flushed?)"
fi

size=$(stat -c %s "$USN_ECHO_LOG")
usn_stop_echo TERM
if [ "$USN_ECHO_STATUS" = 0 ] && [ "$(stat -c %s "$USN_ECHO_LOG")" -gt "$size" ]; then
	usn_pass sigterm-exit
else
	usn_fail sigterm-exit "exit status $USN_ECHO_STATUS, $(($(stat -c %s "$USN_ECHO_LOG") - size)) bytes printed at exit (want status 0 and the counters)"
fi

# The pcap holds the echo replies usnet-echo sent.
pcap=$USN_WORK/usnet-echo.pcap
n=$(tcpdump -n -r "$pcap" 'icmp[icmptype] == icmp-echoreply' 2>/dev/null | wc -l)
if [ "$n" -ge 6 ]; then
	usn_pass pcap-written
else
	usn_fail pcap-written "$pcap has $n ICMP echo replies (want >= 6): $(tcpdump -n -r "$pcap" 2>&1 | tail -n 1)"
fi
usn_finish
