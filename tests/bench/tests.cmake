# tests/bench/tests.cmake: bench_smoke: the benchmark driver in --quick mode writes a complete RESULTS-format file (no timing assertions).
find_program(HVX_PYTHON3 python3)
if(HVX_PYTHON3 AND HVX_NASM)
  add_test(NAME bench_smoke
    COMMAND ${HVX_PYTHON3} ${PROJECT_SOURCE_DIR}/bench/bench.py --quick --build ${CMAKE_BINARY_DIR}
            --out ${CMAKE_BINARY_DIR}/bench/RESULTS-smoke.md)
  set_tests_properties(bench_smoke PROPERTIES LABELS "bench" TIMEOUT 120)
endif()
