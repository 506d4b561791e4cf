/* acpi.c: minimal ACPI tables in the BIOS area (RSDP, RSDT; MADT: local APICs, I/O APIC, IRQ 0 -> GSI 2; FADT, FACS and a DSDT with _S5 for power-off). */
#include <string.h>

#include "acpi.h"
#include "devices/devices.h"
#include "loaders/loader.h"

#define RSDT_AT (VMM_ACPI_RSDP + 0x40)
#define MADT_AT (VMM_ACPI_RSDP + 0x100)
#define FADT_AT (VMM_ACPI_RSDP + 0x400)
#define FACS_AT (VMM_ACPI_RSDP + 0x500) /* 64-byte aligned */
#define DSDT_AT (VMM_ACPI_RSDP + 0x600)

/* The DSDT's AML: Name (_S5, Package (4) {0, 0, 0, 0}): S5 (soft-off) with SLP_TYP 0, which the PM1a_CNT model
 * accepts (it acts on SLP_EN alone). */
static const uint8_t dsdt_aml[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00};

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return (uint8_t)-s;
}

/* The 36-byte header every ACPI table after the RSDP starts with. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put_le(t + 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, "HVX   ", 6);
	memcpy(t + 16, "HVXVMM  ", 8);
	put_le(t + 24, 1, 4);
	memcpy(t + 28, "HVX ", 4);
	put_le(t + 32, 1, 4);
}

bool vmm_acpi_fits(uint64_t image_lo, uint64_t image_hi)
{
	return image_hi <= VMM_ACPI_RSDP || image_lo >= VMM_ACPI_END;
}

int vmm_acpi_write(const struct vmm_mem *mem, unsigned cpus)
{
	if (cpus < 1 || cpus > 64)
		return -1;
	uint8_t madt[44 + 8 * 64 + 6 + 12 + 10] = {0};
	uint32_t mlen = 44 + 8 * cpus + 6 + 12 + 10;
	header(madt, "APIC", mlen, 3);
	put_le(madt + 36, LAPIC_ADDR, 4);
	put_le(madt + 40, 1, 4);                  /* PCAT_COMPAT: the 8259 pair is present */
	uint8_t *e = madt + 44;
	for (unsigned i = 0; i < cpus; i++, e += 8) {
		e[0] = 0;                         /* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i;                /* ACPI processor UID */
		e[3] = (uint8_t)i;                /* APIC ID */
		put_le(e + 4, 1, 4);              /* enabled */
	}
	e[0] = 4;                                 /* local APIC NMI: all processors, LINT1 */
	e[1] = 6;
	e[2] = 0xff;
	put_le(e + 3, 0, 2);
	e[5] = 1;
	e += 6;
	e[0] = 1;                                 /* I/O APIC: ID 0, GSI base 0 */
	e[1] = 12;
	put_le(e + 4, IOAPIC_ADDR, 4);
	e += 12;
	e[0] = 2;                                 /* interrupt source override: ISA IRQ 0 -> GSI 2, bus defaults */
	e[1] = 10;
	put_le(e + 4, 2, 4);
	madt[9] = checksum(madt, mlen);

	/* FADT revision 1 (ACPI 1.0 layout): fixed PM blocks at the PIIX4-like ports, no SMI_CMD (always in ACPI mode). */
	uint8_t fadt[116] = {0};
	header(fadt, "FACP", sizeof fadt, 1);
	put_le(fadt + 36, FACS_AT, 4);
	put_le(fadt + 40, DSDT_AT, 4);
	put_le(fadt + 46, ACPI_SCI_IRQ, 2);
	put_le(fadt + 56, PM_PORT_EVT, 4);        /* PM1a_EVT_BLK */
	put_le(fadt + 64, PM_PORT_PIIX4, 4);      /* PM1a_CNT_BLK */
	put_le(fadt + 76, PM_PORT_TMR, 4);        /* PM_TMR_BLK */
	fadt[88] = 4;                             /* PM1_EVT_LEN */
	fadt[89] = 2;                             /* PM1_CNT_LEN */
	fadt[91] = 4;                             /* PM_TMR_LEN */
	put_le(fadt + 96, 101, 2);                /* P_LVL2_LAT > 100: no C2 */
	put_le(fadt + 98, 1001, 2);               /* P_LVL3_LAT > 1000: no C3 */
	put_le(fadt + 112, (1u << 0) | (1u << 4) | (1u << 5), 4); /* WBINVD; no fixed power or sleep button */
	fadt[9] = checksum(fadt, sizeof fadt);

	uint8_t facs[64] = {0};
	memcpy(facs, "FACS", 4);
	put_le(facs + 4, sizeof facs, 4);
	facs[32] = 1;                             /* version */

	uint8_t dsdt[36 + sizeof dsdt_aml] = {0};
	header(dsdt, "DSDT", sizeof dsdt, 2);
	memcpy(dsdt + 36, dsdt_aml, sizeof dsdt_aml);
	dsdt[9] = checksum(dsdt, sizeof dsdt);

	uint8_t rsdt[44] = {0};
	header(rsdt, "RSDT", sizeof rsdt, 1);
	put_le(rsdt + 36, MADT_AT, 4);
	put_le(rsdt + 40, FADT_AT, 4);
	rsdt[9] = checksum(rsdt, sizeof rsdt);

	uint8_t rsdp[20] = {0};
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "HVX   ", 6);
	rsdp[15] = 0;                             /* ACPI 1.0 RSDP */
	put_le(rsdp + 16, RSDT_AT, 4);
	rsdp[8] = checksum(rsdp, sizeof rsdp);

	if (vmm_mem_write(mem, VMM_ACPI_RSDP, rsdp, sizeof rsdp) || vmm_mem_write(mem, RSDT_AT, rsdt, sizeof rsdt) ||
	    vmm_mem_write(mem, MADT_AT, madt, mlen) || vmm_mem_write(mem, FADT_AT, fadt, sizeof fadt) ||
	    vmm_mem_write(mem, FACS_AT, facs, sizeof facs) || vmm_mem_write(mem, DSDT_AT, dsdt, sizeof dsdt))
		return -1;
	return 0;
}
