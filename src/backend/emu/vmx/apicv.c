/* apicv.c: APIC virtualization for the emu CPU: accesses to the APIC-access page (exit 44 or the virtual-APIC page), APIC-write emulation (exits 45, 56), TPR/PPR/EOI/self-IPI virtualization and virtual-interrupt delivery (SDM 29). */
#include <string.h>

#include "backend/emu/emu.h"

/* Virtual-APIC page offsets (SDM 29.1.1). */
enum { VA_TPR = 0x80, VA_PPR = 0xa0, VA_EOI = 0xb0, VA_ISR = 0x100, VA_IRR = 0x200, VA_ICR_LO = 0x300, VA_ICR_HI = 0x310 };

/* APIC-access qualification, bits 15:12 (spec 6.44). */
enum { AT_LIN_READ = 0, AT_LIN_WRITE = 1, AT_LIN_FETCH = 2, AT_LIN_EVENT = 3, AT_GPA_EVENT = 10, AT_GPA_INSN = 15 };

/*
 * Registers (one bit per 16-byte row, offset >> 4, rows 0x00-0x3f) whose low 4 bytes are virtualized under
 * APIC-register virtualization (SDM 29.4.2 for reads, 29.4.3.1 for writes).
 */
#define ROW(off) (1ull << ((off) >> 4))
static const uint64_t read_rows = ROW(0x20) | ROW(0x30) | ROW(0x80) | ROW(0xb0) | ROW(0xd0) | ROW(0xe0) | ROW(0xf0) |
				  (0xffull << 0x10) /* ISR 0x100-0x170 */ | (0xffull << 0x18) /* TMR 0x180-0x1f0 */ |
				  (0xffull << 0x20) /* IRR 0x200-0x270 */ | ROW(0x280) | ROW(0x300) | ROW(0x310) |
				  (0x3full << 0x32) /* LVT 0x320-0x370 */ | ROW(0x380) | ROW(0x3e0);
static const uint64_t write_rows = ROW(0x20) | ROW(0x80) | ROW(0xb0) | ROW(0xd0) | ROW(0xe0) | ROW(0xf0) | ROW(0x280) |
				   ROW(0x300) | ROW(0x310) | (0x3full << 0x32) | ROW(0x380) | ROW(0x3e0);

static inline uint32_t vget(struct emu_cpu *c, unsigned off)
{
	return hvx_vapic_get(c->vcpu, off);
}

static inline void vput(struct emu_cpu *c, unsigned off, uint32_t v)
{
	hvx_vapic_set(c->vcpu, off, v);
}

static inline uint8_t rvi(struct emu_cpu *c)
{
	return (uint8_t)c->v[HVX_SLOT_GUEST_INT_STATUS];
}

static inline uint8_t svi(struct emu_cpu *c)
{
	return (uint8_t)(c->v[HVX_SLOT_GUEST_INT_STATUS] >> 8);
}

static inline void set_status(struct emu_cpu *c, uint8_t r, uint8_t s)
{
	c->v[HVX_SLOT_GUEST_INT_STATUS] = (uint64_t)r | ((uint64_t)s << 8);
}

/* VISR / VIRR bit of a vector: bit (v & 31) of the 32-bit field at base + (v >> 5) * 16. */
static void vec_set(struct emu_cpu *c, unsigned base, unsigned v, bool on)
{
	unsigned off = base + (v >> 5) * 16;
	uint32_t r = vget(c, off);
	vput(c, off, on ? r | (1u << (v & 31)) : r & ~(1u << (v & 31)));
}

/* Highest vector set in VISR / VIRR, 0 if none. */
static unsigned vec_highest(struct emu_cpu *c, unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t r = vget(c, base + (unsigned)i * 16);
		if (r)
			return (unsigned)i * 32 + 31 - (unsigned)__builtin_clz(r);
	}
	return 0;
}

/* ---- exits ---- */

/* APIC-access exit (spec 6.44): fault-like; during event delivery the event is reported in IDT-vectoring. */
static _Noreturn void access_exit(struct emu_cpu *c, unsigned type, unsigned off)
{
	struct hvx_exit *e = c->exit;
	hvx_exit_clear(e);
	bool idt = c->vect.valid;
	if (idt) {
		emu_delivery_restore(c);
		type = type == AT_GPA_INSN ? AT_GPA_EVENT : AT_LIN_EVENT;
		vmx_exit_idt_vectoring(c, e); /* spec 2.5: with the length of a software event */
	}
	e->reason = VMX_REASON_APIC_ACCESS;
	/* Bits 11:0 are undefined for guest-physical accesses: hvx writes 0 there. */
	e->qualification = ((uint64_t)type << 12) | (type >= AT_GPA_EVENT ? 0 : (off & 0xfff));
	c->s->rflags = vmx_access_exit_rflags(c, idt);
	c->apicv_pend = false;
	vmx_exit_finish(c);
}

/* Trap-like exits 45 and 56: RIP is already past the instruction. */
static _Noreturn void trap_exit(struct emu_cpu *c, unsigned reason, uint64_t qual)
{
	struct hvx_exit *e = c->exit;
	hvx_exit_clear(e);
	e->reason = reason;
	e->qualification = qual;
	vmx_exit_finish(c);
}

_Noreturn void apicv_exit_physical(struct emu_cpu *c)
{
	access_exit(c, AT_GPA_INSN, 0);
}

/* ---- the access rules ---- */

/* Is a linear data access of n bytes at page offset off virtualized (SDM 29.4.2, 29.4.3.1)? */
static bool virtualized(struct emu_cpu *c, unsigned off, unsigned n, bool write)
{
	if (!(c->proc & CPU_BASED_TPR_SHADOW) || n > 4 || (off & 0xf) + n > 4 || off >= 0x400)
		return false;
	if (c->apicv_pend && c->apicv_off != off)
		return false; /* the operation already virtualized a write elsewhere on the page */
	bool regs = c->proc2 & CPU_BASED2_APIC_REG_VIRT, vid = c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY;
	if (!write)
		return regs ? (read_rows >> (off >> 4)) & 1 : off == VA_TPR;
	if (regs)
		return (write_rows >> (off >> 4)) & 1;
	return off == VA_TPR || (vid && (off == VA_EOI || off == VA_ICR_LO));
}

uint8_t *apicv_access(struct emu_cpu *c, uint64_t la, unsigned n, unsigned acc)
{
	unsigned off = (unsigned)(la & 0xfff);
	bool write = acc & ACC_W;
	if (acc & ACC_X)
		access_exit(c, AT_LIN_FETCH, off);
	if (!virtualized(c, off, n, write) || ((acc & ACC_R) && write && !virtualized(c, off, n, false)))
		access_exit(c, write ? AT_LIN_WRITE : AT_LIN_READ, off);
	if (write) {
		/* APIC-write emulation follows the operation (apicv_write_emulation at the end of the instruction). */
		c->apicv_pend = true;
		c->apicv_off = (uint16_t)off;
		c->stop = true;
	}
	return hvx_vapic_bytes(c->vcpu, off);
}

/* ---- virtualization of TPR, PPR, EOI, self-IPIs (SDM 29.1) ---- */

static void ppr_virtualization(struct emu_cpu *c)
{
	uint8_t vtpr = (uint8_t)vget(c, VA_TPR), s = svi(c);
	vput(c, VA_PPR, (vtpr >> 4) >= (s >> 4) ? vtpr : (s & 0xf0u));
}

void apicv_tpr_virtualization(struct emu_cpu *c)
{
	if (c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY) {
		ppr_virtualization(c); /* pending virtual interrupts are evaluated at the next instruction boundary */
		c->stop = true;
	} else if (((vget(c, VA_TPR) >> 4) & 0xf) < (c->v[HVX_SLOT_CTRL_TPR_THRESHOLD] & 0xf)) {
		vmx_exit_event(c, VMX_REASON_TPR_THRESHOLD);
	}
}

static void eoi_virtualization(struct emu_cpu *c)
{
	unsigned v = svi(c);
	vec_set(c, VA_ISR, v, false);
	set_status(c, rvi(c), (uint8_t)vec_highest(c, VA_ISR));
	ppr_virtualization(c);
	unsigned bm = HVX_SLOT_CTRL_EOI_EXIT_BITMAP_0 + (v >> 6);
	if ((c->v[bm] >> (v & 63)) & 1)
		trap_exit(c, VMX_REASON_VIRTUALIZED_EOI, v);
}

static void self_ipi_virtualization(struct emu_cpu *c, unsigned v)
{
	vec_set(c, VA_IRR, v, true);
	if (v > rvi(c))
		set_status(c, (uint8_t)v, svi(c));
}

/*
 * APIC-write emulation after an instruction that wrote the APIC-access page through a virtualized access
 * (SDM 29.4.3.2): trap-like, RIP past the instruction; any exit it causes ranks above everything else at this
 * boundary.
 */
void apicv_write_emulation(struct emu_cpu *c)
{
	unsigned off = c->apicv_off;
	bool vid = c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY;
	c->apicv_pend = false;
	switch (off) {
	case VA_TPR:
		vput(c, VA_TPR, vget(c, VA_TPR) & 0xff); /* bytes 0x81-0x83 cleared */
		apicv_tpr_virtualization(c);
		return;
	case VA_EOI:
		if (!vid)
			break;
		vput(c, VA_EOI, 0);
		eoi_virtualization(c);
		return;
	case VA_ICR_LO: {
		uint32_t icr = vget(c, VA_ICR_LO);
		/* Reserved bits, delivery status, level trigger, delivery mode all 0; shorthand "self"; vector >= 16. */
		if (vid && !(icr & 0xfff3b700u) && ((icr >> 18) & 3) == 1 && (icr & 0xff) >= 16) {
			self_ipi_virtualization(c, icr & 0xff);
			return;
		}
		break;
	}
	case VA_ICR_HI:
		vput(c, VA_ICR_HI, vget(c, VA_ICR_HI) & 0xff000000u);
		return;
	default:
		break;
	}
	trap_exit(c, VMX_REASON_APIC_WRITE, off);
}

/* ---- virtual-interrupt delivery (SDM 29.2) ---- */

/* VM entry with virtual-interrupt delivery: PPR virtualization (SDM 26.3.2.5); the evaluation happens at each boundary. */
void apicv_entry(struct emu_cpu *c)
{
	c->apicv_pend = false;
	if (c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY)
		ppr_virtualization(c);
}

/* Right after VM entry (after any injection): with TPR shadow and APIC-access virtualization but no virtual-interrupt
 * delivery, exit 43 when TPR threshold[3:0] > VTPR[7:4] (SDM 26.6.7; without APIC-access virtualization entry would
 * have failed instead). */
void apicv_entry_tpr(struct emu_cpu *c)
{
	if ((c->proc & CPU_BASED_TPR_SHADOW) && (c->proc2 & CPU_BASED2_VIRTUAL_APIC) &&
	    !(c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY) &&
	    (c->v[HVX_SLOT_CTRL_TPR_THRESHOLD] & 0xf) > ((vget(c, VA_TPR) >> 4) & 0xf))
		vmx_exit_event(c, VMX_REASON_TPR_THRESHOLD);
}

/* A virtual interrupt is recognized (RVI[7:4] > VPPR[7:4], no interrupt-window exiting) and deliverable now. */
bool apicv_virq_ready(struct emu_cpu *c)
{
	if (!(c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY) || (c->proc & CPU_BASED_IRQ_WND))
		return false;
	if ((rvi(c) >> 4) <= ((vget(c, VA_PPR) >> 4) & 0xf))
		return false;
	return !c->shadow && (emu_flags(c) & FL_IF);
}

void apicv_deliver(struct emu_cpu *c)
{
	unsigned v = rvi(c);
	vec_set(c, VA_ISR, v, true);
	vput(c, VA_PPR, v & 0xf0u);
	vec_set(c, VA_IRR, v, false);
	set_status(c, (uint8_t)vec_highest(c, VA_IRR), (uint8_t)v);
	c->v[HVX_SLOT_GUEST_ACTIVITY_STATE] = 0;
	c->cur = NULL;
	emu_deliver(c, v, EV_EXTINT, false, 0, 0);
	c->vect.valid = false;
}

/* ---- virtualize x2APIC mode (SDM 29.5): RDMSR/WRMSR of 0x800-0x8ff that the MSR bitmap lets through ---- */

static uint64_t vget64(struct emu_cpu *c, unsigned off)
{
	return vget(c, off) | ((uint64_t)vget(c, off + 4) << 32);
}

static void vput64(struct emu_cpu *c, unsigned off, uint64_t v)
{
	vput(c, off, (uint32_t)v);
	vput(c, off + 4, (uint32_t)(v >> 32));
}

bool apicv_msr(struct emu_cpu *c, uint32_t msr, bool wr, uint64_t val)
{
	unsigned off = (msr & 0xff) << 4;
	bool vid = c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY;
	if (!wr) {
		/* With APIC-register virtualization every x2APIC MSR reads the page (SDM 29.5), else only TPR. */
		if (!(c->proc2 & CPU_BASED2_APIC_REG_VIRT) && msr != 0x808)
			return false; /* the (absent) x2APIC itself */
		uint64_t v = vget64(c, off);
		reg_set(c, HVX_RAX, 4, false, v & 0xffffffff);
		reg_set(c, HVX_RDX, 4, false, v >> 32);
		return true;
	}
	if (msr == 0x808) {
		if (val >> 8)
			emu_gp0(c);
		vput64(c, VA_TPR, val);
		c->s->rip = c->next_rip; /* TPR virtualization is trap-like */
		apicv_tpr_virtualization(c);
		c->stop = true;
		return true;
	}
	if (vid && msr == 0x80b) {
		if (val)
			emu_gp0(c);
		c->s->rip = c->next_rip;
		eoi_virtualization(c);
		c->stop = true;
		return true;
	}
	if (vid && msr == 0x83f) {
		if (val >> 8)
			emu_gp0(c);
		vput64(c, 0x3f0, val);
		c->s->rip = c->next_rip;
		if (val < 16)
			trap_exit(c, VMX_REASON_APIC_WRITE, 0x3f0);
		self_ipi_virtualization(c, (unsigned)val);
		c->stop = true;
		return true;
	}
	return false;
}
