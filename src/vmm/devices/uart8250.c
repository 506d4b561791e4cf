/* uart8250.c: 8250/16550 UART model (COM1): divisor latch, FIFO receive, LSR/IIR/MSR, loopback, interrupts. */
#include <string.h>

#include "devices.h"

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS 0x1e
#define MCR_LOOP 0x10
#define LCR_DLAB 0x80

void uart_init(struct uart8250 *u, FILE *out, dev_irq_fn irq, void *ctx, unsigned line)
{
	memset(u, 0, sizeof *u);
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = 0xb0; /* DCD, DSR, CTS: a cable is attached */
	u->dll = 12;   /* 9600 baud */
	u->out = out;
	u->irq = irq;
	u->irq_ctx = ctx;
	u->irq_line = line;
}

uint8_t uart_iir(const struct uart8250 *u)
{
	uint8_t fifo = (u->fcr & 1) ? 0xc0 : 0;
	if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERRORS))
		return fifo | 0x06;
	if ((u->ier & IER_RDI) && (u->lsr & LSR_DR))
		return fifo | 0x04;
	if ((u->ier & IER_THRI) && u->thr_irq)
		return fifo | 0x02;
	if ((u->ier & IER_MSI) && (u->msr & 0x0f))
		return fifo | 0x00;
	return fifo | 0x01;
}

static void update_irq(struct uart8250 *u)
{
	int level = !(uart_iir(u) & 1);
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->irq)
			u->irq(u->irq_ctx, u->irq_line, level);
	}
}

static void rx_push(struct uart8250 *u, uint8_t c)
{
	if (u->rx_count == UART_RX_SIZE || (!(u->fcr & 1) && u->rx_count == 1)) {
		u->lsr |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_RX_SIZE] = c;
	u->rx_count++;
	u->lsr |= LSR_DR;
}

size_t uart_receive(struct uart8250 *u, const uint8_t *data, size_t len)
{
	if (u->mcr & MCR_LOOP)
		return 0; /* in loopback the line is disconnected from the outside: the host waits */
	unsigned room = ((u->fcr & 1) ? UART_RX_SIZE : 1) - u->rx_count;
	size_t n = len < room ? len : room;
	for (size_t i = 0; i < n; i++)
		rx_push(u, data[i]);
	if (n)
		update_irq(u);
	return n;
}

/* Modem status in loopback: CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2. */
static uint8_t loop_msr(uint8_t mcr)
{
	return (uint8_t)(((mcr & 0x02) << 3) | ((mcr & 0x01) << 5) | ((mcr & 0x04) << 4) | ((mcr & 0x08) << 4));
}

uint8_t uart_read(struct uart8250 *u, unsigned reg)
{
	uint8_t v = 0;
	switch (reg & 7) {
	case 0:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_SIZE;
			if (!--u->rx_count)
				u->lsr &= (uint8_t)~LSR_DR;
		}
		break;
	case 1:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case 2:
		v = uart_iir(u);
		if ((v & 0x0f) == 0x02)
			u->thr_irq = false; /* reading IIR that reports THRE clears it */
		break;
	case 3: return u->lcr;
	case 4: return u->mcr;
	case 5:
		v = u->lsr;
		u->lsr &= (uint8_t)~LSR_ERRORS;
		break;
	case 6:
		v = u->msr;
		u->msr &= 0xf0;
		break;
	default: return u->scr;
	}
	update_irq(u);
	return v;
}

void uart_write(struct uart8250 *u, unsigned reg, uint8_t value)
{
	switch (reg & 7) {
	case 0:
		if (u->lcr & LCR_DLAB) {
			u->dll = value;
			return;
		}
		if (u->mcr & MCR_LOOP) {
			rx_push(u, value);
		} else if (u->out) {
			fputc(value, u->out);
			if (value == '\n')
				fflush(u->out);
		}
		u->thr_irq = true; /* transmission is instant: THR is empty again */
		break;
	case 1:
		if (u->lcr & LCR_DLAB) {
			u->dlm = value;
			return;
		}
		if ((value & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_irq = true; /* enabling THRI with an empty THR interrupts at once */
		u->ier = value & 0x0f;
		break;
	case 2:
		if ((value & 1) != (u->fcr & 1) || (value & 2)) {
			u->rx_count = 0;
			u->lsr &= (uint8_t)~LSR_DR;
		}
		u->fcr = value & 0xc9;
		break;
	case 3: u->lcr = value; return;
	case 4: {
		uint8_t old = (u->mcr & MCR_LOOP) ? loop_msr(u->mcr) : (u->msr & 0xf0);
		u->mcr = value & 0x1f;
		uint8_t now = (u->mcr & MCR_LOOP) ? loop_msr(u->mcr) : 0xb0;
		uint8_t delta = (uint8_t)((old ^ now) >> 4) & 0x0b; /* DCTS, DDSR, DDCD */
		if ((old & 0x40) && !(now & 0x40))
			delta |= 0x04; /* TERI: trailing edge of RI */
		u->msr = (uint8_t)(now | (u->msr & 0x0f) | delta);
		break;
	}
	case 5: return; /* LSR is read-only (factory test) */
	case 6: return;
	default: u->scr = value; return;
	}
	update_irq(u);
}
