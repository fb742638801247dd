# SPDX-License-Identifier: MIT
# Acceptance tests of the listener: our library (azr_test_listener, tests/integration/listener/)
# against Microsoft's hyco-ws senders (and ws 8 for fragments) through the emulator. Registered
# unless AZR_TEST_NODE is off (tests/prerequisites.cmake). Emulator options must match what the
# test files assume (hybrid connection names, TokenGraceSeconds).
if(AZR_NODE)
  set(_azr_lst_run ${AZR_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/lib/run-with-emulator.js)
  set(_azr_lst_dir ${CMAKE_CURRENT_SOURCE_DIR})

  # azr_listener_interop(NAME EMULATOR_ARGS... -- TEST_FILE [TEST_ARGS...]); the runner kills a
  # test file after 120 s (each is designed for well under 90 s).
  function(azr_listener_interop name)
    azr_integration_test(${name} COMMAND ${_azr_lst_run} --timeout 120 ${ARGN} LABELS "interop;listener" TIMEOUT 150)
    set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT "AZR_TEST_LISTENER=$<TARGET_FILE:azr_test_listener>")
    if(AZR_SANITIZE)
      set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT "AZR_TEST_SANITIZED=1")
    endif()
  endfunction()

  azr_listener_interop(interop_listener_echo --hc hc1,hc2 -- ${_azr_lst_dir}/listener_echo.test.js)
  azr_listener_interop(interop_listener_reject --hc hc1,hc2,hc3,hc4 -- ${_azr_lst_dir}/listener_reject.test.js)
  azr_listener_interop(interop_listener_close --hc hc1,hc2 -- ${_azr_lst_dir}/listener_close.test.js)
  azr_listener_interop(interop_listener_flood --hc hc1 -- ${_azr_lst_dir}/listener_flood.test.js)
  azr_listener_interop(interop_listener_sendfile --hc hc1 -- ${_azr_lst_dir}/listener_sendfile.test.js)
  azr_listener_interop(interop_listener_many --hc hc1 -- ${_azr_lst_dir}/listener_many.test.js)
  azr_listener_interop(interop_listener_renewal --hc hc1,hc2 --set TokenGraceSeconds=1 -- ${_azr_lst_dir}/listener_renewal.test.js)
  azr_listener_interop(interop_listener_scale_out --hc hc1 -- ${_azr_lst_dir}/listener_scale_out.test.js)
  # Valgrind cannot run sanitized binaries; the ASan build checks memory itself.
  if(AZR_VALGRIND)
    azr_listener_interop(interop_listener_echo_valgrind --hc hc1,hc2 -- ${_azr_lst_dir}/listener_echo.test.js --valgrind)
    # The rest of the data path under valgrind too: close codes both ways, rejects and access lists,
    # SendFile (AZR_TEST_VALGRIND=1 wraps every listener a test file starts).
    foreach(_t close reject sendfile)
      if(_t STREQUAL "reject")
        set(_hcs hc1,hc2,hc3,hc4)
      elseif(_t STREQUAL "close")
        set(_hcs hc1,hc2)
      else()
        set(_hcs hc1)
      endif()
      azr_listener_interop(interop_listener_${_t}_valgrind --hc ${_hcs} -- ${_azr_lst_dir}/listener_${_t}.test.js)
      set_property(TEST interop_listener_${_t}_valgrind APPEND PROPERTY ENVIRONMENT "AZR_TEST_VALGRIND=1")
      set_property(TEST interop_listener_${_t}_valgrind APPEND PROPERTY LABELS valgrind)
    endforeach()
  endif()
endif()
