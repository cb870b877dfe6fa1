// Every IKE message recorded from real strongSwan peers (tests/vectors/**/messages): parses,
// passes the structural rules, describes itself as charon did, and is written back byte for
// byte from the parsed fields; mutations never crash the parser.
#include <map>
#include <regex>

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "util/hex.h"
#include "vectors.h"
#include "wire/describe.h"
#include "wire/message.h"
#include "wire/payload_rules.h"

namespace ikeplex::wire {
namespace {

TEST(RealMessages, ThereAreEnough) {
    const auto all = test::all_vector_messages();
    EXPECT_EQ(all.size(), 55U);  // 6.0.6: 16 + 8, 5.9.8: 22 + 9
}

TEST(RealMessages, ParseFullyAndRoundTripFromFields) {
    for (const auto& v : test::all_vector_messages()) {
        SCOPED_TRACE(v.name);
        auto m = parse_message(v.bytes);
        ASSERT_TRUE(m) << describe(m.error());
        EXPECT_TRUE(check_header_rules(m->header)) << v.name;
        auto rules = check_outer_rules(m->header, m->payloads);
        EXPECT_TRUE(rules) << (rules ? "" : describe(rules.error()));
        // Unencrypted messages parse fully; encrypted ones to their SK / SKF payload.
        const bool encrypted = *is_encrypted_exchange(m->header.exchange);
        EXPECT_EQ(encrypted, m->sk() != nullptr || m->skf() != nullptr);
        for (const Payload& p : m->payloads) {
            EXPECT_EQ(p.as<UnknownPayload>(), nullptr) << "unexpected unknown payload";
        }
        // Written back from the parsed fields: Message holds no raw bytes.
        auto out = write_message(*m);
        ASSERT_TRUE(out) << describe(out.error());
        EXPECT_EQ(to_hex(*out), to_hex(v.bytes));
    }
}

/// "parsed|generating <EXCHANGE> <request|response> <mid> [ ... ]" lines of a charon log.
std::vector<std::string> charon_summaries(const std::string& log) {
    static const std::regex kLine(
            R"re((?:parsed|generating) ((?:IKE_SA_INIT|IKE_AUTH|CREATE_CHILD_SA|INFORMATIONAL) (?:request|response) \d+ \[ [^\]]*\]))re");
    std::vector<std::string> out;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), kLine);
         it != std::sregex_iterator(); ++it) {
        out.push_back((*it)[1]);
    }
    return out;
}

TEST(RealMessages, DescribeMatchesCharonsOwnSummaries) {
    // Every unencrypted or fragmented message's describe() must be a line charon itself logged
    // for that capture (strongSwan prints the same summary when it sends or receives it).
    std::size_t checked = 0;
    for (const char* dir :
         {"strongswan-6.0.6-per-cpu", "strongswan-5.9.8/psk", "strongswan-5.9.8/cert"}) {
        const std::string log = test::read_vector_text(std::string(dir) + "/initiator.charon.log");
        const auto lines = charon_summaries(log);
        ASSERT_FALSE(lines.empty()) << dir;
        for (const auto& v : test::all_vector_messages()) {
            if (v.name.rfind(dir, 0) != 0) {
                continue;
            }
            auto m = parse_message(v.bytes);
            ASSERT_TRUE(m);
            if (m->sk() != nullptr) {
                continue;  // charon logs the decrypted contents; the crypto layer checks those
            }
            const std::string ours = describe(*m);
            EXPECT_NE(std::find(lines.begin(), lines.end(), ours), lines.end())
                    << v.name << ": " << ours;
            ++checked;
        }
    }
    EXPECT_GE(checked, 10U);  // every IKE_SA_INIT and every fragment
}

TEST(RealMessages, Rfc9611MessagesOfStrongSwan6) {
    // The per-CPU capture: IKE_SA_INIT carries the notifies of README; everything else SK.
    const Bytes req = test::read_vector("strongswan-6.0.6-per-cpu/messages/01-ike_sa_init-req.bin");
    auto m = parse_message(req);
    ASSERT_TRUE(m);
    EXPECT_EQ(describe(*m),
              "IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) "
              "N(REDIR_SUP) ]");
    const auto* ke = m->find(PayloadType::kKe)->as<KePayload>();
    EXPECT_EQ(ke->group, crypto::ke::kCurve25519);
    EXPECT_EQ(ke->data.size(), 32U);
    const auto* sa = m->find(PayloadType::kSa)->as<SaPayload>();
    ASSERT_EQ(sa->proposals.size(), 1U);
    EXPECT_EQ(sa->proposals[0].transforms[0].id, crypto::encr::kAesGcm16);
    EXPECT_EQ(sa->proposals[0].transforms[0].key_length(), 256);
    for (const Payload& p : m->payloads) {
        if (const auto* n = p.as<NotifyPayload>();
            n != nullptr && n->type == NotifyType::kSignatureHashAlgorithms) {
            EXPECT_EQ(to_hex(n->data), "0002000300040005");
        }
    }
}

TEST(RealMessages, FragmentsOfStrongSwan598) {
    std::map<std::string, std::string> seen;
    for (const auto& v : test::all_vector_messages()) {
        if (v.name.find("strongswan-5.9.8/cert/messages/0") == std::string::npos) {
            continue;
        }
        auto m = parse_message(v.bytes);
        ASSERT_TRUE(m);
        if (const auto* f = m->skf()) {
            seen[v.name] = describe(*m);
            EXPECT_EQ(f->first_inner == PayloadType::kNone, f->fragment_number != 1) << v.name;
        }
    }
    ASSERT_EQ(seen.size(), 5U);
    EXPECT_EQ(seen.begin()->second, "IKE_AUTH request 1 [ EF(1/3) ]");
}

/// Mutations of real messages (iked's regress/parser): single and double bit flips, byte
/// flips, truncations at both ends. Nothing may crash (ASan/UBSan watch in the ci build);
/// whatever parses must round-trip.
TEST(RealMessages, MutationsNeverCrash) {
    std::size_t parsed = 0;
    std::size_t total = 0;
    auto check = [&](const Bytes& data) {
        ++total;
        auto m = parse_message(data);
        if (!m) {
            EXPECT_NE(m.error().detail, nullptr);
            return;
        }
        ++parsed;
        auto out = write_message(*m);
        ASSERT_TRUE(out);
        auto again = parse_message(*out);
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, *m);
    };
    for (const auto& v : test::all_vector_messages()) {
        const Bytes& b = v.bytes;
        for (std::size_t i = 0; i < b.size(); ++i) {
            for (unsigned bit = 0; bit < 8; ++bit) {
                Bytes x = b;
                x[i] = static_cast<std::uint8_t>(x[i] ^ (1U << bit));
                check(x);
                if (i + 1 < b.size()) {
                    x[i + 1] = static_cast<std::uint8_t>(x[i + 1] ^ (1U << (7 - bit)));
                    check(x);
                }
            }
            Bytes y = b;
            y[i] = static_cast<std::uint8_t>(~y[i]);
            check(y);
        }
        for (std::size_t n = 0; n < b.size(); ++n) {
            check(Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)));
            check(Bytes(b.begin() + static_cast<std::ptrdiff_t>(n), b.end()));
        }
    }
    // Both outcomes must occur, or the mutations are not reaching the parser's branches.
    EXPECT_GT(parsed, 1000U);
    EXPECT_GT(total - parsed, 10000U);
    std::printf("mutations: %zu, of which parsed and round-tripped: %zu\n", total, parsed);
}

}  // namespace
}  // namespace ikeplex::wire
