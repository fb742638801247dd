# SPDX-License-Identifier: MIT
# The emulator's production-fidelity behaviour with our own listener and client in one process
# (the public-API harness of tests/integration/api): the idle cut-off (docs/EMULATOR.md).
set(AZR_EMU_API_DIR ${CMAKE_CURRENT_SOURCE_DIR}/api)
function(azr_emulator_api_test name source)
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/emulator/${source} ${AZR_EMU_API_DIR}/harness.c)
  azr_program(${name})
  target_include_directories(${name} PRIVATE ${AZR_EMU_API_DIR})
  target_link_libraries(${name} PRIVATE azrelay_static azr::deps PkgConfig::AZR_CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "integration;emulator" TIMEOUT 120)
endfunction()

azr_emulator_api_test(test_emulator_idle test_idle_cutoff.c)
# An accepted connection kept alive through the cut-off by the listener's keep-alive frames, which
# every WebSocket it opens sends (AzureRelayKeepAliveTime).
azr_emulator_api_test(test_emulator_idle_keepalive test_idle_cutoff.c)
target_compile_definitions(test_emulator_idle_keepalive PRIVATE AZR_IDLE_KEEPALIVE)
# Gateways: senders and rendezvous at one emulator, listeners at its home (docs/EMULATOR.md).
azr_emulator_api_test(test_emulator_gateway test_gateway.c)
