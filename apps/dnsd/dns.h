/* SPDX-License-Identifier: MIT */
/*
 * dns.h - usnet-dnsd's DNS message pieces (RFC 1035 §4, RFC 6891): the
 * constants, the parsed form of a query and the parser, which reads a
 * packet from the wire without trusting any length or count in it.
 * Pure C: no usnet, no ldns, no allocation (fuzzed by fuzz/fuzz-dns.c).
 */
#ifndef USNET_DNSD_DNS_H
#define USNET_DNSD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN 12
#define DNS_MAX_NAME 255   /* RFC 1035 §2.3.4, wire form */
#define DNS_MAX_LABEL 63
#define DNS_MAX_LABELS 127
#define DNS_UDP_MIN 512    /* RFC 1035 §4.2.1 */
#define DNS_UDP_MAX 1232   /* DNS flag day 2020: our EDNS payload size */

/* header flags (RFC 1035 §4.1.1, RFC 4035 §3.2) */
#define DNS_QR 0x8000
#define DNS_AA 0x0400
#define DNS_TC 0x0200
#define DNS_RD 0x0100
#define DNS_RA 0x0080
#define DNS_AD 0x0020
#define DNS_CD 0x0010
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)
#define DNS_RCODE(f) ((f) & 0xf)

enum {
	DNS_OP_QUERY = 0, DNS_OP_IQUERY = 1, DNS_OP_STATUS = 2, DNS_OP_NOTIFY = 4, DNS_OP_UPDATE = 5,
};
enum {
	DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3, DNS_R_NOTIMP = 4,
	DNS_R_REFUSED = 5, DNS_R_BADVERS = 16, /* extended (RFC 6891 §9) */
};
enum {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_MD = 3, DNS_T_MF = 4, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_MB = 7,
	DNS_T_MG = 8, DNS_T_MR = 9, DNS_T_PTR = 12, DNS_T_MINFO = 14, DNS_T_MX = 15, DNS_T_TXT = 16,
	DNS_T_AAAA = 28, DNS_T_SRV = 33, DNS_T_OPT = 41, DNS_T_DS = 43, DNS_T_RRSIG = 46, DNS_T_TKEY = 249,
	DNS_T_TSIG = 250, DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_MAILB = 253, DNS_T_MAILA = 254,
	DNS_T_ANY = 255, DNS_T_CAA = 257,
};
enum { DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_NONE = 254, DNS_C_ANY = 255 };
/* EDNS option codes (RFC 6891 §6.1.2, RFC 8914) */
#define DNS_EDNS_EDE 15
#define DNS_EDNS_DO 0x8000 /* in the OPT TTL's flags (RFC 3225) */

/* What the parser made of a packet. */
enum dns_parse_rc {
	DNS_PARSE_OK = 0,
	DNS_PARSE_DROP,    /* not even a header, or a response (QR=1): no answer */
	DNS_PARSE_FORMERR, /* a header to answer FORMERR to, nothing else trusted */
	DNS_PARSE_NOTQUERY /* a header with an opcode other than QUERY */
};

struct dns_query {
	uint16_t id;
	uint16_t flags;
	uint8_t opcode;
	uint16_t qdcount, ancount, nscount, arcount;
	/* The question, as in the packet (offset 12): the name's wire bytes
	 * in the client's case, then type and class. */
	const uint8_t *question;
	uint16_t question_len; /* qname_len + 4 */
	uint16_t qname_len;
	uint16_t qtype, qclass;
	uint8_t nlabels; /* labels before the root */
	/* EDNS (RFC 6891 §6.1): an OPT record in the additional section. */
	bool edns;
	uint8_t edns_version;
	uint16_t edns_udp;   /* the requestor's payload size, at least 512 */
	uint16_t edns_flags; /* DO and the rest */
	/* The name in lower case, and where each label starts in it (the
	 * last entry is the root label). Last: not cleared by the parser. */
	uint8_t qname_lc[DNS_MAX_NAME];
	uint8_t label_off[DNS_MAX_LABELS + 1];
};

/* Parses a query of len bytes. Only the header is read when the result is
 * not DNS_PARSE_OK (id, flags, opcode are then valid). */
enum dns_parse_rc dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q);

/* Reads a possibly compressed name at *pos of a message (RFC 1035 §4.1.4),
 * checking every label against the message's end, pointers only backward
 * and into the message, and the 255-byte limit; writes it uncompressed, in
 * lower case, to out (if not NULL) and advances *pos past the name as it
 * sits at *pos. Returns the name's length, or -1 if malformed. */
int dns_read_name(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out);

/* Case-insensitive comparison of two uncompressed wire names. */
bool dns_name_eq(const uint8_t *a, const uint8_t *b);
/* The length of an uncompressed wire name (trusted). */
size_t dns_name_len(const uint8_t *n);

static inline uint16_t dns_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void dns_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void dns_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint8_t dns_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

#endif
