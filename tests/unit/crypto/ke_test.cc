// Key exchange: RFC 7748 §5.2/§6.1 (X25519, X448), RFC 5903 §8 (ECP-256/384/521 in IKEv2),
// RFC 8031 Appendix A (Curve25519 in IKEv2); invalid peer public values rejected for every
// group (RFC 6989, RFC 8031 §3.2); generated key pairs agree for every group.
#include "crypto/ke.h"

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "crypto_fixture.h"
#include "util/hex.h"
#include "vector_file.h"

namespace ikeplex::crypto {
namespace {

using test::registry;
namespace ke = crypto::ke;

/// X25519/X448(k, u) through the KE interface: from_private(k).shared_secret(u).
Result<SecretBytes> ecx(std::uint16_t group, ByteView k, ByteView u) {
    auto kx = KeyExchange::from_private(*registry().ke(group), k);
    if (!kx) {
        return kx.error();
    }
    return (*kx)->shared_secret(u);
}

void run_rfc7748(const std::string& file, std::uint16_t group) {
    for (const auto& v : ikeplex::test::load_vectors(file)) {
        SCOPED_TRACE(v.name);
        if (v.has("alice_private")) {
            auto alice = KeyExchange::from_private(*registry().ke(group), v.bytes("alice_private"))
                                 .value();
            auto bob = KeyExchange::from_private(*registry().ke(group), v.bytes("bob_private"))
                               .value();
            EXPECT_EQ(to_hex(alice->public_value()), to_hex(v.bytes("alice_public")));
            EXPECT_EQ(to_hex(bob->public_value()), to_hex(v.bytes("bob_public")));
            EXPECT_EQ(to_hex(alice->shared_secret(bob->public_value())->view()),
                      to_hex(v.bytes("shared")));
            EXPECT_EQ(to_hex(bob->shared_secret(alice->public_value())->view()),
                      to_hex(v.bytes("shared")));
            continue;
        }
        Bytes k = v.bytes("k");
        Bytes u = v.bytes("u");
        const int iterations = v.has("iterations") ? std::stoi(v.text("iterations")) : 1;
        for (int i = 0; i < iterations; ++i) {
            const SecretBytes r = ecx(group, k, u).value();
            u = k;  // RFC 7748 §5.2: u takes the old k, k the result
            k.assign(r.view().begin(), r.view().end());
        }
        EXPECT_EQ(to_hex(k), to_hex(v.bytes("output")));
    }
}

TEST(KeyExchange, Rfc7748X25519) {
    run_rfc7748("rfc/rfc7748-x25519.txt", ke::kCurve25519);
}
TEST(KeyExchange, Rfc7748X448) {
    run_rfc7748("rfc/rfc7748-x448.txt", ke::kCurve448);
}

TEST(KeyExchange, Rfc8031Curve25519InIkev2) {
    const auto v = ikeplex::test::load_vectors("rfc/rfc8031-curve25519-ikev2.txt").at(0);
    const KeInfo& info = *registry().ke(ke::kCurve25519);
    auto i = KeyExchange::from_private(info, v.bytes("random_i")).value();
    auto r = KeyExchange::from_private(info, v.bytes("random_r")).value();
    EXPECT_EQ(to_hex(i->public_value()), to_hex(v.bytes("pub_i")));
    EXPECT_EQ(to_hex(r->public_value()), to_hex(v.bytes("pub_r")));
    EXPECT_EQ(to_hex(i->shared_secret(r->public_value())->view()), to_hex(v.bytes("shared")));
    EXPECT_EQ(to_hex(r->shared_secret(i->public_value())->view()), to_hex(v.bytes("shared")));
}

TEST(KeyExchange, Rfc5903Ecp) {
    const auto vectors = ikeplex::test::load_vectors("rfc/rfc5903-ecp.txt");
    ASSERT_EQ(vectors.size(), 3U);
    for (const auto& v : vectors) {
        SCOPED_TRACE(v.name);
        const KeInfo& info = *registry().ke(static_cast<std::uint16_t>(std::stoi(v.text("group"))));
        auto i = KeyExchange::from_private(info, v.bytes("i")).value();
        auto r = KeyExchange::from_private(info, v.bytes("r")).value();
        // RFC 5903 §7: the KE payload carries x | y; the shared secret is the x coordinate.
        EXPECT_EQ(to_hex(i->public_value()), to_hex(v.bytes("ke_i")));
        EXPECT_EQ(to_hex(r->public_value()), to_hex(v.bytes("ke_r")));
        EXPECT_EQ(to_hex(i->shared_secret(r->public_value())->view()), to_hex(v.bytes("girx")));
        EXPECT_EQ(to_hex(r->shared_secret(i->public_value())->view()), to_hex(v.bytes("girx")));
    }
}

TEST(KeyExchange, GeneratedPairsAgreeInEveryGroup) {
    DeterministicRandom random(7);
    for (const KeInfo& info : registry().all_ke()) {
        SCOPED_TRACE(info.name);
        // One key from OpenSSL's generator, one from the deterministic path: they interoperate.
        // a initiates, b responds: b answers a's value (a KEM encapsulates there), then a
        // derives from b's reply (a KEM decapsulates); for DH the order does not matter.
        auto a = KeyExchange::generate(info).value();
        auto b = KeyExchange::generate(info, random).value();
        EXPECT_EQ(a->public_value().size(), info.public_size);
        const SecretBytes ba = b->respond(a->public_value()).value();
        EXPECT_EQ(b->public_value().size(), info.response_size);
        const SecretBytes ab = a->shared_secret(b->public_value()).value();
        EXPECT_EQ(ab.size(), info.shared_size);
        EXPECT_TRUE(ab.equals(ba.view()));
        EXPECT_NE(to_hex(a->public_value()), to_hex(b->public_value()));
    }
    // The same seed gives the same key (deterministic simulation).
    DeterministicRandom r1(99);
    DeterministicRandom r2(99);
    const KeInfo& x = *registry().ke(ke::kCurve25519);
    EXPECT_EQ(to_hex(KeyExchange::generate(x, r1).value()->public_value()),
              to_hex(KeyExchange::generate(x, r2).value()->public_value()));
}

void expect_rejected(const KeyExchange& kx, const Bytes& peer, const char* what) {
    auto r = kx.shared_secret(peer);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code, Errc::kInvalidSyntax) << what << ": " << r.error().to_string();
    EXPECT_EQ(r.error().code, Errc::kInvalidSyntax) << what;  // the engine answers INVALID_SYNTAX
}

TEST(KeyExchange, InvalidPeerValuesAreRejectedInEveryGroup) {
    DeterministicRandom random(3);
    for (const KeInfo& info : registry().all_ke()) {
        SCOPED_TRACE(info.name);
        auto own = KeyExchange::generate(info, random).value();
        // shared_secret() takes the responder's reply: a KEM's ciphertext.
        const std::size_t n = info.response_size;
        expect_rejected(*own, Bytes(n - 1, 5), "one byte short");
        expect_rejected(*own, Bytes(n + 1, 5), "one byte long");
        expect_rejected(*own, Bytes{}, "empty");
        switch (info.kind) {
            case KeKind::kModp: {
                // RFC 6989 §2.1: y must satisfy 1 < y < p - 1.
                Bytes one(n, 0);
                one.back() = 1;
                Bytes p_minus_1 = info.prime;
                p_minus_1.back() = static_cast<std::uint8_t>(p_minus_1.back() - 1);
                expect_rejected(*own, Bytes(n, 0), "y = 0");
                expect_rejected(*own, one, "y = 1");
                expect_rejected(*own, p_minus_1, "y = p - 1");
                expect_rejected(*own, info.prime, "y = p");
                expect_rejected(*own, Bytes(n, 0xff), "y > p");
                break;
            }
            case KeKind::kEcp: {
                // RFC 6989 §2.3: coordinates below p, point on the curve.
                Bytes off_curve(own->public_value().begin(), own->public_value().end());
                off_curve.back() ^= 1U;
                expect_rejected(*own, off_curve, "y changed: not on the curve");
                expect_rejected(*own, Bytes(n, 0), "(0, 0)");
                Bytes x_is_p = info.prime;
                x_is_p.insert(x_is_p.end(),
                              own->public_value().begin() + static_cast<std::ptrdiff_t>(n / 2),
                              own->public_value().end());
                expect_rejected(*own, x_is_p, "x = p");
                expect_rejected(*own, Bytes(n, 0xff), "coordinates above p");
                break;
            }
            case KeKind::kEcx: {
                // RFC 8031 §3.2: low-order points give an all-zero secret, which is refused.
                Bytes one(n, 0);
                one[0] = 1;
                expect_rejected(*own, Bytes(n, 0), "u = 0");
                expect_rejected(*own, one, "u = 1");
                if (n == 32) {
                    for (const char* h :
                         {"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                          "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
                          "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                          "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
                        expect_rejected(*own, from_hex(h).value(), h);
                    }
                } else {
                    expect_rejected(
                            *own,
                            from_hex("feffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                                     "feffffffffffffffffffffffffffffffffffffffffffffffffffffff")
                                    .value(),
                            "u = p - 1");
                }
                break;
            }
            case KeKind::kMlKem: {
                // A responder's respond() gets the encapsulation key: FIPS 203 §7.2 checks
                // its length and that every coefficient is below q (mlkem_test.cc has more).
                const std::size_t ek = info.public_size;
                for (const Bytes& bad :
                     {Bytes(ek - 1, 0), Bytes(ek + 1, 0), Bytes{}, Bytes(ek, 0xff)}) {
                    auto r = KeyExchange::generate(info, random).value()->respond(bad);
                    ASSERT_FALSE(r) << bad.size();
                    EXPECT_EQ(r.error().code, Errc::kInvalidSyntax);
                }
                break;
            }
        }
    }
}

}  // namespace
}  // namespace ikeplex::crypto
