/* pic8259.c: cascaded 8259A interrupt controllers (ICW1-4, OCW1-3, edge/level via ELCR, auto-EOI, specific/non-specific EOI). */
#include <string.h>

#include "devices.h"

void pic_init(struct pic8259 *p)
{
	memset(p, 0, sizeof *p);
	/* The state a PC BIOS leaves: vectors 0x08 and 0x70, everything masked but the cascade. */
	p->c[0].base = 0x08;
	p->c[0].imr = 0xfb;
	p->c[1].base = 0x70;
	p->c[1].imr = 0xff;
}

/* Highest-priority unmasked request above the highest in-service level; -1 if none. */
static int chip_pending(const struct pic_chip *c)
{
	uint8_t req = c->irr & (uint8_t)~c->imr;
	for (int i = 0; i < 8; i++) {
		if (!c->special_mask && (c->isr & (1u << i)))
			return -1; /* a higher (or equal) priority level is in service */
		if (req & (1u << i))
			return i;
	}
	return -1;
}

/* The slave's INT output drives master input 2. */
static void cascade(struct pic8259 *p)
{
	bool out = chip_pending(&p->c[1]) >= 0;
	if (out)
		p->c[0].irr |= 0x04;
	else if (!(p->c[0].elcr & 0x04) || !(p->c[0].level & 0x04))
		p->c[0].irr &= (uint8_t)~0x04;
	if (out)
		p->c[0].level |= 0x04;
	else
		p->c[0].level &= (uint8_t)~0x04;
}

void pic_set_irq(struct pic8259 *p, unsigned irq, int level)
{
	if (irq >= 16)
		return;
	struct pic_chip *c = &p->c[irq >> 3];
	uint8_t bit = (uint8_t)(1u << (irq & 7));
	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->level & bit)) {
		c->irr |= bit; /* rising edge */
	}
	if (level)
		c->level |= bit;
	else
		c->level &= (uint8_t)~bit;
	cascade(p);
}

int pic_pending(const struct pic8259 *p)
{
	int m = chip_pending(&p->c[0]);
	if (m < 0)
		return -1;
	if (m == 2 && !p->c[0].single) {
		int s = chip_pending(&p->c[1]);
		return s < 0 ? -1 : p->c[1].base + s;
	}
	return p->c[0].base + m;
}

static void chip_ack(struct pic_chip *c, int irq)
{
	uint8_t bit = (uint8_t)(1u << irq);
	if (!(c->elcr & bit))
		c->irr &= (uint8_t)~bit;
	if (!c->auto_eoi)
		c->isr |= bit;
}

int pic_ack(struct pic8259 *p)
{
	int m = chip_pending(&p->c[0]);
	if (m < 0)
		return p->c[0].base + 7; /* spurious */
	chip_ack(&p->c[0], m);
	int vec;
	if (m == 2 && !p->c[0].single) {
		int s = chip_pending(&p->c[1]);
		if (s < 0) {
			vec = p->c[1].base + 7;
		} else {
			chip_ack(&p->c[1], s);
			vec = p->c[1].base + s;
		}
	} else {
		vec = p->c[0].base + m;
	}
	cascade(p);
	return vec;
}

uint8_t pic_read(struct pic8259 *p, unsigned port)
{
	if (port == 0x4d0 || port == 0x4d1)
		return p->c[port & 1].elcr;
	struct pic_chip *c = &p->c[(port >> 7) & 1];
	if (port & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void eoi(struct pic_chip *c, int level)
{
	if (level < 0) {
		for (int i = 0; i < 8; i++)
			if (c->isr & (1u << i)) {
				c->isr &= (uint8_t)~(1u << i);
				return;
			}
		return;
	}
	c->isr &= (uint8_t)~(1u << level);
}

void pic_write(struct pic8259 *p, unsigned port, uint8_t v)
{
	if (port == 0x4d0 || port == 0x4d1) {
		p->c[port & 1].elcr = port == 0x4d0 ? (v & 0xf8) : (v & 0xde); /* IRQ 0-2, 8, 13 are always edge */
		return;
	}
	struct pic_chip *c = &p->c[(port >> 7) & 1];
	if (!(port & 1)) {
		if (v & 0x10) { /* ICW1 */
			c->icw4 = v & 1;
			c->single = (v & 2) != 0;
			c->imr = 0;
			c->isr = 0;
			c->irr &= c->elcr; /* edge requests are forgotten */
			c->auto_eoi = false;
			c->read_isr = false;
			c->special_mask = false;
			c->init_step = 2;
		} else if (v & 0x08) { /* OCW3 */
			if (v & 0x02)
				c->read_isr = v & 1;
			if (v & 0x40)
				c->special_mask = (v & 0x20) != 0;
		} else { /* OCW2 */
			unsigned cmd = v >> 5;
			if (cmd == 1 || cmd == 5)
				eoi(c, -1);
			else if (cmd == 3 || cmd == 7)
				eoi(c, v & 7);
		}
	} else {
		switch (c->init_step) {
		case 2:
			c->base = v & 0xf8;
			c->init_step = c->single ? (c->icw4 ? 4 : 0) : 3;
			break;
		case 3:
			c->init_step = c->icw4 ? 4 : 0;
			break;
		case 4:
			c->auto_eoi = (v & 2) != 0;
			c->init_step = 0;
			break;
		default:
			c->imr = v; /* OCW1 */
			break;
		}
	}
	cascade(p);
}
