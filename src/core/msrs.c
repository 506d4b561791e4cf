/* msrs.c: the MSR table: MSRs whose guest value the framework holds, where each lives, and which may be made native. */
#include <stddef.h>

#include "vcpu.h"

#define VMCS_MSR(num, name, slot, bit) {num, name, offsetof(struct hvx_vcpu_state, vmcs) + 8u * (slot), HVX_GROUP_MSR, bit}
#define SOFT_MSR(num, name, member, bit) {num, name, offsetof(struct hvx_vcpu_state, member), HVX_GROUP_MSR, bit}

/* Native bits 0-11 are Apple's native set (spec 2.5); the rest are readable and writable but always exit. */
const struct hvx_msr_desc hvx_msr_table[] = {
	SOFT_MSR(0xc0000081, "STAR", msr_star, 0),
	SOFT_MSR(0xc0000082, "LSTAR", msr_lstar, 1),
	SOFT_MSR(0xc0000083, "CSTAR", msr_cstar, 2),
	SOFT_MSR(0xc0000084, "FMASK", msr_fmask, 3),
	VMCS_MSR(0xc0000100, "FS_BASE", HVX_SLOT_GUEST_FS_BASE, 4),
	VMCS_MSR(0xc0000101, "GS_BASE", HVX_SLOT_GUEST_GS_BASE, 5),
	SOFT_MSR(0xc0000102, "KERNEL_GS_BASE", msr_kernel_gs_base, 6),
	{0x00000010, "TSC", HVX_MSR_COMPUTED, HVX_GROUP_MSR, 7},
	SOFT_MSR(0xc0000103, "TSC_AUX", msr_tsc_aux, 8),
	VMCS_MSR(0x00000174, "SYSENTER_CS", HVX_SLOT_GUEST_IA32_SYSENTER_CS, 9),
	VMCS_MSR(0x00000175, "SYSENTER_ESP", HVX_SLOT_GUEST_SYSENTER_ESP, 10),
	VMCS_MSR(0x00000176, "SYSENTER_EIP", HVX_SLOT_GUEST_SYSENTER_EIP, 11),
	VMCS_MSR(0xc0000080, "EFER", HVX_SLOT_GUEST_IA32_EFER, -1),
	VMCS_MSR(0x00000277, "PAT", HVX_SLOT_GUEST_IA32_PAT, -1),
	VMCS_MSR(0x000001d9, "DEBUGCTL", HVX_SLOT_GUEST_IA32_DEBUGCTL, -1),
	VMCS_MSR(0x0000038f, "PERF_GLOBAL_CTRL", HVX_SLOT_GUEST_IA32_PERF_GLOBAL_CTRL, -1),
	VMCS_MSR(0x00000d90, "BNDCFGS", HVX_SLOT_GUEST_IA32_BNDCFGS, -1),
};
const unsigned hvx_msr_table_count = sizeof hvx_msr_table / sizeof hvx_msr_table[0];

const struct hvx_msr_desc *hvx_msr_find(uint32_t msr)
{
	for (unsigned i = 0; i < hvx_msr_table_count; i++)
		if (hvx_msr_table[i].msr == msr)
			return &hvx_msr_table[i];
	return NULL;
}

/* Apple's HV_MSR_* list (spec 4.7) less the MSRs held above: what hv_vcpu_enable_managed_msr accepts. */
static const struct {
	uint32_t first, last;
} manageable_ranges[] = {
	{0x00000048, 0x00000049}, /* SPEC_CTRL, PRED_CMD */
	{0x000000c1, 0x000000c8}, /* PMC0-7 */
	{0x0000010a, 0x0000010b}, /* ARCH_CAPABILITIES, FLUSH_CMD */
	{0x00000186, 0x0000018d}, /* PERFEVNTSEL0-7 */
	{0x000001c8, 0x000001c9}, /* LBR_SELECT, LASTBRANCH_TOS */
	{0x000001dd, 0x000001de}, /* LASTINT_FROM_IP, LASTINT_TO_IP */
	{0x00000309, 0x0000030c}, /* FIXED_CTR0-3 */
	{0x00000329, 0x00000329}, /* PERF_METRICS */
	{0x0000038d, 0x0000038e}, /* FIXED_CTR_CTRL, PERF_GLOBAL_STATUS */
	{0x00000390, 0x00000392}, /* PERF_GLOBAL_STATUS_RESET/SET/INUSE */
	{0x000004c1, 0x000004c8}, /* A_PMC0-7 */
	{0x00000680, 0x0000069f}, /* LASTBRANCH_0-31_FROM_IP */
	{0x000006c0, 0x000006df}, /* LASTBRANCH_0-31_TO_IP */
	{0x00000da0, 0x00000da0}, /* XSS */
	{0x00000dc0, 0x00000ddf}, /* LASTBRANCH_INFO_0-31 */
};

bool hvx_msr_manageable(uint32_t msr)
{
	for (unsigned i = 0; i < sizeof manageable_ranges / sizeof manageable_ranges[0]; i++)
		if (msr >= manageable_ranges[i].first && msr <= manageable_ranges[i].last)
			return true;
	return false;
}
