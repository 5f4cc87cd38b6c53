# SPDX-License-Identifier: Apache-2.0
# cmake -P javac.cmake: compiles every .java file under SOURCE_DIRS into CLASSES (cleaned
# first), then packs them into JAR if given. SWIG's generated file list is only known at
# build time, hence a script rather than add_jar().
#   -DJAVAC=... -DJAR_TOOL=... -DSOURCE_DIRS="a|b" -DCLASSES=dir [-DCLASSPATH=a:b] [-DJAR=x.jar]
#   [-DJAVAC_FLAGS="..|.."]   ('|' separates list items: ';' does not survive add_custom_command)
#   [-DMANIFEST_CLASS_PATH="/usr/share/java/a.jar|..."]   (with VERSION: the jar's Class-Path)
string(REPLACE "|" ";" SOURCE_DIRS "${SOURCE_DIRS}")
string(REPLACE "|" ";" JAVAC_FLAGS "${JAVAC_FLAGS}")
set(_sources "")
foreach(_dir IN LISTS SOURCE_DIRS)
  file(GLOB_RECURSE _found "${_dir}/*.java")
  list(APPEND _sources ${_found})
endforeach()
if(NOT _sources)
  message(FATAL_ERROR "javac.cmake: no .java files under ${SOURCE_DIRS}")
endif()
list(SORT _sources)
file(REMOVE_RECURSE "${CLASSES}")
file(MAKE_DIRECTORY "${CLASSES}")
set(_cp "")
if(CLASSPATH)
  set(_cp -classpath "${CLASSPATH}")
endif()
string(REPLACE ";" "\n" _argfile_text "${_sources}")
file(WRITE "${CLASSES}.sources" "${_argfile_text}\n")
execute_process(
  COMMAND "${JAVAC}" ${JAVAC_FLAGS} ${_cp} -d "${CLASSES}" "@${CLASSES}.sources"
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "javac failed (${_rc})")
endif()
# Native libraries the jar carries (org/connpool/native/linux-x86_64/<name>), given as
# "file=name|file=name"; and a manifest with the version when VERSION is set.
if(NATIVE_LIBS)
  set(_native_dir "${CLASSES}/org/connpool/native/linux-x86_64")
  file(MAKE_DIRECTORY "${_native_dir}")
  string(REPLACE "|" ";" _natives "${NATIVE_LIBS}")
  foreach(_n IN LISTS _natives)
    string(REGEX REPLACE "=.*" "" _from "${_n}")
    string(REGEX REPLACE ".*=" "" _name "${_n}")
    configure_file("${_from}" "${_native_dir}/${_name}" COPYONLY)
  endforeach()
endif()
set(_manifest "")
if(VERSION)
  file(WRITE "${CLASSES}.manifest"
    "Implementation-Title: connpool\nImplementation-Version: ${VERSION}\n"
    "Implementation-Vendor: libconnpool\nSpecification-Version: ${VERSION}\n"
    "Automatic-Module-Name: org.connpool\n")
  # Absolute paths, as Debian's jars name their dependencies (jh_classpath), so
  # `java -cp connpool.jar` finds them; Maven and Gradle use the pom instead.
  if(MANIFEST_CLASS_PATH)
    string(REPLACE "|" " " _class_path "${MANIFEST_CLASS_PATH}")
    file(APPEND "${CLASSES}.manifest" "Class-Path: ${_class_path}\n")
  endif()
  set(_manifest --manifest "${CLASSES}.manifest")
endif()
if(JAR)
  execute_process(COMMAND "${JAR_TOOL}" --create --file "${JAR}" ${_manifest} -C "${CLASSES}" .
    RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "jar failed (${_rc})")
  endif()
endif()
