# SPDX-License-Identifier: MIT
# CLI features end to end against the emulator (tests/integration/cli): `listen --metrics`.
find_program(AZR_BASH bash)
if(AZR_BASH)
  azr_integration_test(cli_metrics COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/metrics_test.sh
    LABELS "integration;cli" TIMEOUT 120)
  set_tests_properties(cli_metrics PROPERTIES SKIP_RETURN_CODE 77)
endif()
