# The strongSwan settings parser, with includes served from memory (fuzz_settings.cc).
ikeplex_add_fuzzer(fuzz_settings
    SOURCES fuzz_settings.cc
    LIBS ikeplex_config
    SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/settings)
