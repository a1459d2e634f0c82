# The layering the build holds (not only discipline): a domain library never links gRPC or the
# generated protos, whatever a dependency adds later. Checked at configure time by walking
# every library a target links, directly or through others.

function(_tessera_collect_links target out)
  set(seen ${${out}})
  get_target_property(links ${target} LINK_LIBRARIES)
  get_target_property(interface ${target} INTERFACE_LINK_LIBRARIES)
  foreach(dep IN LISTS links interface)
    if(dep MATCHES "^\\$<" OR dep IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${dep})
    if(TARGET ${dep})
      get_target_property(imported ${dep} IMPORTED)
      if(NOT imported)
        _tessera_collect_links(${dep} seen)
      endif()
    endif()
  endforeach()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# Fails the configuration if `target` links any of the libraries after FORBIDS.
function(tessera_forbid_links target)
  cmake_parse_arguments(ARG "" "" "FORBIDS" ${ARGN})
  set(all "")
  _tessera_collect_links(${target} all)
  foreach(forbidden IN LISTS ARG_FORBIDS)
    if(forbidden IN_LIST all)
      message(FATAL_ERROR "${target} links ${forbidden}: domain libraries stay free of gRPC and "
                          "protos (docs/architecture.md, Layering)")
    endif()
  endforeach()
endfunction()
