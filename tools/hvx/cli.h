/* cli.h: the hvx subcommand table and the helpers every subcommand shares (usage errors, number parsing). */
#ifndef HVX_CLI_H
#define HVX_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Exit status of a usage error (bad option, missing argument): the message goes to stderr. */
#define HVX_EXIT_USAGE 2

struct hvx_command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv); /* argv[0] is the subcommand name */
};

int cmd_reasons_main(int argc, char **argv);
int cmd_decode_main(int argc, char **argv);
int cmd_caps_main(int argc, char **argv);
int cmd_run_main(int argc, char **argv);
int cmd_stat_main(int argc, char **argv);

/* Print "hvx <cmd>: <message>" and a hint to stderr; return HVX_EXIT_USAGE. */
int hvx_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse an unsigned number (decimal, 0x hex, 0 octal); false on junk or overflow. */
bool hvx_parse_u64(const char *text, uint64_t *out);

/* Is argv[i] "-h" or "--help"? */
bool hvx_is_help(const char *arg);

#endif
