// save_keys: the lines of Wireshark's ikev2_decryption_table and esp_sa, and the files (created
// 0600, appended to, nothing written for a file not asked for). That tshark decrypts with them
// is tests/integration/test_key_log.py.
#include "daemon/key_log.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include "crypto/algorithm_ids.h"
#include "crypto/registry.h"
#include "util/hex.h"

namespace ikeplex::daemon {
namespace {

namespace encr = crypto::encr;
namespace integ = crypto::integ;

SecretBytes key(std::string_view hex) {
    return SecretBytes::copy_of(*from_hex(hex));
}

crypto::IkeKeys ike_keys(bool aead) {
    crypto::IkeKeys k;
    k.sk_ei = key("00112233");
    k.sk_er = key("44556677");
    if (!aead) {
        k.sk_ai = key("8899");
        k.sk_ar = key("aabb");
    }
    return k;
}

ike::InstallSa install(std::uint16_t encr_id, std::uint16_t integ_id) {
    ike::InstallSa sa;
    sa.spi = Spi(0xc1a2b3c4);
    sa.src = Endpoint{*IpAddress::parse("10.99.0.1"), 4500};
    sa.dst = Endpoint{*IpAddress::parse("10.99.0.2"), 4500};
    sa.encr_id = encr_id;
    sa.encr_key_bits = 128;
    sa.encr_key = key("0102030405060708");
    sa.integ_id = integ_id;
    if (integ_id != integ::kNone) {
        sa.integ_key = key("a0a1a2a3");
    }
    return sa;
}

class KeyLogLines : public ::testing::Test {
protected:
    void SetUp() override { registry_ = std::move(*crypto::Registry::create()); }
    std::unique_ptr<crypto::Registry> registry_;
};

TEST_F(KeyLogLines, IkeSaWithAead) {
    const crypto::IkeKeys k = ike_keys(true);
    const crypto::IkeSuite suite{registry_->encr(encr::kAesGcm16, 256), nullptr, nullptr};
    std::string line;
    ASSERT_TRUE(append_ikev2_decryption_line(
            ike::IkeKeyRecord{IkeSpi(0x0102030405060708), IkeSpi(0xa0b0c0d0e0f00010), suite, k},
            line));
    EXPECT_EQ(line,
              "0102030405060708,a0b0c0d0e0f00010,00112233,44556677,\"AES-GCM-256 with 16 octet ICV "
              "[RFC5282]\",,,\"NONE [RFC4306]\"\n");
}

TEST_F(KeyLogLines, IkeSaWithCbcAndHmac) {
    const crypto::IkeKeys k = ike_keys(false);
    const crypto::IkeSuite suite{registry_->encr(encr::kAesCbc, 128),
                                 registry_->integ(integ::kHmacSha2_256_128), nullptr};
    std::string line;
    ASSERT_TRUE(append_ikev2_decryption_line(
            ike::IkeKeyRecord{IkeSpi(1), IkeSpi(0xffffffffffffffff), suite, k}, line));
    EXPECT_EQ(line,
              "0000000000000001,ffffffffffffffff,00112233,44556677,\"AES-CBC-128 [RFC3602]\",8899,"
              "aabb,\"HMAC_SHA2_256_128 [RFC4868]\"\n");
}

TEST_F(KeyLogLines, IkeSaWiresharkCannotDecrypt) {
    const crypto::IkeKeys k = ike_keys(true);
    const crypto::IkeSuite suite{registry_->encr(encr::kChacha20Poly1305, 256), nullptr, nullptr};
    ASSERT_NE(suite.encr, nullptr);
    std::string line;
    EXPECT_FALSE(
            append_ikev2_decryption_line(ike::IkeKeyRecord{IkeSpi(1), IkeSpi(2), suite, k}, line));
    EXPECT_EQ(line, "");
}

TEST(KeyLogNames, EveryAesSizeHasItsName) {
    EXPECT_STREQ(wireshark_ike_encr(encr::kAesCbc, 192), "AES-CBC-192 [RFC3602]");
    EXPECT_STREQ(wireshark_ike_encr(encr::kAesCtr, 256), "AES-CTR-256 [RFC5930]");
    EXPECT_STREQ(wireshark_ike_encr(encr::kAesGcm8, 128), "AES-GCM-128 with 8 octet ICV [RFC5282]");
    EXPECT_STREQ(wireshark_ike_encr(encr::kAesCcm12, 192),
                 "AES-CCM-192 with 12 octet ICV [RFC5282]");
    EXPECT_EQ(wireshark_ike_encr(encr::kAesCbc, 100), nullptr);
    EXPECT_STREQ(wireshark_ike_integ(integ::kHmacSha2_512_256), "HMAC_SHA2_512_256 [RFC4868]");
    EXPECT_STREQ(wireshark_esp_encr(encr::kAesGcm12), "AES-GCM with 12 octet ICV [RFC4106]");
    EXPECT_EQ(wireshark_esp_encr(encr::kAesCcm16), nullptr);
    EXPECT_EQ(wireshark_esp_encr(encr::kChacha20Poly1305), nullptr);
    EXPECT_STREQ(wireshark_esp_auth(integ::kHmacSha2_384_192), "HMAC-SHA-384-192 [RFC4868]");
}

TEST(KeyLogEsp, GcmLine) {
    std::string line;
    ASSERT_TRUE(append_esp_sa_line(install(encr::kAesGcm16, integ::kNone), line));
    EXPECT_EQ(line,
              "\"IPv4\",\"10.99.0.1\",\"10.99.0.2\",\"0xc1a2b3c4\",\"AES-GCM with 16 octet ICV "
              "[RFC4106]\",\"0x0102030405060708\",\"NULL\",\"\"\n");
}

TEST(KeyLogEsp, CbcHmacLineAndIpv6) {
    ike::InstallSa sa = install(encr::kAesCbc, integ::kHmacSha2_256_128);
    sa.src.address = *IpAddress::parse("fd00:99::1");
    sa.dst.address = *IpAddress::parse("fd00:99::2");
    sa.spi = Spi(7);
    std::string line;
    ASSERT_TRUE(append_esp_sa_line(sa, line));
    EXPECT_EQ(line,
              "\"IPv6\",\"fd00:99::1\",\"fd00:99::2\",\"0x00000007\",\"AES-CBC [RFC3602]\","
              "\"0x0102030405060708\",\"HMAC-SHA-256-128 [RFC4868]\",\"0xa0a1a2a3\"\n");
}

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class KeyLogFiles : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ikeplex-keylog-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::remove((dir_ + "/ike").c_str());
        std::remove((dir_ + "/esp").c_str());
        ::rmdir(dir_.c_str());
    }
    std::string dir_;
};

TEST_F(KeyLogFiles, CreatedPrivateAppendedAndOnlyWhenAsked) {
    KeyLogger logger;
    ASSERT_TRUE(logger.open(config::SaveKeys{"", dir_ + "/esp"}));
    EXPECT_FALSE(logger.ike_on());
    EXPECT_TRUE(logger.esp_on());
    struct stat st {};
    ASSERT_EQ(::stat((dir_ + "/esp").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777U, 0600U);
    EXPECT_NE(::stat((dir_ + "/ike").c_str(), &st), 0) << "no IKE file when not asked for";

    std::vector<ike::BackendCommand> cmds;
    cmds.emplace_back(install(encr::kAesGcm16, integ::kNone));
    cmds.emplace_back(ike::DeleteSa{});
    cmds.emplace_back(install(encr::kChacha20Poly1305, integ::kNone));  // no line: warned
    logger.child_sas(cmds);
    std::string text = read_all(dir_ + "/esp");
    EXPECT_EQ(text.rfind("# ikeplexd save_keys", 0), 0U) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;

    // Opened again (a reload): appended to, the comment not repeated.
    ASSERT_TRUE(logger.open(config::SaveKeys{"", dir_ + "/esp"}));
    logger.child_sas(cmds);
    text = read_all(dir_ + "/esp");
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;

    // Turned off: nothing more is written.
    ASSERT_TRUE(logger.open(config::SaveKeys{}));
    EXPECT_FALSE(logger.esp_on());
    logger.child_sas(cmds);
    EXPECT_EQ(read_all(dir_ + "/esp"), text);
}

TEST_F(KeyLogFiles, UnopenableFileIsAnError) {
    KeyLogger logger;
    EXPECT_FALSE(logger.open(config::SaveKeys{dir_ + "/missing/dir/ike", ""}));
    EXPECT_FALSE(logger.ike_on());
}

}  // namespace
}  // namespace ikeplex::daemon
