/* ops.c: operand access for handlers: registers by size, effective addresses, memory operands, the stack, and near branches. */
#include "backend/emu/emu.h"

uint64_t op_addr(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t a = (uint64_t)in->disp;
	if (in->base != 0xff)
		a += c->s->gpr[in->base];
	if (in->index != 0xff)
		a += c->s->gpr[in->index] * in->scale;
	if (in->riprel)
		a += c->next_rip;
	return a & sz_mask(in->asz);
}

uint64_t op_read(struct emu_cpu *c, const struct emu_insn *in, unsigned i)
{
	const struct emu_op *o = &in->op[i];
	switch (o->kind) {
	case OK_REG: return reg_get(c, o->reg, o->size, o->hi8);
	case OK_MEM: return mem_read(c, in->seg, op_addr(c, in), o->size);
	case OK_IMM: return (i >= 2 && in->op[1].kind == OK_IMM) ? in->imm2 : in->imm;
	case OK_SREG: return c->v[HVX_SLOT_GUEST_ES + o->reg] & 0xffff;
	default: emu_ud(c);
	}
}

/* A read-modify-write memory destination is checked for reading and writing before it is read, so that a fault
 * reports a write and an EPT violation both accesses (SDM: an EPT violation of a read-modify-write operation sets
 * qualification bit 1, bit 0 is implementation-specific; the kvm backend sets both). */
void mem_rmw_check(struct emu_cpu *c, unsigned seg, uint64_t off, unsigned size)
{
	uint64_t la = seg_linear(c, seg, off, size, ACC_W);
	if (!mmu_ptr(c, la, size, ACC_R | ACC_W))
		mmu_ptr(c, la, 1, ACC_R | ACC_W); /* crosses a page: the first page (the second is checked by the read) */
}

uint64_t op_read_rmw(struct emu_cpu *c, const struct emu_insn *in, unsigned i)
{
	if (in->op[i].kind == OK_MEM)
		mem_rmw_check(c, in->seg, op_addr(c, in), in->op[i].size);
	return op_read(c, in, i);
}

void op_write(struct emu_cpu *c, const struct emu_insn *in, unsigned i, uint64_t v)
{
	const struct emu_op *o = &in->op[i];
	switch (o->kind) {
	case OK_REG: reg_set(c, o->reg, o->size, o->hi8, v); break;
	case OK_MEM: mem_write(c, in->seg, op_addr(c, in), o->size, v); break;
	default: emu_ud(c);
	}
}

static inline uint64_t sp_mask(struct emu_cpu *c)
{
	return sz_mask(c->stack_sz);
}

void emu_push(struct emu_cpu *c, unsigned size, uint64_t v)
{
	uint64_t m = sp_mask(c);
	uint64_t sp = (c->s->gpr[HVX_RSP] - size) & m;
	mem_write(c, SEG_SS, sp, size, v);
	c->s->gpr[HVX_RSP] = (c->s->gpr[HVX_RSP] & ~m) | sp;
}

uint64_t emu_pop(struct emu_cpu *c, unsigned size)
{
	uint64_t m = sp_mask(c);
	uint64_t sp = c->s->gpr[HVX_RSP] & m;
	uint64_t v = mem_read(c, SEG_SS, sp, size);
	c->s->gpr[HVX_RSP] = (c->s->gpr[HVX_RSP] & ~m) | ((sp + size) & m);
	return v;
}

void emu_branch(struct emu_cpu *c, uint64_t target, unsigned osz)
{
	if (c->mode == EM_LONG64) {
		if (osz == 2)
			target &= 0xffff;
		unsigned bits = (c->v[HVX_SLOT_GUEST_CR4] & CR4_LA57) ? 57 : 48;
		if ((uint64_t)(((int64_t)(target << (64 - bits))) >> (64 - bits)) != target)
			emu_gp0(c);
	} else {
		target &= sz_mask(osz);
		if (target > c->sc[SEG_CS].hi && c->mode != EM_REAL)
			emu_gp0(c);
		if (c->mode == EM_REAL && target > c->sc[SEG_CS].hi)
			emu_gp0(c);
	}
	c->next_rip = target;
}
