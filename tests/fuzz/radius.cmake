# RADIUS codec and reply checks (fuzz_radius.cc). Seeds: RFC 2865 §7's packets, an
# Access-Challenge and an Access-Accept with MS-MPPE keys (tests/fuzz/corpus/radius).
ikeplex_add_fuzzer(fuzz_radius
    SOURCES fuzz_radius.cc
    LIBS ikeplex_radius
    SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/radius)
