# tests/fuzz/tests.cmake: the emu libFuzzer target (only with -DHVX_FUZZ=ON and clang; `make fuzz` builds and runs it), and a replay of the saved regression inputs as a normal test.
option(HVX_FUZZ "Build the libFuzzer targets (clang)" OFF)
if(HVX_FUZZ)
  add_executable(emu_fuzz ${CMAKE_CURRENT_LIST_DIR}/emu_fuzz.c)
  target_compile_options(emu_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_options(emu_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_libraries(emu_fuzz PRIVATE hvx_static)
endif()

add_executable(emu_fuzz_replay ${CMAKE_CURRENT_LIST_DIR}/emu_fuzz.c ${CMAKE_CURRENT_LIST_DIR}/replay_main.c)
target_link_libraries(emu_fuzz_replay PRIVATE hvx_static)
add_test(NAME unit_emu_fuzz_replay COMMAND emu_fuzz_replay ${CMAKE_CURRENT_LIST_DIR}/regressions)
set_tests_properties(unit_emu_fuzz_replay PROPERTIES LABELS "unit;sanitize" TIMEOUT 300)
