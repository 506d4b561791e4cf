/* clock.h: the monotonic nanosecond clock used for deadlines and hv_tsc_clock, and the cheap cycle counter that times guest execution. */
#ifndef HVX_CORE_CLOCK_H
#define HVX_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/export.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

static inline uint64_t hvx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* True when the host has an invariant TSC (CPUID 80000007h EDX bit 8): hvx_ticks() then reads it directly. Set once
 * at library load (clock.c). */
extern bool hvx_ticks_are_tsc HVX_HIDDEN;

/* A cheap monotonic tick count for measuring intervals on the run path (guest execution time): the invariant TSC
 * where there is one (a few ns instead of a clock_gettime call), else nanoseconds. Convert with hvx_ticks_to_ns.
 * `tsc` is hvx_ticks_are_tsc, read by the caller (once for an interval's two reads: a call between them would make
 * the compiler load it again). */
static inline uint64_t hvx_ticks_from(bool tsc)
{
#if defined(__x86_64__) || defined(__i386__)
	if (tsc)
		return __rdtsc();
#else
	(void)tsc;
#endif
	return hvx_now_ns();
}

/* One tick read. */
static inline uint64_t hvx_ticks(void)
{
	return hvx_ticks_from(hvx_ticks_are_tsc);
}

/* Nanoseconds in a tick interval. The TSC rate is measured against CLOCK_MONOTONIC over the time since library load
 * (at least 2 ms; the first call may wait that long). */
uint64_t hvx_ticks_to_ns(uint64_t ticks);

#endif
