# Interop tests: the emulator against Microsoft's Azure Relay Node packages (hyco-ws, hyco-https) and
# raw `ws` peers. The list of tests and their emulator options lives in lib/suite.json (shared with
# lib/run-all.js). Needs node and `npm ci` in this directory; otherwise nothing is registered.
find_program(AZR_INTEROP_NODE node)
set(_azr_interop_dir ${CMAKE_CURRENT_SOURCE_DIR})
set(_azr_interop_missing "")
foreach(_pkg hyco-ws hyco-https ws)
  if(NOT EXISTS ${_azr_interop_dir}/node_modules/${_pkg}/package.json)
    list(APPEND _azr_interop_missing ${_pkg})
  endif()
endforeach()

if(NOT COMMAND azr_integration_test)
  message(STATUS "Interop tests not registered: azr_integration_test() is not defined")
elseif(NOT AZR_INTEROP_NODE)
  message(STATUS "Interop tests not registered: node was not found")
elseif(_azr_interop_missing)
  message(STATUS "Interop tests not registered: Node packages missing (${_azr_interop_missing}); "
                 "run `npm ci` in ${_azr_interop_dir}, then re-run cmake")
else()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_azr_interop_dir}/lib/suite.json)
  file(READ ${_azr_interop_dir}/lib/suite.json _azr_suite)
  string(JSON _n LENGTH "${_azr_suite}" tests)
  math(EXPR _last "${_n} - 1")
  foreach(_i RANGE ${_last})
    string(JSON _name GET "${_azr_suite}" tests ${_i} name)
    string(JSON _nargs LENGTH "${_azr_suite}" tests ${_i} emulator)
    set(_args "")
    if(_nargs GREATER 0)
      math(EXPR _alast "${_nargs} - 1")
      foreach(_j RANGE ${_alast})
        string(JSON _a GET "${_azr_suite}" tests ${_i} emulator ${_j})
        list(APPEND _args "${_a}")
      endforeach()
    endif()
    azr_integration_test(interop_${_name}
      COMMAND ${AZR_INTEROP_NODE} ${_azr_interop_dir}/lib/run-with-emulator.js ${_args}
              -- ${_azr_interop_dir}/${_name}.test.js
      LABELS interop
      TIMEOUT 300)
  endforeach()
endif()
