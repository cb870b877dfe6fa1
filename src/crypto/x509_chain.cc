// Chains of our own certificates: which held CA certificates to send after ours.
#include <algorithm>

#include <openssl/err.h>

#include "crypto/x509.h"

namespace ikeplex::crypto {
namespace {

/// Longer chains than this are not sent (strongSwan's path limit is of the same order [R]).
constexpr std::size_t kMaxIssuers = 8;

}  // namespace

bool Certificate::is_ca() const noexcept {
    return X509_check_ca(cert_.get()) > 0;
}

bool Certificate::self_signed() const noexcept {
    const bool yes = X509_self_signed(cert_.get(), 0) == 1;
    ERR_clear_error();
    return yes;
}

bool Certificate::issued(const Certificate& subject) const noexcept {
    if (X509_check_issued(cert_.get(), subject.raw()) != X509_V_OK) {
        return false;
    }
    EVP_PKEY* key = X509_get0_pubkey(cert_.get());
    const bool yes = key != nullptr && X509_verify(subject.raw(), key) == 1;
    ERR_clear_error();
    return yes;
}

std::vector<const Certificate*> issuers_of(const Certificate& leaf,
                                           std::span<const Certificate* const> held) {
    std::vector<const Certificate*> out;
    const Certificate* current = &leaf;
    while (out.size() < kMaxIssuers && !current->self_signed()) {
        const auto it = std::find_if(held.begin(), held.end(), [&](const Certificate* c) {
            return c != current && c->is_ca() && c->issued(*current);
        });
        if (it == held.end() || (*it)->self_signed() ||
            std::find(out.begin(), out.end(), *it) != out.end()) {
            break;
        }
        out.push_back(*it);
        current = *it;
    }
    return out;
}

}  // namespace ikeplex::crypto
