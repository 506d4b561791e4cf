/* flags.c: lazy arithmetic flags: the last flag-setting operation is kept and CF/PF/AF/ZF/SF/OF are computed on demand. */
#include "backend/emu/emu.h"

static inline uint64_t parity(uint64_t res)
{
	return (__builtin_popcount((unsigned)(res & 0xff)) & 1) ? 0 : FL_PF;
}

uint64_t emu_flags(struct emu_cpu *c)
{
	uint64_t *rf = &c->s->rflags;
	if (c->lf_op == LF_NONE)
		return *rf;
	unsigned size = c->lf_size;
	uint64_t m = sz_mask(size), sign = 1ull << (size * 8 - 1);
	uint64_t r = c->lf_res & m, a = c->lf_a & m, b = c->lf_b & m;
	uint64_t f = parity(r);
	if (!r)
		f |= FL_ZF;
	if (r & sign)
		f |= FL_SF;
	switch (c->lf_op) {
	case LF_ADD:
		f |= (r < a ? FL_CF : 0) | (((a ^ r) & (b ^ r) & sign) ? FL_OF : 0) | ((a ^ b ^ r) & FL_AF);
		break;
	case LF_ADC:
		f |= ((c->lf_cin ? r <= a : r < a) ? FL_CF : 0) | (((a ^ r) & (b ^ r) & sign) ? FL_OF : 0) |
		     ((a ^ b ^ r) & FL_AF);
		break;
	case LF_SUB:
		f |= (a < b ? FL_CF : 0) | (((a ^ b) & (a ^ r) & sign) ? FL_OF : 0) | ((a ^ b ^ r) & FL_AF);
		break;
	case LF_SBB:
		f |= ((c->lf_cin ? a <= b : a < b) ? FL_CF : 0) | (((a ^ b) & (a ^ r) & sign) ? FL_OF : 0) |
		     ((a ^ b ^ r) & FL_AF);
		break;
	case LF_LOGIC:
		break;
	case LF_INC:
		f |= (c->lf_cin ? FL_CF : 0) | (r == sign ? FL_OF : 0) | ((a ^ 1 ^ r) & FL_AF);
		break;
	case LF_DEC:
		f |= (c->lf_cin ? FL_CF : 0) | (r == sign - 1 ? FL_OF : 0) | ((a ^ 1 ^ r) & FL_AF);
		break;
	case LF_NEG:
		f |= (b ? FL_CF : 0) | (r == sign ? FL_OF : 0) | ((b ^ r) & FL_AF);
		break;
	}
	*rf = (*rf & ~FL_ARITH) | f;
	c->lf_op = LF_NONE;
	return *rf;
}

void emu_set_flags(struct emu_cpu *c, uint64_t value, uint64_t mask)
{
	uint64_t f = emu_flags(c);
	c->s->rflags = ((f & ~mask) | (value & mask)) | 2;
}

bool emu_cond(struct emu_cpu *c, unsigned cc)
{
	bool r;
	/* ZF and SF come straight from the lazy result for every operation. */
	if (c->lf_op != LF_NONE && ((cc >> 1) == 2 || (cc >> 1) == 4)) {
		uint64_t res = c->lf_res & sz_mask(c->lf_size);
		r = (cc >> 1) == 2 ? res == 0 : (res >> (c->lf_size * 8 - 1)) & 1;
		return (cc & 1) ? !r : r;
	}
	/* Fast paths for the common compare-and-branch pairs. */
	if (c->lf_op == LF_SUB || c->lf_op == LF_LOGIC) {
		uint64_t m = sz_mask(c->lf_size);
		uint64_t res = c->lf_res & m, a = c->lf_a & m, b = c->lf_b & m;
		switch (cc >> 1) {
		case 2: r = res == 0; return (cc & 1) ? !r : r;
		case 3: if (c->lf_op == LF_LOGIC) r = res == 0; else r = a <= b; return (cc & 1) ? !r : r;
		case 1: r = c->lf_op == LF_SUB && a < b; return (cc & 1) ? !r : r;
		default: break;
		}
	}
	uint64_t f = emu_flags(c);
	switch (cc >> 1) {
	case 0: r = f & FL_OF; break;
	case 1: r = f & FL_CF; break;
	case 2: r = f & FL_ZF; break;
	case 3: r = f & (FL_CF | FL_ZF); break;
	case 4: r = f & FL_SF; break;
	case 5: r = f & FL_PF; break;
	case 6: r = !(f & FL_SF) != !(f & FL_OF); break;
	default: r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
	}
	return (cc & 1) ? !r : r;
}

bool emu_cf(struct emu_cpu *c)
{
	uint64_t m = sz_mask(c->lf_size);
	uint64_t r = c->lf_res & m, a = c->lf_a & m, b = c->lf_b & m;
	switch (c->lf_op) {
	case LF_NONE: return c->s->rflags & FL_CF;
	case LF_ADD: return r < a;
	case LF_ADC: return c->lf_cin ? r <= a : r < a;
	case LF_SUB: return a < b;
	case LF_SBB: return c->lf_cin ? a <= b : a < b;
	case LF_LOGIC: return false;
	case LF_NEG: return b != 0;
	default: return c->lf_cin; /* INC/DEC keep the carry they found */
	}
}
