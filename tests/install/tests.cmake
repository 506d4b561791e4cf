# tests/install/tests.cmake: 'make install' works for clients: pkg-config (C, C++, static) and the CMake package.
add_test(NAME install_client
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_C_COMPILER} ${CMAKE_CXX_COMPILER})
set_tests_properties(install_client PROPERTIES LABELS "install" TIMEOUT 300)
