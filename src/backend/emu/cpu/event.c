/* event.c: event delivery through the IVT (real mode) and IDT (protected, long, v86), nested faults, #DF and triple fault. */
#include <string.h>

#include "backend/emu/emu.h"

void switch_stack(struct emu_cpu *c, unsigned dpl, uint16_t *old_ss, uint64_t *old_sp, uint64_t ist_sp);

#define snap (c->snap)

static void snapshot(struct emu_cpu *c)
{
	snap.rsp = c->s->gpr[HVX_RSP];
	snap.rflags = c->s->rflags;
	snap.cpl = c->cpl;
	for (unsigned s = 0; s < 6; s++) {
		snap.seg[s][0] = c->v[HVX_SLOT_GUEST_ES + s];
		snap.seg[s][1] = c->v[HVX_SLOT_GUEST_ES_BASE + s];
		snap.seg[s][2] = c->v[HVX_SLOT_GUEST_ES_LIMIT + s];
		snap.seg[s][3] = c->v[HVX_SLOT_GUEST_ES_AR + s];
	}
}

void emu_delivery_restore(struct emu_cpu *c)
{
	c->s->gpr[HVX_RSP] = snap.rsp;
	c->s->rflags = snap.rflags;
	c->lf_op = LF_NONE;
	for (unsigned s = 0; s < 6; s++) {
		c->v[HVX_SLOT_GUEST_ES + s] = snap.seg[s][0];
		c->v[HVX_SLOT_GUEST_ES_BASE + s] = snap.seg[s][1];
		c->v[HVX_SLOT_GUEST_ES_LIMIT + s] = snap.seg[s][2];
		c->v[HVX_SLOT_GUEST_ES_AR + s] = snap.seg[s][3];
	}
	c->cpl = snap.cpl;
	c->mode = 0xff;
	emu_mode_update(c);
}

static bool soft(unsigned type)
{
	return type == EV_SWINT || type == EV_SWEXC || type == EV_PRIVSW;
}

void emu_deliver(struct emu_cpu *c, unsigned vec, unsigned type, bool has_err, uint32_t err, unsigned ilen)
{
	bool is_exc = type == EV_HWEXC || type == EV_SWEXC || type == EV_PRIVSW;
	bool injected = c->skip_bitmap; /* injected by VM entry: CR2 is the VMM's business */
	if (c->mode == EM_REAL)
		has_err = false; /* real mode delivers no error codes */
	if (is_exc && !c->skip_bitmap && vmx_exception_exits(c, vec, err))
		vmx_exit_exception(c, vec, type, has_err, err, ilen, vec == EXC_PF ? c->exc.cr2 : 0);
	c->skip_bitmap = false;
	uint64_t f = emu_flags(c);
	if (vec == EXC_PF && type == EV_HWEXC && !injected)
		c->s->cr2 = c->exc.cr2; /* written when delivery begins, even if it then faults */
	snapshot(c);
	c->vect.valid = true;
	c->vect.vec = (uint8_t)vec;
	c->vect.type = (uint8_t)type;
	c->vect.has_err = has_err;
	c->vect.err = err;
	c->vect.len = (uint8_t)ilen;
	uint64_t ret = soft(type) ? (c->s->rip + ilen) & c->ip_mask : c->s->rip;
	uint32_t ext = soft(type) ? 0 : 1;
	uint64_t idt = c->v[HVX_SLOT_GUEST_IDTR_BASE];
	uint32_t idt_limit = (uint32_t)c->v[HVX_SLOT_GUEST_IDTR_LIMIT];

	if (c->mode == EM_REAL) {
		if (vec * 4 + 3 > idt_limit)
			emu_fault(c, EXC_GP, true, vec * 8 + 2 + ext);
		uint32_t ent = (uint32_t)mmu_read_lin(c, (idt + vec * 4) & 0xffffffff, 4, ACC_SUPER);
		emu_push(c, 2, f);
		emu_push(c, 2, c->v[HVX_SLOT_GUEST_CS]);
		emu_push(c, 2, ret);
		seg_load_real(c, SEG_CS, (uint16_t)(ent >> 16));
		c->s->rflags = f & ~(FL_IF | FL_TF | FL_AC | FL_RF);
		c->s->rip = ent & 0xffff;
		goto done;
	}

	bool lma = c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA;
	unsigned gsz = lma ? 16 : 8;
	if (vec * gsz + gsz - 1 > idt_limit)
		emu_fault(c, EXC_GP, true, vec * 8 + 2 + ext);
	uint64_t gla = idt + vec * gsz;
	if (!lma)
		gla &= 0xffffffff;
	uint64_t lo = mmu_read_lin(c, gla, 8, ACC_SUPER), hi = lma ? mmu_read_lin(c, gla + 8, 8, ACC_SUPER) : 0;
	unsigned gtype = (lo >> 40) & 0x1f, gdpl = (lo >> 45) & 3, gp = (lo >> 47) & 1;
	bool ok_type = lma ? (gtype == 0x0e || gtype == 0x0f) : (gtype == 0x05 || gtype == 0x06 || gtype == 0x07 ||
								 gtype == 0x0e || gtype == 0x0f);
	if (!ok_type)
		emu_fault(c, EXC_GP, true, vec * 8 + 2 + ext);
	if (soft(type) && type != EV_PRIVSW && gdpl < c->cpl)
		emu_fault(c, EXC_GP, true, vec * 8 + 2);
	if (!gp)
		emu_fault(c, EXC_NP, true, vec * 8 + 2 + ext);
	if (gtype == 0x05)
		vmx_exit_insn(c, VMX_REASON_TASK, (uint16_t)(lo >> 16) | (3ull << 30), 0);
	uint16_t tsel = (uint16_t)(lo >> 16);
	uint64_t toff = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull) | ((hi & 0xffffffff) << 32);
	unsigned psz = lma ? 8 : (gtype & 8) ? 4 : 2;
	if (!(gtype & 8))
		toff &= 0xffff;
	if (!(tsel & 0xfffc))
		emu_fault(c, EXC_GP, true, ext);
	uint64_t clo, chi;
	desc_read(c, tsel, &clo, &chi, EXC_GP);
	unsigned ctype = (clo >> 40) & 0xf, cdpl = (clo >> 45) & 3;
	if (!((clo >> 44) & 1) || !(ctype & 8) || cdpl > c->cpl)
		emu_fault(c, EXC_GP, true, (tsel & 0xfffc) + ext);
	if (!((clo >> 47) & 1))
		emu_fault(c, EXC_NP, true, (tsel & 0xfffc) + ext);
	if (lma && (!((clo >> 53) & 1) || ((clo >> 54) & 1)))
		emu_fault(c, EXC_GP, true, (tsel & 0xfffc) + ext);
	bool v86 = c->mode == EM_V86;
	unsigned ist = lma ? (unsigned)((lo >> 32) & 7) : 0;
	uint16_t oss = (uint16_t)c->v[HVX_SLOT_GUEST_SS];
	uint64_t osp = c->s->gpr[HVX_RSP];
	bool inner = !(ctype & 4) && cdpl < c->cpl;
	uint16_t ocs = (uint16_t)c->v[HVX_SLOT_GUEST_CS];
	if (v86 && (!inner || cdpl != 0))
		emu_fault(c, EXC_GP, true, (tsel & 0xfffc) + ext);
	if (inner || ist) {
		uint64_t ist_sp = 0;
		if (ist) {
			uint64_t tb = c->v[HVX_SLOT_GUEST_TR_BASE];
			ist_sp = mmu_read_lin(c, tb + 0x24 + (ist - 1) * 8, 8, ACC_SUPER);
		}
		switch_stack(c, inner ? cdpl : c->cpl, &oss, &osp, ist_sp);
		if (v86) {
			c->s->rflags &= ~FL_VM;
			emu_mode_update(c);
		}
	} else if (lma) {
		c->s->gpr[HVX_RSP] &= ~15ull;
	}
	if (v86) {
		static const unsigned order[4] = {SEG_GS, SEG_FS, SEG_DS, SEG_ES};
		for (unsigned i = 0; i < 4; i++)
			emu_push(c, psz, snap.seg[order[i]][0]);
	}
	if (inner || lma || ist) {
		emu_push(c, psz, oss);
		emu_push(c, psz, osp);
	}
	uint64_t fpush = (type == EV_HWEXC && vec != EXC_DB) ? f | FL_RF : f;
	emu_push(c, psz, fpush);
	emu_push(c, psz, ocs);
	emu_push(c, psz, ret);
	if (has_err)
		emu_push(c, psz, err);
	if (v86)
		for (unsigned s = SEG_ES; s <= SEG_GS; s++)
			if (s != SEG_CS && s != SEG_SS) {
				c->v[HVX_SLOT_GUEST_ES + s] = 0;
				c->v[HVX_SLOT_GUEST_ES_AR + s] = 1u << 16;
			}
	unsigned ncpl = inner ? cdpl : c->cpl;
	c->v[HVX_SLOT_GUEST_CS] = (tsel & 0xfffc) | ncpl;
	c->v[HVX_SLOT_GUEST_CS_BASE] = ((clo >> 16) & 0xffffff) | (((clo >> 56) & 0xff) << 24);
	uint32_t lim = (uint32_t)((clo & 0xffff) | ((clo >> 32) & 0xf0000));
	if ((clo >> 55) & 1)
		lim = (lim << 12) | 0xfff;
	c->v[HVX_SLOT_GUEST_CS_LIMIT] = lim;
	c->v[HVX_SLOT_GUEST_CS_AR] = ((clo >> 40) & 0xff) | (((clo >> 52) & 0xf) << 12) | 1;
	c->cpl = (uint8_t)ncpl;
	uint64_t nf = f & ~(FL_TF | FL_NT | FL_RF | FL_VM);
	if (!(gtype & 1))
		nf &= ~FL_IF;
	c->s->rflags = nf;
	c->mode = 0xff;
	emu_mode_update(c);
	c->s->rip = lma ? toff : toff & 0xffffffff;
done:
	c->vect.valid = false;
}

static bool contributory(unsigned v)
{
	return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

void emu_handle_fault(struct emu_cpu *c)
{
	unsigned vec = c->exc.vec;
	bool has_err = c->exc.has_err;
	uint32_t err = c->exc.err;
	c->stop = false;
	if (c->vect.valid) {
		emu_delivery_restore(c);
		unsigned pv = c->vect.vec, pt = c->vect.type;
		/* The new exception may exit, with IDT-vectoring naming the event being delivered. */
		if (vmx_exception_exits(c, vec, err))
			vmx_exit_exception(c, vec, EV_HWEXC, has_err && c->mode != EM_REAL, err, c->vect.len,
					   vec == EXC_PF ? c->exc.cr2 : 0);
		c->vect.valid = false;
		if (pt == EV_HWEXC && pv == EXC_DF)
			vmx_triple_fault(c);
		if (pt == EV_HWEXC && ((contributory(vec) && (contributory(pv) || pv == EXC_PF)) ||
				       (vec == EXC_PF && pv == EXC_PF))) {
			emu_deliver(c, EXC_DF, EV_HWEXC, true, 0, 0);
			return;
		}
	}
	emu_deliver(c, vec, EV_HWEXC, has_err, err, 0);
}
