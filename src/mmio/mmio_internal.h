/* mmio_internal.h: the MMIO emulator's core, independent of any vCPU: a register snapshot, page walk and execute. */
#ifndef HVX_MMIO_INTERNAL_H
#define HVX_MMIO_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <hvx/hvx_mmio.h>

enum { MMIO_SEG_ES, MMIO_SEG_CS, MMIO_SEG_SS, MMIO_SEG_DS, MMIO_SEG_FS, MMIO_SEG_GS, MMIO_SEG_COUNT };

/* The vCPU state the emulator needs; gpr_dirty / rip / rflags changes are written back by the caller. */
struct mmio_cpu {
	uint64_t gpr[16];
	uint16_t gpr_dirty;
	uint64_t rip, rflags;
	bool rflags_dirty;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t seg_base[MMIO_SEG_COUNT];
	unsigned code_bits;      /* 16, 32 or 64 */
	/* Lazy register source (NULL: gpr[] is complete). Returns 0 on success. */
	int (*load_gpr)(void *src, unsigned index, uint64_t *value);
	void *load_src;
	uint16_t gpr_loaded;
};

/* Guest-linear to guest-physical with the paging mode in cpu (cr0/cr3/cr4/efer); -1 when not present. */
int mmio_translate(const struct mmio_cpu *cpu, const struct hvx_mmio_ops *ops, void *ctx, uint64_t gla,
		   uint64_t *gpa);

/*
 * Execute one instruction (bytes[0..len)) whose memory operand faulted at fault_gpa. Updates cpu (registers,
 * RIP, RFLAGS). Returns HV_SUCCESS, HV_UNSUPPORTED or HV_ERROR.
 */
hv_return_t mmio_execute(struct mmio_cpu *cpu, uint64_t fault_gpa, const uint8_t *bytes, unsigned len,
			 const struct hvx_mmio_ops *ops, void *ctx, struct hvx_mmio_access *access);

#endif
