; vmx_long.asm: the VMX instructions (and INVPCID, VMFUNC) with memory and register operands chosen to exercise displacement and instruction information.
%include "common.inc"
	bits 64
SLOT 0
	vmclear [rbx + 0x20]
SLOT 1
	vmlaunch
SLOT 2
	vmptrld [rbx + rcx * 8 + 0x1000]
SLOT 3
	vmptrst [rsp - 8]
SLOT 4
	vmread rax, rcx
SLOT 5
	vmresume
SLOT 6
	vmwrite rdx, [rbx + 0x40]
SLOT 7
	vmxoff
SLOT 8
	vmxon [rbx]
SLOT 9
	invept rcx, [rbx + 8]
SLOT 10
	invvpid rdx, [rsi + rdi * 2 + 0x10]
SLOT 11
	vmfunc
SLOT 12
	invpcid rax, [rbx]
	DONE
SLOT 13
	xsaves [rbx]
SLOT 14
	xrstors [rbx + 0x40]
SLOT 15
	rdrand eax
	DONE
SLOT 16
	rdrand rcx
SLOT 17
	rdrand dx
SLOT 18
	rdseed rbx
SLOT 19
	rdseed eax
SLOT 20
	vmread [rbx + rcx * 4 + 8], rdx
SLOT 21
	vmwrite rsi, rdi
