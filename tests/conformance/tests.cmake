# tests/conformance/tests.cmake: the exit-conformance suite: NASM guests, the driver, one CTest test per (backend, exit reason), the hvdos-style client.
find_program(NASM_EXECUTABLE nasm REQUIRED)
set(HVX_CONF_SRC ${CMAKE_CURRENT_LIST_DIR})
set(HVX_CONF_BIN ${CMAKE_CURRENT_BINARY_DIR}/conformance_build)

# Guests: every guests/*.asm becomes a flat binary in the build tree.
file(GLOB HVX_CONF_GUESTS CONFIGURE_DEPENDS ${HVX_CONF_SRC}/guests/*.asm)
set(HVX_CONF_GUEST_BINS)
foreach(asm ${HVX_CONF_GUESTS})
  get_filename_component(stem ${asm} NAME_WE)
  set(bin ${HVX_CONF_BIN}/guests/${stem}.bin)
  add_custom_command(OUTPUT ${bin}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${HVX_CONF_BIN}/guests
    COMMAND ${NASM_EXECUTABLE} -f bin -I ${HVX_CONF_SRC}/guests/ -o ${bin} ${asm}
    DEPENDS ${asm} ${HVX_CONF_SRC}/guests/common.inc
    COMMENT "Assembling conformance guest ${stem}")
  list(APPEND HVX_CONF_GUEST_BINS ${bin})
endforeach()
add_custom_target(conformance_guests ALL DEPENDS ${HVX_CONF_GUEST_BINS})

add_executable(conformance
  ${HVX_CONF_SRC}/conformance.c ${HVX_CONF_SRC}/harness.c
  ${HVX_CONF_SRC}/cases_insn.c ${HVX_CONF_SRC}/cases_event.c ${HVX_CONF_SRC}/cases_mem.c
  ${HVX_CONF_SRC}/cases_misc.c ${HVX_CONF_SRC}/cases_apic.c
  ${HVX_CONF_SRC}/cases_smm.c ${HVX_CONF_SRC}/cases_activity.c)
target_include_directories(conformance PRIVATE ${HVX_CONF_SRC})
target_compile_definitions(conformance PRIVATE CONF_GUEST_DIR="${HVX_CONF_BIN}/guests")
target_link_libraries(conformance PRIVATE hvx_static Threads::Threads)
add_dependencies(conformance conformance_guests)

# A client written like a macOS VMM: Apple's headers only, run under the driver's skip rules.
add_executable(hvdos_style ${HVX_CONF_SRC}/hvdos_style.c)
target_compile_definitions(hvdos_style PRIVATE HVDOS_COM_PATH="${HVX_CONF_BIN}/guests/hvdos_hello.bin")
target_link_libraries(hvdos_style PRIVATE hvx)
add_dependencies(hvdos_style conformance_guests)

# Apple's 65 reason names (VMX_REASON_*), in number order; docs/exit-matrix.md has one row per name.
set(HVX_CONF_REASONS
  EXC_NMI IRQ TRIPLE_FAULT INIT SIPI IO_SMI OTHER_SMI IRQ_WND VIRTUAL_NMI_WND TASK CPUID GETSEC HLT INVD
  INVLPG RDPMC RDTSC RSM VMCALL VMCLEAR VMLAUNCH VMPTRLD VMPTRST VMREAD VMRESUME VMWRITE VMOFF VMON MOV_CR
  MOV_DR IO RDMSR WRMSR VMENTRY_GUEST VMENTRY_MSR MWAIT MTF MONITOR PAUSE VMENTRY_MC TPR_THRESHOLD
  APIC_ACCESS VIRTUALIZED_EOI GDTR_IDTR LDTR_TR EPT_VIOLATION EPT_MISCONFIG EPT_INVEPT RDTSCP
  VMX_TIMER_EXPIRED INVVPID WBINVD XSETBV APIC_WRITE RDRAND INVPCID VMFUNC ENCLS RDSEED PML_FULL XSAVES
  XRSTORS SPP_EVENT UMWAIT TPAUSE)

foreach(backend emu kvm)
  if(backend STREQUAL "emu")
    set(labels "conformance;sanitize")
  else()
    set(labels "conformance;kvm")
  endif()
  foreach(reason ${HVX_CONF_REASONS})
    add_test(NAME conformance_${backend}_${reason} COMMAND conformance --backend ${backend} --reason ${reason})
    set_tests_properties(conformance_${backend}_${reason} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS "${labels}")
  endforeach()
  add_test(NAME conformance_${backend}_hvdos_style
    COMMAND conformance --backend ${backend} --run-client $<TARGET_FILE:hvdos_style> --needs EXC_NMI)
  set_tests_properties(conformance_${backend}_hvdos_style PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS "${labels}")
endforeach()
