/* emu_backend.c: the emu backend's registration and ops: a software x86 CPU in VMX non-root operation (any host), its capabilities, and memory-map change handshakes. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "backend/emu/emu.h"
#include "core/backend.h"
#include "core/export.h"
#include "core/vm.h"
#include <hvx/hvx.h>

static bool emu_available(const char **why)
{
	(void)why;
	return true; /* pure software: runs on any host */
}

/* "Use MSR bitmaps" is fixed to 1: the native-MSR rule is what clears bits of the bitmap (docs/emu.md). */
#define PROC_FIXED1 (0x04006172u | CPU_BASED_MSR_BITMAPS)
#define PROC_ALLOWED (PROC_FIXED1 | CPU_BASED_IRQ_WND | CPU_BASED_VIRTUAL_NMI_WND | CPU_BASED_MTF | CPU_BASED_TPR_SHADOW | CPU_BASED_IO_BITMAPS | CPU_BASED_TSC_OFFSET | CPU_BASED_HLT | CPU_BASED_INVLPG | CPU_BASED_MWAIT |      \
		      CPU_BASED_RDPMC | CPU_BASED_RDTSC | CPU_BASED_CR3_LOAD | CPU_BASED_CR3_STORE | CPU_BASED_CR8_LOAD | \
		      CPU_BASED_CR8_STORE | CPU_BASED_MOV_DR | CPU_BASED_UNCOND_IO | CPU_BASED_MONITOR |                 \
		      CPU_BASED_PAUSE | CPU_BASED_SECONDARY_CTLS)
#define PROC2_ALLOWED (CPU_BASED2_EPT | CPU_BASED2_DESC_TABLE | CPU_BASED2_RDTSCP | CPU_BASED2_WBINVD |                \
		       CPU_BASED2_UNRESTRICTED | CPU_BASED2_PAUSE_LOOP | CPU_BASED2_RDRAND | CPU_BASED2_INVPCID |       \
		       CPU_BASED2_VMFUNC | CPU_BASED2_RDSEED | CPU_BASED2_XSAVES_XRSTORS | CPU_BASED2_ENCLS_EXIT_MAP |       \
		       CPU_BASED2_USER_WAIT_PAUSE | CPU_BASED2_PML | CPU_BASED2_VIRTUAL_APIC | CPU_BASED2_APIC_REG_VIRT |    \
		       CPU_BASED2_VIRT_INTR_DELIVERY |             \
		       CPU_BASED2_EPT_SUBPAGE_WRITE | CPU_BASED2_X2APIC)
/* The VMCS guest fields are the live registers: DR7 and EFER are always loaded at entry and saved at exit. */
#define ENTRY_FIXED1 (0x000011fbu | VMENTRY_LOAD_DBG_CONTROLS | VMENTRY_LOAD_EFER)
/* Entry to SMM and deactivate dual-monitor treatment: only meaningful under the vCPU's dual-monitor model, which
 * hv_vcpu_run checks (VMfail 7 without it). */
#define ENTRY_ALLOWED (ENTRY_FIXED1 | VMENTRY_GUEST_IA32E | VMENTRY_SMM | VMENTRY_DEACTIVATE_DUAL_MONITOR)
#define EXIT_FIXED1 (0x00036dfbu | VMEXIT_SAVE_DBG_CONTROLS | VMEXIT_SAVE_EFER)
#define EXIT_ALLOWED (EXIT_FIXED1 | VMEXIT_HOST_IA32E | VMEXIT_SAVE_VMX_TIMER | VMEXIT_ACK_INTR)
/* External-interrupt and NMI exiting act on events raised by hvx_vcpu_raise_interrupt / hvx_vcpu_raise_nmi. */
#define PIN_ALLOWED (HVX_PIN_DEFAULT1 | PIN_BASED_PREEMPTION_TIMER | PIN_BASED_INTR | PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI)

#define R(n) (1ull << (n))
static const struct hvx_caps emu_caps = {
	.vmx = {
		[HV_VMX_CAP_PINBASED] = (uint64_t)PIN_ALLOWED << 32 | HVX_PIN_DEFAULT1,
		[HV_VMX_CAP_PROCBASED] = (uint64_t)PROC_ALLOWED << 32 | PROC_FIXED1,
		[HV_VMX_CAP_PROCBASED2] = (uint64_t)PROC2_ALLOWED << 32,
		[HV_VMX_CAP_ENTRY] = (uint64_t)ENTRY_ALLOWED << 32 | ENTRY_FIXED1,
		[HV_VMX_CAP_EXIT] = (uint64_t)EXIT_ALLOWED << 32 | EXIT_FIXED1,
		/* revision 1, 4-KiB region, dual-monitor SMM (the hvx model, docs/emu.md), write-back, INS/OUTS
		 * information, TRUE controls */
		[HV_VMX_CAP_BASIC] = 1ull | (0x1000ull << 32) | (1ull << 49) | (6ull << 50) | (1ull << 54) | (1ull << 55),
		[HV_VMX_CAP_TRUE_PINBASED] = (uint64_t)PIN_ALLOWED << 32 | HVX_PIN_DEFAULT1,
		[HV_VMX_CAP_TRUE_PROCBASED] = (uint64_t)PROC_ALLOWED << 32 | PROC_FIXED1,
		[HV_VMX_CAP_TRUE_ENTRY] = (uint64_t)ENTRY_ALLOWED << 32 | ENTRY_FIXED1,
		[HV_VMX_CAP_TRUE_EXIT] = (uint64_t)EXIT_ALLOWED << 32 | EXIT_FIXED1,
		/* LMA saved into the IA-32e entry control, HLT, shutdown and wait-for-SIPI activity states, 4 CR3-target
		 * values, MSR lists of up to 512 entries (bits 27:25 = 0) */
		[HV_VMX_CAP_MISC] = (1ull << 5) | (1ull << 6) | (1ull << 7) | (1ull << 8) | (4ull << 16) | (0ull << 25),
		[HV_VMX_CAP_CR0_FIXED0] = 0x20,          /* NE; PE and PG are free (the emu is always unrestricted) */
		[HV_VMX_CAP_CR0_FIXED1] = 0x8005003f,    /* no CD/NW */
		[HV_VMX_CAP_CR4_FIXED0] = 0x2000,        /* VMXE */
		[HV_VMX_CAP_CR4_FIXED1] = 0x377fff,
		[HV_VMX_CAP_VMCS_ENUM] = 0x2e,
		/* A/D flags (bit 21): the EPTP is framework-owned; its A/D bit counts as 1 while "enable PML" is 1 */
		[HV_VMX_CAP_EPT_VPID_CAP] = (1ull << 0) | (1ull << 6) | (1ull << 14) | (1ull << 16) | (1ull << 17) | (1ull << 21),
		[HVX_VMX_CAP_SLOTS - 1] = 1000000000ull, /* HV_VMX_CAP_PREEMPTION_TIMER: ticks per second */
	},
	.vcpu_max = 64,
	.space_max = HVX_SPACE_MAX,
	.reasons = {
		R(VMX_REASON_EXC_NMI) | R(VMX_REASON_IRQ) | R(VMX_REASON_TRIPLE_FAULT) | R(VMX_REASON_INIT) | R(VMX_REASON_IRQ_WND) | R(VMX_REASON_VIRTUAL_NMI_WND) | R(VMX_REASON_TASK) | R(VMX_REASON_MTF) | R(VMX_REASON_TPR_THRESHOLD) |
		R(VMX_REASON_APIC_ACCESS) | R(VMX_REASON_VIRTUALIZED_EOI) | R(VMX_REASON_APIC_WRITE) |
		R(VMX_REASON_CPUID) | R(VMX_REASON_GETSEC) | R(VMX_REASON_HLT) | R(VMX_REASON_INVD) |
		R(VMX_REASON_INVLPG) | R(VMX_REASON_RDPMC) | R(VMX_REASON_RDTSC) | R(VMX_REASON_VMCALL) |
		R(VMX_REASON_VMCLEAR) | R(VMX_REASON_VMLAUNCH) | R(VMX_REASON_VMPTRLD) | R(VMX_REASON_VMPTRST) |
		R(VMX_REASON_VMREAD) | R(VMX_REASON_VMRESUME) | R(VMX_REASON_VMWRITE) | R(VMX_REASON_VMOFF) |
		R(VMX_REASON_VMON) | R(VMX_REASON_MOV_CR) | R(VMX_REASON_MOV_DR) | R(VMX_REASON_IO) |
		R(VMX_REASON_RDMSR) | R(VMX_REASON_WRMSR) | R(VMX_REASON_VMENTRY_GUEST) | R(VMX_REASON_MWAIT) |
		R(VMX_REASON_MONITOR) | R(VMX_REASON_PAUSE) | R(VMX_REASON_GDTR_IDTR) | R(VMX_REASON_LDTR_TR) |
		R(VMX_REASON_EPT_VIOLATION) | R(VMX_REASON_EPT_MISCONFIG) | R(VMX_REASON_EPT_INVEPT) |
		R(VMX_REASON_RDTSCP) | R(VMX_REASON_VMX_TIMER_EXPIRED) | R(VMX_REASON_INVVPID) | R(VMX_REASON_WBINVD) | R(VMX_REASON_XSETBV) |
		R(VMX_REASON_RDRAND) | R(VMX_REASON_INVPCID) | R(VMX_REASON_VMFUNC) | R(VMX_REASON_RDSEED) |
		R(VMX_REASON_XSAVES) | R(VMX_REASON_ENCLS) | R(VMX_REASON_PML_FULL) |
		R(VMX_REASON_SIPI) | R(VMX_REASON_IO_SMI) | R(VMX_REASON_OTHER_SMI) | R(VMX_REASON_RSM) |
		R(VMX_REASON_VMENTRY_MSR) | R(VMX_REASON_VMENTRY_MC),
		R(VMX_REASON_XRSTORS - 64) | R(VMX_REASON_SPP_EVENT - 64) | R(VMX_REASON_UMWAIT - 64) | R(VMX_REASON_TPAUSE - 64),
	},
};

static const struct hvx_caps *emu_get_caps(void)
{
	return &emu_caps;
}

/*
 * The memory-map handshake is a store then a load on both sides (a run's entry: in_guest = 1, then the generation;
 * emu_memmap_changed: the generation, then in_guest), so each side needs a full fence between them. With
 * membarrier(2)'s private expedited command the mapper, which is rare, makes both: before the call returns the kernel
 * runs a full barrier on every other running thread of the process (and a thread not running has passed a context
 * switch), so a run's entry needs only a compiler barrier and no locked instruction (about 4 ns a run). Registered
 * once per process, before the first vCPU exists; where it is missing both sides keep their own fence.
 */
atomic_bool emu_asym_fence;
static pthread_once_t asym_fence_once = PTHREAD_ONCE_INIT;

static void asym_fence_register(void)
{
#if defined(__linux__) && defined(SYS_membarrier)
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		atomic_store(&emu_asym_fence, true);
#endif
}

/* The mapper's side (after the generation moved, before it reads in_guest): the barrier on every running thread. */
static void asym_fence_mapper(void)
{
#if defined(__linux__) && defined(SYS_membarrier)
	if (atomic_load(&emu_asym_fence) && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		abort(); /* registered, so it cannot fail; going on would let a vCPU use unmapped memory */
#endif
}

static hv_return_t emu_vm_create(struct hvx_vm *vm)
{
	pthread_once(&asym_fence_once, asym_fence_register);
	struct emu_vm *ev = calloc(1, sizeof *ev);
	if (!ev || !emu_dirty_init(ev)) {
		free(ev);
		return HV_NO_RESOURCES;
	}
	vm->backend_data = ev;
	return HV_SUCCESS;
}

static void emu_vm_destroy(struct hvx_vm *vm)
{
	struct emu_vm *ev = vm->backend_data;
	if (ev) {
		emu_dirty_fini(ev);
		emu_spp_fini(ev);
		free(ev);
	}
	vm->backend_data = NULL;
}

/* Live vCPUs (for the process-wide retired-instruction count) and the count of those already destroyed. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct emu_cpu *live_head;
static uint64_t retired_by_destroyed;

static hv_return_t emu_vcpu_create(struct hvx_vcpu *vcpu)
{
	struct emu_cpu *c = calloc(1, sizeof *c);
	if (!c)
		return HV_NO_RESOURCES;
	emu_cpu_init(c, vcpu);
	vcpu->backend = c;
	pthread_mutex_lock(&live_lock);
	c->live_next = live_head;
	if (live_head)
		live_head->live_prev = c;
	live_head = c;
	pthread_mutex_unlock(&live_lock);
	return HV_SUCCESS;
}

static void emu_vcpu_destroy(struct hvx_vcpu *vcpu)
{
	struct emu_cpu *c = vcpu->backend;
	if (c) {
		pthread_mutex_lock(&live_lock);
		retired_by_destroyed += atomic_load(&c->retired);
		if (c->live_prev)
			c->live_prev->live_next = c->live_next;
		else
			live_head = c->live_next;
		if (c->live_next)
			c->live_next->live_prev = c->live_prev;
		pthread_mutex_unlock(&live_lock);
		emu_cpu_fini(c);
		free(c);
	}
	vcpu->backend = NULL;
}

static hv_return_t emu_vcpu_run(struct hvx_vcpu *vcpu, uint64_t deadline, struct hvx_exit *exit)
{
	return emu_run(vcpu->backend, deadline, exit);
}

/* kick_pending is already set: the bit makes the run loop (and translated code), which test only c->events at a block
 * boundary, look at it. */
static void emu_vcpu_kick(struct hvx_vcpu *vcpu)
{
	struct emu_cpu *c = vcpu->backend;
	if (c)
		atomic_fetch_or(&c->events, EMU_EV_KICK);
}

/* Latched atomically; the run loop and HLT poll c->events as they poll kick_pending. */
static hv_return_t emu_raise_event(struct hvx_vcpu *vcpu, enum hvx_event kind, uint8_t vector)
{
	struct emu_cpu *c = vcpu->backend;
	static const unsigned flag[] = {[HVX_EVENT_NMI] = EMU_EV_NMI, [HVX_EVENT_INIT] = EMU_EV_INIT,
					[HVX_EVENT_SMI] = EMU_EV_SMI};
	if (kind == HVX_EVENT_NMI || kind == HVX_EVENT_INIT || kind == HVX_EVENT_SMI) {
		atomic_fetch_or(&c->events, flag[kind]);
		return HV_SUCCESS;
	}
	/* External interrupt: vector in bits 15:8; SIPI: vector in bits 23:16 (a later one replaces it). */
	unsigned shift = kind == HVX_EVENT_SIPI ? 16 : 8, bit = kind == HVX_EVENT_SIPI ? EMU_EV_SIPI : EMU_EV_EXTINT;
	unsigned old = atomic_load(&c->events), new;
	do
		new = (old & ~(0xffu << shift)) | bit | ((unsigned)vector << shift);
	while (!atomic_compare_exchange_weak(&c->events, &old, new));
	return HV_SUCCESS;
}

static void emu_vcpu_invalidate_tlb(struct hvx_vcpu *vcpu)
{
	struct emu_cpu *c = vcpu->backend;
	mmu_flush(c, true);
}

/* After unmap/protect: wait until every running vCPU has passed a block boundary with the new generation. */
static hv_return_t emu_memmap_changed(struct hvx_vm *vm, hv_vm_space_t space, uint64_t gpa, uint64_t size)
{
	emu_dirty_clear(vm, space, gpa, size); /* mapped, unmapped or protected pages start EPT-clean (docs/emu.md) */
	uint64_t gen = atomic_load(&vm->memmap.generation);
	asym_fence_mapper();
	struct hvx_vcpu *self = hvx_current_vcpu();
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < HVX_VCPU_MAX; i++) {
		struct hvx_vcpu *v = vm->vcpus[i];
		if (!v || v == self || !v->backend)
			continue;
		struct emu_cpu *c = v->backend;
		atomic_fetch_or(&c->events, EMU_EV_MEMMAP); /* the run loop syncs at its next block boundary */
		while (atomic_load(&c->in_guest) && atomic_load(&c->seen_gen) < gen)
			sched_yield();
	}
	pthread_mutex_unlock(&vm->lock);
	return HV_SUCCESS;
}


/* Process-wide statistics of all emu vCPUs. */
static void emu_stats(struct hvx_backend_stats *out)
{
	pthread_mutex_lock(&live_lock);
	uint64_t n = retired_by_destroyed;
	for (struct emu_cpu *c = live_head; c; c = c->live_next)
		n += atomic_load_explicit(&c->retired, memory_order_relaxed);
	pthread_mutex_unlock(&live_lock);
	out->instructions_retired = n;
	out->unimplemented = atomic_load(&emu_stat_ud);
}

/* Intercept bitmaps (bit set = exit): I/O bitmaps A and B (8 KiB), and the MSR bitmap (read and write halves). */
static hv_return_t emu_set_intercepts(struct hvx_vcpu *v, enum hvx_intercept_bitmap which, uint32_t first,
				      uint32_t count, bool exits)
{
	struct emu_cpu *c = v->backend;
	bool smi = which == HVX_INTERCEPT_IO_SMI;
	uint8_t **bitmap = which == HVX_INTERCEPT_IO ? &c->io_bitmap : smi ? &c->smm.smi_ports : &c->msr_bitmap;
	size_t size = which == HVX_INTERCEPT_IO || smi ? 8192 : 4096; /* MSR: read half then write half, 2 KiB each */
	if (!*bitmap) {
		*bitmap = malloc(size + 1);
		if (!*bitmap)
			return HV_NO_RESOURCES;
		memset(*bitmap, smi ? 0 : 0xff, size); /* until configured, everything exits (no port raises an SMI) */
		(*bitmap)[size] = 0; /* a pad byte: io_exits (vmx.c) reads two bytes of the I/O bitmap at once */
	}
	uint8_t *bits = *bitmap + (which == HVX_INTERCEPT_MSR_WRITE ? 2048 : 0);
	for (uint32_t i = first; i < first + count; i++) {
		if (exits)
			bits[i >> 3] |= (uint8_t)(1u << (i & 7));
		else
			bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
	}
	return HV_SUCCESS;
}

/* hvx_vcpu_set_activity_state (called before the field changes): entering wait-for-SIPI from another state discards a
 * SIPI raised before (spec 6.4: it arrived outside wait-for-SIPI). */
static hv_return_t emu_set_activity(struct hvx_vcpu *vcpu, unsigned state)
{
	struct emu_cpu *c = vcpu->backend;
	if (state == 3 && c->v[HVX_SLOT_GUEST_ACTIVITY_STATE] != 3)
		atomic_fetch_and(&c->events, ~(EMU_EV_SIPI | 0xff0000u));
	return HV_SUCCESS;
}

static hv_return_t emu_set_entry_msr_load(struct hvx_vcpu *vcpu, const struct hvx_msr_entry *list, unsigned count)
{
	struct emu_cpu *c = vcpu->backend;
	struct hvx_msr_entry *copy = NULL;
	if (count) {
		copy = malloc(count * sizeof *copy);
		if (!copy)
			return HV_NO_RESOURCES;
		memcpy(copy, list, count * sizeof *copy);
	}
	free(c->smm.entry_msrs);
	c->smm.entry_msrs = copy;
	c->smm.entry_msr_count = count;
	c->entry_quiet = false;
	return HV_SUCCESS;
}

static hv_return_t emu_inject_entry_mc(struct hvx_vcpu *vcpu)
{
	struct emu_cpu *c = vcpu->backend;
	c->smm.entry_mc = true;
	c->entry_quiet = false;
	return HV_SUCCESS;
}

const struct hvx_backend_ops hvx_backend_emu = {
	.name = "emu",
	.description = "software x86 CPU in VMX non-root operation (any host)",
	.available = emu_available,
	.caps = emu_get_caps,
	.vm_create = emu_vm_create,
	.vm_destroy = emu_vm_destroy,
	.memmap_changed = emu_memmap_changed,
	.vcpu_create = emu_vcpu_create,
	.vcpu_destroy = emu_vcpu_destroy,
	.vcpu_run = emu_vcpu_run,
	.exit_in_place = true, /* every exit clears and fills c->exit; emu_run fails only before the run starts */
	.vcpu_kick = emu_vcpu_kick,
	.vcpu_invalidate_tlb = emu_vcpu_invalidate_tlb,
	.vcpu_set_intercepts = emu_set_intercepts,
	.stats = emu_stats,
	.vcpu_raise_event = emu_raise_event,
	.vcpu_set_activity = emu_set_activity,
	.vcpu_set_entry_msr_load = emu_set_entry_msr_load,
	.vcpu_inject_entry_mc = emu_inject_entry_mc,
	.vm_set_spp = emu_vm_set_spp,
};
