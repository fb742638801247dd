# Interop tests: the emulator against Microsoft's Azure Relay Node packages (hyco-ws, hyco-https) and
# raw `ws` peers (see README.md). They need node and `npm ci` in this directory
# (tests/prerequisites.cmake: configure fails without them unless AZR_TEST_NODE is off). Emulator
# options here must match the constants the test files assume.
if(AZR_NODE)
  set(_azr_run ${AZR_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/lib/run-with-emulator.js)
  azr_integration_test(interop_ws_echo
    COMMAND ${_azr_run} --hc hc1 -- ${CMAKE_CURRENT_SOURCE_DIR}/ws_echo.test.js
    LABELS interop TIMEOUT 300)
  azr_integration_test(interop_ws_reject
    COMMAND ${_azr_run} --hc hc1,hc2,hc3 --set AcceptTimeoutMs=1500 -- ${CMAKE_CURRENT_SOURCE_DIR}/ws_reject.test.js
    LABELS interop TIMEOUT 300)
  azr_integration_test(interop_https
    COMMAND ${_azr_run} --hc hc1,hc2 --set HttpResponseTimeoutMs=3000 -- ${CMAKE_CURRENT_SOURCE_DIR}/https.test.js
    LABELS interop TIMEOUT 300)
  azr_integration_test(interop_auth
    COMMAND ${_azr_run} --config ${CMAKE_CURRENT_SOURCE_DIR}/lib/configs/auth.json -- ${CMAKE_CURRENT_SOURCE_DIR}/auth.test.js
    LABELS interop TIMEOUT 300)
endif()
