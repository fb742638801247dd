# SPDX-License-Identifier: MIT
# `azrelay token` checked independently with Node's crypto (no npm packages needed).
if(AZR_NODE)
  azr_integration_test(token_node_verify COMMAND ${AZR_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/token_verify.js TIMEOUT 60)
endif()
