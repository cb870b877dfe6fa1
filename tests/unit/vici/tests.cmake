# VICI codec and server (src/vici): unit tests, the recorded swanctl/charon 5.9.8 packets
# (tests/vectors/vici), rapidcheck properties, and the server under hostile load (server_test:
# real unix sockets, so each case waits with a deadline).
ikeplex_add_gtest(vici_test LABEL unit SOURCES
    unit/vici/message_test.cc
    unit/vici/packet_test.cc
    unit/vici/property_test.cc
    unit/vici/recorded_test.cc
    unit/vici/server_test.cc
)
target_link_libraries(vici_test PRIVATE ikeplex_vici)
