/* cmd_stat.c: 'hvx stat FILE.json -o report.html': exit statistics as a self-contained HTML report with inline SVG charts. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: hvx stat FILE.json [-o REPORT.html]\n\n"
		     "Turn the statistics written by 'hvx run --stats-json FILE.json' into one self-contained HTML page\n"
		     "(inline SVG, no scripts or external resources): a table per exit reason, exits by reason,\n"
		     "the latency distribution and exits over time. Without -o the HTML goes to stdout.\n");
}

static const char *palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"};
#define NCOLORS 8
#define TOP 7 /* reasons drawn individually; the rest are "other" */

static void esc(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		default: fputc(*s, o); break;
		}
	}
}

static const char *dur(double ns, char *buf, size_t n)
{
	if (ns < 1e3)
		snprintf(buf, n, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, n, "%.1f µs", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, n, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.2f s", ns / 1e9);
	return buf;
}

struct reason {
	int number;
	const char *name;
	double count, share, mean, p50, p99, min, max;
	const struct json *hist;
};

static int by_count(const void *a, const void *b)
{
	const struct reason *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : x->number - y->number;
}

static int color_of(const struct reason *r, size_t nr, int number)
{
	for (size_t i = 0; i < nr && i < TOP; i++)
		if (r[i].number == number)
			return (int)i;
	return TOP; /* other */
}

static void bars_chart(FILE *o, const struct reason *r, size_t nr)
{
	double max = nr ? r[0].count : 1;
	int h = 24 * (int)nr + 40;
	fprintf(o, "<svg class=\"chart\" width=\"760\" height=\"%d\" viewBox=\"0 0 760 %d\" role=\"img\" "
		   "aria-label=\"exits by reason\">\n", h, h);
	for (size_t i = 0; i < nr; i++) {
		double w = max > 0 ? 440.0 * r[i].count / max : 0;
		int y = 10 + 24 * (int)i;
		fprintf(o, "<text x=\"170\" y=\"%d\" text-anchor=\"end\">", y + 15);
		esc(o, r[i].name);
		fprintf(o, " (%d)</text><rect x=\"180\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"><title>", r[i].number,
			y, w < 1 ? 1 : w, palette[i < TOP ? i : TOP]);
		esc(o, r[i].name);
		fprintf(o, ": %.0f exits</title></rect><text x=\"%.1f\" y=\"%d\">%.0f (%.1f%%)</text>\n", r[i].count, 186 + w,
			y + 15, r[i].count, 100 * r[i].share);
	}
	fprintf(o, "</svg>\n");
}

static void latency_chart(FILE *o, const struct reason *r, size_t nr)
{
	/* x: log10(ns) from the smallest to the largest bucket; y: share of the reason's exits in the bucket. */
	double lo = 1e18, hi = 1;
	for (size_t i = 0; i < nr; i++)
		for (size_t k = 0; r[i].hist && k < r[i].hist->n; k++) {
			const struct json *b = &r[i].hist->items[k];
			if (b->type != JSON_ARRAY || b->n < 3)
				continue;
			double a = b->items[0].num > 1 ? b->items[0].num : 1, z = b->items[1].num > a ? b->items[1].num : a + 1;
			if (a < lo)
				lo = a;
			if (z > hi)
				hi = z;
		}
	if (lo >= hi) {
		lo = 1;
		hi = 1e6;
	}
	double l0 = floor(log10(lo)), l1 = ceil(log10(hi));
	if (l1 <= l0)
		l1 = l0 + 1;
	const double X0 = 60, W = 660, Y0 = 20, H = 220;
	fprintf(o, "<svg class=\"chart\" width=\"880\" height=\"300\" viewBox=\"0 0 880 300\" role=\"img\" "
		   "aria-label=\"latency distribution\">\n");
	fprintf(o, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#ccc\"/>\n", X0, Y0, W, H);
	for (double d = l0; d <= l1; d++) {
		double x = X0 + W * (d - l0) / (l1 - l0);
		char b[32];
		fprintf(o, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.0f\" "
			   "text-anchor=\"middle\">%s</text>\n", x, Y0, x, Y0 + H, x, Y0 + H + 16, dur(pow(10, d), b, sizeof b));
	}
	fprintf(o, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">handling latency (log scale)</text>\n", X0 + W / 2,
		Y0 + H + 34);
	for (size_t i = 0; i < nr && i < TOP; i++) {
		if (!r[i].hist || !r[i].count)
			continue;
		double peak = 0;
		for (size_t k = 0; k < r[i].hist->n; k++)
			if (r[i].hist->items[k].n >= 3 && r[i].hist->items[k].items[2].num > peak)
				peak = r[i].hist->items[k].items[2].num;
		fprintf(o, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\" points=\"", palette[i]);
		for (size_t k = 0; k < r[i].hist->n; k++) {
			const struct json *b = &r[i].hist->items[k];
			if (b->type != JSON_ARRAY || b->n < 3)
				continue;
			double mid = sqrt((b->items[0].num > 1 ? b->items[0].num : 1) * (b->items[1].num > 1 ? b->items[1].num : 1));
			double x = X0 + W * (log10(mid) - l0) / (l1 - l0);
			double y = Y0 + H - (H - 10) * b->items[2].num / (peak > 0 ? peak : 1);
			fprintf(o, "%.1f,%.1f ", x, y);
		}
		fprintf(o, "\"><title>");
		esc(o, r[i].name);
		fprintf(o, "</title></polyline>\n");
		for (size_t k = 0; k < r[i].hist->n; k++) {
			const struct json *b = &r[i].hist->items[k];
			if (b->type != JSON_ARRAY || b->n < 3)
				continue;
			double mid = sqrt((b->items[0].num > 1 ? b->items[0].num : 1) * (b->items[1].num > 1 ? b->items[1].num : 1));
			char d1[32], d2[32];
			fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", X0 + W * (log10(mid) - l0) / (l1 - l0),
				Y0 + H - (H - 10) * b->items[2].num / (peak > 0 ? peak : 1), palette[i]);
			esc(o, r[i].name);
			fprintf(o, ": %.0f exits between %s and %s</title></circle>\n", b->items[2].num,
				dur(b->items[0].num, d1, sizeof d1), dur(b->items[1].num, d2, sizeof d2));
		}
		fprintf(o, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">",
			X0 + W + 12, Y0 + 8 + 16 * (double)i, palette[i], X0 + W + 27, Y0 + 17 + 16 * (double)i);
		esc(o, r[i].name);
		fprintf(o, "</text>\n");
	}
	fprintf(o, "<text x=\"15\" y=\"%.0f\" transform=\"rotate(-90 15 %.0f)\" text-anchor=\"middle\">exits (relative per reason)"
		   "</text>\n</svg>\n", Y0 + H / 2, Y0 + H / 2);
}

static void timeline_chart(FILE *o, const struct reason *r, size_t nr, const struct json *tl)
{
	const struct json *slots = json_get(tl, "slots");
	double slot_ns = json_num(json_get(tl, "slot_ns"), 1);
	size_t n = slots && slots->type == JSON_ARRAY ? slots->n : 0;
	double max = 1;
	for (size_t i = 0; i < n; i++) {
		double t = 0;
		for (size_t k = 0; k < slots->items[i].n; k++)
			if (slots->items[i].items[k].n >= 2)
				t += slots->items[i].items[k].items[1].num;
		if (t > max)
			max = t;
	}
	const double X0 = 60, W = 660, Y0 = 20, H = 220;
	double bw = n ? W / (double)n : W;
	char b[32];
	fprintf(o, "<svg class=\"chart\" width=\"880\" height=\"300\" viewBox=\"0 0 880 300\" role=\"img\" "
		   "aria-label=\"exits over time\">\n");
	fprintf(o, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#ccc\"/>\n", X0, Y0, W, H);
	fprintf(o, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f</text><text x=\"%.0f\" y=\"%.0f\" "
		   "text-anchor=\"end\">0</text>\n", X0 - 4, Y0 + 10, max, X0 - 4, Y0 + H);
	for (size_t i = 0; i < n; i++) {
		double y = Y0 + H;
		for (size_t k = 0; k < slots->items[i].n; k++) {
			const struct json *p = &slots->items[i].items[k];
			if (p->n < 2)
				continue;
			double hgt = H * p->items[1].num / max;
			y -= hgt;
			fprintf(o, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"><title>%.0f exits, "
				   "reason %.0f</title></rect>\n", X0 + bw * (double)i, y, bw > 1.5 ? bw - 0.5 : bw, hgt,
				palette[color_of(r, nr, (int)p->items[0].num)], p->items[1].num, p->items[0].num);
		}
	}
	for (int t = 0; t <= 4; t++) {
		double x = X0 + W * t / 4;
		fprintf(o, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n", x, Y0 + H + 16,
			dur(slot_ns * (double)n * t / 4, b, sizeof b));
	}
	fprintf(o, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">time since start (slot %s)</text>\n", X0 + W / 2,
		Y0 + H + 34, dur(slot_ns, b, sizeof b));
	for (size_t i = 0; i < nr && i <= TOP; i++) {
		fprintf(o, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">",
			X0 + W + 12, Y0 + 8 + 16 * (double)i, palette[i], X0 + W + 27, Y0 + 17 + 16 * (double)i);
		esc(o, i < TOP ? r[i].name : "other");
		fprintf(o, "</text>\n");
	}
	fprintf(o, "</svg>\n");
}

int cmd_stat_main(int argc, char **argv)
{
	const char *in = NULL, *outp = NULL;
	for (int i = 1; i < argc; i++) {
		if (hvx_is_help(argv[i])) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (i + 1 >= argc)
				return hvx_usage_error("stat", "option '%s' needs a value", argv[i]);
			outp = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return hvx_usage_error("stat", "unknown option '%s'", argv[i]);
		} else if (!in) {
			in = argv[i];
		} else {
			return hvx_usage_error("stat", "unexpected argument '%s'", argv[i]);
		}
	}
	if (!in)
		return hvx_usage_error("stat", "no statistics file given");
	char err[256];
	struct json *doc = json_parse_file(in, err, sizeof err);
	if (!doc) {
		fprintf(stderr, "hvx stat: %s\n", err);
		return HVX_EXIT_USAGE;
	}
	const struct json *reasons = json_get(doc, "reasons");
	const char *schema = json_str(json_get(doc, "schema"), "");
	if (strcmp(schema, "hvx-stats/1") || !reasons || reasons->type != JSON_ARRAY) {
		fprintf(stderr, "hvx stat: '%s' is not an 'hvx run --stats-json' file (schema hvx-stats/1)\n", in);
		json_free(doc);
		return HVX_EXIT_USAGE;
	}
	size_t nr = reasons->n;
	struct reason *r = calloc(nr ? nr : 1, sizeof *r);
	if (!r) {
		json_free(doc);
		return 1;
	}
	for (size_t i = 0; i < nr; i++) {
		const struct json *j = &reasons->items[i];
		r[i] = (struct reason){(int)json_num(json_get(j, "reason"), -1), json_str(json_get(j, "name"), "?"),
				       json_num(json_get(j, "count"), 0), json_num(json_get(j, "share"), 0),
				       json_num(json_get(j, "mean_ns"), 0), json_num(json_get(j, "p50_ns"), 0),
				       json_num(json_get(j, "p99_ns"), 0), json_num(json_get(j, "min_ns"), 0),
				       json_num(json_get(j, "max_ns"), 0), json_get(j, "histogram")};
		if (r[i].hist && r[i].hist->type != JSON_ARRAY)
			r[i].hist = NULL;
	}
	qsort(r, nr, sizeof *r, by_count);

	FILE *o = stdout;
	if (outp && !(o = fopen(outp, "w"))) {
		fprintf(stderr, "hvx stat: cannot write '%s': %s\n", outp, strerror(errno));
		free(r);
		json_free(doc);
		return HVX_EXIT_USAGE;
	}
	char b1[32], b2[32], b3[32], b4[32], b5[32];
	fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>hvx exit statistics</title>\n"
		   "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
		   "td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}td:nth-child(2),th:nth-child(2)"
		   "{text-align:left}svg text{font-size:12px;fill:#333}.chart{display:block;margin:1em 0}"
		   "h2{margin-top:1.5em}.meta td{text-align:left}</style></head><body>\n<h1>hvx exit statistics</h1>\n"
		   "<table class=\"meta\"><tr><td>image</td><td>");
	esc(o, json_str(json_get(doc, "image"), "?"));
	fprintf(o, "</td></tr><tr><td>backend</td><td>");
	esc(o, json_str(json_get(doc, "backend"), "?"));
	fprintf(o, "</td></tr><tr><td>vCPUs</td><td>%.0f</td></tr><tr><td>exit status</td><td>%.0f</td></tr>"
		   "<tr><td>exits</td><td>%.0f</td></tr><tr><td>run time</td><td>%s</td></tr>"
		   "<tr><td>time in the guest</td><td>%s</td></tr></table>\n",
		json_num(json_get(doc, "cpus"), 0), json_num(json_get(doc, "exit_status"), 0),
		json_num(json_get(doc, "total_exits"), 0), dur(json_num(json_get(doc, "wall_ns"), 0), b1, sizeof b1),
		dur(json_num(json_get(doc, "guest_ns"), 0), b2, sizeof b2));
	fprintf(o, "<h2>Exits by reason</h2>\n<table><tr><th>#</th><th>reason</th><th>count</th><th>share</th><th>mean</th>"
		   "<th>p50</th><th>p99</th><th>min</th><th>max</th></tr>\n");
	for (size_t i = 0; i < nr; i++) {
		fprintf(o, "<tr><td>%d</td><td>", r[i].number);
		esc(o, r[i].name);
		fprintf(o, "</td><td>%.0f</td><td>%.2f%%</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			r[i].count, 100 * r[i].share, dur(r[i].mean, b1, sizeof b1), dur(r[i].p50, b2, sizeof b2),
			dur(r[i].p99, b3, sizeof b3), dur(r[i].min, b4, sizeof b4), dur(r[i].max, b5, sizeof b5));
	}
	fprintf(o, "</table>\n<p>Latency is the time the VMM spent handling an exit: from hv_vcpu_run's return to the next "
		   "entry. Percentiles come from log-linear histograms (within 6.25%%).</p>\n");
	bars_chart(o, r, nr);
	fprintf(o, "<h2>Latency distribution</h2>\n");
	latency_chart(o, r, nr);
	fprintf(o, "<h2>Exits over time</h2>\n");
	timeline_chart(o, r, nr, json_get(doc, "timeline"));
	fprintf(o, "</body></html>\n");
	int bad = ferror(o);
	if (o != stdout)
		bad |= fclose(o);
	free(r);
	json_free(doc);
	if (bad) {
		fprintf(stderr, "hvx stat: error writing the report\n");
		return 1;
	}
	return 0;
}
