# tests/guests/tests.cmake: NASM guest programs for the emu tests (flat binaries in the build tree) and their wiring into the test_emu_* programs.
find_program(NASM_EXECUTABLE nasm REQUIRED)
set(HVX_GUEST_BIN ${CMAKE_BINARY_DIR}/tests/guests)
file(GLOB HVX_EMU_GUESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.asm)
set(HVX_EMU_GUEST_BINS)
foreach(asm ${HVX_EMU_GUESTS})
  get_filename_component(stem ${asm} NAME_WE)
  set(bin ${HVX_GUEST_BIN}/${stem}.bin)
  add_custom_command(OUTPUT ${bin}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${HVX_GUEST_BIN}
    COMMAND ${NASM_EXECUTABLE} -f bin -o ${bin} ${asm}
    DEPENDS ${asm}
    COMMENT "Assembling emu guest ${stem}")
  list(APPEND HVX_EMU_GUEST_BINS ${bin})
endforeach()
# A freestanding C workload compiled for a 64-bit guest (x86-64 hosts: the test compares it with the same code run natively).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(wl ${CMAKE_CURRENT_LIST_DIR}/c)
  set(wl_flags -O2 -ffreestanding -fno-builtin -fno-pic -fno-pie -nostdlib -static -mno-red-zone
    -fno-stack-protector -fcf-protection=none -Wl,-Ttext=0x10000 -Wl,-e,_start -Wl,--build-id=none)
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    list(APPEND wl_flags -fno-tree-loop-distribute-patterns -no-pie)
  endif()
  add_custom_command(OUTPUT ${HVX_GUEST_BIN}/workload.bin
    COMMAND ${CMAKE_COMMAND} -E make_directory ${HVX_GUEST_BIN}
    COMMAND ${CMAKE_C_COMPILER} ${wl_flags} -o ${HVX_GUEST_BIN}/workload.elf ${wl}/start.S ${wl}/workload.c ${wl}/libc.c
    COMMAND ${CMAKE_OBJCOPY} -O binary ${HVX_GUEST_BIN}/workload.elf ${HVX_GUEST_BIN}/workload.bin
    DEPENDS ${wl}/start.S ${wl}/workload.c ${wl}/libc.c
    COMMENT "Compiling the C workload guest")
  list(APPEND HVX_EMU_GUEST_BINS ${HVX_GUEST_BIN}/workload.bin)
endif()
add_custom_target(emu_guests ALL DEPENDS ${HVX_EMU_GUEST_BINS})

find_package(zydis REQUIRED)

# Every tests/unit/test_emu_*.c program finds the guests through HVX_GUEST_DIR.
file(GLOB HVX_EMU_TESTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/test_emu_*.c)
foreach(src ${HVX_EMU_TESTS})
  get_filename_component(name ${src} NAME_WE)
  if(TARGET ${name})
    add_dependencies(${name} emu_guests)
    target_compile_definitions(${name} PRIVATE HVX_GUEST_DIR="${HVX_GUEST_BIN}")
    target_link_libraries(${name} PRIVATE Zydis::Zydis)
  endif()
endforeach()
