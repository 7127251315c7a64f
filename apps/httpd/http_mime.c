// SPDX-License-Identifier: MIT
/*
 * http_mime.c - media types by file extension for usnet-httpd's
 * Content-Type (RFC 9110 §8.3), read from a mime.types file (the format of
 * Debian's media-types package: "type ext1 ext2 ...", '#' to the end of a
 * line is a comment) into an open-addressing hash table built once at
 * load; a lookup allocates nothing and takes no lock, so one table serves
 * every thread.
 *
 * It is not a content sniffer and adds no charset parameter. When an
 * extension appears under two types the first line wins. An extension the
 * file does not list falls back to the small built-in table, and then to
 * application/octet-stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define MIME_EXT_MAX 32     /* longer extensions are not stored or looked up */
#define MIME_TYPE_MAX 127   /* longer types are skipped */
#define MIME_FILE_MAX (16u << 20)

struct mime_slot {
	uint32_t ext;  /* offset in pool + 1; 0 is an empty slot */
	uint32_t type; /* offset in pool */
};

struct http_mime_table {
	size_t mask;           /* slots - 1, slots a power of two */
	struct mime_slot *slots;
	char *pool;            /* NUL-terminated lower-case extensions and types */
};

static const char *const builtin[][2] = {
	{ "html", "text/html" },
	{ "htm", "text/html" },
	{ "css", "text/css" },
	{ "js", "text/javascript" }, /* RFC 9239 §6 */
	{ "mjs", "text/javascript" },
	{ "json", "application/json" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "svg", "image/svg+xml" },
	{ "txt", "text/plain" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "wasm", "application/wasm" },
	{ "pdf", "application/pdf" },
	{ "xml", "application/xml" },
};

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 'a' - 'A') : c;
}

/* FNV-1a over an already lower-cased string */
static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Walks the file's lines. With t NULL it only counts the extensions that
 * would be stored; with t it stores them. Each token is copied into the
 * pool at most once, so the pool never needs more than the file's size.
 */
static size_t walk(const char *f, size_t n, struct http_mime_table *t)
{
	size_t i = 0, count = 0, pool = 0;

	while (i < n) {
		size_t line_end = i, tstart, tlen;
		uint32_t type_off = 0;

		while (line_end < n && f[line_end] != '\n' && f[line_end] != '#')
			line_end++;
		/* the type, then its extensions */
		while (i < line_end && is_space(f[i]))
			i++;
		tstart = i;
		while (i < line_end && !is_space(f[i]))
			i++;
		tlen = i - tstart;
		if (tlen > 0 && tlen <= MIME_TYPE_MAX && memchr(f + tstart, '/', tlen) != NULL) {
			if (t) {
				type_off = (uint32_t)pool;
				for (size_t k = 0; k < tlen; k++)
					t->pool[pool++] = lower(f[tstart + k]);
				t->pool[pool++] = '\0';
			}
			for (;;) {
				size_t es, el;

				while (i < line_end && is_space(f[i]))
					i++;
				if (i >= line_end)
					break;
				es = i;
				while (i < line_end && !is_space(f[i]))
					i++;
				el = i - es;
				if (el > MIME_EXT_MAX)
					continue;
				count++;
				if (!t)
					continue;
				char ext[MIME_EXT_MAX];
				for (size_t k = 0; k < el; k++)
					ext[k] = lower(f[es + k]);
				size_t h = hash(ext, el) & t->mask;
				bool dup = false;
				while (t->slots[h].ext != 0) {
					const char *e = t->pool + t->slots[h].ext - 1;
					if (strlen(e) == el && memcmp(e, ext, el) == 0) {
						dup = true; /* the first line wins */
						break;
					}
					h = (h + 1) & t->mask;
				}
				if (dup)
					continue;
				t->slots[h].ext = (uint32_t)pool + 1;
				t->slots[h].type = type_off;
				memcpy(t->pool + pool, ext, el);
				pool += el;
				t->pool[pool++] = '\0';
			}
		}
		/* skip the comment, if any, and the newline */
		while (line_end < n && f[line_end] != '\n')
			line_end++;
		i = line_end + 1;
	}
	return count;
}

struct http_mime_table *http_mime_load(const char *path)
{
	struct http_mime_table *t = NULL;
	char *f = NULL;
	size_t n = 0, count, slots = 16;
	FILE *fp;

	if (!path)
		return NULL;
	fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	f = malloc(MIME_FILE_MAX);
	if (!f)
		goto fail;
	n = fread(f, 1, MIME_FILE_MAX, fp);
	if (ferror(fp) || !feof(fp))
		goto fail; /* unreadable, or too large to be a mime.types */
	count = walk(f, n, NULL);
	/* load factor at most one half */
	while (slots < count * 2)
		slots <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto fail;
	t->mask = slots - 1;
	t->slots = calloc(slots, sizeof(*t->slots));
	t->pool = malloc(n + 1);
	if (!t->slots || !t->pool)
		goto fail;
	walk(f, n, t);
	free(f);
	fclose(fp);
	return t;
fail:
	http_mime_free(t);
	free(f);
	fclose(fp);
	return NULL;
}

void http_mime_free(struct http_mime_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->pool);
	free(t);
}

const char *http_mime_lookup(const struct http_mime_table *t, const char *name)
{
	const char *base, *dot;
	char ext[MIME_EXT_MAX];
	size_t el;

	if (!name)
		return "application/octet-stream";
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	dot = strrchr(base, '.');
	/* no dot, or a dot file such as ".htaccess": no extension */
	if (!dot || dot == base)
		return "application/octet-stream";
	el = strlen(dot + 1);
	if (el == 0 || el > MIME_EXT_MAX)
		return "application/octet-stream";
	for (size_t k = 0; k < el; k++)
		ext[k] = lower(dot[1 + k]);
	if (t) {
		size_t h = hash(ext, el) & t->mask;
		while (t->slots[h].ext != 0) {
			const char *e = t->pool + t->slots[h].ext - 1;
			if (strncmp(e, ext, el) == 0 && e[el] == '\0')
				return t->pool + t->slots[h].type;
			h = (h + 1) & t->mask;
		}
	}
	for (size_t k = 0; k < sizeof(builtin) / sizeof(builtin[0]); k++)
		if (strlen(builtin[k][0]) == el && memcmp(builtin[k][0], ext, el) == 0)
			return builtin[k][1];
	return "application/octet-stream";
}
