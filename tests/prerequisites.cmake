# SPDX-License-Identifier: MIT
# What the test suites need, found once at configure time. A missing prerequisite stops the configure
# step with what to install: a suite that quietly is not registered looks exactly like a suite that
# passed. scripts/install-deps.sh --all installs everything below. To leave a suite out on purpose,
# turn its option off; the configure output then lists what is left out, and the FEATURES check
# (test_config_features_doc) accepts their names only in such a build.
option(AZR_TEST_NODE "Register the suites that run Node.js and Microsoft's packages (needs `npm ci` in tests/interop)" ON)
option(AZR_TEST_VALGRIND "Also run the C API and listener tests under valgrind (normal builds only)" ON)
set(AZR_TESTS_LEFT_OUT "")

# azr_require_program(VAR PROGRAM WHY): the full path of PROGRAM in VAR, or a configure error.
function(azr_require_program var program why)
  find_program(${var}_PROGRAM ${program})
  if(NOT ${var}_PROGRAM)
    message(FATAL_ERROR "${program} was not found; the tests need it for ${why}. "
                        "Run scripts/install-deps.sh --all (Debian) or install it, then re-run cmake.")
  endif()
  set(${var} ${${var}_PROGRAM} PARENT_SCOPE)
endfunction()

azr_require_program(AZR_BASH bash "the CLI, forwarding, proxy and soak suites")
# curl and openssl only have to be there: the test programs and scripts run them from PATH.
azr_require_program(AZR_CURL curl "HTTP mode against a real client")
azr_require_program(AZR_OPENSSL openssl "test certificates")

if(AZR_TEST_NODE)
  azr_require_program(AZR_NODE node "the interop, listener, emulator, fault and soak suites")
  set(_azr_missing "")
  foreach(_pkg hyco-ws hyco-https ws)
    if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/interop/node_modules/${_pkg}/package.json)
      list(APPEND _azr_missing ${_pkg})
    endif()
  endforeach()
  if(_azr_missing)
    list(JOIN _azr_missing ", " _azr_missing)
    message(FATAL_ERROR "Node packages missing (${_azr_missing}): run `npm ci` in ${CMAKE_CURRENT_SOURCE_DIR}/interop "
                        "and re-run cmake, or configure with -DAZR_TEST_NODE=OFF to leave the Node suites out.")
  endif()
else()
  set(AZR_NODE "")
  list(APPEND AZR_TESTS_LEFT_OUT node)
  message(WARNING "AZR_TEST_NODE=OFF: the interop, listener, emulator, security, fault, soak, conformance and "
                  "token suites are NOT registered in this build")
endif()

set(AZR_VALGRIND "")
if(AZR_TEST_VALGRIND AND NOT AZR_SANITIZE)
  azr_require_program(AZR_VALGRIND valgrind "the memcheck runs of the C API and listener tests")
elseif(NOT AZR_TEST_VALGRIND)
  list(APPEND AZR_TESTS_LEFT_OUT valgrind)
  message(WARNING "AZR_TEST_VALGRIND=OFF: the *_valgrind tests are NOT registered in this build")
endif()
