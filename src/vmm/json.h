/* json.h: a small JSON reader (whole document into a tree) for 'hvx stat'. */
#ifndef HVX_VMM_JSON_H
#define HVX_VMM_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	double num;              /* number, or 0/1 for booleans */
	char *str;               /* string value */
	struct json *items;      /* array elements or object values */
	char **keys;             /* object keys (parallel to items) */
	size_t n;
};

/* Parse text[0..len); NULL with a message ("line L: ...") on error. Nesting is limited to 64 levels. */
struct json *json_parse(const char *text, size_t len, char *err, size_t errsz);
struct json *json_parse_file(const char *path, char *err, size_t errsz);
void json_free(struct json *j);
/* Member of an object (NULL if absent or j is not an object). */
const struct json *json_get(const struct json *j, const char *key);
double json_num(const struct json *j, double dflt);
const char *json_str(const struct json *j, const char *dflt);

#endif
