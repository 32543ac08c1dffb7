# ptqXsimdCompat.cmake: make Debian's xsimd 8.1 package usable, in our build and in ptqConfig.cmake.
#
# Debian 12's libxsimd-dev exports the target `xsimd` (no `xsimd::` namespace) whose
# INTERFACE_LINK_LIBRARIES names `xtl`, a library the package neither ships nor depends on:
# linking it as-is fails with "cannot find -lxtl". xsimd is header-only and ptq uses none of the
# xtl complex-number glue, so when no `xtl` target exists we drop that link item. Then we provide
# `xsimd::xsimd`, the name newer xsimd builds use, so ptq's targets spell one name everywhere.
if(TARGET xsimd AND NOT TARGET xtl)
  get_target_property(_ptq_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_ptq_xsimd_links)
    list(REMOVE_ITEM _ptq_xsimd_links xtl)
    set_target_properties(xsimd PROPERTIES INTERFACE_LINK_LIBRARIES "${_ptq_xsimd_links}")
  endif()
  unset(_ptq_xsimd_links)
endif()
if(TARGET xsimd AND NOT TARGET xsimd::xsimd)
  add_library(xsimd::xsimd INTERFACE IMPORTED)
  set_target_properties(xsimd::xsimd PROPERTIES INTERFACE_LINK_LIBRARIES xsimd)
endif()
