# NETLINK_XFRM input: one datagram from the kernel split into messages, each parsed by type
# (acks, SAs, SA ids, acquires, expires, mappings, policies), plus attribute walks after
# arbitrary header lengths. Seeds: real kernel replies and events (corpus/xfrm/README.md).
ikeplex_add_fuzzer(fuzz_xfrm
    SOURCES fuzz_xfrm.cc
    LIBS ikeplex_xfrm
    SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/xfrm)
