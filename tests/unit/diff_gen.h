/* diff_gen.h: the random ring-3-safe instruction-sequence generator (templates, defined-flags masks, string/PUSH-POP and SSE blocks, input states) shared by test_emu_diff.c and test_kvm_diff.c. */
#ifndef HVX_TESTS_DIFF_GEN_H
#define HVX_TESTS_DIFF_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <Zydis/Zydis.h>

#if defined(__x86_64__)
#include <cpuid.h>

#define M(x) ZYDIS_MNEMONIC_##x
#define CF 0x1u
#define PF 0x4u
#define AF 0x10u
#define ZF 0x40u
#define SF 0x80u
#define OF 0x800u
#define ALLF (CF | PF | AF | ZF | SF | OF)

enum form { RR, RI, RM, MR, R1OP, M1OP, RI8SH, R3I, RRR };

struct tmpl {
	ZydisMnemonic m;
	uint8_t form;
	uint8_t sizes;   /* bit0 8, bit1 16, bit2 32, bit3 64 */
	uint16_t reads;  /* flags read */
	uint16_t def;    /* flags written with defined values */
	uint16_t undef;  /* flags left undefined */
	uint8_t feature; /* 0 base, 1 LZCNT, 2 BMI1, 3 BMI2, 4 ADX, 5 MOVBE, 6 POPCNT */
};

#define S_ALL 0xf
#define S_W 0xe /* 16/32/64 */
#define S_D 0xc /* 32/64 */

static const struct tmpl tmpls[] = {
	{M(ADD), RR, S_ALL, 0, ALLF, 0, 0}, {M(ADD), RI, S_ALL, 0, ALLF, 0, 0}, {M(ADD), RM, S_ALL, 0, ALLF, 0, 0},
	{M(ADD), MR, S_ALL, 0, ALLF, 0, 0}, {M(SUB), RR, S_ALL, 0, ALLF, 0, 0}, {M(SUB), RI, S_ALL, 0, ALLF, 0, 0},
	{M(SUB), MR, S_ALL, 0, ALLF, 0, 0}, {M(ADC), RR, S_ALL, CF, ALLF, 0, 0}, {M(ADC), RI, S_ALL, CF, ALLF, 0, 0},
	{M(SBB), RR, S_ALL, CF, ALLF, 0, 0}, {M(SBB), RM, S_ALL, CF, ALLF, 0, 0}, {M(CMP), RR, S_ALL, 0, ALLF, 0, 0},
	{M(CMP), RI, S_ALL, 0, ALLF, 0, 0}, {M(CMP), RM, S_ALL, 0, ALLF, 0, 0},
	{M(AND), RR, S_ALL, 0, ALLF & ~AF, AF, 0}, {M(OR), RI, S_ALL, 0, ALLF & ~AF, AF, 0},
	{M(XOR), RR, S_ALL, 0, ALLF & ~AF, AF, 0}, {M(XOR), MR, S_ALL, 0, ALLF & ~AF, AF, 0},
	{M(TEST), RR, S_ALL, 0, ALLF & ~AF, AF, 0}, {M(TEST), RI, S_ALL, 0, ALLF & ~AF, AF, 0},
	{M(INC), R1OP, S_ALL, 0, ALLF & ~CF, 0, 0}, {M(DEC), R1OP, S_ALL, 0, ALLF & ~CF, 0, 0},
	{M(INC), M1OP, S_ALL, 0, ALLF & ~CF, 0, 0}, {M(NEG), R1OP, S_ALL, 0, ALLF, 0, 0},
	{M(NOT), R1OP, S_ALL, 0, 0, 0, 0}, {M(NEG), M1OP, S_ALL, 0, ALLF, 0, 0},
	{M(MOV), RR, S_ALL, 0, 0, 0, 0}, {M(MOV), RI, S_ALL, 0, 0, 0, 0}, {M(MOV), RM, S_ALL, 0, 0, 0, 0},
	{M(MOV), MR, S_ALL, 0, 0, 0, 0}, {M(XCHG), RR, S_ALL, 0, 0, 0, 0}, {M(XCHG), MR, S_ALL, 0, 0, 0, 0},
	{M(XADD), RR, S_ALL, 0, ALLF, 0, 0}, {M(XADD), MR, S_ALL, 0, ALLF, 0, 0},
	{M(CMPXCHG), RR, S_ALL, 0, ALLF, 0, 0}, {M(CMPXCHG), MR, S_ALL, 0, ALLF, 0, 0},
	{M(SHL), RI8SH, S_ALL, 0, CF | PF | ZF | SF, OF | AF, 0}, {M(SHR), RI8SH, S_ALL, 0, CF | PF | ZF | SF, OF | AF, 0},
	{M(SAR), RI8SH, S_ALL, 0, CF | PF | ZF | SF, OF | AF, 0}, {M(ROL), RI8SH, S_ALL, 0, CF, OF, 0},
	{M(ROR), RI8SH, S_ALL, 0, CF, OF, 0}, {M(RCL), RI8SH, S_ALL, CF, CF, OF, 0},
	{M(RCR), RI8SH, S_ALL, CF, CF, OF, 0},
	{M(IMUL), RR, S_W, 0, CF | OF, SF | ZF | AF | PF, 0}, {M(IMUL), R3I, S_W, 0, CF | OF, SF | ZF | AF | PF, 0},
	{M(MUL), R1OP, S_ALL, 0, CF | OF, SF | ZF | AF | PF, 0}, {M(IMUL), R1OP, S_ALL, 0, CF | OF, SF | ZF | AF | PF, 0},
	{M(BT), RR, S_W, 0, CF, OF | SF | AF | PF, 0}, {M(BTS), RR, S_W, 0, CF, OF | SF | AF | PF, 0},
	{M(BTR), RI, S_W, 0, CF, OF | SF | AF | PF, 0}, {M(BTC), RI, S_W, 0, CF, OF | SF | AF | PF, 0},
	{M(BSWAP), R1OP, S_D, 0, 0, 0, 0}, {M(MOVZX), RR, S_W, 0, 0, 0, 0}, {M(MOVSX), RR, S_W, 0, 0, 0, 0},
	{M(CMOVZ), RR, S_W, ZF, 0, 0, 0}, {M(CMOVL), RR, S_W, SF | OF, 0, 0, 0}, {M(CMOVBE), RR, S_W, CF | ZF, 0, 0, 0},
	{M(CMOVP), RR, S_W, PF, 0, 0, 0}, {M(SETNLE), R1OP, 1, ZF | SF | OF, 0, 0, 0},
	{M(SETB), R1OP, 1, CF, 0, 0, 0}, {M(SETO), R1OP, 1, OF, 0, 0, 0},
	{M(LZCNT), RR, S_W, 0, CF | ZF, OF | SF | PF | AF, 1}, {M(TZCNT), RR, S_W, 0, CF | ZF, OF | SF | PF | AF, 2},
	{M(POPCNT), RR, S_W, 0, ALLF, 0, 6}, {M(ANDN), RRR, S_D, 0, SF | ZF | CF | OF, AF | PF, 2},
	{M(BLSI), RR, S_D, 0, SF | ZF | CF | OF, AF | PF, 2}, {M(BLSR), RR, S_D, 0, SF | ZF | CF | OF, AF | PF, 2},
	{M(SHLX), RRR, S_D, 0, 0, 0, 3}, {M(SARX), RRR, S_D, 0, 0, 0, 3}, {M(PDEP), RRR, S_D, 0, 0, 0, 3},
	{M(PEXT), RRR, S_D, 0, 0, 0, 3}, {M(ADCX), RR, S_D, CF, CF, 0, 4}, {M(ADOX), RR, S_D, OF, OF, 0, 4},
	{M(MOVBE), RM, S_W, 0, 0, 0, 5}, {M(CRC32), RR, S_D, 0, 0, 0, 0}, {M(LEA), RM, S_W, 0, 0, 0, 0},
};

static const ZydisRegister pool64[] = {ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RSI,
				       ZYDIS_REGISTER_RDI, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,
				       ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11, ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13,
				       ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15};

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static ZydisRegister sized(ZydisRegister r64, unsigned bits)
{
	static const ZydisRegister b8[16] = {ZYDIS_REGISTER_AL, ZYDIS_REGISTER_CL, ZYDIS_REGISTER_DL, ZYDIS_REGISTER_BL,
					     ZYDIS_REGISTER_SPL, ZYDIS_REGISTER_BPL, ZYDIS_REGISTER_SIL, ZYDIS_REGISTER_DIL,
					     ZYDIS_REGISTER_R8B, ZYDIS_REGISTER_R9B, ZYDIS_REGISTER_R10B, ZYDIS_REGISTER_R11B,
					     ZYDIS_REGISTER_R12B, ZYDIS_REGISTER_R13B, ZYDIS_REGISTER_R14B, ZYDIS_REGISTER_R15B};
	unsigned id = (unsigned)(r64 - ZYDIS_REGISTER_RAX);
	switch (bits) {
	case 8: return b8[id];
	case 16: return (ZydisRegister)(ZYDIS_REGISTER_AX + id);
	case 32: return (ZydisRegister)(ZYDIS_REGISTER_EAX + id);
	default: return r64;
	}
}

static bool has_feature(int f)
{
	unsigned a, b, c, d;
	switch (f) {
	case 0: return true;
	case 1: __cpuid(0x80000001, a, b, c, d); return c & (1u << 5);
	case 2: __cpuid_count(7, 0, a, b, c, d); return b & (1u << 3);
	case 3: __cpuid_count(7, 0, a, b, c, d); return b & (1u << 8);
	case 4: __cpuid_count(7, 0, a, b, c, d); return b & (1u << 19);
	case 5: __cpuid(1, a, b, c, d); return c & (1u << 22);
	default: __cpuid(1, a, b, c, d); return c & (1u << 23);
	}
}

/* Encode one random instance of t; returns length or 0. */
static ZydisMachineMode gen_mode = ZYDIS_MACHINE_MODE_LONG_64;
static unsigned pool_n = 14; /* legacy modes: the first 6 (no RBX/RSP and no REX registers) */

static ZydisRegister narrow(ZydisRegister r, unsigned bits)
{
	if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15)
		return sized(r, bits);
	return r;
}

/* Encode rq for mode: legacy modes address [EBX] / [BX] and use 32-bit index registers. */
static unsigned encode(const ZydisEncoderRequest *rq0, ZydisMachineMode mode, uint8_t *out)
{
	ZydisEncoderRequest rq = *rq0;
	rq.machine_mode = mode;
	for (unsigned i = 0; i < rq.operand_count; i++) {
		ZydisEncoderOperand *o = &rq.operands[i];
		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || mode == ZYDIS_MACHINE_MODE_LONG_64)
			continue;
		o->mem.base = narrow(o->mem.base, mode == ZYDIS_MACHINE_MODE_REAL_16 ? 16 : 32);
		o->mem.index = narrow(o->mem.index, mode == ZYDIS_MACHINE_MODE_REAL_16 ? 16 : 32);
	}
	ZyanUSize len = 15;
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&rq, out, &len)))
		return 0;
	return (unsigned)len;
}

static bool gen(const struct tmpl *t, ZydisEncoderRequest *rqp, unsigned *bits_out)
{
	unsigned sizes[4], ns = 0;
	for (unsigned i = 0; i < 4; i++)
		if ((t->sizes & (1u << i)) && (gen_mode == ZYDIS_MACHINE_MODE_LONG_64 || i < 3))
			sizes[ns++] = 8u << i;
	if (!ns)
		return false;
	unsigned bits = sizes[rnd() % ns];
	*bits_out = bits;
	ZydisEncoderRequest rq;
	memset(&rq, 0, sizeof rq);
	rq.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	rq.mnemonic = t->m;
	ZydisRegister a = sized(pool64[rnd() % pool_n], bits), b = sized(pool64[rnd() % pool_n], bits),
		      c = sized(pool64[rnd() % pool_n], bits);
	ZydisEncoderOperand *o = rq.operands;
	uint64_t disp = (rnd() % 24) * 8;
	switch (t->form) {
	case RR:
		rq.operand_count = 2;
		o[0].type = o[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
		o[0].reg.value = a;
		o[1].reg.value = b;
		if (t->m == M(MOVZX) || t->m == M(MOVSX)) {
			o[1].reg.value = sized(pool64[rnd() % pool_n], bits == 16 ? 8 : (rnd() & 1) ? 8 : 16);
		}
		if (t->m == M(CRC32))
			o[1].reg.value = sized(pool64[rnd() % pool_n], 8u << (rnd() % 4));
		if (t->m == M(CRC32) && ZydisRegisterGetClass(o[1].reg.value) == ZYDIS_REGCLASS_GPR64)
			o[0].reg.value = sized(pool64[rnd() % pool_n], 64);
		else if (t->m == M(CRC32))
			o[0].reg.value = sized(pool64[rnd() % pool_n], 32);
		break;
	case RI:
		rq.operand_count = 2;
		o[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
		o[0].reg.value = a;
		o[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
		o[1].imm.s = bits == 8 ? (int8_t)rnd() : bits == 16 ? (int16_t)rnd() : (int32_t)rnd();
		if (t->m == M(MOV) && bits == 64)
			o[1].imm.u = rnd();
		if (t->m == M(BTR) || t->m == M(BTC))
			o[1].imm.u = rnd() & 0x7f;
		break;
	case RM:
	case MR: {
		rq.operand_count = 2;
		unsigned r = t->form == RM ? 0 : 1, m = 1 - r;
		o[r].type = ZYDIS_OPERAND_TYPE_REGISTER;
		o[r].reg.value = a;
		o[m].type = ZYDIS_OPERAND_TYPE_MEMORY;
		o[m].mem.base = ZYDIS_REGISTER_RBX;
		o[m].mem.displacement = (int64_t)disp;
		o[m].mem.size = (ZyanU16)(bits / 8);
		if (t->m == M(LEA)) {
			o[m].mem.index = sized(pool64[rnd() % pool_n], 64);
			o[m].mem.scale = (ZyanU8)(1u << (rnd() % 4));
			if (gen_mode == ZYDIS_MACHINE_MODE_REAL_16)
				return false;
			o[m].mem.displacement = (int32_t)rnd();
			o[m].mem.size = 0;
		}
		break;
	}
	case R1OP:
		rq.operand_count = 1;
		o[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
		o[0].reg.value = a;
		break;
	case M1OP:
		rq.operand_count = 1;
		o[0].type = ZYDIS_OPERAND_TYPE_MEMORY;
		o[0].mem.base = ZYDIS_REGISTER_RBX;
		o[0].mem.displacement = (int64_t)disp;
		o[0].mem.size = (ZyanU16)(bits / 8);
		break;
	case RI8SH:
		rq.operand_count = 2;
		o[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
		o[0].reg.value = a;
		o[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
		o[1].imm.u = 1 + rnd() % (bits - 1);
		break;
	case R3I:
		rq.operand_count = 3;
		o[0].type = o[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
		o[0].reg.value = a;
		o[1].reg.value = b;
		o[2].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
		o[2].imm.s = bits == 16 ? (int16_t)rnd() : (int32_t)rnd();
		break;
	default:
		rq.operand_count = 3;
		o[0].type = o[1].type = o[2].type = ZYDIS_OPERAND_TYPE_REGISTER;
		o[0].reg.value = a;
		o[1].reg.value = b;
		o[2].reg.value = c;
		break;
	}
	*rqp = rq;
	return true;
}

#define BUF 256

/* SSE/SSE2 register operations for the SSE block: XMM0-3 are loaded from the buffer, operated on, stored back. */
enum { XX, XXI, XI, XG, GX };
static const struct {
	ZydisMnemonic m;
	uint8_t form;
	uint16_t def; /* flags defined (COMISx) */
} sse_tmpls[] = {
	{M(PADDB), XX, 0}, {M(PADDW), XX, 0}, {M(PADDD), XX, 0}, {M(PADDQ), XX, 0}, {M(PSUBB), XX, 0}, {M(PSUBQ), XX, 0},
	{M(PXOR), XX, 0}, {M(POR), XX, 0}, {M(PAND), XX, 0}, {M(PANDN), XX, 0}, {M(PCMPEQB), XX, 0},
	{M(PCMPEQD), XX, 0}, {M(PCMPGTW), XX, 0}, {M(PCMPGTD), XX, 0}, {M(PMINUB), XX, 0}, {M(PMAXSW), XX, 0},
	{M(PUNPCKLBW), XX, 0}, {M(PUNPCKHWD), XX, 0}, {M(PUNPCKLQDQ), XX, 0}, {M(PUNPCKHDQ), XX, 0},
	{M(PACKUSWB), XX, 0}, {M(PACKSSWB), XX, 0}, {M(PACKSSDW), XX, 0}, {M(PMULLW), XX, 0}, {M(PMULHW), XX, 0},
	{M(PMULHUW), XX, 0}, {M(PMULUDQ), XX, 0}, {M(PADDUSB), XX, 0}, {M(PSUBUSW), XX, 0}, {M(PADDSW), XX, 0},
	{M(PSUBSB), XX, 0}, {M(PAVGB), XX, 0}, {M(PSADBW), XX, 0}, {M(PMADDWD), XX, 0},
	{M(ADDPS), XX, 0}, {M(SUBPS), XX, 0}, {M(MULPS), XX, 0}, {M(DIVPS), XX, 0}, {M(ADDPD), XX, 0},
	{M(MULPD), XX, 0}, {M(DIVPD), XX, 0}, {M(ADDSS), XX, 0}, {M(MULSS), XX, 0}, {M(ADDSD), XX, 0},
	{M(SUBSD), XX, 0}, {M(DIVSD), XX, 0}, {M(SQRTSD), XX, 0}, {M(SQRTPS), XX, 0}, {M(MINSD), XX, 0},
	{M(MAXSS), XX, 0}, {M(MAXPD), XX, 0}, {M(MINPS), XX, 0}, {M(XORPS), XX, 0}, {M(ANDPD), XX, 0},
	{M(UNPCKLPS), XX, 0}, {M(UNPCKHPD), XX, 0}, {M(CVTPS2PD), XX, 0}, {M(CVTPD2PS), XX, 0},
	{M(CVTTPD2DQ), XX, 0}, {M(CVTDQ2PS), XX, 0}, {M(CVTDQ2PD), XX, 0}, {M(CVTTPS2DQ), XX, 0},
	{M(CVTSS2SD), XX, 0}, {M(CVTSD2SS), XX, 0}, {M(MOVSS), XX, 0}, {M(MOVSD), XX, 0}, {M(MOVQ), XX, 0},
	{M(MOVHLPS), XX, 0}, {M(MOVLHPS), XX, 0},
	{M(PSHUFD), XXI, 0}, {M(PSHUFLW), XXI, 0}, {M(PSHUFHW), XXI, 0}, {M(SHUFPS), XXI, 0}, {M(SHUFPD), XXI, 0},
	{M(CMPPS), XXI, 0}, {M(CMPPD), XXI, 0}, {M(CMPSS), XXI, 0}, {M(CMPSD), XXI, 0},
	{M(PSRLW), XI, 0}, {M(PSRAD), XI, 0}, {M(PSLLQ), XI, 0}, {M(PSRLDQ), XI, 0}, {M(PSLLDQ), XI, 0},
	{M(UCOMISD), XX, ALLF}, {M(COMISS), XX, ALLF},
	{M(PMOVMSKB), GX, 0}, {M(MOVMSKPD), GX, 0}, {M(PEXTRW), GX, 0}, {M(CVTTSD2SI), GX, 0}, {M(CVTSI2SD), XG, 0},
	{M(MOVD), XG, 0}, {M(MOVD), GX, 0},
};

/* movdqu xmm0-3, [rbx + 16*i]; 1-3 random SSE operations; movdqu [rbx + 64 + 16*i], xmm0-3 (64-bit mode). */
static unsigned gen_sse_block(uint8_t *p, uint32_t *defines)
{
	unsigned n = 0;
	*defines = 0;
	for (unsigned i = 0; i < 4; i++) {
		uint8_t ld[] = {0xf3, 0x0f, 0x6f, (uint8_t)(0x43 | (i << 3)), (uint8_t)(16 * i)};
		memcpy(p + n, ld, sizeof ld);
		n += sizeof ld;
	}
	unsigned ops = 1 + rnd() % 3;
	for (unsigned k = 0; k < ops; k++) {
		unsigned t = rnd() % (sizeof sse_tmpls / sizeof sse_tmpls[0]);
		ZydisEncoderRequest rq;
		memset(&rq, 0, sizeof rq);
		rq.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
		rq.mnemonic = sse_tmpls[t].m;
		ZydisEncoderOperand *o = rq.operands;
		ZydisRegister x0 = (ZydisRegister)(ZYDIS_REGISTER_XMM0 + rnd() % 4), x1 = (ZydisRegister)(ZYDIS_REGISTER_XMM0 + rnd() % 4);
		ZydisRegister g = (rnd() & 1) ? ZYDIS_REGISTER_EAX : ZYDIS_REGISTER_RDX;
		switch (sse_tmpls[t].form) {
		case XX: case XXI:
			rq.operand_count = sse_tmpls[t].form == XX ? 2 : 3;
			o[0].type = o[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
			o[0].reg.value = x0;
			o[1].reg.value = x1;
			o[2].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
			o[2].imm.u = rnd() & 0xff;
			if (sse_tmpls[t].m == M(CMPPS) || sse_tmpls[t].m == M(CMPPD) || sse_tmpls[t].m == M(CMPSS) || sse_tmpls[t].m == M(CMPSD))
				o[2].imm.u &= 7;
			break;
		case XI:
			rq.operand_count = 2;
			o[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
			o[0].reg.value = x0;
			o[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
			o[1].imm.u = rnd() % 20;
			break;
		case XG:
			rq.operand_count = 2;
			o[0].type = o[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
			o[0].reg.value = x0;
			o[1].reg.value = g;
			break;
		default:
			rq.operand_count = 2;
			o[0].type = o[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
			o[0].reg.value = g == ZYDIS_REGISTER_RDX && sse_tmpls[t].m != M(CVTTSD2SI) && sse_tmpls[t].m != M(MOVD) ? ZYDIS_REGISTER_EDX : g;
			o[1].reg.value = x1;
			if (sse_tmpls[t].m == M(PEXTRW)) {
				rq.operand_count = 3;
				o[0].reg.value = ZYDIS_REGISTER_EDX;
				o[2].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
				o[2].imm.u = rnd() & 7;
			}
			break;
		}
		ZyanUSize len = 15;
		if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&rq, p + n, &len)))
			continue;
		n += (unsigned)len;
		*defines |= sse_tmpls[t].def;
	}
	for (unsigned i = 0; i < 4; i++) {
		uint8_t st[] = {0xf3, 0x0f, 0x7f, (uint8_t)(0x43 | (i << 3)), (uint8_t)(64 + 16 * i)};
		memcpy(p + n, st, sizeof st);
		n += sizeof st;
	}
	return n;
}

/* 64-bit only: a string-instruction block (RSI/RDI inside the buffer, small RCX, either direction) or a PUSH/POP
 * pair; returns its length and the flags it defines. */
static unsigned gen_block(uint8_t *p, uint32_t *defines)
{
	unsigned n = 0;
	*defines = 0;
	if (rnd() & 1) {
		static const uint8_t regs[] = {0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}; /* no RBX/RSP */
		unsigned a = regs[rnd() % 14], b = regs[rnd() % 14];
		if (rnd() & 1) {
			if (a >= 8)
				p[n++] = 0x41;
			p[n++] = (uint8_t)(0x50 + (a & 7));
		} else {
			p[n++] = 0x68;
			uint32_t imm = (uint32_t)rnd();
			memcpy(p + n, &imm, 4);
			n += 4;
		}
		if (b >= 8)
			p[n++] = 0x41;
		p[n++] = (uint8_t)(0x58 + (b & 7));
		return n;
	}
	bool down = rnd() & 1;
	unsigned size = 1u << (rnd() % 4), kind = rnd() % 5, cnt = 1 + rnd() % (96 / size);
	uint32_t d1 = down ? 128 + (uint32_t)(rnd() % 64) : (uint32_t)(rnd() % 96), d2 = down ? 128 + (uint32_t)(rnd() % 64) : (uint32_t)(rnd() % 96);
	/* lea rsi, [rbx + d1]; lea rdi, [rbx + d2] (disp32) */
	uint8_t lea[] = {0x48, 0x8d, 0xb3, 0, 0, 0, 0, 0x48, 0x8d, 0xbb, 0, 0, 0, 0};
	memcpy(lea + 3, &d1, 4);
	memcpy(lea + 10, &d2, 4);
	memcpy(p + n, lea, sizeof lea);
	n += sizeof lea;
	p[n++] = 0xb9; /* mov ecx, cnt */
	memcpy(p + n, &cnt, 4);
	n += 4;
	p[n++] = down ? 0xfd : 0xfc;
	static const uint8_t op8[] = {0xa4, 0xaa, 0xa6, 0xae, 0xac}, rep[] = {0xf3, 0xf3, 0xf3, 0xf2, 0};
	if (size == 2)
		p[n++] = 0x66;
	if (rep[kind])
		p[n++] = rep[kind];
	if (size == 8)
		p[n++] = 0x48;
	p[n++] = (uint8_t)(op8[kind] + (size > 1));
	p[n++] = 0xfc; /* cld */
	/* RSI/RDI now hold buffer addresses, which differ between native and emu: turn them into offsets from RBX
	 * without touching the flags (not r, rbx; lea r, [r + rbx + 1] computes r - rbx). */
	static const uint8_t fix[] = {0x48, 0xf7, 0xd3, 0x48, 0x8d, 0x74, 0x1e, 0x01, 0x48, 0x8d, 0x7c, 0x1f, 0x01,
				      0x48, 0xf7, 0xd3};
	memcpy(p + n, fix, sizeof fix);
	n += sizeof fix;
	if (kind == 2 || kind == 3)
		*defines = ALLF;
	return n;
}

#define DIFF_CODE_MAX (16 * 24)

/* One random sequence: the guest encoding for the campaign's mode, the 64-bit encoding for the host, the flags left
 * undefined at its end, the names of its parts, and random input registers, flags and buffer contents. */
struct diff_seq {
	uint8_t code[DIFF_CODE_MAX], ncode[DIFF_CODE_MAX];
	unsigned len, nlen;
	uint32_t undef;
	char names[512];
	uint64_t gpr[16], rflags;
	uint8_t mem0[BUF];
};

/* Select the campaign's mode (legacy modes use only the first 6 pool registers) and the host's features. */
static inline void diff_gen_mode(ZydisMachineMode mode, bool feat[7])
{
	for (int i = 0; i < 7; i++)
		feat[i] = has_feature(i);
	gen_mode = mode;
	pool_n = mode != ZYDIS_MACHINE_MODE_LONG_64 ? 6 : 14;
}

/* Generate the next sequence; false (and no inputs drawn) when every part was rejected. */
static inline bool diff_gen_seq(struct diff_seq *s, ZydisMachineMode mode, const bool feat[7])
{
	bool legacy = mode != ZYDIS_MACHINE_MODE_LONG_64;
	const unsigned n_tmpl = sizeof tmpls / sizeof tmpls[0];
	unsigned len = 0, nlen = 0, count = 1 + rnd() % 8;
	uint32_t undef = 0;
	uint8_t *code = s->code, *ncode = s->ncode;
	char *names = s->names;
	size_t names_cap = sizeof s->names;
	names[0] = 0;
	for (unsigned k = 0; k < count; k++) {
		if (!legacy && (rnd() & 7) == 1 && len + 90 < DIFF_CODE_MAX) {
			uint32_t def;
			unsigned l = gen_sse_block(code + len, &def);
			memcpy(ncode + nlen, code + len, l);
			len += l;
			nlen += l;
			undef &= ~def;
			snprintf(names + strlen(names), names_cap - strlen(names), "sse/%u ", l);
			continue;
		}
		if (!legacy && (rnd() & 7) == 0 && len + 40 < DIFF_CODE_MAX) {
			uint32_t def;
			unsigned l = gen_block(code + len, &def);
			memcpy(ncode + nlen, code + len, l);
			len += l;
			nlen += l;
			undef &= ~def;
			snprintf(names + strlen(names), names_cap - strlen(names), "block/%u ", l);
			continue;
		}
		const struct tmpl *t = &tmpls[rnd() % n_tmpl];
		if (!feat[t->feature] || (t->reads & undef))
			continue;
		unsigned bits;
		ZydisEncoderRequest rq;
		if (!gen(t, &rq, &bits))
			continue;
		unsigned l = encode(&rq, mode, code + len), nl = encode(&rq, ZYDIS_MACHINE_MODE_LONG_64, ncode + nlen);
		if (!l || !nl)
			continue;
		len += l;
		nlen += nl;
		undef = (undef & ~t->def) | t->undef;
		snprintf(names + strlen(names), names_cap - strlen(names), "%s/%u ", ZydisMnemonicGetString(t->m), bits);
	}
	s->len = len;
	s->nlen = nlen;
	s->undef = undef;
	if (!len)
		return false;
	for (int i = 0; i < 16; i++) {
		uint64_t r = rnd();
		s->gpr[i] = (rnd() & 3) == 0 ? (r & 0xff) : (rnd() & 3) == 0 ? (uint64_t)(int64_t)(int8_t)r : r;
		if (legacy)
			s->gpr[i] &= 0xffffffff;
	}
	s->rflags = 2 | (rnd() & ALLF);
	for (int i = 0; i < BUF; i++)
		s->mem0[i] = (uint8_t)rnd();
	return true;
}

#endif
#endif
