/* kvm_io_roundtrip.c: cost of one I/O-exit round trip through hv_vcpu_run on the kvm backend against a raw KVM_RUN loop on the same guest (interleaved repetitions, medians). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx.h>

/* tests/kvm_guests/bench.asm, at 0x10000 in ring 3: mov dx, 0xe9; loop: out dx, al; jmp loop */
static const uint8_t guest[] = {0x66, 0xba, 0xe9, 0x00, 0xee, 0xeb, 0xfd};
#define MEM (4u << 20)
#define CODE 0x10000u

/* The calling thread's CPU time (user + kernel, KVM_RUN included): unlike wall time it does not count the time
 * other processes of a loaded host take the CPU away, which would swamp a difference of a few per cent. */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "kvm_io_roundtrip: %s (%s)\n", what, strerror(errno));
	exit(1);
}

/* Identity page tables (2-MiB user pages) and a GDT with 64-bit ring-3 segments, shared by both paths. */
static void build_memory(uint8_t *m)
{
	uint64_t *pml4 = (uint64_t *)(m + 0x1000), *pdpt = (uint64_t *)(m + 0x2000), *pd = (uint64_t *)(m + 0x3000);
	pml4[0] = 0x2000 | 7;
	pdpt[0] = 0x3000 | 7;
	for (unsigned i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x87;
	uint64_t gdt[7] = {0, 0x00af9b000000ffffull, 0x00cf93000000ffffull, 0x00affb000000ffffull, 0x00cff3000000ffffull,
			   0x0000890060000067ull, 0};
	memcpy(m + 0x4000, gdt, sizeof gdt);
	memcpy(m + CODE, guest, sizeof guest);
}

/* ---- hvx: hv_vcpu_run, read the exit, advance RIP as an Apple client does ---- */

static hv_vcpuid_t hv_vcpu;

static void wr(uint32_t f, uint64_t v)
{
	if (hv_vmx_vcpu_write_vmcs(hv_vcpu, f, v) != HV_SUCCESS)
		die("hv_vmx_vcpu_write_vmcs");
}

static uint64_t cap2ctrl(hv_vmx_capability_t c, uint64_t want)
{
	uint64_t cap;
	hv_vmx_read_capability(c, &cap);
	return (want | (cap & 0xffffffffull)) & (cap >> 32);
}

static void hvx_setup(uint8_t *m)
{
	if (hvx_vm_create_with_backend(HV_VM_DEFAULT, "kvm") != HV_SUCCESS)
		die("hvx_vm_create_with_backend(kvm)");
	if (hv_vm_map(m, 0, MEM, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC) != HV_SUCCESS)
		die("hv_vm_map");
	if (hv_vcpu_create(&hv_vcpu, HV_VCPU_DEFAULT) != HV_SUCCESS)
		die("hv_vcpu_create");
	wr(VMCS_CTRL_PIN_BASED, cap2ctrl(HV_VMX_CAP_PINBASED, 0));
	wr(VMCS_CTRL_CPU_BASED, cap2ctrl(HV_VMX_CAP_PROCBASED, CPU_BASED_HLT));
	wr(VMCS_CTRL_CPU_BASED2, cap2ctrl(HV_VMX_CAP_PROCBASED2, 0));
	wr(VMCS_CTRL_VMENTRY_CONTROLS, cap2ctrl(HV_VMX_CAP_ENTRY, 1u << 9));
	wr(VMCS_CTRL_VMEXIT_CONTROLS, cap2ctrl(HV_VMX_CAP_EXIT, 0));
	wr(VMCS_GUEST_CR0, 0x80010033);
	wr(VMCS_GUEST_CR3, 0x1000);
	wr(VMCS_GUEST_CR4, 0x2620);
	wr(VMCS_GUEST_IA32_EFER, 0x500);
	wr(VMCS_GUEST_CS, 0x1b);
	wr(VMCS_GUEST_CS_LIMIT, 0xffffffff);
	wr(VMCS_GUEST_CS_AR, 0xa0fb);
	const uint32_t sel[] = {VMCS_GUEST_SS, VMCS_GUEST_DS, VMCS_GUEST_ES, VMCS_GUEST_FS, VMCS_GUEST_GS};
	const uint32_t lim[] = {VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_FS_LIMIT,
				VMCS_GUEST_GS_LIMIT};
	const uint32_t ar[] = {VMCS_GUEST_SS_AR, VMCS_GUEST_DS_AR, VMCS_GUEST_ES_AR, VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR};
	for (unsigned i = 0; i < 5; i++) {
		wr(sel[i], 0x23);
		wr(lim[i], 0xffffffff);
		wr(ar[i], 0xc0f3);
	}
	wr(VMCS_GUEST_TR, 0x28);
	wr(VMCS_GUEST_TR_BASE, 0x6000);
	wr(VMCS_GUEST_TR_LIMIT, 0x67);
	wr(VMCS_GUEST_TR_AR, 0x8b);
	wr(VMCS_GUEST_LDTR_AR, 0x10000);
	wr(VMCS_GUEST_GDTR_BASE, 0x4000);
	wr(VMCS_GUEST_GDTR_LIMIT, 55);
	hv_vcpu_write_register(hv_vcpu, HV_X86_RIP, CODE);
	hv_vcpu_write_register(hv_vcpu, HV_X86_RFLAGS, 0x3002);
	hv_vcpu_write_register(hv_vcpu, HV_X86_RSP, 0x30000);
}

static uint64_t hvx_rounds(unsigned n)
{
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		uint64_t reason, len, rip;
		if (hv_vcpu_run(hv_vcpu) != HV_SUCCESS)
			die("hv_vcpu_run");
		hv_vmx_vcpu_read_vmcs(hv_vcpu, VMCS_RO_EXIT_REASON, &reason);
		if (reason != VMX_REASON_IO) {
			fprintf(stderr, "kvm_io_roundtrip: unexpected exit %#llx\n", (unsigned long long)reason);
			exit(1);
		}
		hv_vmx_vcpu_read_vmcs(hv_vcpu, VMCS_RO_VMEXIT_INSTR_LEN, &len);
		hv_vcpu_read_register(hv_vcpu, HV_X86_RIP, &rip);
		hv_vcpu_write_register(hv_vcpu, HV_X86_RIP, rip + len);
	}
	return now_ns() - t0;
}

/* ---- raw KVM: the same guest, KVM_RUN until each KVM_EXIT_IO ---- */

static int raw_fd;
static struct kvm_run *raw_run;

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, uint8_t l, uint8_t db)
{
	memset(s, 0, sizeof *s);
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->dpl = 3;
	s->s = 1;
	s->l = l;
	s->db = db;
	s->g = 1;
}

static void raw_setup(uint8_t *m)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	struct kvm_userspace_memory_region r = {.slot = 0, .guest_phys_addr = 0, .memory_size = MEM,
						.userspace_addr = (uint64_t)(uintptr_t)m};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	raw_fd = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (raw_fd < 0)
		die("KVM_CREATE_VCPU");
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	raw_run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, raw_fd, 0);
	if (raw_run == MAP_FAILED)
		die("mmap kvm_run");
	struct kvm_cpuid2 *c = calloc(1, sizeof *c + 256 * sizeof c->entries[0]);
	c->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0 || ioctl(raw_fd, KVM_SET_CPUID2, c) < 0)
		die("CPUID");
	free(c);
	struct kvm_sregs sr;
	if (ioctl(raw_fd, KVM_GET_SREGS, &sr) < 0)
		die("KVM_GET_SREGS");
	seg(&sr.cs, 0x1b, 11, 1, 0);
	seg(&sr.ss, 0x23, 3, 0, 1);
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss;
	memset(&sr.tr, 0, sizeof sr.tr);
	sr.tr.selector = 0x28;
	sr.tr.base = 0x6000;
	sr.tr.limit = 0x67;
	sr.tr.type = 11;
	sr.tr.present = 1;
	sr.ldt.unusable = 1;
	sr.gdt.base = 0x4000;
	sr.gdt.limit = 55;
	sr.cr0 = 0x80010033;
	sr.cr3 = 0x1000;
	sr.cr4 = 0x620;
	sr.efer = 0x500;
	if (ioctl(raw_fd, KVM_SET_SREGS, &sr) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs regs;
	memset(&regs, 0, sizeof regs);
	regs.rip = CODE;
	regs.rflags = 0x3002;
	regs.rsp = 0x30000;
	if (ioctl(raw_fd, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
}

static uint64_t raw_rounds(unsigned n)
{
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		if (ioctl(raw_fd, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		if (raw_run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "kvm_io_roundtrip: raw exit %u\n", raw_run->exit_reason);
			exit(1);
		}
	}
	return now_ns() - t0;
}

/* The raw loop again, asking KVM to copy the general and segment/control registers into kvm_run at every exit
 * (KVM_CAP_SYNC_REGS), as the kvm backend must to decode each exit exactly: separates KVM's share of hvx's overhead
 * from hvx's own user-space work. */
static uint64_t raw_synced_rounds(unsigned n)
{
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		raw_run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
		if (ioctl(raw_fd, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		if (raw_run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "kvm_io_roundtrip: raw exit %u\n", raw_run->exit_reason);
			exit(1);
		}
	}
	raw_run->kvm_valid_regs = 0;
	return now_ns() - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned reps = argc > 1 ? (unsigned)atoi(argv[1]) : 15, n = argc > 2 ? (unsigned)atoi(argv[2]) : 20000;
	if (reps < 1 || reps > 101 || n < 1)
		return 2;
	const char *why;
	if (!hvx_backend_available("kvm", &why)) {
		printf("kvm backend unavailable: %s\n", why);
		return 0;
	}
	alarm(300); /* never hang: a stuck KVM_RUN ends the benchmark */
	uint8_t *m1 = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *m2 = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m1 == MAP_FAILED || m2 == MAP_FAILED)
		die("mmap");
	build_memory(m1);
	build_memory(m2);
	hvx_setup(m1);
	raw_setup(m2);
	hvx_rounds(n / 10 + 1); /* warm up both */
	raw_rounds(n / 10 + 1);
	raw_synced_rounds(n / 10 + 1);
	double h[101], r[101], ratio[101], sy[101], sync_ratio[101];
	for (unsigned i = 0; i < reps; i++) {
		/* Alternate which path goes first, so that drifts in host load hit both alike. */
		if (i & 1) {
			r[i] = (double)raw_rounds(n) / n;
			sy[i] = (double)raw_synced_rounds(n) / n;
			h[i] = (double)hvx_rounds(n) / n;
		} else {
			h[i] = (double)hvx_rounds(n) / n;
			sy[i] = (double)raw_synced_rounds(n) / n;
			r[i] = (double)raw_rounds(n) / n;
		}
		ratio[i] = h[i] / r[i];
		sync_ratio[i] = sy[i] / r[i];
	}
	qsort(sync_ratio, reps, sizeof sync_ratio[0], cmp);
	qsort(sy, reps, sizeof sy[0], cmp);
	qsort(ratio, reps, sizeof ratio[0], cmp);
	qsort(h, reps, sizeof h[0], cmp);
	qsort(r, reps, sizeof r[0], cmp);
	double hm = h[reps / 2], rm = r[reps / 2];
	printf("kvm backend IO round trip (%u interleaved repetitions of %u OUT exits, thread CPU ns per round trip)\n",
	       reps, n);
	printf("  %-22s median %8.1f  min %8.1f  max %8.1f\n", "hv_vcpu_run (hvx)", hm, h[0], h[reps - 1]);
	printf("  %-22s median %8.1f  min %8.1f  max %8.1f\n", "raw KVM_RUN loop", rm, r[0], r[reps - 1]);
	printf("  overhead of hvx: %+.1f %% (medians), %+.1f %% (minima), %+.1f %% (median of paired repetitions)\n",
	       100.0 * (hm - rm) / rm, 100.0 * (h[0] - r[0]) / r[0], 100.0 * (ratio[reps / 2] - 1.0));
	printf("  %-22s median %8.1f  min %8.1f  max %8.1f\n", "raw + KVM register sync", sy[reps / 2], sy[0], sy[reps - 1]);
	printf("  of which KVM copying registers and segments at each exit (KVM_CAP_SYNC_REGS): %+.1f %% paired; "
	       "hvx's own work: the rest\n", 100.0 * (sync_ratio[reps / 2] - 1.0));
	hv_vcpu_destroy(hv_vcpu);
	hv_vm_destroy();
	return 0;
}
