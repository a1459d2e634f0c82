# tessera_embed_migrations(<target> <function> <dir>)
# Compiles the V<nnn>__<name>.sql files of <dir> into <target> as
#   std::vector<tessera::pg::Migration> <function>();
# so a service binary carries its schema and needs no files at run time. A line
# "--@include <path>" in a file is replaced by the file at <path> (from the source root).
function(tessera_embed_migrations target function dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/V*__*.sql)
  list(SORT sql_files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${function}.cc)
  set(body "// Generated from ${dir} by cmake/EmbedMigrations.cmake. Do not edit.\n")
  string(APPEND body "#include <vector>\n\n#include \"platform/migrations.h\"\n\n")
  string(APPEND body "std::vector<tessera::pg::Migration> ${function}() {\n  return {\n")
  foreach(file ${sql_files})
    get_filename_component(name ${file} NAME_WE)
    string(REGEX MATCH "^V([0-9]+)__(.*)$" _ ${name})
    math(EXPR version "${CMAKE_MATCH_1}")
    file(READ ${file} sql)
    # A line "--@include <path>" (from the source root) is replaced by that file: the audit
    # chain's tables and functions are one file that several schemas' migrations include.
    string(REGEX MATCHALL "--@include [^\n]+" includes "${sql}")
    foreach(include ${includes})
      string(SUBSTRING "${include}" 11 -1 included_path)
      file(READ ${CMAKE_SOURCE_DIR}/${included_path} included)
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
                   ${CMAKE_SOURCE_DIR}/${included_path})
      string(REPLACE "${include}" "${included}" sql "${sql}")
    endforeach()
    # Embedded at configure time: an edited file must configure again, or the binary would
    # carry its old text.
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
    string(APPEND body "      {${version}, \"${CMAKE_MATCH_2}\", R\"tessera_sql(${sql})tessera_sql\"},\n")
  endforeach()
  string(APPEND body "  };\n}\n")
  file(CONFIGURE OUTPUT ${out} CONTENT "${body}" @ONLY)
  target_sources(${target} PRIVATE ${out})
endfunction()
