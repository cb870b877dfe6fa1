// Payload codecs: round trips of every payload, lengths that lie, chains that overrun,
// zero-length and maximum-size payloads, unknown and critical payloads.
#include <gtest/gtest.h>

#include "sample_messages.h"
#include "util/hex.h"
#include "wire/message.h"
#include "wire/notify_codes.h"

namespace ikeplex::wire {
namespace {

Bytes hex(const char* s) {
    return from_hex(s).value();
}

/// An IKE_SA_INIT request header (28 bytes) followed by `payloads` (the first payload type and
/// the length are filled in).
Bytes message(std::uint8_t first, const Bytes& payloads) {
    Bytes m = hex("1111111111111111 0000000000000000");
    m.push_back(first);
    const Bytes rest = hex("20 22 08 00000000");
    m.insert(m.end(), rest.begin(), rest.end());
    const auto len = static_cast<std::uint32_t>(28 + payloads.size());
    for (int s = 24; s >= 0; s -= 8) {
        m.push_back(static_cast<std::uint8_t>(len >> static_cast<unsigned>(s)));
    }
    m.insert(m.end(), payloads.begin(), payloads.end());
    return m;
}

Error parse_error(const Bytes& datagram) {
    auto r = parse_message(datagram);
    EXPECT_FALSE(r.has_value()) << "parsed unexpectedly";
    return r ? Error{} : r.error();
}

void expect_round_trip(const Message& m) {
    auto bytes = write_message(m);
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    auto back = parse_message(*bytes);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, m);
    EXPECT_EQ(*write_message(*back), *bytes);
}

TEST(Codec, SampleMessagesRoundTrip) {
    expect_round_trip(test::sample_ike_sa_init_request());
    expect_round_trip(test::sample_ike_sa_init_response());
}

TEST(Codec, InnerChainsRoundTrip) {
    for (const auto& inner :
         {test::sample_ike_auth_request_inner(), test::sample_create_child_sa_member_inner(),
          test::sample_ts_max_queue_inner(), test::sample_informational_inner(),
          test::sample_eap_inner()}) {
        auto bytes = write_payload_chain(inner);
        ASSERT_TRUE(bytes) << bytes.error().to_string();
        auto back = parse_payload_chain(inner.front().type, *bytes);
        ASSERT_TRUE(back) << back.error().to_string();
        EXPECT_EQ(*back, inner);
    }
}

TEST(Codec, EmptyMessageAndEmptyChain) {
    Message m;
    m.header = test::sample_header(ExchangeType::kInformational, true, 3);
    expect_round_trip(m);
    EXPECT_TRUE(parse_payload_chain(PayloadType::kNone, {})->empty());
    EXPECT_TRUE(write_payload_chain({})->empty());
}

TEST(Codec, HeaderFieldsAndFlags) {
    const Bytes m = message(0, {});
    auto parsed = parse_message(m);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->header.spi_i, IkeSpi(0x1111111111111111ULL));
    EXPECT_EQ(parsed->header.exchange, ExchangeType::kIkeSaInit);
    EXPECT_TRUE(parsed->header.from_initiator());
    EXPECT_FALSE(parsed->header.is_response());
    EXPECT_EQ(parsed->header.major_version, 2);
    EXPECT_EQ(peek_header(m)->spi_i, parsed->header.spi_i);
}

TEST(Codec, WrongMajorVersionAsksForInvalidMajorVersion) {
    Bytes m = message(0, {});
    m[17] = 0x30;
    const Error e = parse_error(m);
    EXPECT_EQ(e.code, Errc::kUnsupportedVersion);
    EXPECT_EQ(notify_of(e), NotifyType::kInvalidMajorVersion);
    EXPECT_EQ(e.arg, 3U);
}

TEST(Codec, MinorVersionAndReservedFlagsAreKept) {
    Bytes m = message(0, {});
    m[17] = 0x27;
    m[19] = 0x0c;  // I plus a reserved bit
    auto parsed = parse_message(m);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->header.minor_version, 7);
    EXPECT_EQ(*write_message(*parsed), m);
}

TEST(Codec, HeaderLengthMustMatchTheDatagram) {
    Bytes m = message(0, {});
    m[27] = 29;  // claims one byte more
    EXPECT_EQ(parse_error(m).code, Errc::kBadLength);
    m[27] = 27;  // one byte less
    EXPECT_EQ(parse_error(m).code, Errc::kBadLength);
    m = message(0, {});
    m.push_back(0);  // datagram longer than the length field
    EXPECT_EQ(parse_error(m).code, Errc::kBadLength);
}

TEST(Codec, PayloadLengthsThatLie) {
    // V payload claiming 9 bytes with 8 present.
    Error e = parse_error(message(43, hex("00 00 0009 aabbccdd")));
    EXPECT_STREQ(e.detail, "payload header: length exceeds the message");
    EXPECT_EQ(notify_of(e), NotifyType::kInvalidSyntax);
    // Length below the generic header.
    e = parse_error(message(43, hex("00 00 0003 aabbccdd")));
    EXPECT_STREQ(e.detail, "payload header: length below 4");
    // Length too short: the rest looks like a chain that was not announced.
    e = parse_error(message(43, hex("00 00 0006 aabbccdd")));
    EXPECT_STREQ(e.detail, "payload chain: data after the last payload");
}

TEST(Codec, ChainsThatOverrun) {
    // V announces a Nonce that is not there.
    Error e = parse_error(message(43, hex("28 00 0008 aabbccdd")));
    EXPECT_STREQ(e.detail, "payload chain: next payload announced past the end");
    // Two V payloads, the second cut in its header.
    e = parse_error(message(43, hex("2b 00 0008 aabbccdd 00 00")));
    EXPECT_STREQ(e.detail, "payload header: length");
}

TEST(Codec, ZeroLengthPayloads) {
    // An empty V payload is fine; an empty Nonce is not (RFC 7296 §3.9: at least 16 bytes).
    EXPECT_TRUE(parse_message(message(43, hex("00 00 0004"))));
    EXPECT_STREQ(parse_error(message(40, hex("00 00 0004"))).detail,
                 "Nonce: size outside 16..256 bytes");
    EXPECT_STREQ(parse_error(message(33, hex("00 00 0004"))).detail, "SA: no proposal");
    EXPECT_STREQ(parse_error(message(41, hex("00 00 0004"))).detail, "Notify: protocol id");
}

TEST(Codec, MaximumSizePayload) {
    // A Vendor ID of 65531 bytes: payload length 0xffff, the largest there is.
    Message m;
    m.header = test::sample_header(ExchangeType::kIkeSaInit, false, 0);
    m.payloads.push_back(make_payload(VendorIdPayload{Bytes(65531, 0xa5)}));
    expect_round_trip(m);
    m.payloads[0].as<VendorIdPayload>()->data.push_back(0);
    auto too_big = write_message(m);
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().code, Errc::kTooLarge);
    // Nonce bounds: 16 and 256 bytes are the limits.
    EXPECT_TRUE(parse_payload_chain(PayloadType::kNonce, hex("00000014"
                                                             "00112233445566778899aabbccddeeff")));
    Bytes n256 = hex("00000104");
    n256.resize(4 + 256, 0x42);
    EXPECT_TRUE(parse_payload_chain(PayloadType::kNonce, n256));
    n256[3] = 5;
    n256.push_back(0);
    EXPECT_FALSE(parse_payload_chain(PayloadType::kNonce, n256));
}

TEST(Codec, UnknownPayloadIsSkippedAndKept) {
    // Payload type 200, not critical, followed by a V.
    const Bytes m = message(200, hex("2b 00 0006 abcd 00 00 0005 ee"));
    auto parsed = parse_message(m);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    ASSERT_EQ(parsed->payloads.size(), 2U);
    EXPECT_EQ(parsed->payloads[0].type, static_cast<PayloadType>(200));
    EXPECT_EQ(parsed->payloads[0].as<UnknownPayload>()->body, hex("abcd"));
    EXPECT_EQ(*write_message(*parsed), m);
}

TEST(Codec, UnknownCriticalPayloadCarriesItsType) {
    const Error e = parse_error(message(200, hex("00 80 0006 abcd")));
    EXPECT_EQ(e.code, Errc::kUnsupportedCritical);
    EXPECT_EQ(notify_of(e), NotifyType::kUnsupportedCriticalPayload);
    EXPECT_EQ(e.arg, 200U);  // RFC 7296 §2.5: the notify data is the one-octet payload type
    // Inside SK the same holds (parsed after decryption).
    const auto inner = parse_payload_chain(static_cast<PayloadType>(77), hex("00 80 0004"));
    ASSERT_FALSE(inner);
    EXPECT_EQ(inner.error().arg, 77U);
    // GSPM (49) is a real payload type ikeplex does not implement: the same.
    EXPECT_EQ(parse_error(message(49, hex("00 80 0004"))).arg, 49U);
}

TEST(Codec, CriticalBitOnAKnownPayloadIsKept) {
    const Bytes m = message(43, hex("00 80 0006 abcd"));
    auto parsed = parse_message(m);
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(parsed->payloads[0].critical);
    EXPECT_EQ(*write_message(*parsed), m);
}

TEST(Codec, EncryptedPayloadEndsTheChain) {
    Bytes m = message(46, hex("29 00 0008 01020304"));
    m[18] = 35;  // IKE_AUTH
    auto parsed = parse_message(m);
    ASSERT_TRUE(parsed);
    ASSERT_NE(parsed->sk(), nullptr);
    EXPECT_EQ(parsed->sk()->first_inner, PayloadType::kNotify);
    EXPECT_EQ(parsed->sk()->data, hex("01020304"));
    // Anything after SK is an error: SK must be last (RFC 7296 §3.14).
    Bytes extra = message(46, hex("29 00 0008 01020304 00 00 0004"));
    EXPECT_STREQ(parse_error(extra).detail, "payload chain: data after the encrypted payload");
    // SK nested inside SK is rejected.
    EXPECT_FALSE(parse_payload_chain(PayloadType::kSk, hex("00 00 0004")));
}

TEST(Codec, ProposalLengthsThatLie) {
    // Proposal length 9 in an SA of 8 body bytes.
    Error e = parse_error(message(33, hex("00 00 000c"
                                          "00 00 0009 01 01 00 00")));
    EXPECT_STREQ(e.detail, "SA proposal: length exceeds the payload");
    e = parse_error(message(33, hex("00 00 000c"
                                    "00 00 0003 01 01 00 00")));
    EXPECT_STREQ(e.detail, "SA proposal: length below 4");
    // "Last" proposal followed by another.
    e = parse_error(message(33, hex("00 00 0024"
                                    "00 00 0010 01 01 00 01 00 00 0008 01 00 000c"
                                    "00 00 0010 02 01 00 01 00 00 0008 01 00 000c")));
    EXPECT_STREQ(e.detail, "SA proposal: data after the last proposal");
    // Bad "last substruc" value.
    e = parse_error(message(33, hex("00 00 0014"
                                    "07 00 0010 01 01 00 01 00 00 0008 01 00 000c")));
    EXPECT_STREQ(e.detail, "SA proposal: last substruc is neither 0 nor 2");
    // Transform count that lies.
    e = parse_error(message(33, hex("00 00 0014"
                                    "00 00 0010 01 01 00 02 00 00 0008 01 00 000c")));
    EXPECT_STREQ(e.detail, "SA proposal: transform count differs from the transforms present");
    // Transform length that lies.
    e = parse_error(message(33, hex("00 00 0014"
                                    "00 00 0010 01 01 00 01 00 00 0009 01 00 000c")));
    EXPECT_STREQ(e.detail, "SA transform: length exceeds the proposal");
    // TLV attribute whose length overruns its transform.
    e = parse_error(message(33, hex("00 00 0018"
                                    "00 00 0014 01 01 00 01 00 00 000c 01 00 000c"
                                    "0001 0005")));
    EXPECT_STREQ(e.detail, "SA attribute: variable value");
}

TEST(Codec, TsLengthsThatLie) {
    const auto ts = [](const char* body) {
        return parse_payload_chain(PayloadType::kTsi, hex(body));
    };
    EXPECT_TRUE(ts("00 00 0018 01 000000 07 00 0010 0000 ffff 0a000000 0affffff"));
    EXPECT_STREQ(ts("00 00 0018 02 000000 07 00 0010 0000 ffff 0a000000 0affffff").error().detail,
                 "TS: fewer selectors than the number of TSs");
    EXPECT_STREQ(ts("00 00 000c 00 000000 07 00 0004").error().detail,
                 "TS: more selectors than the number of TSs");
    EXPECT_STREQ(
            ts("00 00 001a 01 000000 07 00 0012 0000 ffff 0a000000 0affffff 0000").error().detail,
            "TS: selector longer than its address family allows");
    EXPECT_STREQ(ts("00 00 0018 01 000000 07 00 0011 0000 ffff 0a000000 0affffff").error().detail,
                 "TS: selector length exceeds the payload");
    // An unknown selector type (e.g. TS_SECLABEL, RFC 9478) is kept opaque.
    auto label = ts("00 00 0010 01 000000 0a 00 0008 6c61626c");
    ASSERT_TRUE(label) << label.error().to_string();
    const auto& sel = (*label)[0].as<TsPayload>()->selectors[0];
    EXPECT_EQ(sel.type, TsType::kSecLabel);
    EXPECT_EQ(sel.opaque, hex("6c61626c"));
}

TEST(Codec, DeleteRules) {
    const auto del = [](const char* body) {
        return parse_payload_chain(PayloadType::kDelete, hex(body));
    };
    EXPECT_TRUE(del("00 00 0008 01 00 0000"));
    EXPECT_STREQ(del("00 00 000c 01 04 0001 01020304").error().detail,
                 "Delete: IKE SA delete with SPIs");
    EXPECT_STREQ(del("00 00 000c 03 08 0001 01020304").error().detail,
                 "Delete: AH/ESP SPI size is not 4");
    EXPECT_STREQ(del("00 00 000c 07 04 0001 01020304").error().detail,
                 "Delete: unknown protocol id");
    EXPECT_STREQ(del("00 00 000c 03 04 0002 01020304").error().detail,
                 "Delete: SPI count disagrees with the payload length");
}

TEST(Codec, NotifyDataRules) {
    const auto n = [](const char* body) {
        return parse_payload_chain(PayloadType::kNotify, hex(body));
    };
    // RFC 9611 §5.1: SA_RESOURCE_INFO, empty or with opaque data.
    auto empty = n("00 00 0008 00 00 403c");
    ASSERT_TRUE(empty);
    EXPECT_EQ((*empty)[0].as<NotifyPayload>()->type, NotifyType::kSaResourceInfo);
    EXPECT_TRUE(n("00 00 000c 00 00 403c 00000001"));
    // RFC 9611 §5.2: TS_MAX_QUEUE.
    EXPECT_EQ((*n("00 00 0008 00 00 0030"))[0].as<NotifyPayload>()->type, NotifyType::kTsMaxQueue);
    EXPECT_STREQ(n("00 00 0009 00 00 0011 00").error().detail,
                 "Notify: INVALID_KE_PAYLOAD data is not 2 bytes");
    EXPECT_STREQ(n("00 00 000a 00 00 4001 0000").error().detail,
                 "Notify: SET_WINDOW_SIZE data is not 4 bytes");
    EXPECT_STREQ(n("00 00 0008 00 00 4006").error().detail,
                 "Notify: COOKIE data is not 1..64 bytes");
    EXPECT_STREQ(n("00 00 0009 00 00 402f 00").error().detail,
                 "Notify: SIGNATURE_HASH_ALGORITHMS data has odd size");
    EXPECT_STREQ(n("00 00 0008 03 00 4009").error().detail,
                 "Notify: REKEY_SA without a 4-byte SPI");
    EXPECT_STREQ(n("00 00 0008 09 00 4000").error().detail, "Notify: unknown protocol id");
    EXPECT_TRUE(n("00 00 000c 03 04 4009 c1a2b3c4"));
}

TEST(Codec, IdEapSkfRules) {
    EXPECT_STREQ(parse_payload_chain(PayloadType::kIdi, hex("00 00 000b 01 000000 0a6300"))
                         .error()
                         .detail,
                 "ID: ID_IPV4_ADDR is not 4 bytes");
    EXPECT_STREQ(parse_payload_chain(PayloadType::kEap, hex("00 00 000a 02 07 0007 04 1000"))
                         .error()
                         .detail,
                 "EAP: length differs from the payload");
    EXPECT_STREQ(
            parse_payload_chain(PayloadType::kEap, hex("00 00 0009 03 07 0005 00")).error().detail,
            "EAP: success or failure with data");
    EXPECT_TRUE(parse_payload_chain(PayloadType::kEap, hex("00 00 0008 03 07 0004")));
    Bytes skf = message(53, hex("00 00 000c 0004 0003 aabbccdd"));
    skf[18] = 35;
    EXPECT_STREQ(parse_error(skf).detail, "SKF: fragment number outside 1..total");
    skf = message(53, hex("00 00 000c 0000 0003 aabbccdd"));
    EXPECT_STREQ(parse_error(skf).detail, "SKF: fragment number outside 1..total");
}

TEST(Codec, WriterRejectsInconsistentMessages) {
    Message m;
    m.header = test::sample_header(ExchangeType::kIkeAuth, false, 1);
    m.payloads.push_back(make_payload(SkPayload{PayloadType::kIdi, {1, 2, 3}}));
    m.payloads.push_back(make_notify(NotifyType::kInitialContact));
    EXPECT_EQ(write_message(m).error().code, Errc::kInvalidArgument);  // SK not last

    Payload mismatched = make_payload(NoncePayload{Bytes(16, 1)});
    mismatched.type = PayloadType::kKe;
    m.payloads = {mismatched};
    EXPECT_EQ(write_message(m).error().code, Errc::kInvalidArgument);

    m.payloads = {make_payload(NoncePayload{Bytes(8, 1)})};
    EXPECT_EQ(write_message(m).error().code, Errc::kInvalidArgument);

    TsPayload bad_ts;
    bad_ts.selectors.push_back({TsType::kIpv4AddrRange, 0, 0, 0, {1, 2, 3}, {1, 2, 3, 4}, {}});
    m.payloads = {make_tsi(bad_ts)};
    EXPECT_EQ(write_message(m).error().code, Errc::kInvalidArgument);

    m.payloads = {make_payload(SaPayload{})};
    EXPECT_EQ(write_message(m).error().code, Errc::kInvalidArgument);

    EXPECT_EQ(write_payload_chain(std::vector<Payload>{make_payload(SkPayload{})}).error().code,
              Errc::kInvalidArgument);
}

TEST(Codec, TransformKeyLength) {
    const SaPayload sa = test::sample_ike_sa();
    EXPECT_EQ(sa.proposals[0].transforms[0].key_length(), 256);
    EXPECT_EQ(sa.proposals[0].transforms[1].key_length(), std::nullopt);
}

}  // namespace
}  // namespace ikeplex::wire
