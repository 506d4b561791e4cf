/* json.c: a small recursive-descent JSON reader for 'hvx stat' (UTF-8 passes through; \u escapes below 0x80 only). */
#include "json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p, *end, *start;
	char *err;
	size_t errsz;
	int depth;
};

static int fail(struct parser *ps, const char *what)
{
	if (ps->err[0])
		return -1;
	int line = 1;
	for (const char *c = ps->start; c < ps->p && c < ps->end; c++)
		line += *c == '\n';
	snprintf(ps->err, ps->errsz, "line %d: %s", line, what);
	return -1;
}

static void ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

static void release(struct json *j)
{
	free(j->str);
	for (size_t i = 0; i < j->n; i++) {
		release(&j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
}

static int value(struct parser *ps, struct json *out);

static int string(struct parser *ps, char **out)
{
	if (ps->p >= ps->end || *ps->p != '"')
		return fail(ps, "expected a string");
	ps->p++;
	size_t cap = 16, n = 0;
	char *s = malloc(cap);
	if (!s)
		return fail(ps, "out of memory");
	while (ps->p < ps->end && *ps->p != '"') {
		char c = *ps->p++;
		if ((unsigned char)c < 0x20) {
			free(s);
			return fail(ps, "control character in string");
		}
		if (c == '\\') {
			if (ps->p >= ps->end)
				break;
			char e = *ps->p++;
			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '/': case '\\': case '"': c = e; break;
			case 'u': {
				if (ps->end - ps->p < 4) {
					free(s);
					return fail(ps, "short \\u escape");
				}
				char hex[5] = {ps->p[0], ps->p[1], ps->p[2], ps->p[3], 0};
				char *endp;
				long v = strtol(hex, &endp, 16);
				ps->p += 4;
				c = (*endp || v < 0) ? '?' : v < 0x80 ? (char)v : '?';
				break;
			}
			default:
				free(s);
				return fail(ps, "bad escape in string");
			}
		}
		if (n + 1 >= cap) {
			char *t = realloc(s, cap *= 2);
			if (!t) {
				free(s);
				return fail(ps, "out of memory");
			}
			s = t;
		}
		s[n++] = c;
	}
	if (ps->p >= ps->end) {
		free(s);
		return fail(ps, "unterminated string");
	}
	ps->p++;
	s[n] = 0;
	*out = s;
	return 0;
}

static int push(struct parser *ps, struct json *arr, struct json *item, char *key, size_t *cap)
{
	if (arr->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct json *ni = realloc(arr->items, nc * sizeof *ni);
		if (!ni)
			return fail(ps, "out of memory");
		arr->items = ni;
		if (arr->type == JSON_OBJECT) {
			char **nk = realloc(arr->keys, nc * sizeof *nk);
			if (!nk)
				return fail(ps, "out of memory");
			arr->keys = nk;
		}
		*cap = nc;
	}
	arr->items[arr->n] = *item;
	if (arr->type == JSON_OBJECT)
		arr->keys[arr->n] = key;
	arr->n++;
	return 0;
}

static int container(struct parser *ps, struct json *out, bool object)
{
	char close = object ? '}' : ']';
	out->type = object ? JSON_OBJECT : JSON_ARRAY;
	size_t cap = 0;
	ps->p++;
	ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		ws(ps);
		if (object) {
			if (string(ps, &key))
				return -1;
			ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				return fail(ps, "expected ':'");
			}
			ps->p++;
		}
		struct json item = {0};
		if (value(ps, &item) || push(ps, out, &item, key, &cap)) {
			release(&item);
			free(key);
			return -1;
		}
		ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return 0;
		}
		return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int value(struct parser *ps, struct json *out)
{
	ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	if (++ps->depth > 64)
		return fail(ps, "nested too deeply");
	int r = 0;
	char c = *ps->p;
	if (c == '{' || c == '[') {
		r = container(ps, out, c == '{');
	} else if (c == '"') {
		out->type = JSON_STRING;
		r = string(ps, &out->str);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		char buf[64];
		size_t n = 0;
		while (ps->p + n < ps->end && n < sizeof buf - 1 && strchr("+-0123456789.eE", ps->p[n]))
			n++;
		memcpy(buf, ps->p, n);
		buf[n] = 0;
		char *endp;
		errno = 0;
		out->type = JSON_NUMBER;
		out->num = strtod(buf, &endp);
		if (*endp || n == 0)
			r = fail(ps, "bad number");
		ps->p += n;
	} else if (ps->end - ps->p >= 4 && !memcmp(ps->p, "true", 4)) {
		out->type = JSON_BOOL;
		out->num = 1;
		ps->p += 4;
	} else if (ps->end - ps->p >= 5 && !memcmp(ps->p, "false", 5)) {
		out->type = JSON_BOOL;
		ps->p += 5;
	} else if (ps->end - ps->p >= 4 && !memcmp(ps->p, "null", 4)) {
		out->type = JSON_NULL;
		ps->p += 4;
	} else {
		r = fail(ps, "unexpected character");
	}
	ps->depth--;
	return r;
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errsz)
{
	struct parser ps = {text, text + len, text, err, errsz, 0};
	err[0] = 0;
	struct json *j = calloc(1, sizeof *j);
	if (!j) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (value(&ps, j) == 0) {
		ws(&ps);
		if (ps.p == ps.end)
			return j;
		fail(&ps, "trailing characters after the document");
	}
	json_free(j);
	return NULL;
}

struct json *json_parse_file(const char *path, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errsz, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap >= (256u << 20)) {
			free(buf);
			buf = NULL;
			break;
		}
		char *t = realloc(buf, cap *= 2);
		if (!t) {
			free(buf);
			buf = NULL;
		}
		buf = t;
	}
	fclose(f);
	if (!buf) {
		snprintf(err, errsz, "cannot read '%s' (too large?)", path);
		return NULL;
	}
	char e[200];
	struct json *j = json_parse(buf, n, e, sizeof e);
	free(buf);
	if (!j)
		snprintf(err, errsz, "'%s' is not valid JSON: %s", path, e);
	return j;
}

void json_free(struct json *j)
{
	if (!j)
		return;
	release(j);
	free(j);
}

const struct json *json_get(const struct json *j, const char *key)
{
	if (!j || j->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->keys[i], key))
			return &j->items[i];
	return NULL;
}

double json_num(const struct json *j, double dflt)
{
	return j && (j->type == JSON_NUMBER || j->type == JSON_BOOL) ? j->num : dflt;
}

const char *json_str(const struct json *j, const char *dflt)
{
	return j && j->type == JSON_STRING ? j->str : dflt;
}
