/* tests/headers/visible_test.c: including only HEADER (a -D argument) makes every constant that the spec places in it, or in the headers it includes, visible; VIS_<tag> selects the rows of constants_expected.inc. */
#include HEADER

#if defined(VIS_error)
#define ROW_error(name) +(unsigned long long)(name)
#else
#define ROW_error(name)
#endif
#if defined(VIS_types)
#define ROW_types(name) +(unsigned long long)(name)
#else
#define ROW_types(name)
#endif
#if defined(VIS_arch_x86)
#define ROW_arch_x86(name) +(unsigned long long)(name)
#else
#define ROW_arch_x86(name)
#endif
#if defined(VIS_arch_vmx)
#define ROW_arch_vmx(name) +(unsigned long long)(name)
#else
#define ROW_arch_vmx(name)
#endif
#if defined(VIS_vmx)
#define ROW_vmx(name) +(unsigned long long)(name)
#else
#define ROW_vmx(name)
#endif
#if defined(VIS_hv)
#define ROW_hv(name) +(unsigned long long)(name)
#else
#define ROW_hv(name)
#endif
#if defined(VIS_intr)
#define ROW_intr(name) +(unsigned long long)(name)
#else
#define ROW_intr(name)
#endif
#if defined(VIS_vm_allocate)
#define ROW_vm_allocate(name) +(unsigned long long)(name)
#else
#define ROW_vm_allocate(name)
#endif

#define EXPECT(hdr, name, value) ROW_##hdr(name)
#define EXPECT_MACRO(hdr, name, value) ROW_##hdr(name)
#define EXPECT_VMCS(name, enc, w, t, i) ROW_arch_vmx(name)

unsigned long long visible_test(void);
unsigned long long visible_test(void)
{
	return 0
#include "constants_expected.inc"
	        ;
}
