# SPDX-License-Identifier: MIT
# Fault tests (issue "Resilience and security"): azr_test_listener against the emulator on loopback
# while the relay is killed and restarted, paused, cut mid-message; a forwarded-to service refusing;
# SendFile read errors (an LD_PRELOAD shim injects EIO mid-file). Needs node and ws 8 from
# `npm ci` in tests/interop (tests/prerequisites.cmake). Each case takes 10-40 s.
if(AZR_NODE)
  # The read-error shim: unsanitized (it is preloaded into sanitized programs too), default visibility.
  add_library(azr_fault_eio MODULE ${CMAKE_CURRENT_SOURCE_DIR}/fault/eio_preload.c)
  set_target_properties(azr_fault_eio PROPERTIES C_VISIBILITY_PRESET default PREFIX "")
  target_compile_definitions(azr_fault_eio PRIVATE _GNU_SOURCE)
  target_link_libraries(azr_fault_eio PRIVATE ${CMAKE_DL_LIBS})
  azr_warnings(azr_fault_eio)

  set(AZR_FAULT_CASES relay_kill_restart relay_sigstop rendezvous_dropped_mid_message forward_refused
    sendfile_unreadable sendfile_truncated)
  foreach(c ${AZR_FAULT_CASES})
    azr_integration_test(fault_${c} COMMAND ${AZR_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/fault/fault_test.js ${c}
      LABELS "integration;fault" TIMEOUT 300)
    set_tests_properties(fault_${c} PROPERTIES SKIP_RETURN_CODE 77)
    # $<TARGET_FILE:...> resolves at generate time, so azr_test_listener (listener.cmake, included
    # after this file) may be defined later.
    set_property(TEST fault_${c} APPEND PROPERTY ENVIRONMENT
      "AZR_TEST_LISTENER=$<TARGET_FILE:azr_test_listener>" "AZR_FAULT_EIO_PRELOAD=$<TARGET_FILE:azr_fault_eio>")
    if(AZR_SANITIZE)
      set_property(TEST fault_${c} APPEND PROPERTY ENVIRONMENT "AZR_TEST_SANITIZED=1")
    endif()
  endforeach()
endif()
