/* format_json.c: JSON objects for a decoded VM exit and for rows of the exit-reason table. */
#include <inttypes.h>

#include <hvx/hvx_exit.h>

#include "core/export.h"
#include "format.h"

/* Writer for one JSON object: key/value pairs with commas managed here. */
struct obj {
	struct hvx_sb *sb;
	int n;
};

static void key(struct obj *o, const char *k)
{
	hvx_sb_puts(o->sb, o->n++ ? ", " : "");
	hvx_sb_json_string(o->sb, k);
	hvx_sb_puts(o->sb, ": ");
}

static void kv_str(struct obj *o, const char *k, const char *v)
{
	key(o, k);
	hvx_sb_json_string(o->sb, v);
}

static void kv_bool(struct obj *o, const char *k, bool v)
{
	key(o, k);
	hvx_sb_puts(o->sb, v ? "true" : "false");
}

static void kv_uint(struct obj *o, const char *k, uint64_t v)
{
	key(o, k);
	hvx_sb_printf(o->sb, "%" PRIu64, v);
}

static void kv_int(struct obj *o, const char *k, int64_t v)
{
	key(o, k);
	hvx_sb_printf(o->sb, "%" PRId64, v);
}

/* 64-bit values go out as hex strings so that every JSON reader keeps them exact. */
static void kv_hex(struct obj *o, const char *k, uint64_t v)
{
	key(o, k);
	hvx_sb_printf(o->sb, "\"0x%" PRIx64 "\"", v);
}

static void kv_null(struct obj *o, const char *k)
{
	key(o, k);
	hvx_sb_puts(o->sb, "null");
}

static void open_obj(struct obj *o, struct hvx_sb *sb)
{
	o->sb = sb;
	o->n = 0;
	hvx_sb_puts(sb, "{");
}

static void close_obj(struct obj *o)
{
	hvx_sb_puts(o->sb, "}");
}

static void json_qual(struct hvx_sb *sb, const struct hvx_exit_qual *q)
{
	struct obj o;
	open_obj(&o, sb);
	kv_hex(&o, "raw", q->raw);
	kv_str(&o, "format", hvx_qual_format_name(q->format));
	switch (q->format) {
	case HVX_QUAL_NONE:
	case HVX_QUAL_EXCEPTION:
	case HVX_QUAL_FORMAT_COUNT:
		break;
	case HVX_QUAL_DEBUG:
		kv_bool(&o, "b0", q->u.debug.breakpoints & 1u);
		kv_bool(&o, "b1", q->u.debug.breakpoints & 2u);
		kv_bool(&o, "b2", q->u.debug.breakpoints & 4u);
		kv_bool(&o, "b3", q->u.debug.breakpoints & 8u);
		kv_bool(&o, "bd", q->u.debug.bd);
		kv_bool(&o, "bs", q->u.debug.bs);
		kv_bool(&o, "rtm", q->u.debug.rtm);
		break;
	case HVX_QUAL_PAGE_FAULT:
	case HVX_QUAL_LINEAR_ADDRESS:
		kv_hex(&o, "linear_address", q->u.linear_address);
		break;
	case HVX_QUAL_SIPI:
	case HVX_QUAL_EOI:
		kv_uint(&o, "vector", q->u.vector);
		break;
	case HVX_QUAL_TASK_SWITCH:
		kv_uint(&o, "selector", q->u.task.selector);
		kv_uint(&o, "source", q->u.task.source);
		kv_str(&o, "source_name", hvx_task_source_name(q->u.task.source));
		break;
	case HVX_QUAL_DISPLACEMENT:
		kv_int(&o, "displacement", q->u.displacement);
		break;
	case HVX_QUAL_CR_ACCESS:
		kv_uint(&o, "cr", q->u.cr.cr);
		kv_uint(&o, "access_type", q->u.cr.access);
		kv_str(&o, "access", hvx_cr_access_name(q->u.cr.access));
		kv_str(&o, "lmsw_operand", q->u.cr.lmsw_memory ? "memory" : "register");
		kv_str(&o, "gpr", hvx_gpr_name(q->u.cr.gpr));
		kv_uint(&o, "lmsw_source_data", q->u.cr.lmsw_data);
		break;
	case HVX_QUAL_DR_ACCESS:
		kv_uint(&o, "dr", q->u.dr.dr);
		kv_str(&o, "direction", q->u.dr.from_dr ? "from-dr" : "to-dr");
		kv_str(&o, "gpr", hvx_gpr_name(q->u.dr.gpr));
		break;
	case HVX_QUAL_IO:
		if (q->u.io.size)
			kv_uint(&o, "size", q->u.io.size);
		else
			kv_null(&o, "size");
		kv_str(&o, "direction", q->u.io.in ? "in" : "out");
		kv_bool(&o, "string", q->u.io.string);
		kv_bool(&o, "rep", q->u.io.rep);
		kv_str(&o, "operand", q->u.io.immediate ? "immediate" : "dx");
		kv_uint(&o, "port", q->u.io.port);
		break;
	case HVX_QUAL_ENTRY_GUEST:
		kv_uint(&o, "code", q->u.entry_guest);
		kv_str(&o, "meaning", hvx_entry_guest_qual_name(q->u.entry_guest));
		break;
	case HVX_QUAL_ENTRY_MSR:
		kv_uint(&o, "msr_load_index", q->u.entry_msr_index);
		break;
	case HVX_QUAL_MWAIT:
		kv_bool(&o, "monitor_armed", q->u.monitor_armed);
		break;
	case HVX_QUAL_APIC_ACCESS:
		kv_uint(&o, "offset", q->u.apic.offset);
		kv_uint(&o, "access_type", q->u.apic.type);
		kv_str(&o, "access", hvx_apic_access_type_name(q->u.apic.type));
		kv_bool(&o, "asynchronous", q->u.apic.asynchronous);
		break;
	case HVX_QUAL_EPT_VIOLATION: {
		const struct hvx_qual_ept_violation *e = &q->u.ept;
		kv_bool(&o, "read", e->read);
		kv_bool(&o, "write", e->write);
		kv_bool(&o, "fetch", e->fetch);
		kv_bool(&o, "readable", e->readable);
		kv_bool(&o, "writable", e->writable);
		kv_bool(&o, "executable", e->executable);
		kv_bool(&o, "user_executable", e->user_executable);
		kv_bool(&o, "gla_valid", e->gla_valid);
		kv_bool(&o, "final_translation", e->final_translation);
		kv_bool(&o, "user_mode", e->user_mode);
		kv_bool(&o, "guest_rw", e->guest_rw);
		kv_bool(&o, "guest_nx", e->guest_nx);
		kv_bool(&o, "nmi_unblocking", e->nmi_unblocking);
		kv_bool(&o, "shadow_stack", e->shadow_stack);
		kv_bool(&o, "supervisor_shadow_stack", e->supervisor_shadow_stack);
		kv_bool(&o, "asynchronous", e->asynchronous);
		break;
	}
	case HVX_QUAL_APIC_WRITE:
		kv_uint(&o, "offset", q->u.apic_offset);
		break;
	case HVX_QUAL_PML_FULL:
		kv_bool(&o, "nmi_unblocking", q->u.nmi_unblocking);
		break;
	case HVX_QUAL_SPP:
		kv_str(&o, "kind", q->u.spp.miss ? "miss" : "misconfiguration");
		kv_bool(&o, "nmi_unblocking", q->u.spp.nmi_unblocking);
		break;
	}
	close_obj(&o);
}

static void kv_reg(struct obj *o, const char *k, bool valid, unsigned reg)
{
	if (valid)
		kv_str(o, k, hvx_gpr_name(reg));
	else
		kv_null(o, k);
}

static void json_instr(struct hvx_sb *sb, const struct hvx_instr_info *ii)
{
	struct obj o;
	open_obj(&o, sb);
	kv_hex(&o, "raw", ii->raw);
	kv_str(&o, "format", hvx_instr_info_format_name(ii->format));
	kv_str(&o, "instruction", ii->instr == HVX_INSTR_UNKNOWN ? NULL : hvx_instr_name(ii->instr));
	if (ii->has_address_size && ii->address_size)
		kv_uint(&o, "address_size", ii->address_size);
	else
		kv_null(&o, "address_size");
	kv_str(&o, "segment", ii->has_segment ? hvx_segment_name(ii->segment) : NULL);
	kv_bool(&o, "memory", ii->memory);
	if (ii->memory)
		kv_uint(&o, "scale", ii->scale);
	else
		kv_null(&o, "scale");
	kv_reg(&o, "index", ii->index_valid, ii->index_reg);
	kv_reg(&o, "base", ii->base_valid, ii->base_reg);
	kv_reg(&o, "reg1", ii->has_reg1, ii->reg1);
	kv_reg(&o, "reg2", ii->has_reg2, ii->reg2);
	if (ii->operand_size)
		kv_uint(&o, "operand_size", ii->operand_size);
	else
		kv_null(&o, "operand_size");
	close_obj(&o);
}

static void json_intr(struct hvx_sb *sb, const struct hvx_intr_info *ii, uint32_t error)
{
	struct obj o;
	open_obj(&o, sb);
	kv_hex(&o, "raw", ii->raw);
	kv_bool(&o, "valid", ii->valid);
	kv_uint(&o, "vector", ii->vector);
	kv_uint(&o, "type", ii->type);
	kv_str(&o, "type_name", hvx_intr_type_name(ii->type));
	bool exc = ii->type == HVX_INTR_HW_EXCEPTION || ii->type == HVX_INTR_SW_EXCEPTION ||
		   ii->type == HVX_INTR_PRIV_SW_EXCEPTION;
	kv_str(&o, "exception", exc ? hvx_exception_mnemonic(ii->vector) : NULL);
	kv_bool(&o, "error_code_valid", ii->error_code_valid);
	if (ii->valid && ii->error_code_valid)
		kv_hex(&o, "error_code", error);
	else
		kv_null(&o, "error_code");
	kv_bool(&o, "nmi_unblocking", ii->nmi_unblocking);
	kv_bool(&o, "nested_exception", ii->nested_exception);
	close_obj(&o);
}

static void json_reason_row(struct obj *o, const struct hvx_exit_reason_info *info)
{
	kv_str(o, "apple_name", info->apple_name);
	kv_str(o, "intel_name", info->intel_name);
	kv_str(o, "cause", info->cause);
	kv_str(o, "class", hvx_exit_class_name(info->exit_class));
	kv_str(o, "control", info->control);
	kv_str(o, "qualification_format", hvx_qual_format_name(info->qual_format));
	kv_str(o, "instruction_information_format", hvx_instr_info_format_name(info->instr_info_format));
	kv_bool(o, "instruction_length", info->instr_len);
	kv_bool(o, "unconfirmed", info->unconfirmed);
}

HVX_EXPORT size_t hvx_exit_format_json(const struct hvx_exit_decoded *d, char *buf, size_t size)
{
	struct hvx_sb sb;
	hvx_sb_init(&sb, buf, size);
	if (!d)
		return 0;
	struct obj o;
	open_obj(&o, &sb);
	kv_uint(&o, "reason", d->reason.basic);
	kv_hex(&o, "reason_word", d->reason.raw);
	kv_bool(&o, "known", d->info != NULL);
	kv_str(&o, "name", d->info ? hvx_exit_reason_short_name(d->info) : NULL);
	if (d->info)
		json_reason_row(&o, d->info);

	key(&o, "flags");
	struct obj f;
	open_obj(&f, &sb);
	kv_bool(&f, "entry_failure", d->reason.entry_failure);
	kv_bool(&f, "enclave", d->reason.enclave);
	kv_bool(&f, "pending_mtf", d->reason.pending_mtf);
	kv_bool(&f, "from_root", d->reason.from_root);
	kv_bool(&f, "bus_lock", d->reason.bus_lock);
	kv_bool(&f, "shadow_stack_busy", d->reason.shadow_stack_busy);
	kv_hex(&f, "reserved", d->reason.reserved);
	close_obj(&f);

	key(&o, "qualification");
	if (d->have_qual)
		json_qual(&sb, &d->qual);
	else
		hvx_sb_puts(&sb, "null");
	key(&o, "instruction_information");
	if (d->have_instr_info)
		json_instr(&sb, &d->instr);
	else
		hvx_sb_puts(&sb, "null");
	key(&o, "interruption_information");
	if (d->have_intr_info)
		json_intr(&sb, &d->intr, d->intr_error);
	else
		hvx_sb_puts(&sb, "null");
	key(&o, "idt_vectoring_information");
	if (d->have_idt_info)
		json_intr(&sb, &d->idt, d->idt_error);
	else
		hvx_sb_puts(&sb, "null");
	if (d->have_instr_len)
		kv_uint(&o, "instruction_length_value", d->instr_len);
	else
		kv_null(&o, "instruction_length_value");
	if (d->have_gla)
		kv_hex(&o, "guest_linear_address", d->guest_linear);
	else
		kv_null(&o, "guest_linear_address");
	if (d->have_gpa)
		kv_hex(&o, "guest_physical_address", d->guest_physical);
	else
		kv_null(&o, "guest_physical_address");

	key(&o, "text");
	hvx_sb_puts(&sb, "\"");
	sb.escape = true;
	hvx_exit_text_sb(&sb, d);
	sb.escape = false;
	hvx_sb_puts(&sb, "\"");
	close_obj(&o);
	return sb.len;
}

HVX_EXPORT size_t hvx_exit_reason_format_json(const struct hvx_exit_reason_info *info, char *buf, size_t size)
{
	struct hvx_sb sb;
	hvx_sb_init(&sb, buf, size);
	if (!info)
		return 0;
	struct obj o;
	open_obj(&o, &sb);
	kv_uint(&o, "number", info->number);
	kv_str(&o, "name", hvx_exit_reason_short_name(info));
	json_reason_row(&o, info);
	close_obj(&o);
	return sb.len;
}
