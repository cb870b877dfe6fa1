// `ikeplex load-all`: what `swanctl --load-all` does, for ikeplexd (and charon): secrets,
// certificates and keys from the folders beside swanctl.conf, the pools, then every connection;
// then connections the daemon has that the file no longer has are unloaded.
#include <filesystem>
#include <set>

#include "cli/commands.h"
#include "config/settings.h"
#include "config/swanctl.h"
#include "config/swanctl_values.h"

namespace ikeplex::cli {

namespace {

Bytes read_bytes(const std::string& path, bool& ok) {
    auto text = config::real_file_system().read_file(path);
    ok = static_cast<bool>(text);
    return ok ? Bytes(text->begin(), text->end()) : Bytes{};
}

bool succeeded(const Result<vici::Message>& r) {
    return r && r->get("success") == std::optional<std::string_view>("yes");
}

std::string why(const Result<vici::Message>& r) {
    if (!r) {
        return r.error().to_string();
    }
    return std::string(r->get("errmsg").value_or("unknown reason"));
}

/// A connection section as load-conn's body; certificate files become their contents.
bool to_message(const config::Section& s, const std::string& base, vici::Message& out,
                std::ostream& err) {
    for (const config::Setting& kv : s.settings) {
        if (!kv.value) {
            continue;
        }
        if (kv.name == "certs" || kv.name == "cacerts") {
            vici::List& l = out.add_list(kv.name);
            for (const std::string& item : config::split_list(*kv.value)) {
                const std::string folder = kv.name == "certs" ? "x509" : "x509ca";
                std::string path = item;
                if (!item.starts_with("/")) {
                    path = base;
                    path.append("/").append(folder).append("/").append(item);
                }
                bool ok = false;
                const Bytes data = read_bytes(path, ok);
                if (!ok) {
                    err << kv.pos.file << ":" << kv.pos.line << ": cannot read " << path << '\n';
                    return false;
                }
                l.items.push_back(data);
            }
            continue;
        }
        out.add(kv.name, *kv.value);
    }
    for (const config::Section& sub : s.sections) {
        if (!to_message(sub, base, out.add_section(sub.name), err)) {
            return false;
        }
    }
    return true;
}

/// Certificates, CRLs and keys from the folders beside swanctl.conf; returns the failures.
int load_credentials(vici::Client& c, const std::string& base, std::ostream& out,
                     std::ostream& err) {
    int failures = 0;
    for (const auto& [folder, type, flag] :
         {std::tuple{"x509ca", "X509", "CA"}, std::tuple{"x509", "X509", "NONE"},
          std::tuple{"x509crl", "X509_CRL", ""}, std::tuple{"private", "ANY", ""},
          std::tuple{"rsa", "RSA", ""}, std::tuple{"ecdsa", "ECDSA", ""},
          std::tuple{"pkcs8", "ANY", ""}}) {
        auto files = config::real_file_system().glob(base + "/" + folder + "/*");
        if (!files) {
            continue;
        }
        for (const std::string& path : *files) {
            bool ok = false;
            const Bytes data = read_bytes(path, ok);
            vici::Message req;
            req.add("type", type);
            if (*flag != '\0') {
                req.add("flag", flag);
            }
            req.add_bytes("data", data);
            const bool is_cert = std::string_view(type).starts_with("X509");
            auto r = c.request(is_cert ? "load-cert" : "load-key", req);
            if (succeeded(r)) {
                out << "loaded " << (is_cert ? "certificate" : "key") << " from '" << path << "'\n";
            } else {
                err << "loading '" << path << "' failed: " << why(r) << '\n';
                ++failures;
            }
        }
    }
    return failures;
}

/// The ike and ppk (RFC 8784) secrets of the secrets section; returns the failures.
int load_secrets(vici::Client& c, const config::Section& root, std::ostream& out,
                 std::ostream& err) {
    int failures = 0;
    const config::Section* secrets = root.find_section("secrets");
    if (secrets == nullptr) {
        return failures;
    }
    for (const config::Section& s : secrets->sections) {
        const bool ppk = s.name.starts_with("ppk");
        if (!s.name.starts_with("ike") && !ppk) {
            continue;  // key files above; other kinds the daemon refuses at load-conn time
        }
        const char* kind = ppk ? "ppk" : "ike";
        config::Findings f;
        auto psk = config::map_ike_secret(s, f);
        if (!psk) {
            for (const auto& d : f.errors) {
                err << d.to_string() << '\n';
            }
            ++failures;
            continue;
        }
        vici::Message req;
        req.add("id", s.name);
        req.add("type", kind);
        req.add_bytes("data", psk->secret.view());
        vici::List& owners = req.add_list("owners");
        for (const ike::Identity& id : psk->ids) {
            owners.add(id.to_string());
        }
        auto r = c.request("load-shared", req);
        if (succeeded(r)) {
            out << "loaded " << kind << " secret '" << s.name << "'\n";
        } else {
            err << "loading " << kind << " secret '" << s.name << "' failed: " << why(r) << '\n';
            ++failures;
        }
    }
    return failures;
}

/// The pools section: one load-pool per pool (attribute lists as lists); returns the failures.
int load_pools(vici::Client& c, const config::Section& root, std::ostream& out, std::ostream& err) {
    int failures = 0;
    const config::Section* pools = root.find_section("pools");
    if (pools == nullptr) {
        return failures;
    }
    for (const config::Section& p : pools->sections) {
        vici::Message req;
        vici::Message& body = req.add_section(p.name);
        for (const config::Setting& kv : p.settings) {
            if (!kv.value) {
                continue;
            }
            if (kv.name == "addrs") {
                body.add(kv.name, *kv.value);
                continue;
            }
            vici::List& l = body.add_list(kv.name);
            for (const std::string& item : config::split_list(*kv.value)) {
                l.add(item);
            }
        }
        auto r = c.request("load-pool", req);
        if (succeeded(r)) {
            out << "loaded pool '" << p.name << "'\n";
        } else {
            err << "loading pool '" << p.name << "' failed: " << why(r) << '\n';
            ++failures;
        }
    }
    return failures;
}

/// What load_connections did: the names in the file, how many loaded and failed.
struct Loaded {
    std::set<std::string> names;
    std::size_t loaded = 0;
    int failures = 0;
};

/// Every connection of the connections section.
Loaded load_connections(vici::Client& c, const config::Section& root, const std::string& base,
                        std::ostream& out, std::ostream& err) {
    Loaded result;
    const config::Section* conns = root.find_section("connections");
    if (conns == nullptr) {
        return result;
    }
    for (const config::Section& conn : conns->sections) {
        result.names.insert(conn.name);
        vici::Message req;
        if (!to_message(conn, base, req.add_section(conn.name), err)) {
            ++result.failures;
            continue;
        }
        auto r = c.request("load-conn", req);
        if (succeeded(r)) {
            out << "loaded connection '" << conn.name << "'\n";
            ++result.loaded;
        } else {
            err << "loading connection '" << conn.name << "' failed: " << why(r) << '\n';
            ++result.failures;
        }
    }
    return result;
}

/// Unloads the daemon's connections that `names` lacks; returns how many were unloaded.
std::size_t unload_others(vici::Client& c, const std::set<std::string>& names) {
    std::size_t unloaded = 0;
    auto existing = c.request("get-conns", {});
    if (!existing) {
        return unloaded;
    }
    const vici::List* l = existing->find_list("conns");
    if (l == nullptr) {
        return unloaded;
    }
    for (const auto& name : l->texts()) {
        if (names.contains(std::string(name))) {
            continue;
        }
        vici::Message req;
        req.add("name", name);
        if (succeeded(c.request("unload-conn", req))) {
            ++unloaded;
        }
    }
    return unloaded;
}

}  // namespace

int load_all(vici::Client& c, const std::string& file, std::ostream& out, std::ostream& err) {
    std::vector<config::Diagnostic> diags;
    auto root = config::load_settings_file(file, diags);
    if (!root) {
        for (const auto& d : diags) {
            err << d.to_string() << '\n';
        }
        return 1;
    }
    const std::string base = std::filesystem::path(file).parent_path().string().empty()
                                     ? "."
                                     : std::filesystem::path(file).parent_path().string();
    int failures = load_credentials(c, base, out, err);
    failures += load_secrets(c, *root, out, err);
    failures += load_pools(c, *root, out, err);
    // Connections, then unload what the file does not have.
    const Loaded conns = load_connections(c, *root, base, out, err);
    failures += conns.failures;
    const std::size_t unloaded = unload_others(c, conns.names);
    out << "successfully loaded " << conns.loaded << " connections, " << failures << " failed, "
        << unloaded << " unloaded\n";
    return failures == 0 ? 0 : 1;
}

}  // namespace ikeplex::cli
