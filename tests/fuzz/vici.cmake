# VICI codec: packets, messages and stream framing. Seeds: every packet recorded between
# swanctl and charon 5.9.8 (tests/vectors/vici/packets).
ikeplex_add_fuzzer(fuzz_vici
    SOURCES fuzz_vici.cc
    LIBS ikeplex_vici
    SEEDS ${PROJECT_SOURCE_DIR}/tests/vectors/vici/packets)
