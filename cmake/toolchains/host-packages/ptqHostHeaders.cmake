# ptqHostHeaders.cmake: a directory of symbolic links to chosen host header trees, for a cross
# build (see ../aarch64-linux-gnu.cmake). ptq_host_headers(<out-var> <name>...) links
# ${PTQ_HOST_INCLUDE_DIR}/<name> for each name into ${CMAKE_BINARY_DIR}/ptq-host-headers and
# returns that directory: an include path that reaches those libraries and nothing else of /usr/include.
function(ptq_host_headers out_var)
  if(NOT PTQ_HOST_INCLUDE_DIR)
    set(PTQ_HOST_INCLUDE_DIR "/usr/include")
  endif()
  set(dir "${CMAKE_BINARY_DIR}/ptq-host-headers")
  file(MAKE_DIRECTORY "${dir}")
  foreach(name IN LISTS ARGN)
    if(NOT EXISTS "${PTQ_HOST_INCLUDE_DIR}/${name}")
      message(FATAL_ERROR "ptq cross build: ${PTQ_HOST_INCLUDE_DIR}/${name} not found (scripts/install-deps.sh)")
    endif()
    if(NOT EXISTS "${dir}/${name}")
      file(CREATE_LINK "${PTQ_HOST_INCLUDE_DIR}/${name}" "${dir}/${name}" SYMBOLIC)
    endif()
  endforeach()
  set(${out_var} "${dir}" PARENT_SCOPE)
endfunction()
