/* decode.c: Zydis decoding into the compact emu_insn form, and the decoded-block cache keyed by guest-physical address and decode mode. */
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "backend/emu/cpu/handlers.h"
#include "backend/emu/cpu/sse_ops.h"

#define BC_BUCKETS 4096
#define BC_ARENA (8u << 20)

struct emu_block {
	struct emu_block *next;
	struct emu_code_check chk; /* gpa, length and the run of its last comparison with guest memory */
	uint8_t key;
	uint16_t n;
	uint8_t *bytes; /* copy of the code, to re-verify after the host may have written guest memory */
	struct emu_insn ins[];
};

struct emu_bcache {
	struct emu_block *buckets[BC_BUCKETS];
	uint8_t *arena;
	size_t used;
	ZydisDecoder dec[6][3];
	struct emu_insn single[1]; /* an instruction that crosses a page: decoded each time, never cached */
};

static const ZydisMachineMode mode_of_key[6] = {
	ZYDIS_MACHINE_MODE_REAL_16, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_MACHINE_MODE_LEGACY_32,
	ZYDIS_MACHINE_MODE_LONG_COMPAT_16, ZYDIS_MACHINE_MODE_LONG_COMPAT_32, ZYDIS_MACHINE_MODE_LONG_64,
};

/* The decoder for a decode key (mode << 2 | stack width). */
static void decoder_init(ZydisDecoder *d, unsigned key)
{
	ZydisDecoderInit(d, mode_of_key[key >> 2], (ZydisStackWidth)(ZYDIS_STACK_WIDTH_16 + (key & 3)));
	ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_LZCNT, ZYAN_TRUE);
	ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_TZCNT, ZYAN_TRUE);
	ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_MPX, ZYAN_FALSE);
	ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_CET, ZYAN_FALSE);
	ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_KNC, ZYAN_FALSE);
}

struct emu_bcache *bc_create(void)
{
	struct emu_bcache *bc = calloc(1, sizeof *bc);
	if (!bc)
		return NULL;
	bc->arena = malloc(BC_ARENA);
	if (!bc->arena) {
		free(bc);
		return NULL;
	}
	for (unsigned m = 0; m < 6; m++)
		for (unsigned sw = 0; sw < 3; sw++)
			decoder_init(&bc->dec[m][sw], m << 2 | sw);
	return bc;
}

void bc_destroy(struct emu_bcache *bc)
{
	if (bc) {
		free(bc->arena);
		free(bc);
	}
}

bool bc_cached(const struct emu_bcache *bc, const struct emu_insn *in)
{
	return in != bc->single;
}

struct emu_code_check *bc_check_of(const struct emu_insn *in)
{
	struct emu_block *b = (struct emu_block *)(void *)((char *)(uintptr_t)in - offsetof(struct emu_block, ins));
	return &b->chk;
}

void bc_flush(struct emu_bcache *bc)
{
	memset(bc->buckets, 0, sizeof bc->buckets);
	bc->used = 0;
}

static unsigned gpr_of(ZydisRegister r, uint8_t *hi8)
{
	*hi8 = 0;
	if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL)
		return r - ZYDIS_REGISTER_AL;
	if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) {
		*hi8 = 1;
		return r - ZYDIS_REGISTER_AH;
	}
	if (r >= ZYDIS_REGISTER_SPL && r <= ZYDIS_REGISTER_R15B)
		return 4 + (r - ZYDIS_REGISTER_SPL);
	if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W)
		return r - ZYDIS_REGISTER_AX;
	if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D)
		return r - ZYDIS_REGISTER_EAX;
	if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15)
		return r - ZYDIS_REGISTER_RAX;
	return 0xff;
}

static unsigned seg_of(ZydisRegister r)
{
	if (r >= ZYDIS_REGISTER_ES && r <= ZYDIS_REGISTER_GS)
		return r - ZYDIS_REGISTER_ES;
	return SEG_DS;
}

/* Fill out from a decoded Zydis instruction. */
static void convert(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *zo, struct emu_insn *in)
{
	memset(in, 0, sizeof *in);
	in->mnem = (uint16_t)zi->mnemonic;
	in->len = zi->length;
	in->osz = (uint8_t)(zi->operand_width / 8);
	in->asz = (uint8_t)(zi->address_width / 8);
	in->rep = (zi->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE)) ? 1 :
		  (zi->attributes & ZYDIS_ATTRIB_HAS_REPNE) ? 2 : 0;
	in->lock = !!(zi->attributes & ZYDIS_ATTRIB_HAS_LOCK);
	in->base = in->index = 0xff;
	in->memop = 0xff;
	in->seg = SEG_DS;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_ES) in->seg = SEG_ES;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_CS) in->seg = SEG_CS;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_SS) in->seg = SEG_SS;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_FS) in->seg = SEG_FS;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_GS) in->seg = SEG_GS;
	in->sovr = in->seg;
	in->far = zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
	in->modrm_reg = zi->raw.modrm.reg;
	in->modrm_mod = zi->raw.modrm.mod;
	in->modrm_rm = zi->raw.modrm.rm;
	unsigned nimm = 0;
	for (unsigned i = 0; i < zi->operand_count_visible && in->nops < 4; i++) {
		const ZydisDecodedOperand *o = &zo[i];
		struct emu_op *op = &in->op[in->nops];
		op->size = (uint8_t)((o->size + 7) / 8);
		switch (o->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER: {
			ZydisRegisterClass cls = ZydisRegisterGetClass(o->reg.value);
			switch (cls) {
			case ZYDIS_REGCLASS_GPR8: case ZYDIS_REGCLASS_GPR16: case ZYDIS_REGCLASS_GPR32:
			case ZYDIS_REGCLASS_GPR64:
				op->kind = OK_REG;
				op->reg = (uint8_t)gpr_of(o->reg.value, &op->hi8);
				break;
			case ZYDIS_REGCLASS_SEGMENT: op->kind = OK_SREG; op->reg = (uint8_t)seg_of(o->reg.value); break;
			case ZYDIS_REGCLASS_CONTROL: op->kind = OK_CR; op->reg = (uint8_t)ZydisRegisterGetId(o->reg.value); break;
			case ZYDIS_REGCLASS_DEBUG: op->kind = OK_DR; op->reg = (uint8_t)ZydisRegisterGetId(o->reg.value); break;
			case ZYDIS_REGCLASS_XMM: op->kind = OK_XMM; op->reg = (uint8_t)ZydisRegisterGetId(o->reg.value); break;
			case ZYDIS_REGCLASS_X87: op->kind = OK_ST; op->reg = (uint8_t)ZydisRegisterGetId(o->reg.value); break;
			default: continue; /* flags, IP, ... are implicit in the handlers */
			}
			break;
		}
		case ZYDIS_OPERAND_TYPE_MEMORY:
			op->kind = OK_MEM;
			in->memop = in->nops;
			in->seg = (uint8_t)seg_of(o->mem.segment);
			if (o->mem.base == ZYDIS_REGISTER_RIP || o->mem.base == ZYDIS_REGISTER_EIP) {
				in->riprel = 1;
			} else if (o->mem.base != ZYDIS_REGISTER_NONE) {
				uint8_t h;
				in->base = (uint8_t)gpr_of(o->mem.base, &h);
			}
			if (o->mem.index != ZYDIS_REGISTER_NONE) {
				uint8_t h;
				in->index = (uint8_t)gpr_of(o->mem.index, &h);
				in->scale = o->mem.scale;
			}
			in->disp = o->mem.disp.value;
			in->has_disp = o->mem.disp.has_displacement;
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			op->kind = OK_IMM;
			if (nimm++ == 0)
				in->imm = o->imm.value.u;
			else
				in->imm2 = o->imm.value.u;
			break;
		case ZYDIS_OPERAND_TYPE_POINTER:
			op->kind = OK_PTR;
			in->imm = o->ptr.offset;
			in->imm2 = o->ptr.segment;
			break;
		default:
			continue;
		}
		in->nops++;
	}
	/* String instructions: the source segment (DS or override) is what matters; implicit operands are handled by the handler. */
	in->fn = emu_handler_for(in->mnem, &in->aux);
	if (!in->fn)
		in->fn = h_ud;
	/* MOVSD and CMPSD name both a string and an SSE instruction. */
	if ((in->fn == h_movs || in->fn == h_cmps) && (in->op[0].kind == OK_XMM || in->op[1].kind == OK_XMM)) {
		in->aux = in->fn == h_movs ? SO_MOVS64 : SO_CMPSD;
		in->fn = h_sse;
	}
	if (in->fn == h_mov) {
		unsigned k0 = in->op[0].kind, k1 = in->op[1].kind;
		if (k0 == OK_CR || k1 == OK_CR)
			in->fn = h_movcr;
		else if (k0 == OK_DR || k1 == OK_DR)
			in->fn = h_movdr;
		else if (k0 == OK_SREG || k1 == OK_SREG)
			in->fn = h_movseg;
	}
	/* Exact-form handlers for the hottest register forms. */
	bool regs = in->nops == 2 && in->op[0].kind == OK_REG && (in->op[1].kind == OK_REG || in->op[1].kind == OK_IMM);
	if (regs && in->fn == h_alu && !in->lock)
		in->fn = h_alu_rr;
	else if (regs && in->fn == h_mov)
		in->fn = h_mov_rr;
}

static int decode_with(const ZydisDecoder *d, const uint8_t *bytes, unsigned n, struct emu_insn *out)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	ZyanStatus st = ZydisDecoderDecodeFull(d, bytes, n, &zi, zo);
	if (st == ZYDIS_STATUS_NO_MORE_DATA)
		return -1;
	if (!ZYAN_SUCCESS(st)) {
		memset(out, 0, sizeof *out);
		out->fn = h_ud;
		out->len = 1;
		out->ends_block = 1;
		out->aux = st == ZYDIS_STATUS_INSTRUCTION_TOO_LONG ? 1 : 2; /* 1: #GP instead of #UD; 2: invalid */
		return 0;
	}
	convert(&zi, zo, out);
	return 0;
}

int emu_decode_one(struct emu_cpu *c, const uint8_t *bytes, unsigned n, struct emu_insn *out)
{
	return decode_with(&c->bc->dec[c->dec_key >> 2][c->dec_key & 3], bytes, n, out);
}

int emu_decode_single(unsigned key, const uint8_t *bytes, unsigned n, struct emu_insn *out)
{
	ZydisDecoder d;
	decoder_init(&d, key);
	return decode_with(&d, bytes, n, out);
}

/* Does this instruction end a block (control transfer, mode or interrupt-window change, exits)? */
static bool block_end(const struct emu_insn *in)
{
	switch (in->mnem) {
	case ZYDIS_MNEMONIC_MOV: return in->op[0].kind == OK_SREG || in->op[0].kind == OK_CR;
	case ZYDIS_MNEMONIC_POP: return in->op[0].kind == OK_SREG;
	case ZYDIS_MNEMONIC_POPF: case ZYDIS_MNEMONIC_POPFD: case ZYDIS_MNEMONIC_POPFQ:
	case ZYDIS_MNEMONIC_STI: case ZYDIS_MNEMONIC_CLI:
	case ZYDIS_MNEMONIC_LMSW: case ZYDIS_MNEMONIC_CLTS: case ZYDIS_MNEMONIC_WRMSR:
	case ZYDIS_MNEMONIC_LGDT: case ZYDIS_MNEMONIC_LIDT: case ZYDIS_MNEMONIC_LLDT: case ZYDIS_MNEMONIC_LTR:
	case ZYDIS_MNEMONIC_INVLPG: case ZYDIS_MNEMONIC_INVPCID: case ZYDIS_MNEMONIC_XSETBV:
	case ZYDIS_MNEMONIC_RSM: case ZYDIS_MNEMONIC_HLT: case ZYDIS_MNEMONIC_PAUSE:
		return true;
	default: break;
	}
	return in->ends_block || in->fn == h_ud;
}

extern bool emu_is_branch(unsigned mnem);

static struct emu_block *decode_block(struct emu_cpu *c, const uint8_t *page, unsigned off, unsigned limit, uint64_t gpa)
{
	struct emu_insn tmp[EMU_BLOCK_MAX];
	unsigned n = 0, pos = off;
	while (n < EMU_BLOCK_MAX && pos < limit) {
		if (emu_decode_one(c, page + pos, limit - pos, &tmp[n]) < 0)
			break; /* crosses the page or the CS limit: the next block handles it */
		tmp[n].ends_block |= emu_is_branch(tmp[n].mnem);
		emu_handler fast = emu_fast_handler(&tmp[n], c->mode == EM_LONG64);
		if (fast)
			tmp[n].fn = fast;
		pos += tmp[n].len;
		if (block_end(&tmp[n++]))
			break;
	}
	if (!n)
		return NULL;
	size_t need = sizeof(struct emu_block) + n * sizeof(struct emu_insn) + (pos - off) + 16;
	need = (need + 15) & ~(size_t)15;
	if (c->bc->used + need > BC_ARENA) {
		bc_flush(c->bc);
		emu_jc_drop(c); /* jump-cache entries point into the arena */
		c->code_gen++; /* and so do JIT translations */
	}
	struct emu_block *b = (struct emu_block *)(void *)(c->bc->arena + c->bc->used);
	c->bc->used += need;
	unsigned nbytes = pos - off;
	memset(&b->chk, 0, sizeof b->chk);
	b->chk.gpa = gpa;
	b->chk.nbytes = (uint16_t)nbytes;
	b->chk.epoch = c->run_epoch;
	b->chk.inline_page = nbytes <= 16 && off <= 4096 - 16 ? gpa & ~0xfffull : ~0ull;
	memcpy(b->chk.head, page + off, nbytes < 16 ? nbytes : 16);
	for (unsigned i = 0; i < 2; i++) {
		unsigned have = nbytes > 8 * i ? nbytes - 8 * i : 0; /* bytes of the block in word i */
		b->chk.mask[i] = have >= 8 ? ~0ull : (1ull << (8 * have)) - 1;
	}
	b->key = c->dec_key;
	b->n = (uint16_t)n;
	memcpy(b->ins, tmp, n * sizeof *tmp);
	b->bytes = (uint8_t *)&b->ins[n];
	memcpy(b->bytes, page + off, nbytes);
	unsigned h = (unsigned)((gpa >> 2) ^ (gpa >> 14) ^ c->dec_key) & (BC_BUCKETS - 1);
	b->next = c->bc->buckets[h];
	c->bc->buckets[h] = b;
	mmu_mark_code(c, gpa);
	return b;
}

bool bc_recheck(struct emu_cpu *c, unsigned j)
{
	/* The jump-cache entry is still current, so the TLB, when it holds the page, maps it to the block's page. */
	uint64_t la = c->jc[j].la;
	const struct emu_tlb_entry *e = &c->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
	struct emu_block *b = (struct emu_block *)(void *)((char *)c->jc[j].chk - offsetof(struct emu_block, chk));
	if (e->tag_x != ((la & ~0xfffull) | 1) || e->gpa != (b->chk.gpa & ~0xfffull))
		return false; /* bc_lookup walks and compares */
	if (memcmp(b->bytes, (const uint8_t *)e->host + (la & 0xfff), b->chk.nbytes)) {
		b->chk.gpa = b->chk.inline_page = ~0ull; /* rewritten: never matches again, bc_lookup decodes anew */
		return false;
	}
	b->chk.epoch = c->run_epoch;
	return true;
}

const struct emu_insn *bc_lookup(struct emu_cpu *c, unsigned *count)
{
	uint64_t rip = c->s->rip, la;
	unsigned limit = 4096;
	if (c->mode == EM_LONG64) {
		la = rip;
		if (!emu_canonical(c, la))
			emu_fault(c, EXC_GP, true, 0); /* a fetch from a non-canonical RIP (entered so, or run up to the edge) */
	} else {
		const struct emu_seg_cache *cs = &c->sc[SEG_CS];
		if (rip > cs->hi)
			emu_fault(c, EXC_GP, true, 0);
		la = (cs->base + rip) & 0xffffffffull;
		uint64_t room = (uint64_t)cs->hi - rip + 1;
		if (room < 4096)
			limit = (unsigned)room;
	}
	unsigned j = (unsigned)(la ^ (la >> 10)) & 1023;
	if (c->jc[j].la == la && c->jc[j].tag == emu_jc_tag(c) && c->jc[j].chk->epoch == c->run_epoch) {
		*count = c->jc[j].n;
		return c->jc[j].ins;
	}
	uint8_t *p = mmu_ptr(c, la, 1, ACC_X);
	const struct emu_tlb_entry *e = &c->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
	unsigned off = la & 0xfff;
	uint8_t *page = p - off;
	uint64_t gpa = (e->tag_x == ((la & ~0xfffull) | 1)) ? e->gpa | off : ~0ull;
	unsigned end = off + limit > 4096 ? 4096 : off + limit;
	struct emu_block *b;
	if (gpa != ~0ull) {
		unsigned h = (unsigned)((gpa >> 2) ^ (gpa >> 14) ^ c->dec_key) & (BC_BUCKETS - 1);
		for (b = c->bc->buckets[h]; b; b = b->next) {
			if (b->chk.gpa != gpa || b->key != c->dec_key)
				continue;
			if (b->chk.epoch != c->run_epoch) {
				if (off + b->chk.nbytes > end || memcmp(b->bytes, page + off, b->chk.nbytes)) {
					b->chk.gpa = b->chk.inline_page = ~0ull; /* stale: never matches again */
					break;
				}
				b->chk.epoch = c->run_epoch;
			}
			goto hit;
		}
		b = decode_block(c, page, off, end, gpa);
		if (b)
			goto hit;
	}
	/* Uncacheable (no TLB entry, e.g. implicit) or crossing a page / the limit: decode into the single slot. */
	uint8_t buf[16] = {0};
	unsigned have = end - off, want = 15;
	if (c->mode != EM_LONG64 && (uint64_t)c->sc[SEG_CS].hi - rip + 1 < want)
		want = (unsigned)((uint64_t)c->sc[SEG_CS].hi - rip + 1);
	if (have > want)
		have = want;
	memcpy(buf, page + off, have);
	struct emu_insn *in = c->bc->single;
	if (emu_decode_one(c, buf, have, in) < 0) {
		if (have < want && off + have == 4096) {
			uint64_t la2 = c->mode == EM_LONG64 ? la + have : ((la + have) & 0xffffffffull);
			mmu_fetch(c, la2, buf + have, want - have, NULL);
			have = want;
		}
		if (emu_decode_one(c, buf, have, in) < 0)
			emu_fault(c, EXC_GP, true, 0); /* runs past the CS limit */
	}
	in->ends_block = 1;
	*count = 1;
	return in;
hit:
	c->jc[j].la = la;
	c->jc[j].tag = emu_jc_tag(c);
	c->jc[j].ins = b->ins;
	c->jc[j].chk = &b->chk;
	c->jc[j].n = b->n;
	*count = b->n;
	return b->ins;
}
