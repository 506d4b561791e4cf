/* kvm.h: private interface of the kvm backend: per-VM and per-vCPU data, state sync, instruction decoding, run loop. */
#ifndef HVX_BACKEND_KVM_H
#define HVX_BACKEND_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/backend.h"
#include "core/vm.h"

/* One KVM memory slot: a page range of one memmap region with the permission KVM can express. */
struct kvm_slot {
	uint32_t id;
	uint64_t gpa, size;
	uint8_t *hva;
	bool readonly;
};

/* A KVM vCPU whose hvx vCPU was destroyed (KVM vCPUs cannot be): reused by the next vCPU with the same id. */
struct kvm_spare {
	int fd;
	struct kvm_run *run;  /* NULL: none */
	bool ran;
};

struct kvm_vm {
	int kvm_fd, vm_fd;
	int run_size;                  /* mmap size of struct kvm_run */
	struct kvm_cpuid2 *cpuid;      /* default CPUID table given to new vCPUs (KVM_GET_SUPPORTED_CPUID) */
	pthread_mutex_t lock;          /* slots, filter */
	pthread_rwlock_t run_lock;     /* held for reading around KVM_RUN, for writing while slots change (writers first) */
	struct kvm_slot *slots;
	unsigned slot_count, slot_capacity;
	uint32_t next_slot_id;
	uint32_t *free_ids;
	unsigned free_count, free_capacity;
	_Atomic uint32_t filter_native; /* native-MSR bits the VM-wide filter currently lets through */
	bool filter_set;
	struct kvm_spare spare[HVX_VCPU_MAX];
	bool hardware;                 /* the host CPU has vmx/svm (not a software KVM such as PVM) */
	int out_mode;                  /* OUT exits: 0 not known yet, 1 RIP at the instruction (completed later), 2 RIP after it */
};

/* What KVM still owes the guest from the last exit (see kvm_run.c, "completing KVM's pending operations"). */
enum kvm_pending {
	KVM_PENDING_NONE,
	KVM_PENDING_FAST_PIO, /* IN/OUT: KVM completes it at the next KVM_RUN unless the linear RIP changed */
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	timer_t timer;                 /* per-vCPU deadline timer, signals the owner thread */
	bool timer_ok;
	uint64_t armed_deadline;       /* deadline the timer is armed for (kept armed between runs), 0 none */
	uint64_t tsc_khz;              /* KVM's guest TSC rate, for the preemption timer (0: not read yet) */
	bool ran;                      /* KVM_RUN has been called (CPUID is then fixed) */
	enum kvm_pending pending;
	uint64_t pending_lin_rip;      /* linear RIP of the instruction whose completion is pending */
	uint64_t applied_tsc_offset;   /* TSC offset last written to KVM */
	bool tsc_applied;
	uint32_t guest_debug;          /* KVM_SET_GUEST_DEBUG flags last set */
	bool guest_debug_set;
	struct kvm_regs exit_regs;     /* registers at the last exit, as the client sees them */
	struct kvm_regs kvm_regs;      /* registers KVM holds (valid if kvm_regs_valid) */
	bool kvm_regs_valid;
	struct kvm_sregs exit_sregs;
};

static inline struct kvm_vm *kvm_vm_of(struct hvx_vm *vm) { return vm->backend_data; }
static inline struct kvm_vcpu *kvm_vcpu_of(struct hvx_vcpu *v) { return v->backend; }

/* The signal that kicks a vCPU thread out of KVM_RUN (its handler only sets immediate_exit). */
int kvm_kick_signal(void);

/* kvm_backend.c */
bool hvx_kvm_hardware_virtualisation(void);
void kvm_set_current_run(struct kvm_run *run);   /* the kvm_run the kick handler marks on this thread */
void kvm_msr_filter_update(struct hvx_vm *vm);  /* re-derive the VM-wide MSR filter from the vCPUs' native MSRs */
uint32_t kvm_msr_filter_native(struct hvx_vm *vm);

/* KVM_RUN on this vCPU, never while the memory slots are being changed. */
int kvm_run_ioctl(struct hvx_vcpu *vcpu);

/* kvm_state.c: vcpu->state <-> KVM. */
void kvm_state_regs_to_kvm(const struct hvx_vcpu_state *s, struct kvm_regs *r);
void kvm_state_regs_from_kvm(struct hvx_vcpu_state *s, const struct kvm_regs *r);
void kvm_state_sregs_to_kvm(const struct hvx_vcpu_state *s, struct kvm_sregs *sr);
void kvm_state_sregs_from_kvm(struct hvx_vcpu_state *s, const struct kvm_sregs *sr);
/* Load the dirty groups into KVM (regs/sregs through sync_regs where possible). false + *why on an ioctl failure. */
bool kvm_state_load(struct hvx_vcpu *vcpu, uint32_t groups, const char **why, int *err);
/* Bring groups held in KVM back (the vcpu_fetch op). */
void kvm_state_fetch(struct hvx_vcpu *vcpu, uint32_t groups);
/* KVM_GET_MSRS / KVM_SET_MSRS of one MSR; 0 on success. */
int kvm_msr_one(int fd, bool write, uint32_t index, uint64_t *value);
/* Groups the exit path leaves in KVM and fetches lazily. */
#define KVM_LAZY_GROUPS (HVX_GROUP_DR | HVX_GROUP_MSR | HVX_GROUP_EVENT | HVX_GROUP_FPU)

/* kvm_decode.c: guest-linear reads and the decoding the exits need. */
struct kvm_cpu_mode {
	bool pg, pae, lma, la57, cs_l, cs_d, wp, nxe, smap, smep;
	unsigned cpl;
	uint64_t cr3;
};
void kvm_cpu_mode_of(const struct kvm_sregs *sr, struct kvm_cpu_mode *m);
/* Translate a guest-linear address through the guest's page tables (read through the memory map). */
bool kvm_guest_translate(struct hvx_vm *vm, const struct kvm_cpu_mode *m, uint64_t lin, uint64_t *gpa);
/* Does the walk of lin stop at a paging-structure entry in memory that is not mapped readable? Its GPA then. */
bool kvm_guest_walk_fault(struct hvx_vm *vm, const struct kvm_cpu_mode *m, uint64_t lin, uint64_t *entry_gpa);
/* Read up to len bytes of guest-linear memory; returns how many bytes could be read. */
size_t kvm_guest_read_linear(struct hvx_vm *vm, const struct kvm_cpu_mode *m, uint64_t lin, void *dst, size_t len);

struct kvm_insn {
	unsigned len;             /* total length with prefixes */
	unsigned opsize;          /* operand size in bytes (2, 4, 8) */
	unsigned addrsize;        /* address size in bytes (2, 4, 8) */
	int seg;                  /* segment override (0 ES .. 5 GS), -1 none */
	bool rep, repne, lock;
	bool p66;                 /* operand-size prefix present (selects SSE forms of 0F opcodes) */
	uint8_t rex;
	unsigned map;             /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A */
	uint8_t opcode;
	bool has_modrm;
	uint8_t modrm;
	bool mem;                 /* ModRM names memory */
	uint64_t ea;              /* effective address (offset in segment) of the memory operand, if mem */
	int ea_seg;               /* segment of the memory operand */
	bool rmw;                 /* the memory operand is read and written */
};
/* Decode the instruction at bytes[0..n) in the given mode; regs give the effective address. false if undecodable. */
bool kvm_decode(const uint8_t *bytes, size_t n, bool long64, bool def32, const struct kvm_regs *regs,
		struct kvm_insn *out);

/* kvm_run.c */
hv_return_t kvm_vcpu_run(struct hvx_vcpu *vcpu, uint64_t deadline, struct hvx_exit *exit);

#endif
