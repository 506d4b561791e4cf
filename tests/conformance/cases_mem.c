/* cases_mem.c: conformance cases for port and memory accesses: I/O instructions, EPT violations, APIC-page accesses, virtualized EOI, page-modification log. */
#include <Hypervisor/hv_arch_vmx.h>

#include "cases.h"

#define IOX CPU_BASED_UNCOND_IO
#define CTL(...) ((struct h_ctrls){__VA_ARGS__})

/* ------------------------------------------------------------------ IO */

/* Qualification (spec 6.30): 2:0 size-1, 3 IN, 4 string, 5 REP, 6 immediate, 31:16 port. */
#define IOQ(port, size, in, str, rep, imm)                                                                  \
	(((uint64_t)(port) << 16) | ((size) - 1) | ((in) ? 8u : 0) | ((str) ? 0x10u : 0) | ((rep) ? 0x20u : 0) | \
	 ((imm) ? 0x40u : 0))

/* INS/OUTS instruction information is defined only if IA32_VMX_BASIC bit 54 is 1 (spec 3.1). */
static uint64_t ins_outs_mask(struct h_ctx *h, uint64_t mask)
{
	return ((h->cap_basic >> 54) & 1) ? mask : 0;
}

static void io_simple(struct h_ctx *h, unsigned slot, const char *bytes, size_t n, uint64_t dx, uint64_t qual)
{
	uint64_t rip = h_at(h, H_SLOT(slot), bytes, n);
	h_start(h, rip);
	SET(h, RAX, V_RAX);
	SET(h, RDX, dx);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_IO, rip, n, qual, 0, 0);
	EXPECT_REG(h, RAX, V_RAX);
}

static void out_imm8(struct h_ctx *h)
{
	io_simple(h, 0, "\xe6\x80", 2, 0, IOQ(0x80, 1, 0, 0, 0, 1));
}

static void in_dx_word(struct h_ctx *h)
{
	io_simple(h, 1, "\x66\xed", 2, 0x3f8, IOQ(0x3f8, 2, 1, 0, 0, 0));
}

static void out_dx_dword(struct h_ctx *h)
{
	io_simple(h, 2, "\xef", 1, 0xcf8, IOQ(0xcf8, 4, 0, 0, 0, 0));
}

static void in_imm8_byte(struct h_ctx *h)
{
	io_simple(h, 3, "\xe4\x60", 2, 0, IOQ(0x60, 1, 1, 0, 0, 1));
}

static void out_dx_word(struct h_ctx *h)
{
	io_simple(h, 7, "\x66\xef", 2, 0x1f0, IOQ(0x1f0, 2, 0, 0, 0, 0));
}

static void in_imm8_dword(struct h_ctx *h)
{
	io_simple(h, 8, "\xe5\x71", 2, 0, IOQ(0x71, 4, 1, 0, 0, 1));
}

static void out_imm8_real(struct h_ctx *h)
{
	io_simple(h, 1, "\xe6\x80", 2, 0, IOQ(0x80, 1, 0, 0, 0, 1));
}

static void in_dx_real(struct h_ctx *h)
{
	io_simple(h, 2, "\xed", 1, 0x3f8, IOQ(0x3f8, 2, 1, 0, 0, 0));
}

static void string_io(struct h_ctx *h, uint64_t rip, size_t len, uint64_t qual, uint64_t gla, uint64_t info,
		      uint64_t info_mask)
{
	h->gla_defined = true;
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_IO, rip, len, qual, info, ins_outs_mask(h, info_mask));
	h_expect(h, "guest-linear address (string operand at instruction start)", h->x.gla, gla);
}

static void rep_outsb_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\xf3\x6e");
	h_start(h, rip);
	SET(h, RDX, 0x3f8);
	SET(h, RSI, H_DATA + 0x10);
	SET(h, RCX, 5);
	/* address size 64 (2 << 7), segment DS (3 << 15) */
	string_io(h, rip, 2, IOQ(0x3f8, 1, 0, 1, 1, 0), H_DATA + 0x10, 0x18100, 0x38380);
	EXPECT_REG(h, RCX, 5); /* exits before the first iteration */
	EXPECT_REG(h, RSI, H_DATA + 0x10);
}

static void rep_insw_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(5), "\xf3\x66\x6d");
	h_start(h, rip);
	SET(h, RDX, 0x3f8);
	SET(h, RDI, H_DATA + 0x20);
	SET(h, RCX, 3);
	/* INS always uses ES: the segment field is undefined, only the address size is compared */
	string_io(h, rip, 3, IOQ(0x3f8, 2, 1, 1, 1, 0), H_DATA + 0x20, 0x100, 0x380);
	EXPECT_REG(h, RCX, 3);
	EXPECT_REG(h, RDI, H_DATA + 0x20);
}

static void a32_rep_insb_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(9), "\xf3\x67\x6c");
	h_start(h, rip);
	SET(h, RDX, 0x60);
	SET(h, RDI, 0xffffffff00010040ull); /* 32-bit address size in 64-bit mode: only EDI counts */
	SET(h, RCX, 1);
	string_io(h, rip, 3, IOQ(0x60, 1, 1, 1, 1, 0), 0x10040, 0x80, 0x380);
	EXPECT_REG(h, RDI, 0xffffffff00010040ull);
}

static void fs_outsd_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x64\x6f");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_FS_BASE, 0x1000);
	SET(h, RDX, 0x3f8);
	SET(h, RSI, 0x10);
	/* FS override: segment 4; FS base applies in 64-bit mode */
	string_io(h, rip, 2, IOQ(0x3f8, 4, 0, 1, 0, 0), 0x1010, 0x20100, 0x38380);
}

static void rep_outsb_real(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\xf3\x6e");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_DS, 0x100);
	h_set_vmcs(h, VMCS_GUEST_DS_BASE, 0x1000);
	SET(h, RDX, 0x3f8);
	SET(h, RSI, 0x20);
	SET(h, RCX, 2);
	/* 16-bit address size (0), DS (3 << 15); linear = DS.base + SI */
	string_io(h, rip, 2, IOQ(0x3f8, 1, 0, 1, 1, 0), 0x1020, 0x18000, 0x38380);
}

static void fs_outsd_prot32(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(2), "\x64\x6f");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_FS_BASE, 0x2000);
	SET(h, RDX, 0x3f8);
	SET(h, RSI, 0xffffffff00000010ull); /* 32-bit address size: only ESI counts; GLA bits 63:32 are 0 */
	/* 32-bit address size (1 << 7), FS (4 << 15) */
	string_io(h, rip, 2, IOQ(0x3f8, 4, 0, 1, 0, 0), 0x2010, 0x20080, 0x38380);
}

/* ------------------------------------------------------------------ EPT_VIOLATION */

/* Qualification bits compared: 8:0 and 12 (spec 6.48); 11:9 need advanced EPT info, 16:13 are UNCONFIRMED; 63:17 are 0. */
#define EPTQ_MASK 0xfffffffffffe11ffull
#define EPTQ_R 1u
#define EPTQ_W 2u
#define EPTQ_X 4u
#define EPTQ_READABLE 8u
#define EPTQ_WRITABLE 0x10u
#define EPTQ_EXECUTABLE 0x20u
#define EPTQ_GLA 0x80u
#define EPTQ_FINAL 0x100u

static void expect_ept(struct h_ctx *h, uint64_t rip, uint64_t qual, uint64_t gpa, uint64_t gla)
{
	if (!h_expect_reason(h, VMX_REASON_EPT_VIOLATION))
		return;
	h_expect_masked(h, "exit qualification", h->x.qual, qual, EPTQ_MASK);
	h_expect(h, "guest-physical address", h->x.gpa, gpa);
	h_expect(h, "guest-linear address", h->x.gla, gla);
	h_expect(h, "guest RIP (the access did not happen)", h->x.rip, rip);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, INTR_VALID);
	h_expect_masked(h, "guest RFLAGS.RF (EPT violation outside event delivery saves RF = 1)", h->x.rflags,
			RFLAGS_RF, RFLAGS_RF);
}

static uint64_t mem_start(struct h_ctx *h, unsigned slot, const char *bytes, size_t n, uint64_t rbx)
{
	uint64_t rip = h_at(h, H_SLOT(slot), bytes, n);
	h_start(h, rip);
	SET(h, RAX, V_RAX);
	SET(h, RBX, rbx);
	return rip;
}

static void ept_read_unmapped(struct h_ctx *h)
{
	uint64_t rip = mem_start(h, 0, "\x8b\x03", 2, 0x400010);
	h_run(h);
	expect_ept(h, rip, EPTQ_R | EPTQ_GLA | EPTQ_FINAL, 0x400010, 0x400010);
	EXPECT_REG(h, RAX, V_RAX);
}

static void ept_write_unmapped(struct h_ctx *h)
{
	uint64_t rip = mem_start(h, 1, "\x89\x03", 2, 0x400020);
	h_run(h);
	expect_ept(h, rip, EPTQ_W | EPTQ_GLA | EPTQ_FINAL, 0x400020, 0x400020);
}

static void ept_fetch_unmapped(struct h_ctx *h)
{
	mem_start(h, 2, "\xff\xe3", 2, 0x400000);
	h_run(h);
	/* The JMP completed; the fetch at its target faulted: RIP = the target. */
	expect_ept(h, 0x400000, EPTQ_X | EPTQ_GLA | EPTQ_FINAL, 0x400000, 0x400000);
}

static void ept_write_readonly(struct h_ctx *h)
{
	if (!h_map(h, 0x300000, 0x1000, HV_MEMORY_READ))
		return;
	uint64_t rip = mem_start(h, 1, "\x89\x03", 2, 0x300010);
	h_run(h);
	expect_ept(h, rip, EPTQ_W | EPTQ_READABLE | EPTQ_GLA | EPTQ_FINAL, 0x300010, 0x300010);
}

static void ept_fetch_noexec(struct h_ctx *h)
{
	if (!h_map(h, 0x301000, 0x1000, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return;
	mem_start(h, 2, "\xff\xe3", 2, 0x301000);
	h_run(h);
	expect_ept(h, 0x301000, EPTQ_X | EPTQ_READABLE | EPTQ_WRITABLE | EPTQ_GLA | EPTQ_FINAL, 0x301000, 0x301000);
}

/*
 * EPT misconfiguration: hv_vm_map with write but not read permission gives an EPT entry with bit 1 set and bit 0
 * clear, which SDM 28.2.3.1 calls misconfigured. Fault-like; qualification not defined (0); the GPA is the exact
 * address; the guest-linear address is undefined (not compared).
 */
static void ept_misconfig_write_only(struct h_ctx *h)
{
	if (!h_map(h, 0x302000, 0x1000, HV_MEMORY_WRITE))
		return;
	uint64_t rip = mem_start(h, 0, "\x8b\x03", 2, 0x302010);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EPT_MISCONFIG))
		return;
	h_expect(h, "exit qualification (not defined: 0)", h->x.qual, 0);
	h_expect(h, "guest-physical address", h->x.gpa, 0x302010);
	h_expect(h, "guest RIP (the access did not happen)", h->x.rip, rip);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, INTR_VALID);
	EXPECT_REG(h, RAX, V_RAX);
}

static void ept_paging_structure(struct h_ctx *h)
{
	/* Linear 0x600000..0x7fffff now walks through a page table at unmapped GPA 0x500000. */
	uint64_t pde = 0x500000 | 3;
	memcpy(h->mem + H_PD0 + 3 * 8, &pde, 8);
	uint64_t rip = mem_start(h, 0, "\x8b\x03", 2, 0x600000);
	h_run(h);
	/* A read of a guest paging-structure entry: GLA valid, not the final translation; GPA = the PTE's address. */
	expect_ept(h, rip, EPTQ_R | EPTQ_GLA, 0x500000, 0x600000);
}

/* An exception whose IDT lies in unmapped guest-physical memory: the EPT violation happens during event delivery. */
static void ept_during_delivery(struct h_ctx *h, unsigned slot, const char *bytes, size_t n, unsigned vector,
				uint32_t idt_info, uint64_t len, uint64_t rf)
{
	uint64_t rip = h_at(h, H_SLOT(slot), bytes, n);
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_IDTR_BASE, 0x400000);
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EPT_VIOLATION))
		return;
	uint64_t gate = 0x400000 + 16ull * vector;
	h_expect_masked(h, "exit qualification (data read of the IDT gate)", h->x.qual, EPTQ_R | EPTQ_GLA | EPTQ_FINAL,
			EPTQ_MASK & ~0x1000ull); /* bit 12 is undefined when IDT-vectoring is valid */
	h_expect(h, "guest-physical address (the gate)", h->x.gpa, gate);
	h_expect(h, "guest-linear address (the gate)", h->x.gla, gate);
	h_expect(h, "IDT-vectoring information (the event being delivered)", h->x.idt, idt_info);
	h_expect(h, "guest RIP (the event's return address)", h->x.rip, rip);
	h_expect(h, "VM-exit instruction length", h->x.len, len);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "guest RFLAGS.RF (as in the image the delivery would push)", h->x.rflags, rf, RFLAGS_RF);
}

static void ept_idt_ud(struct h_ctx *h)
{
	/* #UD is a fault: the pushed RF is 1; hardware exception: instruction length undefined (hvx: 0). */
	ept_during_delivery(h, 0, "\x0f\x0b", 2, 6, INTR_VALID | INTR_HW_EXC | 6, 0, RFLAGS_RF);
}

static void ept_idt_int3(struct h_ctx *h)
{
	/* A fault while delivering a software exception: the length of the INT3 is reported; RF as pushed (0). */
	ept_during_delivery(h, 1, "\xcc", 1, 3, INTR_VALID | INTR_SW_EXC | 3, 1, 0);
}

/* ------------------------------------------------------------------ APIC page */

#define APIC_GPA 0xfee00000ull

static bool apic_setup(struct h_ctx *h)
{
	if (!h_map(h, APIC_GPA, 0x1000, HV_MEMORY_READ | HV_MEMORY_WRITE))
		return false;
	hv_return_t r = hv_vmx_vcpu_set_apic_address(h->vcpu, APIC_GPA);
	if (r != HV_SUCCESS) {
		h_decline(h, "hv_vmx_vcpu_set_apic_address returned 0x%x", (unsigned)r);
		return false;
	}
	return true;
}

static void expect_apic_access(struct h_ctx *h, uint64_t rip, uint64_t qual)
{
	if (!h_expect_reason(h, VMX_REASON_APIC_ACCESS))
		return;
	h_expect(h, "exit qualification (offset 11:0, access type 15:12)", h->x.qual, qual);
	h_expect(h, "guest RIP (fault-like)", h->x.rip, rip);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, INTR_VALID);
	h_expect_masked(h, "guest RFLAGS.RF (APIC access outside event delivery saves RF = 1)", h->x.rflags,
			RFLAGS_RF, RFLAGS_RF);
	EXPECT_REG(h, RAX, V_RAX);
}

static void apic_read(struct h_ctx *h)
{
	if (!apic_setup(h))
		return;
	uint64_t rip = mem_start(h, 0, "\x8b\x03", 2, APIC_GPA + 0x30);
	h->gla_defined = true;
	h_run(h);
	expect_apic_access(h, rip, 0x030 | (0u << 12)); /* linear data read */
}

static void apic_write(struct h_ctx *h)
{
	if (!apic_setup(h))
		return;
	uint64_t rip = mem_start(h, 1, "\x89\x03", 2, APIC_GPA + 0x80);
	h->gla_defined = true;
	h_run(h);
	expect_apic_access(h, rip, 0x080 | (1u << 12)); /* linear data write */
}

static void trap_exit(struct h_ctx *h, uint32_t reason, uint64_t rip, uint64_t qual)
{
	if (!h_expect_reason(h, reason))
		return;
	h_expect(h, "exit qualification", h->x.qual, qual);
	h_expect(h, "guest RIP (trap-like: next instruction)", h->x.rip, rip);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, INTR_VALID);
}

/* Which APIC registers cause APIC-write exits under APIC-register virtualization follows Bochs (spec 6.56, UNCONFIRMED list);
 * LDR (0xd0) is in every version of the list. */
static void apic_write_ldr(struct h_ctx *h)
{
	if (!apic_setup(h))
		return;
	uint64_t rip = mem_start(h, 1, "\x89\x03", 2, APIC_GPA + 0xd0);
	SET(h, RAX, 0x01000000);
	h->gla_defined = true;
	h_run(h);
	trap_exit(h, VMX_REASON_APIC_WRITE, rip + 2, 0xd0);
}

static void virtualized_eoi(struct h_ctx *h)
{
	if (!apic_setup(h))
		return;
	uint64_t handler = AT(h, H_SLOT(3), "\xc7\x03\x00\x00\x00\x00");
	uint64_t rip = mem_start(h, 4, "\xfb\xeb\xfe", 3, APIC_GPA + 0xb0);
	h_idt_gate64(h, 0x40, handler);
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	SET(h, RFLAGS, 0x202);
	h_set_vmcs(h, VMCS_GUEST_INT_STATUS, 0x0040);        /* RVI 0x40, SVI 0: vector 0x40 is delivered at entry */
	h_set_vmcs(h, VMCS_CTRL_EOI_EXIT_BITMAP_1, 1);        /* vector 64 */
	h->gla_defined = true;
	h_run(h);
	(void)rip;
	trap_exit(h, VMX_REASON_VIRTUALIZED_EOI, handler + 6, 0x40);
}

/* ------------------------------------------------------------------ PML_FULL */

/* Assumes a fresh mapping starts clean in the framework's EPT (dirty flag 0), so the first write needs a log entry. */
static void pml_full(struct h_ctx *h)
{
	uint64_t rip = mem_start(h, 1, "\x89\x03", 2, H_DATA + 0x100);
	h_set_vmcs(h, VMCS_GUESTPML_INDEX, 0xffff);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_PML_FULL))
		return;
	h_expect_masked(h, "exit qualification (only bit 12 is defined)", h->x.qual, 0, 0x1000);
	h_expect(h, "guest RIP (the write did not happen)", h->x.rip, rip);
	uint32_t word;
	memcpy(&word, h->mem + H_DATA + 0x100, 4);
	h_expect(h, "memory unchanged", word, 0);
}

/* ------------------------------------------------------------------ the table */

const struct conf_case conf_cases_mem[] = {
	{"IO", "out_imm8_byte_exits", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0, out_imm8, NULL},
	{"IO", "in_dx_word_exits", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0, in_dx_word, NULL},
	{"IO", "out_dx_dword_exits", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0, out_dx_dword, NULL},
	{"IO", "in_imm8_byte_exits", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0, in_imm8_byte, NULL},
	{"IO", "rep_outsb_exits_before_first_iteration", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0, rep_outsb_long,
	 NULL},
	{"IO", "rep_insw_exits_with_es_rdi_linear_address", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0,
	 rep_insw_long, NULL},
	{"IO", "out_dx_word_exits", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0, out_dx_word, NULL},
	{"IO", "in_imm8_dword_exits", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0, in_imm8_dword, NULL},
	{"IO", "rep_insb_32bit_address_size_in_64bit_mode", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0,
	 a32_rep_insb_long, NULL},
	{"IO", "outsd_fs_override_reports_segment", "io_long", H_LONG64, CTL(.proc = IOX), {0}, 0, fs_outsd_long, NULL},
	{"IO", "out_imm8_exits_in_real_mode", "real", H_REAL, CTL(.proc = IOX), {0}, 0, out_imm8_real, NULL},
	{"IO", "in_dx_exits_in_real_mode", "real", H_REAL, CTL(.proc = IOX), {0}, 0, in_dx_real, NULL},
	{"IO", "rep_outsb_16bit_addressing_in_real_mode", "real", H_REAL, CTL(.proc = IOX), {0}, 0, rep_outsb_real,
	 NULL},
	{"IO", "outsd_fs_override_32bit_addressing", "prot32", H_PROT32, CTL(.proc = IOX), {0}, 0, fs_outsd_prot32,
	 NULL},
	{"EPT_VIOLATION", "read_of_unmapped_gpa_exits", "mem_long", H_LONG64, {0}, {0}, 0, ept_read_unmapped, NULL},
	{"EPT_VIOLATION", "write_to_unmapped_gpa_exits", "mem_long", H_LONG64, {0}, {0}, 0, ept_write_unmapped, NULL},
	{"EPT_VIOLATION", "fetch_from_unmapped_gpa_exits", "mem_long", H_LONG64, {0}, {0}, 0, ept_fetch_unmapped, NULL},
	{"EPT_VIOLATION", "write_to_read_only_page_exits_readable", "mem_long", H_LONG64, {0}, {0}, 0,
	 ept_write_readonly, NULL},
	{"EPT_VIOLATION", "fetch_from_non_executable_page_exits", "mem_long", H_LONG64, {0}, {0}, C_KVM_NO_EXEC,
	 ept_fetch_noexec,
	 NULL},
	{"EPT_VIOLATION", "guest_page_table_in_unmapped_gpa_exits", "mem_long", H_LONG64, {0}, {0}, 0,
	 ept_paging_structure, NULL},
	{"EPT_VIOLATION", "idt_in_unmapped_gpa_exits_with_idt_vectoring", "exc_long", H_LONG64, {0}, {0}, 0,
	 ept_idt_ud, NULL},
	{"EPT_VIOLATION", "int3_delivery_fault_reports_instruction_length", "exc_long", H_LONG64, {0}, {0}, 0,
	 ept_idt_int3, NULL},
	{"EPT_MISCONFIG", "write_only_mapping_is_misconfigured", "mem_long", H_LONG64, {0}, {0}, 0,
	 ept_misconfig_write_only, NULL},
	{"APIC_ACCESS", "read_of_apic_page_exits_with_offset", "mem_long", H_LONG64,
	 CTL(.proc2 = CPU_BASED2_VIRTUAL_APIC, .proc_off = CPU_BASED_TPR_SHADOW), {0}, 0, apic_read, NULL},
	{"APIC_ACCESS", "write_of_apic_page_exits_with_offset", "mem_long", H_LONG64,
	 CTL(.proc2 = CPU_BASED2_VIRTUAL_APIC, .proc_off = CPU_BASED_TPR_SHADOW), {0}, 0, apic_write, NULL},
	{"APIC_WRITE", "ldr_write_exits_trap_like", "mem_long", H_LONG64,
	 CTL(.proc = CPU_BASED_TPR_SHADOW, .proc2 = CPU_BASED2_VIRTUAL_APIC | CPU_BASED2_APIC_REG_VIRT), {0}, 0,
	 apic_write_ldr, NULL},
	{"VIRTUALIZED_EOI", "eoi_of_bitmap_vector_exits_trap_like", "mem_long", H_LONG64,
	 CTL(.pin = PIN_BASED_INTR, .proc = CPU_BASED_TPR_SHADOW,
	     .proc2 = CPU_BASED2_VIRTUAL_APIC | CPU_BASED2_VIRT_INTR_DELIVERY),
	 {0}, 0, virtualized_eoi, NULL},
	{"PML_FULL", "write_with_full_log_exits", "mem_long", H_LONG64, CTL(.proc2 = CPU_BASED2_PML | CPU_BASED2_EPT),
	 {0}, 0, pml_full, NULL},
	{NULL, NULL, NULL, 0, {0}, {0}, 0, NULL, NULL},
};
