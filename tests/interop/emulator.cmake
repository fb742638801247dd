# SPDX-License-Identifier: MIT
# The emulator's own behaviour against raw peers (`ws`, TCP sockets) and Microsoft's Node packages:
# production fidelity (docs/EMULATOR.md) and hardening (docs/SECURITY.md, ctest label `security`).
# Registered unless AZR_TEST_NODE is off (tests/prerequisites.cmake).
if(AZR_NODE)
  set(_azr_emu_run ${AZR_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/lib/run-with-emulator.js --timeout 100)
  set(_azr_emu_dir ${CMAKE_CURRENT_SOURCE_DIR})
  # azr_emulator_test(NAME LABELS... -- RUNNER_ARGS...)
  function(azr_emulator_test name)
    cmake_parse_arguments(E "" "" "LABELS;ARGS" ${ARGN})
    azr_integration_test(${name} COMMAND ${_azr_emu_run} ${E_ARGS} LABELS "interop;emulator;${E_LABELS}" TIMEOUT 130)
  endfunction()

  azr_emulator_test(emu_strict ARGS --hc hc1,hc2 --set NamespaceAliases=alias.test -- ${_azr_emu_dir}/emu_strict.test.js)
  azr_emulator_test(emu_gateway_default ARGS --hc hc1 -- ${_azr_emu_dir}/emu_gateway.test.js default)
  azr_emulator_test(emu_gateway_listener
    ARGS --hc hc1 --set GatewayHost=listener -- ${_azr_emu_dir}/emu_gateway.test.js listener)
  azr_emulator_test(emu_gateway_named
    ARGS --hc hc1 --set GatewayHost=gw.example -- ${_azr_emu_dir}/emu_gateway.test.js named)
  # Gateways: hyco-ws listener at the home, hyco-ws senders at a second emulator process.
  azr_emulator_test(emu_gateways ARGS --plain --hc hc1 --set GatewaySecret=interop-gateway-secret-0123
    -- ${_azr_emu_dir}/emu_gateways.test.js interop-gateway-secret-0123)
  azr_emulator_test(emu_request_address_with ARGS --hc hc1,hc2 -- ${_azr_emu_dir}/emu_request_address.test.js with)
  azr_emulator_test(emu_request_address_without
    ARGS --hc hc1,hc2 --set RendezvousRequestAddress=false -- ${_azr_emu_dir}/emu_request_address.test.js without raw)
  # Our listener answers a request delivered on a rendezvous without "address" (.NET never reads it there).
  azr_emulator_test(emu_request_address_without_ours
    ARGS --hc hc1,hc2 --set RendezvousRequestAddress=false -- ${_azr_emu_dir}/emu_request_address.test.js without ours)
  azr_emulator_test(emu_idle_blackhole
    ARGS --hc hc1,hc2 --set IdleTimeoutMs=1500 -- ${_azr_emu_dir}/emu_idle.test.js blackhole)
  azr_emulator_test(emu_idle_reset
    ARGS --hc hc1,hc2 --set IdleTimeoutMs=1500 --set IdleTimeoutAction=reset -- ${_azr_emu_dir}/emu_idle.test.js reset)
  azr_emulator_test(emu_http_rendezvous_reuse ARGS --hc hc1 -- ${_azr_emu_dir}/emu_http_rendezvous_reuse.test.js)
  azr_emulator_test(emu_relay_directions ARGS --hc hc1 -- ${_azr_emu_dir}/emu_relay_directions.test.js)
  azr_emulator_test(emu_faults
    ARGS --hc hc1 --set LatencyMs=800 --set RendezvousDelayMs=800 -- ${_azr_emu_dir}/emu_faults.test.js)

  azr_emulator_test(sec_fd_exhaustion LABELS security
    ARGS --ulimit-n 256 --hc hc1 --set RequestHeadTimeoutMs=3000 -- ${_azr_emu_dir}/sec_fd_exhaustion.test.js)
  azr_emulator_test(sec_pending_connections LABELS security
    ARGS --hc hc1,hc2 --set MaxConnections=120 --set MaxPendingConnectionsPerAddress=40
         -- ${_azr_emu_dir}/sec_pending_connections.test.js)
  azr_emulator_test(sec_http_keepalive LABELS security
    ARGS --hc hc1 --set RequestHeadTimeoutMs=1000 --set HttpKeepAliveTimeoutMs=4000
         -- ${_azr_emu_dir}/sec_http_keepalive.test.js)
  azr_emulator_test(sec_ping_flood LABELS security ARGS --hc hc1,hc2 -- ${_azr_emu_dir}/sec_ping_flood.test.js)
  if(AZR_SANITIZE)
    # The test bounds the emulator's RSS; ASan keeps freed blocks in a quarantine (256 MiB by default)
    # that counts as RSS and grows with every pong freed, so keep it small (as forward_test.sh does).
    set_property(TEST sec_ping_flood APPEND PROPERTY ENVIRONMENT
      "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=8")
  endif()
  # These measure the emulator's CPU and memory while flooding it: alone, so that they neither
  # disturb timing-sensitive tests (valgrind runs) nor get their numbers from other tests' load.
  set_tests_properties(sec_fd_exhaustion sec_pending_connections sec_ping_flood PROPERTIES RUN_SERIAL TRUE)
  azr_emulator_test(sec_rendezvous_ids LABELS security
    ARGS --hc hc1 --set LatencyMs=1500 -- ${_azr_emu_dir}/sec_rendezvous_ids.test.js)
  azr_emulator_test(sec_slow_reader LABELS security
    ARGS --hc hc1 --set HttpResponseTimeoutMs=1000 -- ${_azr_emu_dir}/sec_slow_reader.test.js)
endif()
