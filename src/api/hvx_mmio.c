/* hvx_mmio.c: hvx_mmio_emulate(_ex) / hvx_guest_translate: check arguments, snapshot the vCPU through the public API, run the MMIO emulator, write back. */
#include <string.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_arch_vmx.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx_mmio.h>

#include "core/export.h"
#include "mmio/mmio_internal.h"

static const hv_x86_reg_t gpr_regs[16] = {
	HV_X86_RAX, HV_X86_RCX, HV_X86_RDX, HV_X86_RBX, HV_X86_RSP, HV_X86_RBP, HV_X86_RSI, HV_X86_RDI,
	HV_X86_R8,  HV_X86_R9,  HV_X86_R10, HV_X86_R11, HV_X86_R12, HV_X86_R13, HV_X86_R14, HV_X86_R15,
};

/* Segment fields in MMIO_SEG_* order: selector, base, limit, access rights. */
static const uint32_t seg_fields[MMIO_SEG_COUNT][4] = {
	{VMCS_GUEST_ES, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR},
	{VMCS_GUEST_CS, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR},
	{VMCS_GUEST_SS, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR},
	{VMCS_GUEST_DS, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR},
	{VMCS_GUEST_FS, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR},
	{VMCS_GUEST_GS, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR},
};

/* The paging mode (CR0, CR3, CR4, EFER and CS's attributes: enough to translate); with `full` also the segment
 * registers, GPRs, RIP and RFLAGS. */
static hv_return_t snapshot(hv_vcpuid_t vcpu, struct mmio_cpu *cpu, bool full)
{
	memset(cpu, 0, sizeof *cpu);
	hv_return_t r;
	uint64_t cs_ar;
	if ((r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_CR0, &cpu->cr0)) ||
	    (r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_CR3, &cpu->cr3)) ||
	    (r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_CR4, &cpu->cr4)) ||
	    (r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_IA32_EFER, &cpu->efer)) ||
	    (r = hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_CS_AR, &cs_ar)))
		return r;
	cpu->code_bits = !(cpu->cr0 & 1) ? 16 : ((cpu->efer & (1ull << 10)) && (cs_ar & (1u << 13))) ? 64
					       : (cs_ar & (1u << 14)) ? 32 : 16;
	if (!full)
		return HV_SUCCESS; /* flat segments: a translation needs only the paging mode */
	for (unsigned i = 0; i < MMIO_SEG_COUNT; i++) {
		uint64_t sel, limit, ar;
		if ((r = hv_vmx_vcpu_read_vmcs(vcpu, seg_fields[i][0], &sel)) ||
		    (r = hv_vmx_vcpu_read_vmcs(vcpu, seg_fields[i][1], &cpu->seg_base[i])) ||
		    (r = hv_vmx_vcpu_read_vmcs(vcpu, seg_fields[i][2], &limit)) ||
		    (r = hv_vmx_vcpu_read_vmcs(vcpu, seg_fields[i][3], &ar)))
			return r;
		cpu->seg_sel[i] = (uint16_t)sel;
		cpu->seg_limit[i] = (uint32_t)limit;
		cpu->seg_ar[i] = (uint32_t)ar;
	}
	cpu->seg_full = true;
	for (unsigned i = 0; i < 16; i++)
		if ((r = hv_vcpu_read_register(vcpu, gpr_regs[i], &cpu->gpr[i])))
			return r;
	if ((r = hv_vcpu_read_register(vcpu, HV_X86_RIP, &cpu->rip)) ||
	    (r = hv_vcpu_read_register(vcpu, HV_X86_RFLAGS, &cpu->rflags)))
		return r;
	return HV_SUCCESS;
}

static int load_fpstate(void *src, uint8_t *buf)
{
	return hv_vcpu_read_fpstate(*(hv_vcpuid_t *)src, buf, 4096) == HV_SUCCESS ? 0 : -1;
}

HVX_EXPORT hv_return_t hvx_guest_translate(hv_vcpuid_t vcpu, const struct hvx_mmio_ops *ops, void *ctx, uint64_t gla,
					   uint64_t *gpa)
{
	if (!ops || !ops->ram_read || !gpa)
		return HV_BAD_ARGUMENT;
	struct mmio_cpu cpu;
	hv_return_t r = snapshot(vcpu, &cpu, false);
	if (r)
		return r;
	return mmio_translate(&cpu, ops, ctx, gla, gpa) ? HV_ERROR : HV_SUCCESS;
}

HVX_EXPORT hv_return_t hvx_mmio_emulate_ex(hv_vcpuid_t vcpu, const struct hvx_mmio_ops *ops, void *ctx,
					   struct hvx_mmio_access *access, struct hvx_mmio_fault *fault)
{
	if (fault)
		memset(fault, 0, sizeof *fault);
	if (!ops || !ops->ram_read || !ops->ram_write || !ops->mmio_read || !ops->mmio_write)
		return HV_BAD_ARGUMENT;
	struct mmio_cpu cpu;
	hv_return_t r = snapshot(vcpu, &cpu, true);
	if (r)
		return r;
	/* The vector state is read only if the instruction is an SSE move. */
	_Alignas(64) uint8_t fpstate[4096];
	cpu.fpstate = fpstate;
	cpu.load_fpstate = load_fpstate;
	cpu.load_src = &vcpu;
	cpu.fault = fault;
	r = mmio_execute(&cpu, NULL, 0, ops, ctx, access);
	if (r != HV_SUCCESS)
		return r;
	if (cpu.fpstate_dirty && (r = hv_vcpu_write_fpstate(vcpu, fpstate, sizeof fpstate)))
		return r;
	for (unsigned i = 0; i < 16; i++)
		if ((cpu.gpr_dirty & (1u << i)) && (r = hv_vcpu_write_register(vcpu, gpr_regs[i], cpu.gpr[i])))
			return r;
	if (cpu.rflags_dirty && (r = hv_vcpu_write_register(vcpu, HV_X86_RFLAGS, cpu.rflags)))
		return r;
	/* The instruction completed: blocking by STI / MOV SS (which covered only it) ends. */
	uint64_t intr;
	if (!hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_INTERRUPTIBILITY, &intr) && (intr & 3) &&
	    (r = hv_vmx_vcpu_write_vmcs(vcpu, VMCS_GUEST_INTERRUPTIBILITY, intr & ~3ull)))
		return r;
	return hv_vcpu_write_register(vcpu, HV_X86_RIP, cpu.rip);
}

HVX_EXPORT hv_return_t hvx_mmio_emulate(hv_vcpuid_t vcpu, const struct hvx_mmio_ops *ops, void *ctx,
					struct hvx_mmio_access *access)
{
	return hvx_mmio_emulate_ex(vcpu, ops, ctx, access, NULL);
}
