/* vmcs.c: the VMCS field table built from vmcs_fields.def, the accessors' per-encoding table, and lookup by encoding. */
#include <stdbool.h>
#include <stddef.h>

#include "vcpu.h"
#include "vmcs.h"

/* The exit-information fields and the member of the published exit record (hvx_vcpu_state.exit) that stores each. */
#define HVX_EXIT_FIELDS(X, n)                                                                                       \
	X(n, RO_EXIT_REASON, reason)                                                                                \
	X(n, RO_EXIT_QUALIFIC, qualification)                                                                       \
	X(n, RO_VMEXIT_INSTR_LEN, instr_len)                                                                        \
	X(n, RO_VMX_INSTR_INFO, instr_info)                                                                         \
	X(n, RO_GUEST_LIN_ADDR, guest_linear)                                                                       \
	X(n, GUEST_PHYSICAL_ADDRESS, guest_physical)                                                                \
	X(n, RO_VMEXIT_IRQ_INFO, intr_info)                                                                         \
	X(n, RO_VMEXIT_IRQ_ERROR, intr_error)                                                                       \
	X(n, RO_IDT_VECTOR_INFO, idt_info)                                                                          \
	X(n, RO_IDT_VECTOR_ERROR, idt_error)                                                                        \
	X(n, RO_IO_RCX, io_rcx)                                                                                     \
	X(n, RO_IO_RSI, io_rsi)                                                                                     \
	X(n, RO_IO_RDI, io_rdi)                                                                                     \
	X(n, RO_IO_RIP, io_rip)

#define EXIT_MEMBER_OFFSET(m) (offsetof(struct hvx_vcpu_state, exit) + offsetof(struct hvx_exit, m))
#define EXIT_FIELD_OFFSET(n, slot, m) HVX_SLOT_##n == HVX_SLOT_##slot ? EXIT_MEMBER_OFFSET(m) :

/* Storage of a field: RSP, RIP and RFLAGS in the register file, exit information in the published exit record, every
 * other field in its own slot of vmcs[]. */
#define HVX_FIELD_OFFSET(name)                                                                                      \
	(HVX_SLOT_##name == HVX_SLOT_GUEST_RSP      ? offsetof(struct hvx_vcpu_state, gpr[HVX_RSP])                 \
	 : HVX_SLOT_##name == HVX_SLOT_GUEST_RIP    ? offsetof(struct hvx_vcpu_state, rip)                          \
	 : HVX_SLOT_##name == HVX_SLOT_GUEST_RFLAGS ? offsetof(struct hvx_vcpu_state, rflags)                       \
	 : HVX_EXIT_FIELDS(EXIT_FIELD_OFFSET, name) offsetof(struct hvx_vcpu_state, vmcs) + 8u * HVX_SLOT_##name)

/* The accessors load and store 8 bytes at a field's offset and mask to the width: each exit-record member must hold
 * its field's width, and every offset (+ 4 for a high half, + 8 bytes loaded) must lie inside the state. */
#define WIDTH_BYTES(enc) (((enc) >> 13 & 3) == HVX_VMCS_W16 ? 2u : ((enc) >> 13 & 3) == HVX_VMCS_W32 ? 4u : 8u)
#define EXIT_MEMBER_WIDE_ENOUGH(n, slot, m)                                                                         \
	_Static_assert(sizeof(((struct hvx_exit *)0)->m) >= WIDTH_BYTES(VMCS_##slot), "exit record member too narrow");
HVX_EXIT_FIELDS(EXIT_MEMBER_WIDE_ENOUGH, _)
_Static_assert(offsetof(struct hvx_vcpu_state, vmcs) + 8u * HVX_VMCS_SLOTS + 8u <= sizeof(struct hvx_vcpu_state) &&
		       offsetof(struct hvx_vcpu_state, vmcs) + 8u * HVX_VMCS_SLOTS < 0x10000,
	       "VMCS storage must fit the 16-bit offsets of struct hvx_vmcs_accessor");
_Static_assert(offsetof(struct hvx_vcpu_state, exit) < offsetof(struct hvx_vcpu_state, vmcs),
	       "an 8-byte load at the last exit-record member must stay inside the state");

const struct hvx_vmcs_field hvx_vmcs_fields[] = {
#define HVX_VMCS_FIELD(name, enc, access, group) \
	{enc, "VMCS_" #name, HVX_ACCESS_##access, HVX_GROUP_##group, (uint32_t)HVX_FIELD_OFFSET(name)},
#include "vmcs_fields.def"
#undef HVX_VMCS_FIELD
};

const size_t hvx_vmcs_field_count = sizeof hvx_vmcs_fields / sizeof hvx_vmcs_fields[0];

/* Field indexes, for the tables below built by the compiler: two fields with the same key would be an overriding
 * initializer, an error under -Werror. */
enum {
#define HVX_VMCS_FIELD(name, enc, access, group) HVX_FIELD_INDEX_##name,
#include "vmcs_fields.def"
#undef HVX_VMCS_FIELD
	HVX_FIELD_INDEX_COUNT
};

#define IS_W64(enc) (((enc) >> 13 & 3) == HVX_VMCS_W64)
#define WIDTH_MASK(enc) (WIDTH_BYTES(enc) == 2 ? 0xffffull : WIDTH_BYTES(enc) == 4 ? 0xffffffffull : ~0ull)
#define ACCESS_FLAGS(a)                                                                                             \
	((a) == HVX_ACCESS_RW || (a) == HVX_ACCESS_CTRL_WORD ? HVX_VMCS_READABLE | HVX_VMCS_WRITABLE | HVX_VMCS_PLAIN_WRITE \
	 : (a) == HVX_ACCESS_CONDITIONAL                     ? HVX_VMCS_READABLE | HVX_VMCS_WRITABLE | HVX_VMCS_VALUE_RULE \
	 : (a) == HVX_ACCESS_RO                              ? HVX_VMCS_READABLE                                    \
							     : 0)

const struct hvx_vmcs_accessor hvx_vmcs_accessors[2 * HVX_FIELD_INDEX_COUNT + 2] = {
#define HVX_VMCS_FIELD(name, enc, access, group)                                                                    \
	[2 * HVX_FIELD_INDEX_##name + 2] = {WIDTH_MASK(enc), (uint16_t)HVX_FIELD_OFFSET(name), HVX_GROUP_##group,   \
					    ACCESS_FLAGS(HVX_ACCESS_##access)},                                     \
	[2 * HVX_FIELD_INDEX_##name + 3] = {IS_W64(enc) ? 0xffffffffull : 0,                                        \
					    IS_W64(enc) ? (uint16_t)(HVX_FIELD_OFFSET(name) + 4) : 0,               \
					    IS_W64(enc) ? HVX_GROUP_##group : 0,                                    \
					    IS_W64(enc) ? (ACCESS_FLAGS(HVX_ACCESS_##access) & ~HVX_VMCS_PLAIN_WRITE) |         \
								  HVX_VMCS_HIGH_HALF                                \
							: 0},
#include "vmcs_fields.def"
#undef HVX_VMCS_FIELD
};

#define AT(i) (uint16_t)((i) * sizeof(struct hvx_vmcs_accessor))
_Static_assert(AT(2 * HVX_FIELD_INDEX_COUNT + 1) / sizeof(struct hvx_vmcs_accessor) == 2 * HVX_FIELD_INDEX_COUNT + 1,
	       "accessor byte offsets must fit the uint16_t lookup entries");

const uint16_t hvx_vmcs_accessor_at[HVX_VMCS_ENCODING_LIMIT] = {
#define HVX_VMCS_FIELD(name, enc, access, group)                                                                    \
	[enc] = AT(2 * HVX_FIELD_INDEX_##name + 2),                                                                 \
	[(enc) | 1] = IS_W64(enc) ? AT(2 * HVX_FIELD_INDEX_##name + 3) : 0, /* the high half */
#include "vmcs_fields.def"
#undef HVX_VMCS_FIELD
};
