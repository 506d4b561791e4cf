/* vmm.c: VM lifecycle for `hvx run`: memory, devices and their port table, vCPU/clock/input threads, stop and teardown. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx.h>

#include "acpi.h"
#include "loaders/loader.h"
#include "vcpu.h"

uint64_t vmm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- stop and notification */

void vmm_kick_all_locked(struct vmm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vmm_vcpu *v = vm->vcpus[i];
		if (v && v->created)
			hv_vcpu_interrupt(&v->id, 1);
	}
	pthread_cond_broadcast(&vm->wake);
	if (vm->dev)
		pthread_cond_broadcast(&vm->dev->clock_cond);
}

static void vstop(struct vmm *vm, enum vmm_stop why, int status, const char *fmt, va_list ap)
{
	if (vm->stop != VMM_RUNNING)
		return;
	vm->exit_status = status;
	vsnprintf(vm->stop_msg, sizeof vm->stop_msg, fmt, ap);
	atomic_store(&vm->stop, why);
	vmm_kick_all_locked(vm);
}

void vmm_stop_locked(struct vmm *vm, enum vmm_stop why, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vstop(vm, why, status, fmt, ap);
	va_end(ap);
}

void vmm_stop(struct vmm *vm, enum vmm_stop why, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&vm->lock);
	vstop(vm, why, status, fmt, ap);
	pthread_mutex_unlock(&vm->lock);
	va_end(ap);
}

void vmm_irq_notify_locked(struct vmm *vm, unsigned cpu)
{
	struct vmm_vcpu *v = cpu < vm->ncpus ? vm->vcpus[cpu] : NULL;
	if (!v)
		return;
	atomic_store(&v->irq_hint, true);
	if (v->created && !(v->thread_started && pthread_equal(pthread_self(), v->thread)))
		hv_vcpu_interrupt(&v->id, 1);
	pthread_cond_broadcast(&vm->wake);
}

void vmm_ioapic_deliver_locked(struct vmm *vm, const struct ioapic_msg *m, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		for (unsigned i = 0; i < vm->ncpus; i++) {
			struct lapic *l = &vm->dev->lapic[i];
			if (!lapic_matches(l, m[k].logical, m[k].dest))
				continue;
			if (m[k].mode == 0 || m[k].mode == 1)
				lapic_accept(l, m[k].vector);
			else if (m[k].mode == 4)
				l->nmi_pending = true;
			else
				continue; /* SMI, INIT and ExtINT messages are not modelled */
			vmm_irq_notify_locked(vm, i);
			if (m[k].mode == 1)
				break; /* lowest priority: one target, the first that matches */
		}
	}
}

/* Device interrupt lines go to the PIC (its output reaches vCPU 0 through LINT0) and to the I/O APIC pin the MADT
 * maps the ISA IRQ to; the guest masks whichever it does not use. */
static void dev_irq(void *ctx, unsigned line, int level)
{
	struct vmm *vm = ctx;
	pic_set_irq(&vm->dev->pic, line, level);
	if (pic_pending(&vm->dev->pic) >= 0 && lapic_accepts_pic(&vm->dev->lapic[0]))
		vmm_irq_notify_locked(vm, 0);
	struct ioapic_msg m;
	if (ioapic_set_irq(&vm->dev->ioapic, ioapic_isa_gsi(line), level, &m))
		vmm_ioapic_deliver_locked(vm, &m, 1);
}

/* ---------------------------------------------------------------- port I/O */

int vmm_pio_register(struct vmm *vm, const struct vmm_pio_handler *h)
{
	if (vm->npio == VMM_PIO_MAX)
		return -1;
	vm->pio[vm->npio++] = *h;
	return 0;
}

static const struct vmm_pio_handler *pio_find(struct vmm *vm, uint16_t port)
{
	for (unsigned i = 0; i < vm->npio; i++)
		if (port >= vm->pio[i].base && port - vm->pio[i].base < vm->pio[i].count)
			return &vm->pio[i];
	return NULL;
}

uint32_t vmm_pio_in(struct vmm *vm, uint16_t port, unsigned size)
{
	uint32_t ones = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	pthread_mutex_lock(&vm->lock);
	const struct vmm_pio_handler *h = pio_find(vm, port);
	uint32_t v = h && h->in ? h->in(h->dev, port, size) & ones : ones;
	pthread_mutex_unlock(&vm->lock);
	return v;
}

void vmm_pio_out(struct vmm *vm, uint16_t port, unsigned size, uint32_t value)
{
	pthread_mutex_lock(&vm->lock);
	const struct vmm_pio_handler *h = pio_find(vm, port);
	if (h && h->out)
		h->out(h->dev, port, size, value);
	pthread_mutex_unlock(&vm->lock);
}

/* Handlers run with vm->lock held; `dev` is the struct vmm. */
static uint32_t uart_in(void *d, uint16_t port, unsigned size)
{
	(void)size;
	return uart_read(&((struct vmm *)d)->dev->uart, port - UART_COM1_BASE);
}
static void uart_out(void *d, uint16_t port, unsigned size, uint32_t v)
{
	(void)size;
	uart_write(&((struct vmm *)d)->dev->uart, port - UART_COM1_BASE, (uint8_t)v);
}
static uint32_t debugcon_in(void *d, uint16_t port, unsigned size)
{
	(void)d, (void)port, (void)size;
	return DEBUGCON_PORT; /* the Bochs/QEMU "is debugcon present" read-back */
}
static void debugcon_out(void *d, uint16_t port, unsigned size, uint32_t v)
{
	(void)port, (void)size;
	struct vmm *vm = d;
	if (vm->cfg.serial_out) {
		fputc((int)(v & 0xff), vm->cfg.serial_out);
		if ((v & 0xff) == '\n')
			fflush(vm->cfg.serial_out);
	}
}
static void debug_exit_out(void *d, uint16_t port, unsigned size, uint32_t v)
{
	(void)port, (void)size;
	vmm_stop_locked(d, VMM_STOP_DEBUG_EXIT, debug_exit_status(v), "guest wrote 0x%x to isa-debug-exit", v);
}
static uint32_t fw_cfg_in(void *d, uint16_t port, unsigned size)
{
	struct fw_cfg *f = &((struct vmm *)d)->dev->fw;
	if (port != FW_CFG_PORT_DATA)
		return 0;
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)fw_cfg_read_byte(f) << (8 * i);
	return v;
}
static void fw_cfg_out(void *d, uint16_t port, unsigned size, uint32_t v)
{
	(void)size;
	if (port == FW_CFG_PORT_SEL)
		fw_cfg_select(&((struct vmm *)d)->dev->fw, (uint16_t)v);
}
static uint32_t pit_in(void *d, uint16_t port, unsigned size)
{
	(void)size;
	return pit_read(&((struct vmm *)d)->dev->pit, port, vmm_now_ns());
}
static void pit_out_port(void *d, uint16_t port, unsigned size, uint32_t v)
{
	(void)size;
	struct vmm *vm = d;
	pit_write(&vm->dev->pit, port, (uint8_t)v, vmm_now_ns());
	pthread_cond_signal(&vm->dev->clock_cond);
}
static uint32_t pic_in(void *d, uint16_t port, unsigned size)
{
	(void)size;
	return pic_read(&((struct vmm *)d)->dev->pic, port);
}
static void pic_out(void *d, uint16_t port, unsigned size, uint32_t v)
{
	(void)size;
	struct vmm *vm = d;
	pic_write(&vm->dev->pic, port, (uint8_t)v);
	/* EOI or unmasking may expose a waiting request. */
	if (pic_pending(&vm->dev->pic) >= 0)
		atomic_store(&vm->vcpus[0]->irq_hint, true);
}
static uint32_t cmos_in(void *d, uint16_t port, unsigned size)
{
	(void)size;
	return cmos_read(&((struct vmm *)d)->dev->cmos, port, (int64_t)time(NULL));
}
static void cmos_out(void *d, uint16_t port, unsigned size, uint32_t v)
{
	(void)size;
	cmos_write(&((struct vmm *)d)->dev->cmos, port, (uint8_t)v);
}
static uint32_t power_in(void *d, uint16_t port, unsigned size)
{
	(void)d, (void)size;
	switch (port) {
	case RESET_PORT_KBD: return 0x1c;  /* keyboard controller: buffers empty, self-test passed */
	case RESET_PORT_92: return 0x02;   /* A20 enabled */
	default: return 0;
	}
}
static void power_out(void *d, uint16_t port, unsigned size, uint32_t v)
{
	switch (power_write(port, size, v)) {
	case POWER_OFF:
		vmm_stop_locked(d, VMM_STOP_POWEROFF, VMM_EXIT_OK, "guest powered off (port 0x%x)", port);
		break;
	case POWER_RESET:
		vmm_stop_locked(d, VMM_STOP_RESET, VMM_EXIT_OK, "guest requested a reset (port 0x%x); stopping", port);
		break;
	default:
		break;
	}
}
static uint32_t pm_timer_in(void *d, uint16_t port, unsigned size)
{
	(void)d, (void)port, (void)size;
	return pm_timer_read(vmm_now_ns());
}
static uint32_t pm1_evt_in(void *d, uint16_t port, unsigned size)
{
	return pm1_evt_read(&((struct vmm *)d)->dev->pm1, port - PM_PORT_EVT, size);
}
static void pm1_evt_out(void *d, uint16_t port, unsigned size, uint32_t v)
{
	pm1_evt_write(&((struct vmm *)d)->dev->pm1, port - PM_PORT_EVT, size, v);
}
static uint32_t zero_in(void *d, uint16_t port, unsigned size)
{
	(void)d, (void)port, (void)size;
	return 0;
}
static void ignore_out(void *d, uint16_t port, unsigned size, uint32_t v)
{
	(void)d, (void)port, (void)size, (void)v;
}

static const struct vmm_pio_handler port_table[] = {
	{UART_COM1_BASE, 8, "com1", uart_in, uart_out, NULL},
	{DEBUGCON_PORT, 1, "debugcon", debugcon_in, debugcon_out, NULL},
	{DEBUG_EXIT_PORT, 1, "isa-debug-exit", zero_in, debug_exit_out, NULL},
	{FW_CFG_PORT_SEL, 2, "fw_cfg", fw_cfg_in, fw_cfg_out, NULL},
	{0x40, 4, "pit", pit_in, pit_out_port, NULL},
	{0x61, 1, "pit-port61", pit_in, pit_out_port, NULL},
	{0x20, 2, "pic-master", pic_in, pic_out, NULL},
	{0xa0, 2, "pic-slave", pic_in, pic_out, NULL},
	{0x4d0, 2, "pic-elcr", pic_in, pic_out, NULL},
	{0x70, 2, "cmos", cmos_in, cmos_out, NULL},
	{PM_PORT_EVT, 4, "acpi-pm1a-evt", pm1_evt_in, pm1_evt_out, NULL},
	{PM_PORT_PIIX4, 2, "acpi-pm1a-cnt", zero_in, power_out, NULL},
	{PM_PORT_TMR, 4, "acpi-pm-timer", pm_timer_in, ignore_out, NULL},
	{PM_PORT_BOCHS, 2, "acpi-bochs", zero_in, power_out, NULL},
	{RESET_PORT_CF9, 1, "reset-cf9", zero_in, power_out, NULL},
	{RESET_PORT_KBD, 1, "kbc", power_in, power_out, NULL},
	{0x60, 1, "kbc-data", zero_in, ignore_out, NULL},
	{RESET_PORT_92, 1, "port92", power_in, power_out, NULL},
	{0x80, 1, "post", zero_in, ignore_out, NULL},
};

/* ---------------------------------------------------------------- threads */

static void *clock_thread(void *arg)
{
	struct vmm *vm = arg;
	uint64_t deadline = vm->cfg.timeout > 0 ? vm->start_ns + (uint64_t)(vm->cfg.timeout * 1e9) : 0;
	pthread_mutex_lock(&vm->lock);
	while (vm->stop == VMM_RUNNING) {
		uint64_t now = vmm_now_ns(), next = now + 1000000000ull;
		uint64_t n = pit_tick(&vm->dev->pit, now);
		if (n && n < next)
			next = n;
		for (unsigned i = 0; i < vm->ncpus; i++) {
			n = lapic_tick(&vm->dev->lapic[i], now);
			if (lapic_pending(&vm->dev->lapic[i]) >= 0)
				vmm_irq_notify_locked(vm, i);
			if (n && n < next)
				next = n;
		}
		if (deadline) {
			if (now >= deadline) {
				vmm_stop_locked(vm, VMM_STOP_TIMEOUT, VMM_EXIT_TIMEOUT, "timeout: the guest ran for %g s",
						vm->cfg.timeout);
				break;
			}
			if (deadline < next)
				next = deadline;
		}
		struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
		pthread_cond_timedwait(&vm->dev->clock_cond, &vm->lock, &ts);
	}
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

/* COM1 input: bytes wait here until the UART has room (as a real line with flow control would). */
static void *input_thread(void *arg)
{
	struct vmm *vm = arg;
	uint8_t buf[256];
	size_t have = 0, off = 0;
	bool eof = false;
	while (atomic_load(&vm->stop) == VMM_RUNNING) {
		if (off < have) {
			pthread_mutex_lock(&vm->lock);
			off += uart_receive(&vm->dev->uart, buf + off, have - off);
			pthread_mutex_unlock(&vm->lock);
			if (off < have) {
				struct timespec ts = {0, 1000000}; /* the guest has not read yet: look again in 1 ms */
				nanosleep(&ts, NULL);
			}
			continue;
		}
		if (eof)
			break;
		struct pollfd p = {vm->cfg.serial_in_fd, POLLIN, 0};
		int r = poll(&p, 1, 100);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		ssize_t n = read(vm->cfg.serial_in_fd, buf, sizeof buf);
		if (n <= 0)
			eof = true; /* end of input */
		have = n > 0 ? (size_t)n : 0;
		off = 0;
	}
	return NULL;
}

/* ---------------------------------------------------------------- run */

static int map_memory(struct vmm *vm, char *err, size_t errsz)
{
	hv_return_t r = hv_vm_map(vm->mem.host, 0, vm->mem.low, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC);
	if (!r && vm->mem.size > vm->mem.low)
		r = hv_vm_map(vm->mem.host + vm->mem.low, VMM_HIGH_RAM_BASE, vm->mem.size - vm->mem.low,
			      HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC);
	if (r)
		snprintf(err, errsz, "hv_vm_map of guest RAM failed (0x%x)", (unsigned)r);
	return r ? -1 : 0;
}

static void read_caps(struct vmm *vm)
{
	static const hv_vmx_capability_t ctl[5] = {HV_VMX_CAP_PINBASED, HV_VMX_CAP_PROCBASED, HV_VMX_CAP_PROCBASED2,
						   HV_VMX_CAP_ENTRY, HV_VMX_CAP_EXIT};
	for (unsigned i = 0; i < 5; i++)
		if (hv_vmx_read_capability(ctl[i], &vm->caps[i]))
			vm->caps[i] = 0;
	hv_vmx_read_capability(HV_VMX_CAP_CR0_FIXED0, &vm->cr0_fixed0);
	hv_vmx_read_capability(HV_VMX_CAP_CR0_FIXED1, &vm->cr0_fixed1);
	hv_vmx_read_capability(HV_VMX_CAP_CR4_FIXED0, &vm->cr4_fixed0);
	hv_vmx_read_capability(HV_VMX_CAP_CR4_FIXED1, &vm->cr4_fixed1);
	/* A backend that reports no fixed-1 mask constrains nothing. */
	if (!vm->cr0_fixed1)
		vm->cr0_fixed1 = ~0ull;
	if (!vm->cr4_fixed1)
		vm->cr4_fixed1 = ~0ull;
	vm->unrestricted = (vm->caps[2] >> 32) & CPU_BASED2_UNRESTRICTED;
}

static int devices_init(struct vmm *vm, char *err, size_t errsz)
{
	struct vmm_devices *d = calloc(1, sizeof *d);
	if (!d) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	vm->dev = d;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->clock_cond, &ca);
	pthread_condattr_destroy(&ca);
	uart_init(&d->uart, vm->cfg.serial_out, dev_irq, vm, UART_COM1_IRQ);
	pit_init(&d->pit, dev_irq, vm);
	pic_init(&d->pic);
	ioapic_init(&d->ioapic);
	cmos_init(&d->cmos, vm->mem.size, vm->ncpus);
	for (unsigned i = 0; i < vm->ncpus; i++)
		lapic_init(&d->lapic[i], i, i == 0);
	if (fw_cfg_init(&d->fw, vm->mem.size, vm->ncpus, vm->cfg.append)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < sizeof port_table / sizeof port_table[0]; i++) {
		struct vmm_pio_handler h = port_table[i];
		h.dev = vm;
		vmm_pio_register(vm, &h);
	}
	return 0;
}

static void devices_free(struct vmm *vm)
{
	if (!vm->dev)
		return;
	fw_cfg_free(&vm->dev->fw);
	pthread_cond_destroy(&vm->dev->clock_cond);
	free(vm->dev);
	vm->dev = NULL;
}

int vmm_run(const struct vmm_config *cfg, struct vmm_stats *stats_out, char *err, size_t errsz)
{
	err[0] = 0;
	if (cfg->cpus < 1 || cfg->cpus > VMM_MAX_CPUS) {
		snprintf(err, errsz, "--cpus must be 1..%u", VMM_MAX_CPUS);
		return VMM_EXIT_USAGE;
	}
	if (cfg->mem_size < (2ull << 20) || cfg->mem_size > (64ull << 30) || (cfg->mem_size & 0xfff)) {
		snprintf(err, errsz, "--memory must be a multiple of 4 KiB between 2 MiB and 64 GiB");
		return VMM_EXIT_USAGE;
	}
	uint8_t *img;
	size_t img_len;
	if (loader_read_file(cfg->image, &img, &img_len, err, errsz))
		return VMM_EXIT_USAGE;

	struct vmm *vm = calloc(1, sizeof *vm);
	if (!vm) {
		free(img);
		snprintf(err, errsz, "out of memory");
		return VMM_EXIT_USAGE;
	}
	vm->cfg = *cfg;
	vm->ncpus = cfg->cpus;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->wake, NULL);
	vm->mem.size = cfg->mem_size;
	vm->mem.low = cfg->mem_size < VMM_LOW_RAM_MAX ? cfg->mem_size : VMM_LOW_RAM_MAX;
	int status = VMM_EXIT_USAGE;
	bool vm_created = false;
	void *host = mmap(NULL, cfg->mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (host == MAP_FAILED) {
		snprintf(err, errsz, "cannot allocate %" PRIu64 " MiB of guest memory: %s", cfg->mem_size >> 20, strerror(errno));
		goto out;
	}
	vm->mem.host = host;

	struct vmm_boot boot;
	if (loader_load(cfg, img, img_len, &vm->mem, &boot, err, errsz))
		goto out;
	vm->boot_mode = boot.mode;
	vm->boot_entry = boot.entry;
	memcpy(vm->boot_regs, boot.regs, sizeof boot.regs);
	vm->format_name = boot.format;
	if (vmm_acpi_fits(boot.image_lo, boot.image_hi))
		vmm_acpi_write(&vm->mem, cfg->cpus); /* RSDP in the BIOS area so guests find their CPUs */

	hv_return_t r = hvx_vm_create_with_backend(HV_VM_DEFAULT, cfg->backend);
	if (r) {
		const char *why = NULL;
		if (cfg->backend && !hvx_backend_available(cfg->backend, &why) && why)
			snprintf(err, errsz, "backend '%s' is not available here: %s", cfg->backend, why);
		else
			snprintf(err, errsz, "hv_vm_create failed (0x%x)", (unsigned)r);
		status = r == HV_BAD_ARGUMENT ? VMM_EXIT_USAGE : VMM_EXIT_UNSUPPORTED;
		goto out;
	}
	vm_created = true;
	status = VMM_EXIT_GUEST_ERROR;
	/* The emu guest TSC counts nanoseconds (hv_tsc_clock), the rate of the LAPIC timer input: tell the guest. */
	if (!cfg->tsc_hz && hvx_vm_backend_name() && !strcmp(hvx_vm_backend_name(), "emu"))
		vm->cfg.tsc_hz = (uint32_t)LAPIC_BUS_HZ;
	if (map_memory(vm, err, errsz))
		goto out;
	read_caps(vm);
	if (devices_init(vm, err, errsz))
		goto out;

	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vmm_vcpu *v = calloc(1, sizeof *v);
		if (!v) {
			snprintf(err, errsz, "out of memory");
			goto out;
		}
		v->vm = vm;
		v->index = i;
		vmm_stats_init(&v->stats);
		vmm_msr_file_init(&v->msrs, cfg);
		vm->vcpus[i] = v;
	}

	vm->start_ns = vmm_now_ns();
	pthread_t clock, input;
	bool have_input = cfg->serial_in_fd >= 0;
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vmm_vcpu *v = vm->vcpus[i];
		v->thread_started = pthread_create(&v->thread, NULL, vmm_vcpu_thread, v) == 0;
		if (!v->thread_started)
			vmm_stop_locked(vm, VMM_STOP_ERROR, VMM_EXIT_GUEST_ERROR, "cannot start the vCPU %u thread", i);
	}
	pthread_mutex_unlock(&vm->lock);
	bool have_clock = pthread_create(&clock, NULL, clock_thread, vm) == 0;
	if (have_input)
		have_input = pthread_create(&input, NULL, input_thread, vm) == 0;

	pthread_mutex_lock(&vm->lock);
	while (vm->stop == VMM_RUNNING)
		pthread_cond_wait(&vm->wake, &vm->lock);
	pthread_mutex_unlock(&vm->lock);

	/* Every vCPU must leave hv_vcpu_run now; a backend that ignores the kick must not hang us. */
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vmm_vcpu *v = vm->vcpus[i];
		if (!v->thread_started)
			continue;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		if (pthread_timedjoin_np(v->thread, NULL, &ts)) {
			if (cfg->serial_out)
				fflush(cfg->serial_out);
			fprintf(stderr, "hvx run: %s\nhvx run: vCPU %u did not leave the guest within 5 s of the stop; exiting\n",
				vm->stop_msg, i);
			_exit(vm->exit_status ? vm->exit_status : VMM_EXIT_GUEST_ERROR);
		}
	}
	if (have_clock)
		pthread_join(clock, NULL);
	if (have_input)
		pthread_join(input, NULL);
	if (cfg->serial_out)
		fflush(cfg->serial_out);

	status = vm->exit_status;
	switch ((enum vmm_stop)atomic_load(&vm->stop)) {
	case VMM_STOP_POWEROFF:
	case VMM_STOP_DEBUG_EXIT:
	case VMM_STOP_HALTED:
		break;
	default:
		snprintf(err, errsz, "%s", vm->stop_msg);
		break;
	}
	if (stats_out) {
		vmm_stats_init(stats_out);
		for (unsigned i = 0; i < vm->ncpus; i++)
			vmm_stats_merge(stats_out, &vm->vcpus[i]->stats);
		stats_out->wall_ns = vmm_now_ns() - vm->start_ns;
		stats_out->cpus = vm->ncpus;
		stats_out->exit_status = status;
		snprintf(stats_out->backend, sizeof stats_out->backend, "%s",
			 hvx_vm_backend_name() ? hvx_vm_backend_name() : "?");
		snprintf(stats_out->image, sizeof stats_out->image, "%s", cfg->image);
	}

out:
	for (unsigned i = 0; i < VMM_MAX_CPUS; i++)
		if (vm->vcpus[i]) {
			vmm_stats_free(&vm->vcpus[i]->stats);
			free(vm->vcpus[i]);
		}
	if (vm_created) {
		hv_vm_unmap(0, vm->mem.low);
		if (vm->mem.size > vm->mem.low)
			hv_vm_unmap(VMM_HIGH_RAM_BASE, vm->mem.size - vm->mem.low);
		hv_vm_destroy();
	}
	devices_free(vm);
	if (vm->mem.host)
		munmap(vm->mem.host, vm->mem.size);
	pthread_cond_destroy(&vm->wake);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
	free(img);
	return status;
}
