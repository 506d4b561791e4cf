/* strbuf.c: bounded string builder behind the text and JSON formatters (no allocation, snprintf-style length). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

void hvx_sb_init(struct hvx_sb *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->size = buf ? size : 0;
	sb->len = 0;
	sb->escape = false;
	if (sb->size)
		sb->buf[0] = '\0';
}

static void put_raw(struct hvx_sb *sb, const char *s, size_t n)
{
	if (sb->len + 1 < sb->size) {
		size_t room = sb->size - 1 - sb->len;
		size_t k = n < room ? n : room;
		memcpy(sb->buf + sb->len, s, k);
		sb->buf[sb->len + k] = '\0';
	}
	sb->len += n;
}

void hvx_sb_write(struct hvx_sb *sb, const char *s, size_t n)
{
	if (!sb->escape) {
		put_raw(sb, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put_raw(sb, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put_raw(sb, esc, 6);
		} else {
			put_raw(sb, (const char *)&s[i], 1);
		}
	}
}

void hvx_sb_puts(struct hvx_sb *sb, const char *s)
{
	hvx_sb_write(sb, s, strlen(s));
}

void hvx_sb_printf(struct hvx_sb *sb, const char *fmt, ...)
{
	/* Pieces are short (numbers and table strings); a longer piece is formatted twice. */
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		hvx_sb_write(sb, tmp, (size_t)n);
		return;
	}
	if (!sb->escape && sb->len + (size_t)n < sb->size) {
		va_start(ap, fmt);
		vsnprintf(sb->buf + sb->len, sb->size - sb->len, fmt, ap);
		va_end(ap);
		sb->len += (size_t)n;
		return;
	}
	/* Escaped or not fitting: write what the temporary holds and count the rest as needed length. */
	hvx_sb_write(sb, tmp, sizeof tmp - 1);
	sb->len += (size_t)n - (sizeof tmp - 1);
}

void hvx_sb_json_string(struct hvx_sb *sb, const char *s)
{
	if (!s) {
		put_raw(sb, "null", 4);
		return;
	}
	bool was = sb->escape;
	put_raw(sb, "\"", 1);
	sb->escape = true;
	hvx_sb_puts(sb, s);
	sb->escape = was;
	put_raw(sb, "\"", 1);
}
