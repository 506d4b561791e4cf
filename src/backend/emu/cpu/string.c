/* string.c: string instructions (MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS) with REP/REPE/REPNE, and IN/OUT. */
#include <string.h>

#include "backend/emu/emu.h"
#include "backend/emu/cpu/handlers.h"

#define REP_CHUNK 65536u /* iterations between kick / memory-map checks */

static inline uint64_t areg(struct emu_cpu *c, unsigned r, unsigned asz)
{
	return c->s->gpr[r] & sz_mask(asz);
}

static inline void areg_add(struct emu_cpu *c, unsigned r, unsigned asz, int64_t d)
{
	uint64_t m = sz_mask(asz);
	uint64_t *g = &c->s->gpr[r];
	uint64_t nv = (*g + (uint64_t)d) & m;
	*g = asz == 4 ? nv : ((*g & ~m) | nv);
}

/* Per-iteration prologue of REP forms: returns false when the loop is over (count exhausted or chunk done). */
static inline bool rep_more(struct emu_cpu *c, const struct emu_insn *in, unsigned *iter)
{
	if (!in->rep)
		return (*iter)++ == 0;
	if (areg(c, HVX_RCX, in->asz) == 0)
		return false;
	if (*iter >= (c->icls[IC_MTF] ? 1u : REP_CHUNK)) {
		c->next_rip = c->s->rip; /* resume this instruction later */
		c->stop = true;
		return false;
	}
	(*iter)++;
	return true;
}

static inline int64_t step(struct emu_cpu *c, unsigned size)
{
	return (emu_flags(c) & FL_DF) ? -(int64_t)size : (int64_t)size;
}

/* Bulk REP MOVS in 64-bit mode: copy forward as many whole elements as fit in the current page on both sides with one
 * memcpy. Returns the number of elements copied (0: take the one-element path). Faults are those of the first element:
 * every element of the chunk lies in the same source and destination pages. Overlapping host ranges, where element-wise
 * copying differs from memcpy, and writes to pages holding decoded code use the one-element path. */
static uint64_t movs_bulk(struct emu_cpu *c, const struct emu_insn *in, unsigned size, unsigned asz, uint64_t limit)
{
	uint64_t cnt = areg(c, HVX_RCX, asz), si = areg(c, HVX_RSI, asz), di = areg(c, HVX_RDI, asz);
	if (cnt < 2 || c->stop)
		return 0;
	uint64_t las = seg_linear(c, in->sovr, si, size, ACC_R), lad = seg_linear(c, SEG_ES, di, size, ACC_W);
	uint64_t room_s = (4096 - (las & 0xfff)) / size, room_d = (4096 - (lad & 0xfff)) / size;
	uint64_t k = cnt < limit ? cnt : limit;
	k = k < room_s ? k : room_s;
	k = k < room_d ? k : room_d;
	if (k < 2)
		return 0;
	unsigned n = (unsigned)(k * size);
	if (asz == 4 && ((si + n) >> 32 || (di + n) >> 32))
		return 0; /* the address register would wrap inside the chunk */
	uint8_t *ps = mmu_ptr(c, seg_linear(c, in->sovr, si, n, ACC_R), n, ACC_R);
	if (!ps)
		return 0;
	uint8_t *pd = mmu_ptr(c, seg_linear(c, SEG_ES, di, n, ACC_W), n, ACC_W);
	if (!pd || c->stop)
		return 0;
	if (pd > ps ? pd < ps + n : ps < pd + n) {
		if (pd != ps)
			return 0;
	} else {
		memcpy(pd, ps, n);
	}
	areg_add(c, HVX_RSI, asz, (int64_t)n);
	areg_add(c, HVX_RDI, asz, (int64_t)n);
	areg_add(c, HVX_RCX, asz, -(int64_t)k);
	return k;
}

void h_movs(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->osz, asz = in->asz, it = 0;
	int64_t d = step(c, size);
	while (rep_more(c, in, &it)) {
		if (in->rep && d > 0 && c->mode == EM_LONG64 && !c->icls[IC_MTF]) {
			uint64_t k = movs_bulk(c, in, size, asz, REP_CHUNK - it + 1);
			if (k) {
				it += (unsigned)k - 1;
				continue;
			}
		}
		uint64_t v = mem_read(c, in->sovr, areg(c, HVX_RSI, asz), size);
		mem_write(c, SEG_ES, areg(c, HVX_RDI, asz), size, v);
		areg_add(c, HVX_RSI, asz, d);
		areg_add(c, HVX_RDI, asz, d);
		if (in->rep)
			areg_add(c, HVX_RCX, asz, -1);
		if (c->stop && in->rep && areg(c, HVX_RCX, asz)) {
			c->next_rip = c->s->rip; /* self-modifying write: re-decode before continuing */
			return;
		}
	}
}

void h_stos(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->osz, asz = in->asz, it = 0;
	int64_t d = step(c, size);
	uint64_t v = reg_get(c, HVX_RAX, size, false);
	while (rep_more(c, in, &it)) {
		uint64_t di = areg(c, HVX_RDI, asz);
		/* Bulk path for forward byte/word stores inside one page. */
		if (in->rep && d > 0 && c->mode == EM_LONG64 && !c->stop) {
			uint64_t cnt = areg(c, HVX_RCX, asz);
			uint64_t room = (4096 - (di & 0xfff)) / size;
			if (room > 1 && cnt > 1) {
				uint64_t k = cnt < room ? cnt : room;
				uint8_t *p = mmu_ptr(c, seg_linear(c, SEG_ES, di, (unsigned)(k * size), ACC_W),
						     (unsigned)(k * size), ACC_W);
				if (p && !c->stop) {
					if (size == 1)
						memset(p, (int)v, k);
					else
						for (uint64_t i = 0; i < k; i++)
							memcpy(p + i * size, &v, size);
					areg_add(c, HVX_RDI, asz, (int64_t)(k * size));
					areg_add(c, HVX_RCX, asz, -(int64_t)k);
					continue;
				}
			}
		}
		mem_write(c, SEG_ES, di, size, v);
		areg_add(c, HVX_RDI, asz, d);
		if (in->rep)
			areg_add(c, HVX_RCX, asz, -1);
		if (c->stop && in->rep && areg(c, HVX_RCX, asz)) {
			c->next_rip = c->s->rip;
			return;
		}
	}
}

void h_lods(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->osz, asz = in->asz, it = 0;
	int64_t d = step(c, size);
	while (rep_more(c, in, &it)) {
		uint64_t v = mem_read(c, in->sovr, areg(c, HVX_RSI, asz), size);
		reg_set(c, HVX_RAX, size, false, v);
		areg_add(c, HVX_RSI, asz, d);
		if (in->rep)
			areg_add(c, HVX_RCX, asz, -1);
	}
}

void h_cmps(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->osz, asz = in->asz, it = 0;
	int64_t d = step(c, size);
	while (rep_more(c, in, &it)) {
		uint64_t a = mem_read(c, in->sovr, areg(c, HVX_RSI, asz), size);
		uint64_t b = mem_read(c, SEG_ES, areg(c, HVX_RDI, asz), size);
		areg_add(c, HVX_RSI, asz, d);
		areg_add(c, HVX_RDI, asz, d);
		lf_set(c, LF_SUB, (int)size, (a - b) & sz_mask(size), a, b);
		if (in->rep) {
			areg_add(c, HVX_RCX, asz, -1);
			bool z = a == b;
			if ((in->rep == 1 && !z) || (in->rep == 2 && z))
				break;
		}
	}
}

void h_scas(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->osz, asz = in->asz, it = 0;
	int64_t d = step(c, size);
	uint64_t a = reg_get(c, HVX_RAX, size, false);
	while (rep_more(c, in, &it)) {
		uint64_t b = mem_read(c, SEG_ES, areg(c, HVX_RDI, asz), size);
		areg_add(c, HVX_RDI, asz, d);
		lf_set(c, LF_SUB, (int)size, (a - b) & sz_mask(size), a, b);
		if (in->rep) {
			areg_add(c, HVX_RCX, asz, -1);
			bool z = a == b;
			if ((in->rep == 1 && !z) || (in->rep == 2 && z))
				break;
		}
	}
}

/* The TSS I/O permission bitmap, consulted when CPL > IOPL or in v86 mode: #GP unless every port's bit is clear. */
static __attribute__((noinline)) void io_perm_tss(struct emu_cpu *c, uint16_t port, unsigned size)
{
	uint64_t tr_base = c->v[HVX_SLOT_GUEST_TR_BASE], tr_limit = (uint32_t)c->v[HVX_SLOT_GUEST_TR_LIMIT];
	uint32_t ar = (uint32_t)c->v[HVX_SLOT_GUEST_TR_AR];
	if ((ar & 0xf) != 0xb && (ar & 0xf) != 0x9)
		emu_gp0(c);
	if (tr_limit < 0x67)
		emu_gp0(c);
	uint16_t iomap = (uint16_t)mmu_read_lin(c, tr_base + 0x66, 2, ACC_SUPER);
	uint64_t off = iomap + (port >> 3);
	if (off + 1 > tr_limit)
		emu_gp0(c);
	uint16_t bits = (uint16_t)mmu_read_lin(c, tr_base + off, 2, ACC_SUPER);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		emu_gp0(c);
}

/* I/O privilege (checked before any VM exit): real mode and CPL <= IOPL may do I/O, else the TSS bitmap decides.
 * IOPL is not an arithmetic flag, so RFLAGS holds it even while the arithmetic flags are lazy. */
static inline bool io_free(const struct emu_cpu *c)
{
	/* real mode: CPL 0, at most IOPL whatever it is; virtual-8086 mode: the TSS bitmap whatever IOPL says */
	return c->cpl <= ((c->s->rflags >> 12) & 3) && c->mode != EM_V86;
}

static inline void io_perm(struct emu_cpu *c, uint16_t port, unsigned size)
{
	if (!io_free(c))
		io_perm_tss(c, port, size);
}

/* IN / OUT after the TSS bitmap check (out of line: the common path is a tail call with nothing saved). */
static __attribute__((noinline)) void io_checked(struct emu_cpu *c, const struct emu_insn *in, uint16_t port,
						 unsigned size, bool in_dir, bool imm)
{
	io_perm_tss(c, port, size);
	if (!vmx_io_port(c, in, port, size, in_dir, imm) && in_dir)
		reg_set(c, HVX_RAX, size, false, ~0ull);
}

/* Port I/O that no exit claimed: there is no device behind it (reads all-ones, writes are dropped). */
void h_in(struct emu_cpu *c, const struct emu_insn *in)
{
	bool imm = in->op[1].kind == OK_IMM;
	uint16_t port = imm ? (uint16_t)in->imm : (uint16_t)c->s->gpr[HVX_RDX];
	unsigned size = in->op[0].size;
	if (!io_free(c)) {
		io_checked(c, in, port, size, true, imm);
		return;
	}
	if (!vmx_io_port(c, in, port, size, true, imm))
		reg_set(c, HVX_RAX, size, false, ~0ull);
}

void h_out(struct emu_cpu *c, const struct emu_insn *in)
{
	bool imm = in->op[0].kind == OK_IMM;
	uint16_t port = imm ? (uint16_t)in->imm : (uint16_t)c->s->gpr[HVX_RDX];
	unsigned size = in->op[1].size;
	if (!io_free(c)) {
		io_checked(c, in, port, size, false, imm);
		return;
	}
	vmx_io_port(c, in, port, size, false, imm);
}

void h_ins(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->osz, asz = in->asz, it = 0;
	uint16_t port = (uint16_t)reg_get(c, HVX_RDX, 2, false);
	io_perm(c, port, size);
	if (vmx_io(c, in, port, size, true, true, false))
		return;
	int64_t d = step(c, size);
	while (rep_more(c, in, &it)) {
		mem_write(c, SEG_ES, areg(c, HVX_RDI, asz), size, sz_mask(size));
		areg_add(c, HVX_RDI, asz, d);
		if (in->rep)
			areg_add(c, HVX_RCX, asz, -1);
	}
}

void h_outs(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->osz, asz = in->asz, it = 0;
	uint16_t port = (uint16_t)reg_get(c, HVX_RDX, 2, false);
	io_perm(c, port, size);
	if (vmx_io(c, in, port, size, false, true, false))
		return;
	int64_t d = step(c, size);
	while (rep_more(c, in, &it)) {
		mem_read(c, in->sovr, areg(c, HVX_RSI, asz), size);
		areg_add(c, HVX_RSI, asz, d);
		if (in->rep)
			areg_add(c, HVX_RCX, asz, -1);
	}
}
