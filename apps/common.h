/* SPDX-License-Identifier: MIT */
/*
 * common.h - what every usnet program shares: the device options
 * (--dev, --addr, --gw, --pcap, --seed, --nbufs, --log-level) on the command
 * line through usn_config_set(), so that each program parses and reports
 * them the same way. Public API only.
 */
#ifndef USNET_APPS_COMMON_H
#define USNET_APPS_COMMON_H

#include <cap-ng.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <usnet/usnet.h>

#define USN_APP_DEVICE_OPTIONS                                                                          \
	{"dev", required_argument, NULL, 0x100}, {"addr", required_argument, NULL, 0x100},             \
		{"gw", required_argument, NULL, 0x100}, {"pcap", required_argument, NULL, 0x100},      \
		{"seed", required_argument, NULL, 0x100}, {"nbufs", required_argument, NULL, 0x100},   \
		{"log-level", required_argument, NULL, 0x100}, {"user", required_argument, NULL, 0x100},   \
		{"cores", required_argument, NULL, 0x100}, {"shared-addr", required_argument, NULL, 0x100}

/* Handles a device option found by getopt_long (c == 0x100): returns 0, or
 * prints the message and returns 2 (the exit status for bad options). */
static inline int usn_app_device_option(const char *prog, struct usn_config *cfg, const struct option *opt,
					const char *arg)
{
	char err[256];
	if (usn_config_set(cfg, opt->name, arg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 2;
	}
	return 0;
}

/* Once the device is open (usn_stack_create), nothing more needs a
 * privilege: the TAP needed CAP_NET_ADMIN to be created, the AF_PACKET
 * socket CAP_NET_RAW to be opened, and both are held as descriptors now
 * (AF_XDP keeps CAP_NET_ADMIN, see below). DPDK needed CAP_NET_RAW in
 * rte_eal_init for net_af_packet's socket (a NIC: its vfio device, opened
 * then too) and needs nothing after: its EAL threads are its own business
 * (dev_dpdk.c drops the interrupt thread's capabilities; with --no-shconf
 * and --no-telemetry there is no other). So every capability is dropped (effective, permitted, inheritable,
 * bounding), no exec can gain one back (PR_SET_NO_NEW_PRIVS), and with
 * --user the process becomes that user (its group, no supplementary
 * groups) through libcap-ng. Returns 0, or 1 with a message. */
static inline int usn_app_drop_privileges(const char *prog, const struct usn_config *cfg)
{
	capng_clear(CAPNG_SELECT_BOTH);
	/* An AF_XDP device detaches its XDP program when the stack closes
	 * it, which takes CAP_NET_ADMIN: that one is kept. */
	/* So does an address shared with the kernel (mode b): its nftables
	 * table is removed and the kernel asked to resolve neighbours. */
	if (strncmp(cfg->dev, "afxdp:", 6) == 0 || cfg->shared_lo != 0)
		capng_update(CAPNG_ADD, (capng_type_t)(CAPNG_EFFECTIVE | CAPNG_PERMITTED), CAP_NET_ADMIN);
	if (cfg->user[0]) {
		struct passwd *pw = getpwnam(cfg->user);
		if (!pw) {
			fprintf(stderr, "%s: --user: no user named '%s'\n", prog, cfg->user);
			return 1;
		}
		int rc = capng_change_id((int)pw->pw_uid, (int)pw->pw_gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
		if (rc < 0) {
			fprintf(stderr, "%s: --user %s: cannot switch to uid %u (libcap-ng error %d)\n", prog, cfg->user,
				(unsigned)pw->pw_uid, rc);
			return 1;
		}
	} else {
		/* The bounding set needs CAP_SETPCAP to change: try with it,
		 * else the sets alone (dropping is always allowed). */
		if (capng_apply(CAPNG_SELECT_BOTH) < 0 && capng_apply(CAPNG_SELECT_CAPS) < 0) {
			fprintf(stderr, "%s: cannot drop capabilities: %s\n", prog, strerror(errno));
			return 1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "%s: PR_SET_NO_NEW_PRIVS: %s\n", prog, strerror(errno));
		return 1;
	}
	return 0;
}

/* Pins thread t to CPU index mod the CPUs online (--cores). */
static inline void usn_app_pin(pthread_t t, int index)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET((int)(index % ncpu), &set);
	pthread_setaffinity_np(t, sizeof(set), &set);
}

/* Runs serve(inst[i]) for each of n instances (--cores): instance 0 in the
 * calling thread, the others in threads of their own, each pinned to a CPU
 * when n > 1; returns when all have returned. If a thread cannot start,
 * *quit is set so the ones running stop too. */
static inline void usn_app_run_instances(const char *prog, void *const *inst, int n, void *(*serve)(void *),
					 volatile sig_atomic_t *quit)
{
	pthread_t *tid = n > 1 ? calloc((size_t)n, sizeof(*tid)) : NULL;
	int started = 1;
	if (tid) {
		usn_app_pin(pthread_self(), 0);
		for (; started < n; started++) {
			if (pthread_create(&tid[started], NULL, serve, inst[started]) != 0) {
				fprintf(stderr, "%s: cannot start instance %d\n", prog, started);
				*quit = 1;
				break;
			}
			usn_app_pin(tid[started], started);
		}
	} else if (n > 1) {
		fprintf(stderr, "%s: out of memory: running one instance of %d\n", prog, n);
	}
	serve(inst[0]);
	for (int i = 1; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
}

/* For a program that runs one stack instance only: --cores above 1 is
 * refused (exit status 2). */
static inline int usn_app_one_instance(const char *prog, const struct usn_config *cfg)
{
	if (cfg->queues > 1) {
		fprintf(stderr, "%s: --cores %u: this program runs one instance (usnet-httpd and usnet-dnsd run several)\n",
			prog, (unsigned)cfg->queues);
		return 2;
	}
	return 0;
}

static inline int usn_app_require_device(const char *prog, const struct usn_config *cfg)
{
	if (!cfg->dev[0] || !cfg->addr) {
		fprintf(stderr, "%s: --dev and --addr are required; try --help\n", prog);
		return 2;
	}
	return 0;
}

#endif
