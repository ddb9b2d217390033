# Configures otp with a tunable that is not a positive integer and fails
# unless the configure step refuses it with a message naming the tunable.
# -DSOURCE=<repo> -DWORK=<scratch dir> -DGENERATOR=<generator> -DCXX=<compiler>
file(REMOVE_RECURSE ${WORK})
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX}
          -DOTP_BUILD_TESTS=OFF -DOTP_BUILD_BENCHMARKS=OFF -DOTP_BUILD_SAMPLES=OFF
          -DOTP_CONFIG_REDUCTIONS=lots
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "OTP_CONFIG_REDUCTIONS=lots was accepted")
endif()
if(NOT err MATCHES "OTP_CONFIG_REDUCTIONS must be a positive integer, not 'lots'")
  message(FATAL_ERROR "configure failed, but not with the tunable's message:\n${err}")
endif()
message(STATUS "refused: OTP_CONFIG_REDUCTIONS=lots")
