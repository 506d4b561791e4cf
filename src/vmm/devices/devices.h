/* devices.h: the VMM's device models (8250 UART, debugcon, isa-debug-exit, fw_cfg, 8254 PIT, 8259 PIC, CMOS RTC, power/reset, local APIC, I/O APIC). */
#ifndef HVX_VMM_DEVICES_H
#define HVX_VMM_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Every model is pure state + functions; time is passed in (ns), interrupts leave through a callback. */
typedef void (*dev_irq_fn)(void *ctx, unsigned line, int level);

/* ---------------------------------------------------------------- 8250/16550 UART */
#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ 4
#define UART_RX_SIZE 16

struct uart8250 {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	bool thr_irq;                 /* THR-empty interrupt pending */
	uint8_t rx[UART_RX_SIZE];
	unsigned rx_head, rx_count;
	FILE *out;
	dev_irq_fn irq;
	void *irq_ctx;
	unsigned irq_line;
	int irq_level;
};
void uart_init(struct uart8250 *u, FILE *out, dev_irq_fn irq, void *ctx, unsigned line);
uint8_t uart_read(struct uart8250 *u, unsigned reg);
void uart_write(struct uart8250 *u, unsigned reg, uint8_t value);
/* Host input for the guest: takes as many bytes as the receiver has room for (1 without FIFO, 16 with)
   and returns that count, so the host side applies back-pressure instead of overrunning the guest. */
size_t uart_receive(struct uart8250 *u, const uint8_t *data, size_t len);
uint8_t uart_iir(const struct uart8250 *u);

/* ---------------------------------------------------------------- debugcon (0xe9) and isa-debug-exit (0xf4) */
#define DEBUGCON_PORT 0xe9
#define DEBUG_EXIT_PORT 0xf4
static inline int debug_exit_status(uint32_t value)
{
	return (int)(((value << 1) | 1) & 0xff);
}

/* ---------------------------------------------------------------- fw_cfg (0x510 selector, 0x511 data) */
#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_ITEMS 12

struct fw_cfg_item {
	uint16_t key;
	uint8_t *data;
	uint32_t len;
};
struct fw_cfg {
	struct fw_cfg_item items[FW_CFG_ITEMS];
	unsigned nitems;
	uint16_t selector;
	uint32_t offset;
};
/* Items: signature, ID, UUID, RAM size, CPU counts, command line, an empty file directory. */
int fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, unsigned cpus, const char *cmdline);
void fw_cfg_free(struct fw_cfg *f);
void fw_cfg_select(struct fw_cfg *f, uint16_t key);
uint8_t fw_cfg_read_byte(struct fw_cfg *f);

/* ---------------------------------------------------------------- 8254 PIT (0x40-0x43, 0x61) */
#define PIT_HZ 1193182ull
#define PIT_IRQ 0

struct pit_channel {
	uint16_t count_reg;           /* programmed count (0 = 65536) */
	uint32_t count;               /* active count */
	uint8_t mode, access, bcd;
	bool write_hi_next, read_hi_next;
	bool latched;
	uint16_t latch;
	bool status_latched;
	uint8_t status;
	uint8_t write_lo;
	bool armed;                   /* counting since load_ns */
	bool null_count;
	uint64_t load_ns;
	uint64_t next_irq_ns;         /* channel 0 only: next OUT rising edge, 0 = none */
};
struct pit8254 {
	struct pit_channel ch[3];
	uint8_t port61;               /* bit 0 gate 2, bit 1 speaker data */
	bool refresh;
	dev_irq_fn irq;
	void *irq_ctx;
};
void pit_init(struct pit8254 *p, dev_irq_fn irq, void *ctx);
uint8_t pit_read(struct pit8254 *p, unsigned port, uint64_t now_ns);     /* port 0x40..0x43, 0x61 */
void pit_write(struct pit8254 *p, unsigned port, uint8_t value, uint64_t now_ns);
uint16_t pit_counter(const struct pit8254 *p, unsigned ch, uint64_t now_ns);
bool pit_out(const struct pit8254 *p, unsigned ch, uint64_t now_ns);
/* Raise IRQ0 for every channel-0 period that ended by now; returns the next deadline (0 = none). */
uint64_t pit_tick(struct pit8254 *p, uint64_t now_ns);

/* ---------------------------------------------------------------- 8259 PIC pair (0x20/0x21, 0xa0/0xa1, ELCR 0x4d0/1) */
struct pic_chip {
	uint8_t irr, isr, imr, base, elcr;
	uint8_t init_step;            /* 0 = operational, 2..4 = expecting ICW2..ICW4 */
	bool icw4, single, auto_eoi, read_isr, special_mask;
	uint8_t level;                /* current input levels */
};
struct pic8259 {
	struct pic_chip c[2];         /* 0 master, 1 slave (on master IRQ 2) */
};
void pic_init(struct pic8259 *p);
uint8_t pic_read(struct pic8259 *p, unsigned port);
void pic_write(struct pic8259 *p, unsigned port, uint8_t value);
void pic_set_irq(struct pic8259 *p, unsigned irq, int level);
/* Vector the PIC would deliver now, or -1. */
int pic_pending(const struct pic8259 *p);
/* INTA: acknowledge and return the vector (spurious 7/15 when nothing is pending). */
int pic_ack(struct pic8259 *p);

/* ---------------------------------------------------------------- CMOS RTC (0x70/0x71) */
struct cmos {
	uint8_t index;
	bool nmi_disabled;
	uint8_t ram[128];
	int64_t offset_s;             /* guest clock = host UTC + offset_s */
};
void cmos_init(struct cmos *c, uint64_t ram_size, unsigned cpus);
uint8_t cmos_read(struct cmos *c, unsigned port, int64_t host_unix_s);
void cmos_write(struct cmos *c, unsigned port, uint8_t value);

/* ---------------------------------------------------------------- power-off and reset */
#define PM_PORT_PIIX4 0x604          /* PM1a_CNT of QEMU's i440fx/PIIX4 ACPI */
#define PM_PORT_BOCHS 0xb004         /* older Bochs/QEMU ACPI */
#define PM_PORT_EVT 0x600            /* PM1a_EVT_BLK: status and enable, no events are ever raised */
#define PM_PORT_TMR 0x608            /* PM_TMR_BLK: 24-bit ACPI PM timer */
#define PM_TMR_HZ 3579545ull
/* The PM timer's count at now_ns (it wraps at 2^24). */
uint32_t pm_timer_read(uint64_t now_ns);
/* PM1a event block: status (offsets 0-1: write 1 to clear; no event ever sets a bit) and enable (2-3: TMR_EN,
 * GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN are writable, so ACPI can enable the fixed events it checks). */
#define PM1_ENABLE_BITS 0x0721u
struct pm1_evt {
	uint16_t enable;
};
uint32_t pm1_evt_read(const struct pm1_evt *p, unsigned off, unsigned size);
void pm1_evt_write(struct pm1_evt *p, unsigned off, unsigned size, uint32_t value);
#define RESET_PORT_CF9 0xcf9
#define RESET_PORT_KBD 0x64
#define RESET_PORT_92 0x92
enum power_action { POWER_NONE, POWER_OFF, POWER_RESET };
enum power_action power_write(unsigned port, unsigned size, uint32_t value);

/* ---------------------------------------------------------------- local APIC (xAPIC MMIO) */
#define LAPIC_BASE 0xfee00000ull
#define LAPIC_BUS_HZ 1000000000ull   /* timer input clock before the divider: 1 GHz */

enum lapic_reg {
	LAPIC_ID = 0x20, LAPIC_VER = 0x30, LAPIC_TPR = 0x80, LAPIC_APR = 0x90, LAPIC_PPR = 0xa0, LAPIC_EOI = 0xb0,
	LAPIC_RRD = 0xc0, LAPIC_LDR = 0xd0, LAPIC_DFR = 0xe0, LAPIC_SVR = 0xf0, LAPIC_ISR = 0x100, LAPIC_TMR = 0x180,
	LAPIC_IRR = 0x200, LAPIC_ESR = 0x280, LAPIC_LVT_CMCI = 0x2f0, LAPIC_ICR_LO = 0x300, LAPIC_ICR_HI = 0x310,
	LAPIC_LVT_TIMER = 0x320, LAPIC_LVT_THERMAL = 0x330, LAPIC_LVT_PERF = 0x340, LAPIC_LVT_LINT0 = 0x350,
	LAPIC_LVT_LINT1 = 0x360, LAPIC_LVT_ERROR = 0x370, LAPIC_TIMER_ICR = 0x380, LAPIC_TIMER_CCR = 0x390,
	LAPIC_TIMER_DCR = 0x3e0,
};
#define LAPIC_LVT_MASKED (1u << 16)

/* An interprocessor interrupt the ICR write asks for; the VMM routes it. */
enum lapic_ipi_kind { IPI_NONE, IPI_FIXED, IPI_NMI, IPI_INIT, IPI_SIPI };
struct lapic_ipi {
	enum lapic_ipi_kind kind;
	uint8_t vector;
	unsigned shorthand;           /* 0 none, 1 self, 2 all including self, 3 all excluding self */
	bool logical;
	uint8_t dest;
};

struct lapic {
	uint32_t id, tpr, ldr, dfr, svr, esr, icr_lo, icr_hi, lvt_timer, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1,
		lvt_error, lvt_cmci, timer_icr, timer_dcr;
	uint32_t irr[8], isr[8], tmr[8];
	uint64_t apic_base_msr;
	uint64_t timer_start_ns, timer_deadline_ns;  /* deadline 0 = timer not running */
	bool nmi_pending;
};
void lapic_init(struct lapic *l, unsigned id, bool bsp);
uint32_t lapic_read(struct lapic *l, unsigned offset, uint64_t now_ns);
/* Returns an IPI to route (kind IPI_NONE if none). */
struct lapic_ipi lapic_write(struct lapic *l, unsigned offset, uint32_t value, uint64_t now_ns);
void lapic_accept(struct lapic *l, uint8_t vector);
/* Highest deliverable vector (above PPR, APIC enabled) or -1. */
int lapic_pending(const struct lapic *l);
void lapic_ack(struct lapic *l, uint8_t vector);   /* IRR -> ISR */
/* Fire the timer if its deadline passed; returns the next deadline (0 = none). */
uint64_t lapic_tick(struct lapic *l, uint64_t now_ns);
/* Does the PIC's INTR reach this CPU (LINT0 in ExtINT mode, or APIC globally disabled)? */
bool lapic_accepts_pic(const struct lapic *l);
bool lapic_matches(const struct lapic *l, bool logical, uint8_t dest);

/* ---------------------------------------------------------------- I/O APIC (82093AA-style, version 0x20, MMIO) */
#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_PINS 24
#define IOAPIC_REGSEL 0x00            /* MMIO offsets */
#define IOAPIC_WIN 0x10
#define IOAPIC_EOIR 0x40
#define IOAPIC_RTE_MASKED (1ull << 16)
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)

/* An interrupt message the I/O APIC sends; the VMM delivers it to the local APICs it names. */
struct ioapic_msg {
	uint8_t vector;
	uint8_t mode;                 /* delivery mode: 0 fixed, 1 lowest priority, 4 NMI, 7 ExtINT, ... */
	bool logical;
	uint8_t dest;
};
struct ioapic {
	uint32_t id, sel;
	uint64_t rte[IOAPIC_PINS];
	uint32_t asserted;            /* line levels (logical: 1 = asserted; polarity is recorded, not applied) */
};
void ioapic_init(struct ioapic *a);
/* MMIO at offset off (IOREGSEL, IOWIN, EOI); writes return how many messages (pins now due) went to out[]. */
uint32_t ioapic_read(struct ioapic *a, unsigned off);
unsigned ioapic_write(struct ioapic *a, unsigned off, uint32_t value, struct ioapic_msg out[IOAPIC_PINS]);
/* A pin's line changes: edge pins send on 0 -> 1, level pins while asserted with Remote IRR clear (0 or 1 message). */
unsigned ioapic_set_irq(struct ioapic *a, unsigned pin, int level, struct ioapic_msg *out);
/* End of interrupt for vector (local APIC EOI broadcast or the EOI register): clears Remote IRR of the level pins
 * with that vector; those still asserted send again. */
unsigned ioapic_eoi(struct ioapic *a, uint8_t vector, struct ioapic_msg out[IOAPIC_PINS]);
/* The ISA IRQ -> GSI map the MADT describes (IRQ 0 -> GSI 2 override, the others identity). */
static inline unsigned ioapic_isa_gsi(unsigned irq)
{
	return irq == 0 ? 2 : irq;
}

#endif
