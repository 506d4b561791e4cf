/* harness.c: conformance-test harness: guest set-up in real, protected and long mode through the public API only, watchdog-guarded runs, exit-field assertions. */
#include "harness.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hvx/hvx.h>
#include <hvx/hvx_exit.h>

#define WATCHDOG_MS 2000u
#define IRQ_RETRIES 16

/* ------------------------------------------------------------------ names */

const char *h_reason_name(unsigned basic)
{
	const struct hvx_exit_reason_info *i = hvx_exit_reason_lookup(basic);
	const char *n = i ? hvx_exit_reason_short_name(i) : NULL;
	return n ? n : "?";
}

int h_reason_by_name(const char *name)
{
	const struct hvx_exit_reason_info *i = hvx_exit_reason_by_name(name);
	return i ? (int)i->number : -1;
}

/* ------------------------------------------------------------------ small accessors */

static void fail(struct h_ctx *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct h_ctx *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("  FAIL [%s] ", h->case_name ? h->case_name : "?");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	h->failures++;
}

uint64_t h_reg(struct h_ctx *h, hv_x86_reg_t reg)
{
	uint64_t v = 0;
	hv_return_t r = hv_vcpu_read_register(h->vcpu, reg, &v);
	if (r != HV_SUCCESS)
		fail(h, "hv_vcpu_read_register(%d) returned 0x%x", (int)reg, (unsigned)r);
	return v;
}

void h_set_reg(struct h_ctx *h, hv_x86_reg_t reg, uint64_t v)
{
	hv_return_t r = hv_vcpu_write_register(h->vcpu, reg, v);
	if (r != HV_SUCCESS)
		fail(h, "hv_vcpu_write_register(%d, 0x%" PRIx64 ") returned 0x%x", (int)reg, v, (unsigned)r);
}

uint64_t h_vmcs(struct h_ctx *h, uint32_t field)
{
	uint64_t v = 0;
	hv_return_t r = hv_vmx_vcpu_read_vmcs(h->vcpu, field, &v);
	if (r != HV_SUCCESS)
		fail(h, "hv_vmx_vcpu_read_vmcs(0x%x) returned 0x%x", field, (unsigned)r);
	return v;
}

void h_set_vmcs(struct h_ctx *h, uint32_t field, uint64_t v)
{
	hv_return_t r = hv_vmx_vcpu_write_vmcs(h->vcpu, field, v);
	if (r != HV_SUCCESS)
		fail(h, "hv_vmx_vcpu_write_vmcs(0x%x, 0x%" PRIx64 ") returned 0x%x", field, v, (unsigned)r);
}

/* ------------------------------------------------------------------ set-up */

static const uint32_t ctl_fields[5] = {
	VMCS_CTRL_PIN_BASED, VMCS_CTRL_CPU_BASED, VMCS_CTRL_CPU_BASED2, VMCS_CTRL_VMENTRY_CONTROLS,
	VMCS_CTRL_VMEXIT_CONTROLS,
};
static const char *const ctl_names[5] = {"pin-based", "primary", "secondary", "entry", "exit"};

static void desired_words(const struct h_ctrls *c, enum h_mode mode, uint32_t w[5])
{
	w[0] = c->pin;
	w[1] = c->proc;
	w[2] = c->proc2;
	w[3] = c->entry;
	w[4] = c->exit;
	if (mode == H_REAL)
		w[2] |= CPU_BASED2_UNRESTRICTED | CPU_BASED2_EPT; /* real mode needs unrestricted guest (dropped if not offered) */
	if (mode == H_LONG64)
		w[3] |= VMENTRY_GUEST_IA32E;
	if (w[2])
		w[1] |= CPU_BASED_SECONDARY_CTLS;
}

const char *h_ctrls_unsupported(const struct h_ctx *h, const struct h_ctrls *c, char *buf, size_t size)
{
	const uint32_t want[5] = {c->pin, c->proc | (c->proc2 ? CPU_BASED_SECONDARY_CTLS : 0), c->proc2, c->entry, c->exit};
	const uint32_t off[5] = {c->pin_off, c->proc_off, c->proc2_off, 0, 0};
	for (int i = 0; i < 5; i++) {
		uint32_t may1 = (uint32_t)(h->cap[i] >> 32), must1 = (uint32_t)h->cap[i];
		if (want[i] & ~may1) {
			snprintf(buf, size, "%s control bits 0x%x not allowed (allowed-1 0x%x)", ctl_names[i],
				 want[i] & ~may1, may1);
			return buf;
		}
		if (off[i] & must1) {
			snprintf(buf, size, "%s control bits 0x%x cannot be cleared (must-be-1 0x%x)", ctl_names[i],
				 off[i] & must1, must1);
			return buf;
		}
	}
	return NULL;
}

static void put64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, sizeof v);
}

static void write_tables(uint8_t *m)
{
	put64(m, H_GDT + 0x08, 0x00cf9b000000ffffull); /* code32 */
	put64(m, H_GDT + 0x10, 0x00cf93000000ffffull); /* data32 */
	put64(m, H_GDT + 0x18, 0x00af9b000000ffffull); /* code64: L=1, D=0 */
	put64(m, H_GDT + 0x20, 0x00cf93000000ffffull); /* data64 */
	put64(m, H_GDT + 0x28, 0x0000890000000067ull | ((uint64_t)H_TSS_AVAIL_BASE << 16)); /* available TSS32 */
	put64(m, H_GDT + 0x30, 0x00008b0000000067ull | ((uint64_t)H_TSS_BASE << 16));       /* busy TSS (16 bytes) */
	put64(m, H_GDT + 0x40, 0x00affb000000ffffull); /* code64, DPL 3 */
	put64(m, H_GDT + 0x48, 0x00cff3000000ffffull); /* data, DPL 3 */
	/* Present, writable, user-accessible (U/S = 1 so ring-3 cases can run; supervisor accesses are unaffected). */
	put64(m, H_PML4, H_PDPT | 7);
	put64(m, H_PDPT + 0 * 8, H_PD0 | 7);
	put64(m, H_PDPT + 3 * 8, H_PD3 | 7);
	for (uint64_t i = 0; i < 512; i++) {
		put64(m, H_PD0 + i * 8, (i << 21) | 0x87);
		put64(m, H_PD3 + i * 8, ((3ull << 30) | (i << 21)) | 0x87);
	}
}

struct seg {
	uint32_t sel_field, base_field, limit_field, ar_field;
};
static const struct seg segs[6] = {
	{VMCS_GUEST_ES, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR},
	{VMCS_GUEST_CS, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR},
	{VMCS_GUEST_SS, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR},
	{VMCS_GUEST_DS, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR},
	{VMCS_GUEST_FS, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR},
	{VMCS_GUEST_GS, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR},
};

static void set_seg(struct h_ctx *h, int i, uint64_t sel, uint64_t base, uint64_t limit, uint64_t ar)
{
	h_set_vmcs(h, segs[i].sel_field, sel);
	h_set_vmcs(h, segs[i].base_field, base);
	h_set_vmcs(h, segs[i].limit_field, limit);
	h_set_vmcs(h, segs[i].ar_field, ar);
}

static void set_mode(struct h_ctx *h, enum h_mode mode)
{
	uint64_t cr0, cr4, efer = 0;
	switch (mode) {
	case H_REAL:
		cr0 = 0x20; /* NE */
		cr4 = 0x2000; /* VMXE */
		for (int i = 0; i < 6; i++)
			set_seg(h, i, 0, 0, 0xffff, i == 1 ? 0x9b : 0x93);
		h_set_vmcs(h, VMCS_GUEST_TR, 0);
		h_set_vmcs(h, VMCS_GUEST_TR_BASE, 0);
		h_set_vmcs(h, VMCS_GUEST_TR_LIMIT, 0);
		h_set_vmcs(h, VMCS_GUEST_TR_AR, 0x83);
		h_set_vmcs(h, VMCS_GUEST_GDTR_BASE, 0);
		h_set_vmcs(h, VMCS_GUEST_GDTR_LIMIT, 0);
		h_set_vmcs(h, VMCS_GUEST_IDTR_BASE, 0);
		h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0x3ff);
		break;
	case H_PROT32:
		cr0 = 0x21; /* PE | NE */
		cr4 = 0x2000;
		for (int i = 0; i < 6; i++)
			set_seg(h, i, i == 1 ? H_SEL_CODE32 : H_SEL_DATA32, 0, 0xffffffff, i == 1 ? 0xc09b : 0xc093);
		break;
	default:
		cr0 = 0x80000021; /* PG | NE | PE */
		cr4 = 0x2020;     /* VMXE | PAE */
		efer = 0x500;     /* LMA | LME */
		for (int i = 0; i < 6; i++)
			set_seg(h, i, i == 1 ? H_SEL_CODE64 : H_SEL_DATA64, 0, 0xffffffff, i == 1 ? 0xa09b : 0xa093);
		break;
	}
	if (mode != H_REAL) {
		h_set_vmcs(h, VMCS_GUEST_TR, H_SEL_TSS);
		h_set_vmcs(h, VMCS_GUEST_TR_BASE, H_TSS_BASE);
		h_set_vmcs(h, VMCS_GUEST_TR_LIMIT, 0x67);
		h_set_vmcs(h, VMCS_GUEST_TR_AR, 0x8b);
		h_set_vmcs(h, VMCS_GUEST_GDTR_BASE, H_GDT);
		h_set_vmcs(h, VMCS_GUEST_GDTR_LIMIT, 0x4f);
		h_set_vmcs(h, VMCS_GUEST_IDTR_BASE, H_IDT);
		h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0);
	}
	h_set_vmcs(h, VMCS_GUEST_LDTR, 0);
	h_set_vmcs(h, VMCS_GUEST_LDTR_BASE, 0);
	h_set_vmcs(h, VMCS_GUEST_LDTR_LIMIT, 0);
	h_set_vmcs(h, VMCS_GUEST_LDTR_AR, 0x10000);
	h_set_vmcs(h, VMCS_GUEST_CR0, cr0);
	h_set_vmcs(h, VMCS_GUEST_CR3, mode == H_LONG64 ? H_PML4 : 0);
	h_set_vmcs(h, VMCS_GUEST_CR4, cr4);
	h_set_vmcs(h, VMCS_GUEST_IA32_EFER, efer);
	/* CD/NW are host-owned (Apple requires it), VMXE too: the guest sees shadows with those bits clear. */
	h_set_vmcs(h, VMCS_CTRL_CR0_MASK, 0x60000000);
	h_set_vmcs(h, VMCS_CTRL_CR0_SHADOW, 0);
	h_set_vmcs(h, VMCS_CTRL_CR4_MASK, 0x2000);
	h_set_vmcs(h, VMCS_CTRL_CR4_SHADOW, 0);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 0);
	h_set_vmcs(h, VMCS_CTRL_PF_ERROR_MASK, 0);
	h_set_vmcs(h, VMCS_CTRL_PF_ERROR_MATCH, 0);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 0);
	h_set_vmcs(h, VMCS_GUEST_ACTIVITY_STATE, 0);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, 0);
	h_set_reg(h, HV_X86_RIP, H_CODE);
	h_set_reg(h, HV_X86_RFLAGS, 0x2);
	h_set_reg(h, HV_X86_RSP, H_STACK_TOP);
}

static bool load_file(struct h_ctx *h, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fail(h, "cannot open guest %s: %s", path, strerror(errno));
		return false;
	}
	size_t n = fread(h->mem + H_CODE, 1, H_DATA - H_CODE, f);
	fclose(f);
	if (n == 0) {
		fail(h, "guest %s is empty", path);
		return false;
	}
	return true;
}

bool h_setup(struct h_ctx *h, enum h_mode mode, const char *guest, const struct h_ctrls *c)
{
	int before = h->failures;
	h->mode = mode;
	h->nextra = 0;
	hv_return_t r = hvx_vm_create_with_backend(HV_VM_DEFAULT, h->backend);
	if (r != HV_SUCCESS) {
		fail(h, "hvx_vm_create_with_backend(%s) returned 0x%x", h->backend, (unsigned)r);
		return false;
	}
	h->vm_up = true;
	h->mem = aligned_alloc(4096, H_MEM_SIZE);
	if (!h->mem) {
		fail(h, "out of memory");
		return false;
	}
	memset(h->mem, 0, H_MEM_SIZE);
	write_tables(h->mem);
	if (guest && !load_file(h, guest))
		return false;
	r = hv_vm_map(h->mem, 0, H_MEM_SIZE, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC);
	if (r != HV_SUCCESS) {
		fail(h, "hv_vm_map returned 0x%x", (unsigned)r);
		return false;
	}
	r = hv_vcpu_create(&h->vcpu, HV_VCPU_DEFAULT);
	if (r != HV_SUCCESS) {
		fail(h, "hv_vcpu_create returned 0x%x", (unsigned)r);
		return false;
	}
	h->vcpu_up = true;
	uint32_t want[5];
	desired_words(c, mode, want);
	for (int i = 0; i < 5; i++) {
		h->ctl[i] = h_cap2ctrl(h->cap[i], want[i]);
		h_set_vmcs(h, ctl_fields[i], h->ctl[i]);
	}
	set_mode(h, mode);
	return h->failures == before;
}

void *h_map(struct h_ctx *h, uint64_t gpa, size_t size, hv_memory_flags_t flags)
{
	if (h->nextra >= sizeof h->extra_maps / sizeof h->extra_maps[0])
		return NULL;
	void *p = aligned_alloc(4096, size);
	if (!p)
		return NULL;
	memset(p, 0, size);
	hv_return_t r = hv_vm_map(p, gpa, size, flags);
	if (r != HV_SUCCESS) {
		fail(h, "hv_vm_map(gpa 0x%" PRIx64 ", flags 0x%" PRIx64 ") returned 0x%x", gpa, (uint64_t)flags, (unsigned)r);
		free(p);
		return NULL;
	}
	h->extra_maps[h->nextra++] = p;
	return p;
}

void h_teardown(struct h_ctx *h)
{
	if (h->vcpu_up)
		hv_vcpu_destroy(h->vcpu);
	if (h->vm_up)
		hv_vm_destroy();
	h->vcpu_up = h->vm_up = false;
	free(h->mem);
	h->mem = NULL;
	for (unsigned i = 0; i < h->nextra; i++)
		free(h->extra_maps[i]);
	h->nextra = 0;
}

/* ------------------------------------------------------------------ running */

struct watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool disarmed, fired;
	unsigned ms;
	hv_vcpuid_t vcpu;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += w->ms / 1000;
	until.tv_nsec += (long)(w->ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->disarmed)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
			break;
	if (!w->disarmed) {
		w->fired = true;
		hv_vcpu_interrupt(&w->vcpu, 1); /* under the lock: never after disarm */
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void watchdog_arm(struct watchdog *w, hv_vcpuid_t vcpu, unsigned ms)
{
	memset(w, 0, sizeof *w);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->ms = ms;
	w->vcpu = vcpu;
	pthread_create(&w->thread, NULL, watchdog_main, w);
}

static bool watchdog_disarm(struct watchdog *w)
{
	pthread_mutex_lock(&w->lock);
	w->disarmed = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	return w->fired;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void read_exit(struct h_ctx *h)
{
	struct h_exit *x = &h->x;
	x->reason = h_vmcs(h, VMCS_RO_EXIT_REASON);
	x->qual = h_vmcs(h, VMCS_RO_EXIT_QUALIFIC);
	x->len = h_vmcs(h, VMCS_RO_VMEXIT_INSTR_LEN);
	x->info = h_vmcs(h, VMCS_RO_VMX_INSTR_INFO);
	x->gla = h_vmcs(h, VMCS_RO_GUEST_LIN_ADDR);
	x->gpa = h_vmcs(h, VMCS_GUEST_PHYSICAL_ADDRESS);
	x->intr = h_vmcs(h, VMCS_RO_VMEXIT_IRQ_INFO);
	x->intr_err = h_vmcs(h, VMCS_RO_VMEXIT_IRQ_ERROR);
	x->idt = h_vmcs(h, VMCS_RO_IDT_VECTOR_INFO);
	x->idt_err = h_vmcs(h, VMCS_RO_IDT_VECTOR_ERROR);
	x->rip = h_vmcs(h, VMCS_GUEST_RIP);
	x->rflags = h_vmcs(h, VMCS_GUEST_RFLAGS);
	x->activity = h_vmcs(h, VMCS_GUEST_ACTIVITY_STATE);
	x->interruptibility = h_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY);
}

static void run_once(struct h_ctx *h, unsigned kick_ms, bool keep_irq, uint64_t deadline_ns)
{
	memset(&h->x, 0, sizeof h->x);
	for (int tries = 0;; tries++) {
		struct watchdog w;
		watchdog_arm(&w, h->vcpu, kick_ms ? kick_ms : WATCHDOG_MS);
		hv_return_t r;
		if (deadline_ns)
			r = hv_vcpu_run_until(h->vcpu, now_ns() + deadline_ns);
		else if (h->deadline_ok && !kick_ms)
			r = hv_vcpu_run_until(h->vcpu, now_ns() + WATCHDOG_MS * 1000000ull);
		else
			r = hv_vcpu_run(h->vcpu);
		bool fired = watchdog_disarm(&w);
		h->x.run_ret = r;
		if (r != HV_SUCCESS) {
			fail(h, "hv_vcpu_run returned 0x%x", (unsigned)r);
			return;
		}
		read_exit(h);
		if (kick_ms) {
			h->x.timed_out = false;
			return;
		}
		if (fired) {
			h->x.timed_out = true;
			fail(h, "guest did not exit within %u ms (watchdog kick)", WATCHDOG_MS);
			return;
		}
		if ((h->x.reason & 0xffff) == VMX_REASON_VMX_TIMER_EXPIRED && h->deadline_ok && !deadline_ns) {
			/* The run deadline is the preemption timer: only a timeout if the guest programmed no timer itself. */
			if (!(h->ctl[0] & PIN_BASED_PREEMPTION_TIMER)) {
				h->x.timed_out = true;
				fail(h, "guest did not exit before the %u-ms run deadline", WATCHDOG_MS);
			}
			return;
		}
		/* A host interrupt may surface as VMX_REASON_IRQ (spec 2.6): re-run, a bounded number of times. */
		if (h->x.reason != VMX_REASON_IRQ || keep_irq || tries >= IRQ_RETRIES)
			return;
	}
}

void h_run(struct h_ctx *h)
{
	run_once(h, 0, false, 0);
}

void h_run_kick_after(struct h_ctx *h, unsigned ms)
{
	run_once(h, ms, true, 0);
}

void h_run_keep_irq(struct h_ctx *h)
{
	run_once(h, 0, true, 0);
}

void h_run_deadline(struct h_ctx *h, uint64_t ns)
{
	run_once(h, 0, false, ns);
}

void h_ring3(struct h_ctx *h)
{
	h_set_vmcs(h, VMCS_GUEST_CS, H_SEL_CODE64_U | 3);
	h_set_vmcs(h, VMCS_GUEST_CS_AR, 0xa0fb);
	h_set_vmcs(h, VMCS_GUEST_SS, H_SEL_DATA_U | 3);
	h_set_vmcs(h, VMCS_GUEST_SS_AR, 0xc0f3);
}

void h_skip(struct h_ctx *h)
{
	h_set_vmcs(h, VMCS_GUEST_RIP, h->x.rip + h->x.len);
}

/* ------------------------------------------------------------------ assertions */

void h_dump_exit(struct h_ctx *h)
{
	const struct h_exit *x = &h->x;
	printf("    exit: reason 0x%" PRIx64 " (%s) qual 0x%" PRIx64 " len 0x%" PRIx64 " info 0x%" PRIx64 "\n", x->reason,
	       h_reason_name(x->reason & 0xffff), x->qual, x->len, x->info);
	printf("          gla 0x%" PRIx64 " gpa 0x%" PRIx64 " intr 0x%" PRIx64 "/0x%" PRIx64 " idt 0x%" PRIx64
	       "/0x%" PRIx64 "\n",
	       x->gla, x->gpa, x->intr, x->intr_err, x->idt, x->idt_err);
	printf("          rip 0x%" PRIx64 " rflags 0x%" PRIx64 " activity %" PRIu64 " interruptibility 0x%" PRIx64 "\n",
	       x->rip, x->rflags, x->activity, x->interruptibility);
	struct hvx_exit_raw raw = {
		.reason = (uint32_t)x->reason, .qualification = x->qual, .instr_info = (uint32_t)x->info,
		.intr_info = (uint32_t)x->intr, .intr_error = (uint32_t)x->intr_err, .idt_info = (uint32_t)x->idt,
		.idt_error = (uint32_t)x->idt_err, .instr_len = (uint32_t)x->len, .guest_linear = x->gla,
		.guest_physical = x->gpa, .have = HVX_EXIT_HAVE_ALL,
	};
	struct hvx_exit_decoded d;
	char text[512];
	if (hvx_exit_decode(&raw, &d) == 0) {
		hvx_exit_format_text(&d, text, sizeof text);
		printf("          %s\n", text);
	}
}

bool h_expect_reason(struct h_ctx *h, uint32_t want)
{
	if (h->x.run_ret != HV_SUCCESS || h->x.timed_out)
		return false;
	if (h->x.reason == want)
		return true;
	fail(h, "exit reason: wanted 0x%x (%s%s), got 0x%" PRIx64 " (%s%s)", want, h_reason_name(want & 0xffff),
	     (want >> 31) ? ", entry failure" : "", h->x.reason, h_reason_name(h->x.reason & 0xffff),
	     (h->x.reason >> 31) & 1 ? ", entry failure" : "");
	h_dump_exit(h);
	return false;
}

void h_expect(struct h_ctx *h, const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		fail(h, "%s: wanted 0x%" PRIx64 ", got 0x%" PRIx64, what, want, got);
}

void h_expect_masked(struct h_ctx *h, const char *what, uint64_t got, uint64_t want, uint64_t mask)
{
	if ((got & mask) != (want & mask))
		fail(h, "%s (bits 0x%" PRIx64 "): wanted 0x%" PRIx64 ", got 0x%" PRIx64, what, mask, want & mask,
		     got & mask);
}

void h_expect_true(struct h_ctx *h, const char *what, bool ok)
{
	if (!ok)
		fail(h, "%s", what);
}

void h_expect_insn_exit(struct h_ctx *h, uint32_t reason, uint64_t rip, uint64_t len, uint64_t qual, uint64_t info,
			uint64_t info_mask)
{
	if (!h_expect_reason(h, reason))
		return;
	int before = h->failures;
	h_expect(h, "guest RIP (fault-like: the instruction)", h->x.rip, rip);
	h_expect(h, "VM-exit instruction length", h->x.len, len);
	h_expect(h, "exit qualification", h->x.qual, qual);
	if (info_mask)
		h_expect_masked(h, "VM-exit instruction information", h->x.info, info, info_mask);
	else if (H_ZERO_UNDEFINED)
		h_expect(h, "VM-exit instruction information (undefined: hvx writes 0)", h->x.info, 0);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, 1u << 31);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, 1u << 31);
	h_expect_masked(h, "guest RFLAGS.RF (instruction exits save RF = 0)", h->x.rflags, 0, 1u << 16);
	if (H_ZERO_UNDEFINED && !h->gla_defined) {
		h_expect(h, "guest-linear address (undefined: hvx writes 0)", h->x.gla, 0);
		h_expect(h, "guest-physical address (undefined: hvx writes 0)", h->x.gpa, 0);
	}
	if (h->failures != before)
		h_dump_exit(h);
}

void h_expect_sentinel(struct h_ctx *h, uint64_t rip)
{
	/* out 0xf4, al: E6 F4, byte, OUT, immediate operand. */
	h_expect_insn_exit(h, VMX_REASON_IO, rip, 2, ((uint64_t)H_SENTINEL_PORT << 16) | (1u << 6), 0, 0);
}
