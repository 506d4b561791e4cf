/* emu_step.h: the emu CPU's one-instruction mode: run one instruction on a given register state with every guest-physical access going to callbacks (the MMIO emulator's engine). */
#ifndef HVX_EMU_STEP_H
#define HVX_EMU_STEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The architectural state the instruction runs on. Segments are ES, CS, SS, DS, FS, GS with the attribute word
 * in the VMX access-rights layout (type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16).
 */
struct emu_step_seg {
	uint64_t base;
	uint32_t limit, ar;
	uint16_t sel;
};

struct emu_step_state {
	uint64_t gpr[16];   /* RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15 */
	uint64_t rip, rflags;
	uint64_t cr0, cr3, cr4, efer;
	struct emu_step_seg seg[6];
	/* The x87/SSE state in the standard XSAVE layout (at least its 512-byte legacy region), or NULL. Only SSE moves
	 * need it: without it they end with EMU_STEP_NEED_FPSTATE before doing anything. */
	uint8_t *fpstate;
};

/*
 * Guest-physical memory. ram_read / ram_write return 0 when [gpa, gpa+len) is RAM and was copied, else non-zero;
 * whatever is not RAM is a device, accessed with dev_read / dev_write in pieces of 1, 2, 4 or 8 bytes (non-zero
 * return: the device failed, the step ends with EMU_STEP_DEVICE_ERROR). Page-table entries and instruction bytes
 * must be RAM.
 */
struct emu_step_mem {
	void *ctx;
	int (*ram_read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	int (*ram_write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	int (*dev_read)(void *ctx, uint64_t gpa, unsigned size, uint64_t *value);
	int (*dev_write)(void *ctx, uint64_t gpa, unsigned size, uint64_t value);
};

enum emu_step_result {
	EMU_STEP_DONE,          /* executed: state updated (RIP past the instruction, or on it for an unfinished REP) */
	EMU_STEP_UNSUPPORTED,   /* not an instruction the one-instruction mode runs (or undecodable, or truncated) */
	EMU_STEP_FAULT,         /* the instruction raised an exception (info.vector, info.error_code, info.cr2) */
	EMU_STEP_NOT_RAM,       /* instruction bytes or a paging-structure entry are not in RAM */
	EMU_STEP_DEVICE_ERROR,  /* a device callback failed */
	EMU_STEP_NO_MEMORY,     /* host allocation failed */
	EMU_STEP_NEED_FPSTATE,  /* an SSE move and st->fpstate is NULL: nothing was done; supply it and step again */
};

struct emu_step_info {
	unsigned length;        /* instruction length (0 if not decoded) */
	unsigned repeats;       /* elements done by a string instruction, else 1 */
	unsigned dev_accesses;  /* device callbacks made */
	bool fpstate_changed;   /* an SSE move wrote an XMM register (st->fpstate updated) */
	/* the last device access */
	uint64_t gpa, value;
	unsigned size;
	bool write;
	char mnemonic[16];
	/* EMU_STEP_FAULT */
	uint8_t vector;
	bool has_error_code;
	uint32_t error_code;
	uint64_t cr2;
};

/*
 * Run the instruction at CS:RIP of *st. bytes/n give its bytes (n up to 15); bytes == NULL fetches them through
 * the guest's paging from RAM. *st is updated only on EMU_STEP_DONE; device callbacks already made stay made.
 * A REP string instruction runs at most the emu's per-block chunk of iterations; if it is not finished RIP stays
 * on it with RCX/RSI/RDI advanced (as after an interrupt), so re-running continues it.
 */
enum emu_step_result emu_step(struct emu_step_state *st, const uint8_t *bytes, unsigned n,
			      const struct emu_step_mem *mem, struct emu_step_info *info);

/*
 * Translate a guest-linear address with the paging mode of *st (a supervisor read: no permission checks beyond
 * present and reserved bits, accessed bits not written). EMU_STEP_DONE, EMU_STEP_FAULT (not present / reserved),
 * EMU_STEP_NOT_RAM (a paging-structure entry is not RAM) or EMU_STEP_NO_MEMORY.
 */
enum emu_step_result emu_step_translate(const struct emu_step_state *st, const struct emu_step_mem *mem, uint64_t la,
					uint64_t *gpa);

#endif
