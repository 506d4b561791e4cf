/* kvm_test_env.h: a 64-bit guest environment for the kvm backend tests, built only through the public API (page tables, GDT, IDT, TSS, VMCS set-up, bounded runs). */
#ifndef HVX_TESTS_KVM_TEST_ENV_H
#define HVX_TESTS_KVM_TEST_ENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx.h>

#define KE_MEM_SIZE (4u << 20)  /* guest RAM at GPA 0 */
#define KE_PML4 0x1000u
#define KE_PDPT 0x2000u
#define KE_PD 0x3000u
#define KE_GDT 0x4000u
#define KE_IDT 0x5000u
#define KE_TSS 0x6000u
#define KE_STACK0 0x9000u       /* ring-0 stack top */
#define KE_CODE 0x10000u        /* guest code */
#define KE_DATA 0x20000u        /* scratch data */
#define KE_STACK3 0x30000u      /* ring-3 stack top */
#define KE_MMIO 0x800000u       /* not mapped: accesses exit as EPT violations */

struct ke {
	uint8_t *mem;
	hv_vcpuid_t vcpu;
};

static inline uint64_t ke_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Skip (with the reason printed) where the kvm backend cannot run. */
static inline int ke_available(void)
{
	const char *why = NULL;
	if (!hvx_backend_available("kvm", &why)) {
		printf("kvm backend unavailable: %s\n", why ? why : "?");
		return 0;
	}
	return 1;
}

static inline uint64_t ke_cap(hv_vmx_capability_t c)
{
	uint64_t v = 0;
	assert_int_equal(hv_vmx_read_capability(c, &v), HV_SUCCESS);
	return v;
}

static inline uint64_t ke_cap2ctrl(uint64_t cap, uint64_t want)
{
	return (want | (cap & 0xffffffffull)) & (cap >> 32);
}

static inline void ke_w(struct ke *k, uint32_t field, uint64_t v)
{
	hv_return_t r = hv_vmx_vcpu_write_vmcs(k->vcpu, field, v);
	if (r != HV_SUCCESS)
		fail_msg("write VMCS %#x = %#llx: %#x", field, (unsigned long long)v, r);
}

static inline uint64_t ke_r(struct ke *k, uint32_t field)
{
	uint64_t v = 0;
	assert_int_equal(hv_vmx_vcpu_read_vmcs(k->vcpu, field, &v), HV_SUCCESS);
	return v;
}

static inline uint64_t ke_reg(struct ke *k, hv_x86_reg_t r)
{
	uint64_t v = 0;
	assert_int_equal(hv_vcpu_read_register(k->vcpu, r, &v), HV_SUCCESS);
	return v;
}

static inline void ke_set(struct ke *k, hv_x86_reg_t r, uint64_t v)
{
	assert_int_equal(hv_vcpu_write_register(k->vcpu, r, v), HV_SUCCESS);
}

static inline void ke_gdt_entry(uint8_t *gdt, unsigned idx, uint64_t v)
{
	memcpy(gdt + idx * 8, &v, 8);
}

static inline void ke_vcpu_setup(struct ke *k, int ring);

/* VM on `backend` with 4 MiB of RAM (identity-mapped 1 GiB by 2-MiB pages, user-accessible), GDT, IDT, TSS and one
 * vCPU in 64-bit mode at `ring` (0 or 3) with code copied to KE_CODE. */
static inline void ke_setup_on(struct ke *k, const char *backend, int ring, const void *code, size_t code_len)
{
	memset(k, 0, sizeof *k);
	assert_int_equal(hvx_vm_create_with_backend(HV_VM_DEFAULT, backend), HV_SUCCESS);
	k->mem = mmap(NULL, KE_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(k->mem != MAP_FAILED);
	uint64_t *pml4 = (uint64_t *)(k->mem + KE_PML4), *pdpt = (uint64_t *)(k->mem + KE_PDPT),
		 *pd = (uint64_t *)(k->mem + KE_PD);
	pml4[0] = KE_PDPT | 7;
	pdpt[0] = KE_PD | 7;
	for (unsigned i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x87; /* 2 MiB, P RW US */
	uint8_t *gdt = k->mem + KE_GDT;
	ke_gdt_entry(gdt, 1, 0x00af9b000000ffffull); /* 0x08 code64 DPL0 */
	ke_gdt_entry(gdt, 2, 0x00cf93000000ffffull); /* 0x10 data DPL0 */
	ke_gdt_entry(gdt, 3, 0x00affb000000ffffull); /* 0x18 code64 DPL3 */
	ke_gdt_entry(gdt, 4, 0x00cff3000000ffffull); /* 0x20 data DPL3 */
	uint64_t tss = KE_TSS;
	ke_gdt_entry(gdt, 5, 0x0000890000000067ull | (tss & 0xffffff) << 16 | (tss >> 24) << 56);
	ke_gdt_entry(gdt, 6, tss >> 32);
	uint64_t rsp0 = KE_STACK0;
	memcpy(k->mem + KE_TSS + 4, &rsp0, 8);
	memcpy(k->mem + KE_CODE, code, code_len);
	assert_int_equal(hv_vm_map(k->mem, 0, KE_MEM_SIZE, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC), HV_SUCCESS);
	ke_vcpu_setup(k, ring);
}

/* The same on the kvm backend. */
static inline void ke_setup(struct ke *k, int ring, const void *code, size_t code_len)
{
	ke_setup_on(k, "kvm", ring, code, code_len);
}

/* A vCPU on the calling thread in 64-bit mode at `ring`, RIP at KE_CODE (the VM of ke_setup exists). */
static inline void ke_vcpu_setup(struct ke *k, int ring)
{
	assert_int_equal(hv_vcpu_create(&k->vcpu, HV_VCPU_DEFAULT), HV_SUCCESS);

	ke_w(k, VMCS_CTRL_PIN_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PINBASED), 0));
	ke_w(k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), CPU_BASED_HLT));
	ke_w(k, VMCS_CTRL_CPU_BASED2, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED2), 0));
	ke_w(k, VMCS_CTRL_VMENTRY_CONTROLS, ke_cap2ctrl(ke_cap(HV_VMX_CAP_ENTRY), 1u << 9));
	ke_w(k, VMCS_CTRL_VMEXIT_CONTROLS, ke_cap2ctrl(ke_cap(HV_VMX_CAP_EXIT), 0));
	ke_w(k, VMCS_GUEST_CR0, 0x80010033); /* PG WP NE ET MP PE */
	ke_w(k, VMCS_GUEST_CR3, KE_PML4);
	ke_w(k, VMCS_GUEST_CR4, 0x2620);     /* VMXE OSXMMEXCPT OSFXSR PAE */
	ke_w(k, VMCS_GUEST_IA32_EFER, 0x500);
	unsigned cs = ring ? 0x1b : 0x08, ds = ring ? 0x23 : 0x10;
	uint32_t cs_ar = ring ? 0xa0fb : 0xa09b, ds_ar = ring ? 0xc0f3 : 0xc093;
	ke_w(k, VMCS_GUEST_CS, cs);
	ke_w(k, VMCS_GUEST_CS_BASE, 0);
	ke_w(k, VMCS_GUEST_CS_LIMIT, 0xffffffff);
	ke_w(k, VMCS_GUEST_CS_AR, cs_ar);
	static const uint32_t sel[] = {VMCS_GUEST_SS, VMCS_GUEST_DS, VMCS_GUEST_ES, VMCS_GUEST_FS, VMCS_GUEST_GS};
	static const uint32_t base[] = {VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE, VMCS_GUEST_ES_BASE, VMCS_GUEST_FS_BASE,
					VMCS_GUEST_GS_BASE};
	static const uint32_t lim[] = {VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_ES_LIMIT,
				       VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT};
	static const uint32_t ar[] = {VMCS_GUEST_SS_AR, VMCS_GUEST_DS_AR, VMCS_GUEST_ES_AR, VMCS_GUEST_FS_AR,
				      VMCS_GUEST_GS_AR};
	for (unsigned i = 0; i < 5; i++) {
		ke_w(k, sel[i], ds);
		ke_w(k, base[i], 0);
		ke_w(k, lim[i], 0xffffffff);
		ke_w(k, ar[i], ds_ar);
	}
	ke_w(k, VMCS_GUEST_TR, 0x28);
	ke_w(k, VMCS_GUEST_TR_BASE, KE_TSS);
	ke_w(k, VMCS_GUEST_TR_LIMIT, 0x67);
	ke_w(k, VMCS_GUEST_TR_AR, 0x8b);
	ke_w(k, VMCS_GUEST_LDTR, 0);
	ke_w(k, VMCS_GUEST_LDTR_AR, 0x10000);
	ke_w(k, VMCS_GUEST_GDTR_BASE, KE_GDT);
	ke_w(k, VMCS_GUEST_GDTR_LIMIT, 7 * 8 - 1);
	ke_w(k, VMCS_GUEST_IDTR_BASE, KE_IDT);
	ke_w(k, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	ke_set(k, HV_X86_RIP, KE_CODE);
	ke_set(k, HV_X86_RFLAGS, 0x3002); /* IOPL 3: ring-3 guests may use IN/OUT */
	ke_set(k, HV_X86_RSP, ring ? KE_STACK3 : KE_STACK0);
}

/* Point IDT vector `vec` at handler address `rip` (interrupt gate, ring-0 code, DPL 3). */
static inline void ke_idt(struct ke *k, unsigned vec, uint64_t rip)
{
	uint8_t *g = k->mem + KE_IDT + vec * 16;
	uint64_t lo = (rip & 0xffff) | (uint64_t)0x08 << 16 | (uint64_t)0xee00 << 32 | ((rip >> 16) & 0xffff) << 48;
	uint64_t hi = rip >> 32;
	memcpy(g, &lo, 8);
	memcpy(g + 8, &hi, 8);
}

static inline void ke_teardown(struct ke *k)
{
	hv_vcpu_destroy(k->vcpu);
	hv_vm_unmap(0, KE_MEM_SIZE);
	hv_vm_destroy();
	munmap(k->mem, KE_MEM_SIZE);
}

/* Run with a deadline (never unbounded: PVM's KVM_RUN can hang on some instructions); returns the exit reason. */
static inline uint32_t ke_run_ms(struct ke *k, unsigned ms)
{
	hv_return_t r = hv_vcpu_run_until(k->vcpu, ke_now_ns() + (uint64_t)ms * 1000000ull);
	if (r != HV_SUCCESS)
		fail_msg("hv_vcpu_run_until: %#x", r);
	return (uint32_t)ke_r(k, VMCS_RO_EXIT_REASON);
}

/* Run until an exit other than the kick-free "timer expired" stragglers of earlier runs. */
static inline uint32_t ke_run(struct ke *k)
{
	return ke_run_ms(k, 2000);
}

#define ke_expect_reason(k, want)                                                                      \
	do {                                                                                           \
		uint32_t got_ = ke_run(k);                                                             \
		if (got_ != (uint32_t)(want))                                                          \
			fail_msg("exit reason: wanted %u (%s), got %#x at RIP %#llx", (unsigned)(want), #want, \
				 got_, (unsigned long long)ke_reg(k, HV_X86_RIP));                      \
	} while (0)

#endif
