// The RADIUS codec and its security (src/radius): RFC 2865 §7.1 and §7.2's packets as vectors,
// and Message-Authenticator, Response/Accounting authenticators and MS-MPPE keys checked
// against values computed independently with Python's hashlib/hmac (the script is in the
// comment of each constant).
#include "radius/radius.h"

#include <gtest/gtest.h>

#include "radius/security.h"
#include "util/hex.h"

namespace ikeplex::radius {
namespace {

Bytes hex(std::string_view s) {
    return from_hex(s).value();
}

Authenticator auth_of(std::string_view s) {
    const Bytes b = hex(s);
    Authenticator a{};
    std::copy(b.begin(), b.end(), a.begin());
    return a;
}

// RFC 2865 §7.1 (secret "xyzzy5461"): Access-Request for nemo / "arctangent", and the
// Access-Accept (no Message-Authenticator: it predates RFC 3579).
constexpr std::string_view kRfc71Request =
        "010000380f403f9473978057bd83d5cb98f4227a01066e656d6f02120dbe708d93d413ce3196e43f782a0a"
        "ee0406c0a8011005060000000 3";
constexpr std::string_view kRfc71Accept =
        "0200002686fe220e7624ba2a1005f6bf9b55e0b2060600000001 0f0600000000 0e06c0a80103";
// RFC 2865 §7.2: CHAP Access-Request for flopsy and its Access-Accept.
constexpr std::string_view kRfc72Request =
        "010100472aee86f08d0d55969ca5978e0d3367a20108666c6f707379031316e97557c316185895f293ff63"
        "44077275040 6c0a8011005060000001406060000000207060000 0001";
constexpr std::string_view kRfc72Accept =
        "0201003815efbc7dab26cfa3dc34d9c03c8601a40606000000020706000000010806fffffffe0a06000000"
        "020d06000000010c06000005dc";

Bytes strip(std::string_view s) {
    std::string t;
    for (char c : s) {
        if (c != ' ') {
            t.push_back(c);
        }
    }
    return hex(t);
}

const Bytes kSecret = to_bytes("ikeplex-radius-secret");
// ra = bytes(range(0x10, 0x20)) in the Python below.
const Authenticator kRa = auth_of("101112131415161718191a1b1c1d1e1f");

TEST(RadiusCodec, Rfc2865Section71RoundTrips) {
    const Bytes wire = strip(kRfc71Request);
    auto p = decode(wire);
    ASSERT_TRUE(p) << p.error().to_string();
    EXPECT_EQ(p->code, Code::kAccessRequest);
    EXPECT_EQ(p->identifier, 0);
    ASSERT_EQ(p->attributes.size(), 4U);
    EXPECT_EQ(p->find(attr::kUserName)->value, to_bytes("nemo"));
    EXPECT_EQ(value_ipv4(*p->find(attr::kNasIpAddress))->to_string(), "192.168.1.16");
    EXPECT_EQ(*value_u32(*p->find(attr::kNasPort)), 3U);
    EXPECT_EQ(*encode(*p), wire);
    // User-Password hiding gives the RFC's 16 bytes
    const auto hidden =
            hide_password(as_bytes("arctangent"), p->authenticator, as_bytes("xyzzy5461"));
    ASSERT_TRUE(hidden);
    EXPECT_EQ(*hidden, p->find(attr::kUserPassword)->value);
}

TEST(RadiusCodec, Rfc2865ResponseAuthenticators) {
    for (const auto& [req, acc] :
         {std::pair{kRfc71Request, kRfc71Accept}, std::pair{kRfc72Request, kRfc72Accept}}) {
        const Bytes request = strip(req);
        const Bytes accept = strip(acc);
        const Authenticator ra = request_authenticator(request);
        // no Message-Authenticator in 2000's examples: checked only when required
        auto p = open_reply(accept, ra, as_bytes("xyzzy5461"), false);
        ASSERT_TRUE(p) << p.error().to_string();
        EXPECT_EQ(p->code, Code::kAccessAccept);
        EXPECT_FALSE(open_reply(accept, ra, as_bytes("xyzzy5461"), true));
        EXPECT_FALSE(open_reply(accept, ra, as_bytes("xyzzy5462"), false));
        Bytes flipped = accept;
        flipped.back() ^= 1U;
        EXPECT_FALSE(open_reply(flipped, ra, as_bytes("xyzzy5461"), false));
    }
}

TEST(RadiusCodec, RejectsBadLengths) {
    const Bytes good = strip(kRfc71Request);
    EXPECT_FALSE(decode(ByteView(good).first(19)));  // shorter than a header
    Bytes b = good;
    b[3] = 0x39;  // Length one past the bytes
    EXPECT_FALSE(decode(b));
    b = good;
    b[2] = 0x10;  // Length 4096+
    b[3] = 0x01;
    EXPECT_FALSE(decode(b));
    b = good;
    b[3] = 19;  // Length below 20
    EXPECT_FALSE(decode(b));
    b = good;
    b[21] = 1;  // User-Name's length below 2
    EXPECT_FALSE(decode(b));
    b = good;
    b[21] = 60;  // an attribute past Length
    EXPECT_FALSE(decode(b));
    b = good;
    b.push_back(0xEE);  // padding beyond Length is ignored
    ASSERT_TRUE(decode(b));
    EXPECT_EQ(decode(b)->attributes.size(), 4U);
    Attribute short_int{attr::kNasPort, {0, 1}};
    EXPECT_FALSE(value_u32(short_int));
    Packet big;
    EXPECT_FALSE(big.add(attr::kClass, Bytes(254, 1)));
    for (int i = 0; i < 17; ++i) {
        ASSERT_TRUE(big.add(attr::kClass, Bytes(253, 1)));
    }
    EXPECT_FALSE(encode(big));  // over 4096 bytes
}

TEST(RadiusCodec, EapMessageSplitsAt253AndJoins) {
    Bytes eap(600);
    for (std::size_t i = 0; i < eap.size(); ++i) {
        eap[i] = static_cast<std::uint8_t>(i);
    }
    Packet p;
    p.add_string(attr::kUserName, "alice").value();
    add_eap_message(p, eap);
    ASSERT_EQ(p.attributes.size(), 4U);
    EXPECT_EQ(p.attributes[1].value.size(), 253U);
    EXPECT_EQ(p.attributes[2].value.size(), 253U);
    EXPECT_EQ(p.attributes[3].value.size(), 94U);
    auto back = decode(*encode(p));
    ASSERT_TRUE(back);
    EXPECT_EQ(eap_message(*back), eap);
    Packet start;
    add_eap_message(start, {});
    ASSERT_EQ(start.attributes.size(), 1U);  // EAP-Start: one empty attribute
    EXPECT_TRUE(eap_message(start).empty());
}

// Python: attrs = User-Name "alice", EAP-Message 0201000a01616c696365, NAS-Identifier
// "ikeplex", then Message-Authenticator of zeros; pkt = 01 2a len ra attrs;
// hmac.new(secret, pkt, hashlib.md5).digest() replaces the zeros.
TEST(RadiusSecurity, MessageAuthenticatorMatchesPython) {
    Packet p;
    p.code = Code::kAccessRequest;
    p.identifier = 42;
    p.authenticator = kRa;
    p.add_string(attr::kUserName, "alice").value();
    add_eap_message(p, hex("0201000a01616c696365"));
    p.add_string(attr::kNasIdentifier, "ikeplex").value();
    auto sealed = seal_access_request(p, kSecret);
    ASSERT_TRUE(sealed);
    EXPECT_EQ(to_hex(*sealed),
              "012a0042101112131415161718191a1b1c1d1e1f0107616c6963654f0c0201000a01616c69636520"
              "09696b65706c6578501276b1ceff29c5d0e43221551774f4db0f");
    EXPECT_TRUE(verify_request_message_authenticator(*sealed, kSecret));
    EXPECT_FALSE(verify_request_message_authenticator(*sealed, as_bytes("other")));
}

// Python: an Access-Challenge, id 42, State "st-1", EAP-Message (MD5-Challenge request, id 2,
// value 00..0f), Message-Authenticator = HMAC-MD5 over the packet with ra in the header,
// Response Authenticator = MD5(code id len ra attrs secret).
constexpr std::string_view kChallenge =
        "0b2a0044cb0742a826d8707292b5ddf7a022f82d180673742d314f18010200160410000102030405060708"
        "090a0b0c0d0e0f50121fb7f4741d0bc054fcbe38a390cd01a7";

TEST(RadiusSecurity, ReplyAuthenticatorsMatchPython) {
    const Bytes wire = hex(kChallenge);
    auto p = open_reply(wire, kRa, kSecret);
    ASSERT_TRUE(p) << p.error().to_string();
    EXPECT_EQ(p->code, Code::kAccessChallenge);
    EXPECT_EQ(p->find(attr::kState)->value, to_bytes("st-1"));
    EXPECT_EQ(eap_message(*p).size(), 22U);
    // the server side makes the same bytes
    Packet same;
    same.code = Code::kAccessChallenge;
    same.identifier = 42;
    ASSERT_TRUE(same.add_string(attr::kState, "st-1"));
    add_eap_message(same, eap_message(*p));
    EXPECT_EQ(seal_reply(same, kRa, kSecret).value(), wire);
    // a wrong request authenticator, secret, or any flipped bit: dropped
    Authenticator other = kRa;
    other[0] ^= 1U;
    EXPECT_FALSE(open_reply(wire, other, kSecret));
    EXPECT_FALSE(open_reply(wire, kRa, as_bytes("ikeplex-radius-secreT")));
    for (std::size_t i = 0; i < wire.size(); ++i) {
        Bytes b = wire;
        b[i] ^= 0x40U;
        EXPECT_FALSE(open_reply(b, kRa, kSecret)) << "flipped byte " << i;
    }
    // a Message-Authenticator of the wrong length
    Bytes bad = wire;
    bad[bad.size() - 17] = 17;
    EXPECT_FALSE(open_reply(bad, kRa, kSecret));
    // truncated
    EXPECT_FALSE(open_reply(ByteView(wire).first(30), kRa, kSecret));
    // a request code is not a reply
    Bytes req = wire;
    req[0] = 1;
    EXPECT_FALSE(open_reply(req, kRa, kSecret));
}

// Python: Accounting-Request id 7: Acct-Status-Type Start, Acct-Session-Id "sess-1",
// User-Name "alice"; authenticator = MD5(04 07 len 16*00 attrs secret).
TEST(RadiusSecurity, AccountingRequestAuthenticatorMatchesPython) {
    Packet p;
    p.code = Code::kAccountingRequest;
    p.identifier = 7;
    p.add_u32(attr::kAcctStatusType, static_cast<std::uint32_t>(AcctStatus::kStart));
    p.add_string(attr::kAcctSessionId, "sess-1").value();
    p.add_string(attr::kUserName, "alice").value();
    auto sealed = seal_accounting_request(p, kSecret);
    ASSERT_TRUE(sealed);
    EXPECT_EQ(to_hex(*sealed),
              "0407002965c6cf570fdb83a65340a6c866d024ce2806000000012c08736573732d310107616c69"
              "6365");
    EXPECT_TRUE(verify_accounting_request(*sealed, kSecret));
    EXPECT_FALSE(verify_accounting_request(*sealed, as_bytes("x")));
}

// Python, RFC 2548 §2.4.2: P = len | key | zeros to 16n; b1 = MD5(S | ra | salt),
// c_i = p_i ^ b_i, b_{i+1} = MD5(S | c_i). Recv key 00..1f with salt 8001, Send key 40..5f
// with salt 8002.
constexpr std::string_view kMppeRecv =
        "80013171cbf09edea0c01703202204ff37752c15a9b6303788991fdeac610c5529bbb9d8f07de4f6ca2c3f"
        "1e9230cb35c922";
constexpr std::string_view kMppeSend =
        "8002a3f59be060edcefe3ca36792ddfb8a12a188194cdde64936e0702fbda38aff873eddf578c43f0117"
        "74976965a406f01f";

TEST(RadiusSecurity, MppeKeysKnownAnswerAndRoundTrip) {
    Bytes recv_key(32);
    Bytes send_key(32);
    for (std::size_t i = 0; i < 32; ++i) {
        recv_key[i] = static_cast<std::uint8_t>(i);
        send_key[i] = static_cast<std::uint8_t>(0x40 + i);
    }
    auto enc = encrypt_mppe_key(recv_key, 0x8001, kRa, kSecret);
    ASSERT_TRUE(enc);
    EXPECT_EQ(to_hex(*enc), kMppeRecv);
    auto dec = decrypt_mppe_key(hex(kMppeSend), kRa, kSecret);
    ASSERT_TRUE(dec);
    EXPECT_TRUE(dec->equals(send_key));
    // round trip of odd sizes
    for (std::size_t n : {1U, 15U, 16U, 31U, 64U}) {
        const Bytes key(n, 0xA5);
        auto c = encrypt_mppe_key(key, 0x8123, kRa, kSecret);
        ASSERT_TRUE(c);
        auto d = decrypt_mppe_key(*c, kRa, kSecret);
        ASSERT_TRUE(d) << n;
        EXPECT_TRUE(d->equals(key));
    }
    // bad lengths: no salt, String not a multiple of 16, a Key-Length past the String
    EXPECT_FALSE(decrypt_mppe_key(hex("80"), kRa, kSecret));
    EXPECT_FALSE(decrypt_mppe_key(ByteView(hex(kMppeRecv)).first(20), kRa, kSecret));
    EXPECT_FALSE(decrypt_mppe_key(hex(kMppeRecv), kRa, as_bytes("wrong")));

    // the MSK from an Access-Accept: Recv-Key | Send-Key (strongSwan's order)
    Packet accept;
    ASSERT_TRUE(add_vendor(accept, kVendorMicrosoft, kMsMppeSendKey, hex(kMppeSend)));
    ASSERT_TRUE(add_vendor(accept, kVendorMicrosoft, kMsMppeRecvKey, hex(kMppeRecv)));
    auto msk = msk_from_reply(accept, kRa, kSecret);
    ASSERT_TRUE(msk) << msk.error().to_string();
    ASSERT_EQ(msk->size(), 64U);
    EXPECT_TRUE(msk->slice(0, 32).equals(recv_key));
    EXPECT_TRUE(msk->slice(32, 32).equals(send_key));
    Packet only_send;
    ASSERT_TRUE(add_vendor(only_send, kVendorMicrosoft, kMsMppeSendKey, hex(kMppeSend)));
    EXPECT_EQ(msk_from_reply(only_send, kRa, kSecret).error().code, Errc::kNotFound);
}

TEST(RadiusCodec, VendorAttributesAreLengthChecked) {
    EXPECT_FALSE(vendor_attributes(Attribute{attr::kVendorSpecific, {0, 0, 1}}));
    EXPECT_FALSE(vendor_attributes(Attribute{attr::kVendorSpecific, {0, 0, 1, 0x37}}));
    EXPECT_FALSE(vendor_attributes(Attribute{attr::kVendorSpecific, {0, 0, 1, 0x37, 16, 1}}));
    EXPECT_FALSE(vendor_attributes(Attribute{attr::kVendorSpecific, {0, 0, 1, 0x37, 16, 5, 1}}));
    auto two =
            vendor_attributes(Attribute{attr::kVendorSpecific, {0, 0, 1, 0x37, 16, 3, 9, 17, 2}});
    ASSERT_TRUE(two);
    ASSERT_EQ(two->size(), 2U);
    EXPECT_EQ((*two)[0].vendor, kVendorMicrosoft);
    EXPECT_EQ((*two)[1].type, kMsMppeRecvKey);
    EXPECT_TRUE((*two)[1].value.empty());
}

}  // namespace
}  // namespace ikeplex::radius
