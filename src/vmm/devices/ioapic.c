/* ioapic.c: I/O APIC: 24 redirection entries behind IOREGSEL/IOWIN, edge and level (Remote IRR) pins, EOI register. */
#include <string.h>

#include "devices.h"

void ioapic_init(struct ioapic *a)
{
	memset(a, 0, sizeof *a);
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		a->rte[i] = IOAPIC_RTE_MASKED;
}

static struct ioapic_msg message(uint64_t rte)
{
	return (struct ioapic_msg){.vector = (uint8_t)rte, .mode = (uint8_t)((rte >> 8) & 7),
				   .logical = (rte >> 11) & 1, .dest = (uint8_t)(rte >> 56)};
}

/* Send from pin if it is due: unmasked, and for a level pin asserted with Remote IRR clear (which it then sets). */
static unsigned level_due(struct ioapic *a, unsigned pin, struct ioapic_msg *out)
{
	uint64_t *r = &a->rte[pin];
	if ((*r & IOAPIC_RTE_MASKED) || !(*r & IOAPIC_RTE_LEVEL) || (*r & IOAPIC_RTE_REMOTE_IRR) ||
	    !((a->asserted >> pin) & 1))
		return 0;
	*r |= IOAPIC_RTE_REMOTE_IRR;
	*out = message(*r);
	return 1;
}

uint32_t ioapic_read(struct ioapic *a, unsigned off)
{
	if (off != IOAPIC_WIN)
		return off == IOAPIC_REGSEL ? a->sel : 0;
	switch (a->sel) {
	case 0x00: return a->id;
	case 0x01: return 0x20 | ((IOAPIC_PINS - 1) << 16); /* version, maximum redirection entry */
	case 0x02: return a->id;                             /* arbitration ID */
	default:
		if (a->sel >= 0x10 && a->sel < 0x10 + 2 * IOAPIC_PINS) {
			uint64_t r = a->rte[(a->sel - 0x10) / 2];
			return (uint32_t)((a->sel & 1) ? r >> 32 : r);
		}
		return 0;
	}
}

unsigned ioapic_write(struct ioapic *a, unsigned off, uint32_t v, struct ioapic_msg out[IOAPIC_PINS])
{
	if (off == IOAPIC_REGSEL) {
		a->sel = v & 0xff;
		return 0;
	}
	if (off == IOAPIC_EOIR)
		return ioapic_eoi(a, (uint8_t)v, out);
	if (off != IOAPIC_WIN)
		return 0;
	if (a->sel == 0x00) {
		a->id = v & 0x0f000000u;
		return 0;
	}
	if (a->sel < 0x10 || a->sel >= 0x10 + 2 * IOAPIC_PINS)
		return 0;
	unsigned pin = (a->sel - 0x10) / 2;
	uint64_t *r = &a->rte[pin];
	if (a->sel & 1) {
		*r = (*r & 0xffffffffull) | ((uint64_t)(v & 0xff000000u) << 32);
		return 0;
	}
	/* Delivery status (bit 12) and Remote IRR (bit 14) are read-only; an edge pin has no Remote IRR. */
	uint64_t keep = (v & IOAPIC_RTE_LEVEL) ? (*r & IOAPIC_RTE_REMOTE_IRR) : 0;
	*r = (*r & 0xffffffff00000000ull) | (v & 0x1afffu) | keep;
	return level_due(a, pin, out);
}

unsigned ioapic_set_irq(struct ioapic *a, unsigned pin, int level, struct ioapic_msg *out)
{
	if (pin >= IOAPIC_PINS)
		return 0;
	bool was = (a->asserted >> pin) & 1;
	if (level)
		a->asserted |= 1u << pin;
	else
		a->asserted &= ~(1u << pin);
	uint64_t r = a->rte[pin];
	if (r & IOAPIC_RTE_LEVEL)
		return level_due(a, pin, out);
	if (!level || was || (r & IOAPIC_RTE_MASKED))
		return 0; /* an edge while masked is lost */
	*out = message(r);
	return 1;
}

unsigned ioapic_eoi(struct ioapic *a, uint8_t vector, struct ioapic_msg out[IOAPIC_PINS])
{
	unsigned n = 0;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t *r = &a->rte[pin];
		if ((*r & IOAPIC_RTE_LEVEL) && (*r & IOAPIC_RTE_REMOTE_IRR) && (uint8_t)*r == vector) {
			*r &= ~IOAPIC_RTE_REMOTE_IRR;
			n += level_due(a, pin, &out[n]);
		}
	}
	return n;
}
