# src/serve/module.cmake - embeds the web UI (web/index.html) into the library as a byte
# array, regenerated at configure time whenever the page changes.
set(_web_src ${CMAKE_SOURCE_DIR}/web/index.html)
set(_web_out ${CMAKE_BINARY_DIR}/generated/serve_web_index.c)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_web_src})
if(EXISTS ${_web_src})
  file(READ ${_web_src} _web_hex HEX)
else()
  set(_web_hex "")
endif()
string(LENGTH "${_web_hex}" _web_hexlen)
math(EXPR _web_len "${_web_hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _web_bytes "${_web_hex}")
file(WRITE ${_web_out}.tmp
  "/* generated from web/index.html by src/serve/module.cmake - do not edit */\n"
  "#include <stddef.h>\n"
  "const unsigned char enh_serve_web_index[] = {${_web_bytes} 0x00};\n"
  "const size_t enh_serve_web_index_len = ${_web_len};\n")
file(COPY_FILE ${_web_out}.tmp ${_web_out} ONLY_IF_DIFFERENT)
target_sources(enhance_lib PRIVATE ${_web_out})
