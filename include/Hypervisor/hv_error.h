/* hv_error.h: hv_return_t and the HV_* return codes, with Apple's values. */
#ifndef __HYPERVISOR_HV_RETURN__
#define __HYPERVISOR_HV_RETURN__
#if defined(__GNUC__)
#pragma GCC system_header
#endif

#include <Hypervisor/hv_base.h>

#define err_sub_hypervisor err_sub(0xba5)
#define err_common_hypervisor (err_local | err_sub_hypervisor)

/* Values above INT_MAX: comparisons with the signed hv_return_t rely on the usual arithmetic conversions, as on macOS. */
enum {
	HV_SUCCESS = 0,
	HV_ERROR = err_common_hypervisor | 0x01,
	HV_BUSY = err_common_hypervisor | 0x02,
	HV_BAD_ARGUMENT = err_common_hypervisor | 0x03,
	HV_NO_RESOURCES = err_common_hypervisor | 0x05,
	HV_NO_DEVICE = err_common_hypervisor | 0x06,
	HV_DENIED = err_common_hypervisor | 0x07,
	HV_FAULT = err_common_hypervisor | 0x08,
	HV_UNSUPPORTED = err_common_hypervisor | 0x0f
};

typedef mach_error_t hv_return_t;

#endif /* __HYPERVISOR_HV_RETURN__ */
