// X.509 certificates for IKEv2 authentication: parsing, chain validation against configured CA
// certificates at a given time, and matching an IKE identity (RFC 7296 §3.5) against a
// certificate: ID_IPV4_ADDR / ID_IPV6_ADDR / ID_FQDN / ID_RFC822_ADDR against the
// subjectAltName, ID_DER_ASN1_DN against the subject.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ossl.h"
#include "crypto/signature.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::crypto {

/// The kinds of names a certificate can carry for an identity (RFC 5280 §4.1.2.6, §4.2.1.6).
enum class NameKind : std::uint8_t {
    kDistinguishedName,  ///< the subject, DER-encoded
    kDns,                ///< subjectAltName dNSName
    kEmail,              ///< subjectAltName rfc822Name
    kIpAddress,          ///< subjectAltName iPAddress (4 or 16 bytes)
};

/// What a listing shows of a certificate (`ikeplex list-certs`, VICI list-certs' filters).
struct CertificateInfo {
    std::string subject;  ///< in strongSwan's notation: "O=ikeplex test, CN=a.test"
    std::string issuer;
    std::string serial;          ///< hex bytes separated by ':', as strongSwan prints it
    std::int64_t not_before{0};  ///< unix time
    std::int64_t not_after{0};
    std::string key;                     ///< "ECDSA 256 bits", "RSA 3072 bits", "ED25519"
    bool ca{false};                      ///< basicConstraints CA:TRUE
    std::vector<std::string> alt_names;  ///< subjectAltName DNS names, mailboxes, addresses
};

class Certificate {
public:
    static Result<Certificate> from_der(ByteView der);
    /// The first certificate of a PEM text.
    static Result<Certificate> from_pem(std::string_view pem);
    /// PEM if it looks like PEM, else DER.
    static Result<Certificate> from_any(ByteView data);
    explicit Certificate(X509Ptr cert) noexcept : cert_(std::move(cert)) {}

    Certificate(Certificate&&) noexcept = default;
    Certificate& operator=(Certificate&&) noexcept = default;
    Certificate(const Certificate&) = delete;
    Certificate& operator=(const Certificate&) = delete;
    ~Certificate() = default;
    [[nodiscard]] Certificate clone() const;

    [[nodiscard]] X509* raw() const noexcept { return cert_.get(); }
    /// DER encoding (what a CERT payload carries with encoding X509_CERTIFICATE_SIGNATURE).
    [[nodiscard]] Bytes der() const;
    /// Subject in RFC 2253 form, e.g. "CN=a.test,O=ikeplex".
    [[nodiscard]] std::string subject() const;
    /// Subject DN, DER-encoded (an ID_DER_ASN1_DN identity).
    [[nodiscard]] Bytes subject_der() const;
    /// SHA-1 of the DER SubjectPublicKeyInfo: how CERTREQ names a trusted CA (RFC 7296 §3.7).
    [[nodiscard]] Bytes public_key_sha1() const;
    /// The subject public key.
    [[nodiscard]] Result<PublicKey> public_key() const;
    /// Whether `key` is the private half of this certificate's public key.
    [[nodiscard]] bool matches_key(const PrivateKey& key) const noexcept;
    /// Whether this is the same certificate as `other` (same DER).
    [[nodiscard]] bool same_as(const Certificate& other) const noexcept;
    /// Whether this certificate names `data`: its subject DN (DER) or a subjectAltName of the
    /// kind (DNS names and mailboxes compare without regard to case, addresses as bytes).
    [[nodiscard]] bool names(NameKind kind, ByteView data) const;
    /// Subject, issuer, serial, validity, key and names (x509_info.cc).
    [[nodiscard]] CertificateInfo info() const;
    /// A CA certificate (basicConstraints CA:TRUE, or an old v1 self-signed root).
    [[nodiscard]] bool is_ca() const noexcept;
    /// Self-issued and self-signed (a root).
    [[nodiscard]] bool self_signed() const noexcept;
    /// Whether this certificate issued `subject`: names, key identifiers and the signature.
    [[nodiscard]] bool issued(const Certificate& subject) const noexcept;

private:
    X509Ptr cert_;
};

/// DER of a distinguished name written as strongSwan does: "C=CH, O=Example, CN=gw" (RDNs
/// separated by ',' or '/'). kInvalidArgument for unknown attribute names.
Result<Bytes> dn_from_string(std::string_view text);
/// A DER distinguished name in strongSwan's notation ("C=CH, O=Example, CN=gw").
Result<std::string> dn_to_string(ByteView der);

/// The CA certificates above `leaf` found among `held`, nearest first, up to and without a
/// self-signed root (RFC 7296 §3.6: what to send after our end-entity certificate; the peer
/// holds its root). Stops at a certificate `held` does not issue, and after 8 (x509_chain.cc).
std::vector<const Certificate*> issuers_of(const Certificate& leaf,
                                           std::span<const Certificate* const> held);

/// An ASN.1 time as unix time (0 for null or unparsable).
std::int64_t unix_time(const ASN1_TIME* t);

/// Trusted CA certificates and chain validation.
class CertStore {
public:
    CertStore();
    CertStore(CertStore&&) noexcept = default;
    CertStore& operator=(CertStore&&) noexcept = default;
    CertStore(const CertStore&) = delete;
    CertStore& operator=(const CertStore&) = delete;
    ~CertStore() = default;

    /// Adds a trust anchor.
    Status add_trusted(const Certificate& ca);
    /// Verifies that `leaf` chains to a trusted CA through `intermediates` at `unix_time`; the
    /// verified chain (the leaf first, each certificate's issuer after it, the trust anchor
    /// last). kAuthFailed (AUTHENTICATION_FAILED) with OpenSSL's reason in the log otherwise.
    [[nodiscard]] Result<std::vector<Certificate>> verify(
            const Certificate& leaf, std::span<const Certificate> intermediates,
            std::int64_t unix_time) const;
    /// The OpenSSL store, e.g. for TLS to build its own chain from (EAP-TLS); owned here.
    [[nodiscard]] X509_STORE* raw() const noexcept { return store_.get(); }

private:
    X509StorePtr store_;
};

}  // namespace ikeplex::crypto
