/* kvm_run.c: the kvm backend's run loop: controls -> KVM settings, entry, KVM exits -> Intel-exact VM exits, deadlines and kicks. */
#include <errno.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/clock.h"
#include "core/guest_state.h"
#include "kvm.h"

/*
 * Completing KVM's pending operations (docs/kvm.md). Apple's exits are fault-like: RIP is at the instruction and
 * the VMM writes the results and RIP + length itself. KVM instead expects user space to provide the data and re-enter,
 * and then completes the instruction. Three cases:
 *  - IN/OUT (not string): left pending. At the next entry, if the VMM moved RIP to exactly RIP + length (the normal
 *    case) KVM's completion is made to produce the VMM's values (IN: the data area holds the VMM's RAX bytes); KVM's
 *    fast path cancels the completion anyway when the linear RIP changed. Otherwise it is drained first (below).
 *  - INS/OUTS, MMIO, RDMSR/WRMSR: drained at exit: KVM_RUN with immediate_exit completes the operation with harmless
 *    data (an INS writes back the bytes already in guest memory, REP counts are cut to the current batch), and the
 *    exit-time registers (and events, segment state for MMIO) are loaded again at the next entry.
 */

#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_RF (1ull << 16)
#define EFER_LMA (1ull << 10)
#define ENTRY_IA32E (1u << 9)
#define EPT_READ 1u
#define EPT_WRITE 2u
#define EPT_FETCH 4u
#define EPT_GLA_VALID (1u << 7)
#define EPT_GLA_FINAL (1u << 8)
#define DR6_BS (1u << 14)
#define KVM_WINDOW_STEPS 64 /* instructions single-stepped per run waiting for an interrupt window (software KVM) */

/* The handlers of exits other than I/O and the rare paths are cold (out of line, apart from the hot code), and the
 * functions of an I/O exit round trip (the run loop, decoding, state load, and the API calls a client makes per exit)
 * are hot, which places them together: the round trip, run with caches the kernel's work has cooled, then touches
 * fewer code lines and pages (measured on PVM: about 15 % less user-space time per exit). */
static __attribute__((cold)) void fail_msg(struct hvx_vcpu *vcpu, const char *what, int err)
{
	fprintf(stderr, "hvx kvm: vCPU %u: %s%s%s\n", vcpu->id, what, err ? ": " : "", err ? strerror(err) : "");
}

static bool long64(const struct kvm_sregs *sr)
{
	return (sr->efer & EFER_LMA) && sr->cs.l;
}

static uint64_t linear_rip(const struct kvm_regs *r, const struct kvm_sregs *sr)
{
	return long64(sr) ? r->rip : (uint32_t)(sr->cs.base + r->rip);
}

static const struct kvm_segment *seg_by_index(const struct kvm_sregs *sr, int i)
{
	const struct kvm_segment *t[6] = {&sr->es, &sr->cs, &sr->ss, &sr->ds, &sr->fs, &sr->gs};
	return t[i < 0 || i > 5 ? 3 : i];
}

/* Linear address of seg:offset (offset masked to the address size; segment bases ignored in 64-bit mode but FS/GS). */
static uint64_t linear_of(const struct kvm_sregs *sr, int seg, uint64_t off, unsigned addrsize)
{
	if (addrsize == 2)
		off &= 0xffff;
	else if (addrsize == 4)
		off &= 0xffffffffull;
	if (long64(sr))
		return (seg == 4 || seg == 5) ? seg_by_index(sr, seg)->base + off : off;
	return (uint32_t)(seg_by_index(sr, seg)->base + off);
}

/* Instruction at the exit RIP, decoded. */
/* Bytes around the exit RIP: 15 before it and 15 from it, read with one page walk where they are readable. */
struct rip_window {
	uint8_t b[30];
	size_t before, after; /* readable bytes before RIP (ending at b[15]) and from RIP (starting at b[15]) */
};

static void read_window(struct hvx_vcpu *vcpu, const struct kvm_regs *r, const struct kvm_sregs *sr,
			struct rip_window *w) /* the caller holds the run_lock for reading (kvm_run_ioctl_held) */
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct kvm_cpu_mode m;
	kvm_cpu_mode_of(sr, &m);
	uint64_t lin = linear_rip(r, sr);
	if (kvm_guest_read_linear_cached(vcpu->vm, kv->xlate, &kv->xlate_next, &m, lin - 15, w->b, 30) == 30) {
		w->before = w->after = 15;
		return;
	}
	w->after = kvm_guest_read_linear(vcpu->vm, &m, lin, w->b + 15, 15);
	w->before = 0;
	for (size_t want = 15; want >= 1 && !w->before; want = want > 4 ? 4 : want - 1)
		if (kvm_guest_read_linear(vcpu->vm, &m, lin - want, w->b + 15 - want, want) == want)
			w->before = want;
}

/* Instruction at the exit RIP, decoded. */
static __attribute__((cold)) bool decode_at_rip(struct hvx_vcpu *vcpu, const struct kvm_regs *r,
						const struct kvm_sregs *sr, struct kvm_insn *d)
{
	struct kvm_cpu_mode m;
	kvm_cpu_mode_of(sr, &m);
	uint8_t bytes[15];
	size_t n = kvm_guest_read_linear(vcpu->vm, &m, linear_rip(r, sr), bytes, sizeof bytes);
	return n && kvm_decode(bytes, n, long64(sr), sr->cs.db, r, d);
}

/* Run KVM_RUN with immediate_exit until KVM has no pending user-space completion; fill each request harmlessly. */
static __attribute__((cold)) bool drain(struct hvx_vcpu *vcpu)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct kvm_run *run = kv->run;
	uint32_t valid = (uint32_t)run->kvm_valid_regs;
	run->kvm_valid_regs = 0;
	bool ok = false;
	for (unsigned round = 0; round < 64; round++) {
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN) {
			/* An INS completion writes the data area to ES:rDI: give it the bytes already there. */
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			size_t len = (size_t)run->io.size * run->io.count;
			memset(data, 0, len);
			{
				const struct kvm_regs *r = &kv->exit_regs;
				struct kvm_cpu_mode m;
				kvm_cpu_mode_of(&kv->exit_sregs, &m);
				uint64_t start = r->rdi;
				if (r->rflags & RFLAGS_DF)
					start -= (uint64_t)run->io.size * (run->io.count - 1);
				kvm_guest_read_linear(vcpu->vm, &m, linear_of(&kv->exit_sregs, 0, start, 8), data, len);
			}
		} else if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write) {
			memset(run->mmio.data, 0, sizeof run->mmio.data);
		} else if (run->exit_reason == KVM_EXIT_X86_RDMSR || run->exit_reason == KVM_EXIT_X86_WRMSR) {
			run->msr.error = 0;
			run->msr.data = 0;
		}
		run->immediate_exit = 1;
		int r = kvm_run_ioctl(vcpu);
		run->immediate_exit = 0;
		run->kvm_dirty_regs = 0;
		if (r < 0 && errno == EINTR) {
			ok = true;
			break;
		}
		if (r < 0)
			break;
	}
	run->kvm_valid_regs = valid;
	kv->pending = KVM_PENDING_NONE;
	kv->kvm_regs_valid = false; /* KVM holds post-completion registers we have not seen */
	if (!ok)
		fail_msg(vcpu, "could not complete KVM's pending operation", errno);
	/* KVM now holds post-completion registers; the client's (exit-time) values go back at the next entry. */
	vcpu->dirty |= HVX_GROUP_GPR | HVX_GROUP_RIP_FLAGS;
	return ok;
}

/* Drain with the REP count cut to the current batch, and KVM's events (and segment state) put back afterwards. */
static __attribute__((cold)) bool drain_restoring(struct hvx_vcpu *vcpu, bool rep_batch, uint32_t batch, bool sregs)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct kvm_vcpu_events ev;
	bool have_ev = ioctl(kv->fd, KVM_GET_VCPU_EVENTS, &ev) == 0;
	if (rep_batch) {
		kv->run->s.regs.regs = kv->exit_regs;
		kv->run->s.regs.regs.rcx = batch;
		kv->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	}
	bool ok = drain(vcpu);
	if (have_ev) {
		ev.flags &= KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_NMI_PENDING;
		ioctl(kv->fd, KVM_SET_VCPU_EVENTS, &ev);
	}
	if (sregs)
		vcpu->dirty |= HVX_GROUP_SEG | HVX_GROUP_CR | HVX_GROUP_DTABLE;
	return ok;
}

/* ---- exit translation ---- */

static uint32_t perms_of(struct hvx_vm *vm, uint64_t gpa, bool *mapped)
{
	uint8_t *page;
	uint32_t perms = 0;
	*mapped = hvx_memmap_translate(&vm->memmap, HV_VM_SPACE_DEFAULT, gpa, &page, &perms);
	return *mapped ? perms : 0;
}

static bool is_string_op(const struct kvm_insn *d)
{
	return d->map == 0 && ((d->opcode >= 0xa4 && d->opcode <= 0xa7) || (d->opcode >= 0xaa && d->opcode <= 0xaf) ||
			       (d->opcode >= 0x6c && d->opcode <= 0x6f));
}

/* Can an instruction starting with byte b be IN/OUT/INS/OUTS? Not unless b is one of them, a legacy prefix or a REX
 * prefix (40-4f, let through in every mode): any other first byte is the opcode or an escape to another map. Saves the
 * decode at RIP after an OUT that KVM completed (RIP is then at the next instruction, rarely an I/O one). */
static bool may_be_io(uint8_t b)
{
	return (b >= 0x6c && b <= 0x6f) || (b >= 0xe4 && b <= 0xe7) || (b >= 0xec && b <= 0xef) || (b & 0xf0) == 0x40 ||
	       b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65 || b == 0x66 || b == 0x67 ||
	       b == 0xf0 || b == 0xf2 || b == 0xf3;
}

/* Does d (decoded at some RIP) look like the instruction KVM reports in run->io? */
__attribute__((hot)) static bool io_matches(const struct kvm_insn *d, const struct kvm_run *run, const struct kvm_regs *r)
{
	if (d->map != 0)
		return false;
	uint8_t o = d->opcode;
	bool in = run->io.direction == KVM_EXIT_IO_IN;
	unsigned size = (o & 1) ? (d->opsize == 2 ? 2 : 4) : 1;
	if (size != run->io.size)
		return false;
	if (o >= 0x6c && o <= 0x6f)
		return in == (o <= 0x6d) && (uint16_t)r->rdx == run->io.port;
	if (o >= 0xe4 && o <= 0xe7)
		return in == (o <= 0xe5);
	if (o >= 0xec && o <= 0xef)
		return in == (o <= 0xed) && (uint16_t)r->rdx == run->io.port;
	return false;
}

/* The instruction that ends at RIP (KVM completed it before exiting): the shortest decodable match, for INS/OUTS with
 * the segment, REP and address-size prefixes in front of it (they change no size). IN/OUT are not extended: those
 * prefixes mean nothing to them, so a byte before them that looks like one (an immediate or displacement of the
 * previous instruction, e.g. 3e e6 80) is taken to be the previous instruction's. */
static bool decode_before_rip(struct hvx_vcpu *vcpu, const struct rip_window *w, const struct kvm_regs *r,
			      const struct kvm_sregs *sr, struct kvm_insn *d)
{
	const uint8_t *end = w->b + 15;
	const struct kvm_run *run = kvm_vcpu_of(vcpu)->run;
	for (unsigned l = 1; l <= w->before; l++) {
		if (!kvm_decode(end - l, l, long64(sr), sr->cs.db, r, d) || d->len != l || !io_matches(d, run, r))
			continue;
		while (l < w->before && d->opcode >= 0x6c && d->opcode <= 0x6f) {
			uint8_t p = end[-(int)l - 1];
			struct kvm_insn longer;
			bool prefix = p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 || p == 0x65 ||
				      p == 0xf2 || p == 0xf3 || p == 0x67;
			if (!prefix || !kvm_decode(end - l - 1, l + 1, long64(sr), sr->cs.db, r, &longer) ||
			    longer.len != l + 1 || !io_matches(&longer, run, r))
				break;
			*d = longer;
			l++;
		}
		return true;
	}
	return false;
}

/*
 * Where KVM leaves RIP at an OUT exit: its fast path (VMX, SVM) stops at the instruction and completes it at the next
 * KVM_RUN; its instruction emulator (PVM, and INS/OUTS everywhere) has already executed an OUT (one OUTS iteration)
 * when it exits. The first ambiguous OUT exit tells which, by completing it with immediate_exit and looking at RIP.
 */
static __attribute__((cold)) bool out_completes_later(struct hvx_vcpu *vcpu, const struct kvm_insn *at, bool at_ok)
{
	struct kvm_vm *k = kvm_vm_of(vcpu->vm);
	if (k->out_mode)
		return k->out_mode == 1;
	if (!at_ok) {
		k->out_mode = 2;
		return false;
	}
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	drain(vcpu);
	struct kvm_regs now;
	if (ioctl(kv->fd, KVM_GET_REGS, &now) < 0)
		return true;
	k->out_mode = now.rip != kv->exit_regs.rip ? 1 : 2;
	(void)at;
	return k->out_mode == 1;
}

/* I/O instruction: qualification, length, and for INS/OUTS the linear address and instruction information. */
static bool exit_io(struct hvx_vcpu *vcpu, struct hvx_exit *e, const struct rip_window *wp)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct kvm_run *run = kv->run;
	struct kvm_regs *r = &kv->exit_regs;
	const struct kvm_sregs *sr = &kv->exit_sregs;
	struct hvx_vcpu_state *s = &vcpu->state;
	struct kvm_insn d;
	bool in = run->io.direction == KVM_EXIT_IO_IN;
	const struct rip_window w = *wp; /* read right after KVM_RUN, under its run_lock */
	bool at_ok = w.after && may_be_io(w.b[15]) && kvm_decode(w.b + 15, w.after, long64(sr), sr->cs.db, r, &d) &&
		     io_matches(&d, run, r);
	bool drained = false;
	if (!in) {
		bool string_at = at_ok && d.opcode >= 0x6e && d.opcode <= 0x6f;
		if (at_ok && !string_at && kvm_vm_of(vcpu->vm)->out_mode == 0) {
			bool later = out_completes_later(vcpu, &d, at_ok);
			drained = true; /* the probe completed it */
			(void)later;
		}
		bool done = false; /* KVM executed (one iteration of) the OUT before exiting */
		if (string_at) {
			/* REP OUTS with iterations left stays at the instruction, one iteration done. */
			done = (d.rep || d.repne);
		} else if (!at_ok || !out_completes_later(vcpu, &d, at_ok)) {
			if (!decode_before_rip(vcpu, &w, r, sr, &d)) {
				fail_msg(vcpu, "I/O exit: the OUT instruction before RIP could not be decoded", 0);
				return false;
			}
			done = true;
			r->rip -= d.len;
		}
		if (done) {
			bool string = d.opcode >= 0x6e && d.opcode <= 0x6f;
			if (string) {
				uint64_t step = run->io.size;
				r->rsi = (r->rflags & RFLAGS_DF) ? r->rsi + step : r->rsi - step;
				if (d.rep || d.repne)
					r->rcx += 1;
			}
			kvm_state_regs_from_kvm(s, r);
			vcpu->dirty |= HVX_GROUP_GPR | HVX_GROUP_RIP_FLAGS;
			drained = true; /* nothing is pending in KVM */
		}
		at_ok = true;
	} else if (!at_ok) {
		fail_msg(vcpu, "I/O exit: the instruction bytes could not be read or decoded", 0);
		return false;
	}
	uint8_t o = d.opcode;
	bool string = (o >= 0x6c && o <= 0x6f), imm = o >= 0xe4 && o <= 0xe7, rep = string && (d.rep || d.repne);
	if (string) {
		e->guest_linear = in ? linear_of(sr, 0, r->rdi, d.addrsize)
				     : linear_of(sr, d.seg >= 0 ? d.seg : 3, r->rsi, d.addrsize);
		e->instr_info = (d.addrsize == 2 ? 0u : d.addrsize == 4 ? 1u : 2u) << 7 |
				(uint32_t)(in ? 0 : (d.seg >= 0 ? d.seg : 3)) << 15;
	}
	e->reason = VMX_REASON_IO;
	e->qualification = (uint64_t)(run->io.size - 1) | (uint64_t)in << 3 | (uint64_t)string << 4 |
			   (uint64_t)rep << 5 | (uint64_t)imm << 6 | (uint64_t)run->io.port << 16;
	e->instr_len = d.len;
	if (drained) {
		kv->pending = KVM_PENDING_NONE;
		return true;
	}
	if (string)
		return drain_restoring(vcpu, rep, run->io.count, false);
	kv->pending = KVM_PENDING_FAST_PIO;
	kv->pending_lin_rip = linear_rip(r, sr);
	return true;
}

/* For a MOV store from a register (88, 89) decoded before RIP: does the register hold the data KVM reports for the
 * write? -1 for other instructions. Tells 40 88 71 10 (SIL) from 88 71 10 (DH) and 48 89 .. from 89 ... */
static int store_data_matches(const struct kvm_insn *d, const struct kvm_regs *r, const struct kvm_run *run)
{
	if (d->map != 0 || (d->opcode != 0x88 && d->opcode != 0x89) || !d->has_modrm)
		return -1;
	const uint64_t gpr[16] = {r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				  r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15};
	unsigned reg = ((d->modrm >> 3) & 7) | ((d->rex & 4) << 1), size = d->opcode == 0x88 ? 1 : d->opsize;
	uint64_t v = d->opcode == 0x88 && !d->rex && reg >= 4 ? gpr[reg - 4] >> 8 : gpr[reg], data = 0;
	if (size != run->mmio.len || size > sizeof data)
		return 0;
	memcpy(&data, run->mmio.data, size);
	return (size == 8 ? v : v & ((1ull << (8 * size)) - 1)) == data;
}

/*
 * The same for a store from a vector register (MOVUPS/MOVAPS/MOVNTPS 0F 11/29/2B, MOVLPS/MOVHPS 0F 13/17, MOVDQA/MOVDQU
 * 66/F3 0F 7F, MOVQ 66 0F D6, MOVD/MOVQ 66 0F 7E, MOVNTDQ 66 0F E7, and the MMX forms of 0F 7E/7F/E7): do the first
 * bytes of its register hold the first fragment KVM writes? Tells 66 0F 7F (XMM) from 0F 7F (MMX) and 0F 11 (MOVUPS)
 * from 11 .. (ADC). 1: matches, 2: an MMX form matches, 0: no, -1: not such a store. The vector state is read once
 * per exit (*fpu_state: 0 not read, 1 read, -1 unreadable).
 */
static int vector_store_matches(struct kvm_vcpu *kv, const struct kvm_insn *d, const struct kvm_run *run,
				struct kvm_fpu *fpu, int *fpu_state)
{
	if (d->map != 1 || !d->has_modrm || d->repne || run->mmio.len > 8)
		return -1;
	bool xmm;
	switch (d->opcode) {
	case 0x11: case 0x29: case 0x2b: case 0x13: case 0x17: xmm = true; break;
	case 0xd6: if (!d->p66) return -1; xmm = true; break;
	case 0x7f: xmm = d->p66 || d->rep; break;
	case 0x7e: case 0xe7: if (d->rep) return -1; xmm = d->p66; break;
	default: return -1;
	}
	if (*fpu_state == 0)
		*fpu_state = ioctl(kv->fd, KVM_GET_FPU, fpu) == 0 ? 1 : -1;
	if (*fpu_state < 0)
		return -1;
	const uint8_t *src = xmm ? fpu->xmm[((d->modrm >> 3) & 7) | ((d->rex & 4) << 1)] : fpu->fpr[(d->modrm >> 3) & 7];
	if (d->opcode == 0x17)
		src += 8; /* MOVHPS/MOVHPD store the high quadword */
	if (memcmp(src, run->mmio.data, run->mmio.len))
		return 0;
	return xmm ? 1 : 2; /* an MMX match is weak: a longer SSE form (66 / F3 prefix) with the same data wins */
}

/* MMIO: a spurious one (the map allows the access: a slot was being replaced) is completed here; else EPT violation. */
static __attribute__((cold)) int exit_mmio(struct hvx_vcpu *vcpu, struct hvx_exit *e)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct kvm_run *run = kv->run;
	uint64_t gpa = run->mmio.phys_addr;
	bool write = run->mmio.is_write, mapped;
	uint32_t perms = perms_of(vcpu->vm, gpa, &mapped);
	if (mapped && (perms & (write ? HV_MEMORY_WRITE : HV_MEMORY_READ)) &&
	    (gpa & HVX_PAGE_MASK) + run->mmio.len <= HVX_PAGE_SIZE) {
		bool ok = write ? hvx_memmap_write(&vcpu->vm->memmap, HV_VM_SPACE_DEFAULT, gpa, run->mmio.data, run->mmio.len)
				: hvx_memmap_read(&vcpu->vm->memmap, HV_VM_SPACE_DEFAULT, gpa, run->mmio.data, run->mmio.len);
		if (ok)
			return 0; /* re-enter: KVM completes the access */
	}
	struct kvm_regs *r = &kv->exit_regs;
	const struct kvm_sregs *sr = &kv->exit_sregs;
	struct kvm_insn d;
	bool decoded = decode_at_rip(vcpu, r, sr, &d);
	if (write && decoded && d.map == 0 && (d.rep || d.repne) && (d.opcode == 0xaa || d.opcode == 0xab || d.opcode == 0xa4 || d.opcode == 0xa5)) {
		/* A REP STOS/MOVS with iterations left stays at the instruction with one iteration retired: undo it. */
		uint64_t step = (d.opcode & 1) ? d.opsize : 1;
		bool down = r->rflags & RFLAGS_DF;
		r->rdi = down ? r->rdi + step : r->rdi - step;
		if (d.opcode <= 0xa5)
			r->rsi = down ? r->rsi + step : r->rsi - step;
		r->rcx += 1;
		kvm_state_regs_from_kvm(&vcpu->state, r);
	} else if (write) {
		/* KVM's emulator exits for an MMIO write after the instruction retired: find it before RIP (its memory
		 * operand must land on the faulting GPA's page offset) and move RIP back to it. The shortest match can
		 * be the instruction without its prefixes (89 59 08 inside 48 89 59 08): a longer match is preferred
		 * whose source register holds the written data (MOV) or whose operand size is the write's size. */
		struct kvm_cpu_mode m;
		kvm_cpu_mode_of(sr, &m);
		uint64_t lin = linear_rip(r, sr);
		unsigned wlen = run->mmio.len, found = 0;
		struct kvm_insn first;
		struct kvm_fpu fpu;
		int fpu_state = 0;
		decoded = false;
		for (unsigned l = 1; l <= 15; l++) {
			uint8_t bytes[15];
			uint64_t lin_gpa;
			struct kvm_regs before = *r;
			before.rip -= l;
			if (kvm_guest_read_linear(vcpu->vm, &m, lin - l, bytes, l) != l)
				break;
			if (kvm_decode(bytes, l, long64(sr), sr->cs.db, &before, &d) && d.len == l && d.mem &&
			    !is_string_op(&d) && kvm_guest_translate(vcpu->vm, &m, linear_of(sr, d.ea_seg, d.ea, d.addrsize), &lin_gpa) &&
			    lin_gpa == gpa) {
				if (!found) {
					found = l;
					first = d;
				}
				int data = store_data_matches(&d, r, run);
				if (data < 0)
					data = vector_store_matches(kv, &d, run, &fpu, &fpu_state);
				if (data == 2) {
					found = l;
					first = d;
					continue;
				}
				if (data == 1 || (data < 0 && (wlen < 2 || wlen > 8 || d.opsize == wlen))) {
					found = l;
					first = d;
					break;
				}
			}
		}
		if (found) {
			decoded = true;
			d = first;
			r->rip -= found;
			kvm_state_regs_from_kvm(&vcpu->state, r);
		}
	}
	uint64_t q = write ? EPT_WRITE : EPT_READ;
	if (decoded && d.rmw)
		q |= EPT_READ | EPT_WRITE;
	q |= (perms & HV_MEMORY_READ ? 1u : 0u) << 3 | (perms & HV_MEMORY_WRITE ? 1u : 0u) << 4 |
	     (perms & HV_MEMORY_EXEC ? 1u : 0u) << 5;
	bool string = decoded && is_string_op(&d);
	if (decoded && (d.mem || string)) {
		uint64_t lin;
		if (string) {
			/* MOVS/CMPS read seg:rSI and write ES:rDI; STOS/SCAS/INS use ES:rDI; LODS/OUTS seg:rSI. */
			uint8_t o = d.opcode;
			bool dst = (o >= 0xaa && o <= 0xab) || (o >= 0xae && o <= 0xaf) || o == 0x6c || o == 0x6d ||
				   ((o == 0xa4 || o == 0xa5) && write);
			lin = dst ? linear_of(sr, 0, r->rdi, d.addrsize)
				  : linear_of(sr, d.seg >= 0 ? d.seg : 3, r->rsi, d.addrsize);
		} else {
			lin = linear_of(sr, d.ea_seg, d.ea, d.addrsize);
		}
		/* The access may start in the page before (a split access): report the address inside the faulting page. */
		if ((lin & HVX_PAGE_MASK) != (gpa & HVX_PAGE_MASK))
			lin = (lin & ~HVX_PAGE_MASK) + HVX_PAGE_SIZE + (gpa & HVX_PAGE_MASK);
		e->guest_linear = lin;
		q |= EPT_GLA_VALID | EPT_GLA_FINAL;
	}
	e->reason = VMX_REASON_EPT_VIOLATION;
	e->qualification = q;
	e->guest_physical = gpa;
	return drain_restoring(vcpu, string && (d.rep || d.repne), 1, true) ? 1 : -1;
}

/* RDMSR/WRMSR the filter sent to user space. MSRs native on this vCPU are completed here; the rest exit. */
static __attribute__((cold)) int exit_msr(struct hvx_vcpu *vcpu, struct hvx_exit *e, bool write)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct kvm_run *run = kv->run;
	const struct hvx_msr_desc *d = hvx_msr_find(run->msr.index);
	if (d && d->native_bit >= 0 && ((vcpu->native_msrs >> d->native_bit) & 1)) {
		uint64_t val = run->msr.data;
		run->msr.error = kvm_msr_one(kv->fd, write, run->msr.index, &val) == 0 ? 0 : 1;
		if (!write)
			run->msr.data = val;
		return 0;
	}
	struct kvm_insn in;
	e->reason = write ? VMX_REASON_WRMSR : VMX_REASON_RDMSR;
	e->instr_len = decode_at_rip(vcpu, &kv->exit_regs, &kv->exit_sregs, &in) ? in.len : 2;
	return drain_restoring(vcpu, false, 0, false) ? 1 : -1;
}

/*
 * KVM ends in a shutdown or an emulation failure where hardware with EPT stops at a guest paging-structure entry
 * in guest-physical memory that is not mapped (PVM, or KVM's emulator): walk RIP, then the memory operand of the
 * instruction there, and report the EPT violation of the first entry that cannot be read (SDM 28.2.3.2: a data
 * read of a paging-structure entry, GLA valid, not the final translation).
 */
static __attribute__((cold)) bool paging_structure_violation(struct hvx_vcpu *vcpu, struct hvx_exit *e)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	const struct kvm_regs *r = &kv->exit_regs;
	const struct kvm_sregs *sr = &kv->exit_sregs;
	struct kvm_cpu_mode m;
	kvm_cpu_mode_of(sr, &m);
	uint64_t lin = linear_rip(r, sr), entry;
	if (!kvm_guest_walk_fault(vcpu->vm, &m, lin, &entry)) {
		struct kvm_insn d;
		if (!decode_at_rip(vcpu, r, sr, &d) || !d.mem)
			return false;
		lin = linear_of(sr, d.ea_seg, d.ea, d.addrsize);
		if (!kvm_guest_walk_fault(vcpu->vm, &m, lin, &entry))
			return false;
	}
	bool mapped;
	uint32_t perms = perms_of(vcpu->vm, entry, &mapped);
	e->reason = VMX_REASON_EPT_VIOLATION;
	e->qualification = EPT_READ | EPT_GLA_VALID | (perms & HV_MEMORY_WRITE ? 1u : 0u) << 4 |
			   (perms & HV_MEMORY_EXEC ? 1u : 0u) << 5;
	e->guest_physical = entry;
	e->guest_linear = lin;
	return true;
}

/*
 * The same for event delivery: an exception or software interrupt raised by the instruction at RIP (UD2, INT3,
 * INT n, INT1) whose IDT gate lies in guest-physical memory that is not mapped readable. Hardware exits during
 * delivery with the event in the IDT-vectoring information (SDM 27.2.3); KVM shuts down or fails instead.
 */
static __attribute__((cold)) bool delivery_violation(struct hvx_vcpu *vcpu, struct hvx_exit *e)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	const struct kvm_regs *r = &kv->exit_regs;
	const struct kvm_sregs *sr = &kv->exit_sregs;
	struct kvm_insn d;
	if (!decode_at_rip(vcpu, r, sr, &d) || d.map > 1)
		return false;
	unsigned vector, type;
	if (d.map == 1 && d.opcode == 0x0b) {
		vector = 6, type = 3; /* UD2: #UD, hardware exception */
	} else if (d.map == 0 && d.opcode == 0xcc) {
		vector = 3, type = 6;
	} else if (d.map == 0 && d.opcode == 0xf1) {
		vector = 1, type = 5;
	} else if (d.map == 0 && d.opcode == 0xcd) {
		uint8_t imm = 0;
		struct kvm_cpu_mode m0;
		kvm_cpu_mode_of(sr, &m0);
		if (kvm_guest_read_linear(vcpu->vm, &m0, linear_rip(r, sr) + d.len - 1, &imm, 1) != 1)
			return false;
		vector = imm, type = 4;
	} else {
		return false;
	}
	bool lma = sr->efer & EFER_LMA, pe = sr->cr0 & 1;
	unsigned gate_size = lma ? 16 : pe ? 8 : 4;
	if ((uint64_t)gate_size * vector + gate_size - 1 > sr->idt.limit)
		return false; /* beyond the limit: #GP, not an EPT violation */
	uint64_t gate = sr->idt.base + (uint64_t)gate_size * vector, gpa, entry;
	struct kvm_cpu_mode m;
	kvm_cpu_mode_of(sr, &m);
	bool mapped;
	uint32_t perms = 0;
	uint64_t q = EPT_READ | EPT_GLA_VALID;
	if (kvm_guest_walk_fault(vcpu->vm, &m, gate, &entry)) {
		gpa = entry;
	} else if (kvm_guest_translate(vcpu->vm, &m, gate, &gpa) &&
		   (!(perms = perms_of(vcpu->vm, gpa, &mapped)) || !(perms & HV_MEMORY_READ))) {
		q |= EPT_GLA_FINAL;
	} else {
		return false;
	}
	perms = perms_of(vcpu->vm, gpa, &mapped);
	e->reason = VMX_REASON_EPT_VIOLATION;
	e->qualification = q | (perms & HV_MEMORY_WRITE ? 1u : 0u) << 4 | (perms & HV_MEMORY_EXEC ? 1u : 0u) << 5;
	e->guest_physical = gpa;
	e->guest_linear = gate;
	e->idt_info = IRQ_INFO_VALID | type << 8 | vector;
	e->instr_len = type == 3 ? 0 : d.len;
	/* RF as in the image delivery would push: 1 for a fault, the current value for traps and software events. */
	if (type == 3)
		vcpu->state.rflags |= RFLAGS_RF;
	vcpu->dirty |= HVX_GROUP_RIP_FLAGS;
	return true;
}

/* ---- entry ---- */

/* Software interrupts/exceptions have no instruction length in KVM's event API: RIP moves past the instruction and
 * the event is delivered like an external interrupt / hardware exception (no gate DPL check). docs/kvm.md. */
static __attribute__((cold)) bool inject(struct hvx_vcpu *vcpu, uint32_t info, bool *mtf_now)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct hvx_vcpu_state *s = &vcpu->state;
	unsigned type = (info >> 8) & 7, vector = info & 0xff;
	if (type == 7) {
		*mtf_now = vector == 0;
		return true;
	}
	if (vcpu->stale & HVX_GROUP_EVENT) {
		kvm_state_fetch(vcpu, HVX_GROUP_EVENT);
		vcpu->stale &= ~HVX_GROUP_EVENT;
	}
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof ev);
	uint32_t intr = (uint32_t)s->vmcs[HVX_SLOT_GUEST_INTERRUPTIBILITY];
	ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
	ev.nmi.masked = (intr >> 3) & 1;
	if (type == 4 || type == 5 || type == 6) {
		/* The state is loaded already: RIP travels in the sync area with the other registers. */
		s->rip += s->vmcs[HVX_SLOT_CTRL_VMENTRY_INSTR_LEN];
		kvm_state_regs_to_kvm(s, &kv->run->s.regs.regs);
		kv->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		kv->kvm_regs_valid = true;
	}
	switch (type) {
	case 0: case 4:
		ev.interrupt.injected = 1;
		ev.interrupt.nr = (uint8_t)vector;
		break;
	case 2:
		ev.nmi.injected = 1;
		ev.nmi.masked = 0;
		break;
	default:
		ev.exception.injected = 1;
		ev.exception.nr = (uint8_t)vector;
		ev.exception.has_error_code = (info >> 11) & 1;
		ev.exception.error_code = (uint32_t)s->vmcs[HVX_SLOT_CTRL_VMENTRY_EXC_ERROR];
		break;
	}
	if (ioctl(kv->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
		fail_msg(vcpu, "KVM_SET_VCPU_EVENTS refused the injected event", errno);
		return false;
	}
	/* Injection ignores and clears STI/MOV-SS blocking; the valid bit is cleared by the entry. */
	s->vmcs[HVX_SLOT_GUEST_INTERRUPTIBILITY] = intr & ~3u;
	s->vmcs[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] = info & ~IRQ_INFO_VALID;
	s->vmcs[HVX_SLOT_GUEST_ACTIVITY_STATE] = 0;
	return true;
}

static __attribute__((cold)) void arm_timer(struct kvm_vcpu *kv, uint64_t deadline)
{
	if (!kv->timer_ok)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof its);
	if (deadline != HV_DEADLINE_FOREVER) {
		its.it_value.tv_sec = (time_t)(deadline / 1000000000ull);
		its.it_value.tv_nsec = (long)(deadline % 1000000000ull);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	timer_settime(kv->timer, TIMER_ABSTIME, &its, NULL);
}

/* HLT activity state with nothing to inject: wait for a kick or the deadline (no guest instruction runs). */
static __attribute__((cold)) void wait_halted(struct hvx_vcpu *vcpu, uint64_t deadline, struct hvx_exit *e)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, kvm_kick_signal());
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sigdelset(&old, kvm_kick_signal());
	for (;;) {
		if (atomic_exchange(&vcpu->kick_pending, false)) {
			e->reason = VMX_REASON_IRQ;
			break;
		}
		uint64_t now = hvx_now_ns();
		if (deadline != HV_DEADLINE_FOREVER && now >= deadline) {
			e->reason = VMX_REASON_VMX_TIMER_EXPIRED;
			break;
		}
		struct timespec ts, *tp = NULL;
		if (deadline != HV_DEADLINE_FOREVER) {
			uint64_t left = deadline - now;
			ts.tv_sec = (time_t)(left / 1000000000ull);
			ts.tv_nsec = (long)(left % 1000000000ull);
			tp = &ts;
		}
		ppoll(NULL, 0, tp, &old);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigset_t restore;
	sigemptyset(&restore);
	sigaddset(&restore, kvm_kick_signal());
	pthread_sigmask(SIG_UNBLOCK, &restore, NULL);
}

static __attribute__((cold)) uint64_t tsc_khz_of(struct kvm_vcpu *kv)
{
	if (!kv->tsc_khz) {
		int khz = ioctl(kv->fd, KVM_GET_TSC_KHZ, 0);
		kv->tsc_khz = khz > 0 ? (uint64_t)khz : 1000000;
	}
	return kv->tsc_khz;
}

/*
 * Guest-state checks of VM entry (SDM 26.3.1) that KVM does not make itself (it would run the guest, or fault it).
 * Only checks whose outcome is certain on every Intel part; a failure is exit 33 with bit 31 set, nothing loaded.
 */
/* The processor's address widths (CPUID 80000008H:EAX: physical 7:0, linear 15:8), which VM entry's checks use
 * (RIP, canonical bases, CR3); 36 / 48 if unknown. */
static unsigned address_bits(unsigned shift, unsigned fallback)
{
	unsigned n = fallback;
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;
	if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x80000008u &&
	    __get_cpuid(0x80000008u, &a, &b, &c, &d) && ((a >> shift) & 0xff) >= 32 && ((a >> shift) & 0xff) <= 64)
		n = (a >> shift) & 0xff;
#endif
	return n;
}

static unsigned linear_address_bits(void)
{
	static unsigned bits;
	if (!bits)
		bits = address_bits(8, 48); /* a racing first call computes the same value */
	return bits;
}

static unsigned physical_address_bits(void)
{
	static unsigned bits;
	if (!bits)
		bits = address_bits(0, 36);
	return bits;
}

/* RIP (SDM 26.3.1.4), for the host's linear-address width. */
static bool rip_valid(const struct hvx_vcpu_state *s)
{
	return hvx_guest_rip_valid(s, linear_address_bits());
}

static bool guest_state_valid(const struct hvx_vcpu_state *s)
{
	const uint64_t *v = s->vmcs;
	if (v[HVX_SLOT_GUEST_ACTIVITY_STATE] > 1)
		return false; /* activity active or HLT */
	if (v[HVX_SLOT_GUEST_ACTIVITY_STATE] == 1 && ((v[HVX_SLOT_GUEST_SS_AR] >> 5) & 3) != 0)
		return false; /* HLT only with SS.DPL 0 */
	uint32_t inj = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO];
	unsigned inj_type = (inj >> 8) & 7, inj_vec = inj & 0xff;
	if (v[HVX_SLOT_GUEST_ACTIVITY_STATE] == 1 && (inj & (1u << 31)) && inj_type != 0 && inj_type != 2 &&
	    inj_type != 7 && !(inj_type == 3 && (inj_vec == 1 || inj_vec == 18)))
		return false; /* HLT takes only an external interrupt, NMI, #DB, #MC or pending MTF (SDM 26.3.1.5) */
	return true;
}

__attribute__((hot)) hv_return_t kvm_vcpu_run(struct hvx_vcpu *vcpu, uint64_t deadline, struct hvx_exit *e)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);
	struct kvm_run *run = kv->run;
	struct hvx_vcpu_state *s = &vcpu->state;
	const uint64_t *v = s->vmcs;
	if (vcpu->space != HV_VM_SPACE_DEFAULT) {
		fail_msg(vcpu, "only the default address space runs on the kvm backend", 0);
		return HV_UNSUPPORTED;
	}
	kvm_set_current_run(run);

	uint32_t pin = (uint32_t)v[HVX_SLOT_CTRL_PIN_BASED], proc = (uint32_t)v[HVX_SLOT_CTRL_CPU_BASED];
	uint32_t entry = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_CONTROLS];
	bool want_wnd = proc & CPU_BASED_IRQ_WND, want_mtf = proc & CPU_BASED_MTF;
	/* #BP exits through KVM's software-breakpoint intercept; not on a software KVM, where INT3 then hangs KVM_RUN
	 * (ring 3) or fails emulation (ring 0) instead of reaching the guest's IDT. */
	bool want_bp = ((v[HVX_SLOT_CTRL_EXC_BITMAP] >> 3) & 1) && kvm_vm_of(vcpu->vm)->hardware;

	/* The guest-state checks read what a client can write; what the guest itself changed is consistent (hardware
	 * saved it at an exit and would take it again). So after an entry that passed them they run again only when a
	 * group they read was written or RFLAGS differs from its exit value; a new RIP alone (the VMM skipping the exiting
	 * instruction) needs only the RIP check, as on emu. */
	const uint32_t checked_groups = HVX_GROUP_SEG | HVX_GROUP_CR | HVX_GROUP_DTABLE | HVX_GROUP_MSR | HVX_GROUP_EVENT |
					HVX_GROUP_DR | HVX_GROUP_CONTROL;
	if (!kv->state_checked || (vcpu->dirty & checked_groups) ||
	    ((vcpu->dirty & HVX_GROUP_RIP_FLAGS) && s->rflags != kv->exit_regs.rflags)) {
		kv->state_checked = false;
		/* Guest-state check KVM does not make: the IA-32e mode guest control must match EFER.LMA (SDM 26.3.1.1). */
		if (((entry & ENTRY_IA32E) != 0) != ((v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA) != 0)) {
			e->reason = 0x80000000u | VMX_REASON_VMENTRY_GUEST;
			return HV_SUCCESS;
		}
		if (!guest_state_valid(s)) {
			e->reason = 0x80000000u | VMX_REASON_VMENTRY_GUEST;
			return HV_SUCCESS;
		}
		/* The checks both backends share (src/core/guest_state.c); unrestricted guest is always on here. Groups
		 * KVM still holds (only the guest changed them since they were checked) are not read. */
		struct hvx_guest_check_env genv = {
			.unrestricted = true,
			.phys_bits = physical_address_bits(),
			.linear_bits = linear_address_bits(),
			.groups = HVX_GROUP_ALL & ~vcpu->stale,
		};
		uint64_t gqual;
		if (!hvx_guest_state_check(s, &genv, &gqual)) {
			e->reason = 0x80000000u | VMX_REASON_VMENTRY_GUEST;
			e->qualification = gqual;
			return HV_SUCCESS;
		}
		kv->state_checked = true;
	} else if ((vcpu->dirty & HVX_GROUP_RIP_FLAGS) && !rip_valid(s)) {
		kv->state_checked = false;
		e->reason = 0x80000000u | VMX_REASON_VMENTRY_GUEST;
		return HV_SUCCESS;
	}
	/* The preemption timer counts TSC >> KVM_TIMER_RATE from this entry. */
	if (pin & PIN_BASED_PREEMPTION_TIMER) {
		uint64_t ticks = (uint64_t)(uint32_t)v[HVX_SLOT_GUEST_VMX_TIMER_VALUE] << 5;
		uint64_t t = hvx_now_ns() + ticks * 1000000ull / tsc_khz_of(kv);
		if (t < deadline)
			deadline = t;
	}

	/* A software KVM (PVM) single-steps only ring-0 code: MTF for a ring-3 guest is refused, never faked. */
	if (want_mtf && !kvm_vm_of(vcpu->vm)->hardware && ((v[HVX_SLOT_GUEST_SS_AR] >> 5) & 3) != 0) {
		fail_msg(vcpu, "the monitor trap flag needs ring 0 on a KVM without hardware virtualisation", 0);
		return HV_UNSUPPORTED;
	}
	/* A software KVM notices an opening interrupt window only at its next exit: where it can single-step (ring 0),
	 * step until the window opens so that the IRQ_WND exit comes before the next instruction, as in hardware. */
	bool step_wnd = want_wnd && !kvm_vm_of(vcpu->vm)->hardware && ((v[HVX_SLOT_GUEST_SS_AR] >> 5) & 3) == 0;
	/* Guest debug: MTF by single-stepping, #BP exits by KVM's software-breakpoint intercept. */
	uint32_t dbg = (want_mtf || step_wnd ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP : 0) |
		       (want_bp ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP : 0);
	if (!kv->guest_debug_set || dbg != kv->guest_debug) {
		struct kvm_guest_debug gd;
		memset(&gd, 0, sizeof gd);
		gd.control = dbg;
		if (ioctl(kv->fd, KVM_SET_GUEST_DEBUG, &gd) < 0) {
			fail_msg(vcpu, "KVM_SET_GUEST_DEBUG failed", errno);
			return HV_ERROR;
		}
		kv->guest_debug = dbg;
		kv->guest_debug_set = true;
	}
	/* The TSC offset: guest TSC = hv_tsc_clock() + offset, written when the offset changes. */
	if (v[HVX_SLOT_CTRL_TSC_OFFSET] != kv->applied_tsc_offset) {
		uint64_t tsc = hvx_now_ns() + v[HVX_SLOT_CTRL_TSC_OFFSET];
		kvm_msr_one(kv->fd, true, 0x10, &tsc);
		kv->applied_tsc_offset = v[HVX_SLOT_CTRL_TSC_OFFSET];
		kv->tsc_applied = true;
	}
	if ((vcpu->native_msrs & ~kvm_msr_filter_native(vcpu->vm)) != 0 ||
	    (kvm_msr_filter_native(vcpu->vm) & ~vcpu->native_msrs) != 0)
		kvm_msr_filter_update(vcpu->vm);

	/* A pending IN/OUT completes into the VMM's values only when the VMM moved RIP past it; else drain it first. */
	if (kv->pending == KVM_PENDING_FAST_PIO) {
		uint64_t want = kv->pending_lin_rip + s->exit.instr_len;
		struct kvm_sregs cur = kv->exit_sregs;
		kvm_state_sregs_to_kvm(s, &cur);
		struct kvm_regs cr;
		kvm_state_regs_to_kvm(s, &cr);
		bool in = run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN;
		/* KVM's emulator completes an IN with the RFLAGS it decoded with: only unchanged flags may take this path. */
		/* ... and it sets the interrupt shadow as the instruction left it: a shadow the VMM set needs the drain. */
		bool shadow = (vcpu->dirty & HVX_GROUP_EVENT) && (v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 3);
		if (linear_rip(&cr, &cur) == want && s->exit.instr_len && !shadow &&
		    (s->rflags | 2) == (kv->exit_regs.rflags | 2) &&
		    (!in || run->io.size < 4 || (s->gpr[HVX_RAX] >> 32) == 0)) {
			if (in)
				memcpy((uint8_t *)run + run->io.data_offset, &s->gpr[HVX_RAX], run->io.size);
			kv->pending = KVM_PENDING_NONE;
		} else {
			drain(vcpu);
		}
	}

	/* Kicks that arrived since hv_vcpu_run started end the run before any guest instruction. A plain load first (no
	 * locked exchange on every run): a kick stores kick_pending before it signals this thread, so one whose signal came
	 * before immediate_exit was cleared here is seen by the load, and a later one sets immediate_exit again. */
	run->immediate_exit = 0;
	if (atomic_load_explicit(&vcpu->kick_pending, memory_order_acquire) && atomic_exchange(&vcpu->kick_pending, false)) {
		e->reason = VMX_REASON_IRQ;
		return HV_SUCCESS;
	}

	/* Load what the client changed (registers and segment state travel in kvm_run's sync area). */
	if (vcpu->dirty & (HVX_GROUP_EVENT) && (v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] & IRQ_INFO_VALID))
		vcpu->dirty &= ~HVX_GROUP_EVENT; /* the injection below sets the events */
	uint32_t info = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO];
	bool mtf_now = false, injected = false;
	const char *why = NULL;
	int err = 0;
	if (!kvm_state_load(vcpu, vcpu->dirty, &why, &err)) {
		/* KVM refused the guest state: an entry failure with invalid guest state (the injection stays valid). */
		fail_msg(vcpu, why, err);
		vcpu->dirty = 0;
		e->reason = 0x80000000u | VMX_REASON_VMENTRY_GUEST;
		return HV_SUCCESS;
	}
	vcpu->dirty = 0;
	if (info & IRQ_INFO_VALID) {
		if (!inject(vcpu, info, &mtf_now))
			return HV_ERROR;
		injected = !mtf_now && ((info >> 8) & 7) != 7;
		if ((info >> 8 & 7) == 7)
			s->vmcs[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] = info & ~IRQ_INFO_VALID;
	}
	if (mtf_now) {
		e->reason = VMX_REASON_MTF;
		return HV_SUCCESS;
	}
	if (v[HVX_SLOT_GUEST_ACTIVITY_STATE] == 1 && !injected) {
		bool open = (s->rflags & RFLAGS_IF) && !(v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 3);
		if (want_wnd && open)
			e->reason = VMX_REASON_IRQ_WND;
		else
			wait_halted(vcpu, deadline, e);
		return HV_SUCCESS;
	}

	/* An interrupt window already open at entry exits before the first instruction (KVM would run the guest). */
	if (want_wnd && !injected) {
		if (vcpu->stale & HVX_GROUP_EVENT) {
			kvm_state_fetch(vcpu, HVX_GROUP_EVENT);
			vcpu->stale &= ~HVX_GROUP_EVENT;
		}
		if ((s->rflags & RFLAGS_IF) && !(v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 3)) {
			e->reason = VMX_REASON_IRQ_WND;
			return HV_SUCCESS;
		}
	}
	run->request_interrupt_window = want_wnd;
	run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | (step_wnd ? KVM_SYNC_X86_EVENTS : 0);
	/* The deadline timer stays armed after a run: re-armed only for a new deadline (one syscall, or none). A deadline
	 * already past ends the run before the first instruction, as a zero preemption timer does. */
	if (deadline != HV_DEADLINE_FOREVER) {
		if (hvx_now_ns() >= deadline) {
			e->reason = VMX_REASON_VMX_TIMER_EXPIRED;
			run->request_interrupt_window = 0;
			return HV_SUCCESS;
		}
		if (deadline != kv->armed_deadline) {
			arm_timer(kv, deadline);
			kv->armed_deadline = deadline;
		}
	}
	hv_return_t ret = HV_SUCCESS;
	bool stepping = want_mtf || step_wnd, first = true;
	unsigned wnd_steps = 0;
	for (;;) {
		/* KVM single-steps over HLT without its HLT exit: while stepping, a HLT at CPL 0 (HLT exiting is always
		 * on) exits before it runs, as hardware does. */
		if (stepping && !(first && injected)) { /* an injected event runs its handler first */
			struct kvm_regs cr;
			struct kvm_sregs cs = kv->exit_sregs;
			if (first) {
				kvm_state_regs_to_kvm(s, &cr);
				kvm_state_sregs_to_kvm(s, &cs);
			} else {
				cr = kv->exit_regs;
			}
			struct kvm_insn d;
			if (cs.cs.dpl == 0 && decode_at_rip(vcpu, &cr, &cs, &d) && d.map == 0 && d.opcode == 0xf4) {
				e->reason = VMX_REASON_HLT;
				e->instr_len = d.len;
				break;
			}
		}
		first = false;
		int r = kvm_run_ioctl_held(vcpu); /* the run_lock is released below, once the exit's bytes are read */
		int run_errno = errno;
		kv->ran = true;
		run->kvm_dirty_regs = 0;
		if (r < 0 && run_errno != EINTR && run_errno != EAGAIN) {
			pthread_rwlock_unlock(&kvm_vm_of(vcpu->vm)->run_lock);
			/* Entry refused (e.g. sync'd segment state KVM rejects): invalid guest state. */
			fail_msg(vcpu, "KVM_RUN failed", run_errno);
			kv->kvm_regs_valid = false; /* the sync area may hold KVM's registers or ours: load them again */
			e->reason = 0x80000000u | VMX_REASON_VMENTRY_GUEST;
			break;
		}
		kv->exit_regs = run->s.regs.regs;
		kv->kvm_regs_valid = true; /* run->s.regs.regs: what KVM holds (exit_regs may be rewound to the instruction) */
		kvm_state_regs_from_kvm(s, &kv->exit_regs);
		/* Segment and control state rarely changes between exits: converted into the state only when KVM's differs
		 * from the last exit's or the state was loaded into KVM at this entry (KVM may have adjusted it). */
		if (!kv->sregs_converted || kvm_words_differ(&run->s.regs.sregs, &kv->exit_sregs, sizeof kv->exit_sregs)) {
			kv->exit_sregs = run->s.regs.sregs;
			kvm_state_sregs_from_kvm(s, &kv->exit_sregs);
			kv->sregs_converted = true;
		}
		vcpu->stale |= KVM_LAZY_GROUPS;
		/* An I/O exit's instruction bytes, read while the run_lock keeps the memory map's host addresses valid. */
		struct rip_window window;
		if (r >= 0 && run->exit_reason == KVM_EXIT_IO)
			read_window(vcpu, &kv->exit_regs, &kv->exit_sregs, &window);
		pthread_rwlock_unlock(&kvm_vm_of(vcpu->vm)->run_lock);
		if (r < 0) {
			run->immediate_exit = 0;
			if (atomic_exchange(&vcpu->kick_pending, false)) {
				e->reason = VMX_REASON_IRQ;
				break;
			}
			if (deadline != HV_DEADLINE_FOREVER && hvx_now_ns() >= deadline) {
				e->reason = VMX_REASON_VMX_TIMER_EXPIRED;
				break;
			}
			continue; /* a stray signal */
		}
		int k = 1;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (!exit_io(vcpu, e, &window))
				ret = HV_ERROR;
			break;
		case KVM_EXIT_MMIO:
			k = exit_mmio(vcpu, e);
			break;
		case KVM_EXIT_X86_RDMSR:
		case KVM_EXIT_X86_WRMSR:
			k = exit_msr(vcpu, e, run->exit_reason == KVM_EXIT_X86_WRMSR);
			break;
		case KVM_EXIT_HLT: {
			/* KVM has moved RIP past the HLT; Intel's HLT exit is fault-like. */
			struct kvm_cpu_mode m;
			kvm_cpu_mode_of(&kv->exit_sregs, &m);
			uint8_t prev = 0;
			uint64_t lin = linear_rip(&kv->exit_regs, &kv->exit_sregs) - 1;
			if (kvm_guest_read_linear(vcpu->vm, &m, lin, &prev, 1) == 1 && prev == 0xf4) {
				s->rip -= 1;
				vcpu->dirty |= HVX_GROUP_RIP_FLAGS;
			}
			e->reason = VMX_REASON_HLT;
			e->instr_len = 1;
			break;
		}
		case KVM_EXIT_SHUTDOWN:
			if (!paging_structure_violation(vcpu, e) && !delivery_violation(vcpu, e))
				e->reason = VMX_REASON_TRIPLE_FAULT;
			break;
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			if (want_wnd)
				e->reason = VMX_REASON_IRQ_WND;
			else
				k = 0;
			break;
		case KVM_EXIT_DEBUG:
			if (run->debug.arch.exception == 1 && want_mtf && (run->debug.arch.dr6 & DR6_BS)) {
				e->reason = VMX_REASON_MTF;
			} else if (run->debug.arch.exception == 1 && step_wnd && (run->debug.arch.dr6 & DR6_BS)) {
				/* One instruction further: is the window open now (IF set, no STI or MOV-SS shadow)? */
				bool open = (kv->exit_regs.rflags & RFLAGS_IF) && !run->s.regs.events.interrupt.shadow;
				if (open) {
					e->reason = VMX_REASON_IRQ_WND;
				} else {
					k = 0;
					/* Stepping costs an exit per instruction: after a few (STI/MOV-SS shadows, short
					 * CLI sections) let the guest run, KVM then reports the window at its next exit. */
					if (++wnd_steps >= KVM_WINDOW_STEPS && !want_mtf) {
						struct kvm_guest_debug gd;
						memset(&gd, 0, sizeof gd);
						gd.control = want_bp ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP : 0;
						if (ioctl(kv->fd, KVM_SET_GUEST_DEBUG, &gd) == 0)
							kv->guest_debug = gd.control;
						step_wnd = stepping = false;
					}
				}
			} else if (run->debug.arch.exception == 3 && want_bp) {
				e->reason = VMX_REASON_EXC_NMI;
				e->intr_info = IRQ_INFO_VALID | IRQ_INFO_SOFT_EXC | 3;
				e->instr_len = 1;
			} else {
				k = 0;
			}
			break;
		case KVM_EXIT_FAIL_ENTRY:
			fprintf(stderr, "hvx kvm: vCPU %u: VM entry failed (hardware reason %#llx)\n", vcpu->id,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			e->reason = 0x80000000u | VMX_REASON_VMENTRY_GUEST;
			break;
		case KVM_EXIT_INTERNAL_ERROR: {
			/* An instruction fetch from memory without a slot (unmapped or no read permission) is an EPT violation. */
			struct kvm_cpu_mode m;
			kvm_cpu_mode_of(&kv->exit_sregs, &m);
			uint64_t lin = linear_rip(&kv->exit_regs, &kv->exit_sregs), gpa;
			bool mapped;
			uint32_t perms = 0;
			if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
			    kvm_guest_translate(vcpu->vm, &m, lin, &gpa) &&
			    (!(perms = perms_of(vcpu->vm, gpa, &mapped)) || !(perms & HV_MEMORY_READ))) {
				e->reason = VMX_REASON_EPT_VIOLATION;
				e->qualification = EPT_FETCH | EPT_GLA_VALID | EPT_GLA_FINAL |
						   (perms & HV_MEMORY_WRITE ? 1u : 0u) << 4 | (perms & HV_MEMORY_EXEC ? 1u : 0u) << 5;
				e->guest_physical = gpa;
				e->guest_linear = lin;
				break;
			}
			if (paging_structure_violation(vcpu, e) || delivery_violation(vcpu, e))
				break;
			fprintf(stderr, "hvx kvm: vCPU %u: KVM internal error, suberror %u, at RIP %#llx\n", vcpu->id,
				run->internal.suberror, (unsigned long long)kv->exit_regs.rip);
			ret = HV_ERROR;
			break;
		}
		default:
			fprintf(stderr, "hvx kvm: vCPU %u: unexpected KVM exit %u\n", vcpu->id, run->exit_reason);
			ret = HV_ERROR;
			break;
		}
		if (k < 0)
			ret = HV_ERROR;
		if (k != 0)
			break;
	}
	run->request_interrupt_window = 0;
	/* An injected event KVM could not deliver before the exit is reported as IDT-vectoring information. */
	if (injected && e->reason != VMX_REASON_IRQ && e->reason != VMX_REASON_VMX_TIMER_EXPIRED) {
		struct kvm_vcpu_events ev;
		if (ioctl(kv->fd, KVM_GET_VCPU_EVENTS, &ev) == 0 &&
		    (ev.interrupt.injected || ev.exception.injected || ev.nmi.injected)) {
			e->idt_info = (info & ~(uint32_t)IRQ_INFO_VALID) | IRQ_INFO_VALID;
			e->idt_error = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_EXC_ERROR];
			ev.interrupt.injected = 0;
			ev.exception.injected = 0;
			ev.nmi.injected = 0;
			ev.flags = 0;
			ioctl(kv->fd, KVM_SET_VCPU_EVENTS, &ev);
		}
	}
	/* Saved RFLAGS.RF (SDM 27.3.3): 0 after instruction exits, 1 after an EPT violation outside event delivery. */
	uint32_t basic = e->reason & 0xffff;
	uint64_t rf0 = s->rflags;
	if (basic == VMX_REASON_IO || basic == VMX_REASON_RDMSR || basic == VMX_REASON_WRMSR || basic == VMX_REASON_HLT)
		s->rflags &= ~RFLAGS_RF;
	else if (basic == VMX_REASON_EPT_VIOLATION && !(e->idt_info & IRQ_INFO_VALID))
		s->rflags |= RFLAGS_RF;
	if (s->rflags != rf0)
		vcpu->dirty |= HVX_GROUP_RIP_FLAGS;
	/* Exits save EFER.LMA into the IA-32e mode guest control (IA32_VMX_MISC bit 5). */
	if (s->vmcs[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA)
		s->vmcs[HVX_SLOT_CTRL_VMENTRY_CONTROLS] |= ENTRY_IA32E;
	else
		s->vmcs[HVX_SLOT_CTRL_VMENTRY_CONTROLS] &= ~(uint64_t)ENTRY_IA32E;
	return ret;
}
