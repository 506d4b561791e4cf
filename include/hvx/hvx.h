/* hvx.h: hvx extensions beyond Apple's API: backend choice and backend introspection. */
#ifndef HVX_HVX_H
#define HVX_HVX_H

#include <stdbool.h>
#include <stdint.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Backend names accepted by hvx_vm_create_with_backend and $HVX_BACKEND. */
#define HVX_BACKEND_AUTO "auto"
#define HVX_BACKEND_EMU "emu"
#define HVX_BACKEND_KVM "kvm"

/*
 * hv_vm_create with an explicit backend ("emu", "kvm" or "auto"; NULL = $HVX_BACKEND, else auto).
 * auto picks kvm only where the host has hardware virtualisation (vmx/svm) and /dev/kvm opens, else emu.
 * HV_BAD_ARGUMENT for an unknown name, HV_NO_DEVICE when the named backend cannot run here.
 */
hv_return_t hvx_vm_create_with_backend(hv_vm_options_t flags, const char *backend);

/* Name of the current VM's backend, or NULL without a VM. */
const char *hvx_vm_backend_name(void);

/* Number of backends built into this library, and their names by index (NULL past the end). */
unsigned hvx_backend_count(void);
const char *hvx_backend_name(unsigned index);

/*
 * Whether a backend can run on this host; on false, *why (if not NULL) gets a static explanation.
 * false with "unknown backend" for an unknown name.
 */
bool hvx_backend_available(const char *backend, const char **why);

/* hv_vmx_read_capability for a named backend, whether or not a VM exists. */
hv_return_t hvx_backend_read_capability(const char *backend, hv_vmx_capability_t field, uint64_t *value);

/* Whether a backend can produce basic exit reason `reason` at all (with the right controls and guest). */
hv_return_t hvx_backend_produces_reason(const char *backend, uint32_t reason, bool *produces);

/* Why a backend does not produce basic exit reason `reason` (e.g. "KVM executes CPUID in the kernel ..."): *note is
 * a static string, or NULL when the backend gives none (it produces the reason, or the number is not a reason).
 * HV_BAD_ARGUMENT for an unknown backend or a NULL note. */
hv_return_t hvx_backend_reason_note(const char *backend, uint32_t reason, const char **note);

/* One CPUID leaf for hvx_vcpu_set_cpuid: the values CPUID returns for (function, index). */
struct hvx_cpuid_entry {
	uint32_t function;
	uint32_t index;   /* sub-leaf (ECX input); only compared when flags has HVX_CPUID_SIGNIFICANT_INDEX */
	uint32_t flags;
	uint32_t eax, ebx, ecx, edx;
};
#define HVX_CPUID_SIGNIFICANT_INDEX 1u

/*
 * The CPUID table of a vCPU, for backends that answer CPUID without an exit (kvm: CPUID never reaches the VMM).
 * Owner thread; before the vCPU's first run. HV_UNSUPPORTED on backends where CPUID exits (emu), HV_BUSY after
 * the first run, HV_BAD_ARGUMENT for a NULL table, count 0 or count > HVX_CPUID_MAX_ENTRIES, or a table the
 * backend refuses. Without it the kvm backend gives the guest the host's KVM-supported CPUID less KVM's
 * paravirtual leaves (0x40000000-0x4fffffff).
 */
#define HVX_CPUID_MAX_ENTRIES 256
hv_return_t hvx_vcpu_set_cpuid(hv_vcpuid_t vcpu, const struct hvx_cpuid_entry *entries, unsigned count);

/*
 * Events from the VMM's virtual interrupt controllers, callable from any thread (like hv_vcpu_interrupt). The event
 * is latched on the vCPU and taken at an instruction boundary of a current or later run, per the pin-based controls:
 * an NMI exits with reason 0 (EXC_NMI, interruption info 0x80000202) under PIN_BASED_NMI, else it is delivered
 * through the guest IDT vector 2 and blocks NMIs until IRET. An external interrupt (vector 16..255, else
 * HV_BAD_ARGUMENT) exits with reason 1 (IRQ) under PIN_BASED_INTR (interruption info valid with VMEXIT_ACK_INTR;
 * without it the interrupt stays pending), else it is delivered through the guest IDT once RFLAGS.IF = 1.
 * One NMI and one external interrupt are latched at a time (a second interrupt replaces the pending vector).
 * HV_NO_DEVICE without a VM, HV_BAD_ARGUMENT for an unknown vCPU, HV_UNSUPPORTED on backends without events (kvm).
 */
hv_return_t hvx_vcpu_raise_nmi(hv_vcpuid_t vcpu);
hv_return_t hvx_vcpu_raise_interrupt(hv_vcpuid_t vcpu, uint8_t vector);
/*
 * An INIT signal, any thread, same errors: exits with reason 3 (INIT, qualification 0, RIP = next instruction) at the
 * next instruction boundary, above every other event (STI / MOV-SS blocking does not hold it); it ends HLT. No guest
 * register is reset. It is held (stays pending) while the vCPU is in wait-for-SIPI (below).
 */
hv_return_t hvx_vcpu_raise_init(hv_vcpuid_t vcpu);

/*
 * The guest activity state beyond Apple's rule (hv_vmx_vcpu_write_vmcs accepts only 0 active and 1 HLT):
 * HVX_ACTIVITY_SHUTDOWN (2) and HVX_ACTIVITY_WAIT_FOR_SIPI (3), advertised by IA32_VMX_MISC bits 7 and 8. Owner
 * thread.
 * In wait-for-SIPI the vCPU runs no instruction; NMIs, external interrupts, INIT and SMIs stay pending; a SIPI exits
 * with reason 4 (SIPI, qualification = vector, RIP unchanged, activity state still 3: the VMM then sets CS:IP and the
 * active state); a kick (hv_vcpu_interrupt) ends the run with reason 1 and the run deadline with reason 52, the
 * preemption timer does not count. Entering wait-for-SIPI from another state discards a SIPI raised before. VM entry
 * fails (reason 33) in wait-for-SIPI with an injected event, STI/MOV-SS blocking or entry to SMM.
 * In shutdown the vCPU runs no instruction; external interrupts stay pending (even with external-interrupt exiting),
 * SIPIs are discarded, interrupt-window and MTF exits do not occur. INIT exits (reason 3), an SMI exits (reason 6,
 * dual-monitor model), the preemption timer and the run deadline end the run with reason 52, NMI-window exiting exits
 * (reason 8), an NMI exits with reason 0 (interruption info 0x80000202) under NMI exiting: each of these saves
 * activity state 2 and RIP unchanged. Without NMI exiting an NMI (unless blocked by NMI) leaves shutdown: it is
 * delivered through the guest IDT, the vCPU is active again, and with MTF an MTF exit follows the delivery. A kick
 * ends the run with reason 1. VM entry in shutdown may inject only an NMI or a machine check (then the vCPU is
 * active), else it fails with reason 33 (qualification 0); STI/MOV-SS blocking needs the active state (HLT also
 * takes only an external interrupt, NMI, #DB, #MC or pending-MTF injection).
 * HV_BAD_ARGUMENT for a state above 3 or a vCPU the thread does not own, HV_UNSUPPORTED on backends without these
 * states (kvm).
 */
#define HVX_ACTIVITY_ACTIVE 0u
#define HVX_ACTIVITY_HLT 1u
#define HVX_ACTIVITY_SHUTDOWN 2u
#define HVX_ACTIVITY_WAIT_FOR_SIPI 3u
hv_return_t hvx_vcpu_set_activity_state(hv_vcpuid_t vcpu, uint32_t state);
/*
 * A start-up IPI with `vector` (0..255), any thread, errors as hvx_vcpu_raise_nmi: in wait-for-SIPI it exits with
 * reason 4 at once (or at the next run); in any other activity state it is discarded. One SIPI is latched at a time
 * (a later vector replaces it).
 */
hv_return_t hvx_vcpu_raise_sipi(hv_vcpuid_t vcpu, uint8_t vector);

/*
 * The dual-monitor SMM model (IA32_VMX_BASIC bit 49; docs/emu.md): the VMM plays the SMM-transfer monitor of its
 * guest. Off by default. Owner thread; HV_UNSUPPORTED on backends without it (kvm). With it on:
 *  - hvx_vcpu_raise_smi (any thread) makes an SMI pending: at the next instruction boundary (above INIT and MTF)
 *    it exits with reason 6 (OTHER_SMI, qualification 0, RIP = next instruction; exit-reason bit 28 when an MTF
 *    exit was due at that boundary). It wakes HLT; it stays pending while the guest is in SMM or in wait-for-SIPI.
 *    With the model off hvx_vcpu_raise_smi returns HV_DENIED (nothing is latched), and an SMI latched before the
 *    model was switched off is dropped.
 *  - an I/O instruction (IN/OUT/INS/OUTS, REP included) that does not exit and touches a port marked by
 *    hvx_vcpu_set_smi_ports completes, then exits with reason 5 (IO_SMI): qualification in the I/O format, RIP =
 *    next instruction, VMCS_RO_IO_RCX/RSI/RDI/RIP = values before the instruction, guest-linear address for string
 *    I/O, bit 28 as above.
 *  - the VM-entry controls "entry to SMM" (bit 10) and "deactivate dual-monitor treatment" (bit 11) may be set (not
 *    both; without the model hv_vcpu_run fails with VMfail 7). Entry to SMM puts the guest in SMM: it needs
 *    interruptibility bit 2 (blocking by SMI) = 1 (else exit 33; bit 2 must be 0 otherwise), RSM then exits with
 *    reason 17 (qualification 0, instruction length 2, fault-like) and SMIs stay pending. A VM entry that
 *    deactivates the dual-monitor treatment switches the model off once it succeeds.
 * Without the model RSM raises #UD.
 */
hv_return_t hvx_vcpu_set_dual_monitor(hv_vcpuid_t vcpu, bool enable);
hv_return_t hvx_vcpu_raise_smi(hv_vcpuid_t vcpu);
/*
 * Mark ports [first_port, first_port + count) as SMI-triggering (smi = true) or not, for the dual-monitor model.
 * Until first called no port is marked. Owner thread; HV_BAD_ARGUMENT for a range past port 0xffff,
 * HV_UNSUPPORTED on backends without the model (kvm). Marks apply only while the model is on.
 */
hv_return_t hvx_vcpu_set_smi_ports(hv_vcpuid_t vcpu, uint16_t first_port, uint32_t count, bool smi);

/*
 * The vCPU's VM-entry MSR-load list (the VMCS address/count fields are framework-owned). Entries have the SDM's
 * 16-byte layout: index, reserved (must be 0), value. Every VM entry (every hv_vcpu_run) loads them in order after
 * the guest-state checks; an entry that fails (reserved bits set, IA32_FS_BASE / IA32_GS_BASE, the x2APIC range
 * 0x800-0x8ff, IA32_SMM_MONITOR_CTL 0x9b, IA32_SMBASE 0x9e, an MSR the CPU does not have, a value WRMSR would refuse
 * with #GP) makes the entry fail with exit reason 34 | bit 31 (VMENTRY_MSR), qualification = its 1-based index;
 * entries before it keep their effect and no guest instruction runs. count 0 removes the list (entries may then be
 * NULL). At most HVX_ENTRY_MSR_LOAD_MAX entries (IA32_VMX_MISC bits 27:25 = 0: 512). The list is copied. Owner
 * thread; HV_BAD_ARGUMENT for NULL entries with count > 0 or count over the limit, HV_UNSUPPORTED on kvm.
 */
struct hvx_msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};
#define HVX_ENTRY_MSR_LOAD_MAX 512u
hv_return_t hvx_vcpu_set_entry_msr_load(hv_vcpuid_t vcpu, const struct hvx_msr_entry *entries, unsigned count);

/*
 * Fault injection for tests: the next VM entry of the vCPU fails as if a machine check occurred during it, after the
 * guest state and the VM-entry MSR-load list were loaded: exit reason 41 | bit 31 (VMENTRY_MC), qualification 0, no
 * guest instruction runs, no guest state saved, the VM-entry interruption information keeps its valid bit. One-shot.
 * Owner thread; HV_UNSUPPORTED on kvm.
 */
hv_return_t hvx_vcpu_inject_entry_machine_check(hv_vcpuid_t vcpu);

/*
 * emu backend statistics (process-wide, all emu vCPUs): the number of guest instructions that decoded but are not
 * implemented by the emu CPU (each raised #UD in the guest), and the number of instructions retired so far
 * (counted at each exit).
 */
uint64_t hvx_emu_unimplemented_count(void);
uint64_t hvx_emu_instructions_retired(void);

/*
 * The contents of the vCPU's I/O bitmaps A and B, used when CPU_BASED_IO_BITMAPS is set (the bitmap address fields
 * are framework-owned, as on Apple's framework): ports [first_port, first_port + count) exit (exits = true) or not.
 * Until first called every port exits. Owner thread. HV_UNSUPPORTED on backends without I/O bitmaps (kvm),
 * HV_BAD_ARGUMENT for a range past port 0xffff or a vCPU the thread does not own.
 */
hv_return_t hvx_vcpu_set_io_bitmap(hv_vcpuid_t vcpu, uint16_t first_port, uint32_t count, bool exits);

/*
 * The contents of the vCPU's MSR bitmap ("use MSR bitmaps" is fixed to 1 on emu; its address field is
 * framework-owned): for MSRs [first_msr, first_msr + count), guest accesses of the kinds in `exits` (HV_MSR_READ,
 * HV_MSR_WRITE) exit and the others do not. The range must lie in 0x0-0x1fff or 0xc0000000-0xc0001fff (MSRs
 * outside those ranges always exit). Apple's rule comes first: native MSRs and managed MSRs with access never exit.
 * Until first called every other MSR exits. An MSR that does not exit and that the emu does not implement raises
 * #GP in the guest, as on a CPU without it. Owner thread; HV_UNSUPPORTED on backends without MSR bitmaps (kvm).
 */
hv_return_t hvx_vcpu_set_msr_intercept(hv_vcpuid_t vcpu, uint32_t first_msr, uint32_t count, hv_msr_flags_t exits);

/*
 * The vCPU's virtual-APIC page (used with CPU_BASED_TPR_SHADOW and the secondary controls "virtualize APIC accesses",
 * "APIC-register virtualization", "virtual-interrupt delivery"; its address field VMCS_CTRL_VIRTUAL_APIC is
 * framework-owned, as on Apple's framework): read or write the 32-bit register at page offset `offset` (a multiple of
 * 4 below 4096), e.g. VIRR at 0x200-0x270 and VISR at 0x100-0x170 for virtual-interrupt delivery, VPPR at 0xa0, the
 * value a guest wrote before an APIC-write exit. Offset 0x80 (VTPR) is the HV_X86_TPR register. The page starts
 * zeroed. Owner thread; HV_BAD_ARGUMENT for a bad offset, a NULL value or a vCPU the thread does not own.
 */
hv_return_t hvx_vcpu_read_virtual_apic(hv_vcpuid_t vcpu, uint32_t offset, uint32_t *value);
hv_return_t hvx_vcpu_write_virtual_apic(hv_vcpuid_t vcpu, uint32_t offset, uint32_t value);

/*
 * EPT sub-page write permissions (SPP), for CPU_BASED2_EPT_SUBPAGE_WRITE. The SPP table pointer and the EPT are
 * framework-owned, so this call sets both parts for one 4-KiB guest-physical page `gpa` of address space `space`:
 * HVX_SPP_NONE: the page is not an SPP page (EPT leaf bit 61 clear; the default);
 * HVX_SPP_MISSING: the page is an SPP page but the SPP table has no entry for it (a write exits 66, SPP miss);
 * HVX_SPP_VECTOR: the page is an SPP page and `vector` is its leaf SPP-table entry: bit 2i set = 128-byte sub-page i
 *   (i = 0..31) writable; odd bits are reserved, and a vector with any of them set is a misconfigured entry (a write
 *   exits 66 with qualification bit 11 clear).
 * SPP applies to writes to pages mapped readable and not writable (hv_vm_map / hv_vm_protect); a write to a writable
 * sub-page then succeeds, one to a write-protected sub-page is an EPT violation. The page need not be mapped yet.
 * Any thread. HV_NO_DEVICE without a VM; HV_BAD_ARGUMENT for an unknown space, `gpa` not 4-KiB aligned or not
 * below 2^52, an unknown mode, or a nonzero `vector` with a mode other than HVX_SPP_VECTOR; HV_UNSUPPORTED on
 * backends without SPP (kvm). Details in docs/emu.md ("SPP").
 */
enum hvx_spp_mode { HVX_SPP_NONE = 0, HVX_SPP_MISSING = 1, HVX_SPP_VECTOR = 2 };
hv_return_t hvx_vm_set_spp(hv_vm_space_t space, hv_gpaddr_t gpa, enum hvx_spp_mode mode, uint64_t vector);

#ifdef __cplusplus
}
#endif

#endif
