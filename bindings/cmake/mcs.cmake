# SPDX-License-Identifier: Apache-2.0
# cmake -P mcs.cmake: compiles every .cs file under SOURCE_DIRS with Mono's mcs. SWIG's
# generated file list is only known at build time, hence a script.
#   -DMCS=... -DSOURCE_DIRS="a|b" -DOUT=x.dll -DTARGET=library|exe [-DREFS="a.dll|b.dll"]
#   [-DFLAGS="..|.."]   ('|' separates list items: ';' does not survive add_custom_command)
foreach(_v SOURCE_DIRS REFS FLAGS)
  string(REPLACE "|" ";" ${_v} "${${_v}}")
endforeach()
set(_sources "")
foreach(_dir IN LISTS SOURCE_DIRS)
  file(GLOB_RECURSE _found "${_dir}/*.cs")
  list(APPEND _sources ${_found})
endforeach()
if(NOT _sources)
  message(FATAL_ERROR "mcs.cmake: no .cs files under ${SOURCE_DIRS}")
endif()
list(SORT _sources)
set(_refs "")
foreach(_r IN LISTS REFS)
  list(APPEND _refs "-r:${_r}")
endforeach()
execute_process(
  COMMAND "${MCS}" -nologo -target:${TARGET} "-out:${OUT}" -debug ${FLAGS} ${_refs} ${_sources}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "mcs failed (${_rc})")
endif()
