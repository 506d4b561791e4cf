/* mmio.c: hvx_mmio_emulate / hvx_guest_translate: gather the vCPU state through the public API, fetch, execute, write back. */
#include <string.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_arch_vmx.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx_mmio.h>

#include "mmio_internal.h"

#ifdef HVX_BUILDING_LIBRARY
#define MMIO_EXPORT __attribute__((visibility("default")))
#else
#define MMIO_EXPORT
#endif

static const hv_x86_reg_t gpr_regs[16] = {
	HV_X86_RAX, HV_X86_RCX, HV_X86_RDX, HV_X86_RBX, HV_X86_RSP, HV_X86_RBP, HV_X86_RSI, HV_X86_RDI,
	HV_X86_R8,  HV_X86_R9,  HV_X86_R10, HV_X86_R11, HV_X86_R12, HV_X86_R13, HV_X86_R14, HV_X86_R15,
};

static int load_gpr(void *src, unsigned i, uint64_t *v)
{
	return hv_vcpu_read_register(*(hv_vcpuid_t *)src, gpr_regs[i], v) == HV_SUCCESS ? 0 : -1;
}

static hv_return_t gather(hv_vcpuid_t vcpu, struct mmio_cpu *cpu, hv_vcpuid_t *src, bool full)
{
	static const uint32_t seg_fields[MMIO_SEG_COUNT] = {
		VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
		VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
	};
	memset(cpu, 0, sizeof *cpu);
	hv_return_t r;
	uint64_t cs_ar;
	if ((r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_CR0, &cpu->cr0)) ||
	    (r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_CR3, &cpu->cr3)) ||
	    (r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_CR4, &cpu->cr4)) ||
	    (r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_IA32_EFER, &cpu->efer)) ||
	    (r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_CS_AR, &cs_ar)))
		return r;
	cpu->code_bits = ((cpu->efer & (1ull << 10)) && (cs_ar & (1u << 13))) ? 64 : (cs_ar & (1u << 14)) ? 32 : 16;
	if (!(cpu->cr0 & 1))
		cpu->code_bits = 16;
	for (unsigned i = 0; i < MMIO_SEG_COUNT; i++)
		if ((full || i == MMIO_SEG_CS) && (r = hv_vmx_vcpu_read_vmcs(vcpu, seg_fields[i], &cpu->seg_base[i])))
			return r;
	if (full && ((r = hv_vcpu_read_register(vcpu, HV_X86_RIP, &cpu->rip)) ||
		     (r = hv_vcpu_read_register(vcpu, HV_X86_RFLAGS, &cpu->rflags))))
		return r;
	*src = vcpu;
	cpu->load_gpr = load_gpr;
	cpu->load_src = src;
	return HV_SUCCESS;
}

MMIO_EXPORT hv_return_t hvx_guest_translate(hv_vcpuid_t vcpu, const struct hvx_mmio_ops *ops, void *ctx, uint64_t gla,
					    uint64_t *gpa)
{
	if (!ops || !ops->ram_read || !gpa)
		return HV_BAD_ARGUMENT;
	struct mmio_cpu cpu;
	hv_vcpuid_t src;
	hv_return_t r = gather(vcpu, &cpu, &src, false);
	if (r)
		return r;
	return mmio_translate(&cpu, ops, ctx, gla, gpa) ? HV_ERROR : HV_SUCCESS;
}

MMIO_EXPORT hv_return_t hvx_mmio_emulate(hv_vcpuid_t vcpu, const struct hvx_mmio_ops *ops, void *ctx,
					 struct hvx_mmio_access *access)
{
	if (!ops || !ops->ram_read || !ops->ram_write || !ops->mmio_read || !ops->mmio_write)
		return HV_BAD_ARGUMENT;
	struct mmio_cpu cpu;
	hv_vcpuid_t src;
	uint64_t fault_gpa;
	hv_return_t r = gather(vcpu, &cpu, &src, true);
	if (r || (r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_PHYSICAL_ADDRESS, &fault_gpa)))
		return r;

	/* Fetch up to 15 bytes at CS:RIP; the second page only matters if the instruction crosses into it. */
	uint8_t bytes[15];
	unsigned got = 0;
	uint64_t la = cpu.seg_base[MMIO_SEG_CS] + cpu.rip;
	if (cpu.code_bits != 64)
		la &= 0xffffffffull;
	while (got < sizeof bytes) {
		uint64_t gpa;
		unsigned chunk = (unsigned)(0x1000 - ((la + got) & 0xfff));
		if (chunk > sizeof bytes - got)
			chunk = (unsigned)sizeof bytes - got;
		if (mmio_translate(&cpu, ops, ctx, la + got, &gpa) || ops->ram_read(ctx, gpa, bytes + got, chunk))
			break;
		got += chunk;
	}
	if (!got)
		return HV_ERROR;

	r = mmio_execute(&cpu, fault_gpa, bytes, got, ops, ctx, access);
	if (r != HV_SUCCESS)
		return r;
	for (unsigned i = 0; i < 16; i++)
		if ((cpu.gpr_dirty & (1u << i)) && (r = hv_vcpu_write_register(vcpu, gpr_regs[i], cpu.gpr[i])))
			return r;
	if (cpu.rflags_dirty && (r = hv_vcpu_write_register(vcpu, HV_X86_RFLAGS, cpu.rflags)))
		return r;
	return hv_vcpu_write_register(vcpu, HV_X86_RIP, cpu.rip);
}
