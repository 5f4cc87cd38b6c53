# SPDX-License-Identifier: Apache-2.0
# Warnings for our own targets only; third-party headers come in as SYSTEM includes.
function(connpool_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<OR:$<COMPILE_LANGUAGE:C>,$<COMPILE_LANGUAGE:CXX>>:-Wall -Wextra -Wshadow -Wpointer-arith>
    $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes>)
  if(CONNPOOL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
