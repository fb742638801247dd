# SPDX-License-Identifier: MIT
# azr_test_listener: a listener built from the public API only, driven by the interop tests
# (tests/interop/listener_*.test.js) against Microsoft's hyco-ws senders through the emulator.
add_executable(azr_test_listener ${CMAKE_CURRENT_SOURCE_DIR}/listener/listener_driver.c)
azr_program(azr_test_listener)
target_link_libraries(azr_test_listener PRIVATE azrelay_static azr::deps)
