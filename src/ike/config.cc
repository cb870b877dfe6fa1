#include "ike/config.h"

#include <algorithm>
#include <cctype>

#include "eap/eap.h"

namespace ikeplex::ike {

const ChildConfig* PeerConfig::child(std::string_view n) const {
    for (const ChildConfig& c : children) {
        if (c.name == n) {
            return &c;
        }
    }
    return nullptr;
}

std::optional<std::uint8_t> eap_method_type(std::string_view name) {
    const auto t = eap::type_from_name(name);
    if (!t || *t == eap::Type::kIdentity || *t == eap::Type::kNak ||
        *t == eap::Type::kNotification) {
        return std::nullopt;
    }
    return static_cast<std::uint8_t>(*t);
}

std::string eap_method_name(std::uint8_t type) {
    std::string n = eap::to_string(static_cast<eap::Type>(type));
    std::transform(n.begin(), n.end(), n.begin(),
                   [](char c) { return static_cast<char>(std::toupper(c)); });
    return "EAP_" + n;
}

namespace {

/// strongSwan's choice among shared secrets: the entry listing both identities, else one
/// listing either, else one listing none.
const SecretBytes* find_shared(const std::vector<Credentials::Psk>& list, const Identity& a,
                               const Identity& b) {
    const SecretBytes* one = nullptr;
    const SecretBytes* none = nullptr;
    for (const Credentials::Psk& p : list) {
        bool has_a = false;
        bool has_b = false;
        for (const Identity& id : p.ids) {
            has_a = has_a || id.matches(a);
            has_b = has_b || id.matches(b);
        }
        if (has_a && has_b) {
            return &p.secret;
        }
        if ((has_a || has_b) && one == nullptr) {
            one = &p.secret;
        }
        if (p.ids.empty() && none == nullptr) {
            none = &p.secret;
        }
    }
    return one != nullptr ? one : none;
}

}  // namespace

const SecretBytes* Credentials::find_psk(const Identity& a, const Identity& b) const {
    return find_shared(psks, a, b);
}

const SecretBytes* Credentials::find_eap(const Identity& a, const Identity& b) const {
    return find_shared(eap_secrets, a, b);
}

const SecretBytes* Credentials::find_ppk(ByteView ppk_id) const {
    for (const Psk& p : ppks) {
        for (const Identity& id : p.ids) {
            if (std::equal(id.data.begin(), id.data.end(), ppk_id.begin(), ppk_id.end())) {
                return &p.secret;
            }
        }
    }
    return nullptr;
}

void Credentials::add_own_cert(crypto::Certificate cert) {
    const auto same = [&cert](const crypto::Certificate& c) { return c.same_as(cert); };
    if (std::any_of(certs.begin(), certs.end(), [&](const Own& o) { return same(o.cert); }) ||
        std::any_of(pending_certs.begin(), pending_certs.end(), same)) {
        return;
    }
    for (auto it = pending_keys.begin(); it != pending_keys.end(); ++it) {
        if (cert.matches_key(*it)) {
            certs.push_back(Own{std::move(cert), std::move(*it)});
            pending_keys.erase(it);
            return;
        }
    }
    pending_certs.push_back(std::move(cert));
}

void Credentials::add_key(crypto::PrivateKey key) {
    const auto same = [&key](const crypto::PrivateKey& k) { return k.same_as(key); };
    if (std::any_of(certs.begin(), certs.end(), [&](const Own& o) { return same(o.key); }) ||
        std::any_of(pending_keys.begin(), pending_keys.end(), same)) {
        return;
    }
    for (auto it = pending_certs.begin(); it != pending_certs.end(); ++it) {
        if (it->matches_key(key)) {
            certs.push_back(Own{std::move(*it), std::move(key)});
            pending_certs.erase(it);
            return;
        }
    }
    pending_keys.push_back(std::move(key));
}

Status Credentials::add_ca(crypto::Certificate cert) {
    if (std::any_of(ca_certs.begin(), ca_certs.end(),
                    [&cert](const crypto::Certificate& c) { return c.same_as(cert); })) {
        return ok();
    }
    IKEPLEX_TRY(cas.add_trusted(cert));
    ca_certs.push_back(std::move(cert));
    return ok();
}

Bytes Credentials::certreq_data() const {
    Bytes out;
    for (const crypto::Certificate& ca : ca_certs) {
        const Bytes h = ca.public_key_sha1();
        out.insert(out.end(), h.begin(), h.end());
    }
    return out;
}

std::vector<const crypto::Certificate*> Credentials::chain_of(
        const crypto::Certificate& cert) const {
    std::vector<const crypto::Certificate*> held;
    held.reserve(ca_certs.size() + pending_certs.size());
    for (const crypto::Certificate& c : ca_certs) {
        held.push_back(&c);
    }
    for (const crypto::Certificate& c : pending_certs) {
        held.push_back(&c);
    }
    return crypto::issuers_of(cert, held);
}

const Credentials::Own* Credentials::find_own(const Identity& id) const {
    for (const Own& o : certs) {
        if (certificate_names(o.cert, id.type, id.data)) {
            return &o;
        }
    }
    return nullptr;
}

ConfigList::ConfigList(std::vector<ConfigPtr> items) : items_(std::move(items)) {
    for (std::size_t i = 0; i < items_.size(); ++i) {
        by_name_.try_emplace(items_[i]->name, i);
    }
}

ConfigPtr ConfigList::find(std::string_view name) const {
    auto it = by_name_.find(name);
    return it != by_name_.end() ? items_[it->second] : nullptr;
}

}  // namespace ikeplex::ike
