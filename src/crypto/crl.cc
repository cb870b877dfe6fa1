#include "crypto/crl.h"

#include <openssl/pem.h>

#include "util/log.h"

namespace ikeplex::crypto {

Result<RevocationMode> revocation_mode_from(std::string_view text) {
    if (text == "strict") {
        return RevocationMode::kStrict;
    }
    if (text == "ifuri") {
        return RevocationMode::kIfUri;
    }
    if (text == "relaxed") {
        return RevocationMode::kRelaxed;
    }
    return make_error(Errc::kInvalidArgument, "revocation: expected strict, ifuri or relaxed");
}

Result<Crl> Crl::from_any(ByteView data) {
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    X509CrlPtr crl;
    if (text.find("-----BEGIN") != std::string_view::npos) {
        const BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
        crl.reset(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    } else {
        const unsigned char* p = data.data();
        crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
        if (crl && p != data.data() + data.size()) {
            crl.reset();
        }
    }
    if (!crl) {
        (void)openssl_error("CRL: parse");
        return make_error(Errc::kInvalidArgument, "CRL: not a PEM or DER X.509 CRL");
    }
    return Crl(std::move(crl));
}

bool Crl::issued_by(const Certificate& issuer) const {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl_.get()), X509_get_subject_name(issuer.raw())) != 0) {
        return false;
    }
    EVP_PKEY* key = X509_get0_pubkey(issuer.raw());
    return key != nullptr && X509_CRL_verify(crl_.get(), key) == 1;
}

std::int64_t Crl::this_update() const {
    return unix_time(X509_CRL_get0_lastUpdate(crl_.get()));
}

std::int64_t Crl::next_update() const {
    return unix_time(X509_CRL_get0_nextUpdate(crl_.get()));
}

bool Crl::current_at(std::int64_t unix_time) const {
    const std::int64_t from = this_update();
    const std::int64_t until = next_update();
    const bool has_next = X509_CRL_get0_nextUpdate(crl_.get()) != nullptr;
    return from != 0 && from <= unix_time && (!has_next || (until != 0 && unix_time < until));
}

bool Crl::lists(const Certificate& cert) const {
    X509_REVOKED* entry = nullptr;
    return X509_CRL_get0_by_cert(crl_.get(), &entry, cert.raw()) == 1;
}

bool has_revocation_uri(const Certificate& cert) {
    auto* cdp = static_cast<CRL_DIST_POINTS*>(
            X509_get_ext_d2i(cert.raw(), NID_crl_distribution_points, nullptr, nullptr));
    const bool crl = cdp != nullptr && sk_DIST_POINT_num(cdp) > 0;
    CRL_DIST_POINTS_free(cdp);
    if (crl) {
        return true;
    }
    auto* aia = static_cast<AUTHORITY_INFO_ACCESS*>(
            X509_get_ext_d2i(cert.raw(), NID_info_access, nullptr, nullptr));
    bool ocsp = false;
    for (int i = 0; aia != nullptr && i < sk_ACCESS_DESCRIPTION_num(aia); ++i) {
        ocsp = ocsp || OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, i)->method) == NID_ad_OCSP;
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    return ocsp;
}

CertStatus crl_status(const Certificate& cert, const Certificate& issuer, std::span<const Crl> crls,
                      std::int64_t unix_time) {
    CertStatus status = CertStatus::kUnknown;
    for (const Crl& crl : crls) {
        if (!crl.issued_by(issuer) || !crl.current_at(unix_time)) {
            continue;
        }
        if (crl.lists(cert)) {
            return CertStatus::kRevoked;
        }
        status = CertStatus::kGood;
    }
    return status;
}

Status apply_revocation_mode(RevocationMode mode, CertStatus status, const Certificate& cert) {
    if (status == CertStatus::kRevoked) {
        log::info(log::Subsystem::kCfg, "certificate '{}' is revoked", cert.subject());
        return make_error(Errc::kAuthFailed, "certificate: revoked");
    }
    if (status == CertStatus::kGood || mode == RevocationMode::kRelaxed) {
        return ok();
    }
    if (mode == RevocationMode::kStrict || has_revocation_uri(cert)) {
        log::info(log::Subsystem::kCfg, "certificate '{}': no revocation status ({})",
                  cert.subject(), mode == RevocationMode::kStrict ? "strict" : "ifuri");
        return make_error(Errc::kAuthFailed, "certificate: revocation status unknown");
    }
    return ok();
}

}  // namespace ikeplex::crypto
