// VICI authorities and CRLs, as strongSwan's VICI defines them (its vici README):
// load-authority { <name> { cacert (PEM/DER data) | file, crl_uris [], ocsp_uris [],
// cert_uri_base } }, unload-authority { name }, get-authorities (those loaded over VICI),
// list-authorities (one list-authority event each), and load-cert with type X509_CRL.
#include <algorithm>

#include "crypto/crl_info.h"
#include "daemon/vici_certs.h"
#include "daemon/vici_command.h"
#include "daemon/vici_credentials.h"

namespace ikeplex::daemon {
namespace {

ike::Credentials::Authority copy_of(const ike::Credentials::Authority& a) {
    ike::Credentials::Authority c;
    c.name = a.name;
    if (a.cacert) {
        c.cacert = a.cacert->clone();
    }
    c.crl_uris = a.crl_uris;
    c.ocsp_uris = a.ocsp_uris;
    c.cert_uri_base = a.cert_uri_base;
    return c;
}

/// The CA certificate of `cacert` data or of a `file`; why not in `why` (strongSwan's words).
void set_cacert(Result<crypto::Certificate> cert, ike::Credentials::Authority& a,
                std::string& why) {
    if (!cert) {
        why = std::string("parsing X509 certificate failed: ") + cert.error().detail;
    } else if (!cert->info().ca) {
        why = "certificate without CA flag, rejected";
    } else {
        a.cacert = std::move(*cert);
    }
}

}  // namespace

std::string parse_vici_authority(const vici::Section& sec, ike::Credentials::Authority& a,
                                 std::vector<Bytes>& crls) {
    a.name = sec.name;
    std::string why;
    for (const vici::Entry& e : sec.body) {
        if (const auto* kv = std::get_if<vici::KeyValue>(&e)) {
            if (kv->name == "cacert") {
                set_cacert(crypto::Certificate::from_any(kv->value), a, why);
            } else if (kv->name == "file") {
                auto data = config::real_file_system().read_file(std::string(kv->text()));
                set_cacert(data ? crypto::Certificate::from_any(to_bytes(*data))
                                : Result<crypto::Certificate>(data.error()),
                           a, why);
            } else if (kv->name == "cert_uri_base") {
                a.cert_uri_base = std::string(kv->text());
            } else if (kv->name == "handle" || kv->name == "slot" || kv->name == "module") {
                why = "PKCS#11 tokens are not supported, authority discarded";
            } else {
                why = "unknown option: " + kv->name + ", authority discarded";
            }
        } else if (const auto* l = std::get_if<vici::List>(&e)) {
            const bool crl = l->name == "crl_uris";
            if (!crl && l->name != "ocsp_uris") {
                why = "unknown option: " + l->name + ", authority discarded";
                continue;
            }
            for (std::string_view uri : l->texts()) {
                if (auto problem = config::revocation_uri_problem(uri, crl)) {
                    why = *problem + ", authority discarded";
                    continue;
                }
                (crl ? a.crl_uris : a.ocsp_uris).emplace_back(uri);
                if (crl && uri.starts_with("file://")) {
                    auto got = config::read_crl_uri(uri);
                    if (!got) {
                        why = "'" + std::string(uri) + "': " + got.error().detail;
                        continue;
                    }
                    crls.push_back(crypto::crl_der(*got));
                }
            }
        } else {
            why = "unknown section in authority " + sec.name;
        }
        if (!why.empty()) {
            return why;
        }
    }
    return a.cacert ? std::string() : "CA certificate missing: " + sec.name;
}

void CredentialCommands::load_authority(const vici::Message& req, const vici::Reply& reply) {
    const vici::Section* body = first_section(req);
    if (body == nullptr) {
        reply.respond(result(false, "parsing request failed"));
        return;
    }
    ike::Credentials::Authority a;
    std::vector<Bytes> crls;
    std::string why = parse_vici_authority(*body, a, crls);
    ike::Credentials& live = host_.manager().credentials();
    if (why.empty()) {
        if (auto st = live.add_ca(a.cacert->clone()); !st) {
            why = "cannot trust the authority: " + st.error().to_string();
        }
    }
    if (!why.empty()) {
        refused(why);
        reply.respond(result(false, why));
        return;
    }
    std::erase_if(live.authorities, [&a](const auto& x) { return x.name == a.name; });
    live.authorities.push_back(copy_of(a));
    for (Bytes& der : crls) {
        if (auto crl = crypto::Crl::from_any(der)) {
            crypto::hold_crl(live.crls, std::move(*crl));
        }
        crls_.push_back(std::move(der));
    }
    vici_authorities_.insert_or_assign(a.name, std::move(a));
    reply.respond(result(true));
}

void CredentialCommands::unload_authority(const vici::Message& req, const vici::Reply& reply) {
    const auto name = req.get("name");
    if (!name) {
        reply.respond(result(false, "unload: missing authority name"));
        return;
    }
    if (vici_authorities_.erase(std::string(*name)) == 0) {
        reply.respond(result(false, "unload: authority '" + std::string(*name) +
                                            "' not found (only those loaded over VICI unload)"));
        return;
    }
    // As clear-creds: the VICI credentials without it, then swanctl.conf's again.
    rebuild(ike::Credentials{});
    reload_file_();
    reply.respond(result(true));
}

void CredentialCommands::get_authorities(const vici::Message&, const vici::Reply& reply) {
    // Those loaded over VICI only (as get-conns for connections): swanctl --load-authorities
    // unloads what it lists and its file does not have, which must not be swanctl.conf's.
    vici::Message r;
    vici::List& l = r.add_list("authorities");
    for (const auto& [name, a] : vici_authorities_) {
        l.add(name);
    }
    reply.respond(r);
}

void CredentialCommands::list_authorities(const vici::Message& req, const vici::Reply& reply) {
    for (const vici::Message& ev :
         authority_events(host_.manager().credentials().authorities, req.get("name"))) {
        reply.event("list-authority", ev);
    }
    reply.respond({});
}

void CredentialCommands::load_crl(const vici::KeyValue* data, const vici::Reply& reply) {
    auto crl = data != nullptr
                       ? crypto::Crl::from_any(data->value)
                       : Result<crypto::Crl>(make_error(Errc::kInvalidArgument, "missing data"));
    if (!crl) {
        reply.respond(result(false, std::string("cannot load the CRL: ") + crl.error().detail));
        return;
    }
    // Keep one per issuer: the newest (as the engine's credentials do).
    bool newest = true;
    std::erase_if(crls_, [&](const Bytes& der) {
        auto held = crypto::Crl::from_any(der);
        if (!held || !crypto::same_issuer(*held, *crl)) {
            return false;
        }
        if (crypto::supersedes(*crl, *held)) {
            return true;
        }
        newest = false;
        return false;
    });
    const crypto::CrlInfo info = crypto::crl_info(*crl);
    if (newest) {
        crls_.push_back(crypto::crl_der(*crl));
        (void)crypto::hold_crl(host_.manager().credentials().crls, std::move(*crl));
    }
    log::info(log::Subsystem::kCfg, "CRL of '{}' ({} revoked) {}", info.issuer, info.revoked,
              newest ? "loaded" : "not newer than the one held: kept the held one");
    reply.respond(result(true));
}

void CredentialCommands::add_vici_authorities(ike::Credentials& creds) {
    for (const auto& [key, a] : vici_authorities_) {
        const std::string& name = key;
        std::erase_if(creds.authorities, [&name](const auto& x) { return x.name == name; });
        if (auto st = creds.add_ca(a.cacert->clone()); !st) {
            refused("the CA of authority '" + name +
                    "' loaded over VICI is no longer trusted: " + st.error().to_string());
            continue;
        }
        creds.authorities.push_back(copy_of(a));
    }
    for (const Bytes& der : crls_) {
        if (auto crl = crypto::Crl::from_any(der)) {
            crypto::hold_crl(creds.crls, std::move(*crl));
        }
    }
}

}  // namespace ikeplex::daemon
