// swanctl.conf as a whole: connections, secrets, authorities, and the credential folders.
#include "config/swanctl.h"

#include <filesystem>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "config/swanctl_folders.h"
#include "config/swanctl_pkcs12.h"
#include "config/swanctl_values.h"
#include "ike/credential_crls.h"

namespace ikeplex::config {

namespace {

/// RFC 8784 §6: a PPK should carry at least 256 bits of entropy.
constexpr std::size_t kPpkRecommendedSize = 32;

Bytes bytes_of(const std::string& s) {
    return {s.begin(), s.end()};
}

/// private-<name> | rsa-… | ecdsa-… | pkcs8-… { file = ..., secret = ... }: a key file in the
/// folder of its kind, encrypted when `secret` (its passphrase) is given. A key it loads is
/// taken off `encrypted` (the encrypted keys the folders hold and nothing else opened yet).
void map_key_secret(const Section& sec, const CredentialDirs& dirs, ike::Credentials& creds,
                    Findings& findings, const FileSystem& fs, std::set<std::string>& encrypted) {
    Reporter r(findings, "secrets");
    const Setting* file = sec.find_setting("file");
    std::optional<SecretBytes> passphrase;
    if (const Setting* secret = sec.find_setting("secret"); secret != nullptr && secret->value) {
        passphrase = parse_secret(*secret->value);
        if (!passphrase || passphrase->empty()) {
            r.error(secret->pos, sec.name + ".secret",
                    "not a usable passphrase (empty, or bad 0x/0s encoding)");
            return;
        }
    }
    if (file == nullptr || !file->value) {
        r.error(sec.pos, sec.name, "no file given");
        return;
    }
    std::string folder;
    for (const char* kind : {"private", "rsa", "ecdsa", "pkcs8"}) {
        if (sec.name.starts_with(kind)) {
            folder = kind;
        }
    }
    const std::string path = file->value->starts_with("/") || dirs.base.empty()
                                     ? *file->value
                                     : dirs.base + "/" + folder + "/" + *file->value;
    auto data = fs.read_file(path);
    if (!data) {
        r.error(file->pos, sec.name + ".file",
                std::string("cannot load the key: ") + data.error().detail);
        return;
    }
    const Bytes bytes = bytes_of(*data);
    if (!passphrase && crypto::pem_key_is_encrypted(bytes)) {
        r.error(file->pos, sec.name + ".file",
                "the key is encrypted: give its passphrase as secret = ...");
        return;
    }
    auto key = passphrase ? crypto::PrivateKey::from_encrypted(bytes, *passphrase)
                          : crypto::PrivateKey::from_any(bytes);
    if (!key) {
        r.error(file->pos, sec.name + ".file",
                std::string("cannot load the key: ") + key.error().detail);
        return;
    }
    encrypted.erase(normal_path(path));
    creds.add_key(std::move(*key));
}

void map_secrets(const Section& secrets, const CredentialDirs& dirs, ike::Credentials& creds,
                 Findings& findings, const FileSystem& fs, std::set<std::string>& encrypted,
                 std::set<std::string>& sealed) {
    Reporter r(findings, "secrets");
    for (const Setting& s : secrets.settings) {
        r.error(s.pos, s.name, "unknown key (secrets holds sections)");
    }
    for (const Section& sec : secrets.sections) {
        if (sec.name.starts_with("ike")) {
            if (auto psk = map_ike_secret(sec, findings)) {
                creds.psks.push_back(std::move(*psk));
            }
        } else if (sec.name.starts_with("ppk")) {
            // ppk<name> { id = <PPK_ID>, secret = ... } (RFC 8784): the same shape again.
            if (auto ppk = map_ike_secret(sec, findings)) {
                if (ppk->secret.size() < kPpkRecommendedSize) {
                    // strongSwan accepts any length; RFC 8784 §6 asks for 256 bits of entropy.
                    r.warning(sec.find_setting("secret")->pos, sec.name + ".secret",
                              fmt::format("a PPK of {} bytes is short: RFC 8784 recommends at "
                                          "least 256 bits of entropy (32 random bytes)",
                                          ppk->secret.size()));
                }
                creds.ppks.push_back(std::move(*ppk));
            }
        } else if (sec.name.starts_with("eap")) {
            // eap-<name> { id = ..., secret = ... }: the same shape as ike secrets.
            if (auto eap = map_ike_secret(sec, findings)) {
                creds.eap_secrets.push_back(std::move(*eap));
            }
        } else if (sec.name.starts_with("private") || sec.name.starts_with("rsa") ||
                   sec.name.starts_with("ecdsa") || sec.name.starts_with("pkcs8")) {
            map_key_secret(sec, dirs, creds, findings, fs, encrypted);
        } else if (sec.name.starts_with("pkcs12")) {
            map_pkcs12_secret(sec, dirs, creds, findings, fs, sealed);
        } else {
            r.error(sec.pos, sec.name,
                    "only ike, eap, ppk, private, rsa, ecdsa, pkcs8 and pkcs12 secrets are "
                    "supported (no XAuth or tokens)");
        }
    }
}

}  // namespace

void load_crl_folder(const CredentialDirs& dirs, SwanctlConfig& out, Findings& findings,
                     const FileSystem& fs) {
    load_folder(dirs.base, "x509crl", findings, fs,
                [&](const Bytes& b, const std::string& path) -> Result<FolderFile> {
                    auto crl = IKEPLEX_TRY(crypto::Crl::from_any(b));
                    out.crl_files.push_back(
                            CrlFile{SourcePos{path, 0}, "", IKEPLEX_TRY(crypto::clone_crl(crl))});
                    ike::add_crl(out.credentials, std::move(crl));
                    return FolderFile::kLoaded;
                });
}

namespace {

/// x509ca/, x509/, x509crl/ and the key folders (private/, rsa/, ecdsa/, pkcs8/); the path of an
/// encrypted key goes to `encrypted` until a secrets section opens it.
void load_cert_and_key_folders(const CredentialDirs& dirs, SwanctlConfig& out, Findings& findings,
                               const FileSystem& fs, std::set<std::string>& encrypted) {
    load_folder(dirs.base, "x509ca", findings, fs,
                [&](const Bytes& b, const std::string&) -> Result<FolderFile> {
                    auto cert = IKEPLEX_TRY(crypto::Certificate::from_any(b));
                    IKEPLEX_TRY(out.credentials.add_ca(std::move(cert)));
                    return FolderFile::kLoaded;
                });
    load_folder(dirs.base, "x509", findings, fs,
                [&](const Bytes& b, const std::string&) -> Result<FolderFile> {
                    out.credentials.add_own_cert(IKEPLEX_TRY(crypto::Certificate::from_any(b)));
                    return FolderFile::kLoaded;
                });
    load_crl_folder(dirs, out, findings, fs);
    for (const char* folder : {"private", "rsa", "ecdsa", "pkcs8"}) {
        load_folder(
                dirs.base, folder, findings, fs,
                [&](const Bytes& b, const std::string&) -> Result<FolderFile> {
                    if (crypto::pem_key_is_encrypted(b)) {
                        return FolderFile::kSealed;  // opened by a secrets section, or reported
                    }
                    out.credentials.add_key(IKEPLEX_TRY(crypto::PrivateKey::from_any(b)));
                    return FolderFile::kLoaded;
                },
                &encrypted);
    }
}

}  // namespace

Result<ike::Credentials::Psk> map_ike_secret(const Section& secret, Findings& findings) {
    Reporter r(findings, "secrets." + secret.name);
    ike::Credentials::Psk psk;
    bool have_secret = false;
    const std::size_t before = findings.errors.size();
    for (const Setting& s : secret.settings) {
        if (!s.value) {
            continue;
        }
        if (s.name == "secret") {
            have_secret = true;  // a bad one is reported as bad, not also as missing
            auto v = parse_secret(*s.value);
            if (!v || v->size() == 0) {
                r.error(s.pos, s.name, "not a usable secret (empty, or bad 0x/0s encoding)");
                continue;
            }
            psk.secret = std::move(*v);
        } else if (s.name.starts_with("id")) {
            auto id = ike::Identity::parse(*s.value);
            if (!id) {
                r.error(s.pos, s.name, id.error().detail);
                continue;
            }
            psk.ids.push_back(*id);
        } else {
            r.error(s.pos, s.name, "unknown key");
        }
    }
    if (!have_secret) {
        r.error(secret.pos, "secret", "missing");
    }
    if (findings.errors.size() != before) {
        return make_error(Errc::kConfig, "secret has errors");
    }
    return psk;
}

SwanctlConfig load_swanctl(const Section& root, const CredentialDirs& dirs, Findings& findings,
                           const FileSystem& fs) {
    SwanctlConfig out;
    Reporter r(findings, "");
    // Our own certificates and keys, and trusted CAs, from the folders first.
    std::set<std::string> encrypted;  // encrypted keys in the folders, not opened yet
    load_cert_and_key_folders(dirs, out, findings, fs, encrypted);
    std::set<std::string> sealed;  // PKCS#12 bundles in pkcs12/ that need a passphrase
    load_pkcs12_folder(dirs.base, out.credentials, findings, fs, sealed);
    for (const Setting& s : root.settings) {
        r.error(s.pos, s.name, "unknown key at the top level");
    }
    std::vector<SourcePos> positions;  // of each mapped connection
    for (const Section& sec : root.sections) {
        if (sec.name == "connections") {
            for (const Setting& s : sec.settings) {
                r.error(s.pos, "connections." + s.name, "unknown key (connections holds sections)");
            }
            for (const Section& conn : sec.sections) {
                if (auto c = map_connection(conn, dirs, out.credentials, findings, fs)) {
                    out.connections.push_back(std::move(*c));
                    positions.push_back(conn.pos);
                    out.positions["connections." + conn.name] = conn.pos;
                    if (const Section* kids = conn.find_section("children")) {
                        for (const Section& kid : kids->sections) {
                            out.positions["connections." + conn.name + ".children." + kid.name] =
                                    kid.pos;
                        }
                    }
                } else {
                    out.failed_connections.push_back(conn.name);
                }
            }
        } else if (sec.name == "secrets") {
            map_secrets(sec, dirs, out.credentials, findings, fs, encrypted, sealed);
        } else if (sec.name == "authorities") {
            map_authorities(sec, dirs, out, findings, fs);
        } else if (sec.name == "pools") {
            map_pools(sec, out.pools, findings);
        } else {
            r.error(sec.pos, sec.name, "unknown section");
        }
    }
    report_sealed_bundles(sealed, findings);
    for (const std::string& path : encrypted) {
        findings.errors.push_back(Diagnostic{
                SourcePos{path, 0},
                "an encrypted key no secrets section opens: give its passphrase in secrets { "
                "private-<name> { file = ..., secret = ... } }"});
    }
    // With every credential known: a certificate connection must have its certificate and key.
    for (std::size_t i = 0; i < out.connections.size(); ++i) {
        const ike::PeerConfig& c = out.connections[i];
        if (c.local.kind == ike::AuthKind::kPubkey &&
            out.credentials.find_own(c.local.id) == nullptr) {
            r.warning(positions[i], "connections." + c.name + ".local",
                      "no certificate with its private key matches the identity '" +
                              c.local.id.to_string() +
                              "'; authentication fails until one is loaded");
        }
    }
    return out;
}

namespace {

/// The identity a side of a connection uses at run time, if the configuration fixes it: the
/// configured one, else (unset) the address when exactly one is configured; nullopt for %any
/// or an address only known at run time.
std::optional<ike::Identity> fixed_identity(const ike::Identity& id,
                                            const std::vector<IpAddress>& addrs) {
    if (id.any) {
        return std::nullopt;
    }
    if (!id.data.empty()) {
        return id;
    }
    if (addrs.size() == 1) {
        return ike::Identity::from_address(addrs.front());
    }
    return std::nullopt;
}

/// Whether a shared key can be found for the connection's identities at run time
/// (ike::Credentials::find_psk: a secret listing either identity, or one listing none). A
/// side whose identity is only known at run time might match any secret.
bool psk_can_match(const ike::Credentials& creds, const std::optional<ike::Identity>& local,
                   const std::optional<ike::Identity>& remote) {
    if (!local || !remote) {
        return !creds.psks.empty();
    }
    return creds.find_psk(*local, *remote) != nullptr;
}

}  // namespace

void check_secrets(const SwanctlConfig& config, Findings& findings) {
    for (const ike::PeerConfig& c : config.connections) {
        if (c.ppk_id && config.credentials.find_ppk(c.ppk_id->data) == nullptr) {
            const auto pos = config.positions.find("connections." + c.name);
            findings.warnings.push_back(Diagnostic{
                    pos != config.positions.end() ? pos->second : SourcePos{},
                    fmt::format("connection '{}' uses ppk_id '{}' but no ppk secret has that id",
                                c.name, c.ppk_id->to_string())});
        }
    }
    for (const ike::PeerConfig& c : config.connections) {
        if (c.local.kind != ike::AuthKind::kPsk && c.remote.kind != ike::AuthKind::kPsk) {
            continue;
        }
        const auto local = fixed_identity(c.local.id, c.local_addrs);
        const auto remote = fixed_identity(c.remote.id, c.remote_addrs);
        if (psk_can_match(config.credentials, local, remote)) {
            continue;
        }
        const auto pos = config.positions.find("connections." + c.name);
        findings.warnings.push_back(Diagnostic{
                pos != config.positions.end() ? pos->second : SourcePos{},
                fmt::format("connection '{}' uses auth = psk but no secret matches ids '{}' - '{}'",
                            c.name, local ? local->to_string() : "%any",
                            remote ? remote->to_string() : "%any")});
    }
}

Result<SwanctlConfig> load_swanctl_file(const std::string& path, Findings& findings,
                                        const FileSystem& fs) {
    auto resolved = load_settings_file(path, findings.errors, fs);
    if (!resolved) {
        return resolved.error();
    }
    const std::string dir = std::filesystem::path(path).parent_path().string();
    return load_swanctl(*resolved, CredentialDirs{dir.empty() ? "." : dir}, findings, fs);
}

}  // namespace ikeplex::config
