/* sys.c: system instructions: CPUID, TSC, MSRs, control and debug registers, descriptor tables, TLB control, VMX and other exiting instructions. */
#include <string.h>

#include "backend/emu/emu.h"
#include "backend/emu/cpu/handlers.h"

static void need_cpl0(struct emu_cpu *c)
{
	if (c->cpl != 0)
		emu_gp0(c);
}

/* ---- CPUID: exactly what this CPU implements ---- */
void emu_cpuid(struct emu_cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	memset(r, 0, 16);
	uint64_t cr4 = c->v[HVX_SLOT_GUEST_CR4];
	switch (leaf) {
	case 0:
		r[0] = 0xd;
		memcpy(&r[1], "Genu", 4);
		memcpy(&r[3], "ineI", 4);
		memcpy(&r[2], "ntel", 4);
		break;
	case 1:
		r[0] = 0x000306a9; /* family 6 */
		r[1] = (8u << 8) | (1u << 16) | ((uint32_t)c->vcpu->id << 24);
		r[2] = (1u << 3) /* MONITOR */ |
		       (1u << 13) /* CX16 */ | (1u << 17) /* PCID */ | (1u << 22) /* MOVBE */ | (1u << 23) /* POPCNT */ |
		       (1u << 26) /* XSAVE */ | ((cr4 & CR4_OSXSAVE) ? (1u << 27) : 0) | (1u << 30) /* RDRAND */ |
		       (1u << 31) /* hypervisor */;
		r[3] = (emu_have_x87() ? 1u : 0u) /* FPU */ | (1u << 3) /* PSE */ | (1u << 4) /* TSC */ | (1u << 5) /* MSR */ |
		       (1u << 6) /* PAE */ | (1u << 8) /* CX8 */ | (1u << 11) /* SEP */ | (1u << 13) /* PGE */ |
		       (1u << 15) /* CMOV */ | (1u << 16) /* PAT */ | (1u << 17) /* PSE36 */ | (1u << 19) /* CLFSH */ |
		       (1u << 24) /* FXSR */ | (1u << 25) /* SSE */ | (1u << 26) /* SSE2 */;
		break;
	case 7:
		if (sub == 0)
			r[1] = (1u << 0) /* FSGSBASE */ | (1u << 3) /* BMI1 */ | (1u << 7) /* SMEP */ | (1u << 8) /* BMI2 */ |
			       (1u << 10) /* INVPCID */ | (1u << 18) /* RDSEED */ | (1u << 19) /* ADX */ | (1u << 20) /* SMAP */;
		if (sub == 0)
			r[2] = (1u << 16) /* LA57 */;
		break;
	case 0xd:
		if (sub == 0) {
			r[0] = 3; /* x87 | SSE */
			r[1] = 576;
			r[2] = 576;
		} else if (sub == 1) {
			r[0] = 0;
		}
		break;
	case 0x80000000: r[0] = 0x80000008; break;
	case 0x80000001:
		r[2] = (1u << 0) /* LAHF */ | (1u << 5) /* LZCNT */;
		r[3] = (1u << 11) /* SYSCALL */ | (1u << 20) /* NX */ | (1u << 26) /* 1G pages */ | (1u << 27) /* RDTSCP */ |
		       (1u << 29) /* LM */;
		break;
	case 0x80000008: r[0] = EMU_PHYS_BITS | (EMU_LINEAR_BITS << 8); break; /* physical, linear address bits */
	default: break;
	}
}

void h_cpuid(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	vmx_exit_insn_return(c, VMX_REASON_CPUID, 0, 0); /* unconditional in VMX non-root operation */
}

void h_simple_exit(struct emu_cpu *c, const struct emu_insn *in)
{
	/* aux: 0 HLT, 1 INVD, 2 WBINVD, 3 VMCALL, 4 GETSEC, 5 RSM, 6 MONITOR, 7 MWAIT, 8 RDPMC, 9 PAUSE */
	switch (in->aux) {
	case 0:
		need_cpl0(c);
		if (vmx_cls(c, IC_HLT)) {
			vmx_exit_insn_return(c, VMX_REASON_HLT, 0, 0);
			return;
		}
		c->s->rip = c->next_rip;
		vmx_halt(c);
	case 1:
		need_cpl0(c);
		vmx_exit_insn(c, VMX_REASON_INVD, 0, 0);
	case 2:
		need_cpl0(c);
		if (vmx_cls(c, IC_WBINVD))
			vmx_exit_insn(c, VMX_REASON_WBINVD, 0, 0);
		break;
	case 3:
		vmx_exit_insn(c, VMX_REASON_VMCALL, 0, 0);
	case 4:
		if (!(c->v[HVX_SLOT_GUEST_CR4] & CR4_SMXE))
			emu_ud(c);
		vmx_exit_insn(c, VMX_REASON_GETSEC, 0, 0);
	case 5:
		vmx_rsm(c); /* exits in an SMM guest (dual-monitor model) */
		emu_ud(c); /* RSM outside SMM */
	case 6:
		if (c->cpl)
			emu_ud(c);
		if (vmx_cls(c, IC_MONITOR))
			vmx_exit_insn(c, VMX_REASON_MONITOR, 0, 0);
		c->monitor_armed = true;
		break;
	case 7:
		if (c->cpl)
			emu_ud(c);
		if (vmx_cls(c, IC_MWAIT))
			vmx_exit_insn(c, VMX_REASON_MWAIT, c->monitor_armed ? 1 : 0, 0);
		c->monitor_armed = false;
		break;
	case 8:
		if (c->cpl && !(c->v[HVX_SLOT_GUEST_CR4] & CR4_PCE))
			emu_gp0(c);
		if (vmx_cls(c, IC_RDPMC))
			vmx_exit_insn(c, VMX_REASON_RDPMC, 0, 0);
		if ((uint32_t)c->s->gpr[HVX_RCX] > 7)
			emu_gp0(c);
		reg_set(c, HVX_RAX, 4, false, 0);
		reg_set(c, HVX_RDX, 4, false, 0);
		break;
	default:
		vmx_pause(c, in);
		break;
	}
}

void h_rdtsc(struct emu_cpu *c, const struct emu_insn *in)
{
	bool p = in->aux;
	if (p && !vmx_cls(c, IC_RDTSCP_OK))
		emu_ud(c);
	if (c->cpl && (c->v[HVX_SLOT_GUEST_CR4] & CR4_TSD))
		emu_gp0(c);
	if (vmx_cls(c, IC_RDTSC))
		vmx_exit_insn(c, p ? VMX_REASON_RDTSCP : VMX_REASON_RDTSC, 0, 0);
	uint64_t t = vmx_tsc(c);
	reg_set(c, HVX_RAX, 4, false, t & 0xffffffff);
	reg_set(c, HVX_RDX, 4, false, t >> 32);
	if (p)
		reg_set(c, HVX_RCX, 4, false, c->s->msr_tsc_aux & 0xffffffff);
}

void h_rdrand(struct emu_cpu *c, const struct emu_insn *in)
{
	bool seed = in->aux;
	if (vmx_cls(c, seed ? IC_RDSEED : IC_RDRAND)) {
		unsigned osz = in->op[0].size;
		uint32_t info = ((uint32_t)in->op[0].reg << 3) | ((osz == 2 ? 0u : osz == 4 ? 1u : 2u) << 11);
		vmx_exit_insn(c, seed ? VMX_REASON_RDSEED : VMX_REASON_RDRAND, 0, info);
	}
	/* xorshift on the TSC: not cryptographic, but always "ready" */
	uint64_t x = vmx_tsc(c) ^ (c->icount * 0x9e3779b97f4a7c15ull) ^ (uintptr_t)c;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	op_write(c, in, 0, x);
	emu_set_flags(c, FL_CF, FL_ARITH);
}

/* ---- MSRs ---- */
void h_msr(struct emu_cpu *c, const struct emu_insn *in)
{
	bool wr = in->aux;
	need_cpl0(c);
	uint32_t msr = (uint32_t)c->s->gpr[HVX_RCX];
	if (vmx_msr_exits(c, msr, wr))
		vmx_exit_insn(c, wr ? VMX_REASON_WRMSR : VMX_REASON_RDMSR, 0, 0);
	/* Native or managed: the stored value is the MSR. */
	uint64_t val = (c->s->gpr[HVX_RDX] << 32) | (uint32_t)c->s->gpr[HVX_RAX];
	if ((c->proc2 & CPU_BASED2_X2APIC) && (msr & ~0xffu) == 0x800 && apicv_msr(c, msr, wr, val))
		return; /* virtualized on the virtual-APIC page */
	const struct hvx_msr_desc *d = hvx_msr_find(msr);
	if (d) {
		if (d->offset == HVX_MSR_COMPUTED) {
			if (wr)
				vmx_tsc_write(c, val);
			else
				val = vmx_tsc(c);
		} else if (wr) {
			*hvx_state_slot(c->s, d->offset) = val;
			if (msr == 0xc0000100 || msr == 0xc0000101)
				emu_seg_update(c, msr == 0xc0000100 ? SEG_FS : SEG_GS);
		} else {
			val = *hvx_state_slot(c->s, d->offset);
		}
	} else {
		bool held = false;
		for (unsigned i = 0; i < c->vcpu->managed_count; i++)
			if (c->vcpu->managed[i].msr == msr) {
				held = true;
				if (wr)
					c->vcpu->managed[i].value = val;
				else
					val = c->vcpu->managed[i].value;
			}
		if (!held && msr == 0xe1)
			held = emu_umwait_control_msr(c, wr, &val); /* IA32_UMWAIT_CONTROL */
		if (!held)
			emu_gp0(c); /* let through by the VMM's MSR bitmap, but not an MSR this CPU has */
	}
	if (!wr) {
		reg_set(c, HVX_RAX, 4, false, val & 0xffffffff);
		reg_set(c, HVX_RDX, 4, false, val >> 32);
	}
}

/* ---- control registers ---- */
void h_movcr(struct emu_cpu *c, const struct emu_insn *in)
{
	bool to_cr = in->op[0].kind == OK_CR;
	unsigned cr = to_cr ? in->op[0].reg : in->op[1].reg;
	unsigned gpr = to_cr ? in->op[1].reg : in->op[0].reg;
	if (cr == 1 || cr == 5 || cr == 6 || cr == 7 || cr > 8 || (cr == 8 && c->mode != EM_LONG64))
		emu_ud(c);
	need_cpl0(c);
	if (to_cr) {
		uint64_t v = c->s->gpr[gpr];
		if (c->mode != EM_LONG64)
			v &= 0xffffffffull;
		v = vmx_cr_access(c, in, cr, true, gpr, v);
		cr_write(c, cr, v);
	} else {
		vmx_cr_access(c, in, cr, false, gpr, 0);
		uint64_t v;
		switch (cr) {
		case 0: v = vmx_cr_read_shadowed(c, 0); break;
		case 2: v = c->s->cr2; break;
		case 3: v = c->v[HVX_SLOT_GUEST_CR3]; break;
		case 4: v = vmx_cr_read_shadowed(c, 4); break;
		default: v = (c->s->tpr >> 4) & 0xf; break;
		}
		reg_set(c, gpr, c->mode == EM_LONG64 ? 8 : 4, false, v);
	}
}

void h_clts(struct emu_cpu *c, const struct emu_insn *in)
{
	need_cpl0(c);
	vmx_clts(c, in);
}

void h_lmsw(struct emu_cpu *c, const struct emu_insn *in)
{
	need_cpl0(c);
	bool mem = in->op[0].kind == OK_MEM;
	uint64_t la = 0;
	if (mem)
		la = seg_linear(c, in->seg, op_addr(c, in), 2, ACC_R);
	uint16_t src = (uint16_t)op_read(c, in, 0);
	vmx_lmsw(c, in, src, mem, la);
}

void h_smsw(struct emu_cpu *c, const struct emu_insn *in)
{
	if (c->cpl && (c->v[HVX_SLOT_GUEST_CR4] & CR4_UMIP))
		emu_gp0(c);
	uint64_t v = vmx_cr_read_shadowed(c, 0);
	if (in->op[0].kind == OK_MEM)
		op_write(c, in, 0, v & 0xffff);
	else
		reg_set(c, in->op[0].reg, in->op[0].size, false, v);
}

void h_movdr(struct emu_cpu *c, const struct emu_insn *in)
{
	bool to_dr = in->op[0].kind == OK_DR;
	unsigned dr = to_dr ? in->op[0].reg : in->op[1].reg;
	unsigned gpr = to_dr ? in->op[1].reg : in->op[0].reg;
	if (vmx_cls(c, IC_MOVDR))
		vmx_exit_insn(c, VMX_REASON_MOV_DR, (dr & 7) | (to_dr ? 0 : 0x10) | ((uint64_t)gpr << 8), 0);
	need_cpl0(c);
	if ((dr == 4 || dr == 5) && (c->v[HVX_SLOT_GUEST_CR4] & CR4_DE))
		emu_ud(c);
	if (dr == 4)
		dr = 6;
	if (dr == 5)
		dr = 7;
	if (to_dr) {
		uint64_t v = c->s->gpr[gpr];
		if (c->mode != EM_LONG64)
			v &= 0xffffffff;
		if (dr >= 6 && (v >> 32))
			emu_gp0(c);
		if (dr == 7)
			c->v[HVX_SLOT_GUEST_DR7] = v | 0x400;
		else if (dr == 6)
			c->s->dr[6] = v | 0xffff0ff0;
		else
			c->s->dr[dr] = v;
	} else {
		uint64_t v = dr == 7 ? c->v[HVX_SLOT_GUEST_DR7] : c->s->dr[dr];
		reg_set(c, gpr, c->mode == EM_LONG64 ? 8 : 4, false, v);
	}
}

/* ---- descriptor tables ---- */
void h_dtable(struct emu_cpu *c, const struct emu_insn *in)
{
	/* aux: 0 SGDT 1 SIDT 2 LGDT 3 LIDT */
	unsigned id = in->aux;
	if (in->op[0].kind != OK_MEM)
		emu_ud(c);
	if (id >= 2)
		need_cpl0(c);
	else if (c->cpl && (c->v[HVX_SLOT_GUEST_CR4] & CR4_UMIP))
		emu_gp0(c);
	if (vmx_cls(c, IC_DESC)) {
		uint32_t info = vmx_mem_info(c, in) | ((c->mode != EM_LONG64 && in->osz == 4 ? 1u : 0u) << 11) | (id << 28);
		vmx_exit_insn(c, VMX_REASON_GDTR_IDTR, vmx_disp_qual(c, in), info);
	}
	unsigned slot_b = (id & 1) ? HVX_SLOT_GUEST_IDTR_BASE : HVX_SLOT_GUEST_GDTR_BASE;
	unsigned slot_l = (id & 1) ? HVX_SLOT_GUEST_IDTR_LIMIT : HVX_SLOT_GUEST_GDTR_LIMIT;
	uint64_t a = op_addr(c, in);
	unsigned bsz = c->mode == EM_LONG64 ? 8 : 4;
	if (id >= 2) {
		uint64_t lim = mem_read(c, in->seg, a, 2);
		uint64_t base = mem_read(c, in->seg, (a + 2) & sz_mask(in->asz), bsz);
		if (bsz == 4 && in->osz == 2)
			base &= 0xffffff;
		c->v[slot_b] = base;
		c->v[slot_l] = lim;
	} else {
		uint64_t base = c->v[slot_b];
		mem_write(c, in->seg, a, 2, c->v[slot_l]);
		mem_write(c, in->seg, (a + 2) & sz_mask(in->asz), bsz, base);
	}
}

void h_ldtr_tr(struct emu_cpu *c, const struct emu_insn *in)
{
	/* aux: 0 SLDT 1 STR 2 LLDT 3 LTR */
	unsigned id = in->aux;
	if (c->mode == EM_REAL || c->mode == EM_V86)
		emu_ud(c);
	if (id >= 2)
		need_cpl0(c);
	else if (c->cpl && (c->v[HVX_SLOT_GUEST_CR4] & CR4_UMIP))
		emu_gp0(c);
	if (vmx_cls(c, IC_DESC)) {
		bool reg = in->op[0].kind != OK_MEM;
		uint32_t info = (reg ? ((uint32_t)in->op[0].reg << 3) | (1u << 10) | ((c->mode == EM_LONG64 ? 2u : in->asz == 4 ? 1u : 0u) << 7)
				     : vmx_mem_info(c, in)) | (id << 28);
		vmx_exit_insn(c, VMX_REASON_LDTR_TR, reg ? 0 : vmx_disp_qual(c, in), info);
	}
	unsigned seg = (id & 1) ? SEG_TR : SEG_LDTR;
	if (id < 2) {
		uint64_t sel = c->v[HVX_SLOT_GUEST_ES + seg] & 0xffff;
		if (in->op[0].kind == OK_MEM)
			op_write(c, in, 0, sel);
		else
			reg_set(c, in->op[0].reg, in->op[0].size, false, sel);
		return;
	}
	uint16_t sel = (uint16_t)op_read(c, in, 0);
	seg_load(c, seg, sel);
}

/* ---- TLB control ---- */
void h_invlpg(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->op[0].kind != OK_MEM)
		emu_ud(c);
	need_cpl0(c);
	uint64_t off = op_addr(c, in);
	uint64_t la = c->mode == EM_LONG64 ? off + (in->seg >= SEG_FS ? c->sc[in->seg].base : 0)
					   : (c->sc[in->seg].base + off) & 0xffffffff;
	if (vmx_cls(c, IC_INVLPG))
		vmx_exit_insn(c, VMX_REASON_INVLPG, la, 0);
	mmu_invlpg(c, la);
}

void h_invpcid(struct emu_cpu *c, const struct emu_insn *in)
{
	if (!vmx_cls(c, IC_INVPCID_OK))
		emu_ud(c);
	if (c->mode == EM_V86)
		emu_gp0(c);
	if (vmx_cls(c, IC_INVLPG)) {
		uint32_t info = vmx_mem_info(c, in) | ((uint32_t)in->op[0].reg << 28);
		vmx_exit_insn(c, VMX_REASON_INVPCID, vmx_disp_qual(c, in), info);
	}
	need_cpl0(c);
	uint64_t type = c->s->gpr[in->op[0].reg];
	uint64_t a = op_addr(c, in);
	uint64_t d0 = mem_read(c, in->seg, a, 8), d1 = mem_read(c, in->seg, (a + 8) & sz_mask(in->asz), 8);
	if (type > 3 || (d0 >> 12))
		emu_gp0(c);
	switch (type) {
	case 0: (void)d1; mmu_invlpg(c, d1); break;
	case 1: mmu_flush(c, false); break;
	case 2: mmu_flush(c, true); break;
	default: mmu_flush(c, false); break;
	}
}

/* VMX instructions: #UD checks, then the unconditional exit. */
void h_vmx(struct emu_cpu *c, const struct emu_insn *in)
{
	static const uint16_t reasons[] = {VMX_REASON_VMCLEAR, VMX_REASON_VMLAUNCH, VMX_REASON_VMPTRLD,
					   VMX_REASON_VMPTRST, VMX_REASON_VMREAD, VMX_REASON_VMRESUME,
					   VMX_REASON_VMWRITE, VMX_REASON_VMOFF, VMX_REASON_VMON,
					   VMX_REASON_EPT_INVEPT, VMX_REASON_INVVPID, VMX_REASON_VMFUNC};
	unsigned k = in->aux;
	if (k == 11) { /* VMFUNC */
		if (!vmx_cls(c, IC_VMFUNC_OK) || (uint32_t)c->s->gpr[HVX_RAX] >= 64)
			emu_ud(c);
		vmx_exit_insn(c, VMX_REASON_VMFUNC, 0, 0);
	}
	if (c->mode == EM_REAL || c->mode == EM_V86 || c->mode == EM_COMPAT16 || c->mode == EM_COMPAT32)
		emu_ud(c);
	unsigned reason = reasons[k];
	uint64_t qual = 0;
	uint32_t info = 0;
	switch (reason) {
	case VMX_REASON_VMCLEAR: case VMX_REASON_VMPTRLD: case VMX_REASON_VMPTRST: case VMX_REASON_VMON:
		if (in->op[0].kind != OK_MEM)
			emu_ud(c);
		qual = vmx_disp_qual(c, in);
		info = vmx_mem_info(c, in);
		break;
	case VMX_REASON_EPT_INVEPT: case VMX_REASON_INVVPID:
		if (in->memop == 0xff)
			emu_ud(c);
		qual = vmx_disp_qual(c, in);
		info = vmx_mem_info(c, in) | ((uint32_t)in->op[0].reg << 28);
		break;
	case VMX_REASON_VMREAD: case VMX_REASON_VMWRITE: {
		/* VMREAD r/m, reg ; VMWRITE reg, r/m */
		unsigned rm = reason == VMX_REASON_VMREAD ? 0 : 1, r2 = 1 - rm;
		if (in->op[rm].kind == OK_MEM) {
			qual = vmx_disp_qual(c, in);
			info = vmx_mem_info(c, in);
		} else {
			info = ((uint32_t)in->op[rm].reg << 3) | (1u << 10) |
			       ((c->mode == EM_LONG64 ? 2u : in->asz == 4 ? 1u : 0u) << 7);
		}
		info |= (uint32_t)in->op[r2].reg << 28;
		break;
	}
	default: break;
	}
	vmx_exit_insn(c, reason, qual, info);
}

void h_xsetbv(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	if (!(c->v[HVX_SLOT_GUEST_CR4] & CR4_OSXSAVE))
		emu_ud(c);
	need_cpl0(c);
	vmx_exit_insn(c, VMX_REASON_XSETBV, 0, 0);
}

void h_xgetbv(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	if (!(c->v[HVX_SLOT_GUEST_CR4] & CR4_OSXSAVE))
		emu_ud(c);
	uint32_t idx = (uint32_t)c->s->gpr[HVX_RCX];
	uint64_t v;
	if (idx == 0)
		v = c->s->xcr0 ? c->s->xcr0 : 1;
	else if (idx == 1)
		v = 0;
	else
		emu_gp0(c);
	reg_set(c, HVX_RAX, 4, false, v & 0xffffffff);
	reg_set(c, HVX_RDX, 4, false, v >> 32);
}

void h_cli_sti(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t f = emu_flags(c);
	unsigned iopl = (f >> 12) & 3;
	if (c->mode != EM_REAL && (c->mode == EM_V86 ? iopl < 3 : c->cpl > iopl))
		emu_gp0(c);
	if (in->aux) {
		if (!(f & FL_IF)) {
			c->shadow = 2;
			c->shadow_kind = 1;
		}
		c->s->rflags = f | FL_IF;
	} else {
		c->s->rflags = f & ~FL_IF;
	}
	c->stop = true;
}

void h_ud2(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	emu_ud(c);
}

void h_swapgs(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	if (c->mode != EM_LONG64)
		emu_ud(c);
	need_cpl0(c);
	uint64_t t = c->v[HVX_SLOT_GUEST_GS_BASE];
	c->v[HVX_SLOT_GUEST_GS_BASE] = c->s->msr_kernel_gs_base;
	c->s->msr_kernel_gs_base = t;
	emu_seg_update(c, SEG_GS);
}

void h_fsgsbase(struct emu_cpu *c, const struct emu_insn *in)
{
	/* aux: 0 RDFSBASE 1 RDGSBASE 2 WRFSBASE 3 WRGSBASE */
	if (c->mode != EM_LONG64 || !(c->v[HVX_SLOT_GUEST_CR4] & CR4_FSGSBASE))
		emu_ud(c);
	unsigned seg = (in->aux & 1) ? SEG_GS : SEG_FS;
	unsigned size = in->op[0].size;
	if (in->aux < 2) {
		reg_set(c, in->op[0].reg, size, false, c->v[HVX_SLOT_GUEST_ES_BASE + seg]);
	} else {
		uint64_t v = reg_get(c, in->op[0].reg, size, false);
		unsigned bits = (c->v[HVX_SLOT_GUEST_CR4] & CR4_LA57) ? 57 : 48;
		if ((uint64_t)(((int64_t)(v << (64 - bits))) >> (64 - bits)) != v)
			emu_gp0(c);
		c->v[HVX_SLOT_GUEST_ES_BASE + seg] = v;
		emu_seg_update(c, seg);
	}
}

void h_movseg(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->op[0].kind == OK_SREG) {
		if (in->op[0].reg == SEG_CS)
			emu_ud(c);
		seg_load(c, in->op[0].reg, (uint16_t)op_read(c, in, 1));
		if (in->op[0].reg == SEG_SS) {
			c->shadow = 2;
			c->shadow_kind = 2;
		}
		c->stop = true;
		return;
	}
	uint64_t sel = c->v[HVX_SLOT_GUEST_ES + in->op[1].reg] & 0xffff;
	if (in->op[0].kind == OK_MEM)
		mem_write(c, in->seg, op_addr(c, in), 2, sel);
	else
		reg_set(c, in->op[0].reg, in->op[0].size == 2 ? 2 : in->op[0].size, false, sel);
}

void h_cmpxchg_wide(struct emu_cpu *c, const struct emu_insn *in)
{
	/* CMPXCHG8B / CMPXCHG16B */
	if (in->op[0].kind != OK_MEM)
		emu_ud(c);
	unsigned half = in->aux ? 8 : 4;
	uint64_t a = op_addr(c, in);
	if (half == 8 && (a & 15))
		emu_gp0(c);
	uint64_t la = seg_linear(c, in->seg, a, half * 2, ACC_W);
	uint64_t m = sz_mask(half);
	uint64_t lo = mmu_read_lin(c, la, half, 0), hi = mmu_read_lin(c, la + half, half, 0);
	uint64_t ax = c->s->gpr[HVX_RAX] & m, dx = c->s->gpr[HVX_RDX] & m;
	bool eq = lo == ax && hi == dx;
	if (eq) {
		mmu_write_lin(c, la, half, c->s->gpr[HVX_RBX] & m, 0);
		mmu_write_lin(c, la + half, half, c->s->gpr[HVX_RCX] & m, 0);
	} else {
		mmu_write_lin(c, la, half, lo, 0);
		reg_set(c, HVX_RAX, half, false, lo);
		reg_set(c, HVX_RDX, half, false, hi);
	}
	emu_set_flags(c, eq ? FL_ZF : 0, FL_ZF);
}

void h_stac_clac(struct emu_cpu *c, const struct emu_insn *in)
{
	if (c->cpl)
		emu_ud(c);
	uint64_t f = emu_flags(c);
	c->s->rflags = in->aux ? (f | FL_AC) : (f & ~FL_AC);
	if (c->v[HVX_SLOT_GUEST_CR4] & CR4_SMAP)
		mmu_flush(c, true);
}
