# Builds and runs tests/consumer against this build of otp (cmake -P script,
# registered by tests/CMakeLists.txt as consumer_find_package and
# consumer_add_subdirectory).
#
#   MODE=find_package      install OTP_BINARY_DIR into WORK_DIR/prefix, then
#                          configure the consumer with CMAKE_PREFIX_PATH=prefix
#   MODE=add_subdirectory  configure the consumer with OTP_SOURCE_DIR=<repo>
#                          (and OTP_CONFIG_CALL_TIMEOUT_MS=CALL_TIMEOUT_MS
#                          when given: a tunable set by the user's build)
#
# CALL_TIMEOUT_MS is also what the consumer must print as otp's default call
# timeout: the tunable reached the user's code.
#
# The consumer build directory (WORK_DIR/build) is reused between runs so a
# rerun only recompiles what changed; it is reconfigured every time and the
# install prefix is recreated every time.
cmake_minimum_required(VERSION 3.21)

foreach(_var MODE WORK_DIR OTP_SOURCE_DIR CONSUMER_SOURCE_DIR CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${_var}=... is required")
  endif()
endforeach()
# CONFIG is the parent's $<CONFIG>; it is empty for a single-config build with
# no CMAKE_BUILD_TYPE, whose install rules only match an empty --config.
set(_config_arg "")
if(CONFIG)
  set(_config_arg --config "${CONFIG}")
endif()

function(run step)
  string(REPLACE ";" " " _shown "${ARGN}")
  message(STATUS "[${step}] ${_shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "[${step}] failed (${_rc})")
  endif()
endfunction()

set(_build "${WORK_DIR}/build")
set(_cfg
  -S "${CONSUMER_SOURCE_DIR}" -B "${_build}"
  -G "${GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_BUILD_TYPE=${CONFIG}")
if(GENERATOR_PLATFORM)
  list(APPEND _cfg -A "${GENERATOR_PLATFORM}")
endif()
if(GENERATOR_TOOLSET)
  list(APPEND _cfg -T "${GENERATOR_TOOLSET}")
endif()
if(MAKE_PROGRAM)
  list(APPEND _cfg "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER_LAUNCHER)
  list(APPEND _cfg "-DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_COMPILER_LAUNCHER}")
endif()

if(MODE STREQUAL "find_package")
  if(NOT OTP_BINARY_DIR)
    message(FATAL_ERROR "run_consumer.cmake: MODE=find_package needs -DOTP_BINARY_DIR=...")
  endif()
  set(_prefix "${WORK_DIR}/prefix")
  file(REMOVE_RECURSE "${_prefix}")
  run(install "${CMAKE_COMMAND}" --install "${OTP_BINARY_DIR}" --prefix "${_prefix}" ${_config_arg})
  # The installed package carries no sanitizer flags (they are build-tree
  # only), so a sanitized libotp needs them on the consumer's own command lines.
  list(APPEND _cfg
    "-DCMAKE_PREFIX_PATH=${_prefix}"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS} ${SANITIZE_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS} ${SANITIZE_FLAGS}"
    -UOTP_SOURCE_DIR)
elseif(MODE STREQUAL "add_subdirectory")
  # otp's own OTP_SANITIZE reaches the consumer through otp::otp.
  list(APPEND _cfg
    "-DOTP_SOURCE_DIR=${OTP_SOURCE_DIR}"
    "-DOTP_SANITIZE=${SANITIZE}"
    "-DOTP_POOLS=${POOLS}"
    "-DOTP_WERROR=${WERROR}"
    "-DBUILD_SHARED_LIBS=${SHARED}"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}"
    "-DOTP_CONFIG_CALL_TIMEOUT_MS=${CALL_TIMEOUT_MS}")
else()
  message(FATAL_ERROR "run_consumer.cmake: MODE must be find_package or add_subdirectory, not '${MODE}'")
endif()

run(configure "${CMAKE_COMMAND}" ${_cfg})

cmake_host_system_information(RESULT _jobs QUERY NUMBER_OF_LOGICAL_CORES)
run(build "${CMAKE_COMMAND}" --build "${_build}" ${_config_arg} --parallel ${_jobs})

# Single-config generators put the program in the build directory, multi-config
# ones in a per-configuration subdirectory.
set(_exe "")
foreach(_candidate "${_build}/consumer" "${_build}/${CONFIG}/consumer"
                   "${_build}/consumer.exe" "${_build}/${CONFIG}/consumer.exe")
  if(EXISTS "${_candidate}")
    set(_exe "${_candidate}")
    break()
  endif()
endforeach()
if(NOT _exe)
  message(FATAL_ERROR "[run] the consumer program was not found under ${_build}")
endif()

message(STATUS "[run] ${_exe}")
execute_process(COMMAND "${_exe}"
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err TIMEOUT 120)
message("${_out}${_err}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "[run] consumer exited with '${_rc}'")
endif()
if(NOT _out MATCHES "consumer got 42")
  message(FATAL_ERROR "[run] consumer output lacks 'consumer got 42'")
endif()
if(CALL_TIMEOUT_MS AND NOT _out MATCHES "call timeout ${CALL_TIMEOUT_MS} ms")
  message(FATAL_ERROR "[run] the consumer does not see OTP_CONFIG_CALL_TIMEOUT_MS=${CALL_TIMEOUT_MS}")
endif()
message(STATUS "[run] ok: consumer got 42 (${MODE})")
