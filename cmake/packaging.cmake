# SPDX-License-Identifier: Apache-2.0
# Debian packages with CPack, from the install components of capi/ and pkgconfig/:
#   libconnpool1     runtime: libconnpool.so.1 and its versioned file
#   libconnpool-dev  dev: connpool/connpool.h, the libconnpool.so link, connpool.pc and the
#                    CMake package (find_package(connpool))
# scripts/package.sh configures a Release tree with CMAKE_INSTALL_PREFIX=/usr (so the library
# lands in the multiarch directory, /usr/lib/<triplet>) and runs cpack into build/packages/.
# Only for the top-level project: a parent project that vendors us keeps its own packaging.
if(NOT CONNPOOL_IS_TOP_LEVEL)
  return()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME connpool)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "libconnpool")
# The Maintainer field; set it to a real address when publishing packages.
set(CONNPOOL_PACKAGE_CONTACT "libconnpool maintainers <libconnpool@localhost>" CACHE STRING
  "Maintainer of the .deb packages")
set(CPACK_PACKAGE_CONTACT "${CONNPOOL_PACKAGE_CONTACT}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)

# One package per install component; anything installed outside these two (tools, examples)
# is not packaged.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <package>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

# Each component's description starts with its own synopsis line (no package-wide
# CPACK_PACKAGE_DESCRIPTION_SUMMARY, which CPack would put in front of both).
#
# The package name carries the soname's major (Debian policy 8.1): a libconnpool2 could be
# installed next to this one.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libconnpool${PROJECT_VERSION_MAJOR})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
  "embeddable generic connection pool with a stable C ABI (shared library)
libconnpool hands out connections made by four user callbacks (create, validate, reset,
destroy) to any number of threads, with fair waiting, sizing, retirement, validation and a
health state machine for readiness probes. This package holds libconnpool.so.${PROJECT_VERSION_MAJOR}.")
# A shlibs file (programs built against the library get "Depends: libconnpool1 (>= 1.0.0)"
# from dpkg-shlibdeps) and ldconfig in postinst/postrm.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libconnpool-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION
  "embeddable generic connection pool with a stable C ABI (development files)
The C header connpool/connpool.h, the libconnpool.so link, connpool.pc for pkg-config and
the CMake package for find_package(connpool).")
# connpool.pc names libcjson in Requires.private, which pkg-config resolves even for a
# dynamic link, so the .pc file needs libcjson.pc (libcjson-dev).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "${CPACK_DEBIAN_RUNTIME_PACKAGE_NAME} (= ${PROJECT_VERSION}), libcjson-dev")

# The runtime's dependencies come from the library itself (dpkg-shlibdeps, in dpkg-dev), so
# they follow whatever Boost and cJSON it was linked against; without dpkg-shlibdeps, the
# Debian 12 names are spelled out.
find_program(CONNPOOL_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(CONNPOOL_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
else()
  message(STATUS "connpool: dpkg-shlibdeps not found, libconnpool${PROJECT_VERSION_MAJOR} gets the Debian 12 dependencies (apt-get install dpkg-dev)")
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS
    "libboost-thread1.74.0, libboost-chrono1.74.0, libcjson1, libstdc++6, libgcc-s1, libc6")
endif()

include(CPack)
