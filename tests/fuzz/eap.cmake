# The EAP layer's parsers and method state machines (fuzz_eap.cc). Seeds: tests/fuzz/corpus/eap
# (packets, EAP-TLS fragments, MSCHAPv2 messages and conversations for each selector).
ikeplex_add_fuzzer(fuzz_eap
    SOURCES fuzz_eap.cc
    LIBS ikeplex_eap ikeplex_test_support
    SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/eap)
