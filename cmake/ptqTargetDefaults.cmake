# ptqTargetDefaults.cmake: flags for ptq's *own* targets (tests, benches, examples, tools).
# Nothing here reaches consumers of ptq::ptq.
#
#   -Wall -Wextra -Wpedantic -Werror  our headers must be clean under the strictest common set
#   -ffp-contract=off                 g++ contracts a*b+c into FMA when FMA is enabled; the
#                                     bit-exact float paths (dequantize, hybrid epilogues) must
#                                     round each operation, in the reference and in SIMD alike
function(ptq_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -ffp-contract=off)
  if(PTQ_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(PTQ_ENABLE_DCHECKS)
    target_compile_definitions(${target} PRIVATE PTQ_ENABLE_DCHECKS=1)
  endif()
endfunction()
