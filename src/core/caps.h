/* caps.h: the capability words a backend advertises (hv_vmx_read_capability, hv_capability, hv_vmx_get_msr_info) and the reasons it can produce. */
#ifndef HVX_CORE_CAPS_H
#define HVX_CORE_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include <Hypervisor/hv_vmx.h>

/* Index of a hv_vmx_capability_t in hvx_caps.vmx (0..16 map to themselves, HV_VMX_CAP_PREEMPTION_TIMER to 17). */
#define HVX_VMX_CAP_SLOTS 18
int hvx_caps_vmx_slot(uint32_t cap); /* -1 for an unknown capability */

#define HVX_MSR_INFO_SLOTS 9

struct hvx_caps {
	uint64_t vmx[HVX_VMX_CAP_SLOTS];        /* control words: allowed-0 in 31:0, allowed-1 in 63:32 */
	uint64_t msr_info[HVX_MSR_INFO_SLOTS];
	uint64_t vcpu_max;
	uint64_t space_max;
	uint64_t reasons[2];                    /* bit n: the backend can produce basic reason n (0..127) */
	const char *const *reason_notes;        /* [n]: why basic reason n is not produced, or NULL (128 entries) */
};

static inline bool hvx_caps_produces(const struct hvx_caps *c, unsigned reason)
{
	return reason < 128 && ((c->reasons[reason / 64] >> (reason % 64)) & 1);
}

/* Does a control word satisfy its capability (every must-be-1 bit set, no bit outside may-be-1)? */
static inline bool hvx_ctrl_allowed(uint64_t cap, uint32_t value)
{
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);
	return (value & must1) == must1 && (value & ~may1) == 0;
}

/* Intel's default1 bits of each control word (spec vmx-exits 4.1-4.5). */
#define HVX_PIN_DEFAULT1 0x00000016u
#define HVX_PROC_DEFAULT1 0x0401e172u
#define HVX_EXIT_DEFAULT1 0x00036dffu
#define HVX_ENTRY_DEFAULT1 0x000011ffu

#endif
