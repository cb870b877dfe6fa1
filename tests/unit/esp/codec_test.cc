// ESP encapsulation/decapsulation round trips for every algorithm (AES-GCM-16 128/192/256,
// ChaCha20-Poly1305, AES-CBC 128/192/256 × HMAC-SHA2-256/384/512, legacy AES-128-CBC and
// 3DES-CBC with HMAC-SHA1-96), tunnel and transport,
// IPv4 and IPv6, ESN on and off, on OpenSSL and (AEAD) IPsec-MB; tampering, wrong keys, TFC
// padding, dummy packets, trailers and inner packets that must be refused.
#include <cstdint>
#include <set>
#include <string>

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include "crypto/cbc.h"
#include "crypto/prf.h"
#include "esp/esp_codec.h"
#include "esp/replay_window.h"
#include "esp_test_util.h"
#include "util/hex.h"

namespace ikeplex::esp {
namespace {

using test::Alg;
using test::all_algs;
using test::ipv4_packet;
using test::ipv6_packet;
using test::Keys;
using test::keys_for;
using test::make_crypto;

constexpr std::uint64_t kEpoch = std::uint64_t{1} << 32U;
constexpr Spi kSpi(0xc1a2b3c4);

struct Inner {
    const char* name;
    Bytes packet;
    IpAddress src;
    IpAddress dst;
};

std::vector<Inner> inners() {
    const IpAddress s4 = test::addr("10.99.1.1");
    const IpAddress d4 = test::addr("10.99.2.1");
    const IpAddress s6 = test::addr("2001:db8:1::1");
    const IpAddress d6 = test::addr("2001:db8:2::1");
    return {
            {"v4-udp-1400", ipv4_packet(s4, d4, 17, 1380), s4, d4},
            {"v4-icmp-64", ipv4_packet(s4, d4, 1, 44), s4, d4},
            {"v4-tcp-odd", ipv4_packet(s4, d4, 6, 333), s4, d4},
            {"v4-empty", ipv4_packet(s4, d4, 17, 0), s4, d4},
            {"v6-udp-1400", ipv6_packet(s6, d6, 17, 1360), s6, d6},
            {"v6-icmp-77", ipv6_packet(s6, d6, 58, 77), s6, d6},
    };
}

/// Which backends an algorithm runs on.
std::vector<bool> backends(const Alg& a) {
    return a.aead ? std::vector<bool>{false, true} : std::vector<bool>{false};
}

std::string trace(const Alg& a, bool mb, Mode m, const Inner& in, bool esn) {
    return std::string(a.name) + (mb ? "/ipsec-mb" : "/openssl") +
           (m == Mode::kTunnel ? "/tunnel/" : "/transport/") + in.name + (esn ? "/esn" : "");
}

TEST(EspCodec, RoundTripsEveryAlgorithmModeFamilyAndEsn) {
    std::size_t runs = 0;
    for (const Alg& a : all_algs()) {
        const Keys k = keys_for(a, 0x11);
        for (const bool mb : backends(a)) {
            auto tx = make_crypto(a, k, mb);
            auto rx = make_crypto(a, k, mb);
            EXPECT_STREQ(rx->backend_name(),
                         a.aead ? (mb ? "ipsec-mb" : "openssl") : "openssl-cbc-hmac");
            for (const Mode mode : {Mode::kTunnel, Mode::kTransport}) {
                for (const Inner& in : inners()) {
                    for (const bool esn : {false, true}) {
                        SCOPED_TRACE(trace(a, mb, mode, in, esn));
                        // With ESN the SA has gone past a wrap: high bits 1.
                        const std::uint64_t seq = esn ? kEpoch + 5 : 5;
                        ReplayWindow win(64, esn);
                        ASSERT_TRUE(win.update(seq - 3));
                        PacketBuf pkt;
                        ASSERT_TRUE(pkt.assign(in.packet));
                        const std::size_t payload =
                                mode == Mode::kTunnel
                                        ? in.packet.size()
                                        : in.packet.size() - (in.src.is_v4() ? 20 : 40);
                        ASSERT_EQ(encapsulate(*tx, kSpi, seq, esn, mode, pkt), Drop::kNone);
                        EXPECT_EQ(pkt.size(), payload + tx->overhead(payload));
                        EXPECT_EQ((pkt.size() - 8 - tx->iv_size() - tx->icv_size()) %
                                          tx->block_size(),
                                  0U);

                        const auto hdr = peek_header(pkt.bytes());
                        ASSERT_TRUE(hdr.has_value());
                        EXPECT_EQ(hdr->spi, kSpi);
                        EXPECT_EQ(hdr->seq, 5U);
                        const auto full = win.check(hdr->seq);
                        ASSERT_EQ(full, seq);

                        std::uint8_t nh = 0;
                        ASSERT_EQ(decapsulate(*rx, *full, esn, mode, pkt, nh), Drop::kNone);
                        ASSERT_TRUE(win.update(*full));
                        EXPECT_FALSE(win.check(hdr->seq).has_value()) << "replay accepted";
                        if (mode == Mode::kTunnel) {
                            EXPECT_EQ(nh, in.src.is_v4() ? 4 : 41);
                            EXPECT_EQ(to_hex(pkt.bytes()), to_hex(in.packet));
                        } else {
                            EXPECT_EQ(nh, in.packet[in.src.is_v4() ? 9 : 6]);
                            ASSERT_EQ(pkt.size(), payload);
                            ASSERT_TRUE(add_transport_header(pkt, in.src, in.dst, nh));
                            EXPECT_EQ(to_hex(pkt.bytes()), to_hex(in.packet));
                        }
                        ++runs;
                    }
                }
            }
        }
    }
    EXPECT_EQ(runs, (4 * 2 + 11) * 2 * 6 * 2U);
}

TEST(EspCodec, EsnHighBitsAreAuthenticated) {
    for (const Alg& a : all_algs()) {
        SCOPED_TRACE(a.name);
        const Keys k = keys_for(a, 0x22);
        auto c = make_crypto(a, k, false);
        const Bytes inner = ipv4_packet(test::addr("10.0.0.1"), test::addr("10.0.0.2"), 17, 100);
        PacketBuf pkt;
        ASSERT_TRUE(pkt.assign(inner));
        ASSERT_EQ(encapsulate(*c, kSpi, 3 * kEpoch + 9, true, Mode::kTunnel, pkt), Drop::kNone);
        const Bytes sent(pkt.bytes().begin(), pkt.bytes().end());
        std::uint8_t nh = 0;
        // Same low bits, other high bits: the ICV / AAD covers them.
        for (const std::uint64_t wrong : {2 * kEpoch + 9, 4 * kEpoch + 9}) {
            ASSERT_TRUE(pkt.assign(sent));
            EXPECT_EQ(decapsulate(*c, wrong, true, Mode::kTunnel, pkt, nh), Drop::kIntegrity);
        }
        // Without ESN on the receiving side the high bits are not included: fails as well.
        ASSERT_TRUE(pkt.assign(sent));
        EXPECT_EQ(decapsulate(*c, 9, false, Mode::kTunnel, pkt, nh), Drop::kIntegrity);
        ASSERT_TRUE(pkt.assign(sent));
        EXPECT_EQ(decapsulate(*c, 3 * kEpoch + 9, true, Mode::kTunnel, pkt, nh), Drop::kNone);
        EXPECT_EQ(to_hex(pkt.bytes()), to_hex(inner));
    }
}

TEST(EspCodec, TamperedBytesAndWrongKeysFailTheIcv) {
    for (const Alg& a : all_algs()) {
        for (const bool mb : backends(a)) {
            SCOPED_TRACE(std::string(a.name) + (mb ? "/ipsec-mb" : "/openssl"));
            const Keys k = keys_for(a, 0x33);
            auto c = make_crypto(a, k, mb);
            const Bytes inner = ipv6_packet(test::addr("fd00::1"), test::addr("fd00::2"), 17, 200);
            PacketBuf pkt;
            ASSERT_TRUE(pkt.assign(inner));
            ASSERT_EQ(encapsulate(*c, kSpi, 77, false, Mode::kTunnel, pkt), Drop::kNone);
            const Bytes sent(pkt.bytes().begin(), pkt.bytes().end());
            std::uint8_t nh = 0;
            // Every byte except the sequence number (checked against `seq` first: kMalformed).
            for (std::size_t i = 0; i < sent.size(); ++i) {
                if (i >= 4 && i < 8) {
                    continue;
                }
                Bytes bad = sent;
                bad[i] ^= static_cast<std::uint8_t>(1U << (i % 8));
                ASSERT_TRUE(pkt.assign(bad));
                ASSERT_EQ(decapsulate(*c, 77, false, Mode::kTunnel, pkt, nh), Drop::kIntegrity)
                        << "byte " << i;
            }
            Bytes bad_seq = sent;
            bad_seq[7] ^= 1;
            ASSERT_TRUE(pkt.assign(bad_seq));
            EXPECT_EQ(decapsulate(*c, 77, false, Mode::kTunnel, pkt, nh), Drop::kMalformed);
            ASSERT_TRUE(pkt.assign(bad_seq));
            EXPECT_EQ(decapsulate(*c, 76, false, Mode::kTunnel, pkt, nh), Drop::kIntegrity);

            // Wrong keys. AEAD: the key authenticates. CBC + HMAC: the integrity key does;
            // a wrong encryption key alone passes the ICV and decrypts to garbage.
            Keys other = k;
            other.encr[0] ^= 0x80;
            auto wrong = make_crypto(a, other, mb);
            ASSERT_TRUE(pkt.assign(sent));
            const Drop d = decapsulate(*wrong, 77, false, Mode::kTunnel, pkt, nh);
            if (a.aead) {
                EXPECT_EQ(d, Drop::kIntegrity);
            } else {
                EXPECT_TRUE(d == Drop::kBadTrailer || d == Drop::kBadInner) << to_string(d);
                for (const bool both : {false, true}) {
                    Keys other_integ = both ? other : k;
                    other_integ.integ.back() ^= 1;
                    auto wrong_integ = make_crypto(a, other_integ, mb);
                    ASSERT_TRUE(pkt.assign(sent));
                    EXPECT_EQ(decapsulate(*wrong_integ, 77, false, Mode::kTunnel, pkt, nh),
                              Drop::kIntegrity);
                }
            }
            ASSERT_TRUE(pkt.assign(sent));
            EXPECT_EQ(decapsulate(*c, 77, false, Mode::kTunnel, pkt, nh), Drop::kNone);
            EXPECT_EQ(to_hex(pkt.bytes()), to_hex(inner));
        }
    }
}

TEST(EspCodec, OpenSslAndIpsecMbInteroperate) {
    for (const Alg& a : all_algs()) {
        if (!a.aead) {
            continue;
        }
        SCOPED_TRACE(a.name);
        const Keys k = keys_for(a, 0x44);
        auto ossl = make_crypto(a, k, false);
        auto mb = make_crypto(a, k, true);
        const Bytes inner = ipv4_packet(test::addr("10.1.1.1"), test::addr("10.2.2.2"), 6, 1000);
        for (const bool esn : {false, true}) {
            const std::uint64_t seq = esn ? 7 * kEpoch + 1 : 1;
            PacketBuf p1;
            PacketBuf p2;
            ASSERT_TRUE(p1.assign(inner));
            ASSERT_TRUE(p2.assign(inner));
            ASSERT_EQ(encapsulate(*ossl, kSpi, seq, esn, Mode::kTunnel, p1), Drop::kNone);
            ASSERT_EQ(encapsulate(*mb, kSpi, seq, esn, Mode::kTunnel, p2), Drop::kNone);
            EXPECT_EQ(to_hex(p1.bytes()), to_hex(p2.bytes())) << "same key, IV, AAD";
            std::uint8_t nh = 0;
            ASSERT_EQ(decapsulate(*mb, seq, esn, Mode::kTunnel, p1, nh), Drop::kNone);
            ASSERT_EQ(decapsulate(*ossl, seq, esn, Mode::kTunnel, p2, nh), Drop::kNone);
            EXPECT_EQ(to_hex(p1.bytes()), to_hex(inner));
            EXPECT_EQ(to_hex(p2.bytes()), to_hex(inner));
        }
    }
}

TEST(EspCodec, TfcPaddingIsRemovedByTheInnerLength) {
    for (const Alg& a : all_algs()) {
        SCOPED_TRACE(a.name);
        const Keys k = keys_for(a, 0x55);
        auto c = make_crypto(a, k, false);
        for (const bool v4 : {true, false}) {
            const Bytes inner =
                    v4 ? ipv4_packet(test::addr("10.0.0.1"), test::addr("10.0.0.2"), 1, 36)
                       : ipv6_packet(test::addr("fd00::1"), test::addr("fd00::2"), 58, 16);
            PacketBuf pkt;
            ASSERT_TRUE(pkt.assign(inner));
            ASSERT_EQ(encapsulate(*c, kSpi, 9, false, Mode::kTunnel, pkt, 1000), Drop::kNone);
            EXPECT_EQ(pkt.size(), 1000 + c->overhead(1000));
            std::uint8_t nh = 0;
            ASSERT_EQ(decapsulate(*c, 9, false, Mode::kTunnel, pkt, nh), Drop::kNone);
            EXPECT_EQ(to_hex(pkt.bytes()), to_hex(inner));
            // Larger than the target already: no TFC padding.
            ASSERT_TRUE(pkt.assign(inner));
            ASSERT_EQ(encapsulate(*c, kSpi, 10, false, Mode::kTunnel, pkt, 8), Drop::kNone);
            EXPECT_EQ(pkt.size(), inner.size() + c->overhead(inner.size()));
            // Transport mode has no inner length to trim by: TFC is not applied.
            ASSERT_TRUE(pkt.assign(inner));
            ASSERT_EQ(encapsulate(*c, kSpi, 11, false, Mode::kTransport, pkt, 1000), Drop::kNone);
            const std::size_t payload = inner.size() - (v4 ? 20 : 40);
            EXPECT_EQ(pkt.size(), payload + c->overhead(payload));
        }
    }
}

TEST(EspCodec, DummyPacketsAreDropped) {
    for (const Alg& a : all_algs()) {
        SCOPED_TRACE(a.name);
        auto c = make_crypto(a, keys_for(a, 0x66), false);
        for (const Mode mode : {Mode::kTunnel, Mode::kTransport}) {
            PacketBuf pkt;
            const Bytes junk(37, 0xa5);
            ASSERT_TRUE(pkt.assign(junk));
            ASSERT_EQ(encapsulate_payload(*c, kSpi, 3, false, next_header::kNoNext, pkt, 200),
                      Drop::kNone);
            std::uint8_t nh = 0;
            EXPECT_EQ(decapsulate(*c, 3, false, mode, pkt, nh), Drop::kDummy);
            EXPECT_EQ(nh, 59);
        }
    }
}

/// An ESP packet whose plaintext (payload | trailer) is given as is, sealed by SaCrypto.
Bytes seal_raw(SaCrypto& c, std::uint32_t seq, const Bytes& plaintext) {
    Bytes esp(8 + c.iv_size() + plaintext.size() + c.icv_size());
    esp[0] = 0xc1;
    esp[1] = 0xa2;
    esp[2] = 0xb3;
    esp[3] = 0xc4;
    esp[7] = static_cast<std::uint8_t>(seq);
    c.make_iv(seq, MutByteView(esp).subspan(8, c.iv_size()));
    std::copy(plaintext.begin(), plaintext.end(), esp.begin() + 8 + static_cast<long>(c.iv_size()));
    const std::size_t body = esp.size() - c.icv_size();
    EXPECT_TRUE(
            c.seal(MutByteView(esp).first(body), false, 0, MutByteView(esp).last(c.icv_size())));
    return esp;
}

TEST(EspCodec, TrailersAndInnerPacketsAreChecked) {
    for (const Alg& a : all_algs()) {
        SCOPED_TRACE(a.name);
        auto c = make_crypto(a, keys_for(a, 0x77), false);
        const std::size_t bs = c->block_size();
        const Bytes v4 = ipv4_packet(test::addr("10.0.0.1"), test::addr("10.0.0.2"), 17, 20);
        const auto with_trailer = [&](const Bytes& payload, Bytes padding, std::uint8_t pad_len,
                                      std::uint8_t nh) {
            Bytes p = payload;
            p.insert(p.end(), padding.begin(), padding.end());
            p.push_back(pad_len);
            p.push_back(nh);
            return p;
        };
        const auto run = [&](const Bytes& plaintext, Mode mode) {
            PacketBuf pkt;
            EXPECT_TRUE(pkt.assign(seal_raw(*c, 1, plaintext)));
            std::uint8_t nh = 0;
            return decapsulate(*c, 1, false, mode, pkt, nh);
        };
        // v4 is 40 bytes: 40 + 2 is 2 short of 4-alignment; 14 short of 16.
        const std::size_t pad = (bs - (v4.size() + 2) % bs) % bs;
        Bytes good_pad(pad);
        for (std::size_t i = 0; i < pad; ++i) {
            good_pad[i] = static_cast<std::uint8_t>(i + 1);
        }
        const auto pl = static_cast<std::uint8_t>(pad);
        EXPECT_EQ(run(with_trailer(v4, good_pad, pl, 4), Mode::kTunnel), Drop::kNone);
        Bytes zeros(pad, 0);  // padding of zeros (not RFC 4303's default 1, 2, 3, ...)
        EXPECT_EQ(run(with_trailer(v4, zeros, pl, 4), Mode::kTunnel), Drop::kBadTrailer);
        Bytes last_wrong = good_pad;
        last_wrong.back() ^= 0x40;
        EXPECT_EQ(run(with_trailer(v4, last_wrong, pl, 4), Mode::kTunnel), Drop::kBadTrailer);
        // Pad length larger than what was decrypted.
        const std::size_t all = v4.size() + pad + 2;
        Bytes tiny(all - 2, 0);
        EXPECT_EQ(run(with_trailer(tiny, {}, static_cast<std::uint8_t>(all - 1), 4), Mode::kTunnel),
                  Drop::kBadTrailer);
        // Tunnel mode: next header must be 4 or 41 and match the inner version.
        EXPECT_EQ(run(with_trailer(v4, good_pad, pl, 41), Mode::kTunnel), Drop::kBadInner);
        EXPECT_EQ(run(with_trailer(v4, good_pad, pl, 17), Mode::kTunnel), Drop::kBadInner);
        EXPECT_EQ(run(with_trailer(v4, good_pad, pl, 17), Mode::kTransport), Drop::kNone);
        Bytes lying = v4;
        lying[3] = static_cast<std::uint8_t>(v4.size() + 1);  // total length beyond the data
        EXPECT_EQ(run(with_trailer(lying, good_pad, pl, 4), Mode::kTunnel), Drop::kBadInner);
        Bytes not_ip = v4;
        not_ip[0] = 0x55;
        EXPECT_EQ(run(with_trailer(not_ip, good_pad, pl, 4), Mode::kTunnel), Drop::kBadInner);
    }
}

TEST(EspCodec, MalformedPacketsAreRefusedBeforeTheIcv) {
    for (const Alg& a : all_algs()) {
        SCOPED_TRACE(a.name);
        auto c = make_crypto(a, keys_for(a, 0x88), false);
        PacketBuf pkt;
        ASSERT_TRUE(
                pkt.assign(ipv4_packet(test::addr("10.0.0.1"), test::addr("10.0.0.2"), 17, 50)));
        ASSERT_EQ(encapsulate(*c, kSpi, 4, false, Mode::kTunnel, pkt), Drop::kNone);
        const Bytes sent(pkt.bytes().begin(), pkt.bytes().end());
        std::uint8_t nh = 0;
        for (const std::size_t cut :
             {std::size_t{1}, std::size_t{2}, std::size_t{3},
              sent.size() - 8 - c->iv_size() - c->icv_size() + 1, sent.size() - 4, sent.size()}) {
            SCOPED_TRACE(cut);
            ASSERT_TRUE(pkt.assign(ByteView(sent).first(sent.size() - cut)));
            EXPECT_EQ(decapsulate(*c, 4, false, Mode::kTunnel, pkt, nh), Drop::kMalformed);
        }
        ASSERT_TRUE(pkt.assign(sent));
        EXPECT_EQ(decapsulate(*c, kEpoch + 4, false, Mode::kTunnel, pkt, nh), Drop::kMalformed)
                << "64-bit number without ESN";
    }
}

TEST(EspCodec, OutboundRefusals) {
    const Alg& a = all_algs().front();
    auto c = make_crypto(a, keys_for(a, 0x99), false);
    const IpAddress s4 = test::addr("10.0.0.1");
    const IpAddress d4 = test::addr("10.0.0.2");
    PacketBuf pkt;
    const Bytes v4 = ipv4_packet(s4, d4, 17, 100);
    // Sequence numbers: 0 never, 2^32 only with ESN.
    ASSERT_TRUE(pkt.assign(v4));
    EXPECT_EQ(encapsulate(*c, kSpi, 0, false, Mode::kTunnel, pkt), Drop::kSeqExhausted);
    ASSERT_TRUE(pkt.assign(v4));
    EXPECT_EQ(encapsulate(*c, kSpi, kEpoch, false, Mode::kTunnel, pkt), Drop::kSeqExhausted);
    ASSERT_TRUE(pkt.assign(v4));
    EXPECT_EQ(encapsulate(*c, kSpi, kEpoch, true, Mode::kTunnel, pkt), Drop::kNone);
    // No headroom for the ESP header and IV; no tailroom for the trailer.
    ASSERT_TRUE(pkt.assign(v4, 0));
    EXPECT_EQ(encapsulate(*c, kSpi, 1, false, Mode::kTunnel, pkt), Drop::kNoRoom);
    ASSERT_TRUE(pkt.assign(v4, PacketBuf::kCapacity - v4.size()));
    EXPECT_EQ(encapsulate(*c, kSpi, 1, false, Mode::kTunnel, pkt), Drop::kNoRoom);
    ASSERT_TRUE(pkt.assign(v4));
    EXPECT_EQ(encapsulate(*c, kSpi, 1, false, Mode::kTunnel, pkt, PacketBuf::kCapacity),
              Drop::kNoRoom);
    ASSERT_TRUE(pkt.assign(v4));
    EXPECT_EQ(encapsulate(*c, kSpi, 1, false, Mode::kTunnel, pkt, SIZE_MAX), Drop::kNoRoom);
    // Not IP, truncated IP, IPv4 fragments and IPv6 extension headers in transport mode.
    ASSERT_TRUE(pkt.assign(Bytes(50, 0x00)));
    EXPECT_EQ(encapsulate(*c, kSpi, 1, false, Mode::kTunnel, pkt), Drop::kBadInner);
    ASSERT_TRUE(pkt.assign(ByteView(v4).first(60)));
    EXPECT_EQ(encapsulate(*c, kSpi, 1, false, Mode::kTunnel, pkt), Drop::kBadInner);
    Bytes frag = v4;
    frag[6] = 0x20;  // More Fragments
    ASSERT_TRUE(pkt.assign(frag));
    EXPECT_EQ(encapsulate(*c, kSpi, 1, false, Mode::kTransport, pkt), Drop::kBadInner);
    ASSERT_TRUE(pkt.assign(frag));
    EXPECT_EQ(encapsulate(*c, kSpi, 1, false, Mode::kTunnel, pkt), Drop::kNone);
    for (const int ext : {0, 43, 44, 60}) {
        ASSERT_TRUE(pkt.assign(ipv6_packet(test::addr("fd00::1"), test::addr("fd00::2"),
                                           static_cast<std::uint8_t>(ext), 64)));
        EXPECT_EQ(encapsulate(*c, kSpi, 1, false, Mode::kTransport, pkt), Drop::kBadInner);
    }
    // Bytes after the IP packet's own end are not sent.
    Bytes trailing = v4;
    trailing.resize(v4.size() + 6, 0xee);
    ASSERT_TRUE(pkt.assign(trailing));
    ASSERT_EQ(encapsulate(*c, kSpi, 2, false, Mode::kTunnel, pkt), Drop::kNone);
    std::uint8_t nh = 0;
    ASSERT_EQ(decapsulate(*c, 2, false, Mode::kTunnel, pkt, nh), Drop::kNone);
    EXPECT_EQ(to_hex(pkt.bytes()), to_hex(v4));
}

TEST(EspCodec, CbcIvsAreUnpredictableAndPerSa) {
    const Alg a{"aes128-sha256", 12, 128, 12, false};
    const Keys k = keys_for(a, 0xaa);
    auto c1 = make_crypto(a, k, false);
    auto c2 = make_crypto(a, k, false);
    std::set<std::string> ivs;
    for (std::uint64_t seq = 1; seq <= 1000; ++seq) {
        Bytes iv(16);
        c1->make_iv(seq, iv);
        EXPECT_TRUE(ivs.insert(to_hex(iv)).second) << "IV repeated at " << seq;
    }
    Bytes iv1(16);
    Bytes iv2(16);
    c1->make_iv(1, iv1);
    c2->make_iv(1, iv2);
    EXPECT_NE(to_hex(iv1), to_hex(iv2)) << "the IV key must be random per SA";
    // The documented construction: AES-128-ECB(iv key, seq64 | 0^64), with a known IV key.
    DeterministicRandom rng(5);
    const Bytes iv_key = DeterministicRandom(5).bytes(16);
    auto c3 =
            SaCrypto::create(test::registry(), 12, 128, 12, k.encr, k.integ, nullptr, rng).value();
    Bytes got(16);
    c3->make_iv(0x0102030405060708ULL, got);
    Bytes block = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0};
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    ASSERT_EQ(EVP_EncryptInit_ex2(ctx, EVP_aes_128_ecb(), iv_key.data(), nullptr, nullptr), 1);
    ASSERT_EQ(EVP_EncryptUpdate(ctx, block.data(), &len, block.data(), 16), 1);
    EVP_CIPHER_CTX_free(ctx);
    EXPECT_EQ(to_hex(got), to_hex(block));
}

TEST(EspCodec, AeadIvIsTheSequenceNumber) {
    const Alg& a = all_algs().front();
    auto c = make_crypto(a, keys_for(a, 0xbb), false);
    PacketBuf pkt;
    ASSERT_TRUE(pkt.assign(ipv4_packet(test::addr("10.0.0.1"), test::addr("10.0.0.2"), 17, 10)));
    ASSERT_EQ(encapsulate(*c, kSpi, 0x0000000a0000000bULL, true, Mode::kTunnel, pkt), Drop::kNone);
    EXPECT_EQ(to_hex(pkt.bytes().first(16)), "c1a2b3c40000000b0000000a0000000b");
}

// The layout RFC 4303 §2 / §3.3.2.1 prescribes, rebuilt from independent pieces (the SK
// payload's AES-CBC helper, the IKE integrity MAC, the plain OpenSSL AEAD): ESP header | IV |
// CBC(payload | 1, 2, ... | pad length | next header) | HMAC(header | IV | ciphertext | seq
// high)[icv]; AEAD: AAD = SPI | seq high | seq low with ESN.
TEST(EspCodec, CbcLayoutMatchesRfc4303) {
    for (const Alg& a : all_algs()) {
        if (a.aead) {
            continue;
        }
        SCOPED_TRACE(a.name);
        const Keys k = keys_for(a, 0xcc);
        auto c = make_crypto(a, k, false);
        const crypto::EncrInfo& encr = *test::registry().encr(a.encr, a.bits);
        const crypto::IntegInfo& integ = *test::registry().integ(a.integ);
        const Bytes inner = ipv4_packet(test::addr("10.0.0.1"), test::addr("10.0.0.2"), 17, 61);
        Bytes iv = from_hex("000102030405060708090a0b0c0d0e0f").value();
        iv.resize(encr.iv_size);
        // 81 bytes + 2: padding to the block (13 bytes to 96 for AES, 5 to 88 for 3DES).
        const auto pad = static_cast<std::uint8_t>((encr.block_size - 83 % encr.block_size) %
                                                   encr.block_size);
        for (const bool esn : {false, true}) {
            const std::uint64_t seq = esn ? 0x0000000500000007ULL : 7;
            PacketBuf pkt;
            ASSERT_TRUE(pkt.assign(inner));
            ASSERT_EQ(encapsulate_with_iv(*c, kSpi, seq, esn, Mode::kTunnel, pkt, iv), Drop::kNone);
            Bytes plain = inner;
            for (std::uint8_t i = 1; i <= pad; ++i) {
                plain.push_back(i);
            }
            plain.push_back(pad);
            plain.push_back(4);
            ASSERT_TRUE(crypto::aes_cbc(encr, k.encr, iv, plain, true));
            Bytes expect = from_hex("c1a2b3c400000007").value();
            expect.insert(expect.end(), iv.begin(), iv.end());
            expect.insert(expect.end(), plain.begin(), plain.end());
            const Bytes high = from_hex("00000005").value();
            const Bytes mac =
                    esn ? crypto::integrity_mac(test::registry(), integ, k.integ, {expect, high})
                                    .value()
                        : crypto::integrity_mac(test::registry(), integ, k.integ, {expect}).value();
            expect.insert(expect.end(), mac.begin(), mac.end());
            EXPECT_EQ(to_hex(pkt.bytes()), to_hex(expect));
        }
    }
}

TEST(EspCodec, AeadLayoutMatchesRfc4106) {
    for (const Alg& a : all_algs()) {
        if (!a.aead) {
            continue;
        }
        SCOPED_TRACE(a.name);
        const Keys k = keys_for(a, 0xdd);
        auto c = make_crypto(a, k, false);
        auto raw =
                crypto::make_openssl_aead(*test::registry().encr(a.encr, a.bits), k.encr).value();
        const Bytes inner = ipv4_packet(test::addr("10.0.0.1"), test::addr("10.0.0.2"), 17, 61);
        for (const bool esn : {false, true}) {
            const std::uint64_t seq = esn ? 0x0000000500000007ULL : 7;
            PacketBuf pkt;
            ASSERT_TRUE(pkt.assign(inner));
            ASSERT_EQ(encapsulate(*c, kSpi, seq, esn, Mode::kTunnel, pkt), Drop::kNone);
            Bytes plain = inner;  // 81 + 2 → 1 byte of padding to 84
            plain.push_back(1);
            plain.push_back(1);
            plain.push_back(4);
            const Bytes iv = from_hex(esn ? "0000000500000007" : "0000000000000007").value();
            const Bytes aad =
                    from_hex(esn ? "c1a2b3c40000000500000007" : "c1a2b3c400000007").value();
            Bytes tag(16);
            ASSERT_TRUE(raw->seal(iv, aad, plain, tag));
            Bytes expect = from_hex("c1a2b3c400000007").value();
            expect.insert(expect.end(), iv.begin(), iv.end());
            expect.insert(expect.end(), plain.begin(), plain.end());
            expect.insert(expect.end(), tag.begin(), tag.end());
            EXPECT_EQ(to_hex(pkt.bytes()), to_hex(expect));
        }
    }
}

TEST(EspCodec, PeekHeader) {
    EXPECT_FALSE(peek_header(Bytes{1, 2, 3, 4, 0, 0, 0}).has_value());
    EXPECT_FALSE(peek_header(Bytes{0, 0, 0, 0, 0, 0, 0, 1}).has_value());
    const auto h = peek_header(Bytes{0xde, 0xad, 0xbe, 0xef, 0x80, 0, 0, 2, 9});
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->spi, Spi(0xdeadbeef));
    EXPECT_EQ(h->seq, 0x80000002U);
}

TEST(EspCodec, AddTransportHeader) {
    PacketBuf pkt;
    const Bytes udp(30, 0x42);
    ASSERT_TRUE(pkt.assign(udp));
    ASSERT_TRUE(add_transport_header(pkt, test::addr("192.0.2.1"), test::addr("198.51.100.7"), 17));
    ASSERT_EQ(pkt.size(), 50U);
    // Checksum: the one's-complement sum of the header is 0xffff.
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) {
        sum += static_cast<std::uint32_t>((pkt.data()[i] << 8U) | pkt.data()[i + 1]);
    }
    while ((sum >> 16U) != 0) {
        sum = (sum & 0xffffU) + (sum >> 16U);
    }
    EXPECT_EQ(sum, 0xffffU);
    EXPECT_EQ(to_hex(pkt.bytes().first(10)), "45000032000000004011");
    EXPECT_EQ(to_hex(pkt.bytes().subspan(12, 8)), "c0000201c6336407");
    EXPECT_EQ(ip_packet_length(pkt.bytes()), 50U);

    ASSERT_TRUE(pkt.assign(udp));
    ASSERT_TRUE(add_transport_header(pkt, test::addr("2001:db8::1"), test::addr("2001:db8::2"), 6));
    EXPECT_EQ(to_hex(pkt.bytes().first(8)), "60000000001e0640");
    EXPECT_EQ(ip_packet_length(pkt.bytes()), 70U);

    ASSERT_TRUE(pkt.assign(udp));
    EXPECT_FALSE(add_transport_header(pkt, test::addr("10.0.0.1"), test::addr("2001:db8::2"), 6));
    EXPECT_FALSE(add_transport_header(pkt, IpAddress(), IpAddress(), 6));
    ASSERT_TRUE(pkt.assign(udp, 10));
    EXPECT_FALSE(add_transport_header(pkt, test::addr("10.0.0.1"), test::addr("10.0.0.2"), 6));
    EXPECT_EQ(pkt.size(), udp.size()) << "unchanged on failure";
}

TEST(EspCodec, DropNamesAreStableAndDistinct) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < kDropCount; ++i) {
        const std::string n = to_string(static_cast<Drop>(i));
        EXPECT_NE(n, "unknown") << i;
        EXPECT_TRUE(names.insert(n).second) << n;
    }
    EXPECT_STREQ(to_string(Drop::kReplay), "replay");
    EXPECT_STREQ(to_string(Drop::kIntegrity), "integrity");
    EXPECT_STREQ(to_string(Drop::kNoSa), "no_sa");
    EXPECT_STREQ(to_string(Drop::kCount), "unknown");
}

TEST(SaCrypto, RefusesBadParameters) {
    const auto& reg = test::registry();
    const Bytes k20(20, 1);
    const Bytes k16(16, 1);
    const Bytes k32(32, 1);
    EXPECT_FALSE(SaCrypto::create(reg, 3, 0, 2, k16, k20, nullptr)) << "3DES key size";
    EXPECT_FALSE(SaCrypto::create(reg, 20, 64, 0, k16, {}, nullptr)) << "key length";
    EXPECT_FALSE(SaCrypto::create(reg, 20, 128, 0, k16, {}, nullptr)) << "salt missing";
    EXPECT_FALSE(SaCrypto::create(reg, 20, 128, 12, k20, k32, nullptr)) << "AEAD + integrity";
    EXPECT_FALSE(SaCrypto::create(reg, 12, 128, 0, k16, {}, nullptr)) << "CBC needs integrity";
    EXPECT_FALSE(SaCrypto::create(reg, 12, 128, 2, k16, k16, nullptr)) << "HMAC-SHA1 key size";
    EXPECT_TRUE(SaCrypto::create(reg, 12, 128, 2, k16, k20, nullptr)) << "HMAC-SHA1 (legacy)";
    EXPECT_TRUE(SaCrypto::create(reg, 3, 0, 2, Bytes(24, 1), k20, nullptr)) << "3DES (legacy)";
    EXPECT_FALSE(SaCrypto::create(reg, 12, 128, 12, k16, k16, nullptr)) << "integrity key size";
    EXPECT_TRUE(SaCrypto::create(reg, 12, 128, 12, k16, k32, nullptr));
    EXPECT_TRUE(SaCrypto::create(reg, 28, 0, 0, Bytes(36, 1), {}, nullptr));
    auto c = SaCrypto::create(reg, 20, 128, 0, k20, {}, nullptr).value();
    EXPECT_EQ(c->iv_size(), 8U);
    EXPECT_EQ(c->block_size(), 4U);
    EXPECT_EQ(c->icv_size(), 16U);
    EXPECT_EQ(c->overhead(1400), 8U + 8 + 2 + 2 + 16);
    auto cbc = SaCrypto::create(reg, 12, 256, 14, k32, Bytes(64, 2), nullptr).value();
    EXPECT_EQ(cbc->iv_size(), 16U);
    EXPECT_EQ(cbc->block_size(), 16U);
    EXPECT_EQ(cbc->icv_size(), 32U);
    EXPECT_EQ(cbc->overhead(1400), 8U + 16 + 6 + 2 + 32);
}

}  // namespace
}  // namespace ikeplex::esp
