/* harness.h: conformance-test harness: builds real/protected/long-mode guests through the public Hypervisor API, runs them with a watchdog, reads and asserts every exit field. */
#ifndef HVX_CONFORMANCE_HARNESS_H
#define HVX_CONFORMANCE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>

/* Guest-physical layout shared by every guest (see docs/conformance.md). */
#define H_GDT 0x1000u         /* flat GDT written by the harness */
#define H_PML4 0x2000u        /* long mode: PML4 -> PDPT -> two PDs of 2-MiB pages */
#define H_PDPT 0x3000u
#define H_PD0 0x4000u         /* linear 0..1 GiB, identity */
#define H_PD3 0x5000u         /* linear 3..4 GiB, identity (APIC page at 0xfee00000) */
#define H_IDT 0x6000u         /* guests that want an IDT build it here */
#define H_STACK_TOP 0x7ff0u
#define H_CODE 0x8000u        /* every guest is `org 0x8000`, entered at its first byte */
#define H_SLOT(n) (H_CODE + 0x100u + 0x10u * (n)) /* instruction under test n (guests/common.inc SLOT) */
#define H_DATA 0x10000u       /* scratch data page(s) */
#define H_MEM_SIZE 0x200000u  /* 2 MiB mapped RWX at GPA 0; everything above is unmapped unless a case maps it */

/* GDT selectors. */
#define H_SEL_CODE32 0x08u
#define H_SEL_DATA32 0x10u
#define H_SEL_CODE64 0x18u
#define H_SEL_DATA64 0x20u
#define H_SEL_TSS_AVAIL 0x28u /* an available 32-bit TSS (task-switch target) */
#define H_SEL_TSS 0x30u       /* the busy TSS TR holds (a 16-byte descriptor in long mode) */
#define H_SEL_CODE64_U 0x40u  /* 64-bit code, DPL 3 */
#define H_SEL_DATA_U 0x48u    /* data, DPL 3 */
#define H_TSS_AVAIL_BASE 0xa000u
#define H_TSS_BASE 0xb000u

/* The sentinel: guests end with `out 0xf4, al` (guests/common.inc DONE); cases that need it run with unconditional I/O exiting. */
#define H_SENTINEL_PORT 0xf4u

enum h_mode { H_REAL, H_PROT32, H_LONG64 };

/* Desired control bits (passed through the cap2ctrl rule) and bits that must end up clear (control-off cases). */
struct h_ctrls {
	uint32_t pin, proc, proc2, entry, exit;
	uint32_t pin_off, proc_off, proc2_off;
};

/* Everything one exit reports, plus the guest state the checks look at. */
struct h_exit {
	uint64_t reason, qual, len, info, gla, gpa, intr, intr_err, idt, idt_err;
	uint64_t rip, rflags, activity, interruptibility;
	hv_return_t run_ret;
	bool timed_out;       /* the watchdog (or the run deadline) ended the run */
};

struct h_ctx {
	const char *backend;
	const char *case_name;
	hv_vcpuid_t vcpu;
	uint8_t *mem;         /* host view of GPA 0..H_MEM_SIZE */
	enum h_mode mode;
	uint64_t cap[5];      /* PINBASED, PROCBASED, PROCBASED2, ENTRY, EXIT */
	uint64_t cap_basic, cap_cr4_fixed1;
	uint32_t ctl[5];      /* the control words actually written */
	bool deadline_ok;     /* backend allows the preemption timer: runs use a finite deadline */
	bool vm_up, vcpu_up;
	bool gla_defined;     /* the case checks the guest-linear/physical address itself (else both must read 0) */
	int failures;
	struct h_exit x;      /* the last exit */
	void *extra_maps[8];  /* host memory of mappings made by h_map */
	unsigned nextra;
};

/* Name of a basic reason ("IO"), from the exit library's table. */
const char *h_reason_name(unsigned basic);
/* Basic reason for a short Apple name ("IO"), -1 if unknown. */
int h_reason_by_name(const char *name);

/* cap2ctrl: force the must-be-1 bits, drop the bits the backend does not allow. */
static inline uint32_t h_cap2ctrl(uint64_t cap, uint32_t desired)
{
	return (uint32_t)((desired | (cap & 0xffffffffu)) & (cap >> 32));
}

/* Create a VM on ctx->backend, map guest memory, create the vCPU, load `guest` (path of a flat binary) at H_CODE,
 * set up `mode` and write the controls. Returns false (with a message) if anything failed. */
bool h_setup(struct h_ctx *h, enum h_mode mode, const char *guest, const struct h_ctrls *c);
/* Tear down the vCPU and VM. */
void h_teardown(struct h_ctx *h);
/* Map `size` more bytes of fresh zeroed host memory at `gpa` with `flags`; returns the host pointer or NULL. */
void *h_map(struct h_ctx *h, uint64_t gpa, size_t size, hv_memory_flags_t flags);

/* Which control bits of `c` the backend cannot honour (as text in buf), or NULL if all can. */
const char *h_ctrls_unsupported(const struct h_ctx *h, const struct h_ctrls *c, char *buf, size_t size);

/* Run until the next exit (2-s watchdog; finite deadline when the backend allows one) and read every exit field. */
void h_run(struct h_ctx *h);
/* Run with a kick from another thread after `ms` milliseconds (for HLT-state and IRQ cases). */
void h_run_kick_after(struct h_ctx *h, unsigned ms);
/* Run and return any exit, VMX_REASON_IRQ included (pending-kick cases). */
void h_run_keep_irq(struct h_ctx *h);
/* hv_vcpu_run_until with a deadline `ns` from now (the deadline cases). */
void h_run_deadline(struct h_ctx *h, uint64_t ns);
/* Long mode at CPL 3: CS and SS become the DPL-3 descriptors (call after h_setup). */
void h_ring3(struct h_ctx *h);
/* Skip the instruction of the last exit: RIP += VM-exit instruction length. */
void h_skip(struct h_ctx *h);

uint64_t h_reg(struct h_ctx *h, hv_x86_reg_t reg);
void h_set_reg(struct h_ctx *h, hv_x86_reg_t reg, uint64_t v);
uint64_t h_vmcs(struct h_ctx *h, uint32_t field);
void h_set_vmcs(struct h_ctx *h, uint32_t field, uint64_t v);

/* Assertions: print wanted vs got (reasons by name, values in hex), count failures, keep going. */
bool h_expect_reason(struct h_ctx *h, uint32_t want_full_reason);
void h_expect(struct h_ctx *h, const char *what, uint64_t got, uint64_t want);
void h_expect_masked(struct h_ctx *h, const char *what, uint64_t got, uint64_t want, uint64_t mask);
void h_expect_true(struct h_ctx *h, const char *what, bool ok);
/* The common fault-like instruction exit: reason, RIP = insn, Len, qualification, info (under mask), no event fields. */
void h_expect_insn_exit(struct h_ctx *h, uint32_t reason, uint64_t rip, uint64_t len, uint64_t qual,
			uint64_t info, uint64_t info_mask);
/* The guest reached its sentinel `out 0xf4, al` at `rip` (an IO exit). */
void h_expect_sentinel(struct h_ctx *h, uint64_t rip);
/* Print every field of the last exit. */
void h_dump_exit(struct h_ctx *h);

/* Fields the SDM leaves undefined are written as 0 by hvx (core/exit.h contract); the checks hold backends to that. */
#define H_ZERO_UNDEFINED 1

#endif
