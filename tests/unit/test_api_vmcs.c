/* test_api_vmcs.c: VMCS access through the field table: unknown and framework-owned fields, read-only exit fields, widths, high halves, conditional values, write capabilities, every encoding against the field table. */
#include "api_test.h"

#include "core/vmcs.h"

#define v test_vcpu

static void unknown_encodings_are_refused(void **state)
{
	(void)state;
	uint64_t x;
	static const uint32_t bad[] = {0x1234, 0xffffffff, 0x00010000, 0x00001000 /* bit 12 */, 0x2036 + 0x40,
				       0x00000801 /* high half of a 16-bit field */, 0x00004403 /* of a 32-bit field */,
				       0x00006401 /* of a natural-width field */, 0x6d00 /* VMCS_MAX */};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(hv_vmx_vcpu_read_vmcs(v, bad[i], &x), HV_BAD_ARGUMENT);
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, bad[i], 0), HV_BAD_ARGUMENT);
	}
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_GUEST_RIP, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v + 1, VMCS_GUEST_RIP, &x), HV_BAD_ARGUMENT);
}

static void framework_owned_fields_are_refused(void **state)
{
	(void)state;
	uint64_t x;
	/* Apple's test: reading the EPT pointer fails with HV_BAD_ARGUMENT. */
	static const uint32_t owned[] = {VMCS_CTRL_EPTP, VMCS_HOST_RIP, VMCS_HOST_RSP, VMCS_HOST_CR3, VMCS_HOST_CS,
					 VMCS_HOST_IA32_EFER, VMCS_CTRL_IO_BITMAP_A, VMCS_CTRL_MSR_BITMAPS,
					 VMCS_CTRL_VIRTUAL_APIC, VMCS_GUEST_LINK_POINTER, VMCS_CTRL_POSTED_INT_DESC_ADDR};
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
		assert_int_equal(hv_vmx_vcpu_read_vmcs(v, owned[i], &x), HV_BAD_ARGUMENT);
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, owned[i], 0), HV_BAD_ARGUMENT);
	}
}

static void exit_information_is_read_only(void **state)
{
	(void)state;
	uint64_t x;
	static const uint32_t ro[] = {VMCS_RO_EXIT_REASON, VMCS_RO_EXIT_QUALIFIC, VMCS_RO_VMEXIT_INSTR_LEN,
				      VMCS_RO_VMX_INSTR_INFO, VMCS_RO_VMEXIT_IRQ_INFO, VMCS_RO_VMEXIT_IRQ_ERROR,
				      VMCS_RO_IDT_VECTOR_INFO, VMCS_RO_IDT_VECTOR_ERROR, VMCS_RO_INSTR_ERROR,
				      VMCS_GUEST_PHYSICAL_ADDRESS, VMCS_RO_GUEST_LIN_ADDR, VMCS_RO_IO_RCX,
				      VMCS_RO_IO_RSI, VMCS_RO_IO_RDI, VMCS_RO_IO_RIP, VMCS_CTRL_TSC_OFFSET,
				      VMCS_CTRL_APIC_ACCESS};
	for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
		assert_int_equal(hv_vmx_vcpu_read_vmcs(v, ro[i], &x), HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, ro[i], 1), HV_BAD_ARGUMENT);
		uint64_t a0, a1;
		assert_int_equal(hv_vmx_vcpu_get_cap_write_vmcs(v, ro[i], &a0, &a1), HV_BAD_ARGUMENT);
	}
}

static void writes_keep_the_field_width(void **state)
{
	(void)state;
	uint64_t x;
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_CS, 0xabcd1234), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_GUEST_CS, &x), HV_SUCCESS);
	assert_int_equal(x, 0x1234);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_CS_LIMIT, 0x1ffffffff), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_GUEST_CS_LIMIT, &x), HV_SUCCESS);
	assert_int_equal(x, 0xffffffff);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_CS_BASE, 0xffff800000001000), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_GUEST_CS_BASE, &x), HV_SUCCESS);
	assert_int_equal(x, 0xffff800000001000);
}

static void high_half_encodings_address_bits_63_32(void **state)
{
	(void)state;
	uint64_t x;
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_IA32_EFER, 0x1111111122222222), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_GUEST_IA32_EFER + 1, &x), HV_SUCCESS);
	assert_int_equal(x, 0x11111111);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_IA32_EFER + 1, 0x33), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_GUEST_IA32_EFER, &x), HV_SUCCESS);
	assert_int_equal(x, 0x0000003322222222);
}

static void conditional_fields_enforce_apples_rules(void **state)
{
	(void)state;
	uint64_t x;
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_CR0, 0x60000031), HV_BAD_ARGUMENT); /* CD|NW */
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_CR0, 0x20000031), HV_BAD_ARGUMENT); /* NW */
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_CR0, 0x80000031), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_ACTIVITY_STATE, 2), HV_BAD_ARGUMENT); /* shutdown */
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_ACTIVITY_STATE, 3), HV_BAD_ARGUMENT); /* wait-for-SIPI */
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_ACTIVITY_STATE, 1), HV_SUCCESS);     /* HLT */
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_CTRL_CR0_MASK, 0x20000000), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_CTRL_CR0_MASK, 0x60000000), HV_SUCCESS);  /* hvdos */
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_CTRL_CR0_MASK, ~0ull), HV_SUCCESS);       /* Apple's test */
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_CTRL_CR0_MASK, &x), HV_SUCCESS);
	assert_int_equal(x, ~0ull);
	/* The old name of the interruptibility field is the same field. */
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_INTERRUPTIBILITY, GUEST_INTRBILITY_STI_BLOCKING), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_GUEST_IGNORE_IRQ, &x), HV_SUCCESS);
	assert_int_equal(x, GUEST_INTRBILITY_STI_BLOCKING);
}

static void write_capabilities_describe_each_field(void **state)
{
	(void)state;
	uint64_t a0, a1, cap;
	static const struct {
		uint32_t field;
		hv_vmx_capability_t cap;
	} words[] = {{VMCS_CTRL_PIN_BASED, HV_VMX_CAP_PINBASED},
		     {VMCS_CTRL_CPU_BASED, HV_VMX_CAP_PROCBASED},
		     {VMCS_CTRL_CPU_BASED2, HV_VMX_CAP_PROCBASED2},
		     {VMCS_CTRL_VMENTRY_CONTROLS, HV_VMX_CAP_ENTRY},
		     {VMCS_CTRL_VMEXIT_CONTROLS, HV_VMX_CAP_EXIT}};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		assert_int_equal(hv_vmx_read_capability(words[i].cap, &cap), HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_get_cap_write_vmcs(v, words[i].field, &a0, &a1), HV_SUCCESS);
		assert_int_equal(a0, (uint32_t)cap);
		assert_int_equal(a1, cap >> 32);
	}
	assert_int_equal(hv_vmx_vcpu_get_cap_write_vmcs(v, VMCS_GUEST_CR0, &a0, &a1), HV_SUCCESS);
	assert_int_equal(a1 & 0x60000000, 0);
	assert_int_equal(hv_vmx_vcpu_get_cap_write_vmcs(v, VMCS_CTRL_CR0_MASK, &a0, &a1), HV_SUCCESS);
	assert_int_equal(a0, 0x60000000);
	assert_int_equal(hv_vmx_vcpu_get_cap_write_vmcs(v, VMCS_GUEST_ACTIVITY_STATE, &a0, &a1), HV_SUCCESS);
	assert_int_equal(a0, 0);
	assert_int_equal(a1, 1);
	assert_int_equal(hv_vmx_vcpu_get_cap_write_vmcs(v, VMCS_CTRL_EXC_BITMAP, &a0, &a1), HV_SUCCESS);
	assert_int_equal(a0, 0);
	assert_int_equal(a1, 0xffffffff);
	assert_int_equal(hv_vmx_vcpu_get_cap_write_vmcs(v, VMCS_GUEST_CS, &a0, &a1), HV_SUCCESS);
	assert_int_equal(a1, 0xffff);
	assert_int_equal(hv_vmx_vcpu_get_cap_write_vmcs(v, VMCS_CTRL_EPTP, &a0, &a1), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_get_cap_write_vmcs(v, VMCS_GUEST_RIP, NULL, &a1), HV_BAD_ARGUMENT);
}

/* Every field of the table: client-accessible ones read back what was written (within their width). */
static void every_writable_field_round_trips(void **state)
{
	(void)state;
	unsigned checked = 0;
	for (size_t i = 0; i < hvx_vmcs_field_count; i++) {
		const struct hvx_vmcs_field *f = &hvx_vmcs_fields[i];
		uint64_t want = 0x0123456789abcdefull & hvx_vmcs_width_mask(f->encoding), got;
		if (f->access == HVX_ACCESS_RW || f->access == HVX_ACCESS_CTRL_WORD) {
			assert_int_equal(hv_vmx_vcpu_write_vmcs(v, f->encoding, 0x0123456789abcdefull), HV_SUCCESS);
			assert_int_equal(hv_vmx_vcpu_read_vmcs(v, f->encoding, &got), HV_SUCCESS);
			assert_int_equal(got, want);
			checked++;
		} else if (f->access == HVX_ACCESS_NONE) {
			assert_int_equal(hv_vmx_vcpu_read_vmcs(v, f->encoding, &got), HV_BAD_ARGUMENT);
		}
	}
	assert_true(checked > 90);
}

/* The accessors' per-encoding table against the field table itself: every encoding below 0x10000, and encodings
 * that name a field once their reserved high bits are dropped, is refused, read or written as its field's access
 * class, width and half say. */
static void every_encoding_follows_the_field_table(void **state)
{
	(void)state;
	static const uint32_t beyond[] = {0x10000u | VMCS_GUEST_RIP, 0x8000u | VMCS_GUEST_RIP, 0x18000u,
					  0x80000000u | VMCS_GUEST_RIP, 0xffffffffu, 0x8000u | VMCS_CTRL_PIN_BASED};
	for (size_t b = 0; b < sizeof beyond / sizeof beyond[0]; b++) {
		uint64_t x;
		assert_int_equal(hv_vmx_vcpu_read_vmcs(v, beyond[b], &x), HV_BAD_ARGUMENT);
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, beyond[b], 0), HV_BAD_ARGUMENT);
	}
	unsigned readable = 0, halves = 0;
	for (uint32_t enc = 0; enc < 0x10000; enc++) {
		const struct hvx_vmcs_field *f = NULL;
		bool high = enc & 1;
		for (size_t i = 0; i < hvx_vmcs_field_count; i++)
			if (hvx_vmcs_fields[i].encoding == (enc & ~1u) &&
			    (!high || hvx_vmcs_width_of(enc) == HVX_VMCS_W64))
				f = &hvx_vmcs_fields[i];
		uint64_t x = 0, full = 0, pattern = 0x0123456789abcdefull ^ ((uint64_t)enc << 40) ^ enc;
		if (!f || f->access == HVX_ACCESS_NONE) {
			if (hv_vmx_vcpu_read_vmcs(v, enc, &x) != HV_BAD_ARGUMENT ||
			    hv_vmx_vcpu_write_vmcs(v, enc, 0) != HV_BAD_ARGUMENT)
				fail_msg("encoding %#x names no accessible field but was not refused", enc);
			continue;
		}
		readable++;
		halves += high;
		assert_int_equal(hv_vmx_vcpu_read_vmcs(v, enc, &x), HV_SUCCESS);
		if (f->access == HVX_ACCESS_RO) {
			assert_int_equal(hv_vmx_vcpu_write_vmcs(v, enc, 0), HV_BAD_ARGUMENT);
			continue;
		}
		if (f->access == HVX_ACCESS_CONDITIONAL) /* a value each rule accepts */
			pattern = f->encoding == VMCS_CTRL_CR0_MASK ? 0x60000000u : f->encoding == VMCS_GUEST_CR0 ? 0x31 : 1;
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, enc, pattern), HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_read_vmcs(v, enc, &x), HV_SUCCESS);
		assert_int_equal(x, pattern & hvx_vmcs_width_mask(enc));
		if (high) { /* the same bits, as bits 63:32 of the field */
			assert_int_equal(hv_vmx_vcpu_read_vmcs(v, enc & ~1u, &full), HV_SUCCESS);
			assert_int_equal(full >> 32, pattern & 0xffffffffu);
		}
	}
	assert_true(readable > 100);
	assert_true(halves > 20);
}

static void control_words_are_checked_at_entry_not_at_write(void **state)
{
	(void)state;
	uint64_t cap, x;
	uint32_t status;
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_PROCBASED, &cap), HV_SUCCESS);
	/* A value outside the capability is stored as written (as VMWRITE does)... */
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_CTRL_CPU_BASED, 0), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_CTRL_CPU_BASED, &x), HV_SUCCESS);
	assert_int_equal(x, 0);
	/* ...and VM entry refuses it: nothing runs, VM-instruction error 7, ZF in the entry status. */
	hv_return_t ret = hv_vcpu_run(v);
	if (ret == HV_UNSUPPORTED)
		skip(); /* this backend cannot run guests yet */
	assert_int_equal(ret, HV_ERROR);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_RO_INSTR_ERROR, &x), HV_SUCCESS);
	assert_int_equal(x, 7);
	assert_int_equal(hv_vcpu_vmx_status(v, &status), HV_SUCCESS);
	assert_int_equal(status, 1u << 6);
}

static void shadow_vmcs_needs_the_capability(void **state)
{
	(void)state;
	uint64_t cap, x;
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_PROCBASED2, &cap), HV_SUCCESS);
	if ((cap >> 32) & CPU_BASED2_VMCS_SHADOW) {
		assert_int_equal(hv_vmx_vcpu_set_shadow_access(v, VMCS_GUEST_ES, HV_SHADOW_VMCS_READ | HV_SHADOW_VMCS_WRITE), HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_set_shadow_access(v, VMCS_CTRL_EPTP, HV_SHADOW_VMCS_READ), HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_set_shadow_access(v, VMCS_GUEST_ES, 4), HV_BAD_ARGUMENT);
		assert_int_equal(hv_vmx_vcpu_write_shadow_vmcs(v, VMCS_RO_EXIT_QUALIFIC, 0x77), HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_read_shadow_vmcs(v, VMCS_RO_EXIT_QUALIFIC, &x), HV_SUCCESS);
		assert_int_equal(x, 0x77);
	} else {
		assert_int_equal(hv_vmx_vcpu_set_shadow_access(v, VMCS_GUEST_ES, HV_SHADOW_VMCS_READ), HV_UNSUPPORTED);
		assert_int_equal(hv_vmx_vcpu_read_shadow_vmcs(v, VMCS_GUEST_ES, &x), HV_UNSUPPORTED);
		assert_int_equal(hv_vmx_vcpu_write_shadow_vmcs(v, VMCS_GUEST_ES, 1), HV_UNSUPPORTED);
	}
	assert_int_equal(hv_vmx_vcpu_read_shadow_vmcs(v, 0x1234, &x), HV_BAD_ARGUMENT);
}

static void apic_address_is_checked_and_published(void **state)
{
	(void)state;
	uint64_t x;
	assert_int_equal(hv_vmx_vcpu_set_apic_address(v, 0xfee00010), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_set_apic_address(v, 1ull << 52), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_set_apic_address_space(v, 42, 0xfee00000), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_set_apic_address(v, 0xfee00000), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_CTRL_APIC_ACCESS, &x), HV_SUCCESS);
	assert_int_equal(x, 0xfee00000);
}

static void *read_vapic_elsewhere(void *arg)
{
	uint32_t x;
	*(hv_return_t *)arg = hvx_vcpu_read_virtual_apic(v, 0x200, &x);
	return NULL;
}

static void virtual_apic_page_is_reached_through_hvx(void **state)
{
	(void)state;
	uint32_t x = 1;
	uint64_t tpr;
	assert_int_equal(hvx_vcpu_read_virtual_apic(v, 0x200, &x), HV_SUCCESS);
	assert_int_equal(x, 0); /* the page starts zeroed */
	assert_int_equal(hvx_vcpu_read_virtual_apic(v, 0x81, &x), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_read_virtual_apic(v, 0x1000, &x), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_write_virtual_apic(v, 0xfffffffc, 0), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_read_virtual_apic(v, 0x200, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_read_virtual_apic(v + 1, 0x200, &x), HV_BAD_ARGUMENT);
	hv_return_t other = HV_SUCCESS;
	on_other_thread(read_vapic_elsewhere, &other);
	assert_int_not_equal(other, HV_SUCCESS);
	assert_int_equal(hvx_vcpu_write_virtual_apic(v, 0xffc, 0xcafef00d), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_read_virtual_apic(v, 0xffc, &x), HV_SUCCESS);
	assert_int_equal(x, 0xcafef00d);
	/* VTPR (offset 0x80) is the HV_X86_TPR register. */
	assert_int_equal(hv_vcpu_write_register(v, HV_X86_TPR, 0x70), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_read_virtual_apic(v, 0x80, &x), HV_SUCCESS);
	assert_int_equal(x, 0x70);
	assert_int_equal(hvx_vcpu_write_virtual_apic(v, 0x80, 0x30), HV_SUCCESS);
	assert_int_equal(hv_vcpu_read_register(v, HV_X86_TPR, &tpr), HV_SUCCESS);
	assert_int_equal(tpr, 0x30);
}

/* SDM 26.2.1.1: APIC-register virtualization and virtual-interrupt delivery need the TPR shadow; virtual-interrupt
 * delivery needs external-interrupt exiting. */
static void apic_virtualization_controls_are_checked_at_entry(void **state)
{
	(void)state;
	uint64_t p1, p2, pin, x;
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_PROCBASED, &p1), HV_SUCCESS);
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_PROCBASED2, &p2), HV_SUCCESS);
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_PINBASED, &pin), HV_SUCCESS);
	uint32_t want2 = CPU_BASED2_VIRTUAL_APIC | CPU_BASED2_APIC_REG_VIRT | CPU_BASED2_VIRT_INTR_DELIVERY;
	if (((p2 >> 32) & want2) != want2)
		skip(); /* this backend does not virtualize the APIC */
	uint32_t proc = (uint32_t)((p1 | CPU_BASED_SECONDARY_CTLS) & (p1 >> 32));
	uint32_t pinv = (uint32_t)((pin | PIN_BASED_INTR) & (pin >> 32));
	static const struct { uint32_t proc_add, pin_clear, proc2; uint64_t threshold; } bad[] = {
		{0, 0, CPU_BASED2_APIC_REG_VIRT, 0},
		{0, 0, CPU_BASED2_VIRT_INTR_DELIVERY, 0},
		{CPU_BASED_TPR_SHADOW, PIN_BASED_INTR, CPU_BASED2_VIRT_INTR_DELIVERY, 0},
		/* TPR shadow without virtual-interrupt delivery: threshold bits 31:4 are 0, and without APIC-access
		 * virtualization threshold[3:0] <= VTPR[7:4] (VTPR = HV_X86_TPR = 0x20 here) */
		{CPU_BASED_TPR_SHADOW, 0, CPU_BASED2_VIRTUAL_APIC, 0x12},
		{CPU_BASED_TPR_SHADOW, 0, 0, 3},
	};
	assert_int_equal(hv_vcpu_write_register(v, HV_X86_TPR, 0x20), HV_SUCCESS);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_CTRL_TPR_THRESHOLD, bad[i].threshold), HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_CTRL_CPU_BASED, (proc & ~CPU_BASED_TPR_SHADOW) | bad[i].proc_add),
				 HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_CTRL_PIN_BASED, pinv & ~bad[i].pin_clear), HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_CTRL_CPU_BASED2, bad[i].proc2), HV_SUCCESS);
		assert_int_equal(hv_vcpu_run(v), HV_ERROR);
		assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_RO_INSTR_ERROR, &x), HV_SUCCESS);
		assert_int_equal(x, 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(unknown_encodings_are_refused, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(framework_owned_fields_are_refused, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(exit_information_is_read_only, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(writes_keep_the_field_width, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(high_half_encodings_address_bits_63_32, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(conditional_fields_enforce_apples_rules, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(write_capabilities_describe_each_field, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(every_writable_field_round_trips, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(every_encoding_follows_the_field_table, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(control_words_are_checked_at_entry_not_at_write, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(shadow_vmcs_needs_the_capability, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(apic_address_is_checked_and_published, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(virtual_apic_page_is_reached_through_hvx, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(apic_virtualization_controls_are_checked_at_entry, vcpu_up, vcpu_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
