/* hvdos_style.c: a DOS .COM runner written the way a macOS Hypervisor.framework client is (hvdos pattern): real-mode guest at 0x100, every exception intercepted, INT 21h emulated from the IDT-vectoring field. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>

/* The client's own bhyve-style VMCS names, defined after Apple's headers (several equal Apple's enumerator names). */
#define VMCS_GUEST_CS_SELECTOR 0x00000802
#define VMCS_GUEST_CS_BASE 0x00006808
#define VMCS_GUEST_CS_LIMIT 0x00004802
#define VMCS_GUEST_CS_ACCESS_RIGHTS 0x00004816
#define VMCS_GUEST_LDTR_ACCESS_RIGHTS 0x00004820
#define VMCS_GUEST_TR_ACCESS_RIGHTS 0x00004822
#define VMCS_GUEST_IDTR_LIMIT 0x00004812
#define VMCS_GUEST_GDTR_LIMIT 0x00004810
#define VMCS_GUEST_CR0 0x00006800
#define VMCS_GUEST_CR3 0x00006802
#define VMCS_GUEST_CR4 0x00006804
#define VMCS_PIN_BASED_CTLS 0x00004000
#define VMCS_PRI_PROC_BASED_CTLS 0x00004002
#define VMCS_SEC_PROC_BASED_CTLS 0x0000401e
#define VMCS_ENTRY_CTLS 0x00004012
#define VMCS_EXCEPTION_BITMAP 0x00004004
#define VMCS_CR0_MASK 0x00006000
#define VMCS_CR0_SHADOW 0x00006004
#define VMCS_CR4_MASK 0x00006002
#define VMCS_CR4_SHADOW 0x00006006
#define VMCS_EXIT_REASON 0x00004402
#define VMCS_EXIT_QUALIFICATION 0x00006400
#define VMCS_IDT_VECTORING_INFO 0x00004408
#define EXIT_REASON_EXCEPTION 0
#define EXIT_REASON_EXT_INTR 1
#define EXIT_REASON_HLT 12
#define EXIT_REASON_EPT_FAULT 48

#define MEM_SIZE (1u << 20)
#define COM_START 0x100

static uint64_t cap2ctrl(uint64_t cap, uint64_t ctrl)
{
	return (ctrl | (cap & 0xffffffff)) & (cap >> 32);
}

static void check(hv_return_t r, const char *what)
{
	if (r != HV_SUCCESS) {
		printf("hvdos_style: %s failed: 0x%x\n", what, (unsigned)r);
		exit(1);
	}
}

static uint64_t rvmcs(hv_vcpuid_t v, uint32_t field)
{
	uint64_t x;
	check(hv_vmx_vcpu_read_vmcs(v, field, &x), "hv_vmx_vcpu_read_vmcs");
	return x;
}

static void wvmcs(hv_vcpuid_t v, uint32_t field, uint64_t x)
{
	check(hv_vmx_vcpu_write_vmcs(v, field, x), "hv_vmx_vcpu_write_vmcs");
}

static uint64_t rreg(hv_vcpuid_t v, hv_x86_reg_t r)
{
	uint64_t x;
	check(hv_vcpu_read_register(v, r, &x), "hv_vcpu_read_register");
	return x;
}

/* DOS services the program uses; returns 1 when the program terminated. */
static int int21(hv_vcpuid_t v, const uint8_t *mem, char *out, size_t *outlen, int *status)
{
	uint64_t rax = rreg(v, HV_X86_RAX);
	switch ((rax >> 8) & 0xff) {
	case 0x09: { /* print '$'-terminated string at DS:DX */
		uint64_t ds = rreg(v, HV_X86_DS), dx = rreg(v, HV_X86_RDX) & 0xffff;
		for (uint64_t a = (ds << 4) + dx; a < MEM_SIZE && mem[a] != '$' && *outlen < 255; a++)
			out[(*outlen)++] = (char)mem[a];
		return 0;
	}
	case 0x4c: /* terminate with return code AL */
		*status = (int)(rax & 0xff);
		return 1;
	default:
		printf("hvdos_style: unsupported DOS call AH=%02x\n", (unsigned)((rax >> 8) & 0xff));
		exit(1);
	}
}

int main(void)
{
	check(hv_vm_create(HV_VM_DEFAULT), "hv_vm_create");
	uint64_t pin, proc, proc2, entry;
	check(hv_vmx_read_capability(HV_VMX_CAP_PINBASED, &pin), "read pin caps");
	check(hv_vmx_read_capability(HV_VMX_CAP_PROCBASED, &proc), "read proc caps");
	check(hv_vmx_read_capability(HV_VMX_CAP_PROCBASED2, &proc2), "read proc2 caps");
	check(hv_vmx_read_capability(HV_VMX_CAP_ENTRY, &entry), "read entry caps");

	uint8_t *mem = valloc(MEM_SIZE);
	if (!mem)
		return 1;
	memset(mem, 0, MEM_SIZE);
	FILE *f = fopen(HVDOS_COM_PATH, "rb");
	if (!f) {
		printf("hvdos_style: cannot open %s\n", HVDOS_COM_PATH);
		return 1;
	}
	size_t n = fread(mem + COM_START, 1, MEM_SIZE - COM_START, f);
	fclose(f);
	if (!n)
		return 1;
	check(hv_vm_map(mem, 0, MEM_SIZE, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC), "hv_vm_map");

	hv_vcpuid_t vcpu;
	check(hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT), "hv_vcpu_create");
	wvmcs(vcpu, VMCS_PIN_BASED_CTLS, cap2ctrl(pin, 0));
	wvmcs(vcpu, VMCS_PRI_PROC_BASED_CTLS, cap2ctrl(proc, CPU_BASED_HLT));
	wvmcs(vcpu, VMCS_SEC_PROC_BASED_CTLS, cap2ctrl(proc2, 0));
	wvmcs(vcpu, VMCS_ENTRY_CTLS, cap2ctrl(entry, 0));
	wvmcs(vcpu, VMCS_EXCEPTION_BITMAP, 0xffffffff);
	wvmcs(vcpu, VMCS_CR0_MASK, 0x60000000);
	wvmcs(vcpu, VMCS_CR0_SHADOW, 0);
	wvmcs(vcpu, VMCS_CR4_MASK, 0);
	wvmcs(vcpu, VMCS_CR4_SHADOW, 0);

	/* Real mode: all segments at 0 with 64-KiB limits (Apple's enumerators for the data segments). */
	wvmcs(vcpu, VMCS_GUEST_CS_SELECTOR, 0);
	wvmcs(vcpu, VMCS_GUEST_CS_LIMIT, 0xffff);
	wvmcs(vcpu, VMCS_GUEST_CS_ACCESS_RIGHTS, 0x9b);
	wvmcs(vcpu, VMCS_GUEST_CS_BASE, 0);
	static const uint32_t data[][4] = {
		{VMCS_GUEST_DS, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR, VMCS_GUEST_DS_BASE},
		{VMCS_GUEST_ES, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR, VMCS_GUEST_ES_BASE},
		{VMCS_GUEST_FS, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR, VMCS_GUEST_FS_BASE},
		{VMCS_GUEST_GS, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR, VMCS_GUEST_GS_BASE},
		{VMCS_GUEST_SS, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR, VMCS_GUEST_SS_BASE},
	};
	for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) {
		wvmcs(vcpu, data[i][0], 0);
		wvmcs(vcpu, data[i][1], 0xffff);
		wvmcs(vcpu, data[i][2], 0x93);
		wvmcs(vcpu, data[i][3], 0);
	}
	wvmcs(vcpu, VMCS_GUEST_LDTR, 0);
	wvmcs(vcpu, VMCS_GUEST_LDTR_LIMIT, 0);
	wvmcs(vcpu, VMCS_GUEST_LDTR_ACCESS_RIGHTS, 0x10000);
	wvmcs(vcpu, VMCS_GUEST_LDTR_BASE, 0);
	wvmcs(vcpu, VMCS_GUEST_TR, 0);
	wvmcs(vcpu, VMCS_GUEST_TR_LIMIT, 0);
	wvmcs(vcpu, VMCS_GUEST_TR_ACCESS_RIGHTS, 0x83);
	wvmcs(vcpu, VMCS_GUEST_TR_BASE, 0);
	wvmcs(vcpu, VMCS_GUEST_GDTR_LIMIT, 0);
	wvmcs(vcpu, VMCS_GUEST_GDTR_BASE, 0);
	wvmcs(vcpu, VMCS_GUEST_IDTR_LIMIT, 0); /* every INT n faults during delivery */
	wvmcs(vcpu, VMCS_GUEST_IDTR_BASE, 0);
	wvmcs(vcpu, VMCS_GUEST_CR0, 0x20);
	wvmcs(vcpu, VMCS_GUEST_CR3, 0);
	wvmcs(vcpu, VMCS_GUEST_CR4, 0x2000);
	check(hv_vcpu_write_register(vcpu, HV_X86_RIP, COM_START), "write RIP");
	check(hv_vcpu_write_register(vcpu, HV_X86_RFLAGS, 0x2), "write RFLAGS");
	check(hv_vcpu_write_register(vcpu, HV_X86_RSP, 0), "write RSP");

	char out[256];
	size_t outlen = 0;
	int status = -1, done = 0;
	for (int exits = 0; !done && exits < 1000; exits++) {
		check(hv_vcpu_run(vcpu), "hv_vcpu_run");
		uint64_t reason = rvmcs(vcpu, VMCS_EXIT_REASON);
		switch (reason) {
		case EXIT_REASON_EXCEPTION: {
			uint64_t idt = rvmcs(vcpu, VMCS_IDT_VECTORING_INFO);
			if (!(idt >> 31) || (idt & 0xff) != 0x21) {
				printf("hvdos_style: unexpected exception exit, IDT-vectoring info 0x%llx\n",
				       (unsigned long long)idt);
				return 1;
			}
			done = int21(vcpu, mem, out, &outlen, &status);
			check(hv_vcpu_write_register(vcpu, HV_X86_RIP, rreg(vcpu, HV_X86_RIP) + 2), "advance RIP");
			break;
		}
		case EXIT_REASON_EXT_INTR:
			break;
		case EXIT_REASON_HLT:
			done = 1;
			break;
		case EXIT_REASON_EPT_FAULT:
		default:
			printf("hvdos_style: unhandled exit reason 0x%llx (qualification 0x%llx)\n",
			       (unsigned long long)reason, (unsigned long long)rvmcs(vcpu, VMCS_EXIT_QUALIFICATION));
			return 1;
		}
	}
	out[outlen] = 0;
	printf("%s", out);
	check(hv_vcpu_destroy(vcpu), "hv_vcpu_destroy");
	check(hv_vm_unmap(0, MEM_SIZE), "hv_vm_unmap");
	check(hv_vm_destroy(), "hv_vm_destroy");
	free(mem);
	if (strcmp(out, "Hello from a DOS guest\r\n") || status != 0x2a) {
		printf("hvdos_style: wanted the greeting and exit code 0x2a, got exit code %d\n", status);
		return 1;
	}
	printf("hvdos_style: PASS\n");
	return 0;
}
