/* hvx_exit.h: VM-exit information library: the exit-reason table, decoders for every exit-information field, text and JSON output. */
#ifndef HVX_HVX_EXIT_H
#define HVX_HVX_EXIT_H

/*
 * Everything here is pure data transformation: no VM, no vCPU, no allocation.
 * Output functions write into caller buffers the way snprintf does: they never
 * write more than `size` bytes (always NUL-terminated when size > 0) and return
 * the length the full output needs, excluding the NUL.
 *
 * Facts follow Intel's SDM (via the project's spec/vmx-exits.md) and Apple's
 * VMX_REASON_* names (spec/hvf-x86-api.md section 4.6). Table entries and fields
 * the spec marks UNCONFIRMED are flagged as such (hvx_exit_reason_info.unconfirmed,
 * comments below).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- table */

/* Highest basic exit reason the table describes; numbers above it decode as "unknown reason N". */
#define HVX_EXIT_REASON_MAX 77u

/* How an exit relates to the guest instruction stream (spec table 1, "F/T" column). */
enum hvx_exit_class {
	HVX_EXIT_CLASS_UNUSED = 0,        /* number not assigned (35, 38, 42) */
	HVX_EXIT_CLASS_FAULT = 1,         /* fault-like: the instruction or access did not happen */
	HVX_EXIT_CLASS_TRAP = 2,          /* trap-like: the instruction or access completed */
	HVX_EXIT_CLASS_EVENT = 3,         /* an event, or an instruction-boundary condition (windows, MTF, timer) */
	HVX_EXIT_CLASS_ENTRY_FAILURE = 4  /* VM-entry failure: reason word bit 31 set */
};

/* Which layout the exit qualification (VMCS 0x6400) has. */
enum hvx_qual_format {
	HVX_QUAL_NONE = 0,          /* cleared to 0 (or, for EPT misconfiguration and entry machine check, not defined) */
	HVX_QUAL_EXCEPTION,         /* reason 0: #DB -> debug format, #PF -> linear address, others 0 (needs interruption info) */
	HVX_QUAL_DEBUG,             /* #DB: DR6-like bits */
	HVX_QUAL_PAGE_FAULT,        /* #PF: faulting linear address */
	HVX_QUAL_SIPI,              /* SIPI vector in 7:0 */
	HVX_QUAL_TASK_SWITCH,       /* selector 15:0, source 31:30 */
	HVX_QUAL_LINEAR_ADDRESS,    /* INVLPG: linear-address operand */
	HVX_QUAL_DISPLACEMENT,      /* instruction displacement, sign-extended */
	HVX_QUAL_CR_ACCESS,         /* control-register access */
	HVX_QUAL_DR_ACCESS,         /* MOV DR */
	HVX_QUAL_IO,                /* I/O instruction (also I/O SMI) */
	HVX_QUAL_ENTRY_GUEST,       /* reason 33: 0 default, 2 PDPTE load, 3 NMI injection with STI blocking, 4 VMCS link pointer */
	HVX_QUAL_ENTRY_MSR,         /* reason 34: 1-based index of the failing MSR-load entry */
	HVX_QUAL_MWAIT,             /* bit 0: monitor hardware armed */
	HVX_QUAL_APIC_ACCESS,       /* offset 11:0, access type 15:12 */
	HVX_QUAL_EOI,               /* vector 7:0 */
	HVX_QUAL_EPT_VIOLATION,     /* access, permissions, GLA validity, NMI unblocking */
	HVX_QUAL_APIC_WRITE,        /* offset 11:0 */
	HVX_QUAL_PML_FULL,          /* bit 12 (NMI unblocking) only */
	HVX_QUAL_SPP,               /* bit 11 SPP miss, bit 12 NMI unblocking (UNCONFIRMED layout) */
	HVX_QUAL_FORMAT_COUNT
};

/* Which layout the VM-exit instruction-information field (VMCS 0x440E) has. */
enum hvx_instr_info_format {
	HVX_INSTR_INFO_NONE = 0,
	HVX_INSTR_INFO_INS_OUTS,        /* address size, segment (only if IA32_VMX_BASIC[54]) */
	HVX_INSTR_INFO_INVALIDATION,    /* INVEPT, INVPCID, INVVPID: memory operand + Reg2 (type) */
	HVX_INSTR_INFO_GDTR_IDTR,       /* LGDT, LIDT, SGDT, SIDT */
	HVX_INSTR_INFO_LDTR_TR,         /* LLDT, LTR, SLDT, STR */
	HVX_INSTR_INFO_RDRAND_RDSEED,   /* destination register, operand size */
	HVX_INSTR_INFO_VMX_MEMORY,      /* VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS, XSAVES */
	HVX_INSTR_INFO_VMREAD_VMWRITE,  /* Reg1 or memory operand, Reg2 = field encoding */
	HVX_INSTR_INFO_UMWAIT_TPAUSE,   /* RDRAND layout, Reg1 = source register (UNCONFIRMED) */
	HVX_INSTR_INFO_FORMAT_COUNT
};

/* One row of the exit-reason table. */
struct hvx_exit_reason_info {
	uint16_t number;                 /* basic exit reason (bits 15:0 of the reason word) */
	const char *apple_name;          /* "VMX_REASON_IO"; NULL where Apple defines no name */
	const char *intel_name;          /* Intel's name, e.g. "I/O instruction"; "(unused)" for 35/38/42 */
	const char *cause;               /* one line: what makes it happen */
	enum hvx_exit_class exit_class;
	const char *control;             /* governing VM-execution control(s), or "unconditional" */
	enum hvx_qual_format qual_format;
	enum hvx_instr_info_format instr_info_format;
	bool instr_len;                  /* VM-exit instruction length is defined (at least in some cases) */
	bool unconfirmed;                /* some fact in this row is UNCONFIRMED in the spec */
};

/* Table row for a basic reason (0..HVX_EXIT_REASON_MAX), NULL above the table. */
const struct hvx_exit_reason_info *hvx_exit_reason_lookup(unsigned number);

/*
 * Row by name: Apple's full name ("VMX_REASON_IO") or the part after VMX_REASON_
 * ("IO"), case-insensitive. NULL when no Apple-named reason matches.
 */
const struct hvx_exit_reason_info *hvx_exit_reason_by_name(const char *name);

/* Iteration: rows 0..count-1 are reasons 0..HVX_EXIT_REASON_MAX in order. */
size_t hvx_exit_reason_count(void);
const struct hvx_exit_reason_info *hvx_exit_reason_at(size_t index);

/* Number of rows that carry an Apple name (65). */
size_t hvx_exit_reason_apple_count(void);

/* Short display name: Apple's name without "VMX_REASON_" ("IO"), else Intel's name. NULL above the table. */
const char *hvx_exit_reason_short_name(const struct hvx_exit_reason_info *info);

/* Names of the enums above ("fault", "io", "vmread-vmwrite", ...); "?" when out of range. */
const char *hvx_exit_class_name(enum hvx_exit_class c);
const char *hvx_qual_format_name(enum hvx_qual_format f);
const char *hvx_instr_info_format_name(enum hvx_instr_info_format f);

/* ---------------------------------------------------------------- reason word */

/* Bits of the full exit-reason word (VMCS 0x4402). */
#define HVX_EXIT_REASON_BASIC_MASK          0x0000ffffu
#define HVX_EXIT_REASON_SHADOW_STACK_BUSY   (1u << 25) /* UNCONFIRMED vs SDM text */
#define HVX_EXIT_REASON_BUS_LOCK            (1u << 26) /* UNCONFIRMED vs SDM text */
#define HVX_EXIT_REASON_ENCLAVE             (1u << 27)
#define HVX_EXIT_REASON_PENDING_MTF         (1u << 28)
#define HVX_EXIT_REASON_FROM_ROOT           (1u << 29)
#define HVX_EXIT_REASON_ENTRY_FAILURE       (1u << 31)
#define HVX_EXIT_REASON_RESERVED_MASK       0x41ff0000u /* 24:16 and 30 */

struct hvx_exit_reason_word {
	uint32_t raw;
	uint16_t basic;
	bool shadow_stack_busy;  /* bit 25 (UNCONFIRMED) */
	bool bus_lock;           /* bit 26 (UNCONFIRMED) */
	bool enclave;            /* bit 27: exit from enclave mode */
	bool pending_mtf;        /* bit 28: SMM exit pre-empted a pending MTF exit */
	bool from_root;          /* bit 29: SMM exit from VMX root operation */
	bool entry_failure;      /* bit 31 */
	uint32_t reserved;       /* raw & HVX_EXIT_REASON_RESERVED_MASK (should be 0) */
};

void hvx_exit_reason_word_decode(uint32_t raw, struct hvx_exit_reason_word *out);

/* ---------------------------------------------------------------- qualification */

enum hvx_task_source { HVX_TASK_CALL = 0, HVX_TASK_IRET = 1, HVX_TASK_JMP = 2, HVX_TASK_IDT_GATE = 3 };
enum hvx_cr_access { HVX_CR_MOV_TO = 0, HVX_CR_MOV_FROM = 1, HVX_CR_CLTS = 2, HVX_CR_LMSW = 3 };

struct hvx_qual_debug {
	unsigned breakpoints;   /* bits 3:0: B3..B0 */
	bool bd;                /* bit 13: debug-register access detected */
	bool bs;                /* bit 14: single step */
	bool rtm;               /* bit 16: inside an RTM region (inverse polarity of DR6.RTM) */
};

struct hvx_qual_task_switch {
	uint16_t selector;      /* 15:0 target TSS selector */
	enum hvx_task_source source; /* 31:30 */
};

struct hvx_qual_cr_access {
	unsigned cr;            /* 3:0 (0 for CLTS and LMSW) */
	enum hvx_cr_access access; /* 5:4 */
	bool lmsw_memory;       /* 6: LMSW operand is memory */
	unsigned gpr;           /* 11:8 for MOV CR */
	uint16_t lmsw_data;     /* 31:16 LMSW source data */
};

struct hvx_qual_dr_access {
	unsigned dr;            /* 2:0 */
	bool from_dr;           /* 4: 1 = MOV from DR (read), 0 = MOV to DR */
	unsigned gpr;           /* 11:8 */
};

struct hvx_qual_io {
	unsigned size;          /* bytes: 1, 2 or 4; 0 for the undefined encodings of 2:0 */
	unsigned size_field;    /* raw bits 2:0 */
	bool in;                /* 3: 1 = IN/INS */
	bool string;            /* 4 */
	bool rep;               /* 5 */
	bool immediate;         /* 6: port from an immediate operand, else DX */
	uint16_t port;          /* 31:16 */
};

struct hvx_qual_apic_access {
	uint16_t offset;        /* 11:0 (undefined for guest-physical accesses) */
	unsigned type;          /* 15:12 */
	bool asynchronous;      /* 16 (UNCONFIRMED) */
};

struct hvx_qual_ept_violation {
	bool read;              /* 0 */
	bool write;             /* 1 */
	bool fetch;             /* 2 */
	bool readable;          /* 3 */
	bool writable;          /* 4 */
	bool executable;        /* 5 (supervisor-executable with MBEC) */
	bool user_executable;   /* 6 (MBEC only) */
	bool gla_valid;         /* 7 */
	bool final_translation; /* 8 (meaningful when gla_valid) */
	bool user_mode;         /* 9 advanced info: guest linear address is user-mode */
	bool guest_rw;          /* 10 advanced info: guest page is read/write */
	bool guest_nx;          /* 11 advanced info: guest page is execute-disable */
	bool nmi_unblocking;    /* 12 */
	bool shadow_stack;      /* 13 (UNCONFIRMED) */
	bool supervisor_shadow_stack; /* 14 (UNCONFIRMED) */
	bool asynchronous;      /* 16 (UNCONFIRMED) */
};

struct hvx_qual_spp {
	bool miss;              /* 11: 1 = SPP miss, 0 = SPP misconfiguration (UNCONFIRMED) */
	bool nmi_unblocking;    /* 12 */
};

/* A decoded exit qualification: `format` selects the member of `u` that is meaningful. */
struct hvx_exit_qual {
	enum hvx_qual_format format;
	uint64_t raw;
	union {
		struct hvx_qual_debug debug;
		uint64_t linear_address;           /* HVX_QUAL_PAGE_FAULT, HVX_QUAL_LINEAR_ADDRESS */
		uint8_t vector;                    /* HVX_QUAL_SIPI, HVX_QUAL_EOI */
		struct hvx_qual_task_switch task;
		int64_t displacement;              /* HVX_QUAL_DISPLACEMENT (sign-extended) */
		struct hvx_qual_cr_access cr;
		struct hvx_qual_dr_access dr;
		struct hvx_qual_io io;
		unsigned entry_guest;              /* HVX_QUAL_ENTRY_GUEST: 0, 2, 3, 4 */
		uint32_t entry_msr_index;          /* HVX_QUAL_ENTRY_MSR: 1-based */
		bool monitor_armed;                /* HVX_QUAL_MWAIT */
		struct hvx_qual_apic_access apic;
		struct hvx_qual_ept_violation ept;
		uint16_t apic_offset;              /* HVX_QUAL_APIC_WRITE */
		bool nmi_unblocking;               /* HVX_QUAL_PML_FULL */
		struct hvx_qual_spp spp;
	} u;
};

/* Decode `raw` with a given layout. HVX_QUAL_EXCEPTION keeps only `raw` (resolving it needs the vector: see hvx_exit_decode). */
void hvx_exit_qual_decode(enum hvx_qual_format format, uint64_t raw, struct hvx_exit_qual *out);

/* Names: task-switch source ("CALL"), CR access type ("MOV to CR"), APIC access type, reason-33 qualification. */
const char *hvx_task_source_name(enum hvx_task_source s);
const char *hvx_cr_access_name(enum hvx_cr_access a);
const char *hvx_apic_access_type_name(unsigned type);  /* NULL for reserved types */
const char *hvx_entry_guest_qual_name(unsigned code);  /* NULL for values the SDM does not define */

/* ---------------------------------------------------------------- instruction information */

/* The instruction an exit reports (identity from the reason, or from bits 29:28 for reasons 46/47). */
enum hvx_instr {
	HVX_INSTR_UNKNOWN = 0,
	HVX_INSTR_INS, HVX_INSTR_OUTS,
	HVX_INSTR_INVEPT, HVX_INSTR_INVPCID, HVX_INSTR_INVVPID,
	HVX_INSTR_SGDT, HVX_INSTR_SIDT, HVX_INSTR_LGDT, HVX_INSTR_LIDT,
	HVX_INSTR_SLDT, HVX_INSTR_STR, HVX_INSTR_LLDT, HVX_INSTR_LTR,
	HVX_INSTR_RDRAND, HVX_INSTR_RDSEED,
	HVX_INSTR_VMCLEAR, HVX_INSTR_VMPTRLD, HVX_INSTR_VMPTRST, HVX_INSTR_VMXON,
	HVX_INSTR_XRSTORS, HVX_INSTR_XSAVES,
	HVX_INSTR_VMREAD, HVX_INSTR_VMWRITE,
	HVX_INSTR_UMWAIT, HVX_INSTR_TPAUSE,
	HVX_INSTR_COUNT
};

/* A decoded instruction-information word. Fields a layout does not define are 0/false. */
struct hvx_instr_info {
	enum hvx_instr_info_format format;
	uint32_t raw;
	enum hvx_instr instr;       /* HVX_INSTR_UNKNOWN unless the layout itself names it (46/47) or the exit reason does */
	bool has_address_size;
	unsigned address_size;      /* 16, 32, 64; 0 for the reserved encoding */
	bool has_segment;
	unsigned segment;           /* 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS */
	bool memory;                /* operand is in memory (scale/index/base meaningful) */
	unsigned scale;             /* 1, 2, 4, 8 */
	bool index_valid;
	unsigned index_reg;         /* 0 RAX .. 15 R15 */
	bool base_valid;
	unsigned base_reg;
	bool has_reg1;
	unsigned reg1;              /* register operand (6:3) */
	bool has_reg2;
	unsigned reg2;              /* second register (31:28): invalidation type / VMCS field encoding */
	unsigned operand_size;      /* 16, 32, 64 when the layout defines it, else 0 */
};

/* Decode an instruction-information word with a given layout. */
void hvx_instr_info_decode(enum hvx_instr_info_format format, uint32_t raw, struct hvx_instr_info *out);

/* "RAX".."R15" (64-bit names); "?" above 15. */
const char *hvx_gpr_name(unsigned reg);
/* "ES","CS","SS","DS","FS","GS"; "?" above 5. */
const char *hvx_segment_name(unsigned seg);
/* "VMCLEAR", "LGDT", ...; "?" for HVX_INSTR_UNKNOWN. */
const char *hvx_instr_name(enum hvx_instr instr);

/* ---------------------------------------------------------------- interruption information */

/* Type field (10:8) of VM-exit interruption information and IDT-vectoring information. */
enum hvx_intr_type {
	HVX_INTR_EXTERNAL = 0,
	HVX_INTR_RESERVED = 1,
	HVX_INTR_NMI = 2,
	HVX_INTR_HW_EXCEPTION = 3,
	HVX_INTR_SW_INTERRUPT = 4,
	HVX_INTR_PRIV_SW_EXCEPTION = 5,
	HVX_INTR_SW_EXCEPTION = 6,
	HVX_INTR_OTHER = 7
};

struct hvx_intr_info {
	uint32_t raw;
	bool valid;              /* 31 */
	uint8_t vector;          /* 7:0 */
	enum hvx_intr_type type; /* 10:8 */
	bool error_code_valid;   /* 11 */
	bool nmi_unblocking;     /* 12 (exit interruption information; undefined in IDT-vectoring information) */
	bool nested_exception;   /* 13 (FRED only) */
	uint32_t reserved;       /* 30:14 (should be 0) */
};

/* Same layout for VMCS 0x4404 (exit interruption information) and 0x4408 (IDT-vectoring information). */
void hvx_intr_info_decode(uint32_t raw, struct hvx_intr_info *out);

/* "external interrupt", "NMI", "hardware exception", "software interrupt",
   "privileged software exception", "software exception", "other event", "reserved". */
const char *hvx_intr_type_name(enum hvx_intr_type t);
/* "#DE".."#CP" for architecturally defined exception vectors, NULL otherwise. */
const char *hvx_exception_mnemonic(unsigned vector);

/* ---------------------------------------------------------------- whole exit */

/* Which of the optional fields of struct hvx_exit_raw carry a value. */
#define HVX_EXIT_HAVE_QUAL       (1u << 0)
#define HVX_EXIT_HAVE_INSTR_INFO (1u << 1)
#define HVX_EXIT_HAVE_INTR_INFO  (1u << 2)
#define HVX_EXIT_HAVE_IDT_INFO   (1u << 3)
#define HVX_EXIT_HAVE_INSTR_LEN  (1u << 4)
#define HVX_EXIT_HAVE_GLA        (1u << 5)
#define HVX_EXIT_HAVE_GPA        (1u << 6)
#define HVX_EXIT_HAVE_ALL        0x7fu

/* Raw exit information as read from the VMCS (public twin of the library's internal exit record). */
struct hvx_exit_raw {
	uint32_t reason;          /* full exit-reason word (VMCS_RO_EXIT_REASON) */
	uint64_t qualification;   /* VMCS_RO_EXIT_QUALIFIC */
	uint32_t instr_info;      /* VMCS_RO_VMX_INSTR_INFO */
	uint32_t intr_info;       /* VMCS_RO_VMEXIT_IRQ_INFO */
	uint32_t intr_error;      /* VMCS_RO_VMEXIT_IRQ_ERROR */
	uint32_t idt_info;        /* VMCS_RO_IDT_VECTOR_INFO */
	uint32_t idt_error;       /* VMCS_RO_IDT_VECTOR_ERROR */
	uint32_t instr_len;       /* VMCS_RO_VMEXIT_INSTR_LEN */
	uint64_t guest_linear;    /* VMCS_RO_GUEST_LIN_ADDR */
	uint64_t guest_physical;  /* VMCS_GUEST_PHYSICAL_ADDRESS */
	unsigned have;            /* HVX_EXIT_HAVE_* bits; fields without a bit are ignored */
};

struct hvx_exit_decoded {
	struct hvx_exit_reason_word reason;
	const struct hvx_exit_reason_info *info; /* NULL for a basic reason above the table */
	bool have_qual;
	struct hvx_exit_qual qual;               /* format resolved: reason 0 becomes DEBUG / PAGE_FAULT / NONE */
	bool have_instr_info;                    /* supplied and defined for this exit */
	struct hvx_instr_info instr;             /* identity filled in from the reason (and, for I/O, the direction) */
	bool have_intr_info;
	struct hvx_intr_info intr;
	uint32_t intr_error;
	bool have_idt_info;
	struct hvx_intr_info idt;
	uint32_t idt_error;
	bool have_instr_len;
	uint32_t instr_len;
	bool have_gla;
	uint64_t guest_linear;
	bool have_gpa;
	uint64_t guest_physical;
};

/* Decode everything `in` carries. Returns 0, or -1 if a pointer is NULL. Unknown reasons still decode. */
int hvx_exit_decode(const struct hvx_exit_raw *in, struct hvx_exit_decoded *out);

/* The instruction an exit reason reports (VMCLEAR for 19, ...); HVX_INSTR_UNKNOWN when it varies or there is none. */
enum hvx_instr hvx_exit_reason_instr(unsigned basic_reason);

/* One line, no newline, e.g. "IO (30): IN 1 byte from port 0x3f8 via DX". snprintf semantics. */
size_t hvx_exit_format_text(const struct hvx_exit_decoded *d, char *buf, size_t size);

/* One JSON object (no newline) describing the decoded exit. snprintf semantics. */
size_t hvx_exit_format_json(const struct hvx_exit_decoded *d, char *buf, size_t size);

/* One JSON object describing a table row. snprintf semantics. */
size_t hvx_exit_reason_format_json(const struct hvx_exit_reason_info *info, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
