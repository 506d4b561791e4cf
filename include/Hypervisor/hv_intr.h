/* hv_intr.h: state structures of the in-kernel local APIC, 8259 pair and IOAPIC used by the 12.0 APIC API (Apple's member order). */
#ifndef __HYPERVISOR_HV_INTR__
#define __HYPERVISOR_HV_INTR__
#if defined(__GNUC__)
#pragma GCC system_header
#endif

#include <Hypervisor/hv_base.h>

#define HV_APIC_STATE_EXT_VER 100
#define HV_ATPIC_STATE_EXT_VER 100
#define HV_IOAPIC_STATE_EXT_VER 100

enum hv_boot_state {
	HV_BS_INIT = 0,
	HV_BS_SIPI = 1,
	HV_BS_RUNNING = 2
};

struct hv_apic_state {
	uint64_t apic_gpa;
	uint64_t apic_controls;
	uint64_t tsc_deadline;
	uint32_t apic_id;
	uint32_t ver;
	uint32_t tpr;
	uint32_t apr;
	uint32_t ldr;
	uint32_t dfr;
	uint32_t svr;
	uint32_t isr[8];
	uint32_t tmr[8];
	uint32_t irr[8];
	uint32_t esr;
	uint32_t lvt[7];
	uint32_t icr[2];
	uint32_t icr_timer;
	uint32_t dcr_timer;
	uint32_t ccr_timer;
	uint32_t esr_pending;
	enum hv_boot_state boot_state;
	uint32_t aeoi[8];
};

typedef struct {
	uint32_t version;
	struct hv_apic_state state;
} hv_apic_state_ext_t;

struct hv_atpic_state {
	bool ready;
	uint8_t icw_num;
	uint8_t rd_cmd_reg;
	bool aeoi;
	bool poll;
	bool rotate;
	bool sfn;
	uint8_t irq_base;
	uint8_t request;
	uint8_t service;
	uint8_t mask;
	bool smm;
	uint8_t last_request;
	uint8_t lowprio;
	bool intr_raised;
	uint8_t elc;
};

typedef struct {
	uint32_t version;
	struct hv_atpic_state state;
} hv_atpic_state_ext_t;

struct hv_ioapic_state {
	uint64_t rtbl[32];
	uint32_t irr;
	uint32_t ioa_id;
	uint32_t ioregsel;
};

typedef struct {
	uint32_t version;
	struct hv_ioapic_state state;
} hv_ioapic_state_ext_t;

#endif /* __HYPERVISOR_HV_INTR__ */
