# SPDX-License-Identifier: MIT
# scripts/azure-conformance.sh in CI (docs/TESTING-AZURE.md): conformance_emulator runs every check
# against an emulator the script starts, so the script that proves azrelay against Azure cannot rot.
# The run against Azure itself is not a ctest: it needs credentials CI does not have, and a test that
# would only ever be skipped must not sit in the suite looking green. Run it by hand (the docs).
# Only the normal build runs it: the flows it drives are covered under ASan by the interop tests,
# and the sanitized run would add minutes to CI for no new check.
if(NOT AZR_NODE OR AZR_SANITIZE)
  return()
endif()

# The script bounds each check itself and takes about a minute against the emulator.
azr_integration_test(conformance_emulator
  COMMAND ${AZR_BASH} ${PROJECT_SOURCE_DIR}/scripts/azure-conformance.sh --emulator
          --report ${CMAKE_CURRENT_BINARY_DIR}/conformance-emulator.md
  LABELS "conformance" TIMEOUT 300)
set_property(TEST conformance_emulator APPEND PROPERTY ENVIRONMENT "AZR_TEST_LISTENER=$<TARGET_FILE:azr_test_listener>")
