/* hvx_backend_api.c: the hvx_ backend extensions: list backends, availability, capabilities and producible reasons per backend. */
#include <string.h>

#include <hvx/hvx.h>

#include "api.h"

static const struct hvx_backend_ops *by_name(const char *name)
{
	for (unsigned i = 0; name && hvx_backends[i]; i++)
		if (!strcmp(hvx_backends[i]->name, name))
			return hvx_backends[i];
	return NULL;
}

HVX_EXPORT unsigned hvx_backend_count(void)
{
	unsigned n = 0;
	while (hvx_backends[n])
		n++;
	return n;
}

HVX_EXPORT const char *hvx_backend_name(unsigned index)
{
	return index < hvx_backend_count() ? hvx_backends[index]->name : NULL;
}

HVX_EXPORT bool hvx_backend_available(const char *name, const char **why)
{
	const struct hvx_backend_ops *b = by_name(name);
	const char *dummy;
	if (!why)
		why = &dummy;
	if (!b) {
		*why = "unknown backend";
		return false;
	}
	return b->available(why);
}

HVX_EXPORT hv_return_t hvx_backend_read_capability(const char *name, hv_vmx_capability_t field, uint64_t *value)
{
	const struct hvx_backend_ops *b = by_name(name);
	int slot = hvx_caps_vmx_slot((uint32_t)field);
	if (!b || slot < 0 || !value)
		return HV_BAD_ARGUMENT;
	*value = b->caps()->vmx[slot];
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hvx_backend_produces_reason(const char *name, uint32_t reason, bool *produces)
{
	const struct hvx_backend_ops *b = by_name(name);
	if (!b || !produces)
		return HV_BAD_ARGUMENT;
	*produces = hvx_caps_produces(b->caps(), reason);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hvx_backend_reason_note(const char *name, uint32_t reason, const char **note)
{
	const struct hvx_backend_ops *b = by_name(name);
	if (!b || !note)
		return HV_BAD_ARGUMENT;
	const struct hvx_caps *c = b->caps();
	*note = reason < 128 && c->reason_notes ? c->reason_notes[reason] : NULL;
	return HV_SUCCESS;
}
