/* hv_vcpu.c: vCPU lifecycle and state: create/destroy (thread binding), registers, fpstate, address space, TLB, time. */
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define HVX_VCPU_OPTIONS_KNOWN (HV_VCPU_ACCEL_RDPMC | HV_VCPU_TSC_RELATIVE)
#define HVX_FPSTATE_MIN 512 /* the legacy FXSAVE image */

/* A documented, consistent starting state: the x86 reset state as far as VMX allows (docs/api.md). */
static void reset_state(struct hvx_vcpu *vcpu, const struct hvx_caps *caps)
{
	struct hvx_vcpu_state *s = &vcpu->state;
	uint64_t *v = s->vmcs;
	s->rip = 0xfff0;
	s->rflags = 0x2;
	s->gpr[HVX_RDX] = 0x600;
	s->dr[6] = 0xffff0ff0;
	s->xcr0 = 1;
	v[HVX_SLOT_GUEST_DR7] = 0x400;
	v[HVX_SLOT_GUEST_CR0] = 0x30; /* ET | NE; CD and NW may not be set through this API */
	v[HVX_SLOT_GUEST_CR4] = 0x2000; /* VMXE, as VMX operation requires */
	v[HVX_SLOT_CTRL_CR0_MASK] = 0x60000000;
	v[HVX_SLOT_GUEST_CS] = 0xf000;
	v[HVX_SLOT_GUEST_CS_BASE] = 0xffff0000;
	for (unsigned i = 0; i < 6; i++) {
		v[HVX_SLOT_GUEST_ES_LIMIT + i] = 0xffff;
		v[HVX_SLOT_GUEST_ES_AR + i] = 0x93;
	}
	v[HVX_SLOT_GUEST_CS_AR] = 0x9b;
	v[HVX_SLOT_GUEST_LDTR_LIMIT] = 0xffff;
	v[HVX_SLOT_GUEST_LDTR_AR] = 0x82;
	v[HVX_SLOT_GUEST_TR_LIMIT] = 0xffff;
	v[HVX_SLOT_GUEST_TR_AR] = 0x8b;
	v[HVX_SLOT_GUEST_GDTR_LIMIT] = 0xffff;
	v[HVX_SLOT_GUEST_IDTR_LIMIT] = 0xffff;
	v[HVX_SLOT_GUEST_LINK_POINTER] = ~0ull;
	v[HVX_SLOT_GUEST_IA32_PAT] = 0x0007040600070406ull;
	v[HVX_SLOT_CTRL_PIN_BASED] = (uint32_t)caps->vmx[HV_VMX_CAP_PINBASED];
	v[HVX_SLOT_CTRL_CPU_BASED] = (uint32_t)caps->vmx[HV_VMX_CAP_PROCBASED];
	v[HVX_SLOT_CTRL_CPU_BASED2] = (uint32_t)caps->vmx[HV_VMX_CAP_PROCBASED2];
	v[HVX_SLOT_CTRL_VMENTRY_CONTROLS] = (uint32_t)caps->vmx[HV_VMX_CAP_ENTRY];
	v[HVX_SLOT_CTRL_VMEXIT_CONTROLS] = (uint32_t)caps->vmx[HV_VMX_CAP_EXIT];
	/* fpstate: FNINIT and reset MXCSR; XSTATE_BV says x87 and SSE state are present. */
	memset(s->fpstate, 0, sizeof s->fpstate);
	s->fpstate[0] = 0x7f;
	s->fpstate[1] = 0x03;
	s->fpstate[24] = 0x80;
	s->fpstate[25] = 0x1f;
	s->fpstate[28] = 0xff; /* MXCSR_MASK 0xffff */
	s->fpstate[29] = 0xff;
	s->fpstate[512] = 0x3;
	vcpu->apic_gpa = ~0ull;
	vcpu->dirty = vcpu->unchecked = HVX_GROUP_ALL;
}

HVX_EXPORT hv_return_t hv_vcpu_create(hv_vcpuid_t *out, hv_vcpu_options_t flags)
{
	if (!out || (flags & ~(hv_vcpu_options_t)HVX_VCPU_OPTIONS_KNOWN))
		return HV_BAD_ARGUMENT;
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	struct hvx_vm *vm = hvx_the_vm;
	hv_return_t ret = HV_NO_DEVICE;
	if (!vm)
		goto out;
	ret = HV_BUSY;
	if (hvx_current_vcpu())
		goto out; /* a thread owns one vCPU at a time */
	const struct hvx_caps *caps = vm->backend->caps();
	pthread_mutex_lock(&vm->lock);
	ret = HV_NO_RESOURCES;
	unsigned id = 0;
	while (id < HVX_VCPU_MAX && vm->vcpus[id])
		id++;
	struct hvx_vcpu *vcpu = NULL;
	if (id >= HVX_VCPU_MAX || vm->vcpu_count >= caps->vcpu_max ||
	    posix_memalign((void **)&vcpu, 64, sizeof *vcpu))
		goto unlock;
	memset(vcpu, 0, sizeof *vcpu);
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->owner_key = id;
	vcpu->owner = pthread_self();
	vcpu->space = HV_VM_SPACE_DEFAULT;
	vcpu->options = flags;
	reset_state(vcpu, caps);
	ret = vm->backend->vcpu_create(vcpu);
	if (ret != HV_SUCCESS) {
		free(vcpu);
		goto unlock;
	}
	vm->vcpus[id] = vcpu;
	vm->vcpu_count++;
	hvx_bind_thread(vcpu);
	*out = id;
unlock:
	pthread_mutex_unlock(&vm->lock);
out:
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

static void vcpu_free(struct hvx_vcpu *vcpu)
{
	struct hvx_vm *vm = vcpu->vm;
	pthread_mutex_lock(&vm->lock);
	vm->backend->vcpu_destroy(vcpu);
	vm->vcpus[vcpu->id] = NULL;
	vm->vcpu_count--;
	pthread_mutex_unlock(&vm->lock);
	free(vcpu->managed);
	free(vcpu->shadow_vmcs);
	free(vcpu->shadow_access);
	free(vcpu);
}

/* The owner thread is exiting without hv_vcpu_destroy: release the vCPU as destroy would. */
void hvx_vcpu_release_on_thread_exit(struct hvx_vcpu *vcpu)
{
	vcpu_free(vcpu);
}

HVX_EXPORT hv_return_t hv_vcpu_destroy(hv_vcpuid_t id)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	hvx_unbind_thread();
	vcpu_free(vcpu);
	return HV_SUCCESS;
}

hv_return_t hvx_vcpu_refused(void)
{
	return hvx_the_vm ? HV_BAD_ARGUMENT : HV_NO_DEVICE;
}

HVX_EXPORT hv_return_t hv_vcpu_set_space(hv_vcpuid_t id, hv_vm_space_t asid)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	pthread_rwlock_rdlock(&vcpu->vm->memmap.lock);
	bool valid = hvx_memmap_space_valid(&vcpu->vm->memmap, asid);
	pthread_rwlock_unlock(&vcpu->vm->memmap.lock);
	if (!valid)
		return HV_BAD_ARGUMENT;
	vcpu->space = asid;
	hvx_vcpu_touch(vcpu, HVX_GROUP_CONTROL);
	return HV_SUCCESS;
}

/* The read path when the register's group is still held by the backend: bring it back, then read. Out of line (a tail
 * call), so that the fast path is a leaf. */
static __attribute__((noinline)) hv_return_t register_fetch_then_read(struct hvx_vcpu *vcpu, const struct hvx_reg_desc *d,
								      uint64_t *value)
{
	hvx_vcpu_fresh(vcpu, d->group);
	*value = *hvx_state_slot(&vcpu->state, d->offset);
	return HV_SUCCESS;
}

__attribute__((hot)) HVX_EXPORT hv_return_t hv_vcpu_read_register(hv_vcpuid_t id, hv_x86_reg_t reg, uint64_t *value)
{
	struct hvx_vcpu *vcpu = hvx_vcpu_if_owned(id);
	if (__builtin_expect(!vcpu, 0))
		return hvx_vcpu_refused();
	if ((unsigned)reg >= HV_X86_REGISTERS_MAX || !value)
		return HV_BAD_ARGUMENT;
	const struct hvx_reg_desc *d = &hvx_reg_table[reg];
	if (__builtin_expect(vcpu->stale & d->group, 0))
		return register_fetch_then_read(vcpu, d, value);
	*value = *hvx_state_slot(&vcpu->state, d->offset);
	return HV_SUCCESS;
}

/* Value rules shared with VMCS writes (CR0 may not set CD/NW). */
hv_return_t hvx_vmcs_check_value(uint32_t encoding, uint64_t value);

/* The write path of a register that aliases a VMCS field (its value rule and width apply) or whose group the backend
 * still holds. Out of line (a tail call), so that the fast path for the general-purpose registers is a leaf. */
static __attribute__((noinline)) hv_return_t register_write_slow(struct hvx_vcpu *vcpu, const struct hvx_reg_desc *d,
								 uint64_t value)
{
	if (d->vmcs_encoding) {
		hv_return_t ret = hvx_vmcs_check_value(d->vmcs_encoding, value);
		if (ret != HV_SUCCESS)
			return ret;
		value &= hvx_vmcs_width_mask(d->vmcs_encoding);
	}
	hvx_vcpu_fresh(vcpu, d->group);
	*hvx_state_slot(&vcpu->state, d->offset) = value;
	hvx_vcpu_touch(vcpu, d->group);
	return HV_SUCCESS;
}

__attribute__((hot)) HVX_EXPORT hv_return_t hv_vcpu_write_register(hv_vcpuid_t id, hv_x86_reg_t reg, uint64_t value)
{
	struct hvx_vcpu *vcpu = hvx_vcpu_if_owned(id);
	if (__builtin_expect(!vcpu, 0))
		return hvx_vcpu_refused();
	if ((unsigned)reg >= HV_X86_REGISTERS_MAX)
		return HV_BAD_ARGUMENT;
	const struct hvx_reg_desc *d = &hvx_reg_table[reg];
	uint32_t group = d->group;
	if (__builtin_expect((vcpu->stale & group) | d->vmcs_encoding, 0)) /* one test for both */
		return register_write_slow(vcpu, d, value);
	*hvx_state_slot(&vcpu->state, d->offset) = value;
	hvx_vcpu_touch(vcpu, group);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_read_fpstate(hv_vcpuid_t id, void *buffer, size_t size)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!buffer || size < HVX_FPSTATE_MIN)
		return HV_BAD_ARGUMENT;
	hvx_vcpu_fresh(vcpu, HVX_GROUP_FPU);
	memcpy(buffer, vcpu->state.fpstate, size < HVX_FPSTATE_SIZE ? size : HVX_FPSTATE_SIZE);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_write_fpstate(hv_vcpuid_t id, void *buffer, size_t size)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!buffer || size < HVX_FPSTATE_MIN)
		return HV_BAD_ARGUMENT;
	hvx_vcpu_fresh(vcpu, HVX_GROUP_FPU);
	memcpy(vcpu->state.fpstate, buffer, size < HVX_FPSTATE_SIZE ? size : HVX_FPSTATE_SIZE);
	hvx_vcpu_touch(vcpu, HVX_GROUP_FPU);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_flush(hv_vcpuid_t id)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	return ret != HV_SUCCESS ? ret : HV_UNSUPPORTED; /* a no-op since macOS 11 */
}

HVX_EXPORT hv_return_t hv_vcpu_invalidate_tlb(hv_vcpuid_t id)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (vcpu->vm->backend->vcpu_invalidate_tlb)
		vcpu->vm->backend->vcpu_invalidate_tlb(vcpu);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_get_exec_time(hv_vcpuid_t id, uint64_t *time)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!time)
		return HV_BAD_ARGUMENT;
	*time = hvx_ticks_to_ns(vcpu->exec_ticks);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_get_idle_time(hv_vcpuid_t id, uint64_t *time)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!time)
		return HV_BAD_ARGUMENT;
	*time = 0; /* idling instructions always exit to the client: the framework never idles on its own */
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_set_tsc_relative(hv_vcpuid_t id, int64_t offset)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	vcpu->state.vmcs[HVX_SLOT_CTRL_TSC_OFFSET] = (uint64_t)offset;
	hvx_vcpu_touch(vcpu, HVX_GROUP_CONTROL);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_vmx_status(hv_vcpuid_t id, uint32_t *status)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!status)
		return HV_BAD_ARGUMENT;
	if (!vcpu->has_run)
		return HV_ERROR;
	*status = vcpu->last_entry_failed ? vcpu->entry_status : 0;
	return HV_SUCCESS;
}
