/* msr.c: the guest's MSR policy: VMCS-held and framework-held MSRs, APIC base, VMM-kept values, --msr overrides, #GP. */
#include <string.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_arch_vmx.h>
#include <Hypervisor/hv_vmx.h>

#include "vcpu.h"

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MTRRCAP 0xfe
#define MSR_MISC_ENABLE 0x1a0
#define MSR_DEBUGCTL 0x1d9
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_EFER 0xc0000080
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define EFER_LMA (1ull << 10)

/* MSRs that live in the VMCS. */
static const struct {
	uint32_t msr, field;
} vmcs_msrs[] = {
	{MSR_SYSENTER_CS, VMCS_GUEST_IA32_SYSENTER_CS}, {MSR_SYSENTER_ESP, VMCS_GUEST_SYSENTER_ESP},
	{MSR_SYSENTER_EIP, VMCS_GUEST_SYSENTER_EIP},    {MSR_DEBUGCTL, VMCS_GUEST_IA32_DEBUGCTL},
	{MSR_PAT, VMCS_GUEST_IA32_PAT},                 {MSR_FS_BASE, VMCS_GUEST_FS_BASE},
	{MSR_GS_BASE, VMCS_GUEST_GS_BASE},
};

/* MSRs the framework holds (hv_vcpu_read_msr / hv_vcpu_write_msr). */
static const uint32_t framework_msrs[] = {MSR_TSC, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000102, 0xc0000103};

static int slot(struct vmm_msr_file *f, uint32_t msr)
{
	for (unsigned i = 0; i < f->count; i++)
		if (f->msr[i] == msr)
			return (int)i;
	return -1;
}

static void set_slot(struct vmm_msr_file *f, uint32_t msr, uint64_t value)
{
	int i = slot(f, msr);
	if (i < 0) {
		if (f->count == VMM_MSR_SLOTS)
			return;
		i = (int)f->count++;
		f->msr[i] = msr;
	}
	f->value[i] = value;
}

void vmm_msr_file_init(struct vmm_msr_file *f, const struct vmm_config *cfg)
{
	memset(f, 0, sizeof *f);
	set_slot(f, MSR_MTRRCAP, 0x508);            /* 8 variable ranges, fixed ranges, write-combining */
	set_slot(f, MSR_MTRR_DEF_TYPE, 0);
	for (uint32_t m = 0x200; m < 0x210; m++)    /* variable-range MTRR base/mask pairs */
		set_slot(f, m, 0);
	static const uint32_t fixed[] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f};
	for (unsigned i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		set_slot(f, fixed[i], 0);
	set_slot(f, MSR_MISC_ENABLE, 1);            /* fast strings */
	set_slot(f, MSR_FEATURE_CONTROL, 1);        /* locked, VMX off */
	set_slot(f, 0x8b, 0);                       /* microcode signature */
	set_slot(f, 0x17, 0);                       /* platform id */
	set_slot(f, 0x179, 0);                      /* MCG_CAP: no banks */
	set_slot(f, 0x17a, 0);                      /* MCG_STATUS */
	for (unsigned i = 0; i < cfg->nmsr; i++)
		set_slot(f, cfg->msr[i].msr, cfg->msr[i].value);
}

static bool overridden(const struct vmm_config *cfg, uint32_t msr)
{
	for (unsigned i = 0; i < cfg->nmsr; i++)
		if (cfg->msr[i].msr == msr)
			return true;
	return false;
}

enum vmm_msr_result vmm_msr_read(struct vmm_vcpu *v, uint32_t msr, uint64_t *value)
{
	struct vmm *vm = v->vm;
	if (overridden(&vm->cfg, msr)) {
		*value = v->msrs.value[slot(&v->msrs, msr)];
		return MSR_OK;
	}
	if (msr == MSR_APIC_BASE) {
		pthread_mutex_lock(&vm->lock);
		*value = vm->dev->lapic[v->index].apic_base_msr;
		pthread_mutex_unlock(&vm->lock);
		return MSR_OK;
	}
	if (msr == MSR_EFER)
		return hv_vmx_vcpu_read_vmcs(v->id, VMCS_GUEST_IA32_EFER, value) ? MSR_GP : MSR_OK;
	for (unsigned i = 0; i < sizeof vmcs_msrs / sizeof vmcs_msrs[0]; i++)
		if (vmcs_msrs[i].msr == msr)
			return hv_vmx_vcpu_read_vmcs(v->id, vmcs_msrs[i].field, value) ? MSR_GP : MSR_OK;
	for (unsigned i = 0; i < sizeof framework_msrs / sizeof framework_msrs[0]; i++)
		if (framework_msrs[i] == msr) {
			if (hv_vcpu_read_msr(v->id, msr, value) == HV_SUCCESS)
				return MSR_OK;
			if (msr == MSR_TSC) {
				*value = vmm_now_ns() - vm->start_ns;
				return MSR_OK;
			}
			*value = 0;
			return MSR_OK;
		}
	int i = slot(&v->msrs, msr);
	if (i >= 0) {
		*value = v->msrs.value[i];
		return MSR_OK;
	}
	if (vm->cfg.ignore_msrs) {
		*value = 0;
		return MSR_OK;
	}
	return MSR_GP;
}

enum vmm_msr_result vmm_msr_write(struct vmm_vcpu *v, uint32_t msr, uint64_t value)
{
	struct vmm *vm = v->vm;
	if (overridden(&vm->cfg, msr)) {
		set_slot(&v->msrs, msr, value);
		return MSR_OK;
	}
	if (msr == MSR_APIC_BASE) {
		pthread_mutex_lock(&vm->lock);
		struct lapic *l = &vm->dev->lapic[v->index];
		l->apic_base_msr = (value & 0xfffff0900ull) | (l->apic_base_msr & 0x100); /* BSP bit is read-only */
		pthread_mutex_unlock(&vm->lock);
		return MSR_OK;
	}
	if (msr == MSR_EFER) {
		uint64_t cur = 0;
		if (value & ~0xd01ull)
			return MSR_GP; /* only SCE, LME, LMA (read-only), NXE are valid */
		hv_vmx_vcpu_read_vmcs(v->id, VMCS_GUEST_IA32_EFER, &cur);
		value = (value & ~EFER_LMA) | (cur & EFER_LMA);
		return hv_vmx_vcpu_write_vmcs(v->id, VMCS_GUEST_IA32_EFER, value) ? MSR_GP : MSR_OK;
	}
	for (unsigned i = 0; i < sizeof vmcs_msrs / sizeof vmcs_msrs[0]; i++)
		if (vmcs_msrs[i].msr == msr)
			return hv_vmx_vcpu_write_vmcs(v->id, vmcs_msrs[i].field, value) ? MSR_GP : MSR_OK;
	for (unsigned i = 0; i < sizeof framework_msrs / sizeof framework_msrs[0]; i++)
		if (framework_msrs[i] == msr) {
			hv_vcpu_write_msr(v->id, msr, value);
			return MSR_OK;
		}
	int i = slot(&v->msrs, msr);
	if (i >= 0) {
		if (msr == MSR_MTRRCAP || msr == MSR_FEATURE_CONTROL)
			return MSR_GP; /* read-only */
		v->msrs.value[i] = value;
		return MSR_OK;
	}
	return vm->cfg.ignore_msrs ? MSR_OK : MSR_GP;
}

bool vmm_parse_msr_override(const char *text, struct vmm_msr_override *o)
{
	char buf[96];
	if (strlen(text) >= sizeof buf)
		return false;
	strcpy(buf, text);
	char *eq = strchr(buf, '=');
	if (!eq)
		return false;
	*eq = 0;
	uint64_t n, v;
	if (!vmm_parse_u64(buf, &n) || n > 0xffffffffu || !vmm_parse_u64(eq + 1, &v))
		return false;
	o->msr = (uint32_t)n;
	o->value = v;
	return true;
}
