/* sse.c: SSE/SSE2 as compiled x86-64 code needs it (moves, integer and logical ops, scalar/packed float, compares, conversions), MXCSR, FXSAVE/FXRSTOR and XSAVE/XRSTOR of the x87/SSE state. */
#include <math.h>
#include <string.h>

#include "backend/emu/cpu/handlers.h"
#include "backend/emu/cpu/sse_ops.h"

#define XMM_OFF 160
#define MXCSR_OFF 24

typedef union {
	uint8_t b[16];
	uint16_t w[8];
	uint32_t d[4];
	uint64_t q[2];
	int8_t sb[16];
	int16_t sw[8];
	int32_t sd[4];
	int64_t sq[2];
	float f[4];
	double g[2];
} xmm_t;

static inline uint8_t *xreg(struct emu_cpu *c, unsigned n)
{
	return c->s->fpstate + XMM_OFF + (n & 15) * 16;
}

static void sse_check(struct emu_cpu *c)
{
	uint64_t cr0 = c->v[HVX_SLOT_GUEST_CR0];
	if ((cr0 & CR0_EM) || !(c->v[HVX_SLOT_GUEST_CR4] & CR4_OSFXSR))
		emu_ud(c);
	if (cr0 & CR0_TS_)
		emu_fault(c, EXC_NM, false, 0);
}

/* Read operand i as up to 16 bytes (zero-filled); aligned: m128 must be 16-byte aligned. */
static xmm_t rd(struct emu_cpu *c, const struct emu_insn *in, unsigned i, bool aligned)
{
	xmm_t x;
	memset(&x, 0, sizeof x);
	const struct emu_op *o = &in->op[i];
	switch (o->kind) {
	case OK_XMM: memcpy(&x, xreg(c, o->reg), 16); break;
	case OK_REG: x.q[0] = reg_get(c, o->reg, o->size, o->hi8); break;
	case OK_IMM: x.q[0] = in->imm; break;
	case OK_MEM: {
		uint64_t a = op_addr(c, in);
		unsigned n = o->size ? o->size : 16;
		if (n > 16)
			n = 16;
		if (aligned && n == 16 && (((c->sc[in->seg].base + a) & 15) != 0))
			emu_gp0(c);
		uint64_t la = seg_linear(c, in->seg, a, n, ACC_R);
		mmu_read_buf(c, la, &x, n, 0);
		break;
	}
	default: emu_ud(c);
	}
	return x;
}

/* Write n bytes of x to operand i (XMM destinations: n < 16 zero-extends only when zext). */
static void wr(struct emu_cpu *c, const struct emu_insn *in, unsigned i, const xmm_t *x, unsigned n, bool zext,
	       bool aligned)
{
	const struct emu_op *o = &in->op[i];
	switch (o->kind) {
	case OK_XMM: {
		uint8_t *d = xreg(c, o->reg);
		if (zext)
			memset(d, 0, 16);
		memcpy(d, x, n);
		break;
	}
	case OK_REG: reg_set(c, o->reg, o->size, false, x->q[0]); break;
	case OK_MEM: {
		uint64_t a = op_addr(c, in);
		if (aligned && n == 16 && (((c->sc[in->seg].base + a) & 15) != 0))
			emu_gp0(c);
		uint64_t la = seg_linear(c, in->seg, a, n, ACC_W);
		mmu_write_buf(c, la, x, n, 0);
		break;
	}
	default: emu_ud(c);
	}
}

static void comis(struct emu_cpu *c, double a, double b)
{
	uint64_t f;
	if (isnan(a) || isnan(b))
		f = FL_ZF | FL_PF | FL_CF;
	else if (a < b)
		f = FL_CF;
	else if (a > b)
		f = 0;
	else
		f = FL_ZF;
	emu_set_flags(c, f, FL_ARITH);
}

/* The eight SSE compare predicates: EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD. */
static bool fcmp(double a, double b, unsigned pred)
{
	bool un = isnan(a) || isnan(b);
	switch (pred & 7) {
	case 0: return !un && a == b;
	case 1: return !un && a < b;
	case 2: return !un && a <= b;
	case 3: return un;
	case 4: return un || a != b;
	case 5: return un || !(a < b);
	case 6: return un || !(a <= b);
	default: return !un;
	}
}

static int64_t cvt_trunc(double v, unsigned size)
{
	double lim = size == 8 ? 9223372036854775808.0 : 2147483648.0;
	if (isnan(v) || v >= lim || v < -lim)
		return size == 8 ? INT64_MIN : INT32_MIN;
	return (int64_t)v;
}

static int64_t cvt_round(double v, unsigned size)
{
	double r = nearbyint(v);
	return cvt_trunc(r, size);
}

void h_sse(struct emu_cpu *c, const struct emu_insn *in)
{
	sse_check(c);
	unsigned op = in->aux;
	xmm_t d, s, r;
	switch (op) {
	case SO_MOVA: s = rd(c, in, 1, true); wr(c, in, 0, &s, 16, true, true); return;
	case SO_MOVU: s = rd(c, in, 1, false); wr(c, in, 0, &s, 16, true, false); return;
	case SO_MOVD: {
		s = rd(c, in, 1, false);
		unsigned n = in->op[1].kind == OK_XMM ? (in->op[0].size ? in->op[0].size : 8) : (in->op[1].size ? in->op[1].size : 8);
		if (n > 8)
			n = 8;
		if (in->op[0].kind == OK_XMM)
			wr(c, in, 0, &s, n, true, false);
		else
			wr(c, in, 0, &s, n, false, false);
		return;
	}
	case SO_MOVS32:
	case SO_MOVS64: {
		unsigned n = op == SO_MOVS32 ? 4 : 8;
		s = rd(c, in, 1, false);
		bool zext = in->op[1].kind == OK_MEM;
		wr(c, in, 0, &s, n, zext, false);
		return;
	}
	case SO_MOVLP: s = rd(c, in, 1, false); wr(c, in, 0, &s, 8, false, false); return;
	case SO_MOVHP:
		s = rd(c, in, 1, false);
		if (in->op[0].kind == OK_XMM) {
			memcpy(xreg(c, in->op[0].reg) + 8, &s, 8);
		} else {
			r.q[0] = s.q[1];
			wr(c, in, 0, &r, 8, false, false);
		}
		return;
	case SO_MOVHLPS: s = rd(c, in, 1, false); memcpy(xreg(c, in->op[0].reg), &s.q[1], 8); return;
	case SO_MOVLHPS: s = rd(c, in, 1, false); memcpy(xreg(c, in->op[0].reg) + 8, &s.q[0], 8); return;
	case SO_PMOVMSKB: {
		s = rd(c, in, 1, false);
		uint64_t m = 0;
		for (int i = 0; i < 16; i++)
			m |= (uint64_t)(s.b[i] >> 7) << i;
		reg_set(c, in->op[0].reg, in->op[0].size, false, m);
		return;
	}
	case SO_MOVMSKPS: case SO_MOVMSKPD: {
		s = rd(c, in, 1, false);
		uint64_t m = op == SO_MOVMSKPS ? ((s.d[0] >> 31) | (s.d[1] >> 31) << 1 | (s.d[2] >> 31) << 2 | (uint64_t)(s.d[3] >> 31) << 3)
					       : ((s.q[0] >> 63) | (s.q[1] >> 63) << 1);
		reg_set(c, in->op[0].reg, in->op[0].size, false, m);
		return;
	}
	case SO_PEXTRW: {
		s = rd(c, in, 1, false);
		reg_set(c, in->op[0].reg, in->op[0].size, false, s.w[in->imm & 7]);
		return;
	}
	case SO_LDMXCSR: {
		uint32_t v = (uint32_t)mem_read(c, in->seg, op_addr(c, in), 4);
		if (v & ~0xffffu)
			emu_gp0(c);
		memcpy(c->s->fpstate + MXCSR_OFF, &v, 4);
		return;
	}
	case SO_STMXCSR: {
		uint32_t v;
		memcpy(&v, c->s->fpstate + MXCSR_OFF, 4);
		mem_write(c, in->seg, op_addr(c, in), 4, v);
		return;
	}
	case SO_COMISS: case SO_UCOMISS: d = rd(c, in, 0, false); s = rd(c, in, 1, false); comis(c, d.f[0], s.f[0]); return;
	case SO_COMISD: case SO_UCOMISD: d = rd(c, in, 0, false); s = rd(c, in, 1, false); comis(c, d.g[0], s.g[0]); return;
	case SO_CVTTSS2SI: case SO_CVTSS2SI: case SO_CVTTSD2SI: case SO_CVTSD2SI: {
		s = rd(c, in, 1, false);
		double v = (op == SO_CVTTSS2SI || op == SO_CVTSS2SI) ? (double)s.f[0] : s.g[0];
		unsigned n = in->op[0].size;
		int64_t x = (op == SO_CVTTSS2SI || op == SO_CVTTSD2SI) ? cvt_trunc(v, n) : cvt_round(v, n);
		reg_set(c, in->op[0].reg, n, false, (uint64_t)x);
		return;
	}
	default: break;
	}
	/* Two-operand arithmetic: d = d op s (aligned m128 except scalar forms). */
	bool scalar = (op >= SO_PSRLW && op <= SO_PSLLDQ && in->op[1].kind == OK_IMM) || op == SO_ADDSS || op == SO_SUBSS || op == SO_MULSS || op == SO_DIVSS || op == SO_ADDSD ||
		      op == SO_SUBSD || op == SO_MULSD || op == SO_DIVSD || op == SO_SQRTSS || op == SO_SQRTSD ||
		      op == SO_MINSS || op == SO_MAXSS || op == SO_MINSD || op == SO_MAXSD || op == SO_CVTSI2SS ||
		      op == SO_CVTSI2SD || op == SO_CVTSS2SD || op == SO_CVTSD2SS || op == SO_CMPSS || op == SO_CMPSD ||
		      op == SO_PINSRW;
	d = rd(c, in, 0, false);
	s = rd(c, in, 1, !scalar && in->op[1].kind == OK_MEM);
	r = d;
	switch (op) {
	case SO_PXOR: r.q[0] = d.q[0] ^ s.q[0]; r.q[1] = d.q[1] ^ s.q[1]; break;
	case SO_POR: r.q[0] = d.q[0] | s.q[0]; r.q[1] = d.q[1] | s.q[1]; break;
	case SO_PAND: r.q[0] = d.q[0] & s.q[0]; r.q[1] = d.q[1] & s.q[1]; break;
	case SO_PANDN: r.q[0] = ~d.q[0] & s.q[0]; r.q[1] = ~d.q[1] & s.q[1]; break;
	case SO_PADDB: for (int i = 0; i < 16; i++) r.b[i] = (uint8_t)(d.b[i] + s.b[i]); break;
	case SO_PADDW: for (int i = 0; i < 8; i++) r.w[i] = (uint16_t)(d.w[i] + s.w[i]); break;
	case SO_PADDD: for (int i = 0; i < 4; i++) r.d[i] = d.d[i] + s.d[i]; break;
	case SO_PADDQ: for (int i = 0; i < 2; i++) r.q[i] = d.q[i] + s.q[i]; break;
	case SO_PSUBB: for (int i = 0; i < 16; i++) r.b[i] = (uint8_t)(d.b[i] - s.b[i]); break;
	case SO_PSUBW: for (int i = 0; i < 8; i++) r.w[i] = (uint16_t)(d.w[i] - s.w[i]); break;
	case SO_PSUBD: for (int i = 0; i < 4; i++) r.d[i] = d.d[i] - s.d[i]; break;
	case SO_PSUBQ: for (int i = 0; i < 2; i++) r.q[i] = d.q[i] - s.q[i]; break;
	case SO_PCMPEQB: for (int i = 0; i < 16; i++) r.b[i] = d.b[i] == s.b[i] ? 0xff : 0; break;
	case SO_PCMPEQW: for (int i = 0; i < 8; i++) r.w[i] = d.w[i] == s.w[i] ? 0xffff : 0; break;
	case SO_PCMPEQD: for (int i = 0; i < 4; i++) r.d[i] = d.d[i] == s.d[i] ? ~0u : 0; break;
	case SO_PCMPGTB: for (int i = 0; i < 16; i++) r.b[i] = d.sb[i] > s.sb[i] ? 0xff : 0; break;
	case SO_PCMPGTW: for (int i = 0; i < 8; i++) r.w[i] = d.sw[i] > s.sw[i] ? 0xffff : 0; break;
	case SO_PCMPGTD: for (int i = 0; i < 4; i++) r.d[i] = d.sd[i] > s.sd[i] ? ~0u : 0; break;
	case SO_PMINUB: for (int i = 0; i < 16; i++) r.b[i] = d.b[i] < s.b[i] ? d.b[i] : s.b[i]; break;
	case SO_PMAXUB: for (int i = 0; i < 16; i++) r.b[i] = d.b[i] > s.b[i] ? d.b[i] : s.b[i]; break;
	case SO_PUNPCKLBW: for (int i = 0; i < 8; i++) { r.b[2 * i] = d.b[i]; r.b[2 * i + 1] = s.b[i]; } break;
	case SO_PUNPCKLWD: for (int i = 0; i < 4; i++) { r.w[2 * i] = d.w[i]; r.w[2 * i + 1] = s.w[i]; } break;
	case SO_PUNPCKLDQ: for (int i = 0; i < 2; i++) { r.d[2 * i] = d.d[i]; r.d[2 * i + 1] = s.d[i]; } break;
	case SO_PUNPCKLQDQ: r.q[0] = d.q[0]; r.q[1] = s.q[0]; break;
	case SO_PUNPCKHBW: for (int i = 0; i < 8; i++) { r.b[2 * i] = d.b[8 + i]; r.b[2 * i + 1] = s.b[8 + i]; } break;
	case SO_PUNPCKHWD: for (int i = 0; i < 4; i++) { r.w[2 * i] = d.w[4 + i]; r.w[2 * i + 1] = s.w[4 + i]; } break;
	case SO_PUNPCKHDQ: for (int i = 0; i < 2; i++) { r.d[2 * i] = d.d[2 + i]; r.d[2 * i + 1] = s.d[2 + i]; } break;
	case SO_PUNPCKHQDQ: r.q[0] = d.q[1]; r.q[1] = s.q[1]; break;
	case SO_PSHUFD: {
		unsigned imm = (unsigned)in->imm;
		for (int i = 0; i < 4; i++)
			r.d[i] = s.d[(imm >> (2 * i)) & 3];
		break;
	}
	case SO_SHUFPS: {
		unsigned imm = (unsigned)in->imm;
		r.d[0] = d.d[imm & 3];
		r.d[1] = d.d[(imm >> 2) & 3];
		r.d[2] = s.d[(imm >> 4) & 3];
		r.d[3] = s.d[(imm >> 6) & 3];
		break;
	}
	case SO_PSRLW: case SO_PSRLD: case SO_PSRLQ: case SO_PSRAW: case SO_PSRAD: case SO_PSLLW: case SO_PSLLD:
	case SO_PSLLQ: case SO_PSRLDQ: case SO_PSLLDQ: {
		static const uint8_t width[] = {2, 4, 8, 2, 4, 2, 4, 8, 16, 16};
		static const uint8_t kind[] = {0, 0, 0, 1, 1, 2, 2, 2, 3, 4}; /* srl, sra, sll, srldq, slldq */
		unsigned k = kind[op - SO_PSRLW], w = width[op - SO_PSRLW];
		uint64_t cnt = s.q[0];
		if (in->op[1].kind != OK_IMM && s.q[1])
			cnt = ~0ull;
		if (k >= 3) {
			xmm_t t;
			memset(&t, 0, sizeof t);
			if (cnt < 16)
				for (int i = 0; i < 16; i++) {
					int src = k == 3 ? i + (int)cnt : i - (int)cnt;
					if (src >= 0 && src < 16)
						t.b[i] = d.b[src];
				}
			r = t;
			break;
		}
		unsigned bits = w * 8;
		for (unsigned i = 0; i < 16 / w; i++) {
			uint64_t v = 0;
			memcpy(&v, &d.b[i * w], w);
			if (k == 0)
				v = cnt >= bits ? 0 : v >> cnt;
			else if (k == 2)
				v = cnt >= bits ? 0 : (v << cnt);
			else
				v = (uint64_t)((int64_t)sext(v, w) >> (cnt >= bits ? bits - 1 : cnt));
			memcpy(&r.b[i * w], &v, w);
		}
		break;
	}
	case SO_XORPS: r.q[0] = d.q[0] ^ s.q[0]; r.q[1] = d.q[1] ^ s.q[1]; break;
	case SO_ANDPS: r.q[0] = d.q[0] & s.q[0]; r.q[1] = d.q[1] & s.q[1]; break;
	case SO_ORPS: r.q[0] = d.q[0] | s.q[0]; r.q[1] = d.q[1] | s.q[1]; break;
	case SO_ANDNPS: r.q[0] = ~d.q[0] & s.q[0]; r.q[1] = ~d.q[1] & s.q[1]; break;
	case SO_ADDSS: r.f[0] = d.f[0] + s.f[0]; break;
	case SO_SUBSS: r.f[0] = d.f[0] - s.f[0]; break;
	case SO_MULSS: r.f[0] = d.f[0] * s.f[0]; break;
	case SO_DIVSS: r.f[0] = d.f[0] / s.f[0]; break;
	case SO_SQRTSS: r.f[0] = sqrtf(s.f[0]); break;
	case SO_MINSS: r.f[0] = d.f[0] < s.f[0] ? d.f[0] : s.f[0]; break;
	case SO_MAXSS: r.f[0] = d.f[0] > s.f[0] ? d.f[0] : s.f[0]; break;
	case SO_ADDSD: r.g[0] = d.g[0] + s.g[0]; break;
	case SO_SUBSD: r.g[0] = d.g[0] - s.g[0]; break;
	case SO_MULSD: r.g[0] = d.g[0] * s.g[0]; break;
	case SO_DIVSD: r.g[0] = d.g[0] / s.g[0]; break;
	case SO_SQRTSD: r.g[0] = sqrt(s.g[0]); break;
	case SO_MINSD: r.g[0] = d.g[0] < s.g[0] ? d.g[0] : s.g[0]; break;
	case SO_MAXSD: r.g[0] = d.g[0] > s.g[0] ? d.g[0] : s.g[0]; break;
	case SO_ADDPS: for (int i = 0; i < 4; i++) r.f[i] = d.f[i] + s.f[i]; break;
	case SO_SUBPS: for (int i = 0; i < 4; i++) r.f[i] = d.f[i] - s.f[i]; break;
	case SO_MULPS: for (int i = 0; i < 4; i++) r.f[i] = d.f[i] * s.f[i]; break;
	case SO_DIVPS: for (int i = 0; i < 4; i++) r.f[i] = d.f[i] / s.f[i]; break;
	case SO_ADDPD: for (int i = 0; i < 2; i++) r.g[i] = d.g[i] + s.g[i]; break;
	case SO_SUBPD: for (int i = 0; i < 2; i++) r.g[i] = d.g[i] - s.g[i]; break;
	case SO_MULPD: for (int i = 0; i < 2; i++) r.g[i] = d.g[i] * s.g[i]; break;
	case SO_DIVPD: for (int i = 0; i < 2; i++) r.g[i] = d.g[i] / s.g[i]; break;
	case SO_CVTSI2SS: r.f[0] = in->op[1].size == 8 ? (float)(int64_t)s.q[0] : (float)(int32_t)s.d[0]; break;
	case SO_CVTSI2SD: r.g[0] = in->op[1].size == 8 ? (double)(int64_t)s.q[0] : (double)(int32_t)s.d[0]; break;
	case SO_CVTSS2SD: r.g[0] = (double)s.f[0]; break;
	case SO_CVTSD2SS: r.f[0] = (float)s.g[0]; break;
	case SO_CVTDQ2PD: r.g[0] = (double)s.sd[0]; r.g[1] = (double)s.sd[1]; break;
	case SO_CVTDQ2PS: for (int i = 0; i < 4; i++) r.f[i] = (float)s.sd[i]; break;
	case SO_CVTTPS2DQ: for (int i = 0; i < 4; i++) r.sd[i] = (int32_t)cvt_trunc(s.f[i], 4); break;
	case SO_CMPPS: for (int i = 0; i < 4; i++) r.d[i] = fcmp(d.f[i], s.f[i], (unsigned)in->imm) ? ~0u : 0; break;
	case SO_CMPPD: for (int i = 0; i < 2; i++) r.q[i] = fcmp(d.g[i], s.g[i], (unsigned)in->imm) ? ~0ull : 0; break;
	case SO_CMPSS: r.d[0] = fcmp(d.f[0], s.f[0], (unsigned)in->imm) ? ~0u : 0; break;
	case SO_CMPSD: r.q[0] = fcmp(d.g[0], s.g[0], (unsigned)in->imm) ? ~0ull : 0; break;
	case SO_UNPCKLPS: r.d[0] = d.d[0]; r.d[1] = s.d[0]; r.d[2] = d.d[1]; r.d[3] = s.d[1]; break;
	case SO_UNPCKHPS: r.d[0] = d.d[2]; r.d[1] = s.d[2]; r.d[2] = d.d[3]; r.d[3] = s.d[3]; break;
	case SO_UNPCKLPD: r.q[0] = d.q[0]; r.q[1] = s.q[0]; break;
	case SO_UNPCKHPD: r.q[0] = d.q[1]; r.q[1] = s.q[1]; break;
	case SO_SHUFPD: r.q[0] = d.q[in->imm & 1]; r.q[1] = s.q[(in->imm >> 1) & 1]; break;
	case SO_CVTPS2PD: r.g[0] = (double)s.f[0]; r.g[1] = (double)s.f[1]; break;
	case SO_CVTPD2PS: r.f[0] = (float)s.g[0]; r.f[1] = (float)s.g[1]; r.q[1] = 0; break;
	case SO_CVTTPD2DQ: r.sd[0] = (int32_t)cvt_trunc(s.g[0], 4); r.sd[1] = (int32_t)cvt_trunc(s.g[1], 4); r.q[1] = 0; break;
	case SO_CVTPD2DQ: r.sd[0] = (int32_t)cvt_round(s.g[0], 4); r.sd[1] = (int32_t)cvt_round(s.g[1], 4); r.q[1] = 0; break;
	case SO_CVTPS2DQ: for (int i = 0; i < 4; i++) r.sd[i] = (int32_t)cvt_round(s.f[i], 4); break;
	case SO_PINSRW: {
		xmm_t v = rd(c, in, 1, false);
		r.w[in->imm & 7] = v.w[0];
		break;
	}
	case SO_PADDSB: for (int i = 0; i < 16; i++) { int v = d.sb[i] + s.sb[i]; r.sb[i] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v); } break;
	case SO_PADDSW: for (int i = 0; i < 8; i++) { int v = d.sw[i] + s.sw[i]; r.sw[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); } break;
	case SO_PSUBSB: for (int i = 0; i < 16; i++) { int v = d.sb[i] - s.sb[i]; r.sb[i] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v); } break;
	case SO_PSUBSW: for (int i = 0; i < 8; i++) { int v = d.sw[i] - s.sw[i]; r.sw[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); } break;
	case SO_MAXPS: for (int i = 0; i < 4; i++) r.f[i] = d.f[i] > s.f[i] ? d.f[i] : s.f[i]; break;
	case SO_MINPS: for (int i = 0; i < 4; i++) r.f[i] = d.f[i] < s.f[i] ? d.f[i] : s.f[i]; break;
	case SO_MAXPD: for (int i = 0; i < 2; i++) r.g[i] = d.g[i] > s.g[i] ? d.g[i] : s.g[i]; break;
	case SO_MINPD: for (int i = 0; i < 2; i++) r.g[i] = d.g[i] < s.g[i] ? d.g[i] : s.g[i]; break;
	case SO_SQRTPS: for (int i = 0; i < 4; i++) r.f[i] = sqrtf(s.f[i]); break;
	case SO_SQRTPD: for (int i = 0; i < 2; i++) r.g[i] = sqrt(s.g[i]); break;
	case SO_PSHUFLW: case SO_PSHUFHW: {
		unsigned imm = (unsigned)in->imm, base = op == SO_PSHUFLW ? 0 : 4;
		r = s;
		for (unsigned i = 0; i < 4; i++)
			r.w[base + i] = s.w[base + ((imm >> (2 * i)) & 3)];
		break;
	}
	case SO_PACKUSWB:
		for (int i = 0; i < 16; i++) {
			int16_t v = i < 8 ? d.sw[i] : s.sw[i - 8];
			r.b[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
		break;
	case SO_PACKSSWB:
		for (int i = 0; i < 16; i++) {
			int16_t v = i < 8 ? d.sw[i] : s.sw[i - 8];
			r.sb[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
		}
		break;
	case SO_PACKSSDW:
		for (int i = 0; i < 8; i++) {
			int32_t v = i < 4 ? d.sd[i] : s.sd[i - 4];
			r.sw[i] = (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
		}
		break;
	case SO_PMULLW: for (int i = 0; i < 8; i++) r.w[i] = (uint16_t)((int32_t)d.sw[i] * s.sw[i]); break;
	case SO_PMULHW: for (int i = 0; i < 8; i++) r.w[i] = (uint16_t)(((int32_t)d.sw[i] * s.sw[i]) >> 16); break;
	case SO_PMULHUW: for (int i = 0; i < 8; i++) r.w[i] = (uint16_t)(((uint32_t)d.w[i] * s.w[i]) >> 16); break;
	case SO_PMULUDQ: r.q[0] = (uint64_t)d.d[0] * s.d[0]; r.q[1] = (uint64_t)d.d[2] * s.d[2]; break;
	case SO_PADDUSB: for (int i = 0; i < 16; i++) { unsigned v = d.b[i] + s.b[i]; r.b[i] = (uint8_t)(v > 255 ? 255 : v); } break;
	case SO_PADDUSW: for (int i = 0; i < 8; i++) { unsigned v = d.w[i] + s.w[i]; r.w[i] = (uint16_t)(v > 65535 ? 65535 : v); } break;
	case SO_PSUBUSB: for (int i = 0; i < 16; i++) r.b[i] = (uint8_t)(d.b[i] > s.b[i] ? d.b[i] - s.b[i] : 0); break;
	case SO_PSUBUSW: for (int i = 0; i < 8; i++) r.w[i] = (uint16_t)(d.w[i] > s.w[i] ? d.w[i] - s.w[i] : 0); break;
	case SO_PMINSW: for (int i = 0; i < 8; i++) r.sw[i] = d.sw[i] < s.sw[i] ? d.sw[i] : s.sw[i]; break;
	case SO_PMAXSW: for (int i = 0; i < 8; i++) r.sw[i] = d.sw[i] > s.sw[i] ? d.sw[i] : s.sw[i]; break;
	case SO_PAVGB: for (int i = 0; i < 16; i++) r.b[i] = (uint8_t)((d.b[i] + s.b[i] + 1) >> 1); break;
	case SO_PSADBW:
		for (int h = 0; h < 2; h++) {
			unsigned t = 0;
			for (int i = 0; i < 8; i++)
				t += d.b[h * 8 + i] > s.b[h * 8 + i] ? d.b[h * 8 + i] - s.b[h * 8 + i] : s.b[h * 8 + i] - d.b[h * 8 + i];
			r.q[h] = t;
		}
		break;
	case SO_PMADDWD:
		for (int i = 0; i < 4; i++)
			r.sd[i] = (int32_t)((uint32_t)((int32_t)d.sw[2 * i] * s.sw[2 * i]) + (uint32_t)((int32_t)d.sw[2 * i + 1] * s.sw[2 * i + 1]));
		break;
	default: h_ud(c, in); return;
	}
	wr(c, in, 0, &r, 16, true, false);
}

/* FXSAVE / FXRSTOR / XSAVE / XRSTOR: the 512-byte legacy region (x87 + SSE). */
void h_fxsave(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t cr0 = c->v[HVX_SLOT_GUEST_CR0];
	bool xs = in->aux >= 2;
	if (cr0 & CR0_EM)
		emu_ud(c);
	if (xs && !(c->v[HVX_SLOT_GUEST_CR4] & CR4_OSXSAVE))
		emu_ud(c);
	if (cr0 & CR0_TS_)
		emu_fault(c, EXC_NM, false, 0);
	if (in->op[0].kind != OK_MEM)
		emu_ud(c);
	uint64_t a = op_addr(c, in);
	if ((c->sc[in->seg].base + a) & (xs ? 63 : 15))
		emu_gp0(c);
	uint64_t la = seg_linear(c, in->seg, a, 512, (in->aux & 1) ? ACC_R : ACC_W);
	if (!(in->aux & 1)) {
		mmu_write_buf(c, la, c->s->fpstate, 512, 0);
		if (xs) {
			uint64_t bv = 3 & ((c->s->gpr[HVX_RDX] << 32) | (uint32_t)c->s->gpr[HVX_RAX]);
			mmu_write_lin(c, la + 512, 8, bv, 0);
		}
	} else {
		uint8_t buf[512];
		mmu_read_buf(c, la, buf, 512, 0);
		uint32_t mx;
		memcpy(&mx, buf + MXCSR_OFF, 4);
		if (mx & ~0xffffu)
			emu_gp0(c);
		memcpy(c->s->fpstate, buf, 512);
	}
}
