#include "wire/describe.h"

#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sample_messages.h"
#include "wire/names.h"
#include "wire/notify_codes.h"

namespace ikeplex::wire {
namespace {

TEST(Describe, StrongSwanStyleSummaries) {
    EXPECT_EQ(describe(test::sample_ike_sa_init_request()),
              "IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) "
              "V ]");
    const Header auth = test::sample_header(ExchangeType::kIkeAuth, false, 1);
    EXPECT_EQ(describe(auth, test::sample_ike_auth_request_inner()),
              "IKE_AUTH request 1 [ IDi CERT CERTREQ IDr AUTH CPRQ(ADDR DNS ADDR6) SA TSi TSr "
              "N(INIT_CONTACT) N(SET_WINSIZE) N(RES_INFO) ]");
    const Header ccsa = test::sample_header(ExchangeType::kCreateChildSa, true, 2);
    EXPECT_EQ(describe(ccsa, test::sample_ts_max_queue_inner()),
              "CREATE_CHILD_SA response 2 [ N(TS_MAX_QUEUE) ]");
    const Header info = test::sample_header(ExchangeType::kInformational, false, 3);
    EXPECT_EQ(describe(info, test::sample_informational_inner()),
              "INFORMATIONAL request 3 [ D D N(REKEY_SA) V ]");
    EXPECT_EQ(describe(info, test::sample_eap_inner()), "INFORMATIONAL request 3 [ EAP/RES/ID ]");
    EXPECT_EQ(describe(info, std::vector<Payload>{}), "INFORMATIONAL request 3 [ ]");

    Message frag;
    frag.header = auth;
    frag.payloads.push_back(make_payload(SkfPayload{PayloadType::kIdi, 1, 3, {1}}));
    EXPECT_EQ(describe(frag), "IKE_AUTH request 1 [ EF(1/3) ]");
    Message enc;
    enc.header = auth;
    enc.payloads.push_back(make_payload(SkPayload{PayloadType::kIdi, {1}}));
    EXPECT_EQ(describe(enc), "IKE_AUTH request 1 [ E ]");
}

TEST(Describe, UnknownValuesAreNamedNotBare) {
    EXPECT_EQ(short_name(static_cast<NotifyType>(40000)), "STATUS_TYPE(40000)");
    EXPECT_EQ(to_string(static_cast<NotifyType>(50000)), "PRIVATE_STATUS_TYPE(50000)");
    EXPECT_EQ(to_string(static_cast<NotifyType>(100)), "ERROR_TYPE(100)");
    EXPECT_EQ(to_string(static_cast<NotifyType>(9000)), "PRIVATE_ERROR_TYPE(9000)");
    EXPECT_EQ(to_string(static_cast<ExchangeType>(99)), "EXCHANGE_TYPE(99)");
    EXPECT_EQ(short_name(static_cast<PayloadType>(200)), "PAYLOAD_TYPE(200)");
    EXPECT_EQ(transform_name(TransformType::kEncr, 999), "ENCR(999)");
}

TEST(Describe, Rfc9611Names) {
    EXPECT_EQ(to_string(NotifyType::kSaResourceInfo), "SA_RESOURCE_INFO");
    EXPECT_EQ(short_name(NotifyType::kSaResourceInfo), "RES_INFO");
    EXPECT_EQ(to_string(NotifyType::kTsMaxQueue), "TS_MAX_QUEUE");
    EXPECT_EQ(static_cast<int>(NotifyType::kSaResourceInfo), 16444);
    EXPECT_EQ(static_cast<int>(NotifyType::kTsMaxQueue), 48);
    EXPECT_TRUE(is_error(NotifyType::kTsMaxQueue));
    EXPECT_FALSE(is_error(NotifyType::kSaResourceInfo));
    EXPECT_EQ(fmt::format("{}", NotifyType::kSaResourceInfo), "SA_RESOURCE_INFO");
}

TEST(Describe, EveryEnumeratorHasAName) {
    // Every notify type 0..65535 that has a name is a real one; the named set covers all of
    // RFC 7296's and the later ones in the IANA registry up to RFC 9611.
    std::set<std::string> seen;
    for (std::uint32_t v = 0; v <= 0xffff; ++v) {
        const std::string n = to_string(static_cast<NotifyType>(v));
        ASSERT_FALSE(n.empty());
        ASSERT_FALSE(std::all_of(n.begin(), n.end(), ::isdigit)) << v;
        if (n.find('(') == std::string::npos) {
            EXPECT_TRUE(seen.insert(n).second) << "duplicate name " << n;
        }
    }
    EXPECT_GE(seen.size(), 85U);
    for (int v = 0; v < 256; ++v) {
        EXPECT_FALSE(to_string(static_cast<PayloadType>(v)).empty());
        EXPECT_FALSE(to_string(static_cast<ExchangeType>(v)).empty());
        EXPECT_FALSE(to_string(static_cast<IdType>(v)).empty());
        EXPECT_FALSE(to_string(static_cast<AuthMethod>(v)).empty());
        EXPECT_FALSE(to_string(static_cast<TsType>(v)).empty());
    }
    EXPECT_EQ(to_string(AuthMethod::kDigitalSignature), "DIGITAL_SIGNATURE");
    EXPECT_EQ(transform_name(TransformType::kKe, 31), "CURVE_25519");
    EXPECT_EQ(transform_name(TransformType::kPrf, 5), "PRF_HMAC_SHA2_256");
    EXPECT_EQ(transform_name(TransformType::kInteg, 12), "HMAC_SHA2_256_128");
    EXPECT_EQ(transform_name(TransformType::kEncr, 20), "AES_GCM_16");
    EXPECT_EQ(transform_name(TransformType::kEsn, 1), "EXT_SEQ");
    EXPECT_EQ(hash_algorithm_name(2), "SHA2_256");  // RFC 7427 §7
}

TEST(Describe, ErrorsNameTheirNotify) {
    const Error e = invalid_syntax("Nonce: size outside 16..256 bytes", 8);
    EXPECT_EQ(describe(e),
              "invalid syntax: Nonce: size outside 16..256 bytes [8] -> INVALID_SYNTAX");
    EXPECT_EQ(describe(make_error(Errc::kTruncated, "x")), "truncated: x");
}

}  // namespace
}  // namespace ikeplex::wire
