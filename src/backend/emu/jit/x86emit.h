/* x86emit.h: a small x86-64 machine-code encoder (ModRM/SIB/REX/VEX forms) used by the emu JIT translator. */
#ifndef HVX_EMU_JIT_X86EMIT_H
#define HVX_EMU_JIT_X86EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15, NOREG = -1 };

struct xbuf {
	uint8_t *p, *end;
	bool full; /* ran out of room: the translation is abandoned */
};

/* A memory operand [base + index * scale + disp]; base may be NOREG (absolute disp32). */
struct xmem {
	int base, index, scale;
	int32_t disp;
};

static inline struct xmem xm(int base, int32_t disp)
{
	return (struct xmem){base, NOREG, 1, disp};
}

static inline struct xmem xmi(int base, int index, int scale, int32_t disp)
{
	return (struct xmem){base, index, scale, disp};
}

static inline void x1(struct xbuf *b, uint8_t v)
{
	if (b->p < b->end)
		*b->p++ = v;
	else
		b->full = true;
}

static inline void x4(struct xbuf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		x1(b, (uint8_t)(v >> (8 * i)));
}

static inline void x8(struct xbuf *b, uint64_t v)
{
	x4(b, (uint32_t)v);
	x4(b, (uint32_t)(v >> 32));
}

static inline void xrex(struct xbuf *b, bool w, int r, int x, int rm, bool force)
{
	uint8_t v = (uint8_t)(0x40 | (w ? 8 : 0) | ((r >> 3) & 1) << 2 | ((x >> 3) & 1) << 1 | ((rm >> 3) & 1));
	if (v != 0x40 || force)
		x1(b, v);
}

static inline void xmodrm_mem(struct xbuf *b, int reg, struct xmem m)
{
	reg &= 7;
	if (m.base == NOREG) {
		x1(b, (uint8_t)(0x04 | reg << 3));
		int ss = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
		x1(b, (uint8_t)(ss << 6 | (m.index == NOREG ? 4 : (m.index & 7)) << 3 | 5));
		x4(b, (uint32_t)m.disp);
		return;
	}
	int mod = (m.disp == 0 && (m.base & 7) != 5) ? 0 : (m.disp >= -128 && m.disp <= 127) ? 1 : 2;
	if (m.index != NOREG || (m.base & 7) == 4) {
		int ss = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
		x1(b, (uint8_t)(mod << 6 | reg << 3 | 4));
		x1(b, (uint8_t)(ss << 6 | (m.index == NOREG ? 4 : (m.index & 7)) << 3 | (m.base & 7)));
	} else {
		x1(b, (uint8_t)(mod << 6 | reg << 3 | (m.base & 7)));
	}
	if (mod == 1)
		x1(b, (uint8_t)m.disp);
	else if (mod == 2)
		x4(b, (uint32_t)m.disp);
}

/* opcode (1 or 2 bytes, 0x0f-prefixed when op > 0xff) with reg, r/m = register */
static inline void xop_rr(struct xbuf *b, bool w, unsigned op, int reg, int rm)
{
	xrex(b, w, reg, 0, rm, false);
	if (op > 0xff)
		x1(b, (uint8_t)(op >> 8));
	x1(b, (uint8_t)op);
	x1(b, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

static inline void xop_rm(struct xbuf *b, bool w, unsigned op, int reg, struct xmem m)
{
	xrex(b, w, reg, m.index == NOREG ? 0 : m.index, m.base == NOREG ? 0 : m.base, false);
	if (op > 0xff)
		x1(b, (uint8_t)(op >> 8));
	x1(b, (uint8_t)op);
	xmodrm_mem(b, reg, m);
}

static inline void xmov_rr(struct xbuf *b, bool w, int dst, int src)
{
	xop_rr(b, w, 0x89, src, dst);
}

static inline void xload(struct xbuf *b, bool w, int dst, struct xmem m)
{
	xop_rm(b, w, 0x8b, dst, m);
}

static inline void xstore(struct xbuf *b, bool w, struct xmem m, int src)
{
	xop_rm(b, w, 0x89, src, m);
}

static inline void xlea(struct xbuf *b, bool w, int dst, struct xmem m)
{
	xop_rm(b, w, 0x8d, dst, m);
}

/* mov reg, imm (zero-extended 32-bit, sign-extended 32-bit, or 64-bit form as fits) */
static inline void xmov_ri(struct xbuf *b, int dst, uint64_t v)
{
	if (v <= 0xffffffffull) {
		xrex(b, false, 0, 0, dst, false);
		x1(b, (uint8_t)(0xb8 | (dst & 7)));
		x4(b, (uint32_t)v);
	} else if ((int64_t)v == (int32_t)v) {
		xrex(b, true, 0, 0, dst, false);
		x1(b, 0xc7);
		x1(b, (uint8_t)(0xc0 | (dst & 7)));
		x4(b, (uint32_t)v);
	} else {
		xrex(b, true, 0, 0, dst, false);
		x1(b, (uint8_t)(0xb8 | (dst & 7)));
		x8(b, v);
	}
}

/* group-1 ALU with immediate: /n = 0 add 1 or 2 adc 3 sbb 4 and 5 sub 6 xor 7 cmp */
static inline void xalu_ri(struct xbuf *b, bool w, unsigned n, int rm, int32_t imm)
{
	xrex(b, w, 0, 0, rm, false);
	if (imm >= -128 && imm <= 127) {
		x1(b, 0x83);
		x1(b, (uint8_t)(0xc0 | n << 3 | (rm & 7)));
		x1(b, (uint8_t)imm);
	} else {
		x1(b, 0x81);
		x1(b, (uint8_t)(0xc0 | n << 3 | (rm & 7)));
		x4(b, (uint32_t)imm);
	}
}

/* unary group (F7 /n, FF /n, D1 /n ...) on a register */
static inline void xgrp_r(struct xbuf *b, bool w, unsigned op, unsigned n, int rm)
{
	xrex(b, w, 0, 0, rm, false);
	x1(b, (uint8_t)op);
	x1(b, (uint8_t)(0xc0 | n << 3 | (rm & 7)));
}

/* BMI2 SHLX (pp 1) / SHRX (pp 3) / SARX (pp 2), 64-bit: dst = src shifted by cnt; flags untouched */
static inline void xshx(struct xbuf *b, unsigned pp, int dst, int src, int cnt)
{
	x1(b, 0xc4);
	x1(b, (uint8_t)((((dst >> 3) & 1) ? 0 : 0x80) | 0x40 | (((src >> 3) & 1) ? 0 : 0x20) | 0x02));
	x1(b, (uint8_t)(0x80 | ((~cnt & 15) << 3) | pp));
	x1(b, 0xf7);
	x1(b, (uint8_t)(0xc0 | (dst & 7) << 3 | (src & 7)));
}

static inline void xpush(struct xbuf *b, int r)
{
	xrex(b, false, 0, 0, r, false);
	x1(b, (uint8_t)(0x50 | (r & 7)));
}

static inline void xpop(struct xbuf *b, int r)
{
	xrex(b, false, 0, 0, r, false);
	x1(b, (uint8_t)(0x58 | (r & 7)));
}

/* jmp / jcc rel32 to a target known later: returns the position of the rel32, NULL if the buffer ran out (xpatch
 * ignores NULL, so a full buffer is never written past its end) */
static inline uint8_t *xjmp32(struct xbuf *b)
{
	x1(b, 0xe9);
	uint8_t *at = b->p;
	x4(b, 0);
	return b->full ? NULL : at; /* no room for the rel32: nothing to patch (the translation is dropped) */
}

static inline uint8_t *xjcc32(struct xbuf *b, unsigned cc)
{
	x1(b, 0x0f);
	x1(b, (uint8_t)(0x80 | cc));
	uint8_t *at = b->p;
	x4(b, 0);
	return b->full ? NULL : at;
}

static inline void xpatch(uint8_t *at, const uint8_t *target)
{
	if (!at)
		return;
	int32_t rel = (int32_t)(target - (at + 4));
	memcpy(at, &rel, 4);
}

/* jrcxz over a following 5-byte jmp: "if rcx == 0 continue after the jmp, else take it" is jrcxz +5; jmp rel32 */
static inline uint8_t *xjmp_unless_rcx0(struct xbuf *b)
{
	x1(b, 0xe3);
	x1(b, 5);
	return xjmp32(b);
}

/* "if rcx == 0 jump far, else fall through": jrcxz +2; jmp short +5; jmp rel32 */
static inline uint8_t *xjmp_if_rcx0(struct xbuf *b)
{
	x1(b, 0xe3);
	x1(b, 2);
	x1(b, 0xeb);
	x1(b, 5);
	return xjmp32(b);
}

static inline void xcall_abs(struct xbuf *b, const void *fn)
{
	xmov_ri(b, RAX, (uint64_t)(uintptr_t)fn);
	x1(b, 0xff);
	x1(b, 0xd0);
}

#endif
