// One TLS 1.2 or 1.3 handshake for EAP-TLS, through OpenSSL 3 with memory BIOs (no sockets):
// bytes from the other side go in, the records to send come out; after a TLS 1.3 handshake,
// application data (RFC 9190's commitment message) is sealed and opened here too. Certificate
// chains are checked by crypto::CertStore at a given time (not OpenSSL's own verification), and the
// method's own check of the leaf (a server name, an EAP identity) runs inside the handshake, so a
// refused certificate fails it. The MSK is RFC 5216 §2.3's over TLS 1.2, RFC 9190 §2.3's over
// TLS 1.3. Internal to the eap layer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "crypto/ossl.h"
#include "crypto/x509.h"
#include "eap/eap.h"

namespace ikeplex::eap::tls {

using SslCtxPtr = std::unique_ptr<SSL_CTX, crypto::FnDeleter<&SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, crypto::FnDeleter<&SSL_free>>;

struct Credentials {
    const crypto::Certificate* own_cert{nullptr};
    const crypto::PrivateKey* own_key{nullptr};
    const crypto::CertStore* trusted{nullptr};
    std::int64_t unix_time{0};
    TlsVersions versions{};
};

/// The method's check of the other side's certificate once its chain verified: empty if it is
/// acceptable, else why not (for the log).
using LeafCheck = std::function<std::string(const crypto::Certificate& leaf)>;

class Session {
    struct Token {
        explicit Token() = default;
    };

public:
    enum class Role : std::uint8_t { kServer, kClient };

    /// The versions of `creds.versions` (TLS 1.2 and/or 1.3), OpenSSL's default suites at
    /// security level 2, no tickets (none sent by a TLS 1.3 server either), no session cache,
    /// no renegotiation; the other side's certificate is required.
    static Result<std::unique_ptr<Session>> create(Role role, const Credentials& creds,
                                                   LeafCheck check);
    Session(Token, Role role, const Credentials& creds, LeafCheck check);

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    Session(Session&&) = delete;
    Session& operator=(Session&&) = delete;
    ~Session() = default;

    /// Feeds `input` (a whole TLS message from the other side; empty to start a client) and
    /// runs the handshake as far as it goes. The records to send (maybe none); on failure an
    /// error, with the reason in failure_reason().
    Result<Bytes> advance(ByteView input);
    [[nodiscard]] bool done() const noexcept { return done_; }
    /// Whether the finished handshake negotiated TLS 1.3 (RFC 9190 applies).
    [[nodiscard]] bool tls13() const noexcept;
    /// After the handshake: feeds records from the other side; the application data in them
    /// (TLS 1.3 post-handshake messages such as NewSessionTicket are consumed). An alert or a
    /// close_notify fails, with the reason in failure_reason().
    Result<Bytes> receive(ByteView input);
    /// After the handshake: the records that carry `plaintext` as application data.
    Result<Bytes> seal(ByteView plaintext);
    [[nodiscard]] const std::string& failure_reason() const noexcept { return reason_; }
    /// TLS 1.2, RFC 5216 §2.3: the first 64 bytes of TLS-PRF(master_secret, "client EAP
    /// encryption", client.random || server.random) — keying material export, no context.
    /// TLS 1.3, RFC 9190 §2.3: the first 64 bytes of TLS-Exporter("EXPORTER_EAP_TLS_Key_Material",
    /// Type-Code 0x0D, 128) (the other 64 are the EMSK, which IKEv2 does not use).
    [[nodiscard]] Result<Msk> export_msk() const;
    /// The EAP Session-Id: 0x0D || client.random || server.random (RFC 5216 §2.3) over TLS
    /// 1.2; 0x0D || TLS-Exporter("EXPORTER_EAP_TLS_Method-Id", 0x0D, 64) (RFC 9190 §2.3) over
    /// TLS 1.3.
    [[nodiscard]] Result<Bytes> session_id() const;
    /// The other side's certificate, once it verified.
    [[nodiscard]] const crypto::Certificate* peer_certificate() const noexcept {
        return peer_cert_ ? &*peer_cert_ : nullptr;
    }

private:
    Status init();
    static int verify_callback(X509_STORE_CTX* store_ctx, void* arg);
    static void info_callback(const SSL* ssl, int where, int ret);
    int verify(X509_STORE_CTX* store_ctx);
    void note_failure();
    Status feed_input(ByteView input);
    Result<Bytes> drain_output();

    Role role_;
    Credentials creds_;
    LeafCheck check_;
    SslCtxPtr ctx_;
    SslPtr ssl_;
    BIO* in_{nullptr};   // owned by ssl_
    BIO* out_{nullptr};  // owned by ssl_
    bool done_{false};
    bool failed_{false};
    std::string reason_;
    std::string verify_reason_;
    std::string alert_received_;
    std::optional<crypto::Certificate> peer_cert_;
};

/// Whether `cert` names `identity` as strongSwan reads an identity string: an IPv4/IPv6
/// address (subjectAltName iPAddress), a DN ("C=CH, O=x, CN=y": the subject), "user@domain"
/// (rfc822Name), "@fqdn" or anything else (dNSName).
bool names_identity(const crypto::Certificate& cert, std::string_view identity);

}  // namespace ikeplex::eap::tls
