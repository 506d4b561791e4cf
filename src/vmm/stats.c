/* stats.c: VM-exit statistics: counting, log-linear latency histograms, quantiles, timeline, table and JSON. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hvx/hvx_exit.h>

unsigned vmm_hist_bucket(uint64_t ns)
{
	if (ns < VMM_HIST_SUB)
		return (unsigned)ns;
	unsigned e = 63u - (unsigned)__builtin_clzll(ns); /* >= 4 */
	unsigned sub = (unsigned)(ns >> (e - 4)) & (VMM_HIST_SUB - 1);
	unsigned b = VMM_HIST_SUB + (e - 4) * VMM_HIST_SUB + sub;
	return b < VMM_HIST_BUCKETS ? b : VMM_HIST_BUCKETS - 1;
}

uint64_t vmm_hist_lower(unsigned b)
{
	if (b < VMM_HIST_SUB)
		return b;
	unsigned e = (b - VMM_HIST_SUB) / VMM_HIST_SUB + 4;
	unsigned sub = (b - VMM_HIST_SUB) % VMM_HIST_SUB;
	return ((uint64_t)(VMM_HIST_SUB + sub)) << (e - 4);
}

uint64_t vmm_hist_upper(unsigned b)
{
	if (b < VMM_HIST_SUB)
		return b;
	if (b + 1 >= VMM_HIST_BUCKETS)
		return UINT64_MAX;
	return vmm_hist_lower(b + 1) - 1;
}

void vmm_stats_init(struct vmm_stats *s)
{
	memset(s, 0, sizeof *s);
	s->slot_ns = VMM_TIMELINE_FIRST_NS;
}

void vmm_stats_free(struct vmm_stats *s)
{
	for (unsigned i = 0; i < VMM_STATS_REASONS; i++) {
		free(s->r[i].hist);
		s->r[i].hist = NULL;
	}
}

/* Double the slot width until `at_ns` fits, merging neighbouring slots. */
static void timeline_widen(struct vmm_stats *s, uint64_t at_ns)
{
	while (at_ns / s->slot_ns >= VMM_TIMELINE_SLOTS) {
		for (unsigned i = 0; i < VMM_TIMELINE_SLOTS / 2; i++)
			for (unsigned r = 0; r < VMM_STATS_REASONS; r++)
				s->timeline[i][r] = s->timeline[2 * i][r] + s->timeline[2 * i + 1][r];
		memset(s->timeline[VMM_TIMELINE_SLOTS / 2], 0, sizeof s->timeline / 2);
		s->slot_ns *= 2;
	}
}

void vmm_stats_record(struct vmm_stats *s, unsigned reason, uint64_t latency_ns, uint64_t at_ns)
{
	if (reason >= VMM_STATS_REASONS)
		reason = VMM_STATS_REASONS - 1;
	struct vmm_reason_stats *r = &s->r[reason];
	if (!r->count || latency_ns < r->min_ns)
		r->min_ns = latency_ns;
	if (latency_ns > r->max_ns)
		r->max_ns = latency_ns;
	r->count++;
	r->sum_ns += latency_ns;
	if (!r->hist) {
		r->hist = calloc(VMM_HIST_BUCKETS, sizeof *r->hist);
		if (!r->hist)
			s->oom = true;
	}
	if (r->hist)
		r->hist[vmm_hist_bucket(latency_ns)]++;
	s->total++;
	timeline_widen(s, at_ns);
	s->timeline[at_ns / s->slot_ns][reason]++;
}

void vmm_stats_merge(struct vmm_stats *dst, const struct vmm_stats *src)
{
	for (unsigned i = 0; i < VMM_STATS_REASONS; i++) {
		const struct vmm_reason_stats *a = &src->r[i];
		struct vmm_reason_stats *b = &dst->r[i];
		if (!a->count)
			continue;
		if (!b->count || a->min_ns < b->min_ns)
			b->min_ns = a->min_ns;
		if (a->max_ns > b->max_ns)
			b->max_ns = a->max_ns;
		b->count += a->count;
		b->sum_ns += a->sum_ns;
		if (a->hist) {
			if (!b->hist)
				b->hist = calloc(VMM_HIST_BUCKETS, sizeof *b->hist);
			if (b->hist)
				for (unsigned k = 0; k < VMM_HIST_BUCKETS; k++)
					b->hist[k] += a->hist[k];
			else
				dst->oom = true;
		}
	}
	dst->total += src->total;
	dst->guest_ns += src->guest_ns;
	dst->oom |= src->oom;
	/* Bring both timelines to the wider slot, then add. */
	uint64_t want = dst->slot_ns > src->slot_ns ? dst->slot_ns : src->slot_ns;
	if (dst->slot_ns < want)
		timeline_widen(dst, want * VMM_TIMELINE_SLOTS - 1);
	uint64_t factor = want / src->slot_ns;
	for (unsigned i = 0; i < VMM_TIMELINE_SLOTS; i++)
		for (unsigned r = 0; r < VMM_STATS_REASONS; r++)
			dst->timeline[i / factor][r] += src->timeline[i][r];
}

uint64_t vmm_stats_quantile(const struct vmm_reason_stats *r, double q)
{
	if (!r->count || !r->hist)
		return 0;
	if (q <= 0)
		return r->min_ns;
	uint64_t n = 0;
	for (unsigned k = 0; k < VMM_HIST_BUCKETS; k++)
		n += r->hist[k];
	if (!n)
		return 0;
	uint64_t rank = (uint64_t)ceil(q * (double)n); /* 1-based rank of the wanted sample */
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned k = 0; k < VMM_HIST_BUCKETS; k++) {
		seen += r->hist[k];
		if (seen >= rank) {
			uint64_t lo = vmm_hist_lower(k), hi = vmm_hist_upper(k);
			uint64_t v = lo + (hi - lo) / 2;
			if (v < r->min_ns)
				v = r->min_ns;
			if (v > r->max_ns)
				v = r->max_ns;
			return v;
		}
	}
	return r->max_ns;
}

double vmm_stats_mean(const struct vmm_reason_stats *r)
{
	return r->count ? (double)r->sum_ns / (double)r->count : 0.0;
}

const char *vmm_reason_name(unsigned reason, char *buf, unsigned size)
{
	const struct hvx_exit_reason_info *info = hvx_exit_reason_lookup(reason);
	const char *n = info ? hvx_exit_reason_short_name(info) : NULL;
	if (n && reason < VMM_STATS_REASONS - 1)
		snprintf(buf, size, "%s", n);
	else if (reason >= VMM_STATS_REASONS - 1)
		snprintf(buf, size, "reason>=%u", VMM_STATS_REASONS - 1);
	else
		snprintf(buf, size, "reason %u", reason);
	return buf;
}

/* Human-readable duration into buf. */
static const char *fmt_ns(double ns, char *buf, size_t size)
{
	if (ns < 1e3)
		snprintf(buf, size, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, size, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, size, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, size, "%.2f s", ns / 1e9);
	return buf;
}

void vmm_stats_print_table(const struct vmm_stats *s, FILE *out)
{
	char a[32], b[32], c[32], name[40];
	fprintf(out, "\nexit statistics (%s backend, %u vCPU%s, %llu exits in %s):\n", s->backend[0] ? s->backend : "?",
		s->cpus, s->cpus == 1 ? "" : "s", (unsigned long long)s->total, fmt_ns((double)s->wall_ns, a, sizeof a));
	fprintf(out, "  %-4s %-22s %10s %7s %10s %10s %10s\n", "#", "reason", "count", "share", "mean", "p50", "p99");
	for (unsigned i = 0; i < VMM_STATS_REASONS; i++) {
		const struct vmm_reason_stats *r = &s->r[i];
		if (!r->count)
			continue;
		fprintf(out, "  %-4u %-22s %10llu %6.2f%% %10s %10s %10s\n", i, vmm_reason_name(i, name, sizeof name),
			(unsigned long long)r->count, 100.0 * (double)r->count / (double)s->total,
			fmt_ns(vmm_stats_mean(r), a, sizeof a), fmt_ns((double)vmm_stats_quantile(r, 0.5), b, sizeof b),
			fmt_ns((double)vmm_stats_quantile(r, 0.99), c, sizeof c));
	}
	if (!s->total)
		fprintf(out, "  (no exits)\n");
	fprintf(out, "  latency = time the VMM spent handling the exit (hv_vcpu_run return to the next entry)\n");
}

static void json_string(FILE *out, const char *str)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

int vmm_stats_write_json(const struct vmm_stats *s, FILE *out)
{
	char name[40];
	fprintf(out, "{\"schema\":\"hvx-stats/1\",\"backend\":");
	json_string(out, s->backend);
	fprintf(out, ",\"image\":");
	json_string(out, s->image);
	fprintf(out, ",\"cpus\":%u,\"exit_status\":%d,\"wall_ns\":%llu,\"guest_ns\":%llu,\"total_exits\":%llu,"
		     "\"latency\":\"vmm-handling\",\"histogram_partial\":%s,\"reasons\":[",
		s->cpus, s->exit_status, (unsigned long long)s->wall_ns, (unsigned long long)s->guest_ns,
		(unsigned long long)s->total, s->oom ? "true" : "false");
	bool first = true;
	for (unsigned i = 0; i < VMM_STATS_REASONS; i++) {
		const struct vmm_reason_stats *r = &s->r[i];
		if (!r->count)
			continue;
		fprintf(out, "%s\n{\"reason\":%u,\"name\":", first ? "" : ",", i);
		json_string(out, vmm_reason_name(i, name, sizeof name));
		fprintf(out, ",\"count\":%llu,\"share\":%.6f,\"mean_ns\":%.1f,\"min_ns\":%llu,\"max_ns\":%llu,"
			     "\"p50_ns\":%llu,\"p99_ns\":%llu,\"histogram\":[",
			(unsigned long long)r->count, (double)r->count / (double)s->total, vmm_stats_mean(r),
			(unsigned long long)r->min_ns, (unsigned long long)r->max_ns,
			(unsigned long long)vmm_stats_quantile(r, 0.5), (unsigned long long)vmm_stats_quantile(r, 0.99));
		bool hf = true;
		for (unsigned k = 0; r->hist && k < VMM_HIST_BUCKETS; k++) {
			if (!r->hist[k])
				continue;
			fprintf(out, "%s[%llu,%llu,%u]", hf ? "" : ",", (unsigned long long)vmm_hist_lower(k),
				(unsigned long long)vmm_hist_upper(k), r->hist[k]);
			hf = false;
		}
		fprintf(out, "]}");
		first = false;
	}
	/* Timeline: slots up to the last non-empty one; each slot lists [reason, count] pairs. */
	unsigned last = 0;
	for (unsigned i = 0; i < VMM_TIMELINE_SLOTS; i++)
		for (unsigned r = 0; r < VMM_STATS_REASONS; r++)
			if (s->timeline[i][r])
				last = i + 1;
	fprintf(out, "],\n\"timeline\":{\"slot_ns\":%llu,\"slots\":[", (unsigned long long)s->slot_ns);
	for (unsigned i = 0; i < last; i++) {
		fprintf(out, "%s[", i ? "," : "");
		bool f = true;
		for (unsigned r = 0; r < VMM_STATS_REASONS; r++)
			if (s->timeline[i][r]) {
				fprintf(out, "%s[%u,%u]", f ? "" : ",", r, s->timeline[i][r]);
				f = false;
			}
		fprintf(out, "]");
	}
	fprintf(out, "]}}\n");
	return ferror(out) ? -1 : 0;
}
