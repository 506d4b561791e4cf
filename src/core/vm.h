/* vm.h: the process's VM: backend, memory map, vCPU table, and the thread binding of vCPUs. */
#ifndef HVX_CORE_VM_H
#define HVX_CORE_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <Hypervisor/hv.h>

#include "backend.h"
#include "memmap.h"
#include "vcpu.h"

#define HVX_VCPU_MAX 64

struct hvx_vm {
	const struct hvx_backend_ops *backend;
	hv_vm_options_t options;
	struct hvx_memmap memmap;
	pthread_mutex_t lock;            /* vcpus[], vcpu_count */
	struct hvx_vcpu *vcpus[HVX_VCPU_MAX];
	unsigned vcpu_count;
	_Atomic uint64_t tsc_sync_gen;   /* hv_vm_sync_tsc: bumped with each call, applied by each vCPU at its next run */
	_Atomic int64_t tsc_sync_offset;
	void *backend_data;
};

/* The process's VM, or NULL. */
extern struct hvx_vm *hvx_the_vm;

/* The vCPU owned by the calling thread, else hvx_no_vcpu (never NULL). Initial-exec TLS: one load, also inside
 * libhvx.so. */
extern struct hvx_vcpu hvx_no_vcpu HVX_HIDDEN;
extern _Thread_local struct hvx_vcpu *hvx_thread_vcpu __attribute__((tls_model("initial-exec")));

/* The vCPU owned by the calling thread (NULL if none). */
static inline struct hvx_vcpu *hvx_current_vcpu(void)
{
	struct hvx_vcpu *v = hvx_thread_vcpu;
	return v == &hvx_no_vcpu ? NULL : v;
}

/* The calling thread's vCPU, or hvx_no_vcpu: for the accessors' owner test, `v->owner_key != id`, one compare with no
 * NULL test (hvx_no_vcpu's key equals no 32-bit id). Only its owner_key may be read before that test passes. */
static inline struct hvx_vcpu *hvx_thread_vcpu_or_none(void)
{
	return hvx_thread_vcpu;
}

/* Bind / unbind the calling thread to a vCPU (thread exit then destroys it). */
void hvx_bind_thread(struct hvx_vcpu *vcpu);
void hvx_unbind_thread(void);

#endif
