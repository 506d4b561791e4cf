/* clock.h: the monotonic nanosecond clock used for deadlines, exec time and hv_tsc_clock. */
#ifndef HVX_CORE_CLOCK_H
#define HVX_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t hvx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
