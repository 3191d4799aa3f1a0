# src/cli additions: the version string for `enhance --version`.
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/cli/main.c PROPERTIES
  COMPILE_DEFINITIONS "ENH_VERSION=\"${PROJECT_VERSION}\"")
