/* SPDX-License-Identifier: MIT */
/*
 * usnet-run - runs an unmodified program with the usnet socket shim
 * (libusnet-preload.so) preloaded, so that its sockets that belong on
 * usnet reach usnetd (src/shim/preload.c says which).
 *
 *   usnet-run [--socket PATH] PROGRAM [ARGS...]
 *
 * The shim is found at USNET_PRELOAD if set, else where it was installed.
 * An LD_PRELOAD the program already had is kept, after the shim.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: usnet-run [--socket PATH] PROGRAM [ARGS...]\n"
		   "Runs PROGRAM with its TCP sockets on usnet, through usnetd.\n"
		   "  --socket PATH   usnetd's socket (default: $USNET_SOCKET, else /run/usnet/usnetd.sock)\n"
		   "  -h, --help      this text\n"
		   "  -V, --version   the version\n"
		   "environment: USNET_PRELOAD, the shim to load (default %s)\n",
		USNET_PRELOAD_PATH);
}

int main(int argc, char **argv)
{
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("usnet-run (usnet) %s\n", USNET_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			setenv("USNET_SOCKET", argv[i + 1], 1);
			i += 2;
			continue;
		}
		fprintf(stderr, "usnet-run: unknown option '%s'; try --help\n", argv[i]);
		return 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *shim = getenv("USNET_PRELOAD");
	if (!shim || !*shim)
		shim = USNET_PRELOAD_PATH;
	if (access(shim, R_OK) != 0) {
		fprintf(stderr, "usnet-run: the shim %s: %s\n", shim, strerror(errno));
		return 1;
	}
	const char *old = getenv("LD_PRELOAD");
	size_t n = strlen(shim) + (old ? strlen(old) + 1 : 0) + 1;
	char *pre = malloc(n);
	if (!pre)
		return 1;
	snprintf(pre, n, "%s%s%s", shim, old && *old ? ":" : "", old && *old ? old : "");
	setenv("LD_PRELOAD", pre, 1);
	execvp(argv[i], argv + i);
	fprintf(stderr, "usnet-run: %s: %s\n", argv[i], strerror(errno));
	return 127;
}
