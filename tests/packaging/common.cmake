# common.cmake: helpers for the packaging test drivers (run with `cmake -P`, never from a project).
#
# Every step either succeeds or stops the driver with FATAL_ERROR, which makes `cmake -P` exit
# non-zero and ctest report the test as failed, with the failing step's full output.

cmake_minimum_required(VERSION 3.21)  # policies for the drivers and the files they include

# The child builds must see only what the test gives them: flags from the caller's environment
# would reach the consumer's compile line and trip the leak check below.
foreach(_ptq_var IN ITEMS CFLAGS CXXFLAGS CPPFLAGS LDFLAGS CMAKE_BUILD_PARALLEL_LEVEL)
  unset(ENV{${_ptq_var}})
endforeach()

foreach(_ptq_required IN ITEMS PTQ_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER PTQ_VERSION)
  if(NOT DEFINED ${_ptq_required} OR "${${_ptq_required}}" STREQUAL "")
    message(FATAL_ERROR "packaging driver: -D${_ptq_required}=... is required")
  endif()
endforeach()

# ptq_step(<label> <command> [args...]): runs the command; on failure prints its output and stops.
# The output (stdout and stderr merged) is returned in PTQ_STEP_OUTPUT.
function(ptq_step label)
  list(JOIN ARGN " " command_line)
  message(STATUS "[${label}] ${command_line}")
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[${label}] failed (exit: ${rc}). Output:\n${out}")
  endif()
  set(PTQ_STEP_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

# Arguments that make a child configure use the parent build's generator and compiler.
set(PTQ_CHILD_CONFIGURE_ARGS -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(MAKE_PROGRAM)
  list(APPEND PTQ_CHILD_CONFIGURE_ARGS "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()
list(APPEND PTQ_CHILD_CONFIGURE_ARGS "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")

# ptq_build(<label> <binary dir>)
function(ptq_build label dir)
  ptq_step("${label}" "${CMAKE_COMMAND}" --build "${dir}" --config "${BUILD_TYPE}" --parallel 2)
endfunction()

# ptq_run_consumer(<label> <binary dir>): runs examples/consumer's executable built in <dir> and
# checks that it reports the version under test and that its computation passed.
function(ptq_run_consumer label dir)
  file(GLOB_RECURSE exe LIST_DIRECTORIES false "${dir}/consumer" "${dir}/consumer.exe")
  list(FILTER exe EXCLUDE REGEX "/CMakeFiles/")
  if(NOT exe)
    message(FATAL_ERROR "[${label}] no consumer executable under ${dir}")
  endif()
  list(GET exe 0 exe)
  ptq_step("${label}" "${exe}")
  message(STATUS "[${label}] output:\n${PTQ_STEP_OUTPUT}")
  if(NOT PTQ_STEP_OUTPUT MATCHES "ptq ${PTQ_VERSION}, selected ISA: [a-z0-9]+")
    message(FATAL_ERROR "[${label}] the consumer did not report ptq ${PTQ_VERSION} and an ISA")
  endif()
  if(NOT PTQ_STEP_OUTPUT MATCHES "consumer: OK")
    message(FATAL_ERROR "[${label}] the consumer did not report success")
  endif()
endfunction()

# ptq_check_no_leaked_flags(<label> <binary dir>): the consumer project sets no flags of its own,
# so any ISA, warning, fp-contract or sanitizer flag, or a ptq-private definition, on its compile
# line came through ptq::ptq's usage requirements, which must carry none of them.
function(ptq_check_no_leaked_flags label dir)
  set(db "${dir}/compile_commands.json")
  if(NOT EXISTS "${db}")
    return()  # generators without compile_commands.json (Visual Studio, Xcode): nothing to check
  endif()
  file(READ "${db}" all_commands)
  # Only the consumer's own compile line: ptq's optional compiled parts (ptq::onnx) may be in the
  # same build with ptq's own flags.
  set(commands "")
  string(JSON n LENGTH "${all_commands}")
  if(n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON file GET "${all_commands}" ${i} file)
      if(file MATCHES "main\\.cpp$" AND NOT file MATCHES "/src/onnx/")
        string(JSON command ERROR_VARIABLE no_command GET "${all_commands}" ${i} command)
        if(no_command)
          string(JSON command GET "${all_commands}" ${i} arguments)
        endif()
        string(APPEND commands "${command}\n")
      endif()
    endforeach()
  endif()
  if(commands STREQUAL "")
    message(FATAL_ERROR "[${label}] ${db} has no entry for main.cpp:\n${all_commands}")
  endif()
  set(leak "[ \"](-march=|-mtune=|-m(avx|sse|fma|f16c|bmi)|-W[A-Za-z]|-pedantic|-ffp-contract|-fsanitize|-ffast-math|-DPTQ_)")
  if(commands MATCHES "${leak}")
    message(FATAL_ERROR "[${label}] a private flag reached the consumer's compile line "
                        "('${CMAKE_MATCH_1}'):\n${commands}")
  endif()
  message(STATUS "[${label}] no ISA/warning/sanitizer flags on the consumer's compile line")
endfunction()
