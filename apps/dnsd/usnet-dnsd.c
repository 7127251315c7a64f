// SPDX-License-Identifier: MIT
/*
 * usnet-dnsd - an authoritative DNS server linked with the usnet stack
 * (library OS):
 *   usnet-dnsd [device options] --zone FILE [--zone FILE ...] [--port 53]
 *              [--rrl N]
 * Zones are loaded at start (db.c, master files read with ldns) and every
 * answer is compiled to wire form then, so a query is parsed, looked up and
 * answered by copying (answer.c) without allocation. UDP and TCP (RFC 7766:
 * two-byte length framing, several queries per connection answered in
 * order, pipelined or not, an idle timeout). Response rate limiting per
 * /24 source prefix (--rrl, off by default): over the rate, UDP answers are
 * dropped, every second one "slipped" as an empty truncated answer so a
 * real client behind a spoofed flood retries over TCP.
 * SIGUSR1 prints the counters, SIGINT/SIGTERM stop it (exit 0).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"
#include "db.h"

#define TCP_MAX_CONNS 512
#define TCP_IDLE_MS 10000    /* RFC 7766 §6.2.3: seconds, not minutes, when busy */
#define TCP_OUT_MAX (256 * 1024) /* unsent answers before a connection stops being read */
#define RRL_SLOTS 4096
#define UDP_RCVBUF (1 << 20) /* bytes; the stack doubles it, as Linux */

/* Set by signals; read by every instance's loop. Each SIGUSR1 bumps
 * stats_gen, and each instance prints once per new value. */
static volatile sig_atomic_t stats_gen, want_quit;
static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		stats_gen++;
	else
		want_quit = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct tconn {
	struct tconn *prev, *next;
	int sd;
	uint64_t last_ms;
	bool eof; /* the client sent its last query: close once answered */
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	uint8_t in[2 + 65535];
};

struct rrl_slot {
	uint32_t prefix; /* /24, +1 so that 0 is free */
	uint32_t over;   /* answers refused in a row (for the slip) */
	double tokens;
	uint64_t last_ms;
};

struct server {
	int index, ninst; /* instance of --cores */
	sig_atomic_t stats_seen;
	struct usn_stack *s;
	struct dns_db *db;
	int usd, lsd;
	struct tconn *conns;
	unsigned nconns;
	unsigned rrl_rate; /* 0: off */
	struct rrl_slot *rrl;
	uint8_t rrl_key[crypto_shorthash_KEYBYTES];
	/* counters */
	uint64_t q_udp, q_tcp, rcode[17], truncated, dropped, rrl_dropped, rrl_slipped, conns_total, conns_refused;
	uint8_t out[65535 + 2];
	uint8_t in[65536];
};

static void count(struct server *sv, const struct dns_result *r, size_t n)
{
	if (n == 0 || r->rcode < 0) {
		sv->dropped++;
		return;
	}
	if (r->rcode <= 16)
		sv->rcode[r->rcode]++;
	if (r->truncated)
		sv->truncated++;
}

static void print_stats(struct server *sv)
{
	pthread_mutex_lock(&print_mu);
	if (sv->ninst > 1)
		printf("usnet-dnsd[%d]: ", sv->index);
	else
		printf("usnet-dnsd: ");
	printf("queries udp %llu tcp %llu; answers NOERROR %llu FORMERR %llu SERVFAIL %llu NXDOMAIN %llu "
	       "NOTIMP %llu REFUSED %llu BADVERS %llu; truncated %llu; dropped %llu; rrl dropped %llu slipped %llu; "
	       "tcp connections open %u total %llu\n",
	       (unsigned long long)sv->q_udp, (unsigned long long)sv->q_tcp, (unsigned long long)sv->rcode[0],
	       (unsigned long long)sv->rcode[1], (unsigned long long)sv->rcode[2], (unsigned long long)sv->rcode[3],
	       (unsigned long long)sv->rcode[4], (unsigned long long)sv->rcode[5], (unsigned long long)sv->rcode[16],
	       (unsigned long long)sv->truncated, (unsigned long long)sv->dropped,
	       (unsigned long long)sv->rrl_dropped, (unsigned long long)sv->rrl_slipped, sv->nconns,
	       (unsigned long long)sv->conns_total);
	usn_stack_print_counters(sv->s, stdout, 0);
	fflush(stdout);
	pthread_mutex_unlock(&print_mu);
}

/* ---- response rate limiting ---- */

enum rrl_verdict { RRL_SEND, RRL_DROP, RRL_SLIP };

static enum rrl_verdict rrl_check(struct server *sv, const struct usn_addr *from, uint64_t now)
{
	if (!sv->rrl_rate)
		return RRL_SEND;
	uint32_t prefix = (from->ip.v4 >> 8) + 1;
	uint8_t h[crypto_shorthash_BYTES];
	/* Keyed (SipHash): a flood cannot aim all its prefixes at one slot. */
	crypto_shorthash(h, (const unsigned char *)&prefix, sizeof(prefix), sv->rrl_key);
	uint32_t idx;
	memcpy(&idx, h, sizeof(idx));
	struct rrl_slot *sl = &sv->rrl[idx % RRL_SLOTS];
	if (sl->prefix != prefix) {
		sl->prefix = prefix;
		sl->tokens = sv->rrl_rate;
		sl->last_ms = now;
		sl->over = 0;
	}
	sl->tokens += (double)(now - sl->last_ms) * sv->rrl_rate / 1000.0;
	if (sl->tokens > sv->rrl_rate)
		sl->tokens = sv->rrl_rate;
	sl->last_ms = now;
	if (sl->tokens >= 1.0) {
		sl->tokens -= 1.0;
		sl->over = 0;
		return RRL_SEND;
	}
	return (++sl->over % 2 == 0) ? RRL_SLIP : RRL_DROP;
}

/* An answer cut to its header and question, TC set: "ask again over TCP". */
static size_t make_slip(uint8_t *resp, size_t len)
{
	size_t pos = DNS_HDR_LEN;
	if (len < DNS_HDR_LEN || dns_get16(resp + 4) != 1 || dns_read_name(resp, len, &pos, NULL) < 0 ||
	    pos + 4 > len)
		return 0;
	pos += 4;
	dns_put16(resp + 2, dns_get16(resp + 2) | DNS_TC);
	memset(resp + 6, 0, 6);
	return pos;
}

/* ---- UDP ---- */

static void udp_run(struct server *sv, uint64_t now)
{
	uint8_t *in = sv->in;
	for (int budget = 0; budget < 256; budget++) {
		struct usn_addr from;
		ssize_t n = usn_recvfrom(sv->s, sv->usd, in, sizeof(sv->in), 0, &from);
		if (n < 0)
			break;
		sv->q_udp++;
		struct dns_result r;
		size_t len = dns_answer(sv->db, in, (size_t)n, DNS_UDP_MAX, sv->out, sizeof(sv->out), &r);
		count(sv, &r, len);
		if (len == 0)
			continue;
		switch (rrl_check(sv, &from, now)) {
		case RRL_SEND:
			break;
		case RRL_DROP:
			sv->rrl_dropped++;
			continue;
		case RRL_SLIP:
			sv->rrl_slipped++;
			len = make_slip(sv->out, len);
			if (len == 0)
				continue;
			break;
		}
		usn_sendto(sv->s, sv->usd, sv->out, len, 0, &from);
	}
}

/* ---- TCP ---- */

static void conn_free(struct server *sv, struct tconn *c)
{
	usn_close(sv->s, c->sd);
	if (c->prev)
		c->prev->next = c->next;
	else
		sv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sv->nconns--;
	free(c->out);
	free(c);
}

/* Sends what is queued; false when the connection failed. */
static bool conn_flush(struct server *sv, struct tconn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = usn_send(sv->s, c->sd, c->out + c->out_off, c->out_len - c->out_off, 0);
		if (w == -EAGAIN)
			return true;
		if (w < 0)
			return false;
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	return true;
}

static bool conn_queue(struct tconn *c, const uint8_t *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_len + n > c->out_cap) {
			size_t cap = c->out_cap ? c->out_cap * 2 : 4096;
			while (cap < c->out_len + n)
				cap *= 2;
			uint8_t *o = realloc(c->out, cap);
			if (!o)
				return false;
			c->out = o;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return true;
}

/* Reads and answers what has arrived; false to close the connection. */
static bool conn_run(struct server *sv, struct tconn *c, uint64_t now)
{
	if (!conn_flush(sv, c))
		return false;
	if (c->eof)
		return c->out_len > c->out_off; /* until the last answer is out */
	for (;;) {
		if (c->out_len - c->out_off > TCP_OUT_MAX)
			return true; /* the client is not reading: wait */
		ssize_t n = usn_recv(sv->s, c->sd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (n == -EAGAIN)
			break;
		if (n == 0) {
			c->eof = true;
			return c->out_len > c->out_off;
		}
		if (n < 0)
			return false;
		c->in_len += (size_t)n;
		c->last_ms = now;
		/* RFC 1035 §4.2.2, RFC 7766 §8: each message after its
		 * two-byte length, answered in order. */
		size_t off = 0;
		while (c->in_len - off >= 2) {
			size_t mlen = dns_get16(c->in + off);
			if (mlen == 0)
				return false; /* nothing to parse, nothing to say */
			if (c->in_len - off < 2 + mlen)
				break;
			sv->q_tcp++;
			struct dns_result r;
			size_t len = dns_answer(sv->db, c->in + off + 2, mlen, 0, sv->out + 2, sizeof(sv->out) - 2, &r);
			count(sv, &r, len);
			off += 2 + mlen;
			if (len == 0)
				continue;
			dns_put16(sv->out, (uint16_t)len);
			if (!conn_queue(c, sv->out, len + 2))
				return false;
		}
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
		if (!conn_flush(sv, c))
			return false;
	}
	return true;
}

static void accept_all(struct server *sv, uint64_t now)
{
	for (;;) {
		int sd = usn_accept(sv->s, sv->lsd, NULL);
		if (sd < 0)
			break;
		sv->conns_total++;
		struct tconn *c = sv->nconns < TCP_MAX_CONNS ? malloc(sizeof(*c)) : NULL;
		if (!c) {
			sv->conns_refused++;
			usn_close(sv->s, sd);
			continue;
		}
		memset(c, 0, offsetof(struct tconn, in));
		c->sd = sd;
		c->last_ms = now;
		c->next = sv->conns;
		if (sv->conns)
			sv->conns->prev = c;
		sv->conns = c;
		sv->nconns++;
		usn_socket_set_udata(sv->s, sd, c);
		if (!conn_run(sv, c, now))
			conn_free(sv, c);
	}
}

static void sweep(struct server *sv, uint64_t now)
{
	struct tconn *next;
	for (struct tconn *c = sv->conns; c; c = next) {
		next = c->next;
		if (now - c->last_ms >= TCP_IDLE_MS)
			conn_free(sv, c);
	}
}

/* One instance's loop, until SIGINT or SIGTERM. */
static void *serve(void *arg)
{
	struct server *sv = arg;
	uint64_t last_sweep = now_ms();
	while (!want_quit) {
		if (sv->stats_seen != stats_gen) {
			sv->stats_seen = stats_gen;
			print_stats(sv);
		}
		int n = usn_stack_poll(sv->s, 1000);
		uint64_t now = now_ms();
		if (n > 0) {
			struct usn_event ev[256];
			int k;
			while ((k = usn_events(sv->s, ev, 256)) > 0) {
				for (int i = 0; i < k; i++) {
					if (ev[i].sd == sv->usd)
						udp_run(sv, now);
					else if (ev[i].sd == sv->lsd)
						accept_all(sv, now);
					else if (ev[i].udata && !conn_run(sv, ev[i].udata, now))
						conn_free(sv, ev[i].udata);
				}
			}
			/* a burst larger than one run's budget */
			if (usn_socket_poll(sv->s, sv->usd) & USN_EV_IN)
				udp_run(sv, now);
		}
		if (now - last_sweep >= 1000) {
			last_sweep = now;
			sweep(sv, now);
		}
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usnet-dnsd [device options] --zone FILE [--zone FILE ...] [--port 53] [--rrl N]\n"
		"An authoritative DNS server on usnet, answering from zones loaded at start.\n"
		"SIGUSR1 prints counters, SIGINT/SIGTERM stop it.\n\n%s"
		"  --zone FILE         a zone in master file format (RFC 1035 §5); its name is its SOA's\n"
		"                      owner; NAME=FILE names it (relative names before any $ORIGIN)\n"
		"  --port N            UDP and TCP port (default 53)\n"
		"  --rrl N             response rate limit: N answers a second per /24 source (off)\n"
		"  -h, --help          this text\n"
		"  -V, --version       the version\n",
		usn_config_usage());
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		USN_APP_DEVICE_OPTIONS,
		{"zone", required_argument, NULL, 'z'},
		{"port", required_argument, NULL, 'P'},
		{"rrl", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	unsigned rrl_rate = 0;
	struct usn_config cfg;
	usn_config_init(&cfg);
	long port = 53;
	const char *zones[256];
	int nzones = 0;
	int c, idx, rc;
	while ((c = getopt_long(argc, argv, "hV", opts, &idx)) != -1) {
		char *end;
		switch (c) {
		case 'z':
			if (nzones == 256) {
				fprintf(stderr, "usnet-dnsd: at most 256 --zone options\n");
				return 2;
			}
			zones[nzones++] = optarg;
			break;
		case 'P':
			port = strtol(optarg, &end, 10);
			if (*end || port < 1 || port > 65535) {
				fprintf(stderr, "usnet-dnsd: --port: expected 1..65535, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'R': {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 10000000) {
				fprintf(stderr, "usnet-dnsd: --rrl: expected 0..10000000 answers a second, got '%s'\n",
					optarg);
				return 2;
			}
			rrl_rate = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("usnet-dnsd (usnet) %s\n", USNET_VERSION);
			return 0;
		case 0x100:
			if ((rc = usn_app_device_option("usnet-dnsd", &cfg, &opts[idx], optarg)) != 0)
				return rc;
			break;
		default:
			fprintf(stderr, "usnet-dnsd: try --help\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usnet-dnsd: unexpected argument '%s'; try --help\n", argv[optind]);
		return 2;
	}
	if (nzones == 0) {
		fprintf(stderr, "usnet-dnsd: at least one --zone FILE is required; try --help\n");
		return 2;
	}
	if ((rc = usn_app_require_device("usnet-dnsd", &cfg)) != 0)
		return rc;
	if (sodium_init() < 0) {
		fprintf(stderr, "usnet-dnsd: libsodium failed to initialise\n");
		return 1;
	}
	/* Zones first: a bad one stops the server before it answers. */
	struct dns_db *db = dns_db_new();
	if (!db) {
		fprintf(stderr, "usnet-dnsd: out of memory\n");
		return 1;
	}
	snprintf(db->version, sizeof(db->version), "usnet-dnsd %s", USNET_VERSION);
	/* CH id.server / hostname.bind: the host's name, as NSD's default
	 * identity. */
	if (gethostname(db->identity, sizeof(db->identity) - 1) < 0)
		snprintf(db->identity, sizeof(db->identity), "usnet-dnsd");
	char err[512];
	for (int i = 0; i < nzones; i++) {
		char name[1024];
		const char *file = zones[i], *origin = NULL;
		const char *eq = strchr(zones[i], '=');
		FILE *probe = fopen(zones[i], "r");
		if (probe) {
			fclose(probe);
		} else if (eq && (size_t)(eq - zones[i]) < sizeof(name)) {
			memcpy(name, zones[i], (size_t)(eq - zones[i]));
			name[eq - zones[i]] = '\0';
			origin = name;
			file = eq + 1;
		}
		if (dns_db_load(db, file, origin, err, sizeof(err)) < 0) {
			fprintf(stderr, "usnet-dnsd: %s\n", err);
			dns_db_free(db);
			return 1;
		}
	}
	if (dns_db_compile(db, err, sizeof(err)) < 0) {
		fprintf(stderr, "usnet-dnsd: %s\n", err);
		dns_db_free(db);
		return 1;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The instances (--cores): each its own stack on its own queue of
	 * the device, all with the first one's MAC, the zones shared (they
	 * are only read). Devices are opened while privileges last. */
	int ninst = cfg.queues ? cfg.queues : 1, made = 0;
	struct server **inst = calloc((size_t)ninst, sizeof(*inst));
	if (!inst) {
		fprintf(stderr, "usnet-dnsd: out of memory\n");
		dns_db_free(db);
		return 1;
	}
	struct usn_addr any = usn_addr_v4(0, (uint16_t)port);
	for (; made < ninst; made++) {
		struct server *x = calloc(1, sizeof(*x));
		if (!x || (rrl_rate && !(x->rrl = calloc(RRL_SLOTS, sizeof(*x->rrl))))) {
			fprintf(stderr, "usnet-dnsd: out of memory\n");
			free(x);
			goto fail;
		}
		inst[made] = x;
		x->index = made;
		x->ninst = ninst;
		x->db = db;
		x->rrl_rate = rrl_rate;
		randombytes_buf(x->rrl_key, sizeof(x->rrl_key));
		struct usn_config ci = cfg;
		ci.queue = (uint16_t)made;
		if (made > 0) {
			usn_stack_mac(inst[0]->s, ci.mac);
			ci.mac_set = 1;
		}
		rc = usn_stack_create(&ci, &x->s, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "usnet-dnsd: %s\n", err[0] ? err : strerror(-rc));
			goto fail;
		}
		x->usd = usn_socket(x->s, USN_SOCK_DGRAM);
		x->lsd = usn_socket(x->s, USN_SOCK_STREAM);
		if (x->usd < 0 || x->lsd < 0 || (rc = usn_bind(x->s, x->usd, &any)) < 0 ||
		    (rc = usn_bind(x->s, x->lsd, &any)) < 0 || (rc = usn_listen(x->s, x->lsd, 1024)) < 0) {
			fprintf(stderr, "usnet-dnsd: cannot open port %ld: %s\n", port,
				strerror(x->usd < 0 ? -x->usd : x->lsd < 0 ? -x->lsd : -rc));
			goto fail;
		}
		/* One pass of the stack can deliver a burst of up to 256
		 * queries before the loop answers any, each held in a 2 KB
		 * buffer: the default receive buffer (Linux's 208 KB, about
		 * 100 of those) would drop the rest (UDP_DROP_RCVBUF_FULL). */
		int rcvbuf = UDP_RCVBUF;
		usn_setsockopt(x->s, x->usd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	/* Before any thread exists: capabilities are per thread. */
	if (usn_app_drop_privileges("usnet-dnsd", &cfg) != 0)
		goto fail;
	uint64_t records = 0;
	for (uint32_t i = 0; i < db->nzones; i++)
		records += db->zones[i]->nrecords;
	char abuf[32];
	struct usn_addr me = usn_addr_v4(cfg.addr, 0);
	fprintf(stderr, "usnet-dnsd: ready on %s %s/%u port %ld, %u zones, %llu records, %u names, %llu KB of answers%s\n",
		cfg.dev, usn_addr_format(&me, abuf, sizeof(abuf)), cfg.prefix_len, port, db->nzones,
		(unsigned long long)records, db->nnodes, (unsigned long long)(db->canned_bytes / 1024),
		ninst > 1 ? ", several instances" : "");
	usn_app_run_instances("usnet-dnsd", (void *const *)inst, ninst, serve, &want_quit);
	rc = 0;
	goto out;
fail:
	rc = 1;
out:
	for (int i = 0; i < ninst; i++) {
		struct server *x = inst[i];
		if (!x)
			continue;
		if (x->s && rc == 0)
			print_stats(x);
		while (x->conns)
			conn_free(x, x->conns);
		if (x->s)
			usn_stack_destroy(x->s);
		free(x->rrl);
		free(x);
	}
	free(inst);
	dns_db_free(db);
	return rc;
}
