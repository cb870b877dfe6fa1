// Plain OpenSSL TLS endpoints over memory BIOs for the EAP-TLS tests: what ikeplex's server and
// peer meet instead of each other, so that the keys are checked against OpenSSL's own exporter
// and the messages against a TLS stack that is not ours.
#pragma once

#include <memory>

#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include "crypto/ossl.h"
#include "tls_fixture.h"

namespace ikeplex::eap::tls_test {

using SslCtxPtr = std::unique_ptr<SSL_CTX, crypto::FnDeleter<&SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, crypto::FnDeleter<&SSL_free>>;

/// One TLS connection over memory BIOs that speaks EAP-TLS with unfragmented messages.
class PlainEnd {
public:
    PlainEnd(SSL_CTX* ctx, bool server) {
        ssl_.reset(SSL_new(ctx));
        in_ = BIO_new(BIO_s_mem());
        out_ = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(in_, -1);
        SSL_set_bio(ssl_.get(), in_, out_);
        if (server) {
            SSL_set_accept_state(ssl_.get());
        } else {
            SSL_set_connect_state(ssl_.get());
        }
    }

    /// Feeds TLS data from the other side into the handshake; the Type-Data to answer with
    /// (an acknowledgement if there is nothing to send).
    Bytes step(ByteView tls_in) {
        feed(tls_in);
        done_ = SSL_do_handshake(ssl_.get()) == 1;
        return pending();
    }
    /// After the handshake: the application data in `tls_in`.
    Bytes read(ByteView tls_in) {
        feed(tls_in);
        Bytes data(256);
        const int n = SSL_read(ssl_.get(), data.data(), static_cast<int>(data.size()));
        data.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return data;
    }
    /// After the handshake: the Type-Data carrying `data` (and whatever else is queued, such as
    /// a NewSessionTicket).
    Bytes write(ByteView data) {
        if (!data.empty()) {
            EXPECT_EQ(SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size())),
                      static_cast<int>(data.size()));
        }
        return pending();
    }
    [[nodiscard]] bool done() const { return done_; }
    [[nodiscard]] SSL* ssl() const { return ssl_.get(); }

private:
    void feed(ByteView tls_in) {
        if (!tls_in.empty()) {
            BIO_write(in_, tls_in.data(), static_cast<int>(tls_in.size()));
        }
    }
    Bytes pending() {
        Bytes out(BIO_ctrl_pending(out_));
        if (out.empty()) {
            return tls::ack_type_data();
        }
        BIO_read(out_, out.data(), static_cast<int>(out.size()));
        return whole(out);
    }

    SslPtr ssl_;
    BIO* in_{nullptr};
    BIO* out_{nullptr};
    bool done_{false};
};

/// A client of exactly `version` with the fixture's client certificate (the server's is not
/// checked: the tests check ikeplex's server, not this client).
class PlainClient : public PlainEnd {
public:
    explicit PlainClient(int version) : PlainEnd(make(version).get(), false) {}

private:
    static SslCtxPtr make(int version) {
        SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
        SSL_CTX_set_min_proto_version(ctx.get(), version);
        SSL_CTX_set_max_proto_version(ctx.get(), version);
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
        EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), pki().client.raw()), 1);
        EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), pki().client_key.raw()), 1);
        return ctx;  // SSL_new took a reference
    }
};

}  // namespace ikeplex::eap::tls_test
