/* mmio_internal.h: the MMIO emulator between the public API and the emu CPU's one-instruction mode: a vCPU state snapshot, execute, translate. */
#ifndef HVX_MMIO_INTERNAL_H
#define HVX_MMIO_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <hvx/hvx_mmio.h>

enum { MMIO_SEG_ES, MMIO_SEG_CS, MMIO_SEG_SS, MMIO_SEG_DS, MMIO_SEG_FS, MMIO_SEG_GS, MMIO_SEG_COUNT };

/*
 * The vCPU state the emulator needs; gpr_dirty / rip / rflags changes are written back by the caller. With seg_full
 * the segment registers are complete (selector, limit, access rights as in the VMCS); without it only seg_base is
 * given and flat segments for code_bits are assumed (ring 0; real mode when CR0.PE is clear).
 */
struct mmio_cpu {
	uint64_t gpr[16];
	uint16_t gpr_dirty;
	uint64_t rip, rflags;
	bool rflags_dirty;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t seg_base[MMIO_SEG_COUNT];
	bool seg_full;
	uint16_t seg_sel[MMIO_SEG_COUNT];
	uint32_t seg_limit[MMIO_SEG_COUNT], seg_ar[MMIO_SEG_COUNT];
	unsigned code_bits;      /* 16, 32 or 64 */
	/* Register source (NULL: gpr[] is complete): every GPR is loaded through it before executing. 0 on success. */
	int (*load_gpr)(void *src, unsigned index, uint64_t *value);
	void *load_src;
	/*
	 * x87/SSE state (XSAVE layout, 4096 bytes) for SSE moves: the caller's buffer, or NULL (SSE moves are then
	 * HV_UNSUPPORTED). With load_fpstate it is filled through that on first need (from load_src), else it already
	 * holds the state. fpstate_dirty: an XMM register changed (write the buffer back).
	 */
	uint8_t *fpstate;
	int (*load_fpstate)(void *src, uint8_t *buf);
	bool fpstate_dirty;
	/* Where to put the exception when mmio_execute returns HV_ERROR because of one (NULL: not wanted). */
	struct hvx_mmio_fault *fault;
};

/* Guest-linear to guest-physical with the paging mode in cpu (cr0/cr3/cr4/efer); -1 when not present. */
int mmio_translate(const struct mmio_cpu *cpu, const struct hvx_mmio_ops *ops, void *ctx, uint64_t gla,
		   uint64_t *gpa);

/*
 * Execute one instruction with the emu CPU's decoder and handlers: bytes[0..len) or, with bytes NULL, the bytes at
 * CS:RIP fetched through the guest's paging. Updates cpu (registers, RIP, RFLAGS and their dirty marks). Returns
 * HV_SUCCESS, HV_UNSUPPORTED (not a data instruction, undecodable or truncated), HV_ERROR (an exception, code or
 * page tables not in RAM, a callback failed) or HV_NO_RESOURCES.
 */
hv_return_t mmio_execute(struct mmio_cpu *cpu, const uint8_t *bytes, unsigned len, const struct hvx_mmio_ops *ops,
			 void *ctx, struct hvx_mmio_access *access);

#endif
