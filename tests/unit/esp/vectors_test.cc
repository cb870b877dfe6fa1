// ESP known answers (tests/vectors/esp, README there):
//  (a) RFC 7634 Appendix A: ChaCha20-Poly1305 tunnel-mode ESP — decapsulated to the source
//      packet, and the source packet encapsulated (same SPI, sequence number, IV) to the
//      RFC's bytes; on OpenSSL and IPsec-MB.
//  (b) real packets from strongSwan 6.0.6 (two captures, raw ESP, AES-GCM-128): decrypted to
//      the ICMP echo request/reply they carry, through the replay window in order (a repeat is
//      refused), and re-encapsulated with the packet's own IV to the very same bytes.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "esp/esp_codec.h"
#include "esp/replay_window.h"
#include "esp_test_util.h"
#include "util/hex.h"
#include "vector_file.h"

namespace ikeplex::esp {
namespace {

std::uint32_t be32(const Bytes& b) {
    return (std::uint32_t{b.at(0)} << 24U) | (std::uint32_t{b.at(1)} << 16U) |
           (std::uint32_t{b.at(2)} << 8U) | std::uint32_t{b.at(3)};
}

std::unique_ptr<SaCrypto> aead(std::uint16_t encr, std::uint16_t bits, const Bytes& keymat,
                               bool mb) {
    return SaCrypto::create(test::registry(), encr, bits, 0, keymat, {},
                            mb ? &test::ipsec_mb() : nullptr)
            .value();
}

class EspVectors : public ::testing::TestWithParam<bool> {};

TEST_P(EspVectors, Rfc7634AppendixA) {
    const auto vectors = ikeplex::test::load_vectors("esp/rfc7634-appendix-a.txt");
    ASSERT_EQ(vectors.size(), 1U);
    const auto& v = vectors.front();
    const Bytes esp = v.bytes("esp");
    const Bytes source = v.bytes("source_packet");
    auto c = aead(28, 256, v.bytes("keymat"), GetParam());

    PacketBuf pkt;
    ASSERT_TRUE(pkt.assign(esp));
    const auto hdr = peek_header(pkt.bytes());
    ASSERT_TRUE(hdr.has_value());
    EXPECT_EQ(hdr->spi, Spi(be32(v.bytes("spi"))));
    EXPECT_EQ(hdr->seq, be32(v.bytes("seq")));
    ReplayWindow win(64, false);
    const auto seq = win.check(hdr->seq);
    ASSERT_EQ(seq, 5U);
    std::uint8_t nh = 0;
    ASSERT_EQ(decapsulate(*c, *seq, false, Mode::kTunnel, pkt, nh), Drop::kNone);
    EXPECT_EQ(nh, 4);
    EXPECT_EQ(to_hex(pkt.bytes()), to_hex(source));
    EXPECT_TRUE(win.update(*seq));

    ASSERT_TRUE(pkt.assign(source));
    ASSERT_EQ(encapsulate_with_iv(*c, hdr->spi, 5, false, Mode::kTunnel, pkt, v.bytes("iv")),
              Drop::kNone);
    EXPECT_EQ(to_hex(pkt.bytes()), to_hex(esp));

    // The outer header the RFC shows frames exactly this ESP packet.
    const Bytes outer = v.bytes("outer_ip");
    ASSERT_EQ(outer.size(), 20U);
    EXPECT_EQ(outer[9], 50);
    EXPECT_EQ((std::size_t{outer[2]} << 8U) + outer[3], outer.size() + esp.size());
}

struct Echo {
    std::string src;  ///< inner source
    std::string dst;
    std::uint8_t icmp_type;
    std::uint16_t icmp_seq;
};

TEST_P(EspVectors, StrongSwan606AesGcm128) {
    const auto vectors = ikeplex::test::load_vectors("esp/strongswan-6.0.6-esp.txt");
    ASSERT_EQ(vectors.size(), 8U);
    // One replay window per SPI, as a receiving worker keeps them.
    std::map<std::uint32_t, ReplayWindow> windows;
    std::size_t requests = 0;
    std::size_t replies = 0;
    for (const auto& v : vectors) {
        SCOPED_TRACE(v.name);
        const Bytes esp = v.bytes("esp");
        const std::uint32_t spi = be32(v.bytes("spi"));
        auto c = aead(20, 128, v.bytes("keymat"), GetParam());
        auto [it, fresh] = windows.try_emplace(spi, 64, false);
        ReplayWindow& win = it->second;

        PacketBuf pkt;
        ASSERT_TRUE(pkt.assign(esp));
        const auto hdr = peek_header(pkt.bytes());
        ASSERT_TRUE(hdr.has_value());
        EXPECT_EQ(hdr->spi.value(), spi);
        EXPECT_EQ(hdr->seq, be32(v.bytes("seq")));
        EXPECT_EQ(hdr->seq, fresh ? 1U : 2U) << "strongSwan numbers each SA from 1";
        const auto seq = win.check(hdr->seq);
        ASSERT_EQ(seq, hdr->seq);
        std::uint8_t nh = 0;
        ASSERT_EQ(decapsulate(*c, *seq, false, Mode::kTunnel, pkt, nh), Drop::kNone);
        ASSERT_TRUE(win.update(*seq));
        EXPECT_FALSE(win.check(hdr->seq).has_value()) << "a repeat must be refused";
        EXPECT_EQ(win.highest(), *seq);
        EXPECT_EQ(nh, 4);
        // Against the independent decryption (python3-cryptography) in the vector file.
        const Bytes inner(pkt.bytes().begin(), pkt.bytes().end());
        EXPECT_EQ(to_hex(inner), to_hex(v.bytes("inner")));

        // The inner packet: an 84-byte ICMP echo between 10.99.1.1 and 10.99.2.1, the
        // direction following the outer one (10.99.0.1 is the 10.99.1.0/24 side).
        ASSERT_EQ(inner.size(), 84U);
        const auto ip = [&](std::size_t at) {
            return IpAddress::from_bytes(ByteView(inner).subspan(at, 4)).value().to_string();
        };
        const bool from_a = v.text("outer_src") == "10.99.0.1";
        EXPECT_EQ(ip(12), from_a ? "10.99.1.1" : "10.99.2.1");
        EXPECT_EQ(ip(16), from_a ? "10.99.2.1" : "10.99.1.1");
        EXPECT_EQ(inner[9], 1) << "ICMP";
        EXPECT_EQ(inner[20], from_a ? 8 : 0) << "echo request from a, reply from b";
        const auto icmp_seq = static_cast<std::uint16_t>((inner[26] << 8U) | inner[27]);
        EXPECT_EQ(icmp_seq, hdr->seq) << "ping 1 and 2 travel in ESP packets 1 and 2";
        (from_a ? requests : replies) += 1;

        // Re-encapsulated with strongSwan's IV: byte for byte what strongSwan sent (same
        // padding 1, 2, same trailer).
        ASSERT_TRUE(pkt.assign(inner));
        ASSERT_EQ(encapsulate_with_iv(*c, hdr->spi, *seq, false, Mode::kTunnel, pkt,
                                      ByteView(esp).subspan(8, 8)),
                  Drop::kNone);
        EXPECT_EQ(to_hex(pkt.bytes()), to_hex(esp));

        // The same packet under the other direction's key fails the ICV.
        Bytes other_key = v.bytes("keymat");
        other_key[3] ^= 1;
        auto wrong = aead(20, 128, other_key, GetParam());
        ASSERT_TRUE(pkt.assign(esp));
        EXPECT_EQ(decapsulate(*wrong, *seq, false, Mode::kTunnel, pkt, nh), Drop::kIntegrity);
    }
    EXPECT_EQ(requests, 4U);
    EXPECT_EQ(replies, 4U);
    EXPECT_EQ(windows.size(), 4U);
}

INSTANTIATE_TEST_SUITE_P(Backends, EspVectors, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "IpsecMb" : "OpenSsl"; });

}  // namespace
}  // namespace ikeplex::esp
