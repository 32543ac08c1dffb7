# xsimdConfig.cmake for cross builds: the host's header-only xsimd as target `xsimd::xsimd` (and
# `xsimd`), with an include path holding xsimd alone (ptqHostHeaders.cmake).
include("${CMAKE_CURRENT_LIST_DIR}/ptqHostHeaders.cmake")
if(NOT TARGET xsimd)
  ptq_host_headers(_ptq_xsimd_include xsimd)
  add_library(xsimd INTERFACE IMPORTED)
  set_target_properties(xsimd PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_ptq_xsimd_include}")
  unset(_ptq_xsimd_include)
endif()
if(NOT TARGET xsimd::xsimd)
  add_library(xsimd::xsimd INTERFACE IMPORTED)
  set_target_properties(xsimd::xsimd PROPERTIES INTERFACE_LINK_LIBRARIES xsimd)
endif()
