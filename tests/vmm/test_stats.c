/* test_stats.c: unit tests of the exit statistics (histogram buckets, quantiles, mean, merge, timeline, JSON) and the JSON reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "stats.h"

static void buckets_cover_every_value(void **state)
{
	(void)state;
	for (unsigned b = 0; b + 1 < VMM_HIST_BUCKETS; b++) {
		assert_int_equal(vmm_hist_upper(b) + 1, vmm_hist_lower(b + 1));
		assert_int_equal(vmm_hist_bucket(vmm_hist_lower(b)), b);
		assert_int_equal(vmm_hist_bucket(vmm_hist_upper(b)), b);
	}
	for (uint64_t v = 0; v < 16; v++)
		assert_int_equal(vmm_hist_bucket(v), v);             /* exact below 16 ns */
	/* relative bucket width at most 1/16 */
	for (unsigned b = 16; b + 1 < VMM_HIST_BUCKETS; b += 37)
		assert_true((vmm_hist_upper(b) - vmm_hist_lower(b) + 1) * 16 <= vmm_hist_lower(b));
	assert_int_equal(vmm_hist_bucket(UINT64_MAX), VMM_HIST_BUCKETS - 1);
}

static void quantiles_and_mean(void **state)
{
	(void)state;
	static struct vmm_stats s;
	vmm_stats_init(&s);
	for (uint64_t i = 1; i <= 10; i++)
		vmm_stats_record(&s, 30, i, 0);                      /* 1..10 ns: exact buckets */
	const struct vmm_reason_stats *r = &s.r[30];
	assert_int_equal(r->count, 10);
	assert_true(vmm_stats_mean(r) > 5.49 && vmm_stats_mean(r) < 5.51);
	assert_int_equal(vmm_stats_quantile(r, 0.5), 5);
	assert_int_equal(vmm_stats_quantile(r, 0.99), 10);
	assert_int_equal(vmm_stats_quantile(r, 0.1), 1);
	assert_int_equal(r->min_ns, 1);
	assert_int_equal(r->max_ns, 10);
	/* 990 fast exits and 10 slow ones: p50 fast, p99 fast, max slow */
	for (int i = 0; i < 990; i++)
		vmm_stats_record(&s, 12, 1000, 0);
	for (int i = 0; i < 10; i++)
		vmm_stats_record(&s, 12, 1000000, 0);
	r = &s.r[12];
	uint64_t p50 = vmm_stats_quantile(r, 0.5), p99 = vmm_stats_quantile(r, 0.99), p999 = vmm_stats_quantile(r, 0.999);
	assert_true(p50 >= 1000 && p50 <= 1000 * 17 / 16);
	assert_true(p99 >= 1000 && p99 <= 1000 * 17 / 16);
	assert_true(p999 >= 1000000 * 15 / 16 && p999 <= 1000000);
	assert_int_equal(s.total, 1010);
	assert_int_equal(vmm_stats_quantile(&s.r[0], 0.5), 0);   /* no samples */
	vmm_stats_free(&s);
}

static void reasons_beyond_the_table_share_a_row(void **state)
{
	(void)state;
	static struct vmm_stats s;
	vmm_stats_init(&s);
	vmm_stats_record(&s, 500, 7, 0);
	assert_int_equal(s.r[VMM_STATS_REASONS - 1].count, 1);
	char name[40];
	assert_string_equal(vmm_reason_name(30, name, sizeof name), "IO");
	vmm_stats_free(&s);
}

static void timeline_widens(void **state)
{
	(void)state;
	static struct vmm_stats s;
	vmm_stats_init(&s);
	vmm_stats_record(&s, 30, 1, 0);
	vmm_stats_record(&s, 30, 1, VMM_TIMELINE_FIRST_NS * 3 / 2);
	assert_int_equal(s.timeline[1][30], 1);
	vmm_stats_record(&s, 10, 1, VMM_TIMELINE_FIRST_NS * VMM_TIMELINE_SLOTS * 3); /* 3x past the end */
	assert_int_equal(s.slot_ns, VMM_TIMELINE_FIRST_NS * 4);
	assert_int_equal(s.timeline[0][30], 2);
	uint64_t sum = 0;
	for (unsigned i = 0; i < VMM_TIMELINE_SLOTS; i++)
		for (unsigned r = 0; r < VMM_STATS_REASONS; r++)
			sum += s.timeline[i][r];
	assert_int_equal(sum, 3);
	vmm_stats_free(&s);
}

static void merge_adds_up(void **state)
{
	(void)state;
	static struct vmm_stats a, b;
	vmm_stats_init(&a);
	vmm_stats_init(&b);
	vmm_stats_record(&a, 30, 100, 0);
	vmm_stats_record(&b, 30, 300, VMM_TIMELINE_FIRST_NS * VMM_TIMELINE_SLOTS * 2);
	vmm_stats_record(&b, 12, 5, 0);
	vmm_stats_merge(&a, &b);
	assert_int_equal(a.total, 3);
	assert_int_equal(a.r[30].count, 2);
	assert_int_equal(a.r[30].min_ns, 100);
	assert_int_equal(a.r[30].max_ns, 300);
	assert_int_equal(a.r[30].sum_ns, 400);
	assert_int_equal(a.slot_ns, b.slot_ns);
	uint64_t sum = 0;
	for (unsigned i = 0; i < VMM_TIMELINE_SLOTS; i++)
		sum += a.timeline[i][30] + a.timeline[i][12];
	assert_int_equal(sum, 3);
	vmm_stats_free(&a);
	vmm_stats_free(&b);
}

static void json_round_trip(void **state)
{
	(void)state;
	static struct vmm_stats s;
	vmm_stats_init(&s);
	snprintf(s.backend, sizeof s.backend, "emu");
	snprintf(s.image, sizeof s.image, "a \"quoted\" name\\");
	for (int i = 0; i < 100; i++)
		vmm_stats_record(&s, 30, 50 + (uint64_t)i, (uint64_t)i * 100000);
	vmm_stats_record(&s, 10, 20, 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(vmm_stats_write_json(&s, f), 0);
	fclose(f);
	char err[128];
	struct json *j = json_parse(buf, len, err, sizeof err);
	assert_non_null(j);
	assert_string_equal(json_str(json_get(j, "schema"), ""), "hvx-stats/1");
	assert_string_equal(json_str(json_get(j, "image"), ""), "a \"quoted\" name\\");
	assert_int_equal((int)json_num(json_get(j, "total_exits"), 0), 101);
	const struct json *rs = json_get(j, "reasons");
	assert_int_equal(rs->n, 2);
	assert_int_equal((int)json_num(json_get(&rs->items[1], "count"), 0), 100);
	assert_string_equal(json_str(json_get(&rs->items[1], "name"), ""), "IO");
	double share = json_num(json_get(&rs->items[0], "share"), 0) + json_num(json_get(&rs->items[1], "share"), 0);
	assert_true(share > 0.9999 && share < 1.0001);
	json_free(j);
	free(buf);
	vmm_stats_free(&s);
}

static void json_reader_errors(void **state)
{
	(void)state;
	char err[128];
	const char *bad[] = {"", "{", "[1,]", "{\"a\" 1}", "{\"a\":1} x", "\"unterminated", "[1 2]", "nul", "{\"a\":\"\\q\"}",
			     ("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
			      "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct json *j = json_parse(bad[i], strlen(bad[i]), err, sizeof err);
		assert_null(j);
		assert_true(strncmp(err, "line ", 5) == 0);
	}
	struct json *j = json_parse(" {\"x\": [true, false, null, -1.5e3, \"\\u0041\\n\"]} ", 47, err, sizeof err);
	assert_non_null(j);
	const struct json *x = json_get(j, "x");
	assert_int_equal(x->n, 5);
	assert_true(json_num(&x->items[3], 0) == -1500);
	assert_string_equal(json_str(&x->items[4], ""), "A\n");
	assert_null(json_get(j, "y"));
	assert_null(json_get(x, "x"));
	json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buckets_cover_every_value),
		cmocka_unit_test(quantiles_and_mean),
		cmocka_unit_test(reasons_beyond_the_table_share_a_row),
		cmocka_unit_test(timeline_widens),
		cmocka_unit_test(merge_adds_up),
		cmocka_unit_test(json_round_trip),
		cmocka_unit_test(json_reader_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
