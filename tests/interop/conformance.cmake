# SPDX-License-Identifier: MIT
# scripts/azure-conformance.sh in CI (docs/TESTING-AZURE.md). conformance_emulator runs every check
# against an emulator the script starts, so the script that proves azrelay against Azure cannot rot.
# conformance_azure is the real run: without AZRELAY_CONFORMANCE_CS_* in the environment the script
# says SKIPPED and exits 77, which ctest lists as "Skipped" (never as a pass).
find_program(AZR_CONFORMANCE_BASH bash)
find_program(AZR_CONFORMANCE_NODE node)
if(NOT COMMAND azr_integration_test OR NOT TARGET azr_test_listener OR NOT AZR_CONFORMANCE_BASH
   OR NOT AZR_CONFORMANCE_NODE OR NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/node_modules/hyco-ws/package.json)
  message(STATUS "Conformance tests not registered: they need bash, node, azr_test_listener and "
                 "`npm ci` in ${CMAKE_CURRENT_SOURCE_DIR}")
  return()
endif()

set(_azr_conformance ${AZR_CONFORMANCE_BASH} ${PROJECT_SOURCE_DIR}/scripts/azure-conformance.sh)
# The script bounds each check itself and takes about a minute against the emulator.
azr_integration_test(conformance_emulator
  COMMAND ${_azr_conformance} --emulator --report ${CMAKE_CURRENT_BINARY_DIR}/conformance-emulator.md
  LABELS "conformance" TIMEOUT 300)
azr_integration_test(conformance_azure
  COMMAND ${_azr_conformance} --report ${CMAKE_CURRENT_BINARY_DIR}/conformance-azure.md
  LABELS "conformance;azure" TIMEOUT 1800)
set_tests_properties(conformance_azure PROPERTIES SKIP_RETURN_CODE 77)
foreach(_t conformance_emulator conformance_azure)
  set_property(TEST ${_t} APPEND PROPERTY ENVIRONMENT "AZR_TEST_LISTENER=$<TARGET_FILE:azr_test_listener>")
  if(AZR_SANITIZE)
    set_property(TEST ${_t} APPEND PROPERTY ENVIRONMENT "AZR_TEST_SANITIZED=1")
  endif()
endforeach()
