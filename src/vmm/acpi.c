/* acpi.c: minimal ACPI tables in the BIOS area (RSDP, RSDT, MADT: one local APIC per vCPU, the I/O APIC, IRQ 0 -> GSI 2). */
#include <string.h>

#include "acpi.h"
#include "loaders/loader.h"

#define RSDT_AT (VMM_ACPI_RSDP + 0x40)
#define MADT_AT (VMM_ACPI_RSDP + 0x100)

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

	uint8_t rsdt[40] = {0};
	header(rsdt, "RSDT", sizeof rsdt, 1);
	put_le(rsdt + 36, MADT_AT, 4);
	rsdt[9] = checksum(rsdt, sizeof rsdt);

	uint8_t rsdp[20] = {0};
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "HVX   ", 6);
	rsdp[15] = 0;                             /* ACPI 1.0 RSDP */
	put_le(rsdp + 16, RSDT_AT, 4);
	rsdp[8] = checksum(rsdp, sizeof rsdp);

	if (vmm_mem_write(mem, VMM_ACPI_RSDP, rsdp, sizeof rsdp) || vmm_mem_write(mem, RSDT_AT, rsdt, sizeof rsdt) ||
	    vmm_mem_write(mem, MADT_AT, madt, mlen))
		return -1;
	return 0;
}
