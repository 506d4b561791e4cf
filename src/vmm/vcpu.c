/* vcpu.c: one vCPU thread: VMCS set-up for real/protected/long mode, interrupt injection, the run loop and exit handlers. */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_arch_vmx.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx.h>
#include <hvx/hvx_exit.h>
#include <hvx/hvx_mmio.h>

#include "loaders/loader.h"
#include "vcpu.h"

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define INTR_VALID (1u << 31)
#define INTR_TYPE_EXT (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HW_EXC (3u << 8)
#define INTR_ERROR_CODE (1u << 11)

enum exit_action { EXIT_CONTINUE, EXIT_STOP };

static uint64_t cap2ctrl(uint64_t cap, uint64_t want)
{
	return (want | (cap & 0xffffffffull)) & (cap >> 32);
}

/* Write a VMCS field, remembering the first failure. */
static void w(struct vmm_vcpu *v, uint32_t field, uint64_t value, hv_return_t *err)
{
	hv_return_t r = hv_vmx_vcpu_write_vmcs(v->id, field, value);
	if (r && !*err) {
		*err = r;
		v->bad_field = field;
	}
}

static void seg(struct vmm_vcpu *v, uint32_t sel_f, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar,
		hv_return_t *err)
{
	/* Selector, base, limit and access rights of one segment register, by its selector field. */
	static const struct {
		uint32_t sel, base, limit, ar;
	} f[] = {
		{VMCS_GUEST_ES, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR},
		{VMCS_GUEST_CS, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR},
		{VMCS_GUEST_SS, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR},
		{VMCS_GUEST_DS, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR},
		{VMCS_GUEST_FS, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR},
		{VMCS_GUEST_GS, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR},
		{VMCS_GUEST_LDTR, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR},
		{VMCS_GUEST_TR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR},
	};
	for (unsigned i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i].sel == sel_f) {
			w(v, f[i].sel, sel, err);
			w(v, f[i].base, base, err);
			w(v, f[i].limit, limit, err);
			w(v, f[i].ar, ar, err);
		}
}

/* CR0/CR4 the guest asks for -> value VMX accepts (fixed bits forced; PE/PG free with unrestricted guest). */
static uint64_t fix_cr0(const struct vmm *vm, uint64_t cr0)
{
	uint64_t f0 = vm->cr0_fixed0, f1 = vm->cr0_fixed1;
	if (vm->unrestricted)
		f0 &= ~(CR0_PE | CR0_PG);
	return (cr0 | f0) & f1;
}

static uint64_t fix_cr4(const struct vmm *vm, uint64_t cr4)
{
	return (cr4 | vm->cr4_fixed0) & vm->cr4_fixed1;
}

/* Bits the guest may not own: forced either way by VMX. */
static uint64_t cr0_mask(const struct vmm *vm)
{
	uint64_t m = (vm->cr0_fixed0 | ~vm->cr0_fixed1) & 0xffffffffull;
	if (vm->unrestricted)
		m &= ~(CR0_PE | CR0_PG);
	return m | vm->cr0_mask_must;
}

static uint64_t cr4_mask(const struct vmm *vm)
{
	return ((vm->cr4_fixed0 | ~vm->cr4_fixed1) & 0xffffffffull) | vm->cr4_mask_must;
}

/* Fold the framework's per-field write rules (e.g. Apple's CD/NW rule for CR0) into the fixed masks; BSP only. */
static void learn_cr_rules(struct vmm_vcpu *v)
{
	struct vmm *vm = v->vm;
	uint64_t a0, a1;
	if (hv_vmx_vcpu_get_cap_write_vmcs(v->id, VMCS_GUEST_CR0, &a0, &a1) == HV_SUCCESS) {
		vm->cr0_fixed0 |= a0 & 0xffffffffull & ~(CR0_PE | CR0_PG);
		vm->cr0_fixed1 &= a1 | ~0xffffffffull;
	}
	if (hv_vmx_vcpu_get_cap_write_vmcs(v->id, VMCS_GUEST_CR4, &a0, &a1) == HV_SUCCESS) {
		vm->cr4_fixed0 |= a0 & 0xffffffffull;
		vm->cr4_fixed1 &= a1 | ~0xffffffffull;
	}
	if (hv_vmx_vcpu_get_cap_write_vmcs(v->id, VMCS_CTRL_CR0_MASK, &a0, &a1) == HV_SUCCESS)
		vm->cr0_mask_must = a0;
	if (hv_vmx_vcpu_get_cap_write_vmcs(v->id, VMCS_CTRL_CR4_MASK, &a0, &a1) == HV_SUCCESS)
		vm->cr4_mask_must = a0;
}

static hv_return_t setup_controls(struct vmm_vcpu *v, bool long_mode)
{
	struct vmm *vm = v->vm;
	hv_return_t err = 0;
	if (v->index == 0)
		learn_cr_rules(v);
	w(v, VMCS_CTRL_PIN_BASED, cap2ctrl(vm->caps[0], PIN_BASED_INTR | PIN_BASED_NMI), &err);
	v->proc_ctls = cap2ctrl(vm->caps[1], CPU_BASED_HLT | CPU_BASED_UNCOND_IO | CPU_BASED_SECONDARY_CTLS);
	w(v, VMCS_CTRL_CPU_BASED, v->proc_ctls, &err);
	w(v, VMCS_CTRL_CPU_BASED2, cap2ctrl(vm->caps[2], CPU_BASED2_EPT | CPU_BASED2_UNRESTRICTED), &err);
	w(v, VMCS_CTRL_VMENTRY_CONTROLS, cap2ctrl(vm->caps[3], VMENTRY_LOAD_EFER | (long_mode ? VMENTRY_GUEST_IA32E : 0)),
	  &err);
	w(v, VMCS_CTRL_VMEXIT_CONTROLS, cap2ctrl(vm->caps[4], VMEXIT_HOST_IA32E | VMEXIT_SAVE_EFER | VMEXIT_LOAD_EFER), &err);
	w(v, VMCS_CTRL_EXC_BITMAP, 0, &err);
	w(v, VMCS_CTRL_CR0_MASK, cr0_mask(vm), &err);
	w(v, VMCS_CTRL_CR4_MASK, cr4_mask(vm), &err);
	return err;
}

/* Backends that answer CPUID themselves (kvm) get the policy as a table; emu exits and on_cpuid answers. */
static void push_cpuid(struct vmm_vcpu *v)
{
	static const uint32_t leaves[] = {0, 1, 2, 3, 4, 5, 6, 7, 0x40000000, 0x80000000, 0x80000001, 0x80000002,
					  0x80000003, 0x80000004, 0x80000005, 0x80000006, 0x80000007, 0x80000008};
	struct hvx_cpuid_entry e[sizeof leaves / sizeof leaves[0] + VMM_MAX_OVERRIDES];
	unsigned n = 0;
	const struct vmm_config *cfg = &v->vm->cfg;
	for (unsigned i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
		uint32_t r[4];
		vmm_cpuid(cfg, v->vm->ncpus, v->index, leaves[i], 0, r);
		bool sub = leaves[i] == 4 || leaves[i] == 7;
		e[n++] = (struct hvx_cpuid_entry){leaves[i], 0, sub ? HVX_CPUID_SIGNIFICANT_INDEX : 0, r[0], r[1], r[2], r[3]};
	}
	for (unsigned i = 0; i < cfg->ncpuid; i++) {
		const struct vmm_cpuid_override *o = &cfg->cpuid[i];
		bool known = false;
		for (unsigned k = 0; k < n; k++)
			if (e[k].function == o->leaf && (o->any_subleaf || e[k].index == o->subleaf))
				known = true;
		if (!known)
			e[n++] = (struct hvx_cpuid_entry){o->leaf, o->subleaf, o->any_subleaf ? 0 : HVX_CPUID_SIGNIFICANT_INDEX,
							  o->regs[0], o->regs[1], o->regs[2], o->regs[3]};
	}
	hvx_vcpu_set_cpuid(v->id, e, n); /* HV_UNSUPPORTED where CPUID exits */
}

/* Architectural state for entering the guest in `mode` at `entry` (real mode: cs_sel:ip). */
static hv_return_t setup_state(struct vmm_vcpu *v, enum vmm_mode mode, uint64_t entry, uint16_t real_cs,
			       const uint64_t regs[8])
{
	struct vmm *vm = v->vm;
	hv_return_t err = setup_controls(v, mode == VMM_MODE_LONG);
	push_cpuid(v);
	uint64_t cr0, cr4 = 0, efer = 0;
	switch (mode) {
	case VMM_MODE_REAL:
		cr0 = CR0_ET;
		seg(v, VMCS_GUEST_CS, real_cs, (uint64_t)real_cs << 4, 0xffff, 0x9b, &err);
		for (uint32_t f = VMCS_GUEST_ES; f <= VMCS_GUEST_GS; f += 2)
			if (f != VMCS_GUEST_CS)
				seg(v, f, f == VMCS_GUEST_SS && !v->index ? (uint16_t)(regs[BR_RSP] >> 16 << 12) : 0,
				    f == VMCS_GUEST_SS && !v->index ? regs[BR_RSP] >> 16 << 16 : 0, 0xffff, 0x93, &err);
		w(v, VMCS_GUEST_GDTR_BASE, 0, &err);
		w(v, VMCS_GUEST_GDTR_LIMIT, 0xffff, &err);
		w(v, VMCS_GUEST_IDTR_BASE, 0, &err);
		w(v, VMCS_GUEST_IDTR_LIMIT, 0x3ff, &err);
		break;
	case VMM_MODE_LONG:
		cr0 = CR0_PE | CR0_ET | CR0_PG;
		cr4 = CR4_PAE;
		efer = EFER_LME | EFER_LMA;
		w(v, VMCS_GUEST_CR3, BOOT_PT, &err);
		seg(v, VMCS_GUEST_CS, BOOT_SEL_CODE, 0, 0xffffffff, 0xa09b, &err);
		goto data;
	default:
		cr0 = CR0_PE | CR0_ET;
		seg(v, VMCS_GUEST_CS, BOOT_SEL_CODE, 0, 0xffffffff, 0xc09b, &err);
	data:
		for (uint32_t f = VMCS_GUEST_ES; f <= VMCS_GUEST_GS; f += 2)
			if (f != VMCS_GUEST_CS)
				seg(v, f, BOOT_SEL_DATA, 0, 0xffffffff, 0xc093, &err);
		w(v, VMCS_GUEST_GDTR_BASE, BOOT_GDT, &err);
		w(v, VMCS_GUEST_GDTR_LIMIT, 0x1f, &err);
		w(v, VMCS_GUEST_IDTR_BASE, 0, &err);
		w(v, VMCS_GUEST_IDTR_LIMIT, 0, &err);
		break;
	}
	seg(v, VMCS_GUEST_LDTR, 0, 0, 0, 0x10000, &err);
	seg(v, VMCS_GUEST_TR, 0, 0, 0xffff, 0x8b, &err);
	w(v, VMCS_GUEST_CR0, fix_cr0(vm, cr0), &err);
	w(v, VMCS_CTRL_CR0_SHADOW, cr0, &err);
	w(v, VMCS_GUEST_CR4, fix_cr4(vm, cr4), &err);
	w(v, VMCS_CTRL_CR4_SHADOW, cr4, &err);
	if (mode != VMM_MODE_LONG)
		w(v, VMCS_GUEST_CR3, 0, &err);
	w(v, VMCS_GUEST_IA32_EFER, efer, &err);
	w(v, VMCS_GUEST_IA32_PAT, 0x0007040600070406ull, &err);
	w(v, VMCS_GUEST_DR7, 0x400, &err);
	w(v, VMCS_GUEST_INTERRUPTIBILITY, 0, &err);
	w(v, VMCS_GUEST_ACTIVITY_STATE, 0, &err);
	w(v, VMCS_CTRL_VMENTRY_IRQ_INFO, 0, &err);
	static const hv_x86_reg_t gprs[8] = {HV_X86_RAX, HV_X86_RCX, HV_X86_RDX, HV_X86_RBX,
					     HV_X86_RSP, HV_X86_RBP, HV_X86_RSI, HV_X86_RDI};
	for (unsigned i = 0; i < 8; i++) {
		uint64_t val = regs ? regs[i] : 0;
		if (i == BR_RSP && mode == VMM_MODE_REAL)
			val &= 0xffff;
		hv_return_t r = hv_vcpu_write_register(v->id, gprs[i], val);
		if (r && !err)
			err = r;
	}
	for (hv_x86_reg_t r = HV_X86_R8; r <= HV_X86_R15; r++)
		hv_vcpu_write_register(v->id, r, 0);
	hv_return_t r1 = hv_vcpu_write_register(v->id, HV_X86_RFLAGS, 0x2);
	hv_return_t r2 = hv_vcpu_write_register(v->id, HV_X86_RIP, entry);
	return err ? err : r1 ? r1 : r2;
}

/* ---------------------------------------------------------------- interrupts */

/* Vector deliverable to this vCPU now (without acknowledging), or -1. Lock held. */
static int pending_vector(struct vmm_vcpu *v, bool *from_pic, bool *nmi)
{
	struct vmm_devices *d = v->vm->dev;
	struct lapic *l = &d->lapic[v->index];
	*from_pic = false;
	*nmi = l->nmi_pending;
	if (*nmi)
		return 2;
	int vec = lapic_pending(l);
	if (vec >= 0)
		return vec;
	if (v->index == 0 && lapic_accepts_pic(l) && pic_pending(&d->pic) >= 0) {
		*from_pic = true;
		return pic_pending(&d->pic);
	}
	return -1;
}

static void set_irq_window(struct vmm_vcpu *v, bool on)
{
	uint64_t want = on ? (v->proc_ctls | CPU_BASED_IRQ_WND) : (v->proc_ctls & ~(uint64_t)CPU_BASED_IRQ_WND);
	want = cap2ctrl(v->vm->caps[1], want);
	if (want != v->proc_ctls) {
		v->proc_ctls = want;
		hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_CPU_BASED, want);
	}
}

static void inject_pending(struct vmm_vcpu *v)
{
	struct vmm *vm = v->vm;
	if (v->event_injected || !atomic_exchange(&v->irq_hint, false))
		return;
	bool pic, nmi;
	pthread_mutex_lock(&vm->lock);
	int vec = pending_vector(v, &pic, &nmi);
	pthread_mutex_unlock(&vm->lock);
	if (vec < 0)
		return;
	uint64_t rflags = 0, intr = 0;
	hv_vcpu_read_register(v->id, HV_X86_RFLAGS, &rflags);
	hv_vmx_vcpu_read_vmcs(v->id, VMCS_GUEST_INTERRUPTIBILITY, &intr);
	bool blocked = nmi ? (intr & 0xb) != 0 : (!(rflags & RFLAGS_IF) || (intr & 3));
	if (blocked) {
		set_irq_window(v, true);
		atomic_store(&v->irq_hint, true); /* retry after the next exit */
		return;
	}
	pthread_mutex_lock(&vm->lock);
	vec = pending_vector(v, &pic, &nmi);
	if (vec >= 0) {
		if (nmi)
			vm->dev->lapic[v->index].nmi_pending = false;
		else if (pic)
			vec = pic_ack(&vm->dev->pic);
		else
			lapic_ack(&vm->dev->lapic[v->index], (uint8_t)vec);
	}
	/* More may be waiting behind this one. */
	atomic_store(&v->irq_hint, true);
	pthread_mutex_unlock(&vm->lock);
	if (vec < 0)
		return;
	hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_VMENTRY_IRQ_INFO,
			       INTR_VALID | (nmi ? INTR_TYPE_NMI : INTR_TYPE_EXT) | (uint32_t)vec);
	v->event_injected = true;
	set_irq_window(v, false);
}

/* An exit during event delivery (IDT-vectoring information valid): deliver the event again on the next entry. */
static void reinject_idt_vectoring(struct vmm_vcpu *v)
{
	uint64_t info = 0, err = 0, len = 0;
	if (hv_vmx_vcpu_read_vmcs(v->id, VMCS_RO_IDT_VECTOR_INFO, &info) || !(info & INTR_VALID))
		return;
	unsigned type = (info >> 8) & 7;
	if (info & INTR_ERROR_CODE) {
		hv_vmx_vcpu_read_vmcs(v->id, VMCS_RO_IDT_VECTOR_ERROR, &err);
		hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_VMENTRY_EXC_ERROR, err);
	}
	if (type == 4 || type == 5 || type == 6) { /* software events need the instruction length */
		hv_vmx_vcpu_read_vmcs(v->id, VMCS_RO_VMEXIT_INSTR_LEN, &len);
		hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_VMENTRY_INSTR_LEN, len);
	}
	hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_VMENTRY_IRQ_INFO, info & ~(1ull << 12));
	v->event_injected = true;
}

static void inject_gp(struct vmm_vcpu *v)
{
	hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_TYPE_HW_EXC | INTR_ERROR_CODE | 13);
	hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_VMENTRY_EXC_ERROR, 0);
	v->event_injected = true;
}

/* The exception an emulated MMIO instruction raised (#PF on its other operand, #GP, #DE, ...), as the CPU would. */
static void inject_fault(struct vmm_vcpu *v, const struct hvx_mmio_fault *f)
{
	if (f->vector == 14)
		hv_vcpu_write_register(v->id, HV_X86_CR2, f->cr2);
	if (f->has_error_code)
		hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_VMENTRY_EXC_ERROR, f->error_code);
	hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_VMENTRY_IRQ_INFO,
			       INTR_VALID | INTR_TYPE_HW_EXC | (f->has_error_code ? INTR_ERROR_CODE : 0) | f->vector);
	v->event_injected = true;
}

/* ---------------------------------------------------------------- helpers */

static uint64_t rd(struct vmm_vcpu *v, hv_x86_reg_t r)
{
	uint64_t x = 0;
	hv_vcpu_read_register(v->id, r, &x);
	return x;
}

static uint64_t vmcs(struct vmm_vcpu *v, uint32_t f)
{
	uint64_t x = 0;
	hv_vmx_vcpu_read_vmcs(v->id, f, &x);
	return x;
}

static void skip(struct vmm_vcpu *v)
{
	uint64_t len = vmcs(v, VMCS_RO_VMEXIT_INSTR_LEN);
	hv_vcpu_write_register(v->id, HV_X86_RIP, rd(v, HV_X86_RIP) + len);
}

static enum exit_action fail(struct vmm_vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum exit_action fail(struct vmm_vcpu *v, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	vmm_stop(v->vm, VMM_STOP_ERROR, VMM_EXIT_GUEST_ERROR, "vCPU %u: %s (RIP 0x%" PRIx64 ")", v->index, msg,
		 rd(v, HV_X86_RIP));
	return EXIT_STOP;
}

/* ---------------------------------------------------------------- guest memory callbacks for the MMIO emulator */

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vmm_mem_read(&((struct vmm_vcpu *)ctx)->vm->mem, gpa, buf, len);
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	return vmm_mem_write(&((struct vmm_vcpu *)ctx)->vm->mem, gpa, buf, len);
}

static bool in_lapic(struct vmm_vcpu *v, uint64_t gpa)
{
	uint64_t base = v->vm->dev->lapic[v->index].apic_base_msr;
	return (base & (1ull << 11)) && (gpa & ~0xfffull) == (base & ~0xfffull);
}

/* The vector an EOI would retire: the highest in service, or -1. */
static int isr_highest(const struct lapic *l)
{
	for (int i = 7; i >= 0; i--)
		if (l->isr[i])
			return i * 32 + 31 - __builtin_clz(l->isr[i]);
	return -1;
}

static void route_ipi(struct vmm_vcpu *from, const struct lapic_ipi *ipi)
{
	struct vmm *vm = from->vm;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		bool hit;
		switch (ipi->shorthand) {
		case 1: hit = i == from->index; break;
		case 2: hit = true; break;
		case 3: hit = i != from->index; break;
		default: hit = lapic_matches(&vm->dev->lapic[i], ipi->logical, ipi->dest); break;
		}
		if (!hit)
			continue;
		struct vmm_vcpu *t = vm->vcpus[i];
		switch (ipi->kind) {
		case IPI_FIXED:
			lapic_accept(&vm->dev->lapic[i], ipi->vector);
			break;
		case IPI_NMI:
			vm->dev->lapic[i].nmi_pending = true;
			break;
		case IPI_INIT:
			if (i != 0)
				t->init_pending = true;
			break;
		case IPI_SIPI:
			if (i != 0 && !t->running && t->init_pending) {
				t->sipi_pending = true;
				t->sipi_vector = ipi->vector;
			}
			break;
		default:
			break;
		}
		vmm_irq_notify_locked(vm, i);
	}
	pthread_cond_broadcast(&vm->wake);
}

static int mmio_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *value)
{
	struct vmm_vcpu *v = ctx;
	struct vmm *vm = v->vm;
	pthread_mutex_lock(&vm->lock);
	if (in_lapic(v, gpa)) {
		unsigned off = (unsigned)(gpa & 0xfff);
		uint32_t x = lapic_read(&vm->dev->lapic[v->index], off & ~3u, vmm_now_ns());
		*value = size >= 4 ? x : (x >> (8 * (off & 3)));
	} else if ((gpa & ~0xfffull) == IOAPIC_BASE) {
		*value = ioapic_read(&vm->dev->ioapic, (unsigned)(gpa & 0xfff));
	} else {
		*value = ~0ull; /* nothing there: the bus floats high */
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static int mmio_write(void *ctx, uint64_t gpa, unsigned size, uint64_t value)
{
	struct vmm_vcpu *v = ctx;
	struct vmm *vm = v->vm;
	(void)size;
	pthread_mutex_lock(&vm->lock);
	struct ioapic_msg msgs[IOAPIC_PINS];
	if (in_lapic(v, gpa)) {
		struct lapic *l = &vm->dev->lapic[v->index];
		int eoi = (gpa & 0xff0) == LAPIC_EOI ? isr_highest(l) : -1;
		struct lapic_ipi ipi = lapic_write(l, (unsigned)(gpa & 0xff0), (uint32_t)value, vmm_now_ns());
		if (ipi.kind != IPI_NONE)
			route_ipi(v, &ipi);
		if (eoi >= 0) /* the EOI broadcast: level pins waiting for this vector may send again */
			vmm_ioapic_deliver_locked(vm, msgs, ioapic_eoi(&vm->dev->ioapic, (uint8_t)eoi, msgs));
		/* EOI, TPR or timer changes may make something deliverable or move a deadline. */
		atomic_store(&v->irq_hint, true);
		pthread_cond_signal(&vm->dev->clock_cond);
	} else if ((gpa & ~0xfffull) == IOAPIC_BASE) {
		unsigned n = ioapic_write(&vm->dev->ioapic, (unsigned)(gpa & 0xfff), (uint32_t)value, msgs);
		vmm_ioapic_deliver_locked(vm, msgs, n);
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static const struct hvx_mmio_ops mmio_ops = {ram_read, ram_write, mmio_read, mmio_write};

/* ---------------------------------------------------------------- exit handlers */

static enum exit_action on_io(struct vmm_vcpu *v, uint64_t q)
{
	unsigned size = (unsigned)(q & 7) + 1;
	bool in = q & 8, string = q & 0x10, rep = q & 0x20;
	uint16_t port = (uint16_t)(q >> 16);
	if (size != 1 && size != 2 && size != 4)
		return fail(v, "I/O exit with bad size field in qualification 0x%" PRIx64, q);
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	if (!string) {
		if (in) {
			uint32_t val = vmm_pio_in(v->vm, port, size);
			uint64_t rax = rd(v, HV_X86_RAX);
			rax = size == 4 ? val : ((rax & ~(uint64_t)mask) | (val & mask));
			hv_vcpu_write_register(v->id, HV_X86_RAX, rax);
		} else {
			vmm_pio_out(v->vm, port, size, (uint32_t)rd(v, HV_X86_RAX) & mask);
		}
		skip(v);
		return EXIT_CONTINUE;
	}
	/* INS/OUTS: address size and (for OUTS) segment from the instruction information if the backend gives it. */
	uint64_t info = 0;
	bool have_info = hv_vmx_vcpu_read_vmcs(v->id, VMCS_RO_VMX_INSTR_INFO, &info) == HV_SUCCESS;
	uint64_t cs_ar = vmcs(v, VMCS_GUEST_CS_AR), efer = vmcs(v, VMCS_GUEST_IA32_EFER);
	unsigned asz = (efer & EFER_LMA) && (cs_ar & (1u << 13)) ? 64 : (cs_ar & (1u << 14)) ? 32 : 16;
	unsigned segn = 3; /* DS */
	if (have_info && info) {
		unsigned a = (info >> 7) & 7;
		asz = a == 0 ? 16 : a == 1 ? 32 : 64;
		segn = (info >> 15) & 7;
	}
	static const uint32_t seg_base[6] = {VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
					     VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE};
	uint64_t amask = asz == 64 ? ~0ull : (1ull << asz) - 1;
	uint64_t count = rep ? rd(v, HV_X86_RCX) & amask : 1;
	hv_x86_reg_t idx_reg = in ? HV_X86_RDI : HV_X86_RSI;
	uint64_t idx = rd(v, idx_reg);
	uint64_t base = vmcs(v, in ? VMCS_GUEST_ES_BASE : seg_base[segn > 5 ? 3 : segn]);
	int64_t step = (rd(v, HV_X86_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t gpa;
		if (hvx_guest_translate(v->id, &mmio_ops, v, base + (idx & amask), &gpa))
			return fail(v, "%s: guest address 0x%" PRIx64 " is not mapped", in ? "INS" : "OUTS", base + (idx & amask));
		uint32_t val = 0;
		if (in) {
			val = vmm_pio_in(v->vm, port, size);
			vmm_mem_write(&v->vm->mem, gpa, &val, size);
		} else {
			vmm_mem_read(&v->vm->mem, gpa, &val, size);
			vmm_pio_out(v->vm, port, size, val & mask);
		}
		idx = (idx & ~amask) | ((idx + (uint64_t)step) & amask);
		if (atomic_load(&v->vm->stop) != VMM_RUNNING)
			break;
	}
	hv_vcpu_write_register(v->id, idx_reg, idx);
	if (rep)
		hv_vcpu_write_register(v->id, HV_X86_RCX, rd(v, HV_X86_RCX) & ~amask);
	skip(v);
	return EXIT_CONTINUE;
}

static bool irq_available(struct vmm_vcpu *v)
{
	bool pic, nmi;
	return pending_vector(v, &pic, &nmi) >= 0;
}

static enum exit_action on_hlt(struct vmm_vcpu *v)
{
	struct vmm *vm = v->vm;
	skip(v);
	uint64_t intr = vmcs(v, VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & 3) /* STI/MOV-SS blocking ends with the HLT */
		hv_vmx_vcpu_write_vmcs(v->id, VMCS_GUEST_INTERRUPTIBILITY, intr & ~3ull);
	bool iflag = rd(v, HV_X86_RFLAGS) & RFLAGS_IF;
	pthread_mutex_lock(&vm->lock);
	if (!iflag && v->index == 0 && !vm->dev->lapic[0].nmi_pending) {
		vmm_stop_locked(vm, VMM_STOP_HALTED, VMM_EXIT_OK, "guest halted with interrupts disabled");
		pthread_mutex_unlock(&vm->lock);
		return EXIT_STOP;
	}
	while (!vm->stop && !v->init_pending && !(iflag ? irq_available(v) : vm->dev->lapic[v->index].nmi_pending))
		pthread_cond_wait(&vm->wake, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	atomic_store(&v->irq_hint, true);
	return EXIT_CONTINUE;
}

static enum exit_action on_cpuid(struct vmm_vcpu *v)
{
	uint32_t r[4];
	uint32_t leaf = (uint32_t)rd(v, HV_X86_RAX), sub = (uint32_t)rd(v, HV_X86_RCX);
	vmm_cpuid(&v->vm->cfg, v->vm->ncpus, v->index, leaf, sub, r);
	hv_vcpu_write_register(v->id, HV_X86_RAX, r[0]);
	hv_vcpu_write_register(v->id, HV_X86_RBX, r[1]);
	hv_vcpu_write_register(v->id, HV_X86_RCX, r[2]);
	hv_vcpu_write_register(v->id, HV_X86_RDX, r[3]);
	skip(v);
	return EXIT_CONTINUE;
}

static enum exit_action on_msr(struct vmm_vcpu *v, bool write)
{
	uint32_t msr = (uint32_t)rd(v, HV_X86_RCX);
	if (write) {
		uint64_t val = (rd(v, HV_X86_RDX) << 32) | (rd(v, HV_X86_RAX) & 0xffffffffu);
		if (vmm_msr_write(v, msr, val) == MSR_GP) {
			inject_gp(v);
			return EXIT_CONTINUE;
		}
	} else {
		uint64_t val;
		if (vmm_msr_read(v, msr, &val) == MSR_GP) {
			inject_gp(v);
			return EXIT_CONTINUE;
		}
		hv_vcpu_write_register(v->id, HV_X86_RAX, val & 0xffffffffu);
		hv_vcpu_write_register(v->id, HV_X86_RDX, val >> 32);
	}
	skip(v);
	return EXIT_CONTINUE;
}

static const hv_x86_reg_t gpr_by_number[16] = {
	HV_X86_RAX, HV_X86_RCX, HV_X86_RDX, HV_X86_RBX, HV_X86_RSP, HV_X86_RBP, HV_X86_RSI, HV_X86_RDI,
	HV_X86_R8,  HV_X86_R9,  HV_X86_R10, HV_X86_R11, HV_X86_R12, HV_X86_R13, HV_X86_R14, HV_X86_R15,
};

/* MOV to CR0/CR4 that touched a bit VMX forces: keep the guest's view in the shadow, the legal value in the CR. */
static enum exit_action on_cr(struct vmm_vcpu *v, uint64_t q)
{
	struct vmm *vm = v->vm;
	unsigned cr = q & 15, type = (q >> 4) & 3;
	uint64_t val;
	if (type == 0) {
		val = rd(v, gpr_by_number[(q >> 8) & 15]);
	} else if (type == 3) { /* LMSW: low four bits, PE cannot be cleared */
		uint64_t shadow = vmcs(v, VMCS_CTRL_CR0_SHADOW), cur = vmcs(v, VMCS_GUEST_CR0);
		uint64_t guest = (cur & ~cr0_mask(vm)) | (shadow & cr0_mask(vm));
		val = (guest & ~0xeull) | ((q >> 16) & 0xf) | (guest & 1);
		cr = 0;
	} else if (type == 2) { /* CLTS */
		uint64_t shadow = vmcs(v, VMCS_CTRL_CR0_SHADOW), cur = vmcs(v, VMCS_GUEST_CR0);
		val = ((cur & ~cr0_mask(vm)) | (shadow & cr0_mask(vm))) & ~8ull;
		cr = 0;
	} else {
		return fail(v, "unexpected MOV from CR%u exit", cr);
	}
	if (cr == 0) {
		uint64_t old = vmcs(v, VMCS_GUEST_CR0);
		hv_vmx_vcpu_write_vmcs(v->id, VMCS_GUEST_CR0, fix_cr0(vm, val));
		hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_CR0_SHADOW, val);
		uint64_t efer = vmcs(v, VMCS_GUEST_IA32_EFER);
		if ((val ^ old) & CR0_PG && (efer & EFER_LME)) {
			/* Paging toggled with LME: IA-32e mode follows (as the CPU does on an untrapped write). */
			bool on = val & CR0_PG;
			hv_vmx_vcpu_write_vmcs(v->id, VMCS_GUEST_IA32_EFER, on ? efer | EFER_LMA : efer & ~EFER_LMA);
			uint64_t entry = vmcs(v, VMCS_CTRL_VMENTRY_CONTROLS);
			entry = on ? entry | VMENTRY_GUEST_IA32E : entry & ~(uint64_t)VMENTRY_GUEST_IA32E;
			hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_VMENTRY_CONTROLS, cap2ctrl(vm->caps[3], entry));
		}
	} else if (cr == 4) {
		hv_vmx_vcpu_write_vmcs(v->id, VMCS_GUEST_CR4, fix_cr4(vm, val));
		hv_vmx_vcpu_write_vmcs(v->id, VMCS_CTRL_CR4_SHADOW, val);
	} else {
		return fail(v, "unexpected MOV to CR%u exit", cr);
	}
	skip(v);
	return EXIT_CONTINUE;
}

static enum exit_action on_ept(struct vmm_vcpu *v)
{
	struct vmm *vm = v->vm;
	uint64_t gpa = vmcs(v, VMCS_GUEST_PHYSICAL_ADDRESS);
	if (vmm_mem_ptr(&vm->mem, gpa, 1)) {
		/* RAM: a spurious exit the framework may report (first touch); just re-run, but not forever. */
		if (gpa == v->last_ept_gpa && ++v->ept_repeats > 1000)
			return fail(v, "EPT violation on RAM at 0x%" PRIx64 " repeats", gpa);
		if (gpa != v->last_ept_gpa)
			v->ept_repeats = 0;
		v->last_ept_gpa = gpa;
		return EXIT_CONTINUE;
	}
	v->ept_repeats = 0;
	struct hvx_mmio_access acc;
	struct hvx_mmio_fault fault;
	hv_return_t r = hvx_mmio_emulate_ex(v->id, &mmio_ops, v, &acc, &fault);
	if (r == HV_ERROR && fault.valid) {
		if (vm->cfg.trace)
			fprintf(vm->cfg.trace_out, "[cpu%u]   mmio %s raised exception %u (error code 0x%x)\n", v->index,
				acc.mnemonic, fault.vector, fault.error_code);
		inject_fault(v, &fault);
		return EXIT_CONTINUE;
	}
	if (r == HV_UNSUPPORTED)
		return fail(v, "cannot emulate the instruction accessing MMIO at 0x%" PRIx64, gpa);
	if (r)
		return fail(v, "MMIO emulation at 0x%" PRIx64 " failed (0x%x)", gpa, (unsigned)r);
	if (vm->cfg.trace)
		fprintf(vm->cfg.trace_out, "[cpu%u]   mmio %s %s 0x%" PRIx64 " size %u value 0x%" PRIx64 "\n", v->index,
			acc.mnemonic, acc.write ? "write" : "read", acc.gpa, acc.size, acc.value);
	return EXIT_CONTINUE;
}

static void trace_exit(struct vmm_vcpu *v, uint32_t reason, uint64_t at_ns)
{
	struct hvx_exit_raw raw = {.reason = reason};
	static const struct {
		uint32_t field, bit;
		size_t off;
	} fields[] = {
		{VMCS_RO_EXIT_QUALIFIC, HVX_EXIT_HAVE_QUAL, offsetof(struct hvx_exit_raw, qualification)},
		{VMCS_RO_VMX_INSTR_INFO, HVX_EXIT_HAVE_INSTR_INFO, offsetof(struct hvx_exit_raw, instr_info)},
		{VMCS_RO_VMEXIT_IRQ_INFO, HVX_EXIT_HAVE_INTR_INFO, offsetof(struct hvx_exit_raw, intr_info)},
		{VMCS_RO_VMEXIT_IRQ_ERROR, 0, offsetof(struct hvx_exit_raw, intr_error)},
		{VMCS_RO_IDT_VECTOR_INFO, HVX_EXIT_HAVE_IDT_INFO, offsetof(struct hvx_exit_raw, idt_info)},
		{VMCS_RO_IDT_VECTOR_ERROR, 0, offsetof(struct hvx_exit_raw, idt_error)},
		{VMCS_RO_VMEXIT_INSTR_LEN, HVX_EXIT_HAVE_INSTR_LEN, offsetof(struct hvx_exit_raw, instr_len)},
		{VMCS_RO_GUEST_LIN_ADDR, HVX_EXIT_HAVE_GLA, offsetof(struct hvx_exit_raw, guest_linear)},
		{VMCS_GUEST_PHYSICAL_ADDRESS, HVX_EXIT_HAVE_GPA, offsetof(struct hvx_exit_raw, guest_physical)},
	};
	for (unsigned i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		uint64_t x;
		if (hv_vmx_vcpu_read_vmcs(v->id, fields[i].field, &x) != HV_SUCCESS)
			continue;
		char *p = (char *)&raw + fields[i].off;
		if (fields[i].off == offsetof(struct hvx_exit_raw, qualification) ||
		    fields[i].off == offsetof(struct hvx_exit_raw, guest_linear) ||
		    fields[i].off == offsetof(struct hvx_exit_raw, guest_physical))
			memcpy(p, &x, 8);
		else {
			uint32_t y = (uint32_t)x;
			memcpy(p, &y, 4);
		}
		raw.have |= fields[i].bit;
	}
	struct hvx_exit_decoded d;
	char line[512];
	hvx_exit_decode(&raw, &d);
	hvx_exit_format_text(&d, line, sizeof line);
	fprintf(v->vm->cfg.trace_out, "[cpu%u] %10.6f rip=0x%" PRIx64 " %s\n", v->index, (double)at_ns / 1e9,
		rd(v, HV_X86_RIP), line);
}

static enum exit_action on_irq(struct vmm_vcpu *v)
{
	(void)v;
	return EXIT_CONTINUE; /* a kick: interrupts and the stop flag are checked at the loop top */
}

static enum exit_action on_irq_window(struct vmm_vcpu *v)
{
	set_irq_window(v, false);
	atomic_store(&v->irq_hint, true);
	return EXIT_CONTINUE;
}

static enum exit_action on_io_exit(struct vmm_vcpu *v)
{
	return on_io(v, vmcs(v, VMCS_RO_EXIT_QUALIFIC));
}

static enum exit_action on_rdmsr(struct vmm_vcpu *v)
{
	return on_msr(v, false);
}

static enum exit_action on_wrmsr(struct vmm_vcpu *v)
{
	return on_msr(v, true);
}

static enum exit_action on_cr_exit(struct vmm_vcpu *v)
{
	return on_cr(v, vmcs(v, VMCS_RO_EXIT_QUALIFIC));
}

static enum exit_action on_xsetbv(struct vmm_vcpu *v)
{
	uint64_t val = (rd(v, HV_X86_RDX) << 32) | (rd(v, HV_X86_RAX) & 0xffffffffu);
	if (rd(v, HV_X86_RCX) != 0 || !(val & 1) || hv_vcpu_write_register(v->id, HV_X86_XCR0, val)) {
		inject_gp(v);
		return EXIT_CONTINUE;
	}
	skip(v);
	return EXIT_CONTINUE;
}

/* hvx hypercall 0 is a no-op returning 0; other numbers return -1. */
static enum exit_action on_vmcall(struct vmm_vcpu *v)
{
	hv_vcpu_write_register(v->id, HV_X86_RAX, rd(v, HV_X86_RAX) == 0 ? 0 : ~0ull);
	skip(v);
	return EXIT_CONTINUE;
}

static enum exit_action on_triple_fault(struct vmm_vcpu *v)
{
	vmm_stop(v->vm, VMM_STOP_ERROR, VMM_EXIT_GUEST_ERROR, "vCPU %u: triple fault (RIP 0x%" PRIx64 ")", v->index,
		 rd(v, HV_X86_RIP));
	return EXIT_STOP;
}

static enum exit_action on_ept_misconfig(struct vmm_vcpu *v)
{
	return fail(v, "EPT misconfiguration at 0x%" PRIx64, vmcs(v, VMCS_GUEST_PHYSICAL_ADDRESS));
}

/* The exit handlers, by basic exit reason; a reason without one stops the guest with the decoded exit. */
static enum exit_action (*const exit_handlers[VMX_REASON_XSETBV + 1])(struct vmm_vcpu *) = {
	[VMX_REASON_IRQ] = on_irq,
	[VMX_REASON_TRIPLE_FAULT] = on_triple_fault,
	[VMX_REASON_IRQ_WND] = on_irq_window,
	[VMX_REASON_CPUID] = on_cpuid,
	[VMX_REASON_HLT] = on_hlt,
	[VMX_REASON_VMCALL] = on_vmcall,
	[VMX_REASON_MOV_CR] = on_cr_exit,
	[VMX_REASON_IO] = on_io_exit,
	[VMX_REASON_RDMSR] = on_rdmsr,
	[VMX_REASON_WRMSR] = on_wrmsr,
	[VMX_REASON_EPT_VIOLATION] = on_ept,
	[VMX_REASON_EPT_MISCONFIG] = on_ept_misconfig,
	[VMX_REASON_XSETBV] = on_xsetbv,
};

static enum exit_action handle_exit(struct vmm_vcpu *v, uint32_t reason)
{
	if (reason & HVX_EXIT_REASON_ENTRY_FAILURE) {
		uint64_t q = vmcs(v, VMCS_RO_EXIT_QUALIFIC);
		return fail(v,
			    "VM entry failed: reason 0x%08x, qualification 0x%" PRIx64 " (CR0 0x%" PRIx64 " CR4 0x%" PRIx64
			    " EFER 0x%" PRIx64 " entry controls 0x%" PRIx64 " CS AR 0x%" PRIx64 " RFLAGS 0x%" PRIx64 ")",
			    reason, q, vmcs(v, VMCS_GUEST_CR0), vmcs(v, VMCS_GUEST_CR4), vmcs(v, VMCS_GUEST_IA32_EFER),
			    vmcs(v, VMCS_CTRL_VMENTRY_CONTROLS), vmcs(v, VMCS_GUEST_CS_AR), rd(v, HV_X86_RFLAGS));
	}
	unsigned basic = reason & 0xffff;
	if (basic < sizeof exit_handlers / sizeof exit_handlers[0] && exit_handlers[basic])
		return exit_handlers[basic](v);
	struct hvx_exit_raw raw = {.reason = reason, .qualification = vmcs(v, VMCS_RO_EXIT_QUALIFIC),
				   .have = HVX_EXIT_HAVE_QUAL};
	struct hvx_exit_decoded d;
	char line[256];
	hvx_exit_decode(&raw, &d);
	hvx_exit_format_text(&d, line, sizeof line);
	return fail(v, "unhandled exit: %s", line);
}

/* ---------------------------------------------------------------- the thread */

static bool stopping(struct vmm *vm)
{
	return atomic_load(&vm->stop) != VMM_RUNNING;
}

/* Application processor: wait for INIT + SIPI. Returns false when the VM stops first. */
static bool wait_for_sipi(struct vmm_vcpu *v)
{
	struct vmm *vm = v->vm;
	pthread_mutex_lock(&vm->lock);
	v->running = false;
	while (!vm->stop && !v->sipi_pending)
		pthread_cond_wait(&vm->wake, &vm->lock);
	bool go = !vm->stop;
	uint8_t vec = v->sipi_vector;
	v->sipi_pending = false;
	v->init_pending = false;
	v->running = go;
	pthread_mutex_unlock(&vm->lock);
	if (!go)
		return false;
	hv_return_t r = setup_state(v, VMM_MODE_REAL, 0, (uint16_t)(vec << 8), NULL);
	if (r) {
		vmm_stop(vm, VMM_STOP_ERROR, VMM_EXIT_GUEST_ERROR, "vCPU %u: setting up the SIPI state failed (0x%x)", v->index,
			 (unsigned)r);
		return false;
	}
	atomic_fetch_add(&vm->started_cpus, 1);
	return true;
}

void *vmm_vcpu_thread(void *arg)
{
	struct vmm_vcpu *v = arg;
	struct vmm *vm = v->vm;
	hv_return_t r = hv_vcpu_create(&v->id, HV_VCPU_DEFAULT);
	if (r) {
		vmm_stop(vm, VMM_STOP_ERROR, VMM_EXIT_GUEST_ERROR, "hv_vcpu_create for vCPU %u failed (0x%x)", v->index,
			 (unsigned)r);
		return NULL;
	}
	pthread_mutex_lock(&vm->lock);
	v->created = true;
	pthread_mutex_unlock(&vm->lock);

	if (v->index == 0) {
		uint16_t cs = vm->boot_mode == VMM_MODE_REAL && vm->boot_entry >= 0x10000 ? (uint16_t)((vm->boot_entry >> 4) & 0xf000) : 0;
		uint64_t ip = vm->boot_mode == VMM_MODE_REAL ? vm->boot_entry - ((uint64_t)cs << 4) : vm->boot_entry;
		r = setup_state(v, vm->boot_mode, ip, cs, vm->boot_regs);
		if (r) {
			vmm_stop(vm, VMM_STOP_ERROR, VMM_EXIT_GUEST_ERROR,
				 "setting up the boot vCPU failed (0x%x; VMCS field 0x%x)", (unsigned)r, v->bad_field);
			goto out;
		}
		pthread_mutex_lock(&vm->lock);
		v->running = true;
		pthread_mutex_unlock(&vm->lock);
		atomic_fetch_add(&vm->started_cpus, 1);
	} else if (!wait_for_sipi(v)) {
		goto out;
	}

	uint32_t last_reason = 0;
	uint64_t t_exit = 0;
	bool have_last = false;
	atomic_store(&v->irq_hint, true);
	while (!stopping(vm)) {
		if (v->init_pending && v->index != 0) {
			if (!wait_for_sipi(v))
				break;
		}
		inject_pending(v);
		uint64_t t_enter = vmm_now_ns();
		if (have_last)
			vmm_stats_record(&v->stats, last_reason, t_enter - t_exit, t_exit - vm->start_ns);
		r = hv_vcpu_run(v->id);
		t_exit = vmm_now_ns();
		v->stats.guest_ns += t_exit - t_enter;
		have_last = false;
		if (r == HV_UNSUPPORTED) {
			vmm_stop(vm, VMM_STOP_UNSUPPORTED, VMM_EXIT_UNSUPPORTED,
				 "backend '%s' cannot run guests yet (hv_vcpu_run returned HV_UNSUPPORTED)",
				 hvx_vm_backend_name() ? hvx_vm_backend_name() : "?");
			break;
		}
		if (r) {
			vmm_stop(vm, VMM_STOP_ERROR, VMM_EXIT_GUEST_ERROR, "vCPU %u: hv_vcpu_run failed (0x%x)", v->index,
				 (unsigned)r);
			break;
		}
		v->event_injected = false;
		uint64_t reason = 0;
		hv_vmx_vcpu_read_vmcs(v->id, VMCS_RO_EXIT_REASON, &reason);
		reinject_idt_vectoring(v);
		last_reason = (uint32_t)reason & 0xffff;
		if (reason & HVX_EXIT_REASON_ENTRY_FAILURE)
			last_reason = VMM_STATS_REASONS - 1;
		have_last = true;
		if (vm->cfg.trace)
			trace_exit(v, (uint32_t)reason, t_exit - vm->start_ns);
		if (handle_exit(v, (uint32_t)reason) == EXIT_STOP)
			break;
	}
	if (have_last)
		vmm_stats_record(&v->stats, last_reason, vmm_now_ns() - t_exit, t_exit - vm->start_ns);
out:
	pthread_mutex_lock(&vm->lock);
	v->running = false;
	if (v->index == 0 && vm->stop == VMM_RUNNING)
		vmm_stop_locked(vm, VMM_STOP_ERROR, VMM_EXIT_GUEST_ERROR, "boot vCPU stopped unexpectedly");
	pthread_mutex_unlock(&vm->lock);
	hv_vcpu_destroy(v->id);
	pthread_mutex_lock(&vm->lock);
	v->created = false;
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}
