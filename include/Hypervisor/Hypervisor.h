/* Hypervisor.h: umbrella header of the x86 Hypervisor API. */
#pragma once
#include <Hypervisor/hv.h>
#include <Hypervisor/hv_error.h>
#include <Hypervisor/hv_types.h>
#include <Hypervisor/hv_vmx.h>
