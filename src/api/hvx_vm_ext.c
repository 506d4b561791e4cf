/* hvx_vm_ext.c: hvx_ VM-level extensions whose VMCS/EPT structures are framework-owned: EPT sub-page write permissions (hvx_vm_set_spp). */
#include <hvx/hvx.h>

#include "api.h"

HVX_EXPORT hv_return_t hvx_vm_set_spp(hv_vm_space_t space, hv_gpaddr_t gpa, enum hvx_spp_mode mode, uint64_t vector)
{
	unsigned m = (unsigned)mode;
	if ((gpa & HVX_PAGE_MASK) || gpa >= HVX_GPA_LIMIT || m > HVX_SPP_VECTOR || (m != HVX_SPP_VECTOR && vector))
		return hvx_the_vm ? HV_BAD_ARGUMENT : HV_NO_DEVICE;
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	struct hvx_vm *vm = hvx_the_vm;
	hv_return_t ret = !vm ? HV_NO_DEVICE
			  : !hvx_memmap_space_valid(&vm->memmap, space) ? HV_BAD_ARGUMENT
			  : !vm->backend->vm_set_spp ? HV_UNSUPPORTED
			  : vm->backend->vm_set_spp(vm, space, gpa, m, vector);
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}
