/* guest_state.h: the VM-entry guest-state checks (SDM 26.3.1, exit 33) both backends share: pure functions over the vCPU state. */
#ifndef HVX_CORE_GUEST_STATE_H
#define HVX_CORE_GUEST_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vcpu.h"

/* What the checks need besides the state itself. */
struct hvx_guest_check_env {
	bool unrestricted;     /* "unrestricted guest" in effect (both backends: always) */
	unsigned phys_bits;    /* physical-address width (CR3 reserved bits) */
	unsigned linear_bits;  /* linear-address width (canonical bases, SYSENTER_ESP/EIP) */
	uint32_t groups;       /* enum hvx_state_group bits whose slots hold current values; a check reading a field of
				* another group is skipped (kvm: groups still held by KVM, which only the guest changed) */
};

/*
 * The checks of SDM 26.3.1.1-26.3.1.5 listed in docs/emu.md "VM-entry guest-state checks": control registers and
 * MSRs (CR3 width, CET/WP, DEBUGCTL and DR7 with "load debug controls", SYSENTER_ESP/EIP, PAT, EFER), segment
 * registers (selectors, bases, limits, access rights, virtual-8086 rules), GDTR/IDTR, RFLAGS.IF with an injected
 * external interrupt, and the interruptibility state. True if the state passes; else false with *qual the exit
 * qualification (0 for every check made here).
 */
bool hvx_guest_state_check(const struct hvx_vcpu_state *s, const struct hvx_guest_check_env *env, uint64_t *qual);

/* The RIP check of SDM 26.3.1.4: bits 63:32 zero unless the guest will be in 64-bit mode ("IA-32e mode guest" and
 * CS.L); then bits 63:N identical for N = linear_bits (not a canonical check: bits N-1:0 are free; none for N >= 64).
 * Apart from hvx_guest_state_check: a VMM that changed only RIP needs only this one. Inline, with a RIP below 4 GiB
 * (valid in every mode) decided first: it runs on every entry after the VMM skipped an instruction. */
static inline bool hvx_guest_rip_valid(const struct hvx_vcpu_state *s, unsigned linear_bits)
{
	if (!(s->rip >> 32) && linear_bits >= 32)
		return true;
	const uint64_t *v = s->vmcs;
	bool long64 = (v[HVX_SLOT_CTRL_VMENTRY_CONTROLS] & VMENTRY_GUEST_IA32E) && (v[HVX_SLOT_GUEST_CS_AR] & (1u << 13));
	if (!long64 || linear_bits >= 64)
		return long64;
	int64_t high = (int64_t)s->rip >> linear_bits;
	return high == 0 || high == -1;
}

/* x sign-extended from bit bits-1 equals x (always true for bits >= 64). */
static inline bool hvx_canonical(uint64_t x, unsigned bits)
{
	if (bits >= 64)
		return true;
	return (uint64_t)((int64_t)(x << (64 - bits)) >> (64 - bits)) == x;
}

#endif
