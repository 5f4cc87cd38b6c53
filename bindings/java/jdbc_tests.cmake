# SPDX-License-Identifier: Apache-2.0
# JUnit suite of org.connpool.jdbc.PooledDataSource against a real, throwaway PostgreSQL
# (tests/integration/with_pg_server.sh starts and removes it; the suite stops and restarts
# it through the same script). Included from bindings/java/CMakeLists.txt when JUnit is found.
# The tests compile and run against Debian's JDBC driver (libpostgresql-jdbc-java); the
# DataSource itself needs only java.sql. Without server binaries the test reports a skip.
find_file(CONNPOOL_PG_JDBC_JAR postgresql.jar PATHS /usr/share/java
  DOC "PostgreSQL JDBC driver (Debian package libpostgresql-jdbc-java)")
if(NOT CONNPOOL_PG_JDBC_JAR)
  message(STATUS "connpool: JDBC DataSource tests disabled: postgresql.jar not found (apt-get install libpostgresql-jdbc-java)")
  return()
endif()

file(GLOB _jdbc_test_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test-jdbc/org/connpool/jdbc/*.java)
set(_jdbc_test_classes ${CMAKE_CURRENT_BINARY_DIR}/test-jdbc-classes)
set(_jdbc_cp ${CONNPOOL_JAVA_CLASSPATH}:${CONNPOOL_JUNIT_JAR}:${CONNPOOL_PG_JDBC_JAR})
add_custom_command(
  OUTPUT ${_jdbc_test_classes}.stamp
  COMMAND ${CMAKE_COMMAND} -DJAVAC=${Java_JAVAC_EXECUTABLE}
          -DSOURCE_DIRS=${CMAKE_CURRENT_SOURCE_DIR}/test-jdbc -DCLASSES=${_jdbc_test_classes}
          -DCLASSPATH=${_jdbc_cp} "-DJAVAC_FLAGS=--release|17|-Xlint:all|-Werror|-encoding|UTF-8"
          -P ${CONNPOOL_BINDINGS_SOURCE_DIR}/cmake/javac.cmake
  COMMAND ${CMAKE_COMMAND} -E touch ${_jdbc_test_classes}.stamp
  DEPENDS ${_jdbc_test_sources} ${CONNPOOL_JAVA_JAR}
  COMMENT "javac: JDBC DataSource tests"
  VERBATIM)
add_custom_target(connpool_java_jdbc_tests ALL DEPENDS ${_jdbc_test_classes}.stamp)
add_dependencies(connpool_java_jdbc_tests connpool_java_jar)

add_test(NAME java_jdbc_datasource
  COMMAND bash ${PROJECT_SOURCE_DIR}/tests/integration/with_pg_server.sh run
          ${_java_run} -jar ${CONNPOOL_JUNIT_JAR}
          --class-path ${_jdbc_test_classes}:${CONNPOOL_JAVA_CLASSPATH}:${CONNPOOL_PG_JDBC_JAR}
          --select-package org.connpool.jdbc --include-classname .*Test
          --fail-if-no-tests --disable-banner --disable-ansi-colors --details=tree)
set_tests_properties(java_jdbc_datasource PROPERTIES
  LABELS "integration;bindings" TIMEOUT 300 SKIP_RETURN_CODE 77)
