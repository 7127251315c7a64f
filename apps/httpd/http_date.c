// SPDX-License-Identifier: MIT
/*
 * http_date.c - HTTP dates and entity tags for usnet-httpd: IMF-fixdate
 * output, the three HTTP-date formats on input, strong entity tags made
 * from a file's size and modification time, and If-None-Match lists.
 *
 * Implements RFC 9110 §5.6.7 (HTTP-date), §8.8.3 (ETag), §13.1.2
 * (If-None-Match, weak comparison per §8.8.3.2). It does not read a clock
 * or the time zone: calendar arithmetic is done here in proleptic
 * Gregorian UTC, so the functions are pure and need no lock. It does not
 * evaluate preconditions (that is the server's order of RFC 9110 §13.2.2).
 */
#include <string.h>

#include "http.h"

static const char wkday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char weekday_l[7][10] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
				       "Thursday", "Friday", "Saturday" };
static const char month[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	*ret_y = (int64_t)yoe + era * 400 + (m <= 2);
	*ret_m = m;
	*ret_d = d;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned mdays(int64_t y, unsigned m)
{
	static const unsigned char n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : n[m - 1];
}

static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

const char *http_date_format(time_t t, char *buf, size_t cap)
{
	/* IMF-fixdate has a 4-digit year: clamp to 0000..9999 */
	const int64_t lo = days_from_civil(0, 1, 1) * 86400;
	const int64_t hi = days_from_civil(10000, 1, 1) * 86400 - 1;
	int64_t s = (int64_t)t, days, y;
	unsigned m, d, sod;
	int w;

	if (cap < 30) {
		if (cap > 0)
			buf[0] = '\0';
		return buf;
	}
	if (s < lo)
		s = lo;
	if (s > hi)
		s = hi;
	days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	sod = (unsigned)(s - days * 86400);
	civil_from_days(days, &y, &m, &d);
	/* 1970-01-01 was a Thursday */
	w = (int)((days + 4) % 7);
	if (w < 0)
		w += 7;
	/* RFC 9110 §5.6.7: IMF-fixdate = day-name "," SP date1 SP
	 * time-of-day SP GMT, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" */
	memcpy(buf, wkday[w], 3);
	memcpy(buf + 3, ", ", 2);
	put2(buf + 5, d);
	buf[7] = ' ';
	memcpy(buf + 8, month[m - 1], 3);
	buf[11] = ' ';
	put2(buf + 12, (unsigned)(y / 100));
	put2(buf + 14, (unsigned)(y % 100));
	buf[16] = ' ';
	put2(buf + 17, sod / 3600);
	buf[19] = ':';
	put2(buf + 20, sod / 60 % 60);
	buf[22] = ':';
	put2(buf + 23, sod % 60);
	memcpy(buf + 25, " GMT", 5);
	return buf;
}

/* n digits at s[*i] into *ret. */
static bool digits(const char *s, size_t len, size_t *i, unsigned n, unsigned *ret)
{
	unsigned v = 0;

	if (len - *i < n)
		return false;
	for (unsigned k = 0; k < n; k++) {
		char c = s[*i + k];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*i += n;
	*ret = v;
	return true;
}

static bool lit(const char *s, size_t len, size_t *i, const char *l)
{
	size_t n = strlen(l);

	if (len - *i < n || memcmp(s + *i, l, n) != 0)
		return false;
	*i += n;
	return true;
}

static bool month_name(const char *s, size_t len, size_t *i, unsigned *ret)
{
	for (unsigned m = 0; m < 12; m++) {
		if (lit(s, len, i, month[m])) {
			*ret = m + 1;
			return true;
		}
	}
	return false;
}

/* time-of-day = hour ":" minute ":" second */
static bool time_of_day(const char *s, size_t len, size_t *i, unsigned *ret_sod)
{
	unsigned h, m, sec;

	if (!digits(s, len, i, 2, &h) || !lit(s, len, i, ":") || !digits(s, len, i, 2, &m) ||
	    !lit(s, len, i, ":") || !digits(s, len, i, 2, &sec))
		return false;
	/* RFC 9110 §5.6.7: second 00-60 ("60" for a leap second, which
	 * here runs into the next minute) */
	if (h > 23 || m > 59 || sec > 60)
		return false;
	*ret_sod = h * 3600 + m * 60 + sec;
	return true;
}

/* RFC 9110 §5.6.7: "HTTP-date is case sensitive"; the day name is
 * checked for its spelling, not against the date (a recipient has no use
 * for the mismatch). */
int http_date_parse(const char *s, size_t len, time_t *ret)
{
	size_t i = 0;
	unsigned d, m, y2, sod;
	int64_t y;
	int w;

	if (!s)
		return -1;
	for (w = 0; w < 7; w++) {
		size_t j = 0;
		if (lit(s, len, &j, weekday_l[w]) && lit(s, len, &j, ", ")) {
			i = j;
			break;
		}
	}
	if (w < 7) {
		/* rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT
		 * date2 = day "-" month "-" 2DIGIT */
		if (!digits(s, len, &i, 2, &d) || !lit(s, len, &i, "-") || !month_name(s, len, &i, &m) ||
		    !lit(s, len, &i, "-") || !digits(s, len, &i, 2, &y2) || !lit(s, len, &i, " ") ||
		    !time_of_day(s, len, &i, &sod) || !lit(s, len, &i, " GMT") || i != len)
			return -1;
		/* DEVIATION(RFC 9110 §5.6.7): a two-digit year within 50
		 * years of now should be read relative to the current year;
		 * with no clock here, 70-99 are 1970-1999 and 00-69 are
		 * 2000-2069 (the POSIX strptime pivot), because these
		 * functions take no time and rfc850 dates are obsolete. */
		y = y2 >= 70 ? 1900 + y2 : 2000 + y2;
	} else {
		for (w = 0; w < 7; w++)
			if (len >= 3 && memcmp(s, wkday[w], 3) == 0)
				break;
		if (w == 7)
			return -1;
		i = 3;
		if (lit(s, len, &i, ", ")) {
			/* IMF-fixdate = day-name "," SP date1 SP time-of-day
			 * SP GMT; date1 = day SP month SP year */
			unsigned yy;
			if (!digits(s, len, &i, 2, &d) || !lit(s, len, &i, " ") || !month_name(s, len, &i, &m) ||
			    !lit(s, len, &i, " ") || !digits(s, len, &i, 4, &yy) || !lit(s, len, &i, " ") ||
			    !time_of_day(s, len, &i, &sod) || !lit(s, len, &i, " GMT") || i != len)
				return -1;
			y = yy;
		} else if (lit(s, len, &i, " ")) {
			/* asctime-date = day-name SP date3 SP time-of-day SP
			 * year; date3 = month SP ( 2DIGIT / ( SP DIGIT )) */
			unsigned yy;
			if (!month_name(s, len, &i, &m) || !lit(s, len, &i, " "))
				return -1;
			if (lit(s, len, &i, " ")) {
				if (!digits(s, len, &i, 1, &d))
					return -1;
			} else if (!digits(s, len, &i, 2, &d)) {
				return -1;
			}
			if (!lit(s, len, &i, " ") || !time_of_day(s, len, &i, &sod) || !lit(s, len, &i, " ") ||
			    !digits(s, len, &i, 4, &yy) || i != len)
				return -1;
			y = yy;
		} else {
			return -1;
		}
	}
	if (d < 1 || d > mdays(y, m))
		return -1;
	*ret = (time_t)(days_from_civil(y, m, d) * 86400 + sod);
	return 0;
}

const char *http_etag_format(uint64_t size, int64_t mtime_ns, char *buf, size_t cap)
{
	/* RFC 9110 §8.8.3: a strong tag, opaque; size and mtime in hex
	 * change whenever the file is replaced or rewritten in a way a
	 * static server can see. */
	char tmp[40];
	size_t n = 0;
	uint64_t v[2] = { size, (uint64_t)mtime_ns };

	tmp[n++] = '"';
	for (int k = 0; k < 2; k++) {
		int shift = 60;
		while (shift > 0 && (v[k] >> shift) == 0)
			shift -= 4;
		for (; shift >= 0; shift -= 4)
			tmp[n++] = "0123456789abcdef"[(v[k] >> shift) & 0xf];
		if (k == 0)
			tmp[n++] = '-';
	}
	tmp[n++] = '"';
	if (cap == 0)
		return buf;
	if (n >= cap) {
		buf[0] = '\0';
		return buf;
	}
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

/* entity-tag = [ weak ] opaque-tag; opaque-tag = DQUOTE *etagc DQUOTE;
 * etagc = %x21 / %x23-7E / obs-text. Sets the opaque-tag (quotes
 * included) and returns the offset after it, or 0 if malformed. */
static size_t etag_at(const char *s, size_t len, size_t i, const char **ret_tag, size_t *ret_len)
{
	size_t start;

	if (len - i >= 2 && s[i] == 'W' && s[i + 1] == '/')
		i += 2;
	if (i >= len || s[i] != '"')
		return 0;
	start = i++;
	for (; i < len && s[i] != '"'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c == 0x7f)
			return 0;
	}
	if (i >= len)
		return 0;
	i++;
	*ret_tag = s + start;
	*ret_len = i - start;
	return i;
}

bool http_etag_match_list(const char *value, const char *etag)
{
	size_t vlen, elen, i = 0;
	const char *e;

	if (!value || !etag)
		return false;
	vlen = strlen(value);
	/* RFC 9110 §8.8.3.2: weak comparison ignores the W/ on both sides */
	if (etag_at(etag, strlen(etag), 0, &e, &elen) == 0)
		return false;
	while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
		vlen--;
	while (i < vlen && (value[i] == ' ' || value[i] == '\t'))
		i++;
	/* RFC 9110 §13.1.2: If-None-Match = "*" / #entity-tag; "*" matches
	 * any current representation (the caller asks only when there is
	 * one) */
	if (vlen - i == 1 && value[i] == '*')
		return true;
	for (;;) {
		const char *t;
		size_t tlen;

		while (i < vlen && (value[i] == ',' || value[i] == ' ' || value[i] == '\t'))
			i++;
		if (i >= vlen)
			return false;
		i = etag_at(value, vlen, i, &t, &tlen);
		/* a malformed list matches nothing from that point on */
		if (i == 0)
			return false;
		if (tlen == elen && memcmp(t, e, elen) == 0)
			return true;
		while (i < vlen && (value[i] == ' ' || value[i] == '\t'))
			i++;
		if (i < vlen && value[i] != ',')
			return false;
	}
}
