# SPDX-License-Identifier: MIT
# HTTP mode with our listener: `azrelay listen --http-echo/--http-dir`, `azrelay request` and the
# examples, against curl, Node https and hyco-https's client helpers through the emulator
# (http_listener.test.js). Registered unless AZR_TEST_NODE is off (tests/prerequisites.cmake).
if(AZR_NODE)
  azr_integration_test(interop_http_listener
    COMMAND ${AZR_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/lib/run-with-emulator.js --timeout 150
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
