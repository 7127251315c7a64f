// SPDX-License-Identifier: MIT
/*
 * usnet-doctor - what this machine offers usnet, and why a backend would
 * not start:
 *   usnet-doctor [--dev KIND:NAME [--addr A.B.C.D/LEN]] [IFNAME ...]
 * One line per finding: "ok", "no" or "warn", what, and the detail or the
 * fix. Without --dev it inspects the kernel, the process's capabilities,
 * TAP, AF_PACKET, AF_XDP (sockets, bpffs, memlock), DPDK (built or not,
 * huge pages for it, whether its EAL starts without them, which virtual
 * devices this process could use), huge pages and each
 * interface named (or every interface): driver, MTU, queues. With --dev it
 * also opens that device exactly as a usnet program would (a stack with
 * the address given, 192.0.2.1/32 by default, closed at once) and reports
 * the error the program would print. Exit status 0, or 1 when the --dev
 * check failed. Needs no privilege itself: what is missing is the finding.
 */
#include <dirent.h>
#include <linux/if_packet.h>
#include <stdarg.h>
#include <errno.h>
#include <getopt.h>
#include <linux/ethtool.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "common.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

static void line(const char *verdict, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void line(const char *verdict, const char *what, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("%-4s  %-22s %s\n", verdict, what, detail);
}

static bool have_cap(unsigned cap)
{
	return capng_have_capability(CAPNG_EFFECTIVE, cap) != 0;
}

static void check_kernel(void)
{
	struct utsname u;
	if (uname(&u) == 0)
		line("ok", "kernel", "%s %s %s", u.sysname, u.release, u.machine);
	capng_get_caps_process();
	line(have_cap(CAP_NET_ADMIN) ? "ok" : "warn", "CAP_NET_ADMIN",
	     have_cap(CAP_NET_ADMIN) ? "held (creates TAP interfaces)"
				     : "not held: a TAP must exist already (ip tuntap add NAME mode tap user $USER)");
	line(have_cap(CAP_NET_RAW) ? "ok" : "warn", "CAP_NET_RAW",
	     have_cap(CAP_NET_RAW) ? "held (AF_PACKET and AF_XDP sockets)"
				   : "not held: afpacket (and afxdp) cannot start; run as root or grant it");
}

static void check_tap(void)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		line("no", "tap", "/dev/net/tun: %s%s", strerror(errno),
		     errno == ENOENT ? " (modprobe tun, or mknod /dev/net/tun c 10 200)" : "");
		return;
	}
	close(fd);
	line("ok", "tap", "/dev/net/tun opens (--dev tap:NAME)");
}

static void check_afpacket(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		line("no", "afpacket", "socket(AF_PACKET): %s%s", strerror(errno),
		     errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		return;
	}
	int v = TPACKET_V3;
	bool v3 = setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) == 0;
	close(fd);
	line(v3 ? "ok" : "no", "afpacket", v3 ? "packet sockets with TPACKET_V3 rings (--dev afpacket:IFNAME)"
					       : "TPACKET_V3 refused: kernel too old");
}

static void check_afxdp(void)
{
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		line("no", "af_xdp sockets", "socket(AF_XDP): %s%s", strerror(errno),
		     errno == EAFNOSUPPORT ? " (kernel without CONFIG_XDP_SOCKETS)"
		     : errno == EPERM     ? " (needs CAP_NET_RAW)"
					  : "");
	} else {
		close(fd);
		/* Whether this build has the backend: open one on an interface
		 * that cannot exist and read which error comes back. */
		struct usn_config cfg;
		usn_config_init(&cfg);
		char err[256];
		struct usn_stack *s = NULL;
		usn_config_set(&cfg, "dev", "afxdp:usnet-doctor-none", err, sizeof(err));
		usn_config_set(&cfg, "addr", "192.0.2.1/32", err, sizeof(err));
		usn_config_set(&cfg, "nbufs", "64", err, sizeof(err));
		err[0] = '\0';
		if (usn_stack_create(&cfg, &s, err, sizeof(err)) == 0)
			usn_stack_destroy(s);
		bool built = strstr(err, "no AF_XDP backend") == NULL;
		line(built ? "ok" : "warn", "af_xdp sockets",
		     built ? "the kernel has them (--dev afxdp:IFNAME[@QUEUE])"
			   : "the kernel has them, but this build has no afxdp backend (libxdp-dev, libbpf-dev, clang)");
	}
	struct statfs sf;
	if (statfs("/sys/fs/bpf", &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		line("ok", "bpffs", "/sys/fs/bpf is mounted");
	else
		line("warn", "bpffs", "/sys/fs/bpf is not a bpffs here (inside `ip netns exec` it is hidden): "
				      "mount -t bpf bpf DIR and set LIBXDP_BPFFS=DIR");
	struct rlimit rl;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		if (rl.rlim_cur == RLIM_INFINITY)
			line("ok", "memlock limit", "unlimited");
		else
			line(rl.rlim_cur >= 64u << 20 ? "ok" : "warn", "memlock limit",
			     "%llu KiB%s", (unsigned long long)rl.rlim_cur / 1024,
			     rl.rlim_cur >= 64u << 20 ? "" : ": an AF_XDP UMEM above this needs CAP_IPC_LOCK or ulimit -l");
	}
}

/* DPDK: whether this build has the backend (a spec it refuses before the
 * EAL starts tells), the huge pages the EAL could take, and whether the EAL
 * starts without them (--no-huge) on a net_ring port, tried in a child
 * process: the EAL can start only once per process and leaves threads. */
static void check_dpdk(const char *dev)
{
	struct usn_config cfg;
	usn_config_init(&cfg);
	char err[256] = "";
	struct usn_stack *s = NULL;
	usn_config_set(&cfg, "dev", "dpdk:port=none", err, sizeof(err));
	usn_config_set(&cfg, "addr", "192.0.2.1/32", err, sizeof(err));
	usn_config_set(&cfg, "nbufs", "64", err, sizeof(err));
	err[0] = '\0';
	if (usn_stack_create(&cfg, &s, err, sizeof(err)) == 0)
		usn_stack_destroy(s);
	if (strstr(err, "no DPDK backend") || strstr(err, "unknown device kind")) {
		line("warn", "dpdk", "this build has no DPDK backend (install libdpdk-dev and rebuild: meson's "
				     "-Ddpdk=enabled says why not)");
		return;
	}
	long nr = -1;
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");
	if (f) {
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
	}
	char sizes[200] = "";
	size_t used = 0;
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			long kb, total = 0, free_ = 0;
			if (sscanf(e->d_name, "hugepages-%ldkB", &kb) != 1)
				continue;
			char path[300];
			snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/%s/nr_hugepages", e->d_name);
			FILE *g = fopen(path, "r");
			if (g) {
				if (fscanf(g, "%ld", &total) != 1)
					total = 0;
				fclose(g);
			}
			snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/%s/free_hugepages", e->d_name);
			g = fopen(path, "r");
			if (g) {
				if (fscanf(g, "%ld", &free_) != 1)
					free_ = 0;
				fclose(g);
			}
			int k = snprintf(sizes + used, sizeof(sizes) - used, "%s%ld of %ld free of %ld KiB", used ? ", " : "",
					 free_, total, kb);
			if (k > 0 && (size_t)k < sizeof(sizes) - used)
				used += (size_t)k;
		}
		closedir(d);
	}
	line(nr > 0 ? "ok" : "warn", "dpdk huge pages",
	     nr > 0 ? "nr_hugepages %ld (%s): the EAL can take them (add --in-memory to leave no files)"
		    : "nr_hugepages %ld (%s): none reserved, give the EAL --no-huge -m MB",
	     nr, sizes[0] ? sizes : "no sizes listed");
	/* The EAL without huge pages, in a child: ok, or its error. */
	if (dev && strncmp(dev, "dpdk:", 5) == 0) {
		line("ok", "dpdk", "built; the EAL is tried with --dev below (one EAL per process)");
	} else {
		int pfd[2];
		pid_t pid = pipe(pfd) == 0 ? fork() : -1;
		if (pid == 0) {
			close(pfd[0]);
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (null >= 0) {
				dup2(null, STDOUT_FILENO);
				dup2(null, STDERR_FILENO);
			}
			usn_config_init(&cfg);
			usn_config_set(&cfg, "dev",
				       "dpdk:--no-huge --no-pci -m 64 --no-shconf --no-telemetry --vdev=net_ring0", err,
				       sizeof(err));
			usn_config_set(&cfg, "addr", "192.0.2.1/32", err, sizeof(err));
			usn_config_set(&cfg, "nbufs", "64", err, sizeof(err));
			err[0] = '\0';
			int rc = usn_stack_create(&cfg, &s, err, sizeof(err));
			if (rc == 0)
				usn_stack_destroy(s);
			else if (write(pfd[1], err, strlen(err)) < 0)
				rc = -errno;
			exit(rc == 0 ? 0 : 1);
		}
		char why[256] = "";
		int st = -1;
		if (pid > 0) {
			close(pfd[1]);
			ssize_t n = read(pfd[0], why, sizeof(why) - 1);
			why[n > 0 ? n : 0] = '\0';
			close(pfd[0]);
			waitpid(pid, &st, 0);
		}
		bool ok = pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		line(ok ? "ok" : "no", "dpdk",
		     ok ? "built; the EAL starts without huge pages (--no-huge -m 64 --no-pci, tried on net_ring0)"
			: "built, but the EAL does not start with --no-huge on net_ring0: %s",
		     ok ? "" : why[0] ? why : "the child process failed");
	}
	line("ok", "dpdk vdevs",
	     "net_ring, net_null: always; net_af_packet (iface=IF): %s; net_tap: %s; net_af_xdp (iface=IF): "
	     "needs CAP_NET_RAW and CAP_BPF; a NIC: bound to vfio-pci",
	     have_cap(CAP_NET_RAW) ? "CAP_NET_RAW held" : "needs CAP_NET_RAW (not held)",
	     have_cap(CAP_NET_ADMIN) ? "CAP_NET_ADMIN held" : "needs CAP_NET_ADMIN (not held)");
	line("warn", "dpdk polling",
	     "DPDK ports have no wake-up here: an idle usnet on dpdk polls up to 1000 times a second (about 1 %% "
	     "of a core; idle-us=N sets the longest sleep, 0 busy-polls)");
}

static void check_hugepages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f) {
		line("warn", "huge pages", "/proc/meminfo: %s", strerror(errno));
		return;
	}
	char buf[256];
	long total = -1, free_ = -1, size_kb = -1;
	while (fgets(buf, sizeof(buf), f)) {
		sscanf(buf, "HugePages_Total: %ld", &total);
		sscanf(buf, "HugePages_Free: %ld", &free_);
		sscanf(buf, "Hugepagesize: %ld kB", &size_kb);
	}
	fclose(f);
	if (total <= 0)
		line("warn", "huge pages", "none reserved: the buffer pool uses 4 KiB pages "
					   "(echo N > /proc/sys/vm/nr_hugepages to reserve N of %ld KiB)", size_kb);
	else
		line("ok", "huge pages", "%ld of %ld free, %ld KiB each", free_, total, size_kb);
}

static void check_interface(const char *ifname)
{
	char path[256], buf[64];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int mtu = fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : -1;
	struct ethtool_drvinfo di = {.cmd = ETHTOOL_GDRVINFO};
	ifr.ifr_data = (char *)&di;
	const char *driver = fd >= 0 && ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? di.driver : "?";
	if (fd >= 0)
		close(fd);
	int rxq = 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			rxq += strncmp(e->d_name, "rx-", 3) == 0;
		closedir(d);
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", ifname);
	FILE *f = fopen(path, "r");
	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
	}
	char what[64];
	snprintf(what, sizeof(what), "interface %s", ifname);
	if (mtu < 0) {
		line("no", what, "no such interface");
		return;
	}
	line("ok", what, "driver %s, MTU %d, %d receive queue%s, %s%s", driver, mtu, rxq, rxq == 1 ? "" : "s",
	     buf[0] ? buf : "?", strcmp(driver, "tun") == 0 ? " (a TAP: use tap:NAME)" : "");
}

static int check_dev(const char *dev, const char *addr)
{
	struct usn_config cfg;
	usn_config_init(&cfg);
	char err[512];
	/* The programs' own pool size (not a smaller one): a backend may
	 * need a share of it (dpdk's rx=pool lends slots to its mempool). */
	if (usn_config_set(&cfg, "dev", dev, err, sizeof(err)) < 0 ||
	    usn_config_set(&cfg, "addr", addr, err, sizeof(err)) < 0) {
		line("no", "open the device", "%s", err);
		return 1;
	}
	struct usn_stack *s;
	int rc = usn_stack_create(&cfg, &s, err, sizeof(err));
	if (rc < 0) {
		line("no", "open the device", "%s would not start: %s", dev, err[0] ? err : strerror(-rc));
		return 1;
	}
	usn_stack_destroy(s);
	line("ok", "open the device", "%s opens (as %s)", dev, addr);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: usnet-doctor [--dev KIND:NAME [--addr A.B.C.D/LEN]] [IFNAME ...]\n"
		     "What this machine offers usnet's backends, and why one would not start.\n"
		     "  --dev KIND:NAME     also open this device as a usnet program would\n"
		     "  --addr A.B.C.D/LEN  the address to open it with (default 192.0.2.1/32)\n"
		     "  IFNAME ...          interfaces to describe (default: all)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dev", required_argument, NULL, 'd'},
		{"addr", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dev = NULL, *addr = "192.0.2.1/32";
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	check_kernel();
	check_tap();
	check_afpacket();
	check_afxdp();
	check_dpdk(dev);
	check_hugepages();
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			check_interface(argv[i]);
	} else {
		struct if_nameindex *ni = if_nameindex();
		for (struct if_nameindex *p = ni; p && p->if_index; p++)
			if (strcmp(p->if_name, "lo") != 0)
				check_interface(p->if_name);
		if (ni)
			if_freenameindex(ni);
	}
	int rc = dev ? check_dev(dev, addr) : 0;
	fflush(stdout);
	return rc;
}
