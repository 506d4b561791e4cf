/* seg.c: segmentation and privilege: descriptor loads with their checks, far JMP/CALL/RET (call gates, task switches as exits), IRET, SYSCALL/SYSRET, SYSENTER/SYSEXIT, control-register writes. */
#include "backend/emu/emu.h"
#include "backend/emu/cpu/handlers.h"

#define AR_UNUSABLE (1u << 16)

static void seg_store(struct emu_cpu *c, unsigned seg, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	c->v[HVX_SLOT_GUEST_ES + seg] = sel;
	c->v[HVX_SLOT_GUEST_ES_BASE + seg] = base;
	c->v[HVX_SLOT_GUEST_ES_LIMIT + seg] = limit;
	c->v[HVX_SLOT_GUEST_ES_AR + seg] = ar;
	if (seg < 6)
		emu_seg_update(c, seg);
}

bool desc_read(struct emu_cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi, unsigned exc_vec)
{
	uint64_t base, limit;
	if (sel & 4) {
		if (c->v[HVX_SLOT_GUEST_LDTR_AR] & AR_UNUSABLE)
			emu_fault(c, exc_vec, true, sel & 0xfffc);
		base = c->v[HVX_SLOT_GUEST_LDTR_BASE];
		limit = (uint32_t)c->v[HVX_SLOT_GUEST_LDTR_LIMIT];
	} else {
		base = c->v[HVX_SLOT_GUEST_GDTR_BASE];
		limit = (uint32_t)c->v[HVX_SLOT_GUEST_GDTR_LIMIT];
	}
	uint64_t off = sel & 0xfff8;
	if (off + 7 > limit)
		emu_fault(c, exc_vec, true, sel & 0xfffc);
	uint64_t la = base + off;
	if (c->mode != EM_LONG64)
		la &= 0xffffffff;
	*lo = mmu_read_lin(c, la, 8, ACC_SUPER);
	if (hi) {
		bool sys = !((*lo >> 44) & 1);
		*hi = 0;
		if (sys && (c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA)) {
			if (off + 15 > limit)
				emu_fault(c, exc_vec, true, sel & 0xfffc);
			*hi = mmu_read_lin(c, la + 8, 8, ACC_SUPER);
		}
	}
	return true;
}

static void desc_set_accessed(struct emu_cpu *c, uint16_t sel, uint64_t lo)
{
	if ((lo >> 40) & 1)
		return;
	uint64_t base = (sel & 4) ? c->v[HVX_SLOT_GUEST_LDTR_BASE] : c->v[HVX_SLOT_GUEST_GDTR_BASE];
	uint64_t la = base + (sel & 0xfff8) + 5;
	if (c->mode != EM_LONG64)
		la &= 0xffffffff;
	mmu_write_lin(c, la, 1, ((lo >> 40) & 0xff) | 1, ACC_SUPER);
}

static inline uint32_t d_limit(uint64_t d)
{
	uint32_t l = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	if ((d >> 55) & 1)
		l = (l << 12) | 0xfff;
	return l;
}

static inline uint64_t d_base(uint64_t d)
{
	return ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
}

static inline uint32_t d_ar(uint64_t d)
{
	return (uint32_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
}

void seg_set_from_desc(struct emu_cpu *c, unsigned seg, uint16_t sel, uint64_t lo, uint64_t hi)
{
	uint64_t base = d_base(lo);
	if (seg >= SEG_LDTR && (c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA))
		base |= (hi & 0xffffffff) << 32;
	seg_store(c, seg, sel, base, d_limit(lo), d_ar(lo) | 1u /* accessed */ * (seg < 6));
}

void seg_load_real(struct emu_cpu *c, unsigned seg, uint16_t sel)
{
	c->v[HVX_SLOT_GUEST_ES + seg] = sel;
	c->v[HVX_SLOT_GUEST_ES_BASE + seg] = (uint64_t)sel << 4;
	if (c->mode == EM_V86) {
		c->v[HVX_SLOT_GUEST_ES_LIMIT + seg] = 0xffff;
		c->v[HVX_SLOT_GUEST_ES_AR + seg] = 0xf3;
	}
	emu_seg_update(c, seg);
}

void seg_load(struct emu_cpu *c, unsigned seg, uint16_t sel)
{
	if (c->mode == EM_REAL || c->mode == EM_V86) {
		seg_load_real(c, seg, sel);
		if (seg == SEG_SS)
			emu_mode_update(c);
		return;
	}
	unsigned rpl = sel & 3, cpl = c->cpl;
	if (seg == SEG_LDTR) {
		if (!(sel & 0xfffc)) {
			seg_store(c, seg, sel, 0, 0, AR_UNUSABLE);
			return;
		}
		if (sel & 4)
			emu_gp0(c);
		uint64_t lo, hi;
		desc_read(c, sel, &lo, &hi, EXC_GP);
		if (((lo >> 40) & 0x1f) != 0x02)
			emu_fault(c, EXC_GP, true, sel & 0xfffc);
		if (!((lo >> 47) & 1))
			emu_fault(c, EXC_NP, true, sel & 0xfffc);
		seg_set_from_desc(c, seg, sel, lo, hi);
		return;
	}
	if (seg == SEG_TR) {
		if (!(sel & 0xfffc) || (sel & 4))
			emu_fault(c, EXC_GP, true, sel & 0xfffc);
		uint64_t lo, hi;
		desc_read(c, sel, &lo, &hi, EXC_GP);
		unsigned type = (lo >> 40) & 0x1f;
		bool lma = c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA;
		if (type != 0x09 && (lma || type != 0x01))
			emu_fault(c, EXC_GP, true, sel & 0xfffc);
		if (!((lo >> 47) & 1))
			emu_fault(c, EXC_NP, true, sel & 0xfffc);
		/* mark busy */
		uint64_t la = c->v[HVX_SLOT_GUEST_GDTR_BASE] + (sel & 0xfff8) + 5;
		mmu_write_lin(c, la, 1, ((lo >> 40) & 0xff) | 2, ACC_SUPER);
		seg_set_from_desc(c, seg, sel, lo | (2ull << 40), hi);
		return;
	}
	if (!(sel & 0xfffc)) {
		if (seg == SEG_SS && !(c->mode == EM_LONG64 && cpl < 3 && rpl == cpl))
			emu_gp0(c);
		uint64_t base = (c->mode == EM_LONG64 && seg >= SEG_FS) ? c->v[HVX_SLOT_GUEST_ES_BASE + seg] : 0;
		uint32_t ar = AR_UNUSABLE | (seg == SEG_SS ? (cpl << 5) : 0);
		seg_store(c, seg, sel, base, 0, ar);
		return;
	}
	uint64_t lo;
	desc_read(c, sel, &lo, NULL, EXC_GP);
	unsigned type = (lo >> 40) & 0xf, s = (lo >> 44) & 1, dpl = (lo >> 45) & 3, p = (lo >> 47) & 1;
	bool code = type & 8;
	if (seg == SEG_SS) {
		if (rpl != cpl || dpl != cpl || !s || code || !(type & 2))
			emu_fault(c, EXC_GP, true, sel & 0xfffc);
		if (!p)
			emu_fault(c, EXC_SS, true, sel & 0xfffc);
	} else {
		if (!s || (code && !(type & 2)))
			emu_fault(c, EXC_GP, true, sel & 0xfffc);
		if ((!code || !(type & 4)) && (dpl < cpl || dpl < rpl))
			emu_fault(c, EXC_GP, true, sel & 0xfffc);
		if (!p)
			emu_fault(c, EXC_NP, true, sel & 0xfffc);
	}
	desc_set_accessed(c, sel, lo);
	uint64_t base = d_base(lo);
	if (c->mode == EM_LONG64 && seg >= SEG_FS)
		base = (uint32_t)base; /* the upper half comes from the MSR later, if written */
	seg_store(c, seg, sel, base, d_limit(lo), d_ar(lo) | 1);
	if (seg == SEG_SS)
		emu_mode_update(c);
}

/* Load CS for a control transfer to a code-segment descriptor at privilege `cpl`. */
static void load_cs(struct emu_cpu *c, uint16_t sel, uint64_t lo, unsigned cpl)
{
	seg_store(c, SEG_CS, (uint16_t)((sel & 0xfffc) | cpl), d_base(lo), d_limit(lo), d_ar(lo) | 1);
	emu_mode_update(c);
}

static void check_code(struct emu_cpu *c, uint16_t sel, uint64_t lo, bool rpl_check)
{
	unsigned type = (lo >> 40) & 0xf, s = (lo >> 44) & 1, dpl = (lo >> 45) & 3;
	if (!s || !(type & 8))
		emu_fault(c, EXC_GP, true, sel & 0xfffc);
	if (type & 4) {
		if (dpl > c->cpl)
			emu_fault(c, EXC_GP, true, sel & 0xfffc);
	} else if (dpl != c->cpl || (rpl_check && (sel & 3) > c->cpl)) {
		emu_fault(c, EXC_GP, true, sel & 0xfffc);
	}
	if (!((lo >> 47) & 1))
		emu_fault(c, EXC_NP, true, sel & 0xfffc);
	if ((c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA) && ((lo >> 53) & 1) && ((lo >> 54) & 1))
		emu_fault(c, EXC_GP, true, sel & 0xfffc);
}

/* Read the inner-privilege stack pointer from the TSS. */
static void tss_stack(struct emu_cpu *c, unsigned dpl, uint16_t *ss, uint64_t *sp)
{
	uint64_t base = c->v[HVX_SLOT_GUEST_TR_BASE];
	uint32_t limit = (uint32_t)c->v[HVX_SLOT_GUEST_TR_LIMIT];
	uint32_t tr_sel = (uint32_t)c->v[HVX_SLOT_GUEST_TR] & 0xfffc;
	if (c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA) {
		if (4 + dpl * 8 + 7 > limit)
			emu_fault(c, EXC_TS, true, tr_sel);
		*sp = mmu_read_lin(c, base + 4 + dpl * 8, 8, ACC_SUPER);
		*ss = (uint16_t)dpl;
		return;
	}
	if ((c->v[HVX_SLOT_GUEST_TR_AR] & 0xf) == 0x3 || (c->v[HVX_SLOT_GUEST_TR_AR] & 0xf) == 0x1) {
		if (2 + dpl * 4 + 3 > limit)
			emu_fault(c, EXC_TS, true, tr_sel);
		*sp = mmu_read_lin(c, (base + 2 + dpl * 4) & 0xffffffff, 2, ACC_SUPER);
		*ss = (uint16_t)mmu_read_lin(c, (base + 4 + dpl * 4) & 0xffffffff, 2, ACC_SUPER);
		return;
	}
	if (4 + dpl * 8 + 5 > limit)
		emu_fault(c, EXC_TS, true, tr_sel);
	*sp = mmu_read_lin(c, (base + 4 + dpl * 8) & 0xffffffff, 4, ACC_SUPER);
	*ss = (uint16_t)mmu_read_lin(c, (base + 8 + dpl * 8) & 0xffffffff, 2, ACC_SUPER);
}

/* Switch to an inner stack: load SS:SP for `dpl` (checks as for a stack segment). */
void switch_stack(struct emu_cpu *c, unsigned dpl, uint16_t *old_ss, uint64_t *old_sp, uint64_t ist_sp);
void switch_stack(struct emu_cpu *c, unsigned dpl, uint16_t *old_ss, uint64_t *old_sp, uint64_t ist_sp)
{
	uint16_t ss;
	uint64_t sp;
	*old_ss = (uint16_t)c->v[HVX_SLOT_GUEST_SS];
	*old_sp = c->s->gpr[HVX_RSP];
	tss_stack(c, dpl, &ss, &sp);
	if (ist_sp)
		sp = ist_sp;
	if (c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA) {
		/* 64-bit: SS becomes a null selector with RPL = new CPL, RSP aligned to 16 */
		c->cpl = (uint8_t)dpl;
		seg_store(c, SEG_SS, (uint16_t)dpl, 0, 0, AR_UNUSABLE | (dpl << 5) | 0x13 | (1u << 14) * 0);
		c->s->gpr[HVX_RSP] = sp & ~15ull;
		return;
	}
	if (!(ss & 0xfffc))
		emu_fault(c, EXC_TS, true, 0);
	uint64_t lo;
	desc_read(c, ss, &lo, NULL, EXC_TS);
	unsigned type = (lo >> 40) & 0xf, dd = (lo >> 45) & 3;
	if ((ss & 3) != dpl || dd != dpl || !((lo >> 44) & 1) || (type & 8) || !(type & 2))
		emu_fault(c, EXC_TS, true, ss & 0xfffc);
	if (!((lo >> 47) & 1))
		emu_fault(c, EXC_SS, true, ss & 0xfffc);
	c->cpl = (uint8_t)dpl;
	seg_store(c, SEG_SS, ss, d_base(lo), d_limit(lo), d_ar(lo) | 1);
	c->s->gpr[HVX_RSP] = sp;
	emu_mode_update(c);
}

static _Noreturn void task_exit(struct emu_cpu *c, uint16_t sel, unsigned source)
{
	vmx_exit_insn(c, VMX_REASON_TASK, sel | ((uint64_t)source << 30), 0);
}

void far_transfer(struct emu_cpu *c, uint16_t sel, uint64_t off, unsigned osz, int kind)
{
	uint64_t ret_ip = c->next_rip;
	uint16_t ret_cs = (uint16_t)c->v[HVX_SLOT_GUEST_CS];
	if (c->mode == EM_REAL || c->mode == EM_V86) {
		off &= sz_mask(osz);
		if (kind) {
			emu_push(c, osz, ret_cs);
			emu_push(c, osz, ret_ip);
		}
		seg_load_real(c, SEG_CS, sel);
		c->next_rip = off;
		emu_mode_update(c);
		c->stop = true;
		return;
	}
	if (!(sel & 0xfffc))
		emu_gp0(c);
	uint64_t lo, hi;
	desc_read(c, sel, &lo, &hi, EXC_GP);
	unsigned type = (lo >> 40) & 0xf, s = (lo >> 44) & 1, dpl = (lo >> 45) & 3;
	bool lma = c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA;
	if (s) {
		check_code(c, sel, lo, true);
		if (kind) {
			unsigned psz = c->mode == EM_LONG64 && osz == 4 ? 8 : osz;
			uint64_t sp = c->s->gpr[HVX_RSP];
			emu_push(c, psz, ret_cs);
			emu_push(c, psz, ret_ip);
			(void)sp;
		}
		load_cs(c, sel, lo, c->cpl);
		c->next_rip = c->mode == EM_LONG64 ? off : off & sz_mask(osz);
		c->stop = true;
		return;
	}
	/* system descriptor: call gate, task gate or TSS */
	if (dpl < c->cpl || dpl < (sel & 3))
		emu_fault(c, EXC_GP, true, sel & 0xfffc);
	if (!((lo >> 47) & 1))
		emu_fault(c, EXC_NP, true, sel & 0xfffc);
	if (type == 0x5 || type == 0x1 || type == 0x9) {
		if (lma)
			emu_fault(c, EXC_GP, true, sel & 0xfffc);
		uint16_t tss = type == 0x5 ? (uint16_t)(lo >> 16) : sel;
		task_exit(c, tss, kind ? 0 : 2);
	}
	if (type != 0xc && type != 0x4)
		emu_fault(c, EXC_GP, true, sel & 0xfffc);
	if (lma && type != 0xc)
		emu_fault(c, EXC_GP, true, sel & 0xfffc);
	/* call gate */
	uint16_t tsel = (uint16_t)(lo >> 16);
	uint64_t toff = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull);
	if (lma)
		toff |= (hi & 0xffffffff) << 32;
	unsigned gsz = lma ? 8 : type == 0xc ? 4 : 2;
	if (!(tsel & 0xfffc))
		emu_gp0(c);
	uint64_t tlo;
	desc_read(c, tsel, &tlo, NULL, EXC_GP);
	unsigned ttype = (tlo >> 40) & 0xf, tdpl = (tlo >> 45) & 3;
	if (!((tlo >> 44) & 1) || !(ttype & 8) || tdpl > c->cpl)
		emu_fault(c, EXC_GP, true, tsel & 0xfffc);
	if (!((tlo >> 47) & 1))
		emu_fault(c, EXC_NP, true, tsel & 0xfffc);
	if (!kind && !(ttype & 4) && tdpl != c->cpl)
		emu_fault(c, EXC_GP, true, tsel & 0xfffc);
	if (kind && !(ttype & 4) && tdpl < c->cpl) {
		uint16_t oss;
		uint64_t osp;
		switch_stack(c, tdpl, &oss, &osp, 0);
		emu_push(c, gsz, oss);
		emu_push(c, gsz, osp);
		emu_push(c, gsz, ret_cs);
		emu_push(c, gsz, ret_ip);
		load_cs(c, tsel, tlo, tdpl);
	} else {
		if (kind) {
			emu_push(c, gsz, ret_cs);
			emu_push(c, gsz, ret_ip);
		}
		load_cs(c, tsel, tlo, c->cpl);
	}
	c->next_rip = toff & sz_mask(gsz);
	c->stop = true;
}

/* After a return to an outer level: data segments the new CPL may not use become null. */
static void scrub_segs(struct emu_cpu *c)
{
	for (unsigned s = SEG_ES; s <= SEG_GS; s++) {
		if (s == SEG_CS || s == SEG_SS)
			continue;
		uint32_t ar = (uint32_t)c->v[HVX_SLOT_GUEST_ES_AR + s];
		if (ar & AR_UNUSABLE)
			continue;
		unsigned dpl = (ar >> 5) & 3;
		bool conf_code = (ar & 8) && (ar & 4);
		if (!conf_code && dpl < c->cpl)
			seg_store(c, s, 0, c->v[HVX_SLOT_GUEST_ES_BASE + s], 0, AR_UNUSABLE);
	}
}

void far_return(struct emu_cpu *c, unsigned osz, unsigned pop_bytes)
{
	unsigned psz = c->mode == EM_LONG64 && osz == 4 ? 4 : osz;
	if (c->mode == EM_LONG64 && osz == 8)
		psz = 8;
	if (c->mode == EM_REAL || c->mode == EM_V86) {
		uint64_t ip = emu_pop(c, osz);
		uint16_t cs = (uint16_t)emu_pop(c, osz);
		seg_load_real(c, SEG_CS, cs);
		c->next_rip = ip & sz_mask(osz);
		uint64_t m = sz_mask(c->stack_sz);
		c->s->gpr[HVX_RSP] = (c->s->gpr[HVX_RSP] & ~m) | ((c->s->gpr[HVX_RSP] + pop_bytes) & m);
		c->stop = true;
		return;
	}
	uint64_t sp0 = c->s->gpr[HVX_RSP];
	uint64_t ip = emu_pop(c, psz);
	uint16_t cs = (uint16_t)emu_pop(c, psz);
	unsigned rpl = cs & 3;
	if (rpl < c->cpl || !(cs & 0xfffc))
		emu_fault(c, EXC_GP, true, cs & 0xfffc);
	uint64_t lo;
	desc_read(c, cs, &lo, NULL, EXC_GP);
	unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3;
	if (!((lo >> 44) & 1) || !(type & 8) || ((type & 4) ? dpl > rpl : dpl != rpl))
		emu_fault(c, EXC_GP, true, cs & 0xfffc);
	if (!((lo >> 47) & 1))
		emu_fault(c, EXC_NP, true, cs & 0xfffc);
	uint64_t m = sz_mask(c->stack_sz);
	c->s->gpr[HVX_RSP] = (c->s->gpr[HVX_RSP] & ~m) | ((c->s->gpr[HVX_RSP] + pop_bytes) & m);
	if (rpl > c->cpl) {
		uint64_t nsp = emu_pop(c, psz);
		uint16_t ss = (uint16_t)emu_pop(c, psz);
		load_cs(c, cs, lo, rpl);
		c->cpl = (uint8_t)rpl;
		seg_load(c, SEG_SS, ss);
		c->s->gpr[HVX_RSP] = nsp + pop_bytes;
		scrub_segs(c);
		emu_mode_update(c);
	} else {
		load_cs(c, cs, lo, c->cpl);
	}
	(void)sp0;
	c->next_rip = c->mode == EM_LONG64 ? ip : ip & sz_mask(psz);
	c->stop = true;
}

void emu_iret(struct emu_cpu *c, unsigned osz)
{
	uint64_t f = emu_flags(c);
	if (c->mode == EM_REAL || c->mode == EM_V86) {
		if (c->mode == EM_V86 && ((f >> 12) & 3) < 3)
			emu_gp0(c);
		uint64_t ip = emu_pop(c, osz);
		uint16_t cs = (uint16_t)emu_pop(c, osz);
		uint64_t nf = emu_pop(c, osz);
		seg_load_real(c, SEG_CS, cs);
		uint64_t mask = osz == 4 ? 0x257fd5ull : 0xffffull & ~2ull;
		if (c->mode == EM_V86)
			mask &= ~FL_IOPL;
		c->s->rflags = ((f & ~mask) | (nf & mask) | 2) & ~(uint64_t)(osz == 4 ? 0 : 0);
		c->next_rip = ip & sz_mask(osz);
		emu_mode_update(c);
		c->stop = true;
		return;
	}
	bool lma = c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA;
	if (f & FL_NT) {
		if (lma)
			emu_gp0(c);
		uint16_t link = (uint16_t)mmu_read_lin(c, c->v[HVX_SLOT_GUEST_TR_BASE] & 0xffffffff, 2, ACC_SUPER);
		task_exit(c, link, 1);
	}
	unsigned psz = c->mode == EM_LONG64 ? (osz == 2 ? 2 : osz) : osz;
	uint64_t ip = emu_pop(c, psz);
	uint16_t cs = (uint16_t)emu_pop(c, psz);
	uint64_t nf = emu_pop(c, psz);
	if (psz == 2)
		nf = (f & ~0xffffull) | (nf & 0xffff);
	unsigned cpl = c->cpl, iopl = (f >> 12) & 3;
	if ((nf & FL_VM) && cpl == 0 && !lma) {
		/* return to virtual-8086 mode */
		uint64_t esp = emu_pop(c, 4);
		uint16_t ss = (uint16_t)emu_pop(c, 4), es = (uint16_t)emu_pop(c, 4), ds = (uint16_t)emu_pop(c, 4);
		uint16_t fs = (uint16_t)emu_pop(c, 4), gs = (uint16_t)emu_pop(c, 4);
		c->s->rflags = (nf & 0x3f7fd5ull) | 2 | FL_VM;
		emu_mode_update(c);
		uint16_t sels[6] = {es, cs, ss, ds, fs, gs};
		for (unsigned s = 0; s < 6; s++)
			seg_load_real(c, s, sels[s]);
		c->s->gpr[HVX_RSP] = esp & 0xffff;
		c->next_rip = ip & 0xffff;
		emu_mode_update(c);
		return;
	}
	unsigned rpl = cs & 3;
	if (!(cs & 0xfffc) || rpl < cpl)
		emu_fault(c, EXC_GP, true, cs & 0xfffc);
	uint64_t lo;
	desc_read(c, cs, &lo, NULL, EXC_GP);
	unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3;
	if (!((lo >> 44) & 1) || !(type & 8) || ((type & 4) ? dpl > rpl : dpl != rpl))
		emu_fault(c, EXC_GP, true, cs & 0xfffc);
	if (!((lo >> 47) & 1))
		emu_fault(c, EXC_NP, true, cs & 0xfffc);
	uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID | FL_RF;
	if (cpl == 0)
		mask |= FL_IOPL | FL_VIF | FL_VIP;
	if (cpl <= iopl)
		mask |= FL_IF;
	if (psz == 2)
		mask &= 0xffff;
	bool outer = rpl > cpl || c->mode == EM_LONG64;
	uint64_t nsp = 0;
	uint16_t nss = 0;
	if (outer) {
		nsp = emu_pop(c, psz);
		nss = (uint16_t)emu_pop(c, psz);
	}
	load_cs(c, cs, lo, rpl);
	c->cpl = (uint8_t)rpl;
	c->s->rflags = ((f & ~mask) | (nf & mask) | 2) & ~FL_VM;
	if (outer) {
		if (!(nss & 0xfffc) && lma && rpl < 3 && ((lo >> 53) & 1))
			seg_store(c, SEG_SS, nss, 0, 0, AR_UNUSABLE | (rpl << 5));
		else
			seg_load(c, SEG_SS, nss);
		c->s->gpr[HVX_RSP] = nsp;
		if (rpl > cpl)
			scrub_segs(c);
	}
	emu_mode_update(c);
	c->next_rip = c->mode == EM_LONG64 ? ip : ip & sz_mask(psz);
	if (c->mode != EM_LONG64 && c->next_rip > c->sc[SEG_CS].hi)
		emu_gp0(c);
	if ((c->v[HVX_SLOT_GUEST_CR4] & CR4_SMAP) && ((f ^ c->s->rflags) & FL_AC))
		mmu_flush(c, true);
}

/* ---- fast system calls ---- */
static void flat(struct emu_cpu *c, unsigned seg, uint16_t sel, uint32_t ar)
{
	seg_store(c, seg, sel, 0, 0xffffffff, ar);
}

void h_syscall(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	uint64_t efer = c->v[HVX_SLOT_GUEST_IA32_EFER];
	if (!(efer & EFER_LMA) || !(efer & EFER_SCE))
		emu_ud(c);
	uint64_t f = emu_flags(c);
	uint16_t cs = (uint16_t)((c->s->msr_star >> 32) & 0xfffc);
	c->s->gpr[HVX_RCX] = c->next_rip;
	c->s->gpr[HVX_R11] = f & ~FL_RF;
	bool was64 = c->mode == EM_LONG64;
	flat(c, SEG_CS, cs, 0xa09b);
	flat(c, SEG_SS, (uint16_t)(cs + 8), 0xc093);
	c->s->rflags = (f & ~c->s->msr_fmask & ~FL_RF) | 2;
	c->cpl = 0;
	emu_mode_update(c);
	c->next_rip = was64 ? c->s->msr_lstar : c->s->msr_cstar;
	c->stop = true;
}

void h_sysret(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t efer = c->v[HVX_SLOT_GUEST_IA32_EFER];
	if (!(efer & EFER_LMA) || !(efer & EFER_SCE))
		emu_ud(c);
	if (c->cpl)
		emu_gp0(c);
	uint16_t base = (uint16_t)(c->s->msr_star >> 48);
	bool to64 = in->osz == 8;
	uint64_t rip = c->s->gpr[HVX_RCX];
	if (to64) {
		if ((uint64_t)(((int64_t)(rip << 16)) >> 16) != rip)
			emu_gp0(c);
		flat(c, SEG_CS, (uint16_t)((base + 16) | 3), 0xa0fb);
	} else {
		rip &= 0xffffffff;
		flat(c, SEG_CS, (uint16_t)(base | 3), 0xc0fb);
	}
	c->v[HVX_SLOT_GUEST_SS] = (uint16_t)((base + 8) | 3);
	c->v[HVX_SLOT_GUEST_SS_AR] = ((uint32_t)c->v[HVX_SLOT_GUEST_SS_AR] & ~0x60u) | 0x60u;
	c->v[HVX_SLOT_GUEST_SS_AR] = 0xc0f3;
	c->v[HVX_SLOT_GUEST_SS_BASE] = 0;
	c->v[HVX_SLOT_GUEST_SS_LIMIT] = 0xffffffff;
	c->s->rflags = (c->s->gpr[HVX_R11] & 0x3c7fd7ull) | 2;
	c->lf_op = LF_NONE;
	c->cpl = 3;
	emu_mode_update(c);
	emu_seg_update(c, SEG_SS);
	c->next_rip = rip;
	c->stop = true;
}

void h_sysenter(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	if (c->mode == EM_REAL)
		emu_gp0(c);
	uint16_t cs = (uint16_t)c->v[HVX_SLOT_GUEST_IA32_SYSENTER_CS];
	if (!(cs & 0xfffc))
		emu_gp0(c);
	bool lma = c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA;
	uint64_t f = emu_flags(c);
	c->s->rflags = f & ~(FL_VM | FL_IF | FL_RF);
	flat(c, SEG_CS, cs & 0xfffc, lma ? 0xa09b : 0xc09b);
	flat(c, SEG_SS, (uint16_t)((cs & 0xfffc) + 8), 0xc093);
	c->cpl = 0;
	emu_mode_update(c);
	c->s->gpr[HVX_RSP] = lma ? c->v[HVX_SLOT_GUEST_SYSENTER_ESP] : (uint32_t)c->v[HVX_SLOT_GUEST_SYSENTER_ESP];
	c->next_rip = lma ? c->v[HVX_SLOT_GUEST_SYSENTER_EIP] : (uint32_t)c->v[HVX_SLOT_GUEST_SYSENTER_EIP];
	c->stop = true;
}

void h_sysexit(struct emu_cpu *c, const struct emu_insn *in)
{
	uint16_t cs = (uint16_t)c->v[HVX_SLOT_GUEST_IA32_SYSENTER_CS];
	if (c->mode == EM_REAL || c->mode == EM_V86 || c->cpl || !(cs & 0xfffc))
		emu_gp0(c);
	bool to64 = in->osz == 8;
	if (to64) {
		flat(c, SEG_CS, (uint16_t)((cs + 32) | 3), 0xa0fb);
		flat(c, SEG_SS, (uint16_t)((cs + 40) | 3), 0xc0f3);
	} else {
		flat(c, SEG_CS, (uint16_t)((cs + 16) | 3), 0xc0fb);
		flat(c, SEG_SS, (uint16_t)((cs + 24) | 3), 0xc0f3);
	}
	c->cpl = 3;
	emu_mode_update(c);
	c->s->gpr[HVX_RSP] = to64 ? c->s->gpr[HVX_RCX] : (uint32_t)c->s->gpr[HVX_RCX];
	c->next_rip = to64 ? c->s->gpr[HVX_RDX] : (uint32_t)c->s->gpr[HVX_RDX];
	c->stop = true;
}

/* ---- control-register writes (after the VMX layer decided there is no exit) ---- */
void cr_write(struct emu_cpu *c, unsigned cr, uint64_t v)
{
	uint64_t *efer = &c->v[HVX_SLOT_GUEST_IA32_EFER];
	switch (cr) {
	case 0: {
		uint64_t old = c->v[HVX_SLOT_GUEST_CR0];
		if ((v >> 32) || ((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW_) && !(v & CR0_CD_)) || !(v & CR0_NE_))
			emu_gp0(c);
		if ((v & CR0_PG) && !(old & CR0_PG) && (*efer & EFER_LME)) {
			if (!(c->v[HVX_SLOT_GUEST_CR4] & CR4_PAE) || (c->v[HVX_SLOT_GUEST_CS_AR] & (1u << 13)))
				emu_gp0(c);
			*efer |= EFER_LMA;
		}
		if (!(v & CR0_PG) && (old & CR0_PG) && (*efer & EFER_LMA)) {
			if (c->mode == EM_LONG64)
				emu_gp0(c);
			*efer &= ~EFER_LMA;
		}
		if ((v & CR0_PG) && (c->v[HVX_SLOT_GUEST_CR4] & CR4_PAE) && !(*efer & EFER_LMA) &&
		    ((old ^ v) & (CR0_PG | CR0_CD_ | CR0_NW_)))
			mmu_pae_load_pdptes(c, c->v[HVX_SLOT_GUEST_CR3]);
		c->v[HVX_SLOT_GUEST_CR0] = v | CR0_ET;
		if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
			mmu_flush(c, true);
		c->mode = 0xff;
		emu_mode_update(c);
		break;
	}
	case 2: c->s->cr2 = v; break;
	case 3: {
		uint64_t cr4 = c->v[HVX_SLOT_GUEST_CR4];
		bool noflush = (cr4 & CR4_PCIDE) && (v >> 63);
		v &= ~(1ull << 63);
		if ((*efer & EFER_LMA) && (v >> 48))
			emu_gp0(c);
		if (c->paging == 3)
			mmu_pae_load_pdptes(c, v);
		c->v[HVX_SLOT_GUEST_CR3] = v;
		if (!noflush)
			mmu_flush(c, false);
		break;
	}
	case 4: {
		uint64_t old = c->v[HVX_SLOT_GUEST_CR4];
		uint64_t ok = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE | CR4_OSFXSR |
			      CR4_OSXMMEXCPT | CR4_UMIP | CR4_LA57 | CR4_VMXE | CR4_SMXE | CR4_FSGSBASE | CR4_PCIDE |
			      CR4_OSXSAVE | CR4_SMEP | CR4_SMAP | (1ull << 6) /* MCE */;
		if ((v & ~ok) || !(v & CR4_VMXE))
			emu_gp0(c);
		if ((*efer & EFER_LMA) && (!(v & CR4_PAE) || ((old ^ v) & CR4_LA57)))
			emu_gp0(c);
		if ((v & CR4_PCIDE) && !(old & CR4_PCIDE) && (!(*efer & EFER_LMA) || (c->v[HVX_SLOT_GUEST_CR3] & 0xfff)))
			emu_gp0(c);
		if ((v & CR4_PAE) && (c->v[HVX_SLOT_GUEST_CR0] & CR0_PG) && !(*efer & EFER_LMA) &&
		    ((old ^ v) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP)))
			mmu_pae_load_pdptes(c, c->v[HVX_SLOT_GUEST_CR3]);
		c->v[HVX_SLOT_GUEST_CR4] = v;
		if ((old ^ v) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_LA57))
			mmu_flush(c, true);
		c->mode = 0xff;
		emu_mode_update(c);
		break;
	}
	default:
		c->s->tpr = (v & 0xf) << 4;
		if (vmx_cls(c, IC_TPR_SHADOW)) {
			c->s->rip = c->next_rip; /* trap-like: the MOV completed */
			vmx_tpr_below_threshold(c);
		}
		break;
	}
	c->stop = true;
}
