/* cmd_decode.c: `hvx decode`: decode a VM exit (reason, qualification, instruction and interruption information). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvx/hvx_exit.h>

#include "cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hvx decode REASON [QUALIFICATION] [options]\n"
		"\n"
		"Decode one VM exit and print a one-line description (or JSON).\n"
		"\n"
		"  REASON          the exit-reason word as a number (30, 0x1e, 0x80000021: bits above 15\n"
		"                  are the reason-word flags), or an Apple name (VMX_REASON_IO or IO,\n"
		"                  case-insensitive; a VM-entry-failure name also sets bit 31)\n"
		"  QUALIFICATION   the exit qualification (VMCS 0x6400)\n"
		"\n"
		"  --instr-info X  VM-exit instruction information (0x440E)\n"
		"  --intr-info Y   VM-exit interruption information (0x4404)\n"
		"  --intr-error E  VM-exit interruption error code (0x4406)\n"
		"  --idt-info Z    IDT-vectoring information (0x4408)\n"
		"  --idt-error E   IDT-vectoring error code (0x440A)\n"
		"  --len N         VM-exit instruction length (0x440C)\n"
		"  --gla A         guest-linear address (0x640A)\n"
		"  --gpa A         guest-physical address (0x2400)\n"
		"  --json          print a JSON object instead of text\n"
		"  -h, --help      show this help\n"
		"\n"
		"Numbers are decimal, 0x-hex or 0-octal.\n"
		"example: hvx decode 30 0x3f80008   ->  IO (30): IN 1 byte from port 0x3f8 via DX\n");
}

/* The numeric options: name, where the value goes, the HVX_EXIT_HAVE_* bit it sets, its maximum. */
struct num_opt {
	const char *name;
	size_t offset;
	int width; /* 32 or 64 */
	unsigned have;
};

static const struct num_opt num_opts[] = {
	{"--instr-info", offsetof(struct hvx_exit_raw, instr_info), 32, HVX_EXIT_HAVE_INSTR_INFO},
	{"--intr-info", offsetof(struct hvx_exit_raw, intr_info), 32, HVX_EXIT_HAVE_INTR_INFO},
	{"--intr-error", offsetof(struct hvx_exit_raw, intr_error), 32, 0},
	{"--idt-info", offsetof(struct hvx_exit_raw, idt_info), 32, HVX_EXIT_HAVE_IDT_INFO},
	{"--idt-error", offsetof(struct hvx_exit_raw, idt_error), 32, 0},
	{"--len", offsetof(struct hvx_exit_raw, instr_len), 32, HVX_EXIT_HAVE_INSTR_LEN},
	{"--gla", offsetof(struct hvx_exit_raw, guest_linear), 64, HVX_EXIT_HAVE_GLA},
	{"--gpa", offsetof(struct hvx_exit_raw, guest_physical), 64, HVX_EXIT_HAVE_GPA},
};

static bool parse_reason(const char *text, uint32_t *word)
{
	uint64_t v;
	if (hvx_parse_u64(text, &v)) {
		if (v > 0xffffffffu)
			return false;
		*word = (uint32_t)v;
		return true;
	}
	const struct hvx_exit_reason_info *r = hvx_exit_reason_by_name(text);
	if (!r)
		return false;
	*word = r->number;
	if (r->exit_class == HVX_EXIT_CLASS_ENTRY_FAILURE)
		*word |= HVX_EXIT_REASON_ENTRY_FAILURE;
	return true;
}

/* Match "--name VALUE" or "--name=VALUE"; returns the value (advancing *i) or NULL with *matched set. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *matched)
{
	size_t n = strlen(name);
	*matched = false;
	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=') {
		*matched = true;
		return argv[*i] + n + 1;
	}
	if (argv[*i][n] != '\0')
		return NULL;
	*matched = true;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int print_decoded(const struct hvx_exit_decoded *d, bool json)
{
	size_t n = json ? hvx_exit_format_json(d, NULL, 0) : hvx_exit_format_text(d, NULL, 0);
	char *buf = malloc(n + 1);
	if (!buf) {
		perror("hvx decode");
		return 1;
	}
	if (json)
		hvx_exit_format_json(d, buf, n + 1);
	else
		hvx_exit_format_text(d, buf, n + 1);
	puts(buf);
	free(buf);
	return 0;
}

int cmd_decode_main(int argc, char **argv)
{
	struct hvx_exit_raw raw;
	memset(&raw, 0, sizeof raw);
	bool json = false;
	int positional = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (hvx_is_help(arg)) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(arg, "--json")) {
			json = true;
			continue;
		}
		if (arg[0] == '-' && arg[1] != '\0') {
			bool found = false;
			for (size_t k = 0; k < sizeof num_opts / sizeof num_opts[0] && !found; k++) {
				const struct num_opt *o = &num_opts[k];
				bool matched;
				const char *val = option_value(argc, argv, &i, o->name, &matched);
				if (!matched)
					continue;
				found = true;
				if (!val)
					return hvx_usage_error("decode", "option '%s' needs a value", o->name);
				uint64_t v;
				if (!hvx_parse_u64(val, &v) || (o->width == 32 && v > 0xffffffffu))
					return hvx_usage_error("decode", "bad number '%s' for %s", val, o->name);
				if (o->width == 32) {
					uint32_t v32 = (uint32_t)v;
					memcpy((char *)&raw + o->offset, &v32, sizeof v32);
				} else {
					memcpy((char *)&raw + o->offset, &v, sizeof v);
				}
				raw.have |= o->have;
			}
			if (!found)
				return hvx_usage_error("decode", "unknown option '%s'", arg);
			continue;
		}
		if (positional == 0) {
			if (!parse_reason(arg, &raw.reason))
				return hvx_usage_error("decode", "bad exit reason '%s' (a number up to 0xffffffff or an "
						   "Apple name such as VMX_REASON_IO)", arg);
		} else if (positional == 1) {
			if (!hvx_parse_u64(arg, &raw.qualification))
				return hvx_usage_error("decode", "bad qualification '%s'", arg);
			raw.have |= HVX_EXIT_HAVE_QUAL;
		} else {
			return hvx_usage_error("decode", "unexpected argument '%s'", arg);
		}
		positional++;
	}
	if (positional == 0)
		return hvx_usage_error("decode", "missing REASON");

	struct hvx_exit_decoded d;
	hvx_exit_decode(&raw, &d);
	return print_decoded(&d, json);
}
