/* mmio.c: the MMIO emulator on the emu CPU: a vCPU snapshot becomes the one-instruction mode's state, the client's callbacks its memory. */
#include <stdio.h>
#include <string.h>

#include "backend/emu/emu_step.h"
#include "mmio_internal.h"

/* Flat segments for a snapshot that only has bases: ring 0, limits 4 GiB (64 KiB for 16-bit and real mode). */
static void flat_segments(const struct mmio_cpu *cpu, struct emu_step_state *st)
{
	bool real = !(cpu->cr0 & 1);
	for (unsigned i = 0; i < MMIO_SEG_COUNT; i++) {
		struct emu_step_seg *s = &st->seg[i];
		bool code = i == MMIO_SEG_CS;
		s->base = cpu->seg_base[i];
		s->sel = real ? (uint16_t)(s->base >> 4) : (uint16_t)(code ? 0x08 : 0x10);
		s->ar = code ? 0x9b : 0x93; /* present, S, code execute/read accessed or data read/write accessed */
		s->limit = 0xffff;
		if (real || cpu->code_bits == 16)
			continue;
		s->limit = 0xffffffffu;
		s->ar |= 0x8000;                                   /* G */
		s->ar |= (code && cpu->code_bits == 64) ? 0x2000 : 0x4000; /* L for 64-bit code, else D/B */
	}
}

static void to_state(const struct mmio_cpu *cpu, struct emu_step_state *st)
{
	memset(st, 0, sizeof *st);
	memcpy(st->gpr, cpu->gpr, sizeof st->gpr);
	st->rip = cpu->rip;
	st->rflags = cpu->rflags;
	st->cr0 = cpu->cr0;
	st->cr3 = cpu->cr3;
	st->cr4 = cpu->cr4;
	st->efer = cpu->efer;
	if (!cpu->seg_full) {
		flat_segments(cpu, st);
		return;
	}
	for (unsigned i = 0; i < MMIO_SEG_COUNT; i++)
		st->seg[i] = (struct emu_step_seg){cpu->seg_base[i], cpu->seg_limit[i], cpu->seg_ar[i], cpu->seg_sel[i]};
}

static struct emu_step_mem to_mem(const struct hvx_mmio_ops *ops, void *ctx)
{
	return (struct emu_step_mem){ctx, ops->ram_read, ops->ram_write, ops->mmio_read, ops->mmio_write};
}

static hv_return_t status_of(enum emu_step_result r)
{
	switch (r) {
	case EMU_STEP_DONE: return HV_SUCCESS;
	case EMU_STEP_UNSUPPORTED: return HV_UNSUPPORTED;
	case EMU_STEP_NEED_FPSTATE: return HV_UNSUPPORTED; /* an SSE move without the vector state */
	case EMU_STEP_NO_MEMORY: return HV_NO_RESOURCES;
	default: return HV_ERROR; /* exception, code or page tables not in RAM, a device callback failed */
	}
}

int mmio_translate(const struct mmio_cpu *cpu, const struct hvx_mmio_ops *ops, void *ctx, uint64_t gla,
		   uint64_t *gpa)
{
	struct emu_step_state st;
	to_state(cpu, &st);
	struct emu_step_mem mem = to_mem(ops, ctx);
	return emu_step_translate(&st, &mem, gla, gpa) == EMU_STEP_DONE ? 0 : -1;
}

hv_return_t mmio_execute(struct mmio_cpu *cpu, const uint8_t *bytes, unsigned len, const struct hvx_mmio_ops *ops,
			 void *ctx, struct hvx_mmio_access *access)
{
	if (cpu->load_gpr)
		for (unsigned i = 0; i < 16; i++)
			if (cpu->load_gpr(cpu->load_src, i, &cpu->gpr[i]))
				return HV_ERROR;
	struct emu_step_state st;
	to_state(cpu, &st);
	struct emu_step_mem mem = to_mem(ops, ctx);
	struct emu_step_info info;
	st.fpstate = cpu->load_fpstate ? NULL : cpu->fpstate;
	enum emu_step_result r = emu_step(&st, bytes, len, &mem, &info);
	if (r == EMU_STEP_NEED_FPSTATE && cpu->fpstate && cpu->load_fpstate) {
		/* An SSE move: only now is the vector state worth reading (nothing was done by the first try). */
		if (cpu->load_fpstate(cpu->load_src, cpu->fpstate))
			return HV_ERROR;
		cpu->load_fpstate = NULL;
		st.fpstate = cpu->fpstate;
		r = emu_step(&st, bytes, len, &mem, &info);
	}
	if (access) {
		memset(access, 0, sizeof *access);
		access->gpa = info.gpa;
		access->size = info.size;
		access->write = info.write;
		access->value = info.value;
		access->length = info.length;
		access->repeats = info.repeats;
		snprintf(access->mnemonic, sizeof access->mnemonic, "%s", info.mnemonic);
	}
	if (r == EMU_STEP_FAULT && cpu->fault)
		*cpu->fault = (struct hvx_mmio_fault){true, info.vector, info.has_error_code, info.error_code, info.cr2};
	if (r != EMU_STEP_DONE)
		return status_of(r);
	for (unsigned i = 0; i < 16; i++)
		if (st.gpr[i] != cpu->gpr[i]) {
			cpu->gpr[i] = st.gpr[i];
			cpu->gpr_dirty |= (uint16_t)(1u << i);
		}
	if (st.rflags != cpu->rflags) {
		cpu->rflags = st.rflags;
		cpu->rflags_dirty = true;
	}
	cpu->rip = st.rip;
	if (info.fpstate_changed)
		cpu->fpstate_dirty = true;
	return HV_SUCCESS;
}
