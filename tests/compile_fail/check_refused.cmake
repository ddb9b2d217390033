# Builds TARGET in BUILD_DIR, which must fail, and checks that the compiler
# refused exactly the lines of SOURCE marked `// refused`, each with the
# guard's message, and nothing else.
#   cmake -DBUILD_DIR=... -DTARGET=... -DSOURCE=... [-DCONFIG=...] -P check_refused.cmake
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET} --config ${CONFIG}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
set(out "${out}${err}")
string(REPLACE ";" "," out "${out}")  # not a CMake list
if(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled: the refused spellings were accepted")
endif()

get_filename_component(name ${SOURCE} NAME)
file(STRINGS ${SOURCE} lines)
set(line 0)
set(expected 0)
set(missing "")
foreach(text IN LISTS lines)
  math(EXPR line "${line} + 1")
  if(text MATCHES "[^ /].*// refused")
    math(EXPR expected "${expected} + 1")
    # The instantiation that failed is required from this line.
    if(NOT out MATCHES "${name}:${line}:[0-9]+:")
      list(APPEND missing "${line}: ${text}")
    endif()
  endif()
endforeach()

# Every error is the guard's.
string(REGEX MATCHALL "error: [^\n]*" errors "${out}")
set(foreign "")
set(guard 0)
foreach(e IN LISTS errors)
  if(e MATCHES "GCC before 13 destroys twice")
    math(EXPR guard "${guard} + 1")
  elseif(NOT e MATCHES "ninja: build stopped|Error [0-9]|error: ld returned")
    list(APPEND foreign "${e}")
  endif()
endforeach()

if(missing OR foreign OR NOT guard EQUAL expected)
  string(REPLACE ";" "\n  " missing "${missing}")
  string(REPLACE ";" "\n  " foreign "${foreign}")
  message(FATAL_ERROR "The GCC 12 guard: ${expected} refused lines, ${guard} refusals.\n"
                      "Not refused:\n  ${missing}\nOther errors:\n  ${foreign}\n--- compiler output ---\n${out}")
endif()
message(STATUS "the GCC 12 guard refused all ${expected} marked spellings of ${name}, and nothing else")
