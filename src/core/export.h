/* export.h: HVX_EXPORT marks the symbols libhvx exports (everything else is hidden). */
#ifndef HVX_CORE_EXPORT_H
#define HVX_CORE_EXPORT_H
#define HVX_EXPORT __attribute__((visibility("default")))
#endif
