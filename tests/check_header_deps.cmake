# Fails when one of HEADERS (paths under INCLUDE) reads a Boost or Asio header.
# -DCXX=<compiler> -DINCLUDE=<dir> -DHEADERS=<a;b>
foreach(h IN LISTS HEADERS)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/header_deps_probe.cpp "#include <${h}>\n")
  execute_process(
    COMMAND ${CXX} -std=c++20 -I${INCLUDE} -M ${CMAKE_CURRENT_BINARY_DIR}/header_deps_probe.cpp
    OUTPUT_VARIABLE deps ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${h} does not compile on its own:\n${err}")
  endif()
  string(REGEX MATCHALL "[^ \\\n]*/(boost|asio)/[^ \\\n]*" heavy "${deps}")
  list(LENGTH heavy n)
  if(n GREATER 0)
    list(GET heavy 0 first)
    message(FATAL_ERROR "${h} reads ${n} Boost/Asio headers, the first ${first}")
  endif()
  message(STATUS "${h}: standard library only")
endforeach()
