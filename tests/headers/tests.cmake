# tests/headers/tests.cmake: header tests for include/Hypervisor (constant table, form, types, prototypes, include matrix per compiler/standard, assembler safety, name set); none needs libhvx.
set(HVX_HEADERS_TESTDIR ${CMAKE_CURRENT_LIST_DIR})
set(HVX_HEADERS_INCLUDE ${PROJECT_SOURCE_DIR}/include)
set(HVX_HEADERS_WORK ${CMAKE_CURRENT_BINARY_DIR}/headers)

# The constant table checked with the project's own flags (also in the sanitizer build); links nothing but libc.
add_executable(headers_constants ${HVX_HEADERS_TESTDIR}/constants_test.c)
target_include_directories(headers_constants PRIVATE ${HVX_HEADERS_INCLUDE} ${HVX_HEADERS_TESTDIR})
add_test(NAME headers_constants COMMAND headers_constants)
set_tests_properties(headers_constants PROPERTIES LABELS "headers;sanitize" TIMEOUT 60)

# One test per compiler and language standard; the script compiles ~45 small TUs and skips (77) if the compiler is missing.
foreach(combo
    "gcc;c;c99" "gcc;c;c11" "gcc;c;c17"
    "clang;c;c99" "clang;c;c11" "clang;c;c17"
    "g++;c++;c++11" "g++;c++;c++17"
    "clang++;c++;c++11" "clang++;c++;c++17")
  list(GET combo 0 cc)
  list(GET combo 1 lang)
  list(GET combo 2 std)
  string(REPLACE "+" "x" ccname ${cc})
  string(REPLACE "+" "x" stdname ${std})
  set(name headers_compile_${ccname}_${stdname})
  add_test(NAME ${name}
    COMMAND bash ${HVX_HEADERS_TESTDIR}/run_matrix.sh ${cc} ${lang} ${std}
      ${HVX_HEADERS_INCLUDE} ${HVX_HEADERS_TESTDIR} ${HVX_HEADERS_WORK}/${name})
  set_tests_properties(${name} PROPERTIES LABELS "headers" SKIP_RETURN_CODE 77 TIMEOUT 120)
endforeach()

foreach(cc gcc clang)
  add_test(NAME headers_asm_${cc}
    COMMAND bash ${HVX_HEADERS_TESTDIR}/run_asm.sh ${cc}
      ${HVX_HEADERS_INCLUDE} ${HVX_HEADERS_TESTDIR} ${HVX_HEADERS_WORK}/asm_${cc})
  set_tests_properties(headers_asm_${cc} PROPERTIES LABELS "headers" SKIP_RETURN_CODE 77 TIMEOUT 60)
endforeach()

add_test(NAME headers_names
  COMMAND bash ${HVX_HEADERS_TESTDIR}/run_names.sh gcc
    ${HVX_HEADERS_INCLUDE} ${HVX_HEADERS_TESTDIR} ${HVX_HEADERS_WORK}/names)
set_tests_properties(headers_names PROPERTIES LABELS "headers" SKIP_RETURN_CODE 77 TIMEOUT 60)
