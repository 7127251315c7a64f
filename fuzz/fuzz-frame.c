// SPDX-License-Identifier: MIT
/*
 * fuzz-frame.c - frames into a whole stack, through the same seam the I/O
 * backends use: the fuzzer is the peer at the far end of an in-memory link
 * and the stack receives with rx_burst as it would from a TAP.
 *
 * Input: a sequence of records [u16 length][u8 time step][length bytes],
 * each a frame sent to the stack, after which virtual time moves by
 * (time step)^2 ms so ARP, reassembly and ICMP rate-limit timers run too.
 * The stack owns 10.77.0.2/24 and has a UDP echo socket on port 7 that
 * answers everything, so its output path runs as well.
 *
 * Checked after every input: no crash or sanitizer report, and once the
 * traffic stops and every timeout has passed, the stack's buffer pool is
 * back to its baseline (nothing leaked). abort() otherwise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev_mem.h"
#include "stack.h"
#include "usnet/usnet.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void step(struct usn_stack *s, struct usn_dev *peer, uint64_t *now, uint64_t dt, int sd)
{
	uint8_t buf[2048];
	*now += dt;
	usn_stack_set_time(s, *now);
	usn_stack_run(s);
	for (;;) {
		struct usn_addr from;
		ssize_t n = usn_recvfrom(s, sd, buf, sizeof(buf), 0, &from);
		if (n == -EAGAIN)
			break;
		if (n >= 0)
			usn_sendto(s, sd, buf, (size_t)n, 0, &from);
	}
	usn_stack_run(s);
	/* Drain what the stack sent, as a peer would. */
	uint32_t got[64];
	int k;
	while ((k = usn_dev_rx_burst(peer, got, 64, *now)) > 0)
		for (int i = 0; i < k; i++)
			usn_buf_free(peer->pool, got[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usn_config cfg;
	usn_config_init(&cfg);
	cfg.addr = 0x0a4d0002u;
	cfg.prefix_len = 24;
	cfg.seed = 1;
	cfg.nbufs = 512;
	cfg.virtual_time = 1;
	cfg.log_level = 0;
	char err[256];
	struct usn_stack *s;
	if (usn_stack_create(&cfg, &s, err, sizeof(err)) < 0)
		abort();
	struct usn_pool peer_pool;
	if (usn_pool_init(&peer_pool, 256, 2048, 128) < 0)
		abort();
	struct usn_memlink *link;
	struct usn_dev *da, *db;
	if (usn_memlink_create(&s->pool, &peer_pool, 1, &link, &da, &db) < 0)
		abort();
	uint32_t base = usn_pool_in_use(&s->pool);
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 2};
	usn_stack_attach_dev(s, da, mac);
	int sd = usn_socket(s, USN_SOCK_DGRAM);
	struct usn_addr any7 = usn_addr_v4(0, 7);
	usn_bind(s, sd, &any7);
	uint64_t now = 0;

	size_t off = 0;
	while (off + 3 <= size) {
		uint16_t len = usn_get_be16(data + off);
		uint8_t dt = data[off + 2];
		off += 3;
		if (len > size - off)
			len = (uint16_t)(size - off);
		if (len > 1514)
			len = 1514;
		uint32_t b = usn_buf_alloc(&peer_pool);
		if (b == USN_BUF_NONE)
			break;
		memcpy(usn_buf_put(&peer_pool, b, len), data + off, len);
		off += len;
		usn_dev_tx_burst(db, &b, 1, now);
		step(s, db, &now, (uint64_t)dt * dt * USN_NSEC_PER_MSEC, sd);
	}
	/* Quiet: every timer (reassembly 30 s, ARP 60 s) runs out. */
	for (int i = 0; i < 20; i++)
		step(s, db, &now, 10 * USN_NSEC_PER_SEC, sd);
	usn_close(s, sd);
	if (usn_pool_in_use(&s->pool) != base)
		abort();
	s->dev = NULL;
	s->ip.dev = NULL;
	usn_memlink_destroy(link);
	usn_stack_destroy(s);
	if (usn_pool_in_use(&peer_pool) != 0)
		abort();
	usn_pool_fini(&peer_pool);
	return 0;
}
