# Adds the target python_wheel: the schan wheel with the shared library of
# this build inside, written to ${CMAKE_BINARY_DIR}/python-dist. Included by
# bindings/python/CMakeLists.txt in native builds and by the top-level
# CMakeLists.txt in the mingw cross build (platform tag win_amd64).
find_package(Python3 REQUIRED COMPONENTS Interpreter)

if(WIN32)
  set(SCHAN_WHEEL_PLATFORM win_amd64)
elseif(APPLE)
  set(SCHAN_WHEEL_PLATFORM macosx_11_0_${CMAKE_SYSTEM_PROCESSOR})
else()
  set(SCHAN_WHEEL_PLATFORM linux_${CMAKE_SYSTEM_PROCESSOR})
endif()

# The wheel's version is the package's __version__, which build_wheel.py reads too.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/schan/__init__.py" SCHAN_PYTHON_VERSION_LINE
     REGEX "^__version__ = \"[^\"]+\"$")
string(REGEX REPLACE "^__version__ = \"([^\"]+)\"$" "\\1" SCHAN_PYTHON_VERSION "${SCHAN_PYTHON_VERSION_LINE}")

set(SCHAN_WHEEL_DIR "${CMAKE_BINARY_DIR}/python-dist")
set(SCHAN_WHEEL "${SCHAN_WHEEL_DIR}/schan-${SCHAN_PYTHON_VERSION}-py3-none-${SCHAN_WHEEL_PLATFORM}.whl")
set(SCHAN_WHEEL_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/build_wheel.py")
file(GLOB SCHAN_PYTHON_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/schan/*.py")

add_custom_command(
  OUTPUT "${SCHAN_WHEEL}"
  COMMAND "${Python3_EXECUTABLE}" "${SCHAN_WHEEL_SCRIPT}" --library "$<TARGET_FILE:schan>"
          --platform "${SCHAN_WHEEL_PLATFORM}" --output "${SCHAN_WHEEL_DIR}"
  DEPENDS schan "${SCHAN_WHEEL_SCRIPT}" ${SCHAN_PYTHON_SOURCES}
  COMMENT "Building the Python wheel for ${SCHAN_WHEEL_PLATFORM}"
  VERBATIM)
add_custom_target(python_wheel ALL DEPENDS "${SCHAN_WHEEL}")

if(SCHAN_BUILD_TESTS)
  add_test(NAME python_wheel_contents
           COMMAND "${Python3_EXECUTABLE}" "${SCHAN_WHEEL_SCRIPT}" --check "${SCHAN_WHEEL}")
endif()
