# src/nn/module.cmake - included by the top-level CMakeLists after enhance_lib is defined.
#
# 1. Embeds models/manifest.json into the library as a C byte array (generated at
#    configure time into ${CMAKE_BINARY_DIR}/generated/nn_manifest_data.c; re-generated
#    when the manifest changes).
# 2. The reference convolution is compiled at -O3 so its row loops are vectorised (it stays
#    plain C: same operations, same summation order, same results).
set(_manifest ${CMAKE_SOURCE_DIR}/models/manifest.json)
set(_gen ${CMAKE_BINARY_DIR}/generated/nn_manifest_data.c)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_manifest})
file(READ ${_manifest} _hex HEX)
string(LENGTH "${_hex}" _hexlen)
math(EXPR _nbytes "${_hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" _bytes "${_bytes}")
file(WRITE ${_gen}.tmp "/* generated from models/manifest.json by src/nn/module.cmake - do not edit */\n#include <stddef.h>\nconst unsigned char enh_manifest_json[] = {\n${_bytes}0x00};\nconst size_t enh_manifest_json_len = ${_nbytes};\n")
file(COPY_FILE ${_gen}.tmp ${_gen} ONLY_IF_DIFFERENT)
target_sources(enhance_lib PRIVATE ${_gen})

set_source_files_properties(${CMAKE_SOURCE_DIR}/src/nn/conv_ref.c PROPERTIES COMPILE_OPTIONS "-O3")

# The TF runtime's element-wise, data-movement and reduction kernels are plain C loops over
# blocks: at -O2 GCC 12 vectorises only loops without a remainder, which these never are.
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/nn/tf_ew.c ${CMAKE_SOURCE_DIR}/src/nn/tf_move.c
  ${CMAKE_SOURCE_DIR}/src/nn/tf_kern.c ${CMAKE_SOURCE_DIR}/src/nn/tf_axismix.c PROPERTIES COMPILE_OPTIONS "-O3")
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/nn/tf_layernorm.c PROPERTIES COMPILE_OPTIONS "-O3")
