/* vcpu.h: the VMM's per-vCPU state (thread, start-up state for INIT/SIPI, MSR file, statistics). */
#ifndef HVX_VMM_VCPU_H
#define HVX_VMM_VCPU_H

#include "cpuid.h"
#include "devices/devices.h"
#include "vmm.h"

struct vmm_devices {
	struct uart8250 uart;
	struct fw_cfg fw;
	struct pit8254 pit;
	struct pic8259 pic;
	struct cmos cmos;
	struct lapic lapic[VMM_MAX_CPUS];
	struct ioapic ioapic;
	struct pm1_evt pm1;
	pthread_cond_t clock_cond;    /* wakes the clock thread when a timer is programmed */
};

struct vmm_vcpu {
	struct vmm *vm;
	unsigned index;
	hv_vcpuid_t id;
	bool created;
	pthread_t thread;
	bool thread_started;
	/* Application processors: INIT then SIPI start them (protected by vm->lock). */
	bool running;
	atomic_bool init_pending;      /* also read without the lock by the vCPU's own loop */
	bool sipi_pending;
	uint8_t sipi_vector;
	atomic_bool irq_hint;         /* something may be deliverable: check at the next entry */
	uint64_t proc_ctls;           /* current primary controls (interrupt-window exiting toggles) */
	bool event_injected;          /* an event is already queued for this entry */
	struct vmm_msr_file msrs;
	struct vmm_stats stats;
	uint64_t last_ept_gpa;
	unsigned ept_repeats;
	uint32_t bad_field;            /* first VMCS field the backend refused during set-up */
};

/* Tell vCPU `cpu` that an interrupt may be deliverable (kick it out of the guest, wake it from HLT). Lock held. */
void vmm_irq_notify_locked(struct vmm *vm, unsigned cpu);
/* Deliver I/O APIC messages to the local APICs they name (vm->lock held). */
void vmm_ioapic_deliver_locked(struct vmm *vm, const struct ioapic_msg *m, unsigned n);
void *vmm_vcpu_thread(void *arg);

#endif
