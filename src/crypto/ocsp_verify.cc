// The checks on an OCSP response (RFC 6960 §3.2, §4.2): responseStatus, the BasicOCSPResponse's
// signer (the issuer, or a responder certificate the issuer signed with id-kp-OCSPSigning,
// §4.2.2.2; no other certificate in the response is trusted), its signature, the SingleResponse
// for our CertID, the nonce (RFC 8954) and the thisUpdate/nextUpdate window.
#include <cstring>

#include "crypto/ocsp.h"
#include "crypto/ossl.h"
#include "util/log.h"

namespace ikeplex::crypto {

namespace {

/// Clock skew tolerated on thisUpdate and nextUpdate (RFC 5019 §4 suggests allowing some).
constexpr std::int64_t kSkewSeconds = 300;

Result<OcspResponsePtr> parse_response(ByteView der) {
    const unsigned char* p = der.data();
    OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    if (!resp || p != der.data() + der.size()) {
        (void)openssl_error("OCSP: parse");
        return make_error(Errc::kInvalidArgument, "OCSP: not a DER OCSPResponse");
    }
    return resp;
}

Status check_response_status(const OCSP_RESPONSE* resp) {
    switch (OCSP_response_status(const_cast<OCSP_RESPONSE*>(resp))) {
        case OCSP_RESPONSE_STATUS_SUCCESSFUL:
            return ok();
        case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:
            return make_error(Errc::kUnsupported, "OCSP: responder says malformedRequest");
        case OCSP_RESPONSE_STATUS_INTERNALERROR:
            return make_error(Errc::kUnsupported, "OCSP: responder says internalError");
        case OCSP_RESPONSE_STATUS_TRYLATER:
            return make_error(Errc::kUnsupported, "OCSP: responder says tryLater");
        case OCSP_RESPONSE_STATUS_SIGREQUIRED:
            return make_error(Errc::kUnsupported, "OCSP: responder says sigRequired");
        case OCSP_RESPONSE_STATUS_UNAUTHORIZED:
            return make_error(Errc::kUnsupported, "OCSP: responder says unauthorized");
        default:
            return make_error(Errc::kInvalidArgument, "OCSP: unknown responseStatus");
    }
}

/// Whether the ResponderID (byName or byKey, RFC 6960 §4.2.1) names `cert`.
bool responder_id_names(const OCSP_BASICRESP* bs, const X509* cert) {
    const ASN1_OCTET_STRING* key_hash = nullptr;
    const X509_NAME* name = nullptr;
    if (OCSP_resp_get0_id(bs, &key_hash, &name) != 1) {
        return false;
    }
    if (name != nullptr) {
        return X509_NAME_cmp(name, X509_get_subject_name(cert)) == 0;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    // byKey: SHA-1 of the subjectPublicKey BIT STRING's value, what X509_pubkey_digest hashes.
    if (key_hash == nullptr || X509_pubkey_digest(cert, EVP_sha1(), md, &len) != 1) {
        return false;
    }
    return static_cast<unsigned int>(ASN1_STRING_length(key_hash)) == len &&
           std::memcmp(ASN1_STRING_get0_data(key_hash), md, len) == 0;
}

/// RFC 6960 §4.2.2.2: a certificate `issuer` issued (and signed) for OCSP signing, valid now.
bool delegated_by(X509* responder, const Certificate& issuer, std::int64_t now) {
    EVP_PKEY* issuer_key = X509_get0_pubkey(issuer.raw());
    if (issuer_key == nullptr || X509_check_issued(issuer.raw(), responder) != X509_V_OK ||
        X509_verify(responder, issuer_key) != 1) {
        return false;
    }
    if ((X509_get_extension_flags(responder) & EXFLAG_XKUSAGE) == 0 ||
        (X509_get_extended_key_usage(responder) & XKU_OCSP_SIGN) == 0) {
        log::debug(log::Subsystem::kCfg, "OCSP: responder certificate lacks id-kp-OCSPSigning");
        return false;
    }
    const std::int64_t from = unix_time(X509_get0_notBefore(responder));
    const std::int64_t until = unix_time(X509_get0_notAfter(responder));
    return from != 0 && from <= now && now < until;
}

bool signature_by(const OCSP_BASICRESP* bs, X509* signer) {
    EVP_PKEY* key = X509_get0_pubkey(signer);
    return key != nullptr &&
           ASN1_item_verify(ASN1_ITEM_rptr(OCSP_RESPDATA), OCSP_resp_get0_tbs_sigalg(bs),
                            OCSP_resp_get0_signature(bs), OCSP_resp_get0_respdata(bs), key) == 1;
}

/// The signer the ResponderID names, trusted as the issuer or its delegate, whose signature
/// verifies.
Status check_signer(const OCSP_BASICRESP* bs, const Certificate& issuer, std::int64_t now) {
    X509* signer = nullptr;
    if (responder_id_names(bs, issuer.raw())) {
        signer = issuer.raw();
    } else {
        const STACK_OF(X509)* certs = OCSP_resp_get0_certs(bs);
        for (int i = 0; signer == nullptr && certs != nullptr && i < sk_X509_num(certs); ++i) {
            X509* c = sk_X509_value(certs, i);
            if (responder_id_names(bs, c) && delegated_by(c, issuer, now)) {
                signer = c;
            }
        }
    }
    if (signer == nullptr) {
        return make_error(Errc::kIntegrity,
                          "OCSP: responder is neither the issuer nor delegated by it");
    }
    if (!signature_by(bs, signer)) {
        (void)openssl_error("OCSP: signature");
        return make_error(Errc::kIntegrity, "OCSP: response signature does not verify");
    }
    return ok();
}

/// The SingleResponse whose CertID (with whatever hash the responder used) names `cert`.
OCSP_SINGLERESP* find_single(OCSP_BASICRESP* bs, const Certificate& cert,
                             const Certificate& issuer) {
    for (int i = 0; i < OCSP_resp_count(bs); ++i) {
        OCSP_SINGLERESP* single = OCSP_resp_get0(bs, i);
        const OCSP_CERTID* theirs = OCSP_SINGLERESP_get0_id(single);
        ASN1_OBJECT* md_oid = nullptr;
        if (theirs == nullptr || OCSP_id_get0_info(nullptr, &md_oid, nullptr, nullptr,
                                                   const_cast<OCSP_CERTID*>(theirs)) != 1) {
            continue;
        }
        const EVP_MD* md = EVP_get_digestbyobj(md_oid);
        const OcspCertIdPtr ours(md != nullptr ? OCSP_cert_to_id(md, cert.raw(), issuer.raw())
                                               : nullptr);
        if (ours && OCSP_id_cmp(ours.get(), theirs) == 0) {
            return single;
        }
    }
    return nullptr;
}

/// RFC 8954 §2.1: a response nonce must be the one we sent; none at all is accepted (many
/// responders serve pre-produced responses, RFC 5019 §2.2.1).
Status check_nonce(OCSP_BASICRESP* bs, ByteView nonce) {
    const int idx = OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce, -1);
    if (idx < 0 || nonce.empty()) {
        return ok();
    }
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(OCSP_BASICRESP_get_ext(bs, idx));
    // extnValue holds the DER OCTET STRING of the nonce (short form: nonce <= 32 bytes).
    Bytes expected{V_ASN1_OCTET_STRING, static_cast<std::uint8_t>(nonce.size())};
    expected.insert(expected.end(), nonce.begin(), nonce.end());
    if (value == nullptr ||
        static_cast<std::size_t>(ASN1_STRING_length(value)) != expected.size() ||
        std::memcmp(ASN1_STRING_get0_data(value), expected.data(), expected.size()) != 0) {
        return make_error(Errc::kReplay, "OCSP: response nonce is not the one sent");
    }
    return ok();
}

Result<OcspStatus> single_status(OCSP_SINGLERESP* single, std::int64_t now) {
    int reason = 0;
    ASN1_GENERALIZEDTIME* revoked_at = nullptr;
    ASN1_GENERALIZEDTIME* this_update = nullptr;
    ASN1_GENERALIZEDTIME* next_update = nullptr;
    const int status =
            OCSP_single_get0_status(single, &reason, &revoked_at, &this_update, &next_update);
    OcspStatus out;
    out.this_update = unix_time(this_update);
    out.next_update = unix_time(next_update);
    if (out.this_update == 0 || (next_update != nullptr && out.next_update == 0)) {
        return make_error(Errc::kInvalidArgument, "OCSP: unreadable thisUpdate/nextUpdate");
    }
    if (out.this_update > now + kSkewSeconds) {
        return make_error(Errc::kState, "OCSP: thisUpdate is in the future");
    }
    if (next_update != nullptr && now - kSkewSeconds >= out.next_update) {
        return make_error(Errc::kState, "OCSP: response is past its nextUpdate");
    }
    switch (status) {
        case V_OCSP_CERTSTATUS_GOOD:
            out.status = CertStatus::kGood;
            break;
        case V_OCSP_CERTSTATUS_REVOKED:
            out.status = CertStatus::kRevoked;
            out.revoked_at = unix_time(revoked_at);
            break;
        case V_OCSP_CERTSTATUS_UNKNOWN:
            out.status = CertStatus::kUnknown;
            break;
        default:
            return make_error(Errc::kInvalidArgument, "OCSP: unreadable certStatus");
    }
    return out;
}

}  // namespace

Result<OcspStatus> verify_ocsp_response(ByteView der, const Certificate& cert,
                                        const Certificate& issuer, ByteView nonce,
                                        std::int64_t unix_time) {
    auto resp = IKEPLEX_TRY(parse_response(der));
    IKEPLEX_TRY(check_response_status(resp.get()));
    const OcspBasicRespPtr bs(OCSP_response_get1_basic(resp.get()));
    if (!bs) {
        (void)openssl_error("OCSP: basic response");
        return make_error(Errc::kInvalidArgument, "OCSP: no BasicOCSPResponse");
    }
    IKEPLEX_TRY(check_signer(bs.get(), issuer, unix_time));
    OCSP_SINGLERESP* single = find_single(bs.get(), cert, issuer);
    if (single == nullptr) {
        return make_error(Errc::kNotFound, "OCSP: no SingleResponse for this certificate");
    }
    IKEPLEX_TRY(check_nonce(bs.get(), nonce));
    return single_status(single, unix_time);
}

}  // namespace ikeplex::crypto
