#include "wire/payload_rules.h"

#include <gtest/gtest.h>

#include "sample_messages.h"
#include "wire/notify_codes.h"

namespace ikeplex::wire {
namespace {

using test::sample_header;

TEST(PayloadRules, IkeSaInitSamplesPass) {
    const Message req = test::sample_ike_sa_init_request();
    EXPECT_TRUE(check_header_rules(req.header));
    EXPECT_TRUE(check_outer_rules(req.header, req.payloads));
    const Message resp = test::sample_ike_sa_init_response();
    EXPECT_TRUE(check_outer_rules(resp.header, resp.payloads));
}

TEST(PayloadRules, IkeSaInitRequestNeedsSaKeNonceOnce) {
    Message m = test::sample_ike_sa_init_request();
    m.payloads.erase(m.payloads.begin() + 1);  // drop KE
    Status s = check_outer_rules(m.header, m.payloads);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::kRuleViolation);
    EXPECT_STREQ(s.error().detail, "rules: required payload missing");
    EXPECT_EQ(s.error().arg, static_cast<std::uint32_t>(PayloadType::kKe));
    EXPECT_EQ(notify_of(s.error()), NotifyType::kInvalidSyntax);

    m = test::sample_ike_sa_init_request();
    m.payloads.push_back(m.payloads[2]);  // second Nonce
    s = check_outer_rules(m.header, m.payloads);
    EXPECT_STREQ(s.error().detail, "rules: payload appears too often");

    m = test::sample_ike_sa_init_request();
    m.payloads.push_back(make_payload(AuthPayload{}));
    EXPECT_STREQ(check_outer_rules(m.header, m.payloads).error().detail,
                 "rules: payload not allowed here");

    m = test::sample_ike_sa_init_request();
    m.payloads.push_back(make_payload(SkPayload{}));
    EXPECT_STREQ(check_outer_rules(m.header, m.payloads).error().detail,
                 "rules: encrypted payload in IKE_SA_INIT");
}

TEST(PayloadRules, IkeSaInitErrorResponseMayBeJustANotify) {
    const Header h = sample_header(ExchangeType::kIkeSaInit, true, 0);
    const std::vector<Payload> p{make_notify(NotifyType::kInvalidKePayload, {0, 31})};
    EXPECT_TRUE(check_outer_rules(h, p));
}

TEST(PayloadRules, HeaderRules) {
    Header h = sample_header(ExchangeType::kIkeSaInit, false, 0);
    EXPECT_TRUE(check_header_rules(h));
    h.spi_r = IkeSpi(5);
    EXPECT_STREQ(check_header_rules(h).error().detail,
                 "rules: IKE_SA_INIT request with a responder SPI");
    h = sample_header(ExchangeType::kIkeSaInit, true, 1);
    EXPECT_STREQ(check_header_rules(h).error().detail,
                 "rules: IKE_SA_INIT with a non-zero message id");
    h.spi_i = IkeSpi(0);
    EXPECT_STREQ(check_header_rules(h).error().detail, "rules: initiator SPI is zero");
}

TEST(PayloadRules, EncryptedExchangesCarryOnlySk) {
    const Header h = sample_header(ExchangeType::kIkeAuth, false, 1);
    EXPECT_TRUE(check_outer_rules(h, std::vector<Payload>{make_payload(SkPayload{})}));
    EXPECT_TRUE(check_outer_rules(h, std::vector<Payload>{make_payload(SkfPayload{})}));
    // A non-critical unknown payload before SK is skipped.
    const Payload unknown{static_cast<PayloadType>(200), false, UnknownPayload{}};
    EXPECT_TRUE(check_outer_rules(h, std::vector<Payload>{unknown, make_payload(SkPayload{})}));
    EXPECT_STREQ(check_outer_rules(h, std::vector<Payload>{make_notify(NotifyType::kCookie, {1}),
                                                           make_payload(SkPayload{})})
                         .error()
                         .detail,
                 "rules: unencrypted payload in an encrypted exchange");
    EXPECT_STREQ(check_outer_rules(h, std::vector<Payload>{}).error().detail,
                 "rules: encrypted exchange without SK");
    EXPECT_STREQ(check_outer_rules(h, std::vector<Payload>{make_notify(NotifyType::kCookie, {1})})
                         .error()
                         .detail,
                 "rules: encrypted exchange without SK");
}

TEST(PayloadRules, InnerRulesPerExchange) {
    EXPECT_TRUE(check_inner_rules(sample_header(ExchangeType::kIkeAuth, false, 1),
                                  test::sample_ike_auth_request_inner()));
    EXPECT_TRUE(check_inner_rules(sample_header(ExchangeType::kCreateChildSa, false, 2),
                                  test::sample_create_child_sa_member_inner()));
    EXPECT_TRUE(check_inner_rules(sample_header(ExchangeType::kCreateChildSa, true, 2),
                                  test::sample_ts_max_queue_inner()));
    EXPECT_TRUE(check_inner_rules(sample_header(ExchangeType::kInformational, false, 3),
                                  test::sample_informational_inner()));
    EXPECT_TRUE(check_inner_rules(sample_header(ExchangeType::kInformational, true, 3), {}));
    // A CREATE_CHILD_SA request needs SA and Nonce.
    auto no_nonce = test::sample_create_child_sa_member_inner();
    no_nonce.erase(no_nonce.begin() + 1);
    EXPECT_EQ(check_inner_rules(sample_header(ExchangeType::kCreateChildSa, false, 2), no_nonce)
                      .error()
                      .arg,
              static_cast<std::uint32_t>(PayloadType::kNonce));
    // IKE_AUTH responses have no IDi; INFORMATIONAL has no SA.
    EXPECT_FALSE(check_inner_rules(sample_header(ExchangeType::kIkeAuth, true, 1),
                                   test::sample_ike_auth_request_inner()));
    EXPECT_FALSE(check_inner_rules(sample_header(ExchangeType::kInformational, false, 4),
                                   std::vector<Payload>{make_payload(test::sample_esp_sa())}));
    // IKE_SA_INIT has no SK contents.
    EXPECT_FALSE(check_inner_rules(sample_header(ExchangeType::kIkeSaInit, false, 0), {}));
}

TEST(PayloadRules, UnsupportedExchange) {
    const Header h = sample_header(static_cast<ExchangeType>(99), false, 1);
    EXPECT_EQ(check_outer_rules(h, {}).error().code, Errc::kUnsupported);
    EXPECT_EQ(is_encrypted_exchange(static_cast<ExchangeType>(99)).error().code,
              Errc::kUnsupported);
}

TEST(PayloadRules, IkeIntermediateIsEncryptedWithAtMostOneKe) {
    // RFC 9242 §3, RFC 9370 §2.2.2: HDR, SK {KEi(n)} / HDR, SK {KEr(n)}, or empty.
    const Header h = sample_header(ExchangeType::kIkeIntermediate, false, 1);
    EXPECT_TRUE(is_encrypted_exchange(ExchangeType::kIkeIntermediate).value());
    const Payload ke = make_payload(KePayload{19, Bytes(64, 1)});
    const std::vector<Payload> none;
    const std::vector<Payload> one = {ke};
    const std::vector<Payload> two = {ke, ke};
    const std::vector<Payload> nonce = {make_payload(NoncePayload{Bytes(32, 2)})};
    EXPECT_TRUE(check_inner_rules(h, none));
    EXPECT_TRUE(check_inner_rules(h, one));
    EXPECT_FALSE(check_inner_rules(h, two));
    EXPECT_FALSE(check_inner_rules(h, nonce));
}

}  // namespace
}  // namespace ikeplex::wire
