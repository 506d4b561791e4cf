/* cmd_stat.c: 'hvx stat FILE.json -o report.html': exit statistics as a self-contained HTML report with inline SVG charts. */
#include <stdio.h>

#include "cli.h"

int cmd_stat_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return HVX_EXIT_USAGE;
}
