# SPDX-License-Identifier: MIT
# Forwarding end to end (tests/integration/forward): connect --local-port -> emulator -> listen
# --forward -> redis-server / Node TCP peers, raw and azbridge mode. A case whose tools (redis-server,
# redis-tools, node) are missing exits 77 (skipped).
add_executable(azr_forward_probe ${CMAKE_CURRENT_SOURCE_DIR}/forward/azbridge_probe.c)
azr_program(azr_forward_probe)
target_link_libraries(azr_forward_probe PRIVATE azrelay_static azr::deps)
foreach(c redis redis_azbridge azbridge_bytes bulk reader_stops client_stops kill half_close relay_gone)
    azr_integration_test(forward_${c} COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/forward/forward_test.sh ${c}
      LABELS "integration;forward" TIMEOUT 300)
    set_tests_properties(forward_${c} PROPERTIES SKIP_RETURN_CODE 77)
    set_property(TEST forward_${c} APPEND PROPERTY ENVIRONMENT "AZR_FWD_PROBE=$<TARGET_FILE:azr_forward_probe>")
    if(AZR_NODE)
      set_property(TEST forward_${c} APPEND PROPERTY ENVIRONMENT "AZR_NODE=${AZR_NODE}")
    endif()
    if(AZR_SANITIZE)
      # Sanitized binaries are several times slower: 50 x 4 MB instead of 50 x 20 MB (1 GB).
      set_property(TEST forward_${c} APPEND PROPERTY ENVIRONMENT "AZR_FWD_BULK_BYTES=4000000")
    endif()
  endforeach()
