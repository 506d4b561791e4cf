/* main.c: hvx command-line entry: dispatches to the subcommand named by argv[1]. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct hvx_command commands[] = {
	{"reasons", "list the VM-exit reasons (number, Apple name, Intel name, class, control)", cmd_reasons_main},
	{"decode", "decode an exit: reason, qualification, instruction and interruption information", cmd_decode_main},
	{"run", "boot an image (flat, ELF, multiboot, PVH, bzImage) on the reference VMM", cmd_run_main},
	{"stat", "turn 'hvx run --stats-json' output into a self-contained HTML report", cmd_stat_main},
	{"caps", "show each backend's capability words and the exit reasons it can produce", cmd_caps_main},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: hvx <command> [options] [arguments]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'hvx <command> --help' describes a command.\n");
}

int hvx_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hvx %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'hvx %s --help')\n", cmd);
	return HVX_EXIT_USAGE;
}

bool hvx_parse_u64(const char *text, uint64_t *out)
{
	if (!text || !*text || *text == '-' || *text == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool hvx_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return HVX_EXIT_USAGE;
	}
	if (hvx_is_help(argv[1]) || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "hvx: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return HVX_EXIT_USAGE;
}
