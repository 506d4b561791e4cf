/* tests/headers/constants_test.c: checks every constant of constants_expected.inc against include/Hypervisor (value, sign, macro-or-enumerator form), plus counts, encodings and hv_intr.h layout; builds as C and C++. */
#include <Hypervisor/Hypervisor.h>
#include <Hypervisor/hv.h>
#include <Hypervisor/hv_arch_vmx.h>
#include <Hypervisor/hv_arch_x86.h>
#include <Hypervisor/hv_error.h>
#include <Hypervisor/hv_intr.h>
#include <Hypervisor/hv_types.h>
#include <Hypervisor/hv_vm_allocate.h>
#include <Hypervisor/hv_vmx.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* STR(x) expands x first: for a macro it yields the macro's body, for an enumerator its own name. */
#define STR_(x) #x
#define STR(x) STR_(x)

enum kind { K_ENUM, K_MACRO, K_VMCS };
enum { W16, W64, W32, WNAT };             /* VMCS encoding bits 14:13 (spec 3.1) */
enum { CTRL, RO, GUEST, HOST };           /* VMCS encoding bits 11:10 (spec 3.1) */

struct expected {
	const char *name;        /* spelling in the table */
	const char *expansion;   /* spelling after macro expansion */
	enum kind kind;
	unsigned long long got, want;
	int got_neg, want_neg;   /* sign of the header's value and of the spec's value */
	int width, type, index;  /* K_VMCS only: the spec's decoded columns */
};

/* #name must be taken before the argument is macro-expanded, so each entry macro stringifies itself. */
#define ROW(k, str, expansion, name, value, w, t, i)                                   \
	{ str, expansion, k, (unsigned long long)(name), (unsigned long long)(value), \
	  (long long)(name) < 0, (long long)(value) < 0, w, t, i },
#define EXPECT(hdr, name, value) ROW(K_ENUM, #name, STR(name), name, value, 0, 0, 0)
#define EXPECT_MACRO(hdr, name, value) ROW(K_MACRO, #name, STR(name), name, value, 0, 0, 0)
#define EXPECT_VMCS(name, enc, w, t, i) ROW(K_VMCS, #name, STR(name), name, enc, w, t, i)
static const struct expected table[] = {
#include "constants_expected.inc"
};
#undef EXPECT
#undef EXPECT_MACRO
#undef EXPECT_VMCS
#define N_TABLE (sizeof table / sizeof table[0])

static int failures;

#define CHECK(cond, ...)                                        \
	do {                                                    \
		if (!(cond)) {                                  \
			failures++;                             \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                    \
			printf("\n");                           \
		}                                               \
	} while (0)

static int has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static const struct expected *find(const char *name)
{
	for (size_t i = 0; i < N_TABLE; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

static void check_values_and_form(void)
{
	for (size_t i = 0; i < N_TABLE; i++) {
		const struct expected *e = &table[i];
		CHECK(e->got == e->want && e->got_neg == e->want_neg,
		      "%s = %#llx%s in the header, spec says %#llx%s", e->name, e->got,
		      e->got_neg ? " (negative)" : "", e->want, e->want_neg ? " (negative)" : "");
		if (e->kind == K_MACRO)
			CHECK(strcmp(e->name, e->expansion) != 0, "%s must be a #define (spec 0.2)", e->name);
		else
			CHECK(strcmp(e->name, e->expansion) == 0,
			      "%s must be an enumerator, but is a macro expanding to '%s' (spec 0.2)", e->name,
			      e->expansion);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(e->name, table[j].name) != 0, "%s listed twice in the table", e->name);
	}
}

/* Spec 3.1: bit 0 access type (Apple only uses full = 0), 9:1 index, 11:10 type, 12 and 31:15 zero, 14:13 width. */
static void check_vmcs_encodings(void)
{
	unsigned n = 0;
	for (size_t i = 0; i < N_TABLE; i++) {
		const struct expected *e = &table[i];
		if (e->kind != K_VMCS)
			continue;
		n++;
		unsigned long long v = e->got;
		CHECK((v & 1) == 0, "%s: Apple defines only even (full) encodings", e->name);
		CHECK((v & ~0x6fffull) == 0, "%s: reserved bits set in %#llx", e->name, v);
		CHECK(((v >> 1) & 0x1ff) == (unsigned)e->index, "%s: index %llu, spec %d", e->name, (v >> 1) & 0x1ff,
		      e->index);
		CHECK(((v >> 10) & 3) == (unsigned)e->type, "%s: type %llu, spec %d", e->name, (v >> 10) & 3, e->type);
		CHECK(((v >> 13) & 3) == (unsigned)e->width, "%s: width %llu, spec %d", e->name, (v >> 13) & 3,
		      e->width);
		CHECK(v < (unsigned long long)VMCS_MAX, "%s: %#llx not below VMCS_MAX", e->name, v);
		for (size_t j = 0; j < i; j++) {
			if (table[j].kind != K_VMCS || table[j].got != v)
				continue;
			/* the only alias Apple has: 0x4824 under its 10.x and 11.0 names */
			CHECK(strcmp(e->name, "VMCS_GUEST_IGNORE_IRQ") == 0 &&
			              strcmp(table[j].name, "VMCS_GUEST_INTERRUPTIBILITY") == 0,
			      "%s and %s share encoding %#llx", table[j].name, e->name, v);
		}
	}
	CHECK(n == 167, "%u VMCS field names in the table, spec 3.2 lists 167", n);
	CHECK(VMCS_GUEST_IGNORE_IRQ == VMCS_GUEST_INTERRUPTIBILITY, "alias broken");
	CHECK(VMCS_INVALID == VMCS_MAX, "VMCS_INVALID != VMCS_MAX");
	CHECK(__VMCS_HOST_RSP == VMCS_HOST_RSP, "__VMCS_HOST_RSP != VMCS_HOST_RSP");
}

static unsigned count_prefix(const char *prefix, enum kind kind)
{
	unsigned n = 0;
	for (size_t i = 0; i < N_TABLE; i++)
		n += table[i].kind == kind && has_prefix(table[i].name, prefix);
	return n;
}

static void check_reasons(void)
{
	unsigned n = 0;
	unsigned long long prev = 0;
	unsigned char seen[69] = { 0 };
	for (size_t i = 0; i < N_TABLE; i++) {
		if (!has_prefix(table[i].name, "VMX_REASON_"))
			continue;
		CHECK(n == 0 || table[i].got > prev, "%s out of order", table[i].name);
		CHECK(table[i].got <= 68, "%s = %llu above 68", table[i].name, table[i].got);
		if (table[i].got <= 68)
			seen[table[i].got] = 1;
		prev = table[i].got;
		n++;
	}
	CHECK(n == 65, "%u VMX_REASON_ names, spec 4.6 has 65", n);
	for (unsigned r = 0; r <= 68; r++) {
		int hole = r == 35 || r == 38 || r == 42 || r == 65;
		CHECK(seen[r] != hole, "exit reason %u: %s", r, hole ? "must be undefined" : "has no name");
	}
}

static void check_registers(void)
{
	unsigned n = 0;
	for (size_t i = 0; i < N_TABLE; i++) {
		const struct expected *e = &table[i];
		if (e->kind == K_ENUM && has_prefix(e->name, "HV_X86_")) {
			CHECK(e->got == n, "%s = %llu, expected %u (registers are numbered in order)", e->name,
			      e->got, n);
			n++;
			char macro[64];
			snprintf(macro, sizeof macro, "__%s", e->name);
			const struct expected *m = find(macro);
			CHECK(m && m->kind == K_MACRO && m->got == e->got, "%s has no matching %s macro", e->name,
			      macro);
		}
	}
	CHECK(n == 52, "%u HV_X86_ names, spec 1.14 has 51 registers + HV_X86_REGISTERS_MAX", n);
	CHECK(count_prefix("__HV_X86_", K_MACRO) == 52, "__HV_X86_ macro count");
	CHECK(HV_X86_REGISTERS_MAX == 51, "HV_X86_REGISTERS_MAX");
	/* QEMU reads R8..R15 as HV_X86_RAX + i (spec 5) */
	hv_x86_reg_t r = (hv_x86_reg_t)(HV_X86_RAX + 8);
	CHECK(r == HV_X86_R8, "HV_X86_RAX + 8 != HV_X86_R8");
	for (int i = 8; i < 16; i++)
		CHECK((int)HV_X86_RAX + i == (int)HV_X86_R8 + (i - 8), "HV_X86_RAX + %d", i);
	CHECK((int)HV_X86_R15 == (int)HV_X86_RAX + 15, "HV_X86_R15");
}

static int is_single_bit(unsigned long long v) { return v && !(v & (v - 1)); }

static void check_control_bits(void)
{
	static const char *const groups[] = { "PIN_BASED_", "CPU_BASED_", "CPU_BASED2_", "VMEXIT_", "VMENTRY_",
		                              "VMX_EPT_VPID_", "HV_MEMORY_", "HV_VM_MITIGATION_", "GUEST_INTRBILITY_" };
	for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
		unsigned long long all = 0;
		for (size_t i = 0; i < N_TABLE; i++) {
			const struct expected *e = &table[i];
			if (!has_prefix(e->name, groups[g]))
				continue;
			CHECK(is_single_bit(e->got), "%s = %#llx is not a single bit", e->name, e->got);
			if (strcmp(e->name, "CPU_BASED2_DESCR_TABLE_EXIT") != 0)
				CHECK(!(all & e->got), "%s reuses a bit of its group", e->name);
			all |= e->got;
			CHECK(e->got <= 0xffffffffull || strcmp(groups[g], "GUEST_INTRBILITY_") == 0 ||
			              strcmp(groups[g], "HV_MEMORY_") == 0 || strcmp(groups[g], "HV_VM_MITIGATION_") == 0,
			      "%s does not fit a 32-bit control word", e->name);
		}
	}
	CHECK(CPU_BASED2_DESCR_TABLE_EXIT == CPU_BASED2_DESC_TABLE, "10.10 spelling differs");
	CHECK(count_prefix("PIN_BASED_", K_ENUM) == 5, "PIN_BASED_ count");
	CHECK(count_prefix("CPU_BASED_", K_ENUM) == 21, "CPU_BASED_ count");
	CHECK(count_prefix("CPU_BASED2_", K_ENUM) == 28, "CPU_BASED2_ count (27 + 10.10 spelling)");
	CHECK(count_prefix("VMEXIT_", K_ENUM) == 14, "VMEXIT_ count");
	CHECK(count_prefix("VMENTRY_", K_ENUM) == 12, "VMENTRY_ count");
	CHECK(count_prefix("IRQ_INFO_", K_ENUM) == 10, "IRQ_INFO_ count");
	CHECK(count_prefix("GUEST_INTRBILITY_", K_MACRO) == 4, "GUEST_INTRBILITY_ count");
	/* Apple's test recognises a #PF exit as (info & 0x800003ff) == 0x8000030e (spec 4.4) */
	CHECK((IRQ_INFO_VALID | IRQ_INFO_HARD_EXC | 14u) == 0x8000030eu, "IRQ_INFO composition");
	/* (1ull << n) definitions are 64-bit wide (spec 4.5, 4.1) */
	CHECK(sizeof(GUEST_INTRBILITY_STI_BLOCKING) == 8 && sizeof(GUEST_INTRBILITY_NMI_BLOCKING) == 8,
	      "GUEST_INTRBILITY_* are not 64-bit");
	CHECK(sizeof(VMX_BASIC_TRUE_CTLS) == 8, "VMX_BASIC_TRUE_CTLS is not 64-bit");
	CHECK(sizeof(HV_DEADLINE_FOREVER) == 8 && HV_DEADLINE_FOREVER == UINT64_MAX, "HV_DEADLINE_FOREVER");
}

static void check_msrs(void)
{
	CHECK(count_prefix("HV_MSR_", K_ENUM) == 49, "HV_MSR_ count: 46 MSR numbers + NONE/READ/WRITE");
	/* written as BASE + n in Apple's header (spec 4.7) */
	CHECK(HV_MSR_IA32_PMC7 == HV_MSR_IA32_PMC0 + 7, "PMC7");
	CHECK(HV_MSR_IA32_PERFEVNTSEL7 == HV_MSR_IA32_PERFEVNTSEL0 + 7, "PERFEVNTSEL7");
	CHECK(HV_MSR_IA32_A_PMC7 == HV_MSR_IA32_A_PMC0 + 7, "A_PMC7");
	CHECK(HV_MSR_LASTBRANCH_31_FROM_IP == HV_MSR_LASTBRANCH_0_FROM_IP + 31, "LASTBRANCH_31_FROM_IP");
	CHECK(HV_MSR_LASTBRANCH_31_TO_IP == HV_MSR_LASTBRANCH_0_TO_IP + 31, "LASTBRANCH_31_TO_IP");
	CHECK(HV_MSR_LASTBRANCH_INFO_31 == HV_MSR_LASTBRANCH_INFO_0 + 31, "LASTBRANCH_INFO_31");
}

/* Spec 1.1: hv_return_t is a signed 32-bit int holding the 0xfae940xx patterns; clients compare and print them. */
static void check_return_codes(void)
{
	hv_return_t ret = HV_ERROR;
	CHECK(ret == HV_ERROR, "ret == HV_ERROR is false for ret = HV_ERROR");
	CHECK(ret != HV_SUCCESS && ret != HV_BUSY, "HV_ERROR compares equal to another code");
	CHECK(ret == -85377023, "hv_return_t holding HV_ERROR is %d, spec says -85377023", (int)ret);
	CHECK((uint32_t)ret == 0xfae94001u, "HV_ERROR pattern %#x", (unsigned)(uint32_t)ret);
	char buf[32];
	snprintf(buf, sizeof buf, "%x", (unsigned)HV_UNSUPPORTED);
	CHECK(strcmp(buf, "fae9400f") == 0, "%%x of HV_UNSUPPORTED prints %s", buf);
	CHECK((err_common_hypervisor | 0x01) == HV_ERROR, "err_common_hypervisor | 1 != HV_ERROR");
	CHECK(count_prefix("HV_", K_ENUM) > 0, "no HV_ names");
}

/* Spec 1.15: hv_intr.h members in Apple's order with Apple's widths. */
#define LAYOUT(type, member, size, prev)                                                                \
	do {                                                                                            \
		size_t off_ = offsetof(type, member);                                                   \
		CHECK(sizeof(((type *)0)->member) == (size), #type "." #member " has size %zu, want %zu", \
		      sizeof(((type *)0)->member), (size_t)(size));                                     \
		CHECK(off_ >= (prev), #type "." #member " at %zu, not after the previous member", off_);  \
		prev = off_ + sizeof(((type *)0)->member);                                             \
	} while (0)

static void check_intr_layout(void)
{
	size_t p = 0;
	LAYOUT(struct hv_apic_state, apic_gpa, 8, p);
	LAYOUT(struct hv_apic_state, apic_controls, 8, p);
	LAYOUT(struct hv_apic_state, tsc_deadline, 8, p);
	LAYOUT(struct hv_apic_state, apic_id, 4, p);
	LAYOUT(struct hv_apic_state, ver, 4, p);
	LAYOUT(struct hv_apic_state, tpr, 4, p);
	LAYOUT(struct hv_apic_state, apr, 4, p);
	LAYOUT(struct hv_apic_state, ldr, 4, p);
	LAYOUT(struct hv_apic_state, dfr, 4, p);
	LAYOUT(struct hv_apic_state, svr, 4, p);
	LAYOUT(struct hv_apic_state, isr, 32, p);
	LAYOUT(struct hv_apic_state, tmr, 32, p);
	LAYOUT(struct hv_apic_state, irr, 32, p);
	LAYOUT(struct hv_apic_state, esr, 4, p);
	LAYOUT(struct hv_apic_state, lvt, 28, p);
	LAYOUT(struct hv_apic_state, icr, 8, p);
	LAYOUT(struct hv_apic_state, icr_timer, 4, p);
	LAYOUT(struct hv_apic_state, dcr_timer, 4, p);
	LAYOUT(struct hv_apic_state, ccr_timer, 4, p);
	LAYOUT(struct hv_apic_state, esr_pending, 4, p);
	LAYOUT(struct hv_apic_state, boot_state, 4, p);
	LAYOUT(struct hv_apic_state, aeoi, 32, p);
	p = 0;
	LAYOUT(hv_apic_state_ext_t, version, 4, p);
	LAYOUT(hv_apic_state_ext_t, state, sizeof(struct hv_apic_state), p);

	p = 0;
	LAYOUT(struct hv_atpic_state, ready, sizeof(bool), p);
	LAYOUT(struct hv_atpic_state, icw_num, 1, p);
	LAYOUT(struct hv_atpic_state, rd_cmd_reg, 1, p);
	LAYOUT(struct hv_atpic_state, aeoi, sizeof(bool), p);
	LAYOUT(struct hv_atpic_state, poll, sizeof(bool), p);
	LAYOUT(struct hv_atpic_state, rotate, sizeof(bool), p);
	LAYOUT(struct hv_atpic_state, sfn, sizeof(bool), p);
	LAYOUT(struct hv_atpic_state, irq_base, 1, p);
	LAYOUT(struct hv_atpic_state, request, 1, p);
	LAYOUT(struct hv_atpic_state, service, 1, p);
	LAYOUT(struct hv_atpic_state, mask, 1, p);
	LAYOUT(struct hv_atpic_state, smm, sizeof(bool), p);
	LAYOUT(struct hv_atpic_state, last_request, 1, p);
	LAYOUT(struct hv_atpic_state, lowprio, 1, p);
	LAYOUT(struct hv_atpic_state, intr_raised, sizeof(bool), p);
	LAYOUT(struct hv_atpic_state, elc, 1, p);
	p = 0;
	LAYOUT(hv_atpic_state_ext_t, version, 4, p);
	LAYOUT(hv_atpic_state_ext_t, state, sizeof(struct hv_atpic_state), p);

	p = 0;
	LAYOUT(struct hv_ioapic_state, rtbl, 32 * 8, p);
	LAYOUT(struct hv_ioapic_state, irr, 4, p);
	LAYOUT(struct hv_ioapic_state, ioa_id, 4, p);
	LAYOUT(struct hv_ioapic_state, ioregsel, 4, p);
	p = 0;
	LAYOUT(hv_ioapic_state_ext_t, version, 4, p);
	LAYOUT(hv_ioapic_state_ext_t, state, sizeof(struct hv_ioapic_state), p);
	(void)p;

	/* spec 1.12: notifier message carries addr, size, value between header and trailer */
	p = 0;
	LAYOUT(hv_ion_message_t, header, sizeof(mach_msg_header_t), p);
	LAYOUT(hv_ion_message_t, addr, 8, p);
	LAYOUT(hv_ion_message_t, size, 8, p);
	LAYOUT(hv_ion_message_t, value, 8, p);
	LAYOUT(hv_ion_message_t, trailer, sizeof(mach_msg_trailer_t), p);
	(void)p;
}

/* Spec 1.2: scalar typedef widths and signedness (exact types are checked at compile time in types_test.c). */
static void check_scalar_types(void)
{
	CHECK(sizeof(hv_return_t) == 4 && (hv_return_t)-1 < 0, "hv_return_t is not a signed 32-bit int");
	CHECK(sizeof(hv_vcpuid_t) == sizeof(unsigned) && (hv_vcpuid_t)-1 > 0, "hv_vcpuid_t");
	CHECK(sizeof(hv_gpaddr_t) == 8 && (hv_gpaddr_t)-1 > 0, "hv_gpaddr_t");
	CHECK(sizeof(hv_uvaddr_t) == sizeof(void *), "hv_uvaddr_t");
	CHECK(sizeof(hv_vm_space_t) == sizeof(unsigned) && (hv_vm_space_t)-1 > 0, "hv_vm_space_t");
	CHECK(sizeof(hv_msr_flags_t) == 4 && (hv_msr_flags_t)-1 > 0, "hv_msr_flags_t");
	CHECK(sizeof(hv_ion_flags_t) == 4 && (hv_ion_flags_t)-1 > 0, "hv_ion_flags_t");
	CHECK(sizeof(hv_vmx_msr_info_t) == 8 && (hv_vmx_msr_info_t)-1 > 0, "hv_vmx_msr_info_t");
	CHECK(sizeof(hv_shadow_flags_t) == 8 && (hv_shadow_flags_t)-1 > 0, "hv_shadow_flags_t");
	CHECK(sizeof(hv_vm_options_t) == 8 && sizeof(hv_vcpu_options_t) == 8 && sizeof(hv_memory_flags_t) == 8 &&
	              sizeof(hv_capability_t) == 8 && sizeof(hv_allocate_flags_t) == 8,
	      "64-bit option types");
	CHECK(sizeof(hv_vm_exitinfo_t) == 4 && sizeof(hv_apic_ctrl_t) == 8 && sizeof(hv_apic_lvt_flavor_t) == 4 &&
	              sizeof(hv_apic_intr_trigger_t) == 4,
	      "12.0 APIC option types");
}

int main(void)
{
	check_values_and_form();
	check_vmcs_encodings();
	check_reasons();
	check_registers();
	check_control_bits();
	check_msrs();
	check_return_codes();
	check_intr_layout();
	check_scalar_types();
	printf("%zu constants checked (%u enumerators, %u macros, %u VMCS fields; %u VMX_REASON_, %u HV_X86_); "
	       "%d failure(s)\n",
	       (size_t)N_TABLE, count_prefix("", K_ENUM), count_prefix("", K_MACRO), count_prefix("", K_VMCS),
	       count_prefix("VMX_REASON_", K_ENUM), count_prefix("HV_X86_", K_ENUM), failures);
	return failures ? 1 : 0;
}
