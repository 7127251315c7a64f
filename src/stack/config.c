/* SPDX-License-Identifier: MIT */
/*
 * config.c - the options every usnet program shares (--dev, --addr, --gw,
 * --pcap, ...), set by name so that the command line and, later, a
 * configuration file go through one parser with one set of messages.
 * Also address parsing and formatting for the public API.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <pwd.h>
#include <string.h>

#include "usnet/usnet.h"

void usn_config_init(struct usn_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = 1;
	cfg->queues = 1;
}

static int parse_ipv4(const char *s, uint32_t *ret)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ret = ntohl(a.s_addr);
	return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int usn_config_set(struct usn_config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
	uint64_t v;
	if (!value)
		value = "";
	if (strcmp(name, "dev") == 0) {
		const char *colon = strchr(value, ':');
		if (colon == NULL || colon[1] == '\0' || strlen(value) >= sizeof(cfg->dev)) {
			snprintf(err, errlen, "--dev: expected KIND:NAME such as tap:usnt0, got '%s'", value);
			return -EINVAL;
		}
		/* The kinds this build has (io/dev.c opens them). */
		if (strncmp(value, "tap:", 4) != 0 && strncmp(value, "afpacket:", 9) != 0 &&
		    strncmp(value, "afxdp:", 6) != 0 && strncmp(value, "dpdk:", 5) != 0) {
			snprintf(err, errlen, "--dev: unknown device kind '%.*s' (known: tap, afpacket, afxdp, dpdk)",
				 (int)(colon - value), value);
			return -EINVAL;
		}
		snprintf(cfg->dev, sizeof(cfg->dev), "%s", value);
		return 0;
	}
	if (strcmp(name, "cores") == 0) {
		if (parse_u64(value, 64, &v) < 0 || v < 1) {
			snprintf(err, errlen, "--cores: expected 1..64 stack instances, got '%s'", value);
			return -EINVAL;
		}
		cfg->queues = (uint16_t)v;
		return 0;
	}
	if (strcmp(name, "shared-addr") == 0) {
		unsigned lo, hi;
		char extra;
		if (sscanf(value, "%u-%u%c", &lo, &hi, &extra) != 2 || lo < 1024 || hi > 65535 || lo > hi) {
			snprintf(err, errlen,
				 "--shared-addr: expected the ports LO-HI (within 1024-65535) usnet's own connections "
				 "take, as in 61000-65535, got '%s'",
				 value);
			return -EINVAL;
		}
		cfg->shared_lo = (uint16_t)lo;
		cfg->shared_hi = (uint16_t)hi;
		return 0;
	}
	if (strcmp(name, "user") == 0) {
		if (!value[0] || strlen(value) >= sizeof(cfg->user)) {
			snprintf(err, errlen, "--user: expected a user name, got '%s'", value);
			return -EINVAL;
		}
		if (!getpwnam(value)) {
			snprintf(err, errlen, "--user: no user named '%s'", value);
			return -EINVAL;
		}
		snprintf(cfg->user, sizeof(cfg->user), "%s", value);
		return 0;
	}
	if (strcmp(name, "addr") == 0) {
		char ip[64];
		const char *slash = strchr(value, '/');
		size_t n = slash ? (size_t)(slash - value) : strlen(value);
		if (n >= sizeof(ip) || !slash) {
			snprintf(err, errlen, "--addr: expected A.B.C.D/LEN such as 10.77.0.2/24, got '%s'", value);
			return -EINVAL;
		}
		memcpy(ip, value, n);
		ip[n] = '\0';
		uint32_t a;
		if (parse_ipv4(ip, &a) < 0 || parse_u64(slash + 1, 32, &v) < 0 || v == 0) {
			snprintf(err, errlen, "--addr: expected A.B.C.D/LEN with LEN 1..32, got '%s'", value);
			return -EINVAL;
		}
		if (a == 0 || (a >> 28) >= 0xe || (a >> 24) == 127) {
			snprintf(err, errlen, "--addr: %s is not a unicast host address", ip);
			return -EINVAL;
		}
		cfg->addr = a;
		cfg->prefix_len = (uint8_t)v;
		return 0;
	}
	if (strcmp(name, "gw") == 0) {
		if (parse_ipv4(value, &cfg->gw) < 0) {
			snprintf(err, errlen, "--gw: expected A.B.C.D, got '%s'", value);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(name, "pcap") == 0) {
		if (!*value || strlen(value) >= sizeof(cfg->pcap)) {
			snprintf(err, errlen, "--pcap: expected a file name (or - for stdout)");
			return -EINVAL;
		}
		snprintf(cfg->pcap, sizeof(cfg->pcap), "%s", value);
		return 0;
	}
	if (strcmp(name, "seed") == 0) {
		if (parse_u64(value, UINT64_MAX, &v) < 0) {
			snprintf(err, errlen, "--seed: expected a number, got '%s'", value);
			return -EINVAL;
		}
		cfg->seed = v;
		return 0;
	}
	if (strcmp(name, "nbufs") == 0) {
		if (parse_u64(value, 1u << 22, &v) < 0 || v < 64) {
			snprintf(err, errlen, "--nbufs: expected a number from 64 to 4194304, got '%s'", value);
			return -EINVAL;
		}
		cfg->nbufs = (uint32_t)v;
		return 0;
	}
	if (strcmp(name, "log-level") == 0) {
		if (parse_u64(value, 3, &v) < 0) {
			snprintf(err, errlen, "--log-level: expected 0 (errors) to 3 (debug), got '%s'", value);
			return -EINVAL;
		}
		cfg->log_level = (int)v;
		return 0;
	}
	snprintf(err, errlen, "unknown option '%s'", name);
	return -ENOENT;
}

const char *usn_config_usage(void)
{
	return "device options:\n"
	       "  --dev KIND:NAME     packet device: tap:NAME (created if it does not exist; needs\n"
	       "                      CAP_NET_ADMIN to create) or afpacket:IFNAME (an interface the\n"
	       "                      kernel keeps using; needs CAP_NET_RAW)\n"
	       "  --addr A.B.C.D/LEN  usnet's own IPv4 address and on-link prefix (required)\n"
	       "  --gw A.B.C.D        default gateway\n"
	       "  --pcap FILE         write every frame sent and received to FILE (- for stdout)\n"
	       "  --seed N            seed of the stack's random source (default: from the OS)\n"
	       "  --nbufs N           packet buffers of 2 KiB (default 16384)\n"
	       "  --log-level N       0 errors, 1 warnings (default), 2 info, 3 debug\n"
	       "  --cores N           N stack instances, one thread each, pinned, sharing nothing;\n"
	       "                      flows spread by a multi-queue TAP or AF_PACKET fanout\n"
	       "  --user NAME         once the device is open, run as NAME; every capability is\n"
	       "                      dropped then, with or without --user\n"
	       "  --shared-addr LO-HI --addr is the kernel's own address on the interface (afxdp,\n"
	       "                      afpacket): usnet owns only the ports it binds and LO-HI for\n"
	       "                      its own connections, reserved from the kernel's ephemeral\n"
	       "                      ports (e.g. 61000-65535); ARP and the rest stay the kernel's\n";
}

int usn_addr_parse(const char *s, struct usn_addr *ret)
{
	char ip[64];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	if (n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	uint32_t a;
	uint64_t port = 0;
	if (parse_ipv4(ip, &a) < 0)
		return -EINVAL;
	if (colon && parse_u64(colon + 1, 65535, &port) < 0)
		return -EINVAL;
	*ret = usn_addr_v4(a, (uint16_t)port);
	return 0;
}

const char *usn_addr_format(const struct usn_addr *a, char *buf, size_t len)
{
	if (a->family != AF_INET) {
		snprintf(buf, len, "(family %u)", a->family);
		return buf;
	}
	uint32_t v = a->ip.v4;
	if (a->port)
		snprintf(buf, len, "%u.%u.%u.%u:%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255, a->port);
	else
		snprintf(buf, len, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
	return buf;
}
