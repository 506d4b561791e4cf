# tests/fuzz/tests.cmake: the emu libFuzzer target (only with -DHVX_FUZZ=ON and clang; `make fuzz` builds and runs it).
option(HVX_FUZZ "Build the libFuzzer targets (clang)" OFF)
if(HVX_FUZZ)
  add_executable(emu_fuzz ${CMAKE_CURRENT_LIST_DIR}/emu_fuzz.c)
  target_compile_options(emu_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_options(emu_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_libraries(emu_fuzz PRIVATE hvx_static)
endif()
