# install_test.cmake: ptq as an installed package, consumed by CMake and by pkg-config.
#
#   cmake -DPTQ_SOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=Ninja -DCXX_COMPILER=g++
#         -DPTQ_VERSION=0.1.0 [-DMAKE_PROGRAM=...] [-DBUILD_TYPE=...] [-DPKG_CONFIG=...]
#         -P install_test.cmake
#
# 1. configures a separate, library-only build of ptq (tests, benches, examples off) and runs
#    `cmake --install --prefix WORK_DIR/prefix` (configured for another prefix, on purpose);
# 2. checks the installed tree: every header, the CMake package under share/cmake/ptq, ptq.pc
#    under share/pkgconfig, nothing under lib/ (header-only is arch-independent);
# 3. checks the version file's policy (SameMinorVersion, ARCH_INDEPENDENT) by evaluating it the
#    way find_package does;
# 4. configures, builds and runs examples/consumer with CMAKE_PREFIX_PATH=prefix: this is where
#    Debian's xsimd package would fail to link ("cannot find -lxtl") if the installed
#    ptqConfig.cmake did not apply ptqXsimdCompat.cmake;
# 5. checks `pkg-config --modversion/--cflags ptq` and compiles and runs the consumer's main.cpp
#    with nothing but those flags.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# ---- 1. install --------------------------------------------------------------------------------
# Configured for one prefix and installed into another with --prefix, as packagers do: every
# installed file, ptq.pc included, must follow the prefix given at install time.
ptq_step(configure-ptq "${CMAKE_COMMAND}" -S "${PTQ_SOURCE_DIR}" -B "${WORK_DIR}/ptq-build"
  ${PTQ_CHILD_CONFIGURE_ARGS} "-DCMAKE_INSTALL_PREFIX=${WORK_DIR}/configured-prefix"
  -DPTQ_BUILD_TESTS=OFF -DPTQ_BUILD_BENCH=OFF -DPTQ_BUILD_EXAMPLES=OFF -DPTQ_BUILD_TOOLS=OFF
  -DPTQ_WITH_ONNX=OFF -DPTQ_INSTALL=ON)
ptq_build(build-ptq "${WORK_DIR}/ptq-build")
ptq_step(install-ptq "${CMAKE_COMMAND}" --install "${WORK_DIR}/ptq-build" --config "${BUILD_TYPE}"
  --prefix "${prefix}")
if(EXISTS "${WORK_DIR}/configured-prefix")
  message(FATAL_ERROR "[install-ptq] files went to the configure-time prefix, not to --prefix")
endif()

# ---- 2. the installed tree ---------------------------------------------------------------------
file(GLOB_RECURSE source_headers RELATIVE "${PTQ_SOURCE_DIR}/include" "${PTQ_SOURCE_DIR}/include/ptq/*.hpp")
file(GLOB_RECURSE installed_headers RELATIVE "${prefix}/include" "${prefix}/include/*")
list(SORT source_headers)
list(SORT installed_headers)
if(NOT source_headers STREQUAL installed_headers)
  message(FATAL_ERROR "[layout] installed headers differ from include/ptq/*.hpp\n"
                      "  source:    ${source_headers}\n  installed: ${installed_headers}")
endif()
list(LENGTH installed_headers n_headers)
foreach(f IN ITEMS
    include/ptq/ptq.hpp include/ptq/version.hpp include/ptq/core/config.hpp
    share/cmake/ptq/ptqConfig.cmake share/cmake/ptq/ptqConfigVersion.cmake
    share/cmake/ptq/ptqTargets.cmake share/cmake/ptq/ptqXsimdCompat.cmake
    share/pkgconfig/ptq.pc)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "[layout] ${f} was not installed")
  endif()
endforeach()
foreach(d IN ITEMS lib lib64 bin)
  if(EXISTS "${prefix}/${d}")
    message(FATAL_ERROR "[layout] a header-only package installed files under ${d}/")
  endif()
endforeach()
file(READ "${prefix}/share/cmake/ptq/ptqConfig.cmake" config_text)
if(NOT config_text MATCHES "ptqXsimdCompat\\.cmake")
  message(FATAL_ERROR "[layout] ptqConfig.cmake does not apply ptqXsimdCompat.cmake")
endif()
file(READ "${prefix}/share/cmake/ptq/ptqTargets.cmake" targets_text)
if(targets_text MATCHES "INTERFACE_COMPILE_OPTIONS|INTERFACE_LINK_OPTIONS|-march|-W[A-Za-z]")
  message(FATAL_ERROR "[layout] ptqTargets.cmake carries compile or link options:\n${targets_text}")
endif()
message(STATUS "[layout] ${n_headers} headers, CMake package and ptq.pc installed under ${prefix}")

# ---- 3. version policy -------------------------------------------------------------------------
# Evaluates the installed version file as find_package(ptq <requested>) would, optionally as a
# project with a different pointer size (what ARCH_INDEPENDENT is for).
function(ptq_version_accepts requested sizeof_void_p out)
  string(REPLACE "." ";" parts "${requested}")
  list(LENGTH parts count)
  list(APPEND parts 0 0 0)
  list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
  list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
  list(GET parts 2 PACKAGE_FIND_VERSION_PATCH)
  set(PACKAGE_FIND_NAME ptq)
  set(PACKAGE_FIND_VERSION "${requested}")
  set(PACKAGE_FIND_VERSION_COUNT ${count})
  set(CMAKE_SIZEOF_VOID_P ${sizeof_void_p})
  include("${prefix}/share/cmake/ptq/ptqConfigVersion.cmake")
  if(PACKAGE_VERSION_COMPATIBLE AND NOT PACKAGE_VERSION_UNSUITABLE)
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

string(REPLACE "." ";" v "${PTQ_VERSION}")
list(GET v 0 major)
list(GET v 1 minor)
math(EXPR next_minor "${minor} + 1")
math(EXPR next_major "${major} + 1")
set(expect_yes "${major}.${minor}" "${PTQ_VERSION}")
set(expect_no "${major}.${next_minor}" "${next_major}.${minor}" "${major}.${minor}.999")
if(minor GREATER 0)
  math(EXPR prev_minor "${minor} - 1")
  list(APPEND expect_no "${major}.${prev_minor}")  # SameMinorVersion: 0.2 does not satisfy 0.1
endif()
foreach(req IN LISTS expect_yes)
  foreach(bits IN ITEMS 8 4)
    ptq_version_accepts("${req}" ${bits} ok)
    if(NOT ok)
      message(FATAL_ERROR "[version] ptq ${PTQ_VERSION} refused find_package(ptq ${req}) "
                          "with CMAKE_SIZEOF_VOID_P=${bits}")
    endif()
  endforeach()
endforeach()
foreach(req IN LISTS expect_no)
  ptq_version_accepts("${req}" 8 ok)
  if(ok)
    message(FATAL_ERROR "[version] ptq ${PTQ_VERSION} accepted find_package(ptq ${req}); "
                        "the policy is SameMinorVersion")
  endif()
endforeach()
message(STATUS "[version] accepts ${expect_yes} (any pointer size), refuses ${expect_no}")

# ---- 4. a CMake consumer -----------------------------------------------------------------------
set(consumer_build "${WORK_DIR}/consumer-build")
ptq_step(configure-consumer "${CMAKE_COMMAND}" -S "${PTQ_SOURCE_DIR}/examples/consumer"
  -B "${consumer_build}" ${PTQ_CHILD_CONFIGURE_ARGS} "-DCMAKE_PREFIX_PATH=${prefix}")
# The package must come from the prefix just installed, not from some other ptq on the machine.
file(STRINGS "${consumer_build}/CMakeCache.txt" ptq_dir_line REGEX "^ptq_DIR:")
string(REGEX REPLACE "^ptq_DIR:[A-Z]+=" "" ptq_dir "${ptq_dir_line}")
file(REAL_PATH "${ptq_dir}" ptq_dir)
file(REAL_PATH "${prefix}/share/cmake/ptq" expected_dir)
if(NOT ptq_dir STREQUAL expected_dir)
  message(FATAL_ERROR "[configure-consumer] found ptq in '${ptq_dir}', expected '${expected_dir}'")
endif()
ptq_build(build-consumer "${consumer_build}")
ptq_run_consumer(run-consumer "${consumer_build}")
ptq_check_no_leaked_flags(flags-consumer "${consumer_build}")

# ---- 5. pkg-config -----------------------------------------------------------------------------
if(NOT PKG_CONFIG)
  message(FATAL_ERROR "[pkg-config] pkg-config was not found when ptq was configured; install it "
                      "(scripts/install-deps.sh does) and reconfigure")
endif()
set(ENV{PKG_CONFIG_PATH} "${prefix}/share/pkgconfig")
ptq_step(pkg-config-pcfiledir "${PKG_CONFIG}" --variable=pcfiledir ptq)
string(STRIP "${PTQ_STEP_OUTPUT}" pcfiledir)
if(NOT pcfiledir STREQUAL "${prefix}/share/pkgconfig")
  message(FATAL_ERROR "[pkg-config] used ${pcfiledir}/ptq.pc, expected ${prefix}/share/pkgconfig/ptq.pc")
endif()
ptq_step(pkg-config-modversion "${PKG_CONFIG}" --modversion ptq)
string(STRIP "${PTQ_STEP_OUTPUT}" pc_version)
if(NOT pc_version STREQUAL PTQ_VERSION)
  message(FATAL_ERROR "[pkg-config] --modversion says '${pc_version}', expected ${PTQ_VERSION}")
endif()
ptq_step(pkg-config-cflags "${PKG_CONFIG}" --cflags ptq)
string(STRIP "${PTQ_STEP_OUTPUT}" cflags)
message(STATUS "[pkg-config] --cflags ptq: ${cflags}")
separate_arguments(cflag_list UNIX_COMMAND "${cflags}")
if(NOT "-I${prefix}/include" IN_LIST cflag_list)
  message(FATAL_ERROR "[pkg-config] --cflags lacks -I${prefix}/include: '${cflags}'")
endif()
if(cflags MATCHES "(-std=|-march=|-m(avx|sse|fma)|-W[A-Za-z]|-f)")
  message(FATAL_ERROR "[pkg-config] --cflags carries a flag that is the consumer's choice "
                      "('${CMAKE_MATCH_1}'): '${cflags}'")
endif()
set(pc_exe "${WORK_DIR}/pkg-config-consumer")
ptq_step(pkg-config-compile "${CXX_COMPILER}" -std=c++17 ${cflag_list}
  "${PTQ_SOURCE_DIR}/examples/consumer/main.cpp" -o "${pc_exe}")
ptq_step(pkg-config-run "${pc_exe}")
message(STATUS "[pkg-config-run] output:\n${PTQ_STEP_OUTPUT}")
if(NOT PTQ_STEP_OUTPUT MATCHES "consumer: OK")
  message(FATAL_ERROR "[pkg-config-run] the consumer did not report success")
endif()

message(STATUS "packaging.install: OK")
