/* fast.c: exact-form handlers for the hottest instruction shapes (32/64-bit register ALU, INC/DEC of a register, Jcc), chosen at decode time. */
#include "backend/emu/cpu/handlers.h"

/* ALU reg, reg / reg, imm for 32- and 64-bit operands: one function per operation and width, no switches. */
#define ALU_FAST(name, W, MASK, OPEXPR, LF, WRITES)                                                        \
	static void name(struct emu_cpu *c, const struct emu_insn *in)                                       \
	{                                                                                                    \
		uint64_t *g = c->s->gpr;                                                                     \
		uint64_t a = g[in->op[0].reg] & (MASK);                                                      \
		uint64_t b = (in->op[1].kind == OK_IMM ? in->imm : g[in->op[1].reg]) & (MASK);               \
		uint64_t r = (OPEXPR) & (MASK);                                                              \
		if (WRITES)                                                                                  \
			g[in->op[0].reg] = r;                                                                \
		c->lf_op = (LF);                                                                             \
		c->lf_size = (W);                                                                            \
		c->lf_res = r;                                                                               \
		c->lf_a = a;                                                                                 \
		c->lf_b = b;                                                                                 \
	}

#define M32 0xffffffffull
#define M64 (~0ull)
ALU_FAST(add32, 4, M32, a + b, LF_ADD, 1)
ALU_FAST(add64, 8, M64, a + b, LF_ADD, 1)
ALU_FAST(sub32, 4, M32, a - b, LF_SUB, 1)
ALU_FAST(sub64, 8, M64, a - b, LF_SUB, 1)
ALU_FAST(cmp32, 4, M32, a - b, LF_SUB, 0)
ALU_FAST(cmp64, 8, M64, a - b, LF_SUB, 0)
ALU_FAST(and32, 4, M32, a & b, LF_LOGIC, 1)
ALU_FAST(and64, 8, M64, a & b, LF_LOGIC, 1)
ALU_FAST(or32, 4, M32, a | b, LF_LOGIC, 1)
ALU_FAST(or64, 8, M64, a | b, LF_LOGIC, 1)
ALU_FAST(xor32, 4, M32, a ^ b, LF_LOGIC, 1)
ALU_FAST(xor64, 8, M64, a ^ b, LF_LOGIC, 1)
ALU_FAST(test32, 4, M32, a & b, LF_LOGIC, 0)
ALU_FAST(test64, 8, M64, a & b, LF_LOGIC, 0)

#define INCDEC_FAST(name, W, MASK, D, LF)                                                                   \
	static void name(struct emu_cpu *c, const struct emu_insn *in)                                       \
	{                                                                                                    \
		uint8_t cf = emu_cf(c) ? 1 : 0;                                                              \
		uint64_t *g = &c->s->gpr[in->op[0].reg];                                                     \
		uint64_t a = *g & (MASK), r = (a + (uint64_t)(D)) & (MASK);                                  \
		*g = r;                                                                                      \
		c->lf_op = (LF);                                                                             \
		c->lf_size = (W);                                                                            \
		c->lf_res = r;                                                                               \
		c->lf_a = a;                                                                                 \
		c->lf_b = 1;                                                                                 \
		c->lf_cin = cf;                                                                              \
	}

INCDEC_FAST(inc32, 4, M32, 1, LF_INC)
INCDEC_FAST(inc64, 8, M64, 1, LF_INC)
INCDEC_FAST(dec32, 4, M32, -1, LF_DEC)
INCDEC_FAST(dec64, 8, M64, -1, LF_DEC)

/* Jcc in 64-bit mode: a relative target needs only the canonical check. */
static void jcc64(struct emu_cpu *c, const struct emu_insn *in)
{
	if (emu_cond(c, in->aux))
		emu_branch(c, c->next_rip + in->imm, 8);
}

emu_handler emu_fast_handler(const struct emu_insn *in, bool long64)
{
	if (in->fn == h_jcc && long64 && in->osz != 2)
		return jcc64;
	bool r0 = in->nops >= 1 && in->op[0].kind == OK_REG && !in->op[0].hi8 && !in->lock;
	if (!r0)
		return NULL;
	unsigned w = in->op[0].size;
	if (w != 4 && w != 8)
		return NULL;
	bool w8 = w == 8;
	if (in->fn == h_incdec && in->nops == 1)
		return in->aux ? (w8 ? dec64 : dec32) : (w8 ? inc64 : inc32);
	if (in->nops != 2 || (in->op[1].kind != OK_REG && in->op[1].kind != OK_IMM))
		return NULL;
	if (in->op[1].kind == OK_REG && in->op[1].size != w)
		return NULL;
	if (in->fn == h_test)
		return w8 ? test64 : test32;
	if (in->fn != h_alu && in->fn != h_alu_rr)
		return NULL;
	switch (in->aux) {
	case 0: return w8 ? add64 : add32;
	case 1: return w8 ? or64 : or32;
	case 4: return w8 ? and64 : and32;
	case 5: return w8 ? sub64 : sub32;
	case 6: return w8 ? xor64 : xor32;
	case 7: return w8 ? cmp64 : cmp32;
	default: return NULL; /* ADC/SBB keep the general handler */
	}
}
