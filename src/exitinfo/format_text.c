/* format_text.c: one-line human-readable description of a decoded VM exit. */
#include <inttypes.h>

#include <hvx/hvx_exit.h>

#include "core/export.h"
#include "format.h"

/* Separator between the parts after "NAME (N): ". */
struct parts {
	struct hvx_sb *sb;
	int count;
};

static void part(struct parts *p)
{
	hvx_sb_puts(p->sb, p->count++ ? "; " : "");
}

static void text_io(struct hvx_sb *sb, const struct hvx_qual_io *io)
{
	const char *op = io->string ? (io->in ? "INS" : "OUTS") : (io->in ? "IN" : "OUT");
	hvx_sb_printf(sb, "%s%s ", io->rep ? "REP " : "", op);
	if (io->size)
		hvx_sb_printf(sb, "%u byte%s", io->size, io->size == 1 ? "" : "s");
	else
		hvx_sb_printf(sb, "? bytes (size field %u undefined)", io->size_field);
	hvx_sb_printf(sb, " %s port 0x%x via %s", io->in ? "from" : "to", io->port, io->immediate ? "immediate" : "DX");
}

static void text_cr(struct hvx_sb *sb, const struct hvx_qual_cr_access *cr)
{
	switch (cr->access) {
	case HVX_CR_MOV_TO:
		hvx_sb_printf(sb, "MOV to CR%u from %s", cr->cr, hvx_gpr_name(cr->gpr));
		break;
	case HVX_CR_MOV_FROM:
		hvx_sb_printf(sb, "MOV from CR%u to %s", cr->cr, hvx_gpr_name(cr->gpr));
		break;
	case HVX_CR_CLTS:
		hvx_sb_puts(sb, "CLTS");
		break;
	case HVX_CR_LMSW:
		hvx_sb_printf(sb, "LMSW from %s, source data 0x%04x", cr->lmsw_memory ? "memory" : "register",
			      cr->lmsw_data);
		break;
	}
}

static void text_ept(struct hvx_sb *sb, const struct hvx_qual_ept_violation *e)
{
	const char *sep = "";
	if (e->read) {
		hvx_sb_puts(sb, "read");
		sep = "+";
	}
	if (e->write) {
		hvx_sb_printf(sb, "%swrite", sep);
		sep = "+";
	}
	if (e->fetch) {
		hvx_sb_printf(sb, "%sfetch", sep);
		sep = "+";
	}
	if (!*sep)
		hvx_sb_puts(sb, "no access bits");
	hvx_sb_printf(sb, ", EPT %c%c%c", e->readable ? 'r' : '-', e->writable ? 'w' : '-', e->executable ? 'x' : '-');
	if (e->user_executable)
		hvx_sb_puts(sb, " user-x");
	if (e->gla_valid)
		hvx_sb_printf(sb, ", GLA valid, %s", e->final_translation ? "final translation" : "paging-structure entry");
	else
		hvx_sb_puts(sb, ", no GLA");
	if (e->user_mode)
		hvx_sb_puts(sb, ", user-mode address");
	if (e->guest_rw)
		hvx_sb_puts(sb, ", guest page writable");
	if (e->guest_nx)
		hvx_sb_puts(sb, ", guest page execute-disable");
	if (e->nmi_unblocking)
		hvx_sb_puts(sb, ", NMI unblocking due to IRET");
	if (e->shadow_stack)
		hvx_sb_puts(sb, ", shadow-stack access");
	if (e->supervisor_shadow_stack)
		hvx_sb_puts(sb, ", supervisor shadow stack");
	if (e->asynchronous)
		hvx_sb_puts(sb, ", asynchronous");
}

static void text_qual(struct parts *p, const struct hvx_exit_decoded *d)
{
	const struct hvx_exit_qual *q = &d->qual;
	struct hvx_sb *sb = p->sb;
	switch (q->format) {
	case HVX_QUAL_NONE:
	case HVX_QUAL_FORMAT_COUNT:
		if (q->raw) {
			part(p);
			hvx_sb_printf(sb, "qualification 0x%" PRIx64 " (not defined for this exit)", q->raw);
		}
		return;
	case HVX_QUAL_EXCEPTION:
		part(p);
		hvx_sb_printf(sb, "qualification 0x%" PRIx64 " (meaning depends on the vector)", q->raw);
		return;
	default:
		break;
	}
	part(p);
	switch (q->format) {
	case HVX_QUAL_DEBUG: {
		const struct hvx_qual_debug *db = &q->u.debug;
		hvx_sb_puts(sb, "#DB");
		for (unsigned i = 0; i < 4; i++)
			if (db->breakpoints & (1u << i))
				hvx_sb_printf(sb, " B%u", i);
		if (db->bd)
			hvx_sb_puts(sb, " BD");
		if (db->bs)
			hvx_sb_puts(sb, " BS");
		if (db->rtm)
			hvx_sb_puts(sb, " RTM");
		if (!db->breakpoints && !db->bd && !db->bs && !db->rtm)
			hvx_sb_puts(sb, " no condition bits");
		break;
	}
	case HVX_QUAL_PAGE_FAULT:
		hvx_sb_printf(sb, "#PF at linear address 0x%" PRIx64, q->u.linear_address);
		break;
	case HVX_QUAL_LINEAR_ADDRESS:
		hvx_sb_printf(sb, "linear address 0x%" PRIx64, q->u.linear_address);
		break;
	case HVX_QUAL_SIPI:
		hvx_sb_printf(sb, "SIPI vector 0x%02x (start at 0x%05x)", q->u.vector, (unsigned)q->u.vector << 12);
		break;
	case HVX_QUAL_EOI:
		hvx_sb_printf(sb, "EOI of vector 0x%02x", q->u.vector);
		break;
	case HVX_QUAL_TASK_SWITCH:
		hvx_sb_printf(sb, "task switch by %s to TSS selector 0x%04x", hvx_task_source_name(q->u.task.source),
			      q->u.task.selector);
		break;
	case HVX_QUAL_DISPLACEMENT:
		if (q->u.displacement < 0)
			hvx_sb_printf(sb, "displacement -0x%" PRIx64, (uint64_t)0 - (uint64_t)q->u.displacement);
		else
			hvx_sb_printf(sb, "displacement 0x%" PRIx64, (uint64_t)q->u.displacement);
		break;
	case HVX_QUAL_CR_ACCESS:
		text_cr(sb, &q->u.cr);
		break;
	case HVX_QUAL_DR_ACCESS:
		if (q->u.dr.from_dr)
			hvx_sb_printf(sb, "MOV from DR%u to %s", q->u.dr.dr, hvx_gpr_name(q->u.dr.gpr));
		else
			hvx_sb_printf(sb, "MOV to DR%u from %s", q->u.dr.dr, hvx_gpr_name(q->u.dr.gpr));
		break;
	case HVX_QUAL_IO:
		text_io(sb, &q->u.io);
		break;
	case HVX_QUAL_ENTRY_GUEST: {
		const char *why = hvx_entry_guest_qual_name(q->u.entry_guest);
		hvx_sb_printf(sb, "qualification %u: %s", q->u.entry_guest, why ? why : "not defined by the SDM");
		break;
	}
	case HVX_QUAL_ENTRY_MSR:
		hvx_sb_printf(sb, "VM-entry MSR-load entry %" PRIu32 " (1-based) failed", q->u.entry_msr_index);
		break;
	case HVX_QUAL_MWAIT:
		hvx_sb_puts(sb, q->u.monitor_armed ? "monitor armed" : "monitor not armed");
		break;
	case HVX_QUAL_APIC_ACCESS: {
		const char *type = hvx_apic_access_type_name(q->u.apic.type);
		if (type)
			hvx_sb_puts(sb, type);
		else
			hvx_sb_printf(sb, "access type %u (reserved)", q->u.apic.type);
		if (q->u.apic.type < 10)
			hvx_sb_printf(sb, " at APIC offset 0x%03x", q->u.apic.offset);
		if (q->u.apic.asynchronous)
			hvx_sb_puts(sb, ", asynchronous");
		break;
	}
	case HVX_QUAL_EPT_VIOLATION:
		text_ept(sb, &q->u.ept);
		break;
	case HVX_QUAL_APIC_WRITE:
		hvx_sb_printf(sb, "write at APIC offset 0x%03x", q->u.apic_offset);
		break;
	case HVX_QUAL_PML_FULL:
		hvx_sb_puts(sb, q->u.nmi_unblocking ? "log full, NMI unblocking due to IRET" : "log full");
		break;
	case HVX_QUAL_SPP:
		hvx_sb_puts(sb, q->u.spp.miss ? "SPP miss" : "SPP misconfiguration");
		if (q->u.spp.nmi_unblocking)
			hvx_sb_puts(sb, ", NMI unblocking due to IRET");
		break;
	default:
		break;
	}
}

static void text_instr(struct parts *p, const struct hvx_instr_info *ii)
{
	struct hvx_sb *sb = p->sb;
	part(p);
	hvx_sb_printf(sb, "instr-info 0x%08" PRIx32 ": %s", ii->raw, hvx_instr_name(ii->instr));
	if (ii->memory) {
		hvx_sb_printf(sb, " mem %s:[", hvx_segment_name(ii->segment));
		const char *plus = "";
		if (ii->base_valid) {
			hvx_sb_puts(sb, hvx_gpr_name(ii->base_reg));
			plus = "+";
		}
		if (ii->index_valid) {
			hvx_sb_printf(sb, "%s%s*%u", plus, hvx_gpr_name(ii->index_reg), ii->scale);
			plus = "+";
		}
		hvx_sb_printf(sb, "%sdisp]", plus);
	} else if (ii->has_segment) {
		hvx_sb_printf(sb, " seg %s", hvx_segment_name(ii->segment));
	}
	if (ii->has_address_size) {
		if (ii->address_size)
			hvx_sb_printf(sb, " a%u", ii->address_size);
		else
			hvx_sb_puts(sb, " a?");
	}
	if (ii->has_reg1)
		hvx_sb_printf(sb, " reg %s", hvx_gpr_name(ii->reg1));
	if (ii->has_reg2)
		hvx_sb_printf(sb, " %s in %s", ii->format == HVX_INSTR_INFO_VMREAD_VMWRITE ? "field" : "type",
			      hvx_gpr_name(ii->reg2));
	if (ii->operand_size)
		hvx_sb_printf(sb, " o%u", ii->operand_size);
}

static void text_intr(struct parts *p, const char *label, const struct hvx_intr_info *ii, uint32_t error)
{
	struct hvx_sb *sb = p->sb;
	part(p);
	if (!ii->valid) {
		hvx_sb_printf(sb, "%s invalid", label);
		if (ii->raw)
			hvx_sb_printf(sb, " (0x%08" PRIx32 ")", ii->raw);
		return;
	}
	hvx_sb_printf(sb, "%s %s vector %u", label, hvx_intr_type_name(ii->type), ii->vector);
	const char *mn = hvx_exception_mnemonic(ii->vector);
	if (mn && (ii->type == HVX_INTR_HW_EXCEPTION || ii->type == HVX_INTR_SW_EXCEPTION ||
		   ii->type == HVX_INTR_PRIV_SW_EXCEPTION))
		hvx_sb_printf(sb, " (%s)", mn);
	if (ii->error_code_valid)
		hvx_sb_printf(sb, " error 0x%" PRIx32, error);
	if (ii->nmi_unblocking)
		hvx_sb_puts(sb, " NMI-unblocking");
	if (ii->nested_exception)
		hvx_sb_puts(sb, " nested");
}

static void text_head(struct hvx_sb *sb, const struct hvx_exit_decoded *d)
{
	const struct hvx_exit_reason_info *info = d->info;
	const struct hvx_exit_reason_word *w = &d->reason;
	if (!info)
		hvx_sb_printf(sb, "unknown reason %u", w->basic);
	else if (info->exit_class == HVX_EXIT_CLASS_UNUSED)
		hvx_sb_printf(sb, "unused reason %u", w->basic);
	else
		hvx_sb_printf(sb, "%s (%u", hvx_exit_reason_short_name(info), w->basic);
	bool open = info && info->exit_class != HVX_EXIT_CLASS_UNUSED;
	static const struct {
		uint32_t bit;
		const char *name;
	} flags[] = {
		{HVX_EXIT_REASON_ENTRY_FAILURE, "entry failure"},
		{HVX_EXIT_REASON_ENCLAVE, "enclave"},
		{HVX_EXIT_REASON_PENDING_MTF, "pending MTF"},
		{HVX_EXIT_REASON_FROM_ROOT, "from VMX root"},
		{HVX_EXIT_REASON_BUS_LOCK, "bus lock"},
		{HVX_EXIT_REASON_SHADOW_STACK_BUSY, "shadow stack busy"},
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (!(w->raw & flags[i].bit))
			continue;
		hvx_sb_printf(sb, "%s%s", open ? ", " : " (", flags[i].name);
		open = true;
	}
	if (w->reserved) {
		hvx_sb_printf(sb, "%sreserved bits 0x%08" PRIx32, open ? ", " : " (", w->reserved);
		open = true;
	}
	if (open)
		hvx_sb_puts(sb, ")");
}

void hvx_exit_text_sb(struct hvx_sb *sb, const struct hvx_exit_decoded *d)
{
	text_head(sb, d);
	hvx_sb_puts(sb, ": ");
	size_t body = sb->len;
	struct parts p = {sb, 0};
	if (d->have_qual)
		text_qual(&p, d);
	if (d->have_instr_info)
		text_instr(&p, &d->instr);
	if (d->have_gpa) {
		part(&p);
		hvx_sb_printf(sb, "GPA 0x%" PRIx64, d->guest_physical);
	}
	if (d->have_gla) {
		part(&p);
		hvx_sb_printf(sb, "GLA 0x%" PRIx64, d->guest_linear);
	}
	if (d->have_instr_len) {
		part(&p);
		hvx_sb_printf(sb, "length %" PRIu32, d->instr_len);
	}
	if (d->have_intr_info)
		text_intr(&p, "intr", &d->intr, d->intr_error);
	if (d->have_idt_info)
		text_intr(&p, "idt", &d->idt, d->idt_error);
	if (sb->len == body) {
		if (!d->info)
			hvx_sb_puts(sb, "no details");
		else
			hvx_sb_puts(sb, d->info->exit_class == HVX_EXIT_CLASS_UNUSED ? d->info->cause : d->info->intel_name);
	}
}

HVX_EXPORT size_t hvx_exit_format_text(const struct hvx_exit_decoded *d, char *buf, size_t size)
{
	struct hvx_sb sb;
	hvx_sb_init(&sb, buf, size);
	if (d)
		hvx_exit_text_sb(&sb, d);
	return sb.len;
}
