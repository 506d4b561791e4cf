/* guest_state.c: the VM-entry guest-state checks (SDM 26.3.1) shared by the emu and kvm backends; pure, table-driven per segment register. */
#include "core/guest_state.h"

#include <stddef.h>

#include "core/vmcs.h"

/* Segment-register indexes, in the order of the VMCS guest selector / base / limit / access-rights slots. */
enum { GS_ES, GS_CS, GS_SS, GS_DS, GS_FS, GS_GS, GS_LDTR, GS_TR, GS_COUNT };

#define AR_TYPE(ar) ((ar) & 0xfu)
#define AR_S (1u << 4)
#define AR_DPL(ar) (((ar) >> 5) & 3u)
#define AR_P (1u << 7)
#define AR_L (1u << 13)
#define AR_D (1u << 14)
#define AR_G (1u << 15)
#define AR_UNUSABLE (1u << 16)
#define AR_RESERVED 0xfffe0f00u /* bits 11:8 and 31:17 */
#define T(n) (1u << (n))

enum base_rule { BASE_HIGH32_ZERO, BASE_CANONICAL };

/* Per-register access-rights rules outside virtual-8086 mode (SDM 26.3.1.2). */
struct seg_rule {
	uint16_t types;         /* allowed types, bit per type value */
	uint16_t types_ia32e;   /* allowed types for an IA-32e mode guest (0: same as types) */
	bool system;            /* S must be 0 (TR, LDTR), else 1 */
	bool always;            /* checked even when marked unusable (CS; TR must be usable) */
	enum base_rule base;
};

static const struct seg_rule seg_rules[GS_COUNT] = {
	/* DS/ES/FS/GS: accessed, and readable if code */
	[GS_ES] = { T(1) | T(3) | T(5) | T(7) | T(11) | T(15), 0, false, false, BASE_HIGH32_ZERO },
	[GS_CS] = { T(9) | T(11) | T(13) | T(15), 0, false, true, BASE_HIGH32_ZERO },
	[GS_SS] = { T(3) | T(7), 0, false, false, BASE_HIGH32_ZERO },
	[GS_DS] = { T(1) | T(3) | T(5) | T(7) | T(11) | T(15), 0, false, false, BASE_HIGH32_ZERO },
	[GS_FS] = { T(1) | T(3) | T(5) | T(7) | T(11) | T(15), 0, false, false, BASE_CANONICAL },
	[GS_GS] = { T(1) | T(3) | T(5) | T(7) | T(11) | T(15), 0, false, false, BASE_CANONICAL },
	[GS_LDTR] = { T(2), 0, true, false, BASE_CANONICAL },
	[GS_TR] = { T(3) | T(11), T(11), true, true, BASE_CANONICAL }, /* busy 16-bit or 32/64-bit TSS */
};

/* The G bit agrees with the limit: limit[11:0] != 0xfff needs G = 0, limit[31:20] != 0 needs G = 1. */
static bool granularity_ok(uint32_t limit, uint32_t ar)
{
	if ((limit & 0xfff) != 0xfff && (ar & AR_G))
		return false;
	return !((limit >> 20) && !(ar & AR_G));
}

static bool segments_ok(const struct hvx_vcpu_state *s, const struct hvx_guest_check_env *env, bool ia32e)
{
	const uint64_t *v = s->vmcs;
	uint16_t sel[GS_COUNT];
	uint32_t ar[GS_COUNT], lim[GS_COUNT];
	uint64_t base[GS_COUNT];
	for (unsigned i = 0; i < GS_COUNT; i++) {
		sel[i] = (uint16_t)v[HVX_SLOT_GUEST_ES + i];
		ar[i] = (uint32_t)v[HVX_SLOT_GUEST_ES_AR + i];
		lim[i] = (uint32_t)v[HVX_SLOT_GUEST_ES_LIMIT + i];
		base[i] = v[HVX_SLOT_GUEST_ES_BASE + i];
	}
	bool v86 = s->rflags & (1ull << 17), pe = v[HVX_SLOT_GUEST_CR0] & 1, unr = env->unrestricted;

	/* Selectors: TR.TI = 0, LDTR.TI = 0 if usable, SS.RPL = CS.RPL unless v86 or unrestricted guest. */
	if ((sel[GS_TR] & 4) || (!(ar[GS_LDTR] & AR_UNUSABLE) && (sel[GS_LDTR] & 4)))
		return false;
	if (!v86 && !unr && (sel[GS_SS] & 3) != (sel[GS_CS] & 3))
		return false;

	for (unsigned i = 0; i < GS_COUNT; i++) {
		const struct seg_rule *r = &seg_rules[i];
		bool usable = !(ar[i] & AR_UNUSABLE);
		/* Bases: FS, GS, TR canonical, LDTR if usable; CS bits 63:32 zero, SS/DS/ES if usable. */
		if (r->base == BASE_CANONICAL ? (usable || i != GS_LDTR) && !hvx_canonical(base[i], env->linear_bits)
					      : (usable || i == GS_CS) && (base[i] >> 32))
			return false;
		if (v86 && i < GS_LDTR) {
			/* Virtual-8086 guest: base = selector << 4, limit 0xffff, access rights 0xf3. */
			if (base[i] != (uint64_t)sel[i] << 4 || lim[i] != 0xffff || ar[i] != 0xf3)
				return false;
			continue;
		}
		if (i == GS_TR && !usable)
			return false;
		if (!usable && !r->always)
			continue;
		uint16_t types = ia32e && r->types_ia32e ? r->types_ia32e : r->types;
		if (i == GS_CS && unr)
			types |= T(3); /* a read/write accessed data segment as CS: real mode under unrestricted guest */
		if (!(types & T(AR_TYPE(ar[i]))) || !!(ar[i] & AR_S) == r->system || !(ar[i] & AR_P) ||
		    (ar[i] & AR_RESERVED) || !granularity_ok(lim[i], ar[i]))
			return false;
		/* DS/ES/FS/GS of type 0-11: DPL >= RPL unless unrestricted guest. */
		if (!unr && i != GS_CS && i != GS_SS && i < GS_LDTR && AR_TYPE(ar[i]) <= 11 &&
		    AR_DPL(ar[i]) < (sel[i] & 3u))
			return false;
	}
	if (v86)
		return true;

	/* DPL rules of CS and SS (checked whether SS is usable or not). */
	unsigned cs_type = AR_TYPE(ar[GS_CS]), cs_dpl = AR_DPL(ar[GS_CS]), ss_dpl = AR_DPL(ar[GS_SS]);
	if (cs_type == 3 && cs_dpl != 0)
		return false;
	if ((cs_type == 9 || cs_type == 11) && cs_dpl != ss_dpl)
		return false;
	if ((cs_type == 13 || cs_type == 15) && cs_dpl > ss_dpl)
		return false;
	if (!unr && ss_dpl != (sel[GS_SS] & 3u))
		return false;
	if ((cs_type == 3 || !pe) && ss_dpl != 0)
		return false;
	/* IA-32e mode guest in 64-bit mode: CS.L = 1 needs CS.D = 0. */
	return !(ia32e && (ar[GS_CS] & AR_L) && (ar[GS_CS] & AR_D));
}

/* PAT: each byte a valid memory type (0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-). */
static bool pat_ok(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

bool hvx_guest_state_check(const struct hvx_vcpu_state *s, const struct hvx_guest_check_env *env, uint64_t *qual)
{
	const uint64_t *v = s->vmcs;
	uint32_t entry = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_CONTROLS];
	bool ia32e = entry & VMENTRY_GUEST_IA32E;
	uint64_t cr0 = v[HVX_SLOT_GUEST_CR0], cr4 = v[HVX_SLOT_GUEST_CR4], rf = s->rflags;
	*qual = 0;

	/* 26.3.1.1: control registers, debug registers, MSRs. */
	if ((cr0 & (1ull << 31)) && !(cr0 & 1))
		return false; /* paging without protection */
	if (ia32e && (!(cr0 & (1ull << 31)) || !(cr4 & (1ull << 5))))
		return false; /* IA-32e mode guest needs CR0.PG and CR4.PAE */
	if (env->phys_bits < 64 && (v[HVX_SLOT_GUEST_CR3] >> env->phys_bits))
		return false;
	if ((cr4 & (1ull << 23)) && !(cr0 & (1ull << 16)))
		return false; /* CR4.CET needs CR0.WP */
	if ((entry & VMENTRY_LOAD_DBG_CONTROLS) && (env->groups & HVX_GROUP_MSR) &&
	    (v[HVX_SLOT_GUEST_IA32_DEBUGCTL] & ~0xffc3ull))
		return false; /* DEBUGCTL: bits 5:2 and 63:16 reserved */
	if ((entry & VMENTRY_LOAD_DBG_CONTROLS) && (env->groups & HVX_GROUP_DR) && (v[HVX_SLOT_GUEST_DR7] >> 32))
		return false;
	if (env->groups & HVX_GROUP_MSR) {
		if (!hvx_canonical(v[HVX_SLOT_GUEST_SYSENTER_ESP], env->linear_bits) ||
		    !hvx_canonical(v[HVX_SLOT_GUEST_SYSENTER_EIP], env->linear_bits))
			return false;
		if ((entry & VMENTRY_LOAD_IA32_PAT) && !pat_ok(v[HVX_SLOT_GUEST_IA32_PAT]))
			return false;
		uint64_t efer = v[HVX_SLOT_GUEST_IA32_EFER];
		/* EFER: SCE (0), LME (8), LMA (10), NXE (11); LMA = IA-32e mode guest; LMA = LME while paging. */
		if ((entry & VMENTRY_LOAD_EFER) &&
		    ((efer & ~0xd01ull) || !!(efer & (1ull << 10)) != ia32e ||
		     ((cr0 & (1ull << 31)) && !!(efer & (1ull << 10)) != !!(efer & (1ull << 8)))))
			return false;
	}

	/* 26.3.1.2: segment registers. */
	if (!segments_ok(s, env, ia32e))
		return false;

	/* 26.3.1.3: GDTR and IDTR. */
	if (!hvx_canonical(v[HVX_SLOT_GUEST_GDTR_BASE], env->linear_bits) ||
	    !hvx_canonical(v[HVX_SLOT_GUEST_IDTR_BASE], env->linear_bits) || v[HVX_SLOT_GUEST_GDTR_LIMIT] > 0xffff ||
	    v[HVX_SLOT_GUEST_IDTR_LIMIT] > 0xffff)
		return false;

	/* 26.3.1.4: RIP; RFLAGS bit 1 set, reserved bits 3, 5, 15 and 63:22 clear. */
	if (!hvx_guest_rip_valid(s, env->linear_bits) || !(rf & 2) || (rf & 0xffffffffffc08028ull))
		return false;

	/* 26.3.1.4-26.3.1.5: RFLAGS.IF with an injected external interrupt; interruptibility state. */
	if (env->groups & HVX_GROUP_EVENT) {
		uint32_t inj = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO];
		uint64_t intr = v[HVX_SLOT_GUEST_INTERRUPTIBILITY];
		bool valid = inj >> 31;
		unsigned type = (inj >> 8) & 7;
		bool if1 = rf & (1ull << 9);
		if (valid && type == 0 && !if1)
			return false;
		if ((intr & ~0x1full) || (intr & 3) == 3 || ((intr & 1) && !if1))
			return false; /* reserved bits 31:5; STI and MOV-SS blocking together; STI blocking with IF = 0 */
		if (valid && type == 0 && (intr & 3))
			return false; /* an external interrupt under STI or MOV-SS blocking */
		if (valid && type == 2 && (intr & 2))
			return false; /* an NMI under MOV-SS blocking */
	}
	return true;
}
