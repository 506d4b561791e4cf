/* power.c: ACPI-style power-off (PIIX4 PM1a_CNT 0x604, Bochs 0xb004), the ACPI PM timer, and reset (0xcf9, keyboard controller 0xfe, port 0x92). */
#include "devices.h"

#define SLP_EN (1u << 13)

enum power_action power_write(unsigned port, unsigned size, uint32_t value)
{
	switch (port) {
	case PM_PORT_PIIX4:
	case PM_PORT_BOCHS:
		return (size >= 2 && (value & SLP_EN)) ? POWER_OFF : POWER_NONE;
	case RESET_PORT_CF9:
		return (value & 0x04) ? POWER_RESET : POWER_NONE;
	case RESET_PORT_KBD:
		return (value & 0xff) == 0xfe ? POWER_RESET : POWER_NONE;
	case RESET_PORT_92:
		return (value & 0x01) ? POWER_RESET : POWER_NONE;
	default:
		return POWER_NONE;
	}
}

uint32_t pm_timer_read(uint64_t now_ns)
{
	return (uint32_t)(((unsigned __int128)now_ns * PM_TMR_HZ / 1000000000u) & 0xffffff);
}

uint32_t pm1_evt_read(const struct pm1_evt *p, unsigned off, unsigned size)
{
	uint32_t block = (uint32_t)p->enable << 16; /* status reads 0 */
	uint32_t v = off < 4 ? block >> (8 * off) : 0;
	return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

void pm1_evt_write(struct pm1_evt *p, unsigned off, unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size && off + i < 4; i++) {
		unsigned byte = off + i;
		if (byte < 2)
			continue; /* status: nothing to clear */
		unsigned shift = 8 * (byte - 2);
		uint16_t b = (uint16_t)(((value >> (8 * i)) & 0xff) << shift);
		p->enable = (uint16_t)((p->enable & ~(0xffu << shift)) | (b & PM1_ENABLE_BITS & (0xffu << shift)));
	}
}
