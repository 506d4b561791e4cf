/* backends.c: the registry of built-in backends and the choice among them (name, $HVX_BACKEND, auto). */
#include <stdlib.h>
#include <string.h>

#include "backend.h"

extern const struct hvx_backend_ops hvx_backend_kvm;
extern const struct hvx_backend_ops hvx_backend_emu;

/* Auto selection prefers kvm where its available() says it is hardware-backed, then emu. */
const struct hvx_backend_ops *const hvx_backends[] = {&hvx_backend_kvm, &hvx_backend_emu, NULL};

bool hvx_kvm_hardware_virtualisation(void);

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
	if (!strcmp(name, "auto")) {
		/* kvm only on real hardware virtualisation: a software KVM (such as PVM) is slower than emu for ring 0. */
		if (hvx_kvm_hardware_virtualisation() && hvx_backend_kvm.available(why))
			return &hvx_backend_kvm;
		if (hvx_backend_emu.available(why))
			return &hvx_backend_emu;
		return NULL;
	}
	for (unsigned i = 0; hvx_backends[i]; i++) {
		if (!strcmp(name, hvx_backends[i]->name))
			return hvx_backends[i]->available(why) ? hvx_backends[i] : NULL;
	}
	*why = "unknown backend (known: emu, kvm, auto)";
	return NULL;
}
