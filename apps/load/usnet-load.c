// SPDX-License-Identifier: MIT
/*
 * usnet-load - a load generator on usnet, so that the client is not what
 * limits a benchmark (wrk and dnsperf use the kernel's stack and, on a
 * two-core machine, saturate their core before nginx or NSD do):
 *   usnet-load [device options] http URL|HOST:PORT [-c CONNS] [-d SECS | -n N]
 *              [--pipeline DEPTH] [--close] [-R RATE] [--path P] [--host H] ...
 *   usnet-load [device options] dns SERVER[:PORT] -f QUERYFILE [-c OUTSTANDING]
 *              [-Q RATE] [-d SECS | -n N] ...
 * It prints a summary like wrk's (or dnsperf's) and, with --json, the same
 * figures as one JSON object for the bench harness. One stack instance:
 * --cores is refused (see usage()). Exit status 0 when the run completed,
 * whatever errors it counted; 1 when it could not start or was
 * interrupted; 2 for bad options. The engines are load_http.c and
 * load_dns.c; this file holds the options and the report.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>

#include "../common.h"
#include "dnsq.h"
#include "load.h"

volatile sig_atomic_t load_quit;

static void on_signal(int sig)
{
	(void)sig;
	load_quit = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usnet-load [device options] http URL|HOST[:PORT] [options]\n"
		"       usnet-load [device options] dns SERVER[:PORT] -f QUERYFILE [options]\n"
		"A load generator on usnet: HTTP/1.1 (keep-alive with pipelining, or a connection\n"
		"per request) or DNS over UDP (closed or open loop), with latency percentiles\n"
		"from a histogram (1 ns .. 68 s, within 0.8 %%) and errors counted by kind.\n\n%s"
		"  (--cores is refused: replies are spread over instances by the kernel's flow\n"
		"  hash, which a client cannot steer back to the instance that opened the flow;\n"
		"  run one usnet-load per address instead)\n\n"
		"common:\n"
		"  -c, --connections N HTTP: connections (default 10); DNS: queries in flight (100)\n"
		"  -d, --duration T    run for T (\"10\", \"10s\", \"500ms\", \"1m\"; default 10s)\n"
		"  -n, --requests N    instead: exactly N requests (queries), answered or failed\n"
		"      --timeout MS    a request (query, connection attempt) fails after MS\n"
		"                      (default 2000 for HTTP, 5000 for DNS)\n"
		"      --warmup T      run T first without counting it (with -d only)\n"
		"      --json          the summary as one JSON object on stdout\n"
		"      --counters      then the stack's counters (non-zero ones) on stderr\n"
		"http: URL is http://A.B.C.D[:PORT][/PATH] (no names: no resolver on usnet)\n"
		"      --path PATH     the path asked (default: the URL's, or /)\n"
		"      --host HOST     the Host field (default: the URL's host[:port])\n"
		"      --pipeline N    requests in flight on each connection (default 1, max 1024)\n"
		"      --max-connecting N  connection attempts in progress at once (default\n"
		"                      1024; the others wait for their turn)\n"
		"      --close         one request per connection (\"Connection: close\"); the\n"
		"                      server closes first, so no TIME-WAIT holds our ports; what\n"
		"                      limits the rate is then the 28232 ephemeral ports\n"
		"                      (32768-60999) held by connections still open or closing:\n"
		"                      a server that does not close leaves a port in TIME-WAIT\n"
		"                      (60 s), and a connection attempt without a free port is\n"
		"                      counted as a 'ports' error\n"
		"  -R, --req-rate RPS  open loop: RPS requests a second over the connections, each\n"
		"                      to one with room (a request finding none waits: one stall\n"
		"                      counted until a connection has room again);\n"
		"                      latency then runs from the request's scheduled time\n"
		"      Errors: connect (refused, timeout, unreachable; an attempt counts as one\n"
		"      request), reset, timeout, parse, short (closed mid-response), ports, and\n"
		"      status (1xx final, 4xx, 5xx responses; still counted as responses).\n"
		"      Latency: from writing a request to the last byte of its response.\n"
		"dns:  QUERYFILE in dnsperf's format: \"NAME TYPE\" a line, # comments\n"
		"  -f, --file FILE     the queries, sent in order and again from the top\n"
		"  -Q, --rate QPS      open loop: QPS queries a second (-c bounds those in flight)\n"
		"      --sockets N     UDP sockets (source ports) to spread queries on (default 4)\n"
		"      A query unanswered after --timeout is lost; answers are matched by\n"
		"      socket, ID and question; ICMP port unreachable is counted as refused.\n"
		"  -h, --help          this text\n"
		"  -V, --version       the version\n",
		usn_config_usage());
}

/* "10", "10s", "500ms", "2m" into seconds; -1 when malformed. */
static double parse_duration(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "ms") == 0)
		return v / 1000;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0)
		return v * 3600;
	return -1;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *end || errno || s[0] == '-' || v < lo || v > hi)
		return -1;
	*ret = v;
	return 0;
}

/* A.B.C.D[:PORT] into *ret (port defport when absent). */
static int parse_hostport(const char *s, uint16_t defport, struct usn_addr *ret)
{
	if (usn_addr_parse(s, ret) < 0 || ret->ip.v4 == 0)
		return -1;
	if (ret->port == 0) {
		if (strchr(s, ':'))
			return -1;
		ret->port = defport;
	}
	return 0;
}

/* http://A.B.C.D[:PORT][/PATH] or A.B.C.D[:PORT]: server, Host, path. */
static int parse_url(const char *url, struct load_opts *o, bool path_set, bool host_set)
{
	const char *p = url;
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strstr(p, "://"))
		return -1;
	const char *slash = strchr(p, '/');
	size_t hlen = slash ? (size_t)(slash - p) : strlen(p);
	char hp[300];
	if (hlen == 0 || hlen >= sizeof(hp))
		return -1;
	memcpy(hp, p, hlen);
	hp[hlen] = '\0';
	if (parse_hostport(hp, 80, &o->server) < 0)
		return -1;
	if (!host_set) {
		if (o->server.port == 80 && strchr(hp, ':'))
			*strchr(hp, ':') = '\0';
		snprintf(o->host, sizeof(o->host), "%s", hp);
	}
	if (!path_set)
		snprintf(o->path, sizeof(o->path), "%s", slash ? slash : "/");
	return 0;
}

/* ---- the report ---- */

static void fmt_time(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000000)
		snprintf(buf, len, "%.2fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
}

static void fmt_bytes(char *buf, size_t len, double b)
{
	if (b < 1024)
		snprintf(buf, len, "%.0fB", b);
	else if (b < 1024 * 1024)
		snprintf(buf, len, "%.2fKB", b / 1024);
	else if (b < 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.2fMB", b / (1024 * 1024));
	else
		snprintf(buf, len, "%.2fGB", b / (1024.0 * 1024 * 1024));
}

static const double pcts[] = {50, 90, 99, 99.9};
static const char *const pct_names[] = {"p50", "p90", "p99", "p99.9"};

static void human_latency(const struct load_stats *st)
{
	char b[32];
	printf("  latency      ");
	for (size_t i = 0; i < 4; i++) {
		fmt_time(b, sizeof(b), hist_percentile(&st->hist, pcts[i]));
		printf("%s %s  ", pct_names[i], b);
	}
	fmt_time(b, sizeof(b), st->hist.max);
	printf("max %s  ", b);
	fmt_time(b, sizeof(b), hist_mean(&st->hist));
	printf("mean %s\n", b);
}

static void json_latency(const struct load_stats *st)
{
	printf("\"latency_us\":{");
	for (size_t i = 0; i < 4; i++)
		printf("\"%s\":%.3f,", pct_names[i], (double)hist_percentile(&st->hist, pcts[i]) / 1e3);
	printf("\"max\":%.3f,\"min\":%.3f,\"mean\":%.3f,\"samples\":%llu}", (double)st->hist.max / 1e3,
	       st->hist.total ? (double)st->hist.min / 1e3 : 0.0, (double)hist_mean(&st->hist) / 1e3,
	       (unsigned long long)st->hist.total);
}

#define U(x) ((unsigned long long)(x))

static void report_http(const struct load_opts *o, const struct load_stats *st, bool interrupted)
{
	double secs = st->duration_s, rps = (double)st->requests / secs, bps = (double)st->bytes / secs;
	uint64_t status_err = st->status_class[1] + st->status_class[4] + st->status_class[5];
	uint64_t errors = load_http_errors(st);
	if (o->json) {
		printf("{\"mode\":\"http\",\"target\":\"%s\",\"path\":\"", o->target);
		for (const char *p = o->path; *p; p++) /* the path may hold '"' or '\\' */
			printf(*p == '"' || *p == '\\' ? "\\%c" : (unsigned char)*p < 0x20 ? "?" : "%c", *p);
		printf("\",\"connections\":%u,\"pipeline\":%u,\"close\":%s,\"interrupted\":%s,"
		       "\"duration_s\":%.6f,\"requests\":%llu,\"requests_per_s\":%.1f,\"sent\":%llu,"
		       "\"connections_opened\":%llu,\"bytes\":%llu,\"bytes_per_s\":%.1f,\"body_bytes\":%llu,"
		       "\"rate\":%.1f,\"stalls\":%llu,",
		       o->conns, o->close ? 1 : o->depth, o->close ? "true" : "false", interrupted ? "true" : "false",
		       secs, U(st->requests), rps, U(st->sent), U(st->conns), U(st->bytes), bps, U(st->body_bytes),
		       o->rate, U(st->stalls));
		json_latency(st);
		printf(",\"status\":{\"1xx\":%llu,\"2xx\":%llu,\"3xx\":%llu,\"4xx\":%llu,\"5xx\":%llu}",
		       U(st->status_class[1]), U(st->status_class[2]), U(st->status_class[3]), U(st->status_class[4]),
		       U(st->status_class[5]));
		printf(",\"errors\":{\"total\":%llu,\"connect\":%llu,\"connect_refused\":%llu,\"connect_timeout\":%llu,"
		       "\"connect_unreachable\":%llu,\"reset\":%llu,\"timeout\":%llu,\"parse\":%llu,\"status\":%llu,"
		       "\"short\":%llu,\"ports\":%llu},\"drain_aborted\":%llu}\n",
		       U(errors), U(st->err_connect), U(st->err_connect_refused), U(st->err_connect_timeout),
		       U(st->err_connect_unreach), U(st->err_reset), U(st->err_timeout), U(st->err_parse),
		       U(status_err), U(st->err_short), U(st->err_ports), U(st->drain_aborted));
		return;
	}
	char b1[32];
	printf("usnet-load http %s%s: %u connections, %s, %.2f s%s\n", o->target, o->path, o->conns,
	       o->close ? "a connection per request" : o->depth > 1 ? "keep-alive, pipelined" : "keep-alive",
	       secs, interrupted ? " (interrupted)" : "");
	if (!o->close && o->depth > 1)
		printf("  pipeline     %u requests in flight per connection\n", o->depth);
	if (o->rate > 0)
		printf("  open loop    %.0f req/s scheduled, %llu stalls (no connection had room)\n", o->rate,
		       U(st->stalls));
	printf("  requests     %llu in %.2f s, %.1f req/s (%llu connections opened)\n", U(st->requests), secs,
	       rps, U(st->conns));
	fmt_bytes(b1, sizeof(b1), (double)st->bytes);
	char b2[32];
	fmt_bytes(b2, sizeof(b2), bps);
	printf("  transfer     %s, %s/s\n", b1, b2);
	human_latency(st);
	printf("  status       2xx %llu, 3xx %llu, 4xx %llu, 5xx %llu, 1xx %llu\n", U(st->status_class[2]),
	       U(st->status_class[3]), U(st->status_class[4]), U(st->status_class[5]), U(st->status_class[1]));
	printf("  errors       %llu: connect %llu (refused %llu, timeout %llu, unreachable %llu), reset %llu, "
	       "timeout %llu, parse %llu, status %llu, short %llu, ports %llu\n",
	       U(errors), U(st->err_connect), U(st->err_connect_refused), U(st->err_connect_timeout),
	       U(st->err_connect_unreach), U(st->err_reset), U(st->err_timeout), U(st->err_parse), U(status_err),
	       U(st->err_short), U(st->err_ports));
	if (st->drain_aborted)
		printf("  note         %llu connections reset: the server did not close within the timeout\n",
		       U(st->drain_aborted));
}

static void report_dns(const struct load_opts *o, const struct load_stats *st, bool interrupted)
{
	double secs = st->duration_s, qps = (double)st->requests / secs;
	if (o->json) {
		printf("{\"mode\":\"dns\",\"target\":\"%s\",\"outstanding\":%u,\"rate\":%.1f,\"sockets\":%u,"
		       "\"interrupted\":%s,\"duration_s\":%.6f,\"queries_sent\":%llu,\"queries_completed\":%llu,"
		       "\"requests\":%llu,\"queries_per_s\":%.1f,\"requests_per_s\":%.1f,\"bytes\":%llu,",
		       o->target, o->conns, o->rate, o->sockets, interrupted ? "true" : "false", secs, U(st->sent),
		       U(st->requests), U(st->requests), qps, qps, U(st->bytes));
		json_latency(st);
		printf(",\"rcode\":{");
		for (unsigned i = 0; i < LOAD_RCODES; i++) {
			const char *n = dnsq_rcode_name(i);
			if (n)
				printf("%s\"%s\":%llu", i ? "," : "", n, U(st->rcode[i]));
			else
				printf(",\"RCODE%u\":%llu", i, U(st->rcode[i]));
		}
		printf("},\"truncated\":%llu,\"errors\":{\"total\":%llu,\"lost\":%llu,\"icmp_refused\":%llu,"
		       "\"malformed\":%llu,\"unknown_id\":%llu,\"mismatch\":%llu,\"send\":%llu},\"stalls\":%llu}\n",
		       U(st->truncated), U(st->lost + st->malformed + st->mismatch + st->send_errors), U(st->lost),
		       U(st->icmp_refused), U(st->malformed), U(st->unknown_id), U(st->mismatch), U(st->send_errors),
		       U(st->stalls));
		return;
	}
	if (o->rate > 0)
		printf("usnet-load dns %s: open loop at %.0f qps, at most %u in flight, %.2f s%s\n", o->target, o->rate,
		       o->conns, secs, interrupted ? " (interrupted)" : "");
	else
		printf("usnet-load dns %s: closed loop, %u in flight, %.2f s%s\n", o->target, o->conns, secs,
		       interrupted ? " (interrupted)" : "");
	printf("  queries      %llu sent, %llu answered, %llu lost (%.2f %%), %.1f qps\n", U(st->sent),
	       U(st->requests), U(st->lost), st->sent ? 100.0 * (double)st->lost / (double)st->sent : 0.0, qps);
	human_latency(st);
	printf("  rcodes      ");
	for (unsigned i = 0; i < LOAD_RCODES; i++) {
		if (!st->rcode[i])
			continue;
		const char *n = dnsq_rcode_name(i);
		if (n)
			printf(" %s %llu", n, U(st->rcode[i]));
		else
			printf(" RCODE%u %llu", i, U(st->rcode[i]));
	}
	printf("\n  errors       lost %llu, icmp refused %llu, malformed %llu, unknown id %llu, mismatch %llu, "
	       "send %llu; truncated %llu; stalls %llu\n",
	       U(st->lost), U(st->icmp_refused), U(st->malformed), U(st->unknown_id), U(st->mismatch),
	       U(st->send_errors), U(st->truncated), U(st->stalls));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		USN_APP_DEVICE_OPTIONS,
		{"connections", required_argument, NULL, 'c'},
		{"duration", required_argument, NULL, 'd'},
		{"requests", required_argument, NULL, 'n'},
		{"file", required_argument, NULL, 'f'},
		{"rate", required_argument, NULL, 'Q'},
		{"req-rate", required_argument, NULL, 'R'},
		{"path", required_argument, NULL, 'p'},
		{"host", required_argument, NULL, 'H'},
		{"pipeline", required_argument, NULL, 'P'},
		{"close", no_argument, NULL, 'C'},
		{"max-connecting", required_argument, NULL, 'M'},
		{"timeout", required_argument, NULL, 'T'},
		{"warmup", required_argument, NULL, 'W'},
		{"sockets", required_argument, NULL, 'S'},
		{"json", no_argument, NULL, 'J'},
		{"counters", no_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct usn_config cfg;
	usn_config_init(&cfg);
	static struct load_opts o;
	o.depth = 1;
	o.max_connecting = 1024;
	o.sockets = 4;
	bool path_set = false, host_set = false, dur_set = false, timeout_set = false, depth_set = false;
	bool rate_set = false, sockets_set = false, req_rate_set = false, counters = false;
	int c, idx, rc;
	uint64_t v;
	while ((c = getopt_long(argc, argv, "c:d:n:f:Q:R:hV", opts, &idx)) != -1) {
		switch (c) {
		case 'c':
			if (parse_u64(optarg, 1, 1000000, &v) < 0) {
				fprintf(stderr, "usnet-load: -c: expected 1..1000000, got '%s'\n", optarg);
				return 2;
			}
			o.conns = (uint32_t)v;
			o.conns_set = true;
			break;
		case 'd':
			if ((o.duration_s = parse_duration(optarg)) <= 0) {
				fprintf(stderr, "usnet-load: -d: expected a duration such as 10, 10s, 500ms, 1m; got '%s'\n",
					optarg);
				return 2;
			}
			dur_set = true;
			break;
		case 'n':
			if (parse_u64(optarg, 1, UINT64_MAX / 2, &v) < 0) {
				fprintf(stderr, "usnet-load: -n: expected a count of at least 1, got '%s'\n", optarg);
				return 2;
			}
			o.count = v;
			break;
		case 'f':
			o.qfile = optarg;
			break;
		case 'Q':
		case 'R': {
			char *end;
			o.rate = strtod(optarg, &end);
			if (end == optarg || *end || !(o.rate > 0) || o.rate > 1e9) {
				fprintf(stderr, "usnet-load: -%c: expected %s a second (> 0), got '%s'\n", c,
					c == 'Q' ? "queries" : "requests", optarg);
				return 2;
			}
			if (c == 'Q')
				rate_set = true;
			else
				req_rate_set = true;
			break;
		}
		case 'p':
			if (optarg[0] != '/' || strlen(optarg) >= sizeof(o.path) || strpbrk(optarg, " \r\n")) {
				fprintf(stderr, "usnet-load: --path: expected /PATH without spaces, got '%s'\n", optarg);
				return 2;
			}
			snprintf(o.path, sizeof(o.path), "%s", optarg);
			path_set = true;
			break;
		case 'H':
			if (!optarg[0] || strlen(optarg) >= sizeof(o.host) || strpbrk(optarg, " \r\n")) {
				fprintf(stderr, "usnet-load: --host: expected a host name, got '%s'\n", optarg);
				return 2;
			}
			snprintf(o.host, sizeof(o.host), "%s", optarg);
			host_set = true;
			break;
		case 'P':
			if (parse_u64(optarg, 1, 1024, &v) < 0) {
				fprintf(stderr, "usnet-load: --pipeline: expected 1..1024, got '%s'\n", optarg);
				return 2;
			}
			o.depth = (uint32_t)v;
			depth_set = true;
			break;
		case 'C':
			o.close = true;
			break;
		case 'M':
			if (parse_u64(optarg, 1, 1000000, &v) < 0) {
				fprintf(stderr, "usnet-load: --max-connecting: expected 1..1000000, got '%s'\n", optarg);
				return 2;
			}
			o.max_connecting = (uint32_t)v;
			break;
		case 'T':
			if (parse_u64(optarg, 1, 60000, &v) < 0) {
				fprintf(stderr, "usnet-load: --timeout: expected 1..60000 ms, got '%s'\n", optarg);
				return 2;
			}
			o.timeout_ms = (uint32_t)v;
			timeout_set = true;
			break;
		case 'W':
			if ((o.warmup_s = parse_duration(optarg)) < 0) {
				fprintf(stderr, "usnet-load: --warmup: expected a duration such as 2s, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'S':
			if (parse_u64(optarg, 1, 64, &v) < 0) {
				fprintf(stderr, "usnet-load: --sockets: expected 1..64, got '%s'\n", optarg);
				return 2;
			}
			o.sockets = (uint32_t)v;
			sockets_set = true;
			break;
		case 'J':
			o.json = true;
			break;
		case 'K':
			counters = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("usnet-load (usnet) %s\n", USNET_VERSION);
			return 0;
		case 0x100:
			if ((rc = usn_app_device_option("usnet-load", &cfg, &opts[idx], optarg)) != 0)
				return rc;
			break;
		default:
			fprintf(stderr, "usnet-load: try --help\n");
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usnet-load: give a mode and a target: http URL, or dns SERVER[:PORT]; try --help\n");
		return 2;
	}
	if (argc - optind > 2) {
		fprintf(stderr, "usnet-load: unexpected argument '%s'; try --help\n", argv[optind + 2]);
		return 2;
	}
	const char *mode = argv[optind], *target = argv[optind + 1];
	snprintf(o.target, sizeof(o.target), "%s", target);
	if (strcmp(mode, "http") == 0) {
		o.mode = LOAD_HTTP;
		if (parse_url(target, &o, path_set, host_set) < 0) {
			fprintf(stderr, "usnet-load: http: expected http://A.B.C.D[:PORT][/PATH] or A.B.C.D[:PORT], got '%s'\n",
				target);
			return 2;
		}
		char a[32];
		usn_addr_format(&o.server, a, sizeof(a));
		snprintf(o.target, sizeof(o.target), "%s", a);
		if (o.qfile || rate_set || sockets_set) {
			fprintf(stderr, "usnet-load: %s is for dns mode only\n",
				o.qfile ? "-f" : rate_set ? "-Q" : "--sockets");
			return 2;
		}
		if (o.close && depth_set && o.depth > 1) {
			fprintf(stderr, "usnet-load: --pipeline %u: --close sends one request per connection\n", o.depth);
			return 2;
		}
		if (!o.conns_set)
			o.conns = 10;
		if (!timeout_set)
			o.timeout_ms = 2000;
	} else if (strcmp(mode, "dns") == 0) {
		o.mode = LOAD_DNS;
		if (req_rate_set) {
			fprintf(stderr, "usnet-load: -R is for http mode only (dns: -Q)\n");
			return 2;
		}
		if (parse_hostport(target, 53, &o.server) < 0) {
			fprintf(stderr, "usnet-load: dns: expected SERVER as A.B.C.D[:PORT], got '%s'\n", target);
			return 2;
		}
		if (!o.qfile) {
			fprintf(stderr, "usnet-load: dns: -f QUERYFILE is required\n");
			return 2;
		}
		if (path_set || host_set || depth_set || o.close) {
			fprintf(stderr, "usnet-load: %s is for http mode only\n",
				path_set ? "--path" : host_set ? "--host" : depth_set ? "--pipeline" : "--close");
			return 2;
		}
		if (!timeout_set)
			o.timeout_ms = 5000;
		if (!o.conns_set) {
			/* Open loop: room for what the timeout can hold. */
			o.conns = 100;
			if (rate_set) {
				double want = o.rate * o.timeout_ms / 1000.0;
				o.conns = want < 100 ? 100 : want > o.sockets * (double)DNSQ_IDS_PER_SOCKET
									    ? o.sockets * DNSQ_IDS_PER_SOCKET
									    : (uint32_t)want;
			}
		}
		if (o.conns > o.sockets * DNSQ_IDS_PER_SOCKET) {
			fprintf(stderr, "usnet-load: -c %u: at most %u queries in flight over %u sockets (--sockets)\n",
				o.conns, o.sockets * DNSQ_IDS_PER_SOCKET, o.sockets);
			return 2;
		}
	} else {
		fprintf(stderr, "usnet-load: unknown mode '%s': http or dns\n", mode);
		return 2;
	}
	if (dur_set && o.count) {
		fprintf(stderr, "usnet-load: -d and -n: give one of them\n");
		return 2;
	}
	if (!dur_set && !o.count)
		o.duration_s = 10;
	if (o.warmup_s > 0 && o.count) {
		fprintf(stderr, "usnet-load: --warmup goes with -d, not -n (the count would not be exact)\n");
		return 2;
	}
	if ((rc = usn_app_require_device("usnet-load", &cfg)) != 0)
		return rc;
	if (cfg.queues > 1) {
		fprintf(stderr, "usnet-load: --cores %u: usnet-load runs one instance (replies would reach an instance "
				"by the kernel's flow hash, not the one that opened the flow); run one per address\n",
			(unsigned)cfg.queues);
		return 2;
	}
	if (o.mode == LOAD_DNS) {
		/* A bad query file is an option error: found before the device opens. */
		struct dnsq_file qf;
		char err[512];
		if (dnsq_file_load(o.qfile, &qf, err, sizeof(err)) < 0) {
			fprintf(stderr, "usnet-load: -f: %s\n", err);
			return 2;
		}
		dnsq_file_free(&qf);
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char err[256];
	struct usn_stack *s;
	rc = usn_stack_create(&cfg, &s, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "usnet-load: %s\n", err[0] ? err : strerror(-rc));
		return 1;
	}
	if (usn_app_drop_privileges("usnet-load", &cfg) != 0) {
		usn_stack_destroy(s);
		return 1;
	}
	struct load_stats *st = calloc(1, sizeof(*st));
	if (!st) {
		usn_stack_destroy(s);
		return 1;
	}
	if (!o.json)
		fprintf(stderr, "usnet-load: %s %s from %s, %s\n", mode, o.target, cfg.dev,
			o.count ? "counting requests" : "timed");
	rc = o.mode == LOAD_HTTP ? load_http_run(s, &o, st) : load_dns_run(s, &o, st);
	if (rc == 0) {
		if (o.mode == LOAD_HTTP)
			report_http(&o, st, load_quit != 0);
		else
			report_dns(&o, st, load_quit != 0);
		fflush(stdout);
	}
	if (counters)
		usn_stack_print_counters(s, stderr, 0);
	free(st);
	usn_stack_destroy(s);
	return rc < 0 || load_quit ? 1 : 0;
}
