/* hv_vmx.c: VMCS access through the field table, write capabilities, shadow VMCS, VMX capabilities, APIC address. */
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)

/* Apple's value rules for the conditionally writable fields (spec 3.4). */
__attribute__((hot)) hv_return_t hvx_vmcs_check_value(uint32_t encoding, uint64_t value)
{
	switch (encoding) {
	case VMCS_GUEST_CR0:
		return (value & (CR0_CD | CR0_NW)) ? HV_BAD_ARGUMENT : HV_SUCCESS;
	case VMCS_CTRL_CR0_MASK:
		return (value & (CR0_CD | CR0_NW)) == (CR0_CD | CR0_NW) ? HV_SUCCESS : HV_BAD_ARGUMENT;
	case VMCS_GUEST_ACTIVITY_STATE:
		return value <= 1 ? HV_SUCCESS : HV_BAD_ARGUMENT; /* active or HLT */
	default:
		return HV_SUCCESS;
	}
}

/* The read path when the field's group is still held by the backend (backends that cache state): bring it back,
 * then read again. A tail call, so that the fast path keeps nothing live across a call. */
static __attribute__((noinline)) hv_return_t vmcs_fetch_then_read(struct hvx_vcpu *vcpu, uint32_t field, uint64_t *value)
{
	hvx_vcpu_fresh(vcpu, hvx_vmcs_accessor_of(field)->group);
	return hv_vmx_vcpu_read_vmcs(vcpu->id, field, value);
}

/* Each accessor reads its encoding's one entry of hvx_vmcs_accessors (offset, width mask, group, access flags) and moves
 * 8 bytes at the offset: a narrower field's slot holds zeros above its width, an exit-record member is masked. */
__attribute__((hot)) HVX_EXPORT hv_return_t hv_vmx_vcpu_read_vmcs(hv_vcpuid_t id, uint32_t field, uint64_t *value)
{
	struct hvx_vcpu *vcpu = hvx_vcpu_if_owned(id);
	if (__builtin_expect(!vcpu, 0))
		return hvx_vcpu_refused();
	const struct hvx_vmcs_accessor *a = hvx_vmcs_accessor_of(field);
	if (!(a->flags & HVX_VMCS_READABLE) || !value)
		return HV_BAD_ARGUMENT;
	if (__builtin_expect(vcpu->stale & a->group, 0))
		return vmcs_fetch_then_read(vcpu, field, value);
	uint64_t v;
	memcpy(&v, (const char *)&vcpu->state + a->offset, sizeof v);
	*value = v & a->mask;
	return HV_SUCCESS;
}

/* The write path for everything but a plain write (HVX_VMCS_PLAIN_WRITE): refusal, a group still held by the backend,
 * the value rule of a conditionally writable field, and a high half (which keeps bits 31:0). */
static __attribute__((noinline)) hv_return_t vmcs_write_slow(struct hvx_vcpu *vcpu, const struct hvx_vmcs_accessor *a,
							     uint32_t field, uint64_t value)
{
	if (!(a->flags & HVX_VMCS_WRITABLE))
		return HV_BAD_ARGUMENT;
	hvx_vcpu_fresh(vcpu, a->group);
	char *slot = (char *)&vcpu->state + a->offset;
	uint64_t full = value & a->mask;
	if (a->flags & HVX_VMCS_HIGH_HALF) { /* bits 63:32 of the 64-bit slot that starts 4 bytes before */
		slot -= 4;
		uint32_t low;
		memcpy(&low, slot, sizeof low);
		full = low | value << 32;
	}
	if (a->flags & HVX_VMCS_VALUE_RULE) {
		hv_return_t ret = hvx_vmcs_check_value(field & ~1u, full);
		if (ret != HV_SUCCESS)
			return ret;
	}
	memcpy(slot, &full, sizeof full);
	hvx_vcpu_touch(vcpu, a->group);
	return HV_SUCCESS;
}

__attribute__((hot)) HVX_EXPORT hv_return_t hv_vmx_vcpu_write_vmcs(hv_vcpuid_t id, uint32_t field, uint64_t value)
{
	struct hvx_vcpu *vcpu = hvx_vcpu_if_owned(id);
	if (__builtin_expect(!vcpu, 0))
		return hvx_vcpu_refused();
	const struct hvx_vmcs_accessor *a = hvx_vmcs_accessor_of(field);
	uint32_t group = a->group;
	if (__builtin_expect(!(a->flags & HVX_VMCS_PLAIN_WRITE) || (vcpu->stale & group), 0))
		return vmcs_write_slow(vcpu, a, field, value);
	uint64_t full = value & a->mask; /* narrower fields keep only their width (as VMWRITE does) */
	memcpy((char *)&vcpu->state + a->offset, &full, sizeof full);
	hvx_vcpu_touch(vcpu, group);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vmx_vcpu_get_cap_write_vmcs(hv_vcpuid_t id, uint32_t field, uint64_t *allowed_0,
						      uint64_t *allowed_1)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	const struct hvx_vmcs_field *f = hvx_vmcs_field_find(field);
	if (!f || f->access == HVX_ACCESS_NONE || f->access == HVX_ACCESS_RO || !allowed_0 || !allowed_1)
		return HV_BAD_ARGUMENT;
	const struct hvx_caps *c = vcpu->vm->backend->caps();
	uint64_t a0 = 0, a1 = hvx_vmcs_width_mask(field);
	int cap = -1;
	switch (f->encoding) {
	case VMCS_CTRL_PIN_BASED: cap = HV_VMX_CAP_PINBASED; break;
	case VMCS_CTRL_CPU_BASED: cap = HV_VMX_CAP_PROCBASED; break;
	case VMCS_CTRL_CPU_BASED2: cap = HV_VMX_CAP_PROCBASED2; break;
	case VMCS_CTRL_VMENTRY_CONTROLS: cap = HV_VMX_CAP_ENTRY; break;
	case VMCS_CTRL_VMEXIT_CONTROLS: cap = HV_VMX_CAP_EXIT; break;
	case VMCS_GUEST_CR0: a1 &= ~(CR0_CD | CR0_NW); break;
	case VMCS_CTRL_CR0_MASK: a0 = CR0_CD | CR0_NW; break;
	case VMCS_GUEST_ACTIVITY_STATE: a1 = 1; break;
	default: break;
	}
	if (cap >= 0) {
		a0 = (uint32_t)c->vmx[cap];
		a1 = c->vmx[cap] >> 32;
	}
	if (field & 1) { /* high half of a 64-bit field */
		a0 >>= 32;
		a1 = 0xffffffffull;
	}
	*allowed_0 = a0;
	*allowed_1 = a1;
	return HV_SUCCESS;
}

/* Shadow VMCS needs the backend to allow "VMCS shadowing" in its secondary controls. */
static hv_return_t shadow_vcpu(hv_vcpuid_t id, uint32_t field, struct hvx_vcpu **out, const struct hvx_vmcs_field **f)
{
	hv_return_t ret = hvx_owned_vcpu(id, out);
	if (ret != HV_SUCCESS)
		return ret;
	*f = hvx_vmcs_field_find(field);
	if (!*f)
		return HV_BAD_ARGUMENT;
	const struct hvx_caps *c = (*out)->vm->backend->caps();
	if (!((c->vmx[HV_VMX_CAP_PROCBASED2] >> 32) & CPU_BASED2_VMCS_SHADOW))
		return HV_UNSUPPORTED;
	struct hvx_vcpu *v = *out;
	if (!v->shadow_vmcs) {
		v->shadow_vmcs = calloc(HVX_VMCS_SLOTS, sizeof *v->shadow_vmcs);
		v->shadow_access = calloc(HVX_VMCS_SLOTS, 1);
		if (!v->shadow_vmcs || !v->shadow_access) {
			free(v->shadow_vmcs);
			free(v->shadow_access);
			v->shadow_vmcs = NULL;
			v->shadow_access = NULL;
			return HV_NO_RESOURCES;
		}
	}
	return HV_SUCCESS;
}

static unsigned slot_of(const struct hvx_vmcs_field *f)
{
	return (unsigned)(f - hvx_vmcs_fields);
}

HVX_EXPORT hv_return_t hv_vmx_vcpu_read_shadow_vmcs(hv_vcpuid_t id, uint32_t field, uint64_t *value)
{
	struct hvx_vcpu *v;
	const struct hvx_vmcs_field *f;
	hv_return_t ret = shadow_vcpu(id, field, &v, &f);
	if (ret != HV_SUCCESS)
		return ret;
	if (!value)
		return HV_BAD_ARGUMENT;
	uint64_t x = v->shadow_vmcs[slot_of(f)];
	*value = (field & 1) ? x >> 32 : x & hvx_vmcs_width_mask(field);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vmx_vcpu_write_shadow_vmcs(hv_vcpuid_t id, uint32_t field, uint64_t value)
{
	struct hvx_vcpu *v;
	const struct hvx_vmcs_field *f;
	hv_return_t ret = shadow_vcpu(id, field, &v, &f);
	if (ret != HV_SUCCESS)
		return ret;
	uint64_t *slot = &v->shadow_vmcs[slot_of(f)];
	*slot = (field & 1) ? (*slot & 0xffffffffull) | (value << 32) : value & hvx_vmcs_width_mask(field);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vmx_vcpu_set_shadow_access(hv_vcpuid_t id, uint32_t field, hv_shadow_flags_t flags)
{
	struct hvx_vcpu *v;
	const struct hvx_vmcs_field *f;
	hv_return_t ret = shadow_vcpu(id, field, &v, &f);
	if (ret != HV_SUCCESS)
		return ret;
	if (flags & ~(hv_shadow_flags_t)(HV_SHADOW_VMCS_READ | HV_SHADOW_VMCS_WRITE))
		return HV_BAD_ARGUMENT;
	v->shadow_access[slot_of(f)] = (uint8_t)flags;
	hvx_vcpu_touch(v, HVX_GROUP_CONTROL);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vmx_read_capability(hv_vmx_capability_t field, uint64_t *value)
{
	int slot = hvx_caps_vmx_slot((uint32_t)field);
	if (slot < 0 || !value)
		return HV_BAD_ARGUMENT;
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	const struct hvx_backend_ops *b = hvx_capability_backend();
	if (b)
		*value = b->caps()->vmx[slot];
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return b ? HV_SUCCESS : HV_NO_DEVICE;
}

HVX_EXPORT hv_return_t hv_vmx_get_msr_info(hv_vmx_msr_info_t field, uint64_t *value)
{
	if (field >= HVX_MSR_INFO_SLOTS || !value)
		return HV_BAD_ARGUMENT;
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	const struct hvx_backend_ops *b = hvx_capability_backend();
	if (b)
		*value = b->caps()->msr_info[field];
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return b ? HV_SUCCESS : HV_NO_DEVICE;
}

HVX_EXPORT hv_return_t hv_vmx_vcpu_set_apic_address_space(hv_vcpuid_t id, hv_vm_space_t asid, hv_gpaddr_t gpa)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if ((gpa & HVX_PAGE_MASK) || gpa >= HVX_GPA_LIMIT)
		return HV_BAD_ARGUMENT;
	pthread_rwlock_rdlock(&vcpu->vm->memmap.lock);
	bool valid = hvx_memmap_space_valid(&vcpu->vm->memmap, asid);
	pthread_rwlock_unlock(&vcpu->vm->memmap.lock);
	if (!valid)
		return HV_BAD_ARGUMENT;
	vcpu->apic_gpa = gpa;
	vcpu->apic_space = asid;
	vcpu->state.vmcs[HVX_SLOT_CTRL_APIC_ACCESS] = gpa;
	hvx_vcpu_touch(vcpu, HVX_GROUP_CONTROL);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vmx_vcpu_set_apic_address(hv_vcpuid_t id, hv_gpaddr_t gpa)
{
	return hv_vmx_vcpu_set_apic_address_space(id, HV_VM_SPACE_DEFAULT, gpa);
}
