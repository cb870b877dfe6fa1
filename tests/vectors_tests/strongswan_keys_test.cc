// Real-peer key schedules: our derivation reproduces every key strongSwan logged (6.0.6 with
// RFC 9611, and Debian's 5.9.8 recorded by this project); our SK decryption opens every
// recorded encrypted message and re-encrypts it byte for byte with the same IV and padding;
// our PSK AUTH equals the peer's. See tests/vectors/*/README.md for the scenarios.
#include <map>
#include <regex>

#include <gtest/gtest.h>

#include "charon_log.h"
#include "crypto/algorithm_ids.h"
#include "crypto/keymat.h"
#include "ike/auth_octets.h"
#include "ike/identity.h"
#include "ike/sk_cipher.h"
#include "util/hex.h"
#include "vectors.h"
#include "wire/describe.h"
#include "wire/names.h"
#include "wire/payload_rules.h"

namespace ikeplex::crypto {
namespace {

using namespace ikeplex::wire;
using ike::SkCipher;
using test::CharonLog;

const Registry& registry() {
    static const auto r = Registry::create().value();
    return *r;
}

Message parse(const Bytes& b) {
    return parse_message(b).value();
}

Bytes nonce_of(const std::vector<Payload>& payloads) {
    for (const Payload& p : payloads) {
        if (const auto* n = p.as<NoncePayload>()) {
            return n->data;
        }
    }
    ADD_FAILURE() << "no Nonce";
    return {};
}

template <class T>
const T* find(const std::vector<Payload>& payloads, PayloadType type) {
    for (const Payload& p : payloads) {
        if (p.type == type) {
            return p.as<T>();
        }
    }
    ADD_FAILURE() << "no payload " << wire::to_string(type);
    return nullptr;
}

std::string hex(ByteView b) {
    return to_hex(b);
}

/// "parsed|generating <summary>" lines of a charon log.
std::vector<std::string> summaries(const std::string& log) {
    static const std::regex kLine(
            R"re((?:parsed|generating) ((?:IKE_AUTH|CREATE_CHILD_SA|INFORMATIONAL) (?:request|response) \d+ \[ [^\]]*\]))re");
    std::vector<std::string> out;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), kLine);
         it != std::sregex_iterator(); ++it) {
        out.push_back((*it)[1]);
    }
    return out;
}

/// One IKE SA's keys and the two SK ciphers built from them.
struct IkeSa {
    IkeKeys keys;
    SkCipher from_initiator;
    SkCipher from_responder;
};

IkeSa make_sa(const IkeSuite& suite, IkeKeys keys) {
    auto i = SkCipher::create(registry(), *suite.encr, suite.integ, keys.sk_ei.view(),
                              keys.sk_ai.view());
    auto r = SkCipher::create(registry(), *suite.encr, suite.integ, keys.sk_er.view(),
                              keys.sk_ar.view());
    return IkeSa{std::move(keys), std::move(i).value(), std::move(r).value()};
}

/// Decrypts a recorded message, checks its contents against the rules and charon's summary,
/// re-encrypts it with the same IV and padding and compares the bytes. Returns the contents.
std::vector<Payload> open_and_reseal(const IkeSa& sa, const test::VectorMessage& v,
                                     const std::vector<std::string>& charon_lines) {
    SCOPED_TRACE(v.name);
    const Message m = parse(v.bytes);
    const SkCipher& c = m.header.from_initiator() ? sa.from_initiator : sa.from_responder;
    auto opened = c.open(v.bytes, m);
    if (!opened) {
        ADD_FAILURE() << describe(opened.error());
        return {};
    }
    const PayloadType first = m.sk() != nullptr ? m.sk()->first_inner : m.skf()->first_inner;
    Result<Bytes> again =
            m.sk() != nullptr
                    ? c.seal(m.header, first, opened->plaintext, opened->iv, opened->padding)
                    : c.seal_fragment(m.header, first, m.skf()->fragment_number,
                                      m.skf()->total_fragments, opened->plaintext, opened->iv,
                                      opened->padding);
    EXPECT_TRUE(again.has_value());
    if (again) {
        EXPECT_EQ(hex(*again), hex(v.bytes)) << "re-encryption differs";
    }
    if (m.skf() != nullptr) {
        return {};  // a fragment's contents are only part of a payload chain
    }
    auto inner = parse_payload_chain(first, opened->plaintext);
    if (!inner) {
        ADD_FAILURE() << describe(inner.error());
        return {};
    }
    EXPECT_TRUE(check_inner_rules(m.header, *inner));
    const std::string ours = describe(m.header, *inner);
    EXPECT_NE(std::find(charon_lines.begin(), charon_lines.end(), ours), charon_lines.end())
            << "charon never logged: " << ours;
    return *inner;
}

std::map<std::string, test::VectorMessage> messages_of(const std::string& dir) {
    std::map<std::string, test::VectorMessage> out;
    for (auto& v : test::all_vector_messages()) {
        if (v.name.rfind(dir + "/messages/", 0) == 0) {
            out.emplace(v.name.substr(dir.size() + 10, 2), v);  // keyed by frame number "03"
        }
    }
    return out;
}

void expect_child_keys(const Prf& prf, ByteView sk_d, ByteView g_ir, ByteView ni, ByteView nr,
                       const CharonLog& log, std::size_t n) {
    Bytes seed(g_ir.begin(), g_ir.end());
    seed.insert(seed.end(), ni.begin(), ni.end());
    seed.insert(seed.end(), nr.begin(), nr.end());
    EXPECT_EQ(hex(seed), hex(log.get("seed", n))) << "child #" << n;
    const ChildKeys k = derive_child_keys(prf, sk_d, g_ir, ni, nr, 20, 0).value();
    EXPECT_EQ(hex(k.encr_i.view()), hex(log.get("encryption initiator key", n))) << "child #" << n;
    EXPECT_EQ(hex(k.encr_r.view()), hex(log.get("encryption responder key", n))) << "child #" << n;
}

TEST(StrongSwanKeys, Rfc9611CaptureOfStrongSwan606) {
    const std::string dir = "strongswan-6.0.6-per-cpu";
    const CharonLog log = CharonLog::load(dir + "/initiator.charon.log");
    const auto lines = summaries(test::read_vector_text(dir + "/initiator.charon.log"));
    auto msgs = messages_of(dir);
    const Message init_req = parse(msgs.at("01").bytes);
    const Message init_resp = parse(msgs.at("02").bytes);
    const Bytes ni = nonce_of(init_req.payloads);
    const Bytes nr = nonce_of(init_resp.payloads);
    Bytes nonces = ni;
    nonces.insert(nonces.end(), nr.begin(), nr.end());
    EXPECT_EQ(hex(nonces), hex(log.get("nonces")));

    // AES_GCM_16_256 / PRF_HMAC_SHA2_256 / CURVE_25519
    const IkeSuite suite{registry().encr(encr::kAesGcm16, 256), nullptr,
                         registry().prf(prf::kHmacSha2_256)};
    const Prf prf(registry(), *suite.prf);
    const Bytes g_ir = log.get("key exchange secret");
    const SecretBytes seed = skeyseed(prf, ni, nr, g_ir).value();
    EXPECT_EQ(hex(seed.view()), hex(log.get("SKEYSEED")));
    IkeKeys keys = derive_ike_keys(prf, suite, seed.view(), ni, nr, init_req.header.spi_i,
                                   init_resp.header.spi_r)
                           .value();
    EXPECT_EQ(hex(keys.sk_d.view()), hex(log.get("Sk_d secret")));
    EXPECT_EQ(hex(keys.sk_ei.view()), hex(log.get("Sk_ei secret")));
    EXPECT_EQ(hex(keys.sk_er.view()), hex(log.get("Sk_er secret")));
    EXPECT_EQ(hex(keys.sk_pi.view()), hex(log.get("Sk_pi secret")));
    EXPECT_EQ(hex(keys.sk_pr.view()), hex(log.get("Sk_pr secret")));
    EXPECT_TRUE(keys.sk_ai.empty());

    const IkeSa sa = make_sa(suite, std::move(keys));
    std::size_t opened = 0;
    std::map<std::string, std::vector<Payload>> inner;
    for (const auto& [frame, v] : msgs) {
        if (frame == "01" || frame == "02") {
            continue;
        }
        inner[frame] = open_and_reseal(sa, v, lines);
        ++opened;
    }
    EXPECT_EQ(opened, 14U);

    // PSK AUTH both ways (RFC 7296 §2.15).
    const Bytes psk = to_bytes("interop-test-psk-0123456789");
    const auto* idi = find<IdPayload>(inner["03"], PayloadType::kIdi);
    const auto* idr = find<IdPayload>(inner["04"], PayloadType::kIdr);
    ASSERT_TRUE(idi != nullptr && idr != nullptr);
    const Bytes octets_i = ike::auth_octets(prf, msgs.at("01").bytes, nr, sa.keys.sk_pi.view(),
                                            ike::id_payload_body(*idi))
                                   .value();
    EXPECT_EQ(hex(octets_i),
              hex(log.get("octets = message + nonce + prf(Sk_px, IDx') + IntAuth", 0)));
    const SecretBytes auth_i = ike::psk_auth(prf, psk, octets_i).value();
    EXPECT_EQ(hex(auth_i.view()), hex(log.get("AUTH = prf(prf(secret, keypad), octets)", 0)));
    EXPECT_EQ(hex(auth_i.view()), hex(find<AuthPayload>(inner["03"], PayloadType::kAuth)->data));
    const Bytes octets_r = ike::auth_octets(prf, msgs.at("02").bytes, ni, sa.keys.sk_pr.view(),
                                            ike::id_payload_body(*idr))
                                   .value();
    EXPECT_TRUE(ike::psk_auth_verify(prf, psk, octets_r,
                                     find<AuthPayload>(inner["04"], PayloadType::kAuth)->data)
                        .value());
    EXPECT_FALSE(ike::psk_auth_verify(prf, to_bytes("wrong"), octets_r,
                                      find<AuthPayload>(inner["04"], PayloadType::kAuth)->data)
                         .value());

    // Child SAs (AES_GCM_16_128: 16-byte key + 4-byte salt each way, no PFS): the IKE_AUTH
    // one, the two RFC 9611 members and the rekeyed member.
    expect_child_keys(prf, sa.keys.sk_d.view(), {}, ni, nr, log, 0);
    std::size_t n = 1;
    for (const auto& [req, resp] : {std::pair{"05", "06"}, {"07", "08"}, {"13", "14"}}) {
        expect_child_keys(prf, sa.keys.sk_d.view(), {}, nonce_of(inner[req]), nonce_of(inner[resp]),
                          log, n++);
    }
}

TEST(StrongSwanKeys, PskRekeysAndPfsOfStrongSwan598) {
    const std::string dir = "strongswan-5.9.8/psk";
    const CharonLog log = CharonLog::load(dir + "/initiator.charon.log");
    const auto lines = summaries(test::read_vector_text(dir + "/initiator.charon.log"));
    auto msgs = messages_of(dir);
    const Message init_req = parse(msgs.at("01").bytes);
    const Message init_resp = parse(msgs.at("02").bytes);
    const Bytes ni = nonce_of(init_req.payloads);
    const Bytes nr = nonce_of(init_resp.payloads);

    // AES_CBC_256 / HMAC_SHA2_384_192 / PRF_HMAC_SHA2_384 / ECP_256
    const IkeSuite suite{registry().encr(encr::kAesCbc, 256),
                         registry().integ(integ::kHmacSha2_384_192),
                         registry().prf(prf::kHmacSha2_384)};
    const Prf prf(registry(), *suite.prf);
    const SecretBytes seed =
            skeyseed(prf, ni, nr, log.get("shared Diffie Hellman secret", 0)).value();
    EXPECT_EQ(hex(seed.view()), hex(log.get("SKEYSEED", 0)));
    IkeKeys keys = derive_ike_keys(prf, suite, seed.view(), ni, nr, init_req.header.spi_i,
                                   init_resp.header.spi_r)
                           .value();
    for (const auto& [name, key] : {std::pair{"Sk_d secret", &keys.sk_d},
                                    {"Sk_ai secret", &keys.sk_ai},
                                    {"Sk_ar secret", &keys.sk_ar},
                                    {"Sk_ei secret", &keys.sk_ei},
                                    {"Sk_er secret", &keys.sk_er},
                                    {"Sk_pi secret", &keys.sk_pi},
                                    {"Sk_pr secret", &keys.sk_pr}}) {
        EXPECT_EQ(hex(key->view()), hex(log.get(name, 0))) << name;
    }
    const IkeSa old_sa = make_sa(suite, std::move(keys));
    std::map<std::string, std::vector<Payload>> inner;
    for (const char* f :
         {"03", "04", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"}) {
        inner[f] = open_and_reseal(old_sa, msgs.at(f), lines);
    }

    // PSK AUTH of the initiator (octets logged without IntAuth by 5.9.8).
    const Bytes psk = to_bytes("interop-test-psk-0123456789");
    const Bytes octets_i =
            ike::auth_octets(prf, msgs.at("01").bytes, nr, old_sa.keys.sk_pi.view(),
                             ike::id_payload_body(*find<IdPayload>(inner["03"], PayloadType::kIdi)))
                    .value();
    EXPECT_EQ(hex(octets_i), hex(log.get("octets = message + nonce + prf(Sk_px, IDx')", 0)));
    EXPECT_EQ(hex(ike::psk_auth(prf, psk, octets_i).value().view()),
              hex(find<AuthPayload>(inner["03"], PayloadType::kAuth)->data));

    // IKE_AUTH child, then the Child SA rekey with PFS: KEYMAT = prf+(SK_d, g^ir | Ni | Nr).
    expect_child_keys(prf, old_sa.keys.sk_d.view(), {}, ni, nr, log, 0);
    expect_child_keys(prf, old_sa.keys.sk_d.view(), log.get("DH secret", 0), nonce_of(inner["09"]),
                      nonce_of(inner["10"]), log, 1);

    // IKE SA rekey (RFC 7296 §2.18): SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), the new
    // SPIs from the SA payloads, then messages 23-28 run on the new IKE SA.
    const Bytes rni = nonce_of(inner["17"]);
    const Bytes rnr = nonce_of(inner["18"]);
    const SecretBytes new_seed =
            rekey_skeyseed(prf, old_sa.keys.sk_d.view(), log.get("shared Diffie Hellman secret", 1),
                           rni, rnr)
                    .value();
    EXPECT_EQ(hex(new_seed.view()), hex(log.get("SKEYSEED", 1)));
    const Bytes spi_i = find<SaPayload>(inner["17"], PayloadType::kSa)->proposals[0].spi;
    const Bytes spi_r = find<SaPayload>(inner["18"], PayloadType::kSa)->proposals[0].spi;
    ASSERT_EQ(spi_i.size(), 8U);
    const auto spi = [](const Bytes& b) {
        std::uint64_t v = 0;
        for (std::uint8_t x : b) {
            v = (v << 8U) | x;
        }
        return IkeSpi(v);
    };
    IkeKeys new_keys =
            derive_ike_keys(prf, suite, new_seed.view(), rni, rnr, spi(spi_i), spi(spi_r)).value();
    EXPECT_EQ(hex(new_keys.sk_d.view()), hex(log.get("Sk_d secret", 1)));
    EXPECT_EQ(hex(new_keys.sk_ei.view()), hex(log.get("Sk_ei secret", 1)));
    EXPECT_EQ(hex(new_keys.sk_ar.view()), hex(log.get("Sk_ar secret", 1)));
    const IkeSa new_sa = make_sa(suite, std::move(new_keys));
    for (const char* f : {"23", "24", "25", "26", "27", "28"}) {
        const Message m = parse(msgs.at(f).bytes);
        EXPECT_EQ(m.header.spi_i, spi(spi_i)) << f;
        open_and_reseal(new_sa, msgs.at(f), lines);
    }
}

TEST(StrongSwanKeys, FragmentsOfStrongSwan598) {
    const std::string dir = "strongswan-5.9.8/cert";
    const CharonLog log = CharonLog::load(dir + "/initiator.charon.log");
    const auto lines = summaries(test::read_vector_text(dir + "/initiator.charon.log"));
    auto msgs = messages_of(dir);
    const Message init_req = parse(msgs.at("01").bytes);
    const Message init_resp = parse(msgs.at("02").bytes);
    const Bytes ni = nonce_of(init_req.payloads);
    const Bytes nr = nonce_of(init_resp.payloads);
    // AES_GCM_16_128 / PRF_HMAC_SHA2_256 / CURVE_25519
    const IkeSuite suite{registry().encr(encr::kAesGcm16, 128), nullptr,
                         registry().prf(prf::kHmacSha2_256)};
    const Prf prf(registry(), *suite.prf);
    const SecretBytes seed =
            skeyseed(prf, ni, nr, log.get("shared Diffie Hellman secret", 0)).value();
    EXPECT_EQ(hex(seed.view()), hex(log.get("SKEYSEED")));
    const IkeSa sa = make_sa(suite, derive_ike_keys(prf, suite, seed.view(), ni, nr,
                                                    init_req.header.spi_i, init_resp.header.spi_r)
                                            .value());
    // RFC 7383: each fragment is protected on its own (the AAD ends after Total Fragments);
    // the plaintexts joined in order are the original SK contents.
    for (const auto& group :
         {std::vector<std::string>{"03", "04", "05"}, std::vector<std::string>{"06", "07"}}) {
        Bytes joined;
        PayloadType first = PayloadType::kNone;
        for (const std::string& f : group) {
            const Message m = parse(msgs.at(f).bytes);
            open_and_reseal(sa, msgs.at(f), lines);
            const SkCipher& c = m.header.from_initiator() ? sa.from_initiator : sa.from_responder;
            const auto o = c.open(msgs.at(f).bytes, m).value();
            joined.insert(joined.end(), o.plaintext.begin(), o.plaintext.end());
            if (m.skf()->fragment_number == 1) {
                first = m.skf()->first_inner;
            }
        }
        const auto inner = parse_payload_chain(first, joined);
        ASSERT_TRUE(inner) << describe(inner.error());
        const Message h = parse(msgs.at(group[0]).bytes);
        const std::string ours = describe(h.header, *inner);
        EXPECT_NE(std::find(lines.begin(), lines.end(), ours), lines.end()) << ours;
        EXPECT_NE(find<CertPayload>(*inner, PayloadType::kCert), nullptr);
    }
    open_and_reseal(sa, msgs.at("12"), lines);
    open_and_reseal(sa, msgs.at("13"), lines);
}

TEST(StrongSwanKeys, TamperedMessagesFailIntegrity) {
    const std::string dir = "strongswan-5.9.8/psk";
    const CharonLog log = CharonLog::load(dir + "/initiator.charon.log");
    auto msgs = messages_of(dir);
    const Message init_req = parse(msgs.at("01").bytes);
    const Message init_resp = parse(msgs.at("02").bytes);
    const IkeSuite suite{registry().encr(encr::kAesCbc, 256),
                         registry().integ(integ::kHmacSha2_384_192),
                         registry().prf(prf::kHmacSha2_384)};
    const Prf prf(registry(), *suite.prf);
    const Bytes ni = nonce_of(init_req.payloads);
    const Bytes nr = nonce_of(init_resp.payloads);
    const SecretBytes seed =
            skeyseed(prf, ni, nr, log.get("shared Diffie Hellman secret", 0)).value();
    const IkeSa sa = make_sa(suite, derive_ike_keys(prf, suite, seed.view(), ni, nr,
                                                    init_req.header.spi_i, init_resp.header.spi_r)
                                            .value());
    const Bytes& good = msgs.at("03").bytes;
    // Every single-byte change anywhere (header, IV, ciphertext, ICV) fails the integrity check.
    for (std::size_t i = 0; i < good.size(); i += 7) {
        Bytes bad = good;
        bad[i] ^= 0x01U;
        auto m = parse_message(bad);
        if (!m || (m->sk() == nullptr)) {
            continue;  // the change broke the structure before crypto
        }
        auto r = sa.from_initiator.open(bad, *m);
        ASSERT_FALSE(r) << "offset " << i;
        EXPECT_EQ(r.error().code, Errc::kIntegrity) << "offset " << i;
    }
    // The responder's key does not open the initiator's message.
    EXPECT_EQ(sa.from_responder.open(good, parse(good)).error().code, Errc::kIntegrity);
}

}  // namespace
}  // namespace ikeplex::crypto

// RFC 7427 signatures from a real peer: strongSwan 5.9.8's ECDSA-P256 AUTH payloads verify
// against the certificates it sent, which chain to the test CA at a pinned time and carry the
// identities the IKE_AUTH messages claim.
#include "crypto/x509.h"

namespace ikeplex::crypto {
namespace {

TEST(StrongSwanKeys, CertificateAuthOfStrongSwan598) {
    const std::string dir = "strongswan-5.9.8/cert";
    const CharonLog log = CharonLog::load(dir + "/initiator.charon.log");
    auto msgs = messages_of(dir);
    const Message init_req = parse(msgs.at("01").bytes);
    const Message init_resp = parse(msgs.at("02").bytes);
    const Bytes ni = nonce_of(init_req.payloads);
    const Bytes nr = nonce_of(init_resp.payloads);
    const IkeSuite suite{registry().encr(encr::kAesGcm16, 128), nullptr,
                         registry().prf(prf::kHmacSha2_256)};
    const Prf prf(registry(), *suite.prf);
    const SecretBytes seed =
            skeyseed(prf, ni, nr, log.get("shared Diffie Hellman secret", 0)).value();
    const IkeSa sa = make_sa(suite, derive_ike_keys(prf, suite, seed.view(), ni, nr,
                                                    init_req.header.spi_i, init_resp.header.spi_r)
                                            .value());
    const auto reassemble = [&](const std::vector<std::string>& frames) {
        Bytes joined;
        PayloadType first = PayloadType::kNone;
        for (const std::string& f : frames) {
            const Message m = parse(msgs.at(f).bytes);
            const SkCipher& c = m.header.from_initiator() ? sa.from_initiator : sa.from_responder;
            const auto o = c.open(msgs.at(f).bytes, m).value();
            joined.insert(joined.end(), o.plaintext.begin(), o.plaintext.end());
            if (m.skf()->fragment_number == 1) {
                first = m.skf()->first_inner;
            }
        }
        return parse_payload_chain(first, joined).value();
    };
    const auto request = reassemble({"03", "04", "05"});
    const auto response = reassemble({"06", "07"});

    CertStore store;
    ASSERT_TRUE(store.add_trusted(
            Certificate::from_pem(test::read_vector_text(dir + "/certs/ca.crt")).value()));
    constexpr std::int64_t kRecorded = 1795478400;  // 2026-11-24, the day after the recording

    struct Side {
        const std::vector<Payload>* inner;
        PayloadType id_type;
        const Bytes* first_message;
        const Bytes* peer_nonce;
        const SecretBytes* sk_p;
        const char* name;
    };
    for (const Side& s :
         {Side{&request, PayloadType::kIdi, &msgs.at("01").bytes, &nr, &sa.keys.sk_pi, "a.test"},
          Side{&response, PayloadType::kIdr, &msgs.at("02").bytes, &ni, &sa.keys.sk_pr,
               "b.test"}}) {
        SCOPED_TRACE(s.name);
        const auto* cert_payload = find<CertPayload>(*s.inner, PayloadType::kCert);
        const auto* id = find<IdPayload>(*s.inner, s.id_type);
        const auto* auth = find<AuthPayload>(*s.inner, PayloadType::kAuth);
        ASSERT_TRUE(cert_payload && id && auth);
        EXPECT_EQ(auth->method, AuthMethod::kDigitalSignature);
        const Certificate cert = Certificate::from_der(cert_payload->data).value();
        EXPECT_TRUE(store.verify(cert, {}, kRecorded));
        EXPECT_TRUE(ike::certificate_names(cert, id->id_type, id->data)) << to_string(id->id_type);
        const Bytes octets = ike::auth_octets(prf, *s.first_message, *s.peer_nonce, s.sk_p->view(),
                                              ike::id_payload_body(*id))
                                     .value();
        const SignatureAuth sig = parse_signature_auth(auth->data).value();
        EXPECT_EQ(sig.scheme, SignatureScheme::kEcdsaSha256);
        const PublicKey key = cert.public_key().value();
        EXPECT_TRUE(key.verify(sig.scheme, octets, sig.signature));
        Bytes wrong = octets;
        wrong[0] ^= 1U;
        EXPECT_FALSE(key.verify(sig.scheme, wrong, sig.signature));
    }
    // The initiator's logged octets are ours.
    EXPECT_EQ(
            hex(ike::auth_octets(prf, msgs.at("01").bytes, nr, sa.keys.sk_pi.view(),
                                 ike::id_payload_body(*find<IdPayload>(request, PayloadType::kIdi)))
                        .value()),
            hex(log.get("octets = message + nonce + prf(Sk_px, IDx')", 0)));
}

}  // namespace
}  // namespace ikeplex::crypto
