// Minimal pcap writer: wraps UDP payloads in IPv4/UDP (LINKTYPE_RAW) so tshark can decode what
// our writer produced.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "util/bytes.h"

namespace ikeplex::test {

struct UdpDatagram {
    Bytes payload;
    std::uint16_t src_port{500};
    std::uint16_t dst_port{500};
};

/// Writes the datagrams (10.99.0.1 -> 10.99.0.2) to a pcap file.
void write_pcap(const std::filesystem::path& path, const std::vector<UdpDatagram>& datagrams);

}  // namespace ikeplex::test
