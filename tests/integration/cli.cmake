# SPDX-License-Identifier: MIT
# CLI features end to end against the emulator (tests/integration/cli).
find_program(AZR_BASH bash)
if(AZR_BASH)
  azr_integration_test(cli_metrics COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/metrics_test.sh
    LABELS "integration;cli" TIMEOUT 120)
  set_tests_properties(cli_metrics PROPERTIES SKIP_RETURN_CODE 77)

  add_executable(azr_swap_symlink ${CMAKE_CURRENT_SOURCE_DIR}/cli/swap_symlink.c)
  azr_program(azr_swap_symlink)
  foreach(c dotfiles symlink_race)
    azr_integration_test(cli_http_dir_${c} COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/http_dir_security_test.sh ${c}
      LABELS "integration;cli;security" TIMEOUT 180)
    set_tests_properties(cli_http_dir_${c} PROPERTIES SKIP_RETURN_CODE 77)
  endforeach()
  set_property(TEST cli_http_dir_symlink_race APPEND PROPERTY ENVIRONMENT "AZR_SWAP_SYMLINK=$<TARGET_FILE:azr_swap_symlink>")
endif()
if(AZR_BASH)
  foreach(c usage refusals closes logging progress emulator)
    azr_integration_test(cli_${c} COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/behaviour_test.sh ${c}
      LABELS "integration;cli" TIMEOUT 120)
    set_tests_properties(cli_${c} PROPERTIES SKIP_RETURN_CODE 77)
  endforeach()
  set_property(TEST cli_emulator APPEND PROPERTY LABELS security)
endif()
if(AZR_BASH)
  foreach(c http socks)
    azr_integration_test(cli_proxy_${c} COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/proxy_test.sh ${c}
      LABELS "integration;cli;proxy" TIMEOUT 120)
    set_tests_properties(cli_proxy_${c} PROPERTIES SKIP_RETURN_CODE 77)
  endforeach()
endif()
if(AZR_BASH)
  azr_integration_test(cli_systemd_unit COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/systemd_test.sh
    LABELS "integration;cli;security" TIMEOUT 120)
  set_tests_properties(cli_systemd_unit PROPERTIES SKIP_RETURN_CODE 77)
endif()
# The examples are defined after tests/; generator expressions resolve at generate time.
if(AZR_BASH AND AZR_BUILD_EXAMPLES)
  azr_integration_test(cli_readme_sample COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/readme_test.sh
    LABELS "integration;cli" TIMEOUT 120)
  set_property(TEST cli_readme_sample APPEND PROPERTY ENVIRONMENT
    "AZR_EXAMPLE_MINIMAL_LISTENER=$<TARGET_FILE:example_minimal_listener>")
endif()
if(AZR_BASH)
  azr_integration_test(cli_manpage COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/manpage_test.sh
    LABELS "integration;cli;docs" TIMEOUT 60)
  set_tests_properties(cli_manpage PROPERTIES SKIP_RETURN_CODE 77)
endif()
