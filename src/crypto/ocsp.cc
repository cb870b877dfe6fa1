// OCSP requests (RFC 6960 §4.1, nonce RFC 8954) and the CRL/OCSP URIs a certificate names
// (RFC 5280 §4.2.1.13, §4.2.2.1). The checks on a response are in ocsp_verify.cc.
#include "crypto/ocsp.h"

#include "crypto/ossl.h"

namespace ikeplex::crypto {

namespace {

/// RFC 8954 §2.1: a nonce of 1..32 octets.
constexpr std::size_t kMaxNonce = 32;

std::string uri_of(const GENERAL_NAME* name) {
    if (name == nullptr || name->type != GEN_URI || name->d.uniformResourceIdentifier == nullptr) {
        return {};
    }
    const ASN1_IA5STRING* s = name->d.uniformResourceIdentifier;
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
            static_cast<std::size_t>(ASN1_STRING_length(s))};
}

}  // namespace

Result<OcspRequest> make_ocsp_request(const Certificate& cert, const Certificate& issuer,
                                      ByteView nonce) {
    if (nonce.size() > kMaxNonce) {
        return make_error(Errc::kInvalidArgument, "OCSP: nonce longer than 32 bytes");
    }
    const OcspRequestPtr req(OCSP_REQUEST_new());
    OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), cert.raw(), issuer.raw()));
    if (!req || !id) {
        return openssl_error("OCSP: CertID");
    }
    if (OCSP_request_add0_id(req.get(), id.get()) == nullptr) {
        return openssl_error("OCSP: add CertID");
    }
    (void)id.release();  // owned by the request now
    if (!nonce.empty()) {
        // OpenSSL wraps the value in an OCTET STRING: extnValue = OCTET STRING (nonce), RFC 8954.
        Bytes copy(nonce.begin(), nonce.end());
        IKEPLEX_TRY(check(
                OCSP_request_add1_nonce(req.get(), copy.data(), static_cast<int>(copy.size())),
                "OCSP: nonce"));
    }
    const int len = i2d_OCSP_REQUEST(req.get(), nullptr);
    if (len <= 0) {
        return openssl_error("OCSP: encode request");
    }
    OcspRequest out;
    out.der.resize(static_cast<std::size_t>(len));
    unsigned char* p = out.der.data();
    i2d_OCSP_REQUEST(req.get(), &p);
    out.nonce.assign(nonce.begin(), nonce.end());
    return out;
}

std::vector<std::string> ocsp_uris(const Certificate& cert) {
    std::vector<std::string> out;
    auto* aia = static_cast<AUTHORITY_INFO_ACCESS*>(
            X509_get_ext_d2i(cert.raw(), NID_info_access, nullptr, nullptr));
    for (int i = 0; aia != nullptr && i < sk_ACCESS_DESCRIPTION_num(aia); ++i) {
        const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        if (OBJ_obj2nid(ad->method) != NID_ad_OCSP) {
            continue;
        }
        std::string uri = uri_of(ad->location);
        if (!uri.empty()) {
            out.push_back(std::move(uri));
        }
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    return out;
}

std::vector<std::string> crl_uris(const Certificate& cert) {
    std::vector<std::string> out;
    auto* cdp = static_cast<CRL_DIST_POINTS*>(
            X509_get_ext_d2i(cert.raw(), NID_crl_distribution_points, nullptr, nullptr));
    for (int i = 0; cdp != nullptr && i < sk_DIST_POINT_num(cdp); ++i) {
        const DIST_POINT* dp = sk_DIST_POINT_value(cdp, i);
        // fullName only: a nameRelativeToCRLIssuer names no location to fetch from.
        if (dp->distpoint == nullptr || dp->distpoint->type != 0) {
            continue;
        }
        const GENERAL_NAMES* names = dp->distpoint->name.fullname;
        for (int j = 0; names != nullptr && j < sk_GENERAL_NAME_num(names); ++j) {
            std::string uri = uri_of(sk_GENERAL_NAME_value(names, j));
            if (!uri.empty()) {
                out.push_back(std::move(uri));
            }
        }
    }
    CRL_DIST_POINTS_free(cdp);
    return out;
}

}  // namespace ikeplex::crypto
