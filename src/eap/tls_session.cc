// One TLS 1.2 or 1.3 handshake through OpenSSL memory BIOs, for EAP-TLS.
#include "eap/tls_session.h"

#include <array>
#include <climits>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <openssl/err.h>

#include "util/log.h"

namespace ikeplex::eap::tls {
namespace {

/// RFC 5216 §2.3.
constexpr std::string_view kMskLabel = "client EAP encryption";
constexpr std::size_t kMskSize = 64;
/// RFC 9190 §2.3: the exporter labels, the context (the EAP-TLS Type-Code) and the lengths.
constexpr std::string_view kKeyMaterialLabel = "EXPORTER_EAP_TLS_Key_Material";
constexpr std::string_view kMethodIdLabel = "EXPORTER_EAP_TLS_Method-Id";
constexpr std::uint8_t kTypeCode = 0x0D;
constexpr std::size_t kKeyMaterialSize = 128;  // MSK (64) || EMSK (64)
constexpr std::size_t kMethodIdSize = 64;
constexpr std::size_t kRandomSize = 32;

std::string openssl_reason(const char* what) {
    const unsigned long e = ERR_peek_last_error();
    const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr;
    std::string s = what;
    if (r != nullptr) {
        s += ": ";
        s += r;
    }
    return s;
}

/// A Certificate sharing `x` (one more reference).
crypto::Certificate share(X509* x) {
    X509_up_ref(x);
    return crypto::Certificate(crypto::X509Ptr(x));
}

}  // namespace

Result<std::unique_ptr<Session>> Session::create(Role role, const Credentials& creds,
                                                 LeafCheck check) {
    if (creds.trusted == nullptr) {
        return make_error(Errc::kConfig, "EAP-TLS: no trusted CA certificates");
    }
    if ((creds.own_cert == nullptr) != (creds.own_key == nullptr)) {
        return make_error(Errc::kConfig, "EAP-TLS: a certificate needs its private key");
    }
    if (role == Role::kServer && creds.own_cert == nullptr) {
        return make_error(Errc::kConfig, "EAP-TLS: the server needs a certificate");
    }
    auto s = std::make_unique<Session>(Token{}, role, creds, std::move(check));
    IKEPLEX_TRY(s->init());
    return s;
}

Session::Session(Token /*unused*/, Role role, const Credentials& creds, LeafCheck check)
    : role_(role), creds_(creds), check_(std::move(check)) {}

Status Session::init() {
    ERR_clear_error();
    ctx_.reset(SSL_CTX_new(role_ == Role::kServer ? TLS_server_method() : TLS_client_method()));
    if (!ctx_) {
        return crypto::openssl_error("EAP-TLS: SSL_CTX");
    }
    SSL_CTX* c = ctx_.get();
    if (SSL_CTX_set_min_proto_version(c, creds_.versions.min) != 1 ||
        SSL_CTX_set_max_proto_version(c, creds_.versions.max) != 1) {
        return crypto::openssl_error("EAP-TLS: protocol version");
    }
    SSL_CTX_set_security_level(c, 2);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // TLS 1.3 servers send NewSessionTicket after the handshake even with SSL_OP_NO_TICKET
    // (stateful tickets then); EAP-TLS here offers no resumption (RFC 9190 §2.1.2 optional).
    SSL_CTX_set_num_tickets(c, 0);
    if (role_ == Role::kClient) {
        // strongSwan 5.9.8's EAP-TLS server (libtls) answers without the RFC 5746
        // renegotiation_info extension, which OpenSSL 3 clients refuse by default ("unsafe
        // legacy renegotiation disabled"; seen live in integration_eap_rw). Renegotiation
        // itself stays off (SSL_OP_NO_RENEGOTIATION): only the connection is allowed.
        SSL_CTX_set_options(c, SSL_OP_LEGACY_SERVER_CONNECT);
    }
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    const int mode = role_ == Role::kServer ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                            : SSL_VERIFY_PEER;
    SSL_CTX_set_verify(c, mode, nullptr);
    SSL_CTX_set_cert_verify_callback(c, &Session::verify_callback, this);
    if (creds_.own_cert != nullptr) {
        IKEPLEX_TRY(crypto::check(SSL_CTX_use_certificate(c, creds_.own_cert->raw()),
                                  "EAP-TLS: own certificate"));
        IKEPLEX_TRY(crypto::check(SSL_CTX_use_PrivateKey(c, creds_.own_key->raw()),
                                  "EAP-TLS: own private key"));
        IKEPLEX_TRY(crypto::check(SSL_CTX_check_private_key(c),
                                  "EAP-TLS: the key does not match the certificate"));
        // Send the intermediate CAs among the trusted ones with our certificate (not the root),
        // as strongSwan sends the intermediates it knows.
        ERR_clear_error();
        if (SSL_CTX_set1_chain_cert_store(c, creds_.trusted->raw()) != 1 ||
            SSL_CTX_build_cert_chain(
                    c, SSL_BUILD_CHAIN_FLAG_NO_ROOT | SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR) <= 0) {
            log::debug(log::Subsystem::kIke, "EAP-TLS: no chain built for our certificate");
        }
        ERR_clear_error();
    }
    ssl_.reset(SSL_new(c));
    crypto::BioPtr in(BIO_new(BIO_s_mem()));
    crypto::BioPtr out(BIO_new(BIO_s_mem()));
    if (!ssl_ || !in || !out) {
        return crypto::openssl_error("EAP-TLS: SSL");
    }
    BIO_set_mem_eof_return(in.get(), -1);  // no data yet is "retry", not end of stream
    in_ = in.release();
    out_ = out.release();
    SSL_set_bio(ssl_.get(), in_, out_);  // ssl_ owns both now
    SSL_set_app_data(ssl_.get(), this);
    SSL_set_info_callback(ssl_.get(), &Session::info_callback);
    if (role_ == Role::kServer) {
        SSL_set_accept_state(ssl_.get());
    } else {
        SSL_set_connect_state(ssl_.get());
    }
    return ok();
}

int Session::verify_callback(X509_STORE_CTX* store_ctx, void* arg) {
    return static_cast<Session*>(arg)->verify(store_ctx);
}

int Session::verify(X509_STORE_CTX* store_ctx) {
    X509* leaf_raw = X509_STORE_CTX_get0_cert(store_ctx);
    if (leaf_raw == nullptr) {
        verify_reason_ = "no certificate from the other side";
        X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    crypto::Certificate leaf = share(leaf_raw);
    std::vector<crypto::Certificate> chain;
    STACK_OF(X509)* untrusted = X509_STORE_CTX_get0_untrusted(store_ctx);
    for (int i = 0; untrusted != nullptr && i < sk_X509_num(untrusted); ++i) {
        X509* x = sk_X509_value(untrusted, i);
        if (x != leaf_raw) {
            chain.push_back(share(x));
        }
    }
    const auto chained = creds_.trusted->verify(leaf, chain, creds_.unix_time);
    if (!chained) {
        verify_reason_ = "certificate '" + leaf.subject() + "' not trusted: " +
                         X509_verify_cert_error_string(static_cast<long>(chained.error().arg));
        X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_UNTRUSTED);
        return 0;
    }
    if (check_) {
        std::string refusal = check_(leaf);
        if (!refusal.empty()) {
            verify_reason_ = std::move(refusal);
            X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
            return 0;
        }
    }
    peer_cert_.emplace(std::move(leaf));
    return 1;
}

void Session::info_callback(const SSL* ssl, int where, int ret) {
    // SSL_CB_READ_ALERT and SSL_CB_WRITE_ALERT share the SSL_CB_ALERT bit: test both bits.
    if ((where & SSL_CB_ALERT) == 0 || (where & SSL_CB_READ) == 0) {
        return;
    }
    auto* self = static_cast<Session*>(SSL_get_app_data(ssl));
    if (self != nullptr && self->alert_received_.empty()) {
        self->alert_received_ = std::string("TLS alert from the other side: ") +
                                SSL_alert_type_string_long(ret) + " " +
                                SSL_alert_desc_string_long(ret);
    }
}

void Session::note_failure() {
    failed_ = true;
    if (!verify_reason_.empty()) {
        reason_ = verify_reason_;
    } else if (!alert_received_.empty()) {
        reason_ = alert_received_;
    } else {
        reason_ = openssl_reason("TLS handshake failed");
    }
    ERR_clear_error();
}

bool Session::tls13() const noexcept {
    return done_ && SSL_version(ssl_.get()) == TLS1_3_VERSION;
}

Result<Bytes> Session::drain_output() {
    Bytes out(BIO_ctrl_pending(out_));
    if (!out.empty() &&
        BIO_read(out_, out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size())) {
        reason_ = "TLS output buffer";
        failed_ = true;
        return make_error(Errc::kCrypto, "EAP-TLS: TLS output buffer");
    }
    return out;
}

Status Session::feed_input(ByteView input) {
    if (input.empty()) {
        return ok();
    }
    if (input.size() > static_cast<std::size_t>(INT_MAX) ||
        BIO_write(in_, input.data(), static_cast<int>(input.size())) !=
                static_cast<int>(input.size())) {
        reason_ = "TLS input buffer";
        failed_ = true;
        return make_error(Errc::kCrypto, "EAP-TLS: TLS input buffer");
    }
    return ok();
}

Result<Bytes> Session::receive(ByteView input) {
    if (failed_ || !done_) {
        return make_error(Errc::kState, "EAP-TLS: no TLS connection to receive on");
    }
    ERR_clear_error();
    IKEPLEX_TRY(feed_input(input));
    Bytes data;
    std::array<std::uint8_t, 256> chunk{};
    for (;;) {
        const int n = SSL_read(ssl_.get(), chunk.data(), static_cast<int>(chunk.size()));
        if (n > 0) {
            data.insert(data.end(), chunk.begin(), chunk.begin() + n);
            continue;
        }
        const int e = SSL_get_error(ssl_.get(), n);
        if (e == SSL_ERROR_WANT_READ) {
            break;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            failed_ = true;
            reason_ = "the other side closed the TLS connection (close_notify)";
            return make_error(Errc::kAuthFailed, "EAP-TLS: TLS connection closed");
        }
        note_failure();
        return make_error(Errc::kAuthFailed, "EAP-TLS: TLS record refused");
    }
    ERR_clear_error();
    return data;
}

Result<Bytes> Session::seal(ByteView plaintext) {
    if (failed_ || !done_ || plaintext.empty() ||
        plaintext.size() > static_cast<std::size_t>(INT_MAX)) {
        return make_error(Errc::kState, "EAP-TLS: no TLS connection to send on");
    }
    ERR_clear_error();
    if (SSL_write(ssl_.get(), plaintext.data(), static_cast<int>(plaintext.size())) !=
        static_cast<int>(plaintext.size())) {
        note_failure();
        return make_error(Errc::kCrypto, "EAP-TLS: TLS application data");
    }
    return drain_output();
}

Result<Bytes> Session::advance(ByteView input) {
    if (failed_) {
        return make_error(Errc::kState, "EAP-TLS: the TLS handshake failed before");
    }
    if (done_) {
        reason_ = "TLS data after the handshake";
        failed_ = true;
        return make_error(Errc::kState, "EAP-TLS: TLS data after the handshake");
    }
    ERR_clear_error();
    IKEPLEX_TRY(feed_input(input));
    const int rc = SSL_do_handshake(ssl_.get());
    if (rc == 1) {
        done_ = true;
    } else if (SSL_get_error(ssl_.get(), rc) != SSL_ERROR_WANT_READ) {
        note_failure();
        return make_error(Errc::kAuthFailed, "EAP-TLS: TLS handshake failed");
    }
    auto out = drain_output();
    if (!out) {
        return out;
    }
    ERR_clear_error();
    if (done_) {
        const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get());
        log::info(log::Subsystem::kIke, "EAP-TLS: {} with {}", SSL_get_version(ssl_.get()),
                  cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "?");
    }
    return out;
}

Result<Msk> Session::export_msk() const {
    if (!done_) {
        return make_error(Errc::kState, "EAP-TLS: no MSK before the handshake finished");
    }
    ERR_clear_error();
    if (!tls13()) {
        Msk msk(kMskSize);
        if (SSL_export_keying_material(ssl_.get(), msk.mut_view().data(), msk.size(),
                                       kMskLabel.data(), kMskLabel.size(), nullptr, 0, 0) != 1) {
            return crypto::openssl_error("EAP-TLS: MSK export");
        }
        return msk;
    }
    // The exporter encodes the length it is asked for, so the MSK is the first half of the
    // 128-byte Key_Material, not a 64-byte export.
    SecretBytes material(kKeyMaterialSize);
    if (SSL_export_keying_material(ssl_.get(), material.mut_view().data(), material.size(),
                                   kKeyMaterialLabel.data(), kKeyMaterialLabel.size(), &kTypeCode,
                                   1, 1) != 1) {
        return crypto::openssl_error("EAP-TLS: Key_Material export");
    }
    return material.slice(0, kMskSize);
}

Result<Bytes> Session::session_id() const {
    if (!done_) {
        return make_error(Errc::kState, "EAP-TLS: no Session-Id before the handshake finished");
    }
    Bytes id{kTypeCode};
    if (!tls13()) {
        id.resize(1 + 2 * kRandomSize);
        SSL_get_client_random(ssl_.get(), id.data() + 1, kRandomSize);
        SSL_get_server_random(ssl_.get(), id.data() + 1 + kRandomSize, kRandomSize);
        return id;
    }
    id.resize(1 + kMethodIdSize);
    ERR_clear_error();
    if (SSL_export_keying_material(ssl_.get(), id.data() + 1, kMethodIdSize, kMethodIdLabel.data(),
                                   kMethodIdLabel.size(), &kTypeCode, 1, 1) != 1) {
        return crypto::openssl_error("EAP-TLS: Method-Id export");
    }
    return id;
}

bool names_identity(const crypto::Certificate& cert, std::string_view identity) {
    const std::string id(identity);
    std::array<std::uint8_t, 16> addr{};
    if (inet_pton(AF_INET, id.c_str(), addr.data()) == 1) {
        return cert.names(crypto::NameKind::kIpAddress, ByteView(addr.data(), 4));
    }
    if (inet_pton(AF_INET6, id.c_str(), addr.data()) == 1) {
        return cert.names(crypto::NameKind::kIpAddress, ByteView(addr.data(), 16));
    }
    if (identity.find('=') != std::string_view::npos) {
        auto der = crypto::dn_from_string(identity);
        return der && cert.names(crypto::NameKind::kDistinguishedName, *der);
    }
    if (!identity.empty() && identity.front() == '@') {
        return cert.names(crypto::NameKind::kDns, as_bytes(identity.substr(1)));
    }
    if (identity.find('@') != std::string_view::npos) {
        return cert.names(crypto::NameKind::kEmail, as_bytes(identity));
    }
    return cert.names(crypto::NameKind::kDns, as_bytes(identity));
}

}  // namespace ikeplex::eap::tls
