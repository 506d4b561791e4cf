/* caps.c: mapping of hv_vmx_capability_t values to capability slots. */
#include "caps.h"

int hvx_caps_vmx_slot(uint32_t cap)
{
	if (cap <= HV_VMX_CAP_EPT_VPID_CAP)
		return (int)cap;
	if (cap == HV_VMX_CAP_PREEMPTION_TIMER)
		return HVX_VMX_CAP_SLOTS - 1;
	return -1;
}
