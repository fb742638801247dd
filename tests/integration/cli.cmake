# SPDX-License-Identifier: MIT
# CLI features end to end against the emulator (tests/integration/cli). Every case is a bash script
# that exits 77 when a tool it needs is missing (a loud skip; under CI=true a failure).

# azr_cli_test(NAME SCRIPT [ARGS...] LABELS labels...): tests/integration/cli/SCRIPT ARGS.
function(azr_cli_test name script)
  cmake_parse_arguments(C "" "" "LABELS" ${ARGN})
  azr_integration_test(${name} COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/${script} ${C_UNPARSED_ARGUMENTS}
    LABELS integration cli ${C_LABELS} TIMEOUT 120)
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77)
endfunction()

azr_cli_test(cli_metrics metrics_test.sh)
foreach(c usage refusals closes logging progress)
  azr_cli_test(cli_${c} behaviour_test.sh ${c})
endforeach()
azr_cli_test(cli_emulator behaviour_test.sh emulator LABELS security)
azr_cli_test(cli_emulator_gateway behaviour_test.sh gateway)
foreach(c http socks)
  azr_cli_test(cli_proxy_${c} proxy_test.sh ${c} LABELS proxy)
endforeach()
azr_cli_test(cli_systemd_unit systemd_test.sh LABELS security)
azr_cli_test(cli_manpage manpage_test.sh LABELS docs)

# --http-dir must not serve what lies outside its folder or is hidden (ctest -L security).
add_executable(azr_swap_symlink ${CMAKE_CURRENT_SOURCE_DIR}/cli/swap_symlink.c)
azr_program(azr_swap_symlink)
foreach(c dotfiles symlink_race)
  azr_cli_test(cli_http_dir_${c} http_dir_security_test.sh ${c} LABELS security)
endforeach()
set_property(TEST cli_http_dir_symlink_race APPEND PROPERTY ENVIRONMENT "AZR_SWAP_SYMLINK=$<TARGET_FILE:azr_swap_symlink>")

# The README's sample; the examples are defined after tests/ (generator expressions resolve later).
if(AZR_BUILD_EXAMPLES)
  azr_cli_test(cli_readme_sample readme_test.sh)
  set_property(TEST cli_readme_sample APPEND PROPERTY ENVIRONMENT
    "AZR_EXAMPLE_MINIMAL_LISTENER=$<TARGET_FILE:example_minimal_listener>")
endif()
