/* vmcs.h: the VMCS field table (encoding -> name, width, kind, client access, storage) that drives every VMCS read and write. */
#ifndef HVX_CORE_VMCS_H
#define HVX_CORE_VMCS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

/* Width field of an encoding (bits 14:13). */
enum hvx_vmcs_width {
	HVX_VMCS_W16 = 0,
	HVX_VMCS_W64 = 1,
	HVX_VMCS_W32 = 2,
	HVX_VMCS_WNAT = 3,
};

/* Type field of an encoding (bits 11:10). */
enum hvx_vmcs_type {
	HVX_VMCS_CONTROL = 0,
	HVX_VMCS_EXIT_INFO = 1,
	HVX_VMCS_GUEST = 2,
	HVX_VMCS_HOST = 3,
};

/* What a client may do with a field through hv_vmx_vcpu_read/write_vmcs (Apple's classes, spec 3.4). */
enum hvx_vmcs_access {
	HVX_ACCESS_RW,          /* read and write freely */
	HVX_ACCESS_CTRL_WORD,   /* control word: stored as written, checked against the capability at VM entry */
	HVX_ACCESS_CONDITIONAL, /* writable with a per-field value rule (CR0, activity state, CR0 mask) */
	HVX_ACCESS_RO,          /* read only (exit information, TSC offset, APIC-access address) */
	HVX_ACCESS_NONE,        /* owned by the framework: read and write refused */
};

/* Which part of the state a write changes: backends that cache state re-load only what is dirty. */
enum hvx_state_group {
	HVX_GROUP_GPR = 1u << 0,
	HVX_GROUP_RIP_FLAGS = 1u << 1,
	HVX_GROUP_SEG = 1u << 2,
	HVX_GROUP_CR = 1u << 3,
	HVX_GROUP_DTABLE = 1u << 4,
	HVX_GROUP_DR = 1u << 5,
	HVX_GROUP_MSR = 1u << 6,
	HVX_GROUP_EVENT = 1u << 7,   /* injection, interruptibility, activity, pending debug */
	HVX_GROUP_CONTROL = 1u << 8, /* execution/entry/exit controls, bitmaps, masks, shadows */
	HVX_GROUP_FPU = 1u << 9,
	HVX_GROUP_EXIT = 1u << 10,   /* exit-information fields */
	HVX_GROUP_OTHER = 1u << 11,
	HVX_GROUP_ALL = (1u << 12) - 1,
};

struct hvx_vmcs_field {
	uint32_t encoding;
	const char *name;     /* Apple's name */
	uint8_t access;       /* enum hvx_vmcs_access */
	uint16_t group;       /* enum hvx_state_group */
	uint32_t offset;      /* byte offset of the storage in struct hvx_vcpu_state: a 64-bit slot, or for exit
			       * information the member of the published exit record (as wide as the field) */
};

extern const struct hvx_vmcs_field hvx_vmcs_fields[];
extern const size_t hvx_vmcs_field_count;

static inline unsigned hvx_vmcs_width_of(uint32_t enc) { return (enc >> 13) & 3; }
static inline unsigned hvx_vmcs_type_of(uint32_t enc) { return (enc >> 10) & 3; }

/*
 * How hv_vmx_vcpu_read_vmcs / hv_vmx_vcpu_write_vmcs reach one encoding: everything they need in one 16-byte entry,
 * so that the accessors' fast path is a lookup, a few tests and one load or store. A 64-bit field has two entries,
 * its full encoding and its high half (encoding | 1: bits 63:32, which on little-endian x86 start 4 bytes into the
 * slot).
 */
enum hvx_vmcs_access_flags {
	HVX_VMCS_READABLE = 1u << 0,
	HVX_VMCS_WRITABLE = 1u << 1,
	HVX_VMCS_VALUE_RULE = 1u << 2, /* HVX_ACCESS_CONDITIONAL: hvx_vmcs_check_value before a write */
	HVX_VMCS_HIGH_HALF = 1u << 3,  /* the high half of a 64-bit field: a write replaces bits 63:32 only */
	HVX_VMCS_PLAIN_WRITE = 1u << 4, /* writable, neither a value rule nor a high half: a write stores value & mask */
};
struct hvx_vmcs_accessor {
	uint64_t mask;   /* bits of the value this encoding holds (its width; a high half: 32) */
	uint16_t offset; /* byte offset of the value in struct hvx_vcpu_state (a high half: the slot's + 4) */
	uint16_t group;  /* enum hvx_state_group of the field */
	uint8_t flags;   /* enum hvx_vmcs_access_flags; 0: no client access (or no such field) */
};

/*
 * Encodings are width(14:13) type(11:10) index(9:1) high(0), with bits 12 and 31:15 reserved: every valid one is
 * below 0x8000. hvx_vmcs_accessor_at[enc] is the byte offset in hvx_vmcs_accessors of the encoding's entry: entry 0
 * for no such field, 2i + 2 for field i of hvx_vmcs_fields and 2i + 3 for its high half (64-bit fields only). A byte
 * offset rather than an index: the fast path adds it without scaling. Constant tables: one load each on every VMCS
 * read and write.
 */
#define HVX_VMCS_ENCODING_LIMIT 0x8000u
extern const uint16_t hvx_vmcs_accessor_at[HVX_VMCS_ENCODING_LIMIT] HVX_HIDDEN;
extern const struct hvx_vmcs_accessor hvx_vmcs_accessors[] HVX_HIDDEN;

/* The accessor entry of an encoding; entry 0 (no flags) for one that names no field. */
static inline const struct hvx_vmcs_accessor *hvx_vmcs_accessor_of(uint32_t enc)
{
	if (__builtin_expect(enc >= HVX_VMCS_ENCODING_LIMIT, 0))
		return hvx_vmcs_accessors;
	return (const struct hvx_vmcs_accessor *)((const char *)hvx_vmcs_accessors + hvx_vmcs_accessor_at[enc]);
}

/* The field for an encoding (a high-half encoding of a 64-bit field yields that field), or NULL. */
static inline const struct hvx_vmcs_field *hvx_vmcs_field_find(uint32_t enc)
{
	if (enc >= HVX_VMCS_ENCODING_LIMIT)
		return NULL;
	unsigned idx = hvx_vmcs_accessor_at[enc] / sizeof(struct hvx_vmcs_accessor);
	return idx ? &hvx_vmcs_fields[idx / 2 - 1] : NULL;
}

/* Mask of the bits a field of this encoding's width can hold (a high-half encoding: 32 bits), for the paths outside
 * the accessors' table (write capabilities, shadow VMCS, registers that alias a VMCS field). */
static inline uint64_t hvx_vmcs_width_mask(uint32_t enc)
{
	/* by (width << 1 | high): W16, -, W64, W64 high, W32, -, natural width, - */
	static const uint64_t masks[8] = {0xffffull, 0xffffull, ~0ull, 0xffffffffull,
					  0xffffffffull, 0xffffffffull, ~0ull, 0xffffffffull};
	return masks[(hvx_vmcs_width_of(enc) << 1) | (enc & 1)];
}

#endif
