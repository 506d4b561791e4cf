/* acpi.h: the minimal ACPI tables the VMM places in the BIOS area (RSDP at 0xf0000, RSDT, MADT, FADT, FACS, DSDT). */
#ifndef HVX_VMM_ACPI_H
#define HVX_VMM_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm.h"

#define VMM_ACPI_RSDP 0xf0000ull   /* 16-byte aligned, inside the reserved BIOS area the e820 map lists */
#define VMM_ACPI_END 0x100000ull
#define LAPIC_ADDR 0xfee00000u
#define IOAPIC_ADDR 0xfec00000u
#define ACPI_SCI_IRQ 9

/* Whether an image occupying [lo, hi) leaves the BIOS area free for the tables. */
bool vmm_acpi_fits(uint64_t image_lo, uint64_t image_hi);
/* RSDP, RSDT and a MADT with `cpus` enabled local APICs (IDs 0..cpus-1), the 8259 flag, LINT1 as NMI, the I/O
 * APIC (ID 0, GSI base 0, at IOAPIC_ADDR) and the ISA IRQ 0 -> GSI 2 override; a FADT (PM1a event block, PM1a
 * control at PM_PORT_PIIX4, the PM timer, SCI on IRQ 9, no SMI command port), a FACS and a DSDT defining \\_S5. */
int vmm_acpi_write(const struct vmm_mem *mem, unsigned cpus);

#endif
