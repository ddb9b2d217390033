# Standalone Asio as the INTERFACE target otp::asio (docs/toolchain.md section 2).
#
# Debian's libasio-dev ships neither a CMake config nor a .pc file, so the
# target is built here from the header location. This file is used twice: by
# the top-level CMakeLists.txt and, installed beside otpConfig.cmake, by
# find_package(otp), which recreates the target before loading otpTargets.cmake.
# otp::asio is IMPORTED, so install(EXPORT) writes it into otpTargets.cmake by
# name instead of exporting the build machine's include path.
#
# Input:  ASIO_INCLUDE_DIR (cache) may point at another Asio checkout.
# Output: target otp::asio, or OTP_ASIO_ERROR set to a message (the caller
#         decides whether that is fatal).
unset(OTP_ASIO_ERROR)
if(NOT TARGET otp::asio)
  set(_otp_asio_min_version 102201) # 1.22.1: the version the library is tested on
  find_path(ASIO_INCLUDE_DIR asio.hpp DOC "Directory holding standalone Asio's asio.hpp")
  if(NOT ASIO_INCLUDE_DIR OR NOT EXISTS "${ASIO_INCLUDE_DIR}/asio/version.hpp")
    set(OTP_ASIO_ERROR "standalone Asio (asio.hpp) not found; install libasio-dev or set ASIO_INCLUDE_DIR")
  else()
    file(STRINGS "${ASIO_INCLUDE_DIR}/asio/version.hpp" _otp_asio_line
         REGEX "^#define[ \t]+ASIO_VERSION[ \t]+[0-9]+")
    string(REGEX MATCH "[0-9]+" _otp_asio_version "${_otp_asio_line}")
    if(NOT _otp_asio_version OR _otp_asio_version LESS _otp_asio_min_version)
      set(OTP_ASIO_ERROR
          "Asio in ${ASIO_INCLUDE_DIR} has ASIO_VERSION '${_otp_asio_version}'; otp needs >= ${_otp_asio_min_version} (1.22.1)")
    endif()
  endif()
  if(NOT OTP_ASIO_ERROR)
    if(NOT TARGET Threads::Threads)
      set(THREADS_PREFER_PTHREAD_FLAG ON)
      find_package(Threads REQUIRED)
    endif()
    add_library(otp::asio INTERFACE IMPORTED)
    # IMPORTED include directories are SYSTEM: no warnings from Asio's headers.
    target_include_directories(otp::asio INTERFACE "${ASIO_INCLUDE_DIR}")
    target_compile_definitions(otp::asio INTERFACE
      ASIO_STANDALONE
      ASIO_NO_DEPRECATED
      # clang + libstdc++: Asio 1.22 only enables co_await when
      # <experimental/coroutine> exists (docs/toolchain.md section 1). Thread keyword off:
      # clang 16 caches thread_local addresses in coroutine frames (docs/toolchain.md section 6).
      $<$<CXX_COMPILER_ID:Clang,AppleClang>:ASIO_HAS_CO_AWAIT=1>
      $<$<CXX_COMPILER_ID:Clang,AppleClang>:ASIO_DISABLE_THREAD_KEYWORD_EXTENSION>)
    target_link_libraries(otp::asio INTERFACE Threads::Threads)
    target_compile_features(otp::asio INTERFACE cxx_std_20)
  endif()
  unset(_otp_asio_min_version)
  unset(_otp_asio_line)
  unset(_otp_asio_version)
endif()
