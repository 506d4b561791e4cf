/* emu_fuzz.c: libFuzzer target: random bytes run as guest code on the emu backend in every mode (real, v86, 16/32-bit protected, 32-bit and PAE paging, long mode at CPL 0 and 3), with a bounded instruction budget per run, some inputs with the VMM rewriting guest code between runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx.h>

#define MEM (2u << 20)
#define CODE 0x10000
#define GDT 0x1000
#define PML4 0x2000

static uint8_t *mem;
static hv_vcpuid_t vcpu;

static uint64_t cap2ctrl(uint64_t cap, uint64_t want)
{
	return (want | (cap & 0xffffffff)) & (cap >> 32);
}

static void wr(uint32_t f, uint64_t v)
{
	hv_vmx_vcpu_write_vmcs(vcpu, f, v);
}

static void segs(uint64_t csel, uint64_t car, uint64_t dsel, uint64_t dar, uint64_t lim, uint64_t base)
{
	static const uint32_t sel[] = {VMCS_GUEST_ES, VMCS_GUEST_SS, VMCS_GUEST_DS, VMCS_GUEST_FS, VMCS_GUEST_GS};
	static const uint32_t bas[] = {VMCS_GUEST_ES_BASE, VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE,
				       VMCS_GUEST_GS_BASE};
	static const uint32_t lm[] = {VMCS_GUEST_ES_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT,
				      VMCS_GUEST_GS_LIMIT};
	static const uint32_t ar[] = {VMCS_GUEST_ES_AR, VMCS_GUEST_SS_AR, VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR,
				      VMCS_GUEST_GS_AR};
	for (int i = 0; i < 5; i++) {
		wr(sel[i], dsel);
		wr(bas[i], base);
		wr(lm[i], lim);
		wr(ar[i], dar);
	}
	wr(VMCS_GUEST_CS, csel);
	wr(VMCS_GUEST_CS_BASE, base);
	wr(VMCS_GUEST_CS_LIMIT, lim);
	wr(VMCS_GUEST_CS_AR, car);
}

static void setup_once(void)
{
	setenv("HVX_EMU_MAX_INSNS", "3000", 1);
	if (hvx_vm_create_with_backend(HV_VM_DEFAULT, "emu") != HV_SUCCESS)
		abort();
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || hv_vm_map(mem, 0, MEM, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC) ||
	    hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT))
		abort();
	/* A read-only and an execute-only page for EPT paths. */
	hv_vm_protect(0x30000, 4096, HV_MEMORY_READ);
	hv_vm_protect(0x31000, 4096, HV_MEMORY_EXEC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem)
		setup_once();
	if (size < 2)
		return 0;
	unsigned mode = data[0] % 8, ctl = data[1];
	data += 2;
	size -= 2;
	if (size > 4096)
		size = 4096;
	memset(mem, 0, 0x20000);
	memcpy(mem + CODE, data, size);
	/* Random-ish data pages for loads. */
	for (unsigned i = 0; i < 256; i++)
		mem[0x8000 + i] = (uint8_t)(i * 37 + ctl);

	uint64_t pin, pc, pc2, en, ex;
	hv_vmx_read_capability(HV_VMX_CAP_PINBASED, &pin);
	hv_vmx_read_capability(HV_VMX_CAP_PROCBASED, &pc);
	hv_vmx_read_capability(HV_VMX_CAP_PROCBASED2, &pc2);
	hv_vmx_read_capability(HV_VMX_CAP_ENTRY, &en);
	hv_vmx_read_capability(HV_VMX_CAP_EXIT, &ex);
	uint64_t proc = (ctl & 1) ? ~0ull : CPU_BASED_HLT | CPU_BASED_UNCOND_IO;
	/* With ctl bit 1, a subset of the secondary controls picked by a hash of the input (APIC virtualization, PML,
	 * SPP, user wait, XSAVES, ENCLS exiting ... in combinations), made consistent with the SDM's dependencies so that
	 * entry succeeds and the guest code runs under them. */
	uint64_t sel = 0x9e3779b97f4a7c15ull * (ctl + 1);
	for (size_t i = 0; i < size && i < 16; i++)
		sel = (sel ^ data[i]) * 0x100000001b3ull;
	uint64_t proc2 = (ctl & 2) ? (sel >> 7) : 0, pin_want = 0;
	if (proc2 & (CPU_BASED2_X2APIC | CPU_BASED2_APIC_REG_VIRT | CPU_BASED2_VIRT_INTR_DELIVERY))
		proc |= CPU_BASED_TPR_SHADOW;
	if ((proc2 & CPU_BASED2_X2APIC) && (proc2 & CPU_BASED2_VIRTUAL_APIC))
		proc2 &= ~(uint64_t)((sel & 1) ? CPU_BASED2_X2APIC : CPU_BASED2_VIRTUAL_APIC);
	if (proc2 & CPU_BASED2_VIRT_INTR_DELIVERY)
		pin_want |= PIN_BASED_INTR;
	if (proc2 & (CPU_BASED2_PML | CPU_BASED2_EPT_SUBPAGE_WRITE))
		proc2 |= CPU_BASED2_EPT;
	wr(VMCS_CTRL_PIN_BASED, cap2ctrl(pin, pin_want));
	wr(VMCS_CTRL_CPU_BASED, cap2ctrl(pc, proc | CPU_BASED_SECONDARY_CTLS));
	wr(VMCS_CTRL_CPU_BASED2, cap2ctrl(pc2, proc2));
	wr(VMCS_CTRL_TPR_THRESHOLD, 0);
	hv_vcpu_write_register(vcpu, HV_X86_TPR, (sel >> 3) & 0xf0);
	wr(VMCS_CTRL_PML_ADDR, 0x9000);
	wr(VMCS_GUESTPML_INDEX, (sel >> 40) & 0x1ff);
	hv_vmx_vcpu_set_apic_address(vcpu, (sel & 4) ? 0x8000 : 0xa000);
	wr(VMCS_CTRL_VMEXIT_CONTROLS, cap2ctrl(ex, 0));
	wr(VMCS_CTRL_EXC_BITMAP, (ctl & 4) ? 0xffffffff : 0);
	wr(VMCS_CTRL_CR0_MASK, (ctl & 8) ? 0xe005003f : 0x60000000);
	wr(VMCS_CTRL_CR4_MASK, (ctl & 8) ? 0x2000 : 0);
	wr(VMCS_CTRL_CR0_SHADOW, 0);
	wr(VMCS_CTRL_CR4_SHADOW, 0x2000);
	/* GDT: null, code32, data, code16, data16, code64, user code32, user data, TSS */
	uint64_t gdt[] = {0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull, 0x00009b000000ffffull, 0x000093000000ffffull,
			  0x00af9b000000ffffull, 0x00cffb000000ffffull, 0x00cff3000000ffffull,
			  0x0000890000000067ull | (0x1c00ull << 16), 0, 0x00affb000000ffffull /* 0x50: user code64 */};
	memcpy(mem + GDT, gdt, sizeof gdt);
	wr(VMCS_GUEST_GDTR_BASE, GDT);
	wr(VMCS_GUEST_GDTR_LIMIT, sizeof gdt - 1);
	wr(VMCS_GUEST_IDTR_BASE, 0x1800);
	wr(VMCS_GUEST_IDTR_LIMIT, (ctl & 16) ? 0x7ff : 0);
	wr(VMCS_GUEST_LDTR, 0);
	wr(VMCS_GUEST_LDTR_AR, 0x10000);
	wr(VMCS_GUEST_TR, 0x40);
	wr(VMCS_GUEST_TR_BASE, 0x1c00);
	wr(VMCS_GUEST_TR_LIMIT, 0x67);
	wr(VMCS_GUEST_TR_AR, 0x8b);
	wr(VMCS_GUEST_IA32_EFER, 0);
	wr(VMCS_GUEST_CR3, 0);
	wr(VMCS_GUEST_CR4, 0x2000);
	wr(VMCS_CTRL_VMENTRY_CONTROLS, cap2ctrl(en, 0));
	uint64_t rflags = 2 | ((ctl & 32) ? 0x200 : 0);
	switch (mode) {
	case 0: /* real */
		segs(0, 0x9b, 0, 0x93, 0xffff, 0);
		wr(VMCS_GUEST_CS, 0x1000);
		wr(VMCS_GUEST_CS_BASE, 0x10000);
		wr(VMCS_GUEST_CR0, 0x20);
		hv_vcpu_write_register(vcpu, HV_X86_RIP, 0);
		break;
	case 1: /* virtual-8086 */
		segs(0x1000, 0xf3, 0, 0xf3, 0xffff, 0);
		wr(VMCS_GUEST_CS_BASE, 0x10000);
		wr(VMCS_GUEST_CR0, 0x31);
		rflags |= 1u << 17 | ((ctl & 64) ? 0x3000 : 0);
		hv_vcpu_write_register(vcpu, HV_X86_RIP, 0);
		break;
	case 2: /* 16-bit protected */
		segs(0x18, 0x9b, 0x20, 0x93, 0xffff, 0);
		wr(VMCS_GUEST_CR0, 0x31);
		wr(VMCS_GUEST_CS_BASE, 0x10000);
		hv_vcpu_write_register(vcpu, HV_X86_RIP, 0);
		break;
	case 3: /* 32-bit protected */
		segs(0x08, 0xc09b, 0x10, 0xc093, 0xffffffff, 0);
		wr(VMCS_GUEST_CR0, 0x31);
		hv_vcpu_write_register(vcpu, HV_X86_RIP, CODE);
		break;
	case 4: { /* 32-bit paging with PSE: identity 4-MiB pages */
		uint32_t *pd = (uint32_t *)(void *)(mem + 0x3000);
		for (int i = 0; i < 1024; i++)
			pd[i] = ((uint32_t)i << 22) | 0x87;
		segs((ctl & 64) ? 0x33 : 0x08, (ctl & 64) ? 0xc0fb : 0xc09b, (ctl & 64) ? 0x3b : 0x10,
		     (ctl & 64) ? 0xc0f3 : 0xc093, 0xffffffff, 0);
		wr(VMCS_GUEST_CR0, 0x80010031);
		wr(VMCS_GUEST_CR3, 0x3000);
		wr(VMCS_GUEST_CR4, 0x2010);
		hv_vcpu_write_register(vcpu, HV_X86_RIP, CODE);
		break;
	}
	case 6: { /* PAE paging: identity 2-MiB pages, NX on the data region */
		uint64_t e = 0x4000 | 1;
		memcpy(mem + 0x3000, &e, 8);
		for (uint64_t i = 0; i < 512; i++) {
			e = (i << 21) | 0x87 | ((ctl & 128) && i == 1 ? (1ull << 63) : 0);
			memcpy(mem + 0x4000 + i * 8, &e, 8);
		}
		segs(0x08, 0xc09b, 0x10, 0xc093, 0xffffffff, 0);
		wr(VMCS_GUEST_CR0, 0x80010031);
		wr(VMCS_GUEST_CR3, 0x3000);
		wr(VMCS_GUEST_PDPTE0, 0x4000 | 1); /* entry takes the PDPTE registers from the VMCS */
		wr(VMCS_GUEST_CR4, 0x2020 | ((ctl & 64) ? 0x300000 : 0)); /* SMEP/SMAP sometimes */
		wr(VMCS_GUEST_IA32_EFER, 0x800);
		hv_vcpu_write_register(vcpu, HV_X86_RIP, CODE);
		break;
	}
	default: { /* long mode, 4-level, 2-MiB pages (mode 7: CPL 3) */
		uint64_t e = 0x4000 | 7;
		memcpy(mem + PML4, &e, 8);
		e = 0x5000 | 7;
		memcpy(mem + 0x4000, &e, 8);
		for (uint64_t i = 0; i < 512; i++) {
			e = (i << 21) | 0x87;
			memcpy(mem + 0x5000 + i * 8, &e, 8);
		}
		if (mode == 7)
			segs(0x53, 0xa0fb, 0x3b, 0xc0f3, 0xffffffff, 0);
		else
			segs(0x28, 0xa09b, 0x10, 0xc093, 0xffffffff, 0);
		wr(VMCS_GUEST_CR0, 0x80000031);
		wr(VMCS_GUEST_CR3, PML4);
		wr(VMCS_GUEST_CR4, 0x2020);
		wr(VMCS_GUEST_IA32_EFER, 0x500);
		wr(VMCS_CTRL_VMENTRY_CONTROLS, cap2ctrl(en, VMENTRY_GUEST_IA32E));
		hv_vcpu_write_register(vcpu, HV_X86_RIP, CODE);
		break;
	}
	}
	hv_vcpu_write_register(vcpu, HV_X86_RFLAGS, rflags);
	hv_vcpu_write_register(vcpu, HV_X86_RSP, 0xf000);
	static const hv_x86_reg_t gprs[] = {HV_X86_RAX, HV_X86_RBX, HV_X86_RCX, HV_X86_RDX, HV_X86_RSI, HV_X86_RDI,
					    HV_X86_RBP, HV_X86_R8, HV_X86_R9};
	for (unsigned i = 0; i < sizeof gprs / sizeof gprs[0]; i++)
		hv_vcpu_write_register(vcpu, gprs[i], 0x8000 + i * 8);
	wr(VMCS_GUEST_ACTIVITY_STATE, 0);
	wr(VMCS_GUEST_INTERRUPTIBILITY, 0);
	wr(VMCS_CTRL_VMENTRY_IRQ_INFO, 0);
	for (int run = 0; run < 6; run++) {
		if (hv_vcpu_run(vcpu) != HV_SUCCESS)
			break;
		uint64_t reason = 0, len = 0, rip = 0;
		hv_vmx_vcpu_read_vmcs(vcpu, VMCS_RO_EXIT_REASON, &reason);
		if (reason & 0x80000000u || reason == VMX_REASON_TRIPLE_FAULT || reason == VMX_REASON_IRQ ||
		    reason == VMX_REASON_EPT_VIOLATION || reason == VMX_REASON_EPT_MISCONFIG || reason == VMX_REASON_TASK)
			break;
		hv_vmx_vcpu_read_vmcs(vcpu, VMCS_RO_VMEXIT_INSTR_LEN, &len);
		if (!len)
			break;
		hv_vcpu_read_register(vcpu, HV_X86_RIP, &rip);
		hv_vcpu_write_register(vcpu, HV_X86_RIP, rip + len);
		/* For some inputs the VMM rewrites a byte of the guest code between runs, near where the guest goes on
		 * (decoded blocks and JIT translations of it must not run stale). */
		if (((sel >> 62) & 1) && size) {
			size_t at = (size_t)((rip + len - CODE + (sel >> (8 * run)) % 16) % size);
			mem[CODE + at] ^= (uint8_t)(0x5a + run * 0x11);
		}
	}
	return 0;
}
