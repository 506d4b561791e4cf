/* export.h: HVX_EXPORT marks the symbols libhvx exports (everything else is hidden). */
#ifndef HVX_CORE_EXPORT_H
#define HVX_CORE_EXPORT_H
#define HVX_EXPORT __attribute__((visibility("default")))
/* On an extern declaration of library data read on a hot path: -fvisibility=hidden covers definitions only, so
 * without this the compiler reaches the data through the GOT (one more load) in case it is preempted. */
#define HVX_HIDDEN __attribute__((visibility("hidden")))
#endif
