# SPDX-License-Identifier: MIT
# HTTP mode with our listener: `azrelay listen --http-echo/--http-dir`, `azrelay request` and the
# examples, against curl, Node https and hyco-https's client helpers through the emulator
# (http_listener.test.js). Registered only when interop.cmake's prerequisites (node, npm ci) are met.
find_program(AZR_HTTP_LISTENER_NODE node)
find_program(AZR_HTTP_LISTENER_CURL curl)
if(COMMAND azr_integration_test AND AZR_HTTP_LISTENER_NODE AND AZR_HTTP_LISTENER_CURL
   AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/node_modules/hyco-https/package.json
   AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/node_modules/ws/package.json)
  azr_integration_test(interop_http_listener
    COMMAND ${AZR_HTTP_LISTENER_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/lib/run-with-emulator.js --timeout 150
            --hc hc1,hc2,hc3 -- ${CMAKE_CURRENT_SOURCE_DIR}/http_listener.test.js
    LABELS "interop;http" TIMEOUT 180)
  # The examples are defined later (examples/ is added after tests/); generator expressions resolve
  # at generate time.
  if(AZR_BUILD_EXAMPLES)
    set_property(TEST interop_http_listener APPEND PROPERTY ENVIRONMENT
      "AZR_EXAMPLE_HTTP_LISTENER=$<TARGET_FILE:example_http_listener>"
      "AZR_EXAMPLE_ECHO_LISTENER=$<TARGET_FILE:example_echo_listener>")
  endif()
endif()
