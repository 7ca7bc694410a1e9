# Which folder may include what: data flows tls -> probe -> report, tls/detail/
# is for tls/*.cpp only, and probe/sip/ and probe/lab/ stand on tls/ alone.
# Run as a CTest test (cmake -DROOT=<source dir> -P check_layout.cmake); it
# names every include that breaks a rule.
set(problems "")

function(forbid folder pattern why)
  file(GLOB_RECURSE files "${ROOT}/${folder}/*.cpp" "${ROOT}/${folder}/*.hpp")
  foreach(file IN LISTS files)
    file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS includes)
      if(line MATCHES "${pattern}")
        file(RELATIVE_PATH relative "${ROOT}" "${file}")
        list(APPEND problems "${relative}: ${line} (${why})")
      endif()
    endforeach()
  endforeach()
  set(problems "${problems}" PARENT_SCOPE)
endfunction()

foreach(folder probe report tests bench)
  forbid(${folder} "\"tls/detail/" "tls/detail/ is included by tls/*.cpp only")
endforeach()
foreach(folder probe report tests)
  forbid(${folder} "<openssl/" "OpenSSL is used inside tls/ only")
endforeach()
forbid(tls "\"(probe|report)/" "tls/ is the mechanism and knows nothing of probe/ or report/")
forbid(report "\"(tls|probe)/" "report/ knows nothing of OpenSSL or the domain")
forbid(probe/sip "\"(report/|probe/(findings|lab|rules|diagnosis|online|fleet|commands)[/.])"
       "probe/sip/ uses tls/ only")
forbid(probe/lab "\"(report/|probe/(findings|sip|rules|diagnosis|online|fleet|commands)[/.])"
       "probe/lab/ uses tls/ only")
forbid(probe/rules "\"probe/(online|fleet|commands)/" "rules/ do no I/O and know no command")
forbid(probe/diagnosis "\"probe/(online|fleet|commands)/" "diagnosis/ does no I/O and knows no command")
forbid(probe/load "\"probe/(online|fleet|exporter|commands)/"
       "load/ is the engine of `load`: commands/load.cpp turns flags into its settings")

if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "Includes against the layout:\n  ${text}")
endif()
message(STATUS "layout: every include goes the allowed way")
