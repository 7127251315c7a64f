/* SPDX-License-Identifier: MIT */
/*
 * share.c - what mode (b) asks of the kernel (see share.h): kernel sockets
 * that hold usnet's ports, the reserved ephemeral range, and the kernel's
 * neighbour table read and driven over rtnetlink (RFC 3549 describes the
 * protocol; the messages are the kernel's uapi structures, built here
 * because they are host interfaces, not network wire formats).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifdef USN_HAVE_NFT
#include <nftables/libnftables.h>
#endif

#include "share.h"

#define RESERVED_PATH "/proc/sys/net/ipv4/ip_local_reserved_ports"
#define RANGE_PATH "/proc/sys/net/ipv4/ip_local_port_range"
#define SHARE_MAX_PORTS 256

struct usn_share {
	int nl;                /* NETLINK_ROUTE */
	int ifindex;
	uint32_t addr;         /* host order */
	uint16_t eph_lo, eph_hi;
	bool several;
	uint32_t seq;
	size_t nports;
	uint32_t ports[SHARE_MAX_PORTS]; /* proto << 16 | port */
	int port_fd[SHARE_MAX_PORTS];
	bool fenced;           /* the nftables table is ours to update and delete */
	char table[48];
	bool reserved_written;
	char reserved_before[4096];
	char reserved_after[4200]; /* before, a comma and our range */
};

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	return n < 0 ? -e : 0;
}

/* Whether every port of lo..hi is in a list like "8080,61000-65535". */
static bool list_covers(const char *list, unsigned lo, unsigned hi)
{
	unsigned next = lo; /* the first port not yet known covered */
	/* The kernel prints the list sorted and merged, so one pass that
	 * extends coverage from `next` is enough. */
	const char *p = list;
	while (*p && next <= hi) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;
		if (end == p)
			break;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p)
				break;
		}
		if (a <= next && b >= next)
			next = (unsigned)b + 1;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return next > hi;
}

int usn_share_hwaddr(const char *ifname, uint8_t ret_mac[6])
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 ? -errno : 0;
	close(fd);
	if (rc == 0)
		memcpy(ret_mac, ifr.ifr_hwaddr.sa_data, 6);
	return rc;
}

static bool iface_has_addr(const char *ifname, uint32_t addr)
{
	struct ifaddrs *ifa, *i;
	bool found = false;
	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && strcmp(i->ifa_name, ifname) == 0 &&
		    ntohl(((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr) == addr)
			found = true;
	freeifaddrs(ifa);
	return found;
}

int usn_share_open(const char *ifname, uint32_t addr, uint16_t eph_lo, uint16_t eph_hi, bool several,
		   struct usn_share **ret, char *err, size_t errlen)
{
	*ret = NULL;
	char a[INET_ADDRSTRLEN];
	uint32_t na = htonl(addr);
	inet_ntop(AF_INET, &na, a, sizeof(a));
	if (eph_lo < 1024 || eph_hi < eph_lo) {
		snprintf(err, errlen, "the port range %u-%u for usnet's own connections must lie in 1024-65535",
			 eph_lo, eph_hi);
		return -EINVAL;
	}
	if (!iface_has_addr(ifname, addr)) {
		snprintf(err, errlen,
			 "%s is not the kernel's address on %s: sharing an address needs it there (ip addr add %s/LEN "
			 "dev %s), or give usnet an address of its own without --shared-addr",
			 a, ifname, a, ifname);
		return -EADDRNOTAVAIL;
	}
	struct usn_share *sh = calloc(1, sizeof(*sh));
	if (!sh) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sh->ifindex = (int)if_nametoindex(ifname);
	sh->addr = addr;
	sh->eph_lo = eph_lo;
	sh->eph_hi = eph_hi;
	sh->several = several;
	sh->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (sh->nl < 0) {
		int e = errno;
		snprintf(err, errlen, "rtnetlink socket: %s", strerror(e));
		free(sh);
		return -e;
	}
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	setsockopt(sh->nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	/* The range must be the kernel's no more: reserved, so its automatic
	 * port choice (connect, bind to port 0) skips it. */
	char kr[64] = "";
	unsigned klo = 32768, khi = 60999;
	if (read_file(RANGE_PATH, kr, sizeof(kr)) == 0)
		sscanf(kr, "%u %u", &klo, &khi);
	if (read_file(RESERVED_PATH, sh->reserved_before, sizeof(sh->reserved_before)) < 0)
		sh->reserved_before[0] = '\0';
	if (!list_covers(sh->reserved_before, eph_lo, eph_hi)) {
		snprintf(sh->reserved_after, sizeof(sh->reserved_after), "%s%s%u-%u", sh->reserved_before,
			 sh->reserved_before[0] ? "," : "", eph_lo, eph_hi);
		int rc = write_file(RESERVED_PATH, sh->reserved_after);
		if (rc == 0) {
			sh->reserved_written = true;
			/* The kernel merges and sorts: remember what it shows. */
			read_file(RESERVED_PATH, sh->reserved_after, sizeof(sh->reserved_after));
		} else if (eph_lo <= khi && eph_hi >= klo) {
			snprintf(err, errlen,
				 "ports %u-%u overlap the kernel's ephemeral ports %u-%u and cannot be reserved from it "
				 "(%s: %s; needs root): pick a range outside them",
				 eph_lo, eph_hi, klo, khi, RESERVED_PATH, strerror(-rc));
			usn_share_close(sh);
			return rc;
		}
		/* Outside the kernel's range already: it picks none of them. */
	}
	*ret = sh;
	return 0;
}

/* Runs one nftables command through libnftables; 0 or -EPERM-ish with the
 * tool's own message in err. */
static int nft_run(const char *cmd, char *err, size_t errlen)
{
#ifdef USN_HAVE_NFT
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		snprintf(err, errlen, "libnftables: cannot make a context");
		return -ENOMEM;
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	int rc = nft_run_cmd_from_buffer(ctx, cmd);
	if (rc != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);
		size_t n = e ? strcspn(e, "\n") : 0;
		snprintf(err, errlen, "nftables: %.*s", (int)n, e ? e : "failed");
	}
	nft_ctx_free(ctx);
	return rc == 0 ? 0 : -EPERM;
#else
	(void)cmd;
	snprintf(err, errlen, "this build has no libnftables (libnftables-dev)");
	return -EOPNOTSUPP;
#endif
}

int usn_share_fence(struct usn_share *sh, const char *ifname, char *err, size_t errlen)
{
	char cmd[1024];
	uint32_t na = htonl(sh->addr);
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &na, a, sizeof(a));
	snprintf(sh->table, sizeof(sh->table), "usnet_%ld_%d", (long)getpid(), sh->ifindex);
	/* One table per process and interface; instances of --cores add the
	 * same elements (nft's add is idempotent). Priority -500: before
	 * anything a user put at the hook. */
	snprintf(cmd, sizeof(cmd),
		 "add table netdev %s\n"
		 "add set netdev %s tports { type inet_service; flags interval; }\n"
		 "add set netdev %s uports { type inet_service; flags interval; }\n"
		 "add chain netdev %s in { type filter hook ingress device \"%s\" priority -500; policy accept; }\n"
		 "flush chain netdev %s in\n"
		 "add rule netdev %s in ip daddr %s tcp dport @tports counter drop\n"
		 "add rule netdev %s in ip daddr %s udp dport @uports counter drop\n"
		 "add element netdev %s tports { %u-%u }\n"
		 "add element netdev %s uports { %u-%u }\n",
		 sh->table, sh->table, sh->table, sh->table, ifname, sh->table, sh->table, a, sh->table, a, sh->table,
		 sh->eph_lo, sh->eph_hi, sh->table, sh->eph_lo, sh->eph_hi);
	int rc = nft_run(cmd, err, errlen);
	if (rc < 0)
		return rc;
	sh->fenced = true;
	return 0;
}

bool usn_share_owns(const struct usn_share *sh, uint8_t proto, uint16_t port)
{
	if (port >= sh->eph_lo && port <= sh->eph_hi)
		return true;
	for (size_t i = 0; i < sh->nports; i++)
		if (sh->ports[i] == ((uint32_t)proto << 16 | port))
			return true;
	return false;
}

void usn_share_range(const struct usn_share *sh, uint16_t *ret_lo, uint16_t *ret_hi)
{
	*ret_lo = sh->eph_lo;
	*ret_hi = sh->eph_hi;
}

const uint32_t *usn_share_ports(const struct usn_share *sh, size_t *ret_n)
{
	*ret_n = sh->nports;
	return sh->ports;
}

int usn_share_own_port(struct usn_share *sh, uint8_t proto, uint16_t port)
{
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	if (usn_share_owns(sh, proto, port))
		return 0;
	if (sh->nports == SHARE_MAX_PORTS)
		return -ENOSPC;
	int fd = socket(AF_INET, (proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	if (sh->several)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* Nothing ever reaches this socket: a filter that takes no packet
	 * (a TCP SYN or a datagram it drops is discarded without a reset
	 * or an ICMP error). usnet's frames are steered away before the
	 * kernel's IP layer anyway (XDP) or dropped at ingress (afpacket);
	 * this is the second fence. */
	struct sock_filter none[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	struct sock_fprog fp = {.len = 1, .filter = none};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(sh->addr)};
	int rc = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (proto == IPPROTO_TCP && listen(fd, 1) < 0))
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (sh->fenced) {
		char cmd[128], err[256];
		snprintf(cmd, sizeof(cmd), "add element netdev %s %s { %u }\n", sh->table,
			 proto == IPPROTO_TCP ? "tports" : "uports", port);
		rc = nft_run(cmd, err, sizeof(err));
		if (rc < 0) {
			close(fd);
			return rc;
		}
	}
	sh->ports[sh->nports] = (uint32_t)proto << 16 | port;
	sh->port_fd[sh->nports++] = fd;
	return 0;
}

/* One rtnetlink request about addr; the answer into buf. Returns the
 * answer's length or -errno (the kernel's error for NLMSG_ERROR). */
static int nl_neigh(struct usn_share *sh, uint16_t type, uint16_t flags, uint8_t ndm_flags, uint32_t addr,
		    char *buf, size_t len)
{
	struct {
		struct nlmsghdr n;
		struct ndmsg nd;
		struct rtattr rta;
		uint32_t dst;
	} req;
	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = sizeof(req);
	req.n.nlmsg_type = type;
	req.n.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	req.n.nlmsg_seq = ++sh->seq;
	req.nd.ndm_family = AF_INET;
	req.nd.ndm_ifindex = sh->ifindex;
	req.nd.ndm_state = NUD_NONE;
	req.nd.ndm_flags = ndm_flags;
	req.rta.rta_type = NDA_DST;
	req.rta.rta_len = RTA_LENGTH(4);
	req.dst = htonl(addr);
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	if (sendto(sh->nl, &req, sizeof(req), 0, (struct sockaddr *)&k, sizeof(k)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(sh->nl, buf, len, 0);
		if (n < 0)
			return -errno;
		struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
		if (!NLMSG_OK(h, (size_t)n))
			return -EBADMSG;
		if (h->nlmsg_seq != sh->seq)
			continue; /* a late answer to an earlier request */
		if (h->nlmsg_type == NLMSG_ERROR) {
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EBADMSG;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return e->error;
		}
		return (int)n;
	}
}

int usn_share_neigh(struct usn_share *sh, uint32_t addr, uint8_t ret_mac[6])
{
	char buf[1024];
	int n = nl_neigh(sh, RTM_GETNEIGH, 0, 0, addr, buf, sizeof(buf));
	uint16_t state = NUD_NONE;
	bool have_mac = false;
	if (n > 0) {
		struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
		if (h->nlmsg_type == RTM_NEWNEIGH && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ndmsg)) &&
		    h->nlmsg_len <= (unsigned)n) {
			const struct ndmsg *nd = NLMSG_DATA(h);
			state = nd->ndm_state;
			int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
			for (const struct rtattr *a = (const struct rtattr *)(const void *)((const char *)nd +
											   NLMSG_ALIGN(sizeof(*nd)));
			     RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
					memcpy(ret_mac, RTA_DATA(a), 6);
					have_mac = true;
				}
		}
		/* The kernel acks after the answer; drain the ack. */
		char ack[256];
		recv(sh->nl, ack, sizeof(ack), MSG_DONTWAIT);
	}
	const uint16_t valid = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
	if (have_mac && (state & valid)) {
		/* A stale entry is used, and the kernel confirms it again
		 * (NTF_USE: STALE -> DELAY -> PROBE, RFC 4861 §7.3.2's
		 * states, which Linux applies to ARP too). */
		if (state & NUD_STALE)
			nl_neigh(sh, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, NTF_USE, addr, buf, sizeof(buf));
		return 0;
	}
	if (state & NUD_INCOMPLETE)
		return -EAGAIN; /* the kernel is asking */
	/* Unknown or failed: ask the kernel to resolve it. */
	nl_neigh(sh, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, NTF_USE, addr, buf, sizeof(buf));
	return (state & NUD_FAILED) ? -EHOSTUNREACH : -EAGAIN;
}

void usn_share_close(struct usn_share *sh)
{
	if (!sh)
		return;
	for (size_t i = 0; i < sh->nports; i++)
		close(sh->port_fd[i]);
	if (sh->fenced) {
		char cmd[96], err[256];
		snprintf(cmd, sizeof(cmd), "delete table netdev %s\n", sh->table);
		nft_run(cmd, err, sizeof(err)); /* another instance may have deleted it */
	}
	/* The reservation goes back as it was, unless someone changed the
	 * list since (then theirs stands). */
	char now[4200];
	if (sh->reserved_written && read_file(RESERVED_PATH, now, sizeof(now)) == 0 &&
	    strcmp(now, sh->reserved_after) == 0)
		write_file(RESERVED_PATH, sh->reserved_before[0] ? sh->reserved_before : "\n");
	if (sh->nl >= 0)
		close(sh->nl);
	free(sh);
}
