# Third-party dependencies, all from Debian 12 packages, gathered into one target azr::deps.
find_package(PkgConfig REQUIRED)
pkg_check_modules(AZR_UV REQUIRED IMPORTED_TARGET libuv>=1.44)
pkg_check_modules(AZR_CURL REQUIRED IMPORTED_TARGET libcurl>=7.88)
pkg_check_modules(AZR_SSL REQUIRED IMPORTED_TARGET openssl>=3.0)
pkg_check_modules(AZR_CJSON REQUIRED IMPORTED_TARGET libcjson>=1.7.13)
# libhttp-parser-dev ships neither a .pc nor a CMake config.
find_path(AZR_HTTP_PARSER_INCLUDE http_parser.h REQUIRED)
find_library(AZR_HTTP_PARSER_LIB http_parser REQUIRED)

add_library(azr_deps INTERFACE)
target_link_libraries(azr_deps INTERFACE PkgConfig::AZR_UV PkgConfig::AZR_CURL PkgConfig::AZR_SSL
  PkgConfig::AZR_CJSON ${AZR_HTTP_PARSER_LIB} m)
target_include_directories(azr_deps INTERFACE ${AZR_HTTP_PARSER_INCLUDE})
add_library(azr::deps ALIAS azr_deps)

# Common settings for our own object libraries.
function(azr_layer name)
  set(srcs ${ARGN})
  if(NOT srcs)
    set(srcs ${PROJECT_SOURCE_DIR}/cmake/empty_layer.c) # a layer not yet populated
  endif()
  add_library(${name} OBJECT ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/include
    ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE BUILDING_AZRELAY _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
  target_link_libraries(${name} PUBLIC azr::deps)
  azr_warnings(${name})
  azr_sanitize(${name})
  if(AZR_BUILD_FUZZ)
    # Coverage feedback must come from inside the library, not only from the fuzz driver.
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
  endif()
endfunction()

# Programs (CLI, tests, benches) built from our sources.
function(azr_program name)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/include
    ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
  azr_warnings(${name})
  azr_sanitize(${name})
endfunction()
