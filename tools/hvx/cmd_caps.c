/* cmd_caps.c: 'hvx caps': for each backend, whether it runs here, its capability words and the exit reasons it can produce. */
#include <stdio.h>
#include <string.h>

#include <hvx/hvx.h>
#include <hvx/hvx_exit.h>

#include "cli.h"

static const struct {
	hv_vmx_capability_t cap;
	const char *name;
} cap_rows[] = {
	{HV_VMX_CAP_PINBASED, "PINBASED"},
	{HV_VMX_CAP_PROCBASED, "PROCBASED"},
	{HV_VMX_CAP_PROCBASED2, "PROCBASED2"},
	{HV_VMX_CAP_ENTRY, "ENTRY"},
	{HV_VMX_CAP_EXIT, "EXIT"},
	{HV_VMX_CAP_BASIC, "BASIC"},
	{HV_VMX_CAP_MISC, "MISC"},
	{HV_VMX_CAP_CR0_FIXED0, "CR0_FIXED0"},
	{HV_VMX_CAP_CR0_FIXED1, "CR0_FIXED1"},
	{HV_VMX_CAP_CR4_FIXED0, "CR4_FIXED0"},
	{HV_VMX_CAP_CR4_FIXED1, "CR4_FIXED1"},
	{HV_VMX_CAP_EPT_VPID_CAP, "EPT_VPID_CAP"},
	{HV_VMX_CAP_PREEMPTION_TIMER, "PREEMPTION_TIMER"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: hvx caps [--backend NAME] [--json]\n\n"
		     "For each backend (or the one named): whether it can run on this host, its capability words\n"
		     "(hv_vmx_read_capability: allowed-0 settings in bits 31:0, allowed-1 in 63:32) and the exit\n"
		     "reasons it can produce.\n");
}

static void print_backend(const char *name, bool json, bool first)
{
	const char *why = "";
	bool avail = hvx_backend_available(name, &why);
	unsigned produced = 0;
	if (json) {
		printf("%s{\"backend\":\"%s\",\"available\":%s", first ? "" : ",", name, avail ? "true" : "false");
		if (!avail)
			printf(",\"why\":\"%s\"", why);
		printf(",\"capabilities\":{");
		for (size_t i = 0; i < sizeof cap_rows / sizeof cap_rows[0]; i++) {
			uint64_t v = 0;
			hvx_backend_read_capability(name, cap_rows[i].cap, &v);
			printf("%s\"%s\":\"0x%016llx\"", i ? "," : "", cap_rows[i].name, (unsigned long long)v);
		}
		printf("},\"reasons\":[");
	} else {
		printf("backend %s: %s%s%s\n", name, avail ? "available" : "not available (", avail ? "" : why,
		       avail ? "" : ")");
		for (size_t i = 0; i < sizeof cap_rows / sizeof cap_rows[0]; i++) {
			uint64_t v = 0;
			hvx_backend_read_capability(name, cap_rows[i].cap, &v);
			printf("  %-17s 0x%016llx\n", cap_rows[i].name, (unsigned long long)v);
		}
		printf("  reasons produced:");
	}
	for (uint32_t r = 0; r < 128; r++) {
		bool p = false;
		hvx_backend_produces_reason(name, r, &p);
		if (!p)
			continue;
		const struct hvx_exit_reason_info *info = hvx_exit_reason_lookup(r);
		const char *label = info && info->apple_name ? info->apple_name : "?";
		if (json)
			printf("%s%u", produced ? "," : "", r);
		else
			printf(" %u(%s)", r, label);
		produced++;
	}
	if (json)
		printf("]}");
	else
		printf("%s\n  %u of 65 reasons\n", produced ? "" : " none yet", produced);
}

int cmd_caps_main(int argc, char **argv)
{
	bool json = false;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (hvx_is_help(argv[i])) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--backend")) {
			if (++i >= argc)
				return hvx_usage_error("caps", "--backend needs a name");
			only = argv[i];
			bool known = false;
			for (unsigned b = 0; b < hvx_backend_count(); b++)
				known |= !strcmp(hvx_backend_name(b), only);
			if (!known)
				return hvx_usage_error("caps", "unknown backend '%s' (known: emu, kvm)", only);
		} else {
			return hvx_usage_error("caps", "unknown argument '%s'", argv[i]);
		}
	}
	if (json)
		printf("[");
	bool first = true;
	for (unsigned b = 0; b < hvx_backend_count(); b++) {
		const char *name = hvx_backend_name(b);
		if (only && strcmp(only, name))
			continue;
		print_backend(name, json, first);
		first = false;
	}
	if (json)
		printf("]\n");
	return 0;
}
