/* test_kvm_diff.c: differential check of the kvm backend against the emu backend: the random ring-3 sequences of test_emu_diff (diff_gen.h) and a set of small exit-producing guests run on both backends must give the same exits and final state. */
#include <stdlib.h>

#include "kvm_test_env.h"

#include "diff_gen.h"

#if defined(__x86_64__)

#define KD_SEQS 5000        /* random sequences per run */
#define KD_STACK_CMP 64     /* bytes below the ring-3 stack top compared (PUSH/POP blocks) */
#define KD_DONE_PORT 0x80   /* out 0x80, al ends every random sequence */
#define KD_END_PORT 0xf4    /* out 0xf4, al ends a same-guest script */
#define KD_MAX_EXITS 24

static const hv_x86_reg_t kd_regs[16] = {HV_X86_RAX, HV_X86_RCX, HV_X86_RDX, HV_X86_RBX, HV_X86_RSP, HV_X86_RBP,
					 HV_X86_RSI, HV_X86_RDI, HV_X86_R8,  HV_X86_R9,  HV_X86_R10, HV_X86_R11,
					 HV_X86_R12, HV_X86_R13, HV_X86_R14, HV_X86_R15};
static const char *const kd_reg_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					     "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

/* Every exit-information field and the guest's registers at one exit. */
struct kd_state {
	uint64_t reason, qual, len, info, gla, gpa, intr, intr_err, idt, idt_err;
	uint64_t gpr[16], rip, rflags;
};

/* The VM of the running test, for the teardown after a failure. */
static struct ke kd_live_copy;
static struct ke *kd_live;

static int kd_teardown(void **state)
{
	(void)state;
	if (kd_live) {
		kd_live = NULL;
		ke_teardown(&kd_live_copy);
	}
	return 0;
}

/* A VM on `backend` with the kvm tests' 64-bit layout; I/O always exits (unconditional I/O exiting). */
static void kd_setup(struct ke *k, const char *backend, int ring, const void *code, size_t len)
{
	static const uint8_t nothing[1] = {0x90};
	ke_setup_on(k, backend, ring, code ? code : nothing, code ? len : sizeof nothing);
	ke_w(k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), CPU_BASED_HLT | CPU_BASED_UNCOND_IO));
	ke_w(k, VMCS_CTRL_EXC_BITMAP, 0);
	for (int i = 0; i < 16; i++)
		if (i != 4)
			ke_set(k, kd_regs[i], 0);
	kd_live_copy = *k;
	kd_live = &kd_live_copy;
}

static void kd_done(struct ke *k)
{
	kd_live = NULL;
	ke_teardown(k);
}

/* One bounded run (1 s deadline); IRQ exits (emu instruction budget) are resumed. */
static uint64_t kd_run(struct ke *k)
{
	for (int tries = 0; tries < 8; tries++) {
		hv_return_t r = hv_vcpu_run_until(k->vcpu, hv_tsc_clock() + 1000000000ull);
		if (r != HV_SUCCESS)
			fail_msg("hv_vcpu_run_until: %#x", r);
		uint64_t reason = ke_r(k, VMCS_RO_EXIT_REASON);
		if (reason != VMX_REASON_IRQ)
			return reason;
	}
	fail_msg("only IRQ exits");
	return 0;
}

static void kd_record(struct ke *k, struct kd_state *s)
{
	s->reason = ke_r(k, VMCS_RO_EXIT_REASON);
	s->qual = ke_r(k, VMCS_RO_EXIT_QUALIFIC);
	s->len = ke_r(k, VMCS_RO_VMEXIT_INSTR_LEN);
	s->info = ke_r(k, VMCS_RO_VMX_INSTR_INFO);
	s->gla = ke_r(k, VMCS_RO_GUEST_LIN_ADDR);
	s->gpa = ke_r(k, VMCS_GUEST_PHYSICAL_ADDRESS);
	s->intr = ke_r(k, VMCS_RO_VMEXIT_IRQ_INFO);
	s->intr_err = ke_r(k, VMCS_RO_VMEXIT_IRQ_ERROR);
	s->idt = ke_r(k, VMCS_RO_IDT_VECTOR_INFO);
	s->idt_err = ke_r(k, VMCS_RO_IDT_VECTOR_ERROR);
	for (int i = 0; i < 16; i++)
		s->gpr[i] = ke_reg(k, kd_regs[i]);
	s->rip = ke_reg(k, HV_X86_RIP);
	s->rflags = ke_reg(k, HV_X86_RFLAGS);
}

/* Exit fields the SDM defines for this exit (the others are not compared): bit per field of kd_state in order
 * reason, qual, len, info, gla, gpa, intr, intr_err, idt, idt_err. */
enum { F_REASON = 1, F_QUAL = 2, F_LEN = 4, F_INFO = 8, F_GLA = 16, F_GPA = 32, F_INTR = 64, F_INTR_ERR = 128,
       F_IDT = 256, F_IDT_ERR = 512 };

static unsigned kd_defined(const struct kd_state *s)
{
	unsigned f = F_REASON | F_QUAL | F_INTR | F_IDT;
	uint32_t reason = (uint32_t)s->reason & 0xffff;
	if (s->intr & 0x80000000u)
		f |= (s->intr & 0x800u) ? F_INTR_ERR : 0;
	if (s->idt & 0x80000000u) {
		f |= (s->idt & 0x800u) ? F_IDT_ERR : 0;
		f |= F_LEN; /* software events during delivery */
	}
	switch (reason) {
	case VMX_REASON_IO:
		f |= F_LEN;
		if (s->qual & 0x10) /* INS/OUTS */
			f |= F_INFO | F_GLA;
		break;
	case VMX_REASON_HLT:
		f |= F_LEN;
		break;
	case VMX_REASON_EPT_VIOLATION:
		f |= F_GPA;
		if (s->qual & 0x80)
			f |= F_GLA;
		break;
	default:
		break;
	}
	return f;
}

/* Compare two states; returns the number of differences, printed with `what`. flag_mask selects the RFLAGS bits. */
static unsigned kd_compare(const char *what, const struct kd_state *e, const struct kd_state *v, uint64_t flag_mask)
{
	unsigned bad = 0;
	unsigned def = kd_defined(e) | kd_defined(v);
	static const char *const names[] = {"reason", "qualification", "instruction length", "instruction info",
					    "guest-linear address", "guest-physical address", "interruption info",
					    "interruption error", "IDT-vectoring info", "IDT-vectoring error"};
	const uint64_t ef[] = {e->reason, e->qual, e->len, e->info, e->gla, e->gpa, e->intr, e->intr_err, e->idt, e->idt_err};
	const uint64_t vf[] = {v->reason, v->qual, v->len, v->info, v->gla, v->gpa, v->intr, v->intr_err, v->idt, v->idt_err};
	for (unsigned i = 0; i < 10; i++)
		if ((def & (1u << i)) && ef[i] != vf[i]) {
			print_message("  %s: %s emu %#llx kvm %#llx\n", what, names[i], (unsigned long long)ef[i],
				      (unsigned long long)vf[i]);
			bad++;
		}
	for (unsigned i = 0; i < 16; i++)
		if (e->gpr[i] != v->gpr[i]) {
			print_message("  %s: %s emu %#llx kvm %#llx\n", what, kd_reg_names[i], (unsigned long long)e->gpr[i],
				      (unsigned long long)v->gpr[i]);
			bad++;
		}
	if (e->rip != v->rip) {
		print_message("  %s: rip emu %#llx kvm %#llx\n", what, (unsigned long long)e->rip, (unsigned long long)v->rip);
		bad++;
	}
	if ((e->rflags & flag_mask) != (v->rflags & flag_mask)) {
		print_message("  %s: rflags emu %#llx kvm %#llx (compared bits %#llx)\n", what, (unsigned long long)e->rflags,
			      (unsigned long long)v->rflags, (unsigned long long)flag_mask);
		bad++;
	}
	return bad;
}

/* RFLAGS bits compared at CPL-3 exits. PVM runs ring-3 guest code with the host's user-mode IOPL (0): the guest's
 * IOPL 3 is not kept at CPL 3 (the exit state and PUSHF show 0, I/O still exits), so there IOPL is not compared. */
static uint64_t kd_ring3_flags = ~0ull;

static void kd_probe_iopl(void)
{
	static const uint8_t code[] = {0xe6, KD_DONE_PORT}; /* out 0x80, al */
	struct ke k;
	kd_setup(&k, "kvm", 3, code, sizeof code);
	ke_set(&k, HV_X86_RFLAGS, 0x3002);
	uint64_t reason = kd_run(&k);
	uint64_t fl = ke_reg(&k, HV_X86_RFLAGS);
	kd_done(&k);
	assert_int_equal(reason, VMX_REASON_IO);
	if ((fl & 0x3000) != 0x3000) {
		kd_ring3_flags = ~0x3000ull;
		print_message("kvm: RFLAGS.IOPL 3 reads back as %llu at CPL 3 (PVM limit, docs/kvm.md): IOPL not compared "
			      "at CPL-3 exits\n", (unsigned long long)((fl >> 12) & 3));
	}
}

/* ---- random ring-3 sequences ---- */

static struct diff_seq *kd_seqs;
static unsigned kd_nseqs;

struct kd_seq_result {
	struct kd_state st;
	uint8_t mem[BUF + KD_STACK_CMP];
};

/* Run every sequence as a CPL-3 guest on `backend`: code at KE_CODE followed by OUT to the done port, data at
 * KE_DATA (RBX), ring-3 stack; registers, RIP and memory are reloaded for each sequence. */
static void kd_run_sequences(const char *backend, struct kd_seq_result *res)
{
	struct ke k;
	kd_setup(&k, backend, 3, NULL, 0);
	for (unsigned i = 0; i < kd_nseqs; i++) {
		const struct diff_seq *s = &kd_seqs[i];
		memcpy(k.mem + KE_CODE, s->code, s->len);
		k.mem[KE_CODE + s->len] = 0xe6; /* out KD_DONE_PORT, al */
		k.mem[KE_CODE + s->len + 1] = KD_DONE_PORT;
		memcpy(k.mem + KE_DATA, s->mem0, BUF);
		memset(k.mem + KE_STACK3 - KD_STACK_CMP, 0, KD_STACK_CMP);
		for (int r = 0; r < 16; r++)
			ke_set(&k, kd_regs[r], r == 3 ? KE_DATA : r == 4 ? KE_STACK3 : s->gpr[r]);
		ke_set(&k, HV_X86_RFLAGS, s->rflags | 0x3000); /* IOPL 3: the final OUT exits at CPL 3 */
		ke_set(&k, HV_X86_RIP, KE_CODE);
		kd_run(&k);
		kd_record(&k, &res[i].st);
		memcpy(res[i].mem, k.mem + KE_DATA, BUF);
		memcpy(res[i].mem + BUF, k.mem + KE_STACK3 - KD_STACK_CMP, KD_STACK_CMP);
	}
	kd_done(&k);
}

static void kd_dump_code(const struct diff_seq *s)
{
	char hex[3 * DIFF_CODE_MAX + 1];
	for (unsigned i = 0; i < s->len; i++)
		snprintf(hex + 3 * i, 4, "%02x ", s->code[i]);
	hex[3 * s->len] = 0;
	print_message("  code: %s\n", hex);
}

static void test_kvm_diff_random_sequences(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	bool feat[7];
	diff_gen_mode(ZYDIS_MACHINE_MODE_LONG_64, feat);
	kd_seqs = calloc(KD_SEQS, sizeof *kd_seqs);
	struct kd_seq_result *emu = calloc(KD_SEQS, sizeof *emu), *kvm = calloc(KD_SEQS, sizeof *kvm);
	assert_non_null(kd_seqs);
	assert_non_null(emu);
	assert_non_null(kvm);
	kd_probe_iopl();
	kd_nseqs = 0;
	for (unsigned tries = 0; kd_nseqs < KD_SEQS && tries < 2 * KD_SEQS; tries++)
		if (diff_gen_seq(&kd_seqs[kd_nseqs], ZYDIS_MACHINE_MODE_LONG_64, feat))
			kd_nseqs++;

	uint64_t t0 = ke_now_ns();
	kd_run_sequences("emu", emu);
	uint64_t t1 = ke_now_ns();
	kd_run_sequences("kvm", kvm);
	uint64_t t2 = ke_now_ns();

	unsigned mismatches = 0;
	for (unsigned i = 0; i < kd_nseqs; i++) {
		const struct diff_seq *s = &kd_seqs[i];
		const struct kd_state *e = &emu[i].st;
		/* emu itself is checked against the host by test_emu_diff: here it must end at the OUT. */
		if (e->reason != VMX_REASON_IO || e->rip != KE_CODE + s->len)
			fail_msg("sequence %u (%s): emu exit %llu at %#llx", i, s->names, (unsigned long long)e->reason,
				 (unsigned long long)e->rip);
		char what[600];
		snprintf(what, sizeof what, "sequence %u (%s)", i, s->names);
		uint64_t mask = (~(uint64_t)ALLF | (ALLF & ~(uint64_t)s->undef)) & kd_ring3_flags;
		unsigned bad = kd_compare(what, e, &kvm[i].st, mask);
		if (memcmp(emu[i].mem, kvm[i].mem, BUF)) {
			print_message("  %s: data memory differs\n", what);
			bad++;
		}
		if (memcmp(emu[i].mem + BUF, kvm[i].mem + BUF, KD_STACK_CMP)) {
			print_message("  %s: stack memory differs\n", what);
			bad++;
		}
		if (bad) {
			kd_dump_code(s);
			if (++mismatches >= 10)
				break;
		}
	}
	print_message("compared %u random ring-3 sequences on emu (%.0f ms) and kvm (%.0f ms): %u mismatching\n",
		      kd_nseqs, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, mismatches);
	free(kd_seqs);
	kd_seqs = NULL;
	free(emu);
	free(kvm);
	assert_int_equal(mismatches, 0);
	assert_true(kd_nseqs > KD_SEQS / 2);
}

/* ---- same guest, same exits ---- */

struct kd_guest {
	const char *name;
	int ring;
	const uint8_t *code;
	size_t len;
	void (*prep)(struct ke *k);
	const uint8_t *ept_skip; /* lengths of the instructions whose EPT violations the VMM skips, in order (0-ended) */
};

struct kd_trace {
	unsigned n;
	struct kd_state st[KD_MAX_EXITS];
	uint8_t data[128];
};

static void kd_fill_data(struct ke *k)
{
	for (unsigned i = 0; i < 128; i++)
		k->mem[KE_DATA + i] = (uint8_t)(0x30 + i);
}

static void kd_protect_data_ro(struct ke *k)
{
	kd_fill_data(k);
	assert_int_equal(hv_vm_protect(KE_DATA, 0x1000, HV_MEMORY_READ), HV_SUCCESS);
}

static uint64_t kd_addr_mask(unsigned asz)
{
	return asz == 0 ? 0xffffull : asz == 1 ? 0xffffffffull : ~0ull;
}

/* Handle an I/O exit as a VMM would (IN data derived from the port, string I/O emulated to completion, RIP past the
 * instruction); returns false for the end-of-script port. */
static bool kd_handle_io(struct ke *k, const struct kd_state *s)
{
	unsigned size = (unsigned)(s->qual & 7) + 1, port = (unsigned)(s->qual >> 16) & 0xffff;
	bool in = s->qual & 8, str = s->qual & 0x10, rep = s->qual & 0x20;
	if (port == KD_END_PORT)
		return false;
	uint64_t val = 0xa1b2c3d4e5f60718ull ^ ((uint64_t)port * 0x01010101u);
	if (!str) {
		if (in) {
			uint64_t rax = s->gpr[0];
			rax = size == 4 ? (val & 0xffffffffull) : size == 2 ? (rax & ~0xffffull) | (val & 0xffff)
									: (rax & ~0xffull) | (val & 0xff);
			ke_set(k, HV_X86_RAX, rax);
		}
	} else {
		uint64_t am = kd_addr_mask((unsigned)(s->info >> 7) & 7);
		uint64_t count = rep ? s->gpr[1] & am : 1;
		int di = in ? 7 : 6;
		uint64_t addr = s->gpr[di];
		int64_t step = (s->rflags & 0x400) ? -(int64_t)size : (int64_t)size;
		for (uint64_t i = 0; i < count; i++) {
			if (in) {
				uint64_t a = addr & am;
				assert_true(a + size <= KE_MEM_SIZE);
				memcpy(k->mem + a, &val, size);
				val = val * 6364136223846793005ull + 1;
			}
			addr = (addr & ~am) | ((addr + (uint64_t)step) & am);
		}
		ke_set(k, kd_regs[di], addr);
		if (rep)
			ke_set(k, HV_X86_RCX, s->gpr[1] & ~am);
	}
	ke_set(k, HV_X86_RIP, s->rip + s->len);
	return true;
}

static void kd_run_guest(const char *backend, const struct kd_guest *g, struct kd_trace *t)
{
	struct ke k;
	memset(t, 0, sizeof *t);
	kd_setup(&k, backend, g->ring, g->code, g->len);
	if (g->prep)
		g->prep(&k);
	const uint8_t *skip = g->ept_skip;
	for (;;) {
		assert_true(t->n < KD_MAX_EXITS);
		struct kd_state *s = &t->st[t->n++];
		kd_run(&k);
		kd_record(&k, s);
		if ((s->reason & 0xffff) == VMX_REASON_EPT_VIOLATION && skip && *skip) {
			ke_set(&k, HV_X86_RIP, s->rip + *skip++); /* an MMIO write the VMM discards */
			continue;
		}
		if ((s->reason & 0xffff) != VMX_REASON_IO || !kd_handle_io(&k, s))
			break;
	}
	memcpy(t->data, k.mem + KE_DATA, sizeof t->data);
	kd_done(&k);
}

#define G(x) x, sizeof x

/* Ring 3, ports below 0x100: OUT and IN of each size with imm8 and DX. */
static const uint8_t g_io_ring3[] = {
	0xb0, 0x5a,                         /* mov al, 0x5a */
	0xe6, 0x80,                         /* out 0x80, al */
	0x66, 0xb8, 0x34, 0x12,             /* mov ax, 0x1234 */
	0x66, 0xe7, 0x82,                   /* out 0x82, ax */
	0xb8, 0xef, 0xbe, 0xad, 0xde,       /* mov eax, 0xdeadbeef */
	0xe7, 0x84,                         /* out 0x84, eax */
	0x66, 0xba, 0x70, 0x00,             /* mov dx, 0x70 */
	0xee,                               /* out dx, al */
	0x66, 0xef,                         /* out dx, ax */
	0xef,                               /* out dx, eax */
	0xe4, 0x71,                         /* in al, 0x71 */
	0x48, 0x89, 0xc1,                   /* mov rcx, rax */
	0x66, 0xe5, 0x72,                   /* in ax, 0x72 */
	0x48, 0x89, 0xc6,                   /* mov rsi, rax */
	0xe5, 0x74,                         /* in eax, 0x74 */
	0x48, 0x89, 0xc7,                   /* mov rdi, rax */
	0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, /* mov rax, -1 */
	0xec,                               /* in al, dx */
	0x49, 0x89, 0xc0,                   /* mov r8, rax */
	0x66, 0xed,                         /* in ax, dx */
	0x49, 0x89, 0xc1,                   /* mov r9, rax */
	0xed,                               /* in eax, dx */
	0xe6, KD_END_PORT,                  /* out 0xf4, al */
};

/* Ring 0, ports from 0x100 up (PVM: ring-3 I/O there triple-faults), ending in HLT. */
static const uint8_t g_io_ring0[] = {
	0x66, 0xba, 0xf8, 0x03,             /* mov dx, 0x3f8 */
	0xb0, 0x41,                         /* mov al, 'A' */
	0xee,                               /* out dx, al */
	0xec,                               /* in al, dx */
	0x66, 0xba, 0xf0, 0x01,             /* mov dx, 0x1f0 */
	0x66, 0xed,                         /* in ax, dx */
	0xed,                               /* in eax, dx */
	0xef,                               /* out dx, eax */
	0xf4,                               /* hlt */
};

/* Ring 3 string I/O: REP OUTSB, OUTSW, REP INSB, 32-bit-address OUTSD and REP INSW (instruction information). */
static const uint8_t g_string_io[] = {
	0xbe, 0x00, 0x00, 0x02, 0x00,       /* mov esi, KE_DATA */
	0xbf, 0x40, 0x00, 0x02, 0x00,       /* mov edi, KE_DATA + 0x40 */
	0xb9, 0x03, 0x00, 0x00, 0x00,       /* mov ecx, 3 */
	0x66, 0xba, 0x80, 0x00,             /* mov dx, 0x80 */
	0xfc,                               /* cld */
	0xf3, 0x6e,                         /* rep outsb */
	0x66, 0x6f,                         /* outsw */
	0xb9, 0x02, 0x00, 0x00, 0x00,       /* mov ecx, 2 */
	0xf3, 0x6c,                         /* rep insb */
	0x67, 0x6f,                         /* outsd (address size 32) */
	0xb9, 0x02, 0x00, 0x00, 0x00,       /* mov ecx, 2 */
	0x66, 0x67, 0xf3, 0x6d,             /* rep insw (address size 32) */
	0xe6, KD_END_PORT,                  /* out 0xf4, al */
};

static const uint8_t g_hlt_ring0[] = {
	0x90,                               /* nop */
	0xb8, 0x07, 0x00, 0x00, 0x00,       /* mov eax, 7 */
	0xf4,                               /* hlt */
};

#define MOV_ECX_MMIO 0xb9, 0x00, 0x00, 0x80, 0x00 /* mov ecx, KE_MMIO (not mapped) */

static const uint8_t g_ept_read[] = {MOV_ECX_MMIO, 0x8b, 0x41, 0x10};        /* mov eax, [rcx + 0x10] */
static const uint8_t g_ept_write[] = {MOV_ECX_MMIO, 0x48, 0x89, 0x59, 0x08}; /* mov [rcx + 8], rbx */
static const uint8_t g_ept_rmw[] = {MOV_ECX_MMIO, 0x01, 0x01};               /* add [rcx], eax */
static const uint8_t g_ept_fetch[] = {MOV_ECX_MMIO, 0xff, 0xe1};             /* jmp rcx */
/* Stores of each size to MMIO (PVM retires them before exiting: the backend finds them again before RIP). */
static const uint8_t g_ept_stores[] = {
	MOV_ECX_MMIO,
	0xb8, 0x3e, 0x66, 0x48, 0xf3,       /* mov eax, 0xf348663e (prefix-like bytes before each store) */
	0xbe, 0x77, 0x00, 0x00, 0x00,       /* mov esi, 0x77 (SIL differs from DH) */
	0x88, 0x41, 0x01,                   /* mov [rcx + 1], al */
	0x66, 0x89, 0x41, 0x02,             /* mov [rcx + 2], ax */
	0x89, 0x41, 0x04,                   /* mov [rcx + 4], eax */
	0x48, 0x89, 0x41, 0x08,             /* mov [rcx + 8], rax */
	0x40, 0x88, 0x71, 0x10,             /* mov [rcx + 0x10], sil */
	0xc6, 0x41, 0x11, 0x5a,             /* mov byte [rcx + 0x11], 0x5a */
	0x48, 0xc7, 0x41, 0x18, 0x78, 0x56, 0x34, 0x12, /* mov qword [rcx + 0x18], 0x12345678 */
	0xe6, KD_END_PORT,                  /* out 0xf4, al */
};

static const uint8_t g_ept_stores_len[] = {3, 4, 3, 4, 4, 4, 8, 0};

/* OUT imm8 after bytes that look like prefixes (an immediate ending in 3e, f3, 67, 66). */
static const uint8_t g_out_after_prefix_bytes[] = {
	0xb8, 0x00, 0x00, 0x00, 0x3e, 0xe6, 0x80,   /* mov eax, 0x3e000000; out 0x80, al */
	0xb8, 0x00, 0x00, 0x00, 0xf3, 0xe6, 0x81,   /* mov eax, 0xf3000000; out 0x81, al */
	0xb8, 0x00, 0x00, 0x67, 0x67, 0xe7, 0x84,   /* mov eax, 0x67670000; out 0x84, eax */
	0xb8, 0x00, 0x00, 0x00, 0x66, 0xe6, 0x85,   /* mov eax, 0x66000000; out 0x85, al */
	0x66, 0xba, 0x70, 0x00,                     /* mov dx, 0x70 */
	0xb9, 0x00, 0x00, 0x00, 0x2e, 0xee,         /* mov ecx, 0x2e000000; out dx, al */
	0xe6, KD_END_PORT,                          /* out 0xf4, al */
};

static const uint8_t g_ept_readonly[] = {
	0xbb, 0x10, 0x00, 0x02, 0x00,       /* mov ebx, KE_DATA + 0x10 */
	0x8b, 0x13,                         /* mov edx, [rbx] (readable) */
	0x89, 0x53, 0x04,                   /* mov [rbx + 4], edx */
};

static const struct kd_guest kd_guests[] = {
	{"io ring 3 (imm8 and DX, byte/word/dword)", 3, G(g_io_ring3), NULL, NULL},
	{"io ring 0 (ports >= 0x100) + HLT", 0, G(g_io_ring0), NULL, NULL},
	{"string io ring 3 (REP OUTSB, OUTSW, REP INSB, a32 OUTSD, a32 REP INSW)", 3, G(g_string_io), kd_fill_data, NULL},
	{"HLT at CPL 0", 0, G(g_hlt_ring0), NULL, NULL},
	{"EPT violation: read of an unmapped GPA", 3, G(g_ept_read), NULL, NULL},
	{"EPT violation: write to an unmapped GPA", 3, G(g_ept_write), NULL, NULL},
	{"EPT violation: read-modify-write of an unmapped GPA", 3, G(g_ept_rmw), NULL, NULL},
	{"EPT violation: fetch from an unmapped GPA", 3, G(g_ept_fetch), NULL, NULL},
	{"EPT violation: write to a read-only page", 3, G(g_ept_readonly), kd_protect_data_ro, NULL},
	{"EPT violations: MMIO stores of each size, skipped by the VMM", 3, G(g_ept_stores), NULL, g_ept_stores_len},
	{"OUT imm8/DX after prefix-like bytes", 3, G(g_out_after_prefix_bytes), NULL, NULL},
};

static void test_kvm_diff_same_guests(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	static struct kd_trace emu, kvm;
	unsigned failed = 0, exits = 0;
	kd_probe_iopl();
	for (size_t gi = 0; gi < sizeof kd_guests / sizeof kd_guests[0]; gi++) {
		const struct kd_guest *g = &kd_guests[gi];
		kd_run_guest("emu", g, &emu);
		kd_run_guest("kvm", g, &kvm);
		unsigned bad = 0;
		if (emu.n != kvm.n) {
			print_message("  %s: %u exits on emu, %u on kvm\n", g->name, emu.n, kvm.n);
			bad++;
		}
		for (unsigned i = 0; i < emu.n && i < kvm.n; i++) {
			char what[160];
			snprintf(what, sizeof what, "%s, exit %u (reason %llu)", g->name, i, (unsigned long long)emu.st[i].reason);
			bad += kd_compare(what, &emu.st[i], &kvm.st[i], g->ring == 3 ? kd_ring3_flags : ~0ull);
		}
		if (memcmp(emu.data, kvm.data, sizeof emu.data)) {
			print_message("  %s: data memory differs\n", g->name);
			bad++;
		}
		print_message("%s: %u exits, last reason %llu: %s\n", g->name, emu.n,
			      (unsigned long long)emu.st[emu.n - 1].reason, bad ? "MISMATCH" : "same on emu and kvm");
		exits += emu.n;
		failed += bad != 0;
	}
	print_message("%u guests, %u exits compared, %u mismatching\n",
		      (unsigned)(sizeof kd_guests / sizeof kd_guests[0]), exits, failed);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kvm_diff_random_sequences, kd_teardown),
		cmocka_unit_test_teardown(test_kvm_diff_same_guests, kd_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
	printf("test_kvm_diff: skipped: the differential check runs x86-64 guest code natively under KVM and this host is not x86-64\n");
	return 0;
}
#endif
