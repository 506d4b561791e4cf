/* kvm_state.c: the kvm backend's register file sync: VMCS guest fields and registers <-> KVM regs, sregs, MSRs, events, FPU, debug registers. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"

#define CR4_VMXE (1ull << 13)

/* VMX access rights (SDM 24.4.1) <-> struct kvm_segment. */
static void seg_to_kvm(const uint64_t *v, unsigned sel_slot, unsigned base_slot, unsigned limit_slot, unsigned ar_slot,
		       struct kvm_segment *k)
{
	uint32_t ar = (uint32_t)v[ar_slot];
	memset(k, 0, sizeof *k);
	k->selector = (uint16_t)v[sel_slot];
	k->base = v[base_slot];
	k->limit = (uint32_t)v[limit_slot];
	k->type = ar & 0xf;
	k->s = (ar >> 4) & 1;
	k->dpl = (ar >> 5) & 3;
	k->present = (ar >> 7) & 1;
	k->avl = (ar >> 12) & 1;
	k->l = (ar >> 13) & 1;
	k->db = (ar >> 14) & 1;
	k->g = (ar >> 15) & 1;
	k->unusable = (ar >> 16) & 1;
}

static void seg_from_kvm(uint64_t *v, unsigned sel_slot, unsigned base_slot, unsigned limit_slot, unsigned ar_slot,
			 const struct kvm_segment *k)
{
	v[sel_slot] = k->selector;
	v[base_slot] = k->base;
	v[limit_slot] = k->limit;
	/* A loaded code or data segment has its accessed bit set (the processor sets it when it loads the descriptor,
	 * and VM entry requires it: SDM 26.3.1.2); a software KVM (PVM) reports the type as the descriptor had it. */
	unsigned type = (k->type & 0xf) | (k->s && !k->unusable ? 1u : 0u);
	v[ar_slot] = (uint64_t)type | (uint64_t)(k->s & 1) << 4 | (uint64_t)(k->dpl & 3) << 5 |
		     (uint64_t)(k->present & 1) << 7 | (uint64_t)(k->avl & 1) << 12 | (uint64_t)(k->l & 1) << 13 |
		     (uint64_t)(k->db & 1) << 14 | (uint64_t)(k->g & 1) << 15 | (uint64_t)(k->unusable & 1) << 16;
}

#define SEGS(X) \
	X(es, ES) X(cs, CS) X(ss, SS) X(ds, DS) X(fs, FS) X(gs, GS) X(ldt, LDTR) X(tr, TR)

/* Fields of sr that the state does not hold (APIC base) are left as the caller filled them. */
void kvm_state_sregs_to_kvm(const struct hvx_vcpu_state *s, struct kvm_sregs *sr)
{
	const uint64_t *v = s->vmcs;
#define X(k, V) seg_to_kvm(v, HVX_SLOT_GUEST_##V, HVX_SLOT_GUEST_##V##_BASE, HVX_SLOT_GUEST_##V##_LIMIT, \
			   HVX_SLOT_GUEST_##V##_AR, &sr->k);
	SEGS(X)
#undef X
	sr->gdt.base = v[HVX_SLOT_GUEST_GDTR_BASE];
	sr->gdt.limit = (uint16_t)v[HVX_SLOT_GUEST_GDTR_LIMIT];
	sr->idt.base = v[HVX_SLOT_GUEST_IDTR_BASE];
	sr->idt.limit = (uint16_t)v[HVX_SLOT_GUEST_IDTR_LIMIT];
	memset(sr->gdt.padding, 0, sizeof sr->gdt.padding);
	memset(sr->idt.padding, 0, sizeof sr->idt.padding);
	sr->cr0 = v[HVX_SLOT_GUEST_CR0];
	sr->cr2 = s->cr2;
	sr->cr3 = v[HVX_SLOT_GUEST_CR3];
	sr->cr4 = v[HVX_SLOT_GUEST_CR4] & ~CR4_VMXE; /* VMX operation's CR4.VMXE is the framework's, not the guest's */
	sr->cr8 = (s->tpr >> 4) & 0xf;
	sr->efer = v[HVX_SLOT_GUEST_IA32_EFER];
	memset(sr->interrupt_bitmap, 0, sizeof sr->interrupt_bitmap);
}

void kvm_state_sregs_from_kvm(struct hvx_vcpu_state *s, const struct kvm_sregs *sr)
{
	uint64_t *v = s->vmcs;
#define X(k, V) seg_from_kvm(v, HVX_SLOT_GUEST_##V, HVX_SLOT_GUEST_##V##_BASE, HVX_SLOT_GUEST_##V##_LIMIT, \
			     HVX_SLOT_GUEST_##V##_AR, &sr->k);
	SEGS(X)
#undef X
	v[HVX_SLOT_GUEST_GDTR_BASE] = sr->gdt.base;
	v[HVX_SLOT_GUEST_GDTR_LIMIT] = sr->gdt.limit;
	v[HVX_SLOT_GUEST_IDTR_BASE] = sr->idt.base;
	v[HVX_SLOT_GUEST_IDTR_LIMIT] = sr->idt.limit;
	v[HVX_SLOT_GUEST_CR0] = sr->cr0;
	s->cr2 = sr->cr2;
	v[HVX_SLOT_GUEST_CR3] = sr->cr3;
	v[HVX_SLOT_GUEST_CR4] = sr->cr4 | (v[HVX_SLOT_GUEST_CR4] & CR4_VMXE);
	s->tpr = (sr->cr8 & 0xf) << 4 | (s->tpr & 0xf);
	v[HVX_SLOT_GUEST_IA32_EFER] = sr->efer;
}

/* MSRs other than EFER (in sregs) that the state holds, with their storage. */
static const struct {
	uint32_t msr;
	uint32_t offset;
} msr_map[] = {
	{0xc0000081, offsetof(struct hvx_vcpu_state, msr_star)},
	{0xc0000082, offsetof(struct hvx_vcpu_state, msr_lstar)},
	{0xc0000083, offsetof(struct hvx_vcpu_state, msr_cstar)},
	{0xc0000084, offsetof(struct hvx_vcpu_state, msr_fmask)},
	{0xc0000102, offsetof(struct hvx_vcpu_state, msr_kernel_gs_base)},
	{0x00000174, offsetof(struct hvx_vcpu_state, vmcs) + 8u * HVX_SLOT_GUEST_IA32_SYSENTER_CS},
	{0x00000175, offsetof(struct hvx_vcpu_state, vmcs) + 8u * HVX_SLOT_GUEST_SYSENTER_ESP},
	{0x00000176, offsetof(struct hvx_vcpu_state, vmcs) + 8u * HVX_SLOT_GUEST_SYSENTER_EIP},
	{0x00000277, offsetof(struct hvx_vcpu_state, vmcs) + 8u * HVX_SLOT_GUEST_IA32_PAT},
	{0xc0000103, offsetof(struct hvx_vcpu_state, msr_tsc_aux)},
};
#define MSR_COUNT (sizeof msr_map / sizeof msr_map[0])

/* struct kvm_msrs with room for the entries (its own flexible array cannot be embedded portably). */
struct msr_list {
	struct {
		uint32_t nmsrs, pad;
	} hdr;
	struct kvm_msr_entry e[MSR_COUNT];
};
_Static_assert(offsetof(struct msr_list, e) == offsetof(struct kvm_msrs, entries), "kvm_msrs layout");

int kvm_msr_one(int fd, bool write, uint32_t index, uint64_t *value)
{
	struct msr_list l;
	memset(&l, 0, sizeof l);
	l.hdr.nmsrs = 1;
	l.e[0].index = index;
	l.e[0].data = *value;
	int n = ioctl(fd, write ? KVM_SET_MSRS : KVM_GET_MSRS, &l);
	if (n == 1 && !write)
		*value = l.e[0].data;
	return n == 1 ? 0 : -1;
}

static void msrs_prepare(struct msr_list *l)
{
	memset(l, 0, sizeof *l);
	l->hdr.nmsrs = MSR_COUNT;
	for (unsigned i = 0; i < MSR_COUNT; i++)
		l->e[i].index = msr_map[i].msr;
}

/* Build the exception / interrupt / NMI / shadow part of KVM's events from the VMCS. */
static void events_to_kvm(const struct hvx_vcpu_state *s, struct kvm_vcpu_events *ev)
{
	uint32_t intr = (uint32_t)s->vmcs[HVX_SLOT_GUEST_INTERRUPTIBILITY];
	memset(ev, 0, sizeof *ev);
	ev->flags = KVM_VCPUEVENT_VALID_SHADOW;
	ev->interrupt.shadow = (uint8_t)((intr & 1 ? KVM_X86_SHADOW_INT_STI : 0) | (intr & 2 ? KVM_X86_SHADOW_INT_MOV_SS : 0));
	ev->nmi.masked = (intr >> 3) & 1;
}

__attribute__((hot)) bool kvm_state_load(struct hvx_vcpu *vcpu, uint32_t groups, const char **why, int *err)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct hvx_vcpu_state *s = &vcpu->state;
	struct kvm_run *run = kv->run;
	if (groups & (HVX_GROUP_GPR | HVX_GROUP_RIP_FLAGS)) {
		/* Registers KVM already holds are not set again (setting them costs KVM an event re-evaluation): after
		 * an exit KVM completed itself, the VMM's "RIP + length" is often exactly where KVM is. */
		struct kvm_regs r;
		kvm_state_regs_to_kvm(s, &r);
		if (!kv->kvm_regs_valid || kvm_words_differ(&r, &run->s.regs.regs, sizeof r)) {
			run->s.regs.regs = r;
			run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
			kv->kvm_regs_valid = true;
		}
	}
	if (groups & (HVX_GROUP_SEG | HVX_GROUP_CR | HVX_GROUP_DTABLE | HVX_GROUP_MSR | HVX_GROUP_OTHER)) {
		struct kvm_sregs *sr = &run->s.regs.sregs;
		sr->apic_base = kv->exit_sregs.apic_base;
		kvm_state_sregs_to_kvm(s, sr);
		run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		kv->sregs_converted = false; /* the next exit converts KVM's values, whatever they are */
		run->cr8 = sr->cr8; /* without an in-kernel APIC every KVM_RUN loads CR8 from kvm_run */
	}
	if (groups & HVX_GROUP_MSR) {
		struct msr_list l;
		msrs_prepare(&l);
		for (unsigned i = 0; i < MSR_COUNT; i++)
			l.e[i].data = *hvx_state_slot(s, msr_map[i].offset);
		/* KVM_SET_MSRS stops at the first MSR it refuses; an MSR the guest's CPUID lacks may stay at its reset 0. */
		unsigned done = 0;
		while (done < MSR_COUNT) {
			struct msr_list rest;
			memset(&rest, 0, sizeof rest);
			rest.hdr.nmsrs = MSR_COUNT - done;
			memcpy(rest.e, &l.e[done], rest.hdr.nmsrs * sizeof rest.e[0]);
			int n = ioctl(kv->fd, KVM_SET_MSRS, &rest);
			if (n < 0) {
				*why = "KVM_SET_MSRS failed";
				*err = errno;
				return false;
			}
			done += (unsigned)n;
			if (done < MSR_COUNT) {
				if (l.e[done].data != 0) {
					*why = "KVM refused a guest MSR value";
					*err = EINVAL;
					return false;
				}
				done++;
			}
		}
	}
	if (groups & HVX_GROUP_DR) {
		struct kvm_debugregs d;
		memset(&d, 0, sizeof d);
		for (unsigned i = 0; i < 4; i++)
			d.db[i] = s->dr[i];
		d.dr6 = s->dr[6];
		d.dr7 = s->vmcs[HVX_SLOT_GUEST_DR7];
		if (ioctl(kv->fd, KVM_SET_DEBUGREGS, &d) < 0) {
			*why = "KVM_SET_DEBUGREGS failed";
			*err = errno;
			return false;
		}
	}
	if (groups & HVX_GROUP_FPU) {
		struct kvm_xcrs x;
		memset(&x, 0, sizeof x);
		x.nr_xcrs = 1;
		x.xcrs[0].xcr = 0;
		x.xcrs[0].value = s->xcr0;
		if (ioctl(kv->fd, KVM_SET_XCRS, &x) < 0) {
			*why = "KVM_SET_XCRS refused XCR0";
			*err = errno;
			return false;
		}
		_Static_assert(sizeof(struct kvm_xsave) == HVX_FPSTATE_SIZE, "fpstate is KVM's XSAVE image");
		if (ioctl(kv->fd, KVM_SET_XSAVE, s->fpstate) < 0) {
			*why = "KVM_SET_XSAVE refused the fpstate image";
			*err = errno;
			return false;
		}
	}
	if (groups & HVX_GROUP_EVENT) {
		struct kvm_vcpu_events ev;
		events_to_kvm(s, &ev);
		if (ioctl(kv->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
			*why = "KVM_SET_VCPU_EVENTS failed";
			*err = errno;
			return false;
		}
	}
	return true;
}

void kvm_state_fetch(struct hvx_vcpu *vcpu, uint32_t groups)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct hvx_vcpu_state *s = &vcpu->state;
	if (groups & HVX_GROUP_MSR) {
		struct msr_list l;
		msrs_prepare(&l);
		/* KVM stops at the first MSR it cannot read (one the guest's CPUID lacks): take the others one by one. */
		int n = ioctl(kv->fd, KVM_GET_MSRS, &l);
		for (unsigned i = 0; i < MSR_COUNT; i++) {
			uint64_t val = l.e[i].data;
			if ((int)i < n || kvm_msr_one(kv->fd, false, msr_map[i].msr, &val) == 0)
				*hvx_state_slot(s, msr_map[i].offset) = val;
		}
	}
	if (groups & HVX_GROUP_DR) {
		struct kvm_debugregs d;
		if (ioctl(kv->fd, KVM_GET_DEBUGREGS, &d) == 0) {
			for (unsigned i = 0; i < 4; i++)
				s->dr[i] = d.db[i];
			s->dr[6] = d.dr6;
			s->vmcs[HVX_SLOT_GUEST_DR7] = d.dr7;
		}
	}
	if (groups & HVX_GROUP_FPU) {
		struct kvm_xcrs x;
		if (ioctl(kv->fd, KVM_GET_XCRS, &x) == 0)
			for (unsigned i = 0; i < x.nr_xcrs; i++)
				if (x.xcrs[i].xcr == 0)
					s->xcr0 = x.xcrs[i].value;
		ioctl(kv->fd, KVM_GET_XSAVE, s->fpstate);
	}
	if (groups & HVX_GROUP_EVENT) {
		struct kvm_vcpu_events ev;
		if (ioctl(kv->fd, KVM_GET_VCPU_EVENTS, &ev) == 0) {
			uint64_t intr = s->vmcs[HVX_SLOT_GUEST_INTERRUPTIBILITY] & ~0xbull;
			if (ev.interrupt.shadow & KVM_X86_SHADOW_INT_STI)
				intr |= 1;
			if (ev.interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS)
				intr |= 2;
			if (ev.nmi.masked)
				intr |= 8;
			s->vmcs[HVX_SLOT_GUEST_INTERRUPTIBILITY] = intr;
		}
	}
}
