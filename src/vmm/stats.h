/* stats.h: VM-exit statistics: per-reason counts and latency histograms, exits over time, table and JSON output. */
#ifndef HVX_VMM_STATS_H
#define HVX_VMM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Reasons 0..VMM_STATS_REASONS-1 are counted individually; larger basic reasons share the last row. */
#define VMM_STATS_REASONS 80

/*
 * Latency histogram: log-linear buckets. Values below 16 ns have a bucket each; above, every power of two
 * is split into 16 equal sub-buckets, so a bucket's width is at most 1/16 of its lower bound (p50/p99
 * estimates are within 6.25 %).
 */
#define VMM_HIST_SUB 16
#define VMM_HIST_BUCKETS (VMM_HIST_SUB + 60 * VMM_HIST_SUB)
unsigned vmm_hist_bucket(uint64_t ns);
uint64_t vmm_hist_lower(unsigned bucket);  /* smallest value in the bucket */
uint64_t vmm_hist_upper(unsigned bucket);  /* largest value in the bucket */

/* Exits over time: VMM_TIMELINE_SLOTS slots; when time runs past the last, pairs merge and slots double. */
#define VMM_TIMELINE_SLOTS 128
#define VMM_TIMELINE_FIRST_NS 1000000ull   /* first slot width: 1 ms */

struct vmm_reason_stats {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns, max_ns;
	uint32_t *hist;              /* VMM_HIST_BUCKETS counters, allocated on first use */
};

struct vmm_stats {
	struct vmm_reason_stats r[VMM_STATS_REASONS];
	uint64_t total;
	uint64_t slot_ns;            /* current slot width */
	uint32_t timeline[VMM_TIMELINE_SLOTS][VMM_STATS_REASONS];
	uint64_t wall_ns;            /* guest run time (set by the VMM at the end) */
	uint64_t guest_ns;           /* time inside hv_vcpu_run, summed over vCPUs */
	char backend[16];
	char image[256];
	unsigned cpus;
	int exit_status;
	bool oom;                    /* a histogram could not be allocated: percentiles are partial */
};

void vmm_stats_init(struct vmm_stats *s);
void vmm_stats_free(struct vmm_stats *s);
/* One exit: basic reason, handling latency and the time since the run started. */
void vmm_stats_record(struct vmm_stats *s, unsigned reason, uint64_t latency_ns, uint64_t at_ns);
/* dst += src (timelines re-aligned to the wider slot). */
void vmm_stats_merge(struct vmm_stats *dst, const struct vmm_stats *src);
/* Latency quantile (0 < q <= 1) of a reason from its histogram, clamped to [min, max]; 0 without samples. */
uint64_t vmm_stats_quantile(const struct vmm_reason_stats *r, double q);
double vmm_stats_mean(const struct vmm_reason_stats *r);

void vmm_stats_print_table(const struct vmm_stats *s, FILE *out);
/* JSON document (schema "hvx-stats/1", described in docs/vmm.md); returns 0 or -1 on a write error. */
int vmm_stats_write_json(const struct vmm_stats *s, FILE *out);

/* Short display name for a basic reason ("IO", "EPT_VIOLATION", "reason 99"). */
const char *vmm_reason_name(unsigned reason, char *buf, unsigned size);

#endif
