/* bits.c: bit instructions: BT/BTS/BTR/BTC, BSF/BSR, TZCNT/LZCNT/POPCNT, BMI1/BMI2, ADX and CRC32. */
#include "backend/emu/emu.h"
#include "backend/emu/cpu/handlers.h"

static void set_arith(struct emu_cpu *c, uint64_t set, uint64_t mask)
{
	uint64_t f = emu_flags(c);
	c->s->rflags = (f & ~mask) | (set & mask);
}

void h_bt(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size, bits = size * 8;
	uint64_t off = op_read(c, in, 1);
	uint64_t v, la = 0;
	unsigned bit;
	bool mem = in->op[0].kind == OK_MEM;
	if (in->lock && (!mem || in->aux == 0))
		emu_ud(c);
	if (mem && in->op[1].kind == OK_REG) {
		int64_t so = (int64_t)sext(off, size);
		int64_t byte = (so >> 3) & ~(int64_t)(size - 1);
		uint64_t ea = (op_addr(c, in) + (uint64_t)byte) & sz_mask(in->asz);
		bit = (unsigned)(so & (bits - 1));
		la = ea;
	} else {
		bit = (unsigned)(off & (bits - 1));
		if (mem)
			la = op_addr(c, in);
	}
	if (mem && in->aux)
		mem_rmw_check(c, in->seg, la, size); /* BTS/BTR/BTC write the bit string */
	v = mem ? mem_read(c, in->seg, la, size) : op_read(c, in, 0);
	bool cf = (v >> bit) & 1;
	uint64_t nv = v;
	switch (in->aux) {
	case 1: nv = v | (1ull << bit); break;
	case 2: nv = v & ~(1ull << bit); break;
	case 3: nv = v ^ (1ull << bit); break;
	default: break;
	}
	if (in->aux) {
		if (mem)
			mem_write(c, in->seg, la, size, nv);
		else
			op_write(c, in, 0, nv);
	}
	set_arith(c, cf ? FL_CF : 0, FL_CF);
}

void h_bsf(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	uint64_t v = op_read(c, in, 1) & sz_mask(size);
	if (!v) {
		set_arith(c, FL_ZF, FL_ZF);
		return; /* destination unchanged (as hardware does) */
	}
	unsigned r = in->aux ? 63 - (unsigned)__builtin_clzll(v) : (unsigned)__builtin_ctzll(v);
	op_write(c, in, 0, r);
	set_arith(c, 0, FL_ZF);
}

void h_tzcnt(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size, bits = size * 8;
	uint64_t v = op_read(c, in, 1) & sz_mask(size);
	unsigned r;
	if (in->aux == 0)
		r = v ? (unsigned)__builtin_ctzll(v) : bits;
	else
		r = v ? (unsigned)__builtin_clzll(v) - (64 - bits) : bits;
	op_write(c, in, 0, r);
	set_arith(c, (r == bits ? FL_CF : 0) | (r == 0 ? FL_ZF : 0), FL_ARITH);
}

void h_popcnt(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t v = op_read(c, in, 1) & sz_mask(in->op[0].size);
	op_write(c, in, 0, (uint64_t)__builtin_popcountll(v));
	set_arith(c, v ? 0 : FL_ZF, FL_ARITH);
}

/* BMI1: ANDN, BLSI, BLSMSK, BLSR, BEXTR; BMI2: BZHI, PDEP, PEXT, SARX, SHLX, SHRX, RORX, MULX. */
void h_bmi(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size, bits = size * 8;
	uint64_t m = sz_mask(size);
	uint64_t a = op_read(c, in, 1) & m, b = in->nops > 2 ? op_read(c, in, 2) & m : 0, r = 0;
	uint64_t sf = 0;
	switch (in->aux) {
	case 0: r = ~a & b & m; sf = 1; break;                       /* ANDN d, s1, s2 */
	case 1: r = (0 - a) & a & m; sf = 2; break;                  /* BLSI */
	case 2: r = (a ^ (a - 1)) & m; sf = 3; break;                /* BLSMSK */
	case 3: r = (a & (a - 1)) & m; sf = 4; break;                /* BLSR */
	case 4: {                                                     /* BEXTR */
		unsigned start = b & 0xff, len = (b >> 8) & 0xff;
		r = start < bits ? a >> start : 0;
		if (len < 64)
			r &= (1ull << len) - 1;
		r &= m;
		sf = 1;
		break;
	}
	case 5: {                                                     /* BZHI */
		unsigned n = b & 0xff;
		r = n < bits ? a & ((1ull << n) - 1) : a;
		sf = 5;
		set_arith(c, (n > bits - 1 ? FL_CF : 0) | (r ? 0 : FL_ZF) | ((r >> (bits - 1)) & 1 ? FL_SF : 0),
			  FL_ARITH);
		op_write(c, in, 0, r);
		return;
	}
	case 6: {                                                     /* PDEP */
		uint64_t src = a, mask = b;
		r = 0;
		for (uint64_t bb = 1; mask; bb <<= 1)
			if (mask & bb) {
				if (src & 1)
					r |= bb;
				src >>= 1;
				mask &= ~bb;
			}
		op_write(c, in, 0, r);
		return;
	}
	case 7: {                                                     /* PEXT */
		uint64_t mask = b;
		unsigned k = 0;
		r = 0;
		for (unsigned i = 0; i < bits; i++)
			if ((mask >> i) & 1)
				r |= ((a >> i) & 1) << k++;
		op_write(c, in, 0, r);
		return;
	}
	case 8: op_write(c, in, 0, (uint64_t)((int64_t)sext(a, size) >> (b & (bits - 1)))); return; /* SARX */
	case 9: op_write(c, in, 0, a << (b & (bits - 1))); return;                                  /* SHLX */
	case 10: op_write(c, in, 0, a >> (b & (bits - 1))); return;                                 /* SHRX */
	case 11: {                                                                                  /* RORX */
		unsigned k = (unsigned)in->imm & (bits - 1);
		op_write(c, in, 0, k ? ((a >> k) | (a << (bits - k))) & m : a);
		return;
	}
	default: {                                                                                  /* MULX d1, d2, src */
		uint64_t x = reg_get(c, HVX_RDX, size, false);
		unsigned __int128 p = (unsigned __int128)x * b;
		uint64_t lo = (uint64_t)p & m, hi = size == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> 32) & m;
		op_write(c, in, 1, lo);
		op_write(c, in, 0, hi);
		return;
	}
	}
	(void)sf;
	uint64_t cf = 0;
	if (in->aux == 1)
		cf = a != 0;
	else if (in->aux == 2 || in->aux == 3)
		cf = a == 0;
	op_write(c, in, 0, r);
	set_arith(c, (cf ? FL_CF : 0) | (r ? 0 : FL_ZF) | ((r >> (bits - 1)) & 1 ? FL_SF : 0), FL_ARITH);
}

void h_adx(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	uint64_t m = sz_mask(size);
	uint64_t f = emu_flags(c), flag = in->aux ? FL_OF : FL_CF;
	uint64_t a = op_read(c, in, 0) & m, b = op_read(c, in, 1) & m, cin = (f & flag) ? 1 : 0;
	uint64_t r = (a + b + cin) & m;
	bool cout = cin ? r <= a : r < a;
	op_write(c, in, 0, r);
	c->s->rflags = (f & ~flag) | (cout ? flag : 0);
}

void h_crc32(struct emu_cpu *c, const struct emu_insn *in)
{
	uint32_t crc = (uint32_t)op_read(c, in, 0);
	uint64_t v = op_read(c, in, 1);
	unsigned n = in->op[1].size;
	for (unsigned i = 0; i < n; i++) {
		crc ^= (uint8_t)(v >> (8 * i));
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	op_write(c, in, 0, crc);
}
