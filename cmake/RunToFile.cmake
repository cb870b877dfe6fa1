# Runs a program and writes its standard output to a file (a build step; fails with it):
#   cmake -DPROGRAM=<exe> -DARGS=<a,b> -DOUTPUT=<file> -P RunToFile.cmake
string(REPLACE "," ";" args "${ARGS}")
get_filename_component(dir "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
execute_process(COMMAND "${PROGRAM}" ${args} OUTPUT_FILE "${OUTPUT}.tmp" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    file(REMOVE "${OUTPUT}.tmp")
    message(FATAL_ERROR "${PROGRAM} ${ARGS}: exit ${rc}")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
