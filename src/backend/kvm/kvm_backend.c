/* kvm_backend.c: the kvm backend's registration: guests run natively through /dev/kvm (the run loop arrives with issue 5; until then vcpu_run is absent and hv_vcpu_run returns HV_UNSUPPORTED). */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/backend.h"
#include "core/vm.h"

/* Does the host CPU have hardware virtualisation (vmx or svm in /proc/cpuinfo)? PVM and other software KVMs do not. */
bool hvx_kvm_hardware_virtualisation(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof line, f))
		if (!strncmp(line, "flags", 5))
			found = strstr(line, " vmx") || strstr(line, " svm");
	fclose(f);
	return found;
}

static bool kvm_available(const char **why)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*why = "/dev/kvm cannot be opened";
		return false;
	}
	int version = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (version != KVM_API_VERSION) {
		*why = "/dev/kvm has an unexpected API version";
		return false;
	}
	return true;
}

static const struct hvx_caps kvm_caps = {
	.vmx = {
		[HV_VMX_CAP_PINBASED] = (uint64_t)HVX_PIN_DEFAULT1 << 32 | HVX_PIN_DEFAULT1,
		[HV_VMX_CAP_PROCBASED] = (uint64_t)0x04006172u << 32 | 0x04006172u,
		[HV_VMX_CAP_PROCBASED2] = 0,
		[HV_VMX_CAP_ENTRY] = (uint64_t)0x000011fbu << 32 | 0x000011fbu,
		[HV_VMX_CAP_EXIT] = (uint64_t)0x00036dfbu << 32 | 0x00036dfbu,
	},
	.vcpu_max = 64,
	.space_max = 1,
};

static const struct hvx_caps *kvm_get_caps(void)
{
	return &kvm_caps;
}

static hv_return_t kvm_vm_create(struct hvx_vm *vm)
{
	(void)vm;
	return HV_SUCCESS;
}

static void kvm_vm_destroy(struct hvx_vm *vm)
{
	(void)vm;
}

static hv_return_t kvm_vcpu_create(struct hvx_vcpu *vcpu)
{
	(void)vcpu;
	return HV_SUCCESS;
}

static void kvm_vcpu_destroy(struct hvx_vcpu *vcpu)
{
	(void)vcpu;
}

const struct hvx_backend_ops hvx_backend_kvm = {
	.name = "kvm",
	.description = "hardware virtualisation through /dev/kvm",
	.available = kvm_available,
	.caps = kvm_get_caps,
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
};
