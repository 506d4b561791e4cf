/* vmcs.c: the VMCS field table built from vmcs_fields.def, and lookup of a field by encoding. */
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

/*
 * Encodings are width(14:13) type(11:10) index(9:1) high(0); every index used is below 32, so
 * (width, type, index) packs into 9 bits. slot_by_key[key] = table index + 1 (0 = no such field).
 */
static uint8_t slot_by_key[512];
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

static unsigned key_of(uint32_t enc)
{
	return (hvx_vmcs_width_of(enc) << 7) | (hvx_vmcs_type_of(enc) << 5) | ((enc >> 1) & 31);
}

static void build_slots(void)
{
	for (size_t i = 0; i < hvx_vmcs_field_count; i++)
		slot_by_key[key_of(hvx_vmcs_fields[i].encoding)] = (uint8_t)(i + 1);
}

const struct hvx_vmcs_field *hvx_vmcs_field_find(uint32_t enc)
{
	/* Reserved bits 31:15 and 12 must be 0, indexes stay below 32, and only 64-bit fields have a high half. */
	if (enc & 0xffff9000u || ((enc >> 1) & 0x1ff) >= 32)
		return NULL;
	if ((enc & 1) && hvx_vmcs_width_of(enc) != HVX_VMCS_W64)
		return NULL;
	pthread_once(&slot_once, build_slots);
	unsigned idx = slot_by_key[key_of(enc)];
	return idx ? &hvx_vmcs_fields[idx - 1] : NULL;
}

uint64_t hvx_vmcs_width_mask(uint32_t enc)
{
	switch (hvx_vmcs_width_of(enc)) {
	case HVX_VMCS_W16: return 0xffffull;
	case HVX_VMCS_W32: return 0xffffffffull;
	default: return (enc & 1) ? 0xffffffffull : ~0ull;
	}
}
