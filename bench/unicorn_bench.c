/* unicorn_bench.c: runs one benchmark workload image (the flat 64-bit variant) on Unicorn 2 and prints one JSON result line. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <unicorn/unicorn.h>

/* Same guest layout as workloads/stub.asm; Unicorn starts in 64-bit mode without paging set-up. */
#define GUEST_MEM_SIZE (8u << 20)
#define GUEST_IMAGE_BASE 0x100000u
#define GUEST_DONE_PORT 0xf4u

struct counters {
	uint64_t outs, cpuids;
	bool done;
};

static uint8_t *g_image;
static size_t g_image_size, g_iters_offset;

static void __attribute__((noreturn)) fail(const char *what, const char *detail)
{
	printf("{\"ok\": false, \"engine\": \"unicorn\", \"why\": \"%s: %s\"}\n", what, detail);
	exit(3);
}

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

/* Process CPU time (the driver's default clock): leaves out time taken by other processes on a shared host. */
static double cpu_seconds(void)
{
	return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

static void load_image(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail("cannot open image", path);
	g_image = malloc(GUEST_MEM_SIZE);
	g_image_size = g_image ? fread(g_image, 1, GUEST_MEM_SIZE - GUEST_IMAGE_BASE, f) : 0;
	fclose(f);
	uint8_t *m = g_image_size ? memmem(g_image, g_image_size, "HVXITERS", 8) : NULL;
	if (!m || (size_t)(m - g_image) + 16 > g_image_size)
		fail("no HVXITERS marker", path);
	g_iters_offset = (size_t)(m - g_image) + 8;
}

/* The VMM's side of an OUT exit: the equivalent of handling an IO exit. */
static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
	(void)size;
	(void)value;
	struct counters *c = user;
	c->outs++;
	if (port == GUEST_DONE_PORT) {
		c->done = true;
		uc_emu_stop(uc);
	}
}

/* The VMM's side of a CPUID exit: answer zeros and skip the instruction. */
static int on_cpuid(uc_engine *uc, void *user)
{
	struct counters *c = user;
	uint64_t zero = 0;
	c->cpuids++;
	uc_reg_write(uc, UC_X86_REG_RAX, &zero);
	uc_reg_write(uc, UC_X86_REG_RBX, &zero);
	uc_reg_write(uc, UC_X86_REG_RCX, &zero);
	uc_reg_write(uc, UC_X86_REG_RDX, &zero);
	return 1; /* skip Unicorn's own CPUID */
}

/* Creates an engine with the image loaded and both hooks installed; returns NULL-free or exits. */
static uc_engine *make_engine(uint64_t iters, struct counters *c, void *backing)
{
	uc_engine *uc;
	uc_hook h_out, h_cpuid;
	uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
	if (e != UC_ERR_OK)
		fail("uc_open", uc_strerror(e));
	e = backing ? uc_mem_map_ptr(uc, 0, GUEST_MEM_SIZE, UC_PROT_ALL, backing)
		    : uc_mem_map(uc, 0, GUEST_MEM_SIZE, UC_PROT_ALL);
	if (e != UC_ERR_OK)
		fail("uc_mem_map", uc_strerror(e));
	memcpy(g_image + g_iters_offset, &iters, sizeof iters);
	e = uc_mem_write(uc, GUEST_IMAGE_BASE, g_image, g_image_size);
	if (e != UC_ERR_OK)
		fail("uc_mem_write", uc_strerror(e));
	e = uc_hook_add(uc, &h_out, UC_HOOK_INSN, (void *)on_out, c, 1, 0, UC_X86_INS_OUT);
	if (e != UC_ERR_OK)
		fail("uc_hook_add OUT", uc_strerror(e));
	e = uc_hook_add(uc, &h_cpuid, UC_HOOK_INSN, (void *)on_cpuid, c, 1, 0, UC_X86_INS_CPUID);
	if (e != UC_ERR_OK)
		fail("uc_hook_add CPUID", uc_strerror(e));
	return uc;
}

static void run(uc_engine *uc, struct counters *c)
{
	uc_err e = uc_emu_start(uc, GUEST_IMAGE_BASE, (uint64_t)-1, 0, 0);
	if (e != UC_ERR_OK)
		fail("uc_emu_start", uc_strerror(e));
	if (!c->done)
		fail("uc_emu_start", "stopped before the done port");
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

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: unicorn_bench run|lifecycle|vcpumem --image FILE [--iters N] [--reps N] [--vcpus N]\n");
		return 2;
	}
	const char *mode = argv[1], *image = NULL;
	uint64_t iters = 1, reps = 100, vcpus = 8;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--image"))
			image = argv[i + 1];
		else if (!strcmp(argv[i], "--iters"))
			iters = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--reps"))
			reps = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--vcpus"))
			vcpus = strtoull(argv[i + 1], NULL, 0);
	}
	if (!image || !iters || !reps || !vcpus)
		fail("usage", "missing or zero argument");
	load_image(image);

	if (!strcmp(mode, "run")) {
		struct counters c = { 0 };
		uc_engine *uc = make_engine(iters, &c, NULL);
		double c0 = cpu_seconds();
		double t0 = now_seconds();
		run(uc, &c);
		double t = now_seconds() - t0, ct = cpu_seconds() - c0;
		uc_close(uc);
		printf("{\"ok\": true, \"engine\": \"unicorn\", \"iters\": %" PRIu64 ", \"seconds\": %.9f, \"cpu_seconds\": %.9f, "
		       "\"outs\": %" PRIu64 ", \"cpuids\": %" PRIu64 "}\n",
		       iters, t, ct, c.outs, c.cpuids);
	} else if (!strcmp(mode, "lifecycle")) {
		/* uc_open, map, load, run to the first OUT, uc_close: Unicorn's equivalent of a VM lifecycle. */
		double t0 = 0, c0 = 0;
		for (uint64_t i = 0; i <= reps; i++) {
			if (i == 1) { /* the first round is warm-up */
				t0 = now_seconds();
				c0 = cpu_seconds();
			}
			struct counters c = { 0 };
			uc_engine *uc = make_engine(1, &c, NULL);
			run(uc, &c);
			uc_close(uc);
		}
		double t = now_seconds() - t0, ct = cpu_seconds() - c0;
		printf("{\"ok\": true, \"engine\": \"unicorn\", \"reps\": %" PRIu64
		       ", \"seconds\": %.9f, \"seconds_per\": %.9f, \"cpu_seconds_per\": %.9f}\n",
		       reps, t, t / (double)reps, ct / (double)reps);
	} else if (!strcmp(mode, "vcpumem")) {
		/* One Unicorn engine is one CPU: RSS growth per engine that has run to its first exit, sharing one guest RAM. */
		void *ram = aligned_alloc(4096, GUEST_MEM_SIZE);
		if (!ram)
			fail("aligned_alloc", "out of memory");
		memset(ram, 0, GUEST_MEM_SIZE);
		uc_engine **ucs = calloc(vcpus, sizeof *ucs);
		struct counters *cs = calloc(vcpus, sizeof *cs);
		long before = rss_bytes();
		for (uint64_t i = 0; i < vcpus; i++) {
			ucs[i] = make_engine(1, &cs[i], ram);
			run(ucs[i], &cs[i]);
		}
		long after = rss_bytes();
		for (uint64_t i = 0; i < vcpus; i++)
			uc_close(ucs[i]);
		free(cs);
		free(ucs);
		free(ram);
		printf("{\"ok\": true, \"engine\": \"unicorn\", \"vcpus\": %" PRIu64 ", \"bytes_per_vcpu\": %.0f}\n", vcpus,
		       (double)(after - before) / (double)vcpus);
	} else {
		fail("usage", "unknown mode");
	}
	free(g_image);
	return 0;
}
