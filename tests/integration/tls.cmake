# SPDX-License-Identifier: MIT
# The listener's TLS settings (versions, suites, groups, CA sources, pinning, verification flags)
# against the emulator's TLS server, checked through SSLNegotiated* and the refusals.
add_executable(azr_test_tls_options ${CMAKE_CURRENT_SOURCE_DIR}/tls/test_tls_options.c)
azr_program(azr_test_tls_options)
target_link_libraries(azr_test_tls_options PRIVATE azrelay_static azr::deps)
azr_integration_test(tls_options COMMAND $<TARGET_FILE:azr_test_tls_options> LABELS "integration;tls" TIMEOUT 180)
set_tests_properties(tls_options PROPERTIES SKIP_RETURN_CODE 77)
