/* conformance.c: the conformance driver: runs every case of one exit reason on one backend (pass 0 / fail 1 / skip 77), lists reasons, or wraps a macOS-style client. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hvx/hvx.h>
#include <hvx/hvx_exit.h>

#include "cases.h"

#define SKIP_CODE 77

extern char **environ;

static const struct conf_case *const tables[] = {conf_cases_event, conf_cases_insn, conf_cases_mem, conf_cases_misc,
						  conf_cases_apic, conf_cases_smm, conf_cases_activity};

/* ------------------------------------------------------------------ helpers used by the case bodies */

char h_decline_why[256];

void h_decline(struct h_ctx *h, const char *fmt, ...)
{
	(void)h;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h_decline_why, sizeof h_decline_why, fmt, ap);
	va_end(ap);
}

uint64_t h_at(struct h_ctx *h, uint64_t addr, const char *bytes, size_t n)
{
	if (addr < H_CODE || addr + n > H_DATA || memcmp(h->mem + addr, bytes, n) != 0) {
		char want[64] = "", got[64] = "";
		for (size_t i = 0; i < n && i < 15; i++) {
			snprintf(want + strlen(want), sizeof want - strlen(want), "%02x", (unsigned char)bytes[i]);
			if (addr + i < H_MEM_SIZE)
				snprintf(got + strlen(got), sizeof got - strlen(got), "%02x", h->mem[addr + i]);
		}
		h_expect_true(h, "guest bytes at the instruction under test", false);
		printf("    at 0x%" PRIx64 ": wanted %s, got %s (guest binary out of date?)\n", addr, want, got);
	}
	return addr;
}

void h_start(struct h_ctx *h, uint64_t rip)
{
	h_set_reg(h, HV_X86_RIP, rip);
}

void h_idt_gate64(struct h_ctx *h, unsigned vector, uint64_t handler)
{
	uint64_t lo = (handler & 0xffff) | ((uint64_t)H_SEL_CODE64 << 16) | (0x8eull << 40) |
		      (((handler >> 16) & 0xffff) << 48);
	uint64_t hi = handler >> 32;
	memcpy(h->mem + H_IDT + vector * 16, &lo, 8);
	memcpy(h->mem + H_IDT + vector * 16 + 8, &hi, 8);
}

void h_expect_exception(struct h_ctx *h, uint32_t intr_info, uint32_t error, uint64_t rip, uint64_t qual)
{
	if (!h_expect_reason(h, VMX_REASON_EXC_NMI))
		return;
	h_expect(h, "VM-exit interruption information", h->x.intr, intr_info);
	if (intr_info & INTR_ERR)
		h_expect(h, "VM-exit interruption error code", h->x.intr_err, error);
	h_expect(h, "guest RIP (faulting instruction)", h->x.rip, rip);
	h_expect(h, "exit qualification", h->x.qual, qual);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, INTR_VALID);
	if (((intr_info >> 8) & 7) == 3)
		h_expect(h, "VM-exit instruction length (hardware exception: undefined, hvx writes 0)", h->x.len, 0);
}

/* ------------------------------------------------------------------ running one reason */

enum outcome { PASS, FAIL, SKIP_TODO, SKIP_DEP, SKIP_CTRL };

static const char *guest_dir(void)
{
	const char *d = getenv("HVX_CONFORMANCE_GUESTS");
	return d ? d : CONF_GUEST_DIR;
}

static bool force_claims; /* --force: run cases even for reasons the backend does not claim (backend development) */

static bool claims(const char *backend, const char *reason)
{
	if (force_claims)
		return true;
	bool p = false;
	int r = h_reason_by_name(reason);
	return r >= 0 && hvx_backend_produces_reason(backend, (uint32_t)r, &p) == HV_SUCCESS && p;
}

/* Documented limits of the kvm backend (docs/kvm.md): cases that cannot pass there are skipped with the reason printed. */
static const struct {
	unsigned flag;
	bool software_only; /* only where /dev/kvm is a software KVM (no vmx/svm in /proc/cpuinfo) */
	const char *why;
} kvm_limits[] = {
	{C_NO_KVM, false, "not run on kvm (VMCALL hangs this host's PVM /dev/kvm)"},
	{C_KVM_NO_EXEC, false, "kvm cannot enforce execute permission: KVM memory slots have no no-execute flag (docs/kvm.md)"},
	{C_SOFT_KVM_REAL_IVT, true, "this host's software KVM (PVM) ignores the real-mode IVT limit (docs/kvm.md)"},
	{C_KVM_NO_IRET_MMIO, false, "KVM's instruction emulator cannot complete an IRET whose stack has no memory slot (docs/kvm.md)"},
	{C_KVM_NO_PENDING_DBG, false, "the kvm backend does not sync the pending-debug-exceptions field with KVM (docs/kvm.md)"},
};

/* Is /dev/kvm a software KVM here (no hardware virtualisation flag)? */
static bool software_kvm(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool hw = false;
	while (f && !hw && fgets(line, sizeof line, f))
		if (!strncmp(line, "flags", 5))
			hw = strstr(line, " vmx") || strstr(line, " svm");
	if (f)
		fclose(f);
	return !hw;
}

static enum outcome run_case(const char *backend, const struct conf_case *c)
{
	printf("case %s/%s:\n", c->reason, c->name);
	if (c->todo) {
		printf("  SKIP (TODO): %s\n", c->todo);
		return SKIP_TODO;
	}
	if (!strcmp(backend, "kvm"))
		for (size_t i = 0; i < sizeof kvm_limits / sizeof kvm_limits[0]; i++)
			if ((c->flags & kvm_limits[i].flag) && (!kvm_limits[i].software_only || software_kvm())) {
				printf("  SKIP: %s\n", kvm_limits[i].why);
				return SKIP_DEP;
			}
	for (int i = 0; i < 3 && c->also[i]; i++)
		if (!claims(backend, c->also[i])) {
			printf("  SKIP: the case ends in a %s exit, which backend %s does not produce\n", c->also[i], backend);
			return SKIP_DEP;
		}
	struct h_ctx h = {.backend = backend, .case_name = c->name};
	static const hv_vmx_capability_t caps[5] = {HV_VMX_CAP_PINBASED, HV_VMX_CAP_PROCBASED, HV_VMX_CAP_PROCBASED2,
						    HV_VMX_CAP_ENTRY, HV_VMX_CAP_EXIT};
	for (int i = 0; i < 5; i++)
		hvx_backend_read_capability(backend, caps[i], &h.cap[i]);
	hvx_backend_read_capability(backend, HV_VMX_CAP_BASIC, &h.cap_basic);
	hvx_backend_read_capability(backend, HV_VMX_CAP_CR4_FIXED1, &h.cap_cr4_fixed1);
	h.deadline_ok = (h.cap[0] >> 32) & PIN_BASED_PREEMPTION_TIMER;
	char why[160];
	if (h_ctrls_unsupported(&h, &c->ctrls, why, sizeof why)) {
		printf("  SKIP: %s\n", why);
		return SKIP_CTRL;
	}
	char path[1024] = "";
	if (c->guest)
		snprintf(path, sizeof path, "%s/%s.bin", guest_dir(), c->guest);
	h_decline_why[0] = 0;
	enum outcome o = FAIL;
	if (h_setup(&h, c->mode, c->guest ? path : NULL, &c->ctrls)) {
		c->run(&h);
		if (h_decline_why[0] && h.failures == 0) {
			printf("  SKIP: %s\n", h_decline_why);
			o = SKIP_DEP;
		} else {
			o = h.failures ? FAIL : PASS;
		}
	}
	h_teardown(&h);
	if (o == PASS || o == FAIL)
		printf("  %s\n", o == PASS ? "PASS" : "FAIL");
	return o;
}

static int run_reason(const char *backend, const char *reason)
{
	const char *why = NULL;
	if (h_reason_by_name(reason) < 0) {
		fprintf(stderr, "unknown exit reason %s\n", reason);
		return 2;
	}
	if (!hvx_backend_available(backend, &why)) {
		printf("backend %s is not available: %s\n", backend, why ? why : "?");
		return SKIP_CODE;
	}
	if (!claims(backend, reason)) {
		const char *note = NULL;
		hvx_backend_reason_note(backend, (uint32_t)h_reason_by_name(reason), &note);
		printf("backend %s does not produce %s%s%s\n", backend, reason, note ? ": " : "", note ? note : "");
		return SKIP_CODE;
	}
	unsigned pass = 0, fail = 0, todo = 0, ctrl = 0, total = 0;
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
		for (const struct conf_case *c = tables[t]; c->reason; c++) {
			if (strcmp(c->reason, reason))
				continue;
			total++;
			fflush(stdout);
			switch (run_case(backend, c)) {
			case PASS: pass++; break;
			case FAIL: fail++; break;
			case SKIP_TODO: todo++; break;
			case SKIP_CTRL: ctrl++; break;
			default: break;
			}
		}
	printf("%s on %s: %u cases, %u passed, %u failed, %u skipped\n", reason, backend, total, pass, fail,
	       total - pass - fail);
	if (fail)
		return 1;
	if (pass)
		return 0;
	if (ctrl && !todo) {
		printf("FAIL: backend %s %s %s but denies the controls every case needs\n", backend,
		       force_claims ? "is forced to run" : "claims", reason);
		return 1;
	}
	return SKIP_CODE;
}

/* ------------------------------------------------------------------ a macOS-style client under the same skip rules */

static int run_client(const char *backend, const char *needs, const char *exe)
{
	const char *why = NULL;
	if (!hvx_backend_available(backend, &why)) {
		printf("backend %s is not available: %s\n", backend, why ? why : "?");
		return SKIP_CODE;
	}
	if (needs && !claims(backend, needs)) {
		printf("backend %s does not produce %s\n", backend, needs);
		return SKIP_CODE;
	}
	setenv("HVX_BACKEND", backend, 1);
	char *argv[] = {(char *)exe, NULL};
	pid_t pid;
	int e = posix_spawn(&pid, exe, NULL, NULL, argv, environ);
	if (e) {
		printf("cannot start %s: %s\n", exe, strerror(e));
		return 1;
	}
	for (int ms = 0; ms < 10000; ms += 10) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	printf("%s did not finish within 10 s: killed\n", exe);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}

/* ------------------------------------------------------------------ main */

static int usage(void)
{
	fprintf(stderr, "usage: conformance [--force] --backend emu|kvm --reason NAME   (--force: ignore the backend's claims)\n"
			"       conformance --backend emu|kvm --run-client EXE [--needs REASON]\n"
			"       conformance --list          (number and name of the 65 Apple reasons)\n"
			"       conformance --cases         (reason, case, guest of every case)\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *backend = NULL, *reason = NULL, *client = NULL, *needs = NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--list")) {
			for (size_t k = 0; k < hvx_exit_reason_count(); k++) {
				const struct hvx_exit_reason_info *r = hvx_exit_reason_at(k);
				if (r && r->apple_name)
					printf("%u %s\n", r->number, hvx_exit_reason_short_name(r));
			}
			return 0;
		}
		if (!strcmp(argv[i], "--force")) {
			force_claims = true;
			continue;
		}
		if (!strcmp(argv[i], "--cases")) {
			for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
				for (const struct conf_case *c = tables[t]; c->reason; c++)
					printf("%s %s %s\n", c->reason, c->name, c->todo ? "-" : c->guest ? c->guest : "-");
			return 0;
		}
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--backend"))
			backend = argv[++i];
		else if (!strcmp(argv[i], "--reason"))
			reason = argv[++i];
		else if (!strcmp(argv[i], "--run-client"))
			client = argv[++i];
		else if (!strcmp(argv[i], "--needs"))
			needs = argv[++i];
		else
			return usage();
	}
	if (!backend || (!reason && !client))
		return usage();
	alarm(60); /* last resort: a case never hangs the suite */
	return client ? run_client(backend, needs, client) : run_reason(backend, reason);
}
