#include "pcap.h"

#include <fstream>

#include "util/writer.h"

namespace ikeplex::test {
namespace {

void le32(Bytes& b, std::uint32_t v) {
    for (unsigned i = 0; i < 4; ++i) {
        b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}
void le16(Bytes& b, std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v));
    b.push_back(static_cast<std::uint8_t>(v >> 8U));
}

std::uint16_t ipv4_checksum(ByteView header) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < header.size(); i += 2) {
        sum += static_cast<std::uint32_t>((header[i] << 8U) | header[i + 1]);
    }
    while ((sum >> 16U) != 0) {
        sum = (sum & 0xffffU) + (sum >> 16U);
    }
    return static_cast<std::uint16_t>(~sum);
}

}  // namespace

void write_pcap(const std::filesystem::path& path, const std::vector<UdpDatagram>& datagrams) {
    Bytes file;
    le32(file, 0xa1b2c3d4);  // magic, microsecond timestamps
    le16(file, 2);
    le16(file, 4);
    le32(file, 0);       // thiszone
    le32(file, 0);       // sigfigs
    le32(file, 262144);  // snaplen
    le32(file, 101);     // LINKTYPE_RAW: packets start with the IP header
    std::uint32_t t = 0;
    for (const UdpDatagram& d : datagrams) {
        Writer ip;
        const auto total = static_cast<std::uint16_t>(20 + 8 + d.payload.size());
        ip.write_u8(0x45);
        ip.write_u8(0);
        ip.write_u16(total);
        ip.write_u16(0);
        ip.write_u16(0x4000);  // DF
        ip.write_u8(64);
        ip.write_u8(17);  // UDP
        ip.write_u16(0);  // checksum, patched below
        ip.write_bytes(Bytes{10, 99, 0, 1});
        ip.write_bytes(Bytes{10, 99, 0, 2});
        ip.write_u16(d.src_port);
        ip.write_u16(d.dst_port);
        ip.write_u16(static_cast<std::uint16_t>(8 + d.payload.size()));
        ip.write_u16(0);  // no UDP checksum (allowed for IPv4)
        ip.write_bytes(d.payload);
        Bytes pkt = std::move(ip).take();
        const std::uint16_t sum = ipv4_checksum(ByteView(pkt).first(20));
        pkt[10] = static_cast<std::uint8_t>(sum >> 8U);
        pkt[11] = static_cast<std::uint8_t>(sum);
        le32(file, ++t);  // seconds
        le32(file, 0);
        le32(file, static_cast<std::uint32_t>(pkt.size()));
        le32(file, static_cast<std::uint32_t>(pkt.size()));
        file.insert(file.end(), pkt.begin(), pkt.end());
    }
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(file.data()),
              static_cast<std::streamsize>(file.size()));
}

}  // namespace ikeplex::test
