/* test_devices.c: unit tests of the device models: UART LSR/IIR/MSR, PIT, PIC, CMOS, fw_cfg, LAPIC, power ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "devices/devices.h"

static int irq_level[16];
static int irq_edges[16];
static void irq_cb(void *ctx, unsigned line, int level)
{
	(void)ctx;
	if (level && !irq_level[line])
		irq_edges[line]++;
	irq_level[line] = level;
}

static void reset_irqs(void)
{
	memset(irq_level, 0, sizeof irq_level);
	memset(irq_edges, 0, sizeof irq_edges);
}

static void uart_reset_state(void **state)
{
	(void)state;
	struct uart8250 u;
	uart_init(&u, NULL, irq_cb, NULL, 4);
	assert_int_equal(uart_read(&u, 5), 0x60);  /* LSR: THRE | TEMT */
	assert_int_equal(uart_read(&u, 2), 0x01);  /* IIR: no interrupt */
	assert_int_equal(uart_read(&u, 6) & 0xf0, 0xb0); /* MSR: DCD, DSR, CTS */
	assert_int_equal(uart_read(&u, 0), 0);      /* empty RBR */
}

static void uart_thre_interrupt(void **state)
{
	(void)state;
	reset_irqs();
	struct uart8250 u;
	uart_init(&u, NULL, irq_cb, NULL, 4);
	uart_write(&u, 1, 0x02);                     /* IER: THRI */
	assert_int_equal(irq_level[4], 1);
	assert_int_equal(uart_read(&u, 2), 0x02);   /* IIR: THR empty; reading clears it */
	assert_int_equal(uart_read(&u, 2), 0x01);
	assert_int_equal(irq_level[4], 0);
	uart_write(&u, 0, 'x');                      /* transmit: THR empty again */
	assert_int_equal(uart_iir(&u), 0x02);
	assert_int_equal(irq_level[4], 1);
	uart_write(&u, 1, 0);
	assert_int_equal(irq_level[4], 0);
}

static void uart_receive_and_errors(void **state)
{
	(void)state;
	reset_irqs();
	struct uart8250 u;
	uart_init(&u, NULL, irq_cb, NULL, 4);
	uart_write(&u, 1, 0x05);                     /* RDI | RLSI */
	assert_int_equal(uart_receive(&u, (const uint8_t *)"ab", 2), 1); /* no FIFO: room for one byte */
	assert_int_equal(uart_iir(&u), 0x04);
	uart_write(&u, 4, 0x10);                     /* loopback: a transmitted byte overruns the full RBR */
	uart_write(&u, 0, 'c');
	uart_write(&u, 4, 0x00);
	assert_int_equal(uart_iir(&u), 0x06);        /* line status has priority */
	assert_int_equal(uart_read(&u, 5) & 0x03, 0x03); /* DR | OE; reading LSR clears OE */
	assert_int_equal(uart_read(&u, 5) & 0x03, 0x01);
	assert_int_equal(uart_iir(&u), 0x04);        /* received data available */
	assert_int_equal(uart_read(&u, 0), 'a');
	assert_int_equal(uart_read(&u, 5) & 0x01, 0);
	assert_int_equal(uart_iir(&u), 0x01);
	assert_int_equal(irq_level[4], 0);
	uart_write(&u, 2, 0x07);                     /* FIFO on */
	assert_int_equal(uart_receive(&u, (const uint8_t *)"xyz", 3), 3);
	assert_int_equal(uart_iir(&u), 0xc4);        /* FIFO bits set in IIR */
	assert_int_equal(uart_read(&u, 0), 'x');
	assert_int_equal(uart_read(&u, 0), 'y');
	assert_int_equal(uart_read(&u, 0), 'z');
}

static void uart_dlab_and_loopback(void **state)
{
	(void)state;
	struct uart8250 u;
	uart_init(&u, NULL, NULL, NULL, 4);
	uart_write(&u, 3, 0x83);
	uart_write(&u, 0, 0x01);
	uart_write(&u, 1, 0x00);
	assert_int_equal(uart_read(&u, 0), 0x01);
	assert_int_equal(uart_read(&u, 1), 0x00);
	uart_write(&u, 3, 0x03);
	assert_int_equal(uart_read(&u, 1), 0);       /* IER again */
	uart_write(&u, 4, 0x10 | 0x0b);              /* loopback with DTR, RTS, OUT2 */
	uint8_t msr = uart_read(&u, 6);
	assert_int_equal(msr & 0xf0, 0x10 | 0x20 | 0x80); /* CTS, DSR, DCD */
	uart_write(&u, 0, 'L');                      /* loops back into RBR */
	assert_int_equal(uart_read(&u, 5) & 1, 1);
	assert_int_equal(uart_read(&u, 0), 'L');
	uart_write(&u, 7, 0x5a);
	assert_int_equal(uart_read(&u, 7), 0x5a);
}

static void pit_counts_down(void **state)
{
	(void)state;
	reset_irqs();
	struct pit8254 p;
	pit_init(&p, irq_cb, NULL);
	pit_write(&p, 0x43, 0x34, 0);                /* ch0, lo/hi, mode 2 */
	pit_write(&p, 0x40, 0xe8, 0);
	pit_write(&p, 0x40, 0x03, 0);                /* 1000 */
	uint64_t t = 500ull * 1000000000ull / PIT_HZ; /* 500 ticks later */
	uint16_t c = pit_counter(&p, 0, t);
	assert_true(c >= 499 && c <= 501);
	pit_write(&p, 0x43, 0x00, t);                /* latch */
	uint8_t lo = pit_read(&p, 0x40, t + 100000), hi = pit_read(&p, 0x40, t + 100000);
	assert_int_equal(lo | (hi << 8), c);
	/* IRQ0 after one period, then periodic */
	uint64_t next = pit_tick(&p, 0);
	assert_true(next > 0);
	assert_int_equal(irq_edges[0], 0);
	next = pit_tick(&p, next);
	assert_int_equal(irq_edges[0], 1);
	assert_true(next > 0);
	/* read-back of the status byte: mode 2, lo/hi access */
	pit_write(&p, 0x43, 0xe2, t);                /* read-back status of ch0 */
	assert_int_equal(pit_read(&p, 0x40, t) & 0x3f, 0x34);
}

static void pit_channel2_gate_and_out(void **state)
{
	(void)state;
	struct pit8254 p;
	pit_init(&p, NULL, NULL);
	pit_write(&p, 0x61, 0x01, 0);                /* gate 2 high */
	pit_write(&p, 0x43, 0xb0, 0);                /* ch2, lo/hi, mode 0 */
	pit_write(&p, 0x42, 100, 0);
	pit_write(&p, 0x42, 0, 0);
	assert_int_equal(pit_read(&p, 0x61, 1000) & 0x20, 0);  /* OUT2 low while counting */
	uint64_t later = 200ull * 1000000000ull / PIT_HZ;
	assert_int_equal(pit_read(&p, 0x61, later) & 0x20, 0x20); /* high after terminal count */
	uint8_t a = pit_read(&p, 0x61, later) & 0x10, b = pit_read(&p, 0x61, later) & 0x10;
	assert_int_not_equal(a, b);                  /* refresh bit toggles */
}

static void pic_init_sequence(struct pic8259 *p)
{
	pic_init(p);
	pic_write(p, 0x20, 0x11);
	pic_write(p, 0x21, 0x20);
	pic_write(p, 0x21, 0x04);
	pic_write(p, 0x21, 0x01);
	pic_write(p, 0xa0, 0x11);
	pic_write(p, 0xa1, 0x28);
	pic_write(p, 0xa1, 0x02);
	pic_write(p, 0xa1, 0x01);
}

static void pic_deliver_and_eoi(void **state)
{
	(void)state;
	struct pic8259 p;
	pic_init_sequence(&p);
	assert_int_equal(pic_read(&p, 0x21), 0);     /* ICW1 clears the mask */
	assert_int_equal(pic_pending(&p), -1);
	pic_set_irq(&p, 4, 1);
	assert_int_equal(pic_pending(&p), 0x24);
	pic_set_irq(&p, 0, 1);
	assert_int_equal(pic_pending(&p), 0x20);     /* IRQ0 has priority */
	assert_int_equal(pic_ack(&p), 0x20);
	assert_int_equal(pic_pending(&p), -1);       /* IRQ4 waits behind IRQ0 in service */
	pic_write(&p, 0x20, 0x0b);                   /* OCW3: read ISR */
	assert_int_equal(pic_read(&p, 0x20), 0x01);
	pic_write(&p, 0x20, 0x20);                   /* non-specific EOI */
	assert_int_equal(pic_pending(&p), 0x24);
	pic_write(&p, 0x21, 0x10);                   /* mask IRQ4 */
	assert_int_equal(pic_pending(&p), -1);
	pic_write(&p, 0x21, 0x00);
	assert_int_equal(pic_ack(&p), 0x24);
	pic_write(&p, 0x20, 0x64);                   /* specific EOI, level 4 */
	pic_write(&p, 0x20, 0x0b);
	assert_int_equal(pic_read(&p, 0x20), 0);
	/* slave IRQ 12 through the cascade */
	pic_set_irq(&p, 12, 1);
	assert_int_equal(pic_pending(&p), 0x2c);
	assert_int_equal(pic_ack(&p), 0x2c);
	/* edge-triggered: holding the line high does not re-request */
	pic_write(&p, 0xa0, 0x20);
	pic_write(&p, 0x20, 0x20);
	pic_set_irq(&p, 12, 1);
	assert_int_equal(pic_pending(&p), -1);
	assert_int_equal(pic_ack(&p), 0x27);         /* spurious */
}

static void pic_auto_eoi_and_elcr(void **state)
{
	(void)state;
	struct pic8259 p;
	pic_init(&p);
	pic_write(&p, 0x20, 0x11);
	pic_write(&p, 0x21, 0x08);
	pic_write(&p, 0x21, 0x04);
	pic_write(&p, 0x21, 0x03);                   /* ICW4: 8086, auto-EOI */
	pic_write(&p, 0x21, 0x00);
	pic_set_irq(&p, 3, 1);
	assert_int_equal(pic_ack(&p), 0x0b);
	pic_write(&p, 0x20, 0x0b);
	assert_int_equal(pic_read(&p, 0x20), 0);     /* nothing in service */
	pic_write(&p, 0x4d0, 0x20);                  /* IRQ5 level-triggered */
	assert_int_equal(pic_read(&p, 0x4d0), 0x20);
	pic_set_irq(&p, 5, 1);
	assert_int_equal(pic_ack(&p), 0x0d);
	assert_int_equal(pic_pending(&p), 0x0d);     /* still asserted: requested again */
	pic_set_irq(&p, 5, 0);
	assert_int_equal(pic_pending(&p), -1);
}

static void cmos_time_and_memory(void **state)
{
	(void)state;
	struct cmos c;
	cmos_init(&c, 256ull << 20, 2);
	int64_t t = 1700000000; /* 2023-11-14 22:13:20 UTC, a Tuesday */
	cmos_write(&c, 0x70, 0x00);
	assert_int_equal(cmos_read(&c, 0x71, t), 0x20);  /* BCD seconds */
	cmos_write(&c, 0x70, 0x04);
	assert_int_equal(cmos_read(&c, 0x71, t), 0x22);
	cmos_write(&c, 0x70, 0x09);
	assert_int_equal(cmos_read(&c, 0x71, t), 0x23);
	cmos_write(&c, 0x70, 0x32);
	assert_int_equal(cmos_read(&c, 0x71, t), 0x20);
	cmos_write(&c, 0x70, 0x0b);
	cmos_write(&c, 0x71, 0x06);                      /* binary, 24 h */
	cmos_write(&c, 0x70, 0x07);
	assert_int_equal(cmos_read(&c, 0x71, t), 14);
	cmos_write(&c, 0x70, 0x0d);
	assert_int_equal(cmos_read(&c, 0x71, t), 0x80);
	cmos_write(&c, 0x70, 0x0a);
	assert_int_equal(cmos_read(&c, 0x71, t) & 0x80, 0); /* never updating */
	cmos_write(&c, 0x70, 0x34 | 0x80);               /* NMI-disable bit is not part of the index */
	assert_true(c.nmi_disabled);
	uint16_t above16m = (uint16_t)(cmos_read(&c, 0x71, t) | (c.ram[0x35] << 8));
	assert_int_equal(above16m, (256 - 16) * 16);     /* 64 KiB units */
	assert_int_equal(c.ram[0x15] | (c.ram[0x16] << 8), 640);
	cmos_write(&c, 0x70, 0x40);
	cmos_write(&c, 0x71, 0xab);                      /* NVRAM */
	assert_int_equal(cmos_read(&c, 0x71, t), 0xab);
}

static void fw_cfg_items(void **state)
{
	(void)state;
	struct fw_cfg f;
	assert_int_equal(fw_cfg_init(&f, 0x12345678ull << 8, 3, "console=ttyS0"), 0);
	char sig[5] = {0};
	fw_cfg_select(&f, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)fw_cfg_read_byte(&f);
	assert_string_equal(sig, "QEMU");
	assert_int_equal(fw_cfg_read_byte(&f), 0);       /* past the end */
	fw_cfg_select(&f, FW_CFG_ID);
	assert_int_equal(fw_cfg_read_byte(&f), 1);
	fw_cfg_select(&f, FW_CFG_RAM_SIZE);
	uint64_t ram = 0;
	for (int i = 0; i < 8; i++)
		ram |= (uint64_t)fw_cfg_read_byte(&f) << (8 * i);
	assert_int_equal(ram, 0x12345678ull << 8);
	fw_cfg_select(&f, FW_CFG_NB_CPUS);
	assert_int_equal(fw_cfg_read_byte(&f) | (fw_cfg_read_byte(&f) << 8), 3);
	fw_cfg_select(&f, FW_CFG_CMDLINE_DATA);
	assert_int_equal(fw_cfg_read_byte(&f), 'c');
	fw_cfg_select(&f, 0x1234);                       /* unknown key */
	assert_int_equal(fw_cfg_read_byte(&f), 0);
	fw_cfg_free(&f);
}

static void lapic_registers_and_interrupts(void **state)
{
	(void)state;
	struct lapic l;
	lapic_init(&l, 0, true);
	assert_int_equal(lapic_read(&l, LAPIC_VER, 0), 0x00050014);
	assert_true(lapic_accepts_pic(&l));              /* LINT0 ExtINT on the BSP */
	lapic_accept(&l, 0x40);
	assert_int_equal(lapic_pending(&l), -1);         /* software-disabled */
	lapic_write(&l, LAPIC_SVR, 0x1ff, 0);
	assert_int_equal(lapic_pending(&l), 0x40);
	lapic_write(&l, LAPIC_TPR, 0x50, 0);
	assert_int_equal(lapic_pending(&l), -1);         /* masked by TPR */
	lapic_write(&l, LAPIC_TPR, 0x00, 0);
	lapic_ack(&l, 0x40);
	assert_int_equal(lapic_read(&l, LAPIC_ISR + 0x20, 0), 1u);
	assert_int_equal(lapic_read(&l, LAPIC_PPR, 0), 0x40);
	lapic_accept(&l, 0x30);
	assert_int_equal(lapic_pending(&l), -1);         /* lower class than the one in service */
	lapic_write(&l, LAPIC_EOI, 0, 0);
	assert_int_equal(lapic_pending(&l), 0x30);
	/* timer: one-shot, divide by 1, 1000 ticks = 1 us at 1 GHz */
	lapic_write(&l, LAPIC_TIMER_DCR, 0xb, 0);
	lapic_write(&l, LAPIC_LVT_TIMER, 0x50, 0);
	lapic_write(&l, LAPIC_TIMER_ICR, 1000, 100);
	assert_int_equal(lapic_read(&l, LAPIC_TIMER_CCR, 600), 500);
	assert_int_equal(lapic_tick(&l, 500), 1100);
	assert_int_equal(lapic_tick(&l, 1100), 0);
	lapic_ack(&l, 0x30);
	lapic_write(&l, LAPIC_EOI, 0, 0);
	assert_int_equal(lapic_pending(&l), 0x50);
	/* ICR: INIT and SIPI to APIC 1, fixed IPI to self */
	lapic_write(&l, LAPIC_ICR_HI, 1u << 24, 0);
	struct lapic_ipi ipi = lapic_write(&l, LAPIC_ICR_LO, 0x4500, 0);
	assert_int_equal(ipi.kind, IPI_INIT);
	assert_int_equal(ipi.dest, 1);
	ipi = lapic_write(&l, LAPIC_ICR_LO, 0x4608, 0);
	assert_int_equal(ipi.kind, IPI_SIPI);
	assert_int_equal(ipi.vector, 8);
	ipi = lapic_write(&l, LAPIC_ICR_LO, 0x40061, 0);
	assert_int_equal(ipi.kind, IPI_FIXED);
	assert_int_equal(ipi.shorthand, 1);
	struct lapic ap;
	lapic_init(&ap, 1, false);
	assert_true(lapic_matches(&ap, false, 1));
	assert_false(lapic_matches(&ap, false, 0));
	assert_false(lapic_accepts_pic(&ap));
}

static uint32_t ioapic_reg(struct ioapic *a, uint32_t reg)
{
	struct ioapic_msg m[IOAPIC_PINS];
	assert_int_equal(ioapic_write(a, IOAPIC_REGSEL, reg, m), 0);
	return ioapic_read(a, IOAPIC_WIN);
}

static unsigned ioapic_set_reg(struct ioapic *a, uint32_t reg, uint32_t v, struct ioapic_msg *m)
{
	assert_int_equal(ioapic_write(a, IOAPIC_REGSEL, reg, m), 0);
	return ioapic_write(a, IOAPIC_WIN, v, m);
}

/* Identification, masked reset state, edge pins (a message per rising edge, none while masked), level pins (Remote
 * IRR holds the line until the EOI, by vector, through the broadcast or the EOI register), read-only bits. */
static void ioapic_pins(void **state)
{
	(void)state;
	struct ioapic a;
	struct ioapic_msg m[IOAPIC_PINS];
	ioapic_init(&a);
	assert_int_equal(ioapic_reg(&a, 1), 0x00170020); /* version 0x20, 24 entries */
	assert_int_equal(ioapic_set_reg(&a, 0, 0x0f000000u, m), 0);
	assert_int_equal(ioapic_reg(&a, 0), 0x0f000000u);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(ioapic_reg(&a, 0x10 + 2 * pin) & (1u << 16), 1u << 16); /* masked after reset */
	/* Edge pin 2 (the PIT through the IRQ 0 override), vector 0x30, physical destination 1. */
	assert_int_equal(ioapic_isa_gsi(0), 2);
	assert_int_equal(ioapic_isa_gsi(4), 4);
	assert_int_equal(ioapic_set_irq(&a, 2, 1, m), 0); /* masked: the edge is lost */
	assert_int_equal(ioapic_set_irq(&a, 2, 0, m), 0);
	assert_int_equal(ioapic_set_reg(&a, 0x15, 0x01000000u, m), 0);
	assert_int_equal(ioapic_set_reg(&a, 0x14, 0x30 | (1u << 14) | (1u << 12), m), 0); /* RO bits ignored */
	assert_int_equal(ioapic_reg(&a, 0x14), 0x30);
	assert_int_equal(ioapic_reg(&a, 0x15), 0x01000000u);
	assert_int_equal(ioapic_set_irq(&a, 2, 1, m), 1);
	assert_int_equal(m[0].vector, 0x30);
	assert_int_equal(m[0].mode, 0);
	assert_false(m[0].logical);
	assert_int_equal(m[0].dest, 1);
	assert_int_equal(ioapic_set_irq(&a, 2, 1, m), 0); /* no new edge */
	assert_int_equal(ioapic_set_irq(&a, 2, 0, m), 0);
	assert_int_equal(ioapic_set_irq(&a, 2, 1, m), 1);
	/* Level pin 9, vector 0x41, logical destination 3, lowest priority. */
	assert_int_equal(ioapic_set_reg(&a, 0x23, 0x03000000u, m), 0);
	assert_int_equal(ioapic_set_irq(&a, 9, 1, m), 0); /* still masked */
	assert_int_equal(ioapic_set_reg(&a, 0x22, 0x41 | (1u << 8) | (1u << 11) | (1u << 15), m), 1); /* unmask */
	assert_int_equal(m[0].vector, 0x41);
	assert_int_equal(m[0].mode, 1);
	assert_true(m[0].logical);
	assert_int_equal(m[0].dest, 3);
	assert_int_equal(ioapic_reg(&a, 0x22) & (1u << 14), 1u << 14); /* Remote IRR */
	assert_int_equal(ioapic_set_irq(&a, 9, 1, m), 0);        /* held until the EOI */
	assert_int_equal(ioapic_eoi(&a, 0x42, m), 0);            /* another vector */
	assert_int_equal(ioapic_eoi(&a, 0x41, m), 1);            /* still asserted: sends again */
	assert_int_equal(m[0].vector, 0x41);
	assert_int_equal(ioapic_set_irq(&a, 9, 0, m), 0);
	assert_int_equal(ioapic_write(&a, IOAPIC_EOIR, 0x41, m), 0); /* the EOI register; line now low */
	assert_int_equal(ioapic_reg(&a, 0x22) & (1u << 14), 0);
	assert_int_equal(ioapic_set_irq(&a, 9, 1, m), 1);
	assert_int_equal(ioapic_set_irq(&a, IOAPIC_PINS, 1, m), 0); /* no such pin */
	assert_int_equal(ioapic_reg(&a, 0x10 + 2 * IOAPIC_PINS), 0);   /* past the table */
}

/* The ACPI PM timer counts at 3.579545 MHz and wraps at 2^24; the PM1a event block keeps the enable bits ACPI sets
 * (and only those) and its status reads 0. */
static void acpi_pm_timer_and_pm1(void **state)
{
	(void)state;
	assert_int_equal(pm_timer_read(0), 0);
	assert_int_equal(pm_timer_read(1000000000ull), 3579545);
	assert_int_equal(pm_timer_read(1000ull), 3);
	uint64_t wrap_ns = (uint64_t)(((1ull << 24) * 1000000000ull + PM_TMR_HZ - 1) / PM_TMR_HZ); /* 2^24 ticks */
	assert_int_equal(pm_timer_read(wrap_ns), 0);
	assert_int_equal(pm_timer_read(wrap_ns - 200), 0xffffff); /* one tick is 279 ns */
	struct pm1_evt p = {0};
	assert_int_equal(pm1_evt_read(&p, 0, 4), 0);
	pm1_evt_write(&p, 2, 2, 0xffff);
	assert_int_equal(pm1_evt_read(&p, 2, 2), PM1_ENABLE_BITS);
	assert_int_equal(pm1_evt_read(&p, 0, 2), 0);      /* status */
	assert_int_equal(pm1_evt_read(&p, 0, 4), PM1_ENABLE_BITS << 16);
	pm1_evt_write(&p, 0, 2, 0xffff);                  /* W1C status: enable untouched */
	assert_int_equal(pm1_evt_read(&p, 2, 2), PM1_ENABLE_BITS);
	pm1_evt_write(&p, 3, 1, 0);                       /* the high enable byte alone */
	assert_int_equal(pm1_evt_read(&p, 2, 2), 0x21);
	assert_int_equal(pm1_evt_read(&p, 3, 1), 0);
	pm1_evt_write(&p, 0, 4, 0x00200000u);             /* GBL_EN through a dword write */
	assert_int_equal(pm1_evt_read(&p, 2, 2), 0x20);
}

static void power_ports(void **state)
{
	(void)state;
	assert_int_equal(power_write(PM_PORT_PIIX4, 2, 0x2000), POWER_OFF);
	assert_int_equal(power_write(PM_PORT_PIIX4, 2, 0x0000), POWER_NONE);
	assert_int_equal(power_write(PM_PORT_BOCHS, 2, 0x2000), POWER_OFF);
	assert_int_equal(power_write(RESET_PORT_CF9, 1, 0x06), POWER_RESET);
	assert_int_equal(power_write(RESET_PORT_CF9, 1, 0x02), POWER_NONE);
	assert_int_equal(power_write(RESET_PORT_KBD, 1, 0xfe), POWER_RESET);
	assert_int_equal(power_write(RESET_PORT_92, 1, 0x01), POWER_RESET);
	assert_int_equal(debug_exit_status(0x10), 33);
	assert_int_equal(debug_exit_status(0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uart_reset_state),
		cmocka_unit_test(uart_thre_interrupt),
		cmocka_unit_test(uart_receive_and_errors),
		cmocka_unit_test(uart_dlab_and_loopback),
		cmocka_unit_test(pit_counts_down),
		cmocka_unit_test(pit_channel2_gate_and_out),
		cmocka_unit_test(pic_deliver_and_eoi),
		cmocka_unit_test(pic_auto_eoi_and_elcr),
		cmocka_unit_test(cmos_time_and_memory),
		cmocka_unit_test(fw_cfg_items),
		cmocka_unit_test(lapic_registers_and_interrupts),
		cmocka_unit_test(ioapic_pins),
		cmocka_unit_test(acpi_pm_timer_and_pm1),
		cmocka_unit_test(power_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
