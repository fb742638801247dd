# SPDX-License-Identifier: MIT
# Our listener against a hostile relay (lib/fake-relay.js): downgraded rendezvous addresses, accept
# and HTTP floods, requests without an address, secrets in level-3 logs. No emulator needed; the
# fake relay makes its own certificate with the openssl command.
if(AZR_NODE)
  add_test(NAME security_hostile_relay
           COMMAND ${AZR_NODE} --test --test-reporter=spec ${CMAKE_CURRENT_SOURCE_DIR}/hostile_relay.test.js)
  set_tests_properties(security_hostile_relay PROPERTIES LABELS "security;interop;listener" TIMEOUT 150
    ENVIRONMENT "AZR_TEST_LISTENER=$<TARGET_FILE:azr_test_listener>")
  if(AZR_SANITIZE)
    set_property(TEST security_hostile_relay APPEND PROPERTY ENVIRONMENT "AZR_TEST_SANITIZED=1")
  endif()
endif()
