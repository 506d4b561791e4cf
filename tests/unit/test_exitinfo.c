/* test_exitinfo.c: unit tests of the exit-information library: table, every qualification and instruction-information layout, text and JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <hvx/hvx_exit.h>

#include "exitinfo/strbuf.h"

/* ------------------------------------------------------------ table */

/* Transcribed independently from spec/hvf-x86-api.md section 4.6 (Apple's VMX_REASON_* names and values). */
static const struct {
	unsigned number;
	const char *name;
} apple_reasons[] = {
	{0, "VMX_REASON_EXC_NMI"}, {1, "VMX_REASON_IRQ"}, {2, "VMX_REASON_TRIPLE_FAULT"},
	{3, "VMX_REASON_INIT"}, {4, "VMX_REASON_SIPI"}, {5, "VMX_REASON_IO_SMI"},
	{6, "VMX_REASON_OTHER_SMI"}, {7, "VMX_REASON_IRQ_WND"}, {8, "VMX_REASON_VIRTUAL_NMI_WND"},
	{9, "VMX_REASON_TASK"}, {10, "VMX_REASON_CPUID"}, {11, "VMX_REASON_GETSEC"},
	{12, "VMX_REASON_HLT"}, {13, "VMX_REASON_INVD"}, {14, "VMX_REASON_INVLPG"},
	{15, "VMX_REASON_RDPMC"}, {16, "VMX_REASON_RDTSC"}, {17, "VMX_REASON_RSM"},
	{18, "VMX_REASON_VMCALL"}, {19, "VMX_REASON_VMCLEAR"}, {20, "VMX_REASON_VMLAUNCH"},
	{21, "VMX_REASON_VMPTRLD"}, {22, "VMX_REASON_VMPTRST"}, {23, "VMX_REASON_VMREAD"},
	{24, "VMX_REASON_VMRESUME"}, {25, "VMX_REASON_VMWRITE"}, {26, "VMX_REASON_VMOFF"},
	{27, "VMX_REASON_VMON"}, {28, "VMX_REASON_MOV_CR"}, {29, "VMX_REASON_MOV_DR"},
	{30, "VMX_REASON_IO"}, {31, "VMX_REASON_RDMSR"}, {32, "VMX_REASON_WRMSR"},
	{33, "VMX_REASON_VMENTRY_GUEST"}, {34, "VMX_REASON_VMENTRY_MSR"}, {36, "VMX_REASON_MWAIT"},
	{37, "VMX_REASON_MTF"}, {39, "VMX_REASON_MONITOR"}, {40, "VMX_REASON_PAUSE"},
	{41, "VMX_REASON_VMENTRY_MC"}, {43, "VMX_REASON_TPR_THRESHOLD"}, {44, "VMX_REASON_APIC_ACCESS"},
	{45, "VMX_REASON_VIRTUALIZED_EOI"}, {46, "VMX_REASON_GDTR_IDTR"}, {47, "VMX_REASON_LDTR_TR"},
	{48, "VMX_REASON_EPT_VIOLATION"}, {49, "VMX_REASON_EPT_MISCONFIG"}, {50, "VMX_REASON_EPT_INVEPT"},
	{51, "VMX_REASON_RDTSCP"}, {52, "VMX_REASON_VMX_TIMER_EXPIRED"}, {53, "VMX_REASON_INVVPID"},
	{54, "VMX_REASON_WBINVD"}, {55, "VMX_REASON_XSETBV"}, {56, "VMX_REASON_APIC_WRITE"},
	{57, "VMX_REASON_RDRAND"}, {58, "VMX_REASON_INVPCID"}, {59, "VMX_REASON_VMFUNC"},
	{60, "VMX_REASON_ENCLS"}, {61, "VMX_REASON_RDSEED"}, {62, "VMX_REASON_PML_FULL"},
	{63, "VMX_REASON_XSAVES"}, {64, "VMX_REASON_XRSTORS"}, {66, "VMX_REASON_SPP_EVENT"},
	{67, "VMX_REASON_UMWAIT"}, {68, "VMX_REASON_TPAUSE"},
};
#define N_APPLE (sizeof apple_reasons / sizeof apple_reasons[0])

static void table_has_exactly_apples_65_names(void **state)
{
	(void)state;
	assert_int_equal(N_APPLE, 65);
	assert_int_equal(hvx_exit_reason_apple_count(), 65);
	bool named[HVX_EXIT_REASON_MAX + 1] = {false};
	for (size_t i = 0; i < N_APPLE; i++) {
		const struct hvx_exit_reason_info *r = hvx_exit_reason_lookup(apple_reasons[i].number);
		assert_non_null(r);
		assert_int_equal(r->number, apple_reasons[i].number);
		assert_non_null(r->apple_name);
		assert_string_equal(r->apple_name, apple_reasons[i].name);
		/* by full name, by short name, case-insensitive */
		assert_ptr_equal(hvx_exit_reason_by_name(apple_reasons[i].name), r);
		const char *shortname = apple_reasons[i].name + strlen("VMX_REASON_");
		assert_ptr_equal(hvx_exit_reason_by_name(shortname), r);
		assert_string_equal(hvx_exit_reason_short_name(r), shortname);
		named[apple_reasons[i].number] = true;
	}
	for (unsigned n = 0; n <= HVX_EXIT_REASON_MAX; n++)
		if (!named[n])
			assert_null(hvx_exit_reason_lookup(n)->apple_name);
	assert_ptr_equal(hvx_exit_reason_by_name("vmx_reason_io"), hvx_exit_reason_lookup(30));
	assert_ptr_equal(hvx_exit_reason_by_name("ept_violation"), hvx_exit_reason_lookup(48));
	assert_null(hvx_exit_reason_by_name("VMX_REASON_"));
	assert_null(hvx_exit_reason_by_name("IOX"));
	assert_null(hvx_exit_reason_by_name("PCONFIG")); /* not an Apple name */
	assert_null(hvx_exit_reason_by_name(""));
	assert_null(hvx_exit_reason_by_name(NULL));
}

static bool in_list(unsigned n, const unsigned *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (list[i] == n)
			return true;
	return false;
}

static void table_rows_are_complete_and_consistent(void **state)
{
	(void)state;
	assert_int_equal(hvx_exit_reason_count(), HVX_EXIT_REASON_MAX + 1);
	assert_int_equal(HVX_EXIT_REASON_MAX, 77);
	for (size_t i = 0; i < hvx_exit_reason_count(); i++) {
		const struct hvx_exit_reason_info *r = hvx_exit_reason_at(i);
		assert_non_null(r);
		assert_int_equal(r->number, i);
		assert_ptr_equal(hvx_exit_reason_lookup((unsigned)i), r);
		assert_non_null(r->intel_name);
		assert_non_null(r->cause);
		assert_non_null(r->control);
		assert_string_not_equal(hvx_exit_class_name(r->exit_class), "?");
		assert_string_not_equal(hvx_qual_format_name(r->qual_format), "?");
		assert_string_not_equal(hvx_instr_info_format_name(r->instr_info_format), "?");
	}
	assert_null(hvx_exit_reason_at(HVX_EXIT_REASON_MAX + 1));
	assert_null(hvx_exit_reason_lookup(HVX_EXIT_REASON_MAX + 1));
	assert_null(hvx_exit_reason_lookup(0xffff));
	assert_null(hvx_exit_reason_short_name(NULL));

	static const unsigned unused[] = {35, 38, 42};
	static const unsigned events[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 37, 52};
	static const unsigned traps[] = {43, 45, 56};
	static const unsigned entry[] = {33, 34, 41};
	for (unsigned n = 0; n <= 68; n++) {
		enum hvx_exit_class c = hvx_exit_reason_lookup(n)->exit_class;
		if (in_list(n, unused, 3))
			assert_int_equal(c, HVX_EXIT_CLASS_UNUSED);
		else if (in_list(n, events, 11))
			assert_int_equal(c, HVX_EXIT_CLASS_EVENT);
		else if (in_list(n, traps, 3))
			assert_int_equal(c, HVX_EXIT_CLASS_TRAP);
		else if (in_list(n, entry, 3))
			assert_int_equal(c, HVX_EXIT_CLASS_ENTRY_FAILURE);
		else
			assert_int_equal(c, HVX_EXIT_CLASS_FAULT);
	}
	/* Instruction-information layouts per spec table 1 "Info" column and section 3. */
	static const struct {
		unsigned n;
		enum hvx_instr_info_format f;
	} infos[] = {
		{19, HVX_INSTR_INFO_VMX_MEMORY}, {21, HVX_INSTR_INFO_VMX_MEMORY}, {22, HVX_INSTR_INFO_VMX_MEMORY},
		{27, HVX_INSTR_INFO_VMX_MEMORY}, {63, HVX_INSTR_INFO_VMX_MEMORY}, {64, HVX_INSTR_INFO_VMX_MEMORY},
		{23, HVX_INSTR_INFO_VMREAD_VMWRITE}, {25, HVX_INSTR_INFO_VMREAD_VMWRITE},
		{30, HVX_INSTR_INFO_INS_OUTS}, {46, HVX_INSTR_INFO_GDTR_IDTR}, {47, HVX_INSTR_INFO_LDTR_TR},
		{50, HVX_INSTR_INFO_INVALIDATION}, {53, HVX_INSTR_INFO_INVALIDATION}, {58, HVX_INSTR_INFO_INVALIDATION},
		{57, HVX_INSTR_INFO_RDRAND_RDSEED}, {61, HVX_INSTR_INFO_RDRAND_RDSEED},
		{67, HVX_INSTR_INFO_UMWAIT_TPAUSE}, {68, HVX_INSTR_INFO_UMWAIT_TPAUSE},
	};
	for (unsigned n = 0; n <= HVX_EXIT_REASON_MAX; n++) {
		enum hvx_instr_info_format want = HVX_INSTR_INFO_NONE;
		for (size_t i = 0; i < sizeof infos / sizeof infos[0]; i++)
			if (infos[i].n == n)
				want = infos[i].f;
		assert_int_equal(hvx_exit_reason_lookup(n)->instr_info_format, want);
	}
	/* Qualification layouts per spec table 1 "Q" column. */
	static const struct {
		unsigned n;
		enum hvx_qual_format f;
	} quals[] = {
		{0, HVX_QUAL_EXCEPTION}, {4, HVX_QUAL_SIPI}, {5, HVX_QUAL_IO}, {9, HVX_QUAL_TASK_SWITCH},
		{14, HVX_QUAL_LINEAR_ADDRESS}, {19, HVX_QUAL_DISPLACEMENT}, {21, HVX_QUAL_DISPLACEMENT},
		{22, HVX_QUAL_DISPLACEMENT}, {23, HVX_QUAL_DISPLACEMENT}, {25, HVX_QUAL_DISPLACEMENT},
		{27, HVX_QUAL_DISPLACEMENT}, {28, HVX_QUAL_CR_ACCESS}, {29, HVX_QUAL_DR_ACCESS}, {30, HVX_QUAL_IO},
		{33, HVX_QUAL_ENTRY_GUEST}, {34, HVX_QUAL_ENTRY_MSR}, {36, HVX_QUAL_MWAIT},
		{44, HVX_QUAL_APIC_ACCESS}, {45, HVX_QUAL_EOI}, {46, HVX_QUAL_DISPLACEMENT},
		{47, HVX_QUAL_DISPLACEMENT}, {48, HVX_QUAL_EPT_VIOLATION}, {50, HVX_QUAL_DISPLACEMENT},
		{53, HVX_QUAL_DISPLACEMENT}, {56, HVX_QUAL_APIC_WRITE}, {58, HVX_QUAL_DISPLACEMENT},
		{62, HVX_QUAL_PML_FULL}, {63, HVX_QUAL_DISPLACEMENT}, {64, HVX_QUAL_DISPLACEMENT}, {66, HVX_QUAL_SPP},
	};
	for (unsigned n = 0; n <= HVX_EXIT_REASON_MAX; n++) {
		enum hvx_qual_format want = HVX_QUAL_NONE;
		for (size_t i = 0; i < sizeof quals / sizeof quals[0]; i++)
			if (quals[i].n == n)
				want = quals[i].f;
		assert_int_equal(hvx_exit_reason_lookup(n)->qual_format, want);
	}
	/* Reasons Apple does not name: 65 PCONFIG and the newer 69..77 carry Intel names and are flagged UNCONFIRMED. */
	assert_string_equal(hvx_exit_reason_lookup(65)->intel_name, "PCONFIG");
	assert_string_equal(hvx_exit_reason_lookup(69)->intel_name, "LOADIWKEY");
	assert_string_equal(hvx_exit_reason_lookup(74)->intel_name, "bus lock");
	assert_string_equal(hvx_exit_reason_lookup(77)->intel_name, "TDCALL");
	for (unsigned n = 69; n <= HVX_EXIT_REASON_MAX; n++)
		assert_true(hvx_exit_reason_lookup(n)->unconfirmed);
	assert_false(hvx_exit_reason_lookup(30)->unconfirmed);
	assert_true(hvx_exit_reason_lookup(66)->unconfirmed);
	assert_string_equal(hvx_exit_reason_lookup(30)->control,
			    "primary bit 24 unconditional I/O exiting / bit 25 use I/O bitmaps (A 0x2000, B 0x2002)");
	assert_string_equal(hvx_exit_reason_lookup(10)->control, "unconditional");
	assert_string_equal(hvx_exit_reason_lookup(12)->control, "primary bit 7 HLT exiting");
	assert_string_equal(hvx_exit_reason_short_name(hvx_exit_reason_lookup(65)), "PCONFIG");
}

/* ------------------------------------------------------------ reason word */

static void reason_word_flags(void **state)
{
	(void)state;
	struct hvx_exit_reason_word w;
	hvx_exit_reason_word_decode(30, &w);
	assert_int_equal(w.basic, 30);
	assert_false(w.entry_failure || w.enclave || w.pending_mtf || w.from_root || w.bus_lock || w.shadow_stack_busy);
	assert_int_equal(w.reserved, 0);

	hvx_exit_reason_word_decode(0x80000021u, &w);
	assert_int_equal(w.basic, 33);
	assert_true(w.entry_failure);
	assert_false(w.enclave || w.pending_mtf || w.from_root);

	hvx_exit_reason_word_decode((1u << 27) | 48, &w);
	assert_int_equal(w.basic, 48);
	assert_true(w.enclave);
	assert_false(w.entry_failure);

	hvx_exit_reason_word_decode((1u << 28) | (1u << 29) | 6, &w);
	assert_true(w.pending_mtf);
	assert_true(w.from_root);
	assert_int_equal(w.basic, 6);

	hvx_exit_reason_word_decode((1u << 25) | (1u << 26) | 0x40010000u | 0x1234, &w);
	assert_true(w.shadow_stack_busy);
	assert_true(w.bus_lock);
	assert_int_equal(w.basic, 0x1234);
	assert_int_equal(w.reserved, 0x40010000u);
	assert_int_equal(w.raw, (1u << 25) | (1u << 26) | 0x40010000u | 0x1234);
}

/* ------------------------------------------------------------ qualifications */

static struct hvx_exit_qual qual(enum hvx_qual_format f, uint64_t raw)
{
	struct hvx_exit_qual q;
	hvx_exit_qual_decode(f, raw, &q);
	assert_int_equal(q.format, f);
	assert_int_equal(q.raw, raw);
	return q;
}

static void qual_debug_exception(void **state)
{
	(void)state;
	struct hvx_exit_qual q = qual(HVX_QUAL_DEBUG, 0x5 | (1u << 13) | (1u << 14) | (1u << 16));
	assert_int_equal(q.u.debug.breakpoints, 0x5);
	assert_true(q.u.debug.bd);
	assert_true(q.u.debug.bs);
	assert_true(q.u.debug.rtm);
	q = qual(HVX_QUAL_DEBUG, 0x8);
	assert_int_equal(q.u.debug.breakpoints, 0x8);
	assert_false(q.u.debug.bd || q.u.debug.bs || q.u.debug.rtm);
}

static void qual_page_fault_and_linear_address(void **state)
{
	(void)state;
	assert_int_equal(qual(HVX_QUAL_PAGE_FAULT, 0xffff800000001234ull).u.linear_address, 0xffff800000001234ull);
	assert_int_equal(qual(HVX_QUAL_LINEAR_ADDRESS, 0x7fff0000ull).u.linear_address, 0x7fff0000ull);
}

static void qual_sipi_and_eoi(void **state)
{
	(void)state;
	assert_int_equal(qual(HVX_QUAL_SIPI, 0x9a).u.vector, 0x9a);
	assert_int_equal(qual(HVX_QUAL_SIPI, 0x19a).u.vector, 0x9a);
	assert_int_equal(qual(HVX_QUAL_EOI, 0x31).u.vector, 0x31);
}

static void qual_task_switch(void **state)
{
	(void)state;
	struct hvx_exit_qual q = qual(HVX_QUAL_TASK_SWITCH, 0xc0000028);
	assert_int_equal(q.u.task.selector, 0x28);
	assert_int_equal(q.u.task.source, HVX_TASK_IDT_GATE);
	assert_int_equal(qual(HVX_QUAL_TASK_SWITCH, 0x40000010).u.task.source, HVX_TASK_IRET);
	assert_int_equal(qual(HVX_QUAL_TASK_SWITCH, 0x80000033).u.task.source, HVX_TASK_JMP);
	q = qual(HVX_QUAL_TASK_SWITCH, 0xfff8);
	assert_int_equal(q.u.task.source, HVX_TASK_CALL);
	assert_int_equal(q.u.task.selector, 0xfff8);
	assert_string_equal(hvx_task_source_name(HVX_TASK_CALL), "CALL");
	assert_string_equal(hvx_task_source_name(HVX_TASK_IDT_GATE), "IDT task gate");
}

static void qual_cr_access(void **state)
{
	(void)state;
	struct hvx_exit_qual q = qual(HVX_QUAL_CR_ACCESS, 0x3); /* MOV to CR3 from RAX */
	assert_int_equal(q.u.cr.cr, 3);
	assert_int_equal(q.u.cr.access, HVX_CR_MOV_TO);
	assert_int_equal(q.u.cr.gpr, 0);
	q = qual(HVX_QUAL_CR_ACCESS, 0xc18); /* MOV from CR8 to R12 */
	assert_int_equal(q.u.cr.cr, 8);
	assert_int_equal(q.u.cr.access, HVX_CR_MOV_FROM);
	assert_int_equal(q.u.cr.gpr, 12);
	q = qual(HVX_QUAL_CR_ACCESS, 0x20); /* CLTS */
	assert_int_equal(q.u.cr.access, HVX_CR_CLTS);
	assert_int_equal(q.u.cr.cr, 0);
	q = qual(HVX_QUAL_CR_ACCESS, 0x12340070); /* LMSW memory, source 0x1234 */
	assert_int_equal(q.u.cr.access, HVX_CR_LMSW);
	assert_true(q.u.cr.lmsw_memory);
	assert_int_equal(q.u.cr.lmsw_data, 0x1234);
	q = qual(HVX_QUAL_CR_ACCESS, 0x00010030); /* LMSW register, source 1 */
	assert_false(q.u.cr.lmsw_memory);
	assert_int_equal(q.u.cr.lmsw_data, 1);
	assert_string_equal(hvx_cr_access_name(HVX_CR_LMSW), "LMSW");
}

static void qual_dr_access(void **state)
{
	(void)state;
	struct hvx_exit_qual q = qual(HVX_QUAL_DR_ACCESS, 0x217); /* MOV from DR7 to RDX */
	assert_int_equal(q.u.dr.dr, 7);
	assert_true(q.u.dr.from_dr);
	assert_int_equal(q.u.dr.gpr, 2);
	q = qual(HVX_QUAL_DR_ACCESS, 0xf00); /* MOV to DR0 from R15 */
	assert_int_equal(q.u.dr.dr, 0);
	assert_false(q.u.dr.from_dr);
	assert_int_equal(q.u.dr.gpr, 15);
}

static void qual_io(void **state)
{
	(void)state;
	struct hvx_exit_qual q = qual(HVX_QUAL_IO, 0x3f80008); /* IN AL, DX with DX = 0x3f8 */
	assert_int_equal(q.u.io.size, 1);
	assert_true(q.u.io.in);
	assert_false(q.u.io.string || q.u.io.rep || q.u.io.immediate);
	assert_int_equal(q.u.io.port, 0x3f8);
	q = qual(HVX_QUAL_IO, 0x00700041); /* OUT 0x70, AX */
	assert_int_equal(q.u.io.size, 2);
	assert_false(q.u.io.in);
	assert_true(q.u.io.immediate);
	assert_int_equal(q.u.io.port, 0x70);
	q = qual(HVX_QUAL_IO, 0x01f00033); /* REP OUTSD to 0x1f0 */
	assert_int_equal(q.u.io.size, 4);
	assert_int_equal(q.u.io.size_field, 3);
	assert_true(q.u.io.string);
	assert_true(q.u.io.rep);
	assert_false(q.u.io.in);
	assert_int_equal(q.u.io.port, 0x1f0);
	q = qual(HVX_QUAL_IO, 0xffff0002); /* undefined size encoding */
	assert_int_equal(q.u.io.size, 0);
	assert_int_equal(q.u.io.size_field, 2);
	assert_int_equal(q.u.io.port, 0xffff);
}

static void qual_apic_access_and_write(void **state)
{
	(void)state;
	struct hvx_exit_qual q = qual(HVX_QUAL_APIC_ACCESS, 0x1080); /* linear write of TPR */
	assert_int_equal(q.u.apic.offset, 0x80);
	assert_int_equal(q.u.apic.type, 1);
	assert_false(q.u.apic.asynchronous);
	q = qual(HVX_QUAL_APIC_ACCESS, 0x30b0);
	assert_int_equal(q.u.apic.offset, 0xb0);
	assert_int_equal(q.u.apic.type, 3);
	q = qual(HVX_QUAL_APIC_ACCESS, 0x1f000);
	assert_int_equal(q.u.apic.type, 15);
	assert_true(q.u.apic.asynchronous);
	assert_string_equal(hvx_apic_access_type_name(0), "linear data read");
	assert_string_equal(hvx_apic_access_type_name(10), "guest-physical access during event delivery");
	assert_null(hvx_apic_access_type_name(4));
	assert_null(hvx_apic_access_type_name(16));

	assert_int_equal(qual(HVX_QUAL_APIC_WRITE, 0x300).u.apic_offset, 0x300);
	assert_int_equal(qual(HVX_QUAL_APIC_WRITE, 0xffff1380).u.apic_offset, 0x380);
}

/* Each EPT-violation bit alone sets exactly its own field. */
static void qual_ept_violation_every_bit(void **state)
{
	(void)state;
	static const unsigned bits[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16};
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		struct hvx_exit_qual q = qual(HVX_QUAL_EPT_VIOLATION, 1ull << bits[i]);
		const struct hvx_qual_ept_violation *e = &q.u.ept;
		bool fields[] = {e->read, e->write, e->fetch, e->readable, e->writable, e->executable,
				 e->user_executable, e->gla_valid, e->final_translation, e->user_mode, e->guest_rw,
				 e->guest_nx, e->nmi_unblocking, e->shadow_stack, e->supervisor_shadow_stack,
				 e->asynchronous};
		for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
			assert_int_equal(fields[k], k == i);
	}
	struct hvx_exit_qual q = qual(HVX_QUAL_EPT_VIOLATION, 0x18b); /* read+write, readable, GLA, final */
	assert_true(q.u.ept.read && q.u.ept.write && q.u.ept.readable && q.u.ept.gla_valid && q.u.ept.final_translation);
	assert_false(q.u.ept.fetch || q.u.ept.writable || q.u.ept.executable);
}

static void qual_small_formats(void **state)
{
	(void)state;
	assert_true(qual(HVX_QUAL_MWAIT, 1).u.monitor_armed);
	assert_false(qual(HVX_QUAL_MWAIT, 0).u.monitor_armed);
	assert_true(qual(HVX_QUAL_PML_FULL, 0x1000).u.nmi_unblocking);
	assert_false(qual(HVX_QUAL_PML_FULL, 0xfff).u.nmi_unblocking);
	struct hvx_exit_qual q = qual(HVX_QUAL_SPP, 0x800);
	assert_true(q.u.spp.miss);
	assert_false(q.u.spp.nmi_unblocking);
	q = qual(HVX_QUAL_SPP, 0x1000);
	assert_false(q.u.spp.miss);
	assert_true(q.u.spp.nmi_unblocking);
	assert_int_equal(qual(HVX_QUAL_DISPLACEMENT, 0xfffffffffffffff0ull).u.displacement, -16);
	assert_int_equal(qual(HVX_QUAL_DISPLACEMENT, 0x7fffffffffffffffull).u.displacement, INT64_MAX);
	assert_int_equal(qual(HVX_QUAL_DISPLACEMENT, 0x8000000000000000ull).u.displacement, INT64_MIN);
	assert_int_equal(qual(HVX_QUAL_DISPLACEMENT, 0x10).u.displacement, 16);
	assert_int_equal(qual(HVX_QUAL_ENTRY_MSR, 3).u.entry_msr_index, 3);
	for (unsigned c = 0; c <= 4; c++)
		assert_int_equal(qual(HVX_QUAL_ENTRY_GUEST, c).u.entry_guest, c);
	assert_string_equal(hvx_entry_guest_qual_name(2), "PDPTE load failure");
	assert_string_equal(hvx_entry_guest_qual_name(3), "NMI injection while STI blocking");
	assert_string_equal(hvx_entry_guest_qual_name(4), "invalid VMCS link pointer");
	assert_non_null(hvx_entry_guest_qual_name(0));
	assert_null(hvx_entry_guest_qual_name(1));
	assert_null(hvx_entry_guest_qual_name(5));
	qual(HVX_QUAL_NONE, 0x1234);
	/* An out-of-range format decodes as NONE with the raw value kept. */
	struct hvx_exit_qual bad;
	hvx_exit_qual_decode((enum hvx_qual_format)99, 7, &bad);
	assert_int_equal(bad.format, HVX_QUAL_NONE);
	assert_int_equal(bad.raw, 7);
}

/* ------------------------------------------------------------ instruction information */

/* Memory-operand bits: scale 1:0, address size 9:7, segment 17:15, index 21:18 (+22 invalid), base 26:23 (+27 invalid). */
static uint32_t mem(unsigned scale, unsigned asz, unsigned seg, unsigned idx, bool idx_inv, unsigned base, bool base_inv)
{
	return scale | asz << 7 | seg << 15 | idx << 18 | (uint32_t)idx_inv << 22 | base << 23 | (uint32_t)base_inv << 27;
}

static struct hvx_instr_info info(enum hvx_instr_info_format f, uint32_t raw)
{
	struct hvx_instr_info ii;
	hvx_instr_info_decode(f, raw, &ii);
	assert_int_equal(ii.format, f);
	assert_int_equal(ii.raw, raw);
	return ii;
}

static void check_mem(const struct hvx_instr_info *ii, unsigned scale, unsigned asz, unsigned seg, int idx, int base)
{
	assert_true(ii->memory);
	assert_int_equal(ii->scale, scale);
	assert_true(ii->has_address_size);
	assert_int_equal(ii->address_size, asz);
	assert_true(ii->has_segment);
	assert_int_equal(ii->segment, seg);
	assert_int_equal(ii->index_valid, idx >= 0);
	assert_int_equal(ii->index_reg, idx >= 0 ? (unsigned)idx : 0);
	assert_int_equal(ii->base_valid, base >= 0);
	assert_int_equal(ii->base_reg, base >= 0 ? (unsigned)base : 0);
}

static void instr_info_ins_outs(void **state)
{
	(void)state;
	struct hvx_instr_info ii = info(HVX_INSTR_INFO_INS_OUTS, 1u << 7 | 3u << 15);
	assert_true(ii.has_address_size);
	assert_int_equal(ii.address_size, 32);
	assert_true(ii.has_segment);
	assert_int_equal(ii.segment, 3);
	assert_false(ii.memory || ii.has_reg1 || ii.has_reg2);
	ii = info(HVX_INSTR_INFO_INS_OUTS, 0);
	assert_int_equal(ii.address_size, 16);
	assert_int_equal(ii.segment, 0);
	ii = info(HVX_INSTR_INFO_INS_OUTS, 3u << 7);
	assert_int_equal(ii.address_size, 0); /* reserved encoding */
}

static void instr_info_invalidation(void **state)
{
	(void)state;
	/* INVEPT rcx, [rbx+rsi*4] in 64-bit mode, DS */
	struct hvx_instr_info ii = info(HVX_INSTR_INFO_INVALIDATION, mem(2, 2, 3, 6, false, 3, false) | 1u << 28);
	check_mem(&ii, 4, 64, 3, 6, 3);
	assert_true(ii.has_reg2);
	assert_int_equal(ii.reg2, 1);
	assert_false(ii.has_reg1);
	assert_int_equal(ii.operand_size, 0);
	/* no index, no base (absolute disp32), 32-bit address, SS, type in R11 */
	ii = info(HVX_INSTR_INFO_INVALIDATION, mem(0, 1, 2, 5, true, 9, true) | 11u << 28);
	check_mem(&ii, 1, 32, 2, -1, -1);
	assert_int_equal(ii.reg2, 11);
}

static void instr_info_gdtr_idtr(void **state)
{
	(void)state;
	static const enum hvx_instr ids[4] = {HVX_INSTR_SGDT, HVX_INSTR_SIDT, HVX_INSTR_LGDT, HVX_INSTR_LIDT};
	for (unsigned id = 0; id < 4; id++) {
		struct hvx_instr_info ii = info(HVX_INSTR_INFO_GDTR_IDTR, mem(3, 1, 3, 7, false, 5, false) | 1u << 11 | id << 28);
		check_mem(&ii, 8, 32, 3, 7, 5);
		assert_int_equal(ii.operand_size, 32);
		assert_int_equal(ii.instr, ids[id]);
	}
	struct hvx_instr_info ii = info(HVX_INSTR_INFO_GDTR_IDTR, mem(0, 0, 0, 0, true, 6, false));
	check_mem(&ii, 1, 16, 0, -1, 6);
	assert_int_equal(ii.operand_size, 16);
	assert_int_equal(ii.instr, HVX_INSTR_SGDT);
}

static void instr_info_ldtr_tr(void **state)
{
	(void)state;
	/* LTR bp (register form): bit 10, Reg1 = 5, identity 3 */
	struct hvx_instr_info ii = info(HVX_INSTR_INFO_LDTR_TR, 1u << 10 | 5u << 3 | 3u << 28);
	assert_int_equal(ii.instr, HVX_INSTR_LTR);
	assert_true(ii.has_reg1);
	assert_int_equal(ii.reg1, 5);
	assert_false(ii.memory || ii.has_address_size || ii.has_segment || ii.index_valid || ii.base_valid);
	/* SLDT [r8+r9*2], 64-bit, GS */
	ii = info(HVX_INSTR_INFO_LDTR_TR, mem(1, 2, 5, 9, false, 8, false));
	assert_int_equal(ii.instr, HVX_INSTR_SLDT);
	check_mem(&ii, 2, 64, 5, 9, 8);
	assert_false(ii.has_reg1);
	assert_int_equal(info(HVX_INSTR_INFO_LDTR_TR, 1u << 28).instr, HVX_INSTR_STR);
	assert_int_equal(info(HVX_INSTR_INFO_LDTR_TR, 2u << 28).instr, HVX_INSTR_LLDT);
}

static void instr_info_rdrand_rdseed_umwait(void **state)
{
	(void)state;
	struct hvx_instr_info ii = info(HVX_INSTR_INFO_RDRAND_RDSEED, 9u << 3 | 2u << 11); /* RDRAND r9 */
	assert_true(ii.has_reg1);
	assert_int_equal(ii.reg1, 9);
	assert_int_equal(ii.operand_size, 64);
	assert_false(ii.memory || ii.has_reg2 || ii.has_address_size);
	assert_int_equal(info(HVX_INSTR_INFO_RDRAND_RDSEED, 0).operand_size, 16);
	assert_int_equal(info(HVX_INSTR_INFO_RDRAND_RDSEED, 1u << 11).operand_size, 32);
	assert_int_equal(info(HVX_INSTR_INFO_RDRAND_RDSEED, 3u << 11).operand_size, 0);
	ii = info(HVX_INSTR_INFO_UMWAIT_TPAUSE, 1u << 3 | 1u << 11); /* UMWAIT ecx (UNCONFIRMED layout) */
	assert_int_equal(ii.reg1, 1);
	assert_int_equal(ii.operand_size, 32);
}

static void instr_info_vmx_memory(void **state)
{
	(void)state;
	/* VMPTRLD [rax+rdi*8], 64-bit, ES */
	struct hvx_instr_info ii = info(HVX_INSTR_INFO_VMX_MEMORY, mem(3, 2, 0, 7, false, 0, false));
	check_mem(&ii, 8, 64, 0, 7, 0);
	assert_false(ii.has_reg1 || ii.has_reg2);
	ii = info(HVX_INSTR_INFO_VMX_MEMORY, mem(0, 2, 4, 0, true, 15, false));
	check_mem(&ii, 1, 64, 4, -1, 15);
}

static void instr_info_vmread_vmwrite(void **state)
{
	(void)state;
	/* VMREAD rax, rdx: register form, Reg1 = 0, Reg2 = 2 */
	struct hvx_instr_info ii = info(HVX_INSTR_INFO_VMREAD_VMWRITE, 1u << 10 | 0u << 3 | 2u << 28);
	assert_true(ii.has_reg1);
	assert_int_equal(ii.reg1, 0);
	assert_true(ii.has_reg2);
	assert_int_equal(ii.reg2, 2);
	assert_false(ii.memory);
	/* VMWRITE r14, [r13+r12*2]: memory form, Reg2 = 14 */
	ii = info(HVX_INSTR_INFO_VMREAD_VMWRITE, mem(1, 2, 3, 12, false, 13, false) | 14u << 28);
	check_mem(&ii, 2, 64, 3, 12, 13);
	assert_false(ii.has_reg1);
	assert_int_equal(ii.reg2, 14);
}

/* ------------------------------------------------------------ interruption information */

static void intr_info_layout(void **state)
{
	(void)state;
	struct hvx_intr_info ii;
	hvx_intr_info_decode(0x80000b0e, &ii); /* #PF with error code */
	assert_true(ii.valid);
	assert_int_equal(ii.vector, 14);
	assert_int_equal(ii.type, HVX_INTR_HW_EXCEPTION);
	assert_true(ii.error_code_valid);
	assert_false(ii.nmi_unblocking || ii.nested_exception);
	assert_int_equal(ii.reserved, 0);
	hvx_intr_info_decode(0x80001202, &ii); /* NMI, NMI unblocking due to IRET */
	assert_int_equal(ii.type, HVX_INTR_NMI);
	assert_int_equal(ii.vector, 2);
	assert_true(ii.nmi_unblocking);
	assert_false(ii.error_code_valid);
	hvx_intr_info_decode(0x00000030, &ii); /* not valid */
	assert_false(ii.valid);
	assert_int_equal(ii.vector, 0x30);
	assert_int_equal(ii.type, HVX_INTR_EXTERNAL);
	hvx_intr_info_decode(0x80002000u | 0x40000000u | 0x700, &ii);
	assert_true(ii.nested_exception);
	assert_int_equal(ii.type, HVX_INTR_OTHER);
	assert_int_equal(ii.reserved, 0x40000000u);
	static const char *const names[8] = {"external interrupt", "reserved", "NMI", "hardware exception",
		"software interrupt", "privileged software exception", "software exception", "other event"};
	for (unsigned t = 0; t < 8; t++) {
		hvx_intr_info_decode(0x80000000u | t << 8 | 3, &ii);
		assert_int_equal(ii.type, t);
		assert_string_equal(hvx_intr_type_name(ii.type), names[t]);
	}
	assert_string_equal(hvx_exception_mnemonic(14), "#PF");
	assert_string_equal(hvx_exception_mnemonic(1), "#DB");
	assert_null(hvx_exception_mnemonic(15));
	assert_null(hvx_exception_mnemonic(32));
}

/* ------------------------------------------------------------ whole exit */

static struct hvx_exit_decoded decode(struct hvx_exit_raw raw)
{
	struct hvx_exit_decoded d;
	assert_int_equal(hvx_exit_decode(&raw, &d), 0);
	return d;
}

static void decode_exception_resolves_by_vector(void **state)
{
	(void)state;
	struct hvx_exit_raw r = {.reason = 0, .qualification = 0xdeadb000, .intr_info = 0x80000b0e, .intr_error = 2,
				 .have = HVX_EXIT_HAVE_QUAL | HVX_EXIT_HAVE_INTR_INFO};
	struct hvx_exit_decoded d = decode(r);
	assert_int_equal(d.qual.format, HVX_QUAL_PAGE_FAULT);
	assert_int_equal(d.qual.u.linear_address, 0xdeadb000);
	assert_int_equal(d.intr_error, 2);
	r.intr_info = 0x80000301; /* #DB */
	r.qualification = 0x4002;
	d = decode(r);
	assert_int_equal(d.qual.format, HVX_QUAL_DEBUG);
	assert_int_equal(d.qual.u.debug.breakpoints, 2);
	assert_true(d.qual.u.debug.bs);
	assert_int_equal(d.intr_error, 0); /* no error code */
	r.intr_info = 0x80000501; /* INT1 */
	assert_int_equal(decode(r).qual.format, HVX_QUAL_DEBUG);
	r.intr_info = 0x80000b0d; /* #GP: qualification 0 */
	assert_int_equal(decode(r).qual.format, HVX_QUAL_NONE);
	r.have = HVX_EXIT_HAVE_QUAL; /* vector unknown */
	assert_int_equal(decode(r).qual.format, HVX_QUAL_EXCEPTION);
}

static void decode_instruction_identity(void **state)
{
	(void)state;
	static const struct {
		unsigned reason;
		enum hvx_instr instr;
	} ids[] = {
		{19, HVX_INSTR_VMCLEAR}, {21, HVX_INSTR_VMPTRLD}, {22, HVX_INSTR_VMPTRST}, {23, HVX_INSTR_VMREAD},
		{25, HVX_INSTR_VMWRITE}, {27, HVX_INSTR_VMXON}, {50, HVX_INSTR_INVEPT}, {53, HVX_INSTR_INVVPID},
		{57, HVX_INSTR_RDRAND}, {58, HVX_INSTR_INVPCID}, {61, HVX_INSTR_RDSEED}, {63, HVX_INSTR_XSAVES},
		{64, HVX_INSTR_XRSTORS}, {67, HVX_INSTR_UMWAIT}, {68, HVX_INSTR_TPAUSE},
	};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		struct hvx_exit_raw r = {.reason = ids[i].reason, .instr_info = 0, .have = HVX_EXIT_HAVE_INSTR_INFO};
		struct hvx_exit_decoded d = decode(r);
		assert_true(d.have_instr_info);
		assert_int_equal(d.instr.instr, ids[i].instr);
		assert_int_equal(hvx_exit_reason_instr(ids[i].reason), ids[i].instr);
		assert_string_not_equal(hvx_instr_name(ids[i].instr), "?");
	}
	/* 46/47 take identity from bits 29:28 */
	struct hvx_exit_raw r = {.reason = 46, .instr_info = 3u << 28, .have = HVX_EXIT_HAVE_INSTR_INFO};
	assert_int_equal(decode(r).instr.instr, HVX_INSTR_LIDT);
	r.reason = 47;
	assert_int_equal(decode(r).instr.instr, HVX_INSTR_LTR);
	/* no instruction information for a reason without a layout */
	r.reason = 10;
	assert_false(decode(r).have_instr_info);
	/* I/O: INS has no segment, OUTS keeps it, non-string I/O has no instruction information */
	r = (struct hvx_exit_raw){.reason = 30, .qualification = 0x3f80019, .instr_info = 1u << 7 | 3u << 15,
				  .have = HVX_EXIT_HAVE_QUAL | HVX_EXIT_HAVE_INSTR_INFO};
	struct hvx_exit_decoded d = decode(r);
	assert_true(d.have_instr_info);
	assert_int_equal(d.instr.instr, HVX_INSTR_INS);
	assert_false(d.instr.has_segment);
	assert_int_equal(d.instr.address_size, 32);
	r.qualification = 0x3f80011; /* OUTS */
	d = decode(r);
	assert_int_equal(d.instr.instr, HVX_INSTR_OUTS);
	assert_true(d.instr.has_segment);
	assert_int_equal(d.instr.segment, 3);
	r.qualification = 0x3f80008; /* IN */
	assert_false(decode(r).have_instr_info);
}

static void decode_optional_fields_and_errors(void **state)
{
	(void)state;
	struct hvx_exit_raw r = {.reason = 48, .qualification = 0x181, .guest_physical = 0xfee00000,
				 .guest_linear = 0x7000, .instr_len = 3, .idt_info = 0x80000b0e, .idt_error = 4,
				 .have = HVX_EXIT_HAVE_ALL};
	struct hvx_exit_decoded d = decode(r);
	assert_true(d.have_gpa && d.have_gla && d.have_instr_len && d.have_idt_info && d.have_intr_info);
	assert_int_equal(d.guest_physical, 0xfee00000);
	assert_int_equal(d.guest_linear, 0x7000);
	assert_int_equal(d.instr_len, 3);
	assert_int_equal(d.idt.vector, 14);
	assert_int_equal(d.idt_error, 4);
	assert_false(d.intr.valid);
	assert_false(d.have_instr_info); /* 48 has no instruction information */
	r.have = 0;
	d = decode(r);
	assert_false(d.have_qual || d.have_gpa || d.have_gla || d.have_instr_len || d.have_idt_info || d.have_intr_info);
	assert_int_equal(hvx_exit_decode(NULL, &d), -1);
	assert_int_equal(hvx_exit_decode(&r, NULL), -1);
	/* numbers beyond the table still decode */
	r = (struct hvx_exit_raw){.reason = 0x80000000u | 200, .qualification = 5, .have = HVX_EXIT_HAVE_QUAL};
	d = decode(r);
	assert_null(d.info);
	assert_int_equal(d.reason.basic, 200);
	assert_true(d.reason.entry_failure);
	assert_int_equal(d.qual.format, HVX_QUAL_NONE);
	assert_int_equal(d.qual.raw, 5);
}

/* ------------------------------------------------------------ text and JSON */

static void text_is(struct hvx_exit_raw r, const char *want)
{
	struct hvx_exit_decoded d = decode(r);
	char buf[512];
	size_t n = hvx_exit_format_text(&d, buf, sizeof buf);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, want);
}

static void text_examples(void **state)
{
	(void)state;
	text_is((struct hvx_exit_raw){.reason = 30, .qualification = 0x3f80008, .have = HVX_EXIT_HAVE_QUAL},
		"IO (30): IN 1 byte from port 0x3f8 via DX");
	text_is((struct hvx_exit_raw){.reason = 30, .qualification = 0x01f00033, .have = HVX_EXIT_HAVE_QUAL},
		"IO (30): REP OUTS 4 bytes to port 0x1f0 via DX");
	text_is((struct hvx_exit_raw){.reason = 28, .qualification = 0xc18, .have = HVX_EXIT_HAVE_QUAL},
		"MOV_CR (28): MOV from CR8 to R12");
	text_is((struct hvx_exit_raw){.reason = 29, .qualification = 0xf00, .have = HVX_EXIT_HAVE_QUAL},
		"MOV_DR (29): MOV to DR0 from R15");
	text_is((struct hvx_exit_raw){.reason = 12}, "HLT (12): HLT");
	text_is((struct hvx_exit_raw){.reason = 35}, "unused reason 35: number not assigned by Intel");
	text_is((struct hvx_exit_raw){.reason = 300}, "unknown reason 300: no details");
	text_is((struct hvx_exit_raw){.reason = 0x80000021u, .qualification = 4, .have = HVX_EXIT_HAVE_QUAL},
		"VMENTRY_GUEST (33, entry failure): qualification 4: invalid VMCS link pointer");
	text_is((struct hvx_exit_raw){.reason = 0, .qualification = 0x1000, .intr_info = 0x80000b0e, .intr_error = 2,
				      .have = HVX_EXIT_HAVE_QUAL | HVX_EXIT_HAVE_INTR_INFO},
		"EXC_NMI (0): #PF at linear address 0x1000; intr hardware exception vector 14 (#PF) error 0x2");
	text_is((struct hvx_exit_raw){.reason = 48, .qualification = 0x182, .guest_physical = 0xfee00000,
				      .have = HVX_EXIT_HAVE_QUAL | HVX_EXIT_HAVE_GPA},
		"EPT_VIOLATION (48): write, EPT ---, GLA valid, final translation; GPA 0xfee00000");
	text_is((struct hvx_exit_raw){.reason = 23, .qualification = 0xfffffffffffffff8ull,
				      .instr_info = 1u << 10 | 2u << 28, .have = HVX_EXIT_HAVE_QUAL | HVX_EXIT_HAVE_INSTR_INFO},
		"VMREAD (23): displacement -0x8; instr-info 0x20000400: VMREAD reg RAX field in RDX");
	text_is((struct hvx_exit_raw){.reason = 50, .qualification = 0x10,
				      .instr_info = 2u | 2u << 7 | 3u << 15 | 6u << 18 | 3u << 23 | 1u << 28,
				      .have = HVX_EXIT_HAVE_QUAL | HVX_EXIT_HAVE_INSTR_INFO},
		"EPT_INVEPT (50): displacement 0x10; instr-info 0x11998102: INVEPT mem DS:[RBX+RSI*4+disp] a64 type in RCX");
	text_is((struct hvx_exit_raw){.reason = 9, .qualification = 0xc0000028, .idt_info = 0x80000b0a, .idt_error = 0x28,
				      .have = HVX_EXIT_HAVE_QUAL | HVX_EXIT_HAVE_IDT_INFO},
		"TASK (9): task switch by IDT task gate to TSS selector 0x0028; idt hardware exception vector 10 (#TS) error 0x28");
	text_is((struct hvx_exit_raw){.reason = 4, .qualification = 0x9a, .have = HVX_EXIT_HAVE_QUAL},
		"SIPI (4): SIPI vector 0x9a (start at 0x9a000)");
	text_is((struct hvx_exit_raw){.reason = 44, .qualification = 0x1080, .have = HVX_EXIT_HAVE_QUAL},
		"APIC_ACCESS (44): linear data write at APIC offset 0x080");
	text_is((struct hvx_exit_raw){.reason = (1u << 27) | (1u << 29) | 6},
		"OTHER_SMI (6, enclave, from VMX root): other SMI");
}

static void text_and_json_follow_snprintf(void **state)
{
	(void)state;
	struct hvx_exit_decoded d = decode((struct hvx_exit_raw){.reason = 30, .qualification = 0x3f80008,
								 .have = HVX_EXIT_HAVE_QUAL});
	const char *want = "IO (30): IN 1 byte from port 0x3f8 via DX";
	assert_int_equal(hvx_exit_format_text(&d, NULL, 0), strlen(want));
	char small[8];
	memset(small, 'x', sizeof small);
	assert_int_equal(hvx_exit_format_text(&d, small, sizeof small), strlen(want));
	assert_string_equal(small, "IO (30)");
	char big[4096];
	size_t n = hvx_exit_format_json(&d, NULL, 0);
	assert_true(n > 0 && n < sizeof big);
	assert_int_equal(hvx_exit_format_json(&d, big, sizeof big), n);
	assert_int_equal(strlen(big), n);
	char tiny[16];
	assert_int_equal(hvx_exit_format_json(&d, tiny, sizeof tiny), n);
	assert_int_equal(strlen(tiny), sizeof tiny - 1);
	assert_memory_equal(tiny, big, sizeof tiny - 1);
}

static void json_contents(void **state)
{
	(void)state;
	struct hvx_exit_decoded d = decode((struct hvx_exit_raw){.reason = 30, .qualification = 0x3f80008,
								 .have = HVX_EXIT_HAVE_QUAL});
	char buf[4096];
	hvx_exit_format_json(&d, buf, sizeof buf);
	assert_non_null(strstr(buf, "\"reason\": 30"));
	assert_non_null(strstr(buf, "\"apple_name\": \"VMX_REASON_IO\""));
	assert_non_null(strstr(buf, "\"port\": 1016"));
	assert_non_null(strstr(buf, "\"direction\": \"in\""));
	assert_non_null(strstr(buf, "\"size\": 1"));
	assert_non_null(strstr(buf, "\"operand\": \"dx\""));
	assert_non_null(strstr(buf, "\"text\": \"IO (30): IN 1 byte from port 0x3f8 via DX\""));
	assert_non_null(strstr(buf, "\"instruction_information\": null"));
	assert_int_equal(buf[0], '{');
	assert_int_equal(buf[strlen(buf) - 1], '}');

	hvx_exit_reason_format_json(hvx_exit_reason_lookup(35), buf, sizeof buf);
	assert_non_null(strstr(buf, "\"apple_name\": null"));
	assert_non_null(strstr(buf, "\"class\": \"unused\""));
	hvx_exit_reason_format_json(hvx_exit_reason_lookup(48), buf, sizeof buf);
	assert_non_null(strstr(buf, "\"number\": 48"));
	assert_non_null(strstr(buf, "\"qualification_format\": \"ept-violation\""));
}

static void json_string_escaping(void **state)
{
	(void)state;
	char buf[64];
	struct hvx_sb sb;
	hvx_sb_init(&sb, buf, sizeof buf);
	hvx_sb_json_string(&sb, "a\"b\\c\nd");
	assert_string_equal(buf, "\"a\\\"b\\\\c\\u000ad\"");
	assert_int_equal(sb.len, strlen(buf));
	hvx_sb_init(&sb, buf, sizeof buf);
	hvx_sb_json_string(&sb, NULL);
	assert_string_equal(buf, "null");
	hvx_sb_init(&sb, NULL, 0);
	hvx_sb_printf(&sb, "%0300d", 1); /* longer than the builder's temporary */
	assert_int_equal(sb.len, 300);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(hvx_gpr_name(0), "RAX");
	assert_string_equal(hvx_gpr_name(4), "RSP");
	assert_string_equal(hvx_gpr_name(15), "R15");
	assert_string_equal(hvx_gpr_name(16), "?");
	assert_string_equal(hvx_segment_name(0), "ES");
	assert_string_equal(hvx_segment_name(5), "GS");
	assert_string_equal(hvx_segment_name(6), "?");
	for (int i = 1; i < HVX_INSTR_COUNT; i++)
		assert_string_not_equal(hvx_instr_name((enum hvx_instr)i), "?");
	assert_string_equal(hvx_instr_name(HVX_INSTR_VMXON), "VMXON");
	assert_string_equal(hvx_exit_class_name(HVX_EXIT_CLASS_ENTRY_FAILURE), "entry-failure");
	assert_string_equal(hvx_exit_class_name((enum hvx_exit_class)9), "?");
	for (int f = 0; f < HVX_QUAL_FORMAT_COUNT; f++)
		assert_string_not_equal(hvx_qual_format_name((enum hvx_qual_format)f), "?");
	for (int f = 0; f < HVX_INSTR_INFO_FORMAT_COUNT; f++)
		assert_string_not_equal(hvx_instr_info_format_name((enum hvx_instr_info_format)f), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_has_exactly_apples_65_names),
		cmocka_unit_test(table_rows_are_complete_and_consistent),
		cmocka_unit_test(reason_word_flags),
		cmocka_unit_test(qual_debug_exception),
		cmocka_unit_test(qual_page_fault_and_linear_address),
		cmocka_unit_test(qual_sipi_and_eoi),
		cmocka_unit_test(qual_task_switch),
		cmocka_unit_test(qual_cr_access),
		cmocka_unit_test(qual_dr_access),
		cmocka_unit_test(qual_io),
		cmocka_unit_test(qual_apic_access_and_write),
		cmocka_unit_test(qual_ept_violation_every_bit),
		cmocka_unit_test(qual_small_formats),
		cmocka_unit_test(instr_info_ins_outs),
		cmocka_unit_test(instr_info_invalidation),
		cmocka_unit_test(instr_info_gdtr_idtr),
		cmocka_unit_test(instr_info_ldtr_tr),
		cmocka_unit_test(instr_info_rdrand_rdseed_umwait),
		cmocka_unit_test(instr_info_vmx_memory),
		cmocka_unit_test(instr_info_vmread_vmwrite),
		cmocka_unit_test(intr_info_layout),
		cmocka_unit_test(decode_exception_resolves_by_vector),
		cmocka_unit_test(decode_instruction_identity),
		cmocka_unit_test(decode_optional_fields_and_errors),
		cmocka_unit_test(text_examples),
		cmocka_unit_test(text_and_json_follow_snprintf),
		cmocka_unit_test(json_contents),
		cmocka_unit_test(json_string_escaping),
		cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
