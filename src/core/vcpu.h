/* vcpu.h: the vCPU object: owner thread, architectural register file and VMCS storage (one storage, reachable by register and by VMCS name). */
#ifndef HVX_CORE_VCPU_H
#define HVX_CORE_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>

#include "exit.h"
#include "vmcs.h"

/* One storage slot per VMCS field, named HVX_SLOT_<Apple name without VMCS_>. */
enum hvx_vmcs_slot {
#define HVX_VMCS_FIELD(name, enc, access, group) HVX_SLOT_##name,
#include "vmcs_fields.def"
#undef HVX_VMCS_FIELD
	HVX_VMCS_SLOTS
};

/* x86 register numbers as instructions encode them. */
enum hvx_gpr {
	HVX_RAX, HVX_RCX, HVX_RDX, HVX_RBX, HVX_RSP, HVX_RBP, HVX_RSI, HVX_RDI,
	HVX_R8, HVX_R9, HVX_R10, HVX_R11, HVX_R12, HVX_R13, HVX_R14, HVX_R15,
};

/* Size of the fpstate image: the standard (non-compacted) XSAVE layout for x87, SSE and AVX. */
#define HVX_FPSTATE_SIZE 4096

/*
 * The guest's architectural state. VMCS_GUEST_RSP, VMCS_GUEST_RIP and VMCS_GUEST_RFLAGS live in gpr[HVX_RSP], rip
 * and rflags, and the exit-information fields of struct hvx_exit in exit (their VMCS slots are unused); every other
 * VMCS field lives in vmcs[HVX_SLOT_x]. Backends use this struct as their register file.
 */
struct hvx_vcpu_state {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
	uint64_t cr1, cr2;       /* CR1 exists only for numbering symmetry */
	uint64_t dr[7];          /* DR0-DR6; DR7 is VMCS_GUEST_DR7 (dr[4], dr[5] are plain storage) */
	uint64_t xcr0;
	uint64_t tpr;            /* APIC TPR byte (priority class in bits 7:4) */
	uint64_t msr_star, msr_lstar, msr_cstar, msr_fmask, msr_kernel_gs_base, msr_tsc_aux;
	/* The published exit record: what the client reads as VMCS_RO_EXIT_REASON etc. Only hvx_exit_publish writes it
	 * (a backend fills its own record during the run), or a backend with exit_in_place (backend.h) during a run that
	 * ends in an exit. */
	struct hvx_exit exit;
	uint64_t vmcs[HVX_VMCS_SLOTS];
	uint8_t fpstate[HVX_FPSTATE_SIZE] __attribute__((aligned(64)));
};

/* MSRs whose guest value the framework holds (hv_vcpu_read_msr / hv_vcpu_write_msr), and which may be native. */
struct hvx_msr_desc {
	uint32_t msr;
	const char *name;
	uint32_t offset;     /* storage in struct hvx_vcpu_state; HVX_MSR_TSC_OFFSET for the TSC */
	uint16_t group;
	int8_t native_bit;   /* bit in hvx_vcpu.native_msrs, or -1 if hv_vcpu_enable_native_msr refuses it */
};
#define HVX_MSR_COMPUTED 0xffffffffu /* offset of IA32_TSC: guest TSC = hv_tsc_clock() + TSC offset */
extern const struct hvx_msr_desc hvx_msr_table[];
extern const unsigned hvx_msr_table_count;
const struct hvx_msr_desc *hvx_msr_find(uint32_t msr); /* NULL if the framework does not hold this MSR */

/* A managed MSR (11.0): the framework holds its value; access says which guest accesses skip the exit. */
struct hvx_managed_msr {
	uint32_t msr;
	hv_msr_flags_t access;
	uint64_t value;
};
bool hvx_msr_manageable(uint32_t msr);

struct hvx_vm;

struct hvx_vcpu {
	struct hvx_vcpu_state state;
	struct hvx_vm *vm;
	hv_vcpuid_t id;
	uint64_t owner_key; /* id, zero-extended; hvx_no_vcpu's is 2^32, equal to no id (the owner test, vm.h) */
	pthread_t owner;
	hv_vm_space_t space;
	hv_vcpu_options_t options;  /* HV_VCPU_ACCEL_RDPMC, HV_VCPU_TSC_RELATIVE */
	uint32_t dirty;             /* enum hvx_state_group bits written since the backend last loaded them */
	uint32_t stale;             /* groups whose current value is still held by the backend (vcpu_fetch brings it) */
	uint32_t unchecked;         /* groups written through the API since hv_vcpu_run_until last checked them (only
				     * HVX_GROUP_CONTROL is consulted and cleared: the control checks it may skip) */
	uint32_t native_msrs;       /* bit per hvx_msr_desc.native_bit: guest RDMSR/WRMSR of it do not exit */
	atomic_bool kick_pending;   /* hv_vcpu_interrupt arrived: the next or current run ends with VMX_REASON_IRQ */
	atomic_bool running;
	atomic_bool dual_monitor;   /* hvx_vcpu_set_dual_monitor: the dual-monitor SMM model is on (SMIs, entry to SMM) */
	bool has_run;
	bool last_entry_failed;     /* for hv_vcpu_vmx_status */
	uint32_t entry_status;      /* CF/ZF of the last failed entry, RFLAGS bit positions */
	uint64_t exec_ticks;        /* accumulated guest run time, in hvx_ticks units */
	uint64_t apic_gpa;          /* hv_vmx_vcpu_set_apic_address; ~0 = none */
	hv_vm_space_t apic_space;
	uint64_t tsc_sync_gen;      /* last hv_vm_sync_tsc generation applied */
	/* The inputs for which hv_vcpu_run_until last found the controls valid (passed = 0: none yet); a run with the
	 * same inputs skips those checks, and a run after no write to them (unchecked) does not even compare. */
	struct hvx_controls_memo {
		uint32_t pin, proc, proc2, entry, exit, cr3_count;
		uint16_t dual_monitor;
		uint16_t passed; /* 1 in a memo of inputs that passed */
		uint64_t pml_addr;
	} controls_ok_for;
	struct hvx_managed_msr *managed; /* hv_vcpu_enable_managed_msr entries */
	unsigned managed_count;
	uint64_t *shadow_vmcs;      /* shadow VMCS storage by slot (allocated on first use) */
	uint8_t *shadow_access;     /* HV_SHADOW_VMCS_* per slot */
	void *backend;              /* backend's per-vCPU data */
	/* The virtual-APIC page (framework-owned, as VMCS_CTRL_VIRTUAL_APIC is): bytes 0x80-0x83 (VTPR) live in
	 * state.tpr (HV_X86_TPR), so vapic[0x80..0x83] is unused; reach it through hvx_vapic_bytes(). */
	uint8_t vapic[4096];
};

/* The bytes of the virtual-APIC page at offset off (< 4096; VTPR, offsets 0x80-0x83, is the low half of the
 * little-endian state.tpr), valid up to the end of off's 32-bit register. */
static inline uint8_t *hvx_vapic_bytes(struct hvx_vcpu *vcpu, unsigned off)
{
	if ((off & ~3u) == 0x80)
		return (uint8_t *)&vcpu->state.tpr + (off & 3);
	return &vcpu->vapic[off & 0xfff];
}

static inline uint32_t hvx_vapic_get(struct hvx_vcpu *vcpu, unsigned off)
{
	uint32_t v;
	memcpy(&v, hvx_vapic_bytes(vcpu, off & ~3u), 4);
	return v;
}

static inline void hvx_vapic_set(struct hvx_vcpu *vcpu, unsigned off, uint32_t v)
{
	memcpy(hvx_vapic_bytes(vcpu, off & ~3u), &v, 4);
}

/* Publish a backend's exit record as the read-only exit-information VMCS fields: the one writer of state.exit (a
 * struct copy, a few vector moves), but for a backend with exit_in_place (backend.h), which hv_vcpu_run_until lets
 * fill state.exit directly under the same rule (a whole record, only for an exit). */
static inline void hvx_exit_publish(struct hvx_vcpu *vcpu, const struct hvx_exit *e)
{
	vcpu->state.exit = *e;
}

/* Mark state groups dirty for the backend and unchecked for the next VM entry (called by every state write on the
 * API path). */
static inline void hvx_vcpu_touch(struct hvx_vcpu *vcpu, uint32_t groups)
{
	vcpu->dirty |= groups;
	vcpu->unchecked |= groups;
}

/* Storage of a VMCS field / register inside the state. */
static inline uint64_t *hvx_state_slot(struct hvx_vcpu_state *s, uint32_t offset)
{
	return (uint64_t *)((char *)s + offset);
}

/* Register table: hv_x86_reg_t -> storage offset, state group, and the VMCS field it aliases (0 if none). */
struct hvx_reg_desc {
	uint16_t offset; /* 8 bytes an entry: the accessors index the table with one scaled address */
	uint16_t group;
	uint32_t vmcs_encoding;
};
extern const struct hvx_reg_desc hvx_reg_table[HV_X86_REGISTERS_MAX] HVX_HIDDEN;

#endif
