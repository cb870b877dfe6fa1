# VICI codec (src/vici): unit tests, the recorded swanctl/charon 5.9.8 packets
# (tests/vectors/vici) and rapidcheck properties.
ikeplex_add_gtest(vici_test LABEL unit SOURCES
    unit/vici/message_test.cc
    unit/vici/packet_test.cc
    unit/vici/property_test.cc
    unit/vici/recorded_test.cc
)
target_link_libraries(vici_test PRIVATE ikeplex_vici)
