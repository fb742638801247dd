# SPDX-License-Identifier: MIT
# Listener and sender through real proxies from Debian on loopback: tinyproxy (also behind stunnel4
# as an HTTPS proxy), squid (Basic, Digest, NTLM), dante (SOCKS4, SOCKS5, SOCKS5 with a password,
# SOCKS4A refused), OpenSSH's dynamic forwarding (SOCKS4/4A/5) and microsocks. A case whose proxy is
# not installed exits 77 (a loud skip; under CI=true a failure).
if(AZR_BASH)
  set(AZR_PROXY_CASES tinyproxy tinyproxy_autodetect tinyproxy_https proxy_down squid_basic squid_digest squid_ntlm
    dante_socks4 dante_socks5 dante_socks5_auth dante_socks4a_refused openssh_socks microsocks microsocks_auth
    microsocks_autodetect)
  foreach(c ${AZR_PROXY_CASES})
    azr_integration_test(proxy_${c} COMMAND ${AZR_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/proxy/proxy_test.sh ${c}
      LABELS "integration;proxy" TIMEOUT 180)
    set_tests_properties(proxy_${c} PROPERTIES SKIP_RETURN_CODE 77)
  endforeach()
endif()
