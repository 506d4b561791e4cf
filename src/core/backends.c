/* backends.c: the registry of built-in backends and the choice among them (name, $HVX_BACKEND, auto). */
#include <stdlib.h>
#include <string.h>

#include "backend.h"

extern const struct hvx_backend_ops hvx_backend_kvm;
extern const struct hvx_backend_ops hvx_backend_emu;

/* Preference order for auto selection: the first backend that is available and whose auto_ok() agrees. */
const struct hvx_backend_ops *const hvx_backends[] = {&hvx_backend_kvm, &hvx_backend_emu, NULL};

const struct hvx_backend_ops *hvx_backend_select(const char *name, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (!name || !*name) {
		name = getenv("HVX_BACKEND");
		if (!name || !*name)
			name = "auto";
	}
	bool any = !strcmp(name, "auto");
	for (unsigned i = 0; hvx_backends[i]; i++) {
		const struct hvx_backend_ops *b = hvx_backends[i];
		if (any && (!b->auto_ok || b->auto_ok()) && b->available(why))
			return b;
		if (!any && !strcmp(name, b->name))
			return b->available(why) ? b : NULL;
	}
	if (any)
		return NULL;
	*why = "unknown backend (known: emu, kvm, auto)";
	return NULL;
}
