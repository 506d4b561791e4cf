/* optable.c: the opcode table: Zydis mnemonic -> handler and its sub-operation, resolved once per decoded instruction. */
#include <pthread.h>

#include <Zydis/Zydis.h>

#include "backend/emu/cpu/handlers.h"
#include "backend/emu/cpu/sse_ops.h"
#include "backend/emu/cpu/x87_ops.h"

#define M(x) ZYDIS_MNEMONIC_##x

static const struct {
	uint16_t mnem;
	emu_handler fn;
	uint8_t aux;
} table[] = {
	/* ALU (aux = x86 /r group order) */
	{M(ADD), h_alu, 0}, {M(OR), h_alu, 1}, {M(ADC), h_alu, 2}, {M(SBB), h_alu, 3},
	{M(AND), h_alu, 4}, {M(SUB), h_alu, 5}, {M(XOR), h_alu, 6}, {M(CMP), h_alu, 7},
	{M(TEST), h_test, 0}, {M(INC), h_incdec, 0}, {M(DEC), h_incdec, 1}, {M(NEG), h_neg, 0}, {M(NOT), h_not, 0},
	{M(MOV), h_mov, 0}, {M(MOVZX), h_movzx, 0}, {M(MOVSX), h_movsx, 0}, {M(MOVSXD), h_movsx, 0},
	{M(LEA), h_lea, 0}, {M(XCHG), h_xchg, 0}, {M(CMPXCHG), h_cmpxchg, 0}, {M(XADD), h_xadd, 0},
	{M(BSWAP), h_bswap, 0}, {M(MOVBE), h_movbe, 0}, {M(MOVNTI), h_mov, 0},
	{M(ROL), h_shift, 0}, {M(ROR), h_shift, 1}, {M(RCL), h_shift, 2}, {M(RCR), h_shift, 3},
	{M(SHL), h_shift, 4}, {M(SHR), h_shift, 5}, {M(SAR), h_shift, 7},
	{M(SHLD), h_shxd, 0}, {M(SHRD), h_shxd, 1},
	{M(MUL), h_mul, 0}, {M(IMUL), h_imul_n, 1}, {M(DIV), h_div, 0}, {M(IDIV), h_div, 1},
	{M(CBW), h_cbw, 0}, {M(CWDE), h_cbw, 0}, {M(CDQE), h_cbw, 0},
	{M(CWD), h_cwd, 0}, {M(CDQ), h_cwd, 0}, {M(CQO), h_cwd, 0},
	{M(CLC), h_flagop, 0}, {M(STC), h_flagop, 1}, {M(CMC), h_flagop, 2}, {M(CLD), h_flagop, 3},
	{M(STD), h_flagop, 4}, {M(LAHF), h_lahf, 0}, {M(SAHF), h_sahf, 0},
	{M(DAA), h_bcd, 0}, {M(DAS), h_bcd, 1}, {M(AAA), h_bcd, 2}, {M(AAS), h_bcd, 3}, {M(AAM), h_bcd, 4},
	{M(AAD), h_bcd, 5},
	{M(BT), h_bt, 0}, {M(BTS), h_bt, 1}, {M(BTR), h_bt, 2}, {M(BTC), h_bt, 3},
	{M(BSF), h_bsf, 0}, {M(BSR), h_bsf, 1}, {M(TZCNT), h_tzcnt, 0}, {M(LZCNT), h_tzcnt, 1},
	{M(POPCNT), h_popcnt, 0},
	{M(ANDN), h_bmi, 0}, {M(BLSI), h_bmi, 1}, {M(BLSMSK), h_bmi, 2}, {M(BLSR), h_bmi, 3}, {M(BEXTR), h_bmi, 4},
	{M(BZHI), h_bmi, 5}, {M(PDEP), h_bmi, 6}, {M(PEXT), h_bmi, 7}, {M(SARX), h_bmi, 8}, {M(SHLX), h_bmi, 9},
	{M(SHRX), h_bmi, 10}, {M(RORX), h_bmi, 11}, {M(MULX), h_bmi, 12},
	{M(ADCX), h_adx, 0}, {M(ADOX), h_adx, 1}, {M(CRC32), h_crc32, 0},
	{M(CMOVO), h_cmov, 0}, {M(CMOVNO), h_cmov, 1}, {M(CMOVB), h_cmov, 2}, {M(CMOVNB), h_cmov, 3},
	{M(CMOVZ), h_cmov, 4}, {M(CMOVNZ), h_cmov, 5}, {M(CMOVBE), h_cmov, 6}, {M(CMOVNBE), h_cmov, 7},
	{M(CMOVS), h_cmov, 8}, {M(CMOVNS), h_cmov, 9}, {M(CMOVP), h_cmov, 10}, {M(CMOVNP), h_cmov, 11},
	{M(CMOVL), h_cmov, 12}, {M(CMOVNL), h_cmov, 13}, {M(CMOVLE), h_cmov, 14}, {M(CMOVNLE), h_cmov, 15},
	{M(SETO), h_setcc, 0}, {M(SETNO), h_setcc, 1}, {M(SETB), h_setcc, 2}, {M(SETNB), h_setcc, 3},
	{M(SETZ), h_setcc, 4}, {M(SETNZ), h_setcc, 5}, {M(SETBE), h_setcc, 6}, {M(SETNBE), h_setcc, 7},
	{M(SETS), h_setcc, 8}, {M(SETNS), h_setcc, 9}, {M(SETP), h_setcc, 10}, {M(SETNP), h_setcc, 11},
	{M(SETL), h_setcc, 12}, {M(SETNL), h_setcc, 13}, {M(SETLE), h_setcc, 14}, {M(SETNLE), h_setcc, 15},
	{M(NOP), h_nop, 0}, {M(XLAT), h_xlat, 0}, {M(LFENCE), h_nop, 0}, {M(MFENCE), h_nop, 0},
	{M(SFENCE), h_nop, 0}, {M(PREFETCH), h_nop, 0}, {M(PREFETCHNTA), h_nop, 0}, {M(PREFETCHT0), h_nop, 0},
	{M(PREFETCHT1), h_nop, 0}, {M(PREFETCHT2), h_nop, 0}, {M(PREFETCHW), h_nop, 0}, {M(CLFLUSH), h_nop, 0},
	{M(ENDBR32), h_nop, 0}, {M(ENDBR64), h_nop, 0},
	/* SSE / SSE2 */
	{M(MOVAPS), h_sse, SO_MOVA}, {M(MOVAPD), h_sse, SO_MOVA}, {M(MOVDQA), h_sse, SO_MOVA},
	{M(MOVUPS), h_sse, SO_MOVU}, {M(MOVUPD), h_sse, SO_MOVU}, {M(MOVDQU), h_sse, SO_MOVU},
	{M(MOVNTDQ), h_sse, SO_MOVA}, {M(MOVNTPS), h_sse, SO_MOVA}, {M(MOVNTPD), h_sse, SO_MOVA},
	{M(LDDQU), h_sse, SO_MOVU}, {M(MOVD), h_sse, SO_MOVD}, {M(MOVQ), h_sse, SO_MOVD}, {M(MOVSS), h_sse, SO_MOVS32},
	{M(MOVLPS), h_sse, SO_MOVLP}, {M(MOVLPD), h_sse, SO_MOVLP}, {M(MOVHPS), h_sse, SO_MOVHP},
	{M(MOVHPD), h_sse, SO_MOVHP}, {M(MOVHLPS), h_sse, SO_MOVHLPS}, {M(MOVLHPS), h_sse, SO_MOVLHPS},
	{M(PMOVMSKB), h_sse, SO_PMOVMSKB}, {M(MOVMSKPS), h_sse, SO_MOVMSKPS}, {M(MOVMSKPD), h_sse, SO_MOVMSKPD},
	{M(LDMXCSR), h_sse, SO_LDMXCSR}, {M(STMXCSR), h_sse, SO_STMXCSR}, {M(COMISS), h_sse, SO_COMISS},
	{M(UCOMISS), h_sse, SO_UCOMISS}, {M(COMISD), h_sse, SO_COMISD}, {M(UCOMISD), h_sse, SO_UCOMISD},
	{M(CVTTSS2SI), h_sse, SO_CVTTSS2SI}, {M(CVTSS2SI), h_sse, SO_CVTSS2SI}, {M(CVTTSD2SI), h_sse, SO_CVTTSD2SI},
	{M(CVTSD2SI), h_sse, SO_CVTSD2SI}, {M(PXOR), h_sse, SO_PXOR}, {M(POR), h_sse, SO_POR}, {M(PAND), h_sse, SO_PAND},
	{M(PANDN), h_sse, SO_PANDN}, {M(PADDB), h_sse, SO_PADDB}, {M(PADDW), h_sse, SO_PADDW}, {M(PADDD), h_sse, SO_PADDD},
	{M(PADDQ), h_sse, SO_PADDQ}, {M(PSUBB), h_sse, SO_PSUBB}, {M(PSUBW), h_sse, SO_PSUBW}, {M(PSUBD), h_sse, SO_PSUBD},
	{M(PSUBQ), h_sse, SO_PSUBQ}, {M(PCMPEQB), h_sse, SO_PCMPEQB}, {M(PCMPEQW), h_sse, SO_PCMPEQW},
	{M(PCMPEQD), h_sse, SO_PCMPEQD}, {M(PCMPGTB), h_sse, SO_PCMPGTB}, {M(PCMPGTW), h_sse, SO_PCMPGTW},
	{M(PCMPGTD), h_sse, SO_PCMPGTD}, {M(PMINUB), h_sse, SO_PMINUB}, {M(PMAXUB), h_sse, SO_PMAXUB},
	{M(PUNPCKLBW), h_sse, SO_PUNPCKLBW}, {M(PUNPCKLWD), h_sse, SO_PUNPCKLWD}, {M(PUNPCKLDQ), h_sse, SO_PUNPCKLDQ},
	{M(PUNPCKLQDQ), h_sse, SO_PUNPCKLQDQ}, {M(PUNPCKHBW), h_sse, SO_PUNPCKHBW}, {M(PUNPCKHWD), h_sse, SO_PUNPCKHWD},
	{M(PUNPCKHDQ), h_sse, SO_PUNPCKHDQ}, {M(PUNPCKHQDQ), h_sse, SO_PUNPCKHQDQ}, {M(PSHUFD), h_sse, SO_PSHUFD},
	{M(SHUFPS), h_sse, SO_SHUFPS}, {M(PSRLW), h_sse, SO_PSRLW}, {M(PSRLD), h_sse, SO_PSRLD}, {M(PSRLQ), h_sse, SO_PSRLQ},
	{M(PSRAW), h_sse, SO_PSRAW}, {M(PSRAD), h_sse, SO_PSRAD}, {M(PSLLW), h_sse, SO_PSLLW}, {M(PSLLD), h_sse, SO_PSLLD},
	{M(PSLLQ), h_sse, SO_PSLLQ}, {M(PSRLDQ), h_sse, SO_PSRLDQ}, {M(PSLLDQ), h_sse, SO_PSLLDQ},
	{M(XORPS), h_sse, SO_XORPS}, {M(XORPD), h_sse, SO_XORPS}, {M(ANDPS), h_sse, SO_ANDPS}, {M(ANDPD), h_sse, SO_ANDPS},
	{M(ORPS), h_sse, SO_ORPS}, {M(ORPD), h_sse, SO_ORPS}, {M(ANDNPS), h_sse, SO_ANDNPS}, {M(ANDNPD), h_sse, SO_ANDNPS},
	{M(ADDSS), h_sse, SO_ADDSS}, {M(SUBSS), h_sse, SO_SUBSS}, {M(MULSS), h_sse, SO_MULSS}, {M(DIVSS), h_sse, SO_DIVSS},
	{M(SQRTSS), h_sse, SO_SQRTSS}, {M(MINSS), h_sse, SO_MINSS}, {M(MAXSS), h_sse, SO_MAXSS},
	{M(ADDSD), h_sse, SO_ADDSD}, {M(SUBSD), h_sse, SO_SUBSD}, {M(MULSD), h_sse, SO_MULSD}, {M(DIVSD), h_sse, SO_DIVSD},
	{M(SQRTSD), h_sse, SO_SQRTSD}, {M(MINSD), h_sse, SO_MINSD}, {M(MAXSD), h_sse, SO_MAXSD},
	{M(ADDPS), h_sse, SO_ADDPS}, {M(SUBPS), h_sse, SO_SUBPS}, {M(MULPS), h_sse, SO_MULPS}, {M(DIVPS), h_sse, SO_DIVPS},
	{M(ADDPD), h_sse, SO_ADDPD}, {M(SUBPD), h_sse, SO_SUBPD}, {M(MULPD), h_sse, SO_MULPD}, {M(DIVPD), h_sse, SO_DIVPD},
	{M(CVTSI2SS), h_sse, SO_CVTSI2SS}, {M(CVTSI2SD), h_sse, SO_CVTSI2SD}, {M(CVTSS2SD), h_sse, SO_CVTSS2SD},
	{M(CVTSD2SS), h_sse, SO_CVTSD2SS}, {M(CVTDQ2PD), h_sse, SO_CVTDQ2PD}, {M(CVTDQ2PS), h_sse, SO_CVTDQ2PS},
	{M(CVTTPS2DQ), h_sse, SO_CVTTPS2DQ}, {M(PSHUFLW), h_sse, SO_PSHUFLW}, {M(PSHUFHW), h_sse, SO_PSHUFHW},
	{M(PACKUSWB), h_sse, SO_PACKUSWB}, {M(PACKSSWB), h_sse, SO_PACKSSWB}, {M(PACKSSDW), h_sse, SO_PACKSSDW},
	{M(PMULLW), h_sse, SO_PMULLW}, {M(PMULHW), h_sse, SO_PMULHW}, {M(PMULHUW), h_sse, SO_PMULHUW},
	{M(PMULUDQ), h_sse, SO_PMULUDQ}, {M(PADDUSB), h_sse, SO_PADDUSB}, {M(PADDUSW), h_sse, SO_PADDUSW},
	{M(PSUBUSB), h_sse, SO_PSUBUSB}, {M(PSUBUSW), h_sse, SO_PSUBUSW}, {M(PMINSW), h_sse, SO_PMINSW},
	{M(PMAXSW), h_sse, SO_PMAXSW}, {M(PAVGB), h_sse, SO_PAVGB}, {M(PSADBW), h_sse, SO_PSADBW},
	{M(PMADDWD), h_sse, SO_PMADDWD}, {M(CMPPS), h_sse, SO_CMPPS}, {M(CMPPD), h_sse, SO_CMPPD},
	{M(CMPSS), h_sse, SO_CMPSS}, {M(UNPCKLPS), h_sse, SO_UNPCKLPS}, {M(UNPCKHPS), h_sse, SO_UNPCKHPS},
	{M(UNPCKLPD), h_sse, SO_UNPCKLPD}, {M(UNPCKHPD), h_sse, SO_UNPCKHPD}, {M(SHUFPD), h_sse, SO_SHUFPD},
	{M(CVTPS2PD), h_sse, SO_CVTPS2PD}, {M(CVTPD2PS), h_sse, SO_CVTPD2PS}, {M(CVTTPD2DQ), h_sse, SO_CVTTPD2DQ},
	{M(CVTPD2DQ), h_sse, SO_CVTPD2DQ}, {M(CVTPS2DQ), h_sse, SO_CVTPS2DQ}, {M(PINSRW), h_sse, SO_PINSRW},
	{M(PEXTRW), h_sse, SO_PEXTRW}, {M(PADDSB), h_sse, SO_PADDSB}, {M(PADDSW), h_sse, SO_PADDSW},
	{M(PSUBSB), h_sse, SO_PSUBSB}, {M(PSUBSW), h_sse, SO_PSUBSW}, {M(MAXPS), h_sse, SO_MAXPS},
	{M(MINPS), h_sse, SO_MINPS}, {M(MAXPD), h_sse, SO_MAXPD}, {M(MINPD), h_sse, SO_MINPD},
	{M(SQRTPS), h_sse, SO_SQRTPS}, {M(SQRTPD), h_sse, SO_SQRTPD},
	{M(FXSAVE), h_fxsave, 0}, {M(FXRSTOR), h_fxsave, 1}, {M(FXSAVE64), h_fxsave, 0}, {M(FXRSTOR64), h_fxsave, 1},
	{M(XSAVE), h_fxsave, 2}, {M(XRSTOR), h_fxsave, 3}, {M(XSAVE64), h_fxsave, 2}, {M(XRSTOR64), h_fxsave, 3},
	/* x87 */
	{M(FWAIT), h_x87, XO_FWAIT}, {M(FNINIT), h_x87, XO_FNINIT}, {M(FNCLEX), h_x87, XO_FNCLEX},
	{M(FNSTSW), h_x87, XO_FNSTSW}, {M(FNSTCW), h_x87, XO_FNSTCW}, {M(FLDCW), h_x87, XO_FLDCW},
	{M(FLD), h_x87, XO_FLD}, {M(FILD), h_x87, XO_FILD}, {M(FST), h_x87, XO_FST}, {M(FSTP), h_x87, XO_FSTP},
	{M(FIST), h_x87, XO_FIST}, {M(FISTP), h_x87, XO_FISTP}, {M(FISTTP), h_x87, XO_FISTTP},
	{M(FLD1), h_x87, XO_FLD1}, {M(FLDZ), h_x87, XO_FLDZ}, {M(FLDPI), h_x87, XO_FLDPI},
	{M(FLDL2E), h_x87, XO_FLDL2E}, {M(FLDLN2), h_x87, XO_FLDLN2}, {M(FCHS), h_x87, XO_FCHS},
	{M(FABS), h_x87, XO_FABS}, {M(FSQRT), h_x87, XO_FSQRT}, {M(FRNDINT), h_x87, XO_FRNDINT},
	{M(FXCH), h_x87, XO_FXCH}, {M(FFREE), h_x87, XO_FFREE}, {M(FCOM), h_x87, XO_FCOM},
	{M(FCOMP), h_x87, XO_FCOMP}, {M(FUCOM), h_x87, XO_FUCOM}, {M(FUCOMP), h_x87, XO_FUCOMP},
	{M(FCOMPP), h_x87, XO_FCOMPP}, {M(FUCOMPP), h_x87, XO_FUCOMPP}, {M(FCOMI), h_x87, XO_FCOMI},
	{M(FCOMIP), h_x87, XO_FCOMIP}, {M(FUCOMI), h_x87, XO_FUCOMI}, {M(FUCOMIP), h_x87, XO_FUCOMIP},
	{M(FTST), h_x87, XO_FTST}, {M(FADD), h_x87, XO_FADD}, {M(FMUL), h_x87, XO_FMUL}, {M(FSUB), h_x87, XO_FSUB},
	{M(FSUBR), h_x87, XO_FSUBR}, {M(FDIV), h_x87, XO_FDIV}, {M(FDIVR), h_x87, XO_FDIVR},
	{M(FADDP), h_x87, XO_FADDP}, {M(FMULP), h_x87, XO_FMULP}, {M(FSUBP), h_x87, XO_FSUBP},
	{M(FSUBRP), h_x87, XO_FSUBRP}, {M(FDIVP), h_x87, XO_FDIVP}, {M(FDIVRP), h_x87, XO_FDIVRP},
	{M(FIADD), h_x87, XO_FIADD}, {M(FIMUL), h_x87, XO_FIMUL}, {M(FISUB), h_x87, XO_FISUB},
	{M(FISUBR), h_x87, XO_FISUBR}, {M(FIDIV), h_x87, XO_FIDIV}, {M(FIDIVR), h_x87, XO_FIDIVR},
	{M(FCMOVB), h_x87, XO_FCMOVB}, {M(FCMOVE), h_x87, XO_FCMOVE}, {M(FCMOVBE), h_x87, XO_FCMOVBE},
	{M(FCMOVU), h_x87, XO_FCMOVU}, {M(FCMOVNB), h_x87, XO_FCMOVNB}, {M(FCMOVNE), h_x87, XO_FCMOVNE},
	{M(FCMOVNBE), h_x87, XO_FCMOVNBE}, {M(FCMOVNU), h_x87, XO_FCMOVNU},
	/* control transfer */
	{M(JMP), h_jmp, 0}, {M(CALL), h_call, 0}, {M(RET), h_ret, 0}, {M(JCXZ), h_jcxz, 0}, {M(JECXZ), h_jcxz, 0},
	{M(JRCXZ), h_jcxz, 0}, {M(LOOP), h_loop, 0}, {M(LOOPE), h_loop, 1}, {M(LOOPNE), h_loop, 2},
	{M(JO), h_jcc, 0}, {M(JNO), h_jcc, 1}, {M(JB), h_jcc, 2}, {M(JNB), h_jcc, 3},
	{M(JZ), h_jcc, 4}, {M(JNZ), h_jcc, 5}, {M(JBE), h_jcc, 6}, {M(JNBE), h_jcc, 7},
	{M(JS), h_jcc, 8}, {M(JNS), h_jcc, 9}, {M(JP), h_jcc, 10}, {M(JNP), h_jcc, 11},
	{M(JL), h_jcc, 12}, {M(JNL), h_jcc, 13}, {M(JLE), h_jcc, 14}, {M(JNLE), h_jcc, 15},
	{M(PUSH), h_push, 0}, {M(POP), h_pop, 0}, {M(PUSHA), h_pusha, 0}, {M(PUSHAD), h_pusha, 0},
	{M(POPA), h_popa, 0}, {M(POPAD), h_popa, 0}, {M(PUSHF), h_pushf, 0}, {M(PUSHFD), h_pushf, 0},
	{M(PUSHFQ), h_pushf, 0}, {M(POPF), h_popf, 0}, {M(POPFD), h_popf, 0}, {M(POPFQ), h_popf, 0},
	{M(ENTER), h_enter, 0}, {M(LEAVE), h_leave, 0},
	{M(INT), h_int, 0}, {M(INT3), h_int, 1}, {M(INTO), h_int, 2}, {M(INT1), h_int, 3},
	{M(IRET), h_iret, 0}, {M(IRETD), h_iret, 0}, {M(IRETQ), h_iret, 0},
	/* strings and I/O */
	{M(MOVSB), h_movs, 0}, {M(MOVSW), h_movs, 0}, {M(MOVSD), h_movs, 0}, {M(MOVSQ), h_movs, 0},
	{M(STOSB), h_stos, 0}, {M(STOSW), h_stos, 0}, {M(STOSD), h_stos, 0}, {M(STOSQ), h_stos, 0},
	{M(LODSB), h_lods, 0}, {M(LODSW), h_lods, 0}, {M(LODSD), h_lods, 0}, {M(LODSQ), h_lods, 0},
	{M(CMPSB), h_cmps, 0}, {M(CMPSW), h_cmps, 0}, {M(CMPSD), h_cmps, 0}, {M(CMPSQ), h_cmps, 0},
	{M(SCASB), h_scas, 0}, {M(SCASW), h_scas, 0}, {M(SCASD), h_scas, 0}, {M(SCASQ), h_scas, 0},
	{M(INSB), h_ins, 0}, {M(INSW), h_ins, 0}, {M(INSD), h_ins, 0},
	{M(OUTSB), h_outs, 0}, {M(OUTSW), h_outs, 0}, {M(OUTSD), h_outs, 0},
	{M(IN), h_in, 0}, {M(OUT), h_out, 0},
	/* system */
	{M(CPUID), h_cpuid, 0}, {M(HLT), h_simple_exit, 0}, {M(INVD), h_simple_exit, 1}, {M(WBINVD), h_simple_exit, 2},
	{M(VMCALL), h_simple_exit, 3}, {M(GETSEC), h_simple_exit, 4}, {M(RSM), h_simple_exit, 5},
	{M(MONITOR), h_simple_exit, 6}, {M(MWAIT), h_simple_exit, 7}, {M(RDPMC), h_simple_exit, 8},
	{M(PAUSE), h_simple_exit, 9},
	{M(RDTSC), h_rdtsc, 0}, {M(RDTSCP), h_rdtsc, 1}, {M(RDRAND), h_rdrand, 0}, {M(RDSEED), h_rdrand, 1},
	{M(RDMSR), h_msr, 0}, {M(WRMSR), h_msr, 1}, {M(CLTS), h_clts, 0}, {M(LMSW), h_lmsw, 0}, {M(SMSW), h_smsw, 0},
	{M(SGDT), h_dtable, 0}, {M(SIDT), h_dtable, 1}, {M(LGDT), h_dtable, 2}, {M(LIDT), h_dtable, 3},
	{M(SLDT), h_ldtr_tr, 0}, {M(STR), h_ldtr_tr, 1}, {M(LLDT), h_ldtr_tr, 2}, {M(LTR), h_ldtr_tr, 3},
	{M(VERR), h_segchk, 0}, {M(VERW), h_segchk, 1}, {M(LAR), h_segchk, 2}, {M(LSL), h_segchk, 3},
	{M(INVLPG), h_invlpg, 0}, {M(INVPCID), h_invpcid, 0},
	{M(VMCLEAR), h_vmx, 0}, {M(VMLAUNCH), h_vmx, 1}, {M(VMPTRLD), h_vmx, 2}, {M(VMPTRST), h_vmx, 3},
	{M(VMREAD), h_vmx, 4}, {M(VMRESUME), h_vmx, 5}, {M(VMWRITE), h_vmx, 6}, {M(VMXOFF), h_vmx, 7},
	{M(VMXON), h_vmx, 8}, {M(INVEPT), h_vmx, 9}, {M(INVVPID), h_vmx, 10}, {M(VMFUNC), h_vmx, 11},
	{M(XSETBV), h_xsetbv, 0}, {M(XGETBV), h_xgetbv, 0}, {M(CLI), h_cli_sti, 0}, {M(STI), h_cli_sti, 1},
	{M(UD0), h_ud2, 0}, {M(UD1), h_ud2, 0}, {M(UD2), h_ud2, 0}, {M(SWAPGS), h_swapgs, 0},
	{M(RDFSBASE), h_fsgsbase, 0}, {M(RDGSBASE), h_fsgsbase, 1}, {M(WRFSBASE), h_fsgsbase, 2},
	{M(WRGSBASE), h_fsgsbase, 3},
	{M(STAC), h_stac_clac, 1}, {M(CLAC), h_stac_clac, 0},
	{M(SYSCALL), h_syscall, 0}, {M(SYSRET), h_sysret, 0}, {M(SYSENTER), h_sysenter, 0}, {M(SYSEXIT), h_sysexit, 0},
	{M(CMPXCHG8B), h_cmpxchg_wide, 0}, {M(CMPXCHG16B), h_cmpxchg_wide, 1},
	{M(XSAVES), h_xsaves, 0}, {M(XSAVES64), h_xsaves, 0}, {M(XRSTORS), h_xsaves, 1}, {M(XRSTORS64), h_xsaves, 1},
	{M(ENCLS), h_encls, 0}, {M(UMONITOR), h_umonitor, 0}, {M(UMWAIT), h_umwait_tpause, 0},
	{M(TPAUSE), h_umwait_tpause, 1},
};

static struct {
	emu_handler fn;
	uint8_t aux;
} by_mnem[ZYDIS_MNEMONIC_MAX_VALUE + 1];
static uint8_t branch[ZYDIS_MNEMONIC_MAX_VALUE + 1];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
	for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) {
		by_mnem[table[i].mnem].fn = table[i].fn;
		by_mnem[table[i].mnem].aux = table[i].aux;
	}
	static const uint16_t br[] = {M(JMP), M(CALL), M(RET), M(JCXZ), M(JECXZ), M(JRCXZ), M(LOOP),
				      M(LOOPE), M(LOOPNE), M(INT), M(INT3), M(INTO), M(INT1), M(IRET), M(IRETD),
				      M(IRETQ), M(SYSCALL), M(SYSRET), M(SYSENTER), M(SYSEXIT), M(JO), M(JNO), M(JB),
				      M(JNB), M(JZ), M(JNZ), M(JBE), M(JNBE), M(JS), M(JNS), M(JP), M(JNP), M(JL),
				      M(JNL), M(JLE), M(JNLE), M(UD2), M(HLT), M(CPUID), M(VMCALL)};
	for (unsigned i = 0; i < sizeof br / sizeof br[0]; i++)
		branch[br[i]] = 1;
}

emu_handler emu_handler_for(unsigned mnemonic, uint8_t *aux)
{
	pthread_once(&once, build);
	if (mnemonic > ZYDIS_MNEMONIC_MAX_VALUE)
		return NULL;
	*aux = by_mnem[mnemonic].aux;
	return by_mnem[mnemonic].fn;
}

bool emu_is_branch(unsigned mnem)
{
	pthread_once(&once, build);
	return mnem <= ZYDIS_MNEMONIC_MAX_VALUE && branch[mnem];
}
