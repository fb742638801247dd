# Interop tests: the emulator against Microsoft's Azure Relay Node packages (hyco-ws, hyco-https) and
# raw `ws` peers (see README.md). They need node and `npm ci` in this directory; without the packages
# nothing is registered. Emulator options here must match the constants the test files assume.
find_program(AZR_INTEROP_NODE node)
set(_azr_interop_missing "")
foreach(_pkg hyco-ws hyco-https ws)
  if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/node_modules/${_pkg}/package.json)
    list(APPEND _azr_interop_missing ${_pkg})
  endif()
endforeach()

if(NOT COMMAND azr_integration_test)
  message(STATUS "Interop tests not registered: azr_integration_test() is not defined")
elseif(NOT AZR_INTEROP_NODE)
  message(STATUS "Interop tests not registered: node was not found")
elseif(_azr_interop_missing)
  list(JOIN _azr_interop_missing ", " _azr_interop_missing)
  message(STATUS "Interop tests not registered: Node packages missing (${_azr_interop_missing}); "
                 "run `npm ci` in ${CMAKE_CURRENT_SOURCE_DIR}, then re-run cmake")
else()
  set(_azr_run ${AZR_INTEROP_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/lib/run-with-emulator.js)
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
