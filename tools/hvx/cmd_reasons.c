/* cmd_reasons.c: `hvx reasons`: print the VM-exit reason table (text or JSON). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvx/hvx_exit.h>

#include "cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hvx reasons [--json] [-v|--verbose]\n"
		"\n"
		"List every basic VM-exit reason 0..%u: number, Apple VMX_REASON_* name ('-' where Apple\n"
		"defines none), class (fault, trap, event, entry-failure, unused), Intel name and the\n"
		"VM-execution control that governs it. Rows marked '?' hold facts the spec marks UNCONFIRMED.\n"
		"\n"
		"  --json         print the table as one JSON object {\"reasons\": [...]}\n"
		"  -v, --verbose  add the cause and the qualification / instruction-information formats\n"
		"  -h, --help     show this help\n",
		HVX_EXIT_REASON_MAX);
}

static int print_json(void)
{
	size_t cap = 4096;
	char *buf = malloc(cap);
	if (!buf) {
		perror("hvx reasons");
		return 1;
	}
	fputs("{\"reasons\": [\n", stdout);
	for (size_t i = 0; i < hvx_exit_reason_count(); i++) {
		const struct hvx_exit_reason_info *r = hvx_exit_reason_at(i);
		size_t n = hvx_exit_reason_format_json(r, buf, cap);
		if (n >= cap) {
			char *bigger = realloc(buf, n + 1);
			if (!bigger) {
				free(buf);
				perror("hvx reasons");
				return 1;
			}
			buf = bigger;
			cap = n + 1;
			hvx_exit_reason_format_json(r, buf, cap);
		}
		printf("  %s%s\n", buf, i + 1 < hvx_exit_reason_count() ? "," : "");
	}
	fputs("]}\n", stdout);
	free(buf);
	return 0;
}

static void print_table(bool verbose)
{
	printf("%3s  %-29s %-13s %-40s %s\n", "#", "APPLE NAME", "CLASS", "INTEL NAME", "CONTROL");
	for (size_t i = 0; i < hvx_exit_reason_count(); i++) {
		const struct hvx_exit_reason_info *r = hvx_exit_reason_at(i);
		printf("%3u%c %-29s %-13s %-40s %s\n", r->number, r->unconfirmed ? '?' : ' ',
		       r->apple_name ? r->apple_name : "-", hvx_exit_class_name(r->exit_class), r->intel_name,
		       r->control);
		if (verbose)
			printf("       cause: %s; qualification: %s; instruction information: %s%s\n", r->cause,
			       hvx_qual_format_name(r->qual_format), hvx_instr_info_format_name(r->instr_info_format),
			       r->instr_len ? "; instruction length defined" : "");
	}
	printf("\n%zu reasons, %zu with Apple names; '?' = contains UNCONFIRMED facts.\n", hvx_exit_reason_count(),
	       hvx_exit_reason_apple_count());
}

int cmd_reasons_main(int argc, char **argv)
{
	bool json = false, verbose = false;
	for (int i = 1; i < argc; i++) {
		if (hvx_is_help(argv[i])) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (argv[i][0] == '-') {
			return hvx_usage_error("reasons", "unknown option '%s'", argv[i]);
		} else {
			return hvx_usage_error("reasons", "unexpected argument '%s'", argv[i]);
		}
	}
	if (json)
		return print_json();
	print_table(verbose);
	return 0;
}
