/* jit.c: the emu JIT tier: translates decoded 64-bit-mode blocks into host x86-64 code (guest ALU instructions run natively, inline software-TLB probes), chains blocks, and runs them. */
#include "backend/emu/jit/jit.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emu/emu.h"

_Atomic unsigned long long jit_stat_translated, jit_stat_entered;

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <Zydis/Zydis.h>

#include "backend/emu/jit/x86emit.h"

#define JIT_CODE_SIZE (8u << 20)   /* code cache per vCPU; flushed whole when full */
#define JIT_TB_MAX 32768           /* translations per cache generation */
#define JIT_HASH 8192
#define JIT_FUEL 8192              /* instructions per entry before the run loop's own checks run again */
#define JIT_BLOCK_ROOM 49152       /* the most one translation may need (48 memory instructions with their stubs) */
#define MAX_STUBS 160
#define NCACHE 7

struct jit_slot {
	uint64_t la;        /* guest RIP this exit goes to */
	uint32_t gen;       /* c->link_gen when code was linked; 0 = not linked */
	uint32_t jc;        /* la's jump-cache index */
	const uint8_t *code;
	const struct emu_insn *ins; /* the decoded block code translates (set with code) */
	/*
	 * A direct link's renewal in translated code without a call (emit_relink): the first three fixed when the
	 * translation is made, the rest set by jit_h_relink when it renews the link to a block whose comparison applies
	 * inline (chk->inline_page not ~0), cleared when it fails and when jit_exec links the slot (the fill asked for
	 * by a failure may wait while the quiet entry runs translated code: jit_enter_quiet leaves c->jit_slot), so
	 * they always describe ins.
	 */
	const struct emu_tlb_entry *tlbe; /* la's TLB entry (the code cache belongs to one vCPU until flushed) */
	uint64_t ntagx;     /* -(the tag of la's page), as tag_x holds it for execution */
	uint64_t laoff;     /* la's offset in its page */
	uint64_t ntag;      /* -(c->jc_tag64) at that renewal; 0 = none (the tag is never 0 in 64-bit mode) */
	struct emu_code_check *chk; /* ins's block's */
	_Alignas(16) uint8_t head[16]; /* its first 16 bytes, 0xff past nbytes (SSE2 memory operands: 16-aligned) */
	_Alignas(16) uint8_t pad[16];  /* 0xff past nbytes, 0 over them */
};

struct jit_tb {
	const struct emu_insn *key;
	uint64_t rip; /* the linear address it was translated at: its branches and exits name linear addresses, and the
		       * same decoded block (keyed by guest-physical address) may run at another one */
	struct jit_tb *next;
	struct emu_code_check *chk; /* the decoded block's (key's) */
	const uint8_t *code; /* NULL: the first instruction cannot be translated */
	struct jit_slot slot[2];
};

struct emu_jit {
	uint8_t *code;
	size_t used, base_used;
	size_t wlo, wlen;     /* the window made writable for the translation in progress */
	void (*enter)(struct emu_cpu *c, uint64_t *gpr, const uint8_t *code);
	uint8_t *epilogue;    /* in the write view (jumps to it are patched there) */
	uint8_t *relink;      /* emit_relink's code, in the write view */
	uint8_t *xcode;       /* the executable view of the cache (== code when one mapping is flipped by mprotect) */
	bool dual;            /* two views of one memfd: written through `code`, run through `xcode`, never remapped */
	struct jit_tb *hash[JIT_HASH];
	struct jit_tb *tbs;
	unsigned ntb;
	uint32_t code_gen;
	struct jit_tb *last;  /* the translation jit_exec entered last (NULL after a flush) */
	uint64_t fuel;        /* r15 at an entry: FUEL_FLOOR + JIT_FUEL, or FUEL_FLOOR alone with an instruction budget
			       * (one block per entry, so that the run loop checks the budget after every block) */
};

_Static_assert(sizeof(struct emu_tlb_entry) == 48, "the TLB probe indexes entries as idx * 48");

#define OFF_C(f) ((int32_t)offsetof(struct emu_cpu, f))
#define OFF_G(f) ((int32_t)(offsetof(struct hvx_vcpu_state, f) - offsetof(struct hvx_vcpu_state, gpr)))
#define GPR(g) xm(RBX, (int32_t)(8 * (g)))
#define ARITH_MASK 0x8d5u

static const int cache_regs[NCACHE] = {RBP, R14, RDX, R8, R9, R10, R11};

/*
 * Register conventions inside translated code: r12 = the emu_cpu, rbx = &gpr[0], r13 = 12 (shift count for the
 * TLB probe), r15 = instruction fuel: it drops by each block's instruction count, and translated code returns to the
 * run loop once it is below FUEL_FLOOR. Instructions retired = c->icount + (c->jit_fuel - r15), committed into
 * c->icount (and c->jit_fuel = r15) before every helper call and at every exit.
 */
#define FUEL_FLOOR 4096u

/* ---- helpers called from translated code (slow paths) ---- */

static uint64_t jit_h_load(struct emu_cpu *c, uint64_t off, uint32_t segsize)
{
	return mem_read(c, segsize & 0xff, off, segsize >> 8);
}

static void jit_h_store(struct emu_cpu *c, uint64_t off, uint32_t segsize, uint64_t val)
{
	mem_write(c, segsize & 0xff, off, segsize >> 8, val);
}

/* The read of a read-modify-write memory destination: the write access is checked first, as the interpreter does. */
static uint64_t jit_h_rmw_load(struct emu_cpu *c, uint64_t off, uint32_t segsize)
{
	mem_rmw_check(c, segsize & 0xff, off, segsize >> 8);
	return mem_read(c, segsize & 0xff, off, segsize >> 8);
}

/*
 * RET / indirect JMP / indirect CALL (kind 0/1/2 in bits 15:8 of kk, the block's instruction count in 7:0) whose
 * target is not the block's linked one: #GP on a non-canonical target with nothing changed, then the CALL's push
 * (which may fault), then commit and leave.
 */
static void jit_h_indirect(struct emu_cpu *c, uint64_t target, struct jit_slot *slot, uint64_t kk, uint64_t ret_addr)
{
	unsigned kind = (unsigned)(kk >> 8) & 0xff;
	uint64_t ninsns = kk & 0xff;
	emu_branch(c, target, 8);
	if (kind == 0)
		c->s->gpr[HVX_RSP] += 8;
	else if (kind == 2)
		emu_push(c, 8, ret_addr);
	c->s->rip = target;
	c->icount += ninsns;
	slot->la = target;
	slot->gen = 0;
	c->jit_slot = slot;
}

/*
 * A direct link not made in this run (links hold for one run, because a block is compared with guest memory at its
 * first use in each run): that comparison made here, through the jump cache as the run loop makes it, and the link
 * made again to the translation it had, so a run whose blocks are all translated stays in translated code. That
 * translation is still the target's when the jump cache still names the same decoded block at the address and the
 * code cache was not flushed. Whenever the run loop would do more (no current jump-cache entry, rewritten code, no
 * translation linked before: slot->ins, set with slot->code, is then NULL, which no filled entry names; a code-cache
 * flush due, a pending virtual interrupt), it returns NULL and the block
 * leaves through the run loop as before. Raised events and kicks were checked just before, with the fuel: a
 * memory-map change made while this vCPU is in a run raises EMU_EV_MEMMAP (and the mapper waits for the run loop's
 * sync), and one made between runs was synced at the entry, so the generation is not compared here, as no link
 * kept within a run compares it. It never translates: that may flush the cache it is called from. One function
 * with the comparison inline: in a loop that exits every iteration (a VMM handling OUT or CPUID) every run takes it.
 */
static const uint8_t *jit_h_relink(struct emu_cpu *c, struct jit_slot *slot)
{
	const __typeof__(c->jc[0]) *e = &c->jc[slot->jc];
	if (e->la != slot->la || e->ins != slot->ins || e->tag != c->jc_tag64 ||
	    c->jit->code_gen != c->code_gen || c->code_dirty)
		goto fail;
	/* the comparison before the interrupt test, whose call would make the compiler load the entry again */
	if (e->chk->epoch != c->run_epoch && !bc_current(c, slot->jc))
		goto fail;
	if (__builtin_expect(c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY, 0) && apicv_virq_ready(c))
		goto fail;
	slot->gen = c->link_gen;
	const struct emu_code_check *k = e->chk;
	if (k->inline_page != ~0ull) {
		/* what the next runs' renewal compares without a call (emit_relink) */
		slot->ntag = -c->jc_tag64;
		slot->chk = e->chk;
		for (unsigned i = 0; i < 2; i++) {
			uint64_t h = k->head[i] | ~k->mask[i], m = ~k->mask[i];
			memcpy(slot->head + 8 * i, &h, 8);
			memcpy(slot->pad + 8 * i, &m, 8);
		}
	} else {
		slot->ntag = 0;
	}
	return slot->code;
fail:
	slot->ntag = 0; /* jit_exec may link the slot to another translation (it clears this too) */
	c->jit_slot = slot;
	return NULL;
}

/* ---- translation ---- */

enum stub_kind { S_EXIT, S_SLOW, S_RETMISS };

struct stub {
	uint8_t kind;
	uint8_t flags_stored; /* rflags already materialized */
	uint8_t rip_in_rax;
	uint8_t store;        /* S_SLOW: store (else load) */
	uint8_t idx;          /* instruction index in the block */
	uint8_t rmw;          /* S_SLOW: read-modify-write memory destination */
	uint8_t seg, size;    /* S_SLOW: the access */
	uint8_t indirect;     /* S_SLOW: the target load of RET / indirect JMP / CALL (rax = target, no completion) */
	uint8_t late;         /* S_SLOW: back to `resume` before the completion, flags restored (completion may set them) */
	uint8_t *sites[4];
	unsigned nsites;
	uint64_t rip;
	uint64_t icount_add;
	struct jit_slot *slot;
	struct jit_slot *rip_slot; /* S_EXIT: RIP is this slot's la (an indirect CALL's target) */
	const struct emu_insn *in;
	uint8_t *resume;      /* S_SLOW: where to continue after completion */
	uint8_t *addr;        /* where the stub was emitted */
};

struct tr {
	struct emu_cpu *c;
	struct emu_jit *j;
	struct xbuf b;
	int8_t hmap[16];
	uint8_t cached[NCACHE];
	unsigned ncached;
	const struct emu_insn *ins;
	uint64_t rip0;
	uint8_t *body;
	struct stub st[MAX_STUBS];
	unsigned nst;
	bool fail;
	struct jit_tb *tb;
	unsigned nslots, k;
	struct stub *retmiss;
	bool ind_call;        /* the block ends in an indirect CALL: its push's stop exit goes to the linked target */
};

static struct stub *new_stub(struct tr *t, enum stub_kind k)
{
	if (t->nst >= MAX_STUBS) {
		t->fail = true;
		static struct stub dummy;
		memset(&dummy, 0, sizeof dummy);
		return &dummy;
	}
	struct stub *s = &t->st[t->nst++];
	memset(s, 0, sizeof *s);
	s->kind = (uint8_t)k;
	return s;
}

static void site(struct stub *s, uint8_t *at)
{
	if (s->nsites < 4)
		s->sites[s->nsites] = at;
	s->nsites++; /* more than 4: the translation is abandoned (see translate) */
}

static int jcc_cc(unsigned mnem)
{
	switch (mnem) {
	case ZYDIS_MNEMONIC_JO: return 0;
	case ZYDIS_MNEMONIC_JNO: return 1;
	case ZYDIS_MNEMONIC_JB: return 2;
	case ZYDIS_MNEMONIC_JNB: return 3;
	case ZYDIS_MNEMONIC_JZ: return 4;
	case ZYDIS_MNEMONIC_JNZ: return 5;
	case ZYDIS_MNEMONIC_JBE: return 6;
	case ZYDIS_MNEMONIC_JNBE: return 7;
	case ZYDIS_MNEMONIC_JS: return 8;
	case ZYDIS_MNEMONIC_JNS: return 9;
	case ZYDIS_MNEMONIC_JP: return 10;
	case ZYDIS_MNEMONIC_JNP: return 11;
	case ZYDIS_MNEMONIC_JL: return 12;
	case ZYDIS_MNEMONIC_JNL: return 13;
	case ZYDIS_MNEMONIC_JLE: return 14;
	case ZYDIS_MNEMONIC_JNLE: return 15;
	default: return -1;
	}
}

/* group-1 /n of an ALU mnemonic, -1 if none; TEST is 8 */
static int alu_n(unsigned mnem)
{
	switch (mnem) {
	case ZYDIS_MNEMONIC_ADD: return 0;
	case ZYDIS_MNEMONIC_OR: return 1;
	case ZYDIS_MNEMONIC_ADC: return 2;
	case ZYDIS_MNEMONIC_SBB: return 3;
	case ZYDIS_MNEMONIC_AND: return 4;
	case ZYDIS_MNEMONIC_SUB: return 5;
	case ZYDIS_MNEMONIC_XOR: return 6;
	case ZYDIS_MNEMONIC_CMP: return 7;
	case ZYDIS_MNEMONIC_TEST: return 8;
	default: return -1;
	}
}

static int shift_n(unsigned mnem)
{
	switch (mnem) {
	case ZYDIS_MNEMONIC_ROL: return 0;
	case ZYDIS_MNEMONIC_ROR: return 1;
	case ZYDIS_MNEMONIC_RCL: return 2;
	case ZYDIS_MNEMONIC_RCR: return 3;
	case ZYDIS_MNEMONIC_SHL: return 4;
	case ZYDIS_MNEMONIC_SHR: return 5;
	case ZYDIS_MNEMONIC_SAR: return 7;
	default: return -1;
	}
}

static int cmov_cc(unsigned mnem)
{
	switch (mnem) {
	case ZYDIS_MNEMONIC_CMOVO: return 0;
	case ZYDIS_MNEMONIC_CMOVNO: return 1;
	case ZYDIS_MNEMONIC_CMOVB: return 2;
	case ZYDIS_MNEMONIC_CMOVNB: return 3;
	case ZYDIS_MNEMONIC_CMOVZ: return 4;
	case ZYDIS_MNEMONIC_CMOVNZ: return 5;
	case ZYDIS_MNEMONIC_CMOVBE: return 6;
	case ZYDIS_MNEMONIC_CMOVNBE: return 7;
	case ZYDIS_MNEMONIC_CMOVS: return 8;
	case ZYDIS_MNEMONIC_CMOVNS: return 9;
	case ZYDIS_MNEMONIC_CMOVP: return 10;
	case ZYDIS_MNEMONIC_CMOVNP: return 11;
	case ZYDIS_MNEMONIC_CMOVL: return 12;
	case ZYDIS_MNEMONIC_CMOVNL: return 13;
	case ZYDIS_MNEMONIC_CMOVLE: return 14;
	case ZYDIS_MNEMONIC_CMOVNLE: return 15;
	default: return -1;
	}
}

static int setcc_cc(unsigned mnem)
{
	switch (mnem) {
	case ZYDIS_MNEMONIC_SETO: return 0;
	case ZYDIS_MNEMONIC_SETNO: return 1;
	case ZYDIS_MNEMONIC_SETB: return 2;
	case ZYDIS_MNEMONIC_SETNB: return 3;
	case ZYDIS_MNEMONIC_SETZ: return 4;
	case ZYDIS_MNEMONIC_SETNZ: return 5;
	case ZYDIS_MNEMONIC_SETBE: return 6;
	case ZYDIS_MNEMONIC_SETNBE: return 7;
	case ZYDIS_MNEMONIC_SETS: return 8;
	case ZYDIS_MNEMONIC_SETNS: return 9;
	case ZYDIS_MNEMONIC_SETP: return 10;
	case ZYDIS_MNEMONIC_SETNP: return 11;
	case ZYDIS_MNEMONIC_SETL: return 12;
	case ZYDIS_MNEMONIC_SETNL: return 13;
	case ZYDIS_MNEMONIC_SETLE: return 14;
	case ZYDIS_MNEMONIC_SETNLE: return 15;
	default: return -1;
	}
}

static bool is_ext(unsigned m)
{
	return m == ZYDIS_MNEMONIC_MOVZX || m == ZYDIS_MNEMONIC_MOVSX || m == ZYDIS_MNEMONIC_MOVSXD;
}

/* A byte or word register operand (not AH..BH). */
static bool small_reg(const struct emu_op *o)
{
	return o->kind == OK_REG && !o->hi8 && (o->size == 1 || o->size == 2) && o->reg < 16;
}

static bool gpr_op(const struct emu_op *o)
{
	return o->kind == OK_REG && !o->hi8 && (o->size == 4 || o->size == 8) && o->reg < 16;
}

static bool imm32_ok(const struct emu_insn *in, unsigned w)
{
	return w == 4 || (int64_t)in->imm == (int32_t)in->imm;
}

static bool mem_ok(const struct emu_insn *in)
{
	return in->asz == 8 && !in->lock && in->seg <= SEG_GS && in->memop != 0xff &&
	       (int64_t)in->disp == (int32_t)in->disp;
}

/* IN / OUT (the string forms are other mnemonics) and CPUID: block ends, run by their handler (see translate). */
static bool is_insn_exit(unsigned m)
{
	return m == ZYDIS_MNEMONIC_IN || m == ZYDIS_MNEMONIC_OUT || m == ZYDIS_MNEMONIC_CPUID;
}

/* Can this instruction be translated? Checked before anything of it is emitted. */
static bool supported(const struct emu_insn *in, uint64_t rip)
{
	if (in->lock || in->rep)
		return false;
	unsigned m = in->mnem;
	uint64_t next = rip + in->len;
	const struct emu_op *o0 = &in->op[0], *o1 = &in->op[1];
	if (m == ZYDIS_MNEMONIC_NOP || is_insn_exit(m))
		return true;
	if (jcc_cc(m) >= 0 || ((m == ZYDIS_MNEMONIC_JMP || m == ZYDIS_MNEMONIC_CALL) && o0->kind == OK_IMM))
		return in->osz != 2 && !in->far && in->nops == 1 && o0->kind == OK_IMM && hvx_canonical(next + in->imm, 48);
	if (m == ZYDIS_MNEMONIC_RET)
		return in->osz != 2 && !in->far && in->nops == 0;
	if ((m == ZYDIS_MNEMONIC_JMP || m == ZYDIS_MNEMONIC_CALL) && in->nops == 1 && !in->far && in->osz != 2)
		return (o0->kind == OK_REG && o0->size == 8 && !o0->hi8 && o0->reg < 16) ||
		       (o0->kind == OK_MEM && o0->size == 8 && mem_ok(in));
	if (m == ZYDIS_MNEMONIC_PUSH)
		return in->nops == 1 && ((o0->kind == OK_REG && o0->size == 8 && !o0->hi8) ||
					 (o0->kind == OK_IMM && in->osz == 8 && imm32_ok(in, 8)));
	if (m == ZYDIS_MNEMONIC_POP)
		return in->nops == 1 && o0->kind == OK_REG && o0->size == 8 && !o0->hi8;
	if (in->nops < 1)
		return false;
	unsigned w = o0->size;
	if (m == ZYDIS_MNEMONIC_MOV && in->nops == 2 && (w == 1 || w == 2)) {
		if (small_reg(o0) && o1->kind == OK_MEM)
			return mem_ok(in) && o1->size == w;
		if (o0->kind == OK_MEM && small_reg(o1))
			return mem_ok(in) && o1->size == w;
		if (o0->kind == OK_MEM && o1->kind == OK_IMM)
			return mem_ok(in);
		return false;
	}
	if (is_ext(m)) {
		if (in->nops != 2 || !gpr_op(o0))
			return false;
		unsigned sw = o1->size;
		if (m == ZYDIS_MNEMONIC_MOVSXD ? (sw != 4 || w != 8) : (sw != 1 && sw != 2))
			return false;
		if (o1->kind == OK_MEM)
			return mem_ok(in);
		return o1->kind == OK_REG && !o1->hi8 && o1->reg < 16;
	}
	if (setcc_cc(m) >= 0)
		return in->nops == 1 && o0->kind == OK_REG && o0->size == 1 && !o0->hi8 && o0->reg < 16;
	if (m == ZYDIS_MNEMONIC_XCHG)
		return in->nops == 2 && gpr_op(o0) && gpr_op(o1) && o1->size == w;
	if (m == ZYDIS_MNEMONIC_IMUL) {
		if ((in->nops != 2 && in->nops != 3) || !gpr_op(o0) || o1->size != w)
			return false;
		if (in->nops == 3 && (in->op[2].kind != OK_IMM || !imm32_ok(in, w)))
			return false;
		return gpr_op(o1) || (o1->kind == OK_MEM && mem_ok(in));
	}
	if (cmov_cc(m) >= 0)
		return in->nops == 2 && gpr_op(o0) && o1->size == w &&
		       (gpr_op(o1) || (o1->kind == OK_MEM && mem_ok(in)));
	if (alu_n(m) >= 0 && in->nops == 2 && o0->kind == OK_MEM && (w == 4 || w == 8)) {
		/* CMP/TEST only read their memory operand; the others are read-modify-write */
		if (!mem_ok(in))
			return false;
		return (gpr_op(o1) && o1->size == w) || (o1->kind == OK_IMM && imm32_ok(in, w));
	}
	if (o0->kind == OK_MEM && (w == 4 || w == 8) && mem_ok(in) &&
	    (m == ZYDIS_MNEMONIC_INC || m == ZYDIS_MNEMONIC_DEC || m == ZYDIS_MNEMONIC_NEG || m == ZYDIS_MNEMONIC_NOT))
		return in->nops == 1;
	if (o0->kind == OK_MEM && (w == 4 || w == 8) && mem_ok(in) && shift_n(m) >= 0)
		return in->nops == 1 || (in->nops == 2 && (o1->kind == OK_IMM ||
			(o1->kind == OK_REG && o1->reg == HVX_RCX && o1->size == 1 && !o1->hi8)));
	if (m == ZYDIS_MNEMONIC_MOV) {
		if (in->nops != 2 || (w != 4 && w != 8))
			return false;
		if (gpr_op(o0) && gpr_op(o1))
			return o1->size == w;
		if (gpr_op(o0) && o1->kind == OK_IMM)
			return true;
		if (gpr_op(o0) && o1->kind == OK_MEM)
			return mem_ok(in) && o1->size == w;
		if (o0->kind == OK_MEM && gpr_op(o1))
			return mem_ok(in) && o1->size == w;
		if (o0->kind == OK_MEM && o1->kind == OK_IMM)
			return mem_ok(in) && imm32_ok(in, w);
		return false;
	}
	if (m == ZYDIS_MNEMONIC_LEA)
		return in->nops == 2 && gpr_op(o0) && o1->kind == OK_MEM && in->asz == 8 &&
		       (int64_t)in->disp == (int32_t)in->disp;
	if (!gpr_op(o0))
		return false;
	if (alu_n(m) >= 0) {
		if (in->nops != 2)
			return false;
		if (gpr_op(o1))
			return o1->size == w;
		if (o1->kind == OK_MEM)
			return mem_ok(in) && o1->size == w;
		return o1->kind == OK_IMM && imm32_ok(in, w);
	}
	if (m == ZYDIS_MNEMONIC_INC || m == ZYDIS_MNEMONIC_DEC || m == ZYDIS_MNEMONIC_NEG || m == ZYDIS_MNEMONIC_NOT)
		return in->nops == 1;
	if (shift_n(m) >= 0) {
		if (in->nops == 1)
			return true;
		if (in->nops != 2)
			return false;
		return o1->kind == OK_IMM || (o1->kind == OK_REG && o1->reg == HVX_RCX && o1->size == 1 && !o1->hi8);
	}
	return false;
}

/* RET, or JMP/CALL through a register or memory: the target is known only at run time. */
static bool is_indirect(const struct emu_insn *in)
{
	unsigned m = in->mnem;
	return m == ZYDIS_MNEMONIC_RET ||
	       ((m == ZYDIS_MNEMONIC_JMP || m == ZYDIS_MNEMONIC_CALL) && in->op[0].kind != OK_IMM);
}

static bool is_branch_end(unsigned m)
{
	return jcc_cc(m) >= 0 || m == ZYDIS_MNEMONIC_JMP || m == ZYDIS_MNEMONIC_CALL || m == ZYDIS_MNEMONIC_RET;
}

/* Guest register -> host register holding it within this block, or NOREG (lives in gpr[]). */
static int H(struct tr *t, unsigned g)
{
	return t->hmap[g & 15];
}

static void writeback(struct tr *t)
{
	for (unsigned i = 0; i < t->ncached; i++)
		xstore(&t->b, true, GPR(t->cached[i]), t->hmap[t->cached[i]]);
}

static void reload(struct tr *t)
{
	for (unsigned i = 0; i < t->ncached; i++)
		xload(&t->b, true, t->hmap[t->cached[i]], GPR(t->cached[i]));
}

/* The host flags image in rax -> guest RFLAGS's arithmetic bits. Clobbers rax, rcx. */
static void flags_merge(struct xbuf *b)
{
	x1(b, 0x25);       /* and eax, imm32 */
	x4(b, ARITH_MASK);
	xload(b, true, RCX, xm(RBX, OFF_G(rflags)));
	xalu_ri(b, true, 4, RCX, (int32_t)~ARITH_MASK);
	xop_rr(b, true, 0x09, RCX, RAX); /* or rax, rcx */
	xstore(b, true, xm(RBX, OFF_G(rflags)), RAX);
}

/* Host arithmetic flags -> guest RFLAGS (lazy state is LF_NONE inside translated code). Clobbers rax, rcx. */
static void flags_save(struct xbuf *b)
{
	x1(b, 0x9c);       /* pushfq */
	xpop(b, RAX);
	flags_merge(b);
}

/* The flags image in rcx -> host flags (OF through an overflowing add, the rest through SAHF; no POPF). Clobbers
 * rax. */
static void flags_restore(struct xbuf *b)
{
	xmov_rr(b, false, RAX, RCX);
	xgrp_r(b, false, 0xc1, 5, RAX);
	x1(b, 11);             /* shr eax, 11 */
	xalu_ri(b, false, 4, RAX, 1);
	x1(b, 0x04);
	x1(b, 0x7f);           /* add al, 0x7f: OF = old OF */
	x1(b, 0x88);
	x1(b, 0xcc);           /* mov ah, cl */
	x1(b, 0x9e);           /* sahf: SF ZF AF PF CF */
}

/* Guest RFLAGS arithmetic bits -> host flags. Clobbers rax, rcx. */
static void flags_load(struct xbuf *b)
{
	xload(b, true, RCX, xm(RBX, OFF_G(rflags)));
	flags_restore(b);
}

/* A block's instructions are retired: r15 -= n (flag-free). */
static void retire(struct tr *t, unsigned n)
{
	xlea(&t->b, true, R15, xm(R15, -(int32_t)n));
}

/* c->icount += c->jit_fuel - r15; c->jit_fuel = r15 (flags clobbered: only where they are saved). */
static void commit_icount(struct xbuf *b)
{
	xload(b, true, RAX, xm(R12, OFF_C(jit_fuel)));
	xop_rr(b, true, 0x29, R15, RAX);                 /* sub rax, r15 */
	xop_rm(b, true, 0x01, RAX, xm(R12, OFF_C(icount))); /* add [icount], rax */
	xstore(b, true, xm(R12, OFF_C(jit_fuel)), R15);
}

/* An exit to the run loop with RIP = rip (flags live in the host unless stored). */
static struct stub *exit_stub(struct tr *t, uint64_t rip, struct jit_slot *slot)
{
	struct stub *s = new_stub(t, S_EXIT);
	s->rip = rip;
	s->slot = slot;
	return s;
}

/*
 * Per-block duties at a chained entry or a backward branch (flag-free): fuel, raised events, kicks.
 * kick_pending is also covered by EMU_EV_KICK in c->events (the backend's vcpu_kick raises it), but leaving its test
 * out here made the ALU loop 18% slower on the AMD host measured (the branches packed closer together), and one test
 * folding fuel and events into rcx made the memory and call/return loops 2-3% slower: both measured and not kept.
 */
static void duties(struct tr *t, struct stub *ex)
{
	struct xbuf *b = &t->b;
	xshx(b, 3, RCX, R15, R13); /* rcx = r15 >> 12: zero once below FUEL_FLOOR */
	site(ex, xjmp_if_rcx0(b));
	xload(b, false, RCX, xm(R12, OFF_C(events)));
	site(ex, xjmp_unless_rcx0(b));
	xload(b, true, RCX, xm(R12, OFF_C(vcpu)));
	xop_rm(b, false, 0x0fb6, RCX, xm(RCX, (int32_t)offsetof(struct hvx_vcpu, kick_pending)));
	site(ex, xjmp_unless_rcx0(b));
}

/* Go on at guest RIP la: the block's own top (a loop) or a linked translation through a slot. */
static void chain(struct tr *t, uint64_t la)
{
	struct xbuf *b = &t->b;
	if (la == t->rip0) {
		duties(t, exit_stub(t, la, NULL));
		uint8_t *at = xjmp32(b);
		xpatch(at, t->body);
		return;
	}
	if (t->nslots >= 2) {
		t->fail = true;
		return;
	}
	struct jit_slot *slot = &t->tb->slot[t->nslots++];
	slot->la = la;
	slot->jc = (uint32_t)(la ^ (la >> 10)) & 1023;
	slot->tlbe = &t->c->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
	slot->ntagx = -((la & ~0xfffull) | 1);
	slot->laoff = la & 0xfff;
	duties(t, exit_stub(t, la, NULL));
	struct stub *miss = exit_stub(t, la, slot);
	xmov_ri(b, RDI, (uint64_t)(uintptr_t)slot);
	xload(b, false, RSI, xm(R12, OFF_C(link_gen)));
	xgrp_r(b, false, 0xf7, 2, RSI); /* not esi */
	xload(b, false, RCX, xm(RDI, (int32_t)offsetof(struct jit_slot, gen)));
	xlea(b, false, RCX, xmi(RCX, RSI, 1, 1));
	site(miss, xjmp_unless_rcx0(b));
	writeback(t);
	xop_rm(b, false, 0xff, 4, xm(RDI, (int32_t)offsetof(struct jit_slot, code))); /* jmp [rdi + code] */
}

/* rsi = the linear address of the memory operand (flag-free; clobbers rax, rdi). */
static void emit_addr(struct tr *t, const struct emu_insn *in, uint64_t next)
{
	struct xbuf *b = &t->b;
	if (in->riprel) {
		xmov_ri(b, RSI, next + (uint64_t)in->disp);
	} else {
		int base = NOREG, index = NOREG;
		if (in->base != 0xff) {
			base = H(t, in->base);
			if (base == NOREG) {
				xload(b, true, RSI, GPR(in->base));
				base = RSI;
			}
		}
		if (in->index != 0xff) {
			index = H(t, in->index);
			if (index == NOREG) {
				xload(b, true, RDI, GPR(in->index));
				index = RDI;
			}
		}
		if (base == NOREG && index == NOREG)
			xmov_ri(b, RSI, (uint64_t)in->disp);
		else if (base == NOREG)
			xlea(b, true, RSI, xmi(NOREG, index, in->scale, (int32_t)in->disp));
		else
			xlea(b, true, RSI, xmi(base, index, index == NOREG ? 1 : in->scale, (int32_t)in->disp));
	}
	if (in->seg == SEG_FS || in->seg == SEG_GS) {
		xload(b, true, RAX, xm(R12, OFF_C(sc) + (int32_t)(in->seg * sizeof(struct emu_seg_cache)) +
					       (int32_t)offsetof(struct emu_seg_cache, base)));
		xlea(b, true, RSI, xmi(RSI, RAX, 1, 0));
	}
}

/*
 * The inline software-TLB probe for `size` bytes at rsi (flag-free, BMI2): on a hit, rcx + rax + 1 addresses the
 * host bytes; on a miss (no entry, no permission, crossing a page) it jumps to the slow stub.
 */
static void probe(struct tr *t, bool write, unsigned size, struct stub *slow)
{
	struct xbuf *b = &t->b;
	int32_t tlb = OFF_C(tlb);
	int32_t tag = write ? (int32_t)offsetof(struct emu_tlb_entry, tag_w) : (int32_t)offsetof(struct emu_tlb_entry, tag_r);
	xshx(b, 3, RDI, RSI, R13);                      /* rdi = la >> 12 */
	xrex(b, false, RDI, 0, RDI, true);
	x1(b, 0x0f);
	x1(b, 0xb6);
	x1(b, 0xc0 | (RDI & 7) << 3 | (RDI & 7));       /* movzx edi, dil */
	xlea(b, true, RDI, xmi(RDI, RDI, 2, 0));        /* idx * 3 */
	xlea(b, true, RDI, xmi(RDI, RDI, 1, 0));        /* idx * 6 */
	xlea(b, true, RAX, xm(RSI, (int32_t)size - 1));
	xshx(b, 3, RAX, RAX, R13);
	xshx(b, 1, RAX, RAX, R13);                      /* page of the last byte */
	xgrp_r(b, true, 0xf7, 2, RAX);                  /* rax = -page - 1 */
	xload(b, true, RCX, xmi(R12, RDI, 8, tlb + tag));
	xlea(b, true, RCX, xmi(RCX, RAX, 1, 0));        /* zero iff tag == page | 1 */
	site(slow, xjmp_unless_rcx0(b));
	xload(b, true, RCX, xmi(R12, RDI, 8, tlb + (int32_t)offsetof(struct emu_tlb_entry, host)));
	xlea(b, true, RCX, xmi(RCX, RSI, 1, 0));
}

#define HOSTMEM xmi(RCX, RAX, 1, 1)

/* The part of a load/store instruction after the access: value in rax for loads. Flag-free. */
static void complete(struct tr *t, const struct emu_insn *in)
{
	struct xbuf *b = &t->b;
	unsigned m = in->mnem;
	int hs = H(t, HVX_RSP);
	if (m == ZYDIS_MNEMONIC_POP || m == ZYDIS_MNEMONIC_PUSH || m == ZYDIS_MNEMONIC_CALL) {
		int32_t d = m == ZYDIS_MNEMONIC_POP ? 8 : -8;
		if (hs != NOREG) {
			xlea(b, true, hs, xm(hs, d));
		} else {
			xload(b, true, RCX, GPR(HVX_RSP));
			xlea(b, true, RCX, xm(RCX, d));
			xstore(b, true, GPR(HVX_RSP), RCX);
		}
	}
	if (m == ZYDIS_MNEMONIC_POP || (m == ZYDIS_MNEMONIC_MOV && in->op[0].kind == OK_REG)) {
		int h = H(t, in->op[0].reg);
		if (h != NOREG)
			xmov_rr(b, true, h, RAX);
		else
			xstore(b, true, GPR(in->op[0].reg), RAX);
	}
}

/* IMUL dst, src (two operands) or dst = src * imm (three); host registers. */
static void emit_imul(struct xbuf *b, const struct emu_insn *in, int dh, int src)
{
	bool w8 = in->op[0].size == 8;
	if (in->nops == 2) {
		xop_rr(b, w8, 0x0faf, dh, src);
		return;
	}
	int32_t imm = (int32_t)in->imm;
	bool i8 = imm >= -128 && imm <= 127;
	xop_rr(b, w8, i8 ? 0x6b : 0x69, dh, src);
	if (i8)
		x1(b, (uint8_t)imm);
	else
		x4(b, (uint32_t)imm);
}

/* Does this load use the late completion (the new value is used by a second host instruction)? */
static bool late_load(const struct emu_insn *in)
{
	unsigned m = in->mnem;
	return is_ext(m) || cmov_cc(m) >= 0 || alu_n(m) >= 0 || m == ZYDIS_MNEMONIC_IMUL ||
	       (m == ZYDIS_MNEMONIC_MOV && in->op[0].size < 4);
}

/* Completion of a late load: rax = the zero-extended memory value. May set flags. */
static void complete_late(struct tr *t, const struct emu_insn *in)
{
	struct xbuf *b = &t->b;
	unsigned m = in->mnem;
	const struct emu_op *o0 = &in->op[0], *o1 = &in->op[1];
	unsigned w = o0->size;
	bool w8 = w == 8;
	int n = alu_n(m);
	if (n >= 0 && o0->kind == OK_MEM) { /* CMP/TEST [m], src */
		if (o1->kind == OK_IMM) {
			if (n == 8) {
				xrex(b, w8, 0, 0, RAX, false);
				x1(b, 0xf7);
				x1(b, 0xc0);
				x4(b, (uint32_t)in->imm);
			} else {
				xalu_ri(b, w8, (unsigned)n, RAX, (int32_t)in->imm);
			}
		} else {
			int h = H(t, o1->reg);
			if (h != NOREG)
				xop_rr(b, w8, n == 8 ? 0x85 : 0x39, h, RAX);
			else
				xop_rm(b, w8, n == 8 ? 0x85 : 0x3b, RAX, GPR(o1->reg));
		}
		return;
	}
	int d = H(t, o0->reg);
	int dh = d == NOREG ? RCX : d;
	if (m == ZYDIS_MNEMONIC_MOV) { /* byte / word register: merge into the low bits */
		if (d != NOREG) {
			if (w == 2)
				x1(b, 0x66);
			xrex(b, false, RAX, 0, d, w == 1);
			x1(b, w == 1 ? 0x88 : 0x89);
			x1(b, (uint8_t)(0xc0 | (d & 7)));
		} else {
			if (w == 2)
				x1(b, 0x66);
			xop_rm(b, false, w == 1 ? 0x88 : 0x89, RAX, GPR(o0->reg));
		}
		return;
	}
	if (d == NOREG && (n >= 0 || cmov_cc(m) >= 0 || (m == ZYDIS_MNEMONIC_IMUL && in->nops == 2)))
		xload(b, w8, RCX, GPR(o0->reg));
	if (m == ZYDIS_MNEMONIC_IMUL) {
		emit_imul(b, in, dh, RAX);
	} else if (n >= 0) {
		xop_rr(b, w8, n == 8 ? 0x85 : (unsigned)(n * 8 + 1), RAX, dh);
		if (n == 7 || n == 8)
			return;
	} else if (cmov_cc(m) >= 0) {
		xop_rr(b, w8, 0x0f40u | (unsigned)cmov_cc(m), dh, RAX);
	} else if (m == ZYDIS_MNEMONIC_MOVZX) {
		xmov_rr(b, false, dh, RAX);
	} else if (m == ZYDIS_MNEMONIC_MOVSX) {
		xop_rr(b, w8, o1->size == 1 ? 0x0fbe : 0x0fbf, dh, RAX);
	} else { /* MOVSXD */
		xop_rr(b, true, 0x63, dh, RAX);
	}
	if (d == NOREG)
		xstore(b, true, GPR(o0->reg), RCX);
}

static bool is_rmw(const struct emu_insn *in)
{
	unsigned m = in->mnem;
	int n = alu_n(m);
	return in->op[0].kind == OK_MEM && ((n >= 0 && n < 7) || shift_n(m) >= 0 || m == ZYDIS_MNEMONIC_INC ||
					    m == ZYDIS_MNEMONIC_DEC || m == ZYDIS_MNEMONIC_NEG || m == ZYDIS_MNEMONIC_NOT);
}

/*
 * The operation of a read-modify-write instruction on `dst` (memory [rdi] when mem, else the register rdi); the
 * source register comes from its host register or gpr[] (through rsi), CL through rcx. Sets the host flags.
 */
static void rmw_op(struct tr *t, const struct emu_insn *in, bool mem)
{
	struct xbuf *b = &t->b;
	unsigned m = in->mnem;
	const struct emu_op *o1 = &in->op[1];
	bool w8 = in->op[0].size == 8;
	int n = alu_n(m);
	struct xmem dm = xm(RDI, 0);
	if (n >= 0) {
		if (o1->kind == OK_IMM) {
			if (mem) {
				int32_t imm = (int32_t)in->imm;
				bool i8 = imm >= -128 && imm <= 127;
				xop_rm(b, w8, i8 ? 0x83 : 0x81, (unsigned)n, dm);
				if (i8)
					x1(b, (uint8_t)imm);
				else
					x4(b, (uint32_t)imm);
			} else {
				xalu_ri(b, w8, (unsigned)n, RDI, (int32_t)in->imm);
			}
			return;
		}
		int h = H(t, o1->reg);
		if (h == NOREG) {
			xload(b, true, RSI, GPR(o1->reg));
			h = RSI;
		}
		if (mem)
			xop_rm(b, w8, (unsigned)(n * 8 + 1), h, dm);
		else
			xop_rr(b, w8, (unsigned)(n * 8 + 1), h, RDI);
		return;
	}
	unsigned op, sub;
	int sn = shift_n(m);
	if (sn >= 0) {
		sub = (unsigned)sn;
		if (in->nops == 1) {
			op = 0xd1;
		} else if (o1->kind == OK_IMM) {
			op = 0xc1;
		} else {
			op = 0xd3;
			int h = H(t, HVX_RCX);
			if (h != NOREG)
				xmov_rr(b, false, RCX, h);
			else
				xload(b, false, RCX, GPR(HVX_RCX));
		}
	} else if (m == ZYDIS_MNEMONIC_INC || m == ZYDIS_MNEMONIC_DEC) {
		op = 0xff;
		sub = m == ZYDIS_MNEMONIC_DEC;
	} else {
		op = 0xf7;
		sub = m == ZYDIS_MNEMONIC_NEG ? 3 : 2;
	}
	if (mem)
		xop_rm(b, w8, op, sub, dm);
	else
		xgrp_r(b, w8, op, sub, RDI);
	if (op == 0xc1)
		x1(b, (uint8_t)in->imm);
}

/* The value a store writes: into rdi (or an immediate) for the fast path. */
static void store_fast(struct tr *t, const struct emu_insn *in, uint64_t next, unsigned w)
{
	struct xbuf *b = &t->b;
	unsigned m = in->mnem;
	const struct emu_op *src = m == ZYDIS_MNEMONIC_MOV ? &in->op[1] : &in->op[0];
	if (m == ZYDIS_MNEMONIC_CALL) {
		xmov_ri(b, RDI, next);
		xstore(b, true, HOSTMEM, RDI);
	} else if (src->kind == OK_IMM) {
		if (w == 2)
			x1(b, 0x66);
		xop_rm(b, w == 8, w == 1 ? 0xc6 : 0xc7, 0, HOSTMEM);
		if (w == 1)
			x1(b, (uint8_t)in->imm);
		else if (w == 2) {
			x1(b, (uint8_t)in->imm);
			x1(b, (uint8_t)(in->imm >> 8));
		} else
			x4(b, (uint32_t)in->imm);
	} else {
		int h = H(t, src->reg);
		if (h == NOREG) {
			xload(b, true, RDI, GPR(src->reg));
			h = RDI;
		}
		if (w == 1) {
			xrex(b, false, h, RAX, RCX, true); /* REX: SPL/BPL/SIL/DIL rather than AH..BH */
			x1(b, 0x88);
			xmodrm_mem(b, h, HOSTMEM);
		} else {
			if (w == 2)
				x1(b, 0x66);
			xstore(b, w == 8, HOSTMEM, h);
		}
	}
}

/* The same value into rcx for the slow-path helper (guest registers are in gpr[] there). */
static void store_value_slow(struct tr *t, const struct emu_insn *in, uint64_t next, unsigned w)
{
	struct xbuf *b = &t->b;
	unsigned m = in->mnem;
	const struct emu_op *src = m == ZYDIS_MNEMONIC_MOV ? &in->op[1] : &in->op[0];
	if (m == ZYDIS_MNEMONIC_CALL)
		xmov_ri(b, RCX, next);
	else if (src->kind == OK_IMM)
		xmov_ri(b, RCX, w == 8 ? (uint64_t)(int64_t)(int32_t)in->imm : (uint32_t)in->imm);
	else
		xload(b, w == 8, RCX, GPR(src->reg));
}

/* A load or store through the TLB probe, with its slow-path stub. */
static void mem_access(struct tr *t, const struct emu_insn *in, unsigned idx, uint64_t rip, bool store, unsigned w,
		       bool stack)
{
	struct xbuf *b = &t->b;
	uint64_t next = rip + in->len;
	unsigned m = in->mnem;
	bool ind = !stack ? is_indirect(in) : m == ZYDIS_MNEMONIC_RET;
	if (stack && store) {
		int hs = H(t, HVX_RSP);
		if (hs == NOREG) {
			xload(b, true, RSI, GPR(HVX_RSP));
			hs = RSI;
		}
		xlea(b, true, RSI, xm(hs, -8));
	} else if (stack) {
		int hs = H(t, HVX_RSP);
		if (hs == NOREG)
			xload(b, true, RSI, GPR(HVX_RSP));
		else
			xmov_rr(b, true, RSI, hs);
	} else {
		emit_addr(t, in, next);
	}
	if (ind && !store) {
		t->retmiss = new_stub(t, S_RETMISS);
		t->retmiss->in = in;
		t->retmiss->rip = rip;
	}
	struct stub *s = new_stub(t, S_SLOW);
	s->seg = (uint8_t)(stack ? SEG_SS : in->seg);
	s->size = (uint8_t)w;
	s->indirect = ind && !store;
	s->in = in;
	s->idx = (uint8_t)idx;
	s->rip = rip;
	s->store = store;
	s->rmw = !stack && is_rmw(in);
	probe(t, store || s->rmw, w, s);
	if (s->rmw) {
		/* the write tag implies read access: one host read-modify-write on guest memory */
		xlea(b, true, RDI, HOSTMEM);
		rmw_op(t, in, true);
		s->resume = b->p;
		return;
	}
	if (store)
		store_fast(t, in, next, w);
	else if (w < 4)
		xop_rm(b, false, w == 1 ? 0x0fb6 : 0x0fb7, RAX, HOSTMEM);
	else
		xload(b, w == 8, RAX, HOSTMEM);
	if (!store && !stack && !ind && late_load(in)) {
		s->late = 1;
		s->resume = b->p;
		complete_late(t, in);
		/* a helper on the slow path may have asked to end the block (decoded code written, APIC access) */
		xop_rm(b, false, 0x0fb6, RCX, xm(R12, OFF_C(stop)));
		struct stub *ex = exit_stub(t, next, NULL);
		ex->icount_add = idx + 1u;
		site(ex, xjmp_unless_rcx0(b));
		return;
	}
	if (!s->indirect)
		complete(t, in);
	s->resume = b->p;
}

static void emit_slow_stub(struct tr *t, struct stub *s)
{
	struct xbuf *b = &t->b;
	const struct emu_insn *in = s->in;
	uint64_t next = s->rip + in->len;
	unsigned m = in->mnem;
	unsigned w = s->size, seg = s->seg;
	flags_save(b);
	writeback(t);
	commit_icount(b);
	xmov_ri(b, RAX, s->rip);
	xstore(b, true, xm(RBX, OFF_G(rip)), RAX);
	xmov_ri(b, RAX, (uint64_t)(uintptr_t)in);
	xstore(b, true, xm(R12, OFF_C(cur)), RAX);
	xmov_ri(b, RAX, (uint64_t)(uintptr_t)t->ins); /* an exit or fault in the helper: the ones before in retired */
	xstore(b, true, xm(R12, OFF_C(blk_first)), RAX);
	xmov_ri(b, RAX, next);
	xstore(b, true, xm(R12, OFF_C(next_rip)), RAX);
	if (seg == SEG_FS || seg == SEG_GS) {
		xload(b, true, RAX, xm(R12, OFF_C(sc) + (int32_t)(seg * sizeof(struct emu_seg_cache)) +
					       (int32_t)offsetof(struct emu_seg_cache, base)));
		xop_rr(b, true, 0x29, RAX, RSI); /* sub rsi, rax: back to the offset */
	}
	if (s->rmw) {
		/* check the write, read, operate with the guest's flags, store; then as for a store */
		xpush(b, RSI);
		xpush(b, RSI);
		xmov_ri(b, RDX, seg | w << 8);
		xmov_rr(b, true, RDI, R12);
		xcall_abs(b, (const void *)jit_h_rmw_load);
		reload(t);
		xmov_rr(b, true, RDI, RAX);
		flags_load(b);
		rmw_op(t, in, false);
		flags_save(b);
		xmov_rr(b, true, RCX, RDI);
		xpop(b, RSI);
		xpop(b, RSI);
		xmov_ri(b, RDX, seg | w << 8);
		xmov_rr(b, true, RDI, R12);
		xcall_abs(b, (const void *)jit_h_store);
		reload(t);
	} else {
		if (s->store)
			store_value_slow(t, in, next, w);
		xmov_ri(b, RDX, seg | w << 8);
		xmov_rr(b, true, RDI, R12);
		xcall_abs(b, s->store ? (const void *)jit_h_store : (const void *)jit_h_load);
		reload(t);
	}
	if (s->late) {
		xmov_rr(b, true, RSI, RAX); /* flags_load uses rax */
		flags_load(b);
		xmov_rr(b, true, RAX, RSI);
		xpatch(xjmp32(b), s->resume);
		return;
	}
	if (s->indirect) {
		/* rax = the target; a write to decoded code (A/D update) still lets the RET finish, through its miss path */
		xop_rm(b, false, 0x80, 7, xm(R12, OFF_C(stop)));
		x1(b, 0);
		uint8_t *cont = xjcc32(b, 4);
		xmov_rr(b, true, RSI, RAX);
		flags_load(b);
		xmov_rr(b, true, RAX, RSI);
		site(t->retmiss, xjmp32(b));
		xpatch(cont, b->p);
		xmov_rr(b, true, RSI, RAX);
		flags_load(b);
		xmov_rr(b, true, RAX, RSI);
	} else {
		complete(t, in);
		/* A write that hit decoded code (or an A/D update there) ends the block after this instruction. */
		xop_rm(b, false, 0x80, 7, xm(R12, OFF_C(stop)));
		x1(b, 0);
		struct stub *ex = exit_stub(t, m == ZYDIS_MNEMONIC_CALL ? next + in->imm : next, NULL);
		if (m == ZYDIS_MNEMONIC_CALL && t->ind_call)
			ex->rip_slot = &t->tb->slot[0];
		ex->flags_stored = 1;
		ex->icount_add = s->idx + 1u;
		site(ex, xjcc32(b, 5));
		flags_load(b);
	}
	uint8_t *at = xjmp32(b);
	xpatch(at, s->resume);
}

static void emit_exit_stub(struct tr *t, struct stub *s)
{
	struct xbuf *b = &t->b;
	if (s->slot) {
		/* a direct link not made in this run (rdi = the slot, s->rip its la): emit_relink */
		writeback(t);
		xpatch(xjmp32(b), t->j->relink);
		return;
	}
	if (s->rip_in_rax)
		xstore(b, true, xm(RBX, OFF_G(rip)), RAX);
	writeback(t);
	if (!s->flags_stored)
		flags_save(b);
	if (s->rip_slot) {
		xmov_ri(b, RAX, (uint64_t)(uintptr_t)s->rip_slot);
		xload(b, true, RAX, xm(RAX, (int32_t)offsetof(struct jit_slot, la)));
		xstore(b, true, xm(RBX, OFF_G(rip)), RAX);
	} else if (!s->rip_in_rax) {
		xmov_ri(b, RAX, s->rip);
		xstore(b, true, xm(RBX, OFF_G(rip)), RAX);
	}
	commit_icount(b);
	if (s->icount_add) {
		xmov_ri(b, RAX, s->icount_add);
		xop_rm(b, true, 0x01, RAX, xm(R12, OFF_C(icount)));
	}
	xmov_ri(b, RAX, 0);
	xstore(b, true, xm(R12, OFF_C(jit_slot)), RAX);
	uint8_t *at = xjmp32(b);
	xpatch(at, t->j->epilogue);
}

/* One register-only instruction (flags computed natively by the host). */
static void emit_alu(struct tr *t, const struct emu_insn *in, uint64_t next)
{
	struct xbuf *b = &t->b;
	unsigned m = in->mnem;
	const struct emu_op *o0 = &in->op[0], *o1 = &in->op[1];
	unsigned w = o0->size;
	bool w8 = w == 8;
	if (m == ZYDIS_MNEMONIC_LEA) {
		int d = H(t, o0->reg);
		int dh = d == NOREG ? RCX : d;
		if (in->riprel) {
			uint64_t v = next + (uint64_t)in->disp;
			xmov_ri(b, dh, w8 ? v : (uint32_t)v);
		} else {
			int base = NOREG, index = NOREG;
			if (in->base != 0xff && (base = H(t, in->base)) == NOREG) {
				xload(b, true, RSI, GPR(in->base));
				base = RSI;
			}
			if (in->index != 0xff && (index = H(t, in->index)) == NOREG) {
				xload(b, true, RDI, GPR(in->index));
				index = RDI;
			}
			if (base == NOREG && index == NOREG)
				xmov_ri(b, dh, w8 ? (uint64_t)in->disp : (uint32_t)in->disp);
			else
				xlea(b, w8, dh, xmi(base, index, index == NOREG ? 1 : in->scale, (int32_t)in->disp));
		}
		if (d == NOREG)
			xstore(b, true, GPR(o0->reg), RCX);
		return;
	}
	if (setcc_cc(m) >= 0) {
		int d = H(t, o0->reg);
		unsigned op = 0x0f90u | (unsigned)setcc_cc(m);
		if (d != NOREG) {
			xrex(b, false, 0, 0, d, true); /* REX: SPL..DIL, never AH..BH */
			x1(b, 0x0f);
			x1(b, (uint8_t)op);
			x1(b, (uint8_t)(0xc0 | (d & 7)));
		} else {
			xop_rm(b, false, op, 0, GPR(o0->reg)); /* the low byte of gpr[] */
		}
		return;
	}
	if (m == ZYDIS_MNEMONIC_XCHG) {
		int a = H(t, o0->reg), c2 = H(t, o1->reg);
		if (a != NOREG)
			xmov_rr(b, w8, RAX, a);
		else
			xload(b, w8, RAX, GPR(o0->reg));
		if (c2 != NOREG)
			xmov_rr(b, w8, RCX, c2);
		else
			xload(b, w8, RCX, GPR(o1->reg));
		if (a != NOREG)
			xmov_rr(b, true, a, RCX);
		else
			xstore(b, true, GPR(o0->reg), RCX);
		if (c2 != NOREG)
			xmov_rr(b, true, c2, RAX);
		else
			xstore(b, true, GPR(o1->reg), RAX);
		return;
	}
	if (m == ZYDIS_MNEMONIC_IMUL) {
		int d = H(t, o0->reg), sh = H(t, o1->reg);
		int dh = d == NOREG ? RAX : d;
		if (sh != NOREG)
			xmov_rr(b, true, RCX, sh);
		else
			xload(b, true, RCX, GPR(o1->reg));
		if (d == NOREG && in->nops == 2)
			xload(b, w8, RAX, GPR(o0->reg));
		emit_imul(b, in, dh, RCX);
		if (d == NOREG)
			xstore(b, true, GPR(o0->reg), RAX);
		return;
	}
	if (is_ext(m) || cmov_cc(m) >= 0) {
		/* the source register into rcx, then one host MOVZX/MOVSX/MOVSXD/CMOVcc */
		int d = H(t, o0->reg), sh = H(t, o1->reg);
		int dh = d == NOREG ? RAX : d;
		if (sh != NOREG)
			xmov_rr(b, true, RCX, sh);
		else
			xload(b, true, RCX, GPR(o1->reg));
		if (cmov_cc(m) >= 0) {
			if (d == NOREG)
				xload(b, true, RAX, GPR(o0->reg));
			xop_rr(b, w8, 0x0f40u | (unsigned)cmov_cc(m), dh, RCX);
		} else if (m == ZYDIS_MNEMONIC_MOVZX) {
			xop_rr(b, false, o1->size == 1 ? 0x0fb6 : 0x0fb7, dh, RCX);
		} else if (m == ZYDIS_MNEMONIC_MOVSX) {
			xop_rr(b, w8, o1->size == 1 ? 0x0fbe : 0x0fbf, dh, RCX);
		} else {
			xop_rr(b, true, 0x63, dh, RCX);
		}
		if (d == NOREG)
			xstore(b, true, GPR(o0->reg), RAX);
		return;
	}
	if (m == ZYDIS_MNEMONIC_MOV) {
		int d = H(t, o0->reg);
		int dh = d == NOREG ? RAX : d;
		if (o1->kind == OK_IMM) {
			xmov_ri(b, dh, w8 ? in->imm : (uint32_t)in->imm);
		} else {
			int s = H(t, o1->reg);
			if (s != NOREG)
				xmov_rr(b, w8, dh, s);
			else
				xload(b, w8, dh, GPR(o1->reg));
		}
		if (d == NOREG)
			xstore(b, true, GPR(o0->reg), RAX);
		return;
	}
	int d = H(t, o0->reg);
	int dh = d == NOREG ? RAX : d;
	bool writes = true;
	if (d == NOREG)
		xload(b, w8, RAX, GPR(o0->reg));
	int n = alu_n(m);
	if (n >= 0) {
		writes = n != 7 && n != 8;
		if (o1->kind == OK_IMM) {
			if (n == 8) {
				xrex(b, w8, 0, 0, dh, false);
				x1(b, 0xf7);
				x1(b, (uint8_t)(0xc0 | (dh & 7)));
				x4(b, (uint32_t)in->imm);
			} else {
				xalu_ri(b, w8, (unsigned)n, dh, (int32_t)in->imm);
			}
		} else {
			unsigned opc = n == 8 ? 0x85 : (unsigned)(n * 8 + 1);
			int s = H(t, o1->reg);
			if (s != NOREG)
				xop_rr(b, w8, opc, s, dh);
			else
				xop_rm(b, w8, n == 8 ? 0x85 : opc + 2, dh, GPR(o1->reg));
		}
	} else if (m == ZYDIS_MNEMONIC_INC || m == ZYDIS_MNEMONIC_DEC) {
		xgrp_r(b, w8, 0xff, m == ZYDIS_MNEMONIC_DEC, dh);
	} else if (m == ZYDIS_MNEMONIC_NEG || m == ZYDIS_MNEMONIC_NOT) {
		xgrp_r(b, w8, 0xf7, m == ZYDIS_MNEMONIC_NEG ? 3 : 2, dh);
	} else {
		unsigned sn = (unsigned)shift_n(m);
		if (in->nops == 1) {
			xgrp_r(b, w8, 0xd1, sn, dh);
		} else if (o1->kind == OK_IMM) {
			xgrp_r(b, w8, 0xc1, sn, dh);
			x1(b, (uint8_t)in->imm);
		} else {
			int s = H(t, HVX_RCX);
			if (s != NOREG)
				xmov_rr(b, false, RCX, s);
			else
				xload(b, false, RCX, GPR(HVX_RCX));
			xgrp_r(b, w8, 0xd3, sn, dh);
		}
	}
	if (writes && d == NOREG)
		xstore(b, true, GPR(o0->reg), RAX);
}

/* Count guest-register uses and give the most used ones host registers for the block. */
static void alloc_regs(struct tr *t, const struct emu_insn *in, unsigned k)
{
	unsigned uses[16] = {0};
	for (unsigned i = 0; i < k; i++, in++) {
		unsigned m = in->mnem;
		if (m == ZYDIS_MNEMONIC_PUSH || m == ZYDIS_MNEMONIC_POP || m == ZYDIS_MNEMONIC_CALL ||
		    m == ZYDIS_MNEMONIC_RET)
			uses[HVX_RSP] += 2;
		for (unsigned o = 0; o < in->nops; o++)
			if (in->op[o].kind == OK_REG && in->op[o].reg < 16)
				uses[in->op[o].reg] += 2;
		if (in->memop != 0xff || m == ZYDIS_MNEMONIC_LEA) {
			if (in->base < 16)
				uses[in->base] += 2;
			if (in->index < 16)
				uses[in->index] += 2;
		}
	}
	memset(t->hmap, NOREG, sizeof t->hmap);
	t->ncached = 0;
	while (t->ncached < NCACHE) {
		unsigned best = 16, bu = 3; /* at least two uses */
		for (unsigned g = 0; g < 16; g++)
			if (uses[g] > bu) {
				bu = uses[g];
				best = g;
			}
		if (best == 16)
			break;
		uses[best] = 0;
		t->hmap[best] = (int8_t)cache_regs[t->ncached];
		t->cached[t->ncached++] = (uint8_t)best;
	}
}

/* Translate the block; returns its code or NULL (nothing translatable / no room). */
static const uint8_t *translate(struct emu_cpu *c, struct emu_jit *j, const struct emu_insn *ins, unsigned n,
				struct jit_tb *tb)
{
	uint64_t rip = c->s->rip;
	unsigned k = 0;
	uint64_t r = rip;
	for (; k < n; k++) {
		if (!supported(&ins[k], r))
			break;
		r += ins[k].len;
		if (is_branch_end(ins[k].mnem) || is_insn_exit(ins[k].mnem)) {
			k++;
			break;
		}
	}
	/* A short straight-line prefix before an instruction the JIT cannot do is cheaper in the interpreter than an
	 * entry into and exit from translated code. */
	if (!k || (k < n && k < 6 && !is_branch_end(ins[k - 1].mnem) && !is_insn_exit(ins[k - 1].mnem)))
		return NULL;
	static __thread struct tr t;
	memset(&t, 0, sizeof t);
	t.c = c;
	t.j = j;
	t.ins = ins;
	t.rip0 = rip;
	t.tb = tb;
	t.k = k;
	uint8_t *start = j->code + j->used;
	t.b.p = start;
	/* W^X without a second view: only the pages this translation may write become writable (not executable) */
	j->wlo = j->used & ~(size_t)4095;
	j->wlen = JIT_CODE_SIZE - j->wlo < JIT_BLOCK_ROOM + 4096 ? JIT_CODE_SIZE - j->wlo : JIT_BLOCK_ROOM + 4096;
	t.b.end = j->code + j->wlo + j->wlen;
	if (j->dual) {
		j->wlen = 0;
	} else if (mprotect(j->code + j->wlo, j->wlen, PROT_READ | PROT_WRITE)) {
		j->wlen = 0;
		return NULL;
	}
	alloc_regs(&t, ins, k);
	reload(&t);
	t.body = t.b.p;
	r = rip;
	const struct emu_insn *last = &ins[k - 1];
	for (unsigned i = 0; i < k; i++) {
		const struct emu_insn *in = &ins[i];
		uint64_t next = r + in->len;
		unsigned m = in->mnem;
		if (m == ZYDIS_MNEMONIC_NOP) {
		} else if (m == ZYDIS_MNEMONIC_PUSH || (m == ZYDIS_MNEMONIC_CALL && !is_indirect(in))) {
			mem_access(&t, in, i, r, true, 8, true);
		} else if (m == ZYDIS_MNEMONIC_POP || m == ZYDIS_MNEMONIC_RET) {
			mem_access(&t, in, i, r, false, 8, true);
		} else if (is_indirect(in)) {
			/* JMP/CALL through memory: the target load (into rax); through a register: at the block end */
			if (in->op[0].kind == OK_MEM)
				mem_access(&t, in, i, r, false, 8, false);
		} else if (m == ZYDIS_MNEMONIC_MOV && in->op[0].kind == OK_MEM) {
			mem_access(&t, in, i, r, true, in->op[0].size, false);
		} else if (is_rmw(in)) {
			mem_access(&t, in, i, r, false, in->op[0].size, false);
		} else if (in->memop != 0xff && m != ZYDIS_MNEMONIC_LEA && m != ZYDIS_MNEMONIC_NOP) {
			mem_access(&t, in, i, r, false, in->op[in->memop].size, false);
		} else if (jcc_cc(m) >= 0 || m == ZYDIS_MNEMONIC_JMP || is_insn_exit(m)) {
			/* handled below as the block end */
		} else {
			emit_alu(&t, in, next);
		}
		r = next;
	}
	/* Block end: count the instructions, then leave or chain. */
	struct xbuf *b = &t.b;
	unsigned lm = last->mnem;
	uint64_t end_rip = r;
	if (is_insn_exit(lm)) {
		/* the handler, with the state an exit or fault out of it needs (the block's instructions before it
		 * retired, RIP at it), then: leave (an exit), stop here (c->stop: an I/O SMI is due), or go on */
		uint64_t at = end_rip - last->len;
		flags_save(b);
		writeback(&t);
		commit_icount(b);
		xmov_ri(b, RAX, at);
		xstore(b, true, xm(RBX, OFF_G(rip)), RAX);
		xmov_ri(b, RSI, (uint64_t)(uintptr_t)last);
		xstore(b, true, xm(R12, OFF_C(cur)), RSI);
		xmov_ri(b, RAX, (uint64_t)(uintptr_t)t.ins);
		xstore(b, true, xm(R12, OFF_C(blk_first)), RAX);
		xmov_ri(b, RAX, end_rip);
		xstore(b, true, xm(R12, OFF_C(next_rip)), RAX);
		/*
		 * The instruction's own handler runs as the interpreter loop runs it (c->exit_by_return set), so the
		 * checks, their order and the exit record are the interpreter's. An exit is taken by returning: the
		 * handler recorded it (c->exit_returned), the instructions before it in the block are counted, and
		 * translated code returns to jit_exec, which tells the run loop to leave the run (a longjmp past these
		 * frames costs about 15 ns in mispredicted returns). Without an exit the instruction completed: RIP =
		 * c->next_rip. A fault longjmps as from any helper. Inline rather than through a C helper: it runs at
		 * every exit of a loop whose IN, OUT or CPUID exits each iteration.
		 */
		_Static_assert(offsetof(struct emu_insn, fn) == 0, "call [rsi] calls in->fn");
		xop_rm(b, false, 0xc6, 0, xm(R12, OFF_C(exit_by_return)));
		x1(b, 1);                                  /* mov byte [exit_by_return], 1 */
		xmov_rr(b, true, RDI, R12);
		xop_rm(b, false, 0xff, 2, xm(RSI, 0));     /* call [rsi]: in->fn(c, in) */
		xop_rm(b, false, 0xc6, 0, xm(R12, OFF_C(exit_by_return)));
		x1(b, 0);
		xop_rm(b, true, 0xc7, 0, xm(R12, OFF_C(blk_first)));
		x4(b, 0);                                  /* blk_first = NULL */
		xop_rm(b, false, 0x80, 7, xm(R12, OFF_C(exit_returned)));
		x1(b, 0);                                  /* cmp byte [exit_returned], 0 */
		uint8_t *go_on = xjcc32(b, 4);             /* je: no exit */
		if (k > 1) {
			xmov_ri(b, RAX, k - 1);
			xop_rm(b, true, 0x01, RAX, xm(R12, OFF_C(icount))); /* the instructions before it retired */
		}
		xpatch(xjmp32(b), t.j->epilogue);
		xpatch(go_on, b->p);
		xload(b, true, RAX, xm(R12, OFF_C(next_rip)));
		xstore(b, true, xm(RBX, OFF_G(rip)), RAX);
		reload(&t);
		flags_load(b);
		xop_rm(b, false, 0x0fb6, RCX, xm(R12, OFF_C(stop)));
		struct stub *ex = exit_stub(&t, end_rip, NULL);
		ex->flags_stored = 1;
		ex->icount_add = k;
		site(ex, xjmp_unless_rcx0(b));
	}
	if (!is_indirect(last))
		retire(&t, k);
	if (jcc_cc(lm) >= 0) {
		uint8_t *taken = xjcc32(b, (unsigned)jcc_cc(lm));
		chain(&t, end_rip);
		xpatch(taken, b->p);
		chain(&t, end_rip + last->imm);
	} else if ((lm == ZYDIS_MNEMONIC_JMP || lm == ZYDIS_MNEMONIC_CALL) && !is_indirect(last)) {
		chain(&t, end_rip + last->imm);
	} else if (is_indirect(last)) {
		/* rax = the target (popped, loaded, or from the register): link check against the block's slot, else
		 * the helper validates it */
		struct jit_slot *slot = &tb->slot[0];
		if (last->op[0].kind == OK_REG && lm != ZYDIS_MNEMONIC_RET) {
			t.retmiss = new_stub(&t, S_RETMISS);
			t.retmiss->in = last;
			t.retmiss->rip = end_rip - last->len;
			int h = H(&t, last->op[0].reg);
			if (h != NOREG)
				xmov_rr(b, true, RAX, h);
			else
				xload(b, true, RAX, GPR(last->op[0].reg));
		}
		struct stub *miss = t.retmiss;
		t.nslots = 1;
		xmov_ri(b, RDI, (uint64_t)(uintptr_t)slot);
		xload(b, false, RSI, xm(R12, OFF_C(link_gen)));
		xgrp_r(b, false, 0xf7, 2, RSI);
		xload(b, false, RCX, xm(RDI, (int32_t)offsetof(struct jit_slot, gen)));
		xlea(b, false, RCX, xmi(RCX, RSI, 1, 1));
		site(miss, xjmp_unless_rcx0(b));
		xload(b, true, RCX, xm(RDI, (int32_t)offsetof(struct jit_slot, la)));
		xgrp_r(b, true, 0xf7, 2, RCX);
		xlea(b, true, RCX, xmi(RCX, RAX, 1, 1));
		site(miss, xjmp_unless_rcx0(b));
		if (lm == ZYDIS_MNEMONIC_RET) {
			int hs = H(&t, HVX_RSP);
			if (hs != NOREG) {
				xlea(b, true, hs, xm(hs, 8));
			} else {
				xload(b, true, RCX, GPR(HVX_RSP));
				xlea(b, true, RCX, xm(RCX, 8));
				xstore(b, true, GPR(HVX_RSP), RCX);
			}
		} else if (lm == ZYDIS_MNEMONIC_CALL) {
			/* the target is the linked one (so canonical): now the push of the return address */
			t.ind_call = true;
			mem_access(&t, last, k - 1, end_rip - last->len, true, 8, true);
			xmov_ri(b, RDI, (uint64_t)(uintptr_t)slot);
			xload(b, true, RAX, xm(RDI, (int32_t)offsetof(struct jit_slot, la)));
		}
		retire(&t, k);
		struct stub *ex = exit_stub(&t, 0, NULL);
		ex->rip_in_rax = 1;
		duties(&t, ex);
		writeback(&t);
		xop_rm(b, false, 0xff, 4, xm(RDI, (int32_t)offsetof(struct jit_slot, code)));
	} else if (is_insn_exit(lm) || (k == n && !(last->ends_block))) {
		chain(&t, end_rip);
	} else {
		struct stub *ex = exit_stub(&t, end_rip, NULL);
		site(ex, xjmp32(b));
	}
	/* Out-of-line stubs (slow paths, exits); they may add more exits, so iterate by index. */
	for (unsigned i = 0; i < t.nst && !t.fail && !b->full; i++) {
		struct stub *s = &t.st[i];
		s->addr = b->p;
		if (s->kind == S_SLOW) {
			emit_slow_stub(&t, s);
		} else if (s->kind == S_RETMISS) {
			/* RET / indirect JMP / CALL whose target is not the linked one: RSP unchanged, rax = target */
			xmov_rr(b, true, RSI, RAX);
			flags_save(b);
			writeback(&t);
			commit_icount(b);
			xmov_ri(b, RAX, s->rip);
			xstore(b, true, xm(RBX, OFF_G(rip)), RAX);
			xmov_ri(b, RAX, (uint64_t)(uintptr_t)s->in);
			xstore(b, true, xm(R12, OFF_C(cur)), RAX);
			xmov_ri(b, RAX, (uint64_t)(uintptr_t)t.ins);
			xstore(b, true, xm(R12, OFF_C(blk_first)), RAX);
			xmov_ri(b, RAX, s->rip + s->in->len);
			xstore(b, true, xm(R12, OFF_C(next_rip)), RAX);
			unsigned kind = s->in->mnem == ZYDIS_MNEMONIC_RET ? 0 : s->in->mnem == ZYDIS_MNEMONIC_JMP ? 1 : 2;
			xmov_ri(b, RDX, (uint64_t)(uintptr_t)&tb->slot[0]);
			xmov_ri(b, RCX, k | kind << 8);
			xmov_ri(b, R8, s->rip + s->in->len);
			xmov_rr(b, true, RDI, R12);
			xcall_abs(b, (const void *)jit_h_indirect);
			xpatch(xjmp32(b), t.j->epilogue);
		} else {
			emit_exit_stub(&t, s);
		}
	}
	for (unsigned i = 0; i < t.nst; i++)
		if (t.st[i].nsites > 4)
			t.fail = true;
	if (t.fail || b->full)
		return NULL;
	for (unsigned i = 0; i < t.nst; i++)
		for (unsigned q = 0; q < t.st[i].nsites; q++)
			xpatch(t.st[i].sites[q], t.st[i].addr);
	j->used = (size_t)(b->p - j->code + 15) & ~(size_t)15;
	__builtin___clear_cache((char *)start, (char *)b->p);
	return j->xcode + (start - j->code); /* where it runs */
}

/* ---- the code cache ---- */

static bool host_ok(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !((b >> 8) & 1))
		return false; /* BMI2 (SHLX/SHRX for the flag-free TLB probe) */
	if (!__get_cpuid(0x80000001, &a, &b, &c, &d))
		return false;
	return c & 1; /* LAHF/SAHF in 64-bit mode (the flag load) */
}

bool jit_wanted(void)
{
	const char *e = getenv("HVX_EMU_JIT");
	if (e && e[0] == '0')
		return false;
	/* CPUID once per process: in a virtual machine each CPUID is a VM exit (it cost 16 us per vCPU creation) */
	static _Atomic int host = -1;
	int h = atomic_load_explicit(&host, memory_order_relaxed);
	if (h < 0) {
		h = host_ok() ? 1 : 0;
		atomic_store_explicit(&host, h, memory_order_relaxed);
	}
	return h;
}

/* The host flags from the LAHF/SETO image emit_relink keeps in rbp (ah = SF ZF AF PF CF, al = OF). Clobbers rax. */
static void flags_from_lahf(struct xbuf *b)
{
	xmov_rr(b, false, RAX, RBP);
	x1(b, 0x04);
	x1(b, 0x7f); /* add al, 0x7f: OF = the saved OF */
	x1(b, 0x9e); /* sahf: SF ZF AF PF CF */
}

/*
 * A direct link not made in this run, reached by a jump from the translation that exits through it with rdi = the
 * slot, its registers written back and the guest's flags in the host's. One copy per code cache: it needs nothing of
 * the translation but the slot (la is the RIP of the exit), so every such exit costs a translation five bytes.
 *
 * First the common renewal, without a call and without touching the host (= guest) flags: every test is a difference
 * made by LEA (or a byte loaded zero-extended) and JRCXZ, the byte comparison SSE2 (which leaves RFLAGS alone; nothing
 * in translated code lives in XMM registers, which the helpers it calls clobber anyway). It renews the link only
 * when what jit_h_relink would check holds:
 * - c->code_dirty clear (as there) and c->blk_ctl clear: virtual-interrupt delivery off (so no virtual interrupt
 *   can be pending: the helper's apicv_virq_ready test), no window exiting, no instruction budget (both at once
 *   when the run has no deadline either: blk_due, code_dirty and blk_static in one word);
 * - c->jc_tag64 as when jit_h_relink last renewed this link and set the slot's data (-slot->ntag; 0 when it did not
 *   or failed since): no jump-cache generation or mode change since (a TLB flush or INVLPG, a CS load, a new code
 *   page, dropped decoded blocks: code_flush moves it too, so the code cache cannot have been flushed under the slot
 *   either), where the helper compares the jump-cache entry;
 * - la's TLB entry holds la's page for execution now and maps it to the guest-physical page of the block
 *   (chk->inline_page, ~0 when the block is longer than 16 bytes, lies within 16 bytes of its page's end, or was
 *   found rewritten: then never), so its host page is the block's memory;
 * - the 16 bytes there equal the block's over its length (PCMPEQB after bytes past it were made 0xff), as
 *   bc_current compares them;
 * then the block is marked compared in this run (its epoch) and the link made (gen), and it jumps to the target.
 * Anything else goes to jit_h_relink as before: made there if it can be, else back to the run loop. The host flags
 * wait in rbp meanwhile (rbp and r14, free after the write-back until the target block loads its own registers, are
 * callee-saved, and the epilogue restores the host's) as LAHF and SETO leave them (ah = SF ZF AF PF CF, al = OF):
 * three instructions each way instead of PUSHF/POP and the OF-through-ADD restore from the image. The retired count
 * and the fuel were settled before (the duties at the link).
 */
static void emit_relink(struct emu_jit *j, struct xbuf *b)
{
	uint8_t *fail[6];
	unsigned n = 0;
#define SL(f) xm(RDI, (int32_t)offsetof(struct jit_slot, f))
	/* code_dirty and blk_static in one word first: blk_static (blk_ctl, or a deadline) is clear in the common run */
	xop_rm(b, false, 0x0fb7, RCX, xm(R12, OFF_C(blk_due))); /* movzx ecx, word [blk_due] */
	x1(b, 0xe3);                                            /* jrcxz quiet */
	x1(b, 0);
	uint8_t *quiet = b->p;
	xop_rm(b, false, 0x0fb6, RCX, xm(R12, OFF_C(code_dirty)));
	fail[n++] = xjmp_unless_rcx0(b);
	xop_rm(b, false, 0x0fb6, RCX, xm(R12, OFF_C(blk_ctl)));
	fail[n++] = xjmp_unless_rcx0(b);
	if (!b->full)
		quiet[-1] = (uint8_t)(b->p - quiet);
	xload(b, true, RCX, xm(R12, OFF_C(jc_tag64)));
	xload(b, true, RAX, SL(ntag));
	xlea(b, true, RCX, xmi(RCX, RAX, 1, 0));
	fail[n++] = xjmp_unless_rcx0(b);
	xload(b, true, RDX, SL(tlbe));
	xload(b, true, RCX, xm(RDX, (int32_t)offsetof(struct emu_tlb_entry, tag_x)));
	xload(b, true, RAX, SL(ntagx));
	xlea(b, true, RCX, xmi(RCX, RAX, 1, 0));
	fail[n++] = xjmp_unless_rcx0(b);
	xload(b, true, RSI, SL(chk));
	xload(b, true, RAX, xm(RSI, (int32_t)offsetof(struct emu_code_check, inline_page)));
	xgrp_r(b, true, 0xf7, 2, RAX); /* not rax */
	xload(b, true, RCX, xm(RDX, (int32_t)offsetof(struct emu_tlb_entry, gpa)));
	xlea(b, true, RCX, xmi(RCX, RAX, 1, 1));
	fail[n++] = xjmp_unless_rcx0(b);
	xload(b, true, RAX, xm(RDX, (int32_t)offsetof(struct emu_tlb_entry, host)));
	xload(b, true, RCX, SL(laoff));
	x1(b, 0xf3);
	xop_rm(b, false, 0x0f6f, 0, xmi(RAX, RCX, 1, 0)); /* movdqu xmm0, [rax + rcx] */
	x1(b, 0x66);
	xop_rm(b, false, 0x0feb, 0, SL(pad));            /* por xmm0, [rdi + pad] */
	x1(b, 0x66);
	xop_rm(b, false, 0x0f74, 0, SL(head));           /* pcmpeqb xmm0, [rdi + head] */
	x1(b, 0x66);
	xop_rr(b, false, 0x0fd7, RCX, 0);                /* pmovmskb ecx, xmm0 */
	xlea(b, false, RCX, xm(RCX, -0xffff));
	fail[n++] = xjmp_unless_rcx0(b);
	xload(b, false, RAX, xm(R12, OFF_C(run_epoch)));
	xstore(b, false, xm(RSI, (int32_t)offsetof(struct emu_code_check, epoch)), RAX);
	xload(b, false, RAX, xm(R12, OFF_C(link_gen)));
	xstore(b, false, SL(gen), RAX);
	xop_rm(b, false, 0xff, 4, SL(code)); /* jmp [rdi + code] */
#undef SL
	for (unsigned i = 0; i < n; i++)
		xpatch(fail[i], b->p);
	x1(b, 0x9f); /* lahf */
	x1(b, 0x0f);
	x1(b, 0x90);
	x1(b, 0xc0); /* seto al */
	xmov_rr(b, false, RBP, RAX);
	xmov_rr(b, true, R14, RDI);
	xmov_rr(b, true, RSI, RDI);
	xmov_rr(b, true, RDI, R12);
	xcall_abs(b, (const void *)jit_h_relink);
	xop_rr(b, true, 0x85, RAX, RAX); /* test rax, rax */
	uint8_t *no = xjcc32(b, 4);
	xmov_rr(b, true, RDX, RAX);
	flags_from_lahf(b);
	x1(b, 0xff);
	x1(b, 0xe2); /* jmp rdx */
	xpatch(no, b->p);
	/* back to the run loop at la: the guest's flags into the host's, then saved into RFLAGS as at any exit */
	flags_from_lahf(b);
	flags_save(b);
	xload(b, true, RAX, xm(R14, (int32_t)offsetof(struct jit_slot, la)));
	xstore(b, true, xm(RBX, OFF_G(rip)), RAX);
	commit_icount(b);
	xpatch(xjmp32(b), j->epilogue);
}

/* The fixed entry and exit code at the start of the cache. */
static void emit_base(struct emu_jit *j)
{
	struct xbuf b = {j->code, j->code + 4096, false};
	j->enter = (void (*)(struct emu_cpu *, uint64_t *, const uint8_t *))(void *)j->xcode;
	xpush(&b, RBX);
	xpush(&b, RBP);
	xpush(&b, R12);
	xpush(&b, R13);
	xpush(&b, R14);
	xpush(&b, R15);
	xalu_ri(&b, true, 5, RSP, 8); /* keep rsp 16-byte aligned for helper calls */
	xmov_rr(&b, true, R12, RDI);
	xmov_rr(&b, true, RBX, RSI);
	xmov_ri(&b, R13, 12);
	xload(&b, true, R15, xm(R12, OFF_C(jit_fuel)));
	flags_load(&b);
	x1(&b, 0xff);
	x1(&b, 0xe2); /* jmp rdx */
	b.p = (uint8_t *)(((uintptr_t)b.p + 15) & ~(uintptr_t)15);
	j->epilogue = b.p;
	xalu_ri(&b, true, 0, RSP, 8);
	xpop(&b, R15);
	xpop(&b, R14);
	xpop(&b, R13);
	xpop(&b, R12);
	xpop(&b, RBP);
	xpop(&b, RBX);
	x1(&b, 0xc3);
	b.p = (uint8_t *)(((uintptr_t)b.p + 15) & ~(uintptr_t)15);
	j->relink = b.p;
	emit_relink(j, &b);
	j->base_used = (size_t)(b.p - j->code + 15) & ~(size_t)15;
	j->used = j->base_used;
}

static void jit_flush(struct emu_cpu *c, struct emu_jit *j)
{
	memset(j->hash, 0, sizeof j->hash);
	j->ntb = 0;
	j->used = j->base_used;
	j->code_gen = c->code_gen;
	j->last = NULL;
	j->fuel = FUEL_FLOOR + (c->budget ? 0 : JIT_FUEL); /* the budget is fixed when the vCPU is made */
	c->jit_slot = NULL;
}

/* Code caches of destroyed vCPUs kept for the next ones (creating one is a memfd, two 8-MiB mappings and a page of
 * entry code: about 30 us, most of a short VM's lifecycle). Their old translations are unreachable once flushed. */
#define JIT_POOL 4
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct emu_jit *pool[JIT_POOL];
static unsigned pool_n;

static struct emu_jit *jit_create(struct emu_cpu *c)
{
	pthread_mutex_lock(&pool_lock);
	struct emu_jit *j = pool_n ? pool[--pool_n] : NULL;
	pthread_mutex_unlock(&pool_lock);
	if (j) {
		jit_flush(c, j);
		return j;
	}
	j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	/* Mapped, not calloc'ed: zero pages on demand. After the first free of a block this size glibc serves the next
	 * calloc from the heap and clears all 2 MiB (it was a quarter of a VM lifecycle). */
	void *tbs = mmap(NULL, JIT_TB_MAX * sizeof *j->tbs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tbs == MAP_FAILED) {
		free(j);
		return NULL;
	}
	j->tbs = tbs;
	/*
	 * W^X through two views of one memory file: written only through a read-write mapping, run only through a
	 * read+execute one, so no page is ever writable and executable and no mprotect (VMA split, TLB shootdown to the
	 * VMM's other threads) is needed per translation. Without memfd: one mapping flipped with mprotect.
	 */
	int fd = memfd_create("hvx-emu-jit", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, JIT_CODE_SIZE) == 0) {
		void *w = mmap(NULL, JIT_CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		void *x = w == MAP_FAILED ? MAP_FAILED : mmap(NULL, JIT_CODE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
		if (x != MAP_FAILED) {
			j->code = w;
			j->xcode = x;
			j->dual = true;
		} else if (w != MAP_FAILED) {
			munmap(w, JIT_CODE_SIZE);
		}
	}
	if (fd >= 0)
		close(fd);
	if (!j->dual) {
		void *m = mmap(NULL, JIT_CODE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			munmap(j->tbs, JIT_TB_MAX * sizeof *j->tbs);
			free(j);
			return NULL;
		}
		j->code = j->xcode = m;
	}
	emit_base(j);
	if (!j->dual && mprotect(j->code, JIT_CODE_SIZE, PROT_READ | PROT_EXEC)) {
		munmap(j->code, JIT_CODE_SIZE);
		munmap(j->tbs, JIT_TB_MAX * sizeof *j->tbs);
		free(j);
		return NULL;
	}
	jit_flush(c, j);
	return j;
}

void jit_destroy(struct emu_cpu *c)
{
	struct emu_jit *j = c->jit;
	if (!j)
		return;
	c->jit = NULL;
	c->jit_slot = NULL;
	pthread_mutex_lock(&pool_lock);
	bool kept = pool_n < JIT_POOL;
	if (kept)
		pool[pool_n++] = j;
	pthread_mutex_unlock(&pool_lock);
	if (kept)
		return;
	munmap(j->code, JIT_CODE_SIZE);
	if (j->dual)
		munmap(j->xcode, JIT_CODE_SIZE);
	munmap(j->tbs, JIT_TB_MAX * sizeof *j->tbs);
	free(j);
}

/* HVX_EMU_JIT_PERFMAP=1: name each translation "guest_<rip>" in /tmp/perf-<pid>.map for perf. */
static void perf_map(const uint8_t *code, size_t size, uint64_t rip)
{
	static int on = -1;
	static FILE *f;
	if (on < 0) {
		const char *e = getenv("HVX_EMU_JIT_PERFMAP");
		on = e && e[0] == '1';
		if (on) {
			char path[64];
			snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
			f = fopen(path, "a");
			on = f != NULL;
		}
	}
	if (on) {
		fprintf(f, "%lx %zx guest_%llx\n", (unsigned long)(uintptr_t)code, size, (unsigned long long)rip);
		fflush(f);
	}
}

/* A new translation of the block at RIP (out of line: jit_exec's common path finds one). */
static __attribute__((noinline)) struct jit_tb *tb_new(struct emu_cpu *c, struct emu_jit *j, const struct emu_insn *in,
							unsigned n, unsigned h)
{
	if (j->ntb >= JIT_TB_MAX || j->used + JIT_BLOCK_ROOM > JIT_CODE_SIZE) {
		jit_flush(c, j);
		h = (unsigned)(((uintptr_t)in >> 4) ^ ((uintptr_t)in >> 17)) & (JIT_HASH - 1);
	}
	struct jit_tb *tb = &j->tbs[j->ntb];
	memset(tb, 0, sizeof *tb);
	tb->key = in;
	tb->chk = bc_check_of(in); /* tb_get: a block of the cache */
	tb->rip = c->s->rip;
	tb->code = translate(c, j, in, n, tb);
	if (tb->code) {
		atomic_fetch_add_explicit(&jit_stat_translated, 1, memory_order_relaxed);
		perf_map(tb->code, (size_t)(j->xcode + j->used - tb->code), c->s->rip);
	}
	/* W^X: those pages are executable and read-only again before anything runs */
	if (j->wlen && mprotect(j->code + j->wlo, j->wlen, PROT_READ | PROT_EXEC))
		tb->code = NULL;
	j->wlen = 0;
	j->ntb++;
	tb->next = j->hash[h];
	j->hash[h] = tb;
	return tb;
}

/* The translation of the block at RIP, made now if there is none; NULL for a one-off decode (not a block of the
 * cache: its slot is reused by the next one), which is never translated, so one found here is a cached block. */
static inline struct jit_tb *tb_get(struct emu_cpu *c, struct emu_jit *j, const struct emu_insn *in, unsigned n)
{
	unsigned h = (unsigned)(((uintptr_t)in >> 4) ^ ((uintptr_t)in >> 17)) & (JIT_HASH - 1);
	for (struct jit_tb *tb = j->hash[h]; tb; tb = tb->next)
		if (tb->key == in && tb->rip == c->s->rip)
			return tb;
	return bc_cached(c->bc, in) ? tb_new(c, j, in, n, h) : NULL;
}

/*
 * jit_exec's lookup when the last entry's translation is not the one: the code cache made or flushed as due, the
 * hash looked up, a translation made. NULL when there is none (the interpreter runs the block). Out of line so that
 * the common entry keeps few registers live across the call into translated code.
 */
static __attribute__((noinline)) struct jit_tb *tb_lookup(struct emu_cpu *c, const struct emu_insn *in, unsigned n)
{
	struct emu_jit *j = c->jit;
	if (!j) {
		j = c->jit = jit_create(c);
		if (!j) {
			c->jit_on = false;
			return NULL;
		}
	}
	if (j->code_gen != c->code_gen)
		jit_flush(c, j);
	struct jit_tb *tb = tb_get(c, j, in, n);
	if (!tb)
		return NULL;
	if (!tb->code) {
		c->jit_slot = NULL;
		((struct emu_insn *)in)->no_jit = 1; /* a block of the cache (bc_cached), which is writable */
		return NULL;
	}
	j->last = tb;
	return tb;
}

/* Run translation tb (the guest's flags materialized in RFLAGS) with a full tank of fuel: jit_exec and
 * jit_enter_quiet. After it, blk_first and stop may be left set by a slow path that returned (the callers clear them
 * when the run goes on). */
static inline void enter_translation(struct emu_cpu *c, struct emu_jit *j, const struct jit_tb *tb)
{
	c->jit_fuel = j->fuel;
	/* no locked add on this path: concurrent vCPUs may lose an increment of this statistic */
	atomic_store_explicit(&jit_stat_entered, atomic_load_explicit(&jit_stat_entered, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	j->enter(c, c->s->gpr, tb->code);
}

bool jit_exec(struct emu_cpu *c, const struct emu_insn *in, unsigned n)
{
	if (c->mode != EM_LONG64 || atomic_load_explicit(&c->events, memory_order_relaxed) ||
	    c->icls[IC_IRQ_WND] || c->icls[IC_NMI_WND] || c->phys ||
	    ((c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY) && apicv_virq_ready(c)))
		return false;
	/* The translation entered last is the one again when a loop comes back through the run loop every run (a VMM
	 * handling an exit per iteration): no hash lookup. It is the hash's answer (same key and RIP, cache not
	 * flushed since: jit_flush clears it, and a flush is due when code_gen moved). */
	struct emu_jit *j = c->jit;
	struct jit_tb *tb;
	if (__builtin_expect(j && j->code_gen == c->code_gen && j->last && j->last->key == in &&
			     j->last->rip == c->s->rip, 1)) {
		tb = j->last;
	} else {
		tb = tb_lookup(c, in, n);
		if (!tb)
			return false;
		j = c->jit;
	}
	if (!c->link_gen)
		c->link_gen = 1;
	struct jit_slot *slot = c->jit_slot;
	if (slot) {
		c->jit_slot = NULL;
		if (slot->la == c->s->rip) {
			slot->code = tb->code;
			slot->ins = in;
			slot->gen = c->link_gen;
			slot->ntag = 0; /* the renewal's data described the block linked before (jit_h_relink sets it anew) */
		}
	}
	if (c->lf_op != LF_NONE)
		emu_flags(c); /* translated code takes the guest's flags from RFLAGS */
	enter_translation(c, j, tb);
	c->blk_first = NULL; /* a slow path that returned: its block's instructions are in icount */
	c->stop = false;
	if (c->deadline_ns != ~0ull && !c->exit_returned) {
		/* The deadline is read every 64 blocks; count 8 translated instructions as a block. The instructions run
		 * are the fuel used (every exit from translated code stores what is left in c->jit_fuel), so nothing but
		 * c stays live across the call above. */
		uint64_t used = c->jit->fuel - c->jit_fuel;
		uint32_t old = c->block_tick;
		c->block_tick += (uint32_t)(used >> 3) + 1;
		if ((old ^ c->block_tick) & ~63u)
			vmx_check_deadline(c);
	}
	return true;
}

int jit_enter_quiet(struct emu_cpu *c)
{
	/*
	 * jit_exec's last-translation test, with what the run loop's jump-cache lookup would establish for RIP shown
	 * directly for the translation's own block: the block's page is the one the TLB maps RIP to and its bytes are
	 * unchanged (bc_same_at: the comparison every block has at its first use in a run; this is the run's first
	 * block, so there is no epoch test; a block found stale never passes it), it was decoded as 64-bit code (the
	 * mode: in 64-bit mode the decode key is fixed), the cache has not been flushed since (code_gen). What
	 * bc_same_at cannot tell (a page the TLB does not hold, or a difference) is left to the loop's lookup and
	 * bc_recheck, so nothing here is live across a call but c. The code_gen test also keeps the translation from
	 * running after a flush reused the decoded blocks' memory its code points into. A link slot to fill
	 * (c->jit_slot) stays for jit_exec, which fills it only for a translation at the slot's own address. The
	 * block's no_jit is not read: it marks a block some other RIP's translation failed for, and this (key, RIP)
	 * has one.
	 */
	struct emu_jit *j = c->jit;
	uint64_t la = c->s->rip;
	struct jit_tb *tb;
	if (!j || !(tb = j->last) || tb->rip != la || c->mode != EM_LONG64 || j->code_gen != c->code_gen ||
	    !bc_same_at(c, la, tb->chk))
		return -1;
	enter_translation(c, j, tb);
	if (c->exit_returned) {
		c->exit_returned = false;
		return 1;
	}
	c->blk_first = NULL; /* as jit_exec after a slow path that returned (no deadline: the route needs none) */
	c->stop = false;
	return 0;
}

#else /* not an x86-64 Linux host: the interpreter only */

bool jit_wanted(void)
{
	return false;
}

bool jit_exec(struct emu_cpu *c, const struct emu_insn *in, unsigned n)
{
	(void)c;
	(void)in;
	(void)n;
	return false;
}

void jit_destroy(struct emu_cpu *c)
{
	(void)c;
}

int jit_enter_quiet(struct emu_cpu *c)
{
	(void)c;
	return -1;
}

#endif
