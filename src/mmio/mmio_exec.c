/* mmio_exec.c: MMIO emulator core: page walk, Zydis decode, and execution of the MOV/ALU/string forms device code uses. */
#include <stdio.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "mmio_internal.h"

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define EFER_LMA (1ull << 10)
#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

#define FL_CF (1ull << 0)
#define FL_PF (1ull << 2)
#define FL_AF (1ull << 4)
#define FL_ZF (1ull << 6)
#define FL_SF (1ull << 7)
#define FL_DF (1ull << 10)
#define FL_OF (1ull << 11)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

static int read_entry(const struct hvx_mmio_ops *ops, void *ctx, uint64_t gpa, unsigned size, uint64_t *out)
{
	uint64_t v = 0;
	if (ops->ram_read(ctx, gpa, &v, size))
		return -1;
	*out = v;
	return 0;
}

int mmio_translate(const struct mmio_cpu *cpu, const struct hvx_mmio_ops *ops, void *ctx, uint64_t gla,
		   uint64_t *gpa)
{
	if (!(cpu->cr0 & CR0_PG)) {
		*gpa = cpu->code_bits == 64 ? gla : (gla & 0xffffffffull);
		return 0;
	}
	uint64_t e;
	if (cpu->cr4 & CR4_PAE) {
		uint64_t table;
		int level;
		if (cpu->efer & EFER_LMA) {
			table = cpu->cr3 & PTE_ADDR;
			level = 4;
		} else {
			gla &= 0xffffffffull;
			if (read_entry(ops, ctx, (cpu->cr3 & 0xffffffe0ull) + ((gla >> 30) & 3) * 8, 8, &e) || !(e & PTE_P))
				return -1;
			table = e & PTE_ADDR;
			level = 2;
		}
		for (; level >= 1; level--) {
			unsigned shift = 12 + 9 * (unsigned)(level - 1);
			if (read_entry(ops, ctx, table + ((gla >> shift) & 511) * 8, 8, &e) || !(e & PTE_P))
				return -1;
			if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
				uint64_t mask = (1ull << shift) - 1;
				*gpa = (e & PTE_ADDR & ~mask) | (gla & mask);
				return 0;
			}
			table = e & PTE_ADDR;
		}
		return -1;
	}
	gla &= 0xffffffffull;
	if (read_entry(ops, ctx, (cpu->cr3 & 0xfffff000ull) + ((gla >> 22) & 0x3ff) * 4, 4, &e) || !(e & PTE_P))
		return -1;
	if ((e & PTE_PS) && (cpu->cr4 & CR4_PSE)) {
		*gpa = (e & 0xffc00000ull) | ((e & 0x1fe000ull) << 19) | (gla & 0x3fffff);
		return 0;
	}
	uint64_t pt = e & 0xfffff000ull;
	if (read_entry(ops, ctx, pt + ((gla >> 12) & 0x3ff) * 4, 4, &e) || !(e & PTE_P))
		return -1;
	*gpa = (e & 0xfffff000ull) | (gla & 0xfff);
	return 0;
}

/* ---------------------------------------------------------------- registers */

static int gpr_get(struct mmio_cpu *cpu, unsigned i, uint64_t *v)
{
	if (cpu->load_gpr && !(cpu->gpr_loaded & (1u << i))) {
		if (cpu->load_gpr(cpu->load_src, i, &cpu->gpr[i]))
			return -1;
		cpu->gpr_loaded |= (uint16_t)(1u << i);
	}
	*v = cpu->gpr[i];
	return 0;
}

static void gpr_set(struct mmio_cpu *cpu, unsigned i, uint64_t v)
{
	cpu->gpr[i] = v;
	cpu->gpr_loaded |= (uint16_t)(1u << i);
	cpu->gpr_dirty |= (uint16_t)(1u << i);
}

/* Where a Zydis GPR lives: index 0..15, bit shift (8 for AH..BH) and width in bits. */
static bool reg_locate(ZydisRegister r, unsigned *idx, unsigned *shift, unsigned *bits)
{
	*shift = 0;
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR8:
		*bits = 8;
		if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) {
			*idx = (unsigned)(r - ZYDIS_REGISTER_AH);
			*shift = 8;
			return true;
		}
		break;
	case ZYDIS_REGCLASS_GPR16: *bits = 16; break;
	case ZYDIS_REGCLASS_GPR32: *bits = 32; break;
	case ZYDIS_REGCLASS_GPR64: *bits = 64; break;
	default: return false;
	}
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	if (big < ZYDIS_REGISTER_RAX || big > ZYDIS_REGISTER_R15)
		return false;
	*idx = (unsigned)(big - ZYDIS_REGISTER_RAX);
	return true;
}

static uint64_t mask_of(unsigned bits)
{
	return bits >= 64 ? ~0ull : ((1ull << bits) - 1);
}

static int reg_read(struct mmio_cpu *cpu, ZydisRegister r, uint64_t *v)
{
	unsigned idx, shift, bits;
	uint64_t full;
	if (!reg_locate(r, &idx, &shift, &bits) || gpr_get(cpu, idx, &full))
		return -1;
	*v = (full >> shift) & mask_of(bits);
	return 0;
}

/* Architectural register write: 32-bit writes zero-extend, 8/16-bit writes merge. */
static int reg_write(struct mmio_cpu *cpu, ZydisRegister r, uint64_t v)
{
	unsigned idx, shift, bits;
	uint64_t full;
	if (!reg_locate(r, &idx, &shift, &bits))
		return -1;
	if (bits >= 32) {
		gpr_set(cpu, idx, v & mask_of(bits));
		return 0;
	}
	if (gpr_get(cpu, idx, &full))
		return -1;
	uint64_t m = mask_of(bits) << shift;
	gpr_set(cpu, idx, (full & ~m) | ((v << shift) & m));
	return 0;
}

/* ---------------------------------------------------------------- memory */

static int mem_read(const struct hvx_mmio_ops *ops, void *ctx, uint64_t gpa, unsigned size, uint64_t *v,
		    struct hvx_mmio_access *acc)
{
	uint64_t x = 0;
	if (ops->ram_read(ctx, gpa, &x, size) == 0) {
		*v = x;
		return 0;
	}
	if (ops->mmio_read(ctx, gpa, size, &x))
		return -1;
	x &= mask_of(size * 8);
	*v = x;
	if (acc) {
		acc->gpa = gpa;
		acc->size = size;
		acc->write = false;
		acc->value = x;
	}
	return 0;
}

static int mem_write(const struct hvx_mmio_ops *ops, void *ctx, uint64_t gpa, unsigned size, uint64_t v,
		     struct hvx_mmio_access *acc)
{
	v &= mask_of(size * 8);
	if (ops->ram_write(ctx, gpa, &v, size) == 0)
		return 0;
	if (ops->mmio_write(ctx, gpa, size, v))
		return -1;
	if (acc) {
		acc->gpa = gpa;
		acc->size = size;
		acc->write = true;
		acc->value = v;
	}
	return 0;
}

/* ---------------------------------------------------------------- flags */

static uint64_t flags_szp(uint64_t res, unsigned bits)
{
	uint64_t f = 0;
	res &= mask_of(bits);
	if (!res)
		f |= FL_ZF;
	if ((res >> (bits - 1)) & 1)
		f |= FL_SF;
	if (!(__builtin_popcount((unsigned)(res & 0xff)) & 1))
		f |= FL_PF;
	return f;
}

enum alu_op { ALU_ADD, ALU_SUB, ALU_AND, ALU_OR, ALU_XOR, ALU_INC, ALU_DEC };

/* Compute a op b at `bits` width; new arithmetic flags merged into *rflags. */
static uint64_t alu(enum alu_op op, uint64_t a, uint64_t b, unsigned bits, uint64_t *rflags)
{
	uint64_t m = mask_of(bits), r, f = 0;
	a &= m;
	b &= m;
	switch (op) {
	case ALU_ADD:
	case ALU_INC:
		if (op == ALU_INC)
			b = 1;
		r = (a + b) & m;
		if (op == ALU_ADD && r < a)
			f |= FL_CF;
		if ((((a ^ r) & (b ^ r)) >> (bits - 1)) & 1)
			f |= FL_OF;
		if ((a ^ b ^ r) & 0x10)
			f |= FL_AF;
		break;
	case ALU_SUB:
	case ALU_DEC:
		if (op == ALU_DEC)
			b = 1;
		r = (a - b) & m;
		if (op == ALU_SUB && a < b)
			f |= FL_CF;
		if ((((a ^ b) & (a ^ r)) >> (bits - 1)) & 1)
			f |= FL_OF;
		if ((a ^ b ^ r) & 0x10)
			f |= FL_AF;
		break;
	case ALU_AND: r = a & b; break;
	case ALU_OR: r = a | b; break;
	default: r = a ^ b; break;
	}
	f |= flags_szp(r, bits);
	uint64_t keep = (op == ALU_INC || op == ALU_DEC) ? (*rflags & FL_CF) : 0;
	*rflags = (*rflags & ~FL_ARITH) | f | keep;
	return r;
}

/* ---------------------------------------------------------------- decode and execute */

static uint64_t operand_value(struct mmio_cpu *cpu, const ZydisDecodedOperand *op, int *err)
{
	uint64_t v = 0;
	if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		if (reg_read(cpu, op->reg.value, &v))
			*err = 1;
	} else if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		v = op->imm.is_signed ? (uint64_t)op->imm.value.s : op->imm.value.u;
	} else {
		*err = 1;
	}
	return v;
}

static uint64_t seg_base(const struct mmio_cpu *cpu, ZydisRegister seg)
{
	switch (seg) {
	case ZYDIS_REGISTER_ES: return cpu->seg_base[MMIO_SEG_ES];
	case ZYDIS_REGISTER_CS: return cpu->seg_base[MMIO_SEG_CS];
	case ZYDIS_REGISTER_SS: return cpu->seg_base[MMIO_SEG_SS];
	case ZYDIS_REGISTER_FS: return cpu->seg_base[MMIO_SEG_FS];
	case ZYDIS_REGISTER_GS: return cpu->seg_base[MMIO_SEG_GS];
	default: return cpu->seg_base[MMIO_SEG_DS];
	}
}

/* STOS / MOVS, with or without REP: every element is translated and goes to RAM or the device. */
static hv_return_t string_op(struct mmio_cpu *cpu, const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
			     bool movs, const struct hvx_mmio_ops *mops, void *ctx, struct hvx_mmio_access *acc)
{
	unsigned size = ops[0].size / 8;
	uint64_t amask = mask_of(in->address_width);
	bool rep = (in->attributes & ZYDIS_ATTRIB_HAS_REP) != 0;
	uint64_t count = 1, rcx = 0, rdi, rsi = 0, rax = 0;
	if (rep) {
		if (gpr_get(cpu, 1, &rcx))
			return HV_ERROR;
		count = rcx & amask;
	}
	if (gpr_get(cpu, 7, &rdi) || (movs && gpr_get(cpu, 6, &rsi)) || (!movs && gpr_get(cpu, 0, &rax)))
		return HV_ERROR;
	int64_t step = (cpu->rflags & FL_DF) ? -(int64_t)size : (int64_t)size;
	ZydisRegister src_seg = movs ? ops[1].mem.segment : ZYDIS_REGISTER_DS;
	uint64_t done = 0;
	for (; done < count; done++) {
		uint64_t v = rax, dst_gpa, src_gpa;
		if (movs) {
			if (mmio_translate(cpu, mops, ctx, seg_base(cpu, src_seg) + (rsi & amask), &src_gpa) ||
			    mem_read(mops, ctx, src_gpa, size, &v, acc))
				return HV_ERROR;
			rsi = (rsi & ~amask) | ((rsi + (uint64_t)step) & amask);
		}
		if (mmio_translate(cpu, mops, ctx, cpu->seg_base[MMIO_SEG_ES] + (rdi & amask), &dst_gpa) ||
		    mem_write(mops, ctx, dst_gpa, size, v, acc))
			return HV_ERROR;
		rdi = (rdi & ~amask) | ((rdi + (uint64_t)step) & amask);
	}
	gpr_set(cpu, 7, rdi);
	if (movs)
		gpr_set(cpu, 6, rsi);
	if (rep)
		gpr_set(cpu, 1, rcx & ~amask);
	if (acc)
		acc->repeats = (unsigned)done;
	return HV_SUCCESS;
}

hv_return_t mmio_execute(struct mmio_cpu *cpu, uint64_t fault_gpa, const uint8_t *bytes, unsigned len,
			 const struct hvx_mmio_ops *mops, void *ctx, struct hvx_mmio_access *acc)
{
	ZydisDecoder dec;
	ZydisMachineMode mode = cpu->code_bits == 64 ? ZYDIS_MACHINE_MODE_LONG_64
				: cpu->code_bits == 32 ? ZYDIS_MACHINE_MODE_LEGACY_32
				: (cpu->cr0 & CR0_PE) ? ZYDIS_MACHINE_MODE_LEGACY_16 : ZYDIS_MACHINE_MODE_REAL_16;
	ZydisStackWidth sw = cpu->code_bits == 64 ? ZYDIS_STACK_WIDTH_64
			     : cpu->code_bits == 32 ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16;
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, mode, sw)))
		return HV_ERROR;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, len, &in, ops)))
		return HV_UNSUPPORTED;
	if (acc) {
		memset(acc, 0, sizeof *acc);
		acc->length = in.length;
		acc->repeats = 1;
		snprintf(acc->mnemonic, sizeof acc->mnemonic, "%s", ZydisMnemonicGetString(in.mnemonic));
	}

	hv_return_t ret = HV_SUCCESS;
	int err = 0;
	switch (in.mnemonic) {
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD: case ZYDIS_MNEMONIC_STOSQ:
		ret = string_op(cpu, &in, ops, false, mops, ctx, acc);
		goto advance;
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSQ:
	case ZYDIS_MNEMONIC_MOVSD:
		if (ops[0].type != ZYDIS_OPERAND_TYPE_MEMORY || ops[1].type != ZYDIS_OPERAND_TYPE_MEMORY)
			return HV_UNSUPPORTED; /* SSE MOVSD */
		ret = string_op(cpu, &in, ops, true, mops, ctx, acc);
		goto advance;
	default:
		break;
	}

	/* Everything else: exactly one explicit memory operand, which is the faulting one. */
	int m = -1;
	for (int i = 0; i < in.operand_count_visible; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if (m >= 0)
				return HV_UNSUPPORTED;
			m = i;
		}
	if (m < 0)
		return HV_UNSUPPORTED;
	unsigned msize = ops[m].size / 8;
	if (msize != 1 && msize != 2 && msize != 4 && msize != 8)
		return HV_UNSUPPORTED;
	unsigned bits = ops[0].size;
	uint64_t v, w;
	enum alu_op op;

	switch (in.mnemonic) {
	case ZYDIS_MNEMONIC_MOV:
		if (m == 0) {
			v = operand_value(cpu, &ops[1], &err);
			if (err || mem_write(mops, ctx, fault_gpa, msize, v, acc))
				return HV_ERROR;
		} else {
			if (mem_read(mops, ctx, fault_gpa, msize, &v, acc) || reg_write(cpu, ops[0].reg.value, v))
				return HV_ERROR;
		}
		break;
	case ZYDIS_MNEMONIC_MOVZX:
	case ZYDIS_MNEMONIC_MOVSX:
	case ZYDIS_MNEMONIC_MOVSXD:
		if (m != 1 || mem_read(mops, ctx, fault_gpa, msize, &v, acc))
			return HV_ERROR;
		if (in.mnemonic != ZYDIS_MNEMONIC_MOVZX && ((v >> (msize * 8 - 1)) & 1))
			v |= ~mask_of(msize * 8);
		if (reg_write(cpu, ops[0].reg.value, v & mask_of(bits)))
			return HV_ERROR;
		break;
	case ZYDIS_MNEMONIC_XCHG: {
		const ZydisDecodedOperand *r = &ops[m == 0 ? 1 : 0];
		w = operand_value(cpu, r, &err);
		if (err || mem_read(mops, ctx, fault_gpa, msize, &v, acc) || mem_write(mops, ctx, fault_gpa, msize, w, acc) ||
		    reg_write(cpu, r->reg.value, v))
			return HV_ERROR;
		break;
	}
	case ZYDIS_MNEMONIC_ADD: op = ALU_ADD; goto alu2;
	case ZYDIS_MNEMONIC_SUB: op = ALU_SUB; goto alu2;
	case ZYDIS_MNEMONIC_AND: op = ALU_AND; goto alu2;
	case ZYDIS_MNEMONIC_OR: op = ALU_OR; goto alu2;
	case ZYDIS_MNEMONIC_XOR: op = ALU_XOR; goto alu2;
	case ZYDIS_MNEMONIC_CMP: op = ALU_SUB; goto alu2;
	case ZYDIS_MNEMONIC_TEST: op = ALU_AND;
	alu2: {
		bool store = in.mnemonic != ZYDIS_MNEMONIC_CMP && in.mnemonic != ZYDIS_MNEMONIC_TEST;
		if (mem_read(mops, ctx, fault_gpa, msize, &v, acc))
			return HV_ERROR;
		uint64_t a, b;
		if (m == 0) {
			a = v;
			b = operand_value(cpu, &ops[1], &err);
		} else {
			a = operand_value(cpu, &ops[0], &err);
			b = v;
		}
		if (err)
			return HV_ERROR;
		uint64_t r = alu(op, a, b, bits, &cpu->rflags);
		cpu->rflags_dirty = true;
		if (store) {
			if (m == 0 ? mem_write(mops, ctx, fault_gpa, msize, r, acc) : reg_write(cpu, ops[0].reg.value, r))
				return HV_ERROR;
		}
		break;
	}
	case ZYDIS_MNEMONIC_INC:
	case ZYDIS_MNEMONIC_DEC:
		if (mem_read(mops, ctx, fault_gpa, msize, &v, acc))
			return HV_ERROR;
		v = alu(in.mnemonic == ZYDIS_MNEMONIC_INC ? ALU_INC : ALU_DEC, v, 1, bits, &cpu->rflags);
		cpu->rflags_dirty = true;
		if (mem_write(mops, ctx, fault_gpa, msize, v, acc))
			return HV_ERROR;
		break;
	default:
		return HV_UNSUPPORTED;
	}
advance:
	if (ret != HV_SUCCESS)
		return ret;
	if (cpu->code_bits == 64)
		cpu->rip += in.length;
	else if (cpu->code_bits == 32)
		cpu->rip = (cpu->rip + in.length) & 0xffffffffull;
	else
		cpu->rip = (cpu->rip + in.length) & 0xffffull;
	return HV_SUCCESS;
}
