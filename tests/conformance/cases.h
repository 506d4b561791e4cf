/* cases.h: the conformance case table (one row per guest scenario, grouped by exit reason) and helpers the case bodies share. */
#ifndef HVX_CONFORMANCE_CASES_H
#define HVX_CONFORMANCE_CASES_H

#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Case flags. */
#define C_NO_KVM 1u /* never run on kvm: VMCALL hangs this host's PVM /dev/kvm */
#define C_KVM_NO_EXEC 2u /* needs execute permission enforced: KVM memory slots have no no-execute flag */
#define C_SOFT_KVM_REAL_IVT 4u /* needs the real-mode IVT limit honoured: a software KVM (PVM) ignores it */
#define C_KVM_NO_IRET_MMIO 8u /* IRET with its stack in memory without a slot: KVM's emulator cannot complete it */
#define C_KVM_NO_PENDING_DBG 16u /* needs the pending-debug-exceptions field loaded and saved: kvm keeps it unsynced */

struct conf_case {
	const char *reason;     /* short Apple name of the exit reason this case proves ("IO") */
	const char *name;       /* the behaviour, e.g. "out_imm8_byte_exits" */
	const char *guest;      /* guest binary stem in the guests directory (NULL: none) */
	enum h_mode mode;
	struct h_ctrls ctrls;
	const char *also[3];    /* other reasons the case expects to see (sentinel IO, EXC_NMI for #UD, IRQ for kicks) */
	unsigned flags;
	void (*run)(struct h_ctx *h);
	const char *todo;       /* non-NULL: no mechanism exists yet to produce this exit through the API; skipped with this text */
};

extern const struct conf_case conf_cases_insn[];
extern const struct conf_case conf_cases_event[];
extern const struct conf_case conf_cases_mem[];
extern const struct conf_case conf_cases_misc[]; /* cases_misc.c */
extern const struct conf_case conf_cases_apic[]; /* cases_apic.c */
extern const struct conf_case conf_cases_smm[];  /* cases_smm.c */
extern const struct conf_case conf_cases_activity[]; /* cases_activity.c */

/* A case body may decline at run time (a capability it needs is missing): the case is reported as skipped. */
void h_decline(struct h_ctx *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern char h_decline_why[256];

/* Check the guest bytes at `addr` (proves the instruction and so the expected instruction length); returns addr. */
uint64_t h_at(struct h_ctx *h, uint64_t addr, const char *bytes, size_t n);
#define AT(h, addr, bytes) h_at((h), (addr), (bytes), sizeof(bytes) - 1)
#define LEN(bytes) (sizeof(bytes) - 1)

/* Registers: set before the run, check after (fault-like exits leave them unchanged). */
#define SET(h, reg, v) h_set_reg((h), HV_X86_##reg, (v))
#define EXPECT_REG(h, reg, v) h_expect((h), "guest " #reg, h_reg((h), HV_X86_##reg), (v))
void h_start(struct h_ctx *h, uint64_t rip);

/* Distinct sentinel values a fault-like exit must leave untouched. */
#define V_RAX 0x1111111111111111ull
#define V_RCX 0x3333333333333333ull
#define V_RDX 0x4444444444444444ull
#define V_RBX 0x2222222222222222ull

/* Instruction-information masks: only the bits the SDM defines for that form are compared (spec vmx-exits 3.x). */
#define II_MEM_NOINDEX 0x0fc38783ull   /* scale, addr size, mem/reg, segment, index-invalid, base, base-invalid */
#define II_MEM_INDEX 0x0fff8783ull     /* ... plus the index register */
#define II_REG2 0xf0000000ull          /* bits 31:28 (INVEPT/INVPCID/INVVPID type register, VMREAD/VMWRITE field register) */
#define II_REG_FORM 0x00000478ull      /* reg1 (6:3) and mem/reg (10) of a register operand */
#define II_IDENT 0x30000000ull         /* identity bits 29:28 of descriptor-table exits */
#define II_OPSIZE 0x800ull             /* bit 11 operand size of descriptor-table exits (undefined in 64-bit mode) */

#define INTR_VALID (1u << 31)
#define INTR_ERR (1u << 11)
#define INTR_HW_EXC (3u << 8)
#define INTR_SW_INT (4u << 8)
#define INTR_SW_EXC (6u << 8)
#define RFLAGS_RF (1u << 16)

/* Write a 64-bit interrupt gate for `vector` into the guest IDT at H_IDT. */
void h_idt_gate64(struct h_ctx *h, unsigned vector, uint64_t handler);

/* Expect an exception exit (reason 0): interruption info, error code (if err_valid), RIP, no IDT vectoring unless given. */
void h_expect_exception(struct h_ctx *h, uint32_t intr_info, uint32_t error, uint64_t rip, uint64_t qual);

#endif
