/* lapic.c: local APIC (xAPIC register page): TPR/PPR, IRR/ISR/EOI, SVR, LVTs, one-shot/periodic timer, ICR (IPIs). */
#include <string.h>

#include "devices.h"

#define SVR_ENABLE (1u << 8)
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_BSP (1ull << 8)
#define TIMER_PERIODIC (1u << 17)

void lapic_init(struct lapic *l, unsigned id, bool bsp)
{
	memset(l, 0, sizeof *l);
	l->id = id << 24;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->lvt_timer = l->lvt_thermal = l->lvt_perf = l->lvt_error = l->lvt_cmci = LAPIC_LVT_MASKED;
	/* Like a PC BIOS (virtual-wire mode): the BSP takes the PIC on LINT0 as ExtINT and NMI on LINT1. */
	l->lvt_lint0 = bsp ? 0x700 : LAPIC_LVT_MASKED;
	l->lvt_lint1 = bsp ? 0x400 : LAPIC_LVT_MASKED;
	l->apic_base_msr = LAPIC_BASE | APIC_BASE_ENABLE | (bsp ? APIC_BASE_BSP : 0);
}

static int highest(const uint32_t v[8])
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

static uint32_t ppr(const struct lapic *l)
{
	int isr = highest(l->isr);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr & 0xf0;
	return (l->tpr & 0xf0) >= isrv ? l->tpr & 0xff : isrv;
}

static bool enabled(const struct lapic *l)
{
	return (l->apic_base_msr & APIC_BASE_ENABLE) && (l->svr & SVR_ENABLE);
}

void lapic_accept(struct lapic *l, uint8_t vector)
{
	if (vector < 16) {
		l->esr |= 0x40; /* received illegal vector */
		return;
	}
	l->irr[vector >> 5] |= 1u << (vector & 31);
}

int lapic_pending(const struct lapic *l)
{
	if (!enabled(l))
		return -1;
	int v = highest(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

void lapic_ack(struct lapic *l, uint8_t vector)
{
	l->irr[vector >> 5] &= ~(1u << (vector & 31));
	l->isr[vector >> 5] |= 1u << (vector & 31);
}

bool lapic_accepts_pic(const struct lapic *l)
{
	if (!(l->apic_base_msr & APIC_BASE_ENABLE))
		return true;
	return !(l->lvt_lint0 & LAPIC_LVT_MASKED) && ((l->lvt_lint0 >> 8) & 7) == 7;
}

bool lapic_matches(const struct lapic *l, bool logical, uint8_t dest)
{
	if (!logical)
		return dest == 0xff || dest == (uint8_t)(l->id >> 24);
	uint8_t ldr = (uint8_t)(l->ldr >> 24);
	if ((l->dfr >> 28) == 0xf)
		return (ldr & dest) != 0; /* flat model */
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf); /* cluster model */
}

static unsigned divider(const struct lapic *l)
{
	unsigned code = (l->timer_dcr & 3) | ((l->timer_dcr >> 1) & 4);
	return code == 7 ? 1 : 2u << code;
}

static uint64_t period_ns(const struct lapic *l)
{
	uint64_t ticks = (uint64_t)l->timer_icr * divider(l);
	return (uint64_t)(((unsigned __int128)ticks * 1000000000u) / LAPIC_BUS_HZ);
}

uint32_t lapic_read(struct lapic *l, unsigned off, uint64_t now_ns)
{
	off &= 0xff0;
	if (off >= LAPIC_ISR && off < LAPIC_ISR + 0x80)
		return l->isr[(off - LAPIC_ISR) >> 4];
	if (off >= LAPIC_TMR && off < LAPIC_TMR + 0x80)
		return l->tmr[(off - LAPIC_TMR) >> 4];
	if (off >= LAPIC_IRR && off < LAPIC_IRR + 0x80)
		return l->irr[(off - LAPIC_IRR) >> 4];
	switch (off) {
	case LAPIC_ID: return l->id;
	case LAPIC_VER: return 0x00050014; /* version 0x14, 6 LVT entries */
	case LAPIC_TPR: return l->tpr;
	case LAPIC_PPR: return ppr(l);
	case LAPIC_LDR: return l->ldr;
	case LAPIC_DFR: return l->dfr;
	case LAPIC_SVR: return l->svr;
	case LAPIC_ESR: return l->esr;
	case LAPIC_ICR_LO: return l->icr_lo & ~(1u << 12); /* delivery is instant: never "send pending" */
	case LAPIC_ICR_HI: return l->icr_hi;
	case LAPIC_LVT_TIMER: return l->lvt_timer;
	case LAPIC_LVT_THERMAL: return l->lvt_thermal;
	case LAPIC_LVT_PERF: return l->lvt_perf;
	case LAPIC_LVT_LINT0: return l->lvt_lint0;
	case LAPIC_LVT_LINT1: return l->lvt_lint1;
	case LAPIC_LVT_ERROR: return l->lvt_error;
	case LAPIC_LVT_CMCI: return l->lvt_cmci;
	case LAPIC_TIMER_ICR: return l->timer_icr;
	case LAPIC_TIMER_CCR: {
		if (!l->timer_deadline_ns || !l->timer_icr)
			return 0;
		uint64_t p = period_ns(l);
		if (!p)
			return 0;
		uint64_t left = now_ns >= l->timer_deadline_ns ? 0 : l->timer_deadline_ns - now_ns;
		if (l->lvt_timer & TIMER_PERIODIC)
			left = (l->timer_deadline_ns - now_ns) % (p ? p : 1);
		return (uint32_t)(((unsigned __int128)left * LAPIC_BUS_HZ / 1000000000u) / divider(l));
	}
	case LAPIC_TIMER_DCR: return l->timer_dcr;
	default: return 0;
	}
}

static void timer_start(struct lapic *l, uint64_t now_ns)
{
	l->timer_start_ns = now_ns;
	uint64_t p = period_ns(l);
	l->timer_deadline_ns = l->timer_icr ? now_ns + (p ? p : 1) : 0;
}

struct lapic_ipi lapic_write(struct lapic *l, unsigned off, uint32_t v, uint64_t now_ns)
{
	struct lapic_ipi ipi = {.kind = IPI_NONE};
	bool mask_all = !(l->svr & SVR_ENABLE); /* a software-disabled APIC keeps LVTs masked */
	uint32_t m = mask_all ? LAPIC_LVT_MASKED : 0;
	switch (off & 0xff0) {
	case LAPIC_ID: l->id = v & 0xff000000u; break;
	case LAPIC_TPR: l->tpr = v & 0xff; break;
	case LAPIC_EOI: {
		int s = highest(l->isr);
		if (s >= 0)
			l->isr[s >> 5] &= ~(1u << (s & 31));
		break;
	}
	case LAPIC_LDR: l->ldr = v & 0xff000000u; break;
	case LAPIC_DFR: l->dfr = v | 0x0fffffffu; break;
	case LAPIC_SVR:
		l->svr = v & 0x13ff;
		if (!(v & SVR_ENABLE)) {
			l->lvt_timer |= LAPIC_LVT_MASKED;
			l->lvt_thermal |= LAPIC_LVT_MASKED;
			l->lvt_perf |= LAPIC_LVT_MASKED;
			l->lvt_lint0 |= LAPIC_LVT_MASKED;
			l->lvt_lint1 |= LAPIC_LVT_MASKED;
			l->lvt_error |= LAPIC_LVT_MASKED;
		}
		break;
	case LAPIC_ESR: l->esr = 0; break;
	case LAPIC_ICR_HI: l->icr_hi = v & 0xff000000u; break;
	case LAPIC_ICR_LO: {
		l->icr_lo = v & 0x000ccfffu;
		unsigned mode = (v >> 8) & 7;
		ipi.vector = (uint8_t)v;
		ipi.shorthand = (v >> 18) & 3;
		ipi.logical = (v >> 11) & 1;
		ipi.dest = (uint8_t)(l->icr_hi >> 24);
		switch (mode) {
		case 0: case 1: ipi.kind = IPI_FIXED; break;
		case 4: ipi.kind = IPI_NMI; break;
		case 5:
			/* INIT level de-assert (level bit 14 clear, trigger level) only resyncs arbitration IDs. */
			ipi.kind = ((v >> 15) & 1) && !((v >> 14) & 1) ? IPI_NONE : IPI_INIT;
			break;
		case 6: ipi.kind = IPI_SIPI; break;
		default: ipi.kind = IPI_NONE; break;
		}
		break;
	}
	case LAPIC_LVT_TIMER: l->lvt_timer = (v & 0x300ff) | (v & LAPIC_LVT_MASKED) | m; break;
	case LAPIC_LVT_THERMAL: l->lvt_thermal = (v & 0x107ff) | m; break;
	case LAPIC_LVT_PERF: l->lvt_perf = (v & 0x107ff) | m; break;
	case LAPIC_LVT_LINT0: l->lvt_lint0 = (v & 0x1a7ff) | m; break;
	case LAPIC_LVT_LINT1: l->lvt_lint1 = (v & 0x1a7ff) | m; break;
	case LAPIC_LVT_ERROR: l->lvt_error = (v & 0x100ff) | m; break;
	case LAPIC_LVT_CMCI: l->lvt_cmci = (v & 0x107ff) | m; break;
	case LAPIC_TIMER_ICR:
		l->timer_icr = v;
		timer_start(l, now_ns);
		break;
	case LAPIC_TIMER_DCR: l->timer_dcr = v & 0xb; break;
	default: break;
	}
	return ipi;
}

uint64_t lapic_tick(struct lapic *l, uint64_t now_ns)
{
	if (!l->timer_deadline_ns)
		return 0;
	if (now_ns < l->timer_deadline_ns)
		return l->timer_deadline_ns;
	if (!(l->lvt_timer & LAPIC_LVT_MASKED))
		lapic_accept(l, (uint8_t)l->lvt_timer);
	if (!(l->lvt_timer & TIMER_PERIODIC)) {
		l->timer_deadline_ns = 0;
		return 0;
	}
	uint64_t p = period_ns(l);
	if (p < 10000)
		p = 10000; /* at most 100 kHz of timer interrupts */
	l->timer_deadline_ns += p;
	if (l->timer_deadline_ns <= now_ns)
		l->timer_deadline_ns = now_ns + p;
	return l->timer_deadline_ns;
}
