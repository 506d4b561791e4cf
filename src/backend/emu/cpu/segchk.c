/* segchk.c: the descriptor checks that report in ZF instead of faulting: VERR, VERW, LAR, LSL. */
#include "backend/emu/emu.h"
#include "backend/emu/cpu/handlers.h"

/* The descriptor `sel` names, if its table holds it (no fault: the caller clears ZF). In IA-32e mode a system
 * descriptor is 16 bytes: `hi` is its upper half (0 otherwise). Memory faults on the table read are delivered. */
static bool table_desc(struct emu_cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi)
{
	uint64_t base, limit;
	if (!(sel & 0xfffc))
		return false; /* a null selector (either table indicator value) */
	if (sel & 4) {
		if (c->v[HVX_SLOT_GUEST_LDTR_AR] & (1u << 16))
			return false;
		base = c->v[HVX_SLOT_GUEST_LDTR_BASE];
		limit = (uint32_t)c->v[HVX_SLOT_GUEST_LDTR_LIMIT];
	} else {
		base = c->v[HVX_SLOT_GUEST_GDTR_BASE];
		limit = (uint32_t)c->v[HVX_SLOT_GUEST_GDTR_LIMIT];
	}
	uint64_t off = sel & 0xfff8, mask = c->mode == EM_LONG64 ? ~0ull : 0xffffffffull;
	if (off + 7 > limit)
		return false;
	*lo = mmu_read_lin(c, (base + off) & mask, 8, ACC_SUPER);
	*hi = 0;
	if (!((*lo >> 44) & 1) && (c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA)) {
		if (off + 15 > limit)
			return false;
		*hi = mmu_read_lin(c, (base + off + 8) & mask, 8, ACC_SUPER);
	}
	return true;
}

/* System descriptor types LAR (lar = true) and LSL accept; IA-32e mode allows only LDT, 64-bit TSS and (LAR) call
 * gate. */
static bool system_type_ok(unsigned type, bool lar, bool lma)
{
	static const uint16_t legacy_lar = 0x1a3e, legacy_lsl = 0x0a0e, ia32e_lar = 0x1a04, ia32e_lsl = 0x0a04;
	uint16_t set = lma ? (lar ? ia32e_lar : ia32e_lsl) : (lar ? legacy_lar : legacy_lsl);
	return (set >> type) & 1;
}

void h_segchk(struct emu_cpu *c, const struct emu_insn *in)
{
	/* aux: 0 VERR 1 VERW 2 LAR 3 LSL */
	if (c->mode == EM_REAL || c->mode == EM_V86)
		emu_ud(c);
	unsigned id = in->aux;
	uint16_t sel = (uint16_t)op_read(c, in, id >= 2 ? 1 : 0);
	uint64_t lo = 0, hi = 0;
	bool ok = table_desc(c, sel, &lo, &hi);
	if (ok) {
		unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3;
		bool s = (lo >> 44) & 1, code = s && (type & 8), conforming = code && (type & 4);
		bool lma = c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA;
		if (!s)
			ok = id >= 2 && system_type_ok(type, id == 2, lma) && !((hi >> 40) & 0x1f);
		else if (id == 0)
			ok = !code || (type & 2); /* data segments are readable, code segments when R is set */
		else if (id == 1)
			ok = !code && (type & 2); /* writable data segments only */
		if (ok && !conforming && (dpl < c->cpl || dpl < (sel & 3u)))
			ok = false; /* conforming code segments skip the privilege check */
	}
	if (ok && id == 2) {
		uint32_t ar = (uint32_t)(lo >> 32) & (in->op[0].size == 2 ? 0xff00u : 0x00f0ff00u);
		reg_set(c, in->op[0].reg, in->op[0].size, false, ar);
	} else if (ok && id == 3) {
		uint32_t limit = (uint32_t)((lo & 0xffff) | ((lo >> 32) & 0xf0000));
		if ((lo >> 55) & 1)
			limit = (limit << 12) | 0xfff;
		reg_set(c, in->op[0].reg, in->op[0].size, false, limit);
	}
	emu_set_flags(c, ok ? FL_ZF : 0, FL_ZF);
}
