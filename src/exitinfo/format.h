/* format.h: internal entry points shared by the text and JSON formatters of the exit library. */
#ifndef HVX_EXITINFO_FORMAT_H
#define HVX_EXITINFO_FORMAT_H

#include <hvx/hvx_exit.h>

#include "strbuf.h"

/* Append the one-line description of a decoded exit (what hvx_exit_format_text returns). */
void hvx_exit_text_sb(struct hvx_sb *sb, const struct hvx_exit_decoded *d);

#endif
