# AZR_SANITIZE=ON builds everything with ASan + UBSan; any report aborts the process.
set(AZR_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
function(azr_sanitize target)
  if(AZR_SANITIZE)
    target_compile_options(${target} PRIVATE ${AZR_SAN_FLAGS})
    target_link_options(${target} PRIVATE ${AZR_SAN_FLAGS})
  endif()
endfunction()
