#include "crypto/revocation_cache.h"

#include <algorithm>

#include "util/hex.h"

namespace ikeplex::crypto {
namespace {

std::string key_of(const Certificate& cert, const Certificate& issuer) {
    return to_hex(issuer.subject_der()) + "/" + cert.info().serial;
}

bool ocsp_current(const OcspStatus& s, std::int64_t now) {
    return s.next_update == 0 || now < s.next_update;
}

}  // namespace

void RevocationCache::put_crl(std::string uri, Crl crl, std::int64_t fetched_at) {
    auto it = std::find_if(crls_.begin(), crls_.end(),
                           [&](const CrlEntry& e) { return e.uri == uri; });
    if (it != crls_.end()) {
        it->crl = std::move(crl);
        it->fetched_at = fetched_at;
        return;
    }
    crls_.push_back(CrlEntry{std::move(uri), std::move(crl), fetched_at});
}

void RevocationCache::put_ocsp(const Certificate& cert, const Certificate& issuer,
                               const OcspStatus& status) {
    auto& slot = ocsp_[key_of(cert, issuer)];
    if (slot.this_update <= status.this_update) {
        slot = status;
    }
}

const OcspStatus* RevocationCache::ocsp(const Certificate& cert, const Certificate& issuer,
                                        std::int64_t unix_time) const {
    const auto it = ocsp_.find(key_of(cert, issuer));
    if (it == ocsp_.end() || !ocsp_current(it->second, unix_time)) {
        return nullptr;
    }
    return &it->second;
}

CertStatus RevocationCache::status(const Certificate& cert, const Certificate& issuer,
                                   std::int64_t unix_time) const {
    CertStatus best = CertStatus::kUnknown;
    if (const OcspStatus* s = ocsp(cert, issuer, unix_time); s != nullptr) {
        if (s->status == CertStatus::kRevoked) {
            return CertStatus::kRevoked;
        }
        best = s->status;
    }
    for (const CrlEntry& e : crls_) {
        const CertStatus c = crl_status(cert, issuer, std::span<const Crl>(&e.crl, 1), unix_time);
        if (c == CertStatus::kRevoked) {
            return CertStatus::kRevoked;
        }
        if (c == CertStatus::kGood) {
            best = CertStatus::kGood;
        }
    }
    return best;
}

void RevocationCache::expire(std::int64_t unix_time) {
    std::erase_if(ocsp_, [&](const auto& kv) { return !ocsp_current(kv.second, unix_time); });
    std::erase_if(crls_, [&](const CrlEntry& e) {
        return e.crl.next_update() != 0 && e.crl.next_update() <= unix_time;
    });
}

std::vector<CertStatus> chain_status(std::span<const Certificate> chain, std::span<const Crl> crls,
                                     const RevocationCache* cache, std::int64_t unix_time) {
    std::vector<CertStatus> out;
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        const Certificate& cert = chain[i];
        const Certificate& issuer = chain[i + 1];
        CertStatus s = crl_status(cert, issuer, crls, unix_time);
        if (s != CertStatus::kRevoked && cache != nullptr) {
            const CertStatus c = cache->status(cert, issuer, unix_time);
            s = c == CertStatus::kUnknown ? s : c;
        }
        out.push_back(s);
    }
    return out;
}

}  // namespace ikeplex::crypto
