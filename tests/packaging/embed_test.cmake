# embed_test.cmake: ptq pulled into a parent project from source (add_subdirectory or FetchContent).
#
#   cmake -DEMBED_MODE=subdirectory|fetchcontent -DPTQ_SOURCE_DIR=... -DWORK_DIR=...
#         -DGENERATOR=Ninja -DCXX_COMPILER=g++ -DPTQ_VERSION=0.1.0 [-DMAKE_PROGRAM=...]
#         [-DBUILD_TYPE=...] -P embed_test.cmake
#
# The configure-time checks live in embed/CMakeLists.txt (no ptq test/bench/example targets, no
# options leaking through ptq::ptq). This driver adds what only the generated build shows: ptq
# called neither enable_testing() nor install(), no private flag is on the consumer's compile
# line, and the consumer builds, links (Debian's xsimd "-lxtl" quirk) and computes correctly.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

if(NOT EMBED_MODE MATCHES "^(subdirectory|fetchcontent)$")
  message(FATAL_ERROR "-DEMBED_MODE=subdirectory|fetchcontent is required")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")

ptq_step(configure "${CMAKE_COMMAND}" -S "${CMAKE_CURRENT_LIST_DIR}/embed" -B "${WORK_DIR}"
  ${PTQ_CHILD_CONFIGURE_ARGS} "-DEMBED_PTQ_DIR=${PTQ_SOURCE_DIR}" "-DEMBED_MODE=${EMBED_MODE}")
string(REGEX MATCH "ptq \\([a-z]+\\) added: [^\n]*" added "${PTQ_STEP_OUTPUT}")
message(STATUS "[configure] ${added}")

# enable_testing() or include(CTest) in ptq would make CMake write a CTestTestfile.cmake into ptq's
# binary directory (the parent project enables no testing), and install() rules would appear in
# ptq's cmake_install.cmake.
set(ptq_binary_dir "${WORK_DIR}/ptq")
if(NOT IS_DIRECTORY "${ptq_binary_dir}")
  message(FATAL_ERROR "[configure] ptq's binary directory ${ptq_binary_dir} does not exist")
endif()
file(GLOB_RECURSE ctest_files "${WORK_DIR}/CTestTestfile.cmake")
if(ctest_files)
  message(FATAL_ERROR "[configure] ptq enabled testing in the parent's build: ${ctest_files}")
endif()
if(EXISTS "${ptq_binary_dir}/cmake_install.cmake")
  file(READ "${ptq_binary_dir}/cmake_install.cmake" install_script)
  if(install_script MATCHES "ptqConfig|ptqTargets|include/ptq|pkgconfig")
    message(FATAL_ERROR "[configure] ptq generated install rules although it is embedded")
  endif()
endif()

ptq_build(build "${WORK_DIR}")
ptq_run_consumer(run "${WORK_DIR}")
ptq_check_no_leaked_flags(flags "${WORK_DIR}")
message(STATUS "packaging.${EMBED_MODE}: OK")
