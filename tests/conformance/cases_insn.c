/* cases_insn.c: conformance cases for instruction-caused exits: fault-like exits with length, qualification and instruction information, and the same instructions with their control clear. */
#include <Hypervisor/hv_arch_vmx.h>

#include "cases.h"

#define IOX CPU_BASED_UNCOND_IO /* the sentinel `out 0xf4, al` exits */
#define CR4_SMXE (1ull << 14)
#define CR4_OSXSAVE (1ull << 18)

/* ------------------------------------------------------------------ helpers */

/* Fault-like, no qualification, no instruction information; RAX/RCX/RDX/RBX keep their pre-exit values. */
static void plain_exit(struct h_ctx *h, uint32_t reason, uint64_t rip, uint64_t len)
{
	h_expect_insn_exit(h, reason, rip, len, 0, 0, 0);
	EXPECT_REG(h, RAX, V_RAX);
	EXPECT_REG(h, RBX, V_RBX);
	EXPECT_REG(h, RDX, V_RDX);
}

static void preset(struct h_ctx *h, uint64_t rip)
{
	h_start(h, rip);
	SET(h, RAX, V_RAX);
	SET(h, RBX, V_RBX);
	SET(h, RCX, V_RCX);
	SET(h, RDX, V_RDX);
}

static void ud_exit(struct h_ctx *h, uint64_t rip)
{
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 6);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | 6, 0, rip, 0);
}

/* ------------------------------------------------------------------ CPUID, GETSEC, INVD, XSETBV, VMCALL: unconditional */

static void cpuid_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\xa2");
	preset(h, rip);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_CPUID, rip, 2, 0, 0, 0);
	EXPECT_REG(h, RAX, V_RAX);
	EXPECT_REG(h, RBX, V_RBX);
	EXPECT_REG(h, RCX, V_RCX);
	EXPECT_REG(h, RDX, V_RDX);
}

static void cpuid_real(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\xa2");
	h_start(h, rip);
	SET(h, RAX, 0);
	SET(h, RBX, 0x1234);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_CPUID, rip, 2, 0, 0, 0);
	EXPECT_REG(h, RAX, 0);
	EXPECT_REG(h, RBX, 0x1234);
}

static void getsec_long(struct h_ctx *h)
{
	if (!(h->cap_cr4_fixed1 & CR4_SMXE)) {
		h_decline(h, "CR4_FIXED1 does not allow CR4.SMXE, so GETSEC can only #UD");
		return;
	}
	uint64_t rip = AT(h, H_SLOT(9), "\x0f\x37");
	preset(h, rip);
	h_set_vmcs(h, VMCS_GUEST_CR4, 0x2020 | CR4_SMXE);
	h_run(h);
	plain_exit(h, VMX_REASON_GETSEC, rip, 2);
}

static void getsec_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(9), "\x0f\x37");
	preset(h, rip);
	ud_exit(h, rip); /* CR4.SMXE = 0: #UD ranks above the exit */
}

static void invd_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(2), "\x0f\x08");
	preset(h, rip);
	h_run(h);
	plain_exit(h, VMX_REASON_INVD, rip, 2);
}

static void xsetbv_long(struct h_ctx *h)
{
	if (!(h->cap_cr4_fixed1 & CR4_OSXSAVE)) {
		h_decline(h, "CR4_FIXED1 does not allow CR4.OSXSAVE");
		return;
	}
	uint64_t rip = AT(h, H_SLOT(8), "\x0f\x01\xd1");
	preset(h, rip);
	SET(h, RCX, 0);
	SET(h, RAX, 3);
	SET(h, RDX, 0);
	h_set_vmcs(h, VMCS_GUEST_CR4, 0x2020 | CR4_OSXSAVE);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_XSETBV, rip, 3, 0, 0, 0);
	EXPECT_REG(h, RAX, 3);
}

static void xsetbv_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(8), "\x0f\x01\xd1");
	preset(h, rip);
	SET(h, RCX, 0);
	ud_exit(h, rip); /* CR4.OSXSAVE = 0 */
}

static void vmcall_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(5), "\x0f\x01\xc1");
	preset(h, rip);
	h_run(h);
	plain_exit(h, VMX_REASON_VMCALL, rip, 3);
}

/* ------------------------------------------------------------------ control-governed simple instructions */

static void hlt_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(1), "\xf4");
	preset(h, rip);
	h_run(h);
	plain_exit(h, VMX_REASON_HLT, rip, 1);
	h_expect(h, "activity state (the exit is fault-like: HLT not entered)", h->x.activity, 0);
}

static void hlt_off_halts(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(1), "\xf4");
	preset(h, rip);
	h_run_kick_after(h, 100);
	if (!h_expect_reason(h, VMX_REASON_IRQ))
		return;
	h_expect(h, "guest RIP (HLT completed: next instruction)", h->x.rip, rip + 1);
	h_expect(h, "activity state (HLT)", h->x.activity, 1);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, INTR_VALID);
}

static void hlt_real(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(7), "\xf4");
	h_start(h, rip);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_HLT, rip, 1, 0, 0, 0);
}

static void invlpg_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(16), "\x0f\x01\x7b\x10");
	preset(h, rip);
	SET(h, RBX, 0x12345000);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_INVLPG, rip, 4, 0x12345010, 0, 0);
}

static void invlpg_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(16), "\x0f\x01\x7b\x10");
	preset(h, rip);
	SET(h, RBX, 0x12345000);
	h_run(h);
	h_expect_sentinel(h, rip + 4);
}

static void invlpg_prot32(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(5), "\x0f\x01\x7b\x10");
	h_start(h, rip);
	SET(h, RBX, 0xabcdef00fffff000ull); /* 32-bit mode: EBX + 0x10 = linear 0xfffff010, qualification bits 63:32 = 0 */
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_INVLPG, rip, 4, 0xfffff010, 0, 0);
}

static void rdpmc_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\x33");
	preset(h, rip);
	SET(h, RCX, 0x12345); /* an invalid counter index does not prevent the exit */
	h_run(h);
	plain_exit(h, VMX_REASON_RDPMC, rip, 2);
}

static void rdpmc_off_gp(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\x33");
	preset(h, rip);
	SET(h, RCX, 0x12345); /* without RDPMC exiting an invalid counter index is #GP(0) */
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 13, 0, rip, 0);
}

static void rdtsc_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x0f\x31");
	preset(h, rip);
	h_run(h);
	plain_exit(h, VMX_REASON_RDTSC, rip, 2);
}

static void rdtsc_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x0f\x31");
	preset(h, rip);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	uint64_t rax = h_reg(h, HV_X86_RAX), rdx = h_reg(h, HV_X86_RDX);
	h_expect_true(h, "RDTSC wrote EDX:EAX (RAX/RDX bits 63:32 cleared)", (rax >> 32) == 0 && (rdx >> 32) == 0);
}

static void rdtscp_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x0f\x01\xf9");
	preset(h, rip);
	h_run(h);
	plain_exit(h, VMX_REASON_RDTSCP, rip, 3);
	EXPECT_REG(h, RCX, V_RCX);
}

static void rdtscp_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x0f\x01\xf9");
	preset(h, rip);
	h_run(h);
	h_expect_sentinel(h, rip + 3);
	h_expect_true(h, "RDTSCP wrote ECX (TSC_AUX; RCX bits 63:32 cleared)", (h_reg(h, HV_X86_RCX) >> 32) == 0);
}

static void rdtscp_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x0f\x01\xf9");
	preset(h, rip);
	ud_exit(h, rip); /* "enable RDTSCP" = 0 */
}

static void wbinvd_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(7), "\x0f\x09");
	preset(h, rip);
	h_run(h);
	plain_exit(h, VMX_REASON_WBINVD, rip, 2);
}

static void wbinvd_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(7), "\x0f\x09");
	preset(h, rip);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
}

static void rdmsr_efer(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(10), "\x0f\x32");
	preset(h, rip);
	SET(h, RCX, 0xc0000080);
	h_run(h);
	plain_exit(h, VMX_REASON_RDMSR, rip, 2);
	EXPECT_REG(h, RCX, 0xc0000080);
}

static void rdmsr_unknown(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(10), "\x0f\x32");
	preset(h, rip);
	SET(h, RCX, 0x12345678); /* outside both bitmap ranges: always exits, never #GP first */
	h_run(h);
	plain_exit(h, VMX_REASON_RDMSR, rip, 2);
}

static void wrmsr_efer(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(11), "\x0f\x30");
	preset(h, rip);
	SET(h, RCX, 0xc0000080);
	SET(h, RAX, 0xd01); /* SCE | LME | LMA | NXE: would change EFER if it executed */
	SET(h, RDX, 0);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_WRMSR, rip, 2, 0, 0, 0);
	h_expect(h, "guest IA32_EFER unchanged", h_vmcs(h, VMCS_GUEST_IA32_EFER), 0x500);
}

static void mwait_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(12), "\x0f\x01\xc9");
	preset(h, rip);
	SET(h, RAX, 0);
	SET(h, RCX, 0);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MWAIT, rip, 3, 0, 0, 0); /* qualification bit 0 = 0: no monitor armed */
}

static void mwait_armed(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(13), "\x0f\x01\xc8\x0f\x01\xc9");
	preset(h, rip);
	SET(h, RAX, H_DATA);
	SET(h, RCX, 0);
	SET(h, RDX, 0);
	h_run(h);
	/* MONITOR ran (not exiting) and armed the monitor: MWAIT's qualification bit 0 = 1. */
	h_expect_insn_exit(h, VMX_REASON_MWAIT, rip + 3, 3, 1, 0, 0);
}

static void monitor_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(13), "\x0f\x01\xc8");
	preset(h, rip);
	SET(h, RAX, H_DATA);
	SET(h, RCX, 0);
	SET(h, RDX, 0);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MONITOR, rip, 3, 0, 0, 0);
	EXPECT_REG(h, RAX, H_DATA);
}

static void monitor_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(20), "\x0f\x01\xc8");
	preset(h, rip);
	SET(h, RAX, H_DATA);
	SET(h, RCX, 0);
	SET(h, RDX, 0);
	h_run(h);
	h_expect_sentinel(h, rip + 3);
}

static void pause_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(14), "\xf3\x90");
	preset(h, rip);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
}

static void pause_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(14), "\xf3\x90");
	preset(h, rip);
	h_run(h);
	plain_exit(h, VMX_REASON_PAUSE, rip, 2);
}

static void pause_loop(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(15), "\xf3\x90");
	preset(h, rip);
	/* Every PAUSE continues the loop (gap never exceeded); the loop is longer than a window of 0 ticks at once. */
	h_set_vmcs(h, VMCS_CTRL_PLE_GAP, 0xffffffff);
	h_set_vmcs(h, VMCS_CTRL_PLE_WINDOW, 0);
	h_run(h);
	plain_exit(h, VMX_REASON_PAUSE, rip, 2);
}

static void encls_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(17), "\x0f\x01\xcf");
	preset(h, rip);
	SET(h, RAX, 0); /* ECREATE */
	h_set_vmcs(h, VMCS_CTRL_ENCLS_EXITING_BITMAP, 1);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_ENCLS, rip, 3, 0, 0, 0);
}

/* UMWAIT/TPAUSE instruction information (RDRAND layout, reg = ECX) is UNCONFIRMED: not compared. */
static void umwait_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(18), "\xf2\x0f\xae\xf1");
	preset(h, rip);
	SET(h, RCX, 0);
	h_run(h);
	if (h_expect_reason(h, VMX_REASON_UMWAIT)) {
		h_expect(h, "guest RIP", h->x.rip, rip);
		h_expect(h, "VM-exit instruction length", h->x.len, 4);
		h_expect(h, "exit qualification", h->x.qual, 0);
	}
}

static void tpause_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(19), "\x66\x0f\xae\xf1");
	preset(h, rip);
	SET(h, RCX, 0);
	h_run(h);
	if (h_expect_reason(h, VMX_REASON_TPAUSE)) {
		h_expect(h, "guest RIP", h->x.rip, rip);
		h_expect(h, "VM-exit instruction length", h->x.len, 4);
		h_expect(h, "exit qualification", h->x.qual, 0);
	}
}

/* ------------------------------------------------------------------ VMX instructions, INVPCID, VMFUNC, XSAVES, RDRAND */

struct vmx_insn {
	unsigned slot;
	const char *bytes;
	size_t len;
	uint32_t reason;
	uint64_t qual, info, mask;
};

/* Operands: RBX = 0x10000 (memory base), RCX = 1 (index / field register), RDX, RSI, RDI as noted per instruction. */
static void vmx_one(struct h_ctx *h, const struct vmx_insn *v)
{
	uint64_t rip = h_at(h, H_SLOT(v->slot), v->bytes, v->len);
	h_start(h, rip);
	SET(h, RAX, 0);
	SET(h, RBX, H_DATA);
	SET(h, RCX, 1);
	SET(h, RDX, 2);
	SET(h, RSI, H_DATA);
	SET(h, RDI, 0x20);
	h_run(h);
	h_expect_insn_exit(h, v->reason, rip, v->len, v->qual, v->info, v->mask);
}

#define VMX_CASE(fn, slot, bytes, reason, qual, info, mask)                                  \
	static void fn(struct h_ctx *h)                                                      \
	{                                                                                    \
		static const struct vmx_insn v = {slot, bytes, LEN(bytes), reason, qual, info, mask}; \
		vmx_one(h, &v);                                                              \
	}

/* Instruction information per spec vmx-exits 3.2/3.6/3.7: address size 64 = 2 << 7, DS = 3 << 15, SS = 2 << 15,
 * index invalid = 1 << 22, base RBX = 3 << 23, RSP = 4 << 23, RSI = 6 << 23, index RCX = 1 << 18, RDI = 7 << 18. */
VMX_CASE(vmclear_long, 0, "\x66\x0f\xc7\x73\x20", VMX_REASON_VMCLEAR, 0x20, 0x01c18100, II_MEM_NOINDEX)
VMX_CASE(vmlaunch_long, 1, "\x0f\x01\xc2", VMX_REASON_VMLAUNCH, 0, 0, 0)
VMX_CASE(vmptrld_long, 2, "\x0f\xc7\xb4\xcb\x00\x10\x00\x00", VMX_REASON_VMPTRLD, 0x1000, 0x01858103, II_MEM_INDEX)
VMX_CASE(vmptrst_long, 3, "\x0f\xc7\x7c\x24\xf8", VMX_REASON_VMPTRST, 0xfffffffffffffff8ull, 0x02410100,
	 II_MEM_NOINDEX)
VMX_CASE(vmread_long, 4, "\x0f\x78\xc8", VMX_REASON_VMREAD, 0, 0x10000400, II_REG_FORM | II_REG2)
VMX_CASE(vmread_mem_long, 20, "\x0f\x78\x54\x8b\x08", VMX_REASON_VMREAD, 8, 0x21858102, II_MEM_INDEX | II_REG2)
VMX_CASE(vmwrite_reg_long, 21, "\x0f\x79\xf7", VMX_REASON_VMWRITE, 0, 0x60000438, II_REG_FORM | II_REG2)
VMX_CASE(vmresume_long, 5, "\x0f\x01\xc3", VMX_REASON_VMRESUME, 0, 0, 0)
VMX_CASE(vmwrite_long, 6, "\x0f\x79\x53\x40", VMX_REASON_VMWRITE, 0x40, 0x21c18100, II_MEM_NOINDEX | II_REG2)
VMX_CASE(vmxoff_long, 7, "\x0f\x01\xc4", VMX_REASON_VMOFF, 0, 0, 0)
VMX_CASE(vmxon_long, 8, "\xf3\x0f\xc7\x33", VMX_REASON_VMON, 0, 0x01c18100, II_MEM_NOINDEX)
VMX_CASE(invept_long, 9, "\x66\x0f\x38\x80\x4b\x08", VMX_REASON_EPT_INVEPT, 8, 0x11c18100, II_MEM_NOINDEX | II_REG2)
VMX_CASE(invvpid_long, 10, "\x66\x0f\x38\x81\x54\x7e\x10", VMX_REASON_INVVPID, 0x10, 0x231d8101,
	 II_MEM_INDEX | II_REG2)
VMX_CASE(vmfunc_long, 11, "\x0f\x01\xd4", VMX_REASON_VMFUNC, 0, 0, 0)
VMX_CASE(invpcid_long, 12, "\x66\x48\x0f\x38\x82\x03", VMX_REASON_INVPCID, 0, 0x01c18100, II_MEM_NOINDEX | II_REG2)
/* RDRAND/RDSEED (spec 3.5): destination register in 6:3, operand size in 12:11 (0 = 16, 1 = 32, 2 = 64). */
VMX_CASE(rdrand_eax, 15, "\x0f\xc7\xf0", VMX_REASON_RDRAND, 0, 0x800, 0x1878)
VMX_CASE(rdrand_rcx, 16, "\x48\x0f\xc7\xf1", VMX_REASON_RDRAND, 0, 0x1008, 0x1878)
VMX_CASE(rdrand_dx, 17, "\x66\x0f\xc7\xf2", VMX_REASON_RDRAND, 0, 0x10, 0x1878)
VMX_CASE(rdseed_rbx, 18, "\x48\x0f\xc7\xfb", VMX_REASON_RDSEED, 0, 0x1018, 0x1878)
VMX_CASE(rdseed_eax, 19, "\x0f\xc7\xf8", VMX_REASON_RDSEED, 0, 0x800, 0x1878)

static void rdrand_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(15), "\x0f\xc7\xf0");
	preset(h, rip);
	h_run(h);
	h_expect_sentinel(h, rip + 3);
	h_expect_true(h, "RDRAND wrote EAX (RAX bits 63:32 cleared)", (h_reg(h, HV_X86_RAX) >> 32) == 0);
}

static void invpcid_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(12), "\x66\x48\x0f\x38\x82\x03");
	preset(h, rip);
	SET(h, RAX, 0); /* individual-address invalidation of PCID 0, address 0 (descriptor of zeros) */
	SET(h, RBX, H_DATA);
	h_run(h);
	h_expect_sentinel(h, rip + 6);
}

static void vmclear_real_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(5), "\x66\x0f\xc7\x37");
	h_start(h, rip);
	ud_exit(h, rip); /* CR0.PE = 0: #UD ranks above the VM exit */
}

static void invpcid_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(12), "\x66\x48\x0f\x38\x82\x03");
	preset(h, rip);
	SET(h, RBX, H_DATA);
	ud_exit(h, rip); /* "enable INVPCID" = 0 */
}

static void vmfunc_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(11), "\x0f\x01\xd4");
	preset(h, rip);
	SET(h, RAX, 0);
	ud_exit(h, rip); /* "enable VM functions" = 0 */
}

/* XSAVES/XRSTORS exit only when EDX:EAX & IA32_XSS & XSS-exiting bitmap != 0: use XSS bit 8 (PT state). */
static bool xss_setup(struct h_ctx *h)
{
	if (!(h->cap_cr4_fixed1 & CR4_OSXSAVE)) {
		h_decline(h, "CR4_FIXED1 does not allow CR4.OSXSAVE");
		return false;
	}
	if (hv_vcpu_enable_managed_msr(h->vcpu, 0xda0, true) != HV_SUCCESS ||
	    hv_vcpu_write_msr(h->vcpu, 0xda0, 0x100) != HV_SUCCESS) {
		h_decline(h, "hv_vcpu_write_msr(IA32_XSS, 0x100) is refused");
		return false;
	}
	h_set_vmcs(h, VMCS_GUEST_CR4, 0x2020 | CR4_OSXSAVE);
	h_set_vmcs(h, VMCS_CTRL_XSS_EXITING_BITMAP, 0x100);
	return true;
}

static void xsaves_long(struct h_ctx *h)
{
	if (!xss_setup(h))
		return;
	uint64_t rip = AT(h, H_SLOT(13), "\x0f\xc7\x2b");
	h_start(h, rip);
	SET(h, RAX, 0x100);
	SET(h, RDX, 0);
	SET(h, RBX, H_DATA);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_XSAVES, rip, 3, 0, 0x01c18100, II_MEM_NOINDEX);
}

static void xrstors_long(struct h_ctx *h)
{
	if (!xss_setup(h))
		return;
	uint64_t rip = AT(h, H_SLOT(14), "\x0f\xc7\x5b\x40");
	h_start(h, rip);
	SET(h, RAX, 0x100);
	SET(h, RDX, 0);
	SET(h, RBX, H_DATA);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_XRSTORS, rip, 4, 0x40, 0x01c18100, II_MEM_NOINDEX);
}

static void xsaves_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(13), "\x0f\xc7\x2b");
	preset(h, rip);
	SET(h, RBX, H_DATA);
	ud_exit(h, rip); /* "enable XSAVES/XRSTORS" = 0 */
}

/* ------------------------------------------------------------------ descriptor-table exits */

static void sgdt_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\x01\x43\x10");
	preset(h, rip);
	SET(h, RBX, H_DATA);
	h_run(h);
	/* identity 0 (SGDT); operand size (bit 11) undefined in 64-bit mode */
	h_expect_insn_exit(h, VMX_REASON_GDTR_IDTR, rip, 4, 0x10, 0x01c18100, II_MEM_NOINDEX | II_IDENT);
}

static void sgdt_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\x01\x43\x10");
	preset(h, rip);
	SET(h, RBX, H_DATA);
	h_run(h);
	h_expect_sentinel(h, rip + 4);
	uint16_t limit;
	uint64_t base;
	memcpy(&limit, h->mem + H_DATA + 0x10, 2);
	memcpy(&base, h->mem + H_DATA + 0x12, 8);
	h_expect(h, "SGDT stored limit", limit, 0x4f);
	h_expect(h, "SGDT stored base", base, H_GDT);
}

static void lidt_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(1), "\x0f\x01\x1e");
	preset(h, rip);
	SET(h, RSI, H_DATA);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_GDTR_IDTR, rip, 3, 0, 0x33418100, II_MEM_NOINDEX | II_IDENT);
	h_expect(h, "guest IDTR limit unchanged", h_vmcs(h, VMCS_GUEST_IDTR_LIMIT), 0);
}

static void sidt_prot32(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\x01\x0b");
	h_start(h, rip);
	SET(h, RBX, H_DATA);
	h_run(h);
	/* 32-bit address size (1 << 7), operand size 32 (bit 11), identity 1 (SIDT) */
	h_expect_insn_exit(h, VMX_REASON_GDTR_IDTR, rip, 3, 0, 0x11c18880, II_MEM_NOINDEX | II_IDENT | II_OPSIZE);
	uint64_t rip16 = AT(h, H_SLOT(4), "\x66\x0f\x01\x0b");
	h_start(h, rip16);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_GDTR_IDTR, rip16, 4, 0, 0x11c18080, II_MEM_NOINDEX | II_IDENT | II_OPSIZE);
}

static void str_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(2), "\x66\x0f\x00\xca");
	preset(h, rip);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_LDTR_TR, rip, 4, 0, 0x10000410, II_REG_FORM | II_IDENT);
	EXPECT_REG(h, RDX, V_RDX);
}

static void sldt_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\x00\x43\x04");
	preset(h, rip);
	SET(h, RBX, H_DATA);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_LDTR_TR, rip, 4, 4, 0x01c18100, II_MEM_NOINDEX | II_IDENT | 0x400);
}

static void lldt_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x0f\x00\xd1");
	preset(h, rip);
	SET(h, RCX, 0);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_LDTR_TR, rip, 3, 0, 0x20000408, II_REG_FORM | II_IDENT);
}

static void ltr_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(5), "\x0f\x00\x1b");
	preset(h, rip);
	SET(h, RBX, H_DATA);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_LDTR_TR, rip, 3, 0, 0x31c18100, II_MEM_NOINDEX | II_IDENT | 0x400);
	h_expect(h, "guest TR selector unchanged", h_vmcs(h, VMCS_GUEST_TR), H_SEL_TSS);
}

static void str_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x66\x0f\x00\xca");
	preset(h, rip);
	h_run(h);
	h_expect_sentinel(h, rip + 4);
	EXPECT_REG(h, RDX, (V_RDX & ~0xffffull) | H_SEL_TSS); /* 16-bit destination: only DX is written */
}

static void str_real_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x0f\x00\xc8");
	h_start(h, rip);
	ud_exit(h, rip); /* STR is #UD in real mode, ahead of descriptor-table exiting */
}

/* ------------------------------------------------------------------ control registers */

static void cr_setup(struct h_ctx *h, unsigned slot, const char *bytes, size_t n, uint64_t *rip)
{
	*rip = h_at(h, H_SLOT(slot), bytes, n);
	preset(h, *rip);
}

static void mov_to_cr0(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 0, "\x0f\x22\xc3", 3, &rip);
	h_set_vmcs(h, VMCS_CTRL_CR0_MASK, 0x60000008); /* CD, NW, TS host-owned; shadow TS = 0 */
	SET(h, RBX, 0x80000029);                       /* sets TS: differs from the shadow in a host-owned bit */
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 3, 0x300, 0, 0); /* CR0, MOV to, RBX */
	h_expect(h, "guest CR0 unchanged", h_vmcs(h, VMCS_GUEST_CR0), 0x80000021);
}

static void mov_to_cr0_guest_owned(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 0, "\x0f\x22\xc3", 3, &rip);
	h_set_vmcs(h, VMCS_CTRL_CR0_MASK, 0x60000008);
	SET(h, RBX, 0x80000023); /* sets MP, a guest-owned bit: no exit */
	h_run(h);
	h_expect_sentinel(h, rip + 3);
	/* ET (bit 4) is hard-wired to 1 on P6 and later processors, so the MOV may leave it set: not compared. */
	h_expect_masked(h, "guest CR0 (MP set by the guest)", h_vmcs(h, VMCS_GUEST_CR0), 0x80000023, ~0x10ull);
}

static void mov_to_cr4(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 1, "\x0f\x22\xe1", 3, &rip);
	h_set_vmcs(h, VMCS_CTRL_CR4_MASK, 0x2080); /* VMXE and PGE host-owned, shadow 0 */
	SET(h, RCX, 0xa0);                          /* PAE | PGE */
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 3, 0x104, 0, 0); /* CR4, MOV to, RCX */
	h_expect(h, "guest CR4 unchanged", h_vmcs(h, VMCS_GUEST_CR4), 0x2020);
}

static void mov_to_cr4_guest_owned(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 1, "\x0f\x22\xe1", 3, &rip);
	h_set_vmcs(h, VMCS_CTRL_CR4_MASK, 0x2080);
	SET(h, RCX, 0x220); /* PAE | OSFXSR: host-owned bits equal the shadow */
	h_run(h);
	h_expect_sentinel(h, rip + 3);
	h_expect(h, "guest CR4 (host-owned VMXE kept, OSFXSR set)", h_vmcs(h, VMCS_GUEST_CR4), 0x2220);
}

static void mov_to_cr4_reserved(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 1, "\x0f\x22\xe1", 3, &rip);
	h_set_vmcs(h, VMCS_CTRL_CR4_MASK, 0x2080);
	SET(h, RCX, 0x1000000a0ull); /* reserved bit 32 would #GP, but the host-owned PGE differs: the exit ranks first */
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 3, 0x104, 0, 0);
}

static void mov_from_cr0_cr4_shadows(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(13), "\x0f\x20\xc0\x0f\x20\xe3");
	preset(h, rip);
	h_set_vmcs(h, VMCS_CTRL_CR0_MASK, 0x60000008);
	h_set_vmcs(h, VMCS_CTRL_CR0_SHADOW, 0x8); /* guest reads TS = 1 though the real TS is 0 */
	h_run(h);
	h_expect_sentinel(h, rip + 6);
	/* real CR0 0x80000021 with host-owned TS/CD/NW from the shadow; ET (bit 4) may read as the hard-wired 1 */
	h_expect_masked(h, "guest RAX (MOV from CR0)", h_reg(h, HV_X86_RAX), 0x80000029, ~0x10ull);
	EXPECT_REG(h, RBX, 0x20);       /* real CR4 0x2020 with host-owned VMXE from the shadow (0) */
}

static void mov_to_cr3(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 2, "\x0f\x22\xda", 3, &rip);
	SET(h, RDX, H_PML4);
	h_set_vmcs(h, VMCS_CTRL_CR3_COUNT, 0);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 3, 0x203, 0, 0); /* CR3, MOV to, RDX */
}

static void mov_to_cr3_target(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 2, "\x0f\x22\xda", 3, &rip);
	SET(h, RDX, H_PML4);
	h_set_vmcs(h, VMCS_CTRL_CR3_COUNT, 1);
	h_set_vmcs(h, VMCS_CTRL_CR3_VALUE0, H_PML4); /* a CR3-target value: no exit */
	h_run(h);
	h_expect_sentinel(h, rip + 3);
	h_expect(h, "guest CR3", h_vmcs(h, VMCS_GUEST_CR3), H_PML4);
}

static void mov_from_cr3(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 3, "\x0f\x20\xde", 3, &rip);
	SET(h, RSI, 0x5555);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 3, 0x613, 0, 0); /* CR3, MOV from, RSI */
	EXPECT_REG(h, RSI, 0x5555);
}

static void mov_to_cr8(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 4, "\x45\x0f\x22\xc1", 4, &rip);
	SET(h, R9, 1);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 4, 0x908, 0, 0); /* CR8, MOV to, R9 */
}

static void mov_from_cr8(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 5, "\x45\x0f\x20\xc2", 4, &rip);
	SET(h, R10, 0x7777);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 4, 0xa18, 0, 0); /* CR8, MOV from, R10 */
	EXPECT_REG(h, R10, 0x7777);
}

static void clts_exits(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 6, "\x0f\x06", 2, &rip);
	h_set_vmcs(h, VMCS_CTRL_CR0_MASK, 0x60000008);
	h_set_vmcs(h, VMCS_CTRL_CR0_SHADOW, 0x8); /* TS in mask and shadow: CLTS exits */
	h_set_vmcs(h, VMCS_GUEST_CR0, 0x80000029);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 2, 0x20, 0, 0); /* access type 2 */
	h_expect(h, "guest CR0.TS still set", h_vmcs(h, VMCS_GUEST_CR0), 0x80000029);
}

static void clts_shadow_clear(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 6, "\x0f\x06", 2, &rip);
	h_set_vmcs(h, VMCS_CTRL_CR0_MASK, 0x60000008);
	h_set_vmcs(h, VMCS_CTRL_CR0_SHADOW, 0); /* mask.TS = 1, shadow.TS = 0: CLTS completes without touching CR0.TS */
	h_set_vmcs(h, VMCS_GUEST_CR0, 0x80000029);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	h_expect(h, "guest CR0 (TS is host-owned: unchanged)", h_vmcs(h, VMCS_GUEST_CR0), 0x80000029);
}

static void lmsw_reg(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 7, "\x0f\x01\xf0", 3, &rip);
	h_set_vmcs(h, VMCS_CTRL_CR0_MASK, 0x60000008);
	SET(h, RAX, 0x12340009); /* AX = 0x0009: PE | TS */
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 3, 0x00090030, 0, 0); /* LMSW, register, data 0x0009 */
}

static void lmsw_mem(struct h_ctx *h)
{
	uint64_t rip;
	cr_setup(h, 8, "\x0f\x01\x73\x02", 4, &rip);
	h_set_vmcs(h, VMCS_CTRL_CR0_MASK, 0x60000008);
	SET(h, RBX, H_DATA);
	uint16_t msw = 0x0009;
	memcpy(h->mem + H_DATA + 2, &msw, 2);
	h->gla_defined = true;
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_CR, rip, 4, 0x00090070, 0, 0); /* LMSW, memory, data 0x0009 */
	h_expect(h, "guest-linear address (LMSW operand)", h->x.gla, H_DATA + 2);
}

/* ------------------------------------------------------------------ debug registers */

static void mov_from_dr7(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(9), "\x0f\x21\xf8");
	preset(h, rip);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_DR, rip, 3, 0x17, 0, 0); /* DR7, MOV from, RAX */
	EXPECT_REG(h, RAX, V_RAX);
}

static void mov_to_dr3(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(10), "\x0f\x23\xda");
	preset(h, rip);
	SET(h, RDX, 0x1000);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_MOV_DR, rip, 3, 0x203, 0, 0); /* DR3, MOV to, RDX */
	EXPECT_REG(h, DR3, 0);
}

static void mov_dr_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(11), "\x0f\x23\xc1\x0f\x21\xc0");
	preset(h, rip);
	SET(h, RCX, 0x1000);
	h_run(h);
	h_expect_sentinel(h, rip + 6);
	EXPECT_REG(h, RAX, 0x1000);
	EXPECT_REG(h, DR0, 0x1000);
}

/* ------------------------------------------------------------------ TPR shadow */

/* HV_X86_TPR is taken to be the APIC-format TPR (VTPR, byte 0x80 of the virtual-APIC page): UNCONFIRMED. */
static void mov_cr8_off(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(12), "\x44\x0f\x22\xc0\x44\x0f\x20\xc3");
	preset(h, rip);
	SET(h, RAX, 0x7);
	h_run(h);
	h_expect_sentinel(h, rip + 8);
	EXPECT_REG(h, RBX, 0x7); /* without CR8 exiting or TPR shadow, CR8 is the task-priority register itself */
}

static void tpr_below_threshold(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(12), "\x44\x0f\x22\xc0");
	preset(h, rip);
	SET(h, TPR, 0x50);
	h_set_vmcs(h, VMCS_CTRL_TPR_THRESHOLD, 4);
	SET(h, RAX, 3);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_TPR_THRESHOLD))
		return;
	h_expect(h, "guest RIP (trap-like: after MOV to CR8)", h->x.rip, rip + 4);
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect(h, "TPR (VTPR = CR8 << 4)", h_reg(h, HV_X86_TPR), 0x30);
}

static void tpr_above_threshold(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(12), "\x44\x0f\x22\xc0\x44\x0f\x20\xc3");
	preset(h, rip);
	SET(h, TPR, 0x50);
	h_set_vmcs(h, VMCS_CTRL_TPR_THRESHOLD, 4);
	SET(h, RAX, 5);
	h_run(h);
	h_expect_sentinel(h, rip + 8);
	EXPECT_REG(h, RBX, 5); /* MOV from CR8 reads VTPR[7:4] */
}

/* ------------------------------------------------------------------ CPL 3: which checks rank above the exit */

static void cpuid_cpl3(struct h_ctx *h)
{
	h_ring3(h);
	cpuid_long(h);
}

static void vmcall_cpl3(struct h_ctx *h)
{
	h_ring3(h);
	vmcall_long(h); /* VMCALL exits at any CPL */
}

static void vmclear_cpl3(struct h_ctx *h)
{
	h_ring3(h);
	vmclear_long(h); /* the VM exit precedes the CPL check of VMX instructions */
}

static void hlt_cpl3_gp(struct h_ctx *h)
{
	h_ring3(h);
	uint64_t rip = AT(h, H_SLOT(1), "\xf4");
	preset(h, rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 13, 0, rip, 0); /* #GP(0) ranks above HLT exiting */
}

static void rdmsr_cpl3_gp(struct h_ctx *h)
{
	h_ring3(h);
	uint64_t rip = AT(h, H_SLOT(10), "\x0f\x32");
	preset(h, rip);
	SET(h, RCX, 0xc0000080);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 13, 0, rip, 0);
}

static void mov_dr_cpl3(struct h_ctx *h)
{
	h_ring3(h);
	mov_from_dr7(h); /* MOV DR exiting ranks above the CPL #GP */
}

/* ------------------------------------------------------------------ the table */

#define S2 CPU_BASED_SECONDARY_CTLS
#define CTL(...) ((struct h_ctrls){__VA_ARGS__})

const struct conf_case conf_cases_insn[] = {
	{"CPUID", "cpuid_exits_fault_like_64bit", "insn_long", H_LONG64, {0}, {0}, 0, cpuid_long, NULL},
	{"CPUID", "cpuid_exits_fault_like_real_mode", "real", H_REAL, {0}, {0}, 0, cpuid_real, NULL},
	{"CPUID", "cpuid_exits_at_cpl3", "insn_long", H_LONG64, {0}, {0}, 0, cpuid_cpl3, NULL},
	{"GETSEC", "getsec_with_smxe_exits", "insn_long", H_LONG64, {0}, {0}, 0, getsec_long, NULL},
	{"GETSEC", "getsec_without_smxe_is_ud_not_exit", "insn_long", H_LONG64, {0}, {"EXC_NMI"}, 0, getsec_ud, NULL},
	{"INVD", "invd_exits_fault_like", "insn_long", H_LONG64, {0}, {0}, 0, invd_long, NULL},
	{"XSETBV", "xsetbv_exits_fault_like", "insn_long", H_LONG64, {0}, {0}, 0, xsetbv_long, NULL},
	{"XSETBV", "xsetbv_without_osxsave_is_ud_not_exit", "insn_long", H_LONG64, {0}, {"EXC_NMI"}, 0, xsetbv_ud, NULL},
	{"VMCALL", "vmcall_exits_fault_like", "insn_long", H_LONG64, {0}, {0}, C_NO_KVM, vmcall_long, NULL},
	{"VMCALL", "vmcall_exits_at_cpl3", "insn_long", H_LONG64, {0}, {0}, C_NO_KVM, vmcall_cpl3, NULL},
	{"HLT", "hlt_exits_with_hlt_exiting", "insn_long", H_LONG64, CTL(.proc = CPU_BASED_HLT), {0}, 0, hlt_long, NULL},
	{"HLT", "hlt_exits_in_real_mode", "real", H_REAL, CTL(.proc = CPU_BASED_HLT), {0}, 0, hlt_real, NULL},
	{"HLT", "hlt_at_cpl3_is_gp_not_exit", "insn_long", H_LONG64, CTL(.proc = CPU_BASED_HLT), {"EXC_NMI"}, 0,
	 hlt_cpl3_gp, NULL},
	{"HLT", "hlt_without_exiting_halts_until_kick", "insn_long", H_LONG64, CTL(.proc_off = CPU_BASED_HLT), {"IRQ"},
	 0, hlt_off_halts, NULL},
	{"INVLPG", "invlpg_exits_with_linear_address", "insn_long", H_LONG64, CTL(.proc = CPU_BASED_INVLPG), {0}, 0,
	 invlpg_long, NULL},
	{"INVLPG", "invlpg_exits_with_32bit_linear_address", "prot32", H_PROT32, CTL(.proc = CPU_BASED_INVLPG), {0}, 0,
	 invlpg_prot32, NULL},
	{"INVLPG", "invlpg_without_exiting_completes", "insn_long", H_LONG64,
	 CTL(.proc = IOX, .proc_off = CPU_BASED_INVLPG), {"IO"}, 0, invlpg_off, NULL},
	{"RDPMC", "rdpmc_exits_even_for_invalid_counter", "insn_long", H_LONG64, CTL(.proc = CPU_BASED_RDPMC), {0}, 0,
	 rdpmc_long, NULL},
	{"RDPMC", "rdpmc_without_exiting_invalid_counter_is_gp", "insn_long", H_LONG64,
	 CTL(.proc_off = CPU_BASED_RDPMC), {"EXC_NMI"}, 0, rdpmc_off_gp, NULL},
	{"RDTSC", "rdtsc_exits_with_rdtsc_exiting", "insn_long", H_LONG64, CTL(.proc = CPU_BASED_RDTSC), {0}, 0,
	 rdtsc_long, NULL},
	{"RDTSC", "rdtsc_without_exiting_returns_tsc", "insn_long", H_LONG64,
	 CTL(.proc = IOX, .proc_off = CPU_BASED_RDTSC), {"IO"}, 0, rdtsc_off, NULL},
	{"RDTSCP", "rdtscp_exits_with_rdtsc_exiting", "insn_long", H_LONG64,
	 CTL(.proc = CPU_BASED_RDTSC, .proc2 = CPU_BASED2_RDTSCP), {0}, 0, rdtscp_long, NULL},
	{"RDTSCP", "rdtscp_without_exiting_returns_tsc_aux", "insn_long", H_LONG64,
	 CTL(.proc = IOX, .proc2 = CPU_BASED2_RDTSCP, .proc_off = CPU_BASED_RDTSC), {"IO"}, 0, rdtscp_off, NULL},
	{"RDTSCP", "rdtscp_disabled_is_ud_not_exit", "insn_long", H_LONG64,
	 CTL(.proc = CPU_BASED_RDTSC, .proc2_off = CPU_BASED2_RDTSCP), {"EXC_NMI"}, 0, rdtscp_ud, NULL},
	{"WBINVD", "wbinvd_exits_with_wbinvd_exiting", "insn_long", H_LONG64, CTL(.proc2 = CPU_BASED2_WBINVD), {0}, 0,
	 wbinvd_long, NULL},
	{"WBINVD", "wbinvd_without_exiting_completes", "insn_long", H_LONG64,
	 CTL(.proc = IOX, .proc2_off = CPU_BASED2_WBINVD), {"IO"}, 0, wbinvd_off, NULL},
	{"RDMSR", "rdmsr_efer_exits", "insn_long", H_LONG64, {0}, {0}, 0, rdmsr_efer, NULL},
	{"RDMSR", "rdmsr_unknown_msr_exits_before_gp", "insn_long", H_LONG64, {0}, {0}, 0, rdmsr_unknown, NULL},
	{"RDMSR", "rdmsr_at_cpl3_is_gp_not_exit", "insn_long", H_LONG64, {0}, {"EXC_NMI"}, 0, rdmsr_cpl3_gp, NULL},
	{"WRMSR", "wrmsr_efer_exits_without_writing", "insn_long", H_LONG64, {0}, {0}, 0, wrmsr_efer, NULL},
	{"MWAIT", "mwait_exits_monitor_not_armed", "insn_long", H_LONG64, CTL(.proc = CPU_BASED_MWAIT), {0}, 0,
	 mwait_long, NULL},
	{"MWAIT", "mwait_after_monitor_reports_armed", "insn_long", H_LONG64,
	 CTL(.proc = CPU_BASED_MWAIT, .proc_off = CPU_BASED_MONITOR), {0}, 0, mwait_armed, NULL},
	{"MONITOR", "monitor_exits_fault_like", "insn_long", H_LONG64, CTL(.proc = CPU_BASED_MONITOR), {0}, 0,
	 monitor_long, NULL},
	{"MONITOR", "monitor_without_exiting_completes", "insn_long", H_LONG64,
	 CTL(.proc = IOX, .proc_off = CPU_BASED_MONITOR), {"IO"}, 0, monitor_off, NULL},
	{"PAUSE", "pause_without_exiting_completes", "insn_long", H_LONG64,
	 CTL(.proc = IOX, .proc_off = CPU_BASED_PAUSE), {"IO"}, 0, pause_off, NULL},
	{"PAUSE", "pause_exits_with_pause_exiting", "insn_long", H_LONG64, CTL(.proc = CPU_BASED_PAUSE), {0}, 0,
	 pause_long, NULL},
	{"PAUSE", "pause_loop_exits_after_window", "insn_long", H_LONG64,
	 CTL(.proc2 = CPU_BASED2_PAUSE_LOOP, .proc_off = CPU_BASED_PAUSE), {0}, 0, pause_loop, NULL},
	{"ENCLS", "encls_exits_for_bitmap_leaf", "insn_long", H_LONG64, CTL(.proc2 = CPU_BASED2_ENCLS_EXIT_MAP), {0}, 0,
	 encls_long, NULL},
	{"UMWAIT", "umwait_exits_with_rdtsc_exiting", "insn_long", H_LONG64,
	 CTL(.proc = CPU_BASED_RDTSC, .proc2 = CPU_BASED2_USER_WAIT_PAUSE), {0}, 0, umwait_long, NULL},
	{"TPAUSE", "tpause_exits_with_rdtsc_exiting", "insn_long", H_LONG64,
	 CTL(.proc = CPU_BASED_RDTSC, .proc2 = CPU_BASED2_USER_WAIT_PAUSE), {0}, 0, tpause_long, NULL},
	{"VMCLEAR", "vmclear_exits_with_displacement_and_info", "vmx_long", H_LONG64, {0}, {0}, 0, vmclear_long, NULL},
	{"VMCLEAR", "vmclear_exits_at_cpl3_before_gp", "vmx_long", H_LONG64, {0}, {0}, 0, vmclear_cpl3, NULL},
	{"VMCLEAR", "vmclear_in_real_mode_is_ud_not_exit", "real", H_REAL, {0}, {"EXC_NMI"}, 0, vmclear_real_ud, NULL},
	{"VMLAUNCH", "vmlaunch_exits", "vmx_long", H_LONG64, {0}, {0}, 0, vmlaunch_long, NULL},
	{"VMPTRLD", "vmptrld_exits_with_scaled_index", "vmx_long", H_LONG64, {0}, {0}, 0, vmptrld_long, NULL},
	{"VMPTRST", "vmptrst_exits_with_negative_displacement_ss", "vmx_long", H_LONG64, {0}, {0}, 0, vmptrst_long,
	 NULL},
	{"VMREAD", "vmread_register_form_exits", "vmx_long", H_LONG64, {0}, {0}, 0, vmread_long, NULL},
	{"VMREAD", "vmread_memory_form_exits_with_scaled_index", "vmx_long", H_LONG64, {0}, {0}, 0, vmread_mem_long,
	 NULL},
	{"VMRESUME", "vmresume_exits", "vmx_long", H_LONG64, {0}, {0}, 0, vmresume_long, NULL},
	{"VMWRITE", "vmwrite_memory_form_exits", "vmx_long", H_LONG64, {0}, {0}, 0, vmwrite_long, NULL},
	{"VMWRITE", "vmwrite_register_form_exits", "vmx_long", H_LONG64, {0}, {0}, 0, vmwrite_reg_long, NULL},
	{"VMOFF", "vmxoff_exits", "vmx_long", H_LONG64, {0}, {0}, 0, vmxoff_long, NULL},
	{"VMON", "vmxon_exits_with_info", "vmx_long", H_LONG64, {0}, {0}, 0, vmxon_long, NULL},
	{"EPT_INVEPT", "invept_exits_with_type_register", "vmx_long", H_LONG64, {0}, {0}, 0, invept_long, NULL},
	{"INVVPID", "invvpid_exits_with_base_index_scale", "vmx_long", H_LONG64, {0}, {0}, 0, invvpid_long, NULL},
	{"INVPCID", "invpcid_exits_with_invlpg_exiting", "vmx_long", H_LONG64,
	 CTL(.proc = CPU_BASED_INVLPG, .proc2 = CPU_BASED2_INVPCID), {0}, 0, invpcid_long, NULL},
	{"INVPCID", "invpcid_without_invlpg_exiting_completes", "vmx_long", H_LONG64,
	 CTL(.proc = IOX, .proc2 = CPU_BASED2_INVPCID, .proc_off = CPU_BASED_INVLPG), {"IO"}, 0, invpcid_off, NULL},
	{"INVPCID", "invpcid_disabled_is_ud_not_exit", "vmx_long", H_LONG64,
	 CTL(.proc = CPU_BASED_INVLPG, .proc2_off = CPU_BASED2_INVPCID), {"EXC_NMI"}, 0, invpcid_ud, NULL},
	{"VMFUNC", "vmfunc_without_enabled_function_exits", "vmx_long", H_LONG64, CTL(.proc2 = CPU_BASED2_VMFUNC), {0},
	 0, vmfunc_long, NULL},
	{"VMFUNC", "vmfunc_disabled_is_ud_not_exit", "vmx_long", H_LONG64, CTL(.proc2_off = CPU_BASED2_VMFUNC),
	 {"EXC_NMI"}, 0, vmfunc_ud, NULL},
	{"XSAVES", "xsaves_exits_for_bitmap_component", "vmx_long", H_LONG64, CTL(.proc2 = CPU_BASED2_XSAVES_XRSTORS),
	 {0}, 0, xsaves_long, NULL},
	{"XSAVES", "xsaves_disabled_is_ud_not_exit", "vmx_long", H_LONG64, CTL(.proc2_off = CPU_BASED2_XSAVES_XRSTORS),
	 {"EXC_NMI"}, 0, xsaves_ud, NULL},
	{"XRSTORS", "xrstors_exits_with_displacement", "vmx_long", H_LONG64, CTL(.proc2 = CPU_BASED2_XSAVES_XRSTORS),
	 {0}, 0, xrstors_long, NULL},
	{"RDRAND", "rdrand_eax_exits_with_info", "vmx_long", H_LONG64, CTL(.proc2 = CPU_BASED2_RDRAND), {0}, 0,
	 rdrand_eax, NULL},
	{"RDRAND", "rdrand_rcx_exits_with_64bit_size", "vmx_long", H_LONG64, CTL(.proc2 = CPU_BASED2_RDRAND), {0}, 0,
	 rdrand_rcx, NULL},
	{"RDRAND", "rdrand_dx_exits_with_16bit_size", "vmx_long", H_LONG64, CTL(.proc2 = CPU_BASED2_RDRAND), {0}, 0,
	 rdrand_dx, NULL},
	{"RDRAND", "rdrand_without_exiting_completes", "vmx_long", H_LONG64,
	 CTL(.proc = IOX, .proc2_off = CPU_BASED2_RDRAND), {"IO"}, 0, rdrand_off, NULL},
	{"RDSEED", "rdseed_rbx_exits_with_info", "vmx_long", H_LONG64, CTL(.proc2 = CPU_BASED2_RDSEED), {0}, 0,
	 rdseed_rbx, NULL},
	{"RDSEED", "rdseed_eax_exits_with_info", "vmx_long", H_LONG64, CTL(.proc2 = CPU_BASED2_RDSEED), {0}, 0,
	 rdseed_eax, NULL},
	{"GDTR_IDTR", "sgdt_exits_with_displacement", "desc_long", H_LONG64, CTL(.proc2 = CPU_BASED2_DESC_TABLE), {0},
	 0, sgdt_long, NULL},
	{"GDTR_IDTR", "lidt_exits_without_loading", "desc_long", H_LONG64, CTL(.proc2 = CPU_BASED2_DESC_TABLE), {0}, 0,
	 lidt_long, NULL},
	{"GDTR_IDTR", "sidt_exits_with_operand_size_32bit_mode", "prot32", H_PROT32,
	 CTL(.proc2 = CPU_BASED2_DESC_TABLE), {0}, 0, sidt_prot32, NULL},
	{"GDTR_IDTR", "sgdt_without_exiting_stores_gdtr", "desc_long", H_LONG64,
	 CTL(.proc = IOX, .proc2_off = CPU_BASED2_DESC_TABLE), {"IO"}, 0, sgdt_off, NULL},
	{"LDTR_TR", "str_register_form_exits", "desc_long", H_LONG64, CTL(.proc2 = CPU_BASED2_DESC_TABLE), {0}, 0,
	 str_long, NULL},
	{"LDTR_TR", "sldt_memory_form_exits", "desc_long", H_LONG64, CTL(.proc2 = CPU_BASED2_DESC_TABLE), {0}, 0,
	 sldt_long, NULL},
	{"LDTR_TR", "lldt_register_form_exits", "desc_long", H_LONG64, CTL(.proc2 = CPU_BASED2_DESC_TABLE), {0}, 0,
	 lldt_long, NULL},
	{"LDTR_TR", "ltr_memory_form_exits_without_loading", "desc_long", H_LONG64, CTL(.proc2 = CPU_BASED2_DESC_TABLE),
	 {0}, 0, ltr_long, NULL},
	{"LDTR_TR", "str_without_exiting_stores_tr_selector", "desc_long", H_LONG64,
	 CTL(.proc = IOX, .proc2_off = CPU_BASED2_DESC_TABLE), {"IO"}, 0, str_off, NULL},
	{"LDTR_TR", "str_in_real_mode_is_ud_not_exit", "real", H_REAL, CTL(.proc2 = CPU_BASED2_DESC_TABLE),
	 {"EXC_NMI"}, 0, str_real_ud, NULL},
	{"MOV_CR", "mov_to_cr0_host_owned_bit_exits", "cr_long", H_LONG64, {0}, {0}, 0, mov_to_cr0, NULL},
	{"MOV_CR", "mov_to_cr0_guest_owned_bit_completes", "cr_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 mov_to_cr0_guest_owned, NULL},
	{"MOV_CR", "mov_to_cr4_host_owned_bit_exits", "cr_long", H_LONG64, {0}, {0}, 0, mov_to_cr4, NULL},
	{"MOV_CR", "mov_to_cr4_guest_owned_bits_complete", "cr_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 mov_to_cr4_guest_owned, NULL},
	{"MOV_CR", "mov_to_cr4_reserved_bit_exits_before_gp", "cr_long", H_LONG64, {0}, {0}, 0, mov_to_cr4_reserved,
	 NULL},
	{"MOV_CR", "mov_from_cr0_cr4_read_shadows_without_exit", "cr_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 mov_from_cr0_cr4_shadows, NULL},
	{"MOV_CR", "mov_to_cr3_exits_with_cr3_load_exiting", "cr_long", H_LONG64, CTL(.proc = CPU_BASED_CR3_LOAD), {0},
	 0, mov_to_cr3, NULL},
	{"MOV_CR", "mov_to_cr3_target_value_completes", "cr_long", H_LONG64,
	 CTL(.proc = CPU_BASED_CR3_LOAD | IOX), {"IO"}, 0, mov_to_cr3_target, NULL},
	{"MOV_CR", "mov_from_cr3_exits_with_cr3_store_exiting", "cr_long", H_LONG64, CTL(.proc = CPU_BASED_CR3_STORE),
	 {0}, 0, mov_from_cr3, NULL},
	{"MOV_CR", "mov_to_cr8_exits_with_cr8_load_exiting", "cr_long", H_LONG64, CTL(.proc = CPU_BASED_CR8_LOAD), {0},
	 0, mov_to_cr8, NULL},
	{"MOV_CR", "mov_from_cr8_exits_with_cr8_store_exiting", "cr_long", H_LONG64, CTL(.proc = CPU_BASED_CR8_STORE),
	 {0}, 0, mov_from_cr8, NULL},
	{"MOV_CR", "mov_cr8_without_exiting_is_the_tpr", "cr_long", H_LONG64,
	 CTL(.proc = IOX, .proc_off = CPU_BASED_CR8_LOAD | CPU_BASED_CR8_STORE | CPU_BASED_TPR_SHADOW), {"IO"}, 0,
	 mov_cr8_off, NULL},
	{"MOV_CR", "clts_exits_when_ts_masked_and_shadowed", "cr_long", H_LONG64, {0}, {0}, 0, clts_exits, NULL},
	{"MOV_CR", "clts_completes_when_shadow_ts_clear", "cr_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 clts_shadow_clear, NULL},
	{"MOV_CR", "lmsw_register_exits_with_source_data", "cr_long", H_LONG64, {0}, {0}, 0, lmsw_reg, NULL},
	{"MOV_CR", "lmsw_memory_exits_with_linear_address", "cr_long", H_LONG64, {0}, {0}, 0, lmsw_mem, NULL},
	{"MOV_DR", "mov_from_dr7_exits", "cr_long", H_LONG64, CTL(.proc = CPU_BASED_MOV_DR), {0}, 0, mov_from_dr7, NULL},
	{"MOV_DR", "mov_dr_at_cpl3_exits_before_gp", "cr_long", H_LONG64, CTL(.proc = CPU_BASED_MOV_DR), {0}, 0,
	 mov_dr_cpl3, NULL},
	{"MOV_DR", "mov_to_dr3_exits", "cr_long", H_LONG64, CTL(.proc = CPU_BASED_MOV_DR), {0}, 0, mov_to_dr3, NULL},
	{"MOV_DR", "mov_dr_without_exiting_completes", "cr_long", H_LONG64,
	 CTL(.proc = IOX, .proc_off = CPU_BASED_MOV_DR), {"IO"}, 0, mov_dr_off, NULL},
	{"TPR_THRESHOLD", "mov_to_cr8_below_threshold_exits_trap_like", "cr_long", H_LONG64,
	 CTL(.proc = CPU_BASED_TPR_SHADOW, .proc_off = CPU_BASED_CR8_LOAD | CPU_BASED_CR8_STORE), {0}, 0,
	 tpr_below_threshold, NULL},
	{"TPR_THRESHOLD", "mov_to_cr8_at_threshold_completes", "cr_long", H_LONG64,
	 CTL(.proc = CPU_BASED_TPR_SHADOW | IOX, .proc_off = CPU_BASED_CR8_LOAD | CPU_BASED_CR8_STORE), {"IO"}, 0,
	 tpr_above_threshold, NULL},
	{NULL, NULL, NULL, 0, {0}, {0}, 0, NULL, NULL},
};
