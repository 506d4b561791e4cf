/* decode.c: decoders turning raw VM-exit fields (reason word, qualification, instruction and interruption information) into structs. */
#include <stdint.h>
#include <string.h>

#include <hvx/hvx_exit.h>

#include "core/export.h"

#define BIT(v, n) ((((v) >> (n)) & 1u) != 0)
#define FIELD(v, hi, lo) ((unsigned)(((v) >> (lo)) & ((1ull << ((hi) - (lo) + 1)) - 1)))

/* ------------------------------------------------------------ reason word */

HVX_EXPORT void hvx_exit_reason_word_decode(uint32_t raw, struct hvx_exit_reason_word *out)
{
	memset(out, 0, sizeof *out);
	out->raw = raw;
	out->basic = (uint16_t)(raw & HVX_EXIT_REASON_BASIC_MASK);
	out->shadow_stack_busy = (raw & HVX_EXIT_REASON_SHADOW_STACK_BUSY) != 0;
	out->bus_lock = (raw & HVX_EXIT_REASON_BUS_LOCK) != 0;
	out->enclave = (raw & HVX_EXIT_REASON_ENCLAVE) != 0;
	out->pending_mtf = (raw & HVX_EXIT_REASON_PENDING_MTF) != 0;
	out->from_root = (raw & HVX_EXIT_REASON_FROM_ROOT) != 0;
	out->entry_failure = (raw & HVX_EXIT_REASON_ENTRY_FAILURE) != 0;
	out->reserved = raw & HVX_EXIT_REASON_RESERVED_MASK;
}

/* ------------------------------------------------------------ qualification */

/* Bits 2:0 of the I/O qualification -> access size in bytes (1, 3 and 5..7 are not defined). */
static const unsigned io_sizes[8] = {1, 2, 0, 4, 0, 0, 0, 0};

static int64_t sign_extend64(uint64_t v)
{
	return v <= (uint64_t)INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

HVX_EXPORT void hvx_exit_qual_decode(enum hvx_qual_format format, uint64_t q, struct hvx_exit_qual *out)
{
	memset(out, 0, sizeof *out);
	out->format = (unsigned)format < HVX_QUAL_FORMAT_COUNT ? format : HVX_QUAL_NONE;
	out->raw = q;
	switch (out->format) {
	case HVX_QUAL_NONE:
	case HVX_QUAL_EXCEPTION:
	case HVX_QUAL_FORMAT_COUNT:
		break;
	case HVX_QUAL_DEBUG:
		out->u.debug.breakpoints = FIELD(q, 3, 0);
		out->u.debug.bd = BIT(q, 13);
		out->u.debug.bs = BIT(q, 14);
		out->u.debug.rtm = BIT(q, 16);
		break;
	case HVX_QUAL_PAGE_FAULT:
	case HVX_QUAL_LINEAR_ADDRESS:
		out->u.linear_address = q;
		break;
	case HVX_QUAL_SIPI:
	case HVX_QUAL_EOI:
		out->u.vector = (uint8_t)FIELD(q, 7, 0);
		break;
	case HVX_QUAL_TASK_SWITCH:
		out->u.task.selector = (uint16_t)FIELD(q, 15, 0);
		out->u.task.source = (enum hvx_task_source)FIELD(q, 31, 30);
		break;
	case HVX_QUAL_DISPLACEMENT:
		out->u.displacement = sign_extend64(q);
		break;
	case HVX_QUAL_CR_ACCESS:
		out->u.cr.cr = FIELD(q, 3, 0);
		out->u.cr.access = (enum hvx_cr_access)FIELD(q, 5, 4);
		out->u.cr.lmsw_memory = BIT(q, 6);
		out->u.cr.gpr = FIELD(q, 11, 8);
		out->u.cr.lmsw_data = (uint16_t)FIELD(q, 31, 16);
		break;
	case HVX_QUAL_DR_ACCESS:
		out->u.dr.dr = FIELD(q, 2, 0);
		out->u.dr.from_dr = BIT(q, 4);
		out->u.dr.gpr = FIELD(q, 11, 8);
		break;
	case HVX_QUAL_IO:
		out->u.io.size_field = FIELD(q, 2, 0);
		out->u.io.size = io_sizes[out->u.io.size_field];
		out->u.io.in = BIT(q, 3);
		out->u.io.string = BIT(q, 4);
		out->u.io.rep = BIT(q, 5);
		out->u.io.immediate = BIT(q, 6);
		out->u.io.port = (uint16_t)FIELD(q, 31, 16);
		break;
	case HVX_QUAL_ENTRY_GUEST:
		out->u.entry_guest = (unsigned)FIELD(q, 31, 0);
		break;
	case HVX_QUAL_ENTRY_MSR:
		out->u.entry_msr_index = (uint32_t)FIELD(q, 31, 0);
		break;
	case HVX_QUAL_MWAIT:
		out->u.monitor_armed = BIT(q, 0);
		break;
	case HVX_QUAL_APIC_ACCESS:
		out->u.apic.offset = (uint16_t)FIELD(q, 11, 0);
		out->u.apic.type = FIELD(q, 15, 12);
		out->u.apic.asynchronous = BIT(q, 16);
		break;
	case HVX_QUAL_EPT_VIOLATION:
		out->u.ept.read = BIT(q, 0);
		out->u.ept.write = BIT(q, 1);
		out->u.ept.fetch = BIT(q, 2);
		out->u.ept.readable = BIT(q, 3);
		out->u.ept.writable = BIT(q, 4);
		out->u.ept.executable = BIT(q, 5);
		out->u.ept.user_executable = BIT(q, 6);
		out->u.ept.gla_valid = BIT(q, 7);
		out->u.ept.final_translation = BIT(q, 8);
		out->u.ept.user_mode = BIT(q, 9);
		out->u.ept.guest_rw = BIT(q, 10);
		out->u.ept.guest_nx = BIT(q, 11);
		out->u.ept.nmi_unblocking = BIT(q, 12);
		out->u.ept.shadow_stack = BIT(q, 13);
		out->u.ept.supervisor_shadow_stack = BIT(q, 14);
		out->u.ept.asynchronous = BIT(q, 16);
		break;
	case HVX_QUAL_APIC_WRITE:
		out->u.apic_offset = (uint16_t)FIELD(q, 11, 0);
		break;
	case HVX_QUAL_PML_FULL:
		out->u.nmi_unblocking = BIT(q, 12);
		break;
	case HVX_QUAL_SPP:
		out->u.spp.miss = BIT(q, 11);
		out->u.spp.nmi_unblocking = BIT(q, 12);
		break;
	}
}

static const char *const task_sources[4] = {"CALL", "IRET", "JMP", "IDT task gate"};

HVX_EXPORT const char *hvx_task_source_name(enum hvx_task_source s)
{
	return (unsigned)s < 4 ? task_sources[s] : "?";
}

static const char *const cr_accesses[4] = {"MOV to CR", "MOV from CR", "CLTS", "LMSW"};

HVX_EXPORT const char *hvx_cr_access_name(enum hvx_cr_access a)
{
	return (unsigned)a < 4 ? cr_accesses[a] : "?";
}

static const char *const apic_access_types[16] = {
	[0] = "linear data read",
	[1] = "linear data write",
	[2] = "linear instruction fetch",
	[3] = "linear access during event delivery",
	[10] = "guest-physical access during event delivery",
	[15] = "guest-physical access for instruction fetch or execution",
};

HVX_EXPORT const char *hvx_apic_access_type_name(unsigned type)
{
	return type < 16 ? apic_access_types[type] : NULL;
}

static const char *const entry_guest_quals[5] = {
	[0] = "default (invalid guest state)",
	[2] = "PDPTE load failure",
	[3] = "NMI injection while STI blocking",
	[4] = "invalid VMCS link pointer",
};

HVX_EXPORT const char *hvx_entry_guest_qual_name(unsigned code)
{
	return code < 5 ? entry_guest_quals[code] : NULL;
}

/* ------------------------------------------------------------ instruction information */

static const unsigned address_sizes[8] = {16, 32, 64, 0, 0, 0, 0, 0};
static const unsigned rdrand_operand_sizes[4] = {16, 32, 64, 0};

/* Fill the memory-operand fields shared by every layout that has them (scale, address size, segment, index, base). */
static void decode_memory_operand(uint32_t raw, struct hvx_instr_info *out)
{
	out->memory = true;
	out->scale = 1u << FIELD(raw, 1, 0);
	out->has_address_size = true;
	out->address_size = address_sizes[FIELD(raw, 9, 7)];
	out->has_segment = true;
	out->segment = FIELD(raw, 17, 15);
	out->index_valid = !BIT(raw, 22);
	out->index_reg = out->index_valid ? FIELD(raw, 21, 18) : 0;
	out->base_valid = !BIT(raw, 27);
	out->base_reg = out->base_valid ? FIELD(raw, 26, 23) : 0;
}

/* Identity bits 29:28 of the descriptor-table layouts (= ModRM.reg of 0F 01 /r and 0F 00 /r). */
static const enum hvx_instr gdtr_idtr_instrs[4] = {HVX_INSTR_SGDT, HVX_INSTR_SIDT, HVX_INSTR_LGDT, HVX_INSTR_LIDT};
static const enum hvx_instr ldtr_tr_instrs[4] = {HVX_INSTR_SLDT, HVX_INSTR_STR, HVX_INSTR_LLDT, HVX_INSTR_LTR};

HVX_EXPORT void hvx_instr_info_decode(enum hvx_instr_info_format format, uint32_t raw, struct hvx_instr_info *out)
{
	memset(out, 0, sizeof *out);
	out->format = (unsigned)format < HVX_INSTR_INFO_FORMAT_COUNT ? format : HVX_INSTR_INFO_NONE;
	out->raw = raw;
	switch (out->format) {
	case HVX_INSTR_INFO_NONE:
	case HVX_INSTR_INFO_FORMAT_COUNT:
		break;
	case HVX_INSTR_INFO_INS_OUTS:
		out->has_address_size = true;
		out->address_size = address_sizes[FIELD(raw, 9, 7)];
		out->has_segment = true;
		out->segment = FIELD(raw, 17, 15);
		break;
	case HVX_INSTR_INFO_INVALIDATION:
		decode_memory_operand(raw, out);
		out->has_reg2 = true;
		out->reg2 = FIELD(raw, 31, 28);
		break;
	case HVX_INSTR_INFO_GDTR_IDTR:
		decode_memory_operand(raw, out);
		out->operand_size = BIT(raw, 11) ? 32 : 16;
		out->instr = gdtr_idtr_instrs[FIELD(raw, 29, 28)];
		break;
	case HVX_INSTR_INFO_LDTR_TR:
	case HVX_INSTR_INFO_VMREAD_VMWRITE:
		if (BIT(raw, 10)) {
			out->has_reg1 = true;
			out->reg1 = FIELD(raw, 6, 3);
		} else {
			decode_memory_operand(raw, out);
		}
		if (out->format == HVX_INSTR_INFO_LDTR_TR) {
			out->instr = ldtr_tr_instrs[FIELD(raw, 29, 28)];
		} else {
			out->has_reg2 = true;
			out->reg2 = FIELD(raw, 31, 28);
		}
		break;
	case HVX_INSTR_INFO_RDRAND_RDSEED:
	case HVX_INSTR_INFO_UMWAIT_TPAUSE:
		out->has_reg1 = true;
		out->reg1 = FIELD(raw, 6, 3);
		out->operand_size = rdrand_operand_sizes[FIELD(raw, 12, 11)];
		break;
	case HVX_INSTR_INFO_VMX_MEMORY:
		decode_memory_operand(raw, out);
		break;
	}
}

static const char *const gpr_names[16] = {
	"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
	"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
};

HVX_EXPORT const char *hvx_gpr_name(unsigned reg)
{
	return reg < 16 ? gpr_names[reg] : "?";
}

static const char *const segment_names[6] = {"ES", "CS", "SS", "DS", "FS", "GS"};

HVX_EXPORT const char *hvx_segment_name(unsigned seg)
{
	return seg < 6 ? segment_names[seg] : "?";
}

static const char *const instr_names[HVX_INSTR_COUNT] = {
	[HVX_INSTR_UNKNOWN] = "?",
	[HVX_INSTR_INS] = "INS", [HVX_INSTR_OUTS] = "OUTS",
	[HVX_INSTR_INVEPT] = "INVEPT", [HVX_INSTR_INVPCID] = "INVPCID", [HVX_INSTR_INVVPID] = "INVVPID",
	[HVX_INSTR_SGDT] = "SGDT", [HVX_INSTR_SIDT] = "SIDT", [HVX_INSTR_LGDT] = "LGDT", [HVX_INSTR_LIDT] = "LIDT",
	[HVX_INSTR_SLDT] = "SLDT", [HVX_INSTR_STR] = "STR", [HVX_INSTR_LLDT] = "LLDT", [HVX_INSTR_LTR] = "LTR",
	[HVX_INSTR_RDRAND] = "RDRAND", [HVX_INSTR_RDSEED] = "RDSEED",
	[HVX_INSTR_VMCLEAR] = "VMCLEAR", [HVX_INSTR_VMPTRLD] = "VMPTRLD", [HVX_INSTR_VMPTRST] = "VMPTRST",
	[HVX_INSTR_VMXON] = "VMXON", [HVX_INSTR_XRSTORS] = "XRSTORS", [HVX_INSTR_XSAVES] = "XSAVES",
	[HVX_INSTR_VMREAD] = "VMREAD", [HVX_INSTR_VMWRITE] = "VMWRITE",
	[HVX_INSTR_UMWAIT] = "UMWAIT", [HVX_INSTR_TPAUSE] = "TPAUSE",
};

HVX_EXPORT const char *hvx_instr_name(enum hvx_instr instr)
{
	return (unsigned)instr < HVX_INSTR_COUNT ? instr_names[instr] : "?";
}

/* The single instruction behind an exit reason (reasons not listed vary or have no instruction-information word). */
static const enum hvx_instr reason_instrs[HVX_EXIT_REASON_MAX + 1] = {
	[19] = HVX_INSTR_VMCLEAR, [21] = HVX_INSTR_VMPTRLD, [22] = HVX_INSTR_VMPTRST,
	[23] = HVX_INSTR_VMREAD, [25] = HVX_INSTR_VMWRITE, [27] = HVX_INSTR_VMXON,
	[50] = HVX_INSTR_INVEPT, [53] = HVX_INSTR_INVVPID, [57] = HVX_INSTR_RDRAND,
	[58] = HVX_INSTR_INVPCID, [61] = HVX_INSTR_RDSEED, [63] = HVX_INSTR_XSAVES,
	[64] = HVX_INSTR_XRSTORS, [67] = HVX_INSTR_UMWAIT, [68] = HVX_INSTR_TPAUSE,
};

HVX_EXPORT enum hvx_instr hvx_exit_reason_instr(unsigned basic_reason)
{
	return basic_reason <= HVX_EXIT_REASON_MAX ? reason_instrs[basic_reason] : HVX_INSTR_UNKNOWN;
}

/* ------------------------------------------------------------ interruption information */

HVX_EXPORT void hvx_intr_info_decode(uint32_t raw, struct hvx_intr_info *out)
{
	memset(out, 0, sizeof *out);
	out->raw = raw;
	out->valid = BIT(raw, 31);
	out->vector = (uint8_t)FIELD(raw, 7, 0);
	out->type = (enum hvx_intr_type)FIELD(raw, 10, 8);
	out->error_code_valid = BIT(raw, 11);
	out->nmi_unblocking = BIT(raw, 12);
	out->nested_exception = BIT(raw, 13);
	out->reserved = raw & 0x7fffc000u;
}

static const char *const intr_type_names[8] = {
	"external interrupt", "reserved", "NMI", "hardware exception",
	"software interrupt", "privileged software exception", "software exception", "other event",
};

HVX_EXPORT const char *hvx_intr_type_name(enum hvx_intr_type t)
{
	return (unsigned)t < 8 ? intr_type_names[t] : "?";
}

static const char *const exception_mnemonics[32] = {
	[0] = "#DE", [1] = "#DB", [2] = "NMI", [3] = "#BP", [4] = "#OF", [5] = "#BR", [6] = "#UD", [7] = "#NM",
	[8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS", [13] = "#GP",
	[14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM", [20] = "#VE", [21] = "#CP",
};

HVX_EXPORT const char *hvx_exception_mnemonic(unsigned vector)
{
	return vector < 32 ? exception_mnemonics[vector] : NULL;
}

/* ------------------------------------------------------------ whole exit */

/* Reason 0's qualification depends on the vector: #DB (hardware or INT1) -> DR6-like bits, #PF -> linear address. */
static enum hvx_qual_format resolve_exception_qual(const struct hvx_exit_decoded *d)
{
	if (!d->have_intr_info || !d->intr.valid)
		return HVX_QUAL_EXCEPTION;
	if (d->intr.vector == 1 && (d->intr.type == HVX_INTR_HW_EXCEPTION || d->intr.type == HVX_INTR_PRIV_SW_EXCEPTION))
		return HVX_QUAL_DEBUG;
	if (d->intr.vector == 14 && d->intr.type == HVX_INTR_HW_EXCEPTION)
		return HVX_QUAL_PAGE_FAULT;
	return HVX_QUAL_NONE;
}

HVX_EXPORT int hvx_exit_decode(const struct hvx_exit_raw *in, struct hvx_exit_decoded *out)
{
	if (!in || !out)
		return -1;
	memset(out, 0, sizeof *out);
	hvx_exit_reason_word_decode(in->reason, &out->reason);
	out->info = hvx_exit_reason_lookup(out->reason.basic);

	if (in->have & HVX_EXIT_HAVE_INTR_INFO) {
		out->have_intr_info = true;
		hvx_intr_info_decode(in->intr_info, &out->intr);
		if (out->intr.valid && out->intr.error_code_valid)
			out->intr_error = in->intr_error;
	}
	if (in->have & HVX_EXIT_HAVE_IDT_INFO) {
		out->have_idt_info = true;
		hvx_intr_info_decode(in->idt_info, &out->idt);
		if (out->idt.valid && out->idt.error_code_valid)
			out->idt_error = in->idt_error;
	}

	if (in->have & HVX_EXIT_HAVE_QUAL) {
		enum hvx_qual_format f = out->info ? out->info->qual_format : HVX_QUAL_NONE;
		if (f == HVX_QUAL_EXCEPTION)
			f = resolve_exception_qual(out);
		out->have_qual = true;
		hvx_exit_qual_decode(f, in->qualification, &out->qual);
	}

	enum hvx_instr_info_format ifmt = out->info ? out->info->instr_info_format : HVX_INSTR_INFO_NONE;
	if ((in->have & HVX_EXIT_HAVE_INSTR_INFO) && ifmt != HVX_INSTR_INFO_NONE) {
		/* I/O: only INS/OUTS have instruction information; their direction comes from the qualification. */
		bool defined = true;
		enum hvx_instr io_instr = HVX_INSTR_UNKNOWN;
		if (ifmt == HVX_INSTR_INFO_INS_OUTS && out->have_qual && out->qual.format == HVX_QUAL_IO) {
			defined = out->qual.u.io.string;
			io_instr = out->qual.u.io.in ? HVX_INSTR_INS : HVX_INSTR_OUTS;
		}
		if (defined) {
			out->have_instr_info = true;
			hvx_instr_info_decode(ifmt, in->instr_info, &out->instr);
			if (out->instr.instr == HVX_INSTR_UNKNOWN)
				out->instr.instr = io_instr != HVX_INSTR_UNKNOWN ? io_instr : hvx_exit_reason_instr(out->reason.basic);
			if (io_instr == HVX_INSTR_INS) {
				out->instr.has_segment = false; /* INS always writes through ES; the field is undefined */
				out->instr.segment = 0;
			}
		}
	}

	if (in->have & HVX_EXIT_HAVE_INSTR_LEN) {
		out->have_instr_len = true;
		out->instr_len = in->instr_len;
	}
	if (in->have & HVX_EXIT_HAVE_GLA) {
		out->have_gla = true;
		out->guest_linear = in->guest_linear;
	}
	if (in->have & HVX_EXIT_HAVE_GPA) {
		out->have_gpa = true;
		out->guest_physical = in->guest_physical;
	}
	return 0;
}
