// EAP (RFC 3748) as IKEv2 carries it (RFC 7296 §2.16): packets, and the two halves of an
// authentication method — the server (authenticator; ikeplexd as a gateway, possibly passing
// through to RADIUS) and the peer (ikeplexd as a client). The layer knows EAP and its methods,
// not IKE: the ike layer moves packets between EAP payloads and these objects and, when a
// method succeeds, signs the AUTH payloads with its MSK (RFC 7296 §2.16).
//
// Methods: Identity (§5.1, handled by the conversation), MD5-Challenge (§5.4), MSCHAPv2
// (RFC 2759, draft-kamath-pppext-eap-mschapv2; MSK per RFC 3079), TLS (RFC 5216; TLS 1.3 per
// RFC 9190).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"
#include "util/random.h"
#include "util/result.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto {
class Certificate;
class CertStore;
class PrivateKey;
}  // namespace ikeplex::crypto

namespace ikeplex::eap {

/// RFC 3748 §4 Code.
enum class Code : std::uint8_t { kRequest = 1, kResponse = 2, kSuccess = 3, kFailure = 4 };

/// RFC 3748 §5 and the IANA registry: the method types ikeplex knows.
enum class Type : std::uint8_t {
    kIdentity = 1,
    kNotification = 2,
    kNak = 3,  ///< Legacy Nak: the peer proposes other types
    kMd5 = 4,
    kTls = 13,
    kMschapv2 = 26,
};
/// strongSwan's names: "identity", "md5", "tls", "mschapv2"; "type N" otherwise.
std::string to_string(Type t);
/// A method by strongSwan's name (`auth = eap-mschapv2` gives "mschapv2").
std::optional<Type> type_from_name(std::string_view name);

/// One EAP packet. Request and Response carry a type and its data; Success and Failure carry
/// neither.
struct Packet {
    Code code{Code::kRequest};
    std::uint8_t identifier{0};
    Type type{Type::kIdentity};  ///< Request/Response only
    Bytes type_data;             ///< Request/Response only
    bool operator==(const Packet&) const = default;
};

/// The whole packet: Code, Identifier, Length, [Type, Type-Data].
Bytes encode(const Packet& p);
/// Checks Length against the bytes (trailing bytes beyond Length are padding and ignored, RFC
/// 3748 §4.1); kInvalidArgument with what is wrong otherwise.
Result<Packet> decode(ByteView bytes);

/// The MSK a method exports (RFC 3748 §7.10); IKEv2 uses it as the AUTH key (RFC 7296 §2.16).
using Msk = SecretBytes;

/// EAP-TLS protocol versions as on the wire (RFC 8446 §4.2.1): TLS 1.2 and TLS 1.3 (RFC 9190).
inline constexpr std::uint16_t kTls12 = 0x0303;
inline constexpr std::uint16_t kTls13 = 0x0304;
/// The versions an EAP-TLS server or peer negotiates in; strongSwan 5.9.8's default
/// (charon.tls.version_min/max) is TLS 1.2 to TLS 1.2.
struct TlsVersions {
    std::uint16_t min{kTls12};
    std::uint16_t max{kTls12};
};

// ---------------------------------------------------------------------------------------------
// Server side

/// What a server-side method wants after a response.
struct ServerStep {
    enum class Kind : std::uint8_t {
        kRequest,  ///< send `request`, wait for the next response
        kSuccess,  ///< authenticated (the conversation sends EAP-Success)
        kFailure,  ///< refused (the conversation sends EAP-Failure)
    };
    Kind kind{Kind::kFailure};
    Packet request;      ///< kRequest only (its identifier is set by the method)
    std::string reason;  ///< kFailure: why, for the log (never a secret)
};

/// The credentials a server-side method may use. The functions may be empty.
struct ServerContext {
    /// The shared secret for an EAP identity (`secrets { eap-x { id, secret } }`), or null.
    std::function<const SecretBytes*(std::string_view eap_identity)> find_secret;
    /// EAP-TLS: our certificate and key, and the CAs the peer's certificate must chain to.
    const crypto::Certificate* own_cert{nullptr};
    const crypto::PrivateKey* own_key{nullptr};
    const crypto::CertStore* trusted{nullptr};
    std::int64_t unix_time{0};   ///< for certificate validity
    TlsVersions tls_versions{};  ///< EAP-TLS
    /// Challenges (MD5, MSCHAPv2); null: the kernel's CSPRNG (a thread-local OsRandom).
    Random* random{nullptr};
};

/// One method's server half, for one conversation.
class ServerMethod {
public:
    ServerMethod() = default;
    ServerMethod(const ServerMethod&) = delete;
    ServerMethod& operator=(const ServerMethod&) = delete;
    ServerMethod(ServerMethod&&) = delete;
    ServerMethod& operator=(ServerMethod&&) = delete;
    virtual ~ServerMethod() = default;

    [[nodiscard]] virtual Type type() const noexcept = 0;
    /// The first request (identifier `id`). `peer_identity`: what EAP-Identity (or IDi)
    /// named; the method looks its secret up by it.
    virtual Result<Packet> initiate(std::uint8_t id, std::string_view peer_identity) = 0;
    /// The peer's response to the last request (same identifier, same type; the conversation
    /// checked both). `next_id`: the identifier for a following request.
    virtual Result<ServerStep> process(const Packet& response, std::uint8_t next_id) = 0;
    /// After kSuccess: the MSK (empty for methods that make none, e.g. MD5).
    [[nodiscard]] virtual const Msk& msk() const noexcept = 0;
    /// After kSuccess: the identity the method authenticated (e.g. the TLS client's subject,
    /// the MSCHAPv2 user name), for the log and the IKE SA's EAP identity.
    [[nodiscard]] virtual std::string authenticated_identity() const = 0;
};

/// A new server-side method of type `t`; kUnsupported for types ikeplex cannot serve.
Result<std::unique_ptr<ServerMethod>> make_server(Type t, ServerContext ctx);

// ---------------------------------------------------------------------------------------------
// Peer side

struct PeerContext {
    std::string identity;  ///< our EAP identity (eap_id; else the IKE identity)
    /// Our shared secret for `identity` (MD5, MSCHAPv2); null if none.
    const SecretBytes* secret{nullptr};
    /// EAP-TLS.
    const crypto::Certificate* own_cert{nullptr};
    const crypto::PrivateKey* own_key{nullptr};
    const crypto::CertStore* trusted{nullptr};
    std::int64_t unix_time{0};
    /// EAP-TLS: the server name the server certificate must carry (empty: any, chain only).
    std::string server_name;
    TlsVersions tls_versions{};  ///< EAP-TLS
    /// The MSCHAPv2 Peer-Challenge; null: the kernel's CSPRNG (a thread-local OsRandom).
    Random* random{nullptr};
};

/// What a peer-side method answers.
struct PeerStep {
    enum class Kind : std::uint8_t {
        kResponse,  ///< send `response`
        kFailure,   ///< cannot go on (bad server, no secret): the IKE SA fails
    };
    Kind kind{Kind::kFailure};
    Packet response;
    std::string reason;
};

class PeerMethod {
public:
    PeerMethod() = default;
    PeerMethod(const PeerMethod&) = delete;
    PeerMethod& operator=(const PeerMethod&) = delete;
    PeerMethod(PeerMethod&&) = delete;
    PeerMethod& operator=(PeerMethod&&) = delete;
    virtual ~PeerMethod() = default;

    [[nodiscard]] virtual Type type() const noexcept = 0;
    /// A request of this method's type (the response takes its identifier).
    virtual Result<PeerStep> process(const Packet& request) = 0;
    /// Whether the method has reached the point where EAP-Success may be accepted (e.g.
    /// MSCHAPv2 verified the authenticator response; TLS finished the handshake). An
    /// EAP-Success before that is refused (RFC 3748 §4.2, the peer's protection against a
    /// fake success).
    [[nodiscard]] virtual bool may_succeed() const noexcept = 0;
    /// After success: the MSK (empty for MD5).
    [[nodiscard]] virtual const Msk& msk() const noexcept = 0;
};

/// A new peer-side method of type `t`; kUnsupported otherwise.
Result<std::unique_ptr<PeerMethod>> make_peer(Type t, PeerContext ctx);

}  // namespace ikeplex::eap
