/* ctrl.c: control transfer and stack instructions: JMP/Jcc/CALL/RET/LOOP, far forms, PUSH/POP and their variants, ENTER/LEAVE, INT n/INT3/INTO/IRET. */
#include "backend/emu/emu.h"
#include "backend/emu/cpu/handlers.h"

static inline unsigned branch_osz(struct emu_cpu *c, const struct emu_insn *in)
{
	if (c->mode == EM_LONG64)
		return in->osz == 2 ? 2 : 8;
	return in->osz;
}

void h_jmp(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->op[0].kind == OK_IMM) {
		emu_branch(c, c->next_rip + in->imm, branch_osz(c, in));
		return;
	}
	if (in->op[0].kind == OK_PTR) {
		far_transfer(c, (uint16_t)in->imm2, in->imm, in->osz, 0);
		return;
	}
	if (in->op[0].kind == OK_MEM && in->far) {
		/* far jump through memory (m16:16/32/64) */
		unsigned osz = in->op[0].size - 2;
		uint64_t a = op_addr(c, in);
		uint64_t off = mem_read(c, in->seg, a, osz);
		uint16_t sel = (uint16_t)mem_read(c, in->seg, (a + osz) & sz_mask(in->asz), 2);
		far_transfer(c, sel, off, osz, 0);
		return;
	}
	emu_branch(c, op_read(c, in, 0), branch_osz(c, in));
}

void h_jcc(struct emu_cpu *c, const struct emu_insn *in)
{
	if (emu_cond(c, in->aux))
		emu_branch(c, c->next_rip + in->imm, branch_osz(c, in));
}

void h_jcxz(struct emu_cpu *c, const struct emu_insn *in)
{
	if (reg_get(c, HVX_RCX, in->asz, false) == 0)
		emu_branch(c, c->next_rip + in->imm, branch_osz(c, in));
}

void h_loop(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t cx = (reg_get(c, HVX_RCX, in->asz, false) - 1) & sz_mask(in->asz);
	bool take = cx != 0;
	if (in->aux == 1)
		take = take && (emu_flags(c) & FL_ZF);
	else if (in->aux == 2)
		take = take && !(emu_flags(c) & FL_ZF);
	if (take)
		emu_branch(c, c->next_rip + in->imm, branch_osz(c, in));
	reg_set(c, HVX_RCX, in->asz, false, cx);
}

void h_call(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned osz = branch_osz(c, in);
	uint64_t target;
	if (in->op[0].kind == OK_PTR) {
		far_transfer(c, (uint16_t)in->imm2, in->imm, in->osz, 1);
		return;
	}
	if (in->op[0].kind == OK_MEM && in->far) {
		unsigned fosz = in->op[0].size - 2;
		uint64_t a = op_addr(c, in);
		uint64_t off = mem_read(c, in->seg, a, fosz);
		uint16_t sel = (uint16_t)mem_read(c, in->seg, (a + fosz) & sz_mask(in->asz), 2);
		far_transfer(c, sel, off, fosz, 1);
		return;
	}
	if (in->op[0].kind == OK_IMM)
		target = c->next_rip + in->imm;
	else
		target = op_read(c, in, 0);
	uint64_t ret = c->next_rip;
	uint64_t save_next = c->next_rip;
	emu_branch(c, target, osz); /* #GP before the push changes anything */
	uint64_t nt = c->next_rip;
	c->next_rip = save_next;
	emu_push(c, osz, ret);
	c->next_rip = nt;
}

void h_ret(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->far) {
		h_retf(c, in);
		return;
	}
	unsigned osz = branch_osz(c, in);
	uint64_t sp = c->s->gpr[HVX_RSP];
	uint64_t target = emu_pop(c, osz);
	uint64_t save = c->s->gpr[HVX_RSP];
	c->s->gpr[HVX_RSP] = sp;
	emu_branch(c, target, osz);
	c->s->gpr[HVX_RSP] = save;
	if (in->nops && in->op[0].kind == OK_IMM) {
		uint64_t m = sz_mask(c->stack_sz);
		c->s->gpr[HVX_RSP] = (c->s->gpr[HVX_RSP] & ~m) | ((c->s->gpr[HVX_RSP] + (in->imm & 0xffff)) & m);
	}
}

void h_retf(struct emu_cpu *c, const struct emu_insn *in)
{
	far_return(c, in->osz, in->nops ? (unsigned)(in->imm & 0xffff) : 0);
}

void h_push(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = (in->op[0].kind == OK_SREG || in->op[0].kind == OK_IMM) ? in->osz : in->op[0].size;
	if (c->mode == EM_LONG64 && size == 4)
		size = 8;
	uint64_t v = in->op[0].kind == OK_IMM ? in->imm : op_read(c, in, 0);
	emu_push(c, size, v);
}

void h_pop(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->op[0].kind == OK_SREG) {
		unsigned size = c->mode == EM_LONG64 ? (in->osz == 2 ? 2 : 8) : in->osz;
		uint64_t sp = c->s->gpr[HVX_RSP];
		uint16_t sel = (uint16_t)emu_pop(c, size);
		uint64_t nsp = c->s->gpr[HVX_RSP];
		c->s->gpr[HVX_RSP] = sp;
		seg_load(c, in->op[0].reg, sel);
		c->s->gpr[HVX_RSP] = nsp;
		if (in->op[0].reg == SEG_SS) {
			c->shadow = 2;
			c->shadow_kind = 2;
			c->stop = true;
		}
		return;
	}
	unsigned size = in->op[0].size;
	uint64_t sp = c->s->gpr[HVX_RSP];
	uint64_t v = emu_pop(c, size);
	if (in->op[0].kind == OK_MEM) {
		/* The address is computed with the incremented RSP; a fault restores RSP. */
		uint64_t nsp = c->s->gpr[HVX_RSP];
		uint64_t a = op_addr(c, in);
		c->s->gpr[HVX_RSP] = sp;
		mem_write(c, in->seg, a, size, v);
		c->s->gpr[HVX_RSP] = nsp;
		return;
	}
	op_write(c, in, 0, v);
}

void h_pusha(struct emu_cpu *c, const struct emu_insn *in)
{
	if (c->mode == EM_LONG64)
		emu_ud(c);
	unsigned size = in->osz;
	uint64_t sp = c->s->gpr[HVX_RSP], m = sz_mask(c->stack_sz);
	uint64_t vals[8];
	for (int i = 0; i < 8; i++)
		vals[i] = i == HVX_RSP ? sp : c->s->gpr[i];
	uint64_t nsp = sp;
	for (int i = 0; i < 8; i++) {
		nsp = (nsp - size) & m;
		mem_write(c, SEG_SS, nsp, size, vals[i]);
	}
	c->s->gpr[HVX_RSP] = (sp & ~m) | nsp;
}

void h_popa(struct emu_cpu *c, const struct emu_insn *in)
{
	if (c->mode == EM_LONG64)
		emu_ud(c);
	unsigned size = in->osz;
	uint64_t sp = c->s->gpr[HVX_RSP], m = sz_mask(c->stack_sz);
	uint64_t vals[8], p = sp & m;
	for (int i = 7; i >= 0; i--) {
		vals[i] = mem_read(c, SEG_SS, p, size);
		p = (p + size) & m;
	}
	for (int i = 0; i < 8; i++)
		if (i != HVX_RSP)
			reg_set(c, (unsigned)i, size, false, vals[i]);
	c->s->gpr[HVX_RSP] = (sp & ~m) | p;
}

void h_pushf(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t f = emu_flags(c);
	if (c->mode == EM_V86 && ((f >> 12) & 3) < 3)
		emu_gp0(c);
	unsigned size = c->mode == EM_LONG64 ? (in->osz == 2 ? 2 : 8) : in->osz;
	emu_push(c, size, f & ~(FL_VM | FL_RF));
}

void h_popf(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t f = emu_flags(c);
	unsigned iopl = (f >> 12) & 3;
	if (c->mode == EM_V86 && iopl < 3)
		emu_gp0(c);
	unsigned size = c->mode == EM_LONG64 ? (in->osz == 2 ? 2 : 8) : in->osz;
	uint64_t v = emu_pop(c, size);
	uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
	if (c->cpl == 0 && c->mode != EM_V86)
		mask |= FL_IOPL | FL_IF;
	else if (c->cpl <= iopl)
		mask |= FL_IF;
	if (size == 2)
		mask &= 0xffff;
	uint64_t old_if = f & FL_IF;
	emu_set_flags(c, v, mask);
	if (!old_if && (c->s->rflags & FL_IF)) {
		c->stop = true;
	}
	if ((c->v[HVX_SLOT_GUEST_CR4] & CR4_SMAP) && ((f ^ c->s->rflags) & FL_AC))
		mmu_flush(c, true);
	c->stop = true;
}

void h_enter(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = c->mode == EM_LONG64 ? (in->osz == 2 ? 2 : 8) : in->osz;
	unsigned alloc = (unsigned)(in->imm & 0xffff), level = (unsigned)(in->imm2 & 31);
	uint64_t m = sz_mask(c->stack_sz);
	uint64_t sp0 = c->s->gpr[HVX_RSP], bp = c->s->gpr[HVX_RBP];
	uint64_t sp = (sp0 - size) & m;
	mem_write(c, SEG_SS, sp, size, bp);
	uint64_t frame = sp;
	for (unsigned i = 1; i < level; i++) {
		uint64_t src = (bp - i * size) & sz_mask(c->stack_sz);
		uint64_t v = mem_read(c, SEG_SS, src, size);
		sp = (sp - size) & m;
		mem_write(c, SEG_SS, sp, size, v);
	}
	if (level) {
		sp = (sp - size) & m;
		mem_write(c, SEG_SS, sp, size, frame);
	}
	sp = (sp - alloc) & m;
	mem_read(c, SEG_SS, sp, 1); /* the new stack top must be accessible */
	reg_set(c, HVX_RBP, c->stack_sz == 8 ? 8 : size, false, frame);
	c->s->gpr[HVX_RSP] = (sp0 & ~m) | sp;
}

void h_leave(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = c->mode == EM_LONG64 ? (in->osz == 2 ? 2 : 8) : in->osz;
	uint64_t m = sz_mask(c->stack_sz);
	uint64_t sp = c->s->gpr[HVX_RBP] & m;
	uint64_t v = mem_read(c, SEG_SS, sp, size);
	c->s->gpr[HVX_RSP] = (c->s->gpr[HVX_RSP] & ~m) | ((sp + size) & m);
	reg_set(c, HVX_RBP, size, false, v);
}

/* INT n, INT3, INTO, INT1: delivered as software events at the next RIP (they are traps). */
void h_int(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned vec, type;
	switch (in->aux) {
	case 0: vec = (unsigned)in->imm & 0xff; type = EV_SWINT; break;
	case 1: vec = EXC_BP; type = EV_SWEXC; break;
	case 2:
		if (c->mode == EM_LONG64)
			emu_ud(c);
		if (!(emu_flags(c) & FL_OF))
			return;
		vec = EXC_OF;
		type = EV_SWEXC;
		break;
	default: vec = EXC_DB; type = EV_PRIVSW; break;
	}
	if (type == EV_SWINT && c->mode == EM_V86 && ((emu_flags(c) >> 12) & 3) < 3)
		emu_gp0(c); /* (no VME) */
	emu_deliver(c, vec, type, false, 0, in->len);
	c->next_rip = c->s->rip;
	c->stop = true;
}

void h_iret(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned osz = in->osz;
	/* IRET ends blocking by NMI (virtual-NMI blocking with virtual NMIs) even if it faults (SDM 6.7.1); a VM exit
	 * during it reports "NMI unblocking due to IRET" (bit 12, vmx.c). */
	c->iret_nmi_unblocked = (c->v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 8) != 0;
	c->v[HVX_SLOT_GUEST_INTERRUPTIBILITY] &= ~8ull;
	c->in_iret = true;
	c->iret_rsp = c->s->gpr[HVX_RSP];
	emu_iret(c, osz);
	c->in_iret = false;
	c->iret_nmi_unblocked = false;
	c->stop = true;
}
