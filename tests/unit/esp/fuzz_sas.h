// The fixed SAs of the fuzz_esp target (tests/fuzz/fuzz_esp.cc) and its input layout, shared
// with the test that writes and checks the seed corpus (esp_fuzz_seeds_test.cc).
//
// Input: one flags byte, then the data.
//   flags & kReplayMode: data = 4-byte big-endian seq_low values for a ReplayWindow of size
//       kWindowSizes[flags & 7], ESN if flags & kEsn.
//   otherwise: data = an ESP packet for SA kSas[flags & 3], ESN if flags & kEsn, replay window
//       of size kWindowSizes[(flags >> 4) & 7].
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "esp/sa_crypto.h"
#include "esp_test_util.h"

namespace ikeplex::esp::fuzz {

inline constexpr std::uint8_t kEsn = 0x08;
inline constexpr std::uint8_t kReplayMode = 0x80;
inline constexpr std::array<std::uint32_t, 8> kWindowSizes = {64, 0, 32, 1024, 4096, 1, 100, 64};
inline constexpr std::uint32_t kSpi = 0x0a0b0c0d;
inline constexpr std::uint8_t kKeySeed = 0x5a;

/// SA 0..3: AES-GCM-16-128 (OpenSSL), ChaCha20-Poly1305 (OpenSSL), AES-CBC-128 +
/// HMAC-SHA2-256-128 (OpenSSL), AES-GCM-16-256 (IPsec-MB).
struct FuzzSa {
    test::Alg alg;
    bool mb;
};
inline const std::array<FuzzSa, 4>& sas() {
    static const std::array<FuzzSa, 4> s = {{
            {{"aes128gcm16", 20, 128, 0, true}, false},
            {{"chacha20poly1305", 28, 256, 0, true}, false},
            {{"aes128-sha256", 12, 128, 12, false}, false},
            {{"aes256gcm16", 20, 256, 0, true}, true},
    }};
    return s;
}

/// SaCrypto for SA `i`, keyed with the fixed fuzz keys.
inline std::unique_ptr<SaCrypto> make_sa(std::size_t i) {
    const FuzzSa& s = sas().at(i);
    return test::make_crypto(s.alg, test::keys_for(s.alg, kKeySeed), s.mb);
}

}  // namespace ikeplex::esp::fuzz
