#include "daemon/vici_credentials.h"

#include "daemon/vici_certs.h"
#include "daemon/vici_command.h"

namespace ikeplex::daemon {

void CredentialCommands::register_with(vici::Server& server) {
    add_command(server, "load-shared", this, &CredentialCommands::load_shared);
    add_command(server, "unload-shared", this, &CredentialCommands::unload_shared);
    add_command(server, "get-shared", this, &CredentialCommands::get_shared);
    add_command(server, "get-keys", this, &CredentialCommands::get_keys);
    add_command(server, "load-key", this, &CredentialCommands::load_key);
    add_command(server, "load-cert", this, &CredentialCommands::load_cert);
    add_command(server, "load-authority", this, &CredentialCommands::load_authority);
    add_command(server, "clear-creds", this, &CredentialCommands::clear_creds);
    add_command(server, "unload-authority", this, &CredentialCommands::unload_authority);
    add_command(server, "get-authorities", this, &CredentialCommands::get_authorities);
    add_command(server, "list-certs", this, &CredentialCommands::list_certs);
    add_command(server, "list-authorities", this, &CredentialCommands::list_authorities);
    server.add_command("unload-key", [](const vici::Message&, const vici::Reply& reply) {
        reply.respond(result(false, "not found"));
    });
}

void CredentialCommands::list_certs(const vici::Message& req, const vici::Reply& reply) {
    std::string why;
    const auto filter = parse_cert_filter(req, why);
    if (!filter) {
        // charon logs it and lists nothing; the answer says why as well.
        log::info(log::Subsystem::kCfg, "list-certs: {}", why);
        reply.respond(result(false, why));
        return;
    }
    for (const vici::Message& ev :
         cert_events(listed_credentials(host_.manager().credentials()), *filter)) {
        reply.event("list-cert", ev);
    }
    reply.respond({});
}

void CredentialCommands::rebuild(ike::Credentials from_file) {
    for (const auto& [id, psk] : shared_) {
        shared_list(from_file, id).push_back(ike::Credentials::Psk{psk.ids, psk.secret.clone()});
    }
    for (const Bytes& b : cas_) {
        auto cert = crypto::Certificate::from_any(b);
        auto st = cert ? from_file.add_ca(std::move(*cert)) : Status(cert.error());
        if (!st) {
            refused("a CA certificate loaded over VICI is no longer trusted: " +
                    st.error().to_string());
        }
    }
    for (const Bytes& b : certs_) {
        if (auto cert = crypto::Certificate::from_any(b)) {
            from_file.add_own_cert(std::move(*cert));
        }
    }
    for (const Bytes& b : keys_) {
        if (auto key = crypto::PrivateKey::from_any(b)) {
            from_file.add_key(std::move(*key));
        }
    }
    add_vici_authorities(from_file);
    host_.manager().set_credentials(std::move(from_file));
}

std::optional<std::string> CredentialCommands::adopt(ike::Credentials& from_conn) {
    for (crypto::Certificate& ca : from_conn.ca_certs) {
        const Bytes der = ca.der();
        const std::string noun = "the CA certificate '" + ca.subject() + "'";
        if (auto why = trust(std::move(ca), der, noun)) {
            return why;
        }
    }
    ike::Credentials& live = host_.manager().credentials();
    for (crypto::Certificate& own : from_conn.pending_certs) {
        certs_.push_back(own.der());
        live.add_own_cert(std::move(own));
    }
    return std::nullopt;
}

std::optional<std::string> CredentialCommands::trust(Result<crypto::Certificate> cert,
                                                     const Bytes& der, const std::string& noun) {
    std::string why;
    if (!cert) {
        why = "cannot load " + noun + ": " + cert.error().detail;
    } else if (auto st = host_.manager().credentials().add_ca(std::move(*cert)); !st) {
        why = "cannot trust " + noun + ": " + st.error().to_string();
    } else {
        cas_.push_back(der);
        return std::nullopt;
    }
    refused(why);
    return why;
}

void CredentialCommands::refused(const std::string& why) {
    ++counters_.ca_refused;
    if (refused_log_.allow(static_cast<std::uint64_t>(host_.now().ms))) {
        log::error(log::Subsystem::kCfg, "CA certificate refused: {} ({} similar suppressed)", why,
                   refused_log_.suppressed());
    }
}

void CredentialCommands::load_shared(const vici::Message& req, const vici::Reply& reply) {
    const auto type = req.get("type");
    const auto data = req.find_value("data");
    if (!type || data == nullptr) {
        reply.respond(result(false, "missing type or data"));
        return;
    }
    const bool eap = *type == "eap" || *type == "EAP";
    const bool ppk = *type == "ppk" || *type == "PPK";  // RFC 8784; owners are PPK_IDs
    if (*type != "ike" && *type != "IKE" && !eap && !ppk) {
        reply.respond(
                result(false, "only IKE, EAP and PPK shared secrets are supported (no XAuth)"));
        return;
    }
    ike::Credentials::Psk psk;
    psk.secret = SecretBytes::copy_of(data->value);
    if (const vici::List* owners = req.find_list("owners")) {
        for (const auto& o : owners->texts()) {
            auto id = ike::Identity::parse(o);
            if (!id) {
                reply.respond(result(false, "bad owner identity '" + std::string(o) + "'"));
                return;
            }
            psk.ids.push_back(*id);
        }
    }
    const std::string id(req.get("id").value_or("shared-" + std::to_string(shared_.size() + 1)));
    shared_eap_.erase(id);
    shared_ppk_.erase(id);
    if (eap) {
        shared_eap_.insert(id);
    } else if (ppk) {
        shared_ppk_.insert(id);
    }
    shared_list(host_.manager().credentials(), id)
            .push_back(ike::Credentials::Psk{psk.ids, psk.secret.clone()});
    if (auto old = shared_.find(id); old != shared_.end()) {
        // Replace: rebuild the list without the old entry.
        shared_.erase(old);
        shared_.emplace(id, std::move(psk));
        relist_shared();
    } else {
        shared_.emplace(id, std::move(psk));
    }
    reply.respond(result(true));
}

void CredentialCommands::unload_shared(const vici::Message& req, const vici::Reply& reply) {
    const auto id = req.get("id");
    if (id) {
        shared_eap_.erase(std::string(*id));
        shared_ppk_.erase(std::string(*id));
    }
    if (!id || shared_.erase(std::string(*id)) == 0) {
        reply.respond(result(false, "shared secret not found"));
        return;
    }
    relist_shared();
    reply.respond(result(true));
}

void CredentialCommands::relist_shared() {
    auto& creds = host_.manager().credentials();
    creds.psks.clear();
    creds.eap_secrets.clear();
    creds.ppks.clear();
    for (const auto& [k, v] : shared_) {
        shared_list(creds, k).push_back(ike::Credentials::Psk{v.ids, v.secret.clone()});
    }
}

std::vector<ike::Credentials::Psk>& CredentialCommands::shared_list(ike::Credentials& creds,
                                                                    const std::string& id) const {
    if (shared_eap_.contains(id)) {
        return creds.eap_secrets;
    }
    return shared_ppk_.contains(id) ? creds.ppks : creds.psks;
}

void CredentialCommands::get_shared(const vici::Message&, const vici::Reply& reply) {
    vici::Message r;
    vici::List& l = r.add_list("keys");
    for (const auto& [id, psk] : shared_) {
        l.add(id);
    }
    reply.respond(r);
}

void CredentialCommands::get_keys(const vici::Message&, const vici::Reply& reply) {
    vici::Message r;
    vici::List& l = r.add_list("keys");
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        l.add("key-" + std::to_string(i + 1));
    }
    reply.respond(r);
}

void CredentialCommands::load_key(const vici::Message& req, const vici::Reply& reply) {
    const auto data = req.find_value("data");
    auto key = data != nullptr ? crypto::PrivateKey::from_any(data->value)
                               : Result<crypto::PrivateKey>(
                                         make_error(Errc::kInvalidArgument, "missing data"));
    if (!key) {
        reply.respond(result(false, std::string("cannot load the key: ") + key.error().detail));
        return;
    }
    keys_.push_back(data->value);
    host_.manager().credentials().add_key(std::move(*key));
    vici::Message r = result(true);
    r.add("id", "key-" + std::to_string(keys_.size()));
    reply.respond(r);
}

void CredentialCommands::load_cert(const vici::Message& req, const vici::Reply& reply) {
    const auto data = req.find_value("data");
    const auto type = req.get("type").value_or("X509");
    if (type == "X509_CRL" || type == "x509crl") {
        load_crl(data, reply);
        return;
    }
    if (type != "X509" && type != "x509") {
        reply.respond(result(false, "only X.509 certificates and CRLs are supported"));
        return;
    }
    auto cert = data != nullptr ? crypto::Certificate::from_any(data->value)
                                : Result<crypto::Certificate>(
                                          make_error(Errc::kInvalidArgument, "missing data"));
    if (req.get("flag") == std::optional<std::string_view>("CA")) {
        const auto why =
                trust(std::move(cert), data != nullptr ? data->value : Bytes{}, "the certificate");
        reply.respond(result(!why, why.value_or("")));
        return;
    }
    if (!cert) {
        reply.respond(
                result(false, std::string("cannot load the certificate: ") + cert.error().detail));
        return;
    }
    certs_.push_back(data->value);
    host_.manager().credentials().add_own_cert(std::move(*cert));
    reply.respond(result(true));
}

void CredentialCommands::clear_creds(const vici::Message&, const vici::Reply& reply) {
    shared_.clear();
    shared_eap_.clear();
    shared_ppk_.clear();
    certs_.clear();
    cas_.clear();
    keys_.clear();
    vici_authorities_.clear();
    crls_.clear();
    rebuild(ike::Credentials{});
    reload_file_();
    reply.respond(result(true));
}

}  // namespace ikeplex::daemon
