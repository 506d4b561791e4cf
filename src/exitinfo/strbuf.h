/* strbuf.h: bounded string builder with snprintf semantics (counts what it could not store), optional JSON escaping. */
#ifndef HVX_EXITINFO_STRBUF_H
#define HVX_EXITINFO_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct hvx_sb {
	char *buf;
	size_t size;
	size_t len;   /* length the full output needs so far (may exceed size) */
	bool escape;  /* escape appended text for a JSON string literal */
};

void hvx_sb_init(struct hvx_sb *sb, char *buf, size_t size);
/* Append raw bytes (escaped when sb->escape). */
void hvx_sb_write(struct hvx_sb *sb, const char *s, size_t n);
void hvx_sb_puts(struct hvx_sb *sb, const char *s);
void hvx_sb_printf(struct hvx_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal for s (quoted and escaped), or null for NULL. */
void hvx_sb_json_string(struct hvx_sb *sb, const char *s);

#endif
