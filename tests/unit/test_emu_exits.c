/* test_emu_exits.c: the emu backend's VM exits, each with every exit-information field and the saved guest state. */
#include "emu_guest.h"

static void test_real_mode_hvdos_style(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	eg_load_file(&g, 0x100, "real_hvdos");
	eg_real(&g, 0x100);
	eg_wr(&g, VMCS_GUEST_IDTR_LIMIT, 0);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 0xffffffff);

	/* INT 21h: #GP during delivery exits with IDT-vectoring naming vector 0x21 (software interrupt). */
	uint64_t r = eg_run(&g);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(r, VMX_REASON_EXC_NMI);
	assert_int_equal(e.intr, 0x80000000u | (3u << 8) | 13);
	assert_int_equal(e.idt, 0x80000000u | (4u << 8) | 0x21);
	assert_int_equal(e.len, 2);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.rip, 0x10a);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x0944);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), 0x7000);
	eg_skip(&g);

	/* OUT DX, AL */
	eg_expect_insn_exit(&g, VMX_REASON_IO, 0x111, 1, 0x3f8ull << 16, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX) & 0xff, 'A');
	eg_skip(&g);
	/* IN AL, 0x60: size 1, IN, immediate */
	eg_expect_insn_exit(&g, VMX_REASON_IO, 0x112, 2, (0x60ull << 16) | 0x48, 0);
	eg_skip(&g);
	/* REP INSB: string + REP, ES:DI linear address, address size 16, segment ES */
	eg_expect_insn_exit(&g, VMX_REASON_IO, 0x11a, 2, (0x3f8ull << 16) | 0x38, 0);
	assert_int_equal(eg_rd(&g, VMCS_RO_GUEST_LIN_ADDR), 0x500);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 3);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_CPUID, 0x11c, 2, 0, 0);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x11e, 1, 0, 0);
	eg_destroy(&g);
}

#define MEM_RBX 0x1C18100u /* instruction information: [rbx], 64-bit addressing, DS, no index */
#define MEM_RAX 0x0418100u /* [rax + disp] */

struct slot_exit {
	unsigned slot;
	uint32_t reason, len;
	uint64_t qual;
	uint32_t info;
};

/* Every instruction-caused exit of long_exits.asm, in order. */
static const struct slot_exit long_exits[] = {
	{0, VMX_REASON_VMCALL, 3, 0, 0},
	{1, VMX_REASON_RDMSR, 2, 0, 0},
	{2, VMX_REASON_WRMSR, 2, 0, 0},
	{3, VMX_REASON_MOV_CR, 3, 0x13, 0},        /* MOV RAX, CR3 (CR3-store exiting) */
	{4, VMX_REASON_MOV_CR, 3, 0x03, 0},        /* MOV CR3, RAX (CR3-load exiting, no targets) */
	{5, VMX_REASON_MOV_CR, 4, 0x318, 0},       /* MOV RBX, CR8 */
	{6, VMX_REASON_MOV_CR, 4, 0x208, 0},       /* MOV CR8, RDX */
	{7, VMX_REASON_MOV_CR, 3, 0x00, 0},        /* MOV CR0, RAX setting host-owned TS */
	{8, VMX_REASON_MOV_CR, 2, 0x20, 0},        /* CLTS with TS host-owned and shadowed 1 */
	{9, VMX_REASON_MOV_CR, 3, 0x310030, 0},    /* LMSW AX (AX = 0x31) */
	{10, VMX_REASON_MOV_DR, 3, 0x17, 0},       /* MOV RAX, DR7 */
	{11, VMX_REASON_RDTSC, 2, 0, 0},
	{12, VMX_REASON_RDTSCP, 3, 0, 0},
	{13, VMX_REASON_RDPMC, 2, 0, 0},
	{14, VMX_REASON_INVLPG, 4, 0x90010, 0},
	{15, VMX_REASON_WBINVD, 2, 0, 0},
	{16, VMX_REASON_INVD, 2, 0, 0},
	{17, VMX_REASON_MONITOR, 3, 0, 0},
	{18, VMX_REASON_MWAIT, 3, 0, 0},
	{19, VMX_REASON_PAUSE, 2, 0, 0},
	{20, VMX_REASON_XSETBV, 3, 0, 0},
	{21, VMX_REASON_RDRAND, 3, 0, 0x800},      /* EAX, 32-bit */
	{22, VMX_REASON_RDSEED, 4, 0, 0x1008},     /* RCX, 64-bit */
	{23, VMX_REASON_GDTR_IDTR, 4, 8, MEM_RAX | (2u << 28)},
	{24, VMX_REASON_GDTR_IDTR, 3, 0, MEM_RBX | (1u << 28)},
	{25, VMX_REASON_LDTR_TR, 4, 0, 0x500},     /* SLDT AX: register form */
	{26, VMX_REASON_LDTR_TR, 4, 4, MEM_RBX | (3u << 28)},
	{27, VMX_REASON_VMCLEAR, 5, 0x20, MEM_RBX},
	{28, VMX_REASON_VMLAUNCH, 3, 0, 0},
	{29, VMX_REASON_VMRESUME, 3, 0, 0},
	{30, VMX_REASON_VMPTRLD, 3, 0, MEM_RBX},
	{31, VMX_REASON_VMPTRST, 3, 0, MEM_RBX},
	{32, VMX_REASON_VMREAD, 3, 0, 0x10000500},
	{33, VMX_REASON_VMWRITE, 3, 0, 0x10000500},
	{34, VMX_REASON_VMOFF, 3, 0, 0},
	{35, VMX_REASON_VMON, 4, 0, MEM_RBX},
	{36, VMX_REASON_EPT_INVEPT, 5, 0, MEM_RBX},
	{37, VMX_REASON_INVVPID, 6, 8, MEM_RBX | (1u << 28)},
	{38, VMX_REASON_GETSEC, 2, 0, 0},
	{39, VMX_REASON_VMFUNC, 3, 0, 0},
	{40, VMX_REASON_INVPCID, 6, 0, MEM_RBX},
	{41, VMX_REASON_IO, 2, 0x800040, 0},       /* OUT 0x80, AL */
	{42, VMX_REASON_IO, 1, 0x1234000b, 0},     /* IN EAX, DX */
	{43, VMX_REASON_IO, 2, 0x12340030, 0x18100}, /* REP OUTSB: address size 64, DS */
};

#define SLOT_RIP(n) (0x10000u + 32u * (n) + 16u)

static void test_long_mode_instruction_exits(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_load_file(&g, 0x10000, "long_exits");
	eg_long64(&g, 0x10000);
	eg_controls(&g,
		    CPU_BASED_HLT | CPU_BASED_INVLPG | CPU_BASED_MWAIT | CPU_BASED_RDPMC | CPU_BASED_RDTSC |
			    CPU_BASED_CR3_LOAD | CPU_BASED_CR3_STORE | CPU_BASED_CR8_LOAD | CPU_BASED_CR8_STORE |
			    CPU_BASED_MOV_DR | CPU_BASED_UNCOND_IO | CPU_BASED_MONITOR | CPU_BASED_PAUSE,
		    CPU_BASED2_DESC_TABLE | CPU_BASED2_RDTSCP | CPU_BASED2_WBINVD | CPU_BASED2_RDRAND | CPU_BASED2_INVPCID |
			    CPU_BASED2_VMFUNC | CPU_BASED2_RDSEED);
	eg_wr(&g, VMCS_GUEST_CR4, 0x2020 | (1u << 18) | (1u << 14)); /* + OSXSAVE, SMXE */
	eg_wr(&g, VMCS_CTRL_CR0_MASK, 0x60000008);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, (1u << 6) | (1u << 3));
	eg_wr(&g, VMCS_CTRL_CR3_COUNT, 0);
	/* GPA 0x200000 is read-only for the EPT-violation write below */
	assert_int_equal(hv_vm_protect(0x200000, 4096, HV_MEMORY_READ), HV_SUCCESS);

	for (unsigned i = 0; i < sizeof long_exits / sizeof long_exits[0]; i++) {
		const struct slot_exit *x = &long_exits[i];
		if (x->slot == 8)
			eg_wr(&g, VMCS_CTRL_CR0_SHADOW, 8); /* CLTS exits when TS is host-owned and shadowed 1 */
		uint64_t r = eg_run(&g);
		struct eg_exit e = eg_exit_info(&g);
		if (r != x->reason || e.rip != SLOT_RIP(x->slot))
			fail_msg("slot %u: exit %llu at %#llx, wanted %u at %#x", x->slot, (unsigned long long)r,
				 (unsigned long long)e.rip, x->reason, SLOT_RIP(x->slot));
		if (e.len != x->len || e.qual != x->qual || e.info != x->info)
			fail_msg("slot %u: len %llu qual %#llx info %#llx, wanted %u %#llx %#x", x->slot,
				 (unsigned long long)e.len, (unsigned long long)e.qual, (unsigned long long)e.info, x->len,
				 (unsigned long long)x->qual, x->info);
		assert_int_equal(e.intr, 0);
		assert_int_equal(e.idt, 0);
		assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & (1u << 16), 0); /* RF = 0 after instruction exits */
		if (x->slot == 43)
			assert_int_equal(e.gla, 0x90000);
		if (x->slot == 1)
			assert_int_equal(eg_reg(&g, HV_X86_RCX), 0xc0000080);
		eg_skip(&g);
	}
	/* UD2: hardware exception #UD, no instruction length, RIP at UD2 */
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000306u);
	assert_int_equal(e.rip, SLOT_RIP(44));
	assert_int_equal(e.len, 0);
	assert_int_equal(e.idt, 0);
	assert_int_equal(e.qual, 0);
	eg_wr(&g, VMCS_GUEST_RIP, SLOT_RIP(45));
	/* INT3: software exception, length 1, RIP at INT3 */
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000603u);
	assert_int_equal(e.len, 1);
	assert_int_equal(e.rip, SLOT_RIP(45));
	eg_skip(&g);
	/* Read of an unmapped GPA: EPT violation, data read, GLA valid, final translation */
	assert_int_equal(eg_run(&g), VMX_REASON_EPT_VIOLATION);
	e = eg_exit_info(&g);
	assert_int_equal(e.qual, 0x181);
	assert_int_equal(e.gpa, 0x3fff0000);
	assert_int_equal(e.gla, 0x3fff0000);
	assert_int_equal(e.rip, SLOT_RIP(46));
	assert_int_equal(e.intr, 0);
	assert_int_equal(e.idt, 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & (1u << 16), 1u << 16); /* RF = 1 after EPT violations */
	eg_wr(&g, VMCS_GUEST_RIP, SLOT_RIP(46) + 3);
	/* Write to a read-only GPA: data write, the GPA is readable */
	assert_int_equal(eg_run(&g), VMX_REASON_EPT_VIOLATION);
	e = eg_exit_info(&g);
	if (e.qual != 0x18a) fail_msg("qual %#llx gpa %#llx rip %#llx", (unsigned long long)e.qual, (unsigned long long)e.gpa, (unsigned long long)e.rip);
	assert_int_equal(e.gpa, 0x200008);
	assert_int_equal(e.gla, 0x200008);
	assert_int_equal(e.rip, SLOT_RIP(47));
	/* After hv_vm_protect back to RW the same instruction completes. */
	assert_int_equal(hv_vm_protect(0x200000, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE), HV_SUCCESS);
	eg_setreg(&g, HV_X86_RAX, 0x5a);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT_RIP(48), 1, 0, 0);
	assert_int_equal(g.mem[0x200008], 0x5a);
	eg_destroy(&g);
}

static void test_cr_shadows_and_tsc_offset(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* mov rax, cr0; mov rbx, cr4; rdtsc; hlt */
	static const uint8_t code[] = {0x0f, 0x20, 0xc0, 0x0f, 0x20, 0xe3, 0x0f, 0x31, 0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_TSC_OFFSET, 0);
	eg_wr(&g, VMCS_CTRL_CR0_MASK, 0x60000008);
	eg_wr(&g, VMCS_CTRL_CR0_SHADOW, 0x8);         /* host-owned TS reads as 1 */
	eg_wr(&g, VMCS_CTRL_CR4_MASK, 0x2000);
	eg_wr(&g, VMCS_CTRL_CR4_SHADOW, 0);           /* host-owned VMXE reads as 0 */
	uint64_t base = 1ull << 50;
	assert_int_equal(hv_vcpu_write_msr(g.vcpu, 0x10, base), HV_SUCCESS); /* guest TSC = host + offset */
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 8, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX) & ~0xffffffffull, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RBX), 0x20);
	uint64_t tsc = (eg_reg(&g, HV_X86_RDX) << 32) | eg_reg(&g, HV_X86_RAX);
	assert_true(tsc >= base && tsc - base < 100000000000ull);
	eg_destroy(&g);
}

/* MOV to CR4 exits iff a host-owned bit differs from the read shadow; otherwise host-owned bits keep their value. */
static void test_cr4_mask_and_dr_access(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* mov cr4, rcx; mov cr4, rdx; mov dr0, rax; mov rbx, dr0; hlt */
	static const uint8_t code[] = {0x0f, 0x22, 0xe1, 0x0f, 0x22, 0xe2, 0x0f, 0x23, 0xc0, 0x0f, 0x21, 0xc3, 0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_wr(&g, VMCS_CTRL_CR4_MASK, 0x2000);
	eg_wr(&g, VMCS_CTRL_CR4_SHADOW, 0);       /* the guest believes VMXE is 0 */
	eg_setreg(&g, HV_X86_RCX, 0x2020);        /* sets VMXE: differs from the shadow -> exit */
	eg_setreg(&g, HV_X86_RDX, 0x0020 | 0x80); /* VMXE clear as in the shadow, PGE set: completes */
	eg_setreg(&g, HV_X86_RAX, 0x1234);
	eg_expect_insn_exit(&g, VMX_REASON_MOV_CR, EG_CODE, 3, 4 | (1u << 8), 0);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 12, 1, 0, 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_CR4), 0x20a0); /* VMXE kept (host-owned), PGE from the guest */
	assert_int_equal(eg_reg(&g, HV_X86_DR0), 0x1234);
	assert_int_equal(eg_reg(&g, HV_X86_RBX), 0x1234);
	eg_destroy(&g);
}

/* I/O bitmaps (hvx_vcpu_set_io_bitmap): only ports with their bit set exit; an access spanning a set bit exits. */
static void test_io_bitmaps(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* out 0x80, al; out 0x81, eax (spans 0x81-0x84); in al, 0x70; hlt */
	static const uint8_t code[] = {0xe6, 0x80, 0xe7, 0x81, 0xe4, 0x70, 0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_IO_BITMAPS | CPU_BASED_UNCOND_IO, 0);
	assert_int_equal(hvx_vcpu_set_io_bitmap(g.vcpu, 0, 0x10000, false), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_io_bitmap(g.vcpu, 0x84, 1, true), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_io_bitmap(g.vcpu, 0x70, 1, true), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_io_bitmap(g.vcpu, 0xffff, 2, true), HV_BAD_ARGUMENT);
	/* OUT 0x80 does not exit (bitmaps override unconditional I/O exiting) */
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE + 2, 2, (0x81ull << 16) | 0x40 | 3, 0);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE + 4, 2, (0x70ull << 16) | 0x48, 0);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 6, 1, 0, 0);
	eg_destroy(&g);
}

/*
 * The MSR bitmap (hvx_vcpu_set_msr_intercept) under Apple's rule: a native MSR never exits, a managed MSR with read
 * access is read without an exit, an MSR whose write bit is set exits on WRMSR, one whose read bit is clear is let
 * through (and, not being an MSR this CPU has, raises #GP), and MSRs outside the bitmap ranges always exit.
 */
static void test_msr_bitmap(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {
		0xb9, 0x82, 0x00, 0x00, 0xc0, /* mov ecx, 0xc0000082 (LSTAR, native) */
		0x31, 0xc0,                   /* xor eax, eax */
		0xba, 0x01, 0x00, 0x00, 0x00, /* mov edx, 1 */
		0x0f, 0x30,                   /* wrmsr: no exit */
		0xb9, 0xc1, 0x00, 0x00, 0x00, /* mov ecx, 0xc1 (PMC0, managed, read access) */
		0x0f, 0x32,                   /* rdmsr: no exit, reads the managed value */
		0xb9, 0x8b, 0x00, 0x00, 0x00, /* mov ecx, 0x8b */
		0x0f, 0x30,                   /* +26 wrmsr: write bit set, exits */
		0x0f, 0x32,                   /* +28 rdmsr: read bit clear, #GP (no such MSR here) */
		0xb9, 0x00, 0x00, 0x00, 0x40, /* +30 mov ecx, 0x40000000 */
		0x0f, 0x32,                   /* +35 rdmsr: outside the bitmap ranges, exits */
		0xf4,                         /* +37 hlt */
	};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_controls(&g, CPU_BASED_HLT, 0);
	assert_true(eg_rd(&g, VMCS_CTRL_CPU_BASED) & CPU_BASED_MSR_BITMAPS); /* fixed to 1 on emu */
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	assert_int_equal(hv_vcpu_enable_native_msr(g.vcpu, 0xc0000082, true), HV_SUCCESS);
	assert_int_equal(hv_vcpu_enable_managed_msr(g.vcpu, 0xc1, true), HV_SUCCESS);
	assert_int_equal(hv_vcpu_write_msr(g.vcpu, 0xc1, 0x1234), HV_SUCCESS);
	assert_int_equal(hv_vcpu_set_msr_access(g.vcpu, 0xc1, HV_MSR_READ), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_msr_intercept(g.vcpu, 0x8b, 1, HV_MSR_WRITE), HV_SUCCESS);
	/* Ranges are checked: past 0x1fff, across the high range's end, empty, unknown flags. */
	assert_int_equal(hvx_vcpu_set_msr_intercept(g.vcpu, 0x1fff, 2, HV_MSR_READ), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_msr_intercept(g.vcpu, 0xc0001fff, 2, HV_MSR_READ), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_msr_intercept(g.vcpu, 0x40000000, 1, HV_MSR_READ), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_msr_intercept(g.vcpu, 0x10, 0, HV_MSR_READ), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_msr_intercept(g.vcpu, 0x10, 1, 4), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_msr_intercept(g.vcpu + 1, 0x10, 1, HV_MSR_READ), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_msr_intercept(g.vcpu, 0xc0001000, 0x1000, 0), HV_SUCCESS);

	eg_expect_insn_exit(&g, VMX_REASON_WRMSR, EG_CODE + 26, 2, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x1234); /* the managed PMC0 value, read without an exit */
	uint64_t lstar;
	assert_int_equal(hv_vcpu_read_msr(g.vcpu, 0xc0000082, &lstar), HV_SUCCESS);
	assert_int_equal(lstar, 1ull << 32); /* the native WRMSR went to the held value */
	eg_skip(&g);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000b0du); /* #GP(0), hardware exception with error code */
	assert_int_equal(e.intr_err, 0);
	assert_int_equal(e.rip, EG_CODE + 28);
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE + 30);
	eg_expect_insn_exit(&g, VMX_REASON_RDMSR, EG_CODE + 35, 2, 0, 0);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 37, 1, 0, 0);
	eg_destroy(&g);
}

/* INT1 (ICEBP) is a privileged software exception (type 5) with an instruction length; INTO with OF set is type 6. */
static void test_int1_and_into(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	static const uint8_t code[] = {0xf1, 0xb0, 0x7f, 0x04, 0x01, 0xce, 0xf4}; /* int1; mov al,0x7f; add al,1; into; hlt */
	eg_load(&g, 0x10000, code, sizeof code);
	eg_prot32(&g, 0x10000);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, (1u << 1) | (1u << 4));
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000501u);
	assert_int_equal(e.len, 1);
	assert_int_equal(e.rip, 0x10000);
	eg_skip(&g);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000604u);
	assert_int_equal(e.len, 1);
	assert_int_equal(e.rip, 0x10005);
	eg_destroy(&g);
}

static void test_cr0_read_shadow(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x0f, 0x20, 0xc0, 0xf4}; /* mov rax, cr0; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_wr(&g, VMCS_CTRL_CR0_MASK, 0x60000008);
	eg_wr(&g, VMCS_CTRL_CR0_SHADOW, 0x8);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 3, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x80000031 | 0x8); /* real CR0 with the shadowed TS */
	assert_int_equal(eg_rd(&g, VMCS_GUEST_CR0) & 8, 0);
	eg_destroy(&g);
}

static void test_monitor_armed_mwait_and_ud_cases(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* monitor; mwait; getsec; rsm; hlt */
	static const uint8_t code[] = {0x0f, 0x01, 0xc8, 0x0f, 0x01, 0xc9, 0x0f, 0x37, 0x0f, 0xaa, 0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_MWAIT, 0);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 6);
	eg_setreg(&g, HV_X86_RAX, EG_DATA);
	eg_expect_insn_exit(&g, VMX_REASON_MWAIT, EG_CODE + 3, 3, 1, 0); /* monitor armed: qualification bit 0 */
	eg_skip(&g);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI); /* GETSEC with CR4.SMXE = 0: #UD */
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000306u);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 6);
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE + 8);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI); /* RSM outside SMM: #UD */
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000306u);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 8);
	eg_destroy(&g);
}

static void test_vmx_instructions_in_real_mode(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	/* vmcall (exits in any mode); vmxon [0x500] (#UD in real mode) */
	static const uint8_t code[] = {0x0f, 0x01, 0xc1, 0xf3, 0x0f, 0xc7, 0x36, 0x00, 0x05, 0xf4};
	eg_load(&g, 0x7c00, code, sizeof code);
	eg_real(&g, 0x7c00);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 6);
	eg_expect_insn_exit(&g, VMX_REASON_VMCALL, 0x7c00, 3, 0, 0);
	eg_skip(&g);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000306u);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), 0x7c03);
	eg_destroy(&g);
}

static void test_pause_loop_exiting(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0xf3, 0x90, 0xeb, 0xfc}; /* 1: pause; jmp 1b */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_controls(&g, CPU_BASED_HLT, CPU_BASED2_PAUSE_LOOP);
	eg_wr(&g, VMCS_CTRL_PLE_GAP, 1u << 30);   /* consecutive PAUSEs always belong to one loop */
	eg_wr(&g, VMCS_CTRL_PLE_WINDOW, 100000); /* exit once the loop has spun this many TSC ticks */
	eg_expect_insn_exit(&g, VMX_REASON_PAUSE, EG_CODE, 2, 0, 0);
	eg_destroy(&g);
}

static void test_io_permission_before_exit(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	/* CPL 3, IOPL 0: in al, 0x60 (allowed by the TSS bitmap) exits; in al, 0x61 (denied) is #GP first */
	static const uint8_t code[] = {0xe4, 0x60, 0xe4, 0x61, 0xf4};
	eg_load(&g, 0x10000, code, sizeof code);
	eg_prot32(&g, 0x10000);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	eg_all_segs(&g, SEL_UCODE32, 0xc0fb, SEL_UDATA, 0xc0f3, 0xffffffff);
	eg_wr(&g, VMCS_GUEST_TR_LIMIT, 0x2067);
	eg_wr(&g, VMCS_GUEST_TR_AR, 0x8b);
	*(uint16_t *)(void *)(g.mem + EG_TSS + 0x66) = 0x68;   /* I/O map base */
	memset(g.mem + EG_TSS + 0x68, 0xff, 0x2000);
	g.mem[EG_TSS + 0x68 + (0x60 >> 3)] = (uint8_t)~1u;     /* port 0x60 allowed */
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	eg_expect_insn_exit(&g, VMX_REASON_IO, 0x10000, 2, (0x60ull << 16) | 0x48, 0);
	eg_skip(&g);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000b0du);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_ERROR), 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), 0x10002);
	eg_destroy(&g);
}

static void test_descriptor_table_exit_32bit(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	static const uint8_t code[] = {0x0f, 0x01, 0x15, 0x00, 0x05, 0x00, 0x00, 0xf4}; /* lgdt [0x500]; hlt */
	eg_load(&g, 0x10000, code, sizeof code);
	eg_prot32(&g, 0x10000);
	eg_controls(&g, CPU_BASED_HLT, CPU_BASED2_DESC_TABLE);
	/* disp32 only: scale 0, 32-bit addressing, DS, no index, no base, operand size 32, LGDT */
	uint32_t info = (1u << 7) | (3u << 15) | (1u << 22) | (1u << 27) | (1u << 11) | (2u << 28);
	eg_expect_insn_exit(&g, VMX_REASON_GDTR_IDTR, 0x10000, 7, 0x500, info);
	eg_destroy(&g);
}

/* A failed VM entry (invalid guest state) fails again when retried unchanged; after an exit, a VMM change of RFLAGS
 * alone is checked at the next entry, while a change of RIP alone runs from the new RIP. */
static void test_entry_checks_after_failure_and_after_exits(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0xf4, 0xff, 0xc0, 0xf4, 0xf4}; /* hlt; inc eax; hlt; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_setreg(&g, HV_X86_RAX, 0);
	eg_setreg(&g, HV_X86_RFLAGS, 2 | (1u << 3)); /* bit 3 is reserved */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
		assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), VMX_REASON_VMENTRY_GUEST | 0x80000000u);
		assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE);
	}
	eg_setreg(&g, HV_X86_RFLAGS, 2);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE, 1, 0, 0);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 3, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 1);
	eg_setreg(&g, HV_X86_RFLAGS, 2 | (1u << 15)); /* RFLAGS alone, to a reserved bit */
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), VMX_REASON_VMENTRY_GUEST | 0x80000000u);
	eg_setreg(&g, HV_X86_RFLAGS, 2);
	eg_setreg(&g, HV_X86_RIP, EG_CODE + 1); /* RIP alone: back to the INC */
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 3, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 2);
	/* SDM 26.3.1.4 in 64-bit mode: bits 63:N of RIP identical (N = 57 linear-address bits, CPUID 80000008H), RIP
	 * alone changed after an exit and with everything checked; bits N-1:0 are free (not a canonical check). */
	static const uint64_t bad_rip[] = {1ull << 63 | EG_CODE, 1ull << 57 | EG_CODE, 1ull << 62 | EG_CODE};
	for (size_t i = 0; i < sizeof bad_rip / sizeof bad_rip[0]; i++) {
		eg_setreg(&g, HV_X86_RIP, bad_rip[i]);
		if (i == 2)
			eg_wr(&g, VMCS_GUEST_CR0, eg_rd(&g, VMCS_GUEST_CR0)); /* a CR write: the full checks */
		assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
		assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), VMX_REASON_VMENTRY_GUEST | 0x80000000u);
		assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_QUALIFIC), 0);
	}
	/* Bits 63:57 all ones (or all zeros) with bit 56 the other way: accepted by the entry; the fetch is then
	 * non-canonical for 4-level paging, #GP(0) at that RIP (here an exception-bitmap exit). */
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	static const uint64_t odd_rip[] = {0xfe00000000000000ull | EG_CODE, 0x0100000000000000ull | EG_CODE};
	for (size_t i = 0; i < sizeof odd_rip / sizeof odd_rip[0]; i++) {
		eg_setreg(&g, HV_X86_RIP, odd_rip[i]);
		assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
		struct eg_exit e = eg_exit_info(&g);
		assert_int_equal(e.intr, 0x80000b0du); /* valid, hardware exception, error code, #GP */
		assert_int_equal(e.intr_err, 0);
		assert_int_equal(e.rip, odd_rip[i]);
	}
	eg_destroy(&g);
}

/* SDM 26.3.1.4 outside 64-bit mode: RIP[63:32] must be 0. */
static void test_entry_rip_high_bits_outside_64bit(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_prot32(&g, EG_CODE);
	static const uint8_t code[] = {0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_setreg(&g, HV_X86_RIP, (1ull << 32) | EG_CODE);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), VMX_REASON_VMENTRY_GUEST | 0x80000000u);
	eg_setreg(&g, HV_X86_RIP, EG_CODE);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE, 1, 0, 0);
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_entry_checks_after_failure_and_after_exits),
		EG_TEST(test_entry_rip_high_bits_outside_64bit),
		EG_TEST(test_real_mode_hvdos_style),
		EG_TEST(test_long_mode_instruction_exits),
		EG_TEST(test_cr_shadows_and_tsc_offset),
		EG_TEST(test_cr0_read_shadow),
		EG_TEST(test_io_bitmaps),
		EG_TEST(test_msr_bitmap),
		EG_TEST(test_int1_and_into),
		EG_TEST(test_cr4_mask_and_dr_access),
		EG_TEST(test_monitor_armed_mwait_and_ud_cases),
		EG_TEST(test_vmx_instructions_in_real_mode),
		EG_TEST(test_pause_loop_exiting),
		EG_TEST(test_io_permission_before_exit),
		EG_TEST(test_descriptor_table_exit_32bit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
