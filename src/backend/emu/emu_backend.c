/* emu_backend.c: the emu backend's registration: a software VMX non-root CPU (the CPU itself arrives with issue 3; until then vcpu_run is absent and hv_vcpu_run returns HV_UNSUPPORTED). */
#include "core/backend.h"
#include "core/vm.h"

static bool emu_available(const char **why)
{
	(void)why;
	return true; /* pure software: runs on any host */
}

/* Until the CPU exists, emu honours only the controls that are fixed to 1 and produces no exit. */
static const struct hvx_caps emu_caps = {
	.vmx = {
		[HV_VMX_CAP_PINBASED] = (uint64_t)HVX_PIN_DEFAULT1 << 32 | HVX_PIN_DEFAULT1,
		[HV_VMX_CAP_PROCBASED] = (uint64_t)0x04006172u << 32 | 0x04006172u,
		[HV_VMX_CAP_PROCBASED2] = 0,
		[HV_VMX_CAP_ENTRY] = (uint64_t)0x000011fbu << 32 | 0x000011fbu,
		[HV_VMX_CAP_EXIT] = (uint64_t)0x00036dfbu << 32 | 0x00036dfbu,
	},
	.vcpu_max = 64,
	.space_max = HVX_SPACE_MAX,
};

static const struct hvx_caps *emu_get_caps(void)
{
	return &emu_caps;
}

static hv_return_t emu_vm_create(struct hvx_vm *vm)
{
	(void)vm;
	return HV_SUCCESS;
}

static void emu_vm_destroy(struct hvx_vm *vm)
{
	(void)vm;
}

static hv_return_t emu_vcpu_create(struct hvx_vcpu *vcpu)
{
	(void)vcpu;
	return HV_SUCCESS;
}

static void emu_vcpu_destroy(struct hvx_vcpu *vcpu)
{
	(void)vcpu;
}

const struct hvx_backend_ops hvx_backend_emu = {
	.name = "emu",
	.description = "software x86 CPU in VMX non-root operation (any host)",
	.available = emu_available,
	.caps = emu_get_caps,
	.vm_create = emu_vm_create,
	.vm_destroy = emu_vm_destroy,
	.vcpu_create = emu_vcpu_create,
	.vcpu_destroy = emu_vcpu_destroy,
};
