# SPDX-License-Identifier: Apache-2.0
# Finds the toolchain each binding needs. Included by bindings/CMakeLists.txt and by the
# examples (which are configured first), so both agree on what is enabled. Each function
# sets <LANG>_OK in the caller's scope and explains once what is missing; nothing here fails
# the build.
include_guard(GLOBAL)

function(_connpool_binding_off lang why)
  if(NOT DEFINED CACHE{_CONNPOOL_${lang}_REPORTED})
    message(STATUS "connpool: ${lang} binding disabled: ${why}")
    set(_CONNPOOL_${lang}_REPORTED ON CACHE INTERNAL "")
  endif()
endfunction()

function(_connpool_find_swig out)
  find_package(SWIG 4.0 QUIET)
  set(${out} ${SWIG_FOUND} PARENT_SCOPE)
endfunction()

# CONNPOOL_JAVA_OK, plus Java_* / JNI include dirs, CONNPOOL_JACKSON_JARS (list) and
# CONNPOOL_JACKSON_CLASSPATH (the same, ':'-joined), and CONNPOOL_JUNIT_JAR (may be empty).
macro(connpool_java_toolchain)
  set(CONNPOOL_JAVA_OK OFF)
  if(CONNPOOL_BUILD_BINDINGS_JAVA)
    _connpool_find_swig(_swig_ok)
    find_package(Java 17 QUIET COMPONENTS Development Runtime)
    if(Java_JAVAC_EXECUTABLE)
      # Use the JNI headers of the JDK whose javac we found (another JDK may be installed).
      get_filename_component(_javac_real "${Java_JAVAC_EXECUTABLE}" REALPATH)
      get_filename_component(_jdk_home "${_javac_real}" DIRECTORY)
      get_filename_component(_jdk_home "${_jdk_home}" DIRECTORY)
      if(NOT DEFINED JAVA_HOME)
        set(JAVA_HOME "${_jdk_home}")
      endif()
    endif()
    find_package(JNI QUIET)
    # The jar decodes stats with Jackson databind (Debian's jars, unversioned names).
    set(CONNPOOL_JACKSON_JARS "")
    foreach(_j databind core annotations)
      find_file(CONNPOOL_JACKSON_${_j}_JAR jackson-${_j}.jar PATHS /usr/share/java
        DOC "Jackson ${_j} (Debian package libjackson2-databind-java)")
      if(CONNPOOL_JACKSON_${_j}_JAR)
        list(APPEND CONNPOOL_JACKSON_JARS ${CONNPOOL_JACKSON_${_j}_JAR})
      endif()
    endforeach()
    string(REPLACE ";" ":" CONNPOOL_JACKSON_CLASSPATH "${CONNPOOL_JACKSON_JARS}")
    if(NOT _swig_ok)
      _connpool_binding_off(Java "SWIG >= 4.0 not found (apt-get install swig)")
    elseif(NOT CONNPOOL_JACKSON_databind_JAR OR NOT CONNPOOL_JACKSON_core_JAR OR NOT CONNPOOL_JACKSON_annotations_JAR)
      _connpool_binding_off(Java "Jackson databind not found in /usr/share/java (apt-get install libjackson2-databind-java)")
    elseif(NOT Java_FOUND OR NOT Java_JAR_EXECUTABLE OR NOT Java_JAVAC_EXECUTABLE)
      _connpool_binding_off(Java "JDK 17 (javac, jar, java) not found (apt-get install default-jdk-headless)")
    elseif(NOT JAVA_INCLUDE_PATH OR NOT JAVA_INCLUDE_PATH2)
      _connpool_binding_off(Java "JNI headers not found (apt-get install default-jdk-headless)")
    else()
      set(CONNPOOL_JAVA_OK ON)
    endif()
    find_file(CONNPOOL_JUNIT_JAR junit-platform-console-standalone.jar
      PATHS /usr/share/java DOC "JUnit 5 console launcher (Debian package junit5)")
  endif()
endmacro()

# CONNPOOL_CSHARP_OK, plus CONNPOOL_MCS / CONNPOOL_MONO / CONNPOOL_NUNIT_CONSOLE and
# CONNPOOL_NUNIT_FRAMEWORK (the last two may be missing: then no tests).
macro(connpool_csharp_toolchain)
  set(CONNPOOL_CSHARP_OK OFF)
  if(CONNPOOL_BUILD_BINDINGS_CSHARP)
    _connpool_find_swig(_swig_ok)
    find_program(CONNPOOL_MCS mcs)
    find_program(CONNPOOL_MONO mono)
    find_program(CONNPOOL_NUNIT_CONSOLE nunit-console)
    find_file(CONNPOOL_NUNIT_FRAMEWORK nunit.framework.dll
      PATHS /usr/lib/cli PATH_SUFFIXES nunit.framework-2.6.3 nunit.framework-2.6 nunit.framework
      DOC "NUnit 2.6 framework assembly (Debian package nunit-console)")
    if(NOT _swig_ok)
      _connpool_binding_off("C#" "SWIG >= 4.0 not found (apt-get install swig)")
    elseif(NOT CONNPOOL_MCS OR NOT CONNPOOL_MONO)
      _connpool_binding_off("C#" "Mono (mcs, mono) not found (apt-get install mono-devel mono-mcs)")
    else()
      set(CONNPOOL_CSHARP_OK ON)
    endif()
  endif()
endmacro()

# CONNPOOL_GO_OK, plus CONNPOOL_GO.
macro(connpool_go_toolchain)
  set(CONNPOOL_GO_OK OFF)
  if(CONNPOOL_BUILD_BINDINGS_GO)
    _connpool_find_swig(_swig_ok)
    find_program(CONNPOOL_GO go)
    if(NOT _swig_ok)
      _connpool_binding_off(Go "SWIG >= 4.0 not found (apt-get install swig)")
    elseif(NOT CONNPOOL_GO)
      _connpool_binding_off(Go "the go tool was not found (apt-get install golang-go)")
    else()
      set(CONNPOOL_GO_OK ON)
    endif()
  endif()
endmacro()
