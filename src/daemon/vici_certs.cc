#include "daemon/vici_certs.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <utility>

#include "crypto/crl_info.h"

namespace ikeplex::daemon {
namespace {

constexpr std::array<std::pair<CredentialType, const char*>, 5> kTypes{{
        {CredentialType::kX509, "X509"},
        {CredentialType::kX509Ac, "X509_AC"},
        {CredentialType::kX509Crl, "X509_CRL"},
        {CredentialType::kOcspResponse, "OCSP_RESPONSE"},
        {CredentialType::kPubkey, "PUBKEY"},
}};
constexpr std::array<std::pair<CertFlag, const char*>, 4> kFlags{{
        {CertFlag::kNone, "NONE"},
        {CertFlag::kCa, "CA"},
        {CertFlag::kAa, "AA"},
        {CertFlag::kOcsp, "OCSP"},
}};

bool iequal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) ==
                      std::toupper(static_cast<unsigned char>(y));
           });
}

/// The entry of `table` named `text` (any case) in `out`, nullopt for "ANY"; false (and `why`
/// set) for anything else.
template <class T, std::size_t N>
bool by_name(const std::array<std::pair<T, const char*>, N>& table, std::string_view text,
             const char* what, std::optional<T>& out, std::string& why) {
    out.reset();
    if (iequal(text, "ANY")) {
        return true;
    }
    for (const auto& [value, name] : table) {
        if (iequal(text, name)) {
            out = value;
            return true;
        }
    }
    why = std::string("invalid certificate ") + what + " '" + std::string(text) + "'";
    return false;
}

/// swanctl's folder names as charon's vici_cert_info maps them: a type and, for X.509, a flag.
struct FolderType {
    const char* name;
    CredentialType type;
    std::optional<CertFlag> flag;
};
const std::array<FolderType, 7> kFolderTypes{{
        {"x509ca", CredentialType::kX509, CertFlag::kCa},
        {"x509aa", CredentialType::kX509, CertFlag::kAa},
        {"x509ocsp", CredentialType::kX509, CertFlag::kOcsp},
        {"x509ac", CredentialType::kX509Ac, std::nullopt},
        {"x509crl", CredentialType::kX509Crl, std::nullopt},
        {"ocsp", CredentialType::kOcspResponse, std::nullopt},
        {"pubkey", CredentialType::kPubkey, std::nullopt},
}};

/// `f` with the request's `subject` filter; nullopt (and `why`) when it is no identity.
std::optional<CertFilter> with_subject(const vici::Message& req, CertFilter f, std::string& why) {
    if (const auto subject = req.get("subject")) {
        auto id = ike::Identity::parse(*subject);
        if (!id) {
            why = "invalid subject '" + std::string(*subject) + "'";
            return std::nullopt;
        }
        f.subject = std::move(*id);
    }
    return f;
}

ListedCredential x509(const crypto::Certificate& cert, CertFlag flag, bool has_privkey) {
    ListedCredential l;
    l.type = CredentialType::kX509;
    l.flag = flag;
    l.has_privkey = has_privkey;
    l.der = cert.der();
    l.has_subject = [c = std::make_shared<const crypto::Certificate>(cert.clone())](
                            const ike::Identity& id) {
        return ike::certificate_names(*c, id.type, id.data);
    };
    return l;
}

}  // namespace

const char* type_name(CredentialType t) noexcept {
    for (const auto& [value, name] : kTypes) {
        if (value == t) {
            return name;
        }
    }
    return "ANY";
}

const char* flag_name(CertFlag f) noexcept {
    for (const auto& [value, name] : kFlags) {
        if (value == f) {
            return name;
        }
    }
    return "ANY";
}

std::vector<ListedCredential> listed_credentials(const ike::Credentials& c) {
    std::vector<ListedCredential> out;
    const auto add = [&out](ListedCredential l) {
        if (std::none_of(out.begin(), out.end(),
                         [&l](const ListedCredential& o) { return o.der == l.der; })) {
            out.push_back(std::move(l));
        }
    };
    for (const ike::Credentials::Own& own : c.certs) {
        add(x509(own.cert, CertFlag::kNone, true));
    }
    for (const crypto::Certificate& cert : c.pending_certs) {
        add(x509(cert, CertFlag::kNone, false));
    }
    for (const crypto::Certificate& ca : c.ca_certs) {
        add(x509(ca, CertFlag::kCa, false));
    }
    for (const crypto::Crl& crl : c.crls) {
        ListedCredential l;
        l.type = CredentialType::kX509Crl;
        l.der = crypto::crl_der(crl);
        l.has_subject = [issuer = crypto::crl_issuer_der(crl)](const ike::Identity& id) {
            return id.type == wire::IdType::kDerAsn1Dn && id.data == issuer;
        };
        add(std::move(l));
    }
    return out;
}

std::optional<CertFilter> parse_cert_filter(const vici::Message& req, std::string& why) {
    CertFilter f;
    const std::string_view type = req.get("type").value_or("ANY");
    // charon takes a certificate type name, else swanctl's folder names (its vici_cert_info:
    // the type with a flag), which swanctl --list-certs --type sends.
    for (const auto& [name, t, flag] : kFolderTypes) {
        if (iequal(type, name)) {
            f.type = t;
            f.flag = flag;
            return with_subject(req, f, why);
        }
    }
    if (!by_name(kTypes, type, "type", f.type, why)) {
        return std::nullopt;
    }
    // charon reads the flag with type X509 only
    if (f.type == CredentialType::kX509 &&
        !by_name(kFlags, req.get("flag").value_or("ANY"), "flag", f.flag, why)) {
        return std::nullopt;
    }
    return with_subject(req, f, why);
}

std::vector<vici::Message> cert_events(const std::vector<ListedCredential>& all,
                                       const CertFilter& f) {
    std::vector<vici::Message> out;
    for (const ListedCredential& l : all) {
        if ((f.type && *f.type != l.type) || (f.flag && *f.flag != l.flag) ||
            (f.subject && !l.has_subject(*f.subject))) {
            continue;
        }
        vici::Message ev;
        ev.add("type", type_name(l.type));
        if (l.type == CredentialType::kX509) {
            ev.add("flag", flag_name(l.flag));
        }
        if (l.has_privkey) {
            ev.add("has_privkey", "yes");
        }
        ev.add_bytes("data", l.der);
        out.push_back(std::move(ev));
    }
    return out;
}

std::vector<vici::Message> authority_events(
        std::span<const ike::Credentials::Authority> authorities,
        std::optional<std::string_view> name) {
    std::vector<vici::Message> out;
    for (const ike::Credentials::Authority& a : authorities) {
        if (name && a.name != *name) {
            continue;
        }
        vici::Message ev;
        vici::Message& s = ev.add_section(a.name);
        s.add("cacert", a.cacert ? a.cacert->info().subject : std::string("(none)"));
        for (const auto& [key, uris] :
             {std::pair{"crl_uris", &a.crl_uris}, std::pair{"ocsp_uris", &a.ocsp_uris}}) {
            vici::List& l = s.add_list(key);
            for (const std::string& uri : *uris) {
                l.add(uri);
            }
        }
        if (!a.cert_uri_base.empty()) {
            s.add("cert_uri_base", a.cert_uri_base);
        }
        out.push_back(std::move(ev));
    }
    return out;
}

}  // namespace ikeplex::daemon
