# GSL, GoogleTest and the platform libraries, all from the system (Debian
# packages libmsgsl-dev and googletest); nothing is downloaded.

# GSL is header-only. Its CMake package cannot be found when cross-compiling,
# and adding /usr/include to a mingw build breaks mingw's C headers, so the
# cross build sees a generated folder that holds only a link to the gsl headers.
add_library(schan_gsl INTERFACE)
if(CMAKE_CROSSCOMPILING)
  find_path(SCHAN_GSL_HEADERS gsl/gsl PATHS /usr/include NO_CMAKE_FIND_ROOT_PATH NO_DEFAULT_PATH)
  if(NOT SCHAN_GSL_HEADERS)
    message(FATAL_ERROR "GSL headers not found in /usr/include; install libmsgsl-dev")
  endif()
  set(gsl_only "${CMAKE_BINARY_DIR}/gsl-include")
  file(MAKE_DIRECTORY "${gsl_only}")
  file(CREATE_LINK "${SCHAN_GSL_HEADERS}/gsl" "${gsl_only}/gsl" SYMBOLIC)
  target_include_directories(schan_gsl SYSTEM INTERFACE "${gsl_only}")
else()
  find_package(Microsoft.GSL CONFIG REQUIRED)
  target_link_libraries(schan_gsl INTERFACE Microsoft.GSL::GSL)
endif()

if(SCHAN_BACKEND STREQUAL "openssl")
  find_package(OpenSSL 3.0 REQUIRED)
endif()

if(SCHAN_BUILD_TESTS)
  set(SCHAN_GOOGLETEST_SOURCE "/usr/src/googletest" CACHE PATH "GoogleTest sources (Debian package googletest)")
  if(NOT EXISTS "${SCHAN_GOOGLETEST_SOURCE}/CMakeLists.txt")
    message(FATAL_ERROR "GoogleTest sources not found at ${SCHAN_GOOGLETEST_SOURCE}; install googletest")
  endif()
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  set(gtest_force_shared_crt ON CACHE BOOL "" FORCE)
  add_subdirectory("${SCHAN_GOOGLETEST_SOURCE}" "${CMAKE_BINARY_DIR}/googletest" EXCLUDE_FROM_ALL SYSTEM)
endif()

# Windows programs and the DLL must run with only what Windows ships, so
# mingw builds link libgcc, libstdc++ and winpthread statically.
function(schan_static_runtime target)
  if(MINGW)
    target_link_options(${target} PRIVATE -static -static-libgcc -static-libstdc++)
  endif()
endfunction()
