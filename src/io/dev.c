/* SPDX-License-Identifier: MIT */
/*
 * dev.c - opening a device from a command-line spec ("tap:usnt0") and the
 * common destroy entry point. It only dispatches on the kind before the
 * colon; each backend parses its own argument. It is not where devices are
 * implemented (dev_tap.c, dev_mem.c) and it implements no RFC: devices move
 * opaque Ethernet frames. In-memory devices cannot be opened from a spec:
 * they come in pairs from usn_memlink_create().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dev.h"
#include "dev_afpacket.h"
#ifdef USN_HAVE_AFXDP
#include "dev_afxdp.h"
#endif
#ifdef USN_HAVE_DPDK
#include "dev_dpdk.h"
#endif
#include "dev_tap.h"
#include "util.h"

#define USN_DEV_KINDS_HELP                                                                               \
	"known kinds: tap:NAME, afpacket:IFNAME, afxdp:IFNAME[@QUEUE], dpdk:EAL-ARGS (in-memory links are " \
	"made by usn_memlink_create)"

void usn_dev_destroy(struct usn_dev *d)
{
	if (!d)
		return;
	if (d->ops && d->ops->destroy)
		d->ops->destroy(d);
}

int usn_dev_open(const char *spec, struct usn_pool *pool, struct usn_dev **ret, char *err, size_t errlen)
{
	return usn_dev_open_queue(spec, pool, 0, 1, ret, err, errlen);
}

int usn_dev_open_queue(const char *spec, struct usn_pool *pool, unsigned queue, unsigned queues,
		       struct usn_dev **ret, char *err, size_t errlen)
{
	const char *colon;
	size_t kind_len;

	if (!err)
		errlen = 0; /* snprintf(NULL, 0, ...) writes nothing */
	else if (errlen)
		err[0] = '\0';
	*ret = NULL;
	if (!spec || !pool) {
		snprintf(err, errlen, "no device given; %s", USN_DEV_KINDS_HELP);
		return -EINVAL;
	}
	colon = strchr(spec, ':');
	kind_len = colon ? (size_t)(colon - spec) : strlen(spec);

	if (kind_len == 3 && strncmp(spec, "tap", 3) == 0) {
		if (!colon || colon[1] == '\0') {
			snprintf(err, errlen, "device '%s': tap needs an interface name, as in tap:usnt0", spec);
			return -EINVAL;
		}
		return usn_dev_tap_open(colon + 1, pool, queues > 1, ret, err, errlen);
	}
	if (kind_len == 8 && strncmp(spec, "afpacket", 8) == 0) {
		if (!colon || colon[1] == '\0') {
			snprintf(err, errlen, "device '%s': afpacket needs an interface name, as in afpacket:eth0", spec);
			return -EINVAL;
		}
		return usn_dev_afpacket_open(colon + 1, pool, queues > 1, ret, err, errlen);
	}
	if (kind_len == 5 && strncmp(spec, "afxdp", 5) == 0) {
		if (!colon || colon[1] == '\0') {
			snprintf(err, errlen, "device '%s': afxdp needs an interface name, as in afxdp:eth0@0", spec);
			return -EINVAL;
		}
#ifdef USN_HAVE_AFXDP
		return usn_dev_afxdp_open(colon + 1, pool, queue, queues, ret, err, errlen);
#else
		snprintf(err, errlen, "device '%s': this build has no AF_XDP backend (needs libxdp-dev, libbpf-dev, clang)",
			 spec);
		return -EPROTONOSUPPORT;
#endif
	}
	if (kind_len == 4 && strncmp(spec, "dpdk", 4) == 0) {
		if (!colon || colon[1] == '\0') {
			snprintf(err, errlen,
				 "device '%s': dpdk needs the EAL's arguments, as in "
				 "dpdk:--no-huge --no-pci -m 64 --vdev=net_af_packet0,iface=eth1",
				 spec);
			return -EINVAL;
		}
#ifdef USN_HAVE_DPDK
		return usn_dev_dpdk_open(colon + 1, pool, queue, queues, ret, err, errlen);
#else
		snprintf(err, errlen, "device '%s': this build has no DPDK backend (needs libdpdk-dev)", spec);
		return -EPROTONOSUPPORT;
#endif
	}
	if (kind_len == 3 && strncmp(spec, "mem", 3) == 0) {
		snprintf(err, errlen,
			 "device '%s': in-memory links cannot be opened by name, they are made in pairs by usn_memlink_create",
			 spec);
		return -EINVAL;
	}
	snprintf(err, errlen, "device '%s': unknown kind '%.*s'; %s", spec, (int)USN_MIN(kind_len, (size_t)32), spec,
		 USN_DEV_KINDS_HELP);
	return -EINVAL;
}
