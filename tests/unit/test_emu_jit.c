/* test_emu_jit.c: the emu JIT tier against the interpreter: random 64-bit loops (ALU, loads/stores, PUSH/POP/CALL/RET, branches, faults) run with HVX_EMU_JIT=1 and =0 must end in the same state, with the same exit fields and instructions retired; kicks end a translated loop; self-modifying code in a translated loop is honoured; a translation serves only its own linear address. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "emu_guest.h"

#if defined(__x86_64__)
#include "backend/emu/jit/jit.h"
#include "backend/emu/jit/x86emit.h"

#define NCASES 1500
#define DATA_SZ 4096
#define FN_OFF 0x800 /* the called function, within the code page */

static uint64_t seed_state;
static uint64_t rnd(void)
{
	seed_state ^= seed_state << 13;
	seed_state ^= seed_state >> 7;
	seed_state ^= seed_state << 17;
	return seed_state;
}

static const int pool[] = {RAX, RCX, RDX, RSI, RDI, RBP, R8, R9, R10, R11, R13, R14};
#define NPOOL (sizeof pool / sizeof pool[0])
static int preg(void)
{
	return pool[rnd() % NPOOL];
}

/* Flag-reading conditions whose flags every generated instruction defines (not OF: shifts and rotates leave it
 * undefined for counts above 1). */
static const unsigned conds[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

/* A data offset from RBX: mostly inside the first page, sometimes an access that crosses into the second (the
 * slow path of the translated code). */
static int32_t doff(void)
{
	return (rnd() % 6 == 0) ? (int32_t)(DATA_SZ - 7 + rnd() % 6) : (int32_t)(rnd() % (DATA_SZ - 8));
}

static void gen_insn(struct xbuf *b, uint8_t *code, bool allow_fault)
{
	bool w = rnd() & 1;
	int r = preg(), s = preg();
	switch (rnd() % 25) {
	case 0: case 1: {
		static const unsigned opc[] = {0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39, 0x85};
		xop_rr(b, w, opc[rnd() % 9], s, r);
		break;
	}
	case 2: {
		unsigned n = (unsigned)(rnd() % 8);
		xalu_ri(b, w, n, r, (rnd() & 1) ? (int32_t)(int8_t)rnd() : (int32_t)rnd());
		break;
	}
	case 3: {
		static const unsigned g[][2] = {{0xff, 0}, {0xff, 1}, {0xf7, 2}, {0xf7, 3}};
		unsigned k = (unsigned)(rnd() % 4);
		xgrp_r(b, w, g[k][0], g[k][1], r);
		break;
	}
	case 4: {
		static const unsigned sn[] = {0, 1, 2, 3, 4, 5, 7};
		unsigned n = sn[rnd() % 7], f = (unsigned)(rnd() % 3);
		if (f == 0) {
			xgrp_r(b, w, 0xc1, n, r);
			x1(b, (uint8_t)(rnd() % 64));
		} else {
			xgrp_r(b, w, f == 1 ? 0xd1 : 0xd3, n, r);
		}
		break;
	}
	case 5:
		if (rnd() & 1)
			xmov_rr(b, w, r, s);
		else
			xmov_ri(b, r, (rnd() & 1) ? rnd() : rnd() & 0xffff);
		break;
	case 6: {
		static const int sc[] = {1, 2, 4, 8};
		xlea(b, w, r, xmi(s, preg(), sc[rnd() % 4], (int32_t)(rnd() % 2000) - 1000));
		break;
	}
	case 7: /* load */
		xload(b, w, r, xm(RBX, doff()));
		break;
	case 8: /* store */
		if (rnd() & 1) {
			xstore(b, w, xm(RBX, doff()), s);
		} else {
			xop_rm(b, w, 0xc7, 0, xm(RBX, doff()));
			x4(b, (uint32_t)rnd());
		}
		break;
	case 9: /* indexed load/store with a small index */
		xmov_ri(b, RDI, rnd() % 64);
		if (rnd() & 1)
			xload(b, true, r, xmi(RBX, RDI, 8, 16));
		else
			xstore(b, true, xmi(RBX, RDI, 8, 16), r);
		break;
	case 10:
		xpush(b, r);
		gen_insn(b, code, false);
		xpop(b, s);
		break;
	case 11: { /* call the function */
		x1(b, 0xe8);
		int32_t rel = (int32_t)(FN_OFF - ((b->p - code) + 4));
		x4(b, (uint32_t)rel);
		break;
	}
	case 12: { /* a forward conditional branch over one instruction */
		uint8_t *at = xjcc32(b, conds[rnd() % 10]);
		gen_insn(b, code, false);
		xpatch(at, b->p);
		break;
	}
	case 13: /* IMUL, SETcc, XCHG; MOVZX; BSWAP (interpreted) */
		switch (rnd() % 3) {
		case 0: /* IMUL (SF/ZF/AF/PF undefined: defined again right after), SETcc, XCHG */
			switch (rnd() % 5) {
			case 0: xop_rr(b, w, 0x0faf, r, s); break;
			case 1: xop_rm(b, w, 0x0faf, r, xm(RBX, doff())); break;
			case 2: xop_rr(b, w, 0x6b, r, s); x1(b, (uint8_t)rnd()); break;
			case 3: xop_rm(b, w, 0x69, r, xm(RBX, doff())); x4(b, (uint32_t)rnd()); break;
			default:
				if (rnd() & 1) {
					xrex(b, false, 0, 0, r, true);
					x1(b, 0x0f);
					x1(b, (uint8_t)(0x90 | conds[rnd() % 10]));
					x1(b, (uint8_t)(0xc0 | (r & 7)));
				} else {
					xop_rr(b, w, 0x87, r, s);
				}
				break;
			}
			xalu_ri(b, true, 0, preg(), (int8_t)rnd()); /* ADD: every flag defined again */
			break;
		case 1: xop_rr(b, false, 0x0fb7, r, s); break;
		default: xrex(b, w, 0, 0, r, false); x1(b, 0x0f); x1(b, (uint8_t)(0xc8 | (r & 7))); break;
		}
		break;
	case 15: { /* ALU reg, [mem]; CMP/TEST [mem], reg/imm */
		static const unsigned opc[] = {0x03, 0x0b, 0x13, 0x1b, 0x23, 0x2b, 0x33, 0x3b, 0x85};
		struct xmem m = xm(RBX, doff());
		switch (rnd() % 4) {
		case 0: case 1: xop_rm(b, w, opc[rnd() % 9], r, m); break;
		case 2: xop_rm(b, w, (rnd() & 1) ? 0x39 : 0x85, r, m); break;
		default:
			if (rnd() & 1) {
				xop_rm(b, w, 0x81, 7, m);
			} else {
				xop_rm(b, w, 0xf7, 0, m);
			}
			x4(b, (uint32_t)rnd());
			break;
		}
		break;
	}
	case 16: { /* MOVZX / MOVSX / MOVSXD from memory or a register */
		static const unsigned opc[] = {0x0fb6, 0x0fb7, 0x0fbe, 0x0fbf, 0x63};
		unsigned o = opc[rnd() % 5];
		bool ww = o == 0x63 ? true : w;
		if (rnd() & 1)
			xop_rm(b, ww, o, r, xm(RBX, doff()));
		else {
			xrex(b, ww, r, 0, s, true); /* REX: byte registers are SPL..R15B, never AH..BH */
			x1(b, 0x0f == (o >> 8) ? 0x0f : (uint8_t)o);
			if (o >> 8)
				x1(b, (uint8_t)o);
			x1(b, (uint8_t)(0xc0 | (r & 7) << 3 | (s & 7)));
		}
		break;
	}
	case 17: { /* CMOVcc reg, reg / [mem] */
		unsigned cc = conds[rnd() % 10];
		if (rnd() & 1)
			xop_rr(b, w, 0x0f40u | cc, r, s);
		else
			xop_rm(b, w, 0x0f40u | cc, r, xm(RBX, doff()));
		break;
	}
	case 18: { /* byte / word loads and stores */
		struct xmem m = xm(RBX, doff());
		bool word = rnd() & 1;
		if (word)
			x1(b, 0x66);
		switch (rnd() % 3) {
		case 0: xrex(b, false, r, 0, RBX, true); x1(b, word ? 0x8b : 0x8a); xmodrm_mem(b, r, m); break;
		case 1: xrex(b, false, r, 0, RBX, true); x1(b, word ? 0x89 : 0x88); xmodrm_mem(b, r, m); break;
		default:
			xop_rm(b, false, word ? 0xc7 : 0xc6, 0, m);
			x1(b, (uint8_t)rnd());
			if (word)
				x1(b, (uint8_t)rnd());
			break;
		}
		break;
	}
	case 19: /* a load through a register holding a data address */
		xlea(b, true, RSI, xm(RBX, (int32_t)(rnd() % 2048)));
		xload(b, w, r == RSI ? RAX : r, xm(RSI, (int32_t)(rnd() % 1024)));
		break;
	case 20: case 21: { /* read-modify-write memory destinations */
		struct xmem m = xm(RBX, doff());
		switch (rnd() % 4) {
		case 0: {
			static const unsigned opc[] = {0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31};
			xop_rm(b, w, opc[rnd() % 7], r, m);
			break;
		}
		case 1:
			if (rnd() & 1) {
				xop_rm(b, w, 0x83, (unsigned)(rnd() % 7), m);
				x1(b, (uint8_t)rnd());
			} else {
				xop_rm(b, w, 0x81, (unsigned)(rnd() % 7), m);
				x4(b, (uint32_t)rnd());
			}
			break;
		case 2: {
			static const unsigned g[][2] = {{0xff, 0}, {0xff, 1}, {0xf7, 2}, {0xf7, 3}};
			unsigned k = (unsigned)(rnd() % 4);
			xop_rm(b, w, g[k][0], g[k][1], m);
			break;
		}
		default: {
			static const unsigned sn[] = {0, 1, 2, 3, 4, 5, 7};
			unsigned f = (unsigned)(rnd() % 3);
			xop_rm(b, w, f == 0 ? 0xc1 : f == 1 ? 0xd1 : 0xd3, sn[rnd() % 7], m);
			if (f == 0)
				x1(b, (uint8_t)(rnd() % 64));
			break;
		}
		}
		break;
	}
	case 22: case 23: { /* indirect CALL / JMP through a register or memory */
		struct xmem m = xm(RBX, (int32_t)(rnd() % (DATA_SZ / 8 - 1)) * 8);
		if (rnd() & 1) {
			xmov_ri(b, r, EG_CODE + FN_OFF);
			if (rnd() & 1) {
				xgrp_r(b, false, 0xff, 2, r);                  /* call r */
			} else {
				xstore(b, true, m, r);
				xop_rm(b, false, 0xff, 2, m);                  /* call [m] */
			}
		} else {
			xmov_ri(b, r, 0x7fffffff);                             /* patched: the target below */
			uint8_t *imm = b->p - 4;
			bool mem = rnd() & 1;
			if (mem) {
				xstore(b, true, m, r);
				xop_rm(b, false, 0xff, 4, m);                  /* jmp [m] */
			} else {
				xgrp_r(b, false, 0xff, 4, r);                  /* jmp r */
			}
			gen_insn(b, code, false);                              /* skipped */
			uint32_t target = EG_CODE + (uint32_t)(b->p - code);
			memcpy(imm, &target, 4);
		}
		if (allow_fault && rnd() % 16 == 0)
			xgrp_r(b, false, 0xff, (rnd() & 1) ? 2 : 4, R15); /* to a non-canonical address: #GP */
		break;
	}
	default:
		if (allow_fault && rnd() % 8 == 0) {
			switch (rnd() % 4) {
			case 0: xload(b, true, r, xm(RBX, 0x200000)); break;       /* not-present page: #PF */
			case 1: xstore(b, true, xm(R15, 8), r); break;              /* non-canonical: #GP */
			case 2: xop_rm(b, true, 0x01, r, xm(RBX, 0x200000)); break; /* read-modify-write: #PF (write) */
			default: xload(b, true, r, xm(RBX, 0x1000000)); break;     /* beyond guest RAM: EPT violation */
			}
		} else {
			xop_rr(b, w, 0x31, s, r);
		}
		break;
	}
}

/* A random program: a counted loop of random instructions, then HLT; the function at FN_OFF pushes, works, pops. */
static void gen_prog(uint8_t *code, uint64_t seed, bool faults)
{
	seed_state = seed * 0x9e3779b97f4a7c15ull + 1;
	memset(code, 0xf4, 4096);
	struct xbuf b = {code, code + FN_OFF - 64, false};
	xmov_ri(&b, R12, 1 + rnd() % 40);
	uint8_t *loop = b.p;
	unsigned k = 1 + (unsigned)(rnd() % 14);
	for (unsigned i = 0; i < k && b.p < code + FN_OFF - 200; i++)
		gen_insn(&b, code, faults);
	xgrp_r(&b, true, 0xff, 1, R12);
	xpatch(xjcc32(&b, 5), loop);
	x1(&b, 0xf4);
	struct xbuf f = {code + FN_OFF, code + 4000, false};
	int a = preg(), d = preg();
	xpush(&f, a);
	xpush(&f, d);
	xop_rr(&f, true, 0x01, d, a);
	xstore(&f, true, xm(RBX, (int32_t)(rnd() % 512) * 8), a);
	xpop(&f, d);
	xpop(&f, a);
	x1(&f, 0xc3);
}

struct result {
	uint64_t gpr[16], rip, rflags, reason, qual, gpa, gla, len, intr, intr_err, idt, icount, mem_hash, stack_hash;
};

static uint64_t hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static const hv_x86_reg_t regs[16] = {HV_X86_RAX, HV_X86_RCX, HV_X86_RDX, HV_X86_RBX, HV_X86_RSP, HV_X86_RBP,
				      HV_X86_RSI, HV_X86_RDI, HV_X86_R8, HV_X86_R9, HV_X86_R10, HV_X86_R11,
				      HV_X86_R12, HV_X86_R13, HV_X86_R14, HV_X86_R15};

static void setup(struct eg *g)
{
	eg_create(g);
	eg_long64(g, EG_CODE);
	eg_put64(g, EG_PD + 8, 0); /* 2..4 MiB not present */
	eg_wr(g, VMCS_CTRL_EXC_BITMAP, 0xffffffff);
}

/* Run to an exit other than IRQ, but at most 10 s: a broken translation that loops forever fails the test. */
static uint64_t run_bounded(struct eg *g)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t end = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 10000000000ull;
	uint64_t r;
	do {
		assert_int_equal(hv_vcpu_run_until(g->vcpu, end), HV_SUCCESS);
		r = eg_rd(g, VMCS_RO_EXIT_REASON);
	} while (r == VMX_REASON_IRQ);
	if (r == VMX_REASON_VMX_TIMER_EXPIRED)
		fail_msg("the program did not finish in 10 s");
	return r;
}

static void run_case(struct eg *g, unsigned i, bool faults, struct result *out)
{
	gen_prog(g->mem + EG_CODE, i, faults);
	seed_state = i * 0x2545f4914f6cdd1dull + 7;
	for (unsigned k = 0; k < 2 * DATA_SZ; k++)
		g->mem[EG_DATA + k] = (uint8_t)rnd();
	memset(g->mem + EG_STACK - 4096, 0, 4096);
	for (int r = 0; r < 16; r++)
		eg_setreg(g, regs[r], (rnd() & 1) ? rnd() : rnd() & 0xff);
	eg_setreg(g, HV_X86_RBX, EG_DATA);
	eg_setreg(g, HV_X86_RSP, EG_STACK);
	eg_setreg(g, HV_X86_R15, 0x8000000000000000ull);
	eg_setreg(g, HV_X86_RIP, EG_CODE);
	eg_setreg(g, HV_X86_RFLAGS, 2 | (rnd() & 0x8d5));
	eg_wr(g, VMCS_GUEST_INTERRUPTIBILITY, 0);
	uint64_t before = hvx_emu_instructions_retired();
	out->reason = run_bounded(g);
	out->icount = hvx_emu_instructions_retired() - before;
	for (int r = 0; r < 16; r++)
		out->gpr[r] = eg_reg(g, regs[r]);
	out->rip = eg_reg(g, HV_X86_RIP);
	out->rflags = eg_reg(g, HV_X86_RFLAGS);
	out->qual = eg_rd(g, VMCS_RO_EXIT_QUALIFIC);
	out->gpa = eg_rd(g, VMCS_GUEST_PHYSICAL_ADDRESS);
	out->intr = eg_rd(g, VMCS_RO_VMEXIT_IRQ_INFO);
	out->intr_err = eg_rd(g, VMCS_RO_VMEXIT_IRQ_ERROR);
	out->idt = eg_rd(g, VMCS_RO_IDT_VECTOR_INFO);
	out->gla = eg_rd(g, VMCS_RO_GUEST_LIN_ADDR);
	out->len = eg_rd(g, VMCS_RO_VMEXIT_INSTR_LEN);
	out->mem_hash = hash(g->mem + EG_DATA, 2 * DATA_SZ);
	out->stack_hash = hash(g->mem + EG_STACK - 4096, 4096);
}

static void campaign(bool faults)
{
	static struct result res[NCASES];
	setenv("HVX_EMU_JIT", "1", 1);
	unsigned long long t0 = jit_stat_translated, e0 = jit_stat_entered;
	struct eg g;
	setup(&g);
	for (unsigned i = 0; i < NCASES; i++)
		run_case(&g, i, faults, &res[i]);
	eg_destroy(&g);
	assert_true(jit_stat_translated - t0 > NCASES / 2); /* the JIT really ran these */
	assert_true(jit_stat_entered - e0 > NCASES);
	setenv("HVX_EMU_JIT", "0", 1);
	setup(&g);
	unsigned long long t1 = jit_stat_translated;
	unsigned hlt = 0, other = 0;
	for (unsigned i = 0; i < NCASES; i++) {
		struct result r;
		run_case(&g, i, faults, &r);
		const struct result *j = &res[i];
		if (r.reason != j->reason || r.rip != j->rip || r.qual != j->qual || r.intr != j->intr ||
		    r.intr_err != j->intr_err || r.idt != j->idt || r.gla != j->gla || r.len != j->len ||
		    (r.reason == VMX_REASON_EPT_VIOLATION && r.gpa != j->gpa))
			fail_msg("case %u: interpreter exit %llu at %#llx (qual %#llx, intr %#llx), JIT exit %llu at %#llx "
				 "(qual %#llx, intr %#llx)", i, (unsigned long long)r.reason, (unsigned long long)r.rip,
				 (unsigned long long)r.qual, (unsigned long long)r.intr, (unsigned long long)j->reason,
				 (unsigned long long)j->rip, (unsigned long long)j->qual, (unsigned long long)j->intr);
		for (int k = 0; k < 16; k++)
			if (r.gpr[k] != j->gpr[k])
				fail_msg("case %u: gpr %d interpreter %#llx JIT %#llx (exit %llu)", i, k,
					 (unsigned long long)r.gpr[k], (unsigned long long)j->gpr[k],
					 (unsigned long long)r.reason);
		/* Shifts and rotates leave OF (and AF) undefined: the interpreter picks values, the JIT has the host's. */
		uint64_t fm = r.reason == VMX_REASON_HLT ? 0x8d5u : 0xc5u;
		if ((r.rflags ^ j->rflags) & (fm | ~0xfffull))
			fail_msg("case %u: rflags interpreter %#llx JIT %#llx", i, (unsigned long long)r.rflags,
				 (unsigned long long)j->rflags);
		assert_true(r.mem_hash == j->mem_hash);
		assert_true(r.stack_hash == j->stack_hash);
		/* every exit: instructions before an exit or fault in the middle of a block count too */
		if (r.icount != j->icount)
			fail_msg("case %u: instructions retired interpreter %llu JIT %llu (exit %llu)", i,
				 (unsigned long long)r.icount, (unsigned long long)j->icount, (unsigned long long)r.reason);
		if (r.reason == VMX_REASON_HLT) {
			hlt++;
		} else {
			other++;
		}
	}
	assert_true(jit_stat_translated == t1); /* HVX_EMU_JIT=0: the interpreter only */
	eg_destroy(&g);
	setenv("HVX_EMU_JIT", "1", 1);
	assert_true(hlt > NCASES / 4);
	if (faults)
		assert_true(other > 20);
}

/* Hosts without BMI2 or 64-bit LAHF/SAHF run the interpreter only: these tests are skipped there (reported as such). */
static void need_jit(void)
{
	setenv("HVX_EMU_JIT", "1", 1);
	if (!jit_wanted())
		skip();
}

static void test_jit_vs_interpreter(void **state)
{
	(void)state;
	need_jit();
	campaign(false);
}

static void test_jit_vs_interpreter_faults(void **state)
{
	(void)state;
	need_jit();
	campaign(true);
}

static void *kicker(void *arg)
{
	hv_vcpuid_t id = *(hv_vcpuid_t *)arg;
	usleep(30000);
	hv_vcpu_interrupt(&id, 1);
	return NULL;
}

/* A translated tight loop (INC; JMP back) ends the run promptly when the vCPU is kicked. */
static void test_jit_kick_ends_loop(void **state)
{
	(void)state;
	need_jit();
	setenv("HVX_EMU_JIT", "1", 1);
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t spin[] = {0x48, 0xff, 0xc0, 0xeb, 0xfb}; /* inc rax; jmp -5 */
	eg_load(&g, EG_CODE, spin, sizeof spin);
	eg_setreg(&g, HV_X86_RAX, 0);
	for (int round = 0; round < 2; round++) {
		unsigned long long e0 = jit_stat_entered;
		uint64_t rax0 = eg_reg(&g, HV_X86_RAX);
		pthread_t t;
		pthread_create(&t, NULL, kicker, &g.vcpu);
		assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
		pthread_join(t, NULL);
		assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), VMX_REASON_IRQ);
		uint64_t rip = eg_reg(&g, HV_X86_RIP);
		assert_true(rip == EG_CODE || rip == EG_CODE + 3);
		assert_true(eg_reg(&g, HV_X86_RAX) - rax0 > 100000); /* it ran translated for 30 ms */
		assert_true(jit_stat_entered > e0);
	}
	eg_destroy(&g);
}

/* Code caches of destroyed vCPUs are reused by the next VM: a new program at the same guest address must run as
 * itself, never as the previous VM's translation. Six VMs in turn (more than the pool keeps), each summing a
 * different constant in a translated loop. */
static void test_jit_cache_reused_across_vms(void **state)
{
	(void)state;
	need_jit();
	setenv("HVX_EMU_JIT", "1", 1);
	for (uint32_t k = 1; k <= 6; k++) {
		struct eg g;
		eg_create(&g);
		eg_long64(&g, EG_CODE);
		/* mov ecx, 1000; xor eax, eax; L: add eax, k; add ebx, eax; dec ecx; jnz L; hlt */
		uint8_t prog[] = {0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xc0, 0x05, 0, 0, 0, 0, 0x01, 0xc3,
				  0xff, 0xc9, 0x75, 0xf5, 0xf4};
		memcpy(prog + 8, &k, 4);
		eg_load(&g, EG_CODE, prog, sizeof prog);
		eg_setreg(&g, HV_X86_RBX, 0);
		unsigned long long t0 = jit_stat_translated;
		assert_int_equal(run_bounded(&g), VMX_REASON_HLT);
		assert_true(jit_stat_translated > t0); /* the loop ran translated */
		assert_int_equal(eg_reg(&g, HV_X86_RAX), 1000ull * k);
		assert_int_equal(eg_reg(&g, HV_X86_RBX), 500500ull * k);
		eg_destroy(&g);
	}
}

/* A translated loop (one block that branches to itself) that rewrites the immediate of its own first instruction
 * every iteration: each iteration must see the value the previous one stored. */
static void test_jit_self_modifying_loop(void **state)
{
	(void)state;
	need_jit();
	setenv("HVX_EMU_JIT", "1", 1);
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	uint8_t code[128];
	struct xbuf b = {code, code + sizeof code, false};
	xmov_ri(&b, RCX, 100);
	xop_rr(&b, true, 0x31, RBX, RBX);
	uint8_t *loop = b.p + 10, *mov_rdx = b.p; /* loop: after the MOV RDX below */
	xmov_ri(&b, RDX, 0x1122334455667788ull); /* patched to the immediate's address */
	uint8_t *imm_at = b.p + 1;
	x1(&b, 0xb8);
	x4(&b, 1);                                /* loop: mov eax, 1 (the immediate is rewritten) */
	xop_rr(&b, true, 0x01, RAX, RBX);         /* add rbx, rax */
	xstore(&b, false, xm(RDX, 0), RCX);       /* mov [rdx], ecx */
	xgrp_r(&b, false, 0xff, 1, RCX);          /* dec ecx */
	xpatch(xjcc32(&b, 5), loop);              /* jnz loop */
	x1(&b, 0xf4);
	uint64_t imm_gpa = EG_CODE + (uint64_t)(imm_at - code);
	memcpy(mov_rdx + 2, &imm_gpa, 8);
	assert_true(loop == imm_at - 1);
	eg_load(&g, EG_CODE, code, (size_t)(b.p - code));
	unsigned long long t0 = jit_stat_translated;
	assert_int_equal(run_bounded(&g), VMX_REASON_HLT);
	uint64_t want = 0, val = 1;
	for (unsigned ecx = 100; ecx; ecx--) {
		want += val;
		val = ecx;
	}
	assert_int_equal(eg_reg(&g, HV_X86_RBX), want);
	assert_int_equal(g.mem[imm_gpa], 1);
	assert_true(jit_stat_translated - t0 >= 2); /* translated, then again after the write */
	eg_destroy(&g);
}

/* Instructions that cross a page are decoded into a one-off slot each time: two different ones in a loop must not
 * share a translation. */
static void test_jit_page_crossing_insns(void **state)
{
	(void)state;
	need_jit();
	setenv("HVX_EMU_JIT", "1", 1);
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t start[] = {0xb9, 10, 0, 0, 0, 0x31, 0xc0, 0xe9, 0xf1, 0x0f, 0, 0}; /* mov ecx,10; xor eax,eax; jmp 0x10ffd */
	static const uint8_t add5[] = {0x48, 0x05, 5, 0, 0, 0, 0xe9, 0xf5, 0x0f, 0, 0};      /* add rax,5; jmp 0x11ffd */
	static const uint8_t sub2[] = {0x48, 0x2d, 2, 0, 0, 0, 0xff, 0xc9, 0x0f, 0x85, 0xf2, 0xef, 0xff, 0xff, 0xf4};
	/* sub rax,2; dec ecx; jnz 0x10ffd; hlt */
	eg_load(&g, EG_CODE, start, sizeof start);
	eg_load(&g, EG_CODE + 0xffd, add5, sizeof add5);
	eg_load(&g, EG_CODE + 0x1ffd, sub2, sizeof sub2);
	assert_int_equal(run_bounded(&g), VMX_REASON_HLT);
	assert_int_equal(eg_reg(&g, HV_X86_RIP), EG_CODE + 0x1ffd + sizeof sub2 - 1); /* at the HLT */
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 30);
	eg_destroy(&g);
}

/* The same guest-physical code reached at two linear addresses (a second PDPT entry aliases the first GiB): a
 * translation made at one must not send the other to the first one's addresses. */
static void test_jit_aliased_code(void **state)
{
	(void)state;
	need_jit();
	setenv("HVX_EMU_JIT", "1", 1);
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* mov ecx, 100; xor eax, eax; L: inc eax; dec ecx; jnz L; jmp M; nop; nop; M: inc ebx; jmp N; nop; N: hlt */
	static const uint8_t prog[] = {0xb9, 0x64, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xff, 0xc0, 0xff, 0xc9, 0x75, 0xfa,
				       0xeb, 0x02, 0x90, 0x90, 0xff, 0xc3, 0xeb, 0x01, 0x90, 0xf4};
	eg_load(&g, EG_CODE, prog, sizeof prog);
	eg_put64(&g, EG_PDPT + 8, EG_PD | 0x7); /* linear 1 GiB + x -> x */
	const uint64_t alias = 1ull << 30;
	eg_setreg(&g, HV_X86_RBX, 0);
	for (unsigned round = 0; round < 4; round++) {
		uint64_t base = (round & 1) ? alias : 0;
		eg_setreg(&g, HV_X86_RIP, base + EG_CODE);
		assert_int_equal(run_bounded(&g), VMX_REASON_HLT);
		assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), base + EG_CODE + sizeof prog - 1);
		assert_int_equal(eg_reg(&g, HV_X86_RAX), 100);
		assert_int_equal(eg_reg(&g, HV_X86_RBX), round + 1);
	}
	eg_destroy(&g);
}

/*
 * IN / OUT / CPUID exits from translated code against the interpreter: random loops of the instructions above mixed
 * with IN and OUT (immediate and DX ports, sizes 1, 2 and 4, ports around the bitmap edges and 0xffff, which wraps)
 * and CPUID, under six configurations by case: I/O bitmaps, unconditional I/O exiting, no I/O exiting (IN reads
 * all-ones), CPL 3 with IOPL 0 (the TSS I/O permission bitmap: #GP, an exit through the exception bitmap, before any
 * I/O exit), CPL 3 with IOPL 3, and the dual-monitor model's SMI ports (IO_SMI after the instruction). The VMM skips
 * each exiting instruction (an IN gets a value, CPUID its four registers) up to IO_EXITS exits; every exit's fields
 * (reason, qualification, length, RIP, linear address, instruction and interruption information, the I/O RCX/RSI/RDI/
 * RIP fields) and the final state and instructions retired must be those of the interpreter.
 */
#define IO_CASES 600
#define IO_EXITS 64
static const uint16_t io_ports[] = {0x60, 0x61, 0x64, 0x67, 0x70, 0x71, 0x7e, 0x7f, 0x80, 0x3f8, 0xfffe, 0xffff};
#define IO_NPORTS (sizeof io_ports / sizeof io_ports[0])

static void gen_io(struct xbuf *b)
{
	uint16_t port = io_ports[rnd() % IO_NPORTS];
	unsigned size = (unsigned)(rnd() % 3), form = (unsigned)(rnd() % 3);
	if (form == 2) {
		x1(b, 0x0f);
		x1(b, 0xa2); /* cpuid */
		return;
	}
	bool in = rnd() & 1, dx = port > 0xff || (rnd() & 1);
	if (dx)
		xmov_ri(b, RDX, port);
	if (size == 1)
		x1(b, 0x66);
	x1(b, (uint8_t)((in ? 0xe4 : 0xe6) | (dx ? 8 : 0) | (size ? 1 : 0)));
	if (!dx)
		x1(b, (uint8_t)port);
}

static void gen_prog_io(uint8_t *code, uint64_t seed)
{
	seed_state = seed * 0x9e3779b97f4a7c15ull + 3;
	memset(code, 0xf4, 4096);
	struct xbuf b = {code, code + FN_OFF - 64, false};
	xmov_ri(&b, R12, 1 + rnd() % 12);
	uint8_t *loop = b.p;
	unsigned k = 1 + (unsigned)(rnd() % 10);
	for (unsigned i = 0; i < k && b.p < code + FN_OFF - 200; i++) {
		if (rnd() % 3 == 0)
			gen_io(&b);
		else
			gen_insn(&b, code, false);
	}
	xgrp_r(&b, true, 0xff, 1, R12);
	xpatch(xjcc32(&b, 5), loop);
	x1(&b, 0xf4);
	struct xbuf f = {code + FN_OFF, code + 4000, false};
	xpush(&f, RAX);
	gen_io(&f);
	xpop(&f, RAX);
	x1(&f, 0xc3);
}

static void io_config(struct eg *g, unsigned cfg)
{
	uint64_t proc = CPU_BASED_HLT;
	if (cfg == 0 || cfg == 3 || cfg == 5)
		proc |= CPU_BASED_IO_BITMAPS;
	if (cfg == 1 || cfg == 4)
		proc |= CPU_BASED_UNCOND_IO;
	eg_controls(g, proc, 0);
	assert_int_equal(hvx_vcpu_set_io_bitmap(g->vcpu, 0, 0x10000, false), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g->vcpu, cfg == 5), HV_SUCCESS);
	if (cfg == 5)
		assert_int_equal(hvx_vcpu_set_smi_ports(g->vcpu, 0, 0x10000, false), HV_SUCCESS);
	for (unsigned p = 0; p < IO_NPORTS; p++) {
		if (rnd() % 3 == 0)
			assert_int_equal(hvx_vcpu_set_io_bitmap(g->vcpu, io_ports[p], 1, true), HV_SUCCESS);
		if (cfg == 5 && rnd() % 3 == 0)
			assert_int_equal(hvx_vcpu_set_smi_ports(g->vcpu, io_ports[p], 1, true), HV_SUCCESS);
	}
	bool user = cfg == 3 || cfg == 4;
	if (user)
		eg_all_segs(g, SEL_UCODE64, 0xa0fb, SEL_UDATA, 0xc0f3, 0xffffffff);
	else
		eg_all_segs(g, SEL_CODE64, 0xa09b, SEL_DATA, 0xc093, 0xffffffff);
	/* The TSS I/O permission bitmap at TSS + 0x68 for ports 0..0x7f; higher ports lie beyond the TSS limit (#GP). */
	eg_seg(g, VMCS_GUEST_TR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR, SEL_TSS, EG_TSS, 0x68 + 0x10,
	       0x8b);
	g->mem[EG_TSS + 0x66] = 0x68;
	g->mem[EG_TSS + 0x67] = 0;
	for (unsigned i = 0; i < 0x11; i++)
		g->mem[EG_TSS + 0x68 + i] = (uint8_t)(rnd() & rnd());
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ull + (v >> 29);
}

static void run_io_case(struct eg *g, unsigned i, struct result *out)
{
	gen_prog_io(g->mem + EG_CODE, i);
	seed_state = i * 0x2545f4914f6cdd1dull + 11;
	unsigned cfg = i % 6;
	io_config(g, cfg);
	for (unsigned k = 0; k < 2 * DATA_SZ; k++)
		g->mem[EG_DATA + k] = (uint8_t)rnd();
	memset(g->mem + EG_STACK - 4096, 0, 4096);
	for (int r = 0; r < 16; r++)
		eg_setreg(g, regs[r], (rnd() & 1) ? rnd() : rnd() & 0xff);
	eg_setreg(g, HV_X86_RBX, EG_DATA);
	eg_setreg(g, HV_X86_RSP, EG_STACK);
	eg_setreg(g, HV_X86_R15, 0x8000000000000000ull);
	eg_setreg(g, HV_X86_RIP, EG_CODE);
	eg_setreg(g, HV_X86_RFLAGS, 2 | (rnd() & 0x8d5) | (cfg == 4 ? 0x3000 : 0));
	eg_wr(g, VMCS_GUEST_INTERRUPTIBILITY, 0);
	uint64_t before = hvx_emu_instructions_retired(), h = 0;
	unsigned exits = 0;
	for (;;) {
		uint64_t r = run_bounded(g);
		struct eg_exit e = eg_exit_info(g);
		h = mix(h, r);
		h = mix(h, e.qual);
		h = mix(h, e.len);
		h = mix(h, e.info);
		h = mix(h, e.gla);
		h = mix(h, e.intr);
		h = mix(h, e.intr_err);
		h = mix(h, e.idt);
		h = mix(h, e.rip);
		h = mix(h, eg_reg(g, HV_X86_RAX));
		h = mix(h, eg_reg(g, HV_X86_RFLAGS) & (0xc5u | ~0xfffull)); /* AF, OF: undefined after shifts */
		h = mix(h, hvx_emu_instructions_retired() - before);
		if (r == VMX_REASON_IO_SMI) {
			h = mix(h, eg_rd(g, VMCS_RO_IO_RCX));
			h = mix(h, eg_rd(g, VMCS_RO_IO_RSI));
			h = mix(h, eg_rd(g, VMCS_RO_IO_RDI));
			h = mix(h, eg_rd(g, VMCS_RO_IO_RIP));
		}
		if (++exits >= IO_EXITS || (r != VMX_REASON_IO && r != VMX_REASON_CPUID && r != VMX_REASON_IO_SMI))
			break;
		if (r == VMX_REASON_CPUID) {
			eg_setreg(g, HV_X86_RAX, exits);
			eg_setreg(g, HV_X86_RBX, EG_DATA);
			eg_setreg(g, HV_X86_RCX, exits * 3);
			eg_setreg(g, HV_X86_RDX, exits * 5);
		} else if (r == VMX_REASON_IO && (e.qual & 8)) {
			eg_setreg(g, HV_X86_RAX, 0x1234567 * (uint64_t)exits);
		}
		if (r != VMX_REASON_IO_SMI)
			eg_skip(g);
	}
	out->reason = h;
	out->icount = hvx_emu_instructions_retired() - before;
	for (int r = 0; r < 16; r++)
		out->gpr[r] = eg_reg(g, regs[r]);
	out->rip = eg_reg(g, HV_X86_RIP);
	out->rflags = eg_reg(g, HV_X86_RFLAGS);
	out->mem_hash = hash(g->mem + EG_DATA, 2 * DATA_SZ);
	out->stack_hash = hash(g->mem + EG_STACK - 4096, 4096);
	out->qual = exits;
}

static void test_jit_io_cpuid_exits(void **state)
{
	(void)state;
	need_jit();
	static struct result res[IO_CASES];
	struct eg g;
	setup(&g);
	unsigned long long e0 = jit_stat_entered;
	for (unsigned i = 0; i < IO_CASES; i++)
		run_io_case(&g, i, &res[i]);
	eg_destroy(&g);
	assert_true(jit_stat_entered - e0 > IO_CASES);
	setenv("HVX_EMU_JIT", "0", 1);
	setup(&g);
	unsigned long long t1 = jit_stat_translated;
	unsigned multi = 0;
	for (unsigned i = 0; i < IO_CASES; i++) {
		struct result r;
		run_io_case(&g, i, &r);
		const struct result *j = &res[i];
		if (r.reason != j->reason || r.qual != j->qual)
			fail_msg("case %u (configuration %u): the exits differ (interpreter %llu exits, JIT %llu)", i, i % 6,
				 (unsigned long long)r.qual, (unsigned long long)j->qual);
		for (int k = 0; k < 16; k++)
			if (r.gpr[k] != j->gpr[k])
				fail_msg("case %u: gpr %d interpreter %#llx JIT %#llx", i, k, (unsigned long long)r.gpr[k],
					 (unsigned long long)j->gpr[k]);
		assert_int_equal(r.rip, j->rip);
		if ((r.rflags ^ j->rflags) & (0xc5u | ~0xfffull))
			fail_msg("case %u: rflags interpreter %#llx JIT %#llx", i, (unsigned long long)r.rflags,
				 (unsigned long long)j->rflags);
		assert_true(r.mem_hash == j->mem_hash);
		assert_true(r.stack_hash == j->stack_hash);
		if (r.icount != j->icount)
			fail_msg("case %u: instructions retired interpreter %llu JIT %llu", i, (unsigned long long)r.icount,
				 (unsigned long long)j->icount);
		multi += r.qual > 1;
	}
	assert_true(jit_stat_translated == t1);
	assert_true(multi > IO_CASES / 4);
	eg_destroy(&g);
	setenv("HVX_EMU_JIT", "1", 1);
}

/*
 * A loop whose OUT exits every iteration (the VMM skips it): each run enters at the DEC after it and reaches the OUT
 * block through a link remade in translated code, which compares that block with guest memory first. The VMM
 * rewrites the OUT's port byte between runs: the next exit must name the new port, and the loop count the runs.
 */
static void test_jit_exit_block_rewritten_between_runs(void **state)
{
	(void)state;
	need_jit();
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	/* mov ecx, 40; L: out 0x70, al; dec ecx; jnz L; hlt */
	static const uint8_t prog[] = {0xb9, 40, 0, 0, 0, 0xe6, 0x70, 0xff, 0xc9, 0x75, 0xfa, 0xf4};
	eg_load(&g, EG_CODE, prog, sizeof prog);
	unsigned long long e0 = jit_stat_entered;
	for (unsigned round = 0; round < 40; round++) {
		uint8_t port = (uint8_t)(0x70 + round % 7);
		g.mem[EG_CODE + 6] = port;
		assert_int_equal(run_bounded(&g), VMX_REASON_IO);
		assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_QUALIFIC), ((uint64_t)port << 16) | 0x40);
		assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 5);
		assert_int_equal(eg_reg(&g, HV_X86_RCX), 40 - round);
		if (round) {
			/* the flags of the DEC, kept across the remade link or its failure (the rewritten block) */
			uint32_t r = 40 - round, pf = !(__builtin_popcount(r & 0xff) & 1);
			uint64_t want = (pf << 2) | ((uint64_t)((r & 0xf) == 0xf) << 4) | ((uint64_t)(r == 0) << 6) |
					((uint64_t)(r >> 31) << 7);
			assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & 0x8d5, want);
		}
		eg_skip(&g);
	}
	assert_int_equal(run_bounded(&g), VMX_REASON_HLT);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 0);
	assert_true(jit_stat_entered - e0 >= 40); /* the runs entered translated code */
	eg_destroy(&g);
}

/*
 * jit_exec enters the translation it entered last without a lookup when the block and RIP are the same. The same
 * block entered at two linear addresses in turn (a second PDPT entry aliases the first GiB) must each time run the
 * translation made at its own address: the OUT exit names the address it ran at.
 */
static void test_jit_entry_at_two_addresses(void **state)
{
	(void)state;
	need_jit();
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	/* inc ebx; out 0x70, al */
	static const uint8_t prog[] = {0xff, 0xc3, 0xe6, 0x70};
	eg_load(&g, EG_CODE, prog, sizeof prog);
	eg_put64(&g, EG_PDPT + 8, EG_PD | 0x7); /* linear 1 GiB + x -> x */
	const uint64_t alias = 1ull << 30;
	eg_setreg(&g, HV_X86_RBX, 0);
	unsigned long long e0 = jit_stat_entered;
	for (unsigned round = 0; round < 8; round++) {
		uint64_t base = (round & 2) ? alias : 0; /* two runs at each address: the second enters as the last */
		eg_setreg(&g, HV_X86_RIP, base + EG_CODE);
		assert_int_equal(run_bounded(&g), VMX_REASON_IO);
		assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), base + EG_CODE + 2);
		assert_int_equal(eg_reg(&g, HV_X86_RBX), round + 1);
	}
	assert_true(jit_stat_entered - e0 >= 8);
	eg_destroy(&g);
}

/*
 * The last entered translation after the guest rewrote its own code: the store drops every decoded block and
 * translation (code_gen), and the block decoded again first takes the place in the block cache of the one it
 * replaces, so jit_exec must not take the old translation for it. The rewriting runs in the interpreter (a LOCK
 * store: not translated), so the last translation entered is still the old block's.
 */
static void test_jit_entry_after_code_flush(void **state)
{
	(void)state;
	need_jit();
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	/* B: lock xor byte [rip + 1], 2 (A's ModRM: inc ebx -> inc ecx); A: inc ebx; out 0x70, al */
	static const uint8_t prog[] = {0xf0, 0x80, 0x35, 0x01, 0x00, 0x00, 0x00, 0x02, 0xff, 0xc3, 0xe6, 0x70};
	const uint64_t a = EG_CODE + 8;
	eg_load(&g, EG_CODE, prog, sizeof prog);
	eg_setreg(&g, HV_X86_RBX, 0);
	eg_setreg(&g, HV_X86_RCX, 0);
	eg_setreg(&g, HV_X86_RIP, a); /* A first: the first block decoded */
	assert_int_equal(run_bounded(&g), VMX_REASON_IO);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), a + 2);
	assert_int_equal(eg_reg(&g, HV_X86_RBX), 1);
	eg_setreg(&g, HV_X86_RIP, EG_CODE); /* B, which rewrites A and falls into it */
	assert_int_equal(run_bounded(&g), VMX_REASON_IO);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), a + 2);
	assert_int_equal(g.mem[a + 1], 0xc1);
	assert_int_equal(eg_reg(&g, HV_X86_RBX), 1);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 1);
	eg_destroy(&g);
}

/*
 * Links remade in translated code without a call (jit.c, emit_relink_inline): a link made in one run is renewed in
 * the next through jit_h_relink, which keeps what the run after compares inline (the target block's first 16 bytes
 * through the TLB). A loop whose OUT exits every run (the VMM skips it): each run enters at its DEC, whose block's
 * link to the target block T (MOVs of immediates to EBX/ESI/EDI, the OUT, DEC, JNZ) is stale at its first use. Every
 * third run the VMM rewrites one byte of T at an offset from pos[] (immediates, the port): two runs after each
 * rewrite the inline renewal is armed again, so every rewrite meets it. The exit and the registers must show the
 * bytes in memory now. T is placed at `at` + 5 (`at` holds MOV ECX).
 */
/* Runs alternately without a deadline (the renewal's common case: nothing due at the boundaries of the run) and
 * bounded to 10 s (a deadline makes every boundary check the clock). */
static uint64_t relink_run(struct eg *g, unsigned round)
{
	return round & 1 ? run_bounded(g) : eg_run(g);
}

static void relink_rewrites(uint64_t at, unsigned nmov, const unsigned *pos, unsigned npos)
{
	static const uint8_t mov_op[3] = {0xbb, 0xbe, 0xbf}; /* mov ebx / esi / edi, imm32 */
	static const hv_x86_reg_t mov_reg[3] = {HV_X86_RBX, HV_X86_RSI, HV_X86_RDI};
	const unsigned runs = 48;
	uint8_t p[32];
	unsigned n = 0, imm_off[3];
	p[n++] = 0xb9; /* mov ecx, runs */
	memcpy(p + n, &runs, 4);
	n += 4;
	const unsigned t = n;
	for (unsigned i = 0; i < nmov; i++) {
		p[n++] = mov_op[i];
		imm_off[i] = n;
		uint32_t v = 0x01020304u * (i + 1);
		memcpy(p + n, &v, 4);
		n += 4;
	}
	const unsigned port_off = n + 1;
	p[n++] = 0xe6; /* out 0x70, al */
	p[n++] = 0x70;
	const unsigned dec_off = n;
	p[n++] = 0xff; /* dec ecx */
	p[n++] = 0xc9;
	p[n++] = 0x75; /* jnz T */
	p[n] = (uint8_t)(t - (n + 1));
	n++;
	p[n++] = 0xf4; /* hlt */
	struct eg g;
	eg_create(&g);
	eg_long64(&g, at);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	eg_load(&g, at, p, n);
	unsigned long long e0 = jit_stat_entered;
	for (unsigned round = 0; round < runs; round++) {
		if (round % 3 == 2)
			g.mem[at + t + pos[(round / 3) % npos]] ^= (uint8_t)(round | 1);
		assert_int_equal(relink_run(&g, round), VMX_REASON_IO);
		assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_QUALIFIC), ((uint64_t)g.mem[at + port_off] << 16) | 0x40);
		assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), at + port_off - 1);
		for (unsigned i = 0; i < nmov; i++) {
			uint32_t v;
			memcpy(&v, g.mem + at + imm_off[i], 4);
			assert_int_equal(eg_reg(&g, mov_reg[i]), v);
		}
		assert_int_equal(eg_reg(&g, HV_X86_RCX), runs - round);
		eg_skip(&g);
		assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), at + dec_off);
	}
	assert_int_equal(run_bounded(&g), VMX_REASON_HLT);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 0);
	assert_true(jit_stat_entered - e0 >= runs);
	eg_destroy(&g);
}

/* T of 16 bytes (two MOVs, OUT, DEC, JNZ): rewrites in its first and its second 8-byte word, at the boundary too. */
static void test_jit_relink_rewritten_in_each_word(void **state)
{
	(void)state;
	need_jit();
	static const unsigned pos[] = {1, 9, 4, 11, 6, 2, 8};
	relink_rewrites(EG_CODE, 2, pos, sizeof pos / sizeof pos[0]);
}

/* T of 21 bytes (longer than the inline comparison covers: the helper compares it): rewrites past byte 15 too. */
static void test_jit_relink_rewritten_long_block(void **state)
{
	(void)state;
	need_jit();
	static const unsigned pos[] = {16, 13, 1, 7};
	relink_rewrites(EG_CODE, 3, pos, sizeof pos / sizeof pos[0]);
}

/* T of 11 bytes ending at its page's last byte (within 16 bytes of the end: the helper compares it). */
static void test_jit_relink_rewritten_at_page_end(void **state)
{
	(void)state;
	need_jit();
	static const unsigned pos[] = {1, 6, 3};
	relink_rewrites(EG_CODE + 0x1000 - 16, 1, pos, sizeof pos / sizeof pos[0]);
}

/*
 * The target of a link renewed inline is at a guest-physical page whose memory the VMM replaces between runs
 * (hv_vm_unmap, then hv_vm_map of another buffer at the same address): S: call T; out 0x70, al; jmp S, with
 * T: add ebx, imm32; ret on that page. Each run must add the immediate of the memory mapped now.
 */
static void test_jit_relink_target_page_remapped(void **state)
{
	(void)state;
	need_jit();
	const uint64_t tpage = 0x20000;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	/* S: call tpage; out 0x70, al; jmp S */
	uint8_t s[12] = {0xe8, 0, 0, 0, 0, 0xe6, 0x70, 0xeb, 0xf7};
	int32_t rel = (int32_t)(tpage - (EG_CODE + 5));
	memcpy(s + 1, &rel, 4);
	eg_load(&g, EG_CODE, s, 9);
	uint8_t *buf[2];
	for (unsigned i = 0; i < 2; i++) {
		buf[i] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(buf[i] != MAP_FAILED);
		uint8_t t[7] = {0x81, 0xc3, 0, 0, 0, 0, 0xc3}; /* add ebx, imm32; ret */
		uint32_t v = 100u * (i + 1);
		memcpy(t + 2, &v, 4);
		memcpy(buf[i], t, sizeof t);
	}
	assert_int_equal(hv_vm_unmap(tpage, 4096), HV_SUCCESS);
	unsigned cur = 0;
	assert_int_equal(hv_vm_map(buf[cur], tpage, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC), HV_SUCCESS);
	eg_setreg(&g, HV_X86_RBX, 0);
	uint64_t rbx = 0;
	for (unsigned round = 0; round < 32; round++) {
		if (round % 4 == 3) {
			assert_int_equal(hv_vm_unmap(tpage, 4096), HV_SUCCESS);
			cur ^= 1;
			assert_int_equal(hv_vm_map(buf[cur], tpage, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC),
					 HV_SUCCESS);
		}
		assert_int_equal(relink_run(&g, round), VMX_REASON_IO);
		assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 5);
		rbx += 100u * (cur + 1);
		assert_int_equal(eg_reg(&g, HV_X86_RBX), rbx);
		eg_skip(&g);
	}
	assert_int_equal(hv_vm_unmap(tpage, 4096), HV_SUCCESS);
	assert_int_equal(hv_vm_map(g.mem + tpage, tpage, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC),
			 HV_SUCCESS);
	eg_destroy(&g);
	munmap(buf[0], 4096);
	munmap(buf[1], 4096);
}

/*
 * The target's linear page mapped elsewhere by the guest's page tables, changed by the VMM between runs without an
 * invalidation (the emu's TLB holds a translation until it is replaced). Linear 2..4 MiB in 4-KiB pages: LA1
 * (0x200000) -> X or Y as the VMM sets it, LA2 (0x202000) -> X, LA3 (0x300000, LA1's TLB slot) -> X.
 * S: mov eax, [rdx]; mov eax, [rdi]; call LA1; call LA2; out 0x70, al; jmp S. The loads replace LA1's TLB entry
 * (rdx = LA3) and fill it again from the page tables now (rdi = LA1), or leave LA3's there (rdi = LA3).
 * T (add ebx, imm32; ret) at offset 0 of X and Y; each run adds the immediate at LA1's page now and X's.
 * Runs in which the inline renewal, were it to skip a test, would take the old target:
 * - LA1 -> Y whose bytes equal the old X's while X is rewritten: the same bytes at another guest-physical page (the
 *   block's page compared), and X's block must not be taken as compared in this run (LA2 reaches it next);
 * - LA1 -> Y, LA1's TLB slot holding LA3 -> X, X's bytes unchanged (the TLB entry's linear page compared);
 * - LA1 -> Y the run after the link failed (LA1 -> X) and was linked to X's block: what the slot kept for the
 *   renewal to Y's block must be gone with that failure.
 */
static void test_jit_relink_target_remapped_by_page_tables(void **state)
{
	(void)state;
	need_jit();
	const uint64_t pt = 0x5000, la1 = 0x200000, la2 = 0x202000, la3 = 0x300000, x = 0x201000, y = 0x203000;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	eg_put64(&g, EG_PD + 8, pt | 0x7);
	for (uint64_t i = 0; i < 512; i++)
		eg_put64(&g, pt + 8 * i, (0x200000 + (i << 12)) | 0x7);
	eg_put64(&g, pt + 8 * ((la2 - 0x200000) >> 12), x | 0x7);
	eg_put64(&g, pt + 8 * ((la3 - 0x200000) >> 12), x | 0x7);
	/* S: mov eax, [rdx]; mov eax, [rdi]; call la1; call la2; out 0x70, al; jmp S */
	uint8_t s[20] = {0x8b, 0x02, 0x8b, 0x07, 0xe8, 0, 0, 0, 0, 0xe8, 0, 0, 0, 0, 0xe6, 0x70, 0xeb, 0xee};
	int32_t r1 = (int32_t)(la1 - (EG_CODE + 9)), r2 = (int32_t)(la2 - (EG_CODE + 14));
	memcpy(s + 5, &r1, 4);
	memcpy(s + 10, &r2, 4);
	eg_load(&g, EG_CODE, s, 18);
	uint32_t imm[2] = {0, 0}; /* at X, Y */
	const uint64_t page[2] = {x, y};
#define SET_T(k, v)                                                                            \
	do {                                                                                   \
		uint8_t t_[7] = {0x81, 0xc3, 0, 0, 0, 0, 0xc3};                               \
		imm[k] = (v);                                                                  \
		memcpy(t_ + 2, &imm[k], 4);                                                    \
		eg_load(&g, page[k], t_, sizeof t_);                                           \
	} while (0)
	SET_T(0, 1);
	SET_T(1, 7);
	unsigned at1 = 0; /* LA1 -> X */
	eg_setreg(&g, HV_X86_RBX, 0);
	eg_setreg(&g, HV_X86_RDX, la3);
	uint64_t rbx = 0;
	for (unsigned round = 0; round < 24; round++) {
		uint64_t refill = la1;
		switch (round) {
		case 4: /* LA1 -> Y holding the bytes X held; X rewritten */
			SET_T(1, imm[0]);
			SET_T(0, 2);
			at1 = 1;
			break;
		case 8: /* LA1 -> X again: the link fails, and the run loop links it to X's block */
			at1 = 0;
			break;
		case 9: /* LA1 -> Y again, whose block the link was last renewed to (before X's was linked) */
			at1 = 1;
			break;
		case 12: /* LA1 -> X */
			at1 = 0;
			break;
		case 16: /* LA1 -> Y (bytes differ from X's), LA1's TLB slot left holding LA3 -> X */
			at1 = 1;
			refill = la3;
			break;
		case 20:
			SET_T(1, imm[0]);
			SET_T(0, 9);
			at1 = 1;
			refill = la3;
			break;
		}
		eg_put64(&g, pt, page[at1] | 0x7);
		eg_setreg(&g, HV_X86_RDI, refill);
		assert_int_equal(relink_run(&g, round), VMX_REASON_IO);
		assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 14);
		rbx += (uint64_t)imm[at1] + imm[0];
		assert_int_equal(eg_reg(&g, HV_X86_RBX), rbx);
		eg_skip(&g);
	}
#undef SET_T
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_jit_aliased_code),
		EG_TEST(test_jit_vs_interpreter),
		EG_TEST(test_jit_vs_interpreter_faults),
		EG_TEST(test_jit_kick_ends_loop),
		EG_TEST(test_jit_self_modifying_loop),
		EG_TEST(test_jit_page_crossing_insns),
		EG_TEST(test_jit_cache_reused_across_vms),
		EG_TEST(test_jit_io_cpuid_exits),
		EG_TEST(test_jit_exit_block_rewritten_between_runs),
		EG_TEST(test_jit_entry_at_two_addresses),
		EG_TEST(test_jit_entry_after_code_flush),
		EG_TEST(test_jit_relink_rewritten_in_each_word),
		EG_TEST(test_jit_relink_rewritten_long_block),
		EG_TEST(test_jit_relink_rewritten_at_page_end),
		EG_TEST(test_jit_relink_target_page_remapped),
		EG_TEST(test_jit_relink_target_remapped_by_page_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else
int main(void)
{
	printf("test_emu_jit: skipped: the JIT tier exists only on x86-64 hosts\n");
	return 0;
}
#endif
