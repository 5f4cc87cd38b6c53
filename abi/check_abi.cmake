# Compares a built libconnpool.so.1 with the ABI baseline (docs/ABI.md), or rewrites the
# baseline with -DUPDATE=ON.
#   cmake -DABIDW=... -DABIDIFF=... -DLIB=<libconnpool.so> -DHEADERS=<dir of connpool.h>
#         -DSOURCE_DIR=<checkout> -DBASELINE=abi/libconnpool.so.1.abi -DCURRENT=<scratch .abi>
#         [-DUPDATE=ON] -P abi/check_abi.cmake
# What is described: the exported functions and the types they reach as the public header
# declares them (--headers-dir, --exported-interfaces-only, --drop-private-types: the opaque
# structs stay declarations, their private definitions are not ABI). What is left out, so the
# description does not depend on the build: source lines, the compilation directory, the
# DT_NEEDED list (sanitizer builds add their runtimes), and the checkout's absolute path;
# type ids are hashes, not sequence numbers.
foreach(_v ABIDW ABIDIFF LIB HEADERS BASELINE CURRENT SOURCE_DIR)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "check_abi.cmake: -D${_v}=... is required")
  endif()
endforeach()

execute_process(
  COMMAND ${ABIDW} --headers-dir ${HEADERS} --exported-interfaces-only --drop-private-types
          --no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed --type-id-style hash
          --out-file ${CURRENT} ${LIB}
  RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "abidw failed on ${LIB} (${_rc}): ${_err}")
endif()
file(READ ${CURRENT} _abi)
string(REPLACE "path='${SOURCE_DIR}/" "path='" _abi "${_abi}")
file(WRITE ${CURRENT} "${_abi}")
if(NOT _abi MATCHES "<function-decl name='connpool_acquire'")
  message(FATAL_ERROR "${LIB} has no debug information for its exported functions; the ABI "
                      "check needs a build with -g (see abi/abi.cmake)")
endif()

if(UPDATE)
  configure_file(${CURRENT} ${BASELINE} COPYONLY)
  message(STATUS "ABI baseline rewritten: ${BASELINE} (review the diff before committing)")
  return()
endif()

# abidiff's status is a bit mask: 1 error, 2 usage error, 4 ABI change, 8 incompatible change.
execute_process(COMMAND ${ABIDIFF} ${BASELINE} ${CURRENT}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _report ERROR_VARIABLE _report)
if(_rc EQUAL 0)
  message(STATUS "ABI of ${LIB} matches the baseline")
  return()
endif()
if(_rc EQUAL 1 OR _rc EQUAL 2 OR _rc EQUAL 3)
  message(FATAL_ERROR "abidiff failed (${_rc}):\n${_report}")
endif()
# Additions are allowed (append-only); anything else is a break of libconnpool.so.1.
execute_process(COMMAND ${ABIDIFF} --no-added-syms ${BASELINE} ${CURRENT}
                RESULT_VARIABLE _rc2 OUTPUT_QUIET ERROR_QUIET)
if(_rc2 EQUAL 0)
  message(STATUS "ABI of ${LIB}: additions only (compatible). Record them in the baseline "
                 "deliberately (docs/ABI.md):\n${_report}")
  return()
endif()
message(FATAL_ERROR "libconnpool.so.1 ABI changed incompatibly against ${BASELINE} "
                    "(abidiff status ${_rc}). Undo the change, or follow docs/ABI.md for a new "
                    "soname.\n${_report}")
