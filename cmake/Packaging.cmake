# SPDX-License-Identifier: MIT
# Installing azrelay (library, headers, CMake and pkg-config files, CLI, man pages, docs, examples,
# systemd unit) and the Debian package made from that install (`cpack -G DEB`).

# The archive is libazrelay.a, so `pkg-config --static` and `-l:libazrelay.a` find it by the
# library's name.
set_target_properties(azrelay_static PROPERTIES OUTPUT_NAME azrelay)
# An installed static library brings its dependencies along (azrelay-config.cmake defines
# azrelay::deps); in the build tree its users link azr::deps themselves.
target_link_libraries(azrelay_static INTERFACE $<INSTALL_INTERFACE:azrelay::deps>)

install(TARGETS azrelay azrelay_static EXPORT azrelayTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES include/azrelay.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/azrelay DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/azrelay/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/azrelay)

include(CMakePackageConfigHelpers)
set(AZR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/azrelay)
install(EXPORT azrelayTargets NAMESPACE azrelay:: DESTINATION ${AZR_CMAKE_DIR})
configure_package_config_file(cmake/azrelay-config.cmake.in ${PROJECT_BINARY_DIR}/azrelay-config.cmake
  INSTALL_DESTINATION ${AZR_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/azrelay-config-version.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/azrelay-config.cmake ${PROJECT_BINARY_DIR}/azrelay-config-version.cmake
  DESTINATION ${AZR_CMAKE_DIR})

# pkg-config: the prefix relative to the .pc file, so the file stays right wherever the tree lands.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(FATAL_ERROR "azrelay.pc needs a relative CMAKE_INSTALL_LIBDIR (got ${CMAKE_INSTALL_LIBDIR})")
endif()
file(RELATIVE_PATH AZR_PC_PREFIX_FROM_PCDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" AZR_PC_PREFIX_FROM_PCDIR "${AZR_PC_PREFIX_FROM_PCDIR}")
configure_file(cmake/azrelay.pc.in ${PROJECT_BINARY_DIR}/azrelay.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/azrelay.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Man pages, compressed as Debian installs them.
find_program(AZR_GZIP gzip REQUIRED)
set(AZR_MAN_PAGES azrelay.1 libazrelay.3)
set(AZR_MAN_OUTPUTS "")
foreach(page ${AZR_MAN_PAGES})
  set(out ${PROJECT_BINARY_DIR}/man/${page}.gz)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${AZR_GZIP} -9nc ${PROJECT_SOURCE_DIR}/docs/man/${page} > ${out}
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/${page} VERBATIM)
  list(APPEND AZR_MAN_OUTPUTS ${out})
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(azr_man_pages ALL DEPENDS ${AZR_MAN_OUTPUTS})

# Documentation, the license and the examples (with the CMakeLists that builds them against the
# installed package).
install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES examples/CMakeLists.txt examples/echo_listener.c examples/http_listener.c examples/minimal_listener.c
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# systemd: azrelay-listen@NAME.service. ExecStart names the installed binary, so the unit is made at
# install time, when the final prefix (cmake --install --prefix, or /usr in the Debian package) is
# known.
set(AZR_UNIT azrelay-listen@.service)
install(CODE "
  set(AZR_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/contrib/systemd/${AZR_UNIT}.in\" \"${PROJECT_BINARY_DIR}/contrib/${AZR_UNIT}\" @ONLY)
")
install(FILES ${PROJECT_BINARY_DIR}/contrib/${AZR_UNIT} DESTINATION lib/systemd/system)
install(FILES contrib/systemd/azrelay-listen.conf.example DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Debian package: `cpack -G DEB` in the build directory. One package with everything above; it
# depends on the shared libraries the binaries use (dpkg-shlibdeps) and on the -dev packages the
# headers, the static library, azrelay.pc and azrelay-config.cmake need.
set(CPACK_PACKAGE_NAME azrelay)
set(CPACK_PACKAGE_VENDOR "The azrelay authors")
set(CPACK_PACKAGE_CONTACT "azrelay maintainers <maintainers@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Azure Relay Hybrid Connections: listener library, CLI and local emulator")
set(CPACK_PACKAGE_DESCRIPTION "libazrelay is the listener role of Azure Relay Hybrid Connections as a C11 library. \
The azrelay command listens (echo, HTTP files, TCP forwarding), sends, signs tokens and runs a local \
emulator of the relay service.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libuv1-dev (>= 1.44), libcurl4-openssl-dev (>= 7.88), libssl-dev (>= 3.0), libcjson-dev (>= 1.7.13), libhttp-parser-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pkg-config, ca-certificates")
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\\\.git/" "/node_modules/")
include(CPack)
