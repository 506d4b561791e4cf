# tests/kvm_guests/tests.cmake: NASM flat-binary guests of the kvm backend tests and benchmark.
find_program(HVX_NASM nasm REQUIRED)
set(HVX_KVM_GUEST_DIR ${CMAKE_BINARY_DIR}/tests/kvm_guests)
file(MAKE_DIRECTORY ${HVX_KVM_GUEST_DIR})
set(HVX_KVM_GUEST_BINS)
foreach(g io io_smc io_remap io_segs bench)
  add_custom_command(OUTPUT ${HVX_KVM_GUEST_DIR}/${g}.bin
    COMMAND ${HVX_NASM} -f bin -o ${HVX_KVM_GUEST_DIR}/${g}.bin ${CMAKE_CURRENT_LIST_DIR}/${g}.asm
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/${g}.asm
    COMMENT "nasm ${g}.asm")
  list(APPEND HVX_KVM_GUEST_BINS ${HVX_KVM_GUEST_DIR}/${g}.bin)
endforeach()
add_custom_target(hvx_kvm_guests ALL DEPENDS ${HVX_KVM_GUEST_BINS})
foreach(t test_kvm_io)
  if(TARGET ${t})
    add_dependencies(${t} hvx_kvm_guests)
    target_compile_definitions(${t} PRIVATE HVX_KVM_GUEST_DIR="${HVX_KVM_GUEST_DIR}")
  endif()
endforeach()
