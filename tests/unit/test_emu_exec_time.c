/* test_emu_exec_time.c: hv_vcpu_get_exec_time accumulates the time spent inside hv_vcpu_run (TSC-timed where the host has an invariant TSC), in nanoseconds. */
#include <time.h>

#include "emu_guest.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t exec_time(struct eg *g)
{
	uint64_t t = 0;
	assert_int_equal(hv_vcpu_get_exec_time(g->vcpu, &t), HV_SUCCESS);
	return t;
}

/* A guest spinning until a 30 ms deadline: its exec time grows by the run's length, never by more than the wall
 * time around the call, and not at all while the vCPU is outside hv_vcpu_run. */
static void test_exec_time_tracks_runs(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t spin[] = {0xeb, 0xfe}; /* jmp $ */
	eg_load(&g, EG_CODE, spin, sizeof spin);
	uint64_t before = exec_time(&g);
	for (int round = 0; round < 2; round++) {
		uint64_t t0 = mono_ns();
		assert_int_equal(hv_vcpu_run_until(g.vcpu, t0 + 30000000), HV_SUCCESS);
		uint64_t wall = mono_ns() - t0;
		assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), VMX_REASON_VMX_TIMER_EXPIRED);
		uint64_t after = exec_time(&g);
		uint64_t ran = after - before;
		if (ran < 29000000 || ran > wall + wall / 50 + 100000)
			fail_msg("round %d: exec time grew by %llu ns for a run of %llu ns (deadline 30 ms)", round,
				 (unsigned long long)ran, (unsigned long long)wall);
		/* outside hv_vcpu_run nothing accrues */
		struct timespec pause = {0, 5000000};
		nanosleep(&pause, NULL);
		assert_int_equal(exec_time(&g), after);
		before = after;
	}
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_exec_time_tracks_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
