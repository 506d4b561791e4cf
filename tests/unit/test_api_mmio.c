/* test_api_mmio.c: hvx_mmio_emulate(_ex) / hvx_guest_translate through the public API on each backend: a guest's device accesses (MOV, ADD with flags, BTS, XADD, PUSH m64, SSE moves) completed by the emulator, exit RIPs of vector stores, an exception reported and injected, and bad arguments. */
#include <pthread.h>

#include <hvx/hvx_mmio.h>

#include "kvm_test_env.h"

static uint8_t dev[32];
static unsigned dev_calls;
static uint8_t *guest_ram;

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= KE_MEM_SIZE || len > KE_MEM_SIZE - gpa)
		return -1;
	memcpy(buf, guest_ram + gpa, len);
	return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= KE_MEM_SIZE || len > KE_MEM_SIZE - gpa)
		return -1;
	memcpy(guest_ram + gpa, buf, len);
	return 0;
}

/* The device: 32 bytes at KE_MMIO; anything else that is not RAM fails the emulation. */
static int dev_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *v)
{
	(void)ctx;
	if (gpa < KE_MMIO || gpa + size > KE_MMIO + sizeof dev)
		return -1;
	uint64_t x = 0;
	memcpy(&x, dev + (gpa - KE_MMIO), size);
	*v = x;
	dev_calls++;
	return 0;
}

static int dev_write(void *ctx, uint64_t gpa, unsigned size, uint64_t v)
{
	(void)ctx;
	if (gpa < KE_MMIO || gpa + size > KE_MMIO + sizeof dev)
		return -1;
	memcpy(dev + (gpa - KE_MMIO), &v, size);
	dev_calls++;
	return 0;
}

static const struct hvx_mmio_ops ops = {ram_read, ram_write, dev_read, dev_write};

static int cleanup(void **state)
{
	(void)state;
	hv_vcpu_destroy(0);
	hv_vm_destroy();
	return 0;
}

static const uint8_t guest[] = {
	0x48, 0xc7, 0xc3, 0x00, 0x00, 0x80, 0x00,       /* mov rbx, KE_MMIO */
	0xc7, 0x43, 0x04, 0x78, 0x56, 0x34, 0x12,       /* mov dword [rbx+4], 0x12345678 */
	0x8b, 0x43, 0x04,                               /* mov eax, [rbx+4] */
	0x01, 0x03,                                     /* add [rbx], eax: carries out */
	0x9c, 0x5a,                                     /* pushfq; pop rdx (in the guest: the flags it got) */
	0x0f, 0xba, 0x6b, 0x08, 0x03,                   /* bts dword [rbx+8], 3 */
	0x0f, 0xc1, 0x43, 0x0c,                         /* xadd [rbx+12], eax */
	0xff, 0x73, 0x10,                               /* push qword [rbx+16] */
	0x41, 0x5f,                                     /* pop r15 */
	0xf3, 0x0f, 0x6f, 0x03,                         /* movdqu xmm0, [rbx] */
	0x0f, 0x11, 0x43, 0x10,                         /* movups [rbx+16], xmm0 */
	0xf3, 0x0f, 0x7f, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00, /* movdqu [0x20000], xmm0 (RAM, in the guest) */
	0xf4,                                           /* hlt */
};

static void emulate_on(const char *backend)
{
	struct ke k;
	ke_setup_on(&k, backend, 0, guest, sizeof guest);
	guest_ram = k.mem;
	memset(dev, 0, sizeof dev);
	memcpy(dev, "\x00\x00\x00\xf0", 4);
	dev[12] = 5;
	memcpy(dev + 16, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
	dev_calls = 0;
	static const char *const want[] = {"mov", "mov", "add", "bts", "xadd", "push", "movdqu", "movups"};
	unsigned n = 0;
	for (;;) {
		uint32_t reason = ke_run(&k);
		if (reason == VMX_REASON_HLT)
			break;
		if (reason != VMX_REASON_EPT_VIOLATION)
			fail_msg("%s: exit %u at RIP %#llx", backend, reason, (unsigned long long)ke_reg(&k, HV_X86_RIP));
		assert_true(n < 8);
		uint64_t rip = ke_reg(&k, HV_X86_RIP), gpa = ke_r(&k, VMCS_GUEST_PHYSICAL_ADDRESS);
		struct hvx_mmio_access a;
		assert_int_equal(hvx_mmio_emulate(k.vcpu, &ops, NULL, &a), HV_SUCCESS);
		assert_string_equal(a.mnemonic, want[n]);
		assert_int_equal(ke_reg(&k, HV_X86_RIP), rip + a.length);
		assert_true(a.gpa >= gpa && a.gpa < gpa + 16); /* the last device access: in the faulting operand */
		n++;
	}
	assert_int_equal(n, 8);
	uint32_t d;
	memcpy(&d, dev + 4, 4);
	assert_int_equal(d, 0x12345678);
	memcpy(&d, dev, 4);
	assert_int_equal(d, 0x02345678);                       /* 0xf0000000 + 0x12345678 */
	assert_int_equal(ke_reg(&k, HV_X86_RDX) & 0x8d5, 0x05); /* CF, PF (0x78) from the emulated ADD, seen by the guest */
	assert_int_equal(dev[8], 0x08);
	memcpy(&d, dev + 12, 4);
	assert_int_equal(d, 0x1234567d);
	assert_int_equal(ke_reg(&k, HV_X86_RAX), 5);           /* XADD: the old device value */
	assert_int_equal(ke_reg(&k, HV_X86_R15), 0x1122334455667788ull);
	assert_int_equal(ke_reg(&k, HV_X86_RSP), KE_STACK0);
	/* the SSE moves: the vector register loaded from the device, stored back to it and (by the guest) to RAM */
	assert_memory_equal(dev + 16, dev, 16);
	assert_memory_equal(k.mem + 0x20000, dev, 16);
	/* 1 write, 1 read, ADD read+write, BTS read+write, XADD read+write, PUSH read, 16-byte read and write (2 each) */
	assert_int_equal(dev_calls, 13);

	/* the page walk, public */
	uint64_t pa;
	assert_int_equal(hvx_guest_translate(k.vcpu, &ops, NULL, KE_MMIO + 0x123, &pa), HV_SUCCESS);
	assert_int_equal(pa, KE_MMIO + 0x123);
	assert_int_equal(hvx_guest_translate(k.vcpu, &ops, NULL, 0x8000000000ull, &pa), HV_ERROR); /* PML4[1] absent */
	ke_teardown(&k);
}

static void emulate_emu(void **state)
{
	(void)state;
	emulate_on("emu");
}

static void emulate_kvm(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	emulate_on("kvm");
}

/* Vector stores to the device: every backend reports the EPT violation at the instruction's first byte (the kvm
 * backend finds it before KVM's RIP by the stored data: 66 0F 7F is not the MMX 0F 7F, 0F 11 not ADC 11), and the
 * emulator completes each. XMM0 is zero for the first store (where the MMX reading would match too). */
static void vector_stores_on(const char *backend)
{
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc3, 0x00, 0x00, 0x80, 0x00, /* 0: mov rbx, KE_MMIO */
		0x66, 0x0f, 0x7f, 0x03,                   /* 7: movdqa [rbx], xmm0 (zero) */
		0x66, 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00, /* 11: movdqa xmm0, [0x20000] (RAM) */
		0x66, 0x0f, 0x7f, 0x43, 0x10,             /* 20: movdqa [rbx+16], xmm0 */
		0xf3, 0x0f, 0x7f, 0x03,                   /* 25: movdqu [rbx], xmm0 */
		0x0f, 0x29, 0x43, 0x10,                   /* 29: movaps [rbx+16], xmm0 */
		0x0f, 0x11, 0x43, 0x10,                   /* 33: movups [rbx+16], xmm0 */
		0xf4,
	};
	static const unsigned at[] = {7, 20, 25, 29, 33};
	struct ke k;
	ke_setup_on(&k, backend, 0, code, sizeof code);
	guest_ram = k.mem;
	for (unsigned i = 0; i < 16; i++)
		k.mem[0x20000 + i] = (uint8_t)(0xc0 + i);
	memset(dev, 0xee, sizeof dev);
	for (unsigned n = 0; n < 5; n++) {
		ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
		assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + at[n]);
		assert_int_equal(hvx_mmio_emulate(k.vcpu, &ops, NULL, NULL), HV_SUCCESS);
		if (n == 0)
			assert_memory_equal(dev, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	}
	ke_expect_reason(&k, VMX_REASON_HLT);
	assert_memory_equal(dev, k.mem + 0x20000, 16);
	assert_memory_equal(dev + 16, k.mem + 0x20000, 16);
	ke_teardown(&k);
}

static void vector_stores_emu(void **state)
{
	(void)state;
	vector_stores_on("emu");
}

static void vector_stores_kvm(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	vector_stores_on("kvm");
}

/* An exception of the emulated instruction comes back in hvx_mmio_emulate_ex's fault; injected, the guest's handler
 * sees it at the instruction (a fault), on either backend. */
static void fault_on(const char *backend)
{
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc3, 0x00, 0x00, 0x80, 0x00, /* 0: mov rbx, KE_MMIO */
		0xf7, 0x33,                               /* 7: div dword [rbx]: the device reads 0 */
		0xf4,                                     /* 9 */
		0xb8, 0xde, 0x00, 0x00, 0x00, 0xf4,       /* 10: #DE handler: mov eax, 0xde; hlt */
	};
	struct ke k;
	ke_setup_on(&k, backend, 0, code, sizeof code);
	guest_ram = k.mem;
	ke_idt(&k, 0, KE_CODE + 10);
	memset(dev, 0, sizeof dev);
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	struct hvx_mmio_fault f;
	struct hvx_mmio_access a;
	memset(&f, 0xff, sizeof f);
	assert_int_equal(hvx_mmio_emulate_ex(k.vcpu, &ops, NULL, &a, &f), HV_ERROR);
	assert_true(f.valid);
	assert_int_equal(f.vector, 0);
	assert_false(f.has_error_code);
	assert_string_equal(a.mnemonic, "div");
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 7);                    /* unchanged */
	assert_int_equal(hvx_mmio_emulate(k.vcpu, &ops, NULL, NULL), HV_ERROR);     /* the same without the report */
	ke_w(&k, VMCS_CTRL_VMENTRY_IRQ_INFO, (1u << 31) | (3u << 8) | f.vector);
	ke_expect_reason(&k, VMX_REASON_HLT);
	assert_int_equal(ke_reg(&k, HV_X86_RAX) & 0xffff, 0xde);
	uint64_t frame_rip;
	memcpy(&frame_rip, k.mem + ke_reg(&k, HV_X86_RSP), 8);
	assert_int_equal(frame_rip, KE_CODE + 7);
	/* success clears the report */
	dev[0] = 1;
	ke_set(&k, HV_X86_RIP, KE_CODE + 7);
	ke_set(&k, HV_X86_RSP, KE_STACK0);
	ke_set(&k, HV_X86_RAX, 10);
	ke_set(&k, HV_X86_RDX, 0);
	memset(&f, 0xff, sizeof f);
	assert_int_equal(hvx_mmio_emulate_ex(k.vcpu, &ops, NULL, NULL, &f), HV_SUCCESS);
	assert_false(f.valid);
	assert_int_equal(ke_reg(&k, HV_X86_RAX), 10);
	ke_teardown(&k);
}

static void fault_emu(void **state)
{
	(void)state;
	fault_on("emu");
}

static void fault_kvm(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	fault_on("kvm");
}

static void *other_thread(void *arg)
{
	struct ke *k = arg;
	static hv_return_t r;
	r = hvx_mmio_emulate(k->vcpu, &ops, NULL, NULL);
	return &r;
}

static void bad_arguments(void **state)
{
	(void)state;
	static const uint8_t code[] = {0x8b, 0x04, 0x25, 0x00, 0x00, 0x80, 0x00, 0xf4}; /* mov eax, [KE_MMIO]; hlt */
	struct ke k;
	ke_setup_on(&k, "emu", 0, code, sizeof code);
	guest_ram = k.mem;
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	struct hvx_mmio_ops partial = ops;
	partial.mmio_write = NULL;
	uint64_t pa;
	assert_int_equal(hvx_mmio_emulate(k.vcpu, NULL, NULL, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_mmio_emulate(k.vcpu, &partial, NULL, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_guest_translate(k.vcpu, NULL, NULL, 0, &pa), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_guest_translate(k.vcpu, &ops, NULL, 0, NULL), HV_BAD_ARGUMENT);
	assert_int_not_equal(hvx_mmio_emulate(k.vcpu + 7, &ops, NULL, NULL), HV_SUCCESS);  /* no such vCPU */
	pthread_t t;
	void *res;
	assert_int_equal(pthread_create(&t, NULL, other_thread, &k), 0);
	assert_int_equal(pthread_join(t, &res), 0);
	assert_int_not_equal(*(hv_return_t *)res, HV_SUCCESS);                                 /* not the owner */
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
	/* code bytes that are not RAM: RIP at the (absent) device page */
	ke_set(&k, HV_X86_RIP, KE_MMIO);
	assert_int_equal(hvx_mmio_emulate(k.vcpu, &ops, NULL, NULL), HV_ERROR);
	/* unmapped code: no translation for RIP */
	ke_set(&k, HV_X86_RIP, 0x8000000000ull);
	assert_int_equal(hvx_mmio_emulate(k.vcpu, &ops, NULL, NULL), HV_ERROR);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), 0x8000000000ull);
	/* and the real one still completes; blocking by STI ends with it */
	ke_set(&k, HV_X86_RIP, KE_CODE);
	ke_w(&k, VMCS_GUEST_INTERRUPTIBILITY, 1);
	memcpy(dev, "\x21\x43\x65\x87", 4);
	assert_int_equal(hvx_mmio_emulate(k.vcpu, &ops, NULL, NULL), HV_SUCCESS);
	assert_int_equal(ke_reg(&k, HV_X86_RAX), 0x87654321);
	assert_int_equal(ke_r(&k, VMCS_GUEST_INTERRUPTIBILITY), 0);
	ke_expect_reason(&k, VMX_REASON_HLT);
	ke_teardown(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(emulate_emu, cleanup),
		cmocka_unit_test_teardown(emulate_kvm, cleanup),
		cmocka_unit_test_teardown(vector_stores_emu, cleanup),
		cmocka_unit_test_teardown(vector_stores_kvm, cleanup),
		cmocka_unit_test_teardown(fault_emu, cleanup),
		cmocka_unit_test_teardown(fault_kvm, cleanup),
		cmocka_unit_test_teardown(bad_arguments, cleanup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
