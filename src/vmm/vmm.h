/* vmm.h: the reference VMM behind `hvx run`: configuration, guest memory, vCPUs, port/MMIO dispatch and the run loop. */
#ifndef HVX_VMM_VMM_H
#define HVX_VMM_VMM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>

#include "stats.h"

/* Process exit statuses of `hvx run` (debug-exit statuses are odd: (value << 1) | 1). */
#define VMM_EXIT_OK 0
#define VMM_EXIT_USAGE 2          /* bad options or bad image: nothing ran */
#define VMM_EXIT_GUEST_ERROR 4    /* triple fault, failed entry, unexpected exit, backend error */
#define VMM_EXIT_UNSUPPORTED 77   /* the backend cannot run guests (hv_vcpu_run returned HV_UNSUPPORTED) */
#define VMM_EXIT_TIMEOUT 124      /* --timeout expired */

enum vmm_mode { VMM_MODE_DEFAULT = -1, VMM_MODE_REAL = 0, VMM_MODE_PROTECTED = 1, VMM_MODE_LONG = 2 };

#define VMM_MAX_CPUS 16
#define VMM_MAX_OVERRIDES 64
#define VMM_MAX_MODULES 16

struct vmm_cpuid_override {
	uint32_t leaf, subleaf;
	bool any_subleaf;
	uint32_t regs[4]; /* eax, ebx, ecx, edx */
};

struct vmm_msr_override {
	uint32_t msr;
	uint64_t value;
};

struct vmm_config {
	const char *image;
	const char *backend;          /* "emu", "kvm", "auto" (NULL = $HVX_BACKEND or auto) */
	uint64_t mem_size;
	unsigned cpus;
	const char *format;           /* NULL = detect; "flat", "elf", "multiboot", "pvh", "bzimage" */
	enum vmm_mode mode;
	bool have_load_addr, have_entry;
	uint64_t load_addr, entry;
	const char *initrd;
	const char *append;
	const char *modules[VMM_MAX_MODULES]; /* "PATH [ARGS]" */
	unsigned nmodules;
	struct vmm_cpuid_override cpuid[VMM_MAX_OVERRIDES];
	unsigned ncpuid;
	struct vmm_msr_override msr[VMM_MAX_OVERRIDES];
	unsigned nmsr;
	bool ignore_msrs;             /* unknown MSRs read 0 / ignore writes instead of #GP */
	uint32_t tsc_hz;              /* guest TSC rate when the backend fixes it (emu: 1 GHz); CPUID 0x15/0x16 report
	                               * it as the crystal, which also clocks the LAPIC timer (0: leaves not offered) */
	double timeout;               /* seconds, 0 = none */
	bool trace;
	FILE *trace_out;
	FILE *serial_out;             /* COM1 and debugcon output */
	int serial_in_fd;             /* COM1 input, -1 = none */
};

/* Guest RAM: [0, low) and, above 3 GiB of RAM, [4 GiB, 4 GiB + (size - low)). */
#define VMM_LOW_RAM_MAX 0xc0000000ull
#define VMM_HIGH_RAM_BASE 0x100000000ull
struct vmm_mem {
	uint8_t *host;
	uint64_t size;
	uint64_t low;
};

/* Host pointer for [gpa, gpa+len) if it lies inside one RAM region, else NULL. */
void *vmm_mem_ptr(const struct vmm_mem *m, uint64_t gpa, uint64_t len);
/* Copy into / out of guest RAM; -1 if the range is not RAM. */
int vmm_mem_write(const struct vmm_mem *m, uint64_t gpa, const void *src, uint64_t len);
int vmm_mem_read(const struct vmm_mem *m, uint64_t gpa, void *dst, uint64_t len);
int vmm_mem_fill(const struct vmm_mem *m, uint64_t gpa, int byte, uint64_t len);

/* e820-style memory map shared by every boot protocol. */
#define VMM_E820_RAM 1
#define VMM_E820_RESERVED 2
struct vmm_e820 {
	uint64_t addr, size;
	uint32_t type;
};
unsigned vmm_e820_build(const struct vmm_mem *m, struct vmm_e820 *out, unsigned max);

/* Port I/O: a table of handlers; ports nobody claims read as all ones and ignore writes. */
struct vmm;
struct vmm_pio_handler {
	uint16_t base, count;
	const char *name;
	uint32_t (*in)(void *dev, uint16_t port, unsigned size);
	void (*out)(void *dev, uint16_t port, unsigned size, uint32_t value);
	void *dev;
};
#define VMM_PIO_MAX 32
int vmm_pio_register(struct vmm *vm, const struct vmm_pio_handler *h);
uint32_t vmm_pio_in(struct vmm *vm, uint16_t port, unsigned size);
void vmm_pio_out(struct vmm *vm, uint16_t port, unsigned size, uint32_t value);

/* Why the guest stopped. */
enum vmm_stop {
	VMM_RUNNING = 0,
	VMM_STOP_POWEROFF,
	VMM_STOP_RESET,
	VMM_STOP_DEBUG_EXIT,
	VMM_STOP_HALTED,
	VMM_STOP_TIMEOUT,
	VMM_STOP_ERROR,
	VMM_STOP_UNSUPPORTED,
};

struct vmm_devices;
struct vmm_vcpu;

struct vmm {
	struct vmm_config cfg;
	struct vmm_mem mem;
	struct vmm_pio_handler pio[VMM_PIO_MAX];
	unsigned npio;
	struct vmm_devices *dev;

	/* The device lock serialises every device model and the stop state. */
	pthread_mutex_t lock;
	pthread_cond_t wake;          /* interrupts raised, SIPIs, stop */
	_Atomic enum vmm_stop stop;
	int exit_status;
	char stop_msg[256];

	unsigned ncpus;
	struct vmm_vcpu *vcpus[VMM_MAX_CPUS];
	atomic_uint started_cpus;

	/* Boot state the loader chose for the bootstrap processor. */
	enum vmm_mode boot_mode;
	uint64_t boot_entry;
	uint64_t boot_regs[8];        /* RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI */
	uint64_t gdt_base;
	uint64_t pt_base;             /* long-mode identity page tables (0 = none) */
	const char *format_name;

	uint64_t caps[5];             /* PINBASED, PROCBASED, PROCBASED2, ENTRY, EXIT */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t cr0_mask_must, cr4_mask_must; /* mask bits the framework requires */
	bool unrestricted;

	uint64_t start_ns;
	struct vmm_stats stats;       /* merged at the end */
};

/* Stop the guest (first reason wins); caller holds vm->lock. Kicks every vCPU. */
void vmm_stop_locked(struct vmm *vm, enum vmm_stop why, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void vmm_stop(struct vmm *vm, enum vmm_stop why, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Make every vCPU leave the guest soon (hv_vcpu_interrupt) and wake waiting ones; caller holds vm->lock. */
void vmm_kick_all_locked(struct vmm *vm);

uint64_t vmm_now_ns(void);

/* Whole run: create the VM, load the image, run until the guest stops. Returns the process exit status. */
int vmm_run(const struct vmm_config *cfg, struct vmm_stats *stats_out, char *err, size_t errsz);

/* Parse a size like 128M, 1G, 65536 (bytes) into *out; false on junk. */
bool vmm_parse_size(const char *text, uint64_t *out);

#endif
