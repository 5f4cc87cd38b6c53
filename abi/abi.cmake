# ABI guard (docs/ABI.md). abidw describes libconnpool.so.1 (exported functions and every type
# they reach through the public header), abidiff compares that with the checked-in baseline
# abi/libconnpool.so.1.abi; the test fails on any change other than additions. Included from
# tests/faults/CMakeLists.txt.
#
# abidw needs DWARF. When this build type compiles without -g (Release, MinSizeRel), the check
# runs on connpool_abi_probe: the same sources, flags, version script and soname as connpool,
# plus -g, built for this purpose only.
# The header's numbers (codes, states, levels), which debug information does not carry: pinned
# at compile time.
add_executable(connpool_abi_constants ${CMAKE_CURRENT_LIST_DIR}/abi_constants.c)
target_link_libraries(connpool_abi_constants PRIVATE connpool::connpool)
set_target_properties(connpool_abi_constants PROPERTIES C_STANDARD 11 C_EXTENSIONS OFF)
connpool_set_warnings(connpool_abi_constants)
add_test(NAME abi_constants COMMAND connpool_abi_constants)
set_tests_properties(abi_constants PROPERTIES LABELS unit TIMEOUT 60)

find_program(CONNPOOL_ABIDW abidw)
find_program(CONNPOOL_ABIDIFF abidiff)
if(NOT CONNPOOL_ABIDW OR NOT CONNPOOL_ABIDIFF)
  message(STATUS "connpool: abidw/abidiff not found, the ABI check is not registered (apt-get install abigail-tools)")
  return()
endif()

string(TOUPPER "${CMAKE_BUILD_TYPE}" _connpool_bt)
if(" ${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${_connpool_bt}} " MATCHES " -g[0-9]* ")
  set(_connpool_abi_lib connpool)
else()
  get_target_property(_dir connpool SOURCE_DIR)
  get_target_property(_sources connpool SOURCES)
  get_target_property(_link_options connpool LINK_OPTIONS)
  list(TRANSFORM _sources PREPEND "${_dir}/")
  add_library(connpool_abi_probe SHARED ${_sources})
  target_include_directories(connpool_abi_probe PRIVATE ${_dir}/include)
  target_link_libraries(connpool_abi_probe PRIVATE connpool_core)
  target_compile_options(connpool_abi_probe PRIVATE -g)
  target_link_options(connpool_abi_probe PRIVATE ${_link_options})
  set_target_properties(connpool_abi_probe PROPERTIES
    OUTPUT_NAME connpool
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/abi_probe)
  set(_connpool_abi_lib connpool_abi_probe)
endif()

set(_connpool_abi_args
  -DABIDW=${CONNPOOL_ABIDW} -DABIDIFF=${CONNPOOL_ABIDIFF}
  -DLIB=$<TARGET_FILE:${_connpool_abi_lib}>
  -DHEADERS=${PROJECT_SOURCE_DIR}/capi/include/connpool
  -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
  -DBASELINE=${PROJECT_SOURCE_DIR}/abi/libconnpool.so.1.abi
  -DCURRENT=${CMAKE_CURRENT_BINARY_DIR}/libconnpool.so.1.abi)
add_test(NAME abi_compatible
  COMMAND ${CMAKE_COMMAND} ${_connpool_abi_args} -P ${PROJECT_SOURCE_DIR}/abi/check_abi.cmake)
set_tests_properties(abi_compatible PROPERTIES LABELS unit TIMEOUT 120)

# Deliberate baseline update (docs/ABI.md): cmake --build <dir> --target connpool_abi_baseline
add_custom_target(connpool_abi_baseline
  COMMAND ${CMAKE_COMMAND} ${_connpool_abi_args} -DUPDATE=ON -P ${PROJECT_SOURCE_DIR}/abi/check_abi.cmake
  DEPENDS ${_connpool_abi_lib}
  COMMENT "Rewriting abi/libconnpool.so.1.abi from this build"
  VERBATIM)
