/* hv_types.h: scalar typedefs and option/flag constants of the Hypervisor API (VM, vCPU, memory, capability, space, MSR, port-I/O notifier, in-kernel APIC). */
#ifndef __HYPERVISOR_HV_TYPES__
#define __HYPERVISOR_HV_TYPES__
#if defined(__GNUC__)
#pragma GCC system_header
#endif

#include <Hypervisor/hv_base.h>

typedef unsigned hv_vcpuid_t;
typedef const void *hv_uvaddr_t;
typedef uint64_t hv_gpaddr_t;

enum {
	HV_VM_DEFAULT = 0ull,
	HV_VM_SPECIFY_MITIGATIONS = (1ull << 0),
	HV_VM_MITIGATION_A_ENABLE = (1ull << 1),
	HV_VM_MITIGATION_B_ENABLE = (1ull << 2),
	HV_VM_MITIGATION_C_ENABLE = (1ull << 3),
	HV_VM_MITIGATION_D_ENABLE = (1ull << 4),
	HV_VM_MITIGATION_E_ENABLE = (1ull << 6),
	HV_VM_ACCEL_APIC = (1ull << 10)
};
typedef uint64_t hv_vm_options_t;

enum {
	HV_VCPU_DEFAULT = 0ull,
	HV_VCPU_ACCEL_RDPMC = (1ull << 0),
	HV_VCPU_TSC_RELATIVE = (1ull << 1)
};
typedef uint64_t hv_vcpu_options_t;

enum {
	HV_MEMORY_READ = (1ull << 0),
	HV_MEMORY_WRITE = (1ull << 1),
	HV_MEMORY_EXEC = (1ull << 2),
	HV_MEMORY_UEXEC = (1ull << 3),
	HV_MEMORY_MAXPROT = (1ull << 4),
	HV_MEMORY_MAXPROT_READ = (1ull << 5),
	HV_MEMORY_MAXPROT_WRITE = (1ull << 6),
	HV_MEMORY_MAXPROT_EXEC = (1ull << 7),
	HV_MEMORY_MAXPROT_UEXEC = (1ull << 8)
};
typedef uint64_t hv_memory_flags_t;

enum {
	HV_CAP_VCPUMAX,
	HV_CAP_ADDRSPACEMAX
};
typedef uint64_t hv_capability_t;

enum {
	HV_VM_SPACE_DEFAULT = 0ull
};
typedef unsigned hv_vm_space_t;

enum {
	HV_MSR_NONE = 0,
	HV_MSR_READ = (1u << 0),
	HV_MSR_WRITE = (1u << 1)
};
typedef uint32_t hv_msr_flags_t;

/* Port-I/O notifier flags (values of xnu's kHV_ION_*). */
enum {
	HV_ION_NONE = 0u,
	HV_ION_ANY_VALUE = (1u << 1),
	HV_ION_ANY_SIZE = (1u << 2),
	HV_ION_EXIT_FULL = (1u << 3)
};
typedef uint32_t hv_ion_flags_t;

typedef struct {
	mach_msg_header_t header;
	uint64_t addr;
	uint64_t size;
	uint64_t value;
	mach_msg_trailer_t trailer;
} hv_ion_message_t;

/* In-kernel APIC API types (12.0). */
enum {
	HV_VM_EXITINFO_VMX = 1,
	HV_VM_EXITINFO_INIT_AP = 2,
	HV_VM_EXITINFO_STARTUP_AP = 3,
	HV_VM_EXITINFO_IOAPIC_EOI = 4,
	HV_VM_EXITINFO_INJECT_EXCP = 5,
	HV_VM_EXITINFO_SMI = 6,
	HV_VM_EXITINFO_APIC_ACCESS_READ = 7
};
typedef uint32_t hv_vm_exitinfo_t;

enum {
	HV_APIC_CTRL_DEFAULT = 0ull,
	HV_APIC_CTRL_EOI_ICR_TPR = (1ull << 0),
	HV_APIC_CTRL_GUEST_IDLE = (1ull << 1),
	HV_APIC_CTRL_NO_TIMER = (1ull << 2),
	HV_APIC_CTRL_IOAPIC_EOI = (1ull << 3)
};
typedef uint64_t hv_apic_ctrl_t;

enum {
	HV_APIC_LVT_FLAVOR_TIMER = 1
};
typedef uint32_t hv_apic_lvt_flavor_t;

enum {
	HV_APIC_EDGE_TRIGGER = 0,
	HV_APIC_EDGE_TRIGGER_AEOI = 1,
	HV_APIC_LEVEL_TRIGGER = 2
};
typedef uint32_t hv_apic_intr_trigger_t;

#endif /* __HYPERVISOR_HV_TYPES__ */
