/* pit8254.c: 8254 programmable interval timer (three channels on the host monotonic clock, port 0x61 gate/OUT2, IRQ0). */
#include <string.h>

#include "devices.h"

void pit_init(struct pit8254 *p, dev_irq_fn irq, void *ctx)
{
	memset(p, 0, sizeof *p);
	for (unsigned i = 0; i < 3; i++) {
		p->ch[i].access = 3;
		p->ch[i].count = 65536;
	}
	p->irq = irq;
	p->irq_ctx = ctx;
}

static uint64_t ticks_since(const struct pit_channel *c, uint64_t now_ns)
{
	if (now_ns <= c->load_ns)
		return 0;
	return (uint64_t)(((unsigned __int128)(now_ns - c->load_ns) * PIT_HZ) / 1000000000u);
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static bool periodic(uint8_t mode)
{
	return mode == 2 || mode == 3;
}

uint16_t pit_counter(const struct pit8254 *p, unsigned ch, uint64_t now_ns)
{
	const struct pit_channel *c = &p->ch[ch];
	if (!c->armed)
		return (uint16_t)c->count;
	uint64_t t = ticks_since(c, now_ns);
	if (periodic(c->mode))
		return (uint16_t)(c->count - t % c->count);
	return (uint16_t)((c->count - t) & 0xffff);
}

bool pit_out(const struct pit8254 *p, unsigned ch, uint64_t now_ns)
{
	const struct pit_channel *c = &p->ch[ch];
	if (!c->armed)
		return c->mode != 0;
	uint64_t t = ticks_since(c, now_ns);
	switch (c->mode) {
	case 0:
	case 1: return t >= c->count;
	case 2: return t % c->count != c->count - 1;
	case 3: return t % c->count < (c->count + 1) / 2;
	default: return t != c->count;
	}
}

static void load(struct pit8254 *p, unsigned ch, uint64_t now_ns)
{
	struct pit_channel *c = &p->ch[ch];
	c->count = c->count_reg ? c->count_reg : 65536;
	c->load_ns = now_ns;
	c->null_count = false;
	c->armed = ch != 2 || (p->port61 & 1);
	if (ch == 0)
		c->next_irq_ns = now_ns + ticks_to_ns(c->count);
}

static uint8_t status_byte(const struct pit8254 *p, unsigned ch, uint64_t now_ns)
{
	const struct pit_channel *c = &p->ch[ch];
	return (uint8_t)((pit_out(p, ch, now_ns) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) | (c->access << 4) |
			 (c->mode << 1) | c->bcd);
}

static void latch(struct pit8254 *p, unsigned ch, uint64_t now_ns)
{
	struct pit_channel *c = &p->ch[ch];
	if (!c->latched) {
		c->latch = pit_counter(p, ch, now_ns);
		c->latched = true;
		c->read_hi_next = false;
	}
}

uint8_t pit_read(struct pit8254 *p, unsigned port, uint64_t now_ns)
{
	if (port == 0x61) {
		p->refresh = !p->refresh;
		return (uint8_t)((p->port61 & 0x0f) | (p->refresh ? 0x10 : 0) | (pit_out(p, 2, now_ns) ? 0x20 : 0));
	}
	if (port == 0x43)
		return 0xff; /* the control register is write-only */
	struct pit_channel *c = &p->ch[port & 3];
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t v = c->latched ? c->latch : pit_counter(p, port & 3, now_ns);
	uint8_t out;
	switch (c->access) {
	case 1: out = (uint8_t)v; c->latched = false; break;
	case 2: out = (uint8_t)(v >> 8); c->latched = false; break;
	default:
		out = c->read_hi_next ? (uint8_t)(v >> 8) : (uint8_t)v;
		if (c->read_hi_next)
			c->latched = false;
		c->read_hi_next = !c->read_hi_next;
		break;
	}
	return out;
}

void pit_write(struct pit8254 *p, unsigned port, uint8_t v, uint64_t now_ns)
{
	if (port == 0x61) {
		bool rising = (v & 1) && !(p->port61 & 1);
		p->port61 = v & 0x0f;
		if (rising && !p->ch[2].null_count)
			load(p, 2, now_ns); /* gate 2 rising edge (re)starts channel 2 */
		return;
	}
	if (port == 0x43) {
		unsigned sel = v >> 6;
		if (sel == 3) { /* read-back */
			for (unsigned ch = 0; ch < 3; ch++) {
				if (!(v & (2u << ch)))
					continue;
				if (!(v & 0x20))
					latch(p, ch, now_ns);
				if (!(v & 0x10) && !p->ch[ch].status_latched) {
					p->ch[ch].status = status_byte(p, ch, now_ns);
					p->ch[ch].status_latched = true;
				}
			}
			return;
		}
		struct pit_channel *c = &p->ch[sel];
		unsigned access = (v >> 4) & 3;
		if (!access) {
			latch(p, sel, now_ns);
			return;
		}
		c->access = (uint8_t)access;
		c->mode = (v >> 1) & 7;
		if (c->mode > 5)
			c->mode -= 4; /* 6 and 7 alias 2 and 3 */
		c->bcd = v & 1;
		c->armed = false;
		c->null_count = true;
		c->write_hi_next = false;
		c->read_hi_next = false;
		c->latched = false;
		if (sel == 0)
			c->next_irq_ns = 0;
		return;
	}
	unsigned ch = port & 3;
	struct pit_channel *c = &p->ch[ch];
	switch (c->access) {
	case 1:
		c->count_reg = v;
		load(p, ch, now_ns);
		break;
	case 2:
		c->count_reg = (uint16_t)(v << 8);
		load(p, ch, now_ns);
		break;
	default:
		if (!c->write_hi_next) {
			c->write_lo = v;
			c->write_hi_next = true;
		} else {
			c->count_reg = (uint16_t)(c->write_lo | (v << 8));
			c->write_hi_next = false;
			load(p, ch, now_ns);
		}
		break;
	}
}

uint64_t pit_tick(struct pit8254 *p, uint64_t now_ns)
{
	struct pit_channel *c = &p->ch[0];
	if (!c->armed || !c->next_irq_ns)
		return 0;
	if (now_ns < c->next_irq_ns)
		return c->next_irq_ns;
	if (p->irq) { /* an edge: the PIC latches it */
		p->irq(p->irq_ctx, PIT_IRQ, 1);
		p->irq(p->irq_ctx, PIT_IRQ, 0);
	}
	if (!periodic(c->mode)) {
		c->next_irq_ns = 0;
		return 0;
	}
	uint64_t period = ticks_to_ns(c->count);
	if (period < 10000)
		period = 10000; /* at most 100 kHz of interrupts: missed ticks coalesce */
	c->next_irq_ns += period;
	if (c->next_irq_ns <= now_ns)
		c->next_irq_ns = now_ns + period;
	return c->next_irq_ns;
}
