/* emu_guest.h: test helper for emu guests: VM + vCPU on the emu backend, guest memory, real/protected/long-mode set-up through the public API, loading NASM guests, and exit checks. */
#ifndef HVX_EMU_GUEST_H
#define HVX_EMU_GUEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx.h>

#define EG_MEM (4u << 20) /* 4 MiB of guest RAM at GPA 0 */

/* Fixed guest layout used by the helpers. */
#define EG_GDT 0x1000    /* GDT (selectors below) */
#define EG_IDT 0x1800    /* IDT (long-mode: 16-byte gates) */
#define EG_TSS 0x1c00    /* TSS */
#define EG_PML4 0x2000   /* long mode: PML4, PDPT, PD (identity map of 1 GiB with 2-MiB pages) */
#define EG_PDPT 0x3000
#define EG_PD 0x4000
#define EG_CODE 0x10000  /* guest code is loaded here */
#define EG_STACK 0x80000 /* initial stack top */
#define EG_DATA 0x90000  /* scratch data */

enum { SEL_CODE32 = 0x08, SEL_DATA = 0x10, SEL_CODE16 = 0x18, SEL_DATA16 = 0x20, SEL_CODE64 = 0x28,
       SEL_UCODE32 = 0x33, SEL_UDATA = 0x3b, SEL_TSS = 0x40, SEL_UCODE64 = 0x53 };

struct eg {
	uint8_t *mem;
	hv_vcpuid_t vcpu;
};

/* The guest of the running test (a copy: the test's frame is gone after a failure), for the teardown. */
static struct eg eg_current_copy;
static struct eg *eg_current;

static inline uint64_t eg_cap2ctrl(uint64_t cap, uint64_t want)
{
	return (want | (cap & 0xffffffff)) & (cap >> 32);
}

static inline uint64_t eg_rd(struct eg *g, uint32_t field)
{
	uint64_t v = 0;
	assert_int_equal(hv_vmx_vcpu_read_vmcs(g->vcpu, field, &v), HV_SUCCESS);
	return v;
}

static inline void eg_wr(struct eg *g, uint32_t field, uint64_t v)
{
	assert_int_equal(hv_vmx_vcpu_write_vmcs(g->vcpu, field, v), HV_SUCCESS);
}

static inline uint64_t eg_reg(struct eg *g, hv_x86_reg_t r)
{
	uint64_t v = 0;
	assert_int_equal(hv_vcpu_read_register(g->vcpu, r, &v), HV_SUCCESS);
	return v;
}

static inline void eg_setreg(struct eg *g, hv_x86_reg_t r, uint64_t v)
{
	assert_int_equal(hv_vcpu_write_register(g->vcpu, r, v), HV_SUCCESS);
}

/* Primary/secondary controls wanted by a test (cap2ctrl rule applied). */
static inline void eg_controls(struct eg *g, uint64_t proc, uint64_t proc2)
{
	uint64_t pin, pc, pc2, en, ex;
	hv_vmx_read_capability(HV_VMX_CAP_PINBASED, &pin);
	hv_vmx_read_capability(HV_VMX_CAP_PROCBASED, &pc);
	hv_vmx_read_capability(HV_VMX_CAP_PROCBASED2, &pc2);
	hv_vmx_read_capability(HV_VMX_CAP_ENTRY, &en);
	hv_vmx_read_capability(HV_VMX_CAP_EXIT, &ex);
	eg_wr(g, VMCS_CTRL_PIN_BASED, eg_cap2ctrl(pin, 0));
	eg_wr(g, VMCS_CTRL_CPU_BASED, eg_cap2ctrl(pc, proc | CPU_BASED_SECONDARY_CTLS));
	eg_wr(g, VMCS_CTRL_CPU_BASED2, eg_cap2ctrl(pc2, proc2 | CPU_BASED2_UNRESTRICTED));
	uint64_t e = eg_rd(g, VMCS_CTRL_VMENTRY_CONTROLS) & VMENTRY_GUEST_IA32E;
	eg_wr(g, VMCS_CTRL_VMENTRY_CONTROLS, eg_cap2ctrl(en, e));
	eg_wr(g, VMCS_CTRL_VMEXIT_CONTROLS, eg_cap2ctrl(ex, 0));
}

static inline void eg_seg(struct eg *g, uint32_t sel_f, uint32_t base_f, uint32_t lim_f, uint32_t ar_f, uint64_t sel,
			  uint64_t base, uint64_t lim, uint64_t ar)
{
	eg_wr(g, sel_f, sel);
	eg_wr(g, base_f, base);
	eg_wr(g, lim_f, lim);
	eg_wr(g, ar_f, ar);
}

#define EG_SEGS(X) X(ES) X(CS) X(SS) X(DS) X(FS) X(GS)

static inline void eg_all_segs(struct eg *g, uint64_t csel, uint64_t car, uint64_t dsel, uint64_t dar, uint64_t lim)
{
#define ONE(s) eg_seg(g, VMCS_GUEST_##s, VMCS_GUEST_##s##_BASE, VMCS_GUEST_##s##_LIMIT, VMCS_GUEST_##s##_AR, \
		      0, 0, lim, 0);
	EG_SEGS(ONE)
#undef ONE
	eg_seg(g, VMCS_GUEST_CS, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR, csel, 0, lim, car);
	eg_seg(g, VMCS_GUEST_SS, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR, dsel, 0, lim, dar);
	eg_seg(g, VMCS_GUEST_DS, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR, dsel, 0, lim, dar);
	eg_seg(g, VMCS_GUEST_ES, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR, dsel, 0, lim, dar);
	eg_seg(g, VMCS_GUEST_FS, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR, dsel, 0, lim, dar);
	eg_seg(g, VMCS_GUEST_GS, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR, dsel, 0, lim, dar);
	eg_seg(g, VMCS_GUEST_LDTR, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR, 0, 0, 0, 0x10000);
}

/* Create the VM, map EG_MEM bytes of RWX memory at GPA 0, create the vCPU, common controls. */
static inline void eg_create(struct eg *g)
{
	memset(g, 0, sizeof *g);
	assert_int_equal(hvx_vm_create_with_backend(HV_VM_DEFAULT, "emu"), HV_SUCCESS);
	g->mem = mmap(NULL, EG_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->mem != MAP_FAILED);
	assert_int_equal(hv_vm_map(g->mem, 0, EG_MEM, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC), HV_SUCCESS);
	assert_int_equal(hv_vcpu_create(&g->vcpu, HV_VCPU_DEFAULT), HV_SUCCESS);
	eg_current_copy = *g;
	eg_current = &eg_current_copy;
	eg_controls(g, CPU_BASED_HLT, 0);
	eg_wr(g, VMCS_CTRL_EXC_BITMAP, 0);
	eg_wr(g, VMCS_CTRL_CR0_MASK, 0x60000000);
	eg_wr(g, VMCS_CTRL_CR0_SHADOW, 0);
	eg_wr(g, VMCS_CTRL_CR4_MASK, 0);
	eg_wr(g, VMCS_CTRL_CR4_SHADOW, 0);
}

static inline void eg_destroy(struct eg *g)
{
	eg_current = NULL;
	assert_int_equal(hv_vcpu_destroy(g->vcpu), HV_SUCCESS);
	assert_int_equal(hv_vm_unmap(0, EG_MEM), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
	munmap(g->mem, EG_MEM);
}

/* cmocka teardown: release what a failed test left behind. */
static inline int eg_teardown(void **state)
{
	(void)state;
	if (eg_current) {
		struct eg *g = eg_current;
		eg_current = NULL;
		hv_vcpu_destroy(g->vcpu);
		hv_vm_unmap(0, EG_MEM);
		hv_vm_destroy();
		if (g->mem)
			munmap(g->mem, EG_MEM);
	}
	return 0;
}
#define EG_TEST(f) cmocka_unit_test_teardown(f, eg_teardown)

static inline void eg_load(struct eg *g, uint64_t gpa, const void *code, size_t len)
{
	assert_true(gpa + len <= EG_MEM);
	memcpy(g->mem + gpa, code, len);
}

/* Load a NASM flat binary from the build tree (tests/guests/NAME.asm -> NAME.bin). */
static inline size_t eg_load_file(struct eg *g, uint64_t gpa, const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s.bin", HVX_GUEST_DIR, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open guest %s", path);
	size_t n = fread(g->mem + gpa, 1, EG_MEM - gpa, f);
	fclose(f);
	return n;
}

/* Real mode (unrestricted guest), hvdos style: all segments 0, limits 0xffff, IVT at 0 with limit 0x3ff. */
static inline void eg_real(struct eg *g, uint64_t rip)
{
	eg_all_segs(g, 0, 0x9b, 0, 0x93, 0xffff);
	eg_seg(g, VMCS_GUEST_TR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR, 0, 0, 0, 0x83);
	eg_wr(g, VMCS_GUEST_GDTR_BASE, 0);
	eg_wr(g, VMCS_GUEST_GDTR_LIMIT, 0);
	eg_wr(g, VMCS_GUEST_IDTR_BASE, 0);
	eg_wr(g, VMCS_GUEST_IDTR_LIMIT, 0x3ff);
	eg_wr(g, VMCS_GUEST_CR0, 0x20);
	eg_wr(g, VMCS_GUEST_CR3, 0);
	eg_wr(g, VMCS_GUEST_CR4, 0x2000);
	eg_wr(g, VMCS_GUEST_IA32_EFER, 0);
	eg_setreg(g, HV_X86_RIP, rip);
	eg_setreg(g, HV_X86_RFLAGS, 2);
	eg_setreg(g, HV_X86_RSP, 0x7000);
}

static inline void eg_put64(struct eg *g, uint64_t gpa, uint64_t v)
{
	memcpy(g->mem + gpa, &v, 8);
}

/* The GDT every protected/long-mode guest gets. */
static inline void eg_gdt(struct eg *g)
{
	uint64_t *gdt = (uint64_t *)(void *)(g->mem + EG_GDT);
	memset(gdt, 0, 0x100);
	gdt[SEL_CODE32 >> 3] = 0x00cf9b000000ffffull;
	gdt[SEL_DATA >> 3] = 0x00cf93000000ffffull;
	gdt[SEL_CODE16 >> 3] = 0x00009b000000ffffull;
	gdt[SEL_DATA16 >> 3] = 0x000093000000ffffull;
	gdt[SEL_CODE64 >> 3] = 0x00af9b000000ffffull;
	gdt[SEL_UCODE32 >> 3] = 0x00cffb000000ffffull;
	gdt[SEL_UDATA >> 3] = 0x00cff3000000ffffull;
	/* 64-bit TSS (16 bytes), limit 0x67, base EG_TSS */
	gdt[SEL_TSS >> 3] = 0x0000890000000067ull | ((uint64_t)EG_TSS << 16);
	gdt[(SEL_TSS >> 3) + 1] = 0;
	gdt[SEL_UCODE64 >> 3] = 0x00affb000000ffffull;
	eg_wr(g, VMCS_GUEST_GDTR_BASE, EG_GDT);
	eg_wr(g, VMCS_GUEST_GDTR_LIMIT, 0xff);
	eg_wr(g, VMCS_GUEST_IDTR_BASE, EG_IDT);
	eg_wr(g, VMCS_GUEST_IDTR_LIMIT, 0);
	eg_seg(g, VMCS_GUEST_TR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR, SEL_TSS, EG_TSS, 0x67, 0x8b);
}

/* Flat 32-bit protected mode, paging off (CR0.PE). */
static inline void eg_prot32(struct eg *g, uint64_t rip)
{
	eg_gdt(g);
	eg_all_segs(g, SEL_CODE32, 0xc09b, SEL_DATA, 0xc093, 0xffffffff);
	eg_wr(g, VMCS_GUEST_CR0, 0x31);
	eg_wr(g, VMCS_GUEST_CR3, 0);
	eg_wr(g, VMCS_GUEST_CR4, 0x2000);
	eg_wr(g, VMCS_GUEST_IA32_EFER, 0);
	eg_setreg(g, HV_X86_RIP, rip);
	eg_setreg(g, HV_X86_RFLAGS, 2);
	eg_setreg(g, HV_X86_RSP, EG_STACK);
}

/* 64-bit long mode: identity map of the first 1 GiB with 2-MiB pages. */
static inline void eg_long64(struct eg *g, uint64_t rip)
{
	eg_gdt(g);
	eg_put64(g, EG_PML4, EG_PDPT | 0x7);
	eg_put64(g, EG_PDPT, EG_PD | 0x7);
	for (uint64_t i = 0; i < 512; i++)
		eg_put64(g, EG_PD + i * 8, (i << 21) | 0x87);
	eg_all_segs(g, SEL_CODE64, 0xa09b, SEL_DATA, 0xc093, 0xffffffff);
	eg_wr(g, VMCS_GUEST_CR0, 0x80000031);
	eg_wr(g, VMCS_GUEST_CR3, EG_PML4);
	eg_wr(g, VMCS_GUEST_CR4, 0x2020);
	eg_wr(g, VMCS_GUEST_IA32_EFER, 0x500);
	uint64_t en;
	hv_vmx_read_capability(HV_VMX_CAP_ENTRY, &en);
	eg_wr(g, VMCS_CTRL_VMENTRY_CONTROLS, eg_cap2ctrl(en, VMENTRY_GUEST_IA32E));
	eg_setreg(g, HV_X86_RIP, rip);
	eg_setreg(g, HV_X86_RFLAGS, 2);
	eg_setreg(g, HV_X86_RSP, EG_STACK);
}

/* A thread body: 20 ms later (the guest is running by then), hv_vcpu_interrupt on the vCPU whose id `arg` points to. */
static inline void *eg_kicker(void *arg)
{
	hv_vcpuid_t id = *(hv_vcpuid_t *)arg;
	usleep(20000);
	assert_int_equal(hv_vcpu_interrupt(&id, 1), HV_SUCCESS);
	return NULL;
}

/* Run until an exit other than VMX_REASON_IRQ; returns the full exit reason. */
static inline uint64_t eg_run(struct eg *g)
{
	uint64_t r;
	do {
		assert_int_equal(hv_vcpu_run(g->vcpu), HV_SUCCESS);
		r = eg_rd(g, VMCS_RO_EXIT_REASON);
	} while (r == VMX_REASON_IRQ);
	return r;
}

/* Every exit-information field, read at once. */
struct eg_exit {
	uint64_t reason, qual, len, info, gla, gpa, intr, intr_err, idt, idt_err, rip;
};

static inline struct eg_exit eg_exit_info(struct eg *g)
{
	struct eg_exit e;
	e.reason = eg_rd(g, VMCS_RO_EXIT_REASON);
	e.qual = eg_rd(g, VMCS_RO_EXIT_QUALIFIC);
	e.len = eg_rd(g, VMCS_RO_VMEXIT_INSTR_LEN);
	e.info = eg_rd(g, VMCS_RO_VMX_INSTR_INFO);
	e.gla = eg_rd(g, VMCS_RO_GUEST_LIN_ADDR);
	e.gpa = eg_rd(g, VMCS_GUEST_PHYSICAL_ADDRESS);
	e.intr = eg_rd(g, VMCS_RO_VMEXIT_IRQ_INFO);
	e.intr_err = eg_rd(g, VMCS_RO_VMEXIT_IRQ_ERROR);
	e.idt = eg_rd(g, VMCS_RO_IDT_VECTOR_INFO);
	e.idt_err = eg_rd(g, VMCS_RO_IDT_VECTOR_ERROR);
	e.rip = eg_rd(g, VMCS_GUEST_RIP);
	return e;
}

/* Run and check every field of an instruction exit (no interruption / IDT-vectoring information). */
static inline void eg_expect_insn_exit(struct eg *g, uint64_t reason, uint64_t rip, uint64_t len, uint64_t qual,
				       uint64_t info)
{
	uint64_t r = eg_run(g);
	struct eg_exit e = eg_exit_info(g);
	if (r != reason)
		fail_msg("exit reason %llu, wanted %llu (rip %#llx)", (unsigned long long)r, (unsigned long long)reason,
			 (unsigned long long)e.rip);
	assert_int_equal(e.rip, rip);
	assert_int_equal(e.len, len);
	assert_int_equal(e.qual, qual);
	assert_int_equal(e.info, info);
	assert_int_equal(e.intr & 0x80000000u, 0);
	assert_int_equal(e.idt & 0x80000000u, 0);
}

/* Skip the exiting instruction, as a VMM does. */
static inline void eg_skip(struct eg *g)
{
	eg_wr(g, VMCS_GUEST_RIP, eg_rd(g, VMCS_GUEST_RIP) + eg_rd(g, VMCS_RO_VMEXIT_INSTR_LEN));
}

#endif
