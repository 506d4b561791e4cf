/* reasons.c: the exit-reason table (the single source for names, classes, controls and field formats) and its lookups. */
#include <ctype.h>
#include <string.h>

#include <hvx/hvx_exit.h>

#include "core/export.h"

#define F HVX_EXIT_CLASS_FAULT
#define T HVX_EXIT_CLASS_TRAP
#define E HVX_EXIT_CLASS_EVENT
#define X HVX_EXIT_CLASS_ENTRY_FAILURE
#define U HVX_EXIT_CLASS_UNUSED

#define UNUSED_ROW(n) {n, NULL, "(unused)", "number not assigned by Intel", U, "-", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false}

/*
 * Row order = basic reason; rows[n].number == n (checked by the unit test).
 * Columns: number, Apple name, Intel name, cause, class, control, qualification
 * format, instruction-information format, instruction length defined, UNCONFIRMED.
 */
static const struct hvx_exit_reason_info rows[] = {
	{0, "VMX_REASON_EXC_NMI", "exception or NMI",
	 "an exception selected by the exception bitmap, or an NMI with NMI exiting", E,
	 "exception bitmap (0x4004; #PF also PFEC mask/match); NMI: pin bit 3 NMI exiting",
	 HVX_QUAL_EXCEPTION, HVX_INSTR_INFO_NONE, true, false},
	{1, "VMX_REASON_IRQ", "external interrupt",
	 "an unblocked external interrupt arrived", E,
	 "pin bit 0 external-interrupt exiting", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	{2, "VMX_REASON_TRIPLE_FAULT", "triple fault",
	 "an exception while delivering #DF that did not itself exit", E,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	{3, "VMX_REASON_INIT", "INIT signal",
	 "an INIT signal arrived (held while in wait-for-SIPI)", E,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	{4, "VMX_REASON_SIPI", "start-up IPI (SIPI)",
	 "a SIPI arrived in the wait-for-SIPI activity state", E,
	 "unconditional", HVX_QUAL_SIPI, HVX_INSTR_INFO_NONE, false, false},
	{5, "VMX_REASON_IO_SMI", "I/O system-management interrupt (SMI)",
	 "an SMI right after an I/O instruction retired (dual-monitor SMM only)", E,
	 "dual-monitor treatment of SMIs and SMM", HVX_QUAL_IO, HVX_INSTR_INFO_NONE, false, false},
	{6, "VMX_REASON_OTHER_SMI", "other SMI",
	 "any other SMI (dual-monitor SMM only)", E,
	 "dual-monitor treatment of SMIs and SMM", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	{7, "VMX_REASON_IRQ_WND", "interrupt window",
	 "RFLAGS.IF = 1 and no STI or MOV-SS blocking at an instruction boundary", E,
	 "primary bit 2 interrupt-window exiting", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	{8, "VMX_REASON_VIRTUAL_NMI_WND", "NMI window",
	 "no virtual-NMI blocking at an instruction boundary", E,
	 "primary bit 22 NMI-window exiting (needs pin bit 5 virtual NMIs)",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	{9, "VMX_REASON_TASK", "task switch",
	 "CALL/JMP to a TSS or task gate, IRET with NT = 1, or an IDT task gate (event)", F,
	 "unconditional", HVX_QUAL_TASK_SWITCH, HVX_INSTR_INFO_NONE, true, false},
	{10, "VMX_REASON_CPUID", "CPUID", "the guest executed CPUID", F,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{11, "VMX_REASON_GETSEC", "GETSEC", "the guest executed GETSEC with CR4.SMXE = 1", F,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{12, "VMX_REASON_HLT", "HLT", "the guest executed HLT", F,
	 "primary bit 7 HLT exiting", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{13, "VMX_REASON_INVD", "INVD", "the guest executed INVD", F,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{14, "VMX_REASON_INVLPG", "INVLPG", "the guest executed INVLPG", F,
	 "primary bit 9 INVLPG exiting", HVX_QUAL_LINEAR_ADDRESS, HVX_INSTR_INFO_NONE, true, false},
	{15, "VMX_REASON_RDPMC", "RDPMC", "the guest executed RDPMC", F,
	 "primary bit 11 RDPMC exiting", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{16, "VMX_REASON_RDTSC", "RDTSC", "the guest executed RDTSC", F,
	 "primary bit 12 RDTSC exiting", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{17, "VMX_REASON_RSM", "RSM", "RSM in SMM (guest of a dual-monitor SMM-transfer monitor only)", F,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{18, "VMX_REASON_VMCALL", "VMCALL", "the guest executed VMCALL (any CPL)", F,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{19, "VMX_REASON_VMCLEAR", "VMCLEAR", "the guest executed VMCLEAR", F,
	 "unconditional", HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_VMX_MEMORY, true, false},
	{20, "VMX_REASON_VMLAUNCH", "VMLAUNCH", "the guest executed VMLAUNCH", F,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{21, "VMX_REASON_VMPTRLD", "VMPTRLD", "the guest executed VMPTRLD", F,
	 "unconditional", HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_VMX_MEMORY, true, false},
	{22, "VMX_REASON_VMPTRST", "VMPTRST", "the guest executed VMPTRST", F,
	 "unconditional", HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_VMX_MEMORY, true, false},
	{23, "VMX_REASON_VMREAD", "VMREAD", "the guest executed VMREAD", F,
	 "unconditional unless secondary bit 14 VMCS shadowing (then the VMREAD bitmap decides)",
	 HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_VMREAD_VMWRITE, true, false},
	{24, "VMX_REASON_VMRESUME", "VMRESUME", "the guest executed VMRESUME", F,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{25, "VMX_REASON_VMWRITE", "VMWRITE", "the guest executed VMWRITE", F,
	 "unconditional unless secondary bit 14 VMCS shadowing (then the VMWRITE bitmap decides)",
	 HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_VMREAD_VMWRITE, true, false},
	{26, "VMX_REASON_VMOFF", "VMXOFF", "the guest executed VMXOFF", F,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{27, "VMX_REASON_VMON", "VMXON", "the guest executed VMXON", F,
	 "unconditional", HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_VMX_MEMORY, true, false},
	{28, "VMX_REASON_MOV_CR", "control-register access",
	 "MOV to/from CR0, CR3, CR4 or CR8, CLTS or LMSW selected by the controls", F,
	 "CR0/CR4 guest/host masks + read shadows; primary bits 15/16 CR3-load/store exiting "
	 "(CR3-target values), 19/20 CR8-load/store exiting",
	 HVX_QUAL_CR_ACCESS, HVX_INSTR_INFO_NONE, true, false},
	{29, "VMX_REASON_MOV_DR", "MOV DR", "the guest executed MOV to or from a debug register", F,
	 "primary bit 23 MOV-DR exiting", HVX_QUAL_DR_ACCESS, HVX_INSTR_INFO_NONE, true, false},
	{30, "VMX_REASON_IO", "I/O instruction", "the guest executed IN, OUT, INS or OUTS", F,
	 "primary bit 24 unconditional I/O exiting / bit 25 use I/O bitmaps (A 0x2000, B 0x2002)",
	 HVX_QUAL_IO, HVX_INSTR_INFO_INS_OUTS, true, false},
	{31, "VMX_REASON_RDMSR", "RDMSR", "the guest executed RDMSR", F,
	 "primary bit 28 use MSR bitmaps (every RDMSR exits when 0)",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{32, "VMX_REASON_WRMSR", "WRMSR", "the guest executed WRMSR", F,
	 "primary bit 28 use MSR bitmaps (every WRMSR exits when 0)",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{33, "VMX_REASON_VMENTRY_GUEST", "VM-entry failure due to invalid guest state",
	 "VMLAUNCH/VMRESUME found a guest-state check failing", X,
	 "none (VM-entry guest-state checks)", HVX_QUAL_ENTRY_GUEST, HVX_INSTR_INFO_NONE, false, false},
	{34, "VMX_REASON_VMENTRY_MSR", "VM-entry failure due to MSR loading",
	 "an entry of the VM-entry MSR-load list could not be loaded", X,
	 "none (VM-entry MSR-load list)", HVX_QUAL_ENTRY_MSR, HVX_INSTR_INFO_NONE, false, false},
	UNUSED_ROW(35),
	{36, "VMX_REASON_MWAIT", "MWAIT", "the guest executed MWAIT", F,
	 "primary bit 10 MWAIT exiting", HVX_QUAL_MWAIT, HVX_INSTR_INFO_NONE, true, false},
	{37, "VMX_REASON_MTF", "monitor trap flag",
	 "instruction boundary after one instruction (or event delivery) with MTF set", E,
	 "primary bit 27 monitor trap flag (or an injected pending MTF: type 7, vector 0)",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	UNUSED_ROW(38),
	{39, "VMX_REASON_MONITOR", "MONITOR", "the guest executed MONITOR", F,
	 "primary bit 29 MONITOR exiting", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{40, "VMX_REASON_PAUSE", "PAUSE", "the guest executed PAUSE", F,
	 "primary bit 30 PAUSE exiting; secondary bit 10 PAUSE-loop exiting (CPL 0)",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{41, "VMX_REASON_VMENTRY_MC", "VM-entry failure due to machine-check event",
	 "a machine check during VM entry", X,
	 "none", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	UNUSED_ROW(42),
	{43, "VMX_REASON_TPR_THRESHOLD", "TPR below threshold",
	 "a write of VTPR left VTPR[7:4] below the TPR threshold", T,
	 "primary bit 21 use TPR shadow (with secondary bit 9 virtual-interrupt delivery = 0)",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	{44, "VMX_REASON_APIC_ACCESS", "APIC access",
	 "an access to the APIC-access page that is not virtualized", F,
	 "secondary bit 0 virtualize APIC accesses", HVX_QUAL_APIC_ACCESS, HVX_INSTR_INFO_NONE, true, false},
	{45, "VMX_REASON_VIRTUALIZED_EOI", "virtualized EOI",
	 "EOI virtualization of a vector set in the EOI-exit bitmap", T,
	 "secondary bit 9 virtual-interrupt delivery + EOI-exit bitmap",
	 HVX_QUAL_EOI, HVX_INSTR_INFO_NONE, false, false},
	{46, "VMX_REASON_GDTR_IDTR", "access to GDTR or IDTR",
	 "the guest executed LGDT, LIDT, SGDT or SIDT", F,
	 "secondary bit 2 descriptor-table exiting", HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_GDTR_IDTR, true, false},
	{47, "VMX_REASON_LDTR_TR", "access to LDTR or TR",
	 "the guest executed LLDT, LTR, SLDT or STR", F,
	 "secondary bit 2 descriptor-table exiting", HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_LDTR_TR, true, false},
	{48, "VMX_REASON_EPT_VIOLATION", "EPT violation",
	 "an EPT paging-structure entry denied a guest-physical access", F,
	 "secondary bit 1 enable EPT", HVX_QUAL_EPT_VIOLATION, HVX_INSTR_INFO_NONE, true, false},
	{49, "VMX_REASON_EPT_MISCONFIG", "EPT misconfiguration",
	 "an EPT paging-structure entry used by an access is misconfigured", F,
	 "secondary bit 1 enable EPT", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{50, "VMX_REASON_EPT_INVEPT", "INVEPT", "the guest executed INVEPT", F,
	 "unconditional", HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_INVALIDATION, true, false},
	{51, "VMX_REASON_RDTSCP", "RDTSCP", "the guest executed RDTSCP", F,
	 "secondary bit 3 enable RDTSCP and primary bit 12 RDTSC exiting",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{52, "VMX_REASON_VMX_TIMER_EXPIRED", "VMX-preemption timer expired",
	 "the VMX-preemption timer counted down to 0", E,
	 "pin bit 6 activate VMX-preemption timer", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, false},
	{53, "VMX_REASON_INVVPID", "INVVPID", "the guest executed INVVPID", F,
	 "unconditional", HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_INVALIDATION, true, false},
	{54, "VMX_REASON_WBINVD", "WBINVD or WBNOINVD", "the guest executed WBINVD or WBNOINVD", F,
	 "secondary bit 6 WBINVD exiting", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{55, "VMX_REASON_XSETBV", "XSETBV", "the guest executed XSETBV", F,
	 "unconditional", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{56, "VMX_REASON_APIC_WRITE", "APIC write",
	 "a completed write to the virtual-APIC page that needs APIC-write emulation", T,
	 "secondary bit 8 APIC-register virtualization / bit 9 virtual-interrupt delivery",
	 HVX_QUAL_APIC_WRITE, HVX_INSTR_INFO_NONE, false, false},
	{57, "VMX_REASON_RDRAND", "RDRAND", "the guest executed RDRAND", F,
	 "secondary bit 11 RDRAND exiting", HVX_QUAL_NONE, HVX_INSTR_INFO_RDRAND_RDSEED, true, false},
	{58, "VMX_REASON_INVPCID", "INVPCID", "the guest executed INVPCID", F,
	 "secondary bit 12 enable INVPCID and primary bit 9 INVLPG exiting",
	 HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_INVALIDATION, true, false},
	{59, "VMX_REASON_VMFUNC", "VMFUNC",
	 "VMFUNC of a function not enabled, or with an invalid argument", F,
	 "secondary bit 13 enable VM functions + VM-function controls (0x2018)",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{60, "VMX_REASON_ENCLS", "ENCLS", "ENCLS with a leaf selected by the ENCLS-exiting bitmap", F,
	 "secondary bit 15 enable ENCLS exiting + ENCLS-exiting bitmap",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, false},
	{61, "VMX_REASON_RDSEED", "RDSEED", "the guest executed RDSEED", F,
	 "secondary bit 16 RDSEED exiting", HVX_QUAL_NONE, HVX_INSTR_INFO_RDRAND_RDSEED, true, false},
	{62, "VMX_REASON_PML_FULL", "page-modification log full",
	 "an EPT dirty-bit update needed a log entry while the PML index was out of range", F,
	 "secondary bit 17 enable PML", HVX_QUAL_PML_FULL, HVX_INSTR_INFO_NONE, false, false},
	{63, "VMX_REASON_XSAVES", "XSAVES", "XSAVES of a component set in the XSS-exiting bitmap", F,
	 "secondary bit 20 enable XSAVES/XRSTORS + XSS-exiting bitmap (0x202C)",
	 HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_VMX_MEMORY, true, false},
	{64, "VMX_REASON_XRSTORS", "XRSTORS", "XRSTORS of a component set in the XSS-exiting bitmap", F,
	 "secondary bit 20 enable XSAVES/XRSTORS + XSS-exiting bitmap (0x202C)",
	 HVX_QUAL_DISPLACEMENT, HVX_INSTR_INFO_VMX_MEMORY, true, false},
	{65, NULL, "PCONFIG", "the guest executed PCONFIG (Apple defines no name)", F,
	 "UNCONFIRMED (not in the spec)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, true, true},
	{66, "VMX_REASON_SPP_EVENT", "SPP-related event",
	 "a write to a sub-page-protected page hit an SPP miss or misconfiguration", F,
	 "secondary bit 23 sub-page write permissions for EPT", HVX_QUAL_SPP, HVX_INSTR_INFO_NONE, false, true},
	{67, "VMX_REASON_UMWAIT", "UMWAIT", "the guest executed UMWAIT", F,
	 "secondary bit 26 enable user wait and pause and primary bit 12 RDTSC exiting",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_UMWAIT_TPAUSE, true, true},
	{68, "VMX_REASON_TPAUSE", "TPAUSE", "the guest executed TPAUSE", F,
	 "secondary bit 26 enable user wait and pause and primary bit 12 RDTSC exiting",
	 HVX_QUAL_NONE, HVX_INSTR_INFO_UMWAIT_TPAUSE, true, true},
	{69, NULL, "LOADIWKEY", "the guest executed LOADIWKEY (newer parts; Apple defines no name)", F,
	 "UNCONFIRMED (not in the spec)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, true},
	{70, NULL, "ENCLV", "the guest executed ENCLV (newer parts; Apple defines no name)", F,
	 "UNCONFIRMED (not in the spec)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, true},
	{71, NULL, "SGX conflict", "SGX conflict (newer parts; Apple defines no name)", E,
	 "UNCONFIRMED (not in the spec)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, true},
	{72, NULL, "ENQCMD PASID translation failure",
	 "ENQCMD could not translate the guest PASID (newer parts; Apple defines no name)", F,
	 "UNCONFIRMED (not in the spec)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, true},
	{73, NULL, "ENQCMDS PASID translation failure",
	 "ENQCMDS could not translate the guest PASID (newer parts; Apple defines no name)", F,
	 "UNCONFIRMED (not in the spec)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, true},
	{74, NULL, "bus lock", "the guest acquired a bus lock (newer parts; Apple defines no name)", T,
	 "secondary bit 30 VMM bus-lock detection (UNCONFIRMED)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, true},
	{75, NULL, "instruction timeout",
	 "the notify window elapsed without an instruction boundary (newer parts; Apple defines no name)", E,
	 "UNCONFIRMED (not in the spec)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, true},
	{76, NULL, "SEAMCALL", "the guest executed SEAMCALL (newer parts; Apple defines no name)", F,
	 "UNCONFIRMED (not in the spec)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, true},
	{77, NULL, "TDCALL", "the guest executed TDCALL (newer parts; Apple defines no name)", F,
	 "UNCONFIRMED (not in the spec)", HVX_QUAL_NONE, HVX_INSTR_INFO_NONE, false, true},
};

_Static_assert(sizeof rows / sizeof rows[0] == HVX_EXIT_REASON_MAX + 1, "one row per basic reason 0..HVX_EXIT_REASON_MAX");

#define APPLE_PREFIX "VMX_REASON_"

HVX_EXPORT const struct hvx_exit_reason_info *hvx_exit_reason_lookup(unsigned number)
{
	return number <= HVX_EXIT_REASON_MAX ? &rows[number] : NULL;
}

HVX_EXPORT size_t hvx_exit_reason_count(void)
{
	return sizeof rows / sizeof rows[0];
}

HVX_EXPORT const struct hvx_exit_reason_info *hvx_exit_reason_at(size_t index)
{
	return index < hvx_exit_reason_count() ? &rows[index] : NULL;
}

HVX_EXPORT size_t hvx_exit_reason_apple_count(void)
{
	size_t n = 0;
	for (size_t i = 0; i < hvx_exit_reason_count(); i++)
		n += rows[i].apple_name != NULL;
	return n;
}

static bool same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
			return false;
	return *a == *b;
}

HVX_EXPORT const struct hvx_exit_reason_info *hvx_exit_reason_by_name(const char *name)
{
	if (!name || !*name)
		return NULL;
	const size_t plen = strlen(APPLE_PREFIX);
	for (size_t i = 0; i < hvx_exit_reason_count(); i++) {
		const char *apple = rows[i].apple_name;
		if (!apple)
			continue;
		if (same_name(name, apple) || same_name(name, apple + plen))
			return &rows[i];
	}
	return NULL;
}

HVX_EXPORT const char *hvx_exit_reason_short_name(const struct hvx_exit_reason_info *info)
{
	if (!info)
		return NULL;
	if (info->apple_name)
		return info->apple_name + strlen(APPLE_PREFIX);
	return info->intel_name;
}

static const char *const class_names[] = {"unused", "fault", "trap", "event", "entry-failure"};

HVX_EXPORT const char *hvx_exit_class_name(enum hvx_exit_class c)
{
	return (unsigned)c < sizeof class_names / sizeof class_names[0] ? class_names[c] : "?";
}

static const char *const qual_format_names[HVX_QUAL_FORMAT_COUNT] = {
	[HVX_QUAL_NONE] = "none",
	[HVX_QUAL_EXCEPTION] = "exception",
	[HVX_QUAL_DEBUG] = "debug",
	[HVX_QUAL_PAGE_FAULT] = "page-fault",
	[HVX_QUAL_SIPI] = "sipi",
	[HVX_QUAL_TASK_SWITCH] = "task-switch",
	[HVX_QUAL_LINEAR_ADDRESS] = "linear-address",
	[HVX_QUAL_DISPLACEMENT] = "displacement",
	[HVX_QUAL_CR_ACCESS] = "cr-access",
	[HVX_QUAL_DR_ACCESS] = "dr-access",
	[HVX_QUAL_IO] = "io",
	[HVX_QUAL_ENTRY_GUEST] = "entry-guest",
	[HVX_QUAL_ENTRY_MSR] = "entry-msr",
	[HVX_QUAL_MWAIT] = "mwait",
	[HVX_QUAL_APIC_ACCESS] = "apic-access",
	[HVX_QUAL_EOI] = "eoi",
	[HVX_QUAL_EPT_VIOLATION] = "ept-violation",
	[HVX_QUAL_APIC_WRITE] = "apic-write",
	[HVX_QUAL_PML_FULL] = "pml-full",
	[HVX_QUAL_SPP] = "spp",
};

HVX_EXPORT const char *hvx_qual_format_name(enum hvx_qual_format f)
{
	return (unsigned)f < HVX_QUAL_FORMAT_COUNT ? qual_format_names[f] : "?";
}

static const char *const instr_info_format_names[HVX_INSTR_INFO_FORMAT_COUNT] = {
	[HVX_INSTR_INFO_NONE] = "none",
	[HVX_INSTR_INFO_INS_OUTS] = "ins-outs",
	[HVX_INSTR_INFO_INVALIDATION] = "invept-invpcid-invvpid",
	[HVX_INSTR_INFO_GDTR_IDTR] = "lgdt-lidt-sgdt-sidt",
	[HVX_INSTR_INFO_LDTR_TR] = "lldt-ltr-sldt-str",
	[HVX_INSTR_INFO_RDRAND_RDSEED] = "rdrand-rdseed",
	[HVX_INSTR_INFO_VMX_MEMORY] = "vmclear-vmptrld-vmptrst-vmxon-xrstors-xsaves",
	[HVX_INSTR_INFO_VMREAD_VMWRITE] = "vmread-vmwrite",
	[HVX_INSTR_INFO_UMWAIT_TPAUSE] = "umwait-tpause",
};

HVX_EXPORT const char *hvx_instr_info_format_name(enum hvx_instr_info_format f)
{
	return (unsigned)f < HVX_INSTR_INFO_FORMAT_COUNT ? instr_info_format_names[f] : "?";
}
