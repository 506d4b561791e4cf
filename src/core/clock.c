/* clock.c: chooses the tick source of hvx_ticks (invariant TSC or CLOCK_MONOTONIC) and converts ticks to nanoseconds. */
#include "core/clock.h"

#include <pthread.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

bool hvx_ticks_are_tsc;
static uint64_t base_tsc, base_ns;

__attribute__((constructor)) static void choose_tick_source(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;
	if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x80000007u &&
	    __get_cpuid(0x80000007u, &a, &b, &c, &d) && (d & (1u << 8))) {
		base_ns = hvx_now_ns();
		base_tsc = __rdtsc();
		hvx_ticks_are_tsc = true;
	}
#endif
}

#define CALIBRATION_NS 2000000ull

static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static double ns_per_tick; /* 0 until measured */

uint64_t hvx_ticks_to_ns(uint64_t ticks)
{
	if (!hvx_ticks_are_tsc)
		return ticks;
#if defined(__x86_64__) || defined(__i386__)
	pthread_mutex_lock(&rate_lock);
	if (ns_per_tick == 0) {
		uint64_t ns, tsc;
		do {
			ns = hvx_now_ns();
			tsc = __rdtsc();
		} while (ns - base_ns < CALIBRATION_NS);
		ns_per_tick = tsc > base_tsc ? (double)(ns - base_ns) / (double)(tsc - base_tsc) : 1.0;
	}
	double r = ns_per_tick;
	pthread_mutex_unlock(&rate_lock);
	return (uint64_t)((double)ticks * r);
#else
	return ticks;
#endif
}
