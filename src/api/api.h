/* api.h: helpers shared by the hv_* entry points: the VM lifecycle lock, owner-thread vCPU lookup, state access. */
#ifndef HVX_API_API_H
#define HVX_API_API_H

#include <pthread.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>

#include "core/clock.h"
#include "core/export.h"
#include "core/vm.h"

/* Held for reading by VM-wide calls, for writing by hv_vm_create / hv_vm_destroy. */
extern pthread_rwlock_t hvx_vm_lifecycle_lock;

/* hvx_owned_vcpu's refusal, out of line so that callers keep their fast path free of calls. */
__attribute__((cold, noinline)) hv_return_t hvx_vcpu_refused(void);

/* The ownership rule of every per-vCPU call: the calling thread's vCPU if its id is `id`, else NULL (then the call
 * returns hvx_vcpu_refused()). One compare, no NULL test (hvx_thread_vcpu_or_none). */
static inline struct hvx_vcpu *hvx_vcpu_if_owned(hv_vcpuid_t id)
{
	struct hvx_vcpu *v = hvx_thread_vcpu_or_none();
	return __builtin_expect(v->owner_key == id, 1) ? v : NULL;
}

/* The calling thread's vCPU if its id is `id`. HV_NO_DEVICE without a VM; HV_BAD_ARGUMENT for an id that does not
 * exist or belongs to another thread (that vCPU is not touched). The hot accessors use hvx_vcpu_if_owned instead:
 * no pointer out, so nothing on their stack. */
static inline hv_return_t hvx_owned_vcpu(hv_vcpuid_t id, struct hvx_vcpu **out)
{
	*out = hvx_vcpu_if_owned(id);
	return *out ? HV_SUCCESS : hvx_vcpu_refused();
}

/* Make sure the groups about to be read or partly written hold current values (backends that cache state). */
static inline void hvx_vcpu_fresh(struct hvx_vcpu *v, uint32_t groups)
{
	if (v->stale & groups) {
		v->vm->backend->vcpu_fetch(v, v->stale & groups);
		v->stale &= ~groups;
	}
}

/* The backend that answers capability questions now: the VM's, else the one hv_vm_create would pick. */
const struct hvx_backend_ops *hvx_capability_backend(void);

#endif
