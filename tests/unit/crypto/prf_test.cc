// PRF and integrity known answers: RFC 4868 §2.7 (PRF and truncated authenticator cases) and
// RFC 4231 (HMAC-SHA-256/384/512), plus prf+ built from its definition.
#include "crypto/prf.h"

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "crypto_fixture.h"
#include "util/hex.h"
#include "vector_file.h"

namespace ikeplex::crypto {
namespace {

using test::registry;

const PrfInfo& prf_for(const std::string& hash) {
    const std::uint16_t id = hash == "sha256"   ? crypto::prf::kHmacSha2_256
                             : hash == "sha384" ? crypto::prf::kHmacSha2_384
                                                : crypto::prf::kHmacSha2_512;
    return *registry().prf(id);
}

const IntegInfo& integ_for(const std::string& hash) {
    const std::uint16_t id = hash == "sha256"   ? crypto::integ::kHmacSha2_256_128
                             : hash == "sha384" ? crypto::integ::kHmacSha2_384_192
                                                : crypto::integ::kHmacSha2_512_256;
    return *registry().integ(id);
}

void run_hmac_vectors(const std::string& file, std::size_t expected_count) {
    const auto vectors = ikeplex::test::load_vectors(file);
    EXPECT_EQ(vectors.size(), expected_count);
    for (const auto& v : vectors) {
        SCOPED_TRACE(v.name);
        const std::string hash = v.text("hash");
        if (v.has("truncated")) {
            // RFC 4868 §2.7.2: HMAC-SHA-xxx truncated to half the output, keyed with a key
            // of the full output size (the integrity transform).
            const auto mac =
                    integrity_mac(registry(), integ_for(hash), v.bytes("key"), {v.bytes("data")});
            ASSERT_TRUE(mac);
            EXPECT_EQ(to_hex(*mac), to_hex(v.bytes("output")));
        } else {
            const Prf prf(registry(), prf_for(hash));
            const auto out = prf.compute(v.bytes("key"), {v.bytes("data")});
            ASSERT_TRUE(out);
            EXPECT_EQ(to_hex(out->view()), to_hex(v.bytes("output")));
        }
    }
}

TEST(Prf, Rfc4868Vectors) {
    run_hmac_vectors("rfc/rfc4868-hmac-sha2.txt", 42);
}

TEST(Prf, Rfc4231Vectors) {
    run_hmac_vectors("nist/rfc4231-hmac.txt", 18);
}

TEST(Prf, DataInPartsEqualsConcatenation) {
    const Prf prf(registry(), prf_for("sha256"));
    const Bytes key = from_hex("0102030405").value();
    const auto whole = prf.compute(key, {from_hex("aabbccddeeff").value()});
    const auto parts = prf.compute(
            key, {from_hex("aabb").value(), from_hex("").value(), from_hex("ccddeeff").value()});
    EXPECT_TRUE(whole->equals(parts->view()));
}

TEST(Prf, PlusFollowsItsDefinition) {
    // RFC 7296 §2.13: T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02), ...
    for (const char* hash : {"sha256", "sha384", "sha512"}) {
        const Prf prf(registry(), prf_for(hash));
        const Bytes key = from_hex("000102030405060708090a0b0c0d0e0f").value();
        const Bytes seed = from_hex("cafebabe").value();
        const std::size_t n = prf.output_size();
        const auto t1 = prf.compute(key, {seed, Bytes{1}}).value();
        const auto t2 = prf.compute(key, {t1.view(), seed, Bytes{2}}).value();
        const auto t3 = prf.compute(key, {t2.view(), seed, Bytes{3}}).value();
        Bytes expected(t1.view().begin(), t1.view().end());
        expected.insert(expected.end(), t2.view().begin(), t2.view().end());
        expected.insert(expected.end(), t3.view().begin(), t3.view().end());
        expected.resize(2 * n + 5);
        const auto plus =
                prf.plus(key, {from_hex("cafe").value(), from_hex("babe").value()}, 2 * n + 5);
        ASSERT_TRUE(plus);
        EXPECT_EQ(to_hex(plus->view()), to_hex(expected)) << hash;
        EXPECT_FALSE(prf.plus(key, {seed}, 255 * n + 1)) << "more than 255 blocks";
        EXPECT_TRUE(prf.plus(key, {seed}, 255 * n));
    }
}

}  // namespace
}  // namespace ikeplex::crypto
