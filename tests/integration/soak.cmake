# SPDX-License-Identifier: MIT
# A short run of the data-integrity soak (bench/soak.sh; the long runs are manual): many connections
# echoing both ways at once through the TLS emulator, and through `listen --forward` in plain mode,
# SHA-256 checked at both ends. Both directions busy at once is what once deadlocked the emulator's
# back-pressure, so it stays in CI, sized (500 MB, 150 MB under ASan) to keep both directions busy
# for tens of seconds without taking minutes of the CI budget. Needs node and `npm ci` in tests/interop.
if(AZR_NODE)
  if(AZR_SANITIZE)
    set(AZR_SOAK_TOTAL 150M)
  else()
    set(AZR_SOAK_TOTAL 500M)
  endif()
  azr_integration_test(soak_echo_tls COMMAND ${AZR_BASH} ${PROJECT_SOURCE_DIR}/bench/soak.sh --connections 20
    --total ${AZR_SOAK_TOTAL} --stall-seconds 30 --build $<TARGET_FILE_DIR:azrelay_cli>
    LABELS "integration;soak" TIMEOUT 300)
  azr_integration_test(soak_forward_plain COMMAND ${AZR_BASH} ${PROJECT_SOURCE_DIR}/bench/soak.sh --connections 20
    --total ${AZR_SOAK_TOTAL} --mode forward --plain --stall-seconds 30 --build $<TARGET_FILE_DIR:azrelay_cli>
    LABELS "integration;soak" TIMEOUT 300)
endif()
