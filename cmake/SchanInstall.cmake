# `cmake --install` layout: the header, the shared and static libraries, a
# CMake package (schan::schan and schan::schan_static), pkg-config files
# (schan.pc and schan-static.pc), the command-line tools and the docs.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SCHAN_CMAKE_PACKAGE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/schan")

# Libraries a program linking libschan_static.a needs besides it. The static
# library is C++, so a C program also links the C++ runtime.
if(SCHAN_BACKEND STREQUAL "openssl")
  set(SCHAN_STATIC_CMAKE_DEPENDENCIES OpenSSL::SSL OpenSSL::Crypto)
  set(SCHAN_STATIC_PC_REQUIRES "libssl >= 3.0, libcrypto >= 3.0")
  set(SCHAN_STATIC_PC_LIBS "")
else()
  set(SCHAN_STATIC_CMAKE_DEPENDENCIES secur32 crypt32 ncrypt ntdll)
  set(SCHAN_STATIC_PC_REQUIRES "")
  set(SCHAN_STATIC_PC_LIBS "-lsecur32 -lcrypt32 -lncrypt -lntdll")
endif()
if(NOT MSVC)
  list(APPEND SCHAN_STATIC_CMAKE_DEPENDENCIES stdc++ m)
  string(STRIP "${SCHAN_STATIC_PC_LIBS} -lstdc++ -lm" SCHAN_STATIC_PC_LIBS)
endif()

# The build tree links schan_static to GSL (header-only, used only inside the
# library) and to the backend's build targets. Installed consumers get the
# platform libraries by name or as OpenSSL's imported targets, and no GSL.
set_property(TARGET schan_static PROPERTY INTERFACE_LINK_LIBRARIES
  "$<BUILD_INTERFACE:schan_backend_libraries>"
  "$<BUILD_INTERFACE:schan_gsl>")
foreach(dependency IN LISTS SCHAN_STATIC_CMAKE_DEPENDENCIES)
  set_property(TARGET schan_static APPEND PROPERTY INTERFACE_LINK_LIBRARIES
    "$<INSTALL_INTERFACE:${dependency}>")
endforeach()

install(FILES "${PROJECT_SOURCE_DIR}/include/schan/schan.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/schan")

# On Windows schan.dll goes to bin and its import library libschan.dll.a to lib.
install(TARGETS schan EXPORT schanTargets
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS schan_static EXPORT schanStaticTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

install(EXPORT schanTargets NAMESPACE schan:: DESTINATION "${SCHAN_CMAKE_PACKAGE_DIR}")
install(EXPORT schanStaticTargets NAMESPACE schan:: DESTINATION "${SCHAN_CMAKE_PACKAGE_DIR}")

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/schanConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/schanConfig.cmake"
  INSTALL_DESTINATION "${SCHAN_CMAKE_PACKAGE_DIR}")
# Within 0.x a minor version may break the API, so only the same minor matches.
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/schanConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/schanConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/schanConfigVersion.cmake"
        DESTINATION "${SCHAN_CMAKE_PACKAGE_DIR}")

# pkg-config: schan.pc for the shared library, schan-static.pc for the static
# one. Their prefix is relative to the .pc file, so the tree can be moved and
# `cmake --install --prefix` works.
file(RELATIVE_PATH SCHAN_PC_PREFIX_FROM_PCFILEDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" SCHAN_PC_PREFIX_FROM_PCFILEDIR "${SCHAN_PC_PREFIX_FROM_PCFILEDIR}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/schan.pc.in" "${CMAKE_CURRENT_BINARY_DIR}/schan.pc" @ONLY)
configure_file("${CMAKE_CURRENT_LIST_DIR}/schan-static.pc.in" "${CMAKE_CURRENT_BINARY_DIR}/schan-static.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/schan.pc" "${CMAKE_CURRENT_BINARY_DIR}/schan-static.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

foreach(tool schan-client schan-server)
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
  endif()
endforeach()

file(GLOB SCHAN_DOCS "${PROJECT_SOURCE_DIR}/docs/*.md")
install(FILES "${PROJECT_SOURCE_DIR}/README.md" ${SCHAN_DOCS} DESTINATION "${CMAKE_INSTALL_DOCDIR}")
if(EXISTS "${PROJECT_SOURCE_DIR}/CHANGELOG.md")
  install(FILES "${PROJECT_SOURCE_DIR}/CHANGELOG.md" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
endif()
