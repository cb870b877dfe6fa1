// The seed corpus of fuzz_esp (tests/fuzz/corpus/esp): valid ESP packets under the fuzz
// target's fixed SAs (fuzz_sas.h) and replay-window sequences. This test checks that every
// committed packet seed still decapsulates as its name says (so a key or layout change cannot
// silently turn the corpus into noise); with IKEPLEX_WRITE_ESP_SEEDS=<dir> it (re)writes them.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "esp/esp_codec.h"
#include "esp/replay_window.h"
#include "fuzz_sas.h"
#include "vectors.h"

namespace ikeplex::esp {
namespace {

namespace fs = std::filesystem;

struct Seed {
    std::string name;
    Bytes bytes;
};

Bytes with_flags(std::uint8_t flags, ByteView data) {
    Bytes out{flags};
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

std::vector<Seed> build_seeds() {
    std::vector<Seed> seeds;
    const IpAddress s4 = test::addr("10.99.1.1");
    const IpAddress d4 = test::addr("10.99.2.1");
    const IpAddress s6 = test::addr("fd00:1::1");
    const IpAddress d6 = test::addr("fd00:2::1");
    for (std::size_t i = 0; i < fuzz::sas().size(); ++i) {
        auto sa = fuzz::make_sa(i);
        for (const bool esn : {false, true}) {
            const auto flags = static_cast<std::uint8_t>(i | (esn ? fuzz::kEsn : 0));
            const std::string prefix =
                    std::string("esp-") + fuzz::sas()[i].alg.name + (esn ? "-esn" : "");
            struct Case {
                const char* what;
                Mode mode;
                Bytes inner;
                std::size_t tfc;
            };
            const Case cases[] = {
                    {"tun-v4-icmp", Mode::kTunnel, test::ipv4_packet(s4, d4, 1, 64), 0},
                    {"tun-v6-udp", Mode::kTunnel, test::ipv6_packet(s6, d6, 17, 100), 0},
                    {"tra-v4-udp", Mode::kTransport, test::ipv4_packet(s4, d4, 17, 33), 0},
                    {"tra-v6-tcp", Mode::kTransport, test::ipv6_packet(s6, d6, 6, 60), 0},
                    {"tun-v4-tfc", Mode::kTunnel, test::ipv4_packet(s4, d4, 17, 10), 300},
            };
            std::uint32_t seq = 1;
            for (const Case& c : cases) {
                PacketBuf pkt;
                EXPECT_TRUE(pkt.assign(c.inner));
                EXPECT_EQ(encapsulate(*sa, Spi(fuzz::kSpi), seq++, esn, c.mode, pkt, c.tfc),
                          Drop::kNone);
                seeds.push_back({prefix + "-" + c.what, with_flags(flags, pkt.bytes())});
            }
            PacketBuf pkt;
            EXPECT_TRUE(pkt.assign(Bytes(20, 0)));
            EXPECT_EQ(encapsulate_payload(*sa, Spi(fuzz::kSpi), seq++, esn, next_header::kNoNext,
                                          pkt, 40),
                      Drop::kNone);
            seeds.push_back({prefix + "-dummy", with_flags(flags, pkt.bytes())});
        }
    }
    // Replay-window sequences: in order with reordering, and an ESN wrap.
    Bytes order;
    for (const std::uint32_t s : {1U, 2U, 5U, 3U, 3U, 100U, 40U, 36U, 37U, 200U, 1U}) {
        order.insert(order.end(),
                     {static_cast<std::uint8_t>(s >> 24U), static_cast<std::uint8_t>(s >> 16U),
                      static_cast<std::uint8_t>(s >> 8U), static_cast<std::uint8_t>(s)});
    }
    seeds.push_back({"replay-w64-order", with_flags(fuzz::kReplayMode | 0, order)});
    seeds.push_back(
            {"replay-w32-esn-order", with_flags(fuzz::kReplayMode | fuzz::kEsn | 2, order)});
    Bytes wrap;
    for (const std::uint32_t s : {0x10U, 0xfffffff0U, 0xfffffffeU, 0xfffffff9U, 2U, 0xffffffffU,
                                  0xfffffffeU, 3U, 0x80000000U, 1U}) {
        wrap.insert(wrap.end(),
                    {static_cast<std::uint8_t>(s >> 24U), static_cast<std::uint8_t>(s >> 16U),
                     static_cast<std::uint8_t>(s >> 8U), static_cast<std::uint8_t>(s)});
    }
    seeds.push_back(
            {"replay-w1024-esn-wrap", with_flags(fuzz::kReplayMode | fuzz::kEsn | 3, wrap)});
    seeds.push_back({"replay-w0-esn-wrap", with_flags(fuzz::kReplayMode | fuzz::kEsn | 1, wrap)});
    return seeds;
}

TEST(EspFuzzSeeds, CommittedSeedsAreValidPackets) {
    if (const char* dir = std::getenv("IKEPLEX_WRITE_ESP_SEEDS"); dir != nullptr) {
        fs::create_directories(dir);
        for (const Seed& s : build_seeds()) {
            std::ofstream out(fs::path(dir) / s.name, std::ios::binary);
            out.write(reinterpret_cast<const char*>(s.bytes.data()),
                      static_cast<std::streamsize>(s.bytes.size()));
        }
    }
    const fs::path corpus = ::ikeplex::test::source_dir() / "tests" / "fuzz" / "corpus" / "esp";
    ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
    std::size_t packets = 0;
    for (const auto& entry : fs::directory_iterator(corpus)) {
        const std::string name = entry.path().filename().string();
        SCOPED_TRACE(name);
        const Bytes seed = ikeplex::test::read_file(entry.path());
        ASSERT_GE(seed.size(), 1U);
        if (name.rfind("esp-", 0) != 0) {
            EXPECT_EQ(name.rfind("replay-", 0), 0U);
            EXPECT_NE(seed[0] & fuzz::kReplayMode, 0);
            continue;
        }
        const std::uint8_t flags = seed[0];
        const bool esn = (flags & fuzz::kEsn) != 0;
        auto sa = fuzz::make_sa(flags & 3U);
        PacketBuf pkt;
        ASSERT_TRUE(pkt.assign(ByteView(seed).subspan(1)));
        const auto hdr = peek_header(pkt.bytes());
        ASSERT_TRUE(hdr.has_value());
        EXPECT_EQ(hdr->spi, Spi(fuzz::kSpi));
        ReplayWindow win(fuzz::kWindowSizes[(flags >> 4U) & 7U], esn);
        const auto seq = win.check(hdr->seq);
        ASSERT_TRUE(seq.has_value());
        const bool tunnel = name.find("-tun-") != std::string::npos;
        const Drop want = name.find("-dummy") != std::string::npos ? Drop::kDummy : Drop::kNone;
        std::uint8_t nh = 0;
        EXPECT_EQ(decapsulate(*sa, *seq, esn, tunnel ? Mode::kTunnel : Mode::kTransport, pkt, nh),
                  want);
        ++packets;
    }
    EXPECT_EQ(packets, fuzz::sas().size() * 2 * 6);
}

}  // namespace
}  // namespace ikeplex::esp
