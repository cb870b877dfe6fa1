// VICI configuration commands: load-conn / unload-conn / get-conns, shared secrets, keys,
// certificates and authorities, pools (not supported: said so), reload-settings. A load-conn
// body has swanctl.conf's keys (lists for comma-separated values), so it goes through the
// same mapping as the file.
#include "config/swanctl.h"
#include "daemon/daemon.h"
#include "util/log.h"

namespace ikeplex::daemon {

namespace {

vici::Message result(bool success, const std::string& errmsg = {}) {
    vici::Message r;
    r.add("success", success ? "yes" : "no");
    if (!success && !errmsg.empty()) {
        r.add("errmsg", errmsg);
    }
    return r;
}

/// A VICI section as a settings section; certificate data in `certs` / `cacerts` lists is
/// stored in `fs` under made-up names so the file-based mapping can read it.
config::Section to_section(const std::string& name, const vici::Message& m,
                           config::MemoryFileSystem& fs, int& blobs) {
    config::Section s;
    s.name = name;
    s.pos = config::SourcePos{"vici", 0};
    for (const vici::Entry& e : m) {
        if (const auto* kv = std::get_if<vici::KeyValue>(&e)) {
            s.set(config::Setting{kv->name, std::string(kv->text()), s.pos});
        } else if (const auto* l = std::get_if<vici::List>(&e)) {
            std::string joined;
            for (const Bytes& item : l->items) {
                std::string v(vici::as_text(item));
                if (l->name == "certs" || l->name == "cacerts") {
                    const std::string path = "/vici-blob-" + std::to_string(blobs++);
                    fs.add(path, v);
                    v = path;
                }
                joined += (joined.empty() ? "" : ",") + v;
            }
            s.set(config::Setting{l->name, joined, s.pos});
        } else if (const auto* sec = std::get_if<vici::Section>(&e)) {
            s.add_section(to_section(sec->name, sec->body, fs, blobs));
        }
    }
    return s;
}

std::string joined(const std::vector<config::Diagnostic>& d) {
    std::string out;
    for (const auto& x : d) {
        out += (out.empty() ? "" : "; ") + x.message;
    }
    return out;
}

}  // namespace

void Daemon::register_config_commands() {
    vici_.add_command("load-conn", [this](const vici::Message& req, const vici::Reply& reply) {
        const vici::Section* body = nullptr;
        for (const vici::Entry& e : req) {
            body = body == nullptr ? std::get_if<vici::Section>(&e) : body;
        }
        if (body == nullptr) {
            reply.respond(result(false, "no connection section"));
            return;
        }
        config::MemoryFileSystem fs;
        int blobs = 0;
        const config::Section sec = to_section(body->name, body->body, fs, blobs);
        config::Findings f;
        ike::Credentials creds;
        auto conn = config::map_connection(sec, config::CredentialDirs{}, creds, f, fs);
        for (const auto& w : f.warnings) {
            log::info(log::Subsystem::kCfg, "load-conn {}: {}", body->name, w.message);
        }
        if (!conn) {
            log::info(log::Subsystem::kCfg, "load-conn {} refused: {}", body->name,
                      joined(f.errors));
            reply.respond(result(false, joined(f.errors)));
            return;
        }
        const config::Findings bf = backend_findings(*conn, {});
        for (const auto& w : bf.warnings) {
            log::warn(log::Subsystem::kCfg, "load-conn {}: {}", body->name, w.message);
        }
        if (!bf.ok()) {
            log::info(log::Subsystem::kCfg, "load-conn {} refused: {}", body->name,
                      joined(bf.errors));
            reply.respond(result(false, joined(bf.errors)));
            return;
        }
        // Certificates that came with the connection join the VICI credentials.
        ike::Credentials& live = host_->manager().credentials();
        for (crypto::Certificate& own : creds.pending_certs) {
            vici_certs_.push_back(own.der());
            live.add_own_cert(std::move(own));
        }
        for (crypto::Certificate& ca : creds.ca_certs) {
            vici_cas_.push_back(ca.der());
            (void)live.add_ca(std::move(ca));
        }
        if (settings_.window_size > 1) {
            conn->window_size = settings_.window_size;
        }
        log::info(log::Subsystem::kCfg, "added vici connection: {}", conn->name);
        host_->manager().upsert(std::move(*conn));
        host_->execute([&](ike::Step& s) { host_->manager().start_actions(s); });
        reply.respond(result(true));
    });

    vici_.add_command("unload-conn", [this](const vici::Message& req, const vici::Reply& reply) {
        const auto name = req.get("name");
        if (!name || !host_->manager().remove(*name)) {
            reply.respond(result(false, "connection not found"));
            return;
        }
        reply.respond(result(true));
    });

    vici_.add_command("load-shared", [this](const vici::Message& req, const vici::Reply& reply) {
        const auto type = req.get("type");
        const auto data = req.find_value("data");
        if (!type || data == nullptr) {
            reply.respond(result(false, "missing type or data"));
            return;
        }
        if (*type != "ike" && *type != "IKE") {
            reply.respond(
                    result(false, "only IKE shared secrets are supported (no EAP, XAuth or PPK)"));
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
        const std::string id(
                req.get("id").value_or("shared-" + std::to_string(vici_shared_.size() + 1)));
        host_->manager().credentials().psks.push_back(
                ike::Credentials::Psk{psk.ids, psk.secret.clone()});
        if (auto old = vici_shared_.find(id); old != vici_shared_.end()) {
            // Replace: rebuild the list without the old entry.
            vici_shared_.erase(old);
            vici_shared_.emplace(id, std::move(psk));
            auto& list = host_->manager().credentials().psks;
            list.clear();
            for (const auto& [k, v] : vici_shared_) {
                list.push_back(ike::Credentials::Psk{v.ids, v.secret.clone()});
            }
        } else {
            vici_shared_.emplace(id, std::move(psk));
        }
        reply.respond(result(true));
    });

    vici_.add_command("unload-shared", [this](const vici::Message& req, const vici::Reply& reply) {
        const auto id = req.get("id");
        if (!id || vici_shared_.erase(std::string(*id)) == 0) {
            reply.respond(result(false, "shared secret not found"));
            return;
        }
        auto& list = host_->manager().credentials().psks;
        list.clear();
        for (const auto& [k, v] : vici_shared_) {
            list.push_back(ike::Credentials::Psk{v.ids, v.secret.clone()});
        }
        reply.respond(result(true));
    });

    vici_.add_command("get-shared", [this](const vici::Message&, const vici::Reply& reply) {
        vici::Message r;
        vici::List& l = r.add_list("keys");
        for (const auto& [id, psk] : vici_shared_) {
            l.add(id);
        }
        reply.respond(r);
    });

    vici_.add_command("get-keys", [this](const vici::Message&, const vici::Reply& reply) {
        vici::Message r;
        vici::List& l = r.add_list("keys");
        for (std::size_t i = 0; i < vici_keys_.size(); ++i) {
            l.add("key-" + std::to_string(i + 1));
        }
        reply.respond(r);
    });

    vici_.add_command("load-key", [this](const vici::Message& req, const vici::Reply& reply) {
        const auto data = req.find_value("data");
        auto key = data != nullptr ? crypto::PrivateKey::from_any(data->value)
                                   : Result<crypto::PrivateKey>(
                                             make_error(Errc::kInvalidArgument, "missing data"));
        if (!key) {
            reply.respond(result(false, std::string("cannot load the key: ") + key.error().detail));
            return;
        }
        vici_keys_.push_back(data->value);
        host_->manager().credentials().add_key(std::move(*key));
        vici::Message r = result(true);
        r.add("id", "key-" + std::to_string(vici_keys_.size()));
        reply.respond(r);
    });

    vici_.add_command("load-cert", [this](const vici::Message& req, const vici::Reply& reply) {
        const auto data = req.find_value("data");
        const auto type = req.get("type").value_or("X509");
        if (type != "X509" && type != "x509") {
            reply.respond(result(false, "only X.509 certificates are supported"));
            return;
        }
        auto cert = data != nullptr ? crypto::Certificate::from_any(data->value)
                                    : Result<crypto::Certificate>(
                                              make_error(Errc::kInvalidArgument, "missing data"));
        if (!cert) {
            reply.respond(result(
                    false, std::string("cannot load the certificate: ") + cert.error().detail));
            return;
        }
        ike::Credentials& creds = host_->manager().credentials();
        if (req.get("flag") == std::optional<std::string_view>("CA")) {
            if (auto st = creds.add_ca(std::move(*cert)); !st) {
                reply.respond(
                        result(false, "cannot trust the certificate: " + st.error().to_string()));
                return;
            }
            vici_cas_.push_back(data->value);
        } else {
            vici_certs_.push_back(data->value);
            creds.add_own_cert(std::move(*cert));
        }
        reply.respond(result(true));
    });

    vici_.add_command("load-authority", [this](const vici::Message& req, const vici::Reply& reply) {
        const vici::Section* body = nullptr;
        for (const vici::Entry& e : req) {
            body = body == nullptr ? std::get_if<vici::Section>(&e) : body;
        }
        const vici::KeyValue* data = body != nullptr ? body->body.find_value("cacert") : nullptr;
        auto cert = data != nullptr ? crypto::Certificate::from_any(data->value)
                                    : Result<crypto::Certificate>(
                                              make_error(Errc::kInvalidArgument, "no cacert"));
        if (!cert) {
            reply.respond(result(false,
                                 std::string("cannot load the authority: ") + cert.error().detail));
            return;
        }
        if (auto st = host_->manager().credentials().add_ca(std::move(*cert)); !st) {
            reply.respond(result(false, "cannot trust the authority: " + st.error().to_string()));
            return;
        }
        vici_cas_.push_back(data->value);
        reply.respond(result(true));
    });

    vici_.add_command("get-authorities", [](const vici::Message&, const vici::Reply& reply) {
        vici::Message r;
        r.add_list("authorities");
        reply.respond(r);
    });

    vici_.add_command("get-pools",
                      [](const vici::Message&, const vici::Reply& reply) { reply.respond({}); });
    vici_.add_command("load-pool", [](const vici::Message&, const vici::Reply& reply) {
        reply.respond(result(false, "address pools (configuration payloads) are not supported"));
    });
    vici_.add_command("unload-pool", [](const vici::Message&, const vici::Reply& reply) {
        reply.respond(result(false, "no such pool"));
    });
    for (const char* cmd : {"unload-authority", "unload-key"}) {
        vici_.add_command(cmd, [](const vici::Message&, const vici::Reply& reply) {
            reply.respond(result(false, "not found"));
        });
    }

    vici_.add_command("clear-creds", [this](const vici::Message&, const vici::Reply& reply) {
        vici_shared_.clear();
        vici_certs_.clear();
        vici_cas_.clear();
        vici_keys_.clear();
        ike::Credentials empty;
        rebuild_credentials(std::move(empty));
        if (!settings_.swanctl_conf.empty()) {
            (void)load_swanctl_conf();
        }
        reply.respond(result(true));
    });

    vici_.add_command("reload-settings", [this](const vici::Message&, const vici::Reply& reply) {
        auto st = reload();
        reply.respond(result(static_cast<bool>(st), st ? std::string() : st.error().detail));
    });
}

}  // namespace ikeplex::daemon
