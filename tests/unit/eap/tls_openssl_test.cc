// The EAP-TLS server against a plain OpenSSL client written here (not ikeplex's peer), and the
// peer against a plain OpenSSL server that sends an intermediate CA: the MSK equals RFC 5216
// §2.3's formula computed independently with OpenSSL's TLS1-PRF KDF from the other side's master
// secret and randoms, and a client that speaks only TLS 1.3 is refused by default (TLS 1.2 only,
// as strongSwan 5.9.8's libtls by default: version_max = 1.2; TLS 1.3 in tls13_test.cc).
#include <memory>
#include <string>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include "crypto/ossl.h"
#include "plain_tls.h"
#include "tls_fixture.h"

namespace ikeplex::eap {
namespace {

using namespace tls_test;  // NOLINT(google-build-using-namespace)

using KdfPtr = std::unique_ptr<EVP_KDF, crypto::FnDeleter<&EVP_KDF_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, crypto::FnDeleter<&EVP_KDF_CTX_free>>;

/// RFC 5216 §2.3 from the client's side: TLS-PRF(master_secret, "client EAP encryption",
/// client.random || server.random), first 64 bytes.
Bytes expected_msk(SSL* ssl) {
    Bytes master(SSL_SESSION_get_master_key(SSL_get_session(ssl), nullptr, 0));
    SSL_SESSION_get_master_key(SSL_get_session(ssl), master.data(), master.size());
    const std::string label = "client EAP encryption";
    Bytes seed(label.begin(), label.end());
    Bytes random(32);
    SSL_get_client_random(ssl, random.data(), random.size());
    seed.insert(seed.end(), random.begin(), random.end());
    SSL_get_server_random(ssl, random.data(), random.size());
    seed.insert(seed.end(), random.begin(), random.end());
    const EVP_MD* md = SSL_CIPHER_get_handshake_digest(SSL_get_current_cipher(ssl));
    std::string digest = EVP_MD_get0_name(md);

    const KdfPtr kdf(EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr));
    const KdfCtxPtr kctx(EVP_KDF_CTX_new(kdf.get()));
    const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master.data(), master.size()),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
            OSSL_PARAM_construct_end()};
    Bytes out(64);
    EXPECT_EQ(EVP_KDF_derive(kctx.get(), out.data(), out.size(), params), 1);
    return out;
}

TEST(EapTlsOpenSsl, MskIsRfc5216sPrfOverTheMasterSecret) {
    auto s = server(pki().server_ctx());
    PlainClient c(TLS1_2_VERSION);
    auto start = s->initiate(1, "alice@ikeplex.test");
    ASSERT_TRUE(start);
    Bytes td = c.step({});
    std::uint8_t id = 1;
    for (int round = 0; round < 10; ++round) {
        auto st = s->process(response(id, td), static_cast<std::uint8_t>(id + 1));
        ++id;
        ASSERT_TRUE(st);
        ASSERT_NE(st->kind, ServerStep::Kind::kFailure) << st->reason;
        if (st->kind == ServerStep::Kind::kSuccess) {
            break;
        }
        auto f = tls::parse(st->request.type_data);
        ASSERT_TRUE(f);
        ASSERT_EQ(f->flags & tls::kFlagMore, 0);  // one fragment each at 1024 bytes here
        td = c.step(f->data);
    }
    ASSERT_TRUE(c.done());
    EXPECT_STREQ(SSL_get_version(c.ssl()), "TLSv1.2");
    ASSERT_EQ(s->msk().size(), 64U);
    EXPECT_TRUE(s->msk().equals(expected_msk(c.ssl())));
    EXPECT_EQ(s->authenticated_identity(), pki().client.subject());
}

TEST(EapTlsOpenSsl, ATls13OnlyClientIsRefused) {
    auto s = server(pki().server_ctx());
    PlainClient c(TLS1_3_VERSION);
    ASSERT_TRUE(s->initiate(1, "alice@ikeplex.test"));
    auto st = s->process(response(1, c.step({})), 2);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->kind, ServerStep::Kind::kFailure);
    EXPECT_NE(st->reason.find("protocol"), std::string::npos) << st->reason;
}

/// A TLS 1.2 server over memory BIOs with a leaf under an intermediate CA (sent in its chain),
/// requiring a client certificate (any: the test checks ikeplex's peer, not this server).
class PlainServer {
public:
    PlainServer() : ctx_(SSL_CTX_new(TLS_server_method())) {
        SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
        SSL_CTX_set_max_proto_version(ctx_.get(), TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           [](int, X509_STORE_CTX*) { return 1; });
        EXPECT_EQ(SSL_CTX_use_certificate(ctx_.get(), leaf_.raw()), 1);
        EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx_.get(), leaf_key_.raw()), 1);
        EXPECT_EQ(SSL_CTX_add1_chain_cert(ctx_.get(), sub_.raw()), 1);
        ssl_.reset(SSL_new(ctx_.get()));
        in_ = BIO_new(BIO_s_mem());
        out_ = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(in_, -1);
        SSL_set_bio(ssl_.get(), in_, out_);
        SSL_set_accept_state(ssl_.get());
    }

    /// Feeds a response's TLS data; the Type-Data of the next request.
    Bytes step(ByteView tls_in) {
        BIO_write(in_, tls_in.data(), static_cast<int>(tls_in.size()));
        done_ = SSL_do_handshake(ssl_.get()) == 1;
        Bytes out(BIO_ctrl_pending(out_));
        EXPECT_FALSE(out.empty());
        BIO_read(out_, out.data(), static_cast<int>(out.size()));
        return whole(out);
    }
    [[nodiscard]] bool done() const { return done_; }
    [[nodiscard]] SSL* ssl() const { return ssl_.get(); }

private:
    PrivateKey sub_key_ = make_key(KeyType::kEcP384);
    Certificate sub_ =
            issue({.cn = "EAP Test Sub CA", .ca = true}, sub_key_, &pki().ca, pki().ca_key);
    PrivateKey leaf_key_ = make_key(KeyType::kEcP256);
    Certificate leaf_ = issue({.cn = "gw.ikeplex.test", .dns = {"gw.ikeplex.test"}}, leaf_key_,
                              &sub_, sub_key_);
    SslCtxPtr ctx_;
    SslPtr ssl_;
    BIO* in_{nullptr};
    BIO* out_{nullptr};
    bool done_{false};
};

TEST(EapTlsOpenSsl, PeerAgainstAPlainServerWithAnIntermediate) {
    PlainServer srv;
    auto p = peer(pki().peer_ctx());
    Packet req = request(1, tls::start_type_data());
    for (std::uint8_t id = 2; id < 10 && !p->may_succeed(); ++id) {
        auto st = p->process(req);
        ASSERT_TRUE(st);
        ASSERT_EQ(st->kind, PeerStep::Kind::kResponse) << st->reason;
        auto f = tls::parse(st->response.type_data);
        ASSERT_TRUE(f);
        ASSERT_EQ(f->flags & tls::kFlagMore, 0);
        if (tls::is_ack(*f)) {
            break;  // the acknowledgement of the server's Finished
        }
        req = request(id, srv.step(f->data));
    }
    ASSERT_TRUE(srv.done());
    EXPECT_TRUE(p->may_succeed());
    ASSERT_EQ(p->msk().size(), 64U);
    EXPECT_TRUE(p->msk().equals(expected_msk(srv.ssl())));
}

}  // namespace
}  // namespace ikeplex::eap
