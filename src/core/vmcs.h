/* vmcs.h: the VMCS field table (encoding -> name, width, kind, client access, storage) that drives every VMCS read and write. */
#ifndef HVX_CORE_VMCS_H
#define HVX_CORE_VMCS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	uint32_t offset;      /* byte offset of the 64-bit storage slot in struct hvx_vcpu_state */
};

extern const struct hvx_vmcs_field hvx_vmcs_fields[];
extern const size_t hvx_vmcs_field_count;

static inline unsigned hvx_vmcs_width_of(uint32_t enc) { return (enc >> 13) & 3; }
static inline unsigned hvx_vmcs_type_of(uint32_t enc) { return (enc >> 10) & 3; }

/*
 * Encodings are width(14:13) type(11:10) index(9:1) high(0), with bits 12 and 31:15 reserved: every valid one is
 * below 0x8000. hvx_vmcs_index_by_encoding[enc] = table index + 1 (0 = no such field; a high-half encoding of a
 * 64-bit field names that field), a constant table: one load on every VMCS read and write.
 */
#define HVX_VMCS_ENCODING_LIMIT 0x8000u
extern const uint8_t hvx_vmcs_index_by_encoding[HVX_VMCS_ENCODING_LIMIT];

/* The field for an encoding (a high-half encoding of a 64-bit field yields that field), or NULL. Inline: it is on
 * every VMCS read and write. */
static inline const struct hvx_vmcs_field *hvx_vmcs_field_find(uint32_t enc)
{
	if (enc >= HVX_VMCS_ENCODING_LIMIT)
		return NULL;
	unsigned idx = hvx_vmcs_index_by_encoding[enc];
	return idx ? &hvx_vmcs_fields[idx - 1] : NULL;
}

/* Mask of the bits a field of this encoding's width can hold (a high-half encoding: 32 bits). Inline: it is on
 * every VMCS read and write. */
static inline uint64_t hvx_vmcs_width_mask(uint32_t enc)
{
	/* by (width << 1 | high): W16, -, W64, W64 high, W32, -, natural width, - */
	static const uint64_t masks[8] = {0xffffull, 0xffffull, ~0ull, 0xffffffffull,
					  0xffffffffull, 0xffffffffull, ~0ull, 0xffffffffull};
	return masks[(hvx_vmcs_width_of(enc) << 1) | (enc & 1)];
}

#endif
