# ESP inbound processing (src/esp): peek, replay window, decapsulation in both modes, transport
# header, plus a replay-window mode. Seeds: valid packets under the target's fixed SAs
# (tests/unit/esp/fuzz_sas.h; esp_test checks them and rewrites them with
# IKEPLEX_WRITE_ESP_SEEDS=<dir>).
ikeplex_add_fuzzer(fuzz_esp
    SOURCES fuzz_esp.cc
    LIBS ikeplex_esp
    SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/esp)
target_include_directories(fuzz_esp PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit/esp)
