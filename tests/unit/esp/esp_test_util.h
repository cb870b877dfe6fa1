// Shared pieces of the ESP packet-layer tests: one Registry and one IPsec-MB manager for the
// binary, the algorithm table, and builders for inner IPv4/IPv6 packets whose headers are
// exactly what add_transport_header() writes (so transport round trips compare whole packets).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crypto/aead.h"
#include "crypto/registry.h"
#include "esp/sa_crypto.h"
#include "util/bytes.h"
#include "util/ip_address.h"

namespace ikeplex::esp::test {

inline const crypto::Registry& registry() {
    static const auto r = crypto::Registry::create().value();
    return *r;
}

inline crypto::IpsecMb& ipsec_mb() {
    static const auto m = crypto::IpsecMb::create().value();
    return *m;
}

/// One ESP algorithm combination as IKE negotiates it.
struct Alg {
    const char* name;
    std::uint16_t encr;
    std::uint16_t bits;
    std::uint16_t integ;  ///< 0 for AEAD
    bool aead;
};

/// Every ESP algorithm; the last two are legacy ones accepted on purpose (issue 24).
inline const std::vector<Alg>& all_algs() {
    static const std::vector<Alg> algs = {
            {"aes128gcm16", 20, 128, 0, true},     {"aes192gcm16", 20, 192, 0, true},
            {"aes256gcm16", 20, 256, 0, true},     {"chacha20poly1305", 28, 256, 0, true},
            {"aes128-sha256", 12, 128, 12, false}, {"aes128-sha384", 12, 128, 13, false},
            {"aes128-sha512", 12, 128, 14, false}, {"aes192-sha256", 12, 192, 12, false},
            {"aes192-sha384", 12, 192, 13, false}, {"aes192-sha512", 12, 192, 14, false},
            {"aes256-sha256", 12, 256, 12, false}, {"aes256-sha384", 12, 256, 13, false},
            {"aes256-sha512", 12, 256, 14, false}, {"aes128-sha1", 12, 128, 2, false},
            {"3des-sha1", 3, 0, 2, false},
    };
    return algs;
}

/// Key material of the right sizes for `a`, filled from `seed`.
struct Keys {
    Bytes encr;
    Bytes integ;
};
inline Keys keys_for(const Alg& a, std::uint8_t seed) {
    const crypto::EncrInfo* e = registry().encr(a.encr, a.bits);
    Keys k;
    k.encr.resize(e->key_size);
    for (std::size_t i = 0; i < k.encr.size(); ++i) {
        k.encr[i] = static_cast<std::uint8_t>(seed + i * 7);
    }
    if (a.integ != 0) {
        k.integ.resize(registry().integ(a.integ)->key_size);
        for (std::size_t i = 0; i < k.integ.size(); ++i) {
            k.integ[i] = static_cast<std::uint8_t>(seed * 3 + i * 11 + 1);
        }
    }
    return k;
}

inline std::unique_ptr<SaCrypto> make_crypto(const Alg& a, const Keys& k, bool use_mb) {
    return SaCrypto::create(registry(), a.encr, a.bits, a.integ, k.encr, k.integ,
                            use_mb ? &ipsec_mb() : nullptr)
            .value();
}

inline IpAddress addr(const char* text) {
    return IpAddress::parse(text).value();
}

/// An IPv4 packet src → dst with `protocol` and a payload of `payload_len` patterned bytes;
/// TOS 0, id 0, no flags, TTL 64, header checksum set.
inline Bytes ipv4_packet(const IpAddress& src, const IpAddress& dst, std::uint8_t protocol,
                         std::size_t payload_len) {
    Bytes p(20 + payload_len);
    p[0] = 0x45;
    p[2] = static_cast<std::uint8_t>(p.size() >> 8U);
    p[3] = static_cast<std::uint8_t>(p.size());
    p[8] = 64;
    p[9] = protocol;
    std::copy(src.bytes().begin(), src.bytes().end(), p.begin() + 12);
    std::copy(dst.bytes().begin(), dst.bytes().end(), p.begin() + 16);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) {
        sum += static_cast<std::uint32_t>((p[i] << 8U) | p[i + 1]);
    }
    sum = (sum & 0xffffU) + (sum >> 16U);
    sum = (sum & 0xffffU) + (sum >> 16U);
    p[10] = static_cast<std::uint8_t>(~sum >> 8U);
    p[11] = static_cast<std::uint8_t>(~sum);
    for (std::size_t i = 20; i < p.size(); ++i) {
        p[i] = static_cast<std::uint8_t>(i * 31 + 7);
    }
    return p;
}

/// An IPv6 packet src → dst with next header `protocol`, hop limit 64, flow label 0.
inline Bytes ipv6_packet(const IpAddress& src, const IpAddress& dst, std::uint8_t protocol,
                         std::size_t payload_len) {
    Bytes p(40 + payload_len);
    p[0] = 0x60;
    p[4] = static_cast<std::uint8_t>(payload_len >> 8U);
    p[5] = static_cast<std::uint8_t>(payload_len);
    p[6] = protocol;
    p[7] = 64;
    std::copy(src.bytes().begin(), src.bytes().end(), p.begin() + 8);
    std::copy(dst.bytes().begin(), dst.bytes().end(), p.begin() + 24);
    for (std::size_t i = 40; i < p.size(); ++i) {
        p[i] = static_cast<std::uint8_t>(i * 13 + 5);
    }
    return p;
}

}  // namespace ikeplex::esp::test
