/* cpuid.c: the guest's CPUID policy: a small, deterministic Intel-like model plus --cpuid overrides. */
#include <string.h>

#include "cpuid.h"

static void str4(uint32_t *r, const char *s)
{
	memcpy(r, s, 4);
}

void vmm_cpuid_default(unsigned cpus, unsigned apic_id, uint32_t tsc_hz, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	static const char brand[48] = "hvx virtual CPU";
	memset(r, 0, 4 * sizeof *r);
	(void)sub;
	switch (leaf) {
	case 0x0:
		r[0] = tsc_hz ? 0x16 : 7;
		str4(&r[1], "Genu");
		str4(&r[3], "ineI");
		str4(&r[2], "ntel");
		break;
	case 0x1:
		r[0] = 0x000306a9; /* family 6, model 0x3a, stepping 9 */
		r[1] = (apic_id << 24) | ((cpus & 0xff) << 16) | (8u << 8);
		r[2] = 1u << 31; /* running under a hypervisor */
		r[3] = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9) | (1u << 11) |
		       (1u << 13) | (1u << 15) | (1u << 16) | (1u << 19) | (1u << 23) | (1u << 24) | (1u << 25) |
		       (1u << 26) | (cpus > 1 ? 1u << 28 : 0);
		/* FPU PSE TSC MSR PAE CX8 APIC SEP PGE CMOV PAT CLFSH MMX FXSR SSE SSE2 (HTT) */
		break;
	case 0x15: /* TSC / core crystal clock: TSC = crystal * EBX / EAX; Linux also clocks the LAPIC timer by it */
		if (tsc_hz) {
			r[0] = 1;
			r[1] = 1;
			r[2] = tsc_hz;
		}
		break;
	case 0x16: /* base, maximum and bus (LAPIC timer input) frequencies in MHz */
		if (tsc_hz) {
			r[0] = tsc_hz / 1000000;
			r[1] = tsc_hz / 1000000;
			r[2] = tsc_hz / 1000000;
		}
		break;
	case 0x40000000:
		r[0] = 0x40000000;
		str4(&r[1], "hvxh");
		str4(&r[2], "vxhv");
		str4(&r[3], "xhvx");
		break;
	case 0x80000000:
		r[0] = 0x80000008;
		break;
	case 0x80000001:
		r[2] = 1u << 0;                                /* LAHF/SAHF in 64-bit mode */
		r[3] = (1u << 11) | (1u << 20) | (1u << 29);   /* SYSCALL, NX, LM */
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004:
		memcpy(r, brand + 16 * (leaf - 0x80000002), 16);
		break;
	case 0x80000008:
		r[0] = 0x3027; /* 39 physical, 48 linear address bits */
		break;
	default:
		break;
	}
}

void vmm_cpuid(const struct vmm_config *cfg, unsigned cpus, unsigned apic_id, uint32_t leaf, uint32_t sub,
	       uint32_t r[4])
{
	vmm_cpuid_default(cpus, apic_id, cfg->tsc_hz, leaf, sub, r);
	for (unsigned i = 0; i < cfg->ncpuid; i++) {
		const struct vmm_cpuid_override *o = &cfg->cpuid[i];
		if (o->leaf == leaf && (o->any_subleaf || o->subleaf == sub))
			memcpy(r, o->regs, sizeof o->regs);
	}
}

bool vmm_parse_cpuid_override(const char *text, struct vmm_cpuid_override *out)
{
	struct vmm_cpuid_override tmp, *o = &tmp;
	/* LEAF[.SUB]=eax,ebx,ecx,edx */
	char buf[160];
	if (strlen(text) >= sizeof buf)
		return false;
	strcpy(buf, text);
	char *eq = strchr(buf, '=');
	if (!eq)
		return false;
	*eq = 0;
	memset(o, 0, sizeof *o);
	char *dot = strchr(buf, '.');
	if (dot)
		*dot = 0;
	uint64_t v;
	if (!vmm_parse_u64(buf, &v) || v > 0xffffffffu)
		return false;
	o->leaf = (uint32_t)v;
	o->any_subleaf = !dot;
	if (dot) {
		if (!vmm_parse_u64(dot + 1, &v) || v > 0xffffffffu)
			return false;
		o->subleaf = (uint32_t)v;
	}
	char *p = eq + 1;
	for (unsigned i = 0; i < 4; i++) {
		char *comma = strchr(p, ',');
		if ((i < 3) != (comma != NULL))
			return false;
		if (comma)
			*comma = 0;
		if (!vmm_parse_u64(p, &v) || v > 0xffffffffu)
			return false;
		o->regs[i] = (uint32_t)v;
		p = comma ? comma + 1 : p;
	}
	*out = tmp;
	return true;
}

bool vmm_parse_u64(const char *text, uint64_t *out)
{
	if (!text || !*text || *text == '-' || *text == '+' || *text == ' ')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}
