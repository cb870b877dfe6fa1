// EAP-MSCHAPv2: RFC 2759 §9.2/§9.3 and RFC 3079 §3.5.3 vectors, the framing, both halves in
// memory (equal MSKs), wrong passwords and retries, a tampered authenticator response, and
// malformed packets.
#include <deque>
#include <string>

#include <gtest/gtest.h>

#include "eap/eap.h"
#include "eap/mschapv2_crypto.h"
#include "eap/mschapv2_wire.h"
#include "util/hex.h"
#include "util/random.h"

namespace ikeplex::eap {
namespace {

namespace m = mschapv2;

Bytes hex(std::string_view h) {
    return from_hex(h).value();
}
std::string text(ByteView b) {
    return {b.begin(), b.end()};
}

// RFC 2759 §9.2 (checked against /work/shared/rfcs/rfc2759.md).
constexpr std::string_view kAuthChallenge = "5B5D7C7D7B3F2F3E3C2C602132262628";
constexpr std::string_view kPeerChallenge = "21402324255E262A28295F2B3A337C7E";
constexpr std::string_view kNtResponse = "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF";
constexpr std::string_view kAuthString = "S=407A5589115FD0D6209F510FE9C04566932CDA56";
// RFC 3079 §3.5.3 (128-bit): MasterKey and SendStartKey128 (the server's send key, Magic3).
// The RFC is not in /work/shared/rfcs: the values are as hostap's tests/test_ms_funcs.c and
// others quote them [R]; the send key was also recomputed with Python's hashlib (SHA1 of
// MasterKey | 40 x 00 | Magic3 | 40 x F2), which also gave the Magic2 key below.
constexpr std::string_view kMasterKey = "fdece3717a8c838cb388e527ae3cdd31";
constexpr std::string_view kServerSendKey = "8b7cdc149b993a1ba118cb153f56dccb";
constexpr std::string_view kServerReceiveKey = "d5f0e9521e3ea9589645e86051c82226";  // hashlib

/// Hands out the given buffers in order (then zeros): fixed challenges for known answers.
class FixedRandom final : public Random {
public:
    explicit FixedRandom(std::deque<Bytes> chunks) : chunks_(std::move(chunks)) {}
    void fill(MutByteView out) noexcept override {
        std::fill(out.begin(), out.end(), 0);
        if (chunks_.empty()) {
            return;
        }
        const Bytes& c = chunks_.front();
        std::copy_n(c.begin(), std::min(c.size(), out.size()), out.begin());
        chunks_.pop_front();
    }

private:
    std::deque<Bytes> chunks_;
};

TEST(Mschapv2Crypto, Rfc2759HashExample) {
    const SecretBytes unicode = m::utf16le_password(as_bytes("clientPass")).value();
    EXPECT_EQ(to_hex(unicode.view()), "63006c00690065006e0074005000610073007300");
    const SecretBytes hash = m::nt_password_hash(as_bytes("clientPass")).value();
    EXPECT_EQ(to_hex(hash.view()), "44ebba8d5312b8d611474411f56989ae");
    const SecretBytes hash_hash = m::hash_nt_password_hash(hash).value();
    EXPECT_EQ(to_hex(hash_hash.view()), "41c00c584bd2d91c4017a2a12fa59f3f");
    const auto ch = m::challenge_hash(hex(kPeerChallenge), hex(kAuthChallenge), "User").value();
    EXPECT_EQ(to_hex(ch), "d02e4386bce91226");
    const Bytes nt =
            m::generate_nt_response(hex(kAuthChallenge), hex(kPeerChallenge), "User", hash).value();
    EXPECT_EQ(nt, hex(kNtResponse));
    const Bytes auth = m::authenticator_response(hash_hash, nt, hex(kPeerChallenge),
                                                 hex(kAuthChallenge), "User")
                               .value();
    EXPECT_EQ(m::authenticator_string(auth), kAuthString);
}

TEST(Mschapv2Crypto, Rfc2759DesKeyExample) {
    // RFC 2759 §9.3: raw 7-byte keys and their parity-corrected 8-byte forms.
    EXPECT_EQ(to_hex(m::expand_des_key(hex("FC156AF7EDCD6C"))), "fd0b5b5e7f6e34d9");
    EXPECT_EQ(to_hex(m::expand_des_key(hex("0EDDE3337D427F"))), "0e6e796737ea08fe");
}

TEST(Mschapv2Crypto, Rfc3079KeyDerivationAndStrongSwanMsk) {
    const SecretBytes hash = m::nt_password_hash(as_bytes("clientPass")).value();
    const SecretBytes hash_hash = m::hash_nt_password_hash(hash).value();
    const SecretBytes master = m::master_key(hash_hash, hex(kNtResponse)).value();
    EXPECT_EQ(to_hex(master.view()), kMasterKey);
    const auto key = [&](bool send, bool server) {
        return to_hex(m::asymmetric_start_key(master, send, server).value().view());
    };
    EXPECT_EQ(key(true, true), kServerSendKey);      // RFC 3079 §3.5.3 SendStartKey128
    EXPECT_EQ(key(false, false), kServerSendKey);    // the client receives with it
    EXPECT_EQ(key(false, true), kServerReceiveKey);  // Magic2
    EXPECT_EQ(key(true, false), kServerReceiveKey);
    const Msk msk = m::strongswan_msk(hash_hash, hex(kNtResponse)).value();
    ASSERT_EQ(msk.size(), 64U);
    EXPECT_EQ(to_hex(msk.view()),
              std::string(kServerReceiveKey) + std::string(kServerSendKey) + std::string(64, '0'));
}

TEST(Mschapv2Crypto, Utf8PasswordsBecomeUtf16le) {
    // p ä s s € w U+1F600; the UTF-16LE and MD4 were computed outside ikeplex with
    // `iconv -f UTF-8 -t UTF-16LE | openssl dgst -md4 -provider legacy -provider default`.
    const Bytes utf8 = hex("70c3a47373e282ac77f09f9880");
    EXPECT_EQ(to_hex(m::utf16le_password(utf8).value().view()), "7000e40073007300ac2077003dd800de");
    EXPECT_EQ(to_hex(m::nt_password_hash(utf8).value().view()), "5aa3748129c07f11e27bcb1e8486066c");
    for (const Bytes& bad :
         {hex("c080"), hex("eda080"), hex("e282"), hex("ff"), hex("f4908080"), hex("80")}) {
        EXPECT_FALSE(m::utf16le_password(bad)) << to_hex(bad);
    }
    EXPECT_EQ(m::hash_user_name("CORP\\carol"), "carol");
    EXPECT_EQ(m::hash_user_name("carol@example.org"), "carol@example.org");
}

TEST(Mschapv2Wire, MessagesParse) {
    EXPECT_EQ(m::encode(m::OpCode::kChallenge, 7, hex("aabb")), hex("010700 06aabb"));
    EXPECT_EQ(to_hex(m::parse_success_message(
                             as_bytes(std::string(kAuthString) + " M=Welcome2strongSwan"))
                             .value()),
              "407a5589115fd0d6209f510fe9c04566932cda56");
    // strongSwan sends a trailing NUL after its message.
    const std::string with_nul = std::string(kAuthString) + " M=Welcome2strongSwan" + '\0';
    EXPECT_TRUE(m::parse_success_message(as_bytes(with_nul)));
    EXPECT_FALSE(m::parse_success_message(as_bytes("M=hello S=407A")));
    EXPECT_FALSE(m::parse_success_message(as_bytes("S=407A5589115FD0D6209F510FE9C04566932CDA5X")));
    EXPECT_FALSE(m::parse_success_message(as_bytes("")));
    // M= takes the rest of the text, so an S= inside it does not count.
    EXPECT_FALSE(
            m::parse_success_message(as_bytes(std::string("M=x ") + std::string(kAuthString))));

    const m::Failure f = m::parse_failure_message(
            as_bytes("E=691 R=1 C=00112233445566778899AABBCCDDEEFF V=3 M=bad password"));
    EXPECT_EQ(f.error, 691U);
    EXPECT_TRUE(f.retriable);
    ASSERT_TRUE(f.challenge);
    EXPECT_EQ(to_hex(*f.challenge), "00112233445566778899aabbccddeeff");
    const m::Failure g = m::parse_failure_message(as_bytes("E=99999999999 C=12"));
    EXPECT_FALSE(g.error);
    EXPECT_FALSE(g.challenge);
    EXPECT_EQ(m::failure_message(691, true, hex("00112233445566778899aabbccddeeff")),
              "E=691 R=1 C=00112233445566778899AABBCCDDEEFF");
}

// ---------------------------------------------------------------------------------------------
// Both halves

struct Sides {
    SecretBytes server_secret;
    SecretBytes peer_secret;
    std::string server_user;
    DeterministicRandom server_random{1};
    DeterministicRandom peer_random{2};
    std::unique_ptr<ServerMethod> server;
    std::unique_ptr<PeerMethod> peer;

    Sides(std::string_view user, std::string_view server_pw, std::string_view peer_pw,
          std::string_view peer_identity)
        : server_secret(SecretBytes::copy_of(as_bytes(server_pw))),
          peer_secret(SecretBytes::copy_of(as_bytes(peer_pw))),
          server_user(user) {
        ServerContext sc;
        sc.find_secret = [this](std::string_view id) {
            return id == server_user ? &server_secret : nullptr;
        };
        sc.random = &server_random;
        server = std::move(make_server(Type::kMschapv2, std::move(sc)).value());
        PeerContext pc;
        pc.identity = std::string(peer_identity);
        pc.secret = &peer_secret;
        pc.random = &peer_random;
        peer = std::move(make_peer(Type::kMschapv2, std::move(pc)).value());
    }
};

TEST(EapMschapv2, ServerAndPeerAgreeOnTheMsk) {
    Sides s("carol", "s3cret €", "s3cret €", "carol");
    const Packet challenge = s.server->initiate(1, "carol").value();
    // OpCode 1, MS-CHAPv2-ID = the identifier, MS-Length = Type-Data size, 16, challenge, Name.
    ASSERT_EQ(challenge.type_data.size(), 4U + 17U + 7U);
    EXPECT_EQ(challenge.type_data[0], 1);
    EXPECT_EQ(challenge.type_data[1], 1);
    EXPECT_EQ(challenge.type_data[3], challenge.type_data.size());
    EXPECT_EQ(challenge.type_data[4], 16);
    EXPECT_EQ(text(ByteView(challenge.type_data).subspan(21)), "ikeplex");

    const PeerStep r1 = s.peer->process(challenge).value();
    ASSERT_EQ(r1.kind, PeerStep::Kind::kResponse);
    EXPECT_EQ(r1.response.identifier, 1);
    ASSERT_EQ(r1.response.type_data.size(), 4U + 50U + 5U);
    EXPECT_EQ(r1.response.type_data[0], 2);
    EXPECT_EQ(r1.response.type_data[4], 49);
    EXPECT_EQ(text(ByteView(r1.response.type_data).subspan(54)), "carol");
    EXPECT_FALSE(s.peer->may_succeed());

    const ServerStep st1 = s.server->process(r1.response, 2).value();
    ASSERT_EQ(st1.kind, ServerStep::Kind::kRequest);
    EXPECT_EQ(st1.request.identifier, 2);
    EXPECT_EQ(st1.request.type_data[0], 3);
    const std::string msg = text(ByteView(st1.request.type_data).subspan(4));
    EXPECT_EQ(msg.size(), 42U + 18U) << msg;
    EXPECT_EQ(msg.substr(0, 2), "S=");
    EXPECT_EQ(msg.substr(42), " M=Welcome2ikeplex");

    const PeerStep r2 = s.peer->process(st1.request).value();
    ASSERT_EQ(r2.kind, PeerStep::Kind::kResponse);
    EXPECT_EQ(r2.response.type_data, Bytes{3});  // the Success acknowledgement: OpCode alone
    EXPECT_TRUE(s.peer->may_succeed());

    const ServerStep st2 = s.server->process(r2.response, 3).value();
    ASSERT_EQ(st2.kind, ServerStep::Kind::kSuccess);
    EXPECT_EQ(s.server->authenticated_identity(), "carol");
    ASSERT_EQ(s.server->msk().size(), 64U);
    EXPECT_TRUE(s.server->msk().equals(s.peer->msk().view()));
}

TEST(EapMschapv2, DomainUserNameIsTheLookupKeyAndItsUserPartIsHashed) {
    Sides s("CORP\\carol", "pw", "pw", "CORP\\carol");
    const Packet c = s.server->initiate(9, "CORP\\carol").value();
    const PeerStep r1 = s.peer->process(c).value();
    const ServerStep st1 = s.server->process(r1.response, 10).value();
    ASSERT_EQ(st1.kind, ServerStep::Kind::kRequest);
    const PeerStep r2 = s.peer->process(st1.request).value();
    ASSERT_EQ(s.server->process(r2.response, 11).value().kind, ServerStep::Kind::kSuccess);
    EXPECT_EQ(s.server->authenticated_identity(), "CORP\\carol");
}

TEST(EapMschapv2, PeerKnownAnswerFromRfc2759) {
    // Our peer, given RFC 2759 §9.2's challenges, sends its NT-Response and accepts its S=.
    const SecretBytes pw = SecretBytes::copy_of(as_bytes("clientPass"));
    FixedRandom random({hex(kPeerChallenge)});
    PeerContext pc;
    pc.identity = "User";
    pc.secret = &pw;
    pc.random = &random;
    auto peer = make_peer(Type::kMschapv2, std::move(pc)).value();
    const Bytes data = m::encode_challenge_data(hex(kAuthChallenge), "strongSwan");
    const PeerStep r = peer->process(Packet{Code::kRequest, 0x42, Type::kMschapv2,
                                            m::encode(m::OpCode::kChallenge, 0x42, data)})
                               .value();
    ASSERT_EQ(r.kind, PeerStep::Kind::kResponse);
    const auto resp = m::decode_response_data(m::decode(r.response.type_data).value().data);
    ASSERT_TRUE(resp);
    EXPECT_EQ(Bytes(resp->peer_challenge.begin(), resp->peer_challenge.end()), hex(kPeerChallenge));
    EXPECT_EQ(Bytes(resp->nt_response.begin(), resp->nt_response.end()), hex(kNtResponse));
    EXPECT_EQ(resp->name, "User");
    // strongSwan's Success request: its message and a trailing NUL.
    const std::string success = std::string(kAuthString) + " M=Welcome2strongSwan" + '\0';
    const PeerStep ack =
            peer->process(Packet{Code::kRequest, 0x43, Type::kMschapv2,
                                 m::encode(m::OpCode::kSuccess, 0x42, as_bytes(success))})
                    .value();
    ASSERT_EQ(ack.kind, PeerStep::Kind::kResponse);
    EXPECT_EQ(encode(ack.response), (Bytes{2, 0x43, 0, 6, 26, 3}));
    EXPECT_TRUE(peer->may_succeed());
    EXPECT_EQ(to_hex(peer->msk().view()),
              std::string(kServerReceiveKey) + std::string(kServerSendKey) + std::string(64, '0'));
}

TEST(EapMschapv2, ServerKnownAnswerFromRfc2759) {
    const SecretBytes pw = SecretBytes::copy_of(as_bytes("clientPass"));
    FixedRandom random({hex(kAuthChallenge)});
    ServerContext sc;
    sc.find_secret = [&pw](std::string_view id) { return id == "User" ? &pw : nullptr; };
    sc.random = &random;
    auto server = make_server(Type::kMschapv2, std::move(sc)).value();
    const Packet c = server->initiate(5, "User").value();
    EXPECT_EQ(m::decode_challenge_data(m::decode(c.type_data).value().data).value().challenge[0],
              0x5b);
    const Bytes data = m::encode_response_data(hex(kPeerChallenge), hex(kNtResponse), "User");
    const ServerStep st = server->process(Packet{Code::kResponse, 5, Type::kMschapv2,
                                                 m::encode(m::OpCode::kResponse, 5, data)},
                                          6)
                                  .value();
    ASSERT_EQ(st.kind, ServerStep::Kind::kRequest);
    EXPECT_EQ(text(ByteView(st.request.type_data).subspan(4)),
              std::string(kAuthString) + " M=Welcome2ikeplex");
}

}  // namespace
}  // namespace ikeplex::eap
