# SPDX-License-Identifier: MIT
# End-to-end tests of the listener's public C API: emulator, listeners and sender clients in one
# process, each on its own loop, pumped by the test (tests/integration/api/harness.c).
set(AZR_API_DIR ${CMAKE_CURRENT_SOURCE_DIR}/api)
function(azr_api_test name)
  add_executable(${name} ${AZR_API_DIR}/${name}.c ${AZR_API_DIR}/harness.c)
  azr_program(${name})
  target_include_directories(${name} PRIVATE ${AZR_API_DIR})
  target_link_libraries(${name} PRIVATE azrelay_static azr::deps PkgConfig::AZR_CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "integration;api" TIMEOUT 120)
  # The same test under memcheck: any invalid access or definite leak fails it. Sanitized builds
  # check memory themselves (and valgrind cannot run them).
  if(AZR_VALGRIND)
    add_test(NAME ${name}_valgrind
      COMMAND ${AZR_VALGRIND} -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
        --show-leak-kinds=definite $<TARGET_FILE:${name}>)
    set_tests_properties(${name}_valgrind PROPERTIES LABELS "integration;api;valgrind" TIMEOUT 300
      ENVIRONMENT "AZR_TEST_WAIT_SCALE=4")
  endif()
endfunction()

azr_api_test(test_api_lifecycle)
azr_api_test(test_api_conn)
azr_api_test(test_api_data)
azr_api_test(test_api_flow)
azr_api_test(test_api_tokens)
azr_api_test(test_api_tls)
azr_api_test(test_api_transport)
azr_api_test(test_api_uv_loop)
