/* backend.h: the interface between core and a backend (emu, kvm): one ops table, one exit record per exit. */
#ifndef HVX_CORE_BACKEND_H
#define HVX_CORE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <Hypervisor/hv.h>

#include "caps.h"
#include "exit.h"

struct hvx_vm;
struct hvx_vcpu;

/* The bitmaps a VMM fills through hvx_vcpu_set_io_bitmap / hvx_vcpu_set_msr_intercept. */
enum hvx_intercept_bitmap {
	HVX_INTERCEPT_IO,        /* I/O bitmaps A and B: one bit per port */
	HVX_INTERCEPT_MSR_READ,  /* MSR bitmap, read half */
	HVX_INTERCEPT_MSR_WRITE, /* MSR bitmap, write half */
	HVX_INTERCEPT_IO_SMI,    /* ports whose completed I/O instruction is followed by an I/O SMI (hvx_vcpu_set_smi_ports) */
};

struct hvx_backend_stats {
	uint64_t instructions_retired;
	uint64_t unimplemented; /* instructions that decoded but are not implemented (each raised #UD in the guest) */
};
struct hvx_cpuid_entry;

/* Events a VMM raises on a vCPU (hvx_vcpu_raise_nmi / hvx_vcpu_raise_interrupt). */
enum hvx_event {
	HVX_EVENT_NMI,    /* non-maskable interrupt (vector 2) */
	HVX_EVENT_EXTINT, /* maskable external interrupt, vector 16..255 */
	HVX_EVENT_INIT,   /* INIT signal */
	HVX_EVENT_SIPI,   /* start-up IPI, vector 0..255 (exits only in wait-for-SIPI) */
	HVX_EVENT_SMI,    /* system-management interrupt (the API checked that the dual-monitor model is on) */
};
struct hvx_msr_entry;

struct hvx_backend_ops {
	const char *name;        /* "emu", "kvm" */
	const char *description;

	/* Can this backend run here? On false, *why says why (static text). */
	bool (*available)(const char **why);
	/* May auto selection pick it when it is available (NULL: yes)? kvm: only on hardware virtualisation. */
	bool (*auto_ok)(void);
	/* The capability words and producible reasons of this backend. */
	const struct hvx_caps *(*caps)(void);

	hv_return_t (*vm_create)(struct hvx_vm *vm);
	void (*vm_destroy)(struct hvx_vm *vm);
	/* The memory map of a space changed (map, unmap, protect). On return no vCPU uses a stale translation of the range. */
	hv_return_t (*memmap_changed)(struct hvx_vm *vm, hv_vm_space_t space, uint64_t gpa, uint64_t size);

	hv_return_t (*vcpu_create)(struct hvx_vcpu *vcpu);
	void (*vcpu_destroy)(struct hvx_vcpu *vcpu);
	/*
	 * Enter the guest and run until the next VM exit; fill *exit. deadline is absolute CLOCK_MONOTONIC ns or
	 * HV_DEADLINE_FOREVER. The controls were checked against caps() before the call. Returns HV_SUCCESS for every
	 * exit (entry failures included, as exits with bit 31 set); an error only when nothing could be run.
	 */
	hv_return_t (*vcpu_run)(struct hvx_vcpu *vcpu, uint64_t deadline, struct hvx_exit *exit);
	/*
	 * The backend fills the published record itself: vcpu_run gets &vcpu->state.exit, not cleared, and writes it (a
	 * whole record, every field) exactly when it returns HV_SUCCESS, never on an error return, nor reads it before
	 * (a client may read the previous exit until the next one). Saves the API's clear and copy of the record on every
	 * round trip. False: vcpu_run gets a cleared record of the API's own, which the API publishes on success.
	 */
	bool exit_in_place;
	/* Any thread: make a running vcpu_run return soon (it reports VMX_REASON_IRQ); vcpu->kick_pending is already set. */
	void (*vcpu_kick)(struct hvx_vcpu *vcpu);
	/* Bring state groups cached in the backend back into vcpu->state (NULL if the backend works on vcpu->state directly). */
	void (*vcpu_fetch)(struct hvx_vcpu *vcpu, uint32_t groups);
	/* Drop cached guest-linear translations (hv_vcpu_invalidate_tlb). */
	void (*vcpu_invalidate_tlb)(struct hvx_vcpu *vcpu);
	/* Optional (NULL: HV_UNSUPPORTED): the CPUID table the guest sees, for backends that answer CPUID themselves (kvm). */
	hv_return_t (*vcpu_set_cpuid)(struct hvx_vcpu *vcpu, const struct hvx_cpuid_entry *entries, unsigned count);
	/*
	 * Optional (NULL: HV_UNSUPPORTED): set the bits [first, first + count) of one of the vCPU's intercept bitmaps (the
	 * VMCS address fields of the I/O and MSR bitmaps are framework-owned, so their contents come through the API).
	 * MSR numbers are given as bitmap indexes: 0x0000-0x1fff low MSRs, 0x2000-0x3fff = 0xc0000000-0xc0001fff.
	 * The range was checked by the API.
	 */
	hv_return_t (*vcpu_set_intercepts)(struct hvx_vcpu *vcpu, enum hvx_intercept_bitmap which, uint32_t first,
					   uint32_t count, bool exits);
	/* Optional: process-wide statistics of this backend (NULL: none). */
	void (*stats)(struct hvx_backend_stats *out);
	/*
	 * Optional (NULL: HV_UNSUPPORTED). Any thread: latch an event on the vCPU (the API checked the vector and holds
	 * the VM lock, so the vCPU stays alive). A running vCPU notices it at its next instruction boundary.
	 */
	hv_return_t (*vcpu_raise_event)(struct hvx_vcpu *vcpu, enum hvx_event kind, uint8_t vector);
	/*
	 * Optional (NULL: HV_UNSUPPORTED), owner thread. The API is about to write activity state `state` (0 to 3,
	 * supported per the backend's IA32_VMX_MISC) into the VMCS field (which still holds the old state); entering
	 * wait-for-SIPI from another state discards an earlier SIPI.
	 */
	hv_return_t (*vcpu_set_activity)(struct hvx_vcpu *vcpu, unsigned state);
	/* Optional (NULL: HV_UNSUPPORTED), owner thread: the VM-entry MSR-load list (count checked, list copied). */
	hv_return_t (*vcpu_set_entry_msr_load)(struct hvx_vcpu *vcpu, const struct hvx_msr_entry *list, unsigned count);
	/* Optional (NULL: HV_UNSUPPORTED), owner thread: the next VM entry fails with a machine check (exit 41). */
	hv_return_t (*vcpu_inject_entry_mc)(struct hvx_vcpu *vcpu);
	/*
	 * Optional (NULL: HV_UNSUPPORTED). Any thread: the sub-page write permissions of one 4-KiB guest-physical page
	 * (hvx_vm_set_spp; mode is an enum hvx_spp_mode, all arguments checked by the API, the lifecycle lock held).
	 */
	hv_return_t (*vm_set_spp)(struct hvx_vm *vm, hv_vm_space_t space, uint64_t gpa, unsigned mode, uint64_t vector);
};

/* Registered backends, in preference order for auto selection; NULL-terminated. */
extern const struct hvx_backend_ops *const hvx_backends[];

/* The backend for a name ("emu", "kvm", "auto" or NULL = $HVX_BACKEND or auto). NULL if unknown or unavailable; *why then says why. */
const struct hvx_backend_ops *hvx_backend_select(const char *name, const char **why);

#endif
