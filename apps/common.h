/* SPDX-License-Identifier: MIT */
/*
 * common.h - what every usnet program shares: the device options
 * (--dev, --addr, --gw, --pcap, --seed, --nbufs, --log-level) on the command
 * line through usn_config_set(), so that each program parses and reports
 * them the same way. Public API only.
 */
#ifndef USNET_APPS_COMMON_H
#define USNET_APPS_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <usnet/usnet.h>

#define USN_APP_DEVICE_OPTIONS                                                                          \
	{"dev", required_argument, NULL, 0x100}, {"addr", required_argument, NULL, 0x100},             \
		{"gw", required_argument, NULL, 0x100}, {"pcap", required_argument, NULL, 0x100},      \
		{"seed", required_argument, NULL, 0x100}, {"nbufs", required_argument, NULL, 0x100},   \
		{"log-level", required_argument, NULL, 0x100}

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

static inline int usn_app_require_device(const char *prog, const struct usn_config *cfg)
{
	if (!cfg->dev[0] || !cfg->addr) {
		fprintf(stderr, "%s: --dev and --addr are required; try --help\n", prog);
		return 2;
	}
	return 0;
}

#endif
