/* xsave.c: XSAVES / XRSTORS (compacted XSAVE format) for the x87 and SSE components, behind the VMX "enable XSAVES/XRSTORS" control and the XSS-exiting bitmap. */
#include <string.h>

#include "backend/emu/cpu/handlers.h"

#define XS_COMPONENTS 3ull    /* x87 | SSE: the state components this CPU has (no supervisor component) */
#define XS_MXCSR 24           /* MXCSR in the legacy region */
#define XS_HEADER 512         /* XSAVE header: XSTATE_BV, XCOMP_BV, then 48 bytes that must be 0 */
#define XS_SIZE 576           /* legacy region + header: the compacted size of x87 | SSE */

/* IA32_XSS as this CPU sees it: the managed MSR's value when the VMM manages it, else 0 (docs/emu.md). */
uint64_t emu_xss(struct emu_cpu *c)
{
	for (unsigned i = 0; i < c->vcpu->managed_count; i++)
		if (c->vcpu->managed[i].msr == 0xda0)
			return c->vcpu->managed[i].value;
	return 0;
}

static uint64_t xcr0(struct emu_cpu *c)
{
	return c->s->xcr0 ? c->s->xcr0 : 1;
}

/* x87 state in its initial configuration: FCW 0x37F, everything else (abridged tag word, pointers, registers) 0. */
static void x87_init(uint8_t *fp)
{
	memset(fp, 0, XS_MXCSR);
	memset(fp + 32, 0, 128);
	fp[0] = 0x7f;
	fp[1] = 0x03;
}

/*
 * aux 0 XSAVES, 1 XRSTORS. Order (SDM 25.1.1, spec 6.63): #UD (control clear, CR4.OSXSAVE = 0, LOCK), #NM (CR0.TS),
 * #GP (CPL > 0), then the VM exit when EDX:EAX AND IA32_XSS AND the XSS-exiting bitmap is not 0, then the
 * instruction's own faults (alignment, memory, header checks).
 */
void h_xsaves(struct emu_cpu *c, const struct emu_insn *in)
{
	bool restore = in->aux;
	if (!vmx_cls(c, IC_XSAVES_OK) || !(c->v[HVX_SLOT_GUEST_CR4] & CR4_OSXSAVE) || in->lock ||
	    in->memop == 0xff)
		emu_ud(c);
	if (c->v[HVX_SLOT_GUEST_CR0] & CR0_TS_)
		emu_fault(c, EXC_NM, false, 0);
	if (c->cpl)
		emu_gp0(c);
	uint64_t edxeax = (c->s->gpr[HVX_RDX] << 32) | (uint32_t)c->s->gpr[HVX_RAX];
	uint64_t xss = emu_xss(c);
	if (edxeax & xss & c->v[HVX_SLOT_CTRL_XSS_EXITING_BITMAP])
		vmx_exit_insn(c, restore ? VMX_REASON_XRSTORS : VMX_REASON_XSAVES, vmx_disp_qual(c, in),
			      vmx_mem_info(c, in));
	uint64_t la = seg_linear(c, in->seg, op_addr(c, in), XS_SIZE, restore ? ACC_R : ACC_W);
	if (la & 63)
		emu_gp0(c);
	uint64_t rfbm = edxeax & (xcr0(c) | xss) & XS_COMPONENTS;
	unsigned nxmm = c->mode == EM_LONG64 ? 16 : 8;
	uint8_t *fp = c->s->fpstate;
	if (!restore) {
		/* Both components count as in use (XINUSE = 1), so XSTATE_BV = RFBM; XCOMP_BV = bit 63 | RFBM. */
		uint64_t hdr[2] = {rfbm, (1ull << 63) | rfbm};
		if (rfbm & 1) {
			mmu_write_buf(c, la, fp, XS_MXCSR, 0);
			mmu_write_buf(c, la + 32, fp + 32, 128, 0);
		}
		if (rfbm & 2) {
			mmu_write_buf(c, la + XS_MXCSR, fp + XS_MXCSR, 8, 0);
			mmu_write_buf(c, la + 160, fp + 160, 16 * nxmm, 0);
		}
		mmu_write_buf(c, la + XS_HEADER, hdr, sizeof hdr, 0);
		return;
	}
	uint8_t img[XS_SIZE];
	mmu_read_buf(c, la, img, XS_SIZE, 0);
	uint64_t xstate_bv, xcomp_bv;
	memcpy(&xstate_bv, img + XS_HEADER, 8);
	memcpy(&xcomp_bv, img + XS_HEADER + 8, 8);
	bool rsvd = false;
	for (unsigned i = XS_HEADER + 16; i < XS_SIZE; i++)
		rsvd |= img[i] != 0;
	if (!(xcomp_bv >> 63) || (xcomp_bv & ~(1ull << 63) & ~(xcr0(c) | xss)) || (xstate_bv & ~xcomp_bv) || rsvd)
		emu_gp0(c);
	uint32_t mxcsr = 0x1f80;
	if ((rfbm & 2) && (xstate_bv & 2)) {
		memcpy(&mxcsr, img + XS_MXCSR, 4);
		if (mxcsr & ~0xffffu)
			emu_gp0(c); /* an illegal MXCSR: nothing is loaded */
	}
	if (rfbm & 1) {
		if (xstate_bv & 1) {
			memcpy(fp, img, XS_MXCSR);
			memcpy(fp + 32, img + 32, 128);
		} else {
			x87_init(fp);
		}
	}
	if (rfbm & 2) {
		memcpy(fp + XS_MXCSR, &mxcsr, 4); /* compacted form: MXCSR = 0x1f80 when XSTATE_BV[1] = 0 */
		if (xstate_bv & 2)
			memcpy(fp + 160, img + 160, 16 * nxmm);
		else
			memset(fp + 160, 0, 16 * nxmm);
	}
}
