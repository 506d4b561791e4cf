/* hv_vm_allocate.h: page-aligned, zero-filled host memory for hv_vm_map (12.0). */
#pragma once
#if defined(__GNUC__)
#pragma GCC system_header
#endif

#include <Hypervisor/hv_error.h>
#include <Hypervisor/hv_types.h>

enum {
	HV_ALLOCATE_DEFAULT = 0
};
typedef uint64_t hv_allocate_flags_t;

__HV_BEGIN_DECLS
extern hv_return_t hv_vm_allocate(void **uvap, size_t size, hv_allocate_flags_t flags);
extern hv_return_t hv_vm_deallocate(void *uva, size_t size);
__HV_END_DECLS
