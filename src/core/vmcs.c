/* vmcs.c: the VMCS field table built from vmcs_fields.def, and lookup of a field by encoding. */
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

/* The lookup table of hvx_vmcs_field_find (vmcs.h), built by the compiler: two fields with the same key would be an
 * overriding initializer, an error under -Werror. */
enum {
#define HVX_VMCS_FIELD(name, enc, access, group) HVX_FIELD_INDEX_##name,
#include "vmcs_fields.def"
#undef HVX_VMCS_FIELD
	HVX_FIELD_INDEX_COUNT
};
_Static_assert(HVX_FIELD_INDEX_COUNT < 256, "table indexes + 1 must fit the uint8_t lookup entries");

const uint8_t hvx_vmcs_index_by_encoding[HVX_VMCS_ENCODING_LIMIT] = {
#define HVX_VMCS_FIELD(name, enc, access, group)                                                                    \
	[enc] = HVX_FIELD_INDEX_##name + 1,                                                                         \
	[(enc) | 1] = (((enc) >> 13) & 3) == HVX_VMCS_W64 ? HVX_FIELD_INDEX_##name + 1 : 0, /* the high half */
#include "vmcs_fields.def"
#undef HVX_VMCS_FIELD
};
