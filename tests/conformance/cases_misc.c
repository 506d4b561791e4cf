/* cases_misc.c: conformance cases for XSAVES/XRSTORS, ENCLS, UMWAIT/TPAUSE (exits, their controls and bitmaps, what ranks above them, and the instructions executing when they do not exit), PML and SPP. */
#include <Hypervisor/hv_arch_vmx.h>
#include <hvx/hvx.h>

#include <time.h>

#include "cases.h"

#define CTL(...) ((struct h_ctrls){__VA_ARGS__})
#define IOX CPU_BASED_UNCOND_IO /* the sentinel `out 0xf4, al` exits */
#define CR4_TSD (1ull << 2)
#define CR4_OSXSAVE (1ull << 18)
#define MISC "misc_long"

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void exc_exit(struct h_ctx *h, unsigned vec, bool err, uint64_t rip)
{
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << vec);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | vec | (err ? INTR_ERR : 0), 0, rip, 0);
}

static uint64_t rd64(struct h_ctx *h, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, h->mem + gpa, 8);
	return v;
}

/* ------------------------------------------------------------------ XSAVES / XRSTORS */

/* IA32_XSS = xss (a managed MSR: the framework holds it), CR4.OSXSAVE = 1, XCR0 = 3, XSS-exiting bitmap = bitmap. */
static bool xss(struct h_ctx *h, uint64_t xss_value, uint64_t bitmap)
{
	if (!(h->cap_cr4_fixed1 & CR4_OSXSAVE)) {
		h_decline(h, "CR4_FIXED1 does not allow CR4.OSXSAVE");
		return false;
	}
	if (hv_vcpu_enable_managed_msr(h->vcpu, 0xda0, true) != HV_SUCCESS ||
	    hv_vcpu_write_msr(h->vcpu, 0xda0, xss_value) != HV_SUCCESS) {
		h_decline(h, "IA32_XSS cannot be managed and written");
		return false;
	}
	h_set_vmcs(h, VMCS_GUEST_CR4, 0x2020 | CR4_OSXSAVE);
	h_set_reg(h, HV_X86_XCR0, 3); /* x87 | SSE */
	h_set_vmcs(h, VMCS_CTRL_XSS_EXITING_BITMAP, bitmap);
	return true;
}

static void edxeax(struct h_ctx *h, uint64_t v)
{
	SET(h, RAX, (v & 0xffffffffu) | 0xabcd000000000000ull); /* bits 63:32 of RAX are ignored */
	SET(h, RDX, v >> 32);
}

static void xsaves_exit_index(struct h_ctx *h)
{
	if (!xss(h, 0x100, 0x100))
		return;
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\xc7\x6c\xb3\x40");
	h_start(h, rip);
	edxeax(h, 0x103);
	SET(h, RBX, H_DATA);
	SET(h, RSI, 4);
	memset(h->mem + H_DATA, 0x5a, 0x800);
	h_run(h);
	/* scale x4, 64-bit addresses, DS, index RSI, base RBX */
	h_expect_insn_exit(h, VMX_REASON_XSAVES, rip, 5, 0x40, 0x01998102, II_MEM_INDEX);
	EXPECT_REG(h, RBX, H_DATA);
	EXPECT_REG(h, RSI, 4);
	EXPECT_REG(h, RDX, 0);
	h_expect(h, "memory unchanged (fault-like)", rd64(h, H_DATA + 0x50 + 512), 0x5a5a5a5a5a5a5a5aull);
}

/* The exit ranks above the alignment #GP (it is not privilege-based). */
static void xsaves_exit_misaligned(struct h_ctx *h)
{
	if (!xss(h, 0x100, ~0ull))
		return;
	uint64_t rip = AT(h, H_SLOT(1), "\x0f\xc7\x2b");
	h_start(h, rip);
	edxeax(h, ~0ull);
	SET(h, RBX, H_DATA + 8);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_XSAVES, rip, 3, 0, 0x01c18100, II_MEM_NOINDEX);
}

/* Bitmap and IA32_XSS overlap, but not EDX:EAX: no exit; XSAVES writes the compacted image of RFBM = SSE. */
static void xsaves_no_exit_saves_compacted(struct h_ctx *h)
{
	if (!xss(h, 0x100, 0x100))
		return;
	uint8_t fp[4096];
	hv_vcpu_read_fpstate(h->vcpu, fp, sizeof fp);
	uint32_t mxcsr = 0x1fa0;
	memcpy(fp + 24, &mxcsr, 4);
	for (int i = 0; i < 16; i++)
		fp[160 + i] = (uint8_t)(0xc0 + i); /* XMM0 */
	fp[160 + 16 * 15] = 0x77;              /* XMM15 */
	hv_vcpu_write_fpstate(h->vcpu, fp, sizeof fp);
	uint64_t rip = AT(h, H_SLOT(1), "\x0f\xc7\x2b");
	h_start(h, rip);
	edxeax(h, 2);
	SET(h, RBX, H_DATA);
	memset(h->mem + H_DATA, 0xa5, 0x400);
	h_run(h);
	h_expect_sentinel(h, rip + 3);
	h_expect(h, "XSTATE_BV (RFBM AND XINUSE)", rd64(h, H_DATA + 512), 2);
	h_expect(h, "XCOMP_BV (bit 63 | RFBM)", rd64(h, H_DATA + 520), (1ull << 63) | 2);
	h_expect(h, "header bytes 16..23 not written", rd64(h, H_DATA + 528), 0xa5a5a5a5a5a5a5a5ull);
	uint32_t got_mxcsr;
	memcpy(&got_mxcsr, h->mem + H_DATA + 24, 4);
	h_expect(h, "MXCSR saved", got_mxcsr, 0x1fa0);
	h_expect(h, "XMM0 low quadword saved", rd64(h, H_DATA + 160), 0xc7c6c5c4c3c2c1c0ull);
	h_expect(h, "XMM15 low byte saved (64-bit mode: 16 registers)", h->mem[H_DATA + 160 + 16 * 15], 0x77);
	h_expect(h, "x87 FCW not saved (RFBM[0] = 0)", h->mem[H_DATA], 0xa5);
	h_expect(h, "ST0 not saved", rd64(h, H_DATA + 32), 0xa5a5a5a5a5a5a5a5ull);
	h_expect(h, "bytes 416..511 not written", rd64(h, H_DATA + 416), 0xa5a5a5a5a5a5a5a5ull);
}

/* IA32_XSS = 0: no exit whatever EDX:EAX and the bitmap hold; both components are saved. */
static void xsaves_xss_zero_no_exit(struct h_ctx *h)
{
	if (!xss(h, 0, ~0ull))
		return;
	uint64_t rip = AT(h, H_SLOT(1), "\x0f\xc7\x2b");
	h_start(h, rip);
	edxeax(h, ~0ull);
	SET(h, RBX, H_DATA);
	memset(h->mem + H_DATA, 0xa5, 0x400);
	h_run(h);
	h_expect_sentinel(h, rip + 3);
	h_expect(h, "XSTATE_BV (x87 | SSE)", rd64(h, H_DATA + 512), 3);
	h_expect(h, "XCOMP_BV", rd64(h, H_DATA + 520), (1ull << 63) | 3);
	h_expect(h, "FCW saved (0x37f after reset)", h->mem[H_DATA] | (h->mem[H_DATA + 1] << 8), 0x37f);
}

static void xsaves_cpl3_gp(struct h_ctx *h)
{
	if (!xss(h, 0x100, ~0ull))
		return;
	uint64_t rip = AT(h, H_SLOT(1), "\x0f\xc7\x2b");
	h_ring3(h);
	h_start(h, rip);
	edxeax(h, ~0ull);
	SET(h, RBX, H_DATA);
	exc_exit(h, 13, true, rip); /* #GP(0) for CPL > 0 ranks above the exit */
}

static void xsaves_ts_nm(struct h_ctx *h)
{
	if (!xss(h, 0x100, ~0ull))
		return;
	uint64_t rip = AT(h, H_SLOT(1), "\x0f\xc7\x2b");
	h_start(h, rip);
	edxeax(h, ~0ull);
	SET(h, RBX, H_DATA);
	h_set_vmcs(h, VMCS_GUEST_CR0, h_vmcs(h, VMCS_GUEST_CR0) | 8); /* CR0.TS */
	exc_exit(h, 7, false, rip); /* #NM ranks above the exit */
}

static void xrstors_exit_negative_disp(struct h_ctx *h)
{
	if (!xss(h, 0x100, 0x100))
		return;
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\xc7\x5c\xcb\xf0");
	h_start(h, rip);
	edxeax(h, 0x100);
	SET(h, RBX, H_DATA);
	SET(h, RCX, 2);
	h_run(h);
	/* scale x8, 64-bit addresses, DS, index RCX, base RBX; displacement -0x10 sign-extended */
	h_expect_insn_exit(h, VMX_REASON_XRSTORS, rip, 5, 0xfffffffffffffff0ull, 0x01858103, II_MEM_INDEX);
	EXPECT_REG(h, RCX, 2);
}

/* An image with XSTATE_BV = SSE only and XCOMP_BV = bit 63 | x87 | SSE: x87 is initialized, SSE (MXCSR, XMM) loaded. */
static void xrstors_no_exit_restores(struct h_ctx *h)
{
	if (!xss(h, 0x100, 0x100))
		return;
	uint8_t fp[4096];
	hv_vcpu_read_fpstate(h->vcpu, fp, sizeof fp);
	fp[0] = 0x7f;
	fp[1] = 0x02; /* FCW 0x27f: init must make it 0x37f */
	memset(fp + 32, 0x11, 16); /* ST0 */
	memset(fp + 176, 0x22, 16); /* XMM1: the image holds 0 */
	hv_vcpu_write_fpstate(h->vcpu, fp, sizeof fp);
	uint8_t *img = h->mem + H_DATA;
	memset(img, 0, 576);
	uint32_t mxcsr = 0x1fa0;
	memcpy(img + 24, &mxcsr, 4);
	memset(img + 160, 0x3c, 16); /* XMM0 */
	uint64_t hdr[2] = {2, (1ull << 63) | 3};
	memcpy(img + 512, hdr, 16);
	uint64_t rip = AT(h, H_SLOT(4), "\x0f\xc7\x1b");
	h_start(h, rip);
	edxeax(h, 3);
	SET(h, RBX, H_DATA);
	h_run(h);
	h_expect_sentinel(h, rip + 3);
	hv_vcpu_read_fpstate(h->vcpu, fp, sizeof fp);
	uint32_t got;
	memcpy(&got, fp + 24, 4);
	h_expect(h, "MXCSR loaded", got, 0x1fa0);
	h_expect(h, "FCW initialized (XSTATE_BV[0] = 0)", fp[0] | (fp[1] << 8), 0x37f);
	uint64_t q;
	memcpy(&q, fp + 32, 8);
	h_expect(h, "ST0 initialized", q, 0);
	memcpy(&q, fp + 160, 8);
	h_expect(h, "XMM0 loaded", q, 0x3c3c3c3c3c3c3c3cull);
	memcpy(&q, fp + 176, 8);
	h_expect(h, "XMM1 loaded (0)", q, 0);
}

/* The standard format (XCOMP_BV[63] = 0) is #GP(0) for XRSTORS; the fault ranks below the exit check, which did not fire. */
static void xrstors_standard_format_gp(struct h_ctx *h)
{
	if (!xss(h, 0x100, 0x100))
		return;
	uint8_t *img = h->mem + H_DATA;
	memset(img, 0, 576);
	uint64_t hdr[2] = {3, 3};
	memcpy(img + 512, hdr, 16);
	uint64_t rip = AT(h, H_SLOT(4), "\x0f\xc7\x1b");
	h_start(h, rip);
	edxeax(h, 3);
	SET(h, RBX, H_DATA);
	exc_exit(h, 13, true, rip);
}

static void xrstors_disabled_ud(struct h_ctx *h)
{
	if (!xss(h, 0x100, ~0ull))
		return;
	uint64_t rip = AT(h, H_SLOT(4), "\x0f\xc7\x1b");
	h_start(h, rip);
	edxeax(h, ~0ull);
	SET(h, RBX, H_DATA);
	exc_exit(h, 6, false, rip); /* "enable XSAVES/XRSTORS" = 0 */
}

/* ------------------------------------------------------------------ ENCLS */

static void encls_run(struct h_ctx *h, uint64_t eax, uint64_t bitmap)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x0f\x01\xcf");
	h_start(h, rip);
	SET(h, RAX, eax);
	SET(h, RBX, V_RBX);
	SET(h, RCX, V_RCX);
	SET(h, RDX, V_RDX);
	h_set_vmcs(h, VMCS_CTRL_ENCLS_EXITING_BITMAP, bitmap);
}

static void encls_leaf_bit(struct h_ctx *h)
{
	encls_run(h, 5, 1u << 5);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_ENCLS, H_SLOT(6), 3, 0, 0, 0);
	EXPECT_REG(h, RAX, 5);
	EXPECT_REG(h, RBX, V_RBX);
	EXPECT_REG(h, RCX, V_RCX);
	EXPECT_REG(h, RDX, V_RDX);
}

static void encls_high_leaf_bit63(struct h_ctx *h)
{
	encls_run(h, 0x1234, 1ull << 63); /* EAX >= 63: bit 63 decides */
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_ENCLS, H_SLOT(6), 3, 0, 0, 0);
	EXPECT_REG(h, RAX, 0x1234);
}

static void encls_leaf_63_uses_bit63(struct h_ctx *h)
{
	encls_run(h, 63, 1ull << 63);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_ENCLS, H_SLOT(6), 3, 0, 0, 0);
}

static void encls_bit_clear_ud(struct h_ctx *h)
{
	encls_run(h, 5, ~(1ull << 5)); /* every leaf but 5 */
	exc_exit(h, 6, false, H_SLOT(6));
}

static void encls_disabled_ud(struct h_ctx *h)
{
	encls_run(h, 0, ~0ull);
	exc_exit(h, 6, false, H_SLOT(6)); /* "enable ENCLS exiting" = 0: no SGX, #UD */
}

static void encls_cpl3_ud(struct h_ctx *h)
{
	encls_run(h, 0, ~0ull);
	h_ring3(h);
	exc_exit(h, 6, false, H_SLOT(6)); /* ENCLS at CPL > 0 is #UD, above the exit */
}

/* ------------------------------------------------------------------ UMWAIT / TPAUSE */

#define II_RDRAND_FORM 0x1878ull /* bits 6:3 register, 12:11 operand size */

static void umwait_exit_info(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(7), "\xf2\x0f\xae\xf6");
	h_start(h, rip);
	SET(h, RSI, 0);
	SET(h, RAX, V_RAX);
	SET(h, RDX, V_RDX);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_UMWAIT, rip, 4, 0, (6u << 3) | (1u << 11), II_RDRAND_FORM);
	EXPECT_REG(h, RAX, V_RAX);
	EXPECT_REG(h, RDX, V_RDX);
}

static void tpause_exit_info(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(8), "\x66\x0f\xae\xf7");
	h_start(h, rip);
	SET(h, RDI, 1);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_TPAUSE, rip, 4, 0, (7u << 3) | (1u << 11), II_RDRAND_FORM);
	EXPECT_REG(h, RDI, 1);
}

static void umwait_disabled_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(7), "\xf2\x0f\xae\xf6");
	h_start(h, rip);
	SET(h, RSI, 0);
	exc_exit(h, 6, false, rip); /* "enable user wait and pause" = 0, RDTSC exiting 1 */
}

static void tpause_disabled_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(8), "\x66\x0f\xae\xf7");
	h_start(h, rip);
	SET(h, RDI, 0);
	exc_exit(h, 6, false, rip);
}

static void tpause_cpl3_tsd_gp(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(8), "\x66\x0f\xae\xf7");
	h_ring3(h);
	h_start(h, rip);
	SET(h, RDI, 0);
	h_set_vmcs(h, VMCS_GUEST_CR4, h_vmcs(h, VMCS_GUEST_CR4) | CR4_TSD);
	exc_exit(h, 13, true, rip); /* CR4.TSD at CPL 3 ranks above the exit */
}

/* RDTSC exiting clear: TPAUSE waits until the TSC deadline (2 ms ahead), CF = 0. */
static void tpause_waits_for_deadline(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(9), "\x0f\x31");
	h_start(h, rip);
	SET(h, RBX, 0xff);
	uint64_t t0 = mono_ns();
	h_run(h);
	uint64_t dt = mono_ns() - t0;
	h_expect_sentinel(h, H_SLOT(9) + 19);
	EXPECT_REG(h, RBX, 0); /* SETC: CF = 0, the deadline ended the wait */
	h_expect_true(h, "TPAUSE waited at least 2 ms", dt >= 2000000);
	h_expect_true(h, "and not much longer (< 1 s)", dt < 1000000000ull);
}

/* IA32_UMWAIT_CONTROL[31:2] = 200 us ends a 4.3-s TPAUSE early with CF = 1. */
static void tpause_os_limit_sets_cf(struct h_ctx *h)
{
	if (hvx_vcpu_set_msr_intercept(h->vcpu, 0xe1, 1, 0) != HV_SUCCESS) {
		h_decline(h, "the backend keeps no MSR bitmap (hvx_vcpu_set_msr_intercept)");
		return;
	}
	uint64_t rip = AT(h, H_SLOT(12), "\xb9\xe1\x00\x00\x00");
	h_start(h, rip);
	SET(h, RBX, 0);
	uint64_t t0 = mono_ns();
	h_run(h);
	uint64_t dt = mono_ns() - t0;
	h_expect_sentinel(h, H_SLOT(12) + 28);
	EXPECT_REG(h, RBX, 1);
	h_expect_true(h, "the OS limit ended the wait (< 1 s)", dt < 1000000000ull);
}

/* A far TSC deadline: the run's deadline ends the wait (TPAUSE completes, exit 52 at the next instruction). */
static void tpause_bounded_by_run_deadline(struct h_ctx *h)
{
	if (!h->deadline_ok) {
		h_decline(h, "backend does not allow the preemption timer, so hv_vcpu_run_until takes no finite deadline");
		return;
	}
	uint64_t rip = AT(h, H_SLOT(16), "\x0f\x31");
	h_start(h, rip);
	uint64_t t0 = mono_ns();
	h_run_deadline(h, 30 * 1000000ull);
	uint64_t dt = mono_ns() - t0;
	if (h_expect_reason(h, VMX_REASON_VMX_TIMER_EXPIRED)) {
		h_expect(h, "guest RIP (TPAUSE completed)", h->x.rip, H_SLOT(16) + 11);
		h_expect(h, "exit qualification", h->x.qual, 0);
		h_expect(h, "VM-exit instruction length", h->x.len, 0);
	}
	h_expect_true(h, "the run ended near its 30-ms deadline (< 1 s)", dt < 1000000000ull);
}

/* A kick (hv_vcpu_interrupt) ends the wait too. */
static void tpause_ended_by_kick(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(16), "\x0f\x31");
	h_start(h, rip);
	uint64_t t0 = mono_ns();
	h_run_kick_after(h, 30);
	uint64_t dt = mono_ns() - t0;
	if (h_expect_reason(h, VMX_REASON_IRQ)) {
		h_expect(h, "guest RIP (TPAUSE completed)", h->x.rip, H_SLOT(16) + 11);
		h_expect(h, "VM-exit interruption information", h->x.intr, 0);
	}
	h_expect_true(h, "the kick ended the wait (< 1 s)", dt < 1000000000ull);
}

/* UMONITOR arms the monitor; UMWAIT waits until the 1-ms deadline, CF = 0. */
static void umwait_after_umonitor_waits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(18), "\xf3\x0f\xae\xf3");
	h_start(h, rip);
	SET(h, RBX, H_DATA);
	SET(h, R8, 0xff);
	uint64_t t0 = mono_ns();
	h_run(h);
	uint64_t dt = mono_ns() - t0;
	h_expect_sentinel(h, H_SLOT(18) + 24);
	EXPECT_REG(h, R8, 0);
	h_expect_true(h, "UMWAIT waited at least 1 ms", dt >= 1000000);
}


/* ------------------------------------------------------------------ PML */

#define PML_PAGE 0x1ff000u /* the log: a guest-physical page inside the 2 MiB the harness maps (docs/emu.md) */
#define PML_RIP H_SLOT(20)

static uint64_t pml_entry(struct h_ctx *h, unsigned i)
{
	return rd64(h, PML_PAGE + 8 * i);
}

/* Common start: RBX = H_DATA, log page filled with a pattern, index, optionally guest paging A/D bits preset. */
static void pml_start(struct h_ctx *h, uint64_t index, bool preset_ad)
{
	AT(h, PML_RIP, "\x89\x03");
	h_start(h, PML_RIP);
	SET(h, RBX, H_DATA);
	SET(h, RAX, 0x12345678);
	memset(h->mem + PML_PAGE, 0xee, 0x1000);
	h_set_vmcs(h, VMCS_CTRL_PML_ADDR, PML_PAGE);
	h_set_vmcs(h, VMCS_GUESTPML_INDEX, index);
	if (preset_ad) {
		/* Accessed on the PML4E and PDPTE, accessed + dirty on the 2-MiB PDE: the walks write nothing. */
		h->mem[H_PML4] |= 0x20;
		h->mem[H_PDPT] |= 0x20;
		h->mem[H_PD0] |= 0x60;
	}
}

/* The first write to each clean page is logged, newest entry at the lower index; the guest's page walks set
 * accessed bits in the PML4, PDPT and PD pages first (EPT writes), so those pages are logged before the data. */
static void pml_logs_first_writes(struct h_ctx *h)
{
	pml_start(h, 511, false);
	h_run(h);
	h_expect_sentinel(h, PML_RIP + 17);
	static const uint64_t want[] = {H_PML4, H_PDPT, H_PD0, H_DATA, H_DATA + 0x1000, H_DATA + 0x2000};
	for (unsigned i = 0; i < 6; i++) {
		char what[64];
		snprintf(what, sizeof what, "PML entry %u", 511 - i);
		h_expect(h, what, pml_entry(h, 511 - i), want[i]);
	}
	h_expect(h, "PML entry 505 not written", pml_entry(h, 505), 0xeeeeeeeeeeeeeeeeull);
	h_expect(h, "PML index (511 - 6 entries)", h_vmcs(h, VMCS_GUESTPML_INDEX), 505);
	h_expect(h, "the writes happened", rd64(h, H_DATA + 0x2000) & 0xffffffff, 0x12345678);
}

/* Index 1: two entries fit (1 and 0, the index then wraps to 0xffff); the third page's write exits 62 fault-like. */
static void pml_full_after_two_entries(struct h_ctx *h)
{
	pml_start(h, 1, true);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_PML_FULL)) {
		h_dump_exit(h);
		return;
	}
	h_expect(h, "guest RIP (the write to the third page)", h->x.rip, PML_RIP + 11);
	h_expect(h, "exit qualification (bit 12 NMI unblocking: 0; the rest undefined, hvx writes 0)", h->x.qual, 0);
	h_expect(h, "VM-exit instruction length (not defined for 62: 0)", h->x.len, 0);
	h_expect(h, "VM-exit instruction information", h->x.info, 0);
	h_expect(h, "guest-linear address (not written for 62)", h->x.gla, 0);
	h_expect(h, "guest-physical address (not written for 62)", h->x.gpa, 0);
	h_expect_masked(h, "interruption information valid", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "IDT-vectoring information valid", h->x.idt, 0, INTR_VALID);
	h_expect_masked(h, "guest RFLAGS.RF (fault-like access exit saves RF = 1)", h->x.rflags, RFLAGS_RF, RFLAGS_RF);
	h_expect(h, "PML entry 1", pml_entry(h, 1), H_DATA);
	h_expect(h, "PML entry 0", pml_entry(h, 0), H_DATA + 0x1000);
	h_expect(h, "PML index after entry 0", h_vmcs(h, VMCS_GUESTPML_INDEX), 0xffff);
	h_expect(h, "third page not written", rd64(h, H_DATA + 0x2000), 0);
	h_expect(h, "second page written", rd64(h, H_DATA + 0x1000) & 0xffffffff, 0x12345678);
	EXPECT_REG(h, RBX, H_DATA);
}

/* Dirty flags stay set across runs; hv_vm_protect makes the range clean again, so its next write is logged again. */
static void pml_protect_cleans_pages(struct h_ctx *h)
{
	pml_start(h, 511, true);
	h_run(h);
	h_expect_sentinel(h, PML_RIP + 17);
	h_expect(h, "PML index after three pages", h_vmcs(h, VMCS_GUESTPML_INDEX), 508);
	if (hv_vm_protect(H_DATA, 0x1000, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC) != HV_SUCCESS) {
		h_expect_true(h, "hv_vm_protect succeeds", false);
		return;
	}
	h_start(h, PML_RIP);
	h_run(h);
	h_expect_sentinel(h, PML_RIP + 17);
	h_expect(h, "PML entry 508 (the protected page, clean again)", pml_entry(h, 508), H_DATA);
	h_expect(h, "PML entry 507 not written (the other pages stayed dirty)", pml_entry(h, 507),
		 0xeeeeeeeeeeeeeeeeull);
	h_expect(h, "PML index", h_vmcs(h, VMCS_GUESTPML_INDEX), 507);
}

/* "enable PML" clear: nothing is logged, the index is left alone. */
static void pml_off_logs_nothing(struct h_ctx *h)
{
	pml_start(h, 511, false);
	h_run(h);
	h_expect_sentinel(h, PML_RIP + 17);
	h_expect(h, "PML entry 511 not written", pml_entry(h, 511), 0xeeeeeeeeeeeeeeeeull);
	h_expect(h, "PML index unchanged", h_vmcs(h, VMCS_GUESTPML_INDEX), 511);
}

/* A PML address with bits 11:0 set fails VM entry with VMfail 7 (SDM 26.2.1.1). */
static void pml_misaligned_address_vmfail(struct h_ctx *h)
{
	pml_start(h, 511, true);
	h_set_vmcs(h, VMCS_CTRL_PML_ADDR, PML_PAGE + 8);
	hv_return_t r = hv_vcpu_run_until(h->vcpu, h->deadline_ok ? mono_ns() + 2000000000ull : HV_DEADLINE_FOREVER);
	h_expect(h, "hv_vcpu_run result (VMfail)", (uint64_t)r, (uint64_t)HV_ERROR);
	h_expect(h, "VM-instruction error (7: invalid control fields)", h_vmcs(h, VMCS_RO_INSTR_ERROR), 7);
	h_expect(h, "guest RIP unchanged", h_vmcs(h, VMCS_GUEST_RIP), PML_RIP);
	h_expect(h, "nothing written", rd64(h, H_DATA), 0);
}


/* ------------------------------------------------------------------ SPP */

#define SPP_PAGE 0x300000u /* mapped read-only by each case: SPP applies to writes to non-writable pages */
#define SPP_RIP H_SLOT(24)
#define EPTQ_SPP_WRITE 0x18au /* data write, readable, linear address valid, final translation */

static bool spp_start(struct h_ctx *h, enum hvx_spp_mode mode, uint64_t vector, uint64_t rip)
{
	if (!h_map(h, SPP_PAGE, 0x1000, HV_MEMORY_READ))
		return false;
	if (hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, SPP_PAGE, mode, vector) != HV_SUCCESS) {
		h_decline(h, "hvx_vm_set_spp is not supported by this backend");
		return false;
	}
	h_start(h, rip);
	SET(h, RBX, SPP_PAGE);
	SET(h, RAX, 0xcafe1234);
	h->gla_defined = true;
	return true;
}

static uint32_t spp_word(struct h_ctx *h, unsigned off)
{
	uint32_t v;
	uint8_t *page = h->extra_maps[h->nextra - 1];
	memcpy(&v, page + off, 4);
	return v;
}

static void expect_spp_violation(struct h_ctx *h, uint64_t rip, uint64_t gpa, uint64_t qual)
{
	if (!h_expect_reason(h, VMX_REASON_EPT_VIOLATION)) {
		h_dump_exit(h);
		return;
	}
	h_expect(h, "guest RIP (fault-like)", h->x.rip, rip);
	h_expect(h, "exit qualification", h->x.qual, qual);
	h_expect(h, "guest-physical address", h->x.gpa, gpa);
	h_expect(h, "guest-linear address", h->x.gla, gpa);
	h_expect(h, "VM-exit instruction length (not an instruction exit)", h->x.len, 0);
	h_expect_masked(h, "IDT-vectoring information valid", h->x.idt, 0, INTR_VALID);
	h_expect_masked(h, "guest RFLAGS.RF", h->x.rflags, RFLAGS_RF, RFLAGS_RF);
}

static void expect_spp_event(struct h_ctx *h, uint64_t qual)
{
	if (!h_expect_reason(h, VMX_REASON_SPP_EVENT)) {
		h_dump_exit(h);
		return;
	}
	h_expect(h, "guest RIP (fault-like: the write)", h->x.rip, SPP_RIP);
	h_expect(h, "exit qualification (bit 11: SPP miss)", h->x.qual, qual);
	h_expect(h, "guest-physical address", h->x.gpa, SPP_PAGE + 0x80);
	h_expect(h, "guest-linear address", h->x.gla, SPP_PAGE + 0x80);
	h_expect(h, "VM-exit instruction length (not defined for 66: 0)", h->x.len, 0);
	h_expect(h, "VM-exit instruction information", h->x.info, 0);
	h_expect_masked(h, "interruption information valid", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "IDT-vectoring information valid", h->x.idt, 0, INTR_VALID);
	h_expect_masked(h, "guest RFLAGS.RF (fault-like access exit saves RF = 1)", h->x.rflags, RFLAGS_RF, RFLAGS_RF);
	h_expect(h, "memory unchanged", spp_word(h, 0x80), 0);
}

/* Sub-pages 1 and 2 writable (vector bits 2 and 4): both writes to the read-only page succeed. */
static void spp_writable_subpages(struct h_ctx *h)
{
	if (!spp_start(h, HVX_SPP_VECTOR, (1u << 2) | (1u << 4), SPP_RIP))
		return;
	h->gla_defined = false;
	h_run(h);
	h_expect_sentinel(h, SPP_RIP + 12);
	h_expect(h, "sub-page 1 written", spp_word(h, 0x80), 0xcafe1234);
	h_expect(h, "sub-page 2 written", spp_word(h, 0x100), 0xcafe1234);
}

/* Only sub-page 1 writable: the write to sub-page 2 is an EPT violation with the SPP bit (11). */
static void spp_protected_subpage(struct h_ctx *h)
{
	if (!spp_start(h, HVX_SPP_VECTOR, 1u << 2, SPP_RIP))
		return;
	h_run(h);
	expect_spp_violation(h, SPP_RIP + 6, SPP_PAGE + 0x100, EPTQ_SPP_WRITE | 0x800);
	h_expect(h, "sub-page 1 written", spp_word(h, 0x80), 0xcafe1234);
	h_expect(h, "sub-page 2 not written", spp_word(h, 0x100), 0);
}

/* A write across sub-pages 2 (writable) and 3 (not): the whole write is refused. */
static void spp_write_across_subpages(struct h_ctx *h)
{
	if (!spp_start(h, HVX_SPP_VECTOR, 1u << 4, H_SLOT(26)))
		return;
	h_run(h);
	expect_spp_violation(h, H_SLOT(26), SPP_PAGE + 0x17e, EPTQ_SPP_WRITE | 0x800);
	h_expect(h, "sub-page 2 not written", spp_word(h, 0x17c), 0);
}

static void spp_miss(struct h_ctx *h)
{
	if (!spp_start(h, HVX_SPP_MISSING, 0, SPP_RIP))
		return;
	h_run(h);
	expect_spp_event(h, 0x800);
}

static void spp_misconfig(struct h_ctx *h)
{
	if (!spp_start(h, HVX_SPP_VECTOR, (1u << 2) | (1u << 3), SPP_RIP)) /* bit 3: reserved (odd) */
		return;
	h_run(h);
	expect_spp_event(h, 0);
}

/* Control clear: the SPP page is an ordinary read-only page (no SPP bit in the qualification). */
static void spp_control_off(struct h_ctx *h)
{
	if (!spp_start(h, HVX_SPP_VECTOR, ~0ull & 0x5555555555555555ull, SPP_RIP))
		return;
	h_run(h);
	expect_spp_violation(h, SPP_RIP, SPP_PAGE + 0x80, EPTQ_SPP_WRITE);
}

/* Control set, page not an SPP page: an ordinary EPT violation too. */
static void spp_plain_page(struct h_ctx *h)
{
	if (!spp_start(h, HVX_SPP_NONE, 0, SPP_RIP))
		return;
	h_run(h);
	expect_spp_violation(h, SPP_RIP, SPP_PAGE + 0x80, EPTQ_SPP_WRITE);
}


/* ------------------------------------------------------------------ NMI unblocking due to IRET, timer priority */

#define IRET_RIP H_SLOT(28)

/* IRETQ whose stack is unmapped: EPT violation reading [RSP]; with blocking by NMI before the IRET the
 * qualification has bit 12 and the saved interruptibility no longer has the blocking (IRET ended it). */
static void iret_ept(struct h_ctx *h, bool blocked)
{
	AT(h, IRET_RIP, "\x48\xcf");
	h_start(h, IRET_RIP);
	SET(h, RSP, 0x500000);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, blocked ? 8 : 0);
	h->gla_defined = true;
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EPT_VIOLATION)) {
		h_dump_exit(h);
		return;
	}
	h_expect(h, "exit qualification (read, linear address valid, final; bit 12 NMI unblocking due to IRET)",
		 h->x.qual, 0x181u | (blocked ? 0x1000u : 0));
	h_expect(h, "guest-physical address", h->x.gpa, 0x500000);
	h_expect(h, "guest-linear address", h->x.gla, 0x500000);
	h_expect(h, "guest RIP (the IRET)", h->x.rip, IRET_RIP);
	h_expect(h, "saved interruptibility (blocking by NMI ended by the IRET)", h->x.interruptibility, 0);
	h_expect(h, "VM-exit instruction length", h->x.len, 0);
	h_expect_masked(h, "IDT-vectoring information valid", h->x.idt, 0, INTR_VALID);
}

static void iret_ept_blocked(struct h_ctx *h)
{
	iret_ept(h, true);
}

static void iret_ept_unblocked(struct h_ctx *h)
{
	iret_ept(h, false);
}

/* IRETQ popping a null CS: #GP(0) exits with interruption-information bit 12 (NMI unblocking due to IRET). */
static void iret_gp_blocked(struct h_ctx *h)
{
	AT(h, IRET_RIP, "\x48\xcf");
	uint64_t frame[5] = {0x9000, 0, 2, H_STACK_TOP, H_SEL_DATA64};
	memcpy(h->mem + H_DATA, frame, sizeof frame);
	h_start(h, IRET_RIP);
	SET(h, RSP, H_DATA);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 8);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 13 | (1u << 12), 0, IRET_RIP, 0);
	h_expect(h, "saved interruptibility (blocking by NMI ended by the IRET)", h->x.interruptibility, 0);
	EXPECT_REG(h, RSP, H_DATA);
}

/* Spec 7.1: the preemption timer (item 6) ranks above the interrupt window (item 9). STI, then TPAUSE in its shadow
 * waits far ahead; the 2-ms timer ends the wait, and at the next boundary both the timer and the interrupt window
 * (IF = 1, shadow over) are pending: the timer exits. */
static void timer_above_interrupt_window(struct h_ctx *h)
{
	AT(h, H_SLOT(30), "\xfb\x66\x0f\xae\xf1");
	h_start(h, H_SLOT(30));
	SET(h, RCX, 0);
	SET(h, RAX, 0);
	SET(h, RDX, 0x7fffffff); /* TSC deadline about 2^62 ns away */
	SET(h, RFLAGS, 2);
	h_set_vmcs(h, VMCS_GUEST_VMX_TIMER_VALUE, 2000000);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_VMX_TIMER_EXPIRED)) {
		h_dump_exit(h);
		return;
	}
	/* Normally after the TPAUSE; only a host that stalls the vCPU for 2 ms before it gives an earlier RIP. */
	bool ok = h->x.rip == H_SLOT(30) + 5 || h->x.rip == H_SLOT(30) || h->x.rip == H_SLOT(30) + 1;
	h_expect_true(h, "guest RIP after the TPAUSE (or, on a stalled host, before it), never past the window", ok);
	if (h->x.rip == H_SLOT(30) + 5)
		h_expect_masked(h, "RFLAGS.IF (STI executed)", h->x.rflags, 1u << 9, 1u << 9);
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect(h, "VM-exit instruction length", h->x.len, 0);
}

/* ------------------------------------------------------------------ the table */

#define XS CPU_BASED2_XSAVES_XRSTORS
#define UW CPU_BASED2_USER_WAIT_PAUSE

const struct conf_case conf_cases_misc[] = {
	{"XSAVES", "xsaves_exits_with_scaled_index_and_displacement", MISC, H_LONG64, CTL(.proc2 = XS), {0}, 0,
	 xsaves_exit_index, NULL},
	{"XSAVES", "xsaves_exit_ranks_above_alignment_gp", MISC, H_LONG64, CTL(.proc2 = XS), {0}, 0,
	 xsaves_exit_misaligned, NULL},
	{"XSAVES", "xsaves_without_edxeax_overlap_saves_compacted_sse", MISC, H_LONG64, CTL(.proc = IOX, .proc2 = XS),
	 {"IO"}, 0, xsaves_no_exit_saves_compacted, NULL},
	{"XSAVES", "xsaves_with_xss_zero_never_exits", MISC, H_LONG64, CTL(.proc = IOX, .proc2 = XS), {"IO"}, 0,
	 xsaves_xss_zero_no_exit, NULL},
	{"XSAVES", "xsaves_at_cpl3_is_gp_not_exit", MISC, H_LONG64, CTL(.proc2 = XS), {"EXC_NMI"}, 0, xsaves_cpl3_gp,
	 NULL},
	{"XSAVES", "xsaves_with_cr0_ts_is_nm_not_exit", MISC, H_LONG64, CTL(.proc2 = XS), {"EXC_NMI"}, 0, xsaves_ts_nm,
	 NULL},
	{"XRSTORS", "xrstors_exits_with_negative_displacement", MISC, H_LONG64, CTL(.proc2 = XS), {0}, 0,
	 xrstors_exit_negative_disp, NULL},
	{"XRSTORS", "xrstors_without_exit_loads_and_initializes", MISC, H_LONG64, CTL(.proc = IOX, .proc2 = XS), {"IO"},
	 0, xrstors_no_exit_restores, NULL},
	{"XRSTORS", "xrstors_standard_format_is_gp", MISC, H_LONG64, CTL(.proc2 = XS), {"EXC_NMI"}, 0,
	 xrstors_standard_format_gp, NULL},
	{"XRSTORS", "xrstors_disabled_is_ud_not_exit", MISC, H_LONG64, CTL(.proc2_off = XS), {"EXC_NMI"}, 0,
	 xrstors_disabled_ud, NULL},
	{"ENCLS", "encls_exits_for_leaf_bit", MISC, H_LONG64, CTL(.proc2 = CPU_BASED2_ENCLS_EXIT_MAP), {0}, 0,
	 encls_leaf_bit, NULL},
	{"ENCLS", "encls_leaf_above_62_uses_bit_63", MISC, H_LONG64, CTL(.proc2 = CPU_BASED2_ENCLS_EXIT_MAP), {0}, 0,
	 encls_high_leaf_bit63, NULL},
	{"ENCLS", "encls_leaf_63_uses_bit_63", MISC, H_LONG64, CTL(.proc2 = CPU_BASED2_ENCLS_EXIT_MAP), {0}, 0,
	 encls_leaf_63_uses_bit63, NULL},
	{"ENCLS", "encls_leaf_bit_clear_is_ud", MISC, H_LONG64, CTL(.proc2 = CPU_BASED2_ENCLS_EXIT_MAP), {"EXC_NMI"}, 0,
	 encls_bit_clear_ud, NULL},
	{"ENCLS", "encls_exiting_disabled_is_ud", MISC, H_LONG64, CTL(.proc2_off = CPU_BASED2_ENCLS_EXIT_MAP),
	 {"EXC_NMI"}, 0, encls_disabled_ud, NULL},
	{"ENCLS", "encls_at_cpl3_is_ud_not_exit", MISC, H_LONG64, CTL(.proc2 = CPU_BASED2_ENCLS_EXIT_MAP), {"EXC_NMI"},
	 0, encls_cpl3_ud, NULL},
	{"UMWAIT", "umwait_exits_with_register_information", MISC, H_LONG64, CTL(.proc = CPU_BASED_RDTSC, .proc2 = UW),
	 {0}, 0, umwait_exit_info, NULL},
	{"UMWAIT", "umwait_disabled_is_ud_not_exit", MISC, H_LONG64, CTL(.proc = CPU_BASED_RDTSC, .proc2_off = UW),
	 {"EXC_NMI"}, 0, umwait_disabled_ud, NULL},
	{"UMWAIT", "umwait_after_umonitor_waits_for_deadline", MISC, H_LONG64,
	 CTL(.proc = IOX, .proc2 = UW, .proc_off = CPU_BASED_RDTSC), {"IO"}, 0, umwait_after_umonitor_waits, NULL},
	{"TPAUSE", "tpause_exits_with_register_information", MISC, H_LONG64, CTL(.proc = CPU_BASED_RDTSC, .proc2 = UW),
	 {0}, 0, tpause_exit_info, NULL},
	{"TPAUSE", "tpause_disabled_is_ud_not_exit", MISC, H_LONG64, CTL(.proc = CPU_BASED_RDTSC, .proc2_off = UW),
	 {"EXC_NMI"}, 0, tpause_disabled_ud, NULL},
	{"TPAUSE", "tpause_cr4_tsd_at_cpl3_is_gp_not_exit", MISC, H_LONG64, CTL(.proc = CPU_BASED_RDTSC, .proc2 = UW),
	 {"EXC_NMI"}, 0, tpause_cpl3_tsd_gp, NULL},
	{"TPAUSE", "tpause_without_rdtsc_exiting_waits_for_deadline", MISC, H_LONG64,
	 CTL(.proc = IOX, .proc2 = UW, .proc_off = CPU_BASED_RDTSC), {"IO"}, 0, tpause_waits_for_deadline, NULL},
	{"TPAUSE", "tpause_ended_by_umwait_control_limit_sets_cf", MISC, H_LONG64,
	 CTL(.proc = IOX, .proc2 = UW, .proc_off = CPU_BASED_RDTSC), {"IO"}, 0, tpause_os_limit_sets_cf, NULL},
	{"TPAUSE", "tpause_wait_bounded_by_run_deadline", MISC, H_LONG64, CTL(.proc2 = UW, .proc_off = CPU_BASED_RDTSC),
	 {"VMX_TIMER_EXPIRED"}, 0, tpause_bounded_by_run_deadline, NULL},
	{"TPAUSE", "tpause_wait_ended_by_kick", MISC, H_LONG64, CTL(.proc2 = UW, .proc_off = CPU_BASED_RDTSC), {"IRQ"}, 0,
	 tpause_ended_by_kick, NULL},
	{"PML_FULL", "pml_logs_first_write_of_each_page", MISC, H_LONG64,
	 CTL(.proc = IOX, .proc2 = CPU_BASED2_PML | CPU_BASED2_EPT), {"IO"}, 0, pml_logs_first_writes, NULL},
	{"PML_FULL", "pml_full_when_index_wraps", MISC, H_LONG64, CTL(.proc2 = CPU_BASED2_PML | CPU_BASED2_EPT), {0}, 0,
	 pml_full_after_two_entries, NULL},
	{"PML_FULL", "pml_hv_vm_protect_makes_pages_clean", MISC, H_LONG64,
	 CTL(.proc = IOX, .proc2 = CPU_BASED2_PML | CPU_BASED2_EPT), {"IO"}, 0, pml_protect_cleans_pages, NULL},
	{"PML_FULL", "pml_disabled_logs_nothing", MISC, H_LONG64, CTL(.proc = IOX, .proc2_off = CPU_BASED2_PML), {"IO"},
	 0, pml_off_logs_nothing, NULL},
	{"PML_FULL", "pml_misaligned_log_address_is_vmfail", MISC, H_LONG64,
	 CTL(.proc2 = CPU_BASED2_PML | CPU_BASED2_EPT), {0}, 0, pml_misaligned_address_vmfail, NULL},
#define SPPC (CPU_BASED2_EPT | CPU_BASED2_EPT_SUBPAGE_WRITE)
	{"SPP_EVENT", "spp_writable_subpages_of_read_only_page_are_written", MISC, H_LONG64,
	 CTL(.proc = IOX, .proc2 = SPPC), {"IO"}, 0, spp_writable_subpages, NULL},
	{"SPP_EVENT", "spp_write_protected_subpage_is_ept_violation_with_spp_bit", MISC, H_LONG64, CTL(.proc2 = SPPC),
	 {"EPT_VIOLATION"}, 0, spp_protected_subpage, NULL},
	{"SPP_EVENT", "spp_write_across_subpages_needs_both", MISC, H_LONG64, CTL(.proc2 = SPPC), {"EPT_VIOLATION"}, 0,
	 spp_write_across_subpages, NULL},
	{"SPP_EVENT", "spp_missing_table_entry_exits_with_miss_bit", MISC, H_LONG64, CTL(.proc2 = SPPC), {0}, 0,
	 spp_miss, NULL},
	{"SPP_EVENT", "spp_reserved_vector_bits_exit_as_misconfiguration", MISC, H_LONG64, CTL(.proc2 = SPPC), {0}, 0,
	 spp_misconfig, NULL},
	{"SPP_EVENT", "spp_control_off_is_plain_ept_violation", MISC, H_LONG64,
	 CTL(.proc2 = CPU_BASED2_EPT, .proc2_off = CPU_BASED2_EPT_SUBPAGE_WRITE), {"EPT_VIOLATION"}, 0, spp_control_off,
	 NULL},
	{"SPP_EVENT", "spp_page_without_spp_is_plain_ept_violation", MISC, H_LONG64, CTL(.proc2 = SPPC),
	 {"EPT_VIOLATION"}, 0, spp_plain_page, NULL},
	{"EPT_VIOLATION", "iret_stack_fault_reports_nmi_unblocking_bit12", MISC, H_LONG64, {0}, {0}, C_KVM_NO_IRET_MMIO,
	 iret_ept_blocked, NULL},
	{"EPT_VIOLATION", "iret_stack_fault_without_nmi_blocking_has_no_bit12", MISC, H_LONG64, {0}, {0},
	 C_KVM_NO_IRET_MMIO,
	 iret_ept_unblocked, NULL},
	{"EXC_NMI", "iret_gp_exit_reports_nmi_unblocking_bit12", MISC, H_LONG64, {0}, {0}, 0, iret_gp_blocked, NULL},
	{"VMX_TIMER_EXPIRED", "timer_ranks_above_interrupt_window", MISC, H_LONG64,
	 CTL(.pin = PIN_BASED_PREEMPTION_TIMER, .proc = CPU_BASED_IRQ_WND, .proc2 = UW, .proc_off = CPU_BASED_RDTSC), {0},
	 0, timer_above_interrupt_window, NULL},
	{NULL, NULL, NULL, 0, {0}, {0}, 0, NULL, NULL},
};
