# Fails when a public header (include/otp/*.hpp) does not compile as the only
# include of a translation unit: each must bring what it needs.
# -DCXX=<compiler> -DINCLUDE=<dir> -DWORK=<scratch dir>
file(GLOB headers RELATIVE ${INCLUDE} ${INCLUDE}/otp/*.hpp)
list(LENGTH headers n)
foreach(h IN LISTS headers)
  file(WRITE ${WORK}/header_alone_probe.cpp "#include <${h}>\n")
  execute_process(
    COMMAND ${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -I${INCLUDE} ${WORK}/header_alone_probe.cpp
    ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${h} does not compile on its own:\n${err}")
  endif()
endforeach()
message(STATUS "${n} public headers compile on their own")
