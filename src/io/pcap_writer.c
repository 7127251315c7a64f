/* SPDX-License-Identifier: MIT */
/*
 * pcap_writer.c - frames to a classic pcap file (LINKTYPE_ETHERNET,
 * microsecond timestamps) through libpcap's dump API, so tcpdump and
 * wireshark read a stack's traffic. It is not a capture: frames are handed
 * in by the stack, with timestamps of the caller's choosing (ts_ns is split
 * into seconds and microseconds, truncating). It implements no RFC.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap_writer.h"
#include "util.h"

/* libpcap's own largest snapshot length, used when snaplen is 0. */
#define PCAP_WRITER_MAX_SNAPLEN 262144u

struct usn_pcap_writer {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	uint32_t snaplen;
};

int usn_pcap_open(const char *path, uint32_t snaplen, struct usn_pcap_writer **ret, char *err, size_t errlen)
{
	struct usn_pcap_writer *w;
	FILE *f;
	int ret_err;

	if (!err)
		errlen = 0; /* snprintf(NULL, 0, ...) writes nothing */
	else if (errlen)
		err[0] = '\0';
	*ret = NULL;
	if (!path || !*path) {
		snprintf(err, errlen, "pcap: no file name given");
		return -EINVAL;
	}
	if (snaplen == 0 || snaplen > PCAP_WRITER_MAX_SNAPLEN)
		snaplen = PCAP_WRITER_MAX_SNAPLEN;
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "pcap %s: out of memory", path);
		return -ENOMEM;
	}
	w->snaplen = snaplen;
	w->pcap = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (!w->pcap) {
		snprintf(err, errlen, "pcap %s: pcap_open_dead failed", path);
		free(w);
		return -ENOMEM;
	}

	/* The file is opened here rather than by pcap_dump_open so that the
	 * errno is ours to report, and "-" writes to a duplicate of stdout so
	 * that closing the dump does not close the process's stdout. */
	if (strcmp(path, "-") == 0) {
		int fd;

		fflush(stdout);
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
		f = fd >= 0 ? fdopen(fd, "wb") : NULL;
		if (!f && fd >= 0) {
			ret_err = -errno;
			close(fd);
			errno = -ret_err;
		}
	} else {
		f = fopen(path, "wbe");
	}
	if (!f) {
		ret_err = -errno;
		snprintf(err, errlen, "cannot open %s for writing: %s", strcmp(path, "-") ? path : "stdout",
			 strerror(errno));
		goto fail;
	}
	w->dumper = pcap_dump_fopen(w->pcap, f);
	if (!w->dumper) {
		ret_err = -EIO;
		snprintf(err, errlen, "pcap %s: %s", path, pcap_geterr(w->pcap));
		fclose(f);
		goto fail;
	}
	*ret = w;
	return 0;
fail:
	pcap_close(w->pcap);
	free(w);
	return ret_err;
}

void usn_pcap_write(struct usn_pcap_writer *w, const uint8_t *frame, size_t len, uint64_t ts_ns)
{
	struct pcap_pkthdr hdr;

	if (!w)
		return;
	memset(&hdr, 0, sizeof(hdr));
	hdr.ts.tv_sec = (time_t)(ts_ns / USN_NSEC_PER_SEC);
	hdr.ts.tv_usec = (suseconds_t)((ts_ns % USN_NSEC_PER_SEC) / USN_NSEC_PER_USEC);
	/* The record's original length is a 32-bit field. */
	hdr.len = len > UINT32_MAX ? UINT32_MAX : (bpf_u_int32)len;
	hdr.caplen = (bpf_u_int32)USN_MIN(len, (size_t)w->snaplen);
	pcap_dump((u_char *)w->dumper, &hdr, frame);
}

void usn_pcap_flush(struct usn_pcap_writer *w)
{
	if (w)
		pcap_dump_flush(w->dumper);
}

void usn_pcap_close(struct usn_pcap_writer *w)
{
	if (!w)
		return;
	pcap_dump_close(w->dumper);
	pcap_close(w->pcap);
	free(w);
}
