/* entry_ext.c: the late steps of an emu VM entry (SDM 26.4, 26.8): the VM-entry MSR-load list (exit 34) and the injected machine check during entry (exit 41). */
#include <string.h>

#include <hvx/hvx.h>

#include "backend/emu/emu.h"

#define ENTRY_FAILURE (1u << 31)

static bool canonical(struct emu_cpu *c, uint64_t v)
{
	unsigned bits = (c->v[HVX_SLOT_GUEST_CR4] & CR4_LA57) ? 57 : 48; /* as the emu MMU */
	return (uint64_t)(((int64_t)(v << (64 - bits))) >> (64 - bits)) == v;
}

static bool pat_valid(uint64_t v)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (v >> (8 * i)) & 0xff;
		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

/* Would WRMSR of `value` at CPL 0 raise #GP on this CPU? (values of the MSRs the emu holds; spec 6.34) */
static bool value_faults(struct emu_cpu *c, uint32_t msr, uint64_t value)
{
	switch (msr) {
	case 0xc0000082: case 0xc0000083: case 0xc0000102: /* LSTAR, CSTAR, KERNEL_GS_BASE */
	case 0x175: case 0x176:                           /* SYSENTER_ESP, SYSENTER_EIP */
		return !canonical(c, value);
	case 0xc0000084: /* FMASK: bits 63:32 reserved */
	case 0xc0000103: /* TSC_AUX: bits 63:32 reserved */
		return value >> 32;
	case 0xc0000080: /* EFER: SCE, LME, LMA (ignored), NXE; LME cannot change while paging is on */
		return (value & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) ||
		       ((c->v[HVX_SLOT_GUEST_CR0] & CR0_PG) &&
			((value ^ c->v[HVX_SLOT_GUEST_IA32_EFER]) & EFER_LME));
	case 0x277: /* PAT: each entry a valid memory type */
		return !pat_valid(value);
	case 0x1d9: /* DEBUGCTL: bits 5:2 and 63:16 reserved */
		return value & ~0xffc3ull;
	case 0xd90: /* BNDCFGS: bits 11:2 reserved, base canonical */
		return (value & 0xffcull) || !canonical(c, value & ~0xfffull);
	default:
		return false;
	}
}

/* Load one entry as WRMSR would; false if the SDM makes the entry fail (26.4): reserved bits 63:32 set, FS_BASE or
 * GS_BASE, the x2APIC range, IA32_SMM_MONITOR_CTL (writable in SMM only; the emu never loads it), IA32_SMBASE (no
 * WRMSR), an MSR this CPU does not have, or a value WRMSR would refuse. */
static bool load_one(struct emu_cpu *c, const struct hvx_msr_entry *e)
{
	uint32_t msr = e->index;
	if (e->reserved || msr == 0xc0000100u || msr == 0xc0000101u || (msr >> 8) == 0x8 || msr == 0x9b || msr == 0x9e)
		return false;
	const struct hvx_msr_desc *d = hvx_msr_find(msr);
	if (d) {
		if (value_faults(c, msr, e->value))
			return false;
		if (d->offset == HVX_MSR_COMPUTED) {
			vmx_tsc_write(c, e->value);
		} else if (msr == 0xc0000080) {
			uint64_t *efer = hvx_state_slot(c->s, d->offset);
			*efer = (e->value & ~EFER_LMA) | (*efer & EFER_LMA); /* LMA follows paging, not WRMSR */
			emu_refresh(c);
		} else if (msr == 0x174) {
			*hvx_state_slot(c->s, d->offset) = (uint32_t)e->value;
		} else {
			*hvx_state_slot(c->s, d->offset) = e->value;
		}
		return true;
	}
	for (unsigned i = 0; i < c->vcpu->managed_count; i++)
		if (c->vcpu->managed[i].msr == msr) {
			c->vcpu->managed[i].value = e->value;
			return true;
		}
	return false;
}

static bool entry_failure(struct emu_cpu *c, unsigned reason, uint64_t qual)
{
	hvx_exit_clear(c->exit);
	c->exit->reason = reason | ENTRY_FAILURE;
	c->exit->qualification = qual;
	return false;
}

/* After the guest-state checks: the MSR-load list in order (the entries before a failing one keep their effect;
 * qualification = 1-based index of the failing entry), then an injected machine check (qualification 0; the guest
 * state and MSRs are loaded, nothing runs; the injection is consumed). Failures are handled like exit 33: no guest
 * state saved, the VM-entry interruption information keeps its valid bit. */
bool vmx_entry_late(struct emu_cpu *c)
{
	for (unsigned i = 0; i < c->smm.entry_msr_count; i++)
		if (!load_one(c, &c->smm.entry_msrs[i]))
			return entry_failure(c, VMX_REASON_VMENTRY_MSR, i + 1);
	if (c->smm.entry_mc) {
		c->smm.entry_mc = false;
		return entry_failure(c, VMX_REASON_VMENTRY_MC, 0);
	}
	return true;
}
