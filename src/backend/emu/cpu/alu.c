/* alu.c: integer ALU instructions: add/sub/logic, inc/dec/neg/not, shifts and rotates, multiply/divide, moves and exchanges, flags and BCD. */
#include "backend/emu/emu.h"
#include "backend/emu/cpu/handlers.h"

enum { A_ADD, A_OR, A_ADC, A_SBB, A_AND, A_SUB, A_XOR, A_CMP };

/* Compute an ALU result; flags are set by the caller after the (possibly faulting) write. */
static inline uint64_t alu_calc(struct emu_cpu *c, unsigned op, unsigned size, uint64_t a, uint64_t b, int *lf,
				uint8_t *cin)
{
	uint64_t m = sz_mask(size);
	*cin = 0;
	switch (op) {
	case A_ADD: *lf = LF_ADD; return (a + b) & m;
	case A_OR: *lf = LF_LOGIC; return (a | b) & m;
	case A_ADC: *cin = emu_cf(c) ? 1 : 0; *lf = LF_ADC; return (a + b + *cin) & m;
	case A_SBB: *cin = emu_cf(c) ? 1 : 0; *lf = LF_SBB; return (a - b - *cin) & m;
	case A_AND: *lf = LF_LOGIC; return (a & b) & m;
	case A_XOR: *lf = LF_LOGIC; return (a ^ b) & m;
	default: *lf = LF_SUB; return (a - b) & m;
	}
}

static inline void lf_commit(struct emu_cpu *c, int lf, unsigned size, uint64_t res, uint64_t a, uint64_t b,
			     uint8_t cin)
{
	lf_set(c, lf, (int)size, res, a, b);
	c->lf_cin = cin;
}

/* Locked read-modify-write of a memory destination: returns old value, stores f(old) atomically. */
#define LOCKED_RMW(c, in, size, expr_old_to_new, old_out)                                                           \
	do {                                                                                                        \
		uint64_t la_ = seg_linear((c), (in)->seg, op_addr((c), (in)), (size), ACC_W);                      \
		uint8_t *p_ = mmu_ptr((c), la_, (size), ACC_R | ACC_W);                                           \
		uint64_t o_, n_;                                                                                    \
		if (!p_) {                                                                                          \
			o_ = mmu_read_lin((c), la_, (size), 0);                                                    \
			{ uint64_t old = o_; n_ = (expr_old_to_new); }                                              \
			mmu_write_lin((c), la_, (size), n_, 0);                                                    \
		} else {                                                                                            \
			for (;;) {                                                                                  \
				o_ = 0;                                                                             \
				__builtin_memcpy(&o_, p_, (size));                                                  \
				{ uint64_t old = o_; n_ = (expr_old_to_new); }                                      \
				bool ok_;                                                                           \
				switch (size) {                                                                     \
				case 1: { uint8_t e_ = (uint8_t)o_; ok_ = __atomic_compare_exchange_n(p_, &e_, (uint8_t)n_, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); break; } \
				case 2: { uint16_t e_ = (uint16_t)o_; ok_ = __atomic_compare_exchange_n((uint16_t *)(void *)p_, &e_, (uint16_t)n_, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); break; } \
				case 4: { uint32_t e_ = (uint32_t)o_; ok_ = __atomic_compare_exchange_n((uint32_t *)(void *)p_, &e_, (uint32_t)n_, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); break; } \
				default: { uint64_t e_ = o_; ok_ = __atomic_compare_exchange_n((uint64_t *)(void *)p_, &e_, n_, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); break; } \
				}                                                                                   \
				if (ok_)                                                                            \
					break;                                                                      \
			}                                                                                           \
		}                                                                                                   \
		(old_out) = o_;                                                                                     \
	} while (0)

static void check_lock(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->lock && in->op[0].kind != OK_MEM)
		emu_ud(c);
}

void h_alu(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size, op = in->aux;
	uint64_t b = op_read(c, in, 1) & sz_mask(size), a, res;
	int lf;
	uint8_t cin;
	check_lock(c, in);
	if (in->lock) {
		if (op == A_CMP)
			emu_ud(c);
		uint8_t cin0 = (op == A_ADC || op == A_SBB) ? ((emu_flags(c) & FL_CF) ? 1 : 0) : 0;
		LOCKED_RMW(c, in, size,
			   (op == A_ADD ? old + b : op == A_OR ? old | b : op == A_ADC ? old + b + cin0 :
			    op == A_SBB ? old - b - cin0 : op == A_AND ? old & b : op == A_SUB ? old - b : old ^ b),
			   a);
		res = alu_calc(c, op, size, a, b, &lf, &cin);
		lf_commit(c, lf, size, res, a, b, cin);
		return;
	}
	a = op != A_CMP ? op_read_rmw(c, in, 0) : op_read(c, in, 0);
	res = alu_calc(c, op, size, a, b, &lf, &cin);
	if (op != A_CMP)
		op_write(c, in, 0, res);
	lf_commit(c, lf, size, res, a, b, cin);
}

/* Register-register and register-immediate forms without the generic operand switch. */
void h_alu_rr(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size, op = in->aux;
	uint64_t a = reg_get(c, in->op[0].reg, size, in->op[0].hi8);
	uint64_t b = in->op[1].kind == OK_IMM ? in->imm & sz_mask(size) : reg_get(c, in->op[1].reg, size, in->op[1].hi8);
	int lf;
	uint8_t cin;
	uint64_t res = alu_calc(c, op, size, a, b, &lf, &cin);
	if (op != A_CMP)
		reg_set(c, in->op[0].reg, size, in->op[0].hi8, res);
	lf_commit(c, lf, size, res, a, b, cin);
}

void h_test(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	uint64_t a = op_read(c, in, 0), b = op_read(c, in, 1);
	lf_set(c, LF_LOGIC, (int)size, (a & b) & sz_mask(size), 0, 0);
}

void h_incdec(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	check_lock(c, in);
	uint8_t cf = emu_cf(c) ? 1 : 0;
	uint64_t a, res;
	bool dec = in->aux;
	if (in->lock) {
		LOCKED_RMW(c, in, size, dec ? old - 1 : old + 1, a);
	} else {
		a = op_read_rmw(c, in, 0);
		op_write(c, in, 0, (dec ? a - 1 : a + 1) & sz_mask(size));
	}
	res = (dec ? a - 1 : a + 1) & sz_mask(size);
	lf_commit(c, dec ? LF_DEC : LF_INC, size, res, a, 1, cf);
}

void h_neg(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	check_lock(c, in);
	uint64_t a;
	if (in->lock)
		LOCKED_RMW(c, in, size, 0 - old, a);
	else {
		a = op_read_rmw(c, in, 0);
		op_write(c, in, 0, (0 - a) & sz_mask(size));
	}
	lf_commit(c, LF_NEG, size, (0 - a) & sz_mask(size), 0, a & sz_mask(size), 0);
}

void h_not(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	check_lock(c, in);
	uint64_t a;
	if (in->lock)
		LOCKED_RMW(c, in, size, ~old, a);
	else
		op_write(c, in, 0, ~op_read_rmw(c, in, 0));
	(void)a;
}

void h_mov(struct emu_cpu *c, const struct emu_insn *in)
{
	op_write(c, in, 0, op_read(c, in, 1));
}

void h_mov_rr(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t v = in->op[1].kind == OK_IMM ? in->imm : reg_get(c, in->op[1].reg, in->op[1].size, in->op[1].hi8);
	reg_set(c, in->op[0].reg, in->op[0].size, in->op[0].hi8, v);
}

void h_movzx(struct emu_cpu *c, const struct emu_insn *in)
{
	op_write(c, in, 0, op_read(c, in, 1) & sz_mask(in->op[1].size));
}

void h_movsx(struct emu_cpu *c, const struct emu_insn *in)
{
	op_write(c, in, 0, sext(op_read(c, in, 1), in->op[1].size));
}

void h_lea(struct emu_cpu *c, const struct emu_insn *in)
{
	reg_set(c, in->op[0].reg, in->op[0].size, false, op_addr(c, in));
}

void h_xchg(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	if (in->op[0].kind == OK_MEM || in->op[1].kind == OK_MEM) {
		unsigned m = in->op[0].kind == OK_MEM ? 0 : 1, r = 1 - m;
		uint64_t rv = op_read(c, in, r), old;
		uint64_t la = seg_linear(c, in->seg, op_addr(c, in), size, ACC_W);
		uint8_t *p = mmu_ptr(c, la, size, ACC_W);
		if (p) {
			switch (size) {
			case 1: old = __atomic_exchange_n(p, (uint8_t)rv, __ATOMIC_SEQ_CST); break;
			case 2: old = __atomic_exchange_n((uint16_t *)(void *)p, (uint16_t)rv, __ATOMIC_SEQ_CST); break;
			case 4: old = __atomic_exchange_n((uint32_t *)(void *)p, (uint32_t)rv, __ATOMIC_SEQ_CST); break;
			default: old = __atomic_exchange_n((uint64_t *)(void *)p, rv, __ATOMIC_SEQ_CST); break;
			}
		} else {
			old = mmu_read_lin(c, la, size, 0);
			mmu_write_lin(c, la, size, rv, 0);
		}
		op_write(c, in, r, old);
		return;
	}
	uint64_t a = op_read(c, in, 0), b = op_read(c, in, 1);
	op_write(c, in, 0, b);
	op_write(c, in, 1, a);
}

void h_cmpxchg(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	check_lock(c, in);
	uint64_t acc = reg_get(c, HVX_RAX, size, false), src = op_read(c, in, 1), old;
	if (in->op[0].kind == OK_MEM) {
		LOCKED_RMW(c, in, size, ((old & sz_mask(size)) == acc ? src : old), old);
	} else {
		old = op_read(c, in, 0);
		if (old == acc)
			op_write(c, in, 0, src);
	}
	old &= sz_mask(size);
	if (old != acc)
		reg_set(c, HVX_RAX, size, false, old);
	lf_commit(c, LF_SUB, size, (acc - old) & sz_mask(size), acc, old, 0);
}

void h_xadd(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	check_lock(c, in);
	uint64_t src = op_read(c, in, 1), old;
	if (in->op[0].kind == OK_MEM) {
		LOCKED_RMW(c, in, size, old + src, old);
	} else {
		old = op_read(c, in, 0);
		op_write(c, in, 0, old + src);
	}
	old &= sz_mask(size);
	uint64_t res = (old + src) & sz_mask(size);
	op_write(c, in, 1, old);
	if (in->op[0].kind == OK_REG && in->op[1].kind == OK_REG && in->op[0].reg == in->op[1].reg &&
	    in->op[0].hi8 == in->op[1].hi8)
		op_write(c, in, 0, res);
	lf_commit(c, LF_ADD, size, res, old, src & sz_mask(size), 0);
}

void h_bswap(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	uint64_t v = reg_get(c, in->op[0].reg, size, false);
	if (size == 8)
		v = __builtin_bswap64(v);
	else if (size == 4)
		v = __builtin_bswap32((uint32_t)v);
	else
		v = 0; /* 16-bit BSWAP is undefined; hardware gives 0 */
	reg_set(c, in->op[0].reg, size, false, v);
}

void h_movbe(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	uint64_t v = op_read(c, in, 1);
	if (size == 8)
		v = __builtin_bswap64(v);
	else if (size == 4)
		v = __builtin_bswap32((uint32_t)v);
	else
		v = __builtin_bswap16((uint16_t)v);
	op_write(c, in, 0, v);
}

/* ---- shifts and rotates (flags computed eagerly) ---- */
void h_shift(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size, bits = size * 8;
	uint64_t m = sz_mask(size), sign = 1ull << (bits - 1);
	unsigned cnt = (unsigned)op_read(c, in, 1) & (size == 8 ? 63 : 31);
	uint64_t a = op_read_rmw(c, in, 0) & m, r = a;
	uint64_t f = emu_flags(c);
	unsigned op = in->aux; /* 0 rol 1 ror 2 rcl 3 rcr 4 shl 5 shr 7 sar */
	if (op == 2 || op == 3) {
		cnt %= bits + 1;
		if (!cnt) {
			op_write(c, in, 0, a); /* still a write for fault purposes */
			return;
		}
	}
	if (!cnt) {
		op_write(c, in, 0, a);
		return;
	}
	uint64_t cf = 0, of = 0;
	switch (op) {
	case 0: {
		unsigned k = cnt % bits;
		r = k ? ((a << k) | (a >> (bits - k))) & m : a;
		cf = r & 1;
		of = ((r >> (bits - 1)) ^ cf) & 1;
		f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
		break;
	}
	case 1: {
		unsigned k = cnt % bits;
		r = k ? ((a >> k) | (a << (bits - k))) & m : a;
		cf = (r >> (bits - 1)) & 1;
		of = ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1;
		f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
		break;
	}
	case 2: {
		uint64_t cin = (f & FL_CF) ? 1 : 0;
		r = a;
		for (unsigned i = 0; i < cnt; i++) {
			uint64_t out = (r >> (bits - 1)) & 1;
			r = ((r << 1) | cin) & m;
			cin = out;
		}
		cf = cin;
		of = ((r >> (bits - 1)) ^ cf) & 1;
		f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
		break;
	}
	case 3: {
		uint64_t cin = (f & FL_CF) ? 1 : 0;
		of = ((a >> (bits - 1)) ^ cin) & 1;
		r = a;
		for (unsigned i = 0; i < cnt; i++) {
			uint64_t out = r & 1;
			r = (r >> 1) | (cin << (bits - 1));
			cin = out;
		}
		cf = cin;
		f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
		break;
	}
	default: {
		if (op == 4 || op == 6) {
			r = cnt < 64 ? (a << cnt) & m : 0;
			cf = cnt <= bits ? (a >> (bits - cnt)) & 1 : 0;
			of = ((r >> (bits - 1)) ^ cf) & 1;
		} else if (op == 5) {
			r = cnt < 64 ? a >> cnt : 0;
			cf = (a >> (cnt - 1)) & 1;
			of = (a >> (bits - 1)) & 1;
		} else {
			uint64_t sa = sext(a, size);
			r = (uint64_t)((int64_t)sa >> (cnt > 63 ? 63 : cnt)) & m;
			cf = (uint64_t)((int64_t)sa >> (cnt - 1)) & 1;
			of = 0;
		}
		uint64_t nf = (cf ? FL_CF : 0) | (of ? FL_OF : 0) | (r ? 0 : FL_ZF) | ((r & sign) ? FL_SF : 0) |
			      ((__builtin_popcount((unsigned)(r & 0xff)) & 1) ? 0 : FL_PF);
		f = (f & ~FL_ARITH) | nf; /* AF: undefined; cleared */
		break;
	}
	}
	op_write(c, in, 0, r);
	c->s->rflags = f;
}

void h_shxd(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size, bits = size * 8;
	uint64_t m = sz_mask(size);
	unsigned cnt = (unsigned)op_read(c, in, 2) & (size == 8 ? 63 : 31);
	uint64_t a = op_read_rmw(c, in, 0) & m, b = op_read(c, in, 1) & m, r;
	uint64_t f = emu_flags(c);
	if (!cnt) {
		op_write(c, in, 0, a);
		return;
	}
	uint64_t cf;
	bool left = in->aux == 0;
	if (size == 2 && cnt > 16) {
		/* undefined result; model as the 32-bit-wide shift through b:a */
		uint64_t wide = left ? (a << 16 | b) : (b << 16 | a);
		uint64_t w2 = left ? (wide << cnt) >> 16 : wide >> cnt;
		r = w2 & m;
		cf = left ? (wide >> (32 - cnt)) & 1 : (wide >> (cnt - 1)) & 1;
	} else if (left) {
		r = ((a << cnt) | (b >> (bits - cnt))) & m;
		cf = (a >> (bits - cnt)) & 1;
	} else {
		r = ((a >> cnt) | (b << (bits - cnt))) & m;
		cf = (a >> (cnt - 1)) & 1;
	}
	uint64_t sign = 1ull << (bits - 1);
	uint64_t of = ((r ^ a) & sign) ? 1 : 0;
	f = (f & ~FL_ARITH) | (cf ? FL_CF : 0) | (of ? FL_OF : 0) | (r ? 0 : FL_ZF) | ((r & sign) ? FL_SF : 0) |
	    ((__builtin_popcount((unsigned)(r & 0xff)) & 1) ? 0 : FL_PF);
	op_write(c, in, 0, r);
	c->s->rflags = f;
}

/* ---- multiply / divide ---- */
static void set_mul_flags(struct emu_cpu *c, bool overflow, uint64_t low, unsigned size)
{
	uint64_t f = emu_flags(c) & ~FL_ARITH;
	if (overflow)
		f |= FL_CF | FL_OF;
	/* SF/ZF/PF/AF undefined; set from the low half like most implementations. */
	uint64_t r = low & sz_mask(size);
	f |= (r & (1ull << (size * 8 - 1))) ? FL_SF : 0;
	f |= (__builtin_popcount((unsigned)(r & 0xff)) & 1) ? 0 : FL_PF;
	c->s->rflags = f;
}

void h_mul(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size;
	uint64_t b = op_read(c, in, 0) & sz_mask(size);
	uint64_t a = reg_get(c, HVX_RAX, size, false);
	bool sgn = in->aux;
	unsigned __int128 pu;
	__int128 ps;
	uint64_t lo, hi;
	bool ovf;
	if (sgn) {
		ps = (__int128)(int64_t)sext(a, size) * (__int128)(int64_t)sext(b, size);
		lo = (uint64_t)ps & sz_mask(size);
		hi = (uint64_t)(ps >> (size * 8)) & sz_mask(size);
		if (size == 8)
			hi = (uint64_t)(ps >> 64);
		ovf = (__int128)(int64_t)sext(lo, size) != ps;
	} else {
		pu = (unsigned __int128)a * b;
		lo = (uint64_t)pu & sz_mask(size);
		hi = size == 8 ? (uint64_t)(pu >> 64) : (uint64_t)(pu >> (size * 8)) & sz_mask(size);
		ovf = hi != 0;
	}
	if (size == 1) {
		reg_set(c, HVX_RAX, 2, false, (hi << 8) | lo);
	} else {
		reg_set(c, HVX_RAX, size, false, lo);
		reg_set(c, HVX_RDX, size, false, hi);
	}
	set_mul_flags(c, ovf, lo, size);
}

void h_imul_n(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->nops == 1) {
		h_mul(c, in);
		return;
	}
	unsigned size = in->op[0].size;
	uint64_t a = in->nops == 3 ? op_read(c, in, 1) : op_read(c, in, 0);
	uint64_t b = in->nops == 3 ? in->imm : op_read(c, in, 1);
	__int128 p = (__int128)(int64_t)sext(a, size) * (__int128)(int64_t)sext(b, size);
	uint64_t lo = (uint64_t)p & sz_mask(size);
	bool ovf = (__int128)(int64_t)sext(lo, size) != p;
	op_write(c, in, 0, lo);
	set_mul_flags(c, ovf, lo, size);
}

void h_div(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->op[0].size, bits = size * 8;
	uint64_t d = op_read(c, in, 0) & sz_mask(size);
	if (!d)
		emu_fault(c, EXC_DE, false, 0);
	unsigned __int128 n;
	if (size == 1)
		n = reg_get(c, HVX_RAX, 2, false);
	else
		n = ((unsigned __int128)reg_get(c, HVX_RDX, size, false) << bits) | reg_get(c, HVX_RAX, size, false);
	uint64_t q, r;
	if (!in->aux) {
		unsigned __int128 qq = n / d;
		if (qq >> bits)
			emu_fault(c, EXC_DE, false, 0);
		q = (uint64_t)qq;
		r = (uint64_t)(n % d);
	} else {
		__int128 sn;
		if (size == 8)
			sn = (__int128)n;
		else
			sn = (__int128)(int64_t)sext((uint64_t)n, size * 2);
		__int128 sd = (int64_t)sext(d, size);
		if (sd == -1 && size == 8 && (unsigned __int128)sn == ((unsigned __int128)1 << 127))
			emu_fault(c, EXC_DE, false, 0);
		__int128 qq = sn / sd, rr = sn % sd;
		__int128 lim = (__int128)1 << (bits - 1);
		if (qq >= lim || qq < -lim)
			emu_fault(c, EXC_DE, false, 0);
		q = (uint64_t)qq & sz_mask(size);
		r = (uint64_t)rr & sz_mask(size);
	}
	if (size == 1) {
		reg_set(c, HVX_RAX, 2, false, (r << 8) | q);
	} else {
		reg_set(c, HVX_RAX, size, false, q);
		reg_set(c, HVX_RDX, size, false, r);
	}
}

/* ---- sign extension of the accumulator ---- */
void h_cbw(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->osz;
	reg_set(c, HVX_RAX, size, false, sext(reg_get(c, HVX_RAX, size / 2, false), size / 2));
}

void h_cwd(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned size = in->osz;
	uint64_t a = reg_get(c, HVX_RAX, size, false);
	reg_set(c, HVX_RDX, size, false, (a >> (size * 8 - 1)) & 1 ? ~0ull : 0);
}

/* ---- flag instructions ---- */
void h_flagop(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t f = emu_flags(c);
	switch (in->aux) {
	case 0: f &= ~FL_CF; break;
	case 1: f |= FL_CF; break;
	case 2: f ^= FL_CF; break;
	case 3: f &= ~FL_DF; break;
	case 4: f |= FL_DF; break;
	}
	c->s->rflags = f;
}

void h_lahf(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	reg_set(c, HVX_RAX, 1, true, (emu_flags(c) & 0xd5) | 2);
}

void h_sahf(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	emu_set_flags(c, reg_get(c, HVX_RAX, 1, true), 0xd5);
}

/* ---- BCD ---- */
void h_bcd(struct emu_cpu *c, const struct emu_insn *in)
{
	if (c->mode == EM_LONG64)
		emu_ud(c);
	uint64_t f = emu_flags(c);
	unsigned al = (unsigned)reg_get(c, HVX_RAX, 1, false), ah = (unsigned)reg_get(c, HVX_RAX, 1, true);
	bool cf = f & FL_CF, af = f & FL_AF;
	unsigned res = al;
	uint64_t nf = f & ~FL_ARITH;
	switch (in->aux) {
	case 0: /* DAA */ {
		unsigned old = al;
		bool ncf = false;
		if ((al & 0xf) > 9 || af) {
			res = (al + 6) & 0xff;
			ncf = cf || (al + 6 > 0xff);
			nf |= FL_AF;
		}
		if (old > 0x99 || cf) {
			res = (res + 0x60) & 0xff;
			ncf = true;
		}
		if (ncf)
			nf |= FL_CF;
		reg_set(c, HVX_RAX, 1, false, res);
		break;
	}
	case 1: /* DAS */ {
		unsigned old = al;
		bool ncf = false;
		if ((al & 0xf) > 9 || af) {
			res = (al - 6) & 0xff;
			ncf = cf || (al < 6);
			nf |= FL_AF;
		}
		if (old > 0x99 || cf) {
			res = (res - 0x60) & 0xff;
			ncf = true;
		}
		if (ncf)
			nf |= FL_CF;
		reg_set(c, HVX_RAX, 1, false, res);
		break;
	}
	case 2: /* AAA */
	case 3: /* AAS */
		if ((al & 0xf) > 9 || af) {
			unsigned ax = (unsigned)reg_get(c, HVX_RAX, 2, false);
			ax = in->aux == 2 ? ax + 0x106 : ax - 0x106;
			al = ax & 0xff;
			ah = (ax >> 8) & 0xff;
			nf |= FL_AF | FL_CF;
		}
		res = al & 0xf;
		reg_set(c, HVX_RAX, 2, false, (ah << 8) | res);
		break;
	case 4: /* AAM */ {
		unsigned base = (unsigned)in->imm & 0xff;
		if (!base)
			emu_fault(c, EXC_DE, false, 0);
		ah = al / base;
		res = al % base;
		reg_set(c, HVX_RAX, 2, false, (ah << 8) | res);
		break;
	}
	default: /* AAD */ {
		unsigned base = (unsigned)in->imm & 0xff;
		res = (al + ah * base) & 0xff;
		reg_set(c, HVX_RAX, 2, false, res);
		break;
	}
	}
	if (in->aux != 2 && in->aux != 3) {
		nf |= (res ? 0 : FL_ZF) | ((res & 0x80) ? FL_SF : 0) | ((__builtin_popcount(res & 0xff) & 1) ? 0 : FL_PF);
	}
	c->s->rflags = nf;
}

/* ---- conditional moves / sets ---- */
void h_cmov(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t v = op_read(c, in, 1);
	if (emu_cond(c, in->aux))
		op_write(c, in, 0, v);
	else if (in->op[0].size == 4)
		op_write(c, in, 0, op_read(c, in, 0)); /* 32-bit destination is zero-extended either way */
}

void h_setcc(struct emu_cpu *c, const struct emu_insn *in)
{
	op_write(c, in, 0, emu_cond(c, in->aux) ? 1 : 0);
}

void h_nop(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)c;
	(void)in;
}

void h_xlat(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t a = (reg_get(c, HVX_RBX, in->asz, false) + reg_get(c, HVX_RAX, 1, false)) & sz_mask(in->asz);
	reg_set(c, HVX_RAX, 1, false, mem_read(c, in->seg, a, 1));
}
