# Warning flags, applied per target (never through CMAKE_C_FLAGS).
set(AZR_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wpointer-arith -Wwrite-strings -Wformat=2 -Wvla -Wundef)
if(AZR_WERROR)
  list(APPEND AZR_WARNINGS -Werror)
endif()
function(azr_warnings target)
  target_compile_options(${target} PRIVATE ${AZR_WARNINGS})
endfunction()
