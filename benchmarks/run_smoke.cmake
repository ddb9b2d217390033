# cmake -DPROGRAM=<exe> -DARGS=<a,b,...> -P run_smoke.cmake
# Passes when PROGRAM exits 0 AND prints a `RESULT <metric> <value> <unit>`
# line (ctest's PASS_REGULAR_EXPRESSION alone would ignore the exit code).
string(REPLACE "," ";" _args "${ARGS}")
execute_process(COMMAND "${PROGRAM}" ${_args}
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
message("${_out}${_err}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} ${_args}: exited with '${_rc}'")
endif()
if(NOT _out MATCHES "(^|\n)RESULT [^ \n]+ [^ \n]+ [^ \n]+")
  message(FATAL_ERROR "${PROGRAM} ${_args}: no `RESULT <metric> <value> <unit>` line")
endif()
