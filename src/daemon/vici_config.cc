#include "daemon/vici_config.h"

#include <algorithm>
#include <ctime>

#include "config/legacy_policy.h"
#include "config/swanctl.h"
#include "daemon/vici_command.h"
#include "util/log.h"

namespace ikeplex::daemon {

using log::Subsystem;

namespace {

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

void log_findings(const config::Findings& f) {
    for (const auto& w : f.warnings) {
        log::info(Subsystem::kCfg, "{}", w.to_string());
    }
    for (const auto& e : f.errors) {
        log::error(Subsystem::kCfg, "{}", e.to_string());
    }
}

void ConfigCommands::register_with(vici::Server& server) {
    add_command(server, "load-conn", this, &ConfigCommands::load_conn);
    add_command(server, "unload-conn", this, &ConfigCommands::unload_conn);
    add_command(server, "reload-settings", this, &ConfigCommands::reload_settings);
    add_command(server, "load-pool", this, &ConfigCommands::load_pool);
    add_command(server, "unload-pool", this, &ConfigCommands::unload_pool);
    add_command(server, "get-pools", this, &ConfigCommands::get_pools);
}

void ConfigCommands::load_conn(const vici::Message& req, const vici::Reply& reply) {
    const vici::Section* body = first_section(req);
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
        log::info(Subsystem::kCfg, "load-conn {}: {}", body->name, w.message);
    }
    if (!conn) {
        log::info(Subsystem::kCfg, "load-conn {} refused: {}", body->name, joined(f.errors));
        reply.respond(result(false, joined(f.errors)));
        return;
    }
    const config::Findings bf = backend_findings(*conn, {});
    for (const auto& w : bf.warnings) {
        log::warn(Subsystem::kCfg, "load-conn {}: {}", body->name, w.message);
    }
    if (!bf.ok()) {
        log::info(Subsystem::kCfg, "load-conn {} refused: {}", body->name, joined(bf.errors));
        reply.respond(result(false, joined(bf.errors)));
        return;
    }
    // Certificates that came with the connection join the VICI credentials.
    if (auto why = credentials_.adopt(creds)) {
        log::info(Subsystem::kCfg, "load-conn {} refused: {}", body->name, *why);
        reply.respond(result(false, *why));
        return;
    }
    if (settings_.window_size > 1) {
        conn->window_size = settings_.window_size;
    }
    log::info(Subsystem::kCfg, "added vici connection: {}", conn->name);
    host_.manager().upsert(std::move(*conn));
    host_.execute([&](ike::Step& s) { host_.manager().start_actions(s); });
    reply.respond(result(true));
}

void ConfigCommands::unload_conn(const vici::Message& req, const vici::Reply& reply) {
    const auto name = req.get("name");
    if (!name || !host_.manager().remove(*name)) {
        reply.respond(result(false, "connection not found"));
        return;
    }
    reply.respond(result(true));
}

void ConfigCommands::reload_settings(const vici::Message&, const vici::Reply& reply) {
    auto st = reload_();
    reply.respond(result(static_cast<bool>(st), st ? std::string() : st.error().detail));
}

Status ConfigCommands::load_swanctl_conf() {
    config::Findings f;
    auto loaded = config::load_swanctl_file(settings_.swanctl_conf, f);
    if (loaded) {
        config::check_crls(*loaded, static_cast<std::int64_t>(std::time(nullptr)), f);
    }
    log_findings(f);
    if (!loaded) {
        return loaded.error();
    }
    drop_missing(*loaded);
    ike::IkeSaManager& m = host_.manager();
    std::size_t refused = 0;
    for (ike::PeerConfig c : loaded->connections) {
        const config::Findings bf = backend_findings(c, loaded->positions);
        for (const auto& w : bf.warnings) {
            log::warn(Subsystem::kCfg, "{}", w.to_string());
        }
        if (!bf.ok()) {
            for (const auto& e : bf.errors) {
                log::error(Subsystem::kCfg, "{} (connection '{}' not loaded)", e.to_string(),
                           c.name);
            }
            ++refused;
            continue;
        }
        file_conns_.push_back(c.name);
        if (settings_.window_size > 1) {
            c.window_size = settings_.window_size;
        }
        m.upsert(std::move(c));
    }
    credentials_.rebuild(std::move(loaded->credentials));
    sync_file_pools(std::move(loaded->pools));
    host_.execute([&](ike::Step& s) { m.start_actions(s); });
    const std::size_t failed = refused + loaded->failed_connections.size();
    if (failed == 0) {
        log::info(Subsystem::kCfg, "loaded {} connection(s) from {}", loaded->connections.size(),
                  settings_.swanctl_conf);
    } else {
        log::error(Subsystem::kCfg, "loaded {} connection(s) from {}; {} not loaded (see above)",
                   loaded->connections.size() - refused, settings_.swanctl_conf, failed);
    }
    return f.errors.empty() && refused == 0 ? ok()
                                            : make_error(Errc::kConfig, "swanctl.conf has errors");
}

void ConfigCommands::drop_missing(const config::SwanctlConfig& loaded) {
    // Connections the file no longer has go; the others are replaced or added. One the file
    // still has but that now has errors keeps its previous version.
    std::vector<std::string> previous = std::move(file_conns_);
    file_conns_.clear();
    for (const std::string& old : previous) {
        const auto& failed = loaded.failed_connections;
        if (std::find(failed.begin(), failed.end(), old) != failed.end()) {
            file_conns_.push_back(old);
            log::error(Subsystem::kCfg, "connection '{}' has errors: its previous version stays",
                       old);
            continue;
        }
        const bool kept = std::any_of(loaded.connections.begin(), loaded.connections.end(),
                                      [&](const ike::PeerConfig& c) { return c.name == old; });
        if (!kept) {
            host_.manager().remove(old);
        }
    }
}

config::Findings ConfigCommands::backend_findings(
        const ike::PeerConfig& c, const std::map<std::string, config::SourcePos>& at) const {
    config::Findings f;
    config::check_backend(c, settings_.backend, per_cpu_sas_, at, f);
    config::check_radius(c, settings_.radius.enabled(), at, f);
    config::check_legacy(c, settings_.refuse_legacy, at, f);
    return f;
}

}  // namespace ikeplex::daemon
