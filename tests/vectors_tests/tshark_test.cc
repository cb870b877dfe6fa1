// What our writer produces is decoded by an independent decoder, Wireshark's tshark 4.0:
// no malformed packet, no expert warning or error. Encrypted payloads are checked too: their
// contents are wrapped in SK with NULL encryption and no integrity (RFC 2410 / "NONE"), which
// tshark decrypts through an ikev2_decryption_table, so it parses every inner payload we write.
#include "tshark.h"

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "pcap.h"
#include "sample_messages.h"
#include "vectors.h"
#include "wire/message.h"

namespace ikeplex::wire {
namespace {

using test::UdpDatagram;

void require_tshark() {
    if (test::tshark_path().empty()) {
        GTEST_SKIP() << "tshark not found at configure time (scripts/setup-deps.sh installs it)";
    }
}

UdpDatagram datagram_for(bool port_4500, Bytes ike) {
    if (port_4500) {
        Bytes with_marker(4, 0);  // RFC 3948 §2.2 non-ESP marker
        with_marker.insert(with_marker.end(), ike.begin(), ike.end());
        return {std::move(with_marker), 4500, 4500};
    }
    return {std::move(ike), 500, 500};
}

void expect_clean(const std::string& json, std::size_t messages) {
    const auto problems = test::tshark_problems(json);
    for (const auto& p : problems) {
        ADD_FAILURE() << "tshark: " << p;
    }
    EXPECT_EQ(test::count_occurrences(json, "\"isakmp.exchangetype\":"), messages)
            << "tshark did not decode every message as IKEv2";
}

TEST(Tshark, RealMessagesWrittenFromParsedFields) {
    require_tshark();
    test::TempDir dir;
    std::vector<UdpDatagram> datagrams;
    for (const auto& v : test::all_vector_messages()) {
        auto m = parse_message(v.bytes);
        ASSERT_TRUE(m) << v.name;
        auto out = write_message(*m);
        ASSERT_TRUE(out) << v.name;
        datagrams.push_back(datagram_for(v.port_4500, std::move(*out)));
    }
    const auto pcap = dir.path() / "real.pcap";
    test::write_pcap(pcap, datagrams);
    expect_clean(test::tshark_json(pcap, {}), datagrams.size());
}

/// An encrypted message whose SK payload holds `inner` in the clear: IV none, Pad Length 0,
/// ICV none — what NULL encryption with INTEG NONE produces.
Message null_encrypted(Header h, const std::vector<Payload>& inner) {
    Bytes plain = write_payload_chain(inner).value();
    plain.push_back(0);  // Pad Length (RFC 7296 §3.14)
    const PayloadType first = inner.empty() ? PayloadType::kNone : inner.front().type;
    return Message{h, {make_payload(SkPayload{first, std::move(plain)})}};
}

TEST(Tshark, OurMessagesWithEveryPayload) {
    require_tshark();
    test::TempDir dir;
    using test::sample_header;
    // A real certificate (DER), so tshark's X.509 decoder has something valid to decode.
    const Bytes cert = test::read_vector("strongswan-5.9.8/cert/certs/a.test.der");
    const std::vector<Message> messages = {
            test::sample_ike_sa_init_request(),
            test::sample_ike_sa_init_response(),
            null_encrypted(sample_header(ExchangeType::kIkeAuth, false, 1),
                           test::sample_ike_auth_request_inner(cert)),
            null_encrypted(sample_header(ExchangeType::kCreateChildSa, false, 2),
                           test::sample_create_child_sa_member_inner()),
            null_encrypted(sample_header(ExchangeType::kCreateChildSa, true, 2),
                           test::sample_ts_max_queue_inner()),
            null_encrypted(sample_header(ExchangeType::kInformational, false, 3),
                           test::sample_informational_inner()),
            null_encrypted(sample_header(ExchangeType::kIkeAuth, false, 4),
                           test::sample_eap_inner()),
            null_encrypted(sample_header(ExchangeType::kInformational, true, 3), {}),
    };
    std::vector<UdpDatagram> datagrams;
    for (const Message& m : messages) {
        datagrams.push_back({write_message(m).value(), 500, 500});
    }
    // The same IKE_AUTH contents in two fragments (RFC 7383), which tshark reassembles.
    const auto inner = test::sample_ike_auth_request_inner(cert);
    const Bytes plain = write_payload_chain(inner).value();
    const std::size_t half = plain.size() / 2;
    for (std::uint16_t n = 1; n <= 2; ++n) {
        Bytes data(plain.begin() + (n == 1 ? 0 : static_cast<std::ptrdiff_t>(half)),
                   n == 1 ? plain.begin() + static_cast<std::ptrdiff_t>(half) : plain.end());
        data.push_back(0);  // Pad Length
        const PayloadType first = n == 1 ? inner.front().type : PayloadType::kNone;
        Message frag{sample_header(ExchangeType::kIkeAuth, false, 5),
                     {make_payload(SkfPayload{first, n, 2, std::move(data)})}};
        datagrams.push_back({write_message(frag).value(), 500, 500});
    }

    const auto pcap = dir.path() / "ours.pcap";
    test::write_pcap(pcap, datagrams);
    {
        std::ofstream table(dir.path() / "ikev2_decryption_table");
        table << "0123456789abcdef,fedcba9876543210,,,\"NULL [RFC2410]\",,,\"NONE [RFC4306]\"\n";
    }
    const std::string json = test::tshark_json(pcap, {}, dir.path());
    expect_clean(json, datagrams.size());
    // The inner payloads were really decoded: RFC 9611 notifies, TS, CP, EAP, Delete.
    EXPECT_EQ(test::count_occurrences(json, "\"isakmp.notify.msgtype\": \"16444\""), 3U);
    EXPECT_EQ(test::count_occurrences(json, "\"isakmp.notify.msgtype\": \"48\""), 1U);
    EXPECT_GE(test::count_occurrences(json, "\"isakmp.ts.start_ipv4\": \"10.99.1.0\""), 4U);
    EXPECT_GE(test::count_occurrences(json, "\"isakmp.ts.start_ipv6\": \"2001:db8::\""), 4U);
    EXPECT_GE(test::count_occurrences(json, "\"isakmp.cfg.type\""), 1U);
    EXPECT_GE(test::count_occurrences(json, "\"eap.code\": \"2\""), 1U);
    EXPECT_GE(test::count_occurrences(json, "\"x509af.serialNumber\""), 2U);
    EXPECT_EQ(test::count_occurrences(json, "\"isakmp.delete.protoid\""), 2U);
}

// RFC 9242 / RFC 9370 messages: tshark 4.0 knows neither exchange type 43 (IKE_INTERMEDIATE),
// transform types 6..12 (ADDITIONAL_KEY_EXCHANGE_1..7) nor notify 16438
// (INTERMEDIATE_EXCHANGE_SUPPORTED). It still decodes these messages and their SK contents; it
// names the numbers "Unknown (43)", "Reserved to IANA (6)" and "RESERVED TO IANA - STATUS TYPES"
// without raising expert info (checked with 4.0.17). The explicit allow-lists: the numbers it
// may leave unnamed (each must appear, decoded as a number), and the expert messages allowed
// for them (none needed with 4.0.17; a newer tshark may add some). The codec's own round trip
// covers these messages in full.
const std::vector<std::string> kRfc9370Unnamed = {
        R"("isakmp.exchangetype": "43")",
        R"("isakmp.tf.type": "6")",
        R"("isakmp.tf.type": "7")",
        R"("isakmp.tf.type": "8")",
        R"("isakmp.tf.type": "9")",
        R"("isakmp.tf.type": "10")",
        R"("isakmp.tf.type": "11")",
        R"("isakmp.tf.type": "12")",
        R"("isakmp.notify.msgtype": "16438")",
};
const std::vector<std::string> kRfc9370AllowedExpert = {};

TEST(Tshark, Rfc9370MessagesWithAnAllowList) {
    require_tshark();
    test::TempDir dir;
    using test::sample_header;
    Message init = test::sample_ike_sa_init_request();
    for (Payload& p : init.payloads) {
        if (auto* sa = p.as<SaPayload>()) {
            for (std::uint8_t t = 6; t <= 12; ++t) {
                sa->proposals[0].transforms.push_back({static_cast<TransformType>(t),
                                                       static_cast<std::uint16_t>(19 + t % 2),
                                                       {}});
            }
            sa->proposals[0].transforms.push_back({TransformType::kAddKe7, 0, {}});  // NONE
        }
    }
    init.payloads.push_back(make_notify(NotifyType::kIntermediateExchangeSupported));
    const std::vector<Payload> ke = {make_payload(KePayload{19, Bytes(64, 0x42)})};
    std::vector<Message> messages = {
            init,
            null_encrypted(sample_header(ExchangeType::kIkeIntermediate, false, 1), ke),
            null_encrypted(sample_header(ExchangeType::kIkeIntermediate, true, 1), ke),
            null_encrypted(sample_header(ExchangeType::kIkeIntermediate, false, 2), {}),
    };
    std::vector<UdpDatagram> datagrams;
    for (const Message& m : messages) {
        const Bytes bytes = write_message(m).value();
        auto back = parse_message(bytes);  // the codec's round trip
        ASSERT_TRUE(back);
        EXPECT_EQ(write_message(*back).value(), bytes);
        datagrams.push_back({bytes, 500, 500});
    }
    const auto pcap = dir.path() / "rfc9370.pcap";
    test::write_pcap(pcap, datagrams);
    {
        std::ofstream table(dir.path() / "ikev2_decryption_table");
        table << "0123456789abcdef,fedcba9876543210,,,\"NULL [RFC2410]\",,,\"NONE [RFC4306]\"\n";
    }
    const std::string json = test::tshark_json(pcap, {}, dir.path());
    for (const auto& p : test::tshark_problems(json)) {
        const bool allowed =
                std::any_of(kRfc9370AllowedExpert.begin(), kRfc9370AllowedExpert.end(),
                            [&](const std::string& a) { return p.find(a) != std::string::npos; });
        if (!allowed) {
            ADD_FAILURE() << "tshark: " << p;
        }
    }
    EXPECT_EQ(test::count_occurrences(json, "\"isakmp.exchangetype\":"), datagrams.size());
    for (const std::string& field : kRfc9370Unnamed) {
        EXPECT_GE(test::count_occurrences(json, field), 1U) << field;
    }
    // The KE payloads inside both IKE_INTERMEDIATE messages with one were decoded.
    EXPECT_EQ(test::count_occurrences(json, "\"isakmp.key_exchange.dh_group\": \"19\""), 2U);
}

}  // namespace
}  // namespace ikeplex::wire
