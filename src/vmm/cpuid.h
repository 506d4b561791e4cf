/* cpuid.h: CPUID and MSR policies of the reference VMM (defaults, overrides, option parsing). */
#ifndef HVX_VMM_CPUID_H
#define HVX_VMM_CPUID_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "vmm.h"

/* tsc_hz != 0: maximum leaf 0x16, leaf 0x15 = crystal tsc_hz with a 1:1 TSC ratio, leaf 0x16 = its MHz. */
void vmm_cpuid_default(unsigned cpus, unsigned apic_id, uint32_t tsc_hz, uint32_t leaf, uint32_t sub, uint32_t r[4]);
/* Defaults, then the matching --cpuid overrides (later ones win). */
void vmm_cpuid(const struct vmm_config *cfg, unsigned cpus, unsigned apic_id, uint32_t leaf, uint32_t sub,
	       uint32_t r[4]);
/* "LEAF[.SUB]=eax,ebx,ecx,edx" (numbers in C syntax). */
bool vmm_parse_cpuid_override(const char *text, struct vmm_cpuid_override *o);
/* "N=value". */
bool vmm_parse_msr_override(const char *text, struct vmm_msr_override *o);
bool vmm_parse_u64(const char *text, uint64_t *out);

/* Per-vCPU MSR values the VMM keeps itself. */
#define VMM_MSR_SLOTS 96
struct vmm_msr_file {
	uint32_t msr[VMM_MSR_SLOTS];
	uint64_t value[VMM_MSR_SLOTS];
	unsigned count;
};

enum vmm_msr_result { MSR_OK, MSR_GP };
struct vmm_vcpu;
/* Emulate RDMSR/WRMSR for a vCPU (uses the hv_* API for MSRs held in the VMCS or by the framework). */
enum vmm_msr_result vmm_msr_read(struct vmm_vcpu *v, uint32_t msr, uint64_t *value);
enum vmm_msr_result vmm_msr_write(struct vmm_vcpu *v, uint32_t msr, uint64_t value);
void vmm_msr_file_init(struct vmm_msr_file *f, const struct vmm_config *cfg);

#endif
