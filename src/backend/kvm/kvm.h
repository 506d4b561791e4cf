/* kvm.h: private interface of the kvm backend: per-VM and per-vCPU data, state sync, instruction decoding, run loop. */
#ifndef HVX_BACKEND_KVM_H
#define HVX_BACKEND_KVM_H

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
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

/* The translation of one guest-linear range (inside one guest page and one memory-map region), kept with the
 * paging-structure entries the walk read (host address and value of each): a later read inside the range compares those
 * few words instead of walking the tables and searching the memory map again (kvm_decode.c). */
struct kvm_xlate {
	uint64_t gen;                  /* memory-map generation of the walk (its host addresses are valid while it
					* holds); 0: empty */
	uint64_t lo, size;             /* linear range [lo, lo + size), addresses as the walk was asked for */
	uint64_t cr3;
	uint8_t mode;                  /* the paging-mode bits the walk used (kvm_xlate_mode) */
	uint8_t count;                 /* entries read, at most 5 */
	uint8_t entry_size;            /* 4 (32-bit paging) or 8 */
	const uint8_t *host;           /* host address of lo (the region is mapped readable) */
	const uint8_t *entry[5];       /* host addresses of the entries, in walk order */
	uint64_t value[5];             /* the values they held */
};
#define KVM_XLATE_SLOTS 2              /* the ranges around the last exit RIPs (a window may straddle two) */

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
	bool state_checked;            /* the last entry passed the guest-state checks (kvm_vcpu_run says when again) */
	bool kvm_regs_valid;           /* run->s.regs.regs holds the registers KVM holds (after an exit, or as loaded) */
	struct kvm_sregs exit_sregs;
	bool sregs_converted;          /* the state's segment, control-register and descriptor-table fields are exit_sregs
					* converted (kvm_state_sregs_from_kvm) and have not been loaded into KVM since */
	struct kvm_xlate xlate[KVM_XLATE_SLOTS]; /* translations of the ranges around recent exit RIPs */
	unsigned xlate_next;           /* the slot the next new translation replaces */
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

/* KVM_RUN on this vCPU, never while the memory slots are being changed: returns with the VM's run_lock still held for
 * reading (errno kept), which the caller releases. While it is held no memory-map change can complete: each bumps the
 * map's generation and then takes run_lock for writing before it returns (kvm_memmap_changed), so host addresses
 * cached under an unchanged generation stay valid (kvm_guest_read_linear_cached). */
static inline int kvm_run_ioctl_held(struct hvx_vcpu *vcpu)
{
	struct kvm_vm *k = kvm_vm_of(vcpu->vm);
	pthread_rwlock_rdlock(&k->run_lock);
	int r = ioctl(kvm_vcpu_of(vcpu)->fd, KVM_RUN, 0);
	/* The caller releases the lock after the exit's first work: the kernel's work has evicted its line, and the
	 * locked release waits for it, so ask for it now. */
	__builtin_prefetch(&k->run_lock, 1);
	return r;
}

/* KVM_RUN, the run_lock released again (errno kept). */
static inline int kvm_run_ioctl(struct hvx_vcpu *vcpu)
{
	int r = kvm_run_ioctl_held(vcpu), err = errno;
	pthread_rwlock_unlock(&kvm_vm_of(vcpu->vm)->run_lock);
	errno = err;
	return r;
}

/* kvm_state.c: vcpu->state <-> KVM. The general registers are inline: they are converted at every exit. */
static inline void kvm_state_regs_to_kvm(const struct hvx_vcpu_state *s, struct kvm_regs *r)
{
	r->rax = s->gpr[HVX_RAX];
	r->rcx = s->gpr[HVX_RCX];
	r->rdx = s->gpr[HVX_RDX];
	r->rbx = s->gpr[HVX_RBX];
	r->rsp = s->gpr[HVX_RSP];
	r->rbp = s->gpr[HVX_RBP];
	r->rsi = s->gpr[HVX_RSI];
	r->rdi = s->gpr[HVX_RDI];
	r->r8 = s->gpr[HVX_R8];
	r->r9 = s->gpr[HVX_R9];
	r->r10 = s->gpr[HVX_R10];
	r->r11 = s->gpr[HVX_R11];
	r->r12 = s->gpr[HVX_R12];
	r->r13 = s->gpr[HVX_R13];
	r->r14 = s->gpr[HVX_R14];
	r->r15 = s->gpr[HVX_R15];
	r->rip = s->rip;
	r->rflags = s->rflags | 2;
}

static inline void kvm_state_regs_from_kvm(struct hvx_vcpu_state *s, const struct kvm_regs *r)
{
	s->gpr[HVX_RAX] = r->rax;
	s->gpr[HVX_RCX] = r->rcx;
	s->gpr[HVX_RDX] = r->rdx;
	s->gpr[HVX_RBX] = r->rbx;
	s->gpr[HVX_RSP] = r->rsp;
	s->gpr[HVX_RBP] = r->rbp;
	s->gpr[HVX_RSI] = r->rsi;
	s->gpr[HVX_RDI] = r->rdi;
	s->gpr[HVX_R8] = r->r8;
	s->gpr[HVX_R9] = r->r9;
	s->gpr[HVX_R10] = r->r10;
	s->gpr[HVX_R11] = r->r11;
	s->gpr[HVX_R12] = r->r12;
	s->gpr[HVX_R13] = r->r13;
	s->gpr[HVX_R14] = r->r14;
	s->gpr[HVX_R15] = r->r15;
	s->rip = r->rip;
	s->rflags = r->rflags;
}

/* Do two structures of whole 64-bit words differ? Branch-free, 16 bytes a step (no library call on the exit path). */
typedef uint64_t kvm_u64x2 __attribute__((vector_size(16)));
static inline bool kvm_words_differ(const void *a, const void *b, size_t size)
{
	const uint8_t *x = a, *y = b;
	kvm_u64x2 diff = {0, 0};
	size_t i = 0;
#pragma GCC unroll 32
	for (; i + 16 <= size; i += 16) {
		kvm_u64x2 u, v;
		memcpy(&u, x + i, 16);
		memcpy(&v, y + i, 16);
		diff |= u ^ v;
	}
	uint64_t rest = 0;
	if (i < size) { /* a last word */
		uint64_t u, v;
		memcpy(&u, x + i, 8);
		memcpy(&v, y + i, 8);
		rest = u ^ v;
	}
	return (diff[0] | diff[1] | rest) != 0;
}
_Static_assert(sizeof(struct kvm_regs) % 8 == 0 && sizeof(struct kvm_sregs) % 8 == 0, "compared as 64-bit words");

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
/* What a guest page walk depends on. */
struct kvm_cpu_mode {
	bool pg, pae, lma, la57;
	uint64_t cr3;
};
static inline void kvm_cpu_mode_of(const struct kvm_sregs *sr, struct kvm_cpu_mode *m)
{
	m->pg = (sr->cr0 >> 31) & 1;
	m->pae = (sr->cr4 >> 5) & 1;
	m->la57 = (sr->cr4 >> 12) & 1;
	m->lma = (sr->efer >> 10) & 1;
	m->cr3 = sr->cr3;
}
/* Translate a guest-linear address through the guest's page tables (read through the memory map). */
bool kvm_guest_translate(struct hvx_vm *vm, const struct kvm_cpu_mode *m, uint64_t lin, uint64_t *gpa);
/* Does the walk of lin stop at a paging-structure entry in memory that is not mapped readable? Its GPA then. */
bool kvm_guest_walk_fault(struct hvx_vm *vm, const struct kvm_cpu_mode *m, uint64_t lin, uint64_t *entry_gpa);
/* Read up to len bytes of guest-linear memory; returns how many bytes could be read. */
size_t kvm_guest_read_linear(struct hvx_vm *vm, const struct kvm_cpu_mode *m, uint64_t lin, void *dst, size_t len);
/* The paging-mode bits a walk depends on (PG, PAE, LMA, LA57). */
static inline uint8_t kvm_xlate_mode(const struct kvm_cpu_mode *m)
{
	return (uint8_t)(m->pg | m->pae << 1 | m->lma << 2 | m->la57 << 3);
}

/* Does the cached walk x still translate its range in mode m? The caller holds the memory map's lock and passes its
 * generation: an unchanged generation keeps every host address in x valid and mapped as it was. The walk's result
 * depends only on the mode bits, CR3 and the values of the entries it read, so equal values give the same translation
 * (a guest that rewrote an entry, even with the A or D bit, takes a new walk). */
static inline bool kvm_xlate_holds(const struct kvm_xlate *x, const struct kvm_cpu_mode *m, uint64_t gen)
{
	if (x->gen != gen || x->cr3 != m->cr3 || x->mode != kvm_xlate_mode(m))
		return false;
	uint64_t diff = 0;
	for (unsigned i = 0; i < x->count; i++) {
		uint64_t v;
		if (x->entry_size == 8) {
			memcpy(&v, x->entry[i], 8);
		} else {
			uint32_t w;
			memcpy(&w, x->entry[i], 4);
			v = w;
		}
		diff |= v ^ x->value[i];
	}
	return diff == 0;
}

/* kvm_guest_read_linear_cached's walks, the caller holding the memory map's lock (kvm_decode.c). */
size_t kvm_guest_read_linear_fill(struct hvx_vm *vm, struct kvm_xlate *xlate, unsigned *next,
				  const struct kvm_cpu_mode *m, uint64_t lin, void *dst, size_t len, uint64_t gen);

/* kvm_guest_read_linear through the vCPU's translation cache xlate[KVM_XLATE_SLOTS]: bytes inside a range whose cached
 * walk still holds are copied without walking (and without the memory map's lock: the caller holds the run_lock, see
 * kvm_run_ioctl_held); others are read by walking under the map's lock, and the walk is cached. The bytes and the count
 * are exactly those of kvm_guest_read_linear. Inline so that a constant len copies without a library call. */
static inline size_t kvm_guest_read_linear_cached(struct hvx_vm *vm, struct kvm_xlate *xlate, unsigned *next,
						  const struct kvm_cpu_mode *m, uint64_t lin, void *dst, size_t len)
{
	uint64_t gen = atomic_load_explicit(&vm->memmap.generation, memory_order_acquire);
	for (unsigned i = 0; i < KVM_XLATE_SLOTS; i++) {
		const struct kvm_xlate *x = &xlate[i];
		if (len <= x->size && lin - x->lo <= x->size - len && kvm_xlate_holds(x, m, gen)) {
			memcpy(dst, x->host + (lin - x->lo), len);
			return len;
		}
	}
	pthread_rwlock_rdlock(&vm->memmap.lock);
	gen = atomic_load_explicit(&vm->memmap.generation, memory_order_relaxed); /* changes under the write lock */
	size_t n = kvm_guest_read_linear_fill(vm, xlate, next, m, lin, dst, len, gen);
	pthread_rwlock_unlock(&vm->memmap.lock);
	return n;
}

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
