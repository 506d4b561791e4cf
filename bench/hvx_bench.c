/* hvx_bench.c: runs one benchmark workload image on an hvx backend (emu or kvm) through the public API and prints one JSON result line. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_arch_vmx.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx.h>

/* Guest-physical layout shared with workloads/stub.asm. */
#define GUEST_MEM_SIZE (8u << 20)
#define GUEST_PT_BASE 0x1000u
#define GUEST_IMAGE_BASE 0x100000u
#define GUEST_DONE_PORT 0xf4u
#define GUEST_STACK 0x90000u

/* Stop a run that exits far more often than the workload can explain (a broken backend, not a result). */
#define MAX_EXITS_SLACK 1000u

struct image {
	uint8_t *bytes;
	size_t size;
	size_t iters_offset; /* of the qword after "HVXITERS" */
};

struct run_result {
	double seconds, cpu_seconds; /* wall clock; CPU time of the whole process (every thread, kernel included) */
	uint64_t exits, io_exits, cpuid_exits;
};

static const char *g_backend = "emu";
static int g_cpl; /* 0 or 3 */
static struct image g_image;

static const char *ret_name(hv_return_t r)
{
	switch (r) {
	case HV_SUCCESS: return "HV_SUCCESS";
	case HV_ERROR: return "HV_ERROR";
	case HV_BUSY: return "HV_BUSY";
	case HV_BAD_ARGUMENT: return "HV_BAD_ARGUMENT";
	case HV_NO_RESOURCES: return "HV_NO_RESOURCES";
	case HV_NO_DEVICE: return "HV_NO_DEVICE";
	case HV_DENIED: return "HV_DENIED";
	case HV_FAULT: return "HV_FAULT";
	case HV_UNSUPPORTED: return "HV_UNSUPPORTED";
	default: return "unknown hv_return_t";
	}
}

/* Prints the "not measured" line and exits with status 3 (the driver reports `why`). */
static void __attribute__((noreturn)) not_measured(const char *what, hv_return_t r)
{
	printf("{\"ok\": false, \"backend\": \"%s\", \"why\": \"%s returned %s (0x%x)\"}\n", g_backend, what,
	       ret_name(r), (unsigned)r);
	exit(3);
}

static void __attribute__((noreturn)) fail(const char *fmt, const char *arg)
{
	printf("{\"ok\": false, \"backend\": \"%s\", \"why\": \"", g_backend);
	printf(fmt, arg);
	printf("\"}\n");
	exit(3);
}

#define CHECK(call)                                                                                                    \
	do {                                                                                                           \
		hv_return_t r_ = (call);                                                                               \
		if (r_ != HV_SUCCESS)                                                                                  \
			not_measured(#call, r_);                                                                       \
	} while (0)

static double clock_seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_seconds(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

/* CPU time is what the driver uses by default: on a shared host it leaves out time taken by other processes. */
static double cpu_seconds(void)
{
	return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

static void load_image(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail("cannot open image %s", path);
	if (fseek(f, 0, SEEK_END) != 0)
		fail("cannot seek %s", path);
	long size = ftell(f);
	rewind(f);
	if (size <= 0 || (size_t)size > GUEST_MEM_SIZE - GUEST_IMAGE_BASE)
		fail("bad image size: %s", path);
	g_image.bytes = malloc((size_t)size);
	g_image.size = (size_t)size;
	if (!g_image.bytes || fread(g_image.bytes, 1, g_image.size, f) != g_image.size)
		fail("cannot read %s", path);
	fclose(f);
	uint8_t *m = memmem(g_image.bytes, g_image.size, "HVXITERS", 8);
	if (!m || (size_t)(m - g_image.bytes) + 16 > g_image.size)
		fail("no HVXITERS marker in %s", path);
	g_image.iters_offset = (size_t)(m - g_image.bytes) + 8;
}

/* Guest memory with the image (iteration count patched in) and identity-mapped 4-level page tables for 8 MiB. */
static uint8_t *make_guest_memory(uint64_t iters)
{
	void *p = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap guest memory: %s", strerror(errno));
	uint8_t *mem = p;
	uint64_t *pml4 = (uint64_t *)(mem + GUEST_PT_BASE);
	uint64_t *pdpt = (uint64_t *)(mem + GUEST_PT_BASE + 0x1000);
	uint64_t *pd = (uint64_t *)(mem + GUEST_PT_BASE + 0x2000);
	pml4[0] = (GUEST_PT_BASE + 0x1000) | 7; /* present, writable, user */
	pdpt[0] = (GUEST_PT_BASE + 0x2000) | 7;
	for (unsigned i = 0; i < GUEST_MEM_SIZE >> 21; i++)
		pd[i] = ((uint64_t)i << 21) | 0x87; /* 2 MiB page, user (CPL 3 guests) */
	memcpy(mem + GUEST_IMAGE_BASE, g_image.bytes, g_image.size);
	memcpy(mem + GUEST_IMAGE_BASE + g_image.iters_offset, &iters, sizeof iters);
	return mem;
}

static uint64_t cap2ctrl(hv_vmx_capability_t field, uint64_t desired)
{
	uint64_t cap;
	CHECK(hv_vmx_read_capability(field, &cap));
	return (desired | (cap & 0xffffffffu)) & (cap >> 32);
}

static void wvmcs(hv_vcpuid_t vcpu, uint32_t field, uint64_t value)
{
	hv_return_t r = hv_vmx_vcpu_write_vmcs(vcpu, field, value);
	if (r != HV_SUCCESS)
		not_measured("hv_vmx_vcpu_write_vmcs", r);
}

static uint64_t rvmcs(hv_vcpuid_t vcpu, uint32_t field)
{
	uint64_t v;
	hv_return_t r = hv_vmx_vcpu_read_vmcs(vcpu, field, &v);
	if (r != HV_SUCCESS)
		not_measured("hv_vmx_vcpu_read_vmcs", r);
	return v;
}

/* 64-bit long mode with paging as in Apple's test; CPL 3 (IOPL 3 for OUT) when g_cpl == 3. */
static void setup_long_mode(hv_vcpuid_t vcpu)
{
	wvmcs(vcpu, VMCS_CTRL_PIN_BASED, cap2ctrl(HV_VMX_CAP_PINBASED, 0));
	wvmcs(vcpu, VMCS_CTRL_CPU_BASED, cap2ctrl(HV_VMX_CAP_PROCBASED, CPU_BASED_HLT | CPU_BASED_UNCOND_IO));
	wvmcs(vcpu, VMCS_CTRL_CPU_BASED2, cap2ctrl(HV_VMX_CAP_PROCBASED2, 0));
	wvmcs(vcpu, VMCS_CTRL_VMENTRY_CONTROLS, cap2ctrl(HV_VMX_CAP_ENTRY, VMENTRY_GUEST_IA32E));
	wvmcs(vcpu, VMCS_CTRL_VMEXIT_CONTROLS, cap2ctrl(HV_VMX_CAP_EXIT, 0));
	wvmcs(vcpu, VMCS_CTRL_EXC_BITMAP, 0xffffffffu);

	wvmcs(vcpu, VMCS_CTRL_CR0_MASK, ~0ull);
	wvmcs(vcpu, VMCS_CTRL_CR0_SHADOW, 0x80000021);
	wvmcs(vcpu, VMCS_GUEST_CR0, 0x80000021);
	wvmcs(vcpu, VMCS_CTRL_CR4_MASK, ~0ull);
	wvmcs(vcpu, VMCS_CTRL_CR4_SHADOW, 0x2020);
	wvmcs(vcpu, VMCS_GUEST_CR4, 0x2020);
	wvmcs(vcpu, VMCS_GUEST_CR3, GUEST_PT_BASE);
	wvmcs(vcpu, VMCS_GUEST_IA32_EFER, 0x500);

	static const struct {
		uint32_t sel, base, limit, ar;
	} segs[] = {
		{ VMCS_GUEST_ES, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR },
		{ VMCS_GUEST_SS, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR },
		{ VMCS_GUEST_DS, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR },
		{ VMCS_GUEST_FS, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR },
		{ VMCS_GUEST_GS, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR },
	};
	uint64_t data_sel = g_cpl ? 0x23 : 0x10, data_ar = g_cpl ? 0xa0f3 : 0xa093;
	for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++) {
		wvmcs(vcpu, segs[i].sel, data_sel);
		wvmcs(vcpu, segs[i].base, 0);
		wvmcs(vcpu, segs[i].limit, 0xffffffff);
		wvmcs(vcpu, segs[i].ar, data_ar);
	}
	wvmcs(vcpu, VMCS_GUEST_CS, g_cpl ? 0x1b : 0x08);
	wvmcs(vcpu, VMCS_GUEST_CS_BASE, 0);
	wvmcs(vcpu, VMCS_GUEST_CS_LIMIT, 0xffffffff);
	wvmcs(vcpu, VMCS_GUEST_CS_AR, g_cpl ? 0xa0fb : 0xa09b);
	wvmcs(vcpu, VMCS_GUEST_TR, 0);
	wvmcs(vcpu, VMCS_GUEST_TR_BASE, 0);
	wvmcs(vcpu, VMCS_GUEST_TR_LIMIT, 0x67);
	wvmcs(vcpu, VMCS_GUEST_TR_AR, 0x8b);
	wvmcs(vcpu, VMCS_GUEST_LDTR, 0);
	wvmcs(vcpu, VMCS_GUEST_LDTR_BASE, 0);
	wvmcs(vcpu, VMCS_GUEST_LDTR_LIMIT, 0);
	wvmcs(vcpu, VMCS_GUEST_LDTR_AR, 0x10000);
	wvmcs(vcpu, VMCS_GUEST_GDTR_BASE, 0);
	wvmcs(vcpu, VMCS_GUEST_GDTR_LIMIT, 0);
	wvmcs(vcpu, VMCS_GUEST_IDTR_BASE, 0);
	wvmcs(vcpu, VMCS_GUEST_IDTR_LIMIT, 0);

	wvmcs(vcpu, VMCS_GUEST_RFLAGS, g_cpl ? 0x3002 : 0x2);
	wvmcs(vcpu, VMCS_GUEST_RSP, GUEST_STACK);
	wvmcs(vcpu, VMCS_GUEST_RIP, GUEST_IMAGE_BASE);
}

static void skip_instruction(hv_vcpuid_t vcpu)
{
	uint64_t len = rvmcs(vcpu, VMCS_RO_VMEXIT_INSTR_LEN);
	uint64_t rip = rvmcs(vcpu, VMCS_GUEST_RIP);
	wvmcs(vcpu, VMCS_GUEST_RIP, rip + len);
}

/*
 * Runs until the OUT to the done port. Every OUT and CPUID exit is handled like a VMM would
 * (CPUID answered with zeros, RIP advanced); any other exit ends the run as "not measured".
 */
static void run_to_done(hv_vcpuid_t vcpu, uint64_t max_exits, struct run_result *res)
{
	memset(res, 0, sizeof *res);
	double c0 = cpu_seconds();
	double t0 = now_seconds();
	for (;;) {
		hv_return_t r = hv_vcpu_run(vcpu);
		if (r != HV_SUCCESS)
			not_measured("hv_vcpu_run", r);
		res->exits++;
		uint64_t reason = rvmcs(vcpu, VMCS_RO_EXIT_REASON) & 0xffff;
		if (reason == VMX_REASON_IO) {
			uint64_t qual = rvmcs(vcpu, VMCS_RO_EXIT_QUALIFIC);
			res->io_exits++;
			if ((qual >> 16) == GUEST_DONE_PORT)
				break;
			skip_instruction(vcpu);
		} else if (reason == VMX_REASON_CPUID) {
			res->cpuid_exits++;
			hv_vcpu_write_register(vcpu, HV_X86_RAX, 0);
			hv_vcpu_write_register(vcpu, HV_X86_RBX, 0);
			hv_vcpu_write_register(vcpu, HV_X86_RCX, 0);
			hv_vcpu_write_register(vcpu, HV_X86_RDX, 0);
			skip_instruction(vcpu);
		} else if (reason != VMX_REASON_IRQ) {
			char why[64];
			snprintf(why, sizeof why, "unexpected exit reason %" PRIu64, reason);
			fail("%s", why);
		}
		if (res->exits > max_exits)
			fail("%s", "too many exits");
	}
	res->seconds = now_seconds() - t0;
	res->cpu_seconds = cpu_seconds() - c0;
}

/* One VM lifecycle: create, map, vCPU, set-up, run to the first exit, destroy. */
static void lifecycle_once(uint8_t *mem)
{
	hv_vcpuid_t vcpu;
	struct run_result res;
	CHECK(hvx_vm_create_with_backend(HV_VM_DEFAULT, g_backend));
	CHECK(hv_vm_map(mem, 0, GUEST_MEM_SIZE, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC));
	CHECK(hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT));
	setup_long_mode(vcpu);
	run_to_done(vcpu, 1 + MAX_EXITS_SLACK, &res);
	CHECK(hv_vcpu_destroy(vcpu));
	CHECK(hv_vm_unmap(0, GUEST_MEM_SIZE));
	CHECK(hv_vm_destroy());
}

static long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, resident = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * sysconf(_SC_PAGESIZE);
}

/* vCPU threads for the memory measurement: each creates, sets up and runs its vCPU to the first exit, then waits. */
static pthread_barrier_t g_created, g_measured, g_threads_up;
static bool g_vcpu_ran;

static void *vcpu_thread(void *arg)
{
	(void)arg;
	hv_vcpuid_t vcpu;
	pthread_barrier_wait(&g_threads_up);
	CHECK(hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT));
	setup_long_mode(vcpu);
	if (hv_vcpu_run(vcpu) == HV_SUCCESS)
		g_vcpu_ran = true; /* every thread stores the same value */
	pthread_barrier_wait(&g_created);
	pthread_barrier_wait(&g_measured);
	hv_vcpu_destroy(vcpu);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: hvx_bench run|lifecycle|vcpumem --backend emu|kvm --image FILE [--iters N] [--reps N]\n"
			"                 [--vcpus N] [--cpl 0|3]\n"
			"Prints one JSON line; exit status 3 when the backend cannot run the workload (\"why\").\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *mode = argv[1], *image = NULL;
	uint64_t iters = 1, reps = 100, vcpus = 8;
	for (int i = 2; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		if (!strcmp(a, "--backend"))
			g_backend = v;
		else if (!strcmp(a, "--image"))
			image = v;
		else if (!strcmp(a, "--iters"))
			iters = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--reps"))
			reps = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--vcpus"))
			vcpus = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--cpl"))
			g_cpl = atoi(v) == 3 ? 3 : 0;
		else
			usage();
	}
	if (!image || iters == 0 || reps == 0 || vcpus == 0)
		usage();
	const char *why = NULL;
	if (!hvx_backend_available(g_backend, &why))
		fail("backend unavailable: %s", why ? why : "?");
	load_image(image);

	if (!strcmp(mode, "run")) {
		uint8_t *mem = make_guest_memory(iters);
		hv_vcpuid_t vcpu;
		struct run_result res;
		CHECK(hvx_vm_create_with_backend(HV_VM_DEFAULT, g_backend));
		CHECK(hv_vm_map(mem, 0, GUEST_MEM_SIZE, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC));
		CHECK(hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT));
		setup_long_mode(vcpu);
		run_to_done(vcpu, 2 * iters + MAX_EXITS_SLACK, &res);
		CHECK(hv_vcpu_destroy(vcpu));
		CHECK(hv_vm_destroy());
		printf("{\"ok\": true, \"backend\": \"%s\", \"cpl\": %d, \"iters\": %" PRIu64 ", \"seconds\": %.9f, "
		       "\"cpu_seconds\": %.9f, \"exits\": %" PRIu64 ", \"io_exits\": %" PRIu64 ", \"cpuid_exits\": %" PRIu64 "}\n",
		       g_backend, g_cpl, iters, res.seconds, res.cpu_seconds, res.exits, res.io_exits, res.cpuid_exits);
	} else if (!strcmp(mode, "lifecycle")) {
		uint8_t *mem = make_guest_memory(1);
		lifecycle_once(mem); /* warm-up: first-use costs (library init, page faults) are not the lifecycle */
		double c0 = cpu_seconds();
		double t0 = now_seconds();
		for (uint64_t i = 0; i < reps; i++)
			lifecycle_once(mem);
		double t = now_seconds() - t0, c = cpu_seconds() - c0;
		printf("{\"ok\": true, \"backend\": \"%s\", \"cpl\": %d, \"reps\": %" PRIu64
		       ", \"seconds\": %.9f, \"seconds_per\": %.9f, \"cpu_seconds_per\": %.9f}\n",
		       g_backend, g_cpl, reps, t, t / (double)reps, c / (double)reps);
	} else if (!strcmp(mode, "vcpumem")) {
		uint8_t *mem = make_guest_memory(1);
		CHECK(hvx_vm_create_with_backend(HV_VM_DEFAULT, g_backend));
		CHECK(hv_vm_map(mem, 0, GUEST_MEM_SIZE, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC));
		pthread_t *t = calloc(vcpus, sizeof *t);
		pthread_barrier_init(&g_threads_up, NULL, (unsigned)vcpus + 1);
		pthread_barrier_init(&g_created, NULL, (unsigned)vcpus + 1);
		pthread_barrier_init(&g_measured, NULL, (unsigned)vcpus + 1);
		for (uint64_t i = 0; i < vcpus; i++)
			if (pthread_create(&t[i], NULL, vcpu_thread, NULL) != 0)
				fail("%s", "pthread_create");
		pthread_barrier_wait(&g_threads_up);
		long before = rss_bytes(); /* threads exist, no vCPU yet */
		pthread_barrier_wait(&g_created);
		long after = rss_bytes();
		pthread_barrier_wait(&g_measured);
		for (uint64_t i = 0; i < vcpus; i++)
			pthread_join(t[i], NULL);
		CHECK(hv_vm_destroy());
		printf("{\"ok\": true, \"backend\": \"%s\", \"vcpus\": %" PRIu64 ", \"ran\": %s, \"bytes_per_vcpu\": %.0f}\n",
		       g_backend, vcpus, g_vcpu_ran ? "true" : "false", (double)(after - before) / (double)vcpus);
		free(t);
	} else {
		usage();
	}
	return 0;
}
