/* vmcs.c: the VMCS field table built from vmcs_fields.def, and lookup of a field by encoding. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "vcpu.h"
#include "vmcs.h"

#define HVX_FIELD_OFFSET(name)                                                                                      \
	(HVX_SLOT_##name == HVX_SLOT_GUEST_RSP      ? offsetof(struct hvx_vcpu_state, gpr[HVX_RSP])                 \
	 : HVX_SLOT_##name == HVX_SLOT_GUEST_RIP    ? offsetof(struct hvx_vcpu_state, rip)                          \
	 : HVX_SLOT_##name == HVX_SLOT_GUEST_RFLAGS ? offsetof(struct hvx_vcpu_state, rflags)                       \
						   : offsetof(struct hvx_vcpu_state, vmcs) + 8u * HVX_SLOT_##name)

const struct hvx_vmcs_field hvx_vmcs_fields[] = {
#define HVX_VMCS_FIELD(name, enc, access, group) \
	{enc, "VMCS_" #name, HVX_ACCESS_##access, HVX_GROUP_##group, (uint32_t)HVX_FIELD_OFFSET(name)},
#include "vmcs_fields.def"
#undef HVX_VMCS_FIELD
};

const size_t hvx_vmcs_field_count = sizeof hvx_vmcs_fields / sizeof hvx_vmcs_fields[0];

/* The lookup table of hvx_vmcs_field_find (vmcs.h). */
uint8_t hvx_vmcs_slot_by_key[512];
_Atomic bool hvx_vmcs_slots_built;

/* Built at library load, so lookups on the run path need no once-guard. */
__attribute__((constructor)) void hvx_vmcs_build_slots(void)
{
	for (size_t i = 0; i < hvx_vmcs_field_count; i++)
		hvx_vmcs_slot_by_key[hvx_vmcs_key_of(hvx_vmcs_fields[i].encoding)] = (uint8_t)(i + 1);
	atomic_store_explicit(&hvx_vmcs_slots_built, true, memory_order_release);
}

uint64_t hvx_vmcs_width_mask(uint32_t enc)
{
	switch (hvx_vmcs_width_of(enc)) {
	case HVX_VMCS_W16: return 0xffffull;
	case HVX_VMCS_W32: return 0xffffffffull;
	default: return (enc & 1) ? 0xffffffffull : ~0ull;
	}
}
