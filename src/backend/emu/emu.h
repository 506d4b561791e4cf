/* emu.h: the emu backend's internal interfaces: per-vCPU CPU state, decoded instructions, MMU, and the VMX hooks. */
#ifndef HVX_EMU_EMU_H
#define HVX_EMU_EMU_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "core/guest_state.h"
#include "core/vcpu.h"
#include "core/vm.h"

/* The compiler's setjmp/longjmp for the run loop (EMU_SETJMP below): x86-64, not under AddressSanitizer. */
#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#if defined(__x86_64__) && !defined(EMU_ASAN)
#define EMU_BUILTIN_SJLJ 1
#endif

/* ---- modes ---- */
enum emu_mode { EM_REAL, EM_V86, EM_PROT16, EM_PROT32, EM_COMPAT16, EM_COMPAT32, EM_LONG64 };
enum emu_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_NONE = 15 };

/* CR / EFER / RFLAGS bits used by the CPU. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS_ (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE_ (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW_ (1ull << 29)
#define CR0_CD_ (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_VME (1ull << 0)
#define CR4_PVI (1ull << 1)
#define CR4_TSD (1ull << 2)
#define CR4_DE (1ull << 3)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_PCE (1ull << 8)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP (1ull << 11)
#define CR4_LA57 (1ull << 12)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_PCIDE (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define FL_CF (1ull << 0)
#define FL_PF (1ull << 2)
#define FL_AF (1ull << 4)
#define FL_ZF (1ull << 6)
#define FL_SF (1ull << 7)
#define FL_TF (1ull << 8)
#define FL_IF (1ull << 9)
#define FL_DF (1ull << 10)
#define FL_OF (1ull << 11)
#define FL_IOPL (3ull << 12)
#define FL_NT (1ull << 14)
#define FL_RF (1ull << 16)
#define FL_VM (1ull << 17)
#define FL_AC (1ull << 18)
#define FL_VIF (1ull << 19)
#define FL_VIP (1ull << 20)
#define FL_ID (1ull << 21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Exception vectors. */
enum { EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6, EXC_NM = 7, EXC_DF = 8,
       EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_XM = 19 };
/* Event types (interruption-information encoding). */
enum { EV_EXTINT = 0, EV_NMI = 2, EV_HWEXC = 3, EV_SWINT = 4, EV_PRIVSW = 5, EV_SWEXC = 6 };

/* ---- decoded instructions ---- */
struct emu_cpu;
struct emu_insn;
typedef void (*emu_handler)(struct emu_cpu *cpu, const struct emu_insn *in);

enum { OK_NONE, OK_REG, OK_MEM, OK_IMM, OK_SREG, OK_CR, OK_DR, OK_XMM, OK_ST, OK_PTR };

struct emu_op {
	uint8_t kind;
	uint8_t size; /* bytes */
	uint8_t reg;  /* GPR number, segment, CR/DR number, XMM number */
	uint8_t hi8;  /* AH/CH/DH/BH */
};

struct emu_insn {
	emu_handler fn;
	uint16_t mnem;   /* ZydisMnemonic */
	uint8_t len;
	uint8_t osz;     /* operand size, bytes */
	uint8_t asz;     /* address size, bytes */
	uint8_t nops;
	uint8_t rep;     /* 0 none, 1 REP/REPE, 2 REPNE */
	uint8_t lock;
	uint8_t seg;     /* segment of the memory operand */
	uint8_t sovr;    /* segment-override prefix (string instructions), SEG_DS if none */
	uint8_t base, index, scale; /* 0xff = none */
	uint8_t riprel;
	uint8_t aux;     /* handler-specific: ALU op, condition code, ... */
	uint8_t modrm_reg, modrm_mod, modrm_rm;
	uint8_t has_disp;
	uint8_t ends_block;
	uint8_t memop;   /* index of the memory operand, 0xff = none */
	uint8_t far;     /* far branch (JMP/CALL/RET) */
	uint8_t no_jit;  /* first instruction of a cached block the JIT found no translation for: the run loop
			  * interprets the block without asking again (until the block is decoded anew) */
	int64_t disp;
	uint64_t imm, imm2;
	struct emu_op op[4];
};

/* Linear-address bits (CPUID 80000008H:EAX[15:8]): 57, as the CPU supports 5-level paging (CPUID 7.0:ECX[16]). */
#define EMU_LINEAR_BITS 57
#define EMU_PHYS_BITS 48 /* CPUID 80000008H:EAX[7:0] */

/* Instructions per decoded block, at most (a block also ends at its guest-physical page). */
#define EMU_BLOCK_MAX 48

/* ---- lazy flags ---- */
enum { LF_NONE, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, LF_NEG };

/* ---- software TLB ---- */
#define EMU_TLB_SIZE 256
struct emu_tlb_entry {
	uint64_t tag_r, tag_w, tag_x; /* linear page | 1 when that access is allowed now, else 0 */
	uintptr_t host;               /* host address of the page */
	uint64_t gpa;                 /* guest-physical page */
	uint8_t global;
};

/* Access kinds for the MMU. */
enum { ACC_R = 1, ACC_W = 2, ACC_X = 4, ACC_SUPER = 8 /* implicit supervisor access (descriptor tables, TSS) */ };

/* Folded VMX controls: does an instruction class exit? */
enum emu_icls {
	IC_HLT, IC_INVLPG, IC_RDPMC, IC_RDTSC, IC_RDTSCP_OK, IC_MWAIT, IC_MONITOR, IC_PAUSE, IC_WBINVD, IC_RDRAND,
	IC_RDSEED, IC_INVPCID_OK, IC_DESC, IC_MOVDR, IC_CR3_LOAD, IC_CR3_STORE, IC_CR8_LOAD, IC_CR8_STORE, IC_TPR_SHADOW,
	IC_TSC_OFFSET, IC_UNCOND_IO, IC_VMFUNC_OK, IC_PLE, IC_XSAVES_OK, IC_IRQ_WND, IC_MTF, IC_NMI_WND, IC_ENCLS, IC_UWAIT_OK, IC_COUNT
};

struct emu_block;
struct emu_bcache;

/* What tells whether a decoded block still matches guest memory (decode.c fills it in each block). The run loop
 * compares a block of up to 16 bytes inline: two 8-byte loads from the TLB's host page against head under mask. */
struct emu_code_check {
	uint32_t epoch;     /* run_epoch of the block's last comparison */
	uint16_t nbytes;
	uint64_t gpa;       /* of the first byte; ~0 once found rewritten (never matches again) */
	uint64_t inline_page; /* the guest-physical page when nbytes <= 16 and the 16 bytes from the block's start lie
			       * in it (the inline comparison applies), else ~0 (no TLB entry's) */
	uint64_t head[2];   /* the first 16 bytes, zero past nbytes */
	uint64_t mask[2];   /* all-ones over the block's bytes */
};
struct hvx_msr_entry;

/* The dual-monitor SMM model, wait-for-SIPI and the VM-entry extensions (vmx/smm.c, vmx/entry_ext.c). */
struct emu_smm {
	uint8_t *smi_ports;          /* 8 KiB, bit set = the port's I/O instruction is followed by an I/O SMI; NULL = none */
	struct {
		bool pending;            /* an SMI-triggering I/O instruction completed in this block */
		uint64_t qual, gla, rcx, rsi, rdi, rip;
	} io;
	uint64_t run_deadline;       /* the run's deadline alone (no preemption timer), CLOCK_MONOTONIC ns, ~0 = none */
	struct hvx_msr_entry *entry_msrs; /* hvx_vcpu_set_entry_msr_load */
	unsigned entry_msr_count;
	bool entry_mc;               /* hvx_vcpu_inject_entry_machine_check: the next VM entry fails with reason 41 */
};

struct emu_seg_cache {
	uint64_t base;
	uint32_t lo, hi; /* valid offsets lo..hi (hi inclusive) */
	uint8_t r, w;    /* readable / writable */
};

struct emu_cpu {
	struct hvx_vcpu *vcpu;
	struct hvx_vcpu_state *s;
	uint64_t *v;  /* s->vmcs */
	struct hvx_vm *vm;

	/* lazy flags */
	uint64_t lf_res, lf_a, lf_b;
	uint8_t lf_op, lf_size, lf_cin;

	/* derived mode */
	uint8_t mode, cpl, dec_key;
	uint8_t paging; /* 0 off, 2 32-bit, 3 PAE, 4 4-level, 5 5-level */
	uint8_t stack_sz;
	uint64_t ip_mask;
	struct emu_seg_cache sc[6];

	/* MMU */
	struct emu_tlb_entry tlb[EMU_TLB_SIZE];
	uint64_t memmap_gen;
	atomic_uint_fast64_t seen_gen;
	atomic_int in_guest;
	/* events raised by the VMM (any thread): EMU_EV_* flags, the pending external interrupt's vector in bits 15:8 */
	atomic_uint events;

	/* decoded code: the jump cache maps a linear RIP to its decoded block while jc_gen is unchanged (across runs
	 * too); a block is compared with guest memory again at its first use in each run (its epoch is not run_epoch),
	 * because the VMM may have rewritten guest code between runs */
	struct {
		uint64_t la;
		uint64_t tag;               /* jc_gen << 8 | dec_key when filled; 0 = never filled */
		const struct emu_insn *ins;
		struct emu_code_check *chk; /* the block's */
		uint16_t n;
	} jc[1024];
	uint32_t jc_gen;
	uint64_t jc_tag64; /* jc_gen << 8 | dec_key in 64-bit mode, else ~0 (no entry's): the run loop's inline lookup
			    * (la = RIP) */
	uint32_t link_gen; /* the JIT's direct links between blocks hold while this is unchanged: one run, same jc_gen */
	struct emu_bcache *bc;
	uint64_t *code_bits;  /* bitmap of guest-physical pages holding decoded code */
	/* Work at a block boundary besides dispatch, read as one word (blk_due) by the run loop so that the common block
	 * pays one test for it (with c->events for what other threads raise). */
	union {
		struct {
			bool code_dirty; /* a write hit a decoded page: drop the cache at the next block boundary */
			bool blk_static; /* the run needs the boundary checks whatever happens (set at entry: a deadline or
					  * timer, interrupt / NMI-window exiting, virtual-interrupt delivery, a budget) */
		};
		uint16_t blk_due;
	};
	uint32_t run_epoch;
	uint64_t rflags_at_exit; /* RFLAGS as the last run left it: an entry with only RIP changed skips the entry checks */
	/* Set when a run ends: the next entry, if the VMM changed nothing but GPRs, RIP, FPU state (and RFLAGS back to its
	 * exit value) and no event is raised, has no entry work (no injection, HLT or other inactive state, STI / MOV-SS
	 * blocking, pending debug exception, preemption timer, APIC virtualisation at entry, MSR-load list, machine check):
	 * emu_run then skips it. The backend's setters of the extensions that act at entry clear it. */
	bool entry_quiet;
	bool entry_ctl_quiet; /* the controls' part of it (emu_refresh) */
	bool blk_ctl;         /* the controls' and the budget's part of blk_static (emu_refresh) */
	bool direct_ctl;      /* the controls' part of a quiet entry's direct route into translated code (emu_refresh) */
	/* The first instruction of the block running in the interpreter (or of a translated block in one of its slow
	 * paths); an exit or fault out of its middle counts the ones before c->cur as retired. NULL between blocks. */
	const struct emu_insn *blk_first;
	bool exit_by_return; /* the interpreter loop is calling a handler: instruction exits return to it (vmx.c) */
	bool exit_returned;  /* and one did: the loop leaves the run */

	/* execution */
#ifdef EMU_BUILTIN_SJLJ
	void *jb[5];      /* __builtin_setjmp buffer (EMU_SETJMP) */
#else
	jmp_buf jb;
#endif
	int jmp_code;
	uint64_t next_rip;
	const struct emu_insn *cur;
	bool stop;        /* end the current block after this instruction */
	uint8_t shadow;   /* 1: STI/MOV SS blocking for the next instruction */
	uint8_t shadow_kind;
	bool step_tf;     /* the executing instruction began with RFLAGS.TF = 1 (its single-step trap is due) */
	uint64_t pend_dbg; /* pending debug exceptions (VMCS 0x6822 format: B3-B0, enabled breakpoint, BS) */
	uint64_t icount;
	uint64_t deadline_ns;  /* run deadline / preemption-timer expiry (CLOCK_MONOTONIC ns), ~0 = none */
	uint64_t timer_expiry; /* preemption-timer expiry when the timer is active, else ~0 */
	uint32_t block_tick;
	uint64_t budget;   /* HVX_EMU_MAX_INSNS: a run ends with VMX_REASON_IRQ after this many instructions (0 = none) */

	/* exceptions */
	struct {
		uint8_t vec, has_err;
		uint32_t err;
		uint64_t cr2;
		uint8_t ept;  /* pending EPT exit instead of an exception */
	} exc;
	struct {
		bool valid;
		uint8_t vec, type, has_err, len;
		uint32_t err;
	} vect;  /* the event being delivered */
	bool skip_bitmap; /* the event being delivered was injected by VM entry */
	struct {
		uint64_t rsp, rflags, seg[6][4];
		uint8_t cpl;
	} snap;           /* state before the current delivery */

	/* VMX */
	struct hvx_exit *exit;
	uint8_t icls[IC_COUNT];
	uint32_t pin, proc, proc2, exitc, entryc;
	uint8_t *io_bitmap; /* bitmaps A and B (8 KiB, bit set = exit), hvx_vcpu_set_io_bitmap; NULL = all ports exit */
	uint8_t *msr_bitmap; /* read half then write half (2 KiB each: low MSRs, then 0xc0000000-), bit set = exit;
				hvx_vcpu_set_msr_intercept; NULL = every MSR not native or managed exits */
	bool monitor_armed;  /* MONITOR / UMONITOR */
	uint64_t umwait_control; /* IA32_UMWAIT_CONTROL (uwait.c) */
	bool iret_nmi_unblocked; /* inside an IRET that ended (virtual-)NMI blocking: exits report bit 12 */
	bool in_iret;            /* inside IRET: a fault or exit restores RSP to iret_rsp (the pops did not happen) */
	uint64_t iret_rsp;
	struct {
		bool armed;
		uint64_t gpa, la, vector;
		uint32_t perms;
	} spp;                   /* a write let through by sub-page permissions: its range is checked next (spp.c) */
	uint64_t ple_last, ple_first;
	uint64_t apic_page;  /* APIC-access page (GPA) while "virtualize APIC accesses" is on, else ~0 (apicv.c) */
	bool apicv_pend;     /* a virtualized write to the APIC-access page awaits APIC-write emulation ... */
	uint16_t apicv_off;  /* ... at this page offset */
	struct emu_smm smm; /* SMM model, wait-for-SIPI, VM-entry MSR-load list, injected entry machine check (smm.c, entry_ext.c) */

	/* statistics */
	uint64_t ud_count;
	_Atomic uint64_t retired;          /* instructions retired by this vCPU (written by its owner thread only) */
	struct emu_cpu *live_prev, *live_next; /* the backend's list of live vCPUs, summed by the statistics op */

	/* one-instruction mode (step.c): guest-physical accesses go to callbacks; NULL for a vCPU's CPU */
	struct emu_phys *phys;

	/* JIT tier (jit/jit.c): per-vCPU code cache, the link slot an exit asks to fill, chained blocks left per entry */
	struct emu_jit *jit;
	void *jit_slot;
	uint64_t jit_fuel;
	uint32_t code_gen; /* bumped whenever decoded blocks are dropped: translations go with them */
	bool jit_on;
};

/* Per-VM emu data (hvx_vm.backend_data). */
struct emu_spp_entry {
	uint64_t key;               /* page | space (spp.c), 0 = empty slot */
	uint64_t vector;            /* the leaf SPP entry: bit 2i = sub-page i writable, odd bits reserved */
	uint8_t mode;               /* enum hvx_spp_mode */
};
struct emu_vm {
	pthread_mutex_t lock;       /* the dirty set and the SPP table */
	uint64_t *dirty;            /* EPT dirty flags: open-addressing set of page keys (pml.c), 0 = empty */
	size_t dirty_cap, dirty_count;
	struct emu_spp_entry *spp;  /* SPP pages (spp.c) */
	size_t spp_cap, spp_count;
};

/* ---- spp.c: sub-page write permissions ---- */
#define EMU_PERM_SPP (1u << 31) /* with the perms given to vmx_exit_ept: an SPP-induced EPT violation (bit 11) */
void emu_spp_fini(struct emu_vm *ev);
hv_return_t emu_vm_set_spp(struct hvx_vm *vm, hv_vm_space_t space, uint64_t gpa, unsigned mode, uint64_t vector);
bool spp_write(struct emu_cpu *c, uint64_t gpa, uint64_t la, uint32_t perms, bool *spp_page);
void spp_check_range(struct emu_cpu *c, unsigned n, unsigned acc);
static inline bool spp_on(const struct emu_cpu *c) { return c->proc2 & CPU_BASED2_EPT_SUBPAGE_WRITE; }

/* ---- pml.c: EPT dirty flags and the page-modification log ---- */
bool emu_dirty_init(struct emu_vm *ev);
void emu_dirty_fini(struct emu_vm *ev);
bool emu_dirty_test(struct emu_cpu *c, uint64_t gpa);
void emu_dirty_clear(struct hvx_vm *vm, hv_vm_space_t space, uint64_t gpa, uint64_t size);
void pml_write(struct emu_cpu *c, uint64_t gpa); /* a write to gpa with "enable PML": log or exit 62 */
static inline bool pml_on(const struct emu_cpu *c) { return c->proc2 & CPU_BASED2_PML; }

/* longjmp codes */
enum { JMP_FAULT = 1, JMP_EXIT = 2, JMP_EVENT = 3 /* HLT ended by a delivered event */ };

/*
 * The run loop's non-local exit (every VM exit and guest fault leaves the handlers through it). On x86-64 without
 * AddressSanitizer it is the compiler's __builtin_setjmp/__builtin_longjmp (frame, stack and resume address only; the
 * function holding the receiver treats every register as clobbered there), which skips glibc's signal-mask-free but
 * still costly register mangling and cleanup-handler unwinding; the code travels in c->jmp_code. Elsewhere, and under
 * ASan (whose longjmp interceptor unpoisons the abandoned stack), setjmp/longjmp.
 */
#ifdef EMU_BUILTIN_SJLJ
#define EMU_SETJMP(c) (__builtin_setjmp((c)->jb) ? (c)->jmp_code : 0)
#define EMU_LONGJMP(c, code) ((c)->jmp_code = (code), __builtin_longjmp((c)->jb, 1))
#else
#define EMU_SETJMP(c) setjmp((c)->jb)
#define EMU_LONGJMP(c, code) longjmp((c)->jb, (code))
#endif

/* ---- flags.c ---- */
uint64_t emu_flags(struct emu_cpu *c);            /* materialize arithmetic flags into s->rflags, return rflags */
static inline void lf_set(struct emu_cpu *c, int op, int size, uint64_t res, uint64_t a, uint64_t b)
{
	c->lf_op = (uint8_t)op;
	c->lf_size = (uint8_t)size;
	c->lf_res = res;
	c->lf_a = a;
	c->lf_b = b;
}
bool emu_cond(struct emu_cpu *c, unsigned cc);
bool emu_cf(struct emu_cpu *c); /* the carry flag alone, without materializing the others */
void emu_set_flags(struct emu_cpu *c, uint64_t value, uint64_t mask); /* write rflags bits under mask */

/* ---- mmu.c ---- */
/* Is la canonical for the current paging mode (57 bits with CR4.LA57, else 48)? */
static inline bool emu_canonical(const struct emu_cpu *c, uint64_t la)
{
	return hvx_canonical(la, (c->v[HVX_SLOT_GUEST_CR4] & CR4_LA57) ? 57 : 48);
}
void mmu_flush(struct emu_cpu *c, bool include_global);
void mmu_invlpg(struct emu_cpu *c, uint64_t la);
uint64_t mmu_read_lin(struct emu_cpu *c, uint64_t la, unsigned size, unsigned acc);
void mmu_write_lin(struct emu_cpu *c, uint64_t la, unsigned size, uint64_t val, unsigned acc);
void mmu_read_buf(struct emu_cpu *c, uint64_t la, void *dst, unsigned n, unsigned acc);
void mmu_write_buf(struct emu_cpu *c, uint64_t la, const void *src, unsigned n, unsigned acc);
/* Host pointer for n bytes at la within one page with access acc, or NULL if it needs the slow path. */
uint8_t *mmu_ptr(struct emu_cpu *c, uint64_t la, unsigned n, unsigned acc);
/* Fetch code bytes: returns count available (up to n) without fault if allow_partial, faults otherwise. */
unsigned mmu_fetch(struct emu_cpu *c, uint64_t la, uint8_t *dst, unsigned n, uint64_t *gpa_out);
bool mmu_code_page(struct emu_cpu *c, uint64_t gpa);
void mmu_mark_code(struct emu_cpu *c, uint64_t gpa);
void mmu_sync_gen(struct emu_cpu *c);

/* segment-relative access */
uint64_t seg_linear(struct emu_cpu *c, unsigned seg, uint64_t off, unsigned size, unsigned acc);
uint64_t mem_read(struct emu_cpu *c, unsigned seg, uint64_t off, unsigned size);
void mem_write(struct emu_cpu *c, unsigned seg, uint64_t off, unsigned size, uint64_t val);

/* ---- step.c: the one-instruction mode. mmu.c consults c->phys only on TLB-miss paths: translate() then
 * returns no host page (so nothing is cached) and records the guest-physical address here. ---- */
struct emu_step_mem;
struct emu_phys {
	const struct emu_step_mem *mem;
	uint64_t gpa;        /* guest-physical address of the last translation */
	bool fetch;          /* instruction fetch: the bytes must be RAM */
	bool no_ad;          /* translation probe: accessed/dirty bits are not written */
	int err;             /* enum emu_step_result when the step ended by longjmp(JMP_EXIT) */
	unsigned dev_accesses, dev_size;
	uint64_t dev_gpa, dev_value;
	bool dev_write;
};
void emu_phys_read(struct emu_cpu *c, uint64_t gpa, void *dst, unsigned n);
void emu_phys_write(struct emu_cpu *c, uint64_t gpa, const void *src, unsigned n);
uint64_t emu_phys_pte_read(struct emu_cpu *c, uint64_t gpa, unsigned size);
void emu_phys_pte_set(struct emu_cpu *c, uint64_t gpa, unsigned size, uint64_t bits);

/* ---- exec.c ---- */
void emu_cpu_init(struct emu_cpu *c, struct hvx_vcpu *vcpu);
void emu_cpu_fini(struct emu_cpu *c);
void emu_refresh(struct emu_cpu *c);  /* recompute mode, CPL, segment caches, folded controls */
void emu_mode_update(struct emu_cpu *c);
void emu_seg_update(struct emu_cpu *c, unsigned seg);
hv_return_t emu_run(struct emu_cpu *c, uint64_t deadline, struct hvx_exit *exit);
/* emu_backend.c: the mapper makes the memory-map handshake's fences with membarrier(2) (see there). */
extern atomic_bool emu_asym_fence;
_Noreturn void emu_fault(struct emu_cpu *c, unsigned vec, bool has_err, uint32_t err);
_Noreturn void emu_ud(struct emu_cpu *c);
_Noreturn void emu_gp0(struct emu_cpu *c);
_Noreturn void emu_pf(struct emu_cpu *c, uint64_t la, uint32_t err);
extern _Atomic uint64_t emu_stat_ud;

/* ---- decode.c ---- */
/* The jump cache and the JIT's links no longer hold (a TLB flush, a new CS, a flushed block cache, ...). */
static inline uint64_t emu_jc_tag(const struct emu_cpu *c)
{
	return (uint64_t)c->jc_gen << 8 | c->dec_key;
}
/* After jc_gen, the mode or dec_key changed. */
static inline void emu_jc_tag_update(struct emu_cpu *c)
{
	c->jc_tag64 = c->mode == EM_LONG64 ? emu_jc_tag(c) : ~0ull;
}
static inline void emu_jc_drop(struct emu_cpu *c)
{
	if (!++c->jc_gen)
		c->jc_gen = 1; /* 0 is the generation of never-filled entries */
	c->link_gen++;
	emu_jc_tag_update(c);
}
struct emu_bcache *bc_create(void);
void bc_destroy(struct emu_bcache *bc);
void bc_flush(struct emu_bcache *bc);
/* Is `in` part of a cached block (stable until the cache is flushed), not the one-off slot of a page-crossing instruction? */
bool bc_cached(const struct emu_bcache *bc, const struct emu_insn *in);
/* The code check of the cached block whose first instruction is `in`. */
struct emu_code_check *bc_check_of(const struct emu_insn *in);
/* The decoded instruction sequence starting at the current RIP (NULL and a fault on fetch errors). */
const struct emu_insn *bc_lookup(struct emu_cpu *c, unsigned *count);
/* Jump-cache entry j names a block not yet checked in this run: compare it with guest memory through the TLB.
 * false: not possible that way or rewritten (then bc_lookup, which decodes what is there now). */
bool bc_recheck(struct emu_cpu *c, unsigned j);
/* The inline part of that for the block with check k at linear address la: a block of up to 16 bytes whose page the
 * TLB holds is compared by two loads. True (and the block's epoch set) when it is unchanged there; false when that
 * cannot tell or it differs (bc_recheck then decides), and always for a block found stale (inline_page ~0). */
static inline bool bc_same_at(struct emu_cpu *c, uint64_t la, struct emu_code_check *k)
{
	const struct emu_tlb_entry *e = &c->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
	if (e->gpa != k->inline_page || e->tag_x != ((la & ~0xfffull) | 1))
		return false;
	const uint8_t *p = (const uint8_t *)e->host + (la & 0xfff);
	uint64_t w0, w1;
	__builtin_memcpy(&w0, p, 8);
	__builtin_memcpy(&w1, p + 8, 8);
	if (((w0 ^ k->head[0]) & k->mask[0]) | ((w1 ^ k->head[1]) & k->mask[1]))
		return false;
	k->epoch = c->run_epoch;
	return true;
}
/* The same for jump-cache entry j. */
static inline bool bc_same(struct emu_cpu *c, unsigned j)
{
	return bc_same_at(c, c->jc[j].la, c->jc[j].chk);
}
/* bc_recheck, inline for the run loop where bc_same can tell. */
static inline bool bc_current(struct emu_cpu *c, unsigned j)
{
	return bc_same(c, j) || bc_recheck(c, j); /* a rewritten block: bc_recheck marks it stale */
}
int emu_decode_one(struct emu_cpu *c, const uint8_t *bytes, unsigned n, struct emu_insn *out);
/* The same without a block cache: key is a dec_key (mode << 2 | stack width). */
int emu_decode_single(unsigned key, const uint8_t *bytes, unsigned n, struct emu_insn *out);

/* ---- operand helpers (ops.c) ---- */
uint64_t op_addr(struct emu_cpu *c, const struct emu_insn *in);           /* effective offset */
uint64_t op_read(struct emu_cpu *c, const struct emu_insn *in, unsigned i);
void op_write(struct emu_cpu *c, const struct emu_insn *in, unsigned i, uint64_t v);
/* op_read of a read-modify-write destination (the write access is checked first). */
uint64_t op_read_rmw(struct emu_cpu *c, const struct emu_insn *in, unsigned i);
void mem_rmw_check(struct emu_cpu *c, unsigned seg, uint64_t off, unsigned size);
static inline uint64_t sz_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}
static inline uint64_t sext(uint64_t v, unsigned size)
{
	switch (size) {
	case 1: return (uint64_t)(int64_t)(int8_t)v;
	case 2: return (uint64_t)(int64_t)(int16_t)v;
	case 4: return (uint64_t)(int64_t)(int32_t)v;
	default: return v;
	}
}
static inline uint64_t reg_get(struct emu_cpu *c, unsigned r, unsigned size, bool hi8)
{
	uint64_t v = c->s->gpr[r & 15];
	if (hi8)
		return (v >> 8) & 0xff;
	return v & sz_mask(size);
}

static inline void reg_set(struct emu_cpu *c, unsigned r, unsigned size, bool hi8, uint64_t v)
{
	uint64_t *g = &c->s->gpr[r & 15];
	switch (size) {
	case 1:
		if (hi8)
			*g = (*g & ~0xff00ull) | ((v & 0xff) << 8);
		else
			*g = (*g & ~0xffull) | (v & 0xff);
		break;
	case 2: *g = (*g & ~0xffffull) | (v & 0xffff); break;
	case 4: *g = v & 0xffffffffull; break;
	default: *g = v; break;
	}
}
void emu_push(struct emu_cpu *c, unsigned size, uint64_t v);
uint64_t emu_pop(struct emu_cpu *c, unsigned size);
void emu_branch(struct emu_cpu *c, uint64_t target, unsigned osz);

/* ---- handler lookup (tables in the cpu/ files) ---- */
emu_handler emu_handler_for(unsigned mnemonic, uint8_t *aux);
void h_ud(struct emu_cpu *c, const struct emu_insn *in);

/* ---- seg.c / system ---- */
void seg_load(struct emu_cpu *c, unsigned seg, uint16_t sel); /* MOV/POP Sreg semantics, faults */
void seg_load_real(struct emu_cpu *c, unsigned seg, uint16_t sel);
bool desc_read(struct emu_cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi, unsigned exc_vec);
void seg_set_from_desc(struct emu_cpu *c, unsigned seg, uint16_t sel, uint64_t lo, uint64_t hi);
void far_transfer(struct emu_cpu *c, uint16_t sel, uint64_t off, unsigned osz, int kind); /* kind 0 jmp, 1 call */
void far_return(struct emu_cpu *c, unsigned osz, unsigned pop_bytes);
void emu_iret(struct emu_cpu *c, unsigned osz);
uint64_t cr0_read(struct emu_cpu *c);
void cr_write(struct emu_cpu *c, unsigned cr, uint64_t v);
bool mmu_pdpte_reserved(uint64_t pdpte);
void mmu_pae_load_pdptes(struct emu_cpu *c, uint64_t cr3);

/* ---- event.c ---- */
/* Deliver an event through the IVT/IDT at the current state (RIP already set to the return address). */
void emu_deliver(struct emu_cpu *c, unsigned vec, unsigned type, bool has_err, uint32_t err, unsigned ilen);
void emu_handle_fault(struct emu_cpu *c);
void emu_delivery_restore(struct emu_cpu *c);

/* ---- vmx.c: the hooks ---- */
void vmx_fold(struct emu_cpu *c);                        /* controls -> per-class table, at entry */
_Noreturn void vmx_exit_insn(struct emu_cpu *c, unsigned reason, uint64_t qual, uint32_t info);
/* The same from a handler in tail position: the handler must return right after it (it returns only when the
 * interpreter loop called the handler and leaves the run itself; else it does not return). */
void vmx_exit_insn_return(struct emu_cpu *c, unsigned reason, uint64_t qual, uint32_t info);
_Noreturn void vmx_exit_event(struct emu_cpu *c, unsigned reason);
static inline bool vmx_cls(struct emu_cpu *c, enum emu_icls k) { return c->icls[k]; }
/* The I/O exit check: true when the instruction exits (the handler must return at once), false when it executes. */
bool vmx_io(struct emu_cpu *c, const struct emu_insn *in, uint16_t port, unsigned size, bool in_dir, bool string,
	    bool imm);
bool vmx_io_port(struct emu_cpu *c, const struct emu_insn *in, unsigned port, unsigned size, bool in_dir, bool imm);
bool vmx_msr_exits(struct emu_cpu *c, uint32_t msr, bool write);
/* MOV CR intercept: exits (longjmp) or returns the value to store (host-owned bits kept). */
uint64_t vmx_cr_access(struct emu_cpu *c, const struct emu_insn *in, unsigned cr, bool write, unsigned gpr, uint64_t val);
void vmx_clts(struct emu_cpu *c, const struct emu_insn *in);
bool vmx_lmsw(struct emu_cpu *c, const struct emu_insn *in, uint16_t src, bool mem, uint64_t la);
uint64_t vmx_cr_read_shadowed(struct emu_cpu *c, unsigned cr);
bool vmx_exception_exits(struct emu_cpu *c, unsigned vec, uint32_t err);
_Noreturn void vmx_exit_exception(struct emu_cpu *c, unsigned vec, unsigned type, bool has_err, uint32_t err,
				   unsigned ilen, uint64_t qual);
_Noreturn void vmx_exit_ept(struct emu_cpu *c, uint64_t gpa, uint64_t la, bool la_valid, bool final, unsigned acc,
			     uint32_t perms, bool misconfig);
_Noreturn void vmx_triple_fault(struct emu_cpu *c);
void vmx_exit_idt_vectoring(struct emu_cpu *c, struct hvx_exit *e); /* the event being delivered, into the record */
uint64_t vmx_access_exit_rflags(struct emu_cpu *c, bool idt);      /* RFLAGS (RF rule) of a memory-access exit */
/* Fault-like exit of a guest-physical access other than an EPT violation (PML full, SPP): IDT vectoring, RF as 48. */
_Noreturn void vmx_exit_access(struct emu_cpu *c, unsigned reason, uint64_t qual, uint64_t gpa, uint64_t la);
uint32_t vmx_mem_info(struct emu_cpu *c, const struct emu_insn *in);  /* addressing part of instruction info */
uint64_t vmx_disp_qual(struct emu_cpu *c, const struct emu_insn *in);
uint64_t vmx_tsc(struct emu_cpu *c);
void vmx_tsc_write(struct emu_cpu *c, uint64_t val);
void vmx_pause(struct emu_cpu *c, const struct emu_insn *in);
bool vmx_entry_checks(struct emu_cpu *c);  /* guest-state checks; false -> exit 33 filled */
bool vmx_entry_rip_check(struct emu_cpu *c); /* the RIP check alone (SDM 26.3.1.4); false -> exit 33 filled */
void vmx_inject(struct emu_cpu *c);        /* VM-entry event injection */
_Noreturn void vmx_halt(struct emu_cpu *c);
/* c->events bits (set by any thread). KICK: hv_vcpu_interrupt set vcpu->kick_pending (the backend's kick adds this bit
 * so that the run loop tests one word); MEMMAP: the memory map changed (the vCPU syncs its generation). */
enum { EMU_EV_NMI = 1u, EMU_EV_EXTINT = 2u, EMU_EV_INIT = 4u, EMU_EV_SIPI = 8u /* vector in bits 23:16 */, EMU_EV_SMI = 16u,
       EMU_EV_KICK = 32u, EMU_EV_MEMMAP = 64u };
void vmx_init(struct emu_cpu *c);           /* pending INIT: exit 3 */
void vmx_events(struct emu_cpu *c);         /* pending NMI, then external interrupt, at an instruction boundary */
void vmx_nmi(struct emu_cpu *c);
void vmx_extint(struct emu_cpu *c);
bool vmx_wake(struct emu_cpu *c);
bool vmx_nmi_window(struct emu_cpu *c);     /* NMI-window exiting and the window open at this boundary */           /* does something end HLT (kick, raised event)? */
void vmx_check_deadline(struct emu_cpu *c);
void vmx_tpr_below_threshold(struct emu_cpu *c); /* TPR virtualization after a VTPR write: exit 43 if below */ /* exit 52 when the deadline or the preemption timer has passed */
void vmx_single_step(struct emu_cpu *c);
/* Pending debug exceptions (bits of VMCS 0x6822): a #DB trap as "traps on the previous instruction" unless MOV-SS
 * blocking holds it; true if one was delivered through the IDT (an exit through the exception bitmap longjmps). */
#define DBG_B0_3 0xfull
#define DBG_EN (1ull << 12)
#define DBG_BS (1ull << 14)
bool vmx_debug_trap(struct emu_cpu *c);
_Noreturn void vmx_exit_finish(struct emu_cpu *c); /* save guest state and leave (c->exit already filled) */

/* ---- apicv.c: APIC virtualization ---- */
/* Is gpa on the APIC-access page (with "virtualize APIC accesses" on)? */
static inline bool apicv_page(const struct emu_cpu *c, uint64_t gpa)
{
	return (c->proc2 & CPU_BASED2_VIRTUAL_APIC) && !((gpa ^ c->apic_page) & ~0xfffull);
}
/* A linear access of n bytes at la that hit the APIC-access page: exit 44, or the virtual-APIC bytes to use. */
uint8_t *apicv_access(struct emu_cpu *c, uint64_t la, unsigned n, unsigned acc);
_Noreturn void apicv_exit_physical(struct emu_cpu *c); /* guest-physical access (paging structures, PDPTEs) */
void apicv_write_emulation(struct emu_cpu *c);         /* after the instruction that did a virtualized write */
void apicv_tpr_virtualization(struct emu_cpu *c);      /* after a VTPR write (MOV to CR8, APIC page offset 0x80) */
void apicv_entry(struct emu_cpu *c);
void apicv_entry_tpr(struct emu_cpu *c);               /* TPR below threshold right after VM entry (exit 43) */
bool apicv_virq_ready(struct emu_cpu *c);              /* virtual interrupt recognized and deliverable now */
void apicv_deliver(struct emu_cpu *c);                 /* virtual-interrupt delivery through the IDT */
/* I/O qualification (spec 6.30) and, for string I/O, the guest-linear address and instruction information. */
uint64_t vmx_io_qual(struct emu_cpu *c, const struct emu_insn *in, uint16_t port, unsigned size, bool in_dir,
		     bool string, bool imm, uint64_t *la, uint32_t *info);

/* ---- smm.c: dual-monitor SMM model, SIPI / wait-for-SIPI ---- */
void vmx_smi(struct emu_cpu *c, bool mtf_pending); /* pending SMI (OTHER_SMI) and SIPI discard at a boundary */
void vmx_io_smi_latch(struct emu_cpu *c, const struct emu_insn *in, uint16_t port, unsigned size, bool in_dir,
		      bool string, bool imm);
void vmx_io_smi(struct emu_cpu *c);            /* exit IO_SMI after the I/O instruction that latched it */
bool vmx_smi_wakes(struct emu_cpu *c);         /* does a pending SMI end HLT? */
void vmx_rsm(struct emu_cpu *c);               /* RSM in an SMM guest exits (17); returns outside SMM (#UD then) */
_Noreturn void vmx_sipi_wait(struct emu_cpu *c); /* wait-for-SIPI: exits on SIPI, kick or the run deadline */
void vmx_shutdown_wait(struct emu_cpu *c);       /* shutdown: exits, or returns once an NMI was delivered */
void emu_smm_fini(struct emu_cpu *c);
/* ---- entry_ext.c: the VM-entry MSR-load list and injected machine checks, after the guest-state checks ---- */
bool vmx_entry_late(struct emu_cpu *c);        /* false: exit 34 or 41 filled */
/* Virtualize x2APIC mode: an RDMSR/WRMSR of 0x800-0x8ff that did not exit; false = not virtualized. */
bool apicv_msr(struct emu_cpu *c, uint32_t msr, bool wr, uint64_t val);

#endif
