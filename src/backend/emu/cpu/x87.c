/* x87.c: the x87 subset compiled x86-64 code uses (loads/stores of float/double/extended/integers, arithmetic, compares, control/status words), on hosts whose long double is the 80-bit format. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "backend/emu/cpu/handlers.h"
#include "backend/emu/cpu/x87_ops.h"

#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X87 1

#define FCW(c) (*(uint16_t *)(void *)((c)->s->fpstate + 0))
#define FSW(c) (*(uint16_t *)(void *)((c)->s->fpstate + 2))
#define FTW(c) ((c)->s->fpstate[4])

static long double st(struct emu_cpu *c, unsigned i)
{
	long double v = 0;
	memcpy(&v, c->s->fpstate + 32 + 16 * (i & 7), 10);
	return v;
}

static void st_set(struct emu_cpu *c, unsigned i, long double v)
{
	uint8_t *p = c->s->fpstate + 32 + 16 * (i & 7);
	memset(p, 0, 16);
	memcpy(p, &v, 10);
}

static unsigned top(struct emu_cpu *c)
{
	return (FSW(c) >> 11) & 7;
}

static void set_top(struct emu_cpu *c, unsigned t)
{
	FSW(c) = (uint16_t)((FSW(c) & ~0x3800u) | ((t & 7) << 11));
}

static void push(struct emu_cpu *c, long double v)
{
	memmove(c->s->fpstate + 48, c->s->fpstate + 32, 16 * 7);
	unsigned t = (top(c) - 1) & 7;
	set_top(c, t);
	FTW(c) |= (uint8_t)(1u << t);
	st_set(c, 0, v);
}

static void pop(struct emu_cpu *c)
{
	unsigned t = top(c);
	FTW(c) &= (uint8_t)~(1u << t);
	memmove(c->s->fpstate + 32, c->s->fpstate + 48, 16 * 7);
	memset(c->s->fpstate + 32 + 16 * 7, 0, 16);
	set_top(c, t + 1);
}

static long double mem_fp(struct emu_cpu *c, const struct emu_insn *in, unsigned size, bool integer)
{
	uint64_t la = seg_linear(c, in->seg, op_addr(c, in), size, ACC_R);
	uint8_t b[10] = {0};
	mmu_read_buf(c, la, b, size, 0);
	if (integer) {
		int64_t v = 0;
		if (size == 2) { int16_t x; memcpy(&x, b, 2); v = x; }
		else if (size == 4) { int32_t x; memcpy(&x, b, 4); v = x; }
		else memcpy(&v, b, 8);
		return (long double)v;
	}
	if (size == 4) { float f; memcpy(&f, b, 4); return f; }
	if (size == 8) { double d; memcpy(&d, b, 8); return d; }
	long double l = 0;
	memcpy(&l, b, 10);
	return l;
}

static void mem_fp_store(struct emu_cpu *c, const struct emu_insn *in, unsigned size, long double v)
{
	uint64_t la = seg_linear(c, in->seg, op_addr(c, in), size, ACC_W);
	uint8_t b[10] = {0};
	if (size == 4) { float f = (float)v; memcpy(b, &f, 4); }
	else if (size == 8) { double d = (double)v; memcpy(b, &d, 8); }
	else memcpy(b, &v, 10);
	mmu_write_buf(c, la, b, size, 0);
}

static long double round_rc(struct emu_cpu *c, long double v, bool trunc)
{
	if (trunc)
		return truncl(v);
	switch ((FCW(c) >> 10) & 3) {
	case 0: return nearbyintl(v);
	case 1: return floorl(v);
	case 2: return ceill(v);
	default: return truncl(v);
	}
}

static void store_int(struct emu_cpu *c, const struct emu_insn *in, unsigned size, long double v, bool trunc)
{
	long double r = round_rc(c, v, trunc);
	long double lim = size == 2 ? 32768.0L : size == 4 ? 2147483648.0L : 9223372036854775808.0L;
	int64_t x;
	if (isnan(r) || r >= lim || r < -lim)
		x = size == 2 ? INT16_MIN : size == 4 ? INT32_MIN : INT64_MIN;
	else
		x = (int64_t)r;
	mem_write(c, in->seg, op_addr(c, in), size, (uint64_t)x);
}

static void compare(struct emu_cpu *c, long double a, long double b, bool eflags)
{
	if (eflags) {
		uint64_t f = (isnan(a) || isnan(b)) ? (FL_ZF | FL_PF | FL_CF) : a < b ? FL_CF : a > b ? 0 : FL_ZF;
		emu_set_flags(c, f, FL_ARITH);
		return;
	}
	uint16_t cc = (isnan(a) || isnan(b)) ? 0x4500 : a < b ? 0x0100 : a > b ? 0 : 0x4000;
	FSW(c) = (uint16_t)((FSW(c) & ~0x4500u) | cc);
}

/* Which stack register an ST(i) operand names (ST0 for memory forms). */
static unsigned sti(const struct emu_insn *in, unsigned k)
{
	return in->op[k].kind == OK_ST ? in->op[k].reg : 0;
}
#endif

void h_x87(struct emu_cpu *c, const struct emu_insn *in)
{
#ifndef HAVE_X87
	h_ud(c, in);
#else
	uint64_t cr0 = c->v[HVX_SLOT_GUEST_CR0];
	if (cr0 & CR0_EM)
		emu_fault(c, EXC_NM, false, 0);
	if ((cr0 & CR0_TS_) && (cr0 & CR0_MP || in->aux != XO_FWAIT))
		emu_fault(c, EXC_NM, false, 0);
	unsigned op = in->aux, msz = in->memop != 0xff ? in->op[in->memop].size : 0;
	bool mem = in->memop != 0xff;
	switch (op) {
	case XO_FWAIT: return;
	case XO_FNINIT:
		memset(c->s->fpstate, 0, 24);
		FCW(c) = 0x37f;
		return;
	case XO_FNCLEX: FSW(c) &= 0x7f00; return;
	case XO_FNSTSW:
		if (in->op[0].kind == OK_REG)
			reg_set(c, HVX_RAX, 2, false, FSW(c));
		else
			mem_write(c, in->seg, op_addr(c, in), 2, FSW(c));
		return;
	case XO_FNSTCW: mem_write(c, in->seg, op_addr(c, in), 2, FCW(c)); return;
	case XO_FLDCW: FCW(c) = (uint16_t)mem_read(c, in->seg, op_addr(c, in), 2); return;
	case XO_FLD: push(c, mem ? mem_fp(c, in, msz, false) : st(c, sti(in, 0))); return;
	case XO_FILD: push(c, mem_fp(c, in, msz, true)); return;
	case XO_FST:
	case XO_FSTP:
		if (mem)
			mem_fp_store(c, in, msz, st(c, 0));
		else
			st_set(c, sti(in, 0), st(c, 0));
		if (op == XO_FSTP)
			pop(c);
		return;
	case XO_FIST: case XO_FISTP: case XO_FISTTP:
		store_int(c, in, msz, st(c, 0), op == XO_FISTTP);
		if (op != XO_FIST)
			pop(c);
		return;
	case XO_FLD1: push(c, 1.0L); return;
	case XO_FLDZ: push(c, 0.0L); return;
	case XO_FLDPI: push(c, 3.14159265358979323851280895940618620443274267017841339111328125L); return;
	case XO_FLDL2E: push(c, 1.44269504088896340739L); return;
	case XO_FLDLN2: push(c, 0.693147180559945309429L); return;
	case XO_FCHS: st_set(c, 0, -st(c, 0)); return;
	case XO_FABS: st_set(c, 0, fabsl(st(c, 0))); return;
	case XO_FSQRT: st_set(c, 0, sqrtl(st(c, 0))); return;
	case XO_FRNDINT: st_set(c, 0, round_rc(c, st(c, 0), false)); return;
	case XO_FXCH: {
		unsigned i = in->nops >= 2 ? sti(in, 1) : in->nops == 1 ? sti(in, 0) : 1;
		long double a = st(c, 0), b = st(c, i);
		st_set(c, 0, b);
		st_set(c, i, a);
		return;
	}
	case XO_FFREE: return;
	case XO_FCOM: case XO_FCOMP: case XO_FUCOM: case XO_FUCOMP: {
		long double b = mem ? mem_fp(c, in, msz, false)
				    : st(c, in->nops >= 2 ? sti(in, 1) : in->nops == 1 ? sti(in, 0) : 1);
		compare(c, st(c, 0), b, false);
		if (op == XO_FCOMP || op == XO_FUCOMP)
			pop(c);
		return;
	}
	case XO_FCOMPP: case XO_FUCOMPP:
		compare(c, st(c, 0), st(c, 1), false);
		pop(c);
		pop(c);
		return;
	case XO_FCOMI: case XO_FCOMIP: case XO_FUCOMI: case XO_FUCOMIP:
		compare(c, st(c, 0), st(c, sti(in, 1)), true);
		if (op == XO_FCOMIP || op == XO_FUCOMIP)
			pop(c);
		return;
	case XO_FTST: compare(c, st(c, 0), 0.0L, false); return;
	case XO_FCMOVB: case XO_FCMOVE: case XO_FCMOVBE: case XO_FCMOVU: case XO_FCMOVNB: case XO_FCMOVNE:
	case XO_FCMOVNBE: case XO_FCMOVNU: {
		static const uint8_t cc[] = {2, 4, 6, 10, 3, 5, 7, 11};
		if (emu_cond(c, cc[op - XO_FCMOVB]))
			st_set(c, 0, st(c, sti(in, 1)));
		return;
	}
	default: break;
	}
	/* arithmetic: FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR [P], FIADD.. (memory integer) */
	unsigned kind = (op - XO_FADD) % 6;
	bool popit = op >= XO_FADDP && op < XO_FIADD, integer = op >= XO_FIADD;
	unsigned dst = 0;
	long double a, b;
	if (mem) {
		a = st(c, 0);
		b = mem_fp(c, in, msz, integer);
	} else if (in->nops >= 2) {
		dst = sti(in, 0);
		a = st(c, dst);
		b = st(c, sti(in, 1));
	} else {
		dst = 1;
		a = st(c, 1);
		b = st(c, 0);
	}
	long double r;
	switch (kind) {
	case 0: r = a + b; break;
	case 1: r = a * b; break;
	case 2: r = a - b; break;
	case 3: r = b - a; break;
	case 4: r = a / b; break;
	default: r = b / a; break;
	}
	st_set(c, dst, r);
	if (popit)
		pop(c);
#endif
}

bool emu_have_x87(void)
{
#ifdef HAVE_X87
	return true;
#else
	return false;
#endif
}
