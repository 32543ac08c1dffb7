# doctestConfig.cmake for cross builds: the host's header-only doctest as `doctest::doctest`, with
# an include path holding doctest alone (ptqHostHeaders.cmake), and the host's doctest.cmake
# (doctest_discover_tests, which runs test binaries through CMAKE_CROSSCOMPILING_EMULATOR).
include("${CMAKE_CURRENT_LIST_DIR}/ptqHostHeaders.cmake")
if(NOT TARGET doctest::doctest)
  ptq_host_headers(_ptq_doctest_include doctest)
  add_library(doctest::doctest INTERFACE IMPORTED)
  set_target_properties(doctest::doctest PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_ptq_doctest_include}")
  unset(_ptq_doctest_include)
endif()
find_path(PTQ_HOST_DOCTEST_CMAKE_DIR doctest.cmake
          PATHS /usr/lib/cmake/doctest /usr/share/doctest/cmake /usr/local/lib/cmake/doctest
          NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH
          DOC "The host's doctest CMake scripts (doctest.cmake, doctestAddTests.cmake)")
if(NOT PTQ_HOST_DOCTEST_CMAKE_DIR)
  set(doctest_FOUND FALSE)
  set(doctest_NOT_FOUND_MESSAGE "doctest.cmake not found on the host (package doctest-dev)")
  return()
endif()
list(APPEND CMAKE_MODULE_PATH "${PTQ_HOST_DOCTEST_CMAKE_DIR}")
