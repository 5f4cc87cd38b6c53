# SPDX-License-Identifier: Apache-2.0
# Debian packages with CPack, one per install component, split the way Debian splits a
# library and its bindings:
#   libconnpool1      runtime: libconnpool.so.1 and its versioned file
#   libconnpool-dev   dev: connpool/connpool.h, the libconnpool.so link, connpool.pc, the CMake
#                     package (find_package(connpool)) and the documentation
#   libconnpool-java  java: /usr/share/java/connpool-<v>.jar (+ connpool.jar), the Maven layout
#                     in /usr/share/maven-repo, the JNI library in /usr/lib/<triplet>/jni
#   golang-github-libconnpool-connpool-go-dev
#                     go: the Go module's source under /usr/share/gocode/src (Debian's layout
#                     for Go libraries), built by cgo against libconnpool-dev via pkg-config
#   libconnpool-cil   csharp: ConnPool.dll and its native wrapper for Mono, connpool-sharp.pc
# A binding's package exists when that binding was configured (its toolchain was found).
# scripts/package.sh configures a Release tree with CMAKE_INSTALL_PREFIX=/usr (so libraries
# land in the multiarch directory, /usr/lib/<triplet>), runs cpack into build/packages/ and
# packs the C# assembly as a .nupkg beside the .debs.
# Only for the top-level project: a parent project that vendors us keeps its own packaging.
if(NOT CONNPOOL_IS_TOP_LEVEL)
  return()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME connpool)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "libconnpool")
# The Maintainer field, and where SECURITY.md sends reports.
set(CONNPOOL_PACKAGE_CONTACT "libconnpool maintainers <maintainers@libconnpool.org>" CACHE STRING
  "Maintainer of the .deb packages")
set(CPACK_PACKAGE_CONTACT "${CONNPOOL_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/libconnpool/libconnpool")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_STRIP_FILES ON)  # Debian ships stripped binaries (lintian: unstripped-binary)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <package>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

# What every package carries in /usr/share/doc/<package>/ (Debian policy 12.5 and 12.7): the
# machine-readable copyright file and a Debian changelog, gzipped as a native package's must
# be. The upstream CHANGELOG.md goes with the -dev package's documentation. The changelog's
# date honours SOURCE_DATE_EPOCH (reproducible builds).
set(_copyright ${PROJECT_BINARY_DIR}/packaging/copyright)
configure_file(${CMAKE_CURRENT_LIST_DIR}/debian-copyright.in ${_copyright} @ONLY)
string(TIMESTAMP CONNPOOL_PACKAGE_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(_changelog ${PROJECT_BINARY_DIR}/packaging/changelog)
configure_file(${CMAKE_CURRENT_LIST_DIR}/debian-changelog.in ${_changelog} @ONLY)
set(_changelog_gz ${PROJECT_BINARY_DIR}/packaging/changelog.gz)
find_program(CONNPOOL_GZIP gzip)
if(CONNPOOL_GZIP)
  # -n: no name or time stamp inside, so the package is reproducible.
  add_custom_command(OUTPUT ${_changelog_gz}
    COMMAND ${CONNPOOL_GZIP} -9nc ${_changelog} > ${_changelog_gz}
    DEPENDS ${_changelog} VERBATIM)
  add_custom_target(connpool_package_changelog ALL DEPENDS ${_changelog_gz})
endif()

# connpool_package(<component> <package name> <section> <architecture> <depends> <description>)
# The description's first line is the synopsis; lines stay under 80 columns (lintian).
function(connpool_package comp name section arch depends description)
  string(TOUPPER ${comp} _c)
  set(CPACK_DEBIAN_${_c}_PACKAGE_NAME ${name} PARENT_SCOPE)
  set(CPACK_DEBIAN_${_c}_PACKAGE_SECTION ${section} PARENT_SCOPE)
  if(arch)
    set(CPACK_DEBIAN_${_c}_PACKAGE_ARCHITECTURE ${arch} PARENT_SCOPE)
  endif()
  if(depends)
    set(CPACK_DEBIAN_${_c}_PACKAGE_DEPENDS "${depends}" PARENT_SCOPE)
  endif()
  set(CPACK_DEBIAN_${_c}_DESCRIPTION "${description}" PARENT_SCOPE)
  set(_doc ${CMAKE_INSTALL_DATADIR}/doc/${name})
  install(FILES ${_copyright} DESTINATION ${_doc} COMPONENT ${comp})
  if(CONNPOOL_GZIP)
    install(FILES ${_changelog_gz} DESTINATION ${_doc} COMPONENT ${comp})
  endif()
endfunction()

set(_v ${PROJECT_VERSION})
# The package name carries the soname's major (Debian policy 8.1): a libconnpool2 could be
# installed next to this one.
set(_runtime libconnpool${PROJECT_VERSION_MAJOR})
set(CPACK_COMPONENTS_ALL runtime dev)

connpool_package(runtime ${_runtime} libs "" ""
  "embeddable generic connection pool with a stable C ABI (shared library)
libconnpool hands out connections made by four user callbacks (create,
validate, reset, destroy) to any number of threads, with fair waiting,
sizing, retirement, validation and a health state machine for readiness
probes. This package holds libconnpool.so.${PROJECT_VERSION_MAJOR}.")
# A shlibs file (programs built against the library get "Depends: libconnpool1 (>= 1.2.0)"
# from dpkg-shlibdeps), and ldconfig by trigger (Debian policy 8.1.1) rather than by a call
# in postinst/postrm.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/debian-triggers/triggers)

# connpool.pc names libcjson in Requires.private, which pkg-config resolves even for a
# dynamic link, so the .pc file needs libcjson.pc (libcjson-dev).
connpool_package(dev libconnpool-dev libdevel "" "${_runtime} (= ${_v}), libcjson-dev"
  "embeddable generic connection pool with a stable C ABI (development files)
The C header connpool/connpool.h, the libconnpool.so link, connpool.pc for
pkg-config, the CMake package for find_package(connpool), and the
documentation (configuration keys, health states, stats JSON and its schema).")
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/SECURITY.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libconnpool-dev COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libconnpool-dev/docs
  COMPONENT dev FILES_MATCHING PATTERN "*.md" PATTERN "*.json")

# The runtime's dependencies come from the library itself (dpkg-shlibdeps, in dpkg-dev), so
# they follow whatever Boost and cJSON it was linked against; without dpkg-shlibdeps, the
# Debian 12 names are spelled out. The bindings' native wrappers need libconnpool1 at this
# very version (they are built from its headers) plus the C++ runtime.
set(_cxx_runtime "libstdc++6, libgcc-s1, libc6")
find_program(CONNPOOL_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(CONNPOOL_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
else()
  message(STATUS "connpool: dpkg-shlibdeps not found, ${_runtime} gets the Debian 12 dependencies (apt-get install dpkg-dev)")
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS
    "libboost-thread1.74.0, libboost-chrono1.74.0, libcjson1, ${_cxx_runtime}")
endif()

if(TARGET connpool_java)
  list(APPEND CPACK_COMPONENTS_ALL java)
  # Jackson decodes the stats (org.connpool.PoolStats); the jar's Class-Path names its jars.
  connpool_package(java libconnpool-java java "" "${_runtime} (= ${_v}), ${_cxx_runtime}, libjackson2-databind-java"
    "embeddable generic connection pool with a stable C ABI (Java binding)
org.connpool for Java 17: Pool<T> over your ConnectionFactory<T>, leases as
AutoCloseable scopes, CompletableFuture acquire, interrupts, and a
javax.sql.DataSource over any JDBC driver. connpool.jar in /usr/share/java
and org.connpool:connpool in /usr/share/maven-repo; the JNI library in the
multiarch jni directory, on the JVM's default java.library.path.")
endif()
if(TARGET connpool_go)
  list(APPEND CPACK_COMPONENTS_ALL go)
  # Source only, hence architecture all; cgo compiles it against libconnpool-dev, found by
  # pkg-config, with a C++17 compiler.
  connpool_package(go golang-github-libconnpool-connpool-go-dev golang all
    "libconnpool-dev (>= ${_v}), pkgconf | pkg-config, g++ (>= 4:10)"
    "embeddable generic connection pool with a stable C ABI (Go binding)
The Go module github.com/libconnpool/connpool-go: a Pool over your Factory,
AcquireContext without an OS thread per waiting goroutine, typed errors.
Installed as source under /usr/share/gocode/src; SWIG output included.")
endif()
if(TARGET connpool_csharp)
  list(APPEND CPACK_COMPONENTS_ALL csharp)
  connpool_package(csharp libconnpool-cil cli-mono "" "${_runtime} (= ${_v}), mono-runtime (>= 6), libmono-system-runtime-serialization4.0-cil, ${_cxx_runtime}"
    "embeddable generic connection pool with a stable C ABI (C# binding)
ConnPool.dll for Mono: Pool<T> over your ConnectionFactory<T>, leases as
IDisposable scopes, Task-returning acquire with CancellationTokens. Use it
with mcs -pkg:connpool-sharp.")
endif()

include(CPack)

# The .deb set and the .nupkg, unpacked into an empty root: a C consumer and one per binding
# built here each build and run against that root alone (tests/install/check_packages.sh). It
# builds its own Release tree (package-test), so it is not a unit test (sanitizer runs skip it).
find_program(CONNPOOL_DPKG_DEB dpkg-deb)
if(CONNPOOL_BUILD_TESTS AND CONNPOOL_DPKG_DEB)
  set(_langs c)
  foreach(_l java go csharp)
    if(TARGET connpool_${_l})
      list(APPEND _langs ${_l})
    endif()
  endforeach()
  add_test(NAME packaging_consumers
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/install/check_packages.sh ${PROJECT_SOURCE_DIR}
            ${PROJECT_BINARY_DIR}/package-test ${_langs})
  set_tests_properties(packaging_consumers PROPERTIES LABELS "packaging;install" TIMEOUT 1500
    ENVIRONMENT "JOBS=2")
endif()
