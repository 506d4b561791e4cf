/* cmd_run.c: 'hvx run': boot an image (flat, ELF, multiboot, PVH, bzImage) on the reference VMM; --stats, --trace, --timeout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hvx/hvx.h>

#include "cli.h"
#include "cpuid.h"
#include "vmm.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hvx run [options] IMAGE\n"
		"\n"
		"Boot IMAGE on the reference VMM (public hv_* API only). Formats are detected: Linux bzImage,\n"
		"multiboot v1 (ELF or a.out kludge), PVH (ELF with the Xen PHYS32_ENTRY note), ELF32/ELF64;\n"
		"raw binaries need --format flat or --load-addr. COM1 and debugcon (port 0xe9) go to stdout,\n"
		"stdin feeds COM1. The guest ends with isa-debug-exit (port 0xf4: status (value << 1) | 1),\n"
		"ACPI power-off (0x604), a reset, or HLT with interrupts disabled (status 0).\n"
		"\n"
		"options:\n"
		"  --backend NAME         emu, kvm or auto (default: $HVX_BACKEND, else auto)\n"
		"  --memory SIZE          guest RAM, e.g. 64M, 1G (default 128M)\n"
		"  --cpus N               vCPUs; application processors start with INIT/SIPI (default 1)\n"
		"  --format FMT           flat, elf, multiboot, pvh, bzimage (default: detect)\n"
		"  --mode MODE            real, protected, long: entry mode for flat and ELF images;\n"
		"                         long with a bzImage uses its 64-bit entry\n"
		"  --load-addr ADDR       flat: load address (default 0x7c00 real, 0x100000 otherwise)\n"
		"  --entry ADDR           entry point (flat: default the load address; ELF: overrides e_entry)\n"
		"  --append CMDLINE       kernel command line (multiboot: after the image path)\n"
		"  --initrd FILE          bzImage initrd; multiboot and PVH: first module\n"
		"  --module \"FILE ARGS\"   multiboot/PVH module with its string (repeatable)\n"
		"  --cpuid LEAF[.SUB]=EAX,EBX,ECX,EDX   override a CPUID leaf (repeatable)\n"
		"  --msr N=VALUE          give MSR N this value (readable and writable; repeatable)\n"
		"  --ignore-msrs          unknown MSRs read 0 and ignore writes (default: #GP)\n"
		"  --timeout SECONDS      stop the guest after this long (exit status 124)\n"
		"  --no-input             do not read stdin for COM1\n"
		"  --trace                print every exit, decoded, on stderr\n"
		"  --stats                print exit statistics (count, share, latency mean/p50/p99) on stderr;\n"
		"                         emu: also the instructions retired and the unimplemented ones\n"
		"  --stats-json FILE      write the statistics as JSON (for 'hvx stat')\n"
		"\n"
		"exit status: the guest's (see above); 2 bad options or image; 4 guest error (triple fault,\n"
		"failed entry, unhandled exit); 77 backend cannot run guests; 124 timeout.\n");
}

static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int cmd_run_main(int argc, char **argv)
{
	static struct vmm_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.mem_size = 128ull << 20;
	cfg.cpus = 1;
	cfg.mode = VMM_MODE_DEFAULT;
	cfg.serial_out = stdout;
	cfg.serial_in_fd = 0;
	cfg.trace_out = stderr;
	bool stats = false;
	const char *stats_json = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		bool missing = false;
		uint64_t n;
		if (hvx_is_help(a)) {
			usage(stdout);
			return 0;
		}
#define OPT(name) ((v = opt_value(argc, argv, &i, name, &missing)) != NULL || missing)
		if (OPT("--backend")) {
			if (missing)
				goto need;
			cfg.backend = v;
		} else if (OPT("--memory")) {
			if (missing)
				goto need;
			if (!vmm_parse_size(v, &cfg.mem_size))
				return hvx_usage_error("run", "bad --memory '%s' (e.g. 64M, 1G)", v);
		} else if (OPT("--cpus")) {
			if (missing)
				goto need;
			if (!hvx_parse_u64(v, &n) || n < 1 || n > VMM_MAX_CPUS)
				return hvx_usage_error("run", "bad --cpus '%s' (1..%u)", v, VMM_MAX_CPUS);
			cfg.cpus = (unsigned)n;
		} else if (OPT("--format")) {
			if (missing)
				goto need;
			if (strcmp(v, "flat") && strcmp(v, "elf") && strcmp(v, "multiboot") && strcmp(v, "pvh") &&
			    strcmp(v, "bzimage"))
				return hvx_usage_error("run", "unknown --format '%s' (flat, elf, multiboot, pvh, bzimage)", v);
			cfg.format = v;
		} else if (OPT("--mode")) {
			if (missing)
				goto need;
			if (!strcmp(v, "real"))
				cfg.mode = VMM_MODE_REAL;
			else if (!strcmp(v, "protected"))
				cfg.mode = VMM_MODE_PROTECTED;
			else if (!strcmp(v, "long"))
				cfg.mode = VMM_MODE_LONG;
			else
				return hvx_usage_error("run", "unknown --mode '%s' (real, protected, long)", v);
		} else if (OPT("--load-addr")) {
			if (missing)
				goto need;
			if (!hvx_parse_u64(v, &cfg.load_addr))
				return hvx_usage_error("run", "bad --load-addr '%s'", v);
			cfg.have_load_addr = true;
		} else if (OPT("--entry")) {
			if (missing)
				goto need;
			if (!hvx_parse_u64(v, &cfg.entry))
				return hvx_usage_error("run", "bad --entry '%s'", v);
			cfg.have_entry = true;
		} else if (OPT("--append")) {
			if (missing)
				goto need;
			cfg.append = v;
		} else if (OPT("--initrd")) {
			if (missing)
				goto need;
			cfg.initrd = v;
		} else if (OPT("--module")) {
			if (missing)
				goto need;
			if (cfg.nmodules == VMM_MAX_MODULES)
				return hvx_usage_error("run", "at most %u --module options", VMM_MAX_MODULES);
			cfg.modules[cfg.nmodules++] = v;
		} else if (OPT("--cpuid")) {
			if (missing)
				goto need;
			if (cfg.ncpuid == VMM_MAX_OVERRIDES || !vmm_parse_cpuid_override(v, &cfg.cpuid[cfg.ncpuid]))
				return hvx_usage_error("run", "bad --cpuid '%s' (LEAF[.SUB]=EAX,EBX,ECX,EDX)", v);
			cfg.ncpuid++;
		} else if (OPT("--msr")) {
			if (missing)
				goto need;
			if (cfg.nmsr == VMM_MAX_OVERRIDES || !vmm_parse_msr_override(v, &cfg.msr[cfg.nmsr]))
				return hvx_usage_error("run", "bad --msr '%s' (N=VALUE)", v);
			cfg.nmsr++;
		} else if (OPT("--timeout")) {
			if (missing)
				goto need;
			char *end;
			double t = strtod(v, &end);
			if (*end || !(t > 0) || !isfinite(t) || t > 1e7)
				return hvx_usage_error("run", "bad --timeout '%s' (seconds > 0)", v);
			cfg.timeout = t;
		} else if (OPT("--stats-json")) {
			if (missing)
				goto need;
			stats_json = v;
		} else if (!strcmp(a, "--ignore-msrs")) {
			cfg.ignore_msrs = true;
		} else if (!strcmp(a, "--no-input")) {
			cfg.serial_in_fd = -1;
		} else if (!strcmp(a, "--trace")) {
			cfg.trace = true;
		} else if (!strcmp(a, "--stats")) {
			stats = true;
		} else if (a[0] == '-' && a[1]) {
			return hvx_usage_error("run", "unknown option '%s'", a);
		} else if (!cfg.image) {
			cfg.image = a;
		} else {
			return hvx_usage_error("run", "unexpected argument '%s' (one IMAGE)", a);
		}
		continue;
need:
		return hvx_usage_error("run", "option '%s' needs a value", a);
#undef OPT
	}
	if (!cfg.image)
		return hvx_usage_error("run", "no IMAGE given");
	if (cfg.backend && strcmp(cfg.backend, "emu") && strcmp(cfg.backend, "kvm") && strcmp(cfg.backend, "auto"))
		return hvx_usage_error("run", "unknown --backend '%s' (emu, kvm, auto)", cfg.backend);
	if (cfg.mode == VMM_MODE_REAL && cfg.format && strcmp(cfg.format, "flat"))
		return hvx_usage_error("run", "--mode real works only with flat images");
	FILE *json = NULL;
	if (stats_json && !(json = fopen(stats_json, "w"))) {
		fprintf(stderr, "hvx run: cannot write '%s'\n", stats_json);
		return HVX_EXIT_USAGE;
	}

	static struct vmm_stats st;
	char err[512];
	int status = vmm_run(&cfg, &st, err, sizeof err);
	fflush(stdout);
	if (err[0])
		fprintf(stderr, "hvx run: %s\n", err);
	bool ran = status != VMM_EXIT_USAGE || st.total;
	if (stats && ran)
		vmm_stats_print_table(&st, stderr);
	if (stats && ran && !strcmp(st.backend, "emu"))
		fprintf(stderr, "emu: %llu instructions retired, %llu unimplemented (#UD)\n",
			(unsigned long long)hvx_emu_instructions_retired(), (unsigned long long)hvx_emu_unimplemented_count());
	if (json) {
		if (ran && vmm_stats_write_json(&st, json))
			fprintf(stderr, "hvx run: error writing '%s'\n", stats_json);
		fclose(json);
		if (!ran)
			remove(stats_json); /* nothing ran: leave no empty file behind */
	}
	vmm_stats_free(&st);
	return status;
}
