/* SPDX-License-Identifier: MIT */
/*
 * pcap_writer.h - writes frames to a pcap file (LINKTYPE_ETHERNET) with
 * libpcap, so a stack's traffic can be read by tcpdump or wireshark; the
 * host's tcpdump cannot see a usnet stack's traffic on other backends.
 * Timestamps are given by the caller (the stack's time mapped to wall time,
 * or virtual time in the simulator). "-" writes to stdout.
 */
#ifndef USN_PCAP_WRITER_H
#define USN_PCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct usn_pcap_writer;

int usn_pcap_open(const char *path, uint32_t snaplen, struct usn_pcap_writer **ret, char *err, size_t errlen);
void usn_pcap_write(struct usn_pcap_writer *w, const uint8_t *frame, size_t len, uint64_t ts_ns);
void usn_pcap_flush(struct usn_pcap_writer *w);
void usn_pcap_close(struct usn_pcap_writer *w);

#endif
