/* hvx_mmio.h: MMIO instruction emulation for EPT-violation exits on device regions (public hvx extension for any VMM). */
#ifndef HVX_HVX_MMIO_H
#define HVX_HVX_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <Hypervisor/hv.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A VMM that leaves a device region unmapped gets VMX_REASON_EPT_VIOLATION exits when the guest touches it.
 * hvx_mmio_emulate completes the faulting instruction on the vCPU's owning thread with the emu backend's decoder
 * and instruction handlers, whatever backend the VM runs on: it reads the registers and guest state it needs
 * (hv_vcpu_read_register, hv_vmx_vcpu_read_vmcs), fetches the instruction at CS:RIP through the guest's page
 * tables, executes it with every guest-physical access going to the callbacks below (RAM first, else the device),
 * writes back the registers and flags it changed and advances RIP.
 *
 * Supported: the data instructions of the emu CPU with a memory operand or an implicit stack / string access:
 * MOV (all forms), MOVZX/MOVSX/MOVSXD, MOVBE, MOVNTI, XCHG, XADD, CMPXCHG, CMPXCHG8B/16B, the ALU group, INC/DEC/NEG/
 * NOT, shifts, BT/BTS/BTR/BTC, MUL/DIV, bit scans, CMOVcc, SETcc, PUSH/POP, MOVS/STOS/LODS/CMPS/SCAS (REP: at
 * most 65536 elements per call, RIP stays on an unfinished one) and SSE moves between XMM registers and memory
 * (the vector state is read with hv_vcpu_read_fpstate only for those). Other instructions return HV_UNSUPPORTED and
 * leave the vCPU unchanged. See docs/vmm.md.
 */

struct hvx_mmio_ops {
	/*
	 * Guest RAM access by guest-physical address (page tables, instruction bytes, the RAM side of MOVS).
	 * Return 0 when [gpa, gpa+len) is RAM and was copied, -1 when it is not RAM (the access then goes to
	 * the device callbacks).
	 */
	int (*ram_read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	int (*ram_write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	/* Device access of 1, 2, 4 or 8 bytes. Return 0; non-zero aborts the emulation with HV_ERROR. */
	int (*mmio_read)(void *ctx, uint64_t gpa, unsigned size, uint64_t *value);
	int (*mmio_write)(void *ctx, uint64_t gpa, unsigned size, uint64_t value);
};

/* What the emulated instruction did (the last device access for REP forms). */
struct hvx_mmio_access {
	uint64_t gpa;
	unsigned size;         /* bytes */
	bool write;
	uint64_t value;        /* value read or written */
	unsigned length;       /* instruction length */
	unsigned repeats;      /* element count for string instructions, else 1 */
	char mnemonic[16];     /* "mov", "movzx", "stosd", ... */
};

/*
 * Emulate the instruction at the vCPU's CS:RIP (the one that caused the current EPT-violation exit). `access` may be
 * NULL. HV_SUCCESS: done, RIP advanced. HV_UNSUPPORTED: instruction not supported. HV_ERROR: the instruction raised
 * an exception, its bytes or a page-table entry are not RAM, or a callback failed (the vCPU is unchanged).
 * HV_BAD_ARGUMENT: NULL ops or missing callbacks. HV_NO_RESOURCES: allocation failed. Other codes come from the hv_*
 * calls (e.g. wrong thread).
 */
hv_return_t hvx_mmio_emulate(hv_vcpuid_t vcpu, const struct hvx_mmio_ops *ops, void *ctx,
			     struct hvx_mmio_access *access);

/* The exception the emulated instruction raised (see hvx_mmio_emulate_ex). */
struct hvx_mmio_fault {
	bool valid;            /* HV_ERROR came from an exception of the instruction */
	uint8_t vector;        /* 0 #DE, 6 #UD, 12 #SS, 13 #GP, 14 #PF, 17 #AC, ... */
	bool has_error_code;
	uint32_t error_code;
	uint64_t cr2;          /* #PF: the linear address that faulted */
};

/*
 * hvx_mmio_emulate, and when it returns HV_ERROR because the instruction raised an exception (a #PF on the page of
 * its other operand or its stack, #GP for a segment limit or a misaligned MOVDQA, #DE, ...) that exception in
 * *fault (fault->valid, else false). The vCPU is unchanged, so a VMM may inject it (VM-entry interruption
 * information, error code, CR2 for #PF) and resume the guest. fault may be NULL.
 */
hv_return_t hvx_mmio_emulate_ex(hv_vcpuid_t vcpu, const struct hvx_mmio_ops *ops, void *ctx,
				struct hvx_mmio_access *access, struct hvx_mmio_fault *fault);

/*
 * Translate a guest-linear address with the vCPU's current paging mode (none, 32-bit, PAE, 4- and 5-level),
 * reading page tables through ops->ram_read (accessed bits are not set). HV_ERROR when a level is not present, has
 * reserved bits set or is not RAM.
 */
hv_return_t hvx_guest_translate(hv_vcpuid_t vcpu, const struct hvx_mmio_ops *ops, void *ctx, uint64_t gla,
				uint64_t *gpa);

#ifdef __cplusplus
}
#endif

#endif
