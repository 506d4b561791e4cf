/* kvm_backend.c: the kvm backend: /dev/kvm VM and vCPU objects, memory slots from the memory map, the kick signal, capabilities (docs/kvm.md). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <hvx/hvx.h>

#include "kvm.h"

/* Does the host CPU have hardware virtualisation (vmx or svm in /proc/cpuinfo)? PVM and other software KVMs do not. */
bool hvx_kvm_hardware_virtualisation(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof line, f))
		if (!strncmp(line, "flags", 5))
			found = strstr(line, " vmx") || strstr(line, " svm");
	fclose(f);
	return found;
}

static bool kvm_available(const char **why)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*why = "/dev/kvm cannot be opened";
		return false;
	}
	int version = ioctl(fd, KVM_GET_API_VERSION, 0);
	bool ok = version == KVM_API_VERSION;
	if (!ok)
		*why = "/dev/kvm has an unexpected API version";
	static const int needed[] = {KVM_CAP_X86_USER_SPACE_MSR, KVM_CAP_X86_MSR_FILTER, KVM_CAP_SYNC_REGS,
				     KVM_CAP_READONLY_MEM, KVM_CAP_IMMEDIATE_EXIT, KVM_CAP_VCPU_EVENTS,
				     KVM_CAP_XSAVE, KVM_CAP_XCRS, KVM_CAP_DEBUGREGS, KVM_CAP_SET_GUEST_DEBUG};
	for (unsigned i = 0; ok && i < sizeof needed / sizeof needed[0]; i++)
		if (ioctl(fd, KVM_CHECK_EXTENSION, needed[i]) <= 0) {
			*why = "/dev/kvm lacks a needed capability (user-space MSR exits, MSR filter, sync regs, read-only "
			       "memory, immediate exit, vCPU events, XSAVE, XCRs, debug registers or guest debug)";
			ok = false;
		}
	close(fd);
	return ok;
}

/* Capability words: exactly the controls this backend honours (docs/kvm.md explains each bit). */
#define KVM_PIN_MUST1 (HVX_PIN_DEFAULT1 | PIN_BASED_INTR)
#define KVM_PIN_MAY1 (KVM_PIN_MUST1 | PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI | PIN_BASED_PREEMPTION_TIMER)
#define KVM_PROC_MUST1 (0x04006172u | CPU_BASED_TSC_OFFSET | CPU_BASED_HLT | CPU_BASED_UNCOND_IO | \
			CPU_BASED_MSR_BITMAPS | CPU_BASED_SECONDARY_CTLS)
#define KVM_PROC_MAY1 (KVM_PROC_MUST1 | CPU_BASED_IRQ_WND | CPU_BASED_MTF) /* MTF: KVM single-step (docs/kvm.md) */
#define KVM_PROC2_MUST1 (CPU_BASED2_EPT | CPU_BASED2_UNRESTRICTED)
#define KVM_PROC2_MAY1 KVM_PROC2_MUST1
#define KVM_ENTRY_MUST1 (HVX_ENTRY_DEFAULT1 | (1u << 14) | (1u << 15)) /* load debug controls, PAT, EFER */
#define KVM_ENTRY_MAY1 (KVM_ENTRY_MUST1 | (1u << 9))                    /* IA-32e mode guest */
#define KVM_EXIT_MUST1 (HVX_EXIT_DEFAULT1 | (1u << 9) | (1u << 18) | (1u << 20)) /* host 64-bit, save PAT, EFER */
#define KVM_EXIT_MAY1 (KVM_EXIT_MUST1 | (1u << 19) | (1u << 21)) /* not 15: a kick has no vector to acknowledge */
#define CAP(must, may) ((uint64_t)(may) << 32 | (uint64_t)(must))
#define KVM_TIMER_RATE 5 /* preemption timer counts TSC >> 5 */
#define REASON(n) (1ull << (n))

/* Why each reason the kvm backend does not produce is missing (docs/exit-matrix.md, hvx_backend_reason_note). */
#define KERNEL(what) "KVM " what " in the kernel and never reports it to user space"
#define VMX_INSN KERNEL("handles VMX instructions (nested VMX or #UD)")
#define NO_APICV                                                                                                 \
	"TPR shadowing and APIC virtualization exist only with KVM's in-kernel local APIC, which hvx does not use"
static const char *const kvm_reason_notes[128] = {
	[VMX_REASON_EXC_NMI] = "KVM delivers exceptions and NMIs to the guest itself; the exception bitmap is not honoured "
			       "(guest-debug #DB/#BP interception works only on hardware KVM and is not advertised)",
	[VMX_REASON_INIT] = "INIT and SIPI exist only in KVM's in-kernel local APIC, which hvx does not use; "
			    "hvx_vcpu_raise_init is refused (HV_UNSUPPORTED)",
	[VMX_REASON_SIPI] = "INIT and SIPI exist only in KVM's in-kernel local APIC, which hvx does not use; "
			    "hvx_vcpu_raise_sipi is refused (HV_UNSUPPORTED)",
	[VMX_REASON_IO_SMI] = KERNEL("emulates SMM (SMIs enter the guest's own SMM handler)") "; no dual-monitor treatment",
	[VMX_REASON_OTHER_SMI] = KERNEL("emulates SMM (SMIs enter the guest's own SMM handler)") "; no dual-monitor treatment",
	[VMX_REASON_VIRTUAL_NMI_WND] = "KVM offers user space an interrupt window only, no NMI window (no virtual NMIs)",
	[VMX_REASON_TASK] = KERNEL("performs task switches"),
	[VMX_REASON_CPUID] = KERNEL("executes CPUID") " (hvx_vcpu_set_cpuid gives it the table)",
	[VMX_REASON_GETSEC] = KERNEL("handles GETSEC (as #UD)"),
	[VMX_REASON_INVD] = KERNEL("handles INVD"),
	[VMX_REASON_INVLPG] = KERNEL("handles INVLPG"),
	[VMX_REASON_RDPMC] = KERNEL("handles RDPMC"),
	[VMX_REASON_RDTSC] = KERNEL("handles RDTSC (or the guest executes it natively)"),
	[VMX_REASON_RSM] = KERNEL("emulates RSM"),
	[VMX_REASON_VMCALL] = KERNEL("handles VMCALL as its own hypercall") " (on a PVM host VMCALL hangs KVM_RUN)",
	[VMX_REASON_VMCLEAR] = VMX_INSN,
	[VMX_REASON_VMLAUNCH] = VMX_INSN,
	[VMX_REASON_VMPTRLD] = VMX_INSN,
	[VMX_REASON_VMPTRST] = VMX_INSN,
	[VMX_REASON_VMREAD] = VMX_INSN,
	[VMX_REASON_VMRESUME] = VMX_INSN,
	[VMX_REASON_VMWRITE] = VMX_INSN,
	[VMX_REASON_VMOFF] = VMX_INSN,
	[VMX_REASON_VMON] = VMX_INSN,
	[VMX_REASON_MOV_CR] = KERNEL("handles control-register accesses"),
	[VMX_REASON_MOV_DR] = KERNEL("handles debug-register accesses"),
	[VMX_REASON_VMENTRY_MSR] = "KVM has no VM-entry MSR-load list for user space",
	[VMX_REASON_MWAIT] = KERNEL("handles MWAIT"),
	[VMX_REASON_MONITOR] = KERNEL("handles MONITOR"),
	[VMX_REASON_PAUSE] = KERNEL("handles PAUSE (pause-loop exiting is its own scheduling hint)"),
	[VMX_REASON_VMENTRY_MC] = "machine checks during VM entry are handled by the host kernel",
	[VMX_REASON_TPR_THRESHOLD] = NO_APICV,
	[VMX_REASON_APIC_ACCESS] = NO_APICV,
	[VMX_REASON_VIRTUALIZED_EOI] = NO_APICV,
	[VMX_REASON_APIC_WRITE] = NO_APICV,
	[VMX_REASON_GDTR_IDTR] = KERNEL("handles descriptor-table instructions"),
	[VMX_REASON_LDTR_TR] = KERNEL("handles descriptor-table instructions"),
	[VMX_REASON_EPT_MISCONFIG] = "KVM uses EPT misconfigurations for its own MMIO caching and reports them as "
				     "KVM_EXIT_MMIO, which becomes an EPT violation (48)",
	[VMX_REASON_EPT_INVEPT] = VMX_INSN,
	[VMX_REASON_RDTSCP] = KERNEL("handles RDTSCP (or the guest executes it natively)"),
	[VMX_REASON_INVVPID] = VMX_INSN,
	[VMX_REASON_WBINVD] = KERNEL("handles WBINVD"),
	[VMX_REASON_XSETBV] = KERNEL("handles XSETBV"),
	[VMX_REASON_RDRAND] = KERNEL("handles RDRAND (or the guest executes it natively)"),
	[VMX_REASON_INVPCID] = KERNEL("handles INVPCID"),
	[VMX_REASON_VMFUNC] = KERNEL("handles VMFUNC (as #UD)"),
	[VMX_REASON_ENCLS] = KERNEL("handles ENCLS (SGX virtualization or #UD)"),
	[VMX_REASON_RDSEED] = KERNEL("handles RDSEED (or the guest executes it natively)"),
	[VMX_REASON_PML_FULL] = KERNEL("drains the page-modification log (its dirty log, KVM_GET_DIRTY_LOG)"),
	[VMX_REASON_XSAVES] = KERNEL("handles XSAVES"),
	[VMX_REASON_XRSTORS] = KERNEL("handles XRSTORS"),
	[VMX_REASON_SPP_EVENT] = "upstream KVM has no sub-page write protection",
	[VMX_REASON_UMWAIT] = KERNEL("handles UMWAIT"),
	[VMX_REASON_TPAUSE] = KERNEL("handles TPAUSE"),
};

static const struct hvx_caps kvm_caps = {
	.vmx = {
		[HV_VMX_CAP_PINBASED] = CAP(KVM_PIN_MUST1, KVM_PIN_MAY1),
		[HV_VMX_CAP_PROCBASED] = CAP(KVM_PROC_MUST1, KVM_PROC_MAY1),
		[HV_VMX_CAP_PROCBASED2] = CAP(KVM_PROC2_MUST1, KVM_PROC2_MAY1),
		[HV_VMX_CAP_ENTRY] = CAP(KVM_ENTRY_MUST1, KVM_ENTRY_MAY1),
		[HV_VMX_CAP_EXIT] = CAP(KVM_EXIT_MUST1, KVM_EXIT_MAY1),
		/* revision 1, 4-KiB region, write-back, INS/OUTS information, TRUE controls */
		[HV_VMX_CAP_BASIC] = 1ull | 0x1000ull << 32 | 6ull << 50 | 1ull << 54 | 1ull << 55,
		[HV_VMX_CAP_TRUE_PINBASED] = CAP(KVM_PIN_MUST1, KVM_PIN_MAY1),
		[HV_VMX_CAP_TRUE_PROCBASED] = CAP(KVM_PROC_MUST1, KVM_PROC_MAY1),
		[HV_VMX_CAP_TRUE_ENTRY] = CAP(KVM_ENTRY_MUST1, KVM_ENTRY_MAY1),
		[HV_VMX_CAP_TRUE_EXIT] = CAP(KVM_EXIT_MUST1, KVM_EXIT_MAY1),
		/* timer rate, EFER.LMA saved into the IA-32e entry control, HLT activity state */
		[HV_VMX_CAP_MISC] = KVM_TIMER_RATE | 1u << 5 | 1u << 6,
		[HV_VMX_CAP_CR0_FIXED0] = 0x20,          /* NE; unrestricted guest relaxes PE and PG */
		[HV_VMX_CAP_CR0_FIXED1] = 0xffffffffull,
		[HV_VMX_CAP_CR4_FIXED0] = 0x2000,        /* VMXE */
		[HV_VMX_CAP_CR4_FIXED1] = 0x00f77fffull,
		[HV_VMX_CAP_VMCS_ENUM] = 0x2e << 1,
		[HV_VMX_CAP_EPT_VPID_CAP] = 1ull << 6 | 1ull << 14 | 1ull << 16, /* 4-level, WB, 2-MiB pages */
		[HVX_VMX_CAP_SLOTS - 1] = KVM_TIMER_RATE,
	},
	.vcpu_max = 64,
	.space_max = 1,
	/* Only reasons the kvm tests (tests/unit/test_kvm_*.c) show it producing. */
	.reasons = {REASON(VMX_REASON_IRQ) | REASON(VMX_REASON_TRIPLE_FAULT) |
			     REASON(VMX_REASON_IRQ_WND) | REASON(VMX_REASON_HLT) | REASON(VMX_REASON_IO) |
			     REASON(VMX_REASON_RDMSR) | REASON(VMX_REASON_WRMSR) | REASON(VMX_REASON_VMENTRY_GUEST) |
			     REASON(VMX_REASON_MTF) | REASON(VMX_REASON_EPT_VIOLATION) |
			     REASON(VMX_REASON_VMX_TIMER_EXPIRED),
		     0},
	.reason_notes = kvm_reason_notes,
};

static const struct hvx_caps *kvm_get_caps(void)
{
	return &kvm_caps;
}

/* ---- the kick signal ---- */

static __thread struct kvm_run *volatile current_run __attribute__((tls_model("initial-exec")));
static pthread_once_t signal_once = PTHREAD_ONCE_INIT;

int kvm_kick_signal(void)
{
	return SIGRTMIN + 6;
}

__attribute__((hot)) void kvm_set_current_run(struct kvm_run *run)
{
	current_run = run;
}

/* Runs on the vCPU thread: make the current or next KVM_RUN return at once. Nothing else (async-signal-safe). */
static void on_kick(int sig)
{
	(void)sig;
	struct kvm_run *run = current_run;
	if (run)
		run->immediate_exit = 1;
}

static void install_signal(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_kick;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: KVM_RUN must return EINTR */
	sigaction(kvm_kick_signal(), &sa, NULL);
}

static void kvm_vcpu_kick(struct hvx_vcpu *vcpu)
{
	pthread_kill(vcpu->owner, kvm_kick_signal());
}

/* ---- VM ---- */

static hv_return_t kvm_vm_create(struct hvx_vm *vm)
{
	pthread_once(&signal_once, install_signal);
	struct kvm_vm *k = calloc(1, sizeof *k);
	if (!k)
		return HV_NO_RESOURCES;
	k->vm_fd = -1;
	k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0) {
		free(k);
		return HV_NO_DEVICE;
	}
	const char *step = "KVM_CREATE_VM";
	k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0)
		goto fail;
	step = "KVM_GET_VCPU_MMAP_SIZE";
	k->run_size = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0)
		goto fail;
	/* Every guest RDMSR/WRMSR the filter denies exits to user space (Apple: all MSRs exit unless native). */
	step = "KVM_CAP_X86_USER_SPACE_MSR";
	struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR, .args = {KVM_MSR_EXIT_REASON_FILTER}};
	if (ioctl(k->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		goto fail;
	step = "KVM_X86_SET_MSR_FILTER";
	/* KVM refuses a deny-by-default filter without ranges: one range denying MSR 0 makes it explicit. */
	static uint8_t zero;
	struct kvm_msr_filter filter = {.flags = KVM_MSR_FILTER_DEFAULT_DENY};
	filter.ranges[0] = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, .nmsrs = 1, .base = 0, .bitmap = &zero};
	if (ioctl(k->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0)
		goto fail;
	k->filter_set = true;
	/* Emulation failures come to user space (they become HV_ERROR or an EPT violation on fetch). */
	struct kvm_enable_cap emu = {.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE, .args = {1}};
	ioctl(k->vm_fd, KVM_ENABLE_CAP, &emu);
	step = "KVM_GET_SUPPORTED_CPUID";
	unsigned nent = 256;
	k->cpuid = calloc(1, sizeof *k->cpuid + nent * sizeof k->cpuid->entries[0]);
	if (!k->cpuid)
		goto fail;
	k->cpuid->nent = nent;
	if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, k->cpuid) < 0)
		goto fail;
	/* Without KVM's paravirtual leaves: a guest must not find kvmclock & co. (their MSRs would exit to the VMM). */
	unsigned kept = 0;
	for (unsigned i = 0; i < k->cpuid->nent; i++)
		if ((k->cpuid->entries[i].function & 0xf0000000u) != 0x40000000u)
			k->cpuid->entries[kept++] = k->cpuid->entries[i];
	k->cpuid->nent = kept;
	k->hardware = hvx_kvm_hardware_virtualisation();
	pthread_mutex_init(&k->lock, NULL);
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&k->run_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	vm->backend_data = k;
	return HV_SUCCESS;
fail:
	fprintf(stderr, "hvx kvm: %s failed: %s\n", step, strerror(errno));
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	close(k->kvm_fd);
	free(k->cpuid);
	free(k);
	return HV_ERROR;
}

static void kvm_vm_destroy(struct hvx_vm *vm)
{
	struct kvm_vm *k = kvm_vm_of(vm);
	if (!k)
		return;
	for (unsigned i = 0; i < HVX_VCPU_MAX; i++)
		if (k->spare[i].run) {
			munmap(k->spare[i].run, (size_t)k->run_size);
			close(k->spare[i].fd);
		}
	close(k->vm_fd);
	close(k->kvm_fd);
	free(k->cpuid);
	free(k->slots);
	free(k->free_ids);
	pthread_mutex_destroy(&k->lock);
	pthread_rwlock_destroy(&k->run_lock);
	free(k);
	vm->backend_data = NULL;
}

/* ---- memory slots ---- */

static int slot_set(struct kvm_vm *k, const struct kvm_slot *s, bool remove)
{
	struct kvm_userspace_memory_region r = {
		.slot = s->id,
		.flags = s->readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = s->gpa,
		.memory_size = remove ? 0 : s->size,
		.userspace_addr = (uint64_t)(uintptr_t)s->hva,
	};
	return ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static hv_return_t slot_add(struct kvm_vm *k, uint64_t gpa, uint64_t size, uint8_t *hva, bool readonly)
{
	if (k->slot_count == k->slot_capacity) {
		unsigned cap = k->slot_capacity ? 2 * k->slot_capacity : 16;
		struct kvm_slot *grown = realloc(k->slots, cap * sizeof *grown);
		if (!grown)
			return HV_NO_RESOURCES;
		k->slots = grown;
		k->slot_capacity = cap;
	}
	struct kvm_slot s = {.gpa = gpa, .size = size, .hva = hva, .readonly = readonly};
	s.id = k->free_count ? k->free_ids[--k->free_count] : k->next_slot_id++;
	if (slot_set(k, &s, false) < 0) {
		fprintf(stderr, "hvx kvm: KVM_SET_USER_MEMORY_REGION [%#llx, +%#llx) failed: %s\n",
			(unsigned long long)gpa, (unsigned long long)size, strerror(errno));
		return HV_NO_RESOURCES; /* the id is not reused */
	}
	k->slots[k->slot_count++] = s;
	return HV_SUCCESS;
}

static bool slot_remove(struct kvm_vm *k, unsigned i)
{
	if (k->free_count == k->free_capacity) {
		unsigned cap = k->free_capacity ? 2 * k->free_capacity : 16;
		uint32_t *grown = realloc(k->free_ids, cap * sizeof *grown);
		if (!grown)
			return false;
		k->free_ids = grown;
		k->free_capacity = cap;
	}
	slot_set(k, &k->slots[i], true);
	k->free_ids[k->free_count++] = k->slots[i].id;
	k->slots[i] = k->slots[--k->slot_count];
	return true;
}

/*
 * Re-sync the slots covering [gpa, gpa + size) with the memory map. KVM expresses RWX (normal slot) and RX/R
 * (read-only slot: writes exit as MMIO, reported as EPT violations); it cannot forbid execution, so R and RW are
 * executable (docs/kvm.md). Write-only, execute-only and WX maps are refused with HV_UNSUPPORTED and get no slot.
 */
static hv_return_t kvm_memmap_changed(struct hvx_vm *vm, hv_vm_space_t space, uint64_t gpa, uint64_t size)
{
	if (space != HV_VM_SPACE_DEFAULT)
		return HV_SUCCESS; /* only the default space runs on this backend (HV_CAP_ADDRSPACEMAX = 1) */
	struct kvm_vm *k = kvm_vm_of(vm);
	hv_return_t ret = HV_SUCCESS;
	/* KVM cannot change a slot in place: vCPUs leave KVM_RUN and wait while slots are deleted and re-created,
	 * so none sees the gap (a missing page table or code page would fault the guest). */
	for (;;) {
		pthread_mutex_lock(&vm->lock);
		for (unsigned i = 0; i < HVX_VCPU_MAX; i++)
			if (vm->vcpus[i] && atomic_load(&vm->vcpus[i]->running) &&
			    !pthread_equal(vm->vcpus[i]->owner, pthread_self()))
				pthread_kill(vm->vcpus[i]->owner, kvm_kick_signal());
		pthread_mutex_unlock(&vm->lock);
		/* A kick can land just before a vCPU clears immediate_exit for its next run: kick again until all left. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_rwlock_timedwrlock(&k->run_lock, &ts) == 0)
			break;
	}
	pthread_mutex_lock(&k->lock);
	uint64_t lo = gpa, hi = gpa + size;
	for (unsigned i = 0; i < k->slot_count;) {
		struct kvm_slot *s = &k->slots[i];
		if (s->gpa < gpa + size && gpa < s->gpa + s->size) {
			if (s->gpa < lo)
				lo = s->gpa;
			if (s->gpa + s->size > hi)
				hi = s->gpa + s->size;
			if (!slot_remove(k, i)) {
				ret = HV_NO_RESOURCES;
				i++;
			}
		} else {
			i++;
		}
	}
	pthread_rwlock_rdlock(&vm->memmap.lock);
	const struct hvx_space *sp = &vm->memmap.spaces[space];
	for (unsigned i = 0; i < sp->count; i++) {
		const struct hvx_region *r = &sp->regions[i];
		uint64_t a = r->gpa > lo ? r->gpa : lo, b = r->gpa + r->size < hi ? r->gpa + r->size : hi;
		if (a >= b || !r->perms)
			continue;
		if (!(r->perms & HV_MEMORY_READ)) {
			ret = HV_UNSUPPORTED;
			continue;
		}
		hv_return_t e = slot_add(k, a, b - a, r->hva + (a - r->gpa), !(r->perms & HV_MEMORY_WRITE));
		if (e != HV_SUCCESS)
			ret = e;
	}
	pthread_rwlock_unlock(&vm->memmap.lock);
	pthread_mutex_unlock(&k->lock);
	pthread_rwlock_unlock(&k->run_lock);
	return ret;
}

/* ---- MSR filter: MSRs native on every vCPU pass; the rest exit (native ones are then completed per vCPU) ---- */

void kvm_msr_filter_update(struct hvx_vm *vm)
{
	struct kvm_vm *k = kvm_vm_of(vm);
	uint32_t all = ~0u;
	pthread_mutex_lock(&vm->lock);
	unsigned n = 0;
	for (unsigned i = 0; i < HVX_VCPU_MAX; i++)
		if (vm->vcpus[i]) {
			all &= vm->vcpus[i]->native_msrs;
			n++;
		}
	pthread_mutex_unlock(&vm->lock);
	if (!n)
		all = 0;
	pthread_mutex_lock(&k->lock);
	if (!k->filter_set || all != k->filter_native) {
		struct kvm_msr_filter f;
		memset(&f, 0, sizeof f);
		f.flags = KVM_MSR_FILTER_DEFAULT_DENY;
		static uint8_t one = 1, zero; /* KVM copies the bitmaps */
		f.ranges[0] = (struct kvm_msr_filter_range){
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, .nmsrs = 1, .base = 0, .bitmap = &zero};
		unsigned r = 1;
		for (unsigned i = 0; i < hvx_msr_table_count && r < KVM_MSR_FILTER_MAX_RANGES; i++) {
			const struct hvx_msr_desc *d = &hvx_msr_table[i];
			if (d->native_bit >= 0 && (all >> d->native_bit) & 1)
				f.ranges[r++] = (struct kvm_msr_filter_range){
					.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, .nmsrs = 1, .base = d->msr,
					.bitmap = &one};
		}
		if (ioctl(k->vm_fd, KVM_X86_SET_MSR_FILTER, &f) == 0) {
			k->filter_native = all;
			k->filter_set = true;
		}
	}
	pthread_mutex_unlock(&k->lock);
}

__attribute__((hot)) uint32_t kvm_msr_filter_native(struct hvx_vm *vm)
{
	return atomic_load_explicit(&kvm_vm_of(vm)->filter_native, memory_order_relaxed);
}

/* ---- vCPU ---- */

static hv_return_t kvm_vcpu_create(struct hvx_vcpu *vcpu)
{
	struct kvm_vm *k = kvm_vm_of(vcpu->vm);
	struct kvm_vcpu *kv = calloc(1, sizeof *kv);
	if (!kv)
		return HV_NO_RESOURCES;
	const char *step = "KVM_CREATE_VCPU";
	/* KVM cannot destroy a vCPU: a destroyed hvx vCPU's KVM vCPU waits for the next vCPU with its id. */
	pthread_mutex_lock(&k->lock);
	struct kvm_spare sp = k->spare[vcpu->id];
	k->spare[vcpu->id].run = NULL;
	pthread_mutex_unlock(&k->lock);
	if (sp.run) {
		kv->fd = sp.fd;
		kv->run = sp.run;
		kv->ran = sp.ran;
		/* Finish whatever KVM still owed the old guest; every state group is loaded again at the first run. */
		kv->run->immediate_exit = 1;
		pthread_rwlock_rdlock(&k->run_lock);
		ioctl(kv->fd, KVM_RUN, 0);
		pthread_rwlock_unlock(&k->run_lock);
		kv->run->immediate_exit = 0;
		kv->run->kvm_dirty_regs = 0;
		kv->run->request_interrupt_window = 0;
		struct kvm_vcpu_events ev;
		memset(&ev, 0, sizeof ev);
		ev.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_NMI_PENDING;
		ioctl(kv->fd, KVM_SET_VCPU_EVENTS, &ev);
	} else {
		kv->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, (unsigned long)vcpu->id);
		if (kv->fd < 0)
			goto fail;
		step = "mmap kvm_run";
		kv->run = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kv->fd, 0);
		if (kv->run == MAP_FAILED) {
			kv->run = NULL;
			goto fail;
		}
	}
	step = "KVM_SET_CPUID2";
	pthread_mutex_lock(&k->lock);
	int r = ioctl(kv->fd, KVM_SET_CPUID2, k->cpuid);
	pthread_mutex_unlock(&k->lock);
	if (r < 0 && !kv->ran)
		goto fail; /* after a run KVM keeps the table it has (hvx_vcpu_set_cpuid then says HV_BUSY) */
	step = "KVM_GET_SREGS";
	if (ioctl(kv->fd, KVM_GET_SREGS, &kv->exit_sregs) < 0)
		goto fail;
	/* The deadline timer signals this (the owner) thread. */
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = kvm_kick_signal();
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	kv->timer_ok = timer_create(CLOCK_MONOTONIC, &sev, &kv->timer) == 0;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, kvm_kick_signal());
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	vcpu->backend = kv;
	return HV_SUCCESS;
fail:
	fprintf(stderr, "hvx kvm: vCPU %u: %s failed: %s\n", vcpu->id, step, strerror(errno));
	if (kv->run)
		munmap(kv->run, (size_t)k->run_size);
	if (kv->fd >= 0)
		close(kv->fd);
	free(kv);
	return HV_ERROR;
}

static void kvm_vcpu_destroy(struct hvx_vcpu *vcpu)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	if (!kv)
		return;
	struct kvm_vm *k = kvm_vm_of(vcpu->vm);
	if (pthread_equal(pthread_self(), vcpu->owner))
		kvm_set_current_run(NULL);
	if (kv->timer_ok)
		timer_delete(kv->timer);
	/* Kept for the next vCPU with this id (KVM vCPUs live as long as their VM). */
	pthread_mutex_lock(&k->lock);
	k->spare[vcpu->id] = (struct kvm_spare){.fd = kv->fd, .run = kv->run, .ran = kv->ran};
	pthread_mutex_unlock(&k->lock);
	free(kv);
	vcpu->backend = NULL;
}

/* hvx_vcpu_set_cpuid: the VMM's CPUID table (KVM answers CPUID in the kernel). Before the first run only. */
static hv_return_t kvm_vcpu_set_cpuid(struct hvx_vcpu *vcpu, const struct hvx_cpuid_entry *entries, unsigned count)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	if (kv->ran)
		return HV_BUSY;
	struct kvm_cpuid2 *c = calloc(1, sizeof *c + count * sizeof c->entries[0]);
	if (!c)
		return HV_NO_RESOURCES;
	c->nent = count;
	for (unsigned i = 0; i < count; i++) {
		c->entries[i].function = entries[i].function;
		c->entries[i].index = entries[i].index;
		c->entries[i].flags = entries[i].flags & HVX_CPUID_SIGNIFICANT_INDEX ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
		c->entries[i].eax = entries[i].eax;
		c->entries[i].ebx = entries[i].ebx;
		c->entries[i].ecx = entries[i].ecx;
		c->entries[i].edx = entries[i].edx;
	}
	int r = ioctl(kv->fd, KVM_SET_CPUID2, c);
	int err = errno;
	free(c);
	if (r < 0) {
		fprintf(stderr, "hvx kvm: KVM_SET_CPUID2 refused the table: %s\n", strerror(err));
		return err == E2BIG || err == ENOMEM ? HV_NO_RESOURCES : HV_BAD_ARGUMENT;
	}
	return HV_SUCCESS;
}

const struct hvx_backend_ops hvx_backend_kvm = {
	.name = "kvm",
	.description = "hardware virtualisation through /dev/kvm",
	.available = kvm_available,
	/* A software KVM (such as PVM) runs ring 0 slower than emu: auto picks kvm only on vmx/svm hosts. */
	.auto_ok = hvx_kvm_hardware_virtualisation,
	.caps = kvm_get_caps,
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.memmap_changed = kvm_memmap_changed,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_fetch = kvm_state_fetch,
	.vcpu_set_cpuid = kvm_vcpu_set_cpuid,
};
