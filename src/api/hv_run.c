/* hv_run.c: running a vCPU (control checks, pending kicks, deadlines, exit publication) and hv_vcpu_interrupt. */
#include "api.h"

/* VMfail(7): VM entry with invalid control fields. hv_vcpu_vmx_status then reports ZF (RFLAGS bit 6). */
#define VMX_INSTR_ERROR_BAD_CONTROLS 7
#define RFLAGS_ZF (1u << 6)

/* The TPR-threshold checks (SDM 26.2.1.1), which also depend on the VTPR the guest itself may change: run every entry.
 * TPR shadow without virtual-interrupt delivery: threshold bits 31:4 are 0 and, without APIC-access virtualization,
 * threshold[3:0] <= VTPR[7:4] (VTPR = HV_X86_TPR). */
static bool tpr_threshold_valid(const struct hvx_vcpu *vcpu, uint32_t proc, uint32_t proc2)
{
	if ((proc & CPU_BASED_TPR_SHADOW) && !(proc2 & CPU_BASED2_VIRT_INTR_DELIVERY)) {
		uint64_t thr = vcpu->state.vmcs[HVX_SLOT_CTRL_TPR_THRESHOLD];
		if ((thr & ~0xfull) || (!(proc2 & CPU_BASED2_VIRTUAL_APIC) && (thr & 0xf) > ((vcpu->state.tpr >> 4) & 0xf)))
			return false;
	}
	return true;
}

/* The VM-entry event-injection checks (SDM 26.2.1.3), made only when VMCS_CTRL_VMENTRY_IRQ_INFO is valid. They read
 * the injection fields and the guest CR0, which change without the control words: they run every entry. */
#define IRQ_INFO_VALID (1u << 31)
#define IRQ_INFO_DELIVER_ERROR (1u << 11)
#define IRQ_INFO_RESERVED 0x7ffff000u
#define VMX_BASIC_NO_ERROR_CODE_CHECK (1ull << 56) /* IA32_VMX_BASIC[56]: any hardware exception with or without error code */
#define VMX_MISC_ZERO_LENGTH_INJECTION (1ull << 30) /* IA32_VMX_MISC[30]: software events with instruction length 0 */
/* Hardware exceptions that deliver an error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC) and those that never do (every
 * other vector 0-31 but #CP, 21, for which SDM editions differ: left unchecked). */
#define EXC_WITH_ERROR_CODE ((1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 17))
#define EXC_WITHOUT_ERROR_CODE (~EXC_WITH_ERROR_CODE & ~(1u << 21))

enum { INJ_RESERVED = 1, INJ_HW_EXCEPTION = 2, INJ_NEEDS_LENGTH = 4, INJ_NEEDS_MTF = 8 };
/* Per interruption type (bits 10:8): the vectors it may carry and what else it needs. */
static const struct {
	uint8_t min_vector, max_vector, flags;
} injection_types[8] = {
	[0] = {0, 255, 0},                /* external interrupt */
	[1] = {0, 0, INJ_RESERVED},       /* reserved on every processor */
	[2] = {2, 2, 0},                  /* NMI: vector 2 */
	[3] = {0, 31, INJ_HW_EXCEPTION},  /* hardware exception */
	[4] = {0, 255, INJ_NEEDS_LENGTH}, /* software interrupt */
	[5] = {0, 255, INJ_NEEDS_LENGTH}, /* privileged software exception */
	[6] = {0, 255, INJ_NEEDS_LENGTH}, /* software exception */
	[7] = {0, 0, INJ_NEEDS_MTF},      /* other event (pending MTF): vector 0, only with MTF support */
};

static __attribute__((noinline)) bool injection_valid(struct hvx_vcpu *vcpu)
{
	hvx_vcpu_fresh(vcpu, HVX_GROUP_CR); /* the guest CR0 of the error-code rule */
	const struct hvx_caps *c = vcpu->vm->backend->caps();
	const uint64_t *v = vcpu->state.vmcs;
	uint32_t info = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO];
	unsigned vector = info & 0xff, type = (info >> 8) & 7, flags = injection_types[type].flags;
	if ((info & IRQ_INFO_RESERVED) || (flags & INJ_RESERVED) || vector < injection_types[type].min_vector ||
	    vector > injection_types[type].max_vector)
		return false;
	if ((flags & INJ_NEEDS_MTF) && !((c->vmx[HV_VMX_CAP_PROCBASED] >> 32) & CPU_BASED_MTF))
		return false;
	if (flags & INJ_NEEDS_LENGTH) {
		uint64_t len = v[HVX_SLOT_CTRL_VMENTRY_INSTR_LEN];
		if (len > 15 || (len == 0 && !(c->vmx[HV_VMX_CAP_MISC] & VMX_MISC_ZERO_LENGTH_INJECTION)))
			return false;
	}
	/* Deliver-error-code: 0 unless a hardware exception with guest CR0.PE = 1 (the VMCS guest CR0 field, whatever
	 * "unrestricted guest" says); then, unless IA32_VMX_BASIC[56], 1 exactly for the vectors with an error code. */
	bool deliver = info & IRQ_INFO_DELIVER_ERROR;
	bool pe = v[HVX_SLOT_GUEST_CR0] & 1;
	if (!(flags & INJ_HW_EXCEPTION) || !pe) {
		if (deliver)
			return false;
	} else if (!(c->vmx[HV_VMX_CAP_BASIC] & VMX_BASIC_NO_ERROR_CODE_CHECK)) {
		if ((deliver && ((EXC_WITHOUT_ERROR_CODE >> vector) & 1)) || (!deliver && ((EXC_WITH_ERROR_CODE >> vector) & 1)))
			return false;
	}
	/* An error code that is delivered has bits 31:16 clear. */
	if (deliver && (v[HVX_SLOT_CTRL_VMENTRY_EXC_ERROR] & 0xffff0000u))
		return false;
	return true;
}

/* The control words, indexed for the dependency table. */
enum { W_PIN, W_PROC, W_PROC2, W_ENTRY, W_EXIT, W_COUNT };

/* Controls that need another control set (SDM 26.2.1.1-26.2.1.2): any bit of `bits` in word `word` needs bit `needs`
 * of word `in`. */
static const struct {
	uint8_t word, in;
	uint32_t bits, needs;
} control_needs[] = {
	{W_PIN, W_PIN, PIN_BASED_VIRTUAL_NMI, PIN_BASED_NMI},          /* virtual NMIs need NMI exiting */
	{W_PROC, W_PIN, CPU_BASED_VIRTUAL_NMI_WND, PIN_BASED_VIRTUAL_NMI}, /* NMI-window exiting needs virtual NMIs */
	/* APIC-register virtualization, virtual-interrupt delivery and x2APIC virtualization need the TPR shadow */
	{W_PROC2, W_PROC, CPU_BASED2_X2APIC | CPU_BASED2_APIC_REG_VIRT | CPU_BASED2_VIRT_INTR_DELIVERY, CPU_BASED_TPR_SHADOW},
	{W_PROC2, W_PIN, CPU_BASED2_VIRT_INTR_DELIVERY, PIN_BASED_INTR}, /* VID needs external-interrupt exiting */
	/* mode-based execute control, PML and sub-page write permissions need "enable EPT". Not "unrestricted guest":
	 * the emu runs with its memory map as the EPT whatever the bit says, and Apple-style clients (hvdos, xhyve)
	 * set unrestricted guest alone through cap2ctrl; refusing that needs EPT advertised as must-be-1 first. */
	{W_PROC2, W_PROC2, CPU_BASED2_EPT_MODE_BASED_EXEC | CPU_BASED2_PML | CPU_BASED2_EPT_SUBPAGE_WRITE, CPU_BASED2_EPT},
	/* "save VMX-preemption timer value" needs "activate VMX-preemption timer" */
	{W_EXIT, W_PIN, VMEXIT_SAVE_VMX_TIMER, PIN_BASED_PREEMPTION_TIMER},
};

/* Do the five control words fit the backend's capabilities (SDM 26.2.1.1-26.2.1.3, in terms of allowed-0/1), and
 * do the controls agree with each other? Everything here depends only on the memo's inputs. */
static bool controls_fit(const struct hvx_controls_memo *m, const struct hvx_caps *c)
{
	const uint32_t w[W_COUNT] = {[W_PIN] = m->pin, [W_PROC] = m->proc, [W_PROC2] = m->proc2, [W_ENTRY] = m->entry,
				     [W_EXIT] = m->exit};
	for (size_t i = 0; i < sizeof control_needs / sizeof control_needs[0]; i++)
		if ((w[control_needs[i].word] & control_needs[i].bits) && !(w[control_needs[i].in] & control_needs[i].needs))
			return false;
	/* SDM 26.2.1.1: x2APIC virtualization excludes APIC-access virtualization. */
	if ((m->proc2 & CPU_BASED2_X2APIC) && (m->proc2 & CPU_BASED2_VIRTUAL_APIC))
		return false;
	/* SDM 26.2.1.1: a 4-KiB-aligned PML address (here guest-physical) with "enable PML". */
	if ((m->proc2 & CPU_BASED2_PML) && ((m->pml_addr & 0xfff) || m->pml_addr >= HVX_GPA_LIMIT))
		return false;
	/* SDM 26.2.1.1: at most IA32_VMX_MISC[24:16] CR3-target values. */
	if (m->cr3_count > ((c->vmx[HV_VMX_CAP_MISC] >> 16) & 0x1ff))
		return false;
	/* SDM 26.2.1.3: entry to SMM and deactivate dual-monitor treatment only from SMM (here: under the vCPU's
	 * dual-monitor model, hvx_vcpu_set_dual_monitor), and not both. */
	uint32_t smm = m->entry & (VMENTRY_SMM | VMENTRY_DEACTIVATE_DUAL_MONITOR);
	if (smm && (!m->dual_monitor || smm == (VMENTRY_SMM | VMENTRY_DEACTIVATE_DUAL_MONITOR)))
		return false;
	return hvx_ctrl_allowed(c->vmx[HV_VMX_CAP_PINBASED], m->pin) &&
	       hvx_ctrl_allowed(c->vmx[HV_VMX_CAP_PROCBASED], m->proc) &&
	       hvx_ctrl_allowed(c->vmx[HV_VMX_CAP_PROCBASED2], m->proc2) &&
	       hvx_ctrl_allowed(c->vmx[HV_VMX_CAP_ENTRY], m->entry) && hvx_ctrl_allowed(c->vmx[HV_VMX_CAP_EXIT], m->exit);
}

/* The checks that depend only on the controls (and the dual-monitor model, the PML address and the CR3-target count),
 * made when an input may have changed since they last passed (see controls_valid). Out of line: most entries skip it. */
static __attribute__((noinline)) bool controls_recheck(struct hvx_vcpu *vcpu)
{
	hvx_vcpu_fresh(vcpu, HVX_GROUP_CONTROL);
	const uint64_t *v = vcpu->state.vmcs;
	struct hvx_controls_memo m;
	memset(&m, 0, sizeof m); /* padding included: the memo is compared as bytes */
	m.pin = (uint32_t)v[HVX_SLOT_CTRL_PIN_BASED];
	m.proc = (uint32_t)v[HVX_SLOT_CTRL_CPU_BASED];
	m.proc2 = (m.proc & CPU_BASED_SECONDARY_CTLS) ? (uint32_t)v[HVX_SLOT_CTRL_CPU_BASED2] : 0;
	m.entry = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_CONTROLS];
	m.exit = (uint32_t)v[HVX_SLOT_CTRL_VMEXIT_CONTROLS];
	m.dual_monitor = atomic_load_explicit(&vcpu->dual_monitor, memory_order_relaxed);
	m.pml_addr = v[HVX_SLOT_CTRL_PML_ADDR];
	m.cr3_count = (uint32_t)v[HVX_SLOT_CTRL_CR3_COUNT];
	m.passed = 1;
	if (memcmp(&m, &vcpu->controls_ok_for, sizeof m)) {
		if (!controls_fit(&m, vcpu->vm->backend->caps()))
			return false;
		vcpu->controls_ok_for = m;
	}
	vcpu->unchecked &= ~HVX_GROUP_CONTROL;
	return true;
}

/*
 * All the VM-entry control checks. Those that depend only on the memo's inputs are skipped while no control was
 * written (nor the dual-monitor model changed) since they last passed: every such write marks HVX_GROUP_CONTROL in
 * vcpu->unchecked. Backends change one input themselves, "IA-32e mode guest" in the entry controls, saved at each
 * exit (SDM 27.2): the entry word is compared with the memo's. The controls are current unless the backend holds
 * them (stale), which takes the recheck too. The TPR-threshold and event-injection checks read fields outside the
 * memo and run every entry.
 */
static inline bool controls_valid(struct hvx_vcpu *vcpu)
{
	const uint64_t *v = vcpu->state.vmcs;
	const struct hvx_controls_memo *m = &vcpu->controls_ok_for;
	if (__builtin_expect(((vcpu->unchecked | vcpu->stale) & HVX_GROUP_CONTROL) ||
				     (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_CONTROLS] != m->entry,
			     0) &&
	    !controls_recheck(vcpu))
		return false;
	if (!tpr_threshold_valid(vcpu, m->proc, m->proc2))
		return false;
	if (__builtin_expect(v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] & IRQ_INFO_VALID, 0))
		return injection_valid(vcpu);
	return true;
}

/* A finite deadline needs the VMX-preemption timer (as Apple). */
static __attribute__((noinline)) bool deadline_supported(const struct hvx_backend_ops *b)
{
	return (b->caps()->vmx[HV_VMX_CAP_PINBASED] >> 32) & PIN_BASED_PREEMPTION_TIMER;
}

/* The entry failed its control checks: VMfail, nothing ran. */
static __attribute__((cold, noinline)) hv_return_t entry_vmfail(struct hvx_vcpu *vcpu)
{
	vcpu->last_entry_failed = true;
	vcpu->entry_status = RFLAGS_ZF;
	vcpu->state.vmcs[HVX_SLOT_RO_INSTR_ERROR] = VMX_INSTR_ERROR_BAD_CONTROLS;
	return HV_ERROR;
}

/* hv_vcpu_interrupt came while the vCPU was outside the guest: this run ends before any guest instruction. */
static __attribute__((noinline)) hv_return_t exit_for_kick(struct hvx_vcpu *vcpu)
{
	struct hvx_exit exit;
	hvx_exit_clear(&exit);
	exit.reason = VMX_REASON_IRQ;
	vcpu->last_entry_failed = false;
	hvx_exit_publish(vcpu, &exit);
	return HV_SUCCESS;
}

/* An hv_vm_sync_tsc the vCPU has not applied yet. */
static __attribute__((noinline)) void tsc_sync_apply(struct hvx_vcpu *vcpu, uint64_t gen)
{
	vcpu->tsc_sync_gen = gen;
	vcpu->state.vmcs[HVX_SLOT_CTRL_TSC_OFFSET] = (uint64_t)atomic_load(&vcpu->vm->tsc_sync_offset);
	hvx_vcpu_touch(vcpu, HVX_GROUP_CONTROL);
}

/* A VM entry that deactivated the dual-monitor treatment (it did not fail) ends the SMM model. */
static __attribute__((noinline)) void dual_monitor_deactivated(struct hvx_vcpu *vcpu)
{
	atomic_store(&vcpu->dual_monitor, false);
	vcpu->unchecked |= HVX_GROUP_CONTROL; /* an input of the control checks */
}

/* The backend call between two tick reads (the exact exec-time clock), and what follows an exit into *exit. */
static inline __attribute__((always_inline)) hv_return_t backend_run(struct hvx_vcpu *vcpu,
								      const struct hvx_backend_ops *b, uint64_t deadline,
								      struct hvx_exit *exit)
{
	const bool tsc = hvx_ticks_are_tsc; /* read once for both tick reads (the call in between would reload it) */
	uint64_t t0 = hvx_ticks_from(tsc);
	atomic_store_explicit(&vcpu->running, true, memory_order_release);
	hv_return_t ret = b->vcpu_run(vcpu, deadline, exit);
	atomic_store_explicit(&vcpu->running, false, memory_order_release);
	vcpu->exec_ticks += hvx_ticks_from(tsc) - t0;
	if (__builtin_expect(ret != HV_SUCCESS, 0))
		return ret;
	vcpu->last_entry_failed = false;
	if (__builtin_expect(vcpu->state.vmcs[HVX_SLOT_CTRL_VMENTRY_CONTROLS] & VMENTRY_DEACTIVATE_DUAL_MONITOR, 0) &&
	    !(exit->reason >> 31))
		dual_monitor_deactivated(vcpu);
	return HV_SUCCESS;
}

/* A backend without exit_in_place fills a cleared record of ours, published after an exit. */
static __attribute__((noinline)) hv_return_t run_own_record(struct hvx_vcpu *vcpu, const struct hvx_backend_ops *b,
							    uint64_t deadline)
{
	struct hvx_exit exit;
	hvx_exit_clear(&exit); /* field by field: an initializer compiles to `rep stos`, slow to start */
	hv_return_t ret = backend_run(vcpu, b, deadline, &exit);
	if (ret == HV_SUCCESS)
		hvx_exit_publish(vcpu, &exit);
	return ret;
}

/* Everything rare is out of line (the calls above): on the common path this is the ownership test, the kick and
 * control tests and the backend call between two tick reads (the emu fills the published exit record itself). */
static inline __attribute__((always_inline)) hv_return_t run_until(hv_vcpuid_t id, uint64_t deadline)
{
	struct hvx_vcpu *vcpu = hvx_vcpu_if_owned(id);
	if (__builtin_expect(!vcpu, 0))
		return hvx_vcpu_refused();
	struct hvx_vm *vm = vcpu->vm;
	const struct hvx_backend_ops *b = vm->backend;
	if (!b->vcpu_run || (deadline != HV_DEADLINE_FOREVER && !deadline_supported(b)))
		return HV_UNSUPPORTED;
	vcpu->has_run = true;
	if (__builtin_expect(atomic_load_explicit(&vcpu->kick_pending, memory_order_relaxed), 0) &&
	    atomic_exchange(&vcpu->kick_pending, false))
		return exit_for_kick(vcpu);
	if (__builtin_expect(!controls_valid(vcpu), 0))
		return entry_vmfail(vcpu);
	uint64_t gen = atomic_load_explicit(&vm->tsc_sync_gen, memory_order_acquire);
	if (__builtin_expect(gen != vcpu->tsc_sync_gen, 0))
		tsc_sync_apply(vcpu, gen);

	/* A backend with exit_in_place (emu) writes the published record itself, only for an exit (backend.h): no clear
	 * and no copy here. Any other gets a cleared record of our own, out of line (its stack frame). */
	if (__builtin_expect(!b->exit_in_place, 0))
		return run_own_record(vcpu, b, deadline);
	return backend_run(vcpu, b, deadline, &vcpu->state.exit);
}

__attribute__((hot)) HVX_EXPORT hv_return_t hv_vcpu_run_until(hv_vcpuid_t id, uint64_t deadline)
{
	return run_until(id, deadline);
}

/* A copy of the body rather than a jump to hv_vcpu_run_until: the deadline test folds away. */
__attribute__((hot)) HVX_EXPORT hv_return_t hv_vcpu_run(hv_vcpuid_t id)
{
	return run_until(id, HV_DEADLINE_FOREVER);
}

HVX_EXPORT hv_return_t hv_vcpu_interrupt(hv_vcpuid_t *vcpus, unsigned int count)
{
	if (!vcpus && count)
		return HV_BAD_ARGUMENT;
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	struct hvx_vm *vm = hvx_the_vm;
	hv_return_t ret = HV_NO_DEVICE;
	if (!vm)
		goto out;
	/* All ids are checked before any vCPU is kicked; the VM lock keeps them alive meanwhile. */
	pthread_mutex_lock(&vm->lock);
	ret = HV_SUCCESS;
	for (unsigned i = 0; i < count; i++)
		if (vcpus[i] >= HVX_VCPU_MAX || !vm->vcpus[vcpus[i]])
			ret = HV_BAD_ARGUMENT;
	for (unsigned i = 0; ret == HV_SUCCESS && i < count; i++) {
		struct hvx_vcpu *v = vm->vcpus[vcpus[i]];
		atomic_store(&v->kick_pending, true);
		if (vm->backend->vcpu_kick)
			vm->backend->vcpu_kick(v);
	}
	pthread_mutex_unlock(&vm->lock);
out:
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}
