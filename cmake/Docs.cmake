# SPDX-License-Identifier: MIT
# The API manual: Doxygen over the public headers (docs/Doxyfile.in, docs/api-mainpage.md).
#   cmake --build build --target docs     writes build/docs/api/html/index.html
# test_api_docs runs the same configuration and fails on any Doxygen warning (an undocumented
# declaration or parameter, a broken reference), so the manual cannot fall behind the headers.
find_program(AZR_DOXYGEN doxygen)

set(AZR_DOCS_OUTPUT_DIR ${PROJECT_BINARY_DIR}/docs/api)
set(AZR_DOXYFILE ${PROJECT_BINARY_DIR}/docs/Doxyfile)
configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${AZR_DOXYFILE} @ONLY)

if(AZR_DOXYGEN)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E make_directory ${AZR_DOCS_OUTPUT_DIR}
    COMMAND ${AZR_DOXYGEN} ${AZR_DOXYFILE}
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
    COMMENT "API manual: ${AZR_DOCS_OUTPUT_DIR}/html/index.html"
    VERBATIM)
  if(AZR_BUILD_TESTS)
    # Doxygen exits non-zero on any warning (WARN_AS_ERROR = FAIL_ON_WARNINGS) and prints each one.
    add_test(NAME test_api_docs
      COMMAND ${AZR_DOXYGEN} ${AZR_DOXYFILE}
      WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
    set_tests_properties(test_api_docs PROPERTIES LABELS "unit;docs" TIMEOUT 120)
  endif()
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "doxygen not found: scripts/install-deps.sh --all installs it"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
  if(AZR_BUILD_TESTS)
    message(WARNING "doxygen not found: test_api_docs (the API manual's zero-warning check) is NOT registered; "
                    "install it with scripts/install-deps.sh --all")
  endif()
endif()
