/* power.c: ACPI-style power-off (PIIX4 PM1a_CNT 0x604, Bochs 0xb004) and reset (0xcf9, keyboard controller 0xfe, port 0x92). */
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
