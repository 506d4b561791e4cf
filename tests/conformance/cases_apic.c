/* cases_apic.c: conformance cases for APIC virtualization: APIC-access exits (44) and virtualized accesses, APIC-write exits (56), EOI virtualization (45), TPR virtualization through the APIC page, virtual-interrupt delivery. */
#include <Hypervisor/hv_arch_vmx.h>
#include <hvx/hvx.h>

#include "cases.h"

#define CTL(...) ((struct h_ctrls){__VA_ARGS__})
#define IOX CPU_BASED_UNCOND_IO
#define TPRS CPU_BASED_TPR_SHADOW
#define VAPIC CPU_BASED2_VIRTUAL_APIC
#define REGV CPU_BASED2_APIC_REG_VIRT
#define VID CPU_BASED2_VIRT_INTR_DELIVERY

#define APIC_GPA 0xfee00000ull
/* APIC-access qualification: offset 11:0, access type 15:12 (spec 6.44). */
#define AQ(type, off) (((uint64_t)(type) << 12) | (off))
enum { T_READ = 0, T_WRITE = 1, T_FETCH = 2, T_EVENT = 3, T_GPA = 15 };

/* Map the APIC page as ordinary memory and name it the APIC-access page; returns the host view (NULL: declined). */
static uint8_t *apic_page(struct h_ctx *h, hv_memory_flags_t flags)
{
	uint8_t *p = h_map(h, APIC_GPA, 0x1000, flags);
	if (!p)
		return NULL;
	hv_return_t r = hv_vmx_vcpu_set_apic_address(h->vcpu, APIC_GPA);
	if (r != HV_SUCCESS) {
		h_decline(h, "hv_vmx_vcpu_set_apic_address returned 0x%x", (unsigned)r);
		return NULL;
	}
	return p;
}

static uint64_t start(struct h_ctx *h, unsigned slot, const char *bytes, size_t n, uint64_t rbx, uint64_t rax)
{
	uint64_t rip = h_at(h, H_SLOT(slot), bytes, n);
	h_start(h, rip);
	SET(h, RAX, rax);
	SET(h, RBX, rbx);
	return rip;
}

#define START(h, slot, bytes, rbx, rax) start((h), (slot), (bytes), LEN(bytes), (rbx), (rax))

static void vapic_put(struct h_ctx *h, uint32_t off, uint32_t v)
{
	h_expect(h, "hvx_vcpu_write_virtual_apic", (uint64_t)hvx_vcpu_write_virtual_apic(h->vcpu, off, v), HV_SUCCESS);
}

static uint32_t vapic_get(struct h_ctx *h, uint32_t off)
{
	uint32_t v = 0xdeadbeef;
	h_expect(h, "hvx_vcpu_read_virtual_apic", (uint64_t)hvx_vcpu_read_virtual_apic(h->vcpu, off, &v), HV_SUCCESS);
	return v;
}

static uint32_t host32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* An APIC-access exit: every field the SDM defines, plus the undefined ones hvx writes as 0. */
static void expect_access(struct h_ctx *h, uint64_t rip, uint64_t qual, uint64_t len, uint64_t idt, uint64_t rf)
{
	if (!h_expect_reason(h, VMX_REASON_APIC_ACCESS))
		return;
	h_expect(h, "exit qualification (offset 11:0, access type 15:12)", h->x.qual, qual);
	h_expect(h, "guest RIP (fault-like)", h->x.rip, rip);
	h_expect(h, "VM-exit instruction length (defined only during software-event delivery, else hvx writes 0)", h->x.len,
		 len);
	h_expect(h, "VM-exit interruption information", h->x.intr, 0);
	h_expect(h, "IDT-vectoring information", h->x.idt, idt);
	h_expect(h, "IDT-vectoring error code", h->x.idt_err, 0);
	h_expect(h, "VM-exit instruction information (undefined: 0)", h->x.info, 0);
	h_expect(h, "guest-linear address (undefined: 0)", h->x.gla, 0);
	h_expect(h, "guest-physical address (undefined: 0)", h->x.gpa, 0);
	h_expect_masked(h, "guest RFLAGS.RF", h->x.rflags, rf, RFLAGS_RF);
}

/* A trap-like exit (43, 45, 56): RIP after the instruction, no length, no event information. */
static void expect_trap(struct h_ctx *h, uint32_t reason, uint64_t rip, uint64_t qual)
{
	if (!h_expect_reason(h, reason))
		return;
	h_expect(h, "exit qualification", h->x.qual, qual);
	h_expect(h, "guest RIP (trap-like: next instruction)", h->x.rip, rip);
	h_expect(h, "VM-exit instruction length (undefined: 0)", h->x.len, 0);
	h_expect(h, "VM-exit interruption information", h->x.intr, 0);
	h_expect(h, "IDT-vectoring information", h->x.idt, 0);
	h_expect(h, "guest-linear address (undefined: 0)", h->x.gla, 0);
	h_expect(h, "guest-physical address (undefined: 0)", h->x.gpa, 0);
}

/* ------------------------------------------------------------------ APIC_ACCESS */

/* Current count (0x390) is not in the read list of APIC-register virtualization (SDM 29.4.2). */
static void read_unvirtualized_register(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 0, "\x8b\x03", APIC_GPA + 0x390, V_RAX);
	h_run(h);
	expect_access(h, rip, AQ(T_READ, 0x390), 0, 0, RFLAGS_RF);
	EXPECT_REG(h, RAX, V_RAX);
}

/* Accesses wider than 32 bits are never virtualized, even to TPR. */
static void read_64bit_tpr(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 2, "\x48\x8b\x03", APIC_GPA + 0x80, V_RAX);
	h_run(h);
	expect_access(h, rip, AQ(T_READ, 0x80), 0, 0, RFLAGS_RF);
	EXPECT_REG(h, RAX, V_RAX);
}

/* Without APIC-register virtualization (and without virtual-interrupt delivery) only TPR writes are virtualized. */
static void write_ldr_without_regvirt(struct h_ctx *h)
{
	uint8_t *page = apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE);
	if (!page)
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0xd0, 0x01000000);
	h_run(h);
	expect_access(h, rip, AQ(T_WRITE, 0xd0), 0, 0, RFLAGS_RF);
	h_expect(h, "virtual-APIC LDR unchanged", vapic_get(h, 0xd0), 0);
	h_expect(h, "APIC page memory unchanged", host32(page + 0xd0), 0);
}

/* Instruction fetches from the APIC-access page always exit (type 2); RIP = the fetched address. */
static void fetch_from_apic_page(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC))
		return;
	START(h, 3, "\xff\xe3", APIC_GPA + 0x100, V_RAX);
	h_run(h);
	expect_access(h, APIC_GPA + 0x100, AQ(T_FETCH, 0x100), 0, 0, RFLAGS_RF);
}

/* The IDT lies in the APIC-access page: reading the gate of INT 0x30 exits as a linear access during event delivery
 * (type 3) with IDT-vectoring naming the software interrupt, its length, RIP = the INT, RF as pushed (0). */
static void idt_in_apic_page(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 4, "\xcd\x30", 0, V_RAX);
	h_set_vmcs(h, VMCS_GUEST_IDTR_BASE, APIC_GPA);
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	h_run(h);
	expect_access(h, rip, AQ(T_EVENT, 0x300), 2, INTR_VALID | INTR_SW_INT | 0x30, 0);
	h_expect(h, "guest RSP (nothing pushed)", h_reg(h, HV_X86_RSP), H_STACK_TOP);
}

/* A guest page table inside the APIC-access page: the walk's read is a guest-physical access (type 15), never
 * virtualized; bits 11:0 are undefined for it (hvx writes 0). */
static void page_table_in_apic_page(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t pde = APIC_GPA | 3; /* PD0 entry 3 (linear 6..8 MiB): a page table at the APIC page */
	memcpy(h->mem + H_PD0 + 3 * 8, &pde, 8);
	uint64_t rip = START(h, 0, "\x8b\x03", 0x600010, V_RAX);
	h_run(h);
	expect_access(h, rip, AQ(T_GPA, 0), 0, 0, RFLAGS_RF);
	EXPECT_REG(h, RAX, V_RAX);
}

/* An unmapped APIC-access page: the EPT violation ranks above the APIC access (SDM 29.4.1). */
static void unmapped_apic_page(struct h_ctx *h)
{
	if (hv_vmx_vcpu_set_apic_address(h->vcpu, APIC_GPA) != HV_SUCCESS) {
		h_decline(h, "hv_vmx_vcpu_set_apic_address failed");
		return;
	}
	uint64_t rip = START(h, 0, "\x8b\x03", APIC_GPA + 0x80, V_RAX);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EPT_VIOLATION))
		return;
	h_expect_masked(h, "EPT qualification (read, linear, final; no permissions)", h->x.qual, 0x181,
			0xfffffffffffe11ffull);
	h_expect(h, "guest-physical address", h->x.gpa, APIC_GPA + 0x80);
	h_expect(h, "guest-linear address", h->x.gla, APIC_GPA + 0x80);
	h_expect(h, "guest RIP", h->x.rip, rip);
}

/* Control off: the same read is an ordinary memory read of the mapped page. */
static void control_off_read(struct h_ctx *h)
{
	uint8_t *page = apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE);
	if (!page)
		return;
	uint32_t mem = 0xabcd1234;
	memcpy(page + 0x30, &mem, 4);
	vapic_put(h, 0x30, 0x00050014);
	uint64_t rip = START(h, 0, "\x8b\x03", APIC_GPA + 0x30, V_RAX);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	EXPECT_REG(h, RAX, 0xabcd1234);
}

/* TPR shadow only: a 32-bit read of offset 0x80 returns VTPR (HV_X86_TPR), not the APIC page's memory. */
static void tpr_read_virtualized(struct h_ctx *h)
{
	uint8_t *page = apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE);
	if (!page)
		return;
	page[0x80] = 0x77;
	uint64_t rip = START(h, 0, "\x8b\x03", APIC_GPA + 0x80, V_RAX);
	SET(h, TPR, 0x50);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	EXPECT_REG(h, RAX, 0x50);
}

/* APIC-register virtualization: a read of IRR comes from the virtual-APIC page without exit. */
static void irr_read_virtualized(struct h_ctx *h)
{
	uint8_t *page = apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE);
	if (!page)
		return;
	uint32_t mem = 0xdeadbeef;
	memcpy(page + 0x210, &mem, 4);
	vapic_put(h, 0x210, 0x12345678);
	uint64_t rip = START(h, 0, "\x8b\x03", APIC_GPA + 0x210, V_RAX);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	EXPECT_REG(h, RAX, 0x12345678);
}

/* A TPR write at or above the threshold completes: VTPR takes byte 0 (bytes 0x81-0x83 are cleared), memory untouched. */
static void tpr_write_virtualized(struct h_ctx *h)
{
	uint8_t *page = apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE);
	if (!page)
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0x80, 0xfffff060);
	SET(h, TPR, 0x40);
	h_set_vmcs(h, VMCS_CTRL_TPR_THRESHOLD, 4);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	h_expect(h, "HV_X86_TPR (VTPR)", h_reg(h, HV_X86_TPR), 0x60);
	h_expect(h, "virtual-APIC offset 0x80", vapic_get(h, 0x80), 0x60);
	h_expect(h, "APIC page memory unchanged", host32(page + 0x80), 0);
}

/* ------------------------------------------------------------------ TPR_THRESHOLD through the APIC page */

static void tpr_write_below_threshold(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0x80, 0x20);
	SET(h, TPR, 0x50);
	h_set_vmcs(h, VMCS_CTRL_TPR_THRESHOLD, 4);
	h_run(h);
	expect_trap(h, VMX_REASON_TPR_THRESHOLD, rip + 2, 0);
	h_expect(h, "HV_X86_TPR (VTPR)", h_reg(h, HV_X86_TPR), 0x20);
}

/* Trap-like exits keep the single-step trap of the instruction that caused them pending (SDM 27.3.4): BS saved, and
 * the next entry takes the #DB (here through the exception bitmap, RIP after the write). */
static void trap_exit_keeps_single_step(struct h_ctx *h, uint32_t reason, uint64_t rip, uint64_t qual)
{
	expect_trap(h, reason, rip, qual);
	h_expect(h, "pending debug exceptions (BS of the single-stepped write)", h_vmcs(h, VMCS_GUEST_DEBUG_EXC), 0x4000);
	h_expect_masked(h, "guest RFLAGS.TF", h->x.rflags, 0x100, 0x100);
	if (reason == VMX_REASON_TPR_THRESHOLD) {
		/* VTPR is still below the threshold: the post-entry TPR exit ranks above the pending #DB (spec 7.2) and
		 * keeps it; the VMM then lowers the threshold. */
		h_run(h);
		expect_trap(h, reason, rip, qual);
		h_expect(h, "pending debug exceptions (still BS)", h_vmcs(h, VMCS_GUEST_DEBUG_EXC), 0x4000);
		h_set_vmcs(h, VMCS_CTRL_TPR_THRESHOLD, 2);
	}
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | 1, 0, rip, 0x4000);
	h_expect(h, "pending debug exceptions (delivered)", h_vmcs(h, VMCS_GUEST_DEBUG_EXC), 0);
}

static void tpr_write_below_threshold_single_stepped(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0x80, 0x20);
	SET(h, TPR, 0x50);
	SET(h, RFLAGS, 0x102);
	h_set_vmcs(h, VMCS_CTRL_TPR_THRESHOLD, 4);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_run(h);
	trap_exit_keeps_single_step(h, VMX_REASON_TPR_THRESHOLD, rip + 2, 0);
}

static void apic_write_single_stepped(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0x320, 0x000200ef);
	SET(h, RFLAGS, 0x102);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_run(h);
	trap_exit_keeps_single_step(h, VMX_REASON_APIC_WRITE, rip + 2, 0x320);
}

/* With APIC-access virtualization (and no virtual-interrupt delivery) entry with threshold[3:0] > VTPR[7:4] is valid
 * and exits with 43 right after entry, before the first instruction (SDM 26.6.7). */
static void tpr_below_threshold_at_entry(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0x80, 0x70);
	SET(h, TPR, 0x20);
	h_set_vmcs(h, VMCS_CTRL_TPR_THRESHOLD, 3);
	h_run(h);
	expect_trap(h, VMX_REASON_TPR_THRESHOLD, rip, 0);
	h_expect(h, "HV_X86_TPR unchanged", h_reg(h, HV_X86_TPR), 0x20);
}

/* ------------------------------------------------------------------ APIC_WRITE */

/* Without virtual-interrupt delivery an EOI write is not EOI-virtualized: APIC-write exit with the offset. */
static void eoi_write_without_vid(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0xb0, 0);
	h_run(h);
	expect_trap(h, VMX_REASON_APIC_WRITE, rip + 2, 0xb0);
}

/* An LVT write completes on the virtual-APIC page, then exits for the VMM to emulate. */
static void lvt_timer_write(struct h_ctx *h)
{
	uint8_t *page = apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE);
	if (!page)
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0x320, 0x000200ef);
	h_run(h);
	expect_trap(h, VMX_REASON_APIC_WRITE, rip + 2, 0x320);
	h_expect(h, "virtual-APIC LVT timer (the write happened)", vapic_get(h, 0x320), 0x000200ef);
	h_expect(h, "APIC page memory unchanged", host32(page + 0x320), 0);
	EXPECT_REG(h, RAX, 0x000200ef);
}

/* With virtual-interrupt delivery (no register virtualization) ICR-low writes are virtualized; an IPI that is not a
 * self-IPI (no shorthand) exits for emulation. */
static void icr_low_fixed_ipi(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0x300, 0x000040fe);
	h_run(h);
	expect_trap(h, VMX_REASON_APIC_WRITE, rip + 2, 0x300);
	h_expect(h, "virtual ICR low", vapic_get(h, 0x300), 0x000040fe);
}

/* ICR-high writes complete without exit; bits 23:0 of VICR_HI are cleared. */
static void icr_high_write(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t rip = START(h, 1, "\x89\x03", APIC_GPA + 0x310, 0x12345678);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	h_expect(h, "virtual ICR high", vapic_get(h, 0x310), 0x12000000);
}

/* Virtual-interrupt delivery set-up: IF = 1, an IDT with `vector` -> handler slot. */
static void vid_setup(struct h_ctx *h, unsigned vector, uint64_t handler)
{
	h_idt_gate64(h, vector, handler);
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	SET(h, RFLAGS, 0x202);
}

/* A self-IPI through ICR low (shorthand self, fixed, vector 0x50) is virtualized (VIRR, RVI) and delivered at the next
 * boundary: the handler runs with SVI = 0x50, VISR bit set, VPPR = 0x50. */
static void self_ipi(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t handler = AT(h, H_SLOT(7), "\xe6\xf4");
	START(h, 1, "\x89\x03", APIC_GPA + 0x300, 0x00040050);
	vid_setup(h, 0x50, handler);
	h_run(h);
	h_expect_sentinel(h, handler);
	h_expect(h, "guest interrupt status (SVI 0x50, RVI 0)", h_vmcs(h, VMCS_GUEST_INT_STATUS), 0x5000);
	h_expect(h, "VISR word 2 (vector 0x50 in service)", vapic_get(h, 0x120), 1u << 16);
	h_expect(h, "VIRR word 2 (request taken)", vapic_get(h, 0x220), 0);
	h_expect(h, "VPPR", vapic_get(h, 0xa0), 0x50);
	h_expect(h, "interrupt flag cleared by the interrupt gate", h_reg(h, HV_X86_RFLAGS) & 0x200, 0);
}

/* ------------------------------------------------------------------ VIRTUALIZED_EOI */

/* Vector 0x30 in service, RVI 0x40 is delivered over it; the handler's EOI clears 0x40 and exits (bitmap bit set) with
 * SVI back at 0x30 and VPPR = 0x30. */
static void eoi_exit_nested(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t handler = AT(h, H_SLOT(6), "\xc7\x03\x00\x00\x00\x00");
	START(h, 5, "\xeb\xfe", APIC_GPA + 0xb0, V_RAX);
	vid_setup(h, 0x40, handler);
	vapic_put(h, 0x110, 1u << 16);                  /* VISR: vector 0x30 */
	h_set_vmcs(h, VMCS_GUEST_INT_STATUS, 0x3040);    /* SVI 0x30, RVI 0x40 */
	h_set_vmcs(h, VMCS_CTRL_EOI_EXIT_BITMAP_1, 1);   /* vector 0x40 */
	h_run(h);
	expect_trap(h, VMX_REASON_VIRTUALIZED_EOI, handler + 6, 0x40);
	h_expect(h, "guest interrupt status (SVI 0x30, RVI 0)", h_vmcs(h, VMCS_GUEST_INT_STATUS), 0x3000);
	h_expect(h, "VISR word 1 (0x30 still in service)", vapic_get(h, 0x110), 1u << 16);
	h_expect(h, "VISR word 2 (0x40 done)", vapic_get(h, 0x120), 0);
	h_expect(h, "VPPR", vapic_get(h, 0xa0), 0x30);
	h_expect(h, "VEOI cleared", vapic_get(h, 0xb0), 0);
}

/* EOI-exit bitmap bit clear: EOI virtualization completes without exit. */
static void eoi_no_exit(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t handler = AT(h, H_SLOT(6), "\xc7\x03\x00\x00\x00\x00");
	START(h, 5, "\xeb\xfe", APIC_GPA + 0xb0, V_RAX);
	vid_setup(h, 0x40, handler);
	h_set_vmcs(h, VMCS_GUEST_INT_STATUS, 0x0040);
	h_set_vmcs(h, VMCS_CTRL_EOI_EXIT_BITMAP_0, ~0ull);
	h_set_vmcs(h, VMCS_CTRL_EOI_EXIT_BITMAP_2, ~0ull);
	h_run(h);
	h_expect_sentinel(h, handler + 6);
	h_expect(h, "guest interrupt status", h_vmcs(h, VMCS_GUEST_INT_STATUS), 0);
	h_expect(h, "VISR word 2", vapic_get(h, 0x120), 0);
	h_expect(h, "VPPR", vapic_get(h, 0xa0), 0);
}

/* RVI 0x40 does not exceed VPPR (VTPR 0x50): no delivery, the guest runs on. */
static void virq_held_by_tpr(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t handler = AT(h, H_SLOT(6), "\xc7\x03\x00\x00\x00\x00");
	uint64_t rip = AT(h, H_SLOT(7), "\xe6\xf4");
	h_start(h, rip);
	vid_setup(h, 0x40, handler);
	SET(h, TPR, 0x50);
	h_set_vmcs(h, VMCS_GUEST_INT_STATUS, 0x0040);
	h_run(h);
	h_expect_sentinel(h, rip);
	h_expect(h, "guest interrupt status unchanged", h_vmcs(h, VMCS_GUEST_INT_STATUS), 0x40);
	h_expect(h, "VPPR = VTPR (PPR virtualization at entry)", vapic_get(h, 0xa0), 0x50);
}

/* Entered in the HLT state with a deliverable virtual interrupt: it wakes the vCPU and is delivered (no kick). */
static void virq_wakes_hlt(struct h_ctx *h)
{
	if (!apic_page(h, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	uint64_t handler = AT(h, H_SLOT(7), "\xe6\xf4");
	uint64_t rip = AT(h, H_SLOT(5), "\xeb\xfe");
	h_start(h, rip);
	vid_setup(h, 0x40, handler);
	h_set_vmcs(h, VMCS_GUEST_INT_STATUS, 0x0040);
	h_set_vmcs(h, VMCS_GUEST_ACTIVITY_STATE, 1);
	h_run(h);
	h_expect_sentinel(h, handler);
	h_expect(h, "activity state (active again)", h->x.activity, 0);
	h_expect(h, "guest interrupt status (SVI 0x40)", h_vmcs(h, VMCS_GUEST_INT_STATUS), 0x4000);
	uint64_t ret = 0;
	memcpy(&ret, h->mem + H_STACK_TOP - 40, 8); /* the frame's RIP: 64-bit frames are 16-byte aligned */
	h_expect(h, "pushed RIP (the instruction after HLT state: the spin)", ret, rip);
}

/* ------------------------------------------------------------------ virtualize x2APIC mode */

/* The MSR bitmap lets the whole x2APIC range through (the virtualization applies only then). */
static bool x2apic_setup(struct h_ctx *h)
{
	hv_return_t r = hvx_vcpu_set_msr_intercept(h->vcpu, 0x800, 0x100, 0);
	if (r != HV_SUCCESS) {
		h_decline(h, "hvx_vcpu_set_msr_intercept returned 0x%x", (unsigned)r);
		return false;
	}
	return true;
}

static uint64_t msr_start(struct h_ctx *h, bool wr, uint32_t msr, uint64_t edx_eax)
{
	uint64_t rip = wr ? AT(h, H_SLOT(9), "\x0f\x30") : AT(h, H_SLOT(10), "\x0f\x32");
	h_start(h, rip);
	SET(h, RCX, msr);
	SET(h, RAX, wr ? (edx_eax & 0xffffffff) : V_RAX);
	SET(h, RDX, wr ? (edx_eax >> 32) : V_RDX);
	return rip;
}

/* WRMSR 0x808 writes VTPR (bytes 0x80-0x87) and performs TPR virtualization: below the threshold, exit 43 after it. */
static void x2apic_tpr_below_threshold(struct h_ctx *h)
{
	if (!x2apic_setup(h))
		return;
	uint64_t rip = msr_start(h, true, 0x808, 0x20);
	SET(h, TPR, 0x50);
	h_set_vmcs(h, VMCS_CTRL_TPR_THRESHOLD, 4);
	h_run(h);
	expect_trap(h, VMX_REASON_TPR_THRESHOLD, rip + 2, 0);
	h_expect(h, "HV_X86_TPR (VTPR)", h_reg(h, HV_X86_TPR), 0x20);
}

/* RDMSR 0x808 reads VTPR without APIC-register virtualization; bits 63:8 set in WRMSR 0x808 are #GP(0). */
static void x2apic_tpr_read(struct h_ctx *h)
{
	if (!x2apic_setup(h))
		return;
	uint64_t rip = msr_start(h, false, 0x808, 0);
	SET(h, TPR, 0x60);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	EXPECT_REG(h, RAX, 0x60);
	EXPECT_REG(h, RDX, 0);
}

static void x2apic_tpr_reserved_bits(struct h_ctx *h)
{
	if (!x2apic_setup(h))
		return;
	uint64_t rip = msr_start(h, true, 0x808, 0x120);
	SET(h, TPR, 0x60);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_ERR | INTR_HW_EXC | 13, 0, rip, 0);
	h_expect(h, "HV_X86_TPR unchanged", h_reg(h, HV_X86_TPR), 0x60);
}

/* Control off: the x2APIC MSRs are the (absent) x2APIC's, so RDMSR 0x808 raises #GP(0). */
static void x2apic_off_rdmsr(struct h_ctx *h)
{
	if (!x2apic_setup(h))
		return;
	uint64_t rip = msr_start(h, false, 0x808, 0);
	SET(h, TPR, 0x60);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_ERR | INTR_HW_EXC | 13, 0, rip, 0);
	EXPECT_REG(h, RAX, V_RAX);
}

/* With APIC-register virtualization RDMSR of any x2APIC MSR returns 8 bytes at (msr & 0xff) << 4 (SDM 29.5). */
static void x2apic_ldr_read(struct h_ctx *h)
{
	if (!x2apic_setup(h))
		return;
	vapic_put(h, 0xd0, 0x00010002);
	vapic_put(h, 0xd4, 0xa5a5a5a5);
	uint64_t rip = msr_start(h, false, 0x80d, 0);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	EXPECT_REG(h, RAX, 0x00010002);
	EXPECT_REG(h, RDX, 0xa5a5a5a5);
}

/* Even a register the xAPIC read list leaves out (current count, 0x839 -> offset 0x390) reads the page. */
static void x2apic_current_count_read(struct h_ctx *h)
{
	if (!x2apic_setup(h))
		return;
	vapic_put(h, 0x390, 0x1234);
	uint64_t rip = msr_start(h, false, 0x839, 0);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	EXPECT_REG(h, RAX, 0x1234);
	EXPECT_REG(h, RDX, 0);
}

/* WRMSR 0x80b (EOI) with virtual-interrupt delivery: EOI virtualization, exit 45 when the bitmap bit is set. */
static void x2apic_eoi(struct h_ctx *h)
{
	if (!x2apic_setup(h))
		return;
	uint64_t rip = msr_start(h, true, 0x80b, 0);
	vapic_put(h, 0x120, 1u << 5); /* VISR: vector 0x45 */
	h_set_vmcs(h, VMCS_GUEST_INT_STATUS, 0x4500);
	h_set_vmcs(h, VMCS_CTRL_EOI_EXIT_BITMAP_1, 1ull << 5);
	h_run(h);
	expect_trap(h, VMX_REASON_VIRTUALIZED_EOI, rip + 2, 0x45);
	h_expect(h, "guest interrupt status", h_vmcs(h, VMCS_GUEST_INT_STATUS), 0);
	h_expect(h, "VISR word 2", vapic_get(h, 0x120), 0);
}

/* WRMSR 0x83f (self IPI) with a vector below 16: APIC-write exit with qualification 0x3f0. */
static void x2apic_self_ipi_low_vector(struct h_ctx *h)
{
	if (!x2apic_setup(h))
		return;
	uint64_t rip = msr_start(h, true, 0x83f, 5);
	h_run(h);
	expect_trap(h, VMX_REASON_APIC_WRITE, rip + 2, 0x3f0);
	h_expect(h, "virtual-APIC offset 0x3f0", vapic_get(h, 0x3f0), 5);
	h_expect(h, "guest interrupt status (nothing requested)", h_vmcs(h, VMCS_GUEST_INT_STATUS), 0);
}

/* WRMSR 0x83f with vector 0x61: self-IPI virtualization, then delivery through the IDT at the next boundary. */
static void x2apic_self_ipi(struct h_ctx *h)
{
	if (!x2apic_setup(h))
		return;
	uint64_t handler = AT(h, H_SLOT(7), "\xe6\xf4");
	msr_start(h, true, 0x83f, 0x61);
	vid_setup(h, 0x61, handler);
	h_run(h);
	h_expect_sentinel(h, handler);
	h_expect(h, "guest interrupt status (SVI 0x61)", h_vmcs(h, VMCS_GUEST_INT_STATUS), 0x6100);
	h_expect(h, "VISR word 3 (vector 0x61)", vapic_get(h, 0x130), 1u << 1);
}

/* ------------------------------------------------------------------ the table */

#define APICV(...) CTL(.pin = PIN_BASED_INTR, .proc = TPRS | IOX, __VA_ARGS__)

const struct conf_case conf_cases_apic[] = {
	{"APIC_ACCESS", "unvirtualized_register_read_exits", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC | REGV), {0}, 0, read_unvirtualized_register, NULL},
	{"APIC_ACCESS", "read_wider_than_32_bits_exits", "apic_long", H_LONG64, CTL(.proc = TPRS, .proc2 = VAPIC | REGV),
	 {0}, 0, read_64bit_tpr, NULL},
	{"APIC_ACCESS", "ldr_write_without_register_virtualization_exits", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC, .proc2_off = REGV | VID), {0}, 0, write_ldr_without_regvirt, NULL},
	{"APIC_ACCESS", "instruction_fetch_exits_type_2", "apic_long", H_LONG64, CTL(.proc = TPRS, .proc2 = VAPIC | REGV),
	 {0}, 0, fetch_from_apic_page, NULL},
	{"APIC_ACCESS", "idt_read_during_int_n_exits_type_3_with_idt_vectoring", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC | REGV), {0}, 0, idt_in_apic_page, NULL},
	{"APIC_ACCESS", "page_table_in_apic_page_exits_guest_physical", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC | REGV), {0}, 0, page_table_in_apic_page, NULL},
	{"APIC_ACCESS", "unmapped_apic_page_is_an_ept_violation_first", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC), {"EPT_VIOLATION"}, 0, unmapped_apic_page, NULL},
	{"APIC_ACCESS", "control_off_read_is_ordinary_memory", "apic_long", H_LONG64,
	 CTL(.proc = TPRS | IOX, .proc2_off = VAPIC), {"IO"}, 0, control_off_read, NULL},
	{"APIC_ACCESS", "tpr_read_comes_from_vtpr", "apic_long", H_LONG64,
	 CTL(.proc = TPRS | IOX, .proc2 = VAPIC, .proc2_off = REGV | VID), {"IO"}, 0, tpr_read_virtualized, NULL},
	{"APIC_ACCESS", "irr_read_comes_from_virtual_apic_page", "apic_long", H_LONG64,
	 CTL(.proc = TPRS | IOX, .proc2 = VAPIC | REGV), {"IO"}, 0, irr_read_virtualized, NULL},
	{"APIC_ACCESS", "tpr_write_is_virtualized", "apic_long", H_LONG64,
	 CTL(.proc = TPRS | IOX, .proc2 = VAPIC, .proc2_off = REGV | VID), {"IO"}, 0, tpr_write_virtualized, NULL},
	{"TPR_THRESHOLD", "apic_page_tpr_write_below_threshold_exits", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC, .proc2_off = VID), {0}, 0, tpr_write_below_threshold, NULL},
	{"TPR_THRESHOLD", "single_stepped_tpr_write_below_threshold_keeps_bs_pending", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC, .proc2_off = VID), {"EXC_NMI"}, C_KVM_NO_PENDING_DBG,
	 tpr_write_below_threshold_single_stepped, NULL},
	{"TPR_THRESHOLD", "threshold_above_vtpr_exits_right_after_entry", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC, .proc2_off = VID), {0}, 0, tpr_below_threshold_at_entry, NULL},
	{"APIC_WRITE", "eoi_write_without_vid_exits", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC | REGV, .proc2_off = VID), {0}, 0, eoi_write_without_vid, NULL},
	{"APIC_WRITE", "lvt_timer_write_lands_in_virtual_apic_page_then_exits", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC | REGV), {0}, 0, lvt_timer_write, NULL},
	{"APIC_WRITE", "single_stepped_lvt_write_keeps_bs_pending", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = VAPIC | REGV), {"EXC_NMI"}, C_KVM_NO_PENDING_DBG, apic_write_single_stepped, NULL},
	{"APIC_WRITE", "icr_low_write_of_non_self_ipi_exits", "apic_long", H_LONG64, APICV(.proc2 = VAPIC | VID,
	 .proc2_off = REGV), {0}, 0, icr_low_fixed_ipi, NULL},
	{"APIC_WRITE", "icr_high_write_completes_clearing_bits_23_0", "apic_long", H_LONG64,
	 CTL(.proc = TPRS | IOX, .proc2 = VAPIC | REGV), {"IO"}, 0, icr_high_write, NULL},
	{"APIC_WRITE", "self_ipi_is_virtualized_and_delivered", "apic_long", H_LONG64, APICV(.proc2 = VAPIC | VID), {"IO"},
	 0, self_ipi, NULL},
	{"VIRTUALIZED_EOI", "eoi_exit_reports_vector_and_restores_svi", "apic_long", H_LONG64,
	 APICV(.proc2 = VAPIC | VID), {0}, 0, eoi_exit_nested, NULL},
	{"VIRTUALIZED_EOI", "eoi_with_bitmap_bit_clear_does_not_exit", "apic_long", H_LONG64,
	 APICV(.proc2 = VAPIC | VID), {"IO"}, 0, eoi_no_exit, NULL},
	{"VIRTUALIZED_EOI", "virtual_interrupt_held_below_vppr", "apic_long", H_LONG64, APICV(.proc2 = VAPIC | VID),
	 {"IO"}, 0, virq_held_by_tpr, NULL},
	{"VIRTUALIZED_EOI", "virtual_interrupt_wakes_hlt_state", "apic_long", H_LONG64, APICV(.proc2 = VAPIC | VID),
	 {"IO"}, 0, virq_wakes_hlt, NULL},
	{"TPR_THRESHOLD", "x2apic_wrmsr_808_below_threshold_exits", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = CPU_BASED2_X2APIC, .proc2_off = VID), {0}, 0, x2apic_tpr_below_threshold, NULL},
	{"RDMSR", "x2apic_rdmsr_808_reads_vtpr", "apic_long", H_LONG64,
	 CTL(.proc = TPRS | IOX, .proc2 = CPU_BASED2_X2APIC, .proc2_off = REGV | VID), {"IO"}, 0, x2apic_tpr_read, NULL},
	{"RDMSR", "x2apic_control_off_rdmsr_808_is_gp", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2_off = CPU_BASED2_X2APIC), {"EXC_NMI"}, 0, x2apic_off_rdmsr, NULL},
	{"RDMSR", "x2apic_rdmsr_of_ldr_reads_virtual_apic_page", "apic_long", H_LONG64,
	 CTL(.proc = TPRS | IOX, .proc2 = CPU_BASED2_X2APIC | REGV), {"IO"}, 0, x2apic_ldr_read, NULL},
	{"RDMSR", "x2apic_rdmsr_of_current_count_reads_virtual_apic_page", "apic_long", H_LONG64,
	 CTL(.proc = TPRS | IOX, .proc2 = CPU_BASED2_X2APIC | REGV), {"IO"}, 0, x2apic_current_count_read, NULL},
	{"WRMSR", "x2apic_wrmsr_808_reserved_bits_gp", "apic_long", H_LONG64,
	 CTL(.proc = TPRS, .proc2 = CPU_BASED2_X2APIC, .proc2_off = VID), {"EXC_NMI"}, 0, x2apic_tpr_reserved_bits, NULL},
	{"VIRTUALIZED_EOI", "x2apic_wrmsr_80b_eoi_exits", "apic_long", H_LONG64,
	 APICV(.proc2 = CPU_BASED2_X2APIC | VID), {0}, 0, x2apic_eoi, NULL},
	{"APIC_WRITE", "x2apic_self_ipi_below_16_exits", "apic_long", H_LONG64, APICV(.proc2 = CPU_BASED2_X2APIC | VID),
	 {0}, 0, x2apic_self_ipi_low_vector, NULL},
	{"APIC_WRITE", "x2apic_self_ipi_is_virtualized_and_delivered", "apic_long", H_LONG64,
	 APICV(.proc2 = CPU_BASED2_X2APIC | VID), {"IO"}, 0, x2apic_self_ipi, NULL},
	{NULL, NULL, NULL, 0, {0}, {0}, 0, NULL, NULL},
};
